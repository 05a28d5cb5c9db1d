//! Metrics queries over hand-built traces, each expectation worked out by
//! hand from Tempo's rules (see the crate documentation): spans count in
//! the step holding their start, steps are `(t - step, t]` stamped `t`,
//! quantiles come from powers-of-two buckets.

use std::sync::Arc;

use argus_model::traces::{Attr, AttrValue, Span, SpanOrigin};
use argus_traceql::*;

const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;

fn origin(service: &str) -> Arc<SpanOrigin> {
    Arc::new(SpanOrigin::new(vec![Attr::str("service.name", service)]))
}

/// A span of `service` starting at `start` and lasting `dur` (ns), with
/// attributes.
fn span(service: &str, id: u8, start: i64, dur: i64, attrs: Vec<Attr>) -> Span {
    Span {
        origin: origin(service),
        span_id: [id; 8],
        name: format!("op{id}"),
        start_ns: start,
        end_ns: start.saturating_add(dur),
        attrs,
        ..Span::default()
    }
}

fn plain(service: &str, id: u8, start: i64) -> Span {
    span(service, id, start, MS, Vec::new())
}

fn status(code: i64) -> Vec<Attr> {
    vec![Attr::new("http.status_code", AttrValue::Int(code))]
}

fn run(query: &str, req: MetricsRequest, traces: &[Vec<Span>]) -> Vec<MetricsSeries> {
    let q = parse(query).expect("parses");
    let mut m = MetricsEvaluator::new(&q, req).expect("valid metrics query");
    for t in traces {
        m.observe(t).expect("evaluates");
    }
    m.finish()
}

fn str_label(name: &str, v: &str) -> (String, Value) {
    (name.to_string(), Value::Str(v.to_string()))
}

fn float_label(name: &str, v: f64) -> (String, Value) {
    (name.to_string(), Value::Float(v))
}

/// Three traces over 0-31s: `api` spans at 1s, 2s, 10s, 15s; `db` spans
/// at 0s, 25s, 30s, 31s.
fn services() -> Vec<Vec<Span>> {
    vec![
        vec![plain("api", 1, S), plain("db", 2, 25 * S)],
        vec![
            plain("api", 3, 2 * S),
            plain("api", 4, 10 * S),
            plain("api", 5, 15 * S),
        ],
        vec![
            plain("db", 6, 30 * S),
            plain("db", 7, 31 * S),
            plain("db", 8, 0),
        ],
    ]
}

#[test]
fn rate_by_service_over_three_steps() {
    // Steps (0,10], (10,20], (20,30] stamped 10s, 20s, 30s. api: 1s, 2s and
    // 10s (a boundary ends the step before) in the first, 15s in the
    // second. db: 0s is not after the start, 25s and 30s in the third, 31s
    // after the end. Rates are counts over 10s; steps without spans are 0.
    let got = run(
        "{ } | rate() by (resource.service.name)",
        MetricsRequest::range(0, 30 * S, 10 * S),
        &services(),
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].labels, [str_label("resource.service.name", "api")]);
    assert_eq!(
        got[0].samples,
        [(10_000, 0.3), (20_000, 0.1), (30_000, 0.0)]
    );
    assert_eq!(got[1].labels, [str_label("resource.service.name", "db")]);
    assert_eq!(
        got[1].samples,
        [(10_000, 0.0), (20_000, 0.0), (30_000, 0.2)]
    );
}

#[test]
fn count_over_time_without_by_is_named_after_the_function() {
    let got = run(
        r#"{ resource.service.name = "api" } | count_over_time()"#,
        MetricsRequest::range(0, 30 * S, 10 * S),
        &services(),
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels, [str_label("__name__", "count_over_time")]);
    assert_eq!(
        got[0].samples,
        [(10_000, 3.0), (20_000, 1.0), (30_000, 0.0)]
    );
}

