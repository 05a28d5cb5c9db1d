//! Repair at open: torn tails, corruption, garbage, missing segments.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;

use argus_wal::{Wal, WalError, WalOptions, SEGMENT_HEADER_LEN};
use common::*;

/// Writes `n` records into a fresh WAL in `dir` with the given segment size and closes it.
fn setup(dir: &std::path::Path, n: usize, segment_size: u64) -> Vec<Vec<u8>> {
    let records: Vec<Vec<u8>> = (0..n).map(record).collect();
    let wal = open(dir, segment_size);
    write_all(&wal, &records);
    wal.close().unwrap();
    records
}

#[test]
fn torn_tail_is_truncated_to_last_good_record() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 50, 1 << 20);
    let locs = locate_records(dir.path());
    assert_eq!(locs.len(), 50);
    // Record 40 must have a payload so that "mid-record" is inside it.
    let victim = (40..50).find(|&i| !records[i].is_empty()).unwrap();
    let (seg, off) = locs[victim];
    let path = segment_file(dir.path(), seg);
    let before = file_len(&path);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(off + 8 + 1)
        .unwrap();

    let ((wal, got), warnings) = capture_warnings(|| reopen_replay(dir.path(), 1 << 20));
    assert_eq!(got, records[..victim]);
    assert_eq!(
        file_len(&path),
        off,
        "truncated to the end of the last good record"
    );
    assert!(before > off);
    let w = warnings
        .iter()
        .find(|w| w.starts_with("truncating corrupt wal tail"))
        .unwrap();
    assert!(w.contains(&format!("offset={off}")), "{w}");
    assert!(w.contains("dropped_bytes=9"), "{w}");
    assert!(w.contains(&path.display().to_string()), "{w}");

    // The repaired log keeps working.
    write_all(&wal, &[b"after repair".to_vec()]);
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1 << 20);
    assert_eq!(got.len(), victim + 1);
    assert_eq!(got.last().unwrap(), b"after repair");
}

#[test]
fn torn_record_header_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 10, 1 << 20);
    let (seg, off) = locate_records(dir.path())[7];
    let path = segment_file(dir.path(), seg);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(off + 3)
        .unwrap();
    let (_wal, got) = reopen_replay(dir.path(), 1 << 20);
    assert_eq!(got, records[..7]);
    assert_eq!(file_len(&path), off);
}

#[test]
fn corrupt_byte_in_last_segment() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 200, 1024);
    let locs = locate_records(dir.path());
    let last_seg = locs.last().unwrap().0;
    let in_last: Vec<usize> = (0..locs.len()).filter(|&i| locs[i].0 == last_seg).collect();
    assert!(in_last.len() >= 2);
    // A record in the middle of the last segment with a non-empty payload.
    let victim = *in_last[in_last.len() / 2..]
        .iter()
        .find(|&&i| !records[i].is_empty())
        .unwrap();
    let (_, off) = locs[victim];
    let path = segment_file(dir.path(), last_seg);
    flip_byte(&path, off + 8 + records[victim].len() as u64 / 2);

    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, records[..victim]);
    assert_eq!(file_len(&path), off);
}

#[test]
fn corrupt_byte_in_middle_segment_removes_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 300, 1024);
    let locs = locate_records(dir.path());
    let segs: Vec<u64> = {
        let mut s: Vec<u64> = locs.iter().map(|l| l.0).collect();
        s.dedup();
        s
    };
    assert!(segs.len() >= 10, "{segs:?}");
    let middle = segs[segs.len() / 2];
    let victim = (0..locs.len())
        .filter(|&i| locs[i].0 == middle)
        .nth(1)
        .unwrap();
    let (_, off) = locs[victim];
    let path = segment_file(dir.path(), middle);
    // Corrupt the CRC field itself.
    flip_byte(&path, off + 5);
    let later = open_segments(dir.path())
        .into_iter()
        .filter(|&s| s > middle)
        .count();
    assert!(later >= 2);

    let ((wal, got), warnings) = capture_warnings(|| reopen_replay(dir.path(), 1024));
    assert_eq!(got, records[..victim]);
    assert_eq!(file_len(&path), off);
    // Later segments are gone; the WAL appends right after the repaired one.
    assert_eq!(*wal.segments().unwrap().last().unwrap(), middle + 1);
    assert_eq!(wal.stats().current_segment, middle + 1);
    let removed = warnings
        .iter()
        .filter(|w| w.starts_with("removing wal segment after the end of the valid log"))
        .count();
    assert_eq!(removed, later);
}

#[test]
fn garbage_appended_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 30, 1 << 20);
    let (seg, _) = *locate_records(dir.path()).last().unwrap();
    let path = segment_file(dir.path(), seg);
    let good_len = file_len(&path);
    OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"garbage!! this is not a record")
        .unwrap();
    let (_wal, got) = reopen_replay(dir.path(), 1 << 20);
    assert_eq!(got, records);
    assert_eq!(file_len(&path), good_len);
}

