//! Tempo's trace-by-id answers: `tempopb.Trace` (`GET /api/traces/<id>`)
//! and `tempopb.TraceByIDResponse` (`GET /api/v2/traces/<id>`), in
//! protobuf and in Tempo's JSON.
//!
//! # Wire facts (verified against Tempo's source, `grafana/tempo` at
//! `ad33aa8f`, Aug 2026)
//!
//! * **Marshaller.** Every JSON answer of Tempo's query frontend is
//!   gogo/protobuf's `jsonpb.Marshaler{}` with every option off
//!   (`modules/frontend/combiner/common.go`, `internalMarshalAs`;
//!   `pkg/tempopb/trace_utils.go`, `MarshalToJSONV1`): no `OrigName` (names
//!   are the lowerCamelCase JSON names, `traceId`, `startTimeUnixNano`), no
//!   `EmitDefaults` (zero scalars, unset messages and nil lists are left
//!   out), no `EnumsAsInts` (enums by name), compact, no trailing newline.
//!   Protobuf (`Accept: application/protobuf`, content type
//!   `application/protobuf`) is `proto.Marshal` of the same message.
//! * **Ids in trace JSON are base64.** `Span.traceId`, `spanId`,
//!   `parentSpanId` and the link ids are `bytes` fields: standard base64 with
//!   padding (`"AAAAAAAAAAAAAAAAAAAAAQ=="`), not hex. A root span has no
//!   `parentSpanId` key.
//! * **Ids in search JSON are hex strings**, since those fields are
//!   `string`s (`pkg/traceql/engine.go`, `asTraceSearchMetadata`):
//!   `traceID` is lowercase hex with leading zeros trimmed
//!   (`util.TraceIDToHexString`); `spanID` lowercase hex padded to 16
//!   digits (`util.SpanIDToHexString`). See [`super::search`].
//! * **Enums by name.** `"kind":"SPAN_KIND_SERVER"`,
//!   `"code":"STATUS_CODE_ERROR"`, `"status":"PARTIAL"`; the zero value
//!   (`SPAN_KIND_UNSPECIFIED`, `STATUS_CODE_UNSET`, `COMPLETE`) is left out.
//! * **Numbers.** 64-bit fields (`fixed64` times, `uint64` byte counts,
//!   `int64` `intValue`) are quoted strings (`"startTimeUnixNano":"1700…"`,
//!   `{"intValue":"5"}`); 32-bit ones are numbers (`"flags":1`,
//!   `"durationMs":12`); doubles are numbers in Go's notation, `"NaN"`,
//!   `"Infinity"`, `"-Infinity"` when not finite.
//! * **Attribute values** are `AnyValue` oneofs, written even when zero:
//!   `{"stringValue":""}`, `{"intValue":"0"}`, `{"boolValue":false}`,
//!   `{"doubleValue":0}`, `{"bytesValue":"<base64>"}`,
//!   `{"arrayValue":{"values":[…]}}`, `{"kvlistValue":{"values":[…]}}`.
//! * **v1 `GET /api/traces/<id>`**: JSON is `tempopb.Trace` whose field 1
//!   `resourceSpans` is renamed `batches` (`{"batches":[ResourceSpans…]}`,
//!   `{}` for an empty trace); protobuf is `tempopb.Trace` (field 1,
//!   repeated `ResourceSpans`). A missing trace is a 404 with no body.
//! * **v2 `GET /api/v2/traces/<id>`**: `tempopb.TraceByIDResponse { Trace
//!   trace = 1; TraceByIDMetrics metrics = 2; PartialStatus status = 3;
//!   string message = 4; }`. `trace` and `metrics` are always set
//!   (`{"trace":{},"metrics":{}}` at the least), the trace's list is
//!   named `resourceSpans` here; `status` is left out when `COMPLETE` (0)
//!   and `"PARTIAL"` with a `message` otherwise.
//! * **Spans as Tempo stores them** always carry a `status` (`"status":{}`
//!   when unset: its parquet reader builds one for every span and the
//!   message survives the protobuf hop to the frontend); [`trace`] does
//!   the same.
//! * Field order is the Go structs' (proto declaration order, except
//!   `Span.flags` after `parentSpanId` and `Status.message` before `code`).

use super::json::{JsonPb, Obj};
use argus_model::traces::Span;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Status};
use std::collections::BTreeMap;

