//! TraceQL metrics over the traces store, as Tempo serves them:
//! `GET /api/metrics/query_range` and `GET /api/metrics/query` (`q` or
//! `query`, `start`, `end` as unix seconds, nanoseconds or RFC 3339, `since`,
//! `step`). The spans of the range are scanned once and fed to the
//! evaluator (`argus_traceql::MetricsEvaluator`).

use crate::query::blocking;
use crate::tempo::search::{
    InstantSeries, QueryInstantResponse, QueryRangeResponse, Sample, SearchMetrics, TimeSeries,
};
use crate::tempo_api::{json_reply, tempo_error, MAX_TRACE_READ_BYTES};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_model::traces::{Attr, AttrValue};
use argus_store::traces::{SpanFields, TraceScan, Visit};
use argus_traceql::{MetricsEvaluator, MetricsRequest, MetricsSeries, Value};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/metrics/query_range", get(query_range))
        .route("/api/metrics/query", get(query_instant))
}

/// A time as Tempo's API reads it: float seconds, 10 digits or fewer as
/// seconds, more as nanoseconds, else RFC 3339.
fn timestamp(v: &str) -> Option<i64> {
    if v.contains('.') {
        if let Ok(f) = v.parse::<f64>() {
            return Some((f * 1e9).round() as i64);
        }
    }
    match v.parse::<i64>() {
        Ok(n) if v.len() <= 10 => Some(n.saturating_mul(1_000_000_000)),
        Ok(n) => Some(n),
        Err(_) => crate::params::parse_rfc3339_ns(v),
    }
}

/// `start`, `end` (default now) and `since` (default 1h before the end).
fn bounds(q: &HashMap<String, String>) -> Result<(i64, i64), ApiError> {
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    let end = match get("end") {
        Some(v) => timestamp(v)
            .ok_or_else(|| ApiError::BadData(format!("could not parse 'end' parameter: {v:?}")))?,
        None => now,
    };
    let since = match get("since") {
        Some(v) => argus_model::parse_duration(v)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .map_err(|e| ApiError::BadData(format!("could not parse 'since' parameter: {e}")))?,
        None => 3_600_000_000_000,
    };
    let start = match get("start") {
        Some(v) => timestamp(v).ok_or_else(|| {
            ApiError::BadData(format!("could not parse 'start' parameter: {v:?}"))
        })?,
        None => end.min(now).saturating_sub(since),
    };
    if start > end {
        return Err(ApiError::BadData(
            "invalid start and end: start must be before end".into(),
        ));
    }
    Ok((start, end))
}

/// `step`: float seconds or a Go duration; Tempo's default otherwise.
fn step(q: &HashMap<String, String>, start: i64, end: i64) -> Result<i64, ApiError> {
    let Some(v) = q.get("step").map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(MetricsRequest::default_step_ns(start, end));
    };
    let ns = match v.parse::<f64>() {
        Ok(secs) => (secs * 1e9) as i64,
        Err(_) => argus_model::parse_go_duration(v)
            .ok_or_else(|| ApiError::BadData(format!("cannot parse {v:?} to a valid duration")))?,
    };
    if ns <= 0 {
        return Err(ApiError::BadData(format!(
            "cannot parse {v:?}: step must be positive"
        )));
    }
    Ok(ns)
}

fn label(k: &str, v: &Value) -> Attr {
    let value = match v {
        Value::Nil | Value::Other => AttrValue::Str("nil".into()),
        Value::Int(n) => AttrValue::Int(*n),
        Value::Float(x) => AttrValue::Float(*x),
        Value::Str(s) => AttrValue::Str(s.clone()),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Duration(d) => AttrValue::Float(*d as f64 / 1e9),
        other => AttrValue::Str(other.to_string()),
    };
    Attr::new(k, value)
}

fn labels(s: &MetricsSeries) -> Vec<opentelemetry_proto::tonic::common::v1::KeyValue> {
    let attrs: Vec<Attr> = s.labels.iter().map(|(k, v)| label(k, v)).collect();
    argus_ingest::otlp::traces::key_values(&attrs)
}

