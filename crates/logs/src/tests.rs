//! The logs store end to end on the local object store: push, read from the
//! head, flush to segments, read again, restart, crash between install and
//! release, compaction, limits, retried pushes, needle skipping.

use super::*;
use argus_model::{LogEntry, LogStream, MatchOp};
use argus_objstore::Backend;
use argus_segments::SegmentSource;
use argus_store::{Direction, LogBatch, LogRejectReason, ScanStats};

const H: i64 = 3_600_000_000_000; // 1 h in ns
const T0: i64 = 1_700_000_000 * 1_000_000_000 / H * H; // an hour boundary

fn limits() -> StreamLimits {
    StreamLimits {
        max_streams: 0,
        out_of_order_window_ns: H,
    }
}

fn tenant() -> TenantId {
    TenantId::new("t1").unwrap()
}

async fn open(dir: &std::path::Path, tune: impl Fn(&mut LogsOptions)) -> LogsDb {
    let mut opts = LogsOptions::new(dir.to_path_buf());
    opts.store.wal.fsync = argus_wal::FsyncPolicy::Never;
    tune(&mut opts);
    let storage =
        ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
    LogsDb::open(opts, storage).await.unwrap()
}

fn stream(labels: &[(&str, &str)], entries: &[(i64, &str)]) -> LogStream {
    LogStream {
        labels: Labels::from_pairs(labels.iter().copied()),
        entries: entries.iter().map(|&(t, l)| LogEntry::new(t, l)).collect(),
    }
}

fn select(
    db: &LogsDb,
    m: &[Matcher],
    start: i64,
    end: i64,
    dir: Direction,
    required: &[&str],
) -> (Vec<(String, i64, String)>, ScanStats) {
    let sel = LogSelect {
        matchers: m.to_vec(),
        start_ns: start,
        end_ns: end,
        required: required.iter().map(|s| s.to_string()).collect(),
        direction: dir,
        skip_lines: false,
        metadata_keys: None,
        json_keys: None,
    };
    let mut c = db.select(&tenant(), &sel).unwrap();
    let mut out = Vec::new();
    while let Some(LogBatch { labels, entries }) = c.next_batch().unwrap() {
        let mut prev: Option<i64> = None;
        for e in entries {
            if let Some(p) = prev {
                match dir {
                    Direction::Forward => assert!(e.ts_ns >= p),
                    Direction::Backward => assert!(e.ts_ns <= p),
                }
            }
            prev = Some(e.ts_ns);
            out.push((labels.to_string(), e.ts_ns, e.line));
        }
    }
    out.sort();
    (out, c.stats())
}

/// Every stream in `[start, end)`.
fn sel_all(start: i64, end: i64, direction: Direction, skip_lines: bool) -> LogSelect {
    LogSelect {
        matchers: Vec::new(),
        start_ns: start,
        end_ns: end,
        required: Vec::new(),
        direction,
        skip_lines,
        metadata_keys: None,
        json_keys: None,
    }
}

fn all(db: &LogsDb) -> Vec<(String, i64, String)> {
    select(db, &[], i64::MIN, i64::MAX, Direction::Forward, &[]).0
}

fn corpus() -> Vec<LogStream> {
    vec![
        stream(
            &[("job", "web"), ("env", "prod")],
            &[
                (T0 + 1, "GET /a 200"),
                (T0 + 2, "GET /b 500"),
                (T0 + H + 5, "GET /c 200"),
            ],
        ),
        stream(
            &[("job", "db")],
            &[(T0 + 3, "slow query"), (T0 + 4, "connection refused")],
        ),
    ]
}

