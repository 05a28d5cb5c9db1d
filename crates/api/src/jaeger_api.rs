//! Jaeger's query API under `/jaeger` (Grafana's Jaeger data source takes
//! a URL with a path; Jaeger's own `/api/traces/<id>` would clash with
//! Tempo's): services, operations, trace search and lookup, dependencies.
//! Bodies come from [`crate::tempo::jaeger`]; times are microseconds.

use crate::query::blocking;
use crate::tempo::jaeger::{
    dependencies_response, error_response, jaeger_trace, operation_names_response,
    operations_response, services_response, traces_response, DependencyLink, JaegerTrace,
    Operation, StructuredError,
};
use crate::tempo_api::{json_reply, MAX_TRACE_READ_BYTES};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_model::traces::{parse_trace_id, Span, SpanId, SpanKind};
use argus_store::traces::{SpanFields, SpanHint, TraceScan, Visit};
use argus_traceql::search::{search, SearchRequest};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Traces an operations listing or the dependencies inspect at most.
const SCAN_TRACES: usize = 100_000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/jaeger/api/services", get(services))
        .route(
            "/jaeger/api/services/{service}/operations",
            get(operation_names),
        )
        .route("/jaeger/api/operations", get(operations))
        .route("/jaeger/api/traces", get(find_traces))
        .route("/jaeger/api/traces/{id}", get(trace_by_id))
        .route("/jaeger/api/dependencies", get(dependencies))
}

/// A Jaeger error: `{"data":null,…,"errors":[{"code","msg"}]}` with the
/// status.
fn jaeger_error(e: ApiError) -> Response {
    let status = e.status();
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        error_response(status.as_u16(), &e.to_string()),
    )
        .into_response()
}

fn reply(r: Result<String, ApiError>) -> Response {
    match r {
        Ok(body) => json_reply(body),
        Err(e) => jaeger_error(e),
    }
}

/// A time in microseconds since the epoch, as ns.
fn micros(q: &HashMap<String, String>, k: &str) -> Result<Option<i64>, ApiError> {
    match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(|us| Some(us.saturating_mul(1000)))
            .map_err(|_| {
                ApiError::BadData(format!(
                    "unable to parse param '{k}': {v:?} is not microseconds since the epoch"
                ))
            }),
    }
}

/// `start`/`end` (µs), or `end` and `lookback` (a Go duration), as the
/// Jaeger UI sends them.
fn range(q: &HashMap<String, String>) -> Result<Option<(i64, i64)>, ApiError> {
    let end = micros(q, "end")?;
    let start = match micros(q, "start")? {
        Some(s) => Some(s),
        None => match (q.get("lookback").map(|v| v.trim()), end) {
            (Some(lb), Some(e)) if !lb.is_empty() && lb != "custom" => {
                let d = argus_model::parse_go_duration(lb).ok_or_else(|| {
                    ApiError::BadData(format!("unable to parse param 'lookback': {lb:?}"))
                })?;
                Some(e.saturating_sub(d))
            }
            _ => None,
        },
    };
    Ok(match (start, end) {
        (None, None) => None,
        (a, b) => Some((a.unwrap_or(0), b.unwrap_or(i64::MAX))),
    })
}

/// `GET /jaeger/api/services`.
async fn services(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let r = async {
        let reader = s.traces_reader()?;
        let tenant = tenant_of(&s, &headers)?;
        let list = blocking(move || Ok(reader.services(&tenant, None)?)).await?;
        Ok(services_response(&list))
    };
    reply(r.await)
}

/// (name, kind) of the spans of `service` in recent traces.
async fn scan_operations(
    s: &AppState,
    headers: &HeaderMap,
    service: String,
) -> Result<BTreeSet<(String, SpanKind)>, ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    blocking(move || {
        let scan = TraceScan {
            hints: vec![SpanHint::Service(service.clone())],
            max_traces: SCAN_TRACES,
            max_trace_bytes: MAX_TRACE_READ_BYTES,
            // Names and kinds only.
            fields: SpanFields::Intrinsics,
            ..TraceScan::default()
        };
        let mut ops = BTreeSet::new();
        reader.scan(&tenant, &scan, &mut |spans, _| {
            for sp in spans.iter().filter(|sp| sp.origin.service == service) {
                if !ops
                    .iter()
                    .any(|(n, k): &(String, SpanKind)| *n == sp.name && *k == sp.kind)
                {
                    ops.insert((sp.name.clone(), sp.kind));
                }
            }
            Visit::Continue
        })?;
        Ok(ops)
    })
    .await
}

