//! One tenant's data of one signal: its WAL, its active and frozen heads,
//! its installed segments; WAL replay and the append path.

use super::{ms, Record, Signal, StoreOptions};
use crate::Error;
use argus_model::TenantId;
use argus_wal::{Wal, WalError};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::Arc;
use tracing::info;

/// A head set aside by a flush, readable until its segments are installed
/// and it is released.
#[derive(Debug)]
pub struct Frozen<H> {
    pub head: Arc<H>,
    /// The WAL segment the freeze closed: every record of this head is in
    /// it or an earlier one.
    pub wal_segment: u64,
    /// Aligned ranges (ms) already cut into installed segments: reads of
    /// the frozen head skip them (the segment has them).
    pub installed: Vec<(i64, i64)>,
}

impl<H> Clone for Frozen<H> {
    fn clone(&self) -> Self {
        Frozen {
            head: self.head.clone(),
            wal_segment: self.wal_segment,
            installed: self.installed.clone(),
        }
    }
}

impl<H> Frozen<H> {
    /// True when data at `ts_ns` is in an installed segment already.
    pub fn is_installed(&self, ts_ns: i64) -> bool {
        let t = ms(ts_ns);
        self.installed.iter().any(|&(s, e)| t >= s && t < e)
    }
}

/// What reads see of a tenant.
#[derive(Debug)]
pub struct State<S: Signal> {
    pub active: Arc<S::Head>,
    pub frozen: Option<Frozen<S::Head>>,
    /// Installed segments, oldest (`min_time`) first.
    pub segments: Vec<Arc<S::Segment>>,
}

impl<S: Signal> State<S> {
    /// The heads, active first.
    pub fn heads(&self) -> impl Iterator<Item = &Arc<S::Head>> {
        std::iter::once(&self.active).chain(self.frozen.as_ref().map(|f| &f.head))
    }
}

/// One tenant's data of signal `S`.
#[derive(Debug)]
pub struct Tenant<S: Signal> {
    pub tenant: TenantId,
    pub wal: Wal,
    /// Pushes validate and write the WAL under this lock, one at a time.
    pub append: Mutex<S::Append>,
    pub state: RwLock<State<S>>,
    /// One lifecycle step (flush, compaction, retention) at a time.
    pub lifecycle: tokio::sync::Mutex<()>,
}

impl<S: Signal> Tenant<S> {
    /// Opens the tenant's WAL and replays it over its installed segments:
    /// data of a flush that a segment already holds is skipped.
    pub fn open(
        signal: &S,
        tenant: TenantId,
        opts: &StoreOptions,
        segments: Vec<Arc<S::Segment>>,
    ) -> Result<Tenant<S>, Error> {
        use super::{Installed, SegmentMeta};
        let dir = opts.data().wal(&tenant, S::SIGNAL);
        let wal = Wal::open(&dir, opts.wal.clone())?;
        let mut windows: HashMap<u64, Vec<(i64, i64)>> = HashMap::new();
        for s in &segments {
            for f in s.meta().flushes() {
                windows.entry(f.wal).or_default().push((f.start, f.end));
            }
        }
        let mut pending: Vec<S::Batch> = Vec::new();
        let mut skipped = 0u64;
        let stats = wal.replay(|rec| {
            match S::decode_record(rec).map_err(WalError::callback)? {
                Record::Payload(b) => pending.push(b),
                Record::Freeze(k) => {
                    if let Some(w) = windows.get(&k) {
                        let installed = |ns: i64| {
                            let t = ms(ns);
                            w.iter().any(|&(a, b)| t >= a && t < b)
                        };
                        for b in &mut pending {
                            skipped += S::drop_installed(b, &installed);
                        }
                    }
                }
            }
            Ok(())
        })?;
        let head = Arc::new(S::Head::default());
        let mut append = S::Append::default();
        let replayed = signal.replay(&head, &mut append, pending);
        info!(
            tenant = %tenant,
            signal = S::SIGNAL.as_str(),
            records = stats.records,
            items = replayed,
            skipped_in_segments = skipped,
            segments = segments.len(),
            "wal replayed"
        );
        Ok(Tenant {
            tenant,
            wal,
            append: Mutex::new(append),
            state: RwLock::new(State {
                active: head,
                frozen: None,
                segments,
            }),
            lifecycle: tokio::sync::Mutex::new(()),
        })
    }

    /// Bytes not yet in segments (active and frozen heads).
    pub fn unflushed_bytes(&self) -> u64 {
        use super::HeadData;
        self.state.read().heads().map(|h| h.bytes()).sum()
    }

    /// The append path. Under the append lock, `prepare` sees the append
    /// state and the heads (active, frozen), validates, encodes what it
    /// keeps as a WAL record into the buffer and returns it; the record is
    /// written, `apply` puts it into the active head, and the WAL's fsync
    /// policy is waited for outside the lock. `None` from `prepare`:
    /// nothing to write.
    pub fn append<K, R>(
        &self,
        prepare: impl FnOnce(
            &mut S::Append,
            &Arc<S::Head>,
            Option<&Arc<S::Head>>,
            &mut Vec<u8>,
        ) -> Option<K>,
        apply: impl FnOnce(&mut S::Append, &S::Head, K) -> R,
    ) -> Result<Option<R>, WalError> {
        let mut rec = Vec::new();
        let (seq, out) = {
            let mut app = self.append.lock();
            let (active, frozen) = {
                let st = self.state.read();
                (
                    st.active.clone(),
                    st.frozen.as_ref().map(|f| f.head.clone()),
                )
            };
            let Some(kept) = prepare(&mut app, &active, frozen.as_ref(), &mut rec) else {
                return Ok(None);
            };
            let seq = self.wal.append(&[&rec])?;
            (seq, apply(&mut app, &active, kept))
        };
        self.wal.sync(seq)?;
        Ok(Some(out))
    }
}
