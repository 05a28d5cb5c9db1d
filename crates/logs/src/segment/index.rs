//! The segment's `index` file:
//!
//! ```text
//! file   := magic "ARGLOGIX" version:u8 (=1) zstd(body) crc32(all before):u32 LE
//! body   := uvarint(streams) stream* uvarint(row groups) rowgroup*
//! stream := uvarint(pairs) (str name, str value)* min_ts:i64 max_ts:i64
//!           uvarint(entries) uvarint(bytes) uvarint(first rg) uvarint(last rg)
//! rowgroup := min_ts:i64 max_ts:i64 uvarint(rows) uvarint(first stream)
//!           uvarint(last stream) uvarint(filter bytes) filter bytes
//! ```
//!
//! Streams are in label order (their ordinal is their position); rows of the
//! Parquet file are in stream order, so a row group holds a contiguous range
//! of streams.

use crate::ngram::Filter;
use argus_model::{Label, Labels};
use argus_wal::codec::{put_str, put_uvarint, seal, unseal, CodecError, Reader};
use std::sync::Arc;

pub const INDEX_MAGIC: &[u8; 8] = b"ARGLOGIX";
const VERSION: u8 = 1;
/// Largest decompressed index accepted.
const MAX_INDEX_BYTES: usize = 1 << 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamIndex {
    pub labels: Arc<Labels>,
    pub min_ts: i64,
    pub max_ts: i64,
    pub entries: u64,
    pub bytes: u64,
    pub first_rg: u32,
    pub last_rg: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowGroupIndex {
    pub min_ts: i64,
    pub max_ts: i64,
    pub rows: u64,
    pub first_stream: u32,
    pub last_stream: u32,
    pub filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SegmentIndex {
    pub streams: Vec<StreamIndex>,
    pub row_groups: Vec<RowGroupIndex>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A bad magic, version or checksum, or a damaged body.
    #[error("logs segment index: {0}")]
    Record(#[from] CodecError),
    #[error("index: {0}")]
    Invalid(String),
}

impl SegmentIndex {
    /// Appends the encoded index to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        put_uvarint(&mut body, self.streams.len() as u64);
        for s in &self.streams {
            put_uvarint(&mut body, s.labels.len() as u64);
            for l in s.labels.iter() {
                put_str(&mut body, &l.name);
                put_str(&mut body, &l.value);
            }
            body.extend_from_slice(&s.min_ts.to_le_bytes());
            body.extend_from_slice(&s.max_ts.to_le_bytes());
            put_uvarint(&mut body, s.entries);
            put_uvarint(&mut body, s.bytes);
            put_uvarint(&mut body, s.first_rg as u64);
            put_uvarint(&mut body, s.last_rg as u64);
        }
        put_uvarint(&mut body, self.row_groups.len() as u64);
        for rg in &self.row_groups {
            body.extend_from_slice(&rg.min_ts.to_le_bytes());
            body.extend_from_slice(&rg.max_ts.to_le_bytes());
            put_uvarint(&mut body, rg.rows);
            put_uvarint(&mut body, rg.first_stream as u64);
            put_uvarint(&mut body, rg.last_stream as u64);
            match &rg.filter {
                Some(f) => {
                    put_uvarint(&mut body, f.byte_len() as u64);
                    f.encode(&mut body);
                }
                None => put_uvarint(&mut body, 0),
            }
        }
        seal(INDEX_MAGIC, VERSION, &body, out);
    }

    pub fn decode(b: &[u8]) -> Result<SegmentIndex, IndexError> {
        let body = unseal(b, INDEX_MAGIC, VERSION, MAX_INDEX_BYTES)?;
        let mut r = Reader::new(&body);
        let n = r.count(22)?;
        let mut streams = Vec::with_capacity(n);
        for _ in 0..n {
            let pairs = r.count(2)?;
            let mut labels = Vec::with_capacity(pairs);
            for _ in 0..pairs {
                let name = r.str()?;
                let value = r.str()?;
                labels.push(Label::new(name, value));
            }
            if labels.windows(2).any(|w| w[0].name >= w[1].name) {
                return Err(IndexError::Invalid(
                    "stream labels not sorted by name or repeated".into(),
                ));
            }
            streams.push(StreamIndex {
                labels: Arc::new(Labels::from_sorted_unchecked(labels)),
                min_ts: r.i64_le()?,
                max_ts: r.i64_le()?,
                entries: r.uvarint()?,
                bytes: r.uvarint()?,
                first_rg: small(r.uvarint()?)?,
                last_rg: small(r.uvarint()?)?,
            });
        }
        let n = r.count(20)?;
        let mut row_groups = Vec::with_capacity(n);
        for _ in 0..n {
            let min_ts = r.i64_le()?;
            let max_ts = r.i64_le()?;
            let rows = r.uvarint()?;
            let first_stream = small(r.uvarint()?)?;
            let last_stream = small(r.uvarint()?)?;
            let len = r.uvarint()? as usize;
            let filter = if len == 0 {
                None
            } else {
                let b = r.bytes(len)?;
                Some(
                    Filter::from_bytes(b)
                        .ok_or_else(|| IndexError::Invalid(format!("filter of {len} bytes")))?,
                )
            };
            if first_stream > last_stream || last_stream as usize >= streams.len() {
                return Err(IndexError::Invalid(format!(
                    "row group streams {first_stream}..={last_stream} of {}",
                    streams.len()
                )));
            }
            row_groups.push(RowGroupIndex {
                min_ts,
                max_ts,
                rows,
                first_stream,
                last_stream,
                filter,
            });
        }
        r.finish()?;
        for s in &streams {
            if s.first_rg > s.last_rg || s.last_rg as usize >= row_groups.len() {
                return Err(IndexError::Invalid(format!(
                    "stream row groups {}..={} of {}",
                    s.first_rg,
                    s.last_rg,
                    row_groups.len()
                )));
            }
        }
        Ok(SegmentIndex {
            streams,
            row_groups,
        })
    }
}

fn small(v: u64) -> Result<u32, IndexError> {
    u32::try_from(v).map_err(|_| IndexError::Invalid(format!("{v} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `logs_index` fuzz target: an index whose stream labels
    /// are not sorted (here a name twice) is an error, not a panic.
    #[test]
    fn unsorted_labels_are_an_error() {
        let body: &[u8] = &[
            1, 3, 3, 106, 111, 98, 3, 106, 111, 98, 0, 0, 1, 0, 0, 42, 53, 254, 156, 0, 0, 1, 0, 0,
            42, 53, 254, 156, 151, 23, 9, 0, 42, 54, 95, 254, 156, 255, 255, 255, 40, 2, 90, 90,
            90, 90,
        ];
        let mut file = INDEX_MAGIC.to_vec();
        file.push(1);
        file.extend(zstd::bulk::compress(body, 1).unwrap());
        let crc = crc32fast::hash(&file);
        file.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            SegmentIndex::decode(&file),
            Err(IndexError::Invalid(_))
        ));
    }
}
