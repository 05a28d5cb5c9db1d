use crate::block::reader::BlockError;
use argus_store::{StorageError, StorageErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("wal: {0}")]
    Wal(#[from] argus_wal::WalError),
    #[error("object storage: {0}")]
    Storage(#[from] argus_objstore::StorageError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("wal record: {0}")]
    Record(#[from] crate::walrec::RecordError),
    #[error("{0}")]
    Internal(String),
}

impl DbError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        DbError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// True when the failure comes from a full disk (answered 507/503 rather than 500).
    pub fn is_disk_full(&self) -> bool {
        let code = match self {
            DbError::Io { source, .. } => source.raw_os_error(),
            DbError::Wal(e) => std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .and_then(|e| e.raw_os_error()),
            _ => None,
        };
        code == Some(28)
    }
}

impl From<argus_segments::Error> for DbError {
    fn from(e: argus_segments::Error) -> Self {
        match e {
            argus_segments::Error::Storage(e) => DbError::Storage(e),
            argus_segments::Error::Io { path, source } => DbError::io(&path, source),
            argus_segments::Error::Task(e) => DbError::Internal(e),
            argus_segments::Error::Wal(e) => DbError::Wal(e),
            argus_segments::Error::Overloaded(e) => DbError::Internal(e),
        }
    }
}

/// A disk-full failure is [`StorageErrorKind::Full`], every other one an
/// I/O or data failure ([`StorageErrorKind::Internal`]).
impl From<DbError> for StorageError {
    fn from(e: DbError) -> Self {
        let kind = if e.is_disk_full() {
            StorageErrorKind::Full
        } else {
            StorageErrorKind::Internal
        };
        StorageError::new(kind, e.to_string())
    }
}
