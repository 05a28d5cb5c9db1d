//! The traces storage engine (`argus-traces`): spans of the shared model
//! (`argus_model::traces`) through the shared WAL (`argus-wal`, records in
//! [`walrec`]) into memory ([`head`]: spans by trace id, retried spans
//! stored once), then into immutable Parquet segments ([`segment`]) on the
//! shared store machinery (`argus_segments::tenants`: per-tenant WAL and
//! heads, flush, compaction, retention, back-pressure).
//!
//! ```text
//! push ─► per tenant: trace-size limit ─► WAL record (spans, arrival ms)
//!         ─► active head ─► fsync ─► 2xx
//! flush (size or age) ─► one segment per arrival window: spans sorted by
//!         trace id, an index (row groups' trace id ranges, a Bloom filter
//!         of trace ids), stats in meta.json (times, durations, services,
//!         names) ─► upload, install
//! compaction ─► segments of a window streamed into one (segment::merge_segments),
//!         a row group of each input in memory at a time, each span once
//! trace by id ─► heads, then the segments whose filter may hold the id
//!         (few row groups read)
//! search scan ─► heads, then segments newest first, skipping those whose
//!         stats rule the query out, a row group (whole traces) at a time
//! ```
//!
//! Segments are cut by arrival, as Tempo cuts blocks: a span's own times
//! never spread a flush over many windows. A span pushed again after its
//! first copy was flushed is stored twice; reads and merges keep one.

pub mod head;
pub mod segment;
mod signal;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
pub mod walrec;

use argus_model::traces::{Span, TraceId};
use argus_model::TenantId;
use argus_objstore::ObjectStorage;
use argus_segments::ahead::read_ahead;
use argus_segments::tenants::{StoreOptions, Tenants};
use argus_store::traces::{
    ScanStats, SpanHint, SpanPushReport, SpanRejectReason, TraceLimits, TraceRead, TraceScan,
    TracesReader, TracesWriter, Visit,
};
use argus_store::{StorageError, StorageErrorKind};
use head::{span_bytes, SharedHead};
use segment::{read_row_group_where, read_trace, ColumnCache, Segment, SpanStats, WriterOptions};
use signal::Traces;
use std::collections::HashMap;
use std::sync::Arc;

/// The default of [`TracesOptions::cache_bytes`]: 128 MiB, the
/// intrinsic columns of about 2M spans.
pub const DEFAULT_CACHE_BYTES: usize = 128 << 20;

/// How the traces store runs.
#[derive(Debug, Clone)]
pub struct TracesOptions {
    /// What every signal's store has.
    pub store: StoreOptions,
    pub writer: WriterOptions,
    /// Bytes of decoded columns kept in memory for searches
    /// ([`segment::ColumnCache`]; 0 keeps none).
    pub cache_bytes: usize,
}

