use super::*;
use crate::chunk::{decode_compact_times, decode_compact_with, Encoding, HistogramIter, XorIter};
use crate::postings::{self, PostingsSource};
use crate::varint::{get_uvarint, get_varint};
use argus_model::{HistogramSample, Label, Labels, Matcher, Sample, StoredSeries};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("block {block}: corrupt {what}")]
    Corrupt { block: String, what: String },
}

#[derive(Debug, Clone, Copy)]
struct ChunkMeta {
    mint: i64,
    maxt: i64,
    offset: u64,
}

/// One series of the index: its labels as (name, value) symbol numbers.
#[derive(Debug)]
struct SeriesEntry {
    labels: Box<[(u32, u32)]>,
    metas: Box<[ChunkMeta]>,
}

/// An opened block: its index in memory, its chunks read on demand. Label
/// text is held once per distinct string (the symbol table); a series holds
/// symbol numbers, 8 bytes a label, and builds its [`Labels`] when read.
#[derive(Debug)]
pub struct BlockReader {
    pub meta: BlockMeta,
    symbols: Vec<Box<str>>,
    series: Vec<SeriesEntry>,
    /// Each series' [`Labels::stable_hash`], as the head keeps it, so that
    /// merging a query's sources compares hashes before label text.
    hashes: Box<[u64]>,
    postings: HashMap<Box<str>, HashMap<Box<str>, Vec<u64>>>,
    chunks: std::fs::File,
    chunks_len: u64,
    /// Shared timestamp columns by chunk offset ([`Self::shared_times`]).
    times_cache: Mutex<HashMap<u64, Arc<[i64]>>>,
}

/// Timestamp columns cached per open block (a 2 h column is ~4 KiB).
const TIMES_CACHE_ENTRIES: usize = 1024;

