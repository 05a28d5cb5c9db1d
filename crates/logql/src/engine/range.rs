//! Range aggregations (`count_over_time`, `rate`, `*_over_time` with
//! `unwrap`…): one pass over the selected entries, each entry added to the
//! steps whose window `(t - offset - range, t - offset]` holds it. Memory is
//! one small accumulator per series and step (plus the samples of the window
//! for `quantile_over_time` and `rate_counter`).

use super::labels::{pairs_string, LabelState, ERROR_LABEL, PRESERVE_ERROR_LABEL};
use super::logs::select_for;
use super::metric::{Matrix, SeriesData, Steps};
use super::pipeline::{parse_float_err, parse_go_float, quoted, Pipeline};
use super::{Ctx, EvalError, Pairs, Stats};
use crate::ast::*;
use argus_model::Labels;
use argus_store::{Direction, LogCursor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

const ERR_SAMPLE: &str = "SampleExtractionErr";

#[derive(Clone, Copy, Default)]
struct Slot {
    n: u64,
    a: f64,
    b: f64,
    t: i64,
}

struct SeriesAcc {
    slots: Vec<Slot>,
    points: Option<Vec<Vec<(i64, f64)>>>,
}

fn keeps_points(op: RangeOp) -> bool {
    matches!(op, RangeOp::QuantileOverTime | RangeOp::RateCounter)
}

fn convert(conv: Option<Conversion>, v: &str) -> Result<f64, String> {
    match conv {
        None => parse_go_float(v).ok_or_else(|| parse_float_err(v)),
        Some(Conversion::Duration) | Some(Conversion::DurationSeconds) => {
            crate::units::parse_go_duration(v)
                .map(|ns| ns as f64 / 1e9)
                .ok_or_else(|| format!("time: invalid duration {}", quoted(v)))
        }
        Some(Conversion::Bytes) => crate::units::parse_bytes(v)
            .map(|b| b as f64)
            .ok_or_else(|| parse_float_err(v)),
    }
}

/// The labels of the sample of an entry.
fn sample_labels(
    lbs: LabelState<'_>,
    grouping: Option<&Grouping>,
    unwrapped: Option<&str>,
) -> Pairs {
    if lbs.has_err() {
        // Loki keeps every label when there is an error, so it is reported.
        return lbs.pairs_where(|_| true);
    }
    match grouping {
        Some(g) if !g.without => lbs.pairs_where(|n| g.labels.iter().any(|l| l == n)),
        _ => {
            let without: &[String] = grouping.map(|g| &g.labels[..]).unwrap_or(&[]);
            lbs.pairs_where(|n| Some(n) != unwrapped && !without.iter().any(|w| w == n))
        }
    }
}

/// [`sample_labels`] borrowed from the label state, into `out` (cleared
/// first).
fn sample_label_refs<'s>(
    lbs: &'s LabelState<'_>,
    grouping: Option<&Grouping>,
    unwrapped: Option<&str>,
    out: &mut Vec<(&'s str, &'s str)>,
) {
    out.clear();
    if lbs.has_err() {
        return lbs.pairs_where_into(|_| true, out);
    }
    match grouping {
        Some(g) if !g.without => lbs.pairs_where_into(|n| g.labels.iter().any(|l| l == n), out),
        _ => {
            let without: &[String] = grouping.map(|g| &g.labels[..]).unwrap_or(&[]);
            lbs.pairs_where_into(
                |n| Some(n) != unwrapped && !without.iter().any(|w| w == n),
                out,
            )
        }
    }
}

/// An empty vector of borrowed pairs with `v`'s allocation, for labels
/// that live shorter than `v`'s.
fn recycle<'b>(mut v: Vec<(&str, &str)>) -> Vec<(&'b str, &'b str)> {
    v.clear();
    // Collected in place: the same allocation, no element.
    v.into_iter().map(|_| ("", "")).collect()
}

