use super::*;
use crate::tempo::format::tests::sample_spans;
use argus_model::traces::SpanLink;
use std::sync::Arc;

const TID: &str = "000102030405060708090a0b0c0d0e0f";

#[test]
fn trace_json_is_jaeger_querys() {
    // Shape: cmd/query/app/fixture/otlp2jaeger-out.json of jaeger-query;
    // tags and their order: the Collector's traces_to_jaegerproto.go.
    let t = jaeger_trace(&sample_spans());
    let want = [
        r#"{"data":[{"traceID":"000102030405060708090a0b0c0d0e0f","spans":["#,
        r#"{"traceID":"TID","spanID":"0102030405060708","operationName":"GET /","#,
        r#""references":[],"startTime":1700000000000000,"duration":1500,"tags":["#,
        r#"{"key":"otel.scope.name","type":"string","value":"lib"},"#,
        r#"{"key":"otel.scope.version","type":"string","value":"1.0"},"#,
        r#"{"key":"http.status_code","type":"int64","value":200},"#,
        r#"{"key":"ratio","type":"float64","value":0.25},"#,
        r#"{"key":"span.kind","type":"string","value":"server"}],"#,
        r#""logs":[],"processID":"p1","warnings":null},"#,
        r#"{"traceID":"TID","spanID":"090a0b0c0d0e0f10","operationName":"db","#,
        r#""references":[{"refType":"CHILD_OF","traceID":"TID","spanID":"0102030405060708"},"#,
        r#"{"refType":"FOLLOWS_FROM","traceID":"ffffffffffffffffffffffffffffffff","spanID":"aaaaaaaaaaaaaaaa"}],"#,
        r#""startTime":1700000000000000,"duration":0,"tags":["#,
        r#"{"key":"otel.scope.name","type":"string","value":"lib"},"#,
        r#"{"key":"otel.scope.version","type":"string","value":"1.0"},"#,
        r#"{"key":"span.kind","type":"string","value":"client"},"#,
        r#"{"key":"otel.status_code","type":"string","value":"ERROR"},"#,
        r#"{"key":"error","type":"bool","value":true},"#,
        r#"{"key":"otel.status_description","type":"string","value":"boom"}],"#,
        r#""logs":[{"timestamp":1700000000000000,"fields":["#,
        r#"{"key":"event","type":"string","value":"retry"},"#,
        r#"{"key":"attempt","type":"int64","value":2}]}],"processID":"p1","warnings":null}],"#,
        r#""processes":{"p1":{"serviceName":"checkout","#,
        r#""tags":[{"key":"host","type":"string","value":"a\u003cb"}]}},"warnings":null}],"#,
        r#""total":0,"limit":0,"offset":0,"errors":null}"#,
    ]
    .concat()
    .replace("TID", TID);
    assert_eq!(traces_response(&[t], &[]), want);
}

#[test]
fn processes_ids_and_values() {
    let mut spans = Vec::new();
    // Twelve origins: eleven services, the twelfth equal to the first (a
    // different Arc), so deduplicated to p1.
    for i in 0..12 {
        let svc = format!("s{}", i % 11);
        let origin = Arc::new(SpanOrigin::new(vec![Attr::str("service.name", svc)]));
        spans.push(Span {
            origin,
            trace_id: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
            span_id: [0, 0, 0, 0, 0, 0, 0, i as u8 + 1],
            ..Span::default()
        });
    }
    let t = jaeger_trace(&spans);
    // A trace id with a zero high half is 16 digits.
    assert_eq!(t.trace_id, "0000000000000007");
    assert_eq!(t.spans[11].process_id, "p1");
    assert_eq!(t.spans[10].process_id, "p11");
    let mut out = String::new();
    t.write_json(&mut out);
    // Go sorts map keys as strings.
    let order: Vec<usize> = ["\"p1\":", "\"p10\":", "\"p11\":", "\"p2\":"]
        .iter()
        .map(|k| out.find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");

    // A resource without attributes; big ints, maps, bytes.
    let origin = Arc::new(SpanOrigin::default());
    let parent = [0, 0, 0, 0, 0, 0, 0, 9];
    let s = Span {
        origin,
        trace_id: [1; 16],
        span_id: [2; 8],
        parent_span_id: Some(parent),
        trace_state: "a=b".into(),
        status: StatusCode::Ok,
        attrs: vec![
            Attr::new("big", AttrValue::Int(1 << 60)),
            Attr::new(
                "m",
                AttrValue::Map(vec![
                    Attr::new("z", AttrValue::Array(vec![AttrValue::Bool(true)])),
                    Attr::str("a", "x"),
                ]),
            ),
            Attr::new("b", AttrValue::Bytes(vec![0xff])),
        ],
        links: vec![SpanLink {
            trace_id: [1; 16],
            span_id: parent,
            attrs: vec![Attr::str("opentracing.ref_type", "child_of")],
            ..SpanLink::default()
        }],
        ..Span::default()
    };
    let t = jaeger_trace(&[s]);
    assert_eq!(t.processes["p1"].service_name, "OTLPResourceNoServiceName");
    let mut out = String::new();
    t.write_json(&mut out);
    for part in [
        r#""references":[{"refType":"CHILD_OF","traceID":"01010101010101010101010101010101","spanID":"0000000000000009"}]"#,
        r#"{"key":"big","type":"int64","value":"1152921504606846976"}"#,
        r#"{"key":"m","type":"string","value":"{\"a\":\"x\",\"z\":[true]}"}"#,
        r#"{"key":"b","type":"binary","value":"/w=="}"#,
        r#"{"key":"otel.status_code","type":"string","value":"OK"},{"key":"w3c.tracestate","type":"string","value":"a=b"}]"#,
        r#""processes":{"p1":{"serviceName":"OTLPResourceNoServiceName","tags":[]}}"#,
    ] {
        assert!(out.contains(part), "{part} not in {out}");
    }
}

#[test]
fn envelopes() {
    // http_handler.go: total is the count for services and operations.
    assert_eq!(
        services_response(&["a".into(), "b".into()]),
        r#"{"data":["a","b"],"total":2,"limit":0,"offset":0,"errors":null}"#
    );
    assert_eq!(
        operation_names_response(&[]),
        r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":null}"#
    );
    assert_eq!(
        operations_response(&[Operation {
            name: "GET /".into(),
            span_kind: "server".into(),
        }]),
        r#"{"data":[{"name":"GET /","spanKind":"server"}],"total":1,"limit":0,"offset":0,"errors":null}"#
    );
    assert_eq!(
        dependencies_response(&[DependencyLink {
            parent: "a".into(),
            child: "b".into(),
            call_count: 3,
        }]),
        r#"{"data":[{"parent":"a","child":"b","callCount":3}],"total":0,"limit":0,"offset":0,"errors":null}"#
    );
    assert_eq!(
        error_response(404, "trace not found"),
        "{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"code\":404,\"msg\":\"trace not found\"}]}\n"
    );
    let missing = StructuredError {
        code: 0,
        msg: "trace not found".into(),
        trace_id: "00000000000000ab".into(),
    };
    assert_eq!(
        traces_response(&[], &[missing]),
        r#"{"data":[],"total":0,"limit":0,"offset":0,"errors":[{"msg":"trace not found","traceID":"00000000000000ab"}]}"#
    );
}