impl TracesOptions {
    /// The shared defaults (segments of 1 h arrival windows compacted into
    /// 4 h and 24 h ones, kept 31 days).
    pub fn new(data_dir: std::path::PathBuf) -> Self {
        TracesOptions {
            store: StoreOptions::new(data_dir),
            writer: WriterOptions::default(),
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error("wal: {0}")]
    Wal(#[from] argus_wal::WalError),
    #[error("object storage: {0}")]
    Storage(#[from] argus_objstore::StorageError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("segment index: {0}")]
    Index(#[from] walrec::RecordError),
    /// A push waited for memory longer than allowed (429).
    #[error("{0}")]
    Overloaded(String),
    #[error("{0}")]
    Internal(String),
}

impl TracesError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        TracesError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<argus_segments::Error> for TracesError {
    fn from(e: argus_segments::Error) -> Self {
        match e {
            argus_segments::Error::Storage(e) => TracesError::Storage(e),
            argus_segments::Error::Io { path, source } => TracesError::io(&path, source),
            argus_segments::Error::Task(e) => TracesError::Internal(e),
            argus_segments::Error::Wal(e) => TracesError::Wal(e),
            argus_segments::Error::Overloaded(e) => TracesError::Overloaded(e),
        }
    }
}

impl From<TracesError> for StorageError {
    fn from(e: TracesError) -> Self {
        let kind = match &e {
            TracesError::Overloaded(_) => StorageErrorKind::Overloaded,
            TracesError::Io { source, .. } if source.raw_os_error() == Some(28) => {
                StorageErrorKind::Full
            }
            _ => StorageErrorKind::Internal,
        };
        StorageError::new(kind, e.to_string())
    }
}

/// The traces store: every tenant's spans.
#[derive(Debug)]
pub struct TracesDb {
    pub(crate) tenants: Tenants<Traces>,
    /// Decoded columns for searches; `None` when off.
    cache: Option<ColumnCache>,
}

impl TracesDb {
    /// Opens every tenant with traces locally (a WAL) or in the object
    /// store (segments), replaying WALs. Ready after this.
    pub async fn open(
        opts: TracesOptions,
        storage: ObjectStorage,
    ) -> Result<TracesDb, TracesError> {
        let signal = Traces {
            writer: opts.writer,
        };
        let mut tenants = Tenants::open(signal, opts.store, storage).await?;
        // Every flush adds a segment to its arrival window and nothing
        // arrives late in it: plain compaction, no tiers.
        tenants.size_tiered = false;
        let cache = (opts.cache_bytes > 0).then(|| ColumnCache::new(opts.cache_bytes));
        Ok(TracesDb { tenants, cache })
    }

    /// Flushes every tenant whose head is due. Cheap when nothing is due.
    pub async fn flush_due(&self) {
        self.tenants.flush_due().await
    }

    /// One full pass: flush what is due, compact, apply retention.
    pub async fn maintain(&self) {
        self.tenants.maintain().await
    }

    /// Flushes every tenant's head now (tests, tools, `POST /flush`).
    pub async fn flush_all(&self) -> Result<(), TracesError> {
        self.tenants.flush_all().await
    }

    /// Compacts every tenant now (tests, tools).
    pub async fn compact_all(&self) -> Result<(), TracesError> {
        self.tenants.compact_all().await
    }

    /// Registers the store's counters (`argus_traces_*`).
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.tenants
            .counters
            .register(registry, "traces", ("spans", "Spans"));
        if let Some(c) = &self.cache {
            c.counters.register(registry);
        }
    }

    fn push_spans(
        &self,
        tenant: &TenantId,
        spans: Vec<Span>,
        limits: TraceLimits,
    ) -> Result<SpanPushReport, TracesError> {
        let t = self.tenants.tenant_or_create(tenant)?;
        self.tenants.wait_for_memory(&t)?;
        let now = (self.tenants.opts.clock)();
        let mut report = SpanPushReport::default();
        let pushed = t.append(
            |app, active, _frozen, rec| {
                let kept = limit_trace_size(active, spans, limits, &mut report);
                if kept.is_empty() {
                    return None;
                }
                app.last_arrival = app.last_arrival.max(now);
                walrec::encode_spans(&kept, app.last_arrival, rec);
                Some((kept, app.last_arrival))
            },
            |_, active, (kept, arrival)| active.push(kept, arrival),
        )?;
        if let Some(p) = pushed {
            report.accepted += p.spans + p.duplicates;
            report.duplicates += p.duplicates;
            report.bytes += p.bytes;
            let c = &self.tenants.counters;
            c.items_appended.inc_by(p.spans as u64);
            c.bytes_appended.inc_by(p.bytes as u64);
        }
        Ok(report)
    }

    fn read_trace(
        &self,
        tenant: &TenantId,
        id: &TraceId,
        range_ns: Option<(i64, i64)>,
        max_bytes: usize,
    ) -> Result<TraceRead, TracesError> {
        let Some(t) = self.tenants.tenant(tenant) else {
            return Ok(TraceRead::default());
        };
        let (heads, segments) = {
            let st = t.state.read();
            let heads: Vec<Arc<SharedHead>> = st.heads().cloned().collect();
            let segments: Vec<Arc<Segment>> = st
                .segments
                .iter()
                .filter(|s| overlaps(&s.meta.stats, range_ns) && s.index.filter.may_contain(id))
                .cloned()
                .collect();
            (heads, segments)
        };
        let mut all: Vec<Span> = Vec::new();
        for h in heads {
            all.extend(h.head.read().trace(id).cloned());
        }
        for s in segments.iter().rev() {
            all.extend(
                read_trace(&s.data, &s.index, id).map_err(|e| TracesError::io(&s.data.path, e))?,
            );
        }
        let mut refs: Vec<&Span> = all.iter().collect();
        signal::sort_dedup(&mut refs);
        let mut out = TraceRead::default();
        let mut bytes = 0;
        for s in refs {
            bytes += span_bytes(s);
            if max_bytes > 0 && bytes > max_bytes {
                out.partial = true;
                break;
            }
            out.spans.push(s.clone());
        }
        Ok(out)
    }

    fn scan_traces(
        &self,
        tenant: &TenantId,
        scan: &TraceScan,
        visit: &mut dyn FnMut(&[Span], bool) -> Visit,
    ) -> Result<ScanStats, TracesError> {
        let mut stats = ScanStats::default();
        let Some(t) = self.tenants.tenant(tenant) else {
            return Ok(stats);
        };
        let (heads, mut segments) = {
            let st = t.state.read();
            let heads: Vec<Arc<SharedHead>> = st.heads().cloned().collect();
            (heads, st.segments.clone())
        };
        segments.sort_by_key(|s| std::cmp::Reverse(s.meta.max_time));
        let mut scanner = Scanner {
            scan,
            stats: &mut stats,
            visit,
            heads: heads.clone(),
            segments: segments.clone(),
        };
        for (i, h) in heads.iter().enumerate() {
            if scanner.head(h, i) == Visit::Stop {
                return Ok(stats);
            }
        }
        // The row groups to read, newest segment first.
        let mut jobs: Vec<(usize, usize)> = Vec::new();
        for (j, s) in segments.iter().enumerate() {
            scanner.stats.total_blocks += 1;
            if !overlaps(&s.meta.stats, scan.range_ns)
                || !stats_may_match(&s.meta.stats, &scan.hints)
            {
                scanner.stats.skipped_blocks += 1;
                continue;
            }
            for (rg, r) in s.index.row_groups.iter().enumerate() {
                if scan
                    .range_ns
                    .is_none_or(|(a, b)| r.min_start <= b && r.max_end >= a)
                {
                    jobs.push((j, rg));
                }
            }
        }
        // The first row groups on this thread (a selective search often
        // ends there), the rest on every core, a few ahead of the visits.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let read = |i: usize| {
            let (j, rg) = jobs[i];
            let s = &segments[j];
            read_row_group_where(
                &s.data,
                &s.index.origins,
                rg,
                &scan.hints,
                scan.hints_same_span,
                scan.fields,
                self.cache.as_ref(),
            )
            .map_err(|e| TracesError::io(&s.data.path, e))
            .map(|spans| (j, spans))
        };
        let mut failure = None;
        read_ahead(
            jobs.len(),
            8,
            threads,
            2 * threads,
            &read,
            &mut |got| match got {
                Ok((j, spans)) => spans
                    .chunk_by(|a, b| a.trace_id == b.trace_id)
                    .all(|trace| scanner.trace(trace, Source::Segment(j)) == Visit::Continue),
                Err(e) => {
                    failure = Some(e);
                    false
                }
            },
        );
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(stats)
    }
}

/// Hands a scan's traces to its visitor.
struct Scanner<'a> {
    scan: &'a TraceScan,
    stats: &'a mut ScanStats,
    visit: &'a mut dyn FnMut(&[Span], bool) -> Visit,
    /// Every source of the scan, to tell whether a trace has spans in
    /// another.
    heads: Vec<Arc<SharedHead>>,
    segments: Vec<Arc<Segment>>,
}

/// Where a scanned trace was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Head(usize),
    Segment(usize),
}

