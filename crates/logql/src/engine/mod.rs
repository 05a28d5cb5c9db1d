//! The LogQL evaluation engine: log queries (streams) and metric queries
//! (matrices, vectors, scalars) over a [`LogsReader`], following Loki's
//! behaviour.
//!
//! [`Engine::execute`] runs one query ([`QueryParams`]) and returns a
//! [`QueryResult`] and [`Stats`]; [`crate::json::encode_response`] turns them
//! into Loki's HTTP response body.

mod fields;
mod gotime;
mod json;
mod labels;
mod logs;
mod metric;
mod parsers;
mod pattern;
mod pipeline;
mod range;
mod template;
mod tplparse;

/// A small deterministic generator for the engine's randomised tests.
#[cfg(test)]
pub(crate) mod test_rng {
    /// xorshift64.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        pub(crate) fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
            v[(self.next() % v.len() as u64) as usize]
        }
    }
}

pub use fields::JsonColumns;
pub use labels::{Category, EntryLabels, Pairs, ERROR_DETAILS_LABEL, ERROR_LABEL};
pub use pipeline::{run_pipeline, Pipeline};
pub use template::{Template, TemplateError};

use crate::ast::Expr;
use argus_model::TenantId;
pub use argus_store::Direction;
use argus_store::{LogsReader, ScanStats, StorageError};
use std::time::{Duration, Instant};

/// Loki's default `max_entries_limit_per_query`.
pub const DEFAULT_MAX_ENTRIES_LIMIT: usize = 5000;
/// Loki's default `max_query_series`.
pub const DEFAULT_MAX_SERIES: usize = 500;
/// Loki's default `limit` for log queries.
pub const DEFAULT_LIMIT: usize = 100;
/// Most points a range query may return per series (Loki's 11,000).
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Why a query failed. [`EvalError::is_client_error`] tells the HTTP layer
/// whether to answer 400 (Loki answers 400 for parse errors, limits and
/// pipeline errors).
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The query text does not parse.
    #[error(transparent)]
    Parse(#[from] crate::ParseError),
    /// The query parses but cannot run (bad regex, template, step…).
    #[error("{0}")]
    BadQuery(String),
    /// A construct this engine does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A limit was reached (series, entries, points).
    #[error("{0}")]
    Limit(String),
    /// A metric query met a line whose pipeline set `__error__`.
    #[error("{0}")]
    Pipeline(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The query ran longer than the engine's timeout.
    #[error("query timed out after {0:?}")]
    Timeout(Duration),
}

impl EvalError {
    /// True for errors caused by the query (answer 400), false for storage
    /// failures and timeouts.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, EvalError::Storage(_) | EvalError::Timeout(_))
    }
}

/// One query: what Loki's `/query_range` and `/query` take.
#[derive(Debug, Clone)]
pub struct QueryParams {
    /// The LogQL text.
    pub query: String,
    /// Start, ns (inclusive).
    pub start_ns: i64,
    /// End, ns (exclusive for log queries, the last step for metric queries).
    pub end_ns: i64,
    /// Step of a range metric query, ns (ignored for instant queries).
    pub step_ns: i64,
    /// Log queries: return at most one entry per `interval` (0: all).
    pub interval_ns: i64,
    /// Log queries: most entries returned.
    pub limit: usize,
    /// Log queries: newest first (`Backward`) or oldest first.
    pub direction: Direction,
    /// An instant query (`/query`): one step at `start_ns` (= `end_ns`).
    pub instant: bool,
    /// `X-Loki-Response-Encoding-Flags: categorize-labels`: log streams are
    /// keyed by their stream labels only, entries carry metadata and parsed
    /// labels.
    pub categorize_labels: bool,
}

impl QueryParams {
    /// An instant query at `ts_ns`.
    pub fn instant(query: impl Into<String>, ts_ns: i64) -> Self {
        QueryParams {
            query: query.into(),
            start_ns: ts_ns,
            end_ns: ts_ns,
            step_ns: 0,
            interval_ns: 0,
            limit: DEFAULT_LIMIT,
            direction: Direction::Backward,
            instant: true,
            categorize_labels: false,
        }
    }

    /// A range query over [start, end] every `step_ns`.
    pub fn range(query: impl Into<String>, start_ns: i64, end_ns: i64, step_ns: i64) -> Self {
        QueryParams {
            query: query.into(),
            start_ns,
            end_ns,
            step_ns,
            interval_ns: 0,
            limit: DEFAULT_LIMIT,
            direction: Direction::Backward,
            instant: false,
            categorize_labels: false,
        }
    }
}