#[test]
fn steps_are_widened_to_whole_steps() {
    // 5s-25s with 10s steps is 0-30s: three steps.
    let got = run(
        "{ } | count_over_time()",
        MetricsRequest::range(5 * S, 25 * S, 10 * S),
        &services(),
    );
    assert_eq!(
        got[0].samples,
        [(10_000, 3.0), (20_000, 1.0), (30_000, 2.0)]
    );
}

#[test]
fn pipeline_selects_the_spans() {
    // Only the children of api spans: db at 25s (trace 1).
    let trace = vec![
        plain("api", 1, S),
        Span {
            parent_span_id: Some([1; 8]),
            ..plain("db", 2, 25 * S)
        },
    ];
    let got = run(
        r#"{ resource.service.name = "api" } > { } | count_over_time() by (resource.service.name)"#,
        MetricsRequest::range(0, 30 * S, 10 * S),
        &[trace],
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels, [str_label("resource.service.name", "db")]);
    assert_eq!(
        got[0].samples,
        [(10_000, 0.0), (20_000, 0.0), (30_000, 1.0)]
    );
}

/// Durations 1ms, 1ms, 3ms, 3ms starting in (0, 10s]; 3ms, 3ms in
/// (10s, 20s]. 1ms = 1,000,000ns rounds up to 2^20ns = 0.001048576s, 3ms
/// to 2^22ns = 0.004194304s.
fn durations() -> Vec<Vec<Span>> {
    vec![
        vec![
            span("api", 1, S, MS, Vec::new()),
            span("api", 2, 2 * S, MS, Vec::new()),
            span("api", 3, 3 * S, 3 * MS, Vec::new()),
        ],
        vec![
            span("api", 4, 4 * S, 3 * MS, Vec::new()),
            span("api", 5, 11 * S, 3 * MS, Vec::new()),
            span("api", 6, 12 * S, 3 * MS, Vec::new()),
        ],
    ]
}

const B20: f64 = 0.001048576;
const B22: f64 = 0.004194304;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn quantiles_from_log2_buckets() {
    let got = run(
        "{ } | quantile_over_time(duration, 0.5, 0.75, 0.9)",
        MetricsRequest::range(0, 20 * S, 10 * S),
        &durations(),
    );
    let labels: Vec<_> = got.iter().map(|s| s.labels.clone()).collect();
    assert_eq!(
        labels,
        [
            vec![float_label("p", 0.5)],
            vec![float_label("p", 0.75)],
            vec![float_label("p", 0.9)]
        ]
    );
    let at = |i: usize, step: usize| got[i].samples[step].1;
    assert_eq!(got[0].samples[0].0, 10_000);
    assert_eq!(got[0].samples[1].0, 20_000);
    // Step 1, buckets {2^20: 2, 2^22: 2}. p50: rank ceil(0.5·4) = 2, the
    // end of the first bucket.
    assert_eq!(at(0, 0), B20);
    // p75: rank 3, half of the second bucket: 2^(20 + 2·0.5) ns = 2^21 ns.
    assert!(close(at(1, 0), 0.002097152), "{}", at(1, 0));
    // p90: rank ceil(3.6) = 4, the end of the second bucket.
    assert_eq!(at(2, 0), B22);
    // Step 2, {2^22: 2}. p50: rank 1, half of the first bucket, which is
    // assumed to start one power lower: 2^21.5 ns.
    assert!(close(at(0, 1), 2f64.powf(21.5) / 1e9), "{}", at(0, 1));
    // p75: rank ceil(1.5) = 2 = p90's rank ceil(1.8): the bucket's bound.
    assert_eq!(at(1, 1), B22);
    assert_eq!(at(2, 1), B22);
}

#[test]
fn quantile_steps_without_spans_are_zero() {
    let got = run(
        "{ } | quantile_over_time(duration, 0.9) by (resource.service.name)",
        MetricsRequest::range(0, 30 * S, 10 * S),
        &durations(),
    );
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].labels,
        [
            str_label("resource.service.name", "api"),
            float_label("p", 0.9)
        ]
    );
    assert_eq!(
        got[0].samples,
        [(10_000, B22), (20_000, B22), (30_000, 0.0)]
    );
}

