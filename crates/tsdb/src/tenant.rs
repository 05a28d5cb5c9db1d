//! One tenant's storage: its WAL, head and blocks.

use crate::block::BlockReader;
use crate::exemplars::Exemplars;
use crate::head::Head;
use crate::walrec;
use crate::{DbError, DbOptions};
use argus_model::{Signal, TenantId};
use argus_wal::Wal;
use parking_lot::RwLock;
use std::path::PathBuf;
use std::sync::Arc;
use tracing::{info, warn};

#[derive(Debug)]
pub struct TenantDb {
    pub tenant: TenantId,
    pub head: Head,
    /// The tenant's exemplars (in memory, logged in `wal`).
    pub exemplars: Exemplars,
    pub wal: Wal,
    /// Sorted by min_time.
    pub blocks: RwLock<Vec<Arc<BlockReader>>>,
    /// `<data_dir>/tenants/<tenant>/metrics`.
    pub dir: PathBuf,
    /// Serialises block cutting, compaction and retention.
    pub lifecycle: tokio::sync::Mutex<()>,
}

impl TenantDb {
    /// Opens the tenant's WAL and replays it into a new head. Samples older
    /// than the newest block's end are skipped: they are in that block.
    pub fn open(
        tenant: TenantId,
        opts: &DbOptions,
        blocks: Vec<Arc<BlockReader>>,
    ) -> Result<TenantDb, DbError> {
        let data = opts.data();
        let dir = data.signal(&tenant, Signal::Metrics);
        let wal_dir = data.wal(&tenant, Signal::Metrics);
        std::fs::create_dir_all(&wal_dir).map_err(|e| DbError::io(&wal_dir, e))?;
        let wal = Wal::open(&wal_dir, opts.wal.clone())?;
        let head = Head::new(opts.block_range_ms, opts.out_of_order_window_ms);
        if let Some(maxt) = blocks.iter().map(|b| b.meta.max_time).max() {
            head.set_min_valid_time(maxt);
        }
        let started = std::time::Instant::now();
        // Replay is bound by memory latency (every sample touches another
        // series), so it spreads the appends over the cores.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
        let exemplars = Exemplars::new(opts.max_exemplars);
        let mut bad_exemplars = 0u64;
        let mut stats = None;
        let (unknown, bad) = head.replay_parallel(workers, |apply| {
            stats = Some(wal.replay(|rec| {
                // Exemplars go to their own store; the head takes the rest.
                if rec.first() == Some(&walrec::REC_EXEMPLARS) {
                    match walrec::decode(rec) {
                        Ok(walrec::Record::Exemplars(items)) => {
                            for (series, e) in items {
                                exemplars.add(&series, e);
                            }
                        }
                        _ => bad_exemplars += 1,
                    }
                } else {
                    apply(rec);
                }
                Ok(())
            })?);
            Ok::<(), DbError>(())
        })?;
        let bad = bad + bad_exemplars;
        let stats = stats.expect("replay ran");
        if unknown > 0 || bad > 0 {
            warn!(tenant = %tenant, unknown_series_refs = unknown, malformed_records = bad, "wal replay skipped samples");
        }
        if stats.records > 0 {
            info!(tenant = %tenant, records = stats.records, bytes = stats.bytes, series = head.num_series(),
                  elapsed_ms = started.elapsed().as_millis() as u64, "wal replayed");
        }
        let mut blocks = blocks;
        blocks.sort_by_key(|b| b.meta.min_time);
        Ok(TenantDb {
            tenant,
            head,
            exemplars,
            wal,
            blocks: RwLock::new(blocks),
            dir,
            lifecycle: tokio::sync::Mutex::new(()),
        })
    }

    pub fn blocks(&self) -> Vec<Arc<BlockReader>> {
        self.blocks.read().clone()
    }
}
