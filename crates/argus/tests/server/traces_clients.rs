//! The traces signal with real clients against the real binary: the
//! OpenTelemetry Python SDK sends traces across three services over
//! OTLP/HTTP and OTLP/gRPC (`traces_clients.py`), and a Zipkin v2 JSON
//! trace is posted. Every span is read back as sent through Tempo's trace
//! by id (v1 and v2, JSON and protobuf) and Jaeger's API, TraceQL search
//! finds exactly the traces a query describes, and the service graph and
//! span metrics count the calls; all of it from the heads, from segments
//! after `POST /flush`, and after a restart.
//!
//! What the tests expect is derived from what the script reports it sent
//! (its ids, times, attributes, statuses), not written down here.

use crate::harness::*;
use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, ResourceSpans};
use prost::Message as _;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

mod jaeger;
mod metrics;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/server/traces_clients.py"
);

const TENANT: &str = "shop";

/// The generator writes every second and pairs within a second.
const CONFIG: &str = "metrics_generator:\n  collection_interval: 1s\n  service_graph_wait: 1s\n";

/// A span as compared: ids in lowercase hex, kind and status by their
/// short names, attribute values as JSON (`42`, `"GET"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SpanView {
    span_id: String,
    trace_id: String,
    parent: Option<String>,
    service: String,
    scope: String,
    name: String,
    kind: String,
    start: u64,
    end: u64,
    status: String,
    status_message: String,
    attrs: BTreeMap<String, String>,
    events: Vec<(String, u64, BTreeMap<String, String>)>,
    /// (trace id, span id, attributes).
    links: Vec<(String, String, BTreeMap<String, String>)>,
}

/// A trace as sent: its id (hex) and spans.
#[derive(Debug, Clone)]
struct SentTrace {
    id: String,
    spans: Vec<SpanView>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn b64_hex(v: &Value) -> String {
    let s = v.as_str().unwrap_or_else(|| panic!("id {v}"));
    hex(&base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("{s:?} is not base64: {e}")))
}

fn num(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Python's `{"k": 42, "s": "x"}` attributes.
fn py_attrs(v: &Value) -> BTreeMap<String, String> {
    let o = v.as_object().unwrap();
    o.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

fn sent_span(v: &Value) -> SpanView {
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    SpanView {
        span_id: s("span_id"),
        trace_id: s("trace_id"),
        parent: v["parent_span_id"].as_str().map(str::to_string),
        service: s("service"),
        scope: s("scope"),
        name: s("name"),
        kind: s("kind"),
        start: num(&v["start"]),
        end: num(&v["end"]),
        status: s("status"),
        status_message: s("status_message"),
        attrs: py_attrs(&v["attributes"]),
        events: v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    num(&e["ts"]),
                    py_attrs(&e["attributes"]),
                )
            })
            .collect(),
        links: v["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let s = |k: &str| l[k].as_str().unwrap().to_string();
                (s("trace_id"), s("span_id"), py_attrs(&l["attributes"]))
            })
            .collect(),
    }
}

/// An OTLP JSON `AnyValue` as Tempo writes it, as JSON of the value.
fn json_any(v: &Value) -> String {
    if let Some(s) = v.get("stringValue") {
        return s.to_string();
    }
    if let Some(n) = v.get("intValue") {
        return json!(num(n)).to_string();
    }
    for k in ["boolValue", "doubleValue"] {
        if let Some(x) = v.get(k) {
            return x.to_string();
        }
    }
    panic!("unexpected attribute value {v}")
}

