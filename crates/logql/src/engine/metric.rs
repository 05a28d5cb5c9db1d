//! Metric queries: the expression tree evaluated step by step into a matrix
//! (series × steps), then returned as a matrix (range query), a vector or a
//! scalar (instant query).

use super::{range, Ctx, EvalError, Pairs, QueryParams, QueryResult, Sample, Series};
use crate::ast::*;
use regex::Regex;
use std::collections::HashMap;

/// The evaluation timestamps, ns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steps {
    start: i64,
    step: i64,
    n: usize,
}

impl Steps {
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    #[cfg(test)]
    pub(crate) fn new_for_test(start: i64, step: i64, n: usize) -> Steps {
        Steps { start, step, n }
    }

    pub(crate) fn step(&self) -> i64 {
        self.step
    }

    pub(crate) fn at(&self, i: usize) -> i64 {
        self.start + self.step * i as i64
    }

    /// The steps `t` with `t - range < ts <= t` (`ts` already shifted by the
    /// offset), as an inclusive index range.
    pub(crate) fn window_steps(&self, ts: i64, range: i64) -> Option<(usize, usize)> {
        if self.step == 0 {
            let t = self.start;
            return (ts <= t && ts > t - range).then_some((0, 0));
        }
        // smallest i with start + i*step >= ts
        let lo = if ts <= self.start {
            0
        } else {
            (ts - self.start + self.step - 1) / self.step
        };
        // largest i with start + i*step < ts + range
        let lim = ts + range - self.start; // need i*step < lim
        if lim <= 0 {
            return None;
        }
        let hi = (lim - 1) / self.step;
        let hi = hi.min(self.n as i64 - 1);
        if lo > hi || lo >= self.n as i64 {
            return None;
        }
        Some((lo as usize, hi as usize))
    }
}

/// One series: a value or nothing at each step.
#[derive(Debug, Clone)]
pub(crate) struct SeriesData {
    pub(crate) labels: Pairs,
    pub(crate) vals: Vec<Option<f64>>,
}

/// Series × steps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Matrix {
    pub(crate) series: Vec<SeriesData>,
}

enum Value {
    Scalar(f64),
    Vector(Matrix),
}