/// `tempopb.Trace`: a trace as Tempo answers `GET /api/traces/<id>`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Trace {
    /// Field 1 (`resourceSpans`; `batches` in the v1 JSON).
    #[prost(message, repeated, tag = "1")]
    pub resource_spans: Vec<ResourceSpans>,
}

/// `tempopb.PartialStatus`: whether a trace-by-id answer holds the whole
/// trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum PartialStatus {
    Complete = 0,
    Partial = 1,
}

/// `tempopb.TraceByIDMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceByIdMetrics {
    #[prost(uint64, tag = "1")]
    pub inspected_bytes: u64,
    /// Backend read operations.
    #[prost(uint64, tag = "2")]
    pub backend_reads: u64,
    /// Bytes read from the backend, cache hits excluded.
    #[prost(uint64, tag = "3")]
    pub backend_bytes: u64,
    /// Open-ended counters.
    #[prost(btree_map = "string, int64", tag = "4")]
    pub additional_metrics: BTreeMap<String, i64>,
}

/// `tempopb.TraceByIDResponse`: the answer of `GET /api/v2/traces/<id>`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceByIdResponse {
    #[prost(message, optional, tag = "1")]
    pub trace: Option<Trace>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<TraceByIdMetrics>,
    /// A [`PartialStatus`].
    #[prost(enumeration = "PartialStatus", tag = "3")]
    pub status: i32,
    /// Why the trace is partial.
    #[prost(string, tag = "4")]
    pub message: String,
}

/// `spans` as Tempo answers them: grouped by origin into `ResourceSpans`
/// (one `ScopeSpans` each, in order; see
/// [`argus_ingest::otlp::traces::encode_resource_spans`]), every span with
/// a `status` (empty when unset), as Tempo's store gives them back.
pub fn trace(spans: &[Span]) -> Trace {
    let mut resource_spans = argus_ingest::otlp::traces::encode_resource_spans(spans);
    for rs in &mut resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                s.status.get_or_insert_with(Status::default);
            }
        }
    }
    Trace { resource_spans }
}

impl Trace {
    /// The protobuf answer of `GET /api/traces/<id>` (`Accept:
    /// application/protobuf`).
    pub fn to_protobuf(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(self)
    }

    /// The JSON answer of `GET /api/traces/<id>`: `{"batches":[…]}`
    /// (Tempo's `MarshalToJSONV1`).
    pub fn to_json_v1(&self) -> String {
        self.json_named("batches")
    }

    /// jsonpb of the message itself: `{"resourceSpans":[…]}`.
    pub fn to_json(&self) -> String {
        self.json_named("resourceSpans")
    }

    fn json_named(&self, name: &str) -> String {
        let mut out = String::new();
        self.write_named(&mut out, name);
        out
    }

    fn write_named(&self, out: &mut String, name: &str) {
        let mut o = Obj::new(out);
        o.pb_list(name, &self.resource_spans);
        o.end();
    }
}

impl JsonPb for Trace {
    fn write_jsonpb(&self, out: &mut String) {
        self.write_named(out, "resourceSpans");
    }
}

impl JsonPb for TraceByIdMetrics {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_u64("inspectedBytes", self.inspected_bytes);
        o.pb_u64("backendReads", self.backend_reads);
        o.pb_u64("backendBytes", self.backend_bytes);
        o.pb_map_i64("additionalMetrics", &self.additional_metrics);
        o.end();
    }
}

impl TraceByIdResponse {
    /// The answer for `trace` with `metrics`, complete, as Tempo's
    /// frontend builds it (both messages set).
    pub fn new(trace: Trace, metrics: TraceByIdMetrics) -> Self {
        TraceByIdResponse {
            trace: Some(trace),
            metrics: Some(metrics),
            status: PartialStatus::Complete as i32,
            message: String::new(),
        }
    }

    /// Marks the answer partial, saying why.
    pub fn partial(mut self, message: impl Into<String>) -> Self {
        self.status = PartialStatus::Partial as i32;
        self.message = message.into();
        self
    }

    /// The protobuf answer of `GET /api/v2/traces/<id>`.
    pub fn to_protobuf(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(self)
    }

    /// The JSON answer of `GET /api/v2/traces/<id>`.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        o.pb_msg("trace", self.trace.as_ref());
        o.pb_msg("metrics", self.metrics.as_ref());
        o.pb_enum("status", self.status, &["COMPLETE", "PARTIAL"]);
        o.pb_str("message", &self.message);
        o.end();
        out
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
pub(crate) mod tests;
