//! Test helpers, and naming tests (metric names, units, label names, `le` and
//! `quantile` formatting) with vectors from otlptranslator's own tests.

use super::naming::{format_go_float, metric_name, prometheus_unit, LabelNamer, MetricKind};
use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

pub(super) const T0: u64 = 1_700_000_000_000_000_000; // ns
pub(super) const T0_MS: i64 = 1_700_000_000_000;
pub(super) const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
pub(super) const DELTA: i32 = AggregationTemporality::Delta as i32;

pub(super) fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

pub(super) fn kv_val(k: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
    }
}

pub(super) fn point(attrs: Vec<KeyValue>, t: u64, v: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

pub(super) fn gauge(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Default::default()
    }
}

pub(super) fn sum(
    name: &str,
    unit: &str,
    monotonic: bool,
    temporality: i32,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

pub(super) fn histogram(
    name: &str,
    unit: &str,
    temporality: i32,
    points: Vec<HistogramDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: temporality,
        })),
        ..Default::default()
    }
}

pub(super) fn request(
    resource: Vec<KeyValue>,
    metrics: Vec<Metric>,
) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub(super) fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// `labels -> samples` for compact assertions; panics on a duplicate label set.
pub(super) fn by_labels(c: &Converted) -> HashMap<String, Vec<(i64, f64)>> {
    let mut m = HashMap::new();
    for s in &c.series {
        let prev = m.insert(
            s.labels.to_string(),
            s.samples.iter().map(|s| (s.t, s.v)).collect(),
        );
        assert!(prev.is_none(), "duplicate series {}", s.labels);
    }
    m
}

pub(super) fn samples_of<'a>(c: &'a Converted, labels: &Labels) -> &'a [Sample] {
    &c.series
        .iter()
        .find(|s| &s.labels == labels)
        .unwrap_or_else(|| panic!("no series {labels} in {c:#?}"))
        .samples
}

pub(super) fn only(c: &Converted) -> &TimeSeries {
    let non_info: Vec<_> = c
        .series
        .iter()
        .filter(|s| s.labels.metric_name() != Some("target_info"))
        .collect();
    assert_eq!(non_info.len(), 1, "{c:#?}");
    non_info[0]
}

pub(super) fn name_of(m: Metric) -> String {
    let c = convert(&request(vec![], vec![m]), &OtlpOptions::default());
    assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    only(&c).labels.metric_name().unwrap().to_string()
}

#[test]
fn metric_names_with_suffixes() {
    use MetricKind::*;
    // otlptranslator metric_namer_test.go (UTF8Allowed=false, WithMetricSuffixes=true).
    let cases = [
        ("requests", "", MonotonicCounter, "requests_total"),
        ("cpu_usage", "1", Gauge, "cpu_usage_ratio"),
        ("items", "1", MonotonicCounter, "items_total"),
        ("response_time", "ms", Gauge, "response_time_milliseconds"),
        ("memory_usage", "By", Gauge, "memory_usage_bytes"),
        ("requests", "1/s", Gauge, "requests_per_second"),
        ("throughput", "By/s", Gauge, "throughput_bytes_per_second"),
        (
            "custom_metric",
            "custom_unit",
            Gauge,
            "custom_metric_custom_unit",
        ),
        ("custom_metric", "{custom}", Gauge, "custom_metric"),
        ("custom_metric", "By/{custom}", Gauge, "custom_metric_bytes"),
        ("requests_total", "", MonotonicCounter, "requests_total"),
        ("cpu_usage_ratio", "1", Gauge, "cpu_usage_ratio"),
        ("response_time_seconds", "s", Gauge, "response_time_seconds"),
        (
            "cpu_seconds_total",
            "s",
            MonotonicCounter,
            "cpu_seconds_total",
        ),
        (
            "otelcol_process_cpu_seconds",
            "s",
            MonotonicCounter,
            "otelcol_process_cpu_seconds_total",
        ),
        (
            "metric__with__multiple__underscores",
            "unit__multiple__underscores",
            Gauge,
            "metric_with_multiple_underscores_unit_multiple_underscores",
        ),
        (
            "custom_metric",
            "unit@with#special/chars",
            Gauge,
            "custom_metric_unit_with_special_per_chars",
        ),
        // More: dots, spec units, non-monotonic sums are not gauges for `_ratio`.
        (
            "http.server.request.duration",
            "s",
            Histogram,
            "http_server_request_duration_seconds",
        ),
        (
            "system.cpu.utilization",
            "1",
            Gauge,
            "system_cpu_utilization_ratio",
        ),
        (
            "process.threads",
            "1",
            NonMonotonicCounter,
            "process_threads",
        ),
        ("queue.size", "{item}", NonMonotonicCounter, "queue_size"),
        (
            "http.server.active_requests",
            "{request}",
            NonMonotonicCounter,
            "http_server_active_requests",
        ),
        ("total.requests", "", MonotonicCounter, "requests_total"),
        ("disk.io", "By", MonotonicCounter, "disk_io_bytes_total"),
        ("temp", "Cel", Gauge, "temp_celsius"),
        ("load", "%", Gauge, "load_percent"),
        ("speed", "m/s", Gauge, "speed_meters_per_second"),
        ("rate", " KiBy / min ", Gauge, "rate_kibibytes_per_min"),
        ("events", "/h", Gauge, "events_per_hour"),
        (
            "2xx.responses",
            "",
            MonotonicCounter,
            "_2xx_responses_total",
        ),
        ("_leading.and.trailing_", "", Gauge, "leading_and_trailing"),
        ("ns:sub.metric", "", Gauge, "ns:sub_metric"),
        ("métric.ñame", "", Gauge, "m_tric_ame"),
        ("rpc.latency", "ms", Summary, "rpc_latency_milliseconds"),
    ];
    for (name, unit, kind, want) in cases {
        assert_eq!(
            metric_name(name, unit, kind, true).as_deref(),
            Ok(want),
            "{name:?} {unit:?} {kind:?}"
        );
    }
    assert_eq!(
        metric_name("@#$%", "", Gauge, true),
        Err("normalization for metric \"@#$%\" resulted in empty name".to_string())
    );
}