#[tokio::test]
async fn push_read_flush_read_restart() {
    let dir = tempfile::tempdir().unwrap();
    // No compaction ranges: a flush cuts one segment per hour.
    let tune = |o: &mut LogsOptions| o.store.compaction_ranges = vec![o.store.segment_range_ms];
    let db = open(dir.path(), tune).await;
    let r = db.push(&tenant(), corpus(), limits()).unwrap();
    assert_eq!(
        (r.accepted_entries, r.new_streams, r.rejected_total()),
        (5, 2, 0)
    );
    let before = all(&db);
    assert_eq!(before.len(), 5);
    let web = [Matcher::new(MatchOp::Equal, "job", "web").unwrap()];
    let (rows, _) = select(&db, &web, T0, T0 + H, Direction::Backward, &[]);
    assert_eq!(
        rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
        ["GET /a 200", "GET /b 500"]
    );

    db.flush_all().await.unwrap();
    {
        let t = db.tenant(&tenant()).unwrap();
        let st = t.state.read();
        // Two aligned hours: two segments; the head is empty.
        assert_eq!(st.segments.len(), 2);
        assert!(st.active.time_range().is_none() && st.frozen.is_none());
    }
    assert_eq!(all(&db), before);
    let (rows, stats) = select(&db, &web, T0, T0 + H, Direction::Forward, &[]);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        stats.segments_total, 1,
        "the second hour's segment is outside the range"
    );
    assert_eq!(stats.lines_scanned, 2);
    // Series and stats come from segment indexes.
    let series = db.series(&tenant(), &[], T0, T0 + 2 * H).unwrap();
    assert_eq!(series.len(), 2);
    let st = db.stream_stats(&tenant(), &web, T0, T0 + 2 * H).unwrap();
    assert_eq!((st.len(), st[0].entries, st[0].chunks), (1, 3, 2));
    // A Parquet file per segment.
    let parquet: Vec<_> = walk(&dir.path().join("objects"))
        .into_iter()
        .filter(|p| p.ends_with("data.parquet"))
        .collect();
    assert_eq!(parquet.len(), 2);

    // More entries in the head, then a restart: all there, once.
    db.push(
        &tenant(),
        vec![stream(&[("job", "db")], &[(T0 + 10, "after flush")])],
        limits(),
    )
    .unwrap();
    let expect = all(&db);
    drop(db);
    let db = open(dir.path(), tune).await;
    assert_eq!(all(&db), expect);
    assert_eq!(expect.len(), 6);
}

#[tokio::test]
async fn a_flush_writes_one_segment_per_window_of_the_largest_compaction_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |_| {}).await;
    // 22:00, 23:00 and, the next day, 00:00 (UTC); compaction ranges 1h, 4h, 24h.
    assert_eq!(T0 / H % 24, 22);
    let mut streams = corpus();
    streams.push(stream(&[("job", "db")], &[(T0 + 2 * H + 1, "next day")]));
    db.push(&tenant(), streams, limits()).unwrap();
    let before = all(&db);
    db.flush_all().await.unwrap();
    {
        let t = db.tenant(&tenant()).unwrap();
        let st = t.state.read();
        let spans: Vec<(i64, i64)> = st
            .segments
            .iter()
            .map(|s| (s.meta.min_time, s.meta.max_time))
            .collect();
        let ms = |ns: i64| ns / 1_000_000;
        assert_eq!(
            spans,
            [
                (ms(T0), ms(T0 + H + 5) + 1),
                (ms(T0 + 2 * H + 1), ms(T0 + 2 * H + 1) + 1)
            ]
        );
    }
    assert_eq!(all(&db), before);
    let web = [Matcher::new(MatchOp::Equal, "job", "web").unwrap()];
    let (rows, _) = select(&db, &web, T0, T0 + H, Direction::Forward, &[]);
    assert_eq!(rows.len(), 2);
    drop(db);
    let db = open(dir.path(), |_| {}).await;
    assert_eq!(all(&db), before);
}

