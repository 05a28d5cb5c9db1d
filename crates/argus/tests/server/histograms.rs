//! Native histograms end to end: remote write 1.0 (integer histograms) and
//! 2.0 (float histograms) in, PromQL out, before and after a restart.

use crate::harness::*;
use argus_ingest::remote_write::{encode_message, encode_v2, v1};
use argus_model::{CounterResetHint, FloatHistogram, HistogramSample, Labels, Span, TimeSeries};

/// An integer histogram at `t` with buckets (0.5, 1] = k and (1, 2] = 2k
/// (schema 0: bucket i is (2^(i-1), 2^i]), zero bucket 1.
fn int_histogram(t: i64, k: u64) -> v1::Histogram {
    v1::Histogram {
        count: Some(v1::histogram::Count::CountInt(3 * k + 1)),
        zero_count: Some(v1::histogram::ZeroCount::ZeroCountInt(1)),
        zero_threshold: 0.001,
        sum: 4.5 * k as f64,
        schema: 0,
        positive_spans: vec![v1::BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![k as i64, k as i64],
        reset_hint: v1::histogram::ResetHint::No as i32,
        timestamp: t,
        ..Default::default()
    }
}

fn query(a: &Argus, q: &str, t: i64) -> serde_json::Value {
    let v = a.get_json(
        None,
        &format!(
            "/api/v1/query?query={}&time={}",
            q.replace('(', "%28").replace(')', "%29"),
            t / 1000
        ),
    );
    assert_eq!(v["status"], "success", "{v}");
    v["data"]["result"].clone()
}

#[test]
fn native_histograms_are_written_queried_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let t0 = 1_700_000_000_000i64;
    let series = v1::TimeSeries {
        labels: vec![
            v1::Label {
                name: "__name__".into(),
                value: "rpc_seconds".into(),
            },
            v1::Label {
                name: "job".into(),
                value: "api".into(),
            },
        ],
        histograms: (0..10)
            .map(|i| int_histogram(t0 + i * 15_000, i as u64 + 1))
            .collect(),
        ..Default::default()
    };
    let mut body = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: vec![series],
            metadata: vec![],
        },
        &mut body,
    );
    let r = a.post_write(None, body, "application/x-protobuf");
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());

    // 2.0: a float histogram with custom buckets; the response says how
    // many histograms were written.
    let nhcb = TimeSeries {
        exemplars: Vec::new(),
        labels: Labels::from_pairs([("__name__", "nhcb"), ("job", "api")]),
        samples: vec![],
        histograms: vec![HistogramSample {
            t: t0,
            h: FloatHistogram {
                counter_reset_hint: CounterResetHint::Gauge,
                schema: argus_model::CUSTOM_BUCKETS_SCHEMA,
                count: 3.0,
                sum: 1.5,
                positive_spans: vec![Span {
                    offset: 0,
                    length: 2,
                }],
                positive_buckets: vec![1.0, 2.0],
                custom_values: vec![0.5, 1.0],
                ..Default::default()
            },
        }],
    };
    let mut body = Vec::new();
    encode_v2(&[nhcb], &mut body);
    let r = a.post_write(
        None,
        body,
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    );
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Histograms-Written"],
        "1"
    );
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Samples-Written"],
        "0"
    );

    // An invalid histogram is refused with its reason.
    let mut bad = int_histogram(t0, 1);
    bad.positive_deltas = vec![1];
    let mut body = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: vec![v1::TimeSeries {
                labels: vec![v1::Label {
                    name: "__name__".into(),
                    value: "bad".into(),
                }],
                histograms: vec![bad],
                ..Default::default()
            }],
            metadata: vec![],
        },
        &mut body,
    );
    let r = a.post_write(None, body, "application/x-protobuf");
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("invalid native histogram"));

    let t9 = t0 + 9 * 15_000;
    let check = |a: &Argus| {
        let res = query(a, "rpc_seconds", t9);
        assert_eq!(res.as_array().unwrap().len(), 1, "{res}");
        let h = &res[0]["histogram"];
        assert_eq!(h[0].as_f64().unwrap(), (t9 / 1000) as f64, "{res}");
        assert_eq!(h[1]["count"], "31");
        assert_eq!(h[1]["sum"], "45");
        assert_eq!(
            h[1]["buckets"],
            serde_json::json!([
                [3, "-0.001", "0.001", "1"],
                [0, "0.5", "1", "10"],
                [0, "1", "2", "20"]
            ])
        );
        let res = query(a, "histogram_count(rpc_seconds)", t9);
        assert_eq!(res[0]["value"][1], "31", "{res}");
        let res = query(a, "histogram_sum(nhcb)", t0);
        assert_eq!(res[0]["value"][1], "1.5", "{res}");
    };
    check(&a);
    a.stop();
    a.spawn();
    check(&a);
}

