//! The bodies of Tempo's query API and of Jaeger's, as pure encoders (no
//! handlers): what a Grafana Tempo or Jaeger data source reads.
//!
//! * [`format`](mod@format): trace by id, `tempopb.Trace` and
//!   `tempopb.TraceByIDResponse` in protobuf and Tempo's JSON (its module
//!   docs list the wire facts: base64 ids in trace JSON, hex in search JSON,
//!   enums by name, quoted 64-bit integers).
//! * [`search`]: search, tag names and values, metrics query range and
//!   instant, build info.
//! * [`jaeger`]: jaeger-query's HTTP API JSON (`/api/traces`,
//!   `/api/services`, operations, dependencies), spans mapped as the
//!   Collector's OTLP-to-Jaeger translator maps them.
//!
//! The JSON is written by hand rather than by serde so that it is Go's
//! bytes: gogo `jsonpb` rules for Tempo, `encoding/json` escaping and float
//! notation for both.

pub mod format;
pub mod jaeger;
mod json;
pub mod search;
