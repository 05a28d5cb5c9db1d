//! The write pipeline: the one path by which samples enter storage,
//! whatever brought them (remote write, OTLP, scraping; rule evaluation
//! next). Entry points decode their wire format, then hand series to
//! [`WritePipeline::write`], which
//!
//! 1. takes the batch's samples (floats and histograms) from the tenant's
//!    metrics ingestion rate limit (its bucket for [`Signal::Metrics`]; the
//!    tenant's logs and traces have their own), refusing the whole batch when it is spent
//!    ([`WriteError::RateLimited`]; nothing is stored, a retry is safe);
//! 2. rejects series whose label names or values exceed the tenant's
//!    length limits (reason `label_too_long`), keeping the others;
//! 3. appends the rest to the store with the tenant's series limits;
//! 4. stores the exemplars of the series it kept
//!    ([`argus_store::MetricsWriter::append_exemplars`]), dropping (and
//!    counting) those whose labels pass 128 characters; an exemplar never
//!    fails a write, as in Prometheus;
//! 5. counts samples and exemplars received and rejected by reason per
//!    tenant ([`IngestMetrics`]).
//!
//! What an entry point answers (HTTP status, a scrape's error) is its own
//! business; the pipeline reports what happened in a [`WriteOutcome`].
//! The tenant is a validated [`TenantId`]: entry points resolve it.
//!
//! Logs have their own pipeline, [`LogsPipeline`] (`logs.rs`), with the
//! same shape: the tenant's logs byte rate, Loki's stream and entry checks,
//! then [`argus_store::LogsWriter::push`]. Traces too: [`TracesPipeline`]
//! (`traces.rs`): the tenant's byte and span rates, span size and
//! attribute count, then [`argus_store::traces::TracesWriter::push`].

mod level;
mod logs;
mod metrics;
pub mod spanmetrics;
mod traces;

pub use logs::{
    out_of_order_windows, LogsLimitsError, LogsOutcome, LogsPipeline, LogsRejectReason,
    LogsRejection, LogsWriteError,
};
pub use metrics::{IngestMetrics, ItemIngestMetrics, LogsIngestMetrics, TracesIngestMetrics};
pub use traces::{TracesOutcome, TracesPipeline, TracesRejectReason, TracesWriteError};

use argus_limits::{LimitsConfig, MetricsLimits, RateLimiter};
use argus_model::{clip, Exemplar, Labels, Signal, TenantId, TimeSeries};
use argus_store::{
    AppendReport, ExemplarReport, MetricMeta, MetricsWriter, SeriesLimits, StorageError,
};
use std::fmt::Write;
use std::sync::Arc;

/// Why a write was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The tenant's ingestion rate limit refused the batch; nothing was stored.
    #[error("ingestion rate limit of {rate} samples/s (burst {burst}) exceeded for tenant {tenant:?} while adding {samples} samples; nothing was stored")]
    RateLimited {
        tenant: TenantId,
        rate: f64,
        burst: f64,
        samples: usize,
    },
    /// The tenant's rate budget is spent right now: refused before the
    /// request was read ([`WritePipeline::check_rate`]).
    #[error("ingestion rate limit of {rate} samples/s exceeded for tenant {tenant:?}; nothing was stored")]
    RateExhausted { tenant: TenantId, rate: f64 },
    /// The store failed (WAL, disk); nothing was stored.
    #[error(transparent)]
    Store(#[from] StorageError),
}

impl WriteError {
    /// True for the rate limit: retrying later can succeed.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            WriteError::RateLimited { .. } | WriteError::RateExhausted { .. }
        )
    }
}

/// What a write did: the store's report, plus series rejected before the
/// store (by the entry point's decoder or by the pipeline's label checks).
#[derive(Debug, Default)]
pub struct WriteOutcome {
    pub report: AppendReport,
    /// Examples of rejections before the store: (description, samples).
    pub invalid: Vec<(String, usize)>,
    /// Samples rejected before the store.
    pub invalid_samples: usize,
    /// What became of the kept series' exemplars: written (the remote write
    /// 2.0 `X-Prometheus-Remote-Write-Exemplars-Written`) and dropped by
    /// reason, the pipeline's `label_too_long` included.
    pub exemplars: ExemplarReport,
}

