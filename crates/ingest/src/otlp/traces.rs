//! OTLP traces (`ExportTraceServiceRequest`, protobuf or JSON) to
//! [`Span`]s of Argus's model (`argus_model::traces`).
//!
//! Every span keeps its fields; the spans of one resource and scope share
//! one [`SpanOrigin`]. A span is refused (and the rest kept) when its trace
//! id is not 16 bytes or all zero, its span id not 8 bytes or all zero, its
//! parent id neither empty nor 8 bytes, or a link's ids are malformed: the
//! OTLP spec calls such ids invalid, and Tempo refuses them too. An all-zero
//! parent id means no parent, as an empty one does.

use super::json;
use super::OtlpError;
use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanId, SpanKind, SpanLink, SpanOrigin, StatusCode, TraceId,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as otlp;
use std::sync::Arc;

/// Decodes an OTLP/HTTP traces body: binary protobuf, or OTLP/JSON when
/// `json` (hex ids, 64-bit integers as numbers or strings, enums as
/// numbers or names). Never panics on bad input.
pub fn decode_traces_request(
    body: &[u8],
    json: bool,
) -> Result<ExportTraceServiceRequest, OtlpError> {
    if json {
        json::decode_traces(body)
    } else {
        Ok(prost::Message::decode(body)?)
    }
}

/// Spans refused for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRejection {
    pub reason: String,
    pub spans: usize,
}

/// The result of [`convert_traces`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConvertedSpans {
    /// In request order.
    pub spans: Vec<Span>,
    pub rejected: Vec<SpanRejection>,
}

impl ConvertedSpans {
    /// Spans refused in all (OTLP's `rejected_spans`).
    pub fn rejected_spans(&self) -> usize {
        self.rejected.iter().map(|r| r.spans).sum()
    }

    pub(crate) fn reject(&mut self, reason: String) {
        match self.rejected.iter_mut().find(|r| r.reason == reason) {
            Some(r) => r.spans += 1,
            None => self.rejected.push(SpanRejection { reason, spans: 1 }),
        }
    }
}

/// Converts a decoded request (see the module docs).
pub fn convert_traces(req: &ExportTraceServiceRequest) -> ConvertedSpans {
    let mut out = ConvertedSpans::default();
    for rs in &req.resource_spans {
        let resource = rs
            .resource
            .as_ref()
            .map_or_else(Vec::new, |r| attrs(&r.attributes));
        for ss in &rs.scope_spans {
            let mut origin = SpanOrigin::new(resource.clone());
            if let Some(scope) = &ss.scope {
                origin.scope_name = scope.name.clone();
                origin.scope_version = scope.version.clone();
                origin.scope_attrs = attrs(&scope.attributes);
            }
            let origin = Arc::new(origin);
            for s in &ss.spans {
                match span(s, &origin) {
                    Ok(span) => out.spans.push(span),
                    Err(reason) => out.reject(reason),
                }
            }
        }
    }
    out
}

