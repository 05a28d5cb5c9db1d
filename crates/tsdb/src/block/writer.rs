use super::*;
use crate::chunk::{encode_compact, encode_compact_ref, Encoding, HistogramAppender, XorAppender};
use crate::varint::{put_uvarint, put_varint};
use argus_model::{Sample, StoredSeries};
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::Path;

fn header(magic: u32, version: u8) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    b.extend_from_slice(&[version, 0, 0, 0]);
    b
}

fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Timestamp columns remembered per block for sharing (~50 bytes each).
const MAX_SHARED_TIMES: usize = 1 << 18;

/// Identifies a timestamp column: its length, ends and two independent
/// 64-bit hashes (a false match would need a 128-bit collision among
/// columns of equal length and ends).
type TimesKey = (usize, i64, i64, u64, u64);

fn times_key(g: &[Sample]) -> TimesKey {
    let hash = |seed: u64| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        for s in g {
            s.t.hash(&mut h);
        }
        h.finish()
    };
    (g.len(), g[0].t, g[g.len() - 1].t, hash(1), hash(2))
}

/// Splits a series' float samples into compact chunks of at most
/// [`BLOCK_FLOAT_CHUNK_SAMPLES`] samples spanning less than
/// [`BLOCK_FLOAT_CHUNK_SPAN_MS`] each.
pub(crate) fn float_chunks(mut floats: &[Sample]) -> impl Iterator<Item = &[Sample]> {
    std::iter::from_fn(move || {
        let first = floats.first()?;
        let end = floats
            .iter()
            .take(BLOCK_FLOAT_CHUNK_SAMPLES)
            .position(|s| s.t.saturating_sub(first.t) >= BLOCK_FLOAT_CHUNK_SPAN_MS)
            .unwrap_or(floats.len().min(BLOCK_FLOAT_CHUNK_SAMPLES));
        let (g, rest) = floats.split_at(end);
        floats = rest;
        Some(g)
    })
}

/// The series a block is written from, sorted by labels: their label pairs
/// (read twice, for the symbol table and for the index) and, one series at
/// a time, their samples. Sources borrow label text from what they already
/// hold (head series, open blocks), so writing a block never holds a copy
/// of every label set.
pub trait SeriesSource {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Series `i`'s label pairs in name order.
    fn label_pairs(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_;

    /// Series `i`'s samples (float and histogram, each sorted, within the
    /// block's range); its `labels` field is not read.
    fn load(&self, i: usize) -> std::io::Result<StoredSeries>;
}

impl SeriesSource for [StoredSeries] {
    fn len(&self) -> usize {
        <[StoredSeries]>::len(self)
    }

    fn label_pairs(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        self[i]
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
    }

