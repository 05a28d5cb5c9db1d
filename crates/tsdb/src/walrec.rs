//! The metrics store's WAL record payloads (framing and checksums belong to
//! `argus-wal`). Documented in `docs/format/wal.md` ("Metrics records").

use crate::head::PackedLabels;
use crate::varint::{get_uvarint, get_varint, put_uvarint, put_varint};
use argus_model::{CounterResetHint, FloatHistogram, HistogramSample, Sample, Span};

pub const REC_SERIES: u8 = 1;
pub const REC_SAMPLES: u8 = 2;
pub const REC_MIN_VALID_TIME: u8 = 3;
pub const REC_HISTOGRAM_SAMPLES: u8 = 4;

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// New series: id and label set (packed, as stored in the record).
    Series(Vec<(u64, PackedLabels)>),
    Samples(Vec<(u64, Sample)>),
    MinValidTime(i64),
    HistogramSamples(Vec<(u64, HistogramSample)>),
}

#[derive(Debug, thiserror::Error)]
#[error("malformed metrics wal record: {0}")]
pub struct RecordError(pub &'static str);

pub fn encode_series(series: &[(u64, &PackedLabels)], buf: &mut Vec<u8>) {
    buf.push(REC_SERIES);
    put_uvarint(buf, series.len() as u64);
    for (id, labels) in series {
        put_uvarint(buf, *id);
        put_uvarint(buf, labels.iter().count() as u64);
        // The packed form is the record's own label encoding.
        buf.extend_from_slice(labels.as_bytes());
    }
}

/// Samples: the first id and timestamp absolute, later ones as deltas.
/// Deltas wrap (ids are any `u64`, timestamps any `i64`), in the decoder too.
pub fn encode_samples(samples: &[(u64, Sample)], buf: &mut Vec<u8>) {
    buf.push(REC_SAMPLES);
    put_uvarint(buf, samples.len() as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s) in samples {
        put_varint(buf, (*id as i64).wrapping_sub(pid));
        put_varint(buf, s.t.wrapping_sub(pt));
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
        pid = *id as i64;
        pt = s.t;
    }
}

pub fn encode_min_valid_time(t: i64, buf: &mut Vec<u8>) {
    buf.push(REC_MIN_VALID_TIME);
    put_varint(buf, t);
}

fn put_f64(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn get_f64(buf: &mut &[u8]) -> Result<f64, RecordError> {
    if buf.len() < 8 {
        return Err(RecordError("truncated float"));
    }
    let v = f64::from_bits(u64::from_le_bytes(buf[..8].try_into().expect("8 bytes")));
    *buf = &buf[8..];
    Ok(v)
}

fn put_spans(buf: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(buf, spans.len() as u64);
    for s in spans {
        put_varint(buf, s.offset as i64);
        put_uvarint(buf, s.length as u64);
    }
}

fn get_spans(buf: &mut &[u8]) -> Result<Vec<Span>, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated span count"))? as usize;
    let mut out = Vec::with_capacity(n.min(buf.len() / 2));
    for _ in 0..n {
        let offset = get_varint(buf)
            .and_then(|x| i32::try_from(x).ok())
            .ok_or(RecordError("bad span offset"))?;
        let length = get_uvarint(buf)
            .and_then(|x| u32::try_from(x).ok())
            .ok_or(RecordError("bad span length"))?;
        out.push(Span { offset, length });
    }
    Ok(out)
}

fn put_floats(buf: &mut Vec<u8>, v: &[f64]) {
    put_uvarint(buf, v.len() as u64);
    for x in v {
        put_f64(buf, *x);
    }
}

fn get_floats(buf: &mut &[u8]) -> Result<Vec<f64>, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated float count"))? as usize;
    if n > buf.len() / 8 {
        return Err(RecordError("floats past end"));
    }
    (0..n).map(|_| get_f64(buf)).collect()
}

/// Histogram samples: ids and timestamps as in [`encode_samples`], then
/// each histogram's fields (see `docs/format/wal.md`).
pub fn encode_histogram_samples(samples: &[(u64, &HistogramSample)], buf: &mut Vec<u8>) {
    buf.push(REC_HISTOGRAM_SAMPLES);
    put_uvarint(buf, samples.len() as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s) in samples {
        put_varint(buf, (*id as i64).wrapping_sub(pid));
        put_varint(buf, s.t.wrapping_sub(pt));
        let h = &s.h;
        buf.push(match h.counter_reset_hint {
            CounterResetHint::Unknown => 0,
            CounterResetHint::CounterReset => 1,
            CounterResetHint::NotCounterReset => 2,
            CounterResetHint::Gauge => 3,
        });
        put_varint(buf, h.schema as i64);
        for v in [h.zero_threshold, h.zero_count, h.count, h.sum] {
            put_f64(buf, v);
        }
        put_spans(buf, &h.positive_spans);
        put_floats(buf, &h.positive_buckets);
        put_spans(buf, &h.negative_spans);
        put_floats(buf, &h.negative_buckets);
        put_floats(buf, &h.custom_values);
        pid = *id as i64;
        pt = s.t;
    }
}