/// Loki's `extrapolatedRate` (adapted from Prometheus), timestamps in ns.
fn extrapolated_rate(samples: &[(i64, f64)], range_ns: i64, range_end: i64) -> f64 {
    if samples.len() < 2 {
        return 0.0;
    }
    let range_start = range_end - range_ns;
    let first = samples[0];
    let last = samples[samples.len() - 1];
    let mut result = last.1 - first.1;
    let mut last_value = 0.0;
    for s in samples {
        if s.1 < last_value {
            result += last_value;
        }
        last_value = s.1;
    }
    let mut to_start = (first.0 - range_start) as f64 / 1e9;
    let mut to_end = (range_end - last.0) as f64 / 1e9;
    let sampled = (last.0 - first.0) as f64 / 1e9;
    let avg = sampled / (samples.len() - 1) as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    let mut to_zero = to_start;
    if result > 0.0 && first.1 >= 0.0 {
        to_zero = sampled * (first.1 / result);
    }
    if to_zero < to_start {
        to_start = to_zero;
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let extrapolate_to = sampled + to_start + to_end;
    result *= extrapolate_to / sampled;
    result / (range_ns as f64 / 1e9)
}

/// Loki's `Quantile`.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let w = rank - rank.floor();
    values[lower as usize] * (1.0 - w) + values[upper as usize] * w
}

/// Labels of `absent_over_time`'s sample: the selector's equality matchers
/// (a name matched twice, or not by `=`, is left out).
fn absent_labels(selector: &[Matcher]) -> Pairs {
    let mut eq: Vec<(String, String)> = Vec::new();
    let mut drop: Vec<&str> = Vec::new();
    for m in selector {
        if m.op == MatchOp::Eq && !eq.iter().any(|(n, _)| *n == m.name) {
            eq.push((m.name.clone(), m.value.clone()));
        } else {
            drop.push(&m.name);
        }
    }
    eq.retain(|(n, _)| !drop.contains(&n.as_str()));
    eq.retain(|(_, v)| !v.is_empty());
    eq.sort();
    eq
}

/// Adds one sample to the steps `lo..=hi` of a series.
fn add_sample(acc: &mut SeriesAcc, (lo, hi): (usize, usize), ts: i64, value: f64, op: RangeOp) {
    for i in lo..=hi {
        let s = &mut acc.slots[i];
        s.n += 1;
        let n = s.n as f64;
        match op {
            RangeOp::CountOverTime | RangeOp::AbsentOverTime => {}
            RangeOp::Rate | RangeOp::BytesOverTime | RangeOp::BytesRate | RangeOp::SumOverTime => {
                s.a += value
            }
            RangeOp::MinOverTime => {
                if s.n == 1 || value < s.a || s.a.is_nan() {
                    s.a = value
                }
            }
            RangeOp::MaxOverTime => {
                if s.n == 1 || value > s.a || s.a.is_nan() {
                    s.a = value
                }
            }
            RangeOp::FirstOverTime => {
                if s.n == 1 || ts < s.t {
                    s.t = ts;
                    s.a = value;
                }
            }
            RangeOp::LastOverTime => {
                if s.n == 1 || ts >= s.t {
                    s.t = ts;
                    s.a = value;
                }
            }
            RangeOp::AvgOverTime => {
                if s.a.is_infinite()
                    && (value.is_infinite() && (s.a > 0.0) == (value > 0.0)
                        || (!value.is_infinite() && !value.is_nan()))
                {
                    continue;
                }
                s.a += value / n - s.a / n;
            }
            RangeOp::StdvarOverTime | RangeOp::StddevOverTime => {
                let delta = value - s.a;
                s.a += delta / n;
                s.b += delta * (value - s.a);
            }
            RangeOp::QuantileOverTime | RangeOp::RateCounter => {
                if let Some(p) = acc.points.as_mut() {
                    p[i].push((ts, value));
                }
            }
        }
    }
}

