use super::*;
use proptest::prelude::*;

fn hist(i: u32) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 3,
        zero_threshold: 1e-128,
        zero_count: i as f64,
        count: 10.0 * i as f64 + 4.0,
        sum: 1.5 * i as f64,
        positive_spans: vec![Span {
            offset: -2,
            length: 3,
        }],
        negative_spans: vec![Span {
            offset: 1,
            length: 1,
        }],
        positive_buckets: vec![i as f64, 2.0 * i as f64, 3.0],
        negative_buckets: vec![1.0],
        custom_values: vec![],
    }
}

fn roundtrip(samples: &[HistogramSample]) -> Vec<HistogramSample> {
    let mut a = HistogramAppender::new();
    for s in samples {
        a.append(s.t, &s.h);
    }
    let mut it = HistogramIter::new(a.bytes()).unwrap();
    let got: Vec<_> = it.by_ref().collect();
    assert!(!it.failed);
    got
}

fn assert_same(a: &[HistogramSample], b: &[HistogramSample]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.t, y.t);
        assert!(histogram_bit_eq(&x.h, &y.h), "{:?} != {:?}", x.h, y.h);
    }
}

#[test]
fn regular_histogram_series_is_small() {
    let samples: Vec<_> = (0..120)
        .map(|i| HistogramSample {
            t: 1_700_000_000_000 + i as i64 * 15_000,
            h: hist(i),
        })
        .collect();
    assert_same(&roundtrip(&samples), &samples);
    let mut a = HistogramAppender::new();
    for s in &samples {
        a.append(s.t, &s.h);
    }
    // 7 floats per sample would be 56 bytes raw.
    assert!(a.bytes().len() < 120 * 20, "{} bytes", a.bytes().len());
}

#[test]
fn layout_changes_stale_markers_and_custom_buckets() {
    let mut b = hist(5);
    b.positive_spans = vec![Span {
        offset: 0,
        length: 1,
    }];
    b.positive_buckets = vec![7.0];
    b.counter_reset_hint = CounterResetHint::CounterReset;
    let mut stale = hist(6);
    stale.sum = argus_model::STALE_NAN;
    let nhcb = FloatHistogram {
        counter_reset_hint: CounterResetHint::Gauge,
        schema: argus_model::CUSTOM_BUCKETS_SCHEMA,
        count: 3.0,
        sum: 2.0,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![1.0, 2.0],
        custom_values: vec![0.5, 1.0],
        ..Default::default()
    };
    let samples = vec![
        HistogramSample { t: -5, h: hist(1) },
        HistogramSample { t: 10, h: b },
        HistogramSample { t: 20, h: stale },
        HistogramSample {
            t: i64::MAX / 2,
            h: nhcb,
        },
        HistogramSample {
            t: i64::MAX / 2 + 1,
            h: FloatHistogram::default(),
        },
    ];
    assert_same(&roundtrip(&samples), &samples);
}

fn arb_spans() -> impl Strategy<Value = Vec<Span>> {
    proptest::collection::vec(
        (-5i32..5, 0u32..4).prop_map(|(offset, length)| Span { offset, length }),
        0..3,
    )
}

fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..1000).prop_map(|x| x as f64),
        any::<f64>(),
        Just(argus_model::STALE_NAN)
    ]
}

fn arb_hist() -> impl Strategy<Value = FloatHistogram> {
    (
        (0u8..4, -4i32..9, arb_f64(), arb_f64(), arb_f64(), arb_f64()),
        arb_spans(),
        arb_spans(),
        proptest::collection::vec(arb_f64(), 0..6),
        proptest::collection::vec(arb_f64(), 0..4),
        proptest::collection::vec(arb_f64(), 0..3),
    )
        .prop_map(
            |((hint, schema, zt, zc, c, s), ps, ns, pb, nb, cv)| FloatHistogram {
                counter_reset_hint: hint_from(hint as u64),
                schema,
                zero_threshold: zt,
                zero_count: zc,
                count: c,
                sum: s,
                positive_spans: ps,
                negative_spans: ns,
                positive_buckets: pb,
                negative_buckets: nb,
                custom_values: cv,
            },
        )
}

proptest! {
    #[test]
    fn encode_decode_is_identity(
        start in any::<i64>().prop_map(|t| t / 4),
        deltas in proptest::collection::vec(1i64..1_000_000_000, 0..30),
        hs in proptest::collection::vec(arb_hist(), 31),
        repeat in any::<bool>(),
    ) {
        let mut t = start;
        let mut samples = vec![HistogramSample { t, h: hs[0].clone() }];
        for (i, d) in deltas.iter().enumerate() {
            t += d;
            let h = if repeat { hs[i % 2].clone() } else { hs[i + 1].clone() };
            samples.push(HistogramSample { t, h });
        }
        assert_same(&roundtrip(&samples), &samples);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Some(it) = HistogramIter::new(&data) {
            let _ = it.count();
        }
    }

    #[test]
    fn truncated_chunks_never_panic(hs in proptest::collection::vec(arb_hist(), 1..5), cut in any::<usize>()) {
        let mut a = HistogramAppender::new();
        for (i, h) in hs.iter().enumerate() {
            a.append(i as i64 * 1000, h);
        }
        let b = a.bytes();
        let n = cut % (b.len() + 1);
        if let Some(it) = HistogramIter::new(&b[..n]) {
            let _ = it.count();
        }
    }
}
