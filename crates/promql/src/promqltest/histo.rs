//! Native histograms in the runner: comparison as Prometheus's `test.go` does
//! it, the test notation for messages, and `load_with_nhcb` conversion of
//! classic histograms into native histograms with custom buckets.

use std::collections::BTreeMap;

use argus_model::{FloatHistogram, Labels, Span, CUSTOM_BUCKETS_SCHEMA, METRIC_NAME};

use super::run::almost_equal;
use super::series_notation::SeqValue;
use crate::histogram::{compact, custom_bounds_match, expand};

fn buckets_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| almost_equal(*x, *y))
}

/// `compareNativeHistogram` on compacted copies.
pub(super) fn histograms_match(exp: &FloatHistogram, cur: &FloatHistogram, hint_set: bool) -> bool {
    let (mut e, mut c) = (exp.clone(), cur.clone());
    compact(&mut e);
    compact(&mut c);
    if e.schema != c.schema || !almost_equal(e.count, c.count) || !almost_equal(e.sum, c.sum) {
        return false;
    }
    if e.uses_custom_buckets() && !custom_bounds_match(&e.custom_values, &c.custom_values) {
        return false;
    }
    if e.zero_threshold != c.zero_threshold || !almost_equal(e.zero_count, c.zero_count) {
        return false;
    }
    if e.negative_spans != c.negative_spans
        || !buckets_match(&e.negative_buckets, &c.negative_buckets)
    {
        return false;
    }
    if e.positive_spans != c.positive_spans
        || !buckets_match(&e.positive_buckets, &c.positive_buckets)
    {
        return false;
    }
    !hint_set || e.counter_reset_hint == c.counter_reset_hint
}

fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The histogram in the test notation (for failure messages).
pub(super) fn fmt_histogram(h: &FloatHistogram) -> String {
    let mut parts = vec![
        format!("schema:{}", h.schema),
        format!("count:{}", h.count),
        format!("sum:{}", h.sum),
    ];
    if h.zero_count != 0.0 {
        parts.push(format!("z_bucket:{}", h.zero_count));
    }
    if h.zero_threshold != 0.0 {
        parts.push(format!("z_bucket_w:{}", h.zero_threshold));
    }
    let p = expand(&h.positive_spans, &h.positive_buckets);
    if !p.is_empty() {
        parts.push(format!("buckets:{:?}", p));
    }
    let n = expand(&h.negative_spans, &h.negative_buckets);
    if !n.is_empty() {
        parts.push(format!("n_buckets:{:?}", n));
    }
    if !h.custom_values.is_empty() {
        parts.push(format!("custom_values:[{}]", list(&h.custom_values)));
    }
    parts.push(format!("counter_reset_hint:{:?}", h.counter_reset_hint));
    format!("{{{{{}}}}}", parts.join(" "))
}

#[derive(Default, Clone)]
struct Temp {
    buckets: Vec<(f64, f64)>,
    count: f64,
    has_count: bool,
    sum: f64,
    err: bool,
}

impl Temp {
    fn set_bucket(&mut self, le: f64, c: f64) {
        if self.err {
            return;
        }
        if c < 0.0 {
            self.err = true;
            return;
        }
        let i = self.buckets.partition_point(|b| b.0 < le);
        if i < self.buckets.len() && self.buckets[i].0 == le {
            return;
        }
        if (i > 0 && c < self.buckets[i - 1].1) || (i < self.buckets.len() && c > self.buckets[i].1)
        {
            self.err = true;
            return;
        }
        self.buckets.insert(i, (le, c));
    }

    fn convert(mut self) -> Option<FloatHistogram> {
        if self.err {
            return None;
        }
        if !self.has_count && !self.buckets.is_empty() {
            self.count = self.buckets[self.buckets.len() - 1].1;
        }
        if self.buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
            self.buckets.push((f64::INFINITY, self.count));
        }
        let integer =
            self.buckets.iter().all(|b| b.1 == b.1.round()) && self.count == self.count.round();
        if self.count != self.buckets[self.buckets.len() - 1].1 {
            return None;
        }
        let mut prev = 0.0;
        let mut items = Vec::new();
        for (i, b) in self.buckets.iter().enumerate() {
            items.push((i as i32, b.1 - prev));
            prev = b.1;
        }
        let n = self.buckets.len();
        let keep = if integer { 2 } else { 0 };
        let (positive_spans, positive_buckets) = compact_items(&items, keep);
        Some(FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: self.count,
            sum: self.sum,
            positive_spans,
            positive_buckets,
            custom_values: self.buckets[..n - 1].iter().map(|b| b.0).collect(),
            ..Default::default()
        })
    }
}

