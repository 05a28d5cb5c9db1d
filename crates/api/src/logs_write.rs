//! Logs write endpoints: Loki push (`/loki/api/v1/push`), OTLP/HTTP logs
//! (`/v1/logs`, `/otlp/v1/logs`) and JSON lines (`/api/v1/logs/jsonl`);
//! Elasticsearch bulk is in [`crate::elastic`], OTLP/gRPC logs in
//! [`crate::grpc`]. Each decodes with `argus-ingest`, then hands the streams
//! to the logs pipeline ([`argus_write::LogsPipeline`]) and answers in its
//! protocol's terms.

use crate::query::blocking;
use crate::tenant::tenant_of;
use crate::write::{header_str, otlp_error, otlp_reply, read_body};
use crate::{ApiError, AppState};
use argus_ingest::elastic::FieldMapping;
use argus_ingest::{jsonl, loki, otlp};
use argus_model::{LogPush, TenantId};
use argus_write::{LogsOutcome, LogsRejectReason};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use std::collections::HashMap;
use std::sync::Arc;

/// A request body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    /// HTTP's `deflate`: zlib-wrapped (RFC 9110).
    Deflate,
}

/// The body's encoding: none, gzip or deflate (415 otherwise).
pub(crate) fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    match header_str(headers, header::CONTENT_ENCODING).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(Encoding::Identity),
        Some(e) if e.is_empty() || e == "identity" => Ok(Encoding::Identity),
        Some(e) if e == "gzip" || e == "x-gzip" => Ok(Encoding::Gzip),
        Some(e) if e == "deflate" => Ok(Encoding::Deflate),
        Some(e) => Err(ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Encoding {e:?}: use gzip, deflate or none"
        ))),
    }
}

/// Undoes `enc`, refusing more than `max` bytes out (413). Blocking.
pub(crate) fn decompress(raw: Bytes, enc: Encoding, max: usize) -> Result<Bytes, ApiError> {
    use std::io::Read;
    let mut out = Vec::new();
    let res = match enc {
        Encoding::Identity => return Ok(raw),
        Encoding::Gzip => flate2::read::MultiGzDecoder::new(&raw[..])
            .take(max as u64 + 1)
            .read_to_end(&mut out),
        Encoding::Deflate => flate2::read::ZlibDecoder::new(&raw[..])
            .take(max as u64 + 1)
            .read_to_end(&mut out),
    };
    res.map_err(|e| ApiError::BadData(format!("invalid {enc:?} body: {e}").to_lowercase()))?;
    if out.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "request body decompresses to more than the limit of {max} bytes"
        )));
    }
    Ok(Bytes::from(out))
}

/// The media type of `Content-Type`, lowercase, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    header_str(headers, header::CONTENT_TYPE)
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Hands streams to the logs pipeline on a blocking thread.
pub(crate) async fn write_logs(
    s: &AppState,
    tenant: &TenantId,
    push: LogPush,
) -> Result<LogsOutcome, ApiError> {
    let pipeline = s.logs_pipeline()?;
    let t = tenant.clone();
    blocking(move || Ok(pipeline.write(&t, push)?)).await
}

/// A partial write as an error (the rest was stored): 429 when a limit
/// refused entries (retrying later can succeed), else 400.
pub(crate) fn partial_write(outcome: &LogsOutcome) -> Option<ApiError> {
    let m = outcome.message()?;
    Some(if outcome.limited() {
        ApiError::Limited(m)
    } else {
        ApiError::BadData(m)
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// 204 when everything was stored, else the partial write's error.
fn push_reply(outcome: &LogsOutcome) -> Response {
    match partial_write(outcome) {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(e) => e.into_response(),
    }
}

/// `POST /loki/api/v1/push`: snappy protobuf (`application/x-protobuf`, the
/// default) or JSON (`application/json`), optionally gzip or deflate.
pub(crate) async fn loki_push(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let pipeline = s.logs_pipeline()?;
    let tenant = tenant_of(&s, &headers)?;
    pipeline.check_rate(&tenant)?;
    let json = match media_type(&headers).as_str() {
        "" | "application/x-protobuf" => false,
        "application/json" => true,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "unsupported Content-Type {other:?}: Loki push takes application/x-protobuf (snappy) or application/json"
            )))
        }
    };
    let enc = content_encoding(&headers)?;
    let raw = read_body(body, &headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    let streams = blocking(move || {
        let data = decompress(raw, enc, max)?;
        Ok(if json {
            loki::decode_json(&data)?
        } else {
            loki::decode_protobuf(&data, max)?
        })
    })
    .await?;
    if streams.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let outcome = write_logs(&s, &tenant, streams).await?;
    Ok(push_reply(&outcome))
}

