//! Printing any tree gives text that parses back to the same tree.

use argus_traceql::*;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_.]{0,6}",
        prop::collection::vec(any::<char>(), 0..5).prop_map(String::from_iter),
        Just("span.x".to_string()),
        Just("a b".to_string()),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(vec![
        Scope::None,
        Scope::Span,
        Scope::Resource,
        Scope::Event,
        Scope::Link,
        Scope::Instrumentation,
    ])
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (any::<bool>(), scope(), name()).prop_map(|(parent, scope, name)| Attribute {
        parent,
        scope,
        name,
    })
}

fn intrinsic() -> impl Strategy<Value = Intrinsic> {
    prop::sample::select(Intrinsic::ALL.to_vec())
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        intrinsic().prop_map(Field::Intrinsic),
        attribute().prop_map(Field::Attribute)
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..10_000).prop_map(|n| f64::from(n) / 100.0),
        (0.0f64..f64::MAX),
    ]
}

fn static_value() -> impl Strategy<Value = Static> {
    prop_oneof![
        (0..=i64::MAX).prop_map(Static::Int),
        float().prop_map(Static::Float),
        prop::collection::vec(any::<char>(), 0..6)
            .prop_map(|c| Static::String(String::from_iter(c))),
        (0..=i64::MAX).prop_map(Static::Duration),
        any::<bool>().prop_map(Static::Bool),
        Just(Static::Nil),
        prop::sample::select(vec![Status::Ok, Status::Error, Status::Unset])
            .prop_map(Static::Status),
        prop::sample::select(vec![
            Kind::Unspecified,
            Kind::Internal,
            Kind::Server,
            Kind::Client,
            Kind::Producer,
            Kind::Consumer
        ])
        .prop_map(Static::Kind),
    ]
}

const BINARY: &[BinaryOp] = &[
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Eq,
    BinaryOp::Neq,
    BinaryOp::Lt,
    BinaryOp::Lte,
    BinaryOp::Gt,
    BinaryOp::Gte,
    BinaryOp::Regex,
    BinaryOp::NotRegex,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::Pow,
];

fn field_expr() -> impl Strategy<Value = FieldExpr> {
    let leaf = prop_oneof![
        // Regex operands are checked: keep strings out of binary trees'
        // right sides by making them rare leaves that are valid regexes.
        static_value()
            .prop_filter("valid regex", |s| match s {
                Static::String(s) => regex::Regex::new(s).is_ok(),
                _ => true,
            })
            .prop_map(FieldExpr::Static),
        intrinsic().prop_map(FieldExpr::Intrinsic),
        attribute().prop_map(FieldExpr::Attribute),
    ];
    leaf.prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![UnaryOp::Neg, UnaryOp::Not]),
                inner.clone()
            )
                .prop_map(|(op, e)| FieldExpr::Unary {
                    op,
                    expr: Box::new(e)
                }),
            (prop::sample::select(BINARY.to_vec()), inner.clone(), inner).prop_map(|(op, l, r)| {
                FieldExpr::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                }
            }),
        ]
    })
}

fn spanset_filter() -> impl Strategy<Value = SpansetFilter> {
    prop::option::of(field_expr()).prop_map(|expr| SpansetFilter { expr })
}

fn scalar_expr() -> impl Strategy<Value = ScalarExpr> {
    let leaf = prop_oneof![
        prop_oneof![
            Just(Aggregate::Count),
            field_expr().prop_map(Aggregate::Avg),
            field_expr().prop_map(Aggregate::Max),
        ]
        .prop_map(ScalarExpr::Aggregate),
        any::<i64>().prop_map(ScalarExpr::Int),
        prop_oneof![float(), float().prop_map(|f| -f)].prop_map(ScalarExpr::Float),
        (i64::MIN + 1..=i64::MAX).prop_map(ScalarExpr::Duration),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        (
            prop::sample::select(BINARY[10..].to_vec()),
            inner.clone(),
            inner,
        )
            .prop_map(|(op, l, r)| ScalarExpr::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            })
    })
}

