//! The storage engine end to end: append, restart, cut, compact, retain,
//! tenant isolation, on the local backend and an in-memory object store.

use argus_model::{Labels, MatchOp, Matcher, Sample, TenantId, TimeSeries};
use argus_objstore::{Backend, ObjectStorage};
use argus_tsdb::{Db, DbOptions, SeriesLimits};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

const LIMITS: SeriesLimits = SeriesLimits {
    max_series: 1_000_000,
    max_labels: 64,
};
const H: i64 = 3_600_000;

fn opts(dir: &Path) -> DbOptions {
    let mut o = DbOptions::new(dir.to_path_buf());
    o.retention_ms = 0;
    o
}

async fn open(dir: &Path, o: DbOptions) -> Db {
    let storage =
        ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
    Db::open(o, storage).await.unwrap()
}

fn series(name: &str, i: usize, from: i64, n: i64, step: i64) -> TimeSeries {
    TimeSeries {
        labels: Labels::from_pairs([("__name__", name), ("i", &*i.to_string())]),
        samples: (0..n)
            .map(|k| Sample::new(from + k * step, (k * 3 + i as i64) as f64))
            .collect(),
        ..Default::default()
    }
}

fn t(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn by_name(n: &str) -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::Equal, "__name__", n).unwrap()]
}

/// Series matching `matchers` that have float samples in [mint, maxt], with
/// those samples, sorted by labels.
fn select_floats(
    db: &Db,
    tenant: &TenantId,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
) -> Vec<(Labels, Vec<Sample>)> {
    let mut out: Vec<(Labels, Vec<Sample>)> = db
        .select_series(tenant, matchers, mint, maxt)
        .unwrap()
        .into_iter()
        .filter(|s| !s.floats.is_empty())
        .map(|s| (s.labels, s.floats))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn count(db: &Db, tenant: &TenantId, name: &str) -> usize {
    select_floats(db, tenant, &by_name(name), i64::MIN, i64::MAX)
        .iter()
        .map(|(_, s)| s.len())
        .sum()
}

async fn append(db: Arc<Db>, tenant: TenantId, batch: Vec<TimeSeries>) -> argus_tsdb::AppendReport {
    tokio::task::spawn_blocking(move || db.append(&tenant, batch, LIMITS).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn restart_replays_wal() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        let batch: Vec<_> = (0..10).map(|i| series("m", i, 1000, 100, 15_000)).collect();
        let r = append(db.clone(), t("a"), batch).await;
        assert_eq!(r.accepted, 1000);
        db.close().unwrap();
    }
    let db = open(dir.path(), opts(dir.path())).await;
    assert_eq!(count(&db, &t("a"), "m"), 1000);
    let got = select_floats(&db, &t("a"), &by_name("m"), 1000, 1000 + 15_000 * 9);
    assert_eq!(got.len(), 10);
    assert_eq!(got[0].1.len(), 10);
}

/// A data directory in the 0.1 layout (WAL at `tenants/<t>/wal`, staging at
/// `staging/<t>/<block>`) opens with every sample, blocks included, and is
/// migrated to `tenants/<t>/metrics/…`.
#[tokio::test]
async fn the_layout_before_signals_is_migrated_at_open() {
    use argus_model::{paths::DataDir, Signal};
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let total;
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        // 5 hours: blocks for the first hours, the rest stays in the WAL.
        let batch: Vec<_> = (0..5).map(|i| series("m", i, 0, 5 * 60, 60_000)).collect();
        total = 5 * 5 * 60;
        append(db.clone(), t("a"), batch.clone()).await;
        append(db.clone(), t("b"), batch).await;
        db.maintain().await;
        assert!(!db.tenant(&t("a")).unwrap().blocks().is_empty());
        db.close().unwrap();
    }
    for x in ["a", "b"] {
        std::fs::rename(data.wal(&t(x), Signal::Metrics), data.legacy_wal(&t(x))).unwrap();
        // What is left there is the empty staging directory.
        std::fs::remove_dir_all(data.signal(&t(x), Signal::Metrics)).unwrap();
    }
    let stale = data.legacy_staging().join("a").join("01STALE");
    std::fs::create_dir_all(&stale).unwrap();
    let db = open(dir.path(), opts(dir.path())).await;
    for x in ["a", "b"] {
        assert_eq!(count(&db, &t(x), "m"), total);
        assert!(data.wal(&t(x), Signal::Metrics).is_dir());
        assert!(!data.legacy_wal(&t(x)).exists());
    }
    assert!(!data.legacy_staging().exists());
}

