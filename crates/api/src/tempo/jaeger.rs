//! jaeger-query's HTTP API JSON (the Jaeger UI's and Grafana's Jaeger
//! data source's format): traces, services, operations, dependencies.
//!
//! Sources (Jaeger and the Collector are Apache-2.0):
//! * the envelope, `structuredResponse` of `cmd/query/app/http_handler.go`:
//!   `{"data":…,"total":N,"limit":0,"offset":0,"errors":null}`, written
//!   with `json.Marshal` (compact, HTML-escaped, no newline after); `total`
//!   is the count only for services and operations, 0 for traces and
//!   dependencies; an error is `{"data":null,…,"errors":[{"code":404,
//!   "msg":"…"}]}` plus a newline (`http.Error`).
//! * the trace model, `model/json/model.go` and its converter
//!   `model/converter/json/from_domain.go`: `references`, `tags`, `logs`
//!   and process `tags` are always lists (`[]` when empty), span and trace
//!   `warnings` are `null` when none, `flags` is left out when 0 (and the
//!   OTLP translator never sets it), `processID` is `p1`, `p2`, … in order
//!   of first use, processes deduplicated by service and tags, and the
//!   `processes` object's keys sorted as strings (Go sorts map keys: `p1`,
//!   `p10`, `p2`); an int64 tag beyond ±(2^53−1) has its value as a decimal
//!   string; a binary value is base64.
//! * ids, `jaeger-idl` `model/v1/ids.go`: a span id is 16 hex digits; a
//!   trace id 32, or 16 when its high 64 bits are zero.
//! * OTLP to Jaeger, the Collector's `pkg/translator/jaeger`
//!   (`traces_to_jaegerproto.go`, v0.153): the process is the resource,
//!   its `service.name` the service (`OTLPResourceNoServiceName` for a
//!   resource without attributes) and its other attributes the tags;
//!   span tags are, in order, `otel.scope.name` and `otel.scope.version`
//!   (when set), the attributes, `span.kind` (`server`, `client`,
//!   `producer`, `consumer`, `internal`; none when unspecified),
//!   `otel.status_code` (`OK`/`ERROR`), `error=true` (status error),
//!   `otel.status_description` (status message), `w3c.tracestate`; the
//!   parent is a `CHILD_OF` reference, first, and each link a reference,
//!   `FOLLOWS_FROM` unless its `opentracing.ref_type` attribute is
//!   `child_of` (a link to the parent retypes the parent reference
//!   instead); an event is a log whose fields are `event=<name>` (unless
//!   an `event` attribute is there) then its attributes; map and array
//!   attributes become string tags holding their JSON. Times are
//!   microseconds (nanoseconds divided by 1000, truncated).
//!
//! Not done here: jaeger-query's adjusters (clock skew, sorting), which
//! change a trace's content, not its format. A negative duration is 0
//! (Go would wrap it), and a NaN or infinite float tag is written as the
//! strings `"NaN"`/`"Infinity"` (Go's `json.Marshal` fails on them).

use super::json::{push_array, push_base64, push_f64, push_str, Obj};
use argus_model::traces::{
    hex_id, Attr, AttrValue, Span, SpanId, SpanKind, SpanOrigin, StatusCode, TraceId,
};
use std::collections::BTreeMap;

/// A trace in Jaeger's UI model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JaegerTrace {
    pub trace_id: String,
    pub spans: Vec<JaegerSpan>,
    /// By process id (`p1`, …).
    pub processes: BTreeMap<String, JaegerProcess>,
    /// `null` when empty.
    pub warnings: Vec<String>,
}

/// A span in Jaeger's UI model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JaegerSpan {
    pub trace_id: String,
    pub span_id: String,
    /// Left out when 0.
    pub flags: u32,
    pub operation_name: String,
    pub references: Vec<JaegerReference>,
    /// Microseconds since the Unix epoch.
    pub start_time: u64,
    /// Microseconds.
    pub duration: u64,
    pub tags: Vec<JaegerKeyValue>,
    pub logs: Vec<JaegerLog>,
    pub process_id: String,
    /// `null` when empty.
    pub warnings: Vec<String>,
}

