//! The logs write pipeline: the one path by which log entries enter
//! storage, whatever brought them (Loki push, OTLP logs, Elasticsearch bulk,
//! JSON lines). Entry points decode their wire format into a [`LogPush`] and
//! call [`LogsPipeline::write`], which
//!
//! 1. takes the push's bytes (lines plus structured metadata,
//!    [`LogEntry::size`]) from the tenant's logs rate bucket
//!    ([`Signal::Logs`]), refusing the whole push when it is spent
//!    ([`LogsWriteError::RateLimited`]; nothing is stored, a retry is safe);
//! 2. validates each stream's labels as Loki's distributor does (at least one
//!    pair, valid names, labels per stream not counting `service_name`, name
//!    and value lengths), refusing the stream;
//! 3. validates each entry (line size, structured metadata bytes and pairs),
//!    refusing the entry;
//! 4. pushes the rest to the [`LogsWriter`] with the tenant's
//!    [`StreamLimits`] and merges the store's own rejections (stream limit,
//!    too far behind);
//! 5. counts lines and bytes received, lines rejected by reason
//!    ([`LogsIngestMetrics`]).
//!
//! Reasons and messages are Loki's (`pkg/validation/validate.go`), so
//! clients and dashboards built for Loki read them as they are. A limit of 0
//! is unlimited.

use crate::metrics::LogsIngestMetrics;
use argus_limits::{LimitsConfig, LogsLimits, RateLimiter};
use argus_model::{clip, validate_label_name, LogEntry, LogPush, Signal, TenantId};
use argus_store::{LogRejectReason, LogsWriter, PushReport, StorageError, StreamLimits};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The label Loki does not count against `max_label_names_per_series`.
const SERVICE_NAME: &str = "service_name";

/// Most problems kept with their message in a [`LogsOutcome`] (the counts
/// by reason are complete).
const MAX_PROBLEMS: usize = 1_000;

/// Why log entries were refused (Loki's `reason` names, [`Self::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogsRejectReason {
    /// The tenant's byte rate (the whole push).
    RateLimited,
    /// The line is longer than `max_line_bytes`.
    LineTooLong,
    /// Structured metadata names plus values over `max_structured_metadata_bytes`.
    StructuredMetadataTooLarge,
    /// More structured metadata pairs than `max_structured_metadata_entries`.
    StructuredMetadataTooMany,
    /// More labels than `max_labels_per_stream` (`service_name` not counted).
    MaxLabelNamesPerSeries,
    LabelNameTooLong,
    LabelValueTooLong,
    /// A label name that is not a Prometheus label name, or a stream the
    /// decoder could not read.
    InvalidLabels,
    /// A stream without labels.
    MissingLabels,
    /// The store's active stream limit (`max_streams`).
    StreamLimit,
    /// Older than the stream's newest entry minus the out-of-order window.
    TooFarBehind,
    /// A document the entry point could not read (an Elasticsearch bulk
    /// item or a JSON line that is not a JSON object, an unreadable time).
    InvalidDocument,
}

impl LogsRejectReason {
    /// Loki's reason name, as in `loki_discarded_samples_total{reason}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::LineTooLong => "line_too_long",
            Self::StructuredMetadataTooLarge => "structured_metadata_too_large",
            Self::StructuredMetadataTooMany => "structured_metadata_too_many",
            Self::MaxLabelNamesPerSeries => "max_label_names_per_series",
            Self::LabelNameTooLong => "label_name_too_long",
            Self::LabelValueTooLong => "label_value_too_long",
            Self::InvalidLabels => "invalid_labels",
            Self::MissingLabels => "missing_labels",
            Self::StreamLimit => "stream_limit",
            Self::TooFarBehind => "too_far_behind",
            Self::InvalidDocument => "invalid_document",
        }
    }

    /// True for a tenant's limit (answered 429: retrying later can succeed),
    /// false for invalid data (400).
    pub fn is_limit(self) -> bool {
        matches!(self, Self::RateLimited | Self::StreamLimit)
    }
}

