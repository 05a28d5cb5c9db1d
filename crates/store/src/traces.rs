//! The traces store's seam: a push of spans ([`TracesWriter`]) and the
//! reads of trace lookup and search ([`TracesReader`]).

use crate::StorageError;
use argus_model::traces::{Span, TraceId};
use argus_model::TenantId;
use std::collections::BTreeMap;

/// Limits a store enforces on a push, per tenant.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLimits {
    /// Most bytes of spans ([`span size`](SpanPushReport)) one trace may
    /// hold in memory; spans beyond are refused. 0 = no limit.
    pub max_trace_bytes: usize,
}

/// Why a span was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpanRejectReason {
    /// Its trace reached [`TraceLimits::max_trace_bytes`].
    TraceTooLarge,
}

impl SpanRejectReason {
    /// The `reason` label of the refused-spans counter (Tempo's names).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanRejectReason::TraceTooLarge => "trace_too_large",
        }
    }
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanPushReport {
    /// Spans stored now or already (a retry).
    pub accepted: usize,
    /// Of `accepted`, spans held already (retries, stored once).
    pub duplicates: usize,
    /// Bytes of the spans stored now.
    pub bytes: usize,
    pub rejected: BTreeMap<SpanRejectReason, usize>,
    /// The first few refused traces: (trace id in hex, message).
    pub examples: Vec<(String, String)>,
}

/// A trace read by id.
#[derive(Debug, Clone, Default)]
pub struct TraceRead {
    pub spans: Vec<Span>,
    /// True when the trace holds more than the read's byte budget: `spans`
    /// are some of them.
    pub partial: bool,
}

/// What a search reads.
#[derive(Debug, Clone, Default)]
pub struct TraceScan {
    /// Spans starting no later than `end_ns` and ending no earlier than
    /// `start_ns`; `None` = any time.
    pub range_ns: Option<(i64, i64)>,
    /// Conditions every matching trace has a span for, for skipping
    /// segments (by their stats) and traces before evaluation; empty =
    /// none.
    pub hints: Vec<SpanHint>,
    /// One span of every matching trace meets all of `hints` (a query of
    /// one spanset filter whose conditions are joined by `&&`); otherwise
    /// each hint is met by some span.
    pub hints_same_span: bool,
    /// Stop after this many traces have been inspected (0 = no limit).
    pub max_traces: usize,
    /// Bytes of one trace passed to the visitor at most; a larger one is
    /// passed partially.
    pub max_trace_bytes: usize,
    /// What of each span the visitor reads.
    pub fields: SpanFields,
}

/// What of each span a scan's visitor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanFields {
    /// Everything.
    #[default]
    All,
    /// The ids, parent, name, kind, status and its message, start, end
    /// and origin (resource and scope): a store may leave out a span's
    /// own attributes, events, links, trace state, flags and dropped
    /// counts.
    Intrinsics,
}

/// A condition some span of every matching trace meets.
#[derive(Debug, Clone, PartialEq)]
pub enum SpanHint {
    /// `resource.service.name` is this.
    Service(String),
    /// The span name is this.
    Name(String),
    /// The span's duration (ns) is at least this.
    MinDuration(u64),
    /// The span's duration (ns) is at most this.
    MaxDuration(u64),
    /// The span's status is error.
    Error,
}

/// Counts of a search, as Tempo reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub inspected_traces: u64,
    pub inspected_spans: u64,
    pub inspected_bytes: u64,
    /// Segments (and heads) that could hold matches.
    pub total_blocks: u64,
    /// Segments skipped by their stats.
    pub skipped_blocks: u64,
}

/// Whether a visitor wants more traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    Continue,
    Stop,
}

/// A tenant's spans: pushed by ingest.
pub trait TracesWriter: Send + Sync + std::fmt::Debug {
    /// Stores spans durably (a returned report means the WAL has them).
    fn push(
        &self,
        tenant: &TenantId,
        spans: Vec<Span>,
        limits: TraceLimits,
    ) -> Result<SpanPushReport, StorageError>;
}

/// A tenant's traces: lookup by id and the scans of search.
pub trait TracesReader: Send + Sync + std::fmt::Debug {
    /// Every stored span of trace `id` (a time range, ns, narrows the
    /// segments read), up to `max_bytes` of spans (0 = no limit).
    fn trace(
        &self,
        tenant: &TenantId,
        id: &TraceId,
        range_ns: Option<(i64, i64)>,
        max_bytes: usize,
    ) -> Result<TraceRead, StorageError>;

    /// Every service (`service.name`) with spans overlapping `range_ns`
    /// (`None`: any time), sorted: from segment stats and the heads.
    fn services(
        &self,
        tenant: &TenantId,
        range_ns: Option<(i64, i64)>,
    ) -> Result<Vec<String>, StorageError>;

    /// Visits traces that may match `scan`, one at a time, newest data
    /// first: their spans and whether they are all of the trace's stored
    /// spans. A trace whose spans are in several segments (or heads) is
    /// visited once per segment with the part it holds (`false`).
    fn scan(
        &self,
        tenant: &TenantId,
        scan: &TraceScan,
        visit: &mut dyn FnMut(&[Span], bool) -> Visit,
    ) -> Result<ScanStats, StorageError>;
}
