//! Query memory and admission (issue 10, defect 8): a long-range query over
//! every series is answered in bounded memory, alone and 8 at once; one that
//! cannot fit `query.max_samples` is a 422 naming the limit; queries beyond
//! `query.max_concurrency` / `query.max_concurrency_per_tenant` wait in a
//! queue, bounded by their timeout.

use crate::harness::*;
use std::time::{Duration, Instant};

/// The issue's query: every raw sample of every series in a 370 m window.
const LONG_QUERY: &str = r#"sum(count_over_time({__name__=~".+"}[370m]))"#;

/// RSS figures of a process from /proc (KiB).
fn proc_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} missing in /proc/{pid}/status"))
}

/// Peak RSS (MiB) of `pid` while `f` runs: the kernel's high-water mark,
/// reset first (`clear_refs` 5), or else VmRSS sampled every 2 ms.
fn peak_rss_mib(pid: u32, f: impl FnOnce()) -> f64 {
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let done = std::sync::atomic::AtomicBool::new(false);
    let sampled = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(proc_kib(pid, "VmRSS:"));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        f();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        sampler.join().unwrap()
    });
    let kib = if reset {
        proc_kib(pid, "VmHWM:").max(sampled)
    } else {
        sampled
    };
    kib as f64 / 1024.0
}

/// `series` series × `points` samples every 15 s ending at `end`, written
/// by remote write in batches of about 500k samples.
fn write_load(a: &Argus, series: usize, points: usize, end: i64) {
    let per_batch = (500_000 / points).max(1);
    let c = client();
    let mut i = 0;
    while i < series {
        let batch: Vec<_> = (i..(i + per_batch).min(series))
            .map(|k| {
                let samples: Vec<(i64, f64)> = (0..points)
                    .map(|p| {
                        (
                            end - (points - 1 - p) as i64 * 15_000,
                            (p * (k % 7 + 1)) as f64,
                        )
                    })
                    .collect();
                let idx = k.to_string();
                ts(&format!("load_metric_{}", k % 10), &[("i", &idx)], &samples)
            })
            .collect();
        let mut body = Vec::new();
        argus_ingest::remote_write::encode_v1(&batch, &mut body);
        let r = c
            .post(a.url("/api/v1/write"))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .timeout(Duration::from_secs(600))
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204, "{}", r.text().unwrap_or_default());
        i += per_batch;
    }
}

/// The instant query at `t` (ms): status and body.
fn instant(a: &Argus, q: &str, t: i64, extra: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let time = format!("{}", t as f64 / 1000.0);
    let mut params = vec![("query", q), ("time", &time)];
    params.extend_from_slice(extra);
    let r = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap()
        .get(a.url("/api/v1/query"))
        .query(&params)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

fn scalar_result(v: &serde_json::Value) -> f64 {
    v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_else(|| panic!("no value in {v}"))
        .parse()
        .unwrap()
}

/// CPU time (clock ticks) `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime: fields 14 and 15, the 12th and 13th after the name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Data spanning more than 3 h is cut into blocks after ingest: waits (at
/// most 5 minutes) until a block was cut and then nothing more happened
/// (no cut, under 5 % of a core) for 65 s, longer than the default
/// maintenance interval (1 m), so the peaks measured are the queries', not
/// a block cut's running beside them.
fn settle(a: &Argus, pid: u32) {
    let started = Instant::now();
    let cuts = || crate::blocks::metric(a, "argus_tsdb_blocks_cut_total");
    let (mut last_cuts, mut last_cpu) = (cuts(), cpu_ticks(pid));
    let mut quiet_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let (c, cpu) = (cuts(), cpu_ticks(pid));
        if c != last_cuts || cpu - last_cpu > 5 {
            quiet_since = Instant::now();
        }
        (last_cuts, last_cpu) = (c, cpu);
        if c >= 1.0 && quiet_since.elapsed() >= Duration::from_secs(65) {
            eprintln!(
                "settled after {:.0}s ({c} blocks cut)",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        if started.elapsed() > Duration::from_secs(300) {
            eprintln!("not settled after 300s ({c} blocks cut); measuring anyway");
            return;
        }
    }
}

/// What the memory test measured (MiB).
struct Measured {
    /// The time of the newest samples (ms).
    end: i64,
    idle: f64,
    one: f64,
    eight: f64,
    /// Raw samples the query reads, as MiB of 16-byte samples: what reading
    /// them all at once would hold, per query.
    raw: f64,
}

fn measure(series: usize, points: usize, config: &str) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), config);
    let m = measure_on(&a, series, points);
    a.stop();
    m
}

