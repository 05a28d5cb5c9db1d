//! Appending, rotating and reading back.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use argus_wal::{FsyncPolicy, Wal, WalError, WalOptions, SEGMENT_HEADER_LEN};
use common::*;

#[test]
fn round_trip_across_segment_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (0..1000).map(record).collect();
    let wal = open(dir.path(), 512);
    assert!(replay_all(&wal).is_empty());
    write_all(&wal, &records);

    let segments = wal.segments().unwrap();
    assert!(
        segments.len() > 100,
        "expected many segments, got {segments:?}"
    );
    assert_eq!(segments, (1..=segments.len() as u64).collect::<Vec<_>>());
    for &s in &segments {
        let len = fs::metadata(segment_file(dir.path(), s)).unwrap().len();
        assert!(len <= 512, "segment {s} is {len} bytes");
    }
    wal.close().unwrap();
    drop(wal);

    let wal = open(dir.path(), 512);
    let mut got = Vec::new();
    let stats = wal
        .replay(|r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
    assert_eq!(got, records);
    assert_eq!(stats.records, 1000);
    assert_eq!(
        stats.bytes,
        records.iter().map(|r| r.len() as u64).sum::<u64>()
    );
    assert_eq!(stats.segments, segments.len() as u64);
    assert!(!stats.from_checkpoint);
}

#[test]
fn replay_after_reopen_then_append_more() {
    let dir = tempfile::tempdir().unwrap();
    let first: Vec<Vec<u8>> = (0..100).map(record).collect();
    let second: Vec<Vec<u8>> = (100..150).map(record).collect();

    let wal = open(dir.path(), 4096);
    write_all(&wal, &first);
    let last_before = *wal.segments().unwrap().last().unwrap();
    drop(wal); // drop closes

    let (wal, got) = reopen_replay(dir.path(), 4096);
    assert_eq!(got, first);
    // Appends go to a fresh segment, never into the replayed one.
    assert_eq!(wal.stats().current_segment, last_before + 1);
    let replayed_len = fs::metadata(segment_file(dir.path(), last_before))
        .unwrap()
        .len();
    write_all(&wal, &second);
    assert_eq!(
        fs::metadata(segment_file(dir.path(), last_before))
            .unwrap()
            .len(),
        replayed_len
    );
    wal.close().unwrap();
    drop(wal);

    let (_wal, got) = reopen_replay(dir.path(), 4096);
    assert_eq!(got, [first, second].concat());
}

#[test]
fn oversized_record_gets_its_own_segment() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 100);
    let small = vec![1u8; 10];
    let big = vec![2u8; 1000];
    write_all(&wal, &[small.clone(), big.clone(), small.clone()]);
    let segs = non_empty_segments(&wal);
    assert_eq!(segs.len(), 3);
    let big_len = fs::metadata(segment_file(dir.path(), segs[1]))
        .unwrap()
        .len();
    assert_eq!(big_len, SEGMENT_HEADER_LEN + 8 + 1000);
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 100);
    assert_eq!(got, vec![small.clone(), big, small]);
}

#[test]
fn batch_never_spans_segments() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 64);
    let a = vec![7u8; 30];
    let seq1 = wal.append(&[&a]).unwrap();
    // 3 * 38 bytes > 64: the batch goes whole into the next segment.
    let seq2 = wal.append(&[&a, &a, &a]).unwrap();
    assert_eq!(seq2, seq1 + 1);
    wal.sync(seq2).unwrap();
    let segs = non_empty_segments(&wal);
    assert_eq!(segs.len(), 2);
    assert_eq!(record_offsets(&segment_file(dir.path(), segs[1])).len(), 3);
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 64);
    assert_eq!(got.len(), 4);
}

#[test]
fn empty_records_and_empty_batches() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    let seq = wal.append(&[b"", b"x", b""]).unwrap();
    assert_eq!(
        wal.append(&[]).unwrap(),
        seq,
        "empty batch does not advance the sequence"
    );
    wal.sync(seq).unwrap();
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, vec![vec![], b"x".to_vec(), vec![]]);
}

