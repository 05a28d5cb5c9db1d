//! The evaluator: Prometheus's step-wise evaluation over `promql-parser`'s AST.
//!
//! Every node is evaluated for all steps of the (sub)query at once and yields a
//! list of series with one point per step where it has a value ([`ESeries`]);
//! scalars are one series without labels. Instant queries are range queries
//! with a single step. Names to be dropped are only marked (`drop_name`) and
//! removed at the end, as Prometheus does with delayed name removal.

mod aggregate;
mod binary;
pub(crate) mod call;
mod call_hist;
mod durations;
mod info;
pub(crate) mod modifiers;
mod selector;
mod stats;
mod trim;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{FloatHistogram, HistogramSample, Labels, Sample, METRIC_NAME};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr};

use crate::annotations::Annotations;
use crate::value::{PromqlError, QueryResult, Series, Value, VectorSample};
use crate::Queryable;

/// Engine limits and defaults.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back a vector selector looks for the latest sample (Prometheus: 5m).
    pub lookback_delta_ms: i64,
    /// Most points a query may hold at once: selector outputs, range windows,
    /// intermediate and final results, and the raw samples of the series a
    /// selector is reading (one series at a time; Prometheus does not count
    /// raw samples). Exceeding it fails the query with
    /// [`PromqlError::TooManySamples`].
    pub max_samples: usize,
    /// Evaluation time limit ([`PromqlError::Timeout`]).
    pub timeout: Duration,
    /// Step of subqueries written without one (`x[5m:]`); Prometheus uses the
    /// global evaluation interval (1m by default).
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60_000,
        }
    }
}

/// The PromQL engine. Stateless apart from its options; share it freely.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

/// A series produced while evaluating: labels, whether `__name__` is to be
/// dropped at the end, and its points (at step timestamps for instant vectors).
#[derive(Debug, Clone, Default)]
pub(crate) struct ESeries {
    pub labels: Arc<Labels>,
    pub drop_name: bool,
    /// Float points.
    pub points: Vec<Sample>,
    /// Native histogram points (never at the timestamp of a float point).
    pub hists: Vec<HPoint>,
}

/// A native histogram point.
#[derive(Debug, Clone)]
pub(crate) struct HPoint {
    pub t: i64,
    pub h: Arc<FloatHistogram>,
}

impl ESeries {
    pub(crate) fn len(&self) -> usize {
        self.points.len() + self.hists.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty() && self.hists.is_empty()
    }
}

/// The value of a node over all steps.
#[derive(Debug)]
pub(crate) enum EVal {
    /// Instant vector (or scalar: one unlabelled series) over the steps.
    Vector(Vec<ESeries>),
    String(String),
    /// A range vector (only the result of a matrix selector or subquery at the top of an instant query).
    Range(Vec<ESeries>),
}

/// One element of an instant vector at one step.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepSample {
    pub labels: Arc<Labels>,
    pub v: f64,
    /// A native histogram instead of the float `v`.
    pub h: Option<Arc<FloatHistogram>>,
    pub drop_name: bool,
    /// Timestamp of the sample (the step's), what `timestamp()` of a computed vector returns.
    pub t: i64,
}

/// A function argument at one step.
#[derive(Debug, Clone)]
pub(crate) enum StepArg {
    Vector(Vec<StepSample>),
    Scalar(f64),
    String(String),
}

impl StepArg {
    pub(crate) fn scalar(&self) -> f64 {
        match self {
            StepArg::Scalar(v) => *v,
            StepArg::Vector(v) => v.first().map(|s| s.v).unwrap_or(f64::NAN),
            StepArg::String(_) => f64::NAN,
        }
    }
    pub(crate) fn vector(&self) -> &[StepSample] {
        match self {
            StepArg::Vector(v) => v,
            _ => &[],
        }
    }
    pub(crate) fn string(&self) -> &str {
        match self {
            StepArg::String(s) => s,
            _ => "",
        }
    }
}

pub(crate) type EResult<T> = Result<T, PromqlError>;

pub(crate) fn exec_err(msg: impl Into<String>) -> PromqlError {
    PromqlError::Execution(msg.into())
}

