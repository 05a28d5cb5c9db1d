use super::*;
use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanKind, SpanLink, SpanOrigin, StatusCode,
};
use prost::Message as _;
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000_000_000;

/// Two spans of one origin: a server root and a failed client child with
/// an event and a link.
pub(crate) fn sample_spans() -> Vec<Span> {
    let mut origin = SpanOrigin::new(vec![
        Attr::str("service.name", "checkout"),
        Attr::str("host", "a<b"),
    ]);
    origin.scope_name = "lib".into();
    origin.scope_version = "1.0".into();
    let origin = Arc::new(origin);
    let trace_id: [u8; 16] = std::array::from_fn(|i| i as u8);
    let root = Span {
        origin: origin.clone(),
        trace_id,
        span_id: [1, 2, 3, 4, 5, 6, 7, 8],
        name: "GET /".into(),
        kind: SpanKind::Server,
        start_ns: T0,
        end_ns: T0 + 1_500_000,
        attrs: vec![
            Attr::new("http.status_code", AttrValue::Int(200)),
            Attr::new("ratio", AttrValue::Float(0.25)),
        ],
        ..Span::default()
    };
    let child = Span {
        origin,
        trace_id,
        span_id: [9, 10, 11, 12, 13, 14, 15, 16],
        parent_span_id: Some(root.span_id),
        name: "db".into(),
        kind: SpanKind::Client,
        start_ns: T0 + 100,
        end_ns: T0 + 300,
        events: vec![SpanEvent {
            ts_ns: T0 + 150,
            name: "retry".into(),
            attrs: vec![Attr::new("attempt", AttrValue::Int(2))],
            dropped_attrs: 0,
        }],
        links: vec![SpanLink {
            trace_id: [0xff; 16],
            span_id: [0xaa; 8],
            ..SpanLink::default()
        }],
        status: StatusCode::Error,
        status_message: "boom".into(),
        ..Span::default()
    };
    vec![root, child]
}

// Hand-written from jsonpb's rules (see the module docs): base64 ids
// (bytes 0..15 = "AAECAwQFBgcICQoLDA0ODw=="), quoted fixed64 times, kind and
// code by name, `"status":{}` for an unset status, no `parentSpanId` on the
// root, `<` escaped as Go escapes it.
const RESOURCE_SPANS: &str = concat!(
    r#"[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},"#,
    r#"{"key":"host","value":{"stringValue":"a\u003cb"}}]},"#,
    r#""scopeSpans":[{"scope":{"name":"lib","version":"1.0"},"spans":["#,
    r#"{"traceId":"AAECAwQFBgcICQoLDA0ODw==","spanId":"AQIDBAUGBwg=","name":"GET /","#,
    r#""kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1700000000000000000","#,
    r#""endTimeUnixNano":"1700000000001500000","attributes":["#,
    r#"{"key":"http.status_code","value":{"intValue":"200"}},"#,
    r#"{"key":"ratio","value":{"doubleValue":0.25}}],"status":{}},"#,
    r#"{"traceId":"AAECAwQFBgcICQoLDA0ODw==","spanId":"CQoLDA0ODxA=","#,
    r#""parentSpanId":"AQIDBAUGBwg=","name":"db","kind":"SPAN_KIND_CLIENT","#,
    r#""startTimeUnixNano":"1700000000000000100","endTimeUnixNano":"1700000000000000300","#,
    r#""events":[{"timeUnixNano":"1700000000000000150","name":"retry","#,
    r#""attributes":[{"key":"attempt","value":{"intValue":"2"}}]}],"#,
    r#""links":[{"traceId":"/////////////////////w==","spanId":"qqqqqqqqqqo="}],"#,
    r#""status":{"message":"boom","code":"STATUS_CODE_ERROR"}}]}]}]"#,
);

#[test]
fn v1_json_names_the_list_batches() {
    let t = trace(&sample_spans());
    assert_eq!(t.to_json_v1(), format!(r#"{{"batches":{RESOURCE_SPANS}}}"#));
    assert_eq!(
        t.to_json(),
        format!(r#"{{"resourceSpans":{RESOURCE_SPANS}}}"#)
    );
    // An empty trace: jsonpb leaves the nil list out.
    assert_eq!(trace(&[]).to_json_v1(), "{}");
}

#[test]
fn v2_json_wraps_trace_and_metrics() {
    let t = trace(&sample_spans());
    let resp = TraceByIdResponse::new(
        t,
        TraceByIdMetrics {
            inspected_bytes: 1234,
            ..TraceByIdMetrics::default()
        },
    );
    // COMPLETE (0) is left out; uint64 counters are quoted.
    assert_eq!(
        resp.to_json(),
        format!(
            r#"{{"trace":{{"resourceSpans":{RESOURCE_SPANS}}},"metrics":{{"inspectedBytes":"1234"}}}}"#
        )
    );
    let empty = TraceByIdResponse::new(Trace::default(), TraceByIdMetrics::default())
        .partial("Trace exceeds maximum size of 10 bytes, a partial trace is returned");
    assert_eq!(
        empty.to_json(),
        concat!(
            r#"{"trace":{},"metrics":{},"status":"PARTIAL","#,
            r#""message":"Trace exceeds maximum size of 10 bytes, a partial trace is returned"}"#
        )
    );
    let mut m = TraceByIdMetrics::default();
    m.additional_metrics.insert("b".into(), 2);
    m.additional_metrics.insert("a".into(), -1);
    let resp = TraceByIdResponse::new(Trace::default(), m);
    assert_eq!(
        resp.to_json(),
        r#"{"trace":{},"metrics":{"additionalMetrics":{"a":"-1","b":"2"}}}"#
    );
}

#[test]
fn protobuf_round_trips() {
    let t = trace(&sample_spans());
    let bytes = t.to_protobuf();
    let back = Trace::decode(bytes.as_slice()).unwrap();
    assert_eq!(back, t);
    // The spans come back out of the OTLP messages unchanged.
    let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: back.resource_spans.clone(),
    };
    let spans = argus_ingest::otlp::traces::convert_traces(&req).spans;
    assert_eq!(spans, sample_spans());

    let resp = TraceByIdResponse::new(
        t,
        TraceByIdMetrics {
            inspected_bytes: 7,
            backend_reads: 1,
            ..TraceByIdMetrics::default()
        },
    )
    .partial("cut");
    let back = TraceByIdResponse::decode(resp.to_protobuf().as_slice()).unwrap();
    assert_eq!(back, resp);
    assert_eq!(back.status(), PartialStatus::Partial);
}

#[test]
fn protobuf_field_numbers_are_tempos() {
    // tempo.proto: Trace { repeated ResourceSpans resourceSpans = 1; } and
    // TraceByIDResponse { trace = 1; metrics = 2; status = 3; message = 4 }.
    let t = Trace {
        resource_spans: vec![ResourceSpans::default()],
    };
    assert_eq!(t.to_protobuf(), [0x0a, 0x00]);
    let resp = TraceByIdResponse::new(t, TraceByIdMetrics::default()).partial("x");
    assert_eq!(
        resp.to_protobuf(),
        [0x0a, 0x02, 0x0a, 0x00, 0x12, 0x00, 0x18, 0x01, 0x22, 0x01, b'x']
    );
}
