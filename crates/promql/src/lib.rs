//! PromQL engine for Argus.
//!
//! ```
//! use argus_model::{Labels, Sample};
//! use argus_promql::{Engine, MemStore, Value};
//!
//! let mut store = MemStore::new();
//! store.add(Labels::from_pairs([("__name__", "up"), ("job", "api")]), Sample::new(0, 1.0));
//! let res = Engine::default().instant(&store, "sum by (job) (up)", 60_000).unwrap();
//! let Value::Vector(v) = res.value else { unreachable!() };
//! assert_eq!(v[0].v, 1.0);
//! ```
//!
//! Queries are parsed by `promql-parser` and evaluated the way Prometheus's
//! engine does it: every node is evaluated for all steps of the query at once
//! (an instant query is a range query with one step); selectors find their
//! series once for the whole range through [`Queryable`] and load their
//! samples one series at a time ([`SeriesSet`]); the engine applies
//! lookback, staleness markers, `offset` and `@` itself. Names are removed the
//! way Prometheus does with delayed name removal (the behaviour its own test
//! suite runs with). Annotations (`PromQL warning: ...`, `PromQL info: ...`)
//! come with the position of the expression they are about.
//!
//! Also supported, although `promql-parser` does not parse them (the query text
//! is rewritten when the first parse fails): the experimental duration
//! arithmetic (`x[5m+step()]`, `offset min_of(range(), 1h)`), the `anchored`
//! and `smoothed` modifiers, `info()` label selectors matching "", and the
//! histogram trim operators `</` and `>/`. The experimental `info()` function
//! is implemented too.
//!
//! Native histograms (exponential and custom buckets, `argus_model::FloatHistogram`)
//! go everywhere floats go: selectors (a float stale marker ends a histogram
//! series too), range functions, subqueries, operators, aggregations and the
//! `histogram_*` functions, with Prometheus's counter reset detection and
//! annotations. Their arithmetic lives in the private `histogram` module.
//! Selectors read only by `histogram_count`/`histogram_sum`/`histogram_avg`
//! see count and sum only, with counter resets detected on the fly, as
//! Prometheus's `HistogramStatsIterator` does. Not supported yet: start
//! timestamps (the model has none).
//!
//! [`promqltest`] runs Prometheus's own PromQL test scripts against the engine.

mod annotations;
mod depth;
mod engine;
mod functions;
mod histogram;
mod json;
mod literals;
mod memstore;
mod number_durations;
pub mod promqltest;
mod value;

/// The storage the engine reads, shared with the stores (`argus-store`).
pub use argus_store::{Queryable, SeriesSet, StorageError, StorageErrorKind};
pub use depth::{check_depth, with_stack, MAX_DEPTH};
pub use engine::{Engine, EngineOptions};
pub use json::{format_value, histogram_json, labels_json};
pub use memstore::MemStore;
pub use value::{PromqlError, QueryResult, Series, Value, VectorSample};

/// Parses `query` as Prometheus's parser does (no rewrites), refusing one
/// nested deeper than [`MAX_DEPTH`] before parsing it. Call it, use the tree and
/// drop it inside [`with_stack`]: a tree of [`MAX_DEPTH`] levels needs more
/// stack than a thread's default to parse, walk and drop.
pub fn parse(query: &str) -> Result<promql_parser::parser::Expr, PromqlError> {
    depth::check(query)?;
    number_durations::check(query)?;
    promql_parser::parser::parse(query).map_err(PromqlError::BadData)
}
