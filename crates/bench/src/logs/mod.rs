//! `argus-bench logs`: a generated realistic logs corpus (access logs,
//! JSON application logs with trace ids, syslog; a few hundred streams; a
//! planted rare token) ingested into Argus through Loki push, then stored
//! bytes and the latency of four LogQL queries, beside `zstd -3` and
//! `zstd -dc | grep -F` of the raw corpus and DuckDB holding the same lines.
//! See `bench/run logs` and BENCHMARKS.md.

mod corpus;
mod lines;
mod push;
mod queries;
mod report;
mod side;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use argus_model::paths::{key, DataDir};
use argus_model::{Signal, TenantId};

use crate::server::{self, Kind, Server};
use queries::Answer;
use side::{DuckRun, ZstdRun};

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct LogsArgs {
    /// Raw corpus size (lines and newlines): e.g. 50M, 2G (binary units).
    #[arg(long, default_value = "2G")]
    bytes: String,
    /// Streams (label sets).
    #[arg(long, default_value_t = 300)]
    streams: usize,
    /// Time span of the corpus, ending a few minutes before now.
    #[arg(long, default_value = "24h")]
    span: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Independent runs (fresh Argus data directory each); medians reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Timed repetitions of each query (and of the grep pipelines).
    #[arg(long, default_value_t = 5)]
    query_reps: usize,
    /// Lines per push request, in bytes (e.g. 1M).
    #[arg(long, default_value = "1M")]
    batch: String,
    /// Concurrent push senders.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Argus's WAL fsync policy (its default is `always`).
    #[arg(long, default_value = "always")]
    argus_fsync: String,
    #[arg(long, default_value = "target/release/argus")]
    argus_bin: PathBuf,
    /// The Python with the duckdb package.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Where the corpus and the data directories go (fresh temporary
    /// directories inside, deleted at the end unless --keep).
    #[arg(long, default_value = "/tmp")]
    workdir: PathBuf,
    /// Keep (and reuse, when the parameters match) the corpus in this
    /// directory instead of a temporary one.
    #[arg(long)]
    corpus_dir: Option<PathBuf>,
    /// Results file (appended to); `-` to only print.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: String,
    /// Keep the data directories and the corpus.
    #[arg(long)]
    keep: bool,
    /// No Argus: the corpus, zstd/grep and DuckDB only; the report is
    /// printed, not appended.
    #[arg(long)]
    dry_run: bool,
}

/// `50M`, `2G`, `1GiB`, `1048576`: bytes (K, M, G, T are powers of 1024).
pub(crate) fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        Some('T' | 't') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().with_context(|| format!("size {s:?}"))?;
    if n.is_nan() || n <= 0.0 {
        bail!("size {s:?} must be positive");
    }
    Ok((n * mult as f64) as u64)
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
    /// `POST /flush` after ingest: every line into segments.
    pub flush_s: f64,
    pub flush_cpu_s: f64,
    /// After the flush, until the segments stopped changing (compaction).
    pub settle_s: f64,
    pub settle_cpu_s: f64,
    pub flush_settled: bool,
    pub segment_bytes: u64,
    pub segment_files: u64,
    pub wal_bytes: u64,
    pub data_bytes: u64,
    /// VmHWM of the process after the flush and the queries.
    pub peak_rss_query: u64,
    /// Per query: timed repetitions (s), the first answer, an error.
    pub query_s: Vec<Vec<f64>>,
    pub answers: Vec<Option<Answer>>,
    pub errors: Vec<Option<String>>,
}

/// One run: Argus (unless a dry run) and the references.
#[derive(Debug, Default, Clone)]
pub(crate) struct Run {
    pub argus: Option<ArgusRun>,
    pub zstd: ZstdRun,
    pub duck: DuckRun,
}

fn now_ms() -> i64 {
    crate::now_ms()
}

