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

fn count(db: &Db, tenant: &TenantId, name: &str) -> usize {
    db.select(tenant, &by_name(name), i64::MIN, i64::MAX)
        .unwrap()
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
    let got = db
        .select(&t("a"), &by_name("m"), 1000, 1000 + 15_000 * 9)
        .unwrap();
    assert_eq!(got.len(), 10);
    assert_eq!(got[0].1.len(), 10);
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
    assert!(dir.path().join("tenants/a/wal").is_dir());
    assert!(dir.path().join("tenants/b/wal").is_dir());
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
    let got = db.select(&t("a"), &by_name("m"), 5 * H, 7 * H).unwrap();
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
    let oldest = db
        .select(&t("a"), &by_name("m"), i64::MIN, i64::MAX)
        .unwrap()[0]
        .1[0]
        .t;
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
        let got = db
            .select(&t("a"), &by_name("m"), i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(
            got[0].1.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![45_000, 50_000, 100_000]
        );
        db.close().unwrap();
    }
    let db = open(dir.path(), o).await;
    let got = db
        .select(&t("a"), &by_name("m"), i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(
        got[0].1.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>(),
        vec![(45_000, 4.5), (50_000, 5.0), (100_000, 0.0)]
    );
}