pub(crate) fn eval_query(
    ctx: &mut Ctx<'_>,
    expr: &MetricExpr,
    p: &QueryParams,
) -> Result<QueryResult, EvalError> {
    let steps = if p.instant {
        Steps {
            start: p.start_ns,
            step: 0,
            n: 1,
        }
    } else {
        if p.step_ns <= 0 {
            return Err(EvalError::BadQuery(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if p.end_ns < p.start_ns {
            return Err(EvalError::BadQuery(
                "end timestamp must not be before start time".into(),
            ));
        }
        let n = (p.end_ns - p.start_ns) / p.step_ns + 1;
        if n > super::MAX_POINTS_PER_SERIES {
            return Err(EvalError::BadQuery(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        Steps {
            start: p.start_ns,
            step: p.step_ns,
            n: n as usize,
        }
    };
    let v = eval(ctx, expr, &steps, 0)?;
    let max_series = ctx.opts.max_series;
    match v {
        Value::Scalar(x) => {
            if p.instant {
                Ok(QueryResult::Scalar {
                    t_ms: p.start_ns.div_euclid(1_000_000),
                    value: x,
                })
            } else {
                Ok(QueryResult::Matrix(vec![Series {
                    labels: Vec::new(),
                    points: (0..steps.len())
                        .map(|i| (steps.at(i).div_euclid(1_000_000), x))
                        .collect(),
                }]))
            }
        }
        Value::Vector(m) => {
            let present: Vec<SeriesData> = m
                .series
                .into_iter()
                .filter(|s| s.vals.iter().any(Option::is_some))
                .collect();
            if max_series > 0 && present.len() > max_series {
                return Err(EvalError::Limit(format!(
                    "maximum number of series ({max_series}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()"
                )));
            }
            if p.instant {
                let t_ms = p.start_ns.div_euclid(1_000_000);
                let mut v: Vec<Sample> = present
                    .into_iter()
                    .filter_map(|s| {
                        s.vals[0].map(|value| Sample {
                            labels: s.labels,
                            t_ms,
                            value,
                        })
                    })
                    .collect();
                match sort_order(expr) {
                    Some(desc) => v.sort_by(|a, b| {
                        let o = a
                            .value
                            .partial_cmp(&b.value)
                            .unwrap_or(std::cmp::Ordering::Equal);
                        let o = if desc { o.reverse() } else { o };
                        o.then_with(|| a.labels.cmp(&b.labels))
                    }),
                    None => v.sort_by(|a, b| a.labels.cmp(&b.labels)),
                }
                Ok(QueryResult::Vector(v))
            } else {
                let mut out: Vec<Series> = present
                    .into_iter()
                    .map(|s| Series {
                        labels: s.labels,
                        points: s
                            .vals
                            .iter()
                            .enumerate()
                            .filter_map(|(i, v)| v.map(|v| (steps.at(i).div_euclid(1_000_000), v)))
                            .collect(),
                    })
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                Ok(QueryResult::Matrix(out))
            }
        }
    }
}

/// `Some(descending)` when the query sorts by value (`sort`/`sort_desc`).
fn sort_order(e: &MetricExpr) -> Option<bool> {
    match e {
        MetricExpr::VectorAggregation(v) => match v.op {
            VectorOp::Sort => Some(false),
            VectorOp::SortDesc => Some(true),
            _ => sort_order(&v.expr),
        },
        MetricExpr::Binary(b) => sort_order(&b.lhs).or_else(|| sort_order(&b.rhs)),
        MetricExpr::LabelReplace(l) => sort_order(&l.expr),
        _ => None,
    }
}

fn eval(
    ctx: &mut Ctx<'_>,
    e: &MetricExpr,
    steps: &Steps,
    depth: usize,
) -> Result<Value, EvalError> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || eval_inner(ctx, e, steps, depth))
}

fn eval_inner(
    ctx: &mut Ctx<'_>,
    e: &MetricExpr,
    steps: &Steps,
    depth: usize,
) -> Result<Value, EvalError> {
    if depth > crate::MAX_DEPTH {
        return Err(EvalError::BadQuery("query nested too deeply".into()));
    }
    ctx.check_deadline()?;
    Ok(match e {
        MetricExpr::Literal(x) => Value::Scalar(*x),
        MetricExpr::Vector(x) => Value::Vector(Matrix {
            series: vec![SeriesData {
                labels: Vec::new(),
                vals: vec![Some(*x); steps.len()],
            }],
        }),
        MetricExpr::RangeAggregation(r) => Value::Vector(range::eval_range(ctx, r, steps, None)?),
        MetricExpr::VectorAggregation(v) => {
            if let (VectorOp::Sum, MetricExpr::RangeAggregation(r)) = (v.op, &v.expr) {
                if range::can_inject_grouping(r) {
                    let r: &RangeAggregation = r;
                    // `sum by (g)` of counts, rates or sums: the samples are
                    // grouped as they are extracted (as Loki does), then the
                    // sum below only sorts them into the same groups.
                    let by_none = Grouping {
                        without: false,
                        labels: Vec::new(),
                    };
                    let g = v.grouping.as_ref().unwrap_or(&by_none);
                    let inner = range::eval_range(ctx, r, steps, Some(g))?;
                    return Ok(Value::Vector(vector_agg(v, inner, steps.len())));
                }
            }
            let inner = match eval(ctx, &v.expr, steps, depth + 1)? {
                Value::Vector(m) => m,
                Value::Scalar(_) => {
                    return Err(EvalError::BadQuery(
                        "vector aggregation expects a vector, got a scalar".into(),
                    ))
                }
            };
            Value::Vector(vector_agg(v, inner, steps.len()))
        }
        MetricExpr::Binary(b) => {
            let l = eval(ctx, &b.lhs, steps, depth + 1)?;
            let r = eval(ctx, &b.rhs, steps, depth + 1)?;
            binary(b, l, r, steps.len())?
        }
        MetricExpr::LabelReplace(l) => {
            let m = match eval(ctx, &l.expr, steps, depth + 1)? {
                Value::Vector(m) => m,
                Value::Scalar(_) => {
                    return Err(EvalError::BadQuery("label_replace expects a vector".into()))
                }
            };
            Value::Vector(label_replace(l, m, steps.len())?)
        }
    })
}

fn group_key(labels: &Pairs, g: Option<&Grouping>) -> Pairs {
    match g {
        None => Vec::new(),
        Some(g) if g.without => labels
            .iter()
            .filter(|(n, _)| !g.labels.contains(n))
            .cloned()
            .collect(),
        Some(g) => labels
            .iter()
            .filter(|(n, _)| g.labels.contains(n))
            .cloned()
            .collect(),
    }
}

fn vector_agg(v: &VectorAggregation, m: Matrix, n: usize) -> Matrix {
    let mut series = m.series;
    // A fixed input order (Loki's is a map's): ties in topk keep the first.
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    match v.op {
        VectorOp::Sort | VectorOp::SortDesc => Matrix { series },
        VectorOp::Topk | VectorOp::Bottomk => {
            let k = v.param.unwrap_or(1).max(0) as usize;
            let top = v.op == VectorOp::Topk;
            let mut keep = vec![vec![None; n]; series.len()];
            let mut groups: HashMap<Pairs, Vec<usize>> = HashMap::new();
            for (i, s) in series.iter().enumerate() {
                groups
                    .entry(group_key(&s.labels, v.grouping.as_ref()))
                    .or_default()
                    .push(i);
            }
            for members in groups.values() {
                #[allow(clippy::needless_range_loop)]
                for step in 0..n {
                    let mut cand: Vec<(usize, f64)> = members
                        .iter()
                        .filter_map(|&i| series[i].vals[step].map(|x| (i, x)))
                        .collect();
                    // Stable sort: among equal values the earlier (by labels) wins.
                    cand.sort_by(|a, b| {
                        let (x, y) = (a.1, b.1);
                        match (x.is_nan(), y.is_nan()) {
                            (true, true) => std::cmp::Ordering::Equal,
                            (true, false) => std::cmp::Ordering::Greater,
                            (false, true) => std::cmp::Ordering::Less,
                            _ => {
                                let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                                if top {
                                    o.reverse()
                                } else {
                                    o
                                }
                            }
                        }
                    });
                    for (i, x) in cand.into_iter().take(k) {
                        keep[i][step] = Some(x);
                    }
                }
            }
            Matrix {
                series: series
                    .into_iter()
                    .zip(keep)
                    .map(|(s, vals)| SeriesData {
                        labels: s.labels,
                        vals,
                    })
                    .collect(),
            }
        }
        op => {
            #[derive(Clone, Copy, Default)]
            struct Acc {
                n: u64,
                a: f64,
                b: f64,
            }
            let mut groups: HashMap<Pairs, Vec<Acc>> = HashMap::new();
            for s in &series {
                let key = group_key(&s.labels, v.grouping.as_ref());
                let accs = groups.entry(key).or_insert_with(|| vec![Acc::default(); n]);
                for (i, x) in s.vals.iter().enumerate() {
                    let Some(x) = *x else { continue };
                    let a = &mut accs[i];
                    a.n += 1;
                    let cnt = a.n as f64;
                    match op {
                        VectorOp::Sum | VectorOp::Count => a.a += x,
                        VectorOp::Avg => {
                            if a.n == 1 {
                                a.a = x;
                            } else if a.a.is_infinite()
                                && (x.is_infinite() && (a.a > 0.0) == (x > 0.0) || x.is_finite())
                            {
                            } else {
                                a.a += x / cnt - a.a / cnt;
                            }
                        }
                        VectorOp::Min if a.n == 1 || x < a.a || a.a.is_nan() => a.a = x,
                        VectorOp::Max if a.n == 1 || x > a.a || a.a.is_nan() => a.a = x,
                        VectorOp::Stddev | VectorOp::Stdvar => {
                            let delta = x - a.a;
                            a.a += delta / cnt;
                            a.b += delta * (x - a.a);
                        }
                        _ => {}
                    }
                }
            }
            Matrix {
                series: groups
                    .into_iter()
                    .map(|(labels, accs)| SeriesData {
                        labels,
                        vals: accs
                            .iter()
                            .map(|a| {
                                (a.n > 0).then(|| match op {
                                    VectorOp::Count => a.n as f64,
                                    VectorOp::Stdvar => a.b / a.n as f64,
                                    VectorOp::Stddev => (a.b / a.n as f64).sqrt(),
                                    _ => a.a,
                                })
                            })
                            .collect(),
                    })
                    .collect(),
            }
        }
    }
}

fn arith(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Eq => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gt => (l, l > r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lt => (l, l < r),
        BinaryOp::Lte => (l, l <= r),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Unless => (l, true),
    }
}

/// The value of `l op r` for one pair: `None` when a comparison filters it.
fn elem(
    op: BinaryOp,
    l: f64,
    r: f64,
    return_bool: bool,
    keep_from_vector: Option<f64>,
) -> Option<f64> {
    let (v, keep) = arith(op, l, r);
    if op.is_comparison() {
        if return_bool {
            return Some(if keep { 1.0 } else { 0.0 });
        }
        return keep.then_some(keep_from_vector.unwrap_or(v));
    }
    Some(v)
}

fn signature(labels: &Pairs, m: Option<&VectorMatching>) -> Pairs {
    match m {
        Some(m) if m.on => labels
            .iter()
            .filter(|(n, _)| m.labels.contains(n))
            .cloned()
            .collect(),
        Some(m) => labels
            .iter()
            .filter(|(n, _)| !m.labels.contains(n))
            .cloned()
            .collect(),
        None => labels.clone(),
    }
}

fn binary(b: &BinaryExpr, l: Value, r: Value, n: usize) -> Result<Value, EvalError> {
    let op = b.op;
    match (l, r) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            let (v, keep) = arith(op, x, y);
            if op.is_comparison() {
                if b.return_bool {
                    return Ok(Value::Scalar(if keep { 1.0 } else { 0.0 }));
                }
                return Err(EvalError::BadQuery(
                    "comparisons between scalars must use BOOL modifier".into(),
                ));
            }
            Ok(Value::Scalar(v))
        }
        (Value::Vector(m), Value::Scalar(y)) => {
            if op.is_set_operator() {
                return Err(EvalError::BadQuery(
                    "set operator not allowed in binary scalar expression".into(),
                ));
            }
            Ok(Value::Vector(map_vals(m, |x| {
                elem(op, x, y, b.return_bool, Some(x))
            })))
        }
        (Value::Scalar(x), Value::Vector(m)) => {
            if op.is_set_operator() {
                return Err(EvalError::BadQuery(
                    "set operator not allowed in binary scalar expression".into(),
                ));
            }
            Ok(Value::Vector(map_vals(m, |y| {
                elem(op, x, y, b.return_bool, Some(y))
            })))
        }
        (Value::Vector(lm), Value::Vector(rm)) => Ok(Value::Vector(vector_binop(b, lm, rm, n)?)),
    }
}

fn map_vals(mut m: Matrix, f: impl Fn(f64) -> Option<f64>) -> Matrix {
    for s in &mut m.series {
        for v in &mut s.vals {
            *v = v.and_then(&f);
        }
    }
    m
}

fn vector_binop(b: &BinaryExpr, lm: Matrix, rm: Matrix, n: usize) -> Result<Matrix, EvalError> {
    let op = b.op;
    let matching = b.matching.as_ref();
    let lsig: Vec<Pairs> = lm
        .series
        .iter()
        .map(|s| signature(&s.labels, matching))
        .collect();
    let rsig: Vec<Pairs> = rm
        .series
        .iter()
        .map(|s| signature(&s.labels, matching))
        .collect();
    let mut out: HashMap<Pairs, Vec<Option<f64>>> = HashMap::new();
    let mut put = |labels: Pairs, step: usize, v: f64| -> Result<(), EvalError> {
        let vals = out.entry(labels).or_insert_with(|| vec![None; n]);
        if vals[step].is_some() {
            return Err(EvalError::BadQuery(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
            ));
        }
        vals[step] = Some(v);
        Ok(())
    };
    match op {
        BinaryOp::And | BinaryOp::Unless => {
            for step in 0..n {
                let right: std::collections::HashSet<&Pairs> = rm
                    .series
                    .iter()
                    .zip(&rsig)
                    .filter(|(s, _)| s.vals[step].is_some())
                    .map(|(_, g)| g)
                    .collect();
                for (s, g) in lm.series.iter().zip(&lsig) {
                    if let Some(v) = s.vals[step] {
                        if right.contains(g) == (op == BinaryOp::And) {
                            put(s.labels.clone(), step, v)?;
                        }
                    }
                }
            }
        }
        BinaryOp::Or => {
            for step in 0..n {
                let mut left = std::collections::HashSet::new();
                for (s, g) in lm.series.iter().zip(&lsig) {
                    if let Some(v) = s.vals[step] {
                        left.insert(g);
                        put(s.labels.clone(), step, v)?;
                    }
                }
                for (s, g) in rm.series.iter().zip(&rsig) {
                    if let Some(v) = s.vals[step] {
                        if !left.contains(g) {
                            put(s.labels.clone(), step, v)?;
                        }
                    }
                }
            }
        }
        _ => {
            let card = matching
                .map(|m| m.cardinality.clone())
                .unwrap_or(Cardinality::OneToOne);
            // "one" side is the right for one-to-one and group_left.
            let swap = matches!(card, Cardinality::OneToMany(_));
            let (many, many_sig, one, one_sig) = if swap {
                (&rm, &rsig, &lm, &lsig)
            } else {
                (&lm, &lsig, &rm, &rsig)
            };
            for step in 0..n {
                let mut ones: HashMap<&Pairs, (usize, f64)> = HashMap::new();
                for (i, (s, g)) in one.series.iter().zip(one_sig).enumerate() {
                    if let Some(v) = s.vals[step] {
                        if ones.insert(g, (i, v)).is_some() {
                            let side = if swap { "left" } else { "right" };
                            return Err(EvalError::BadQuery(format!(
                                "found duplicate series for the match group {} on the {side} hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side",
                                super::labels::pairs_string(g)
                            )));
                        }
                    }
                }
                let mut matched_one: std::collections::HashSet<&Pairs> =
                    std::collections::HashSet::new();
                for (s, g) in many.series.iter().zip(many_sig) {
                    let Some(mv) = s.vals[step] else { continue };
                    let Some(&(oi, ov)) = ones.get(g) else {
                        continue;
                    };
                    if matches!(card, Cardinality::OneToOne) && !matched_one.insert(g) {
                        return Err(EvalError::BadQuery(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                        ));
                    }
                    let (lv, rv) = if swap { (ov, mv) } else { (mv, ov) };
                    let Some(v) = elem(op, lv, rv, b.return_bool, None) else {
                        continue;
                    };
                    let labels = result_labels(
                        &s.labels,
                        &one.series[oi].labels,
                        matching,
                        &card,
                        op.is_comparison() && !b.return_bool,
                    );
                    put(labels, step, v)?;
                }
            }
        }
    }
    Ok(Matrix {
        series: out
            .into_iter()
            .map(|(labels, vals)| SeriesData { labels, vals })
            .collect(),
    })
}

fn result_labels(
    many: &Pairs,
    one: &Pairs,
    m: Option<&VectorMatching>,
    card: &Cardinality,
    _filter: bool,
) -> Pairs {
    let mut out = many.clone();
    match card {
        Cardinality::OneToOne => {
            if let Some(m) = m {
                if m.on {
                    out.retain(|(n, _)| m.labels.contains(n));
                } else {
                    out.retain(|(n, _)| !m.labels.contains(n));
                }
            }
        }
        Cardinality::ManyToOne(include) | Cardinality::OneToMany(include) => {
            for name in include {
                out.retain(|(n, _)| n != name);
                if let Some((_, v)) = one.iter().find(|(n, _)| n == name) {
                    out.push((name.clone(), v.clone()));
                }
            }
            out.sort();
        }
    }
    out
}

fn label_replace(l: &LabelReplace, m: Matrix, n: usize) -> Result<Matrix, EvalError> {
    let re = Regex::new(&format!("^(?s:{})$", l.regex)).map_err(|e| {
        EvalError::BadQuery(format!(
            "invalid regular expression in label_replace(): {e}"
        ))
    })?;
    let mut out: HashMap<Pairs, Vec<Option<f64>>> = HashMap::new();
    for s in m.series {
        let src = s
            .labels
            .iter()
            .find(|(k, _)| *k == l.src)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let mut labels = s.labels.clone();
        if let Some(c) = re.captures(src) {
            let mut value = String::new();
            c.expand(&l.replacement, &mut value);
            labels.retain(|(k, _)| *k != l.dst);
            if !value.is_empty() {
                labels.push((l.dst.clone(), value));
                labels.sort();
            }
        }
        let vals = out.entry(labels).or_insert_with(|| vec![None; n]);
        for (i, v) in s.vals.into_iter().enumerate() {
            if let Some(v) = v {
                if vals[i].is_some() {
                    return Err(EvalError::BadQuery(
                        "vector cannot contain metrics with the same labelset".into(),
                    ));
                }
                vals[i] = Some(v);
            }
        }
    }
    Ok(Matrix {
        series: out
            .into_iter()
            .map(|(labels, vals)| SeriesData { labels, vals })
            .collect(),
    })
}