impl WriteOutcome {
    /// Adds rejections found while decoding (listed before the pipeline's).
    pub fn with_decode_rejections(mut self, invalid: Vec<(String, usize)>, samples: usize) -> Self {
        let mut all = invalid;
        all.append(&mut self.invalid);
        self.invalid = all;
        self.invalid_samples += samples;
        self
    }

    pub fn rejected_samples(&self) -> usize {
        self.invalid_samples + self.report.rejected_total()
    }

    /// True when a limit (active series, labels per series) rejected data:
    /// retrying later can succeed.
    pub fn limited(&self) -> bool {
        self.report.limited
    }

    /// A sentence listing what was rejected, or None when nothing was.
    pub fn message(&self, received: usize) -> Option<String> {
        let rejected = self.rejected_samples();
        if rejected == 0 {
            return None;
        }
        let mut m = format!(
            "{rejected} of {received} samples rejected (the other {} were stored)",
            received.saturating_sub(rejected)
        );
        let mut reasons: Vec<String> = self
            .report
            .rejected_samples
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        if self.invalid_samples > 0 {
            reasons.push(format!("invalid_series: {}", self.invalid_samples));
        }
        let _ = write!(m, "; by reason: {}", reasons.join(", "));
        let examples: Vec<String> = self
            .invalid
            .iter()
            .take(5)
            .map(|(d, _)| d.clone())
            .chain(
                self.report
                    .examples
                    .iter()
                    .map(|(s, r, n)| format!("series {s}: {r} ({n} samples dropped)")),
            )
            .take(5)
            .collect();
        let _ = write!(m, "; e.g. {}", examples.join("; "));
        Some(m)
    }
}

/// Samples (floats and histograms) in a batch.
pub fn sample_count(series: &[TimeSeries]) -> usize {
    series
        .iter()
        .map(|x| x.samples.len() + x.histograms.len())
        .sum()
}

/// Limits, validation, counters and the append, for every entry point.
#[derive(Debug)]
pub struct WritePipeline {
    store: Arc<dyn MetricsWriter>,
    limits: LimitsConfig,
    rate: RateLimiter,
    metrics: IngestMetrics,
}

impl WritePipeline {
    pub fn new(store: Arc<dyn MetricsWriter>, limits: LimitsConfig) -> Self {
        WritePipeline {
            store,
            limits,
            rate: RateLimiter::default(),
            metrics: IngestMetrics::default(),
        }
    }

    /// Records metric metadata a sender reported (remote write metadata).
    pub fn record_metadata(&self, tenant: &TenantId, entries: Vec<(String, MetricMeta)>) {
        self.store.record_metadata(tenant, entries);
    }

    /// The tenant's metrics limits (`limits.metrics`, with its overrides).
    pub fn limits(&self, tenant: &TenantId) -> &MetricsLimits {
        self.limits.metrics(tenant)
    }

    pub fn metrics(&self) -> &IngestMetrics {
        &self.metrics
    }

    /// Counts samples an entry point rejected before calling [`Self::write`]
    /// (undecodable series, unsupported OTLP points).
    pub fn count_rejected(&self, tenant: &TenantId, reason: &str, samples: usize) {
        if samples > 0 {
            self.metrics.rejected(tenant, reason, samples);
        }
    }

    /// Refuses at once when the tenant's rate budget is spent, so that a
    /// flooding tenant costs little (before its request is read).
    pub fn check_rate(&self, tenant: &TenantId) -> Result<(), WriteError> {
        let l = self.limits(tenant);
        if self
            .rate
            .exhausted(tenant, Signal::Metrics, l.ingestion_rate, l.ingestion_burst)
        {
            self.metrics.rejected(tenant, "rate_limited_request", 1);
            return Err(WriteError::RateExhausted {
                tenant: tenant.clone(),
                rate: l.ingestion_rate,
            });
        }
        Ok(())
    }

