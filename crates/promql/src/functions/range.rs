//! Range-vector functions: `rate` & co., `*_over_time`, `deriv`, `predict_linear`,
//! `double_exponential_smoothing`, `changes`, `resets`.

use argus_model::Sample;

use super::{kahan_inc, quantile};
use crate::engine::modifiers::Modifier;
use crate::engine::{exec_err, EResult};

/// What a range function sees at one step for one series.
pub(crate) struct Window<'a> {
    /// Samples in `(end - range, end]`, stale markers removed; never empty.
    pub points: &'a [Sample],
    /// Evaluation timestamp of the step.
    pub ts: i64,
    /// Window end (step time or `@` time, minus offset).
    pub end: i64,
    pub range_ms: i64,
    /// Scalar arguments other than the range vector, in order.
    pub scalars: &'a [f64],
    /// `anchored`/`smoothed`: `points` then also hold samples up to the lookback
    /// delta before the window (and after it, for `smoothed`).
    pub modifier: Modifier,
    /// Set when the caller knows no value in `points` is below the one
    /// before it (no counter reset): `rate` and `increase` then skip
    /// looking for one. False is always correct.
    pub no_resets: bool,
}

/// Whether `name` is a function taking a range vector that this module implements.
pub(crate) fn is_range_function(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "deriv"
            | "predict_linear"
            | "double_exponential_smoothing"
            | "changes"
            | "resets"
            | "avg_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "min_over_time"
            | "max_over_time"
            | "last_over_time"
            | "first_over_time"
            | "present_over_time"
            | "absent_over_time"
            | "quantile_over_time"
            | "stddev_over_time"
            | "stdvar_over_time"
            | "mad_over_time"
            | "ts_of_max_over_time"
            | "ts_of_min_over_time"
            | "ts_of_first_over_time"
            | "ts_of_last_over_time"
    )
}

/// Evaluates a range function; `None` means no output for this step.
pub(crate) fn call(name: &str, w: &Window<'_>) -> EResult<Option<f64>> {
    if w.modifier != Modifier::None {
        return Ok(extended(name, w));
    }
    let p = w.points;
    let v = match name {
        "rate" => extrapolated_rate(w, true, true),
        "increase" => extrapolated_rate(w, true, false),
        "delta" => extrapolated_rate(w, false, false),
        "irate" => instant_value(p, true),
        "idelta" => instant_value(p, false),
        "deriv" => {
            if p.len() < 2 {
                None
            } else {
                Some(linear_regression(p, p[0].t).0)
            }
        }
        "predict_linear" => {
            if p.len() < 2 {
                None
            } else {
                let (slope, intercept) = linear_regression(p, w.ts);
                Some(slope * w.scalars.first().copied().unwrap_or(f64::NAN) + intercept)
            }
        }
        "double_exponential_smoothing" => double_exponential_smoothing(w)?,
        "changes" => {
            let mut n = 0;
            for pair in p.windows(2) {
                let (a, b) = (pair[0].v, pair[1].v);
                if b != a && !(a.is_nan() && b.is_nan()) {
                    n += 1;
                }
            }
            Some(n as f64)
        }
        "resets" => Some(p.windows(2).filter(|pair| pair[1].v < pair[0].v).count() as f64),
        "avg_over_time" => Some(avg_over_time(p)),
        "sum_over_time" => {
            let (mut sum, mut c) = (0.0, 0.0);
            for s in p {
                (sum, c) = kahan_inc(s.v, sum, c);
            }
            Some(if sum.is_infinite() { sum } else { sum + c })
        }
        "count_over_time" => Some(p.len() as f64),
        "min_over_time" => Some(compare_over_time(p, |cur, m| cur < m || m.is_nan()).0),
        "max_over_time" => Some(compare_over_time(p, |cur, m| cur > m || m.is_nan()).0),
        "ts_of_min_over_time" => {
            Some(compare_over_time(p, |cur, m| cur <= m || m.is_nan()).1 as f64 / 1000.0)
        }
        "ts_of_max_over_time" => {
            Some(compare_over_time(p, |cur, m| cur >= m || m.is_nan()).1 as f64 / 1000.0)
        }
        "last_over_time" => p.last().map(|s| s.v),
        "first_over_time" => p.first().map(|s| s.v),
        "ts_of_last_over_time" => p.last().map(|s| s.t as f64 / 1000.0),
        "ts_of_first_over_time" => p.first().map(|s| s.t as f64 / 1000.0),
        "present_over_time" | "absent_over_time" => Some(1.0),
        "quantile_over_time" => {
            let q = w.scalars.first().copied().unwrap_or(f64::NAN);
            let mut vals: Vec<f64> = p.iter().map(|s| s.v).collect();
            Some(quantile(q, &mut vals))
        }
        "stddev_over_time" => Some(variance(p).sqrt()),
        "stdvar_over_time" => Some(variance(p)),
        "mad_over_time" => {
            if p.iter().any(|s| s.v.is_nan()) {
                Some(f64::NAN)
            } else {
                let mut vals: Vec<f64> = p.iter().map(|s| s.v).collect();
                let median = quantile(0.5, &mut vals);
                for v in &mut vals {
                    *v = (*v - median).abs();
                }
                Some(quantile(0.5, &mut vals))
            }
        }
        _ => return Err(exec_err(format!("function {name} is not supported"))),
    };
    Ok(v)
}

