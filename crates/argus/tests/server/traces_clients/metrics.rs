//! Metrics from the traces of `traces_clients.py` and the Zipkin trace:
//! TraceQL metrics (`/api/metrics/query_range`), and the service graph
//! and span metrics the generator writes into the tenant's metrics.

use super::{get_ok_json, span, SentTrace};
use crate::harness::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// `{ } | count_over_time() by (resource.service.name)` over the last
/// ten minutes: each service's spans counted once.
pub(super) fn check_traceql_metrics(a: &Argus, sent: &[SentTrace], phase: &str) {
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for s in sent.iter().flat_map(|t| &t.spans) {
        *want.entry(s.service.clone()).or_default() += 1.0;
    }
    let end = now_ms() / 1000 + 60;
    let (start, end) = ((end - 660).to_string(), end.to_string());
    let q = "{ } | count_over_time() by (resource.service.name)";
    let j = get_ok_json(
        a,
        "/api/metrics/query_range",
        &[("q", q), ("start", &start), ("end", &end), ("step", "60s")],
    );
    let mut got: BTreeMap<String, f64> = BTreeMap::new();
    for series in j["series"]
        .as_array()
        .unwrap_or_else(|| panic!("{phase}: {j}"))
    {
        let labels = series["labels"].as_array().unwrap();
        assert_eq!(labels.len(), 1, "{phase}: {series}");
        assert_eq!(
            labels[0]["key"], "resource.service.name",
            "{phase}: {series}"
        );
        let svc = labels[0]["value"]["stringValue"]
            .as_str()
            .unwrap()
            .to_string();
        let total: f64 = series["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["value"].as_f64().unwrap_or(0.0))
            .sum();
        assert!(got.insert(svc, total).is_none(), "{phase}: {j}");
    }
    assert_eq!(got, want, "{phase}: {q}: {j}");
}

/// `sum by (labels) (metric)` as {label values: value}.
fn promql_sum(a: &Argus, metric: &str, by: &[&str]) -> BTreeMap<Vec<String>, f64> {
    let q = format!("sum by ({}) ({metric})", by.join(", "));
    let j = get_ok_json(a, "/api/v1/query", &[("query", &q)]);
    j["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = by
                .iter()
                .map(|l| r["metric"][*l].as_str().unwrap_or("").to_string())
                .collect();
            (key, r["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

/// The service graph's edges as Tempo pairs them: a server span and its
/// parent client span of another service, or `user` for a root server
/// span; with the count of failed ones (either side an error).
type Counts = BTreeMap<Vec<String>, f64>;
fn graph_of(sent: &[SentTrace]) -> (Counts, Counts) {
    let (mut total, mut failed) = (Counts::new(), Counts::new());
    for t in sent {
        for s in t.spans.iter().filter(|s| s.kind == "SERVER") {
            let client = match s.parent.as_deref().map(|p| span(t, p)) {
                None => None,
                Some(Some(c)) if c.kind == "CLIENT" => Some(c),
                Some(_) => continue,
            };
            let name = client.map_or("user", |c| c.service.as_str());
            let key = vec![name.to_string(), s.service.clone()];
            *total.entry(key.clone()).or_default() += 1.0;
            if s.status == "ERROR" || client.is_some_and(|c| c.status == "ERROR") {
                *failed.entry(key).or_default() += 1.0;
            }
        }
    }
    (total, failed)
}

/// Service graph and span metrics in the tenant's metrics (the generator
/// writes them every second; waits until they are all there).
pub(super) fn check_generated_metrics(a: &Argus, sent: &[SentTrace], phase: &str) {
    let (total, failed) = graph_of(sent);
    assert!(total.contains_key(&vec!["checkout".to_string(), "payments".to_string()]));
    assert!(!failed.is_empty());
    let mut calls = Counts::new();
    for s in sent.iter().flat_map(|t| &t.spans) {
        let key = vec![s.service.clone(), format!("STATUS_CODE_{}", s.status)];
        *calls.entry(key).or_default() += 1.0;
    }
    let want = (total, failed, calls);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = (
            promql_sum(
                a,
                "traces_service_graph_request_total",
                &["client", "server"],
            ),
            promql_sum(
                a,
                "traces_service_graph_request_failed_total",
                &["client", "server"],
            ),
            promql_sum(
                a,
                "traces_spanmetrics_calls_total",
                &["service", "status_code"],
            ),
        );
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            panic!("{phase}: generated metrics\n got {got:?}\nwant {want:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
