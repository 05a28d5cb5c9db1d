//! The logs signal with real clients against the real binary: the
//! OpenTelemetry Python SDK (OTLP/HTTP and OTLP/gRPC), Loki push (snappy
//! protobuf, JSON with gzip), the official Elasticsearch Python client, and
//! DuckDB reading the Parquet segments a flush writes. Every line sent is
//! found again by LogQL through `/loki/api/v1/query_range`, with its stream
//! labels, structured metadata and exact nanosecond timestamp.

use crate::harness::*;
use argus_model::{Labels, LogEntry, LogStream};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/server/logs_clients.py");

/// One entry of a query result, with its stream.
#[derive(Debug, Clone)]
struct Found {
    labels: BTreeMap<String, String>,
    ts: i64,
    line: String,
    meta: BTreeMap<String, String>,
}

fn object(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn now_ns() -> i64 {
    now_ms() * 1_000_000
}

/// `query_range` over the last hour (and a minute ahead) with
/// categorize-labels: every entry, with its stream labels and structured
/// metadata apart.
fn query_range(a: &Argus, tenant: &str, query: &str) -> Vec<Found> {
    let end = now_ns() + 60_000_000_000;
    let start = end - 3_660_000_000_000;
    let resp = client()
        .get(a.url("/loki/api/v1/query_range"))
        .header("X-Scope-OrgID", tenant)
        .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
        .query(&[
            ("query", query),
            ("start", &start.to_string()),
            ("end", &end.to_string()),
            ("limit", "5000"),
            ("direction", "forward"),
        ])
        .send()
        .unwrap();
    let status = resp.status();
    let text = resp.text().unwrap();
    assert!(status.is_success(), "{query}: {status}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"]["resultType"], "streams", "{text}");
    assert_eq!(
        v["data"]["encodingFlags"],
        serde_json::json!(["categorize-labels"]),
        "{text}"
    );
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        let labels = object(&s["stream"]);
        for e in s["values"].as_array().unwrap() {
            out.push(Found {
                labels: labels.clone(),
                ts: e[0].as_str().unwrap().parse().unwrap(),
                line: e[1].as_str().unwrap().to_string(),
                meta: object(&e[2]["structuredMetadata"]),
            });
        }
    }
    out.sort_by_key(|f| f.ts);
    out
}

/// The one entry with `line`.
fn one<'a>(found: &'a [Found], line: &str) -> &'a Found {
    let m: Vec<&Found> = found.iter().filter(|f| f.line == line).collect();
    assert_eq!(m.len(), 1, "{line:?} in {found:#?}");
    m[0]
}

fn python(args: &[&str]) -> Value {
    python_json(SCRIPT, args)
}