/// Whether a scan goes on, and whether a trace is to be visited.
enum Check {
    Stop,
    Skip,
    /// Visit the trace, its first this many spans (a byte budget).
    Visit(usize),
}

impl Scanner<'_> {
    /// Counts a trace as inspected and checks it against the scan's range
    /// and hints.
    fn check<'s>(&mut self, spans: impl Iterator<Item = &'s Span> + Clone) -> Check {
        let scan = self.scan;
        if scan.max_traces > 0 && self.stats.inspected_traces >= scan.max_traces as u64 {
            return Check::Stop;
        }
        self.stats.inspected_traces += 1;
        let (mut n, mut bytes, mut within) = (0, 0usize, 0);
        for s in spans.clone() {
            n += 1;
            bytes += span_bytes(s);
            if scan.max_trace_bytes == 0 || bytes <= scan.max_trace_bytes {
                within = n;
            }
        }
        self.stats.inspected_spans += n as u64;
        self.stats.inspected_bytes += bytes as u64;
        let in_range = |s: &Span| {
            scan.range_ns
                .is_none_or(|(a, b)| s.start_ns <= b && s.end_ns >= a)
        };
        if !spans.clone().any(in_range) {
            return Check::Skip;
        }
        if !scan
            .hints
            .iter()
            .all(|h| spans.clone().any(|s| hint_holds(h, s)))
        {
            return Check::Skip;
        }
        Check::Visit(within)
    }

    /// True when no source but `from` may hold spans of trace `id` (the
    /// heads by their index, the segments by their Bloom filters).
    fn only_in(&self, id: &TraceId, from: Source) -> bool {
        let in_head = self
            .heads
            .iter()
            .enumerate()
            .any(|(i, h)| from != Source::Head(i) && h.head.read().has_trace(id));
        let in_segment = self
            .segments
            .iter()
            .enumerate()
            .any(|(j, s)| from != Source::Segment(j) && !s.index.row_groups_of(id).is_empty());
        !in_head && !in_segment
    }

    /// A trace of a segment (all of its spans there).
    fn trace(&mut self, spans: &[Span], from: Source) -> Visit {
        match self.check(spans.iter()) {
            Check::Stop => Visit::Stop,
            Check::Skip => Visit::Continue,
            Check::Visit(n) => {
                let whole = n == spans.len() && self.only_in(&spans[0].trace_id, from);
                (self.visit)(&spans[..n], whole)
            }
        }
    }

    /// The traces of a head: checked under its lock, those to visit
    /// cloned a few at a time and visited without it (pushes wait for a
    /// chunk, not for the whole scan).
    fn head(&mut self, h: &SharedHead, i: usize) -> Visit {
        self.stats.total_blocks += 1;
        let mut ids: Vec<TraceId> = {
            let head = h.head.read();
            head.traces().map(|(id, _, _)| *id).collect()
        };
        ids.sort();
        for chunk in ids.chunks(256) {
            let mut batch: Vec<(Vec<Span>, bool)> = Vec::new();
            let mut then = Visit::Continue;
            {
                let head = h.head.read();
                for id in chunk {
                    match self.check(head.trace(id)) {
                        Check::Stop => {
                            then = Visit::Stop;
                            break;
                        }
                        Check::Skip => {}
                        Check::Visit(n) => {
                            let spans: Vec<Span> = head.trace(id).take(n).cloned().collect();
                            let all = head.trace(id).count() == n;
                            batch.push((spans, all));
                        }
                    }
                }
            }
            // Checked without this head's lock held (the others' are taken).
            for (spans, all) in &mut batch {
                if let Some(first) = spans.first() {
                    *all = *all && self.only_in(&first.trace_id, Source::Head(i));
                }
            }
            if self.visit_all(batch, then) == Visit::Stop {
                return Visit::Stop;
            }
        }
        Visit::Continue
    }

    fn visit_all(&mut self, batch: Vec<(Vec<Span>, bool)>, then: Visit) -> Visit {
        for (spans, whole) in batch {
            if (self.visit)(&spans, whole) == Visit::Stop {
                return Visit::Stop;
            }
        }
        then
    }
}

