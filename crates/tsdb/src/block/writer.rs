use super::*;
use crate::chunk::{Encoding, HistogramAppender, XorAppender};
use crate::varint::{put_uvarint, put_varint};
use argus_model::StoredSeries;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

fn header(magic: u32) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    b.extend_from_slice(&[FORMAT_VERSION, 0, 0, 0]);
    b
}

fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()
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
    std::fs::create_dir_all(dir)?;
    let mut chunks = header(CHUNKS_MAGIC);
    let mut symbols = BTreeSet::new();
    for s in series {
        for x in s.labels.iter() {
            symbols.insert(x.name.as_str());
            symbols.insert(x.value.as_str());
        }
    }
    let symbols: Vec<&str> = symbols.into_iter().collect();
    let sym_ref = |s: &str| symbols.binary_search(&s).expect("symbol collected") as u64;

    let mut index = header(INDEX_MAGIC);
    put_uvarint(&mut index, symbols.len() as u64);
    for s in &symbols {
        put_uvarint(&mut index, s.len() as u64);
        index.extend_from_slice(s.as_bytes());
    }
    let mut stats = BlockStats::default();
    let nonempty: Vec<&StoredSeries> = series
        .iter()
        .filter(|s| !s.floats.is_empty() || !s.histograms.is_empty())
        .collect();
    put_uvarint(&mut index, nonempty.len() as u64);
    for s in nonempty {
        stats.num_series += 1;
        stats.num_samples += (s.floats.len() + s.histograms.len()) as u64;
        put_uvarint(&mut index, s.labels.len() as u64);
        for l in s.labels.iter() {
            put_uvarint(&mut index, sym_ref(&l.name));
            put_uvarint(&mut index, sym_ref(&l.value));
        }
        // (mint, maxt, encoding, data) of every chunk, sorted by mint.
        let mut encoded: Vec<(i64, i64, Encoding, Vec<u8>)> = Vec::new();
        for g in s.floats.chunks(BLOCK_CHUNK_SAMPLES) {
            let mut app = XorAppender::new();
            for x in g {
                app.append(x.t, x.v);
            }
            encoded.push((g[0].t, g[g.len() - 1].t, Encoding::Xor, app.into_bytes()));
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
        put_uvarint(&mut index, encoded.len() as u64);
        for (cmin, cmax, enc, data) in encoded {
            stats.num_chunks += 1;
            let offset = chunks.len() as u64;
            put_uvarint(&mut chunks, data.len() as u64 + 1);
            let start = chunks.len();
            chunks.push(enc as u8);
            chunks.extend_from_slice(&data);
            let crc = crc32fast::hash(&chunks[start..]);
            chunks.extend_from_slice(&crc.to_be_bytes());
            put_varint(&mut index, cmin);
            put_uvarint(&mut index, (cmax - cmin) as u64);
            put_uvarint(&mut index, offset);
        }
    }
    let crc = crc32fast::hash(&index[8..]);
    index.extend_from_slice(&crc.to_be_bytes());
    write_file(&dir.join(CHUNKS_FILE), &chunks)?;
    write_file(&dir.join(INDEX_FILE), &index)?;
    stats.num_bytes = (chunks.len() + index.len()) as u64;
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
