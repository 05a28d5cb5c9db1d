//! The web UI: its assets (embedded by `argus-ui`, or read from
//! `ApiConfig::ui_dir` while developing it) at `/ui/static/<path>`, its
//! page (`index.html`) at `/` for browsers and at every other `/ui/…`
//! path (the page routes in the browser), and the few reads and writes it
//! needs beyond the query APIs, under `/ui/api/`: the tenants, the status
//! page's usage, and saved dashboards.

use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_store::catalog::{valid_document_id, Catalog, DocumentKind};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest dashboard accepted (bytes of JSON), 413 beyond.
pub const MAX_DASHBOARD_BYTES: usize = 1 << 20;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(page))
        .route("/ui/static/{*path}", get(static_asset))
        .route("/ui/api/tenants", get(tenants))
        .route("/ui/api/status", get(status))
        .route("/ui/api/dashboards", get(list_dashboards))
        .route(
            "/ui/api/dashboards/{id}",
            get(get_dashboard)
                .put(put_dashboard)
                .delete(delete_dashboard),
        )
        .route("/ui/{*page}", get(page))
}

/// Whether a `GET /` comes from a browser (which asks for HTML) rather
/// than from an Elasticsearch client (which asks for JSON).
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"))
}

/// `index.html`, for `/` and every UI page.
pub(crate) async fn page(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve(&s, argus_ui::INDEX, &headers).await
}

async fn static_asset(
    State(s): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&s, &path, &headers).await
}

/// The page's Content-Security-Policy: scripts, styles, fonts, images and
/// connections (fetch and the tail's WebSocket) only from Argus itself —
/// the browser enforces that the UI reaches nothing else — and no framing.
/// Inline `style` attributes are allowed (components position elements
/// with them); inline scripts are not.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Headers every UI file is sent with: the policy (it matters on the page),
/// no MIME sniffing, no referrer beyond the origin.
fn security_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

async fn serve(s: &AppState, path: &str, headers: &HeaderMap) -> Response {
    let mut resp = serve_file(s, path, headers).await;
    security_headers(&mut resp);
    resp
}

async fn serve_file(s: &AppState, path: &str, headers: &HeaderMap) -> Response {
    if !argus_ui::is_clean_path(path) {
        return ApiError::NotFound(format!("no UI asset {path:?}")).into_response();
    }
    let content_type = argus_ui::content_type(path);
    if let Some(dir) = &s.config.ui_dir {
        // Development: read the file each time, no caching.
        return match tokio::fs::read(dir.join(path)).await {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                bytes,
            )
                .into_response(),
            Err(_) => ApiError::NotFound(format!("no UI asset {path:?}")).into_response(),
        };
    }
    let Some(asset) = argus_ui::asset(path) else {
        return ApiError::NotFound(format!("no UI asset {path:?}")).into_response();
    };
    let etag = HeaderValue::from_static(asset.etag);
    let cache = HeaderValue::from_static("no-cache");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == asset.etag.as_bytes())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        asset.bytes,
    )
        .into_response()
}

fn success(data: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({"status": "success", "data": data}).to_string(),
    )
        .into_response()
}

fn catalog(s: &AppState) -> Result<Arc<dyn Catalog>, ApiError> {
    s.catalog.get().cloned().ok_or_else(|| {
        ApiError::NotReady("Argus is starting up (opening storage); try again shortly".into())
    })
}

/// `GET /ui/api/tenants`: every tenant with data, and the default one.
async fn tenants(State(s): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let mut names: Vec<String> = catalog(&s)?
        .tenants()
        .await?
        .into_iter()
        .map(|t| t.to_string())
        .collect();
    let default = s.config.default_tenant.to_string();
    if !names.contains(&default) {
        names.push(default.clone());
        names.sort();
    }
    Ok(success(json!({
        "tenants": names,
        "default": default,
        "required": s.config.require_tenant,
    })))
}

/// `GET /ui/api/status`: build, start time, configuration the UI shows,
/// and storage per tenant and signal. Ingest rates and limits come from
/// `/metrics`, which the page reads itself.
async fn status(State(s): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let usage: Vec<Value> = catalog(&s)?
        .usage()
        .await?
        .into_iter()
        .map(|u| {
            json!({
                "tenant": u.tenant.to_string(),
                "signal": u.signal.as_str(),
                "objects": u.objects,
                "objectBytes": u.object_bytes,
                "walBytes": u.wal_bytes,
            })
        })
        .collect();
    Ok(success(json!({
        "version": s.version,
        "revision": option_env!("ARGUS_GIT_REVISION").unwrap_or(""),
        "startTime": s.start_time,
        "retention": s.retention_text,
        "defaultTenant": s.config.default_tenant.to_string(),
        "requireTenant": s.config.require_tenant,
        "signals": {
            "metrics": s.reader.get().is_some(),
            "logs": s.logs_reader.get().is_some(),
            "traces": s.traces_reader.get().is_some(),
        },
        "usage": usage,
    })))
}

