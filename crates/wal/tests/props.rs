//! Property tests: arbitrary records round-trip; arbitrary damage never panics and replays a
//! prefix of what was written.

mod common;

use std::fs::{self, OpenOptions};
use std::path::Path;

use argus_wal::{FsyncPolicy, Wal, WalError, WalOptions};
use common::*;
use proptest::prelude::*;

fn never(segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        fsync: FsyncPolicy::Never,
    }
}

/// Writes `records` in batches of the given sizes (cycled) and closes the WAL.
fn write_batches(dir: &Path, segment_size: u64, records: &[Vec<u8>], batch_sizes: &[usize]) {
    let wal = Wal::open(dir, never(segment_size)).unwrap();
    let mut rest = records;
    let mut sizes = batch_sizes.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        let batch: Vec<&[u8]> = rest[..n].iter().map(Vec::as_slice).collect();
        let seq = wal.append(&batch).unwrap();
        wal.sync(seq).unwrap();
        rest = &rest[n..];
    }
    wal.close().unwrap();
}

fn try_replay(dir: &Path, segment_size: u64) -> Result<Vec<Vec<u8>>, WalError> {
    let wal = Wal::open(dir, never(segment_size))?;
    let mut out = Vec::new();
    wal.replay(|r| {
        out.push(r.to_vec());
        Ok(())
    })?;
    Ok(out)
}

/// Number of records that lie entirely before (`segment`, `offset`) in log order.
fn records_before(locs: &[(u64, u64)], records: &[Vec<u8>], segment: u64, offset: u64) -> usize {
    locs.iter()
        .zip(records)
        .take_while(|((s, o), r)| {
            *s < segment || (*s == segment && o + 8 + r.len() as u64 <= offset)
        })
        .count()
}

fn records_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::collection::vec(any::<u8>(), 0..64),
            1 => prop::collection::vec(any::<u8>(), 64..3000),
        ],
        0..80,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_records_round_trip(
        records in records_strategy(),
        segment_size in 17u64..4096,
        batch_sizes in prop::collection::vec(1usize..6, 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_batches(dir.path(), segment_size, &records, &batch_sizes);
        prop_assert_eq!(try_replay(dir.path(), segment_size).unwrap(), records.clone());
        // Replaying again after a second reopen (which added an empty segment) is unchanged.
        prop_assert_eq!(try_replay(dir.path(), segment_size).unwrap(), records);
    }

    #[test]
    fn truncation_replays_exact_prefix(
        records in records_strategy(),
        segment_size in 17u64..4096,
        batch_sizes in prop::collection::vec(1usize..6, 1..4),
        which_segment in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_batches(dir.path(), segment_size, &records, &batch_sizes);
        let locs = locate_records(dir.path());
        prop_assert_eq!(locs.len(), records.len());
        let segments = Wal::open(dir.path(), never(segment_size)).unwrap().segments().unwrap();
        let seg = segments[which_segment.index(segments.len())];
        let path = segment_file(dir.path(), seg);
        let len = file_len(&path);
        let point = cut.index(len as usize + 1) as u64;
        OpenOptions::new().write(true).open(&path).unwrap().set_len(point).unwrap();

        let got = try_replay(dir.path(), segment_size).unwrap();
        let expected = if point == len {
            records.len() // nothing was cut
        } else {
            records_before(&locs, &records, seg, point)
        };
        prop_assert_eq!(&got[..], &records[..expected]);
    }

    #[test]
    fn corruption_replays_a_prefix(
        records in records_strategy(),
        segment_size in 17u64..4096,
        which_segment in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        garbage in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_batches(dir.path(), segment_size, &records, &[1]);
        let locs = locate_records(dir.path());
        let mut segments: Vec<u64> = locs.iter().map(|l| l.0).collect();
        segments.dedup();
        prop_assume!(!segments.is_empty());
        let seg = segments[which_segment.index(segments.len())];
        let path = segment_file(dir.path(), seg);
        let mut data = fs::read(&path).unwrap();
        let offset = at.index(data.len()) as u64;
        data[offset as usize] ^= 0xff;
        data.extend_from_slice(&garbage);
        fs::write(&path, &data).unwrap();

        match try_replay(dir.path(), segment_size) {
            Ok(got) => {
                prop_assert!(got.len() <= records.len());
                prop_assert_eq!(&got[..], &records[..got.len()]);
                prop_assert!(got.len() >= records_before(&locs, &records, seg, offset));
            }
            // The version byte is never "repaired".
            Err(WalError::UnsupportedVersion { .. }) => prop_assert_eq!(offset, 4),
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
    }
}
