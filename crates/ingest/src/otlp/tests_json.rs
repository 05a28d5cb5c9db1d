//! Decoding tests: real OTLP/JSON bodies, protobuf, and malformed input.

use super::tests::{gauge, kv, point, request, T0};
use super::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AV;
use opentelemetry_proto::tonic::metrics::v1::exemplar;

/// The OTLP spec's own example, opentelemetry-proto `examples/metrics.json`
/// (timestamps as JSON numbers, delta temporality on the sum and histogram,
/// three bucket counts for one bound).
const SPEC_EXAMPLE: &str = r#"{
  "resourceMetrics": [
    {
      "resource": {
        "attributes": [
          { "key": "service.name", "value": { "stringValue": "my.service" } }
        ]
      },
      "scopeMetrics": [
        {
          "scope": {
            "name": "my.library",
            "version": "1.0.0",
            "attributes": [
              { "key": "my.scope.attribute", "value": { "stringValue": "some scope attribute" } }
            ]
          },
          "metrics": [
            {
              "name": "my.counter",
              "unit": "1",
              "description": "I`m a Counter",
              "sum": {
                "aggregationTemporality": 1,
                "isMonotonic": true,
                "dataPoints": [
                  {
                    "asDouble": 5,
                    "startTimeUnixNano": 1544712660300000000,
                    "timeUnixNano": 1544712660300000000,
                    "attributes": [
                      { "key": "my.counter.attr", "value": { "stringValue": "some value" } }
                    ]
                  }
                ]
              }
            },
            {
              "name": "my.gauge",
              "unit": "1",
              "description": "I`m a Gauge",
              "gauge": {
                "dataPoints": [
                  {
                    "asDouble": 10,
                    "timeUnixNano": 1544712660300000000,
                    "attributes": [
                      { "key": "my.gauge.attr", "value": { "stringValue": "some value" } }
                    ]
                  }
                ]
              }
            },
            {
              "name": "my.histogram",
              "unit": "1",
              "description": "I`m a Histogram",
              "histogram": {
                "aggregationTemporality": 1,
                "dataPoints": [
                  {
                    "startTimeUnixNano": 1544712660300000000,
                    "timeUnixNano": 1544712660300000000,
                    "count": 3,
                    "sum": 3,
                    "bucketCounts": [1,1,1],
                    "explicitBounds": [1],
                    "min": 1,
                    "max": 1,
                    "attributes": [
                      { "key": "my.histogram.attr", "value": { "stringValue": "some value" } }
                    ]
                  }
                ]
              }
            }
          ]
        }
      ]
    }
  ]
}"#;

/// What the OpenTelemetry Collector's pdata JSON marshaler (otlphttp exporter
/// with `encoding: json`, file exporter) writes: 64-bit integers as strings,
/// hex exemplar ids, `flags`, cumulative temporality as 2.
const COLLECTOR_BODY: &str = r#"{"resourceMetrics":[{"resource":{"attributes":[
 {"key":"service.name","value":{"stringValue":"checkout"}},
 {"key":"service.namespace","value":{"stringValue":"shop"}},
 {"key":"service.instance.id","value":{"stringValue":"627cc493-f310-47de-96bd-71410b7dec09"}},
 {"key":"telemetry.sdk.language","value":{"stringValue":"python"}},
 {"key":"process.pid","value":{"intValue":"4242"}},
 {"key":"host.arch","value":{"kvlistValue":{"values":[{"key":"name","value":{"stringValue":"amd64"}},{"key":"bits","value":{"intValue":"64"}}]}}}
]},"scopeMetrics":[{"scope":{"name":"opentelemetry.instrumentation.flask","version":"0.48b0"},"metrics":[
 {"name":"http.server.active_requests","description":"Number of active HTTP server requests.","unit":"{request}",
  "sum":{"dataPoints":[{"attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"url.scheme","value":{"stringValue":"http"}}],
   "startTimeUnixNano":"1718000000000000000","timeUnixNano":"1718000060000000000","asInt":"2"}],"aggregationTemporality":2}},
 {"name":"http.server.request.duration","description":"Duration of HTTP server requests.","unit":"s",
  "histogram":{"dataPoints":[{"attributes":[{"key":"http.route","value":{"stringValue":"/cart"}},{"key":"http.response.status_code","value":{"intValue":"200"}}],
   "startTimeUnixNano":"1718000000000000000","timeUnixNano":"1718000060000000000","count":"4","sum":0.5,
   "bucketCounts":["0","1","2","1","0"],"explicitBounds":[0.005,0.01,0.1,1],
   "exemplars":[{"filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}],"timeUnixNano":"1718000059000000000","asDouble":0.25,
     "spanId":"5FB397BE34D26B51","traceId":"5b8efff798038103d269b633813fc60c"}],
   "flags":0,"min":0.004,"max":0.3}],"aggregationTemporality":2}},
 {"name":"orders.placed","unit":"1","sum":{"dataPoints":[{"timeUnixNano":"1718000060000000000","asInt":17,
   "attributes":[{"key":"payment","value":{"boolValue":true}},{"key":"blob","value":{"bytesValue":"aGVsbG8="}}]}],
   "aggregationTemporality":2,"isMonotonic":true}},
 {"name":"cpu.temperature","unit":"Cel","gauge":{"dataPoints":[{"timeUnixNano":"1718000060000000000","asDouble":"Infinity"},
   {"timeUnixNano":"1718000061000000000","flags":1}]}}
]}]}]}"#;

