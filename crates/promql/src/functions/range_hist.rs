//! Range-vector functions over windows that hold native histograms (alone or
//! mixed with floats), following Prometheus's `promql/functions.go`.

use std::sync::Arc;

use argus_model::{CounterResetHint, FloatHistogram, HistogramSample, Sample};

use super::range::{self, Window};
use crate::annotations::Annotations;
use crate::engine::{EResult, HPoint};
use crate::histogram as hist;

/// The output of a range function at one step.
pub(crate) enum ROut {
    F(f64),
    H(FloatHistogram),
}

/// Where annotations go, and what they name.
pub(crate) struct HCtx<'a> {
    pub annos: &'a Annotations,
    pub metric: &'a str,
    pub pos: &'a str,
}

impl HCtx<'_> {
    pub(crate) fn mixed_floats(&self) {
        self.annos.warn(format!(
            "encountered a mix of histograms and floats for metric name {:?} {}",
            self.metric, self.pos
        ));
    }
    pub(crate) fn mixed_schemas(&self) {
        self.annos.warn(format!(
            "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {:?} {}",
            self.metric, self.pos
        ));
    }
    pub(crate) fn not_counter(&self) {
        self.annos.warn(format!(
            "this native histogram metric is not a counter: {:?} {}",
            self.metric, self.pos
        ));
    }
    pub(crate) fn not_gauge(&self) {
        self.annos.warn(format!(
            "this native histogram metric is not a gauge: {:?} {}",
            self.metric, self.pos
        ));
    }
    pub(crate) fn reconciled(&self, op: &str) {
        self.annos.info(format!(
            "mismatched custom buckets were reconciled during {op} {}",
            self.pos
        ));
    }
    pub(crate) fn ignored_in_mixed(&self) {
        self.annos.info(format!(
            "ignored histograms in a range containing both floats and histograms for metric name {:?} {}",
            self.metric, self.pos
        ));
    }
    pub(crate) fn collision(&self, op: &str) {
        self.annos.warn(format!(
            "conflicting counter resets during histogram {op} {}",
            self.pos
        ));
    }
}

