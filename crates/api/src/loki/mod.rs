//! Loki's HTTP read API: LogQL queries ([`query`], evaluated by
//! `argus-logql`), label and series discovery
//! ([`labels`]), index statistics and volumes ([`volume`]), detected labels
//! and fields ([`detected`]), patterns ([`patterns`]), live tailing over a
//! WebSocket ([`tail`]), `format_query` and `status/buildinfo`.
//!
//! Handlers are thin: parameters as Loki's `pkg/loghttp` reads them
//! ([`params`]), one blocking call to [`argus_store::LogsReader`], and the
//! answer in Loki's JSON. Errors are answered as Loki answers them: a plain
//! text body (`parse error at line 1, col 5: …`) with the status of
//! [`ApiError::classify`] ([`LokiError`]).

mod detected;
mod labels;
mod params;
mod patterns;
mod pipeline;
mod query;
mod tail;
mod volume;

#[cfg(test)]
mod tests;

use crate::{ApiError, AppState};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

/// The Loki read routes (merged into [`crate::router`]).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/loki/api/v1/query", get(query::query).post(query::query))
        .route(
            "/loki/api/v1/query_range",
            get(query::query_range).post(query::query_range),
        )
        .route(
            "/loki/api/v1/labels",
            get(labels::labels).post(labels::labels),
        )
        .route(
            "/loki/api/v1/label/{name}/values",
            get(labels::label_values).post(labels::label_values),
        )
        .route(
            "/loki/api/v1/series",
            get(labels::series).post(labels::series),
        )
        .route(
            "/loki/api/v1/index/stats",
            get(volume::index_stats).post(volume::index_stats),
        )
        .route(
            "/loki/api/v1/index/volume",
            get(volume::volume).post(volume::volume),
        )
        .route(
            "/loki/api/v1/index/volume_range",
            get(volume::volume_range).post(volume::volume_range),
        )
        .route(
            "/loki/api/v1/detected_labels",
            get(labels::detected_labels).post(labels::detected_labels),
        )
        .route(
            "/loki/api/v1/detected_fields",
            get(detected::detected_fields).post(detected::detected_fields),
        )
        .route(
            "/loki/api/v1/detected_field/{name}/values",
            get(detected::detected_field_values).post(detected::detected_field_values),
        )
        .route(
            "/loki/api/v1/patterns",
            get(patterns::patterns).post(patterns::patterns),
        )
        .route(
            "/loki/api/v1/format_query",
            get(format_query).post(format_query),
        )
        .route("/loki/api/v1/status/buildinfo", get(buildinfo))
        .route("/loki/api/v1/tail", get(tail::tail))
}

/// An error as Loki's HTTP server writes it (`serverutil.WriteError`): the
/// message as a plain-text body, without a trailing newline, with the status
/// of [`ApiError::classify`] (400 for a bad parameter or query).
#[derive(Debug)]
pub(crate) struct LokiError(pub(crate) ApiError);

impl<E: Into<ApiError>> From<E> for LokiError {
    fn from(e: E) -> Self {
        LokiError(e.into())
    }
}

impl IntoResponse for LokiError {
    fn into_response(self) -> Response {
        (
            self.0.status(),
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            self.0.to_string(),
        )
            .into_response()
    }
}

/// A 400 with `msg` as the body.
pub(crate) fn bad(msg: impl Into<String>) -> LokiError {
    LokiError(ApiError::BadData(msg.into()))
}

/// A JSON body as Loki writes it (`application/json; charset=UTF-8`).
pub(crate) fn json_response(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// `/loki/api/v1/format_query`: the query printed back in canonical form by
/// argus-logql's printer (Loki's `syntax.Prettify` also breaks long queries
/// over lines; the canonical one-line form parses to the same tree). A query
/// that does not parse is a 400 with Loki's `invalid-query` JSON.
async fn format_query(RawQuery(q): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let p = match crate::query::params(q, &headers, &body) {
        Ok(p) => p,
        Err(e) => return LokiError(e).into_response(),
    };
    match argus_logql::parse(p.get("query").unwrap_or("")) {
        Ok(expr) => json_response(json!({"status": "success", "data": expr.to_string()})),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"status": "invalid-query", "error": e.to_string()})),
        )
            .into_response(),
    }
}

/// The Loki version Argus announces. Grafana (the Loki data source, Logs
/// Drilldown) reads `/loki/api/v1/status/buildinfo` to decide which Loki
/// features it may use (detected fields and labels, patterns, volume, the
/// structured-metadata encoding): a Loki 3.x version makes it enable the
/// endpoints this module serves. The Argus build is in `revision`.
pub(crate) const LOKI_COMPAT_VERSION: &str = "3.4.0";

/// `/loki/api/v1/status/buildinfo` in Loki's shape (Prometheus's
/// `version.Info` fields).
async fn buildinfo(State(s): State<Arc<AppState>>) -> Response {
    json_response(json!({
        "version": LOKI_COMPAT_VERSION,
        "revision": format!("argus-{}", s.version),
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}
