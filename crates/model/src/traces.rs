//! Trace data: spans as OpenTelemetry models them, flattened.
//!
//! A [`Span`] carries its own fields and shares its resource and
//! instrumentation scope ([`SpanOrigin`]) with the other spans of one
//! batch. Attribute values keep their types ([`AttrValue`]), as TraceQL
//! compares them (`span.http.status_code = 200` matches an integer, not a
//! string). OTLP and Zipkin both map into this model; the query APIs map
//! out of it (OTLP for Tempo, Jaeger's JSON).

use std::sync::Arc;

/// A trace's id (OTLP: 16 bytes; a 64-bit Zipkin id is zero-padded on the
/// left, as Tempo does).
pub type TraceId = [u8; 16];
/// A span's id.
pub type SpanId = [u8; 8];

/// An attribute value, typed as OTLP's `AnyValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Array(Vec<AttrValue>),
    Map(Vec<Attr>),
}

/// A named attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub key: String,
    pub value: AttrValue,
}

impl Attr {
    pub fn new(key: impl Into<String>, value: AttrValue) -> Self {
        Attr {
            key: key.into(),
            value,
        }
    }

    /// A string attribute.
    pub fn str(key: impl Into<String>, value: impl Into<String>) -> Self {
        Attr::new(key, AttrValue::Str(value.into()))
    }
}

/// The value of `key` in `attrs` (the last one when repeated).
pub fn attr<'a>(attrs: &'a [Attr], key: &str) -> Option<&'a AttrValue> {
    attrs.iter().rev().find(|a| a.key == key).map(|a| &a.value)
}

/// OTLP's `Span.SpanKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum SpanKind {
    #[default]
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

impl SpanKind {
    /// From OTLP's number; unknown numbers are `Unspecified`.
    pub fn from_i32(n: i32) -> Self {
        match n {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        }
    }

    /// TraceQL's name of the kind (`server`, `client`, …).
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

/// OTLP's `Status.StatusCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum StatusCode {
    #[default]
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl StatusCode {
    /// From OTLP's number; unknown numbers are `Unset`.
    pub fn from_i32(n: i32) -> Self {
        match n {
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => StatusCode::Unset,
        }
    }

    /// TraceQL's name of the status (`ok`, `error`, `unset`).
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }
}

/// What produced a batch of spans: the resource (the process, with its
/// `service.name`) and the instrumentation scope.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanOrigin {
    /// The resource's `service.name` (string value), or empty.
    pub service: String,
    pub resource: Vec<Attr>,
    pub scope_name: String,
    pub scope_version: String,
    pub scope_attrs: Vec<Attr>,
}

impl SpanOrigin {
    /// An origin of resource attributes `resource`, its service taken
    /// from `service.name`.
    pub fn new(resource: Vec<Attr>) -> Self {
        let service = match attr(&resource, "service.name") {
            Some(AttrValue::Str(s)) => s.clone(),
            _ => String::new(),
        };
        SpanOrigin {
            service,
            resource,
            ..SpanOrigin::default()
        }
    }
}

/// A timed event within a span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanEvent {
    pub ts_ns: i64,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub dropped_attrs: u32,
}

/// A link from a span to another span (of any trace).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanLink {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub trace_state: String,
    pub attrs: Vec<Attr>,
    pub dropped_attrs: u32,
    pub flags: u32,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    pub origin: Arc<SpanOrigin>,
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// None for a root span.
    pub parent_span_id: Option<SpanId>,
    pub trace_state: String,
    pub flags: u32,
    pub name: String,
    pub kind: SpanKind,
    /// Nanoseconds since the Unix epoch.
    pub start_ns: i64,
    pub end_ns: i64,
    pub attrs: Vec<Attr>,
    pub dropped_attrs: u32,
    pub events: Vec<SpanEvent>,
    pub dropped_events: u32,
    pub links: Vec<SpanLink>,
    pub dropped_links: u32,
    pub status: StatusCode,
    pub status_message: String,
}

