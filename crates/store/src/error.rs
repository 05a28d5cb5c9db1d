//! The error crossing the store seam.

/// What kind of failure a store reports; the API answers each differently
/// (500 `internal`, 503 `timeout`, 422 `execution`, 507 for a full disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The store could not read or write its data (I/O, object store,
    /// corruption).
    Internal,
    /// The store did not answer in time.
    Timeout,
    /// The read would exceed a limit of the store.
    Limit,
    /// The store's disk is full: nothing was written; retrying after space
    /// is freed can succeed.
    Full,
    /// The store cannot take more now (its memory for unflushed data is
    /// full): nothing was written; a retry after a back-off can succeed.
    Overloaded,
}

/// A failure of a store behind [`crate::MetricsReader`],
/// [`crate::MetricsWriter`] or [`crate::Queryable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    pub kind: StorageErrorKind,
    pub message: String,
}

impl StorageError {
    pub fn new(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StorageErrorKind::Internal, message)
    }

    /// True when the store's disk is full.
    pub fn is_full(&self) -> bool {
        self.kind == StorageErrorKind::Full
    }
}
