//! Block files with corrupted bytes (`argus_tsdb::block::BlockReader`): the
//! index (symbols, series, chunk references) and the chunks file, opened
//! from a directory and read back through every read path.
//!
//! Input: a flags byte, a u16 LE length `n`, `n` bytes of index, the rest
//! is the chunks file. Flag bit 0 set ("wrapped"): the parts are the files'
//! bodies; the harness adds the headers (magic, version `3 - (flags >> 1) % 3`)
//! and the index CRC, and recomputes the CRC of every chunk it can walk, so
//! mutations reach the index and chunk decoders. Clear: the parts are written
//! as they are.
#![no_main]

use argus_fuzz::{scratch_dir, uvarint};
use argus_model::{MatchOp, Matcher};
use argus_tsdb::block::BlockStats;
use argus_tsdb::block::{BlockMeta, BlockReader, Compaction, CHUNKS_MAGIC, INDEX_MAGIC};
use libfuzzer_sys::fuzz_target;

fn header(magic: u32, version: u8) -> Vec<u8> {
    let mut h = magic.to_be_bytes().to_vec();
    h.extend_from_slice(&[version, 0, 0, 0]);
    h
}

/// Recomputes the CRC32 (BE, after the data) of each chunk, walking
/// `len <uvarint> data <len> crc <4>` from `off`.
fn fix_chunk_crcs(f: &mut [u8], mut off: usize) {
    while let Some((n, used)) = uvarint(&f[off..]) {
        let start = off + used;
        let Some(end) = usize::try_from(n).ok().and_then(|n| start.checked_add(n)) else {
            return;
        };
        if n == 0 || end + 4 > f.len() {
            return;
        }
        let crc = crc32fast::hash(&f[start..end]);
        f[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        off = end + 4;
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let n = (u16::from_le_bytes([data[1], data[2]]) as usize).min(data.len() - 3);
    let (index, chunks) = data[3..].split_at(n);
    let (index, chunks) = if flags & 1 != 0 {
        let version = 3 - (flags >> 1) % 3;
        let mut i = header(INDEX_MAGIC, version);
        i.extend_from_slice(index);
        i.extend_from_slice(&crc32fast::hash(index).to_be_bytes());
        let mut c = header(CHUNKS_MAGIC, version);
        c.extend_from_slice(chunks);
        fix_chunk_crcs(&mut c, 8);
        (i, c)
    } else {
        (index.to_vec(), chunks.to_vec())
    };
    let tmp = scratch_dir();
    let (ipath, cpath) = (tmp.path().join("index"), tmp.path().join("chunks"));
    std::fs::write(&ipath, index).unwrap();
    std::fs::write(&cpath, chunks).unwrap();
    let meta = BlockMeta {
        version: 1,
        id: "fuzz".into(),
        min_time: 0,
        max_time: i64::MAX,
        stats: BlockStats::default(),
        compaction: Compaction::default(),
    };
    let Ok(block) = BlockReader::open(meta, &ipath, &cpath) else {
        return;
    };
    let all = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    let _ = block.series_labels(&[], i64::MIN, i64::MAX);
    let _ = block.select_series(std::slice::from_ref(&all), i64::MIN, i64::MAX);
    let _ = block.select_series(std::slice::from_ref(&all), 0, 1_000_000);
    if block.num_series() > 0 {
        let (name, value) = block
            .series_label_pairs(0)
            .next()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .unwrap_or_default();
        let _ = block.series_labels_at(0);
        let _ = block.series_hash(0);
        let eq = Matcher::equal(name, value);
        let _ = block.select_raw(&[eq], i64::MIN, i64::MAX);
    }
    if let Ok(series) = block.all_series() {
        assert_eq!(series.len(), block.num_series());
    }
});
