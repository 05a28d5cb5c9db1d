//! TraceQL metrics (`{ … } | rate() by (…)`): the spans a query's pipeline
//! selects, trace by trace, counted or measured per time step and per
//! `by (…)` group, with Tempo's semantics (see the crate documentation).

mod func;
mod intervals;
mod log2;
mod topk;

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use argus_model::traces::Span;

use super::field::Regexes;
use super::{eval_on, validate, EvalError, TraceView, Value};
use crate::ast::{Field, Pipeline, Query, SecondStage};
use func::{number, Acc, Func, Measure};
use intervals::Intervals;
use log2::Histogram;

/// Series a [`MetricsEvaluator`] makes at most unless told otherwise
/// ([`MetricsRequest::max_series`]).
pub const DEFAULT_MAX_METRICS_SERIES: usize = 10_000;

/// Most steps a [`MetricsRequest`] may have (as Prometheus' 11,000 points).
pub const MAX_METRICS_STEPS: u64 = 11_000;

/// Most values (series × steps) kept: the series limit is lowered to this
/// over the steps, to bound memory whatever the request.
const MAX_METRICS_POINTS: usize = 20_000_000;

/// Most `by (…)` fields, as in Tempo (one less for `quantile_over_time`
/// and `histogram_over_time`, whose bucket takes a place).
const MAX_GROUP_BYS: usize = 5;

/// The time range and steps of a metrics query, in Unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsRequest {
    /// Start of the range.
    pub start_ns: i64,
    /// End of the range.
    pub end_ns: i64,
    /// Length of a step (> 0); for an instant request, `end - start`.
    pub step_ns: i64,
    /// One step covering `[start, end]`, stamped `end`.
    pub instant: bool,
    /// The most series the query may make ([`EvalError::TooManySeries`]
    /// beyond); lowered when needed so that series × steps stays under 20
    /// million.
    pub max_series: usize,
}

impl MetricsRequest {
    /// A range request: steps of `step_ns` from `start_ns` rounded down to
    /// `end_ns` rounded up (to multiples of the step), each closed on the
    /// right and stamped with its end, as Tempo's engine maps them.
    pub fn range(start_ns: i64, end_ns: i64, step_ns: i64) -> Self {
        MetricsRequest {
            start_ns,
            end_ns,
            step_ns,
            instant: false,
            max_series: DEFAULT_MAX_METRICS_SERIES,
        }
    }

    /// An instant request: one step, `[start_ns, end_ns]`.
    pub fn instant(start_ns: i64, end_ns: i64) -> Self {
        MetricsRequest {
            step_ns: end_ns.saturating_sub(start_ns),
            instant: true,
            ..MetricsRequest::range(start_ns, end_ns, 0)
        }
    }

    /// The same with another series limit.
    pub fn with_max_series(self, max_series: usize) -> Self {
        MetricsRequest { max_series, ..self }
    }

    /// The request as Tempo's query frontend passes it on: the start rounded
    /// down to a step then one step earlier (so that the first sample,
    /// stamped at the original start, covers the step before it), the end
    /// rounded up. Instant requests, and requests that would overflow, are
    /// unchanged.
    pub fn aligned_like_tempo(self) -> Self {
        if self.instant || self.step_ns <= 0 {
            return self;
        }
        let start = intervals::align_down(self.start_ns, self.step_ns)
            .and_then(|s| s.checked_sub(self.step_ns));
        let end = intervals::align_up(self.end_ns, self.step_ns);
        match (start, end) {
            (Some(start_ns), Some(end_ns)) => MetricsRequest {
                start_ns,
                end_ns,
                ..self
            },
            _ => self,
        }
    }

    /// Tempo's default step for a range: about 240 points, rounded down to
    /// a multiple of 1h, 5m, 1m, 15s, 5s or 1s (the largest below the
    /// exact step), at least 1s; under a minute, a multiple of 50ms.
    pub fn default_step_ns(start_ns: i64, end_ns: i64) -> i64 {
        const MS: i64 = 1_000_000;
        const S: i64 = 1000 * MS;
        let delta = end_ns.saturating_sub(start_ns).max(0);
        let exact = delta / 240;
        if delta < 60 * S {
            let g = 50 * MS;
            return if exact > g { exact / g * g } else { g };
        }
        [3600 * S, 300 * S, 60 * S, 15 * S, 5 * S, S]
            .into_iter()
            .find(|&g| exact > g)
            .map_or(S, |g| exact / g * g)
    }
}