fn sorted_series(c: &Converted) -> Vec<String> {
    let mut v: Vec<String> = c
        .series
        .iter()
        .map(|s| {
            format!(
                "{} {:?}",
                s.labels,
                s.samples.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>()
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn spec_example_json() {
    let req = decode_request(SPEC_EXAMPLE.as_bytes(), true).unwrap();
    let m = &req.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(m.len(), 3);
    let Some(Data::Histogram(h)) = &m[2].data else {
        panic!()
    };
    assert_eq!(h.data_points[0].time_unix_nano, 1_544_712_660_300_000_000);
    assert_eq!(h.data_points[0].bucket_counts, [1, 1, 1]);
    assert_eq!(h.data_points[0].sum, Some(3.0));
    let c = convert(&req, &OtlpOptions::default());
    // Only the gauge survives: the counter and histogram are delta.
    assert_eq!(
        sorted_series(&c),
        [
            r#"{__name__="my_gauge_ratio", job="my.service", my_gauge_attr="some value"} [(1544712660300, 10.0)]"#
        ]
    );
    let rejected: Vec<(&str, usize)> = c
        .rejected
        .iter()
        .map(|r| (r.metric.as_str(), r.points))
        .collect();
    assert_eq!(rejected, [("my.counter", 1), ("my.histogram", 1)]);
    assert_eq!(
        c.target_info, 0,
        "only service.name: nothing for target_info"
    );
}

#[test]
fn collector_json_body() {
    let req = decode_request(COLLECTOR_BODY.as_bytes(), true).unwrap();
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Histogram(h)) = &metrics[1].data else {
        panic!()
    };
    let p = &h.data_points[0];
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (4, Some(0.5), Some(0.004), Some(0.3))
    );
    let ex = &p.exemplars[0];
    assert_eq!(
        ex.trace_id,
        [
            0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f,
            0xc6, 0x0c
        ]
    );
    assert_eq!(ex.span_id, [0x5f, 0xb3, 0x97, 0xbe, 0x34, 0xd2, 0x6b, 0x51]);
    assert_eq!(ex.value, Some(exemplar::Value::AsDouble(0.25)));
    assert_eq!(ex.time_unix_nano, 1_718_000_059_000_000_000);
    let Some(Data::Sum(s)) = &metrics[2].data else {
        panic!()
    };
    assert_eq!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsInt(17))
    );
    let attr = &s.data_points[0].attributes[1];
    assert_eq!(
        attr.value.as_ref().unwrap().value,
        Some(AV::BytesValue(b"hello".to_vec()))
    );

    let c = convert(&req, &OtlpOptions::default());
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    let t = 1_718_000_060_000_i64;
    let id = r#"instance="627cc493-f310-47de-96bd-71410b7dec09", job="shop/checkout""#;
    let d = "http_server_request_duration_seconds";
    let r = r#"http_response_status_code="200", http_route="/cart""#;
    let want = [
        format!(
            r#"{{__name__="cpu_temperature_celsius", {id}}} [({t}, inf), ({}, NaN)]"#,
            t + 1000
        ),
        format!(
            r#"{{__name__="http_server_active_requests", http_request_method="GET", {id}, url_scheme="http"}} [({t}, 2.0)]"#
        ),
        format!(r#"{{__name__="{d}_bucket", {r}, {id}, le="+Inf"}} [({t}, 4.0)]"#),
        format!(r#"{{__name__="{d}_bucket", {r}, {id}, le="0.005"}} [({t}, 0.0)]"#),
        format!(r#"{{__name__="{d}_bucket", {r}, {id}, le="0.01"}} [({t}, 1.0)]"#),
        format!(r#"{{__name__="{d}_bucket", {r}, {id}, le="0.1"}} [({t}, 3.0)]"#),
        format!(r#"{{__name__="{d}_bucket", {r}, {id}, le="1"}} [({t}, 4.0)]"#),
        format!(r#"{{__name__="{d}_count", {r}, {id}}} [({t}, 4.0)]"#),
        format!(r#"{{__name__="{d}_sum", {r}, {id}}} [({t}, 0.5)]"#),
        format!(
            r#"{{__name__="orders_placed_total", blob="aGVsbG8=", {id}, payment="true"}} [({t}, 17.0)]"#
        ),
        format!(
            r#"{{__name__="target_info", host_arch="{{\"bits\":64,\"name\":\"amd64\"}}", {id}, process_pid="4242", telemetry_sdk_language="python"}} [({t}, 1.0), ({}, 1.0)]"#,
            t + 1000
        ),
    ];
    assert_eq!(sorted_series(&c), want);
    // The flags=1 point is Prometheus's staleness marker, not just any NaN.
    let temp = c
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some("cpu_temperature_celsius"))
        .unwrap();
    assert!(argus_model::is_stale_nan(temp.samples[1].v));
    assert_eq!(c.target_info, 1);
}

#[test]
fn json_spellings_pdata_accepts() {
    // snake_case keys, numbers as strings and strings as numbers, enum names,
    // "NaN"/"-Infinity" doubles, null as default, unknown fields ignored.
    let body = r#"{"resource_metrics":[{"scope_metrics":[{"metrics":[
      {"name":"a","sum":{"aggregation_temporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","is_monotonic":true,
        "data_points":[{"time_unix_nano":"1700000000000000000","as_double":"-Infinity","unknownField":{"x":[1]}}]}},
      {"name":"b","gauge":{"dataPoints":[{"timeUnixNano":1.7e18,"asDouble":"NaN","flags":"0","attributes":null}]}},
      {"name":"c","gauge":null,"summary":{"dataPoints":[{"timeUnixNano":"1700000000000000000","count":"3","sum":"1.5",
        "quantileValues":[{"quantile":"0.5","value":1},{"quantile":0.9}]}]}}
    ],"futureField":true}]}]}"#;
    let req = decode_request(body.as_bytes(), true).unwrap();
    let m = &req.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Sum(s)) = &m[0].data else {
        panic!()
    };
    assert_eq!(s.aggregation_temporality, 2);
    assert!(s.is_monotonic);
    assert_eq!(
        s.data_points[0].value,
        Some(number_data_point::Value::AsDouble(f64::NEG_INFINITY))
    );
    let Some(Data::Gauge(g)) = &m[1].data else {
        panic!()
    };
    assert_eq!(g.data_points[0].time_unix_nano, 1_700_000_000_000_000_000);
    let Some(Data::Summary(su)) = &m[2].data else {
        panic!()
    };
    assert_eq!((su.data_points[0].count, su.data_points[0].sum), (3, 1.5));
    assert_eq!(su.data_points[0].quantile_values[1].value, 0.0);
    let c = convert(&req, &OtlpOptions::default());
    assert!(c.rejected.is_empty());
    assert_eq!(c.series.len(), 1 + 1 + 4);
}

