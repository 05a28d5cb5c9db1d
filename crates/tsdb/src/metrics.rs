//! The storage engine's self-metrics, rendered in Prometheus text format.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct DbMetrics {
    /// (tenant) → samples appended.
    pub samples_appended: Mutex<BTreeMap<String, u64>>,
    /// (tenant, reason) → samples rejected by the storage engine.
    pub samples_rejected: Mutex<BTreeMap<(String, String), u64>>,
    pub series_created: AtomicU64,
    pub blocks_cut: AtomicU64,
    pub compactions: AtomicU64,
    pub compaction_seconds_total: Mutex<f64>,
    pub block_uploads_failed: AtomicU64,
    pub blocks_deleted_retention: AtomicU64,
}

impl DbMetrics {
    pub fn add_appended(&self, tenant: &str, n: usize) {
        *self
            .samples_appended
            .lock()
            .entry(tenant.to_string())
            .or_default() += n as u64;
    }

    pub fn add_rejected(&self, tenant: &str, reason: &str, n: usize) {
        *self
            .samples_rejected
            .lock()
            .entry((tenant.to_string(), reason.to_string()))
            .or_default() += n as u64;
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP argus_tsdb_samples_appended_total Samples appended to the head.\n# TYPE argus_tsdb_samples_appended_total counter");
        for (t, v) in self.samples_appended.lock().iter() {
            let _ = writeln!(
                out,
                "argus_tsdb_samples_appended_total{{tenant=\"{t}\"}} {v}"
            );
        }
        let _ = writeln!(out, "# HELP argus_tsdb_samples_rejected_total Samples the storage engine rejected, by reason.\n# TYPE argus_tsdb_samples_rejected_total counter");
        for ((t, r), v) in self.samples_rejected.lock().iter() {
            let _ = writeln!(
                out,
                "argus_tsdb_samples_rejected_total{{reason=\"{r}\",tenant=\"{t}\"}} {v}"
            );
        }
        let c = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        c(
            out,
            "argus_tsdb_series_created_total",
            "Series created in heads.",
            self.series_created.load(Ordering::Relaxed),
        );
        c(
            out,
            "argus_tsdb_blocks_cut_total",
            "Blocks cut from heads.",
            self.blocks_cut.load(Ordering::Relaxed),
        );
        c(
            out,
            "argus_tsdb_compactions_total",
            "Block compactions done.",
            self.compactions.load(Ordering::Relaxed),
        );
        c(
            out,
            "argus_tsdb_block_uploads_failed_total",
            "Failed block upload attempts (retried).",
            self.block_uploads_failed.load(Ordering::Relaxed),
        );
        c(
            out,
            "argus_tsdb_blocks_deleted_retention_total",
            "Blocks deleted by retention.",
            self.blocks_deleted_retention.load(Ordering::Relaxed),
        );
        let secs = *self.compaction_seconds_total.lock();
        let _ = writeln!(out, "# HELP argus_tsdb_compaction_seconds_total Time spent compacting.\n# TYPE argus_tsdb_compaction_seconds_total counter\nargus_tsdb_compaction_seconds_total {secs}");
    }
}
