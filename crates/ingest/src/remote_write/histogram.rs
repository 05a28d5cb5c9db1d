//! Native histogram samples of both protocols → [`HistogramSample`]:
//! integer histograms (delta-encoded bucket counts) become absolute float
//! counts, float histograms are taken as they are. Validated like
//! Prometheus's `Histogram.Validate` / `FloatHistogram.Validate`; an invalid
//! histogram rejects its series ([`RejectReason::InvalidHistogram`]).

use argus_model::{CounterResetHint, FloatHistogram, HistogramSample, Span, CUSTOM_BUCKETS_SCHEMA};

use super::{v1, v2, RejectReason};

/// Exponential schemas Prometheus stores.
const MIN_SCHEMA: i32 = -4;
const MAX_SCHEMA: i32 = 8;

/// The fields both protocols share; counts as the wire has them.
struct Wire<'a> {
    count: Option<Count>,
    zero_count: Option<Count>,
    sum: f64,
    schema: i32,
    zero_threshold: f64,
    negative_spans: Vec<Span>,
    negative_deltas: &'a [i64],
    negative_counts: &'a [f64],
    positive_spans: Vec<Span>,
    positive_deltas: &'a [i64],
    positive_counts: &'a [f64],
    reset_hint: i32,
    timestamp: i64,
    custom_values: &'a [f64],
}

#[derive(Clone, Copy)]
enum Count {
    Int(u64),
    Float(f64),
}

fn spans<'a>(it: impl IntoIterator<Item = (i32, u32)> + 'a) -> Vec<Span> {
    it.into_iter()
        .map(|(offset, length)| Span { offset, length })
        .collect()
}

/// A 1.0 `prometheus.Histogram` as a sample.
pub(crate) fn from_v1(h: &v1::Histogram) -> Result<HistogramSample, RejectReason> {
    use v1::histogram::{Count as C, ZeroCount as Z};
    convert(Wire {
        count: h.count.map(|c| match c {
            C::CountInt(n) => Count::Int(n),
            C::CountFloat(f) => Count::Float(f),
        }),
        zero_count: h.zero_count.map(|c| match c {
            Z::ZeroCountInt(n) => Count::Int(n),
            Z::ZeroCountFloat(f) => Count::Float(f),
        }),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        negative_spans: spans(h.negative_spans.iter().map(|s| (s.offset, s.length))),
        negative_deltas: &h.negative_deltas,
        negative_counts: &h.negative_counts,
        positive_spans: spans(h.positive_spans.iter().map(|s| (s.offset, s.length))),
        positive_deltas: &h.positive_deltas,
        positive_counts: &h.positive_counts,
        reset_hint: h.reset_hint,
        timestamp: h.timestamp,
        custom_values: &h.custom_values,
    })
}

/// A 2.0 `io.prometheus.write.v2.Histogram` as a sample (the start
/// timestamp is not kept).
pub(crate) fn from_v2(h: &v2::Histogram) -> Result<HistogramSample, RejectReason> {
    use v2::histogram::{Count as C, ZeroCount as Z};
    convert(Wire {
        count: h.count.map(|c| match c {
            C::CountInt(n) => Count::Int(n),
            C::CountFloat(f) => Count::Float(f),
        }),
        zero_count: h.zero_count.map(|c| match c {
            Z::ZeroCountInt(n) => Count::Int(n),
            Z::ZeroCountFloat(f) => Count::Float(f),
        }),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        negative_spans: spans(h.negative_spans.iter().map(|s| (s.offset, s.length))),
        negative_deltas: &h.negative_deltas,
        negative_counts: &h.negative_counts,
        positive_spans: spans(h.positive_spans.iter().map(|s| (s.offset, s.length))),
        positive_deltas: &h.positive_deltas,
        positive_counts: &h.positive_counts,
        reset_hint: h.reset_hint,
        timestamp: h.timestamp,
        custom_values: &h.custom_values,
    })
}

fn invalid(msg: impl Into<String>) -> RejectReason {
    RejectReason::InvalidHistogram(msg.into())
}