/// `GET /jaeger/api/services/<service>/operations`: names.
async fn operation_names(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(service): Path<String>,
) -> Response {
    let r = async {
        let ops = scan_operations(&s, &headers, service).await?;
        let names: BTreeSet<String> = ops.into_iter().map(|(n, _)| n).collect();
        Ok(operation_names_response(
            &names.into_iter().collect::<Vec<_>>(),
        ))
    };
    reply(r.await)
}

/// Jaeger's name of a span kind (`server`, …; `""` unspecified).
fn kind_name(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Unspecified => "",
        other => other.name(),
    }
}

/// `GET /jaeger/api/operations?service=<s>[&spanKind=<k>]`.
async fn operations(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let r = async {
        let service = q
            .get("service")
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| ApiError::BadData("parameter 'service' is required".into()))?;
        let want = q.get("spanKind").filter(|v| !v.is_empty()).cloned();
        let ops = scan_operations(&s, &headers, service).await?;
        let list: Vec<Operation> = ops
            .into_iter()
            .filter(|(_, k)| want.as_deref().is_none_or(|w| w == kind_name(*k)))
            .map(|(name, k)| Operation {
                name,
                span_kind: kind_name(k).to_string(),
            })
            .collect();
        Ok(operations_response(&list))
    };
    reply(r.await)
}

/// `GET /jaeger/api/traces/<id>`.
async fn trace_by_id(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let reader = s.traces_reader()?;
        let tenant = tenant_of(&s, &headers)?;
        let tid = parse_trace_id(id.trim())
            .ok_or_else(|| ApiError::BadData(format!("malformed trace id {id:?}")))?;
        let read =
            blocking(move || Ok(reader.trace(&tenant, &tid, None, MAX_TRACE_READ_BYTES)?)).await?;
        if read.spans.is_empty() {
            return Err(ApiError::NotFound("trace not found".into()));
        }
        Ok(traces_response(&[jaeger_trace(&read.spans)], &[]))
    };
    reply(r.await)
}

/// A TraceQL string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The TraceQL of a Jaeger search: one span of the service (and
/// operation) with the tags and duration bounds.
fn jaeger_query(q: &HashMap<String, String>) -> Result<String, ApiError> {
    let service = q
        .get("service")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadData("parameter 'service' is required".into()))?;
    let mut conds = vec![format!("resource.service.name = {}", lit(service))];
    if let Some(op) = q.get("operation").filter(|v| !v.is_empty() && *v != "all") {
        conds.push(format!("name = {}", lit(op)));
    }
    if let Some(tags) = q.get("tags").filter(|v| !v.trim().is_empty()) {
        let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(tags).map_err(|e| {
            ApiError::BadData(format!(
                "malformed 'tags' parameter: {e}; a JSON object expected"
            ))
        })?;
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            conds.push(match k.as_str() {
                "error" if v == "true" => "status = error".to_string(),
                "span.kind" => format!("kind = {v}"),
                _ if v.parse::<f64>().is_ok() || v == "true" || v == "false" => {
                    format!("(.{k} = {} || .{k} = {v})", lit(&v))
                }
                _ => format!(".{k} = {}", lit(&v)),
            });
        }
    }
    for (param, op) in [("minDuration", ">="), ("maxDuration", "<=")] {
        if let Some(d) = q.get(param).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let ns = argus_model::parse_go_duration(d)
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::BadData(format!("unable to parse param '{param}': {d:?}"))
                })?;
            conds.push(format!("duration {op} {ns}ns"));
        }
    }
    Ok(format!("{{ {} }}", conds.join(" && ")))
}

