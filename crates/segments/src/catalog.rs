//! [`ObjectCatalog`]: the UI's [`Catalog`] over the object store and the
//! local data directory. Tenants are those with objects or with a local
//! WAL; usage sums the objects under `tenants/<tenant>/<signal>/` and the
//! files of the signal's WAL directory; documents are
//! `tenants/<tenant>/<kind>/<id>.json` objects.

use argus_model::paths::{key, DataDir};
use argus_model::{Signal, TenantId};
use argus_objstore::ObjectStorage;
use argus_store::catalog::{Catalog, CatalogFuture, DocumentKind, SignalUsage};
use argus_store::StorageError;
use bytes::Bytes;
use std::collections::BTreeSet;
use std::path::Path;

/// The [`Catalog`] of one node: its object store and its data directory.
#[derive(Debug, Clone)]
pub struct ObjectCatalog {
    storage: ObjectStorage,
    data: DataDir,
}

impl ObjectCatalog {
    pub fn new(storage: ObjectStorage, data: DataDir) -> Self {
        ObjectCatalog { storage, data }
    }

    /// Tenants with a directory under the local data directory.
    fn local_tenants(&self) -> Vec<TenantId> {
        let Ok(entries) = std::fs::read_dir(self.data.tenants()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| TenantId::new(e.file_name().to_str()?).ok())
            .collect()
    }

    async fn all_tenants(&self) -> Result<Vec<TenantId>, StorageError> {
        let mut set: BTreeSet<TenantId> = self.local_tenants().into_iter().collect();
        for name in self
            .storage
            .list_dirs(key::TENANTS)
            .await
            .map_err(internal)?
        {
            if let Ok(t) = TenantId::new(&name) {
                set.insert(t);
            }
        }
        Ok(set.into_iter().collect())
    }

    async fn signal_usage(
        &self,
        tenant: &TenantId,
        signal: Signal,
    ) -> Result<SignalUsage, StorageError> {
        let objects = self
            .storage
            .list(&key::signal(tenant, signal))
            .await
            .map_err(internal)?;
        Ok(SignalUsage {
            tenant: tenant.clone(),
            signal,
            objects: objects.len() as u64,
            object_bytes: objects.iter().map(|(_, n)| n).sum(),
            wal_bytes: dir_bytes(&self.data.wal(tenant, signal)),
        })
    }
}

fn internal(e: argus_objstore::StorageError) -> StorageError {
    StorageError::internal(e.to_string())
}

/// Bytes of the files under `dir`, recursively; 0 when it does not exist.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Catalog for ObjectCatalog {
    fn tenants(&self) -> CatalogFuture<'_, Vec<TenantId>> {
        Box::pin(self.all_tenants())
    }

    fn usage(&self) -> CatalogFuture<'_, Vec<SignalUsage>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for tenant in self.all_tenants().await? {
                for signal in Signal::ALL {
                    let u = self.signal_usage(&tenant, signal).await?;
                    if u.objects > 0 || u.wal_bytes > 0 {
                        out.push(u);
                    }
                }
            }
            Ok(out)
        })
    }

    fn list<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
    ) -> CatalogFuture<'a, Vec<String>> {
        Box::pin(async move {
            let prefix = key::documents(tenant, kind.as_str());
            let mut ids: Vec<String> = self
                .storage
                .list(&prefix)
                .await
                .map_err(internal)?
                .into_iter()
                .filter_map(|(k, _)| {
                    let name = k.strip_prefix(&prefix)?.strip_suffix(".json")?;
                    (!name.contains('/')).then(|| name.to_string())
                })
                .collect();
            ids.sort();
            Ok(ids)
        })
    }

    fn get<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
    ) -> CatalogFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            match self
                .storage
                .get(&key::document(tenant, kind.as_str(), id))
                .await
            {
                Ok(b) => Ok(Some(b.to_vec())),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(internal(e)),
            }
        })
    }

    fn put<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
        body: Vec<u8>,
    ) -> CatalogFuture<'a, ()> {
        Box::pin(async move {
            self.storage
                .put(&key::document(tenant, kind.as_str(), id), Bytes::from(body))
                .await
                .map_err(internal)
        })
    }

    fn delete<'a>(
        &'a self,
        tenant: &'a TenantId,
        kind: DocumentKind,
        id: &'a str,
    ) -> CatalogFuture<'a, bool> {
        Box::pin(async move {
            let k = key::document(tenant, kind.as_str(), id);
            let existed = match self.storage.get(&k).await {
                Ok(_) => true,
                Err(e) if e.is_not_found() => false,
                Err(e) => return Err(internal(e)),
            };
            self.storage.delete(&k).await.map_err(internal)?;
            Ok(existed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_objstore::Backend;

    #[tokio::test]
    async fn documents_tenants_and_usage() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        let storage = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        let c = ObjectCatalog::new(storage.clone(), data.clone());
        let a = TenantId::new("team-a").unwrap();
        let b = TenantId::new("team-b").unwrap();
        let kind = DocumentKind::Dashboard;
        assert!(c.tenants().await.unwrap().is_empty());
        assert_eq!(c.get(&a, kind, "x").await.unwrap(), None);

        c.put(&a, kind, "ops", b"{\"title\":\"Ops\"}".to_vec())
            .await
            .unwrap();
        c.put(&a, kind, "api", b"{}".to_vec()).await.unwrap();
        assert_eq!(c.list(&a, kind).await.unwrap(), ["api", "ops"]);
        assert!(c.list(&b, kind).await.unwrap().is_empty());
        assert_eq!(
            c.get(&a, kind, "ops").await.unwrap().unwrap(),
            b"{\"title\":\"Ops\"}"
        );
        assert!(c.delete(&a, kind, "api").await.unwrap());
        assert!(!c.delete(&a, kind, "api").await.unwrap());
        assert_eq!(c.list(&a, kind).await.unwrap(), ["ops"]);

        // team-b has a local WAL only; team-a has logs objects.
        std::fs::create_dir_all(data.wal(&b, Signal::Metrics)).unwrap();
        std::fs::write(data.wal(&b, Signal::Metrics).join("00000001"), [0u8; 100]).unwrap();
        storage
            .put(
                &key::block_file(&a, Signal::Logs, "s1", "data"),
                Bytes::from(vec![1u8; 42]),
            )
            .await
            .unwrap();
        assert_eq!(c.tenants().await.unwrap(), [a.clone(), b.clone()]);
        let usage = c.usage().await.unwrap();
        assert_eq!(
            usage,
            [
                SignalUsage {
                    tenant: a,
                    signal: Signal::Logs,
                    objects: 1,
                    object_bytes: 42,
                    wal_bytes: 0
                },
                SignalUsage {
                    tenant: b,
                    signal: Signal::Metrics,
                    objects: 0,
                    object_bytes: 0,
                    wal_bytes: 100
                },
            ]
        );
    }
}
