//! The single error type of the crate.

use std::io;
use std::path::{Path, PathBuf};

/// Every error the WAL can return.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// An I/O operation failed; `path` is the file or directory it was about.
    #[error("wal i/o error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A record or segment header failed validation where the log must be intact
    /// (replay after `open` repaired it, or inside a checkpoint, which is never repaired).
    #[error("corrupt wal data in {} at offset {offset}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },

    /// A segment was written by a newer (or unknown) format version. Nothing is repaired or
    /// deleted when this is returned.
    #[error(
        "unsupported wal format version {version} in {} (this build reads version {supported})",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        version: u8,
        supported: u8,
    },

    /// `append` was given a record longer than [`MAX_RECORD_LEN`](crate::MAX_RECORD_LEN).
    #[error("record of {len} bytes exceeds the maximum record size of {max} bytes")]
    RecordTooLarge { len: usize, max: u64 },

    /// `checkpoint` was called with an `upto` that cannot be checkpointed.
    #[error("invalid checkpoint: {0}")]
    InvalidCheckpoint(String),

    /// `WalOptions` failed validation in `open`.
    #[error("invalid wal options: {0}")]
    InvalidOptions(String),

    /// The WAL was closed; no more appends, cuts or checkpoints.
    #[error("wal is closed")]
    Closed,

    /// An earlier write or fsync failed; the WAL refuses further writes because the state
    /// of the file on disk is unknown (see "fsyncgate"). Reopen the WAL to recover.
    #[error("wal is unusable after an earlier failure: {0}")]
    Poisoned(String),

    /// An error returned by the caller's replay callback, for callers whose own error is not a
    /// `WalError`. Build it with [`WalError::callback`].
    #[error("replay callback failed: {0}")]
    Callback(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl WalError {
    /// Wraps any error so it can be returned from a replay callback.
    pub fn callback(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> WalError {
        WalError::Callback(err.into())
    }

    pub(crate) fn io(path: impl AsRef<Path>, source: io::Error) -> WalError {
        WalError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// Attaches a path to `io::Result`s.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T, WalError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T, WalError> {
        self.map_err(|e| WalError::io(path, e))
    }
}
