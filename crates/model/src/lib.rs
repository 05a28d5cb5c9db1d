//! The Argus data model, shared by every signal and layer.
//!
//! - [`TenantId`]: who owns data (`X-Scope-OrgID`); every file, index and limit is keyed by it.
//! - [`Labels`]: a sorted, duplicate-free label set identifying a series (`__name__` included).
//! - [`LogStream`], [`LogEntry`]: log lines with a nanosecond timestamp and structured
//!   metadata, grouped by stream labels (Loki's model).
//! - [`Sample`]: a millisecond timestamp and an `f64` (Prometheus's staleness NaN included).
//! - [`Exemplar`]: a series' sample annotated with labels (a trace id), as Prometheus keeps them.
//! - [`ParseError`]: where and why a query (LogQL, TraceQL) was refused.
//! - [`Matcher`]: `=`, `!=`, `=~`, `!~` label matchers, as in PromQL.
//! - [`traces`]: spans with typed attributes, their resource and scope (OpenTelemetry's model).
//! - [`Signal`]: metrics, logs or traces; with the tenant it keys paths and limits.
//! - [`paths`]: every local path and object key Argus writes.

pub mod civil;
mod duration;
mod exemplar;
mod histogram;
mod labels;
mod logs;
mod matcher;
mod parse_error;
pub mod paths;
mod sample;
mod signal;
mod tenant;
pub mod traces;

/// `s` cut to at most `max` bytes on a char boundary, with "…" when cut:
/// untrusted text (label values, content types) quoted in an error message.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

pub use duration::{
    format_duration, format_seconds, parse_duration, parse_go_duration, parse_size, DurationError,
};
pub use exemplar::{Exemplar, EXEMPLAR_MAX_LABEL_SET_LENGTH};
pub use histogram::{
    CounterResetHint, FloatHistogram, HistogramSample, Span, StoredSeries, CUSTOM_BUCKETS_SCHEMA,
};
pub use labels::{
    stable_hash_pairs, validate_label_name, validate_metric_name, Label, Labels, LabelsBuilder,
    METRIC_NAME,
};
pub use logs::{LogEntry, LogPush, LogStream};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use parse_error::ParseError;
pub use sample::{is_stale_nan, Sample, TimeSeries, STALE_NAN, STALE_NAN_BITS};
pub use signal::{Signal, UnknownSignal};
pub use tenant::{TenantError, TenantId};
