//! Compensated (Kahan) summation and averaging of native histograms, as
//! Prometheus's `KahanAdd` and the incremental mean of `avg`/`avg_over_time`.

use std::collections::BTreeMap;

use argus_model::FloatHistogram;

use super::{
    add, adjust_counter_reset, collapse, custom_bounds_match, div, expand, mul,
    reconcile_zero_buckets, reduce, AddInfo, IncompatibleSchema,
};
use crate::functions::kahan_inc;

/// Compensation terms, by field and bucket index.
#[derive(Debug, Clone, Default)]
struct Comp {
    count: f64,
    sum: f64,
    zero: f64,
    pos: BTreeMap<i32, f64>,
    neg: BTreeMap<i32, f64>,
}

impl Comp {
    fn scale(&mut self, f: impl Fn(f64) -> f64) {
        self.count = f(self.count);
        self.sum = f(self.sum);
        self.zero = f(self.zero);
        self.pos.values_mut().for_each(|v| *v = f(*v));
        self.neg.values_mut().for_each(|v| *v = f(*v));
    }

    fn reduce(&mut self, from: i32, to: i32) {
        for m in [&mut self.pos, &mut self.neg] {
            let items: Vec<(i32, f64)> = m.iter().map(|(k, v)| (*k, *v)).collect();
            *m = reduce(&items, from, to).into_iter().collect();
        }
    }

    /// `h + c` (Prometheus adds the compensation histogram at the end).
    fn apply(&self, h: &mut FloatHistogram) {
        h.count += self.count;
        h.sum += self.sum;
        h.zero_count += self.zero;
        for (spans, buckets, m) in [
            (&mut h.positive_spans, &mut h.positive_buckets, &self.pos),
            (&mut h.negative_spans, &mut h.negative_buckets, &self.neg),
        ] {
            let items: Vec<(i32, f64)> = expand(spans, buckets)
                .into_iter()
                .map(|(i, v)| (i, v + m.get(&i).copied().unwrap_or(0.0)))
                .collect();
            (*spans, *buckets) = collapse(&items);
        }
    }
}

fn kahan_buckets(
    a: &[(i32, f64)],
    b: &[(i32, f64)],
    c: &mut BTreeMap<i32, f64>,
) -> Vec<(i32, f64)> {
    let mut m: BTreeMap<i32, f64> = a.iter().copied().collect();
    for &(i, v) in b {
        let cur = m.entry(i).or_insert(0.0);
        let comp = c.entry(i).or_insert(0.0);
        (*cur, *comp) = kahan_inc(v, *cur, *comp);
    }
    m.into_iter().collect()
}

fn kahan_add(
    h: &mut FloatHistogram,
    c: &mut Comp,
    other: &FloatHistogram,
) -> Result<AddInfo, IncompatibleSchema> {
    if h.uses_custom_buckets() != other.uses_custom_buckets() {
        return Err(IncompatibleSchema);
    }
    if h.uses_custom_buckets() && !custom_bounds_match(&h.custom_values, &other.custom_values) {
        c.apply(h);
        *c = Comp::default();
        return add(h, other);
    }
    let info = AddInfo {
        counter_reset_collision: adjust_counter_reset(h, other),
        ..Default::default()
    };
    if !h.uses_custom_buckets() {
        let zt = h.zero_threshold;
        let ozc = reconcile_zero_buckets(h, other);
        if h.zero_threshold != zt {
            c.pos.clear();
            c.neg.clear();
        }
        (h.zero_count, c.zero) = kahan_inc(ozc, h.zero_count, c.zero);
    }
    (h.count, c.count) = kahan_inc(other.count, h.count, c.count);
    (h.sum, c.sum) = kahan_inc(other.sum, h.sum, c.sum);
    let mut hp = expand(&h.positive_spans, &h.positive_buckets);
    let mut hn = expand(&h.negative_spans, &h.negative_buckets);
    let mut op = expand(&other.positive_spans, &other.positive_buckets);
    let mut on = expand(&other.negative_spans, &other.negative_buckets);
    if !h.uses_custom_buckets() {
        if other.schema < h.schema {
            hp = reduce(&hp, h.schema, other.schema);
            hn = reduce(&hn, h.schema, other.schema);
            c.reduce(h.schema, other.schema);
            h.schema = other.schema;
        } else if other.schema > h.schema {
            op = reduce(&op, other.schema, h.schema);
            on = reduce(&on, other.schema, h.schema);
        }
    }
    (h.positive_spans, h.positive_buckets) = collapse(&kahan_buckets(&hp, &op, &mut c.pos));
    (h.negative_spans, h.negative_buckets) = collapse(&kahan_buckets(&hn, &on, &mut c.neg));
    Ok(info)
}