/// Whether `sum by (…)` over this range aggregation can group its samples
/// as they are extracted (Loki's `canInjectVectorGrouping`): the sum of the
/// per-series values is then the value of the grouped samples.
pub(crate) fn can_inject_grouping(agg: &RangeAggregation) -> bool {
    agg.grouping.is_none()
        && matches!(
            agg.op,
            RangeOp::BytesOverTime
                | RangeOp::BytesRate
                | RangeOp::SumOverTime
                | RangeOp::Rate
                | RangeOp::CountOverTime
        )
}

/// The series of a range aggregation: each label set once, its
/// accumulator found by index.
struct SeriesSet {
    /// Series by the hash of their labels ([`SeriesSet::hash`]): more
    /// than one when hashes collide.
    index: HashMap<u64, Vec<usize>, BuildHasherDefault<Prehashed>>,
    hasher: foldhash::fast::RandomState,
    accs: Vec<(Pairs, SeriesAcc)>,
    n_steps: usize,
    keep_points: bool,
}

/// The hasher of keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; any other key is folded in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl SeriesSet {
    fn new(n_steps: usize, keep_points: bool) -> Self {
        SeriesSet {
            index: HashMap::default(),
            hasher: foldhash::fast::RandomState::default(),
            accs: Vec::new(),
            n_steps,
            keep_points,
        }
    }

    /// The hash of sorted label pairs, the same for owned and borrowed ones.
    fn hash<N: AsRef<str>, V: AsRef<str>>(&self, labels: &[(N, V)]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_usize(labels.len());
        for (n, v) in labels {
            h.write(n.as_ref().as_bytes());
            h.write_u8(0xff);
            h.write(v.as_ref().as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// The series of `labels` (sorted), if there is one yet.
    fn find<N: AsRef<str>, V: AsRef<str>>(&self, hash: u64, labels: &[(N, V)]) -> Option<usize> {
        let same = |p: &Pairs| {
            p.len() == labels.len()
                && p.iter()
                    .zip(labels)
                    .all(|((a, b), (n, v))| a == n.as_ref() && b == v.as_ref())
        };
        self.index
            .get(&hash)?
            .iter()
            .copied()
            .find(|&i| same(&self.accs[i].0))
    }

    /// Adds a series (not there yet) with the given labels' hash.
    fn insert(&mut self, hash: u64, labels: Pairs) -> usize {
        let i = self.accs.len();
        self.index.entry(hash).or_default().push(i);
        self.accs.push((
            labels,
            SeriesAcc {
                slots: vec![Slot::default(); self.n_steps],
                points: self.keep_points.then(|| vec![Vec::new(); self.n_steps]),
            },
        ));
        i
    }

    fn slot(&mut self, labels: Pairs) -> usize {
        let hash = self.hash(&labels);
        match self.find(hash, &labels) {
            Some(i) => i,
            None => self.insert(hash, labels),
        }
    }

    /// [`SeriesSet::slot`] of borrowed labels (sorted): copied only when
    /// the series is new.
    fn slot_of(&mut self, labels: &[(&str, &str)]) -> usize {
        let hash = self.hash(labels);
        match self.find(hash, labels) {
            Some(i) => i,
            None => {
                let owned = labels
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                self.insert(hash, owned)
            }
        }
    }
}

/// The steps whose window holds each of a run of times: the same as
/// [`Steps::window_steps`], found without dividing while the times ascend.
struct Windows<'a> {
    steps: &'a Steps,
    range: i64,
    /// The last time asked and its steps (`lo..=hi`; empty when lo > hi).
    last: Option<(i64, usize, usize)>,
}

impl<'a> Windows<'a> {
    fn new(steps: &'a Steps, range: i64) -> Self {
        Windows {
            steps,
            range,
            last: None,
        }
    }

    fn of(&mut self, ts: i64) -> Option<(usize, usize)> {
        let n = self.steps.len();
        let (lo, hi) = match self.last {
            Some((prev, mut lo, mut hi)) if ts >= prev && self.steps.step() > 0 => {
                // lo: the first step at or after ts; hi: the last step
                // before ts + range. Both only move forward.
                while lo < n && self.steps.at(lo) < ts {
                    lo += 1;
                }
                while hi + 1 < n && self.steps.at(hi + 1) < ts + self.range {
                    hi += 1;
                }
                (lo, hi)
            }
            _ => match self.steps.window_steps(ts, self.range) {
                Some((lo, hi)) => (lo, hi),
                None => {
                    // In no window: the next time is found by dividing.
                    self.last = None;
                    return None;
                }
            },
        };
        self.last = Some((ts, lo, hi));
        (lo <= hi && lo < n && self.steps.at(hi) < ts + self.range).then_some((lo, hi))
    }
}

/// Bytes of structured metadata (names and values), for `stats`.
fn metadata_bytes(md: &[(String, String)]) -> u64 {
    md.iter().map(|(n, v)| (n.len() + v.len()) as u64).sum()
}

/// What every part of a range aggregation's scan shares.
struct ScanArgs<'a> {
    agg: &'a RangeAggregation,
    steps: &'a Steps,
    grouping: Option<&'a Grouping>,
    /// The pipeline or the operation reads lines.
    lines: bool,
    /// A count whose pipeline reads lines only through `| json k="k"`
    /// ([`super::pipeline::json_keys`]), then labels: an entry's series
    /// depends on its stream, metadata and line only, and lines repeat
    /// (the store may give the few values of JSON columns in their place),
    /// so each distinct line's series is remembered.
    memo: bool,
}

