//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use argus_wal::{FsyncPolicy, Wal, WalOptions, SEGMENT_HEADER_LEN};

pub(crate) fn opts(segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        fsync: FsyncPolicy::Always,
    }
}

pub(crate) fn open(dir: &Path, segment_size: u64) -> Wal {
    Wal::open(dir, opts(segment_size)).expect("open wal")
}

/// Replays everything into a vector.
pub(crate) fn replay_all(wal: &Wal) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    wal.replay(|r| {
        out.push(r.to_vec());
        Ok(())
    })
    .expect("replay");
    out
}

/// Reopens the WAL in `dir` and replays it.
pub(crate) fn reopen_replay(dir: &Path, segment_size: u64) -> (Wal, Vec<Vec<u8>>) {
    let wal = open(dir, segment_size);
    let records = replay_all(&wal);
    (wal, records)
}

/// A deterministic record of varying size (0..=200 bytes) and content.
pub(crate) fn record(i: usize) -> Vec<u8> {
    let len = (i * 37) % 201;
    (0..len).map(|j| (i.wrapping_mul(31) ^ j) as u8).collect()
}

/// Appends `records` one batch per record and syncs.
pub(crate) fn write_all(wal: &Wal, records: &[Vec<u8>]) {
    for r in records {
        let seq = wal.append(&[r]).expect("append");
        wal.sync(seq).expect("sync");
    }
}

pub(crate) fn segment_file(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{index:08}"))
}

/// Segment files that hold at least one record.
pub(crate) fn non_empty_segments(wal: &Wal) -> Vec<u64> {
    wal.segments()
        .unwrap()
        .into_iter()
        .filter(|&s| fs::metadata(segment_file(wal.dir(), s)).unwrap().len() > SEGMENT_HEADER_LEN)
        .collect()
}

/// Byte offsets (within the segment) where each record starts, parsed independently of the
/// crate: `len u32 LE | crc u32 LE | payload` after an 8-byte header.
pub(crate) fn record_offsets(path: &Path) -> Vec<u64> {
    let data = fs::read(path).unwrap();
    let mut off = SEGMENT_HEADER_LEN as usize;
    let mut out = Vec::new();
    while off + 8 <= data.len() {
        out.push(off as u64);
        let len = u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize;
        off += 8 + len;
    }
    out
}

/// `(segment, offset)` of every record in the WAL, in log order.
pub(crate) fn locate_records(dir: &Path) -> Vec<(u64, u64)> {
    let mut segs: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.parse().ok())
        .collect();
    segs.sort_unstable();
    segs.into_iter()
        .flat_map(|s| {
            record_offsets(&segment_file(dir, s))
                .into_iter()
                .map(move |o| (s, o))
        })
        .collect()
}

/// XORs one byte of a file.
pub(crate) fn flip_byte(path: &Path, offset: u64) {
    let mut data = fs::read(path).unwrap();
    data[offset as usize] ^= 0x5a;
    fs::write(path, data).unwrap();
}

pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// Runs `f` and returns the `WARN` events it logged, each as "message k=v k=v ...".
pub(crate) fn capture_warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    use parking_lot::Mutex;
    use std::sync::Arc;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata};

    struct Capture(Arc<Mutex<Vec<String>>>);
    struct Fields(String);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0.insert_str(0, &format!("{value:?}"));
            } else {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
    }
    impl tracing::Subscriber for Capture {
        fn enabled(&self, m: &Metadata<'_>) -> bool {
            *m.level() <= Level::WARN
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, e: &Event<'_>) {
            let mut v = Fields(String::new());
            e.record(&mut v);
            self.0.lock().push(v.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    let events = Arc::new(Mutex::new(Vec::new()));
    let out = tracing::subscriber::with_default(Capture(Arc::clone(&events)), f);
    let events = events.lock().clone();
    (out, events)
}
