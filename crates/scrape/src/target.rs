//! Scrape targets: building them from `static_configs` and target
//! relabelling (Prometheus's `PopulateLabels` / `TargetsFromGroup` in
//! `scrape/target.go`), their URL, identity hash and scrape offset.

use std::collections::BTreeMap;
use std::time::Duration;

use argus_model::{Label, Labels};

use crate::config::{check_target_address, ScrapeConfig};
use crate::relabel::{process_builder, LabelBuilder};
use argus_model::{format_duration, parse_duration};

pub(crate) const ADDRESS_LABEL: &str = "__address__";
pub(crate) const SCHEME_LABEL: &str = "__scheme__";
pub(crate) const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub(crate) const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub(crate) const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub(crate) const PARAM_LABEL_PREFIX: &str = "__param_";
pub(crate) const META_LABEL_PREFIX: &str = "__meta_";
pub(crate) const RESERVED_LABEL_PREFIX: &str = "__";
pub(crate) const JOB_LABEL: &str = "job";
pub(crate) const INSTANCE_LABEL: &str = "instance";

/// One endpoint to scrape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// All labels after relabelling, `__address__`, `__scheme__`, … included
    /// (`__meta_*` removed).
    pub labels: Labels,
    /// The labels before relabelling.
    pub discovered: Labels,
    /// The job's `params`.
    pub params: BTreeMap<String, Vec<String>>,
}

impl Target {
    /// The labels attached to scraped series: those not starting with `__`.
    pub(crate) fn public_labels(&self) -> Labels {
        let v: Vec<Label> = self
            .labels
            .iter()
            .filter(|l| !l.name.starts_with(RESERVED_LABEL_PREFIX))
            .cloned()
            .collect();
        Labels::from_sorted_unchecked(v)
    }

    /// The scrape URL, formatted like Go's `url.URL.String()`: `__param_*`
    /// labels override the first value of the job's params.
    pub(crate) fn url(&self) -> String {
        let mut params = self.params.clone();
        for l in self.labels.iter() {
            if let Some(k) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
                let vals = params.entry(k.to_string()).or_default();
                if vals.is_empty() {
                    vals.push(l.value.clone());
                } else {
                    vals[0] = l.value.clone();
                }
            }
        }
        let scheme = self.labels.get(SCHEME_LABEL).unwrap_or("");
        let host = self.labels.get(ADDRESS_LABEL).unwrap_or("");
        let path = escape(
            self.labels.get(METRICS_PATH_LABEL).unwrap_or(""),
            Mode::Path,
        );
        let mut out = String::new();
        if !scheme.is_empty() {
            out.push_str(scheme);
            out.push(':');
        }
        if !scheme.is_empty() || !host.is_empty() {
            if !host.is_empty() || !path.is_empty() {
                out.push_str("//");
            }
            out.push_str(&escape(host, Mode::Host));
        }
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out.push_str(&path);
        let query = encode_query(&params);
        if !query.is_empty() {
            out.push('?');
            out.push_str(&query);
        }
        out
    }

    /// The identity of a target within its job (Prometheus's
    /// `Target.hash`: FNV-1a of the label hash and the URL).
    pub(crate) fn hash(&self) -> u64 {
        let mut h = Fnv64a::new();
        h.write(format!("{:016}", self.labels.stable_hash()).as_bytes());
        h.write(self.url().as_bytes());
        h.finish()
    }

    /// Time until this target's next slot, pinned to absolute time so each
    /// target is scraped at a fixed phase of its interval (Prometheus's
    /// `Target.offset`).
    pub(crate) fn offset(
        &self,
        interval: Duration,
        offset_seed: u64,
        now_unix_nanos: i128,
    ) -> Duration {
        let iv = interval.as_nanos().max(1) as i128;
        let base = iv - now_unix_nanos.rem_euclid(iv);
        let offset = ((self.hash() ^ offset_seed) as u128 % iv as u128) as i128;
        let mut next = base + offset;
        if next > iv {
            next -= iv;
        }
        Duration::from_nanos(next as u64)
    }

    /// Interval and timeout from the `__scrape_interval__` /
    /// `__scrape_timeout__` labels (checked when the target was built).
    pub(crate) fn interval_and_timeout(&self) -> (Duration, Duration) {
        let get = |n| {
            self.labels
                .get(n)
                .and_then(|v| parse_duration(v).ok())
                .unwrap_or_default()
        };
        (get(SCRAPE_INTERVAL_LABEL), get(SCRAPE_TIMEOUT_LABEL))
    }
}

/// What target relabelling made of one discovered target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Populated {
    Target(Target),
    /// Dropped by relabelling; the discovered labels.
    Dropped(Labels),
    /// Invalid after relabelling (logged and skipped by Prometheus).
    Failed(String),
}

/// Builds the targets of a job from its `static_configs`, in order.
pub(crate) fn targets_from_config(cfg: &ScrapeConfig) -> Vec<Populated> {
    let mut out = Vec::new();
    for (gi, group) in cfg.static_configs.iter().enumerate() {
        for (ti, addr) in group.targets.iter().enumerate() {
            let mut lb = LabelBuilder::default();
            lb.set(ADDRESS_LABEL, addr);
            for (k, v) in &group.labels {
                if k != ADDRESS_LABEL {
                    lb.set(k, v);
                }
            }
            out.push(match populate_labels(lb, cfg) {
                Ok(t) if t.labels.is_empty() => Populated::Dropped(t.discovered),
                Ok(t) => Populated::Target(t),
                Err(e) => Populated::Failed(format!("instance {ti} in group {gi}: {e}")),
            });
        }
    }
    out
}

