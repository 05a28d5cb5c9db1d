//! Tempo's search, tag and metrics answers: the `tempopb` messages of
//! `pkg/tempopb/tempo.proto` (Apache-2.0) as prost structs, each with
//! `to_protobuf` and `to_json` (gogo `jsonpb`, as [`super::format`]
//! describes).
//!
//! | endpoint | message |
//! |---|---|
//! | `GET /api/search` | [`SearchResponse`] |
//! | `GET /api/search/tags` | [`SearchTagsResponse`] `{"tagNames":[…],"metrics":{…}}` |
//! | `GET /api/v2/search/tags` | [`SearchTagsV2Response`] `{"scopes":[{"name":"span","tags":[…]}],…}` |
//! | `GET /api/search/tag/<t>/values` | [`SearchTagValuesResponse`] `{"tagValues":["a"],…}` |
//! | `GET /api/v2/search/tag/<t>/values` | [`SearchTagValuesV2Response`] `{"tagValues":[{"type":"string","value":"a"}],…}` |
//! | `GET /api/metrics/query_range` | [`QueryRangeResponse`] |
//! | `GET /api/metrics/query` | [`QueryInstantResponse`] |
//! | `GET /api/status/buildinfo` | [`BuildInfo`] (plain `encoding/json`, not a message) |
//!
//! What Tempo's frontend sets itself, and so writes even when empty or
//! zero (`modules/frontend/combiner/*.go`): the top-level lists
//! (`"traces":[]`, `"tagNames":[]`, `"scopes":[]`, `"tagValues":[]`,
//! `"series":[]`: it builds them with `make`) and the `metrics` message
//! (`"metrics":{}` at the least); the constructors here set `metrics`.
//! Everything else follows jsonpb: zero and empty left out. So a
//! `SearchSpan` without a name has no `"name"`, a sample whose value is 0
//! is `{"timestampMs":"…"}`, `inspectedBytes` is a quoted string while
//! `inspectedTraces` is a number. `TimeSeries` has no `promLabels` any more
//! (field 3 is reserved).
//!
//! Search ids are hex strings: [`trace_id_hex`] (leading zeros trimmed)
//! and [`span_id_hex`] (16 digits).

use super::format::PartialStatus;
use super::json::{push_str, JsonPb, Obj};
use argus_model::traces::{hex_id, Attr, Span, SpanId, TraceId};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use std::collections::BTreeMap;

/// A trace id as Tempo's search answers write it: lowercase hex, leading
/// zeros trimmed (`util.TraceIDToHexString`; all zero gives `""`).
pub fn trace_id_hex(id: &TraceId) -> String {
    hex_id(id).trim_start_matches('0').to_string()
}

/// A span id as Tempo's search answers write it: 16 lowercase hex digits
/// (`util.SpanIDToHexString`).
pub fn span_id_hex(id: &SpanId) -> String {
    hex_id(id)
}

/// `tempopb.SearchResponse`: the answer of `GET /api/search`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchResponse {
    /// Tempo sorts them newest first.
    #[prost(message, repeated, tag = "1")]
    pub traces: Vec<TraceSearchMetadata>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<SearchMetrics>,
}

/// `tempopb.TraceSearchMetadata`: one trace found.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceSearchMetadata {
    /// [`trace_id_hex`].
    #[prost(string, tag = "1")]
    pub trace_id: String,
    #[prost(string, tag = "2")]
    pub root_service_name: String,
    #[prost(string, tag = "3")]
    pub root_trace_name: String,
    #[prost(uint64, tag = "4")]
    pub start_time_unix_nano: u64,
    #[prost(uint32, tag = "5")]
    pub duration_ms: u32,
    /// Deprecated; Tempo sets it to the first of `span_sets`.
    #[prost(message, optional, tag = "6")]
    pub span_set: Option<SpanSet>,
    #[prost(message, repeated, tag = "7")]
    pub span_sets: Vec<SpanSet>,
    #[prost(btree_map = "string, message", tag = "8")]
    pub service_stats: BTreeMap<String, ServiceStats>,
}

/// `tempopb.ServiceStats`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ServiceStats {
    #[prost(uint32, tag = "1")]
    pub span_count: u32,
    #[prost(uint32, tag = "2")]
    pub error_count: u32,
}

/// `tempopb.SpanSet`: the spans of a trace a query matched.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SpanSet {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<SearchSpan>,
    #[prost(uint32, tag = "2")]
    pub matched: u32,
    /// The spanset's own attributes (`by()`, aggregates).
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

