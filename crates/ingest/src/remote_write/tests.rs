use argus_model::{Labels, Sample, TimeSeries, STALE_NAN, STALE_NAN_BITS};

use super::*;

pub(super) fn lim() -> DecodeLimits {
    DecodeLimits::default()
}

pub(super) fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: Labels::from_pairs(pairs.iter().copied()),
        samples: samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
        ..Default::default()
    }
}

fn assert_same(got: &[TimeSeries], want: &[TimeSeries]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.labels, w.labels);
        assert_eq!(g.samples.len(), w.samples.len());
        for (a, b) in g.samples.iter().zip(&w.samples) {
            assert!(a.bit_eq(b), "{a:?} != {b:?}");
        }
    }
}

pub(super) fn sample_set() -> Vec<TimeSeries> {
    vec![
        series(
            &[("__name__", "up"), ("job", "api"), ("instance", "a:9090")],
            &[(1_700_000_000_000, 1.0), (1_700_000_015_000, 0.0)],
        ),
        series(
            &[
                ("__name__", "http_requests_total"),
                ("code", "200"),
                ("path", "/ünïcode ✓"),
            ],
            &[
                (-5, STALE_NAN),
                (0, f64::from_bits(0x7ff8_0000_0000_0001)),
                (i64::MAX, f64::INFINITY),
                (i64::MIN, f64::MIN_POSITIVE),
            ],
        ),
        series(
            &[("__name__", "up"), ("job", "api"), ("instance", "a:9090")],
            &[(1_700_000_030_000, STALE_NAN)],
        ),
    ]
}

#[test]
fn round_trip_v1_and_v2_keep_value_bits() {
    let want = sample_set();
    for protocol in [Protocol::V1, Protocol::V2] {
        let mut buf = b"prefix".to_vec();
        encode(&want, protocol, &mut buf);
        assert_eq!(&buf[..6], b"prefix", "encoders append");
        let got = decode(&buf[6..], protocol, &lim()).unwrap();
        assert_same(&got.series, &want);
        assert!(got.rejected.is_empty());
        assert_eq!(
            got.stats,
            DecodeStats {
                samples: 7,
                ..Default::default()
            }
        );
        assert_eq!(got.series[1].samples[0].v.to_bits(), STALE_NAN_BITS);
    }
}

#[test]
fn empty_requests_round_trip() {
    for protocol in [Protocol::V1, Protocol::V2] {
        let mut buf = Vec::new();
        encode(&[], protocol, &mut buf);
        assert_eq!(
            decode(&buf, protocol, &lim()).unwrap(),
            WriteRequest::default()
        );
    }
}

#[test]
fn v2_symbols_are_interned_and_start_empty() {
    let mut buf = Vec::new();
    encode_v2(&sample_set(), &mut buf);
    let raw = snap::raw::Decoder::new().decompress_vec(&buf).unwrap();
    let req = <v2::Request as prost::Message>::decode(raw.as_slice()).unwrap();
    assert_eq!(req.symbols[0], "");
    let mut sorted = req.symbols.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), req.symbols.len(), "symbols are deduplicated");
    assert_eq!(req.timeseries[0].labels_refs, req.timeseries[2].labels_refs);
}

