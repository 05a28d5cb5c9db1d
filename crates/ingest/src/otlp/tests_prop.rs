//! Property tests: decoding arbitrary bytes and converting arbitrary requests
//! never panics, and the output is always well-formed.

use super::*;
use argus_model::{validate_label_name, validate_metric_name};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile,
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "_",
            "___",
            "__name__",
            "le",
            "quantile",
            "job",
            "instance",
            "service.name",
            "service.namespace",
            "service.instance.id",
            "a.b",
            "a_b",
            "a/b",
            "1x",
            "_x",
            "__x",
            "ä",
            "otel_scope_name",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9._/:\\- ä]{0,8}",
    ]
}

fn float(finite: bool) -> BoxedStrategy<f64> {
    if finite {
        // Few significant digits: serde_json without `float_roundtrip` parses
        // these exactly (see json.rs), so the JSON round trip can compare.
        prop_oneof![
            Just(0.0),
            Just(1.0),
            any::<i32>().prop_map(|i| f64::from(i) / 1000.0),
            any::<i32>().prop_map(f64::from)
        ]
        .boxed()
    } else {
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            any::<f64>(),
            0.0..10.0f64
        ]
        .boxed()
    }
}

fn any_value(finite: bool) -> impl Strategy<Value = AnyValue> {
    use any_value::Value as V;
    let leaf = prop_oneof![
        Just(None),
        ".{0,6}".prop_map(|s| Some(V::StringValue(s))),
        any::<bool>().prop_map(|b| Some(V::BoolValue(b))),
        any::<i64>().prop_map(|i| Some(V::IntValue(i))),
        float(finite).prop_map(|f| Some(V::DoubleValue(f))),
        prop::collection::vec(any::<u8>(), 0..5).prop_map(|b| Some(V::BytesValue(b))),
    ]
    .prop_map(|value| AnyValue { value });
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue { values }))
            }),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kvs| AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue {
                            key,
                            value: Some(v)
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

fn attrs(finite: bool) -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((key(), prop::option::of(any_value(finite))), 0..5).prop_map(|kvs| {
        kvs.into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect()
    })
}

fn time() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        1_700_000_000_000_000_000u64..1_700_000_900_000_000_000,
        any::<u64>()
    ]
}

fn number_point(finite: bool) -> impl Strategy<Value = NumberDataPoint> {
    let value = prop_oneof![
        Just(None),
        float(finite).prop_map(|f| Some(number_data_point::Value::AsDouble(f))),
        any::<i64>().prop_map(|i| Some(number_data_point::Value::AsInt(i))),
    ];
    (attrs(finite), time(), time(), 0u32..4, value).prop_map(
        |(attributes, start_time_unix_nano, time_unix_nano, flags, value)| NumberDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            exemplars: vec![],
            flags,
            value,
        },
    )
}

fn histogram_point(finite: bool) -> impl Strategy<Value = HistogramDataPoint> {
    (
        attrs(finite),
        time(),
        any::<u64>(),
        prop::option::of(float(finite)),
        prop::collection::vec(any::<u64>(), 0..6),
        prop::collection::vec(float(finite), 0..6),
        0u32..4,
    )
        .prop_map(
            |(attributes, time_unix_nano, count, sum, bucket_counts, explicit_bounds, flags)| {
                HistogramDataPoint {
                    attributes,
                    time_unix_nano,
                    count,
                    sum,
                    bucket_counts,
                    explicit_bounds,
                    flags,
                    ..Default::default()
                }
            },
        )
}

fn summary_point(finite: bool) -> impl Strategy<Value = SummaryDataPoint> {
    (
        attrs(finite),
        time(),
        any::<u64>(),
        float(finite),
        prop::collection::vec((float(finite), float(finite)), 0..4),
        0u32..4,
    )
        .prop_map(
            |(attributes, time_unix_nano, count, sum, qs, flags)| SummaryDataPoint {
                attributes,
                time_unix_nano,
                count,
                sum,
                quantile_values: qs
                    .into_iter()
                    .map(|(quantile, value)| ValueAtQuantile { quantile, value })
                    .collect(),
                flags,
                ..Default::default()
            },
        )
}

fn points<S: Strategy>(s: S) -> prop::collection::VecStrategy<S> {
    prop::collection::vec(s, 0..4)
}

fn metric(finite: bool) -> impl Strategy<Value = Metric> {
    let data = prop_oneof![
        Just(None),
        points(number_point(finite))
            .prop_map(|data_points| Some(Data::Gauge(Gauge { data_points }))),
        (points(number_point(finite)), 0i32..4, any::<bool>()).prop_map(
            |(data_points, t, m)| Some(Data::Sum(Sum {
                data_points,
                aggregation_temporality: if t == 3 { 2 } else { t },
                is_monotonic: m
            }))
        ),
        (points(histogram_point(finite)), 0i32..4).prop_map(|(data_points, t)| Some(
            Data::Histogram(Histogram {
                data_points,
                aggregation_temporality: if t == 3 { 2 } else { t }
            })
        )),
        (
            time(),
            any::<u64>(),
            -6i32..22,
            -20i32..20,
            prop::collection::vec(0u64..5, 0..12)
        )
            .prop_map(
                |(time_unix_nano, count, scale, offset, bucket_counts)| Some(
                    Data::ExponentialHistogram(ExponentialHistogram {
                        data_points: vec![ExponentialHistogramDataPoint {
                            time_unix_nano,
                            count,
                            scale,
                            positive: Some(Buckets {
                                offset,
                                bucket_counts: bucket_counts.clone()
                            }),
                            negative: Some(Buckets {
                                offset: -offset,
                                bucket_counts
                            }),
                            ..Default::default()
                        }],
                        aggregation_temporality: 2,
                    })
                )
            ),
        points(summary_point(finite))
            .prop_map(|data_points| Some(Data::Summary(Summary { data_points }))),
    ];
    let unit = prop::sample::select(vec![
        "", "1", "s", "ms", "By/s", "{req}", "/", "1/", "a b/c d", "%", "_/_",
    ]);
    (key(), unit, data).prop_map(|(name, unit, data)| Metric {
        name,
        unit: unit.to_string(),
        data,
        ..Default::default()
    })
}

