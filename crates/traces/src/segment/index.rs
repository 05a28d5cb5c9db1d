//! A traces segment's `index` file: what a lookup by trace id reads before
//! the data, and what the data's `origin` column points at.
//!
//! ```text
//! file     := sealed "ARGTRCIX", version 1 (argus_wal::codec::seal) of body
//! body     := uvarint(origins) origin*             # as in the WAL record
//!             uvarint(row groups) rowgroup*
//!             uvarint(k) uvarint(words) u64 LE*    # the trace id filter
//! rowgroup := min trace id:16 max trace id:16 uvarint(spans)
//!             varint(earliest start) varint(latest end)
//! ```
//!
//! Rows are sorted by trace id, so a trace's spans lie in the row groups
//! whose id range holds it; the filter (a Bloom filter of every trace id,
//! about 10 bits and 7 probes per trace: under 1 % false positives) tells
//! a lookup which segments to skip without reading them.

use crate::walrec::{put_origin, read_origin, RecordError};
use argus_model::traces::{SpanOrigin, TraceId};
use argus_wal::codec::{put_uvarint, put_varint, seal, unseal, CodecError, Reader};
use std::sync::Arc;

pub const INDEX_MAGIC: &[u8; 8] = b"ARGTRCIX";
const VERSION: u8 = 1;
const MAX_INDEX_BYTES: usize = 1 << 30;
// A search asks every other segment's filter whether it holds a trace
// it found (to tell whether it has the whole trace): with tens of
// segments, 1 % false positives each made one trace in ten a needless
// read by id (BENCHMARKS.md, traces notes).
const BITS_PER_TRACE: usize = 20;
const PROBES: u32 = 10;
/// A filter never has more words than this (2^26 bits, 8 MiB).
const MAX_WORDS: usize = 1 << 20;

/// A row group's traces and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowGroupIndex {
    pub min_trace: TraceId,
    pub max_trace: TraceId,
    pub spans: u64,
    pub min_start: i64,
    pub max_end: i64,
}

/// A Bloom filter of trace ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceIdFilter {
    words: Vec<u64>,
    probes: u32,
}

impl TraceIdFilter {
    /// An empty filter sized for `traces` ids.
    pub fn with_capacity(traces: usize) -> Self {
        let bits = (traces.saturating_mul(BITS_PER_TRACE))
            .next_power_of_two()
            .clamp(512, MAX_WORDS * 64);
        TraceIdFilter {
            words: vec![0; bits / 64],
            probes: PROBES,
        }
    }

    /// The probes of `id`: double hashing of its two halves, mixed (a
    /// 64-bit Zipkin id has a zero upper half).
    fn probes(&self, id: &TraceId) -> impl Iterator<Item = (usize, u64)> + '_ {
        let (a, b) = id.split_at(8);
        let a = u64::from_le_bytes(a.try_into().expect("8 bytes"));
        let b = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let h1 = mix(a ^ mix(b));
        let h2 = mix(b.wrapping_add(0x9E37_79B9_7F4A_7C15)) | 1;
        let mask = (self.words.len() * 64 - 1) as u64;
        (0..u64::from(self.probes)).map(move |i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) & mask;
            ((bit / 64) as usize, 1u64 << (bit % 64))
        })
    }

    pub fn insert(&mut self, id: &TraceId) {
        let probes: Vec<(usize, u64)> = self.probes(id).collect();
        for (w, bit) in probes {
            self.words[w] |= bit;
        }
    }

    /// False only when `id` was never inserted.
    pub fn may_contain(&self, id: &TraceId) -> bool {
        self.probes(id).all(|(w, bit)| self.words[w] & bit != 0)
    }

    /// Bytes of the filter.
    pub fn byte_len(&self) -> usize {
        self.words.len() * 8
    }
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A segment's index.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentIndex {
    /// What the data's `origin` column indexes.
    pub origins: Vec<Arc<SpanOrigin>>,
    pub row_groups: Vec<RowGroupIndex>,
    pub filter: TraceIdFilter,
}

impl SegmentIndex {
    /// The row groups that may hold spans of trace `id` (none when the
    /// filter rules it out).
    pub fn row_groups_of(&self, id: &TraceId) -> Vec<usize> {
        if !self.filter.may_contain(id) {
            return Vec::new();
        }
        (0..self.row_groups.len())
            .filter(|&i| {
                let r = &self.row_groups[i];
                r.min_trace <= *id && *id <= r.max_trace
            })
            .collect()
    }

