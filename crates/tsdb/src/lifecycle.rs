//! The block lifecycle, run periodically by [`Db::maintain`]: the metrics
//! store's side of `argus-segments` ([`SegmentSource`]). The shared driver
//! cuts blocks from heads, uploads them, compacts and applies retention;
//! this file says how a head range becomes a block, how blocks merge, and
//! what installing a block and releasing the head (truncate, checkpoint the
//! WAL) mean.

use crate::block::{
    write_block_from, BlockMeta, BlockReader, Compaction, MergedBlocks, SeriesSource, CHUNKS_FILE,
    INDEX_FILE, META_FILE,
};
use crate::db::open_block;
use crate::head::{Head, MemSeries};
use crate::tenant::TenantDb;
use crate::{Db, DbError, DbMetrics};
use argus_model::paths;
use argus_model::{Signal, StoredSeries, TenantId};
use argus_objstore::ObjectStorage;
use argus_segments::{
    Event, Lifecycle, Policy, SegmentInfo, SegmentLayout, SegmentSource, SegmentStore,
};
use std::path::Path;
use std::sync::Arc;
use tracing::{info, warn};

/// The head's series with data in a block's range, sorted by labels, as
/// the block writer's source: labels are read from the head series
/// themselves, samples one series at a time.
struct HeadRange {
    series: Vec<Arc<MemSeries>>,
    mint: i64,
    maxt: i64,
}

impl SeriesSource for HeadRange {
    fn len(&self) -> usize {
        self.series.len()
    }

    fn label_pairs(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.series[i].labels.iter()
    }

    fn load(&self, i: usize) -> std::io::Result<StoredSeries> {
        Ok(Head::series_samples(&self.series[i], self.mint, self.maxt))
    }
}

/// A block's files in upload order: `meta.json` last.
const BLOCK_FILES: &[&str] = &[CHUNKS_FILE, INDEX_FILE, META_FILE];

impl Db {
    /// One pass of the lifecycle over every tenant. Errors of one tenant are
    /// logged and do not stop the others.
    pub async fn maintain(&self) {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            let lc = self.lifecycle(&t);
            if let Err(e) = lc.cut(false).await {
                warn!(tenant = %t.tenant, error = %e, "cutting block failed; will retry");
            }
            if let Err(e) = lc.compact().await {
                warn!(tenant = %t.tenant, error = %e, "compaction failed; will retry");
            }
            if let Err(e) = lc.apply_retention((self.opts.clock)()).await {
                warn!(tenant = %t.tenant, error = %e, "retention failed; will retry");
            }
        }
    }

    /// Cuts every complete block range out of every head now, regardless of
    /// the 1.5× rule when `force` (used by `argus` tools and tests).
    pub async fn flush_heads(&self) -> Result<(), DbError> {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            self.lifecycle(&t).cut(true).await?;
        }
        Ok(())
    }

    fn lifecycle(&self, t: &Arc<TenantDb>) -> Lifecycle<Blocks> {
        let source = Arc::new(Blocks {
            t: t.clone(),
            storage: self.storage.clone(),
            metrics: self.metrics.clone(),
        });
        let store = SegmentStore::new(self.storage.clone(), self.block_layout(&t.tenant));
        let policy = Policy {
            range_ms: self.opts.block_range_ms,
            compaction_ranges: self.opts.compaction_ranges.clone(),
            retention_ms: self.opts.retention_ms,
            retention_bytes: self.opts.retention_bytes,
            size_tiered: false,
        };
        Lifecycle::new(source, store, policy)
    }

    /// Where a tenant's blocks live: `tenants/<t>/metrics/blocks/<id>/` in
    /// the object store, staged in `<data_dir>/tenants/<t>/metrics/staging/<id>/`.
    pub(crate) fn block_layout(&self, tenant: &TenantId) -> SegmentLayout {
        SegmentLayout {
            tenant: tenant.clone(),
            prefix: paths::key::blocks(tenant, Signal::Metrics),
            files: BLOCK_FILES,
            staging: self.opts.data().staging(tenant, Signal::Metrics),
        }
    }
}

/// One tenant's head and blocks as the segment lifecycle sees them.
struct Blocks {
    t: Arc<TenantDb>,
    storage: ObjectStorage,
    metrics: Arc<DbMetrics>,
}

impl SegmentSource for Blocks {
    type Meta = BlockMeta;
    type Error = DbError;

    fn info(meta: &BlockMeta) -> SegmentInfo {
        meta.segment_info()
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.t
            .blocks()
            .iter()
            .map(|b| b.meta.segment_info())
            .collect()
    }

    fn unflushed_range(&self) -> Option<(i64, i64)> {
        self.t.head.time_range()
    }

    fn seal_before(&self, end: i64) {
        // From here on, samples before `end` are refused, so the snapshot
        // the cut takes holds every acknowledged sample of the range.
        let _g = self.t.head.append_lock.lock();
        self.t.head.set_min_valid_time(end);
    }

