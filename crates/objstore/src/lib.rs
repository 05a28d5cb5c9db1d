//! Object storage for immutable blocks and segments.
//!
//! Everything Argus keeps for the long term goes through [`ObjectStorage`]:
//! a local directory by default, any S3-compatible bucket by config. Reads
//! go through a local cache directory so queries read local files; with the
//! local backend the objects themselves are the cache. Object keys (and the
//! cache's paths) are built only in [`argus_model::paths`], re-exported here.

pub use argus_model::paths;

use argus_model::{Signal, TenantId};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid storage config: {0}")]
    Config(String),
}

impl StorageError {
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            StorageError::Store(object_store::Error::NotFound { .. })
        )
    }
}

/// Files larger than this are uploaded in parts of this size (S3 wants
/// parts of at least 5 MiB).
pub const PART_SIZE: usize = 8 << 20;

/// Parts of one file uploaded at once.
const UPLOAD_CONCURRENCY: usize = 2;

/// Copies `from` to `dest` through `dest.upload`, an fsync and a rename
/// (the kernel copies; nothing passes through this process's memory).
async fn copy_into_place(from: &Path, dest: &Path) -> Result<(), StorageError> {
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(io(parent))?;
    }
    let tmp = dest.with_extension("upload");
    tokio::fs::copy(from, &tmp).await.map_err(io(&tmp))?;
    // Durable before it is visible under its name.
    let f = tokio::fs::File::open(&tmp).await.map_err(io(&tmp))?;
    f.sync_all().await.map_err(io(&tmp))?;
    drop(f);
    tokio::fs::rename(&tmp, dest).await.map_err(io(dest))?;
    Ok(())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// S3-compatible bucket settings. Credentials come from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) unless given here.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// Key prefix inside the bucket.
    #[serde(default)]
    pub prefix: Option<String>,
}

fn default_region() -> String {
    "us-east-1".to_string()
}

/// Where objects live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A directory on local disk.
    Local(PathBuf),
    S3(S3Config),
}

/// The object store plus the local read cache.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    /// Set for the local backend: objects are read in place.
    local_root: Option<PathBuf>,
    cache_dir: PathBuf,
    prefix: String,
}