impl BlockReader {
    pub fn open(
        meta: BlockMeta,
        index_path: &Path,
        chunks_path: &Path,
    ) -> Result<Self, BlockError> {
        let ioerr = |p: &Path| {
            let path = p.display().to_string();
            move |source| BlockError::Io { path, source }
        };
        let corrupt = |what: &str| BlockError::Corrupt {
            block: meta.id.clone(),
            what: what.to_string(),
        };
        let data = std::fs::read(index_path).map_err(ioerr(index_path))?;
        if data.len() < 12 || u32::from_be_bytes(data[0..4].try_into().expect("4")) != INDEX_MAGIC {
            return Err(corrupt("index header"));
        }
        if !(1..=FORMAT_VERSION).contains(&data[4]) {
            return Err(corrupt(&format!("index version {}", data[4])));
        }
        let (body, crc) = data[8..].split_at(data.len() - 12);
        if crc32fast::hash(body) != u32::from_be_bytes(crc.try_into().expect("4")) {
            return Err(corrupt("index checksum"));
        }
        let mut b = body;
        let nsym = get_uvarint(&mut b).ok_or_else(|| corrupt("symbol count"))? as usize;
        let mut symbols = Vec::with_capacity(nsym.min(b.len()));
        for _ in 0..nsym {
            let n = get_uvarint(&mut b).ok_or_else(|| corrupt("symbol"))? as usize;
            if n > b.len() {
                return Err(corrupt("symbol length"));
            }
            symbols.push(Box::<str>::from(
                std::str::from_utf8(&b[..n]).map_err(|_| corrupt("symbol utf-8"))?,
            ));
            b = &b[n..];
        }
        let sym = |r: u64| {
            if (r as usize) < symbols.len() {
                Ok(r as u32)
            } else {
                Err(corrupt("symbol ref"))
            }
        };
        let nseries = get_uvarint(&mut b).ok_or_else(|| corrupt("series count"))? as usize;
        let mut series = Vec::with_capacity(nseries.min(b.len()));
        // Postings by symbol numbers first, keyed by strings at the end.
        let mut by_sym: HashMap<u32, HashMap<u32, Vec<u64>>> = HashMap::new();
        for id in 0..nseries {
            let nl = get_uvarint(&mut b).ok_or_else(|| corrupt("label count"))? as usize;
            let mut labels = Vec::with_capacity(nl.min(b.len()));
            for _ in 0..nl {
                let n = get_uvarint(&mut b).ok_or_else(|| corrupt("label name"))?;
                let v = get_uvarint(&mut b).ok_or_else(|| corrupt("label value"))?;
                labels.push((sym(n)?, sym(v)?));
            }
            let nc = get_uvarint(&mut b).ok_or_else(|| corrupt("chunk count"))? as usize;
            let mut metas = Vec::with_capacity(nc.min(b.len()));
            for _ in 0..nc {
                let mint = get_varint(&mut b).ok_or_else(|| corrupt("chunk mint"))?;
                let d = get_uvarint(&mut b).ok_or_else(|| corrupt("chunk maxt"))?;
                let offset = get_uvarint(&mut b).ok_or_else(|| corrupt("chunk offset"))?;
                metas.push(ChunkMeta {
                    mint,
                    maxt: mint.saturating_add(d as i64),
                    offset,
                });
            }
            if !labels
                .windows(2)
                .all(|w| symbols[w[0].0 as usize] < symbols[w[1].0 as usize])
            {
                return Err(corrupt("series labels not sorted"));
            }
            for &(n, v) in &labels {
                by_sym
                    .entry(n)
                    .or_default()
                    .entry(v)
                    .or_default()
                    .push(id as u64);
            }
            series.push(SeriesEntry {
                labels: labels.into_boxed_slice(),
                metas: metas.into_boxed_slice(),
            });
        }
        let postings = by_sym
            .into_iter()
            .map(|(n, vals)| {
                let vals = vals
                    .into_iter()
                    .map(|(v, ids)| (symbols[v as usize].clone(), ids))
                    .collect();
                (symbols[n as usize].clone(), vals)
            })
            .collect();
        let hashes = series
            .iter()
            .map(|e| {
                argus_model::stable_hash_pairs(
                    e.labels
                        .iter()
                        .map(|&(n, v)| (&*symbols[n as usize], &*symbols[v as usize])),
                )
            })
            .collect();
        let chunks = std::fs::File::open(chunks_path).map_err(ioerr(chunks_path))?;
        let chunks_len = chunks.metadata().map_err(ioerr(chunks_path))?.len();
        let mut head = [0u8; 8];
        chunks
            .read_exact_at(&mut head, 0)
            .map_err(ioerr(chunks_path))?;
        if u32::from_be_bytes(head[0..4].try_into().expect("4")) != CHUNKS_MAGIC {
            return Err(corrupt("chunks header"));
        }
        Ok(BlockReader {
            meta,
            symbols,
            series,
            hashes,
            postings,
            chunks,
            chunks_len,
            times_cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    fn sym(&self, r: u32) -> &str {
        &self.symbols[r as usize]
    }

    /// The label set of series `i`.
    fn labels(&self, e: &SeriesEntry) -> Labels {
        Labels::from_sorted_unchecked(
            e.labels
                .iter()
                .map(|&(n, v)| Label::new(self.sym(n), self.sym(v)))
                .collect(),
        )
    }

    /// Reads and verifies one chunk: its encoding and data.
    fn read_chunk(&self, c: &ChunkMeta) -> Result<(Encoding, Vec<u8>), BlockError> {
        let corrupt = |what: &str| BlockError::Corrupt {
            block: self.meta.id.clone(),
            what: what.to_string(),
        };
        let ioerr = |source| BlockError::Io {
            path: format!("block {} chunks", self.meta.id),
            source,
        };
        let mut lenbuf = [0u8; 10];
        let avail = (self.chunks_len.saturating_sub(c.offset)).min(10) as usize;
        self.chunks
            .read_exact_at(&mut lenbuf[..avail], c.offset)
            .map_err(ioerr)?;
        let mut lb = &lenbuf[..avail];
        let n = get_uvarint(&mut lb).ok_or_else(|| corrupt("chunk length"))?;
        let start = c.offset + (avail - lb.len()) as u64;
        if n == 0 || start.saturating_add(n).saturating_add(4) > self.chunks_len {
            return Err(corrupt("chunk length"));
        }
        let mut buf = vec![0u8; n as usize + 4];
        self.chunks.read_exact_at(&mut buf, start).map_err(ioerr)?;
        let (data, crc) = buf.split_at(n as usize);
        if crc32fast::hash(data) != u32::from_be_bytes(crc.try_into().expect("4")) {
            return Err(corrupt("chunk checksum"));
        }
        let enc = Encoding::from_u8(data[0]).ok_or_else(|| corrupt("chunk encoding"))?;
        buf.truncate(n as usize);
        buf.remove(0);
        Ok((enc, buf))
    }

    /// The timestamps stored in the compact chunk at `offset`, which other
    /// chunks refer to; cached, as the series of one target share them.
    fn shared_times(&self, offset: u64) -> Option<Arc<[i64]>> {
        let cache = || self.times_cache.lock();
        if let Some(t) = cache().get(&offset) {
            return Some(t.clone());
        }
        // Read and decode without the lock; concurrent readers may both
        // decode a column, never wait on each other's I/O.
        let meta = ChunkMeta {
            mint: 0,
            maxt: 0,
            offset,
        };
        let (enc, data) = self.read_chunk(&meta).ok()?;
        if enc != Encoding::Compact {
            return None;
        }
        let t = decode_compact_times(&data)?;
        let mut cache = cache();
        if cache.len() >= TIMES_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(offset, t.clone());
        Some(t)
    }

    /// Reads the chunks of series `id` overlapping [mint, maxt]: float
    /// samples always, histogram samples when `histograms` is given.
    fn read_series(
        &self,
        metas: &[ChunkMeta],
        mint: i64,
        maxt: i64,
        floats: &mut Vec<Sample>,
        mut histograms: Option<&mut Vec<HistogramSample>>,
    ) -> Result<(), BlockError> {
        let corrupt = || BlockError::Corrupt {
            block: self.meta.id.clone(),
            what: "chunk data".to_string(),
        };
        for c in metas.iter().filter(|c| c.maxt >= mint && c.mint <= maxt) {
            let (enc, data) = self.read_chunk(c)?;
            match enc {
                Encoding::Xor => {
                    let mut it = XorIter::new(&data).ok_or_else(corrupt)?;
                    floats.extend(it.by_ref().filter(|s| s.t >= mint && s.t <= maxt));
                    if it.failed {
                        return Err(corrupt());
                    }
                }
                Encoding::Compact => {
                    let samples =
                        decode_compact_with(&data, |r| self.shared_times(r)).ok_or_else(corrupt)?;
                    floats.extend(samples.into_iter().filter(|s| s.t >= mint && s.t <= maxt));
                }
                Encoding::Histogram => {
                    let Some(out) = histograms.as_deref_mut() else {
                        continue;
                    };
                    let mut it = HistogramIter::new(&data).ok_or_else(corrupt)?;
                    out.extend(it.by_ref().filter(|s| s.t >= mint && s.t <= maxt));
                    if it.failed {
                        return Err(corrupt());
                    }
                }
            }
        }
        // Chunks of one encoding are in time order, but float and histogram
        // chunks of a series that changed type may interleave.
        if !floats.windows(2).all(|w| w[0].t < w[1].t) {
            floats.sort_by_key(|s| s.t);
        }
        if let Some(h) = histograms {
            if !h.windows(2).all(|w| w[0].t < w[1].t) {
                h.sort_by_key(|s| s.t);
            }
        }
        Ok(())
    }

    /// Series matching `matchers` with their float and histogram samples in
    /// [mint, maxt].
    pub fn select_series(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<StoredSeries>, BlockError> {
        Ok(self
            .select_raw(matchers, mint, maxt)?
            .into_iter()
            .map(|(i, mut s)| {
                s.labels = self.series_labels_at(i);
                s
            })
            .collect())
    }

    /// Series matching `matchers` with float and histogram samples in
    /// [mint, maxt] as (series number, samples), in label order, `labels`
    /// left empty (see [`Self::series_labels_at`]).
    pub fn select_raw(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(u32, StoredSeries)>, BlockError> {
        let mut out = Vec::new();
        for id in postings::select(self, matchers) {
            let e = &self.series[id as usize];
            let mut s = StoredSeries::default();
            self.read_series(&e.metas, mint, maxt, &mut s.floats, Some(&mut s.histograms))?;
            if !s.floats.is_empty() || !s.histograms.is_empty() {
                out.push((id as u32, s));
            }
        }
        Ok(out)
    }

    /// Numbers of the series matching `matchers` with a chunk overlapping
    /// [mint, maxt], in label order; nothing is read from the chunks file
    /// (see [`Self::series_samples`]).
    pub fn select_ids(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<u32> {
        postings::select(self, matchers)
            .into_iter()
            .filter(|&id| {
                self.series[id as usize]
                    .metas
                    .iter()
                    .any(|c| c.maxt >= mint && c.mint <= maxt)
            })
            .map(|id| id as u32)
            .collect()
    }

    /// Series `i`'s float and histogram samples in [mint, maxt], read from
    /// the chunks file now; `labels` left empty.
    pub fn series_samples(&self, i: u32, mint: i64, maxt: i64) -> Result<StoredSeries, BlockError> {
        let mut s = StoredSeries::default();
        let metas = &self.series[i as usize].metas;
        self.read_series(metas, mint, maxt, &mut s.floats, Some(&mut s.histograms))?;
        Ok(s)
    }

    /// Series `i`'s label set.
    pub fn series_labels_at(&self, i: u32) -> Labels {
        self.labels(&self.series[i as usize])
    }

    /// Series `i`'s [`Labels::stable_hash`].
    pub fn series_hash(&self, i: u32) -> u64 {
        self.hashes[i as usize]
    }

    /// Label sets of matching series with a chunk overlapping [mint, maxt].
    pub fn series_labels(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let ids = if matchers.is_empty() {
            self.all_postings()
        } else {
            postings::select(self, matchers)
        };
        ids.into_iter()
            .map(|id| &self.series[id as usize])
            .filter(|e| e.metas.iter().any(|c| c.maxt >= mint && c.mint <= maxt))
            .map(|e| self.labels(e))
            .collect()
    }

    /// Series `i`'s label pairs (series are numbered in label order).
    pub fn series_label_pairs(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.series[i]
            .labels
            .iter()
            .map(|&(n, v)| (self.sym(n), self.sym(v)))
    }

    /// Series `i` with all its samples (for compaction); its `labels` are
    /// left empty when `with_labels` is false.
    pub fn series_at(&self, i: usize, with_labels: bool) -> Result<StoredSeries, BlockError> {
        let e = &self.series[i];
        let mut s = StoredSeries::default();
        if with_labels {
            s.labels = self.labels(e);
        }
        self.read_series(
            &e.metas,
            i64::MIN,
            i64::MAX,
            &mut s.floats,
            Some(&mut s.histograms),
        )?;
        Ok(s)
    }

    /// Every series with all its samples.
    pub fn all_series(&self) -> Result<Vec<StoredSeries>, BlockError> {
        (0..self.series.len())
            .map(|i| self.series_at(i, true))
            .collect()
    }
}

impl PostingsSource for BlockReader {
    fn label_values(&self, name: &str) -> Vec<&str> {
        self.postings
            .get(name)
            .map(|v| v.keys().map(|k| &**k).collect())
            .unwrap_or_default()
    }

    fn postings(&self, name: &str, value: &str) -> &[u64] {
        self.postings
            .get(name)
            .and_then(|v| v.get(value))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn all_postings(&self) -> Vec<u64> {
        (0..self.series.len() as u64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{FloatHistogram, MatchOp, Span};

    /// `n` histogram samples of series `i`, every 1000 ms from `from`
    /// (interleaving with float samples at the other timestamps).
    fn hists(i: usize, from: i64, n: i64) -> Vec<HistogramSample> {
        (0..n)
            .map(|j| HistogramSample {
                t: from + j * 1000 + 500,
                h: FloatHistogram {
                    schema: 1,
                    count: (i as i64 + j) as f64,
                    sum: j as f64 * 0.5,
                    positive_spans: vec![Span {
                        offset: 0,
                        length: 2,
                    }],
                    positive_buckets: vec![j as f64, i as f64],
                    ..Default::default()
                },
            })
            .collect()
    }

    #[test]
    fn reads_version_1_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let series = vec![StoredSeries {
            labels: Labels::from_pairs([("__name__", "m")]),
            floats: vec![Sample::new(1, 1.0), Sample::new(2, 2.0)],
            histograms: vec![],
        }];
        let meta = write_block(dir.path(), "B", 0, 10, &series, Compaction::default()).unwrap();
        // A version 1 index is the same bytes with version 1 in the header.
        let idx = dir.path().join(INDEX_FILE);
        let mut data = std::fs::read(&idx).unwrap();
        data[4] = 1;
        std::fs::write(&idx, &data).unwrap();
        let r = BlockReader::open(meta, &idx, &dir.path().join(CHUNKS_FILE)).unwrap();
        assert_eq!(r.all_series().unwrap(), series);
    }

    #[test]
    fn reads_version_2_blocks_with_xor_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let series: Vec<StoredSeries> = (0..3)
            .map(|i| StoredSeries {
                labels: Labels::from_pairs([("__name__", "m"), ("i", &*i.to_string())]),
                floats: (0..1000)
                    .map(|j| Sample::new(j * 1000, (i * j) as f64 * 0.1))
                    .collect(),
                histograms: hists(i as usize, 0, 300),
            })
            .collect();
        let meta = super::super::writer::write_block_v2(dir.path(), 0, 1_000_000, &series).unwrap();
        let chunks = std::fs::read(dir.path().join(CHUNKS_FILE)).unwrap();
        assert_eq!(chunks[4], 2);
        let r = BlockReader::open(
            meta,
            &dir.path().join(INDEX_FILE),
            &dir.path().join(CHUNKS_FILE),
        )
        .unwrap();
        assert_eq!(r.all_series().unwrap(), series);
        let m = [Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()];
        let got = r.select_series(&m, 10_000, 20_000).unwrap();
        assert_eq!(got.len(), 3);
        assert!(got
            .iter()
            .all(|s| s.floats.len() == 11 && s.floats[0].t == 10_000));
    }

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut series: Vec<StoredSeries> = (0..50)
            .map(|i| {
                let l = Labels::from_pairs([
                    ("__name__", "m"),
                    ("i", &*i.to_string()),
                    ("even", if i % 2 == 0 { "y" } else { "n" }),
                ]);
                StoredSeries {
                    labels: l,
                    floats: (0..1000)
                        .map(|j| Sample::new(j * 1000, (i * j) as f64))
                        .collect(),
                    histograms: hists(i as usize, 0, 300),
                }
            })
            .collect();
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        let meta = write_block(
            dir.path(),
            "B",
            0,
            1_000_000,
            &series,
            Compaction {
                level: 1,
                sources: vec!["B".into()],
                parents: vec![],
            },
        )
        .unwrap();
        assert_eq!(meta.stats.num_samples, 50 * 1300);
        let r = BlockReader::open(
            meta,
            &dir.path().join(INDEX_FILE),
            &dir.path().join(CHUNKS_FILE),
        )
        .unwrap();
        let m = [Matcher::new(MatchOp::Equal, "even", "y").unwrap()];
        let got = r.select_series(&m, 10_000, 20_000).unwrap();
        assert_eq!(got.len(), 25);
        assert!(got
            .iter()
            .all(|s| s.floats.len() == 11 && s.floats[0].t == 10_000 && s.histograms.len() == 10));
        assert_eq!(r.all_series().unwrap(), series);
    }

    #[test]
    fn corruption_is_reported_not_panicked() {
        let dir = tempfile::tempdir().unwrap();
        let series = vec![StoredSeries {
            labels: Labels::from_pairs([("__name__", "m")]),
            floats: vec![Sample::new(1, 1.0)],
            histograms: vec![],
        }];
        let meta = write_block(dir.path(), "B", 0, 10, &series, Compaction::default()).unwrap();
        let idx = dir.path().join(INDEX_FILE);
        let mut data = std::fs::read(&idx).unwrap();
        let n = data.len();
        data[n / 2] ^= 0xff;
        std::fs::write(&idx, &data).unwrap();
        let err = BlockReader::open(meta, &idx, &dir.path().join(CHUNKS_FILE)).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
