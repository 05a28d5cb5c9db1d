//! A tenant's generated series: cumulative counters and classic histograms,
//! as Tempo's metrics-generator registry keeps them.
//!
//! - A new series is collected first with a 0 at the end of the previous
//!   minute (counters, a histogram's `_count` and `_bucket`s, not `_sum`),
//!   then its value at the collection time, so that `increase()` sees the
//!   first observation.
//! - A histogram bucket keeps the last exemplar observed into it since the
//!   previous collection; a collection emits it once.
//! - Active series are capped per tenant (a counter costs 1 series, a
//!   histogram `buckets + 3`: every `le` incl. `+Inf`, `_sum`, `_count`);
//!   past the cap observations go to the metric's overflow series
//!   `{metric_overflow="true"}`, which does not count.
//! - A series not updated for the stale duration is dropped.

use super::attrs::format_float;
use argus_model::Exemplar;
use argus_model::{Label, Labels, Sample, TimeSeries, METRIC_NAME};
use std::collections::HashMap;

/// The label set of a metric's overflow series.
pub(super) const OVERFLOW_LABEL: &str = "metric_overflow";
/// The exemplar label carrying the trace id (Tempo's default
/// `metrics_generator_trace_id_label_name`).
pub(super) const TRACE_ID_LABEL: &str = "traceID";

/// How a registry treats new series.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeriesPolicy {
    /// 0 = no cap.
    pub(super) max_series: usize,
    pub(super) stale_ms: i64,
}

/// The tenant's active series count and the series refused by the cap.
#[derive(Debug, Default)]
pub(super) struct SeriesBudget {
    pub(super) active: usize,
    /// Series (counted as the cap counts them) that went to overflow.
    pub(super) limited: u64,
}

impl SeriesBudget {
    /// Takes `cost` series from the budget; false when over the cap.
    fn take(&mut self, cost: usize, policy: SeriesPolicy) -> bool {
        if policy.max_series != 0 && self.active + cost > policy.max_series {
            self.limited += cost as u64;
            return false;
        }
        self.active += cost;
        true
    }
}

fn overflow_labels() -> Labels {
    Labels::from_sorted_unchecked(vec![Label::new(OVERFLOW_LABEL, "true")])
}

fn is_overflow(labels: &Labels) -> bool {
    labels.len() == 1 && labels.get(OVERFLOW_LABEL) == Some("true")
}

/// The timestamp of a new series' initial 0: one second before the start
/// of the minute holding `now_ms`, as Tempo places it.
pub(super) fn end_of_last_minute(now_ms: i64) -> i64 {
    now_ms.div_euclid(60_000) * 60_000 - 1_000
}

fn with_name(labels: &Labels, name: &str) -> Labels {
    let mut b = labels.builder();
    b.set(METRIC_NAME, name);
    b.build()
}

fn push_series(out: &mut Vec<TimeSeries>, labels: Labels, new: bool, now_ms: i64, v: f64) {
    let mut samples = Vec::with_capacity(2);
    if new {
        samples.push(Sample::new(end_of_last_minute(now_ms), 0.0));
    }
    samples.push(Sample::new(now_ms, v));
    out.push(TimeSeries::new(labels, samples));
}

#[derive(Debug)]
struct CounterSeries {
    value: f64,
    last_updated: i64,
    new: bool,
}

/// A cumulative counter family.
#[derive(Debug)]
pub(super) struct Counter {
    name: &'static str,
    series: HashMap<Labels, CounterSeries>,
}

impl Counter {
    pub(super) fn new(name: &'static str) -> Self {
        Counter {
            name,
            series: HashMap::new(),
        }
    }

    pub(super) fn inc(
        &mut self,
        labels: Labels,
        by: f64,
        now_ms: i64,
        budget: &mut SeriesBudget,
        policy: SeriesPolicy,
    ) {
        let labels = if self.series.contains_key(&labels) || budget.take(1, policy) {
            labels
        } else {
            overflow_labels()
        };
        let s = self.series.entry(labels).or_insert(CounterSeries {
            value: 0.0,
            last_updated: now_ms,
            new: true,
        });
        s.value += by;
        s.last_updated = now_ms;
    }

    pub(super) fn collect(&mut self, now_ms: i64, out: &mut Vec<TimeSeries>) {
        for (labels, s) in &mut self.series {
            push_series(out, with_name(labels, self.name), s.new, now_ms, s.value);
            s.new = false;
        }
    }

    pub(super) fn remove_stale(&mut self, before_ms: i64, budget: &mut SeriesBudget) {
        self.series.retain(|labels, s| {
            let keep = s.last_updated >= before_ms;
            if !keep && !is_overflow(labels) {
                budget.active = budget.active.saturating_sub(1);
            }
            keep
        });
    }
}

