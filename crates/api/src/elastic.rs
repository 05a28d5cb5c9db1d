//! The Elasticsearch surface for log shippers: `POST /_bulk` and
//! `POST /{index}/_bulk` (NDJSON, decoded by `argus_ingest::elastic`; the
//! field mapping from the query parameters `_time_field`, `_msg_field`,
//! `_stream_fields`), and `GET /`, the info document clients read the
//! version from. Every response carries `X-Elastic-Product: Elasticsearch`
//! (the official clients refuse a server without it) and errors have
//! Elasticsearch's shape (`{"error":{"type","reason",…},"status"}`), with the
//! status from the one table ([`ApiError::classify`]).
//!
//! A bulk answers 200 with one item per action, as Elasticsearch does: 201
//! `created` for a stored document, else the item's status and `error`
//! (400 for an invalid document or an unsupported action, 429 for a
//! tenant's limit). The store's own rejections (stream limit, too far
//! behind) are given per stream, not per entry: they are put on the items
//! of a stream when the store refused all of that stream's entries;
//! otherwise the items stay `created` and the rejection is only counted.

use crate::logs_write::{
    blocking, content_encoding, decompress, mapping_of, media_type, write_logs,
};
use crate::tenant::tenant_of;
use crate::write::read_body;
use crate::{ApiError, AppState};
use argus_ingest::elastic::{self, Bulk};
use argus_write::{LogsOutcome, LogsRejectReason};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The Elasticsearch version Argus answers as (clients check the major).
pub(crate) const ES_VERSION: &str = "8.11.0";

/// Adds `X-Elastic-Product: Elasticsearch` to a response.
pub(crate) async fn product_header(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    resp
}

/// An error in Elasticsearch's shape.
#[derive(Debug)]
pub(crate) struct EsError(pub ApiError);

impl<E: Into<ApiError>> From<E> for EsError {
    fn from(e: E) -> Self {
        EsError(e.into())
    }
}

/// Elasticsearch's error `type` for a status.
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "es_rejected_execution_exception",
        413 => "content_too_long_exception",
        415 => "media_type_header_exception",
        401 => "security_exception",
        503 => "cluster_block_exception",
        400..=499 => "illegal_argument_exception",
        _ => "exception",
    }
}

impl IntoResponse for EsError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let typ = error_type(status);
        let reason = self.0.to_string();
        let body = json!({
            "error": {
                "root_cause": [{"type": typ, "reason": reason}],
                "type": typ,
                "reason": reason,
            },
            "status": status.as_u16(),
        });
        (status, axum::Json(body)).into_response()
    }
}

/// `GET /` (and `HEAD /`): the cluster info document.
pub(crate) async fn info(State(s): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
        "name": "argus",
        "cluster_name": "argus",
        "cluster_uuid": "argus",
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "argus",
            "build_hash": s.version,
            "build_date": "2023-10-11T22:04:35.506990650Z",
            "build_snapshot": false,
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }))
    .into_response()
}

/// `POST /_bulk`.
pub(crate) async fn bulk(
    State(s): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    bulk_inner(&s, None, &params, &headers, body).await
}

/// `POST /{index}/_bulk`.
pub(crate) async fn bulk_index(
    State(s): State<Arc<AppState>>,
    Path(index): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    bulk_inner(&s, Some(index), &params, &headers, body).await
}

async fn bulk_inner(
    s: &AppState,
    index: Option<String>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    let start = Instant::now();
    let pipeline = s.logs_pipeline()?;
    let tenant = tenant_of(s, headers)?;
    pipeline.check_rate(&tenant)?;
    let ct = media_type(headers);
    if !(ct.is_empty() || ct.contains("json") || ct == "text/plain") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type header [{ct}] is not supported: the bulk API takes application/x-ndjson or application/json"
        ))
        .into());
    }
    let enc = content_encoding(headers)?;
    let raw = read_body(body, headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    let mapping = mapping_of(params);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let mut bulk = blocking(move || {
        let data = decompress(raw, enc, max)?;
        Ok(elastic::decode_bulk(
            &data,
            index.as_deref(),
            &mapping,
            now,
        )?)
    })
    .await?;
    let invalid = bulk.items.iter().filter(|i| i.outcome.is_err()).count();
    pipeline.count_rejected(&tenant, LogsRejectReason::InvalidDocument, invalid);
    let streams = std::mem::take(&mut bulk.streams);
    let shapes: Vec<(String, usize)> = streams
        .iter()
        .map(|s| (s.labels.to_string(), s.entries.len()))
        .collect();
    let outcome = write_logs(s, &tenant, streams).await?;
    let items = item_replies(&bulk, &outcome, &shapes);
    let errors = items.iter().any(|i| {
        i.as_object()
            .and_then(|o| o.values().next())
            .is_some_and(|v| v.get("error").is_some())
    });
    Ok(axum::Json(json!({
        "took": start.elapsed().as_millis() as u64,
        "errors": errors,
        "items": items,
    }))
    .into_response())
}

/// One reply per item, in order.
fn item_replies(bulk: &Bulk, outcome: &LogsOutcome, shapes: &[(String, usize)]) -> Vec<Value> {
    // The pipeline's rejections by position; a message per (stream, reason).
    let mut refused: HashMap<(usize, Option<usize>), LogsRejectReason> = HashMap::new();
    for &(si, ei, r) in &outcome.refused {
        refused.insert((si, ei), r);
    }
    let mut messages: HashMap<(usize, LogsRejectReason), &str> = HashMap::new();
    for r in &outcome.rejections {
        if let Some(si) = r.stream {
            messages.entry((si, r.reason)).or_insert(&r.message);
        }
    }
    // The store's rejections of whole streams, by label text.
    let mut whole: HashMap<usize, (LogsRejectReason, &str)> = HashMap::new();
    for r in outcome.rejections.iter().filter(|r| r.stream.is_none()) {
        // Streams given to the store are numbered after the refused ones
        // were left out, so match by labels: the store names streams so.
        for (si, (labels, n)) in shapes.iter().enumerate() {
            if r.message.contains(labels.as_str()) && *n == r.entries {
                whole.insert(si, (r.reason, &r.message));
            }
        }
    }
    bulk.items
        .iter()
        .map(|item| {
            let err = match &item.outcome {
                Err(e) => Some((e.status, e.kind, e.reason.clone())),
                Ok((si, ei)) => refused
                    .get(&(*si, Some(*ei)))
                    .or_else(|| refused.get(&(*si, None)))
                    .map(|r| {
                        let msg = messages.get(&(*si, *r)).copied().unwrap_or(r.as_str());
                        item_error(*r, msg)
                    })
                    .or_else(|| whole.get(si).map(|(r, msg)| item_error(*r, msg))),
            };
            let body = match err {
                Some((status, kind, reason)) => json!({
                    "_index": item.index,
                    "_id": item.id,
                    "status": status,
                    "error": {"type": kind, "reason": reason},
                }),
                None => json!({
                    "_index": item.index,
                    "_id": item.id,
                    "_version": 1,
                    "result": "created",
                    "_shards": {"total": 1, "successful": 1, "failed": 0},
                    "_seq_no": 0,
                    "_primary_term": 1,
                    "status": 201,
                }),
            };
            json!({ item.action.as_str(): body })
        })
        .collect()
}

fn item_error(r: LogsRejectReason, msg: &str) -> (u16, &'static str, String) {
    if r.is_limit() {
        (429, "es_rejected_execution_exception", msg.to_string())
    } else {
        (400, "illegal_argument_exception", msg.to_string())
    }
}
