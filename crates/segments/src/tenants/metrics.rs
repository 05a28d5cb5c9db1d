//! Counters every signal's store keeps, registered under the signal's
//! name (`argus_logs_…`, `argus_traces_…`).

use crate::Event;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A store's counters.
#[derive(Debug, Default)]
pub struct StoreCounters {
    /// Items (entries, spans) stored.
    pub items_appended: Counter,
    /// Bytes of the items stored.
    pub bytes_appended: Counter,
    pub segments_flushed: Counter,
    pub compactions: Counter,
    pub segments_expired: Counter,
    pub uploads_failed: Counter,
    pub pushes_refused_memory: Counter,
    pub flush_seconds: Counter<f64, AtomicU64>,
}

impl StoreCounters {
    /// Registers the counters as `argus_<signal>_*_total`; `items` names
    /// what the store holds (`entries`, `spans`) and describes it.
    pub fn register(&self, registry: &mut Registry, signal: &str, items: (&str, &str)) {
        let (item, what) = items;
        for (name, help, c) in [
            (
                format!("argus_{signal}_{item}_appended"),
                format!("{what} stored"),
                &self.items_appended,
            ),
            (
                format!("argus_{signal}_bytes_appended"),
                format!("Bytes of {signal} stored (before compression)"),
                &self.bytes_appended,
            ),
            (
                format!("argus_{signal}_segments_flushed"),
                format!("{signal} segments written by flushes"),
                &self.segments_flushed,
            ),
            (
                format!("argus_{signal}_compactions"),
                format!("{signal} segment compactions done"),
                &self.compactions,
            ),
            (
                format!("argus_{signal}_segments_expired"),
                format!("{signal} segments deleted by retention"),
                &self.segments_expired,
            ),
            (
                format!("argus_{signal}_pushes_refused_memory"),
                format!(
                    "Pushes refused because unflushed {signal} reached {signal}.max_head_bytes"
                ),
                &self.pushes_refused_memory,
            ),
            (
                format!("argus_{signal}_segment_uploads_failed"),
                format!("Failed {signal} segment upload attempts (retried)"),
                &self.uploads_failed,
            ),
        ] {
            registry.register(name, help, c.clone());
        }
        registry.register(
            format!("argus_{signal}_flush_seconds"),
            format!("Time spent writing, uploading and installing {signal} segments"),
            self.flush_seconds.clone(),
        );
    }

    pub(super) fn observe<M>(&self, event: &Event<'_, M>) {
        match event {
            Event::Cut { elapsed, .. } => {
                self.segments_flushed.inc();
                self.flush_seconds.inc_by(elapsed.as_secs_f64());
            }
            Event::Compacted { .. } => {
                self.compactions.inc();
            }
            Event::Expired { .. } => {
                self.segments_expired.inc();
            }
            Event::UploadFailed => {
                self.uploads_failed.inc();
            }
        }
    }
}
