//! Property tests: the fuzz targets of the decoder.

use argus_model::{LabelsBuilder, Sample, TimeSeries, STALE_NAN_BITS};
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;

use super::*;

fn lim() -> DecodeLimits {
    DecodeLimits::default()
}

fn compress(raw: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(raw).unwrap()
}

fn valid_series() -> impl Strategy<Value = TimeSeries> {
    let pair = ("[a-zA-Z_][a-zA-Z0-9_]{0,6}", "\\PC{1,6}");
    // -0.0 is left out: proto3 encoders send it as "no value" (see tests.rs).
    let bits = prop_oneof![any::<u64>(), Just(STALE_NAN_BITS), Just(0u64)].prop_map(|b| {
        if b == 0x8000_0000_0000_0000 {
            0
        } else {
            b
        }
    });
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,8}",
        vec(pair, 0..5),
        vec((any::<i64>(), bits), 1..5),
    )
        .prop_map(|(name, pairs, samples)| {
            let mut b = LabelsBuilder::default();
            for (n, v) in pairs {
                b.set(n, v);
            }
            b.set("__name__", name);
            TimeSeries {
                labels: b.build(),
                samples: samples
                    .into_iter()
                    .map(|(t, v)| Sample::new(t, f64::from_bits(v)))
                    .collect(),
                ..Default::default()
            }
        })
}

/// A protobuf field tree; encodes to bytes that are mostly well-formed and
/// use the tags (1 to 6) and strings the decoder cares about.
#[derive(Debug, Clone)]
enum Field {
    Varint(u32, u64),
    Fixed32(u32, u32),
    Fixed64(u32, u64),
    Bytes(u32, Vec<u8>),
    Msg(u32, Vec<Field>),
}

fn var(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode_fields(fields: &[Field], out: &mut Vec<u8>) {
    for f in fields {
        match f {
            Field::Varint(t, v) => {
                var(u64::from(t << 3), out);
                var(*v, out);
            }
            Field::Fixed32(t, v) => {
                var(u64::from(t << 3 | 5), out);
                out.extend(v.to_le_bytes());
            }
            Field::Fixed64(t, v) => {
                var(u64::from(t << 3 | 1), out);
                out.extend(v.to_le_bytes());
            }
            Field::Bytes(t, b) => {
                var(u64::from(t << 3 | 2), out);
                var(b.len() as u64, out);
                out.extend(b);
            }
            Field::Msg(t, inner) => {
                let mut b = Vec::new();
                encode_fields(inner, &mut b);
                var(u64::from(t << 3 | 2), out);
                var(b.len() as u64, out);
                out.extend(b);
            }
        }
    }
}

fn proto_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tag = 1..=6u32;
    let small = prop_oneof![0..6u64, any::<u64>()];
    let text = prop_oneof![
        Just(""),
        Just("__name__"),
        Just("up"),
        Just("job"),
        Just("a"),
        Just("bad-name"),
        Just("\u{e9}")
    ];
    let leaf = prop_oneof![
        (tag.clone(), small).prop_map(|(t, v)| Field::Varint(t, v)),
        (tag.clone(), any::<u32>()).prop_map(|(t, v)| Field::Fixed32(t, v)),
        (tag.clone(), any::<u64>()).prop_map(|(t, v)| Field::Fixed64(t, v)),
        (tag.clone(), vec(any::<u8>(), 0..6)).prop_map(|(t, b)| Field::Bytes(t, b)),
        (tag.clone(), text).prop_map(|(t, s)| Field::Bytes(t, s.as_bytes().to_vec())),
    ];
    let tree = leaf.prop_recursive(4, 48, 6, move |inner| {
        (1..=6u32, vec(inner, 0..6)).prop_map(|(t, fs)| Field::Msg(t, fs))
    });
    vec(tree, 0..8).prop_map(|fs| {
        let mut out = Vec::new();
        encode_fields(&fs, &mut out);
        out
    })
}

