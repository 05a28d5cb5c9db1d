//! Pipelines over spansets: spanset expressions, scalar filters, `by`,
//! `coalesce`, with Tempo's semantics.

use std::collections::HashMap;

use super::field::{grow, At, Env};
use super::structural::{relate, union};
use super::value::{arith, compare, Val, Value};
use super::EvalError;
use crate::ast::*;

/// A spanset while evaluating: sorted span indexes and reported values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Set {
    pub(crate) spans: Vec<usize>,
    pub(crate) attrs: Vec<(String, Value)>,
}

impl Set {
    fn with_spans(&self, spans: Vec<usize>) -> Set {
        Set {
            spans,
            attrs: self.attrs.clone(),
        }
    }

    fn set_attr(&mut self, name: String, value: Value) {
        match self.attrs.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name, value)),
        }
    }
}

impl<'t> Env<'t> {
    /// Runs `p` over `input`; stops at the first stage leaving nothing.
    pub(crate) fn pipeline(&self, p: &Pipeline, input: Vec<Set>) -> Result<Vec<Set>, EvalError> {
        let mut sets = input;
        for stage in &p.stages {
            if sets.is_empty() {
                break;
            }
            sets = match stage {
                Stage::Spanset(e) => self.spanset(e, &sets)?,
                Stage::ScalarFilter(f) => self.scalar_filter(f, sets),
                Stage::GroupBy(e) => self.group_by(e, &sets),
                // The values are read for the result spans at the end.
                Stage::Select(_) => sets,
                Stage::Coalesce => vec![Set {
                    spans: sets.into_iter().fold(Vec::new(), |a, s| union(a, s.spans)),
                    attrs: Vec::new(),
                }],
            };
        }
        Ok(sets)
    }

    /// A spanset expression over each input spanset.
    fn spanset(&self, e: &SpansetExpr, input: &[Set]) -> Result<Vec<Set>, EvalError> {
        match e {
            SpansetExpr::Filter(f) => Ok(self.filter_sets(f, input)),
            SpansetExpr::Pipeline(p) => grow(|| self.pipeline(p, input.to_vec())),
            SpansetExpr::Op { op, lhs, rhs } => {
                let mut out = Vec::new();
                for set in input {
                    let one = std::slice::from_ref(set);
                    let l = grow(|| self.spanset(lhs, one))?;
                    let r = grow(|| self.spanset(rhs, one))?;
                    let spans = self.combine(*op, l, r)?;
                    if !spans.is_empty() {
                        out.push(set.with_spans(spans));
                    }
                }
                Ok(out)
            }
        }
    }

    fn filter_sets(&self, f: &SpansetFilter, input: &[Set]) -> Vec<Set> {
        let Some(expr) = &f.expr else {
            return input.to_vec();
        };
        let keep = self.filter(expr);
        input
            .iter()
            .filter_map(|set| {
                let spans: Vec<usize> = set.spans.iter().copied().filter(|&s| keep(s)).collect();
                (!spans.is_empty()).then(|| set.with_spans(spans))
            })
            .collect()
    }

    /// `l op r` for the spansets of both sides: `&&` and `||` join all their
    /// spans; a structural operator needs at most one spanset a side.
    fn combine(&self, op: SpansetOp, l: Vec<Set>, r: Vec<Set>) -> Result<Vec<usize>, EvalError> {
        let all = |sets: Vec<Set>| sets.into_iter().fold(Vec::new(), |a, s| union(a, s.spans));
        match op {
            SpansetOp::And if l.is_empty() || r.is_empty() => Ok(Vec::new()),
            SpansetOp::And | SpansetOp::Or => Ok(union(all(l), all(r))),
            _ if l.len() > 1 || r.len() > 1 => Err(EvalError::MultipleSpansets),
            _ => {
                let (l, r) = (all(l), all(r));
                if r.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(relate(self.view, op, &l, &r))
            }
        }
    }

