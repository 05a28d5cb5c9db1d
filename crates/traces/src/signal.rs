//! What the traces store plugs into the shared store
//! (`argus_segments::tenants`): its WAL records, its head, how a flush cuts
//! a frozen head into segments by arrival, how compaction merges them.

use crate::head::{span_bytes, SharedHead};
use crate::segment::{
    merge_segments, write_segment, DataFile, MergeInput, Segment, SegmentIndex, SegmentMeta,
    SpanStats, WriterOptions, INDEX_FILE, META_FILE, META_VERSION,
};
use crate::walrec::{self, Record, RecordError};
use crate::TracesError;
use argus_model::paths;
use argus_model::traces::Span;
use argus_model::TenantId;
use argus_objstore::ObjectStorage;
use argus_segments::tenants::{self, FlushWindow, Frozen, Signal};
use argus_segments::SegmentInfo;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// The traces signal: how its segments are written.
#[derive(Debug, Clone)]
pub(crate) struct Traces {
    pub(crate) writer: WriterOptions,
}

/// What pushes keep across pushes.
#[derive(Debug, Default)]
pub(crate) struct AppendState {
    /// The last push's arrival (ms): arrivals never go back.
    pub(crate) last_arrival: i64,
}

/// A spans WAL payload.
#[derive(Debug)]
pub(crate) struct Batch {
    arrival_ms: i64,
    spans: Vec<Span>,
}

/// Sorts spans as a segment holds them and drops repeats of a span (a push
/// retried after its first copy was flushed is in two segments).
pub(crate) fn sort_dedup(spans: &mut Vec<&Span>) {
    spans.sort_by(|a, b| {
        (a.trace_id, a.start_ns, a.span_id).cmp(&(b.trace_id, b.start_ns, b.span_id))
    });
    spans.dedup_by(|a, b| a.trace_id == b.trace_id && a.span_id == b.span_id);
}

impl Traces {
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        dir: &Path,
        id: &str,
        spans: &[&Span],
        arrival: (i64, i64),
        level: u32,
        lineage: (Vec<String>, Vec<String>),
        flushes: Vec<FlushWindow>,
    ) -> io::Result<Option<SegmentMeta>> {
        let Some(w) = write_segment(dir, spans, &self.writer)? else {
            return Ok(None);
        };
        let meta = SegmentMeta {
            version: META_VERSION,
            id: id.to_string(),
            min_time: arrival.0,
            max_time: arrival.1,
            bytes: w.file_bytes,
            level,
            sources: lineage.0,
            parents: lineage.1,
            spans: w.spans,
            traces: w.traces,
            raw_bytes: spans.iter().map(|s| span_bytes(s) as u64).sum(),
            flushes,
            stats: SpanStats::of(spans.iter().copied()),
        };
        tenants::write_meta(&dir.join(META_FILE), &meta)?;
        Ok(Some(meta))
    }
}

