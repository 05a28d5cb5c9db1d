//! The logs corpus: a deterministic (seeded) generator of realistic lines
//! — nginx access logs, JSON application logs with a trace id, syslog — over
//! a few hundred streams, written once to files so that Argus, `zstd`,
//! `grep` and DuckDB all see exactly the same lines.
//!
//! Files in the corpus directory:
//! - `lines.log`: the raw corpus, one log line per line (what `zstd -3` and
//!   `grep -F` read; its size is the "raw bytes" of every ratio).
//! - `corpus.tsv`: `ts_ns  stream  service_name  namespace  pod  job  level
//!   line`, tab-separated, in time order (what the push driver and DuckDB
//!   read). Lines never contain a tab or a newline.
//! - `corpus.json`: the parameters and what was generated ([`CorpusMeta`]).
//!
//! Entries are in global time order (interleaved across streams), so each
//! stream is in order. The rare token [`NEEDLE`] is planted in exactly
//! [`NEEDLE_LINES`] lines, spread over the corpus and over the stream kinds.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use argus_model::Labels;

use crate::rng::Rng;

/// The planted rare token.
pub(crate) const NEEDLE: &str = "ARGUS-NEEDLE-7f3a91c2e5";
/// Lines carrying [`NEEDLE`].
pub(crate) const NEEDLE_LINES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Access,
    App,
    Syslog,
}

impl Kind {
    pub(crate) fn job(self) -> &'static str {
        match self {
            Kind::Access => "access",
            Kind::App => "app",
            Kind::Syslog => "syslog",
        }
    }
}

/// One stream: its kind and labels (`service_name`, `namespace`, `pod`,
/// `job`, `level`) and its share of the lines.
#[derive(Debug, Clone)]
pub(crate) struct StreamDef {
    pub kind: Kind,
    pub service: String,
    pub namespace: &'static str,
    pub pod: String,
    pub level: &'static str,
    pub weight: f64,
}

impl StreamDef {
    pub(crate) fn labels(&self) -> Labels {
        Labels::from_pairs([
            ("service_name", self.service.as_str()),
            ("namespace", self.namespace),
            ("pod", self.pod.as_str()),
            ("job", self.kind.job()),
            ("level", self.level),
        ])
    }
}

const ACCESS_SERVICES: [&str; 4] = ["ingress-nginx", "web-frontend", "api-gateway", "cdn-edge"];
const APP_SERVICES: [&str; 12] = [
    "checkout",
    "payments",
    "cart",
    "catalog",
    "users",
    "search",
    "orders",
    "shipping",
    "inventory",
    "notifications",
    "recommendations",
    "auth",
];
const SYSLOG_PROGRAMS: [&str; 5] = ["kernel", "systemd", "sshd", "cron", "containerd"];
const NAMESPACES: [&str; 4] = ["prod", "prod", "staging", "platform"];
/// Levels of application streams with their relative volume.
const APP_LEVELS: [(&str, f64); 4] = [
    ("info", 1.0),
    ("debug", 0.5),
    ("warn", 0.15),
    ("error", 0.06),
];
const SYSLOG_LEVELS: [(&str, f64); 3] = [("info", 1.0), ("warn", 0.1), ("error", 0.04)];

