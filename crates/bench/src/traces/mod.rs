//! `argus-bench traces` (issue 12): generated traces ([`gen`], a shop of
//! a dozen services) sent to Argus over OTLP/HTTP, then ingest throughput
//! per core, stored bytes per span after `POST /flush`, and the latency of
//! trace by id and three TraceQL searches on Tempo's API, beside DuckDB
//! holding the same spans. See `bench/run traces` and BENCHMARKS.md.

mod duck;
pub(crate) mod gen;
mod push;
mod queries;
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use argus_model::paths::{key, DataDir};
use argus_model::{Signal, TenantId};

use crate::rng::Rng;
use crate::server::{self, Kind, Server};
use duck::DuckRun;
use push::{Compression, Prepared};
use queries::{Answer, Search, LIMIT};

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct TracesArgs {
    /// Spans to send (about: whole traces), e.g. 200k, 10M.
    #[arg(long, default_value = "10M")]
    spans: String,
    /// The traces start over this window, ending when the load is generated.
    #[arg(long, default_value = "1h")]
    window: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Independent runs (fresh Argus data directory each); medians reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Timed repetitions of each query (default: 20 lookups by trace id,
    /// each of a different trace, and 5 of each search).
    #[arg(long)]
    query_reps: Option<usize>,
    /// Spans per request (whole traces: a request may hold a few more).
    #[arg(long, default_value_t = 2000)]
    batch_spans: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Request bodies: `none` (protobuf) or `gzip`.
    #[arg(long, default_value = "none", value_parser = ["none", "gzip"])]
    compression: String,
    /// Run Argus with `metrics_generator: {enabled: false}` (the store
    /// alone); by default the generator runs, as users run it.
    #[arg(long)]
    no_metrics_generator: bool,
    /// Argus's WAL fsync policy (its default is `always`).
    #[arg(long, default_value = "always")]
    argus_fsync: String,
    /// Threads generating the load (before the clock starts; default: one per CPU).
    #[arg(long)]
    gen_threads: Option<usize>,
    #[arg(long, default_value = "target/release/argus")]
    argus_bin: PathBuf,
    /// The Python with the duckdb package.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Where the data directories go (a fresh temporary directory inside,
    /// deleted at the end unless --keep).
    #[arg(long, default_value = "/tmp")]
    workdir: PathBuf,
    /// Results file (appended to); `-` to only print.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: String,
    /// Keep the data directories.
    #[arg(long)]
    keep: bool,
}

impl TracesArgs {
    fn by_id_reps(&self) -> usize {
        self.query_reps.unwrap_or(20).max(1)
    }

    fn search_reps(&self) -> usize {
        self.query_reps.unwrap_or(5).max(1)
    }
}

/// `200k`, `10M`, `1.5G`, `2000`: a count (decimal units).
pub(crate) fn parse_count(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        Some('g' | 'G' | 'b' | 'B') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let n: f64 = num.trim().parse().with_context(|| format!("count {s:?}"))?;
    anyhow::ensure!(n.is_finite() && n >= 1.0, "count {s:?} must be positive");
    Ok((n * mult).round() as u64)
}

/// One search on Argus: timed repetitions, the first answer, the count
/// of all matching traces (an untimed search without a practical limit).
#[derive(Debug, Default, Clone)]
pub(crate) struct SearchRun {
    pub secs: Vec<f64>,
    pub first: Option<Answer>,
    pub all: Option<Answer>,
    pub error: Option<String>,
}

/// What one run measured on Argus.
#[derive(Debug, Default, Clone)]
pub(crate) struct ArgusRun {
    pub ingest_s: f64,
    pub cpu_s: f64,
    pub loadgen_cpu_s: f64,
    pub requests: u64,
    pub failed: u64,
    pub retries: u64,
    pub first_error: Option<String>,
    pub peak_rss_ingest: u64,
    pub wal_bytes_ingest: u64,
    /// `POST /flush` after ingest: every span into segments.
    pub flush_s: f64,
    pub flush_cpu_s: f64,
    pub segments: u64,
    /// data.parquet + index + meta.json of every segment (file sizes).
    pub segment_bytes: u64,
    pub parquet_bytes: u64,
    pub data_files: Vec<PathBuf>,
    /// The traces WAL after the flush (allocated blocks).
    pub wal_bytes: u64,
    pub data_bytes: u64,
    /// VmHWM after the flush and the queries.
    pub peak_rss_query: u64,
    /// Lookups by id: seconds each; those whose span count was not the
    /// sent one (id, spans answered, spans sent).
    pub by_id_s: Vec<f64>,
    pub by_id_wrong: Vec<(String, u64, u32)>,
    pub by_id_error: Option<String>,
    pub searches: Vec<SearchRun>,
}

/// One run: Argus, then DuckDB on its segments.
#[derive(Debug, Default, Clone)]
pub(crate) struct Run {
    pub argus: ArgusRun,
    pub duck: DuckRun,
}

pub(crate) fn run(a: TracesArgs) -> Result<()> {
    let spans = parse_count(&a.spans)?;
    let window_ms = crate::parse_interval(&a.window)?;
    let compression = Compression::parse(&a.compression)?;
    std::fs::create_dir_all(&a.workdir)?;
    let bin = std::fs::canonicalize(&a.argus_bin).with_context(|| {
        format!(
            "{} (build with cargo build --release -p argus)",
            a.argus_bin.display()
        )
    })?;
    let tmp = tempfile::Builder::new()
        .prefix("argus-bench-traces-")
        .tempdir_in(&a.workdir)?;
    let threads = a.gen_threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let end_ns = crate::now_ms() * 1_000_000;
    let start_ns = end_ns - window_ms * 1_000_000;
    eprintln!(
        "==> generating {spans} spans over the last {} (seed {}, {threads} threads)",
        a.window, a.seed
    );
    let p = push::prepare(
        a.seed,
        spans,
        (start_ns, end_ns),
        a.batch_spans,
        a.concurrency,
        compression,
        threads,
    )?;
    eprintln!(
        "    {} spans in {} traces ({} with an error), {} requests, {:.1} MB of protobuf ({:.1} MB on the wire, {:.1} MB held), in {:.1}s",
        p.spans,
        p.traces,
        p.error_traces,
        p.requests,
        p.proto_bytes as f64 / 1e6,
        p.wire_bytes as f64 / 1e6,
        p.held_bytes as f64 / 1e6,
        p.gen_s
    );
    let searches = queries::searches();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()?;
    let mut runs = Vec::new();
    for r in 0..a.runs.max(1) {
        eprintln!("==> run {}/{}", r + 1, a.runs.max(1));
        let dir = tmp.path().join(format!("argus-{r}"));
        // The traces looked up: the same for Argus and DuckDB, the first
        // one untimed.
        let mut rng = Rng::derive(a.seed, &[r as u64, 0x7ace]);
        let ids: Vec<(String, u32)> = (0..=a.by_id_reps())
            .map(|_| {
                let (id, n) = p.sample[rng.below(p.sample.len() as u64) as usize];
                (queries::hex(&id), n)
            })
            .collect();
        let ar = argus_run(&a, &p, &bin, &dir, &ids, &searches, r == 0, &client)?;
        eprintln!("    DuckDB");
        let hex_ids: Vec<String> = ids.iter().map(|(h, _)| h.clone()).collect();
        let mut duck = duck::run(
            &a.python,
            &ar.data_files,
            tmp.path(),
            &hex_ids,
            &searches,
            a.search_reps(),
        )
        .unwrap_or_else(|e| {
            eprintln!("    DuckDB FAILED: {e:#}");
            DuckRun {
                error: Some(format!("{e:#}")),
                ..Default::default()
            }
        });
        // The first lookup warmed up, as Argus's.
        if !duck.by_id_s.is_empty() {
            duck.by_id_s.remove(0);
            duck.by_id_rows.remove(0);
        }
        duck.by_id_wrong = duck
            .by_id_rows
            .iter()
            .zip(&ids[1..])
            .filter(|(got, (_, sent))| **got != u64::from(*sent))
            .count() as u64;
        eprintln!(
            "    DuckDB: {} rows, {} bytes ({:.1} B/span), loaded in {:.1}s; by id p50 {:.1} ms; searches {:?} ms; counts {:?}",
            duck.rows,
            duck.file_bytes,
            duck.file_bytes as f64 / p.spans as f64,
            duck.load_s,
            crate::report::median(&duck.by_id_s) * 1e3,
            duck.search_s
                .iter()
                .map(|v| (crate::report::median(v) * 1e4).round() / 10.0)
                .collect::<Vec<_>>(),
            duck.search_count
        );
        if !a.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        runs.push(Run { argus: ar, duck });
    }
    let text = report::render(&a, &p, &searches, &runs);
    println!("{text}");
    if a.out != "-" {
        crate::report::append(&a.out, &text)?;
        eprintln!("==> appended to {}", a.out);
    }
    if a.keep {
        let kept = tmp.keep();
        eprintln!("    kept {}", kept.display());
    }
    Ok(())
}

fn argus_config(fsync: &str, generator: bool) -> String {
    format!(
        "tsdb:\n  wal_fsync: {fsync}\n  maintenance_interval: 5s\ntraces:\n  max_head_age: 15m\nmetrics_generator:\n  enabled: {generator}\nquery:\n  timeout: 15m\n"
    )
}

/// The segments under `blocks`: (count, bytes of their files, bytes of
/// their data files, the data files).
fn segments(blocks: &Path) -> (u64, u64, u64, Vec<PathBuf>) {
    let mut out = (0, 0, 0, Vec::new());
    let Ok(rd) = std::fs::read_dir(blocks) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for d in dirs {
        let data = d.join(argus_traces::segment::DATA_FILE);
        if !d.join(argus_traces::segment::META_FILE).exists() || !data.exists() {
            continue;
        }
        out.0 += 1;
        for f in argus_traces::segment::FILES {
            out.1 += std::fs::metadata(d.join(f)).map_or(0, |m| m.len());
        }
        out.2 += std::fs::metadata(&data).map_or(0, |m| m.len());
        out.3.push(data);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn argus_run(
    a: &TracesArgs,
    p: &Prepared,
    bin: &Path,
    dir: &Path,
    ids: &[(String, u32)],
    searches: &[Search],
    count_all: bool,
    client: &reqwest::blocking::Client,
) -> Result<ArgusRun> {
    let mut srv = Server::new(Kind::Argus, bin, dir.to_path_buf(), "")?;
    std::fs::write(
        dir.join("argus.yaml"),
        argus_config(&a.argus_fsync, !a.no_metrics_generator),
    )?;
    let tenant = TenantId::new("anonymous").map_err(|e| anyhow::anyhow!("{e}"))?;
    let data = DataDir::new(srv.data_dir());
    let blocks = data
        .default_objects()
        .join(key::blocks(&tenant, Signal::Traces));
    let wal = data.wal(&tenant, Signal::Traces);
    srv.start(client)?;
    let pid = srv.pid().context("running")?.to_string();
    let me = std::process::id().to_string();
    let mut r = ArgusRun::default();
    let (cpu0, gen0) = (server::cpu_seconds(&pid)?, server::cpu_seconds(&me)?);
    let res = push::drive(&srv.url("/v1/traces"), p, client);
    r.cpu_s = server::cpu_seconds(&pid)? - cpu0;
    r.loadgen_cpu_s = server::cpu_seconds(&me)? - gen0;
    r.ingest_s = res.wall.as_secs_f64();
    r.requests = res.requests;
    r.failed = res.failed;
    r.retries = res.retries;
    r.first_error = res.first_error.clone();
    r.peak_rss_ingest = server::rss(srv.pid().context("running")?)?.0;
    r.wal_bytes_ingest = server::disk_usage(&wal, &[]);
    let n = p.spans as f64;
    eprintln!(
        "    Argus ingest: {:.1}s, {:.0} spans/s, CPU {:.1}s ({:.0} spans/s per core), peak RSS {} MiB, {} requests ({} retries, {} failed{})",
        r.ingest_s,
        n / r.ingest_s,
        r.cpu_s,
        n / r.cpu_s,
        r.peak_rss_ingest >> 20,
        r.requests,
        r.retries,
        r.failed,
        r.first_error
            .as_ref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    (r.flush_s, r.flush_cpu_s) = srv.flush(client)?;
    (r.segments, r.segment_bytes, r.parquet_bytes, r.data_files) = segments(&blocks);
    r.wal_bytes = server::disk_usage(&wal, &[]);
    r.data_bytes = server::disk_usage(&srv.data_dir(), &[]);
    eprintln!(
        "    Argus flushed in {:.1}s ({:.1}s CPU; {:.0} spans/s per core with the flush): {} segments, {} bytes ({:.1} B/span), traces WAL {} bytes",
        r.flush_s,
        r.flush_cpu_s,
        n / (r.cpu_s + r.flush_cpu_s),
        r.segments,
        r.segment_bytes,
        r.segment_bytes as f64 / n,
        r.wal_bytes
    );
    // Trace by id, no time range: a different trace each time.
    let base = srv.url("");
    for (i, (id, sent)) in ids.iter().enumerate() {
        match queries::trace_by_id(client, &base, id) {
            Ok((secs, got)) => {
                if i > 0 {
                    r.by_id_s.push(secs);
                }
                if got != u64::from(*sent) {
                    r.by_id_wrong.push((id.clone(), got, *sent));
                }
            }
            Err(e) => {
                r.by_id_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    eprintln!(
        "    trace by id: p50 {:.1} ms, p99 {:.1} ms ({} wrong{})",
        crate::report::percentile(&r.by_id_s, 0.5) * 1e3,
        crate::report::percentile(&r.by_id_s, 0.99) * 1e3,
        r.by_id_wrong.len(),
        r.by_id_error
            .as_ref()
            .map(|e| format!(", error: {e}"))
            .unwrap_or_default()
    );
    for s in searches {
        let mut sr = SearchRun::default();
        match queries::search(client, &base, s.traceql, LIMIT) {
            Ok(first) => {
                for _ in 0..a.search_reps() {
                    match queries::search(client, &base, s.traceql, LIMIT) {
                        Ok(x) => sr.secs.push(x.secs),
                        Err(e) => {
                            sr.error.get_or_insert(format!("{e:#}"));
                        }
                    }
                }
                sr.first = Some(first);
                // Every match, for the count DuckDB is checked against
                // (the first run only: each match is read whole again).
                if count_all {
                    match queries::search(client, &base, s.traceql, 1_000_000) {
                        Ok(x) => sr.all = Some(x),
                        Err(e) => {
                            sr.error.get_or_insert(format!("{e:#}"));
                        }
                    }
                }
            }
            Err(e) => sr.error = Some(format!("{e:#}")),
        }
        eprintln!(
            "    ({}) {} traces (all matches: {}), median {:.1} ms{}",
            s.name,
            sr.first.as_ref().map_or(0, |x| x.traces),
            sr.all.as_ref().map_or("?".into(), |x| format!(
                "{} traces, counted in {:.1}s",
                x.traces, x.secs
            )),
            crate::report::median(&sr.secs) * 1e3,
            sr.error
                .as_ref()
                .map(|e| format!(", error: {e}"))
                .unwrap_or_default()
        );
        r.searches.push(sr);
    }
    r.peak_rss_query = server::rss(srv.pid().context("running")?)?.0;
    srv.stop()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(parse_count("10M").unwrap(), 10_000_000);
        assert_eq!(parse_count("200k").unwrap(), 200_000);
        assert_eq!(parse_count("1.5M").unwrap(), 1_500_000);
        assert_eq!(parse_count("2000").unwrap(), 2000);
        assert!(parse_count("x").is_err() && parse_count("0").is_err());
    }
}
