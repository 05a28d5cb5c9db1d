//! JSON text as Go writes it, so that Argus's answers are the bytes
//! Tempo's and Jaeger's are: strings escaped as `encoding/json` escapes
//! them (HTML characters too), floats in its notation, and objects built
//! field by field in the order of the Go structs. On top of that, the
//! rules of gogo/protobuf's `jsonpb.Marshaler{}` (Tempo's marshaller, all
//! options off) for protobuf messages: lowerCamelCase names, zero values
//! and empty lists left out, 64-bit integers quoted, bytes in standard
//! base64, enums by name, oneofs always written. `jsonpb` for the OTLP
//! messages Tempo answers with (`ResourceSpans` and what it holds).

use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as otlp;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Appends `s` as a JSON string, escaped as Go's `encoding/json` does with
/// HTML escaping on (its default, and what jsonpb gets): `"` `\` and the
/// control characters (`\b \f \n \r \t` short, others `\u00xx`), `<` `>`
/// `&` as `\u003c` `\u003e` `\u0026`, U+2028 and U+2029 as escapes.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a finite `f` as Go's `encoding/json` writes a float64: the
/// shortest digits that read back, plain notation from 1e-6 to below 1e21,
/// exponent notation (`1e+21`, `1.5e-7`) beyond. Not-finite values are
/// written as jsonpb writes them, quoted: `"NaN"`, `"Infinity"`,
/// `"-Infinity"` (Go's `json.Marshal` refuses them).
pub(crate) fn push_f64(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("\"NaN\"");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else if f == 0.0 || (1e-6..1e21).contains(&f.abs()) {
        let _ = write!(out, "{f}");
    } else {
        // Rust's shortest exponent form is `1e21` / `1.5e-7`; Go's is
        // `1e+21` / `1.5e-07`, which encoding/json trims to `1.5e-7`.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    }
}

/// Appends `b` in standard base64 with padding (Go's `[]byte` in JSON).
pub(crate) fn push_base64(out: &mut String, b: &[u8]) {
    out.push('"');
    base64::engine::general_purpose::STANDARD.encode_string(b, out);
    out.push('"');
}

/// Appends a JSON array of `items`, each written by `f`.
pub(crate) fn push_array<T>(out: &mut String, items: &[T], mut f: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out, item);
    }
    out.push(']');
}

/// A protobuf message in jsonpb form.
pub(crate) trait JsonPb {
    /// Appends the message as a JSON object.
    fn write_jsonpb(&self, out: &mut String);
}

/// An object being written: `{`, then fields, then [`Obj::end`].
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }

    /// Writes `"name":` and hands back the buffer for the value.
    pub(crate) fn key(&mut self, name: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_str(self.out, name);
        self.out.push(':');
        self.out
    }

    pub(crate) fn end(self) {
        self.out.push('}');
    }

    // Go `encoding/json` fields (always written).

    pub(crate) fn str(&mut self, name: &str, v: &str) {
        push_str(self.key(name), v);
    }

    pub(crate) fn num(&mut self, name: &str, v: impl std::fmt::Display) {
        let _ = write!(self.key(name), "{v}");
    }

    // jsonpb fields: a zero value is left out.

    /// A `string` field.
    pub(crate) fn pb_str(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.str(name, v);
        }
    }

    /// A 32-bit integer field (`uint32`, `int32`, `fixed32`): a number.
    pub(crate) fn pb_u32(&mut self, name: &str, v: u32) {
        if v != 0 {
            self.num(name, v);
        }
    }

    /// A 64-bit unsigned field (`uint64`, `fixed64`): a quoted number.
    pub(crate) fn pb_u64(&mut self, name: &str, v: u64) {
        if v != 0 {
            let _ = write!(self.key(name), "\"{v}\"");
        }
    }

    /// A 64-bit signed field (`int64`, `sint64`): a quoted number.
    pub(crate) fn pb_i64(&mut self, name: &str, v: i64) {
        if v != 0 {
            let _ = write!(self.key(name), "\"{v}\"");
        }
    }

    /// A `double` field.
    pub(crate) fn pb_f64(&mut self, name: &str, v: f64) {
        if v != 0.0 {
            push_f64(self.key(name), v);
        }
    }

    /// A `bytes` field: standard base64.
    pub(crate) fn pb_bytes(&mut self, name: &str, v: &[u8]) {
        if !v.is_empty() {
            push_base64(self.key(name), v);
        }
    }

    /// An enum field: its name quoted, or the bare number when unknown.
    pub(crate) fn pb_enum(&mut self, name: &str, v: i32, names: &[&str]) {
        if v == 0 {
            return;
        }
        let out = self.key(name);
        match usize::try_from(v).ok().and_then(|i| names.get(i)) {
            Some(n) => push_str(out, n),
            None => {
                let _ = write!(out, "{v}");
            }
        }
    }

    /// A message field, left out when unset.
    pub(crate) fn pb_msg<T: JsonPb>(&mut self, name: &str, v: Option<&T>) {
        if let Some(v) = v {
            v.write_jsonpb(self.key(name));
        }
    }

    /// A repeated message field, left out when empty (a nil Go slice,
    /// which is what a decoded message holds).
    pub(crate) fn pb_list<T: JsonPb>(&mut self, name: &str, v: &[T]) {
        if !v.is_empty() {
            self.pb_list_always(name, v);
        }
    }

    /// A repeated message field written even when empty (`[]`): where
    /// Tempo's frontend builds the list itself with `make`.
    pub(crate) fn pb_list_always<T: JsonPb>(&mut self, name: &str, v: &[T]) {
        push_array(self.key(name), v, |out, m| m.write_jsonpb(out));
    }

    /// A `repeated string` field.
    pub(crate) fn pb_strs(&mut self, name: &str, v: &[String], always: bool) {
        if always || !v.is_empty() {
            push_array(self.key(name), v, |out, s| push_str(out, s));
        }
    }

    /// A `map<string, int64>` field (keys sorted, as jsonpb sorts them).
    pub(crate) fn pb_map_i64(&mut self, name: &str, v: &BTreeMap<String, i64>) {
        if v.is_empty() {
            return;
        }
        let mut o = Obj::new(self.key(name));
        for (k, n) in v {
            let _ = write!(o.key(k), "\"{n}\"");
        }
        o.end();
    }

    /// A `map<string, Message>` field (keys sorted).
    pub(crate) fn pb_map_msg<T: JsonPb>(&mut self, name: &str, v: &BTreeMap<String, T>) {
        if v.is_empty() {
            return;
        }
        let mut o = Obj::new(self.key(name));
        for (k, m) in v {
            m.write_jsonpb(o.key(k));
        }
        o.end();
    }
}

