//! Zipkin v2 JSON (`POST /api/v2/spans`: an array of spans) to [`Span`]s
//! of Argus's model, as the OpenTelemetry Collector's Zipkin receiver maps
//! them (what Tempo runs), behaviour followed, no code taken:
//!
//! - `localEndpoint.serviceName` → the resource's `service.name`; the
//!   local endpoint's address → `net.host.ip` and `net.host.port`, the
//!   remote endpoint's → `peer.service`, `net.peer.ip`, `net.peer.port`
//!   (span attributes).
//! - `timestamp` and `duration` (microseconds) → start and end; the
//!   annotations → events named by their value.
//! - `kind` `CLIENT`/`SERVER`/`PRODUCER`/`CONSUMER` → the same kind;
//!   without one, unspecified.
//! - Tags → string attributes, except those that carry OpenTelemetry
//!   fields: `otel.status_code` (`OK`, `ERROR`) and
//!   `otel.status_description` → the status; a Zipkin `error` tag → status
//!   error, its value the message (unless `true` or empty);
//!   `otel.scope.name`/`otel.scope.version` (or the older
//!   `otel.library.*`) → the scope; `w3c.tracestate` → the trace state.
//! - Ids are hex: a trace id of 16 or 32 digits (64-bit ids zero-padded on
//!   the left), span ids of 16. A span with a malformed id or without a
//!   timestamp is refused; the rest are kept.
//!
//! Spans of one service and scope share one [`SpanOrigin`].

use argus_model::traces::{
    parse_span_id, parse_trace_id, Attr, AttrValue, Span, SpanEvent, SpanKind, SpanOrigin,
    StatusCode,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A body that is not a Zipkin v2 JSON array of spans.
#[derive(Debug, thiserror::Error)]
#[error("invalid Zipkin v2 JSON body: {0}")]
pub struct ZipkinError(String);

/// The result of [`decode_zipkin`]: spans in body order and those refused
/// by reason, as OTLP's conversion gives them.
pub type ZipkinSpans = crate::otlp::traces::ConvertedSpans;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZSpan {
    trace_id: Option<String>,
    id: Option<String>,
    parent_id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    timestamp: Option<serde_json::Number>,
    duration: Option<serde_json::Number>,
    local_endpoint: Option<Endpoint>,
    remote_endpoint: Option<Endpoint>,
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    service_name: Option<String>,
    ipv4: Option<String>,
    ipv6: Option<String>,
    port: Option<i64>,
}

#[derive(Deserialize)]
struct Annotation {
    timestamp: Option<serde_json::Number>,
    value: Option<String>,
}

/// Decodes a Zipkin v2 JSON body (see the module docs). Never panics.
pub fn decode_zipkin(body: &[u8]) -> Result<ZipkinSpans, ZipkinError> {
    let spans: Vec<ZSpan> = serde_json::from_slice(body).map_err(|e| ZipkinError(e.to_string()))?;
    let mut out = ZipkinSpans::default();
    let mut origins: HashMap<(String, String, String), Arc<SpanOrigin>> = HashMap::new();
    for z in spans {
        match span(z, &mut origins) {
            Ok(s) => out.spans.push(s),
            Err(reason) => out.reject(reason.to_string()),
        }
    }
    Ok(out)
}

/// Microseconds (an integer, or a number with a fraction) → nanoseconds.
fn micros_ns(n: &serde_json::Number) -> Option<i64> {
    match n.as_i64() {
        Some(us) => us.checked_mul(1000),
        None => n
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.2e15)
            .map(|f| (f * 1000.0) as i64),
    }
}

const BAD_PARENT: &str = "invalid parentId: want 16 hex digits";