    fn load(&self, i: usize) -> std::io::Result<StoredSeries> {
        Ok(self[i].clone())
    }
}

/// Writes `series` (sorted by labels, float and histogram samples each
/// sorted and within [mint, maxt)) as a block in `dir` (created). Returns its meta; the
/// caller uploads it. `meta.json` is written last.
pub fn write_block(
    dir: &Path,
    id: &str,
    mint: i64,
    maxt: i64,
    series: &[StoredSeries],
    compaction: Compaction,
) -> std::io::Result<BlockMeta> {
    write_block_from(dir, id, mint, maxt, series, compaction)
}

/// Writes a block of the series of `source`, loading one series' samples
/// at a time and streaming its chunks to disk, so cutting or compacting a
/// block holds one series in memory, not the block. Series that load
/// empty are left out.
pub fn write_block_from<S: SeriesSource + ?Sized>(
    dir: &Path,
    id: &str,
    mint: i64,
    maxt: i64,
    source: &S,
    compaction: Compaction,
) -> std::io::Result<BlockMeta> {
    write_block_version(dir, id, mint, maxt, source, compaction, FORMAT_VERSION)
}

/// A version 2 block (XOR float chunks of 240 samples), to test that
/// readers still read blocks written before version 3.
#[cfg(test)]
pub(crate) fn write_block_v2(
    dir: &Path,
    mint: i64,
    maxt: i64,
    series: &[StoredSeries],
) -> std::io::Result<BlockMeta> {
    write_block_version(dir, "V2", mint, maxt, series, Compaction::default(), 2)
}

#[allow(clippy::too_many_arguments)]
fn write_block_version<S: SeriesSource + ?Sized>(
    dir: &Path,
    id: &str,
    mint: i64,
    maxt: i64,
    source: &S,
    compaction: Compaction,
    version: u8,
) -> std::io::Result<BlockMeta> {
    debug_assert!(
        (1..source.len()).all(|i| source.label_pairs(i - 1).lt(source.label_pairs(i))),
        "series not sorted"
    );
    std::fs::create_dir_all(dir)?;
    let mut chunks =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join(CHUNKS_FILE))?);
    let head = header(CHUNKS_MAGIC, version);
    chunks.write_all(&head)?;
    let mut chunks_len = head.len() as u64;
    let mut symbols = BTreeSet::new();
    for i in 0..source.len() {
        for (n, v) in source.label_pairs(i) {
            symbols.insert(n);
            symbols.insert(v);
        }
    }
    let symbols: Vec<&str> = symbols.into_iter().collect();
    let sym_ref = |s: &str| symbols.binary_search(&s).expect("symbol collected") as u64;

    let mut index = header(INDEX_MAGIC, version);
    put_uvarint(&mut index, symbols.len() as u64);
    for s in &symbols {
        put_uvarint(&mut index, s.len() as u64);
        index.extend_from_slice(s.as_bytes());
    }
    let mut stats = BlockStats::default();
    let mut series_section = Vec::new();
    let mut frame = Vec::new();
    // Timestamp columns already stored, by key, with the chunk storing them.
    let mut shared_times: HashMap<TimesKey, u64> = HashMap::new();
    for i in 0..source.len() {
        let s = source.load(i)?;
        if s.floats.is_empty() && s.histograms.is_empty() {
            continue;
        }
        stats.num_series += 1;
        stats.num_samples += (s.floats.len() + s.histograms.len()) as u64;
        put_uvarint(&mut series_section, source.label_pairs(i).count() as u64);
        for (n, v) in source.label_pairs(i) {
            put_uvarint(&mut series_section, sym_ref(n));
            put_uvarint(&mut series_section, sym_ref(v));
        }
        // (mint, maxt, encoding, data) of every chunk, sorted by mint.
        let mut encoded: Vec<(i64, i64, Encoding, Vec<u8>)> = Vec::new();
        // Chunks storing timestamps that later chunks may refer to.
        let mut new_times = Vec::new();
        if version >= 3 {
            for g in float_chunks(&s.floats) {
                let (lo, hi) = (g[0].t, g[g.len() - 1].t);
                let key = times_key(g);
                let data = match shared_times.get(&key) {
                    Some(&r) => encode_compact_ref(g, r),
                    None => {
                        new_times.push((lo, key));
                        encode_compact(g)
                    }
                };
                encoded.push((lo, hi, Encoding::Compact, data));
            }
        } else {
            for g in s.floats.chunks(BLOCK_CHUNK_SAMPLES) {
                let mut app = XorAppender::new();
                for x in g {
                    app.append(x.t, x.v);
                }
                let (lo, hi) = (g[0].t, g[g.len() - 1].t);
                encoded.push((lo, hi, Encoding::Xor, app.into_bytes()));
            }
        }
        for g in s.histograms.chunks(BLOCK_CHUNK_SAMPLES) {
            let mut app = HistogramAppender::new();
            for x in g {
                app.append(x.t, &x.h);
            }
            let (lo, hi) = (g[0].t, g[g.len() - 1].t);
            encoded.push((lo, hi, Encoding::Histogram, app.into_bytes()));
        }
        encoded.sort_by_key(|c| (c.0, c.1));
        put_uvarint(&mut series_section, encoded.len() as u64);
        for (cmin, cmax, enc, data) in encoded {
            stats.num_chunks += 1;
            let offset = chunks_len;
            frame.clear();
            put_uvarint(&mut frame, data.len() as u64 + 1);
            let body = frame.len();
            frame.push(enc as u8);
            frame.extend_from_slice(&data);
            let crc = crc32fast::hash(&frame[body..]);
            frame.extend_from_slice(&crc.to_be_bytes());
            chunks.write_all(&frame)?;
            chunks_len += frame.len() as u64;
            if enc == Encoding::Compact && shared_times.len() < MAX_SHARED_TIMES {
                if let Some(&(_, key)) = new_times.iter().find(|(lo, _)| *lo == cmin) {
                    shared_times.insert(key, offset);
                }
            }
            put_varint(&mut series_section, cmin);
            put_uvarint(&mut series_section, (cmax - cmin) as u64);
            put_uvarint(&mut series_section, offset);
        }
    }
    put_uvarint(&mut index, stats.num_series);
    index.extend_from_slice(&series_section);
    drop(series_section);
    let chunks = chunks.into_inner().map_err(|e| e.into_error())?;
    chunks.sync_all()?;
    let crc = crc32fast::hash(&index[8..]);
    index.extend_from_slice(&crc.to_be_bytes());
    write_file(&dir.join(INDEX_FILE), &index)?;
    stats.num_bytes = chunks_len + index.len() as u64;
    let meta = BlockMeta {
        version: META_VERSION,
        id: id.to_string(),
        min_time: mint,
        max_time: maxt,
        stats,
        compaction,
    };
    write_file(
        &dir.join(META_FILE),
        &serde_json::to_vec_pretty(&meta).expect("meta serialises"),
    )?;
    Ok(meta)
}
