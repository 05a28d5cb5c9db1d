//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction` at
//! one step, over classic (`le` buckets) and native histograms, with
//! Prometheus's annotations.

use argus_model::Labels;

use super::{StepArg, StepSample};
use crate::annotations::{fmt_g, Annotations};
use crate::functions::histogram::{bucket_fraction, bucket_quantile, group_buckets, BucketGroups};
use crate::histogram::quantile::NanNote;

use super::call::format_openmetrics_float;

/// One histogram function call: where its annotations go and the position
/// of each argument in the query.
pub(super) struct HistogramCall<'a> {
    pub annos: &'a Annotations,
    pub pos: &'a [String],
}

fn name_suffix(l: &Labels) -> String {
    match l.metric_name() {
        Some(n) => format!(" for metric name {n:?}"),
        None => String::new(),
    }
}

impl HistogramCall<'_> {
    fn quantile_warning(&self, q: f64, p: &str) {
        if q.is_nan() || !(0.0..=1.0).contains(&q) {
            self.annos.warn(format!(
                "quantile value should be between 0 and 1, got {} {p}",
                fmt_g(q)
            ));
        }
    }

    fn bad_le(&self, bad: &[(String, String)], p: &str) {
        for (metric, le) in bad {
            let suffix = if metric.is_empty() {
                String::new()
            } else {
                format!(" for metric name {metric:?}")
            };
            self.annos.warn(format!(
                "bucket label \"le\" is missing or has a malformed value of {le:?}{suffix} {p}"
            ));
        }
    }

    fn monotonicity(&self, labels: &Labels, p: &str) {
        self.annos.info(format!(
            "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile){} {p}",
            name_suffix(labels)
        ));
    }

    /// The native histograms of `v`, and its classic bucket groups; a series
    /// that has both is dropped with a warning.
    fn native_split(&self, v: &[StepSample], p: &str) -> (Vec<StepSample>, BucketGroups) {
        let floats: Vec<StepSample> = v.iter().filter(|s| s.h.is_none()).cloned().collect();
        let mut g = group_buckets(&floats);
        let mut natives = Vec::new();
        for s in v.iter().filter(|s| s.h.is_some()) {
            if let Some(i) = g
                .groups
                .iter()
                .position(|(l, b)| *l == *s.labels && !b.is_empty())
            {
                self.annos.warn(format!(
                    "vector contains a mix of classic and native histograms{} {p}",
                    name_suffix(&s.labels)
                ));
                g.groups.remove(i);
                continue;
            }
            natives.push(s.clone());
        }
        (natives, g)
    }

    fn native_quantile(&self, q: f64, s: &StepSample, p: &str) -> f64 {
        let h = s.h.as_deref().expect("native sample");
        let (v, note) = crate::histogram::quantile::histogram_quantile(q, h);
        match note {
            NanNote::NanResult => self.annos.info(format!(
                "input to histogram_quantile has NaN observations, result is NaN{} {p}",
                name_suffix(&s.labels)
            )),
            NanNote::Skew => self.annos.info(format!(
                "input to histogram_quantile has NaN observations, result is skewed higher{} {p}",
                name_suffix(&s.labels)
            )),
            NanNote::None => {}
        }
        v
    }

    /// `histogram_quantile(φ, v)`.
    pub(super) fn quantile(&self, a: &[StepArg], ts: i64) -> Vec<StepSample> {
        let pos = self.pos;
        let q = a[0].scalar();
        self.quantile_warning(q, &pos[0]);
        let (natives, g) = self.native_split(a[1].vector(), &pos[1]);
        self.bad_le(&g.bad_le, &pos[1]);
        let mut out = Vec::new();
        for s in &natives {
            out.push(StepSample {
                h: None,
                labels: s.labels.clone(),
                v: self.native_quantile(q, s, &pos[1]),
                drop_name: true,
                t: ts,
            });
        }
        for (labels, buckets) in g.groups {
            let (v, forced) = bucket_quantile(q, buckets);
            if forced {
                self.monotonicity(&labels, &pos[1]);
            }
            out.push(StepSample {
                h: None,
                labels: labels.into(),
                v,
                drop_name: true,
                t: ts,
            });
        }
        out
    }

    /// `histogram_quantiles(v, label, φ…)`: one output series per φ, labelled.
    pub(super) fn quantiles(&self, a: &[StepArg], ts: i64) -> Vec<StepSample> {
        let pos = self.pos;
        let label = a[1].string();
        let qs: Vec<f64> = a
            .get(2..)
            .unwrap_or(&[])
            .iter()
            .map(|x| x.scalar())
            .collect();
        for (i, q) in qs.iter().enumerate() {
            self.quantile_warning(*q, &pos[i + 2]);
        }
        let (natives, g) = self.native_split(a[0].vector(), &pos[0]);
        self.bad_le(&g.bad_le, &pos[0]);
        let mut out = Vec::new();
        for q in &qs {
            for s in &natives {
                let mut b = s.labels.builder();
                b.set(label.to_string(), format_openmetrics_float(*q));
                out.push(StepSample {
                    h: None,
                    labels: b.build().into(),
                    v: self.native_quantile(*q, s, &pos[0]),
                    drop_name: true,
                    t: ts,
                });
            }
            for (labels, buckets) in &g.groups {
                let (v, forced) = bucket_quantile(*q, buckets.clone());
                if forced {
                    self.monotonicity(labels, &pos[0]);
                }
                let mut b = labels.builder();
                b.set(label.to_string(), format_openmetrics_float(*q));
                out.push(StepSample {
                    h: None,
                    labels: b.build().into(),
                    v,
                    drop_name: true,
                    t: ts,
                });
            }
        }
        out
    }

    /// `histogram_fraction(lower, upper, v)`.
    pub(super) fn fraction(&self, a: &[StepArg], ts: i64) -> Vec<StepSample> {
        let pos = self.pos;
        let (lower, upper) = (a[0].scalar(), a[1].scalar());
        let (natives, g) = self.native_split(a[2].vector(), &pos[2]);
        self.bad_le(&g.bad_le, &pos[2]);
        let mut out = Vec::new();
        for s in &natives {
            let h = s.h.as_deref().expect("native sample");
            let (v, nan) = crate::histogram::quantile::histogram_fraction(lower, upper, h);
            if nan {
                self.annos.info(format!(
                    "input to histogram_fraction has NaN observations, which are excluded from all fractions{} {}",
                    name_suffix(&s.labels),
                    pos[2]
                ));
            }
            out.push(StepSample {
                h: None,
                labels: s.labels.clone(),
                v,
                drop_name: true,
                t: ts,
            });
        }
        out.extend(g.groups.into_iter().map(|(labels, buckets)| StepSample {
            h: None,
            labels: labels.into(),
            v: bucket_fraction(lower, upper, buckets),
            drop_name: true,
            t: ts,
        }));
        out
    }
}
