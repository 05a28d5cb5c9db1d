//! OTLP traces: decoding (protobuf, JSON) and the mapping to spans.

use super::tests::{kv, kv_val};
use super::traces::*;
use argus_model::traces::{hex_id, Attr, AttrValue, SpanKind, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AV;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use proptest::prelude::*;

fn span(trace: u8, id: u8, parent: Option<u8>) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("op-{id}"),
        kind: 2,
        start_time_unix_nano: 1_000,
        end_time_unix_nano: 3_500,
        ..Default::default()
    }
}

fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service), kv("host.name", "h1")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "io.opentelemetry.http".into(),
                    version: "1.2".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn protobuf_spans_keep_every_field_and_type() {
    let mut s = span(7, 1, Some(9));
    s.attributes = vec![
        kv("http.method", "GET"),
        kv_val("http.status_code", AV::IntValue(503)),
        kv_val("ratio", AV::DoubleValue(0.5)),
        kv_val("cached", AV::BoolValue(false)),
        kv_val(
            "tags",
            AV::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(AV::StringValue("a".into())),
                }],
            }),
        ),
        kv_val(
            "nested",
            AV::KvlistValue(KeyValueList {
                values: vec![kv_val("n", AV::IntValue(1))],
            }),
        ),
    ];
    s.events = vec![span::Event {
        time_unix_nano: 2_000,
        name: "exception".into(),
        attributes: vec![kv("exception.message", "boom")],
        dropped_attributes_count: 1,
    }];
    s.links = vec![span::Link {
        trace_id: vec![8; 16],
        span_id: vec![2; 8],
        trace_state: "k=v".into(),
        ..Default::default()
    }];
    s.status = Some(Status {
        message: "upstream failed".into(),
        code: 2,
    });
    let body = prost::Message::encode_to_vec(&request("checkout", vec![s, span(7, 2, None)]));
    let req = decode_traces_request(&body, false).unwrap();
    let c = convert_traces(&req);
    assert!(c.rejected.is_empty());
    assert_eq!(c.spans.len(), 2);
    let s = &c.spans[0];
    assert_eq!(hex_id(&s.trace_id), "07".repeat(16));
    assert_eq!(s.parent_span_id, Some([9; 8]));
    assert_eq!((s.name.as_str(), s.kind), ("op-1", SpanKind::Server));
    assert_eq!(
        (s.start_ns, s.end_ns, s.duration_ns()),
        (1_000, 3_500, 2_500)
    );
    assert_eq!(
        (s.status, s.status_message.as_str()),
        (StatusCode::Error, "upstream failed")
    );
    assert_eq!(
        s.attrs,
        vec![
            Attr::str("http.method", "GET"),
            Attr::new("http.status_code", AttrValue::Int(503)),
            Attr::new("ratio", AttrValue::Float(0.5)),
            Attr::new("cached", AttrValue::Bool(false)),
            Attr::new("tags", AttrValue::Array(vec![AttrValue::Str("a".into())])),
            Attr::new(
                "nested",
                AttrValue::Map(vec![Attr::new("n", AttrValue::Int(1))])
            ),
        ]
    );
    assert_eq!(s.events.len(), 1);
    assert_eq!(
        (
            s.events[0].ts_ns,
            s.events[0].name.as_str(),
            s.events[0].dropped_attrs
        ),
        (2_000, "exception", 1)
    );
    assert_eq!((s.links[0].trace_id, s.links[0].span_id), ([8; 16], [2; 8]));
    assert_eq!(s.links[0].trace_state, "k=v");
    // One origin shared by the spans of a resource and scope.
    assert!(std::sync::Arc::ptr_eq(&s.origin, &c.spans[1].origin));
    assert_eq!(s.origin.service, "checkout");
    assert_eq!(s.origin.scope_name, "io.opentelemetry.http");
    assert_eq!(s.origin.scope_version, "1.2");
    assert_eq!(s.origin.resource[1], Attr::str("host.name", "h1"));
    assert_eq!(c.spans[1].parent_span_id, None);
}

#[test]
fn invalid_ids_refuse_their_span_and_keep_the_rest() {
    let mut zero_trace = span(0, 1, None);
    zero_trace.trace_id = vec![0; 16];
    let mut short_trace = span(1, 1, None);
    short_trace.trace_id = vec![1; 8];
    let mut zero_span = span(1, 0, None);
    zero_span.span_id = vec![0; 8];
    let mut odd_parent = span(1, 3, None);
    odd_parent.parent_span_id = vec![1; 3];
    let mut zero_parent = span(1, 4, None);
    zero_parent.parent_span_id = vec![0; 8];
    let mut bad_link = span(1, 5, None);
    bad_link.links = vec![span::Link {
        trace_id: vec![1; 4],
        span_id: vec![1; 8],
        ..Default::default()
    }];
    let req = request(
        "svc",
        vec![
            zero_trace,
            short_trace,
            zero_span,
            odd_parent,
            zero_parent,
            bad_link,
            span(1, 6, Some(4)),
        ],
    );
    let c = convert_traces(&req);
    let kept: Vec<u8> = c.spans.iter().map(|s| s.span_id[0]).collect();
    assert_eq!(kept, vec![4, 6]);
    // An all-zero parent is no parent.
    assert_eq!(c.spans[0].parent_span_id, None);
    assert_eq!(c.rejected_spans(), 5);
    let reasons: Vec<&str> = c.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "invalid trace id: all zero",
            "invalid trace id: 8 bytes, want 16",
            "invalid span id: all zero",
            "invalid parent span id: 3 bytes, want 8",
            "invalid link trace id: 4 bytes, want 16",
        ]
    );
}

