//! OTLP metrics (`ExportMetricsServiceRequest`, protobuf or JSON) to
//! Prometheus series; OTLP logs are in [`logs`], OTLP traces in [`traces`].
//!
//! The conversion follows Prometheus 3's OTLP receiver
//! (`storage/remote/otlptranslator/prometheusremotewrite` with
//! `github.com/prometheus/otlptranslator` v1.0.0) under its default
//! configuration (translation strategy `UnderscoreEscapingWithSuffixes`,
//! `label_name_underscore_sanitization` and
//! `label_name_preserve_multiple_underscores` on, scope metadata not promoted,
//! delta temporality refused), and the OpenTelemetry "Prometheus and
//! OpenMetrics Compatibility" spec where Prometheus defers to it:
//!
//! - Names: `naming::metric_name` (unit and `_total`/`_ratio` suffixes, invalid
//!   characters to `_`), `naming::LabelNamer` for attribute keys; keys that
//!   collide after sanitizing get their values joined with `;` in key order.
//! - Resource: `service.namespace`/`service.name` → `job`, `service.instance.id`
//!   → `instance`; the other attributes go to a `target_info` gauge (value 1)
//!   with `job`/`instance`, when there is at least one of them and at least one
//!   non-identifying attribute.
//! - Gauges and cumulative sums → one sample per point; histograms →
//!   `_sum` (when set), `_count`, cumulative `_bucket{le}` and `le="+Inf"`;
//!   summaries → `_sum`, `_count`, `{quantile}`. `NO_RECORDED_VALUE` → stale NaN.
//! - Exemplars of sums and histograms → [`TimeSeries::exemplars`] (`trace_id`,
//!   `span_id` in hex; see `exemplars`).
//! - Cumulative exponential histograms → native histogram samples
//!   ([`TimeSeries::histograms`], see `exphist`); scales above 8 are merged
//!   down to schema 8, scales below -4 are rejected.
//!
//! What is not stored is reported in [`Converted::rejected`] instead of failing
//! the whole request (Prometheus fails the request), so the HTTP layer can answer
//! with OTLP partial success.

mod attrs;
mod exemplars;
mod exphist;
mod json;
pub mod logs;
mod naming;
pub mod traces;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_convert;
#[cfg(test)]
mod tests_json;
#[cfg(test)]
mod tests_logs;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_resource;
#[cfg(test)]
mod tests_traces;

use argus_model::{Labels, LabelsBuilder, Sample, TimeSeries, METRIC_NAME, STALE_NAN};
use attrs::{get, value_string};
use naming::{format_go_float, metric_name, LabelNamer, MetricKind};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Metric,
};
use std::collections::{HashMap, HashSet};

pub use naming::prometheus_unit;

/// How OTLP is translated. `Default` is Prometheus 3's default OTLP config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpOptions {
    /// Add unit suffixes and `_total`/`_ratio` to metric names (Prometheus's
    /// `UnderscoreEscapingWithSuffixes`; false is `UnderscoreEscapingWithoutSuffixes`).
    pub add_metric_suffixes: bool,
    /// Resource attributes copied as labels onto every series of the resource
    /// (a data point attribute of the same label name wins).
    pub promote_resource_attributes: Vec<String>,
    /// Add `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and
    /// `otel_scope_<attr>` labels for scopes with a name. Prometheus's
    /// `promote_scope_metadata`, default false (the OTel spec asks for true).
    pub promote_scope_metadata: bool,
    /// Prefix `key` to label names that start with a single `_` (`_foo` →
    /// `key_foo`). Prometheus's `label_name_underscore_sanitization`, default true.
    pub label_name_underscore_sanitization: bool,
    /// Keep runs of `_` in label names. Prometheus's
    /// `label_name_preserve_multiple_underscores`, default true; false collapses
    /// them as the OTel spec asks.
    pub label_name_preserve_multiple_underscores: bool,
    /// The query lookback delta: `target_info` gets a sample every half of it
    /// between a resource's earliest and latest points, so joins find it all
    /// along. Prometheus's `--query.lookback-delta`, default 5 minutes.
    pub lookback_delta_ms: i64,
}

