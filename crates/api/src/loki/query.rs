//! Loki's query endpoints: `/loki/api/v1/query` and `/query_range`,
//! evaluated by `argus-logql` over the logs store and answered in Loki's
//! JSON (`argus_logql::json`), under the same admission gate as PromQL.

use super::params::{now_ns, ordered_bounds, parse_timestamp, positive, seconds_or_duration, step};
use super::{bad, LokiError};
use crate::params::Params;
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_logql::engine::{Engine, EngineOptions, EvalError, QueryParams};
use argus_store::Direction;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// Loki's default `limit` of a log query.
const DEFAULT_LIMIT: i64 = 100;

/// An evaluation error: the query's fault is a 400 (as Loki answers
/// parse, limit and pipeline errors), a store failure or a timeout keeps
/// its own status.
fn eval_error(e: EvalError) -> LokiError {
    LokiError(match e {
        EvalError::Storage(s) => ApiError::from(s),
        EvalError::Timeout(_) => ApiError::Timeout(e.to_string()),
        e => ApiError::BadData(e.to_string()),
    })
}

fn query_text(p: &Params) -> Result<String, LokiError> {
    match p.get("query") {
        Some(q) if !q.trim().is_empty() => Ok(q.to_string()),
        _ => Err(bad("query parameter is required")),
    }
}

fn direction(p: &Params) -> Result<Direction, LokiError> {
    match p.get("direction").unwrap_or("") {
        "" => Ok(Direction::Backward),
        d if d.eq_ignore_ascii_case("backward") => Ok(Direction::Backward),
        d if d.eq_ignore_ascii_case("forward") => Ok(Direction::Forward),
        d => Err(bad(format!("invalid direction '{d}'"))),
    }
}

/// Grafana's `X-Loki-Response-Encoding-Flags: categorize-labels`.
fn categorize(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-loki-response-encoding-flags")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|f| f.trim() == "categorize-labels")
}

async fn run(
    s: Arc<AppState>,
    headers: &HeaderMap,
    params: QueryParams,
) -> Result<Response, LokiError> {
    let tenant = tenant_of(&s, headers)?;
    let reader = s.logs_reader()?;
    let timeout = s.engine.options().timeout;
    let started = std::time::Instant::now();
    let permit = s.query_gate.enter(&tenant, timeout).await?;
    let left = timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    let categorize = params.categorize_labels;
    let out = blocking(move || {
        let _permit = permit;
        let engine = Engine::new(EngineOptions {
            timeout: left,
            ..Default::default()
        });
        Ok(engine
            .execute(&*reader, &tenant, &params)
            .map(|(result, stats)| argus_logql::json::encode_response(&result, &stats, categorize)))
    })
    .await?;
    let body = out.map_err(eval_error)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        body,
    )
        .into_response())
}

/// `GET|POST /loki/api/v1/query`: an instant query at `time` (default now).
pub(crate) async fn query(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let t = parse_timestamp(p.get("time").unwrap_or(""))
        .map_err(|e| bad(format!("could not parse 'time' parameter: {e}")))?
        .unwrap_or_else(now_ns);
    let mut qp = QueryParams::instant(query_text(&p)?, t);
    qp.limit = positive(&p, "limit", DEFAULT_LIMIT)?;
    qp.direction = direction(&p)?;
    qp.categorize_labels = categorize(&headers);
    run(s, &headers, qp).await
}

/// `GET|POST /loki/api/v1/query_range`: `start` (default an hour before
/// `end`), `end` (default now), `step` (default: the range over 250
/// points), `interval`, `limit`, `direction`.
pub(crate) async fn query_range(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = ordered_bounds(&p)?;
    let step = step(&p, start, end)?;
    let mut qp = QueryParams::range(query_text(&p)?, start, end, step);
    if let Some(v) = p.get("interval").filter(|v| !v.is_empty()) {
        qp.interval_ns = seconds_or_duration(v)?;
        if qp.interval_ns < 0 {
            return Err(bad("interval must be >= 0"));
        }
    }
    qp.limit = positive(&p, "limit", DEFAULT_LIMIT)?;
    qp.direction = direction(&p)?;
    qp.categorize_labels = categorize(&headers);
    run(s, &headers, qp).await
}
