//! OTLP logs: decoding (protobuf, JSON) and the mapping to Loki streams.

use super::logs::*;
use super::tests::{kv, kv_val};
use argus_model::{Labels, LogEntry};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AV;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;

const NOW: i64 = 42;

fn record(ts: u64, body: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: ts,
        body: Some(AnyValue {
            value: Some(AV::StringValue(body.into())),
        }),
        ..Default::default()
    }
}

fn request(
    res: Vec<KeyValue>,
    scope: Option<InstrumentationScope>,
    recs: Vec<LogRecord>,
) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: res,
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope,
                log_records: recs,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn kv_val_none(key: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: None,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn resource_attributes_split_into_labels_and_metadata() {
    let req = request(
        vec![
            kv("service.name", "checkout"),
            kv("k8s.namespace.name", "shop"),
            kv("deployment.environment.name", "prod"),
            kv("host.name", "node-1"),
            kv("k8s.pod.name", ""),
        ],
        Some(InstrumentationScope {
            name: "my.lib".into(),
            version: "1.2".into(),
            attributes: vec![kv("scope.attr", "s")],
            dropped_attributes_count: 3,
        }),
        vec![LogRecord {
            time_unix_nano: 100,
            observed_time_unix_nano: 200,
            severity_number: 9,
            severity_text: "INFO".into(),
            attributes: vec![kv("http.method", "GET"), kv("1st", "x"), kv("_x", "y")],
            dropped_attributes_count: 1,
            flags: 1,
            trace_id: vec![
                0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80,
                0x31, 0x9c,
            ],
            span_id: vec![0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31],
            body: Some(AnyValue {
                value: Some(AV::StringValue("hello\nworld".into())),
            }),
            event_name: String::new(),
        }],
    );
    let got = convert_logs(&req, NOW);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].labels,
        labels(&[
            ("service_name", "checkout"),
            ("k8s_namespace_name", "shop"),
            ("deployment_environment_name", "prod"),
        ])
    );
    assert_eq!(
        got[0].entries,
        vec![LogEntry {
            ts_ns: 100,
            line: "hello\nworld".into(),
            metadata: meta(&[
                ("http_method", "GET"),
                ("key_1st", "x"),
                ("key_x", "y"),
                ("observed_timestamp", "200"),
                ("severity_number", "9"),
                ("severity_text", "INFO"),
                ("dropped_attributes_count", "1"),
                ("flags", "1"),
                ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
                ("span_id", "b7ad6b7169203331"),
                ("host_name", "node-1"),
                ("scope_attr", "s"),
                ("scope_name", "my.lib"),
                ("scope_version", "1.2"),
                ("scope_dropped_attributes_count", "3"),
            ]),
        }]
    );
}

#[test]
fn service_name_discovery() {
    let name = |res: Vec<KeyValue>| {
        let got = convert_logs(&request(res, None, vec![record(1, "x")]), NOW);
        got[0].labels.get("service_name").map(str::to_string)
    };
    assert_eq!(name(vec![]), Some(UNKNOWN_SERVICE.into()));
    assert_eq!(
        name(vec![kv("service.name", "")]),
        Some(UNKNOWN_SERVICE.into())
    );
    assert_eq!(name(vec![kv("service.name", "a")]), Some("a".into()));
    // Derived from the first index label, in attribute order, that is in the list.
    assert_eq!(
        name(vec![
            kv("k8s.deployment.name", "dep"),
            kv("k8s.job.name", "job"),
            kv("k8s.container.name", "ctr"),
        ]),
        Some("job".into())
    );
    assert_eq!(
        name(vec![kv("container.name", "c"), kv("k8s.job.name", "j")]),
        Some("c".into())
    );
    // An empty candidate (a value without a kind, found by the `otlp_logs`
    // fuzz target) is skipped: no stream is left without a service_name.
    assert_eq!(
        name(vec![kv_val_none("container.name")]),
        Some(UNKNOWN_SERVICE.into())
    );
    assert_eq!(
        name(vec![kv("container.name", ""), kv("k8s.job.name", "j")]),
        Some("j".into())
    );
    // A repeated service.name: the last one set wins, and an empty one
    // leaves the stream to discovery (found by the `otlp_logs` fuzz target).
    assert_eq!(
        name(vec![kv("service.name", "a"), kv("service.name", "b")]),
        Some("b".into())
    );
    assert_eq!(
        name(vec![kv("service.name", "a"), kv_val_none("service.name")]),
        Some(UNKNOWN_SERVICE.into())
    );
    assert_eq!(
        name(vec![
            kv("service.name", "a"),
            kv("k8s.job.name", "j"),
            kv("service.name", ""),
        ]),
        Some("j".into())
    );
    // Only index labels take part: a non-indexed `app` attribute does not.
    assert_eq!(name(vec![kv("app", "x")]), Some(UNKNOWN_SERVICE.into()));
    // An explicit service.name wins over discovery, wherever it is.
    assert_eq!(
        name(vec![kv("k8s.job.name", "j"), kv("service.name", "svc")]),
        Some("svc".into())
    );
    // service.name given as an int still counts (AsString).
    assert_eq!(
        name(vec![kv_val("service.name", AV::IntValue(7))]),
        Some("7".into())
    );
}