    /// Appends the encoded index to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        put_uvarint(&mut body, self.origins.len() as u64);
        for o in &self.origins {
            put_origin(&mut body, o);
        }
        put_uvarint(&mut body, self.row_groups.len() as u64);
        for r in &self.row_groups {
            body.extend_from_slice(&r.min_trace);
            body.extend_from_slice(&r.max_trace);
            put_uvarint(&mut body, r.spans);
            put_varint(&mut body, r.min_start);
            put_varint(&mut body, r.max_end);
        }
        put_uvarint(&mut body, u64::from(self.filter.probes));
        put_uvarint(&mut body, self.filter.words.len() as u64);
        for w in &self.filter.words {
            body.extend_from_slice(&w.to_le_bytes());
        }
        seal(INDEX_MAGIC, VERSION, &body, out);
    }

    pub fn decode(b: &[u8]) -> Result<SegmentIndex, RecordError> {
        let body = unseal(b, INDEX_MAGIC, VERSION, MAX_INDEX_BYTES)?;
        let mut r = Reader::new(&body);
        let n = r.count(4)?;
        let mut origins = Vec::with_capacity(n);
        for _ in 0..n {
            origins.push(Arc::new(read_origin(&mut r)?));
        }
        let n = r.count(35)?;
        let mut row_groups = Vec::with_capacity(n);
        for _ in 0..n {
            let at = r.pos();
            let rg = RowGroupIndex {
                min_trace: r.array()?,
                max_trace: r.array()?,
                spans: r.uvarint()?,
                min_start: r.varint()?,
                max_end: r.varint()?,
            };
            if rg.min_trace > rg.max_trace {
                return Err(CodecError::Invalid(at).into());
            }
            row_groups.push(rg);
        }
        let at = r.pos();
        let probes = r.u32()?;
        let words = r.count(8)?;
        // A power of two of at least 8 words, as written; 1 to 16 probes.
        if !(1..=16).contains(&probes)
            || !words.is_power_of_two()
            || !(8..=MAX_WORDS).contains(&words)
        {
            return Err(CodecError::Invalid(at).into());
        }
        let words = (0..words)
            .map(|_| Ok(u64::from_le_bytes(r.array()?)))
            .collect::<Result<Vec<u64>, CodecError>>()?;
        r.finish()?;
        Ok(SegmentIndex {
            origins,
            row_groups,
            filter: TraceIdFilter { words, probes },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(i: u64) -> TraceId {
        let mut t = [0u8; 16];
        t[..8].copy_from_slice(&mix(i).to_le_bytes());
        t[8..].copy_from_slice(&mix(i ^ 0xdead).to_le_bytes());
        t
    }

    #[test]
    fn the_filter_keeps_every_id_and_rules_out_most_others() {
        let mut f = TraceIdFilter::with_capacity(10_000);
        for i in 0..10_000 {
            f.insert(&id(i));
        }
        assert!((0..10_000).all(|i| f.may_contain(&id(i))));
        let false_positives = (10_000..110_000).filter(|&i| f.may_contain(&id(i))).count();
        assert!(false_positives < 50, "{false_positives} of 100000");
        // 64-bit ids (upper half zero) spread as well.
        let mut z = TraceIdFilter::with_capacity(1_000);
        let zid = |i: u64| {
            let mut t = [0u8; 16];
            t[8..].copy_from_slice(&i.to_be_bytes());
            t
        };
        for i in 0..1_000 {
            z.insert(&zid(i));
        }
        let fp = (1_000..101_000).filter(|&i| z.may_contain(&zid(i))).count();
        assert!(fp < 50, "{fp} of 100000");
    }

    #[test]
    fn an_index_round_trips_and_finds_row_groups() {
        let mut filter = TraceIdFilter::with_capacity(3);
        for i in [1, 2, 3] {
            filter.insert(&[i; 16]);
        }
        let index = SegmentIndex {
            origins: vec![Arc::new(SpanOrigin::new(vec![
                argus_model::traces::Attr::str("service.name", "a"),
            ]))],
            row_groups: vec![
                RowGroupIndex {
                    min_trace: [1; 16],
                    max_trace: [2; 16],
                    spans: 5,
                    min_start: -3,
                    max_end: 9,
                },
                RowGroupIndex {
                    min_trace: [2; 16],
                    max_trace: [3; 16],
                    spans: 1,
                    min_start: 0,
                    max_end: 1,
                },
            ],
            filter,
        };
        let mut b = Vec::new();
        index.encode(&mut b);
        let back = SegmentIndex::decode(&b).unwrap();
        assert_eq!(back, index);
        assert_eq!(back.origins[0].service, "a");
        assert_eq!(back.row_groups_of(&[2; 16]), [0, 1]);
        assert_eq!(back.row_groups_of(&[3; 16]), [1]);
        assert_eq!(back.row_groups_of(&[9; 16]), Vec::<usize>::new());
    }

    proptest! {
        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = SegmentIndex::decode(&b);
            let mut sealed = Vec::new();
            seal(INDEX_MAGIC, VERSION, &b, &mut sealed);
            let _ = SegmentIndex::decode(&sealed);
        }
    }
}
