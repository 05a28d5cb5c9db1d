//! Which span data evaluating a query reads: a store may leave out what
//! it does not (a search then decodes fewer columns).

use super::field::grow;
use crate::ast::*;

/// Whether evaluating `query`'s spanset pipeline reads a span's own
/// attributes, events or links: an attribute of scope `span`, `event` or
/// `link`, an unscoped one (`.x` may be a span attribute), or an
/// `event:` / `link:` intrinsic. Intrinsics, resource and instrumentation
/// attributes and the structure (ids, parents) do not count. A query with
/// a metrics stage counts as reading everything.
///
/// ```
/// use argus_traceql::{parse, reads_span_attributes};
/// let q = |s: &str| parse(s).unwrap();
/// assert!(!reads_span_attributes(&q(r#"{ resource.service.name = "a" && status = error }"#)));
/// assert!(!reads_span_attributes(&q(r#"{ name = "a" } >> { duration > 1s } | count() > 1"#)));
/// assert!(reads_span_attributes(&q(r#"{ span.http.method = "GET" }"#)));
/// assert!(reads_span_attributes(&q(r#"{ .region = "eu" }"#)));
/// assert!(reads_span_attributes(&q(r#"{} | select(event:name)"#)));
/// ```
pub fn reads_span_attributes(query: &Query) -> bool {
    query.metrics.is_some() || pipeline(&query.pipeline)
}

fn pipeline(p: &Pipeline) -> bool {
    p.stages.iter().any(|s| match s {
        Stage::Spanset(e) => spanset(e),
        Stage::ScalarFilter(f) => scalar(&f.lhs) || scalar(&f.rhs),
        Stage::GroupBy(e) => field_expr(e),
        Stage::Select(fields) => fields.iter().any(field),
        Stage::Coalesce => false,
    })
}

fn spanset(e: &SpansetExpr) -> bool {
    match e {
        SpansetExpr::Filter(f) => f.expr.as_ref().is_some_and(field_expr),
        SpansetExpr::Op { lhs, rhs, .. } => grow(|| spanset(lhs) || spanset(rhs)),
        SpansetExpr::Pipeline(p) => grow(|| pipeline(p)),
    }
}

fn scalar(e: &ScalarExpr) -> bool {
    match e {
        ScalarExpr::Aggregate(a) => match a {
            Aggregate::Count => false,
            Aggregate::Avg(e) | Aggregate::Min(e) | Aggregate::Max(e) | Aggregate::Sum(e) => {
                field_expr(e)
            }
        },
        ScalarExpr::Int(_) | ScalarExpr::Float(_) | ScalarExpr::Duration(_) => false,
        ScalarExpr::Binary { lhs, rhs, .. } => grow(|| scalar(lhs) || scalar(rhs)),
    }
}

fn field_expr(e: &FieldExpr) -> bool {
    match e {
        FieldExpr::Static(_) => false,
        FieldExpr::Intrinsic(i) => intrinsic(*i),
        FieldExpr::Attribute(a) => attribute(a),
        FieldExpr::Unary { expr, .. } => grow(|| field_expr(expr)),
        FieldExpr::Binary { lhs, rhs, .. } => grow(|| field_expr(lhs) || field_expr(rhs)),
    }
}

fn field(f: &Field) -> bool {
    match f {
        Field::Intrinsic(i) => intrinsic(*i),
        Field::Attribute(a) => attribute(a),
    }
}

fn attribute(a: &Attribute) -> bool {
    !matches!(a.scope, Scope::Resource | Scope::Instrumentation)
}

fn intrinsic(i: Intrinsic) -> bool {
    matches!(
        i,
        Intrinsic::EventName
            | Intrinsic::EventTimeSinceStart
            | Intrinsic::LinkTraceId
            | Intrinsic::LinkSpanId
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn span_data_is_read_wherever_a_query_names_it() {
        let reads = |s: &str| reads_span_attributes(&parse(s).unwrap());
        for q in [
            r#"{ resource.service.name = "a" } >> { span.db.system = "pg" }"#,
            r#"{ status = error } | avg(span.size) > 2"#,
            r#"{ status = error } | by(span.region)"#,
            r#"({ name = "a" } | count() > 1) && { link:traceID != "" }"#,
            r#"{ !(event.exception.type = "x") }"#,
            r#"{ parent.span.x = 1 }"#,
            r#"{ status = error } | rate() by (resource.service.name)"#,
        ] {
            assert!(reads(q), "{q}");
        }
        for q in [
            r#"{ resource.service.name = "a" } >> { status = error && kind = server }"#,
            r#"{ instrumentation.name = "lib" } | max(duration) > 1s"#,
            r#"{ trace:rootService = "a" && span:id != "" && nestedSetParent = -1 }"#,
            r#"{} | select(resource.k8s.pod.name, statusMessage)"#,
            r#"{ parent.resource.service.name = "a" }"#,
        ] {
            assert!(!reads(q), "{q}");
        }
    }
}
