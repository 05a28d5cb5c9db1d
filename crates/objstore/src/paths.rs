//! Every object key Argus writes is built here.
//!
//! ```text
//! tenants/<tenant>/metrics/blocks/<block-id>/{meta.json,index,chunks}
//! ```

use argus_model::TenantId;

pub fn metrics_blocks_prefix(tenant: &TenantId) -> String {
    format!("tenants/{tenant}/metrics/blocks/")
}

pub fn metrics_block_prefix(tenant: &TenantId, block: &str) -> String {
    format!("tenants/{tenant}/metrics/blocks/{block}/")
}

pub fn metrics_block_file(tenant: &TenantId, block: &str, file: &str) -> String {
    format!("tenants/{tenant}/metrics/blocks/{block}/{file}")
}

/// Tenants that have objects.
pub const TENANTS_PREFIX: &str = "tenants/";