#[derive(Debug)]
struct HistogramSeries {
    count: f64,
    sum: f64,
    /// Cumulative counts per bound (the last is `+Inf`).
    buckets: Vec<f64>,
    /// The last (trace id, value) observed into each bucket since the last
    /// collection.
    exemplars: Vec<Option<(String, f64)>>,
    last_updated: i64,
    new: bool,
}

/// A classic (bucketed) histogram family, in seconds.
#[derive(Debug)]
pub(super) struct Histogram {
    name: &'static str,
    /// Upper bounds, sorted, ending with `+Inf`.
    bounds: Vec<f64>,
    /// The `le` label value of each bound.
    le: Vec<String>,
    series: HashMap<Labels, HistogramSeries>,
}

impl Histogram {
    /// `bounds` finite and sorted (the config checks); `+Inf` is added.
    pub(super) fn new(name: &'static str, bounds: &[f64]) -> Self {
        let mut bounds = bounds.to_vec();
        bounds.push(f64::INFINITY);
        let le = bounds.iter().map(|&b| format_float(b)).collect();
        Histogram {
            name,
            bounds,
            le,
            series: HashMap::new(),
        }
    }

    /// Series a histogram costs against the cap.
    fn cost(&self) -> usize {
        self.bounds.len() + 2
    }

    /// Observes `value` seconds; `trace_id` (hex, may be empty) becomes the
    /// exemplar of the bucket the value falls in.
    pub(super) fn observe(
        &mut self,
        labels: Labels,
        value: f64,
        trace_id: &str,
        now_ms: i64,
        budget: &mut SeriesBudget,
        policy: SeriesPolicy,
    ) {
        let labels = if self.series.contains_key(&labels) || budget.take(self.cost(), policy) {
            labels
        } else {
            overflow_labels()
        };
        let n = self.bounds.len();
        let s = self
            .series
            .entry(labels)
            .or_insert_with(|| HistogramSeries {
                count: 0.0,
                sum: 0.0,
                buckets: vec![0.0; n],
                exemplars: vec![None; n],
                last_updated: now_ms,
                new: true,
            });
        s.count += 1.0;
        s.sum += value;
        // The first bound >= value (`le` is inclusive).
        let first = self.bounds.partition_point(|&b| b < value).min(n - 1);
        for b in &mut s.buckets[first..] {
            *b += 1.0;
        }
        if !trace_id.is_empty() {
            s.exemplars[first] = Some((trace_id.to_string(), value));
        }
        s.last_updated = now_ms;
    }

    pub(super) fn collect(&mut self, now_ms: i64, out: &mut Vec<TimeSeries>) {
        let (sum_name, count_name, bucket_name) = (
            format!("{}_sum", self.name),
            format!("{}_count", self.name),
            format!("{}_bucket", self.name),
        );
        for (labels, s) in &mut self.series {
            // Tempo writes no initial 0 for `_sum`.
            push_series(out, with_name(labels, &sum_name), false, now_ms, s.sum);
            push_series(out, with_name(labels, &count_name), s.new, now_ms, s.count);
            let mut b = labels.builder();
            b.set(METRIC_NAME, bucket_name.as_str());
            for (i, le) in self.le.iter().enumerate() {
                b.set("le", le.as_str());
                push_series(out, b.build(), s.new, now_ms, s.buckets[i]);
                if let Some((trace_id, value)) = s.exemplars[i].take() {
                    if let Some(last) = out.last_mut() {
                        last.exemplars.push(Exemplar::new(
                            Labels::from_pairs([(TRACE_ID_LABEL, trace_id)]),
                            value,
                            now_ms,
                        ));
                    }
                }
            }
            s.new = false;
        }
    }

    pub(super) fn remove_stale(&mut self, before_ms: i64, budget: &mut SeriesBudget) {
        let cost = self.cost();
        self.series.retain(|labels, s| {
            let keep = s.last_updated >= before_ms;
            if !keep && !is_overflow(labels) {
                budget.active = budget.active.saturating_sub(cost);
            }
            keep
        });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl Counter {
    pub(super) fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_format_as_go_does() {
        assert_eq!(format_float(0.002), "0.002");
        assert_eq!(format_float(16.384), "16.384");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn initial_zero_is_before_the_minute() {
        assert_eq!(end_of_last_minute(120_500), 119_000);
        assert_eq!(end_of_last_minute(120_000), 119_000);
        assert_eq!(end_of_last_minute(179_999), 119_000);
    }
}
