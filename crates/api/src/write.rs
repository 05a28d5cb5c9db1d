//! Write endpoints: Prometheus remote write (1.0 and 2.0) at
//! `/api/v1/write` and OTLP/HTTP metrics at `/v1/metrics`.
//! Both decode with `argus-ingest`, then hand series to [`ingest_series`].

use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_ingest::{otlp, remote_write as rw};
use argus_model::{TenantId, TimeSeries};
use argus_tsdb::{AppendReport, SeriesLimits};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use std::fmt::Write;
use std::sync::Arc;

/// Reads a request body up to `limit` bytes (413 beyond), gunzipping it
/// when `Content-Encoding: gzip` and `gzip_ok`.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
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

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn decode_err(e: rw::DecodeError) -> ApiError {
    match e.http_status() {
        413 => ApiError::PayloadTooLarge(e.to_string()),
        415 => ApiError::UnsupportedMediaType(e.to_string()),
        _ => ApiError::BadData(e.to_string()),
    }
}

/// What storing a decoded request did, plus rejections found while decoding.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    pub report: AppendReport,
    /// Rejections from decoding/validation: (description, samples).
    pub invalid: Vec<(String, usize)>,
    pub invalid_samples: usize,
}

impl WriteOutcome {
    pub fn rejected_samples(&self) -> usize {
        self.invalid_samples + self.report.rejected_total()
    }

    /// A sentence listing what was rejected, or None when nothing was.
    pub fn message(&self, received: usize) -> Option<String> {
        let rejected = self.rejected_samples();
        if rejected == 0 {
            return None;
        }
        let mut m = format!(
            "{rejected} of {received} samples rejected (the other {} were stored)",
            received.saturating_sub(rejected)
        );
        let mut reasons: Vec<String> = self
            .report
            .rejected_samples
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        if self.invalid_samples > 0 {
            reasons.push(format!("invalid_series: {}", self.invalid_samples));
        }
        let _ = write!(m, "; by reason: {}", reasons.join(", "));
        let examples: Vec<String> = self
            .invalid
            .iter()
            .take(5)
            .map(|(d, _)| d.clone())
            .chain(
                self.report
                    .examples
                    .iter()
                    .map(|(s, r, n)| format!("series {s}: {r} ({n} samples dropped)")),
            )
            .take(5)
            .collect();
        let _ = write!(m, "; e.g. {}", examples.join("; "));
        Some(m)
    }

