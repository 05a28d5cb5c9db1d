//! Handler tests: the real router over a `MemLogs` store, exact JSON.

use crate::{router, ApiConfig, AppState};
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_store::{LogsWriter, MemLogs, StreamLimits};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const S: i64 = 1_000_000_000;
/// The tests' time origin (seconds); queries read [T, T + 1h).
const T: i64 = 1_700_000_000;
const LIMITS: StreamLimits = StreamLimits {
    max_streams: 0,
    out_of_order_window_ns: i64::MAX,
};

fn state(logs: Arc<MemLogs>) -> Arc<AppState> {
    let config = ApiConfig {
        default_tenant: TenantId::new("fake").unwrap(),
        require_tenant: false,
        max_request_bytes: 1 << 20,
        max_decompressed_bytes: 1 << 20,
        otlp: Default::default(),
        engine: Default::default(),
        max_concurrency: 4,
        max_concurrency_per_tenant: 0,
        retention: "15d".into(),
        ui_dir: None,
    };
    let s = Arc::new(AppState::new(config, "test"));
    s.set_logs_reader(logs);
    s
}

fn entry(sec: i64, line: &str) -> LogEntry {
    LogEntry::new(T * S + sec * S, line)
}

fn push(logs: &MemLogs, labels: &[(&str, &str)], entries: Vec<LogEntry>) {
    let mut s = LogStream::new(Labels::from_pairs(labels.iter().copied()));
    s.entries = entries;
    logs.push(&TenantId::new("fake").unwrap(), vec![s], LIMITS)
        .unwrap();
}

const API1: &str = r#"{"level":"info","msg":"hello","duration":"15ms","user":{"id":7}}"#;
const API2: &str = r#"{"level":"error","msg":"boom","duration":"20ms","user":{"id":8}}"#;
const WEB1: &str = r#"level=info status=200 took=1.5s path="/a b""#;
const WEB2: &str = "level=warn status=404 took=2s path=/c size=10MB";

/// Three streams: JSON lines, logfmt lines (one with structured
/// metadata), and lines for patterns.
fn fixture() -> Arc<MemLogs> {
    let logs = Arc::new(MemLogs::new());
    push(
        &logs,
        &[("app", "api"), ("env", "prod"), ("namespace", "ns1")],
        vec![entry(10, API1), entry(20, API2)],
    );
    let mut w1 = entry(15, WEB1);
    w1.metadata.push(("trace_id".into(), "abc".into()));
    push(
        &logs,
        &[("app", "web"), ("env", "dev"), ("pod", "web-1")],
        vec![w1, entry(25, WEB2)],
    );
    push(
        &logs,
        &[("app", "lb"), ("instance_id", "12345")],
        vec![
            entry(1, "GET /api/users 200 12ms"),
            entry(2, "GET /api/orders 200 15ms"),
            entry(65, "GET /api/orders 200 9ms"),
            entry(70, "connection closed"),
        ],
    );
    logs
}