/// One series of a metrics query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSeries {
    /// Labels, named as Tempo names them: the `by (…)` fields as written
    /// (`resource.service.name`) with their values, those without a value
    /// left out; `__bucket` (the bucket's upper bound) for
    /// `histogram_over_time`; `p` (the quantile) for `quantile_over_time`;
    /// `__name__` (the function's name) for a function without `by`.
    pub labels: Vec<(String, Value)>,
    /// `(time in Unix milliseconds, value)`, one per step with a value, in
    /// time order.
    pub samples: Vec<(i64, f64)>,
}

/// A series while accumulating: its `by` values, its bucket
/// (`histogram_over_time`), its values.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    by: Vec<Value>,
    bucket: Option<f64>,
    acc: Acc,
}

/// Computes a metrics query over traces fed one by one: the query's
/// pipeline selects spans in each trace ([`eval_pipeline`]'s semantics),
/// each selected span counts in the step holding its **start** time and in
/// the series of its `by (…)` values, as in Tempo.
///
/// ```
/// use argus_model::traces::{Span, SpanOrigin, Attr};
/// use argus_traceql::{MetricsEvaluator, MetricsRequest, Value};
/// use std::sync::Arc;
/// const S: i64 = 1_000_000_000;
/// let api = Arc::new(SpanOrigin::new(vec![Attr::str("service.name", "api")]));
/// let span = |start: i64| Span { origin: api.clone(), start_ns: start, end_ns: start + 1, ..Span::default() };
/// let q = argus_traceql::parse("{ } | count_over_time() by (resource.service.name)")?;
/// let mut m = MetricsEvaluator::new(&q, MetricsRequest::range(0, 20 * S, 10 * S)).expect("valid");
/// m.observe(&[span(S), span(2 * S)]).expect("evaluates");
/// m.observe(&[span(15 * S)]).expect("evaluates");
/// let series = m.finish();
/// assert_eq!(series[0].labels, [("resource.service.name".to_string(), Value::Str("api".into()))]);
/// assert_eq!(series[0].samples, [(10_000, 2.0), (20_000, 1.0)]);
/// # Ok::<(), argus_traceql::ParseError>(())
/// ```
///
/// [`eval_pipeline`]: crate::eval_pipeline
#[derive(Debug)]
pub struct MetricsEvaluator {
    pipeline: Pipeline,
    regexes: Regexes,
    func: Func,
    by: Vec<Field>,
    second: Option<SecondStage>,
    intervals: Intervals,
    max_series: usize,
    series: HashMap<String, Series>,
}

impl MetricsEvaluator {
    /// Prepares `query` (which must have a metrics function) for `req`.
    ///
    /// Errors: [`EvalError::Invalid`] for a query without a metrics
    /// function, a quantile outside `[0, 1]`, `topk(0)`, a bad request (end
    /// not after start, step not positive); [`EvalError::Unsupported`] for
    /// `compare()` and more `by` fields than Tempo takes (5, or 4 with
    /// `quantile_over_time` and `histogram_over_time`);
    /// [`EvalError::TooManySteps`]; and the pipeline's own errors.
    pub fn new(query: &Query, req: MetricsRequest) -> Result<Self, EvalError> {
        let Some(stage) = &query.metrics else {
            return Err(EvalError::Invalid(
                "the query has no metrics function (`| rate()`…)".to_string(),
            ));
        };
        let func = Func::new(&stage.function)?;
        let max_by = match func {
            Func::Quantile(..) | Func::Histogram(_) => MAX_GROUP_BYS - 1,
            _ => MAX_GROUP_BYS,
        };
        if stage.by.len() > max_by {
            return Err(EvalError::Unsupported(format!(
                "metrics grouped by {} fields (at most {max_by} with {})",
                stage.by.len(),
                func.name()
            )));
        }
        if let Some(SecondStage::TopK(0) | SecondStage::BottomK(0)) = query.second_stage {
            return Err(EvalError::Invalid(
                "topk and bottomk take a limit greater than 0".to_string(),
            ));
        }
        if let Some(f) = func.field() {
            validate::field(f, "metrics functions")?;
        }
        for f in &stage.by {
            validate::field(f, "by()")?;
        }
        let regexes = Regexes::default();
        validate::pipeline(&query.pipeline, &regexes)?;
        let intervals = Intervals::new(&req)?;
        let max_series = req
            .max_series
            .min(MAX_METRICS_POINTS / intervals.count().max(1));
        Ok(MetricsEvaluator {
            pipeline: query.pipeline.clone(),
            regexes,
            func,
            by: stage.by.clone(),
            second: query.second_stage,
            intervals,
            max_series,
            series: HashMap::new(),
        })
    }

