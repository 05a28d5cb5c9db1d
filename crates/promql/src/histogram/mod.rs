//! Native histogram arithmetic, following Prometheus's `model/histogram`
//! `FloatHistogram`: add/sub (with schema and zero-bucket reconciliation and
//! custom-bound intersection), scaling, compaction, counter reset detection
//! and bucket iteration. Buckets are handled as sorted `(index, count)` lists.

pub(crate) mod kahan;
pub(crate) mod quantile;
pub(crate) mod trim;

use argus_model::{CounterResetHint, FloatHistogram, Span, CUSTOM_BUCKETS_SCHEMA};

/// One bucket with its bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub count: f64,
    pub index: i32,
    /// The zero bucket of an exponential histogram.
    pub zero: bool,
}

/// Result flags of [`add`] / [`sub`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AddInfo {
    pub counter_reset_collision: bool,
    pub nhcb_bounds_reconciled: bool,
}

/// Adding exponential and custom-bucket histograms.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncompatibleSchema;

/// Buckets of spans as `(index, count)`.
pub(crate) fn expand(spans: &[Span], buckets: &[f64]) -> Vec<(i32, f64)> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut idx = 0i32;
    let mut bi = 0usize;
    for (si, s) in spans.iter().enumerate() {
        if si == 0 {
            idx = s.offset;
        } else {
            idx += s.offset;
        }
        for _ in 0..s.length {
            if bi >= buckets.len() {
                return out;
            }
            out.push((idx, buckets[bi]));
            bi += 1;
            idx += 1;
        }
    }
    out
}

/// Spans and counts of sorted `(index, count)` buckets: one span per run of consecutive indices.
pub(crate) fn collapse(items: &[(i32, f64)]) -> (Vec<Span>, Vec<f64>) {
    let mut spans: Vec<Span> = Vec::new();
    let mut counts = Vec::with_capacity(items.len());
    let mut last: Option<i32> = None;
    for &(i, c) in items {
        match last {
            Some(l) if i == l + 1 => {
                if let Some(s) = spans.last_mut() {
                    s.length += 1;
                }
            }
            Some(l) => spans.push(Span {
                offset: i - l - 1,
                length: 1,
            }),
            None => spans.push(Span {
                offset: i,
                length: 1,
            }),
        }
        counts.push(c);
        last = Some(i);
    }
    (spans, counts)
}

fn target_idx(idx: i32, from: i32, to: i32) -> i32 {
    ((idx - 1) >> (from - to).clamp(0, 31)) + 1
}

fn reduce(items: &[(i32, f64)], from: i32, to: i32) -> Vec<(i32, f64)> {
    let mut out: Vec<(i32, f64)> = Vec::with_capacity(items.len());
    for &(i, c) in items {
        let t = target_idx(i, from, to);
        match out.last_mut() {
            Some(l) if l.0 == t => l.1 += c,
            _ => out.push((t, c)),
        }
    }
    out
}

/// Union of the bucket layouts; counts of `b` added (or subtracted).
fn add_items(a: &[(i32, f64)], b: &[(i32, f64)], negate: bool) -> Vec<(i32, f64)> {
    let sign = if negate { -1.0 } else { 1.0 };
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i].0 < b[j].0) {
            out.push(a[i]);
            i += 1;
        } else if i >= a.len() || b[j].0 < a[i].0 {
            out.push((b[j].0, sign * b[j].1));
            j += 1;
        } else {
            out.push((a[i].0, a[i].1 + sign * b[j].1));
            i += 1;
            j += 1;
        }
    }
    out
}

/// Reduces the resolution of `h` to `schema` (exponential schemas only).
pub(crate) fn reduce_resolution(h: &mut FloatHistogram, schema: i32) {
    if h.uses_custom_buckets() || schema >= h.schema {
        return;
    }
    let p = reduce(
        &expand(&h.positive_spans, &h.positive_buckets),
        h.schema,
        schema,
    );
    let n = reduce(
        &expand(&h.negative_spans, &h.negative_buckets),
        h.schema,
        schema,
    );
    (h.positive_spans, h.positive_buckets) = collapse(&p);
    (h.negative_spans, h.negative_buckets) = collapse(&n);
    h.schema = schema;
}