fn bytes_of(lines: &[&str]) -> u64 {
    lines.iter().map(|l| l.len() as u64).sum()
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// GET `path` with `start`/`end` around the fixture; (status, body).
async fn get(state: &Arc<AppState>, path: &str) -> (StatusCode, String) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let uri = format!("{path}{sep}start={T}&end={}", T + 3600);
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn send(state: &Arc<AppState>, req: Request<Body>) -> (StatusCode, String) {
    let res = router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get_json(state: &Arc<AppState>, path: &str) -> Value {
    let (status, body) = get(state, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn labels_and_values() {
    let s = state(fixture());
    assert_eq!(
        get_json(&s, "/loki/api/v1/labels").await,
        json!({"status": "success", "data": ["app", "env", "instance_id", "namespace", "pod"]})
    );
    let q = enc(r#"{app="api"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/labels?query={q}")).await,
        json!({"status": "success", "data": ["app", "env", "namespace"]})
    );
    assert_eq!(
        get_json(&s, "/loki/api/v1/label/app/values").await,
        json!({"status": "success", "data": ["api", "lb", "web"]})
    );
    let q = enc(r#"{env=~"prod|dev"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/label/app/values?query={q}")).await,
        json!({"status": "success", "data": ["api", "web"]})
    );
    // Nothing found: Loki leaves `data` out.
    let (status, body) = send(
        &s,
        Request::get("/loki/api/v1/labels")
            .header("X-Scope-OrgID", "other")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"success"}"#)
    );
}

#[tokio::test]
async fn series_with_two_matchers() {
    let s = state(fixture());
    let (a, b) = (enc(r#"{app="api"}"#), enc(r#"{app="web"}"#));
    let want = json!({"status": "success", "data": [
        {"app": "api", "env": "prod", "namespace": "ns1"},
        {"app": "web", "env": "dev", "pod": "web-1"},
    ]});
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/series?match[]={a}&match[]={b}")).await,
        want
    );
    // `match` and a POSTed form are read too.
    let body = format!("match={a}&match%5B%5D={b}&start={T}&end={}", T + 3600);
    let (status, body) = send(
        &s,
        Request::post("/loki/api/v1/series")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), want);
}

#[tokio::test]
async fn index_stats() {
    let s = state(fixture());
    let q = enc(r#"{app=~"api|web"}"#);
    let (status, body) = get(&s, &format!("/loki/api/v1/index/stats?query={q}")).await;
    assert_eq!(status, StatusCode::OK);
    // Loki's field order.
    let bytes = bytes_of(&[API1, API2, WEB1, WEB2]) + 8 + 3;
    assert_eq!(
        body,
        format!(r#"{{"streams":2,"chunks":2,"bytes":{bytes},"entries":4}}"#)
    );
}

#[tokio::test]
async fn volume_by_series_and_by_labels() {
    let s = state(fixture());
    let (api, web) = (bytes_of(&[API1, API2]), bytes_of(&[WEB1, WEB2]) + 8 + 3);
    let end = T + 3600;
    let q = enc(r#"{app=~"api|web"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/index/volume?query={q}")).await,
        json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"app": "api"}, "value": [end, api.to_string()]},
            {"metric": {"app": "web"}, "value": [end, web.to_string()]},
        ]}})
    );
    assert_eq!(
        get_json(
            &s,
            &format!("/loki/api/v1/index/volume?query={q}&aggregateBy=labels")
        )
        .await,
        json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"app": ""}, "value": [end, (api + web).to_string()]},
            {"metric": {"env": ""}, "value": [end, (api + web).to_string()]},
            {"metric": {"namespace": ""}, "value": [end, api.to_string()]},
            {"metric": {"pod": ""}, "value": [end, web.to_string()]},
        ]}})
    );
    // Target labels, and per-step buckets.
    let q = enc(r#"{app="api"}"#);
    let path = format!("/loki/api/v1/index/volume_range?query={q}&targetLabels=env&step=10");
    let (e1, e2) = (bytes_of(&[API1]), bytes_of(&[API2]));
    // Each bucket's sample is at its end (less 1ms, Loki's split gap).
    let at = |sec: i64| Value::from(((T + sec) * 1000 - 1) as f64 / 1000.0);
    assert_eq!(
        get_json(&s, &path).await,
        json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"env": "prod"}, "values": [[at(20), e1.to_string()], [at(30), e2.to_string()]]},
        ]}})
    );
}

