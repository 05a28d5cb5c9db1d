//! Self-metrics of the write pipeline.

use argus_model::TenantId;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Samples (floats and histograms) received and rejected before storage,
/// per tenant, whatever the entry point.
#[derive(Debug, Default)]
pub struct IngestMetrics {
    received: Mutex<BTreeMap<String, u64>>,
    rejected: Mutex<BTreeMap<(String, String), u64>>,
}

impl IngestMetrics {
    pub fn received(&self, t: &TenantId, n: usize) {
        *self.received.lock().entry(t.to_string()).or_default() += n as u64;
    }

    pub fn rejected(&self, t: &TenantId, reason: &str, n: usize) {
        *self
            .rejected
            .lock()
            .entry((t.to_string(), reason.to_string()))
            .or_default() += n as u64;
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP argus_ingest_samples_received_total Samples received by write endpoints.\n# TYPE argus_ingest_samples_received_total counter");
        for (t, v) in self.received.lock().iter() {
            let _ = writeln!(
                out,
                "argus_ingest_samples_received_total{{tenant=\"{t}\"}} {v}"
            );
        }
        let _ = writeln!(out, "# HELP argus_ingest_samples_rejected_total Samples rejected before storage, by reason.\n# TYPE argus_ingest_samples_rejected_total counter");
        for ((t, r), v) in self.rejected.lock().iter() {
            let _ = writeln!(
                out,
                "argus_ingest_samples_rejected_total{{reason=\"{r}\",tenant=\"{t}\"}} {v}"
            );
        }
    }
}
