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

    /// Registers `argus_ingest_samples_received_total` and
    /// `argus_ingest_samples_rejected_total` (the encoder adds `_total`).
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
    }
}

/// Log lines and bytes received, and lines refused before or by the store
/// by Loki's reason names, per tenant, whatever the entry point.
#[derive(Debug, Clone, Default)]
pub struct LogsIngestMetrics {
    lines: Family<TenantLabels, Counter>,
    bytes: Family<TenantLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
}

impl LogsIngestMetrics {
    pub fn received(&self, t: &TenantId, lines: usize, bytes: usize) {
        let l = TenantLabels {
            tenant: t.to_string(),
        };
        self.lines.get_or_create(&l).inc_by(lines as u64);
        self.bytes.get_or_create(&l).inc_by(bytes as u64);
    }

    pub fn rejected(&self, t: &TenantId, reason: &str, lines: usize) {
        self.rejected
            .get_or_create(&RejectedLabels {
                reason: reason.to_string(),
                tenant: t.to_string(),
            })
            .inc_by(lines as u64);
    }

    /// Registers `argus_ingest_log_lines_received_total`,
    /// `argus_ingest_log_bytes_received_total` and
    /// `argus_ingest_log_lines_rejected_total` (the encoder adds `_total`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "argus_ingest_log_lines_received",
            "Log lines received by the logs write endpoints",
            self.lines.clone(),
        );
        registry.register(
            "argus_ingest_log_bytes_received",
            "Bytes of log lines and structured metadata received by the logs write endpoints",
            self.bytes.clone(),
        );
        registry.register(
            "argus_ingest_log_lines_rejected",
            "Log lines refused, by reason (Loki's reason names)",
            self.rejected.clone(),
        );
    }
}
