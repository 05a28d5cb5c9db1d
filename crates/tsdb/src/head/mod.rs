//! The in-memory head: series with compressed chunks and an inverted index.
//!
//! Appends happen in three steps so that an acknowledged write is always in
//! the WAL and a failed WAL write leaves memory untouched:
//! [`Head::plan`] validates a batch (creating series as needed),
//! the caller writes the plan's WAL records, then [`Head::commit`] applies it.
//! The caller serialises plan→WAL→commit per tenant.

pub(crate) mod idmap;
mod packed;
mod series;

pub use packed::PackedLabels;
pub use series::{HeadChunk, HistData, MemSeries, SampleReject, SeriesData, Verdict};

use crate::postings::{self, MemPostings, PostingsSource};
use crate::walrec;
use argus_model::{HistogramSample, Labels, Matcher, Sample, StoredSeries, TimeSeries};
use idmap::NumMap;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
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

/// What happened to a batch.
#[derive(Debug, Default, Clone)]
pub struct AppendReport {
    /// Float samples accepted (duplicates included).
    pub accepted: usize,
    /// Float samples that were exact duplicates of stored ones.
    pub duplicates: usize,
    /// Histogram samples accepted (duplicates included).
    pub histograms_accepted: usize,
    /// Histogram samples that were exact duplicates of stored ones.
    pub histogram_duplicates: usize,
    pub new_series: usize,
    /// Rejected samples (floats and histograms) by reason.
    pub rejected_samples: BTreeMap<&'static str, usize>,
    /// Series rejected whole by limits.
    pub rejected_series: BTreeMap<&'static str, usize>,
    /// The first few rejections, for the error message: (series, reason, samples).
    pub examples: Vec<(String, String, usize)>,
    /// True when any rejection came from a limit (answered 429).
    pub limited: bool,
}

impl AppendReport {
    pub fn rejected_total(&self) -> usize {
        self.rejected_samples.values().sum()
    }

    fn example(&mut self, labels: &Labels, reason: String, samples: usize) {
        if self.examples.len() < 5 {
            let mut s = labels.to_string();
            if s.len() > 200 {
                let mut cut = 200;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push('…');
            }
            self.examples.push((s, reason, samples));
        }
    }
}

/// Limits the head enforces while planning.
#[derive(Debug, Clone, Copy)]
pub struct SeriesLimits {
    pub max_series: usize,
    pub max_labels: usize,
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

