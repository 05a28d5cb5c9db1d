//! Decoders for the ingest protocols (metrics: remote write, text, OTLP;
//! logs: Loki push, OTLP logs, Elasticsearch bulk, JSON lines; traces: OTLP traces, Zipkin v2 JSON). Every function here is pure: bytes in,
//! [`argus_model::TimeSeries`] for metrics or [`argus_model::LogStream`]s for
//! logs, [`argus_model::traces::Span`]s for traces (or a precise error) out. Validation
//! of tenants and limits happens in the layer above; storage below that.

pub mod elastic;
pub mod jsonl;
pub mod loki;
pub mod otlp;
pub mod remote_write;
pub mod textparse;
pub mod zipkin;
