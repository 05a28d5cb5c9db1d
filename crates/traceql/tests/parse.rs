//! Parse results: queries with the tree or the printed form expected, and
//! refused queries with fragments of the expected message.

use argus_traceql::*;

fn p(q: &str) -> Query {
    parse(q).unwrap_or_else(|e| panic!("{q:?}: {e}"))
}

fn attr(scope: Scope, name: &str) -> FieldExpr {
    FieldExpr::Attribute(Attribute {
        parent: false,
        scope,
        name: name.to_string(),
    })
}

fn bin(op: BinaryOp, lhs: FieldExpr, rhs: FieldExpr) -> FieldExpr {
    FieldExpr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    }
}

fn filter(q: &str) -> FieldExpr {
    let q = p(q);
    match q.pipeline.stages.as_slice() {
        [Stage::Spanset(SpansetExpr::Filter(SpansetFilter { expr: Some(e) }))] => e.clone(),
        other => panic!("not a single filter: {other:?}"),
    }
}

#[test]
fn trees() {
    assert_eq!(
        filter(r#"{ span.http.status_code = 200 }"#),
        bin(
            BinaryOp::Eq,
            attr(Scope::Span, "http.status_code"),
            FieldExpr::Static(Static::Int(200))
        )
    );
    assert_eq!(
        filter(r#"{ span."foo bar" = "x\ty" }"#),
        bin(
            BinaryOp::Eq,
            attr(Scope::Span, "foo bar"),
            FieldExpr::Static(Static::String("x\ty".into()))
        )
    );
    assert_eq!(
        filter("{ `a\\b` = .x }"),
        bin(
            BinaryOp::Eq,
            FieldExpr::Static(Static::String("a\\b".into())),
            attr(Scope::None, "x")
        )
    );
    assert_eq!(
        filter("{ parent.resource.a = nil }"),
        bin(
            BinaryOp::Eq,
            FieldExpr::Attribute(Attribute {
                parent: true,
                scope: Scope::Resource,
                name: "a".into()
            }),
            FieldExpr::Static(Static::Nil)
        )
    );
    assert_eq!(
        filter("{ parent.a }"),
        FieldExpr::Attribute(Attribute {
            parent: true,
            scope: Scope::None,
            name: "a".into()
        })
    );
    assert_eq!(
        filter("{ duration > 2h45m }"),
        bin(
            BinaryOp::Gt,
            FieldExpr::Intrinsic(Intrinsic::Duration),
            FieldExpr::Static(Static::Duration(9_900_000_000_000))
        )
    );
    assert_eq!(
        filter("{ span:duration > 1.5ms }"),
        bin(
            BinaryOp::Gt,
            FieldExpr::Intrinsic(Intrinsic::SpanDuration),
            FieldExpr::Static(Static::Duration(1_500_000))
        )
    );
    assert_eq!(
        filter("{ kind = server && status != error }"),
        bin(
            BinaryOp::And,
            bin(
                BinaryOp::Eq,
                FieldExpr::Intrinsic(Intrinsic::Kind),
                FieldExpr::Static(Static::Kind(Kind::Server))
            ),
            bin(
                BinaryOp::Neq,
                FieldExpr::Intrinsic(Intrinsic::Status),
                FieldExpr::Static(Static::Status(Status::Error))
            )
        )
    );
    // `&&` and `||` share one level, left to right, as in Tempo.
    assert_eq!(
        filter("{ true || false && true }"),
        bin(
            BinaryOp::And,
            bin(
                BinaryOp::Or,
                FieldExpr::Static(Static::Bool(true)),
                FieldExpr::Static(Static::Bool(false))
            ),
            FieldExpr::Static(Static::Bool(true))
        )
    );
    let q =
        p("{ } | rate() by (resource.service.name, span:name) | topk(5) with (most_recent=true)");
    assert_eq!(
        q.metrics,
        Some(MetricsStage {
            function: MetricsFunction::Rate,
            by: vec![
                Field::Attribute(Attribute {
                    parent: false,
                    scope: Scope::Resource,
                    name: "service.name".into()
                }),
                Field::Intrinsic(Intrinsic::SpanName)
            ],
        })
    );
    assert_eq!(q.second_stage, Some(SecondStage::TopK(5)));
    assert_eq!(
        q.hints,
        vec![Hint {
            name: "most_recent".into(),
            value: Static::Bool(true)
        }]
    );
    let q = p("{} | quantile_over_time(duration, 0.9, 0.99, 1) by (span.a)");
    assert_eq!(
        q.metrics.unwrap().function,
        MetricsFunction::QuantileOverTime {
            field: Field::Intrinsic(Intrinsic::Duration),
            quantiles: vec![0.9, 0.99, 1.0]
        }
    );
    let q = p("{ } | count() > 2");
    assert_eq!(
        q.pipeline.stages[1],
        Stage::ScalarFilter(ScalarFilter {
            op: ComparisonOp::Gt,
            lhs: ScalarExpr::Aggregate(Aggregate::Count),
            rhs: ScalarExpr::Int(2)
        })
    );
}

/// Queries and how they print.
const PRINTED: &[(&str, &str)] = &[
    ("{}", "{}"),
    ("{ }", "{}"),
    ("{true}", "{ true }"),
    ("{.a=1}", "{ .a = 1 }"),
    ("{ .a = 1 }&&{ .b = 2 }", "{ .a = 1 } && { .b = 2 }"),
    ("{ (1 + 2) * 3 = 9 }", "{ (1 + 2) * 3 = 9 }"),
    ("{ ((.a)) }", "{ .a }"),
    ("{ 2 ^ 3 ^ 2 = 512 }", "{ 2 ^ 3 ^ 2 = 512 }"),
    ("{ (2 ^ 3) ^ 2 = 64 }", "{ (2 ^ 3) ^ 2 = 64 }"),
    ("{ -.a * 2 < 0 }", "{ -.a * 2 < 0 }"),
    ("{ (-.a) * 2 < 0 }", "{ (-.a) * 2 < 0 }"),
    ("{ !(.a || .b) }", "{ !(.a || .b) }"),
    ("{ .a || (.b && .c) }", "{ .a || (.b && .c) }"),
    ("{ duration > 1000ms }", "{ duration > 1s }"),
    ("{ duration > 1.5s }", "{ duration > 1500ms }"),
    ("{ duration > 90m }", "{ duration > 90m }"),
    ("{ duration > 120m }", "{ duration > 2h }"),
    ("{ duration > 1µs }", "{ duration > 1us }"),
    ("{ .a = 1.0 }", "{ .a = 1.0 }"),
    ("{ .a = \"q\\\"x\" }", "{ .a = \"q\\\"x\" }"),
    ("{ .a = `raw\\n` }", "{ .a = \"raw\\\\n\" }"),
    ("{ span.\"a b\" = 1 }", "{ span.\"a b\" = 1 }"),
    ("{ parent.\"span.x\" = 1 }", "{ parent.\"span.x\" = 1 }"),
    (
        "{ resource.service.name =~ \"api-.*\" }",
        "{ resource.service.name =~ \"api-.*\" }",
    ),
    (
        "{ event.name = \"x\" && link.a = 1 && instrumentation.b = 2 }",
        "{ event.name = \"x\" && link.a = 1 && instrumentation.b = 2 }",
    ),
    (
        "{ trace:id = \"1\" && span:parentID = \"2\" && event:timeSinceStart > 1s }",
        "{ trace:id = \"1\" && span:parentID = \"2\" && event:timeSinceStart > 1s }",
    ),
    (
        "{ nestedSetParent < 0 && rootServiceName = \"a\" }",
        "{ nestedSetParent < 0 && rootServiceName = \"a\" }",
    ),
    ("{ .a }>>{ .b }", "{ .a } >> { .b }"),
    ("{ .a } !>> { .b } &~ { .c }", "{ .a } !>> { .b } &~ { .c }"),
    ("{ .a } && ({ .b } > { .c })", "{ .a } && { .b } > { .c }"),
    ("({ .a } && { .b }) > { .c }", "({ .a } && { .b }) > { .c }"),
    ("{ .a } > ({ .b } > { .c })", "{ .a } > ({ .b } > { .c })"),
    (
        "({ .a } | count() > 1) && { .b }",
        "({ .a } | count() > 1) && { .b }",
    ),
    ("({ .a })", "{ .a }"),
    (
        "{ } | count() > 1 | by(.x) | coalesce() | select(.a, span:id)",
        "{} | count() > 1 | by(.x) | coalesce() | select(.a, span:id)",
    ),
    (
        "{} | (max(duration) + 1s) * 2 > -3s",
        "{} | (max(duration) + 1s) * 2 > -3s",
    ),
    ("{} | avg(duration) > 1s", "{} | avg(duration) > 1s"),
    (
        "{} | histogram_over_time(duration) | bottomk(3)",
        "{} | histogram_over_time(duration) | bottomk(3)",
    ),
    (
        "{} | compare({ status = error }, 5, 1, 2)",
        "{} | compare({ status = error }, 5, 1, 2)",
    ),
    (
        "{} with (most_recent = false, sample = 0.1)",
        "{} with (most_recent=false, sample=0.1)",
    ),
    (
        "{ .a } // a comment\n /* and another */ | rate()",
        "{ .a } | rate()",
    ),
];

#[test]
fn printed() {
    for (q, want) in PRINTED {
        let tree = p(q);
        assert_eq!(tree.to_string(), *want, "{q:?}");
        assert_eq!(p(want), tree, "{want:?} parses to another tree");
    }
}

/// Refused queries and fragments of their messages.
const ERRORS: &[(&str, &[&str])] = &[
    ("", &["unexpected end of input", "spanset filter"]),
    ("{", &["unexpected end of input"]),
    ("{ .a = }", &["unexpected `}`", "a value"]),
    ("{ .a = 1", &["expecting `}`"]),
    ("{ foo = 1 }", &["unknown identifier `foo`", "`.foo`"]),
    (
        "{ span. = 1 }",
        &["expected an attribute name after `span.`"],
    ),
    ("{ .a = \"x }", &["unterminated string"]),
    ("{ .a = \"\\q\" }", &["unsupported escape"]),
    ("{ .a =~ \"(\" }", &["invalid regex"]),
    ("{ .a ~ .b }", &["between spansets"]),
    ("{ .a >> 1 }", &["between spansets"]),
    ("{ duration > 1x }", &["invalid duration"]),
    ("{ .a = 99999999999999999999 }", &["out of range"]),
    ("{ .a = 9223372036854775808 }", &["out of range"]),
    ("{ .a } |", &["unexpected end of input"]),
    ("{ .a } | count()", &["a comparison"]),
    ("{ .a } | avg() > 1", &["avg() needs a field expression"]),
    ("rate()", &["must follow a spanset pipeline"]),
    ("{ } | topk(5)", &["must follow a metrics function"]),
    ("{ } | rate() | { .a }", &["topk or bottomk"]),
    (
        "{ } | rate() | topk(5) | topk(2)",
        &["with`, or end of input"],
    ),
    ("({ } | rate())", &["only end the whole query"]),
    ("{ } | rate(duration)", &["rate takes no arguments"]),
    (
        "{ } | quantile_over_time(duration)",
        &["at least one quantile"],
    ),
    (
        "{ } | compare({ .a }) by (.b)",
        &["compare() takes no `by`"],
    ),
    (
        "{ } | by(.a, .b)",
        &["by() in a pipeline takes one expression"],
    ),
    ("coalesce()", &["coalesce() must follow a `|`"]),
    ("{ } with ()", &["a hint name"]),
    ("{ } with (most_recent)", &["`=` after the hint name"]),
    ("{ } & { }", &["unexpected `&`"]),
    ("{ } { }", &["unexpected `{`"]),
    ("{ .a } /* open", &["unterminated comment"]),
    ("{ .a } | select()", &["an attribute"]),
];

#[test]
fn errors() {
    for (q, fragments) in ERRORS {
        let e = match parse(q) {
            Ok(t) => panic!("{q:?} parsed as {t:?}"),
            Err(e) => e.to_string(),
        };
        for f in *fragments {
            assert!(e.contains(f), "{q:?}: {e:?} lacks {f:?}");
        }
    }
}

#[test]
fn error_positions() {
    let e = parse("{ .a = 1 }\n| foo").unwrap_err();
    assert_eq!(e.position(), 13);
    assert!(e.to_string().contains("line 2, col 3"), "{e}");
}