    /// `lhs op rhs` over aggregates: keeps the spansets where it holds, with
    /// the aggregates' values as attributes. A spanset where an aggregate
    /// has no value (every span's field is nil) is dropped, as in Tempo.
    fn scalar_filter(&self, f: &ScalarFilter, input: Vec<Set>) -> Vec<Set> {
        let op = match f.op {
            ComparisonOp::Eq => BinaryOp::Eq,
            ComparisonOp::Neq => BinaryOp::Neq,
            ComparisonOp::Lt => BinaryOp::Lt,
            ComparisonOp::Lte => BinaryOp::Lte,
            ComparisonOp::Gt => BinaryOp::Gt,
            ComparisonOp::Gte => BinaryOp::Gte,
        };
        let mut out = Vec::new();
        for mut set in input {
            let mut attrs = Vec::new();
            let (Some(l), Some(r)) = (
                self.scalar(&f.lhs, &set, &mut attrs),
                self.scalar(&f.rhs, &set, &mut attrs),
            ) else {
                continue;
            };
            if compare(op, &l, &r, &|_, _| None) {
                for (n, v) in attrs {
                    set.set_attr(n, v);
                }
                out.push(set);
            }
        }
        out
    }

    fn scalar(
        &self,
        e: &ScalarExpr,
        set: &Set,
        attrs: &mut Vec<(String, Value)>,
    ) -> Option<Val<'static>> {
        let v = match e {
            ScalarExpr::Aggregate(a) => {
                let v = self.aggregate(a, set)?;
                attrs.push((a.to_string(), v.to_value()));
                v
            }
            ScalarExpr::Int(n) => Val::Int(*n),
            ScalarExpr::Float(x) => Val::Float(*x),
            ScalarExpr::Duration(d) => Val::Dur(*d),
            ScalarExpr::Binary { op, lhs, rhs } => {
                let l = grow(|| self.scalar(lhs, set, attrs))?;
                let r = grow(|| self.scalar(rhs, set, attrs))?;
                arith(*op, &l, &r)
            }
        };
        (!v.is_nil()).then_some(v)
    }

    /// An aggregate of the spanset's numeric values (other values are
    /// skipped); `None` when there are none.
    fn aggregate(&self, a: &Aggregate, set: &Set) -> Option<Val<'static>> {
        let (e, kind) = match a {
            Aggregate::Count => {
                return Some(Val::Int(i64::try_from(set.spans.len()).unwrap_or(i64::MAX)))
            }
            Aggregate::Avg(e) => (e, Agg::Avg),
            Aggregate::Min(e) => (e, Agg::Min),
            Aggregate::Max(e) => (e, Agg::Max),
            Aggregate::Sum(e) => (e, Agg::Sum),
        };
        let mut values = set
            .spans
            .iter()
            .filter_map(|&s| number(&self.eval(e, At::span(s))));
        let first = values.next()?;
        let mut count = 1i64;
        let mut acc = first;
        for v in values {
            count += 1;
            acc = match kind {
                Agg::Sum | Agg::Avg => add(&acc, &v),
                Agg::Min if compare(BinaryOp::Lt, &v, &acc, &|_, _| None) => v,
                Agg::Max if compare(BinaryOp::Gt, &v, &acc, &|_, _| None) => v,
                Agg::Min | Agg::Max => acc,
            };
        }
        Some(match (kind, acc) {
            (Agg::Avg, Val::Dur(total)) => Val::Dur(total / count),
            (Agg::Avg, total) => Val::Float(total.num().unwrap_or(f64::NAN) / count as f64),
            (_, acc) => acc,
        })
    }

    /// `by(e)`: splits each spanset by the value of `e` (nil is a value),
    /// groups in order of first appearance.
    fn group_by(&self, e: &FieldExpr, input: &[Set]) -> Vec<Set> {
        let name = format!("by({e})");
        let mut out = Vec::new();
        for set in input {
            let mut groups: Vec<Set> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            for &s in &set.spans {
                let v = self.eval(e, At::span(s)).to_value();
                let key = format!("{v:?}");
                let g = *index.entry(key).or_insert_with(|| {
                    let mut g = set.with_spans(Vec::new());
                    g.set_attr(name.clone(), v);
                    groups.push(g);
                    groups.len() - 1
                });
                groups[g].spans.push(s);
            }
            out.extend(groups);
        }
        out
    }
}

/// `v` if it is a number.
fn number(v: &Val<'_>) -> Option<Val<'static>> {
    match v {
        Val::Int(n) => Some(Val::Int(*n)),
        Val::Float(x) => Some(Val::Float(*x)),
        Val::Dur(d) => Some(Val::Dur(*d)),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Agg {
    Avg,
    Min,
    Max,
    Sum,
}

/// `a + b` keeping integers and durations exact where they fit.
fn add(a: &Val<'_>, b: &Val<'_>) -> Val<'static> {
    match (a, b) {
        (Val::Dur(x), Val::Dur(y)) => Val::Dur(x.saturating_add(*y)),
        _ => arith(BinaryOp::Add, a, b),
    }
}
