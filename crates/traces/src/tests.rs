//! The traces store end to end on the local object store: push, read by id
//! from the head and from segments, restart with and without a flush,
//! crash between install and release, retries, the trace-size limit,
//! search scans that skip segments by their stats.

use super::*;
use argus_model::traces::{SpanOrigin, StatusCode};
use argus_objstore::Backend;
use argus_segments::SegmentSource;
use std::sync::atomic::{AtomicI64, Ordering};

const MIN: i64 = 60_000; // ms

fn tenant() -> TenantId {
    TenantId::new("t1").unwrap()
}

struct Env {
    dir: tempfile::TempDir,
    now: Arc<AtomicI64>,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            now: Arc::new(AtomicI64::new(1_700_000_000_000 / 3_600_000 * 3_600_000)),
        }
    }

    async fn open(&self, tune: impl Fn(&mut TracesOptions)) -> TracesDb {
        let dir = self.dir.path();
        let mut opts = TracesOptions::new(dir.to_path_buf());
        opts.store.wal.fsync = argus_wal::FsyncPolicy::Never;
        let now = self.now.clone();
        opts.store.clock = Arc::new(move || now.load(Ordering::Relaxed));
        tune(&mut opts);
        let storage =
            ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
        TracesDb::open(opts, storage).await.unwrap()
    }

    fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::Relaxed);
    }
}

fn origin(service: &str) -> Arc<SpanOrigin> {
    Arc::new(SpanOrigin::new(vec![argus_model::traces::Attr::str(
        "service.name",
        service,
    )]))
}

fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    service: &Arc<SpanOrigin>,
    name: &str,
    dur_ms: i64,
) -> Span {
    let start = 1_700_000_000_000_000_000 + i64::from(id) * 1_000_000;
    Span {
        origin: service.clone(),
        trace_id: [trace; 16],
        span_id: [id; 8],
        parent_span_id: parent.map(|p| [p; 8]),
        name: name.to_string(),
        start_ns: start,
        end_ns: start + dur_ms * 1_000_000,
        ..Span::default()
    }
}

fn names(r: &TraceRead) -> Vec<String> {
    r.spans.iter().map(|s| s.name.clone()).collect()
}

fn push(db: &TracesDb, spans: Vec<Span>) -> SpanPushReport {
    TracesWriter::push(db, &tenant(), spans, TraceLimits::default()).unwrap()
}

fn trace(db: &TracesDb, id: u8) -> TraceRead {
    db.trace(&tenant(), &[id; 16], None, 0).unwrap()
}

fn segments(db: &TracesDb) -> usize {
    db.tenants
        .tenant(&tenant())
        .unwrap()
        .state
        .read()
        .segments
        .len()
}

#[tokio::test]
async fn spans_are_read_by_trace_from_the_head_and_from_segments() {
    let env = Env::new();
    let db = env.open(|_| {}).await;
    let (fe, be) = (origin("frontend"), origin("backend"));
    let r = push(
        &db,
        vec![
            span(1, 1, None, &fe, "GET /", 50),
            span(2, 1, None, &fe, "GET /x", 5),
        ],
    );
    assert_eq!((r.accepted, r.duplicates), (2, 0));
    // The rest of trace 1 arrives later, out of order.
    env.advance(MIN);
    push(
        &db,
        vec![
            span(1, 3, Some(2), &be, "SELECT", 10),
            span(1, 2, Some(1), &be, "query", 30),
        ],
    );
    assert_eq!(names(&trace(&db, 1)), ["GET /", "query", "SELECT"]);
    db.flush_all().await.unwrap();
    assert_eq!(segments(&db), 1);
    assert_eq!(names(&trace(&db, 1)), ["GET /", "query", "SELECT"]);
    let t1 = trace(&db, 1);
    assert_eq!(t1.spans[2].parent_span_id, Some([2; 8]));
    assert_eq!(t1.spans[2].origin.service, "backend");
    assert_eq!(names(&trace(&db, 2)), ["GET /x"]);
    assert!(trace(&db, 3).spans.is_empty());
    // More of trace 1 after the flush: head and segment together.
    push(&db, vec![span(1, 4, Some(1), &fe, "render", 1)]);
    assert_eq!(
        names(&trace(&db, 1)),
        ["GET /", "query", "SELECT", "render"]
    );
    // A time range that misses the trace reads nothing.
    let far = db.trace(&tenant(), &[2; 16], Some((0, 1)), 0).unwrap();
    assert!(far.spans.is_empty());
    // A budget smaller than the trace: partial.
    let part = db.trace(&tenant(), &[1; 16], None, 200).unwrap();
    assert!(part.partial && !part.spans.is_empty() && part.spans.len() < 4);
}

