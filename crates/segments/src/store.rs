//! One tenant's segments of one signal in object storage.

use crate::{policy, Error, SegmentInfo};
use argus_model::TenantId;
use argus_objstore::{ObjectStorage, StorageError};
use bytes::Bytes;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::warn;

/// Where one tenant's segments of one signal live: object keys
/// `<prefix><id>/<file>` and local staging directories `<staging>/<id>/`.
/// The store builds it from the typed paths (`argus_model::paths`).
#[derive(Debug, Clone)]
pub struct SegmentLayout {
    /// For logs.
    pub tenant: TenantId,
    /// The key prefix of the segments, ending in `/`
    /// (`tenants/<t>/metrics/blocks/` for metrics).
    pub prefix: String,
    /// A segment's files in upload order; the last is its meta file, whose
    /// presence makes the segment complete.
    pub files: &'static [&'static str],
    /// The local directory segments are written into before upload.
    pub staging: PathBuf,
}

impl SegmentLayout {
    pub fn meta_file(&self) -> &'static str {
        self.files.last().copied().unwrap_or_default()
    }

    pub fn segment_prefix(&self, id: &str) -> String {
        format!("{}{id}/", self.prefix)
    }

    pub fn key(&self, id: &str, file: &str) -> String {
        format!("{}{id}/{file}", self.prefix)
    }

    /// A fresh staging directory for segment `id` (not created).
    pub fn staging_dir(&self, id: &str) -> PathBuf {
        self.staging.join(id)
    }
}

/// How uploads are retried: `attempts` tries in all, waiting `first_delay`,
/// doubling up to `max_delay`.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 8,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The object-store side of the lifecycle for one [`SegmentLayout`].
#[derive(Debug, Clone)]
pub struct SegmentStore {
    pub storage: ObjectStorage,
    pub layout: SegmentLayout,
    pub retry: Retry,
}

impl SegmentStore {
    pub fn new(storage: ObjectStorage, layout: SegmentLayout) -> Self {
        SegmentStore {
            storage,
            layout,
            retry: Retry::default(),
        }
    }

    /// Uploads the files of segment `id` from `dir`, each retried with
    /// backoff; the meta file goes last so a partial upload is never taken
    /// for a segment. `on_failure` is called for every failed attempt.
    pub async fn upload(
        &self,
        dir: &Path,
        id: &str,
        on_failure: impl Fn(),
    ) -> Result<(), StorageError> {
        for file in self.layout.files {
            let key = self.layout.key(id, file);
            self.upload_with_retry(&key, &dir.join(file), &on_failure)
                .await?;
        }
        Ok(())
    }

    async fn upload_with_retry(
        &self,
        key: &str,
        file: &Path,
        on_failure: &impl Fn(),
    ) -> Result<(), StorageError> {
        let mut delay = self.retry.first_delay;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.storage.put_file(key, file).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < self.retry.attempts => {
                    on_failure();
                    warn!(key = %key, attempt, error = %e, retry_in_ms = delay.as_millis() as u64, "upload failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.retry.max_delay);
                }
                Err(e) => {
                    on_failure();
                    return Err(e);
                }
            }
        }
    }

    /// Deletes segment `id`: its meta file first, so a crash leaves an
    /// incomplete segment that start-up removes; then its other files and
    /// cached copies.
    pub async fn delete(&self, id: &str) -> Result<(), StorageError> {
        self.storage
            .delete(&self.layout.key(id, self.layout.meta_file()))
            .await?;
        let prefix = self.layout.segment_prefix(id);
        self.storage.delete_prefix(&prefix).await?;
        self.storage.evict(&prefix);
        Ok(())
    }

    /// At start-up: the meta file of every complete segment, by id, in
    /// listing order. Incomplete segments (no meta file: a crash during
    /// upload or delete) are deleted, and so is the staging directory (what
    /// a crash left there is still in the store's WAL or in the segments
    /// being merged).
    pub async fn load_complete(&self) -> Result<Vec<(String, Bytes)>, Error> {
        let staging = &self.layout.staging;
        if staging.exists() {
            std::fs::remove_dir_all(staging).map_err(|source| Error::Io {
                path: staging.clone(),
                source,
            })?;
        }
        let mut out = Vec::new();
        for id in self.storage.list_dirs(&self.layout.prefix).await? {
            match self
                .storage
                .get(&self.layout.key(&id, self.layout.meta_file()))
                .await
            {
                Ok(b) => out.push((id, b)),
                Err(e) if e.is_not_found() => {
                    warn!(tenant = %self.layout.tenant, segment = %id, meta = self.layout.meta_file(), "deleting incomplete segment (no meta file)");
                    self.storage
                        .delete_prefix(&self.layout.segment_prefix(&id))
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// At start-up, after [`load_complete`](Self::load_complete): deletes
    /// the segments a compacted one replaced ([`policy::superseded`]) and
    /// returns their ids.
    pub async fn delete_superseded(
        &self,
        segments: &[SegmentInfo],
    ) -> Result<BTreeSet<String>, StorageError> {
        let gone = policy::superseded(segments);
        for id in &gone {
            warn!(tenant = %self.layout.tenant, segment = %id, "deleting segment already merged into a compacted segment");
            self.storage
                .delete_prefix(&self.layout.segment_prefix(id))
                .await?;
        }
        Ok(gone)
    }
}