fn overlaps(st: &SpanStats, range_ns: Option<(i64, i64)>) -> bool {
    range_ns.is_none_or(|(a, b)| st.min_start_ns <= b && st.max_end_ns >= a)
}

/// False when a segment's stats show that no span meets one of `hints`.
fn stats_may_match(st: &SpanStats, hints: &[SpanHint]) -> bool {
    hints.iter().all(|h| match h {
        SpanHint::Service(s) => st.services.binary_search(s).is_ok(),
        SpanHint::Name(n) => st
            .names
            .as_ref()
            .is_none_or(|names| names.binary_search(n).is_ok()),
        SpanHint::MinDuration(d) => st.max_duration_ns >= *d,
        SpanHint::MaxDuration(d) => st.min_duration_ns <= *d,
        SpanHint::Error => st.error_spans > 0,
    })
}

fn hint_holds(h: &SpanHint, s: &Span) -> bool {
    match h {
        SpanHint::Service(x) => s.origin.service == *x,
        SpanHint::Name(x) => s.name == *x,
        SpanHint::MinDuration(d) => s.duration_ns() >= *d,
        SpanHint::MaxDuration(d) => s.duration_ns() <= *d,
        SpanHint::Error => s.status == argus_model::traces::StatusCode::Error,
    }
}

