//! Tests on hand-built wire bytes: framing, unknown fields, limits, garbage.

use argus_model::{Labels, Sample};

use super::tests::{lim, sample_set, series};
use super::*;

fn compress(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(raw).unwrap()
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-delimited field.
fn put_len(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag << 3 | 2);
    put_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn v1_label(name: &str, value: &str, series: &mut Vec<u8>) {
    let mut l = Vec::with_capacity(4 + name.len() + value.len());
    put_len(1, name.as_bytes(), &mut l);
    put_len(2, value.as_bytes(), &mut l);
    put_len(1, &l, series);
}

#[test]
fn a_million_labels_in_one_series_decode_without_panicking() {
    const N: usize = 1_000_000;
    let mut names = Vec::with_capacity(N);
    let mut labels = Vec::new();
    for i in 0..N {
        names.push(format!("l{i:07}"));
        v1_label(&names[i], "v", &mut labels);
    }
    let v1_body = |first: &[(&str, &str)]| {
        let mut ts = Vec::new();
        for (n, v) in first {
            v1_label(n, v, &mut ts);
        }
        ts.extend_from_slice(&labels);
        put_len(2, &[], &mut ts); // one sample, all defaults
        let mut raw = Vec::new();
        put_len(1, &ts, &mut raw);
        compress(&raw)
    };
    // 1.0, sorted: decoded in full (limits on label count belong to the layer above).
    let out = decode(&v1_body(&[("__name__", "wide")]), Protocol::V1, &lim()).unwrap();
    assert_eq!(out.series[0].labels.len(), N + 1);
    // 1.0, unsorted: rejected early; the shown series stays short.
    let out = decode(
        &v1_body(&[("__name__", "wide"), ("zz", "1")]),
        Protocol::V1,
        &lim(),
    )
    .unwrap();
    assert!(matches!(
        out.rejected[0].reason,
        RejectReason::UnsortedLabels { .. }
    ));
    assert!(out.rejected[0].series.len() <= 200 + '…'.len_utf8());

    // 2.0, sorted: a million symbols and refs.
    let mut raw = Vec::new();
    for s in ["", "__name__", "wide", "v"] {
        put_len(4, s.as_bytes(), &mut raw);
    }
    let mut refs = vec![1, 2];
    for (i, name) in names.iter().enumerate() {
        put_len(4, name.as_bytes(), &mut raw);
        put_varint(4 + i as u64, &mut refs);
        refs.push(3);
    }
    let mut ts = Vec::new();
    put_len(1, &refs, &mut ts);
    put_len(2, &[], &mut ts);
    put_len(5, &ts, &mut raw);
    let out = decode(&compress(&raw), Protocol::V2, &lim()).unwrap();
    assert_eq!(out.series[0].labels.len(), N + 1);
}

#[test]
fn negative_zero_on_the_wire_keeps_its_sign() {
    // proto3 leaves out zero-valued scalars, and -0.0 == 0.0: our encoders,
    // like Prometheus's gogo encoder, send -0.0 as "no value" (+0.0).
    let mut buf = Vec::new();
    encode_v1(&[series(&[("__name__", "z")], &[(1, -0.0)])], &mut buf);
    let out = decode(&buf, Protocol::V1, &lim()).unwrap();
    assert_eq!(out.series[0].samples[0].v.to_bits(), 0);
    // A sender that writes the field explicitly gets its bits kept.
    let mut raw = vec![0x0a, 0x1a, 0x0a, 0x0d, 0x0a, 0x08];
    raw.extend(b"__name__");
    raw.extend([0x12, 0x01, b'z', 0x12, 0x09, 0x09]);
    raw.extend((-0.0f64).to_le_bytes());
    assert_eq!(raw.len(), 2 + 0x1a);
    let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    let out = decode(&body, Protocol::V1, &lim()).unwrap();
    assert_eq!(out.series[0].samples[0].v.to_bits(), 0x8000_0000_0000_0000);
}

#[test]
fn v2_accepts_unpacked_refs_and_fields_in_any_order() {
    // timeseries (field 5) before symbols (field 4); labels_refs unpacked.
    let mut raw = Vec::new();
    let series = [0x08, 1, 0x08, 2, 0x12, 0x02, 0x10, 0x07]; // refs 1,2; sample{timestamp 7}
    raw.extend([0x2a, series.len() as u8]);
    raw.extend(series);
    for s in ["", "__name__", "up"] {
        raw.extend([0x22, s.len() as u8]);
        raw.extend(s.as_bytes());
    }
    let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    let out = decode(&body, Protocol::V2, &lim()).unwrap();
    assert_eq!(out.series.len(), 1);
    assert_eq!(
        out.series[0].labels,
        Labels::from_pairs([("__name__", "up")])
    );
    assert!(out.series[0].samples[0].bit_eq(&Sample::new(7, 0.0)));
}

#[test]
fn unknown_fields_and_groups_are_skipped() {
    let mut raw = Vec::new();
    raw.extend([0x12, 0x03, b'a', b'b', b'c']); // reserved field 2 (Cortex source)
    raw.extend([0x7b, 0x08, 0x01, 0x7c]); // group 15 { 1: 1 }
    raw.extend([0x0a, 0x0e, 0x0a, 0x0a, 0x0a, 0x08]);
    raw.extend(b"__name__");
    raw.extend([0x12, 0x00]); // one empty sample; the label has no value
    raw.extend([0x45, 0, 0, 0, 0]); // fixed32 field 8
    let body = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
    let out = decode(&body, Protocol::V1, &lim()).unwrap();
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(
        out.rejected[0].reason,
        RejectReason::EmptyLabelValue("__name__".into())
    );
}

#[test]
fn garbage_and_truncated_bodies() {
    let mut body = Vec::new();
    encode_v1(&sample_set(), &mut body);
    for cut in [1, body.len() / 2, body.len() - 1] {
        let err = decode(&body[..cut], Protocol::V1, &lim()).unwrap_err();
        assert!(matches!(err, DecodeError::Snappy(_)), "{cut}: {err}");
    }
    assert!(matches!(
        decode(&[], Protocol::V1, &lim()),
        Err(DecodeError::Snappy(_))
    ));
    let err = decode(b"\x05hello", Protocol::V1, &lim()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("request body is not valid snappy block-format data: "),
        "{err}"
    );

    let mut framed = Vec::new();
    let mut w = snap::write::FrameEncoder::new(&mut framed);
    std::io::Write::write_all(&mut w, b"hello").unwrap();
    drop(w);
    let err = decode(&framed, Protocol::V1, &lim()).unwrap_err();
    assert!(err.to_string().contains("framed format"), "{err}");

    // Valid snappy, truncated protobuf.
    let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
    for protocol in [Protocol::V1, Protocol::V2] {
        let cut = snap::raw::Encoder::new()
            .compress_vec(&raw[..raw.len() - 3])
            .unwrap();
        let err = decode(&cut, protocol, &lim()).unwrap_err();
        assert!(matches!(err, DecodeError::Protobuf { .. }), "{err}");
    }
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0x0a, 0x05, 0x0a, 0x03, 0xff, 0xfe, 0xfd])
        .unwrap();
    let err = decode(&garbage, Protocol::V1, &lim()).unwrap_err();
    assert!(
        matches!(
            &err,
            DecodeError::Protobuf {
                message: "prometheus.WriteRequest",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("timeseries[0]: labels[0]"),
        "{err}"
    );
    let err = decode(
        &snap::raw::Encoder::new()
            .compress_vec(&[0x22, 0x01, 0xff])
            .unwrap(),
        Protocol::V2,
        &lim(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("symbols[0]") && err.to_string().contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn snappy_header_claiming_4gib_is_refused_before_allocating() {
    // Header only: varint 0xffff_ffff, the largest length snappy allows.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
    let err = decode(&body, Protocol::V1, &lim()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLarge {
            size: 0xffff_ffff,
            limit: 64 << 20
        }
    );
    // Beyond snappy's own limit (here 127 << 28): still TooLarge, not a snappy error.
    let err = decode(&[0x80, 0x80, 0x80, 0x80, 0x7f], Protocol::V2, &lim()).unwrap_err();
    assert!(
        matches!(err, DecodeError::TooLarge { size, .. } if size == 127 << 28),
        "{err}"
    );
    // An honest body over a small limit.
    let mut buf = Vec::new();
    encode_v1(&sample_set(), &mut buf);
    let small = DecodeLimits {
        max_decompressed_bytes: 10,
        ..lim()
    };
    assert!(matches!(
        decode(&buf, Protocol::V1, &small),
        Err(DecodeError::TooLarge { limit: 10, .. })
    ));
}