/// Prometheus's `PopulateLabels`. A target with empty `labels` was dropped
/// by relabelling.
fn populate_labels(mut lb: LabelBuilder, cfg: &ScrapeConfig) -> Result<Target, String> {
    let interval = format_duration(cfg.scrape_interval);
    let timeout = format_duration(cfg.scrape_timeout);
    for (name, value) in [
        (JOB_LABEL, cfg.job_name.as_str()),
        (SCRAPE_INTERVAL_LABEL, interval.as_str()),
        (SCRAPE_TIMEOUT_LABEL, timeout.as_str()),
        (METRICS_PATH_LABEL, cfg.metrics_path.as_str()),
        (SCHEME_LABEL, cfg.scheme.as_str()),
    ] {
        if lb.get(name).is_empty() {
            lb.set(name, value);
        }
    }
    for (k, v) in &cfg.params {
        if let Some(first) = v.first() {
            lb.set(&format!("{PARAM_LABEL_PREFIX}{k}"), first);
        }
    }
    let discovered = lb.labels();
    let new_target = |labels: Labels| Target {
        labels,
        discovered: discovered.clone(),
        params: cfg.params.clone(),
    };
    if !process_builder(&mut lb, &cfg.relabel_configs) {
        return Ok(new_target(Labels::default()));
    }
    if lb.get(ADDRESS_LABEL).is_empty() {
        return Err("no address".into());
    }
    let mut addr = lb.get(ADDRESS_LABEL).to_string();
    let scheme = lb.get(SCHEME_LABEL).to_string();
    // Add the scheme's default port when the address has none and adding
    // one makes it valid.
    if split_host_port(&addr).is_err() && split_host_port(&format!("{addr}:1234")).is_ok() {
        match scheme.as_str() {
            "http" | "" => addr.push_str(":80"),
            "https" => addr.push_str(":443"),
            _ => return Err(format!("invalid scheme: {:?}", cfg.scheme)),
        }
        lb.set(ADDRESS_LABEL, &addr);
    }
    check_target_address(&addr).map_err(|e| e.0)?;
    let dur = |name: &str, what: &str| -> Result<Duration, String> {
        let v = lb.get(name);
        let d = parse_duration(v).map_err(|e| format!("error parsing scrape {what}: {e}"))?;
        if d.is_zero() {
            return Err(format!("scrape {what} cannot be 0"));
        }
        Ok(d)
    };
    let iv = dur(SCRAPE_INTERVAL_LABEL, "interval")?;
    let to = dur(SCRAPE_TIMEOUT_LABEL, "timeout")?;
    if to > iv {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
            lb.get(SCRAPE_TIMEOUT_LABEL),
            lb.get(SCRAPE_INTERVAL_LABEL)
        ));
    }
    // Meta labels are deleted after relabelling; other `__` labels stay on
    // the target (and are hidden from its series).
    for l in lb.range() {
        if l.name.starts_with(META_LABEL_PREFIX) {
            lb.del(&l.name);
        }
    }
    if lb.get(INSTANCE_LABEL).is_empty() {
        lb.set(INSTANCE_LABEL, &addr);
    }
    Ok(new_target(lb.labels()))
}

/// Go's `net.SplitHostPort`.
pub(crate) fn split_host_port(hostport: &str) -> Result<(&str, &str), &'static str> {
    let i = hostport.rfind(':').ok_or("missing port in address")?;
    let (host, j, k);
    if hostport.starts_with('[') {
        let end = hostport.find(']').ok_or("missing ']' in address")?;
        if end + 1 == hostport.len() {
            return Err("missing port in address");
        }
        if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err("too many colons in address");
            }
            return Err("missing port in address");
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return Err("too many colons in address");
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') {
        return Err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return Err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    QueryComponent,
}

/// Go's `url.shouldEscape` for the modes used here.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if mode == Mode::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::QueryComponent | Mode::Host => true,
        },
        _ => true,
    }
}

/// Go's `url.escape`.
fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b == b' ' && mode == Mode::QueryComponent {
            out.push('+');
        } else if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Go's `url.Values.Encode`: keys sorted, `k=v` pairs joined with `&`.
fn encode_query(params: &BTreeMap<String, Vec<String>>) -> String {
    let mut parts = Vec::new();
    for (k, vs) in params {
        let ek = escape(k, Mode::QueryComponent);
        for v in vs {
            parts.push(format!("{ek}={}", escape(v, Mode::QueryComponent)));
        }
    }
    parts.join("&")
}

/// 64-bit FNV-1a.
pub(crate) struct Fnv64a(u64);

impl Fnv64a {
    pub(crate) fn new() -> Self {
        Fnv64a(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

/// Last-scrape state of a target, as shown by `/api/v1/targets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetHealth {
    /// Not scraped yet.
    #[default]
    Unknown,
    Up,
    Down,
}

impl TargetHealth {
    /// Prometheus's spelling: `unknown`, `up`, `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetHealth::Unknown => "unknown",
            TargetHealth::Up => "up",
            TargetHealth::Down => "down",
        }
    }
}

/// An active target and its last scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    /// `scrapePool`: the job name.
    pub job: String,
    pub scrape_url: String,
    /// The labels attached to its series (no `__` labels).
    pub labels: Labels,
    /// The labels before relabelling.
    pub discovered_labels: Labels,
    pub tenant: argus_model::TenantId,
    pub health: TargetHealth,
    /// The error of the last scrape, if it failed.
    pub last_error: Option<String>,
    /// Start of the last scrape (its samples' timestamp), ms since the epoch.
    pub last_scrape_ms: Option<i64>,
    pub last_scrape_duration: Option<Duration>,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
}

/// A target dropped by relabelling (`droppedTargets` in the targets API).
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    pub job: String,
    pub discovered_labels: Labels,
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