#[tokio::test]
async fn rejections_are_reported_and_valid_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    append(db.clone(), t("a"), vec![series("m", 0, 10_000, 1, 1)]).await;
    let mut s = series("m", 0, 5_000, 1, 1); // older: out of order
    s.samples.push(Sample::new(10_000, 123.0)); // same ts, other value
    s.samples.push(Sample::new(10_000, 0.0)); // exact duplicate of the stored sample? value 0+0=0 -> (0*3+0)=0
    s.samples.push(Sample::new(20_000, 1.0)); // fine
    let r = append(db.clone(), t("a"), vec![s]).await;
    assert_eq!(r.rejected_samples.get("out_of_order"), Some(&1));
    assert_eq!(r.rejected_samples.get("duplicate_timestamp"), Some(&1));
    assert_eq!(r.duplicates, 1);
    assert_eq!(count(&db, &t("a"), "m"), 2);
}

#[tokio::test]
async fn tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    append(db.clone(), t("a"), vec![series("up", 1, 0, 5, 1000)]).await;
    append(db.clone(), t("b"), vec![series("up", 1, 0, 3, 1000)]).await;
    assert_eq!(count(&db, &t("a"), "up"), 5);
    assert_eq!(count(&db, &t("b"), "up"), 3);
    assert_eq!(count(&db, &t("c"), "up"), 0);
    let data = argus_model::paths::DataDir::new(dir.path());
    for x in ["a", "b"] {
        assert!(data.wal(&t(x), argus_model::Signal::Metrics).is_dir());
    }
    assert!(dir.path().join("tenants/a/metrics/wal").is_dir());
}

#[tokio::test]
async fn series_limit_rejects_new_series_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    let lim = SeriesLimits {
        max_series: 2,
        max_labels: 64,
    };
    let d = db.clone();
    let r = tokio::task::spawn_blocking(move || {
        d.append(
            &t("a"),
            (0..3).map(|i| series("m", i, 0, 2, 1000)).collect(),
            lim,
        )
        .unwrap()
    })
    .await
    .unwrap();
    assert!(r.limited);
    assert_eq!(r.rejected_samples.get("max_series"), Some(&2));
    assert_eq!(count(&db, &t("a"), "m"), 4);
}

#[tokio::test]
async fn blocks_cut_compact_survive_restart_and_retention_deletes_only_old() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(0));
    let mk = |now: Arc<AtomicI64>| {
        let mut o = opts(dir.path());
        o.clock = Arc::new(move || now.load(Ordering::SeqCst));
        o
    };
    let total;
    {
        let db = Arc::new(open(dir.path(), mk(now.clone())).await);
        // 14 hours of data, one sample a minute, 20 series.
        let batch: Vec<_> = (0..20)
            .map(|i| series("m", i, 0, 14 * 60, 60_000))
            .collect();
        total = 20 * 14 * 60;
        append(db.clone(), t("a"), batch).await;
        db.maintain().await;
        let blocks = db.tenant(&t("a")).unwrap().blocks();
        assert!(!blocks.is_empty(), "blocks were cut");
        // 6 level-1 blocks of 2h would be cut (0..12h); compaction merges 0-6h and 6-12h.
        assert!(
            blocks.iter().any(|b| b.meta.compaction.level >= 2),
            "{:?}",
            blocks.iter().map(|b| &b.meta).collect::<Vec<_>>()
        );
        assert_eq!(count(&db, &t("a"), "m"), total);
        db.close().unwrap();
    }
    // WAL was checkpointed: restart reads blocks + head, nothing lost or doubled.
    let db = open(dir.path(), mk(now.clone())).await;
    assert_eq!(count(&db, &t("a"), "m"), total);
    let got = select_floats(&db, &t("a"), &by_name("m"), 5 * H, 7 * H);
    assert_eq!(got.len(), 20);
    assert!(got
        .iter()
        .all(|(_, s)| s.len() == 121 && s.windows(2).all(|w| w[0].t < w[1].t)));
    // Retention of 5h at t=14h: blocks ending at or before 9h go, the rest stays.
    drop(db);
    now.store(14 * H, Ordering::SeqCst);
    let mut o = mk(now.clone());
    o.retention_ms = 5 * H;
    let db = open(dir.path(), o).await;
    db.maintain().await;
    let blocks = db.tenant(&t("a")).unwrap().blocks();
    assert!(blocks.iter().all(|b| b.meta.max_time > 9 * H));
    let kept = count(&db, &t("a"), "m");
    assert!(kept < total && kept > 0);
    let oldest = select_floats(&db, &t("a"), &by_name("m"), i64::MIN, i64::MAX)[0].1[0].t;
    let min_block = blocks.iter().map(|b| b.meta.min_time).min().unwrap();
    assert_eq!(oldest, min_block);
}

