//! The engine over a fixed corpus in `MemLogs`, with expected results
//! written out by hand (from Loki's documented and observed behaviour).

use argus_logql::engine::{
    Direction, Engine, EngineOptions, EvalError, QueryParams, QueryResult, Stats,
};
use argus_logql::json::encode_response;
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_store::{LogsWriter, MemLogs, StreamLimits};

const T0: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

fn entry(sec: i64, line: &str, md: &[(&str, &str)]) -> LogEntry {
    LogEntry {
        ts_ns: T0 + sec * S,
        line: line.to_string(),
        metadata: md
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn corpus() -> MemLogs {
    let logs = MemLogs::new();
    let stream = |l: &[(&str, &str)], e: Vec<LogEntry>| LogStream {
        labels: Labels::from_pairs(l.iter().copied()),
        entries: e,
    };
    let push = vec![
        stream(
            &[("job", "nginx"), ("env", "prod")],
            vec![
                entry(10, r#"10.0.0.1 "GET /api/users" 200 512 120ms"#, &[]),
                entry(20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#, &[]),
                entry(30, r#"10.0.0.1 "GET /api/users" 200 1024 250ms"#, &[]),
                entry(40, r#"10.0.0.3 "GET /health" 200 2 1ms"#, &[]),
                entry(50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#, &[]),
            ],
        ),
        stream(
            &[("job", "app"), ("env", "prod")],
            vec![
                entry(
                    15,
                    r#"{"level":"info","msg":"started","trace_id":"abc","duration":"15ms","req":{"method":"GET","size":100}}"#,
                    &[],
                ),
                entry(
                    25,
                    r#"{"level":"error","msg":"failed <db>","trace_id":"def","duration":"1.5s","req":{"method":"POST","size":2048}}"#,
                    &[],
                ),
                entry(35, "not json at all", &[]),
                entry(
                    45,
                    r#"{"level":"warn","msg":"slow","trace_id":"ghi","duration":"250ms","req":{"method":"GET","size":"abc"},"tags":["a","b"],"job":"dup"}"#,
                    &[],
                ),
            ],
        ),
        stream(
            &[("job", "worker"), ("env", "dev")],
            vec![
                entry(
                    12,
                    r#"level=info msg="job done" took=120ms bytes=1KiB"#,
                    &[],
                ),
                entry(
                    22,
                    r#"level=error msg="job failed" took=3s bytes=20MB err"#,
                    &[],
                ),
                entry(32, "level=debug msg=tick took=5ms bytes=512B", &[]),
                entry(42, r#"level=warn msg="unterminated"#, &[]),
            ],
        ),
        stream(
            &[("job", "color"), ("env", "dev")],
            vec![
                entry(18, "\x1b[31mERROR\x1b[0m something broke", &[]),
                entry(28, "\x1b[32mINFO\x1b[0m all good", &[]),
            ],
        ),
        stream(
            &[("job", "packed"), ("env", "dev")],
            vec![entry(
                16,
                r#"{"container":"c1","_entry":"inner line"}"#,
                &[("pod", "p1")],
            )],
        ),
    ];
    logs.push(
        &tenant(),
        push,
        StreamLimits {
            max_streams: 0,
            out_of_order_window_ns: i64::MAX,
        },
    )
    .unwrap();
    logs
}

fn tenant() -> TenantId {
    TenantId::new("t1").unwrap()
}

fn lbl(p: &[(String, String)]) -> String {
    let inner: Vec<String> = p.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn run(p: &QueryParams) -> Result<(QueryResult, Stats), EvalError> {
    Engine::default().execute(&corpus(), &tenant(), p)
}

fn logq(
    q: &str,
    start: i64,
    end: i64,
    limit: usize,
    dir: Direction,
) -> Vec<(String, Vec<(i64, String)>)> {
    let mut p = QueryParams::range(q, T0 + start * S, T0 + end * S, S);
    p.limit = limit;
    p.direction = dir;
    let (r, _) = run(&p).unwrap_or_else(|e| panic!("{q}: {e}"));
    let QueryResult::Streams(s) = r else {
        panic!("{q}: not streams")
    };
    s.into_iter()
        .map(|s| {
            (
                lbl(&s.labels),
                s.entries
                    .into_iter()
                    .map(|e| ((e.ts_ns - T0) / S, e.line))
                    .collect(),
            )
        })
        .collect()
}

fn logs(q: &str) -> Vec<(String, Vec<(i64, String)>)> {
    logq(q, 0, 60, 100, Direction::Backward)
}

fn check_logs(q: &str, want: &[(&str, &[(i64, &str)])]) {
    let got = logs(q);
    let want: Vec<(String, Vec<(i64, String)>)> = want
        .iter()
        .map(|(l, e)| {
            (
                l.to_string(),
                e.iter().map(|(t, s)| (*t, s.to_string())).collect(),
            )
        })
        .collect();
    assert_eq!(got, want, "query: {q}");
}

fn instant(q: &str, at: i64) -> Result<QueryResult, EvalError> {
    run(&QueryParams::instant(q, T0 + at * S)).map(|r| r.0)
}

fn vector(q: &str, at: i64) -> Vec<(String, f64)> {
    match instant(q, at).unwrap_or_else(|e| panic!("{q}: {e}")) {
        QueryResult::Vector(v) => v
            .into_iter()
            .map(|s| {
                assert_eq!(s.t_ms, (T0 + at * S) / 1_000_000);
                (lbl(&s.labels), s.value)
            })
            .collect(),
        other => panic!("{q}: not a vector: {other:?}"),
    }
}

fn check_vector(q: &str, at: i64, want: &[(&str, f64)]) {
    let got = vector(q, at);
    assert_eq!(got.len(), want.len(), "{q}: {got:?}");
    for ((gl, gv), (wl, wv)) in got.iter().zip(want) {
        assert_eq!(gl, wl, "{q}: {got:?}");
        assert!(
            (gv - wv).abs() < 1e-9 || (gv.is_nan() && wv.is_nan()),
            "{q}: {gl} = {gv}, want {wv}"
        );
    }
}

fn matrix(q: &str, start: i64, end: i64, step: i64) -> Vec<(String, Vec<(i64, f64)>)> {
    let p = QueryParams::range(q, T0 + start * S, T0 + end * S, step * S);
    match run(&p).unwrap_or_else(|e| panic!("{q}: {e}")).0 {
        QueryResult::Matrix(m) => m
            .into_iter()
            .map(|s| {
                (
                    lbl(&s.labels),
                    s.points
                        .into_iter()
                        .map(|(t, v)| ((t * 1_000_000 - T0) / S, v))
                        .collect(),
                )
            })
            .collect(),
        other => panic!("{q}: not a matrix: {other:?}"),
    }
}

// ------------------------------------------------------------ log queries

#[test]
fn line_filters() {
    let nginx = r#"{env="prod", job="nginx"}"#;
    check_logs(
        r#"{job="nginx"} |= "GET""#,
        &[(
            nginx,
            &[
                (50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#),
                (40, r#"10.0.0.3 "GET /health" 200 2 1ms"#),
                (30, r#"10.0.0.1 "GET /api/users" 200 1024 250ms"#),
                (10, r#"10.0.0.1 "GET /api/users" 200 512 120ms"#),
            ],
        )],
    );
    check_logs(
        r#"{job="nginx"} |= "api" != "users""#,
        &[(
            nginx,
            &[
                (50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#),
                (20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#),
            ],
        )],
    );
    check_logs(
        r#"{job="nginx"} |~ "\" [45]\\d\\d ""#,
        &[(
            nginx,
            &[
                (50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#),
                (20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#),
            ],
        )],
    );
    check_logs(
        r#"{job="nginx"} |= "login" or "health""#,
        &[(
            nginx,
            &[
                (40, r#"10.0.0.3 "GET /health" 200 2 1ms"#),
                (20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#),
            ],
        )],
    );
    check_logs(r#"{job="nginx"} !~ "GET|POST""#, &[]);
    check_logs(
        r#"{job="nginx"} |> "<_> \"GET <_>\" 200 <_>""#,
        &[(
            nginx,
            &[
                (40, r#"10.0.0.3 "GET /health" 200 2 1ms"#),
                (30, r#"10.0.0.1 "GET /api/users" 200 1024 250ms"#),
                (10, r#"10.0.0.1 "GET /api/users" 200 512 120ms"#),
            ],
        )],
    );
    check_logs(
        r#"{job="nginx"} !> "<_> \"GET <_>\" 200 <_>""#,
        &[(
            nginx,
            &[
                (50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#),
                (20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#),
            ],
        )],
    );
}

#[test]
fn range_boundaries_limit_and_direction() {
    // [start, end): 40 is excluded, 20 included.
    let got = logq(r#"{job="nginx"}"#, 20, 40, 100, Direction::Backward);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].1.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![30, 20]
    );
    let got = logq(r#"{env=~".+"}"#, 0, 60, 3, Direction::Backward);
    let ts: Vec<(String, Vec<i64>)> = got
        .into_iter()
        .map(|(l, e)| (l, e.iter().map(|x| x.0).collect()))
        .collect();
    assert_eq!(
        ts,
        vec![
            (r#"{env="dev", job="worker"}"#.to_string(), vec![42]),
            (r#"{env="prod", job="app"}"#.to_string(), vec![45]),
            (r#"{env="prod", job="nginx"}"#.to_string(), vec![50]),
        ]
    );
    let got = logq(r#"{env=~".+"}"#, 0, 60, 3, Direction::Forward);
    let ts: Vec<(String, Vec<i64>)> = got
        .into_iter()
        .map(|(l, e)| (l, e.iter().map(|x| x.0).collect()))
        .collect();
    assert_eq!(
        ts,
        vec![
            (r#"{env="dev", job="worker"}"#.to_string(), vec![12]),
            (r#"{env="prod", job="app"}"#.to_string(), vec![15]),
            (r#"{env="prod", job="nginx"}"#.to_string(), vec![10]),
        ]
    );
    let got = logq(r#"{job="nginx"}"#, 0, 60, 2, Direction::Forward);
    assert_eq!(
        got[0].1.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![10, 20]
    );
}

#[test]
fn parsers_and_label_filters() {
    check_logs(
        r#"{job="nginx"} | pattern "<ip> \"<method> <path>\" <status> <size> <latency>" | status >= 400 | keep status, method"#,
        &[
            (
                r#"{method="GET", status="500"}"#,
                &[(50, r#"10.0.0.2 "GET /api/orders" 500 64 1.5s"#)],
            ),
            (
                r#"{method="POST", status="401"}"#,
                &[(20, r#"10.0.0.2 "POST /api/login" 401 128 30ms"#)],
            ),
        ],
    );
    check_logs(
        r#"{job="nginx"} | pattern "<_> \"<_>\" <status> <_> <latency>" | latency > 200ms | line_format "{{.status}} {{.latency}}""#,
        &[
            (
                r#"{env="prod", job="nginx", latency="1.5s", status="500"}"#,
                &[(50, "500 1.5s")],
            ),
            (
                r#"{env="prod", job="nginx", latency="250ms", status="200"}"#,
                &[(30, "200 250ms")],
            ),
        ],
    );
    check_logs(
        r#"{job="worker"} | logfmt | bytes > 1KB | keep level"#,
        &[
            (
                r#"{level="error"}"#,
                &[(22, r#"level=error msg="job failed" took=3s bytes=20MB err"#)],
            ),
            (
                r#"{level="info"}"#,
                &[(12, r#"level=info msg="job done" took=120ms bytes=1KiB"#)],
            ),
        ],
    );
    check_logs(
        r#"{job="app"} | json | level="error""#,
        &[(
            r#"{duration="1.5s", env="prod", job="app", level="error", msg="failed <db>", req_method="POST", req_size="2048", trace_id="def"}"#,
            &[(
                25,
                r#"{"level":"error","msg":"failed <db>","trace_id":"def","duration":"1.5s","req":{"method":"POST","size":2048}}"#,
            )],
        )],
    );
    // A field named like a stream label gets `_extracted`; arrays are skipped.
    check_logs(
        r#"{job="app"} | json | level="warn" | keep job_extracted, tags, req_size"#,
        &[(
            r#"{job_extracted="dup", req_size="abc"}"#,
            &[(
                45,
                r#"{"level":"warn","msg":"slow","trace_id":"ghi","duration":"250ms","req":{"method":"GET","size":"abc"},"tags":["a","b"],"job":"dup"}"#,
            )],
        )],
    );
    check_logs(
        r#"{job="app"} | json lvl="level", m="req.method", first_tag="tags[0]" | lvl="warn" | keep lvl, m, first_tag | line_format "{{.m}}""#,
        &[(r#"{first_tag="a", lvl="warn", m="GET"}"#, &[(45, "GET")])],
    );
    check_logs(
        r#"{job="worker"} | logfmt | level="error" | line_format "{{.msg | ToUpper}} took {{.took}}""#,
        &[(
            r#"{bytes="20MB", env="dev", job="worker", level="error", msg="job failed", took="3s"}"#,
            &[(22, "JOB FAILED took 3s")],
        )],
    );
    check_logs(
        r#"{job="worker"} | logfmt msg, t="took" | t="5ms" | keep msg, t"#,
        &[(
            r#"{msg="tick", t="5ms"}"#,
            &[(32, "level=debug msg=tick took=5ms bytes=512B")],
        )],
    );
    check_logs(
        r#"{job="nginx"} | regexp "(?P<ip>\\S+) \"(?P<method>\\w+)" | keep ip | ip="10.0.0.1""#,
        &[(
            r#"{ip="10.0.0.1"}"#,
            &[
                (30, r#"10.0.0.1 "GET /api/users" 200 1024 250ms"#),
                (10, r#"10.0.0.1 "GET /api/users" 200 512 120ms"#),
            ],
        )],
    );
    check_logs(
        r#"{job="color"} | decolorize"#,
        &[(
            r#"{env="dev", job="color"}"#,
            &[(28, "INFO all good"), (18, "ERROR something broke")],
        )],
    );
    check_logs(
        r#"{job="packed"} | unpack"#,
        &[(
            r#"{container="c1", env="dev", job="packed", pod="p1"}"#,
            &[(16, "inner line")],
        )],
    );
    check_logs(
        r#"{job="worker"} | logfmt | label_format lvl=level, dur="{{.took}}!" | keep lvl, dur | lvl="info""#,
        &[(
            r#"{dur="120ms!", lvl="info"}"#,
            &[(12, r#"level=info msg="job done" took=120ms bytes=1KiB"#)],
        )],
    );
    check_logs(
        r#"{job="worker"} | logfmt | drop msg, took, bytes, level="debug" | line_format "x""#,
        &[
            (r#"{env="dev", job="worker", level="error"}"#, &[(22, "x")]),
            (r#"{env="dev", job="worker", level="info"}"#, &[(12, "x")]),
            (r#"{env="dev", job="worker", level="warn"}"#, &[(42, "x")]),
            (r#"{env="dev", job="worker"}"#, &[(32, "x")]),
        ],
    );
    check_logs(
        r#"{job="worker"} | logfmt | level="info" or took > 1s | keep level"#,
        &[
            (
                r#"{level="error"}"#,
                &[(22, r#"level=error msg="job failed" took=3s bytes=20MB err"#)],
            ),
            (
                r#"{level="info"}"#,
                &[(12, r#"level=info msg="job done" took=120ms bytes=1KiB"#)],
            ),
        ],
    );
    check_logs(
        r#"{job="worker"} | logfmt | level=~"info|debug", took < 100ms | keep level"#,
        &[(
            r#"{level="debug"}"#,
            &[(32, "level=debug msg=tick took=5ms bytes=512B")],
        )],
    );
}

#[test]
fn error_labels() {
    check_logs(
        r#"{job="app"} | json | __error__!="""#,
        &[(
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", env="prod", job="app"}"#,
            &[(35, "not json at all")],
        )],
    );
    check_logs(
        r#"{job="app"} | json | req_size > 1000 | keep req_size"#,
        &[
            (
                r#"{__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", req_size="abc"}"#,
                &[(
                    45,
                    r#"{"level":"warn","msg":"slow","trace_id":"ghi","duration":"250ms","req":{"method":"GET","size":"abc"},"tags":["a","b"],"job":"dup"}"#,
                )],
            ),
            (
                r#"{req_size="2048"}"#,
                &[(
                    25,
                    r#"{"level":"error","msg":"failed <db>","trace_id":"def","duration":"1.5s","req":{"method":"POST","size":2048}}"#,
                )],
            ),
        ],
    );
    check_logs(
        r#"{job="worker"} | logfmt --strict | __error__="LogfmtParserErr""#,
        &[(
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 29 : unterminated quoted value", env="dev", job="worker", level="warn"}"#,
            &[(42, r#"level=warn msg="unterminated"#)],
        )],
    );
    check_logs(
        r#"{job="app"} | json | drop __error__, __error_details__ | line_format "{{.level}}""#,
        &[
            (
                r#"{duration="1.5s", env="prod", job="app", level="error", msg="failed <db>", req_method="POST", req_size="2048", trace_id="def"}"#,
                &[(25, "error")],
            ),
            (
                r#"{duration="15ms", env="prod", job="app", level="info", msg="started", req_method="GET", req_size="100", trace_id="abc"}"#,
                &[(15, "info")],
            ),
            (
                r#"{duration="250ms", env="prod", job="app", job_extracted="dup", level="warn", msg="slow", req_method="GET", req_size="abc", trace_id="ghi"}"#,
                &[(45, "warn")],
            ),
            (r#"{env="prod", job="app"}"#, &[(35, "")]),
        ],
    );
}

#[test]
fn log_query_errors() {
    let e = instant(r#"{job="nginx"}"#, 60).unwrap_err();
    assert!(e.to_string().contains("instant query type"), "{e}");
    let mut p = QueryParams::range(r#"{job="nginx"}"#, T0, T0 + 60 * S, S);
    p.limit = 5001;
    let e = run(&p).unwrap_err();
    assert!(matches!(e, EvalError::Limit(_)));
    assert_eq!(
        e.to_string(),
        "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)"
    );
    let e = run(&QueryParams::range(
        r#"{job="nginx"} | regexp "(x)""#,
        T0,
        T0 + S,
        S,
    ))
    .unwrap_err();
    assert!(
        matches!(e, EvalError::BadQuery(_) | EvalError::Parse(_)),
        "{e}"
    );
    let e = run(&QueryParams::range(
        r#"{job="nginx"} | line_format "{{ .a ""#,
        T0,
        T0 + S,
        S,
    ))
    .unwrap_err();
    assert!(matches!(e, EvalError::BadQuery(_)), "{e}");
    assert!(e.is_client_error());
    let e = run(&QueryParams::range(r#"{job="nginx""#, T0, T0 + S, S)).unwrap_err();
    assert!(matches!(e, EvalError::Parse(_)));
}

// ------------------------------------------------------------ metric queries

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

fn body_without_stats(r: &QueryResult, st: &Stats, categorize: bool) -> String {
    let s = String::from_utf8(encode_response(r, st, categorize)).unwrap();
    let i = s.find(",\"stats\":").expect("stats");
    assert!(s.ends_with("}}"));
    s[..i].to_string()
}

#[test]
fn json_streams_plain_and_categorized() {
    let q = r#"{job="app"} | json | level="error""#;
    let mut p = QueryParams::range(q, T0, T0 + 60 * S, S);
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"duration":"1.5s","env":"prod","job":"app","level":"error","msg":"failed <db>","req_method":"POST","req_size":"2048","trace_id":"def"},"values":[["1700000025000000000","{\"level\":\"error\",\"msg\":\"failed \u003cdb\u003e\",\"trace_id\":\"def\",\"duration\":\"1.5s\",\"req\":{\"method\":\"POST\",\"size\":2048}}"]]}]"#
    );
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"prod","job":"app"},"values":[["1700000025000000000","{\"level\":\"error\",\"msg\":\"failed \u003cdb\u003e\",\"trace_id\":\"def\",\"duration\":\"1.5s\",\"req\":{\"method\":\"POST\",\"size\":2048}}",{"parsed":{"duration":"1.5s","level":"error","msg":"failed <db>","req_method":"POST","req_size":"2048","trace_id":"def"}}]]}]"#
    );
    let mut p = QueryParams::range(r#"{job="packed"} | unpack"#, T0, T0 + 60 * S, S);
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"dev","job":"packed"},"values":[["1700000016000000000","inner line",{"structuredMetadata":{"pod":"p1"},"parsed":{"container":"c1"}}]]}]"#
    );
    // No metadata, no parsed labels: an empty object.
    let mut p = QueryParams::range(r#"{job="nginx"} |= "health""#, T0, T0 + 60 * S, S);
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"prod","job":"nginx"},"values":[["1700000040000000000","10.0.0.3 \"GET /health\" 200 2 1ms",{}]]}]"#
    );
}

#[test]
fn json_matrix_vector_scalar() {
    let (r, st) = run(&QueryParams::range(
        r#"rate({job="nginx"}[30s])"#,
        T0 + 30 * S,
        T0 + 60 * S,
        15 * S,
    ))
    .unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"env":"prod","job":"nginx"},"values":[[1700000030,"0.1"],[1700000045,"0.1"],[1700000060,"0.06666666666666667"]]}]"#
    );
    let (r, st) = run(&QueryParams::instant(
        "vector(1)+vector(1)",
        T0 + 60 * S + 500_000_000,
    ))
    .unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000060.5,"2"]}]"#
    );
    let (r, st) = run(&QueryParams::instant("1/0", T0)).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"+Inf"]"#
    );
}

#[test]
fn json_stats_shape() {
    let st = Stats {
        scan: argus_store::ScanStats {
            lines_scanned: 10,
            bytes_scanned: 1000,
            head_lines: 10,
            ..Default::default()
        },
        exec_time: std::time::Duration::from_millis(1500),
        entries_returned: 3,
        post_filter_lines: 4,
        structured_metadata_bytes: 12,
        categorize_labels: false,
    };
    let body =
        String::from_utf8(encode_response(&QueryResult::Vector(vec![]), &st, false)).unwrap();
    let cache = r#"{"entriesFound":0,"entriesRequested":0,"entriesStored":0,"bytesReceived":0,"bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0}"#;
    let dataobj = r#"{"prePredicateDecompressedRows":0,"prePredicateDecompressedBytes":0,"prePredicateDecompressedStructuredMetadataBytes":0,"postPredicateRows":0,"postPredicateDecompressedBytes":0,"postPredicateStructuredMetadataBytes":0,"postFilterRows":0,"pagesScanned":0,"pagesDownloaded":0,"pagesDownloadedBytes":0,"pageBatches":0,"totalRowsAvailable":0,"totalPageDownloadTime":0,"wireBytesTransferred":0}"#;
    let want = format!(
        concat!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[],"stats":{{"#,
            r#""summary":{{"bytesProcessedPerSecond":666,"linesProcessedPerSecond":6,"totalBytesProcessed":1000,"totalLinesProcessed":10,"execTime":1.5,"queueTime":0,"subqueries":0,"totalEntriesReturned":3,"splits":0,"shards":0,"totalPostFilterLines":4,"totalStructuredMetadataBytesProcessed":12}},"#,
            r#""querier":{{"store":{{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,"chunk":{{"headChunkBytes":1000,"headChunkLines":10,"decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":4,"headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0}},"chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,"dataobj":{dataobj}}},"querierExecTime":1.5}},"#,
            r#""ingester":{{"totalReached":0,"totalChunksMatched":0,"totalBatches":0,"totalLinesSent":0,"store":{{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,"chunk":{{"headChunkBytes":0,"headChunkLines":0,"decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":0,"headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0}},"chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,"dataobj":{dataobj}}}}},"#,
            r#""cache":{{"chunk":{c},"index":{c},"result":{c},"statsResult":{c},"volumeResult":{c},"seriesResult":{c},"labelResult":{c},"instantMetricResult":{c},"logResult":{c},"taskResult":{c}}},"#,
            r#""index":{{"totalChunks":0,"postFilterChunks":0,"shardsDuration":0,"usedBloomFilters":false,"totalStreams":0,"chunkRefsLookupTime":0,"bloomFilterTime":0}},"#,
            r#""argus":{{"segmentsTotal":0,"segmentsSkippedByStreams":0,"blocksTotal":0,"blocksSkippedByTime":0,"blocksSkippedByNgrams":0,"bytesRead":0,"linesScanned":10,"bytesScanned":1000,"headLines":10}}}}}}}}"#
        ),
        dataobj = dataobj,
        c = cache
    );
    assert_eq!(body, want);
}

#[test]
fn stats_count_lines() {
    let (_, st) = run(&QueryParams::range(
        r#"{job="nginx"} |= "GET""#,
        T0,
        T0 + 60 * S,
        S,
    ))
    .unwrap();
    assert_eq!(st.scan.lines_scanned, 5);
    assert_eq!(st.post_filter_lines, 4);
    assert_eq!(st.entries_returned, 4);
}