/// The `n` streams of `seed`: 40% access, 40% application, 20% syslog,
/// with Zipf-like volumes.
pub(crate) fn streams(seed: u64, n: usize) -> Vec<StreamDef> {
    let mut out = Vec::with_capacity(n);
    let mut r = Rng::derive(seed, &[0x5354]);
    let mut i = 0usize;
    while out.len() < n {
        let kind = match i % 5 {
            0 | 1 => Kind::Access,
            2 | 3 => Kind::App,
            _ => Kind::Syslog,
        };
        let g = i / 5;
        let pod_id = |r: &mut Rng| format!("{:x}", 0x10000 + r.below(0xeffff));
        match kind {
            Kind::Access => {
                let svc = ACCESS_SERVICES[g % ACCESS_SERVICES.len()];
                out.push(StreamDef {
                    kind,
                    service: svc.into(),
                    namespace: if svc == "ingress-nginx" {
                        "ingress"
                    } else {
                        "prod"
                    },
                    pod: format!("{svc}-{}-{}", pod_id(&mut r), g / ACCESS_SERVICES.len()),
                    level: "info",
                    weight: 1.0,
                });
            }
            Kind::App => {
                let svc = APP_SERVICES[g % APP_SERVICES.len()];
                let pod = format!("{svc}-{}", pod_id(&mut r));
                let ns = NAMESPACES[(g / APP_SERVICES.len()) % NAMESPACES.len()];
                for (level, w) in APP_LEVELS {
                    if out.len() < n {
                        out.push(StreamDef {
                            kind,
                            service: svc.into(),
                            namespace: ns,
                            pod: pod.clone(),
                            level,
                            weight: w,
                        });
                    }
                }
            }
            Kind::Syslog => {
                let prog = SYSLOG_PROGRAMS[g % SYSLOG_PROGRAMS.len()];
                let host = format!("node-{:02}", g / SYSLOG_PROGRAMS.len() + 1);
                for (level, w) in SYSLOG_LEVELS {
                    if out.len() < n {
                        out.push(StreamDef {
                            kind,
                            service: prog.into(),
                            namespace: "system",
                            pod: host.clone(),
                            level,
                            weight: w * 0.5,
                        });
                    }
                }
            }
        }
        i += 1;
    }
    // Zipf-like volumes: a few busy streams, a long tail.
    for (k, s) in out.iter_mut().enumerate() {
        let rank = (k as u64 * 7919) % n as u64; // a fixed shuffle of ranks
        s.weight *= 1.0 / ((rank + 1) as f64).powf(0.6);
    }
    out
}

/// About 200 request paths, most popular first.
pub(crate) fn paths() -> Vec<String> {
    const RES: [&str; 25] = [
        "users",
        "orders",
        "cart",
        "products",
        "search",
        "payments",
        "sessions",
        "reviews",
        "inventory",
        "shipping",
        "coupons",
        "wishlist",
        "addresses",
        "invoices",
        "refunds",
        "categories",
        "brands",
        "stores",
        "recommendations",
        "notifications",
        "tokens",
        "profiles",
        "settings",
        "feeds",
        "health",
    ];
    const SUFFIX: [&str; 8] = [
        "",
        "/{id}",
        "/search",
        "/{id}/items",
        "/export",
        "/batch",
        "/{id}/status",
        "/count",
    ];
    let mut out = Vec::with_capacity(RES.len() * SUFFIX.len());
    for s in SUFFIX {
        for r in RES {
            out.push(format!("/api/v1/{r}{s}"));
        }
    }
    out
}

/// Cumulative weights for sampling index `k` with probability ∝ 1/(k+1)^s.
fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut v: Vec<f64> = (0..n)
        .map(|k| {
            acc += 1.0 / ((k + 1) as f64).powf(s);
            acc
        })
        .collect();
    let total = acc;
    v.iter_mut().for_each(|x| *x /= total);
    v
}

fn pick(cdf: &[f64], r: &mut Rng) -> usize {
    let u = r.unit();
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

/// The line generator: one per corpus.
pub(crate) struct Generator {
    pub streams: Vec<StreamDef>,
    stream_cdf: Vec<f64>,
    paths: Vec<String>,
    path_cdf: Vec<f64>,
    ua_cdf: Vec<f64>,
    rng: Rng,
}

const UAS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "okhttp/4.12.0",
    "kube-probe/1.29",
];
const METHODS: [(&str, f64); 5] = [
    ("GET", 0.72),
    ("POST", 0.9),
    ("PUT", 0.95),
    ("DELETE", 0.98),
    ("PATCH", 1.0),
];

impl Generator {
    pub(crate) fn new(seed: u64, n_streams: usize) -> Generator {
        let streams = streams(seed, n_streams);
        let mut acc = 0.0;
        let mut stream_cdf: Vec<f64> = streams
            .iter()
            .map(|s| {
                acc += s.weight;
                acc
            })
            .collect();
        stream_cdf.iter_mut().for_each(|x| *x /= acc);
        let paths = paths();
        let path_cdf = zipf_cdf(paths.len(), 1.1);
        Generator {
            streams,
            stream_cdf,
            paths,
            path_cdf,
            ua_cdf: zipf_cdf(UAS.len(), 1.0),
            rng: Rng::derive(seed, &[0x4c49_4e45]),
        }
    }