#[test]
fn metric_names_without_suffixes() {
    use MetricKind::*;
    // otlptranslator metric_namer_test.go (UTF8Allowed=false, WithMetricSuffixes=false).
    let cases = [
        ("simple_metric", "s", MonotonicCounter, "simple_metric"),
        (
            "metric@with#special$chars",
            "",
            Gauge,
            "metric_with_special_chars",
        ),
        ("123metric", "", Gauge, "_123metric"),
        ("metric@@##$$name", "", Gauge, "metric_name"),
        ("___", "", Gauge, "___"),
        ("keeps__double", "1", Gauge, "keeps__double"),
    ];
    for (name, unit, kind, want) in cases {
        assert_eq!(
            metric_name(name, unit, kind, false).as_deref(),
            Ok(want),
            "{name:?}"
        );
    }
    assert!(metric_name("", "", Gauge, false).is_err());
    assert!(metric_name("@#$%", "", Gauge, false).is_err());
    assert!(metric_name("@_#_$_%", "", Gauge, false).is_err());
    // Through `convert`: the option switches suffixes off.
    let opts = OtlpOptions {
        add_metric_suffixes: false,
        ..Default::default()
    };
    let req = request(
        vec![],
        vec![sum(
            "http.requests",
            "1",
            true,
            CUMULATIVE,
            vec![point(vec![], T0, 1.0)],
        )],
    );
    assert_eq!(
        only(&convert(&req, &opts)).labels,
        l(&[("__name__", "http_requests")])
    );
}

#[test]
fn units() {
    assert_eq!(prometheus_unit("s"), "seconds");
    assert_eq!(prometheus_unit("By/s"), "bytes_per_second");
    assert_eq!(prometheus_unit("1/s"), "per_second");
    assert_eq!(prometheus_unit("1"), "");
    assert_eq!(prometheus_unit("{request}"), "");
    assert_eq!(
        prometheus_unit("unit@with#special/chars"),
        "unit_with_special_per_chars"
    );
}