#[test]
fn otlp_exponential_histograms_are_native_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let t_ns = 1_700_000_000_000_000_000u64;
    let body = serde_json::json!({"resourceMetrics": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "checkout"}}
        ]},
        "scopeMetrics": [{"metrics": [
            {"name": "rpc.latency", "unit": "s", "exponentialHistogram": {
                "aggregationTemporality": 2,
                "dataPoints": [{"timeUnixNano": t_ns.to_string(), "count": "4", "sum": 2.5,
                                "scale": 1, "zeroCount": "1",
                                "positive": {"offset": 0, "bucketCounts": ["1", "2"]}}]}}
        ]}]
    }]});
    let r = client()
        .post(a.url("/v1/metrics"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let t = 1_700_000_000_000i64;
    let res = query(&a, "rpc_latency_seconds", t);
    assert_eq!(res.as_array().unwrap().len(), 1, "{res}");
    assert_eq!(res[0]["metric"]["job"], "checkout");
    let h = &res[0]["histogram"][1];
    assert_eq!(h["count"], "4", "{res}");
    assert_eq!(h["sum"], "2.5");
    // Scale 1: OTel bucket 0 is (1, √2], bucket 1 is (√2, 2].
    let buckets = h["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 3, "{res}");
    assert_eq!(buckets[1][1], "1");
    assert_eq!(buckets[1][3], "1");
    assert_eq!(buckets[2][2], "2");
    assert_eq!(buckets[2][3], "2");
}

/// `/api/v1/export` returns native histograms (it used to read floats only
/// and dropped them): from the head, from blocks after a cut, and after a
/// restart, each histogram as Prometheus's query API encodes it.
#[test]
fn export_returns_native_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(
        dir.path(),
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 0s\n",
    );
    // An hour of one-minute samples ending now: enough for blocks to be cut.
    let end = now_ms() / 1000 * 1000;
    let t0 = end - 59 * 60_000;
    let label = |n: &str, v: &str| v1::Label {
        name: n.into(),
        value: v.into(),
    };
    let hist = v1::TimeSeries {
        labels: vec![label("__name__", "rpc_seconds"), label("job", "api")],
        histograms: (0..60)
            .map(|i| int_histogram(t0 + i * 60_000, i as u64 + 1))
            .collect(),
        ..Default::default()
    };
    let plain = v1::TimeSeries {
        labels: vec![label("__name__", "plain"), label("job", "api")],
        samples: (0..60)
            .map(|i| v1::Sample {
                value: i as f64,
                timestamp: t0 + i * 60_000,
            })
            .collect(),
        ..Default::default()
    };
    let mut body = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: vec![hist, plain],
            metadata: vec![],
        },
        &mut body,
    );
    let r = a.post_write(None, body, "application/x-protobuf");
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    // 2.0: a float histogram with custom buckets.
    let nhcb = TimeSeries {
        exemplars: Vec::new(),
        labels: Labels::from_pairs([("__name__", "nhcb"), ("job", "api")]),
        samples: vec![],
        histograms: vec![HistogramSample {
            t: end,
            h: FloatHistogram {
                counter_reset_hint: CounterResetHint::Gauge,
                schema: argus_model::CUSTOM_BUCKETS_SCHEMA,
                count: 3.0,
                sum: 1.5,
                positive_spans: vec![Span {
                    offset: 0,
                    length: 2,
                }],
                positive_buckets: vec![1.0, 2.0],
                custom_values: vec![0.5, 1.0],
                ..Default::default()
            },
        }],
    };
    let mut body = Vec::new();
    encode_v2(&[nhcb], &mut body);
    let r = a.post_write(
        None,
        body,
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    );
    assert_eq!(r.status(), 204);

    let selector = "{__name__=~\"rpc_seconds|nhcb|plain\"}";
    let check = |a: &Argus| {
        let lines = a.export_lines(None, selector);
        assert_eq!(lines.len(), 3, "{lines:?}");
        // Sorted by labels: nhcb, plain, rpc_seconds.
        let (nhcb, plain, rpc) = (&lines[0], &lines[1], &lines[2]);
        assert_eq!(
            nhcb["metric"],
            serde_json::json!({"__name__": "nhcb", "job": "api"})
        );
        assert_eq!(nhcb["values"], serde_json::json!([]));
        assert_eq!(nhcb["timestamps"], serde_json::json!([]));
        assert_eq!(
            nhcb["histograms"],
            serde_json::json!([[end, {"count": "3", "sum": "1.5", "buckets": [
                [3, "-Inf", "0.5", "1"],
                [0, "0.5", "1", "2"]
            ]}]])
        );
        // A float series keeps its format, without a histograms field.
        assert_eq!(plain["values"].as_array().unwrap().len(), 60);
        assert_eq!(plain["timestamps"][0], t0);
        assert!(plain.get("histograms").is_none(), "{plain}");
        assert_eq!(
            rpc["metric"],
            serde_json::json!({"__name__": "rpc_seconds", "job": "api"})
        );
        assert_eq!(rpc["values"], serde_json::json!([]));
        let h = rpc["histograms"].as_array().unwrap();
        assert_eq!(h.len(), 60, "{rpc}");
        assert!(h
            .iter()
            .enumerate()
            .all(|(i, x)| x[0] == t0 + i as i64 * 60_000));
        assert_eq!(
            h[9],
            serde_json::json!([t0 + 9 * 60_000, {"count": "31", "sum": "45", "buckets": [
                [3, "-0.001", "0.001", "1"],
                [0, "0.5", "1", "10"],
                [0, "1", "2", "20"]
            ]}])
        );
        lines
    };
    let before = check(&a);
    // After blocks are cut (histograms read from blocks and the head).
    crate::blocks::wait_for(&a, "argus_tsdb_blocks_cut_total", 1.0);
    assert_eq!(check(&a), before);
    a.stop();
    a.spawn();
    assert_eq!(check(&a), before);
}
