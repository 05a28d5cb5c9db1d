//! The Argus logs store.
//!
//! ```text
//! push ─► per tenant: validate (stream limit, out-of-order window, retried
//!         duplicates) ─► WAL record (argus-wal) ─► active head ─► fsync ─► 2xx
//! flush (size or age) ─► freeze: a WAL marker, a new WAL segment, the head
//!         set aside ─► one Parquet segment per aligned range ─► upload,
//!         install ─► release: drop the frozen head, checkpoint the WAL
//! compaction, retention: argus-segments, as for every signal
//! select ─► active head, frozen head, segments (time, stream and trigram
//!         indexes skip what cannot match) ─► batches of one stream
//! ```
//!
//! Unlike metrics, a flush refuses no late data: entries within the
//! out-of-order window still go to the new head, and segments of two
//! flushes may overlap in time (reads merge them). A restart replays the
//! WAL; entries of a flush whose segment was installed before the crash are
//! skipped (each segment names its flush, the WAL carries the flush's
//! marker). The formats are in `docs/format/logs.md`.

mod cursor;
mod head;
mod lifecycle;
mod metrics;
pub mod ngram;
pub mod segment;
pub mod template;
mod tenant;
pub mod walrec;

use argus_model::paths::{self, DataDir};
use argus_model::{Labels, LogPush, Matcher, Signal, TenantId};
use argus_objstore::ObjectStorage;
use argus_segments::{SegmentLayout, SegmentStore};
use argus_store::{
    LogCursor, LogSelect, LogsReader, LogsWriter, PushReport, StorageError, StorageErrorKind,
    StreamLimits, StreamStats,
};
use argus_wal::WalOptions;
use cursor::{Cursor, Source};
pub use metrics::LogsMetrics;
use parking_lot::RwLock;
use segment::{SegmentIndex, SegmentMeta, SegmentReader, WriterOptions};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tenant::TenantLogs;
use tracing::warn;

/// Milliseconds since the epoch; injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How the logs store runs.
#[derive(Clone)]
pub struct LogsOptions {
    pub data_dir: PathBuf,
    /// Segments hold one aligned range of this length at most (ms). Default 1h.
    pub segment_range_ms: i64,
    /// Ranges compaction builds, the first being `segment_range_ms`. Default 1h, 4h, 24h.
    pub compaction_ranges: Vec<i64>,
    /// Delete segments whose newest entry is older than this (ms). 0 = keep. Default 31d.
    pub retention_ms: i64,
    /// Delete the oldest segments while a tenant's exceed this. 0 = no limit.
    pub retention_bytes: u64,
    /// Flush a tenant's head once it holds this many bytes of lines and metadata. Default 128 MiB.
    pub flush_bytes: u64,
    /// Flush a tenant's head once its first entry is this old. Default 15 min.
    pub max_head_age: Duration,
    /// A flush writes the newest this many bytes of lines and metadata into
    /// a segment of their own (when the head holds at least twice as
    /// much): a newest-first query, Grafana's default, reads them without
    /// decompressing the whole flush. 0 = off. Default 4 MiB.
    pub flush_tail_bytes: u64,
    /// A tenant's unflushed bytes (the active head and one being flushed)
    /// may reach this; a push waits for a flush to free memory, up to
    /// `push_wait`, then is refused (429). Default twice `flush_bytes`.
    pub max_head_bytes: u64,
    /// How long a push waits for memory before it is refused. Default 10 s.
    pub push_wait: Duration,
    pub wal: WalOptions,
    pub writer: WriterOptions,
    /// Keeps top-level JSON members of lines as columns beside them (the
    /// query engine's reading of `| json`); `None`: lines only.
    pub json_fields: Option<Arc<dyn argus_store::JsonFields>>,
    pub clock: Clock,
}

impl std::fmt::Debug for LogsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsOptions")
            .field("data_dir", &self.data_dir)
            .field("segment_range_ms", &self.segment_range_ms)
            .field("retention_ms", &self.retention_ms)
            .field("flush_bytes", &self.flush_bytes)
            .field("max_head_age", &self.max_head_age)
            .finish_non_exhaustive()
    }
}