    /// The next entry's stream.
    pub(crate) fn next_stream(&mut self) -> usize {
        pick(&self.stream_cdf, &mut self.rng)
    }

    fn status(&mut self, error_level: bool) -> u32 {
        let u = self.rng.unit();
        if error_level {
            return if u < 0.6 {
                [500, 502, 503, 504][self.rng.below(4) as usize]
            } else {
                [400, 404, 409, 422][self.rng.below(4) as usize]
            };
        }
        match u {
            u if u < 0.80 => 200,
            u if u < 0.86 => 201,
            u if u < 0.90 => 204,
            u if u < 0.92 => 301,
            u if u < 0.94 => 304,
            u if u < 0.96 => [400, 401, 403, 404, 429][self.rng.below(5) as usize],
            u if u < 0.98 => 404,
            _ => [500, 502, 503, 504][self.rng.below(4) as usize],
        }
    }

    fn hex(&mut self, out: &mut String, digits: usize) {
        for _ in 0..digits.div_ceil(16) {
            let _ = write!(out, "{:016x}", self.rng.next_u64());
        }
        out.truncate(out.len() - (digits.div_ceil(16) * 16 - digits));
    }

    /// Writes the line of an entry of stream `s` at `ts_ns` into `out`
    /// (cleared first), with [`NEEDLE`] in it when `needle`.
    pub(crate) fn line(&mut self, s: usize, ts_ns: i64, needle: bool, out: &mut String) {
        out.clear();
        let secs = ts_ns.div_euclid(1_000_000_000);
        let millis = ts_ns.rem_euclid(1_000_000_000) / 1_000_000;
        let (y, mo, d, h, mi, se) = civil(secs);
        let st = &self.streams[s];
        let (kind, level) = (st.kind, st.level);
        match kind {
            Kind::Access => {
                let p = pick(&self.path_cdf, &mut self.rng);
                let m = self.rng.unit();
                let method = METHODS.iter().find(|x| m < x.1).map_or("GET", |x| x.0);
                let status = self.status(false);
                let bytes = if status == 204 || status == 304 {
                    0
                } else {
                    200 + (self.rng.unit().powi(3) * 60_000.0) as u64
                };
                let rt = 0.001 + self.rng.unit().powi(4) * 2.5;
                let ua = UAS[pick(&self.ua_cdf, &mut self.rng)];
                let _ = write!(
                    out,
                    "10.{}.{}.{} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"{method} {}",
                    self.rng.below(8),
                    self.rng.below(256),
                    self.rng.below(256),
                    d,
                    MONTHS[mo as usize - 1],
                    y,
                    h,
                    mi,
                    se,
                    self.paths[p].replace("{id}", &self.rng.below(100_000).to_string())
                );
                if needle {
                    let _ = write!(out, "?ref={NEEDLE}");
                } else if self.rng.below(4) == 0 {
                    let _ = write!(out, "?page={}", self.rng.below(20) + 1);
                }
                let _ = write!(
                    out,
                    " HTTP/1.1\" {status} {bytes} \"{}\" \"{ua}\" {rt:.3} {rt:.3}",
                    if self.rng.below(3) == 0 {
                        "https://shop.example.com/"
                    } else {
                        "-"
                    },
                );
            }
            Kind::App => {
                let p = pick(&self.path_cdf, &mut self.rng);
                let status = self.status(level == "error");
                let _ = write!(
                    out,
                    "{{\"ts\":\"{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.{millis:03}Z\",\"level\":\"{level}\",\"msg\":\""
                );
                let n = self.rng.below(100_000);
                let ms = self.rng.below(5000);
                let msg = match (level, self.rng.below(4)) {
                    ("error", 0) => format!("upstream timeout after {ms}ms"),
                    ("error", 1) => "failed to charge card: card declined".into(),
                    ("error", 2) => format!("database error: deadlock detected on orders({n})"),
                    ("error", _) => "unhandled exception in request handler".into(),
                    ("warn", 0) => format!("slow query took {ms}ms"),
                    ("warn", 1) => format!("retrying upstream call (attempt {})", n % 5 + 1),
                    ("warn", _) => "cache nearly full, evicting".into(),
                    ("debug", 0) => format!("cache miss for key user:{n}"),
                    ("debug", _) => format!("loaded {} items from catalog", n % 500),
                    (_, 0) => format!("order {n} created"),
                    (_, 1) => "request completed".into(),
                    (_, 2) => format!("user {n} logged in"),
                    (_, _) => format!("cart updated with {} items", n % 20),
                };
                out.push_str(&msg);
                if needle {
                    let _ = write!(out, " (ref {NEEDLE})");
                }
                out.push_str("\",\"trace_id\":\"");
                self.hex(out, 32);
                out.push_str("\",\"span_id\":\"");
                self.hex(out, 16);
                let _ = write!(
                    out,
                    "\",\"status\":{status},\"path\":\"{}\",\"duration_ms\":{:.1},\"user_id\":{}}}",
                    self.paths[p],
                    self.rng.unit().powi(3) * 3000.0,
                    self.rng.below(1_000_000)
                );
            }
            Kind::Syslog => {
                let pid = 1000 + self.rng.below(60_000);
                let _ = write!(
                    out,
                    "{} {:>2} {:02}:{:02}:{:02} {} ",
                    MONTHS[mo as usize - 1],
                    d,
                    h,
                    mi,
                    se,
                    st.pod
                );
                let a = self.rng.below(256);
                let b = self.rng.below(65536);
                match st.service.as_str() {
                    "kernel" => {
                        let _ = write!(
                            out,
                            "kernel: [{}.{:06}] {}",
                            secs % 10_000_000,
                            self.rng.below(1_000_000),
                            match level {
                                "error" => format!("Out of memory: Killed process {b} (java) total-vm:{}kB", b * 64),
                                "warn" => format!("TCP: request_sock_TCP: Possible SYN flooding on port {b}. Sending cookies."),
                                _ => format!("IPv4: martian source 10.0.{a}.{} from 10.0.{a}.1, on dev eth0", a / 2),
                            }
                        );
                    }
                    "sshd" => {
                        let _ = write!(
                            out,
                            "sshd[{pid}]: {}",
                            match level {
                                "error" => format!("error: kex_exchange_identification: Connection closed by remote host 10.2.{a}.{}", a / 3),
                                "warn" => format!("Invalid user admin from 10.2.{a}.{} port {b}", a / 3),
                                _ => format!("Accepted publickey for deploy from 10.2.{a}.{} port {b} ssh2: ED25519 SHA256:{:x}", a / 3, self.rng.next_u64()),
                            }
                        );
                    }
                    "cron" => {
                        let _ = write!(
                            out,
                            "CRON[{pid}]: (root) CMD (run-parts /etc/cron.hourly; level={level})"
                        );
                    }
                    prog => {
                        let _ = write!(
                            out,
                            "{prog}[{pid}]: {}",
                            match level {
                                "error" => format!(
                                    "Failed to start container {:x}: exit status {}",
                                    self.rng.next_u64(),
                                    a % 3 + 1
                                ),
                                "warn" =>
                                    format!("Unit run-{b}.scope entered failed state, restarting"),
                                _ => format!("Started Session {b} of user deploy."),
                            }
                        );
                    }
                }
                if needle {
                    let _ = write!(out, " trace={NEEDLE}");
                }
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month, day, hour, minute, second) of Unix seconds, UTC.
pub(crate) fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
    )
}

/// What a corpus is and holds (`corpus.json`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CorpusMeta {
    pub seed: u64,
    pub target_bytes: u64,
    pub streams: usize,
    pub span_ms: i64,
    pub start_ns: i64,
    pub end_ns: i64,
    pub lines: u64,
    /// Size of `lines.log` (lines and their newlines).
    pub raw_bytes: u64,
    pub lines_per_kind: [u64; 3],
}

