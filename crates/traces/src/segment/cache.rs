//! Decoded columns of segments' row groups, kept in memory for searches
//! (`traces.cache_size`), least recently used first out.
//!
//! A search reads the same few columns of the newest row groups again and
//! again (Grafana re-runs a search as its user refines it or a dashboard
//! refreshes): decompressing them is most of its time. Tempo keeps
//! Parquet pages in a cache for the same reason. Segments are immutable,
//! so an entry never goes stale; one of a deleted segment ages out.

use super::reader::DataFile;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::Schema;
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// One column of one row group of one data file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    file: PathBuf,
    rg: usize,
    column: usize,
}

#[derive(Debug)]
struct Entry {
    array: ArrayRef,
    bytes: usize,
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    bytes: usize,
    tick: u64,
}

/// The cache's counters, registered under `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct CacheCounters {
    pub hits: Counter,
    pub misses: Counter,
    pub bytes: Gauge,
}

impl CacheCounters {
    /// Registers the counters as `argus_traces_cache_*`.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "argus_traces_cache_hits",
            "Decoded columns a search found in the cache",
            self.hits.clone(),
        );
        registry.register(
            "argus_traces_cache_misses",
            "Decoded columns a search read from segments into the cache",
            self.misses.clone(),
        );
        registry.register(
            "argus_traces_cache_bytes",
            "Bytes of decoded columns in the cache",
            self.bytes.clone(),
        );
    }
}

/// Decoded columns, at most `budget` bytes of them.
#[derive(Debug)]
pub struct ColumnCache {
    budget: usize,
    inner: Mutex<Inner>,
    pub counters: CacheCounters,
}

impl ColumnCache {
    /// A cache of at most `budget` bytes (0: nothing is kept).
    pub fn new(budget: usize) -> Self {
        ColumnCache {
            budget,
            inner: Mutex::new(Inner::default()),
            counters: CacheCounters::default(),
        }
    }

    /// Columns `names` (those the file has) of row group `rg` of `data`,
    /// whole, as one batch in the file's column order: those cached
    /// from memory, the rest read in one pass and kept.
    pub(crate) fn batch(
        &self,
        data: &DataFile,
        rg: usize,
        names: &[&str],
    ) -> io::Result<RecordBatch> {
        let schema = data.schema().clone();
        let wanted = data.columns_named(names);
        let mut arrays: Vec<Option<ArrayRef>> = vec![None; wanted.len()];
        {
            let mut inner = self.inner.lock();
            inner.tick += 1;
            let tick = inner.tick;
            for (slot, &column) in arrays.iter_mut().zip(&wanted) {
                let key = Key {
                    file: data.path.clone(),
                    rg,
                    column,
                };
                if let Some(e) = inner.map.get_mut(&key) {
                    e.used = tick;
                    *slot = Some(e.array.clone());
                }
            }
        }
        let missing: Vec<usize> = wanted
            .iter()
            .zip(&arrays)
            .filter(|(_, a)| a.is_none())
            .map(|(&c, _)| c)
            .collect();
        self.counters
            .hits
            .inc_by((wanted.len() - missing.len()) as u64);
        if !missing.is_empty() {
            self.counters.misses.inc_by(missing.len() as u64);
            let read = data.read_whole(rg, &missing)?.columns().to_vec();
            let mut inner = self.inner.lock();
            let tick = inner.tick;
            for (column, array) in missing.iter().zip(read) {
                let i = wanted.iter().position(|c| c == column).unwrap_or(0);
                arrays[i] = Some(array.clone());
                if self.budget > 0 {
                    let bytes = array.get_array_memory_size();
                    let key = Key {
                        file: data.path.clone(),
                        rg,
                        column: *column,
                    };
                    let old = inner.map.insert(
                        key,
                        Entry {
                            array,
                            bytes,
                            used: tick,
                        },
                    );
                    inner.bytes += bytes;
                    inner.bytes -= old.map_or(0, |e| e.bytes);
                }
            }
            self.evict(&mut inner);
            self.counters.bytes.set(inner.bytes as i64);
        }
        let fields: Vec<_> = wanted.iter().map(|&i| schema.field(i).clone()).collect();
        let arrays: Vec<ArrayRef> = arrays.into_iter().flatten().collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(io::Error::other)
    }

    /// Drops the least recently used entries until the cache is within
    /// its budget (to 90 % of it, so that eviction is not on every read).
    fn evict(&self, inner: &mut Inner) {
        if inner.bytes <= self.budget {
            return;
        }
        let mut by_use: Vec<(u64, Key)> =
            inner.map.iter().map(|(k, e)| (e.used, k.clone())).collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        let target = self.budget / 10 * 9;
        for (_, key) in by_use {
            if inner.bytes <= target {
                break;
            }
            if let Some(e) = inner.map.remove(&key) {
                inner.bytes -= e.bytes;
            }
        }
    }
}
