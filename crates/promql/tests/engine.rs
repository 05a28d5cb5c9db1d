//! Engine behaviour through the public API.

use std::time::Duration;

use argus_model::{Labels, Sample, STALE_NAN};
use argus_promql::{Engine, EngineOptions, MemStore, PromqlError, Value};
use proptest::prelude::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// `m{job=a}` = 0,1,2,... every 15s for 10m; `m{job=b}` = 10 * that.
fn store() -> MemStore {
    let mut s = MemStore::new();
    for i in 0..=40 {
        s.add(
            labels(&[("__name__", "m"), ("job", "a")]),
            Sample::new(i * 15_000, i as f64),
        );
        s.add(
            labels(&[("__name__", "m"), ("job", "b")]),
            Sample::new(i * 15_000, 10.0 * i as f64),
        );
    }
    s
}

fn vector(v: Value) -> Vec<(String, f64)> {
    match v {
        Value::Vector(v) => v.into_iter().map(|s| (s.labels.to_string(), s.v)).collect(),
        other => panic!("expected vector, got {other:?}"),
    }
}

#[test]
fn instant_selector_uses_lookback_and_staleness() {
    let mut s = MemStore::new();
    let l = labels(&[("__name__", "x")]);
    s.add(l.clone(), Sample::new(0, 1.0));
    s.add(l.clone(), Sample::new(60_000, 2.0));
    s.add(l.clone(), Sample::new(120_000, STALE_NAN));
    let e = Engine::default();
    assert_eq!(
        vector(e.instant(&s, "x", 90_000).unwrap().value),
        vec![(r#"{__name__="x"}"#.into(), 2.0)]
    );
    assert!(
        vector(e.instant(&s, "x", 130_000).unwrap().value).is_empty(),
        "stale marker hides the series"
    );
    assert_eq!(
        vector(e.instant(&s, "x", 60_000 + 299_999).unwrap().value).len(),
        0,
        "after the stale marker"
    );
    let mut s2 = MemStore::new();
    s2.add(l, Sample::new(0, 1.0));
    assert_eq!(vector(e.instant(&s2, "x", 299_999).unwrap().value).len(), 1);
    assert_eq!(
        vector(e.instant(&s2, "x", 300_000).unwrap().value).len(),
        0,
        "lookback window is left-open"
    );
}

#[test]
fn range_query_rate_and_sorting() {
    let e = Engine::default();
    let r = e
        .range(&store(), "rate(m[1m])", 60_000, 120_000, 30_000)
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("matrix expected")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels.to_string(), r#"{job="a"}"#);
    assert_eq!(m[0].samples.len(), 3);
    for s in &m[0].samples {
        assert!((s.v - 1.0 / 15.0).abs() < 1e-9, "{s:?}");
    }
    assert_eq!(
        r.infos.len(),
        1,
        "m does not look like a counter: {:?}",
        r.infos
    );
}

#[test]
fn vector_matching_and_errors() {
    let e = Engine::default();
    let s = store();
    let v = vector(
        e.instant(&s, "m / on(job) group_left m", 60_000)
            .unwrap()
            .value,
    );
    assert_eq!(v.len(), 2);
    let err = e.instant(&s, "m + on() m", 60_000).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("found duplicate series for the match group {} on the right hand-side"),
        "{err}"
    );
    let v = vector(e.instant(&s, "m > bool 5", 60_000).unwrap().value);
    assert_eq!(
        v,
        vec![(r#"{job="a"}"#.into(), 0.0), (r#"{job="b"}"#.into(), 1.0)]
    );
    let v = vector(e.instant(&s, "m{job='a'} or m", 60_000).unwrap().value);
    assert_eq!(v.len(), 2);
}

#[test]
fn aggregations_and_ordering() {
    let e = Engine::default();
    let s = store();
    assert_eq!(
        vector(e.instant(&s, "sum(m)", 60_000).unwrap().value),
        vec![("{}".into(), 44.0)]
    );
    assert_eq!(
        vector(e.instant(&s, "topk(1, m)", 60_000).unwrap().value),
        vec![(r#"{__name__="m", job="b"}"#.into(), 40.0)]
    );
    let sorted = vector(e.instant(&s, "sort_desc(m)", 60_000).unwrap().value);
    assert_eq!(sorted[0].1, 40.0);
    let cv = vector(
        e.instant(&s, "count_values('v', m{job='a'})", 60_000)
            .unwrap()
            .value,
    );
    assert_eq!(cv, vec![(r#"{v="4"}"#.into(), 1.0)]);
}

#[test]
fn subquery_and_at_modifier() {
    let e = Engine::default();
    let s = store();
    let v = vector(
        e.instant(&s, "max_over_time(m{job='a'}[1m:15s])", 120_000)
            .unwrap()
            .value,
    );
    assert_eq!(v, vec![(r#"{job="a"}"#.into(), 8.0)]);
    let r = e
        .range(&s, "m{job='a'} @ end()", 0, 60_000, 30_000)
        .unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert!(m[0].samples.iter().all(|p| p.v == 4.0));
    let v = vector(
        e.instant(&s, "m{job='a'} offset 1m", 120_000)
            .unwrap()
            .value,
    );
    assert_eq!(v[0].1, 4.0);
}

#[test]
fn scalars_strings_and_range_results() {
    let e = Engine::default();
    let s = store();
    assert_eq!(
        e.instant(&s, "1 + 2 * 3", 0).unwrap().value,
        Value::Scalar(0, 7.0)
    );
    assert_eq!(
        e.instant(&s, "\"hello\"", 5).unwrap().value,
        Value::String(5, "hello".into())
    );
    let Value::Matrix(m) = e.instant(&s, "m{job='a'}[1m]", 60_000).unwrap().value else {
        panic!()
    };
    assert_eq!(
        m[0].samples.len(),
        4,
        "window (0, 60s] holds 15s, 30s, 45s, 60s"
    );
    let Value::Matrix(m) = e.range(&s, "time()", 0, 30_000, 15_000).unwrap().value else {
        panic!()
    };
    assert_eq!(
        m[0].samples.iter().map(|p| p.v).collect::<Vec<_>>(),
        vec![0.0, 15.0, 30.0]
    );
}

#[test]
fn errors_are_classified() {
    let e = Engine::default();
    let s = store();
    assert!(matches!(
        e.instant(&s, "sum(", 0),
        Err(PromqlError::BadData(_))
    ));
    assert!(matches!(
        e.range(&s, "m[1m]", 0, 10, 1),
        Err(PromqlError::BadData(_))
    ));
    assert!(matches!(
        e.range(&s, "m", 0, 10, 0),
        Err(PromqlError::BadData(_))
    ));
    let tiny = Engine::new(EngineOptions {
        max_samples: 10,
        ..EngineOptions::default()
    });
    let err = tiny.range(&s, "m", 0, 600_000, 15_000).unwrap_err();
    assert_eq!(err, PromqlError::TooManySamples(10));
    assert!(
        err.to_string().starts_with(
            "query processing would load too many samples into memory in query execution"
        ) && err.to_string().ends_with("(limit: query.max_samples = 10)"),
        "{err}"
    );
    assert_eq!(
        tiny.instant(&s, "max_over_time(m[5m])", 600_000)
            .unwrap_err(),
        PromqlError::TooManySamples(10)
    );
    // Raw samples count while held, one series at a time: each series has
    // 20 in the lookback window of `m` at 600s (40 in all), more than 10,
    // fewer than 30.
    assert_eq!(
        tiny.instant(&s, "m", 600_000).unwrap_err(),
        PromqlError::TooManySamples(10)
    );
    let small = Engine::new(EngineOptions {
        max_samples: 30,
        ..EngineOptions::default()
    });
    assert!(small.instant(&s, "m", 600_000).is_ok());
    assert!(small
        .instant(&s, "sum(count_over_time(m[5m]))", 600_000)
        .is_ok());
    let hurried = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    std::thread::sleep(Duration::from_millis(1));
    assert_eq!(
        hurried.instant(&s, "m", 0).unwrap_err(),
        PromqlError::Timeout
    );
    let dup = e
        .instant(&s, "label_replace(m, 'job', 'x', '', '')", 60_000)
        .unwrap_err();
    assert_eq!(
        dup.to_string(),
        "vector cannot contain metrics with the same labelset"
    );
}

proptest! {
    #[test]
    fn over_time_functions_match_direct_computation(values in prop::collection::vec(-1e6f64..1e6, 1..40), range_s in 1i64..200) {
        let mut s = MemStore::new();
        let l = labels(&[("__name__", "g")]);
        for (i, v) in values.iter().enumerate() {
            s.add(l.clone(), Sample::new(i as i64 * 10_000, *v));
        }
        let t = (values.len() as i64 - 1) * 10_000;
        let in_window: Vec<f64> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as i64 * 10_000 > t - range_s * 1000)
            .map(|(_, v)| *v)
            .collect();
        let e = Engine::default();
        let q = |f: &str| vector(e.instant(&s, &format!("{f}(g[{range_s}s])"), t).unwrap().value);
        let count = q("count_over_time");
        prop_assert_eq!(count[0].1, in_window.len() as f64);
        let max = q("max_over_time");
        prop_assert_eq!(max[0].1, in_window.iter().cloned().fold(f64::MIN, f64::max));
        let sum = q("sum_over_time");
        let direct: f64 = in_window.iter().sum();
        prop_assert!((sum[0].1 - direct).abs() <= 1e-6 * direct.abs().max(1.0));
    }
}

/// Random expressions built from PromQL's pieces: the engine may refuse them
/// but must never panic.
fn arb_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("m".to_string()),
        Just("m{job='a'}".to_string()),
        Just("m offset 1m".to_string()),
        Just("m @ 60".to_string()),
        Just("nonexistent".to_string()),
        Just("1".to_string()),
        Just("-2.5".to_string()),
        Just("NaN".to_string()),
        Just("time()".to_string()),
        Just("vector(3)".to_string()),
    ];
    leaf.prop_recursive(4, 32, 3, |inner| {
        let range_fn = prop::sample::select(vec![
            "rate",
            "irate",
            "increase",
            "delta",
            "deriv",
            "changes",
            "resets",
            "avg_over_time",
            "max_over_time",
            "quantile_over_time(0.3,",
            "stddev_over_time",
            "last_over_time",
            "absent_over_time",
        ]);
        let vec_fn = prop::sample::select(vec![
            "abs",
            "ceil",
            "sqrt",
            "ln",
            "sort",
            "sort_desc",
            "timestamp",
            "scalar",
            "absent",
            "round",
            "clamp_min(",
            "hour",
        ]);
        let agg = prop::sample::select(vec![
            "sum",
            "avg",
            "max",
            "min",
            "count",
            "stddev",
            "group",
            "topk(2,",
            "bottomk(1,",
            "quantile(0.9,",
            "count_values('v',",
            "limitk(1,",
        ]);
        let op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<=", "and", "or", "unless", "> bool",
        ]);
        prop_oneof![
            (
                range_fn,
                inner.clone(),
                prop::sample::select(vec!["[1m]", "[5m:30s]", "[2m:]"])
            )
                .prop_map(|(f, e, r)| {
                    if f.ends_with(',') {
                        format!("{f} ({e}){r})")
                    } else {
                        format!("{f}(({e}){r})")
                    }
                }),
            (vec_fn, inner.clone()).prop_map(|(f, e)| if f.ends_with('(') {
                format!("{f}{e}, 1)")
            } else {
                format!("{f}({e})")
            }),
            (
                agg,
                inner.clone(),
                prop::sample::select(vec!["", " by (job)", " without (job)"])
            )
                .prop_map(|(a, e, g)| {
                    if a.ends_with(',') {
                        format!("{a} {e}){g}")
                    } else {
                        format!("{a}{g} ({e})")
                    }
                }),
            (
                inner.clone(),
                op,
                inner.clone(),
                prop::sample::select(vec![
                    "",
                    " on(job)",
                    " ignoring(job)",
                    " on(job) group_left"
                ])
            )
                .prop_map(|(l, o, r, m)| format!("({l}) {o}{m} ({r})")),
            inner.prop_map(|e| format!("-({e})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn random_queries_never_panic(q in arb_expr(), t in 0i64..700_000) {
        let e = Engine::default();
        let s = store();
        let _ = e.instant(&s, &q, t);
        let _ = e.range(&s, &q, t, t + 120_000, 30_000);
    }
}

fn hist(count: f64) -> argus_model::FloatHistogram {
    argus_model::FloatHistogram {
        count,
        sum: 2.0 * count,
        positive_spans: vec![argus_model::Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![count / 2.0, count / 2.0],
        ..Default::default()
    }
}

#[test]
fn native_histograms_flow_through_functions_and_json() {
    let mut s = MemStore::new();
    let h = labels(&[("__name__", "h_seconds"), ("job", "a")]);
    for i in 0..=10 {
        s.add_histogram(h.clone(), i * 60_000, hist(10.0 * i as f64));
    }
    // A float stale marker ends the histogram series.
    s.add(h.clone(), Sample::new(11 * 60_000, STALE_NAN));
    let e = Engine::default();
    let r = e
        .instant(&s, "histogram_count(rate(h_seconds[5m]))", 600_000)
        .unwrap();
    let v = vector(r.value);
    assert_eq!(v.len(), 1);
    assert!((v[0].1 - 10.0 / 60.0).abs() < 1e-9, "{v:?}");

    let r = e.instant(&s, "sum(h_seconds) * 2", 600_000).unwrap();
    let json = r.value.to_prometheus_json();
    assert_eq!(
        json["result"][0]["histogram"][1]["count"].as_str(),
        Some("200")
    );
    assert_eq!(
        json["result"][0]["histogram"][1]["buckets"][0].to_string(),
        r#"[0,"0.5","1","100"]"#
    );
    let r = e.instant(&s, "h_seconds", 11 * 60_000 + 1).unwrap();
    assert!(vector(r.value).is_empty());

    // Histogram comparisons with floats are dropped with an info annotation.
    let r = e.instant(&s, "h_seconds > 1", 600_000).unwrap();
    assert!(vector(r.value).is_empty());
    assert_eq!(
        r.infos,
        vec![
            "PromQL info: incompatible sample types encountered for binary operator \">\": histogram > float (1:1)"
                .to_string()
        ]
    );
}

fn clean_failure(r: Result<argus_promql::QueryResult, PromqlError>) -> Result<(), String> {
    match r {
        Ok(_) | Err(PromqlError::BadData(_)) | Err(PromqlError::Execution(_)) => Ok(()),
        Err(e) => Err(format!("unexpected error kind: {e:?}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    /// Random text and mangled valid queries: no panic, and every failure is
    /// `bad_data` or `execution` (the API's error types).
    #[test]
    fn malformed_queries_fail_cleanly(
        junk in "\\PC{0,40}",
        base in prop::sample::select(vec![
            "sum by (job) (rate(http_requests_total[5m]))",
            "histogram_quantile(0.9, rate(x_bucket[1m]))",
            "topk(3, up) or on(job) absent(nope)",
            "max_over_time(rate(a[1m])[5m:30s] offset 1m)",
            "label_replace(up, \"a\", \"$1\", \"job\", \"(.*)\")",
        ]),
        cut in 0usize..60,
        insert in prop::sample::select(vec!["(", ")", "[", "]", "{", "}", "\"", ",", "@", "offset", "by", "5m", "-", "~", "=~"]),
        t in 0i64..700_000,
    ) {
        let e = Engine::default();
        let s = store();
        prop_assert_eq!(clean_failure(e.instant(&s, &junk, t)), Ok(()));
        let mut b = base.to_string();
        let at = cut.min(b.len());
        if b.is_char_boundary(at) {
            b.insert_str(at, insert);
        }
        prop_assert_eq!(clean_failure(e.instant(&s, &b, t)), Ok(()));
        prop_assert_eq!(clean_failure(e.range(&s, &b, t, t + 120_000, 30_000)), Ok(()));
        prop_assert_eq!(clean_failure(e.instant(&s, &base[..at.min(base.len())], t)), Ok(()));
    }
}

/// A store whose reads fail with a given kind.
struct Failing(argus_promql::StorageErrorKind);

impl argus_promql::Queryable for Failing {
    fn select<'s>(
        &'s self,
        _: &[argus_model::Matcher],
        _: i64,
        _: i64,
    ) -> Result<Box<dyn argus_promql::SeriesSet + 's>, argus_promql::StorageError> {
        Err(argus_promql::StorageError::new(self.0, "chunk unreadable"))
    }
}

#[test]
fn storage_failures_keep_their_kind() {
    use argus_promql::{StorageError, StorageErrorKind as K};
    for kind in [K::Internal, K::Timeout, K::Limit] {
        for q in ["m", "rate(m[5m])", "info(m)", "sum(m) + on() vector(1)"] {
            let err = Engine::default()
                .instant(&Failing(kind), q, 60_000)
                .unwrap_err();
            assert_eq!(
                err,
                PromqlError::Storage(StorageError::new(kind, "chunk unreadable")),
                "{q}"
            );
            assert_eq!(err.to_string(), "chunk unreadable");
        }
    }
    // Queries that read nothing do not touch the store.
    assert!(Engine::default()
        .instant(&Failing(K::Internal), "vector(1)", 0)
        .is_ok());
}
