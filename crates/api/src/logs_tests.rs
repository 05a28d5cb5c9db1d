//! Handler tests of the logs write endpoints, with [`MemLogs`] behind the
//! logs pipeline.

use crate::{router, ApiConfig, AppState};
use argus_ingest::loki;
use argus_limits::{Limits, LimitsConfig, LogsLimits};
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_store::{Direction, LogSelect, LogsReader, MemLogs};
use argus_write::LogsPipeline;
use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::io::Write;
use std::sync::Arc;
use tower::ServiceExt;

/// Every entry of a tenant, oldest first.
fn everything() -> LogSelect {
    LogSelect {
        matchers: vec![],
        start_ns: i64::MIN,
        end_ns: i64::MAX,
        required: vec![],
        direction: Direction::Forward,
        skip_lines: false,
        metadata_keys: None,
        json_keys: None,
    }
}

struct Fixture {
    state: Arc<AppState>,
    mem: Arc<MemLogs>,
}

fn config() -> ApiConfig {
    ApiConfig {
        default_tenant: TenantId::new("fake").unwrap(),
        require_tenant: false,
        max_request_bytes: 64 * 1024,
        max_decompressed_bytes: 256 * 1024,
        otlp: Default::default(),
        engine: Default::default(),
        max_concurrency: 2,
        max_concurrency_per_tenant: 1,
        retention: "15d".into(),
        ui_dir: None,
    }
}

/// The tenant `t` gets `logs`; others the defaults.
fn fixture(logs: LogsLimits) -> Fixture {
    let mut limits = LimitsConfig::default();
    limits.overrides.insert(
        "t".into(),
        Limits {
            logs,
            ..Limits::default()
        },
    );
    let mem = Arc::new(MemLogs::new());
    let state = Arc::new(AppState::new(config(), "test"));
    state.set_logs_ready(Arc::new(LogsPipeline::new(mem.clone(), limits).unwrap()));
    Fixture { state, mem }
}

impl Fixture {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Response<Body>) {
        let resp = router(self.state.clone()).oneshot(req).await.unwrap();
        (resp.status(), resp)
    }

    async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> (StatusCode, String) {
        let mut b = Request::post(path).header("X-Scope-OrgID", "t");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (status, resp) = self.send(b.body(body.into()).unwrap()).await;
        let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// What tenant `t` has stored: (labels, lines), sorted.
    fn stored(&self) -> Vec<(String, Vec<String>)> {
        let mut c = self
            .mem
            .select(&TenantId::new("t").unwrap(), &everything())
            .unwrap();
        let mut out = Vec::new();
        while let Some(b) = c.next_batch().unwrap() {
            out.push((
                b.labels.to_string(),
                b.entries.into_iter().map(|e| e.line).collect(),
            ));
        }
        out.sort();
        out
    }

    fn entries(&self) -> Vec<LogEntry> {
        let mut c = self
            .mem
            .select(&TenantId::new("t").unwrap(), &everything())
            .unwrap();
        let mut out = Vec::new();
        while let Some(b) = c.next_batch().unwrap() {
            out.extend(b.entries);
        }
        out
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn stream(pairs: &[(&str, &str)], lines: &[&str]) -> LogStream {
    LogStream {
        labels: Labels::from_pairs(pairs.iter().copied()),
        entries: lines
            .iter()
            .enumerate()
            .map(|(i, l)| LogEntry::new(1_000 + i as i64, *l))
            .collect(),
    }
}

const PB: (&str, &str) = ("Content-Type", "application/x-protobuf");
const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test]
async fn loki_push_protobuf_and_json() {
    let f = fixture(LogsLimits::default());
    let mut body = Vec::new();
    loki::encode_protobuf(&[stream(&[("job", "pb")], &["a", "b"])], &mut body);
    let (st, text) = f.post("/loki/api/v1/push", &[PB], body).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{text}");
    let json = r#"{"streams":[{"stream":{"job":"js"},"values":[["1000","x"],["2000","y",{"trace_id":"abc"}]]}]}"#;
    let (st, text) = f.post("/loki/api/v1/push", &[JSON], json).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{text}");
    let (st, text) = f
        .post(
            "/loki/api/v1/push",
            &[JSON, ("Content-Encoding", "gzip")],
            gzip(json.as_bytes()),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{text}");
    assert_eq!(
        f.stored(),
        vec![
            (
                "{job=\"js\"}".into(),
                vec!["x".into(), "x".into(), "y".into(), "y".into()]
            ),
            ("{job=\"pb\"}".into(), vec!["a".into(), "b".into()]),
        ]
    );
    assert!(f.entries().iter().any(|e| e.metadata
        == vec![
            ("trace_id".to_string(), "abc".to_string()),
            ("detected_level".to_string(), "unknown".to_string())
        ]));
}

#[tokio::test]
async fn loki_push_limits_are_400_or_429_and_the_rest_is_stored() {
    let f = fixture(LogsLimits {
        max_label_value_length: 5,
        max_line_bytes: 4,
        ..LogsLimits::default()
    });
    let json = r#"{"streams":[
        {"stream":{"job":"ok"},"values":[["1","fine"],["2","too long"]]},
        {"stream":{"job":"toolong"},"values":[["1","x"]]}]}"#;
    let (st, text) = f.post("/loki/api/v1/push", &[JSON], json).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("stream '{job=\"toolong\"}' has label value too long: 'toolong'"),
        "{text}"
    );
    assert!(text.contains("max entry size '4' bytes exceeded"), "{text}");
    assert_eq!(
        f.stored(),
        vec![("{job=\"ok\"}".into(), vec!["fine".into()])]
    );
}

