//! Conversion tests: one per translation rule, with the expected label sets
//! written out (behaviour as in Prometheus's `otlptranslator/prometheusremotewrite`).

use super::tests::*;
use super::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile,
    ExponentialHistogram, ExponentialHistogramDataPoint, Summary, SummaryDataPoint,
};

#[test]
fn gauge_points_double_and_int() {
    let mut p2 = point(vec![kv("state", "idle")], T0, 0.0);
    p2.value = Some(number_data_point::Value::AsInt(-7));
    let req = request(
        vec![],
        vec![gauge(
            "system.memory.usage",
            "By",
            vec![point(vec![kv("state", "used")], T0, 1.5e9), p2],
        )],
    );
    let c = convert(&req, &OtlpOptions::default());
    let m = by_labels(&c);
    assert_eq!(m.len(), 2);
    assert_eq!(
        m[&l(&[("__name__", "system_memory_usage_bytes"), ("state", "used")]).to_string()],
        [(T0_MS, 1.5e9)]
    );
    assert_eq!(
        m[&l(&[("__name__", "system_memory_usage_bytes"), ("state", "idle")]).to_string()],
        [(T0_MS, -7.0)]
    );
    assert!(c.rejected.is_empty());
    assert_eq!(c.target_info, 0);
}

#[test]
fn sums_monotonic_counter_and_non_monotonic_gauge() {
    let req = request(
        vec![],
        vec![
            sum(
                "http.server.requests",
                "1",
                true,
                CUMULATIVE,
                vec![point(vec![], T0, 10.0)],
            ),
            sum(
                "process.threads",
                "1",
                false,
                CUMULATIVE,
                vec![point(vec![], T0, 4.0)],
            ),
            sum(
                "net.io",
                "By",
                true,
                CUMULATIVE,
                vec![point(vec![], T0, 5.0)],
            ),
        ],
    );
    let m = by_labels(&convert(&req, &OtlpOptions::default()));
    assert_eq!(
        m[&l(&[("__name__", "http_server_requests_total")]).to_string()],
        [(T0_MS, 10.0)]
    );
    assert_eq!(
        m[&l(&[("__name__", "process_threads")]).to_string()],
        [(T0_MS, 4.0)]
    );
    assert_eq!(
        m[&l(&[("__name__", "net_io_bytes_total")]).to_string()],
        [(T0_MS, 5.0)]
    );
}

#[test]
fn unit_suffixes_through_convert() {
    assert_eq!(
        name_of(gauge(
            "net.throughput",
            "By/s",
            vec![point(vec![], T0, 1.0)]
        )),
        "net_throughput_bytes_per_second"
    );
    assert_eq!(
        name_of(gauge("cpu.utilization", "1", vec![point(vec![], T0, 0.5)])),
        "cpu_utilization_ratio"
    );
    assert_eq!(
        name_of(gauge("uptime", "s", vec![point(vec![], T0, 1.0)])),
        "uptime_seconds"
    );
    assert_eq!(
        name_of(gauge(
            "queue.depth",
            "{message}",
            vec![point(vec![], T0, 1.0)]
        )),
        "queue_depth"
    );
}

#[test]
fn invalid_metric_name_characters() {
    assert_eq!(
        name_of(gauge(
            "my-app/requests.in flight",
            "",
            vec![point(vec![], T0, 1.0)]
        )),
        "my_app_requests_in_flight"
    );
    assert_eq!(
        name_of(gauge("9lives", "", vec![point(vec![], T0, 1.0)])),
        "_9lives"
    );
    let req = request(vec![], vec![gauge("...", "", vec![point(vec![], T0, 1.0)])]);
    let c = convert(&req, &OtlpOptions::default());
    assert!(c.series.is_empty());
    assert_eq!(
        c.rejected,
        [OtlpRejection {
            metric: "...".into(),
            reason: "normalization for metric \"...\" resulted in empty name".into(),
            points: 1
        }]
    );
}

