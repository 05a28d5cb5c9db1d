//! Binary operators: scalar/scalar, vector/scalar and vector/vector with
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`, `bool`) and
//! the set operators `and`, `or`, `unless`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use argus_model::{CounterResetHint, FloatHistogram};

use argus_model::{Labels, LabelsBuilder, METRIC_NAME};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::{exec_err, ArgVal, EResult, ESeries, Evaluator, StepSample};
use crate::histogram as hist;

/// An annotation produced by an element operation: (is a warning, message without position).
type Anno = (bool, String);

/// The result of an element operation: value, histogram, whether to keep the element.
type Elem = (f64, Option<Arc<FloatHistogram>>, bool);

fn incompatible(l: &str, op: &str, r: &str) -> Anno {
    (
        false,
        format!("incompatible sample types encountered for binary operator {op:?}: {l} {op} {r}"),
    )
}

/// Prometheus's `vectorElemBinop` with native histograms: `Err` drops the
/// element (with an annotation); the extra annotation comes with a kept element.
fn elem_binop(
    op: &str,
    l: f64,
    r: f64,
    hl: Option<&Arc<FloatHistogram>>,
    hr: Option<&Arc<FloatHistogram>>,
) -> Result<(Elem, Option<Anno>), Anno> {
    let trim = op == "</" || op == ">/";
    match (hl, hr) {
        (None, None) if trim => Err(incompatible("float", op, "float")),
        (Some(h), None) if trim => {
            let mut x = (**h).clone();
            hist::trim::trim_buckets(&mut x, r, op == "</");
            Ok(((0.0, Some(Arc::new(x)), true), None))
        }
        (None, None) => {
            let (v, keep) = vector_elem_binop(op, l, r);
            Ok(((v, None, keep), None))
        }
        (None, Some(h)) => {
            if op == "*" {
                let mut x = (**h).clone();
                hist::mul(&mut x, l);
                hist::compact(&mut x);
                return Ok(((0.0, Some(Arc::new(x)), true), None));
            }
            Err(incompatible("float", op, "histogram"))
        }
        (Some(h), None) => {
            if op == "*" || op == "/" {
                let mut x = (**h).clone();
                if op == "*" {
                    hist::mul(&mut x, r);
                } else {
                    hist::div(&mut x, r);
                }
                hist::compact(&mut x);
                return Ok(((0.0, Some(Arc::new(x)), true), None));
            }
            Err(incompatible("histogram", op, "float"))
        }
        (Some(a), Some(b)) => match op {
            "+" | "-" => {
                let mut x = (**a).clone();
                let res = if op == "+" {
                    hist::add(&mut x, b)
                } else {
                    hist::sub(&mut x, b)
                };
                let what = if op == "+" { "addition" } else { "subtraction" };
                let info = match res {
                    Err(_) => {
                        return Err((
                            true,
                            format!(
                                "incompatible bucket layout encountered for binary operator {op}"
                            ),
                        ))
                    }
                    Ok(i) => {
                        if i.counter_reset_collision {
                            return Err((
                                true,
                                format!("conflicting counter resets during histogram {what}"),
                            ));
                        }
                        i.nhcb_bounds_reconciled
                    }
                };
                if op == "-" {
                    x.counter_reset_hint = CounterResetHint::Gauge;
                }
                hist::compact(&mut x);
                let anno = info.then(|| {
                    (
                        false,
                        format!("mismatched custom buckets were reconciled during {what}"),
                    )
                });
                Ok(((0.0, Some(Arc::new(x)), true), anno))
            }
            "==" => Ok(((0.0, Some(a.clone()), hist::equals(a, b)), None)),
            "!=" => Ok(((0.0, Some(a.clone()), !hist::equals(a, b)), None)),
            _ => Err(incompatible("histogram", op, "histogram")),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

struct Matching {
    on: bool,
    labels: Vec<String>,
    card: Card,
    include: Vec<String>,
    fill_lhs: Option<f64>,
    fill_rhs: Option<f64>,
}

impl Matching {
    fn from_expr(b: &BinaryExpr, set_op: bool) -> Matching {
        let mut m = Matching {
            on: false,
            labels: Vec::new(),
            card: if set_op {
                Card::ManyToMany
            } else {
                Card::OneToOne
            },
            include: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        };
        if let Some(md) = &b.modifier {
            match &md.matching {
                Some(LabelModifier::Include(l)) => {
                    m.on = true;
                    m.labels = l.labels.clone();
                }
                Some(LabelModifier::Exclude(l)) => m.labels = l.labels.clone(),
                None => {}
            }
            if !set_op {
                match &md.card {
                    VectorMatchCardinality::OneToOne => {}
                    VectorMatchCardinality::ManyToOne(l) => {
                        m.card = Card::ManyToOne;
                        m.include = l.labels.clone();
                    }
                    VectorMatchCardinality::OneToMany(l) => {
                        m.card = Card::OneToMany;
                        m.include = l.labels.clone();
                    }
                    VectorMatchCardinality::ManyToMany => m.card = Card::ManyToMany,
                }
            }
            m.fill_lhs = md.fill_values.lhs;
            m.fill_rhs = md.fill_values.rhs;
        }
        m
    }

    /// The join signature of a label set.
    fn signature(&self, l: &Labels) -> String {
        let mut s = String::new();
        for lb in l.iter() {
            let keep = if self.on {
                self.labels.contains(&lb.name)
            } else {
                lb.name != METRIC_NAME && !self.labels.contains(&lb.name)
            };
            if keep {
                s.push_str(&lb.name);
                s.push('\u{ff}');
                s.push_str(&lb.value);
                s.push('\u{ff}');
            }
        }
        s
    }

    /// The labels the signature is built from (Prometheus's `MatchLabels`).
    fn match_labels(&self, l: &Labels) -> Labels {
        let mut b = LabelsBuilder::default();
        for lb in l.iter() {
            let keep = if self.on {
                self.labels.contains(&lb.name)
            } else {
                lb.name != METRIC_NAME && !self.labels.contains(&lb.name)
            };
            if keep {
                b.set(lb.name.clone(), lb.value.clone());
            }
        }
        b.build()
    }
}

/// Whether the operator changes what the metric means (arithmetic), which drops the name.
fn changes_metric_schema(op: &str) -> bool {
    matches!(op, "+" | "-" | "*" | "/" | "^" | "%" | "atan2")
}

fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=")
}

/// Scalar arithmetic and comparisons (comparisons yield 0 or 1).
pub(crate) fn scalar_binop(op: &str, l: f64, r: f64) -> f64 {
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    match op {
        "+" => l + r,
        "-" => l - r,
        "*" => l * r,
        "/" => l / r,
        "^" => l.powf(r),
        "%" => go_mod(l, r),
        "==" => b(l == r),
        "!=" => b(l != r),
        ">" => b(l > r),
        "<" => b(l < r),
        ">=" => b(l >= r),
        "<=" => b(l <= r),
        "atan2" => l.atan2(r),
        _ => f64::NAN,
    }
}

/// Go's `math.Mod`: result has the sign of `x`.
pub(crate) fn go_mod(x: f64, y: f64) -> f64 {
    if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    x % y
}

/// A vector element operation: the value and whether to keep the element.
fn vector_elem_binop(op: &str, l: f64, r: f64) -> (f64, bool) {
    match op {
        "==" => (l, l == r),
        "!=" => (l, l != r),
        ">" => (l, l > r),
        "<" => (l, l < r),
        ">=" => (l, l >= r),
        "<=" => (l, l <= r),
        _ => (scalar_binop(op, l, r), true),
    }
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval_binary(
        &self,
        b: &BinaryExpr,
        e: &promql_parser::parser::Expr,
    ) -> EResult<Vec<ESeries>> {
        let pos = self.ctx.pos(e);
        let annotate = |a: Option<Anno>| {
            if let Some((warn, msg)) = a {
                if warn {
                    self.ctx.annos.warn(format!("{msg} {pos}"));
                } else {
                    self.ctx.annos.info(format!("{msg} {pos}"));
                }
            }
        };
        let op = match self
            .ctx
            .trims
            .get(&(e as *const promql_parser::parser::Expr as usize))
        {
            Some(t) => t.to_string(),
            None => b.op.to_string().to_lowercase(),
        };
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let (lt, rt) = (self.ctx.value_type(&b.lhs), self.ctx.value_type(&b.rhs));
        let lhs = self.eval_vector(&b.lhs)?;
        let rhs = self.eval_vector(&b.rhs)?;
        match (lt, rt) {
            (ValueType::Scalar, ValueType::Scalar) => {
                self.range_eval(&[ArgVal::Scalar(&lhs), ArgVal::Scalar(&rhs)], |a, ts| {
                    Ok(vec![StepSample {
                        h: None,
                        labels: Labels::default().into(),
                        v: scalar_binop(&op, a[0].scalar(), a[1].scalar()),
                        drop_name: false,
                        t: ts,
                    }])
                })
            }
            (ValueType::Vector, ValueType::Scalar) | (ValueType::Scalar, ValueType::Vector) => {
                let swap = lt == ValueType::Scalar;
                let (vec, sc) = if swap { (&rhs, &lhs) } else { (&lhs, &rhs) };
                self.range_eval(&[ArgVal::Vector(vec), ArgVal::Scalar(sc)], |a, _| {
                    let (out, anno) =
                        vector_scalar_binop(&op, a[0].vector(), a[1].scalar(), swap, return_bool);
                    annotate(anno);
                    Ok(out)
                })
            }
            _ => {
                let set_op = matches!(op.as_str(), "and" | "or" | "unless");
                let m = Matching::from_expr(b, set_op);
                self.range_eval(&[ArgVal::Vector(&lhs), ArgVal::Vector(&rhs)], |a, _| {
                    let (l, r) = (a[0].vector(), a[1].vector());
                    match op.as_str() {
                        "and" => Ok(vector_and(l, r, &m)),
                        "or" => Ok(vector_or(l, r, &m)),
                        "unless" => Ok(vector_unless(l, r, &m)),
                        _ => {
                            let (out, anno) = vector_binop(&op, l, r, &m, return_bool)?;
                            annotate(anno);
                            Ok(out)
                        }
                    }
                })
            }
        }
    }
}

fn vector_scalar_binop(
    op: &str,
    vec: &[StepSample],
    scalar: f64,
    swap: bool,
    return_bool: bool,
) -> (Vec<StepSample>, Option<Anno>) {
    let mut out = Vec::with_capacity(vec.len());
    let mut last = None;
    for s in vec {
        let (l, r) = if swap { (scalar, s.v) } else { (s.v, scalar) };
        let (hl, hr) = if swap {
            (None, s.h.as_ref())
        } else {
            (s.h.as_ref(), None)
        };
        let ((mut v, mut h, mut keep), _) = match elem_binop(op, l, r, hl, hr) {
            Ok(x) => x,
            Err(a) => {
                if !a.0 {
                    last = Some(a);
                    continue;
                }
                ((0.0, None, false), None)
            }
        };
        if is_comparison(op) && swap {
            v = r;
            h = hr.cloned();
        }
        if return_bool {
            v = if keep { 1.0 } else { 0.0 };
            h = None;
            keep = true;
        }
        if keep {
            let drop_name = s.drop_name || changes_metric_schema(op) || return_bool;
            out.push(StepSample {
                h,
                labels: s.labels.clone(),
                v,
                drop_name,
                t: s.t,
            });
        }
    }
    (out, last)
}

fn vector_and(l: &[StepSample], r: &[StepSample], m: &Matching) -> Vec<StepSample> {
    if l.is_empty() || r.is_empty() {
        return Vec::new();
    }
    let right: HashSet<String> = r.iter().map(|s| m.signature(&s.labels)).collect();
    l.iter()
        .filter(|s| right.contains(&m.signature(&s.labels)))
        .cloned()
        .collect()
}

fn vector_or(l: &[StepSample], r: &[StepSample], m: &Matching) -> Vec<StepSample> {
    if l.is_empty() {
        return r.to_vec();
    }
    if r.is_empty() {
        return l.to_vec();
    }
    let left: HashSet<String> = l.iter().map(|s| m.signature(&s.labels)).collect();
    let mut out = l.to_vec();
    out.extend(
        r.iter()
            .filter(|s| !left.contains(&m.signature(&s.labels)))
            .cloned(),
    );
    out
}

fn vector_unless(l: &[StepSample], r: &[StepSample], m: &Matching) -> Vec<StepSample> {
    if l.is_empty() || r.is_empty() {
        return l.to_vec();
    }
    let right: HashSet<String> = r.iter().map(|s| m.signature(&s.labels)).collect();
    l.iter()
        .filter(|s| !right.contains(&m.signature(&s.labels)))
        .cloned()
        .collect()
}

fn result_metric(lhs: &Labels, rhs: &Labels, op: &str, m: &Matching) -> Labels {
    let mut b = lhs.builder();
    if changes_metric_schema(op) {
        for n in super::METADATA_LABELS {
            b.del(n);
        }
    }
    if m.card == Card::OneToOne {
        if m.on {
            for l in lhs.iter() {
                if !m.labels.contains(&l.name) {
                    b.del(&l.name);
                }
            }
        } else {
            for n in &m.labels {
                b.del(n);
            }
        }
    }
    for n in &m.include {
        match rhs.get(n) {
            Some(v) => {
                b.set(n.clone(), v.to_string());
            }
            None => {
                b.del(n);
            }
        }
    }
    b.build()
}

fn vector_binop(
    op: &str,
    lhs: &[StepSample],
    rhs: &[StepSample],
    m: &Matching,
    return_bool: bool,
) -> EResult<(Vec<StepSample>, Option<Anno>)> {
    if m.card == Card::ManyToMany {
        return Err(exec_err("many-to-many only allowed for set operators"));
    }
    if (lhs.is_empty() && rhs.is_empty())
        || ((lhs.is_empty() || rhs.is_empty()) && m.fill_lhs.is_none() && m.fill_rhs.is_none())
    {
        return Ok((Vec::new(), None));
    }
    let swapped = m.card == Card::OneToMany;
    // As in Prometheus, the sides are swapped for group_right but the fill values are not.
    let (lhs, rhs) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let (fill_l, fill_r) = (m.fill_lhs, m.fill_rhs);
    let mut right: HashMap<String, &StepSample> = HashMap::new();
    for rs in rhs {
        let sig = m.signature(&rs.labels);
        if let Some(dup) = right.get(&sig) {
            let side = if swapped { "left" } else { "right" };
            let (mut a, mut b) = (rs.labels.to_string(), dup.labels.to_string());
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            return Err(exec_err(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{a}, {b}];many-to-many matching not allowed: matching labels must be unique on one side",
                m.match_labels(&rs.labels)
            )));
        }
        right.insert(sig, rs);
    }
    let mut st = BinopState {
        last: None,
        out: Vec::new(),
        matched_one: HashSet::new(),
        matched_many: HashMap::new(),
    };
    for ls in lhs {
        let sig = m.signature(&ls.labels);
        match right.get(&sig) {
            Some(rs) => st.apply(op, m, swapped, return_bool, ls, rs, &sig)?,
            None => {
                if let Some(f) = fill_r {
                    let rs = StepSample {
                        h: None,
                        labels: m.match_labels(&ls.labels).into(),
                        v: f,
                        drop_name: false,
                        t: ls.t,
                    };
                    st.apply(op, m, swapped, return_bool, ls, &rs, &sig)?;
                }
            }
        }
    }
    if let Some(f) = fill_l {
        for rs in rhs {
            let sig = m.signature(&rs.labels);
            let matched = if m.card == Card::OneToOne {
                st.matched_one.contains(&sig)
            } else {
                st.matched_many.get(&sig).is_some_and(|s| !s.is_empty())
            };
            if matched {
                continue;
            }
            let ls = StepSample {
                h: None,
                labels: m.match_labels(&rs.labels).into(),
                v: f,
                drop_name: false,
                t: rs.t,
            };
            st.apply(op, m, swapped, return_bool, &ls, rs, &sig)?;
        }
    }
    Ok((st.out, st.last))
}

struct BinopState {
    last: Option<Anno>,
    out: Vec<StepSample>,
    matched_one: HashSet<String>,
    matched_many: HashMap<String, HashSet<Labels>>,
}

impl BinopState {
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        op: &str,
        m: &Matching,
        swapped: bool,
        return_bool: bool,
        ls: &StepSample,
        rs: &StepSample,
        sig: &str,
    ) -> EResult<()> {
        let (fl, fr) = if swapped { (rs.v, ls.v) } else { (ls.v, rs.v) };
        let (hl, hr) = if swapped {
            (rs.h.as_ref(), ls.h.as_ref())
        } else {
            (ls.h.as_ref(), rs.h.as_ref())
        };
        let ((mut v, mut h, keep), info) = match elem_binop(op, fl, fr, hl, hr) {
            Ok(x) => x,
            Err(a) => {
                self.last = Some(a);
                return Ok(());
            }
        };
        if info.is_some() {
            self.last = info;
        }
        if return_bool {
            v = if keep { 1.0 } else { 0.0 };
            h = None;
        }
        let metric = result_metric(&ls.labels, &rs.labels, op, m);
        if m.card == Card::OneToOne {
            if !self.matched_one.insert(sig.to_string()) {
                return Err(exec_err(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        } else if !self
            .matched_many
            .entry(sig.to_string())
            .or_default()
            .insert(metric.clone())
        {
            return Err(exec_err(
                "multiple matches for labels: grouping labels must ensure unique matches",
            ));
        }
        if keep || return_bool {
            self.out.push(StepSample {
                h,
                labels: metric.into(),
                v,
                drop_name: return_bool,
                t: ls.t,
            });
        }
        Ok(())
    }
}
