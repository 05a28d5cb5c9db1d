//! Vector selectors, range selectors and subqueries.

use argus_model::{
    is_stale_nan, CounterResetHint, Labels, MatchOp, Matcher, Sample, StoredSeries, METRIC_NAME,
};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{
    AtModifier, Expr, MatrixSelector, Offset, SubqueryExpr, VectorSelector,
};
use std::sync::Arc;

use super::modifiers::{modifier_of, Modifier};
use super::{exec_err, EResult, ESeries, Evaluator, HPoint};
use crate::value::PromqlError;
use crate::SeriesSet;

pub(crate) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
    }
}

/// The series a selector matched, from one or more matcher groups (`or`),
/// their samples loaded one series at a time ([`Selected::load`]).
pub(crate) struct Selected<'q> {
    sets: Vec<Box<dyn SeriesSet + 'q>>,
    /// (set, series) in output order when there are several sets.
    order: Option<Vec<(usize, usize)>>,
    /// Histograms are read as count and sum only.
    stats: bool,
}

impl Selected<'_> {
    pub(crate) fn len(&self) -> usize {
        match &self.order {
            Some(o) => o.len(),
            None => self.sets.first().map_or(0, |s| s.len()),
        }
    }

    fn at(&self, k: usize) -> (usize, usize) {
        match &self.order {
            Some(o) => o[k],
            None => (0, k),
        }
    }

    pub(crate) fn labels(&self, k: usize) -> &Labels {
        let (s, i) = self.at(k);
        self.sets[s].labels(i)
    }

    /// Series `k`'s label set, shared with the storage's selection.
    pub(crate) fn shared_labels(&self, k: usize) -> Arc<Labels> {
        let (s, i) = self.at(k);
        self.sets[s].shared_labels(i)
    }

    /// Series `k`'s raw samples, read now, `labels` left empty. The caller
    /// counts them against `max_samples` while it holds them.
    pub(crate) fn load(&self, k: usize) -> EResult<StoredSeries> {
        let (s, i) = self.at(k);
        let mut out = self.sets[s].load(i)?;
        if self.stats {
            super::stats::to_stats(&mut out.histograms);
        }
        Ok(out)
    }
}

/// A range argument's series: a subquery's, evaluated, or a range
/// selector's, loaded one at a time ([`RangeArg::load`]).
pub(crate) enum RangeSeries<'q> {
    Evaluated(Vec<ESeries>),
    Selected(Selected<'q>),
}

/// A range argument (range selector or subquery) with all the points
/// needed by every step; each step cuts its window `(ref - range, ref]`.
pub(crate) struct RangeArg<'q> {
    pub series: RangeSeries<'q>,
    pub range_ms: i64,
    pub offset_ms: i64,
    pub at_ms: Option<i64>,
    /// `anchored`/`smoothed` on a range selector.
    pub modifier: Modifier,
    /// How far the window reaches before `end - range` and after `end` (lookback for the modifiers).
    pub extra_before_ms: i64,
    pub extra_after_ms: i64,
}

/// Where the last window of a series began and ended ([`RangeArg::window_from`]).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WindowCursor {
    pub lo: usize,
    pub hi: usize,
}

/// The first index at or after `from` whose point is after `t`, given
/// that the one before `from` is not; from scratch if `t` moved back.
fn advance(pts: &[Sample], from: usize, t: i64) -> usize {
    if from > pts.len() || (from > 0 && pts[from - 1].t > t) {
        return pts.partition_point(|p| p.t <= t);
    }
    // A few steps forward, then a binary search over the rest.
    let mut i = from;
    for _ in 0..8 {
        if i >= pts.len() || pts[i].t > t {
            return i;
        }
        i += 1;
    }
    i + pts[i..].partition_point(|p| p.t <= t)
}

