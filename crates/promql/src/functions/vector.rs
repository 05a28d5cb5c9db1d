//! Instant-vector and scalar functions evaluated step by step.

use argus_model::civil::{civil_from_days, days_from_civil};
use std::cmp::Ordering;

use argus_model::Labels;

use super::go_sort;
use crate::engine::{exec_err, EResult, StepArg, StepSample};

/// Whether `name` is a function implemented here.
pub(crate) fn is_vector_function(name: &str) -> bool {
    math_fn(name).is_some()
        || matches!(
            name,
            "round"
                | "clamp"
                | "clamp_min"
                | "clamp_max"
                | "time"
                | "pi"
                | "vector"
                | "scalar"
                | "timestamp"
                | "sort"
                | "sort_desc"
                | "sort_by_label"
                | "sort_by_label_desc"
                | "day_of_month"
                | "day_of_week"
                | "day_of_year"
                | "days_in_month"
                | "hour"
                | "minute"
                | "month"
                | "year"
                | "min_of"
                | "max_of"
                | "histogram_count"
                | "histogram_sum"
                | "histogram_avg"
                | "histogram_stddev"
                | "histogram_stdvar"
        )
}

fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

fn math_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sgn" => sgn,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

fn map_floats(v: &[StepSample], f: impl Fn(f64) -> f64) -> Vec<StepSample> {
    v.iter()
        .filter(|s| s.h.is_none())
        .map(|s| StepSample {
            h: None,
            labels: s.labels.clone(),
            v: f(s.v),
            drop_name: true,
            t: s.t,
        })
        .collect()
}

fn scalar_out(v: f64, ts: i64) -> Vec<StepSample> {
    vec![StepSample {
        h: None,
        labels: Labels::default().into(),
        v,
        drop_name: false,
        t: ts,
    }]
}

/// Go's `math.Max`/`math.Min` (NaN wins, and +0 > -0).
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else {
        a.max(b)
    }
}
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else {
        a.min(b)
    }
}