impl From<LogRejectReason> for LogsRejectReason {
    fn from(r: LogRejectReason) -> Self {
        match r {
            LogRejectReason::TooOld => Self::TooFarBehind,
            LogRejectReason::StreamLimit => Self::StreamLimit,
        }
    }
}

/// One refused stream or entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsRejection {
    pub reason: LogsRejectReason,
    /// Index of the stream in the push (`None` for the store's rejections,
    /// which name streams, not positions).
    pub stream: Option<usize>,
    /// Index of the entry in its stream; `None` when the whole stream was
    /// refused (its labels) or for the store's rejections.
    pub entry: Option<usize>,
    /// Entries refused.
    pub entries: usize,
    /// Loki's message for it.
    pub message: String,
}

/// What a write did: what was received, stored and refused.
#[derive(Debug, Clone, Default)]
pub struct LogsOutcome {
    pub received_entries: usize,
    /// Bytes of lines and structured metadata received.
    pub received_bytes: usize,
    /// The store's report (accepted entries and bytes, its rejections).
    pub report: PushReport,
    /// Entries refused, by reason: the pipeline's and the store's.
    pub rejected: BTreeMap<LogsRejectReason, usize>,
    /// The refused streams and entries with their messages (the first
    /// thousand), the pipeline's in push order, then the store's.
    pub rejections: Vec<LogsRejection>,
    /// Every stream (entry `None`) and entry the pipeline refused, by
    /// position in the push, for entry points that answer per item.
    pub refused: Vec<(usize, Option<usize>, LogsRejectReason)>,
}

impl LogsOutcome {
    pub fn accepted_entries(&self) -> usize {
        self.report.accepted_entries
    }

    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    /// True when a limit (the store's stream limit) refused entries:
    /// retrying later can succeed (429).
    pub fn limited(&self) -> bool {
        self.rejected.keys().any(|r| r.is_limit())
    }

    /// Adds rejections an entry point found while decoding (before the
    /// pipeline), e.g. a bulk item that is not a JSON object.
    pub fn add_decode_rejection(&mut self, reason: LogsRejectReason, message: String) {
        *self.rejected.entry(reason).or_default() += 1;
        self.received_entries += 1;
        if self.rejections.len() < MAX_PROBLEMS {
            self.rejections.push(LogsRejection {
                reason,
                stream: None,
                entry: None,
                entries: 1,
                message,
            });
        }
    }

    /// Every problem in one message, as Loki groups them (`GroupedErrors`):
    /// identical messages once, prefixed `N errors like: ` when there is more
    /// than one problem, joined by `; `. `None` when nothing was refused.
    pub fn message(&self) -> Option<String> {
        if self.rejections.is_empty() {
            if self.rejected.is_empty() {
                return None;
            }
            let by: Vec<String> = self
                .rejected
                .iter()
                .map(|(r, n)| format!("{}: {n}", r.as_str()))
                .collect();
            return Some(format!(
                "{} entries refused; by reason: {}",
                self.rejected_total(),
                by.join(", ")
            ));
        }
        let mut order: Vec<&str> = Vec::new();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for r in &self.rejections {
            let c = counts.entry(&r.message).or_insert_with(|| {
                order.push(&r.message);
                0
            });
            *c += 1;
        }
        let grouped = order.len() > 1;
        let parts: Vec<String> = order
            .iter()
            .take(20)
            .map(|m| {
                let n = counts[m];
                if grouped || n > 1 {
                    format!("{n} errors like: {m}")
                } else {
                    (*m).to_string()
                }
            })
            .collect();
        let mut out = parts.join("; ");
        if order.len() > 20 {
            out.push_str(&format!("; and {} more kinds of error", order.len() - 20));
        }
        Some(out)
    }

    fn refuse(&mut self, r: LogsRejection) {
        *self.rejected.entry(r.reason).or_default() += r.entries;
        if let Some(si) = r.stream {
            self.refused.push((si, r.entry, r.reason));
        }
        if self.rejections.len() < MAX_PROBLEMS {
            self.rejections.push(r);
        }
    }
}

