//! OTLP/gRPC (`MetricsService/Export` on `--otlp-grpc-listen`): the Python
//! SDK's exporter end to end, and a tonic client for partial success and
//! error codes.

use crate::harness::*;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Code, Status};

const EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// The value of an instant query that must return exactly one series.
fn query_one(a: &Argus, tenant: &str, q: &str) -> (serde_json::Value, f64) {
    let r = client()
        .get(a.url("/api/v1/query"))
        .header("X-Scope-OrgID", tenant)
        .query(&[("query", q)])
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{q}: {}", r.status());
    let v: serde_json::Value = r.json().unwrap();
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{q}: {v}");
    let value = result[0]["value"][1].as_str().unwrap().parse().unwrap();
    (result[0]["metric"].clone(), value)
}

#[test]
fn python_sdk_grpc_export_is_queryable_with_prometheus_names() {
    if !have_python(&[
        "opentelemetry.sdk.metrics",
        "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/server/otlp_grpc_export.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(format!("127.0.0.1:{}", a.grpc_port))
        .arg("py-otel")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exporter failed: {}\n{}\nargus log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        a.log_text()
    );

    let names = a.get_json(Some("py-otel"), "/api/v1/label/__name__/values");
    let names: Vec<&str> = names["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for want in [
        "http_server_duration_seconds_bucket",
        "http_server_duration_seconds_count",
        "http_server_duration_seconds_sum",
        "orders_total",
        "room_temperature_celsius",
        "target_info",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let (labels, v) = query_one(&a, "py-otel", r#"orders_total{shop="a"}"#);
    assert_eq!(v, 7.0);
    assert_eq!(labels["job"], "checkout");
    assert_eq!(labels["instance"], "py-1");
    assert_eq!(query_one(&a, "py-otel", r#"orders_total{shop="b"}"#).1, 1.0);
    assert_eq!(
        query_one(&a, "py-otel", r#"room_temperature_celsius{room="lab"}"#).1,
        21.5
    );
    for (le, want) in [("0.1", 1.0), ("1", 2.0), ("+Inf", 3.0)] {
        let q = format!(r#"http_server_duration_seconds_bucket{{route="/cart",le="{le}"}}"#);
        assert_eq!(query_one(&a, "py-otel", &q).1, want, "{q}");
    }
    assert_eq!(
        query_one(&a, "py-otel", "http_server_duration_seconds_count").1,
        3.0
    );
    let sum = query_one(&a, "py-otel", "http_server_duration_seconds_sum").1;
    assert!((sum - 2.55).abs() < 1e-9, "{sum}");
    let (ti, _) = query_one(&a, "py-otel", "target_info");
    assert_eq!(ti["deployment_environment"], "test");
    // Only the tenant in the x-scope-orgid metadata got the data.
    let other = a.get_json(None, "/api/v1/label/__name__/values");
    assert_eq!(other["data"], serde_json::json!([]));

    let metrics = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "argus_grpc_request_duration_seconds_count{{code=\"OK\",method=\"{EXPORT}\"}} 1\n"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("argus_ingest_samples_received_total{tenant=\"py-otel\"}"),
        "{metrics}"
    );
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

fn point(t_ns: u64, v: f64) -> NumberDataPoint {
    NumberDataPoint {
        time_unix_nano: t_ns,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "rust-client")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Default::default()
    }
}

fn with_tenant<T>(msg: T, tenant: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("x-scope-orgid", tenant.parse().unwrap());
    r
}

/// Sends raw bytes as the Export message (the generated client only sends
/// valid messages).
#[derive(Default)]
struct RawRequest;

impl Codec for RawRequest {
    type Encode = Vec<u8>;
    type Decode = ExportMetricsServiceResponse;
    type Encoder = RawRequest;
    type Decoder = RawRequest;
    fn encoder(&mut self) -> RawRequest {
        RawRequest
    }
    fn decoder(&mut self) -> RawRequest {
        RawRequest
    }
}

impl Encoder for RawRequest {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl Decoder for RawRequest {
    type Item = ExportMetricsServiceResponse;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        prost::Message::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

async fn export_raw(
    channel: Channel,
    body: Vec<u8>,
) -> Result<ExportMetricsServiceResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(body),
        PathAndQuery::from_static(EXPORT),
        RawRequest,
    )
    .await
    .map(tonic::Response::into_inner)
}

#[test]
fn tonic_client_gets_partial_success_and_otlp_status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "ingest:\n  max_decompressed_bytes: 100000\noverrides:\n  slow:\n    ingestion_rate: 1\n    ingestion_burst: 1\n",
    );
    // Points a little in the past, so an instant query at now sees the latest.
    let t_ns = (now_ms() as u64 - 10_000) * 1_000_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let channel = rt.block_on(async {
        Channel::from_shared(format!("http://127.0.0.1:{}", a.grpc_port))
            .unwrap()
            .connect()
            .await
            .unwrap()
    });
    let mut otlp = MetricsServiceClient::new(channel.clone());

    // A gauge is stored; a delta sum is refused (as Prometheus does): a
    // partial success that counts the point and says why.
    let delta = Metric {
        name: "requests_delta".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![point(t_ns, 3.0)],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    };
    let req = request(vec![gauge("queue.depth", vec![point(t_ns, 4.0)]), delta]);
    let resp = rt
        .block_on(otlp.export(with_tenant(req.clone(), "grpc-rust")))
        .unwrap()
        .into_inner();
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_data_points, 1);
    assert!(
        partial.error_message.contains("requests_delta"),
        "{}",
        partial.error_message
    );
    let (labels, v) = query_one(&a, "grpc-rust", "queue_depth");
    assert_eq!((labels["job"].as_str(), v), (Some("rust-client"), 4.0));

    // Everything stored (gzip-compressed this time): no partial success.
    let mut gz = otlp.clone().send_compressed(CompressionEncoding::Gzip);
    let ok = request(vec![gauge(
        "queue.depth",
        vec![point(t_ns + 1_000_000_000, 5.0)],
    )]);
    let resp = rt
        .block_on(gz.export(with_tenant(ok.clone(), "grpc-rust")))
        .unwrap()
        .into_inner();
    assert_eq!(resp.partial_success, None);
    assert_eq!(query_one(&a, "grpc-rust", "queue_depth").1, 5.0);

    // Bytes that are not an ExportMetricsServiceRequest: INVALID_ARGUMENT.
    let e = rt
        .block_on(export_raw(channel.clone(), vec![0xff; 20]))
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("invalid OTLP protobuf"), "{e:?}");
    // An invalid tenant: INVALID_ARGUMENT, like OTLP/HTTP's 400.
    let e = rt
        .block_on(otlp.export(with_tenant(ok.clone(), "a|b")))
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");

    // Over max_decompressed_bytes, plain or gzipped: RESOURCE_EXHAUSTED
    // without RetryInfo (not retried, like OTLP/HTTP's 413).
    let points = (0..10_000).map(|i| point(t_ns + i, 1.0)).collect();
    let big = request(vec![gauge("big", points)]);
    assert!(prost::Message::encoded_len(&big) > 100_000);
    for c in [&mut otlp, &mut gz] {
        let e = rt
            .block_on(c.export(with_tenant(big.clone(), "grpc-rust")))
            .unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        assert!(e.details().is_empty(), "{e:?}");
    }

    // The tenant's rate limit (1 sample/s: a full bucket lets one request
    // through, the next is refused): RESOURCE_EXHAUSTED with RetryInfo, so
    // OTLP clients retry later.
    let five = request(vec![gauge(
        "x",
        (0..5).map(|i| point(t_ns + i, 1.0)).collect(),
    )]);
    rt.block_on(otlp.export(with_tenant(five.clone(), "slow")))
        .unwrap();
    let e = rt
        .block_on(otlp.export(with_tenant(five, "slow")))
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("rate limit"), "{e:?}");
    assert!(
        String::from_utf8_lossy(e.details()).contains("google.rpc.RetryInfo"),
        "{e:?}"
    );

    let metrics = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for (code, n) in [
        ("OK", 3),
        ("INVALID_ARGUMENT", 2),
        ("RESOURCE_EXHAUSTED", 3),
    ] {
        let line = format!(
            "argus_grpc_request_duration_seconds_count{{code=\"{code}\",method=\"{EXPORT}\"}} {n}\n"
        );
        assert!(metrics.contains(&line), "{line} missing from:\n{metrics}");
    }
}
