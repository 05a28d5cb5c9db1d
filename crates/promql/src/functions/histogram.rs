//! Classic (`le`-bucket) histograms: `histogram_quantile`, `histogram_quantiles`
//! and `histogram_fraction`. Native histograms are not stored yet.

use std::collections::HashMap;

use argus_model::{Labels, METRIC_NAME};

use crate::engine::StepSample;
use crate::promqltest::almost_equal_eps;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// Buckets grouped by their labels without `le`, in first-seen order.
pub(crate) struct BucketGroups {
    pub groups: Vec<(Labels, Vec<Bucket>)>,
    /// Bad `le` values: (metric name, le value).
    pub bad_le: Vec<(String, String)>,
}

/// Parses an `le` value as Go's `strconv.ParseFloat` would.
pub(crate) fn parse_le(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let neg = s.starts_with('-');
    let v = if t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if t.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if s.len() - t.len() > 1
        || t.is_empty()
        || !(t.as_bytes()[0].is_ascii_digit() || t.as_bytes()[0] == b'.')
    {
        return None;
    } else {
        t.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

pub(crate) fn group_buckets(v: &[StepSample]) -> BucketGroups {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out = BucketGroups {
        groups: Vec::new(),
        bad_le: Vec::new(),
    };
    for s in v {
        let le = s.labels.get("le").unwrap_or("");
        let Some(upper) = parse_le(le) else {
            out.bad_le.push((
                s.labels.get(METRIC_NAME).unwrap_or("").to_string(),
                le.to_string(),
            ));
            continue;
        };
        let key = Labels::from_sorted_unchecked(
            s.labels
                .iter()
                .filter(|l| l.name != "le")
                .cloned()
                .collect(),
        );
        let i = *index.entry(key.clone()).or_insert_with(|| {
            out.groups.push((key, Vec::new()));
            out.groups.len() - 1
        });
        out.groups[i].1.push(Bucket { upper, count: s.v });
    }
    out
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| {
        a.upper
            .partial_cmp(&b.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper == b.upper => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// Forces bucket counts to be monotonic; returns whether counts had to be raised.
fn ensure_monotonic(buckets: &mut [Bucket]) -> bool {
    let mut forced = false;
    let mut prev = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        let cur = b.count;
        if cur == prev {
            continue;
        }
        if almost_equal_eps(prev, cur, 1e-12) {
            b.count = prev;
            continue;
        }
        if cur < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = cur;
    }
    forced
}

/// The q-quantile of classic buckets and whether monotonicity had to be forced.
pub(crate) fn bucket_quantile(q: f64, mut buckets: Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    sort_and_coalesce(&mut buckets);
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return (f64::NAN, false);
    }
    let forced = ensure_monotonic(&mut buckets);
    if buckets.len() < 2 {
        return (f64::NAN, forced);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let n = buckets.len() - 1;
    let b = buckets[..n].partition_point(|b| b.count < rank);
    let v = if b == n {
        buckets[n - 1].upper
    } else if b == 0 && buckets[0].upper <= 0.0 {
        buckets[0].upper
    } else {
        let mut start = 0.0;
        let end = buckets[b].upper;
        let mut count = buckets[b].count;
        if b > 0 {
            start = buckets[b - 1].upper;
            count -= buckets[b - 1].count;
            rank -= buckets[b - 1].count;
        }
        start + (end - start) * (rank / count)
    };
    (v, forced)
}

/// The fraction of observations between `lower` and `upper` (Prometheus's `BucketFraction`).
pub(crate) fn bucket_fraction(lower: f64, upper: f64, mut buckets: Vec<Bucket>) -> f64 {
    sort_and_coalesce(&mut buckets);
    if buckets.last().is_none_or(|b| b.upper != f64::INFINITY) {
        return f64::NAN;
    }
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper;
        }
        let upper_bound = b.upper;
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(upper: f64, count: f64) -> Bucket {
        Bucket { upper, count }
    }

    #[test]
    fn quantile_of_buckets() {
        let bs = vec![b(1.0, 10.0), b(2.0, 20.0), b(f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, bs.clone()).0, 1.0);
        assert_eq!(bucket_quantile(0.75, bs.clone()).0, 1.5);
        assert_eq!(bucket_quantile(1.0, bs.clone()).0, 2.0);
        assert!(bucket_quantile(0.5, vec![b(1.0, 1.0)]).0.is_nan());
        let (_, forced) =
            bucket_quantile(0.5, vec![b(1.0, 10.0), b(2.0, 5.0), b(f64::INFINITY, 20.0)]);
        assert!(forced);
        assert_eq!(bucket_fraction(0.0, 1.0, bs), 0.5);
    }
}