#[test]
fn histogram_buckets_are_labelled_by_their_bound() {
    // A 1ns span has no bucket (below 2) and is not counted.
    let mut traces = durations();
    traces.push(vec![span("api", 9, 5 * S, 1, Vec::new())]);
    let got = run(
        "{ } | histogram_over_time(duration)",
        MetricsRequest::range(0, 20 * S, 10 * S),
        &traces,
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].labels, [float_label("__bucket", B20)]);
    assert_eq!(got[0].samples, [(10_000, 2.0), (20_000, 0.0)]);
    assert_eq!(got[1].labels, [float_label("__bucket", B22)]);
    assert_eq!(got[1].samples, [(10_000, 2.0), (20_000, 2.0)]);
}

#[test]
fn histogram_of_integers_keeps_their_unit() {
    let trace = vec![
        span("api", 1, S, MS, status(200)),
        span("api", 2, S, MS, status(500)),
        span("api", 3, S, MS, status(404)),
    ];
    let got = run(
        "{ } | histogram_over_time(span.http.status_code) by (resource.service.name)",
        MetricsRequest::range(0, 10 * S, 10 * S),
        &[trace],
    );
    let shown: Vec<_> = got
        .iter()
        .map(|s| (s.labels[1].clone(), s.samples.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (float_label("__bucket", 256.0), vec![(10_000, 1.0)]),
            (float_label("__bucket", 512.0), vec![(10_000, 2.0)]),
        ]
    );
    assert_eq!(got[0].labels[0], str_label("resource.service.name", "api"));
}

#[test]
fn a_missing_by_value_leaves_its_label_out() {
    let trace = vec![
        span("api", 1, S, MS, status(500)),
        span("api", 2, S, MS, status(500)),
        span("api", 3, S, MS, status(200)),
        span("api", 4, S, MS, Vec::new()),
        span("db", 5, S, MS, Vec::new()),
    ];
    let req = MetricsRequest::range(0, 10 * S, 10 * S);
    // All labels missing: Tempo keeps the first one, nil.
    let got = run(
        "{ } | count_over_time() by (span.http.status_code)",
        req,
        std::slice::from_ref(&trace),
    );
    let shown: Vec<_> = got
        .iter()
        .map(|s| (s.labels.clone(), s.samples.clone()))
        .collect();
    let code = |v: Value| vec![("span.http.status_code".to_string(), v)];
    assert_eq!(
        shown,
        [
            (code(Value::Int(200)), vec![(10_000, 1.0)]),
            (code(Value::Int(500)), vec![(10_000, 2.0)]),
            (code(Value::Nil), vec![(10_000, 2.0)]),
        ]
    );
    // Some labels missing: only the others.
    let got = run(
        "{ } | count_over_time() by (span.http.status_code, resource.service.name)",
        req,
        &[trace],
    );
    let shown: Vec<_> = got
        .iter()
        .map(|s| (s.labels.clone(), s.samples.clone()))
        .collect();
    let both = |c: i64| {
        vec![
            ("span.http.status_code".to_string(), Value::Int(c)),
            str_label("resource.service.name", "api"),
        ]
    };
    assert_eq!(
        shown,
        [
            (
                vec![str_label("resource.service.name", "api")],
                vec![(10_000, 1.0)]
            ),
            (
                vec![str_label("resource.service.name", "db")],
                vec![(10_000, 1.0)]
            ),
            (both(200), vec![(10_000, 1.0)]),
            (both(500), vec![(10_000, 2.0)]),
        ]
    );
}

#[test]
fn instant_queries_have_one_step_over_the_range() {
    // [0, 30s], both ends included: api 1s 2s 10s 15s, db 0s 25s 30s; not
    // db 31s. Rate over 30s.
    let got = run(
        "{ } | rate() by (resource.service.name)",
        MetricsRequest::instant(0, 30 * S),
        &services(),
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].samples, [(30_000, 4.0 / 30.0)]);
    assert_eq!(got[1].samples, [(30_000, 3.0 / 30.0)]);
}