impl CorpusMeta {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed, "target_bytes": self.target_bytes, "streams": self.streams,
            "span_ms": self.span_ms, "start_ns": self.start_ns, "end_ns": self.end_ns,
            "lines": self.lines, "raw_bytes": self.raw_bytes, "lines_per_kind": self.lines_per_kind,
        })
    }

    fn from_json(v: &serde_json::Value) -> Option<CorpusMeta> {
        let k = v["lines_per_kind"].as_array()?;
        Some(CorpusMeta {
            seed: v["seed"].as_u64()?,
            target_bytes: v["target_bytes"].as_u64()?,
            streams: v["streams"].as_u64()? as usize,
            span_ms: v["span_ms"].as_i64()?,
            start_ns: v["start_ns"].as_i64()?,
            end_ns: v["end_ns"].as_i64()?,
            lines: v["lines"].as_u64()?,
            raw_bytes: v["raw_bytes"].as_u64()?,
            lines_per_kind: [
                k.first()?.as_u64()?,
                k.get(1)?.as_u64()?,
                k.get(2)?.as_u64()?,
            ],
        })
    }
}

/// A corpus on disk.
#[derive(Debug, Clone)]
pub(crate) struct Corpus {
    pub dir: PathBuf,
    pub meta: CorpusMeta,
}