impl ObjectStorage {
    pub fn new(backend: Backend, cache_dir: PathBuf) -> Result<Self, StorageError> {
        match backend {
            Backend::Local(root) => {
                std::fs::create_dir_all(&root).map_err(io(&root))?;
                let root = root.canonicalize().map_err(io(&root))?;
                let store = LocalFileSystem::new_with_prefix(&root)?;
                Ok(ObjectStorage {
                    store: Arc::new(store),
                    local_root: Some(root),
                    cache_dir,
                    prefix: String::new(),
                })
            }
            Backend::S3(c) => {
                if c.bucket.is_empty() {
                    return Err(StorageError::Config("storage.s3.bucket is empty".into()));
                }
                // Short client-side retries; the block lifecycle retries
                // uploads itself, so one outage never stalls a request long.
                let retry = object_store::RetryConfig {
                    backoff: object_store::BackoffConfig {
                        init_backoff: std::time::Duration::from_millis(100),
                        max_backoff: std::time::Duration::from_secs(5),
                        base: 2.0,
                    },
                    max_retries: 4,
                    retry_timeout: std::time::Duration::from_secs(20),
                };
                let mut b = AmazonS3Builder::from_env()
                    .with_retry(retry)
                    .with_bucket_name(&c.bucket)
                    .with_region(&c.region);
                if let Some(e) = &c.endpoint {
                    b = b
                        .with_endpoint(e)
                        .with_allow_http(e.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(k) = &c.access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(k) = &c.secret_access_key {
                    b = b.with_secret_access_key(k);
                }
                let prefix = c
                    .prefix
                    .clone()
                    .map(|p| format!("{}/", p.trim_matches('/')))
                    .unwrap_or_default();
                std::fs::create_dir_all(&cache_dir).map_err(io(&cache_dir))?;
                Ok(ObjectStorage {
                    store: Arc::new(b.build()?),
                    local_root: None,
                    cache_dir,
                    prefix,
                })
            }
        }
    }

    /// For tests: any `ObjectStore` (e.g. in-memory) with a cache directory.
    pub fn from_store(store: Arc<dyn ObjectStore>, cache_dir: PathBuf) -> Self {
        ObjectStorage {
            store,
            local_root: None,
            cache_dir,
            prefix: String::new(),
        }
    }

    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    fn key(&self, key: &str) -> ObjPath {
        ObjPath::from(format!("{}{}", self.prefix, key))
    }

    pub async fn put(&self, key: &str, data: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&self.key(key), PutPayload::from(data))
            .await?;
        Ok(())
    }

    /// Stores the file at `file` under `key` without reading it into
    /// memory whole: the local backend copies it into place (through a
    /// temporary name, so the object appears complete or not at all);
    /// other backends upload files above [`PART_SIZE`] in parts and keep a
    /// copy in the read cache, so opening the object later downloads
    /// nothing.
    pub async fn put_file(&self, key: &str, file: &Path) -> Result<(), StorageError> {
        if let Some(root) = &self.local_root {
            let dest = root.join(key);
            return copy_into_place(file, &dest).await;
        }
        let len = tokio::fs::metadata(file).await.map_err(io(file))?.len();
        if len <= PART_SIZE as u64 {
            let data = tokio::fs::read(file).await.map_err(io(file))?;
            self.put(key, Bytes::from(data)).await?;
        } else {
            self.put_multipart(key, file).await?;
        }
        copy_into_place(file, &paths::cached(&self.cache_dir, key)).await
    }

    async fn put_multipart(&self, key: &str, file: &Path) -> Result<(), StorageError> {
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(file).await.map_err(io(file))?;
        let upload = self.store.put_multipart(&self.key(key)).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1 << 20];
        let res: Result<(), StorageError> = async {
            loop {
                let n = f.read(&mut buf).await.map_err(io(file))?;
                if n == 0 {
                    break;
                }
                // Bounds the parts in flight, hence the memory held.
                w.wait_for_capacity(UPLOAD_CONCURRENCY).await?;
                w.write(&buf[..n]);
            }
            Ok(())
        }
        .await;
        match res {
            Ok(()) => {
                w.finish().await?;
                Ok(())
            }
            Err(e) => {
                let _ = w.abort().await;
                Err(e)
            }
        }
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&self.key(key)).await?.bytes().await?)
    }

    /// Immediate "subdirectories" under `prefix` (which ends with `/`).
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let p = self.key(prefix);
        let res = self.store.list_with_delimiter(Some(&p)).await?;
        Ok(res
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect())
    }

    /// Tenants that have objects of `signal` (`tenants/<tenant>/<signal>/…`),
    /// sorted. Names under `tenants/` that are not valid tenant ids are skipped
    /// with a warning.
    pub async fn tenants(&self, signal: Signal) -> Result<Vec<TenantId>, StorageError> {
        let mut names = self.list_dirs(paths::key::TENANTS).await?;
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let Ok(tenant) = TenantId::new(&name) else {
                tracing::warn!(name = %name, "ignoring object prefix that is not a valid tenant id");
                continue;
            };
            let signals = self.list_dirs(&paths::key::tenant(&tenant)).await?;
            if signals.iter().any(|s| s == signal.as_str()) {
                out.push(tenant);
            }
        }
        Ok(out)
    }

    /// Keys (without the configured prefix) under `prefix`, with sizes.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StorageError> {
        let p = self.key(prefix);
        let items: Vec<_> = self.store.list(Some(&p)).try_collect().await?;
        Ok(items
            .into_iter()
            .map(|m| {
                (
                    m.location
                        .as_ref()
                        .strip_prefix(&self.prefix)
                        .unwrap_or(m.location.as_ref())
                        .to_string(),
                    m.size,
                )
            })
            .collect())
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.key(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        for (k, _) in self.list(prefix).await? {
            self.delete(&k).await?;
        }
        if let Some(root) = &self.local_root {
            let dir = root.join(prefix.trim_end_matches('/'));
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    /// A local file holding the object: the object itself for the local
    /// backend, else a cached copy (downloaded on first use).
    pub async fn local_file(&self, key: &str) -> Result<PathBuf, StorageError> {
        if let Some(root) = &self.local_root {
            return Ok(root.join(key));
        }
        let path = paths::cached(&self.cache_dir, key);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        // Streamed to a temporary file: a block's chunks are never held in
        // memory whole.
        use tokio::io::AsyncWriteExt;
        let parent = path.parent().unwrap_or(&self.cache_dir).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(io(&parent))?;
        let tmp = path.with_extension("download");
        let mut stream = self.store.get(&self.key(key)).await?.into_stream();
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io(&tmp))?;
        while let Some(part) = stream.try_next().await? {
            f.write_all(&part).await.map_err(io(&tmp))?;
        }
        f.flush().await.map_err(io(&tmp))?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await.map_err(io(&path))?;
        Ok(path)
    }

    /// Drops cached copies under `prefix` (after the objects are deleted).
    pub fn evict(&self, prefix: &str) {
        if self.local_root.is_none() {
            let _ = std::fs::remove_dir_all(paths::cached(&self.cache_dir, prefix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_roundtrip_and_listing() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        s.put("tenants/a/blocks/B1/meta.json", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        s.put("tenants/a/blocks/B2/index", Bytes::from_static(b"x"))
            .await
            .unwrap();
        assert_eq!(
            s.get("tenants/a/blocks/B1/meta.json").await.unwrap(),
            Bytes::from_static(b"{}")
        );
        let mut dirs = s.list_dirs("tenants/a/blocks/").await.unwrap();
        dirs.sort();
        assert_eq!(dirs, vec!["B1", "B2"]);
        let f = s.local_file("tenants/a/blocks/B2/index").await.unwrap();
        assert_eq!(std::fs::read(f).unwrap(), b"x");
        s.delete_prefix("tenants/a/blocks/B1/").await.unwrap();
        assert_eq!(s.list_dirs("tenants/a/blocks/").await.unwrap(), vec!["B2"]);
    }

    #[tokio::test]
    async fn put_file_copies_into_the_local_backend() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        let src = dir.path().join("chunks");
        std::fs::write(&src, b"block bytes").unwrap();
        s.put_file("tenants/a/blocks/B1/chunks", &src)
            .await
            .unwrap();
        assert_eq!(
            s.get("tenants/a/blocks/B1/chunks").await.unwrap(),
            Bytes::from_static(b"block bytes")
        );
        // No temporary file is left next to the object.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("objects/tenants/a/blocks/B1"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["chunks"]);
    }

    #[tokio::test]
    async fn put_file_uploads_large_files_in_parts_and_keeps_a_cached_copy() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(object_store::memory::InMemory::new());
        let s = ObjectStorage::from_store(mem.clone(), dir.path().join("cache"));
        // Two and a half parts of bytes that differ from part to part.
        let data: Vec<u8> = (0..PART_SIZE * 5 / 2)
            .map(|i| (i % 251) as u8 ^ (i / PART_SIZE) as u8)
            .collect();
        let src = dir.path().join("chunks");
        std::fs::write(&src, &data).unwrap();
        s.put_file("b/chunks", &src).await.unwrap();
        assert!(s.get("b/chunks").await.unwrap() == data);
        // Opening it reads the copy kept at upload, not the store.
        mem.delete(&ObjPath::from("b/chunks")).await.unwrap();
        let p = s.local_file("b/chunks").await.unwrap();
        assert!(std::fs::read(p).unwrap() == data);
    }

    #[tokio::test]
    async fn cache_downloads_once() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(object_store::memory::InMemory::new());
        let s = ObjectStorage::from_store(mem, dir.path().join("cache"));
        s.put("k/v", Bytes::from_static(b"hello")).await.unwrap();
        let p = s.local_file("k/v").await.unwrap();
        assert!(p.starts_with(dir.path()));
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        s.evict("k/");
        assert!(!p.exists());
    }

    #[tokio::test]
    async fn tenants_are_listed_per_signal() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        for (t, sig) in [(&a, Signal::Metrics), (&b, Signal::Logs)] {
            s.put(
                &paths::key::block_file(t, sig, "B1", "meta.json"),
                Bytes::from_static(b"{}"),
            )
            .await
            .unwrap();
        }
        assert_eq!(s.tenants(Signal::Metrics).await.unwrap(), vec![a]);
        assert_eq!(s.tenants(Signal::Logs).await.unwrap(), vec![b]);
        assert!(s.tenants(Signal::Traces).await.unwrap().is_empty());
    }
}