    /// Validates a batch. Must be called with `append_lock` held, followed by
    /// the WAL write and [`Head::commit`] under the same lock.
    pub fn plan(&self, batch: Vec<TimeSeries>, limits: SeriesLimits) -> AppendPlan {
        let mut plan = AppendPlan::default();
        let min_valid = self.min_valid_time();
        let head_maxt = self.max_time.load(Ordering::Acquire);
        let mut pending_last: NumMap<u64, Sample> =
            NumMap::with_capacity_and_hasher(batch.len(), Default::default());
        let mut pending_ooo: NumMap<(u64, i64), u64> = NumMap::default();
        let mut pending_hlast: NumMap<u64, HistogramSample> = NumMap::default();
        let mut pending_wal: NumMap<u64, u64> = NumMap::default();
        for ts in batch {
            let nsamples = ts.samples.len() + ts.histograms.len();
            if nsamples == 0 {
                continue;
            }
            if ts.labels.len() > limits.max_labels {
                let r = SeriesReject::MaxLabels(limits.max_labels);
                plan.report.limited = true;
                *plan.report.rejected_series.entry(r.as_str()).or_default() += 1;
                *plan.report.rejected_samples.entry(r.as_str()).or_default() += nsamples;
                plan.report.example(&ts.labels, r.to_string(), nsamples);
                continue;
            }
            let hash = ts.labels.stable_hash();
            let series = match self.get(&ts.labels, hash) {
                Some(s) => s,
                None => {
                    if self.num_series() >= limits.max_series {
                        let r = SeriesReject::MaxSeries(limits.max_series);
                        plan.report.limited = true;
                        *plan.report.rejected_series.entry(r.as_str()).or_default() += 1;
                        *plan.report.rejected_samples.entry(r.as_str()).or_default() += nsamples;
                        plan.report.example(&ts.labels, r.to_string(), nsamples);
                        continue;
                    }
                    plan.report.new_series += 1;
                    self.create(PackedLabels::new(&ts.labels), hash, None)
                }
            };
            let data = series.data.lock();
            if !data.wal_logged && !plan.unlogged.iter().any(|s| s.id == series.id) {
                plan.unlogged.push(series.clone());
            }
            let mut last = pending_last
                .get(&series.id)
                .copied()
                .or_else(|| data.last());
            let mut hlast = pending_hlast
                .get(&series.id)
                .cloned()
                .or_else(|| data.last_histogram());
            let hlast_t = hlast.as_ref().map(|h| h.t);
            let wal_start = pending_wal
                .get(&series.id)
                .copied()
                .unwrap_or(data.wal_last);
            let mut wal_prev = wal_start;
            let mut rejected: Option<(SampleReject, usize)> = None;
            let mut reject = |r: SampleReject, report: &mut AppendReport| {
                *report.rejected_samples.entry(r.as_str()).or_default() += 1;
                match &mut rejected {
                    Some((_, n)) => *n += 1,
                    None => rejected = Some((r, 1)),
                }
            };
            for s in ts.samples {
                let verdict =
                    match data.check(last, hlast_t, s, min_valid, self.ooo_window, head_maxt) {
                        Ok(Verdict::OutOfOrder) => match pending_ooo.get(&(series.id, s.t)) {
                            Some(bits) if *bits == s.v.to_bits() => Ok(Verdict::Duplicate),
                            Some(_) => Err(SampleReject::DuplicateTimestamp),
                            None => Ok(Verdict::OutOfOrder),
                        },
                        v => v,
                    };
                match verdict {
                    Ok(v) => {
                        match v {
                            Verdict::InOrder => last = Some(s),
                            Verdict::OutOfOrder => {
                                pending_ooo.insert((series.id, s.t), s.v.to_bits());
                            }
                            Verdict::Duplicate => plan.report.duplicates += 1,
                        }
                        if v != Verdict::Duplicate {
                            plan.wal_prev.push(wal_prev);
                            wal_prev = s.v.to_bits();
                        }
                        plan.report.accepted += 1;
                        plan.samples.push((series.clone(), s, v));
                    }
                    Err(r) => reject(r, &mut plan.report),
                }
            }
            for h in ts.histograms {
                let float_last = last.map(|s| s.t);
                match SeriesData::check_histogram(hlast.as_ref(), float_last, &h, min_valid) {
                    Ok(v) => {
                        match v {
                            Verdict::Duplicate => plan.report.histogram_duplicates += 1,
                            _ => hlast = Some(h.clone()),
                        }
                        plan.report.histograms_accepted += 1;
                        plan.histograms.push((series.clone(), h, v));
                    }
                    Err(r) => reject(r, &mut plan.report),
                }
            }
            if let Some(l) = last {
                pending_last.insert(series.id, l);
            }
            if wal_prev != wal_start {
                pending_wal.insert(series.id, wal_prev);
            }
            if let Some(h) = hlast {
                pending_hlast.insert(series.id, h);
            }
            if let Some((r, n)) = rejected {
                plan.report
                    .example(&series.labels(), r.message().to_string(), n);
            }
        }
        plan
    }