/// Range functions under the `anchored` or `smoothed` modifier (the engine has
/// checked that the function allows it).
fn extended(name: &str, w: &Window<'_>) -> Option<f64> {
    let smoothed = w.modifier == Modifier::Smoothed;
    match name {
        "rate" => extended_rate(w, true, true, smoothed),
        "increase" => extended_rate(w, true, false, smoothed),
        "delta" => extended_rate(w, false, false, smoothed),
        "changes" | "resets" => {
            // Start from the last sample at or before the window start.
            let range_start = w.end - w.range_ms;
            let p = w.points;
            let after = p.partition_point(|s| s.t <= range_start);
            if after >= p.len() {
                return None;
            }
            let first = after.saturating_sub(1);
            let inner = Window {
                points: &p[first..],
                modifier: Modifier::None,
                ..*w
            };
            call(name, &inner).ok().flatten()
        }
        _ => None,
    }
}

fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let mut y1 = p1.v;
    let y2 = p2.v;
    if is_counter && y2 < y1 {
        y1 = 0.0;
    }
    y1 + (y2 - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// Prometheus's `extendedRate`: the difference between the values at the window
/// edges (the last sample before the start for `anchored`; interpolated for
/// `smoothed`), corrected for counter resets, without extrapolation.
fn extended_rate(w: &Window<'_>, is_counter: bool, is_rate: bool, smoothed: bool) -> Option<f64> {
    let f = w.points;
    if f.is_empty() {
        return None;
    }
    let range_start = w.end - w.range_ms;
    let range_end = w.end;
    let mut last = f.len() - 1;
    let mut first = f[..last]
        .partition_point(|s| s.t <= range_start)
        .saturating_sub(1);
    if smoothed {
        last = f[..last].partition_point(|s| s.t < range_end);
    }
    if f[last].t <= range_start {
        return None;
    }
    if smoothed && f[first].t > range_end {
        return None;
    }
    let left = if smoothed && f[first].t < range_start {
        interpolate(f[first], f[first + 1], range_start, is_counter)
    } else {
        f[first].v
    };
    let right = if smoothed && last > 0 && f[last].t > range_end {
        interpolate(f[last - 1], f[last], range_end, is_counter)
    } else {
        f[last].v
    };
    let mut result = right - left;
    if is_counter {
        if f[first].t <= range_start {
            first += 1;
        }
        if f[last].t >= range_end && last > 0 {
            last -= 1;
        }
        let inner = if first <= last {
            &f[first..=last]
        } else {
            &f[0..0]
        };
        let mut correction = 0.0;
        let mut prev = left;
        for s in inner {
            if s.v < prev {
                correction += prev;
            }
            prev = s.v;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if is_rate {
        result /= w.range_ms as f64 / 1000.0;
    }
    Some(result)
}

/// `rate`, `increase` and `delta` with Prometheus's extrapolation to the window edges.
fn extrapolated_rate(w: &Window<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    let p = w.points;
    if p.len() < 2 {
        return None;
    }
    let range_start = w.end - w.range_ms;
    let range_end = w.end;
    let first = p[0];
    let last = p[p.len() - 1];
    let mut result = last.v - first.v;
    if is_counter && !w.no_resets {
        for pair in p.windows(2) {
            if pair[1].v < pair[0].v {
                result += pair[0].v;
            }
        }
    }
    let n_minus_one = (p.len() - 1) as f64;
    let mut duration_to_start = (first.t - range_start) as f64 / 1000.0;
    let mut duration_to_end = (range_end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let avg_between = sampled_interval / n_minus_one;
    let threshold = avg_between * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = avg_between / 2.0;
    }
    if is_counter {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.v >= 0.0 {
            duration_to_zero = sampled_interval * (first.v / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = avg_between / 2.0;
    }
    let mut factor = 1.0;
    if sampled_interval != 0.0 {
        factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    }
    if is_rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` and `idelta`: from the last two samples.
fn instant_value(p: &[Sample], is_rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    // A counter reset (b < a) keeps the last value; NaN compares false and so is not a reset.
    let reset = is_rate && b.v < a.v;
    let mut v = b.v;
    if !reset {
        v = b.v - a.v;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope and intercept, with x in seconds relative to `intercept_time`.
pub(crate) fn linear_regression(p: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = p[0].v;
    let mut const_y = true;
    for (i, s) in p.iter().enumerate() {
        if const_y && i > 0 && s.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (s.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(s.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * s.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

fn double_exponential_smoothing(w: &Window<'_>) -> EResult<Option<f64>> {
    let p = w.points;
    let (Some(&sf), Some(&tf)) = (w.scalars.first(), w.scalars.get(1)) else {
        return Ok(None);
    };
    if sf <= 0.0 || sf >= 1.0 {
        return Err(exec_err(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(exec_err(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    if p.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, p[0].v);
    let mut b = p[1].v - p[0].v;
    for (i, s) in p.iter().enumerate().skip(1) {
        let x = sf * s.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

fn avg_over_time(p: &[Sample]) -> f64 {
    let (mut sum, mut count) = (p[0].v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, s) in p.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(s.v, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(s.v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// (value, timestamp) of the sample preferred by `better(current, best)`.
fn compare_over_time(p: &[Sample], better: impl Fn(f64, f64) -> bool) -> (f64, i64) {
    let (mut best, mut t) = (p[0].v, p[0].t);
    for s in p {
        if better(s.v, best) {
            best = s.v;
            t = s.t;
        }
    }
    (best, t)
}

fn variance(p: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in p {
        count += 1.0;
        let delta = s.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (s.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(points: &[Sample], end: i64, range_ms: i64) -> Window<'_> {
        Window {
            points,
            ts: end,
            end,
            range_ms,
            scalars: &[],
            modifier: Modifier::None,
            no_resets: false,
        }
    }

    #[test]
    fn anchored_and_smoothed_rates() {
        // Samples at 0, 15s, ..., 60s with values 1..=5; window (30s, 90s].
        let pts: Vec<Sample> = (0..5)
            .map(|i| Sample::new(i * 15_000, (i + 1) as f64))
            .collect();
        let anchored = Window {
            modifier: Modifier::Anchored,
            ..win(&pts, 90_000, 60_000)
        };
        // The last sample at or before 30s (value 3) anchors the start: 5 - 3.
        assert_eq!(call("increase", &anchored).unwrap(), Some(2.0));
        let smoothed = Window {
            modifier: Modifier::Smoothed,
            ..win(&pts, 52_500, 30_000)
        };
        // Interpolated at 22.5s (2.5) and 52.5s (4.5).
        assert_eq!(call("increase", &smoothed).unwrap(), Some(2.0));
    }

    #[test]
    fn rate_extrapolates_like_prometheus() {
        // 0, 10, 20, ... every 10s; rate over 1m at t=60s has 7 samples covering the whole window.
        let pts: Vec<Sample> = (1..=6)
            .map(|i| Sample::new(i * 10_000, i as f64 * 10.0))
            .collect();
        let r = extrapolated_rate(&win(&pts, 60_000, 60_000), true, true).unwrap();
        assert!((r - 1.0).abs() < 1e-9, "{r}");
        assert!(extrapolated_rate(&win(&pts[..1], 60_000, 60_000), true, true).is_none());
    }

    #[test]
    fn counter_resets_are_corrected() {
        let pts = [
            Sample::new(10_000, 5.0),
            Sample::new(20_000, 1.0),
            Sample::new(30_000, 3.0),
        ];
        assert_eq!(
            call("resets", &win(&pts, 30_000, 30_000)).unwrap(),
            Some(1.0)
        );
        assert_eq!(
            call("changes", &win(&pts, 30_000, 30_000)).unwrap(),
            Some(2.0)
        );
        assert_eq!(instant_value(&pts, true), Some(0.2));
    }
}