    /// Feeds the spans of one trace (all of them, or a part: the pipeline
    /// sees only these). A span selected by several spansets counts once;
    /// spans starting outside the request's steps are ignored, and so are
    /// spans without the measured value (`min_over_time(span.x)` and no
    /// `x`, or none that `quantile_over_time`/`histogram_over_time` can
    /// bucket: durations and integers from 2 up).
    ///
    /// [`EvalError::TooManySeries`] when a new series would pass the limit
    /// (the spans before it in this call are counted: drop the evaluator).
    pub fn observe(&mut self, spans: &[Span]) -> Result<(), EvalError> {
        let view = TraceView::new(spans);
        let sets = eval_on(&view, &self.pipeline, &self.regexes, &[])?;
        let mut chosen: Vec<usize> = sets.into_iter().flat_map(|s| s.spans).collect();
        chosen.sort_unstable();
        chosen.dedup();
        for i in chosen {
            let Some(step) = spans.get(i).and_then(|s| self.intervals.index(s.start_ns)) else {
                continue;
            };
            let Some(m) = self.measure(&view, i) else {
                continue;
            };
            let by = self.by.iter().map(|f| view.field_value(i, f)).collect();
            self.record(by, m, step)?;
        }
        Ok(())
    }

    /// What span `i` contributes; `None` when it has no value to measure.
    fn measure(&self, view: &TraceView<'_>, i: usize) -> Option<Measure> {
        let Some(field) = self.func.field() else {
            return Some(Measure::One);
        };
        let v = view.field_value(i, field);
        match self.func {
            Func::Quantile(..) | Func::Histogram(_) => log2::bucket_of(&v).map(Measure::Bucket),
            _ => number(&v).map(Measure::Num),
        }
    }

