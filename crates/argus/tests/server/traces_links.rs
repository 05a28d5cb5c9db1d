//! Traces segments as others read them, and the links between signals:
//! DuckDB reads a flushed traces segment (it is plain Parquet), and a log
//! line's `trace_id` leads from a trace to its logs with LogQL.

use crate::harness::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const TENANT: &str = "links";

fn post_json(a: &Argus, path: &str, body: &Value) {
    let resp = client()
        .post(a.url(path))
        .header("X-Scope-OrgID", TENANT)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = resp.status();
    let text = resp.text().unwrap();
    assert!(status.is_success(), "{path}: {status}: {text}");
}

/// An OTLP/JSON traces request: `spans` of service `svc`, each (trace id,
/// span id, parent, name, start ns, duration ns, http.method).
fn otlp_traces(svc: &str, spans: &[(&str, &str, &str, &str, i64, i64, &str)]) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|(t, s, p, name, start, dur, method)| {
            json!({
                "traceId": t, "spanId": s, "parentSpanId": p, "name": name, "kind": 2,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + dur).to_string(),
                "attributes": [{"key": "http.method", "value": {"stringValue": method}}]
            })
        })
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]
    }]})
}

/// Complete segments' data files of a tenant's signal.
fn segment_files(data: &Path, signal: &str) -> Vec<PathBuf> {
    let blocks = data.join(format!("objects/tenants/{TENANT}/{signal}/blocks"));
    let mut out: Vec<PathBuf> = std::fs::read_dir(blocks)
        .map(|rd| {
            rd.filter_map(|d| {
                let d = d.ok()?.path();
                d.join("meta.json").exists().then(|| d.join("data.parquet"))
            })
            .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn duckdb_reads_a_traces_segment() {
    if !have_python(&["duckdb"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let t0 = now_ms() * 1_000_000;
    let (t1, t2) = (
        "0af7651916cd43dd8448eb211c80319c",
        "00000000000000000000000000000abc",
    );
    let spans = [
        (t1, "b7ad6b7169203331", "", "GET /", t0, 5_000_000, "GET"),
        (
            t1,
            "00f067aa0ba902b7",
            "b7ad6b7169203331",
            "query",
            t0 + 1_000,
            2_000_000,
            "POST",
        ),
        (t2, "0000000000000001", "", "PUT /x", t0 + 7, 1, "PUT"),
    ];
    post_json(&a, "/v1/traces", &otlp_traces("api", &spans));
    let resp = client().post(a.url("/flush")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let files = segment_files(&dir.path().join("data"), "traces");
    assert_eq!(files.len(), 1, "{files:?}");
    // A parent among the trace's rows is written as its row (an offset,
    // `parent_row`; docs/format/traces.md): a self-join gets its id back.
    let script = format!(
        "import duckdb, json\n\
         duckdb.sql(\"CREATE VIEW s AS SELECT * FROM read_parquet('{}', file_row_number = true)\")\n\
         rows = duckdb.sql(\"SELECT lower(hex(s.trace_id)), lower(hex(s.span_id)), \
         coalesce(lower(hex(coalesce(s.parent_span_id, p.span_id))), ''), s.name, s.service, \
         epoch_ns(s.start), s.duration, s.\\\"span.http.method\\\" FROM s LEFT JOIN s p \
         ON p.file_row_number = s.file_row_number + s.parent_row ORDER BY s.name\").fetchall()\n\
         print(json.dumps([list(r) for r in rows]))",
        files[0].display()
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<Value>> = serde_json::from_slice(&out.stdout).unwrap();
    let mut want: Vec<Vec<Value>> = spans
        .iter()
        .map(|(t, s, p, name, start, dur, method)| {
            vec![
                json!(t),
                json!(s),
                json!(p),
                json!(name),
                json!("api"),
                json!(start),
                json!(dur),
                json!(method),
            ]
        })
        .collect();
    want.sort_by(|a, b| a[3].as_str().cmp(&b[3].as_str()));
    assert_eq!(rows, want);
    a.stop();
}

#[test]
fn a_traces_id_finds_its_logs_with_logql() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let t0 = now_ms() * 1_000_000;
    let trace = "5b8efff798038103d269b633813fc60c";
    post_json(
        &a,
        "/v1/traces",
        &otlp_traces(
            "shop",
            &[(trace, "eee19b7ec3c1b174", "", "checkout", t0, 1_000, "GET")],
        ),
    );
    // Two log lines of the trace's span, one of another trace.
    let log = |line: &str, trace_id: &str, t: i64| {
        json!({"timeUnixNano": t.to_string(), "body": {"stringValue": line},
               "traceId": trace_id, "spanId": "eee19b7ec3c1b174"})
    };
    post_json(
        &a,
        "/v1/logs",
        &json!({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
            "scopeLogs": [{"logRecords": [
                log("charging card", trace, t0 + 10),
                log("card charged", trace, t0 + 20),
                log("unrelated", "0af7651916cd43dd8448eb211c80319c", t0 + 30),
            ]}]
        }]}),
    );
    // trace → its spans (Tempo's API) → the logs with its trace_id (LogQL).
    let found = a.get_json(Some(TENANT), &format!("/api/v2/traces/{trace}"));
    let spans = &found["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"];
    assert_eq!(spans.as_array().map(Vec::len), Some(1), "{found}");
    let end = t0 + 60_000_000_000;
    let q = format!(r#"{{service_name="shop"}} | trace_id="{trace}""#);
    let resp: Value = client()
        .get(a.url("/loki/api/v1/query_range"))
        .header("X-Scope-OrgID", TENANT)
        .query(&[
            ("query", q.as_str()),
            ("start", &(t0 - 60_000_000_000).to_string()),
            ("end", &end.to_string()),
            ("direction", "forward"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let lines: Vec<&str> = resp["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap())
        .map(|v| v[1].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["charging card", "card charged"], "{resp}");
    a.stop();
}

/// `/api/v1/query_exemplars` over the last hour for `query`.
fn exemplars(a: &Argus, query: &str) -> Value {
    let now = now_ms() / 1000;
    let resp = client()
        .get(a.url("/api/v1/query_exemplars"))
        .header("X-Scope-OrgID", TENANT)
        .query(&[
            ("query", query),
            ("start", &(now - 3600).to_string()),
            ("end", &(now + 60).to_string()),
        ])
        .send()
        .unwrap();
    let status = resp.status();
    let text = resp.text().unwrap();
    assert!(status.is_success(), "{query}: {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The values of label `name` of every exemplar of a query_exemplars answer.
fn exemplar_labels(v: &Value, name: &str) -> Vec<String> {
    v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["exemplars"].as_array().into_iter().flatten())
        .filter_map(|e| e["labels"][name].as_str().map(str::to_string))
        .collect()
}

#[test]
fn exemplars_lead_from_a_metric_to_its_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(
        dir.path(),
        "metrics_generator:\n  collection_interval: 1s\n",
    );
    let t0 = now_ms() * 1_000_000;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    post_json(
        &a,
        "/v1/traces",
        &otlp_traces(
            "cart",
            &[(
                trace,
                "00f067aa0ba902b7",
                "",
                "add item",
                t0,
                3_000_000,
                "POST",
            )],
        ),
    );
    // An application's metric (OTLP, a sum) with an exemplar of the trace.
    post_json(
        &a,
        "/v1/metrics",
        &json!({"resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
            "scopeMetrics": [{"metrics": [{
                "name": "cart_items_added", "sum": {
                    "aggregationTemporality": 2, "isMonotonic": true,
                    "dataPoints": [{"asDouble": 1, "timeUnixNano": t0.to_string(),
                        "exemplars": [{"asDouble": 1, "timeUnixNano": t0.to_string(),
                            "traceId": trace, "spanId": "00f067aa0ba902b7"}]}]}
            }]}]
        }]}),
    );
    let found = exemplar_labels(&exemplars(&a, "cart_items_added_total"), "trace_id");
    assert_eq!(found, [trace]);
    // Every hop is an API call: exemplar → trace by id.
    let t = a.get_json(Some(TENANT), &format!("/api/v2/traces/{}", found[0]));
    assert_eq!(
        t["trace"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"], "add item",
        "{t}"
    );
    // The span metrics' latency buckets carry the trace too (Tempo's
    // `traceID` label, leading zeros trimmed).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let generated = loop {
        let ids = exemplar_labels(
            &exemplars(&a, r#"traces_spanmetrics_latency_bucket{service="cart"}"#),
            "traceID",
        );
        if !ids.is_empty() || std::time::Instant::now() > deadline {
            break ids;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(generated, [trace]);
    let t = a.get_json(Some(TENANT), &format!("/api/traces/{}", generated[0]));
    assert_eq!(
        t["batches"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    a.stop();
}
