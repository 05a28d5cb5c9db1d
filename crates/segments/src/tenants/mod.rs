//! One signal's store over every tenant: what logs and traces (and any
//! signal whose segments are cut from a frozen head) share.
//!
//! ```text
//! push ─► Tenant::append: under the append lock the signal validates and
//!         encodes a WAL record ─► WAL ─► active head ─► fsync ─► 2xx
//! flush ─► freeze: a marker in the WAL, a new WAL segment, the head set
//!         aside ─► Signal::cut per aligned range ─► upload, install
//!         ─► release: drop the frozen head, checkpoint the WAL
//! compaction, retention ─► Signal::merge, the shared policy
//! restart ─► replay the WAL over the installed segments: records of a
//!         flush whose segment is installed are skipped (FlushWindow)
//! ```
//!
//! A signal says what its WAL payloads, heads and segments are
//! ([`Signal`], [`HeadData`], [`Installed`], [`SegmentMeta`]); everything
//! else — the tenant registry, WAL replay, freeze and release,
//! back-pressure, the maintenance passes, the counters — is here once.

mod metrics;
mod registry;
mod source;
mod tenant;

pub use metrics::StoreCounters;
pub use registry::Tenants;
pub use source::TenantSegments;
pub use tenant::{Frozen, State, Tenant};

use crate::SegmentInfo;
use argus_model::paths::DataDir;
use argus_model::TenantId;
use argus_objstore::ObjectStorage;
use argus_wal::WalOptions;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The aligned range of one flush a segment holds data of: on restart,
/// WAL records of that flush in that range are already in the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushWindow {
    /// The WAL segment the flush closed (its id).
    pub wal: u64,
    /// ms, inclusive.
    pub start: i64,
    /// ms, exclusive.
    pub end: i64,
}

/// A WAL record as a signal decodes it.
#[derive(Debug)]
pub enum Record<B> {
    /// Data acknowledged to a client.
    Payload(B),
    /// A flush froze the head; its records are in WAL segments up to this one.
    Freeze(u64),
}

/// One generation of in-memory data: the active head, or a frozen one being
/// flushed. Shared between writers and readers: its methods take `&self`.
pub trait HeadData: Default + std::fmt::Debug + Send + Sync + 'static {
    /// Bytes held, as `flush_bytes` and `max_head_bytes` count them.
    fn bytes(&self) -> u64;
    /// When the first data arrived (the age flush counts from it).
    fn first_append(&self) -> Option<Instant>;
    /// Min and max timestamp (ns, inclusive) of the data held.
    fn time_range(&self) -> Option<(i64, i64)>;
    /// Where (ms) the newest part of the head holding about `bytes` starts,
    /// when a flush should cut it into a segment of its own; `None` (the
    /// default): no such part.
    fn tail_start(&self, bytes: u64) -> Option<i64> {
        let _ = bytes;
        None
    }
}

/// A signal's `meta.json`.
pub trait SegmentMeta:
    Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
    fn info(&self) -> SegmentInfo;
    fn id(&self) -> &str;
    /// `min_time` (inclusive) and `max_time` (exclusive), ms.
    fn time_range(&self) -> (i64, i64);
    /// The flushes this segment holds data of.
    fn flushes(&self) -> &[FlushWindow];
    /// Items (entries, spans) the segment holds, for logs and counters.
    fn items(&self) -> u64;
}

/// An installed segment a store reads from.
pub trait Installed: std::fmt::Debug + Send + Sync + 'static {
    type Meta: SegmentMeta;
    fn meta(&self) -> &Self::Meta;
}