/// Evaluates an instant-vector function at step `ts`.
pub(crate) fn call(name: &str, args: &[StepArg], ts: i64) -> EResult<Vec<StepSample>> {
    if let Some(f) = math_fn(name) {
        return Ok(map_floats(args[0].vector(), f));
    }
    let vec0 = || args.first().map(|a| a.vector()).unwrap_or(&[]);
    Ok(match name {
        "round" => {
            let to_nearest = args.get(1).map(|a| a.scalar()).unwrap_or(1.0);
            let inv = 1.0 / to_nearest;
            map_floats(vec0(), |f| (f * inv + 0.5).floor() / inv)
        }
        "clamp" | "clamp_min" | "clamp_max" => {
            let (min, max) = match name {
                "clamp" => (args[1].scalar(), args[2].scalar()),
                "clamp_min" => (args[1].scalar(), f64::INFINITY),
                _ => (f64::NEG_INFINITY, args[1].scalar()),
            };
            if max < min {
                return Ok(Vec::new());
            }
            map_floats(vec0(), |f| go_max(min, go_min(max, f)))
        }
        "time" => scalar_out(ts as f64 / 1000.0, ts),
        "pi" => scalar_out(std::f64::consts::PI, ts),
        "min_of" => scalar_out(go_min(args[0].scalar(), args[1].scalar()), ts),
        "max_of" => scalar_out(go_max(args[0].scalar(), args[1].scalar()), ts),
        "vector" => scalar_out(args[0].scalar(), ts),
        "scalar" => {
            let mut floats = vec0().iter().filter(|s| s.h.is_none());
            let v = match (floats.next(), floats.next()) {
                (Some(s), None) => s.v,
                _ => f64::NAN,
            };
            scalar_out(v, ts)
        }
        "timestamp" => vec0()
            .iter()
            .map(|s| StepSample {
                h: None,
                labels: s.labels.clone(),
                v: s.t as f64 / 1000.0,
                drop_name: true,
                t: s.t,
            })
            .collect(),
        "sort" => {
            let mut v: Vec<StepSample> = vec0().iter().filter(|s| s.h.is_none()).cloned().collect();
            // sort.Sort(sort.Reverse(vectorByReverseValueHeap)).
            go_sort(&mut v, |a, b| b.v.is_nan() || b.v > a.v);
            v
        }
        "sort_desc" => {
            let mut v: Vec<StepSample> = vec0().iter().filter(|s| s.h.is_none()).cloned().collect();
            go_sort(&mut v, |a, b| b.v.is_nan() || b.v < a.v);
            v
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let names: Vec<&str> = args[1..].iter().map(|a| a.string()).collect();
            let desc = name == "sort_by_label_desc";
            let mut v = vec0().to_vec();
            v.sort_by(|a, b| {
                for n in &names {
                    let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
                    if x == y {
                        continue;
                    }
                    let o = if natural_less(x, y) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                    return if desc { o.reverse() } else { o };
                }
                let o = a.labels.cmp(&b.labels);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
            v
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => {
            let f = |secs: f64| date_part(name, secs);
            match args.first() {
                None => scalar_out(f((ts / 1000) as f64), ts),
                Some(a) => map_floats(a.vector(), f),
            }
        }
        // Float samples are ignored by these functions.
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => vec0()
            .iter()
            .filter_map(|s| {
                let h = s.h.as_deref()?;
                let v = match name {
                    "histogram_count" => h.count,
                    "histogram_sum" => h.sum,
                    "histogram_avg" => h.sum / h.count,
                    "histogram_stddev" => crate::histogram::quantile::histogram_variance(h).sqrt(),
                    _ => crate::histogram::quantile::histogram_variance(h),
                };
                Some(StepSample {
                    h: None,
                    labels: s.labels.clone(),
                    v,
                    drop_name: true,
                    t: s.t,
                })
            })
            .collect(),
        _ => return Err(exec_err(format!("function {name} is not supported"))),
    })
}

/// Natural ordering of label values (Prometheus's `natsort.Compare`): digit runs compare numerically.
pub(crate) fn natural_less(a: &str, b: &str) -> bool {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        let (ca, cb) = (ab[i], bb[j]);
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            if na.len() != nb.len() {
                return na.len() < nb.len();
            }
            if na != nb {
                return na < nb;
            }
            continue;
        }
        if ca != cb {
            return ca < cb;
        }
        i += 1;
        j += 1;
    }
    ab.len() - i < bb.len() - j
}

/// Calendar parts of a Unix time in seconds (UTC), as Go's `time` package computes them.
fn date_part(name: &str, secs: f64) -> f64 {
    if secs.is_nan() || secs.is_infinite() {
        // Go converts via int64(); such values are not meaningful dates.
        return f64::NAN;
    }
    let secs = secs as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    match name {
        "minute" => ((rem / 60) % 60) as f64,
        "hour" => (rem / 3600) as f64,
        "day_of_week" => ((days + 4).rem_euclid(7)) as f64,
        "day_of_month" => d as f64,
        "day_of_year" => (days - days_from_civil(y, 1, 1) + 1) as f64,
        "month" => m as f64,
        "year" => y as f64,
        _ => {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // 2017-12-31 23:59:59 UTC, a Sunday.
        let t = 1_514_764_799.0;
        assert_eq!(date_part("year", t), 2017.0);
        assert_eq!(date_part("month", t), 12.0);
        assert_eq!(date_part("day_of_month", t), 31.0);
        assert_eq!(date_part("day_of_year", t), 365.0);
        assert_eq!(date_part("day_of_week", t), 0.0);
        assert_eq!(date_part("hour", t), 23.0);
        assert_eq!(date_part("minute", t), 59.0);
        assert_eq!(date_part("days_in_month", 1_456_790_400.0), 31.0); // 2016-03-01
        assert_eq!(date_part("days_in_month", 1_454_284_800.0), 29.0); // 2016-02-01
    }

    #[test]
    fn natural_order() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("abc", "abd"));
        assert!(natural_less("a", "ab"));
    }
}
