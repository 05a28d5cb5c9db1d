//! What the logs store plugs into the shared store
//! (`argus_segments::tenants`): its WAL records, its head, how a flush
//! cuts a frozen head into segments (one per aligned range) and how
//! compaction merges segments.

use crate::head::Head;
use crate::segment::{
    ms, write_rows, write_segment, FlushWindow, JsonColumns, MergeRows, SegmentMeta, SegmentReader,
    META_FILE, META_VERSION,
};
use crate::walrec::{self, Record};
use crate::{open_segment, LogsError};
use argus_model::{Labels, LogStream, TenantId};
use argus_objstore::ObjectStorage;
use argus_segments::tenants::{self, Frozen, HeadData, Signal};
use argus_segments::SegmentInfo;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The logs signal: how its segments are written.
#[derive(Clone)]
pub(crate) struct Logs {
    pub(crate) writer: crate::segment::WriterOptions,
    pub(crate) json_fields: Option<Arc<dyn argus_store::JsonFields>>,
}

/// What pushes keep across pushes and flushes.
#[derive(Debug, Default)]
pub(crate) struct AppendState {
    /// Each stream's newest entry time (ns), across flushes: the
    /// out-of-order window counts from it.
    pub(crate) newest: HashMap<Arc<Labels>, i64>,
}

impl HeadData for Head {
    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    fn first_append(&self) -> Option<Instant> {
        *self.first_append.lock()
    }
    fn time_range(&self) -> Option<(i64, i64)> {
        Head::time_range(self)
    }
    fn tail_start(&self, bytes: u64) -> Option<i64> {
        Head::tail_start(self, bytes)
    }
}

/// Lines of each stream a flush looks at to choose its JSON columns.
const JSON_SAMPLE_PER_STREAM: usize = 16;

impl Logs {
    /// The JSON columns of a new segment, of the keys `keys` picks (none
    /// without the engine's reader).
    fn json_columns(
        &self,
        keys: impl FnOnce(&dyn argus_store::JsonFields) -> Vec<String>,
    ) -> Option<JsonColumns> {
        let f = self.json_fields.as_ref()?;
        let keys = keys(f.as_ref());
        (!keys.is_empty()).then(|| JsonColumns {
            extractor: f.extractor(&keys),
            keys,
        })
    }
}

impl Signal for Logs {
    const SIGNAL: argus_model::Signal = argus_model::Signal::Logs;
    const FILES: &'static [&'static str] = crate::segment::FILES;
    type Head = Head;
    type Meta = SegmentMeta;
    type Segment = SegmentReader;
    type Batch = Vec<LogStream>;
    type Append = AppendState;
    type RecordError = walrec::RecordError;
    type Error = LogsError;

    fn decode_record(rec: &[u8]) -> Result<tenants::Record<Vec<LogStream>>, walrec::RecordError> {
        Ok(match walrec::decode(rec)? {
            Record::Entries(s) => tenants::Record::Payload(s),
            Record::Freeze(k) => tenants::Record::Freeze(k),
        })
    }

    fn drop_installed(batch: &mut Vec<LogStream>, installed: &dyn Fn(i64) -> bool) -> u64 {
        let mut dropped = 0;
        for s in batch.iter_mut() {
            let before = s.entries.len();
            s.entries.retain(|e| !installed(e.ts_ns));
            dropped += (before - s.entries.len()) as u64;
        }
        batch.retain(|s| !s.entries.is_empty());
        dropped
    }

    fn replay(&self, head: &Head, append: &mut AppendState, batches: Vec<Vec<LogStream>>) -> u64 {
        let mut interned: HashMap<Labels, Arc<Labels>> = HashMap::new();
        let mut replayed = 0u64;
        for s in batches.into_iter().flatten() {
            let labels = interned
                .entry(s.labels.clone())
                .or_insert_with(|| Arc::new(s.labels))
                .clone();
            if let Some(max) = s.entries.iter().map(|e| e.ts_ns).max() {
                let n = append.newest.entry(labels.clone()).or_insert(max);
                *n = (*n).max(max);
            }
            replayed += s.entries.len() as u64;
            head.append(&labels, s.entries);
        }
        replayed
    }

    async fn open_segment(
        &self,
        storage: &ObjectStorage,
        tenant: &TenantId,
        meta: SegmentMeta,
    ) -> Result<SegmentReader, LogsError> {
        open_segment(storage, tenant, meta).await
    }

    fn cut(
        &self,
        frozen: &Frozen<Head>,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> io::Result<Option<SegmentMeta>> {
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
        let Some(w) = write_segment(dir, entries, &self.writer, json.as_ref())? else {
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
        tenants::write_meta(&dir.join(META_FILE), &meta)?;
        Ok(Some(meta))
    }

    fn merge(
        &self,
        inputs: &[Arc<SegmentReader>],
        dir: &Path,
        target: &SegmentInfo,
    ) -> io::Result<SegmentMeta> {
        let mut keys: Vec<String> = inputs
            .iter()
            .flat_map(|s| s.meta.json_keys.iter().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        let flushes: Vec<FlushWindow> = inputs
            .iter()
            .flat_map(|s| s.meta.flushes.iter().copied())
            .collect();
        let json = self.json_columns(|_| keys);
        let mut rows = MergeRows::new(inputs, json.as_ref().map_or(&[], |j| &j.keys))?;
        let w = write_rows(dir, &mut rows, &self.writer, json.as_ref())?.unwrap_or_default();
        if w.entries == 0 {
            return Err(io::Error::other("merging segments without entries"));
        }
        let meta = SegmentMeta {
            version: META_VERSION,
            id: target.id.clone(),
            min_time: ms(w.min_ts),
            max_time: ms(w.max_ts) + 1,
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
        tenants::write_meta(&dir.join(META_FILE), &meta)?;
        Ok(meta)
    }

    /// Forgets the newest time of streams idle for a whole flush.
    fn released(&self, append: &mut AppendState, active: &Head, frozen: &Head) {
        append
            .newest
            .retain(|l, _| active.contains_stream(l) || frozen.contains_stream(l));
    }
}
