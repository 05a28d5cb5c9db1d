//! Configuration and statistics types.

use std::time::Duration;

use crate::error::WalError;
use crate::SEGMENT_HEADER_LEN;

/// Default segment size: 128 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;

/// When appended data is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `Wal::sync` fsyncs (group commit). `append` alone never fsyncs.
    Always,
    /// A background thread started by `Wal::open` fsyncs once per interval; `Wal::sync`
    /// returns immediately. A crash loses at most about one interval of appends.
    Interval(Duration),
    /// Only `Wal::close` (and `Wal::checkpoint`, which must be durable) fsync; everything else is
    /// left to the OS page cache.
    Never,
}

/// Options for [`Wal::open`](crate::Wal::open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed and a new one started when an append would make it exceed this many
    /// bytes (header included). A batch larger than this still goes, whole, into one segment.
    pub segment_size: u64,
    /// See [`FsyncPolicy`].
    pub fsync: FsyncPolicy,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            fsync: FsyncPolicy::Always,
        }
    }
}

impl WalOptions {
    pub(crate) fn validate(&self) -> Result<(), WalError> {
        if self.segment_size <= SEGMENT_HEADER_LEN {
            return Err(WalError::InvalidOptions(format!(
                "segment_size must be larger than the {SEGMENT_HEADER_LEN}-byte segment header, got {}",
                self.segment_size
            )));
        }
        if let FsyncPolicy::Interval(d) = self.fsync {
            if d.is_zero() {
                return Err(WalError::InvalidOptions(
                    "FsyncPolicy::Interval needs a non-zero duration".into(),
                ));
            }
        }
        Ok(())
    }
}

/// What [`Wal::replay`](crate::Wal::replay) went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records passed to the callback.
    pub records: u64,
    /// Payload bytes passed to the callback (record framing not included).
    pub bytes: u64,
    /// Segment files read, the checkpoint's own segment files included.
    pub segments: u64,
    /// Whether a checkpoint was replayed first.
    pub from_checkpoint: bool,
}

/// Counters for monitoring, from [`Wal::stats`](crate::Wal::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WalStats {
    /// Bytes written to segment files by this process since `open` (headers and framing
    /// included; checkpoints not included).
    pub bytes_written: u64,
    /// Current total size of the segment files and the checkpoint on disk.
    pub disk_bytes: u64,
    /// fsyncs of segment files done by this process (group commit, interval, rotation, close).
    pub fsyncs: u64,
    /// Total seconds spent in those fsyncs.
    pub fsync_seconds_total: f64,
    /// Duration of the most recent of those fsyncs, in seconds (0 if none yet).
    pub last_fsync_seconds: f64,
    /// Index of the segment currently appended to.
    pub current_segment: u64,
}