#[test]
fn body_kinds_and_attribute_values() {
    let body = |v: Option<AV>| {
        let mut r = record(1, "");
        r.body = v.map(|value| AnyValue { value: Some(value) });
        convert_logs(&request(vec![], None, vec![r]), NOW)[0].entries[0]
            .line
            .clone()
    };
    assert_eq!(body(None), "");
    assert_eq!(body(Some(AV::StringValue("s".into()))), "s");
    assert_eq!(body(Some(AV::IntValue(-3))), "-3");
    assert_eq!(body(Some(AV::BoolValue(true))), "true");
    assert_eq!(body(Some(AV::DoubleValue(1.5))), "1.5");
    assert_eq!(body(Some(AV::BytesValue(vec![1, 2, 3]))), "AQID");
    let map = AV::KvlistValue(KeyValueList {
        values: vec![kv("b", "2"), kv_val("a", AV::IntValue(1))],
    });
    assert_eq!(body(Some(map.clone())), r#"{"a":1,"b":"2"}"#);
    let arr = AV::ArrayValue(ArrayValue {
        values: vec![
            AnyValue {
                value: Some(AV::StringValue("x".into())),
            },
            AnyValue {
                value: Some(AV::IntValue(2)),
            },
        ],
    });
    assert_eq!(body(Some(arr.clone())), r#"["x",2]"#);

    // Attributes: maps flatten with `_`, arrays are JSON.
    let nested = AV::KvlistValue(KeyValueList {
        values: vec![kv("method", "GET"), kv_val("inner", map)],
    });
    let mut r = record(1, "l");
    r.attributes = vec![
        kv_val("http", nested),
        kv_val("tags", arr),
        kv_val("ok", AV::BoolValue(false)),
    ];
    let got = convert_logs(&request(vec![], None, vec![r]), NOW);
    assert_eq!(
        got[0].entries[0].metadata,
        meta(&[
            ("http_method", "GET"),
            ("http_inner_b", "2"),
            ("http_inner_a", "1"),
            ("tags", r#"["x",2]"#),
            ("ok", "false"),
        ])
    );
}

#[test]
fn timestamps_and_zero_ids() {
    let mut a = record(0, "observed only");
    a.observed_time_unix_nano = 7;
    let b = record(0, "neither");
    let mut c = record(u64::MAX, "too far");
    c.trace_id = vec![0; 16];
    c.span_id = vec![];
    let got = convert_logs(&request(vec![], None, vec![a, b, c]), NOW);
    let e = &got[0].entries;
    assert_eq!((e[0].ts_ns, e[0].metadata.clone()), (7, vec![]));
    assert_eq!((e[1].ts_ns, e[1].metadata.clone()), (NOW, vec![]));
    assert_eq!((e[2].ts_ns, e[2].metadata.clone()), (i64::MAX, vec![]));
}

#[test]
fn resources_with_the_same_labels_share_a_stream() {
    let mut req = request(
        vec![kv("service.name", "a"), kv("host.name", "h1")],
        None,
        vec![record(1, "1")],
    );
    let r2 = request(vec![kv("service.name", "b")], None, vec![record(2, "2")]);
    let r3 = request(
        vec![kv("service.name", "a"), kv("host.name", "h2")],
        None,
        vec![record(3, "3")],
    );
    let empty = request(vec![kv("service.name", "c")], None, vec![]);
    req.resource_logs.extend(r2.resource_logs);
    req.resource_logs.extend(r3.resource_logs);
    req.resource_logs.extend(empty.resource_logs);
    let got = convert_logs(&req, NOW);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].labels, labels(&[("service_name", "a")]));
    let lines: Vec<_> = got[0].entries.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(lines, ["1", "3"]);
    assert_eq!(got[0].entries[1].metadata, meta(&[("host_name", "h2")]));
    assert_eq!(got[1].labels, labels(&[("service_name", "b")]));
}

const JSON: &str = r#"{
  "resourceLogs": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "my.service"}},
      {"key": "k8s.pod.name", "value": {"stringValue": "pod-1"}},
      {"key": "host.arch", "value": {"stringValue": "amd64"}}
    ]},
    "scopeLogs": [{
      "scope": {"name": "my.library", "version": "1.0.0"},
      "logRecords": [{
        "timeUnixNano": "1544712660300000000",
        "observedTimeUnixNano": 1544712660300000001,
        "severityNumber": 10,
        "severityText": "Information",
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "body": {"stringValue": "Example log record"},
        "attributes": [
          {"key": "string.attribute", "value": {"stringValue": "some string"}},
          {"key": "int.attribute", "value": {"intValue": "10"}},
          {"key": "double.attribute", "value": {"doubleValue": 637.704}},
          {"key": "array.attribute", "value": {"arrayValue": {"values": [{"stringValue": "many"}, {"stringValue": "values"}]}}},
          {"key": "map.attribute", "value": {"kvlistValue": {"values": [{"key": "some.map.key", "value": {"stringValue": "some value"}}]}}}
        ]
      }, {
        "timeUnixNano": 1,
        "severityNumber": "SEVERITY_NUMBER_ERROR",
        "body": {"kvlistValue": {"values": [{"key": "msg", "value": {"stringValue": "boom"}}]}}
      }]
    }]
  }]
}"#;