/// `tempopb.Span`: a matched span in a search answer.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchSpan {
    /// [`span_id_hex`].
    #[prost(string, tag = "1")]
    pub span_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(uint64, tag = "3")]
    pub start_time_unix_nano: u64,
    #[prost(uint64, tag = "4")]
    pub duration_nanos: u64,
    #[prost(message, repeated, tag = "5")]
    pub attributes: Vec<KeyValue>,
}

impl SearchSpan {
    /// `span` with the attributes a query selected.
    pub fn new(span: &Span, attributes: &[Attr]) -> Self {
        SearchSpan {
            span_id: span_id_hex(&span.span_id),
            name: span.name.clone(),
            start_time_unix_nano: u64::try_from(span.start_ns).unwrap_or(0),
            duration_nanos: span.duration_ns(),
            attributes: argus_ingest::otlp::traces::key_values(attributes),
        }
    }
}

/// `tempopb.SearchMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchMetrics {
    #[prost(uint32, tag = "1")]
    pub inspected_traces: u32,
    #[prost(uint64, tag = "2")]
    pub inspected_bytes: u64,
    #[prost(uint32, tag = "3")]
    pub total_blocks: u32,
    #[prost(uint32, tag = "4")]
    pub completed_jobs: u32,
    #[prost(uint32, tag = "5")]
    pub total_jobs: u32,
    #[prost(uint64, tag = "6")]
    pub total_block_bytes: u64,
    #[prost(uint64, tag = "7")]
    pub inspected_spans: u64,
    #[prost(uint64, tag = "8")]
    pub backend_reads: u64,
    #[prost(uint64, tag = "9")]
    pub backend_bytes: u64,
    #[prost(btree_map = "string, int64", tag = "10")]
    pub additional_metrics: BTreeMap<String, i64>,
}

/// `tempopb.MetadataMetrics`: the metrics of the tag answers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetadataMetrics {
    #[prost(uint64, tag = "1")]
    pub inspected_bytes: u64,
    #[prost(uint32, tag = "2")]
    pub total_jobs: u32,
    #[prost(uint32, tag = "3")]
    pub completed_jobs: u32,
    #[prost(uint32, tag = "4")]
    pub total_blocks: u32,
    #[prost(uint64, tag = "5")]
    pub total_block_bytes: u64,
    #[prost(uint64, tag = "6")]
    pub backend_reads: u64,
    #[prost(uint64, tag = "7")]
    pub backend_bytes: u64,
    #[prost(btree_map = "string, int64", tag = "8")]
    pub additional_metrics: BTreeMap<String, i64>,
}

/// `tempopb.SearchTagsResponse`: `GET /api/search/tags`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchTagsResponse {
    #[prost(string, repeated, tag = "1")]
    pub tag_names: Vec<String>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<MetadataMetrics>,
}

/// `tempopb.SearchTagsV2Response`: `GET /api/v2/search/tags`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchTagsV2Response {
    #[prost(message, repeated, tag = "1")]
    pub scopes: Vec<SearchTagsV2Scope>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<MetadataMetrics>,
}

/// `tempopb.SearchTagsV2Scope`: the tags of one scope (`resource`,
/// `span`, `event`, `link`, `instrumentation`, `intrinsic`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchTagsV2Scope {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, repeated, tag = "2")]
    pub tags: Vec<String>,
}

/// `tempopb.SearchTagValuesResponse`: `GET /api/search/tag/<t>/values`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchTagValuesResponse {
    #[prost(string, repeated, tag = "1")]
    pub tag_values: Vec<String>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<MetadataMetrics>,
}

/// `tempopb.TagValue`: a typed value (`type` is `string`, `int`,
/// `float`, `bool`, `duration`, `status`, `kind`, `keyword`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TagValue {
    #[prost(string, tag = "1")]
    pub r#type: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `tempopb.SearchTagValuesV2Response`: `GET
/// /api/v2/search/tag/<t>/values`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchTagValuesV2Response {
    #[prost(message, repeated, tag = "1")]
    pub tag_values: Vec<TagValue>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<MetadataMetrics>,
}

/// `tempopb.QueryRangeResponse`: `GET /api/metrics/query_range`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryRangeResponse {
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<TimeSeries>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<SearchMetrics>,
    /// A [`PartialStatus`].
    #[prost(enumeration = "PartialStatus", tag = "3")]
    pub status: i32,
    #[prost(string, tag = "4")]
    pub message: String,
}

/// `tempopb.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Typed labels (`{"key":"span.foo","value":{"stringValue":"x"}}`).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<KeyValue>,
    /// Oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
}