#[test]
fn attribute_labels_sanitized_with_collisions_and_reserved() {
    let attrs = vec![
        kv("http.method", "GET"),
        kv("1st", "a"),
        kv("_private", "b"),
        kv("__meta", "c"),
        kv("a/b", "from-slash"),
        kv("a.b", "from-dot"),
        kv("a_b", "from-underscore"),
        kv("__name__", "ignored"),
        kv("empty", ""),
    ];
    let req = request(vec![], vec![gauge("g", "", vec![point(attrs, T0, 1.0)])]);
    let c = convert(&req, &OtlpOptions::default());
    // Keys sort as "a.b" < "a/b" < "a_b" (byte order), so that is the join order.
    assert_eq!(
        only(&c).labels,
        l(&[
            ("__name__", "g"),
            ("http_method", "GET"),
            ("key_1st", "a"),
            ("key_private", "b"),
            ("__meta", "c"),
            ("a_b", "from-dot;from-slash;from-underscore"),
        ])
    );
    // The OTel-spec mode: runs of '_' collapse, no "key" for a single leading '_'.
    let opts = OtlpOptions {
        label_name_preserve_multiple_underscores: false,
        label_name_underscore_sanitization: false,
        ..Default::default()
    };
    let req = request(
        vec![],
        vec![gauge(
            "g",
            "",
            vec![point(vec![kv("a..b", "1"), kv("_x", "2")], T0, 1.0)],
        )],
    );
    assert_eq!(
        only(&convert(&req, &opts)).labels,
        l(&[("__name__", "g"), ("a_b", "1"), ("_x", "2")])
    );
}

#[test]
fn attribute_value_types() {
    let attrs = vec![
        kv_val("i", any_value::Value::IntValue(42)),
        kv_val("b", any_value::Value::BoolValue(true)),
        kv_val("d", any_value::Value::DoubleValue(0.25)),
        kv_val(
            "arr",
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::StringValue("x".into())),
                }],
            }),
        ),
    ];
    let req = request(vec![], vec![gauge("g", "", vec![point(attrs, T0, 1.0)])]);
    assert_eq!(
        only(&convert(&req, &OtlpOptions::default())).labels,
        l(&[
            ("__name__", "g"),
            ("i", "42"),
            ("b", "true"),
            ("d", "0.25"),
            ("arr", r#"["x"]"#)
        ])
    );
}