fn request(finite: bool) -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let scope = (
        prop::option::of((key(), key(), attrs(finite))),
        key(),
        prop::collection::vec(metric(finite), 0..4),
    )
        .prop_map(|(scope, schema_url, metrics)| ScopeMetrics {
            scope: scope.map(|(name, version, attributes)| InstrumentationScope {
                name,
                version,
                attributes,
                ..Default::default()
            }),
            metrics,
            schema_url,
        });
    let rm = (
        prop::option::of(attrs(finite)),
        prop::collection::vec(scope, 0..3),
    )
        .prop_map(|(attrs, scope_metrics)| ResourceMetrics {
            resource: attrs.map(|attributes| Resource {
                attributes,
                ..Default::default()
            }),
            scope_metrics,
            ..Default::default()
        });
    prop::collection::vec(rm, 0..3)
        .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}

fn options() -> impl Strategy<Value = OtlpOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(key(), 0..3),
        -1i64..400_000,
    )
        .prop_map(|(suffixes, scope, us, pm, promote, lookback)| OtlpOptions {
            add_metric_suffixes: suffixes,
            promote_resource_attributes: promote,
            promote_scope_metadata: scope,
            label_name_underscore_sanitization: us,
            label_name_preserve_multiple_underscores: pm,
            lookback_delta_ms: lookback,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_request(&body, false);
        let _ = decode_request(&body, true);
    }

    #[test]
    fn json_like_text_never_panics(body in "[\\[\\]{}\",:0-9a-zA-Z. -]{0,200}") {
        let _ = decode_request(body.as_bytes(), true);
    }

    #[test]
    fn corrupted_bodies_never_panic(req in request(false), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut proto = prost::Message::encode_to_vec(&req);
        let mut json = serde_json::to_vec(&req).unwrap_or_default();
        for (i, b) in flips {
            if !proto.is_empty() { let n = proto.len(); proto[i % n] = b; }
            if !json.is_empty() { let n = json.len(); json[i % n] = b; }
        }
        if let Ok(req) = decode_request(&proto, false) { let _ = convert(&req, &OtlpOptions::default()); }
        if let Ok(req) = decode_request(&json, true) { let _ = convert(&req, &OtlpOptions::default()); }
    }

    #[test]
    fn convert_output_is_well_formed(req in request(false), opts in options()) {
        let c = convert(&req, &opts);
        let mut seen = HashSet::new();
        for s in &c.series {
            prop_assert!(seen.insert(s.labels.clone()), "duplicate series {}", s.labels);
            let name = s.labels.metric_name();
            prop_assert!(name.is_some_and(validate_metric_name), "bad name in {}", s.labels);
            for l in &s.labels {
                prop_assert!(validate_label_name(&l.name), "bad label name in {}", s.labels);
                prop_assert!(!l.value.is_empty());
            }
            prop_assert!(!s.samples.is_empty() || !s.histograms.is_empty());
            prop_assert!(s.samples.windows(2).all(|w| w[0].t <= w[1].t));
            prop_assert!(s.samples.iter().all(|x| x.t >= 0));
            prop_assert!(s.histograms.windows(2).all(|w| w[0].t <= w[1].t));
            for h in &s.histograms {
                prop_assert!(h.t >= 0);
                prop_assert!((-4..=8).contains(&h.h.schema));
                let n = |sp: &[argus_model::Span]| sp.iter().map(|x| x.length as usize).sum::<usize>();
                prop_assert_eq!(n(&h.h.positive_spans), h.h.positive_buckets.len());
                prop_assert_eq!(n(&h.h.negative_spans), h.h.negative_buckets.len());
                prop_assert!(h.h.positive_spans.iter().skip(1).all(|x| x.offset >= 0));
            }
        }
        prop_assert_eq!(c.target_info, c.series.iter().filter(|s| s.labels.metric_name() == Some("target_info")).count());
        // Every point is either converted or counted as rejected.
        let points: usize = req.resource_metrics.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics).map(point_count).sum();
        prop_assert!(c.rejected_points() <= points);
    }

    #[test]
    fn protobuf_and_json_round_trip(req in request(true)) {
        let proto = prost::Message::encode_to_vec(&req);
        prop_assert_eq!(&decode_request(&proto, false).unwrap(), &req);
        // JSON as opentelemetry-proto's serde writes it (no exemplars generated:
        // its Exemplar value is not flattened, unlike OTLP/JSON).
        let json = serde_json::to_vec(&req).unwrap();
        prop_assert_eq!(&decode_request(&json, true).unwrap(), &req);
    }
}