/// Writes the load into `a`, ending now (whole seconds: blocks older than
/// `retention`, 15 d by the wall clock, would be deleted as soon as they
/// are cut), and measures the long query on it.
fn measure_on(a: &Argus, series: usize, points: usize) -> Measured {
    let end = now_ms() / 1000 * 1000;
    let started = Instant::now();
    write_load(a, series, points, end);
    eprintln!(
        "wrote {series} series x {points} points in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let pid = a.child.as_ref().unwrap().id();
    if points as i64 * 15_000 > 3 * 3_600_000 {
        settle(a, pid);
    }
    let want = (series * points) as f64;
    // Evaluation times between samples, as the benchmark does.
    let t = end + 7_500;
    // A first query warms the server up (threads, allocator arenas).
    let (s, v) = instant(a, "count(up)", t, &[]);
    assert_eq!(s, 200, "{v}");
    std::thread::sleep(Duration::from_millis(200));
    let idle = proc_kib(pid, "VmRSS:") as f64 / 1024.0;
    let started = Instant::now();
    let one = peak_rss_mib(pid, || {
        let (s, v) = instant(a, LONG_QUERY, t, &[]);
        assert_eq!(s, 200, "{v}");
        assert_eq!(scalar_result(&v), want, "{v}");
    });
    eprintln!("one query: {:.1}s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let eight = peak_rss_mib(pid, || {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let (s, v) = instant(a, LONG_QUERY, t, &[]);
                        assert_eq!(s, 200, "{v}");
                        assert_eq!(scalar_result(&v), want, "{v}");
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        })
    });
    eprintln!("eight queries: {:.1}s", started.elapsed().as_secs_f64());
    Measured {
        end,
        idle,
        one,
        eight,
        raw: want * 16.0 / (1 << 20) as f64,
    }
}

/// 4,000 series × 360 points (1.5 h at 15 s, 1.44M samples): the query
/// reads every sample. Reading all of them at once would hold 22 MiB per
/// query (as 16-byte samples, before any copy); read one series at a time,
/// a query holds one series' 360 samples, its output (one point per series)
/// and the selection's label sets. Budget: peak RSS at most 16 MiB above
/// the idle server for one query and 48 MiB for 8 at once (8 × 22 = 176
/// MiB if read at once). Measured (debug build): +4 and +13 MiB at 5,000 ×
/// 480.
#[test]
fn a_long_range_query_is_answered_in_bounded_memory() {
    let m = measure(4_000, 360, "");
    eprintln!(
        "idle {:.1} MiB, one query peak {:.1} (+{:.1}), 8 at once peak {:.1} (+{:.1}); raw samples {:.1} MiB per query",
        m.idle,
        m.one,
        m.one - m.idle,
        m.eight,
        m.eight - m.idle,
        m.raw
    );
    assert!(
        m.one - m.idle <= 24.0,
        "one query: +{:.1} MiB",
        m.one - m.idle
    );
    assert!(
        m.eight - m.idle <= 48.0,
        "8 queries: +{:.1} MiB",
        m.eight - m.idle
    );
}

/// The issue's shape: 50,000 series × 1,440 points (72M samples), with the
/// issue's budget of 512 MiB above the idle server. Slow (writes 72M
/// samples); run with `ARGUS_QUERY_MEMORY_LARGE=1`, best with a release
/// binary (`ARGUS_TEST_BIN=target/release/argus`). Results: BENCHMARKS.md.
#[test]
fn a_long_range_query_is_answered_in_bounded_memory_at_the_issues_size() {
    if std::env::var_os("ARGUS_QUERY_MEMORY_LARGE").is_none() {
        eprintln!("skipped: set ARGUS_QUERY_MEMORY_LARGE=1");
        return;
    }
    let (series, points) = (50_000, 1_440);
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let m = measure_on(&a, series, points);
    eprintln!(
        "idle {:.1} MiB, one query peak {:.1} (+{:.1}), 8 at once peak {:.1} (+{:.1}); raw samples {:.1} MiB per query",
        m.idle,
        m.one,
        m.one - m.idle,
        m.eight,
        m.eight - m.idle,
        m.raw
    );
    // Then the same data with a small `query.max_samples` (100,000): the
    // long query still fits (it holds 50,000 output points and one series'
    // 1,440 samples while reading 72M); a range query whose output is 11
    // steps x 50,000 series cannot, and is a 422 naming the limit.
    a.stop();
    a.config = "query:\n  max_samples: 100000\n".into();
    let started = Instant::now();
    a.spawn_within(Duration::from_secs(600));
    eprintln!(
        "restarted with max_samples 100000 in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let t = m.end + 7_500;
    let started = Instant::now();
    let (s, v) = instant(&a, LONG_QUERY, t, &[]);
    assert_eq!(s, 200, "{v}");
    assert_eq!(scalar_result(&v), (series * points) as f64, "{v}");
    eprintln!(
        "max_samples 100000: the long query answered {} in {:.1}s",
        scalar_result(&v),
        started.elapsed().as_secs_f64()
    );
    let r = client()
        .get(a.url("/api/v1/query_range"))
        .query(&[
            ("query", r#"count_over_time({__name__=~".+"}[370m])"#),
            ("start", &format!("{}", (t - 600_000) as f64 / 1000.0)),
            ("end", &format!("{}", t as f64 / 1000.0)),
            ("step", "60"),
        ])
        .timeout(Duration::from_secs(600))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().unwrap();
    eprintln!("max_samples 100000: 11 steps x {series} series: {status} {v}");
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errorType"], "execution", "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("query.max_samples = 100000")),
        "{v}"
    );
    a.stop();
    assert!(
        m.one - m.idle <= 512.0,
        "one query: +{:.1} MiB over the idle server",
        m.one - m.idle
    );
    assert!(
        m.eight - m.idle <= 512.0,
        "8 queries: +{:.1} MiB over the idle server",
        m.eight - m.idle
    );
}