#[test]
fn json_spans_as_the_otlp_spec_writes_them() {
    // The OTLP spec's example (examples/trace.json), with enums by name
    // and a 64-bit time as a number.
    let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
      "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
      "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
        "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
        "kind":"SPAN_KIND_CLIENT","attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}},{"key":"n","value":{"intValue":"42"}}],
        "status":{"code":1}}]}]}]}"#;
    let c = convert_traces(&decode_traces_request(body, true).unwrap());
    assert_eq!(c.spans.len(), 1);
    let s = &c.spans[0];
    assert_eq!(hex_id(&s.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(hex_id(&s.span_id), "eee19b7ec3c1b174");
    assert_eq!(
        s.parent_span_id.map(|p| hex_id(&p)).as_deref(),
        Some("eee19b7ec3c1b173")
    );
    assert_eq!(s.kind, SpanKind::Client);
    assert_eq!(s.status, StatusCode::Ok);
    assert_eq!(s.duration_ns(), 1_000_000_000);
    assert_eq!(s.attrs[1], Attr::new("n", AttrValue::Int(42)));
    assert_eq!(s.origin.service, "my.service");
    assert_eq!(
        s.origin.scope_attrs,
        vec![Attr::str("my.scope.attribute", "some scope attribute")]
    );
}

#[test]
fn bad_json_names_the_problem() {
    for (body, want) in [
        (
            &br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz1"}]}]}]}"#[..],
            "traceId",
        ),
        (
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}"#,
            "startTimeUnixNano",
        ),
        (br#"{"resourceSpans":3}"#, "resourceSpans"),
        (br#"{"#, "EOF"),
    ] {
        let e = decode_traces_request(body, true).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

proptest! {
    #[test]
    fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for json in [false, true] {
            if let Ok(req) = decode_traces_request(&body, json) {
                let c = convert_traces(&req);
                let total: usize = req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len()).sum();
                prop_assert_eq!(c.spans.len() + c.rejected_spans(), total);
            }
        }
    }
}

fn model_span(
    origin: &std::sync::Arc<argus_model::traces::SpanOrigin>,
    (id, parent, start, dur, kind, status): (u8, Option<u8>, u32, u32, i32, i32),
    attrs: Vec<(String, i64, bool)>,
) -> argus_model::traces::Span {
    use argus_model::traces::{SpanEvent, SpanLink};
    argus_model::traces::Span {
        origin: origin.clone(),
        trace_id: [id | 1; 16],
        span_id: [id | 1; 8],
        parent_span_id: parent.map(|p| [p | 1; 8]),
        name: format!("op-{id}"),
        kind: SpanKind::from_i32(kind),
        start_ns: i64::from(start),
        end_ns: i64::from(start) + i64::from(dur),
        attrs: attrs
            .iter()
            .flat_map(|(k, i, b)| {
                [
                    Attr::str(k.clone(), k.clone()),
                    Attr::new(format!("{k}.n"), AttrValue::Int(*i)),
                    Attr::new(
                        format!("{k}.list"),
                        AttrValue::Array(vec![AttrValue::Bool(*b), AttrValue::Float(0.25)]),
                    ),
                ]
            })
            .collect(),
        events: vec![SpanEvent {
            ts_ns: i64::from(start) + 1,
            name: "e".into(),
            attrs: vec![Attr::new("m", AttrValue::Map(vec![Attr::str("a", "b")]))],
            dropped_attrs: 2,
        }],
        links: vec![SpanLink {
            trace_id: [3; 16],
            span_id: [4; 8],
            trace_state: "t".into(),
            attrs: vec![Attr::new("bytes", AttrValue::Bytes(vec![1, 2]))],
            dropped_attrs: 1,
            flags: 1,
        }],
        status: StatusCode::from_i32(status),
        status_message: if status == 2 {
            "bad".into()
        } else {
            String::new()
        },
        dropped_attrs: 3,
        dropped_events: 4,
        dropped_links: 5,
        trace_state: "k=v".into(),
        flags: 1,
    }
}

proptest! {
    /// Spans encoded as OTLP (what the Tempo API answers) convert back to
    /// the same spans.
    #[test]
    fn spans_encode_to_otlp_and_back(
        spans in proptest::collection::vec(
            (
                0usize..2,
                (any::<u8>(), proptest::option::of(any::<u8>()), any::<u32>(), any::<u32>(), 0i32..6, 0i32..3),
                proptest::collection::vec(("[a-z.]{1,8}", any::<i64>(), any::<bool>()), 0..3),
            ),
            0..8,
        )
    ) {
        use argus_model::traces::SpanOrigin;
        use std::sync::Arc;
        let mut a = SpanOrigin::new(vec![Attr::str("service.name", "checkout"), Attr::new("pid", AttrValue::Int(9))]);
        a.scope_name = "lib".into();
        a.scope_version = "1".into();
        a.scope_attrs = vec![Attr::new("x", AttrValue::Bool(true))];
        let origins = [Arc::new(a), Arc::new(SpanOrigin::new(vec![Attr::str("service.name", "db")]))];
        let spans: Vec<_> = spans
            .into_iter()
            .map(|(o, fields, attrs)| model_span(&origins[o], fields, attrs))
            .collect();
        let req = ExportTraceServiceRequest { resource_spans: encode_resource_spans(&spans) };
        let body = prost::Message::encode_to_vec(&req);
        let back = convert_traces(&decode_traces_request(&body, false).unwrap());
        prop_assert!(back.rejected.is_empty(), "{:?}", back.rejected);
        prop_assert_eq!(back.spans, spans);
    }
}
