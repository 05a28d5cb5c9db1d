//! Native histograms, as Prometheus models them (`model/histogram`): sparse
//! exponential buckets (`schema` -4..=8, bucket boundaries
//! `2^(2^-schema · i)`), a zero bucket, or custom bucket bounds
//! (`schema == -53`, "NHCB"). Bucket counts here are absolute floats
//! (Prometheus's `FloatHistogram`); storage may encode them differently.

/// Schema of native histograms with custom bucket boundaries.
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// What the producer said about counter resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum CounterResetHint {
    #[default]
    Unknown,
    CounterReset,
    NotCounterReset,
    /// A gauge histogram: counter reset rules do not apply.
    Gauge,
}

/// A run of consecutive buckets: `offset` buckets after the end of the
/// previous span (or from index 0 for the first span), `length` buckets long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub offset: i32,
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    pub counter_reset_hint: CounterResetHint,
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<Span>,
    pub negative_spans: Vec<Span>,
    /// Absolute counts, one per bucket described by `positive_spans`.
    pub positive_buckets: Vec<f64>,
    pub negative_buckets: Vec<f64>,
    /// Upper bounds of the custom buckets (only when `schema == CUSTOM_BUCKETS_SCHEMA`).
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

/// One native histogram sample.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    pub t: i64,
    pub h: FloatHistogram,
}

/// A stored series as read back: its labels, float samples and histogram
/// samples, each sorted by time. A timestamp has at most one of the two.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredSeries {
    pub labels: crate::Labels,
    pub floats: Vec<crate::Sample>,
    pub histograms: Vec<HistogramSample>,
}