fn span(s: &otlp::Span, origin: &Arc<SpanOrigin>) -> Result<Span, String> {
    let tid = trace_id(&s.trace_id).ok_or_else(|| bad_id("trace id", &s.trace_id, 16))?;
    let sid = span_id(&s.span_id).ok_or_else(|| bad_id("span id", &s.span_id, 8))?;
    let parent_span_id = match s.parent_span_id.len() {
        0 => None,
        8 => span_id_or_zero(&s.parent_span_id).filter(|p| *p != [0; 8]),
        _ => return Err(bad_id("parent span id", &s.parent_span_id, 8)),
    };
    let links = s
        .links
        .iter()
        .map(|l| {
            Ok(SpanLink {
                trace_id: trace_id_of(&l.trace_id)
                    .ok_or_else(|| bad_id("link trace id", &l.trace_id, 16))?,
                span_id: span_id(&l.span_id)
                    .ok_or_else(|| bad_id("link span id", &l.span_id, 8))?,
                trace_state: l.trace_state.clone(),
                attrs: attrs(&l.attributes),
                dropped_attrs: l.dropped_attributes_count,
                flags: l.flags,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (status, status_message) = match &s.status {
        Some(st) => (StatusCode::from_i32(st.code), st.message.clone()),
        None => (StatusCode::Unset, String::new()),
    };
    Ok(Span {
        origin: origin.clone(),
        trace_id: tid,
        span_id: sid,
        parent_span_id,
        trace_state: s.trace_state.clone(),
        flags: s.flags,
        name: s.name.clone(),
        kind: SpanKind::from_i32(s.kind),
        start_ns: ns(s.start_time_unix_nano),
        end_ns: ns(s.end_time_unix_nano),
        attrs: attrs(&s.attributes),
        dropped_attrs: s.dropped_attributes_count,
        events: s
            .events
            .iter()
            .map(|e| SpanEvent {
                ts_ns: ns(e.time_unix_nano),
                name: e.name.clone(),
                attrs: attrs(&e.attributes),
                dropped_attrs: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events: s.dropped_events_count,
        links,
        dropped_links: s.dropped_links_count,
        status,
        status_message,
    })
}

fn ns(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// Why `id` is not a valid `what` of `want` bytes: reasons do not quote
/// the id, so that the spans of one problem are counted together.
fn bad_id(what: &str, id: &[u8], want: usize) -> String {
    if id.len() == want {
        format!("invalid {what}: all zero")
    } else {
        format!("invalid {what}: {} bytes, want {want}", id.len())
    }
}

/// 16 bytes, not all zero.
fn trace_id(b: &[u8]) -> Option<TraceId> {
    trace_id_of(b).filter(|t| *t != [0; 16])
}

/// 16 bytes.
fn trace_id_of(b: &[u8]) -> Option<TraceId> {
    b.try_into().ok()
}

/// 8 bytes, not all zero.
fn span_id(b: &[u8]) -> Option<SpanId> {
    span_id_or_zero(b).filter(|s| *s != [0; 8])
}

fn span_id_or_zero(b: &[u8]) -> Option<SpanId> {
    b.try_into().ok()
}

/// OTLP attributes with their types; an attribute without a value is
/// kept as an empty string (pdata's `Str("")` of an empty `AnyValue` is
/// what the Collector forwards).
pub(crate) fn attrs(kvs: &[KeyValue]) -> Vec<Attr> {
    kvs.iter()
        .map(|kv| Attr::new(kv.key.clone(), value(kv.value.as_ref())))
        .collect()
}

fn value(v: Option<&AnyValue>) -> AttrValue {
    use any_value::Value as V;
    match v.and_then(|v| v.value.as_ref()) {
        None => AttrValue::Str(String::new()),
        Some(V::StringValue(s)) => AttrValue::Str(s.clone()),
        Some(V::BoolValue(b)) => AttrValue::Bool(*b),
        Some(V::IntValue(i)) => AttrValue::Int(*i),
        Some(V::DoubleValue(f)) => AttrValue::Float(*f),
        Some(V::BytesValue(b)) => AttrValue::Bytes(b.clone()),
        Some(V::ArrayValue(a)) => {
            AttrValue::Array(a.values.iter().map(|v| value(Some(v))).collect())
        }
        Some(V::KvlistValue(kv)) => AttrValue::Map(attrs(&kv.values)),
    }
}

/// `spans` as OTLP: one `ResourceSpans` (with one `ScopeSpans`) per run of
/// spans sharing an origin, in order, so that [`convert_traces`] gives the
/// spans back. What the Tempo API answers with, and what a client sends.
pub fn encode_resource_spans(spans: &[Span]) -> Vec<otlp::ResourceSpans> {
    let mut out: Vec<otlp::ResourceSpans> = Vec::new();
    let mut last: Option<&Arc<SpanOrigin>> = None;
    for s in spans {
        if !last.is_some_and(|o| Arc::ptr_eq(o, &s.origin)) {
            let o = &s.origin;
            out.push(otlp::ResourceSpans {
                resource: Some(Resource {
                    attributes: key_values(&o.resource),
                    ..Default::default()
                }),
                scope_spans: vec![otlp::ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: o.scope_name.clone(),
                        version: o.scope_version.clone(),
                        attributes: key_values(&o.scope_attrs),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            });
            last = Some(o);
        }
        if let Some(ss) = out.last_mut().and_then(|r| r.scope_spans.last_mut()) {
            ss.spans.push(otlp_span(s));
        }
    }
    out
}

fn otlp_span(s: &Span) -> otlp::Span {
    otlp::Span {
        trace_id: s.trace_id.to_vec(),
        span_id: s.span_id.to_vec(),
        trace_state: s.trace_state.clone(),
        parent_span_id: s.parent_span_id.map(|p| p.to_vec()).unwrap_or_default(),
        flags: s.flags,
        name: s.name.clone(),
        kind: s.kind as i32,
        start_time_unix_nano: u64::try_from(s.start_ns).unwrap_or(0),
        end_time_unix_nano: u64::try_from(s.end_ns).unwrap_or(0),
        attributes: key_values(&s.attrs),
        dropped_attributes_count: s.dropped_attrs,
        events: s
            .events
            .iter()
            .map(|e| otlp::span::Event {
                time_unix_nano: u64::try_from(e.ts_ns).unwrap_or(0),
                name: e.name.clone(),
                attributes: key_values(&e.attrs),
                dropped_attributes_count: e.dropped_attrs,
            })
            .collect(),
        dropped_events_count: s.dropped_events,
        links: s
            .links
            .iter()
            .map(|l| otlp::span::Link {
                trace_id: l.trace_id.to_vec(),
                span_id: l.span_id.to_vec(),
                trace_state: l.trace_state.clone(),
                attributes: key_values(&l.attrs),
                dropped_attributes_count: l.dropped_attrs,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: s.dropped_links,
        status: (s.status != StatusCode::Unset || !s.status_message.is_empty()).then(|| {
            otlp::Status {
                message: s.status_message.clone(),
                code: s.status as i32,
            }
        }),
    }
}

/// Attributes as OTLP key-values.
pub fn key_values(attrs: &[Attr]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|a| KeyValue {
            key: a.key.clone(),
            value: Some(any_value_of(&a.value)),
        })
        .collect()
}

fn any_value_of(v: &AttrValue) -> AnyValue {
    use any_value::Value as V;
    let value = match v {
        AttrValue::Str(s) => V::StringValue(s.clone()),
        AttrValue::Int(i) => V::IntValue(*i),
        AttrValue::Float(f) => V::DoubleValue(*f),
        AttrValue::Bool(b) => V::BoolValue(*b),
        AttrValue::Bytes(b) => V::BytesValue(b.clone()),
        AttrValue::Array(items) => V::ArrayValue(ArrayValue {
            values: items.iter().map(any_value_of).collect(),
        }),
        AttrValue::Map(attrs) => V::KvlistValue(KeyValueList {
            values: key_values(attrs),
        }),
    };
    AnyValue { value: Some(value) }
}
