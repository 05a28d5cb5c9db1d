//! In-process benchmarks of the storage engine, without a server:
//!
//! - `argus-bench head-memory` feeds the generator's series straight into an
//!   in-memory [`Head`] (no WAL, no HTTP) and reports what the head holds
//!   per series (growth of this process's RSS): the head's share of Argus's
//!   RSS, apart from the rest of the server.
//! - `argus-bench wal-replay` writes the generator's series through
//!   [`Db::append`] into a WAL, closes the database and times opening it
//!   again (WAL replay), the part of a restart that grows with the head.

use std::time::Instant;

use anyhow::Result;
use argus_model::{Sample, TimeSeries};
use argus_tsdb::head::Head;
use argus_tsdb::{Db, DbOptions, SeriesLimits};

use crate::gen::{Target, Workload, SERIES_PER_TARGET};

/// This process's resident set, bytes.
fn live() -> isize {
    crate::server::rss(std::process::id()).map_or(0, |(_, now)| now as isize)
}

/// The generator's load without a server: how many series, how many points.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct Shape {
    /// Active series (rounded up to a multiple of 100).
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    /// Points per series (480 at 15 s = 2 h, one block range).
    #[arg(long, default_value_t = 480)]
    points: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct HeadMemArgs {
    #[command(flatten)]
    shape: Shape,
}

pub(crate) fn run(args: HeadMemArgs) -> Result<()> {
    let a = args.shape;
    let targets = a.series.div_ceil(SERIES_PER_TARGET);
    let w = Workload {
        seed: a.seed,
        targets,
        points: a.points,
        interval_ms: 15_000,
        start_ms: 1_700_000_000_000,
        churn: 0.0,
        churn_every: 0,
    };
    let mut gens: Vec<Target> = (0..targets).map(|s| Target::new(a.seed, s, 0)).collect();
    let series = w.active_series();
    let head = Head::new(2 * 3_600_000, 0);
    let limits = SeriesLimits {
        max_series: usize::MAX,
        max_labels: usize::MAX,
    };
    let base = live();
    let mut after_first = 0;
    let mut busy = std::time::Duration::ZERO;
    for p in 0..w.points {
        let t = w.ts(p);
        for g in gens.iter_mut() {
            let values = *g.step(15.0);
            let batch: Vec<TimeSeries> = g
                .labels
                .iter()
                .zip(values)
                .map(|(l, v)| TimeSeries {
                    exemplars: Vec::new(),
                    labels: l.clone(),
                    samples: vec![Sample { t, v }],
                    histograms: Vec::new(),
                })
                .collect();
            let start = Instant::now();
            let plan = head.plan(batch, limits);
            let report = head.commit(plan);
            busy += start.elapsed();
            anyhow::ensure!(report.rejected_total() == 0, "rejected: {report:?}");
        }
        if p == 0 {
            after_first = live() - base;
        }
    }
    let total = live() - base;
    let samples = (series * w.points) as f64;
    println!(
        "head memory: {series} series × {} points ({} samples)",
        w.points, samples as u64
    );
    println!(
        "  after the first point: {:.1} MiB, {:.0} bytes/series (labels, maps, index, open chunk)",
        after_first as f64 / 1048576.0,
        after_first as f64 / series as f64
    );
    println!(
        "  after all points:      {:.1} MiB, {:.0} bytes/series, {:.2} bytes/sample beyond the first point",
        total as f64 / 1048576.0,
        total as f64 / series as f64,
        (total - after_first) as f64 / (samples - series as f64)
    );
    println!(
        "  head append path (plan + commit, labels already built): {:.0} ns/sample",
        busy.as_nanos() as f64 / samples
    );
    let (closed, open) = head.chunk_bytes();
    println!(
        "  chunk data: closed {:.1} MiB in {} chunks, open {:.1} MiB",
        closed as f64 / 1048576.0,
        head.chunk_count(),
        open as f64 / 1048576.0
    );
    drop(head);
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    shape: Shape,
    /// Where the data directory goes (a fresh temporary directory inside).
    #[arg(long)]
    workdir: Option<std::path::PathBuf>,
    /// Use this data directory instead of a temporary one; when it already
    /// holds data, skip writing and only time the reopens.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Times to reopen (each a full replay).
    #[arg(long, default_value_t = 3)]
    reopen: usize,
}

pub(crate) fn replay(args: ReplayArgs) -> Result<()> {
    let a = &args.shape;
    let targets = a.series.div_ceil(SERIES_PER_TARGET);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let w = Workload {
        seed: a.seed,
        targets,
        points: a.points,
        interval_ms: 15_000,
        start_ms: now - a.points as i64 * 15_000,
        churn: 0.0,
        churn_every: 0,
    };
    let tmp = match &args.workdir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let path = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let data = argus_model::paths::DataDir::new(&path);
    let reuse = data.tenants().exists();
    let rt = tokio::runtime::Runtime::new()?;
    let open = || -> Result<Db> {
        let mut o = DbOptions::new(path.clone());
        o.wal.fsync = argus_wal::FsyncPolicy::Never;
        let storage = argus_objstore::ObjectStorage::new(
            argus_objstore::Backend::Local(data.default_objects()),
            data.default_cache(),
        )?;
        Ok(rt.block_on(Db::open(o, storage))?)
    };
    let tenant = argus_model::TenantId::new("bench")?;
    let limits = SeriesLimits {
        max_series: usize::MAX,
        max_labels: usize::MAX,
    };
    let started = Instant::now();
    if !reuse {
        let db = open()?;
        let mut gens: Vec<Target> = (0..targets).map(|s| Target::new(a.seed, s, 0)).collect();
        for p in 0..w.points {
            let t = w.ts(p);
            for chunk in gens.chunks_mut(20) {
                let mut batch = Vec::with_capacity(20 * SERIES_PER_TARGET);
                for g in chunk {
                    let values = *g.step(15.0);
                    batch.extend(g.labels.iter().zip(values).map(|(l, v)| TimeSeries {
                        exemplars: Vec::new(),
                        labels: l.clone(),
                        samples: vec![Sample { t, v }],
                        histograms: Vec::new(),
                    }));
                }
                let r = db.append(&tenant, batch, limits)?;
                anyhow::ensure!(r.rejected_total() == 0, "rejected: {r:?}");
            }
        }
        db.close()?;
    }
    let wal_bytes = crate::server::disk_usage(&path, &[]);
    println!(
        "wal replay: {} series × {} points ({} samples), WAL {:.1} MiB, written in {:.1} s{}",
        w.active_series(),
        w.points,
        w.total_samples(),
        wal_bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64(),
        if reuse { " (reused)" } else { "" }
    );
    for i in 0..args.reopen {
        let started = Instant::now();
        let db = open()?;
        let took = started.elapsed();
        let all = vec![vec![argus_model::Matcher::new(
            argus_model::MatchOp::Regex,
            "__name__",
            ".+",
        )?]];
        let n = db.series(&tenant, &all, i64::MIN, i64::MAX)?.len();
        println!("  open {}: {:.2} s ({n} series)", i + 1, took.as_secs_f64());
        db.close()?;
    }
    Ok(())
}
