//! Evaluation over hand-built traces: every query with the spans it must
//! select in each trace, worked out from Tempo's documented semantics.
//!
//! Three traces, three services (`frontend`, `api`, `db`):
//!
//! ```text
//! A  (1s)                                      B  (5ms)
//! A1 frontend "GET /checkout" server 0-1000ms  B1 frontend "GET /health" server 0-5ms
//!   A2 frontend "call api" client 10-900         B2 api "check" internal 1-3 ok
//!     A3 api "POST /orders" server 20-880        B3 api "cache lookup" client 3-4 ok
//!       A4 api "validate" internal 30-60
//!       A5 api "query orders" client 70-800    C  (300ms, its root's parent missing)
//!         A6 db "SELECT orders" server 80-790  C1 api "consume" consumer 0-300
//!            error "deadlock"                     events: retry{attempt=1}; a link
//!       A7 api "publish" producer 810-820 ok     C2 db "INSERT jobs" client 10-200
//!                                                   error "timeout"; events: exception
//!                                                C3 db "INSERT audit" client 210-250
//! ```
//!
//! Attributes: A1-A3 `span.http.status_code` = 500 (int), B1 200, C3 "500"
//! (a string); A1 and B1 `http.method` = "GET"; A1 `http.url`; A3
//! `retries` = 2 and `sampled` = true; A4 `score` = 0.75; A5 `db.system`;
//! A6 `tags` = ["a", "b"]. Resources: frontend and api in region "us", db
//! in "eu"; api has `version` = 2; db's instrumentation scope is
//! "db-driver".

use std::sync::Arc;

use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanKind, SpanLink, SpanOrigin, StatusCode,
};
use argus_traceql::*;

const MS: i64 = 1_000_000;

struct Origins {
    frontend: Arc<SpanOrigin>,
    api: Arc<SpanOrigin>,
    db: Arc<SpanOrigin>,
}

fn origins() -> Origins {
    let res =
        |svc: &str, region: &str| vec![Attr::str("service.name", svc), Attr::str("region", region)];
    let mut api = res("api", "us");
    api.push(Attr::new("version", AttrValue::Int(2)));
    let mut db = SpanOrigin::new(res("db", "eu"));
    db.scope_name = "db-driver".into();
    db.scope_version = "1.2".into();
    Origins {
        frontend: Arc::new(SpanOrigin::new(res("frontend", "us"))),
        api: Arc::new(SpanOrigin::new(api)),
        db: Arc::new(db),
    }
}

/// A span with id `id` (one byte), labelled by `label` in the tests.
#[allow(clippy::too_many_arguments)]
fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    origin: &Arc<SpanOrigin>,
    name: &str,
    kind: SpanKind,
    (start_ms, end_ms): (i64, i64),
    status: StatusCode,
    attrs: Vec<Attr>,
) -> Span {
    let mut trace_id = [0u8; 16];
    trace_id[15] = trace;
    Span {
        origin: origin.clone(),
        trace_id,
        span_id: [0, 0, 0, 0, 0, 0, 0, id],
        parent_span_id: parent.map(|p| [0, 0, 0, 0, 0, 0, 0, p]),
        name: name.into(),
        kind,
        start_ns: 1_700_000_000_000 * MS + start_ms * MS,
        end_ns: 1_700_000_000_000 * MS + end_ms * MS,
        attrs,
        status,
        ..Span::default()
    }
}

fn int(k: &str, v: i64) -> Attr {
    Attr::new(k, AttrValue::Int(v))
}