/// Why a write was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum LogsWriteError {
    /// The tenant's byte rate limit refused the push; nothing was stored.
    #[error("ingestion rate limit exceeded for user {tenant} (limit: {rate} bytes/sec) while attempting to ingest '{lines}' lines totaling '{bytes}' bytes, reduce log volume or raise limits.logs.ingestion_rate_bytes; nothing was stored")]
    RateLimited {
        tenant: TenantId,
        rate: f64,
        burst: f64,
        lines: usize,
        bytes: usize,
    },
    /// The tenant's budget is spent right now: refused before the request
    /// was read ([`LogsPipeline::check_rate`]).
    #[error("ingestion rate limit exceeded for user {tenant} (limit: {rate} bytes/sec), reduce log volume or raise limits.logs.ingestion_rate_bytes; nothing was stored")]
    RateExhausted { tenant: TenantId, rate: f64 },
    /// The store failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StorageError),
}

impl LogsWriteError {
    /// True for the rate limit: retrying later can succeed.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::RateExhausted { .. })
    }
}

/// A logs limit in the configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{section}.logs.out_of_order_window: invalid duration {value:?}: {reason}")]
pub struct LogsLimitsError {
    /// `limits` or `overrides.<tenant>`.
    pub section: String,
    pub value: String,
    pub reason: String,
}

/// Parses every `out_of_order_window` (the defaults and each override) to
/// nanoseconds: the check the configuration runs at start-up.
pub fn out_of_order_windows(
    limits: &LimitsConfig,
) -> Result<(i64, HashMap<String, i64>), LogsLimitsError> {
    let parse = |section: String, l: &LogsLimits| {
        argus_model::parse_duration(&l.out_of_order_window)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .map_err(|e| LogsLimitsError {
                section,
                value: l.out_of_order_window.clone(),
                reason: e.to_string(),
            })
    };
    let default = parse("limits".into(), &limits.defaults.logs)?;
    let mut per_tenant = HashMap::new();
    for (t, l) in &limits.overrides {
        per_tenant.insert(t.clone(), parse(format!("overrides.{t}"), &l.logs)?);
    }
    Ok((default, per_tenant))
}

/// Limits, validation, counters and the push, for every logs entry point.
#[derive(Debug)]
pub struct LogsPipeline {
    store: Arc<dyn LogsWriter>,
    limits: LimitsConfig,
    default_window_ns: i64,
    windows_ns: HashMap<String, i64>,
    rate: RateLimiter,
    metrics: LogsIngestMetrics,
}

impl LogsPipeline {
    /// A pipeline over `store`; fails when an `out_of_order_window` is not
    /// a duration.
    pub fn new(store: Arc<dyn LogsWriter>, limits: LimitsConfig) -> Result<Self, LogsLimitsError> {
        let (default_window_ns, windows_ns) = out_of_order_windows(&limits)?;
        Ok(LogsPipeline {
            store,
            limits,
            default_window_ns,
            windows_ns,
            rate: RateLimiter::default(),
            metrics: LogsIngestMetrics::default(),
        })
    }

    /// The tenant's logs limits (`limits.logs`, with its overrides).
    pub fn limits(&self, tenant: &TenantId) -> &LogsLimits {
        &self.limits.for_tenant(tenant).logs
    }

    pub fn metrics(&self) -> &LogsIngestMetrics {
        &self.metrics
    }

    /// Counts lines an entry point refused before calling [`Self::write`]
    /// (undecodable documents), under `reason`.
    pub fn count_rejected(&self, tenant: &TenantId, reason: LogsRejectReason, lines: usize) {
        if lines > 0 {
            self.metrics.rejected(tenant, reason.as_str(), lines);
        }
    }

    /// Refuses at once when the tenant's byte budget is spent, so that a
    /// flooding tenant costs little (before its request is read).
    pub fn check_rate(&self, tenant: &TenantId) -> Result<(), LogsWriteError> {
        let l = self.limits(tenant);
        if self.rate.exhausted(
            tenant,
            Signal::Logs,
            l.ingestion_rate_bytes,
            l.ingestion_burst_bytes,
        ) {
            self.metrics.rejected(tenant, "rate_limited_request", 1);
            return Err(LogsWriteError::RateExhausted {
                tenant: tenant.clone(),
                rate: l.ingestion_rate_bytes,
            });
        }
        Ok(())
    }