fn dashboard_id(id: &str) -> Result<&str, ApiError> {
    if valid_document_id(id) {
        Ok(id)
    } else {
        Err(ApiError::BadData(format!(
            "dashboard id {id:?} is not valid: use 1 to 64 of A-Z a-z 0-9 _ -"
        )))
    }
}

/// `GET /ui/api/dashboards`: the tenant's dashboards, `{id, title}` each.
async fn list_dashboards(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&s, &headers)?;
    let c = catalog(&s)?;
    let mut out = Vec::new();
    for id in c.list(&tenant, DocumentKind::Dashboard).await? {
        let Some(body) = c.get(&tenant, DocumentKind::Dashboard, &id).await? else {
            continue; // deleted meanwhile
        };
        let title = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("title").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| id.clone());
        out.push(json!({"id": id, "title": title}));
    }
    Ok(success(Value::Array(out)))
}

/// `GET /ui/api/dashboards/<id>`: the dashboard as saved.
async fn get_dashboard(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&s, &headers)?;
    let id = dashboard_id(&id)?;
    match catalog(&s)?
        .get(&tenant, DocumentKind::Dashboard, id)
        .await?
    {
        Some(body) => Ok((
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::ETAG, argus_ui::etag(&body)),
            ],
            body,
        )
            .into_response()),
        None => Err(ApiError::NotFound(format!("no dashboard {id:?}"))),
    }
}

/// Checks a save's preconditions against the dashboard stored now
/// (`current`): `If-None-Match: *` creates only, `If-Match: *` replaces
/// only, `If-Match: <etag>…` replaces only the version of that ETag (what
/// the editor read), so a save does not silently undo another's.
fn check_preconditions(
    id: &str,
    headers: &HeaderMap,
    current: Option<&[u8]>,
) -> Result<(), ApiError> {
    let values = |name| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let (if_match, if_none_match) = (values(header::IF_MATCH), values(header::IF_NONE_MATCH));
    if if_none_match.iter().any(|t| t == "*") && current.is_some() {
        return Err(ApiError::PreconditionFailed(format!(
            "dashboard {id:?} already exists"
        )));
    }
    if if_match.is_empty() {
        return Ok(());
    }
    let Some(current) = current else {
        return Err(ApiError::PreconditionFailed(format!(
            "dashboard {id:?} no longer exists"
        )));
    };
    let now = argus_ui::etag(current);
    if if_match.iter().any(|t| t == "*" || *t == now) {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "dashboard {id:?} was changed since it was read (its ETag is now {now})"
        )))
    }
}

/// `PUT /ui/api/dashboards/<id>`: saves a dashboard, a JSON object with a
/// string `title` and a `panels` array; conditional with `If-Match` /
/// `If-None-Match` ([`check_preconditions`], 412 when they fail). Answers
/// the saved version's ETag.
async fn put_dashboard(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&s, &headers)?;
    let id = dashboard_id(&id)?;
    // Read no more than the limit, whatever the body's size.
    let body = crate::write::read_body(body, &headers, MAX_DASHBOARD_BYTES).await?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadData(format!("dashboard is not valid JSON: {e}")))?;
    if !v.get("title").is_some_and(Value::is_string) {
        return Err(ApiError::BadData(
            "dashboard has no string \"title\"".into(),
        ));
    }
    if !v.get("panels").is_some_and(Value::is_array) {
        return Err(ApiError::BadData(
            "dashboard has no \"panels\" array".into(),
        ));
    }
    let c = catalog(&s)?;
    if headers.contains_key(header::IF_MATCH) || headers.contains_key(header::IF_NONE_MATCH) {
        let current = c.get(&tenant, DocumentKind::Dashboard, id).await?;
        check_preconditions(id, &headers, current.as_deref())?;
    }
    let etag = argus_ui::etag(&body);
    c.put(&tenant, DocumentKind::Dashboard, id, body.to_vec())
        .await?;
    let mut resp = success(json!({"id": id}));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
}

/// `DELETE /ui/api/dashboards/<id>`.
async fn delete_dashboard(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&s, &headers)?;
    let id = dashboard_id(&id)?;
    if catalog(&s)?
        .delete(&tenant, DocumentKind::Dashboard, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::NotFound(format!("no dashboard {id:?}")))
    }
}
