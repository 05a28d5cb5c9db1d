//! WAL replay into the head: series, samples, checkpointed chunks and
//! histograms, applied on several threads (see [`Head::replay_parallel`]).

use super::*;

impl Head {
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
}
