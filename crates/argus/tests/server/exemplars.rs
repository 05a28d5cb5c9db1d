//! Exemplars end to end: remote write 1.0 and 2.0 carry them, Prometheus's
//! `/api/v1/query_exemplars` returns them, and a kill -9 loses none that was
//! acknowledged.

use crate::harness::{client, ts, Argus};
use argus_ingest::remote_write::{self as rw, Protocol};
use argus_model::{Exemplar, Labels};
use serde_json::json;

fn trace(id: &str) -> Labels {
    Labels::from_pairs([("trace_id", id)])
}

fn query_exemplars(a: &Argus, query: &str) -> serde_json::Value {
    a.get_json(
        None,
        &format!(
            "/api/v1/query_exemplars?query={}&start=1600000000&end=1700000000",
            urlencode(query)
        ),
    )
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn remote_written_exemplars_are_queried_and_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let t0 = 1_600_096_945_479;
    let mut s = ts("http_requests_total", &[("job", "api")], &[(t0, 6.0)]);
    s.exemplars = vec![Exemplar::new(trace("EpTxMJ40fUus7aGY"), 6.0, t0)];
    assert_eq!(a.write_v1(None, &[s]).status(), 204);

    // 2.0 reports what it wrote; a retried exemplar counts as written.
    let mut s2 = ts("http_requests_total", &[("job", "db")], &[(t0, 1.0)]);
    s2.exemplars = vec![
        Exemplar::new(trace("0af7651916cd43dd"), 0.25, t0 - 1000),
        Exemplar::new(trace("b7ad6b7169203331"), 0.5, t0),
    ];
    let mut body = Vec::new();
    rw::encode(&[s2], Protocol::V2, &mut body);
    let r = a.post_write(None, body, Protocol::V2.content_type());
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Exemplars-Written"],
        "2"
    );

    let want = json!({"status": "success", "data": [
        {"seriesLabels": {"__name__": "http_requests_total", "job": "api"},
         "exemplars": [{"labels": {"trace_id": "EpTxMJ40fUus7aGY"}, "value": "6", "timestamp": 1600096945.479}]},
        {"seriesLabels": {"__name__": "http_requests_total", "job": "db"},
         "exemplars": [
            {"labels": {"trace_id": "0af7651916cd43dd"}, "value": "0.25", "timestamp": 1600096944.479},
            {"labels": {"trace_id": "b7ad6b7169203331"}, "value": "0.5", "timestamp": 1600096945.479}]}
    ]});
    let q = "sum(rate(http_requests_total[5m]))";
    assert_eq!(query_exemplars(&a, q), want);
    // A narrower selector, by POST form.
    let r = client()
        .post(a.url("/api/v1/query_exemplars"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "query={}&start=1600096945&end=1600096946",
            urlencode(r#"http_requests_total{job="db"}"#)
        ))
        .send()
        .unwrap();
    let got: serde_json::Value = r.json().unwrap();
    assert_eq!(got["data"].as_array().unwrap().len(), 1);
    assert_eq!(got["data"][0]["exemplars"].as_array().unwrap().len(), 1);
    // No selector: null data, as Prometheus.
    assert_eq!(
        query_exemplars(&a, "1 + 1"),
        json!({"status": "success", "data": null})
    );

    a.kill9();
    a.spawn();
    assert_eq!(query_exemplars(&a, q), want);
}
