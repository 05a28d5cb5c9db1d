//! Write endpoints: Prometheus remote write (1.0 and 2.0) at
//! `/api/v1/write` and OTLP/HTTP metrics at `/v1/metrics`.
//! Both decode with `argus-ingest`, then hand series to the write pipeline
//! ([`argus_write::WritePipeline`]), as the scraper does.

use crate::error::otlp_code;
use crate::grpc::RpcStatus;
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_ingest::{otlp, remote_write as rw};
use argus_model::{TenantId, TimeSeries};
use argus_write::WriteOutcome;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use std::sync::Arc;

/// Reads a request body up to `limit` bytes (413 beyond), gunzipping it
/// when `Content-Encoding: gzip` and `gzip_ok`.
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "request body is larger than the limit of {limit} bytes"
        ))
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large());
        }
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("length limit"))
            || e.to_string().contains("length limit")
        {
            too_large()
        } else {
            ApiError::BadData(format!("reading request body: {e}"))
        }
    })
}

pub(crate) fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Hands decoded series to the write pipeline on a blocking thread.
async fn ingest(
    s: &AppState,
    tenant: &TenantId,
    series: Vec<TimeSeries>,
) -> Result<WriteOutcome, ApiError> {
    let pipeline = s.pipeline()?;
    let t = tenant.clone();
    Ok(
        tokio::task::spawn_blocking(move || pipeline.write(&t, series))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??,
    )
}

/// A partial write as an error (the rest was stored): 429 when a limit
/// rejected data (retrying later can succeed), else 400.
fn partial_write(outcome: &WriteOutcome, received: usize) -> Option<ApiError> {
    let m = outcome.message(received)?;
    Some(if outcome.limited() {
        ApiError::Limited(m)
    } else {
        ApiError::BadData(m)
    })
}

/// `POST /api/v1/write`.
pub(crate) async fn remote_write(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let pipeline = s.pipeline()?;
    let tenant = tenant_of(&s, &headers)?;
    pipeline.check_rate(&tenant)?;
    rw::check_content_encoding(header_str(&headers, header::CONTENT_ENCODING))?;
    let protocol = rw::protocol_from_content_type(header_str(&headers, header::CONTENT_TYPE))?;
    let body = read_body(body, &headers, s.config.max_request_bytes).await?;
    let limits = rw::DecodeLimits {
        max_decompressed_bytes: s.config.max_decompressed_bytes,
        ..Default::default()
    };
    let req = tokio::task::spawn_blocking(move || rw::decode(&body, protocol, &limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let invalid_samples = req.stats.rejected_samples + req.stats.rejected_histograms;
    let invalid: Vec<(String, usize)> = req
        .rejected
        .iter()
        .take(5)
        .map(|r| (r.to_string(), r.samples))
        .collect();
    pipeline.count_rejected(&tenant, "invalid_series", invalid_samples);
    record_metadata(&pipeline, &tenant, &req.metadata);
    let received = req.stats.samples + req.stats.histograms;
    let outcome = ingest(&s, &tenant, req.series)
        .await?
        .with_decode_rejections(invalid, invalid_samples);
    let written = outcome.report.accepted;
    let mut resp = match partial_write(&outcome, received) {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(e) => e.into_response(),
    };
    if protocol == rw::Protocol::V2 {
        let h = resp.headers_mut();
        h.insert("X-Prometheus-Remote-Write-Samples-Written", written.into());
        h.insert(
            "X-Prometheus-Remote-Write-Histograms-Written",
            outcome.report.histograms_accepted.into(),
        );
        h.insert(
            "X-Prometheus-Remote-Write-Exemplars-Written",
            outcome.exemplars.written.into(),
        );
    }
    Ok(resp)
}

/// An OTLP error answer: a `google.rpc.Status` (protobuf or JSON) with the
/// status and code of the one error table.
pub(crate) fn otlp_error(json: bool, e: &ApiError) -> Response {
    let code = otlp_code(e.status());
    let msg = e.to_string();
    otlp_reply(
        json,
        e.status(),
        RpcStatus {
            code,
            message: msg.clone(),
            details: vec![],
        },
        serde_json::json!({"code": code, "message": msg}),
    )
}

pub(crate) fn otlp_reply(
    json: bool,
    status: StatusCode,
    msg: impl prost::Message,
    json_body: serde_json::Value,
) -> Response {
    if json {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            json_body.to_string(),
        )
            .into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            msg.encode_to_vec(),
        )
            .into_response()
    }
}

