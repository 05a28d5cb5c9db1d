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
//! evaluated here ([`eval_spansets`] refuses them with
//! [`EvalError::Unsupported`]; [`eval_pipeline`] selects their spans), nor is
//! the `parent` intrinsic; statically ill-typed queries (`{ name = 1 }`) are
//! [`EvalError::Invalid`].
//!
//! # Limits
//!
//! Query text is untrusted: a query longer than [`MAX_QUERY_LEN`] bytes or
//! nested more than [`MAX_DEPTH`] levels (parentheses, operators, pipelines)
//! is refused with an error, and no input makes the parser panic or overflow
//! its stack. Evaluation is bounded likewise: structural operators are
//! linear in the trace's spans, deep expressions evaluate on a grown stack,
//! regexes are compiled once per query (Rust's `regex`: linear time).

mod ast;
mod eval;
mod expr;
mod lexer;
mod parser;
mod print;

pub use argus_model::ParseError;
pub use ast::*;
pub use eval::{
    eval_pipeline, eval_spansets, required_values, EvalError, MetricsEvaluator, MetricsRequest,
    MetricsSeries, Requirement, SpanSet, TraceView, Value, DEFAULT_MAX_METRICS_SERIES,
    MAX_METRICS_STEPS,
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