#[tokio::test]
async fn rate_limit_is_429_and_nothing_is_stored() {
    let f = fixture(LogsLimits {
        ingestion_rate_bytes: 0.001,
        ingestion_burst_bytes: 10.0,
        ..LogsLimits::default()
    });
    let json = r#"{"streams":[{"stream":{"job":"a"},"values":[["1","0123456789AB"]]}]}"#;
    // Larger than the burst but the bucket is full: allowed once.
    let (st, _) = f.post("/loki/api/v1/push", &[JSON], json).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, text) = f.post("/loki/api/v1/push", &[JSON], json).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        text.contains("ingestion rate limit exceeded for user t"),
        "{text}"
    );
    assert_eq!(f.stored()[0].1.len(), 1);
}

#[tokio::test]
async fn garbage_is_400_and_bad_headers_415_413() {
    let f = fixture(LogsLimits::default());
    let (st, text) = f.post("/loki/api/v1/push", &[PB], "not snappy").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{text}");
    let (st, text) = f
        .post("/loki/api/v1/push", &[JSON], "{\"streams\":5}")
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("invalid Loki push JSON"), "{text}");
    let (st, _) = f
        .post("/loki/api/v1/push", &[("Content-Type", "text/csv")], "x")
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = f
        .post(
            "/loki/api/v1/push",
            &[JSON, ("Content-Encoding", "br")],
            "x",
        )
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, text) = f
        .post(
            "/loki/api/v1/push",
            &[JSON, ("Content-Encoding", "gzip")],
            "not gzip",
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{text}");
    let (st, _) = f
        .post("/loki/api/v1/push", &[JSON], vec![b' '; 100 * 1024])
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let bomb = gzip(&vec![b' '; 1024 * 1024]);
    let (st, _) = f
        .post("/api/v1/logs/jsonl", &[("Content-Encoding", "gzip")], bomb)
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(f.stored().is_empty());
}

#[tokio::test]
async fn not_ready_is_503() {
    let state = Arc::new(AppState::new(config(), "test"));
    for path in [
        "/loki/api/v1/push",
        "/v1/logs",
        "/_bulk",
        "/api/v1/logs/jsonl",
    ] {
        let resp = router(state.clone())
            .oneshot(Request::post(path).body(Body::from("{}")).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
}

fn otlp_request() -> ExportLogsServiceRequest {
    let kv = |k: &str, v: &str| KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "svc")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: 5_000,
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("otlp line".into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test]
async fn otlp_logs_protobuf_json_and_partial_success() {
    let f = fixture(LogsLimits {
        max_line_bytes: 8,
        ..LogsLimits::default()
    });
    let body = otlp_request().encode_to_vec();
    let (st, text) = f.post("/v1/logs", &[PB], body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{text}");
    // The line is over 8 bytes: a partial success.
    let mut req = Request::post("/otlp/v1/logs")
        .header("X-Scope-OrgID", "t")
        .header("Content-Type", "application/x-protobuf");
    req = req.header("Content-Encoding", "gzip");
    let (st, resp) = f.send(req.body(Body::from(gzip(&body))).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let r = ExportLogsServiceResponse::decode(bytes).unwrap();
    let p = r.partial_success.unwrap();
    assert_eq!(p.rejected_log_records, 1);
    assert!(
        p.error_message.contains("max entry size '8' bytes"),
        "{}",
        p.error_message
    );
    let json = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"js"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"7000","body":{"stringValue":"short"}}]}]}]}"#;
    let (st, text) = f.post("/v1/logs", &[JSON], json).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(text, "{}");
    assert_eq!(
        f.stored(),
        vec![("{service_name=\"js\"}".into(), vec!["short".into()])]
    );
    let (st, text) = f.post("/v1/logs", &[JSON], "{\"resourceLogs\":7}").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(text.contains("\"code\":3"), "{text}");
    let (st, _) = f
        .post("/v1/logs", &[("Content-Type", "text/plain")], "x")
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// A unary gRPC request frame: uncompressed, length-prefixed.
fn grpc_frame(msg: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8];
    b.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    b.extend_from_slice(msg);
    b
}

