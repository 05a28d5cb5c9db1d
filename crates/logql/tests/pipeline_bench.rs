//! A release-mode micro-benchmark of the pipeline over JSON app lines (the
//! shape of issue 11's benchmark queries), ignored by default:
//!
//! ```text
//! cargo test --release -p argus-logql --test pipeline_bench -- --ignored --nocapture
//! ```
//!
//! Prints ns per line for each shape: the compiled pipeline alone
//! (`run_pipeline`, which also builds the kept entries' labels, and
//! `Pipeline::keeps`, which builds nothing) and whole
//! queries through the engine over `MemLogs` (whose `select` clones every
//! entry, a cost included in those figures; the `sum by (job)` query with a
//! line filter shows it). Thread CPU time is printed beside wall time.
//!
//! On a shared machine, instructions are a steadier measure: run one shape
//! (`BENCH_ONLY=pipeline:<query>`, `keeps:<query>` or `query:<query>`) over a
//! small corpus (`BENCH_LINES=2000`) under
//! `valgrind --tool=cachegrind`, and subtract a run of `BENCH_ONLY=none`;
//! pipeline shapes run 10 times the corpus, keeps 5 times, queries 3 times.

use argus_logql::engine::{run_pipeline, Direction, Engine, Pipeline, QueryParams, QueryResult};
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_store::{LogsWriter, MemLogs, StreamLimits};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// Lines of the corpus (`BENCH_LINES`, default 200k; fewer under valgrind).
fn lines() -> usize {
    std::env::var("BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

const STREAMS: usize = 4;
/// Lines per stream of the warm runs.
const WARM: usize = 100;
const T0: i64 = 1_700_000_000_000_000_000;

const PATHS: [&str; 12] = [
    "/api/v1/cart",
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/checkout",
    "/api/v1/search",
    "/api/v1/products",
    "/api/v2/cart",
    "/api/v2/users",
    "/health",
    "/metrics",
    "/login",
    "/static/app.js",
];
const LEVELS: [&str; 4] = ["info", "info", "warn", "debug"];
const MSGS: [&str; 4] = [
    "request completed",
    "cache miss, fetched from origin",
    "slow upstream response",
    "user session refreshed",
];

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One line of about 250 bytes: 1 in 2000 has a 5xx status.
fn line(i: usize, rng: &mut Rng) -> (String, &'static str) {
    let r = rng.next();
    let level = LEVELS[(r % 4) as usize];
    let status = if i % 2000 == 1999 {
        503
    } else if r.is_multiple_of(10) {
        404
    } else {
        200
    };
    let path = PATHS[((r >> 8) % PATHS.len() as u64) as usize];
    let msg = MSGS[((r >> 16) % 4) as usize];
    let trace = format!("{:016x}{:016x}", rng.next(), rng.next());
    let span = format!("{:016x}", rng.next());
    let dur = (r >> 24) % 100_000;
    let secs = i / 1000;
    let l = format!(
        r#"{{"ts":"2023-11-14T22:{:02}:{:02}.{:06}Z","level":"{level}","msg":"{msg}","trace_id":"{trace}","span_id":"{span}","status":{status},"path":"{path}","duration_ms":{}.{},"method":"GET","user_id":"u-{}","bytes":{}}}"#,
        (secs / 60) % 60,
        secs % 60,
        i % 1_000_000,
        dur / 10,
        dur % 10,
        (r >> 40) % 100_000,
        (r >> 20) % 10_000,
    );
    (l, level)
}

fn stream_labels(s: usize) -> Labels {
    Labels::from_pairs([
        ("job", "app".to_string()),
        ("env", "prod".to_string()),
        ("cluster", "eu-west-1".to_string()),
        ("namespace", "shop".to_string()),
        ("pod", format!("app-7d9f8b-{s:04}")),
    ])
}

/// `lines()` entries over `STREAMS` streams, one per millisecond-ish (all
/// within 4 minutes of `T0`).
fn corpus() -> Vec<LogStream> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut streams: Vec<LogStream> = (0..STREAMS)
        .map(|s| LogStream {
            labels: stream_labels(s),
            entries: Vec::new(),
        })
        .collect();
    for i in 0..lines() {
        let (l, level) = line(i, &mut rng);
        streams[i % STREAMS].entries.push(LogEntry {
            ts_ns: T0 + i as i64 * 1_000_000,
            line: l,
            metadata: vec![("detected_level".to_string(), level.to_string())],
        });
    }
    streams
}

/// CPU time of this thread, ns (Linux's schedstat; 0 elsewhere): steadier
/// than wall time on a shared machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The best of `runs` runs: (wall ns/line, CPU ns/line, what `f` counted).
fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (f64, f64, usize) {
    let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
    let mut n = 0;
    for _ in 0..runs {
        let (t, c) = (Instant::now(), thread_cpu_ns());
        n = f();
        wall = wall.min(t.elapsed().as_nanos() as f64);
        cpu = cpu.min((thread_cpu_ns() - c) as f64);
    }
    (wall / lines() as f64, cpu / lines() as f64, n)
}

/// `BENCH_ONLY=pipeline:query` or `BENCH_ONLY=query:query` runs only that
/// shape (the query as printed).
fn wanted(kind: &str, q: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |w| w == format!("{kind}:{q}"))
}