#[tokio::test]
async fn samples_before_cut_are_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    append(db.clone(), t("a"), vec![series("m", 0, 0, 5 * 60, 60_000)]).await;
    db.maintain().await;
    let r = append(db.clone(), t("a"), vec![series("m", 1, 0, 1, 1)]).await;
    assert_eq!(r.rejected_samples.get("too_old"), Some(&1));
}

#[tokio::test]
async fn size_retention_drops_oldest_blocks_first() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        append(
            db.clone(),
            t("a"),
            (0..5).map(|i| series("m", i, 0, 14 * 60, 60_000)).collect(),
        )
        .await;
        db.maintain().await;
        db.close().unwrap();
    }
    let mut o = opts(dir.path());
    let before = {
        let db = open(dir.path(), o.clone()).await;
        let blocks = db.tenant(&t("a")).unwrap().blocks();
        assert!(blocks.len() >= 2);
        blocks
            .iter()
            .map(|b| (b.meta.min_time, b.meta.stats.num_bytes))
            .collect::<Vec<_>>()
    };
    let newest_bytes = before.iter().max_by_key(|b| b.0).unwrap().1;
    o.retention_bytes = newest_bytes;
    let db = open(dir.path(), o).await;
    db.maintain().await;
    let after = db.tenant(&t("a")).unwrap().blocks();
    assert_eq!(after.len(), 1, "only the newest block fits");
    assert_eq!(
        after[0].meta.min_time,
        before.iter().map(|b| b.0).max().unwrap()
    );
    assert!(count(&db, &t("a"), "m") > 0);
}

#[tokio::test]
async fn out_of_order_window_accepts_late_samples_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.out_of_order_window_ms = 60_000;
    {
        let db = Arc::new(open(dir.path(), o.clone()).await);
        append(db.clone(), t("a"), vec![series("m", 0, 100_000, 1, 1)]).await;
        let late = TimeSeries {
            labels: series("m", 0, 0, 0, 1).labels,
            samples: vec![
                Sample::new(50_000, 5.0),
                Sample::new(45_000, 4.5),
                Sample::new(10_000, 1.0),
            ],
            ..Default::default()
        };
        let r = append(db.clone(), t("a"), vec![late]).await;
        assert_eq!(r.accepted, 2, "{r:?}");
        assert_eq!(
            r.rejected_samples.get("out_of_order"),
            Some(&1),
            "older than the window"
        );
        let got = select_floats(&db, &t("a"), &by_name("m"), i64::MIN, i64::MAX);
        assert_eq!(
            got[0].1.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![45_000, 50_000, 100_000]
        );
        db.close().unwrap();
    }
    let db = open(dir.path(), o).await;
    let got = select_floats(&db, &t("a"), &by_name("m"), i64::MIN, i64::MAX);
    assert_eq!(
        got[0].1.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>(),
        vec![(45_000, 4.5), (50_000, 5.0), (100_000, 0.0)]
    );
}

// ---- native histograms ----

fn hist(k: i64) -> argus_model::FloatHistogram {
    use argus_model::{CounterResetHint, FloatHistogram, Span};
    FloatHistogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 2,
        zero_threshold: 1e-128,
        zero_count: 1.0,
        count: 4.0 + 3.0 * k as f64,
        sum: 10.5 * k as f64,
        positive_spans: vec![Span {
            offset: -1,
            length: 2,
        }],
        negative_spans: vec![],
        positive_buckets: vec![1.0 + k as f64, 2.0 + 2.0 * k as f64],
        negative_buckets: vec![],
        custom_values: vec![],
    }
}

