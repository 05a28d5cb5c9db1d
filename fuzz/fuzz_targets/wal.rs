//! WAL segment files with corrupted bytes (`argus_wal::Wal::open` repairs,
//! then `Wal::replay`), and the metrics records they hold
//! (`argus_tsdb::walrec::decode`).
//!
//! Input: a flags byte, then segment files back to back; the harness splits
//! them before each segment magic ("AWAL"), at most 4 files. Flags:
//! - bit 0: recompute each record's CRC (so mutations get past the checksums
//!   and reach the record and payload decoding);
//! - bit 1: set each header's `prev_segment_len` to the previous file's size;
//! - bit 2: the first file is checkpoint 1's only file, segments follow from 2;
//! - bit 3: number segments from 7 instead of 1 (or 2).
//!
//! Checked, as `docs/format/wal.md` promises: when `open` succeeds, replay
//! succeeds (open repaired everything), and after appending one record,
//! closing and reopening, replay yields the same records plus the new one.
#![no_main]

use argus_fuzz::scratch_dir;
use argus_wal::{FsyncPolicy, Wal, WalOptions, SEGMENT_HEADER_LEN, SEGMENT_MAGIC};
use libfuzzer_sys::fuzz_target;

const MAX_FILES: usize = 4;

fn split_files(data: &[u8]) -> Vec<Vec<u8>> {
    let magic = SEGMENT_MAGIC.to_be_bytes();
    let mut starts: Vec<usize> = vec![0];
    let mut i = 1;
    while i + 4 <= data.len() && starts.len() < MAX_FILES {
        if data[i..i + 4] == magic {
            starts.push(i);
            i += 4;
        } else {
            i += 1;
        }
    }
    starts.push(data.len());
    starts
        .windows(2)
        .map(|w| data[w[0]..w[1]].to_vec())
        .filter(|f| !f.is_empty())
        .collect()
}

/// Rewrites every record's CRC that fits in the file (format: len u32 LE,
/// crc u32 LE of the len bytes and the payload, payload).
fn fix_crcs(seg: &mut [u8]) {
    let mut off = SEGMENT_HEADER_LEN as usize;
    while off + 8 <= seg.len() {
        let len = u32::from_le_bytes(seg[off..off + 4].try_into().unwrap()) as usize;
        if len > seg.len() - off - 8 {
            return;
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&seg[off..off + 4]);
        h.update(&seg[off + 8..off + 8 + len]);
        seg[off + 4..off + 8].copy_from_slice(&h.finalize().to_le_bytes());
        off += 8 + len;
    }
}

fn replay_all(wal: &Wal) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    wal.replay(|r| {
        let _ = argus_tsdb::walrec::decode(r);
        out.push(r.to_vec());
        Ok(())
    })
    .expect("replay after a successful open");
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut files = split_files(rest);
    if flags & 1 != 0 {
        files.iter_mut().for_each(|f| fix_crcs(f));
    }
    if flags & 2 != 0 {
        for i in 1..files.len() {
            let prev = files[i - 1].len() as u64;
            if files[i].len() >= SEGMENT_HEADER_LEN as usize {
                files[i][8..16].copy_from_slice(&prev.to_le_bytes());
            }
        }
    }
    let tmp = scratch_dir();
    let dir = tmp.path().join("wal");
    std::fs::create_dir(&dir).unwrap();
    let mut index = if flags & 8 != 0 { 7 } else { 1 };
    let mut files = files.into_iter();
    if flags & 4 != 0 {
        if let Some(f) = files.next() {
            let cdir = dir.join(format!("checkpoint.{index:08}"));
            std::fs::create_dir(&cdir).unwrap();
            std::fs::write(cdir.join("00000000"), f).unwrap();
            index += 1;
        }
    }
    for f in files {
        std::fs::write(dir.join(format!("{index:08}")), f).unwrap();
        index += 1;
    }

    let opts = WalOptions {
        segment_size: 4096,
        fsync: FsyncPolicy::Never,
    };
    let Ok(wal) = Wal::open(&dir, opts.clone()) else {
        return;
    };
    let mut records = replay_all(&wal);
    let tail: &[u8] = b"fuzz-tail";
    let seq = wal.append(&[tail]).expect("append after open");
    wal.sync(seq).expect("sync");
    wal.close().expect("close");
    drop(wal);
    let wal = Wal::open(&dir, opts).expect("reopen a repaired wal");
    records.push(tail.to_vec());
    assert_eq!(replay_all(&wal), records, "replay after reopen");
});
