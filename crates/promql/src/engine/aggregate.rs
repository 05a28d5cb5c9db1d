//! Aggregation operators.

use std::collections::HashMap;
use std::sync::Arc;

use argus_model::{CounterResetHint, FloatHistogram};

use argus_model::{Labels, LabelsBuilder, Sample, METRIC_NAME};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};

use super::{
    exec_err, ArgVal, EResult, ESeries, Evaluator, HPoint, SeriesCollector, StepReader, StepSample,
};
use crate::annotations::fmt_g;
use crate::functions::{go_sort, kahan_inc, quantile};
use crate::histogram as hist;
use crate::histogram::kahan::HistAcc;

/// Go's `math.Max`/`math.Min`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

struct Params {
    values: Vec<f64>,
    constant: Option<f64>,
    min: f64,
    max: f64,
    any_nan: bool,
}

impl Params {
    fn at(&self, step: usize) -> f64 {
        self.constant
            .or_else(|| self.values.get(step).copied())
            .unwrap_or(0.0)
    }
}

/// Grouping key and output labels of a series (Prometheus's `generateGroupingKey`/`Labels`).
pub(crate) fn grouping_labels(l: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        Labels::from_sorted_unchecked(
            l.iter()
                .filter(|lb| lb.name != METRIC_NAME && !grouping.contains(&lb.name))
                .cloned()
                .collect(),
        )
    } else {
        Labels::from_sorted_unchecked(
            l.iter()
                .filter(|lb| grouping.contains(&lb.name))
                .cloned()
                .collect(),
        )
    }
}

#[derive(Clone, Default)]
struct Group {
    seen: bool,
    value: f64,
    mean: f64,
    kahan_c: f64,
    count: f64,
    incremental_mean: bool,
    drop_name: bool,
    heap: Vec<f64>,
    hacc: Option<HistAcc>,
    has_float: bool,
    has_hist: bool,
    incompatible: bool,
    reset_seen: bool,
    not_reset_seen: bool,
}

impl Group {
    fn track_hint(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset_seen = true,
            CounterResetHint::NotCounterReset => self.not_reset_seen = true,
            _ => {}
        }
    }

    /// The group's first float `f` under aggregation `op`.
    fn start(op: &str, f: f64, drop_name: bool) -> Group {
        let mut g = Group {
            seen: true,
            value: f,
            mean: f,
            count: 1.0,
            drop_name,
            has_float: true,
            ..Default::default()
        };
        match op {
            "stddev" | "stdvar" => {
                g.value = if f.is_nan() || f.is_infinite() {
                    f64::NAN
                } else {
                    0.0
                }
            }
            "quantile" => g.heap = vec![f],
            "group" => g.value = 1.0,
            _ => {}
        }
        g
    }

    /// Adds a later float `f` (Prometheus's `aggregation` loop body).
    fn add_float(&mut self, op: &str, f: f64) {
        match op {
            "sum" => (self.value, self.kahan_c) = kahan_inc(f, self.value, self.kahan_c),
            "avg" => {
                self.count += 1.0;
                if !self.incremental_mean {
                    let (nv, nc) = kahan_inc(f, self.value, self.kahan_c);
                    if !nv.is_infinite() {
                        self.value = nv;
                        self.kahan_c = nc;
                        return;
                    }
                    self.incremental_mean = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.kahan_c /= self.count - 1.0;
                }
                let q = (self.count - 1.0) / self.count;
                (self.mean, self.kahan_c) =
                    kahan_inc(f / self.count, q * self.mean, q * self.kahan_c);
            }
            "max" if self.value < f || self.value.is_nan() => self.value = f,
            "min" if self.value > f || self.value.is_nan() => self.value = f,
            "count" => self.count += 1.0,
            "stddev" | "stdvar" => {
                self.count += 1.0;
                let delta = f - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (f - self.mean);
            }
            "quantile" => self.heap.push(f),
            _ => {}
        }
    }

    /// The group's float result (`param` is `quantile`'s φ).
    fn float_result(&mut self, op: &str, param: f64) -> f64 {
        match op {
            "avg" if self.incremental_mean => self.mean + self.kahan_c,
            "avg" => self.value / self.count + self.kahan_c / self.count,
            "count" => self.count,
            "stdvar" => self.value / self.count,
            "stddev" => (self.value / self.count).sqrt(),
            "quantile" => quantile(param, &mut self.heap),
            "sum" => self.value + self.kahan_c,
            _ => self.value,
        }
    }
}

