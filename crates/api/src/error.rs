//! The one mapping from errors to HTTP responses.
//!
//! Every failure a handler can meet becomes an [`ApiError`] through a `From`
//! impl that only classifies (storage, PromQL, decoding, write pipeline);
//! [`ApiError::classify`] is the only place that turns a kind into an HTTP
//! status and a Prometheus `errorType`, and [`otlp_code`] derives the OTLP
//! status code from that HTTP status.

use argus_ingest::{otlp, remote_write};
use argus_promql::PromqlError;
use argus_store::{StorageError, StorageErrorKind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Error kinds, protocol-neutral; [`ApiError::classify`] is the only place
/// that turns them into HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (bad parameters, undecodable body, invalid data).
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A per-tenant limit was hit; the client should back off and retry.
    #[error("{0}")]
    Limited(String),
    /// Storage is out of space.
    #[error("{0}")]
    StorageFull(String),
    #[error("{0}")]
    NotReady(String),
    #[error("{0}")]
    NotFound(String),
    /// A conditional write's precondition (`If-Match`, `If-None-Match`)
    /// does not hold: the resource changed since it was read.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A query could not be evaluated (too many samples, a store limit, an
    /// evaluation error).
    #[error("{0}")]
    Execution(String),
    /// A query ran out of time.
    #[error("{0}")]
    Timeout(String),
    /// A failure on our side: storage I/O, the object store, a bug.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status and the Prometheus API `errorType` of this error.
    /// Statuses follow Prometheus's API (`bad_data` 400, `execution` 422,
    /// `timeout`/`unavailable` 503, `internal` 500) and its remote-write
    /// receiver (429 for limits, 413, 415).
    pub fn classify(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadData(_) => (StatusCode::BAD_REQUEST, "bad_data"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "bad_data"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "bad_data"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_data"),
            ApiError::Limited(_) => (StatusCode::TOO_MANY_REQUESTS, "unavailable"),
            ApiError::StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "internal"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "bad_data"),
            ApiError::Execution(_) => (StatusCode::UNPROCESSABLE_ENTITY, "execution"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.classify().0
    }

    /// The gRPC status code, as the OTLP spec asks: malformed or invalid data
    /// is `INVALID_ARGUMENT` (not retryable); a tenant's limit
    /// `RESOURCE_EXHAUSTED` (sent with `RetryInfo`, see `grpc::status_of`; OTLP/HTTP
    /// answers 429); not ready yet `UNAVAILABLE` (retryable); a full disk or an
    /// oversized message `RESOURCE_EXHAUSTED` without `RetryInfo` (not
    /// retryable, like OTLP/HTTP's 507 and 413); a timeout `DEADLINE_EXCEEDED`;
    /// a failure on our side `INTERNAL`.
    pub fn grpc_code(&self) -> tonic::Code {
        use tonic::Code;
        match self {
            ApiError::BadData(_) | ApiError::UnsupportedMediaType(_) => Code::InvalidArgument,
            ApiError::Unauthorized(_) => Code::Unauthenticated,
            ApiError::PayloadTooLarge(_) | ApiError::StorageFull(_) | ApiError::Limited(_) => {
                Code::ResourceExhausted
            }
            ApiError::NotReady(_) => Code::Unavailable,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::PreconditionFailed(_) => Code::FailedPrecondition,
            ApiError::Timeout(_) => Code::DeadlineExceeded,
            ApiError::Execution(_) | ApiError::Internal(_) => Code::Internal,
        }
    }

    /// Prometheus API `errorType`.
    pub fn error_type(&self) -> &'static str {
        self.classify().1
    }
}

/// The `google.rpc.Code` of an OTLP/HTTP error body, derived from the HTTP
/// status the way the OTLP spec pairs them: the retryable statuses (429,
/// 502, 503, 504) are `UNAVAILABLE` (14), other server errors `INTERNAL`
/// (13), client errors `INVALID_ARGUMENT` (3).
pub fn otlp_code(status: StatusCode) -> i32 {
    match status.as_u16() {
        429 | 502 | 503 | 504 => 14,
        500..=599 => 13,
        _ => 3,
    }
}