/// A reference's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefType {
    ChildOf,
    FollowsFrom,
}

impl RefType {
    /// `CHILD_OF` or `FOLLOWS_FROM`.
    pub fn name(self) -> &'static str {
        match self {
            RefType::ChildOf => "CHILD_OF",
            RefType::FollowsFrom => "FOLLOWS_FROM",
        }
    }
}

/// A reference from a span to another.
#[derive(Debug, Clone, PartialEq)]
pub struct JaegerReference {
    pub ref_type: RefType,
    pub trace_id: String,
    pub span_id: String,
}

/// A process: the service and its tags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JaegerProcess {
    pub service_name: String,
    pub tags: Vec<JaegerKeyValue>,
}

/// A log (an OTLP event).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JaegerLog {
    /// Microseconds since the Unix epoch.
    pub timestamp: u64,
    pub fields: Vec<JaegerKeyValue>,
}

/// A typed tag value; its `type` is `string`, `bool`, `int64`, `float64`
/// or `binary`.
#[derive(Debug, Clone, PartialEq)]
pub enum JaegerValue {
    String(String),
    Bool(bool),
    Int64(i64),
    Float64(f64),
    Binary(Vec<u8>),
}

/// A tag, a log field or a process tag.
#[derive(Debug, Clone, PartialEq)]
pub struct JaegerKeyValue {
    pub key: String,
    pub value: JaegerValue,
}

impl JaegerKeyValue {
    /// A string tag.
    pub fn string(key: impl Into<String>, value: impl Into<String>) -> Self {
        JaegerKeyValue {
            key: key.into(),
            value: JaegerValue::String(value.into()),
        }
    }
}

/// A service-to-service edge of `/api/dependencies`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DependencyLink {
    pub parent: String,
    pub child: String,
    pub call_count: u64,
}

/// An operation of `/api/operations?service=`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Operation {
    pub name: String,
    /// `server`, `client`, … or empty.
    pub span_kind: String,
}

/// An entry of the envelope's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StructuredError {
    /// An HTTP status; left out when 0.
    pub code: u16,
    pub msg: String,
    /// Left out when empty.
    pub trace_id: String,
}

/// A trace id as Jaeger writes it: 16 hex digits when its high half is
/// zero, 32 otherwise.
pub fn jaeger_trace_id(id: &TraceId) -> String {
    if id[..8] == [0; 8] {
        hex_id(&id[8..])
    } else {
        hex_id(id)
    }
}

/// A span id as Jaeger writes it: 16 hex digits.
pub fn jaeger_span_id(id: &SpanId) -> String {
    hex_id(id)
}

/// `spans` (of one trace) in Jaeger's UI model, mapped as the module docs
/// say.
pub fn jaeger_trace(spans: &[Span]) -> JaegerTrace {
    let mut processes: Vec<JaegerProcess> = Vec::new();
    let mut out = JaegerTrace {
        trace_id: spans
            .first()
            .map_or_else(String::new, |s| jaeger_trace_id(&s.trace_id)),
        ..JaegerTrace::default()
    };
    // The last origin's process id, as spans of one origin come in runs.
    let mut last: Option<(&SpanOrigin, String)> = None;
    for s in spans {
        let process_id = match &last {
            Some((o, id)) if std::ptr::eq(*o, &*s.origin) => id.clone(),
            _ => {
                let p = process(&s.origin);
                let n = match processes.iter().position(|q| *q == p) {
                    Some(i) => i + 1,
                    None => {
                        processes.push(p);
                        processes.len()
                    }
                };
                let id = format!("p{n}");
                last = Some((&s.origin, id.clone()));
                id
            }
        };
        out.spans.push(span(s, process_id));
    }
    out.processes = processes
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("p{}", i + 1), p))
        .collect();
    out
}

