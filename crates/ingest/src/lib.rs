//! Decoders for the metrics ingest protocols. Every function here is pure:
//! bytes in, [`argus_model::TimeSeries`] (or a precise error) out. Validation
//! of tenants and limits happens in the layer above; storage below that.

pub mod otlp;
pub mod remote_write;
pub mod textparse;
