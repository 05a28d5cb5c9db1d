//! TraceQL, the trace query language of Grafana Tempo: a parser to a typed
//! AST, a printer back to text, errors that say where and what was
//! expected, and an evaluator over the spans of a trace.
//!
//! ```
//! let q = argus_traceql::parse(r#"{ span.http.status_code >= 500 } | rate() by (resource.service.name)"#)?;
//! assert_eq!(q.to_string(), r#"{ span.http.status_code >= 500 } | rate() by (resource.service.name)"#);
//! # Ok::<(), argus_traceql::ParseError>(())
//! ```
//!
//! # The AST
//!
//! A [`Query`] is a [`Pipeline`] of [`Stage`]s, then optionally a metrics
//! function ([`MetricsStage`]: `rate()`, `quantile_over_time(…)`,
//! `compare(…)`… with `by (…)`), a [`SecondStage`] (`topk`/`bottomk`) and
//! [`Hint`]s (`with (most_recent=true)`).
//!
//! * A stage is a spanset expression ([`SpansetExpr`]: spanset filters
//!   `{ … }` joined by `&&`, `||` and the structural operators, or a
//!   parenthesized pipeline), a [`ScalarFilter`] (`count() > 2`,
//!   `avg(duration) > 1s`), `by(…)`, `select(…)` or `coalesce()`.
//! * Inside `{ … }` is a [`FieldExpr`]: [`Static`] values, [`Intrinsic`]s
//!   (`duration`, `span:name`…), [`Attribute`]s (`span.http.method`,
//!   `parent.resource.x`, `.foo`, `span."a b"`), unary and binary operators.
//!
//! Operators follow Tempo's precedence (loosest first): in spanset
//! expressions `&&` `||` then the structural operators; in field expressions
//! `&&` `||`, comparisons, `+ -`, prefix `! -`, `* / %`, `^`. `&&` and `||`
//! share one level and associate to the left, as in Tempo. Parentheses are not
//! kept: the printer ([`std::fmt::Display`]) puts back those the tree needs, so
//! that printing and parsing again gives the same tree. Durations are
//! nanoseconds (`i64`).
//!
//! # Evaluation
//!
//! [`eval_spansets`] runs a query over the spans of one trace (any order),
//! as Tempo does, and returns the matching [`SpanSet`]s (span indexes, the
//! values of `by(…)` and of aggregates, the `select(…)`ed fields); an empty
//! result means the trace does not match. [`TraceView`] builds the trace's
//! tree once (parents by span id, depth-first order, nested-set bounds) so
//! that every structural operator is O(n). [`required_values`] lists the
//! conditions a query's first filter implies (service, name, status, kind,
//! string attributes, duration bounds), for the storage layer to skip
//! segments.
//!
//! ```
//! use argus_model::traces::{Span, SpanOrigin, Attr};
//! use std::sync::Arc;
//! let api = Arc::new(SpanOrigin::new(vec![Attr::str("service.name", "api")]));
//! let root = Span { origin: api.clone(), span_id: [1; 8], name: "GET /".into(), ..Span::default() };
//! let child = Span { origin: api, span_id: [2; 8], parent_span_id: Some([1; 8]), name: "db".into(), ..Span::default() };
//! let q = argus_traceql::parse(r#"{ name = "GET /" } > { resource.service.name = "api" } | count() = 1"#)?;
//! let sets = argus_traceql::eval_spansets(&q, &[root, child]).expect("evaluates");
//! assert_eq!(sets[0].spans, [1]);
//! # Ok::<(), argus_traceql::ParseError>(())
//! ```
//!
//! Semantics are Tempo's:
//!
//! * Fields: the intrinsics (`duration`, `name`, `status`, `kind`,
//!   `statusMessage`, `childCount`, `traceDuration`, `rootName` and
//!   `rootServiceName` of the trace's root, `span:id`, `span:parentID` and
//!   `trace:id` as hex, the nested-set numbers, `event:…`, `link:…`,
//!   `instrumentation:…`), and attributes: `span.`, `resource.`
//!   (`resource.service.name` falls back to the origin's service), unscoped
//!   `.x` (span, then resource), `parent.…`, `instrumentation.`; `event.` and
//!   `link.` attributes make a span filter hold when it holds for one of the
//!   span's events (links).
//! * A missing attribute is nil: every comparison with it is false, `!=`
//!   included (`{ .a != 1 }` skips spans without `a`); `= nil` and `!= nil`
//!   test presence. Comparisons of mismatched types are false; ints, floats
//!   and durations compare as numbers. `=~` and `!~` are anchored at both
//!   ends. Against an array attribute, `=`, `=~` and orderings hold when an
//!   element satisfies them, `!=` and `!~` when all do.
//! * Spanset operators return the right-hand spans in the relation (`A > B`:
//!   the `B` spans whose parent is an `A` span), the negated forms those in
//!   it with no left-hand span, the `&` forms both ends; `A && B` and
//!   `A || B` the spans of both sides. Each applies to each spanset of its
//!   input; a structural operator with several spansets on one side (after
//!   `by()`) is an error, as in Tempo.
//! * Pipelines: `by()` splits spansets (nil being one value), a scalar
//!   filter keeps the spansets where it holds (an aggregate of nil values
//!   only drops the spanset), `coalesce()` merges them.
//!
//! Where the evaluator differs from Tempo, it is on purpose: `^` is
//! `lhs ^ rhs` (Tempo swaps its integer operands), a non-boolean operand of
//! `&&`/`||` counts as false, an integer division by zero is nil rather than
//! an error, a span whose parent is missing is the root of its subtree for
//! the structural operators (spans without a parent have no siblings), and
//! `status` compares with `ok`/`error`/`unset`
//! only. Query hints (`with (…)`) are ignored. Metrics functions are not
//! evaluated by [`eval_spansets`] (it refuses them with
//! [`EvalError::Unsupported`]) but by [`MetricsEvaluator`] (below); the
//! `parent` intrinsic is not supported; statically ill-typed queries
//! (`{ name = 1 }`) are [`EvalError::Invalid`].
//!
//! # Metrics
//!
//! [`MetricsEvaluator`] computes a metrics query (`{ … } | rate() by (…)`)
//! over traces fed one at a time, for a [`MetricsRequest`] (a time range
//! and a step, or an instant), into [`MetricsSeries`]. As Tempo does:
//!
//! * The query's pipeline selects spans in each trace (a span selected by
//!   several spansets counts once); each counts in the step holding its
//!   **start** time. A range request is widened to whole steps (start
//!   rounded down, end up); steps are closed on the right,
//!   `(t - step, t]`, and stamped with their end `t` (Unix milliseconds).
//!   An instant request has one step, `[start, end]`, stamped `end`.
//!   [`MetricsRequest::aligned_like_tempo`] adds the step before the start
//!   as Tempo's query frontend does; [`MetricsRequest::default_step_ns`] is
//!   Tempo's default step.
//! * `rate()` is the count over the step in seconds; `count_over_time()` the
//!   count; `min_over_time`, `max_over_time`, `avg_over_time`,
//!   `sum_over_time` measure a field, durations in seconds, integers and
//!   floats as they are; spans without a numeric value are skipped.
//! * `histogram_over_time(f)` counts spans by the power of two bounding
//!   their value (the smallest `2^k >= v`; values below 2 and floats are
//!   not counted), labelled `__bucket` with the bound (in seconds for
//!   durations). `quantile_over_time(f, q…)` reads each quantile from those
//!   buckets per step — rank `ceil(q · n)`, exponential interpolation within
//!   the bucket where it falls — one series per quantile, labelled `p`.
//! * Labels are the `by (…)` fields as written, with their values; a
//!   missing value leaves its label out (a span without any of them gets the
//!   first label with the value nil, except with a `__bucket` or `p` label);
//!   without `by`, the series is labelled `__name__` with the function's
//!   name.
//! * Counts (and quantiles) are 0 in the steps where their series has no
//!   span; the other functions have no sample there. Series without samples
//!   are left out. `topk(n)`/`bottomk(n)` keep, at each step, the `n`
//!   largest (smallest) values, ties going to the series whose labels sort
//!   last (first).
//!
//! Differences: `compare()` is [`EvalError::Unsupported`]; no exemplars;
//! all durations are measured in seconds (Tempo gives nanoseconds for
//! duration attributes other than `duration`, such as `traceDuration`);
//! spans without the measured value are skipped (in Tempo such a span makes
//! `sum_over_time` lose the step's running sum); spans starting outside the request make
//! no series; going past the series limit is [`EvalError::TooManySeries`]
//! (Tempo truncates). Results are sorted by labels.
//!
//! # Limits
//!
//! Query text is untrusted: a query longer than [`MAX_QUERY_LEN`] bytes or
//! nested more than [`MAX_DEPTH`] levels (parentheses, operators, pipelines)
//! is refused with an error, and no input makes the parser panic or overflow
//! its stack. Evaluation is bounded likewise: structural operators are
//! linear in the trace's spans, deep expressions evaluate on a grown stack,
//! regexes are compiled once per query (Rust's `regex`: linear time). A
//! metrics query keeps at most [`MetricsRequest::max_series`] series
//! ([`DEFAULT_MAX_METRICS_SERIES`] by default, fewer when the request has
//! many steps, so that series × steps stays under 20 million) and
//! [`MAX_METRICS_STEPS`] steps.

mod ast;
mod eval;
mod expr;
mod lexer;
mod parser;
mod print;
pub mod search;

pub use argus_model::ParseError;
pub use ast::*;
pub use eval::{
    eval_pipeline, eval_spansets, reads_span_attributes, required_values, EvalError,
    MetricsEvaluator, MetricsRequest, MetricsSeries, Requirement, SpanSet, TraceView, Value,
    DEFAULT_MAX_METRICS_SERIES, MAX_METRICS_STEPS,
};

/// Longest query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 128 * 1024;

/// Deepest nesting accepted: each level of parentheses or braces and each
/// operator of a chain (`a + b + c` is two) counts one.
pub const MAX_DEPTH: usize = 1000;

/// Parses a TraceQL query.
pub fn parse(query: &str) -> Result<Query, ParseError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(ParseError::TooLong {
            len: query.len(),
            limit: MAX_QUERY_LEN,
        });
    }
    let toks = lexer::tokenize(query)?;
    parser::Parser::new(query, toks).parse_query()
}

impl std::str::FromStr for Query {
    type Err = ParseError;

    /// [`parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}
