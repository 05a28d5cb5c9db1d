//! Loki's query endpoints: `/loki/api/v1/query` and `/query_range`,
//! evaluated by `argus-logql` over the logs store, answered in Loki's JSON
//! (`argus_logql::json`). Errors are plain text, as Loki writes them.

use crate::params::{parse_time, Params};
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_logql::engine::{Engine, EvalError, QueryParams};
use argus_store::Direction;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;

/// Loki's default `limit` of a log query.
const DEFAULT_LIMIT: usize = 100;

/// A failure answered as Loki does: the status and the message as text.
#[derive(Debug)]
pub(crate) struct LokiError(pub(crate) ApiError);

impl From<ApiError> for LokiError {
    fn from(e: ApiError) -> Self {
        LokiError(e)
    }
}

impl From<EvalError> for LokiError {
    fn from(e: EvalError) -> Self {
        LokiError(match e {
            EvalError::Storage(s) => ApiError::from(s),
            EvalError::Timeout(_) => ApiError::Timeout(e.to_string()),
            e => ApiError::BadData(e.to_string()),
        })
    }
}

impl IntoResponse for LokiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", self.0),
        )
            .into_response()
    }
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A Loki timestamp: float seconds (with a `.`), an integer (seconds when
/// at most 10 digits, else nanoseconds), or RFC 3339 with nanoseconds.
pub(crate) fn parse_loki_time(s: &str) -> Option<i64> {
    if s.contains('.') && !s.contains('T') {
        let f: f64 = s.parse().ok()?;
        if !f.is_finite() || f.abs() > 9.2e9 {
            return None;
        }
        let secs = f.trunc();
        return Some(secs as i64 * 1_000_000_000 + ((f - secs) * 1e9).round() as i64);
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(if s.trim_start_matches('-').len() <= 10 {
            n.checked_mul(1_000_000_000)?
        } else {
            n
        });
    }
    // RFC 3339: whole seconds by the shared parser, the fraction here.
    let t = s.find('T')?;
    let (whole, nanos) = match s[t..].find('.') {
        Some(dot) => {
            let dot = t + dot;
            let digits: String = s[dot + 1..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let rest = &s[dot + 1 + digits.len()..];
            let mut frac = digits.clone();
            frac.truncate(9);
            while frac.len() < 9 {
                frac.push('0');
            }
            (format!("{}{}", &s[..dot], rest), frac.parse::<i64>().ok()?)
        }
        None => (s.to_string(), 0),
    };
    let ms = parse_time(&whole).ok()?;
    Some(ms.checked_mul(1_000_000)? + nanos)
}

fn time_ns(p: &Params, key: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(key) {
        None | Some("") => Ok(default),
        Some(s) => parse_loki_time(s).ok_or_else(|| {
            ApiError::BadData(format!(
                "invalid {key}: cannot parse {s:?} to a valid timestamp"
            ))
        }),
    }
}

/// `step` or `interval`: float seconds or a duration (`5m`), in ns.
fn duration_ns(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(s) = p.get(key).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && f.abs() < 9.2e9 {
            return Ok(Some((f * 1e9).round() as i64));
        }
    }
    argus_model::parse_duration(s)
        .map(|d| Some(d.as_nanos() as i64))
        .map_err(|_| {
            ApiError::BadData(format!(
                "invalid {key}: cannot parse {s:?} to a valid duration"
            ))
        })
}

fn query_text(p: &Params) -> Result<String, ApiError> {
    match p.get("query") {
        Some(q) if !q.trim().is_empty() => Ok(q.to_string()),
        _ => Err(ApiError::BadData("query parameter is required".into())),
    }
}

fn limit(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| ApiError::BadData(format!("invalid limit: cannot parse {s:?}"))),
    }
}

fn direction(p: &Params) -> Result<Direction, ApiError> {
    match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("backward") => Ok(Direction::Backward),
        Some("forward") => Ok(Direction::Forward),
        Some(d) => Err(ApiError::BadData(format!("invalid direction '{d}'"))),
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

/// Loki's default step: the range over 250 points, at least 1 s.
fn default_step(start: i64, end: i64) -> i64 {
    (((end - start) / 1_000_000_000) / 250).max(1) * 1_000_000_000
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
    let body = blocking(move || {
        let _permit = permit;
        let engine = Engine::new(argus_logql::engine::EngineOptions {
            timeout: left,
            ..Default::default()
        });
        let out = engine.execute(&*reader, &tenant, &params);
        Ok(out
            .map(|(result, stats)| argus_logql::json::encode_response(&result, &stats, categorize)))
    })
    .await??;
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
    let t = time_ns(&p, "time", now_ns())?;
    let mut qp = QueryParams::instant(query_text(&p)?, t);
    qp.limit = limit(&p)?;
    qp.direction = direction(&p)?;
    qp.categorize_labels = categorize(&headers);
    run(s, &headers, qp).await
}

/// `GET|POST /loki/api/v1/query_range`: `start` (default an hour before
/// `end`), `end` (default now), `step`, `interval`, `limit`, `direction`.
pub(crate) async fn query_range(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let end = time_ns(&p, "end", now_ns())?;
    let since = duration_ns(&p, "since")?.unwrap_or(3_600_000_000_000);
    let start = time_ns(&p, "start", end - since)?;
    if end < start {
        return Err(ApiError::BadData(
            "end timestamp must not be before or equal to start time".into(),
        )
        .into());
    }
    let step = duration_ns(&p, "step")?.unwrap_or_else(|| default_step(start, end));
    if step <= 0 {
        return Err(ApiError::BadData("zero or negative query resolution step widths are not accepted. Try a positive integer".into()).into());
    }
    if (end - start) / step > 11_000 {
        return Err(ApiError::BadData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into()).into());
    }
    let mut qp = QueryParams::range(query_text(&p)?, start, end, step);
    qp.interval_ns = duration_ns(&p, "interval")?.unwrap_or(0);
    qp.limit = limit(&p)?;
    qp.direction = direction(&p)?;
    qp.categorize_labels = categorize(&headers);
    run(s, &headers, qp).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loki_times() {
        assert_eq!(
            parse_loki_time("1700000000"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_loki_time("1700000000000000001"),
            Some(1_700_000_000_000_000_001)
        );
        assert_eq!(
            parse_loki_time("1700000000.5"),
            Some(1_700_000_000_500_000_000)
        );
        assert_eq!(
            parse_loki_time("2023-11-14T22:13:20.000000007Z"),
            Some(1_700_000_000_000_000_007)
        );
        assert_eq!(
            parse_loki_time("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(parse_loki_time("yesterday"), None);
        assert_eq!(default_step(0, 3_600_000_000_000), 14_000_000_000);
    }
}
