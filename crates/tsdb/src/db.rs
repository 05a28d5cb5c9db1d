//! The multi-tenant database: routes appends and reads to per-tenant
//! storage, opens tenants from disk and object storage at start-up.

use crate::block::{BlockMeta, BlockReader, CHUNKS_FILE, INDEX_FILE};
use crate::head::{AppendReport, SeriesLimits};
use crate::select::Selection;
use crate::tenant::TenantDb;
use crate::{DbError, DbMetrics};
use argus_model::paths::{self, DataDir};
use argus_model::{Labels, Matcher, Signal, StoredSeries, TenantId, TimeSeries};
use argus_objstore::ObjectStorage;
use argus_segments::SegmentStore;
use argus_wal::WalOptions;
use parking_lot::RwLock;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::warn;

/// Milliseconds since the Unix epoch; injectable for tests.
pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub(crate) fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    })
}

#[derive(Clone)]
pub struct DbOptions {
    pub data_dir: PathBuf,
    /// Length of a level-1 block (and alignment of head chunks). Default 2h.
    pub block_range_ms: i64,
    /// Accept samples up to this much older than a series' newest sample. Default 0 (off), like Prometheus.
    pub out_of_order_window_ms: i64,
    /// Block ranges compaction builds, each a multiple of the previous. Default 2h, 6h, 24h.
    pub compaction_ranges: Vec<i64>,
    /// Delete blocks whose newest sample is older than this. 0 = keep forever. Default 15d.
    pub retention_ms: i64,
    /// Delete oldest blocks while a tenant's blocks exceed this. 0 = no size limit.
    pub retention_bytes: u64,
    /// Exemplars kept in memory per tenant (a circular buffer, as
    /// Prometheus's `--storage.exemplars.max-exemplars`). 0 = off. Default 100,000.
    pub max_exemplars: usize,
    pub wal: WalOptions,
    pub clock: Clock,
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("data_dir", &self.data_dir)
            .field("block_range_ms", &self.block_range_ms)
            .field("retention_ms", &self.retention_ms)
            .finish_non_exhaustive()
    }
}

impl DbOptions {
    /// The data directory's paths.
    pub fn data(&self) -> DataDir {
        DataDir::new(&self.data_dir)
    }

    pub fn new(data_dir: PathBuf) -> Self {
        let h = 3_600_000;
        DbOptions {
            data_dir,
            block_range_ms: 2 * h,
            out_of_order_window_ms: 0,
            compaction_ranges: vec![2 * h, 6 * h, 24 * h],
            retention_ms: 15 * 24 * h,
            retention_bytes: 0,
            max_exemplars: 100_000,
            wal: WalOptions::default(),
            clock: system_clock(),
        }
    }
}

#[derive(Debug)]
pub struct Db {
    pub(crate) opts: DbOptions,
    pub(crate) storage: ObjectStorage,
    tenants: RwLock<HashMap<TenantId, Arc<TenantDb>>>,
    pub metrics: Arc<DbMetrics>,
    /// Metric metadata reported by senders, per tenant.
    pub metadata: crate::metadata::MetadataStore,
}

/// Opens an uploaded block for reads (its files local: in place or cached).
pub(crate) async fn open_block(
    storage: &ObjectStorage,
    tenant: &TenantId,
    meta: BlockMeta,
) -> Result<BlockReader, DbError> {
    let index = storage
        .local_file(&paths::key::block_file(
            tenant,
            Signal::Metrics,
            &meta.id,
            INDEX_FILE,
        ))
        .await?;
    let chunks = storage
        .local_file(&paths::key::block_file(
            tenant,
            Signal::Metrics,
            &meta.id,
            CHUNKS_FILE,
        ))
        .await?;
    let r = tokio::task::spawn_blocking(move || BlockReader::open(meta, &index, &chunks))
        .await
        .map_err(|e| DbError::Internal(e.to_string()))??;
    Ok(r)
}

impl Db {
    /// Opens every tenant found in the data directory or the object store,
    /// loading blocks and replaying WALs. The server is ready after this.
    pub async fn open(opts: DbOptions, storage: ObjectStorage) -> Result<Db, DbError> {
        let db = Db {
            opts,
            storage,
            tenants: RwLock::default(),
            metrics: Arc::default(),
            metadata: Default::default(),
        };
        let data = db.opts.data();
        let d2 = data.clone();
        tokio::task::spawn_blocking(move || crate::layout::migrate(&d2))
            .await
            .map_err(|e| DbError::Internal(e.to_string()))??;
        // The tenants that have metrics, locally (a WAL) or in the object store (blocks).
        let mut tenants: BTreeSet<TenantId> = db
            .storage
            .tenants(Signal::Metrics)
            .await?
            .into_iter()
            .collect();
        tenants.extend(crate::layout::local_tenants(&data, Signal::Metrics));
        for tenant in tenants {
            // Also clears the staging directory a crash during a cut or a
            // compaction left behind (`SegmentStore::load_complete`).
            let blocks = db.load_blocks(&tenant).await?;
            let opts = db.opts.clone();
            let t = tenant.clone();
            let tdb = tokio::task::spawn_blocking(move || TenantDb::open(t, &opts, blocks))
                .await
                .map_err(|e| DbError::Internal(e.to_string()))??;
            db.tenants.write().insert(tenant, Arc::new(tdb));
        }
        Ok(db)
    }

