//! The printer on generated trees: whatever the tree (within what the parser
//! can produce), its text parses back to the same tree.
//!
//! One shape is left out because LogQL has no text for it: a `drop` or
//! `keep` whose last element is a bare name, followed by a `!=` or `!~`
//! line filter (`| drop a != "x"` reads as the matcher `a!="x"`, in Loki
//! too), so the parser never builds it.

use argus_logql::*;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a",
        "b_1",
        "__error__",
        "json",
        "Unwrap",
        "drop",
        "or",
        "and",
        "by",
        "offset",
        "ip",
        "bool",
        "é",
    ])
    .prop_map(String::from)
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "x",
        "a\"b",
        "é\n\t\\",
        "\u{0}\u{7f}\u{85}",
        "\u{feff}",
        "{{.a}}",
        "#not a comment",
        "`",
    ])
    .prop_map(String::from)
}

fn regex() -> impl Strategy<Value = String> {
    prop::sample::select(vec![".+", "x.*", "a|b", r"\d+", "é"]).prop_map(String::from)
}

fn number() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![
        0.0,
        -0.0,
        1.5,
        -2.0,
        1e300,
        -1e-300,
        5e-324,
        123456789.125,
        1e21,
    ])
}

fn duration() -> impl Strategy<Value = i64> {
    prop::sample::select(vec![
        0,
        1,
        -1,
        1_500,
        250_000_000,
        5_400_000_000_000,
        i64::MAX,
        i64::MIN,
    ])
}

fn matcher() -> impl Strategy<Value = Matcher> {
    (name(), 0..4usize, text(), regex()).prop_map(|(name, op, t, r)| match op {
        0 => Matcher {
            name,
            op: MatchOp::Eq,
            value: t,
        },
        1 => Matcher {
            name,
            op: MatchOp::Neq,
            value: t,
        },
        2 => Matcher {
            name,
            op: MatchOp::Re,
            value: r,
        },
        _ => Matcher {
            name,
            op: MatchOp::Nre,
            value: r,
        },
    })
}

fn cmp() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Neq,
        CmpOp::Gt,
        CmpOp::Gte,
        CmpOp::Lt,
        CmpOp::Lte,
    ])
}

fn label_filter() -> impl Strategy<Value = LabelFilter> {
    let leaf = prop_oneof![
        matcher().prop_map(LabelFilter::Matcher),
        (name(), any::<bool>()).prop_map(|(name, negated)| LabelFilter::Ip {
            name,
            negated,
            value: "10.0.0.0/8".into()
        }),
        (name(), cmp(), number()).prop_map(|(name, op, value)| LabelFilter::Number {
            name,
            op,
            value
        }),
        (name(), cmp(), duration()).prop_map(|(name, op, value)| LabelFilter::Duration {
            name,
            op,
            value
        }),
        (
            name(),
            cmp(),
            prop::sample::select(vec![0u64, 1, 20_000_000, u64::MAX])
        )
            .prop_map(|(name, op, value)| LabelFilter::Bytes { name, op, value }),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        (any::<bool>(), prop::collection::vec(inner, 2..4)).prop_map(|(and, v)| {
            let mut it = v.into_iter();
            let first = it.next().unwrap_or(LabelFilter::Ip {
                name: "a".into(),
                negated: false,
                value: "1.2.3.4".into(),
            });
            it.fold(first, |a, b| {
                if and {
                    LabelFilter::and(a, b)
                } else {
                    LabelFilter::or(a, b)
                }
            })
        })
    })
}

fn line_filter() -> impl Strategy<Value = LineFilter> {
    (
        0..6usize,
        prop::collection::vec((any::<bool>(), text(), regex()), 1..3),
    )
        .prop_map(|(op, vals)| {
            use LineFilterOp::*;
            let op = [Contains, NotContains, Match, NotMatch, Pattern, NotPattern][op];
            let values = vals
                .into_iter()
                .map(|(ip, t, r)| match op {
                    Contains | NotContains if ip => LineFilterValue::Ip("::1".into()),
                    Match | NotMatch => LineFilterValue::Text(r),
                    _ => LineFilterValue::Text(t),
                })
                .collect();
            LineFilter { op, values }
        })
}

