//! A remote-write 1.0 body builder that pre-encodes each series' labels
//! once, so the load generator spends its CPU on little more than snappy.
//! Produces the same `prometheus.WriteRequest` as
//! `argus_ingest::remote_write::encode_v1` (checked by a test that decodes
//! both); `--encoder prost` uses `encode_v1` itself.

use argus_model::Labels;

fn varint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

fn varint_len(mut x: u64) -> usize {
    let mut n = 1;
    while x >= 0x80 {
        x >>= 7;
        n += 1;
    }
    n
}

/// `TimeSeries.labels` (field 1) of a series, encoded.
pub(crate) fn encode_labels(labels: &Labels) -> Vec<u8> {
    let mut out = Vec::new();
    for l in labels {
        let body = 1
            + varint_len(l.name.len() as u64)
            + l.name.len()
            + 1
            + varint_len(l.value.len() as u64)
            + l.value.len();
        out.push(0x0a);
        varint(&mut out, body as u64);
        out.push(0x0a);
        varint(&mut out, l.name.len() as u64);
        out.extend_from_slice(l.name.as_bytes());
        out.push(0x12);
        varint(&mut out, l.value.len() as u64);
        out.extend_from_slice(l.value.as_bytes());
    }
    out
}

/// Appends one `WriteRequest.timeseries` entry (field 1) with one sample.
pub(crate) fn push_series(raw: &mut Vec<u8>, labels: &[u8], t: i64, v: f64) {
    // Sample: 0x09 double value, 0x10 varint timestamp
    let sample_len = 1 + 8 + 1 + varint_len(t as u64);
    let series_len = labels.len() + 1 + varint_len(sample_len as u64) + sample_len;
    raw.push(0x0a);
    varint(raw, series_len as u64);
    raw.extend_from_slice(labels);
    raw.push(0x12);
    varint(raw, sample_len as u64);
    raw.push(0x09);
    raw.extend_from_slice(&v.to_le_bytes());
    raw.push(0x10);
    varint(raw, t as u64);
}

/// Snappy block-compresses `raw` into `out`.
pub(crate) fn compress(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.resize(snap::raw::max_compress_len(raw.len()), 0);
    let n = snap::raw::Encoder::new()
        .compress(raw, out)
        .expect("request too large for a snappy block");
    out.truncate(n);
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_ingest::remote_write::{decode, encode_v1, DecodeLimits, Protocol};
    use argus_model::{Sample, TimeSeries};

    #[test]
    fn same_request_as_encode_v1() {
        let t = crate::gen::Target::new(5, 7, 0);
        let series: Vec<TimeSeries> = t
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                TimeSeries::new(
                    l.clone(),
                    vec![Sample::new(
                        1_700_000_000_000 + i as i64,
                        i as f64 * 0.5 - 3.0,
                    )],
                )
            })
            .collect();
        let mut a = Vec::new();
        encode_v1(&series, &mut a);
        let mut raw = Vec::new();
        for s in &series {
            push_series(
                &mut raw,
                &encode_labels(&s.labels),
                s.samples[0].t,
                s.samples[0].v,
            );
        }
        let mut b = Vec::new();
        compress(&raw, &mut b);
        let da = decode(&a, Protocol::V1, &DecodeLimits::default()).unwrap();
        let db = decode(&b, Protocol::V1, &DecodeLimits::default()).unwrap();
        assert!(da.rejected.is_empty() && db.rejected.is_empty());
        assert_eq!(da.series, series);
        assert_eq!(db.series, series);
    }
}