/// The three traces, each with the labels of its spans.
fn traces() -> Vec<(&'static str, Vec<Span>, Vec<&'static str>)> {
    use SpanKind::*;
    use StatusCode::{Error, Ok as Okay, Unset};
    let o = origins();
    let a = vec![
        span(
            0xA,
            0xa1,
            None,
            &o.frontend,
            "GET /checkout",
            Server,
            (0, 1000),
            Unset,
            vec![
                Attr::str("http.method", "GET"),
                int("http.status_code", 500),
                Attr::str("http.url", "/checkout?id=7"),
            ],
        ),
        span(
            0xA,
            0xa2,
            Some(0xa1),
            &o.frontend,
            "call api",
            Client,
            (10, 900),
            Unset,
            vec![int("http.status_code", 500)],
        ),
        span(
            0xA,
            0xa3,
            Some(0xa2),
            &o.api,
            "POST /orders",
            Server,
            (20, 880),
            Unset,
            vec![
                int("http.status_code", 500),
                int("retries", 2),
                Attr::new("sampled", AttrValue::Bool(true)),
            ],
        ),
        span(
            0xA,
            0xa4,
            Some(0xa3),
            &o.api,
            "validate",
            Internal,
            (30, 60),
            Unset,
            vec![Attr::new("score", AttrValue::Float(0.75))],
        ),
        span(
            0xA,
            0xa5,
            Some(0xa3),
            &o.api,
            "query orders",
            Client,
            (70, 800),
            Unset,
            vec![Attr::str("db.system", "postgres")],
        ),
        {
            let mut s = span(
                0xA,
                0xa6,
                Some(0xa5),
                &o.db,
                "SELECT orders",
                Server,
                (80, 790),
                Error,
                vec![
                    Attr::str("db.statement", "SELECT * FROM orders"),
                    Attr::new(
                        "tags",
                        AttrValue::Array(vec![
                            AttrValue::Str("a".into()),
                            AttrValue::Str("b".into()),
                        ]),
                    ),
                ],
            );
            s.status_message = "deadlock".into();
            s
        },
        span(
            0xA,
            0xa7,
            Some(0xa3),
            &o.api,
            "publish",
            Producer,
            (810, 820),
            Okay,
            vec![],
        ),
    ];
    let b = vec![
        span(
            0xB,
            0xb1,
            None,
            &o.frontend,
            "GET /health",
            Server,
            (0, 5),
            Unset,
            vec![
                int("http.status_code", 200),
                Attr::str("http.method", "GET"),
            ],
        ),
        span(
            0xB,
            0xb2,
            Some(0xb1),
            &o.api,
            "check",
            Internal,
            (1, 3),
            Okay,
            vec![],
        ),
        span(
            0xB,
            0xb3,
            Some(0xb1),
            &o.api,
            "cache lookup",
            Client,
            (3, 4),
            Okay,
            vec![],
        ),
    ];
    let mut c1 = span(
        0xC,
        0xc1,
        Some(0x99),
        &o.api,
        "consume",
        Consumer,
        (0, 300),
        Unset,
        vec![],
    );
    c1.events.push(SpanEvent {
        ts_ns: c1.start_ns + 100 * MS,
        name: "retry".into(),
        attrs: vec![int("attempt", 1)],
        ..SpanEvent::default()
    });
    c1.links.push(SpanLink {
        trace_id: [7; 16],
        span_id: [8; 8],
        ..SpanLink::default()
    });
    let mut c2 = span(
        0xC,
        0xc2,
        Some(0xc1),
        &o.db,
        "INSERT jobs",
        Client,
        (10, 200),
        Error,
        vec![],
    );
    c2.status_message = "timeout".into();
    c2.events.push(SpanEvent {
        ts_ns: c2.start_ns + 150 * MS,
        name: "exception".into(),
        attrs: vec![Attr::str("exception.type", "Timeout")],
        ..SpanEvent::default()
    });
    let c3 = span(
        0xC,
        0xc3,
        Some(0xc1),
        &o.db,
        "INSERT audit",
        Client,
        (210, 250),
        Unset,
        vec![Attr::str("http.status_code", "500")],
    );
    // C is given children first: the input order does not matter.
    let c = vec![c3, c2, c1];
    vec![
        ("A", a, vec!["A1", "A2", "A3", "A4", "A5", "A6", "A7"]),
        ("B", b, vec!["B1", "B2", "B3"]),
        ("C", c, vec!["C3", "C2", "C1"]),
    ]
}

