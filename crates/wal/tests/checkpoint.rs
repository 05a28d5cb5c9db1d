//! Checkpoints: replacement of old segments, and crashes at every step of the protocol.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use argus_wal::{FsyncPolicy, Wal, WalError, WalOptions};
use common::*;

fn ckpt_records(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("checkpoint record {i}").into_bytes())
        .collect()
}

fn checkpoint_dir(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("checkpoint.{index:08}"))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn checkpoint_then_replay_gives_checkpoint_plus_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &(0..200).map(record).collect::<Vec<_>>());
    let upto = wal.cut_segment().unwrap();
    let later: Vec<Vec<u8>> = (1000..1050).map(record).collect();
    write_all(&wal, &later);
    let ckpt = ckpt_records(30);
    wal.checkpoint(upto, ckpt.clone().into_iter()).unwrap();

    assert!(checkpoint_dir(dir.path(), upto).is_dir());
    assert!(wal.segments().unwrap().iter().all(|&s| s > upto));

    // In place (the active segment is not replayed: cut first)...
    wal.cut_segment().unwrap();
    assert_eq!(replay_all(&wal), [ckpt.clone(), later.clone()].concat());
    drop(wal);

    // ...and after reopening.
    let wal = open(dir.path(), 1024);
    let mut got = Vec::new();
    let stats = wal
        .replay(|r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
    assert_eq!(got, [ckpt, later].concat());
    assert!(stats.from_checkpoint);
    assert_eq!(stats.records, 80);
}

#[test]
fn large_checkpoint_spans_several_files() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 512);
    write_all(&wal, &[b"x".to_vec()]);
    let upto = wal.cut_segment().unwrap();
    let ckpt = ckpt_records(500);
    wal.checkpoint(upto, ckpt.clone().into_iter()).unwrap();
    let files = fs::read_dir(checkpoint_dir(dir.path(), upto))
        .unwrap()
        .count();
    assert!(files > 10, "{files} checkpoint files");
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 512);
    assert_eq!(got, ckpt);
}

#[test]
fn empty_checkpoint_drops_old_records() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &(0..20).map(record).collect::<Vec<_>>());
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, std::iter::empty()).unwrap();
    write_all(&wal, &[b"new".to_vec()]);
    drop(wal);
    let wal = open(dir.path(), 1024);
    let mut got = Vec::new();
    let stats = wal
        .replay(|r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
    assert_eq!(got, vec![b"new".to_vec()]);
    assert!(stats.from_checkpoint);
}

#[test]
fn newer_checkpoint_replaces_older() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &(0..50).map(record).collect::<Vec<_>>());
    let first = wal.cut_segment().unwrap();
    wal.checkpoint(first, ckpt_records(5).into_iter()).unwrap();
    write_all(&wal, &(50..100).map(record).collect::<Vec<_>>());
    let second = wal.cut_segment().unwrap();
    let ckpt2: Vec<Vec<u8>> = (0..7).map(|i| format!("second {i}").into_bytes()).collect();
    wal.checkpoint(second, ckpt2.clone().into_iter()).unwrap();
    assert!(!checkpoint_dir(dir.path(), first).exists());
    assert!(checkpoint_dir(dir.path(), second).exists());
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, ckpt2);
}

#[test]
fn invalid_checkpoint_indexes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &[b"a".to_vec()]);
    let active = wal.stats().current_segment;
    let err = wal.checkpoint(active, std::iter::empty()).unwrap_err();
    assert!(matches!(err, WalError::InvalidCheckpoint(_)), "{err}");
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, std::iter::empty()).unwrap();
    let err = wal.checkpoint(upto, std::iter::empty()).unwrap_err();
    assert!(matches!(err, WalError::InvalidCheckpoint(_)), "{err}");
}

#[test]
fn crash_before_rename_leaves_old_view_and_tmp_is_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (0..100).map(record).collect();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &records);
    let upto = wal.cut_segment().unwrap();
    drop(wal);

    // A half-written checkpoint: one complete file, one torn.
    let tmp = dir.path().join(format!("checkpoint.{upto:08}.tmp"));
    fs::create_dir(&tmp).unwrap();
    let mut seg = b"AWAL\x01\0\0\0".to_vec();
    seg.extend_from_slice(&[3, 0, 0, 0, 0xde, 0xad]);
    fs::write(tmp.join("00000000"), &seg).unwrap();

    let (wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, records, "the old view, untouched");
    assert!(!tmp.exists(), "leftover tmp checkpoint removed");

    // Checkpointing the same index again works.
    wal.checkpoint(upto, ckpt_records(3).into_iter()).unwrap();
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, ckpt_records(3));
}