fn otel_sdk(protocol: &str) {
    if !have_python(&[
        "opentelemetry.sdk._logs",
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.otlp.proto.http._log_exporter",
        "opentelemetry.exporter.otlp.proto.grpc._log_exporter",
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let tenant = format!("otel-{protocol}");
    let endpoint = match protocol {
        "http" => a.url("/v1/logs"),
        _ => format!("127.0.0.1:{}", a.grpc_port),
    };
    let sent = python(&["otel", protocol, &endpoint, &tenant]);
    let sent = sent["records"].as_array().unwrap();
    assert_eq!(sent.len(), 4);

    let found = query_range(&a, &tenant, r#"{service_name="checkout"}"#);
    assert_eq!(found.len(), sent.len(), "{found:#?}");
    let pod = format!("checkout-{protocol}-7d9f");
    let instance = format!("checkout-{protocol}-1");
    for r in sent {
        let f = one(&found, r["line"].as_str().unwrap());
        // Timestamps exactly as the SDK set them.
        assert_eq!(f.ts.to_string(), r["ts"].as_str().unwrap(), "{f:?}");
        // Stream labels: the resource attributes Loki indexes, normalized.
        let want: BTreeMap<String, String> = [
            ("service_name", "checkout"),
            ("service_namespace", "shop"),
            ("service_instance_id", instance.as_str()),
            ("deployment_environment", "test"),
            ("k8s_pod_name", pod.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(f.labels, want, "{f:?}");
        // Structured metadata: record attributes (normalized names), the
        // other resource attributes, the scope, severity, trace context.
        let m = &f.meta;
        for (k, v) in r["attributes"].as_object().unwrap() {
            let k = k.replace('.', "_");
            assert_eq!(m.get(&k).map(String::as_str), v.as_str(), "{k} in {m:?}");
        }
        assert_eq!(m["team"], "payments", "{m:?}");
        assert_eq!(m["telemetry_sdk_language"], "python", "{m:?}");
        assert_eq!(m["scope_name"], "argus.logs.test", "{m:?}");
        assert_eq!(m["scope_version"], "1.2.3", "{m:?}");
        assert_eq!(
            m["severity_number"],
            r["severity_number"].as_i64().unwrap().to_string()
        );
        assert_eq!(
            m.get("severity_text").map(String::as_str),
            r["severity_text"].as_str(),
            "{m:?}"
        );
        assert_eq!(
            m.get("trace_id").map(String::as_str),
            r["trace_id"].as_str(),
            "{m:?}"
        );
        assert_eq!(
            m.get("span_id").map(String::as_str),
            r["span_id"].as_str(),
            "{m:?}"
        );
        // observed_timestamp: the SDK stamps it at emit, not before the record's time.
        let observed: i64 = m["observed_timestamp"].parse().unwrap();
        assert!(observed >= f.ts, "{m:?}");
        // detected_level from severity_text, else severity_number (Loki's
        // distributor does so by default).
        let level = match r["severity_number"].as_i64().unwrap() {
            5 => "debug",
            9 => "info",
            13 => "warn",
            17 => "error",
            n => panic!("severity {n}"),
        };
        assert_eq!(m["detected_level"], level, "{m:?}");
    }
    let trace_id = sent[0]["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));

    // LogQL over the metadata: by trace id, by level, by a record attribute.
    let by_trace = query_range(
        &a,
        &tenant,
        &format!(r#"{{service_name="checkout"}} | trace_id="{trace_id}""#),
    );
    assert_eq!(by_trace.len(), 3, "{by_trace:#?}");
    let errors = query_range(
        &a,
        &tenant,
        r#"{k8s_pod_name=~"checkout-.*"} | detected_level="error""#,
    );
    assert_eq!(
        errors.iter().map(|f| f.line.as_str()).collect::<Vec<_>>(),
        ["payment failed"]
    );
    let users = query_range(
        &a,
        &tenant,
        r#"{deployment_environment="test"} | user_id="u-42" |= "logged""#,
    );
    assert_eq!(users.len(), 1, "{users:#?}");
    // The other tenant has nothing.
    assert!(query_range(&a, "someone-else", r#"{service_name="checkout"}"#).is_empty());
}

#[test]
fn otel_python_sdk_over_http_is_queryable_as_loki_maps_it() {
    otel_sdk("http");
}

#[test]
fn otel_python_sdk_over_grpc_is_queryable_as_loki_maps_it() {
    otel_sdk("grpc");
}

fn stream(labels: &[(&str, &str)], entries: Vec<LogEntry>) -> LogStream {
    LogStream {
        labels: Labels::from_pairs(labels.iter().copied()),
        entries,
    }
}

fn entry(ts_ns: i64, line: &str, meta: &[(&str, &str)]) -> LogEntry {
    LogEntry {
        ts_ns,
        line: line.into(),
        metadata: meta
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn push(a: &Argus, tenant: &str, body: Vec<u8>, ct: &str, encoding: Option<&str>) {
    let mut r = client()
        .post(a.url("/loki/api/v1/push"))
        .header("X-Scope-OrgID", tenant)
        .header("Content-Type", ct)
        .body(body);
    if let Some(e) = encoding {
        r = r.header("Content-Encoding", e);
    }
    let resp = r.send().unwrap();
    let status = resp.status();
    assert_eq!(status, 204, "{}", resp.text().unwrap());
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// What a push sent: `(labels, entry)` per line, the level Loki derives.
fn expect_found(found: &[Found], sent: &[LogStream], level: impl Fn(&LogEntry) -> &'static str) {
    let n: usize = sent.iter().map(|s| s.entries.len()).sum();
    assert_eq!(found.len(), n, "{found:#?}");
    for s in sent {
        let labels: BTreeMap<String, String> = s
            .labels
            .pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for e in &s.entries {
            let f = one(found, &e.line);
            assert_eq!(f.ts, e.ts_ns, "{f:?}");
            assert_eq!(f.labels, labels, "{f:?}");
            let mut want: BTreeMap<String, String> = e.metadata.iter().cloned().collect();
            want.insert("detected_level".into(), level(e).into());
            assert_eq!(f.meta, want, "{f:?}");
        }
    }
}

#[test]
fn loki_push_protobuf_and_gzipped_json_are_found_with_labels_metadata_and_ns_times() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let t0 = now_ns() - 10_000_000_000 + 123_456_789;

    // Snappy protobuf, as Promtail and Alloy send it.
    let proto_streams = vec![
        stream(
            &[("job", "nginx"), ("env", "prod"), ("level", "warn")],
            (0..50)
                .map(|i| {
                    entry(
                        t0 + i * 1_000_001,
                        &format!("GET /api/{i} 200"),
                        &[("trace_id", &format!("{i:032x}")), ("client", "10.0.0.1")],
                    )
                })
                .collect(),
        ),
        stream(
            &[("job", "app"), ("env", "prod")],
            vec![
                entry(t0 + 7, r#"{"level":"error","msg":"boom"}"#, &[]),
                entry(t0 + 9, "level=debug msg=\"cache miss\"", &[("k", "v")]),
                entry(t0 + 11, "plain line", &[]),
            ],
        ),
    ];
    let mut body = Vec::new();
    argus_ingest::loki::encode_protobuf(&proto_streams, &mut body);
    push(&a, "loki", body, "application/x-protobuf", None);

    // JSON, gzipped, with structured metadata (the third element).
    let json_streams = vec![stream(
        &[("job", "json"), ("env", "dev")],
        (0..5)
            .map(|i| {
                entry(
                    t0 + 1_000 + i,
                    &format!("json line {i}"),
                    &[("user", &format!("u{i}")), ("idx", &i.to_string())],
                )
            })
            .collect(),
    )];
    let values: Vec<Value> = json_streams[0]
        .entries
        .iter()
        .map(|e| {
            let meta: serde_json::Map<String, Value> = e
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            serde_json::json!([e.ts_ns.to_string(), e.line, meta])
        })
        .collect();
    let body = serde_json::json!({"streams": [{
        "stream": {"job": "json", "env": "dev"},
        "values": values,
    }]});
    push(
        &a,
        "loki",
        gzip(body.to_string().as_bytes()),
        "application/json",
        Some("gzip"),
    );

    let level = |e: &LogEntry| -> &'static str {
        if e.line.starts_with("GET") {
            "warn" // the stream's `level` label
        } else if e.line.contains("boom") {
            "error"
        } else if e.line.contains("cache") {
            "debug"
        } else {
            "unknown"
        }
    };
    let found = query_range(&a, "loki", r#"{env=~"prod|dev"}"#);
    let mut all = proto_streams.clone();
    all.extend(json_streams.clone());
    expect_found(&found, &all, level);
    // Selectors, line filters, metadata filters.
    assert_eq!(query_range(&a, "loki", r#"{job="nginx"}"#).len(), 50);
    assert_eq!(
        query_range(&a, "loki", r#"{job="nginx"} |= "/api/7 " "#).len(),
        1
    );
    let f = query_range(
        &a,
        "loki",
        &format!(r#"{{job="nginx"}} | trace_id="{:032x}""#, 42),
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].line, "GET /api/42 200");
    assert_eq!(
        query_range(&a, "loki", r#"{env="dev"} | idx > 2"#).len(),
        2,
        "a numeric label filter on metadata"
    );

    // The index endpoints.
    let end = (now_ns() + 60_000_000_000).to_string();
    let start = (now_ns() - 3_600_000_000_000).to_string();
    let range = format!("start={start}&end={end}");
    let series = a.get_json(
        Some("loki"),
        &format!("/loki/api/v1/series?match[]={{env=~\"prod|dev\"}}&{range}"),
    );
    let mut series: Vec<Value> = series["data"].as_array().unwrap().clone();
    series.sort_by_key(|s| s.to_string());
    assert_eq!(
        series,
        [
            serde_json::json!({"env": "dev", "job": "json"}),
            serde_json::json!({"env": "prod", "job": "app"}),
            serde_json::json!({"env": "prod", "job": "nginx", "level": "warn"}),
        ]
    );
    let labels = a.get_json(Some("loki"), &format!("/loki/api/v1/labels?{range}"));
    assert_eq!(labels["data"], serde_json::json!(["env", "job", "level"]));
    let jobs = a.get_json(
        Some("loki"),
        &format!("/loki/api/v1/label/job/values?{range}"),
    );
    assert_eq!(jobs["data"], serde_json::json!(["app", "json", "nginx"]));
    let stats = a.get_json(
        Some("loki"),
        &format!("/loki/api/v1/index/stats?query={{env=\"prod\"}}&{range}"),
    );
    assert_eq!(stats["streams"], 2, "{stats}");
    assert_eq!(stats["entries"], 53, "{stats}");
    let bytes: usize = proto_streams
        .iter()
        .flat_map(|s| &s.entries)
        .map(|e| e.line.len())
        .sum();
    let got = stats["bytes"].as_u64().unwrap() as usize;
    assert!(got >= bytes, "{stats}: at least the lines' {bytes} bytes");
}

#[test]
fn elasticsearch_python_client_bulk_is_found_by_logql() {
    if !have_python(&["elasticsearch", "elasticsearch.helpers"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let out = python(&["es", &a.url(""), "es"]);
    assert_eq!(
        out["version"].as_str().unwrap().split('.').next(),
        Some("8")
    );
    let docs = out["docs"].as_array().unwrap();
    assert_eq!(out["ok"], docs.len());

    let found = query_range(&a, "es", r#"{index="app-logs"}"#);
    assert_eq!(found.len(), docs.len(), "{found:#?}");
    for d in docs {
        let f = one(&found, d["message"].as_str().unwrap());
        assert_eq!(f.ts.to_string(), d["ts"].as_str().unwrap(), "{f:?}");
        let labels: BTreeMap<String, String> = [
            ("index", "app-logs"),
            ("service_name", d["service"]["name"].as_str().unwrap()),
            ("host_name", d["host.name"].as_str().unwrap()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(f.labels, labels, "{f:?}");
        let level = d["level"].as_str().unwrap();
        let meta: BTreeMap<String, String> = [
            ("level", level.to_string()),
            ("http_status", d["http"]["status"].to_string()),
            ("http_method", "GET".to_string()),
            ("user", "alice".to_string()),
            ("detected_level", level.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(f.meta, meta, "{f:?}");
    }
    let warn = query_range(
        &a,
        "es",
        r#"{service_name="api"} | detected_level="warn" | http_status >= 210"#,
    );
    assert_eq!(
        warn.iter().map(|f| f.line.as_str()).collect::<Vec<_>>(),
        ["request 10 handled"]
    );
}

/// The `data.parquet` files of a tenant's logs segments.
fn parquet_files(data: &Path, tenant: &str) -> Vec<PathBuf> {
    let blocks = data.join(format!("objects/tenants/{tenant}/logs/blocks"));
    let Ok(dirs) = std::fs::read_dir(&blocks) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = dirs
        .filter_map(|d| {
            let d = d.ok()?.path();
            // meta.json last: a segment is complete when it is there.
            (d.join("meta.json").exists() && d.join("data.parquet").exists())
                .then(|| d.join("data.parquet"))
        })
        .collect();
    out.sort();
    out
}

/// A tenant's value of one of the logs store's gauges in `/metrics`.
fn self_metric(a: &Argus, name: &str, tenant: &str) -> Option<f64> {
    let text = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let prefix = format!("{name}{{tenant=\"{tenant}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
}

/// Waits until the tenant's lines are all in segments (none in memory).
fn wait_flushed(a: &Argus, tenant: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let loaded = self_metric(a, "argus_logs_segments_loaded", tenant).unwrap_or(0.0);
        let head = self_metric(a, "argus_logs_head_entries", tenant);
        if loaded >= 1.0 && head == Some(0.0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not flushed after 20 s (segments {loaded}, head {head:?}); log:\n{}",
            a.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn flushed_segments_are_parquet_that_duckdb_reads() {
    let duck = have_python(&["duckdb"]);
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "logs:\n  max_head_age: 1s\n");
    let t0 = now_ns() - 20_000_000_000 + 987_654_321;
    let sent = vec![
        stream(
            &[("job", "seg"), ("instance", "a")],
            (0..200)
                .map(|i| {
                    entry(
                        t0 + i * 10_000_019,
                        &format!("segment line {i} \"quoted\" ünïcode"),
                        &[("n", &i.to_string())],
                    )
                })
                .collect(),
        ),
        stream(
            &[("job", "seg"), ("instance", "b")],
            (0..20)
                .map(|i| {
                    // Some lines too many numbers to split: kept whole.
                    let line = match i % 5 {
                        0 => format!("info: b {i} {:?}", [i; 17]),
                        _ => format!("info: b {i}"),
                    };
                    entry(t0 + 3 + i * 77, &line, &[])
                })
                .collect(),
        ),
    ];
    let mut body = Vec::new();
    argus_ingest::loki::encode_protobuf(&sent, &mut body);
    push(&a, "seg", body, "application/x-protobuf", None);
    let level = |e: &LogEntry| {
        if e.line.starts_with("info") {
            "info"
        } else {
            "unknown"
        }
    };

    // The age flush writes a segment and drops the head: every line is
    // then read from the Parquet segment.
    let data = dir.path().join("data");
    wait_flushed(&a, "seg");
    let files = parquet_files(&data, "seg");
    assert!(!files.is_empty(), "no data.parquet");
    let found = query_range(&a, "seg", r#"{job="seg"}"#);
    expect_found(&found, &sent, level);

    // After a restart, the same (the WAL replay skips what segments hold).
    assert_eq!(a.stop(), Some(0), "log:\n{}", a.log_text());
    a.spawn();
    assert_eq!(self_metric(&a, "argus_logs_head_entries", "seg"), Some(0.0));
    let found = query_range(&a, "seg", r#"{job="seg"}"#);
    expect_found(&found, &sent, level);
    assert_eq!(
        query_range(&a, "seg", r#"{instance="a"} |= "line 199 ""#).len(),
        1
    );
    let files_after = parquet_files(&data, "seg");
    assert!(files_after.len() >= files.len(), "{files_after:?}");

    if !duck {
        return;
    }
    let paths: Vec<String> = files_after
        .iter()
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["duckdb"];
    args.extend(paths.iter().map(String::as_str));
    let rows = python(&args);
    let rows = rows.as_array().unwrap();
    let n: usize = sent.iter().map(|s| s.entries.len()).sum();
    assert_eq!(rows.len(), n, "{rows:?}");
    for s in &sent {
        for e in &s.entries {
            let r: Vec<&Value> = rows.iter().filter(|r| r["line"] == e.line).collect();
            assert_eq!(r.len(), 1, "{}", e.line);
            let r = r[0];
            assert_eq!(r["ts"].as_str().unwrap(), e.ts_ns.to_string(), "{r}");
            assert!(r["type"].as_str().unwrap().starts_with("TIMESTAMP"), "{r}");
            assert_eq!(r["stream"].as_str().unwrap(), s.labels.to_string(), "{r}");
            for (k, v) in &e.metadata {
                assert!(
                    r["metadata"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("{k}={v}")),
                    "{r}"
                );
            }
        }
    }
}
