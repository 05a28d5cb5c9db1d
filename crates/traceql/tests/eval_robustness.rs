//! Evaluation never panics: every query of the conformance file (Grafana's
//! TraceQL grammar tests, `shared/conformance/traceql/expression.txt`) and
//! random queries made of TraceQL's pieces, over random traces (colliding
//! ids, loops, missing parents, attributes of every type), give results or
//! errors, and results name spans of the trace, ascending and distinct.

use std::sync::Arc;

use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanKind, SpanLink, SpanOrigin, StatusCode,
};
use argus_traceql::{eval_pipeline, eval_spansets, parse, required_values, Query, SpanSet};
use proptest::prelude::*;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/traceql/expression.txt"
);

/// The queries of the conformance file that parse.
fn conformance_queries() -> Vec<Query> {
    let text = std::fs::read_to_string(FILE).unwrap_or_else(|e| {
        panic!(
            "cannot read the TraceQL conformance file {FILE}: {e} (it lives beside the \
             repository checkout, in shared/conformance/traceql/expression.txt)"
        )
    });
    let mut queries = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("# ") {
            continue;
        }
        let q: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "==>").collect();
        if let Ok(q) = parse(q.join("\n").trim()) {
            queries.push(q);
        }
    }
    assert!(queries.len() >= 100, "{} queries parse", queries.len());
    queries
}

fn value() -> impl Strategy<Value = AttrValue> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["a", "b", "GET", "200", "", "frontend"])
            .prop_map(|s| AttrValue::Str(s.into())),
        (-3i64..600).prop_map(AttrValue::Int),
        prop::sample::select(vec![0.0, -1.5, 0.75, f64::NAN, f64::INFINITY, 1e300])
            .prop_map(AttrValue::Float),
        any::<bool>().prop_map(AttrValue::Bool),
        Just(AttrValue::Bytes(vec![1, 2])),
        Just(AttrValue::Int(i64::MIN)),
        Just(AttrValue::Int(i64::MAX)),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(AttrValue::Array),
            prop::collection::vec(inner, 0..2).prop_map(|v| {
                AttrValue::Map(v.into_iter().map(|x| Attr::new("k", x)).collect())
            }),
        ]
    })
}

fn attrs() -> impl Strategy<Value = Vec<Attr>> {
    let key = prop::sample::select(vec![
        "foo",
        "bar",
        "http.status_code",
        "service.name",
        "a",
        "b",
        "http.method",
    ]);
    prop::collection::vec((key, value()).prop_map(|(k, v)| Attr::new(k, v)), 0..4)
}

prop_compose! {
    fn span(origins: Vec<Arc<SpanOrigin>>)(
        origin in prop::sample::select(origins),
        id in 1u8..8,
        parent in prop::option::of(0u8..10),
        kind in 0i32..6,
        status in 0i32..3,
        name in prop::sample::select(vec!["a", "b", "GET /x", ""]),
        start in -5i64..50,
        len in -5i64..50,
        attrs in attrs(),
        events in prop::collection::vec((prop::sample::select(vec!["e", "exception"]), attrs()), 0..3),
        link in any::<bool>(),
    ) -> Span {
        Span {
            origin,
            span_id: [0, 0, 0, 0, 0, 0, 0, id],
            parent_span_id: parent.map(|p| [0, 0, 0, 0, 0, 0, 0, p]),
            name: name.into(),
            kind: SpanKind::from_i32(kind),
            status: StatusCode::from_i32(status),
            start_ns: start,
            end_ns: start + len,
            attrs,
            events: events
                .into_iter()
                .map(|(n, attrs)| SpanEvent { name: n.into(), attrs, ts_ns: start + 1, ..SpanEvent::default() })
                .collect(),
            links: if link { vec![SpanLink::default()] } else { Vec::new() },
            ..Span::default()
        }
    }
}

fn trace() -> impl Strategy<Value = Vec<Span>> {
    let origins: Vec<Arc<SpanOrigin>> = ["frontend", "api", ""]
        .iter()
        .map(|s| {
            let mut res = vec![Attr::new("foo", AttrValue::Int(1))];
            if !s.is_empty() {
                res.push(Attr::str("service.name", *s));
            }
            Arc::new(SpanOrigin::new(res))
        })
        .collect();
    prop::collection::vec(span(origins), 0..12)
}

fn check(sets: &[SpanSet], n: usize) {
    for s in sets {
        assert!(!s.spans.is_empty());
        assert!(s.spans.windows(2).all(|w| w[0] < w[1]), "{:?}", s.spans);
        assert!(s.spans.iter().all(|&i| i < n));
        assert!(s.selected.is_empty() || s.selected.len() == s.spans.len());
    }
}

fn run(q: &Query, spans: &[Span]) {
    let _ = required_values(q);
    if let Ok(sets) = eval_spansets(q, spans) {
        check(&sets, spans.len());
    }
    if let Ok(sets) = eval_pipeline(&q.pipeline, spans) {
        check(&sets, spans.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every conformance query over random traces.
    #[test]
    fn conformance_queries_over_random_traces(spans in trace()) {
        for q in conformance_queries() {
            run(&q, &spans);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Random queries of TraceQL's pieces over a random trace.
    #[test]
    fn random_queries(parts in prop::collection::vec(prop::sample::select(vec![
        "{", "}", "(", ")", " ", ".foo", "span.bar", "parent.foo", "resource.service.name",
        "event.a", "link.b", "1", "1.5", "2s", "\"a\"", "`GET.*`", "0", "-",
        "&&", "||", "!", "+", "*", "/", "%", "^", "=", "!=", "<", "<=", ">", ">=", "=~", "!~",
        ">>", "<<", "~", "!>", "!>>", "!<", "!<<", "!~", "&>", "&>>", "&<", "&<<", "&~", "|",
        ",", "count()", "avg(", "min(", "max(", "sum(", "by(", "select(", "coalesce()",
        "true", "nil", "ok", "error", "server", "duration", "name", "span:id", "status",
        "kind", "childCount", "traceDuration", "rootName", "event:name", "link:traceID",
        "nestedSetLeft", "instrumentation:name", "span:parentID", "trace:id",
    ]), 0..24), spans in trace()) {
        if let Ok(q) = parse(&parts.concat()) {
            run(&q, &spans);
        }
    }
}

#[test]
fn deep_queries_evaluate() {
    let spans = vec![Span {
        attrs: vec![Attr::new("a", AttrValue::Int(1))],
        ..Span::default()
    }];
    for q in [
        format!("{{ {}.a{} = 1 }}", "(".repeat(990), ")".repeat(990)),
        format!("{{ .a{} > 0 }}", " + 1".repeat(490)),
        format!("{{ {}.a = 1 }}", "!".repeat(990)),
        format!("{{ .a = 1 }}{}", " && { .a = 1 }".repeat(490)),
        format!("{{ .a = 1 }}{}", " >> { .a = 1 }".repeat(490)),
        format!("{{}} | count(){} > 1", " + 1".repeat(490)),
    ] {
        let q = parse(&q).unwrap_or_else(|e| panic!("{e}"));
        // On a small stack, as a server's worker thread might have.
        let spans = spans.clone();
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || run(&q, &spans))
            .and_then(|h| h.join().map_err(|_| std::io::Error::other("panicked")))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
