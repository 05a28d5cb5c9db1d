//! Turning one scrape's parsed samples into series to store: target labels
//! and `honor_labels`, metric relabelling, limits, duplicate detection, the
//! report series (`up`, …) and staleness markers. A port of
//! `scrapeLoop.append` / `report` and `scrapeCache` from Prometheus's
//! `scrape/scrape.go` (v2.55, with upstream's later fix that advances the
//! cache iteration after every scrape, not only after successful ones).
//!
//! Pure and synchronous: the caller owns the [`ScrapeCache`] of a target and
//! hands the resulting [`Batch`] to the sink.

use std::collections::HashMap;

use argus_ingest::textparse::ParsedSample;
use argus_model::{
    validate_label_name, validate_metric_name, Labels, Sample, TimeSeries, METRIC_NAME, STALE_NAN,
};

use crate::relabel::{relabel, LabelBuilder, RelabelConfig};

/// Samples more than this far in the future (by their own timestamp) are
/// rejected, as by Prometheus's `timeLimitAppender`.
pub(crate) const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// The prefix for scraped labels that collide with target labels.
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

/// Names of the series every scrape reports about itself.
pub const REPORT_METRICS: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Reported additionally with `extra_scrape_metrics` (Prometheus's
/// `--enable-feature=extra-scrape-metrics`).
pub const EXTRA_REPORT_METRICS: [&str; 3] = [
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];

/// Per-job settings that shape the appended series.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppendOptions {
    /// The target's public labels.
    pub target_labels: Labels,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    /// 0 = no limit.
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

/// The series of one scrape, in append order. A second sample for the same
/// series and timestamp is dropped (the storage would keep the first).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub series: Vec<TimeSeries>,
    index: HashMap<u64, Vec<usize>>,
    /// Samples dropped as same-series-same-timestamp duplicates.
    pub duplicates: u64,
}

impl Batch {
    pub(crate) fn push(&mut self, labels: &Labels, t: i64, v: f64) {
        let key = labels.stable_hash() ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = self.index.entry(key).or_default();
        if slot
            .iter()
            .any(|&i| self.series[i].samples[0].t == t && self.series[i].labels == *labels)
        {
            self.duplicates += 1;
            return;
        }
        slot.push(self.series.len());
        self.series.push(TimeSeries {
            labels: labels.clone(),
            samples: vec![Sample::new(t, v)],
            ..Default::default()
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }
}

struct CacheEntry {
    lset: Labels,
    /// Hash of the scraped (pre-relabelling) labels: the staleness key.
    hash: u64,
    last_iter: u64,
}

/// What a target's scrape loop remembers between scrapes: the labels each
/// scraped series became, the series dropped by relabelling, and which
/// series the previous scrape produced (for staleness markers).
#[derive(Default)]
pub(crate) struct ScrapeCache {
    iter: u64,
    successful_count: usize,
    series: HashMap<Labels, CacheEntry>,
    dropped: HashMap<Labels, u64>,
    series_cur: HashMap<u64, Labels>,
    series_prev: HashMap<u64, Labels>,
}

impl ScrapeCache {
    fn iter_done(&mut self, mut flush: bool) {
        let count = self.series.len() + self.dropped.len();
        if flush {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            // Varying labels in failed scrapes would grow the cache forever.
            flush = true;
        }
        if flush {
            let iter = self.iter;
            self.series.retain(|_, e| e.last_iter == iter);
            self.dropped.retain(|_, i| *i == iter);
        }
        std::mem::swap(&mut self.series_prev, &mut self.series_cur);
        self.series_cur.clear();
        self.iter += 1;
    }
}

/// Why the samples of a scrape were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppendError {
    SampleLimit,
    Other(String),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::SampleLimit => f.write_str("sample limit exceeded"),
            AppendError::Other(m) => f.write_str(m),
        }
    }
}

/// Counts of one append, as reported in `scrape_samples_scraped` etc.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AppendStats {
    pub total: u64,
    pub added: u64,
    pub series_added: u64,
    pub duplicates: u64,
    pub out_of_bounds: u64,
}

