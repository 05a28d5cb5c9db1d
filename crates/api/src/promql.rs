//! The Prometheus query API: `/api/v1/query`, `/api/v1/query_range`,
//! `/api/v1/format_query`, `/api/v1/parse_query` and the status endpoints.
//! Evaluation is `argus-promql` over the tenant's storage.

use crate::error::JsonError;
use crate::params::{parse_time, time_param, Params};
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_promql::QueryResult;
use argus_store::{MetricsReader, TenantReader};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

/// One tenant's storage as the engine sees it.
type TenantStorage = TenantReader<Arc<dyn MetricsReader>>;

fn json_response(status: StatusCode, v: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn success(r: QueryResult) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("status".into(), json!("success"));
    body.insert("data".into(), r.value.to_prometheus_json());
    if !r.warnings.is_empty() {
        body.insert("warnings".into(), json!(r.warnings));
    }
    if !r.infos.is_empty() {
        body.insert("infos".into(), json!(r.infos));
    }
    json_response(StatusCode::OK, Value::Object(body))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A duration parameter: float seconds or a Prometheus duration (`5m`).
fn duration_param(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(s) = p.get(key).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::BadData(format!(
            "invalid parameter \"{key}\": cannot parse \"{s}\" to a valid duration"
        ))
    };
    if let Ok(f) = s.parse::<f64>() {
        let ms = f * 1000.0;
        if !ms.is_finite() || ms.abs() > i64::MAX as f64 {
            return Err(bad());
        }
        return Ok(Some(ms.round() as i64));
    }
    argus_model::parse_duration(s)
        .map(|d| Some(d.as_millis() as i64))
        .map_err(|_| bad())
}

fn query_param(p: &Params) -> Result<String, ApiError> {
    match p.get("query") {
        Some(q) if !q.trim().is_empty() => Ok(q.to_string()),
        _ => Err(ApiError::BadData("invalid parameter \"query\": unknown position: parse error: no expression found in input".into())),
    }
}

struct Prepared {
    storage: TenantStorage,
    engine: Arc<argus_promql::Engine>,
    query: String,
}

fn prepare(s: &AppState, headers: &HeaderMap, p: &Params) -> Result<Prepared, ApiError> {
    let tenant = tenant_of(s, headers)?;
    let reader = s.reader()?;
    let mut engine = s.engine.clone();
    if let Some(t) = duration_param(p, "timeout")? {
        let mut opts = engine.options().clone();
        opts.timeout = opts
            .timeout
            .min(std::time::Duration::from_millis(t.max(0) as u64));
        engine = Arc::new(argus_promql::Engine::new(opts));
    }
    Ok(Prepared {
        storage: TenantReader { reader, tenant },
        engine,
        query: query_param(p)?,
    })
}

/// A query let in by the gate ([`crate::gate::QueryGate`]), its timeout
/// reduced by the time it waited (the timeout covers queue and evaluation,
/// as in Prometheus). The permit is held until evaluation ends.
struct Admitted {
    storage: TenantStorage,
    engine: Arc<argus_promql::Engine>,
    query: String,
    permit: crate::gate::QueryPermit,
}

async fn admit(s: &AppState, pr: Prepared) -> Result<Admitted, ApiError> {
    let timeout = pr.engine.options().timeout;
    let started = std::time::Instant::now();
    let permit = s.query_gate.enter(&pr.storage.tenant, timeout).await?;
    let waited = started.elapsed();
    let mut engine = pr.engine;
    if !waited.is_zero() {
        let mut opts = engine.options().clone();
        opts.timeout = timeout.saturating_sub(waited);
        engine = Arc::new(argus_promql::Engine::new(opts));
    }
    Ok(Admitted {
        storage: pr.storage,
        engine,
        query: pr.query,
        permit,
    })
}

pub(crate) async fn query(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let t = match p.get("time") {
        None | Some("") => now_ms(),
        Some(_) => time_param(&p, "time", 0)?,
    };
    let pr = admit(&s, prepare(&s, &headers, &p)?).await?;
    let res = blocking(move || {
        let _permit = &pr.permit;
        Ok(pr.engine.instant(&pr.storage, &pr.query, t))
    })
    .await?;
    Ok(success(res?))
}