impl Default for OtlpOptions {
    fn default() -> Self {
        OtlpOptions {
            add_metric_suffixes: true,
            promote_resource_attributes: Vec::new(),
            promote_scope_metadata: false,
            label_name_underscore_sanitization: true,
            label_name_preserve_multiple_underscores: true,
            lookback_delta_ms: 5 * 60 * 1000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("invalid OTLP protobuf body: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("invalid OTLP JSON body: {0}")]
    Json(String),
}

/// Data points that were not converted, grouped by metric and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpRejection {
    /// The OTLP metric name, as sent (`target_info` for a resource's info series).
    pub metric: String,
    pub reason: String,
    /// OTLP data points rejected (not Prometheus samples).
    pub points: usize,
}

/// The result of [`convert`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// One entry per distinct label set, samples sorted by time. Includes the
    /// `target_info` series.
    pub series: Vec<TimeSeries>,
    pub rejected: Vec<OtlpRejection>,
    /// How many of `series` are `target_info` series.
    pub target_info: usize,
    /// Type, help (the OTel description) and unit of each metric family
    /// converted, once per name (first seen wins), as Prometheus's OTLP
    /// receiver records them.
    pub metadata: Vec<crate::remote_write::MetricMetadata>,
}

impl Converted {
    /// Total OTLP data points rejected (for OTLP's `rejected_data_points`).
    pub fn rejected_points(&self) -> usize {
        self.rejected.iter().map(|r| r.points).sum()
    }

    /// Total float samples produced.
    pub fn samples(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Total exemplars produced.
    pub fn exemplars(&self) -> usize {
        self.series.iter().map(|s| s.exemplars.len()).sum()
    }

    /// Total native histogram samples produced.
    pub fn histograms(&self) -> usize {
        self.series.iter().map(|s| s.histograms.len()).sum()
    }
}

/// Decodes an OTLP/HTTP metrics body: binary protobuf, or OTLP/JSON when
/// `json` (Content-Type `application/json`). Never panics on bad input.
pub fn decode_request(body: &[u8], json: bool) -> Result<ExportMetricsServiceRequest, OtlpError> {
    if json {
        json::decode(body)
    } else {
        Ok(prost::Message::decode(body)?)
    }
}

/// Flag bit `DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK`.
const NO_RECORDED_VALUE: u32 = 1;
/// Resource attributes that make `job` and `instance` rather than `target_info` labels.
const IDENTIFYING: [&str; 3] = ["service.namespace", "service.name", "service.instance.id"];
/// Bound on `target_info` samples per resource (Prometheus has none, so one
/// old point in a batch can make it write millions): with the default 5 m
/// lookback, samples cover the batch's first ~41 hours, plus its latest point.
const MAX_TARGET_INFO_SAMPLES: usize = 1000;

/// Converts a decoded request to Prometheus series (see the module docs).
pub fn convert(req: &ExportMetricsServiceRequest, opts: &OtlpOptions) -> Converted {
    let mut c = Converter {
        opts,
        namer: LabelNamer {
            underscore_sanitization: opts.label_name_underscore_sanitization,
            preserve_multiple_underscores: opts.label_name_preserve_multiple_underscores,
        },
        out: Converted::default(),
        index: HashMap::new(),
        target_info: HashSet::new(),
    };
    for rm in &req.resource_metrics {
        let attrs: &[KeyValue] = rm.resource.as_ref().map_or(&[], |r| &r.attributes);
        let res = match c.resource_ctx(attrs) {
            Ok(res) => res,
            Err(reason) => {
                for m in rm.scope_metrics.iter().flat_map(|sm| &sm.metrics) {
                    c.reject(&m.name, reason.clone(), point_count(m));
                }
                continue;
            }
        };
        // Like Prometheus, the window counts every point of the resource, also
        // those rejected below; points without a timestamp are left out.
        let mut window: Option<(u64, u64)> = None;
        for sm in &rm.scope_metrics {
            let scope = c.scope_labels(sm.scope.as_ref(), &sm.schema_url);
            for m in &sm.metrics {
                for t in point_times(m).filter(|&t| t != 0) {
                    window = Some(window.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
                }
                c.metric(m, &res, scope.as_deref());
            }
        }
        if let Some((earliest, latest)) = window {
            c.target_info(attrs, &res, earliest, latest);
        }
    }
    c.finish()
}

/// Labels every series of a resource gets.
struct ResourceCtx {
    job: String,
    instance: String,
    promoted: Vec<(String, String)>,
}

struct Converter<'o> {
    opts: &'o OtlpOptions,
    namer: LabelNamer,
    out: Converted,
    index: HashMap<Labels, usize>,
    target_info: HashSet<usize>,
}

fn ns_to_ms(ns: u64) -> i64 {
    // u64::MAX / 1e6 < i64::MAX, so this never wraps.
    (ns / 1_000_000) as i64
}

fn point_count(m: &Metric) -> usize {
    match &m.data {
        None => 0,
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
    }
}

fn point_times(m: &Metric) -> Box<dyn Iterator<Item = u64> + '_> {
    match &m.data {
        None => Box::new(std::iter::empty()),
        Some(Data::Gauge(g)) => Box::new(g.data_points.iter().map(|p| p.time_unix_nano)),
        Some(Data::Sum(s)) => Box::new(s.data_points.iter().map(|p| p.time_unix_nano)),
        Some(Data::Histogram(h)) => Box::new(h.data_points.iter().map(|p| p.time_unix_nano)),
        Some(Data::ExponentialHistogram(h)) => {
            Box::new(h.data_points.iter().map(|p| p.time_unix_nano))
        }
        Some(Data::Summary(s)) => Box::new(s.data_points.iter().map(|p| p.time_unix_nano)),
    }
}

fn temporality_reason(t: i32) -> Option<String> {
    match AggregationTemporality::try_from(t) {
        Ok(AggregationTemporality::Cumulative) => None,
        Ok(AggregationTemporality::Delta) => Some(
            "delta temporality is not supported: only cumulative sums and histograms can be stored \
             (Prometheus also rejects delta unless a feature flag is set); configure the exporter for \
             cumulative temporality"
                .to_string(),
        ),
        _ => Some(format!("invalid aggregation temporality {t}: only cumulative (2) is supported")),
    }
}

impl Converter<'_> {
    fn reject(&mut self, metric: &str, reason: impl Into<String>, points: usize) {
        let reason = reason.into();
        if let Some(last) = self.out.rejected.last_mut() {
            if last.metric == metric && last.reason == reason {
                last.points += points;
                return;
            }
        }
        self.out.rejected.push(OtlpRejection {
            metric: metric.to_string(),
            reason,
            points,
        });
    }

