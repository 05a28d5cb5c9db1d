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
mod metrics;
pub mod ngram;
pub mod segment;
mod signal;
pub mod template;
mod tenant;
pub mod walrec;

use argus_model::paths::{self, DataDir};
use argus_model::{Labels, LogPush, Matcher, Signal, TenantId};
use argus_objstore::ObjectStorage;
use argus_segments::tenants::Tenants;
use argus_store::{
    LogCursor, LogSelect, LogsReader, LogsWriter, PushReport, StorageError, StorageErrorKind,
    StreamLimits, StreamStats,
};
use cursor::{Cursor, Source};
use segment::{SegmentIndex, SegmentMeta, SegmentReader, WriterOptions};
use signal::Logs;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use tenant::TenantLogs;

pub use argus_segments::tenants::{Clock, StoreOptions};

/// How the logs store runs.
#[derive(Clone)]
pub struct LogsOptions {
    /// What every signal's store has: flush, segment range, compaction,
    /// retention, back-pressure, WAL.
    pub store: StoreOptions,
    pub writer: WriterOptions,
    /// Keeps top-level JSON members of lines as columns beside them (the
    /// query engine's reading of `| json`); `None`: lines only.
    pub json_fields: Option<Arc<dyn argus_store::JsonFields>>,
}

impl std::fmt::Debug for LogsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsOptions")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl LogsOptions {
    pub fn new(data_dir: PathBuf) -> Self {
        LogsOptions {
            store: StoreOptions::new(data_dir),
            writer: WriterOptions::default(),
            json_fields: None,
        }
    }

    pub fn data(&self) -> DataDir {
        self.store.data()
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
    /// A push waited for memory longer than allowed (429).
    #[error("{0}")]
    Overloaded(String),
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
            argus_segments::Error::Wal(e) => LogsError::Wal(e),
            argus_segments::Error::Overloaded(e) => LogsError::Overloaded(e),
        }
    }
}

impl From<LogsError> for StorageError {
    fn from(e: LogsError) -> Self {
        let kind = if e.is_disk_full() {
            StorageErrorKind::Full
        } else if matches!(e, LogsError::Overloaded(_)) {
            StorageErrorKind::Overloaded
        } else {
            StorageErrorKind::Internal
        };
        StorageError::new(kind, e.to_string())
    }
}

/// The logs store: every tenant's logs.
#[derive(Debug)]
pub struct LogsDb {
    pub(crate) tenants: Tenants<Logs>,
}

impl LogsDb {
    /// Opens every tenant with logs locally (a WAL) or in the object store
    /// (segments), replaying WALs. Ready after this.
    pub async fn open(opts: LogsOptions, storage: ObjectStorage) -> Result<LogsDb, LogsError> {
        let signal = Logs {
            writer: opts.writer,
            json_fields: opts.json_fields.clone(),
        };
        let tenants = Tenants::open(signal, opts.store.clone(), storage).await?;
        Ok(LogsDb { tenants })
    }

    pub(crate) fn tenant(&self, t: &TenantId) -> Option<Arc<TenantLogs>> {
        self.tenants.tenant(t)
    }

    pub(crate) fn all_tenants(&self) -> Vec<Arc<TenantLogs>> {
        self.tenants.all()
    }

    /// Flushes every tenant whose head is due (size or age), or whose last
    /// flush failed. Cheap when nothing is due: call it often (every
    /// second).
    pub async fn flush_due(&self) {
        self.tenants.flush_due().await
    }

    /// One full pass: flush what is due, compact, apply retention
    /// ([`Tenants::maintain`]).
    pub async fn maintain(&self) {
        self.tenants.maintain().await
    }

    /// Flushes every tenant's head now (tests, tools).
    pub async fn flush_all(&self) -> Result<(), LogsError> {
        self.tenants.flush_all().await
    }

    /// Compacts every tenant now (tests, tools).
    pub async fn compact_all(&self) -> Result<(), LogsError> {
        self.tenants.compact_all().await
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

impl LogsWriter for LogsDb {
    fn push(
        &self,
        tenant: &TenantId,
        streams: LogPush,
        limits: StreamLimits,
    ) -> Result<PushReport, StorageError> {
        let t = self
            .tenants
            .tenant_or_create(tenant)
            .map_err(LogsError::from)?;
        self.tenants.wait_for_memory(&t).map_err(LogsError::from)?;
        let report = tenant::push(&t, streams, limits)?;
        let c = &self.tenants.counters;
        c.items_appended.inc_by(report.accepted_entries as u64);
        c.bytes_appended.inc_by(report.accepted_bytes as u64);
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