#[test]
fn invalid_attribute_names_reject_the_point() {
    let req = request(
        vec![],
        vec![gauge(
            "g",
            "",
            vec![
                point(vec![kv("", "x")], T0, 1.0),
                point(vec![kv("___", "y")], T0, 2.0),
                point(vec![], T0, 3.0),
            ],
        )],
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(only(&c).samples, [Sample::new(T0_MS, 3.0)]);
    assert_eq!(
        c.rejected,
        [
            OtlpRejection { metric: "g".into(), reason: "invalid attribute name \"\": label name is empty".into(), points: 1 },
            OtlpRejection {
                metric: "g".into(),
                reason: "invalid attribute name \"___\": normalization for label name \"___\" resulted in invalid name \"___\"".into(),
                points: 1
            },
        ]
    );
}

#[test]
fn histogram_buckets_sum_count() {
    let p = hist_point(
        vec![kv("route", "/")],
        10,
        Some(4.5),
        vec![1, 2, 3, 4],
        vec![0.005, 0.5, 1e6],
    );
    let req = request(
        vec![],
        vec![histogram("http.server.duration", "s", CUMULATIVE, vec![p])],
    );
    let m = by_labels(&convert(&req, &OtlpOptions::default()));
    let n = "http_server_duration_seconds";
    let want = [
        (format!("{n}_sum"), None, 4.5),
        (format!("{n}_count"), None, 10.0),
        (format!("{n}_bucket"), Some("0.005"), 1.0),
        (format!("{n}_bucket"), Some("0.5"), 3.0),
        (format!("{n}_bucket"), Some("1000000"), 6.0),
        (format!("{n}_bucket"), Some("+Inf"), 10.0),
    ];
    assert_eq!(m.len(), want.len());
    for (name, le, v) in want {
        let mut pairs = vec![("__name__", name.as_str()), ("route", "/")];
        pairs.extend(le.map(|le| ("le", le)));
        assert_eq!(m[&l(&pairs).to_string()], [(T0_MS, v)], "{pairs:?}");
    }
}

#[test]
fn histogram_without_sum_and_with_odd_buckets() {
    // No sum: no _sum series. Bounds and counts of mismatched length are
    // walked up to the shorter (as Prometheus); a +Inf bound is skipped.
    let p = hist_point(vec![], 5, None, vec![1, 1], vec![1.0, 2.0, f64::INFINITY]);
    let p2 = hist_point(
        vec![kv("x", "y")],
        3,
        Some(1.0),
        vec![1, 1, 1],
        vec![1.0, f64::INFINITY],
    );
    let req = request(vec![], vec![histogram("h", "", CUMULATIVE, vec![p, p2])]);
    let m = by_labels(&convert(&req, &OtlpOptions::default()));
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            r#"{__name__="h_bucket", le="+Inf", x="y"}"#,
            r#"{__name__="h_bucket", le="+Inf"}"#,
            r#"{__name__="h_bucket", le="1", x="y"}"#,
            r#"{__name__="h_bucket", le="1"}"#,
            r#"{__name__="h_bucket", le="2"}"#,
            r#"{__name__="h_count", x="y"}"#,
            r#"{__name__="h_count"}"#,
            r#"{__name__="h_sum", x="y"}"#,
        ]
    );
    assert_eq!(m[r#"{__name__="h_bucket", le="2"}"#], [(T0_MS, 2.0)]);
    assert_eq!(m[r#"{__name__="h_bucket", le="+Inf"}"#], [(T0_MS, 5.0)]);
    assert_eq!(
        m[r#"{__name__="h_bucket", le="+Inf", x="y"}"#],
        [(T0_MS, 3.0)]
    );
}

#[test]
fn summary_quantiles_sum_count() {
    let p = SummaryDataPoint {
        attributes: vec![kv("op", "read")],
        time_unix_nano: T0,
        count: 100,
        sum: 12.5,
        quantile_values: vec![
            ValueAtQuantile {
                quantile: 0.5,
                value: 0.1,
            },
            ValueAtQuantile {
                quantile: 0.99,
                value: 0.9,
            },
            ValueAtQuantile {
                quantile: 1.0,
                value: 2.0,
            },
        ],
        ..Default::default()
    };
    let m = Metric {
        name: "rpc.duration".into(),
        unit: "s".into(),
        data: Some(Data::Summary(Summary {
            data_points: vec![p],
        })),
        ..Default::default()
    };
    let got = by_labels(&convert(&request(vec![], vec![m]), &OtlpOptions::default()));
    let n = "rpc_duration_seconds";
    let sum_n = format!("{n}_sum");
    let count_n = format!("{n}_count");
    let want: [(&[(&str, &str)], f64); 5] = [
        (&[("__name__", sum_n.as_str()), ("op", "read")], 12.5),
        (&[("__name__", count_n.as_str()), ("op", "read")], 100.0),
        (&[("__name__", n), ("op", "read"), ("quantile", "0.5")], 0.1),
        (
            &[("__name__", n), ("op", "read"), ("quantile", "0.99")],
            0.9,
        ),
        (&[("__name__", n), ("op", "read"), ("quantile", "1")], 2.0),
    ];
    assert_eq!(got.len(), want.len());
    for (pairs, v) in want {
        assert_eq!(got[&l(pairs).to_string()], [(T0_MS, v)], "{pairs:?}");
    }
}

#[test]
fn exponential_histograms_become_native_histograms() {
    let p = ExponentialHistogramDataPoint {
        time_unix_nano: T0,
        count: 4,
        sum: Some(6.5),
        scale: 2,
        zero_count: 1,
        positive: Some(Buckets {
            offset: 0,
            bucket_counts: vec![1, 2],
        }),
        attributes: vec![kv("op", "read")],
        ..Default::default()
    };
    let mut later = p.clone();
    later.time_unix_nano = T0 + 60_000_000_000;
    later.flags = 1; // NO_RECORDED_VALUE
    let mut bad = p.clone();
    bad.scale = -6;
    let m = Metric {
        name: "latency".into(),
        unit: "s".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![later, p, bad],
            aggregation_temporality: CUMULATIVE,
        })),
        ..Default::default()
    };
    let c = convert(&request(vec![], vec![m]), &OtlpOptions::default());
    assert_eq!(c.series.len(), 1);
    let s = &c.series[0];
    assert_eq!(
        s.labels,
        l(&[("__name__", "latency_seconds"), ("op", "read")])
    );
    assert!(s.samples.is_empty());
    assert_eq!(c.histograms(), 2);
    let h = &s.histograms[0];
    assert_eq!(h.t, T0_MS);
    assert_eq!(h.h.schema, 2);
    assert_eq!((h.h.count, h.h.sum, h.h.zero_count), (4.0, 6.5, 1.0));
    assert_eq!(
        h.h.positive_spans,
        vec![argus_model::Span {
            offset: 1,
            length: 2
        }]
    );
    assert_eq!(h.h.positive_buckets, vec![1.0, 2.0]);
    assert!(argus_model::is_stale_nan(s.histograms[1].h.sum));
    assert_eq!(
        c.rejected,
        [OtlpRejection {
            metric: "latency".into(),
            reason: "cannot convert exponential to native histogram: scale must be >= -4, was -6"
                .into(),
            points: 1
        }]
    );
}

#[test]
fn delta_exponential_histograms_rejected() {
    let m = Metric {
        name: "latency".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                time_unix_nano: T0,
                count: 1,
                ..Default::default()
            }],
            aggregation_temporality: 1,
        })),
        ..Default::default()
    };
    let c = convert(&request(vec![], vec![m]), &OtlpOptions::default());
    assert!(c.series.is_empty());
    assert_eq!(c.rejected.len(), 1);
    assert!(c.rejected[0].reason.contains("delta temporality"));
}