fn process(o: &SpanOrigin) -> JaegerProcess {
    if o.resource.is_empty() {
        return JaegerProcess {
            service_name: "OTLPResourceNoServiceName".into(),
            tags: Vec::new(),
        };
    }
    JaegerProcess {
        service_name: o.service.clone(),
        tags: tags(o.resource.iter().filter(|a| a.key != "service.name")),
    }
}

fn span(s: &Span, process_id: String) -> JaegerSpan {
    let trace_id = jaeger_trace_id(&s.trace_id);
    let mut references = Vec::new();
    if let Some(p) = s.parent_span_id.filter(|p| *p != [0; 8]) {
        references.push(JaegerReference {
            ref_type: RefType::ChildOf,
            trace_id: trace_id.clone(),
            span_id: jaeger_span_id(&p),
        });
    }
    for l in &s.links {
        let ref_type = match argus_model::traces::attr(&l.attrs, "opentracing.ref_type") {
            Some(AttrValue::Str(t)) if t == "child_of" => RefType::ChildOf,
            _ => RefType::FollowsFrom,
        };
        if l.trace_id == s.trace_id && Some(l.span_id) == s.parent_span_id {
            if let Some(r) = references.first_mut() {
                r.ref_type = ref_type;
                continue;
            }
        }
        references.push(JaegerReference {
            ref_type,
            trace_id: jaeger_trace_id(&l.trace_id),
            span_id: jaeger_span_id(&l.span_id),
        });
    }
    let mut t = Vec::new();
    let o = &s.origin;
    if !o.scope_name.is_empty() {
        t.push(JaegerKeyValue::string("otel.scope.name", &o.scope_name));
    }
    if !o.scope_version.is_empty() {
        t.push(JaegerKeyValue::string(
            "otel.scope.version",
            &o.scope_version,
        ));
    }
    t.extend(tags(s.attrs.iter()));
    if s.kind != SpanKind::Unspecified {
        t.push(JaegerKeyValue::string("span.kind", s.kind.name()));
    }
    match s.status {
        StatusCode::Ok => t.push(JaegerKeyValue::string("otel.status_code", "OK")),
        StatusCode::Error => {
            t.push(JaegerKeyValue::string("otel.status_code", "ERROR"));
            t.push(JaegerKeyValue {
                key: "error".into(),
                value: JaegerValue::Bool(true),
            });
        }
        StatusCode::Unset => {}
    }
    if !s.status_message.is_empty() {
        t.push(JaegerKeyValue::string(
            "otel.status_description",
            &s.status_message,
        ));
    }
    if !s.trace_state.is_empty() {
        t.push(JaegerKeyValue::string("w3c.tracestate", &s.trace_state));
    }
    let logs = s
        .events
        .iter()
        .map(|e| {
            let mut fields = Vec::with_capacity(e.attrs.len() + 1);
            if !e.name.is_empty() && !e.attrs.iter().any(|a| a.key == "event") {
                fields.push(JaegerKeyValue::string("event", &e.name));
            }
            fields.extend(tags(e.attrs.iter()));
            JaegerLog {
                timestamp: micros(e.ts_ns),
                fields,
            }
        })
        .collect();
    JaegerSpan {
        trace_id,
        span_id: jaeger_span_id(&s.span_id),
        flags: 0,
        operation_name: s.name.clone(),
        references,
        start_time: micros(s.start_ns),
        duration: s.duration_ns() / 1000,
        tags: t,
        logs,
        process_id,
        warnings: Vec::new(),
    }
}

fn micros(ns: i64) -> u64 {
    u64::try_from(ns / 1000).unwrap_or(0)
}

