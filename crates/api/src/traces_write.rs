//! Traces write endpoints: OTLP/HTTP traces (`/v1/traces`,
//! `/otlp/v1/traces`) and Zipkin v2 (`/api/v2/spans`); OTLP/gRPC
//! `TraceService/Export` is in [`crate::grpc`]. Each decodes with
//! `argus-ingest`, hands the spans to the traces pipeline
//! ([`argus_write::TracesPipeline`]) and answers in its protocol's terms.

use crate::logs_write::{content_encoding, decompress, media_type, otlp_answer, otlp_body};
use crate::query::blocking;
use crate::tenant::tenant_of;
use crate::write::read_body;
use crate::{ApiError, AppState};
use argus_ingest::otlp::traces::{convert_traces, decode_traces_request, ConvertedSpans};
use argus_model::TenantId;
use argus_write::{TracesOutcome, TracesRejectReason};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use std::sync::Arc;

/// What was refused, as an error: a limit (429) or bad spans (400).
fn partial_write(outcome: &TracesOutcome) -> Option<ApiError> {
    let m = outcome.message()?;
    let limited = outcome
        .rejected
        .keys()
        .any(|r| *r == TracesRejectReason::RateLimited);
    Some(if limited {
        ApiError::Limited(m)
    } else {
        ApiError::BadData(m)
    })
}

/// Decoded spans with what the decoder refused, as a pipeline outcome.
fn decoded(conv: ConvertedSpans) -> (Vec<argus_model::traces::Span>, TracesOutcome) {
    let mut outcome = TracesOutcome::default();
    for r in conv.rejected {
        outcome.add_decode_rejection(r.spans, r.reason);
    }
    (conv.spans, outcome)
}

/// Stores decoded spans through the pipeline (blocking thread).
async fn write_spans(
    s: &AppState,
    tenant: &TenantId,
    conv: ConvertedSpans,
) -> Result<TracesOutcome, ApiError> {
    let pipeline = s.traces_pipeline()?;
    let tenant = tenant.clone();
    blocking(move || {
        let (spans, outcome) = decoded(conv);
        Ok(pipeline.write(&tenant, spans, outcome)?)
    })
    .await
}

/// Decodes an OTLP traces request (protobuf or JSON, already
/// decompressed) and stores it: the step OTLP/HTTP and OTLP/gRPC share.
/// What was refused is a partial success; a rate limit is an error.
pub(crate) async fn ingest_otlp_traces(
    s: &AppState,
    tenant: &TenantId,
    body: Bytes,
    json: bool,
) -> Result<ExportTraceServiceResponse, ApiError> {
    let conv = blocking(move || Ok(convert_traces(&decode_traces_request(&body, json)?))).await?;
    let outcome = write_spans(s, tenant, conv).await?;
    let partial = match partial_write(&outcome) {
        Some(e @ ApiError::Limited(_)) => return Err(e),
        Some(e) => Some(ExportTracePartialSuccess {
            rejected_spans: outcome.rejected_total() as i64,
            error_message: e.to_string(),
        }),
        None => None,
    };
    Ok(ExportTraceServiceResponse {
        partial_success: partial,
    })
}

/// `POST /v1/traces` (OTLP/HTTP: protobuf or JSON, optionally gzip).
pub(crate) async fn otlp_traces(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ct = media_type(&headers);
    let json = ct == "application/json";
    let r = async {
        let pipeline = s.traces_pipeline()?;
        let tenant = tenant_of(&s, &headers)?;
        pipeline.check_rate(&tenant)?;
        let data = otlp_body(&s, &headers, body, json, &ct).await?;
        ingest_otlp_traces(&s, &tenant, data, json).await
    };
    otlp_answer(json, r.await, |resp: &ExportTraceServiceResponse| {
        resp.partial_success.as_ref().map(|p| {
            serde_json::json!({"rejectedSpans": p.rejected_spans.to_string(),
                "errorMessage": p.error_message})
        })
    })
}

/// `POST /api/v2/spans` (Zipkin v2 JSON, optionally gzip): 202 when every
/// span was stored (as Zipkin's collector answers), 400 naming what was
/// refused (the rest stored), 429 over a rate limit.
pub(crate) async fn zipkin_spans(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match zipkin_inner(&s, &headers, body).await {
        Ok(outcome) => match partial_write(&outcome) {
            None => StatusCode::ACCEPTED.into_response(),
            Some(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

async fn zipkin_inner(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<TracesOutcome, ApiError> {
    let pipeline = s.traces_pipeline()?;
    let tenant = tenant_of(s, headers)?;
    pipeline.check_rate(&tenant)?;
    let ct = media_type(headers);
    if !ct.is_empty() && ct != "application/json" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type {ct:?}: Zipkin v2 spans are application/json (protobuf is not supported)"
        )));
    }
    let enc = content_encoding(headers)?;
    let raw = read_body(body, headers, s.config.max_request_bytes).await?;
    let max = s.config.max_decompressed_bytes;
    let conv = blocking(move || {
        let data = decompress(raw, enc, max)?;
        argus_ingest::zipkin::decode_zipkin(&data).map_err(|e| ApiError::BadData(e.to_string()))
    })
    .await?;
    write_spans(s, &tenant, conv).await
}