/// Most distinct lines remembered per stream and metadata.
const MEMO_LINES: usize = 4096;

/// What one part of a range aggregation's scan gathered.
struct Part {
    series: SeriesSet,
    post_filter: u64,
    err_series: Option<Pairs>,
}

impl Part {
    /// Adds `o`'s samples ([`parallel_safe`] operations only).
    fn merge(&mut self, o: Part, op: RangeOp) {
        self.post_filter += o.post_filter;
        if self.err_series.is_none() {
            self.err_series = o.err_series;
        }
        for (labels, acc) in o.series.accs {
            let i = self.series.slot(labels);
            merge_acc(&mut self.series.accs[i].1, acc, op);
        }
    }
}

/// Operations whose samples can be gathered by parts and merged with the
/// same result as one pass: counts, integer sums, extremes, first/last,
/// and those that keep the samples. (Float sums and means would round
/// differently.)
fn parallel_safe(agg: &RangeAggregation) -> bool {
    match agg.op {
        RangeOp::CountOverTime | RangeOp::AbsentOverTime => true,
        RangeOp::Rate => agg.range.unwrap.is_none(),
        RangeOp::BytesOverTime | RangeOp::BytesRate => true,
        RangeOp::MinOverTime
        | RangeOp::MaxOverTime
        | RangeOp::FirstOverTime
        | RangeOp::LastOverTime
        | RangeOp::QuantileOverTime
        | RangeOp::RateCounter => true,
        RangeOp::SumOverTime
        | RangeOp::AvgOverTime
        | RangeOp::StdvarOverTime
        | RangeOp::StddevOverTime => false,
    }
}

/// Threads a metric query reads with.
fn parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
}

const MAX_THREADS: usize = 4;

/// Merges a part's accumulator into another ([`parallel_safe`] ops).
fn merge_acc(into: &mut SeriesAcc, from: SeriesAcc, op: RangeOp) {
    for (i, b) in from.slots.iter().enumerate() {
        if b.n == 0 {
            continue;
        }
        let a = &mut into.slots[i];
        if a.n == 0 {
            *a = *b;
            continue;
        }
        match op {
            RangeOp::MinOverTime => {
                if b.a < a.a || a.a.is_nan() {
                    a.a = b.a
                }
            }
            RangeOp::MaxOverTime => {
                if b.a > a.a || a.a.is_nan() {
                    a.a = b.a
                }
            }
            RangeOp::FirstOverTime => {
                if b.t < a.t {
                    a.t = b.t;
                    a.a = b.a;
                }
            }
            RangeOp::LastOverTime => {
                if b.t >= a.t {
                    a.t = b.t;
                    a.a = b.a;
                }
            }
            _ => a.a += b.a,
        }
        a.n += b.n;
    }
    if let (Some(p), Some(q)) = (into.points.as_mut(), from.points) {
        for (x, y) in p.iter_mut().zip(q) {
            x.extend(y);
        }
    }
}