impl Corpus {
    pub(crate) fn lines_path(&self) -> PathBuf {
        self.dir.join("lines.log")
    }
    pub(crate) fn tsv_path(&self) -> PathBuf {
        self.dir.join("corpus.tsv")
    }
}

/// Generates the corpus of `seed` into `dir` (about `target_bytes` of raw
/// lines over `span_ms` ending at `end_ms`), or reuses the one already
/// there when it was made with the same seed, size, streams and span.
pub(crate) fn generate(
    dir: &Path,
    seed: u64,
    target_bytes: u64,
    n_streams: usize,
    span_ms: i64,
    end_ms: i64,
) -> Result<Corpus> {
    std::fs::create_dir_all(dir)?;
    let meta_path = dir.join("corpus.json");
    if let Some(m) = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| CorpusMeta::from_json(&v))
    {
        if (m.seed, m.target_bytes, m.streams, m.span_ms)
            == (seed, target_bytes, n_streams, span_ms)
            && std::fs::metadata(dir.join("lines.log")).is_ok_and(|md| md.len() == m.raw_bytes)
        {
            eprintln!("    reusing the corpus in {}", dir.display());
            return Ok(Corpus {
                dir: dir.to_path_buf(),
                meta: m,
            });
        }
    }
    let _ = std::fs::remove_file(&meta_path);
    // Estimate the mean line length to space timestamps evenly over the span.
    let mut probe = Generator::new(seed ^ 0xa5a5, n_streams);
    let mut buf = String::new();
    let mut probe_bytes = 0u64;
    const PROBE: u64 = 20_000;
    for _ in 0..PROBE {
        let s = probe.next_stream();
        probe.line(s, end_ms * 1_000_000, false, &mut buf);
        probe_bytes += buf.len() as u64 + 1;
    }
    let est_lines = (target_bytes * PROBE / probe_bytes.max(1)).max(1);
    let span_ns = span_ms as i128 * 1_000_000;
    let start_ns = (end_ms as i128 * 1_000_000 - span_ns) as i64;
    let step_ns = (span_ns / est_lines as i128).max(1) as i64;

    let mut g = Generator::new(seed, n_streams);
    let mut jit = Rng::derive(seed, &[0x4a49_54]);
    let mut lines_w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("lines.log"))?);
    let mut tsv_w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("corpus.tsv"))?);
    let mut meta = CorpusMeta {
        seed,
        target_bytes,
        streams: n_streams,
        span_ms,
        start_ns,
        end_ns: start_ns,
        lines: 0,
        raw_bytes: 0,
        lines_per_kind: [0; 3],
    };
    let mut planted = 0usize;
    let mut line = String::with_capacity(1024);
    let mut ts = start_ns;
    while meta.raw_bytes < target_bytes {
        // Needles at 10%, 30%, 50%, 70% and 90% of the bytes, in streams of
        // every kind (the next stream of the needle's kind).
        let needle = planted < NEEDLE_LINES
            && meta.raw_bytes * NEEDLE_LINES as u64 * 2 >= target_bytes * (2 * planted as u64 + 1);
        let mut s = g.next_stream();
        if needle {
            let want = [Kind::App, Kind::Access, Kind::Syslog][planted % 3];
            while g.streams[s].kind != want {
                s = g.next_stream();
            }
            planted += 1;
        }
        ts += step_ns / 2 + jit.below(step_ns as u64) as i64;
        g.line(s, ts, needle, &mut line);
        let st = &g.streams[s];
        lines_w.write_all(line.as_bytes())?;
        lines_w.write_all(b"\n")?;
        writeln!(
            tsv_w,
            "{ts}\t{s}\t{}\t{}\t{}\t{}\t{}\t{line}",
            st.service,
            st.namespace,
            st.pod,
            st.kind.job(),
            st.level
        )?;
        meta.raw_bytes += line.len() as u64 + 1;
        meta.lines += 1;
        meta.lines_per_kind[st.kind as usize] += 1;
    }
    meta.end_ns = ts;
    lines_w.flush()?;
    tsv_w.flush()?;
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta.to_json())?)
        .with_context(|| meta_path.display().to_string())?;
    Ok(Corpus {
        dir: dir.to_path_buf(),
        meta,
    })
}