/// `GET /jaeger/api/traces?service&operation&tags&minDuration&maxDuration
/// &limit&start&end&lookback`, or `?traceID=…&traceID=…`.
async fn find_traces(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let r = async {
        let params = crate::params::Params::parse(raw.as_deref(), None)?;
        let ids: Vec<String> = params
            .get_all("traceID")
            .into_iter()
            .map(str::to_string)
            .collect();
        let q: HashMap<String, String> = params.pairs().iter().cloned().collect();
        let reader = s.traces_reader()?;
        let tenant = tenant_of(&s, &headers)?;
        if !ids.is_empty() {
            return blocking(move || {
                let mut traces = Vec::new();
                let mut errors = Vec::new();
                for id in ids {
                    let found = match parse_trace_id(id.trim()) {
                        Some(t) => reader.trace(&tenant, &t, None, MAX_TRACE_READ_BYTES)?.spans,
                        None => Vec::new(),
                    };
                    if found.is_empty() {
                        errors.push(StructuredError {
                            code: 404,
                            msg: "trace not found".into(),
                            trace_id: id,
                        });
                    } else {
                        traces.push(jaeger_trace(&found));
                    }
                }
                Ok(traces_response(&traces, &errors))
            })
            .await;
        }
        let query = argus_traceql::parse(&jaeger_query(&q)?)
            .map_err(|e| ApiError::BadData(format!("invalid search: {e}")))?;
        let limit = match q.get("limit").map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => 20,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ApiError::BadData(format!("unable to parse param 'limit': {v:?}")))?,
        };
        let req = SearchRequest {
            query,
            range_ns: range(&q)?,
            limit: limit.max(1),
            spans_per_spanset: 1,
            min_trace_duration_ns: None,
            max_trace_duration_ns: None,
            max_traces: 1_000_000,
            max_trace_bytes: MAX_TRACE_READ_BYTES,
        };
        blocking(move || {
            let (hits, _) = search(&*reader, &tenant, &req).map_err(|e| match e {
                argus_traceql::search::SearchError::Eval(e) => ApiError::BadData(e.to_string()),
                argus_traceql::search::SearchError::Storage(e) => e.into(),
            })?;
            let mut traces: Vec<JaegerTrace> = Vec::with_capacity(hits.len());
            for h in hits {
                let read = reader.trace(&tenant, &h.trace_id, None, MAX_TRACE_READ_BYTES)?;
                if !read.spans.is_empty() {
                    traces.push(jaeger_trace(&read.spans));
                }
            }
            Ok(traces_response(&traces, &[]))
        })
        .await
    };
    reply(r.await)
}

/// Calls from one service to another in a trace: each span whose parent
/// is a span of another service.
fn add_links(spans: &[Span], links: &mut BTreeMap<(String, String), u64>) {
    let by_id: HashMap<SpanId, &str> = spans
        .iter()
        .map(|s| (s.span_id, s.origin.service.as_str()))
        .collect();
    for s in spans {
        let Some(parent) = s.parent_span_id.and_then(|p| by_id.get(&p)) else {
            continue;
        };
        if *parent != s.origin.service {
            *links
                .entry((parent.to_string(), s.origin.service.clone()))
                .or_default() += 1;
        }
    }
}

/// `GET /jaeger/api/dependencies?endTs=<ms>&lookback=<ms>`.
async fn dependencies(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let r = async {
        let reader = s.traces_reader()?;
        let tenant = tenant_of(&s, &headers)?;
        let ms = |k: &str| -> Result<Option<i64>, ApiError> {
            q.get(k)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        ApiError::BadData(format!("unable to parse param '{k}': {v:?}"))
                    })
                })
                .transpose()
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let end = ms("endTs")?.unwrap_or(now_ms);
        let lookback = ms("lookback")?.unwrap_or(86_400_000);
        let range_ns = Some((
            end.saturating_sub(lookback).saturating_mul(1_000_000),
            end.saturating_mul(1_000_000),
        ));
        blocking(move || {
            let scan = TraceScan {
                range_ns,
                max_traces: SCAN_TRACES,
                max_trace_bytes: MAX_TRACE_READ_BYTES,
                // Parents, kinds and services only.
                fields: SpanFields::Intrinsics,
                ..TraceScan::default()
            };
            let mut links = BTreeMap::new();
            reader.scan(&tenant, &scan, &mut |spans, _| {
                add_links(spans, &mut links);
                Visit::Continue
            })?;
            let list: Vec<DependencyLink> = links
                .into_iter()
                .map(|((parent, child), call_count)| DependencyLink {
                    parent,
                    child,
                    call_count,
                })
                .collect();
            Ok(dependencies_response(&list))
        })
        .await
    };
    reply(r.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn jaeger_searches_become_traceql() {
        let text = jaeger_query(&q(&[
            ("service", "api"),
            ("operation", "GET /x"),
            ("tags", r#"{"http.status_code":"500","error":"true"}"#),
            ("minDuration", "1.5ms"),
        ]))
        .unwrap();
        assert_eq!(
            text,
            r#"{ resource.service.name = "api" && name = "GET /x" && status = error && (.http.status_code = "500" || .http.status_code = 500) && duration >= 1500000ns }"#
        );
        argus_traceql::parse(&text).unwrap();
        assert!(jaeger_query(&q(&[("operation", "x")])).is_err());
        assert!(jaeger_query(&q(&[("service", "a"), ("tags", "nope")])).is_err());
        assert_eq!(lit("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn lookback_sets_the_start() {
        let r = range(&q(&[("end", "2000000"), ("lookback", "1s")])).unwrap();
        assert_eq!(r, Some((1_000_000_000, 2_000_000_000)));
        assert_eq!(range(&q(&[])).unwrap(), None);
        assert!(range(&q(&[("end", "x")])).is_err());
    }
}