impl Span {
    /// `end - start` in nanoseconds (0 when the end is before the start).
    /// Its size for limits and memory accounting: its strings, ids,
    /// attributes, events and links (the origin is shared and not counted).
    pub fn size(&self) -> usize {
        span_size(self)
    }

    pub fn duration_ns(&self) -> u64 {
        u64::try_from(self.end_ns.saturating_sub(self.start_ns)).unwrap_or(0)
    }
}

/// `id` as lowercase hex.
pub fn hex_id(id: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(id.len() * 2);
    for &x in id {
        s.push(HEX[usize::from(x >> 4)] as char);
        s.push(HEX[usize::from(x & 15)] as char);
    }
    s
}

/// A trace id from hex (any case), as Tempo's API takes it: up to 32
/// digits, shorter ids zero-padded on the left (a 64-bit Zipkin or Jaeger
/// id). None for anything else.
pub fn parse_trace_id(s: &str) -> Option<TraceId> {
    parse_hex_id::<16>(s)
}

/// A span id from hex: up to 16 digits, zero-padded on the left.
pub fn parse_span_id(s: &str) -> Option<SpanId> {
    parse_hex_id::<8>(s)
}

fn parse_hex_id<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    // Digits from the right: the last digit is the low nibble of the last byte.
    for (i, &c) in b.iter().rev().enumerate() {
        let d = (c as char).to_digit(16)? as u8;
        let byte = N - 1 - i / 2;
        out[byte] |= if i % 2 == 0 { d } else { d << 4 };
    }
    Some(out)
}

/// A span's size for limits and memory accounting: its strings, ids,
/// attributes, events and links (the origin is shared and not counted).
fn span_size(s: &Span) -> usize {
    48 + s.name.len()
        + s.trace_state.len()
        + s.status_message.len()
        + attrs_bytes(&s.attrs)
        + s.events
            .iter()
            .map(|e| 16 + e.name.len() + attrs_bytes(&e.attrs))
            .sum::<usize>()
        + s.links
            .iter()
            .map(|l| 32 + l.trace_state.len() + attrs_bytes(&l.attrs))
            .sum::<usize>()
}

fn attrs_bytes(attrs: &[Attr]) -> usize {
    attrs
        .iter()
        .map(|a| a.key.len() + value_bytes(&a.value))
        .sum()
}

fn value_bytes(v: &AttrValue) -> usize {
    match v {
        AttrValue::Str(s) => s.len(),
        AttrValue::Bytes(b) => b.len(),
        AttrValue::Int(_) | AttrValue::Float(_) => 8,
        AttrValue::Bool(_) => 1,
        AttrValue::Array(items) => items.iter().map(value_bytes).sum(),
        AttrValue::Map(attrs) => attrs_bytes(attrs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_parse_as_tempo_takes_them() {
        let full = "0123456789abcdefFEDCBA9876543210";
        assert_eq!(hex_id(&parse_trace_id(full).unwrap()), full.to_lowercase());
        // A 64-bit id: zero-padded on the left.
        assert_eq!(
            hex_id(&parse_trace_id("abc").unwrap()),
            "00000000000000000000000000000abc"
        );
        assert_eq!(parse_trace_id(""), None);
        assert_eq!(parse_trace_id("xyz"), None);
        assert_eq!(parse_trace_id(&"1".repeat(33)), None);
        assert_eq!(hex_id(&parse_span_id("ff").unwrap()), "00000000000000ff");
        assert_eq!(parse_span_id(&"1".repeat(17)), None);
    }

    #[test]
    fn origin_names_its_service() {
        let o = SpanOrigin::new(vec![
            Attr::str("service.name", "a"),
            Attr::new("n", AttrValue::Int(1)),
            Attr::str("service.name", "checkout"),
        ]);
        assert_eq!(o.service, "checkout");
        assert_eq!(
            SpanOrigin::new(vec![Attr::new("service.name", AttrValue::Int(3))]).service,
            ""
        );
    }

    proptest! {
        #[test]
        fn hex_ids_round_trip(id in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(parse_trace_id(&hex_id(&id)), Some(id));
        }
    }
}
