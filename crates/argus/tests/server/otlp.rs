use crate::harness::*;
use serde_json::json;

#[test]
fn otlp_json_and_protobuf_metrics_are_stored_with_prometheus_names() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let t_ns = 1_700_000_000_000_000_000u64;
    let body = json!({"resourceMetrics": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "checkout"}},
            {"key": "service.instance.id", "value": {"stringValue": "pod-1"}},
            {"key": "host.name", "value": {"stringValue": "node-a"}}
        ]},
        "scopeMetrics": [{"scope": {"name": "demo"}, "metrics": [
            {"name": "http.server.request.duration", "unit": "s", "histogram": {
                "aggregationTemporality": 2,
                "dataPoints": [{"timeUnixNano": t_ns.to_string(), "count": "3", "sum": 0.6,
                                "bucketCounts": ["1", "2", "0"], "explicitBounds": [0.1, 1.0],
                                "attributes": [{"key": "http.route", "value": {"stringValue": "/cart"}}]}]}},
            {"name": "orders", "unit": "1", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
                "dataPoints": [{"timeUnixNano": t_ns.to_string(), "asInt": "7"}]}}
        ]}]
    }]});
    let r = client()
        .post(a.url("/v1/metrics"))
        .header("Content-Type", "application/json")
        .header("X-Scope-OrgID", "otel")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let names = a.get_json(Some("otel"), "/api/v1/label/__name__/values");
    let names: Vec<&str> = names["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for want in [
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_sum",
        "orders_total",
        "target_info",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let buckets = a.export(Some("otel"), "http_server_request_duration_seconds_bucket");
    let inf = buckets
        .iter()
        .find(|(k, _)| k.contains("\"le\":\"+Inf\""))
        .expect("+Inf bucket");
    assert_eq!(inf.1, &vec![(1_700_000_000_000, 3.0)]);
    assert!(
        inf.0.contains("\"job\":\"checkout\"") && inf.0.contains("\"instance\":\"pod-1\""),
        "{}",
        inf.0
    );
    let ti = a.export(Some("otel"), "target_info");
    assert!(ti
        .keys()
        .next()
        .unwrap()
        .contains("\"host_name\":\"node-a\""));

    // protobuf, and a garbage body
    let req = argus_ingest::otlp::decode_request(body.to_string().as_bytes(), true).unwrap();
    let r = client()
        .post(a.url("/v1/metrics"))
        .header("Content-Type", "application/x-protobuf")
        .body(prost::Message::encode_to_vec(&req))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .post(a.url("/v1/metrics"))
        .header("Content-Type", "application/x-protobuf")
        .body(vec![0xff; 20])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}