fn span(
    z: ZSpan,
    origins: &mut HashMap<(String, String, String), Arc<SpanOrigin>>,
) -> Result<Span, &'static str> {
    let trace_id = z
        .trace_id
        .as_deref()
        .filter(|t| t.len() == 16 || t.len() == 32)
        .and_then(parse_trace_id)
        .filter(|t| *t != [0; 16])
        .ok_or("invalid traceId: want 16 or 32 hex digits, not all zero")?;
    let span_id =
        z.id.as_deref()
            .filter(|t| t.len() == 16)
            .and_then(parse_span_id)
            .filter(|t| *t != [0; 8])
            .ok_or("invalid id: want 16 hex digits, not all zero")?;
    // An all-zero parent is no parent.
    let parent_span_id = match z.parent_id.as_deref() {
        None | Some("") => None,
        Some(p) if p.len() == 16 => Some(parse_span_id(p).ok_or(BAD_PARENT)?),
        Some(_) => return Err(BAD_PARENT),
    }
    .filter(|p| *p != [0; 8]);
    let start_ns = z
        .timestamp
        .as_ref()
        .and_then(micros_ns)
        .ok_or("timestamp missing or out of range")?;
    let duration_ns = z.duration.as_ref().and_then(micros_ns).unwrap_or(0).max(0);

    let mut tags = z.tags;
    let mut status = match tags.remove("otel.status_code").as_deref() {
        Some(c) if c.eq_ignore_ascii_case("ok") => StatusCode::Ok,
        Some(c) if c.eq_ignore_ascii_case("error") => StatusCode::Error,
        _ => StatusCode::Unset,
    };
    let mut status_message = tags.remove("otel.status_description").unwrap_or_default();
    if let Some(e) = tags.remove("error") {
        status = StatusCode::Error;
        if status_message.is_empty() && e != "true" {
            status_message = e;
        }
    }
    let scope_name = tags
        .remove("otel.scope.name")
        .or_else(|| tags.remove("otel.library.name"))
        .unwrap_or_default();
    let scope_version = tags
        .remove("otel.scope.version")
        .or_else(|| tags.remove("otel.library.version"))
        .unwrap_or_default();
    let trace_state = tags.remove("w3c.tracestate").unwrap_or_default();

    let mut attrs: Vec<Attr> = tags
        .into_iter()
        .map(|(k, v)| Attr::new(k, AttrValue::Str(v)))
        .collect();
    let service = z
        .local_endpoint
        .as_ref()
        .and_then(|e| e.service_name.clone())
        .unwrap_or_default();
    if let Some(e) = &z.local_endpoint {
        endpoint_attrs(e, "net.host", &mut attrs);
    }
    if let Some(e) = &z.remote_endpoint {
        if let Some(s) = e.service_name.as_ref().filter(|s| !s.is_empty()) {
            attrs.push(Attr::str("peer.service", s.clone()));
        }
        endpoint_attrs(e, "net.peer", &mut attrs);
    }
    let origin = origins
        .entry((service.clone(), scope_name.clone(), scope_version.clone()))
        .or_insert_with(|| {
            let resource = if service.is_empty() {
                Vec::new()
            } else {
                vec![Attr::str("service.name", service.clone())]
            };
            let mut o = SpanOrigin::new(resource);
            o.scope_name = scope_name.clone();
            o.scope_version = scope_version.clone();
            Arc::new(o)
        })
        .clone();
    let kind = match z.kind.as_deref() {
        Some("SERVER") => SpanKind::Server,
        Some("CLIENT") => SpanKind::Client,
        Some("PRODUCER") => SpanKind::Producer,
        Some("CONSUMER") => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    };
    let events = z
        .annotations
        .into_iter()
        .map(|a| SpanEvent {
            ts_ns: a.timestamp.as_ref().and_then(micros_ns).unwrap_or(start_ns),
            name: a.value.unwrap_or_default(),
            ..SpanEvent::default()
        })
        .collect();
    Ok(Span {
        origin,
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        name: z.name.unwrap_or_default(),
        kind,
        start_ns,
        end_ns: start_ns.saturating_add(duration_ns),
        attrs,
        events,
        status,
        status_message,
        ..Span::default()
    })
}