/// A store failure by its kind: a full disk is 507, a store's timeout 503,
/// a store's limit 422, any other failure 500.
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        let msg = e.to_string();
        match e.kind {
            StorageErrorKind::Internal => ApiError::Internal(msg),
            StorageErrorKind::Timeout => ApiError::Timeout(msg),
            StorageErrorKind::Limit => ApiError::Execution(msg),
            StorageErrorKind::Full => ApiError::StorageFull(format!("storage is full: {msg}")),
            StorageErrorKind::Overloaded => ApiError::Limited(msg),
        }
    }
}

/// The rate limit is 429 (retry later), a store failure as [`StorageError`].
impl From<argus_write::WriteError> for ApiError {
    fn from(e: argus_write::WriteError) -> Self {
        use argus_write::WriteError as W;
        match e {
            W::RateLimited { .. } | W::RateExhausted { .. } => ApiError::Limited(e.to_string()),
            W::Store(e) => e.into(),
        }
    }
}

/// The logs rate limit is 429 (retry later), a store failure as
/// [`StorageError`].
impl From<argus_write::LogsWriteError> for ApiError {
    fn from(e: argus_write::LogsWriteError) -> Self {
        use argus_write::LogsWriteError as W;
        match e {
            W::RateLimited { .. } | W::RateExhausted { .. } => ApiError::Limited(e.to_string()),
            W::Store(e) => e.into(),
        }
    }
}

impl From<argus_write::TracesWriteError> for ApiError {
    fn from(e: argus_write::TracesWriteError) -> Self {
        use argus_write::TracesWriteError as W;
        match e {
            W::RateLimited { .. } => ApiError::Limited(e.to_string()),
            W::Store(e) => e.into(),
        }
    }
}

/// 413 for a body that decompresses over the limit, else 400.
impl From<argus_ingest::loki::LokiError> for ApiError {
    fn from(e: argus_ingest::loki::LokiError) -> Self {
        match e {
            argus_ingest::loki::LokiError::TooLarge { .. } => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            _ => ApiError::BadData(e.to_string()),
        }
    }
}

/// An unreadable bulk body is 400.
impl From<argus_ingest::elastic::ElasticError> for ApiError {
    fn from(e: argus_ingest::elastic::ElasticError) -> Self {
        ApiError::BadData(e.to_string())
    }
}

impl From<PromqlError> for ApiError {
    fn from(e: PromqlError) -> Self {
        let msg = e.to_string();
        match e {
            PromqlError::BadData(_) => ApiError::BadData(msg),
            PromqlError::Execution(_) | PromqlError::TooManySamples(_) => ApiError::Execution(msg),
            PromqlError::Timeout => ApiError::Timeout(msg),
            PromqlError::Storage(s) => s.into(),
        }
    }
}

/// 415 for content type or encoding (remote write 2.0 spec, "Unsupported
/// Request Content"), 413 for too large, else 400.
impl From<remote_write::DecodeError> for ApiError {
    fn from(e: remote_write::DecodeError) -> Self {
        use remote_write::DecodeError as D;
        let msg = e.to_string();
        match e {
            D::UnsupportedContentType { .. } | D::UnsupportedEncoding { .. } => {
                ApiError::UnsupportedMediaType(msg)
            }
            D::TooLarge { .. } => ApiError::PayloadTooLarge(msg),
            D::Snappy(_) | D::Protobuf { .. } | D::SymbolsTable { .. } => ApiError::BadData(msg),
        }
    }
}

impl From<otlp::OtlpError> for ApiError {
    fn from(e: otlp::OtlpError) -> Self {
        ApiError::BadData(e.to_string())
    }
}