#[tokio::test]
async fn grpc_logs_export() {
    let f = fixture(LogsLimits {
        ingestion_rate_bytes: 0.001,
        ingestion_burst_bytes: 9.0,
        ..LogsLimits::default()
    });
    let routes = crate::grpc::GrpcServer::new(f.state.clone())
        .into_routes()
        .into_axum_router();
    let call = |body: Vec<u8>, tenant: &str| {
        Request::post("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("x-scope-orgid", tenant)
            .body(Body::from(body))
            .unwrap()
    };
    let resp = routes
        .clone()
        .oneshot(call(grpc_frame(&otlp_request().encode_to_vec()), "t"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("grpc-status").is_none(), "{resp:?}");
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let r = ExportLogsServiceResponse::decode(&bytes[5..]).unwrap();
    assert!(r.partial_success.is_none());
    assert_eq!(
        f.stored(),
        vec![("{service_name=\"svc\"}".into(), vec!["otlp line".into()])]
    );
    // The bucket is spent: RESOURCE_EXHAUSTED with RetryInfo.
    let resp = routes
        .clone()
        .oneshot(call(grpc_frame(&otlp_request().encode_to_vec()), "t"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["grpc-status"], "8");
    assert!(resp.headers().contains_key("grpc-status-details-bin"));
    // Garbage: INVALID_ARGUMENT.
    let resp = routes
        .oneshot(call(grpc_frame(b"\xff\xff"), "u"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["grpc-status"], "3");
}

#[tokio::test]
async fn elastic_bulk_mixed_batch() {
    let f = fixture(LogsLimits {
        max_line_bytes: 10,
        ..LogsLimits::default()
    });
    let body = "{\"index\":{\"_id\":\"1\"}}\n{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"good\",\"service\":{\"name\":\"api\"},\"level\":\"info\"}\n\
{\"create\":{}}\n{\"message\":\"this line is too long\",\"service.name\":\"api\"}\n\
{\"delete\":{\"_id\":\"9\"}}\n\
{\"index\":{}}\nnot json\n\
{\"create\":{\"_index\":\"other\"}}\n{\"@timestamp\":1704067200000,\"msg\":\"two\"}\n";
    let (st, text) = f
        .post(
            "/app/_bulk",
            &[("Content-Type", "application/x-ndjson")],
            body,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["errors"], true);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[0]["index"]["_id"], "1");
    assert_eq!(items[0]["index"]["_index"], "app");
    assert_eq!(items[0]["index"]["result"], "created");
    assert_eq!(items[1]["create"]["status"], 400);
    assert!(items[1]["create"]["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("max entry size '10' bytes"));
    assert_eq!(items[2]["delete"]["status"], 400);
    assert_eq!(items[3]["index"]["status"], 400);
    assert_eq!(
        items[3]["index"]["error"]["type"],
        "document_parsing_exception"
    );
    assert_eq!(items[4]["create"]["status"], 201);
    assert_eq!(items[4]["create"]["_index"], "other");
    assert_eq!(
        f.stored(),
        vec![
            (
                "{index=\"app\", service_name=\"api\"}".into(),
                vec!["good".into()]
            ),
            ("{index=\"other\"}".into(), vec!["two".into()]),
        ]
    );
    let e = f.entries();
    assert!(e.iter().any(|e| e.ts_ns == 1_704_067_200_000_000_000
        && e.metadata
            == vec![
                ("level".to_string(), "info".to_string()),
                ("detected_level".to_string(), "info".to_string())
            ]));
}

#[tokio::test]
async fn elastic_info_header_and_errors() {
    let f = fixture(LogsLimits::default());
    let (st, resp) = f.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(resp.headers()["x-elastic-product"], "Elasticsearch");
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["version"]["number"].as_str().unwrap().starts_with("8."));
    assert_eq!(v["tagline"], "You Know, for Search");
    // A malformed action line fails the request, in Elasticsearch's shape.
    let (st, resp) = f
        .send(
            Request::post("/_bulk")
                .header("X-Scope-OrgID", "t")
                .body(Body::from("{\"nope\":{}}\n{}\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(resp.headers()["x-elastic-product"], "Elasticsearch");
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["status"], 400);
    assert!(v["error"]["reason"]
        .as_str()
        .unwrap()
        .contains("Malformed action/metadata line [1]"));
}

#[tokio::test]
async fn jsonl_with_field_parameters() {
    let f = fixture(LogsLimits::default());
    let body = "{\"ts\":\"1970-01-01T00:00:01Z\",\"text\":\"one\",\"app\":\"a\",\"user\":{\"id\":7}}\nnot json\n{\"text\":\"two\",\"app\":\"a\"}\n";
    let (st, text) = f
        .post(
            "/api/v1/logs/jsonl?_time_field=ts&_msg_field=text&_stream_fields=app",
            &[],
            body,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(text.contains("line 2: invalid JSON"), "{text}");
    assert_eq!(
        f.stored(),
        vec![("{app=\"a\"}".into(), vec!["one".into(), "two".into()])]
    );
    let e = f.entries();
    assert_eq!(e[0].ts_ns, 1_000_000_000);
    assert_eq!(
        e[0].metadata,
        vec![
            ("user_id".to_string(), "7".to_string()),
            ("detected_level".to_string(), "unknown".to_string())
        ]
    );
    let (st, text) = f
        .post(
            "/api/v1/logs/jsonl?_stream_fields=app",
            &[("Content-Encoding", "gzip")],
            gzip(b"{\"message\":\"three\",\"app\":\"a\"}\n"),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{text}");
    assert_eq!(f.stored()[0].1.len(), 3);
}