/// An endpoint's address as `<prefix>.ip` and `<prefix>.port`.
fn endpoint_attrs(e: &Endpoint, prefix: &str, attrs: &mut Vec<Attr>) {
    if let Some(ip) = e
        .ipv4
        .as_ref()
        .or(e.ipv6.as_ref())
        .filter(|ip| !ip.is_empty())
    {
        attrs.push(Attr::str(format!("{prefix}.ip"), ip.clone()));
    }
    if let Some(p) = e.port.filter(|&p| p > 0) {
        attrs.push(Attr::new(format!("{prefix}.port"), AttrValue::Int(p)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::hex_id;
    use proptest::prelude::*;

    #[test]
    fn zipkin_spans_map_as_the_collector_maps_them() {
        let body = br#"[
          {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","parentId":"352bff9a74ca9ad2",
           "name":"get /api","kind":"SERVER","timestamp":1556604172355737,"duration":1431,
           "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.1","port":3306},
           "remoteEndpoint":{"serviceName":"frontend","ipv6":"::1","port":8080},
           "annotations":[{"timestamp":1556604172355800,"value":"retry"}],
           "tags":{"http.method":"GET","http.path":"/api","error":"connection refused","otel.scope.name":"lib","otel.scope.version":"2"}},
          {"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312",
           "name":"root","timestamp":1556604172354000,"duration":5000.5,
           "localEndpoint":{"serviceName":"frontend"},"tags":{"otel.status_code":"OK"}}
        ]"#;
        let z = decode_zipkin(body).unwrap();
        assert!(z.rejected.is_empty());
        let [a, b] = &z.spans[..] else {
            panic!("{:?}", z.spans)
        };
        assert_eq!(hex_id(&a.trace_id), "00000000000000005af7183fb1d4cf5f");
        assert_eq!(hex_id(&a.span_id), "6b221d5bc9e6496c");
        assert_eq!(
            a.parent_span_id.map(|p| hex_id(&p)).as_deref(),
            Some("352bff9a74ca9ad2")
        );
        assert_eq!(a.kind, SpanKind::Server);
        assert_eq!(a.start_ns, 1_556_604_172_355_737_000);
        assert_eq!(a.duration_ns(), 1_431_000);
        assert_eq!(
            (a.status, a.status_message.as_str()),
            (StatusCode::Error, "connection refused")
        );
        assert_eq!(a.origin.service, "backend");
        assert_eq!(
            (
                a.origin.scope_name.as_str(),
                a.origin.scope_version.as_str()
            ),
            ("lib", "2")
        );
        assert_eq!(
            a.attrs,
            vec![
                Attr::str("http.method", "GET"),
                Attr::str("http.path", "/api"),
                Attr::str("net.host.ip", "192.168.99.1"),
                Attr::new("net.host.port", AttrValue::Int(3306)),
                Attr::str("peer.service", "frontend"),
                Attr::str("net.peer.ip", "::1"),
                Attr::new("net.peer.port", AttrValue::Int(8080)),
            ]
        );
        assert_eq!(a.events[0].name, "retry");
        assert_eq!(a.events[0].ts_ns, 1_556_604_172_355_800_000);
        assert_eq!(hex_id(&b.trace_id), "463ac35c9f6413ad48485a3953bb6124");
        assert_eq!(b.parent_span_id, None);
        assert_eq!(b.kind, SpanKind::Unspecified);
        assert_eq!(b.status, StatusCode::Ok);
        assert_eq!(b.duration_ns(), 5_000_500);
        assert_eq!(b.origin.service, "frontend");
    }

    #[test]
    fn bad_spans_are_refused_and_the_rest_kept() {
        let body = br#"[
          {"traceId":"abc","id":"6b221d5bc9e6496c","timestamp":1},
          {"traceId":"5af7183fb1d4cf5f","id":"0000000000000000","timestamp":1},
          {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","parentId":"xyz","timestamp":1},
          {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c"},
          {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","timestamp":1e300},
          {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","parentId":"0000000000000000","timestamp":7}
        ]"#;
        let z = decode_zipkin(body).unwrap();
        assert_eq!(z.spans.len(), 1);
        assert_eq!(
            (z.spans[0].start_ns, z.spans[0].parent_span_id),
            (7_000, None)
        );
        let reasons: Vec<(&str, usize)> = z
            .rejected
            .iter()
            .map(|r| (r.reason.as_str(), r.spans))
            .collect();
        assert_eq!(
            reasons,
            [
                ("invalid traceId: want 16 or 32 hex digits, not all zero", 1),
                ("invalid id: want 16 hex digits, not all zero", 1),
                ("invalid parentId: want 16 hex digits", 1),
                ("timestamp missing or out of range", 2),
            ]
        );
        for body in [&b"{}"[..], b"[1]", b"[{\"tags\":{\"a\":1}}]", b"["] {
            let e = decode_zipkin(body).unwrap_err().to_string();
            assert!(e.starts_with("invalid Zipkin v2 JSON body: "), "{e}");
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_zipkin(&body);
        }
    }
}