    /// Applies a plan whose WAL records were written.
    pub fn commit(&self, plan: AppendPlan) -> AppendReport {
        for s in &plan.unlogged {
            s.data.lock().wal_logged = true;
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (series, s, v) in &plan.samples {
            let mut d = series.data.lock();
            match v {
                Verdict::InOrder => d.append(*s, self.chunk_range),
                Verdict::OutOfOrder => d.insert_ooo(*s),
                Verdict::Duplicate => continue,
            }
            d.wal_last = s.v.to_bits();
            lo = lo.min(s.t);
            hi = hi.max(s.t);
        }
        for (series, h, v) in &plan.histograms {
            if *v == Verdict::Duplicate {
                continue;
            }
            series.data.lock().append_histogram(h, self.chunk_range);
            lo = lo.min(h.t);
            hi = hi.max(h.t);
        }
        if lo <= hi {
            self.min_time.fetch_min(lo, Ordering::AcqRel);
            self.max_time.fetch_max(hi, Ordering::AcqRel);
        }
        plan.report
    }

    /// Replays WAL records (raw, in order) with `workers` threads applying
    /// samples, each to the series whose id falls in its shard, while this
    /// thread reads, decodes and creates series. A series' samples stay in
    /// WAL order (one shard per series), series are created before any
    /// later record is handed out, and each record carries the minimum valid
    /// time in force where it sits in the WAL, so the result is the same as
    /// applying the records one by one. Returns (unknown series refs,
    /// malformed records).
    pub fn replay_parallel<E>(
        &self,
        workers: usize,
        read: impl FnOnce(&mut dyn FnMut(&[u8])) -> Result<(), E>,
    ) -> Result<(u64, u64), E> {
        let workers = workers.max(1);
        let mut bad = 0u64;
        let unknown = AtomicU64::new(0);
        let result = std::thread::scope(|scope| {
            let mut senders = Vec::with_capacity(workers);
            for shard in 0..workers {
                let (tx, rx) = std::sync::mpsc::sync_channel::<(Arc<walrec::Record>, i64)>(64);
                senders.push(tx);
                let unknown = &unknown;
                scope.spawn(move || {
                    let mut n = 0;
                    for (rec, min_valid) in rx {
                        n += match &*rec {
                            walrec::Record::DeltaSamples(s) => {
                                self.replay_samples(s, min_valid, shard, workers)
                            }
                            walrec::Record::Chunks(c) => {
                                self.replay_chunks(c, min_valid, shard, workers)
                            }
                            walrec::Record::HistogramSamples(h) => {
                                self.replay_histograms(h, min_valid, shard, workers)
                            }
                            _ => 0,
                        };
                    }
                    unknown.fetch_add(n, Ordering::Relaxed);
                });
            }
            let res = read(&mut |raw: &[u8]| match walrec::decode(raw) {
                Ok(walrec::Record::Series(series)) => self.replay_series(series),
                Ok(walrec::Record::MinValidTime(t)) => self.set_min_valid_time(t),
                Ok(rec) => {
                    // First-encoding samples carry their values raw.
                    let rec = match rec {
                        walrec::Record::Samples(s) => walrec::Record::DeltaSamples(
                            s.into_iter()
                                .map(|(id, x)| walrec::DeltaSample {
                                    id,
                                    t: x.t,
                                    v: walrec::DeltaValue::raw(x.v),
                                })
                                .collect(),
                        ),
                        r => r,
                    };
                    let rec = Arc::new(rec);
                    let min_valid = self.min_valid_time();
                    for tx in &senders {
                        // A worker only stops early by panicking, which the scope re-raises.
                        let _ = tx.send((rec.clone(), min_valid));
                    }
                }
                Err(_) => bad += 1,
            });
            drop(senders);
            res
        });
        result.map(|()| (unknown.into_inner(), bad))
    }

    fn replay_series(&self, series: Vec<(u64, PackedLabels)>) {
        for (id, labels) in series {
            let hash = labels.stable_hash();
            let s = self.create(labels, hash, Some(id));
            s.data.lock().wal_logged = true;
        }
    }

    /// Applies the samples whose series id is in `shard` of `shards`;
    /// returns how many referred to an unknown series. Every sample moves
    /// its series' WAL value on (even one older than `min_valid`, which is
    /// not applied): later records are relative to it.
    fn replay_samples(
        &self,
        samples: &[walrec::DeltaSample],
        min_valid: i64,
        shard: usize,
        shards: usize,
    ) -> u64 {
        let mut unknown = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        // Look the series up first: independent lookups overlap their
        // cache misses, where lookup-then-append one by one would not.
        let map = self.series.read();
        let mine: Vec<(Option<&Arc<MemSeries>>, &walrec::DeltaSample)> = samples
            .iter()
            .filter(|x| x.id as usize % shards == shard)
            .map(|x| (map.by_id.get(&x.id), x))
            .collect();
        for (series, x) in mine {
            let Some(series) = series else {
                unknown += 1;
                continue;
            };
            let mut d = series.data.lock();
            let v = x.v.resolve(f64::from_bits(d.wal_last));
            d.wal_last = v.to_bits();
            if x.t < min_valid {
                continue;
            }
            let s = Sample { t: x.t, v };
            match d.last() {
                Some(l) if s.t <= l.t => {
                    if s.t < l.t {
                        d.insert_ooo(s);
                    }
                }
                _ => d.append(s, self.chunk_range),
            }
            lo = lo.min(s.t);
            hi = hi.max(s.t);
        }
        self.widen_time_range(lo, hi);
        unknown
    }

    /// Loads a checkpoint's chunks for the series in `shard` of `shards`
    /// (data older than `min_valid` left out); returns how many entries
    /// referred to an unknown series. Closed histogram chunks go before the
    /// open one its histogram samples (replayed earlier) rebuilt; float
    /// chunks and out-of-order samples replace what the series holds.
    fn replay_chunks(
        &self,
        entries: &[walrec::SeriesChunks],
        min_valid: i64,
        shard: usize,
        shards: usize,
    ) -> u64 {
        let mut unknown = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let map = self.series.read();
        for e in entries.iter().filter(|e| e.id as usize % shards == shard) {
            let Some(series) = map.by_id.get(&e.id) else {
                unknown += 1;
                continue;
            };
            let mut d = series.data.lock();
            d.wal_last = e.wal_last;
            let mut closed: Vec<HeadChunk> = e
                .closed
                .iter()
                .filter(|c| c.maxt >= min_valid)
                .cloned()
                .collect();
            // Chunks must be in time order and not overlap.
            if closed.windows(2).any(|w| w[1].mint <= w[0].maxt) {
                closed.clear();
            }
            let open = e.open.as_ref().and_then(|(mint, data)| {
                let app = crate::chunk::XorAppender::from_bytes(data)?;
                let last = app.last()?;
                let after_closed = closed.last().is_none_or(|c| c.maxt < *mint);
                (last.t >= min_valid && after_closed && *mint <= last.t).then(|| {
                    lo = lo.min(*mint);
                    hi = hi.max(last.t);
                    (*mint, app)
                })
            });
            for c in &closed {
                lo = lo.min(c.mint);
                hi = hi.max(c.maxt);
            }
            d.closed = closed;
            d.open = open;
            d.ooo = Vec::new();
            for s in e.ooo.iter().filter(|s| s.t >= min_valid) {
                d.insert_ooo(*s);
                lo = lo.min(s.t);
                hi = hi.max(s.t);
            }
            let mut hist: Vec<HeadChunk> = e
                .hist_closed
                .iter()
                .filter(|c| c.maxt >= min_valid)
                .cloned()
                .collect();
            if !hist.is_empty() {
                let h = d.hist.get_or_insert_with(Box::default);
                let first_open = h.open.as_ref().map(|(m, _)| *m);
                let ordered = !hist.windows(2).any(|w| w[1].mint <= w[0].maxt)
                    && h.closed.is_empty()
                    && first_open.is_none_or(|m| hist.last().is_some_and(|c| c.maxt < m));
                if ordered {
                    for c in &hist {
                        lo = lo.min(c.mint);
                        hi = hi.max(c.maxt);
                    }
                    hist.append(&mut h.closed);
                    h.closed = hist;
                } else if h.closed.is_empty() && h.open.is_none() {
                    d.hist = None;
                }
            }
        }
        self.widen_time_range(lo, hi);
        unknown
    }

    fn replay_histograms(
        &self,
        samples: &[(u64, HistogramSample)],
        min_valid: i64,
        shard: usize,
        shards: usize,
    ) -> u64 {
        let mut unknown = 0;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let map = self.series.read();
        for (id, h) in samples {
            if *id as usize % shards != shard {
                continue;
            }
            let Some(series) = map.by_id.get(id) else {
                unknown += 1;
                continue;
            };
            let mut d = series.data.lock();
            if h.t < min_valid || d.last_histogram_t().is_some_and(|l| h.t <= l) {
                continue;
            }
            d.append_histogram(h, self.chunk_range);
            lo = lo.min(h.t);
            hi = hi.max(h.t);
        }
        self.widen_time_range(lo, hi);
        unknown
    }

    fn widen_time_range(&self, lo: i64, hi: i64) {
        if lo <= hi {
            self.min_time.fetch_min(lo, Ordering::AcqRel);
            self.max_time.fetch_max(hi, Ordering::AcqRel);
        }
    }

    /// Series matching `matchers` with samples in [mint, maxt], in id
    /// (creation) order, their `labels` left empty: a caller merging
    /// several sources builds the label set once per series it keeps.
    pub fn select_raw(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<(Arc<MemSeries>, StoredSeries)> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let ids = postings::select(&*self.index.read(), matchers);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter_map(|s| Some((s.clone(), series_samples(s, mint, maxt)?)))
            .collect()
    }

    /// Series matching `matchers` with data in [mint, maxt], in id
    /// (creation) order, their samples not read (see [`Head::series_samples`]).
    pub fn select_lazy(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Arc<MemSeries>> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let ids = postings::select(&*self.index.read(), matchers);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .cloned()
            .collect()
    }

    /// One series' samples in [mint, maxt], labels left empty.
    pub fn series_samples_unlabelled(s: &MemSeries, mint: i64, maxt: i64) -> StoredSeries {
        series_samples(s, mint, maxt).unwrap_or_default()
    }

    /// Label sets of series matching `matchers` with data in [mint, maxt]
    /// (all series when `matchers` is empty).
    pub fn series_labels(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let index = self.index.read();
        let ids = if matchers.is_empty() {
            index.all_postings()
        } else {
            postings::select(&*index, matchers)
        };
        drop(index);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .map(|s| s.labels())
            .collect()
    }

    /// Series with data in [mint, maxt], sorted by labels; their samples
    /// are read later, one series at a time ([`Head::series_samples`]).
    pub fn series_in_range(&self, mint: i64, maxt: i64) -> Vec<Arc<MemSeries>> {
        let map = self.series.read();
        let mut out: Vec<Arc<MemSeries>> = map
            .by_id
            .values()
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .cloned()
            .collect();
        drop(map);
        // Compared packed: unpacking every label set to sort would hold a
        // copy of all of them.
        out.sort_unstable_by(|a, b| a.labels.iter().cmp(b.labels.iter()));
        out
    }

    /// One series' samples in [mint, maxt] (empty when it has none).
    pub fn series_samples(s: &MemSeries, mint: i64, maxt: i64) -> StoredSeries {
        let mut out = series_samples(s, mint, maxt).unwrap_or_default();
        out.labels = s.labels();
        out
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

    pub fn label_names(&self) -> Vec<String> {
        self.index
            .read()
            .label_names()
            .into_iter()
            .map(str::to_string)
            .collect()
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
