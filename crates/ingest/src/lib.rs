//! Decoders for the ingest protocols. Every function here is pure: bytes in,
//! [`argus_model::TimeSeries`] for metrics or [`argus_model::LogStream`]s for
//! logs (or a precise error) out. Validation
//! of tenants and limits happens in the layer above; storage below that.

pub mod loki;
pub mod otlp;
pub mod remote_write;
pub mod textparse;
