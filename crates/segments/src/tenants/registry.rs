//! Every tenant of one signal's store: opening (segments loaded, WALs
//! replayed), back-pressure, the flush, compaction and retention passes.

use super::{
    HeadData, Installed, SegmentMeta, Signal, StoreCounters, StoreOptions, Tenant, TenantSegments,
};
use crate::{Error, Lifecycle, Policy, SegmentLayout, SegmentStore};
use argus_model::paths::{self, DataDir};
use argus_model::TenantId;
use argus_objstore::ObjectStorage;
use parking_lot::RwLock;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tracing::warn;

/// Every tenant's data of signal `S`.
pub struct Tenants<S: Signal> {
    pub signal: Arc<S>,
    pub opts: StoreOptions,
    pub storage: ObjectStorage,
    pub counters: Arc<StoreCounters>,
    /// Compaction keeps a window's biggest segment out while it is bigger
    /// than the rest ([`Policy::size_tiered`]).
    pub size_tiered: bool,
    tenants: RwLock<HashMap<TenantId, Arc<Tenant<S>>>>,
}

impl<S: Signal> std::fmt::Debug for Tenants<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("signal", &S::SIGNAL)
            .field("opts", &self.opts)
            .field("tenants", &self.tenants.read().len())
            .finish_non_exhaustive()
    }
}

impl<S: Signal> Tenants<S> {
    /// Opens every tenant with data of `S` locally (a WAL) or in the object
    /// store (segments), replaying WALs. Ready after this.
    pub async fn open(
        signal: S,
        opts: StoreOptions,
        storage: ObjectStorage,
    ) -> Result<Self, S::Error> {
        let s = Tenants {
            signal: Arc::new(signal),
            opts,
            storage,
            counters: Arc::default(),
            size_tiered: true,
            tenants: RwLock::default(),
        };
        let data = s.opts.data();
        let mut tenants: BTreeSet<TenantId> = s
            .storage
            .tenants(S::SIGNAL)
            .await
            .map_err(Error::from)?
            .into_iter()
            .collect();
        tenants.extend(local_tenants(&data, S::SIGNAL));
        for tenant in tenants {
            let segments = s.load_segments(&tenant).await?;
            let (signal, opts, t) = (s.signal.clone(), s.opts.clone(), tenant.clone());
            let tl =
                tokio::task::spawn_blocking(move || Tenant::open(&*signal, t, &opts, segments))
                    .await
                    .map_err(|e| Error::Task(e.to_string()))??;
            s.tenants.write().insert(tenant, Arc::new(tl));
        }
        Ok(s)
    }

    /// Where a tenant's segments live: `tenants/<t>/<signal>/blocks/<id>/`,
    /// staged in `<data_dir>/tenants/<t>/<signal>/staging/<id>/`.
    pub fn layout(&self, tenant: &TenantId) -> SegmentLayout {
        SegmentLayout {
            tenant: tenant.clone(),
            prefix: paths::key::blocks(tenant, S::SIGNAL),
            files: S::FILES,
            staging: self.opts.data().staging(tenant, S::SIGNAL),
        }
    }

    async fn load_segments(&self, tenant: &TenantId) -> Result<Vec<Arc<S::Segment>>, S::Error> {
        let store = SegmentStore::new(self.storage.clone(), self.layout(tenant));
        let mut metas = Vec::new();
        for (id, b) in store.load_complete().await? {
            match serde_json::from_slice::<S::Meta>(&b) {
                Ok(m) => metas.push(m),
                Err(e) => {
                    warn!(tenant = %tenant, signal = S::SIGNAL.as_str(), segment = %id, error = %e, "ignoring a segment with an unreadable meta.json")
                }
            }
        }
        let infos: Vec<_> = metas.iter().map(SegmentMeta::info).collect();
        let superseded = store.delete_superseded(&infos).await.map_err(Error::from)?;
        let mut out = Vec::new();
        for m in metas {
            if !superseded.contains(m.id()) {
                out.push(Arc::new(
                    self.signal.open_segment(&self.storage, tenant, m).await?,
                ));
            }
        }
        out.sort_by_key(|s| s.meta().time_range());
        Ok(out)
    }

