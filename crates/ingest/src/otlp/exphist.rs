//! OTLP exponential histograms → native histograms, as Prometheus's
//! otlptranslator does (`exponentialToNativeHistogram` and
//! `convertBucketsLayout` in `prometheusremotewrite/histograms.go`): the
//! scale becomes the schema (scales above 8 are merged down to 8, scales
//! below -4 are refused), the dense offset + bucket counts become sparse
//! spans (gaps of more than two empty buckets start a new span), OTel's
//! bucket index `i` (range `(base^i, base^(i+1)]`) becomes Prometheus's
//! `i + 1`, and the reset hint is "unknown". Bucket counts are absolute
//! floats here (Prometheus builds an integer histogram, whose deltas mean
//! the same counts).

use argus_model::{
    CounterResetHint, FloatHistogram, HistogramSample, Span, STALE_NAN, STALE_NAN_BITS,
};
use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
use opentelemetry_proto::tonic::metrics::v1::ExponentialHistogramDataPoint;

/// Prometheus's `defaultZeroThreshold`, used when the point has none.
pub(crate) const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;
const MIN_SCHEMA: i32 = -4;
const MAX_SCHEMA: i32 = 8;

/// The sample for one data point at `t` (ms), or why it cannot be stored.
/// `stale` is the `NO_RECORDED_VALUE` flag.
pub(crate) fn to_native(
    p: &ExponentialHistogramDataPoint,
    t: i64,
    stale: bool,
) -> Result<HistogramSample, String> {
    if p.scale < MIN_SCHEMA {
        return Err(format!(
            "cannot convert exponential to native histogram: scale must be >= {MIN_SCHEMA}, was {}",
            p.scale
        ));
    }
    let (schema, scale_down) = if p.scale > MAX_SCHEMA {
        (MAX_SCHEMA, (p.scale - MAX_SCHEMA) as u32)
    } else {
        (p.scale, 0)
    };
    let side = |b: &Option<Buckets>| match b {
        Some(b) => buckets_layout(&b.bucket_counts, b.offset, scale_down),
        None => Ok((Vec::new(), Vec::new())),
    };
    let (positive_spans, positive_buckets) = side(&p.positive)?;
    let (negative_spans, negative_buckets) = side(&p.negative)?;
    // Prometheus ignores zero_threshold (a TODO there); a point that sets
    // one is better served by keeping it.
    let zero_threshold = if p.zero_threshold > 0.0 {
        p.zero_threshold
    } else {
        DEFAULT_ZERO_THRESHOLD
    };
    let (count, sum) = if stale {
        // As Prometheus: the stale NaN's bits as the integer count.
        (STALE_NAN_BITS as f64, STALE_NAN)
    } else {
        (p.count as f64, p.sum.unwrap_or(0.0))
    };
    Ok(HistogramSample {
        t,
        h: FloatHistogram {
            counter_reset_hint: CounterResetHint::Unknown,
            schema,
            zero_threshold,
            zero_count: p.zero_count as f64,
            count,
            sum,
            positive_spans,
            negative_spans,
            positive_buckets,
            negative_buckets,
            custom_values: Vec::new(),
        },
    })
}

