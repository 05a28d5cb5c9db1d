//! Conditions a trace must meet to match a query, cheap enough for the
//! storage layer to test against per-segment statistics (min/max,
//! dictionaries) and skip segments.

use argus_model::traces::{SpanKind, StatusCode};

use super::field::grow;
use crate::ast::*;

/// A condition that some span of every matching trace satisfies (the same
/// span for all the requirements of a query): a segment none of whose spans
/// can satisfy one of them holds no match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// The span's `resource.service.name` is this string.
    ServiceName(String),
    /// The span's name is this string.
    Name(String),
    /// The span's status.
    Status(StatusCode),
    /// The span's kind.
    Kind(SpanKind),
    /// The span has attribute `key` whose value is the string `value`, or
    /// an array with `value` among its elements.
    SpanAttr {
        /// The attribute's key.
        key: String,
        /// The string.
        value: String,
    },
    /// The span's resource has attribute `key` (not `service.name`: see
    /// [`Requirement::ServiceName`]) whose value is the string `value`, or
    /// an array with `value` among its elements.
    ResourceAttr {
        /// The attribute's key.
        key: String,
        /// The string.
        value: String,
    },
    /// The span's duration is at least this many nanoseconds.
    MinDuration(i64),
    /// The span's duration is at most this many nanoseconds.
    MaxDuration(i64),
}

/// The requirements implied by a query's first stage: the conditions
/// listed in [`Requirement`] joined to the rest of a filter by `&&` only (a
/// condition under `||` or `!` implies nothing), of every filter a
/// matching trace must have a span for (both sides of `&&` and of the
/// structural operators). Each holds for some span of every matching
/// trace; every later stage only keeps or regroups spans of the first.
/// Empty when nothing simple is implied.
///
/// ```
/// use argus_traceql::{parse, required_values, Requirement};
/// let q = parse(r#"{ resource.service.name = "api" && duration > 1s && (.a = 1 || .b = 2) } | count() > 2"#)?;
/// assert_eq!(required_values(&q), [
///     Requirement::ServiceName("api".into()),
///     Requirement::MinDuration(1_000_000_001),
/// ]);
/// # Ok::<(), argus_traceql::ParseError>(())
/// ```
pub fn required_values(query: &Query) -> Vec<Requirement> {
    let mut out = Vec::new();
    if let Some(Stage::Spanset(e)) = query.pipeline.stages.first() {
        spanset(e, &mut out);
    }
    out
}

/// What a matching trace needs some span for, of a spanset expression:
/// both sides of `&&` and of the structural operators (each side matches
/// a span of the trace), the right side of a negated one (its result),
/// nothing of `||`.
fn spanset(e: &SpansetExpr, out: &mut Vec<Requirement>) {
    use crate::ast::SpansetOp as O;
    match e {
        SpansetExpr::Filter(SpansetFilter { expr: Some(e) }) => collect(e, out),
        SpansetExpr::Filter(SpansetFilter { expr: None }) => {}
        SpansetExpr::Op { op, lhs, rhs } => grow(|| match op {
            O::Or => {}
            O::NotChild | O::NotParent | O::NotDescendant | O::NotAncestor | O::NotSibling => {
                spanset(rhs, out)
            }
            O::And
            | O::Child
            | O::Parent
            | O::Descendant
            | O::Ancestor
            | O::Sibling
            | O::UnionChild
            | O::UnionParent
            | O::UnionDescendant
            | O::UnionAncestor
            | O::UnionSibling => {
                spanset(lhs, out);
                spanset(rhs, out);
            }
        }),
        SpansetExpr::Pipeline(p) => {
            if let Some(Stage::Spanset(e)) = p.stages.first() {
                spanset(e, out);
            }
        }
    }
}

fn collect(e: &FieldExpr, out: &mut Vec<Requirement>) {
    if let FieldExpr::Binary { op, lhs, rhs } = e {
        if *op == BinaryOp::And {
            grow(|| {
                collect(lhs, out);
                collect(rhs, out);
            });
        } else {
            condition(*op, lhs, rhs, out);
        }
    }
}

/// `field op literal` (either way round) as requirements.
fn condition(op: BinaryOp, lhs: &FieldExpr, rhs: &FieldExpr, out: &mut Vec<Requirement>) {
    use BinaryOp::*;
    let (field, op, lit) = match (lhs, rhs) {
        (FieldExpr::Static(_), FieldExpr::Static(_)) => return,
        (f, FieldExpr::Static(s)) => (f, op, s),
        (FieldExpr::Static(s), f) => {
            let flipped = match op {
                Lt => Gt,
                Lte => Gte,
                Gt => Lt,
                Gte => Lte,
                o => o,
            };
            (f, flipped, s)
        }
        _ => return,
    };
    match (field, lit) {
        (FieldExpr::Intrinsic(i), _) => intrinsic(*i, op, lit, out),
        (FieldExpr::Attribute(a), Static::String(v)) if op == Eq && !a.parent => {
            let (key, value) = (a.name.clone(), v.clone());
            match a.scope {
                Scope::Resource if key == "service.name" => {
                    out.push(Requirement::ServiceName(value))
                }
                Scope::Resource => out.push(Requirement::ResourceAttr { key, value }),
                Scope::Span => out.push(Requirement::SpanAttr { key, value }),
                _ => {}
            }
        }
        _ => {}
    }
}

fn intrinsic(i: Intrinsic, op: BinaryOp, lit: &Static, out: &mut Vec<Requirement>) {
    use BinaryOp::*;
    use Intrinsic as I;
    match (i, op, lit) {
        (I::Name | I::SpanName, Eq, Static::String(s)) => out.push(Requirement::Name(s.clone())),
        (I::Status | I::SpanStatus, Eq, Static::Status(s)) => {
            out.push(Requirement::Status(match s {
                Status::Ok => StatusCode::Ok,
                Status::Error => StatusCode::Error,
                Status::Unset => StatusCode::Unset,
            }))
        }
        (I::Kind | I::SpanKind, Eq, Static::Kind(k)) => out.push(Requirement::Kind(match k {
            Kind::Unspecified => SpanKind::Unspecified,
            Kind::Internal => SpanKind::Internal,
            Kind::Server => SpanKind::Server,
            Kind::Client => SpanKind::Client,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
        })),
        (I::Duration | I::SpanDuration, _, Static::Duration(d) | Static::Int(d)) => {
            let d = *d;
            match op {
                Gt => out.push(Requirement::MinDuration(d.saturating_add(1))),
                Gte => out.push(Requirement::MinDuration(d)),
                Lt => out.push(Requirement::MaxDuration(d.saturating_sub(1))),
                Lte => out.push(Requirement::MaxDuration(d)),
                Eq => {
                    out.push(Requirement::MinDuration(d));
                    out.push(Requirement::MaxDuration(d));
                }
                _ => {}
            }
        }
        _ => {}
    }
}