/// The spans of a push whose trace stays within `max_trace_bytes` in the
/// active head; the rest are counted as refused.
fn limit_trace_size(
    active: &SharedHead,
    spans: Vec<Span>,
    limits: TraceLimits,
    report: &mut SpanPushReport,
) -> Vec<Span> {
    if limits.max_trace_bytes == 0 {
        return spans;
    }
    let head = active.head.read();
    let mut sizes: HashMap<TraceId, usize> = HashMap::new();
    let mut kept = Vec::with_capacity(spans.len());
    for s in spans {
        let size = sizes
            .entry(s.trace_id)
            .or_insert_with(|| head.trace_bytes(&s.trace_id));
        let b = span_bytes(&s);
        if *size + b > limits.max_trace_bytes {
            *report
                .rejected
                .entry(SpanRejectReason::TraceTooLarge)
                .or_default() += 1;
            if report.examples.len() < 5 {
                report.examples.push((
                    argus_model::traces::hex_id(&s.trace_id),
                    format!(
                        "trace too large: max size of trace ({}) exceeded while adding {b} bytes",
                        limits.max_trace_bytes
                    ),
                ));
            }
            continue;
        }
        *size += b;
        kept.push(s);
    }
    kept
}

impl TracesWriter for TracesDb {
    fn push(
        &self,
        tenant: &TenantId,
        spans: Vec<Span>,
        limits: TraceLimits,
    ) -> Result<SpanPushReport, StorageError> {
        Ok(self.push_spans(tenant, spans, limits)?)
    }
}

impl TracesReader for TracesDb {
    fn services(
        &self,
        tenant: &TenantId,
        range_ns: Option<(i64, i64)>,
    ) -> Result<Vec<String>, StorageError> {
        let Some(t) = self.tenants.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let st = t.state.read();
        let mut out: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for s in st
            .segments
            .iter()
            .filter(|s| overlaps(&s.meta.stats, range_ns))
        {
            out.extend(s.meta.stats.services.iter().cloned());
        }
        for h in st.heads() {
            for sp in h.head.read().spans() {
                let inside = range_ns.is_none_or(|(a, b)| sp.start_ns <= b && sp.end_ns >= a);
                if inside && !out.contains(&sp.origin.service) {
                    out.insert(sp.origin.service.clone());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    fn trace(
        &self,
        tenant: &TenantId,
        id: &TraceId,
        range_ns: Option<(i64, i64)>,
        max_bytes: usize,
    ) -> Result<TraceRead, StorageError> {
        Ok(self.read_trace(tenant, id, range_ns, max_bytes)?)
    }

    fn scan(
        &self,
        tenant: &TenantId,
        scan: &TraceScan,
        visit: &mut dyn FnMut(&[Span], bool) -> Visit,
    ) -> Result<ScanStats, StorageError> {
        Ok(self.scan_traces(tenant, scan, visit)?)
    }
}

impl argus_store::Flush for TracesDb {
    fn flush(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + '_>>
    {
        Box::pin(async move { self.flush_all().await.map_err(StorageError::from) })
    }
}
