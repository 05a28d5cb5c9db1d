//! The generic driver: what a signal's store implements
//! ([`SegmentSource`]) and the steps run over it ([`Lifecycle`]).

use crate::policy::{self, Plan};
use crate::{new_id, Error, SegmentInfo, SegmentStore};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::warn;

/// A signal's store as the lifecycle sees it: in-memory data to cut into
/// segments, the segments it serves reads from, and how to write and merge
/// them. The lifecycle calls one tenant's source from one task at a time.
pub trait SegmentSource: Send + Sync + 'static {
    /// The store's own description of a segment (its meta file).
    type Meta: Send + Sync + 'static;
    type Error: From<Error> + std::fmt::Display + Send;

    fn info(meta: &Self::Meta) -> SegmentInfo;

    /// The installed segments, oldest (`min_time`) first.
    fn segments(&self) -> Vec<SegmentInfo>;

    /// Min and max timestamp (inclusive) of in-memory data not yet cut.
    fn unflushed_range(&self) -> Option<(i64, i64)>;

    /// From now on, refuse data before `end`: what is in memory then is
    /// every acknowledged record of the range about to be cut.
    fn seal_before(&self, end: i64);

    /// Cut my in-memory data in `[start, end)` into segment `id`'s files in
    /// `dir`; `None` when there is none. Blocking (runs on a blocking thread).
    fn cut(
        &self,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> std::io::Result<Option<Self::Meta>>;

    /// Merge these installed segments into the files of `target` (id, time
    /// range, level, sources, parents as [`Plan::merged`] describes it) in
    /// `dir`. Blocking.
    fn merge(
        &self,
        dir: &Path,
        target: &SegmentInfo,
        inputs: &[SegmentInfo],
    ) -> std::io::Result<Self::Meta>;

    /// Serve reads from the new, uploaded segment instead of `replaces`.
    fn install(
        &self,
        meta: &Self::Meta,
        replaces: &[SegmentInfo],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Stop serving reads from segment `id` (before it is deleted).
    fn remove(&self, id: &str);

    /// The data before `end` is durable in object storage: release it from
    /// memory and from the write-ahead log.
    fn release(&self, end: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// For signals whose segments may overlap in time (logs, traces: late
    /// data is still accepted after a flush), what [`Lifecycle::flush`]
    /// cuts: set aside everything in memory now (new data goes to fresh
    /// memory) and give its time range (min and max, inclusive), or the
    /// range of what was set aside before and not yet released (a flush
    /// that failed is retried on the same data). `None`: nothing to flush,
    /// or the signal does not flush (the default).
    fn freeze(&self) -> Option<(i64, i64)> {
        None
    }

    /// After [`SegmentSource::freeze`]: where the newest part of the
    /// frozen data starts (ms) that [`Lifecycle::flush`] cuts into a
    /// segment of its own, so that a newest-first read finds it without
    /// decompressing the rest. The same for the same frozen data (a failed
    /// flush is retried on the same ranges). `None` (the default): no such
    /// part.
    fn tail_start(&self) -> Option<i64> {
        None
    }

    /// What happened, for the store's logs and counters.
    fn observe(&self, event: Event<'_, Self::Meta>) {
        let _ = event;
    }
}

/// Reported to [`SegmentSource::observe`].
#[derive(Debug)]
pub enum Event<'a, M> {
    /// A segment was cut, uploaded and installed.
    Cut { meta: &'a M, elapsed: Duration },
    /// `inputs` were merged into `meta`, which replaced them.
    Compacted {
        meta: &'a M,
        inputs: &'a [SegmentInfo],
        elapsed: Duration,
    },
    /// A segment was deleted by retention.
    Expired { segment: &'a SegmentInfo },
    /// One attempt to upload a file failed.
    UploadFailed,
}

/// The cut range, compaction ranges and retention of one store.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Length of a level-1 segment.
    pub range_ms: i64,
    /// Ranges compaction builds, the first being `range_ms`, each a
    /// multiple of the previous.
    pub compaction_ranges: Vec<i64>,
    /// Delete segments whose newest data is older than this. 0 = keep.
    pub retention_ms: i64,
    /// Delete oldest segments while the total exceeds this. 0 = no limit.
    pub retention_bytes: u64,
    /// Compaction leaves a window's biggest segment out while it is bigger
    /// than the window's others together ([`policy::plan_compaction_tiered`]):
    /// for a store whose windows keep receiving segments after they are
    /// complete (logs: each flush writes the late lines of every window
    /// its head spans). Metrics do not (`false`: [`policy::plan_compaction`]).
    pub size_tiered: bool,
}

/// The lifecycle of one tenant's segments of one signal.
#[derive(Debug)]
pub struct Lifecycle<S> {
    pub source: Arc<S>,
    pub store: SegmentStore,
    pub policy: Policy,
}

impl<S: SegmentSource> Lifecycle<S> {
    pub fn new(source: Arc<S>, store: SegmentStore, policy: Policy) -> Self {
        Lifecycle {
            source,
            store,
            policy,
        }
    }

    /// One pass: cut what is due, compact, apply retention at `now`. An
    /// error of one step is logged and does not stop the next.
    pub async fn maintain(&self, now: i64) {
        let tenant = &self.store.layout.tenant;
        if let Err(e) = self.cut(false).await {
            warn!(tenant = %tenant, error = %e, "cutting segment failed; will retry");
        }
        if let Err(e) = self.compact().await {
            warn!(tenant = %tenant, error = %e, "compaction failed; will retry");
        }
        if let Err(e) = self.apply_retention(now).await {
            warn!(tenant = %tenant, error = %e, "retention failed; will retry");
        }
    }

    /// Cuts segments while in-memory data spans more than 1.5 ranges, or
    /// every range with data when `force` ([`policy::cut_due`]).
    pub async fn cut(&self, force: bool) -> Result<(), S::Error> {
        while let Some((start, end)) =
            policy::cut_due(self.source.unflushed_range(), self.policy.range_ms, force)
        {
            self.cut_one(start, end).await?;
        }
        Ok(())
    }

    async fn cut_one(&self, start: i64, end: i64) -> Result<(), S::Error> {
        self.source.seal_before(end);
        self.cut_range(start, end).await?;
        self.source.release(end).await
    }

    /// Cuts everything in memory now, without refusing late data: the
    /// source sets its data aside ([`SegmentSource::freeze`]), each aligned
    /// window of the largest compaction range (`range_ms` without
    /// compaction) the frozen data spans becomes one segment
    /// ([`SegmentSource::cut`] of that window, from the frozen data; `None`
    /// for a window already installed by an earlier, failed flush), then
    /// [`SegmentSource::release`] frees it. Segments of two flushes may
    /// overlap in time; reads merge them. Each stays inside one window of
    /// the largest range, as compaction would leave it: data spanning many
    /// hours (a backfill, senders far apart) is not cut into many small
    /// segments only to be merged again; data of a few minutes makes one
    /// short segment, which compaction merges like a cut one. The newest
    /// part of the data ([`SegmentSource::tail_start`]) is cut apart.
    pub async fn flush(&self) -> Result<(), S::Error> {
        let Some((mint, maxt)) = self.source.freeze() else {
            return Ok(());
        };
        let range = self
            .policy
            .compaction_ranges
            .iter()
            .copied()
            .max()
            .unwrap_or(self.policy.range_ms)
            .max(self.policy.range_ms)
            .max(1);
        let tail = self.source.tail_start();
        let mut start = mint.div_euclid(range) * range;
        while start <= maxt {
            let end = start + range;
            match tail {
                Some(t) if start < t && t < end => {
                    self.cut_range(start, t).await?;
                    self.cut_range(t, end).await?;
                }
                _ => self.cut_range(start, end).await?,
            }
            start = end;
        }
        self.source.release(maxt.saturating_add(1)).await
    }

    /// Cuts `[start, end)` into one segment, uploads and installs it.
    async fn cut_range(&self, start: i64, end: i64) -> Result<(), S::Error> {
        let started = Instant::now();
        let id = new_id();
        let meta = self
            .write(&id, move |s, dir, id| s.cut(dir, id, start, end))
            .await?;
        if let Some(meta) = meta {
            self.upload(&id).await?;
            self.source.install(&meta, &[]).await?;
            self.source.observe(Event::Cut {
                meta: &meta,
                elapsed: started.elapsed(),
            });
        } else {
            let _ = tokio::fs::remove_dir_all(self.store.layout.staging_dir(&id)).await;
        }
        Ok(())
    }

    /// Merges segments of one complete compaction window into one, while
    /// there is a window to merge ([`policy::plan_compaction`]).
    pub async fn compact(&self) -> Result<(), S::Error> {
        while self.compact_next().await? {}
        Ok(())
    }

    /// Merges the next window due, if there is one: true when it merged.
    /// One step of [`Lifecycle::compact`], for a caller that lets other
    /// work (a due flush) go first between merges.
    pub async fn compact_next(&self) -> Result<bool, S::Error> {
        let plan = if self.policy.size_tiered {
            policy::plan_compaction_tiered
        } else {
            policy::plan_compaction
        };
        match plan(&self.source.segments(), &self.policy.compaction_ranges) {
            Some(plan) => {
                self.compact_one(plan).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn compact_one(&self, plan: Plan) -> Result<(), S::Error> {
        let started = Instant::now();
        let target = plan.merged(&new_id());
        let inputs = Arc::new(plan.sources);
        let (t, i) = (target.clone(), inputs.clone());
        let meta = self
            .write(&target.id, move |s, dir, _| s.merge(dir, &t, &i))
            .await?;
        self.upload(&target.id).await?;
        self.source.install(&meta, &inputs).await?;
        for s in inputs.iter() {
            self.store.delete(&s.id).await.map_err(Error::from)?;
        }
        self.source.observe(Event::Compacted {
            meta: &meta,
            inputs: &inputs,
            elapsed: started.elapsed(),
        });
        Ok(())
    }

    /// Deletes segments past the retention time or size
    /// ([`policy::retention`]).
    pub async fn apply_retention(&self, now: i64) -> Result<(), S::Error> {
        let doomed = policy::retention(
            &self.source.segments(),
            now,
            self.policy.retention_ms,
            self.policy.retention_bytes,
        );
        for s in doomed {
            self.source.remove(&s.id);
            self.store.delete(&s.id).await.map_err(Error::from)?;
            self.source.observe(Event::Expired { segment: &s });
        }
        Ok(())
    }

    /// Runs `f` (a cut or a merge) on a blocking thread with a fresh
    /// staging directory for segment `id`.
    async fn write<T: Send + 'static>(
        &self,
        id: &str,
        f: impl FnOnce(&S, &Path, &str) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, S::Error> {
        let dir = self.store.layout.staging_dir(id);
        let (source, d, id2) = (self.source.clone(), dir.clone(), id.to_string());
        let r = tokio::task::spawn_blocking(move || f(&source, &d, &id2))
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        r.map_err(|source| Error::Io { path: dir, source }.into())
    }

    /// Uploads segment `id` from its staging directory, then removes the
    /// directory.
    async fn upload(&self, id: &str) -> Result<(), S::Error> {
        let dir = self.store.layout.staging_dir(id);
        self.store
            .upload(&dir, id, || self.source.observe(Event::UploadFailed))
            .await
            .map_err(Error::from)?;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        Ok(())
    }
}
