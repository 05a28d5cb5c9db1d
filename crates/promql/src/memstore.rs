//! An in-memory [`Queryable`] for tests and the promqltest runner.

use std::collections::BTreeMap;

use argus_model::{Labels, Matcher, Sample};

use crate::Queryable;

/// Series kept in a `BTreeMap` (so `select` returns them sorted by labels).
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    series: BTreeMap<Labels, Vec<Sample>>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sample; a sample at an existing timestamp replaces it.
    pub fn add(&mut self, labels: Labels, sample: Sample) {
        let samples = self.series.entry(labels).or_default();
        match samples.binary_search_by_key(&sample.t, |s| s.t) {
            Ok(i) => samples[i] = sample,
            Err(i) => samples.insert(i, sample),
        }
    }

    pub fn clear(&mut self) {
        self.series.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl Queryable for MemStore {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<(Labels, Vec<Sample>)>, String> {
        let mut out = Vec::new();
        for (labels, samples) in &self.series {
            if !matchers.iter().all(|m| m.matches_labels(labels)) {
                continue;
            }
            let lo = samples.partition_point(|s| s.t < mint);
            let hi = samples.partition_point(|s| s.t <= maxt);
            if lo < hi {
                out.push((labels.clone(), samples[lo..hi].to_vec()));
            }
        }
        Ok(out)
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
        let got = s.select(&[Matcher::equal("job", "a")], 10, 30).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, a);
        assert_eq!(
            got[0].1.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![10, 20, 30]
        );
        assert!(s
            .select(&[Matcher::equal("job", "c")], 0, 100)
            .unwrap()
            .is_empty());
    }
}
