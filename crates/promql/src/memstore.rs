//! An in-memory [`Queryable`] for tests and the promqltest runner.

use std::collections::BTreeMap;

use argus_model::{
    CounterResetHint, FloatHistogram, HistogramSample, Labels, Matcher, Sample, StoredSeries,
};

use crate::{Queryable, SeriesSet};

#[derive(Debug, Clone)]
enum Point {
    Float(f64),
    Histogram(FloatHistogram),
}

/// Series kept in a `BTreeMap` (so `select` returns them sorted by labels).
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    series: BTreeMap<Labels, BTreeMap<i64, Point>>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a float sample; a sample at an existing timestamp replaces it.
    pub fn add(&mut self, labels: Labels, sample: Sample) {
        self.series
            .entry(labels)
            .or_default()
            .insert(sample.t, Point::Float(sample.v));
    }

    /// Adds a native histogram sample; a sample at an existing timestamp replaces it.
    pub fn add_histogram(&mut self, labels: Labels, t: i64, h: FloatHistogram) {
        self.series
            .entry(labels)
            .or_default()
            .insert(t, Point::Histogram(h));
    }

    pub fn clear(&mut self) {
        self.series.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

/// The counter reset hint a histogram is read back with from Prometheus's
/// chunks: gauges stay gauges; the first histogram of a chunk (after a float,
/// a gauge, a layout change or a detected counter reset) is "unknown" unless it
/// was appended as a counter reset; the others are "not a counter reset".
fn read_hint(prev: Option<&FloatHistogram>, h: &FloatHistogram) -> CounterResetHint {
    match h.counter_reset_hint {
        CounterResetHint::Gauge => return CounterResetHint::Gauge,
        CounterResetHint::CounterReset => return CounterResetHint::CounterReset,
        _ => {}
    }
    let Some(p) = prev else {
        return CounterResetHint::Unknown;
    };
    if p.counter_reset_hint == CounterResetHint::Gauge
        || p.schema != h.schema
        || p.zero_threshold != h.zero_threshold
        || (h.uses_custom_buckets() && p.custom_values != h.custom_values)
    {
        return CounterResetHint::Unknown;
    }
    let mut cur = h.clone();
    cur.counter_reset_hint = CounterResetHint::Unknown;
    if crate::histogram::detect_reset(&cur, p) {
        return CounterResetHint::Unknown;
    }
    CounterResetHint::NotCounterReset
}

/// A [`MemStore`] selection: samples are copied out when a series is loaded.
struct MemSelection<'s> {
    series: Vec<(&'s Labels, &'s BTreeMap<i64, Point>)>,
    mint: i64,
    maxt: i64,
}

impl SeriesSet for MemSelection<'_> {
    fn len(&self) -> usize {
        self.series.len()
    }

    fn labels(&self, i: usize) -> &Labels {
        self.series[i].0
    }

    fn load(&self, i: usize) -> Result<StoredSeries, crate::StorageError> {
        let (labels, points) = self.series[i];
        let mut s = StoredSeries {
            labels: labels.clone(),
            ..Default::default()
        };
        let mut prev: Option<&FloatHistogram> = None;
        for (&t, p) in points.range(..=self.maxt) {
            match p {
                Point::Float(v) => {
                    prev = None;
                    if t >= self.mint {
                        s.floats.push(Sample::new(t, *v));
                    }
                }
                Point::Histogram(h) => {
                    if t >= self.mint {
                        let mut h2 = h.clone();
                        h2.counter_reset_hint = read_hint(prev, h);
                        s.histograms.push(HistogramSample { t, h: h2 });
                    }
                    prev = Some(h);
                }
            }
        }
        Ok(s)
    }
}

impl Queryable for MemStore {
    fn select<'s>(
        &'s self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn SeriesSet + 's>, crate::StorageError> {
        let series = if mint > maxt {
            Vec::new()
        } else {
            self.series
                .iter()
                .filter(|(labels, points)| {
                    matchers.iter().all(|m| m.matches_labels(labels))
                        && points.range(mint..=maxt).next().is_some()
                })
                .collect()
        };
        Ok(Box::new(MemSelection { series, mint, maxt }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_filters_by_matchers_and_time() {
        let mut s = MemStore::new();
        let a = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        let b = Labels::from_pairs([("__name__", "m"), ("job", "b")]);
        for t in 0..5 {
            s.add(a.clone(), Sample::new(t * 10, t as f64));
            s.add(b.clone(), Sample::new(t * 10, -(t as f64)));
        }
        s.add_histogram(a.clone(), 50, FloatHistogram::default());
        let got = s.select(&[Matcher::equal("job", "a")], 10, 50).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got.labels(0), &a);
        let loaded = got.load(0).unwrap();
        assert_eq!(
            loaded.floats.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![10, 20, 30, 40]
        );
        assert_eq!(loaded.histograms.len(), 1);
        assert!(s
            .select(&[Matcher::equal("job", "c")], 0, 100)
            .unwrap()
            .is_empty());
    }
}