const SPANSET_OPS: &[SpansetOp] = &[
    SpansetOp::And,
    SpansetOp::Or,
    SpansetOp::Child,
    SpansetOp::Parent,
    SpansetOp::Descendant,
    SpansetOp::Ancestor,
    SpansetOp::Sibling,
    SpansetOp::NotChild,
    SpansetOp::NotParent,
    SpansetOp::NotDescendant,
    SpansetOp::NotAncestor,
    SpansetOp::NotSibling,
    SpansetOp::UnionChild,
    SpansetOp::UnionParent,
    SpansetOp::UnionDescendant,
    SpansetOp::UnionAncestor,
    SpansetOp::UnionSibling,
];

fn comparison() -> impl Strategy<Value = ComparisonOp> {
    prop::sample::select(vec![
        ComparisonOp::Eq,
        ComparisonOp::Neq,
        ComparisonOp::Lt,
        ComparisonOp::Lte,
        ComparisonOp::Gt,
        ComparisonOp::Gte,
    ])
}

fn non_spanset_stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        (comparison(), scalar_expr(), scalar_expr())
            .prop_map(|(op, lhs, rhs)| Stage::ScalarFilter(ScalarFilter { op, lhs, rhs })),
        field_expr().prop_map(Stage::GroupBy),
        prop::collection::vec(field(), 1..3).prop_map(Stage::Select),
        Just(Stage::Coalesce),
    ]
}

/// A pipeline as the parser makes it: no `coalesce()` first.
fn pipeline(spanset: BoxedStrategy<SpansetExpr>) -> impl Strategy<Value = Pipeline> {
    let stage = prop_oneof![spanset.prop_map(Stage::Spanset), non_spanset_stage()];
    prop::collection::vec(stage, 1..4)
        .prop_filter("coalesce first", |s| s[0] != Stage::Coalesce)
        .prop_map(|stages| Pipeline { stages })
}

fn spanset_expr() -> BoxedStrategy<SpansetExpr> {
    let leaf = spanset_filter().prop_map(SpansetExpr::Filter);
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(SPANSET_OPS.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| SpansetExpr::Op {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r)
                }),
            pipeline(inner)
                .prop_filter("parentheses only", |p| {
                    !(p.stages.len() == 1 && matches!(p.stages[0], Stage::Spanset(_)))
                })
                .prop_map(|p| SpansetExpr::Pipeline(Box::new(p))),
        ]
    })
    .boxed()
}

fn metrics() -> impl Strategy<Value = MetricsStage> {
    let function = prop_oneof![
        Just(MetricsFunction::Rate),
        Just(MetricsFunction::CountOverTime),
        field().prop_map(MetricsFunction::MinOverTime),
        field().prop_map(MetricsFunction::AvgOverTime),
        field().prop_map(MetricsFunction::HistogramOverTime),
        (field(), prop::collection::vec(float(), 1..4))
            .prop_map(|(field, quantiles)| MetricsFunction::QuantileOverTime { field, quantiles }),
    ];
    let compare = (
        spanset_filter(),
        prop::option::of((any::<u64>(), prop::option::of((any::<u64>(), any::<u64>())))),
    )
        .prop_map(|(filter, n)| MetricsStage {
            function: MetricsFunction::Compare {
                filter,
                top_n: n.map(|n| n.0),
                window: n.and_then(|n| n.1),
            },
            by: vec![],
        });
    prop_oneof![
        (function, prop::collection::vec(field(), 0..3))
            .prop_map(|(function, by)| MetricsStage { function, by }),
        compare,
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let metrics = prop::option::of((
        metrics(),
        prop::option::of(prop_oneof![
            any::<u64>().prop_map(SecondStage::TopK),
            any::<u64>().prop_map(SecondStage::BottomK)
        ]),
    ));
    let hints = prop::collection::vec(
        ("[a-z_][a-z0-9_]{0,8}", static_value()).prop_map(|(name, value)| Hint { name, value }),
        0..3,
    );
    (pipeline(spanset_expr()), metrics, hints).prop_map(|(pipeline, m, hints)| {
        let (metrics, second_stage) = match m {
            Some((m, s)) => (Some(m), s),
            None => (None, None),
        };
        Query {
            pipeline,
            metrics,
            second_stage,
            hints,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn printing_parses_back(q in query()) {
        let printed = q.to_string();
        match parse(&printed) {
            Ok(again) => prop_assert_eq!(again, q, "printed: {}", printed),
            Err(e) => prop_assert!(false, "{} does not parse: {}", printed, e),
        }
    }
}
