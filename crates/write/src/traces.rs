//! The traces write pipeline: the one path by which spans enter storage,
//! whatever brought them (OTLP/HTTP, OTLP/gRPC, Zipkin). Entry points
//! decode and convert their wire format into spans and call
//! [`TracesPipeline::write`], which
//!
//! 1. takes the push's bytes and spans from the tenant's traces rate
//!    buckets, refusing the whole push when either is spent
//!    ([`TracesWriteError::RateLimited`]; nothing is stored, a retry is
//!    safe);
//! 2. refuses spans over `max_span_bytes` or with more than
//!    `max_attributes_per_span` attributes, alone;
//! 3. pushes the rest to the [`TracesWriter`] with the tenant's
//!    `max_trace_bytes`, merging the store's refusals (trace too large);
//! 4. counts spans and bytes received, spans refused by reason
//!    ([`TracesIngestMetrics`]);
//! 5. feeds the spans to the span metrics and service graph generator, if
//!    any ([`TracesPipeline::with_generator`]).
//!
//! A limit of 0 is unlimited.

use crate::metrics::TracesIngestMetrics;
use argus_limits::{LimitsConfig, RateLimiter, TracesLimits};
use argus_model::traces::{hex_id, Span};
use argus_model::{Signal, TenantId};
use argus_store::traces::{SpanRejectReason, TraceLimits, TracesWriter};
use argus_store::StorageError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most refusal messages kept in a [`TracesOutcome`] (counts are complete).
const MAX_MESSAGES: usize = 10;

/// Why spans were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TracesRejectReason {
    /// The tenant's byte or span rate (the whole push).
    RateLimited,
    /// Larger than `max_span_bytes`.
    SpanTooLarge,
    /// More attributes than `max_attributes_per_span`.
    TooManyAttributes,
    /// Its trace reached `max_trace_bytes` (Tempo's `trace_too_large`).
    TraceTooLarge,
    /// The decoder could not read it (a bad id, no name…).
    Invalid,
}

impl TracesRejectReason {
    /// The `reason` label of `argus_ingest_spans_rejected_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::SpanTooLarge => "span_too_large",
            Self::TooManyAttributes => "too_many_attributes",
            Self::TraceTooLarge => "trace_too_large",
            Self::Invalid => "invalid",
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, Default)]
pub struct TracesOutcome {
    pub received_spans: usize,
    /// Spans stored now or before (a retry).
    pub accepted: usize,
    pub rejected: BTreeMap<TracesRejectReason, usize>,
    /// The first few refusals, explained.
    pub messages: Vec<String>,
}

impl TracesOutcome {
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    /// Records spans an entry point refused before [`TracesPipeline::write`].
    pub fn add_decode_rejection(&mut self, spans: usize, message: String) {
        self.received_spans += spans;
        self.refuse(TracesRejectReason::Invalid, spans, message);
    }

    fn refuse(&mut self, reason: TracesRejectReason, spans: usize, message: String) {
        *self.rejected.entry(reason).or_default() += spans;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(message);
        }
    }

    /// What was refused, in one message; `None` when nothing was.
    pub fn message(&self) -> Option<String> {
        if self.rejected.is_empty() {
            return None;
        }
        let counts: Vec<String> = self
            .rejected
            .iter()
            .map(|(r, n)| format!("{n} {}", r.as_str()))
            .collect();
        Some(format!(
            "{} of {} spans refused ({}): {}",
            self.rejected_total(),
            self.received_spans,
            counts.join(", "),
            self.messages.join("; ")
        ))
    }
}

/// Why a write was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum TracesWriteError {
    /// The tenant's rate limit refused the push; nothing was stored.
    #[error("ingestion rate limit exceeded for tenant {tenant} ({what}), reduce trace volume or raise limits.traces.{key}; nothing was stored")]
    RateLimited {
        tenant: TenantId,
        what: String,
        key: &'static str,
    },
    /// The store failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StorageError),
}

/// Limits, validation, counters and the push, for every traces entry point.
#[derive(Debug)]
pub struct TracesPipeline {
    store: Arc<dyn TracesWriter>,
    limits: LimitsConfig,
    bytes_rate: RateLimiter,
    spans_rate: RateLimiter,
    metrics: TracesIngestMetrics,
    /// Span metrics and service graphs, fed the spans about to be stored.
    generator: Option<Arc<crate::spanmetrics::SpanMetricsProcessor>>,
}

impl TracesPipeline {
    pub fn new(store: Arc<dyn TracesWriter>, limits: LimitsConfig) -> Self {
        TracesPipeline {
            store,
            limits,
            bytes_rate: RateLimiter::default(),
            spans_rate: RateLimiter::default(),
            metrics: TracesIngestMetrics::default(),
            generator: None,
        }
    }

    /// Feeds the spans of every write (those passing validation, before
    /// the store) to `generator`.
    pub fn with_generator(
        mut self,
        generator: Arc<crate::spanmetrics::SpanMetricsProcessor>,
    ) -> Self {
        self.generator = Some(generator);
        self
    }

    /// The tenant's traces limits (`limits.traces`, with its overrides).
    pub fn limits(&self, tenant: &TenantId) -> &TracesLimits {
        &self.limits.for_tenant(tenant).traces
    }

    pub fn metrics(&self) -> &TracesIngestMetrics {
        &self.metrics
    }