fn extractions() -> impl Strategy<Value = Vec<LabelExtraction>> {
    prop::collection::vec((name(), prop::option::of(text())), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(name, path)| LabelExtraction { name, path })
            .collect()
    })
}

fn selections() -> impl Strategy<Value = Vec<LabelSelection>> {
    prop::collection::vec(
        prop_oneof![
            name().prop_map(LabelSelection::Name),
            matcher().prop_map(LabelSelection::Matcher)
        ],
        1..3,
    )
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        line_filter().prop_map(Stage::LineFilter),
        extractions().prop_map(|p| Stage::Parser(LogParser::Json(p))),
        (any::<bool>(), any::<bool>(), extractions()).prop_map(|(strict, keep_empty, params)| {
            Stage::Parser(LogParser::Logfmt {
                strict,
                keep_empty,
                params,
            })
        }),
        Just(Stage::Parser(LogParser::Regexp("(?P<a>x)".into()))),
        Just(Stage::Parser(LogParser::Pattern("<a> <_>".into()))),
        Just(Stage::Parser(LogParser::Unpack)),
        label_filter().prop_map(Stage::LabelFilter),
        text().prop_map(Stage::LineFormat),
        prop::collection::vec((name(), any::<bool>(), text(), name()), 1..3).prop_map(|v| {
            Stage::LabelFormat(
                v.into_iter()
                    .map(|(name, tpl, t, src)| LabelFormat {
                        name,
                        value: if tpl {
                            LabelFormatValue::Template(t)
                        } else {
                            LabelFormatValue::Rename(src)
                        },
                    })
                    .collect(),
            )
        }),
        selections().prop_map(Stage::Drop),
        selections().prop_map(Stage::Keep),
        Just(Stage::Decolorize),
    ]
}

/// Drops the one inexpressible shape (see the module doc).
fn expressible(stages: Vec<Stage>) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::new();
    for s in stages {
        let negated_filter = matches!(&s, Stage::LineFilter(l)
            if matches!(l.op, LineFilterOp::NotContains | LineFilterOp::NotMatch));
        let after_bare_name = matches!(out.last(), Some(Stage::Drop(v) | Stage::Keep(v))
            if matches!(v.last(), Some(LabelSelection::Name(_))));
        if !(negated_filter && after_bare_name) {
            out.push(s);
        }
    }
    out
}

fn log_expr() -> impl Strategy<Value = LogExpr> {
    (
        prop::collection::vec(matcher(), 0..3),
        prop::collection::vec(stage(), 0..5),
    )
        .prop_map(|(mut selector, stages)| {
            selector.push(Matcher {
                name: "job".into(),
                op: MatchOp::Eq,
                value: "x".into(),
            });
            LogExpr {
                selector,
                pipeline: expressible(stages),
            }
        })
}

fn grouping() -> impl Strategy<Value = Option<Grouping>> {
    prop::option::of(
        (any::<bool>(), prop::collection::vec(name(), 0..3))
            .prop_map(|(without, labels)| Grouping { without, labels }),
    )
}

fn range_aggregation() -> impl Strategy<Value = MetricExpr> {
    use RangeOp::*;
    (
        prop::sample::select(vec![
            CountOverTime,
            Rate,
            RateCounter,
            BytesOverTime,
            BytesRate,
            AbsentOverTime,
            SumOverTime,
            AvgOverTime,
            MinOverTime,
            MaxOverTime,
            StdvarOverTime,
            StddevOverTime,
            QuantileOverTime,
            FirstOverTime,
            LastOverTime,
        ]),
        log_expr(),
        (
            name(),
            prop::option::of(prop::sample::select(vec![
                Conversion::Bytes,
                Conversion::Duration,
                Conversion::DurationSeconds,
            ])),
            prop::collection::vec(label_filter(), 0..2),
        ),
        prop::sample::select(vec![0i64, 1_000_000, 300_000_000_000, 90_061_001_000_000]),
        prop::option::of(duration()),
        grouping(),
    )
        .prop_map(
            |(op, log, (label, conversion, post_filters), range, offset, grouping)| {
                let unwrapped = !matches!(op, CountOverTime | BytesOverTime | BytesRate);
                let groupable = matches!(
                    op,
                    AvgOverTime
                        | StddevOverTime
                        | StdvarOverTime
                        | QuantileOverTime
                        | MaxOverTime
                        | MinOverTime
                        | FirstOverTime
                        | LastOverTime
                );
                MetricExpr::RangeAggregation(Box::new(RangeAggregation {
                    op,
                    param: (op == QuantileOverTime).then_some(0.99),
                    range: LogRange {
                        log,
                        unwrap: unwrapped.then_some(Unwrap {
                            label,
                            conversion,
                            post_filters,
                        }),
                        range,
                        offset,
                    },
                    grouping: if groupable { grouping } else { None },
                }))
            },
        )
}

