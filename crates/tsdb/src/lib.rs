//! The Argus metrics storage engine.
//!
//! Data path: [`Db::append`] → per-tenant WAL (`argus-wal`) → in-memory
//! [`head::Head`] (XOR [`chunk`]s + inverted index) → immutable
//! [`block`]s cut every `block_range` and uploaded through
//! `argus-objstore` → compaction into larger blocks → retention.
//! Series hold float samples (XOR chunks) and native histogram samples
//! (histogram chunks). Reads: [`Db::select_series`] (floats and
//! histograms) merges head and blocks. Exemplars: per tenant, a circular
//! buffer as Prometheus's ([`exemplars`]), logged in the same WAL.

pub mod block;
pub mod chunk;
mod db;
mod error;
pub mod exemplars;
pub mod head;
pub mod layout;
mod lifecycle;
pub mod merge;
pub mod metadata;
mod metrics;
pub mod postings;
mod select;
mod store;
mod tenant;
mod varint;
pub mod walrec;

pub use db::{Db, DbOptions};
pub use error::DbError;
pub use head::{AppendReport, SampleReject, SeriesLimits};
pub use metrics::DbMetrics;
pub use select::Selection;
