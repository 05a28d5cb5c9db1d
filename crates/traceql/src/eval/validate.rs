//! Checks made once per query before evaluating: constructs not
//! implemented, statically wrong types (as Tempo's validation refuses
//! them), regex literals compiled.

use super::field::{grow, Regexes};
use super::EvalError;
use crate::ast::*;

/// Static types of field expressions (`None`: known only per span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Bool,
    Num,
    Str,
    Status,
    Kind,
}

/// Where a field expression is read: in a span filter, `event.` and `link.`
/// fields range over the span's events and links; elsewhere they have no
/// meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Filter,
    Elsewhere(&'static str),
}

/// Validates `p` and compiles its regex literals into `regexes`; returns
/// the fields of its `select(…)` stages (nested ones too), without repeats.
pub(crate) fn pipeline(p: &Pipeline, regexes: &Regexes) -> Result<Vec<Field>, EvalError> {
    let mut selects = Vec::new();
    check_pipeline(p, regexes, &mut selects)?;
    Ok(selects)
}

/// Validates a field named whole outside span filters (`what`: where, for
/// the message), such as a metrics function's argument or a `by (…)` field.
pub(crate) fn field(f: &Field, what: &'static str) -> Result<(), EvalError> {
    let e = match f {
        Field::Intrinsic(i) => FieldExpr::Intrinsic(*i),
        Field::Attribute(a) => FieldExpr::Attribute(a.clone()),
    };
    expr(&e, Place::Elsewhere(what), &Regexes::default()).map(|_| ())
}

fn check_pipeline(p: &Pipeline, re: &Regexes, selects: &mut Vec<Field>) -> Result<(), EvalError> {
    for stage in &p.stages {
        match stage {
            Stage::Spanset(e) => spanset(e, re, selects)?,
            Stage::ScalarFilter(f) => {
                scalar(&f.lhs, re)?;
                scalar(&f.rhs, re)?;
            }
            Stage::GroupBy(e) => {
                expr(e, Place::Elsewhere("by()"), re)?;
            }
            Stage::Select(fields) => {
                for f in fields {
                    let e = match f {
                        Field::Intrinsic(i) => FieldExpr::Intrinsic(*i),
                        Field::Attribute(a) => FieldExpr::Attribute(a.clone()),
                    };
                    expr(&e, Place::Elsewhere("select()"), re)?;
                    if !selects.contains(f) {
                        selects.push(f.clone());
                    }
                }
            }
            Stage::Coalesce => {}
        }
    }
    Ok(())
}

fn spanset(e: &SpansetExpr, re: &Regexes, selects: &mut Vec<Field>) -> Result<(), EvalError> {
    match e {
        SpansetExpr::Filter(f) => {
            let Some(x) = &f.expr else { return Ok(()) };
            match expr(x, Place::Filter, re)? {
                None | Some(Ty::Bool) => Ok(()),
                Some(_) => Err(EvalError::Invalid(format!(
                    "the filter `{{ {x} }}` is not a boolean expression"
                ))),
            }
        }
        SpansetExpr::Op { lhs, rhs, .. } => grow(|| {
            spanset(lhs, re, selects)?;
            spanset(rhs, re, selects)
        }),
        SpansetExpr::Pipeline(p) => grow(|| check_pipeline(p, re, selects)),
    }
}

fn scalar(e: &ScalarExpr, re: &Regexes) -> Result<(), EvalError> {
    match e {
        ScalarExpr::Aggregate(a) => {
            let x = match a {
                Aggregate::Count => return Ok(()),
                Aggregate::Avg(x) | Aggregate::Min(x) | Aggregate::Max(x) | Aggregate::Sum(x) => x,
            };
            match expr(x, Place::Elsewhere("aggregates"), re)? {
                None | Some(Ty::Num) => Ok(()),
                Some(_) => Err(EvalError::Invalid(format!(
                    "`{a}`: aggregates take a numeric expression"
                ))),
            }
        }
        ScalarExpr::Int(_) | ScalarExpr::Float(_) | ScalarExpr::Duration(_) => Ok(()),
        ScalarExpr::Binary { lhs, rhs, .. } => grow(|| {
            scalar(lhs, re)?;
            scalar(rhs, re)
        }),
    }
}