/// Prometheus's `mutateSampleLabels`: merges the target labels into a
/// scraped label set and applies metric relabelling. Empty = drop.
pub fn mutate_sample_labels(
    scraped: &Labels,
    target: &Labels,
    honor_labels: bool,
    metric_relabel_configs: &[RelabelConfig],
) -> Labels {
    let mut lb = LabelBuilder::new(scraped);
    if honor_labels {
        for l in target {
            if scraped.get(&l.name).is_none() {
                lb.set(&l.name, &l.value);
            }
        }
    } else {
        let mut conflicts: Vec<(&str, &str)> = Vec::new();
        for l in target {
            if let Some(v) = scraped.get(&l.name) {
                conflicts.push((&l.name, v));
            }
            lb.set(&l.name, &l.value);
        }
        // Shorter names first, so `exported_` chains resolve like Prometheus.
        conflicts.sort_by_key(|(n, _)| n.len());
        for (name, value) in conflicts {
            let mut new_name = name.to_string();
            loop {
                new_name = format!("{EXPORTED_LABEL_PREFIX}{new_name}");
                if lb.get(&new_name).is_empty() {
                    lb.set(&new_name, value);
                    break;
                }
            }
        }
    }
    let res = lb.labels();
    if metric_relabel_configs.is_empty() {
        return res;
    }
    relabel(&res, metric_relabel_configs).unwrap_or_default()
}

/// The label set of a report series: its name plus the target labels.
pub(crate) fn report_labels(name: &str, target: &Labels) -> Labels {
    let mut lb = LabelBuilder::new(&Labels::from_pairs([(METRIC_NAME, name)]));
    for l in target {
        lb.set(&l.name, &l.value);
    }
    lb.labels()
}

fn verify_label_limits(lset: &Labels, o: &AppendOptions) -> Result<(), String> {
    let met = lset.metric_name().unwrap_or("");
    let met: String = met.chars().take(50).collect();
    if o.label_limit > 0 && lset.len() as u64 > o.label_limit {
        return Err(format!(
            "label_limit exceeded (metric: {met}, number of labels: {}, limit: {})",
            lset.len(),
            o.label_limit
        ));
    }
    for l in lset {
        let name: String = l.name.chars().take(50).collect();
        if o.label_name_length_limit > 0 && l.name.len() as u64 > o.label_name_length_limit {
            return Err(format!(
                "label_name_length_limit exceeded (metric: {met}, label name: {name}, length: {}, limit: {})",
                l.name.len(),
                o.label_name_length_limit
            ));
        }
        if o.label_value_length_limit > 0 && l.value.len() as u64 > o.label_value_length_limit {
            let value: String = l.value.chars().take(50).collect();
            return Err(format!(
                "label_value_length_limit exceeded (metric: {met}, label name: {name}, value: {value:?}, length: {}, limit: {})",
                l.value.len(),
                o.label_value_length_limit
            ));
        }
    }
    Ok(())
}

fn is_valid(lset: &Labels) -> bool {
    lset.iter().all(|l| {
        validate_label_name(&l.name) && (l.name != METRIC_NAME || validate_metric_name(&l.value))
    })
}

enum AddError {
    SampleLimit,
    OutOfBounds,
    Duplicate,
}

/// The appender chain of Prometheus's scrape loop: sample limit (stale
/// markers not counted), then the 10-minutes-ahead time limit, then storage.
struct LimitedAppender<'a> {
    batch: &'a mut Batch,
    limit: u64,
    count: u64,
    max_time: i64,
}

impl LimitedAppender<'_> {
    fn append(&mut self, lset: &Labels, t: i64, v: f64) -> Result<(), AddError> {
        if v.to_bits() != STALE_NAN.to_bits() {
            self.count += 1;
            if self.limit > 0 && self.count > self.limit {
                return Err(AddError::SampleLimit);
            }
        }
        if t > self.max_time {
            return Err(AddError::OutOfBounds);
        }
        self.batch.push(lset, t, v);
        Ok(())
    }
}