/// Queries and the spansets each trace gives: labels within a spanset
/// separated by spaces, spansets by `|`, `-` for no match.
const CASES: &[(&str, [&str; 3])] = &[
    // Intrinsics and attributes.
    ("{ }", ["A1 A2 A3 A4 A5 A6 A7", "B1 B2 B3", "C1 C2 C3"]),
    ("{ false }", ["-", "-", "-"]),
    (
        r#"{ resource.service.name = "api" }"#,
        ["A3 A4 A5 A7", "B2 B3", "C1"],
    ),
    (r#"{ .service.name = "db" }"#, ["A6", "-", "C2 C3"]),
    (r#"{ name = "validate" }"#, ["A4", "-", "-"]),
    ("{ status = error }", ["A6", "-", "C2"]),
    (
        "{ status != error }",
        ["A1 A2 A3 A4 A5 A7", "B1 B2 B3", "C1 C3"],
    ),
    ("{ span:status = ok }", ["A7", "B2 B3", "-"]),
    (r#"{ statusMessage = "deadlock" }"#, ["A6", "-", "-"]),
    ("{ kind = server }", ["A1 A3 A6", "B1", "-"]),
    ("{ duration > 700ms }", ["A1 A2 A3 A5 A6", "-", "-"]),
    (
        "{ duration >= 30ms && duration < 100ms }",
        ["A4", "-", "C3"],
    ),
    (
        "{ traceDuration > 500ms }",
        ["A1 A2 A3 A4 A5 A6 A7", "-", "-"],
    ),
    (
        r#"{ rootName = "GET /checkout" }"#,
        ["A1 A2 A3 A4 A5 A6 A7", "-", "-"],
    ),
    (r#"{ rootServiceName = "api" }"#, ["-", "-", "C1 C2 C3"]),
    ("{ childCount = 3 }", ["A3", "-", "-"]),
    (r#"{ span:id = "00000000000000a3" }"#, ["A3", "-", "-"]),
    (r#"{ span:parentID = "A3" }"#, ["A4 A5 A7", "-", "-"]),
    (
        r#"{ instrumentation:name = "db-driver" }"#,
        ["A6", "-", "C2 C3"],
    ),
    // Typed comparisons, missing attributes, nil.
    ("{ span.http.status_code = 500 }", ["A1 A2 A3", "-", "-"]),
    ("{ span.http.status_code >= 400.5 }", ["A1 A2 A3", "-", "-"]),
    ("{ span.http.status_code != 500 }", ["-", "B1", "-"]),
    (r#"{ span.http.status_code = "500" }"#, ["-", "-", "C3"]),
    (r#"{ .missing != "x" }"#, ["-", "-", "-"]),
    (
        "{ span.http.status_code = nil }",
        ["A4 A5 A6 A7", "B2 B3", "C1 C2"],
    ),
    ("{ span.http.status_code != nil }", ["A1 A2 A3", "B1", "C3"]),
    (
        "{ !(span.http.status_code = 500) }",
        ["A4 A5 A6 A7", "B1 B2 B3", "C1 C2 C3"],
    ),
    (r#"{ resource.region = "eu" }"#, ["A6", "-", "C2 C3"]),
    ("{ resource.version = 2 }", ["A3 A4 A5 A7", "B2 B3", "C1"]),
    (
        r#"{ parent.resource.service.name = "frontend" && resource.service.name = "api" }"#,
        ["A3", "B2 B3", "-"],
    ),
    // Regexes are anchored at both ends.
    (r#"{ name =~ "GET.*" }"#, ["A1", "B1", "-"]),
    (r#"{ name =~ "GET" }"#, ["-", "-", "-"]),
    (
        r#"{ name !~ ".*orders" }"#,
        ["A1 A2 A4 A7", "B1 B2 B3", "C1 C2 C3"],
    ),
    // Arrays: any element for `=`, every element for `!=`.
    (r#"{ span.tags = "b" }"#, ["A6", "-", "-"]),
    (r#"{ span.tags != "a" }"#, ["-", "-", "-"]),
    (r#"{ span.tags =~ "[ab]" }"#, ["A6", "-", "-"]),
    // Booleans and arithmetic.
    ("{ span.sampled }", ["A3", "-", "-"]),
    ("{ span.sampled = true }", ["A3", "-", "-"]),
    ("{ span.score > 0.5 && span.score < 1 }", ["A4", "-", "-"]),
    ("{ span.retries * 2 + 1 = 5 }", ["A3", "-", "-"]),
    ("{ span.retries ^ 3 = 8 }", ["A3", "-", "-"]),
    (
        "{ span.retries % 2 = 0 && span.retries / 2 = 1 }",
        ["A3", "-", "-"],
    ),
    ("{ -span.retries < -1 }", ["A3", "-", "-"]),
    (
        "{ span.score = 0.75 || kind = producer }",
        ["A4 A7", "-", "-"],
    ),
    // Events and links: one event must satisfy the whole filter.
    (r#"{ event:name = "retry" }"#, ["-", "-", "C1"]),
    (r#"{ event.exception.type = "Timeout" }"#, ["-", "-", "C2"]),
    (
        r#"{ event:name = "retry" && event.attempt = 1 }"#,
        ["-", "-", "C1"],
    ),
    (
        r#"{ event:name = "exception" && event.attempt = 1 }"#,
        ["-", "-", "-"],
    ),
    ("{ event:timeSinceStart > 120ms }", ["-", "-", "C2"]),
    ("{ link:traceID != nil }", ["-", "-", "C1"]),
    // Spanset operators: the right side's spans (both sides for `&…`).
    (
        r#"{ resource.service.name = "frontend" } > { resource.service.name = "api" }"#,
        ["A3", "B2 B3", "-"],
    ),
    (
        r#"{ resource.service.name = "frontend" } >> { status = error }"#,
        ["A6", "-", "-"],
    ),
    ("{ status = error } < { kind = client }", ["A5", "-", "-"]),
    ("{ status = error } < { }", ["A5", "-", "C1"]),
    ("{ status = error } << { }", ["A1 A2 A3 A5", "-", "C1"]),
    (r#"{ name = "validate" } ~ { }"#, ["A5 A7", "-", "-"]),
    ("{ kind = client } ~ { kind = client }", ["-", "-", "C2 C3"]),
    (
        r#"{ resource.service.name = "api" } !> { resource.service.name = "api" }"#,
        ["A3", "B2 B3", "C1"],
    ),
    (
        "{ status = error } !<< { }",
        ["A4 A6 A7", "B1 B2 B3", "C2 C3"],
    ),
    (
        r#"{ resource.service.name = "frontend" } !>> { }"#,
        ["A1", "B1", "C1 C2 C3"],
    ),
    (
        "{ kind = server } !< { }",
        ["A1 A3 A4 A6 A7", "B1 B2 B3", "C1 C2 C3"],
    ),
    (
        r#"{ name = "validate" } !~ { resource.service.name = "api" }"#,
        ["A3 A4", "B2 B3", "C1"],
    ),
    (
        r#"{ resource.service.name = "api" } &> { resource.service.name = "db" }"#,
        ["A5 A6", "-", "C1 C2 C3"],
    ),
    (
        "{ kind = server } &>> { status = error }",
        ["A1 A3 A6", "-", "-"],
    ),
    (
        "{ status = error } &<< { kind = server }",
        ["A1 A3 A6", "-", "-"],
    ),
    ("{ status = error } &< { }", ["A5 A6", "-", "C1 C2"]),
    (
        r#"{ name = "validate" } &~ { kind = client }"#,
        ["A4 A5", "-", "-"],
    ),
    (
        r#"{ resource.service.name = "frontend" } > { resource.service.name = "api" } > { resource.service.name = "api" }"#,
        ["A4 A5 A7", "-", "-"],
    ),
    (
        r#"{ status = error } && { resource.service.name = "frontend" }"#,
        ["A1 A2 A6", "-", "-"],
    ),
    (
        r#"{ status = error } || { name = "check" }"#,
        ["A6", "B2", "C2"],
    ),
    // Pipelines: aggregates, by(), coalesce(), nested pipelines.
    (
        r#"{ resource.service.name = "api" } | count() > 3"#,
        ["A3 A4 A5 A7", "-", "-"],
    ),
    (
        "{ } | avg(duration) > 500ms",
        ["A1 A2 A3 A4 A5 A6 A7", "-", "-"],
    ),
    ("{ } | max(duration) < 400ms", ["-", "B1 B2 B3", "C1 C2 C3"]),
    (
        "{ span.http.status_code != nil } | min(span.http.status_code) = 500",
        ["A1 A2 A3", "-", "-"],
    ),
    (
        "{ } | sum(span.retries) = 2",
        ["A1 A2 A3 A4 A5 A6 A7", "-", "-"],
    ),
    (
        "{ } | count() * 2 >= 6",
        ["A1 A2 A3 A4 A5 A6 A7", "B1 B2 B3", "C1 C2 C3"],
    ),
    (
        "{ } | by(resource.service.name)",
        ["A1 A2 | A3 A4 A5 A7 | A6", "B1 | B2 B3", "C1 | C2 C3"],
    ),
    (
        "{ } | by(resource.service.name) | count() > 1",
        ["A1 A2 | A3 A4 A5 A7", "B2 B3", "C2 C3"],
    ),
    (
        "{ } | by(span.http.status_code)",
        ["A1 A2 A3 | A4 A5 A6 A7", "B1 | B2 B3", "C1 C2 | C3"],
    ),
    (
        "{ } | by(resource.service.name) | coalesce()",
        ["A1 A2 A3 A4 A5 A6 A7", "B1 B2 B3", "C1 C2 C3"],
    ),
    (
        "{ } | by(resource.service.name) | { status = error }",
        ["A6", "-", "C2"],
    ),
    (
        "{ } | by(resource.service.name) | { } > { }",
        ["A2 | A4 A5 A7", "-", "-"],
    ),
    (
        r#"({ resource.service.name = "api" } | count() > 1) && { status = error }"#,
        ["A3 A4 A5 A6 A7", "-", "-"],
    ),
    ("{ kind = client } | { status = error }", ["-", "-", "C2"]),
];

/// `sets` as labels, normalized like the expectations.
fn render(sets: &[SpanSet], labels: &[&str]) -> String {
    let mut out: Vec<String> = sets
        .iter()
        .map(|s| {
            let mut l: Vec<&str> = s.spans.iter().map(|&i| labels[i]).collect();
            l.sort_unstable();
            l.join(" ")
        })
        .collect();
    out.sort();
    if out.is_empty() {
        "-".into()
    } else {
        out.join(" | ")
    }
}

fn normalize(expected: &str) -> String {
    let mut sets: Vec<String> = expected
        .split('|')
        .map(|s| {
            let mut l: Vec<&str> = s.split_whitespace().collect();
            l.sort_unstable();
            l.join(" ")
        })
        .collect();
    sets.sort();
    sets.join(" | ")
}

#[test]
fn queries_select_the_expected_spans() {
    assert!(CASES.len() >= 40);
    let traces = traces();
    let mut failures = Vec::new();
    for (q, expected) in CASES {
        let query = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        for ((name, spans, labels), want) in traces.iter().zip(expected) {
            let got = match eval_spansets(&query, spans) {
                Ok(sets) => render(&sets, labels),
                Err(e) => format!("error: {e}"),
            };
            if got != normalize(want) {
                failures.push(format!("{q}\n  trace {name}: expected {want}, got {got}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn input_order_does_not_matter() {
    for (_, spans, labels) in traces() {
        let mut rev = spans.clone();
        rev.reverse();
        let rev_labels: Vec<&str> = labels.iter().rev().copied().collect();
        for (q, _) in CASES {
            let query = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            let a = render(&eval_spansets(&query, &spans).unwrap_or_default(), &labels);
            let b = render(
                &eval_spansets(&query, &rev).unwrap_or_default(),
                &rev_labels,
            );
            assert_eq!(a, b, "{q}");
        }
    }
}

fn eval1(q: &str, spans: &[Span]) -> Result<Vec<SpanSet>, EvalError> {
    eval_spansets(&parse(q).unwrap_or_else(|e| panic!("{q}: {e}")), spans)
}

#[test]
fn spansets_report_by_and_aggregate_values() {
    let t = traces();
    let a = &t[0].1;
    let sets = eval1("{ } | by(resource.service.name) | count() > 1", a).unwrap();
    let attrs: Vec<_> = sets.iter().map(|s| s.attrs.clone()).collect();
    assert_eq!(
        attrs,
        [
            vec![
                (
                    "by(resource.service.name)".to_string(),
                    Value::Str("frontend".into())
                ),
                ("count()".to_string(), Value::Int(2)),
            ],
            vec![
                (
                    "by(resource.service.name)".to_string(),
                    Value::Str("api".into())
                ),
                ("count()".to_string(), Value::Int(4)),
            ],
        ]
    );
    let sets = eval1("{ } | avg(duration) > 1ms", &t[1].1).unwrap();
    // (5 + 2 + 1) ms / 3, in whole nanoseconds.
    assert_eq!(
        sets[0].attrs,
        [("avg(duration)".to_string(), Value::Duration(8 * MS / 3))]
    );
    assert!(sets[0].selected.is_empty());
}

#[test]
fn select_reports_fields_per_span() {
    let t = traces();
    let q = r#"{ name = "validate" || status = error } | select(span.score, resource.service.name, span.nothere, status)"#;
    let sets = eval1(q, &t[0].1).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].spans, [3, 5]);
    let svc = |s: &str| ("resource.service.name".to_string(), Value::Str(s.into()));
    assert_eq!(
        sets[0].selected,
        [
            vec![
                ("span.score".to_string(), Value::Float(0.75)),
                svc("api"),
                ("status".to_string(), Value::Status(Status::Unset)),
            ],
            vec![
                svc("db"),
                ("status".to_string(), Value::Status(Status::Error))
            ],
        ]
    );
}

#[test]
fn unsupported_and_invalid_queries_are_errors() {
    let t = traces();
    for (spans, q) in [
        (&t[0].1, "{ } | rate()"),
        (
            &t[2].1,
            "{ status = error } | quantile_over_time(duration, 0.9) by (resource.service.name)",
        ),
    ] {
        match eval1(q, spans) {
            Err(EvalError::Unsupported(m)) => assert!(m.contains("metrics"), "{q}: {m}"),
            other => panic!("{q}: {other:?}"),
        }
    }
    for q in [
        "{ parent = nil }",
        "{ } | by(event:name)",
        "{ } | avg(event:timeSinceStart) > 1s",
        "{ } | select(link.x)",
    ] {
        // An empty trace too: errors do not depend on the data.
        for spans in [&t[0].1, &Vec::new()] {
            match eval1(q, spans) {
                Err(EvalError::Unsupported(m)) => assert!(!m.is_empty()),
                other => panic!("{q}: {other:?}"),
            }
        }
    }
    for q in [
        "{ name = 1 }",
        "{ 1 + 1 }",
        "{ duration }",
        "{ status = 2 }",
        r#"{ "a" && true }"#,
        r#"{ } | sum(name) > 1"#,
    ] {
        assert!(
            matches!(eval1(q, &t[0].1), Err(EvalError::Invalid(_))),
            "{q}"
        );
    }
    let e = eval1("({ } | by(resource.service.name)) > { }", &t[0].1).unwrap_err();
    assert_eq!(e, EvalError::MultipleSpansets);
}

#[test]
fn the_pipeline_of_a_metrics_query_evaluates() {
    let t = traces();
    let q = parse("{ status = error } | rate() by (resource.service.name)").unwrap();
    let sets = eval_pipeline(&q.pipeline, &t[0].1).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].spans, [5]);
}

#[test]
fn trace_view_links_spans() {
    let t = traces();
    let view = TraceView::new(&t[2].1);
    // C is given as C3, C2, C1.
    assert_eq!(view.root(), Some(2));
    assert_eq!(view.parent(0), Some(2));
    assert_eq!(view.children(2), [0, 1]);
    assert_eq!(view.duration_ns(), 300 * MS);
    assert_eq!(view.preorder()[0], 2);
    let q = parse("{ } | count() = 3").unwrap();
    assert_eq!(view.eval(&q.pipeline).unwrap().len(), 1);
    assert_eq!(
        view.field_value(1, &Field::Intrinsic(Intrinsic::SpanId)),
        Value::Str("00000000000000c2".into())
    );
}

#[test]
fn requirements_for_storage() {
    use Requirement as R;
    let req = |q: &str| required_values(&parse(q).unwrap());
    assert_eq!(
        req(
            r#"{ resource.service.name = "api" && name = "x" && status = error && kind = server } | count() > 1"#
        ),
        [
            R::ServiceName("api".into()),
            R::Name("x".into()),
            R::Status(StatusCode::Error),
            R::Kind(SpanKind::Server),
        ]
    );
    assert_eq!(
        req(
            r#"{ span.http.method = "GET" && resource.region = "eu" && 100ms <= duration && duration < 1s }"#
        ),
        [
            R::SpanAttr {
                key: "http.method".into(),
                value: "GET".into()
            },
            R::ResourceAttr {
                key: "region".into(),
                value: "eu".into()
            },
            R::MinDuration(100 * MS),
            R::MaxDuration(1000 * MS - 1),
        ]
    );
    // Nothing is implied under `||` or `!`, by unscoped or parent
    // attributes, other operators, or either side of a spanset `||`.
    for q in [
        r#"{ name = "a" || name = "b" }"#,
        r#"{ !(name = "a") }"#,
        r#"{ .service.name = "a" && parent.span.x = "y" && name != "a" && name =~ "a" }"#,
        r#"{ name = "a" } || { name = "b" }"#,
        "{ }",
        "{ span.x = 1 && duration > 1.5 }",
    ] {
        assert_eq!(req(q), [], "{q}");
    }
    // Both sides of `&&` and of a structural operator need a span; of a
    // negated one, the right side (its result).
    let ab = [R::Name("a".into()), R::Name("b".into())];
    for q in [
        r#"{ name = "a" } && { name = "b" }"#,
        r#"{ name = "a" } > { name = "b" }"#,
        r#"{ name = "a" } >> ({ name = "b" } | count() > 1)"#,
        r#"{ name = "a" } &~ { name = "b" }"#,
    ] {
        assert_eq!(req(q), ab, "{q}");
    }
    assert_eq!(
        req(r#"{ name = "a" } !>> { name = "b" }"#),
        [R::Name("b".into())]
    );
    // Each requirement holds for some span of every trace a query matches
    // (what a store may skip traces and segments by).
    for (_, spans, _) in traces() {
        for (q, _) in CASES {
            let query = parse(q).unwrap();
            let Ok(sets) = eval_spansets(&query, &spans) else {
                continue;
            };
            let reqs = required_values(&query);
            if sets.is_empty() || reqs.is_empty() {
                continue;
            }
            for r in &reqs {
                assert!(spans.iter().any(|s| holds(r, s)), "{q}: {r:?}");
            }
        }
    }
}

fn holds(r: &Requirement, s: &Span) -> bool {
    use argus_model::traces::attr;
    let has = |attrs: &[Attr], k: &str, v: &str| match attr(attrs, k) {
        Some(AttrValue::Str(x)) => x == v,
        Some(AttrValue::Array(a)) => a.iter().any(|e| *e == AttrValue::Str(v.into())),
        _ => false,
    };
    match r {
        Requirement::ServiceName(n) => s.origin.service == *n,
        Requirement::Name(n) => s.name == *n,
        Requirement::Status(c) => s.status == *c,
        Requirement::Kind(k) => s.kind == *k,
        Requirement::SpanAttr { key, value } => has(&s.attrs, key, value),
        Requirement::ResourceAttr { key, value } => has(&s.origin.resource, key, value),
        Requirement::MinDuration(d) => s.duration_ns() as i64 >= *d,
        Requirement::MaxDuration(d) => s.duration_ns() as i64 <= *d,
    }
}
