//! Evaluation of a query's spanset pipeline over one trace, with Tempo's
//! semantics (see the crate documentation).

mod field;
mod metrics;
mod pipeline;
mod reads;
mod requirements;
mod structural;
mod trace;
mod validate;
mod value;

pub use metrics::{
    MetricsEvaluator, MetricsRequest, MetricsSeries, DEFAULT_MAX_METRICS_SERIES, MAX_METRICS_STEPS,
};
pub use reads::reads_span_attributes;
pub use requirements::{required_values, Requirement};
pub use trace::TraceView;
pub use value::Value;

use argus_model::traces::Span;

use crate::ast::{Field, Pipeline, Query};
use field::{Env, Regexes};
use pipeline::Set;

/// Why a query cannot be evaluated. Except [`EvalError::MultipleSpansets`],
/// errors do not depend on the trace: they are found before evaluating.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A construct the evaluator does not implement (named in the message).
    #[error("unsupported in TraceQL evaluation: {0}")]
    Unsupported(String),
    /// A query that cannot hold for any span, such as `{ 1 + 1 }` or
    /// `{ duration = "x" }`.
    #[error("invalid TraceQL query: {0}")]
    Invalid(String),
    /// A regular expression of the query does not compile.
    #[error("invalid regex {pattern:?}: {reason}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// The regex engine's complaint.
        reason: String,
    },
    /// A structural operator with several spansets on one side (after
    /// `by()`), which Tempo refuses too.
    #[error(
        "spanset operators are not supported for multiple spansets per trace; consider using coalesce()"
    )]
    MultipleSpansets,
    /// A metrics query would make more series than its limit
    /// ([`MetricsRequest::max_series`]).
    #[error("the metrics query makes more than {limit} series")]
    TooManySeries {
        /// The limit.
        limit: usize,
    },
    /// A metrics request with more steps than [`MAX_METRICS_STEPS`].
    #[error("the metrics request has {steps} steps, more than {limit}")]
    TooManySteps {
        /// The steps of the request.
        steps: u64,
        /// The limit.
        limit: u64,
    },
}

/// One spanset of a trace's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanSet {
    /// Indexes of the spans into the evaluated slice, ascending, distinct.
    pub spans: Vec<usize>,
    /// Values reported for the spanset, in order of the stages that set
    /// them: `by(…)` keys named as written (`by(resource.service.name)`)
    /// and aggregates of scalar filters (`count()`, `avg(duration)`).
    pub attrs: Vec<(String, Value)>,
    /// For each span of `spans`, the `select(…)`ed fields it has (named as
    /// written, e.g. `span.http.url`; missing ones left out). Empty when the
    /// query has no `select`.
    pub selected: Vec<Vec<(String, Value)>>,
}

/// Evaluates a spanset query over the spans of one trace (any order). An
/// empty result means the trace does not match.
///
/// A query with a metrics function (`| rate()`…) is refused with
/// [`EvalError::Unsupported`]: its spans are selected by
/// [`eval_pipeline`] on `query.pipeline`, the metrics computed apart.
pub fn eval_spansets(query: &Query, spans: &[Span]) -> Result<Vec<SpanSet>, EvalError> {
    if let Some(m) = &query.metrics {
        return Err(EvalError::Unsupported(format!(
            "the metrics function `{m}` (evaluate the spanset pipeline with eval_pipeline and \
             compute the metrics separately)"
        )));
    }
    eval_pipeline(&query.pipeline, spans)
}

/// Evaluates a spanset pipeline (the part of a query before any metrics
/// function) over the spans of one trace.
pub fn eval_pipeline(pipeline: &Pipeline, spans: &[Span]) -> Result<Vec<SpanSet>, EvalError> {
    let regexes = Regexes::default();
    let selects = validate::pipeline(pipeline, &regexes)?;
    let view = TraceView::new(spans);
    eval_on(&view, pipeline, &regexes, &selects)
}

impl TraceView<'_> {
    /// [`eval_pipeline`] on this trace (to evaluate several queries over
    /// one trace without building its tree again).
    pub fn eval(&self, pipeline: &Pipeline) -> Result<Vec<SpanSet>, EvalError> {
        let regexes = Regexes::default();
        let selects = validate::pipeline(pipeline, &regexes)?;
        eval_on(self, pipeline, &regexes, &selects)
    }

    /// The value of `field` for span `i` (an index into the spans): what
    /// `select(field)` reports.
    pub fn field_value(&self, i: usize, field: &Field) -> Value {
        if i >= self.len() {
            return Value::Nil;
        }
        let regexes = Regexes::default();
        Env {
            view: self,
            regexes: &regexes,
        }
        .field(field, i)
        .to_value()
    }
}

fn eval_on(
    view: &TraceView<'_>,
    pipeline: &Pipeline,
    regexes: &Regexes,
    selects: &[Field],
) -> Result<Vec<SpanSet>, EvalError> {
    if view.is_empty() {
        return Ok(Vec::new());
    }
    let env = Env { view, regexes };
    let all = Set {
        spans: (0..view.len()).collect(),
        attrs: Vec::new(),
    };
    let sets = env.pipeline(pipeline, vec![all])?;
    Ok(sets
        .into_iter()
        .filter(|s| !s.spans.is_empty())
        .map(|s| {
            let selected = if selects.is_empty() {
                Vec::new()
            } else {
                s.spans
                    .iter()
                    .map(|&i| {
                        selects
                            .iter()
                            .map(|f| (f.to_string(), env.field(f, i).to_value()))
                            .filter(|(_, v)| *v != Value::Nil)
                            .collect()
                    })
                    .collect()
            };
            SpanSet {
                spans: s.spans,
                attrs: s.attrs,
                selected,
            }
        })
        .collect())
}