#[tokio::test]
async fn a_flush_cuts_the_newest_part_apart() {
    let dir = tempfile::tempdir().unwrap();
    let tail = 10_000u64;
    let db = open(dir.path(), |o| o.store.flush_tail_bytes = tail).await;
    let ms = 1_000_000;
    let streams: Vec<LogStream> = ["a", "b", "c"]
        .iter()
        .map(|job| {
            let entries: Vec<(i64, String)> = (0..500)
                .map(|i| (T0 + i * ms, format!("{job} line {i:05} of the tail test")))
                .collect();
            LogStream {
                labels: Labels::from_pairs([("job", *job)]),
                entries: entries.iter().map(|(t, l)| LogEntry::new(*t, l)).collect(),
            }
        })
        .collect();
    let size = streams[0].entries[0].size() as u64;
    db.push(&tenant(), streams, limits()).unwrap();
    let before = all(&db);
    db.flush_all().await.unwrap();
    {
        let t = db.tenant(&tenant()).unwrap();
        let st = t.state.read();
        let metas: Vec<&SegmentMeta> = st.segments.iter().map(|s| &s.meta).collect();
        assert_eq!(metas.len(), 2, "{metas:?}");
        let (body, newest) = (metas[0], metas[1]);
        assert_eq!(body.min_time, T0 / ms);
        assert!(body.max_time <= newest.min_time);
        assert_eq!(newest.max_time, (T0 + 499 * ms) / ms + 1);
        // At least `tail` bytes, and less than one more millisecond's worth
        // (three entries).
        assert!(newest.raw_bytes >= tail, "{}", newest.raw_bytes);
        assert!(newest.raw_bytes < tail + 3 * size, "{}", newest.raw_bytes);
        assert_eq!(body.entries + newest.entries, 1500);
    }
    assert_eq!(all(&db), before);
    drop(db);
    let db = open(dir.path(), |o| o.store.flush_tail_bytes = tail).await;
    assert_eq!(all(&db), before);
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A crash after a flush installed its segments but before it released the
/// WAL: the restart skips what the segments hold, keeps the rest.
#[tokio::test]
async fn crash_between_install_and_release_neither_loses_nor_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |_| {}).await;
    db.push(&tenant(), corpus(), limits()).unwrap();
    let t = db.tenant(&tenant()).unwrap();
    let lc = db.tenants.lifecycle(&t);
    assert!(lc.source.freeze().is_some());
    // Late entries arrive during the flush: they go to the new head.
    db.push(
        &tenant(),
        vec![stream(&[("job", "db")], &[(T0 + 6, "during flush")])],
        limits(),
    )
    .unwrap();
    let wal_dir = db.tenants.opts.data().wal(&tenant(), Signal::Logs);
    let saved = dir.path().join("wal-copy");
    copy_dir(&wal_dir, &saved);
    lc.flush().await.unwrap();
    let expect = all(&db);
    assert_eq!(expect.len(), 6);
    drop((lc, t, db));
    std::fs::remove_dir_all(&wal_dir).unwrap();
    copy_dir(&saved, &wal_dir);
    let db = open(dir.path(), |_| {}).await;
    assert_eq!(all(&db), expect);
}

#[tokio::test]
async fn out_of_order_window_stream_limit_and_retries() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |_| {}).await;
    let l = StreamLimits {
        max_streams: 2,
        out_of_order_window_ns: H,
    };
    let r = db
        .push(
            &tenant(),
            vec![stream(
                &[("job", "a")],
                &[
                    (T0 + 2 * H, "new"),
                    (T0 + H + 1, "late but in window"),
                    (T0, "too old"),
                ],
            )],
            l,
        )
        .unwrap();
    assert_eq!(r.accepted_entries, 2);
    assert_eq!(r.rejected.get(&LogRejectReason::TooOld), Some(&1));
    assert!(
        r.examples[0].1.contains("entry too far behind"),
        "{:?}",
        r.examples
    );
    // The window counts from the newest entry across pushes and flushes.
    db.flush_all().await.unwrap();
    let r = db
        .push(
            &tenant(),
            vec![stream(&[("job", "a")], &[(T0 + H - 1, "old")])],
            l,
        )
        .unwrap();
    assert_eq!(r.rejected.get(&LogRejectReason::TooOld), Some(&1));
    // Streams: two allowed, the third refused whole.
    let r = db
        .push(
            &tenant(),
            vec![
                stream(&[("job", "b")], &[(T0 + 2 * H, "x")]),
                stream(&[("job", "c")], &[(T0 + 2 * H, "y"), (T0 + 2 * H + 1, "z")]),
                stream(&[("job", "d")], &[(T0 + 2 * H, "w")]),
            ],
            l,
        )
        .unwrap();
    assert_eq!(r.rejected.get(&LogRejectReason::StreamLimit), Some(&1));
    assert!(r.limited());
    // A retried push is answered as stored and stored once.
    let again = vec![stream(
        &[("job", "b")],
        &[(T0 + 2 * H, "x"), (T0 + 2 * H, "x2")],
    )];
    let r = db.push(&tenant(), again, l).unwrap();
    assert_eq!((r.accepted_entries, r.rejected_total()), (2, 0));
    let b = [Matcher::new(MatchOp::Equal, "job", "b").unwrap()];
    assert_eq!(
        select(&db, &b, i64::MIN, i64::MAX, Direction::Forward, &[])
            .0
            .len(),
        2
    );
}

