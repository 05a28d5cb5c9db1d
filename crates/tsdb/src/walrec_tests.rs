//! Tests of the metrics WAL records (`walrec.rs`).

use super::*;
use proptest::prelude::*;

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

/// Encodes `samples` (id, value) as type 5 against per-series state,
/// decodes and resolves them in order; returns the values.
fn delta_roundtrip(
    samples: &[(u64, i64, f64)],
    state: &mut std::collections::HashMap<u64, u64>,
) -> Vec<(u64, i64, u64)> {
    let mut enc_state = state.clone();
    let with_prev: Vec<(u64, Sample, u64)> = samples
        .iter()
        .map(|&(id, t, v)| {
            let prev = enc_state.insert(id, v.to_bits()).unwrap_or(0);
            (id, Sample { t, v }, prev)
        })
        .collect();
    let mut b = Vec::new();
    encode_delta_samples(with_prev.into_iter(), &mut b);
    let Record::DeltaSamples(got) = decode(&b).unwrap() else {
        panic!("not delta samples")
    };
    let out = got
        .iter()
        .map(|x| {
            let prev = state.get(&x.id).copied().unwrap_or(0);
            let v = x.v.resolve(f64::from_bits(prev));
            state.insert(x.id, v.to_bits());
            (x.id, x.t, v.to_bits())
        })
        .collect();
    for n in 0..b.len() {
        let _ = decode(&b[..n]);
    }
    out
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u64..1_000_000).prop_map(|x| x as f64),
        (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
        any::<u64>().prop_map(f64::from_bits),
        Just(argus_model::STALE_NAN),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(1e300),
    ]
}

#[test]
fn delta_values_are_exact_and_small() {
    let mut state = Default::default();
    let s: Vec<(u64, i64, f64)> = (0..1000u64)
        .map(|i| {
            (
                i % 100 + 1,
                15_000 * (i / 100) as i64,
                (i * 7) as f64 + 0.25,
            )
        })
        .collect();
    let got = delta_roundtrip(&s, &mut state);
    assert!(got
        .iter()
        .zip(&s)
        .all(|(a, b)| a.0 == b.0 && a.1 == b.1 && a.2 == b.2.to_bits()));
    // Counters advancing by small steps: a couple of bytes per sample.
    let rounds: Vec<Vec<(u64, i64, f64)>> = (0..10)
        .map(|r| {
            (1..=2000u64)
                .map(|id| (id, r * 15_000, (id * 1000 + r as u64 * (id % 7)) as f64))
                .collect()
        })
        .collect();
    let mut st = std::collections::HashMap::new();
    let mut last_len = 0;
    for r in &rounds {
        let with_prev: Vec<(u64, Sample, u64)> = r
            .iter()
            .map(|&(id, t, v)| (id, Sample { t, v }, st.insert(id, v.to_bits()).unwrap_or(0)))
            .collect();
        let mut b = Vec::new();
        encode_delta_samples(with_prev.into_iter(), &mut b);
        last_len = b.len();
    }
    assert!(last_len < 2000 * 2, "{last_len} bytes for 2000 samples");
}

#[test]
fn compressed_series_and_chunks_roundtrip() {
    let ls: Vec<PackedLabels> = (0..500)
        .map(|i| {
            PackedLabels::new(&argus_model::Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("instance", &*format!("10.0.0.{}:8080", i % 50)),
                ("job", "api"),
            ]))
        })
        .collect();
    let refs: Vec<(u64, &PackedLabels)> = ls
        .iter()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
        .collect();
    let mut b = Vec::new();
    encode_series(&refs, &mut b);
    let mut v1 = Vec::new();
    encode_series_v1(&refs, &mut v1);
    assert!(b.len() * 5 < v1.len(), "{} vs {}", b.len(), v1.len());
    let want: Vec<(u64, PackedLabels)> = refs.iter().map(|(i, l)| (*i, (*l).clone())).collect();
    assert_eq!(decode(&b).unwrap(), Record::Series(want.clone()));
    assert_eq!(decode(&v1).unwrap(), Record::Series(want));
    for n in 0..b.len() {
        assert!(decode(&b[..n]).is_err());
    }

    let c = vec![
        SeriesChunks {
            id: 3,
            wal_last: 2.5f64.to_bits(),
            closed: vec![
                HeadChunk {
                    mint: 0,
                    maxt: 10,
                    data: vec![1, 2, 3].into(),
                },
                HeadChunk {
                    mint: 11,
                    maxt: 20,
                    data: vec![].into(),
                },
            ],
            open: Some((21, vec![9; 20])),
            ooo: vec![Sample::new(5, 1.0), Sample::new(7, f64::NAN)],
            hist_closed: vec![HeadChunk {
                mint: -5,
                maxt: -1,
                data: vec![7].into(),
            }],
        },
        SeriesChunks {
            id: 9,
            wal_last: 0,
            closed: vec![],
            open: None,
            ooo: vec![],
            hist_closed: vec![],
        },
    ];
    let mut b = Vec::new();
    encode_chunks(&c, &mut b);
    match decode(&b).unwrap() {
        Record::Chunks(got) => {
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].closed, c[0].closed);
            assert_eq!(got[0].open, c[0].open);
            assert_eq!(got[0].ooo[0], c[0].ooo[0]);
            assert!(got[0].ooo[1].v.is_nan());
            assert_eq!((got[0].wal_last, got[1].id), (c[0].wal_last, 9));
            assert_eq!(got[0].hist_closed, c[0].hist_closed);
        }
        r => panic!("{r:?}"),
    }
    for n in 0..b.len() {
        assert!(decode(&b[..n]).is_err());
    }
}

proptest! {
    #[test]
    fn delta_samples_roundtrip(
        rounds in proptest::collection::vec(
            proptest::collection::vec((1u64..20, -1000i64..1000, value()), 0..60), 1..5)
    ) {
        let mut state = Default::default();
        for r in rounds {
            let got = delta_roundtrip(&r, &mut state);
            prop_assert_eq!(got.len(), r.len());
            for (a, b) in got.iter().zip(&r) {
                prop_assert_eq!((a.0, a.1, a.2), (b.0, b.1, b.2.to_bits()));
            }
        }
    }

    #[test]
    fn new_types_garbage_never_panics(typ in 5u8..8, codec in 0u8..3, data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut b = vec![typ, codec];
        b.extend_from_slice(&data);
        let _ = decode(&b);
    }

    #[test]
    fn corrupted_records_never_panic(flip in 0usize..4096, bit in 0u8..8, typ in 0usize..3) {
        let mut b = Vec::new();
        match typ {
            0 => {
                let s: Vec<(u64, Sample, u64)> = (0..300u64).map(|i| (i, Sample::new(i as i64 * 15, i as f64 * 0.5), 0)).collect();
                encode_delta_samples(s.into_iter(), &mut b);
            }
            1 => {
                let l = PackedLabels::new(&argus_model::Labels::from_pairs([("a", "b"), ("c", "d")]));
                let refs: Vec<(u64, &PackedLabels)> = (0..200).map(|i| (i, &l)).collect();
                encode_series(&refs, &mut b);
            }
            _ => {
                let c = SeriesChunks { id: 1, wal_last: 0, closed: vec![HeadChunk { mint: 0, maxt: 1, data: vec![1; 40].into() }], open: Some((2, vec![0; 30])), ooo: vec![Sample::new(0, 1.0)], hist_closed: vec![] };
                encode_chunks(&[c.clone(), c], &mut b);
            }
        }
        let i = flip % b.len();
        b[i] ^= 1 << bit;
        let _ = decode(&b);
    }

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