#[test]
fn delta_and_unspecified_temporality_rejected() {
    let req = request(
        vec![kv("service.name", "api"), kv("host.name", "h")],
        vec![
            sum(
                "requests",
                "",
                true,
                DELTA,
                vec![point(vec![], T0, 1.0), point(vec![], T0, 2.0)],
            ),
            histogram(
                "latency",
                "s",
                DELTA,
                vec![hist_point(vec![], 1, None, vec![1], vec![])],
            ),
            sum("other", "", true, 0, vec![point(vec![], T0, 1.0)]),
            sum("ok", "", true, CUMULATIVE, vec![point(vec![], T0, 1.0)]),
        ],
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.rejected.len(), 3);
    assert_eq!(
        (c.rejected[0].metric.as_str(), c.rejected[0].points),
        ("requests", 2)
    );
    assert!(
        c.rejected[0]
            .reason
            .starts_with("delta temporality is not supported"),
        "{}",
        c.rejected[0].reason
    );
    assert_eq!(
        (c.rejected[1].metric.as_str(), c.rejected[1].points),
        ("latency", 1)
    );
    assert_eq!(c.rejected[1].reason, c.rejected[0].reason);
    assert_eq!(
        c.rejected[2].reason,
        "invalid aggregation temporality 0: only cumulative (2) is supported"
    );
    // The cumulative sum and the resource's target_info remain.
    assert_eq!(c.series.len(), 2);
    assert_eq!(c.target_info, 1);
}