/// The JSON names of OTLP's `Span.SpanKind`, by number.
pub(crate) const SPAN_KINDS: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// The JSON names of OTLP's `Status.StatusCode`, by number.
pub(crate) const STATUS_CODES: &[&str] =
    &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

// The OTLP messages, fields in the order of the Go structs Tempo
// generates from them (pkg/tempopb/trace/v1/trace.pb.go,
// common/v1/common.pb.go, resource/v1/resource.pb.go).

impl JsonPb for otlp::ResourceSpans {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_msg("resource", self.resource.as_ref());
        o.pb_list("scopeSpans", &self.scope_spans);
        o.pb_str("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl JsonPb for Resource {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("attributes", &self.attributes);
        o.pb_u32("droppedAttributesCount", self.dropped_attributes_count);
        o.pb_list("entityRefs", &self.entity_refs);
        o.end();
    }
}

impl JsonPb for EntityRef {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("schemaUrl", &self.schema_url);
        o.pb_str("type", &self.r#type);
        o.pb_strs("idKeys", &self.id_keys, false);
        o.pb_strs("descriptionKeys", &self.description_keys, false);
        o.end();
    }
}

impl JsonPb for otlp::ScopeSpans {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_msg("scope", self.scope.as_ref());
        o.pb_list("spans", &self.spans);
        o.pb_str("schemaUrl", &self.schema_url);
        o.end();
    }
}

impl JsonPb for InstrumentationScope {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("name", &self.name);
        o.pb_str("version", &self.version);
        o.pb_list("attributes", &self.attributes);
        o.pb_u32("droppedAttributesCount", self.dropped_attributes_count);
        o.end();
    }
}

impl JsonPb for otlp::Span {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_bytes("traceId", &self.trace_id);
        o.pb_bytes("spanId", &self.span_id);
        o.pb_str("traceState", &self.trace_state);
        o.pb_bytes("parentSpanId", &self.parent_span_id);
        o.pb_u32("flags", self.flags);
        o.pb_str("name", &self.name);
        o.pb_enum("kind", self.kind, SPAN_KINDS);
        o.pb_u64("startTimeUnixNano", self.start_time_unix_nano);
        o.pb_u64("endTimeUnixNano", self.end_time_unix_nano);
        o.pb_list("attributes", &self.attributes);
        o.pb_u32("droppedAttributesCount", self.dropped_attributes_count);
        o.pb_list("events", &self.events);
        o.pb_u32("droppedEventsCount", self.dropped_events_count);
        o.pb_list("links", &self.links);
        o.pb_u32("droppedLinksCount", self.dropped_links_count);
        o.pb_msg("status", self.status.as_ref());
        o.end();
    }
}