/// Shared state of one query: annotations, sample accounting, deadline.
pub(crate) struct QueryCtx<'a> {
    pub q: &'a dyn Queryable,
    pub opts: &'a EngineOptions,
    pub query: &'a str,
    pub annos: Annotations,
    pub samples: Cell<usize>,
    pub deadline: Instant,
    /// Start and end of the top-level query, for `@ start()` / `@ end()`.
    pub query_start: i64,
    pub query_end: i64,
    /// Step of the top-level query (0 for instant queries), for `step()`.
    pub query_step: i64,
    /// Where each node of the query starts in `query`.
    pub positions: crate::annotations::Positions,
    /// String literals Go would read as invalid UTF-8 (see `literals.rs`).
    pub invalid_literals: Vec<crate::literals::InvalidLiteral>,
    /// Binary nodes (by address) written with the trim operators `</` / `>/`.
    pub trims: std::collections::HashMap<usize, &'static str>,
    /// Vector selectors (by address) whose histograms are read as count and sum only.
    pub stats_selectors: std::collections::HashSet<usize>,
    /// Value types of the query's operator nodes (by address), see [`QueryCtx::value_type`].
    pub types: std::cell::RefCell<HashMap<usize, ValueType>>,
}

impl QueryCtx<'_> {
    pub(crate) fn check_deadline(&self) -> EResult<()> {
        if Instant::now() > self.deadline {
            return Err(PromqlError::Timeout);
        }
        Ok(())
    }

    /// Fails if `n` more samples, held only for a moment (a range window), would exceed the limit.
    pub(crate) fn check_transient(&self, n: usize) -> EResult<()> {
        if self.samples.get() + n > self.opts.max_samples {
            return Err(PromqlError::TooManySamples(self.opts.max_samples));
        }
        Ok(())
    }

    pub(crate) fn add_samples(&self, n: usize) -> EResult<()> {
        let total = self.samples.get() + n;
        self.samples.set(total);
        if total > self.opts.max_samples {
            return Err(PromqlError::TooManySamples(self.opts.max_samples));
        }
        Ok(())
    }

    /// Go's quoted form of `s` if Go would read that literal as invalid UTF-8.
    pub(crate) fn invalid_literal(&self, s: &str) -> Option<String> {
        self.invalid_literals
            .iter()
            .find(|l| l.parsed == s)
            .map(|l| l.go_quoted.clone())
    }

    /// `e.value_type()`, remembered for operator nodes: promql-parser's walks
    /// the whole subtree, so asking it at every node of a chain (`1+1+…`)
    /// would cost the chain's length squared.
    pub(crate) fn value_type(&self, e: &Expr) -> ValueType {
        if !matches!(e, Expr::Unary(_) | Expr::Paren(_) | Expr::Binary(_)) {
            return e.value_type();
        }
        let key = e as *const Expr as usize;
        if let Some(t) = self.types.borrow().get(&key) {
            return *t;
        }
        let t = match e {
            Expr::Unary(u) => self.value_type(&u.expr),
            Expr::Paren(p) => self.value_type(&p.expr),
            Expr::Binary(b)
                if self.value_type(&b.lhs) == ValueType::Scalar
                    && self.value_type(&b.rhs) == ValueType::Scalar =>
            {
                ValueType::Scalar
            }
            _ => ValueType::Vector,
        };
        self.types.borrow_mut().insert(key, t);
        t
    }

    pub(crate) fn pos(&self, e: &Expr) -> String {
        crate::annotations::position(self.query, e, &self.positions)
    }
}

/// Evaluates expressions over the steps `start..=end` every `interval` ms.
pub(crate) struct Evaluator<'a, 'c> {
    pub ctx: &'c QueryCtx<'a>,
    pub start: i64,
    pub end: i64,
    /// 0 for a single evaluation at `start`.
    pub interval: i64,
}