#[test]
fn label_names() {
    // otlptranslator label_namer_test.go: (label, plain, preserve, underscore-sanitization,
    // both); None = error. Prometheus's default config is "both".
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: [Case; 15] = [
        (
            "label:with:colons",
            Some("label_with_colons"),
            None,
            None,
            None,
        ),
        (
            "LabelWithCapitalLetters",
            Some("LabelWithCapitalLetters"),
            None,
            None,
            None,
        ),
        (
            "label!with&special$chars)",
            Some("label_with_special_chars_"),
            None,
            None,
            None,
        ),
        (
            "label_with_foreign_characters_字符",
            Some("label_with_foreign_characters_"),
            Some("label_with_foreign_characters___"),
            None,
            None,
        ),
        ("label.with.dots", Some("label_with_dots"), None, None, None),
        (".foo", Some("_foo"), None, Some("key_foo"), None),
        ("123label", Some("key_123label"), None, None, None),
        (
            "_label_starting_with_underscore",
            Some("_label_starting_with_underscore"),
            None,
            Some("key_label_starting_with_underscore"),
            None,
        ),
        (
            "__label_starting_with_2underscores",
            Some("_label_starting_with_2underscores"),
            Some("__label_starting_with_2underscores"),
            Some("key_label_starting_with_2underscores"),
            Some("__label_starting_with_2underscores"),
        ),
        (
            "label__with__double__underscores",
            Some("label_with_double_underscores"),
            Some("label__with__double__underscores"),
            None,
            None,
        ),
        (
            "label.name__with&&special##chars",
            Some("label_name_with_special_chars"),
            Some("label_name__with__special__chars"),
            None,
            None,
        ),
        (
            "__reserved__label__name__",
            Some("__reserved_label_name__"),
            Some("__reserved__label__name__"),
            None,
            None,
        ),
        (
            "trailing_underscores___",
            Some("trailing_underscores_"),
            Some("trailing_underscores___"),
            None,
            None,
        ),
        (
            "http.request.method",
            Some("http_request_method"),
            None,
            None,
            None,
        ),
        ("0", Some("key_0"), None, None, None),
    ];
    for (label, plain, preserve, underscore, both) in cases {
        let plain = plain.unwrap();
        let preserve = preserve.unwrap_or(plain);
        let underscore = underscore.unwrap_or(plain);
        let both = both
            .or(if underscore != plain {
                Some(underscore)
            } else {
                None
            })
            .unwrap_or(preserve);
        for (us, pm, want) in [
            (false, false, plain),
            (false, true, preserve),
            (true, false, underscore),
            (true, true, both),
        ] {
            let namer = LabelNamer {
                underscore_sanitization: us,
                preserve_multiple_underscores: pm,
            };
            assert_eq!(
                namer.build(label).as_deref(),
                Ok(want),
                "{label:?} us={us} pm={pm}"
            );
        }
    }
    for (pm, label, err) in [
        (
            false,
            "ようこそ",
            r#"normalization for label name "ようこそ" resulted in invalid name "_""#,
        ),
        (
            true,
            "ようこそ",
            r#"normalization for label name "ようこそ" resulted in invalid name "____""#,
        ),
        (
            false,
            "__",
            r#"normalization for label name "__" resulted in invalid name "_""#,
        ),
        (
            true,
            "__",
            r#"normalization for label name "__" resulted in invalid name "__""#,
        ),
        (true, "", "label name is empty"),
    ] {
        // As in label_namer_test.go, errors are checked without underscore
        // sanitization: with it, "_" becomes the valid "key_".
        let namer = LabelNamer {
            underscore_sanitization: false,
            preserve_multiple_underscores: pm,
        };
        assert_eq!(namer.build(label), Err(err.to_string()));
    }
    // Prometheus's default configuration (both options on).
    let default = LabelNamer {
        underscore_sanitization: true,
        preserve_multiple_underscores: true,
    };
    assert!(default.build("ようこそ").is_err());
    assert!(default.build("__").is_err());
    let collapsing = LabelNamer {
        underscore_sanitization: true,
        preserve_multiple_underscores: false,
    };
    assert_eq!(collapsing.build("ようこそ").as_deref(), Ok("key_"));
}

#[test]
fn go_float_formatting_for_le_and_quantile() {
    // strconv.FormatFloat(f, 'f', -1, 64): shortest round-trip, never exponent.
    let cases = [
        (0.5, "0.5"),
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (0.005, "0.005"),
        (2.5, "2.5"),
        (0.99, "0.99"),
        (0.999, "0.999"),
        (100.0, "100"),
        (1e6, "1000000"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (123456.789, "123456.789"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-2.5, "-2.5"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for (f, want) in cases {
        assert_eq!(format_go_float(f), want, "{f:?}");
    }
}

pub(super) fn hist_point(
    attrs: Vec<KeyValue>,
    count: u64,
    sum: Option<f64>,
    counts: Vec<u64>,
    bounds: Vec<f64>,
) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes: attrs,
        time_unix_nano: T0,
        count,
        sum,
        bucket_counts: counts,
        explicit_bounds: bounds,
        ..Default::default()
    }
}

/// Each family's type, description and unit become its metadata, once per
/// name, under the name its samples get.
#[test]
fn metadata_of_each_family() {
    use crate::remote_write::{MetricMetadata, MetricType};
    let mut latency = gauge(
        "queue_latency",
        "s",
        vec![point(vec![], 1_000_000_000, 1.0)],
    );
    latency.description = "Time a job waits.".into();
    let counter = sum("jobs", "", true, 2, vec![point(vec![], 1_000_000_000, 3.0)]);
    let again = gauge(
        "queue_latency",
        "s",
        vec![point(vec![kv("q", "b")], 1_000_000_000, 2.0)],
    );
    let c = convert(
        &request(vec![], vec![latency, counter, again]),
        &OtlpOptions::default(),
    );
    let meta = |name: &str, metric_type, help: &str, unit: &str| MetricMetadata {
        metric_family_name: name.into(),
        metric_type,
        help: help.into(),
        unit: unit.into(),
    };
    assert_eq!(
        c.metadata,
        [
            meta(
                "queue_latency_seconds",
                MetricType::Gauge,
                "Time a job waits.",
                "seconds"
            ),
            meta("jobs_total", MetricType::Counter, "", ""),
        ]
    );
}
