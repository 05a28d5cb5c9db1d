//! Tempo's query API over the traces store: trace by id (v1 and v2, JSON
//! or protobuf), TraceQL search, tag names and values, echo and build
//! info. Bodies come from [`crate::tempo`]; errors are plain text with
//! Tempo's statuses (400 for a bad request, 404 for a trace not found).

use crate::query::blocking;
use crate::tempo::format::{self, TraceByIdMetrics, TraceByIdResponse};
use crate::tempo::search::{
    trace_id_hex, BuildInfo, MetadataMetrics, SearchMetrics, SearchResponse, SearchSpan,
    SearchTagValuesResponse, SearchTagValuesV2Response, SearchTagsResponse, SearchTagsV2Response,
    SearchTagsV2Scope, SpanSet, TagValue, TraceSearchMetadata,
};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_model::traces::{parse_trace_id, Attr, AttrValue, Span};
use argus_store::traces::{ScanStats, TraceScan, Visit};
use argus_traceql::search::{search, SearchRequest, TraceHit};
use argus_traceql::Value;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Bytes of one trace a query reads at most; a larger trace is partial.
pub(crate) const MAX_TRACE_READ_BYTES: usize = 50 << 20;

/// Traces a search, tag listing or metrics query inspects at most.
const MAX_TRACES_INSPECTED: usize = 1_000_000;

/// Traces a tag listing inspects (the most recent).
const TAG_SCAN_TRACES: usize = 10_000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/echo", get(echo))
        .route("/api/status/buildinfo", get(buildinfo))
        .route("/api/traces/{id}", get(trace_v1))
        .route("/api/v2/traces/{id}", get(trace_v2))
        .route("/api/search", get(search_traces))
        .route("/api/search/tags", get(tags_v1))
        .route("/api/v2/search/tags", get(tags_v2))
        .route("/api/search/tag/{tag}/values", get(tag_values_v1))
        .route("/api/v2/search/tag/{tag}/values", get(tag_values_v2))
}

/// A Tempo error: its status, the message as plain text.
pub(crate) fn tempo_error(e: ApiError) -> Response {
    (e.status(), e.to_string()).into_response()
}

/// A JSON body, 200.
pub(crate) fn json_reply(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn echo() -> &'static str {
    "echo"
}

async fn buildinfo(State(s): State<Arc<AppState>>) -> Response {
    let info = BuildInfo {
        version: s.version.to_string(),
        revision: String::new(),
        branch: String::new(),
        build_user: String::new(),
        build_date: String::new(),
        go_version: String::new(),
    };
    json_reply(info.to_json())
}

fn wants_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/protobuf"))
}

/// `start`/`end` in unix seconds, as Tempo takes them; `None` when neither.
fn time_range(q: &HashMap<String, String>) -> Result<Option<(i64, i64)>, ApiError> {
    let secs = |k: &str| -> Result<Option<i64>, ApiError> {
        match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(|s| Some(s.saturating_mul(1_000_000_000)))
                .map_err(|_| {
                    ApiError::BadData(format!("invalid {k} {v:?}: unix seconds expected"))
                }),
        }
    };
    match (secs("start")?, secs("end")?) {
        (None, None) => Ok(None),
        (a, b) => {
            let (a, b) = (a.unwrap_or(0), b.unwrap_or(i64::MAX));
            if a > b {
                return Err(ApiError::BadData(
                    "http parameter start must be before end".into(),
                ));
            }
            Ok(Some((a, b)))
        }
    }
}

fn trace_id(raw: &str) -> Result<argus_model::traces::TraceId, ApiError> {
    parse_trace_id(raw.trim()).ok_or_else(|| {
        ApiError::BadData(format!(
            "invalid trace id {raw:?}: 1 to 32 hex digits expected"
        ))
    })
}

async fn read_trace(
    s: &AppState,
    headers: &HeaderMap,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<argus_store::traces::TraceRead, ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    let id = trace_id(id)?;
    let range = time_range(q)?;
    blocking(move || Ok(reader.trace(&tenant, &id, range, MAX_TRACE_READ_BYTES)?)).await
}

