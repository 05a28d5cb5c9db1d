//! What the web UI reads and keeps beside the signals: the tenants that
//! have data, how much each tenant's signals take, and per-tenant
//! documents (saved dashboards) kept in the object store.

use crate::StorageError;
use argus_model::{Signal, TenantId};
use std::future::Future;
use std::pin::Pin;

/// A boxed future of a [`Catalog`] call.
pub type CatalogFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// How much one signal of one tenant takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalUsage {
    pub tenant: TenantId,
    pub signal: Signal,
    /// Objects (segment and block files) in the object store.
    pub objects: u64,
    /// Their bytes.
    pub object_bytes: u64,
    /// Bytes of the signal's WAL on local disk (not yet flushed).
    pub wal_bytes: u64,
}

/// A kind of per-tenant document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A saved dashboard (JSON).
    Dashboard,
}

impl DocumentKind {
    /// The name in object keys (`tenants/<tenant>/<kind>/<id>.json`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Dashboard => "dashboards",
        }
    }
}

/// Whether `id` may name a document: 1 to 64 of `A-Z a-z 0-9 _ -`.
pub fn valid_document_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Tenants, usage and per-tenant documents. Ids passed in are valid
/// ([`valid_document_id`]); callers check.
pub trait Catalog: Send + Sync + std::fmt::Debug {
    /// Every tenant with data of any signal (flushed or still in a WAL),
    /// sorted.
    fn tenants(&self) -> CatalogFuture<'_, Vec<TenantId>>;

    /// Usage of every tenant's signals that have data, sorted by tenant
    /// then signal.
    fn usage(&self) -> CatalogFuture<'_, Vec<SignalUsage>>;

    /// Ids of a tenant's documents of `kind`, sorted.
    fn list<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
    ) -> CatalogFuture<'a, Vec<String>>;

    /// A document's bytes, `None` when there is none by that id.
    fn get<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
    ) -> CatalogFuture<'a, Option<Vec<u8>>>;

    /// Stores (or replaces) a document.
    fn put<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
        body: Vec<u8>,
    ) -> CatalogFuture<'a, ()>;

    /// Deletes a document; `false` when there was none.
    fn delete<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
    ) -> CatalogFuture<'a, bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids() {
        assert!(valid_document_id("ops-overview_2"));
        for bad in ["", "a/b", "..", "a b", "é", &"x".repeat(65)] {
            assert!(!valid_document_id(bad), "{bad}");
        }
    }
}
