//! Starts the real `argus serve` binary on a free loopback port with its own
//! data directory, and stops it (SIGTERM or SIGKILL) by PID.

use argus_model::{Labels, Sample, TimeSeries};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn free_port() -> u16 {
    let [p] = free_ports();
    p
}

/// `N` distinct free ports: all are bound at once before any is released,
/// so two of them cannot be the same port (picking them one at a time, a
/// released port can come back at the next pick).
pub(crate) fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// A number in `[0, bound)` from the clock (kill -9 tests vary when they kill).
pub(crate) fn pseudo_random(bound: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20) % bound
}

/// How many kill -9 cycles a crash test runs: `ARGUS_FAULT_CYCLES`, else
/// 10 (CI runs the short form; 20 or more is the long form).
pub(crate) fn fault_cycles() -> usize {
    std::env::var("ARGUS_FAULT_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// One kill -9 cycle under load: `writers` threads run `writer` (each
/// until its stop flag is set or a request fails), the server is killed
/// after `run`, the writers are stopped and joined, and the server is
/// started again on the same data directory and port.
pub(crate) fn kill9_under_load<W>(a: &mut Argus, writers: usize, run: Duration, writer: W)
where
    W: Fn(Arc<AtomicBool>) + Send + Sync + 'static,
{
    let writer = Arc::new(writer);
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (w, st) = (writer.clone(), stop.clone());
            std::thread::spawn(move || w(st))
        })
        .collect();
    std::thread::sleep(run);
    a.kill9();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    a.spawn();
}

pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Skips (returns false) when a peer program is missing, unless the test
/// script asked for peers to be required.
pub(crate) fn have(program: &str) -> bool {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ARGUS_REQUIRE_PEERS").is_err(),
            "{program} is required (ARGUS_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!("skipping: {program} not installed (run scripts/test to install it)");
    }
    ok
}

/// Runs `python3 <script> <args>` and parses what it prints as JSON; a
/// failing script fails the test with its output.
pub(crate) fn python_json(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python3 {script} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Like [`have`], for Python modules (`python3 -c "import …"`).
pub(crate) fn have_python(modules: &[&str]) -> bool {
    let ok = Command::new("python3")
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ARGUS_REQUIRE_PEERS").is_err(),
            "Python modules {modules:?} are required (ARGUS_REQUIRE_PEERS is set) but not installed"
        );
        eprintln!(
            "skipping: Python modules {modules:?} not installed (run scripts/test to install them)"
        );
    }
    ok
}

pub(crate) struct Argus {
    pub child: Option<Child>,
    pub port: u16,
    /// The OTLP/gRPC port (`--otlp-grpc-listen`), a free one per server.
    pub grpc_port: u16,
    pub dir: PathBuf,
    pub config: String,
    log: PathBuf,
}

impl Argus {
    /// Starts Argus with `config` as its configuration file.
    pub(crate) fn start(dir: &Path, config: &str) -> Argus {
        Self::start_with(dir, |_| config.to_string())
    }

    /// Starts Argus with a config that may mention its own port.
    pub(crate) fn start_with(dir: &Path, config: impl Fn(u16) -> String) -> Argus {
        let [port, grpc_port] = free_ports();
        let mut a = Argus {
            child: None,
            port,
            grpc_port,
            dir: dir.to_path_buf(),
            config: config(port),
            log: dir.join("argus.log"),
        };
        a.spawn();
        a
    }

    pub(crate) fn spawn(&mut self) {
        self.spawn_within(Duration::from_secs(60));
    }

    /// Starts the process and waits up to `ready` for `/-/ready` (a long
    /// WAL replay needs more than the default minute).
    pub(crate) fn spawn_within(&mut self, ready: Duration) {
        let cfg = self.dir.join("argus.yaml");
        std::fs::write(&cfg, &self.config).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        // ARGUS_TEST_BIN runs another build (a release one for the slow,
        // opt-in measurements).
        let bin = std::env::var_os("ARGUS_TEST_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_argus").into());
        let child = Command::new(bin)
            .args(["serve", "--config"])
            .arg(&cfg)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .arg("--otlp-grpc-listen")
            .arg(format!("127.0.0.1:{}", self.grpc_port))
            .env("ARGUS_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready_within(ready);
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn wait_ready_within(&mut self, ready: Duration) {
        let c = client();
        let deadline = Instant::now() + ready;
        while Instant::now() < deadline {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("argus exited early with {st}; log:\n{}", self.log_text());
            }
            if c.get(self.url("/-/ready"))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "argus not ready after {}s; log:\n{}",
            ready.as_secs(),
            self.log_text()
        );
    }