/// Plain-text error body, as Prometheus's remote-write receiver answers.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut msg = self.to_string();
        msg.push('\n');
        (self.status(), msg).into_response()
    }
}

/// An error in the Prometheus HTTP API's JSON envelope.
#[derive(Debug)]
pub struct JsonError(pub ApiError);

impl<E: Into<ApiError>> From<E> for JsonError {
    fn from(e: E) -> Self {
        JsonError(e.into())
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.0.classify();
        let body = serde_json::json!({"status": "error", "errorType": error_type, "error": self.0.to_string()});
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_promql::StorageError;

    fn row(e: ApiError) -> (u16, &'static str, i32) {
        let (status, typ) = e.classify();
        (status.as_u16(), typ, otlp_code(status))
    }

    /// The whole table: every kind's status, errorType and OTLP code.
    #[test]
    fn mapping_table() {
        let s = || String::from("x");
        let table = [
            (ApiError::BadData(s()), (400, "bad_data", 3)),
            (ApiError::Unauthorized(s()), (401, "bad_data", 3)),
            (ApiError::PayloadTooLarge(s()), (413, "bad_data", 3)),
            (ApiError::UnsupportedMediaType(s()), (415, "bad_data", 3)),
            (ApiError::Limited(s()), (429, "unavailable", 14)),
            (ApiError::StorageFull(s()), (507, "internal", 13)),
            (ApiError::NotReady(s()), (503, "unavailable", 14)),
            (ApiError::NotFound(s()), (404, "not_found", 3)),
            (ApiError::Execution(s()), (422, "execution", 3)),
            (ApiError::Timeout(s()), (503, "timeout", 14)),
            (ApiError::Internal(s()), (500, "internal", 13)),
        ];
        for (e, want) in table {
            let name = format!("{e:?}");
            assert_eq!(row(e), want, "{name}");
        }
    }

    #[test]
    fn promql_errors_classify_like_prometheus() {
        let cases = [
            (PromqlError::BadData("p".into()), (400, "bad_data")),
            (PromqlError::Execution("e".into()), (422, "execution")),
            (PromqlError::TooManySamples(5), (422, "execution")),
            (PromqlError::Timeout, (503, "timeout")),
            (
                PromqlError::Storage(StorageError::internal("disk")),
                (500, "internal"),
            ),
            (
                PromqlError::Storage(StorageError::new(StorageErrorKind::Timeout, "slow")),
                (503, "timeout"),
            ),
            (
                PromqlError::Storage(StorageError::new(StorageErrorKind::Limit, "big")),
                (422, "execution"),
            ),
        ];
        for (e, (status, typ)) in cases {
            let msg = e.to_string();
            let a = ApiError::from(e);
            assert_eq!(a.to_string(), msg, "the message is kept");
            assert_eq!(a.status().as_u16(), status, "{a:?}");
            assert_eq!(a.error_type(), typ, "{a:?}");
        }
    }

    #[test]
    fn decode_and_storage_errors_classify() {
        use remote_write::DecodeError as D;
        let status = |e: D| ApiError::from(e).status().as_u16();
        assert_eq!(
            status(D::UnsupportedContentType {
                content_type: "a".into(),
                reason: "b".into()
            }),
            415
        );
        assert_eq!(
            status(D::UnsupportedEncoding {
                encoding: "zstd".into()
            }),
            415
        );
        assert_eq!(status(D::TooLarge { size: 2, limit: 1 }), 413);
        assert_eq!(status(D::Snappy("bad".into())), 400);
        let disk_full = StorageError::new(StorageErrorKind::Full, "wal: no space left");
        assert_eq!(ApiError::from(disk_full).status().as_u16(), 507);
        let io = StorageError::internal("wal: input/output error");
        assert_eq!(ApiError::from(io).status().as_u16(), 500);
    }

    #[test]
    fn json_envelope() {
        let r = JsonError(ApiError::Internal("boom".into())).into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