pub(crate) async fn query_range(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let start = required_time(&p, "start")?;
    let end = required_time(&p, "end")?;
    if end < start {
        return Err(ApiError::BadData("end timestamp must not be before start time".into()).into());
    }
    let step = duration_param(&p, "step")?.ok_or_else(|| {
        ApiError::BadData(
            "invalid parameter \"step\": cannot parse \"\" to a valid duration".into(),
        )
    })?;
    if step <= 0 {
        return Err(ApiError::BadData("zero or negative query resolution step widths are not accepted. Try a positive integer".into()).into());
    }
    if (end - start) / step > 11_000 {
        return Err(ApiError::BadData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into()).into());
    }
    let pr = admit(&s, prepare(&s, &headers, &p)?).await?;
    let res = blocking(move || {
        let _permit = &pr.permit;
        Ok(pr.engine.range(&pr.storage, &pr.query, start, end, step))
    })
    .await?;
    Ok(success(res?))
}

fn required_time(p: &Params, key: &str) -> Result<i64, ApiError> {
    match p.get(key) {
        None | Some("") => Err(ApiError::BadData(format!(
            "invalid parameter \"{key}\": cannot parse \"\" to a valid timestamp"
        ))),
        Some(v) => parse_time(v).map_err(|_| {
            ApiError::BadData(format!(
                "invalid parameter \"{key}\": cannot parse \"{v}\" to a valid timestamp"
            ))
        }),
    }
}

/// Deepest query `/api/v1/format_query` formats (its output for 1,000 levels
/// is about 1 MB).
const MAX_FORMAT_DEPTH: usize = 1_000;

/// Parses the `query` parameter and answers with what `render` makes of its
/// tree as `data`, on a blocking thread and on a stack deep enough for any
/// query the depth limit lets through: parsing, rendering and dropping the
/// tree (and a `Value` as deep as it) recurse once per level.
async fn with_parsed(
    p: &Params,
    render: impl FnOnce(&promql_parser::parser::Expr) -> Result<Value, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let q = query_param(p)?;
    let body = blocking(move || {
        argus_promql::with_stack(|| {
            let expr = argus_promql::parse(&q)
                .map_err(|e| ApiError::BadData(format!("invalid parameter \"query\": {e}")))?;
            let data = render(&expr)?;
            Ok(json!({"status": "success", "data": data}).to_string())
        })
    })
    .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

pub(crate) async fn format_query(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    // Formatting indents every level on a line of its own: its output grows
    // with the square of the depth, hence a lower limit than for evaluation.
    argus_promql::check_depth(&query_param(&p)?, MAX_FORMAT_DEPTH)
        .map_err(|e| ApiError::BadData(format!("invalid parameter \"query\": {e}")))?;
    Ok(with_parsed(&p, |expr| Ok(json!(expr.prettify()))).await?)
}

pub(crate) async fn parse_query(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    Ok(with_parsed(&p, |expr| {
        serde_json::to_value(expr).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?)
}

pub(crate) async fn buildinfo(State(s): State<Arc<AppState>>) -> Response {
    json_response(
        StatusCode::OK,
        json!({"status": "success", "data": {
            "version": s.version, "revision": option_env!("ARGUS_GIT_REVISION").unwrap_or(""), "branch": "",
            "buildUser": "", "buildDate": "", "goVersion": ""
        }}),
    )
}

pub(crate) async fn runtimeinfo(State(s): State<Arc<AppState>>) -> Response {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    json_response(
        StatusCode::OK,
        json!({"status": "success", "data": {
            "startTime": s.start_time, "CWD": cwd, "reloadConfigSuccess": true, "lastConfigTime": s.start_time,
            "corruptionCount": 0, "goroutineCount": 0, "GOMAXPROCS": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "GOMEMLIMIT": 0, "GOGC": "", "GODEBUG": "", "storageRetention": s.retention_text
        }}),
    )
}