/// `tempopb.Sample` (note the tags: value is 1, the time 2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(int64, tag = "2")]
    pub timestamp_ms: i64,
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// `tempopb.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<KeyValue>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(int64, tag = "3")]
    pub timestamp_ms: i64,
}

/// `tempopb.QueryInstantResponse`: `GET /api/metrics/query`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryInstantResponse {
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<InstantSeries>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<SearchMetrics>,
    /// A [`PartialStatus`].
    #[prost(enumeration = "PartialStatus", tag = "3")]
    pub status: i32,
    #[prost(string, tag = "4")]
    pub message: String,
}

/// `tempopb.InstantSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InstantSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<KeyValue>,
    #[prost(double, tag = "2")]
    pub value: f64,
}

const PARTIAL_STATUS: &[&str] = &["COMPLETE", "PARTIAL"];

/// `to_protobuf` and `to_json` for the top-level answers.
macro_rules! answers {
    ($($t:ty),*) => {$(
        impl $t {
            /// The protobuf answer (`Accept: application/protobuf`).
            pub fn to_protobuf(&self) -> Vec<u8> {
                prost::Message::encode_to_vec(self)
            }

            /// The JSON answer (gogo jsonpb).
            pub fn to_json(&self) -> String {
                let mut out = String::new();
                self.write_jsonpb(&mut out);
                out
            }
        }
    )*};
}

answers!(
    SearchResponse,
    SearchTagsResponse,
    SearchTagsV2Response,
    SearchTagValuesResponse,
    SearchTagValuesV2Response,
    QueryRangeResponse,
    QueryInstantResponse
);

impl SearchResponse {
    /// `traces` with `metrics`, as Tempo's frontend answers.
    pub fn new(traces: Vec<TraceSearchMetadata>, metrics: SearchMetrics) -> Self {
        SearchResponse {
            traces,
            metrics: Some(metrics),
        }
    }
}

impl SearchTagsResponse {
    pub fn new(tag_names: Vec<String>, metrics: MetadataMetrics) -> Self {
        SearchTagsResponse {
            tag_names,
            metrics: Some(metrics),
        }
    }
}

impl SearchTagsV2Response {
    pub fn new(scopes: Vec<SearchTagsV2Scope>, metrics: MetadataMetrics) -> Self {
        SearchTagsV2Response {
            scopes,
            metrics: Some(metrics),
        }
    }
}

impl SearchTagValuesResponse {
    pub fn new(tag_values: Vec<String>, metrics: MetadataMetrics) -> Self {
        SearchTagValuesResponse {
            tag_values,
            metrics: Some(metrics),
        }
    }
}

impl SearchTagValuesV2Response {
    pub fn new(tag_values: Vec<TagValue>, metrics: MetadataMetrics) -> Self {
        SearchTagValuesV2Response {
            tag_values,
            metrics: Some(metrics),
        }
    }
}

impl QueryRangeResponse {
    /// Complete `series` with `metrics`.
    pub fn new(series: Vec<TimeSeries>, metrics: SearchMetrics) -> Self {
        QueryRangeResponse {
            series,
            metrics: Some(metrics),
            status: PartialStatus::Complete as i32,
            message: String::new(),
        }
    }
}

impl QueryInstantResponse {
    /// Complete `series` with `metrics`.
    pub fn new(series: Vec<InstantSeries>, metrics: SearchMetrics) -> Self {
        QueryInstantResponse {
            series,
            metrics: Some(metrics),
            status: PartialStatus::Complete as i32,
            message: String::new(),
        }
    }
}

impl JsonPb for SearchResponse {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list_always("traces", &self.traces);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.end();
    }
}

impl JsonPb for TraceSearchMetadata {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("traceID", &self.trace_id);
        o.pb_str("rootServiceName", &self.root_service_name);
        o.pb_str("rootTraceName", &self.root_trace_name);
        o.pb_u64("startTimeUnixNano", self.start_time_unix_nano);
        o.pb_u32("durationMs", self.duration_ms);
        o.pb_msg("spanSet", self.span_set.as_ref());
        o.pb_list("spanSets", &self.span_sets);
        o.pb_map_msg("serviceStats", &self.service_stats);
        o.end();
    }
}

impl JsonPb for ServiceStats {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_u32("spanCount", self.span_count);
        o.pb_u32("errorCount", self.error_count);
        o.end();
    }
}

impl JsonPb for SpanSet {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("spans", &self.spans);
        o.pb_u32("matched", self.matched);
        o.pb_list("attributes", &self.attributes);
        o.end();
    }
}

