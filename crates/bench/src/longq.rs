//! The long-range query phase: peak RSS of a server while it answers a
//! query over every raw sample of every series (issue 10) alone and 8 at
//! once, and what it answered, for each of [`LONG_QUERIES`].

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The long-range queries, each reading every raw sample of every series in
/// a 370 m window, each with a short name for the report's rows.
///
/// - The issue's query. Prometheus 2.42 drops the metric name as soon as
///   `count_over_time` is applied and then refuses the result (422 "vector
///   cannot contain metrics with the same labelset": series that differ
///   only in their name collide), so it says nothing about Prometheus's
///   memory; Argus removes the name at the end (Prometheus's delayed name
///   removal) and answers it.
/// - `last_over_time` keeps the name in 2.42 too, so both systems evaluate
///   it fully (the number of series with a sample in the window): the fair
///   comparison.
pub(crate) const LONG_QUERIES: [(&str, &str); 2] = [
    (
        "count_over_time",
        r#"sum(count_over_time({__name__=~".+"}[370m]))"#,
    ),
    (
        "last_over_time",
        r#"count(last_over_time({__name__=~".+"}[370m]))"#,
    ),
];

/// One query's answer: its HTTP status, the value on success, else the
/// start of the error message.
#[derive(Debug, Default, Clone)]
pub struct Answer {
    pub status: u16,
    pub value: Option<f64>,
    pub error: Option<String>,
    pub secs: f64,
}

impl Answer {
    pub fn describe(&self) -> String {
        match (&self.value, &self.error) {
            (Some(v), _) => format!("{} = {v} in {:.2} s", self.status, self.secs),
            (None, Some(e)) => format!("{} `{e}` in {:.2} s", self.status, self.secs),
            _ => format!("{}", self.status),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct LongQuery {
    /// RSS before the query (bytes).
    pub idle_rss: u64,
    /// Peak RSS while one query ran, and while 8 ran at once (bytes).
    pub peak_one: u64,
    pub peak_eight: u64,
    pub one: Answer,
    /// The 8 concurrent queries' answers.
    pub eight: Vec<Answer>,
}

fn kib(pid: u32, field: &str) -> Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))
}

/// Peak RSS (bytes) of `pid` while `f` runs: the kernel's high-water mark
/// reset first (`clear_refs` 5) where allowed, and VmRSS sampled every 5 ms.
fn peak_while<T>(pid: u32, f: impl FnOnce() -> T) -> Result<(u64, T)> {
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (sampled, out) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(kib(pid, "VmRSS:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        let out = f();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (sampler.join().unwrap_or(0), out)
    });
    let peak = if reset {
        kib(pid, "VmHWM:")?.max(sampled)
    } else {
        sampled
    };
    Ok((peak * 1024, out))
}

fn ask(client: &reqwest::blocking::Client, base: &str, query: &str, t_ms: i64) -> Answer {
    let started = Instant::now();
    let time = format!("{:.3}", t_ms as f64 / 1000.0);
    let r = client
        .post(format!("{base}/api/v1/query"))
        .form(&[("query", query), ("time", &time)])
        .send();
    let secs = started.elapsed().as_secs_f64();
    let Ok(r) = r else {
        return Answer {
            error: r.err().map(|e| e.to_string()),
            secs,
            ..Default::default()
        };
    };
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().unwrap_or_default();
    let value = body["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok());
    let error = body["error"]
        .as_str()
        .map(|e| e.chars().take(120).collect::<String>());
    Answer {
        status,
        value: if status == 200 { value } else { None },
        error,
        secs,
    }
}

/// Runs the phase for `query` against one server (the other should be
/// idle).
pub(crate) fn measure(
    client: &reqwest::blocking::Client,
    base: &str,
    pid: u32,
    query: &str,
    t_ms: i64,
) -> Result<LongQuery> {
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = kib(pid, "VmRSS:")? * 1024;
    let (peak_one, one) = peak_while(pid, || ask(client, base, query, t_ms))?;
    std::thread::sleep(Duration::from_secs(1));
    let (peak_eight, eight) = peak_while(pid, || {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| ask(client, base, query, t_ms)))
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect::<Vec<_>>()
        })
    })?;
    Ok(LongQuery {
        idle_rss,
        peak_one,
        peak_eight,
        one,
        eight,
    })
}

/// "same answer on both: V" or what each answered.
pub(crate) fn compare(argus: &LongQuery, prom: &LongQuery) -> String {
    let show = |l: &LongQuery| match l.value() {
        Some(v) => v.to_string(),
        None => format!("no single value (alone: {})", l.one.describe()),
    };
    match (argus.value(), prom.value()) {
        (Some(a), Some(p)) if a == p => format!("same answer on both: {a}"),
        _ => format!(
            "answers differ: Argus {}; Prometheus {}",
            show(argus),
            show(prom)
        ),
    }
}

impl LongQuery {
    /// The value every one of the 9 queries answered, if they all answered
    /// the same (200 and one value).
    pub fn value(&self) -> Option<f64> {
        let v = self.one.value?;
        self.eight.iter().all(|a| a.value == Some(v)).then_some(v)
    }

    /// "8 × 200 = 72000000" or the distinct answers.
    pub fn describe_eight(&self) -> String {
        let mut kinds: Vec<String> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        for a in &self.eight {
            let d = match (&a.value, &a.error) {
                (Some(v), _) => format!("{} = {v}", a.status),
                (None, Some(e)) => format!("{} `{e}`", a.status),
                _ => format!("{}", a.status),
            };
            match kinds.iter().position(|k| *k == d) {
                Some(i) => counts[i] += 1,
                None => {
                    kinds.push(d);
                    counts.push(1);
                }
            }
        }
        let slowest = self.eight.iter().map(|a| a.secs).fold(0.0, f64::max);
        let parts: Vec<String> = kinds
            .iter()
            .zip(&counts)
            .map(|(k, n)| format!("{n} × {k}"))
            .collect();
        format!("{}, all done in {slowest:.2} s", parts.join(", "))
    }
}
