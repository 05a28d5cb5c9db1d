//! Log queries: line filters, parsers, label filters, errors.

use crate::common::*;
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