#[tokio::test]
async fn a_restart_replays_the_wal_and_skips_what_segments_hold() {
    let env = Env::new();
    let fe = origin("frontend");
    {
        let db = env.open(|_| {}).await;
        push(&db, vec![span(1, 1, None, &fe, "a", 1)]);
        db.flush_all().await.unwrap();
        push(&db, vec![span(1, 2, Some(1), &fe, "b", 1)]);
        // Dropped without a flush: as after kill -9.
    }
    let db = env.open(|_| {}).await;
    assert_eq!(names(&trace(&db, 1)), ["a", "b"]);
    assert_eq!(segments(&db), 1);
    // Crash after the segment of a flush was installed, before its
    // release: the restart finds the spans in the segment only.
    push(&db, vec![span(1, 3, Some(1), &fe, "c", 1)]);
    let t = db.tenants.tenant(&tenant()).unwrap();
    let lc = db.tenants.lifecycle(&t);
    let (a, b) = lc.source.freeze().unwrap();
    assert!(a <= b);
    let id = argus_segments::new_id();
    let dir = lc.store.layout.staging_dir(&id);
    std::fs::create_dir_all(&dir).unwrap();
    let range = 3_600_000 * 24;
    let start = a.div_euclid(range) * range;
    let meta = lc
        .source
        .cut(&dir, &id, start, start + range)
        .unwrap()
        .unwrap();
    lc.store.upload(&dir, &meta.id, || {}).await.unwrap();
    drop((lc, t, db));
    let db = env.open(|_| {}).await;
    let got = trace(&db, 1);
    assert_eq!(names(&got), ["a", "b", "c"], "no span lost or doubled");
}

#[tokio::test]
async fn retried_pushes_are_stored_once() {
    let env = Env::new();
    let db = env.open(|_| {}).await;
    let fe = origin("frontend");
    let batch = vec![
        span(1, 1, None, &fe, "a", 1),
        span(1, 2, Some(1), &fe, "b", 1),
    ];
    push(&db, batch.clone());
    let r = push(&db, batch.clone());
    assert_eq!((r.accepted, r.duplicates), (2, 2));
    db.flush_all().await.unwrap();
    // Retried after the flush: a second copy in the next segment, one read.
    push(&db, batch);
    db.flush_all().await.unwrap();
    assert_eq!(segments(&db), 2);
    assert_eq!(names(&trace(&db, 1)), ["a", "b"]);
}

#[tokio::test]
async fn a_trace_over_its_size_limit_keeps_what_fits() {
    let env = Env::new();
    let db = env.open(|_| {}).await;
    let fe = origin("frontend");
    let one = span_bytes(&span(1, 1, None, &fe, "a", 1));
    let limits = TraceLimits {
        max_trace_bytes: 2 * one + 1,
    };
    let spans = vec![
        span(1, 1, None, &fe, "a", 1),
        span(1, 2, Some(1), &fe, "b", 1),
        span(1, 3, Some(1), &fe, "c", 1),
        span(2, 1, None, &fe, "x", 1),
    ];
    let r = TracesWriter::push(&db, &tenant(), spans, limits).unwrap();
    assert_eq!(r.accepted, 3);
    assert_eq!(r.rejected.get(&SpanRejectReason::TraceTooLarge), Some(&1));
    assert!(
        r.examples[0].1.contains("trace too large"),
        "{:?}",
        r.examples
    );
    assert_eq!(names(&trace(&db, 1)), ["a", "b"]);
    assert_eq!(names(&trace(&db, 2)), ["x"]);
}