#[tokio::test]
async fn detected_labels_leave_ids_out() {
    let s = state(fixture());
    assert_eq!(
        get_json(&s, "/loki/api/v1/detected_labels").await,
        json!({"detectedLabels": [
            {"label": "app", "cardinality": 3},
            {"label": "env", "cardinality": 2},
            {"label": "namespace", "cardinality": 1},
            {"label": "pod", "cardinality": 1},
        ]})
    );
    let q = enc(r#"{app="api"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/detected_labels?query={q}")).await,
        json!({"detectedLabels": [
            {"label": "app", "cardinality": 1},
            {"label": "env", "cardinality": 1},
            {"label": "namespace", "cardinality": 1},
        ]})
    );
    let (status, body) = send(
        &s,
        Request::get(format!(
            "/loki/api/v1/detected_labels?start={}&end={T}",
            T + 10
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        "end timestamp must not be before or equal to start time"
    );
}

#[tokio::test]
async fn detected_fields_of_json_and_logfmt_lines() {
    let s = state(fixture());
    let q = enc(r#"{app="api"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/detected_fields?query={q}")).await,
        json!({"fields": [
            {"label": "duration", "type": "duration", "cardinality": 2, "parsers": ["json"], "jsonPath": ["duration"]},
            {"label": "level", "type": "string", "cardinality": 2, "parsers": ["json"], "jsonPath": ["level"]},
            {"label": "msg", "type": "string", "cardinality": 2, "parsers": ["json"], "jsonPath": ["msg"]},
            {"label": "user_id", "type": "int", "cardinality": 2, "parsers": ["json"], "jsonPath": ["user", "id"]},
        ], "limit": 1000})
    );
    let q = enc(r#"{app="web"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/detected_fields?query={q}")).await,
        json!({"fields": [
            {"label": "level", "type": "string", "cardinality": 2, "parsers": ["logfmt"]},
            {"label": "path", "type": "string", "cardinality": 2, "parsers": ["logfmt"]},
            {"label": "size", "type": "bytes", "cardinality": 1, "parsers": ["logfmt"]},
            {"label": "status", "type": "int", "cardinality": 2, "parsers": ["logfmt"]},
            {"label": "took", "type": "duration", "cardinality": 2, "parsers": ["logfmt"]},
            {"label": "trace_id", "type": "string", "cardinality": 1, "parsers": null},
        ], "limit": 1000})
    );
    // line_limit=1: only the newest line (the logfmt one with `size`).
    let v = get_json(
        &s,
        &format!("/loki/api/v1/detected_fields?query={q}&line_limit=1"),
    )
    .await;
    let labels: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["level", "path", "size", "status", "took"]);
    assert_eq!(
        get_json(
            &s,
            &format!("/loki/api/v1/detected_field/level/values?query={q}")
        )
        .await,
        json!({"values": ["info", "warn"], "limit": 1000})
    );
    // A line filter is applied before the fields are read.
    let q = enc(r#"{app="web"} |= "warn""#);
    assert_eq!(
        get_json(
            &s,
            &format!("/loki/api/v1/detected_field/size/values?query={q}")
        )
        .await,
        json!({"values": ["10MB"], "limit": 1000})
    );
}

#[tokio::test]
async fn patterns_of_a_few_lines() {
    let s = state(fixture());
    let q = enc(r#"{app="lb"}"#);
    assert_eq!(
        get_json(&s, &format!("/loki/api/v1/patterns?query={q}&step=60s")).await,
        json!({"status": "success", "data": [
            {"pattern": "GET <_> 200 <_>", "level": "unknown", "samples": [[T - T % 60, 2], [T - T % 60 + 60, 1]]},
            {"pattern": "connection closed", "level": "unknown", "samples": [[T - T % 60 + 60, 1]]},
        ]})
    );
}

#[tokio::test]
async fn format_query_and_buildinfo() {
    let s = state(fixture());
    let q = enc(r#"{foo=   "bar"}   |= "x""#);
    let (status, body) = get(&s, &format!("/loki/api/v1/format_query?query={q}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"status":"success","data":"{foo=\"bar\"} |= \"x\""}"#
    );
    let bad = r#"{foo="bar""#;
    let (status, body) = get(&s, &format!("/loki/api/v1/format_query?query={}", enc(bad))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err = argus_logql::parse(bad).unwrap_err().to_string();
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "invalid-query", "error": err})
    );
    let (status, body) = get(&s, "/loki/api/v1/status/buildinfo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"version": "3.4.0", "revision": "argus-test", "branch": "", "buildUser": "", "buildDate": "", "goVersion": ""})
    );
}

#[tokio::test]
async fn errors_as_loki_answers_them() {
    let s = state(fixture());
    // A parse error: 400, the parser's message as plain text.
    let bad = r#"{app="api""#;
    let (status, body) = get(&s, &format!("/loki/api/v1/index/stats?query={}", enc(bad))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("parse error at line 1, col "), "{body}");
    assert_eq!(body, argus_logql::parse(bad).unwrap_err().to_string());
    // A pipeline where only matchers are allowed.
    let q = enc(r#"{app="api"} |= "x""#);
    let (status, body) = get(&s, &format!("/loki/api/v1/labels?query={q}")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "only label matchers are supported")
    );
    // A selector every stream matches.
    let q = enc(r#"{app=~".*"}"#);
    let (status, body) = get(&s, &format!("/loki/api/v1/index/stats?query={q}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("at least one"), "{body}");
    // Bad times and steps.
    let (status, body) = send(
        &s,
        Request::get("/loki/api/v1/labels?start=yesterday")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "could not parse 'start' parameter: strconv.ParseInt: parsing \"yesterday\": invalid syntax"
        )
    );
    let q = enc(r#"{app="lb"}"#);
    let (status, _) = get(&s, &format!("/loki/api/v1/patterns?query={q}&step=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = get(
        &s,
        &format!("/loki/api/v1/index/volume?query={q}&aggregateBy=pods"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "invalid aggregation option")
    );
}

#[tokio::test]
async fn tenants_and_readiness() {
    // Before the logs store is open: 503.
    let s = state(fixture());
    let fresh = Arc::new(AppState::new(s.config.clone(), "test"));
    let (status, _) = get(&fresh, "/loki/api/v1/labels").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // `multitenancy: required` without the header: 401.
    let mut config = s.config.clone();
    config.require_tenant = true;
    let strict = Arc::new(AppState::new(config, "test"));
    strict.set_logs_reader(fixture());
    let (status, _) = get(&strict, "/loki/api/v1/labels").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = send(
        &strict,
        Request::get(format!(
            "/loki/api/v1/label/app/values?start={T}&end={}",
            T + 3600
        ))
        .header("X-Scope-OrgID", "fake")
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "success", "data": ["api", "lb", "web"]})
    );
}

/// The tail over a real WebSocket: the history first, then entries pushed
/// after connecting, each once, filtered by the query's line filter.
#[tokio::test]
async fn tail_over_a_websocket() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let logs = Arc::new(MemLogs::new());
    let now = super::params::now_ns();
    let labels = [("app", "tail")];
    push(
        &logs,
        &labels,
        vec![LogEntry::new(now - 60 * S, "keep old")],
    );
    let s = state(logs.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(s)).await });

    let q = enc(r#"{app="tail"} |= "keep""#);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/loki/api/v1/tail?query={q}"))
            .await
            .unwrap();
    let mut frames: Vec<Value> = Vec::new();
    let mut lines = Vec::new();
    // The first frame is the history; entries are pushed once it came.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut pushed = false;
    let mut want = vec!["keep old".to_string()];
    let (t1, t2) = (now + S, now + S + 1);
    while lines.len() < 3 {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("tail frames in time")
            .unwrap()
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(text.as_str()).unwrap();
        for stream in v["streams"].as_array().unwrap() {
            assert_eq!(stream["stream"], json!({"app": "tail"}));
            for value in stream["values"].as_array().unwrap() {
                lines.push(value[1].as_str().unwrap().to_string());
            }
        }
        frames.push(v);
        if !pushed {
            // Entries pushed after connecting (one filtered out).
            pushed = true;
            push(
                &logs,
                &labels,
                vec![
                    LogEntry::new(t1, "keep new 1"),
                    LogEntry::new(t1, "drop me"),
                    LogEntry::new(t2, "keep new 2"),
                ],
            );
            want.push("keep new 1".into());
            want.push("keep new 2".into());
        }
    }
    assert_eq!(lines, want);
    assert_eq!(
        frames[0],
        json!({"streams": [{"stream": {"app": "tail"}, "values": [[(now - 60 * S).to_string(), "keep old"]]}]})
    );
    // Nothing is sent twice: the next polls find nothing new.
    let quiet = tokio::time::Instant::now() + std::time::Duration::from_millis(2500);
    while let Ok(Some(msg)) = tokio::time::timeout_at(quiet, ws.next()).await {
        if let Message::Text(text) = msg.unwrap() {
            panic!("unexpected frame {text}");
        }
    }
}

#[tokio::test]
async fn query_range_streams_metrics_health_check_and_errors() {
    let s = state(fixture());
    // A log query: newest first, the pipeline applied, categorized labels.
    let q = enc(r#"{app="api"} | json | level="error""#);
    let v = get_json(&s, &format!("/loki/api/v1/query_range?query={q}&limit=10")).await;
    assert_eq!(v["data"]["resultType"], "streams");
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0]["stream"]["level"], "error");
    assert_eq!(
        result[0]["values"],
        json!([[format!("{}", T * S + 20 * S), API2]])
    );
    let req = Request::get(format!(
        "/loki/api/v1/query_range?query={}&start={T}&end={}&limit=10",
        enc(r#"{app="web"}"#),
        T + 3600
    ))
    .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
    .body(Body::empty())
    .unwrap();
    let (status, body) = send(&s, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["encodingFlags"], json!(["categorize-labels"]));
    assert_eq!(
        v["data"]["result"][0]["stream"],
        json!({"app": "web", "env": "dev", "pod": "web-1"})
    );
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(
        values[1][2],
        json!({"structuredMetadata": {"trace_id": "abc"}})
    );

    // A metric query: count per minute step over the lb stream.
    let q = enc(r#"sum(count_over_time({app="lb"}[1m]))"#);
    let v = get_json(&s, &format!("/loki/api/v1/query_range?query={q}&step=60")).await;
    assert_eq!(v["data"]["resultType"], "matrix");
    let points = v["data"]["result"][0]["values"].as_array().unwrap();
    // Windows (t-60s, t]: 2 lines by T+60, 2 more by T+120.
    let counts: Vec<(i64, String)> = points
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_str().unwrap().to_string()))
        .collect();
    assert!(counts.contains(&(T + 60, "2".into())), "{counts:?}");
    assert!(counts.contains(&(T + 120, "2".into())), "{counts:?}");

    // Grafana's health check.
    let (status, body) = send(
        &s,
        Request::get(format!(
            "/loki/api/v1/query?query={}",
            enc("vector(1)+vector(1)")
        ))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"][0]["value"][1], "2");

    // A bad query: 400 with Loki's parse error as text.
    let (status, body) = get(
        &s,
        &format!("/loki/api/v1/query_range?query={}", enc("{app=}")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("parse error"), "{body}");
    let (status, body) = get(
        &s,
        "/loki/api/v1/query_range?query=%7Bapp%3D%22lb%22%7D&direction=up",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "invalid direction 'up'")
    );
}

/// A browser's tail names its tenant as a query parameter: another
/// tenant's tail sees nothing of `fake`'s history, `fake`'s sees it, and a
/// bad tenant is a 400 naming the parameter.
#[tokio::test]
async fn tail_takes_the_tenant_as_a_query_parameter() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let logs = Arc::new(MemLogs::new());
    let now = super::params::now_ns();
    push(&logs, &[("app", "t")], vec![LogEntry::new(now - S, "mine")]);
    let s = state(logs);
    let (status, body) = get(
        &s,
        &format!(
            "/loki/api/v1/tail?query={}&X-Scope-OrgID=a%7Cb",
            enc(r#"{app="t"}"#)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("X-Scope-OrgID"), "{body}");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(s)).await });
    // The first text frame each tenant's tail sends within 1.5 s: the
    // number of streams in it, or None.
    let mut first = Vec::new();
    for tenant in ["other", "fake"] {
        let url = format!(
            "ws://{addr}/loki/api/v1/tail?query={}&X-Scope-OrgID={tenant}",
            enc(r#"{app="t"}"#)
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(1500);
        let mut got = None;
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, ws.next()).await {
            if let Message::Text(text) = msg.unwrap() {
                let v: Value = serde_json::from_str(text.as_str()).unwrap();
                got = Some(v["streams"].as_array().map_or(0, Vec::len));
                break;
            }
        }
        first.push(got);
    }
    assert_eq!(first, [None, Some(1)]);
}
