//! Quantile, fraction and variance estimation over native histograms
//! (Prometheus's `HistogramQuantile`, `HistogramFraction`, `histogramVariance`).

use argus_model::FloatHistogram;

use super::{all_buckets, Bucket};
use crate::functions::kahan_inc;

/// What the estimate noticed, to be reported as info annotations.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) enum NanNote {
    #[default]
    None,
    /// The quantile fell among NaN observations.
    NanResult,
    /// NaN observations skew the result.
    Skew,
}

/// The `q`-quantile of `h`.
pub(crate) fn histogram_quantile(q: f64, h: &FloatHistogram) -> (f64, NanNote) {
    if q < 0.0 {
        return (f64::NEG_INFINITY, NanNote::None);
    }
    if q > 1.0 {
        return (f64::INFINITY, NanNote::None);
    }
    if h.count == 0.0 || q.is_nan() {
        return (f64::NAN, NanNote::None);
    }
    let all = all_buckets(h);
    let forward = h.sum.is_nan() || q < 0.5;
    let order: Vec<Bucket> = if forward {
        all.clone()
    } else {
        all.iter().rev().copied().collect()
    };
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };
    let mut count = 0.0;
    let mut pos = order.len();
    let mut bucket = Bucket {
        lower: 0.0,
        upper: 0.0,
        count: 0.0,
        index: 0,
        zero: false,
    };
    for (i, b) in order.iter().enumerate() {
        bucket = *b;
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        if count >= rank {
            pos = i;
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return (bucket.upper, NanNote::None);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return (bucket.lower, NanNote::None);
        }
    }
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        if h.sum.is_nan() {
            return (f64::NAN, NanNote::NanResult);
        }
        return (bucket.upper, NanNote::None);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let mut note = NanNote::None;
    if h.sum.is_nan() {
        let rest: f64 = order.iter().skip(pos + 1).map(|b| b.count).sum();
        if count + rest < h.count {
            note = NanNote::Skew;
        }
    }
    let fraction = rank / bucket.count;
    if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        return (
            bucket.lower + (bucket.upper - bucket.lower) * fraction,
            note,
        );
    }
    let log_lower = bucket.lower.abs().log2();
    let log_upper = bucket.upper.abs().log2();
    if bucket.lower > 0.0 {
        return (
            (log_lower + (log_upper - log_lower) * fraction).exp2(),
            note,
        );
    }
    (
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2(),
        note,
    )
}

fn fraction_below(b: &Bucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let ll = b.lower.abs().log2();
    let lu = b.upper.abs().log2();
    let lv = v.abs().log2();
    if v > 0.0 {
        (lv - ll) / (lu - ll)
    } else {
        1.0 - ((lv - lu) / (ll - lu))
    }
}

/// The fraction of observations of `h` between `lower` and `upper`; the flag
/// is set when NaN observations were found.
pub(crate) fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, bool) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, false);
    }
    if lower >= upper {
        return (0.0, false);
    }
    let all = all_buckets(h);
    let custom = h.uses_custom_buckets();
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut consumed = all.len();
    for (i, b0) in all.iter().enumerate() {
        let mut b = *b0;
        count += b.count;
        let mut zero = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let interp = |v: f64| -> f64 {
            if custom || zero {
                if b.lower == f64::NEG_INFINITY {
                    return b.count;
                }
                rank + b.count * fraction_below(&b, v, true)
            } else {
                rank + b.count * fraction_below(&b, v, false)
            }
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            consumed = i + 1;
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            consumed = i + 1;
            break;
        }
        rank += b.count;
    }
    let mut nan = false;
    if h.sum.is_nan() {
        count += all.iter().skip(consumed).map(|b| b.count).sum::<f64>();
        if count < h.count {
            nan = true;
        }
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    ((upper_rank - lower_rank) / h.count, nan)
}

/// The estimated variance of the observations of `h`.
pub(crate) fn histogram_variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut var, mut c) = (0.0, 0.0);
    for b in all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        let val = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 {
                -v
            } else {
                v
            }
        };
        let d = val - mean;
        (var, c) = kahan_inc(b.count * d * d, var, c);
    }
    (var + c) / h.count
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::Span;

    fn exp_hist() -> FloatHistogram {
        // Buckets (0.5,1]:1 (1,2]:2 (2,4]:1 at schema 0.
        FloatHistogram {
            count: 4.0,
            sum: 7.0,
            positive_spans: vec![Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 2.0, 1.0],
            ..Default::default()
        }
    }

    #[test]
    fn quantile_interpolates_exponentially() {
        let h = exp_hist();
        assert_eq!(histogram_quantile(0.5, &h).0, 2f64.sqrt());
        assert_eq!(histogram_quantile(1.0, &h).0, 4.0);
        assert_eq!(histogram_quantile(-1.0, &h).0, f64::NEG_INFINITY);
        assert!(histogram_quantile(0.5, &FloatHistogram::default())
            .0
            .is_nan());
    }

    #[test]
    fn fraction_and_variance() {
        let h = exp_hist();
        assert_eq!(histogram_fraction(0.0, 2.0, &h).0, 0.75);
        assert_eq!(histogram_fraction(2.0, 1.0, &h).0, 0.0);
        assert!(histogram_variance(&h) > 0.0);
    }
}