fn json_attrs(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap().to_string(),
                        json_any(&kv["value"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

/// The spans of Tempo's JSON `ResourceSpans` list.
fn views_from_json(resource_spans: &Value) -> Vec<SpanView> {
    let mut out = Vec::new();
    for rs in resource_spans.as_array().unwrap() {
        let service = json_attrs(&rs["resource"]["attributes"])["service.name"].clone();
        let service: String = serde_json::from_str(&service).unwrap();
        for ss in rs["scopeSpans"].as_array().unwrap() {
            let scope = ss["scope"]["name"].as_str().unwrap_or("").to_string();
            for sp in ss["spans"].as_array().unwrap() {
                out.push(SpanView {
                    span_id: b64_hex(&sp["spanId"]),
                    trace_id: b64_hex(&sp["traceId"]),
                    parent: sp.get("parentSpanId").map(b64_hex),
                    service: service.clone(),
                    scope: scope.clone(),
                    name: sp["name"].as_str().unwrap().to_string(),
                    kind: short(
                        sp["kind"].as_str().unwrap_or("SPAN_KIND_UNSPECIFIED"),
                        "SPAN_KIND_",
                    ),
                    start: num(&sp["startTimeUnixNano"]),
                    end: num(&sp["endTimeUnixNano"]),
                    status: short(
                        sp["status"]["code"].as_str().unwrap_or("STATUS_CODE_UNSET"),
                        "STATUS_CODE_",
                    ),
                    status_message: sp["status"]["message"].as_str().unwrap_or("").into(),
                    attrs: json_attrs(&sp["attributes"]),
                    events: sp["events"]
                        .as_array()
                        .map(|evs| {
                            evs.iter()
                                .map(|e| {
                                    (
                                        e["name"].as_str().unwrap().to_string(),
                                        num(&e["timeUnixNano"]),
                                        json_attrs(&e["attributes"]),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    links: sp["links"]
                        .as_array()
                        .map(|ls| {
                            ls.iter()
                                .map(|l| {
                                    (
                                        b64_hex(&l["traceId"]),
                                        b64_hex(&l["spanId"]),
                                        json_attrs(&l["attributes"]),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
        }
    }
    out
}

fn proto_any(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => json!(s).to_string(),
        Some(any_value::Value::IntValue(n)) => json!(n).to_string(),
        Some(any_value::Value::BoolValue(b)) => json!(b).to_string(),
        Some(any_value::Value::DoubleValue(x)) => json!(x).to_string(),
        other => panic!("unexpected attribute value {other:?}"),
    }
}

fn proto_attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), proto_any(&kv.value)))
        .collect()
}

fn views_from_proto(resource_spans: &[ResourceSpans]) -> Vec<SpanView> {
    let mut out = Vec::new();
    for rs in resource_spans {
        let res = proto_attrs(&rs.resource.as_ref().unwrap().attributes);
        let service: String = serde_json::from_str(&res["service.name"]).unwrap();
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref().map_or("", |s| s.name.as_str());
            for sp in &ss.spans {
                let status = sp.status.clone().unwrap_or_default();
                out.push(SpanView {
                    span_id: hex(&sp.span_id),
                    trace_id: hex(&sp.trace_id),
                    parent: (!sp.parent_span_id.is_empty()).then(|| hex(&sp.parent_span_id)),
                    service: service.clone(),
                    scope: scope.to_string(),
                    name: sp.name.clone(),
                    kind: short(
                        SpanKind::try_from(sp.kind).unwrap().as_str_name(),
                        "SPAN_KIND_",
                    ),
                    start: sp.start_time_unix_nano,
                    end: sp.end_time_unix_nano,
                    status: short(
                        StatusCode::try_from(status.code).unwrap().as_str_name(),
                        "STATUS_CODE_",
                    ),
                    status_message: status.message,
                    attrs: proto_attrs(&sp.attributes),
                    events: sp
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), e.time_unix_nano, proto_attrs(&e.attributes)))
                        .collect(),
                    links: sp
                        .links
                        .iter()
                        .map(|l| {
                            (
                                hex(&l.trace_id),
                                hex(&l.span_id),
                                proto_attrs(&l.attributes),
                            )
                        })
                        .collect(),
                });
            }
        }
    }
    out
}

/// GET with the tenant; (status, body).
fn get(a: &Argus, path: &str, query: &[(&str, &str)], protobuf: bool) -> (u16, Vec<u8>) {
    let mut r = client()
        .get(a.url(path))
        .query(query)
        .header("X-Scope-OrgID", TENANT);
    if protobuf {
        r = r.header("Accept", "application/protobuf");
    }
    let resp = r.send().unwrap();
    (resp.status().as_u16(), resp.bytes().unwrap().to_vec())
}

fn get_ok_json(a: &Argus, path: &str, query: &[(&str, &str)]) -> Value {
    let (st, body) = get(a, path, query, false);
    let text = String::from_utf8_lossy(&body);
    assert_eq!(st, 200, "GET {path} {query:?}: {text}");
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

fn sorted(mut v: Vec<SpanView>) -> Vec<SpanView> {
    v.sort();
    v
}

/// Trace by id, v1 and v2, JSON and protobuf: every span as sent.
fn check_trace_by_id(a: &Argus, t: &SentTrace, phase: &str) {
    let want = sorted(t.spans.clone());
    let v1 = format!("/api/traces/{}", t.id);
    let v2 = format!("/api/v2/traces/{}", t.id);
    let j = get_ok_json(a, &v1, &[]);
    assert_eq!(
        sorted(views_from_json(&j["batches"])),
        want,
        "{phase}: {v1} {j}"
    );
    let j = get_ok_json(a, &v2, &[]);
    assert!(j.get("status").is_none(), "{phase}: {v2} partial: {j}");
    assert_eq!(
        sorted(views_from_json(&j["trace"]["resourceSpans"])),
        want,
        "{phase}: {v2} {j}"
    );
    let (st, body) = get(a, &v1, &[], true);
    assert_eq!(st, 200, "{phase}: {v1} protobuf");
    let tr = TempoTrace::decode(body.as_slice()).unwrap();
    assert_eq!(
        sorted(views_from_proto(&tr.resource_spans)),
        want,
        "{phase}: {v1} protobuf"
    );
    let (st, body) = get(a, &v2, &[], true);
    assert_eq!(st, 200, "{phase}: {v2} protobuf");
    let r = TraceByIdResponse::decode(body.as_slice()).unwrap();
    assert_eq!((r.status, r.message.as_str()), (0, ""), "{phase}: {v2}");
    let tr = r.trace.expect("v2 protobuf without trace");
    assert_eq!(
        sorted(views_from_proto(&tr.resource_spans)),
        want,
        "{phase}: {v2} protobuf"
    );
}

/// The ids `/api/search` answers for `q` (and more parameters), as 32
/// hex digits (Tempo trims leading zeros).
fn search(a: &Argus, q: &str, more: &[(&str, &str)]) -> BTreeSet<String> {
    let mut params = vec![("q", q), ("limit", "100")];
    params.extend_from_slice(more);
    let j = get_ok_json(a, "/api/search", &params);
    let traces = j["traces"].as_array().unwrap_or_else(|| panic!("{q}: {j}"));
    traces
        .iter()
        .map(|t| format!("{:0>32}", t["traceID"].as_str().unwrap()))
        .collect()
}

/// The span whose id is `id` in `t`.
fn span<'a>(t: &'a SentTrace, id: &str) -> Option<&'a SpanView> {
    t.spans.iter().find(|s| s.span_id == id)
}

/// Whether `s` has an ancestor in `t` for which `pred` holds.
fn has_ancestor(t: &SentTrace, s: &SpanView, pred: &dyn Fn(&SpanView) -> bool) -> bool {
    let mut cur = s.parent.as_deref().and_then(|p| span(t, p));
    while let Some(p) = cur {
        if pred(p) {
            return true;
        }
        cur = p.parent.as_deref().and_then(|id| span(t, id));
    }
    false
}

/// Each TraceQL query finds exactly the traces whose spans satisfy the
/// same condition, evaluated here over what was sent.
fn check_search(a: &Argus, sent: &[SentTrace], phase: &str) {
    let all: BTreeSet<String> = sent.iter().map(|t| t.id.clone()).collect();
    let ids = |pred: &dyn Fn(&SentTrace) -> bool| -> BTreeSet<String> {
        sent.iter()
            .filter(|t| pred(t))
            .map(|t| t.id.clone())
            .collect()
    };
    let any_span = |pred: &dyn Fn(&SpanView) -> bool| ids(&|t| t.spans.iter().any(pred));
    let amount = |s: &SpanView| {
        s.attrs
            .get("payment.amount")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (
            r#"{ resource.service.name = "payments" }"#,
            any_span(&|s| s.service == "payments"),
        ),
        (
            "{ duration > 1ms }",
            any_span(&|s| s.end - s.start > 1_000_000),
        ),
        ("{ status = error }", any_span(&|s| s.status == "ERROR")),
        (
            "{ span.payment.amount > 10 }",
            any_span(&|s| amount(s).is_some_and(|n| n > 10)),
        ),
        (
            r#"{ resource.service.name = "frontend" } >> { status = error }"#,
            ids(&|t| {
                t.spans.iter().any(|s| {
                    s.status == "ERROR" && has_ancestor(t, s, &|p| p.service == "frontend")
                })
            }),
        ),
        (
            r#"{ span.http.method = "POST" && kind = client }"#,
            any_span(&|s| {
                s.kind == "CLIENT" && s.attrs.get("http.method").is_some_and(|m| m == "\"POST\"")
            }),
        ),
        (
            r#"{ event:name = "charge declined" }"#,
            any_span(&|s| s.events.iter().any(|e| e.0 == "charge declined")),
        ),
        (
            "{ kind = server && span.http.status_code >= 400 }",
            any_span(&|s| {
                s.kind == "SERVER"
                    && s.attrs
                        .get("http.status_code")
                        .and_then(|v| v.parse::<i64>().ok())
                        .is_some_and(|c| c >= 400)
            }),
        ),
        (
            r#"{ resource.service.name = "checkout" } > { resource.service.name = "payments" }"#,
            ids(&|t| {
                t.spans.iter().any(|s| {
                    s.service == "payments"
                        && s.parent
                            .as_deref()
                            .and_then(|p| span(t, p))
                            .is_some_and(|p| p.service == "checkout")
                })
            }),
        ),
        (
            r#"{ trace:rootService = "legacy" }"#,
            ids(&|t| {
                t.spans
                    .iter()
                    .any(|s| s.parent.is_none() && s.service == "legacy")
            }),
        ),
    ];
    for (q, want) in cases {
        // Each query tells the traces apart: it finds some, not all.
        assert!(!want.is_empty() && want != all, "{q} does not discriminate");
        assert_eq!(search(a, q, &[]), want, "{phase}: {q}");
    }
    assert_eq!(search(a, "{}", &[]), all, "{phase}: {{}}");
    // A hit's spanset: the spans that matched, ids in 16 hex digits.
    let q = "{ status = error }";
    let j = get_ok_json(a, "/api/search", &[("q", q)]);
    for hit in j["traces"].as_array().unwrap() {
        let id = format!("{:0>32}", hit["traceID"].as_str().unwrap());
        let t = sent.iter().find(|t| t.id == id).unwrap();
        let want: BTreeSet<String> = t
            .spans
            .iter()
            .filter(|s| s.status == "ERROR")
            .map(|s| s.span_id.clone())
            .collect();
        let set = &hit["spanSets"][0];
        let got: BTreeSet<String> = set["spans"]
            .as_array()
            .unwrap_or_else(|| panic!("{phase}: {q}: {hit}"))
            .iter()
            .map(|s| s["spanID"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{phase}: {q}: {hit}");
        assert_eq!(set["matched"], json!(want.len()), "{phase}: {q}: {hit}");
    }
    // Each hit: its root span's service and name, the trace's first start
    // and its duration (first start to last end) in ms.
    let j = get_ok_json(a, "/api/search", &[("q", "{}")]);
    for hit in j["traces"].as_array().unwrap() {
        let id = format!("{:0>32}", hit["traceID"].as_str().unwrap());
        let t = sent.iter().find(|t| t.id == id).unwrap();
        let root = t.spans.iter().find(|s| s.parent.is_none()).unwrap();
        let start = t.spans.iter().map(|s| s.start).min().unwrap();
        let end = t.spans.iter().map(|s| s.end).max().unwrap();
        assert_eq!(
            hit["rootServiceName"],
            json!(root.service),
            "{phase}: {hit}"
        );
        assert_eq!(hit["rootTraceName"], json!(root.name), "{phase}: {hit}");
        assert_eq!(num(&hit["startTimeUnixNano"]), start, "{phase}: {hit}");
        let ms = hit.get("durationMs").map_or(0, num);
        assert_eq!(ms, (end - start) / 1_000_000, "{phase}: {hit}");
    }
    // start/end (unix seconds): a range around every trace finds them
    // all, one ending before the first span starts finds none.
    let first = sent
        .iter()
        .flat_map(|t| &t.spans)
        .map(|s| s.start)
        .min()
        .unwrap();
    let last = sent
        .iter()
        .flat_map(|t| &t.spans)
        .map(|s| s.end)
        .max()
        .unwrap();
    let secs = |ns: u64| (ns / 1_000_000_000).to_string();
    let (s0, s1) = (secs(first - 2_000_000_000), secs(last + 2_000_000_000));
    assert_eq!(
        search(a, "{}", &[("start", &s0), ("end", &s1)]),
        all,
        "{phase}"
    );
    let (s0, s1) = (secs(first - 100_000_000_000), secs(first - 2_000_000_000));
    let none = search(a, "{}", &[("start", &s0), ("end", &s1)]);
    assert!(none.is_empty(), "{phase}: {none:?}");
    let j = get_ok_json(a, "/api/search", &[("q", "{}"), ("limit", "1")]);
    assert_eq!(
        j["traces"].as_array().unwrap().len(),
        1,
        "{phase}: limit=1: {j}"
    );
    // A trace's duration: from its first start to its last end.
    let long = ids(&|t| {
        let start = t.spans.iter().map(|s| s.start).min().unwrap();
        let end = t.spans.iter().map(|s| s.end).max().unwrap();
        end - start >= 100_000_000
    });
    assert!(!long.is_empty() && long != all);
    assert_eq!(
        search(a, "{}", &[("minDuration", "100ms")]),
        long,
        "{phase}"
    );
    let short: BTreeSet<String> = all.difference(&long).cloned().collect();
    assert_eq!(
        search(a, "{}", &[("maxDuration", "100ms")]),
        short,
        "{phase}"
    );
    // payments calls nobody: nothing below it.
    let none = r#"{ resource.service.name = "payments" } >> { }"#;
    assert!(ids(&|t| t
        .spans
        .iter()
        .any(|s| has_ancestor(t, s, &|p| p.service == "payments")))
    .is_empty());
    let j = get_ok_json(a, "/api/search", &[("q", none)]);
    assert_eq!(j["traces"], json!([]), "{phase}: {none}: {j}");
    let (st, body) = get(
        a,
        "/api/search",
        &[("q", "{ resource.service.name = }")],
        false,
    );
    assert_eq!(st, 400, "{phase}: {}", String::from_utf8_lossy(&body));
}

/// Tag names and values: the span attribute keys sent, exactly; the
/// values of a resource and of a span attribute, with their types.
fn check_tags(a: &Argus, sent: &[SentTrace], phase: &str) {
    let spans = || sent.iter().flat_map(|t| &t.spans);
    let span_keys: BTreeSet<String> = spans().flat_map(|s| s.attrs.keys().cloned()).collect();
    let strings = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("{phase}: {v}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let j = get_ok_json(a, "/api/search/tags", &[("scope", "span")]);
    assert_eq!(strings(&j["tagNames"]), span_keys, "{phase}: {j}");
    let j = get_ok_json(a, "/api/search/tags", &[]);
    let all = strings(&j["tagNames"]);
    assert!(all.is_superset(&span_keys), "{phase}: {j}");
    assert!(all.contains("service.name"), "{phase}: {j}");
    let j = get_ok_json(a, "/api/v2/search/tags", &[("scope", "span")]);
    assert_eq!(j["scopes"][0]["name"], "span", "{phase}: {j}");
    assert_eq!(strings(&j["scopes"][0]["tags"]), span_keys, "{phase}: {j}");
    let typed = |tag: &str| -> BTreeSet<(String, String)> {
        let j = get_ok_json(a, &format!("/api/v2/search/tag/{tag}/values"), &[]);
        j["tagValues"]
            .as_array()
            .unwrap_or_else(|| panic!("{phase}: {tag}: {j}"))
            .iter()
            .map(|v| {
                let s = |k: &str| v[k].as_str().unwrap().to_string();
                (s("type"), s("value"))
            })
            .collect()
    };
    let services = spans()
        .map(|s| ("string".to_string(), s.service.clone()))
        .collect();
    assert_eq!(typed("resource.service.name"), services, "{phase}");
    let amounts: BTreeSet<(String, String)> = spans()
        .filter_map(|s| s.attrs.get("payment.amount"))
        .map(|v| ("int".to_string(), v.clone()))
        .collect();
    assert!(amounts.len() >= 2);
    assert_eq!(typed("span.payment.amount"), amounts, "{phase}");
}

/// A two-span Zipkin v2 trace of service `legacy`; 202, and as sent.
fn post_zipkin(a: &Argus) -> SentTrace {
    let now_us = (now_ms() as u64 - 5_000) * 1000;
    // A 64-bit trace id (the high half zero, as B3 propagation makes
    // them): Jaeger writes it with 16 digits, Tempo's search trims zeros.
    let id = format!(
        "{:032x}",
        now_us.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1 << 60
    );
    let (root, child) = (
        format!("{:016x}", now_us | 1 << 62),
        format!("{:016x}", now_us | 1 << 61),
    );
    let body = json!([
        {"traceId": id, "id": root, "name": "get /legacy", "kind": "SERVER",
         "timestamp": now_us, "duration": 150,
         "localEndpoint": {"serviceName": "legacy"},
         "tags": {"http.method": "GET", "http.path": "/legacy"}},
        {"traceId": id, "id": child, "parentId": root, "name": "render",
         "timestamp": now_us + 20, "duration": 80,
         "localEndpoint": {"serviceName": "legacy"},
         "tags": {"template": "home"}}
    ]);
    let r = client()
        .post(a.url("/api/v2/spans"))
        .header("X-Scope-OrgID", TENANT)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 202, "{:?}", r.text());
    let view = |z: &Value, kind: &str| SpanView {
        span_id: z["id"].as_str().unwrap().into(),
        trace_id: id.clone(),
        parent: z["parentId"].as_str().map(str::to_string),
        service: "legacy".into(),
        scope: String::new(),
        name: z["name"].as_str().unwrap().into(),
        kind: kind.into(),
        start: num(&z["timestamp"]) * 1000,
        end: (num(&z["timestamp"]) + num(&z["duration"])) * 1000,
        status: "UNSET".into(),
        status_message: String::new(),
        attrs: z["tags"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        events: Vec::new(),
        links: Vec::new(),
    };
    SentTrace {
        spans: vec![view(&body[0], "SERVER"), view(&body[1], "UNSPECIFIED")],
        id,
    }
}

fn python(args: &[&str]) -> Value {
    python_json(SCRIPT, args)
}

fn check_all(a: &Argus, sent: &[SentTrace], phase: &str) {
    for t in sent {
        check_trace_by_id(a, t, phase);
    }
    // A well-formed id nobody sent: 404; a malformed one: 400.
    let missing: String = sent[0].id.chars().rev().collect();
    assert!(sent.iter().all(|t| t.id != missing));
    for path in ["/api/traces/", "/api/v2/traces/"] {
        for (id, status) in [(missing.as_str(), 404), ("not-a-trace-id", 400)] {
            let (st, body) = get(a, &format!("{path}{id}"), &[], false);
            assert_eq!(
                st,
                status,
                "{phase}: {path}{id}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    check_search(a, sent, phase);
    check_tags(a, sent, phase);
    jaeger::check_jaeger(a, sent, phase);
    jaeger::check_operations_and_dependencies(a, sent, phase);
    metrics::check_traceql_metrics(a, sent, phase);
    metrics::check_generated_metrics(a, sent, phase);
}

#[test]
fn otel_sdk_and_zipkin_traces_are_served_by_tempo_and_jaeger_apis() {
    if !have_python(&[
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), CONFIG);
    let out = python(&[
        &a.url("/v1/traces"),
        &format!("127.0.0.1:{}", a.grpc_port),
        TENANT,
    ]);
    let mut sent: Vec<SentTrace> = ["a", "b", "c"]
        .iter()
        .map(|k| {
            let t = &out[*k];
            let spans: Vec<SpanView> = t["spans"]
                .as_array()
                .unwrap()
                .iter()
                .map(sent_span)
                .collect();
            let id = t["trace_id"].as_str().unwrap().to_string();
            assert!(spans.iter().all(|s| s.trace_id == id), "{t}");
            SentTrace { id, spans }
        })
        .collect();
    // The script's three services, an error and an event were sent.
    let all_spans = || sent.iter().flat_map(|t| &t.spans);
    let services: BTreeSet<&str> = all_spans().map(|s| s.service.as_str()).collect();
    assert_eq!(services.len(), 3, "{services:?}");
    assert!(all_spans().any(|s| s.status == "ERROR" && !s.events.is_empty()));
    assert!(all_spans().any(|s| !s.links.is_empty()));
    sent.push(post_zipkin(&a));

    check_all(&a, &sent, "heads");
    // Restarted, the heads come back from the WAL.
    assert_eq!(a.stop(), Some(0));
    a.spawn();
    check_all(&a, &sent, "heads replayed");
    let r = client().post(a.url("/flush")).send().unwrap();
    assert_eq!(r.status(), 204);
    let segments = dir
        .path()
        .join(format!("data/objects/tenants/{TENANT}/traces"));
    assert!(segments.exists(), "no traces segment after /flush");
    check_all(&a, &sent, "segments");
    assert_eq!(a.stop(), Some(0));
    a.spawn();
    check_all(&a, &sent, "segments after a restart");
    a.stop();
}