#[tokio::test]
async fn scans_visit_traces_and_skip_segments_by_their_stats() {
    let env = Env::new();
    let db = env.open(|_| {}).await;
    let (fe, be) = (origin("frontend"), origin("backend"));
    push(
        &db,
        vec![
            span(1, 1, None, &fe, "GET /", 50),
            span(1, 2, Some(1), &be, "q", 30),
        ],
    );
    db.flush_all().await.unwrap();
    env.advance(MIN);
    let mut failing = span(2, 1, None, &fe, "POST /", 900);
    failing.status = StatusCode::Error;
    push(&db, vec![failing]);
    db.flush_all().await.unwrap();
    push(&db, vec![span(3, 1, None, &fe, "GET /h", 1)]);
    let run = |hints: Vec<SpanHint>| {
        let mut seen = Vec::new();
        let scan = TraceScan {
            hints,
            ..TraceScan::default()
        };
        let st = db
            .scan(&tenant(), &scan, &mut |spans, _| {
                seen.push(spans[0].trace_id[0]);
                Visit::Continue
            })
            .unwrap();
        seen.sort();
        (seen, st)
    };
    let (all, st) = run(Vec::new());
    assert_eq!(all, [1, 2, 3]);
    assert_eq!(
        (st.total_blocks, st.skipped_blocks),
        (3, 0),
        "the active head and two segments"
    );
    let (errors, st) = run(vec![SpanHint::Error]);
    assert_eq!(errors, [2]);
    assert_eq!(
        st.skipped_blocks, 1,
        "the segment without errors is skipped"
    );
    let (nothing, st) = run(vec![SpanHint::Service("nope".into())]);
    assert!(nothing.is_empty());
    assert_eq!(
        (st.skipped_blocks, st.inspected_traces),
        (2, 1),
        "only the head's trace is inspected"
    );
    let (slow, _) = run(vec![SpanHint::MinDuration(500_000_000)]);
    assert_eq!(slow, [2]);
    assert_eq!(
        db.services(&tenant(), None).unwrap(),
        ["backend", "frontend"]
    );
    assert!(db.services(&tenant(), Some((0, 1))).unwrap().is_empty());
    let (both, _) = run(vec![
        SpanHint::Service("backend".into()),
        SpanHint::Name("GET /".into()),
    ]);
    assert_eq!(both, [1]);
}

#[tokio::test]
async fn compaction_streams_segments_into_one_keeping_each_span_once() {
    let env = Env::new();
    let db = env
        .open(|o| {
            o.store.compaction_ranges = vec![3_600_000, 4 * 3_600_000];
            // Tiny row groups: the merge reads its inputs a row group at a time.
            o.writer.row_group_bytes = 200;
        })
        .await;
    let (fe, be) = (origin("frontend"), origin("backend"));
    let mut all = Vec::new();
    for round in 0..4u8 {
        let mut spans = Vec::new();
        for t in 0..5u8 {
            let trace = t * 10 + round % 2;
            spans.push(span(
                trace,
                round * 10 + 1,
                None,
                &fe,
                &format!("r{round}"),
                3,
            ));
            spans.push(span(
                trace,
                round * 10 + 2,
                Some(round * 10 + 1),
                &be,
                "q",
                1,
            ));
        }
        all.extend(spans.clone());
        push(&db, spans.clone());
        if round == 1 {
            // A retry after a flush: its spans are in two segments.
            db.flush_all().await.unwrap();
            push(&db, spans);
        }
        db.flush_all().await.unwrap();
        env.advance(MIN);
    }
    assert_eq!(segments(&db), 5);
    // The 4 h window is complete once a segment ends after it.
    env.advance(4 * 3_600_000);
    push(&db, vec![span(99, 1, None, &fe, "late", 1)]);
    db.flush_all().await.unwrap();
    db.compact_all().await.unwrap();
    assert_eq!(
        segments(&db),
        2,
        "the first window's five segments merged into one"
    );
    let t = db.tenants.tenant(&tenant()).unwrap();
    let merged = t.state.read().segments[0].clone();
    assert_eq!(merged.meta.level, 2);
    assert_eq!(merged.meta.spans, all.len() as u64, "each span once");
    assert!(merged.index.row_groups.len() > 1);
    assert_eq!(merged.meta.stats.services, ["backend", "frontend"]);
    for t in [0u8, 1, 10, 11, 40, 41] {
        let want: Vec<&Span> = all.iter().filter(|s| s.trace_id[0] == t).collect();
        let got = trace(&db, t);
        assert_eq!(got.spans.len(), want.len(), "trace {t}");
        for s in want {
            assert!(got.spans.iter().any(|g| g == s), "trace {t}: {s:?}");
        }
    }
    // A restart loads the merged segment alone (its inputs were deleted).
    drop((t, merged, db));
    let db = env.open(|_| {}).await;
    assert_eq!(segments(&db), 2);
    assert_eq!(trace(&db, 10).spans.len(), 4);
}