impl RangeArg<'_> {
    /// Number of series (some may load empty).
    pub(crate) fn len(&self) -> usize {
        match &self.series {
            RangeSeries::Evaluated(v) => v.len(),
            RangeSeries::Selected(s) => s.len(),
        }
    }

    /// Series `i` with all its points: a subquery's as evaluated, a range
    /// selector's read from storage now (stale markers removed). `raw` is
    /// how many raw samples it holds that nothing else does (0 for a
    /// subquery's series, which its evaluation already counted).
    pub(crate) fn load(&self, i: usize) -> EResult<(std::borrow::Cow<'_, ESeries>, usize)> {
        match &self.series {
            RangeSeries::Evaluated(v) => Ok((std::borrow::Cow::Borrowed(&v[i]), 0)),
            RangeSeries::Selected(sel) => {
                let s = sel.load(i)?;
                let e = ESeries {
                    hists: s
                        .histograms
                        .into_iter()
                        .map(|h| HPoint {
                            t: h.t,
                            h: Arc::new(h.h),
                        })
                        .collect(),
                    labels: sel.shared_labels(i),
                    drop_name: false,
                    points: s
                        .floats
                        .into_iter()
                        .filter(|s| !is_stale_nan(s.v))
                        .collect(),
                };
                let n = e.len();
                Ok((std::borrow::Cow::Owned(e), n))
            }
        }
    }

    /// The end of the window evaluated at step `ts`.
    pub(crate) fn window_end(&self, ts: i64) -> i64 {
        self.at_ms.unwrap_or(ts) - self.offset_ms
    }

    /// Points of series `s` in the window of step `ts`.
    pub(crate) fn window<'s>(&self, s: &'s ESeries, ts: i64) -> &'s [Sample] {
        let end = self.window_end(ts) + self.extra_after_ms;
        let start = self.window_end(ts) - self.range_ms - self.extra_before_ms;
        let pts = &s.points;
        let lo = pts.partition_point(|p| p.t <= start);
        let hi = pts.partition_point(|p| p.t <= end);
        &pts[lo..hi.max(lo)]
    }

    /// [`Self::window`] for steps visited in increasing order: `c` keeps
    /// where the previous window of series `s` was, so each step moves it
    /// forward instead of searching the whole series twice.
    pub(crate) fn window_from<'s>(
        &self,
        s: &'s ESeries,
        ts: i64,
        c: &mut WindowCursor,
    ) -> &'s [Sample] {
        let end = self.window_end(ts) + self.extra_after_ms;
        let start = self.window_end(ts) - self.range_ms - self.extra_before_ms;
        let pts = &s.points;
        c.lo = advance(pts, c.lo, start);
        c.hi = advance(pts, c.hi.max(c.lo), end);
        &pts[c.lo..c.hi]
    }

    /// Histogram points of series `s` in the window of step `ts`.
    pub(crate) fn hwindow<'s>(&self, s: &'s ESeries, ts: i64) -> &'s [HPoint] {
        let end = self.window_end(ts) + self.extra_after_ms;
        let start = self.window_end(ts) - self.range_ms - self.extra_before_ms;
        let pts = &s.hists;
        let lo = pts.partition_point(|p| p.t <= start);
        let hi = pts.partition_point(|p| p.t <= end);
        &pts[lo..hi.max(lo)]
    }
}