/// Dense OTel buckets from `offset` → sparse spans and absolute counts,
/// merging `2^scale_down` buckets into one, then laid out as client_golang's
/// `makeBuckets` does: empty buckets are left out, except that gaps of one or
/// two buckets are filled with zeros rather than starting a new span.
///
/// Prometheus's port (`convertBucketsLayout`) also keeps some empty buckets
/// at the edges, and when merging (scale > 8) it can put a count one bucket
/// too low after a run of empty buckets; this keeps every count in its bucket.
fn buckets_layout(
    counts: &[u64],
    offset: i32,
    scale_down: u32,
) -> Result<(Vec<Span>, Vec<f64>), String> {
    let sd = scale_down.min(63);
    let mut merged: Vec<(i64, u64)> = Vec::new();
    for (i, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let idx = ((i as i64 + offset as i64) >> sd) + 1;
        match merged.last_mut() {
            Some(last) if last.0 == idx => last.1 = last.1.wrapping_add(c),
            _ => merged.push((idx, c)),
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    let mut out = Vec::with_capacity(merged.len());
    let mut next = 0i64;
    let bad = || "exponential histogram bucket index out of range".to_string();
    for (n, &(idx, c)) in merged.iter().enumerate() {
        let gap = idx - next;
        if n == 0 || gap > 2 {
            let offset = i32::try_from(gap).map_err(|_| bad())?;
            spans.push(Span { offset, length: 0 });
        } else {
            out.extend(std::iter::repeat_n(0.0, gap as usize));
            spans
                .last_mut()
                .expect("a span exists after the first bucket")
                .length += gap as u32;
        }
        out.push(c as f64);
        spans.last_mut().expect("pushed above").length += 1;
        next = idx + 1;
    }
    Ok((spans, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(offset: i32, length: u32) -> Span {
        Span { offset, length }
    }

    #[test]
    fn layout_like_prometheus() {
        // Cases from Prometheus's TestConvertBucketsLayout.
        let counts = [4, 3, 2, 1];
        assert_eq!(
            buckets_layout(&counts, 0, 0).unwrap(),
            (vec![span(1, 4)], vec![4.0, 3.0, 2.0, 1.0])
        );
        // Merging pairs: OTel buckets 0..3 → Prometheus 1, 2 (+1 index shift).
        assert_eq!(
            buckets_layout(&counts, 0, 1).unwrap(),
            (vec![span(1, 2)], vec![7.0, 3.0])
        );
        assert_eq!(
            buckets_layout(&counts, 0, 2).unwrap(),
            (vec![span(1, 1)], vec![10.0])
        );
        // Offset -1: OTel -1..2 → indices 0..3.
        assert_eq!(
            buckets_layout(&counts, -1, 0).unwrap(),
            (vec![span(0, 4)], vec![4.0, 3.0, 2.0, 1.0])
        );
        // Gaps of up to two empty buckets are filled, longer ones split.
        let counts = [4, 0, 0, 3, 0, 0, 0, 2];
        assert_eq!(
            buckets_layout(&counts, 0, 0).unwrap(),
            (vec![span(1, 4), span(3, 1)], vec![4.0, 0.0, 0.0, 3.0, 2.0])
        );
        // Empty buckets at the edges are left out.
        assert_eq!(
            buckets_layout(&[0, 5, 0, 0, 0], 3, 0).unwrap(),
            (vec![span(5, 1)], vec![5.0])
        );
        assert_eq!(buckets_layout(&[0, 0], 3, 0).unwrap(), (vec![], vec![]));
        // Merging after empty buckets keeps counts in place (OTel 12 → (12 >> 1) + 1).
        assert_eq!(
            buckets_layout(&[0, 0, 0, 0, 0, 1, 0], 7, 1).unwrap(),
            (vec![span(7, 1)], vec![1.0])
        );
        assert_eq!(buckets_layout(&[], 3, 0).unwrap(), (vec![], vec![]));
        // Huge scale-downs do not overflow.
        assert_eq!(
            buckets_layout(&[1, 1], i32::MAX - 1, 40).unwrap(),
            (vec![span(1, 1)], vec![2.0])
        );
    }

    #[test]
    fn scale_schema_zero_bucket_and_staleness() {
        let p = ExponentialHistogramDataPoint {
            count: 10,
            sum: Some(3.5),
            scale: 10,
            zero_count: 2,
            positive: Some(Buckets {
                offset: -2,
                bucket_counts: vec![1, 1, 1, 1, 2],
            }),
            negative: Some(Buckets {
                offset: 0,
                bucket_counts: vec![2],
            }),
            ..Default::default()
        };
        let s = to_native(&p, 7, false).unwrap();
        assert_eq!(s.t, 7);
        assert_eq!(s.h.schema, 8);
        // Scale 10 → 8: groups of 4; OTel -2..2 → (i >> 2) + 1 = 0, 0, 1, 1, 1.
        assert_eq!(s.h.positive_spans, vec![span(0, 2)]);
        assert_eq!(s.h.positive_buckets, vec![2.0, 4.0]);
        assert_eq!(s.h.negative_spans, vec![span(1, 1)]);
        assert_eq!(s.h.negative_buckets, vec![2.0]);
        assert_eq!((s.h.count, s.h.sum, s.h.zero_count), (10.0, 3.5, 2.0));
        assert_eq!(s.h.zero_threshold, DEFAULT_ZERO_THRESHOLD);
        assert_eq!(s.h.counter_reset_hint, CounterResetHint::Unknown);
        let stale = to_native(&p, 7, true).unwrap();
        assert!(argus_model::is_stale_nan(stale.h.sum));
        let mut low = p.clone();
        low.scale = -5;
        assert!(to_native(&low, 7, false)
            .unwrap_err()
            .contains("scale must be >= -4, was -5"));
        let mut zt = p;
        zt.zero_threshold = 0.5;
        assert_eq!(to_native(&zt, 7, false).unwrap().h.zero_threshold, 0.5);
    }

    proptest::proptest! {
        /// Every count lands in the Prometheus bucket `((i + offset) >> scale_down) + 1`.
        #[test]
        fn layout_keeps_every_count_in_its_bucket(
            counts in proptest::collection::vec(0u64..4, 0..40),
            offset in -50i32..50,
            scale_down in 0u32..5,
        ) {
            let (spans, buckets) = buckets_layout(&counts, offset, scale_down).unwrap();
            let total: u32 = spans.iter().map(|s| s.length).sum();
            proptest::prop_assert_eq!(total as usize, buckets.len());
            let mut got = std::collections::BTreeMap::new();
            let mut idx = 0i64;
            let mut k = 0;
            for s in &spans {
                idx += s.offset as i64;
                for _ in 0..s.length {
                    if buckets[k] != 0.0 {
                        got.insert(idx, buckets[k]);
                    }
                    idx += 1;
                    k += 1;
                }
            }
            let mut want = std::collections::BTreeMap::new();
            for (i, c) in counts.iter().enumerate() {
                if *c > 0 {
                    *want.entry(((i as i64 + offset as i64) >> scale_down) + 1).or_insert(0.0) += *c as f64;
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