    pub fn tenant(&self, t: &TenantId) -> Option<Arc<Tenant<S>>> {
        self.tenants.read().get(t).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Tenant<S>>> {
        self.tenants.read().values().cloned().collect()
    }

    /// The tenant's data, created (an empty WAL) at its first push.
    pub fn tenant_or_create(&self, t: &TenantId) -> Result<Arc<Tenant<S>>, Error> {
        if let Some(x) = self.tenant(t) {
            return Ok(x);
        }
        let mut map = self.tenants.write();
        if let Some(x) = map.get(t) {
            return Ok(x.clone());
        }
        let tl = Arc::new(Tenant::open(
            &*self.signal,
            t.clone(),
            &self.opts,
            Vec::new(),
        )?);
        map.insert(t.clone(), tl.clone());
        Ok(tl)
    }

    /// Back-pressure: while the tenant's unflushed bytes are at
    /// `max_head_bytes` (ingest outruns flushing), a push waits for a flush
    /// to release memory; after `push_wait` it is refused
    /// ([`Error::Overloaded`], a 429), so memory stays bounded instead of
    /// growing until an OOM kill. Blocking.
    pub fn wait_for_memory(&self, t: &Tenant<S>) -> Result<(), Error> {
        let max = self.opts.max_head_bytes;
        if max == 0 {
            return Ok(());
        }
        let deadline = std::time::Instant::now() + self.opts.push_wait;
        loop {
            let held = t.unflushed_bytes();
            if held < max {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                self.counters.pushes_refused_memory.inc();
                let signal = S::SIGNAL.as_str();
                return Err(Error::Overloaded(format!(
                    "the {signal} store holds {held} unflushed bytes for tenant {} ({signal}.max_head_bytes = {max}) and flushing has not caught up within {:?}; retry later",
                    t.tenant, self.opts.push_wait
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// True when the tenant's head is due for a flush (size or age), or a
    /// flush of it failed.
    pub fn is_due(&self, t: &Tenant<S>) -> bool {
        let st = t.state.read();
        if st.frozen.is_some() {
            return true;
        }
        st.active.bytes() >= self.opts.flush_bytes
            || st
                .active
                .first_append()
                .is_some_and(|t| t.elapsed() >= self.opts.max_head_age)
    }

    /// The lifecycle of one tenant's segments.
    pub fn lifecycle(&self, t: &Arc<Tenant<S>>) -> Lifecycle<TenantSegments<S>> {
        let source = Arc::new(TenantSegments {
            signal: self.signal.clone(),
            t: t.clone(),
            storage: self.storage.clone(),
            flush_tail_bytes: self.opts.flush_tail_bytes,
            counters: self.counters.clone(),
        });
        let store = SegmentStore::new(self.storage.clone(), self.layout(&t.tenant));
        let policy = Policy {
            range_ms: self.opts.segment_range_ms,
            compaction_ranges: self.opts.compaction_ranges.clone(),
            retention_ms: self.opts.retention_ms,
            retention_bytes: self.opts.retention_bytes,
            size_tiered: self.size_tiered,
        };
        Lifecycle::new(source, store, policy)
    }

    /// Flushes every tenant whose head is due (size or age), or whose last
    /// flush failed. Cheap when nothing is due: call it often (every
    /// second).
    pub async fn flush_due(&self) {
        for t in self.all() {
            if self.is_due(&t) {
                let _g = t.lifecycle.lock().await;
                if let Err(e) = self.lifecycle(&t).flush().await {
                    warn!(tenant = %t.tenant, signal = S::SIGNAL.as_str(), error = %e, "flush failed; will retry");
                }
            }
        }
    }

    /// One full pass: flush what is due, compact, apply retention.
    ///
    /// Flushing goes first: a tenant's merges run one at a time, each
    /// under the tenant's lifecycle lock, and after the first of a pass
    /// they stop while its head is due for a flush, so a flush (which frees
    /// memory and ends back-pressure) waits for one merge at most, not for
    /// a whole compaction. The rest is merged on a later pass; one merge a
    /// pass, at least, keeps compaction going under sustained ingest.
    pub async fn maintain(&self) {
        self.flush_due().await;
        for t in self.all() {
            let lc = self.lifecycle(&t);
            let mut first = true;
            while std::mem::take(&mut first) || !self.is_due(&t) {
                let _g = t.lifecycle.lock().await;
                match lc.compact_next().await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        warn!(tenant = %t.tenant, signal = S::SIGNAL.as_str(), error = %e, "compaction failed; will retry");
                        break;
                    }
                }
            }
            let _g = t.lifecycle.lock().await;
            if let Err(e) = lc.apply_retention((self.opts.clock)()).await {
                warn!(tenant = %t.tenant, signal = S::SIGNAL.as_str(), error = %e, "retention failed; will retry");
            }
        }
    }

    /// Flushes every tenant's head now (tests, tools).
    pub async fn flush_all(&self) -> Result<(), S::Error> {
        for t in self.all() {
            let _g = t.lifecycle.lock().await;
            self.lifecycle(&t).flush().await?;
        }
        Ok(())
    }

    /// Compacts every tenant now (tests, tools).
    pub async fn compact_all(&self) -> Result<(), S::Error> {
        for t in self.all() {
            let _g = t.lifecycle.lock().await;
            self.lifecycle(&t).compact().await?;
        }
        Ok(())
    }
}

/// Tenants with a local `tenants/<t>/<signal>/` directory.
fn local_tenants(data: &DataDir, signal: argus_model::Signal) -> Vec<TenantId> {
    let Ok(rd) = std::fs::read_dir(data.tenants()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(t) = TenantId::new(&name) {
            if data.signal(&t, signal).is_dir() {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}
