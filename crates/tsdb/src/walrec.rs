//! The metrics store's WAL record payloads (framing and checksums belong to
//! `argus-wal`). Documented in `docs/format/wal.md` ("Metrics records").

use crate::varint::{get_uvarint, get_varint, put_uvarint, put_varint};
use argus_model::{Label, Labels, Sample};

pub const REC_SERIES: u8 = 1;
pub const REC_SAMPLES: u8 = 2;
pub const REC_MIN_VALID_TIME: u8 = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Series(Vec<(u64, Labels)>),
    Samples(Vec<(u64, Sample)>),
    MinValidTime(i64),
}

#[derive(Debug, thiserror::Error)]
#[error("malformed metrics wal record: {0}")]
pub struct RecordError(pub &'static str);

pub fn encode_series(series: &[(u64, &Labels)], buf: &mut Vec<u8>) {
    buf.push(REC_SERIES);
    put_uvarint(buf, series.len() as u64);
    for (id, labels) in series {
        put_uvarint(buf, *id);
        put_uvarint(buf, labels.len() as u64);
        for l in labels.iter() {
            put_uvarint(buf, l.name.len() as u64);
            buf.extend_from_slice(l.name.as_bytes());
            put_uvarint(buf, l.value.len() as u64);
            buf.extend_from_slice(l.value.as_bytes());
        }
    }
}

/// Samples: the first id and timestamp absolute, later ones as deltas.
pub fn encode_samples(samples: &[(u64, Sample)], buf: &mut Vec<u8>) {
    buf.push(REC_SAMPLES);
    put_uvarint(buf, samples.len() as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s) in samples {
        put_varint(buf, *id as i64 - pid);
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

fn get_str(buf: &mut &[u8]) -> Result<String, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated string length"))? as usize;
    if n > buf.len() {
        return Err(RecordError("string past end"));
    }
    let s = std::str::from_utf8(&buf[..n])
        .map_err(|_| RecordError("label not utf-8"))?
        .to_string();
    *buf = &buf[n..];
    Ok(s)
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
                let mut labels = Vec::with_capacity(nl.min(buf.len()));
                for _ in 0..nl {
                    let name = get_str(&mut buf)?;
                    let value = get_str(&mut buf)?;
                    labels.push(Label { name, value });
                }
                if !labels.windows(2).all(|w| w[0].name < w[1].name) {
                    return Err(RecordError("labels not sorted"));
                }
                out.push((id, Labels::from_sorted_unchecked(labels)));
            }
            Ok(Record::Series(out))
        }
        REC_SAMPLES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len() / 10 + 1));
            let (mut pid, mut pt) = (0i64, 0i64);
            for _ in 0..n {
                let id = pid + get_varint(&mut buf).ok_or(RecordError("truncated id"))?;
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
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let mut b = Vec::new();
        encode_series(&[(7, &l)], &mut b);
        assert_eq!(decode(&b).unwrap(), Record::Series(vec![(7, l)]));
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

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&data);
        }
    }
}
