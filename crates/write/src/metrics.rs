//! Self-metrics of the write pipeline, registered in the process's one
//! [`Registry`] ([`IngestMetrics::register`]).

use argus_model::TenantId;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectedLabels {
    reason: String,
    tenant: String,
}

/// Samples (floats and histograms) received and rejected before storage,
/// per tenant, whatever the entry point.
#[derive(Debug, Clone, Default)]
pub struct IngestMetrics {
    received: Family<TenantLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
    exemplars_received: Family<TenantLabels, Counter>,
    exemplars_rejected: Family<RejectedLabels, Counter>,
}

impl IngestMetrics {
    pub fn received(&self, t: &TenantId, n: usize) {
        self.received
            .get_or_create(&TenantLabels {
                tenant: t.to_string(),
            })
            .inc_by(n as u64);
    }

    pub fn rejected(&self, t: &TenantId, reason: &str, n: usize) {
        self.rejected
            .get_or_create(&RejectedLabels {
                reason: reason.to_string(),
                tenant: t.to_string(),
            })
            .inc_by(n as u64);
    }

    /// Counts exemplars received (of series the pipeline kept).
    pub fn exemplars_received(&self, t: &TenantId, n: usize) {
        if n > 0 {
            self.exemplars_received
                .get_or_create(&TenantLabels {
                    tenant: t.to_string(),
                })
                .inc_by(n as u64);
        }
    }

    /// Counts exemplars dropped, by reason (the pipeline's and the store's).
    pub fn exemplars_rejected(&self, t: &TenantId, reason: &str, n: usize) {
        if n > 0 {
            self.exemplars_rejected
                .get_or_create(&RejectedLabels {
                    reason: reason.to_string(),
                    tenant: t.to_string(),
                })
                .inc_by(n as u64);
        }
    }

    /// Registers `argus_ingest_samples_received_total`,
    /// `argus_ingest_samples_rejected_total`,
    /// `argus_ingest_exemplars_received_total` and
    /// `argus_ingest_exemplars_rejected_total` (the encoder adds `_total`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "argus_ingest_samples_received",
            "Samples received by write endpoints",
            self.received.clone(),
        );
        registry.register(
            "argus_ingest_samples_rejected",
            "Samples rejected before storage, by reason",
            self.rejected.clone(),
        );
        registry.register(
            "argus_ingest_exemplars_received",
            "Exemplars received by write endpoints and scrapes, of series kept",
            self.exemplars_received.clone(),
        );
        registry.register(
            "argus_ingest_exemplars_rejected",
            "Exemplars dropped, by reason (label_too_long, out_of_order, unknown_series, disabled, storage)",
            self.exemplars_rejected.clone(),
        );
    }
}

/// Items (log lines, spans) and their bytes received, and items refused
/// before or by the store by reason, per tenant, whatever the entry point:
/// [`LogsIngestMetrics`] and [`TracesIngestMetrics`].
#[derive(Debug, Clone, Default)]
pub struct ItemIngestMetrics {
    items: Family<TenantLabels, Counter>,
    bytes: Family<TenantLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
}

/// Log lines: `argus_ingest_log_lines_received_total`,
/// `argus_ingest_log_bytes_received_total`,
/// `argus_ingest_log_lines_rejected_total{reason}` (Loki's reason names).
pub type LogsIngestMetrics = ItemIngestMetrics;

/// Spans: `argus_ingest_spans_received_total`,
/// `argus_ingest_span_bytes_received_total`,
/// `argus_ingest_spans_rejected_total{reason}`.
pub type TracesIngestMetrics = ItemIngestMetrics;

impl ItemIngestMetrics {
    pub fn received(&self, t: &TenantId, items: usize, bytes: usize) {
        let l = TenantLabels {
            tenant: t.to_string(),
        };
        self.items.get_or_create(&l).inc_by(items as u64);
        self.bytes.get_or_create(&l).inc_by(bytes as u64);
    }

    pub fn rejected(&self, t: &TenantId, reason: &str, items: usize) {
        self.rejected
            .get_or_create(&RejectedLabels {
                reason: reason.to_string(),
                tenant: t.to_string(),
            })
            .inc_by(items as u64);
    }

    /// Registers the counters as logs counters (the encoder adds `_total`).
    pub fn register(&self, registry: &mut Registry) {
        self.register_as(
            registry,
            ("log_lines", "log_bytes"),
            "Log lines",
            "Loki's reason names",
        );
    }

    /// Registers the counters as traces counters.
    pub fn register_traces(&self, registry: &mut Registry) {
        self.register_as(
            registry,
            ("spans", "span_bytes"),
            "Spans",
            "Tempo's reason names",
        );
    }

    fn register_as(&self, registry: &mut Registry, names: (&str, &str), what: &str, reasons: &str) {
        let (items, bytes) = names;
        registry.register(
            format!("argus_ingest_{items}_received"),
            format!("{what} received by the write endpoints"),
            self.items.clone(),
        );
        registry.register(
            format!("argus_ingest_{bytes}_received"),
            format!(
                "Bytes of {} received by the write endpoints",
                what.to_lowercase()
            ),
            self.bytes.clone(),
        );
        registry.register(
            format!("argus_ingest_{items}_rejected"),
            format!("{what} refused, by reason ({reasons})"),
            self.rejected.clone(),
        );
    }
}
