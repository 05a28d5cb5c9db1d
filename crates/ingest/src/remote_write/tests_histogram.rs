//! Native histograms: round trips through the encoders, integer → float
//! conversion, and each validation rule.

use argus_model::{
    CounterResetHint, FloatHistogram, HistogramSample, Labels, Span, TimeSeries, STALE_NAN,
};
use proptest::prelude::*;

use super::tests::lim;
use super::*;

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

fn float_hist(k: f64) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 3,
        zero_threshold: 0.001,
        zero_count: 0.5,
        count: 6.5 + k,
        sum: 1.0 - 2.25 * k,
        positive_spans: vec![span(-2, 2), span(3, 1)],
        negative_spans: vec![span(0, 1)],
        positive_buckets: vec![1.0 + k, 2.0, 0.0],
        negative_buckets: vec![3.0],
        custom_values: vec![],
    }
}

fn nhcb() -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::Gauge,
        schema: argus_model::CUSTOM_BUCKETS_SCHEMA,
        count: 5.0,
        sum: 12.0,
        positive_spans: vec![span(0, 2), span(1, 1)],
        positive_buckets: vec![1.0, 2.0, 2.0],
        custom_values: vec![0.1, 1.0, 10.0],
        ..Default::default()
    }
}

fn bits_eq(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let f = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
    };
    a.counter_reset_hint == b.counter_reset_hint
        && a.schema == b.schema
        && f(
            &[a.zero_threshold, a.zero_count, a.count, a.sum],
            &[b.zero_threshold, b.zero_count, b.count, b.sum],
        )
        && a.positive_spans == b.positive_spans
        && a.negative_spans == b.negative_spans
        && f(&a.positive_buckets, &b.positive_buckets)
        && f(&a.negative_buckets, &b.negative_buckets)
        && f(&a.custom_values, &b.custom_values)
}

fn roundtrip(series: &[TimeSeries], p: Protocol) -> WriteRequest {
    let mut buf = Vec::new();
    encode(series, p, &mut buf);
    decode(&buf, p, &lim()).unwrap()
}

#[test]
fn histograms_round_trip_through_both_encoders() {
    let mut stale = float_hist(1.0);
    stale.sum = STALE_NAN;
    let series = vec![
        TimeSeries {
            exemplars: Vec::new(),
            labels: Labels::from_pairs([("__name__", "h"), ("job", "a")]),
            samples: vec![],
            histograms: vec![
                HistogramSample {
                    t: 1000,
                    h: float_hist(0.0),
                },
                HistogramSample { t: 2000, h: stale },
            ],
        },
        TimeSeries {
            exemplars: Vec::new(),
            labels: Labels::from_pairs([("__name__", "c")]),
            samples: vec![argus_model::Sample::new(5, 1.0)],
            histograms: vec![HistogramSample { t: 10, h: nhcb() }],
        },
    ];
    for p in [Protocol::V1, Protocol::V2] {
        let out = roundtrip(&series, p);
        assert!(out.rejected.is_empty(), "{p:?}: {:?}", out.rejected);
        assert_eq!(out.stats.histograms, 3);
        assert_eq!(out.series.len(), 2);
        for (g, w) in out.series.iter().zip(&series) {
            assert_eq!(g.labels, w.labels);
            assert_eq!(g.samples, w.samples);
            assert_eq!(g.histograms.len(), w.histograms.len());
            for (a, b) in g.histograms.iter().zip(&w.histograms) {
                assert_eq!(a.t, b.t);
                assert!(bits_eq(&a.h, &b.h), "{p:?}: {:?} != {:?}", a.h, b.h);
            }
        }
    }
}

fn v1_int(schema: i32, deltas: Vec<i64>, count: u64) -> v1::Histogram {
    v1::Histogram {
        count: Some(v1::histogram::Count::CountInt(count)),
        zero_count: Some(v1::histogram::ZeroCount::ZeroCountInt(2)),
        zero_threshold: 1e-9,
        sum: 3.5,
        schema,
        positive_spans: vec![v1::BucketSpan {
            offset: 1,
            length: deltas.len() as u32,
        }],
        positive_deltas: deltas,
        negative_spans: vec![v1::BucketSpan {
            offset: -3,
            length: 2,
        }],
        negative_deltas: vec![4, -3],
        reset_hint: v1::histogram::ResetHint::Yes as i32,
        timestamp: 42,
        ..Default::default()
    }
}

fn decode_one(h: v1::Histogram) -> Result<HistogramSample, RejectReason> {
    let ts = v1::TimeSeries {
        labels: vec![v1::Label {
            name: "__name__".into(),
            value: "h".into(),
        }],
        histograms: vec![h],
        ..Default::default()
    };
    let mut buf = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: vec![ts],
            metadata: vec![],
        },
        &mut buf,
    );
    let mut out = decode(&buf, Protocol::V1, &lim()).unwrap();
    match out.rejected.pop() {
        Some(r) => Err(r.reason),
        None => Ok(out.series.remove(0).histograms.remove(0)),
    }
}

#[test]
fn integer_histograms_become_absolute_float_counts() {
    // Positive: 1, 3, 2; negative: 4, 1; zero: 2 → count 13.
    let got = decode_one(v1_int(2, vec![1, 2, -1], 13)).unwrap();
    assert_eq!(got.t, 42);
    assert_eq!(got.h.positive_buckets, vec![1.0, 3.0, 2.0]);
    assert_eq!(got.h.negative_buckets, vec![4.0, 1.0]);
    assert_eq!((got.h.count, got.h.zero_count, got.h.sum), (13.0, 2.0, 3.5));
    assert_eq!(got.h.positive_spans, vec![span(1, 3)]);
    assert_eq!(got.h.negative_spans, vec![span(-3, 2)]);
    assert_eq!(got.h.counter_reset_hint, CounterResetHint::CounterReset);
    assert_eq!(got.h.zero_threshold, 1e-9);
}