#[tokio::test]
async fn needles_skip_row_groups_and_compaction_keeps_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |o| {
        o.writer.row_group_bytes = 2000;
        o.store.compaction_ranges = vec![3_600_000, 2 * 3_600_000];
    })
    .await;
    // Three flushes over three hours, many row groups each; one needle.
    for hour in 0..3 {
        let mut entries: Vec<(i64, String)> = (0..300)
            .map(|i| {
                (
                    T0 + hour * H + i * 1_000_000,
                    format!("GET /item/{i} 200 host=web-{}", i % 7),
                )
            })
            .collect();
        if hour == 1 {
            entries[150].1 = "GET /item/150 500 ZQXJ-needle".to_string();
        }
        let entries: Vec<(i64, &str)> = entries.iter().map(|(t, l)| (*t, l.as_str())).collect();
        // A second stream, first in label order but later in the hour: a
        // merge must still read each segment in stream order.
        let api: Vec<(i64, String)> = (0..50)
            .map(|i| {
                (
                    T0 + hour * H + H / 2 + i,
                    format!("POST /api/{i} 201 {}", "x".repeat(100)),
                )
            })
            .collect();
        let api: Vec<(i64, &str)> = api.iter().map(|(t, l)| (*t, l.as_str())).collect();
        db.push(
            &tenant(),
            vec![
                stream(&[("job", "web")], &entries),
                stream(&[("job", "api")], &api),
            ],
            limits(),
        )
        .unwrap();
        db.flush_all().await.unwrap();
    }
    let (rows, stats) = select(
        &db,
        &[],
        i64::MIN,
        i64::MAX,
        Direction::Backward,
        &["ZQXJ-needle"],
    );
    assert!(rows.iter().any(|r| r.2.contains("ZQXJ-needle")));
    assert!(stats.blocks_total > 10, "{stats:?}");
    assert_eq!(
        stats.blocks_skipped_bloom,
        stats.blocks_total - 1,
        "{stats:?}"
    );
    let before = all(&db);
    assert_eq!(before.len(), 1050);
    // A count reads no line: the segments' line column is not read.
    let read = |skip_lines: bool| {
        let sel = sel_all(i64::MIN, i64::MAX, Direction::Forward, skip_lines);
        let mut c = db.select(&tenant(), &sel).unwrap();
        let mut lines = Vec::new();
        while let Some(b) = c.next_batch().unwrap() {
            lines.extend(b.entries.into_iter().map(|e| e.line));
        }
        (lines, c.stats().bytes_read)
    };
    let (with, with_bytes) = read(false);
    let (without, without_bytes) = read(true);
    assert_eq!((with.len(), without.len()), (1050, 1050));
    assert!(without.iter().all(String::is_empty));
    assert!(
        without_bytes < with_bytes,
        "{without_bytes} vs {with_bytes}"
    );
    db.compact_all().await.unwrap();
    let n = db.tenant(&tenant()).unwrap().state.read().segments.len();
    assert_eq!(n, 2, "hours 0 and 1 merged into one 2h segment");
    assert_eq!(all(&db), before);
    drop(db);
    let db = open(dir.path(), |_| {}).await;
    assert_eq!(all(&db), before);
}