impl LogsOptions {
    pub fn new(data_dir: PathBuf) -> Self {
        let h = 3_600_000;
        LogsOptions {
            data_dir,
            segment_range_ms: h,
            compaction_ranges: vec![h, 4 * h, 24 * h],
            retention_ms: 31 * 24 * h,
            retention_bytes: 0,
            flush_bytes: 128 << 20,
            max_head_age: Duration::from_secs(15 * 60),
            flush_tail_bytes: 4 << 20,
            max_head_bytes: 256 << 20,
            push_wait: Duration::from_secs(10),
            wal: WalOptions::default(),
            writer: WriterOptions::default(),
            json_fields: None,
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0)
            }),
        }
    }

    pub fn data(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LogsError {
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
    Index(#[from] segment::IndexError),
    #[error("{0}")]
    Internal(String),
}

impl LogsError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        LogsError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// True when the failure comes from a full disk.
    pub fn is_disk_full(&self) -> bool {
        let code = match self {
            LogsError::Io { source, .. } => source.raw_os_error(),
            LogsError::Wal(e) => std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .and_then(|e| e.raw_os_error()),
            _ => None,
        };
        code == Some(28)
    }
}

impl From<argus_segments::Error> for LogsError {
    fn from(e: argus_segments::Error) -> Self {
        match e {
            argus_segments::Error::Storage(e) => LogsError::Storage(e),
            argus_segments::Error::Io { path, source } => LogsError::io(&path, source),
            argus_segments::Error::Task(e) => LogsError::Internal(e),
        }
    }
}

impl From<LogsError> for StorageError {
    fn from(e: LogsError) -> Self {
        let kind = if e.is_disk_full() {
            StorageErrorKind::Full
        } else {
            StorageErrorKind::Internal
        };
        StorageError::new(kind, e.to_string())
    }
}

/// The logs store: every tenant's logs.
#[derive(Debug)]
pub struct LogsDb {
    pub(crate) opts: LogsOptions,
    pub(crate) storage: ObjectStorage,
    tenants: RwLock<HashMap<TenantId, Arc<TenantLogs>>>,
    pub(crate) metrics: Arc<LogsMetrics>,
}

impl LogsDb {
    /// Opens every tenant with logs locally (a WAL) or in the object store
    /// (segments), replaying WALs. Ready after this.
    pub async fn open(opts: LogsOptions, storage: ObjectStorage) -> Result<LogsDb, LogsError> {
        let db = LogsDb {
            opts,
            storage,
            tenants: RwLock::default(),
            metrics: Arc::default(),
        };
        let data = db.opts.data();
        let mut tenants: BTreeSet<TenantId> = db
            .storage
            .tenants(Signal::Logs)
            .await?
            .into_iter()
            .collect();
        tenants.extend(local_tenants(&data));
        for tenant in tenants {
            let segments = db.load_segments(&tenant).await?;
            let opts = db.opts.clone();
            let t = tenant.clone();
            let tl = tokio::task::spawn_blocking(move || TenantLogs::open(t, &opts, segments))
                .await
                .map_err(|e| LogsError::Internal(e.to_string()))??;
            db.tenants.write().insert(tenant, Arc::new(tl));
        }
        Ok(db)
    }

    /// Where a tenant's segments live: `tenants/<t>/logs/blocks/<id>/`,
    /// staged in `<data_dir>/tenants/<t>/logs/staging/<id>/`.
    pub(crate) fn layout(&self, tenant: &TenantId) -> SegmentLayout {
        SegmentLayout {
            tenant: tenant.clone(),
            prefix: paths::key::blocks(tenant, Signal::Logs),
            files: segment::FILES,
            staging: self.opts.data().staging(tenant, Signal::Logs),
        }
    }

    async fn load_segments(&self, tenant: &TenantId) -> Result<Vec<Arc<SegmentReader>>, LogsError> {
        let store = SegmentStore::new(self.storage.clone(), self.layout(tenant));
        let mut metas = Vec::new();
        for (id, b) in store.load_complete().await? {
            match serde_json::from_slice::<SegmentMeta>(&b) {
                Ok(m) => metas.push(m),
                Err(e) => {
                    warn!(tenant = %tenant, segment = %id, error = %e, "ignoring logs segment with unreadable meta.json")
                }
            }
        }
        let infos: Vec<_> = metas.iter().map(SegmentMeta::segment_info).collect();
        let superseded = store.delete_superseded(&infos).await?;
        let mut out = Vec::new();
        for m in metas {
            if !superseded.contains(&m.id) {
                out.push(Arc::new(open_segment(&self.storage, tenant, m).await?));
            }
        }
        out.sort_by_key(|s| (s.meta.min_time, s.meta.max_time));
        Ok(out)
    }

    pub(crate) fn tenant(&self, t: &TenantId) -> Option<Arc<TenantLogs>> {
        self.tenants.read().get(t).cloned()
    }

    pub(crate) fn all_tenants(&self) -> Vec<Arc<TenantLogs>> {
        self.tenants.read().values().cloned().collect()
    }

    fn tenant_or_create(&self, t: &TenantId) -> Result<Arc<TenantLogs>, LogsError> {
        if let Some(x) = self.tenant(t) {
            return Ok(x);
        }
        let mut map = self.tenants.write();
        if let Some(x) = map.get(t) {
            return Ok(x.clone());
        }
        let tl = Arc::new(TenantLogs::open(t.clone(), &self.opts, Vec::new())?);
        map.insert(t.clone(), tl.clone());
        Ok(tl)
    }

    /// Backpressure: while the tenant's unflushed bytes are at
    /// `max_head_bytes` (ingest outruns flushing), a push waits for a flush
    /// to release memory; after `push_wait` it is refused as overloaded
    /// (429), so memory stays bounded instead of growing until an OOM kill.
    fn wait_for_memory(&self, t: &TenantLogs) -> Result<(), StorageError> {
        let max = self.opts.max_head_bytes;
        if max == 0 {
            return Ok(());
        }
        let deadline = std::time::Instant::now() + self.opts.push_wait;
        loop {
            let held = t.unflushed_bytes();
            if held < max {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                self.metrics.pushes_refused_memory.inc();
                return Err(StorageError::new(
                    StorageErrorKind::Overloaded,
                    format!(
                        "the logs store holds {held} unflushed bytes for tenant {} (logs.max_head_bytes = {max}) and flushing has not caught up within {:?}; retry later",
                        t.tenant, self.opts.push_wait
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The sources a read of `tenant` goes through, in `direction`'s order.
    fn sources(
        &self,
        t: &TenantLogs,
        start_ns: i64,
        end_ns: i64,
        newest_first: bool,
    ) -> Vec<Source> {
        let st = t.state.read();
        let mut segs: Vec<Arc<SegmentReader>> = st
            .segments
            .iter()
            .filter(|s| s.overlaps(start_ns, end_ns))
            .cloned()
            .collect();
        let mut out = Vec::new();
        if newest_first {
            segs.sort_by_key(|s| std::cmp::Reverse(s.meta.max_time));
            out.push(Source::Head {
                head: st.active.clone(),
                installed: None,
            });
            if let Some(f) = &st.frozen {
                out.push(Source::Head {
                    head: f.head.clone(),
                    installed: Some(f.clone()),
                });
            }
            out.extend(segs.into_iter().map(Source::Segment));
        } else {
            segs.sort_by_key(|s| s.meta.min_time);
            out.extend(segs.into_iter().map(Source::Segment));
            if let Some(f) = &st.frozen {
                out.push(Source::Head {
                    head: f.head.clone(),
                    installed: Some(f.clone()),
                });
            }
            out.push(Source::Head {
                head: st.active.clone(),
                installed: None,
            });
        }
        out
    }

    /// Per-stream stats of a tenant (heads exact, segments whole); head
    /// bytes only when `sizes` (listing streams needs none).
    fn collect_stats(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        sizes: bool,
    ) -> Vec<StreamStats> {
        let Some(t) = self.tenant(tenant) else {
            return Vec::new();
        };
        let mut acc: HashMap<Arc<Labels>, StreamStats> = HashMap::new();
        let mut add = |labels: &Arc<Labels>, entries: u64, bytes: u64| {
            let s = acc.entry(labels.clone()).or_insert_with(|| StreamStats {
                labels: labels.clone(),
                chunks: 0,
                entries: 0,
                bytes: 0,
            });
            s.chunks += 1;
            s.entries += entries;
            s.bytes += bytes;
        };
        let st = t.state.read();
        let mut heads = vec![st.active.clone()];
        heads.extend(st.frozen.as_ref().map(|f| f.head.clone()));
        for h in heads {
            for (l, e, b) in h.stream_stats(matchers, (start_ns, end_ns), sizes) {
                add(&l, e, b);
            }
        }
        for seg in st.segments.iter().filter(|s| s.overlaps(start_ns, end_ns)) {
            let wanted = seg.matching_streams(matchers, start_ns, end_ns);
            for (s, w) in seg.index.streams.iter().zip(wanted) {
                if w {
                    add(&s.labels, s.entries, s.bytes);
                }
            }
        }
        let mut out: Vec<StreamStats> = acc.into_values().collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

/// Opens an uploaded segment: its index read, its data file local.
pub(crate) async fn open_segment(
    storage: &ObjectStorage,
    tenant: &TenantId,
    meta: SegmentMeta,
) -> Result<SegmentReader, LogsError> {
    let key = |f: &str| paths::key::block_file(tenant, Signal::Logs, &meta.id, f);
    let index_path = storage.local_file(&key(segment::INDEX_FILE)).await?;
    let data_path = storage.local_file(&key(segment::DATA_FILE)).await?;
    tokio::task::spawn_blocking(move || {
        let b = std::fs::read(&index_path).map_err(|e| LogsError::io(&index_path, e))?;
        let index = SegmentIndex::decode(&b)?;
        SegmentReader::open(meta, index, data_path.clone())
            .map_err(|e| LogsError::io(&data_path, e))
    })
    .await
    .map_err(|e| LogsError::Internal(e.to_string()))?
}

/// Tenants with a local `tenants/<t>/logs/` directory.
fn local_tenants(data: &DataDir) -> Vec<TenantId> {
    let Ok(rd) = std::fs::read_dir(data.tenants()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(t) = TenantId::new(&name) {
            if data.signal(&t, Signal::Logs).is_dir() {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}

impl LogsWriter for LogsDb {
    fn push(
        &self,
        tenant: &TenantId,
        streams: LogPush,
        limits: StreamLimits,
    ) -> Result<PushReport, StorageError> {
        let t = self.tenant_or_create(tenant)?;
        self.wait_for_memory(&t)?;
        let report = t.push(streams, limits)?;
        self.metrics
            .entries_appended
            .inc_by(report.accepted_entries as u64);
        self.metrics
            .bytes_appended
            .inc_by(report.accepted_bytes as u64);
        Ok(report)
    }
}

impl argus_store::Flush for LogsDb {
    fn flush(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + '_>>
    {
        Box::pin(async move { self.flush_all().await.map_err(StorageError::from) })
    }
}

#[derive(Debug)]
struct EmptyCursor;

impl LogCursor for EmptyCursor {
    fn next_batch(&mut self) -> Result<Option<argus_store::LogBatch>, StorageError> {
        Ok(None)
    }
    fn stats(&self) -> argus_store::ScanStats {
        argus_store::ScanStats::default()
    }
}

impl LogsReader for LogsDb {
    fn select(
        &self,
        tenant: &TenantId,
        select: &LogSelect,
    ) -> Result<Box<dyn LogCursor>, StorageError> {
        let Some(t) = self.tenant(tenant) else {
            return Ok(Box::new(EmptyCursor));
        };
        let newest_first = select.direction == argus_store::Direction::Backward;
        let sources = self.sources(&t, select.start_ns, select.end_ns, newest_first);
        Ok(Box::new(Cursor::new(select.clone(), sources)))
    }

    fn select_parts(
        &self,
        tenant: &TenantId,
        select: &LogSelect,
        parts: usize,
    ) -> Result<Vec<Box<dyn LogCursor>>, StorageError> {
        let Some(t) = self.tenant(tenant) else {
            return Ok(vec![Box::new(EmptyCursor)]);
        };
        let newest_first = select.direction == argus_store::Direction::Backward;
        let sources = self.sources(&t, select.start_ns, select.end_ns, newest_first);
        Ok(Cursor::parts(select.clone(), sources, parts)
            .into_iter()
            .map(|c| Box::new(c) as Box<dyn LogCursor>)
            .collect())
    }

    fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        let all = [Vec::new()];
        let sets = if matcher_sets.is_empty() {
            &all[..]
        } else {
            matcher_sets
        };
        let mut out: BTreeSet<Labels> = BTreeSet::new();
        for m in sets {
            for s in self.collect_stats(tenant, m, start_ns, end_ns, false) {
                out.insert((*s.labels).clone());
            }
        }
        Ok(out.into_iter().collect())
    }

    fn stream_stats(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<StreamStats>, StorageError> {
        Ok(self.collect_stats(tenant, matchers, start_ns, end_ns, true))
    }
}

#[cfg(test)]
mod tests;