#[test]
fn topk_and_bottomk_keep_the_extremes_per_step() {
    // Counts per step (10s, 20s, 30s): api 3 1 0, db 0 0 2, web 1 2 1.
    let mut traces = services();
    traces.push(vec![
        plain("web", 1, 3 * S),
        plain("web", 2, 12 * S),
        plain("web", 3, 13 * S),
        plain("web", 4, 29 * S),
    ]);
    let req = MetricsRequest::range(0, 30 * S, 10 * S);
    let got = run(
        "{ } | count_over_time() by (resource.service.name) | topk(1)",
        req,
        &traces,
    );
    let shown: Vec<_> = got
        .iter()
        .map(|s| (s.labels[0].1.clone(), s.samples.clone()))
        .collect();
    let name = |s: &str| Value::Str(s.to_string());
    assert_eq!(
        shown,
        [
            (name("api"), vec![(10_000, 3.0)]),
            (name("db"), vec![(30_000, 2.0)]),
            (name("web"), vec![(20_000, 2.0)]),
        ]
    );
    // bottomk(1): 0 for db in steps 1 and 2 (10s, 20s), api 0 in step 3.
    let got = run(
        "{ } | count_over_time() by (resource.service.name) | bottomk(1)",
        req,
        &traces,
    );
    let shown: Vec<_> = got
        .iter()
        .map(|s| (s.labels[0].1.clone(), s.samples.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (name("api"), vec![(30_000, 0.0)]),
            (name("db"), vec![(10_000, 0.0), (20_000, 0.0)]),
        ]
    );
}

#[test]
fn min_max_avg_sum_over_time() {
    // First step: 1ms, 1ms, 3ms, 3ms; second: 3ms, 3ms (in seconds).
    let req = MetricsRequest::range(0, 30 * S, 10 * S);
    let one = |q: &str| {
        let got = run(q, req, &durations());
        assert_eq!(got.len(), 1, "{q}");
        got[0].samples.clone()
    };
    // Steps without spans have no sample.
    assert_eq!(
        one("{ } | min_over_time(duration)"),
        [(10_000, 0.001), (20_000, 0.003)]
    );
    assert_eq!(
        one("{ } | max_over_time(duration)"),
        [(10_000, 0.003), (20_000, 0.003)]
    );
    let avg = one("{ } | avg_over_time(duration)");
    assert!(close(avg[0].1, 0.002) && close(avg[1].1, 0.003), "{avg:?}");
    let sum = one("{ } | sum_over_time(duration)");
    assert!(close(sum[0].1, 0.008) && close(sum[1].1, 0.006), "{sum:?}");
}

#[test]
fn spans_without_the_measured_value_are_skipped() {
    let trace = vec![
        span("api", 1, S, MS, status(500)),
        span("api", 2, S, MS, status(200)),
        span("api", 3, S, MS, Vec::new()),
        span("db", 4, S, MS, Vec::new()),
    ];
    let got = run(
        "{ } | sum_over_time(span.http.status_code) by (resource.service.name)",
        MetricsRequest::range(0, 10 * S, 10 * S),
        &[trace],
    );
    // db has no value in any step: no series.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels, [str_label("resource.service.name", "api")]);
    assert_eq!(got[0].samples, [(10_000, 700.0)]);
}

#[test]
fn too_many_series_is_an_error() {
    let q = parse("{ } | rate() by (span:name)").expect("parses");
    let req = MetricsRequest::range(0, 30 * S, 10 * S).with_max_series(2);
    let mut m = MetricsEvaluator::new(&q, req).expect("valid");
    m.observe(&services()[0]).expect("two names");
    let err = m.observe(&services()[1]).expect_err("three more names");
    assert_eq!(err, EvalError::TooManySeries { limit: 2 });
    // Quantiles make a series each.
    let q = parse("{ } | quantile_over_time(duration, 0.5, 0.9, 0.99)").expect("parses");
    let req = MetricsRequest::range(0, 30 * S, 10 * S).with_max_series(2);
    let mut m = MetricsEvaluator::new(&q, req).expect("valid");
    assert!(matches!(
        m.observe(&durations()[0]),
        Err(EvalError::TooManySeries { .. })
    ));
}