    fn push(&mut self, labels: Labels, t: i64, v: f64) -> usize {
        let i = self.series_index(labels);
        self.out.series[i].samples.push(Sample::new(t, v));
        i
    }

    fn series_index(&mut self, labels: Labels) -> usize {
        match self.index.get(&labels) {
            Some(&i) => i,
            None => {
                let i = self.out.series.len();
                self.index.insert(labels.clone(), i);
                self.out.series.push(TimeSeries {
                    labels,
                    samples: Vec::new(),
                    histograms: Vec::new(),
                    exemplars: Vec::new(),
                });
                i
            }
        }
    }

    fn finish(mut self) -> Converted {
        for (i, s) in self.out.series.iter_mut().enumerate() {
            s.samples.sort_by_key(|s| s.t);
            s.histograms.sort_by_key(|s| s.t);
            // In time order (then value), as a scrape sorts them: the store
            // refuses one older than its series' newest.
            s.exemplars
                .sort_by(|a, b| a.ts_ms.cmp(&b.ts_ms).then(a.value.total_cmp(&b.value)));
            if self.target_info.contains(&i) {
                s.samples.dedup_by_key(|s| s.t);
            }
        }
        self.out.target_info = self.target_info.len();
        self.out
    }

    /// `setResourceContext`: job, instance and promoted attributes.
    fn resource_ctx(&self, attrs: &[KeyValue]) -> Result<ResourceCtx, String> {
        let mut job = String::new();
        if let Some(name) = get(attrs, "service.name") {
            job = value_string(name.value.as_ref());
            if let Some(ns) = get(attrs, "service.namespace") {
                job = format!("{}/{job}", value_string(ns.value.as_ref()));
            }
        }
        let instance = get(attrs, "service.instance.id")
            .map_or(String::new(), |kv| value_string(kv.value.as_ref()));
        let mut b = LabelsBuilder::default();
        for kv in attrs
            .iter()
            .filter(|kv| self.opts.promote_resource_attributes.contains(&kv.key))
        {
            let name = self
                .namer
                .build(&kv.key)
                .map_err(|e| format!("promoted resource attribute {:?}: {e}", kv.key))?;
            b.set(name, value_string(kv.value.as_ref()));
        }
        let promoted = b
            .build()
            .into_vec()
            .into_iter()
            .map(|l| (l.name, l.value))
            .collect();
        Ok(ResourceCtx {
            job,
            instance,
            promoted,
        })
    }