fn get_histogram(buf: &mut &[u8]) -> Result<FloatHistogram, RecordError> {
    let (&hint, rest) = buf
        .split_first()
        .ok_or(RecordError("truncated histogram"))?;
    *buf = rest;
    let counter_reset_hint = match hint {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => return Err(RecordError("bad counter reset hint")),
    };
    let schema = get_varint(buf)
        .and_then(|x| i32::try_from(x).ok())
        .ok_or(RecordError("bad schema"))?;
    let zero_threshold = get_f64(buf)?;
    let zero_count = get_f64(buf)?;
    let count = get_f64(buf)?;
    let sum = get_f64(buf)?;
    Ok(FloatHistogram {
        counter_reset_hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans: get_spans(buf)?,
        positive_buckets: get_floats(buf)?,
        negative_spans: get_spans(buf)?,
        negative_buckets: get_floats(buf)?,
        custom_values: get_floats(buf)?,
    })
}

fn get_str_ref<'a>(buf: &mut &'a [u8]) -> Result<&'a str, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated string length"))? as usize;
    if n > buf.len() {
        return Err(RecordError("string past end"));
    }
    let (s, rest) = buf.split_at(n);
    *buf = rest;
    std::str::from_utf8(s).map_err(|_| RecordError("label not utf-8"))
}

