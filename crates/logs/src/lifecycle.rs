//! The logs store's side of the shared segment lifecycle
//! (`argus-segments`): a flush freezes the head and writes one segment per
//! aligned range ([`Lifecycle::flush`]); compaction merges segments of a
//! window; retention drops old ones.

use crate::head::Head;
use crate::segment::{
    ms, write_rows, write_segment, FlushWindow, JsonColumns, MergeRows, SegmentMeta, SegmentReader,
    META_FILE, META_VERSION,
};
use crate::tenant::{Frozen, TenantLogs};
use crate::walrec;
use crate::{open_segment, LogsDb, LogsError, LogsOptions};
use argus_objstore::ObjectStorage;
use argus_segments::{Event, Lifecycle, Policy, SegmentInfo, SegmentSource, SegmentStore};
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing::{info, warn};

impl LogsDb {
    /// Flushes every tenant whose head is due (size or age), or whose last
    /// flush failed. Cheap when nothing is due: call it often (every
    /// second).
    pub async fn flush_due(&self) {
        for t in self.all_tenants() {
            if self.is_due(&t) {
                let _g = t.lifecycle.lock().await;
                if let Err(e) = self.lifecycle(&t).flush().await {
                    warn!(tenant = %t.tenant, error = %e, "flushing logs failed; will retry");
                }
            }
        }
    }

    /// One full pass: flush what is due, compact, apply retention.
    ///
    /// Flushing goes first: a tenant's merges run one at a time, each
    /// under the tenant's lifecycle lock, and after the first of a pass
    /// they stop while its head is due for a flush, so a flush (which frees
    /// memory and ends back-pressure) waits for one merge at most, not for
    /// a whole compaction. The rest is merged on a later pass; one merge a
    /// pass, at least, keeps compaction going under sustained ingest.
    pub async fn maintain(&self) {
        self.flush_due().await;
        for t in self.all_tenants() {
            let lc = self.lifecycle(&t);
            let mut first = true;
            while std::mem::take(&mut first) || !self.is_due(&t) {
                let _g = t.lifecycle.lock().await;
                match lc.compact_next().await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        warn!(tenant = %t.tenant, error = %e, "logs compaction failed; will retry");
                        break;
                    }
                }
            }
            let _g = t.lifecycle.lock().await;
            if let Err(e) = lc.apply_retention((self.opts.clock)()).await {
                warn!(tenant = %t.tenant, error = %e, "logs retention failed; will retry");
            }
        }
    }

    /// Flushes every tenant's head now (tests, tools).
    pub async fn flush_all(&self) -> Result<(), LogsError> {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            self.lifecycle(&t).flush().await?;
        }
        Ok(())
    }

    /// Compacts every tenant now (tests, tools).
    pub async fn compact_all(&self) -> Result<(), LogsError> {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            self.lifecycle(&t).compact().await?;
        }
        Ok(())
    }

    pub(crate) fn is_due(&self, t: &TenantLogs) -> bool {
        let st = t.state.read();
        if st.frozen.is_some() {
            return true;
        }
        let head = &st.active;
        head.bytes.load(Ordering::Relaxed) >= self.opts.flush_bytes
            || head
                .first_append
                .lock()
                .is_some_and(|t| t.elapsed() >= self.opts.max_head_age)
    }

    pub(crate) fn lifecycle(&self, t: &Arc<TenantLogs>) -> Lifecycle<Segments> {
        let source = Arc::new(Segments {
            t: t.clone(),
            storage: self.storage.clone(),
            opts: self.opts.clone(),
            metrics: self.metrics.clone(),
        });
        let store = SegmentStore::new(self.storage.clone(), self.layout(&t.tenant));
        let policy = Policy {
            range_ms: self.opts.segment_range_ms,
            compaction_ranges: self.opts.compaction_ranges.clone(),
            retention_ms: self.opts.retention_ms,
            retention_bytes: self.opts.retention_bytes,
            size_tiered: true,
        };
        Lifecycle::new(source, store, policy)
    }
}

/// One tenant's heads and segments as the lifecycle sees them.
pub(crate) struct Segments {
    t: Arc<TenantLogs>,
    storage: ObjectStorage,
    opts: LogsOptions,
    metrics: Arc<crate::LogsMetrics>,
}

fn write_meta(dir: &Path, meta: &SegmentMeta) -> io::Result<()> {
    let path = dir.join(META_FILE);
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(meta).map_err(io::Error::other)?,
    )?;
    std::fs::File::open(&path)?.sync_all()
}

/// Lines of each stream a flush looks at to choose its JSON columns.
const JSON_SAMPLE_PER_STREAM: usize = 16;