/// A series `name{i}` with `n` histogram samples every `step` ms from `from`.
fn hseries(name: &str, i: usize, from: i64, n: i64, step: i64) -> TimeSeries {
    TimeSeries {
        labels: Labels::from_pairs([("__name__", name), ("i", &*i.to_string())]),
        histograms: (0..n)
            .map(|k| argus_model::HistogramSample {
                t: from + k * step,
                h: hist(k + i as i64),
            })
            .collect(),
        ..Default::default()
    }
}

fn hcount(db: &Db, tenant: &TenantId, name: &str) -> usize {
    db.select_series(tenant, &by_name(name), i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .map(|s| s.histograms.len())
        .sum()
}

#[tokio::test]
async fn histograms_survive_restart_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        let batch: Vec<_> = (0..5).map(|i| hseries("h", i, 1000, 200, 15_000)).collect();
        let r = append(db.clone(), t("a"), batch).await;
        assert_eq!((r.histograms_accepted, r.accepted), (1000, 0));
        // Retry of the newest: silently accepted; a different histogram at
        // that time, an older one and a float at that time are refused.
        let last_t = 1000 + 199 * 15_000;
        let mut retry = hseries("h", 0, last_t, 1, 1);
        retry.histograms[0].h = hist(199);
        let mut changed = retry.clone();
        changed.histograms[0].h.count += 1.0;
        let old = hseries("h", 0, 1000, 1, 1);
        let float_same_t = series("h", 0, last_t, 1, 1);
        let r = append(
            db.clone(),
            t("a"),
            vec![
                retry,
                changed,
                old,
                float_same_t,
                series("h", 0, last_t + 1, 1, 1),
            ],
        )
        .await;
        assert_eq!(r.histograms_accepted, 1);
        assert_eq!(r.histogram_duplicates, 1);
        assert_eq!(r.accepted, 1, "a float after the histograms is fine");
        assert_eq!(r.rejected_samples.get("duplicate_timestamp"), Some(&2));
        assert_eq!(r.rejected_samples.get("out_of_order"), Some(&1));
        // ... and then a histogram at the float's timestamp is refused.
        let r = append(db.clone(), t("a"), vec![hseries("h", 0, last_t + 1, 1, 1)]).await;
        assert_eq!(r.rejected_samples.get("duplicate_timestamp"), Some(&1));
        db.close().unwrap();
    }
    let db = open(dir.path(), opts(dir.path())).await;
    assert_eq!(hcount(&db, &t("a"), "h"), 1000);
    let got = db
        .select_series(&t("a"), &by_name("h"), 1000, 1000 + 15_000 * 9)
        .unwrap();
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].histograms.len(), 10);
    assert_eq!(got[0].histograms[3].h, hist(3));
    assert_eq!(got[0].floats, vec![]);
    // The one series with a float: only it has floats.
    let floats = select_floats(&db, &t("a"), &by_name("h"), i64::MIN, i64::MAX);
    assert_eq!(floats.len(), 1);
    assert_eq!(floats[0].1.len(), 1);
}

#[tokio::test]
async fn histograms_go_through_blocks_compaction_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let total;
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        // 14 hours, one histogram a minute, 5 series; plus a series that
        // switches from floats to histograms at 7h.
        let mut batch: Vec<_> = (0..5)
            .map(|i| hseries("h", i, 0, 14 * 60, 60_000))
            .collect();
        let mut mixed = series("mixed", 0, 0, 7 * 60, 60_000);
        mixed.histograms = hseries("mixed", 0, 7 * H, 7 * 60, 60_000).histograms;
        batch.push(mixed);
        total = 5 * 14 * 60;
        let r = append(db.clone(), t("a"), batch).await;
        assert_eq!(r.rejected_total(), 0);
        db.maintain().await;
        let blocks = db.tenant(&t("a")).unwrap().blocks();
        assert!(blocks.iter().any(|b| b.meta.compaction.level >= 2));
        assert_eq!(hcount(&db, &t("a"), "h"), total);
        db.close().unwrap();
    }
    let db = open(dir.path(), opts(dir.path())).await;
    assert_eq!(hcount(&db, &t("a"), "h"), total);
    let got = db
        .select_series(&t("a"), &by_name("h"), 5 * H, 7 * H)
        .unwrap();
    assert_eq!(got.len(), 5);
    for s in &got {
        assert_eq!(s.histograms.len(), 121);
        assert!(s.histograms.windows(2).all(|w| w[0].t < w[1].t));
    }
    assert_eq!(got[0].histograms[0].h, hist(5 * 60));
    let mixed = db
        .select_series(&t("a"), &by_name("mixed"), i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(mixed.len(), 1);
    assert_eq!(mixed[0].floats.len(), 7 * 60);
    assert_eq!(mixed[0].histograms.len(), 7 * 60);
    assert_eq!(mixed[0].histograms[0].t, 7 * H);
    // Histograms before the newest block are too old.
    let r = append(Arc::new(db), t("a"), vec![hseries("h", 9, 0, 1, 1)]).await;
    assert_eq!(r.rejected_samples.get("too_old"), Some(&1));
}