    fn cut(
        &self,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> std::io::Result<Option<BlockMeta>> {
        let series = self.t.head.series_in_range(start, end - 1);
        if series.is_empty() {
            return Ok(None);
        }
        let source = HeadRange {
            series,
            mint: start,
            maxt: end - 1,
        };
        let compaction = Compaction {
            level: 1,
            sources: vec![id.to_string()],
            parents: vec![],
        };
        write_block_from(dir, id, start, end, &source, compaction).map(Some)
    }

    fn merge(
        &self,
        dir: &Path,
        target: &SegmentInfo,
        inputs: &[SegmentInfo],
    ) -> std::io::Result<BlockMeta> {
        let blocks = self.t.blocks();
        let sources = inputs
            .iter()
            .map(|i| {
                blocks
                    .iter()
                    .find(|b| b.meta.id == i.id)
                    .cloned()
                    .ok_or_else(|| {
                        std::io::Error::other(format!("block {} to compact is not loaded", i.id))
                    })
            })
            .collect::<std::io::Result<Vec<Arc<BlockReader>>>>()?;
        // The sources' series merged by label set; each merged series
        // is read from the sources only when the writer gets to it.
        let source = MergedBlocks::new(sources);
        let compaction = Compaction {
            level: target.level,
            sources: target.sources.clone(),
            parents: target.parents.clone(),
        };
        write_block_from(
            dir,
            &target.id,
            target.min_time,
            target.max_time,
            &source,
            compaction,
        )
    }

    async fn install(&self, meta: &BlockMeta, replaces: &[SegmentInfo]) -> Result<(), DbError> {
        let reader = Arc::new(open_block(&self.storage, &self.t.tenant, meta.clone()).await?);
        let mut blocks = self.t.blocks.write();
        blocks.retain(|b| !replaces.iter().any(|s| s.id == b.meta.id));
        blocks.push(reader);
        blocks.sort_by_key(|b| b.meta.min_time);
        Ok(())
    }

    fn remove(&self, id: &str) {
        self.t.blocks.write().retain(|x| x.meta.id != id);
    }

    async fn release(&self, end: i64) -> Result<(), DbError> {
        // The block is durable in object storage: drop its data from the
        // head and replace the WAL up to now with a checkpoint.
        let t2 = self.t.clone();
        tokio::task::spawn_blocking(move || -> Result<(), DbError> {
            let (chunks, series) = t2.head.truncate(end);
            let _g = t2.head.append_lock.lock();
            let upto = t2.wal.cut_segment()?;
            // The exemplars go along whole: the WAL segments that logged
            // them are about to be deleted.
            let exemplars = crate::exemplars::walrec::checkpoint_records(&t2.exemplars);
            let records = t2.head.checkpoint_records().chain(exemplars);
            t2.wal.checkpoint(upto, records)?;
            tracing::debug!(tenant = %t2.tenant, chunks, series, upto, "head truncated, wal checkpointed");
            Ok(())
        })
        .await
        .map_err(|e| DbError::Internal(e.to_string()))??;
        Ok(())
    }

    fn observe(&self, event: Event<'_, BlockMeta>) {
        let tenant = &self.t.tenant;
        match event {
            Event::Cut { meta, elapsed } => {
                self.metrics.blocks_cut.inc();
                info!(tenant = %tenant, block = %meta.id, min_time = meta.min_time, max_time = meta.max_time, series = meta.stats.num_series,
                      samples = meta.stats.num_samples, bytes = meta.stats.num_bytes, elapsed_ms = elapsed.as_millis() as u64, "block cut");
            }
            Event::Compacted {
                meta,
                inputs,
                elapsed,
            } => {
                let secs = elapsed.as_secs_f64();
                self.metrics.compactions.inc();
                self.metrics.compaction_seconds.inc_by(secs);
                info!(tenant = %tenant, block = %meta.id, level = meta.compaction.level, sources = inputs.len(), min_time = meta.min_time,
                      max_time = meta.max_time, bytes = meta.stats.num_bytes, elapsed_ms = (secs * 1000.0) as u64, "blocks compacted");
            }
            Event::Expired { segment } => {
                self.metrics.blocks_deleted_retention.inc();
                info!(tenant = %tenant, block = %segment.id, min_time = segment.min_time, max_time = segment.max_time, "block deleted by retention");
            }
            Event::UploadFailed => {
                self.metrics.block_uploads_failed.inc();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbOptions;
    use argus_objstore::Backend;

    /// The shared lifecycle writes blocks at the keys `paths` gives them.
    #[tokio::test]
    async fn block_layout_keys_are_the_metrics_paths() {
        let dir = tempfile::tempdir().unwrap();
        let storage = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        let db = Db::open(DbOptions::new(dir.path().to_path_buf()), storage)
            .await
            .unwrap();
        let t = TenantId::new("a").unwrap();
        let layout = db.block_layout(&t);
        for file in BLOCK_FILES {
            assert_eq!(
                layout.key("B", file),
                paths::key::block_file(&t, Signal::Metrics, "B", file)
            );
        }
        assert_eq!(layout.meta_file(), META_FILE);
        assert_eq!(
            layout.staging_dir("B"),
            db.opts.data().staging_block(&t, Signal::Metrics, "B")
        );
        assert_eq!(
            layout.segment_prefix("B"),
            paths::key::block(&t, Signal::Metrics, "B")
        );
    }
}