fn adjust_counter_reset(h: &mut FloatHistogram, other: &FloatHistogram) -> bool {
    use CounterResetHint::*;
    let (a, b) = (h.counter_reset_hint, other.counter_reset_hint);
    if a == b || a == Gauge {
        return false;
    }
    if b == Gauge {
        h.counter_reset_hint = Gauge;
        return false;
    }
    if a == Unknown {
        return false;
    }
    h.counter_reset_hint = Unknown;
    b != Unknown
}

/// Upper bound of bucket `idx` (Prometheus's `getBound`).
pub(crate) fn bound(idx: i32, schema: i32, custom: &[f64]) -> f64 {
    if schema == CUSTOM_BUCKETS_SCHEMA {
        let len = custom.len() as i32;
        return if idx >= len {
            f64::INFINITY
        } else if idx < 0 {
            f64::NEG_INFINITY
        } else {
            custom[idx as usize]
        };
    }
    // Valid schemas are -4..=8; out-of-range ones must not overflow the shifts.
    let schema = schema.clamp(-20, 20);
    if schema < 0 {
        let exp = (idx as i64) << (-schema);
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_idx = idx & ((1 << schema) - 1);
    let exp = (idx >> schema) as i64 + 1;
    let frac = 2f64.powf(frac_idx as f64 / (1 << schema) as f64) / 2.0;
    if frac_idx == 0 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

fn ldexp(frac: f64, exp: i64) -> f64 {
    if exp > 1100 {
        return f64::INFINITY * frac;
    }
    if exp < -1100 {
        return 0.0;
    }
    let mut v = frac;
    let mut e = exp;
    while e > 1000 {
        v *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e as i32)
}

/// Positive (or negative) buckets with bounds, ascending by absolute value.
pub(crate) fn buckets(h: &FloatHistogram, positive: bool) -> Vec<Bucket> {
    let (spans, counts) = if positive {
        (&h.positive_spans, &h.positive_buckets)
    } else {
        (&h.negative_spans, &h.negative_buckets)
    };
    expand(spans, counts)
        .into_iter()
        .map(|(i, c)| {
            let up = bound(i, h.schema, &h.custom_values);
            let lo = bound(i - 1, h.schema, &h.custom_values);
            if positive {
                Bucket {
                    lower: lo,
                    upper: up,
                    count: c,
                    index: i,
                    zero: false,
                }
            } else {
                Bucket {
                    lower: -up,
                    upper: -lo,
                    count: c,
                    index: i,
                    zero: false,
                }
            }
        })
        .collect()
}

/// All buckets in ascending order of bounds (Prometheus's `AllBucketIterator`).
pub(crate) fn all_buckets(h: &FloatHistogram) -> Vec<Bucket> {
    let zt = h.zero_threshold;
    let clamp = |mut b: Bucket| {
        if b.upper < 0.0 && b.upper > -zt {
            b.upper = -zt;
        } else if b.lower > 0.0 && b.lower < zt {
            b.lower = zt;
        }
        b
    };
    let mut out: Vec<Bucket> = buckets(h, false).into_iter().rev().map(clamp).collect();
    if h.zero_count > 0.0 {
        out.push(Bucket {
            lower: -zt,
            upper: zt,
            count: h.zero_count,
            index: 0,
            zero: true,
        });
    }
    out.extend(buckets(h, true).into_iter().map(clamp));
    out
}

/// Zero count and threshold of `h` widened to at least `larger`.
fn zero_count_for_larger_threshold(h: &FloatHistogram, mut larger: f64) -> (f64, f64) {
    if larger == h.zero_threshold {
        return (h.zero_count, larger);
    }
    let pos = buckets(h, true);
    let neg = buckets(h, false);
    'outer: loop {
        let mut zc = h.zero_count;
        for b in &pos {
            if b.lower >= larger {
                break;
            }
            zc += b.count;
            if b.upper > larger {
                if b.count != 0.0 {
                    larger = b.upper;
                }
                break;
            }
        }
        for b in &neg {
            if b.upper <= -larger {
                break;
            }
            zc += b.count;
            if b.lower < -larger {
                if b.count != 0.0 {
                    larger = -b.lower;
                    continue 'outer;
                }
                break;
            }
        }
        return (zc, larger);
    }
}

fn trim_buckets_in_zero_bucket(h: &mut FloatHistogram) {
    let zt = h.zero_threshold;
    let pos: Vec<(i32, f64)> = buckets(h, true)
        .into_iter()
        .filter(|b| b.lower >= zt)
        .map(|b| (b.index, b.count))
        .collect();
    let neg: Vec<(i32, f64)> = buckets(h, false)
        .into_iter()
        .filter(|b| b.upper <= -zt)
        .map(|b| (b.index, b.count))
        .collect();
    (h.positive_spans, h.positive_buckets) = collapse(&pos);
    (h.negative_spans, h.negative_buckets) = collapse(&neg);
    compact(h);
}

fn reconcile_zero_buckets(h: &mut FloatHistogram, other: &FloatHistogram) -> f64 {
    let mut ozc = other.zero_count;
    let mut ozt = other.zero_threshold;
    let mut guard = 0;
    while ozt != h.zero_threshold && guard < 100 {
        guard += 1;
        if h.zero_threshold > ozt {
            (ozc, ozt) = zero_count_for_larger_threshold(other, h.zero_threshold);
        }
        if ozt > h.zero_threshold {
            let (zc, zt) = zero_count_for_larger_threshold(h, ozt);
            h.zero_count = zc;
            h.zero_threshold = zt;
            trim_buckets_in_zero_bucket(h);
        }
    }
    ozc
}

fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn map_custom(items: &[(i32, f64)], bounds: &[f64], target: &[f64], sign: f64, acc: &mut [f64]) {
    for &(i, c) in items {
        let t = if (i as usize) < bounds.len() && i >= 0 {
            let b = bounds[i as usize];
            target.iter().position(|&x| x >= b).unwrap_or(target.len())
        } else {
            target.len()
        };
        acc[t] += sign * c;
    }
}

/// Custom bounds equal (Prometheus's `CustomBucketBoundsMatch`).
pub(crate) fn custom_bounds_match(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn add_sub(
    h: &mut FloatHistogram,
    other: &FloatHistogram,
    negate: bool,
) -> Result<AddInfo, IncompatibleSchema> {
    if h.uses_custom_buckets() != other.uses_custom_buckets() {
        return Err(IncompatibleSchema);
    }
    let sign = if negate { -1.0 } else { 1.0 };
    let mut info = AddInfo {
        counter_reset_collision: adjust_counter_reset(h, other),
        ..Default::default()
    };
    if !h.uses_custom_buckets() {
        let ozc = reconcile_zero_buckets(h, other);
        h.zero_count += sign * ozc;
    }
    h.count += sign * other.count;
    h.sum += sign * other.sum;
    let hp = expand(&h.positive_spans, &h.positive_buckets);
    let op = expand(&other.positive_spans, &other.positive_buckets);
    if h.uses_custom_buckets() {
        if custom_bounds_match(&h.custom_values, &other.custom_values) {
            (h.positive_spans, h.positive_buckets) = collapse(&add_items(&hp, &op, negate));
        } else {
            info.nhcb_bounds_reconciled = true;
            let target = intersect_bounds(&h.custom_values, &other.custom_values);
            let mut acc = vec![0.0; target.len() + 1];
            map_custom(&hp, &h.custom_values, &target, 1.0, &mut acc);
            map_custom(&op, &other.custom_values, &target, sign, &mut acc);
            let items: Vec<(i32, f64)> = acc
                .iter()
                .enumerate()
                .filter(|(_, c)| **c != 0.0)
                .map(|(i, c)| (i as i32, *c))
                .collect();
            (h.positive_spans, h.positive_buckets) = collapse(&items);
            h.custom_values = target;
        }
        return Ok(info);
    }
    let mut hp = hp;
    let mut hn = expand(&h.negative_spans, &h.negative_buckets);
    let mut op = op;
    let mut on = expand(&other.negative_spans, &other.negative_buckets);
    if other.schema < h.schema {
        hp = reduce(&hp, h.schema, other.schema);
        hn = reduce(&hn, h.schema, other.schema);
        h.schema = other.schema;
    } else if other.schema > h.schema {
        op = reduce(&op, other.schema, h.schema);
        on = reduce(&on, other.schema, h.schema);
    }
    (h.positive_spans, h.positive_buckets) = collapse(&add_items(&hp, &op, negate));
    (h.negative_spans, h.negative_buckets) = collapse(&add_items(&hn, &on, negate));
    Ok(info)
}

/// `h += other` (Prometheus's `FloatHistogram.Add`).
pub(crate) fn add(
    h: &mut FloatHistogram,
    other: &FloatHistogram,
) -> Result<AddInfo, IncompatibleSchema> {
    add_sub(h, other, false)
}

/// `h -= other` (Prometheus's `FloatHistogram.Sub`).
pub(crate) fn sub(
    h: &mut FloatHistogram,
    other: &FloatHistogram,
) -> Result<AddInfo, IncompatibleSchema> {
    add_sub(h, other, true)
}

/// Scales all counts and the sum.
pub(crate) fn mul(h: &mut FloatHistogram, f: f64) {
    h.zero_count *= f;
    h.count *= f;
    h.sum *= f;
    h.positive_buckets.iter_mut().for_each(|b| *b *= f);
    h.negative_buckets.iter_mut().for_each(|b| *b *= f);
    if f < 0.0 {
        h.counter_reset_hint = CounterResetHint::Gauge;
    }
}

/// Divides all counts and the sum; division by zero drops the buckets.
pub(crate) fn div(h: &mut FloatHistogram, f: f64) {
    h.zero_count /= f;
    h.count /= f;
    h.sum /= f;
    if f == 0.0 {
        h.positive_buckets.clear();
        h.negative_buckets.clear();
        h.positive_spans.clear();
        h.negative_spans.clear();
        return;
    }
    h.positive_buckets.iter_mut().for_each(|b| *b /= f);
    h.negative_buckets.iter_mut().for_each(|b| *b /= f);
    if f < 0.0 {
        h.counter_reset_hint = CounterResetHint::Gauge;
    }
}

/// `Compact(0)`: removes empty buckets, one span per run of consecutive buckets.
pub(crate) fn compact(h: &mut FloatHistogram) {
    let p: Vec<(i32, f64)> = expand(&h.positive_spans, &h.positive_buckets)
        .into_iter()
        .filter(|b| b.1 != 0.0)
        .collect();
    let n: Vec<(i32, f64)> = expand(&h.negative_spans, &h.negative_buckets)
        .into_iter()
        .filter(|b| b.1 != 0.0)
        .collect();
    (h.positive_spans, h.positive_buckets) = collapse(&p);
    (h.negative_spans, h.negative_buckets) = collapse(&n);
}

fn detect_reset_items(curr: &[(i32, f64)], prev: &[(i32, f64)]) -> bool {
    let mut ci = 0;
    for &(pi, pc) in prev {
        while ci < curr.len() && curr[ci].0 < pi {
            ci += 1;
        }
        if ci < curr.len() && curr[ci].0 == pi {
            if curr[ci].1 < pc {
                return true;
            }
        } else if pc != 0.0 {
            return true;
        }
    }
    false
}

/// Whether `h` is a counter reset after `prev` (Prometheus's `DetectReset`).
pub(crate) fn detect_reset(h: &FloatHistogram, prev: &FloatHistogram) -> bool {
    match h.counter_reset_hint {
        CounterResetHint::CounterReset => return true,
        CounterResetHint::NotCounterReset => return false,
        _ => {}
    }
    if h.count < prev.count {
        return true;
    }
    if h.uses_custom_buckets() {
        if !prev.uses_custom_buckets() {
            return true;
        }
        if !custom_bounds_match(&h.custom_values, &prev.custom_values) {
            return reset_mismatched_custom(h, prev);
        }
    }
    if h.schema > prev.schema {
        return true;
    }
    if h.zero_threshold < prev.zero_threshold {
        return true;
    }
    let (pzc, nt) = zero_count_for_larger_threshold(prev, h.zero_threshold);
    if nt != h.zero_threshold || h.zero_count < pzc {
        return true;
    }
    let zt = h.zero_threshold;
    for positive in [true, false] {
        let sel = |x: &FloatHistogram| -> Vec<(i32, f64)> {
            let items: Vec<(i32, f64)> = buckets(x, positive)
                .into_iter()
                .filter(|b| x.uses_custom_buckets() || b.upper.abs().max(b.lower.abs()) > zt)
                .map(|b| (b.index, b.count))
                .collect();
            if x.uses_custom_buckets() || x.schema == h.schema {
                items
            } else {
                reduce(&items, x.schema, h.schema)
            }
        };
        if detect_reset_items(&sel(h), &sel(prev)) {
            return true;
        }
    }
    false
}

fn reset_mismatched_custom(h: &FloatHistogram, prev: &FloatHistogram) -> bool {
    let target = intersect_bounds(&h.custom_values, &prev.custom_values);
    let mut a = vec![0.0; target.len() + 1];
    let mut b = vec![0.0; target.len() + 1];
    map_custom(
        &expand(&h.positive_spans, &h.positive_buckets),
        &h.custom_values,
        &target,
        1.0,
        &mut a,
    );
    map_custom(
        &expand(&prev.positive_spans, &prev.positive_buckets),
        &prev.custom_values,
        &target,
        1.0,
        &mut b,
    );
    a.iter().zip(&b).any(|(x, y)| x < y)
}

/// Whether any count or the sum is infinite... (Prometheus's `HasOverflow`).
pub(crate) fn has_overflow(h: &FloatHistogram) -> bool {
    h.count.is_infinite()
        || h.zero_count.is_infinite()
        || h.positive_buckets.iter().any(|b| b.is_infinite())
        || h.negative_buckets.iter().any(|b| b.is_infinite())
}

/// Exact equality (Prometheus's `FloatHistogram.Equals`), layouts compared after compaction.
pub(crate) fn equals(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let (mut x, mut y) = (a.clone(), b.clone());
    compact(&mut x);
    compact(&mut y);
    x.schema == y.schema
        && x.count.to_bits() == y.count.to_bits()
        && x.sum.to_bits() == y.sum.to_bits()
        && x.zero_threshold == y.zero_threshold
        && x.zero_count.to_bits() == y.zero_count.to_bits()
        && x.positive_spans == y.positive_spans
        && x.negative_spans == y.negative_spans
        && x.positive_buckets == y.positive_buckets
        && x.negative_buckets == y.negative_buckets
        && (!x.uses_custom_buckets() || custom_bounds_match(&x.custom_values, &y.custom_values))
}

/// Go's `FloatHistogram.String()`: `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (1,2]:2}`.
pub(crate) fn to_go_string(h: &FloatHistogram) -> String {
    use crate::annotations::fmt_g;
    let mut out = format!("{{count:{}, sum:{}", fmt_g(h.count), fmt_g(h.sum));
    let fmt_bucket = |b: &Bucket, li: bool, ui: bool| {
        format!(
            ", {}{},{}{}:{}",
            if li { '[' } else { '(' },
            fmt_g(b.lower),
            fmt_g(b.upper),
            if ui { ']' } else { ')' },
            fmt_g(b.count)
        )
    };
    let custom = h.uses_custom_buckets();
    let incl = |b: &Bucket| {
        if custom {
            (b.index == 0, true)
        } else {
            (b.lower < 0.0, b.upper > 0.0)
        }
    };
    for b in buckets(h, false).iter().rev().filter(|b| b.count != 0.0) {
        let (li, ui) = incl(b);
        out.push_str(&fmt_bucket(b, li, ui));
    }
    if h.zero_count != 0.0 {
        let z = Bucket {
            lower: -h.zero_threshold,
            upper: h.zero_threshold,
            count: h.zero_count,
            index: 0,
            zero: true,
        };
        out.push_str(&fmt_bucket(&z, true, true));
    }
    for b in buckets(h, true).iter().filter(|b| b.count != 0.0) {
        let (li, ui) = incl(b);
        out.push_str(&fmt_bucket(b, li, ui));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(schema: i32, offset: i32, b: &[f64]) -> FloatHistogram {
        FloatHistogram {
            schema,
            count: b.iter().sum(),
            positive_spans: vec![Span {
                offset,
                length: b.len() as u32,
            }],
            positive_buckets: b.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn add_merges_layouts_and_schemas() {
        let mut a = h(1, 0, &[1.0, 2.0]);
        add(&mut a, &h(0, 2, &[4.0])).unwrap();
        assert_eq!(a.schema, 0);
        assert_eq!(
            expand(&a.positive_spans, &a.positive_buckets),
            vec![(0, 1.0), (1, 2.0), (2, 4.0)]
        );
        assert_eq!(a.count, 7.0);
    }

    #[test]
    fn bounds() {
        assert_eq!(bound(1, 0, &[]), 2.0);
        assert_eq!(bound(0, 0, &[]), 1.0);
        assert_eq!(bound(-1, 0, &[]), 0.5);
        assert!((bound(1, 1, &[]) - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(bound(1, -1, &[]), 4.0);
    }

    proptest::proptest! {
        #[test]
        fn add_then_sub_restores_buckets(
            a in proptest::collection::vec(0u8..10, 0..6),
            b in proptest::collection::vec(0u8..10, 0..6),
            oa in -3i32..3,
            ob in -3i32..3,
            sa in 0i32..3,
            sb in 0i32..3,
        ) {
            let fa: Vec<f64> = a.iter().map(|x| f64::from(*x)).collect();
            let fb: Vec<f64> = b.iter().map(|x| f64::from(*x)).collect();
            let (x, y) = (h(sa, oa, &fa), h(sb, ob, &fb));
            let mut sum = x.clone();
            add(&mut sum, &y).unwrap();
            proptest::prop_assert_eq!(sum.count, x.count + y.count);
            proptest::prop_assert_eq!(sum.schema, sa.min(sb));
            let total: f64 = sum.positive_buckets.iter().sum();
            proptest::prop_assert_eq!(total, x.count + y.count);
            sub(&mut sum, &y).unwrap();
            let mut want = x.clone();
            reduce_resolution(&mut want, sa.min(sb));
            compact(&mut want);
            compact(&mut sum);
            proptest::prop_assert_eq!(sum.positive_buckets, want.positive_buckets);
            proptest::prop_assert_eq!(sum.positive_spans, want.positive_spans);
        }
    }

    #[test]
    fn resets() {
        assert!(detect_reset(&h(0, 0, &[1.0, 1.0]), &h(0, 0, &[2.0, 0.0])));
        assert!(!detect_reset(&h(0, 0, &[2.0, 1.0]), &h(0, 0, &[2.0, 0.0])));
    }
}