fn bench_pipeline(streams: &[LogStream], q: &str) {
    if !wanted("pipeline", q) {
        return;
    }
    let expr = match argus_logql::parse(q).unwrap() {
        argus_logql::Expr::Log(l) => l,
        e => panic!("{e:?}"),
    };
    let p = Pipeline::compile(&expr.pipeline).unwrap();
    let labels: Vec<Arc<Labels>> = streams.iter().map(|s| Arc::new(s.labels.clone())).collect();
    // Cold: every line once (the corpus is far larger than the caches);
    // warm: the first `WARM` lines of each stream again and again.
    for (name, take, reps) in [
        ("cold", lines(), 1),
        ("warm", WARM, lines() / WARM / STREAMS),
    ] {
        let (wall, cpu, kept) = best_of(5, || {
            let mut kept = 0;
            for _ in 0..reps {
                for (s, lbs) in streams.iter().zip(&labels) {
                    for e in s.entries.iter().take(take) {
                        if let Some(out) = run_pipeline(&p, e.ts_ns, &e.line, lbs, &e.metadata) {
                            black_box(&out);
                            kept += 1;
                        }
                    }
                }
            }
            kept
        });
        println!("pipeline {name} {cpu:6.0} ns/line cpu {wall:6.0} wall  kept {kept:6}  {q}");
    }
}

/// The pipeline alone, asked only whether it keeps each entry
/// ([`Pipeline::keeps`]: no line or labels built), every line once.
fn bench_keeps(streams: &[LogStream], q: &str) {
    if !wanted("keeps", q) {
        return;
    }
    let expr = match argus_logql::parse(q).unwrap() {
        argus_logql::Expr::Log(l) => l,
        e => panic!("{e:?}"),
    };
    let p = Pipeline::compile(&expr.pipeline).unwrap();
    let labels: Vec<Arc<Labels>> = streams.iter().map(|s| Arc::new(s.labels.clone())).collect();
    let (wall, cpu, kept) = best_of(5, || {
        let mut kept = 0;
        for (s, lbs) in streams.iter().zip(&labels) {
            for e in &s.entries {
                kept += p.keeps(e.ts_ns, &e.line, lbs, &e.metadata) as usize;
            }
        }
        kept
    });
    println!("keeps         {cpu:6.0} ns/line cpu {wall:6.0} wall  kept {kept:6}  {q}");
}

fn bench_query(mem: &MemLogs, q: &str, instant: bool) {
    if !wanted("query", q) {
        return;
    }
    let tenant = TenantId::new("t1").unwrap();
    let end = T0 + lines() as i64 * 1_000_000;
    let mut p = if instant {
        QueryParams::instant(q, end)
    } else {
        QueryParams::range(q, T0, end, 1_000_000_000)
    };
    p.limit = 100;
    p.direction = Direction::Backward;
    let engine = Engine::default();
    let (wall, cpu, n) = best_of(3, || {
        let (r, _) = engine.execute(mem, &tenant, &p).unwrap();
        match r {
            QueryResult::Streams(s) => s.iter().map(|s| s.entries.len()).sum(),
            QueryResult::Vector(v) => v.len(),
            QueryResult::Matrix(m) => m.len(),
            QueryResult::Scalar { .. } => 1,
        }
    });
    println!("query          {cpu:7.0} ns/line cpu {wall:7.0} wall  out  {n:6}  {q}");
}

#[test]
#[ignore]
fn pipeline_bench() {
    let streams = corpus();
    let bytes: usize = streams
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| e.line.len())
        .sum();
    println!("{} lines, {} bytes/line", lines(), bytes / lines());
    for q in [
        r#"{job="app"} | json path="path""#,
        r#"{job="app"} | json | status >= 500"#,
        r#"{job="app"} | json"#,
        r#"{job="app"} | json p="path", s="status", l="level" | s >= 500"#,
    ] {
        bench_pipeline(&streams, q);
        bench_keeps(&streams, q);
    }
    let mem = MemLogs::new();
    mem.push(
        &TenantId::new("t1").unwrap(),
        streams,
        StreamLimits {
            max_streams: 0,
            out_of_order_window_ns: i64::MAX,
        },
    )
    .unwrap();
    // What the store (MemLogs clones every entry) and the engine cost without
    // a parser.
    bench_query(
        &mem,
        r#"sum by (job) (count_over_time({job="app"} |= "api" [5m]))"#,
        true,
    );
    bench_query(
        &mem,
        r#"topk(10, sum by (path) (rate({job="app"} | json path="path" [5m])))"#,
        true,
    );
    bench_query(&mem, r#"{job="app"} | json | status >= 500"#, false);
}
