//! The trace's tree: broken trees (loops, self-parents, shared ids) are
//! cut without hanging, and structural operators stay linear on 100k-span
//! traces.

use std::sync::Arc;

use argus_model::traces::{Attr, Span, SpanKind, SpanOrigin, StatusCode};
use argus_traceql::*;

struct Origins {
    api: Arc<SpanOrigin>,
}

fn origins() -> Origins {
    Origins {
        api: Arc::new(SpanOrigin::new(vec![Attr::str("service.name", "api")])),
    }
}

#[allow(clippy::too_many_arguments)]
fn span(
    _trace: u8,
    id: u8,
    parent: Option<u8>,
    origin: &Arc<SpanOrigin>,
    name: &str,
    kind: SpanKind,
    (start, end): (i64, i64),
    status: StatusCode,
    attrs: Vec<Attr>,
) -> Span {
    Span {
        origin: origin.clone(),
        span_id: [0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent.map(|p| [0, 0, 0, 0, 0, 0, 0, p]),
        name: name.into(),
        kind,
        start_ns: start,
        end_ns: end,
        attrs,
        status,
        ..Span::default()
    }
}

fn eval1(q: &str, spans: &[Span]) -> Result<Vec<SpanSet>, EvalError> {
    eval_spansets(&parse(q).unwrap_or_else(|e| panic!("{q}: {e}")), spans)
}

/// Spans linked in a loop, to themselves, or sharing ids do not hang or
/// panic the evaluator.
#[test]
fn broken_trees_are_cut() {
    let o = origins();
    let mk = |id: u8, parent: Option<u8>, kind| {
        span(
            1,
            id,
            parent,
            &o.api,
            &format!("s{id}"),
            kind,
            (0, 10),
            StatusCode::Unset,
            vec![],
        )
    };
    let spans = vec![
        mk(1, Some(2), SpanKind::Internal),
        mk(2, Some(1), SpanKind::Internal),
        mk(3, Some(3), SpanKind::Internal),
        mk(4, Some(1), SpanKind::Internal),
        // Zipkin's shared span: the server half has the client's id.
        mk(5, None, SpanKind::Client),
        mk(5, Some(5), SpanKind::Server),
        mk(6, Some(5), SpanKind::Internal),
    ];
    let view = TraceView::new(&spans);
    assert_eq!(view.parent(5), Some(4));
    assert_eq!(view.parent(6), Some(5));
    assert_eq!(view.parent(2), None);
    for q in [
        "{ } >> { }",
        "{ } << { }",
        "{ } ~ { }",
        "{ } &>> { }",
        "{ } !< { }",
    ] {
        let sets = eval1(q, &spans).unwrap();
        assert!(sets
            .iter()
            .all(|s| s.spans.iter().all(|&i| i < spans.len())));
    }
    let d = eval1(r#"{ name = "s5" && kind = client } >> { }"#, &spans).unwrap();
    assert_eq!(d[0].spans, [5, 6]);
}

/// Structural operators are linear: a 100k-span chain and a 100k-span fan.
#[test]
fn large_traces_evaluate_quickly() {
    let o = origins();
    let n = 100_000usize;
    let id = |i: usize| (i as u64 + 1).to_be_bytes();
    let mk = |i: usize, parent: Option<usize>| Span {
        origin: o.api.clone(),
        span_id: id(i),
        parent_span_id: parent.map(id),
        name: if i.is_multiple_of(2) { "even" } else { "odd" }.into(),
        start_ns: i as i64,
        end_ns: i as i64 + 10,
        ..Span::default()
    };
    let chain: Vec<Span> = (0..n).map(|i| mk(i, i.checked_sub(1))).collect();
    let fan: Vec<Span> = (0..n).map(|i| mk(i, (i > 0).then_some(0))).collect();
    let start = std::time::Instant::now();
    for q in [
        r#"{ name = "even" } >> { name = "odd" }"#,
        r#"{ name = "even" } << { name = "odd" }"#,
        r#"{ name = "even" } ~ { name = "odd" }"#,
        r#"{ name = "even" } &>> { name = "odd" }"#,
        r#"{ name = "even" } !> { }"#,
    ] {
        eval1(q, &chain).unwrap();
        eval1(q, &fan).unwrap();
    }
    let chain_desc = eval1(r#"{ name = "even" } >> { name = "odd" }"#, &chain).unwrap();
    assert_eq!(chain_desc[0].spans.len(), n / 2);
    let fan_sib = eval1(r#"{ name = "even" } ~ { name = "odd" }"#, &fan).unwrap();
    assert_eq!(fan_sib[0].spans.len(), n / 2);
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}
