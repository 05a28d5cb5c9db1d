//! Merging sorted sample runs; on equal timestamps the earlier run wins.

use argus_model::Sample;

/// Merges the sorted `extra` into the sorted `out[start..]`, dropping
/// `extra` samples whose timestamp is already present.
pub fn merge_into(out: &mut Vec<Sample>, start: usize, extra: &[Sample]) {
    let base: Vec<Sample> = out.drain(start..).collect();
    let (mut i, mut j) = (0, 0);
    while i < base.len() || j < extra.len() {
        if j >= extra.len() || (i < base.len() && base[i].t <= extra[j].t) {
            if j < extra.len() && base[i].t == extra[j].t {
                j += 1;
            }
            out.push(base[i]);
            i += 1;
        } else {
            out.push(extra[j]);
            j += 1;
        }
    }
}

/// Merges several sorted runs into one, deduplicating equal timestamps
/// (the first run that has a timestamp wins).
pub fn merge_runs(runs: Vec<Vec<Sample>>) -> Vec<Sample> {
    let mut runs = runs.into_iter().filter(|r| !r.is_empty());
    let Some(mut out) = runs.next() else {
        return Vec::new();
    };
    for r in runs {
        if out.last().is_some_and(|l| l.t < r[0].t) {
            out.extend(r);
        } else {
            merge_into(&mut out, 0, &r);
        }
    }
    out
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
