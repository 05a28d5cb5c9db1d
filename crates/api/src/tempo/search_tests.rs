use super::*;
use crate::tempo::format::tests::sample_spans;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use prost::Message as _;

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

fn sample_search() -> SearchResponse {
    let spans = sample_spans();
    let root = &spans[0];
    let set = SpanSet {
        spans: vec![SearchSpan::new(
            root,
            &[argus_model::traces::Attr::new(
                "http.status_code",
                argus_model::traces::AttrValue::Int(200),
            )],
        )],
        matched: 1,
        attributes: Vec::new(),
    };
    let mut stats = BTreeMap::new();
    stats.insert(
        "checkout".to_string(),
        ServiceStats {
            span_count: 2,
            error_count: 1,
        },
    );
    SearchResponse::new(
        vec![TraceSearchMetadata {
            trace_id: trace_id_hex(&root.trace_id),
            root_service_name: root.origin.service.clone(),
            root_trace_name: root.name.clone(),
            start_time_unix_nano: 1_700_000_000_000_000_000,
            duration_ms: 1,
            span_set: Some(set.clone()),
            span_sets: vec![set],
            service_stats: stats,
        }],
        SearchMetrics {
            inspected_traces: 3,
            inspected_bytes: 4096,
            completed_jobs: 1,
            total_jobs: 1,
            ..SearchMetrics::default()
        },
    )
}

#[test]
fn search_ids_are_hex_as_tempo_writes_them() {
    // util.TraceIDToHexString trims leading zeros; SpanIDToHexString pads
    // to 16 digits.
    let mut t = [0u8; 16];
    t[15] = 0xab;
    t[14] = 0x01;
    assert_eq!(trace_id_hex(&t), "1ab");
    assert_eq!(trace_id_hex(&[0; 16]), "");
    assert_eq!(span_id_hex(&[0, 0, 0, 0, 0, 0, 0, 1]), "0000000000000001");
}

#[test]
fn search_json_is_jsonpb() {
    // SearchResponse / TraceSearchMetadata / SpanSet / Span of tempo.proto:
    // hex ids (string fields), uint64 as strings, uint32 as numbers.
    let want = concat!(
        r#"{"traces":[{"traceID":"102030405060708090a0b0c0d0e0f","#,
        r#""rootServiceName":"checkout","rootTraceName":"GET /","#,
        r#""startTimeUnixNano":"1700000000000000000","durationMs":1,"#,
        r#""spanSet":{"spans":[{"spanID":"0102030405060708","name":"GET /","#,
        r#""startTimeUnixNano":"1700000000000000000","durationNanos":"1500000","#,
        r#""attributes":[{"key":"http.status_code","value":{"intValue":"200"}}]}],"matched":1},"#,
        r#""spanSets":[{"spans":[{"spanID":"0102030405060708","name":"GET /","#,
        r#""startTimeUnixNano":"1700000000000000000","durationNanos":"1500000","#,
        r#""attributes":[{"key":"http.status_code","value":{"intValue":"200"}}]}],"matched":1}],"#,
        r#""serviceStats":{"checkout":{"spanCount":2,"errorCount":1}}}],"#,
        r#""metrics":{"inspectedTraces":3,"inspectedBytes":"4096","completedJobs":1,"totalJobs":1}}"#,
    );
    assert_eq!(sample_search().to_json(), want);
    // No traces: the frontend's list is made, not nil.
    assert_eq!(
        SearchResponse::new(Vec::new(), SearchMetrics::default()).to_json(),
        r#"{"traces":[],"metrics":{}}"#
    );
}

#[test]
fn search_protobuf_round_trips() {
    let r = sample_search();
    assert_eq!(
        SearchResponse::decode(r.to_protobuf().as_slice()).unwrap(),
        r
    );
}