/// Reads one cursor's entries into samples.
fn scan_part(
    ctx: &mut Ctx<'_>,
    cursor: &mut dyn LogCursor,
    args: &ScanArgs<'_>,
) -> Result<Part, EvalError> {
    let (agg, steps, grouping, lines) = (args.agg, args.steps, args.grouping, args.lines);
    let op = agg.op;
    let lr = &agg.range;
    let range = lr.range;
    let offset = lr.offset.unwrap_or(0);
    let n_steps = steps.len();
    let pipeline = Pipeline::compile(&lr.log.pipeline)?;
    let post = match &lr.unwrap {
        Some(u) => Pipeline::compile_filters(&u.post_filters)?,
        None => Pipeline::compile_filters(&[])?,
    };
    let mut series = SeriesSet::new(n_steps, keeps_points(op));
    let mut post_filter = 0u64;
    let mut err_series: Option<Pairs> = None;
    // Without stages or unwrap, a sample's labels are the stream's plus the
    // entry's structured metadata: its series is found once per stream and
    // metadata (the stream's `Arc` is kept, so its address stays its own).
    let fast = lr.log.pipeline.is_empty() && lr.unwrap.is_none();
    // Per stream, by its `Arc`'s address: the `Arc`, the series of each of
    // its metadata sets when `fast`, and, when `memo`, each metadata set's
    // lines with their series (`None`: filtered out).
    type Memo = Vec<(
        Vec<(String, String)>,
        HashMap<Box<str>, Option<usize>, foldhash::fast::RandomState>,
    )>;
    type Keys = (Arc<Labels>, Vec<(Vec<(String, String)>, usize)>, Memo);
    let mut keys: HashMap<usize, Keys> = HashMap::new();
    // Counting over labels needs each entry's time only.
    let columnar = fast && !lines;
    if columnar {
        while let Some(batch) = cursor.next_runs()? {
            ctx.check_deadline()?;
            let slot = keys
                .entry(Arc::as_ptr(&batch.labels) as usize)
                .or_insert_with(|| (batch.labels.clone(), Vec::new(), Vec::new()));
            for run in &batch.runs {
                let md_bytes = metadata_bytes(&run.metadata);
                let k = match slot.1.iter().position(|(m, _)| *m == run.metadata) {
                    Some(k) => k,
                    None => {
                        let labels = sample_labels(
                            LabelState::new(&batch.labels, &run.metadata),
                            grouping,
                            None,
                        );
                        slot.1.push((run.metadata.clone(), series.slot(labels)));
                        slot.1.len() - 1
                    }
                };
                let acc = &mut series.accs[slot.1[k].1].1;
                let mut win = Windows::new(steps, range);
                let mut n = 0u64;
                if matches!(op, RangeOp::CountOverTime | RangeOp::Rate) {
                    // Only the count of each step is kept.
                    for &ts in &run.ts_ns {
                        if let Some((lo, hi)) = win.of(ts + offset) {
                            n += 1;
                            for s in &mut acc.slots[lo..=hi] {
                                s.n += 1;
                            }
                        }
                    }
                } else {
                    for &ts in &run.ts_ns {
                        if let Some(w) = win.of(ts + offset) {
                            n += 1;
                            add_sample(acc, w, ts, 1.0, op);
                        }
                    }
                }
                ctx.stats.structured_metadata_bytes += md_bytes * n;
                post_filter += n;
            }
        }
    }
    // A sample's labels, borrowed; the allocation is kept from one to the next.
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    while let Some(batch) = if columnar { None } else { cursor.next_runs()? } {
        ctx.check_deadline()?;
        let slot = keys
            .entry(Arc::as_ptr(&batch.labels) as usize)
            .or_insert_with(|| (batch.labels.clone(), Vec::new(), Vec::new()));
        for run in &batch.runs {
            let md_bytes = metadata_bytes(&run.metadata);
            // Without stages, the run's series is the same for each entry.
            let fast_series = if fast {
                Some(match slot.1.iter().position(|(m, _)| *m == run.metadata) {
                    Some(k) => slot.1[k].1,
                    None => {
                        let labels = sample_labels(
                            LabelState::new(&batch.labels, &run.metadata),
                            grouping,
                            None,
                        );
                        let i = series.slot(labels);
                        slot.1.push((run.metadata.clone(), i));
                        i
                    }
                })
            } else {
                None
            };
            let mut memo = if args.memo {
                let m = &mut slot.2;
                let k = match m.iter().position(|(md, _)| *md == run.metadata) {
                    Some(k) => k,
                    None => {
                        m.push((run.metadata.clone(), HashMap::default()));
                        m.len() - 1
                    }
                };
                Some(&mut m[k].1)
            } else {
                None
            };
            // The run's labels before the pipeline, from which each entry's
            // starts (in one state, whose allocation is kept).
            let state = LabelState::new(&batch.labels, &run.metadata);
            let mut lbs = state.clone();
            for (i, &ts) in run.ts_ns.iter().enumerate() {
                // The steps whose window holds the entry: t - offset - range < ts <= t - offset.
                let Some((lo, hi)) = steps.window_steps(ts + offset, range) else {
                    continue;
                };
                ctx.stats.structured_metadata_bytes += md_bytes;
                let line = run.line(i);
                if let Some(s) = fast_series {
                    let value = match op {
                        RangeOp::BytesOverTime | RangeOp::BytesRate => line.len() as f64,
                        _ => 1.0,
                    };
                    post_filter += 1;
                    add_sample(&mut series.accs[s].1, (lo, hi), ts, value, op);
                    continue;
                }
                if let Some(seen) = memo.as_ref().and_then(|m| m.get(line)) {
                    if let Some(s) = *seen {
                        post_filter += 1;
                        add_sample(&mut series.accs[s].1, (lo, hi), ts, 1.0, op);
                    }
                    continue;
                }
                lbs.reset_from(&state);
                let Some(out_line) = pipeline.process_in(ts, Cow::Borrowed(line), &mut lbs) else {
                    if let Some(m) = memo.as_mut().filter(|m| m.len() < MEMO_LINES) {
                        m.insert(line.into(), None);
                    }
                    continue;
                };
                let (value, unwrapped) = match &lr.unwrap {
                    None => {
                        let v = match op {
                            RangeOp::BytesOverTime | RangeOp::BytesRate => out_line.len() as f64,
                            _ => 1.0,
                        };
                        (v, None)
                    }
                    Some(u) => {
                        let raw = lbs.get(&u.label).unwrap_or("").to_string();
                        if raw.is_empty() {
                            continue;
                        }
                        let v = match convert(u.conversion, &raw) {
                            Ok(v) => v,
                            Err(d) => {
                                lbs.set_err(ERR_SAMPLE, Some(d));
                                0.0
                            }
                        };
                        if post.process_in(ts, out_line, &mut lbs).is_none() {
                            continue;
                        }
                        (v, Some(u.label.as_str()))
                    }
                };
                post_filter += 1;
                let mut labels = recycle(std::mem::take(&mut pairs));
                sample_label_refs(&lbs, grouping, unwrapped, &mut labels);
                if err_series.is_none()
                    && labels.iter().any(|(n, _)| *n == ERROR_LABEL)
                    && !labels
                        .iter()
                        .any(|(n, v)| *n == PRESERVE_ERROR_LABEL && *v == "true")
                {
                    err_series = Some(
                        labels
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.to_string()))
                            .collect(),
                    );
                }
                let s = series.slot_of(&labels);
                pairs = recycle(labels);
                if let Some(m) = memo.as_mut().filter(|m| m.len() < MEMO_LINES) {
                    m.insert(line.into(), Some(s));
                }
                add_sample(&mut series.accs[s].1, (lo, hi), ts, value, op);
            }
        }
    }
    Ok(Part {
        series,
        post_filter,
        err_series,
    })
}

