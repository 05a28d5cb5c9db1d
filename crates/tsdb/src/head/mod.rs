//! The in-memory head: series with compressed chunks and an inverted index.
//!
//! Appends happen in three steps so that an acknowledged write is always in
//! the WAL and a failed WAL write leaves memory untouched:
//! [`Head::plan`] validates a batch (creating series as needed),
//! the caller writes the plan's WAL records, then [`Head::commit`] applies it.
//! The caller serialises plan→WAL→commit per tenant.

mod append;
pub(crate) mod idmap;
mod packed;
mod read;
mod replay;
mod series;

pub use argus_store::{AppendReport, SeriesLimits};
pub use packed::PackedLabels;
pub use series::{HeadChunk, HistData, MemSeries, SampleReject, SeriesData, Verdict};

use crate::postings::{self, MemPostings, PostingsSource};
use crate::walrec;
use argus_model::{HistogramSample, Labels, Matcher, Sample, StoredSeries, TimeSeries};
use idmap::NumMap;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// Why a whole series of a batch was not appended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeriesReject {
    MaxSeries(usize),
    MaxLabels(usize),
}

impl SeriesReject {
    pub fn as_str(&self) -> &'static str {
        match self {
            SeriesReject::MaxSeries(_) => "max_series",
            SeriesReject::MaxLabels(_) => "max_labels_per_series",
        }
    }
}

impl std::fmt::Display for SeriesReject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeriesReject::MaxSeries(n) => {
                write!(f, "per-tenant limit of {n} active series reached")
            }
            SeriesReject::MaxLabels(n) => {
                write!(f, "series has more than the per-tenant limit of {n} labels")
            }
        }
    }
}

/// A validated batch waiting for its WAL write.
#[derive(Debug, Default)]
pub struct AppendPlan {
    unlogged: Vec<Arc<MemSeries>>,
    samples: Vec<(Arc<MemSeries>, Sample, Verdict)>,
    /// For each sample that is not a duplicate (in order): the series'
    /// previous float value in the WAL (bits), which its record is relative to.
    wal_prev: Vec<u64>,
    histograms: Vec<(Arc<MemSeries>, HistogramSample, Verdict)>,
    pub report: AppendReport,
}

impl AppendPlan {
    pub fn is_empty(&self) -> bool {
        self.unlogged.is_empty() && self.samples.is_empty() && self.histograms.is_empty()
    }

    /// The WAL records for this plan: series first, then samples.
    pub fn wal_records(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if !self.unlogged.is_empty() {
            let s: Vec<(u64, &PackedLabels)> =
                self.unlogged.iter().map(|s| (s.id, &s.labels)).collect();
            let mut buf = Vec::new();
            walrec::encode_series(&s, &mut buf);
            out.push(buf);
        }
        let samples: Vec<(u64, Sample, u64)> = self
            .samples
            .iter()
            .filter(|(_, _, v)| *v != Verdict::Duplicate)
            .zip(&self.wal_prev)
            .map(|((s, x, _), p)| (s.id, *x, *p))
            .collect();
        for part in samples.chunks(walrec::MAX_RECORD_SAMPLES) {
            let mut buf = Vec::with_capacity(part.len() * 3 + 16);
            walrec::encode_delta_samples(part.iter().copied(), &mut buf);
            out.push(buf);
        }
        let hs: Vec<(u64, &HistogramSample)> = self
            .histograms
            .iter()
            .filter(|(_, _, v)| *v != Verdict::Duplicate)
            .map(|(s, x, _)| (s.id, x))
            .collect();
        if !hs.is_empty() {
            let mut buf = Vec::new();
            walrec::encode_histogram_samples(&hs, &mut buf);
            out.push(buf);
        }
        out
    }
}

/// Series by label hash and by id. A hash collision (two label sets, one
/// hash) is rare, so the second and later series of a hash wait in
/// `conflicts` instead of every entry paying for a list.
#[derive(Debug, Default)]
struct SeriesMap {
    by_hash: NumMap<u64, Arc<MemSeries>>,
    conflicts: NumMap<u64, Vec<Arc<MemSeries>>>,
    by_id: NumMap<u64, Arc<MemSeries>>,
}

impl SeriesMap {
    fn find(&self, labels: &Labels, hash: u64) -> Option<&Arc<MemSeries>> {
        self.find_by(hash, |s| s.labels.eq_labels(labels))
    }

    fn find_by(&self, hash: u64, eq: impl Fn(&MemSeries) -> bool) -> Option<&Arc<MemSeries>> {
        let first = self.by_hash.get(&hash)?;
        if eq(first) {
            return Some(first);
        }
        self.conflicts.get(&hash)?.iter().find(|s| eq(s))
    }