#[tokio::test]
async fn maintain_flushes_what_is_due_and_compacts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |o| {
        o.store.compaction_ranges = vec![3_600_000, 2 * 3_600_000];
        o.store.flush_bytes = 1000;
        // The corpus is from 2023: no retention by time.
        o.store.retention_ms = 0;
    })
    .await;
    let line = "y".repeat(300);
    let hour = |h: i64| {
        let entries: Vec<(i64, &str)> = (0..5).map(|i| (T0 + h * H + i, line.as_str())).collect();
        vec![stream(&[("job", "a")], &entries)]
    };
    // Hours 0 and 1 in segments of their own: a window due for a merge.
    for h in 0..2 {
        db.push(&tenant(), hour(h), limits()).unwrap();
        db.flush_all().await.unwrap();
    }
    // Hour 2 in memory, over `flush_bytes`: a flush is due too.
    db.push(&tenant(), hour(2), limits()).unwrap();
    let segments = || db.tenant(&tenant()).unwrap().state.read().segments.len();
    assert_eq!(segments(), 2);
    let before = all(&db);
    db.maintain().await;
    let t = db.tenant(&tenant()).unwrap();
    assert!(!db.tenants.is_due(&t), "the head was flushed");
    assert_eq!(segments(), 2, "hours 0 and 1 merged, hour 2 flushed");
    assert_eq!(all(&db), before);
}

#[tokio::test]
async fn a_push_beyond_unflushed_memory_waits_then_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |o| {
        o.store.max_head_bytes = 1000;
        o.store.push_wait = std::time::Duration::from_millis(50);
    })
    .await;
    let line = "x".repeat(600);
    let big = |t: i64| vec![stream(&[("job", "a")], &[(T0 + t, line.as_str())])];
    // Under the bound: stored. At it: refused as overloaded (429), nothing stored.
    db.push(&tenant(), big(1), limits()).unwrap();
    db.push(&tenant(), big(2), limits()).unwrap();
    let e = db.push(&tenant(), big(3), limits()).unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::Overloaded);
    assert!(e.message.contains("max_head_bytes"), "{e}");
    assert_eq!(all(&db).len(), 2);
    // A flush frees the memory: pushes are taken again.
    db.flush_all().await.unwrap();
    db.push(&tenant(), big(3), limits()).unwrap();
    assert_eq!(all(&db).len(), 3);
}

/// (labels, metadata, ts) of an entry.
type Stamp = (String, Vec<(String, String)>, i64);