fn metric_expr() -> impl Strategy<Value = MetricExpr> {
    let leaf = prop_oneof![
        number().prop_map(MetricExpr::Literal),
        prop::sample::select(vec![0.0, 1.0, 2.5]).prop_map(MetricExpr::Vector),
        range_aggregation(),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        use BinaryOp::*;
        prop_oneof![
            (
                prop::sample::select(vec![
                    Or, And, Unless, Eq, Neq, Gt, Gte, Lt, Lte, Add, Sub, Mul, Div, Mod, Pow
                ]),
                inner.clone(),
                inner.clone(),
                any::<bool>(),
                prop::option::of((
                    any::<bool>(),
                    prop::collection::vec(name(), 0..2),
                    0..3usize,
                    prop::collection::vec(name(), 0..2)
                )),
            )
                .prop_map(|(op, lhs, rhs, b, m)| {
                    let fix = |e: MetricExpr| match e {
                        MetricExpr::Literal(_) if op.is_set_operator() => MetricExpr::Vector(1.0),
                        e => e,
                    };
                    MetricExpr::Binary(Box::new(BinaryExpr {
                        op,
                        lhs: fix(lhs),
                        rhs: fix(rhs),
                        return_bool: b && op.is_comparison(),
                        matching: m.map(|(on, labels, card, include)| VectorMatching {
                            on,
                            labels,
                            cardinality: match card {
                                1 if !op.is_set_operator() => Cardinality::ManyToOne(include),
                                2 if !op.is_set_operator() => Cardinality::OneToMany(include),
                                _ => Cardinality::OneToOne,
                            },
                        }),
                    }))
                }),
            (
                prop::sample::select(vec![
                    VectorOp::Sum,
                    VectorOp::Avg,
                    VectorOp::Min,
                    VectorOp::Max,
                    VectorOp::Count,
                    VectorOp::Stddev,
                    VectorOp::Stdvar,
                    VectorOp::Topk,
                    VectorOp::Bottomk,
                    VectorOp::Sort,
                    VectorOp::SortDesc,
                ]),
                inner.clone(),
                grouping(),
            )
                .prop_map(|(op, expr, grouping)| {
                    let k = matches!(op, VectorOp::Topk | VectorOp::Bottomk);
                    let sort = matches!(op, VectorOp::Sort | VectorOp::SortDesc);
                    MetricExpr::VectorAggregation(Box::new(VectorAggregation {
                        op,
                        param: k.then_some(3),
                        expr,
                        grouping: if sort { None } else { grouping },
                    }))
                }),
            (inner, text()).prop_map(|(expr, replacement)| MetricExpr::LabelReplace(Box::new(
                LabelReplace {
                    expr,
                    dst: "dst".into(),
                    replacement,
                    src: "src".into(),
                    regex: "(.*)".into(),
                }
            ))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn log_queries_print_and_parse_back(l in log_expr()) {
        let e = Expr::Log(l);
        let printed = e.to_string();
        prop_assert_eq!(parse_syntax(&printed), Ok(e), "{}", printed);
    }

    #[test]
    fn metric_queries_print_and_parse_back(m in metric_expr()) {
        let e = Expr::Metric(m);
        let printed = e.to_string();
        prop_assert_eq!(parse_syntax(&printed), Ok(e), "{}", printed);
    }
}