    fn insert(&mut self, hash: u64, s: Arc<MemSeries>) {
        self.by_id.insert(s.id, s.clone());
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(s);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.conflicts.entry(hash).or_default().push(s);
            }
        }
    }

    fn remove(&mut self, s: &MemSeries) {
        self.by_id.remove(&s.id);
        let hash = s.hash;
        if let Some(list) = self.conflicts.get_mut(&hash) {
            list.retain(|x| x.id != s.id);
            let promote = self.by_hash.get(&hash).is_some_and(|x| x.id == s.id);
            if promote {
                self.by_hash
                    .insert(hash, list.pop().expect("conflict list not empty"));
            }
            if list.is_empty() {
                self.conflicts.remove(&hash);
            }
        } else if self.by_hash.get(&hash).is_some_and(|x| x.id == s.id) {
            self.by_hash.remove(&hash);
        }
    }
}

#[derive(Debug)]
pub struct Head {
    series: RwLock<SeriesMap>,
    index: RwLock<MemPostings>,
    next_id: AtomicU64,
    min_valid_time: AtomicI64,
    min_time: AtomicI64,
    max_time: AtomicI64,
    chunk_range: i64,
    ooo_window: i64,
    /// Serialises plan → WAL → commit.
    pub append_lock: Mutex<()>,
    /// How many times [`Head::truncate`] has begun: a lazy query selection
    /// ([`crate::Selection`]) that sees it change re-reads what moved to a block.
    truncations: AtomicU64,
}

impl Head {
    pub fn new(chunk_range: i64, ooo_window: i64) -> Self {
        Head {
            series: RwLock::default(),
            index: RwLock::default(),
            next_id: AtomicU64::new(1),
            min_valid_time: AtomicI64::new(i64::MIN),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            chunk_range,
            ooo_window,
            append_lock: Mutex::new(()),
            truncations: AtomicU64::new(0),
        }
    }

    /// True when the head holds a series with exactly these labels.
    pub fn contains(&self, labels: &Labels) -> bool {
        self.series
            .read()
            .find(labels, labels.stable_hash())
            .is_some()
    }

    /// How many truncations have begun (see the field).
    pub fn truncations(&self) -> u64 {
        self.truncations.load(Ordering::Acquire)
    }

