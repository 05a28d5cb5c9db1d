//! Metric queries: range and vector aggregations, binary operations.

use crate::common::*;

#[test]
fn range_windows_are_left_open_right_closed() {
    let nginx = r#"{env="prod", job="nginx"}"#.to_string();
    assert_eq!(
        matrix(r#"count_over_time({job="nginx"}[30s])"#, 30, 60, 10),
        vec![(
            nginx.clone(),
            vec![(30, 3.0), (40, 3.0), (50, 3.0), (60, 2.0)]
        )]
    );
    assert_eq!(
        matrix(r#"rate({job="nginx"}[30s])"#, 30, 60, 10),
        vec![(
            nginx.clone(),
            vec![(30, 0.1), (40, 0.1), (50, 0.1), (60, 2.0 / 30.0)]
        )]
    );
    // step > range: entries between windows count nowhere.
    assert_eq!(
        matrix(r#"count_over_time({job="nginx"}[10s])"#, 10, 50, 20),
        vec![(nginx.clone(), vec![(10, 1.0), (30, 1.0), (50, 1.0)])]
    );
    // offset: the window (20s, 50s] for the step at 60s.
    check_vector(
        r#"count_over_time({job="nginx"}[30s] offset 10s)"#,
        60,
        &[(&nginx, 3.0)],
    );
    // the log-volume query of Grafana.
    assert_eq!(
        matrix(
            r#"sum by (level, detected_level) (count_over_time({job="nginx"} | drop __error__ [1m]))"#,
            30,
            60,
            30
        ),
        vec![("{}".to_string(), vec![(30, 3.0), (60, 5.0)])]
    );
}

#[test]
fn log_range_aggregations() {
    check_vector(
        r#"bytes_over_time({job="color"}[1m])"#,
        60,
        &[(r#"{env="dev", job="color"}"#, 52.0)],
    );
    check_vector(
        r#"bytes_over_time({job="color"} | decolorize [1m])"#,
        60,
        &[(r#"{env="dev", job="color"}"#, 34.0)],
    );
    check_vector(
        r#"bytes_rate({job="color"} | decolorize [1m])"#,
        60,
        &[(r#"{env="dev", job="color"}"#, 34.0 / 60.0)],
    );
    check_vector(
        r#"sum by (level) (count_over_time({job="app"} | json | __error__="" [1m]))"#,
        60,
        &[
            (r#"{level="error"}"#, 1.0),
            (r#"{level="info"}"#, 1.0),
            (r#"{level="warn"}"#, 1.0),
        ],
    );
    check_vector(
        r#"absent_over_time({job="nope", env=~"x.*"}[1m])"#,
        60,
        &[(r#"{job="nope"}"#, 1.0)],
    );
    check_vector(r#"absent_over_time({job="nginx"}[1m])"#, 60, &[]);
}

#[test]
fn pipeline_errors_fail_metric_queries() {
    let e = instant(
        r#"sum by (level) (count_over_time({job="app"} | json [1m]))"#,
        60,
    )
    .unwrap_err();
    assert!(matches!(e, EvalError::Pipeline(_)));
    assert!(e.to_string().starts_with(
        r#"pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", env="prod", job="app"}'."#
    ), "{e}");
    let e = instant(
        r#"sum_over_time({job="app"} | json | unwrap req_size [1m])"#,
        60,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("pipeline error: 'SampleExtractionErr'"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains(r#"__error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax""#),
        "{e}"
    );
    check_vector(
        r#"sum(sum_over_time({job="app"} | json | unwrap req_size | __error__="" [1m]))"#,
        60,
        &[("{}", 2148.0)],
    );
}

#[test]
fn unwrapped_range_aggregations() {
    check_vector(
        r#"sum_over_time({job="worker"} | logfmt | unwrap bytes(bytes) [1m])"#,
        60,
        &[
            (
                r#"{env="dev", job="worker", level="debug", msg="tick", took="5ms"}"#,
                512.0,
            ),
            (
                r#"{env="dev", job="worker", level="error", msg="job failed", took="3s"}"#,
                20_000_000.0,
            ),
            (
                r#"{env="dev", job="worker", level="info", msg="job done", took="120ms"}"#,
                1024.0,
            ),
        ],
    );
    let w = r#"{job="worker"}"#;
    let took = |f: &str| {
        format!(r#"{f}({{job="worker"}} | logfmt | unwrap duration(took) [1m]) by (job)"#)
    };
    check_vector(&took("avg_over_time"), 60, &[(w, 1.0416666666666667)]);
    check_vector(&took("min_over_time"), 60, &[(w, 0.005)]);
    check_vector(&took("max_over_time"), 60, &[(w, 3.0)]);
    check_vector(&took("first_over_time"), 60, &[(w, 0.12)]);
    check_vector(&took("last_over_time"), 60, &[(w, 0.005)]);
    check_vector(
        r#"sum(sum_over_time({job="worker"} | logfmt | unwrap duration(took) [1m]))"#,
        60,
        &[("{}", 3.125)],
    );
    check_vector(&took("stdvar_over_time"), 60, &[(w, 1.919738888888889)]);
    check_vector(&took("stddev_over_time"), 60, &[(w, 1.3855464224950707)]);
    check_vector(
        r#"sum by (job) (rate({job="worker"} | logfmt | unwrap duration(took) [1m]))"#,
        60,
        &[(w, 3.125 / 60.0)],
    );
    check_vector(
        r#"quantile_over_time(0.5, {job="worker"} | logfmt | unwrap duration_seconds(took) [1m]) by (job)"#,
        60,
        &[(w, 0.12)],
    );
    check_vector(
        r#"rate_counter({job="app"} | json | __error__="" | keep job, req_size | unwrap req_size | __error__="" [1m])"#,
        60,
        &[(r#"{job="app"}"#, 50.36666666666667)],
    );
}

#[test]
fn vector_aggregations_and_topk_ties() {
    let q = r#"count_over_time({env=~".+"}[1m])"#;
    // counts: nginx 5, app 4, worker 4, color 2, packed 1
    check_vector(&format!("sum({q})"), 60, &[("{}", 16.0)]);
    check_vector(&format!("avg({q})"), 60, &[("{}", 3.2)]);
    check_vector(&format!("min({q})"), 60, &[("{}", 1.0)]);
    check_vector(&format!("max({q})"), 60, &[("{}", 5.0)]);
    check_vector(&format!("count({q})"), 60, &[("{}", 5.0)]);
    check_vector(&format!("stdvar({q})"), 60, &[("{}", 2.16)]);
    check_vector(&format!("stddev({q})"), 60, &[("{}", 1.469693845669907)]);
    check_vector(
        &format!("sum without (job) ({q})"),
        60,
        &[
            (r#"{env="dev"}"#, 6.0),
            (r#"{env="dev", pod="p1"}"#, 1.0),
            (r#"{env="prod"}"#, 9.0),
        ],
    );
    // Ties: the series first in label order wins (dev/worker before prod/app).
    check_vector(
        &format!("topk(2, {q})"),
        60,
        &[
            (r#"{env="dev", job="worker"}"#, 4.0),
            (r#"{env="prod", job="nginx"}"#, 5.0),
        ],
    );
    check_vector(
        &format!("bottomk(1, {q})"),
        60,
        &[(r#"{env="dev", job="packed", pod="p1"}"#, 1.0)],
    );
    check_vector(
        &format!("topk by (env) (1, {q})"),
        60,
        &[
            (r#"{env="dev", job="worker"}"#, 4.0),
            (r#"{env="prod", job="nginx"}"#, 5.0),
        ],
    );
    check_vector(
        &format!("sort_desc({q})"),
        60,
        &[
            (r#"{env="prod", job="nginx"}"#, 5.0),
            (r#"{env="dev", job="worker"}"#, 4.0),
            (r#"{env="prod", job="app"}"#, 4.0),
            (r#"{env="dev", job="color"}"#, 2.0),
            (r#"{env="dev", job="packed", pod="p1"}"#, 1.0),
        ],
    );
    check_vector(
        &format!("sort({q})"),
        60,
        &[
            (r#"{env="dev", job="packed", pod="p1"}"#, 1.0),
            (r#"{env="dev", job="color"}"#, 2.0),
            (r#"{env="dev", job="worker"}"#, 4.0),
            (r#"{env="prod", job="app"}"#, 4.0),
            (r#"{env="prod", job="nginx"}"#, 5.0),
        ],
    );
}

#[test]
fn binary_operations_and_matching() {
    check_vector("vector(1)+vector(1)", 60, &[("{}", 2.0)]);
    assert_eq!(
        matrix("vector(1)+vector(1)", 0, 20, 10),
        vec![("{}".to_string(), vec![(0, 2.0), (10, 2.0), (20, 2.0)])]
    );
    match instant("2 * 3", 60).unwrap() {
        QueryResult::Scalar { t_ms, value } => {
            assert_eq!((t_ms, value), ((T0 + 60 * S) / 1_000_000, 6.0));
        }
        other => panic!("{other:?}"),
    }
    let nginx = r#"{env="prod", job="nginx"}"#;
    let app = r#"{env="prod", job="app"}"#;
    check_vector(
        r#"count_over_time({job="nginx"}[1m]) / 2"#,
        60,
        &[(nginx, 2.5)],
    );
    check_vector(
        r#"10 - count_over_time({job="nginx"}[1m])"#,
        60,
        &[(nginx, 5.0)],
    );
    check_vector(
        r#"count_over_time({env="prod"}[1m]) > 4"#,
        60,
        &[(nginx, 5.0)],
    );
    check_vector(
        r#"count_over_time({env="prod"}[1m]) > bool 4"#,
        60,
        &[(app, 0.0), (nginx, 1.0)],
    );
    check_vector(
        r#"count_over_time({env="prod"}[1m]) == count_over_time({env="prod"}[1m])"#,
        60,
        &[(app, 4.0), (nginx, 5.0)],
    );
    let q = r#"count_over_time({env=~".+"}[1m])"#;
    check_vector(
        &format!("{q} / on(env) group_left sum by (env) ({q})"),
        60,
        &[
            (r#"{env="dev", job="color"}"#, 2.0 / 7.0),
            (r#"{env="dev", job="packed", pod="p1"}"#, 1.0 / 7.0),
            (r#"{env="dev", job="worker"}"#, 4.0 / 7.0),
            (app, 4.0 / 9.0),
            (nginx, 5.0 / 9.0),
        ],
    );
    check_vector(
        &format!("sum by (env) ({q}) / on(env) group_right {q}"),
        60,
        &[
            (r#"{env="dev", job="color"}"#, 7.0 / 2.0),
            (r#"{env="dev", job="packed", pod="p1"}"#, 7.0),
            (r#"{env="dev", job="worker"}"#, 7.0 / 4.0),
            (app, 9.0 / 4.0),
            (nginx, 9.0 / 5.0),
        ],
    );
    let e = instant(&format!("{q} / on(env) sum by (env) ({q})"), 60).unwrap_err();
    assert!(
        e.to_string()
            .contains("many-to-one matching must be explicit"),
        "{e}"
    );
    check_vector(
        &format!("sum by (env) ({q}) + ignoring(job) sum by (env) ({q})"),
        60,
        &[(r#"{env="dev"}"#, 14.0), (r#"{env="prod"}"#, 18.0)],
    );
    let sel = r#"count_over_time({job=~"nginx|app"}[1m])"#;
    check_vector(
        &format!("{q} and on(job) {sel}"),
        60,
        &[(app, 4.0), (nginx, 5.0)],
    );
    check_vector(
        &format!("{q} unless on(job) {sel}"),
        60,
        &[
            (r#"{env="dev", job="color"}"#, 2.0),
            (r#"{env="dev", job="packed", pod="p1"}"#, 1.0),
            (r#"{env="dev", job="worker"}"#, 4.0),
        ],
    );
    check_vector(
        r#"count_over_time({job="nginx"}[1m]) or count_over_time({job="app"}[1m])"#,
        60,
        &[(app, 4.0), (nginx, 5.0)],
    );
    check_vector(
        r#"label_replace(count_over_time({job="nginx"}[1m]), "svc", "web-$1", "job", "(.*)")"#,
        60,
        &[(r#"{env="prod", job="nginx", svc="web-nginx"}"#, 5.0)],
    );
    check_vector(
        r#"label_replace(count_over_time({job="nginx"}[1m]), "svc", "$1", "job", "x(.*)")"#,
        60,
        &[(nginx, 5.0)],
    );
}

#[test]
fn series_limit() {
    let engine = Engine::new(EngineOptions {
        max_series: 2,
        ..EngineOptions::default()
    });
    let e = engine
        .execute(
            &corpus(),
            &tenant(),
            &QueryParams::instant(r#"count_over_time({env=~".+"}[1m])"#, T0 + 60 * S),
        )
        .unwrap_err();
    assert!(matches!(e, EvalError::Limit(_)));
    assert!(
        e.to_string()
            .starts_with("maximum number of series (2) reached for a single query"),
        "{e}"
    );
}

// ------------------------------------------------------------ JSON