    pub(crate) fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns the exit status code.
    pub(crate) fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(st) = c.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        panic!("argus did not stop within 30s of SIGTERM");
    }

    pub(crate) fn write_v1(
        &self,
        tenant: Option<&str>,
        series: &[TimeSeries],
    ) -> reqwest::blocking::Response {
        let mut body = Vec::new();
        argus_ingest::remote_write::encode_v1(series, &mut body);
        self.post_write(tenant, body, "application/x-protobuf")
    }

    pub(crate) fn post_write(
        &self,
        tenant: Option<&str>,
        body: Vec<u8>,
        ct: &str,
    ) -> reqwest::blocking::Response {
        let mut r = client()
            .post(self.url("/api/v1/write"))
            .header("Content-Type", ct)
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body);
        if let Some(t) = tenant {
            r = r.header("X-Scope-OrgID", t);
        }
        r.send().unwrap()
    }

    pub(crate) fn get_json(&self, tenant: Option<&str>, path: &str) -> serde_json::Value {
        let mut r = client().get(self.url(path));
        if let Some(t) = tenant {
            r = r.header("X-Scope-OrgID", t);
        }
        let resp = r.send().unwrap();
        let status = resp.status();
        let text = resp.text().unwrap();
        assert!(status.is_success(), "GET {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The lines of `/api/v1/export`, parsed, in the order given.
    pub(crate) fn export_lines(
        &self,
        tenant: Option<&str>,
        selector: &str,
    ) -> Vec<serde_json::Value> {
        let mut r = client()
            .get(self.url("/api/v1/export"))
            .query(&[("match[]", selector)]);
        if let Some(t) = tenant {
            r = r.header("X-Scope-OrgID", t);
        }
        let resp = r.send().unwrap();
        assert!(resp.status().is_success(), "export: {}", resp.status());
        resp.text()
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Raw samples per series from `/api/v1/export`, keyed by label string.
    pub(crate) fn export(
        &self,
        tenant: Option<&str>,
        selector: &str,
    ) -> std::collections::BTreeMap<String, Vec<(i64, f64)>> {
        let mut r = client()
            .get(self.url("/api/v1/export"))
            .query(&[("match[]", selector)]);
        if let Some(t) = tenant {
            r = r.header("X-Scope-OrgID", t);
        }
        let resp = r.send().unwrap();
        assert!(resp.status().is_success(), "export: {}", resp.status());
        let mut out = std::collections::BTreeMap::new();
        for line in resp.text().unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let ts = v["timestamps"].as_array().unwrap();
            let vals = v["values"].as_array().unwrap();
            let samples = ts
                .iter()
                .zip(vals)
                .map(|(t, x)| {
                    (
                        t.as_i64().unwrap(),
                        x.as_f64()
                            .unwrap_or_else(|| x.as_str().unwrap().parse().unwrap()),
                    )
                })
                .collect();
            out.insert(v["metric"].to_string(), samples);
        }
        out
    }
}

impl Drop for Argus {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub(crate) fn ts(name: &str, labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    let mut pairs = vec![("__name__", name)];
    pairs.extend_from_slice(labels);
    TimeSeries {
        labels: Labels::from_pairs(pairs),
        samples: samples.iter().map(|(t, v)| Sample::new(*t, *v)).collect(),
        ..Default::default()
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `tempopb.Trace` (`resourceSpans = 1`), Tempo's `GET /api/traces/<id>`
/// in protobuf; declared here rather than taken from Argus's encoder.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TempoTrace {
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<opentelemetry_proto::tonic::trace::v1::ResourceSpans>,
}

/// `tempopb.TraceByIDResponse { trace = 1; metrics = 2; status = 3;
/// message = 4 }`, `GET /api/v2/traces/<id>` in protobuf (metrics
/// skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TraceByIdResponse {
    #[prost(message, optional, tag = "1")]
    pub trace: Option<TempoTrace>,
    #[prost(int32, tag = "3")]
    pub status: i32,
    #[prost(string, tag = "4")]
    pub message: String,
}

/// moto's S3 server on a free loopback port with one bucket; stopped on drop.
pub(crate) struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// None (test skipped) when moto_server is not installed.
    pub(crate) fn start(bucket: &str) -> Option<Moto> {
        if !have("moto_server") {
            return None;
        }
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let m = Moto { child, port };
        let c = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !c
            .put(format!("http://127.0.0.1:{port}/{bucket}"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(m)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `storage:` section for a bucket behind `port`.
pub(crate) fn s3_config(port: u16, bucket: &str) -> String {
    format!(
        "storage:\n  s3:\n    bucket: {bucket}\n    endpoint: http://127.0.0.1:{port}\n    region: us-east-1\n    access_key_id: test\n    secret_access_key: test\n"
    )
}