/// Input series mapped to their groups: each series' group index, and each
/// group's output labels in order of first appearance.
fn group_series(
    input: &[ESeries],
    grouping: &[String],
    without: bool,
) -> (Vec<usize>, Vec<Labels>) {
    let mut group_index: HashMap<Labels, usize> = HashMap::new();
    let mut series_group = Vec::with_capacity(input.len());
    let mut group_labels: Vec<Labels> = Vec::new();
    for s in input {
        let key = grouping_labels(&s.labels, grouping, without);
        let idx = match group_index.get(&key) {
            Some(&i) => i,
            None => {
                let i = group_labels.len();
                group_index.insert(key.clone(), i);
                group_labels.push(key);
                i
            }
        };
        series_group.push(idx);
    }
    (series_group, group_labels)
}

/// Formats a float like Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(crate) fn format_float_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval_aggregate(&self, a: &AggregateExpr, e: &Expr) -> EResult<Vec<ESeries>> {
        let agg_pos = self.ctx.pos(e);
        let expr_pos = self.ctx.pos(&a.expr);
        let op = a.op.to_string().to_lowercase();
        let (without, mut grouping) = match &a.modifier {
            Some(LabelModifier::Include(l)) => (false, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (true, l.labels.clone()),
            None => (false, Vec::new()),
        };
        grouping.sort();
        if op == "count_values" {
            return self.eval_count_values(a, grouping, without);
        }
        let params = match &a.param {
            Some(p) => Some(self.eval_params(p)?),
            None => None,
        };
        let input = self.eval_vector(&a.expr)?;
        let param_pos = a
            .param
            .as_deref()
            .map(|p| self.ctx.pos(p))
            .unwrap_or_default();
        if let Some(p) = &params {
            if !self.check_params(&op, p, &param_pos)? {
                return Ok(Vec::new());
            }
        }
        let is_k = matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio");
        let (series_group, group_labels) = group_series(&input, &grouping, without);
        let steps = self.steps();
        let single = steps.len() == 1;
        let mut reader = StepReader::new(&input);
        let mut out_series: Vec<ESeries> = group_labels
            .iter()
            .map(|l| ESeries {
                hists: Vec::new(),
                labels: l.clone().into(),
                drop_name: false,
                points: Vec::new(),
            })
            .collect();
        let mut k_out = SeriesCollector::new();
        let mut single_k: Vec<ESeries> = Vec::new();
        for (step, &ts) in steps.iter().enumerate() {
            self.ctx.check_deadline()?;
            let param = params.as_ref().map(|p| p.at(step)).unwrap_or(0.0);
            let vals: Vec<Option<f64>> = (0..input.len()).map(|i| reader.value(i, ts)).collect();
            let hvals: Vec<Option<Arc<FloatHistogram>>> = (0..input.len())
                .map(|i| {
                    if vals[i].is_some() {
                        None
                    } else {
                        reader.hist(i, ts)
                    }
                })
                .collect();
            if is_k {
                let res = self.aggregate_k(
                    &op,
                    param,
                    &input,
                    (&vals, &hvals),
                    &series_group,
                    group_labels.len(),
                    &agg_pos,
                );
                for s in res {
                    if single {
                        single_k.push(ESeries::from_step(s, ts));
                    } else {
                        k_out.add(ts, s)?;
                    }
                }
                continue;
            }
            let mut groups = vec![Group::default(); group_labels.len()];
            let ignored = |what: &str| {
                self.ctx.annos.info(format!(
                    "ignored histogram in {what} aggregation {expr_pos}"
                ));
            };
            for si in 0..input.len() {
                let h = hvals[si].as_deref();
                let f = match (vals[si], h) {
                    (Some(f), _) => f,
                    (None, Some(_)) => 0.0,
                    (None, None) => continue,
                };
                let g = &mut groups[series_group[si]];
                if let Some(h) = h {
                    if self.aggregate_hist(
                        &op,
                        g,
                        h,
                        input[si].drop_name,
                        &input[si].labels,
                        &expr_pos,
                        &ignored,
                    ) {
                        continue;
                    }
                }
                if !g.seen {
                    *g = Group::start(&op, f, input[si].drop_name);
                    continue;
                }
                if g.incompatible {
                    continue;
                }
                g.has_float = true;
                if input[si].drop_name {
                    g.drop_name = true;
                }
                g.add_float(&op, f);
            }
            for (gi, g) in groups.iter_mut().enumerate() {
                if !g.seen {
                    continue;
                }
                if g.reset_seen && g.not_reset_seen {
                    self.ctx.annos.warn(format!(
                        "conflicting counter resets during histogram aggregation {expr_pos}"
                    ));
                }
                if matches!(op.as_str(), "sum" | "avg") && g.has_hist {
                    if g.has_float {
                        self.ctx.annos.warn(format!(
                            "encountered a mix of histograms and floats for aggregation {expr_pos}"
                        ));
                        continue;
                    }
                    if g.incompatible {
                        continue;
                    }
                    let Some(acc) = g.hacc.take() else { continue };
                    let mut h = if op == "avg" {
                        acc.finish_avg()
                    } else {
                        acc.finish_sum()
                    };
                    hist::compact(&mut h);
                    out_series[gi].hists.push(HPoint {
                        t: ts,
                        h: Arc::new(h),
                    });
                    out_series[gi].drop_name = g.drop_name;
                    continue;
                }
                let v = g.float_result(&op, param);
                out_series[gi].points.push(Sample::new(ts, v));
                out_series[gi].drop_name = g.drop_name;
            }
        }
        if is_k {
            return Ok(if single { single_k } else { k_out.series });
        }
        let out: Vec<ESeries> = out_series.into_iter().filter(|s| !s.is_empty()).collect();
        let n: usize = out.iter().map(|s| s.len()).sum();
        self.ctx.add_samples(n)?;
        Ok(out)
    }

    /// Validates an aggregation's parameter over all steps as Prometheus
    /// does (errors, annotations); false when the result is empty anyway
    /// (`topk(0, …)`, `limit_ratio(0, …)`).
    fn check_params(&self, op: &str, p: &Params, param_pos: &str) -> EResult<bool> {
        match op {
            "topk" | "bottomk" | "limitk" => {
                if p.max < 1.0 {
                    return Ok(false);
                }
                if p.any_nan {
                    return Err(exec_err("Parameter value is NaN"));
                }
                if p.min <= i64::MIN as f64 {
                    return Err(exec_err(format!(
                        "Scalar value {} underflows int64",
                        fmt_g(p.min)
                    )));
                }
                if p.max >= i64::MAX as f64 {
                    return Err(exec_err(format!(
                        "Scalar value {} overflows int64",
                        fmt_g(p.max)
                    )));
                }
            }
            "limit_ratio" => {
                if p.max == 0.0 && p.min == 0.0 {
                    return Ok(false);
                }
                if p.any_nan {
                    return Err(exec_err("Ratio value is NaN"));
                }
                if p.max > 1.0 {
                    self.ctx.annos.warn(format!(
                        "ratio value should be between -1 and 1, got {}, capping to 1 {param_pos}",
                        fmt_g(p.max)
                    ));
                }
                if p.min < -1.0 {
                    self.ctx.annos.warn(format!(
                        "ratio value should be between -1 and 1, got {}, capping to -1 {param_pos}",
                        fmt_g(p.min)
                    ));
                }
            }
            "quantile" => {
                if p.any_nan {
                    self.ctx.annos.warn(format!(
                        "quantile value should be between 0 and 1, got NaN {param_pos}"
                    ));
                }
                if p.max > 1.0 {
                    self.ctx.annos.warn(format!(
                        "quantile value should be between 0 and 1, got {} {param_pos}",
                        fmt_g(p.max)
                    ));
                }
                if p.min < 0.0 {
                    self.ctx.annos.warn(format!(
                        "quantile value should be between 0 and 1, got {} {param_pos}",
                        fmt_g(p.min)
                    ));
                }
            }
            _ => {}
        }
        Ok(true)
    }

    fn eval_params(&self, p: &Expr) -> EResult<Params> {
        let constant = match p {
            Expr::NumberLiteral(n) => Some(n.val),
            _ => None,
        };
        let series = self.eval_vector(p)?;
        let values: Vec<f64> = series
            .first()
            .map(|s| s.points.iter().map(|p| p.v).collect())
            .unwrap_or_default();
        if let Some(c) = constant {
            return Ok(Params {
                values,
                constant: Some(c),
                min: c,
                max: c,
                any_nan: c.is_nan(),
            });
        }
        let mut pr = Params {
            values,
            constant: None,
            min: f64::MAX,
            max: -f64::MAX,
            any_nan: false,
        };
        for &v in &pr.values {
            pr.max = go_max(pr.max, v);
            pr.min = go_min(pr.min, v);
            pr.any_nan |= v.is_nan();
        }
        if pr.values.is_empty() {
            pr.min = 0.0;
            pr.max = 0.0;
        }
        Ok(pr)
    }

    /// Adds a histogram sample to a group; false when the sample is to be
    /// handled as a float (count, group).
    #[allow(clippy::too_many_arguments)]
    fn aggregate_hist(
        &self,
        op: &str,
        g: &mut Group,
        h: &FloatHistogram,
        drop_name: bool,
        labels: &Labels,
        expr_pos: &str,
        ignored: &dyn Fn(&str),
    ) -> bool {
        match op {
            "sum" | "avg" => {
                if !g.seen {
                    *g = Group {
                        seen: true,
                        count: 1.0,
                        drop_name,
                        hacc: Some(HistAcc::new(h)),
                        has_hist: true,
                        ..Default::default()
                    };
                    g.track_hint(h);
                    return true;
                }
                if g.incompatible {
                    return true;
                }
                if drop_name {
                    g.drop_name = true;
                }
                g.count += 1.0;
                g.has_hist = true;
                g.track_hint(h);
                match g.hacc.as_mut() {
                    Some(acc) => match if op == "sum" {
                        acc.add_sum(h)
                    } else {
                        acc.add_avg(h)
                    } {
                        Ok(()) => {
                            if acc.reconciled {
                                self.ctx.annos.info(format!(
                                    "mismatched custom buckets were reconciled during aggregation {expr_pos}"
                                ));
                            }
                        }
                        Err(_) => {
                            self.ctx.annos.warn(format!(
                                "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {:?} {expr_pos}",
                                labels.metric_name().unwrap_or("")
                            ));
                            g.incompatible = true;
                        }
                    },
                    None => {
                        // Floats came first: the group is mixed.
                    }
                }
                true
            }
            "min" | "max" | "stddev" | "stdvar" | "quantile" => {
                ignored(op);
                true
            }
            _ => false,
        }
    }

    /// topk, bottomk, limitk and limit_ratio at one step.
    #[allow(clippy::too_many_arguments)]
    fn aggregate_k(
        &self,
        op: &str,
        param: f64,
        input: &[ESeries],
        (vals, hvals): (&[Option<f64>], &[Option<Arc<FloatHistogram>>]),
        series_group: &[usize],
        n_groups: usize,
        agg_pos: &str,
    ) -> Vec<StepSample> {
        let mut heaps: Vec<Option<Vec<usize>>> = vec![None; n_groups];
        let values: Vec<f64> = vals.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let k = (param as i64).min(input.len() as i64);
        let ratio = param.clamp(-1.0, 1.0);
        if matches!(op, "topk" | "bottomk" | "limitk") && k < 1 {
            return Vec::new();
        }
        if op == "limit_ratio" && param == 0.0 {
            return Vec::new();
        }
        let k = k.max(0) as usize;
        // Go's container/heap over vectorByValueHeap (topk, limitk) or its reverse (bottomk).
        let less = |a: usize, b: usize| -> bool {
            let (va, vb) = (values[a], values[b]);
            if va.is_nan() {
                return true;
            }
            if op == "bottomk" {
                va > vb
            } else {
                va < vb
            }
        };
        for si in 0..vals.len() {
            let f = match (vals[si], &hvals[si]) {
                (Some(f), _) => f,
                (None, Some(_)) => {
                    if matches!(op, "topk" | "bottomk") {
                        self.ctx
                            .annos
                            .info(format!("ignored histogram in {op} aggregation {agg_pos}"));
                        continue;
                    }
                    0.0
                }
                (None, None) => continue,
            };
            let h = heaps[series_group[si]].get_or_insert_with(Vec::new);
            match op {
                "topk" | "bottomk" => {
                    if h.len() < k {
                        heap_push(h, si, &less);
                    } else if !h.is_empty() {
                        let top = values[h[0]];
                        let replace = if op == "topk" {
                            top < f || (top.is_nan() && !f.is_nan())
                        } else {
                            top > f || (top.is_nan() && !f.is_nan())
                        };
                        if replace {
                            h[0] = si;
                            if k > 1 {
                                heap_fix(h, 0, &less);
                            }
                        }
                    }
                }
                "limitk" => {
                    if h.len() < k {
                        heap_push(h, si, &less);
                    }
                }
                _ => {
                    if ratio_sample(ratio, &input[si].labels) {
                        heap_push(h, si, &less);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for h in heaps.into_iter().flatten() {
            let mut h = h;
            if matches!(op, "topk" | "bottomk") && h.len() > 1 {
                // sort.Sort(sort.Reverse(heap)).
                go_sort(&mut h, |a, b| less(*b, *a));
            }
            for si in h {
                out.push(StepSample {
                    h: hvals[si].clone(),
                    labels: input[si].labels.clone(),
                    v: values[si],
                    drop_name: input[si].drop_name,
                    t: 0,
                });
            }
        }
        out
    }

    fn eval_count_values(
        &self,
        a: &AggregateExpr,
        grouping: Vec<String>,
        without: bool,
    ) -> EResult<Vec<ESeries>> {
        let label = match a.param.as_deref() {
            Some(p) => super::call::string_arg(p)?,
            None => return Err(exec_err("count_values needs a string parameter")),
        };
        if let Some(quoted) = self.ctx.invalid_literal(&label) {
            return Err(exec_err(format!("invalid label name {quoted}")));
        }
        if label.is_empty() {
            return Err(exec_err(format!("invalid label name {label:?}")));
        }
        let mut grouping = grouping;
        if !without {
            grouping.push(label.clone());
            grouping.sort();
        }
        let input = self.eval_vector(&a.expr)?;
        self.range_eval(&[ArgVal::Vector(&input)], |args, ts| {
            let mut order: Vec<Labels> = Vec::new();
            let mut counts: HashMap<Labels, f64> = HashMap::new();
            for s in args[0].vector() {
                let mut b: LabelsBuilder = s.labels.builder();
                let value = match &s.h {
                    Some(h) => hist::to_go_string(h),
                    None => format_float_f(s.v),
                };
                b.set(label.clone(), value);
                let key = grouping_labels(&b.build(), &grouping, without);
                match counts.get_mut(&key) {
                    Some(c) => *c += 1.0,
                    None => {
                        counts.insert(key.clone(), 1.0);
                        order.push(key);
                    }
                }
            }
            Ok(order
                .into_iter()
                .map(|l| {
                    let v = counts[&l];
                    StepSample {
                        h: None,
                        labels: l.into(),
                        v,
                        drop_name: false,
                        t: ts,
                    }
                })
                .collect())
        })
    }
}

fn heap_up(h: &mut [usize], mut j: usize, less: &impl Fn(usize, usize) -> bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(h[j], h[i]) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_down(h: &mut [usize], i0: usize, less: &impl Fn(usize, usize) -> bool) -> bool {
    let n = h.len();
    let mut i = i0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        let j2 = j1 + 1;
        if j2 < n && less(h[j2], h[j1]) {
            j = j2;
        }
        if !less(h[j], h[i]) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

fn heap_push(h: &mut Vec<usize>, x: usize, less: &impl Fn(usize, usize) -> bool) {
    h.push(x);
    let n = h.len() - 1;
    heap_up(h, n, less);
}

fn heap_fix(h: &mut [usize], i: usize, less: &impl Fn(usize, usize) -> bool) {
    if !heap_down(h, i, less) {
        heap_up(h, i, less);
    }
}

/// limit_ratio's deterministic sampling by label hash.
fn ratio_sample(ratio: f64, labels: &Labels) -> bool {
    let offset = labels.stable_hash() as f64 / u64::MAX as f64;
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}
