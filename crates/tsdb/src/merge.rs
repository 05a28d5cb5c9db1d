//! Merging sorted sample runs; on equal timestamps the earlier run wins.

use argus_model::{HistogramSample, Sample, StoredSeries};

/// Anything with a timestamp: float and histogram samples.
pub trait Timed: Clone {
    fn t(&self) -> i64;
}

impl Timed for Sample {
    fn t(&self) -> i64 {
        self.t
    }
}

impl Timed for HistogramSample {
    fn t(&self) -> i64 {
        self.t
    }
}

/// Merges the sorted `extra` into the sorted `out[start..]`, dropping
/// `extra` samples whose timestamp is already present.
pub fn merge_into<T: Timed>(out: &mut Vec<T>, start: usize, extra: &[T]) {
    let base: Vec<T> = out.drain(start..).collect();
    let (mut i, mut j) = (0, 0);
    while i < base.len() || j < extra.len() {
        if j >= extra.len() || (i < base.len() && base[i].t() <= extra[j].t()) {
            if j < extra.len() && base[i].t() == extra[j].t() {
                j += 1;
            }
            out.push(base[i].clone());
            i += 1;
        } else {
            out.push(extra[j].clone());
            j += 1;
        }
    }
}

/// Merges several sorted runs into one, deduplicating equal timestamps
/// (the first run that has a timestamp wins); [`merge_stored`]'s helper.
fn merge_runs<T: Timed>(runs: Vec<Vec<T>>) -> Vec<T> {
    let mut runs = runs.into_iter().filter(|r| !r.is_empty());
    let Some(mut out) = runs.next() else {
        return Vec::new();
    };
    for r in runs {
        if out.last().is_some_and(|l| l.t() < r[0].t()) {
            out.extend(r);
        } else {
            merge_into(&mut out, 0, &r);
        }
    }
    out
}

/// Merges several versions of one series (the first that has a timestamp
/// wins); a timestamp keeps a float or a histogram, not both (the float).
pub fn merge_stored(runs: Vec<StoredSeries>) -> StoredSeries {
    let mut it = runs.into_iter();
    let Some(first) = it.next() else {
        return StoredSeries::default();
    };
    let labels = first.labels;
    let (mut f, mut h) = (vec![first.floats], vec![first.histograms]);
    for r in it {
        f.push(r.floats);
        h.push(r.histograms);
    }
    let floats = merge_runs(f);
    let mut histograms = merge_runs(h);
    if !floats.is_empty() && !histograms.is_empty() {
        histograms.retain(|x| floats.binary_search_by_key(&x.t, |s| s.t).is_err());
    }
    StoredSeries {
        labels,
        floats,
        histograms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_dedups() {
        let a = vec![Sample::new(1, 1.0), Sample::new(3, 3.0)];
        let b = vec![
            Sample::new(2, 2.0),
            Sample::new(3, 9.0),
            Sample::new(4, 4.0),
        ];
        let m = merge_runs(vec![a, b]);
        let ts: Vec<(i64, f64)> = m.iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(ts, vec![(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]);
    }
}