#[test]
fn json_errors_not_panics() {
    let cases = [
        ("", "EOF"),
        ("[]", "expected an object"),
        ("{\"resourceMetrics\":{}}", "expected an array"),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":true}]}}]}]}]}"#,
            "timeUnixNano",
        ),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"-1"}]}}]}]}]}"#,
            "timeUnixNano",
        ),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"flags":4294967296}]}}]}]}]}"#,
            "flags",
        ),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"exemplars":[{"traceId":"abc"}]}]}}]}]}]}"#,
            "traceId",
        ),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"exemplars":[{"spanId":"zz"}]}]}}]}]}]}"#,
            "spanId",
        ),
        (
            r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"***"}}]}}]}"#,
            "bytesValue",
        ),
        (
            r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":5}]}}]}"#,
            "key",
        ),
        (
            r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"s","sum":{"aggregationTemporality":"DELTA"}}]}]}]}"#,
            "aggregationTemporality",
        ),
    ];
    for (body, needle) in cases {
        match decode_request(body.as_bytes(), true) {
            Err(OtlpError::Json(msg)) => assert!(msg.contains(needle), "{body}: {msg}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    // An empty request and empty envelopes are fine.
    for body in [
        "{}",
        r#"{"resourceMetrics":[]}"#,
        r#"{"resourceMetrics":[{}]}"#,
        r#"{"resourceMetrics":null}"#,
    ] {
        let req = decode_request(body.as_bytes(), true).unwrap();
        assert_eq!(convert(&req, &OtlpOptions::default()), Converted::default());
    }
}

#[test]
fn opentelemetry_proto_serde_loses_otlp_json_data() {
    // Why `json.rs` exists: the crate's derive "succeeds" on both real bodies
    // but silently drops metrics: numeric `timeUnixNano` (the spec example) and
    // string `count` (pdata's JSON) fail inside the flattened `data` oneof,
    // which then becomes `None`. If this starts failing after an upgrade, the
    // workaround can be revisited.
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest as Req;
    let lost = |body: &str| -> Vec<String> {
        let req = serde_json::from_str::<Req>(body).unwrap();
        let metrics = req.resource_metrics.iter().flat_map(|r| &r.scope_metrics);
        let metrics = metrics.flat_map(|s| &s.metrics);
        metrics
            .filter(|m| m.data.is_none())
            .map(|m| m.name.clone())
            .collect()
    };
    assert_eq!(
        lost(SPEC_EXAMPLE),
        ["my.counter", "my.gauge", "my.histogram"]
    );
    assert_eq!(lost(COLLECTOR_BODY), ["http.server.request.duration"]);
}

#[test]
fn json_doubles_parse_exactly() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":
        {"dataPoints":[{"timeUnixNano":"1","asDouble":-968271.4613574003}]}}]}]}]}"#;
    let req = decode_request(body.as_bytes(), true).unwrap();
    let Some(Data::Gauge(g)) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    let want = "-968271.4613574003".parse::<f64>().unwrap();
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(want))
    );
}