/// `GET /api/traces/<id>`: `tempopb.Trace`, JSON with `batches` or
/// protobuf; 404 (no body) when not found, 422 when larger than a read
/// may hold (as Tempo answers a trace over its size limit).
async fn trace_v1(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let read = match read_trace(&s, &headers, &id, &q).await {
        Ok(r) => r,
        Err(e) => return tempo_error(e),
    };
    if read.spans.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if read.partial {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("trace exceeds max size (max bytes: {MAX_TRACE_READ_BYTES})"),
        )
            .into_response();
    }
    let t = format::trace(&read.spans);
    if wants_protobuf(&headers) {
        (
            [(header::CONTENT_TYPE, "application/protobuf")],
            t.to_protobuf(),
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], t.to_json_v1()).into_response()
    }
}

/// `GET /api/v2/traces/<id>`: `tempopb.TraceByIDResponse`; a trace larger
/// than a read may hold is returned in part with status `PARTIAL`.
async fn trace_v2(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let read = match read_trace(&s, &headers, &id, &q).await {
        Ok(r) => r,
        Err(e) => return tempo_error(e),
    };
    if read.spans.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let bytes: usize = read.spans.iter().map(Span::size).sum();
    let metrics = TraceByIdMetrics {
        inspected_bytes: bytes as u64,
        ..TraceByIdMetrics::default()
    };
    let mut resp = TraceByIdResponse::new(format::trace(&read.spans), metrics);
    if read.partial {
        resp = resp.partial(format!(
            "Trace exceeds maximum size of {MAX_TRACE_READ_BYTES} bytes, a partial trace is returned"
        ));
    }
    if wants_protobuf(&headers) {
        (
            [(header::CONTENT_TYPE, "application/protobuf")],
            resp.to_protobuf(),
        )
            .into_response()
    } else {
        json_reply(resp.to_json())
    }
}

/// A Go duration parameter (`100ms`, `1.5s`) in ns.
fn duration_param(q: &HashMap<String, String>, k: &str) -> Result<Option<i64>, ApiError> {
    match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => argus_model::parse_go_duration(v)
            .filter(|d| *d >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::BadData(format!(
                    "invalid {k} {v:?}: a duration such as 100ms expected"
                ))
            }),
    }
}

fn usize_param(q: &HashMap<String, String>, k: &str, default: usize) -> Result<usize, ApiError> {
    match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::BadData(format!("invalid {k} {v:?}: a count expected"))),
    }
}

/// The TraceQL of Tempo's legacy `tags` search (logfmt `k=v` pairs):
/// each pair a condition on an unscoped attribute (or the span name).
fn tags_query(tags: &str) -> Result<String, ApiError> {
    let mut conds = Vec::new();
    for pair in split_logfmt(tags) {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            ApiError::BadData(format!("invalid tags {tags:?}: k=v pairs expected"))
        })?;
        let v = v.trim_matches('"');
        let quoted = format!("{v:?}");
        let cond = match k {
            "name" => format!("name = {quoted}"),
            "status.code" | "status" => format!("status = {v}"),
            _ if v.parse::<i64>().is_ok() || v.parse::<f64>().is_ok() => {
                format!("(.{k} = {quoted} || .{k} = {v})")
            }
            _ => format!(".{k} = {quoted}"),
        };
        conds.push(cond);
    }
    Ok(if conds.is_empty() {
        "{}".to_string()
    } else {
        format!("{{ {} }}", conds.join(" && "))
    })
}