    /// Refuses at once when the tenant's budget is spent, before its
    /// request is read.
    pub fn check_rate(&self, tenant: &TenantId) -> Result<(), TracesWriteError> {
        let l = self.limits(tenant);
        let spent = self.bytes_rate.exhausted(
            tenant,
            Signal::Traces,
            l.ingestion_rate_bytes,
            l.ingestion_burst_bytes,
        ) || self.spans_rate.exhausted(
            tenant,
            Signal::Traces,
            l.ingestion_rate_spans,
            l.ingestion_burst_spans,
        );
        if spent {
            self.metrics.rejected(tenant, "rate_limited_request", 1);
            return Err(TracesWriteError::RateLimited {
                tenant: tenant.clone(),
                what: "the budget is spent".into(),
                key: "ingestion_rate_bytes or ingestion_rate_spans",
            });
        }
        Ok(())
    }

    /// Validates spans against the tenant's limits and stores the rest.
    /// Blocking: call it from a blocking thread. `outcome` may hold what
    /// the entry point refused already.
    pub fn write(
        &self,
        tenant: &TenantId,
        spans: Vec<Span>,
        mut outcome: TracesOutcome,
    ) -> Result<TracesOutcome, TracesWriteError> {
        let l = self.limits(tenant);
        let n = spans.len();
        let bytes: usize = spans.iter().map(Span::size).sum();
        self.metrics.received(tenant, n, bytes);
        self.count(tenant, &outcome);
        outcome.received_spans += n;
        self.take_rate(tenant, l, n, bytes)?;
        let mut kept = Vec::with_capacity(n);
        for s in spans {
            let size = s.size();
            if l.max_span_bytes > 0 && size > l.max_span_bytes {
                self.refuse(tenant, &mut outcome, TracesRejectReason::SpanTooLarge, format!(
                    "span {} of trace {} is {size} bytes, over the limit of {} (limits.traces.max_span_bytes)",
                    hex_id(&s.span_id), hex_id(&s.trace_id), l.max_span_bytes
                ));
                continue;
            }
            if l.max_attributes_per_span > 0 && s.attrs.len() > l.max_attributes_per_span {
                self.refuse(tenant, &mut outcome, TracesRejectReason::TooManyAttributes, format!(
                    "span {} of trace {} has {} attributes, over the limit of {} (limits.traces.max_attributes_per_span)",
                    hex_id(&s.span_id), hex_id(&s.trace_id), s.attrs.len(), l.max_attributes_per_span
                ));
                continue;
            }
            kept.push(s);
        }
        if kept.is_empty() {
            return Ok(outcome);
        }
        if let Some(g) = &self.generator {
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            g.observe(tenant, &kept, now_ms);
        }
        let limits = TraceLimits {
            max_trace_bytes: l.max_trace_bytes,
        };
        let report = self.store.push(tenant, kept, limits)?;
        outcome.accepted += report.accepted;
        for (reason, n) in &report.rejected {
            let r = match reason {
                SpanRejectReason::TraceTooLarge => TracesRejectReason::TraceTooLarge,
            };
            self.metrics.rejected(tenant, r.as_str(), *n);
            *outcome.rejected.entry(r).or_default() += n;
        }
        for (trace, msg) in report.examples {
            if outcome.messages.len() < MAX_MESSAGES {
                outcome.messages.push(format!(
                    "trace {trace}: {msg} (limits.traces.max_trace_bytes)"
                ));
            }
        }
        Ok(outcome)
    }

    fn count(&self, tenant: &TenantId, outcome: &TracesOutcome) {
        for (r, n) in &outcome.rejected {
            self.metrics.rejected(tenant, r.as_str(), *n);
        }
    }

    fn refuse(
        &self,
        tenant: &TenantId,
        outcome: &mut TracesOutcome,
        reason: TracesRejectReason,
        message: String,
    ) {
        self.metrics.rejected(tenant, reason.as_str(), 1);
        outcome.refuse(reason, 1, message);
    }

    fn take_rate(
        &self,
        tenant: &TenantId,
        l: &TracesLimits,
        spans: usize,
        bytes: usize,
    ) -> Result<(), TracesWriteError> {
        let refused = if !self.bytes_rate.try_take(
            tenant,
            Signal::Traces,
            bytes,
            l.ingestion_rate_bytes,
            l.ingestion_burst_bytes,
        ) {
            Some((
                format!(
                    "limit: {} bytes/sec, push of {bytes} bytes",
                    l.ingestion_rate_bytes
                ),
                "ingestion_rate_bytes",
            ))
        } else if !self.spans_rate.try_take(
            tenant,
            Signal::Traces,
            spans,
            l.ingestion_rate_spans,
            l.ingestion_burst_spans,
        ) {
            Some((
                format!(
                    "limit: {} spans/sec, push of {spans} spans",
                    l.ingestion_rate_spans
                ),
                "ingestion_rate_spans",
            ))
        } else {
            None
        };
        match refused {
            Some((what, key)) => {
                self.metrics
                    .rejected(tenant, TracesRejectReason::RateLimited.as_str(), spans);
                Err(TracesWriteError::RateLimited {
                    tenant: tenant.clone(),
                    what,
                    key,
                })
            }
            None => Ok(()),
        }
    }
}