#[tokio::test]
async fn histogram_tenants_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    append(db.clone(), t("a"), vec![hseries("h", 1, 0, 5, 1000)]).await;
    append(db.clone(), t("b"), vec![hseries("h", 1, 0, 3, 1000)]).await;
    assert_eq!(hcount(&db, &t("a"), "h"), 5);
    assert_eq!(hcount(&db, &t("b"), "h"), 3);
    assert_eq!(hcount(&db, &t("c"), "h"), 0);
    let s = db.series(&t("b"), &[by_name("h")], 0, 10_000).unwrap();
    assert_eq!(s.len(), 1);
}

#[tokio::test]
async fn select_series_joins_a_series_across_blocks_and_head_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    // 4 hours of one sample a minute for 3 series; the first 2 h go to a block.
    let batch: Vec<_> = (0..3)
        .rev()
        .map(|i| series("j", i, 0, 4 * 60, 60_000))
        .collect();
    append(db.clone(), t("a"), batch).await;
    db.maintain().await;
    assert!(
        !db.tenant(&t("a")).unwrap().blocks().is_empty(),
        "a block was cut"
    );
    // Two series only in the head, created in this order.
    let late = |i| series("j", i, 3 * 3_600_000, 10, 60_000);
    append(db.clone(), t("a"), vec![late(9)]).await;
    append(db.clone(), t("a"), vec![late(5)]).await;
    let got = db
        .select_series(&t("a"), &by_name("j"), i64::MIN, i64::MAX)
        .unwrap();
    // The block's series in label order, then head-only series in creation
    // order; each series once.
    let names: Vec<&str> = got.iter().map(|s| s.labels.get("i").unwrap()).collect();
    assert_eq!(names, ["0", "1", "2", "9", "5"]);
    for (i, s) in got.iter().take(3).enumerate() {
        let want: Vec<(i64, f64)> = (0..4 * 60)
            .map(|k| (k * 60_000, (k * 3 + i as i64) as f64))
            .collect();
        let have: Vec<(i64, f64)> = s.floats.iter().map(|x| (x.t, x.v)).collect();
        assert_eq!(have, want, "series {i}");
    }
    assert_eq!(got[3].floats.len(), 10);
}

/// A query running while blocks are cut sees every sample, whichever step
/// of a cut it meets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_during_block_cuts_see_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    let tenant = t("race");
    // 50 series × 12 h at 1 min: six 2 h blocks to cut.
    let batch: Vec<TimeSeries> = (0..50).map(|i| series("m", i, 0, 720, 60_000)).collect();
    let total: usize = batch.iter().map(|s| s.samples.len()).sum();
    append(db.clone(), tenant.clone(), batch).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (db, tenant, stop) = (db.clone(), tenant.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut queries = 0;
            while !stop.load(Ordering::Relaxed) {
                let seen: usize = db
                    .select_series(&tenant, &by_name("m"), 0, 12 * H)
                    .unwrap()
                    .iter()
                    .map(|s| s.floats.len())
                    .sum();
                assert_eq!(seen, total, "a query during a cut missed samples");
                queries += 1;
            }
            queries
        })
    };
    for _ in 0..3 {
        db.flush_heads().await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let queries = reader.join().expect("no query missed a sample");
    assert!(queries > 0);
    assert_eq!(count(&db, &tenant, "m"), total);
}