impl Segments {
    /// The JSON columns of a new segment, of the keys `keys` picks (none
    /// without the engine's reader).
    fn json_columns(
        &self,
        keys: impl FnOnce(&dyn argus_store::JsonFields) -> Vec<String>,
    ) -> Option<JsonColumns> {
        let f = self.opts.json_fields.as_ref()?;
        let keys = keys(f.as_ref());
        (!keys.is_empty()).then(|| JsonColumns {
            extractor: f.extractor(&keys),
            keys,
        })
    }

    /// The rows of the installed segments `inputs`, by stream then time,
    /// for a segment of `json_keys`' columns.
    fn merged_rows(&self, inputs: &[SegmentInfo], json_keys: &[String]) -> io::Result<MergeRows> {
        let readers: Vec<Arc<SegmentReader>> = {
            let st = self.t.state.read();
            inputs
                .iter()
                .map(|i| {
                    st.segments
                        .iter()
                        .find(|s| s.meta.id == i.id)
                        .cloned()
                        .ok_or_else(|| io::Error::other(format!("segment {} not installed", i.id)))
                })
                .collect::<io::Result<_>>()?
        };
        MergeRows::new(&readers, json_keys)
    }
}

impl SegmentSource for Segments {
    type Meta = SegmentMeta;
    type Error = LogsError;

    fn info(meta: &SegmentMeta) -> SegmentInfo {
        meta.segment_info()
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.t
            .state
            .read()
            .segments
            .iter()
            .map(|s| s.meta.segment_info())
            .collect()
    }

