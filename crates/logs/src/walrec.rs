//! The logs store's WAL records (`docs/format/logs.md`): the WAL itself
//! (`argus-wal`) carries opaque records; these are the logs store's.
//!
//! ```text
//! record  := kind:u8 body
//! kind 1  (entries) := zstd frame of: uvarint(streams) stream*
//!   stream := uvarint(pairs) (str name, str value)* uvarint(entries) entry*
//!   entry  := varint(ts_ns - previous ts_ns of the stream, the first from 0)
//!             str line uvarint(pairs) (str name, str value)*
//!   str    := uvarint(len) bytes (UTF-8)
//! kind 2  (freeze marker) := u64 LE: the WAL segment the flush closed
//! ```
//!
//! Decoding checks every length against what is left, so a damaged or
//! hostile record is an error, never a panic or an allocation larger than
//! the record.

use argus_model::{Label, Labels, LogEntry, LogStream};
pub use argus_wal::codec::encode_freeze;
use argus_wal::codec::{
    decode_framed, encode_payload, put_str, put_uvarint, put_varint, CodecError, Framed, Reader,
};

/// zstd level of an entries record (a negative level is a fast one).
const WAL_ZSTD_LEVEL: i32 = -3;

/// The largest decompressed entries record accepted (a push is bounded by
/// the ingest body limit well below this).
pub const MAX_RECORD_BYTES: usize = 1 << 30;

/// A decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Entries accepted by one push.
    Entries(Vec<LogStream>),
    /// Everything before this record was set aside by the flush that
    /// closed WAL segment `.0`.
    Freeze(u64),
}

/// Why a record could not be decoded.
pub type RecordError = CodecError;

/// Appends an entries record for `streams` to `out`.
pub fn encode_entries<'a>(
    streams: impl IntoIterator<Item = (&'a Labels, &'a [LogEntry])>,
    out: &mut Vec<u8>,
) {
    let streams: Vec<_> = streams.into_iter().collect();
    // Sized up front: growing it would copy the record again and again.
    let size: usize = streams
        .iter()
        .map(|(l, es)| {
            l.iter()
                .map(|l| l.name.len() + l.value.len() + 4)
                .sum::<usize>()
                + es.iter()
                    .map(|e| e.size() + 8 + 4 * e.metadata.len())
                    .sum::<usize>()
                + 10
        })
        .sum();
    let mut raw = Vec::with_capacity(size + 10);
    put_uvarint(&mut raw, streams.len() as u64);
    for (labels, entries) in streams {
        put_uvarint(&mut raw, labels.len() as u64);
        for l in labels.iter() {
            put_str(&mut raw, &l.name);
            put_str(&mut raw, &l.value);
        }
        put_uvarint(&mut raw, entries.len() as u64);
        let mut prev = 0i64;
        for e in entries {
            put_varint(&mut raw, e.ts_ns.wrapping_sub(prev));
            prev = e.ts_ns;
            put_str(&mut raw, &e.line);
            put_uvarint(&mut raw, e.metadata.len() as u64);
            for (n, v) in &e.metadata {
                put_str(&mut raw, n);
                put_str(&mut raw, v);
            }
        }
    }
    // A fast level: the record is compressed on the request path and lives
    // only until the flush that follows (Prometheus's WAL uses snappy for
    // the same reason). On 1 MiB of the benchmark's lines, level -3 ran at
    // 379 MB/s for 3.4× and level 1 at 287 MB/s for 5.3×: WAL
    // compression was 12% of ingest CPU at level 1. Compressing in memory
    // fails only if allocation does.
    encode_payload(&raw, WAL_ZSTD_LEVEL, out);
}

/// Decodes one record.
pub fn decode(rec: &[u8]) -> Result<Record, RecordError> {
    match decode_framed(rec, MAX_RECORD_BYTES)? {
        Framed::Payload(raw) => decode_entries(&raw).map(Record::Entries),
        Framed::Freeze(segment) => Ok(Record::Freeze(segment)),
    }
}