#[test]
fn content_type_negotiation() {
    use Protocol::*;
    let ok = |ct: Option<&str>| protocol_from_content_type(ct).unwrap();
    assert_eq!(ok(None), V1);
    assert_eq!(ok(Some("")), V1);
    assert_eq!(ok(Some("application/x-protobuf")), V1);
    assert_eq!(
        ok(Some("application/x-protobuf;proto=prometheus.WriteRequest")),
        V1
    );
    assert_eq!(
        ok(Some(
            "application/x-protobuf;proto=io.prometheus.write.v2.Request"
        )),
        V2
    );
    assert_eq!(
        ok(Some(
            "Application/X-Protobuf ; Proto=\"io.prometheus.write.v2.Request\""
        )),
        V2
    );
    assert_eq!(
        ok(Some(
            "application/x-protobuf; charset=utf-8; proto=io.prometheus.write.v2.Request;"
        )),
        V2
    );
    for bad in [
        "application/json",
        "text/plain; version=0.0.4",
        "application/x-protobuf;proto=io.prometheus.write.v3.Request",
        "application/x-protobuf;proto=Prometheus.WriteRequest",
        "application/x-protobuf;proto",
        "application/x-protobuf;proto=\"unterminated",
        "application/x-protobuf;proto=prometheus.WriteRequest;proto=io.prometheus.write.v2.Request",
        "application/x-protobuf garbage",
    ] {
        let err = protocol_from_content_type(Some(bad)).unwrap_err();
        assert!(
            matches!(err, DecodeError::UnsupportedContentType { .. }),
            "{bad}: {err}"
        );
    }
    let msg = protocol_from_content_type(Some("application/x-protobuf;proto=foo.Bar"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"foo.Bar\"") && msg.contains("io.prometheus.write.v2.Request"),
        "{msg}"
    );
    assert_eq!(
        V2.content_type(),
        "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    );
    assert_eq!(ok(Some(V2.content_type())), V2);
}

#[test]
fn content_encoding() {
    for ok in [None, Some(""), Some("snappy"), Some(" Snappy ")] {
        assert_eq!(check_content_encoding(ok), Ok(()), "{ok:?}");
    }
    for bad in ["gzip", "identity", "snappy, gzip", "zstd"] {
        let err = check_content_encoding(Some(bad)).unwrap_err();
        assert!(
            matches!(err, DecodeError::UnsupportedEncoding { .. }),
            "{err}"
        );
        assert!(err.to_string().contains(bad), "{err}");
    }
}

fn v1_req(series: Vec<v1::TimeSeries>) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: series,
            metadata: vec![],
        },
        &mut buf,
    );
    buf
}

pub(super) fn v1_ts(labels: &[(&str, &str)], samples: usize) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels
            .iter()
            .map(|&(n, v)| v1::Label {
                name: n.into(),
                value: v.into(),
            })
            .collect(),
        samples: (0..samples)
            .map(|i| v1::Sample {
                value: i as f64,
                timestamp: i as i64,
            })
            .collect(),
        ..Default::default()
    }
}