/// Splits logfmt on spaces outside double quotes.
fn split_logfmt(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if i > start {
                    out.push(&s[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn attr_of(k: &str, v: &Value) -> Option<Attr> {
    let value = match v {
        Value::Nil | Value::Other => return None,
        Value::Int(n) => AttrValue::Int(*n),
        Value::Float(x) => AttrValue::Float(*x),
        Value::Str(s) => AttrValue::Str(s.clone()),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Duration(d) => AttrValue::Int(*d),
        other => AttrValue::Str(other.to_string()),
    };
    let key = k
        .strip_prefix("span.")
        .or_else(|| k.strip_prefix("resource."))
        .or_else(|| k.strip_prefix('.'))
        .unwrap_or(k);
    Some(Attr::new(key, value))
}

fn hit_metadata(h: &TraceHit) -> TraceSearchMetadata {
    let span_sets: Vec<SpanSet> = h
        .spansets
        .iter()
        .map(|set| SpanSet {
            spans: set
                .spans
                .iter()
                .map(|(span, sel)| {
                    let attrs: Vec<Attr> = sel.iter().filter_map(|(k, v)| attr_of(k, v)).collect();
                    SearchSpan::new(span, &attrs)
                })
                .collect(),
            matched: set.matched as u32,
            attributes: argus_ingest::otlp::traces::key_values(
                &set.attrs
                    .iter()
                    .filter_map(|(k, v)| attr_of(k, v))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    TraceSearchMetadata {
        trace_id: trace_id_hex(&h.trace_id),
        root_service_name: h.root_service.clone(),
        root_trace_name: h.root_name.clone(),
        start_time_unix_nano: u64::try_from(h.start_ns).unwrap_or(0),
        duration_ms: u32::try_from(h.duration_ns / 1_000_000).unwrap_or(u32::MAX),
        span_set: span_sets.first().cloned(),
        span_sets,
        service_stats: h
            .service_stats
            .iter()
            .map(|(service, c)| {
                let stats = crate::tempo::search::ServiceStats {
                    span_count: c.spans,
                    error_count: c.errors,
                };
                (service.clone(), stats)
            })
            .collect(),
    }
}

fn search_metrics(st: &ScanStats) -> SearchMetrics {
    SearchMetrics {
        inspected_traces: u32::try_from(st.inspected_traces).unwrap_or(u32::MAX),
        inspected_bytes: st.inspected_bytes,
        total_blocks: u32::try_from(st.total_blocks).unwrap_or(u32::MAX),
        completed_jobs: 1,
        total_jobs: 1,
        inspected_spans: st.inspected_spans,
        ..SearchMetrics::default()
    }
}

/// `GET /api/search`: `q` (TraceQL) or `tags` (logfmt), `minDuration`,
/// `maxDuration`, `limit` (20), `spss` (3), `start`, `end`.
async fn search_traces(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match search_inner(&s, &headers, &q).await {
        Ok(r) => json_reply(r.to_json()),
        Err(e) => tempo_error(e),
    }
}

async fn search_inner(
    s: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<SearchResponse, ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    let text = match (q.get("q").filter(|v| !v.trim().is_empty()), q.get("tags")) {
        (Some(t), _) => t.clone(),
        (None, Some(tags)) => tags_query(tags)?,
        (None, None) => "{}".to_string(),
    };
    let query = argus_traceql::parse(&text)
        .map_err(|e| ApiError::BadData(format!("invalid TraceQL query: {e}")))?;
    if query.metrics.is_some() {
        return Err(ApiError::BadData(
            "a metrics query cannot be a search: use /api/metrics/query_range".into(),
        ));
    }
    let req = SearchRequest {
        query,
        range_ns: time_range(q)?,
        limit: usize_param(q, "limit", 20)?,
        spans_per_spanset: usize_param(q, "spss", 3)?,
        min_trace_duration_ns: duration_param(q, "minDuration")?,
        max_trace_duration_ns: duration_param(q, "maxDuration")?,
        max_traces: MAX_TRACES_INSPECTED,
        max_trace_bytes: MAX_TRACE_READ_BYTES,
    };
    let (hits, stats) = blocking(move || {
        search(&*reader, &tenant, &req).map_err(|e| match e {
            argus_traceql::search::SearchError::Eval(e) => ApiError::BadData(e.to_string()),
            argus_traceql::search::SearchError::Storage(e) => e.into(),
        })
    })
    .await?;
    Ok(SearchResponse::new(
        hits.iter().map(hit_metadata).collect(),
        search_metrics(&stats),
    ))
}

/// Attribute keys of recent spans by scope (`span`, `resource`).
struct TagScan {
    span: BTreeSet<String>,
    resource: BTreeSet<String>,
    inspected_bytes: u64,
}

async fn scan_tags(
    s: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<TagScan, ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    let scan = TraceScan {
        range_ns: time_range(q)?,
        max_traces: TAG_SCAN_TRACES,
        max_trace_bytes: MAX_TRACE_READ_BYTES,
        ..TraceScan::default()
    };
    blocking(move || {
        let mut out = TagScan {
            span: BTreeSet::new(),
            resource: BTreeSet::new(),
            inspected_bytes: 0,
        };
        let st = reader.scan(&tenant, &scan, &mut |spans, _| {
            for sp in spans {
                for a in &sp.attrs {
                    if !out.span.contains(&a.key) {
                        out.span.insert(a.key.clone());
                    }
                }
                for a in &sp.origin.resource {
                    if !out.resource.contains(&a.key) {
                        out.resource.insert(a.key.clone());
                    }
                }
            }
            Visit::Continue
        })?;
        out.inspected_bytes = st.inspected_bytes;
        Ok(out)
    })
    .await
}

fn metadata_metrics(bytes: u64) -> MetadataMetrics {
    MetadataMetrics {
        inspected_bytes: bytes,
        total_jobs: 1,
        completed_jobs: 1,
        ..MetadataMetrics::default()
    }
}

const INTRINSICS: &[&str] = &[
    "duration",
    "event:name",
    "kind",
    "name",
    "rootName",
    "rootServiceName",
    "span:childCount",
    "span:duration",
    "span:id",
    "span:kind",
    "span:name",
    "span:parentID",
    "span:status",
    "span:statusMessage",
    "status",
    "statusMessage",
    "trace:duration",
    "trace:id",
    "trace:rootName",
    "trace:rootService",
    "traceDuration",
];

/// `GET /api/search/tags` (`scope` optional): tag names of recent spans.
async fn tags_v1(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match scan_tags(&s, &headers, &q).await {
        Ok(t) => {
            let scope = q.get("scope").map(String::as_str).unwrap_or("");
            let mut names: BTreeSet<String> = BTreeSet::new();
            if scope != "resource" {
                names.extend(t.span.iter().cloned());
            }
            if scope != "span" {
                names.extend(t.resource.iter().cloned());
            }
            let r = SearchTagsResponse::new(
                names.into_iter().collect(),
                metadata_metrics(t.inspected_bytes),
            );
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

/// `GET /api/v2/search/tags` (`scope` optional): `scopes[{name, tags}]`.
async fn tags_v2(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match scan_tags(&s, &headers, &q).await {
        Ok(t) => {
            let want = q
                .get("scope")
                .map(String::as_str)
                .filter(|v| !v.is_empty() && *v != "all");
            let mut scopes = Vec::new();
            for (name, tags) in [
                ("resource", t.resource.iter().cloned().collect::<Vec<_>>()),
                ("span", t.span.iter().cloned().collect()),
                (
                    "intrinsic",
                    INTRINSICS.iter().map(|s| s.to_string()).collect(),
                ),
            ] {
                if want.is_none_or(|w| w == name) {
                    scopes.push(SearchTagsV2Scope {
                        name: name.to_string(),
                        tags,
                    });
                }
            }
            let r = SearchTagsV2Response::new(scopes, metadata_metrics(t.inspected_bytes));
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

/// The values of `tag` (`span.x`, `resource.x`, `.x`, `x`, or an
/// intrinsic) in recent spans, with their TraceQL types.
async fn scan_values(
    s: &AppState,
    headers: &HeaderMap,
    tag: &str,
    q: &HashMap<String, String>,
) -> Result<(BTreeSet<(String, String)>, u64), ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    let scan = TraceScan {
        range_ns: time_range(q)?,
        max_traces: TAG_SCAN_TRACES,
        max_trace_bytes: MAX_TRACE_READ_BYTES,
        ..TraceScan::default()
    };
    let tag = tag.to_string();
    blocking(move || {
        let mut values: BTreeSet<(String, String)> = BTreeSet::new();
        let st = reader.scan(&tenant, &scan, &mut |spans, _| {
            for sp in spans {
                for v in tag_values_of(&tag, sp) {
                    values.insert(v);
                }
            }
            if values.len() >= 10_000 {
                Visit::Stop
            } else {
                Visit::Continue
            }
        })?;
        Ok((values, st.inspected_bytes))
    })
    .await
}

/// (type, value) of `tag` in a span.
fn tag_values_of(tag: &str, sp: &Span) -> Vec<(String, String)> {
    let typed = |v: &AttrValue| -> Option<(String, String)> {
        Some(match v {
            AttrValue::Str(s) => ("string".into(), s.clone()),
            AttrValue::Int(n) => ("int".into(), n.to_string()),
            AttrValue::Float(x) => ("float".into(), x.to_string()),
            AttrValue::Bool(b) => ("bool".into(), b.to_string()),
            _ => return None,
        })
    };
    let find = |attrs: &[Attr], k: &str| {
        attrs
            .iter()
            .find(|a| a.key == k)
            .and_then(|a| typed(&a.value))
    };
    let out = match tag {
        "name" | "span:name" => Some(("string".into(), sp.name.clone())),
        "status" | "span:status" => Some(("keyword".into(), sp.status.name().to_string())),
        "kind" | "span:kind" => Some(("keyword".into(), sp.kind.name().to_string())),
        "rootServiceName" | "resource.service.name" | "service.name" | ".service.name" => {
            Some(("string".into(), sp.origin.service.clone()))
        }
        t => {
            if let Some(k) = t.strip_prefix("span.") {
                find(&sp.attrs, k)
            } else if let Some(k) = t.strip_prefix("resource.") {
                find(&sp.origin.resource, k)
            } else {
                let k = t.strip_prefix('.').unwrap_or(t);
                find(&sp.attrs, k).or_else(|| find(&sp.origin.resource, k))
            }
        }
    };
    out.into_iter().collect()
}

/// `GET /api/search/tag/<tag>/values`: the values as strings.
async fn tag_values_v1(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(tag): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match scan_values(&s, &headers, &tag, &q).await {
        Ok((values, bytes)) => {
            let strings: BTreeSet<String> = values.into_iter().map(|(_, v)| v).collect();
            let r = SearchTagValuesResponse::new(
                strings.into_iter().collect(),
                metadata_metrics(bytes),
            );
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

/// `GET /api/v2/search/tag/<tag>/values`: `tagValues[{type, value}]`.
async fn tag_values_v2(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(tag): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match scan_values(&s, &headers, &tag, &q).await {
        Ok((values, bytes)) => {
            let typed = values
                .into_iter()
                .map(|(t, v)| TagValue {
                    r#type: t,
                    value: v,
                })
                .collect();
            let r = SearchTagValuesV2Response::new(typed, metadata_metrics(bytes));
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_tags_become_traceql() {
        assert_eq!(tags_query("").unwrap(), "{}");
        assert_eq!(
            tags_query("service.name=api http.status_code=500").unwrap(),
            r#"{ .service.name = "api" && (.http.status_code = "500" || .http.status_code = 500) }"#
        );
        assert_eq!(
            tags_query(r#"name="GET /x y""#).unwrap(),
            r#"{ name = "GET /x y" }"#
        );
        assert!(tags_query("novalue").is_err());
        for q in [
            "service.name=api http.status_code=500",
            r#"name="GET /x y""#,
        ] {
            argus_traceql::parse(&tags_query(q).unwrap()).unwrap();
        }
    }
}