    /// Logs flush ([`Lifecycle::flush`]); nothing is cut by time.
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
        walrec::encode_freeze(k, &mut rec);
        let closed = t
            .wal
            .append(&[&rec])
            .and_then(|seq| t.wal.sync(seq))
            .and_then(|_| t.wal.cut_segment());
        let closed = match closed {
            Ok(c) => c,
            Err(e) => {
                warn!(tenant = %t.tenant, error = %e, "logs flush: writing the WAL marker failed; will retry");
                return None;
            }
        };
        let mut st = t.state.write();
        let head = std::mem::replace(&mut st.active, Arc::new(Head::default()));
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
        st.frozen
            .as_ref()?
            .head
            .tail_start(self.opts.flush_tail_bytes)
    }

    fn cut(&self, dir: &Path, id: &str, start: i64, end: i64) -> io::Result<Option<SegmentMeta>> {
        let Some(frozen) = self.t.state.read().frozen.clone() else {
            return Ok(None);
        };
        if frozen.installed.contains(&(start, end)) {
            return Ok(None);
        }
        let (lo, hi) = (
            start.saturating_mul(1_000_000),
            end.saturating_mul(1_000_000),
        );
        let streams = frozen.head.streams.read();
        let json = self.json_columns(|f| {
            // A few lines of each stream, spread over its entries in range.
            let mut sample = Vec::new();
            for s in &streams.streams {
                let from = s.entries.partition_point(|e| e.ts_ns < lo);
                let to = s.entries.partition_point(|e| e.ts_ns < hi);
                let step = ((to - from) / JSON_SAMPLE_PER_STREAM).max(1);
                sample.extend(
                    s.entries[from..to]
                        .iter()
                        .step_by(step)
                        .take(JSON_SAMPLE_PER_STREAM)
                        .map(|e| e.line.as_str()),
                );
            }
            f.choose(&sample)
        });
        let mut order: Vec<usize> = (0..streams.streams.len()).collect();
        order.sort_by(|&a, &b| streams.streams[a].labels.cmp(&streams.streams[b].labels));
        let entries = order.into_iter().flat_map(|i| {
            let s = &streams.streams[i];
            let from = s.entries.partition_point(|e| e.ts_ns < lo);
            let to = s.entries.partition_point(|e| e.ts_ns < hi);
            s.entries[from..to]
                .iter()
                .map(move |e| Ok((s.labels.clone(), e)))
        });
        let Some(w) = write_segment(dir, entries, &self.opts.writer, json.as_ref())? else {
            return Ok(None);
        };
        let meta = SegmentMeta {
            version: META_VERSION,
            id: id.to_string(),
            min_time: ms(w.min_ts),
            max_time: ms(w.max_ts) + 1,
            bytes: w.file_bytes,
            level: 1,
            sources: vec![id.to_string()],
            parents: Vec::new(),
            streams: w.index.streams.len() as u64,
            entries: w.entries,
            raw_bytes: w.raw_bytes,
            flushes: vec![FlushWindow {
                wal: frozen.wal_segment,
                start,
                end,
            }],
            json_streams: w.json_streams(),
            json_keys: w.json_keys,
        };
        write_meta(dir, &meta)?;
        Ok(Some(meta))
    }

    fn merge(
        &self,
        dir: &Path,
        target: &SegmentInfo,
        inputs: &[SegmentInfo],
    ) -> io::Result<SegmentMeta> {
        let (flushes, keys): (Vec<FlushWindow>, Vec<String>) = {
            let st = self.t.state.read();
            let sources = st
                .segments
                .iter()
                .filter(|s| inputs.iter().any(|i| i.id == s.meta.id));
            let mut keys: Vec<String> = sources
                .clone()
                .flat_map(|s| s.meta.json_keys.iter().cloned())
                .collect();
            keys.sort();
            keys.dedup();
            (
                sources
                    .flat_map(|s| s.meta.flushes.iter().copied())
                    .collect(),
                keys,
            )
        };
        let json = self.json_columns(|_| keys);
        let mut rows = self.merged_rows(inputs, json.as_ref().map_or(&[], |j| &j.keys))?;
        let w = write_rows(dir, &mut rows, &self.opts.writer, json.as_ref())?.unwrap_or_default();
        let meta = SegmentMeta {
            version: META_VERSION,
            id: target.id.clone(),
            min_time: if w.entries > 0 {
                ms(w.min_ts)
            } else {
                target.min_time
            },
            max_time: if w.entries > 0 {
                ms(w.max_ts) + 1
            } else {
                target.max_time
            },
            bytes: w.file_bytes,
            level: target.level,
            sources: target.sources.clone(),
            parents: target.parents.clone(),
            streams: w.index.streams.len() as u64,
            entries: w.entries,
            raw_bytes: w.raw_bytes,
            flushes,
            json_streams: w.json_streams(),
            json_keys: w.json_keys.clone(),
        };
        if w.entries == 0 {
            return Err(io::Error::other("merging segments without entries"));
        }
        write_meta(dir, &meta)?;
        Ok(meta)
    }

    async fn install(&self, meta: &SegmentMeta, replaces: &[SegmentInfo]) -> Result<(), LogsError> {
        let reader = Arc::new(open_segment(&self.storage, &self.t.tenant, meta.clone()).await?);
        let mut st = self.t.state.write();
        st.segments
            .retain(|s| !replaces.iter().any(|r| r.id == s.meta.id));
        st.segments.push(reader);
        st.segments
            .sort_by_key(|s| (s.meta.min_time, s.meta.max_time));
        if replaces.is_empty() {
            if let Some(f) = &mut st.frozen {
                for w in &meta.flushes {
                    if w.wal == f.wal_segment {
                        f.installed.push((w.start, w.end));
                    }
                }
            }
        }
        Ok(())
    }

    fn remove(&self, id: &str) {
        self.t.state.write().segments.retain(|s| s.meta.id != id);
    }

    async fn release(&self, _end: i64) -> Result<(), LogsError> {
        let frozen = self.t.state.write().frozen.take();
        if let Some(f) = frozen {
            self.t.wal.checkpoint(f.wal_segment, std::iter::empty())?;
            // Forget the newest time of streams idle for a whole flush.
            let active = self.t.state.read().active.clone();
            let mut app = self.t.append.lock();
            app.newest
                .retain(|l, _| active.contains_stream(l) || f.head.contains_stream(l));
        }
        Ok(())
    }

    fn observe(&self, event: Event<'_, SegmentMeta>) {
        let m = &self.metrics;
        match &event {
            Event::Cut { elapsed, .. } => {
                m.segments_flushed.inc();
                m.flush_seconds.inc_by(elapsed.as_secs_f64());
            }
            Event::Compacted { .. } => {
                m.compactions.inc();
            }
            Event::Expired { .. } => {
                m.segments_expired.inc();
            }
            Event::UploadFailed => {
                m.uploads_failed.inc();
            }
        }
        match event {
            Event::Cut { meta, elapsed } => info!(
                tenant = %self.t.tenant,
                segment = %meta.id,
                entries = meta.entries,
                raw_bytes = meta.raw_bytes,
                bytes = meta.bytes,
                elapsed_ms = elapsed.as_millis() as u64,
                "logs segment flushed"
            ),
            Event::Compacted {
                meta,
                inputs,
                elapsed,
            } => info!(
                tenant = %self.t.tenant,
                segment = %meta.id,
                inputs = inputs.len(),
                bytes = meta.bytes,
                elapsed_ms = elapsed.as_millis() as u64,
                "logs segments compacted"
            ),
            Event::Expired { segment } => {
                info!(tenant = %self.t.tenant, segment = %segment.id, "logs segment expired")
            }
            Event::UploadFailed => {}
        }
    }
}