impl Engine {
    /// A zero lookback delta or subquery step means the default, as in Prometheus.
    pub fn new(mut opts: EngineOptions) -> Self {
        let d = EngineOptions::default();
        if opts.lookback_delta_ms <= 0 {
            opts.lookback_delta_ms = d.lookback_delta_ms;
        }
        if opts.default_subquery_step_ms <= 0 {
            opts.default_subquery_step_ms = d.default_subquery_step_ms;
        }
        Engine { opts }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `t_ms`.
    pub fn instant(
        &self,
        q: &dyn Queryable,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryResult, PromqlError> {
        self.exec(q, query, t_ms, t_ms, 0)
    }

    /// Evaluates `query` at every `step_ms` from `start_ms` to `end_ms` (inclusive).
    pub fn range(
        &self,
        q: &dyn Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, PromqlError> {
        if step_ms <= 0 {
            return Err(PromqlError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(PromqlError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        // Prometheus's HTTP API refuses more than 11,000 steps; the engine does too,
        // so that a tiny step cannot make it allocate without bound.
        if (end_ms - start_ms) / step_ms > 11_000 {
            return Err(PromqlError::BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
            ));
        }
        self.exec(q, query, start_ms, end_ms, step_ms)
    }

    fn exec(
        &self,
        q: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, PromqlError> {
        crate::depth::check(query)?;
        // Parsing, evaluation and the drop of the tree recurse once per level.
        crate::depth::with_stack(|| {
            let expr = match parse(query) {
                Ok(e) => e,
                Err(err) => {
                    // Duration arithmetic, which promql-parser does not know, evaluated with this query's step and range.
                    match durations::rewrite_duration_exprs(query, step, end - start)
                        .map(|q| parse(&q))
                    {
                        Some(Ok(e)) => e,
                        _ => return Err(err),
                    }
                }
            };
            self.exec_expr(q, query, &expr, start, end, step)
        })
    }

    /// Evaluates an already parsed (possibly rewritten) expression; `query` is
    /// the text annotation positions are looked up in.
    pub(crate) fn exec_expr(
        &self,
        q: &dyn Queryable,
        query: &str,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, PromqlError> {
        let ty = expr.value_type();
        if step > 0 && !matches!(ty, ValueType::Scalar | ValueType::Vector) {
            return Err(PromqlError::BadData(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                type_name(ty)
            )));
        }
        let ctx = QueryCtx {
            q,
            opts: &self.opts,
            query,
            annos: Annotations::default(),
            samples: Cell::new(0),
            deadline: Instant::now() + self.opts.timeout,
            query_start: start,
            query_end: end,
            query_step: step,
            positions: crate::annotations::Positions::new(query, expr),
            invalid_literals: crate::literals::invalid_utf8_literals(query),
            trims: trim::trim_nodes(query, expr),
            stats_selectors: Default::default(),
            types: Default::default(),
        };
        let ctx = QueryCtx {
            stats_selectors: stats::stats_selectors(expr, &ctx.trims),
            ..ctx
        };
        let ev = Evaluator {
            ctx: &ctx,
            start,
            end,
            interval: step,
        };
        let val = ev.eval(expr)?;
        let value = match val {
            EVal::String(s) => Value::String(start, s),
            EVal::Range(series) => {
                Value::Matrix(cleanup_names(series)?.into_iter().map(to_series).collect())
            }
            EVal::Vector(series) => {
                let series = cleanup_names(series)?;
                if ty == ValueType::Scalar {
                    if step == 0 {
                        let v = series
                            .first()
                            .and_then(|s| s.points.first())
                            .map(|p| p.v)
                            .unwrap_or(f64::NAN);
                        Value::Scalar(start, v)
                    } else {
                        Value::Matrix(series.into_iter().map(to_series).collect())
                    }
                } else if step == 0 {
                    Value::Vector(
                        series
                            .into_iter()
                            .filter_map(|s| {
                                if let Some(p) = s.hists.first() {
                                    return Some(VectorSample {
                                        labels: Arc::unwrap_or_clone(s.labels),
                                        t: p.t,
                                        v: 0.0,
                                        h: Some(Arc::unwrap_or_clone(p.h.clone())),
                                    });
                                }
                                s.points.first().map(|p| VectorSample {
                                    labels: Arc::unwrap_or_clone(s.labels),
                                    t: p.t,
                                    v: p.v,
                                    h: None,
                                })
                            })
                            .collect(),
                    )
                } else {
                    let mut m: Vec<Series> = series
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .map(to_series)
                        .collect();
                    m.sort_by(|a, b| a.labels.cmp(&b.labels));
                    Value::Matrix(m)
                }
            }
        };
        let warnings = ctx.annos.warnings.borrow().iter().cloned().collect();
        let infos = ctx.annos.infos.borrow().iter().cloned().collect();
        Ok(QueryResult {
            value,
            warnings,
            infos,
        })
    }
}

fn to_series(s: ESeries) -> Series {
    Series {
        labels: Arc::unwrap_or_clone(s.labels),
        samples: s.points,
        histograms: s
            .hists
            .into_iter()
            .map(|p| HistogramSample {
                t: p.t,
                h: Arc::unwrap_or_clone(p.h),
            })
            .collect(),
    }
}

pub(crate) fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Scalar => "scalar",
        ValueType::Matrix => "range vector",
        ValueType::String => "string",
    }
}

/// Parses a query, mapping parser errors to `BadData`. The caller has checked
/// its depth ([`crate::depth::check`]) and runs this on a deep enough stack.
pub(crate) fn parse(query: &str) -> Result<Expr, PromqlError> {
    crate::number_durations::check(query)?;
    let trimmed = trim::rewrite_trim_ops(query);
    let query = trimmed.as_deref().unwrap_or(query);
    let err = match parser::parse(query) {
        Ok(e) => return Ok(e),
        Err(err) => err,
    };
    // Syntax promql-parser does not know: the anchored/smoothed modifiers, and
    // info() label selectors whose matchers all match "".
    let mut q = query.to_string();
    let mut rewritten = false;
    if let Some(r) = modifiers::rewrite_modifiers(&q) {
        q = r;
        rewritten = true;
        if let Ok(e) = parser::parse(&q) {
            return Ok(e);
        }
    }
    if let Some(r) = info::rewrite_info_selectors(&q) {
        q = r;
        rewritten = true;
    }
    if rewritten {
        if let Ok(e) = parser::parse(&q) {
            return Ok(e);
        }
    }
    Err(PromqlError::BadData(err))
}

/// Removes `__name__` where it was marked to be dropped, then merges series that
/// became identical (an error if they have points at the same time).
pub(crate) fn cleanup_names(series: Vec<ESeries>) -> EResult<Vec<ESeries>> {
    let series = series
        .into_iter()
        .map(|mut s| {
            if s.drop_name {
                s.labels = drop_name(&s.labels).into();
                s.drop_name = false;
            }
            s
        })
        .collect();
    call::merge_same_labels(series)
}

/// Labels that describe the metric rather than the series (Prometheus's
/// `schema.IsMetadataLabel`): dropped together with the name.
pub(crate) const METADATA_LABELS: [&str; 3] = [METRIC_NAME, "__type__", "__unit__"];

pub(crate) fn drop_name(l: &Labels) -> Labels {
    if !METADATA_LABELS.iter().any(|n| l.get(n).is_some()) {
        return l.clone();
    }
    Labels::from_sorted_unchecked(
        l.iter()
            .filter(|l| !METADATA_LABELS.contains(&l.name.as_str()))
            .cloned()
            .collect(),
    )
}

/// Collects per-step output vectors into series, keeping first-seen order.
pub(crate) struct SeriesCollector {
    pub series: Vec<ESeries>,
    index: HashMap<Arc<Labels>, usize>,
}

impl SeriesCollector {
    pub(crate) fn new() -> Self {
        SeriesCollector {
            series: Vec::new(),
            index: HashMap::new(),
        }
    }

    pub(crate) fn add(&mut self, ts: i64, s: StepSample) -> EResult<()> {
        match self.index.get(&s.labels) {
            Some(&i) => {
                let e = &mut self.series[i];
                if e.points.last().is_some_and(|p| p.t == ts)
                    || e.hists.last().is_some_and(|p| p.t == ts)
                {
                    return Err(exec_err(
                        "vector cannot contain metrics with the same labelset",
                    ));
                }
                // As in Prometheus, the series keeps the drop flag it was created with.
                match s.h {
                    Some(h) => e.hists.push(HPoint { t: ts, h }),
                    None => e.points.push(Sample::new(ts, s.v)),
                }
            }
            None => {
                self.index.insert(s.labels.clone(), self.series.len());
                self.series.push(ESeries::from_step(s, ts));
            }
        }
        Ok(())
    }
}

impl ESeries {
    /// A series with one point, the step sample's.
    pub(crate) fn from_step(s: StepSample, ts: i64) -> ESeries {
        let (points, hists) = match s.h {
            Some(h) => (Vec::new(), vec![HPoint { t: ts, h }]),
            None => (vec![Sample::new(ts, s.v)], Vec::new()),
        };
        ESeries {
            labels: s.labels,
            drop_name: s.drop_name,
            points,
            hists,
        }
    }
}

/// Per-series cursors to read the point at each step of a list of series.
pub(crate) struct StepReader<'s> {
    series: &'s [ESeries],
    cursors: Vec<usize>,
    hcursors: Vec<usize>,
}

impl<'s> StepReader<'s> {
    pub(crate) fn new(series: &'s [ESeries]) -> Self {
        StepReader {
            series,
            cursors: vec![0; series.len()],
            hcursors: vec![0; series.len()],
        }
    }

    /// Samples with a point at `ts` (steps must be read in increasing order).
    pub(crate) fn at(&mut self, ts: i64) -> Vec<StepSample> {
        let mut out = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            if let Some(v) = self.value(i, ts) {
                out.push(StepSample {
                    labels: s.labels.clone(),
                    v,
                    h: None,
                    drop_name: s.drop_name,
                    t: ts,
                });
            } else if let Some(h) = self.hist(i, ts) {
                out.push(StepSample {
                    labels: s.labels.clone(),
                    v: 0.0,
                    h: Some(h),
                    drop_name: s.drop_name,
                    t: ts,
                });
            }
        }
        out
    }

    /// The histogram of series `i` at `ts`, advancing its cursor.
    pub(crate) fn hist(&mut self, i: usize, ts: i64) -> Option<Arc<FloatHistogram>> {
        let pts = &self.series.get(i)?.hists;
        let c = &mut self.hcursors[i];
        while *c < pts.len() && pts[*c].t < ts {
            *c += 1;
        }
        if *c < pts.len() && pts[*c].t == ts {
            Some(pts[*c].h.clone())
        } else {
            None
        }
    }

    /// The value of series `i` at `ts`, advancing its cursor.
    pub(crate) fn value(&mut self, i: usize, ts: i64) -> Option<f64> {
        let pts = &self.series.get(i)?.points;
        let c = &mut self.cursors[i];
        while *c < pts.len() && pts[*c].t < ts {
            *c += 1;
        }
        if *c < pts.len() && pts[*c].t == ts {
            Some(pts[*c].v)
        } else {
            None
        }
    }
}

impl<'a, 'c> Evaluator<'a, 'c> {
    pub(crate) fn steps(&self) -> Vec<i64> {
        if self.end < self.start {
            return Vec::new();
        }
        if self.interval <= 0 || self.end == self.start {
            return vec![self.start];
        }
        let n = ((self.end - self.start) / self.interval) as usize + 1;
        (0..n)
            .map(|i| self.start + i as i64 * self.interval)
            .collect()
    }

    pub(crate) fn child(&self, start: i64, end: i64, interval: i64) -> Evaluator<'a, 'c> {
        Evaluator {
            ctx: self.ctx,
            start,
            end,
            interval,
        }
    }

    /// Evaluates a node. Sample accounting approximates Prometheus's "samples in
    /// memory": while a node runs, its children's outputs and its own partial
    /// output count; once it returns, only its output does.
    pub(crate) fn eval(&self, e: &Expr) -> EResult<EVal> {
        self.ctx.check_deadline()?;
        let before = self.ctx.samples.get();
        let v = self.eval_node(e)?;
        let n = match &v {
            EVal::Vector(s) | EVal::Range(s) => s.iter().map(|s| s.len()).sum(),
            EVal::String(_) => 0,
        };
        self.ctx.samples.set(before);
        self.ctx.add_samples(n)?;
        Ok(v)
    }

    fn eval_node(&self, e: &Expr) -> EResult<EVal> {
        match e {
            Expr::NumberLiteral(n) => Ok(EVal::Vector(vec![self.scalar_series(|_| n.val)])),
            Expr::StringLiteral(s) => Ok(EVal::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => {
                let mut series = self.eval_vector(&u.expr)?;
                let is_scalar = self.ctx.value_type(&u.expr) == ValueType::Scalar;
                for s in &mut series {
                    for p in &mut s.points {
                        p.v = -p.v;
                    }
                    for p in &mut s.hists {
                        crate::histogram::mul(Arc::make_mut(&mut p.h), -1.0);
                    }
                    if !is_scalar {
                        s.drop_name = true;
                    }
                }
                Ok(EVal::Vector(series))
            }
            Expr::VectorSelector(vs) => Ok(EVal::Vector(self.eval_vector_selector(vs, e)?)),
            Expr::MatrixSelector(ms) => {
                let raw = self.select_range(ms)?;
                Ok(EVal::Range(raw))
            }
            Expr::Subquery(sq) => {
                let series = self.eval_subquery(sq)?;
                Ok(EVal::Range(series))
            }
            Expr::Aggregate(a) => Ok(EVal::Vector(self.eval_aggregate(a, e)?)),
            Expr::Binary(b) => Ok(EVal::Vector(self.eval_binary(b, e)?)),
            Expr::Call(c) => self.eval_call(c, e),
            Expr::Extension(_) => Err(exec_err("unsupported expression")),
        }
    }

    /// Evaluates an expression that must yield an instant vector or scalar.
    pub(crate) fn eval_vector(&self, e: &Expr) -> EResult<Vec<ESeries>> {
        match self.eval(e)? {
            EVal::Vector(v) => Ok(v),
            EVal::Range(_) => Err(exec_err("unexpected range vector")),
            EVal::String(_) => Err(exec_err("unexpected string")),
        }
    }

    /// A scalar as one unlabelled series with a point at every step.
    pub(crate) fn scalar_series(&self, f: impl Fn(i64) -> f64) -> ESeries {
        let points = self
            .steps()
            .into_iter()
            .map(|t| Sample::new(t, f(t)))
            .collect();
        ESeries {
            labels: Labels::default().into(),
            drop_name: false,
            points,
            hists: Vec::new(),
        }
    }

    /// Runs `f` at every step over the given arguments and collects the output
    /// vectors into series (Prometheus's `rangeEval`).
    pub(crate) fn range_eval(
        &self,
        args: &[ArgVal<'_>],
        mut f: impl FnMut(&[StepArg], i64) -> EResult<Vec<StepSample>>,
    ) -> EResult<Vec<ESeries>> {
        let mut readers: Vec<Option<StepReader<'_>>> = args
            .iter()
            .map(|a| match a {
                ArgVal::Vector(s) | ArgVal::Scalar(s) => Some(StepReader::new(s)),
                ArgVal::String(_) => None,
            })
            .collect();
        let mut out = SeriesCollector::new();
        let steps = self.steps();
        let single = steps.len() == 1;
        let mut step_args = Vec::with_capacity(args.len());
        for ts in steps {
            self.ctx.check_deadline()?;
            step_args.clear();
            for (a, r) in args.iter().zip(readers.iter_mut()) {
                step_args.push(match (a, r) {
                    (ArgVal::Vector(_), Some(r)) => StepArg::Vector(r.at(ts)),
                    (ArgVal::Scalar(_), Some(r)) => {
                        StepArg::Scalar(r.value(0, ts).unwrap_or(f64::NAN))
                    }
                    (ArgVal::String(s), _) => StepArg::String(s.to_string()),
                    _ => StepArg::Scalar(f64::NAN),
                });
            }
            let res = f(&step_args, ts)?;
            self.ctx.add_samples(res.len())?;
            if single {
                // Keep the output order of an instant evaluation (sort(), topk(), ...).
                return Ok(res.into_iter().map(|s| ESeries::from_step(s, ts)).collect());
            }
            for s in res {
                out.add(ts, s)?;
            }
        }
        Ok(out.series)
    }
}

/// An evaluated argument for [`Evaluator::range_eval`].
pub(crate) enum ArgVal<'s> {
    Vector(&'s [ESeries]),
    Scalar(&'s [ESeries]),
    String(&'s str),
}