/// Absolute counts from deltas; each must stay non-negative.
fn undelta(side: &str, deltas: &[i64]) -> Result<Vec<f64>, RejectReason> {
    let mut cur = 0i64;
    let mut out = Vec::with_capacity(deltas.len());
    for (i, d) in deltas.iter().enumerate() {
        cur = cur
            .checked_add(*d)
            .ok_or_else(|| invalid(format!("{side} bucket {i}: count overflows")))?;
        if cur < 0 {
            return Err(invalid(format!(
                "{side} bucket {i} has a negative count ({cur})"
            )));
        }
        out.push(cur as f64);
    }
    Ok(out)
}

fn check_counts(side: &str, counts: &[f64]) -> Result<(), RejectReason> {
    match counts.iter().position(|c| *c < 0.0) {
        Some(i) => Err(invalid(format!(
            "{side} bucket {i} has a negative count ({})",
            counts[i]
        ))),
        None => Ok(()),
    }
}

/// Prometheus's `checkHistogramSpans`: spans after the first have
/// non-negative offsets and the lengths add up to the number of buckets.
fn check_spans(side: &str, spans: &[Span], buckets: usize) -> Result<(), RejectReason> {
    let mut total = 0u64;
    for (i, s) in spans.iter().enumerate() {
        if i > 0 && s.offset < 0 {
            return Err(invalid(format!(
                "{side} span {i} has a negative offset ({})",
                s.offset
            )));
        }
        total += s.length as u64;
    }
    if total != buckets as u64 {
        return Err(invalid(format!(
            "{side} spans describe {total} buckets, but there are {buckets} bucket counts"
        )));
    }
    Ok(())
}

fn convert(w: Wire<'_>) -> Result<HistogramSample, RejectReason> {
    let is_float = matches!(w.count, Some(Count::Float(_)));
    if w.schema != CUSTOM_BUCKETS_SCHEMA && !(MIN_SCHEMA..=MAX_SCHEMA).contains(&w.schema) {
        return Err(invalid(format!(
            "schema {} is out of range (must be {MIN_SCHEMA}..={MAX_SCHEMA}, or {CUSTOM_BUCKETS_SCHEMA} for custom buckets)",
            w.schema
        )));
    }
    let (positive_buckets, negative_buckets) = if is_float {
        if !w.positive_deltas.is_empty() || !w.negative_deltas.is_empty() {
            return Err(invalid("a float histogram has integer bucket deltas"));
        }
        check_counts("positive", w.positive_counts)?;
        check_counts("negative", w.negative_counts)?;
        (w.positive_counts.to_vec(), w.negative_counts.to_vec())
    } else {
        if !w.positive_counts.is_empty() || !w.negative_counts.is_empty() {
            return Err(invalid("an integer histogram has float bucket counts"));
        }
        (
            undelta("positive", w.positive_deltas)?,
            undelta("negative", w.negative_deltas)?,
        )
    };
    let as_f64 = |c: Option<Count>| match c {
        None => 0.0,
        Some(Count::Int(n)) => n as f64,
        Some(Count::Float(f)) => f,
    };
    let zero_is_float = matches!(w.zero_count, Some(Count::Float(_)));
    if w.zero_count.is_some() && zero_is_float != is_float {
        return Err(invalid(
            "the count and the zero count are not both integers or both floats",
        ));
    }
    let count = as_f64(w.count);
    let zero_count = as_f64(w.zero_count);
    if count < 0.0 || zero_count < 0.0 {
        return Err(invalid("negative count or zero count"));
    }
    if w.schema == CUSTOM_BUCKETS_SCHEMA {
        check_custom(
            &w,
            positive_buckets.len(),
            zero_count,
            negative_buckets.len(),
        )?;
    } else {
        check_spans("positive", &w.positive_spans, positive_buckets.len())?;
        check_spans("negative", &w.negative_spans, negative_buckets.len())?;
        if !w.custom_values.is_empty() {
            return Err(invalid(
                "custom bucket bounds are only allowed with schema -53",
            ));
        }
        if w.zero_threshold.is_nan() || w.zero_threshold < 0.0 {
            return Err(invalid(format!(
                "zero threshold {} must be non-negative",
                w.zero_threshold
            )));
        }
    }
    if !is_float {
        // Integer histograms: the buckets must add up to the count (or
        // stay below it when the sum is NaN, e.g. a staleness marker).
        let observed: f64 = positive_buckets.iter().sum::<f64>()
            + negative_buckets.iter().sum::<f64>()
            + zero_count;
        let bad = if w.sum.is_nan() {
            observed > count
        } else {
            observed != count
        };
        if bad {
            return Err(invalid(format!(
                "{observed} observations found in buckets, but the count is {count}"
            )));
        }
    }
    let counter_reset_hint = match w.reset_hint {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    };
    Ok(HistogramSample {
        t: w.timestamp,
        h: FloatHistogram {
            counter_reset_hint,
            schema: w.schema,
            zero_threshold: w.zero_threshold,
            zero_count,
            count,
            sum: w.sum,
            positive_spans: w.positive_spans,
            negative_spans: w.negative_spans,
            positive_buckets,
            negative_buckets,
            custom_values: w.custom_values.to_vec(),
        },
    })
}

