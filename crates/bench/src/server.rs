//! Starting and stopping the two servers, and what we read about them from
//! /proc, their data directories and their /metrics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Argus,
    Prometheus,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Argus => "Argus",
            Kind::Prometheus => "Prometheus",
        }
    }
}

/// A server under test: a child process we started, on a loopback port,
/// with its own data directory.
pub(crate) struct Server {
    pub kind: Kind,
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    pub(crate) fn new(kind: Kind, bin: &Path, dir: PathBuf, extra_config: &str) -> Result<Server> {
        std::fs::create_dir_all(&dir)?;
        match kind {
            Kind::Argus => std::fs::write(
                dir.join("argus.yaml"),
                format!(
                    "tsdb:\n  block_range: 2h\n  maintenance_interval: 5s\n{extra_config}query:\n  max_samples: 50000000\nlimits:\n  max_series: 0\n"
                ),
            )?,
            Kind::Prometheus => std::fs::write(
                dir.join("prometheus.yml"),
                "global:\n  scrape_interval: 15s\n",
            )?,
        }
        Ok(Server {
            kind,
            port: free_port()?,
            dir,
            bin: bin.to_path_buf(),
            child: None,
        })
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts the process and waits until `/-/ready` answers 200; returns
    /// how long that took.
    pub(crate) fn start(&mut self, client: &reqwest::blocking::Client) -> Result<Duration> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))?;
        let mut cmd = Command::new(&self.bin);
        match self.kind {
            Kind::Argus => {
                cmd.args(["serve", "--config"])
                    .arg(self.dir.join("argus.yaml"))
                    .arg("--listen")
                    .arg(format!("127.0.0.1:{}", self.port))
                    .arg("--data-dir")
                    .arg(self.data_dir())
                    // No OTLP/gRPC receiver: the load is remote write, and
                    // port 4317 may be taken.
                    .arg("--otlp-grpc-listen=")
                    .env("ARGUS_LOG", "info");
            }
            Kind::Prometheus => {
                cmd.arg(format!(
                    "--config.file={}",
                    self.dir.join("prometheus.yml").display()
                ))
                .arg(format!("--storage.tsdb.path={}", self.data_dir().display()))
                .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
                .arg("--web.enable-remote-write-receiver")
                .arg("--storage.tsdb.retention.time=30d");
            }
        }
        let t0 = Instant::now();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = t0 + Duration::from_secs(600);
        loop {
            if let Some(st) = self.child.as_mut().expect("started").try_wait()? {
                self.child = None;
                bail!(
                    "{} exited early with {st}; see {}",
                    self.kind.name(),
                    self.dir.join("server.log").display()
                );
            }
            if client
                .get(self.url("/-/ready"))
                .timeout(Duration::from_secs(2))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                return Ok(t0.elapsed());
            }
            if Instant::now() > deadline {
                bail!("{} not ready after 600s", self.kind.name());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM by PID and wait for the exit (SIGKILL after 120 s).
    pub(crate) fn stop(&mut self) -> Result<()> {
        let Some(mut c) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if c.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        bail!("{} did not stop within 120s of SIGTERM", self.kind.name())
    }

    /// `POST /flush` (Argus; Loki's ingester endpoint): answers 204 once
    /// every head is written into segments, uploaded and installed.
    /// Returns (seconds, the server's CPU seconds meanwhile).
    pub(crate) fn flush(&self, client: &reqwest::blocking::Client) -> Result<(f64, f64)> {
        let pid = self.pid().context("not running")?.to_string();
        let cpu0 = cpu_seconds(&pid)?;
        let t0 = Instant::now();
        let resp = client.post(self.url("/flush")).send()?;
        anyhow::ensure!(
            resp.status().as_u16() == 204,
            "POST /flush: {}",
            resp.status()
        );
        Ok((t0.elapsed().as_secs_f64(), cpu_seconds(&pid)? - cpu0))
    }

    /// The server's self-metrics in text format.
    pub(crate) fn metrics(&self, client: &reqwest::blocking::Client) -> Result<String> {
        Ok(client.get(self.url("/metrics")).send()?.text()?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sum of the values of every sample of `name` (any labels) in a text
/// exposition.
pub(crate) fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            // An OpenMetrics exemplar (` # {…} v`) is not the value.
            let rest = rest.split(" # ").next()?;
            let rest = match rest.strip_prefix('{') {
                Some(labels) => &labels[labels.rfind('}')? + 1..],
                None if rest.starts_with(' ') => rest,
                None => return None,
            };
            // The value, then maybe a timestamp.
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
        .sum()
}

/// CPU time (user + system) of a process, in seconds.
pub(crate) fn cpu_seconds(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // fields after the command name, which is in parentheses
    let rest = &stat[stat.rfind(')').context("bad /proc stat")? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here
    let ticks: f64 = f[11].parse::<f64>()? + f[12].parse::<f64>()?;
    Ok(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// (peak RSS, current RSS) in bytes, from `/proc/<pid>/status`.
pub(crate) fn rss(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{name} missing"))?;
        let kb: u64 = line
            .split_whitespace()
            .nth(1)
            .context("bad status line")?
            .parse()?;
        Ok(kb * 1024)
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// Disk space used under `dir` (allocated blocks, as `du`), skipping
/// top-level entries named in `exclude`.
pub(crate) fn disk_usage(dir: &Path, exclude: &[&str]) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in rd.flatten() {
        if exclude.iter().any(|x| e.file_name() == *x) {
            continue;
        }
        let Ok(md) = e.metadata() else { continue };
        if md.is_dir() {
            total += disk_usage(&e.path(), &[]);
        } else {
            total += md.blocks() * 512;
        }
    }
    total
}

/// Complete blocks (directories with a `meta.json`) anywhere under `dir`:
/// (minTime, maxTime, numSamples) of each.
pub(crate) fn blocks(dir: &Path) -> Vec<(i64, i64, u64)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if !p.is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().to_string();
        if name.contains(".tmp") || name == "wal" || name == "chunks_head" {
            continue;
        }
        let meta = p.join("meta.json");
        if let Ok(text) = std::fs::read_to_string(&meta) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                out.push((
                    v["minTime"].as_i64().unwrap_or(0),
                    v["maxTime"].as_i64().unwrap_or(0),
                    v["stats"]["numSamples"].as_u64().unwrap_or(0),
                ));
                continue;
            }
        }
        out.extend(blocks(&p));
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sum_matches_names_exactly() {
        let t = "# HELP x\nfoo_total{a=\"1\"} 2\nfoo_total{a=\"2\"} 3\nfoo_total_bar 7\nfoo_total 1e1\n";
        assert_eq!(metric_sum(t, "foo_total"), 15.0);
    }

    /// Argus's `/metrics` in OpenMetrics (prometheus-client): `# EOF`,
    /// `_created` samples, timestamps and exemplars do not count.
    #[test]
    fn metric_sum_reads_openmetrics() {
        let t = "# HELP foo Foo.\n# TYPE foo counter\nfoo_total{a=\"x y\"} 2\nfoo_created{a=\"x y\"} 1.7e9\nfoo_total{a=\"2\"} 3 1700000000\nfoo_total 1 # {trace_id=\"t\"} 9.0\n# EOF\n";
        assert_eq!(metric_sum(t, "foo_total"), 6.0);
    }

    #[test]
    fn own_cpu_and_rss() {
        let pid = std::process::id();
        assert!(cpu_seconds(&pid.to_string()).unwrap() >= 0.0);
        let (peak, now) = rss(pid).unwrap();
        assert!(peak >= now && now > 0);
    }
}
