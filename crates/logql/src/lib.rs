//! LogQL, the query language of Grafana Loki: a parser to a typed AST, a
//! printer back to text (for `/loki/api/v1/format_query`), and errors that
//! say where and what was expected.
//!
//! ```
//! let q = argus_logql::parse(r#"sum by (level) (count_over_time({job="x"} | json [1m]))"#)?;
//! assert_eq!(q.to_string(), r#"sum by (level) (count_over_time({job="x"} | json [1m]))"#);
//! # Ok::<(), argus_logql::ParseError>(())
//! ```
//!
//! # The AST
//!
//! [`Expr`] is a log query ([`LogExpr`]) or a metric query ([`MetricExpr`]).
//!
//! * A log query is a stream selector (label [`Matcher`]s) and a pipeline:
//!   [`Stage`]s an evaluator applies to each line in order — line filters,
//!   parsers ([`LogParser`]), label filters ([`LabelFilter`]: a tree of
//!   `And`/`Or` over comparisons of strings, numbers, durations, byte sizes
//!   and IPs), `line_format`, `label_format`, `drop`, `keep`, `decolorize`.
//! * A metric query is a tree of [`MetricExpr`]: range aggregations
//!   ([`RangeAggregation`]) over a [`LogRange`] — a log query, a window, an
//!   optional offset and an optional [`Unwrap`] that makes a label the sample
//!   value — and, above them, vector aggregations, binary operations (with
//!   PromQL's precedence, `bool` and vector matching), number literals,
//!   `vector(n)` and `label_replace`.
//!
//! Parentheses are not kept: the tree's shape holds the grouping and the
//! printer ([`std::fmt::Display`]) puts back those it needs, so that printing
//! and parsing again gives the same tree. Durations are nanoseconds (`i64`),
//! numbers `f64`, byte sizes `u64`.
//!
//! # Evaluation
//!
//! [`engine::Engine::execute`] runs a query over an
//! [`argus_store::LogsReader`] for a tenant and returns an
//! [`engine::QueryResult`] (streams, matrix, vector or scalar) and
//! [`engine::Stats`]; [`json::encode_response`] writes Loki's HTTP response
//! body for them (with the `categorize-labels` encoding when asked).
//! Evaluation is blocking: call it from a blocking thread. Failures are an
//! [`engine::EvalError`]: parse errors, bad queries, limits (Loki's
//! `max_entries_limit_per_query` 5000 and `max_query_series` 500 by default)
//! and pipeline errors are client errors (HTTP 400,
//! [`engine::EvalError::is_client_error`]); storage failures carry the
//! store's [`argus_store::StorageError`]; timeouts have their own kind.
//!
//! Log queries read [start, end) and keep the `limit` newest (`Backward`) or
//! oldest entries, telling the cursor when older (newer) entries are no
//! longer needed. Metric queries are evaluated in one pass over the entries:
//! each entry is added to the steps whose window `(t - offset - range, t -
//! offset]` holds it, so memory is series × steps.
//!
//! # Limits
//!
//! Query text is untrusted: a query longer than [`MAX_QUERY_LEN`] bytes or
//! nested more than [`MAX_DEPTH`] levels (parentheses, calls, operators) is
//! refused with an error, and no input makes the parser panic or overflow its
//! stack.

mod ast;
pub mod engine;
pub mod json;
mod lexer;
mod parser;
mod pipeline;
mod print;
mod units;

pub use argus_model::ParseError;
pub use ast::*;

/// Longest query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 128 * 1024;

/// Deepest nesting accepted: each level of parentheses, each function call
/// and each operator of a chain (`a + b + c` is two) counts one.
pub const MAX_DEPTH: usize = 1000;

/// Parses a LogQL query as Loki's query endpoints do: the grammar, plus the
/// checks Loki makes once the query is parsed — every stream selector needs a
/// matcher that does not match the empty string (`{app=~".*"}` is refused),
/// and `sort`/`sort_desc` take no grouping labels.
pub fn parse(query: &str) -> Result<Expr, ParseError> {
    parse_with(query, true)
}

/// Parses a LogQL query by the grammar alone, without the checks [`parse`]
/// adds after it (as Loki's `ParseLogSelector(…, validate=false)`): for tools
/// that handle query fragments, e.g. `{label=""}`.
pub fn parse_syntax(query: &str) -> Result<Expr, ParseError> {
    parse_with(query, false)
}

fn parse_with(query: &str, validate: bool) -> Result<Expr, ParseError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(ParseError::TooLong {
            len: query.len(),
            limit: MAX_QUERY_LEN,
        });
    }
    let toks = lexer::tokenize(query)?;
    parser::Parser::new(query, toks, validate).parse_query()
}

impl std::str::FromStr for Expr {
    type Err = ParseError;

    /// [`parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}