/// Decodes `raw` (uncompressed) both ways and checks our streaming decoder
/// against prost's full decode of the derived messages: the same bytes are
/// accepted, and the counts agree.
fn check_against_prost(raw: &[u8]) -> Result<(), TestCaseError> {
    let body = compress(raw);
    let ours = decode(&body, Protocol::V1, &lim());
    match (v1::WriteRequest::decode(raw), ours) {
        (Ok(full), Ok(out)) => {
            let count =
                |f: fn(&v1::TimeSeries) -> usize| full.timeseries.iter().map(f).sum::<usize>();
            prop_assert_eq!(out.stats.samples, count(|s| s.samples.len()));
            prop_assert_eq!(out.stats.histograms, count(|s| s.histograms.len()));
            prop_assert_eq!(out.stats.exemplars, count(|s| s.exemplars.len()));
            check_accounting(&out)?;
        }
        (Err(_), Err(DecodeError::Protobuf { .. })) => {}
        (full, ours) => prop_assert!(
            false,
            "prost: {:?}\nours: {:?}",
            full.map(drop),
            ours.map(drop)
        ),
    }
    let ours = decode(&body, Protocol::V2, &lim());
    match (v2::Request::decode(raw), ours) {
        (Ok(full), Ok(out)) => {
            let count =
                |f: fn(&v2::TimeSeries) -> usize| full.timeseries.iter().map(f).sum::<usize>();
            prop_assert_eq!(out.stats.samples, count(|s| s.samples.len()));
            prop_assert_eq!(out.stats.histograms, count(|s| s.histograms.len()));
            prop_assert_eq!(out.stats.exemplars, count(|s| s.exemplars.len()));
            check_accounting(&out)?;
        }
        (Ok(full), Err(DecodeError::SymbolsTable { .. })) => {
            prop_assert!(!full.symbols[0].is_empty())
        }
        // The symbols table is checked before the series are walked.
        (Err(_), Err(DecodeError::Protobuf { .. } | DecodeError::SymbolsTable { .. })) => {}
        (full, ours) => prop_assert!(
            false,
            "prost: {:?}\nours: {:?}",
            full.map(drop),
            ours.map(drop)
        ),
    }
    Ok(())
}

/// Every float and histogram sample is either returned or counted as rejected.
fn check_accounting(out: &WriteRequest) -> Result<(), TestCaseError> {
    let kept: usize = out.series.iter().map(|s| s.samples.len()).sum();
    prop_assert_eq!(kept + out.stats.rejected_samples, out.stats.samples);
    let kept: usize = out.series.iter().map(|s| s.histograms.len()).sum();
    prop_assert_eq!(kept + out.stats.rejected_histograms, out.stats.histograms);
    let kept: usize = out.series.iter().map(|s| s.exemplars.len()).sum();
    prop_assert_eq!(kept + out.stats.rejected_exemplars, out.stats.exemplars);
    prop_assert_eq!(out.rejected.len(), out.stats.rejected_series);
    for s in &out.series {
        prop_assert!(s.labels.metric_name().is_some());
        prop_assert!(!s.samples.is_empty() || !s.histograms.is_empty() || !s.exemplars.is_empty());
    }
    for r in &out.rejected {
        prop_assert!(r.series.len() <= 200 + '…'.len_utf8());
    }
    Ok(())
}

fn same(got: &[TimeSeries], want: &[TimeSeries]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| {
            g.labels == w.labels
                && g.samples.len() == w.samples.len()
                && g.samples.iter().zip(&w.samples).all(|(a, b)| a.bit_eq(b))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(body in vec(any::<u8>(), 0..256)) {
        for protocol in [Protocol::V1, Protocol::V2] {
            let _ = decode(&body, protocol, &lim());
        }
        // The same bytes as the uncompressed message, to reach the protobuf walker.
        check_against_prost(&body)?;
    }

    #[test]
    fn protobuf_shaped_input_agrees_with_prost(raw in proto_bytes()) {
        check_against_prost(&raw)?;
    }

    #[test]
    fn valid_series_round_trip(series in vec(valid_series(), 0..6)) {
        for protocol in [Protocol::V1, Protocol::V2] {
            let mut buf = Vec::new();
            encode(&series, protocol, &mut buf);
            let out = decode(&buf, protocol, &lim()).unwrap();
            prop_assert!(out.rejected.is_empty(), "{:?}", out.rejected);
            prop_assert!(same(&out.series, &series));
        }
    }

    #[test]
    fn byte_flips_of_valid_encodings_never_panic(
        series in vec(valid_series(), 1..4),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        v2 in any::<bool>(),
    ) {
        let protocol = if v2 { Protocol::V2 } else { Protocol::V1 };
        let mut body = Vec::new();
        encode(&series, protocol, &mut body);
        let mut raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        // Flip bytes of the protobuf message (compressed again, so they reach the decoder) ...
        for (at, byte) in &flips {
            let i = at.index(raw.len());
            raw[i] ^= byte | 1;
        }
        check_against_prost(&raw)?;
        check_against_prost(&raw[..cut.index(raw.len() + 1)])?;
        // ... and of the compressed body.
        for (at, byte) in &flips {
            let i = at.index(body.len());
            body[i] ^= byte | 1;
        }
        let _ = decode(&body, protocol, &lim());
    }
}