/// A query that must hold more than `query.max_samples` at once is a 422
/// naming the limit; one that reads more in all, but holds one series at a
/// time, is answered.
#[test]
fn a_query_that_cannot_fit_is_422_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "query:\n  max_samples: 1000\n");
    let end = 1_700_000_000_000i64;
    write_load(&a, 20, 240, end);
    let t = end + 7_500;
    // 20 series × 240 samples = 4,800 read, at most 240 + 20 held.
    let (s, v) = instant(&a, LONG_QUERY, t, &[]);
    assert_eq!(s, 200, "{v}");
    assert_eq!(scalar_result(&v), 4_800.0);
    // A range query's output: 20 series × 241 steps held at once.
    let r = client()
        .get(a.url("/api/v1/query_range"))
        .query(&[
            ("query", "load_metric_1 or load_metric_2 or load_metric_3"),
            ("start", &format!("{}", (end - 3_600_000) / 1000)),
            ("end", &format!("{}", end / 1000)),
            ("step", "15"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: serde_json::Value = r.json().unwrap();
    assert_eq!(v["errorType"], "execution", "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "query processing would load too many samples into memory in query execution"
        ) && msg.contains("query.max_samples = 1000"),
        "{msg}"
    );
}

fn metric(a: &Argus, name: &str) -> f64 {
    let text = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{text}"))
}

/// `query.max_concurrency: 2`, `max_concurrency_per_tenant: 1`: while a
/// slow query of tenant a runs, another of a waits and times out in the
/// queue (503 `timeout`), and tenant b's is answered.
#[test]
fn queries_beyond_the_concurrency_limits_wait_in_a_queue() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "query:\n  max_concurrency: 2\n  max_concurrency_per_tenant: 1\n",
    );
    let end = 1_700_000_000_000i64;
    let text = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains("argus_query_max_concurrency{scope=\"all\"} 2"),
        "{text}"
    );
    assert!(text.contains("argus_query_max_concurrency{scope=\"tenant\"} 1"));
    // Slow on purpose: a subquery of 1.7M steps.
    let slow = "count_over_time(vector(1)[20d:1s])";
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            let r = client()
                .get(a.url("/api/v1/query"))
                .header("X-Scope-OrgID", "a")
                .query(&[("query", slow), ("time", &format!("{}", end / 1000))])
                .timeout(Duration::from_secs(120))
                .send()
                .unwrap();
            (r.status().as_u16(), r.text().unwrap())
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while metric(&a, "argus_query_running") < 1.0 {
            assert!(Instant::now() < deadline, "the slow query never ran");
            std::thread::sleep(Duration::from_millis(5));
        }
        let q = |tenant: &str, timeout: &str| {
            let r = client()
                .get(a.url("/api/v1/query"))
                .header("X-Scope-OrgID", tenant)
                .query(&[("query", "1"), ("timeout", timeout)])
                .send()
                .unwrap();
            (r.status().as_u16(), r.text().unwrap())
        };
        let (s_a, body_a) = q("a", "200ms");
        let (s_b, body_b) = q("b", "10s");
        let still_running = metric(&a, "argus_query_running") >= 1.0;
        assert!(still_running, "the slow query ended too soon for this test");
        assert_eq!(s_a, 503, "{body_a}");
        let v: serde_json::Value = serde_json::from_str(&body_a).unwrap();
        assert_eq!(v["errorType"], "timeout");
        assert_eq!(v["error"], "query timed out in query queue");
        assert_eq!(s_b, 200, "{body_b}");
        assert_eq!(metric(&a, "argus_query_queue_timeouts_total"), 1.0);
        let (status, body) = h.join().unwrap();
        assert_eq!(status, 200, "{body}");
    });
    assert_eq!(metric(&a, "argus_query_running"), 0.0);
    assert_eq!(metric(&a, "argus_query_queued"), 0.0);
}