/// Prometheus's rules for custom buckets (NHCB): no zero bucket, no
/// negative side, strictly increasing finite bounds, spans with
/// non-negative offsets covering at most `bounds + 1` buckets (the last
/// one being +Inf).
fn check_custom(
    w: &Wire<'_>,
    positive: usize,
    zero_count: f64,
    negative: usize,
) -> Result<(), RejectReason> {
    if zero_count != 0.0 || w.zero_threshold != 0.0 {
        return Err(invalid("a custom-buckets histogram has a zero bucket"));
    }
    if negative > 0 || !w.negative_spans.is_empty() {
        return Err(invalid("a custom-buckets histogram has negative buckets"));
    }
    let bounds = w.custom_values;
    if let Some(i) = bounds
        .windows(2)
        .position(|p| p[0].partial_cmp(&p[1]) != Some(std::cmp::Ordering::Less))
    {
        return Err(invalid(format!(
            "custom bounds are not strictly increasing at index {}",
            i + 1
        )));
    }
    if bounds.iter().any(|b| !b.is_finite()) {
        return Err(invalid("custom bounds must be finite"));
    }
    let mut total = 0u64;
    let mut index = -1i64;
    for (i, s) in w.positive_spans.iter().enumerate() {
        if s.offset < 0 {
            return Err(invalid(format!(
                "span {i} has a negative offset ({})",
                s.offset
            )));
        }
        index += s.offset as i64 + s.length as i64;
        total += s.length as u64;
    }
    if total != positive as u64 {
        return Err(invalid(format!(
            "spans describe {total} buckets, but there are {positive} bucket counts"
        )));
    }
    if index > bounds.len() as i64 {
        return Err(invalid(format!(
            "bucket index {index} is beyond the {} custom bounds",
            bounds.len()
        )));
    }
    Ok(())
}

/// A sample as a 1.0 float histogram (what the encoders send).
pub(crate) fn to_v1(s: &HistogramSample) -> v1::Histogram {
    let h = &s.h;
    let span = |s: &Span| v1::BucketSpan {
        offset: s.offset,
        length: s.length,
    };
    v1::Histogram {
        count: Some(v1::histogram::Count::CountFloat(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(v1::histogram::ZeroCount::ZeroCountFloat(h.zero_count)),
        negative_spans: h.negative_spans.iter().map(span).collect(),
        negative_deltas: Vec::new(),
        negative_counts: h.negative_buckets.clone(),
        positive_spans: h.positive_spans.iter().map(span).collect(),
        positive_deltas: Vec::new(),
        positive_counts: h.positive_buckets.clone(),
        reset_hint: hint_to_proto(h.counter_reset_hint),
        timestamp: s.t,
        custom_values: h.custom_values.clone(),
    }
}

/// A sample as a 2.0 float histogram.
pub(crate) fn to_v2(s: &HistogramSample) -> v2::Histogram {
    let h = &s.h;
    let span = |s: &Span| v2::BucketSpan {
        offset: s.offset,
        length: s.length,
    };
    v2::Histogram {
        count: Some(v2::histogram::Count::CountFloat(h.count)),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(v2::histogram::ZeroCount::ZeroCountFloat(h.zero_count)),
        negative_spans: h.negative_spans.iter().map(span).collect(),
        negative_deltas: Vec::new(),
        negative_counts: h.negative_buckets.clone(),
        positive_spans: h.positive_spans.iter().map(span).collect(),
        positive_deltas: Vec::new(),
        positive_counts: h.positive_buckets.clone(),
        reset_hint: hint_to_proto(h.counter_reset_hint),
        timestamp: s.t,
        custom_values: h.custom_values.clone(),
        start_timestamp: 0,
    }
}

fn hint_to_proto(h: CounterResetHint) -> i32 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}