fn decode_entries(raw: &[u8]) -> Result<Vec<LogStream>, RecordError> {
    let mut r = Reader::new(raw);
    let n = r.count(2)?;
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let pairs = r.count(2)?;
        let mut labels = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            let name = r.str()?;
            let value = r.str()?;
            labels.push(Label::new(name, value));
        }
        labels.sort();
        labels.dedup_by(|a, b| a.name == b.name);
        let count = r.count(2)?;
        let mut entries = Vec::with_capacity(count);
        let mut prev = 0i64;
        for _ in 0..count {
            let ts = prev.wrapping_add(r.varint()?);
            prev = ts;
            let line = r.str()?.to_string();
            let m = r.count(2)?;
            let mut metadata = Vec::with_capacity(m);
            for _ in 0..m {
                let name = r.str()?.to_string();
                let value = r.str()?.to_string();
                metadata.push((name, value));
            }
            entries.push(LogEntry {
                ts_ns: ts,
                line,
                metadata,
            });
        }
        streams.push(LogStream {
            labels: Labels::from_sorted_unchecked(labels),
            entries,
        });
    }
    r.finish()?;
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stream(labels: &[(&str, &str)], entries: Vec<LogEntry>) -> LogStream {
        LogStream {
            labels: Labels::from_pairs(labels.iter().copied()),
            entries,
        }
    }

    #[test]
    fn entries_round_trip() {
        let mut e = LogEntry::new(1_700_000_000_000_000_001, "GET /a 200");
        e.metadata.push(("trace_id".into(), "abc".into()));
        let streams = vec![
            stream(
                &[("job", "web"), ("env", "prod")],
                vec![e, LogEntry::new(1_699_999_999_000_000_000, "older")],
            ),
            stream(&[("job", "db")], vec![LogEntry::new(-5, "négatif")]),
        ];
        let mut buf = Vec::new();
        encode_entries(
            streams.iter().map(|s| (&s.labels, s.entries.as_slice())),
            &mut buf,
        );
        assert_eq!(decode(&buf).unwrap(), Record::Entries(streams));
    }

    #[test]
    fn freeze_round_trip_and_damage_is_an_error() {
        let mut buf = Vec::new();
        encode_freeze(42, &mut buf);
        assert_eq!(decode(&buf).unwrap(), Record::Freeze(42));
        assert_eq!(decode(&buf[..5]), Err(CodecError::Truncated(0)));
        assert_eq!(decode(&[]), Err(CodecError::Empty));
        assert_eq!(decode(&[9, 1]), Err(CodecError::Kind(9)));
        assert!(decode(&[1, 0x28, 0xb5, 0x2f]).is_err());
        // A valid zstd frame of a hostile body: a huge count, no panic.
        let raw = [0xff, 0xff, 0xff, 0xff, 0x0f];
        let mut rec = Vec::new();
        encode_payload(&raw, 1, &mut rec);
        assert!(matches!(decode(&rec), Err(CodecError::Truncated(_))));
    }

    proptest! {
        #[test]
        fn any_entries_round_trip(
            raw in proptest::collection::vec(
                (proptest::collection::vec(("[a-z]{1,4}", ".{0,6}"), 0..4),
                 proptest::collection::vec((any::<i64>(), ".{0,20}",
                    proptest::collection::vec(("[a-z_]{1,5}", ".{0,5}"), 0..3)), 0..5)),
                0..4)
        ) {
            let streams: Vec<LogStream> = raw.into_iter().map(|(labels, entries)| {
                let mut l: Vec<Label> = labels.into_iter().map(|(n, v)| Label::new(n, v)).collect();
                l.sort();
                l.dedup_by(|a, b| a.name == b.name);
                LogStream {
                    labels: Labels::from_sorted_unchecked(l),
                    entries: entries.into_iter().map(|(ts, line, metadata)| LogEntry { ts_ns: ts, line, metadata }).collect(),
                }
            }).collect();
            let mut buf = Vec::new();
            encode_entries(streams.iter().map(|s| (&s.labels, s.entries.as_slice())), &mut buf);
            prop_assert_eq!(decode(&buf).unwrap(), Record::Entries(streams));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