    /// `setScopeContext`: scope labels when promoted and the scope has a name.
    fn scope_labels(
        &self,
        scope: Option<&InstrumentationScope>,
        schema_url: &str,
    ) -> Option<Vec<(String, String)>> {
        let scope = scope.filter(|s| self.opts.promote_scope_metadata && !s.name.is_empty())?;
        let mut b = LabelsBuilder::default();
        for kv in &scope.attributes {
            // "otel_scope_" + anything is a valid name once sanitized.
            if let Ok(name) = self.namer.build(&format!("otel_scope_{}", kv.key)) {
                b.set(name, value_string(kv.value.as_ref()));
            }
        }
        let mut labels: Vec<(String, String)> = b
            .build()
            .into_vec()
            .into_iter()
            .map(|l| (l.name, l.value))
            .collect();
        labels.push(("otel_scope_name".into(), scope.name.clone()));
        labels.push(("otel_scope_version".into(), scope.version.clone()));
        labels.push(("otel_scope_schema_url".into(), schema_url.to_string()));
        Some(labels)
    }

    /// `createAttributes`: attribute labels (sanitized, collisions joined with
    /// `;` in key order), then promoted resource labels where unset, then
    /// `job`/`instance`, then scope labels.
    fn base_labels(
        &self,
        attrs: &[KeyValue],
        ignore: &[&str],
        res: &ResourceCtx,
        scope: Option<&[(String, String)]>,
        promote: bool,
    ) -> Result<LabelsBuilder, String> {
        let mut pairs: Vec<(&str, String)> = attrs
            .iter()
            .filter(|kv| !ignore.contains(&kv.key.as_str()))
            .map(|kv| (kv.key.as_str(), value_string(kv.value.as_ref())))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let mut b = LabelsBuilder::default();
        for (key, value) in pairs {
            let name = self
                .namer
                .build(key)
                .map_err(|e| format!("invalid attribute name {key:?}: {e}"))?;
            match b.get(&name).filter(|v| !v.is_empty()) {
                Some(existing) => {
                    let joined = format!("{existing};{value}");
                    b.set(name, joined)
                }
                None => b.set(name, value),
            };
        }
        if promote {
            for (name, value) in &res.promoted {
                if b.get(name).is_none_or(str::is_empty) {
                    b.set(name.as_str(), value.as_str());
                }
            }
        }
        if !res.job.is_empty() {
            b.set("job", res.job.as_str());
        }
        if !res.instance.is_empty() {
            b.set("instance", res.instance.as_str());
        }
        for (name, value) in scope.unwrap_or_default() {
            b.set(name.as_str(), value.as_str());
        }
        Ok(b)
    }

    /// Labels for one data point, or `None` after recording a rejection.
    fn point_labels(
        &mut self,
        metric: &str,
        t: u64,
        attrs: &[KeyValue],
        res: &ResourceCtx,
        scope: Option<&[(String, String)]>,
    ) -> Option<LabelsBuilder> {
        if t == 0 {
            self.reject(metric, "data point has no timestamp (timeUnixNano is 0)", 1);
            return None;
        }
        match self.base_labels(attrs, &[METRIC_NAME], res, scope, true) {
            Ok(b) => Some(b),
            Err(reason) => {
                self.reject(metric, reason, 1);
                None
            }
        }
    }

    fn emit(
        &mut self,
        base: &LabelsBuilder,
        name: &str,
        extra: Option<(&str, String)>,
        t: i64,
        v: f64,
    ) -> usize {
        let mut b = base.clone();
        if let Some((n, val)) = extra {
            b.set(n, val);
        }
        b.set(METRIC_NAME, name);
        self.push(b.build(), t, v)
    }