    /// Validates a batch against the tenant's limits and stores it. The rate
    /// limit refuses the whole batch; a series with a too-long label is
    /// rejected alone; the store's own rejections (out of order, series
    /// limits, …) are in the outcome's report. Blocking: call it from a
    /// blocking thread.
    pub fn write(
        &self,
        tenant: &TenantId,
        series: Vec<TimeSeries>,
    ) -> Result<WriteOutcome, WriteError> {
        let limits = self.limits(tenant);
        let total = sample_count(&series);
        if !self.rate.try_take(
            tenant,
            Signal::Metrics,
            total,
            limits.ingestion_rate,
            limits.ingestion_burst,
        ) {
            self.metrics.rejected(tenant, "rate_limited", total);
            return Err(WriteError::RateLimited {
                tenant: tenant.clone(),
                rate: limits.ingestion_rate,
                burst: limits.ingestion_burst,
                samples: total,
            });
        }
        let mut outcome = WriteOutcome::default();
        let mut valid = Vec::with_capacity(series.len());
        for ts in series {
            match label_too_long(&ts, limits) {
                Some(reason) => {
                    let n = ts.samples.len() + ts.histograms.len();
                    outcome.invalid_samples += n;
                    if outcome.invalid.len() < 5 {
                        outcome.invalid.push((
                            format!("series {}: {reason}", clip(&ts.labels.to_string(), 200)),
                            n,
                        ));
                    }
                    self.metrics.rejected(tenant, "label_too_long", n);
                    if !ts.exemplars.is_empty() {
                        let e = outcome.exemplars.rejected.entry("invalid_series");
                        *e.or_default() += ts.exemplars.len();
                    }
                }
                None => valid.push(ts),
            }
        }
        let unlimited = |n: usize| if n == 0 { usize::MAX } else { n };
        let sl = SeriesLimits {
            max_series: unlimited(limits.max_series),
            max_labels: unlimited(limits.max_labels_per_series),
        };
        let exemplars = take_exemplars(&mut valid, &mut outcome.exemplars);
        outcome.report = self.store.append(tenant, valid, sl)?;
        self.metrics.received(tenant, total);
        self.store_exemplars(tenant, exemplars, &mut outcome.exemplars);
        Ok(outcome)
    }

    /// Stores exemplars after their series' samples (the store takes
    /// exemplars of series it has). A store failure is logged and counted
    /// (`storage`), never the write's failure: its samples are stored.
    fn store_exemplars(
        &self,
        tenant: &TenantId,
        exemplars: Vec<(Labels, Exemplar)>,
        report: &mut ExemplarReport,
    ) {
        let n = exemplars.len();
        self.metrics
            .exemplars_received(tenant, n + report.rejected_total());
        if n > 0 {
            match self.store.append_exemplars(tenant, exemplars) {
                Ok(r) => {
                    report.written += r.written;
                    for (reason, k) in r.rejected {
                        *report.rejected.entry(reason).or_default() += k;
                    }
                }
                Err(error) => {
                    tracing::warn!(tenant = %tenant, %error, exemplars = n, "storing exemplars failed");
                    *report.rejected.entry("storage").or_default() += n;
                }
            }
        }
        for (reason, k) in &report.rejected {
            self.metrics.exemplars_rejected(tenant, reason, *k);
        }
    }
}

/// Moves the exemplars out of `series`, each with its series' labels;
/// those with labels over 128 characters are dropped and counted in
/// `report` (`label_too_long`).
fn take_exemplars(
    series: &mut [TimeSeries],
    report: &mut ExemplarReport,
) -> Vec<(Labels, Exemplar)> {
    let mut out = Vec::new();
    for ts in series {
        for e in std::mem::take(&mut ts.exemplars) {
            if e.labels_too_long() {
                *report.rejected.entry("label_too_long").or_default() += 1;
            } else {
                out.push((ts.labels.clone(), e));
            }
        }
    }
    out
}

/// Why a series breaks the label length limits, if it does.
fn label_too_long(ts: &TimeSeries, limits: &MetricsLimits) -> Option<String> {
    ts.labels.iter().find_map(|l| {
        if l.name.len() > limits.max_label_name_length {
            Some(format!(
                "label name {:?}… is longer than the limit of {} bytes",
                clip(&l.name, 40),
                limits.max_label_name_length
            ))
        } else if l.value.len() > limits.max_label_value_length {
            Some(format!(
                "value of label {:?} is longer than the limit of {} bytes",
                clip(&l.name, 40),
                limits.max_label_value_length
            ))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests;