pub fn decode(mut buf: &[u8]) -> Result<Record, RecordError> {
    let (&typ, rest) = buf.split_first().ok_or(RecordError("empty record"))?;
    buf = rest;
    match typ {
        REC_SERIES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len()));
            for _ in 0..n {
                let id = get_uvarint(&mut buf).ok_or(RecordError("truncated id"))?;
                let nl =
                    get_uvarint(&mut buf).ok_or(RecordError("truncated label count"))? as usize;
                // The record's label bytes are the packed form: check them
                // (UTF-8, sorted unique names) and keep them as they are.
                let start = buf;
                let mut prev: Option<&str> = None;
                for _ in 0..nl {
                    let name = get_str_ref(&mut buf)?;
                    get_str_ref(&mut buf)?;
                    if prev.is_some_and(|p| p >= name) {
                        return Err(RecordError("labels not sorted"));
                    }
                    prev = Some(name);
                }
                let used = start.len() - buf.len();
                out.push((id, PackedLabels::from_checked_bytes(&start[..used])));
            }
            Ok(Record::Series(out))
        }
        REC_SAMPLES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len() / 10 + 1));
            let (mut pid, mut pt) = (0i64, 0i64);
            for _ in 0..n {
                let id = pid.wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated id"))?);
                let t = pt
                    .wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated timestamp"))?);
                if buf.len() < 8 {
                    return Err(RecordError("truncated value"));
                }
                let v = f64::from_bits(u64::from_le_bytes(buf[..8].try_into().expect("8 bytes")));
                buf = &buf[8..];
                out.push((id as u64, Sample { t, v }));
                pid = id;
                pt = t;
            }
            Ok(Record::Samples(out))
        }
        REC_HISTOGRAM_SAMPLES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len() / 40 + 1));
            let (mut pid, mut pt) = (0i64, 0i64);
            for _ in 0..n {
                let id = pid.wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated id"))?);
                let t = pt
                    .wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated timestamp"))?);
                let h = get_histogram(&mut buf)?;
                out.push((id as u64, HistogramSample { t, h }));
                pid = id;
                pt = t;
            }
            Ok(Record::HistogramSamples(out))
        }
        REC_MIN_VALID_TIME => Ok(Record::MinValidTime(
            get_varint(&mut buf).ok_or(RecordError("truncated time"))?,
        )),
        _ => Err(RecordError("unknown record type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roundtrip() {
        let l = argus_model::Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let mut b = Vec::new();
        encode_series(&[(7, &PackedLabels::new(&l))], &mut b);
        assert_eq!(
            decode(&b).unwrap(),
            Record::Series(vec![(7, PackedLabels::new(&l))])
        );
        let s = vec![
            (7, Sample::new(1000, 1.5)),
            (3, Sample::new(-5, argus_model::STALE_NAN)),
        ];
        b.clear();
        encode_samples(&s, &mut b);
        match decode(&b).unwrap() {
            Record::Samples(got) => {
                assert_eq!(got.len(), 2);
                assert!(got
                    .iter()
                    .zip(&s)
                    .all(|(a, b)| a.0 == b.0 && a.1.bit_eq(&b.1)));
            }
            r => panic!("{r:?}"),
        }
    }

    /// Found by the `walrec` fuzz target: id deltas that overflow `i64`
    /// (ids far apart, or a corrupt record) panicked in the decoder and the
    /// encoder with overflow checks on; both wrap now, so every `u64` id
    /// round-trips.
    #[test]
    fn id_deltas_wrap() {
        // A samples record with id deltas i64::MAX then +1 (the fuzzer's input, reduced).
        let mut b = vec![REC_SAMPLES];
        put_uvarint(&mut b, 2);
        for delta in [i64::MAX, 1] {
            put_varint(&mut b, delta);
            put_varint(&mut b, 0);
            b.extend_from_slice(&1.0f64.to_bits().to_le_bytes());
        }
        let Record::Samples(got) = decode(&b).unwrap() else {
            panic!("not samples");
        };
        assert_eq!(got[0].0, i64::MAX as u64);
        assert_eq!(got[1].0, 1 << 63);
        let mut again = Vec::new();
        encode_samples(&got, &mut again);
        assert_eq!(again, b);

        let ids = [1, 1 << 63, u64::MAX, 0];
        let s: Vec<_> = ids.iter().map(|&id| (id, Sample::new(0, 2.0))).collect();
        b.clear();
        encode_samples(&s, &mut b);
        let Record::Samples(got) = decode(&b).unwrap() else {
            panic!("not samples");
        };
        assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), ids);

        let h = HistogramSample {
            t: 0,
            h: FloatHistogram::default(),
        };
        let hs: Vec<_> = ids.iter().map(|&id| (id, &h)).collect();
        b.clear();
        encode_histogram_samples(&hs, &mut b);
        let Record::HistogramSamples(got) = decode(&b).unwrap() else {
            panic!("not histogram samples");
        };
        assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), ids);
    }

    /// The `walrec` fuzz target's first crash input, as found.
    #[test]
    fn fuzz_crash_samples_id_overflow() {
        let input = b"\x02\x07\xf6\xff\xff\xff\xfe\xf9b\0\0\0\0\0\x09\0\0\0\xfe\xff\xff\xf6\xf6\xff\xf6\xff\xff\0\xf8\xff\xfe\xf9b\0\0\0\0\0\0\0\0\xfe\xff\xff\xf6\xf6\xff\xf6\xff\xff\0\xf8?\0\xb0\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x15\x04\xe6\xf3\xfa\x01\0\0\0\0\0\0\0U\x04#\0";
        let _ = decode(input);
    }

    #[test]
    fn histogram_roundtrip() {
        let h = FloatHistogram {
            counter_reset_hint: CounterResetHint::Gauge,
            schema: -53,
            zero_threshold: 0.0,
            zero_count: 0.0,
            count: 3.0,
            sum: argus_model::STALE_NAN,
            positive_spans: vec![Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![1.0, 2.0],
            negative_spans: vec![],
            negative_buckets: vec![],
            custom_values: vec![0.5, 1.0],
        };
        let mut h2 = h.clone();
        h2.schema = 2;
        h2.custom_values.clear();
        h2.negative_spans = vec![Span {
            offset: -3,
            length: 1,
        }];
        h2.negative_buckets = vec![4.0];
        h2.sum = 1.25;
        let a = HistogramSample { t: 1000, h };
        let b = HistogramSample { t: -7, h: h2 };
        let mut buf = Vec::new();
        encode_histogram_samples(&[(9, &a), (2, &b)], &mut buf);
        match decode(&buf).unwrap() {
            Record::HistogramSamples(got) => {
                assert_eq!(got.len(), 2);
                assert_eq!((got[0].0, got[1].0), (9, 2));
                assert!(crate::chunk::histogram_bit_eq(&got[0].1.h, &a.h));
                assert_eq!(got[1].1, b);
            }
            r => panic!("{r:?}"),
        }
        for n in 0..buf.len() {
            assert!(decode(&buf[..n]).is_err());
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&data);
        }

        #[test]
        fn histogram_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut b = vec![REC_HISTOGRAM_SAMPLES];
            b.extend_from_slice(&data);
            let _ = decode(&b);
        }
    }
}