/// Appends one scrape's samples to `batch` (Prometheus's
/// `scrapeLoop.append`). `parse_error` is the error that ended the body
/// after `samples` (the samples before it are processed first, as
/// Prometheus's streaming parser does). On error the caller must discard
/// `batch` and call again with no samples, which writes the staleness
/// markers. `body_was_empty` = the response had no bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append(
    cache: &mut ScrapeCache,
    o: &AppendOptions,
    samples: &[ParsedSample],
    parse_error: Option<String>,
    body_was_empty: bool,
    def_time: i64,
    now_ms: i64,
    batch: &mut Batch,
) -> (AppendStats, Result<(), AppendError>) {
    let mut st = AppendStats::default();
    let mut app = LimitedAppender {
        batch,
        limit: o.sample_limit,
        count: 0,
        max_time: now_ms + MAX_AHEAD_MS,
    };
    let mut sample_limit_err = false;
    let mut err: Option<AppendError> = None;

    for s in samples {
        st.total += 1;
        let parsed_ts = if o.honor_timestamps {
            s.timestamp_ms
        } else {
            None
        };
        let t = parsed_ts.unwrap_or(def_time);
        let raw = &s.labels;
        let iter = cache.iter;
        if let Some(i) = cache.dropped.get_mut(raw) {
            *i = iter;
            continue;
        }
        let cached = cache.series.get_mut(raw).map(|e| {
            let already = e.last_iter == iter;
            e.last_iter = iter;
            (e.lset.clone(), e.hash, already)
        });
        let is_cached = cached.is_some();
        let (lset, hash, already) = match cached {
            Some(c) => c,
            None => {
                let hash = raw.stable_hash();
                let lset = mutate_sample_labels(
                    raw,
                    &o.target_labels,
                    o.honor_labels,
                    &o.metric_relabel_configs,
                );
                if lset.is_empty() {
                    cache.dropped.insert(raw.clone(), iter);
                    continue;
                }
                if lset.metric_name().is_none() {
                    err = Some(AppendError::Other(format!(
                        "missing metric name ({METRIC_NAME} label)"
                    )));
                    break;
                }
                if !is_valid(&lset) {
                    err = Some(AppendError::Other(format!(
                        "invalid metric name or label names: {lset}"
                    )));
                    break;
                }
                if let Err(e) = verify_label_limits(&lset, o) {
                    err = Some(AppendError::Other(e));
                    break;
                }
                (lset, hash, false)
            }
        };

        let res = if already && parsed_ts.is_none() {
            Err(AddError::Duplicate)
        } else {
            app.append(&lset, t, s.value)
        };
        let track = parsed_ts.is_none() || o.track_timestamps_staleness;
        if res.is_ok() && is_cached && track {
            cache.series_cur.insert(hash, lset.clone());
        }
        let sample_added = match res {
            Ok(()) => true,
            Err(AddError::Duplicate) => {
                st.duplicates += 1;
                false
            }
            Err(AddError::OutOfBounds) => {
                st.out_of_bounds += 1;
                false
            }
            Err(AddError::SampleLimit) => {
                sample_limit_err = true;
                false
            }
        };
        if !is_cached {
            if track {
                cache.series_cur.insert(hash, lset.clone());
            }
            if sample_added {
                if !sample_limit_err {
                    st.series_added += 1;
                }
                cache.series.insert(
                    raw.clone(),
                    CacheEntry {
                        lset,
                        hash,
                        last_iter: iter,
                    },
                );
            }
        }
        // Counted even on errors: the number of series exposed after relabelling.
        st.added += 1;
    }

    let err = err
        .or(parse_error.map(AppendError::Other))
        .or(sample_limit_err.then_some(AppendError::SampleLimit));
    if err.is_some() {
        return (st, err.map_or(Ok(()), Err));
    }
    // Series no longer exposed: mark them stale.
    let stale: Vec<Labels> = cache
        .series_prev
        .iter()
        .filter(|(h, _)| !cache.series_cur.contains_key(h))
        .map(|(_, l)| l.clone())
        .collect();
    for lset in &stale {
        let _ = app.append(lset, def_time, STALE_NAN);
    }
    cache.iter_done(!body_was_empty);
    (st, Ok(()))
}

/// The values of one scrape's report series.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Report {
    pub up: bool,
    pub duration_seconds: f64,
    pub stats: AppendStats,
    /// With `extra_scrape_metrics`: (timeout seconds, sample limit, body
    /// bytes or -1 when over the size limit).
    pub extra: Option<(f64, u64, i64)>,
}

/// Appends the report series at `ts` (Prometheus's `scrapeLoop.report`);
/// metric relabelling does not apply to them.
pub(crate) fn append_report(batch: &mut Batch, target: &Labels, ts: i64, r: &Report) {
    let vals = [
        if r.up { 1.0 } else { 0.0 },
        r.duration_seconds,
        r.stats.total as f64,
        r.stats.added as f64,
        r.stats.series_added as f64,
    ];
    for (name, v) in REPORT_METRICS.iter().zip(vals) {
        batch.push(&report_labels(name, target), ts, v);
    }
    if let Some((timeout, limit, bytes)) = r.extra {
        for (name, v) in EXTRA_REPORT_METRICS
            .iter()
            .zip([timeout, limit as f64, bytes as f64])
        {
            batch.push(&report_labels(name, target), ts, v);
        }
    }
}

/// Stale markers for the report series (Prometheus's `reportStale`).
pub(crate) fn append_report_stale(batch: &mut Batch, target: &Labels, ts: i64, extra: bool) {
    let extra_names: &[&str] = if extra { &EXTRA_REPORT_METRICS } else { &[] };
    for name in REPORT_METRICS.iter().chain(extra_names) {
        batch.push(&report_labels(name, target), ts, STALE_NAN);
    }
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