    /// Opens the complete blocks of a tenant; incomplete ones (no meta.json)
    /// and ones superseded by a compacted block are cleaned up
    /// (`argus-segments`).
    async fn load_blocks(&self, tenant: &TenantId) -> Result<Vec<Arc<BlockReader>>, DbError> {
        let store = SegmentStore::new(self.storage.clone(), self.block_layout(tenant));
        let mut metas = Vec::new();
        for (id, b) in store.load_complete().await? {
            match serde_json::from_slice::<BlockMeta>(&b) {
                Ok(m) => metas.push(m),
                Err(e) => {
                    warn!(tenant = %tenant, block = %id, error = %e, "ignoring block with unreadable meta.json")
                }
            }
        }
        let infos: Vec<_> = metas.iter().map(BlockMeta::segment_info).collect();
        let superseded = store.delete_superseded(&infos).await?;
        let mut out = Vec::new();
        for m in metas {
            if !superseded.contains(&m.id) {
                out.push(Arc::new(open_block(&self.storage, tenant, m).await?));
            }
        }
        Ok(out)
    }

    pub fn tenant(&self, t: &TenantId) -> Option<Arc<TenantDb>> {
        self.tenants.read().get(t).cloned()
    }

    pub(crate) fn all_tenants(&self) -> Vec<Arc<TenantDb>> {
        self.tenants.read().values().cloned().collect()
    }

    fn tenant_or_create(&self, t: &TenantId) -> Result<Arc<TenantDb>, DbError> {
        if let Some(x) = self.tenant(t) {
            return Ok(x);
        }
        let mut map = self.tenants.write();
        if let Some(x) = map.get(t) {
            return Ok(x.clone());
        }
        let tdb = Arc::new(TenantDb::open(t.clone(), &self.opts, Vec::new())?);
        map.insert(t.clone(), tdb.clone());
        Ok(tdb)
    }

    /// Appends a batch for a tenant: validate, write to the WAL, apply to the
    /// head, then wait for the fsync policy. Blocking; call from a blocking
    /// context. Returns what was accepted and rejected.
    pub fn append(
        &self,
        tenant: &TenantId,
        batch: Vec<TimeSeries>,
        limits: SeriesLimits,
    ) -> Result<AppendReport, DbError> {
        let tdb = self.tenant_or_create(tenant)?;
        let seq = {
            let _g = tdb.head.append_lock.lock();
            let plan = tdb.head.plan(batch, limits);
            let recs = plan.wal_records();
            let seq = if recs.is_empty() {
                None
            } else {
                let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
                Some(tdb.wal.append(&refs)?)
            };
            let report = tdb.head.commit(plan);
            self.record(tenant, &report);
            (seq, report)
        };
        if let Some(s) = seq.0 {
            tdb.wal.sync(s)?;
        }
        Ok(seq.1)
    }

    fn record(&self, tenant: &TenantId, r: &AppendReport) {
        let t = tenant.as_str();
        self.metrics.add_appended(
            t,
            r.accepted - r.duplicates + r.histograms_accepted - r.histogram_duplicates,
        );
        for (reason, n) in &r.rejected_samples {
            self.metrics.add_rejected(t, reason, *n);
        }
        self.metrics.series_created.inc_by(r.new_series as u64);
    }

