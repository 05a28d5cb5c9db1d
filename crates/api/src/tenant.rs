//! Which tenant a request is for: `X-Scope-OrgID`, or the default tenant.

use crate::{ApiError, AppState};
use argus_model::TenantId;
use axum::http::HeaderMap;

pub const TENANT_HEADER: &str = "X-Scope-OrgID";

pub fn tenant_of(state: &AppState, headers: &HeaderMap) -> Result<TenantId, ApiError> {
    match headers.get(TENANT_HEADER) {
        Some(v) => {
            let s = v.to_str().map_err(|_| {
                ApiError::BadData(format!("{TENANT_HEADER} header is not valid ASCII"))
            })?;
            if s.contains('|') {
                return Err(ApiError::BadData(format!(
                    "{TENANT_HEADER}: queries across several tenants are not supported yet"
                )));
            }
            TenantId::new(s.trim()).map_err(|e| ApiError::BadData(format!("{TENANT_HEADER}: {e}")))
        }
        None if state.config.require_tenant => Err(ApiError::Unauthorized(format!(
            "no org id: the {TENANT_HEADER} header is required"
        ))),
        None => Ok(state.config.default_tenant.clone()),
    }
}
