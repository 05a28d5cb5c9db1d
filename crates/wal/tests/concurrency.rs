//! Group commit and concurrent appends.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::*;

#[test]
fn eight_threads_append_and_sync_concurrently() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 250;
    let dir = tempfile::tempdir().unwrap();
    // Small segments so rotation races with syncs.
    let wal = Arc::new(open(dir.path(), 4096));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let rec = format!("t{t}-r{i}-{}", "x".repeat(i % 50));
                    let seq = if i % 5 == 0 {
                        // Some multi-record batches too.
                        let second = format!("t{t}-r{i}-second");
                        wal.append(&[rec.as_bytes(), second.as_bytes()]).unwrap()
                    } else {
                        wal.append(&[rec.as_bytes()]).unwrap()
                    };
                    wal.sync(seq).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = wal.stats();
    eprintln!(
        "group commit: {} sync calls, {} fsyncs",
        THREADS * PER_THREAD,
        stats.fsyncs
    );
    let syncs = (THREADS * PER_THREAD) as u64;
    assert!(
        stats.fsyncs >= 1 && stats.fsyncs <= syncs + stats.current_segment,
        "{stats:?}"
    );
    assert!(wal.segments().unwrap().len() > 3);
    wal.close().unwrap();
    drop(wal);

    let (_wal, got) = reopen_replay(dir.path(), 4096);
    let expected = THREADS * PER_THREAD + THREADS * PER_THREAD / 5;
    assert_eq!(got.len(), expected);
    // Every record exactly once, and each thread's records in its own order.
    let mut next: HashMap<usize, usize> = HashMap::new();
    let mut seen_second = 0;
    for r in &got {
        let s = std::str::from_utf8(r).unwrap();
        let mut parts = s.splitn(3, '-');
        let t: usize = parts.next().unwrap()[1..].parse().unwrap();
        let i: usize = parts.next().unwrap()[1..].parse().unwrap();
        if s.ends_with("-second") {
            assert_eq!(
                next[&t],
                i + 1,
                "second record directly follows its batch mate"
            );
            seen_second += 1;
            continue;
        }
        let n = next.entry(t).or_insert(0);
        assert_eq!(*n, i, "thread {t} records out of order");
        *n += 1;
    }
    assert_eq!(seen_second, THREADS * PER_THREAD / 5);
    assert!(next.values().all(|&n| n == PER_THREAD));
}

#[test]
fn sync_already_covered_returns_without_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1 << 20);
    let a = wal.append(&[b"a"]).unwrap();
    let b = wal.append(&[b"b"]).unwrap();
    assert!(b > a);
    wal.sync(b).unwrap();
    assert_eq!(wal.stats().fsyncs, 1);
    wal.sync(a).unwrap();
    wal.sync(b).unwrap();
    wal.sync(0).unwrap();
    assert_eq!(wal.stats().fsyncs, 1, "covered by the first fsync");
    let c = wal.append(&[b"c"]).unwrap();
    wal.sync(c).unwrap();
    assert_eq!(wal.stats().fsyncs, 2);
}

#[test]
fn sync_of_unknown_future_seq_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1 << 20);
    let a = wal.append(&[b"a"]).unwrap();
    wal.sync(a + 1000).unwrap();
    assert_eq!(wal.stats().fsyncs, 1);
}

#[test]
fn rotation_makes_earlier_batches_durable() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 64);
    let a = wal.append(&[&[1u8; 40]]).unwrap();
    // Rotates: the old segment is fsynced before the new one is started.
    let _b = wal.append(&[&[2u8; 40]]).unwrap();
    let fsyncs = wal.stats().fsyncs;
    assert_eq!(fsyncs, 1);
    wal.sync(a).unwrap();
    assert_eq!(
        wal.stats().fsyncs,
        fsyncs,
        "a was covered by the rotation fsync"
    );
}

#[test]
fn replay_and_appends_from_other_threads() {
    // Appends from several threads, then checkpoint while other threads keep appending.
    let dir = tempfile::tempdir().unwrap();
    let wal = Arc::new(open(dir.path(), 512));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                for i in 0..200 {
                    let seq = wal.append(&[format!("{t}:{i}").as_bytes()]).unwrap();
                    wal.sync(seq).unwrap();
                }
            })
        })
        .collect();
    let mut checkpoints = 0;
    for _ in 0..5 {
        let upto = wal.cut_segment().unwrap();
        if wal
            .checkpoint(upto, std::iter::once(b"ckpt".to_vec()))
            .is_ok()
        {
            checkpoints += 1;
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    assert!(checkpoints >= 1);
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 512);
    assert_eq!(got[0], b"ckpt");
    // Records after the checkpoint are a suffix of each writer's sequence.
    let mut last: HashMap<String, i64> = HashMap::new();
    for r in &got[1..] {
        let s = std::str::from_utf8(r).unwrap();
        let (t, i) = s.split_once(':').unwrap();
        let i: i64 = i.parse().unwrap();
        if let Some(prev) = last.insert(t.to_string(), i) {
            assert_eq!(i, prev + 1, "{s}");
        }
    }
    for (t, &i) in &last {
        assert_eq!(i, 199, "writer {t} ends with its last record");
    }
}