impl JsonPb for SearchSpan {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("spanID", &self.span_id);
        o.pb_str("name", &self.name);
        o.pb_u64("startTimeUnixNano", self.start_time_unix_nano);
        o.pb_u64("durationNanos", self.duration_nanos);
        o.pb_list("attributes", &self.attributes);
        o.end();
    }
}

impl JsonPb for SearchMetrics {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_u32("inspectedTraces", self.inspected_traces);
        o.pb_u64("inspectedBytes", self.inspected_bytes);
        o.pb_u32("totalBlocks", self.total_blocks);
        o.pb_u32("completedJobs", self.completed_jobs);
        o.pb_u32("totalJobs", self.total_jobs);
        o.pb_u64("totalBlockBytes", self.total_block_bytes);
        o.pb_u64("inspectedSpans", self.inspected_spans);
        o.pb_u64("backendReads", self.backend_reads);
        o.pb_u64("backendBytes", self.backend_bytes);
        o.pb_map_i64("additionalMetrics", &self.additional_metrics);
        o.end();
    }
}

impl JsonPb for MetadataMetrics {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_u64("inspectedBytes", self.inspected_bytes);
        o.pb_u32("totalJobs", self.total_jobs);
        o.pb_u32("completedJobs", self.completed_jobs);
        o.pb_u32("totalBlocks", self.total_blocks);
        o.pb_u64("totalBlockBytes", self.total_block_bytes);
        o.pb_u64("backendReads", self.backend_reads);
        o.pb_u64("backendBytes", self.backend_bytes);
        o.pb_map_i64("additionalMetrics", &self.additional_metrics);
        o.end();
    }
}

impl JsonPb for SearchTagsResponse {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_strs("tagNames", &self.tag_names, true);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.end();
    }
}

impl JsonPb for SearchTagsV2Response {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list_always("scopes", &self.scopes);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.end();
    }
}

impl JsonPb for SearchTagsV2Scope {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("name", &self.name);
        o.pb_strs("tags", &self.tags, false);
        o.end();
    }
}

impl JsonPb for SearchTagValuesResponse {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_strs("tagValues", &self.tag_values, true);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.end();
    }
}

impl JsonPb for TagValue {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_str("type", &self.r#type);
        o.pb_str("value", &self.value);
        o.end();
    }
}

impl JsonPb for SearchTagValuesV2Response {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list_always("tagValues", &self.tag_values);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.end();
    }
}

impl JsonPb for QueryRangeResponse {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list_always("series", &self.series);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.pb_enum("status", self.status, PARTIAL_STATUS);
        o.pb_str("message", &self.message);
        o.end();
    }
}

impl JsonPb for TimeSeries {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("labels", &self.labels);
        o.pb_list("samples", &self.samples);
        o.pb_list("exemplars", &self.exemplars);
        o.end();
    }
}

impl JsonPb for Sample {
    fn write_jsonpb(&self, out: &mut String) {
        // The Go struct's order: timestamp (tag 2) before value (tag 1).
        let mut o = Obj::new(out);
        o.pb_i64("timestampMs", self.timestamp_ms);
        o.pb_f64("value", self.value);
        o.end();
    }
}

impl JsonPb for Exemplar {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("labels", &self.labels);
        o.pb_f64("value", self.value);
        o.pb_i64("timestampMs", self.timestamp_ms);
        o.end();
    }
}

impl JsonPb for QueryInstantResponse {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list_always("series", &self.series);
        o.pb_msg("metrics", self.metrics.as_ref());
        o.pb_enum("status", self.status, PARTIAL_STATUS);
        o.pb_str("message", &self.message);
        o.end();
    }
}

impl JsonPb for InstantSeries {
    fn write_jsonpb(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.pb_list("labels", &self.labels);
        o.pb_f64("value", self.value);
        o.end();
    }
}

/// `GET /api/status/buildinfo`: Prometheus's `PrometheusVersion`, which
/// Tempo writes with `json.NewEncoder(w).Encode` (every field, a newline
/// after; `cmd/tempo/app/app.go`, `buildinfoHandler`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub revision: String,
    pub branch: String,
    pub build_user: String,
    pub build_date: String,
    pub go_version: String,
}

impl BuildInfo {
    /// The JSON answer, newline included.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut o = Obj::new(&mut out);
        for (k, v) in [
            ("version", &self.version),
            ("revision", &self.revision),
            ("branch", &self.branch),
            ("buildUser", &self.build_user),
            ("buildDate", &self.build_date),
            ("goVersion", &self.go_version),
        ] {
            push_str(o.key(k), v);
        }
        o.end();
        out.push('\n');
        out
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