impl Signal for Traces {
    const SIGNAL: argus_model::Signal = argus_model::Signal::Traces;
    const FILES: &'static [&'static str] = crate::segment::FILES;
    type Head = SharedHead;
    type Meta = SegmentMeta;
    type Segment = Segment;
    type Batch = Batch;
    type Append = AppendState;
    type RecordError = RecordError;
    type Error = TracesError;

    fn decode_record(rec: &[u8]) -> Result<tenants::Record<Batch>, RecordError> {
        Ok(match walrec::decode(rec)? {
            Record::Spans { arrival_ms, spans } => {
                tenants::Record::Payload(Batch { arrival_ms, spans })
            }
            Record::Freeze(k) => tenants::Record::Freeze(k),
        })
    }

    fn drop_installed(batch: &mut Batch, installed: &dyn Fn(i64) -> bool) -> u64 {
        if installed(batch.arrival_ms.saturating_mul(1_000_000)) {
            let n = batch.spans.len() as u64;
            batch.spans.clear();
            return n;
        }
        0
    }

    fn replay(&self, head: &SharedHead, append: &mut AppendState, batches: Vec<Batch>) -> u64 {
        let mut n = 0;
        for b in batches {
            append.last_arrival = append.last_arrival.max(b.arrival_ms);
            n += head.push(b.spans, b.arrival_ms).spans as u64;
        }
        n
    }

    async fn open_segment(
        &self,
        storage: &ObjectStorage,
        tenant: &TenantId,
        meta: SegmentMeta,
    ) -> Result<Segment, TracesError> {
        let key =
            |f: &str| paths::key::block_file(tenant, argus_model::Signal::Traces, &meta.id, f);
        let index_path = storage.local_file(&key(INDEX_FILE)).await?;
        let data = storage.local_file(&key(crate::segment::DATA_FILE)).await?;
        tokio::task::spawn_blocking(move || {
            let b = std::fs::read(&index_path).map_err(|e| TracesError::io(&index_path, e))?;
            let index = SegmentIndex::decode(&b)?;
            let file = DataFile::open(&data).map_err(|e| TracesError::io(&data, e))?;
            if file.num_row_groups() != index.row_groups.len() {
                return Err(TracesError::io(
                    &data,
                    std::io::Error::other(format!(
                        "{} row groups, the index lists {}",
                        file.num_row_groups(),
                        index.row_groups.len()
                    )),
                ));
            }
            Ok(Segment {
                meta,
                index,
                data: file,
            })
        })
        .await
        .map_err(|e| TracesError::Internal(e.to_string()))?
    }

    fn cut(
        &self,
        frozen: &Frozen<SharedHead>,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> io::Result<Option<SegmentMeta>> {
        let head = frozen.head.head.read();
        let Some((first, last)) = head.arrivals_in(start, end) else {
            return Ok(None);
        };
        let mut spans: Vec<&Span> = head.arrived(start, end).iter().collect();
        sort_dedup(&mut spans);
        let flush = FlushWindow {
            wal: frozen.wal_segment,
            start,
            end,
        };
        self.write(
            dir,
            id,
            &spans,
            (first, last + 1),
            1,
            (vec![id.to_string()], Vec::new()),
            vec![flush],
        )
    }

    fn merge(
        &self,
        inputs: &[Arc<Segment>],
        dir: &Path,
        target: &SegmentInfo,
    ) -> io::Result<SegmentMeta> {
        let merge: Vec<MergeInput> = inputs
            .iter()
            .map(|s| MergeInput {
                data: s.data.clone(),
                origins: s.index.origins.clone(),
                row_groups: s.index.row_groups.len(),
                spans: s.meta.spans,
                traces: s.meta.traces,
            })
            .collect();
        let w = merge_segments(&merge, dir, &self.writer)?
            .ok_or_else(|| io::Error::other("merging segments without spans"))?;
        let meta = SegmentMeta {
            version: META_VERSION,
            id: target.id.clone(),
            min_time: inputs
                .iter()
                .map(|s| s.meta.min_time)
                .min()
                .unwrap_or(target.min_time),
            max_time: inputs
                .iter()
                .map(|s| s.meta.max_time)
                .max()
                .unwrap_or(target.max_time),
            bytes: w.file_bytes,
            level: target.level,
            sources: target.sources.clone(),
            parents: target.parents.clone(),
            spans: w.spans,
            traces: w.traces,
            // The inputs' sizes less the repeats dropped, roughly.
            raw_bytes: inputs.iter().map(|s| s.meta.raw_bytes).sum::<u64>() * w.spans
                / inputs.iter().map(|s| s.meta.spans).sum::<u64>().max(1),
            flushes: inputs
                .iter()
                .flat_map(|s| s.meta.flushes.iter().copied())
                .collect(),
            stats: SpanStats::merge(inputs.iter().map(|s| &s.meta.stats)),
        };
        tenants::write_meta(&dir.join(META_FILE), &meta)?;
        Ok(meta)
    }
}