#[test]
fn json_string_doubles_parse_exactly() {
    let body = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":
        {"dataPoints":[{"timeUnixNano":"1","asDouble":"-968271.4613574003"}]}}]}]}]}"#;
    let req = decode_request(body.as_bytes(), true).unwrap();
    let Some(Data::Gauge(g)) = &req.resource_metrics[0].scope_metrics[0].metrics[0].data else {
        panic!()
    };
    let want = "-968271.4613574003".parse::<f64>().unwrap();
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(want))
    );
}

#[test]
fn json_written_by_opentelemetry_proto_decodes_the_same() {
    let mut p = point(vec![kv("a", "b")], T0, 2.5);
    p.start_time_unix_nano = T0 - 1;
    p.flags = 1;
    let mut p2 = point(vec![], T0, 0.0);
    p2.value = Some(number_data_point::Value::AsInt(-3));
    let mut req = request(
        vec![kv("service.name", "x")],
        vec![gauge("g", "ms", vec![p, p2])],
    );
    req.resource_metrics[0].schema_url = "https://example.com/s".into();
    req.resource_metrics[0].scope_metrics[0].scope = Some(InstrumentationScope {
        name: "s".into(),
        version: "1".into(),
        ..Default::default()
    });
    let body = serde_json::to_vec(&req).unwrap();
    assert_eq!(decode_request(&body, true).unwrap(), req);
}

#[test]
fn protobuf_round_trip_and_garbage() {
    let req = request(
        vec![kv("service.name", "x")],
        vec![gauge("g", "", vec![point(vec![kv("a", "b")], T0, 1.0)])],
    );
    let body = prost::Message::encode_to_vec(&req);
    assert_eq!(decode_request(&body, false).unwrap(), req);
    assert_eq!(
        decode_request(&[], false).unwrap(),
        ExportMetricsServiceRequest::default()
    );
    for garbage in [
        &b"\xff\xff\xff\xff"[..],
        b"not protobuf at all",
        b"\x0a\x05\x0a\x03",
        &body[..body.len() - 3],
    ] {
        assert!(
            matches!(decode_request(garbage, false), Err(OtlpError::Protobuf(_))),
            "{garbage:?}"
        );
    }
    // JSON sent as protobuf, and protobuf sent as JSON.
    assert!(decode_request(SPEC_EXAMPLE.as_bytes(), false).is_err());
    assert!(decode_request(&body, true).is_err());
}