    /// Series matching `matchers` with their float and histogram samples in
    /// [mint, maxt], each once, head and blocks merged (on equal timestamps
    /// the oldest block wins). Not sorted: blocks' series come first in
    /// label order, then series only in the head in creation order, as
    /// Prometheus's head returns them; the engine sorts what it outputs.
    /// Every series' samples are read at once; queries use [`Db::select`].
    pub fn select_series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<StoredSeries>, DbError> {
        let sel = self.select(tenant, matchers, mint, maxt);
        let mut out = Vec::with_capacity(sel.len());
        for i in 0..sel.len() {
            let mut s = sel.load(i)?;
            if !s.floats.is_empty() || !s.histograms.is_empty() {
                s.labels = sel.labels(i).clone();
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The series matching `matchers` with data in [mint, maxt], each once,
    /// head and blocks joined, their samples read later one series at a time
    /// ([`Selection::load`]). Same order as [`Db::select_series`].
    ///
    /// Versions of one series from several sources are joined by the label
    /// hash each source keeps (checked against the label text), and a label
    /// set is built once per series: sorting every version by its labels
    /// was the largest cost of an instant query over many series.
    pub fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Selection {
        match self.tenant(tenant) {
            Some(tdb) => Selection::new(tdb, matchers, mint, maxt),
            None => Selection::empty(),
        }
    }

    /// Label sets of series matching any of `matcher_sets` (all series when
    /// empty) with data in [mint, maxt], sorted and unique.
    pub fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, DbError> {
        let Some(tdb) = self.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let mut out = BTreeSet::new();
        let sets: Vec<&[Matcher]> = if matcher_sets.is_empty() {
            vec![&[]]
        } else {
            matcher_sets.iter().map(Vec::as_slice).collect()
        };
        for m in sets {
            // The head first, as in `select_series`: a cut running meanwhile
            // cannot hide a series.
            out.extend(tdb.head.series_labels(m, mint, maxt));
            for b in tdb
                .blocks()
                .iter()
                .filter(|b| b.meta.max_time > mint && b.meta.min_time <= maxt)
            {
                out.extend(b.series_labels(m, mint, maxt));
            }
        }
        Ok(out.into_iter().collect())
    }

    pub fn label_names(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, DbError> {
        let mut names = BTreeSet::new();
        for l in self.series(tenant, matcher_sets, mint, maxt)? {
            names.extend(l.iter().map(|x| x.name.clone()));
        }
        Ok(names.into_iter().collect())
    }

    pub fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, DbError> {
        let mut vals = BTreeSet::new();
        for l in self.series(tenant, matcher_sets, mint, maxt)? {
            if let Some(v) = l.get(name) {
                vals.insert(v.to_string());
            }
        }
        Ok(vals.into_iter().collect())
    }

    /// Final fsync of every WAL.
    pub fn close(&self) -> Result<(), DbError> {
        for t in self.all_tenants() {
            t.wal.close()?;
        }
        Ok(())
    }

    /// Registers the storage self-metrics: the engine's counters and the
    /// per-tenant gauges (head, blocks, WAL), read when the registry is
    /// encoded.
    pub fn register_metrics(
        self: &Arc<Self>,
        registry: &mut prometheus_client::registry::Registry,
    ) {
        self.metrics.register(registry);
        registry.register_collector(Box::new(crate::metrics::TenantGauges(Arc::downgrade(self))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{MatchOp, Sample};
    use argus_objstore::Backend;

    const LIMITS: SeriesLimits = SeriesLimits {
        max_series: 1000,
        max_labels: 64,
    };

    /// Runs `f` on another thread and checks that it panicked.
    fn panics(what: &str, f: impl FnOnce() + Send) {
        let r = std::thread::scope(|s| s.spawn(f).join());
        assert!(r.is_err(), "{what}: expected a panic");
    }

    fn series(i: &str, t: i64) -> TimeSeries {
        TimeSeries {
            labels: Labels::from_pairs([("__name__", "m"), ("i", i)]),
            samples: vec![Sample::new(t, 1.0)],
            ..Default::default()
        }
    }

    /// Lock policy (ARCHITECTURE.md, "Locks"): a panic while one of the
    /// store's locks is held does not break later requests. With std locks
    /// each of these would be poisoned, and every later append, query or
    /// metrics scrape would panic on `lock().expect(..)`.
    #[tokio::test]
    async fn a_panic_under_a_lock_does_not_break_later_calls() {
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
        db.append(&t, vec![series("0", 1000)], LIMITS).unwrap();
        let tdb = db.tenant(&t).unwrap();
        let s0 = tdb.head.series_in_range(i64::MIN, i64::MAX).pop().unwrap();

        panics("tenants", || {
            let _g = db.tenants.write();
            panic!("panic under the tenants lock");
        });
        panics("blocks", || {
            let _g = tdb.blocks.write();
            panic!("panic under the blocks lock");
        });
        panics("append", || {
            let _g = tdb.head.append_lock.lock();
            panic!("panic under the append lock");
        });
        panics("series map", || {
            tdb.head
                .with_series_map_locked(|| panic!("panic under the series map lock"))
        });
        panics("index", || {
            tdb.head
                .with_index_locked(|| panic!("panic under the index lock"))
        });
        panics("series data", || {
            let _g = s0.data.lock();
            panic!("panic under a series' lock");
        });

        // Appends (an existing series, a new one, a new tenant), reads and
        // metrics all still work.
        let r = db
            .append(&t, vec![series("0", 2000), series("1", 2000)], LIMITS)
            .unwrap();
        assert_eq!((r.accepted, r.new_series), (2, 1));
        db.append(
            &TenantId::new("b").unwrap(),
            vec![series("0", 1000)],
            LIMITS,
        )
        .unwrap();
        let m = [Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()];
        let got = db.select_series(&t, &m, i64::MIN, i64::MAX).unwrap();
        let mut got: Vec<(String, Vec<i64>)> = got
            .iter()
            .map(|s| {
                (
                    s.labels.get("i").unwrap_or_default().to_string(),
                    s.floats.iter().map(|x| x.t).collect(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![("0".into(), vec![1000, 2000]), ("1".into(), vec![2000])]
        );
        assert_eq!(
            db.series(&t, &[m.to_vec()], i64::MIN, i64::MAX)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(tdb.blocks().len(), 0);
        let db = Arc::new(db);
        let mut registry = prometheus_client::registry::Registry::default();
        db.register_metrics(&mut registry);
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
        assert!(
            out.contains("argus_tsdb_head_series{tenant=\"a\"} 2"),
            "{out}"
        );
        assert!(
            out.contains("argus_tsdb_samples_appended_total{tenant=\"a\"} 3"),
            "{out}"
        );
    }
}