/// `POST /api/v1/logs/jsonl?_time_field=…&_msg_field=…&_stream_fields=a,b`:
/// one JSON object per line (`crates/ingest/src/jsonl.rs`). 204, or 400/429
/// naming what was refused (the rest is stored).
pub(crate) async fn jsonl(
    State(s): State<Arc<AppState>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let pipeline = s.logs_pipeline()?;
    let tenant = tenant_of(&s, &headers)?;
    pipeline.check_rate(&tenant)?;
    let enc = content_encoding(&headers)?;
    let raw = read_body(body, &headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    let mapping = mapping_of(&params);
    let lines = blocking(move || {
        let data = decompress(raw, enc, max)?;
        Ok(jsonl::decode_jsonl(&data, &mapping, now_ns()))
    })
    .await?;
    pipeline.count_rejected(
        &tenant,
        LogsRejectReason::InvalidDocument,
        lines.rejected.len(),
    );
    let mut outcome = write_logs(&s, &tenant, lines.streams).await?;
    for r in lines.rejected {
        outcome.add_decode_rejection(LogsRejectReason::InvalidDocument, r.to_string());
    }
    Ok(push_reply(&outcome))
}

/// The field mapping the query parameters ask for.
pub(crate) fn mapping_of(params: &HashMap<String, String>) -> FieldMapping {
    FieldMapping::from_params(
        params.get("_time_field").map(String::as_str),
        params.get("_msg_field").map(String::as_str),
        params.get("_stream_fields").map(String::as_str),
    )
}

/// `POST /v1/logs` and `/otlp/v1/logs` (OTLP/HTTP, protobuf or JSON,
/// optionally gzip), answered as `/v1/metrics` is.
pub(crate) async fn otlp_logs(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ct = media_type(&headers);
    let json = ct == "application/json";
    let r = async {
        let pipeline = s.logs_pipeline()?;
        let tenant = tenant_of(&s, &headers)?;
        pipeline.check_rate(&tenant)?;
        let data = otlp_body(&s, &headers, body, json, &ct).await?;
        let streams = blocking(move || {
            let req = otlp::logs::decode_logs_request(&data, json)?;
            Ok(otlp::logs::convert_logs(&req, now_ns()))
        })
        .await?;
        ingest_otlp_logs(&s, &tenant, streams).await
    };
    otlp_answer(json, r.await, |resp: &ExportLogsServiceResponse| {
        resp.partial_success.as_ref().map(|p| {
            serde_json::json!({"rejectedLogRecords": p.rejected_log_records.to_string(),
                "errorMessage": p.error_message})
        })
    })
}

/// The body of an OTLP/HTTP export (`json` from its `Content-Type`,
/// `ct`): protobuf or JSON, gzip or none (415 otherwise), read within
/// `max_request_bytes` and decompressed within `max_decompressed_bytes`.
pub(crate) async fn otlp_body(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    json: bool,
    ct: &str,
) -> Result<Bytes, ApiError> {
    if !json && ct != "application/x-protobuf" {
        return Err(ApiError::UnsupportedMediaType(format!("unsupported Content-Type {ct:?}: OTLP/HTTP takes application/x-protobuf or application/json")));
    }
    let enc = match content_encoding(headers)? {
        Encoding::Deflate => {
            return Err(ApiError::UnsupportedMediaType(
                "unsupported Content-Encoding \"deflate\": OTLP/HTTP takes gzip or none".into(),
            ))
        }
        e => e,
    };
    let raw = read_body(body, headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    blocking(move || decompress(raw, enc, max)).await
}

/// An OTLP/HTTP answer: 200 with the export's reply (in JSON, with
/// `partialSuccess` as `partial` gives it), or the error's status and
/// `google.rpc.Status`.
pub(crate) fn otlp_answer<R: prost::Message>(
    json: bool,
    r: Result<R, ApiError>,
    partial: impl FnOnce(&R) -> Option<serde_json::Value>,
) -> Response {
    match r {
        Ok(resp) => {
            let body_json = match partial(&resp) {
                Some(p) => serde_json::json!({ "partialSuccess": p }),
                None => serde_json::json!({}),
            };
            otlp_reply(json, StatusCode::OK, resp, body_json)
        }
        Err(e) => otlp_error(json, &e),
    }
}

/// Stores converted OTLP logs: the step OTLP/HTTP and OTLP/gRPC
/// (`LogsService/Export`) share. What was refused is a partial success; a
/// limit is an error (retry later), as for metrics.
pub(crate) async fn ingest_otlp_logs(
    s: &AppState,
    tenant: &TenantId,
    streams: LogPush,
) -> Result<ExportLogsServiceResponse, ApiError> {
    let outcome = write_logs(s, tenant, streams).await?;
    let partial = match partial_write(&outcome) {
        Some(e @ ApiError::Limited(_)) => return Err(e),
        Some(e) => Some(ExportLogsPartialSuccess {
            rejected_log_records: outcome.rejected_total() as i64,
            error_message: e.to_string(),
        }),
        None => None,
    };
    Ok(ExportLogsServiceResponse {
        partial_success: partial,
    })
}

/// Decodes an OTLP/gRPC logs message (protobuf) to streams: for `grpc.rs`.
pub(crate) async fn decode_otlp_logs_grpc(body: Bytes) -> Result<LogPush, ApiError> {
    blocking(move || {
        let req = otlp::logs::decode_logs_request(&body, false)?;
        Ok(otlp::logs::convert_logs(&req, now_ns()))
    })
    .await
}
