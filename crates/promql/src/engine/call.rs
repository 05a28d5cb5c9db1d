//! Function calls: dispatch to instant-vector functions (step by step),
//! range-vector functions (per series and window) and the label functions.

use std::sync::Arc;

use argus_model::{Labels, Sample, METRIC_NAME};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Call, Expr};
use regex::Regex;

use super::call_hist::HistogramCall;
use super::modifiers::{Modifier, ANCHORED_FUNCTIONS, SMOOTHED_FUNCTIONS};
use super::selector::WindowCursor;
use super::{exec_err, ArgVal, EResult, ESeries, EVal, Evaluator, HPoint, StepSample};
use crate::annotations::fmt_g;
use crate::functions::{range, range_hist, vector};
use crate::value::PromqlError;

/// Labels for `absent()`/`absent_over_time()`: the selector's equality matchers.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let mut b = Labels::default().builder();
    let mut has: Vec<&str> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, promql_parser::label::MatchOp::Equal) && !has.contains(&m.name.as_str()) {
            b.set(m.name.clone(), m.value.clone());
            has.push(&m.name);
        } else {
            b.del(&m.name);
        }
    }
    b.build()
}

/// Formats a float like Prometheus's `FormatOpenMetricsFloat`.
pub(super) fn format_openmetrics_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = fmt_g(f);
    if s.contains(['.', 'e']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// A range selector or subquery, possibly in parentheses.
fn is_range_expr(e: &Expr) -> bool {
    match e {
        Expr::MatrixSelector(_) | Expr::Subquery(_) => true,
        Expr::Paren(p) => is_range_expr(&p.expr),
        _ => false,
    }
}

pub(crate) fn string_arg(e: &Expr) -> EResult<String> {
    match e {
        Expr::StringLiteral(s) => Ok(s.val.clone()),
        Expr::Paren(p) => string_arg(&p.expr),
        _ => Err(exec_err("expected a string argument")),
    }
}

/// Merges series with identical labels (after relabelling); overlapping points are an error.
pub(crate) fn merge_same_labels(series: Vec<ESeries>) -> EResult<Vec<ESeries>> {
    let mut out: Vec<ESeries> = Vec::with_capacity(series.len());
    let mut index: std::collections::HashMap<Arc<Labels>, usize> = std::collections::HashMap::new();
    for s in series {
        match index.get(&s.labels) {
            Some(&i) => {
                let base = &mut out[i];
                base.points.extend(s.points);
                base.points.sort_by_key(|p| p.t);
                base.hists.extend(s.hists);
                base.hists.sort_by_key(|p| p.t);
                let mut ts: Vec<i64> = base
                    .points
                    .iter()
                    .map(|p| p.t)
                    .chain(base.hists.iter().map(|p| p.t))
                    .collect();
                ts.sort_unstable();
                if ts.windows(2).any(|w| w[0] == w[1]) {
                    return Err(exec_err(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval_call(&self, c: &Call, e: &Expr) -> EResult<EVal> {
        let name = c.func.name;
        let args: Vec<&Expr> = c.args.args.iter().map(|b| b.as_ref()).collect();
        match name {
            "timestamp" => {
                let mut arg = args.first().copied();
                while let Some(Expr::Paren(p)) = arg {
                    arg = Some(&p.expr);
                }
                if let Some(Expr::VectorSelector(vs)) = arg {
                    let mut s = self.eval_vector_selector_with(vs, true)?;
                    for x in &mut s {
                        x.drop_name = true;
                    }
                    return Ok(EVal::Vector(s));
                }
            }
            "start" | "end" | "range" | "step" => {
                let c = self.ctx;
                let v = match name {
                    "start" => c.query_start,
                    "end" => c.query_end,
                    "range" => c.query_end - c.query_start,
                    _ => c.query_step,
                } as f64
                    / 1000.0;
                return Ok(EVal::Vector(vec![self.scalar_series(|_| v)]));
            }
            "label_replace" => return self.eval_label_replace(&args).map(EVal::Vector),
            "label_join" => return self.eval_label_join(&args).map(EVal::Vector),
            "info" => return self.eval_info(&args).map(EVal::Vector),
            _ => {}
        }
        if matches!(
            name,
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc"
        ) && self.start != self.end
        {
            self.ctx.annos.warn(format!(
                "sort is ineffective for range queries since results are always ordered by labels {}",
                self.ctx.pos(e)
            ));
        }
        if let Some(idx) = args.iter().position(|a| is_range_expr(a)) {
            return self.eval_range_call(name, &args, idx).map(EVal::Vector);
        }
        let known = vector::is_vector_function(name)
            || matches!(
                name,
                "absent" | "histogram_quantile" | "histogram_quantiles" | "histogram_fraction"
            );
        if !known {
            return Err(PromqlError::BadData(format!(
                "unknown function with name {name:?}"
            )));
        }
        // Evaluate the arguments over all steps.
        let mut evaluated: Vec<Vec<ESeries>> = Vec::with_capacity(args.len());
        let mut strings: Vec<String> = Vec::with_capacity(args.len());
        for a in &args {
            if self.ctx.value_type(a) == ValueType::String {
                strings.push(string_arg(a)?);
                evaluated.push(Vec::new());
            } else {
                strings.push(String::new());
                evaluated.push(self.eval_vector(a)?);
            }
        }
        let arg_vals: Vec<ArgVal<'_>> = args
            .iter()
            .enumerate()
            .map(|(i, a)| match self.ctx.value_type(a) {
                ValueType::String => ArgVal::String(&strings[i]),
                ValueType::Scalar => ArgVal::Scalar(&evaluated[i]),
                _ => ArgVal::Vector(&evaluated[i]),
            })
            .collect();
        let pos: Vec<String> = args.iter().map(|a| self.ctx.pos(a)).collect();
        let absent = if name == "absent" {
            absent_labels(args[0])
        } else {
            Labels::default()
        };
        let hist = HistogramCall {
            annos: &self.ctx.annos,
            pos: &pos,
        };
        let series = self.range_eval(&arg_vals, |a, ts| match name {
            "absent" => Ok(if a[0].vector().is_empty() {
                vec![StepSample {
                    h: None,
                    labels: absent.clone().into(),
                    v: 1.0,
                    drop_name: false,
                    t: ts,
                }]
            } else {
                Vec::new()
            }),
            "histogram_quantile" => Ok(hist.quantile(a, ts)),
            "histogram_quantiles" => Ok(hist.quantiles(a, ts)),
            "histogram_fraction" => Ok(hist.fraction(a, ts)),
            _ => vector::call(name, a, ts),
        })?;
        Ok(EVal::Vector(series))
    }

    fn eval_range_call(&self, name: &str, args: &[&Expr], idx: usize) -> EResult<Vec<ESeries>> {
        if !range::is_range_function(name) {
            return Err(PromqlError::BadData(format!(
                "unknown function with name {name:?}"
            )));
        }
        let mut scalar_args: Vec<Vec<ESeries>> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i != idx {
                scalar_args.push(self.eval_vector(a)?);
            }
        }
        let ra = self.range_arg(args[idx])?;
        match ra.modifier {
            Modifier::Anchored if !ANCHORED_FUNCTIONS.split(", ").any(|f| f == name) => {
                return Err(exec_err(format!(
                    "anchored modifier can only be used with: {ANCHORED_FUNCTIONS} - not with {name}"
                )));
            }
            Modifier::Smoothed if !SMOOTHED_FUNCTIONS.split(", ").any(|f| f == name) => {
                return Err(exec_err(format!(
                    "smoothed modifier can only be used with: {SMOOTHED_FUNCTIONS} - not with {name}"
                )));
            }
            _ => {}
        }
        let steps = self.steps();
        let drop = !matches!(name, "last_over_time" | "first_over_time");
        let scalar_at = |j: usize, step: usize| -> f64 {
            scalar_args[j]
                .first()
                .and_then(|s| s.points.get(step))
                .map(|p| p.v)
                .unwrap_or(f64::NAN)
        };
        let q_pos = if name == "quantile_over_time" {
            self.ctx.pos(args[0])
        } else {
            String::new()
        };
        let range_pos = self.ctx.pos(args[idx]);
        // Windows of `anchored`/`smoothed` hold extra samples: no shortcut there.
        let counter_fn = matches!(name, "rate" | "increase") && ra.modifier == Modifier::None;
        let mut out = Vec::new();
        let mut scalars = Vec::with_capacity(scalar_args.len());
        for i in 0..ra.len() {
            self.ctx.check_deadline()?;
            // One series' raw samples at a time: read, windowed for every
            // step, dropped at the end of this iteration.
            let (s, raw) = ra.load(i)?;
            let s = &*s;
            let mut points = Vec::new();
            let mut hists = Vec::new();
            let metric = s.labels.metric_name().unwrap_or("").to_string();
            // Counter resets of the whole series, found once rather than in
            // every window that holds them (windows overlap range/step times).
            let resets: Vec<usize> = if counter_fn {
                s.points
                    .windows(2)
                    .enumerate()
                    .filter(|(_, p)| p[1].v < p[0].v)
                    .map(|(j, _)| j)
                    .collect()
            } else {
                Vec::new()
            };
            let mut next_reset = 0;
            let mut cursor = WindowCursor::default();
            for (step, &ts) in steps.iter().enumerate() {
                let w = ra.window_from(s, ts, &mut cursor);
                let hw = ra.hwindow(s, ts);
                if w.is_empty() && hw.is_empty() {
                    continue;
                }
                // A selector's raw series is held whole; a subquery's
                // series were counted when evaluated, its window is not.
                let window = if raw > 0 { raw } else { w.len() + hw.len() };
                // (Points output for earlier series are counted already.)
                self.ctx
                    .check_transient(window + points.len() + hists.len())?;
                scalars.clear();
                scalars.extend((0..scalar_args.len()).map(|j| scalar_at(j, step)));
                if name == "quantile_over_time" {
                    let q = scalars[0];
                    if q.is_nan() || !(0.0..=1.0).contains(&q) {
                        self.ctx.annos.warn(format!(
                            "quantile value should be between 0 and 1, got {} {q_pos}",
                            fmt_g(q)
                        ));
                    }
                }
                // A reset within the window is a pair (j, j + 1) inside it.
                while next_reset < resets.len() && resets[next_reset] < cursor.lo {
                    next_reset += 1;
                }
                let no_resets =
                    counter_fn && resets.get(next_reset).is_none_or(|&j| j + 1 >= cursor.hi);
                let win = range::Window {
                    points: w,
                    ts,
                    end: ra.window_end(ts),
                    range_ms: ra.range_ms,
                    scalars: &scalars,
                    modifier: ra.modifier,
                    no_resets,
                };
                if hw.is_empty() {
                    if let Some(v) = range::call(name, &win)? {
                        points.push(Sample::new(ts, v));
                    }
                    continue;
                }
                let cx = range_hist::HCtx {
                    annos: &self.ctx.annos,
                    metric: &metric,
                    pos: &range_pos,
                };
                match range_hist::call(name, &win, hw, &cx)? {
                    Some(range_hist::ROut::F(v)) => points.push(Sample::new(ts, v)),
                    Some(range_hist::ROut::H(h)) => hists.push(HPoint {
                        t: ts,
                        h: Arc::new(h),
                    }),
                    None => {}
                }
            }
            self.ctx.add_samples(points.len() + hists.len())?;
            if matches!(name, "rate" | "increase") && !points.is_empty() && s.hists.is_empty() {
                if let Some(metric) = s.labels.metric_name() {
                    if !["_total", "_sum", "_count", "_bucket"]
                        .iter()
                        .any(|suf| metric.ends_with(suf))
                    {
                        self.ctx.annos.info(format!(
                            "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?} {}",
                            self.ctx.pos(args[idx])
                        ));
                    }
                }
            }
            if !points.is_empty() || !hists.is_empty() {
                out.push(ESeries {
                    hists,
                    labels: s.labels.clone(),
                    drop_name: drop || s.drop_name,
                    points,
                });
            }
        }
        if name == "absent_over_time" {
            let n = steps.len();
            if out.iter().any(|s| s.points.len() == n) {
                return Ok(Vec::new());
            }
            let found: std::collections::HashSet<i64> = out
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.t))
                .collect();
            let points: Vec<Sample> = steps
                .iter()
                .filter(|t| !found.contains(t))
                .map(|&t| Sample::new(t, 1.0))
                .collect();
            if points.is_empty() {
                return Ok(Vec::new());
            }
            return Ok(vec![ESeries {
                hists: Vec::new(),
                labels: absent_labels(args[0]).into(),
                drop_name: true,
                points,
            }]);
        }
        Ok(out)
    }

    fn eval_label_replace(&self, args: &[&Expr]) -> EResult<Vec<ESeries>> {
        let dst = string_arg(args[1])?;
        let repl = string_arg(args[2])?;
        let src = string_arg(args[3])?;
        let re_str = string_arg(args[4])?;
        let re = Regex::new(&format!("^(?s:{re_str})$")).map_err(|_| {
            exec_err(format!(
                "invalid regular expression in label_replace(): {re_str}"
            ))
        })?;
        if dst.is_empty() || self.ctx.invalid_literal(&dst).is_some() {
            return Err(exec_err(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        let mut series = self.eval_vector(args[0])?;
        for s in &mut series {
            let src_val = s.labels.get(&src).unwrap_or("").to_string();
            if let Some(caps) = re.captures(&src_val) {
                let mut res = String::new();
                caps.expand(&repl, &mut res);
                let mut b = s.labels.builder();
                b.set(dst.clone(), res);
                s.labels = b.build().into();
                if dst == METRIC_NAME {
                    s.drop_name = false;
                }
            }
        }
        merge_same_labels(series)
    }

    fn eval_label_join(&self, args: &[&Expr]) -> EResult<Vec<ESeries>> {
        let dst = string_arg(args[1])?;
        let sep = string_arg(args[2])?;
        let mut srcs = Vec::new();
        for a in &args[3..] {
            let s = string_arg(a)?;
            if s.is_empty() || self.ctx.invalid_literal(&s).is_some() {
                return Err(exec_err(format!(
                    "invalid source label name in label_join(): {s}"
                )));
            }
            srcs.push(s);
        }
        if dst.is_empty() || self.ctx.invalid_literal(&dst).is_some() {
            return Err(exec_err(format!(
                "invalid destination label name in label_join(): {dst}"
            )));
        }
        let mut series = self.eval_vector(args[0])?;
        for s in &mut series {
            let vals: Vec<&str> = srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
            let joined = vals.join(&sep);
            let mut b = s.labels.builder();
            b.set(dst.clone(), joined);
            s.labels = b.build().into();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
        merge_same_labels(series)
    }
}
