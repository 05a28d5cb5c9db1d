//! A tenant's heads and segments as the shared lifecycle sees them
//! ([`SegmentSource`]): freeze, cut and merge through the signal, install,
//! release.

use super::{ms, Frozen, HeadData, Installed, SegmentMeta, Signal, StoreCounters, Tenant};
use crate::{Event, SegmentInfo, SegmentSource};
use argus_objstore::ObjectStorage;
use std::io;
use std::path::Path;
use std::sync::Arc;
use tracing::{info, warn};

/// One tenant's heads and segments of signal `S`.
pub struct TenantSegments<S: Signal> {
    pub(super) signal: Arc<S>,
    pub(super) t: Arc<Tenant<S>>,
    pub(super) storage: ObjectStorage,
    pub(super) flush_tail_bytes: u64,
    pub(super) counters: Arc<StoreCounters>,
}

impl<S: Signal> std::fmt::Debug for TenantSegments<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantSegments")
            .field("signal", &S::SIGNAL)
            .field("tenant", &self.t.tenant)
            .finish_non_exhaustive()
    }
}

impl<S: Signal> SegmentSource for TenantSegments<S> {
    type Meta = S::Meta;
    type Error = S::Error;

    fn info(meta: &S::Meta) -> SegmentInfo {
        meta.info()
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.t
            .state
            .read()
            .segments
            .iter()
            .map(|s| s.meta().info())
            .collect()
    }

    /// These stores flush ([`crate::Lifecycle::flush`]); nothing is cut by time.
    fn unflushed_range(&self) -> Option<(i64, i64)> {
        None
    }

    fn seal_before(&self, _end: i64) {}

    fn freeze(&self) -> Option<(i64, i64)> {
        let t = &self.t;
        let _app = t.append.lock();
        {
            let st = t.state.read();
            if let Some(f) = &st.frozen {
                return f.head.time_range().map(|(a, b)| (ms(a), ms(b)));
            }
            st.active.time_range()?;
        }
        // A marker, then a new WAL segment: every record of the frozen head
        // is in a segment up to the closed one.
        let k = t.wal.stats().current_segment;
        let mut rec = Vec::new();
        S::encode_freeze(k, &mut rec);
        let closed = t
            .wal
            .append(&[&rec])
            .and_then(|seq| t.wal.sync(seq))
            .and_then(|_| t.wal.cut_segment());
        let closed = match closed {
            Ok(c) => c,
            Err(e) => {
                warn!(tenant = %t.tenant, signal = S::SIGNAL.as_str(), error = %e, "flush: writing the WAL marker failed; will retry");
                return None;
            }
        };
        let mut st = t.state.write();
        let head = std::mem::replace(&mut st.active, Arc::new(S::Head::default()));
        let range = head.time_range();
        st.frozen = Some(Frozen {
            head,
            wal_segment: closed,
            installed: Vec::new(),
        });
        range.map(|(a, b)| (ms(a), ms(b)))
    }

    fn tail_start(&self) -> Option<i64> {
        let st = self.t.state.read();
        st.frozen.as_ref()?.head.tail_start(self.flush_tail_bytes)
    }

    fn cut(&self, dir: &Path, id: &str, start: i64, end: i64) -> io::Result<Option<S::Meta>> {
        let Some(frozen) = self.t.state.read().frozen.clone() else {
            return Ok(None);
        };
        if frozen.installed.contains(&(start, end)) {
            return Ok(None);
        }
        self.signal.cut(&frozen, dir, id, start, end)
    }

    fn merge(
        &self,
        dir: &Path,
        target: &SegmentInfo,
        inputs: &[SegmentInfo],
    ) -> io::Result<S::Meta> {
        let readers: Vec<Arc<S::Segment>> = {
            let st = self.t.state.read();
            inputs
                .iter()
                .map(|i| {
                    st.segments
                        .iter()
                        .find(|s| s.meta().id() == i.id)
                        .cloned()
                        .ok_or_else(|| io::Error::other(format!("segment {} not installed", i.id)))
                })
                .collect::<io::Result<_>>()?
        };
        self.signal.merge(&readers, dir, target)
    }

    async fn install(&self, meta: &S::Meta, replaces: &[SegmentInfo]) -> Result<(), S::Error> {
        let reader = Arc::new(
            self.signal
                .open_segment(&self.storage, &self.t.tenant, meta.clone())
                .await?,
        );
        let mut st = self.t.state.write();
        st.segments
            .retain(|s| !replaces.iter().any(|r| r.id == s.meta().id()));
        st.segments.push(reader);
        st.segments.sort_by_key(|s| s.meta().time_range());
        if replaces.is_empty() {
            if let Some(f) = &mut st.frozen {
                for w in meta.flushes() {
                    if w.wal == f.wal_segment {
                        f.installed.push((w.start, w.end));
                    }
                }
            }
        }
        Ok(())
    }

    fn remove(&self, id: &str) {
        self.t
            .state
            .write()
            .segments
            .retain(|s| s.meta().id() != id);
    }

    async fn release(&self, _end: i64) -> Result<(), S::Error> {
        let frozen = self.t.state.write().frozen.take();
        if let Some(f) = frozen {
            self.t
                .wal
                .checkpoint(f.wal_segment, std::iter::empty())
                .map_err(crate::Error::from)?;
            let active = self.t.state.read().active.clone();
            let mut app = self.t.append.lock();
            self.signal.released(&mut app, &active, &f.head);
        }
        Ok(())
    }

    fn observe(&self, event: Event<'_, S::Meta>) {
        self.counters.observe(&event);
        let signal = S::SIGNAL.as_str();
        match event {
            Event::Cut { meta, elapsed } => info!(
                tenant = %self.t.tenant,
                signal,
                segment = %meta.id(),
                items = meta.items(),
                bytes = meta.info().bytes,
                elapsed_ms = elapsed.as_millis() as u64,
                "segment flushed"
            ),
            Event::Compacted {
                meta,
                inputs,
                elapsed,
            } => info!(
                tenant = %self.t.tenant,
                signal,
                segment = %meta.id(),
                inputs = inputs.len(),
                bytes = meta.info().bytes,
                elapsed_ms = elapsed.as_millis() as u64,
                "segments compacted"
            ),
            Event::Expired { segment } => {
                info!(tenant = %self.t.tenant, signal, segment = %segment.id, "segment expired")
            }
            Event::UploadFailed => {}
        }
    }
}