#[test]
fn bad_queries_and_requests_are_refused() {
    let req = MetricsRequest::range(0, 30 * S, 10 * S);
    let new = |q: &str, req: MetricsRequest| {
        MetricsEvaluator::new(&parse(q).expect("parses"), req).map(|_| ())
    };
    assert!(matches!(new("{ }", req), Err(EvalError::Invalid(_))));
    assert!(matches!(
        new("{ } | compare({ status = error })", req),
        Err(EvalError::Unsupported(_))
    ));
    assert!(matches!(
        new("{ } | quantile_over_time(duration, 1.5)", req),
        Err(EvalError::Invalid(_))
    ));
    assert!(matches!(
        new("{ } | rate() | topk(0)", req),
        Err(EvalError::Invalid(_))
    ));
    assert!(matches!(
        new("{ } | rate() by (.a, .b, .c, .d, .e, .f)", req),
        Err(EvalError::Unsupported(_))
    ));
    assert!(new("{ } | rate() by (.a, .b, .c, .d, .e)", req).is_ok());
    assert!(matches!(
        new(
            "{ } | histogram_over_time(duration) by (.a, .b, .c, .d, .e)",
            req
        ),
        Err(EvalError::Unsupported(_))
    ));
    assert!(matches!(
        new("{ } | rate()", MetricsRequest::range(0, 30 * S, 0)),
        Err(EvalError::Invalid(_))
    ));
    assert!(matches!(
        new("{ } | rate()", MetricsRequest::range(0, 30 * S, MS)),
        Err(EvalError::TooManySteps { .. })
    ));
    assert!(matches!(
        new("{ } | rate()", MetricsRequest::instant(30 * S, 30 * S)),
        Err(EvalError::Invalid(_))
    ));
    assert!(matches!(
        new("{ } | min_over_time(event.x)", req),
        Err(EvalError::Unsupported(_))
    ));
    // The pipeline is checked as eval_pipeline checks it.
    assert!(matches!(
        new("{ name = 1 } | rate()", req),
        Err(EvalError::Invalid(_))
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn times() -> impl Strategy<Value = i64> {
        prop_oneof![
            -100 * S..100 * S,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0),
            -(1i64 << 62)..(1i64 << 62),
        ]
    }

    proptest! {
        /// Whatever the request and spans, no panic; a count over a range
        /// counts each span starting in the widened range once.
        #[test]
        fn counts_add_up(
            start in times(),
            len in prop_oneof![1i64..1000 * S, Just(i64::MAX)],
            step in prop_oneof![1i64..100 * S, Just(i64::MAX), Just(0), Just(-1)],
            instant in any::<bool>(),
            starts in proptest::collection::vec(times(), 0..20),
        ) {
            let end = start.saturating_add(len);
            let req = if instant {
                MetricsRequest::instant(start, end)
            } else {
                MetricsRequest::range(start, end, step)
            };
            let q = parse("{ } | count_over_time()").expect("parses");
            let Ok(mut m) = MetricsEvaluator::new(&q, req) else { return Ok(()) };
            let spans: Vec<Span> = starts
                .iter()
                .enumerate()
                .map(|(i, &t)| span("api", i as u8, t, 10, Vec::new()))
                .collect();
            m.observe(&spans).expect("evaluates");
            let got = m.finish();
            let total: f64 = got.iter().flat_map(|s| &s.samples).map(|s| s.1).sum();
            let inside = |t: i64| {
                if instant {
                    start <= t && t <= end
                } else {
                    let (s, e) = (i128::from(start), i128::from(end));
                    let st = i128::from(step);
                    let lo = s - s.rem_euclid(st);
                    let hi = if e.rem_euclid(st) == 0 { e } else { e + st - e.rem_euclid(st) };
                    lo < i128::from(t) && i128::from(t) <= hi
                }
            };
            let expected = starts.iter().filter(|&&t| inside(t)).count();
            prop_assert_eq!(total, expected as f64);
        }
    }
}