fn intrinsic(i: Intrinsic, place: Place) -> Result<Ty, EvalError> {
    use Intrinsic as I;
    let per_item = matches!(
        i,
        I::EventName | I::EventTimeSinceStart | I::LinkTraceId | I::LinkSpanId
    );
    if let (true, Place::Elsewhere(w)) = (per_item, place) {
        return Err(EvalError::Unsupported(format!(
            "`{}` in {w} (event and link fields are supported in span filters only)",
            i.as_str()
        )));
    }
    Ok(match i {
        I::Parent => {
            return Err(EvalError::Unsupported(
                "the `parent` intrinsic (not implemented in Tempo either)".into(),
            ))
        }
        I::Duration
        | I::SpanDuration
        | I::ChildCount
        | I::SpanChildCount
        | I::TraceDuration
        | I::TraceDurationScoped
        | I::NestedSetLeft
        | I::NestedSetRight
        | I::NestedSetParent
        | I::EventTimeSinceStart => Ty::Num,
        I::Status | I::SpanStatus => Ty::Status,
        I::Kind | I::SpanKind => Ty::Kind,
        _ => Ty::Str,
    })
}

fn attribute(a: &Attribute, place: Place) -> Result<(), EvalError> {
    let per_item = matches!(a.scope, Scope::Event | Scope::Link);
    if per_item && a.parent {
        return Err(EvalError::Unsupported(format!(
            "`{a}`: event and link attributes of the parent span"
        )));
    }
    if let (true, Place::Elsewhere(w)) = (per_item, place) {
        return Err(EvalError::Unsupported(format!(
            "`{a}` in {w} (event and link attributes are supported in span filters only)"
        )));
    }
    Ok(())
}

fn static_ty(s: &Static) -> Option<Ty> {
    Some(match s {
        Static::Int(_) | Static::Float(_) | Static::Duration(_) => Ty::Num,
        Static::String(_) => Ty::Str,
        Static::Bool(_) => Ty::Bool,
        Static::Nil => return None,
        Static::Status(_) => Ty::Status,
        Static::Kind(_) => Ty::Kind,
    })
}

/// Checks `e`, returning its static type when known.
fn expr(e: &FieldExpr, place: Place, re: &Regexes) -> Result<Option<Ty>, EvalError> {
    match e {
        FieldExpr::Static(s) => Ok(static_ty(s)),
        FieldExpr::Intrinsic(i) => intrinsic(*i, place).map(Some),
        FieldExpr::Attribute(a) => attribute(a, place).map(|()| None),
        FieldExpr::Unary { op, expr: x } => {
            let t = grow(|| expr(x, place, re))?;
            let want = match op {
                UnaryOp::Not => Ty::Bool,
                UnaryOp::Neg => Ty::Num,
            };
            if t.is_some_and(|t| t != want) {
                return Err(EvalError::Invalid(format!("`{e}`: wrong operand type")));
            }
            Ok(Some(want))
        }
        FieldExpr::Binary { op, lhs, rhs } => grow(|| binary(e, *op, lhs, rhs, place, re)),
    }
}

fn binary(
    e: &FieldExpr,
    op: BinaryOp,
    lhs: &FieldExpr,
    rhs: &FieldExpr,
    place: Place,
    re: &Regexes,
) -> Result<Option<Ty>, EvalError> {
    use BinaryOp::*;
    let l = expr(lhs, place, re)?;
    let r = expr(rhs, place, re)?;
    let bad = |why: &str| Err(EvalError::Invalid(format!("`{e}`: {why}")));
    let only = |allowed: &[Ty]| [l, r].iter().flatten().all(|t| allowed.contains(t));
    if let (Some(a), Some(b)) = (l, r) {
        if a != b && !matches!(op, And | Or) {
            return bad("the operands have different types");
        }
    }
    match op {
        And | Or if !only(&[Ty::Bool]) => bad("`&&` and `||` take booleans"),
        Lt | Lte | Gt | Gte if !only(&[Ty::Num, Ty::Str]) => {
            bad("only numbers and strings are ordered")
        }
        Regex | NotRegex => {
            if !only(&[Ty::Str]) {
                return bad("regexes match strings");
            }
            if let FieldExpr::Static(Static::String(p)) = rhs {
                re.add_literal(p)?;
            }
            Ok(Some(Ty::Bool))
        }
        Add | Sub | Mul | Div | Mod | Pow if !only(&[Ty::Num]) => bad("arithmetic takes numbers"),
        Add | Sub | Mul | Div | Mod | Pow => Ok(Some(Ty::Num)),
        _ => Ok(Some(Ty::Bool)),
    }
}