pub(crate) fn run(a: LogsArgs) -> Result<()> {
    let target = parse_size(&a.bytes)?;
    let batch = parse_size(&a.batch)? as usize;
    let span_ms = crate::parse_interval(&a.span)?;
    std::fs::create_dir_all(&a.workdir)?;
    let argus_bin = if a.dry_run {
        None
    } else {
        Some(std::fs::canonicalize(&a.argus_bin).with_context(|| {
            format!(
                "{} (build with cargo build --release -p argus)",
                a.argus_bin.display()
            )
        })?)
    };
    let tmp = tempfile::Builder::new()
        .prefix("argus-bench-logs-")
        .tempdir_in(&a.workdir)?;
    let corpus_dir = a
        .corpus_dir
        .clone()
        .unwrap_or_else(|| tmp.path().join("corpus"));
    // Whole minutes, ending 5 minutes ago: all in the past.
    let end_ms = now_ms() / 60_000 * 60_000 - 5 * 60_000;
    eprintln!(
        "==> corpus: {} raw bytes, {} streams over {}, seed {} in {}",
        target,
        a.streams,
        a.span,
        a.seed,
        corpus_dir.display()
    );
    let t0 = Instant::now();
    let c = corpus::generate(&corpus_dir, a.seed, target, a.streams, span_ms, end_ms)?;
    let gen_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "    {} lines, {} bytes in {:.1}s",
        c.meta.lines, c.meta.raw_bytes, gen_s
    );
    let defs = corpus::streams(a.seed, a.streams);
    let qs = queries::queries();
    let prepared = if a.dry_run {
        None
    } else {
        let p = push::prepare(&c, &defs, batch, a.concurrency)?;
        eprintln!(
            "    {} push requests, {:.1} MB of snappy protobuf",
            p.requests,
            p.body_bytes as f64 / 1e6
        );
        Some(p)
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()?;
    let mut runs = Vec::new();
    for r in 0..a.runs.max(1) {
        eprintln!("==> run {}/{}", r + 1, a.runs.max(1));
        let mut run = Run::default();
        if let (Some(bin), Some(p)) = (&argus_bin, &prepared) {
            let dir = tmp.path().join(format!("argus-{r}"));
            let ar = argus_run(&a, &c, p, bin, &dir, &qs, &client)?;
            if !a.keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
            run.argus = Some(ar);
        }
        eprintln!("    zstd -3 and grep");
        run.zstd = side::zstd(&c, tmp.path(), a.query_reps)?;
        eprintln!(
            "    zstd: {} bytes in {:.1}s; zstd -dc | grep -F: {:.2}s",
            run.zstd.compressed_bytes,
            run.zstd.compress_s,
            report::median(&run.zstd.grep_zst_s)
        );
        eprintln!("    DuckDB");
        run.duck = side::duckdb(&a.python, &c, tmp.path(), &qs, a.query_reps).unwrap_or_else(|e| {
            eprintln!("    DuckDB FAILED: {e:#}");
            DuckRun {
                error: Some(format!("{e:#}")),
                ..Default::default()
            }
        });
        eprintln!(
            "    DuckDB: {} rows, {} bytes, loaded in {:.1}s; queries {:?} s",
            run.duck.rows,
            run.duck.file_bytes,
            run.duck.load_s,
            run.duck
                .query_s
                .iter()
                .map(|v| (report::median(v) * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
        runs.push(run);
    }
    let text = report::render(&a, &c, gen_s, prepared.as_ref(), &qs, &runs);
    println!("{text}");
    if a.dry_run {
        eprintln!("==> dry run: not appended");
    } else if a.out != "-" {
        crate::report::append(&a.out, &text)?;
        eprintln!("==> appended to {}", a.out);
    }
    if a.keep {
        let p = tmp.keep();
        eprintln!("    kept {}", p.display());
    }
    Ok(())
}

fn argus_config(fsync: &str, max_head_age: &str) -> String {
    format!(
        "tsdb:\n  wal_fsync: {fsync}\n  maintenance_interval: 5s\nlogs:\n  max_head_age: {max_head_age}\nquery:\n  timeout: 15m\n"
    )
}

/// Bytes, files under `dir` (allocated blocks, as `du`).
fn files_under(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                files_under(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn argus_run(
    a: &LogsArgs,
    c: &corpus::Corpus,
    p: &push::Prepared,
    bin: &Path,
    dir: &Path,
    qs: &[queries::LogQuery],
    client: &reqwest::blocking::Client,
) -> Result<ArgusRun> {
    let mut srv = Server::new(Kind::Argus, bin, dir.to_path_buf(), "")?;
    let cfg = dir.join("argus.yaml");
    std::fs::write(&cfg, argus_config(&a.argus_fsync, "15m"))?;
    let tenant = TenantId::new("anonymous").map_err(|e| anyhow::anyhow!("{e}"))?;
    let data = DataDir::new(srv.data_dir());
    let segments = data
        .default_objects()
        .join(key::signal(&tenant, Signal::Logs));
    let wal = data.wal(&tenant, Signal::Logs);
    let staging = data.staging(&tenant, Signal::Logs);
    srv.start(client)?;
    let pid = srv.pid().context("running")?.to_string();
    let me = std::process::id().to_string();
    let mut r = ArgusRun::default();
    let (cpu0, gen0) = (server::cpu_seconds(&pid)?, server::cpu_seconds(&me)?);
    let res = push::drive(&srv.url("/loki/api/v1/push"), p, client)?;
    r.cpu_s = server::cpu_seconds(&pid)? - cpu0;
    r.loadgen_cpu_s = server::cpu_seconds(&me)? - gen0;
    r.ingest_s = res.wall.as_secs_f64();
    r.requests = res.requests;
    r.failed = res.failed;
    r.retries = res.retries;
    r.first_error = res.first_error.clone();
    r.peak_rss_ingest = server::rss(srv.pid().context("running")?)?.0;
    r.wal_bytes_ingest = server::disk_usage(&wal, &[]);
    eprintln!(
        "    Argus ingest: {:.1}s, {:.1} MB/s, CPU {:.1}s ({:.1} MB/s per core), peak RSS {} MiB, {} requests ({} retries, {} failed{})",
        r.ingest_s,
        c.meta.raw_bytes as f64 / 1e6 / r.ingest_s,
        r.cpu_s,
        c.meta.raw_bytes as f64 / 1e6 / r.cpu_s,
        r.peak_rss_ingest >> 20,
        r.requests,
        r.retries,
        r.failed,
        r.first_error
            .as_ref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    // Everything into segments: `POST /flush` (Loki's ingester endpoint)
    // answers once the head is written, uploaded and installed; then wait
    // until compaction has settled (segments, staging and WAL unchanged).
    (r.flush_s, r.flush_cpu_s) = srv.flush(client)?;
    let cpu1 = server::cpu_seconds(&pid)?;
    let t_ready = Instant::now();
    let state = || {
        (
            server::disk_usage(&segments, &[]),
            files_under(&segments),
            server::disk_usage(&staging, &[]),
            server::disk_usage(&wal, &[]),
        )
    };
    let (mut last, mut since) = (state(), Instant::now());
    let mut last_change = t_ready;
    let deadline = t_ready + Duration::from_secs(1800);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let s = state();
        if s != last {
            last = s;
            since = Instant::now();
            last_change = since;
        } else if since.elapsed() > Duration::from_secs(20) && s.0 > 0 {
            r.flush_settled = true;
            break;
        }
    }
    r.settle_s = last_change.duration_since(t_ready).as_secs_f64();
    r.settle_cpu_s = server::cpu_seconds(&pid)? - cpu1;
    r.segment_bytes = server::disk_usage(&segments, &[]);
    r.segment_files = files_under(&segments);
    r.wal_bytes = server::disk_usage(&wal, &[]);
    r.data_bytes = server::disk_usage(&srv.data_dir(), &[]);
    eprintln!(
        "    Argus flushed in {:.1}s ({:.1}s CPU), compaction settled after {:.1}s ({:.1}s CPU, {}settled): segments {} bytes in {} files ({:.3}× raw), WAL {} bytes",
        r.flush_s,
        r.flush_cpu_s,
        r.settle_s,
        r.settle_cpu_s,
        if r.flush_settled { "" } else { "NOT " },
        r.segment_bytes,
        r.segment_files,
        r.segment_bytes as f64 / c.meta.raw_bytes as f64,
        r.wal_bytes
    );
    let range = queries::range_ns(c.meta.start_ns, c.meta.end_ns);
    for q in qs {
        let first = queries::run(client, &srv.url(""), q, range);
        let mut times = Vec::new();
        match &first {
            Ok(ans) => {
                for _ in 0..a.query_reps.max(1) {
                    if let Ok(x) = queries::run(client, &srv.url(""), q, range) {
                        times.push(x.secs);
                    }
                }
                eprintln!(
                    "    ({}) {} results, median {:.3}s",
                    q.name,
                    ans.results,
                    report::median(&times)
                );
            }
            Err(e) => eprintln!("    ({}) FAILED: {e}", q.name),
        }
        r.query_s.push(times);
        r.errors.push(first.as_ref().err().map(|e| e.to_string()));
        r.answers.push(first.ok());
    }
    r.peak_rss_query = server::rss(srv.pid().context("running")?)?.0;
    srv.stop()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("50M").unwrap(), 50 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("1.5K").unwrap(), 1536);
        assert!(parse_size("x").is_err() && parse_size("0").is_err());
    }

    #[test]
    fn the_queries_parse_as_logql() {
        for q in queries::queries() {
            argus_logql::parse(&q.logql).unwrap_or_else(|e| panic!("{}: {e}", q.logql));
        }
    }
}