    /// Records a family's metadata the first time its name is seen with
    /// points.
    fn metadata(&mut self, name: &str, kind: MetricKind, m: &Metric) {
        use crate::remote_write::{MetricMetadata, MetricType};
        if self
            .out
            .metadata
            .iter()
            .any(|e| e.metric_family_name == name)
        {
            return;
        }
        let metric_type = match kind {
            MetricKind::Gauge | MetricKind::NonMonotonicCounter => MetricType::Gauge,
            MetricKind::MonotonicCounter => MetricType::Counter,
            MetricKind::Histogram | MetricKind::ExponentialHistogram => MetricType::Histogram,
            MetricKind::Summary => MetricType::Summary,
        };
        self.out.metadata.push(MetricMetadata {
            metric_family_name: name.to_string(),
            metric_type,
            help: m.description.clone(),
            unit: prometheus_unit(&m.unit),
        });
    }

    fn metric(&mut self, m: &Metric, res: &ResourceCtx, scope: Option<&[(String, String)]>) {
        let n = point_count(m);
        let Some(data) = &m.data else {
            self.reject(
                &m.name,
                "metric has no data (no gauge, sum, histogram or summary)",
                0,
            );
            return;
        };
        if m.name.is_empty() {
            self.reject(&m.name, "metric has no name", n);
            return;
        }
        let kind = match data {
            Data::Gauge(_) => MetricKind::Gauge,
            Data::Sum(s) if s.is_monotonic => MetricKind::MonotonicCounter,
            Data::Sum(_) => MetricKind::NonMonotonicCounter,
            Data::Histogram(_) => MetricKind::Histogram,
            Data::ExponentialHistogram(_) => MetricKind::ExponentialHistogram,
            Data::Summary(_) => MetricKind::Summary,
        };
        let temporality = match data {
            Data::ExponentialHistogram(h) => Some(h.aggregation_temporality),
            Data::Sum(s) => Some(s.aggregation_temporality),
            Data::Histogram(h) => Some(h.aggregation_temporality),
            _ => None,
        };
        if let Some(reason) = temporality.and_then(temporality_reason) {
            self.reject(&m.name, reason, n);
            return;
        }
        let name = match metric_name(&m.name, &m.unit, kind, self.opts.add_metric_suffixes) {
            Ok(name) => name,
            Err(reason) => {
                self.reject(&m.name, reason, n);
                return;
            }
        };
        if n > 0 {
            self.metadata(&name, kind, m);
        }
        match data {
            Data::Gauge(g) => self.number_points(m, &name, &g.data_points, res, scope, false),
            Data::Sum(s) => self.number_points(m, &name, &s.data_points, res, scope, true),
            Data::Histogram(h) => {
                for p in &h.data_points {
                    let Some(base) =
                        self.point_labels(&m.name, p.time_unix_nano, &p.attributes, res, scope)
                    else {
                        continue;
                    };
                    let t = ns_to_ms(p.time_unix_nano);
                    let stale = p.flags & NO_RECORDED_VALUE != 0;
                    let val = |v: f64| if stale { STALE_NAN } else { v };
                    if let Some(sum) = p.sum {
                        self.emit(&base, &format!("{name}_sum"), None, t, val(sum));
                    }
                    self.emit(
                        &base,
                        &format!("{name}_count"),
                        None,
                        t,
                        val(p.count as f64),
                    );
                    let bucket = format!("{name}_bucket");
                    let mut cumulative: u64 = 0;
                    let mut buckets = Vec::with_capacity(p.explicit_bounds.len() + 1);
                    for (bound, count) in p.explicit_bounds.iter().zip(&p.bucket_counts) {
                        cumulative = cumulative.wrapping_add(*count);
                        // A +Inf bound would duplicate the le="+Inf" series below.
                        if *bound == f64::INFINITY {
                            continue;
                        }
                        let i = self.emit(
                            &base,
                            &bucket,
                            Some(("le", format_go_float(*bound))),
                            t,
                            val(cumulative as f64),
                        );
                        buckets.push((*bound, i));
                    }
                    let i = self.emit(
                        &base,
                        &bucket,
                        Some(("le", "+Inf".into())),
                        t,
                        val(p.count as f64),
                    );
                    buckets.push((f64::INFINITY, i));
                    for e in exemplars::convert_all(&p.exemplars) {
                        if let Some(i) = exemplars::bucket_for(&buckets, e.value) {
                            self.out.series[i].exemplars.push(e);
                        }
                    }
                }
            }
            Data::Summary(s) => {
                for p in &s.data_points {
                    let Some(base) =
                        self.point_labels(&m.name, p.time_unix_nano, &p.attributes, res, scope)
                    else {
                        continue;
                    };
                    let t = ns_to_ms(p.time_unix_nano);
                    let stale = p.flags & NO_RECORDED_VALUE != 0;
                    let val = |v: f64| if stale { STALE_NAN } else { v };
                    self.emit(&base, &format!("{name}_sum"), None, t, val(p.sum));
                    self.emit(
                        &base,
                        &format!("{name}_count"),
                        None,
                        t,
                        val(p.count as f64),
                    );
                    for q in &p.quantile_values {
                        self.emit(
                            &base,
                            &name,
                            Some(("quantile", format_go_float(q.quantile))),
                            t,
                            val(q.value),
                        );
                    }
                }
            }
            Data::ExponentialHistogram(h) => {
                for p in &h.data_points {
                    let Some(mut b) =
                        self.point_labels(&m.name, p.time_unix_nano, &p.attributes, res, scope)
                    else {
                        continue;
                    };
                    let t = ns_to_ms(p.time_unix_nano);
                    match exphist::to_native(p, t, p.flags & NO_RECORDED_VALUE != 0) {
                        Ok(sample) => {
                            b.set(METRIC_NAME, name.as_str());
                            let i = self.series_index(b.build());
                            self.out.series[i].histograms.push(sample);
                            let es = exemplars::convert_all(&p.exemplars);
                            self.out.series[i].exemplars.extend(es);
                        }
                        Err(reason) => self.reject(&m.name, reason, 1),
                    }
                }
            }
        }
    }