#[test]
fn no_recorded_value_is_stale_nan() {
    let mut g = point(vec![], T0, 5.0);
    g.flags = 1;
    let mut h = hist_point(vec![], 2, Some(3.0), vec![1, 1], vec![1.0]);
    h.flags = 1;
    let s = SummaryDataPoint {
        time_unix_nano: T0,
        count: 1,
        flags: 1,
        quantile_values: vec![ValueAtQuantile {
            quantile: 0.5,
            value: 1.0,
        }],
        ..Default::default()
    };
    let req = request(
        vec![],
        vec![
            gauge("g", "", vec![g]),
            histogram("h", "", CUMULATIVE, vec![h]),
            Metric {
                name: "s".into(),
                data: Some(Data::Summary(Summary {
                    data_points: vec![s],
                })),
                ..Default::default()
            },
        ],
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.series.len(), 1 + 4 + 3);
    for s in &c.series {
        assert_eq!(s.samples.len(), 1);
        assert!(
            argus_model::is_stale_nan(s.samples[0].v),
            "{} = {}",
            s.labels,
            s.samples[0].v
        );
    }
    // Other flag bits do not matter.
    let mut p = point(vec![], T0, 5.0);
    p.flags = 2;
    let c = convert(
        &request(vec![], vec![gauge("g", "", vec![p])]),
        &OtlpOptions::default(),
    );
    assert_eq!(only(&c).samples, [Sample::new(T0_MS, 5.0)]);
}

#[test]
fn timestamps_floor_to_milliseconds() {
    let points = vec![
        point(vec![kv("p", "1")], 1_999_999, 1.0),
        point(vec![kv("p", "2")], 1_544_712_660_300_000_000, 1.0),
        point(vec![kv("p", "3")], 999_999, 1.0),
        point(vec![kv("p", "4")], u64::MAX, 1.0),
    ];
    let m = by_labels(&convert(
        &request(vec![], vec![gauge("g", "", points)]),
        &OtlpOptions::default(),
    ));
    assert_eq!(m[r#"{__name__="g", p="1"}"#], [(1, 1.0)]);
    assert_eq!(m[r#"{__name__="g", p="2"}"#], [(1_544_712_660_300, 1.0)]);
    assert_eq!(m[r#"{__name__="g", p="3"}"#], [(0, 1.0)]);
    assert_eq!(m[r#"{__name__="g", p="4"}"#], [(18_446_744_073_709, 1.0)]);
}

#[test]
fn missing_name_timestamp_or_data_rejected() {
    let req = request(
        vec![],
        vec![
            gauge("", "", vec![point(vec![], T0, 1.0), point(vec![], T0, 2.0)]),
            gauge(
                "g",
                "",
                vec![
                    point(vec![], 0, 1.0),
                    point(vec![], T0, 2.0),
                    point(vec![], 0, 3.0),
                ],
            ),
            Metric {
                name: "nodata".into(),
                ..Default::default()
            },
        ],
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(only(&c).samples, [Sample::new(T0_MS, 2.0)]);
    assert_eq!(
        c.rejected,
        [
            OtlpRejection {
                metric: "".into(),
                reason: "metric has no name".into(),
                points: 2
            },
            OtlpRejection {
                metric: "g".into(),
                reason: "data point has no timestamp (timeUnixNano is 0)".into(),
                points: 2
            },
            OtlpRejection {
                metric: "nodata".into(),
                reason: "metric has no data (no gauge, sum, histogram or summary)".into(),
                points: 0
            },
        ]
    );
    assert_eq!(c.rejected_points(), 4);
}

#[test]
fn points_of_one_series_merge_sorted() {
    let points = vec![point(vec![], T0 + 2_000_000, 2.0), point(vec![], T0, 1.0)];
    let req = request(
        vec![],
        vec![
            gauge("g", "", points),
            gauge("g", "", vec![point(vec![], T0 + 1_000_000, 1.5)]),
        ],
    );
    let c = convert(&req, &OtlpOptions::default());
    assert_eq!(c.samples(), 3);
    assert_eq!(
        only(&c).samples,
        [
            Sample::new(T0_MS, 1.0),
            Sample::new(T0_MS + 1, 1.5),
            Sample::new(T0_MS + 2, 2.0)
        ]
    );
}