impl<'a> Evaluator<'a, '_> {
    pub(crate) fn at_ms(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.ctx.query_start),
            Some(AtModifier::End) => Some(self.ctx.query_end),
            Some(AtModifier::At(t)) => Some(match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i64,
                Err(e) => -(e.duration().as_millis() as i64),
            }),
        }
    }

    /// Finds the series of a selector with samples in `[mint, maxt]`; their
    /// samples are read one series at a time ([`Selected::load`]).
    pub(crate) fn select(
        &self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
    ) -> EResult<Selected<'a>> {
        let mut groups = vec![vs.matchers.matchers.clone()];
        groups.extend(vs.matchers.or_matchers.iter().cloned());
        let mut sets: Vec<Box<dyn SeriesSet + 'a>> = Vec::new();
        for (gi, group) in groups.iter().enumerate() {
            if gi > 0 && group.is_empty() {
                continue;
            }
            let mut ms = Vec::with_capacity(group.len() + 1);
            for m in group
                .iter()
                .filter(|m| !super::modifiers::is_marker(&m.name))
            {
                let op = match &m.op {
                    PMatchOp::Equal => MatchOp::Equal,
                    PMatchOp::NotEqual => MatchOp::NotEqual,
                    PMatchOp::Re(_) => MatchOp::Regex,
                    PMatchOp::NotRe(_) => MatchOp::NotRegex,
                };
                ms.push(
                    Matcher::new(op, m.name.clone(), m.value.clone())
                        .map_err(|e| exec_err(e.to_string()))?,
                );
            }
            if let Some(name) = &vs.name {
                if !ms.iter().any(|m| m.name == METRIC_NAME) {
                    ms.push(Matcher::equal(METRIC_NAME, name.clone()));
                }
            }
            sets.push(self.ctx.q.select(&ms, mint, maxt)?);
        }
        // With `or` groups: each label set once (the first group that has
        // it), sorted by labels.
        let order = (sets.len() > 1).then(|| {
            let mut seen: std::collections::HashSet<&Labels> = Default::default();
            let mut o: Vec<(usize, usize)> = Vec::new();
            for (si, set) in sets.iter().enumerate() {
                for i in 0..set.len() {
                    if seen.insert(set.labels(i)) {
                        o.push((si, i));
                    }
                }
            }
            o.sort_by(|a, b| sets[a.0].labels(a.1).cmp(sets[b.0].labels(b.1)));
            o
        });
        let stats = self
            .ctx
            .stats_selectors
            .contains(&(vs as *const VectorSelector as usize));
        Ok(Selected { sets, order, stats })
    }

    /// An instant vector selector over all steps: the latest sample in
    /// `(ref - lookback, ref]` unless it is a staleness marker. With
    /// `sample_time`, the value is the sample's timestamp in seconds (for `timestamp()`).
    pub(crate) fn eval_vector_selector_with(
        &self,
        vs: &VectorSelector,
        sample_time: bool,
    ) -> EResult<Vec<ESeries>> {
        let steps = self.steps();
        if steps.is_empty() {
            return Ok(Vec::new());
        }
        let at = self.at_ms(&vs.at);
        let off = offset_ms(&vs.offset);
        let refs: Vec<i64> = steps.iter().map(|&ts| at.unwrap_or(ts) - off).collect();
        let lookback = self.ctx.opts.lookback_delta_ms;
        let (Some(&min_ref), Some(&max_ref)) = (refs.iter().min(), refs.iter().max()) else {
            return Ok(Vec::new());
        };
        let sel = self.select(vs, min_ref - lookback + 1, max_ref)?;
        let mut out = Vec::new();
        // Points output so far: held with the series being read.
        let mut held = 0;
        for k in 0..sel.len() {
            self.ctx.check_deadline()?;
            let StoredSeries {
                floats: samples,
                histograms,
                ..
            } = sel.load(k)?;
            self.ctx
                .check_transient(held + samples.len() + histograms.len())?;
            let mut points = Vec::new();
            let mut hists = Vec::new();
            let hs: Vec<HPoint> = histograms
                .into_iter()
                .map(|h| HPoint {
                    t: h.t,
                    h: Arc::new(h.h),
                })
                .collect();
            for (&ts, &r) in steps.iter().zip(&refs) {
                let idx = samples.partition_point(|s| s.t <= r);
                let hidx = hs.partition_point(|s| s.t <= r);
                let f = idx.checked_sub(1).map(|i| samples[i]);
                let h = hidx.checked_sub(1).map(|i| &hs[i]);
                match (f, h) {
                    (Some(s), h) if h.is_none_or(|h| h.t < s.t) => {
                        if s.t <= r - lookback || is_stale_nan(s.v) {
                            continue;
                        }
                        let v = if sample_time {
                            s.t as f64 / 1000.0
                        } else {
                            s.v
                        };
                        points.push(Sample::new(ts, v));
                    }
                    (_, Some(h)) => {
                        if h.t <= r - lookback {
                            continue;
                        }
                        if sample_time {
                            points.push(Sample::new(ts, h.t as f64 / 1000.0));
                        } else {
                            hists.push(HPoint {
                                t: ts,
                                h: h.h.clone(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            if !points.is_empty() || !hists.is_empty() {
                held += points.len() + hists.len();
                out.push(ESeries {
                    hists,
                    labels: sel.shared_labels(k),
                    drop_name: false,
                    points,
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn eval_vector_selector(
        &self,
        vs: &VectorSelector,
        e: &Expr,
    ) -> EResult<Vec<ESeries>> {
        if modifier_of(vs) == Modifier::Smoothed {
            return self.eval_smoothed_selector(vs, e);
        }
        self.eval_vector_selector_with(vs, false)
    }

    /// `x smoothed`: the value at each step interpolated between the samples
    /// around it (within the lookback delta on each side), or the last value
    /// when there is no later sample yet.
    fn eval_smoothed_selector(&self, vs: &VectorSelector, e: &Expr) -> EResult<Vec<ESeries>> {
        let pos = self.ctx.pos(e);
        let steps = self.steps();
        let at = self.at_ms(&vs.at);
        let off = offset_ms(&vs.offset);
        let lb = self.ctx.opts.lookback_delta_ms;
        let refs: Vec<i64> = steps.iter().map(|&ts| at.unwrap_or(ts) - off).collect();
        let (Some(&lo), Some(&hi)) = (refs.iter().min(), refs.iter().max()) else {
            return Ok(Vec::new());
        };
        let sel = self.select(vs, lo - lb + 1, hi + lb)?;
        let mut out = Vec::new();
        let mut held = 0;
        for k in 0..sel.len() {
            self.ctx.check_deadline()?;
            let StoredSeries {
                floats: samples,
                histograms,
                ..
            } = sel.load(k)?;
            self.ctx
                .check_transient(held + samples.len() + histograms.len())?;
            let labels = sel.labels(k);
            let samples: Vec<Sample> = samples.into_iter().filter(|s| !is_stale_nan(s.v)).collect();
            let mut points = Vec::new();
            let mut hists = Vec::new();
            let metric = labels.metric_name().unwrap_or("").to_string();
            for (&ts, &r) in steps.iter().zip(&refs) {
                let lo_i = samples.partition_point(|s| s.t <= r - lb);
                let hi_i = samples.partition_point(|s| s.t <= r + lb);
                let w = &samples[lo_i..hi_i.max(lo_i)];
                let hlo = histograms.partition_point(|s| s.t <= r - lb);
                let hhi = histograms.partition_point(|s| s.t <= r + lb);
                let hw = &histograms[hlo..hhi.max(hlo)];
                if !hw.is_empty() {
                    if !w.is_empty() {
                        self.ctx.annos.warn(format!(
                            "encountered a mix of histograms and floats for metric name {metric:?} {pos}"
                        ));
                        continue;
                    }
                    let cx = crate::functions::range_hist::HCtx {
                        annos: &self.ctx.annos,
                        metric: &metric,
                        pos: &pos,
                    };
                    if let Some(h) = crate::functions::range_hist::smoothed_at(hw, r, &cx) {
                        hists.push(HPoint {
                            t: ts,
                            h: Arc::new(h),
                        });
                    }
                    continue;
                }
                if w.is_empty() {
                    continue;
                }
                let i = w.partition_point(|s| s.t < r);
                let v = if i < w.len() && w[i].t == r {
                    w[i].v
                } else if i > 0 && i < w.len() {
                    let (p, n) = (w[i - 1], w[i]);
                    p.v + (n.v - p.v) * (r - p.t) as f64 / (n.t - p.t) as f64
                } else if i > 0 {
                    w[i - 1].v
                } else {
                    continue;
                };
                points.push(Sample::new(ts, v));
            }
            if !points.is_empty() || !hists.is_empty() {
                held += points.len() + hists.len();
                out.push(ESeries {
                    hists,
                    labels: Arc::new(labels.clone()),
                    drop_name: false,
                    points,
                });
            }
        }
        Ok(out)
    }

    /// A range selector's series for all steps, loaded one at a time
    /// ([`RangeArg::load`], stale markers removed).
    pub(crate) fn range_selector(&self, ms: &MatrixSelector) -> EResult<RangeArg<'a>> {
        let vs = &ms.vs;
        let range_ms = ms.range.as_millis() as i64;
        let at = self.at_ms(&vs.at);
        let off = offset_ms(&vs.offset);
        let modifier = modifier_of(vs);
        let lookback = self.ctx.opts.lookback_delta_ms;
        let (extra_before_ms, extra_after_ms) = match modifier {
            Modifier::None => (0, 0),
            Modifier::Anchored => (lookback, 0),
            Modifier::Smoothed => (lookback, lookback),
        };
        let steps = self.steps();
        let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else {
            return Ok(RangeArg {
                series: RangeSeries::Evaluated(Vec::new()),
                range_ms,
                offset_ms: off,
                at_ms: at,
                modifier,
                extra_before_ms,
                extra_after_ms,
            });
        };
        let (min_ref, max_ref) = match at {
            Some(a) => (a - off, a - off),
            None => (first - off, last - off),
        };
        let sel = self.select(
            vs,
            min_ref - range_ms - extra_before_ms + 1,
            max_ref + extra_after_ms,
        )?;
        Ok(RangeArg {
            series: RangeSeries::Selected(sel),
            range_ms,
            offset_ms: off,
            at_ms: at,
            modifier,
            extra_before_ms,
            extra_after_ms,
        })
    }

    /// A range selector evaluated as a value (instant queries only): each series' window at the evaluation time.
    pub(crate) fn select_range(&self, ms: &MatrixSelector) -> EResult<Vec<ESeries>> {
        let arg = self.range_selector(ms)?;
        let ts = self.start;
        let mut out = Vec::new();
        let mut held = 0;
        for i in 0..arg.len() {
            self.ctx.check_deadline()?;
            let (s, raw) = arg.load(i)?;
            self.ctx.check_transient(held + raw)?;
            let w = arg.window(&s, ts).to_vec();
            let hw = arg.hwindow(&s, ts).to_vec();
            if !w.is_empty() || !hw.is_empty() {
                held += w.len() + hw.len();
                out.push(ESeries {
                    hists: hw,
                    labels: s.labels.clone(),
                    drop_name: false,
                    points: w,
                });
            }
        }
        Ok(out)
    }

    /// The time range and step a subquery is evaluated over.
    fn subquery_range(&self, sq: &SubqueryExpr) -> (i64, i64, i64, i64, Option<i64>) {
        let off = offset_ms(&sq.offset);
        let range = sq.range.as_millis() as i64;
        let at = self.at_ms(&sq.at);
        let interval = match sq.step {
            Some(s) if !s.is_zero() => s.as_millis() as i64,
            _ => self.ctx.opts.default_subquery_step_ms,
        };
        let (ref_start, ref_end) = match at {
            Some(a) => (a, a),
            None => {
                let end = if self.interval > 0 {
                    self.start + ((self.end - self.start) / self.interval) * self.interval
                } else {
                    self.end
                };
                (self.start, end)
            }
        };
        let end = ref_end - off;
        let lower = ref_start - off - range;
        let mut start = interval * (lower / interval);
        if start <= lower {
            start += interval;
        }
        (start, end, interval, off, at)
    }

    /// Evaluates a subquery's inner expression over its own steps.
    pub(crate) fn eval_subquery(&self, sq: &SubqueryExpr) -> EResult<Vec<ESeries>> {
        let (start, end, interval, _, _) = self.subquery_range(sq);
        if end >= start && ((end - start) / interval) as u128 >= self.ctx.opts.max_samples as u128 {
            // Every step would hold at least one sample.
            return Err(PromqlError::TooManySamples(self.ctx.opts.max_samples));
        }
        let child = self.child(start, end, interval);
        child.eval_vector(&sq.expr)
    }

    /// A subquery as a range argument of a function.
    pub(crate) fn subquery_arg(&self, sq: &SubqueryExpr) -> EResult<RangeArg<'a>> {
        let (_, _, _, off, at) = self.subquery_range(sq);
        let mut series = self.eval_subquery(sq)?;
        // As Prometheus does: explicit counter reset hints may be repeated or
        // missed by the subquery's steps, so they become "unknown".
        for s in &mut series {
            for p in &mut s.hists {
                if matches!(
                    p.h.counter_reset_hint,
                    CounterResetHint::CounterReset | CounterResetHint::NotCounterReset
                ) {
                    Arc::make_mut(&mut p.h).counter_reset_hint = CounterResetHint::Unknown;
                }
            }
        }
        Ok(RangeArg {
            series: RangeSeries::Evaluated(series),
            range_ms: sq.range.as_millis() as i64,
            offset_ms: off,
            at_ms: at,
            modifier: Modifier::None,
            extra_before_ms: 0,
            extra_after_ms: 0,
        })
    }

    /// A range argument given as an expression (range selector or subquery, possibly in parentheses).
    pub(crate) fn range_arg(&self, e: &Expr) -> EResult<RangeArg<'a>> {
        match e {
            Expr::MatrixSelector(ms) => self.range_selector(ms),
            Expr::Subquery(sq) => self.subquery_arg(sq),
            Expr::Paren(p) => self.range_arg(&p.expr),
            _ => Err(exec_err("expected a range vector argument")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arg(points: Vec<Sample>, range_ms: i64) -> RangeArg<'static> {
        RangeArg {
            series: RangeSeries::Evaluated(vec![ESeries {
                labels: Arc::new(argus_model::Labels::default()),
                drop_name: false,
                points,
                hists: Vec::new(),
            }]),
            range_ms,
            offset_ms: 0,
            at_ms: None,
            modifier: Modifier::None,
            extra_before_ms: 0,
            extra_after_ms: 0,
        }
    }

    proptest! {
        /// The cursor gives the same windows as searching from scratch,
        /// for steps small and large against the sample spacing, and
        /// when a step goes back.
        #[test]
        fn window_from_matches_window(
            gaps in proptest::collection::vec(1i64..40, 0..200),
            steps in proptest::collection::vec(-30i64..300, 1..60),
            range_ms in 1i64..200,
        ) {
            let mut t = 0;
            let points: Vec<Sample> = gaps.iter().map(|g| { t += g; Sample::new(t, 1.0) }).collect();
            let a = arg(points, range_ms);
            let (series, _) = a.load(0).unwrap();
            let mut c = WindowCursor::default();
            let mut ts = 0;
            for s in steps {
                ts += s;
                let want = a.window(&series, ts);
                let got = a.window_from(&series, ts, &mut c);
                prop_assert_eq!(got.as_ptr_range(), want.as_ptr_range());
            }
        }
    }
}