/// `Compact(max_empty)` of one contiguous run of buckets.
fn compact_items(items: &[(i32, f64)], max_empty: i32) -> (Vec<Span>, Vec<f64>) {
    let nz: Vec<(i32, f64)> = items.iter().copied().filter(|b| b.1 != 0.0).collect();
    let mut full: Vec<(i32, f64)> = Vec::new();
    for (k, &(i, c)) in nz.iter().enumerate() {
        if k > 0 {
            let prev = nz[k - 1].0;
            if i - prev - 1 <= max_empty {
                for j in prev + 1..i {
                    full.push((j, 0.0));
                }
            }
        }
        full.push((i, c));
    }
    crate::histogram::collapse(&full)
}

/// NHCB series converted from the classic histograms among `series`
/// (`_bucket`, `_count` and `_sum` series with the same base labels).
pub(super) fn nhcb_series(
    series: &[(Labels, Vec<SeqValue>)],
    interval_ms: i64,
) -> Vec<(Labels, Vec<(i64, FloatHistogram)>)> {
    let mut map: BTreeMap<Labels, BTreeMap<i64, Temp>> = BTreeMap::new();
    for (labels, vals) in series {
        let name = labels.metric_name().unwrap_or("");
        let (kind, base) = if let Some(b) = name.strip_suffix("_bucket") {
            (0, b)
        } else if let Some(b) = name.strip_suffix("_count") {
            (1, b)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (2, b)
        } else {
            continue;
        };
        let le = if kind == 0 {
            match labels
                .get("le")
                .and_then(crate::functions::histogram::parse_le)
            {
                Some(le) if !le.is_nan() => le,
                _ => continue,
            }
        } else {
            0.0
        };
        let mut b = labels.builder();
        b.set(METRIC_NAME, base.to_string());
        b.del("le");
        let entry = map.entry(b.build()).or_default();
        for (i, v) in vals.iter().enumerate() {
            let f = match v {
                SeqValue::Value(f) => *f,
                SeqValue::Stale => argus_model::STALE_NAN,
                _ => continue,
            };
            let t = entry.entry(i as i64 * interval_ms).or_default();
            match kind {
                0 => t.set_bucket(le, f),
                1 => {
                    if !t.err {
                        if f < 0.0 {
                            t.err = true;
                        } else {
                            t.count = f;
                            t.has_count = true;
                        }
                    }
                }
                _ => t.sum = f,
            }
        }
    }
    map.into_iter()
        .map(|(l, by_t)| {
            let hs = by_t
                .into_iter()
                .filter_map(|(t, tmp)| tmp.convert().map(|h| (t, h)))
                .collect();
            (l, hs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promqltest::series_notation::{parse_series_desc, parse_values};

    #[test]
    fn converts_classic_histograms_to_nhcb() {
        let series: Vec<(Labels, Vec<SeqValue>)> = [
            r#"m_bucket{le="1"} 1 2"#,
            r#"m_bucket{le="2"} 3 3"#,
            r#"m_bucket{le="+Inf"} 4 6"#,
            r#"m_sum 10 20"#,
        ]
        .iter()
        .map(|l| parse_series_desc(l).unwrap())
        .collect();
        let got = nhcb_series(&series, 60_000);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.metric_name(), Some("m"));
        let (t, h) = &got[0].1[1];
        assert_eq!(*t, 60_000);
        assert_eq!((h.count, h.sum), (6.0, 20.0));
        assert_eq!(h.custom_values, vec![1.0, 2.0]);
        assert_eq!(
            expand(&h.positive_spans, &h.positive_buckets),
            vec![(0, 2.0), (1, 1.0), (2, 3.0)]
        );
    }

    #[test]
    fn histogram_notation_expands_and_compares() {
        let v =
            parse_values("{{schema:0 count:1 buckets:[1]}}+{{count:2 buckets:[0 2]}}x2").unwrap();
        assert_eq!(v.len(), 3);
        let SeqValue::Histogram(last, hint_set) = &v[2] else {
            panic!("expected a histogram")
        };
        assert!(!hint_set);
        assert_eq!(last.count, 5.0);
        assert_eq!(
            expand(&last.positive_spans, &last.positive_buckets),
            vec![(0, 1.0), (1, 4.0)]
        );
        let SeqValue::Histogram(first, _) = &v[0] else {
            panic!("expected a histogram")
        };
        assert!(histograms_match(first, first, true));
        assert!(!histograms_match(first, last, false));
    }
}
