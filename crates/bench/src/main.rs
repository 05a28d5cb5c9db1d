//! `argus-bench metrics`: starts Argus and Prometheus side by side on
//! loopback, sends both the same deterministic remote-write load, and
//! compares ingest throughput, CPU, memory, disk, query latency and restart
//! time. `argus-bench logs`: a generated logs corpus through Loki push,
//! beside `zstd`/`grep` and DuckDB ([`logs`]). `argus-bench traces`:
//! generated traces over OTLP/HTTP, beside DuckDB ([`traces`]). See `bench/run` and
//! BENCHMARKS.md.

mod duckpy;
mod engine;
mod gen;
mod load;
mod logs;
mod longq;
mod queries;
mod report;
mod rng;
mod send;
mod server;
mod traces;
mod ui;
mod wire;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::gen::{Workload, SERIES_PER_TARGET};
use crate::load::LoadOptions;
use crate::queries::{Window, QUERIES};
use crate::server::{Kind, Server};

#[derive(Parser, Debug)]
#[command(name = "argus-bench", about = "Benchmarks Argus against Prometheus")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Metrics: remote-write ingest, resources, disk, queries, restart.
    Metrics(MetricsArgs),
    /// Logs: a generated corpus through Loki push; stored bytes and LogQL
    /// latency beside zstd/grep and DuckDB.
    Logs(logs::LogsArgs),
    /// Traces: generated traces over OTLP/HTTP; ingest per core, bytes per
    /// span, trace by id and TraceQL latency beside DuckDB.
    Traces(traces::TracesArgs),
    /// The web UI in headless Chromium: page load, the 50 × 10k chart,
    /// scrolling 5,000 log lines, the waterfall (the end-to-end scenarios'
    /// measurements over a release build).
    Ui(ui::UiArgs),
    /// Heap held by the in-memory head per series, without a server.
    HeadMemory(engine::HeadMemArgs),
    /// Only send the workload to a running server's remote-write URL (for
    /// profiling a server started by hand).
    Load(LoadArgs),
    /// Time to reopen (replay the WAL of) a database, without a server.
    WalReplay(engine::ReplayArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Active series (rounded up to a multiple of 100: one target = 100 series).
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    /// Points per series.
    #[arg(long, default_value_t = 1440)]
    points: usize,
    /// Scrape interval: time between a series' points.
    #[arg(long, default_value = "15s")]
    interval: String,
    /// Fraction of targets (pods) replaced at each churn step.
    #[arg(long, default_value_t = 0.0)]
    churn: f64,
    /// Points between churn steps.
    #[arg(long, default_value_t = 240)]
    churn_every: usize,
    /// Series (× 1 sample) per remote-write request.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Independent runs (fresh data directories each); min/median/max reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Timed repetitions of each query.
    #[arg(long, default_value_t = 5)]
    query_reps: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Request encoder: `fast` (labels pre-encoded once per series) or
    /// `prost` (`argus_ingest::remote_write::encode_v1` per request; same
    /// bytes on the wire, more load-generator CPU).
    #[arg(long, default_value = "fast", value_parser = ["fast", "prost"])]
    encoder: String,
    /// Argus's WAL fsync policy (its default is `always`).
    #[arg(long, default_value = "always")]
    argus_fsync: String,
    #[arg(long, default_value = "target/release/argus")]
    argus_bin: PathBuf,
    #[arg(long, default_value = "prometheus")]
    prometheus_bin: String,
    /// Where the servers' data directories go (a fresh temporary directory inside).
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Results file (appended to); `-` to only print.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: String,
    /// Keep the data directories.
    #[arg(long)]
    keep: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Metrics(a) => metrics(a),
        Cmd::Logs(a) => logs::run(a),
        Cmd::Traces(a) => traces::run(a),
        Cmd::Ui(a) => ui::run(a),
        Cmd::HeadMemory(a) => engine::run(a),
        Cmd::WalReplay(a) => engine::replay(a),
        Cmd::Load(a) => load_only(a),
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// Remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write.
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    #[arg(long, default_value_t = 1440)]
    points: usize,
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn load_only(a: LoadArgs) -> Result<()> {
    let interval_ms = 15_000;
    let w = Workload {
        seed: a.seed,
        targets: a.series.div_ceil(SERIES_PER_TARGET),
        points: a.points,
        interval_ms,
        start_ms: now_ms() - a.points as i64 * interval_ms,
        churn: 0.0,
        churn_every: 0,
    };
    let r = load::drive(
        &a.url,
        &w,
        LoadOptions {
            batch: a.batch,
            concurrency: a.concurrency,
            prost: false,
        },
    )?;
    println!(
        "{} samples in {:.1}s, {} requests ({} failed)",
        r.samples_sent,
        r.wall.as_secs_f64(),
        r.requests,
        r.failed_requests
    );
    Ok(())
}

fn parse_interval(s: &str) -> Result<i64> {
    let d = argus_model::parse_duration(s).map_err(|e| anyhow::anyhow!("--interval {s}: {e}"))?;
    Ok(d.as_millis() as i64)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

fn which(prog: &str) -> Result<PathBuf> {
    if prog.contains('/') {
        return Ok(PathBuf::from(prog));
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {prog}"))
        .output()?;
    if !out.status.success() {
        bail!("{prog} not found (bench/run installs it with apt-get)");
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

/// What one run measured for one system.
#[derive(Debug, Default, Clone)]
pub struct SysRun {
    pub samples_sent: u64,
    pub samples_appended: f64,
    pub failed_requests: u64,
    pub first_error: Option<String>,
    pub ingest_s: f64,
    pub server_cpu_s: f64,
    pub loadgen_cpu_s: f64,
    pub peak_rss: u64,
    pub rss_after: u64,
    pub blocks: usize,
    pub block_samples: u64,
    pub block_bytes: u64,
    pub all_bytes: u64,
    /// The WAL alone: Argus `<data>/tenants/*/metrics/wal`, Prometheus `<data>/wal`.
    pub wal_bytes: u64,
    pub compaction_done: bool,
    pub query_lat: Vec<f64>,
    pub per_query: Vec<f64>,
    pub restart_s: f64,
    /// The long-range query phase ([`longq`]), one per
    /// [`longq::LONG_QUERIES`].
    pub long: [longq::LongQuery; 2],
}

impl SysRun {
    pub fn throughput(&self) -> f64 {
        self.samples_sent as f64 / self.ingest_s
    }
    pub fn cpu_per_m(&self) -> f64 {
        self.server_cpu_s / (self.samples_sent as f64 / 1e6)
    }
}

#[derive(Debug, Default, Clone)]
pub struct Run {
    pub argus: SysRun,
    pub prom: SysRun,
    /// (query index, description) of results that differed.
    pub mismatches: Vec<(usize, String)>,
}

fn metrics(a: MetricsArgs) -> Result<()> {
    let interval_ms = parse_interval(&a.interval)?;
    let targets = a.series.div_ceil(SERIES_PER_TARGET).max(1);
    let argus_bin = std::fs::canonicalize(&a.argus_bin).with_context(|| {
        format!(
            "{} (build with cargo build --release -p argus)",
            a.argus_bin.display()
        )
    })?;
    let prom_bin = which(&a.prometheus_bin)?;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut runs = Vec::new();
    for r in 0..a.runs {
        // Data ends just before now: all in the past, all accepted. Samples
        // sit 7.5 s past a 15 s grid and queries are evaluated at :30 of a
        // minute, so no sample is ever exactly on a range or lookback
        // boundary (see `queries::Window`).
        let end = now_ms() / 60_000 * 60_000 - 60_000 + 7_500;
        let w = Workload {
            seed: a.seed,
            targets,
            points: a.points,
            interval_ms,
            start_ms: end - (a.points as i64 - 1) * interval_ms,
            churn: a.churn,
            churn_every: a.churn_every,
        };
        eprintln!(
            "==> run {}/{}: {} active series × {} points = {} samples per system",
            r + 1,
            a.runs,
            w.active_series(),
            w.points,
            w.total_samples()
        );
        runs.push(one_run(&a, &w, r, &argus_bin, &prom_bin, &client)?);
        let last = runs.last().expect("pushed");
        eprintln!(
            "    Argus {:.0} samples/s, Prometheus {:.0} samples/s; {} query mismatches",
            last.argus.throughput(),
            last.prom.throughput(),
            last.mismatches.len()
        );
    }
    let w = Workload {
        seed: a.seed,
        targets,
        points: a.points,
        interval_ms,
        start_ms: 0,
        churn: a.churn,
        churn_every: a.churn_every,
    };
    let text = report::render(&a, &w, &runs, &prom_bin);
    println!("{text}");
    if a.out != "-" {
        report::append(&a.out, &text)?;
        eprintln!("==> appended to {}", a.out);
    }
    Ok(())
}

fn one_run(
    a: &MetricsArgs,
    w: &Workload,
    run: usize,
    argus_bin: &std::path::Path,
    prom_bin: &std::path::Path,
    client: &reqwest::blocking::Client,
) -> Result<Run> {
    let tmp = match &a.workdir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::Builder::new()
                .prefix("argus-bench-")
                .tempdir_in(d)?
        }
        None => tempfile::Builder::new().prefix("argus-bench-").tempdir()?,
    };
    eprintln!("    data under {}", tmp.path().display());
    let mut argus = Server::new(
        Kind::Argus,
        argus_bin,
        tmp.path().join("argus"),
        &format!("  wal_fsync: {}\n", a.argus_fsync),
    )?;
    let mut prom = Server::new(
        Kind::Prometheus,
        prom_bin,
        tmp.path().join("prometheus"),
        "",
    )?;
    argus.start(client)?;
    prom.start(client)?;
    let mut out = Run::default();
    let opt = LoadOptions {
        batch: a.batch,
        concurrency: a.concurrency,
        prost: a.encoder == "prost",
    };
    // Alternate who goes first, so neither always gets the cooler machine.
    let order = if run % 2 == 0 {
        [Kind::Argus, Kind::Prometheus]
    } else {
        [Kind::Prometheus, Kind::Argus]
    };
    for k in order {
        let (srv, res) = match k {
            Kind::Argus => (&argus, &mut out.argus),
            Kind::Prometheus => (&prom, &mut out.prom),
        };
        ingest(srv, w, opt, res, client)?;
    }
    // Blocks: wait until both have cut what they will cut.
    let deadline = Instant::now() + Duration::from_secs(300);
    let span_ms = w.end_ms() - w.start_ms;
    let expect_blocks = span_ms > 3 * 3_600_000;
    if !expect_blocks {
        eprintln!("    data spans ≤ 3h: no blocks will be cut (use more --points)");
    }
    // Per system: the blocks last seen and since when they have not changed.
    type Seen = (Vec<(i64, i64, u64)>, Instant);
    let mut last: [Seen; 2] = [(Vec::new(), Instant::now()), (Vec::new(), Instant::now())];
    let dirs = [
        argus_model::paths::DataDir::new(argus.data_dir()).default_objects(),
        prom.data_dir(),
    ];
    let mut done = [!expect_blocks, !expect_blocks];
    while expect_blocks && !(done[0] && done[1]) && Instant::now() < deadline {
        for i in 0..2 {
            let b = server::blocks(&dirs[i]);
            if b != last[i].0 {
                last[i] = (b, Instant::now());
            }
            let newest = last[i].0.iter().map(|x| x.1).max();
            done[i] = newest.is_some_and(|mt| w.end_ms() - mt <= 3 * 3_600_000)
                && last[i].1.elapsed() > Duration::from_secs(15);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    for (i, res) in [&mut out.argus, &mut out.prom].into_iter().enumerate() {
        let b = server::blocks(&dirs[i]);
        res.blocks = b.len();
        res.block_samples = b.iter().map(|x| x.2).sum();
        res.compaction_done = done[i];
    }
    out.argus.block_bytes = server::disk_usage(&dirs[0], &[]);
    out.argus.all_bytes = server::disk_usage(&argus.data_dir(), &[]);
    out.prom.block_bytes = server::disk_usage(&dirs[1], &["wal", "chunks_head"]);
    out.prom.all_bytes = server::disk_usage(&dirs[1], &[]);
    let data = argus_model::paths::DataDir::new(argus.data_dir());
    out.argus.wal_bytes = std::fs::read_dir(data.tenants())
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| argus_model::TenantId::new(&e.file_name().to_string_lossy()).ok())
                .map(|t| server::disk_usage(&data.wal(&t, argus_model::Signal::Metrics), &[]))
                .sum()
        })
        .unwrap_or(0);
    out.prom.wal_bytes = server::disk_usage(&dirs[1].join("wal"), &[]);
    for (srv, res) in [(&argus, &mut out.argus), (&prom, &mut out.prom)] {
        let (peak, now) = server::rss(srv.pid().context("running")?)?;
        res.peak_rss = peak;
        res.rss_after = now;
    }
    eprintln!(
        "    blocks: Argus {} ({} samples), Prometheus {} ({} samples)",
        out.argus.blocks, out.argus.block_samples, out.prom.blocks, out.prom.block_samples
    );
    // Queries: compare, then time.
    let window = Window::for_data(w.start_ms, w.end_ms());
    for (i, q) in QUERIES.iter().enumerate() {
        let ra = queries::run(client, &argus.url(""), q, window);
        let rp = queries::run(client, &prom.url(""), q, window);
        let diff = match (ra, rp) {
            (Ok((ba, _)), Ok((bp, _))) => {
                match (queries::normalise(&ba), queries::normalise(&bp)) {
                    (Ok(na), Ok(np)) => {
                        if np.is_empty() {
                            eprintln!("    note: query {} is empty on Prometheus", i + 1);
                        }
                        queries::compare(&na, &np)
                    }
                    (Err(e), _) => Some(format!("Argus answer unreadable: {e}")),
                    (_, Err(e)) => Some(format!("Prometheus answer unreadable: {e}")),
                }
            }
            (Err(e), _) => Some(format!("Argus failed: {e}")),
            (_, Err(e)) => Some(format!("Prometheus failed: {e}")),
        };
        if let Some(d) = diff {
            eprintln!("    MISMATCH q{}: {}: {d}", i + 1, q.expr);
            out.mismatches.push((i, d));
        }
    }
    out.argus.per_query = vec![0.0; QUERIES.len()];
    out.prom.per_query = vec![0.0; QUERIES.len()];
    for (i, q) in QUERIES.iter().enumerate() {
        let mut la = Vec::new();
        let mut lp = Vec::new();
        for rep in 0..a.query_reps {
            let pair = if rep % 2 == 0 {
                [(&argus, &mut la), (&prom, &mut lp)]
            } else {
                [(&prom, &mut lp), (&argus, &mut la)]
            };
            for (srv, lat) in pair {
                if let Ok((_, d)) = queries::run(client, &srv.url(""), q, window) {
                    lat.push(d.as_secs_f64());
                }
            }
        }
        out.argus.per_query[i] = report::percentile(&la, 0.5);
        out.prom.per_query[i] = report::percentile(&lp, 0.5);
        out.argus.query_lat.extend(la);
        out.prom.query_lat.extend(lp);
    }
    // The long-range query (every raw sample of every series), one system
    // at a time: peak RSS while it runs alone and 8 at once.
    // The fair query (last_over_time) first: Prometheus keeps the heap a
    // query grew (Go), so whatever runs second starts from the first one's
    // peak (3.1 GiB after 8 refused count_over_time at 50k series).
    for (q, (name, expr)) in longq::LONG_QUERIES.iter().enumerate().rev() {
        for (srv, res) in [(&argus, &mut out.argus), (&prom, &mut out.prom)] {
            let l = longq::measure(
                client,
                &srv.url(""),
                srv.pid().context("running")?,
                expr,
                window.end_ms,
            )?;
            let mib = |b: u64| b as f64 / 1048576.0;
            eprintln!(
                "    {} long-range query ({name}): RSS before {:.0} MiB; alone: peak {:.0} MiB, {}; 8 at once: peak {:.0} MiB, {}",
                srv.kind.name(),
                mib(l.idle_rss),
                mib(l.peak_one),
                l.one.describe(),
                mib(l.peak_eight),
                l.describe_eight()
            );
            res.long[q] = l;
        }
        eprintln!(
            "    long-range query ({name}): {}",
            longq::compare(&out.argus.long[q], &out.prom.long[q])
        );
    }
    // Restart: SIGTERM, start again, time until ready (one at a time).
    for (srv, res) in [(&mut argus, &mut out.argus), (&mut prom, &mut out.prom)] {
        srv.stop()?;
        let d = srv.start(client)?;
        res.restart_s = d.as_secs_f64();
    }
    argus.stop()?;
    prom.stop()?;
    if a.keep {
        let p = tmp.keep();
        eprintln!("    kept {}", p.display());
    }
    Ok(out)
}

fn ingest(
    srv: &Server,
    w: &Workload,
    opt: LoadOptions,
    res: &mut SysRun,
    client: &reqwest::blocking::Client,
) -> Result<()> {
    let pid = srv.pid().context("not running")?.to_string();
    let self_pid = std::process::id().to_string();
    let cpu0 = server::cpu_seconds(&pid)?;
    let gen0 = server::cpu_seconds(&self_pid)?;
    let r = load::drive(&srv.url("/api/v1/write"), w, opt)?;
    res.server_cpu_s = server::cpu_seconds(&pid)? - cpu0;
    res.loadgen_cpu_s = server::cpu_seconds(&self_pid)? - gen0;
    res.ingest_s = r.wall.as_secs_f64();
    res.samples_sent = r.samples_sent;
    res.failed_requests = r.failed_requests;
    res.first_error = r.first_error.clone();
    let m = srv.metrics(client)?;
    res.samples_appended = match srv.kind {
        Kind::Argus => server::metric_sum(&m, "argus_tsdb_samples_appended_total"),
        Kind::Prometheus => server::metric_sum(&m, "prometheus_tsdb_head_samples_appended_total"),
    };
    eprintln!(
        "    {}: {} samples in {:.1}s ({:.0}/s), {} requests of {:.0} KiB avg ({} failed{}), server CPU {:.1}s, load generator CPU {:.1}s",
        srv.kind.name(),
        r.samples_sent,
        res.ingest_s,
        res.throughput(),
        r.requests,
        r.body_bytes as f64 / r.requests.max(1) as f64 / 1024.0,
        r.failed_requests,
        r.first_error.map(|e| format!(": {e}")).unwrap_or_default(),
        res.server_cpu_s,
        res.loadgen_cpu_s
    );
    Ok(())
}