/// The engine's limits.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Largest `limit` a log query may ask (Loki: 5000).
    pub max_entries_limit: usize,
    /// Most series a metric query may return (Loki: 500).
    pub max_series: usize,
    /// Longest a query may run.
    pub timeout: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_entries_limit: DEFAULT_MAX_ENTRIES_LIMIT,
            max_series: DEFAULT_MAX_SERIES,
            timeout: Duration::from_secs(300),
        }
    }
}

/// One entry of a log stream in a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Nanoseconds.
    pub ts_ns: i64,
    /// The line after the pipeline.
    pub line: String,
    /// Structured metadata (filled only with categorize-labels).
    pub metadata: Pairs,
    /// Parsed labels (filled only with categorize-labels).
    pub parsed: Pairs,
}

/// A log stream of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Its labels, sorted (the stream labels only with categorize-labels).
    pub labels: Pairs,
    /// Entries in the query's direction.
    pub entries: Vec<Entry>,
}

/// A series of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels, sorted.
    pub labels: Pairs,
    /// `(milliseconds, value)`, by time.
    pub points: Vec<(i64, f64)>,
}

/// A sample of a vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels, sorted.
    pub labels: Pairs,
    /// Milliseconds.
    pub t_ms: i64,
    /// Value.
    pub value: f64,
}

/// What a query returns.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// Log streams, sorted by labels.
    Streams(Vec<Stream>),
    /// Range metric query: series sorted by labels.
    Matrix(Vec<Series>),
    /// Instant metric query.
    Vector(Vec<Sample>),
    /// Instant query of a number.
    Scalar {
        /// Milliseconds.
        t_ms: i64,
        /// Value.
        value: f64,
    },
}

/// What a query did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// What the store read and skipped.
    pub scan: ScanStats,
    /// Wall time of the evaluation.
    pub exec_time: Duration,
    /// Entries (log queries) or samples (metric queries) returned.
    pub entries_returned: u64,
    /// Lines that passed the pipeline.
    pub post_filter_lines: u64,
    /// Bytes of structured metadata processed.
    pub structured_metadata_bytes: u64,
    /// Is this the categorize-labels encoding (for the JSON encoder)?
    pub categorize_labels: bool,
}

/// The LogQL engine.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    /// Limits.
    pub options: EngineOptions,
}

/// What evaluation carries around: the reader, the tenant, the deadline,
/// and the stats.
pub(crate) struct Ctx<'a> {
    pub(crate) reader: &'a dyn LogsReader,
    pub(crate) tenant: &'a TenantId,
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) stats: Stats,
    pub(crate) opts: &'a EngineOptions,
}

impl Ctx<'_> {
    pub(crate) fn check_deadline(&self) -> Result<(), EvalError> {
        if Instant::now() > self.deadline {
            return Err(EvalError::Timeout(self.timeout));
        }
        Ok(())
    }

    pub(crate) fn add_scan(&mut self, s: &ScanStats) {
        self.stats.scan.add(s);
    }
}

impl Engine {
    /// An engine with these limits.
    pub fn new(options: EngineOptions) -> Self {
        Engine { options }
    }

    /// Parses and runs a query. Blocking: call it from a blocking thread.
    pub fn execute(
        &self,
        reader: &dyn LogsReader,
        tenant: &TenantId,
        params: &QueryParams,
    ) -> Result<(QueryResult, Stats), EvalError> {
        let expr = crate::parse(&params.query)?;
        self.execute_expr(reader, tenant, &expr, params)
    }

    /// Runs a parsed query.
    pub fn execute_expr(
        &self,
        reader: &dyn LogsReader,
        tenant: &TenantId,
        expr: &Expr,
        params: &QueryParams,
    ) -> Result<(QueryResult, Stats), EvalError> {
        let started = Instant::now();
        let mut ctx = Ctx {
            reader,
            tenant,
            deadline: started + self.options.timeout,
            timeout: self.options.timeout,
            stats: Stats {
                categorize_labels: params.categorize_labels,
                ..Stats::default()
            },
            opts: &self.options,
        };
        let result = match expr {
            Expr::Log(l) => logs::eval_logs(&mut ctx, l, params)?,
            Expr::Metric(m) => metric::eval_query(&mut ctx, m, params)?,
        };
        ctx.stats.entries_returned = match &result {
            QueryResult::Streams(s) => s.iter().map(|s| s.entries.len() as u64).sum(),
            QueryResult::Matrix(m) => m.iter().map(|s| s.points.len() as u64).sum(),
            QueryResult::Vector(v) => v.len() as u64,
            QueryResult::Scalar { .. } => 1,
        };
        ctx.stats.exec_time = started.elapsed();
        Ok((result, ctx.stats))
    }
}
