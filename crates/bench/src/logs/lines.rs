//! The lines of the logs corpus: streams (kinds, labels, Zipf-like
//! volumes) and a seeded generator of realistic lines for each kind —
//! nginx access logs, JSON application logs with a trace id, syslog.

use std::fmt::Write as _;

use argus_model::Labels;

use super::corpus::NEEDLE;
use crate::rng::Rng;

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
