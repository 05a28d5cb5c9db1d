//! Metrics functions and what they keep per step.

use super::log2::Histogram;
use crate::ast::{Field, MetricsFunction};
use crate::eval::{EvalError, Value};

/// A metrics function, its field resolved.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Func {
    Rate,
    Count,
    Min(Field),
    Max(Field),
    Sum(Field),
    Avg(Field),
    Quantile(Field, Vec<f64>),
    Histogram(Field),
}

impl Func {
    pub(super) fn new(f: &MetricsFunction) -> Result<Func, EvalError> {
        Ok(match f {
            MetricsFunction::Rate => Func::Rate,
            MetricsFunction::CountOverTime => Func::Count,
            MetricsFunction::MinOverTime(x) => Func::Min(x.clone()),
            MetricsFunction::MaxOverTime(x) => Func::Max(x.clone()),
            MetricsFunction::SumOverTime(x) => Func::Sum(x.clone()),
            MetricsFunction::AvgOverTime(x) => Func::Avg(x.clone()),
            MetricsFunction::HistogramOverTime(x) => Func::Histogram(x.clone()),
            MetricsFunction::QuantileOverTime { field, quantiles } => {
                if let Some(q) = quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
                    return Err(EvalError::Invalid(format!(
                        "quantile must be between 0 and 1: {q}"
                    )));
                }
                Func::Quantile(field.clone(), quantiles.clone())
            }
            MetricsFunction::Compare { .. } => {
                return Err(EvalError::Unsupported(
                    "the metrics function compare()".to_string(),
                ))
            }
        })
    }

    /// Tempo's name of the function (the `__name__` of ungrouped series).
    pub(super) fn name(&self) -> &'static str {
        match self {
            Func::Rate => "rate",
            Func::Count => "count_over_time",
            Func::Min(_) => "min_over_time",
            Func::Max(_) => "max_over_time",
            Func::Sum(_) => "sum_over_time",
            Func::Avg(_) => "avg_over_time",
            Func::Quantile(..) => "quantile_over_time",
            Func::Histogram(_) => "histogram_over_time",
        }
    }

    pub(super) fn field(&self) -> Option<&Field> {
        match self {
            Func::Rate | Func::Count => None,
            Func::Min(f)
            | Func::Max(f)
            | Func::Sum(f)
            | Func::Avg(f)
            | Func::Quantile(f, _)
            | Func::Histogram(f) => Some(f),
        }
    }

    /// Output series per internal series.
    pub(super) fn fan_out(&self) -> usize {
        match self {
            Func::Quantile(_, qs) => qs.len().max(1),
            _ => 1,
        }
    }
}

/// What a span contributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Measure {
    One,
    Num(f64),
    Bucket(f64),
}

/// Values of one series per step.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Acc {
    /// Spans (rate, count, histogram buckets).
    Count(Vec<u64>),
    /// Min, max or sum; NaN for none.
    Min(Vec<f64>),
    Max(Vec<f64>),
    Sum(Vec<f64>),
    /// Sum and count.
    Avg(Vec<(f64, u64)>),
    /// Buckets, for quantiles.
    Hist(Vec<Histogram>),
}

impl Acc {
    pub(super) fn new(f: &Func, steps: usize) -> Acc {
        match f {
            Func::Rate | Func::Count | Func::Histogram(_) => Acc::Count(vec![0; steps]),
            Func::Min(_) => Acc::Min(vec![f64::NAN; steps]),
            Func::Max(_) => Acc::Max(vec![f64::NAN; steps]),
            Func::Sum(_) => Acc::Sum(vec![f64::NAN; steps]),
            Func::Avg(_) => Acc::Avg(vec![(0.0, 0); steps]),
            Func::Quantile(..) => Acc::Hist(vec![Histogram::default(); steps]),
        }
    }

    pub(super) fn add(&mut self, step: usize, m: Measure) {
        let x = match m {
            Measure::One => 1.0,
            Measure::Num(x) | Measure::Bucket(x) => x,
        };
        match self {
            Acc::Count(v) => {
                if let Some(c) = v.get_mut(step) {
                    *c += 1;
                }
            }
            Acc::Min(v) => {
                if let Some(c) = v.get_mut(step) {
                    *c = if c.is_nan() { x } else { c.min(x) };
                }
            }
            Acc::Max(v) => {
                if let Some(c) = v.get_mut(step) {
                    *c = if c.is_nan() { x } else { c.max(x) };
                }
            }
            Acc::Sum(v) => {
                if let Some(c) = v.get_mut(step) {
                    *c = if c.is_nan() { x } else { *c + x };
                }
            }
            Acc::Avg(v) => {
                if let Some((s, n)) = v.get_mut(step) {
                    *s += x;
                    *n += 1;
                }
            }
            Acc::Hist(v) => {
                if let Some(h) = v.get_mut(step) {
                    h.record(x);
                }
            }
        }
    }
}

/// A measured value as a number: durations in seconds (as Tempo gives
/// `duration`), integers and floats as they are; `None` for anything else.
pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Duration(ns) => Some(*ns as f64 / 1e9),
        Value::Int(n) => Some(*n as f64),
        Value::Float(x) if !x.is_nan() => Some(*x),
        _ => None,
    }
}