/// Evaluates a range aggregation. `inject` is the grouping of an enclosing
/// `sum` ([`can_inject_grouping`]): samples are grouped by it as they are
/// extracted, so the series are the groups.
pub(crate) fn eval_range(
    ctx: &mut Ctx<'_>,
    agg: &RangeAggregation,
    steps: &Steps,
    inject: Option<&Grouping>,
) -> Result<Matrix, EvalError> {
    let op = agg.op;
    let grouping = agg.grouping.as_ref().or(inject);
    let lr = &agg.range;
    let range = lr.range;
    let offset = lr.offset.unwrap_or(0);
    let n_steps = steps.len();
    let first_t = steps.at(0);
    let last_t = steps.at(n_steps - 1);
    // A count over labels reads no line: the store may skip the lines.
    let lines = matches!(op, RangeOp::BytesOverTime | RangeOp::BytesRate)
        || super::pipeline::reads_line(&lr.log.pipeline);
    let sel = select_for(
        &lr.log,
        first_t - range - offset,
        last_t - offset + 1,
        Direction::Forward,
        lines,
    )?;
    // A count grouped by labels needs only the metadata it groups by.
    let columnar = lr.log.pipeline.is_empty() && lr.unwrap.is_none() && !lines;
    let mut sel = sel;
    if let Some(g) = grouping.filter(|g| columnar && !g.without) {
        sel.metadata_keys = Some(g.labels.clone());
    }
    // Counts over `| json k="k"` labels: the store may give the values
    // kept as columns in place of the lines.
    if !matches!(op, RangeOp::BytesOverTime | RangeOp::BytesRate) && lr.unwrap.is_none() {
        sel.json_keys = super::pipeline::json_keys(&lr.log.pipeline);
    }
    let memo = sel.json_keys.is_some();
    let parts = if parallel_safe(agg) { parallelism() } else { 1 };
    let cursors = if parts > 1 {
        ctx.reader.select_parts(ctx.tenant, &sel, parts)?
    } else {
        vec![ctx.reader.select(ctx.tenant, &sel)?]
    };
    let scan = ScanArgs {
        agg,
        steps,
        grouping,
        lines,
        memo,
    };
    let mut results: Vec<(Result<Part, EvalError>, Stats)> = if cursors.len() == 1 {
        cursors
            .into_iter()
            .map(|mut c| {
                let r = scan_part(ctx, c.as_mut(), &scan);
                ctx.add_scan(&c.stats());
                (r, Stats::default())
            })
            .collect()
    } else {
        // Each part on its own thread with its own stats, merged below.
        let (reader, tenant, deadline, timeout, opts) =
            (ctx.reader, ctx.tenant, ctx.deadline, ctx.timeout, ctx.opts);
        std::thread::scope(|sc| {
            let handles: Vec<_> = cursors
                .into_iter()
                .map(|mut c| {
                    let scan = &scan;
                    sc.spawn(move || {
                        let mut pctx = Ctx {
                            reader,
                            tenant,
                            deadline,
                            timeout,
                            stats: Stats::default(),
                            opts,
                        };
                        let r = scan_part(&mut pctx, c.as_mut(), scan);
                        pctx.add_scan(&c.stats());
                        (r, pctx.stats)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        (
                            Err(EvalError::Storage(argus_store::StorageError::internal(
                                "a query thread panicked",
                            ))),
                            Stats::default(),
                        )
                    })
                })
                .collect()
        })
    };
    let mut merged: Option<Part> = None;
    for (r, st) in results.drain(..) {
        ctx.add_scan(&st.scan);
        ctx.stats.structured_metadata_bytes += st.structured_metadata_bytes;
        let part = r?;
        match merged.as_mut() {
            None => merged = Some(part),
            Some(m) => m.merge(part, op),
        }
    }
    let Part {
        series,
        post_filter,
        err_series,
    } = merged
        .ok_or_else(|| EvalError::Storage(argus_store::StorageError::internal("no cursor")))?;
    ctx.stats.post_filter_lines += post_filter;
    if let Some(l) = err_series {
        let err = l
            .iter()
            .find(|(n, _)| n == ERROR_LABEL)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        return Err(EvalError::Pipeline(format!(
            "pipeline error: '{err}' for series: '{}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n",
            pairs_string(&l)
        )));
    }
    let secs = range as f64 / 1e9;
    if op == RangeOp::AbsentOverTime {
        let mut vals = vec![None; n_steps];
        for (i, v) in vals.iter_mut().enumerate() {
            if !series.accs.iter().any(|(_, s)| s.slots[i].n > 0) {
                *v = Some(1.0);
            }
        }
        let mut m = Matrix::default();
        if vals.iter().any(Option::is_some) {
            m.series.push(SeriesData {
                labels: absent_labels(&lr.log.selector),
                vals,
            });
        }
        return Ok(m);
    }
    let q = agg.param.unwrap_or(0.0);
    let mut m = Matrix::default();
    for (labels, acc) in series.accs {
        let mut vals = vec![None; n_steps];
        for (i, s) in acc.slots.iter().enumerate() {
            if s.n == 0 {
                continue;
            }
            let n = s.n as f64;
            vals[i] = Some(match op {
                RangeOp::CountOverTime => n,
                RangeOp::Rate if lr.unwrap.is_none() => n / secs,
                RangeOp::Rate | RangeOp::BytesRate => s.a / secs,
                RangeOp::BytesOverTime | RangeOp::SumOverTime => s.a,
                RangeOp::MinOverTime
                | RangeOp::MaxOverTime
                | RangeOp::FirstOverTime
                | RangeOp::LastOverTime
                | RangeOp::AvgOverTime => s.a,
                RangeOp::StdvarOverTime => s.b / n,
                RangeOp::StddevOverTime => (s.b / n).sqrt(),
                RangeOp::QuantileOverTime => {
                    let mut v: Vec<f64> = acc
                        .points
                        .as_ref()
                        .map(|p| p[i].iter().map(|x| x.1).collect())
                        .unwrap_or_default();
                    quantile(q, &mut v)
                }
                RangeOp::RateCounter => {
                    let mut p = acc
                        .points
                        .as_ref()
                        .map(|p| p[i].clone())
                        .unwrap_or_default();
                    p.sort_by_key(|x| x.0);
                    extrapolated_rate(&p, range, steps.at(i) - offset)
                }
                RangeOp::AbsentOverTime => 1.0,
            });
        }
        m.series.push(SeriesData { labels, vals });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk finds the same steps as dividing, for ascending times with
    /// gaps, repeats and times before, between and after the steps.
    #[test]
    fn windows_walk_as_window_steps() {
        for (start, step, n, range) in [
            (1_000, 10, 20, 10),
            (1_000, 10, 20, 35),
            (1_000, 30, 10, 10),
            (0, 7, 1, 20),
            (500, 0, 1, 100),
        ] {
            let steps = Steps::new_for_test(start, step, n);
            let mut w = Windows::new(&steps, range);
            let mut ts = start - range - 50;
            while ts < start + step * n as i64 + 50 {
                assert_eq!(
                    w.of(ts),
                    steps.window_steps(ts, range),
                    "start {start} step {step} n {n} range {range} ts {ts}"
                );
                ts += [0, 1, 3, 9][(ts.unsigned_abs() % 4) as usize];
                ts += 1;
            }
            // Going back in time is answered too.
            assert_eq!(w.of(start), steps.window_steps(start, range));
        }
    }
}
