//! The store traits: the seam between the protocol and query layers
//! (`argus-api`, `argus-write`, `argus-promql`) and the storage engines
//! (`argus-tsdb` today). The layers above hold `Arc<dyn MetricsReader>` and
//! `Arc<dyn MetricsWriter>`, never an engine's own types, as GreptimeDB's
//! query handlers and Quickwit's services keep protocol code off the engine.
//!
//! - [`MetricsReader`]: the reads of `/api/v1/*` and of the PromQL engine
//!   ([`MetricsReader::select`] gives a [`SeriesSet`]);
//! - [`MetricsWriter`]: the append (with its [`AppendReport`]), the
//!   metric metadata senders report and exemplars
//!   ([`MetricsWriter::append_exemplars`], read back by
//!   [`MetricsReader::select_exemplars`]);
//! - [`Queryable`]: one tenant's storage as the PromQL engine sees it
//!   (`argus-promql` re-exports it);
//! - [`LogsWriter`] and [`LogsReader`]: the logs store's push and its
//!   streaming reads ([`LogCursor`]), with [`MemLogs`] in memory for tests;
//! - [`traces::TracesWriter`] and [`traces::TracesReader`]: the traces
//!   store's push, trace lookup and search scans;
//! - [`StorageError`]: every failure crossing the seam, with a
//!   protocol-neutral [`StorageErrorKind`] the API maps to a status.

pub mod catalog;
mod error;
pub mod logs;
mod report;
pub mod traces;

pub use error::{StorageError, StorageErrorKind};
pub use logs::{
    json_object, Direction, EntryRun, Flush, JsonExtractor, JsonFields, LineSource, LogBatch,
    LogCursor, LogRejectReason, LogSelect, LogsReader, LogsWriter, MemLogs, PushReport, RunBatch,
    ScanStats, StreamLimits, StreamStats,
};
pub use report::{AppendReport, ExemplarReport, SeriesLimits};

use argus_model::{Exemplar, Labels, Matcher, StoredSeries, TenantId, TimeSeries};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The series a selector matched, their samples read on demand
/// ([`SeriesSet::load`]): the engine loads one series, computes what it needs
/// from it for every step, and drops its raw samples before the next, so a
/// query holds one series' raw samples at a time however many match.
pub trait SeriesSet {
    /// Number of series (some may load empty).
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Series `i`'s label set.
    fn labels(&self, i: usize) -> &Labels;

    /// Series `i`'s label set to keep with a result: a set that holds its
    /// label sets in an `Arc` shares it, so a query over many series holds
    /// each label set once, not once in the selection and again in its
    /// output.
    fn shared_labels(&self, i: usize) -> Arc<Labels> {
        Arc::new(self.labels(i).clone())
    }

    /// Series `i`'s float and histogram samples in the selected range,
    /// sorted by time, staleness markers included; its `labels` may be left
    /// empty ([`SeriesSet::labels`] has them). A failure fails the query.
    fn load(&self, i: usize) -> Result<StoredSeries, StorageError>;
}

/// Series already in memory as a [`SeriesSet`] (`load` clones).
impl SeriesSet for Vec<StoredSeries> {
    fn len(&self) -> usize {
        <[StoredSeries]>::len(self)
    }

    fn labels(&self, i: usize) -> &Labels {
        &self[i].labels
    }

    fn load(&self, i: usize) -> Result<StoredSeries, StorageError> {
        Ok(StoredSeries {
            labels: Labels::default(),
            floats: self[i].floats.clone(),
            histograms: self[i].histograms.clone(),
        })
    }
}

/// One tenant's storage as the PromQL engine sees it.
pub trait Queryable: Send + Sync {
    /// Series matching all matchers with float or histogram samples in
    /// [mint, maxt] (ms, inclusive), each label set once, in any order (the
    /// engine sorts what it outputs); their samples are read by
    /// [`SeriesSet::load`], staleness markers (float stale NaNs) included
    /// (the engine handles them). A failure fails the query.
    fn select<'s>(
        &'s self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn SeriesSet + 's>, StorageError>;
}

/// Metric metadata (type, help, unit) as senders report it (remote write
/// metadata) and `/api/v1/metadata` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricMeta {
    /// `counter`, `gauge`, `histogram`, … (Prometheus's names).
    pub metric_type: String,
    pub help: String,
    pub unit: String,
}

/// What the read endpoints and the PromQL engine need from a metrics store.
/// Every read is of one tenant; times are ms since the epoch, inclusive.
/// Blocking: call it from a blocking thread.
pub trait MetricsReader: Send + Sync + std::fmt::Debug {
    /// Series matching all `matchers` with data in [mint, maxt], each once,
    /// their samples read later one series at a time ([`SeriesSet::load`]);
    /// in any order.
    fn select<'s>(
        &'s self,
        tenant: &TenantId,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn SeriesSet + 's>, StorageError>;

    /// Label sets of series matching any of `matcher_sets` (all series when
    /// empty) with data in [mint, maxt], sorted and unique.
    fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StorageError>;

    /// Label names of those series, sorted and unique.
    fn label_names(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError>;

    /// Values of label `name` in those series, sorted and unique.
    fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError>;

    /// Metadata by metric name (only `metric` when given); `limit` bounds
    /// metrics, `limit_per_metric` entries per metric (0 = no limit).
    fn metadata(
        &self,
        tenant: &TenantId,
        metric: Option<&str>,
        limit: usize,
        limit_per_metric: usize,
    ) -> BTreeMap<String, Vec<MetricMeta>>;

    /// Exemplars in [start, end] (ms, inclusive) of the series matching any
    /// of `matcher_sets` (each set: all its matchers), as Prometheus's
    /// exemplar querier gives them: one entry per series that has some,
    /// sorted by series labels, each series' exemplars oldest first.
    fn select_exemplars(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Result<Vec<(Labels, Vec<Exemplar>)>, StorageError>;
}

/// What the write pipeline needs from a metrics store.
pub trait MetricsWriter: Send + Sync + std::fmt::Debug {
    /// Appends a batch for a tenant within `limits`, durably as the store's
    /// fsync policy says. Samples the store refuses (out of order, series
    /// limits, …) are in the report; an `Err` means nothing was stored.
    /// Blocking: call it from a blocking thread.
    fn append(
        &self,
        tenant: &TenantId,
        batch: Vec<TimeSeries>,
        limits: SeriesLimits,
    ) -> Result<AppendReport, StorageError>;

    /// Records metric metadata a sender reported.
    fn record_metadata(&self, tenant: &TenantId, entries: Vec<(String, MetricMeta)>);

    /// Stores exemplars, each with its series' labels, durably as
    /// [`MetricsWriter::append`] stores samples. Refusals (out of order,
    /// labels too long) are in the report; an `Err` means none was stored.
    /// Blocking: call it from a blocking thread.
    fn append_exemplars(
        &self,
        tenant: &TenantId,
        exemplars: Vec<(Labels, Exemplar)>,
    ) -> Result<ExemplarReport, StorageError>;
}

/// One tenant of a [`MetricsReader`] as a [`Queryable`].
#[derive(Debug, Clone)]
pub struct TenantReader<R> {
    pub reader: R,
    pub tenant: TenantId,
}

impl<R> Queryable for TenantReader<R>
where
    R: std::ops::Deref + Send + Sync,
    R::Target: MetricsReader,
{
    fn select<'s>(
        &'s self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn SeriesSet + 's>, StorageError> {
        self.reader.select(&self.tenant, matchers, mint, maxt)
    }
}