#[test]
fn each_histogram_rule() {
    let bad = |h: v1::Histogram| match decode_one(h) {
        Err(RejectReason::InvalidHistogram(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(bad(v1_int(9, vec![1, 2, -1], 13)).contains("schema 9 is out of range"));
    assert!(bad(v1_int(-5, vec![1, 2, -1], 13)).contains("schema -5"));
    assert!(bad(v1_int(2, vec![1, -2, 0], 12)).contains("positive bucket 1 has a negative count"));
    assert!(bad(v1_int(2, vec![1, 2, -1], 14)).contains("observations found in buckets"));
    let mut h = v1_int(2, vec![1, 2, -1], 13);
    h.positive_spans[0].length = 2;
    assert!(bad(h).contains("positive spans describe 2 buckets, but there are 3"));
    let mut h = v1_int(2, vec![1, 2, -1], 13);
    h.negative_spans.push(v1::BucketSpan {
        offset: -1,
        length: 0,
    });
    assert!(bad(h).contains("negative span 1 has a negative offset"));
    let mut h = v1_int(2, vec![1, 2, -1], 13);
    h.positive_counts = vec![1.0];
    assert!(bad(h).contains("integer histogram has float bucket counts"));
    let mut h = v1_int(2, vec![1, 2, -1], 13);
    h.custom_values = vec![1.0];
    assert!(bad(h).contains("only allowed with schema -53"));
    // A staleness marker may have a count above the buckets' sum.
    let mut h = v1_int(2, vec![1, 2, -1], 20);
    h.sum = STALE_NAN;
    assert!(decode_one(h).is_ok());

    let mut buf = Vec::new();
    let ts = |h: FloatHistogram| TimeSeries {
        exemplars: Vec::new(),
        labels: Labels::from_pairs([("__name__", "x")]),
        samples: vec![],
        histograms: vec![HistogramSample { t: 1, h }],
    };
    let float_bad = |h: FloatHistogram, buf: &mut Vec<u8>| {
        buf.clear();
        encode_v1(&[ts(h)], buf);
        let out = decode(buf, Protocol::V1, &lim()).unwrap();
        match &out.rejected[..] {
            [r] => r.reason.to_string(),
            other => panic!("{other:?}"),
        }
    };
    let mut h = float_hist(0.0);
    h.positive_buckets[1] = -1.0;
    assert!(float_bad(h, &mut buf).contains("positive bucket 1 has a negative count"));
    let mut h = nhcb();
    h.custom_values = vec![1.0, 0.5, 2.0];
    assert!(float_bad(h, &mut buf).contains("not strictly increasing at index 1"));
    let mut h = nhcb();
    h.zero_count = 1.0;
    assert!(float_bad(h, &mut buf).contains("zero bucket"));
    let mut h = nhcb();
    h.positive_spans = vec![span(0, 2), span(2, 1)];
    assert!(float_bad(h, &mut buf).contains("beyond the 3 custom bounds"));
    let mut h = nhcb();
    h.negative_spans = vec![span(0, 1)];
    h.negative_buckets = vec![1.0];
    assert!(float_bad(h, &mut buf).contains("negative buckets"));
}

fn arb_side() -> impl Strategy<Value = (Vec<Span>, Vec<f64>)> {
    proptest::collection::vec((0i32..4, 0u32..4), 0..3).prop_flat_map(|raw| {
        let spans: Vec<Span> = raw
            .iter()
            .enumerate()
            .map(|(i, &(o, l))| span(if i == 0 { o - 2 } else { o }, l))
            .collect();
        let n: u32 = spans.iter().map(|s| s.length).sum();
        (
            Just(spans),
            proptest::collection::vec(0.0f64..1e6, n as usize),
        )
    })
}

proptest! {
    #[test]
    fn valid_float_histograms_round_trip(
        schema in -4i32..=8,
        (ps, pb) in arb_side(),
        (ns, nb) in arb_side(),
        zero in (0.0f64..1.0, 0.0f64..100.0),
        count in 0.0f64..1e7,
        sum in any::<f64>(),
        hint in 0usize..4,
        t in any::<i64>(),
        v2 in any::<bool>(),
    ) {
        let h = FloatHistogram {
            counter_reset_hint: [
                CounterResetHint::Unknown,
                CounterResetHint::CounterReset,
                CounterResetHint::NotCounterReset,
                CounterResetHint::Gauge,
            ][hint],
            schema,
            zero_threshold: zero.0,
            zero_count: zero.1,
            count,
            // proto3 does not send a default (zero) double, so -0.0 comes back as 0.0.
            sum: if sum == 0.0 { 0.0 } else { sum },
            positive_spans: ps,
            negative_spans: ns,
            positive_buckets: pb,
            negative_buckets: nb,
            custom_values: vec![],
        };
        let series = vec![TimeSeries {
            exemplars: Vec::new(),
            labels: Labels::from_pairs([("__name__", "p")]),
            samples: vec![],
            histograms: vec![HistogramSample { t, h: h.clone() }],
        }];
        let p = if v2 { Protocol::V2 } else { Protocol::V1 };
        let out = roundtrip(&series, p);
        prop_assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let got = &out.series[0].histograms[0];
        prop_assert_eq!(got.t, t);
        prop_assert!(bits_eq(&got.h, &h));
    }
}