fn tags<'a>(attrs: impl Iterator<Item = &'a Attr>) -> Vec<JaegerKeyValue> {
    attrs
        .map(|a| JaegerKeyValue {
            key: a.key.clone(),
            value: match &a.value {
                AttrValue::Str(s) => JaegerValue::String(s.clone()),
                AttrValue::Int(i) => JaegerValue::Int64(*i),
                AttrValue::Float(f) => JaegerValue::Float64(*f),
                AttrValue::Bool(b) => JaegerValue::Bool(*b),
                AttrValue::Bytes(b) => JaegerValue::Binary(b.clone()),
                v @ (AttrValue::Array(_) | AttrValue::Map(_)) => {
                    let mut s = String::new();
                    attr_json(&mut s, v);
                    JaegerValue::String(s)
                }
            },
        })
        .collect()
}

/// pdata's `Value.AsString` of a map or slice: its raw value as JSON (map
/// keys sorted, the last of a repeated key kept).
fn attr_json(out: &mut String, v: &AttrValue) {
    match v {
        AttrValue::Str(s) => push_str(out, s),
        AttrValue::Int(i) => out.push_str(&i.to_string()),
        AttrValue::Float(f) => push_f64(out, *f),
        AttrValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AttrValue::Bytes(b) => push_base64(out, b),
        AttrValue::Array(items) => push_array(out, items, attr_json),
        AttrValue::Map(attrs) => {
            let sorted: BTreeMap<&str, &AttrValue> =
                attrs.iter().map(|a| (a.key.as_str(), &a.value)).collect();
            let mut o = Obj::new(out);
            for (k, v) in sorted {
                attr_json(o.key(k), v);
            }
            o.end();
        }
    }
}

/// Largest integer a JavaScript number holds exactly.
const JS_MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

fn write_kvs(out: &mut String, kvs: &[JaegerKeyValue]) {
    push_array(out, kvs, |out, kv| {
        let mut o = Obj::new(out);
        o.str("key", &kv.key);
        let ty = match kv.value {
            JaegerValue::String(_) => "string",
            JaegerValue::Bool(_) => "bool",
            JaegerValue::Int64(_) => "int64",
            JaegerValue::Float64(_) => "float64",
            JaegerValue::Binary(_) => "binary",
        };
        o.str("type", ty);
        let out = o.key("value");
        match &kv.value {
            JaegerValue::String(s) => push_str(out, s),
            JaegerValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JaegerValue::Int64(i) if (-JS_MAX_SAFE_INTEGER..=JS_MAX_SAFE_INTEGER).contains(i) => {
                out.push_str(&i.to_string());
            }
            JaegerValue::Int64(i) => push_str(out, &i.to_string()),
            JaegerValue::Float64(f) => push_f64(out, *f),
            JaegerValue::Binary(b) => push_base64(out, b),
        }
        o.end();
    });
}

fn write_strings_or_null(out: &mut String, v: &[String]) {
    if v.is_empty() {
        out.push_str("null");
    } else {
        push_array(out, v, |out, s| push_str(out, s));
    }
}

impl JaegerTrace {
    /// The trace as a JSON object (one element of a traces answer).
    pub fn write_json(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("traceID", &self.trace_id);
        push_array(o.key("spans"), &self.spans, |out, s| s.write_json(out));
        let mut p = Obj::new(o.key("processes"));
        for (id, proc_) in &self.processes {
            let mut po = Obj::new(p.key(id));
            po.str("serviceName", &proc_.service_name);
            write_kvs(po.key("tags"), &proc_.tags);
            po.end();
        }
        p.end();
        write_strings_or_null(o.key("warnings"), &self.warnings);
        o.end();
    }
}