    /// 2xx when everything was stored, 429 when a limit rejected data
    /// (retrying later can succeed), 400 when data was invalid.
    pub fn status(&self) -> StatusCode {
        if self.rejected_samples() == 0 {
            StatusCode::NO_CONTENT
        } else if self.report.limited {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

/// Validates series against the tenant's limits and stores them.
/// Whole-request limits (rate) refuse everything with 429; per-series
/// problems reject only that series.
pub async fn ingest_series(
    s: &AppState,
    tenant: &TenantId,
    series: Vec<TimeSeries>,
    mut outcome: WriteOutcome,
) -> Result<WriteOutcome, ApiError> {
    let db = s.db()?;
    let limits = s.limits.for_tenant(tenant).clone();
    let total: usize = series
        .iter()
        .map(|x| x.samples.len() + x.histograms.len())
        .sum();
    if !s
        .rate
        .try_take(tenant, total, limits.ingestion_rate, limits.ingestion_burst)
    {
        s.ingest_metrics.rejected(tenant, "rate_limited", total);
        return Err(ApiError::Limited(format!(
            "ingestion rate limit of {} samples/s (burst {}) exceeded for tenant {tenant:?} while adding {total} samples; nothing was stored",
            limits.ingestion_rate, limits.ingestion_burst
        )));
    }
    let mut valid = Vec::with_capacity(series.len());
    for ts in series {
        let long = ts.labels.iter().find_map(|l| {
            if l.name.len() > limits.max_label_name_length {
                Some(format!(
                    "label name {:?}… is longer than the limit of {} bytes",
                    truncate(&l.name, 40),
                    limits.max_label_name_length
                ))
            } else if l.value.len() > limits.max_label_value_length {
                Some(format!(
                    "value of label {:?} is longer than the limit of {} bytes",
                    truncate(&l.name, 40),
                    limits.max_label_value_length
                ))
            } else {
                None
            }
        });
        match long {
            Some(reason) => {
                let n = ts.samples.len() + ts.histograms.len();
                outcome.invalid_samples += n;
                if outcome.invalid.len() < 5 {
                    outcome.invalid.push((
                        format!("series {}: {reason}", truncate(&ts.labels.to_string(), 200)),
                        n,
                    ));
                }
                s.ingest_metrics.rejected(tenant, "label_too_long", n);
            }
            None => valid.push(ts),
        }
    }
    let sl = SeriesLimits {
        max_series: if limits.max_series == 0 {
            usize::MAX
        } else {
            limits.max_series
        },
        max_labels: if limits.max_labels_per_series == 0 {
            usize::MAX
        } else {
            limits.max_labels_per_series
        },
    };
    let t = tenant.clone();
    let report = tokio::task::spawn_blocking(move || db.append(&t, valid, sl))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    s.ingest_metrics.received(tenant, total);
    outcome.report = report;
    Ok(outcome)
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut cut = n;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// 429 before the body is read when the tenant's rate budget is spent, so a
/// flooding tenant costs little.
pub(crate) fn refuse_if_exhausted(s: &AppState, tenant: &TenantId) -> Result<(), ApiError> {
    let l = s.limits.for_tenant(tenant);
    if s.rate
        .exhausted(tenant, l.ingestion_rate, l.ingestion_burst)
    {
        s.ingest_metrics.rejected(tenant, "rate_limited_request", 1);
        return Err(ApiError::Limited(format!(
            "ingestion rate limit of {} samples/s exceeded for tenant {tenant:?}; nothing was stored",
            l.ingestion_rate
        )));
    }
    Ok(())
}

/// `POST /api/v1/write`.
pub async fn remote_write(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    s.db()?;
    let tenant = tenant_of(&s, &headers)?;
    refuse_if_exhausted(&s, &tenant)?;
    rw::check_content_encoding(header_str(&headers, header::CONTENT_ENCODING))
        .map_err(decode_err)?;
    let protocol = rw::protocol_from_content_type(header_str(&headers, header::CONTENT_TYPE))
        .map_err(decode_err)?;
    let body = read_body(body, &headers, s.config.max_request_bytes).await?;
    let limits = rw::DecodeLimits {
        max_decompressed_bytes: s.config.max_decompressed_bytes,
        ..Default::default()
    };
    let req = tokio::task::spawn_blocking(move || rw::decode(&body, protocol, &limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(decode_err)?;
    let mut outcome = WriteOutcome {
        invalid_samples: req.stats.rejected_samples + req.stats.rejected_histograms,
        ..Default::default()
    };
    for r in req.rejected.iter().take(5) {
        outcome.invalid.push((r.to_string(), r.samples));
    }
    if req.stats.rejected_samples + req.stats.rejected_histograms > 0 {
        s.ingest_metrics.rejected(
            &tenant,
            "invalid_series",
            req.stats.rejected_samples + req.stats.rejected_histograms,
        );
    }
    if !req.metadata.is_empty() {
        s.db()?.metadata.record(
            &tenant,
            req.metadata.iter().map(|m| {
                let meta = argus_tsdb::metadata::MetricMeta {
                    metric_type: m.metric_type.as_str().to_string(),
                    help: m.help.clone(),
                    unit: m.unit.clone(),
                };
                (m.metric_family_name.clone(), meta)
            }),
        );
    }
    let received = req.stats.samples + req.stats.histograms;
    let outcome = ingest_series(&s, &tenant, req.series, outcome).await?;
    let written = outcome.report.accepted;
    let mut resp = match outcome.message(received) {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(m) => (outcome.status(), format!("{m}\n")).into_response(),
    };
    if protocol == rw::Protocol::V2 {
        let h = resp.headers_mut();
        h.insert("X-Prometheus-Remote-Write-Samples-Written", written.into());
        h.insert(
            "X-Prometheus-Remote-Write-Histograms-Written",
            outcome.report.histograms_accepted.into(),
        );
        h.insert("X-Prometheus-Remote-Write-Exemplars-Written", 0.into());
    }
    Ok(resp)
}

/// google.rpc.Status, the OTLP/HTTP error body.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn otlp_reply(
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
pub async fn otlp_metrics(
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
        Err(e) => {
            let code = match e.status() {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => 14, // UNAVAILABLE
                StatusCode::INTERNAL_SERVER_ERROR | StatusCode::INSUFFICIENT_STORAGE => 13,
                _ => 3, // INVALID_ARGUMENT
            };
            let msg = e.to_string();
            otlp_reply(
                json,
                e.status(),
                RpcStatus {
                    code,
                    message: msg.clone(),
                },
                serde_json::json!({"code": code, "message": msg}),
            )
        }
    }
}

async fn otlp_metrics_inner(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    json: bool,
    ct: &str,
) -> Result<Response, ApiError> {
    s.db()?;
    let tenant = tenant_of(s, headers)?;
    refuse_if_exhausted(s, &tenant)?;
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
        let req =
            otlp::decode_request(&data, json).map_err(|e| ApiError::BadData(e.to_string()))?;
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

/// Stores converted OTLP metrics: the step OTLP/HTTP (`/v1/metrics`) and
/// OTLP/gRPC (`MetricsService/Export`, `grpc.rs`) share. What was not stored
/// is an OTLP partial success; a limit is an error (retry later).
pub(crate) async fn ingest_otlp(
    s: &AppState,
    tenant: &TenantId,
    conv: otlp::Converted,
) -> Result<ExportMetricsServiceResponse, ApiError> {
    let mut outcome = WriteOutcome::default();
    let rejected_points = conv.rejected_points();
    let mut messages: Vec<String> = conv
        .rejected
        .iter()
        .take(5)
        .map(|r| format!("{}: {} ({} points)", r.metric, r.reason, r.points))
        .collect();
    if rejected_points > 0 {
        s.ingest_metrics
            .rejected(tenant, "otlp_unsupported", rejected_points);
    }
    let received = conv.samples();
    outcome = ingest_series(s, tenant, conv.series, std::mem::take(&mut outcome)).await?;
    if let Some(m) = outcome.message(received) {
        if outcome.report.limited {
            return Err(ApiError::Limited(m));
        }
        messages.push(m);
    }
    let rejected = (rejected_points + outcome.rejected_samples()) as i64;
    let error_message = messages.join("; ");
    let partial = (rejected > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: rejected,
        error_message: error_message.clone(),
    });
    Ok(ExportMetricsServiceResponse {
        partial_success: partial,
    })
}
