//! Exemplars through the engine: stored with their series, refused as
//! Prometheus refuses them, and durable (WAL replay after a crash, WAL
//! checkpoints after a block cut).

use argus_model::{Exemplar, Labels, Matcher, Sample, TenantId, TimeSeries};
use argus_objstore::{Backend, ObjectStorage};
use argus_tsdb::{Db, DbOptions, SeriesLimits};
use std::path::Path;
use std::sync::Arc;

const LIMITS: SeriesLimits = SeriesLimits {
    max_series: 1_000_000,
    max_labels: 64,
};
const H: i64 = 3_600_000;

async fn open(dir: &Path, max_exemplars: usize) -> Arc<Db> {
    let mut o = DbOptions::new(dir.to_path_buf());
    o.retention_ms = 0;
    o.max_exemplars = max_exemplars;
    let storage =
        ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
    Arc::new(Db::open(o, storage).await.unwrap())
}

fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "req"), ("i", &*i.to_string())])
}

fn ex(trace: &str, v: f64, t: i64) -> Exemplar {
    Exemplar::new(Labels::from_pairs([("trace_id", trace)]), v, t)
}

fn tenant() -> TenantId {
    TenantId::new("a").unwrap()
}

/// Appends samples of series `0..n` at `t`, then an exemplar for each.
fn write(db: &Db, n: usize, t: i64) -> argus_store::ExemplarReport {
    let batch = (0..n)
        .map(|i| TimeSeries::new(labels(i), vec![Sample::new(t, 1.0)]))
        .collect();
    db.append(&tenant(), batch, LIMITS).unwrap();
    let items = (0..n)
        .map(|i| (labels(i), ex(&format!("{i}-{t}"), i as f64, t)))
        .collect();
    db.append_exemplars(&tenant(), items).unwrap()
}

fn all(db: &Db) -> Vec<(Labels, Vec<Exemplar>)> {
    let m = vec![Matcher::equal("__name__", "req")];
    db.select_exemplars(&tenant(), &[m], i64::MIN, i64::MAX)
}

#[tokio::test]
async fn exemplars_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let db = open(dir.path(), 100).await;
        let r = write(&db, 3, 1000);
        assert_eq!(r.written, 3);
        write(&db, 3, 2000);
        // Unknown series, retried duplicates, out of order.
        let r = db
            .append_exemplars(
                &tenant(),
                vec![
                    (labels(99), ex("x", 1.0, 3000)),
                    (labels(0), ex("0-2000", 0.0, 2000)),
                    (labels(1), ex("late", 1.0, 1500)),
                ],
            )
            .unwrap();
        assert_eq!(r.written, 1);
        assert_eq!(r.rejected.get("unknown_series"), Some(&1));
        assert_eq!(r.rejected.get("out_of_order"), Some(&1));
        let got = all(&db);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1.len(), 2);
        // No close, no flush: the process dies here.
        got
    };
    let db = open(dir.path(), 100).await;
    assert_eq!(all(&db), before);
    // What was stored before the crash still rules out-of-order checks.
    let r = db
        .append_exemplars(&tenant(), vec![(labels(0), ex("late", 1.0, 1500))])
        .unwrap();
    assert_eq!(r.rejected.get("out_of_order"), Some(&1));
}

#[tokio::test]
async fn a_checkpoint_keeps_the_exemplars_and_a_replay_keeps_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let db = open(dir.path(), 5).await;
        // 3 series × 3 times into a buffer of 5: the 5 newest are kept.
        for k in 0..3 {
            write(&db, 3, k * H);
        }
        // 4 more hours of samples, then a cut: the WAL is checkpointed.
        let batch = vec![TimeSeries::new(labels(0), vec![Sample::new(4 * H, 1.0)])];
        db.append(&tenant(), batch, LIMITS).unwrap();
        db.maintain().await;
        assert!(!db.tenant(&tenant()).unwrap().blocks().is_empty());
        let got = all(&db);
        assert_eq!(got.iter().map(|(_, e)| e.len()).sum::<usize>(), 5);
        got
    };
    let db = open(dir.path(), 5).await;
    assert_eq!(all(&db), before);
}

#[tokio::test]
async fn zero_max_exemplars_stores_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), 0).await;
    let r = write(&db, 2, 1000);
    assert_eq!((r.written, r.rejected.get("disabled")), (0, Some(&2)));
    assert!(all(&db).is_empty());
}
