//! The one mapping from errors to HTTP responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Error kinds, protocol-neutral; [`ApiError::status`] is the only place
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
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadData(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Limited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Prometheus API `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadData(_)
            | ApiError::PayloadTooLarge(_)
            | ApiError::UnsupportedMediaType(_)
            | ApiError::Unauthorized(_) => "bad_data",
            ApiError::NotFound(_) => "not_found",
            ApiError::Limited(_) | ApiError::NotReady(_) => "unavailable",
            ApiError::StorageFull(_) | ApiError::Internal(_) => "internal",
        }
    }
}

impl From<argus_tsdb::DbError> for ApiError {
    fn from(e: argus_tsdb::DbError) -> Self {
        if e.is_disk_full() {
            ApiError::StorageFull(format!("storage is full: {e}"))
        } else {
            ApiError::Internal(e.to_string())
        }
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

impl From<ApiError> for JsonError {
    fn from(e: ApiError) -> Self {
        JsonError(e)
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let status = match self.0 {
            // Prometheus answers 422 for execution errors and 400 for bad data; 503 when unavailable.
            ApiError::Limited(_) | ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ref e => e.status(),
        };
        let body = serde_json::json!({"status": "error", "errorType": self.0.error_type(), "error": self.0.to_string()});
        (status, axum::Json(body)).into_response()
    }
}
