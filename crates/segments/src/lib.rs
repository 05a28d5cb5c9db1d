//! The lifecycle of immutable segments, shared by every signal's store.
//!
//! A store (metrics blocks, logs and traces segments) keeps recent data in
//! memory and turns it into immutable segments in object storage. What is the
//! same for every signal lives here:
//!
//! - [`policy`]: when to cut, which segments to compact together, which to
//!   drop by retention, which were superseded by a crash during compaction —
//!   pure functions over [`SegmentInfo`].
//! - [`SegmentStore`]: the object-store side of one tenant's segments of one
//!   signal, keyed by a [`SegmentLayout`]: staging directories, upload with
//!   retry (meta file last), delete (meta file first), start-up clean-up.
//! - [`Lifecycle`]: the driver that runs cut → upload → install → release,
//!   compaction and retention over a store's [`SegmentSource`], which only
//!   says how to cut its in-memory data into files and how to merge segments.
//! - [`tenants`]: the rest of a store whose segments are cut from a frozen
//!   head (logs, traces): per tenant a WAL, heads and segments, WAL replay,
//!   back-pressure, the maintenance passes; a signal plugs in its records,
//!   heads and segment files ([`tenants::Signal`]).

pub mod ahead;
pub mod catalog;
mod lifecycle;
pub mod policy;
mod store;
pub mod tenants;

pub use lifecycle::{Event, Lifecycle, Policy, SegmentSource};
pub use store::{Retry, SegmentLayout, SegmentStore};

use std::path::PathBuf;

/// What the lifecycle knows of a segment: a signal's own meta file converts
/// into this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentInfo {
    pub id: String,
    /// Inclusive lower bound of the data's timestamps (ms).
    pub min_time: i64,
    /// Exclusive upper bound of the data's timestamps (ms).
    pub max_time: i64,
    /// Bytes the segment takes in object storage (what size retention counts).
    pub bytes: u64,
    /// 1 for a segment cut from memory, one more than its highest input for
    /// a compacted one.
    pub level: u32,
    /// Ids of the level-1 segments this one contains (itself for level 1).
    pub sources: Vec<String>,
    /// Ids of the segments merged into this one.
    pub parents: Vec<String>,
}

/// Why a lifecycle step failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object storage: {0}")]
    Storage(#[from] argus_objstore::StorageError),
    /// Writing a segment into its staging directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A blocking task panicked or was cancelled.
    #[error("{0}")]
    Task(String),
    #[error("wal: {0}")]
    Wal(#[from] argus_wal::WalError),
    /// A push waited for memory longer than allowed: retry later (429).
    #[error("{0}")]
    Overloaded(String),
}

/// A new segment id: sortable by creation time (12 hex digits of ms) plus 14
/// hex digits of entropy.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut x = now.as_nanos() as u64
        ^ (std::process::id() as u64) << 32
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    format!(
        "{:012X}{:014X}",
        now.as_millis() as u64 & 0xFFFF_FFFF_FFFF,
        x & 0x00FF_FFFF_FFFF_FFFF
    )
}