fn histogram() -> v1::Histogram {
    v1::Histogram {
        count: Some(v1::histogram::Count::CountInt(3)),
        sum: 4.5,
        positive_spans: vec![v1::BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![1, 1],
        timestamp: 7,
        ..Default::default()
    }
}

#[test]
fn each_rejection_reason_v1() {
    use RejectReason::*;
    let cases: Vec<(Vec<(&str, &str)>, RejectReason)> = vec![
        (vec![("job", "a")], MissingMetricName),
        (vec![("__name__", "1up")], InvalidMetricName("1up".into())),
        (
            vec![("__name__", "up"), ("bad-name", "x")],
            InvalidLabelName("bad-name".into()),
        ),
        (vec![("", "x"), ("__name__", "up")], EmptyLabelName),
        (
            vec![("__name__", "up"), ("job", "")],
            EmptyLabelValue("job".into()),
        ),
        (
            vec![("__name__", "up"), ("job", "a"), ("job", "b")],
            DuplicateLabelName("job".into()),
        ),
        (
            vec![("__name__", "up"), ("zone", "a"), ("job", "b")],
            UnsortedLabels {
                previous: "zone".into(),
                name: "job".into(),
            },
        ),
    ];
    let mut wire: Vec<_> = cases.iter().map(|(l, _)| v1_ts(l, 2)).collect();
    wire.insert(3, v1_ts(&[("__name__", "ok")], 1));
    let out = decode(&v1_req(wire), Protocol::V1, &lim()).unwrap();
    assert_eq!(out.series.len(), 1, "the valid rest is kept");
    assert_eq!(out.series[0].labels.metric_name(), Some("ok"));
    let reasons: Vec<_> = out.rejected.iter().map(|r| r.reason.clone()).collect();
    let want: Vec<_> = cases.into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, want);
    assert!(out
        .rejected
        .iter()
        .all(|r| r.samples == 2 && r.histograms == 0));
    assert_eq!(out.stats.rejected_series, 7);
    assert_eq!(out.stats.rejected_samples, 14);
    assert_eq!(out.stats.samples, 15);
    assert_eq!(out.rejected[2].series, r#"{__name__="up", "bad-name"="x"}"#);
    assert_eq!(
        out.rejected[6].series,
        r#"{__name__="up", zone="a", job="b"}"#
    );
    assert_eq!(
        out.rejected[6].to_string(),
        r#"series {__name__="up", zone="a", job="b"}: labels are not sorted by name: "job" comes after "zone"; remote write requires them sorted (2 samples dropped)"#
    );
}

#[test]
fn native_histograms_are_decoded_and_invalid_ones_reject_their_series() {
    let mut only_h = v1_ts(&[("__name__", "h")], 0);
    only_h.histograms = vec![histogram(), histogram()];
    let mut mixed = v1_ts(&[("__name__", "m")], 3);
    mixed.histograms = vec![histogram()];
    let mut bad_labels = v1_ts(&[("job", "x")], 1);
    bad_labels.histograms = vec![histogram()];
    let mut bad_hist = v1_ts(&[("__name__", "b")], 2);
    let mut h = histogram();
    h.positive_deltas = vec![1, 1, 1];
    bad_hist.histograms = vec![histogram(), h];
    let out = decode(
        &v1_req(vec![only_h, mixed, bad_labels, bad_hist]),
        Protocol::V1,
        &lim(),
    )
    .unwrap();
    assert_eq!(out.series.len(), 2);
    assert_eq!(out.series[0].labels.metric_name(), Some("h"));
    assert_eq!(out.series[0].histograms.len(), 2);
    let got = &out.series[0].histograms[0];
    assert_eq!(got.t, 7);
    assert_eq!(got.h.count, 3.0);
    assert_eq!(got.h.positive_buckets, vec![1.0, 2.0]);
    assert_eq!(out.series[1].labels.metric_name(), Some("m"));
    assert_eq!(out.series[1].samples.len(), 3);
    assert_eq!(out.series[1].histograms.len(), 1);
    let r: Vec<_> = out
        .rejected
        .iter()
        .map(|r| (r.reason.clone(), r.samples, r.histograms))
        .collect();
    assert_eq!(
        r,
        vec![
            (RejectReason::MissingMetricName, 1, 1),
            (
                RejectReason::InvalidHistogram(
                    "positive spans describe 2 buckets, but there are 3 bucket counts".into()
                ),
                2,
                2
            ),
        ]
    );
    assert_eq!(
        out.rejected[1].to_string(),
        r#"series {__name__="b"}: invalid native histogram: positive spans describe 2 buckets, but there are 3 bucket counts (2 samples and 2 native histogram samples dropped)"#
    );
    assert_eq!(
        (
            out.stats.samples,
            out.stats.histograms,
            out.stats.rejected_samples,
            out.stats.rejected_histograms
        ),
        (6, 6, 3, 3)
    );
}

#[test]
fn metadata_only_series_are_dropped_silently_and_metadata_kept() {
    let invalid_but_empty = v1_ts(&[("bad-name", "")], 0);
    let meta = v1::MetricMetadata {
        r#type: v1::MetricType::Counter as i32,
        metric_family_name: "http_requests".into(),
        help: "Requests.".into(),
        unit: "".into(),
    };
    let mut buf = Vec::new();
    let req = v1::WriteRequest {
        timeseries: vec![invalid_but_empty],
        metadata: vec![meta],
    };
    encode_message(&req, &mut buf);
    let out = decode(&buf, Protocol::V1, &lim()).unwrap();
    assert!(out.series.is_empty() && out.rejected.is_empty());
    assert_eq!(
        out.metadata,
        vec![MetricMetadata {
            metric_family_name: "http_requests".into(),
            metric_type: MetricType::Counter,
            help: "Requests.".into(),
            unit: String::new(),
        }]
    );
}

pub(super) fn v2_req(symbols: &[&str], series: Vec<v2::TimeSeries>) -> Vec<u8> {
    let mut buf = Vec::new();
    let req = v2::Request {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        timeseries: series,
    };
    encode_message(&req, &mut buf);
    buf
}

pub(super) fn v2_ts(refs: &[u32], samples: usize) -> v2::TimeSeries {
    v2::TimeSeries {
        labels_refs: refs.to_vec(),
        samples: (0..samples)
            .map(|i| v2::Sample {
                value: 1.5,
                timestamp: i as i64,
                start_timestamp: 0,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn each_rejection_reason_v2() {
    use RejectReason::*;
    // 0     1           2     3      4      5       6       7      8
    let syms = [
        "",
        "__name__",
        "up",
        "job",
        "a",
        "b-ad",
        "9bad",
        "zone",
        "Help text.",
    ];
    let meta = |help_ref, unit_ref| {
        Some(v2::Metadata {
            r#type: v2::MetricType::Gauge as i32,
            help_ref,
            unit_ref,
        })
    };
    let mut with_bad_meta = v2_ts(&[1, 2], 1);
    with_bad_meta.metadata = meta(8, 99);
    let mut good = v2_ts(&[1, 2, 3, 4], 2);
    good.metadata = meta(8, 0);
    let mut good_again = v2_ts(&[1, 2, 3, 2], 1);
    good_again.metadata = meta(8, 0);
    let mut histo = v2_ts(&[1, 2], 0);
    histo.histograms = vec![v2::Histogram {
        count: Some(v2::histogram::Count::CountFloat(1.0)),
        schema: 20,
        ..Default::default()
    }];
    let wire = vec![
        v2_ts(&[1, 2, 3], 1),
        v2_ts(&[1, 2, 3, 40], 1),
        v2_ts(&[3, 4], 1),
        v2_ts(&[1, 6], 1),
        v2_ts(&[1, 2, 5, 4], 1),
        v2_ts(&[1, 2, 3, 0], 1),
        v2_ts(&[1, 2, 7, 4, 3, 4], 1),
        v2_ts(&[1, 2, 3, 4, 3, 4], 1),
        v2_ts(&[0, 4, 1, 2], 1),
        with_bad_meta,
        histo,
        good,
        good_again,
    ];
    let out = decode(&v2_req(&syms, wire), Protocol::V2, &lim()).unwrap();
    let reasons: Vec<_> = out.rejected.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            OddLabelRefs(3),
            BadSymbolRef {
                index: 40,
                symbols: 9
            },
            MissingMetricName,
            InvalidMetricName("9bad".into()),
            InvalidLabelName("b-ad".into()),
            EmptyLabelValue("job".into()),
            UnsortedLabels {
                previous: "zone".into(),
                name: "job".into()
            },
            DuplicateLabelName("job".into()),
            EmptyLabelName,
            BadSymbolRef {
                index: 99,
                symbols: 9
            },
            InvalidHistogram(
                "schema 20 is out of range (must be -4..=8, or -53 for custom buckets)".into()
            ),
        ]
    );
    assert_eq!(out.rejected[1].series, r#"{__name__="up"}"#);
    assert_eq!(out.series.len(), 2);
    assert_eq!(
        out.series[0].labels,
        Labels::from_pairs([("__name__", "up"), ("job", "a")])
    );
    assert_eq!(
        out.series[1].labels,
        Labels::from_pairs([("__name__", "up"), ("job", "up")])
    );
    assert_eq!(out.stats.samples, 13);
    assert_eq!(out.stats.histograms, 1);
    // Two series share the same metadata: listed once.
    assert_eq!(
        out.metadata,
        vec![MetricMetadata {
            metric_family_name: "up".into(),
            metric_type: MetricType::Gauge,
            help: "Help text.".into(),
            unit: String::new(),
        }]
    );
}

#[test]
fn v2_symbols_table_must_start_empty() {
    let err = decode(
        &v2_req(&["__name__", "up"], vec![v2_ts(&[0, 1], 1)]),
        Protocol::V2,
        &lim(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        DecodeError::SymbolsTable {
            first: "__name__".into()
        }
    );
    // No symbols at all: refs are out of range, per series.
    let out = decode(
        &v2_req(&[], vec![v2_ts(&[1, 2], 1), v2_ts(&[], 1)]),
        Protocol::V2,
        &lim(),
    )
    .unwrap();
    let reasons: Vec<_> = out.rejected.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            RejectReason::BadSymbolRef {
                index: 1,
                symbols: 0
            },
            RejectReason::MissingMetricName
        ]
    );
}

#[test]
fn wrong_schema_decodes_empty_as_the_spec_says() {
    let mut v1_body = Vec::new();
    encode_v1(&sample_set(), &mut v1_body);
    let out = decode(&v1_body, Protocol::V2, &lim()).unwrap();
    assert_eq!(out, WriteRequest::default(), "v2 reserves v1's tags 1 to 3");
    let mut v2_body = Vec::new();
    encode_v2(&sample_set(), &mut v2_body);
    assert_eq!(
        decode(&v2_body, Protocol::V1, &lim()).unwrap(),
        WriteRequest::default()
    );
}

#[test]
fn long_names_are_cut_in_rejections() {
    let long = "x".repeat(10_000);
    let value = "é".repeat(5_000);
    let out = decode(
        &v1_req(vec![v1_ts(
            &[("__name__", "up"), (&long, &value), ("a", "b")],
            1,
        )]),
        Protocol::V1,
        &lim(),
    )
    .unwrap();
    let r = &out.rejected[0];
    assert!(
        r.series.len() <= 203 && r.series.ends_with('…'),
        "{}",
        r.series
    );
    let RejectReason::UnsortedLabels { previous, .. } = &r.reason else {
        panic!("{:?}", r.reason)
    };
    assert!(previous.len() <= 103);
    // Non-ASCII cut on a char boundary (would panic otherwise).
    let out = decode(
        &v1_req(vec![v1_ts(&[(&value, "v")], 1)]),
        Protocol::V1,
        &lim(),
    )
    .unwrap();
    assert!(
        matches!(&out.rejected[0].reason, RejectReason::InvalidLabelName(n) if n.ends_with('…'))
    );
}

#[test]
fn listed_rejections_are_capped_but_all_counted() {
    let wire = (0..5).map(|_| v1_ts(&[("job", "x")], 3)).collect();
    let capped = DecodeLimits {
        max_listed_rejections: 2,
        ..lim()
    };
    let out = decode(&v1_req(wire), Protocol::V1, &capped).unwrap();
    assert_eq!(out.rejected.len(), 2);
    assert_eq!(
        (out.stats.rejected_series, out.stats.rejected_samples),
        (5, 15)
    );
}

#[test]
fn error_messages_name_the_problem() {
    let e = DecodeError::TooLarge {
        size: 100,
        limit: 10,
    };
    assert_eq!(
        e.to_string(),
        "request body decompresses to 100 bytes, over the limit of 10 bytes"
    );
    let e = RejectReason::BadSymbolRef {
        index: 7,
        symbols: 3,
    };
    assert_eq!(
        e.to_string(),
        "symbol reference 7 is outside the request's symbols table of 3 entries"
    );
    assert_eq!(MetricType::from_proto(4).as_str(), "gaugehistogram");
    assert_eq!(MetricType::from_proto(99), MetricType::Unknown);
}