#[test]
fn tag_answers() {
    let m = MetadataMetrics {
        inspected_bytes: 10,
        total_jobs: 2,
        completed_jobs: 2,
        ..MetadataMetrics::default()
    };
    assert_eq!(
        SearchTagsResponse::new(vec!["http.method".into(), "k8s<x>".into()], m.clone()).to_json(),
        r#"{"tagNames":["http.method","k8s\u003cx\u003e"],"metrics":{"inspectedBytes":"10","totalJobs":2,"completedJobs":2}}"#
    );
    assert_eq!(
        SearchTagsResponse::new(Vec::new(), MetadataMetrics::default()).to_json(),
        r#"{"tagNames":[],"metrics":{}}"#
    );
    let v2 = SearchTagsV2Response::new(
        vec![
            SearchTagsV2Scope {
                name: "span".into(),
                tags: vec!["a".into()],
            },
            SearchTagsV2Scope {
                name: "intrinsic".into(),
                tags: vec!["duration".into(), "name".into()],
            },
        ],
        MetadataMetrics::default(),
    );
    assert_eq!(
        v2.to_json(),
        r#"{"scopes":[{"name":"span","tags":["a"]},{"name":"intrinsic","tags":["duration","name"]}],"metrics":{}}"#
    );
    assert_eq!(
        SearchTagValuesResponse::new(vec!["x".into()], MetadataMetrics::default()).to_json(),
        r#"{"tagValues":["x"],"metrics":{}}"#
    );
    let v2 = SearchTagValuesV2Response::new(
        vec![
            TagValue {
                r#type: "string".into(),
                value: "checkout".into(),
            },
            TagValue {
                r#type: "int".into(),
                value: "200".into(),
            },
        ],
        MetadataMetrics::default(),
    );
    assert_eq!(
        v2.to_json(),
        r#"{"tagValues":[{"type":"string","value":"checkout"},{"type":"int","value":"200"}],"metrics":{}}"#
    );
    let back = SearchTagValuesV2Response::decode(v2.to_protobuf().as_slice()).unwrap();
    assert_eq!(back, v2);
}

#[test]
fn query_range_json() {
    use any_value::Value as V;
    let mut r = QueryRangeResponse::new(
        vec![TimeSeries {
            labels: vec![
                kv("__name__", V::StringValue("rate".into())),
                kv("span.http.status_code", V::IntValue(500)),
            ],
            // A zero value is left out (jsonpb, double 0).
            samples: vec![
                Sample {
                    timestamp_ms: 1_700_000_000_000,
                    value: 0.0,
                },
                Sample {
                    timestamp_ms: 1_700_000_060_000,
                    value: 2.5,
                },
                Sample {
                    timestamp_ms: 1_700_000_120_000,
                    value: f64::NAN,
                },
            ],
            exemplars: vec![Exemplar {
                labels: vec![kv("trace:id", V::StringValue("abc".into()))],
                value: 3.0,
                timestamp_ms: 1_700_000_000_500,
            }],
        }],
        SearchMetrics {
            inspected_spans: 9,
            ..SearchMetrics::default()
        },
    );
    let want = concat!(
        r#"{"series":[{"labels":[{"key":"__name__","value":{"stringValue":"rate"}},"#,
        r#"{"key":"span.http.status_code","value":{"intValue":"500"}}],"#,
        r#""samples":[{"timestampMs":"1700000000000"},{"timestampMs":"1700000060000","value":2.5},"#,
        r#"{"timestampMs":"1700000120000","value":"NaN"}],"#,
        r#""exemplars":[{"labels":[{"key":"trace:id","value":{"stringValue":"abc"}}],"#,
        r#""value":3,"timestampMs":"1700000000500"}]}],"#,
        r#""metrics":{"inspectedSpans":"9"}}"#,
    );
    assert_eq!(r.to_json(), want);
    r.series.clear();
    r.status = PartialStatus::Partial as i32;
    r.message = "Response exceeds maximum series limit".into();
    assert_eq!(
        r.to_json(),
        r#"{"series":[],"metrics":{"inspectedSpans":"9"},"status":"PARTIAL","message":"Response exceeds maximum series limit"}"#
    );
    // Sample's tags are swapped (value = 1, timestamp_ms = 2).
    let s = Sample {
        timestamp_ms: 1,
        value: 0.5,
    };
    assert_eq!(
        s.encode_to_vec(),
        [0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x10, 0x01]
    );
}

#[test]
fn query_instant_json() {
    let r = QueryInstantResponse::new(
        vec![InstantSeries {
            labels: vec![kv(
                "resource.service.name",
                any_value::Value::StringValue("a".into()),
            )],
            value: 12.0,
        }],
        SearchMetrics::default(),
    );
    assert_eq!(
        r.to_json(),
        r#"{"series":[{"labels":[{"key":"resource.service.name","value":{"stringValue":"a"}}],"value":12}],"metrics":{}}"#
    );
    let back = QueryInstantResponse::decode(r.to_protobuf().as_slice()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn buildinfo_json() {
    let b = BuildInfo {
        version: "2.9.0".into(),
        revision: "abc".into(),
        branch: "main".into(),
        build_user: String::new(),
        build_date: String::new(),
        go_version: "rust".into(),
    };
    assert_eq!(
        b.to_json(),
        "{\"version\":\"2.9.0\",\"revision\":\"abc\",\"branch\":\"main\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"rust\"}\n"
    );
}