/// Evaluates range function `name` on a window with at least one histogram.
pub(crate) fn call(
    name: &str,
    w: &Window<'_>,
    hs: &[HPoint],
    cx: &HCtx<'_>,
) -> EResult<Option<ROut>> {
    let fl = w.points;
    let f_only = |cx: &HCtx<'_>| -> EResult<Option<ROut>> {
        if fl.is_empty() {
            return Ok(None);
        }
        cx.ignored_in_mixed();
        Ok(range::call(name, w)?.map(ROut::F))
    };
    Ok(match name {
        "rate" | "increase" | "delta" => {
            if !fl.is_empty() {
                cx.mixed_floats();
                return Ok(None);
            }
            if w.modifier != crate::engine::modifiers::Modifier::None {
                return Ok(
                    extended_histogram_rate(w, hs, name != "delta", name == "rate", cx)
                        .map(ROut::H),
                );
            }
            histogram_extrapolated_rate(w, hs, name != "delta", name == "rate", cx).map(ROut::H)
        }
        "irate" | "idelta" => instant_value(fl, hs, name == "irate", cx)?,
        "resets" | "changes" => {
            let (mut f0, mut h0) = (0, 0);
            if w.modifier == crate::engine::modifiers::Modifier::Anchored {
                let start = w.end - w.range_ms;
                let fle = fl.partition_point(|p| p.t <= start);
                let hle = hs.partition_point(|p| p.t <= start);
                if fle >= fl.len() && hle >= hs.len() {
                    return Ok(None);
                }
                match (fle.checked_sub(1), hle.checked_sub(1)) {
                    (None, None) => {}
                    (Some(fi), hi) if hi.is_none_or(|hi| fl[fi].t >= hs[hi].t) => {
                        (f0, h0) = (fi, hle);
                    }
                    (_, Some(hi)) => (f0, h0) = (fle, hi),
                    _ => {}
                }
            }
            Some(ROut::F(resets_changes(
                &fl[f0..],
                &hs[h0..],
                name == "resets",
            )))
        }
        "count_over_time" => Some(ROut::F((fl.len() + hs.len()) as f64)),
        "present_over_time" | "absent_over_time" => Some(ROut::F(1.0)),
        "last_over_time" => {
            let h = &hs[hs.len() - 1];
            match fl.last() {
                Some(f) if h.t < f.t => Some(ROut::F(f.v)),
                _ => Some(ROut::H((*h.h).clone())),
            }
        }
        "first_over_time" => {
            let h = &hs[0];
            match fl.first() {
                Some(f) if f.t < h.t => Some(ROut::F(f.v)),
                _ => Some(ROut::H((*h.h).clone())),
            }
        }
        "ts_of_last_over_time" => {
            let t = hs[hs.len() - 1]
                .t
                .max(fl.last().map(|f| f.t).unwrap_or(i64::MIN));
            Some(ROut::F(t as f64 / 1000.0))
        }
        "ts_of_first_over_time" => {
            let t = hs[0].t.min(fl.first().map(|f| f.t).unwrap_or(i64::MAX));
            Some(ROut::F(t as f64 / 1000.0))
        }
        "sum_over_time" | "avg_over_time" => {
            if !fl.is_empty() {
                cx.mixed_floats();
                return Ok(None);
            }
            let (mut reset, mut not_reset) = (false, false);
            for p in hs {
                match p.h.counter_reset_hint {
                    CounterResetHint::CounterReset => reset = true,
                    CounterResetHint::NotCounterReset => not_reset = true,
                    _ => {}
                }
            }
            let mut acc = hist::kahan::HistAcc::new(&hs[0].h);
            for p in &hs[1..] {
                let r = if name == "avg_over_time" {
                    acc.add_avg(&p.h)
                } else {
                    acc.add_sum(&p.h)
                };
                if r.is_err() {
                    cx.mixed_schemas();
                    return Ok(None);
                }
            }
            if reset && not_reset {
                cx.collision("aggregation");
            }
            if acc.reconciled {
                cx.reconciled("aggregation");
            }
            let sum = if name == "avg_over_time" {
                acc.finish_avg()
            } else {
                acc.finish_sum()
            };
            Some(ROut::H(sum))
        }
        "deriv" | "predict_linear" => {
            if fl.len() < 2 {
                if !fl.is_empty() {
                    cx.ignored_in_mixed();
                }
                return Ok(None);
            }
            f_only(cx)?
        }
        _ => f_only(cx)?,
    })
}