#[test]
fn zero_filled_tail_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 30, 1 << 20);
    let (seg, _) = *locate_records(dir.path()).last().unwrap();
    let path = segment_file(dir.path(), seg);
    let good_len = file_len(&path);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(good_len + 4096)
        .unwrap();
    let (_wal, got) = reopen_replay(dir.path(), 1 << 20);
    assert_eq!(got, records);
    assert_eq!(file_len(&path), good_len);
}

#[test]
fn segment_with_torn_header_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 20, 1 << 20);
    // Simulate a crash right after creating the next segment.
    let last = *open_segments(dir.path()).last().unwrap();
    let torn = segment_file(dir.path(), last + 1);
    fs::write(&torn, b"AW").unwrap();
    let (wal, got) = reopen_replay(dir.path(), 1 << 20);
    assert_eq!(got, records);
    // The torn file was removed and its index reused for the fresh segment.
    assert_eq!(wal.stats().current_segment, last + 1);
    assert_eq!(file_len(&torn), SEGMENT_HEADER_LEN);
}

#[test]
fn bad_magic_in_middle_segment_ends_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 100, 512);
    let locs = locate_records(dir.path());
    let target = locs[50].0;
    flip_byte(&segment_file(dir.path(), target), 0);
    let first_in_target = locs.iter().position(|l| l.0 == target).unwrap();
    let (wal, got) = reopen_replay(dir.path(), 512);
    assert_eq!(got, records[..first_in_target]);
    // The segment with the bad header and everything after it are gone; its index is reused.
    assert_eq!(wal.segments().unwrap(), (1..=target).collect::<Vec<_>>());
    assert_eq!(wal.stats().current_segment, target);
}

#[test]
fn missing_segment_ends_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 100, 512);
    let locs = locate_records(dir.path());
    let gap = locs[50].0;
    fs::remove_file(segment_file(dir.path(), gap)).unwrap();
    let first_in_gap = locs.iter().position(|l| l.0 == gap).unwrap();
    let (wal, got) = reopen_replay(dir.path(), 512);
    assert_eq!(got, records[..first_in_gap]);
    assert_eq!(wal.segments().unwrap(), (1..=gap).collect::<Vec<_>>());
}

#[test]
fn middle_segment_that_lost_its_tail_ends_the_log() {
    // A record-aligned truncation of a middle segment passes every checksum; the next
    // segment's header (which records its predecessor's size) exposes it.
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 100, 512);
    let locs = locate_records(dir.path());
    let middle = locs[50].0;
    let in_middle: Vec<usize> = (0..locs.len()).filter(|&i| locs[i].0 == middle).collect();
    assert!(in_middle.len() >= 2);
    let cut_at = in_middle[in_middle.len() - 1]; // drop the segment's last record, cleanly
    let path = segment_file(dir.path(), middle);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(locs[cut_at].1)
        .unwrap();

    let ((wal, got), warnings) = capture_warnings(|| reopen_replay(dir.path(), 512));
    assert_eq!(got, records[..cut_at]);
    assert_eq!(
        wal.segments().unwrap(),
        (1..=middle + 1).collect::<Vec<_>>()
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("previous wal segment lost data")),
        "{warnings:?}"
    );
}

#[test]
fn version_1_segments_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let records = setup(dir.path(), 20, 1 << 20);
    for i in open_segments(dir.path()) {
        let path = segment_file(dir.path(), i);
        let mut data = fs::read(&path).unwrap();
        data[4] = 1;
        fs::write(&path, &data).unwrap();
    }
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let mut got = Vec::new();
    wal.replay(|r| {
        got.push(r.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(got, records);
}

#[test]
fn unknown_version_refuses_to_open_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), 20, 1 << 20);
    let path = segment_file(dir.path(), 1);
    let mut data = fs::read(&path).unwrap();
    data[4] = argus_wal::FORMAT_VERSION + 1;
    fs::write(&path, &data).unwrap();
    let before = open_segments(dir.path());
    let err = Wal::open(dir.path(), WalOptions::default()).unwrap_err();
    assert!(
        matches!(err, WalError::UnsupportedVersion { version: 3, .. }),
        "{err}"
    );
    assert_eq!(open_segments(dir.path()), before);
    assert_eq!(fs::read(&path).unwrap(), data);
}

#[test]
fn damage_after_open_is_a_replay_error() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), 20, 1 << 20);
    let wal = open(dir.path(), 1 << 20);
    let (seg, off) = locate_records(dir.path())[10];
    flip_byte(&segment_file(dir.path(), seg), off);
    let err = wal.replay(|_| Ok(())).unwrap_err();
    match err {
        WalError::Corrupt { offset, .. } => assert_eq!(offset, off),
        other => panic!("unexpected {other}"),
    }
}

fn open_segments(dir: &std::path::Path) -> Vec<u64> {
    let mut v: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}
