//! Powers-of-two histograms, as Tempo computes `histogram_over_time` and
//! `quantile_over_time`: a value goes into the bucket of the smallest power
//! of two at least as large; a quantile is read from the buckets with
//! exponential interpolation inside the bucket where it falls.

use crate::eval::Value;

const NS_PER_S: f64 = 1e9;

/// The upper bound of `v`'s bucket: the smallest power of two `>= v`;
/// `None` below 2 (Tempo drops such values).
pub(super) fn bucketize(v: u64) -> Option<u64> {
    if v < 2 {
        return None;
    }
    // `v - 1` has at least one leading zero when `v <= 2^63`; above, there
    // is no power of two to round up to.
    1u64.checked_shl(64 - (v - 1).leading_zeros())
}

/// The bucket of a measured value, labelled as Tempo labels it: durations
/// in seconds, integers as they are. Other values (floats, strings, nil)
/// have no bucket and their spans are not counted, as in Tempo.
pub(super) fn bucket_of(v: &Value) -> Option<f64> {
    match v {
        Value::Duration(ns) => {
            let b = bucketize(u64::try_from(*ns).ok()?)?;
            Some(b as f64 / NS_PER_S)
        }
        Value::Int(n) => bucketize(u64::try_from(*n).ok()?).map(|b| b as f64),
        _ => None,
    }
}

/// Buckets of one step: `(upper bound, count)`, counts positive.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Histogram {
    buckets: Vec<(f64, u64)>,
}

impl Histogram {
    pub(super) fn record(&mut self, bucket: f64) {
        match self.buckets.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, n)) => *n += 1,
            None => self.buckets.push((bucket, 1)),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Sorts the buckets by their bound (before [`quantile`]).
    pub(super) fn sort(&mut self) {
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// The buckets, sorted when [`Histogram::sort`] was called.
    pub(super) fn buckets(&self) -> &[(f64, u64)] {
        &self.buckets
    }
}

/// Quantile `p` of buckets sorted by bound (Tempo's `Log2Quantile`).
///
/// The rank is `ceil(p · total)`, at least 1. Walking the buckets in order,
/// when the rank is reached exactly at the end of a bucket the answer is
/// that bucket's bound; otherwise, in the bucket where the rank falls, with
/// `f` the fraction of that bucket's count needed, the answer is
/// `2^(lo + (hi - lo)·f)` where `hi` is the log2 of the bucket's bound and
/// `lo` that of the previous (non-empty) bucket, or `hi - 1` for the first.
/// 0 for no samples or `p` outside `[0, 1]`.
pub(super) fn quantile(p: f64, buckets: &[(f64, u64)]) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return 0.0;
    }
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    if total == 0 {
        return 0.0;
    }
    // p ≤ 1: the rank is at most `total`.
    let rank = ((p * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    let mut at = 0;
    for (i, &(bound, count)) in buckets.iter().enumerate() {
        at = i;
        if seen + count > rank {
            break;
        }
        seen += count;
        if seen == rank {
            return bound;
        }
    }
    let (bound, count) = buckets[at];
    // The loop ends at a bucket holding the rank: seen < rank < seen + count.
    let frac = rank.saturating_sub(seen) as f64 / count.max(1) as f64;
    let hi = bound.log2();
    let lo = match at.checked_sub(1) {
        Some(prev) => buckets[prev].0.log2(),
        None => hi - 1.0,
    };
    (lo + (hi - lo) * frac).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_up_to_powers_of_two() {
        assert_eq!(bucketize(0), None);
        assert_eq!(bucketize(1), None);
        assert_eq!(bucketize(2), Some(2));
        assert_eq!(bucketize(3), Some(4));
        assert_eq!(bucketize(4), Some(4));
        assert_eq!(bucketize(5), Some(8));
        assert_eq!(bucketize(1_000_000), Some(1 << 20));
        assert_eq!(bucketize(1 << 63), Some(1 << 63));
        assert_eq!(bucketize((1 << 63) + 1), None);
        assert_eq!(bucket_of(&Value::Duration(3_000_000)), Some(0.004194304));
        assert_eq!(bucket_of(&Value::Int(100)), Some(128.0));
        assert_eq!(bucket_of(&Value::Float(100.0)), None);
        assert_eq!(bucket_of(&Value::Int(-5)), None);
    }

    #[test]
    fn quantiles_interpolate_exponentially_within_a_bucket() {
        // 2 in (., 1], 4 in (1, 2], 2 in (2, 4]. p75 is rank 6, the end of
        // the second bucket.
        let b = [(1.0, 2), (2.0, 4), (4.0, 2)];
        assert_eq!(quantile(0.75, &b), 2.0);
        // p50: rank 4, two of four into (1, 2]: 2^(0 + 1/2).
        assert!((quantile(0.5, &b) - 2f64.sqrt()).abs() < 1e-12);
        // p25: rank 2, the end of the first bucket.
        assert_eq!(quantile(0.25, &b), 1.0);
        // p30: rank ceil(2.4) = 3, one of four into (1, 2]: 2^(0 + 1/4).
        assert!((quantile(0.3, &b) - 2f64.powf(0.25)).abs() < 1e-12);
        // p10: rank 1, half of the first bucket, assumed (0.5, 1]: 2^-0.5.
        assert!((quantile(0.1, &b) - 2f64.powf(-0.5)).abs() < 1e-12);
        assert_eq!(quantile(1.0, &b), 4.0);
        // p0 reads one sample.
        assert!((quantile(0.0, &b) - 2f64.powf(-0.5)).abs() < 1e-12);
        assert_eq!(quantile(0.5, &[]), 0.0);
        assert_eq!(quantile(1.5, &b), 0.0);
    }
}