#[test]
fn json_and_protobuf_decode_the_same() {
    let req = decode_logs_request(JSON.as_bytes(), true).unwrap();
    let pb = prost::Message::encode_to_vec(&req);
    assert_eq!(decode_logs_request(&pb, false).unwrap(), req);

    let got = convert_logs(&req, NOW);
    assert_eq!(
        got[0].labels,
        labels(&[("service_name", "my.service"), ("k8s_pod_name", "pod-1")])
    );
    let e = &got[0].entries;
    assert_eq!(e[0].ts_ns, 1_544_712_660_300_000_000);
    assert_eq!(e[0].line, "Example log record");
    assert_eq!(
        e[0].metadata,
        meta(&[
            ("string_attribute", "some string"),
            ("int_attribute", "10"),
            ("double_attribute", "637.704"),
            ("array_attribute", r#"["many","values"]"#),
            ("map_attribute_some_map_key", "some value"),
            ("observed_timestamp", "1544712660300000001"),
            ("severity_number", "10"),
            ("severity_text", "Information"),
            ("trace_id", "5b8efff798038103d269b633813fc60c"),
            ("span_id", "eee19b7ec3c1b174"),
            ("host_arch", "amd64"),
            ("scope_name", "my.library"),
            ("scope_version", "1.0.0"),
        ])
    );
    assert_eq!(e[1].line, r#"{"msg":"boom"}"#);
    assert_eq!(
        e[1].metadata,
        meta(&[
            ("severity_number", "17"),
            ("host_arch", "amd64"),
            ("scope_name", "my.library"),
            ("scope_version", "1.0.0")
        ])
    );
}

#[test]
fn decode_errors_name_the_problem() {
    let cases: &[(&str, &str)] = &[
        ("", "EOF while parsing"),
        (
            r#"{"resourceLogs": {}}"#,
            "resourceLogs: expected an array, got an object",
        ),
        (
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]}"#,
            "timeUnixNano: expected an unsigned 64-bit integer",
        ),
        (
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyz"}]}]}]}"#,
            "traceId: odd-length hex string",
        ),
        (
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": "LOUD"}]}]}]}"#,
            "severityNumber: expected a 32-bit integer",
        ),
    ];
    for (input, want) in cases {
        let e = decode_logs_request(input.as_bytes(), true).unwrap_err();
        assert!(e.to_string().contains(want), "{input}: {e}");
    }
    let e = decode_logs_request(b"\x0a\xff", false).unwrap_err();
    assert!(
        e.to_string().starts_with("invalid OTLP protobuf body"),
        "{e}"
    );
}

#[test]
fn normalize_label_like_prometheus() {
    for (k, want) in [
        ("service.name", "service_name"),
        ("a-b/c", "a_b_c"),
        ("1x", "key_1x"),
        ("_x", "key_x"),
        ("__x", "__x"),
        ("ü", "key_"),
        ("", ""),
    ] {
        assert_eq!(normalize_label(k), want, "{k}");
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(req) = decode_logs_request(&raw, false) {
            let _ = convert_logs(&req, NOW);
        }
        if let Ok(req) = decode_logs_request(&raw, true) {
            let _ = convert_logs(&req, NOW);
        }
    }

    #[test]
    fn random_json_never_panics(s in r#"[\[\]{}",:0-9a-zA-Z ]{0,80}"#) {
        let body = format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{s}]}}]}}]}}"#);
        if let Ok(req) = decode_logs_request(body.as_bytes(), true) {
            let _ = convert_logs(&req, NOW);
        }
    }
}
