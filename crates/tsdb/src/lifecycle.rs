//! The block lifecycle, run periodically by [`Db::maintain`]: cut blocks
//! from heads, upload them, checkpoint the WAL, compact, apply retention.

use crate::block::{
    new_block_id, write_block_from, BlockMeta, BlockReader, Compaction, MergedBlocks, SeriesSource,
    CHUNKS_FILE, INDEX_FILE, META_FILE,
};
use crate::head::{Head, MemSeries};
use crate::tenant::TenantDb;
use crate::{Db, DbError};
use argus_model::paths;
use argus_model::{Signal, StoredSeries};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

impl Db {
    /// One pass of the lifecycle over every tenant. Errors of one tenant are
    /// logged and do not stop the others.
    pub async fn maintain(&self) {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            if let Err(e) = self.cut_blocks(&t, false).await {
                warn!(tenant = %t.tenant, error = %e, "cutting block failed; will retry");
            }
            if let Err(e) = self.compact(&t).await {
                warn!(tenant = %t.tenant, error = %e, "compaction failed; will retry");
            }
            if let Err(e) = self.apply_retention(&t).await {
                warn!(tenant = %t.tenant, error = %e, "retention failed; will retry");
            }
        }
    }

    /// Cuts every complete block range out of every head now, regardless of
    /// the 1.5× rule when `force` (used by `argus` tools and tests).
    pub async fn flush_heads(&self) -> Result<(), DbError> {
        for t in self.all_tenants() {
            let _g = t.lifecycle.lock().await;
            self.cut_blocks(&t, true).await?;
        }
        Ok(())
    }

    /// Cuts blocks while the head spans more than 1.5 block ranges (as
    /// Prometheus does), or every range that has data when `force`.
    async fn cut_blocks(&self, t: &Arc<TenantDb>, force: bool) -> Result<(), DbError> {
        let range = self.opts.block_range_ms;
        loop {
            let Some((mint, maxt)) = t.head.time_range() else {
                return Ok(());
            };
            let start = mint.div_euclid(range) * range;
            let end = start + range;
            let due = if force {
                maxt >= end || mint <= maxt
            } else {
                maxt - mint > range / 2 * 3
            };
            if !due {
                return Ok(());
            }
            let end = if force && maxt < end { maxt + 1 } else { end };
            self.cut_one(t, start, end).await?;
        }
    }

    async fn cut_one(&self, t: &Arc<TenantDb>, start: i64, end: i64) -> Result<(), DbError> {
        let started = Instant::now();
        // From here on, samples before `end` are refused, so the snapshot
        // below holds every acknowledged sample of the range.
        {
            let _g = t.head.append_lock.lock();
            t.head.set_min_valid_time(end);
        }
        let t2 = t.clone();
        let series = tokio::task::spawn_blocking(move || t2.head.series_in_range(start, end - 1))
            .await
            .map_err(|e| DbError::Internal(e.to_string()))?;
        if !series.is_empty() {
            let id = new_block_id();
            let source = HeadRange {
                series,
                mint: start,
                maxt: end - 1,
            };
            let meta = self
                .write_and_upload(
                    t,
                    &id,
                    start,
                    end,
                    source,
                    Compaction {
                        level: 1,
                        sources: vec![id.clone()],
                        parents: vec![],
                    },
                )
                .await?;
            let reader = Arc::new(self.open_block(&t.tenant, meta.clone()).await?);
            {
                let mut blocks = t.blocks.write();
                blocks.push(reader);
                blocks.sort_by_key(|b| b.meta.min_time);
            }
            self.metrics.blocks_cut.fetch_add(1, Ordering::Relaxed);
            info!(tenant = %t.tenant, block = %id, min_time = start, max_time = end, series = meta.stats.num_series,
                  samples = meta.stats.num_samples, bytes = meta.stats.num_bytes, elapsed_ms = started.elapsed().as_millis() as u64, "block cut");
        }
        // The block is durable in object storage: drop its data from the
        // head and replace the WAL up to now with a checkpoint.
        let t2 = t.clone();
        tokio::task::spawn_blocking(move || -> Result<(), DbError> {
            let (chunks, series) = t2.head.truncate(end);
            let _g = t2.head.append_lock.lock();
            let upto = t2.wal.cut_segment()?;
            let records = t2.head.checkpoint_records();
            t2.wal.checkpoint(upto, records)?;
            tracing::debug!(tenant = %t2.tenant, chunks, series, upto, "head truncated, wal checkpointed");
            Ok(())
        })
        .await
        .map_err(|e| DbError::Internal(e.to_string()))??;
        Ok(())
    }

    /// Writes a block to a local staging directory and uploads it, retrying
    /// with backoff; `meta.json` goes last so a partial upload is never
    /// mistaken for a block. The staging copy is removed only afterwards.
    async fn write_and_upload(
        &self,
        t: &TenantDb,
        id: &str,
        mint: i64,
        maxt: i64,
        source: impl SeriesSource + Send + 'static,
        compaction: Compaction,
    ) -> Result<BlockMeta, DbError> {
        let staging = self
            .opts
            .data()
            .staging_block(&t.tenant, Signal::Metrics, id);
        let dir = staging.clone();
        let id2 = id.to_string();
        let meta = tokio::task::spawn_blocking(move || {
            write_block_from(&dir, &id2, mint, maxt, &source, compaction)
        })
        .await
        .map_err(|e| DbError::Internal(e.to_string()))?
        .map_err(|e| DbError::io(&staging, e))?;
        for file in [CHUNKS_FILE, INDEX_FILE, META_FILE] {
            let key = paths::key::block_file(&t.tenant, Signal::Metrics, id, file);
            self.upload_with_retry(&key, &staging.join(file)).await?;
        }
        let _ = tokio::fs::remove_dir_all(&staging).await;
        Ok(meta)
    }

    async fn upload_with_retry(&self, key: &str, file: &Path) -> Result<(), DbError> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.storage.put_file(key, file).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < 8 => {
                    self.metrics
                        .block_uploads_failed
                        .fetch_add(1, Ordering::Relaxed);
                    warn!(key = %key, attempt, error = %e, retry_in_ms = delay.as_millis() as u64, "upload failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(e) => {
                    self.metrics
                        .block_uploads_failed
                        .fetch_add(1, Ordering::Relaxed);
                    return Err(e.into());
                }
            }
        }
    }

    /// Merges blocks that fall in one aligned window of the next compaction
    /// range once that window is complete (the newest block ends at or after
    /// the window's end).
    async fn compact(&self, t: &Arc<TenantDb>) -> Result<(), DbError> {
        loop {
            let blocks = t.blocks();
            let Some(newest) = blocks.iter().map(|b| b.meta.max_time).max() else {
                return Ok(());
            };
            let mut plan: Option<(i64, i64, Vec<Arc<BlockReader>>)> = None;
            'ranges: for &r in self.opts.compaction_ranges.iter().skip(1) {
                let mut windows: BTreeMap<i64, Vec<Arc<BlockReader>>> = BTreeMap::new();
                for b in &blocks {
                    let w = b.meta.min_time.div_euclid(r) * r;
                    if b.meta.max_time <= w + r && b.meta.max_time - b.meta.min_time < r {
                        windows.entry(w).or_default().push(b.clone());
                    }
                }
                for (w, bs) in windows {
                    if bs.len() >= 2 && newest >= w + r {
                        plan = Some((w, w + r, bs));
                        break 'ranges;
                    }
                }
            }
            let Some((start, end, sources)) = plan else {
                return Ok(());
            };
            let started = Instant::now();
            // The sources' series merged by label set; each merged series
            // is read from the sources only when the writer gets to it.
            let source = MergedBlocks::new(sources.clone());
            let id = new_block_id();
            let level = sources
                .iter()
                .map(|b| b.meta.compaction.level)
                .max()
                .unwrap_or(1)
                + 1;
            let compaction = Compaction {
                level,
                sources: sources
                    .iter()
                    .flat_map(|b| b.meta.compaction.sources.iter().cloned())
                    .collect(),
                parents: sources.iter().map(|b| b.meta.id.clone()).collect(),
            };
            let mint = sources
                .iter()
                .map(|b| b.meta.min_time)
                .min()
                .unwrap_or(start);
            let maxt = sources.iter().map(|b| b.meta.max_time).max().unwrap_or(end);
            let meta = self
                .write_and_upload(t, &id, mint, maxt, source, compaction)
                .await?;
            let reader = Arc::new(self.open_block(&t.tenant, meta.clone()).await?);
            {
                let mut bl = t.blocks.write();
                bl.retain(|b| !sources.iter().any(|s| s.meta.id == b.meta.id));
                bl.push(reader);
                bl.sort_by_key(|b| b.meta.min_time);
            }
            for s in &sources {
                self.delete_block(t, &s.meta.id).await?;
            }
            let secs = started.elapsed().as_secs_f64();
            self.metrics.compactions.fetch_add(1, Ordering::Relaxed);
            *self.metrics.compaction_seconds_total.lock() += secs;
            info!(tenant = %t.tenant, block = %id, level, sources = sources.len(), min_time = mint, max_time = maxt,
                  bytes = meta.stats.num_bytes, elapsed_ms = (secs * 1000.0) as u64, "blocks compacted");
        }
    }

    /// Deletes a block: meta.json first, so a crash leaves an incomplete
    /// block that start-up removes.
    async fn delete_block(&self, t: &TenantDb, id: &str) -> Result<(), DbError> {
        self.storage
            .delete(&paths::key::block_file(
                &t.tenant,
                Signal::Metrics,
                id,
                META_FILE,
            ))
            .await?;
        let prefix = paths::key::block(&t.tenant, Signal::Metrics, id);
        self.storage.delete_prefix(&prefix).await?;
        self.storage.evict(&prefix);
        Ok(())
    }

    /// Drops blocks entirely older than the retention time, then the oldest
    /// blocks while the tenant's blocks exceed the size limit.
    async fn apply_retention(&self, t: &Arc<TenantDb>) -> Result<(), DbError> {
        let now = (self.opts.clock)();
        let blocks = t.blocks();
        let mut doomed: Vec<Arc<BlockReader>> = Vec::new();
        if self.opts.retention_ms > 0 {
            doomed.extend(
                blocks
                    .iter()
                    .filter(|b| b.meta.max_time <= now - self.opts.retention_ms)
                    .cloned(),
            );
        }
        if self.opts.retention_bytes > 0 {
            let mut total: u64 = blocks
                .iter()
                .filter(|b| !doomed.iter().any(|d| d.meta.id == b.meta.id))
                .map(|b| b.meta.stats.num_bytes)
                .sum();
            for b in &blocks {
                if total <= self.opts.retention_bytes {
                    break;
                }
                if !doomed.iter().any(|d| d.meta.id == b.meta.id) {
                    total -= b.meta.stats.num_bytes;
                    doomed.push(b.clone());
                }
            }
        }
        for b in doomed {
            t.blocks.write().retain(|x| x.meta.id != b.meta.id);
            self.delete_block(t, &b.meta.id).await?;
            self.metrics
                .blocks_deleted_retention
                .fetch_add(1, Ordering::Relaxed);
            info!(tenant = %t.tenant, block = %b.meta.id, min_time = b.meta.min_time, max_time = b.meta.max_time, "block deleted by retention");
        }
        Ok(())
    }
}