/// (labels, metadata, ts) of every entry a selection returns, read as
/// timestamps (`next_runs`), each run checked to be in order.
fn timestamps(db: &LogsDb, m: &[Matcher], start: i64, end: i64, dir: Direction) -> Vec<Stamp> {
    let sel = LogSelect {
        matchers: m.to_vec(),
        start_ns: start,
        end_ns: end,
        required: Vec::new(),
        direction: dir,
        skip_lines: true,
        metadata_keys: None,
        json_keys: None,
    };
    let mut c = db.select(&tenant(), &sel).unwrap();
    let mut out = Vec::new();
    while let Some(b) = c.next_runs().unwrap() {
        for r in b.runs {
            assert!(!r.ts_ns.is_empty());
            for w in r.ts_ns.windows(2) {
                match dir {
                    Direction::Forward => assert!(w[1] >= w[0]),
                    Direction::Backward => assert!(w[1] <= w[0]),
                }
            }
            for t in r.ts_ns {
                out.push((b.labels.to_string(), r.metadata.clone(), t));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn timestamps_match_entries_in_head_and_segments() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |o| o.writer.row_group_bytes = 64).await;
    let mut streams = corpus();
    // Metadata that changes from entry to entry, and back.
    let md = |v: &str| vec![("trace_id".to_string(), v.to_string())];
    streams.push(LogStream {
        labels: Labels::from_pairs([("job", "md")]),
        entries: (0..40)
            .map(|i| {
                let mut e = LogEntry::new(T0 + 100 + i, format!("line {i}"));
                if i % 7 < 3 {
                    e.metadata = md(if i % 2 == 0 { "a" } else { "b" });
                }
                e
            })
            .collect(),
    });
    db.push(&tenant(), streams, limits()).unwrap();
    let entries = |db: &LogsDb, dir| {
        let sel = sel_all(T0 + 2, T0 + 2 * H, dir, false);
        let mut c = db.select(&tenant(), &sel).unwrap();
        let mut out = Vec::new();
        while let Some(b) = c.next_batch().unwrap() {
            for e in b.entries {
                out.push((b.labels.to_string(), e.metadata, e.ts_ns));
            }
        }
        out.sort();
        out
    };
    for flushed in [false, true] {
        if flushed {
            db.flush_all().await.unwrap();
            // More in the head: both sources at once.
            db.push(
                &tenant(),
                vec![stream(&[("job", "db")], &[(T0 + 50, "late")])],
                limits(),
            )
            .unwrap();
        }
        for dir in [Direction::Forward, Direction::Backward] {
            let want = entries(&db, dir);
            assert!(want.len() > 40, "{}", want.len());
            assert!(want.iter().any(|(_, m, _)| !m.is_empty()));
            assert_eq!(timestamps(&db, &[], T0 + 2, T0 + 2 * H, dir), want);
            // Runs with their lines: the same entries, each with its line.
            let sel = sel_all(T0 + 2, T0 + 2 * H, dir, false);
            let lines = |runs: bool| {
                let mut c = db.select(&tenant(), &sel).unwrap();
                let mut out = Vec::new();
                if runs {
                    while let Some(b) = c.next_runs().unwrap() {
                        for r in &b.runs {
                            assert_eq!(r.ts_ns.len(), r.lines_held());
                            for (i, t) in r.ts_ns.iter().enumerate() {
                                out.push((b.labels.to_string(), *t, r.line(i).to_string()));
                            }
                        }
                    }
                } else {
                    while let Some(b) = c.next_batch().unwrap() {
                        for e in b.entries {
                            out.push((b.labels.to_string(), e.ts_ns, e.line));
                        }
                    }
                }
                out
            };
            let (mut a, mut b) = (lines(true), lines(false));
            a.sort();
            b.sort();
            assert!(a.iter().any(|r| !r.2.is_empty()));
            assert_eq!(a, b);
            // Read in parts: every entry once across the parts, and the
            // planning counted once.
            let sel = sel_all(T0 + 2, T0 + 2 * H, dir, true);
            let mut got = Vec::new();
            let mut segments = 0;
            for (i, mut c) in db
                .select_parts(&tenant(), &sel, 3)
                .unwrap()
                .into_iter()
                .enumerate()
            {
                while let Some(b) = if i % 2 == 0 {
                    c.next_runs().unwrap()
                } else {
                    c.next_batch().unwrap().map(Into::into)
                } {
                    for r in b.runs {
                        for t in r.ts_ns {
                            got.push((b.labels.to_string(), r.metadata.clone(), t));
                        }
                    }
                }
                segments += c.stats().segments_total;
            }
            got.sort();
            assert_eq!(got, want);
            let installed = db.tenant(&tenant()).unwrap().state.read().segments.len() as u64;
            assert!(!flushed || installed > 0);
            assert_eq!(segments, installed);
            // Asking for metadata keys: the others are left out, and
            // segments skip the metadata column where the keys cannot be.
            let mut read = Vec::new();
            for (keys, kept) in [(vec!["trace_id"], true), (vec!["level", "x"], false)] {
                let sel = LogSelect {
                    metadata_keys: Some(keys.iter().map(|k| k.to_string()).collect()),
                    json_keys: None,
                    ..sel.clone()
                };
                let mut c = db.select(&tenant(), &sel).unwrap();
                let mut got = Vec::new();
                while let Some(b) = c.next_runs().unwrap() {
                    for r in b.runs {
                        for t in r.ts_ns {
                            got.push((b.labels.to_string(), r.metadata.clone(), t));
                        }
                    }
                }
                got.sort();
                let mut expect = want.clone();
                if !kept && flushed {
                    // The segments' entries come without metadata; the
                    // head's (one late entry, no metadata) as they are.
                    for e in &mut expect {
                        e.1.clear();
                    }
                    expect.sort();
                }
                assert_eq!(got, expect, "{keys:?}");
                read.push(c.stats().bytes_read);
            }
            if flushed {
                assert!(read[1] < read[0], "metadata column skipped: {read:?}");
            }
        }
    }
}

#[tokio::test]
async fn retried_entries_are_stored_once_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |_| {}).await;
    let a = |entries: &[(i64, &str)]| {
        let at: Vec<(i64, &str)> = entries.iter().map(|&(t, l)| (T0 + t, l)).collect();
        vec![stream(&[("job", "a")], &at)]
    };
    let lines = |db: &LogsDb| {
        let mut v: Vec<(i64, String)> = all(db).into_iter().map(|r| (r.1 - T0, r.2)).collect();
        v.sort();
        v
    };
    // Repeats inside one push, out of order.
    let first = [(5, "e"), (1, "a"), (5, "e"), (3, "c"), (1, "a"), (5, "f")];
    let r = db.push(&tenant(), a(&first), limits()).unwrap();
    assert_eq!(r.accepted_entries, 6);
    let once: Vec<(i64, String)> = [(1, "a"), (3, "c"), (5, "e"), (5, "f")]
        .iter()
        .map(|&(t, l)| (t, l.to_string()))
        .collect();
    assert_eq!(lines(&db), once);
    // Retried while that head is frozen, with new entries among them.
    let t = db.tenant(&tenant()).unwrap();
    assert!(db.tenants.lifecycle(&t).source.freeze().is_some());
    let retry = [(1, "a"), (2, "b"), (5, "f"), (6, "g"), (3, "c"), (2, "b")];
    let r = db.push(&tenant(), a(&retry), limits()).unwrap();
    assert_eq!(r.accepted_entries, 6);
    // ... and again, now that those are in the active head too.
    db.push(&tenant(), a(&retry), limits()).unwrap();
    let mut expect = once.clone();
    expect.extend([(2, "b".to_string()), (6, "g".to_string())]);
    expect.sort();
    assert_eq!(lines(&db), expect);
    db.tenants.lifecycle(&t).flush().await.unwrap();
    assert_eq!(lines(&db), expect);
}