/// Scans the request's range and evaluates `q` over it.
async fn evaluate(
    s: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    instant: bool,
) -> Result<(Vec<MetricsSeries>, SearchMetrics), ApiError> {
    let reader = s.traces_reader()?;
    let tenant = tenant_of(s, headers)?;
    let text = q
        .get("q")
        .or_else(|| q.get("query"))
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::BadData("a TraceQL metrics query (q) is required".into()))?
        .clone();
    let query = argus_traceql::parse(&text)
        .map_err(|e| ApiError::BadData(format!("invalid TraceQL query: {e}")))?;
    let (start, end) = bounds(q)?;
    let req = if instant {
        MetricsRequest::instant(start, end)
    } else {
        MetricsRequest::range(start, end, step(q, start, end)?).aligned_like_tempo()
    };
    let mut eval =
        MetricsEvaluator::new(&query, req).map_err(|e| ApiError::BadData(e.to_string()))?;
    let hints = argus_traceql::search::hints(&query);
    blocking(move || {
        let scan = TraceScan {
            range_ns: Some((req.start_ns, req.end_ns)),
            hints,
            hints_same_span: false,
            max_traces: 0,
            max_trace_bytes: MAX_TRACE_READ_BYTES,
            fields: SpanFields::All,
        };
        let mut failure = None;
        let st = reader.scan(&tenant, &scan, &mut |spans, _| match eval.observe(spans) {
            Ok(()) => Visit::Continue,
            Err(e) => {
                failure = Some(e);
                Visit::Stop
            }
        })?;
        if let Some(e) = failure {
            return Err(ApiError::Execution(e.to_string()));
        }
        let metrics = SearchMetrics {
            inspected_traces: u32::try_from(st.inspected_traces).unwrap_or(u32::MAX),
            inspected_bytes: st.inspected_bytes,
            inspected_spans: st.inspected_spans,
            total_blocks: u32::try_from(st.total_blocks).unwrap_or(u32::MAX),
            completed_jobs: 1,
            total_jobs: 1,
            ..SearchMetrics::default()
        };
        Ok((eval.finish(), metrics))
    })
    .await
}

/// `GET /api/metrics/query_range`.
async fn query_range(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match evaluate(&s, &headers, &q, false).await {
        Ok((series, metrics)) => {
            let series = series
                .iter()
                .map(|m| TimeSeries {
                    labels: labels(m),
                    samples: m
                        .samples
                        .iter()
                        .map(|&(t, v)| Sample {
                            timestamp_ms: t,
                            value: v,
                        })
                        .collect(),
                    exemplars: Vec::new(),
                })
                .collect();
            let r = QueryRangeResponse::new(series, metrics);
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

/// `GET /api/metrics/query`: one value per series over `[start, end]`.
async fn query_instant(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match evaluate(&s, &headers, &q, true).await {
        Ok((series, metrics)) => {
            let series = series
                .iter()
                .map(|m| InstantSeries {
                    labels: labels(m),
                    value: m.samples.last().map_or(0.0, |s| s.1),
                })
                .collect();
            let r = QueryInstantResponse::new(series, metrics);
            json_reply(r.to_json())
        }
        Err(e) => tempo_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_tempo_reads_them() {
        assert_eq!(timestamp("1700000000"), Some(1_700_000_000_000_000_000));
        assert_eq!(
            timestamp("1700000000000000000"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(timestamp("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(
            timestamp("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(timestamp("nope"), None);
        let q = |p: &[(&str, &str)]| -> HashMap<String, String> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (a, b) = bounds(&q(&[("end", "1700003600"), ("since", "30m")])).unwrap();
        assert_eq!((b - a) / 1_000_000_000, 1800);
        assert!(bounds(&q(&[("start", "1700003600"), ("end", "1700000000")])).is_err());
        assert_eq!(step(&q(&[("step", "30")]), 0, 1).unwrap(), 30_000_000_000);
        assert_eq!(step(&q(&[("step", "1m")]), 0, 1).unwrap(), 60_000_000_000);
        assert!(step(&q(&[("step", "-1")]), 0, 1).is_err());
    }
}
