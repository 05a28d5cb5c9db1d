//! The storage engine's self-metrics, registered in the process's one
//! [`Registry`] ([`Db::register_metrics`](crate::Db::register_metrics)):
//! counters kept as the engine works ([`DbMetrics`]) and per-tenant gauges
//! read from the heads, blocks and WALs when `/metrics` is encoded
//! ([`TenantGauges`]).

use crate::Db;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Weak;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectedLabels {
    reason: String,
    tenant: String,
}

/// The engine's counters.
#[derive(Debug, Default)]
pub struct DbMetrics {
    samples_appended: Family<TenantLabels, Counter>,
    samples_rejected: Family<RejectedLabels, Counter>,
    exemplars_appended: Family<TenantLabels, Counter>,
    exemplars_rejected: Family<RejectedLabels, Counter>,
    pub series_created: Counter,
    pub blocks_cut: Counter,
    pub compactions: Counter,
    pub compaction_seconds: Counter<f64, AtomicU64>,
    pub block_uploads_failed: Counter,
    pub blocks_deleted_retention: Counter,
}

impl DbMetrics {
    pub fn add_appended(&self, tenant: &str, n: usize) {
        self.samples_appended
            .get_or_create(&TenantLabels {
                tenant: tenant.to_string(),
            })
            .inc_by(n as u64);
    }

    pub fn add_rejected(&self, tenant: &str, reason: &str, n: usize) {
        self.samples_rejected
            .get_or_create(&RejectedLabels {
                reason: reason.to_string(),
                tenant: tenant.to_string(),
            })
            .inc_by(n as u64);
    }

    /// Counts an exemplar append: written (duplicates included) and
    /// rejected by reason.
    pub fn record_exemplars(&self, tenant: &str, r: &argus_store::ExemplarReport) {
        if r.written > 0 {
            self.exemplars_appended
                .get_or_create(&TenantLabels {
                    tenant: tenant.to_string(),
                })
                .inc_by(r.written as u64);
        }
        for (reason, n) in &r.rejected {
            self.exemplars_rejected
                .get_or_create(&RejectedLabels {
                    reason: reason.to_string(),
                    tenant: tenant.to_string(),
                })
                .inc_by(*n as u64);
        }
    }

    /// Registers the counters as `argus_tsdb_*_total` (the encoder adds
    /// `_total`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "argus_tsdb_samples_appended",
            "Samples appended to the head",
            self.samples_appended.clone(),
        );
        registry.register(
            "argus_tsdb_samples_rejected",
            "Samples the storage engine rejected, by reason",
            self.samples_rejected.clone(),
        );
        registry.register(
            "argus_tsdb_exemplars_appended",
            "Exemplars stored (exact duplicates of a series' newest included)",
            self.exemplars_appended.clone(),
        );
        registry.register(
            "argus_tsdb_exemplars_rejected",
            "Exemplars the storage engine refused, by reason",
            self.exemplars_rejected.clone(),
        );
        for (name, help, c) in [
            (
                "argus_tsdb_series_created",
                "Series created in heads",
                &self.series_created,
            ),
            (
                "argus_tsdb_blocks_cut",
                "Blocks cut from heads",
                &self.blocks_cut,
            ),
            (
                "argus_tsdb_compactions",
                "Block compactions done",
                &self.compactions,
            ),
            (
                "argus_tsdb_block_uploads_failed",
                "Failed block upload attempts (retried)",
                &self.block_uploads_failed,
            ),
            (
                "argus_tsdb_blocks_deleted_retention",
                "Blocks deleted by retention",
                &self.blocks_deleted_retention,
            ),
        ] {
            registry.register(name, help, c.clone());
        }
        registry.register(
            "argus_tsdb_compaction_seconds",
            "Time spent compacting",
            self.compaction_seconds.clone(),
        );
    }
}

/// Per-tenant gauges of a [`Db`] (head series and chunks, blocks, WAL),
/// read when the registry is encoded; nothing once the database is gone.
#[derive(Debug)]
pub(crate) struct TenantGauges(pub(crate) Weak<Db>);

/// One tenant's row of [`TenantGauges`].
struct Row {
    tenant: String,
    head_series: u64,
    head_chunks: u64,
    blocks: u64,
    block_bytes: u64,
    exemplars: u64,
    wal: argus_wal::WalStats,
}

impl Collector for TenantGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(db) = self.0.upgrade() else {
            return Ok(());
        };
        let mut tenants = db.all_tenants();
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        let rows: Vec<Row> = tenants
            .iter()
            .map(|t| {
                let blocks = t.blocks();
                Row {
                    tenant: t.tenant.to_string(),
                    head_series: t.head.num_series() as u64,
                    head_chunks: t.head.chunk_count() as u64,
                    blocks: blocks.len() as u64,
                    block_bytes: blocks.iter().map(|b| b.meta.stats.num_bytes).sum(),
                    exemplars: t.exemplars.len() as u64,
                    wal: t.wal.stats(),
                }
            })
            .collect();
        drop(tenants);
        type Get = fn(&Row) -> f64;
        let gauges: [(&str, &str, Get); 7] = [
            (
                "argus_tsdb_head_series",
                "Active series in the head.",
                |r| r.head_series as f64,
            ),
            ("argus_tsdb_head_chunks", "Chunks in the head.", |r| {
                r.head_chunks as f64
            }),
            ("argus_tsdb_blocks_loaded", "Blocks loaded.", |r| {
                r.blocks as f64
            }),
            ("argus_tsdb_blocks_bytes", "Bytes of loaded blocks.", |r| {
                r.block_bytes as f64
            }),
            (
                "argus_tsdb_exemplars",
                "Exemplars held in memory (at most tsdb.max_exemplars per tenant).",
                |r| r.exemplars as f64,
            ),
            ("argus_wal_bytes", "Bytes of WAL on disk.", |r| {
                r.wal.disk_bytes as f64
            }),
            (
                "argus_wal_last_fsync_seconds",
                "Duration of the latest WAL fsync.",
                |r| r.wal.last_fsync_seconds,
            ),
        ];
        for (name, help, get) in gauges {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for r in &rows {
                let v = get(r);
                // Whole numbers as integers, as the text format had them.
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    ConstGauge::new(v as i64)
                        .encode(m.encode_family(&[("tenant", &*r.tenant)])?)?;
                } else {
                    ConstGauge::new(v).encode(m.encode_family(&[("tenant", &*r.tenant)])?)?;
                }
            }
        }
        let mut m = encoder.encode_descriptor(
            "argus_wal_fsyncs",
            "WAL fsyncs.",
            None,
            MetricType::Counter,
        )?;
        for r in &rows {
            ConstCounter::new(r.wal.fsyncs).encode(m.encode_family(&[("tenant", &*r.tenant)])?)?;
        }
        let mut m = encoder.encode_descriptor(
            "argus_wal_fsync_seconds",
            "Time spent in WAL fsync.",
            None,
            MetricType::Counter,
        )?;
        for r in &rows {
            ConstCounter::new(r.wal.fsync_seconds_total)
                .encode(m.encode_family(&[("tenant", &*r.tenant)])?)?;
        }
        Ok(())
    }
}
