//! The experimental trim operators `</` (drop observations above a value) and
//! `>/` (drop observations below it), Prometheus's `FloatHistogram.TrimBuckets`.

use argus_model::FloatHistogram;

use super::{buckets, compact, Bucket};

fn zero_if_inf(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        x
    }
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

fn infinity_bucket(upper_trim: bool, b: &Bucket, rhs: f64) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY {
        if upper_trim {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper.is_finite() {
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            return (0.0, zero_if_inf(b.upper));
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper.is_finite() {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    if upper_trim {
        return (0.0, zero_if_inf(b.lower));
    }
    if rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, zero_if_inf(b.lower))
}

fn midpoint(lo: f64, up: f64, positive: bool, linear: bool) -> f64 {
    if lo.is_infinite() {
        if up.is_infinite() {
            return 0.0;
        }
        if up > 0.0 {
            return up / 2.0;
        }
        return up;
    } else if up.is_infinite() {
        return lo;
    }
    if linear {
        return (lo + up) / 2.0;
    }
    let g = (lo * up).abs().sqrt();
    if positive {
        g
    } else {
        -g
    }
}

fn bucket_trim(b: &Bucket, rhs: f64, upper_trim: bool, positive: bool, custom: bool) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinity_bucket(upper_trim, b, rhs);
    }
    let under = if rhs <= b.lower {
        0.0
    } else if rhs >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, rhs, custom)
    };
    if upper_trim {
        (under, midpoint(b.lower, rhs, positive, custom))
    } else {
        (b.count - under, midpoint(rhs, b.upper, positive, custom))
    }
}

fn zero_trim(
    h: &FloatHistogram,
    rhs: f64,
    has_neg: bool,
    has_pos: bool,
    upper_trim: bool,
) -> (f64, f64) {
    let (mut lower, mut upper) = (-h.zero_threshold, h.zero_threshold);
    if has_neg && !has_pos {
        upper = 0.0;
    }
    if has_pos && !has_neg {
        lower = 0.0;
    }
    let count = h.zero_count;
    let (fraction, mid) = if upper_trim {
        if rhs <= lower {
            return (0.0, 0.0);
        }
        if rhs >= upper {
            return (count, (lower + upper) / 2.0);
        }
        ((rhs - lower) / (upper - lower), (lower + rhs) / 2.0)
    } else {
        if rhs <= lower {
            return (count, (lower + upper) / 2.0);
        }
        if rhs >= upper {
            return (0.0, 0.0);
        }
        ((upper - rhs) / (upper - lower), (rhs + upper) / 2.0)
    };
    (count * fraction, mid)
}

/// Trims `h` in place: `upper_trim` keeps observations below `rhs` (`</`),
/// otherwise those above it (`>/`).
pub(crate) fn trim_buckets(h: &mut FloatHistogram, rhs: f64, upper_trim: bool) {
    let custom = h.uses_custom_buckets();
    let (mut count, mut sum) = (0.0, 0.0);
    let mut trimmed = false;
    let (mut has_pos, mut has_neg) = (false, false);
    for positive in [true, false] {
        let bs = buckets(h, positive);
        for (i, b) in bs.iter().enumerate() {
            if b.count == 0.0 {
                continue;
            }
            if positive {
                has_pos = true;
            } else {
                has_neg = true;
            }
            let keep_all = if upper_trim {
                b.upper <= rhs
            } else {
                b.lower >= rhs
            };
            let partial = if upper_trim {
                b.lower < rhs
            } else {
                b.upper > rhs
            };
            let slot = if positive {
                &mut h.positive_buckets[i]
            } else {
                &mut h.negative_buckets[i]
            };
            if keep_all {
                count += b.count;
                sum += midpoint(b.lower, b.upper, positive, custom) * b.count;
            } else if partial {
                let (keep, mid) = bucket_trim(b, rhs, upper_trim, positive, custom);
                count += keep;
                sum += mid * keep;
                if *slot != keep {
                    *slot = keep;
                    trimmed = true;
                }
            } else {
                *slot = 0.0;
                trimmed = true;
            }
        }
    }
    if h.zero_count > 0.0 {
        let (keep, mid) = zero_trim(h, rhs, has_neg, has_pos, upper_trim);
        if h.zero_count != keep {
            h.zero_count = keep;
            trimmed = true;
        }
        sum += mid * keep;
        count += keep;
    }
    if trimmed {
        h.count = count;
        h.sum = sum;
        compact(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{Span, CUSTOM_BUCKETS_SCHEMA};

    #[test]
    fn trims_custom_buckets_linearly() {
        // (-Inf,10]:0 (10,20]:10 (20,+Inf]:0 with bounds [10 20].
        let mut h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 10.0,
            sum: 150.0,
            custom_values: vec![10.0, 20.0],
            positive_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            positive_buckets: vec![10.0],
            ..Default::default()
        };
        trim_buckets(&mut h, 15.0, true);
        assert_eq!(h.count, 5.0);
        assert_eq!(h.sum, 5.0 * 12.5);
        assert_eq!(h.positive_buckets, vec![5.0]);
    }
}