    fn number_points(
        &mut self,
        m: &Metric,
        name: &str,
        points: &[opentelemetry_proto::tonic::metrics::v1::NumberDataPoint],
        res: &ResourceCtx,
        scope: Option<&[(String, String)]>,
        with_exemplars: bool,
    ) {
        for p in points {
            let Some(base) =
                self.point_labels(&m.name, p.time_unix_nano, &p.attributes, res, scope)
            else {
                continue;
            };
            // A point with neither asDouble nor asInt is 0, as in Prometheus.
            let v = match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => 0.0,
            };
            let v = if p.flags & NO_RECORDED_VALUE != 0 {
                STALE_NAN
            } else {
                v
            };
            let i = self.emit(&base, name, None, ns_to_ms(p.time_unix_nano), v);
            if with_exemplars {
                let es = exemplars::convert_all(&p.exemplars);
                self.out.series[i].exemplars.extend(es);
            }
        }
    }

    /// `addResourceTargetInfo`.
    fn target_info(&mut self, attrs: &[KeyValue], res: &ResourceCtx, earliest: u64, latest: u64) {
        let identifying = IDENTIFYING
            .iter()
            .filter(|k| get(attrs, k).is_some())
            .count();
        if attrs.len() == identifying {
            // Only job and instance: target_info would say nothing.
            return;
        }
        let mut b = match self.base_labels(attrs, &IDENTIFYING, res, None, false) {
            Ok(b) => b,
            Err(reason) => {
                self.reject("target_info", format!("resource: {reason}"), 0);
                return;
            }
        };
        let has = |b: &LabelsBuilder, n: &str| b.get(n).is_some_and(|v| !v.is_empty());
        if !has(&b, "job") && !has(&b, "instance") {
            return;
        }
        b.set(METRIC_NAME, "target_info");
        let labels = b.build();
        let lookback = if self.opts.lookback_delta_ms > 0 {
            self.opts.lookback_delta_ms
        } else {
            300_000
        };
        let interval_ns = (lookback as u64 / 2).max(1).saturating_mul(1_000_000);
        let mut times = Vec::new();
        let mut t = earliest;
        while t < latest && times.len() < MAX_TARGET_INFO_SAMPLES {
            times.push(ns_to_ms(t));
            t = t.saturating_add(interval_ns);
        }
        times.push(ns_to_ms(latest));
        let mut idx = 0;
        for t in times {
            idx = self.push(labels.clone(), t, 1.0);
        }
        self.target_info.insert(idx);
    }
}