    fn record(&mut self, by: Vec<Value>, m: Measure, step: usize) -> Result<(), EvalError> {
        let bucket = match (m, &self.func) {
            (Measure::Bucket(b), Func::Histogram(_)) => Some(b),
            _ => None,
        };
        // Debug tells types apart (`Int(1)`, `Str("1")`).
        let key = format!("{by:?}{bucket:?}");
        let fresh = self.series.len().saturating_add(1);
        let series = match self.series.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                if fresh.saturating_mul(self.func.fan_out()) > self.max_series {
                    return Err(EvalError::TooManySeries {
                        limit: self.max_series,
                    });
                }
                e.insert(Series {
                    by,
                    bucket,
                    acc: Acc::new(&self.func, self.intervals.count()),
                })
            }
        };
        series.acc.add(step, m);
        Ok(())
    }

    /// The series, sorted by labels, after `topk`/`bottomk` if the query
    /// has one. A step without a value has no sample, except that counts
    /// (`rate`, `count_over_time`, `histogram_over_time`) are 0 and
    /// quantiles 0 in the steps where their series has no span, as Tempo
    /// gives them; a series without samples is left out.
    pub fn finish(mut self) -> Vec<MetricsSeries> {
        let steps = self.intervals.count();
        let mut out: Vec<Dense> = Vec::new();
        for s in std::mem::take(&mut self.series).into_values() {
            let mut labels: Vec<(String, Value)> = self
                .by
                .iter()
                .zip(s.by)
                .filter(|(_, v)| *v != Value::Nil)
                .map(|(f, v)| (f.to_string(), v))
                .collect();
            if let Some(b) = s.bucket {
                labels.push(("__bucket".to_string(), Value::Float(b)));
            }
            match (s.acc, &self.func) {
                (Acc::Hist(mut hists), Func::Quantile(_, qs)) => {
                    hists.iter_mut().for_each(Histogram::sort);
                    for &q in qs {
                        let mut labels = labels.clone();
                        labels.push(("p".to_string(), Value::Float(q)));
                        let values = hists
                            .iter()
                            .map(|h| {
                                if h.is_empty() {
                                    0.0
                                } else {
                                    log2::quantile(q, h.buckets())
                                }
                            })
                            .collect();
                        out.push(Dense { labels, values });
                    }
                }
                (acc, func) => {
                    if labels.is_empty() {
                        // Tempo's placeholders: the function's name without
                        // `by`, else the first field, nil.
                        labels.push(match self.by.first() {
                            None => ("__name__".to_string(), Value::Str(func.name().to_string())),
                            Some(f) => (f.to_string(), Value::Nil),
                        });
                    }
                    let values = self.values(acc);
                    out.push(Dense { labels, values });
                }
            }
        }
        out = match self.second {
            Some(SecondStage::TopK(n)) => topk::top_or_bottom(out, to_usize(n), true, steps),
            Some(SecondStage::BottomK(n)) => topk::top_or_bottom(out, to_usize(n), false, steps),
            None => out,
        };
        out.sort_by(|a, b| cmp_labels(&a.labels, &b.labels));
        out.into_iter()
            .filter_map(|d| {
                let samples: Vec<(i64, f64)> = d
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_nan())
                    .map(|(i, v)| (self.intervals.timestamp_ms(i), *v))
                    .collect();
                (!samples.is_empty()).then_some(MetricsSeries {
                    labels: d.labels,
                    samples,
                })
            })
            .collect()
    }

    /// The value per step of a series (NaN for none).
    fn values(&self, acc: Acc) -> Vec<f64> {
        match acc {
            Acc::Count(v) => {
                let per = match self.func {
                    Func::Rate => self.intervals.step_seconds(),
                    _ => 1.0,
                };
                v.into_iter().map(|c| c as f64 / per).collect()
            }
            Acc::Min(v) | Acc::Max(v) | Acc::Sum(v) => v,
            Acc::Avg(v) => v
                .into_iter()
                .map(|(s, n)| if n == 0 { f64::NAN } else { s / n as f64 })
                .collect(),
            Acc::Hist(_) => Vec::new(),
        }
    }
}

/// A finished series, a value per step.
#[derive(Debug, Clone, PartialEq)]
struct Dense {
    labels: Vec<(String, Value)>,
    values: Vec<f64>,
}

impl topk::Ranked for Dense {
    fn cmp_labels(&self, other: &Self) -> Ordering {
        cmp_labels(&self.labels, &other.labels)
    }

    fn values(&self) -> &[f64] {
        &self.values
    }

    fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Orders label lists: by name, then value (numbers by value, strings
/// alphabetically, other types by their text), then length.
fn cmp_labels(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((na, va), (nb, vb)) in a.iter().zip(b) {
        let o = na.cmp(nb).then_with(|| cmp_values(va, vb));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => format!("{a:?}").cmp(&format!("{b:?}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_steps_follow_tempo() {
        const S: i64 = 1_000_000_000;
        assert_eq!(MetricsRequest::default_step_ns(0, 3600 * S), 15 * S);
        assert_eq!(MetricsRequest::default_step_ns(0, 24 * 3600 * S), 300 * S);
        assert_eq!(MetricsRequest::default_step_ns(0, 30 * S), 100_000_000);
        assert_eq!(MetricsRequest::default_step_ns(0, S), 50_000_000);
        assert_eq!(MetricsRequest::default_step_ns(0, 120 * S), S);
    }

    #[test]
    fn tempo_alignment_adds_a_step_before_the_start() {
        const S: i64 = 1_000_000_000;
        let r = MetricsRequest::range(65 * S, 125 * S, 60 * S).aligned_like_tempo();
        assert_eq!((r.start_ns, r.end_ns), (0, 180 * S));
        let i = MetricsRequest::instant(65 * S, 125 * S);
        assert_eq!(i.aligned_like_tempo(), i);
    }
}