#[tokio::test]
async fn a_bounded_backward_scan_still_returns_the_newest_entries() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), |o| o.writer.row_group_bytes = 3000).await;
    // Streams interleaved in time, each over the whole hour, in several
    // row groups: every row group spans most of the segment's range.
    let streams: Vec<LogStream> = (0..6)
        .map(|s| LogStream {
            labels: Labels::from_pairs([("job", format!("j{s}").as_str())]),
            entries: (0..200)
                .map(|i| {
                    LogEntry::new(
                        T0 + i * 10_000_000 + s,
                        format!("line {s} {i} {}", "x".repeat(40)),
                    )
                })
                .collect(),
        })
        .collect();
    db.push(&tenant(), streams, limits()).unwrap();
    db.flush_all().await.unwrap();
    let sel = sel_all(T0, T0 + H, Direction::Backward, false);
    let limit = 25;
    let mut c = db.select(&tenant(), &sel).unwrap();
    let mut held: Vec<(i64, String)> = Vec::new();
    while let Some(b) = c.next_batch().unwrap() {
        for e in b.entries {
            held.push((e.ts_ns, e.line));
        }
        held.sort_by(|a, b| b.cmp(a));
        held.truncate(limit);
        if held.len() == limit {
            c.bound(held[limit - 1].0);
        }
    }
    let (mut all_rows, _) = select(&db, &[], T0, T0 + H, Direction::Backward, &[]);
    all_rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)));
    let want: Vec<(i64, String)> = all_rows
        .into_iter()
        .take(limit)
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(held, want);
    // The bound saved reading: fewer lines than the segment holds.
    assert!(c.stats().lines_scanned < 240, "{:?}", c.stats());
}
