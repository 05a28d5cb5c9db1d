//! Query results and errors.

use argus_model::{FloatHistogram, HistogramSample, Labels, Sample};
use argus_store::StorageError;

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t: i64,
    /// The float value (0 when `h` is set).
    pub v: f64,
    /// A native histogram sample instead of a float.
    pub h: Option<FloatHistogram>,
}

/// One series of a range vector (matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// Float points.
    pub samples: Vec<Sample>,
    /// Native histogram points.
    pub histograms: Vec<HistogramSample>,
}

/// The value of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(i64, f64),
    String(i64, String),
    Vector(Vec<VectorSample>),
    Matrix(Vec<Series>),
}

/// A query's value with the annotations Prometheus would attach to it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub value: Value,
    /// `PromQL warning: ...` annotations, deduplicated.
    pub warnings: Vec<String>,
    /// `PromQL info: ...` annotations, deduplicated.
    pub infos: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PromqlError {
    /// The query is malformed (parse errors, bad parameters); HTTP `bad_data`.
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed.
    #[error("{0}")]
    Execution(String),
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// More samples than `max_samples` (the number) would be held at once.
    /// Prometheus's message, then the limit.
    #[error("query processing would load too many samples into memory in query execution (limit: query.max_samples = {0})")]
    TooManySamples(usize),
    /// Reading from [`crate::Queryable`] failed (Prometheus's `ErrStorage`).
    #[error(transparent)]
    Storage(#[from] StorageError),
}