/// A running sum or mean of histograms.
#[derive(Debug, Clone)]
pub(crate) struct HistAcc {
    value: FloatHistogram,
    c: Comp,
    count: f64,
    mean: Option<FloatHistogram>,
    /// Custom bucket bounds were reconciled on the way.
    pub reconciled: bool,
    /// Counter reset hints `CounterReset` and `NotCounterReset` collided.
    pub collision: bool,
}

impl HistAcc {
    pub(crate) fn new(h: &FloatHistogram) -> Self {
        HistAcc {
            value: h.clone(),
            c: Comp::default(),
            count: 1.0,
            mean: None,
            reconciled: false,
            collision: false,
        }
    }

    fn note(&mut self, i: AddInfo) {
        self.reconciled |= i.nhcb_bounds_reconciled;
        self.collision |= i.counter_reset_collision;
    }

    /// Adds `h` to the sum.
    pub(crate) fn add_sum(&mut self, h: &FloatHistogram) -> Result<(), IncompatibleSchema> {
        let i = kahan_add(&mut self.value, &mut self.c, h)?;
        self.note(i);
        Ok(())
    }

    /// Adds `h` to the mean (direct until the sum overflows, then incremental).
    pub(crate) fn add_avg(&mut self, h: &FloatHistogram) -> Result<(), IncompatibleSchema> {
        self.count += 1.0;
        let n = self.count;
        if self.mean.is_none() {
            let mut v = self.value.clone();
            let mut c = self.c.clone();
            let i = kahan_add(&mut v, &mut c, h)?;
            self.note(i);
            if !super::has_overflow(&v) {
                self.value = v;
                self.c = c;
                return Ok(());
            }
            let mut m = self.value.clone();
            div(&mut m, n - 1.0);
            self.c.scale(|x| x / (n - 1.0));
            self.mean = Some(m);
        }
        let q = (n - 1.0) / n;
        self.c.scale(|x| x * q);
        let mut to_add = h.clone();
        div(&mut to_add, n);
        let mut mean = self.mean.take().unwrap_or_default();
        mul(&mut mean, q);
        let r = kahan_add(&mut mean, &mut self.c, &to_add);
        self.mean = Some(mean);
        let i = r?;
        self.note(i);
        Ok(())
    }

    pub(crate) fn finish_sum(mut self) -> FloatHistogram {
        self.c.apply(&mut self.value);
        self.value
    }

    pub(crate) fn finish_avg(mut self) -> FloatHistogram {
        match self.mean.take() {
            Some(mut m) => {
                self.c.apply(&mut m);
                m
            }
            None => {
                let n = self.count;
                div(&mut self.value, n);
                self.c.scale(|x| x / n);
                self.c.apply(&mut self.value);
                self.value
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram {
            count,
            sum,
            ..Default::default()
        }
    }

    #[test]
    fn compensated_sum_and_incremental_mean() {
        let mut acc = HistAcc::new(&h(1.0, 1e100));
        for x in [h(1.0, 1.0), h(1.0, -1e100)] {
            acc.add_sum(&x).unwrap();
        }
        let s = acc.finish_sum();
        assert_eq!((s.count, s.sum), (3.0, 1.0));

        let mut acc = HistAcc::new(&h(f64::MAX, 0.0));
        acc.add_avg(&h(f64::MAX, 0.0)).unwrap();
        let a = acc.finish_avg();
        assert_eq!(a.count, f64::MAX);
    }
}
