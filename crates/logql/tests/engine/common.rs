//! The fixed corpus in `MemLogs` and the helpers that query it.

pub(crate) use argus_logql::engine::{
    Direction, Engine, EngineOptions, EvalError, QueryParams, QueryResult, Stats,
};
pub(crate) use argus_logql::json::encode_response;
pub(crate) use argus_model::{Labels, LogEntry, LogStream, TenantId};
pub(crate) use argus_store::{LogsWriter, MemLogs, StreamLimits};

pub(crate) const T0: i64 = 1_700_000_000_000_000_000;
pub(crate) const S: i64 = 1_000_000_000;

pub(crate) fn entry(sec: i64, line: &str, md: &[(&str, &str)]) -> LogEntry {
    LogEntry {
        ts_ns: T0 + sec * S,
        line: line.to_string(),
        metadata: md
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

pub(crate) fn corpus() -> MemLogs {
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

pub(crate) fn tenant() -> TenantId {
    TenantId::new("t1").unwrap()
}

pub(crate) fn lbl(p: &[(String, String)]) -> String {
    let inner: Vec<String> = p.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

pub(crate) fn run(p: &QueryParams) -> Result<(QueryResult, Stats), EvalError> {
    Engine::default().execute(&corpus(), &tenant(), p)
}

pub(crate) fn logq(
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

pub(crate) fn logs(q: &str) -> Vec<(String, Vec<(i64, String)>)> {
    logq(q, 0, 60, 100, Direction::Backward)
}

pub(crate) fn check_logs(q: &str, want: &[(&str, &[(i64, &str)])]) {
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

pub(crate) fn instant(q: &str, at: i64) -> Result<QueryResult, EvalError> {
    run(&QueryParams::instant(q, T0 + at * S)).map(|r| r.0)
}

pub(crate) fn vector(q: &str, at: i64) -> Vec<(String, f64)> {
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

pub(crate) fn check_vector(q: &str, at: i64, want: &[(&str, f64)]) {
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

pub(crate) fn matrix(q: &str, start: i64, end: i64, step: i64) -> Vec<(String, Vec<(i64, f64)>)> {
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
