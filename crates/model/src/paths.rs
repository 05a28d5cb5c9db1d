//! Every path Argus writes, on local disk and in the object store, is built
//! here; stores never join path components themselves. Everything a tenant
//! owns is under `tenants/<tenant>/<signal>/`, locally and remotely, so a
//! store lists and opens only its own signal.
//!
//! ```text
//! <data_dir>/                                  DataDir
//!   tenants/<tenant>/<signal>/wal/             the signal's WAL (segments, checkpoints)
//!   tenants/<tenant>/<signal>/staging/<block>/ a block being written, until it is uploaded
//!   objects/                                   the local object store (default `storage.local.path`)
//!   cache/                                     the read cache (default `storage.cache_dir`): `cache/<key>`
//!
//! object keys (under `storage.s3.prefix` for S3)
//!   tenants/<tenant>/<signal>/blocks/<block-id>/{meta.json,index,chunks}
//! ```
//!
//! The read cache mirrors object keys ([`cached`]), so a cached block is at
//! `<cache_dir>/tenants/<tenant>/<signal>/blocks/<block-id>/…`.
//!
//! Before signals had their own directories (Argus 0.1, metrics only) the
//! WAL was `tenants/<tenant>/wal/` and staging `staging/<tenant>/<block>/`;
//! [`DataDir::legacy_wal`] and [`DataDir::legacy_staging`] name them for the
//! start-up migration (`argus_tsdb::layout`). Object keys and the cache
//! already had the signal and are unchanged.

use crate::{Signal, TenantId};
use std::path::{Path, PathBuf};

/// The local data directory (`data_dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<data_dir>/tenants`: one directory per tenant.
    pub fn tenants(&self) -> PathBuf {
        self.root.join("tenants")
    }

    /// `<data_dir>/tenants/<tenant>`: one directory per signal the tenant has.
    pub fn tenant(&self, tenant: &TenantId) -> PathBuf {
        self.tenants().join(tenant.as_str())
    }

    /// `<data_dir>/tenants/<tenant>/<signal>`: everything local a signal keeps for a tenant.
    pub fn signal(&self, tenant: &TenantId, signal: Signal) -> PathBuf {
        self.tenant(tenant).join(signal.as_str())
    }

    /// `<data_dir>/tenants/<tenant>/<signal>/wal`.
    pub fn wal(&self, tenant: &TenantId, signal: Signal) -> PathBuf {
        self.signal(tenant, signal).join("wal")
    }

    /// `<data_dir>/tenants/<tenant>/<signal>/staging`: blocks being written
    /// before upload. Whatever is here at start-up is left over from a crash
    /// and may be deleted (the data is still in the WAL or in older blocks).
    pub fn staging(&self, tenant: &TenantId, signal: Signal) -> PathBuf {
        self.signal(tenant, signal).join("staging")
    }

    /// `<data_dir>/tenants/<tenant>/<signal>/staging/<block>`.
    pub fn staging_block(&self, tenant: &TenantId, signal: Signal, block: &str) -> PathBuf {
        self.staging(tenant, signal).join(block)
    }

    /// `<data_dir>/objects`: the local object store unless `storage.local.path` says otherwise.
    pub fn default_objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    /// `<data_dir>/cache`: the read cache unless `storage.cache_dir` says otherwise.
    pub fn default_cache(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The metrics WAL before signals had directories: `<data_dir>/tenants/<tenant>/wal`.
    pub fn legacy_wal(&self, tenant: &TenantId) -> PathBuf {
        self.tenant(tenant).join("wal")
    }

    /// The metrics staging root before signals had directories:
    /// `<data_dir>/staging` (`staging/<tenant>/<block>`).
    pub fn legacy_staging(&self) -> PathBuf {
        self.root.join("staging")
    }
}

/// Object keys. Keys use `/` whatever the platform; a prefix ends with `/`.
pub mod key {
    use crate::{Signal, TenantId};

    /// Lists the tenants that have objects.
    pub const TENANTS: &str = "tenants/";

    /// `tenants/<tenant>/`: lists the signals a tenant has objects for.
    pub fn tenant(tenant: &TenantId) -> String {
        format!("{TENANTS}{tenant}/")
    }

    /// `tenants/<tenant>/<signal>/`.
    pub fn signal(tenant: &TenantId, signal: Signal) -> String {
        format!("{TENANTS}{tenant}/{signal}/")
    }

    /// `tenants/<tenant>/<signal>/blocks/`: lists a signal's blocks.
    pub fn blocks(tenant: &TenantId, signal: Signal) -> String {
        format!("{TENANTS}{tenant}/{signal}/blocks/")
    }

    /// `tenants/<tenant>/<signal>/blocks/<block>/`.
    pub fn block(tenant: &TenantId, signal: Signal, block: &str) -> String {
        format!("{TENANTS}{tenant}/{signal}/blocks/{block}/")
    }

    /// `tenants/<tenant>/<kind>/`: lists a tenant's documents of a kind
    /// (`dashboards`), which sit beside its signals.
    pub fn documents(tenant: &TenantId, kind: &str) -> String {
        format!("{TENANTS}{tenant}/{kind}/")
    }

    /// `tenants/<tenant>/<kind>/<id>.json`.
    pub fn document(tenant: &TenantId, kind: &str, id: &str) -> String {
        format!("{TENANTS}{tenant}/{kind}/{id}.json")
    }

    /// `tenants/<tenant>/<signal>/blocks/<block>/<file>`.
    pub fn block_file(tenant: &TenantId, signal: Signal, block: &str, file: &str) -> String {
        format!("{TENANTS}{tenant}/{signal}/blocks/{block}/{file}")
    }
}

/// Where the read cache keeps its copy of an object (or of everything under
/// a prefix): the key below the cache directory.
pub fn cached(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join(key.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_paths() {
        let d = DataDir::new("/d");
        let t = TenantId::new("team-a").unwrap();
        let m = Signal::Metrics;
        assert_eq!(d.wal(&t, m), Path::new("/d/tenants/team-a/metrics/wal"));
        assert_eq!(
            d.staging_block(&t, Signal::Logs, "01X"),
            Path::new("/d/tenants/team-a/logs/staging/01X")
        );
        assert_eq!(d.legacy_wal(&t), Path::new("/d/tenants/team-a/wal"));
        assert_eq!(d.legacy_staging(), Path::new("/d/staging"));
        assert_eq!(d.default_cache(), Path::new("/d/cache"));
        assert_eq!(d.default_objects(), Path::new("/d/objects"));
        assert_eq!(key::tenant(&t), "tenants/team-a/");
        assert_eq!(key::signal(&t, Signal::Traces), "tenants/team-a/traces/");
        assert_eq!(key::blocks(&t, m), "tenants/team-a/metrics/blocks/");
        assert_eq!(
            key::block(&t, m, "01X"),
            "tenants/team-a/metrics/blocks/01X/"
        );
        assert_eq!(
            key::block_file(&t, m, "01X", "meta.json"),
            "tenants/team-a/metrics/blocks/01X/meta.json"
        );
        assert_eq!(
            cached(Path::new("/c"), &key::block(&t, m, "01X")),
            Path::new("/c/tenants/team-a/metrics/blocks/01X")
        );
        // The metrics keys are those Argus 0.1 wrote (docs/format/block.md).
        assert!(key::block_file(&t, m, "b", "index").starts_with("tenants/team-a/metrics/blocks/"));
    }
}
