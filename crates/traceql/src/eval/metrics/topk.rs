//! `topk(n)` and `bottomk(n)`, Tempo's second metrics stage: at each step,
//! the `n` series with the largest (smallest) values keep their value there;
//! the others lose it. A series that is never among them is dropped. When
//! there are at most `n` series, all are kept whole.

use std::cmp::Ordering;

/// A series while finishing: labels (ordered) and a value per step (NaN
/// for none).
pub(super) trait Ranked {
    /// Orders series by their labels.
    fn cmp_labels(&self, other: &Self) -> Ordering;
    fn values(&self) -> &[f64];
    fn values_mut(&mut self) -> &mut [f64];
}

/// Keeps, at each step, the `n` largest (`top`) or smallest values. Ties
/// go to the series whose labels sort last for `topk`, first for
/// `bottomk`, as in Tempo.
pub(super) fn top_or_bottom<S: Ranked>(
    series: Vec<S>,
    n: usize,
    top: bool,
    steps: usize,
) -> Vec<S> {
    if series.len() <= n {
        return series;
    }
    // Whether series i keeps its value at a step: `keep[i * steps + step]`.
    let mut keep = vec![false; series.len().saturating_mul(steps)];
    let mut order: Vec<usize> = Vec::with_capacity(series.len());
    for step in 0..steps {
        order.clear();
        order.extend(
            (0..series.len())
                .filter(|&i| series[i].values().get(step).is_some_and(|v| !v.is_nan())),
        );
        let value = |i: usize| series[i].values()[step];
        // Best first.
        order.sort_by(|&a, &b| {
            let by_value = value(a).total_cmp(&value(b));
            let by_key = series[a].cmp_labels(&series[b]);
            let o = by_value.then(by_key);
            if top {
                o.reverse()
            } else {
                o
            }
        });
        for &i in order.iter().take(n) {
            keep[i * steps + step] = true;
        }
    }
    series
        .into_iter()
        .zip(keep.chunks(steps.max(1)))
        .filter_map(|(mut s, keep)| {
            if !keep.contains(&true) {
                return None;
            }
            for (v, k) in s.values_mut().iter_mut().zip(keep) {
                if !*k {
                    *v = f64::NAN;
                }
            }
            Some(s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct S(String, Vec<f64>);

    impl Ranked for S {
        fn cmp_labels(&self, other: &Self) -> Ordering {
            self.0.cmp(&other.0)
        }
        fn values(&self) -> &[f64] {
            &self.1
        }
        fn values_mut(&mut self) -> &mut [f64] {
            &mut self.1
        }
    }

    fn s(k: &str, v: &[f64]) -> S {
        S(k.to_string(), v.to_vec())
    }

    fn shown(v: &[S]) -> Vec<(String, Vec<Option<f64>>)> {
        v.iter()
            .map(|s| {
                let vals = s.1.iter().map(|x| (!x.is_nan()).then_some(*x)).collect();
                (s.0.clone(), vals)
            })
            .collect()
    }

    #[test]
    fn keeps_the_best_per_step() {
        let nan = f64::NAN;
        let input = vec![
            s("a", &[1.0, 5.0, nan]),
            s("b", &[2.0, 1.0, 1.0]),
            s("c", &[3.0, 0.5, 1.0]),
        ];
        // Step 0: c (3); step 1: a (5); step 2: b and c tie at 1, topk takes
        // the later labels (c). b is never kept.
        assert_eq!(
            shown(&top_or_bottom(input.clone(), 1, true, 3)),
            [
                ("a".to_string(), vec![None, Some(5.0), None]),
                ("c".to_string(), vec![Some(3.0), None, Some(1.0)]),
            ]
        );
        // Step 0: a (1); step 1: c (0.5); step 2: the tie goes to b.
        assert_eq!(
            shown(&top_or_bottom(input.clone(), 1, false, 3)),
            [
                ("a".to_string(), vec![Some(1.0), None, None]),
                ("b".to_string(), vec![None, None, Some(1.0)]),
                ("c".to_string(), vec![None, Some(0.5), None]),
            ]
        );
        // No more series than n: unchanged.
        assert_eq!(
            shown(&top_or_bottom(input.clone(), 3, true, 3)),
            shown(&input)
        );
    }
}