/// One entry of `corpus.tsv`: (ts_ns, stream, line).
pub(crate) fn parse_tsv(l: &str) -> Option<(i64, usize, &str)> {
    let mut it = l.splitn(8, '\t');
    let ts = it.next()?.parse().ok()?;
    let s = it.next()?.parse().ok()?;
    let line = it.nth(5)?;
    Some((ts, s, line.strip_suffix('\n').unwrap_or(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_700_000_000), (2023, 11, 14, 22, 13, 20));
    }

    #[test]
    fn streams_have_the_asked_count_and_distinct_labels() {
        let s = streams(1, 300);
        assert_eq!(s.len(), 300);
        let set: std::collections::HashSet<Labels> = s.iter().map(StreamDef::labels).collect();
        assert_eq!(set.len(), 300);
        for k in [Kind::Access, Kind::App, Kind::Syslog] {
            assert!(s.iter().any(|x| x.kind == k));
        }
        assert_eq!(paths().len(), 200);
    }

    #[test]
    fn corpus_is_deterministic_ordered_with_the_needles() {
        let d = tempfile::tempdir().unwrap();
        let end = 1_700_000_000_000;
        let c = generate(&d.path().join("a"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        let c2 = generate(&d.path().join("b"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        let lines = std::fs::read_to_string(c.lines_path()).unwrap();
        assert_eq!(lines, std::fs::read_to_string(c2.lines_path()).unwrap());
        assert_eq!(lines.len() as u64, c.meta.raw_bytes);
        assert!(c.meta.raw_bytes >= 2_000_000 && c.meta.raw_bytes < 2_010_000);
        assert_eq!(lines.matches(NEEDLE).count(), NEEDLE_LINES);
        let tsv = std::fs::read_to_string(c.tsv_path()).unwrap();
        let mut last = i64::MIN;
        let mut n = 0u64;
        let mut json_ok = 0;
        for (l, raw) in tsv.lines().zip(lines.lines()) {
            let (ts, s, line) = parse_tsv(l).unwrap();
            assert_eq!(line, raw);
            assert!(ts > last && ts >= c.meta.start_ns && s < 50);
            assert!(!line.contains('\t'));
            last = ts;
            n += 1;
            if l.contains("\tapp\t") {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
                assert!(v["status"].as_u64().is_some());
                json_ok += 1;
            }
        }
        assert_eq!(n, c.meta.lines);
        assert!(json_ok > 0);
        assert_eq!(last, c.meta.end_ns);
        // Time spread over roughly the whole span.
        let span = (c.meta.end_ns - c.meta.start_ns) as f64 / 3.6e12;
        assert!((0.8..1.2).contains(&span), "{span}");
        // Reused when asked again.
        let again = generate(&d.path().join("a"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        assert_eq!(again.meta, c.meta);
    }

    #[test]
    fn about_two_percent_5xx_in_access_logs() {
        let mut g = Generator::new(3, 20);
        let mut line = String::new();
        let (mut n, mut e) = (0, 0);
        for _ in 0..20_000 {
            let s = g.next_stream();
            if g.streams[s].kind != Kind::Access {
                continue;
            }
            g.line(s, 1_700_000_000_000_000_000, false, &mut line);
            let status: u32 = line
                .split("\" ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            n += 1;
            e += u32::from(status >= 500);
        }
        let frac = e as f64 / n as f64;
        assert!((0.01..0.03).contains(&frac), "{frac}");
    }
}