/// A lazy selection made before a block is cut still loads every sample:
/// the head's part that moved into the new block (and was truncated from
/// the head) is read from that block.
#[tokio::test]
async fn a_selection_made_before_a_cut_loads_what_moved_to_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(open(dir.path(), opts(dir.path())).await);
    let batch: Vec<_> = (0..3).map(|i| series("j", i, 0, 4 * 60, 60_000)).collect();
    append(db.clone(), t("a"), batch).await;
    let sel = db.select(&t("a"), &by_name("j"), i64::MIN, i64::MAX);
    assert_eq!(sel.len(), 3);
    // Nothing is read yet: the samples come from chunks when loaded.
    db.maintain().await;
    assert!(
        !db.tenant(&t("a")).unwrap().blocks().is_empty(),
        "a block was cut and the head truncated"
    );
    for k in 0..sel.len() {
        let i: i64 = sel.labels(k).get("i").unwrap().parse().unwrap();
        let want: Vec<(i64, f64)> = (0..4 * 60)
            .map(|n| (n * 60_000, (n * 3 + i) as f64))
            .collect();
        let got = sel.load(k).unwrap();
        let have: Vec<(i64, f64)> = got.floats.iter().map(|x| (x.t, x.v)).collect();
        assert_eq!(have, want, "series {i}");
    }
    // And a selection made now joins block and head as before.
    let sel = db.select(&t("a"), &by_name("j"), i64::MIN, i64::MAX);
    assert_eq!(sel.len(), 3);
    assert_eq!(sel.load(0).unwrap().floats.len(), 4 * 60);
}

// ---- WAL record encodings ----

/// A WAL written by a release before compressed records (segment version 1,
/// record types 1–4) still replays, and new records appended after it
/// (relative to the values it logged) replay with it.
#[tokio::test]
async fn wal_in_the_first_encoding_still_replays() {
    use argus_tsdb::head::PackedLabels;
    use argus_tsdb::walrec;
    let dir = tempfile::tempdir().unwrap();
    let wal_dir = dir.path().join("tenants").join("a").join("wal");
    std::fs::create_dir_all(&wal_dir).unwrap();
    let labels: Vec<PackedLabels> = (0..5)
        .map(|i| PackedLabels::new(&series("m", i, 0, 0, 1).labels))
        .collect();
    {
        let wal = argus_wal::Wal::open(&wal_dir, argus_wal::WalOptions::default()).unwrap();
        let mut recs = Vec::new();
        let mut b = Vec::new();
        let refs: Vec<(u64, &PackedLabels)> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l))
            .collect();
        walrec::encode_series_v1(&refs, &mut b);
        recs.push(std::mem::take(&mut b));
        for k in 0..10i64 {
            let s: Vec<(u64, Sample)> = (0..5u64)
                .map(|i| {
                    (
                        i + 1,
                        Sample::new(k * 1000, (k * 3 + i as i64) as f64 + 0.5),
                    )
                })
                .collect();
            walrec::encode_samples(&s, &mut b);
            recs.push(std::mem::take(&mut b));
        }
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        wal.append(&refs).unwrap();
        wal.close().unwrap();
    }
    // As the old release wrote them: version 1 segment headers.
    for e in std::fs::read_dir(&wal_dir).unwrap() {
        let p = e.unwrap().path();
        let mut data = std::fs::read(&p).unwrap();
        data[4] = 1;
        std::fs::write(&p, data).unwrap();
    }
    let want = |n: i64| -> Vec<(Labels, Vec<Sample>)> {
        (0..5usize)
            .map(|i| {
                let l = series("m", i, 0, 0, 1).labels;
                let s = (0..n)
                    .map(|k| Sample::new(k * 1000, (k * 3 + i as i64) as f64 + 0.5))
                    .collect();
                (l, s)
            })
            .collect()
    };
    {
        let db = Arc::new(open(dir.path(), opts(dir.path())).await);
        assert_eq!(
            select_floats(&db, &t("a"), &by_name("m"), i64::MIN, i64::MAX),
            want(10)
        );
        // New-format records after the old ones: values relative to the
        // replayed ones.
        let batch: Vec<TimeSeries> = (0..5usize)
            .map(|i| TimeSeries {
                labels: series("m", i, 0, 0, 1).labels,
                samples: (10..20i64)
                    .map(|k| Sample::new(k * 1000, (k * 3 + i as i64) as f64 + 0.5))
                    .collect(),
                ..Default::default()
            })
            .collect();
        append(db.clone(), t("a"), batch).await;
        db.close().unwrap();
    }
    let db = open(dir.path(), opts(dir.path())).await;
    assert_eq!(
        select_floats(&db, &t("a"), &by_name("m"), i64::MIN, i64::MAX),
        want(20)
    );
}