#[test]
fn closed_wal_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    wal.append(&[b"a"]).unwrap();
    wal.close().unwrap();
    wal.close().unwrap(); // idempotent
    assert!(matches!(wal.append(&[b"b"]), Err(WalError::Closed)));
    assert!(matches!(wal.cut_segment(), Err(WalError::Closed)));
    assert!(matches!(
        wal.checkpoint(0, std::iter::empty()),
        Err(WalError::Closed)
    ));
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, vec![b"a".to_vec()]);
}

#[test]
fn cut_segment_returns_closed_index() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1 << 20);
    assert_eq!(wal.stats().current_segment, 1);
    wal.append(&[b"a"]).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 1);
    wal.append(&[b"b"]).unwrap();
    assert_eq!(wal.cut_segment().unwrap(), 2);
    assert_eq!(wal.segments().unwrap(), vec![1, 2, 3]);
    assert_eq!(wal.stats().current_segment, 3);
}

#[test]
fn replay_stops_with_callback_error() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &(0..10).map(record).collect::<Vec<_>>());
    drop(wal);
    let wal = open(dir.path(), 1024);
    let mut calls = 0;
    let err = wal
        .replay(|_| {
            calls += 1;
            if calls == 3 {
                Err(WalError::callback("store rejected record"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(calls, 3);
    assert!(matches!(err, WalError::Callback(_)), "{err}");
}

#[test]
fn stats_count_bytes_and_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1 << 20);
    let before = wal.stats();
    assert_eq!(before.bytes_written, SEGMENT_HEADER_LEN);
    assert_eq!(before.fsyncs, 0);
    let seq = wal.append(&[b"hello", b"world"]).unwrap();
    wal.sync(seq).unwrap();
    let after = wal.stats();
    assert_eq!(after.bytes_written, SEGMENT_HEADER_LEN + 2 * (8 + 5));
    assert_eq!(after.fsyncs, 1);
    assert!(after.fsync_seconds_total >= after.last_fsync_seconds);
    assert_eq!(after.disk_bytes, after.bytes_written);
}

#[test]
fn never_policy_only_fsyncs_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: 64,
        fsync: FsyncPolicy::Never,
    };
    let wal = Wal::open(dir.path(), opts).unwrap();
    for i in 0..20 {
        let seq = wal.append(&[&record(i)]).unwrap();
        wal.sync(seq).unwrap();
    }
    assert_eq!(wal.stats().fsyncs, 0);
    wal.close().unwrap();
    assert_eq!(wal.stats().fsyncs, 1);
}

#[test]
fn interval_policy_fsyncs_in_background() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: 1 << 20,
        fsync: FsyncPolicy::Interval(Duration::from_millis(10)),
    };
    let wal = Wal::open(dir.path(), opts).unwrap();
    let seq = wal.append(&[b"a"]).unwrap();
    wal.sync(seq).unwrap(); // returns at once
    let deadline = Instant::now() + Duration::from_secs(10);
    while wal.stats().fsyncs == 0 {
        assert!(Instant::now() < deadline, "background fsync never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    wal.close().unwrap();
}

#[test]
fn rejects_invalid_options() {
    let dir = tempfile::tempdir().unwrap();
    let bad_size = WalOptions {
        segment_size: SEGMENT_HEADER_LEN,
        fsync: FsyncPolicy::Always,
    };
    assert!(matches!(
        Wal::open(dir.path(), bad_size),
        Err(WalError::InvalidOptions(_))
    ));
    let bad_interval = WalOptions {
        segment_size: 1024,
        fsync: FsyncPolicy::Interval(Duration::ZERO),
    };
    assert!(matches!(
        Wal::open(dir.path(), bad_interval),
        Err(WalError::InvalidOptions(_))
    ));
}

#[test]
fn default_options() {
    let o = WalOptions::default();
    assert_eq!(o.segment_size, 128 * 1024 * 1024);
    assert_eq!(o.fsync, FsyncPolicy::Always);
}

#[test]
fn io_errors_carry_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, b"").unwrap();
    let err = Wal::open(&file.join("wal"), WalOptions::default()).unwrap_err();
    match &err {
        WalError::Io { path, .. } => assert!(path.starts_with(&file), "{err}"),
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().contains("not-a-dir"));
}