impl JsonPb for otlp::span::Event {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_u64("timeUnixNano", self.time_unix_nano);
        o.pb_str("name", &self.name);
        o.pb_list("attributes", &self.attributes);
        o.pb_u32("droppedAttributesCount", self.dropped_attributes_count);
        o.end();
    }
}

impl JsonPb for otlp::span::Link {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_bytes("traceId", &self.trace_id);
        o.pb_bytes("spanId", &self.span_id);
        o.pb_str("traceState", &self.trace_state);
        o.pb_list("attributes", &self.attributes);
        o.pb_u32("droppedAttributesCount", self.dropped_attributes_count);
        o.pb_u32("flags", self.flags);
        o.end();
    }
}

impl JsonPb for otlp::Status {
    fn write_jsonpb(&self, out: &mut String) {
        // Message before code: field 1 (the deprecated code) is gone and
        // the Go struct lists message (2) first.
        let mut o = Obj::new(out);
        o.pb_str("message", &self.message);
        o.pb_enum("code", self.code, STATUS_CODES);
        o.end();
    }
}

impl JsonPb for KeyValue {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("key", &self.key);
        o.pb_msg("value", self.value.as_ref());
        o.end();
    }
}

impl JsonPb for AnyValue {
    fn write_jsonpb(&self, out: &mut String) {
        use any_value::Value as V;
        // A set oneof is written even when its value is zero.
        let mut o = Obj::new(out);
        match &self.value {
            None => {}
            Some(V::StringValue(s)) => o.str("stringValue", s),
            Some(V::BoolValue(b)) => o.num("boolValue", b),
            Some(V::IntValue(i)) => {
                let _ = write!(o.key("intValue"), "\"{i}\"");
            }
            Some(V::DoubleValue(f)) => push_f64(o.key("doubleValue"), *f),
            Some(V::ArrayValue(a)) => a.write_jsonpb(o.key("arrayValue")),
            Some(V::KvlistValue(kv)) => kv.write_jsonpb(o.key("kvlistValue")),
            Some(V::BytesValue(b)) => push_base64(o.key("bytesValue"), b),
        }
        o.end();
    }
}

impl JsonPb for ArrayValue {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("values", &self.values);
        o.end();
    }
}

impl JsonPb for KeyValueList {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("values", &self.values);
        o.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, x);
        out
    }

    fn f(x: f64) -> String {
        let mut out = String::new();
        push_f64(&mut out, x);
        out
    }

    #[test]
    fn strings_escape_as_go_does() {
        // encoding/json's appendString with escapeHTML (Go >= 1.22).
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(
            s("\n\r\t\u{8}\u{c}\u{1}\u{1f}"),
            r#""\n\r\t\b\f\u0001\u001f""#
        );
        assert_eq!(s("\u{2028}x\u{2029}é\u{7f}"), "\"\\u2028x\\u2029é\u{7f}\"");
    }

    #[test]
    fn floats_format_as_go_does() {
        // strconv.AppendFloat(f, 'f' or 'e', -1, 64) as encoding/json picks.
        assert_eq!(f(0.0), "0");
        assert_eq!(f(3.0), "3");
        assert_eq!(f(-2.5), "-2.5");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e-6), "0.000001");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(1e-10), "1e-10");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(-1.25e300), "-1.25e+300");
        assert_eq!(f(f64::NAN), "\"NaN\"");
        assert_eq!(f(f64::NEG_INFINITY), "\"-Infinity\"");
    }

    #[test]
    fn any_values_write_their_oneof_even_when_zero() {
        use any_value::Value as V;
        let cases = [
            (Some(V::StringValue(String::new())), r#"{"stringValue":""}"#),
            (Some(V::IntValue(0)), r#"{"intValue":"0"}"#),
            (Some(V::IntValue(-5)), r#"{"intValue":"-5"}"#),
            (Some(V::BoolValue(false)), r#"{"boolValue":false}"#),
            (Some(V::DoubleValue(0.5)), r#"{"doubleValue":0.5}"#),
            (
                Some(V::BytesValue(vec![0, 1, 2])),
                r#"{"bytesValue":"AAEC"}"#,
            ),
            (
                Some(V::ArrayValue(ArrayValue::default())),
                r#"{"arrayValue":{}}"#,
            ),
            (None, "{}"),
        ];
        for (v, want) in cases {
            let mut out = String::new();
            AnyValue { value: v }.write_jsonpb(&mut out);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn unknown_enums_are_bare_numbers() {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        o.pb_enum("kind", 9, SPAN_KINDS);
        o.pb_enum("zero", 0, SPAN_KINDS);
        o.end();
        assert_eq!(out, r#"{"kind":9}"#);
    }
}