#[test]
fn complete_tmp_checkpoint_is_still_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Vec<u8>> = (0..100).map(record).collect();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &records);
    let upto = wal.cut_segment().unwrap();
    // Produce a real checkpoint elsewhere and plant it as an unrenamed tmp directory.
    let other = tempfile::tempdir().unwrap();
    let w2 = open(other.path(), 1024);
    w2.append(&[b"x"]).unwrap();
    let up2 = w2.cut_segment().unwrap();
    w2.checkpoint(up2, ckpt_records(4).into_iter()).unwrap();
    drop(w2);
    copy_dir(
        &checkpoint_dir(other.path(), up2),
        &dir.path().join(format!("checkpoint.{upto:08}.tmp")),
    );
    drop(wal);
    let (_wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, records);
}

#[test]
fn crash_after_rename_before_cleanup_gives_new_view() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &(0..60).map(record).collect::<Vec<_>>());
    let first = wal.cut_segment().unwrap();
    let ckpt1 = ckpt_records(5);
    wal.checkpoint(first, ckpt1.into_iter()).unwrap();
    write_all(&wal, &(60..120).map(record).collect::<Vec<_>>());
    let second = wal.cut_segment().unwrap();
    let later: Vec<Vec<u8>> = (500..520).map(record).collect();
    write_all(&wal, &later);

    // Save what the second checkpoint will delete.
    let saved = tempfile::tempdir().unwrap();
    copy_dir(
        &checkpoint_dir(dir.path(), first),
        &saved.path().join("ckpt"),
    );
    let old_segments: Vec<u64> = wal
        .segments()
        .unwrap()
        .into_iter()
        .filter(|&s| s <= second)
        .collect();
    assert!(!old_segments.is_empty());
    for &s in &old_segments {
        fs::copy(
            segment_file(dir.path(), s),
            saved.path().join(format!("{s:08}")),
        )
        .unwrap();
    }

    let ckpt2 = ckpt_records(9);
    wal.checkpoint(second, ckpt2.clone().into_iter()).unwrap();
    drop(wal);

    // Undo the cleanup, as if the process died right after the rename.
    copy_dir(
        &saved.path().join("ckpt"),
        &checkpoint_dir(dir.path(), first),
    );
    for &s in &old_segments {
        fs::copy(
            saved.path().join(format!("{s:08}")),
            segment_file(dir.path(), s),
        )
        .unwrap();
    }

    let (wal, got) = reopen_replay(dir.path(), 1024);
    assert_eq!(got, [ckpt2, later].concat());
    assert!(
        !checkpoint_dir(dir.path(), first).exists(),
        "older checkpoint removed"
    );
    assert!(
        wal.segments().unwrap().iter().all(|&s| s > second),
        "replaced segments removed"
    );
}

#[test]
fn corrupt_checkpoint_fails_open_without_deleting() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 1024);
    write_all(&wal, &[b"a".to_vec()]);
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, ckpt_records(10).into_iter()).unwrap();
    write_all(&wal, &[b"b".to_vec()]);
    drop(wal);
    let seg = checkpoint_dir(dir.path(), upto).join("00000000");
    flip_byte(&seg, 30);
    let before: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let err = Wal::open(dir.path(), opts(1024)).unwrap_err();
    assert!(matches!(err, WalError::Corrupt { .. }), "{err}");
    let after: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len());
}

#[test]
fn missing_first_segment_after_checkpoint_ends_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let wal = open(dir.path(), 256);
    write_all(&wal, &[b"a".to_vec()]);
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, ckpt_records(2).into_iter()).unwrap();
    write_all(&wal, &(0..40).map(record).collect::<Vec<_>>());
    drop(wal);
    fs::remove_file(segment_file(dir.path(), upto + 1)).unwrap();
    let (wal, got) = reopen_replay(dir.path(), 256);
    assert_eq!(got, ckpt_records(2));
    assert_eq!(wal.segments().unwrap(), vec![upto + 1]);
}

#[test]
fn checkpoint_with_never_policy() {
    let dir = tempfile::tempdir().unwrap();
    let o = WalOptions {
        segment_size: 1024,
        fsync: FsyncPolicy::Never,
    };
    let wal = Wal::open(dir.path(), o.clone()).unwrap();
    wal.append(&[b"a"]).unwrap();
    let upto = wal.cut_segment().unwrap();
    wal.checkpoint(upto, ckpt_records(3).into_iter()).unwrap();
    drop(wal);
    let wal = Wal::open(dir.path(), o).unwrap();
    assert_eq!(replay_all(&wal), ckpt_records(3));
}
