//! The parser on each feature of the language: the tree it builds, the text
//! it prints back, and its errors.

use argus_logql::*;

/// Parses `q`, checks that printing and parsing again gives the same tree,
/// and returns the printed text.
#[track_caller]
fn rt(q: &str) -> String {
    let e = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let printed = e.to_string();
    let again = parse(&printed).unwrap_or_else(|err| panic!("{q}\nprinted as {printed}\n{err}"));
    assert_eq!(again, e, "{q}\nprinted as {printed}");
    printed
}

#[track_caller]
fn err(q: &str) -> String {
    match parse(q) {
        Ok(e) => panic!("{q} parsed as {e:?}"),
        Err(e) => e.to_string(),
    }
}

fn log(q: &str) -> LogExpr {
    match parse(q).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Expr::Log(l) => l,
        e => panic!("{q}: not a log query: {e:?}"),
    }
}

fn metric(q: &str) -> MetricExpr {
    match parse(q).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Expr::Metric(m) => m,
        e => panic!("{q}: not a metric query: {e:?}"),
    }
}

fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher {
        name: name.into(),
        op,
        value: value.into(),
    }
}

#[test]
fn selectors() {
    let l = log(r#"{a="b", c!="d", e=~"re.*", f!~`re\d`}"#);
    assert_eq!(
        l.selector,
        vec![
            m("a", MatchOp::Eq, "b"),
            m("c", MatchOp::Neq, "d"),
            m("e", MatchOp::Re, "re.*"),
            m("f", MatchOp::Nre, r"re\d"),
        ]
    );
    assert_eq!(
        rt(r#"{a="b", c!="d", e=~"re.*", f!~`re\d`}"#),
        r#"{a="b", c!="d", e=~"re.*", f!~"re\\d"}"#
    );
    assert_eq!(
        rt(r#"{a="tab\there \"q\" \u00e9 \x41"}"#),
        r#"{a="tab\there \"q\" é A"}"#
    );
    assert!(err(r#"{a="b",}"#).contains("unexpected \"}\", expecting a label name"));
    assert!(err(r#"{a="b""#).contains("expecting \",\" or \"}\""));
    assert!(err(r#"{a=~"(("}"#).contains("invalid regex in label matcher"));
    // Loki's post-parse check: some matcher must refuse the empty value.
    for q in [
        r#"{a=""}"#,
        r#"{a=~".*"}"#,
        r#"{a!="x"}"#,
        r#"{a!~".+"}"#,
        "{}",
    ] {
        assert!(
            err(q).contains("at least one regexp or equality matcher"),
            "{q}"
        );
        assert!(parse_syntax(q).is_ok(), "{q}");
    }
    rt(r#"{a="", b=~".+"}"#);
    // Comments run to the end of the line.
    assert_eq!(
        rt("{a=\"b\"} # a comment |= \"x\"\n |= \"y\""),
        r#"{a="b"} |= "y""#
    );
}

#[test]
fn line_filters() {
    let l = log(r#"{a="b"} |= "x" != "y" |~ "z+" !~ "w" |> "<_> foo" !> "bar <_>""#);
    let ops: Vec<_> = l
        .pipeline
        .iter()
        .map(|s| match s {
            Stage::LineFilter(f) => f.op,
            s => panic!("{s:?}"),
        })
        .collect();
    use LineFilterOp::*;
    assert_eq!(
        ops,
        [Contains, NotContains, Match, NotMatch, Pattern, NotPattern]
    );
    let l = log(r#"{a="b"} |= "a" or "b" or ip("10.0.0.0/8") != ip("1.2.3.4")"#);
    assert_eq!(
        l.pipeline[0],
        Stage::LineFilter(LineFilter {
            op: Contains,
            values: vec![
                LineFilterValue::Text("a".into()),
                LineFilterValue::Text("b".into()),
                LineFilterValue::Ip("10.0.0.0/8".into()),
            ],
        })
    );
    assert_eq!(
        rt(r#"{a="b"} |= "a" or `b` != ip("1.2.3.4")"#),
        r#"{a="b"} |= "a" or "b" != ip("1.2.3.4")"#
    );
    assert!(err(r#"{a="b"} |~ "(""#).contains("invalid regex in line filter"));
    assert!(err(r#"{a="b"} |~ ip("1.2.3.4")"#).contains("only support |= and !="));
    assert!(err(r#"{a="b"} |= 5"#).contains("expecting a string or ip"));
}

#[test]
fn parsers_and_formatters() {
    let l = log(
        r#"{a="b"} | json | json a="x.y", b | logfmt --strict --keep-empty c="d", e | logfmt
           | regexp "(?P<method>\\w+)" | pattern "<ip> <_> <status>" | unpack
           | line_format "{{.a}}" | label_format a="{{.b}}", c=d | drop a, b="v" | keep c, d=~"x.*"
           | decolorize"#,
    );
    assert_eq!(
        l.pipeline,
        vec![
            Stage::Parser(LogParser::Json(vec![])),
            Stage::Parser(LogParser::Json(vec![
                LabelExtraction {
                    name: "a".into(),
                    path: Some("x.y".into())
                },
                LabelExtraction {
                    name: "b".into(),
                    path: None
                },
            ])),
            Stage::Parser(LogParser::Logfmt {
                strict: true,
                keep_empty: true,
                params: vec![
                    LabelExtraction {
                        name: "c".into(),
                        path: Some("d".into())
                    },
                    LabelExtraction {
                        name: "e".into(),
                        path: None
                    },
                ],
            }),
            Stage::Parser(LogParser::Logfmt {
                strict: false,
                keep_empty: false,
                params: vec![]
            }),
            Stage::Parser(LogParser::Regexp(r"(?P<method>\w+)".into())),
            Stage::Parser(LogParser::Pattern("<ip> <_> <status>".into())),
            Stage::Parser(LogParser::Unpack),
            Stage::LineFormat("{{.a}}".into()),
            Stage::LabelFormat(vec![
                LabelFormat {
                    name: "a".into(),
                    value: LabelFormatValue::Template("{{.b}}".into())
                },
                LabelFormat {
                    name: "c".into(),
                    value: LabelFormatValue::Rename("d".into())
                },
            ]),
            Stage::Drop(vec![
                LabelSelection::Name("a".into()),
                LabelSelection::Matcher(m("b", MatchOp::Eq, "v")),
            ]),
            Stage::Keep(vec![
                LabelSelection::Name("c".into()),
                LabelSelection::Matcher(m("d", MatchOp::Re, "x.*")),
            ]),
            Stage::Decolorize,
        ]
    );
    assert_eq!(
        rt(
            r#"{a="b"} | JSON a="x.y",b | logfmt --keep-empty --strict | label_format a=b,c="{{.d}}""#
        ),
        r#"{a="b"} | json a="x.y", b | logfmt --strict --keep-empty | label_format a=b, c="{{.d}}""#
    );
    assert!(err(r#"{a="b"} | regexp "foo""#).contains("at least one named capture"));
    assert!(err(r#"{a="b"} | regexp "(?P<a>x)(?P<a>y)""#).contains("invalid regex"));
    assert!(err(r#"{a="b"} | pattern "foo""#).contains("at least one named capture"));
    assert!(err(r#"{a="b"} | pattern "<a><b>""#).contains("consecutive"));
    assert!(err(r#"{a="b"} | pattern "<a> <a>""#).contains("duplicate"));
    assert!(err(r#"{a="b"} | logfmt --nope"#).contains("unexpected"));
    assert!(err(r#"{a="b"} | line_format"#).contains("expecting a string"));
    assert!(err(r#"{a="b"} |"#).contains("after \"|\""));
}

#[test]
fn label_filters() {
    let f = |q: &str| match &log(q).pipeline[0] {
        Stage::LabelFilter(f) => f.clone(),
        s => panic!("{s:?}"),
    };
    let num = |name: &str, op, value| LabelFilter::Number {
        name: name.into(),
        op,
        value,
    };
    assert_eq!(
        f(r#"{a="b"} | latency > 250ms"#),
        LabelFilter::Duration {
            name: "latency".into(),
            op: CmpOp::Gt,
            value: 250_000_000
        }
    );
    assert_eq!(
        f(r#"{a="b"} | d >= 1h30m"#),
        LabelFilter::Duration {
            name: "d".into(),
            op: CmpOp::Gte,
            value: 5_400_000_000_000
        }
    );
    assert_eq!(
        f(r#"{a="b"} | d < -1.5s"#),
        LabelFilter::Duration {
            name: "d".into(),
            op: CmpOp::Lt,
            value: -1_500_000_000
        }
    );
    assert_eq!(
        f(r#"{a="b"} | size > 20MB"#),
        LabelFilter::Bytes {
            name: "size".into(),
            op: CmpOp::Gt,
            value: 20_000_000
        }
    );
    assert_eq!(
        f(r#"{a="b"} | size <= 1KiB"#),
        LabelFilter::Bytes {
            name: "size".into(),
            op: CmpOp::Lte,
            value: 1024
        }
    );
    assert_eq!(f(r#"{a="b"} | n == -1.5"#), num("n", CmpOp::Eq, -1.5));
    assert_eq!(f(r#"{a="b"} | n = 2"#), num("n", CmpOp::Eq, 2.0));
    assert_eq!(f(r#"{a="b"} | n != +3"#), num("n", CmpOp::Neq, 3.0));
    assert_eq!(
        f(r#"{a="b"} | addr != ip("10.0.0.0/8")"#),
        LabelFilter::Ip {
            name: "addr".into(),
            negated: true,
            value: "10.0.0.0/8".into()
        }
    );
    assert_eq!(
        f(r#"{a="b"} | __error__="""#),
        LabelFilter::Matcher(m("__error__", MatchOp::Eq, ""))
    );
    let (a, b, c) = (
        LabelFilter::Matcher(m("a", MatchOp::Eq, "1")),
        LabelFilter::Matcher(m("b", MatchOp::Eq, "2")),
        LabelFilter::Matcher(m("c", MatchOp::Eq, "3")),
    );
    // `and` binds tighter than `or`.
    assert_eq!(
        f(r#"{x="y"} | a="1" and b="2" or c="3""#),
        LabelFilter::Or(vec![
            LabelFilter::And(vec![a.clone(), b.clone()]),
            c.clone()
        ])
    );
    assert_eq!(
        f(r#"{x="y"} | a="1" or b="2" and c="3""#),
        LabelFilter::Or(vec![
            a.clone(),
            LabelFilter::And(vec![b.clone(), c.clone()])
        ])
    );
    // A comma or a space also means `and`, and takes all that follows (as
    // in Loki's grammar).
    assert_eq!(
        f(r#"{x="y"} | a="1", b="2" or c="3""#),
        LabelFilter::And(vec![a.clone(), LabelFilter::Or(vec![b.clone(), c.clone()])])
    );
    assert_eq!(
        f(r#"{x="y"} | a="1" b="2" c="3""#),
        LabelFilter::And(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        f(r#"{x="y"} | (a="1" or b="2") and c="3""#),
        LabelFilter::And(vec![LabelFilter::Or(vec![a.clone(), b.clone()]), c.clone()])
    );
    assert_eq!(
        rt(r#"{x="y"} | a="1", b="2" or c="3""#),
        r#"{x="y"} | a="1" and (b="2" or c="3")"#
    );
    assert_eq!(
        rt(r#"{x="y"} | a > 1.5s, b >= 20MB, c == 3, d = -1, e != 1h"#),
        r#"{x="y"} | a > 1s500ms and b >= 20000000B and c == 3 and d == -1 and e != 1h"#
    );
    assert_eq!(rt(r#"{x="y"} | a > -90m"#), r#"{x="y"} | a > -1h30m"#);
    assert_eq!(rt(r#"{x="y"} | a > 1us"#), r#"{x="y"} | a > 1us"#);
    // Labels named like stages: a filter on them prints in parentheses.
    assert_eq!(rt(r#"{x="y"} | (json="a")"#), r#"{x="y"} | (json="a")"#);
    assert_eq!(
        rt(r#"{x="y"} | (Unwrap > 1, b="2")"#),
        r#"{x="y"} | (Unwrap > 1 and b="2")"#
    );
    assert_eq!(
        rt(r#"{x="y"} | b="2" json="a""#),
        r#"{x="y"} | b="2" and json="a""#
    );
    assert_eq!(
        rt(r#"sum_over_time({x="y"} | unwrap v | (drop="a") [5m])"#),
        r#"sum_over_time({x="y"} | unwrap v | (drop="a") [5m])"#
    );
    assert!(err(r#"{x="y"} | a > "s""#).contains("expecting a number, a duration or a byte size"));
    assert!(err(r#"{x="y"} | a =~ "(""#).contains("invalid regex in label filter"));
    assert!(err(r#"{x="y"} | a"#).contains("comparison operator"));
    assert!(err(r#"{x="y"} | (a="b""#).contains("expecting \")\""));
}

#[test]
fn range_aggregations() {
    let r = match metric(r#"count_over_time({a="b"} |= "x" [5m] offset 1h)"#) {
        MetricExpr::RangeAggregation(r) => r,
        e => panic!("{e:?}"),
    };
    assert_eq!(r.op, RangeOp::CountOverTime);
    assert_eq!(r.range.range, 300_000_000_000);
    assert_eq!(r.range.offset, Some(3_600_000_000_000));
    assert_eq!(r.range.log.pipeline.len(), 1);
    let r = match metric(
        r#"quantile_over_time(0.9, {a="b"} | json | unwrap duration(latency) | __error__="" [1m]) by (x)"#,
    ) {
        MetricExpr::RangeAggregation(r) => r,
        e => panic!("{e:?}"),
    };
    assert_eq!(r.param, Some(0.9));
    assert_eq!(
        r.range.unwrap,
        Some(Unwrap {
            label: "latency".into(),
            conversion: Some(Conversion::Duration),
            post_filters: vec![LabelFilter::Matcher(m("__error__", MatchOp::Eq, ""))],
        })
    );
    assert_eq!(
        r.grouping,
        Some(Grouping {
            without: false,
            labels: vec!["x".into()]
        })
    );
    for op in [
        "count_over_time",
        "rate",
        "bytes_over_time",
        "bytes_rate",
        "absent_over_time",
    ] {
        rt(&format!(r#"{op}({{a="b"}}[5m])"#));
    }
    for op in [
        "rate",
        "rate_counter",
        "sum_over_time",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "stdvar_over_time",
        "stddev_over_time",
        "first_over_time",
        "last_over_time",
        "absent_over_time",
    ] {
        rt(&format!(r#"{op}({{a="b"}} | unwrap x [5m])"#));
    }
    for conv in ["bytes", "duration", "duration_seconds"] {
        rt(&format!(
            r#"sum_over_time({{a="b"}} | unwrap {conv}(x) [5m])"#
        ));
    }
    // The orders Loki accepts all give the same tree.
    let canonical = r#"sum_over_time({a="b"} | json | unwrap x [5m] offset 1m)"#;
    for q in [
        r#"sum_over_time({a="b"} | json | unwrap x [5m] offset 1m)"#,
        r#"sum_over_time({a="b"}[5m] offset 1m | json | unwrap x)"#,
        r#"sum_over_time(({a="b"} | json | unwrap x)[5m] offset 1m)"#,
        r#"sum_over_time((({a="b"} | json | unwrap x [5m] offset 1m)))"#,
    ] {
        assert_eq!(rt(q), canonical, "{q}");
    }
    assert_eq!(
        rt(r#"rate(({a="b"}) [1s] offset 1h | unwrap x)"#),
        r#"rate({a="b"} | unwrap x [1s] offset 1h)"#
    );
    assert_eq!(rt(r#"RATE({a="b"}[90s])"#), r#"rate({a="b"} [1m30s])"#);
    assert!(err(r#"sum_over_time({a="b"}[5m])"#)
        .contains("invalid aggregation sum_over_time without unwrap"));
    assert!(err(r#"count_over_time({a="b"} | unwrap x [5m])"#).contains("with unwrap"));
    assert!(err(r#"rate({a="b"}[5m]) by (x)"#).contains("grouping not allowed for rate"));
    assert!(err(r#"quantile_over_time({a="b"} | unwrap x [5m])"#).contains("parameter required"));
    assert!(err(r#"rate(5, {a="b"}[5m])"#).contains("not supported"));
    assert!(err(r#"rate({a="b"})"#).contains("range such as [5m]"));
    assert!(err(r#"rate({a="b"}[1.5m])"#).contains("invalid range"));
    assert!(err(r#"rate({a="b"}[5m"#).contains("missing closing ']'"));
    assert!(err(r#"{a="b"} | unwrap x"#).contains("only allowed in a range aggregation"));
}

#[test]
fn vector_aggregations() {
    let grafana =
        r#"sum by (level, detected_level) (count_over_time({job="x"} | drop __error__ [1m]))"#;
    assert_eq!(rt(grafana), grafana);
    for op in [
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "stddev",
        "stdvar",
        "sort",
        "sort_desc",
    ] {
        rt(&format!(r#"{op}(rate({{a="b"}}[5m]))"#));
    }
    assert_eq!(
        rt(r#"sum(rate({a="b"}[5m])) without (x, y)"#),
        r#"sum without (x, y) (rate({a="b"} [5m]))"#
    );
    assert_eq!(
        rt(r#"topk(10, sum(rate({a="b"}[5m])) by (x))"#),
        r#"topk(10, sum by (x) (rate({a="b"} [5m])))"#
    );
    assert_eq!(
        rt(r#"bottomk by (x) (3, rate({a="b"}[5m]))"#),
        r#"bottomk by (x) (3, rate({a="b"} [5m]))"#
    );
    assert_eq!(
        rt(r#"sum by () (rate({a="b"}[5m]))"#),
        r#"sum by () (rate({a="b"} [5m]))"#
    );
    assert!(err(r#"topk(rate({a="b"}[5m]))"#).contains("parameter required"));
    assert!(err(r#"topk(1.5, rate({a="b"}[5m]))"#).contains("must be an integer"));
    assert!(err(r#"topk(0, rate({a="b"}[5m]))"#).contains("greater than 0"));
    assert!(err(r#"sum(2, rate({a="b"}[5m]))"#).contains("unsupported parameter"));
    assert!(err(r#"sum({a="b"})"#).contains("not a log query"));
    assert!(err(r#"sort by (x) (rate({a="b"}[5m]))"#).contains("sort and sort_desc"));
    assert!(
        err(r#"sum by (x) (rate({a="b"}[5m])) by (y)"#).contains("unexpected identifier \"by\"")
    );
}

#[test]
fn binary_operators() {
    assert_eq!(rt("vector(1)+vector(1)"), "vector(1) + vector(1)");
    let bin = |q: &str| match metric(q) {
        MetricExpr::Binary(b) => b,
        e => panic!("{e:?}"),
    };
    // Precedence and associativity as PromQL.
    let b = bin("1 + 2 * 3");
    assert_eq!(b.op, BinaryOp::Add);
    let b = bin("1 - 2 - 3");
    assert_eq!(b.op, BinaryOp::Sub);
    assert!(matches!(b.lhs, MetricExpr::Binary(_)));
    let b = bin("2 ^ 3 ^ 2");
    assert!(matches!(b.rhs, MetricExpr::Binary(_)));
    assert_eq!(rt("2 ^ 3 ^ 2"), "2 ^ 3 ^ 2");
    assert_eq!(rt("(2 ^ 3) ^ 2"), "(2 ^ 3) ^ 2");
    assert_eq!(rt("1 - (2 - 3)"), "1 - (2 - 3)");
    assert_eq!(rt("(1 - 2) - 3"), "1 - 2 - 3");
    assert_eq!(rt("(1 + 2) * 3"), "(1 + 2) * 3");
    assert_eq!(rt("1 + 2 * 3 % 4 / 5"), "1 + 2 * 3 % 4 / 5");
    assert_eq!(rt("1 < 2 == bool 3"), "1 < 2 == bool 3");
    assert_eq!(rt("-1 - -2"), "-1 - -2");
    assert_eq!(rt("+1"), "1");
    assert_eq!(rt("-0.0"), "-0.0");
    assert_eq!(rt("0x10 + 1e3 + .5 + 0.123e3"), "16 + 1000 + 0.5 + 123");
    let r = r#"rate({a="b"}[5m])"#;
    let q = format!("{r} / on (x) group_left (y) {r} > bool ignoring (z) group_right {r} or {r} unless {r} and {r}");
    let printed = rt(&q);
    let p = r#"rate({a="b"} [5m])"#;
    assert_eq!(
        printed,
        format!("{p} / on (x) group_left (y) {p} > bool ignoring (z) group_right () {p} or {p} unless {p} and {p}")
    );
    let b = bin(&q);
    assert_eq!(b.op, BinaryOp::Or);
    assert!(matches!(&b.lhs, MetricExpr::Binary(c) if c.op == BinaryOp::Gt && c.return_bool));
    assert!(matches!(&b.rhs, MetricExpr::Binary(c) if c.op == BinaryOp::And));
    let b = bin(&format!("{r} * on (x) group_left (y) {r}"));
    assert_eq!(
        b.matching,
        Some(VectorMatching {
            on: true,
            labels: vec!["x".into()],
            cardinality: Cardinality::ManyToOne(vec!["y".into()]),
        })
    );
    assert_eq!(
        rt(&format!("{r} * on () {r}")),
        r#"rate({a="b"} [5m]) * on () rate({a="b"} [5m])"#
    );
    assert!(err(r#"{a="b"} + 1"#).contains("log query"));
    assert!(err("1 and vector(1)").contains("unexpected literal for left leg"));
    assert!(err("vector(1) or 1").contains("right leg"));
    assert!(err("1 + bool 1").contains("bool modifier"));
    assert!(err("vector(1) and on (a) group_left vector(1)").contains("no grouping"));
    assert!(err("--1").contains("expecting a number after the sign"));
    assert!(err("-vector(1)").contains("number after the sign"));
    assert!(err("1 +").contains("end of input"));
    assert!(err("vector(1) vector(1)").contains("binary operator or end of query"));
}

#[test]
fn other_functions() {
    assert_eq!(rt("vector(5)"), "vector(5)");
    let q = r#"label_replace(rate({a="b"}[5m]), "dst", "$1", "src", "(.*)")"#;
    assert_eq!(
        rt(q),
        r#"label_replace(rate({a="b"} [5m]), "dst", "$1", "src", "(.*)")"#
    );
    assert!(
        err(r#"label_replace(rate({a="b"}[5m]), "1dst", "$1", "src", "(.*)")"#)
            .contains("destination label")
    );
    assert!(
        err(r#"label_replace(rate({a="b"}[5m]), "dst", "$1", "src", "((")"#)
            .contains("invalid regex")
    );
    assert!(
        err(r#"label_replace(rate({a="b"}[5m]), "dst", "$1", "src")"#).contains("expecting \",\"")
    );
    assert!(err("vector(-1)").contains("expecting a number"));
    assert!(err("foo(1)").contains("unexpected identifier \"foo\""));
    assert!(err("rate").contains("unexpected identifier"));
}

#[test]
fn error_positions() {
    let e = parse("{a=\"b\"}\n  | json | x > \"s\"").unwrap_err();
    assert_eq!(e.position(), 23);
    assert_eq!(
        e.to_string(),
        "parse error at line 2, col 16: syntax error: unexpected string \"s\", expecting a number, a duration or a byte size"
    );
    let e = parse("{é=\"b\"} |= 1").unwrap_err();
    assert_eq!(e.position(), 12);
    assert!(
        e.to_string().starts_with("parse error at line 1, col 12:"),
        "{e}"
    );
    let e = parse(r#"{a="b"} @"#).unwrap_err();
    assert!(e.to_string().contains("unexpected character '@'"), "{e}");
}

/// Queries in the style of Loki's LogQL documentation.
#[test]
fn documentation_examples() {
    for q in [
        r#"{container="query-frontend",namespace="loki-dev"} |= "metrics.go" | logfmt | duration > 10s and throughput_mb < 500"#,
        r#"{job="mysql"} |= "error" != "timeout""#,
        r#"{name=~"mysql.+"} |~ "error=\\w+""#,
        r#"{job="varlogs"} |~ "(?i)error""#,
        r#"{app="foo"} | json | line_format "{{.message}}""#,
        r#"{job="loki"} | logfmt | level="error" or level="warn""#,
        r#"{job="loki"} | json first_server="servers[0]", ua="request.headers[\"User-Agent\"]""#,
        r#"{job="loki"} | pattern "<ip> - - <_> \"<method> <uri> <_>\" <status> <size> <_> \"<agent>\" <_>""#,
        r#"{job="loki"} | regexp "(?P<method>\\w+) (?P<path>[\\w|/]+) \\((?P<status>\\d+?)\\) (?P<duration>.*)""#,
        r#"{job="loki"} | unpack | line_format "{{ __line__ }}""#,
        r#"{job="loki"} | label_format foo=bar | line_format "{{.foo | ToUpper}}""#,
        r#"{job="loki"} | logfmt | drop level, method="GET" | keep level, method="GET""#,
        r#"{job="loki"} | logfmt | duration >= 20ms or size == 20kB and method!~"2..""#,
        r#"{job="loki"} | logfmt | (duration >= 20ms or method="GET") and size <= 20KB"#,
        r#"{job="loki"} | json | status_code >= 500 | __error__!="JSONParserErr" | __error_details__="""#,
        r#"{job="x"} |> "<_> error <_>" or "<_> warn <_>" !> "<_> debug <_>""#,
        r#"{job="x"} | decolorize | logfmt --keep-empty"#,
        r#"sum by (host) (rate({job="mysql"} |= "error" != "timeout" | json | duration > 10s [1m]))"#,
        r#"topk(10,sum(rate({region="us-east1"}[5m])) by (name))"#,
        r#"sum(rate({app="foo", level="warn"}[1m])) / sum(rate({app="foo", level="error"}[1m]))"#,
        r#"sum(rate({app="foo"}[1m])) by (level) > 10"#,
        r#"sum(rate({app="foo"}[1m])) by (level) > bool 10"#,
        r#"avg_over_time({job="x"} | unwrap latency | __error__="" [5m]) by (cluster)"#,
        r#"sum(count_over_time({foo="bar"}[5m])) by (level) or vector(0)"#,
        r#"label_replace(rate({job="api-server",service="a:c"} |= "err" [1m]), "foo", "$1", "service", "(.*):.*")"#,
        r#"sum(rate({job="x"} | json | __error__="" | unwrap bytes(size) [5m]))"#,
        r#"rate({job="x"} |= "error" [5m] offset 1d)"#,
        r#"max_over_time({job="x"} | logfmt | unwrap duration_seconds(took) [1h]) without (pod)"#,
        r#"sum without (pod) (bytes_rate({job="x"}[1m])) * on (job) group_left (team) sum by (job, team) (count_over_time({job="y"}[1m]))"#,
        "1 + 1",
        "2 * 3 ^ 2",
    ] {
        rt(q);
    }
}
