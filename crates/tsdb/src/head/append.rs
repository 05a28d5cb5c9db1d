//! Appending: [`Head::plan`] validates a batch and creates its new series,
//! the caller writes the plan's WAL records, [`Head::commit`] applies it.

use super::*;

/// What a batch has given each series so far (by series id), before commit.
#[derive(Default)]
struct Pending {
    /// Newest float sample.
    last: NumMap<u64, Sample>,
    /// Out-of-order samples: (series, time) → value bits.
    ooo: NumMap<(u64, i64), u64>,
    /// Newest histogram sample.
    hlast: NumMap<u64, HistogramSample>,
    /// Newest float value logged to the WAL (bits).
    wal: NumMap<u64, u64>,
}

/// The head's time bounds while a batch is planned.
#[derive(Clone, Copy)]
struct Bounds {
    min_valid: i64,
    head_maxt: i64,
}

impl Head {
    /// Validates a batch. Must be called with `append_lock` held, followed by
    /// the WAL write and [`Head::commit`] under the same lock.
    pub fn plan(&self, batch: Vec<TimeSeries>, limits: SeriesLimits) -> AppendPlan {
        let mut plan = AppendPlan::default();
        let bounds = Bounds {
            min_valid: self.min_valid_time(),
            head_maxt: self.max_time.load(Ordering::Acquire),
        };
        let mut pending = Pending {
            last: NumMap::with_capacity_and_hasher(batch.len(), Default::default()),
            ..Default::default()
        };
        for ts in batch {
            let nsamples = ts.samples.len() + ts.histograms.len();
            if nsamples == 0 {
                continue;
            }
            let Some(series) = self.series_for(&ts.labels, nsamples, limits, &mut plan.report)
            else {
                continue;
            };
            self.plan_series(&mut plan, &mut pending, &series, ts, bounds);
        }
        plan
    }

    /// The head series labelled `labels`, created if new; None, counted in
    /// `report`, when a series limit refuses it.
    fn series_for(
        &self,
        labels: &Labels,
        nsamples: usize,
        limits: SeriesLimits,
        report: &mut AppendReport,
    ) -> Option<Arc<MemSeries>> {
        let refuse = |r: SeriesReject, report: &mut AppendReport| {
            report.limited = true;
            *report.rejected_series.entry(r.as_str()).or_default() += 1;
            *report.rejected_samples.entry(r.as_str()).or_default() += nsamples;
            report.example(labels, r.to_string(), nsamples);
            None
        };
        if labels.len() > limits.max_labels {
            return refuse(SeriesReject::MaxLabels(limits.max_labels), report);
        }
        let hash = labels.stable_hash();
        if let Some(s) = self.get(labels, hash) {
            return Some(s);
        }
        if self.num_series() >= limits.max_series {
            return refuse(SeriesReject::MaxSeries(limits.max_series), report);
        }
        report.new_series += 1;
        Some(self.create(PackedLabels::new(labels), hash, None))
    }

    /// Validates one series' samples and histograms of a batch into `plan`,
    /// against what the series holds and what the batch gave it so far.
    fn plan_series(
        &self,
        plan: &mut AppendPlan,
        pending: &mut Pending,
        series: &Arc<MemSeries>,
        ts: TimeSeries,
        Bounds {
            min_valid,
            head_maxt,
        }: Bounds,
    ) {
        let data = series.data.lock();
        if !data.wal_logged && !plan.unlogged.iter().any(|s| s.id == series.id) {
            plan.unlogged.push(series.clone());
        }
        let mut last = pending
            .last
            .get(&series.id)
            .copied()
            .or_else(|| data.last());
        let mut hlast = pending
            .hlast
            .get(&series.id)
            .cloned()
            .or_else(|| data.last_histogram());
        let hlast_t = hlast.as_ref().map(|h| h.t);
        let wal_start = pending
            .wal
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
            let verdict = match data.check(last, hlast_t, s, min_valid, self.ooo_window, head_maxt)
            {
                Ok(Verdict::OutOfOrder) => match pending.ooo.get(&(series.id, s.t)) {
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
                            pending.ooo.insert((series.id, s.t), s.v.to_bits());
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
            pending.last.insert(series.id, l);
        }
        if wal_prev != wal_start {
            pending.wal.insert(series.id, wal_prev);
        }
        if let Some(h) = hlast {
            pending.hlast.insert(series.id, h);
        }
        if let Some((r, n)) = rejected {
            plan.report
                .example(&series.labels(), r.message().to_string(), n);
        }
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
}