/// `POST /v1/metrics` (OTLP/HTTP, protobuf or JSON, optionally gzip).
pub(crate) async fn otlp_metrics(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ct = header_str(&headers, header::CONTENT_TYPE)
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = ct.starts_with("application/json");
    match otlp_metrics_inner(&s, &headers, body, json, &ct).await {
        Ok(resp) => resp,
        Err(e) => otlp_error(json, &e),
    }
}

async fn otlp_metrics_inner(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    json: bool,
    ct: &str,
) -> Result<Response, ApiError> {
    let pipeline = s.pipeline()?;
    let tenant = tenant_of(s, headers)?;
    pipeline.check_rate(&tenant)?;
    if !json && !ct.starts_with("application/x-protobuf") {
        return Err(ApiError::UnsupportedMediaType(format!("unsupported Content-Type {ct:?}: OTLP/HTTP takes application/x-protobuf or application/json")));
    }
    let raw = read_body(body, headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    let gz = match header_str(headers, header::CONTENT_ENCODING)
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" => true,
        Some(e) => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "unsupported Content-Encoding {e:?}: use gzip or none"
            )))
        }
    };
    let opts = s.config.otlp.clone();
    let conv = tokio::task::spawn_blocking(move || -> Result<otlp::Converted, ApiError> {
        let data = if gz {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(max as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::BadData(format!("invalid gzip body: {e}")))?;
            if out.len() > max {
                return Err(ApiError::PayloadTooLarge(format!(
                    "request body decompresses to more than the limit of {max} bytes"
                )));
            }
            Bytes::from(out)
        } else {
            raw
        };
        let req = otlp::decode_request(&data, json)?;
        Ok(otlp::convert(&req, &opts))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let resp = ingest_otlp(s, &tenant, conv).await?;
    let body_json = match &resp.partial_success {
        Some(p) => {
            serde_json::json!({"partialSuccess": {"rejectedDataPoints": p.rejected_data_points.to_string(), "errorMessage": p.error_message}})
        }
        None => serde_json::json!({}),
    };
    Ok(otlp_reply(json, StatusCode::OK, resp, body_json))
}

/// Records metric metadata a sender reported (remote write's metadata,
/// OTLP's description and unit).
fn record_metadata(
    pipeline: &argus_write::WritePipeline,
    tenant: &TenantId,
    metadata: &[rw::MetricMetadata],
) {
    if metadata.is_empty() {
        return;
    }
    pipeline.record_metadata(
        tenant,
        metadata
            .iter()
            .map(|m| {
                let meta = argus_store::MetricMeta {
                    metric_type: m.metric_type.as_str().to_string(),
                    help: m.help.clone(),
                    unit: m.unit.clone(),
                };
                (m.metric_family_name.clone(), meta)
            })
            .collect(),
    );
}

/// Stores converted OTLP metrics: the step OTLP/HTTP (`/v1/metrics`) and
/// OTLP/gRPC (`MetricsService/Export`, `grpc.rs`) share. What was not stored
/// is an OTLP partial success; a limit is an error (retry later).
pub(crate) async fn ingest_otlp(
    s: &AppState,
    tenant: &TenantId,
    conv: otlp::Converted,
) -> Result<ExportMetricsServiceResponse, ApiError> {
    let pipeline = s.pipeline()?;
    let rejected_points = conv.rejected_points();
    let mut messages: Vec<String> = conv
        .rejected
        .iter()
        .take(5)
        .map(|r| format!("{}: {} ({} points)", r.metric, r.reason, r.points))
        .collect();
    pipeline.count_rejected(tenant, "otlp_unsupported", rejected_points);
    record_metadata(&pipeline, tenant, &conv.metadata);
    let received = conv.samples();
    let outcome = ingest(s, tenant, conv.series).await?;
    match partial_write(&outcome, received) {
        Some(e @ ApiError::Limited(_)) => return Err(e),
        Some(e) => messages.push(e.to_string()),
        None => {}
    }
    let rejected = (rejected_points + outcome.rejected_samples()) as i64;
    let partial = (rejected > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: rejected,
        error_message: messages.join("; "),
    });
    Ok(ExportMetricsServiceResponse {
        partial_success: partial,
    })
}