/// What a signal plugs into the shared store.
pub trait Signal: Send + Sync + 'static {
    /// Which signal: the directories and keys of its data.
    const SIGNAL: argus_model::Signal;
    type Head: HeadData;
    type Meta: SegmentMeta;
    type Segment: Installed<Meta = Self::Meta>;
    /// One decoded WAL payload.
    type Batch: Send;
    /// What a tenant's pushes keep under its append lock across pushes
    /// and flushes (logs: each stream's newest time).
    type Append: Default + std::fmt::Debug + Send + 'static;
    type RecordError: std::error::Error + Send + Sync + 'static;
    type Error: From<crate::Error> + std::fmt::Display + std::fmt::Debug + Send + 'static;

    /// The files of a segment, the meta file (`meta.json`) last.
    const FILES: &'static [&'static str];

    fn decode_record(rec: &[u8]) -> Result<Record<Self::Batch>, Self::RecordError>;

    /// A freeze marker's WAL record.
    fn encode_freeze(wal_segment: u64, out: &mut Vec<u8>) {
        argus_wal::codec::encode_freeze(wal_segment, out);
    }

    /// Drops the batch's data with a time (ns) for which `installed` holds;
    /// how many items it dropped.
    fn drop_installed(batch: &mut Self::Batch, installed: &dyn Fn(i64) -> bool) -> u64;

    /// Applies replayed batches (in WAL order) to a new head; how many items.
    fn replay(
        &self,
        head: &Self::Head,
        append: &mut Self::Append,
        batches: Vec<Self::Batch>,
    ) -> u64;

    /// Opens an uploaded segment for reading.
    fn open_segment(
        &self,
        storage: &ObjectStorage,
        tenant: &TenantId,
        meta: Self::Meta,
    ) -> impl Future<Output = Result<Self::Segment, Self::Error>> + Send;

    /// Writes the frozen head's data in `[start, end)` ms into segment
    /// `id`'s files in `dir` (its meta file last); `None` when there is
    /// none. Blocking. The meta names the flush window
    /// (`frozen.wal_segment`, start, end).
    fn cut(
        &self,
        frozen: &Frozen<Self::Head>,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> std::io::Result<Option<Self::Meta>>;

    /// Merges installed segments into `target`'s files in `dir` (its meta
    /// file last). Blocking.
    fn merge(
        &self,
        inputs: &[Arc<Self::Segment>],
        dir: &Path,
        target: &SegmentInfo,
    ) -> std::io::Result<Self::Meta>;

    /// A flush released `frozen`; `active` is the head now taking pushes.
    fn released(&self, append: &mut Self::Append, active: &Self::Head, frozen: &Self::Head) {
        let _ = (append, active, frozen);
    }
}

/// Milliseconds since the epoch; injectable for tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How a signal's store runs, the same for every signal.
#[derive(Clone)]
pub struct StoreOptions {
    pub data_dir: PathBuf,
    /// Segments hold one aligned range of this length at most (ms). Default 1h.
    pub segment_range_ms: i64,
    /// Ranges compaction builds, the first being `segment_range_ms`. Default 1h, 4h, 24h.
    pub compaction_ranges: Vec<i64>,
    /// Delete segments whose newest data is older than this (ms). 0 = keep. Default 31d.
    pub retention_ms: i64,
    /// Delete the oldest segments while a tenant's exceed this. 0 = no limit.
    pub retention_bytes: u64,
    /// Flush a tenant's head once it holds this many bytes. Default 128 MiB.
    pub flush_bytes: u64,
    /// Flush a tenant's head once its first data is this old. Default 15 min.
    pub max_head_age: Duration,
    /// A flush writes the newest this many bytes into a segment of their
    /// own (when the head holds at least twice as much), for signals whose
    /// heads support it ([`HeadData::tail_start`]). 0 = off. Default 4 MiB.
    pub flush_tail_bytes: u64,
    /// A tenant's unflushed bytes (the active head and one being flushed)
    /// may reach this; a push waits for a flush to free memory, up to
    /// `push_wait`, then is refused (429). 0 = no limit. Default twice
    /// `flush_bytes`.
    pub max_head_bytes: u64,
    /// How long a push waits for memory before it is refused. Default 10 s.
    pub push_wait: Duration,
    pub wal: WalOptions,
    pub clock: Clock,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("data_dir", &self.data_dir)
            .field("segment_range_ms", &self.segment_range_ms)
            .field("retention_ms", &self.retention_ms)
            .field("flush_bytes", &self.flush_bytes)
            .field("max_head_age", &self.max_head_age)
            .field("max_head_bytes", &self.max_head_bytes)
            .finish_non_exhaustive()
    }
}

impl StoreOptions {
    pub fn new(data_dir: PathBuf) -> Self {
        let h = 3_600_000;
        StoreOptions {
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

/// Writes a segment's meta file at `path` (JSON) and syncs it: what
/// [`Signal::cut`] and [`Signal::merge`] write last.
pub fn write_meta(path: &Path, meta: &impl SegmentMeta) -> std::io::Result<()> {
    std::fs::write(
        path,
        serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?,
    )?;
    std::fs::File::open(path)?.sync_all()
}

/// Milliseconds of a nanosecond time (floor).
pub fn ms(ns: i64) -> i64 {
    ns.div_euclid(1_000_000)
}
