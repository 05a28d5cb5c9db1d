use crate::Labels;

/// Prometheus's staleness marker: a signalling NaN with this exact bit pattern
/// (`value.StaleNaN` in Prometheus). Any other NaN is an ordinary value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;
/// The staleness marker as an `f64`.
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// True when `v` is exactly Prometheus's staleness marker.
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample: milliseconds since the Unix epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

impl Sample {
    pub fn new(t: i64, v: f64) -> Self {
        Sample { t, v }
    }

    /// Bitwise equality (so NaN == NaN with the same payload), the notion of
    /// "same sample" used for duplicate detection.
    pub fn bit_eq(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

/// A series and its samples, as carried by ingest protocols.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
    /// Native histogram samples (sorted by time, like `samples`).
    pub histograms: Vec<crate::HistogramSample>,
    /// Exemplars of the series (remote write, OTLP, OpenMetrics scrapes),
    /// stored apart from the samples (`MetricsWriter::append_exemplars`).
    pub exemplars: Vec<crate::Exemplar>,
}

impl TimeSeries {
    pub fn new(labels: Labels, samples: Vec<Sample>) -> Self {
        TimeSeries {
            labels,
            samples,
            histograms: Vec::new(),
            exemplars: Vec::new(),
        }
    }
}