/// Values that stress the delta encoding: decimals, huge, NaN, -0.0, the
/// same series twice in one batch, duplicates and out-of-order samples.
#[tokio::test]
async fn awkward_values_survive_restarts_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.out_of_order_window_ms = 10 * 60_000;
    let now = Arc::new(AtomicI64::new(0));
    let n2 = now.clone();
    o.clock = Arc::new(move || n2.load(Ordering::SeqCst));
    let vals = [
        0.0,
        -0.0,
        1.5,
        0.1 + 0.2,
        1e300,
        -7.25,
        f64::NAN,
        argus_model::STALE_NAN,
        f64::INFINITY,
        123456789.0,
        4096.0 * 262144.0,
        0.005,
    ];
    let v = |i: usize, k: usize| vals[(i * 7 + k * 5) % vals.len()] + (k / vals.len()) as f64;
    let lab = |i: usize| series("m", i, 0, 0, 1).labels;
    let mut want: std::collections::BTreeMap<(usize, i64), u64> = Default::default();
    let mut batches = Vec::new();
    // 5 hours at one sample a minute, sent in 10-minute batches; each batch
    // also sends every series' samples in two parts, repeats one (a
    // duplicate) and sends one late (out of order, within the window).
    for b in 0..30usize {
        let mut batch = Vec::new();
        for i in 0..8usize {
            let ks: Vec<usize> = (b * 10..b * 10 + 10).collect();
            let mut first: Vec<Sample> = ks[..5]
                .iter()
                .filter(|&&k| k != b * 10 + 2)
                .map(|&k| Sample::new(k as i64 * 60_000, v(i, k)))
                .collect();
            let second: Vec<Sample> = ks[5..]
                .iter()
                .map(|&k| Sample::new(k as i64 * 60_000, v(i, k)))
                .collect();
            first.push(first[0]);
            for s in first.iter().chain(&second) {
                want.insert((i, s.t), s.v.to_bits());
            }
            let k = b * 10 + 2;
            want.insert((i, k as i64 * 60_000), v(i, k).to_bits());
            batch.push(TimeSeries {
                labels: lab(i),
                samples: first,
                ..Default::default()
            });
            batch.push(TimeSeries {
                labels: lab(i),
                samples: second,
                ..Default::default()
            });
            batch.push(TimeSeries {
                labels: lab(i),
                samples: vec![Sample::new(k as i64 * 60_000, v(i, k))],
                ..Default::default()
            });
        }
        batches.push(batch);
    }
    // Every sample before `upto` is back, bit for bit.
    let check = |db: &Db, upto: i64| {
        let got = select_floats(db, &t("a"), &by_name("m"), i64::MIN, i64::MAX);
        let mut n = 0;
        for (l, s) in got {
            let i: usize = l.get("i").unwrap().parse().unwrap();
            for x in s {
                assert_eq!(
                    want.get(&(i, x.t)),
                    Some(&x.v.to_bits()),
                    "series {i} t {}",
                    x.t
                );
                n += 1;
            }
        }
        assert_eq!(n, want.keys().filter(|(_, t)| *t < upto).count());
    };
    for (n, batch) in batches.into_iter().enumerate() {
        let db = Arc::new(open(dir.path(), o.clone()).await);
        check(&db, n as i64 * 600_000);
        let r = append(db.clone(), t("a"), batch).await;
        assert!(r.rejected_samples.is_empty(), "{r:?}");
        if n == 28 {
            // Cut a block (2h) and checkpoint: the head keeps closed and
            // open chunks and out-of-order samples (2h to 4h50).
            now.store(6 * H, Ordering::SeqCst);
            db.maintain().await;
            let tdb = db.tenant(&t("a")).unwrap();
            assert_eq!(tdb.blocks().len(), 1);
            assert_eq!(
                tdb.head.chunk_count(),
                16,
                "a closed and an open chunk per series"
            );
        }
        db.close().unwrap();
    }
    let db = open(dir.path(), o.clone()).await;
    check(&db, i64::MAX);
}