    /// Validates a push against the tenant's limits and stores the rest.
    /// The rate limit refuses the whole push; invalid streams and entries
    /// are refused alone and listed in the outcome. Blocking: call it from a
    /// blocking thread.
    pub fn write(&self, tenant: &TenantId, push: LogPush) -> Result<LogsOutcome, LogsWriteError> {
        let limits = self.limits(tenant);
        let lines: usize = push.iter().map(|s| s.entries.len()).sum();
        let bytes: usize = push
            .iter()
            .flat_map(|s| s.entries.iter())
            .map(LogEntry::size)
            .sum();
        self.metrics.received(tenant, lines, bytes);
        if !self.rate.try_take(
            tenant,
            Signal::Logs,
            bytes,
            limits.ingestion_rate_bytes,
            limits.ingestion_burst_bytes,
        ) {
            self.metrics
                .rejected(tenant, LogsRejectReason::RateLimited.as_str(), lines);
            tracing::debug!(%tenant, lines, bytes, "logs push over the rate limit");
            return Err(LogsWriteError::RateLimited {
                tenant: tenant.clone(),
                rate: limits.ingestion_rate_bytes,
                burst: limits.ingestion_burst_bytes,
                lines,
                bytes,
            });
        }
        let mut outcome = LogsOutcome {
            received_entries: lines,
            received_bytes: bytes,
            ..LogsOutcome::default()
        };
        let mut valid = Vec::with_capacity(push.len());
        for (si, mut stream) in push.into_iter().enumerate() {
            if stream.entries.is_empty() {
                continue;
            }
            if let Some((reason, message)) = check_labels(&stream.labels, limits) {
                outcome.refuse(LogsRejection {
                    reason,
                    stream: Some(si),
                    entry: None,
                    entries: stream.entries.len(),
                    message,
                });
                continue;
            }
            let entries = std::mem::take(&mut stream.entries);
            let mut kept = Vec::with_capacity(entries.len());
            for (ei, mut e) in entries.into_iter().enumerate() {
                match check_entry(&e, &stream.labels, limits) {
                    Some((reason, message)) => outcome.refuse(LogsRejection {
                        reason,
                        stream: Some(si),
                        entry: Some(ei),
                        entries: 1,
                        message,
                    }),
                    None => {
                        crate::level::add_detected_level(&stream.labels, &mut e.metadata, &e.line);
                        kept.push(e)
                    }
                }
            }
            if !kept.is_empty() {
                stream.entries = kept;
                valid.push(stream);
            }
        }
        let window = self
            .windows_ns
            .get(tenant.as_str())
            .copied()
            .unwrap_or(self.default_window_ns);
        let sl = StreamLimits {
            max_streams: limits.max_streams,
            out_of_order_window_ns: window,
        };
        if !valid.is_empty() {
            outcome.report = self.store.push(tenant, valid, sl)?;
        }
        let store_examples = outcome.report.examples.clone();
        for (reason, n) in outcome.report.rejected.clone() {
            let reason = LogsRejectReason::from(reason);
            *outcome.rejected.entry(reason).or_default() += n;
        }
        for (stream, reason, n) in store_examples {
            let reason = match reason.as_str() {
                "stream_limit" => LogsRejectReason::StreamLimit,
                _ => LogsRejectReason::TooFarBehind,
            };
            let message = store_message(reason, &stream, n, tenant, window);
            if outcome.rejections.len() < MAX_PROBLEMS {
                outcome.rejections.push(LogsRejection {
                    reason,
                    stream: None,
                    entry: None,
                    entries: n,
                    message,
                });
            }
        }
        for (reason, n) in &outcome.rejected {
            self.metrics.rejected(tenant, reason.as_str(), *n);
        }
        if !outcome.rejected.is_empty() {
            tracing::debug!(%tenant, rejected = outcome.rejected_total(), "logs push partly refused");
        }
        Ok(outcome)
    }
}