    pub fn num_series(&self) -> usize {
        self.series.read().by_id.len()
    }

    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_time.load(Ordering::Acquire)
    }

    pub fn set_min_valid_time(&self, t: i64) {
        self.min_valid_time.fetch_max(t, Ordering::AcqRel);
    }

    /// Lowest and highest sample time in the head (None when empty). The
    /// lower bound rises only when data leaves the head ([`Head::truncate`]),
    /// so a block whose upload failed is cut again on the next pass.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let (a, b) = (
            self.min_time.load(Ordering::Acquire),
            self.max_time.load(Ordering::Acquire),
        );
        (a <= b).then_some((a, b))
    }

    /// Whether the head may hold samples in [mint, maxt]; a query outside
    /// its time range need not look at any series.
    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.time_range()
            .is_some_and(|(lo, hi)| lo <= maxt && mint <= hi)
    }

    pub fn chunk_range(&self) -> i64 {
        self.chunk_range
    }

    fn get(&self, labels: &Labels, hash: u64) -> Option<Arc<MemSeries>> {
        self.series.read().find(labels, hash).cloned()
    }

    /// Creates a series with a given id (WAL replay) or the next id.
    fn create(&self, labels: PackedLabels, hash: u64, id: Option<u64>) -> Arc<MemSeries> {
        let mut map = self.series.write();
        if let Some(s) = map.find_by(hash, |s| s.labels == labels) {
            return s.clone();
        }
        let id = match id {
            Some(id) => {
                self.next_id.fetch_max(id + 1, Ordering::AcqRel);
                id
            }
            None => self.next_id.fetch_add(1, Ordering::AcqRel),
        };
        let s = Arc::new(MemSeries {
            id,
            labels,
            hash,
            data: Default::default(),
        });
        map.insert(hash, s.clone());
        self.index.write().add(id, s.labels.iter());
        s
    }

    /// WAL records describing the whole head (for a checkpoint): the
    /// minimum valid time, then per group of series their series record,
    /// the samples of their open histogram chunks, and their chunks as the
    /// head holds them (type 7), which a restart loads without re-encoding.
    pub fn checkpoint_records(&self) -> impl Iterator<Item = Vec<u8>> {
        let mut series: Vec<Arc<MemSeries>> = self.series.read().by_id.values().cloned().collect();
        series.sort_by_key(|s| s.id);
        let mut first = Vec::new();
        walrec::encode_min_valid_time(self.min_valid_time(), &mut first);
        // Encoded lazily, 100 series at a time, as the WAL writes them: the
        // buffers of one group are all a checkpoint holds in memory.
        let groups: Vec<Vec<Arc<MemSeries>>> = series.chunks(100).map(<[_]>::to_vec).collect();
        std::iter::once(first).chain(groups.into_iter().flat_map(|group| {
            let mut out = Vec::new();
            let mut buf = Vec::new();
            let s: Vec<(u64, &PackedLabels)> = group.iter().map(|s| (s.id, &s.labels)).collect();
            walrec::encode_series(&s, &mut buf);
            out.push(std::mem::take(&mut buf));
            let mut hists = Vec::new();
            let mut chunks = Vec::with_capacity(group.len());
            for s in &group {
                let d = s.data.lock();
                if let Some((_, app)) = d.hist.as_ref().and_then(|h| h.open.as_ref()) {
                    if let Some(it) = crate::chunk::HistogramIter::new(app.bytes()) {
                        hists.extend(it.map(|x| (s.id, x)));
                    }
                }
                chunks.push(walrec::SeriesChunks {
                    id: s.id,
                    wal_last: d.wal_last,
                    closed: d.closed.clone(),
                    open: d.open.as_ref().map(|(m, a)| (*m, a.bytes().to_vec())),
                    ooo: d.ooo.clone(),
                    hist_closed: d.hist.as_ref().map_or_else(Vec::new, |h| h.closed.clone()),
                });
            }
            if !hists.is_empty() {
                let refs: Vec<(u64, &HistogramSample)> =
                    hists.iter().map(|(i, h)| (*i, h)).collect();
                walrec::encode_histogram_samples(&refs, &mut buf);
                out.push(std::mem::take(&mut buf));
            }
            walrec::encode_chunks(&chunks, &mut buf);
            out.push(buf);
            out
        }))
    }

    /// Drops data before `t` and series left empty; returns (chunks, series) removed.
    pub fn truncate(&self, t: i64) -> (usize, usize) {
        // Counted before any data goes, so a reader that checks the count
        // after reading a series knows whether it may have missed some.
        self.truncations.fetch_add(1, Ordering::AcqRel);
        self.set_min_valid_time(t);
        let mut chunks = 0;
        let mut empty = Vec::new();
        {
            let map = self.series.read();
            for s in map.by_id.values() {
                let mut d = s.data.lock();
                chunks += d.truncate_before(t);
                if d.is_empty() {
                    empty.push(s.clone());
                }
            }
        }
        let mut map = self.series.write();
        let mut index = self.index.write();
        for s in &empty {
            map.remove(s);
            index.remove(s.id, s.labels.iter());
        }
        self.min_time.fetch_max(t, Ordering::AcqRel);
        (chunks, empty.len())
    }

    /// Bytes of chunk data in closed and in open chunks.
    pub fn chunk_bytes(&self) -> (usize, usize) {
        let map = self.series.read();
        map.by_id.values().fold((0, 0), |(c, o), s| {
            let (c2, o2) = s.data.lock().chunk_bytes();
            (c + c2, o + o2)
        })
    }

    pub fn chunk_count(&self) -> usize {
        let map = self.series.read();
        map.by_id
            .values()
            .map(|s| s.data.lock().chunk_count())
            .sum()
    }
}

/// Test hooks for the lock policy (ARCHITECTURE.md, "Locks").
#[cfg(test)]
impl Head {
    /// Runs `f` holding the series map's write lock.
    pub(crate) fn with_series_map_locked(&self, f: impl FnOnce()) {
        let _g = self.series.write();
        f();
    }

    /// Runs `f` holding the postings index's write lock.
    pub(crate) fn with_index_locked(&self, f: impl FnOnce()) {
        let _g = self.index.write();
        f();
    }
}

/// A series' float and histogram samples in [mint, maxt], None when it has none.
/// A series' samples in [mint, maxt] (None when it has none), labels left
/// empty.
fn series_samples(s: &MemSeries, mint: i64, maxt: i64) -> Option<StoredSeries> {
    let d = s.data.lock();
    let mut out = StoredSeries::default();
    d.samples(mint, maxt, &mut out.floats);
    d.histograms(mint, maxt, &mut out.histograms);
    (!out.floats.is_empty() || !out.histograms.is_empty()).then_some(out)
}