fn resets_changes(fl: &[Sample], hs: &[HPoint], resets: bool) -> f64 {
    enum P<'a> {
        F(f64),
        H(&'a FloatHistogram),
    }
    let mut merged: Vec<(i64, P<'_>)> = fl.iter().map(|s| (s.t, P::F(s.v))).collect();
    merged.extend(hs.iter().map(|h| (h.t, P::H(&h.h))));
    merged.sort_by_key(|p| p.0);
    let mut n = 0;
    for pair in merged.windows(2) {
        let hit = match (&pair[0].1, &pair[1].1) {
            (P::F(a), P::F(b)) => {
                if resets {
                    b < a
                } else {
                    b != a && !(a.is_nan() && b.is_nan())
                }
            }
            (P::H(a), P::H(b)) => {
                if resets {
                    hist::detect_reset(b, a)
                } else {
                    !hist::equals(a, b)
                }
            }
            _ => true,
        };
        if hit {
            n += 1;
        }
    }
    n as f64
}

fn instant_value(
    fl: &[Sample],
    hs: &[HPoint],
    is_rate: bool,
    cx: &HCtx<'_>,
) -> EResult<Option<ROut>> {
    if fl.len() + hs.len() < 2 {
        return Ok(None);
    }
    // The last two samples of either kind.
    let mut ss: Vec<(i64, Option<&Arc<FloatHistogram>>, f64)> = fl
        .iter()
        .skip(fl.len().saturating_sub(2))
        .map(|s| (s.t, None, s.v))
        .collect();
    for h in hs.iter().skip(hs.len().saturating_sub(2)) {
        let s = (h.t, Some(&h.h), 0.0);
        match ss.len() {
            0 => ss.push(s),
            1 => {
                if s.0 < ss[0].0 {
                    ss.insert(0, s)
                } else {
                    ss.push(s)
                }
            }
            _ => {
                if s.0 < ss[0].0 {
                } else if s.0 > ss[1].0 {
                    ss[0] = ss[1];
                    ss[1] = s;
                } else {
                    ss[0] = s;
                }
            }
        }
    }
    let (a, b) = (ss[0], ss[1]);
    let interval = b.0 - a.0;
    if interval == 0 {
        return Ok(None);
    }
    let secs = interval as f64 / 1000.0;
    match (a.1, b.1) {
        (None, None) => {
            let mut v = b.2;
            if !(is_rate && b.2 < a.2) {
                v = b.2 - a.2;
            }
            if is_rate {
                v /= secs;
            }
            Ok(Some(ROut::F(v)))
        }
        (Some(ha), Some(hb)) => {
            let mut r = (**hb).clone();
            let gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
            if is_rate && (gauge(hb) || gauge(ha)) {
                cx.not_counter();
            }
            if !is_rate && (!gauge(hb) || !gauge(ha)) {
                cx.not_gauge();
            }
            if !is_rate || !hist::detect_reset(hb, ha) {
                match hist::sub(&mut r, ha) {
                    Ok(i) => {
                        if i.nhcb_bounds_reconciled {
                            cx.reconciled("subtraction");
                        }
                    }
                    Err(_) => {
                        cx.mixed_schemas();
                        return Ok(None);
                    }
                }
            }
            r.counter_reset_hint = CounterResetHint::Gauge;
            hist::compact(&mut r);
            if is_rate {
                hist::div(&mut r, secs);
            }
            Ok(Some(ROut::H(r)))
        }
        _ => {
            cx.mixed_floats();
            Ok(None)
        }
    }
}

/// Prometheus's `histogramRate`: last minus first, corrected for counter resets.
fn histogram_rate(points: &[HPoint], is_counter: bool, cx: &HCtx<'_>) -> Option<FloatHistogram> {
    let mut prev: FloatHistogram = (*points[0].h).clone();
    let last = &points[points.len() - 1].h;
    let gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
    if is_counter && (gauge(&prev) || gauge(last)) {
        cx.not_counter();
    }
    let mut custom = prev.uses_custom_buckets();
    if is_counter {
        let second = &points[1].h;
        if hist::detect_reset(second, &prev) {
            prev = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..Default::default()
            };
            custom = second.uses_custom_buckets();
        }
    }
    if last.uses_custom_buckets() != custom {
        cx.mixed_schemas();
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for p in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        if gauge(&p.h) {
            cx.not_counter();
        }
        min_schema = min_schema.min(p.h.schema);
        if p.h.uses_custom_buckets() != custom {
            cx.mixed_schemas();
            return None;
        }
    }
    let mut h = (**last).clone();
    if !h.uses_custom_buckets() {
        hist::reduce_resolution(&mut h, min_schema);
    }
    match hist::sub(&mut h, &prev) {
        Ok(i) => {
            if i.nhcb_bounds_reconciled {
                cx.reconciled("subtraction");
            }
        }
        Err(_) => {
            cx.mixed_schemas();
            return None;
        }
    }
    if is_counter {
        let mut prev: &FloatHistogram = &prev;
        for p in &points[1..] {
            if hist::detect_reset(&p.h, prev) {
                match hist::add(&mut h, prev) {
                    Ok(i) => {
                        if i.nhcb_bounds_reconciled {
                            cx.reconciled("addition");
                        }
                    }
                    Err(_) => {
                        cx.mixed_schemas();
                        return None;
                    }
                }
            }
            prev = &p.h;
        }
    } else if !gauge(&points[0].h) || !gauge(&points[points.len() - 1].h) {
        cx.not_gauge();
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    hist::compact(&mut h);
    Some(h)
}

fn histogram_extrapolated_rate(
    w: &Window<'_>,
    hs: &[HPoint],
    is_counter: bool,
    is_rate: bool,
    cx: &HCtx<'_>,
) -> Option<FloatHistogram> {
    if hs.len() < 2 {
        return None;
    }
    let mut result = histogram_rate(hs, is_counter, cx)?;
    let range_start = w.end - w.range_ms;
    let range_end = w.end;
    let (first_t, last_t) = (hs[0].t, hs[hs.len() - 1].t);
    let n_minus_one = (hs.len() - 1) as f64;
    let mut duration_to_start = (first_t - range_start) as f64 / 1000.0;
    let mut duration_to_end = (range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = sampled / n_minus_one;
    let threshold = avg * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = avg / 2.0;
    }
    if is_counter {
        let mut to_zero = duration_to_start;
        if result.count > 0.0 && hs[0].h.count >= 0.0 {
            to_zero = sampled * (hs[0].h.count / result.count);
        }
        if to_zero < duration_to_start {
            duration_to_start = to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = avg / 2.0;
    }
    let mut factor = 1.0;
    if sampled != 0.0 {
        factor = (sampled + duration_to_start + duration_to_end) / sampled;
    }
    if is_rate {
        factor /= w.range_ms as f64 / 1000.0;
    }
    hist::mul(&mut result, factor);
    Some(result)
}

/// `x smoothed` at `r` for histogram samples around it (Prometheus's `smoothSeries`).
pub(crate) fn smoothed_at(hs: &[HistogramSample], r: i64, cx: &HCtx<'_>) -> Option<FloatHistogram> {
    let i = hs.partition_point(|h| h.t < r);
    if i < hs.len() && hs[i].t == r {
        return Some(hs[i].h.clone());
    }
    if i > 0 && i < hs.len() {
        let (p, n) = (&hs[i - 1], &hs[i]);
        if p.h.uses_custom_buckets() != n.h.uses_custom_buckets() {
            cx.mixed_schemas();
            return None;
        }
        let gauge = |h: &FloatHistogram| h.counter_reset_hint == CounterResetHint::Gauge;
        let is_counter = !gauge(&p.h) || !gauge(&n.h);
        return match interpolate(&p.h, p.t, &n.h, n.t, r, is_counter, cx) {
            Ok(h) => Some(h),
            Err(_) => {
                cx.mixed_schemas();
                None
            }
        };
    }
    if i > 0 {
        let mut h = hs[i - 1].h.clone();
        h.counter_reset_hint = CounterResetHint::Unknown;
        return Some(h);
    }
    None
}

/// Linear interpolation between two histograms (`interpolateHistograms`).
fn interpolate(
    h1: &FloatHistogram,
    t1: i64,
    h2: &FloatHistogram,
    t2: i64,
    t: i64,
    is_counter: bool,
    cx: &HCtx<'_>,
) -> Result<FloatHistogram, hist::IncompatibleSchema> {
    if t == t1 {
        return Ok(h1.clone());
    }
    if t == t2 {
        return Ok(h2.clone());
    }
    let fraction = (t - t1) as f64 / (t2 - t1) as f64;
    let mut r = h2.clone();
    if is_counter && hist::detect_reset(h2, h1) {
        hist::mul(&mut r, fraction);
        return Ok(r);
    }
    if hist::sub(&mut r, h1)?.nhcb_bounds_reconciled {
        cx.reconciled("subtraction");
    }
    hist::mul(&mut r, fraction);
    if hist::add(&mut r, h1)?.nhcb_bounds_reconciled {
        cx.reconciled("addition");
    }
    Ok(r)
}

/// `rate`/`increase`/`delta` of histograms with `anchored` or `smoothed`
/// (Prometheus's `extendedHistogramRate`).
fn extended_histogram_rate(
    w: &Window<'_>,
    h: &[HPoint],
    is_counter: bool,
    is_rate: bool,
    cx: &HCtx<'_>,
) -> Option<FloatHistogram> {
    let smoothed = w.modifier == crate::engine::modifiers::Modifier::Smoothed;
    let range_start = w.end - w.range_ms;
    let range_end = w.end;
    let mut last = h.len() - 1;
    let first = h[..last]
        .partition_point(|p| p.t <= range_start)
        .saturating_sub(1);
    if smoothed {
        last = h[..last].partition_point(|p| p.t < range_end);
    }
    if h[last].t <= range_start || (smoothed && h[first].t > range_end) {
        return None;
    }
    // validateHistogramRange
    let custom = h[first].h.uses_custom_buckets();
    for p in &h[first..=last] {
        if p.h.uses_custom_buckets() != custom {
            cx.mixed_schemas();
            return None;
        }
        if is_counter && p.h.counter_reset_hint == CounterResetHint::Gauge {
            cx.not_counter();
        }
    }
    let left = if smoothed && h[first].t < range_start {
        interpolate(
            &h[first].h,
            h[first].t,
            &h[first + 1].h,
            h[first + 1].t,
            range_start,
            is_counter,
            cx,
        )
    } else {
        Ok((*h[first].h).clone())
    };
    let right = if smoothed && last > 0 && h[last].t > range_end {
        interpolate(
            &h[last - 1].h,
            h[last - 1].t,
            &h[last].h,
            h[last].t,
            range_end,
            is_counter,
            cx,
        )
    } else {
        Ok((*h[last].h).clone())
    };
    let (Ok(left), Ok(right)) = (left, right) else {
        cx.mixed_schemas();
        return None;
    };
    let gauge = |x: &FloatHistogram| x.counter_reset_hint == CounterResetHint::Gauge;
    if !is_counter && (!gauge(&left) || !gauge(&right)) {
        cx.not_gauge();
    }
    let mut result = right.clone();
    match hist::sub(&mut result, &left) {
        Ok(i) => {
            if i.nhcb_bounds_reconciled {
                cx.reconciled("subtraction");
            }
        }
        Err(_) => {
            cx.mixed_schemas();
            return None;
        }
    }
    if is_counter {
        let mut correction: Option<FloatHistogram> = None;
        let mut lo = first + 1;
        let mut prev: &FloatHistogram = &left;
        if smoothed
            && h[first].t < range_start
            && lo < h.len()
            && hist::detect_reset(&h[lo].h, &h[first].h)
        {
            prev = &h[lo].h;
            lo += 1;
        }
        let hi = last as isize - 1;
        if lo as isize <= hi + 1 {
            let mut add_corr = |x: &FloatHistogram| -> bool {
                match &mut correction {
                    None => {
                        correction = Some(x.clone());
                        true
                    }
                    Some(c) => match hist::add(c, x) {
                        Ok(i) => {
                            if i.nhcb_bounds_reconciled {
                                cx.reconciled("addition");
                            }
                            true
                        }
                        Err(_) => {
                            cx.mixed_schemas();
                            false
                        }
                    },
                }
            };
            if hi >= lo as isize {
                for p in &h[lo..=hi as usize] {
                    if hist::detect_reset(&p.h, prev) && !add_corr(prev) {
                        return None;
                    }
                    prev = &p.h;
                }
            }
            if hist::detect_reset(&right, prev) && !add_corr(prev) {
                return None;
            }
        }
        if let Some(c) = correction {
            match hist::add(&mut result, &c) {
                Ok(i) => {
                    if i.nhcb_bounds_reconciled {
                        cx.reconciled("addition");
                    }
                }
                Err(_) => {
                    cx.mixed_schemas();
                    return None;
                }
            }
        }
    }
    if is_rate {
        hist::div(&mut result, w.range_ms as f64 / 1000.0);
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    hist::compact(&mut result);
    Some(result)
}