/// Loki's message for one of the store's rejections (the store reports
/// counts per stream, not each entry's timestamp).
fn store_message(
    reason: LogsRejectReason,
    stream: &str,
    n: usize,
    tenant: &TenantId,
    window_ns: i64,
) -> String {
    match reason {
        LogsRejectReason::StreamLimit => format!(
            "maximum active stream limit exceeded when trying to create stream {stream}, reduce the number of active streams (reduce labels or reduce label values), or raise limits.logs.max_streams, user: '{tenant}'"
        ),
        _ => format!(
            "{n} entries for stream '{stream}' too far behind: older than the stream's newest entry minus the out-of-order window ({})",
            argus_model::format_duration(std::time::Duration::from_nanos(window_ns.max(0) as u64))
        ),
    }
}

fn over(n: usize, limit: usize) -> bool {
    limit != 0 && n > limit
}

/// Loki's `ValidateLabels`: why a stream's labels are refused, if they are.
fn check_labels(
    labels: &argus_model::Labels,
    limits: &LogsLimits,
) -> Option<(LogsRejectReason, String)> {
    if labels.is_empty() {
        return Some((
            LogsRejectReason::MissingLabels,
            "error at least one label pair is required per stream".into(),
        ));
    }
    let text = || clip(&labels.to_string(), 1024);
    let names = labels.len() - usize::from(labels.get(SERVICE_NAME).is_some());
    if over(names, limits.max_labels_per_stream) {
        return Some((
            LogsRejectReason::MaxLabelNamesPerSeries,
            format!(
                "entry for stream '{}' has {names} label names; limit {}",
                text(),
                limits.max_labels_per_stream
            ),
        ));
    }
    for l in labels {
        if !validate_label_name(&l.name) {
            return Some((
                LogsRejectReason::InvalidLabels,
                format!(
                    "error parsing labels '{}' with error: invalid label name {:?}",
                    text(),
                    clip(&l.name, 128)
                ),
            ));
        }
        if over(l.name.len(), limits.max_label_name_length) {
            return Some((
                LogsRejectReason::LabelNameTooLong,
                format!(
                    "stream '{}' has label name too long: '{}'",
                    text(),
                    clip(&l.name, 128)
                ),
            ));
        }
        if over(l.value.len(), limits.max_label_value_length) {
            return Some((
                LogsRejectReason::LabelValueTooLong,
                format!(
                    "stream '{}' has label value too long: '{}'",
                    text(),
                    clip(&l.value, 128)
                ),
            ));
        }
    }
    None
}

/// Loki's `ValidateEntry` (sizes only; time bounds are the store's).
fn check_entry(
    e: &LogEntry,
    labels: &argus_model::Labels,
    limits: &LogsLimits,
) -> Option<(LogsRejectReason, String)> {
    if over(e.line.len(), limits.max_line_bytes) {
        return Some((
            LogsRejectReason::LineTooLong,
            format!(
                "max entry size '{}' bytes exceeded for stream '{}' while adding an entry with length '{}' bytes",
                limits.max_line_bytes,
                clip(&labels.to_string(), 1024),
                e.line.len()
            ),
        ));
    }
    if e.metadata.is_empty() {
        return None;
    }
    let size: usize = e.metadata.iter().map(|(n, v)| n.len() + v.len()).sum();
    if over(size, limits.max_structured_metadata_bytes) {
        return Some((
            LogsRejectReason::StructuredMetadataTooLarge,
            format!(
                "stream '{}' has structured metadata too large: '{size}' bytes, limit: '{}' bytes. Please see `limits.logs.max_structured_metadata_bytes`",
                clip(&labels.to_string(), 1024),
                limits.max_structured_metadata_bytes
            ),
        ));
    }
    if over(e.metadata.len(), limits.max_structured_metadata_entries) {
        return Some((
            LogsRejectReason::StructuredMetadataTooMany,
            format!(
                "stream '{}' has too many structured metadata labels: '{}', limit: '{}'. Please see `limits.logs.max_structured_metadata_entries`",
                clip(&labels.to_string(), 1024),
                e.metadata.len(),
                limits.max_structured_metadata_entries
            ),
        ));
    }
    None
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
