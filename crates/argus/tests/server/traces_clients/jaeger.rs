//! Jaeger's query API (`/jaeger/api/…`) over the traces of
//! `traces_clients.py` and the Zipkin trace: what Jaeger's UI and
//! Grafana's Jaeger data source read.

use super::{get_ok_json, num, span, SentTrace};
use crate::harness::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Jaeger's API: the services, each trace with its spans, parents as
/// `CHILD_OF` references, and search by service.
pub(super) fn check_jaeger(a: &Argus, sent: &[SentTrace], phase: &str) {
    let services: BTreeSet<String> = sent
        .iter()
        .flat_map(|t| t.spans.iter().map(|s| s.service.clone()))
        .collect();
    let j = get_ok_json(a, "/jaeger/api/services", &[]);
    let got: BTreeSet<String> = j["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, services, "{phase}: {j}");
    assert_eq!(j["total"], json!(services.len()), "{phase}: {j}");
    for t in sent {
        let path = format!("/jaeger/api/traces/{}", t.id);
        let j = get_ok_json(a, &path, &[]);
        let data = j["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{phase}: {path}: {j}");
        let tr = &data[0];
        assert_eq!(format!("{:0>32}", tr["traceID"].as_str().unwrap()), t.id);
        type Row = (
            String,
            Option<String>,
            Vec<(String, String)>,
            String,
            String,
            u64,
            u64,
            bool,
        );
        let mut got: Vec<Row> = tr["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                // The parent a CHILD_OF reference (of this trace), links
                // FOLLOWS_FROM ones.
                let (mut parent, mut links) = (None, Vec::new());
                for r in s["references"].as_array().unwrap() {
                    let ids = (
                        format!("{:0>32}", r["traceID"].as_str().unwrap()),
                        r["spanID"].as_str().unwrap().to_string(),
                    );
                    match r["refType"].as_str().unwrap() {
                        "CHILD_OF" => {
                            assert!(parent.is_none(), "{phase}: two parents: {s}");
                            assert_eq!(ids.0, t.id, "{phase}: {s}");
                            parent = Some(ids.1);
                        }
                        "FOLLOWS_FROM" => links.push(ids),
                        other => panic!("{phase}: reference type {other}: {s}"),
                    }
                }
                let process = &tr["processes"][s["processID"].as_str().unwrap()];
                let error = s["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kv| kv["key"] == "error" && kv["value"] == json!(true));
                (
                    s["spanID"].as_str().unwrap().to_string(),
                    parent,
                    links,
                    process["serviceName"].as_str().unwrap().to_string(),
                    s["operationName"].as_str().unwrap().to_string(),
                    num(&s["startTime"]),
                    num(&s["duration"]),
                    error,
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<Row> = t
            .spans
            .iter()
            .map(|s| {
                (
                    s.span_id.clone(),
                    s.parent.clone(),
                    s.links
                        .iter()
                        .map(|(t, s, _)| (t.clone(), s.clone()))
                        .collect(),
                    s.service.clone(),
                    s.name.clone(),
                    s.start / 1000,
                    (s.end - s.start) / 1000,
                    s.status == "ERROR",
                )
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{phase}: {path}");
    }
    for svc in &services {
        let want: BTreeSet<String> = sent
            .iter()
            .filter(|t| t.spans.iter().any(|s| &s.service == svc))
            .map(|t| t.id.clone())
            .collect();
        let j = get_ok_json(
            a,
            "/jaeger/api/traces",
            &[("service", svc), ("limit", "100")],
        );
        let got: BTreeSet<String> = j["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| format!("{:0>32}", t["traceID"].as_str().unwrap()))
            .collect();
        assert_eq!(got, want, "{phase}: jaeger traces?service={svc}");
    }
}

/// Each service's operations (its span names), and the dependencies:
/// a span whose parent is a span of another service is a call.
pub(super) fn check_operations_and_dependencies(a: &Argus, sent: &[SentTrace], phase: &str) {
    let mut ops: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut deps: BTreeMap<(String, String), u64> = BTreeMap::new();
    for t in sent {
        for s in &t.spans {
            ops.entry(&s.service).or_default().insert(s.name.clone());
            if let Some(p) = s.parent.as_deref().and_then(|p| span(t, p)) {
                if p.service != s.service {
                    *deps
                        .entry((p.service.clone(), s.service.clone()))
                        .or_default() += 1;
                }
            }
        }
    }
    for (svc, want) in ops {
        let path = format!("/jaeger/api/services/{svc}/operations");
        let j = get_ok_json(a, &path, &[]);
        let got: BTreeSet<String> = j["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{phase}: {path}");
    }
    assert!(deps.len() >= 2, "{deps:?}");
    let end = (now_ms() + 60_000).to_string();
    let j = get_ok_json(
        a,
        "/jaeger/api/dependencies",
        &[("endTs", &end), ("lookback", "3600000")],
    );
    let got: BTreeMap<(String, String), u64> = j["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_string();
            ((s("parent"), s("child")), num(&d["callCount"]))
        })
        .collect();
    assert_eq!(got, deps, "{phase}: dependencies {j}");
}
