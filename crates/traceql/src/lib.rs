//! TraceQL, the trace query language of Grafana Tempo: a parser to a typed
//! AST, a printer back to text, and errors that say where and what was
//! expected.
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
//! # Limits
//!
//! Query text is untrusted: a query longer than [`MAX_QUERY_LEN`] bytes or
//! nested more than [`MAX_DEPTH`] levels (parentheses, operators, pipelines)
//! is refused with an error, and no input makes the parser panic or overflow
//! its stack.

mod ast;
mod expr;
mod lexer;
mod parser;
mod print;

pub use argus_model::ParseError;
pub use ast::*;

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
