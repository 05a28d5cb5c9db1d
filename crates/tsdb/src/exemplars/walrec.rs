//! The exemplars WAL record (type 8, `docs/format/wal.md`): exemplars with
//! their series' label sets, in the order they were stored, zstd-compressed
//! like types 5 and 6. Self-contained (label text, not series ids): the
//! exemplar store is indexed by label sets, not by head series, so a replay
//! needs no series record before it.

use crate::walrec::{get_payload, put_payload, RecordError, REC_EXEMPLARS};
use argus_model::{Exemplar, Labels};
use argus_wal::codec::{put_str, put_uvarint, put_varint, Reader};

/// Exemplars per record at most (larger batches are split by the writer).
pub const MAX_RECORD_EXEMPLARS: usize = 8192;

fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, &l.name);
        put_str(buf, &l.value);
    }
}

fn get_labels(r: &mut Reader<'_>) -> Result<Labels, argus_wal::codec::CodecError> {
    // A label takes at least 2 bytes (two empty strings).
    let n = r.count(2)?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        pairs.push((r.str()?, r.str()?));
    }
    // Sorted, deduplicated, empty values dropped: a damaged record cannot
    // make an invalid label set.
    Ok(Labels::from_pairs(pairs))
}

/// Appends a type-8 record to `buf`: runs of exemplars of one series (in
/// the order given), each run its series' labels once, then per exemplar
/// its labels, value (f64 bits, little-endian) and time (zig-zag varint).
/// At most [`MAX_RECORD_EXEMPLARS`] exemplars.
pub fn encode_exemplars<'a>(
    items: impl IntoIterator<Item = (&'a Labels, &'a Exemplar)>,
    buf: &mut Vec<u8>,
) {
    let mut runs: Vec<(&Labels, Vec<&Exemplar>)> = Vec::new();
    for (series, e) in items {
        match runs.last_mut() {
            Some((s, v)) if *s == series => v.push(e),
            _ => runs.push((series, vec![e])),
        }
    }
    let mut body = Vec::with_capacity(runs.len() * 96);
    put_uvarint(&mut body, runs.len() as u64);
    for (series, exemplars) in runs {
        put_labels(&mut body, series);
        put_uvarint(&mut body, exemplars.len() as u64);
        for e in exemplars {
            put_labels(&mut body, &e.labels);
            body.extend_from_slice(&e.value.to_bits().to_le_bytes());
            put_varint(&mut body, e.ts_ms);
        }
    }
    buf.push(REC_EXEMPLARS);
    put_payload(buf, &body);
}

/// A checkpoint's exemplar records: every exemplar the store holds,
/// oldest first ([`super::Exemplars::snapshot`], taken now), so that a
/// replay adds them back in the order they were stored.
pub fn checkpoint_records(store: &super::Exemplars) -> impl Iterator<Item = Vec<u8>> {
    let all = store.snapshot();
    let mut out = Vec::new();
    for part in all.chunks(MAX_RECORD_EXEMPLARS) {
        let mut buf = Vec::new();
        encode_exemplars(part.iter().map(|(s, e)| (&**s, e)), &mut buf);
        out.push(buf);
    }
    out.into_iter()
}

/// Decodes a type-8 record's body (after the type byte).
pub(crate) fn decode_exemplars(buf: &[u8]) -> Result<Vec<(Labels, Exemplar)>, RecordError> {
    let payload = get_payload(buf)?;
    decode_body(&payload).map_err(|_| RecordError("malformed exemplars record"))
}

fn decode_body(body: &[u8]) -> Result<Vec<(Labels, Exemplar)>, argus_wal::codec::CodecError> {
    let mut r = Reader::new(body);
    // A run takes at least 2 bytes (no labels, no exemplars).
    let runs = r.count(2)?;
    let mut out = Vec::new();
    for _ in 0..runs {
        let series = get_labels(&mut r)?;
        // An exemplar takes at least 10 bytes (no labels, value, time).
        let n = r.count(10)?;
        out.reserve(n);
        for _ in 0..n {
            let labels = get_labels(&mut r)?;
            let value = f64::from_bits(r.u64_le()?);
            let ts_ms = r.varint()?;
            out.push((series.clone(), Exemplar::new(labels, value, ts_ms)));
        }
    }
    r.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walrec::{decode, Record};
    use proptest::prelude::*;

    fn ex(trace: &str, v: f64, t: i64) -> Exemplar {
        Exemplar::new(Labels::from_pairs([("trace_id", trace)]), v, t)
    }

    #[test]
    fn roundtrip_keeps_order_and_bits() {
        let a = Labels::from_pairs([("__name__", "req"), ("job", "api")]);
        let b = Labels::from_pairs([("__name__", "req"), ("job", "db")]);
        let items = vec![
            (a.clone(), ex("1", 1.5, 1000)),
            (a.clone(), ex("2", f64::NAN, -5)),
            (b.clone(), Exemplar::new(Labels::default(), 0.25, 3000)),
            (a.clone(), ex("3", f64::INFINITY, i64::MAX)),
        ];
        let mut buf = vec![0xAA];
        encode_exemplars(items.iter().map(|(s, e)| (s, e)), &mut buf);
        assert_eq!(buf[0], 0xAA, "appends to the caller's buffer");
        let Ok(Record::Exemplars(got)) = decode(&buf[1..]) else {
            panic!("not an exemplars record");
        };
        assert_eq!(got.len(), items.len());
        for ((gs, ge), (ws, we)) in got.iter().zip(&items) {
            assert_eq!(gs, ws);
            assert_eq!(ge.labels, we.labels);
            assert_eq!(ge.ts_ms, we.ts_ms);
            assert_eq!(ge.value.to_bits(), we.value.to_bits());
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(codec in 0u8..3, data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut rec = vec![REC_EXEMPLARS, codec];
            rec.extend_from_slice(&data);
            let _ = decode(&rec);
        }

        #[test]
        fn truncations_never_panic(cut in 0usize..200) {
            let s = Labels::from_pairs([("__name__", "m")]);
            let items: Vec<(Labels, Exemplar)> =
                (0..5).map(|i| (s.clone(), ex(&i.to_string(), i as f64, i))).collect();
            let mut buf = Vec::new();
            encode_exemplars(items.iter().map(|(s, e)| (s, e)), &mut buf);
            let cut = cut.min(buf.len());
            let _ = decode(&buf[..cut]);
        }
    }
}
