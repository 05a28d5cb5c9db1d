//! The logs store's self-metrics, registered in the process's one
//! registry ([`LogsDb::register_metrics`]): the shared store's counters
//! (`argus_segments::tenants::StoreCounters`) and per-tenant gauges read
//! when `/metrics` is encoded.

use crate::LogsDb;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

/// Per-tenant gauges of a [`LogsDb`], read when the registry is encoded.
#[derive(Debug)]
pub(crate) struct TenantGauges(pub(crate) Weak<LogsDb>);

struct Row {
    tenant: String,
    head_bytes: u64,
    head_entries: u64,
    head_streams: u64,
    segments: u64,
    segment_bytes: u64,
    wal_bytes: u64,
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
                let st = t.state.read();
                let mut heads = vec![st.active.clone()];
                heads.extend(st.frozen.as_ref().map(|f| f.head.clone()));
                Row {
                    tenant: t.tenant.to_string(),
                    head_bytes: heads.iter().map(|h| h.bytes.load(Ordering::Relaxed)).sum(),
                    head_entries: heads
                        .iter()
                        .map(|h| h.entries.load(Ordering::Relaxed))
                        .sum(),
                    head_streams: st.active.stream_count() as u64,
                    segments: st.segments.len() as u64,
                    segment_bytes: st.segments.iter().map(|s| s.meta.bytes).sum(),
                    wal_bytes: t.wal.stats().disk_bytes,
                }
            })
            .collect();
        drop(tenants);
        type Get = fn(&Row) -> u64;
        let gauges: [(&str, &str, Get); 6] = [
            (
                "argus_logs_head_bytes",
                "Bytes of log lines and metadata in memory (not yet in segments).",
                |r| r.head_bytes,
            ),
            ("argus_logs_head_entries", "Log entries in memory.", |r| {
                r.head_entries
            }),
            (
                "argus_logs_active_streams",
                "Streams in the active head.",
                |r| r.head_streams,
            ),
            ("argus_logs_segments_loaded", "Logs segments loaded.", |r| {
                r.segments
            }),
            (
                "argus_logs_segments_bytes",
                "Bytes of loaded logs segments.",
                |r| r.segment_bytes,
            ),
            ("argus_logs_wal_bytes", "Bytes of logs WAL on disk.", |r| {
                r.wal_bytes
            }),
        ];
        for (name, help, get) in gauges {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for r in &rows {
                ConstGauge::new(get(r) as i64)
                    .encode(m.encode_family(&[("tenant", &*r.tenant)])?)?;
            }
        }
        Ok(())
    }
}

impl LogsDb {
    /// Registers the store's counters and per-tenant gauges.
    pub fn register_metrics(self: &Arc<Self>, registry: &mut Registry) {
        self.tenants
            .counters
            .register(registry, "logs", ("entries", "Log entries"));
        registry.register_collector(Box::new(TenantGauges(Arc::downgrade(self))));
    }
}