impl JaegerSpan {
    fn write_json(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("traceID", &self.trace_id);
        o.str("spanID", &self.span_id);
        if self.flags != 0 {
            o.num("flags", self.flags);
        }
        o.str("operationName", &self.operation_name);
        push_array(o.key("references"), &self.references, |out, r| {
            let mut ro = Obj::new(out);
            ro.str("refType", r.ref_type.name());
            ro.str("traceID", &r.trace_id);
            ro.str("spanID", &r.span_id);
            ro.end();
        });
        o.num("startTime", self.start_time);
        o.num("duration", self.duration);
        write_kvs(o.key("tags"), &self.tags);
        push_array(o.key("logs"), &self.logs, |out, l| {
            let mut lo = Obj::new(out);
            lo.num("timestamp", l.timestamp);
            write_kvs(lo.key("fields"), &l.fields);
            lo.end();
        });
        if !self.process_id.is_empty() {
            o.str("processID", &self.process_id);
        }
        write_strings_or_null(o.key("warnings"), &self.warnings);
        o.end();
    }
}

/// The envelope around `data` (written by `data`).
fn envelope(total: usize, errors: &[StructuredError], data: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    data(o.key("data"));
    o.num("total", total);
    o.num("limit", 0);
    o.num("offset", 0);
    let e = o.key("errors");
    if errors.is_empty() {
        e.push_str("null");
    } else {
        push_array(e, errors, |out, err| {
            let mut eo = Obj::new(out);
            if err.code != 0 {
                eo.num("code", err.code);
            }
            eo.str("msg", &err.msg);
            if !err.trace_id.is_empty() {
                eo.str("traceID", &err.trace_id);
            }
            eo.end();
        });
    }
    o.end();
    out
}

/// `GET /api/traces/<id>` and `GET /api/traces?…`: `{"data":[traces…],
/// "total":0,…,"errors":…}`; `errors` lists the ids a search by ids did
/// not find (`null` when none).
pub fn traces_response(traces: &[JaegerTrace], errors: &[StructuredError]) -> String {
    envelope(0, errors, |out| {
        push_array(out, traces, |out, t| t.write_json(out))
    })
}

/// `GET /api/services`: `{"data":["a","b"],"total":2,…}`.
pub fn services_response(services: &[String]) -> String {
    envelope(services.len(), &[], |out| {
        push_array(out, services, |out, s| push_str(out, s))
    })
}

/// `GET /api/services/<s>/operations` (the UI's, legacy): the operation
/// names, `{"data":["GET /"],"total":1,…}`.
pub fn operation_names_response(names: &[String]) -> String {
    services_response(names)
}

/// `GET /api/operations?service=<s>[&spanKind=<k>]`:
/// `{"data":[{"name":"GET /","spanKind":"server"}],"total":1,…}`.
pub fn operations_response(operations: &[Operation]) -> String {
    envelope(operations.len(), &[], |out| {
        push_array(out, operations, |out, op| {
            let mut o = Obj::new(out);
            o.str("name", &op.name);
            o.str("spanKind", &op.span_kind);
            o.end();
        })
    })
}

/// `GET /api/dependencies`: `{"data":[{"parent","child","callCount"}],
/// "total":0,…}`.
pub fn dependencies_response(links: &[DependencyLink]) -> String {
    envelope(0, &[], |out| {
        push_array(out, links, |out, l| {
            let mut o = Obj::new(out);
            o.str("parent", &l.parent);
            o.str("child", &l.child);
            o.num("callCount", l.call_count);
            o.end();
        })
    })
}

/// An error answer with HTTP status `code`: `{"data":null,"total":0,
/// "limit":0,"offset":0,"errors":[{"code":404,"msg":"…"}]}` and a newline
/// (Go's `http.Error`).
pub fn error_response(code: u16, msg: &str) -> String {
    let err = StructuredError {
        code,
        msg: msg.to_string(),
        trace_id: String::new(),
    };
    let mut out = envelope(0, std::slice::from_ref(&err), |out| out.push_str("null"));
    out.push('\n');
    out
}

#[cfg(test)]
#[path = "jaeger_tests.rs"]
mod tests;
