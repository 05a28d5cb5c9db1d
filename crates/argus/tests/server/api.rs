use crate::harness::*;
use serde_json::json;

#[test]
fn remote_write_then_read_apis_answer_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let c = client();
    assert_eq!(c.get(a.url("/-/healthy")).send().unwrap().status(), 200);
    let t0 = 1_700_000_000_000;
    let r = a.write_v1(
        None,
        &[
            ts(
                "http_requests_total",
                &[("job", "api"), ("code", "200")],
                &[(t0, 1.0), (t0 + 15_000, 2.0)],
            ),
            ts(
                "http_requests_total",
                &[("job", "api"), ("code", "500")],
                &[(t0, 3.0)],
            ),
            ts(
                "up",
                &[("job", "db")],
                &[(t0, 1.0), (t0 + 15_000, argus_model::STALE_NAN)],
            ),
        ],
    );
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());

    let v = a.get_json(None, "/api/v1/series?match[]=http_requests_total");
    assert_eq!(
        v,
        json!({"status": "success", "data": [
            {"__name__": "http_requests_total", "code": "200", "job": "api"},
            {"__name__": "http_requests_total", "code": "500", "job": "api"}
        ]})
    );
    let v = a.get_json(None, "/api/v1/labels");
    assert_eq!(
        v,
        json!({"status": "success", "data": ["__name__", "code", "job"]})
    );
    let v = a.get_json(None, "/api/v1/label/job/values");
    assert_eq!(v, json!({"status": "success", "data": ["api", "db"]}));
    let v = a.get_json(
        None,
        "/api/v1/label/code/values?match[]=http_requests_total{code=~\"5..\"}",
    );
    assert_eq!(v, json!({"status": "success", "data": ["500"]}));
    // time range filters series
    let v = a.get_json(
        None,
        &format!(
            "/api/v1/series?match[]=up&start={}&end={}",
            t0 / 1000 + 100,
            t0 / 1000 + 200
        ),
    );
    assert_eq!(v, json!({"status": "success", "data": []}));
    // POST form works like GET
    let r = c
        .post(a.url("/api/v1/series"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("match%5B%5D=up")
        .send()
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().unwrap()["data"],
        json!([{"__name__": "up", "job": "db"}])
    );
    // errors in Prometheus's envelope
    let r = c.get(a.url("/api/v1/series")).send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<serde_json::Value>().unwrap(),
        json!({"status": "error", "errorType": "bad_data", "error": "no match[] parameter provided"})
    );
    let r = c.get(a.url("/api/v1/series?match[]=up{")).send().unwrap();
    assert_eq!(r.status(), 400);

    // raw samples; the staleness marker is stored but not exported
    let e = a.export(None, "{__name__=~\"http_requests_total|up\"}");
    assert_eq!(e.len(), 3);
    assert_eq!(
        e[&json!({"__name__": "http_requests_total", "code": "200", "job": "api"}).to_string()],
        vec![(t0, 1.0), (t0 + 15_000, 2.0)]
    );
    assert_eq!(
        e[&json!({"__name__": "up", "job": "db"}).to_string()],
        vec![(t0, 1.0)]
    );

    // remote write 2.0 on the same path
    let mut body = Vec::new();
    argus_ingest::remote_write::encode_v2(
        &[ts("v2_metric", &[("a", "b")], &[(t0, 7.0)])],
        &mut body,
    );
    let r = a.post_write(
        None,
        body,
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    );
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Samples-Written"],
        "1"
    );
    assert_eq!(
        a.export(None, "v2_metric").values().next().unwrap(),
        &vec![(t0, 7.0)]
    );

    // self-metrics
    let m = c.get(a.url("/metrics")).send().unwrap().text().unwrap();
    assert!(
        m.contains("argus_tsdb_samples_appended_total{tenant=\"anonymous\"} 6"),
        "{m}"
    );
    assert!(
        m.contains("argus_tsdb_head_series{tenant=\"anonymous\"} 4"),
        "{m}"
    );
    assert!(
        m.contains(
            "argus_http_request_duration_seconds_count{code=\"204\",handler=\"/api/v1/write\"} 2"
        ),
        "{m}"
    );
    assert!(
        m.contains("argus_wal_fsyncs_total{tenant=\"anonymous\"}"),
        "{m}"
    );
    // The text format 0.0.4 unless OpenMetrics is asked for, as
    // Prometheus's scrapes do: then its `# EOF` and family names without
    // `_total` in HELP and TYPE.
    let r = c.get(a.url("/metrics")).send().unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(!r.text().unwrap().contains("# EOF"));
    let r = c
        .get(a.url("/metrics"))
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let om = r.text().unwrap();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(
        om.contains("# TYPE argus_tsdb_samples_appended counter\n"),
        "{om}"
    );
    assert!(
        om.contains("argus_tsdb_samples_appended_total{tenant=\"anonymous\"} 6"),
        "{om}"
    );

    // SIGTERM: clean exit, data still there after restart
    assert_eq!(a.stop(), Some(0));
    a.spawn();
    assert_eq!(a.export(None, "{__name__=~\".+\"}").len(), 4);
}

#[test]
fn tenants_never_see_each_others_data() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let t0 = 1_700_000_000_000;
    assert_eq!(
        a.write_v1(Some("team-a"), &[ts("up", &[("job", "x")], &[(t0, 1.0)])])
            .status(),
        204
    );
    assert_eq!(
        a.write_v1(
            Some("team-b"),
            &[ts("up", &[("job", "x")], &[(t0, 0.0), (t0 + 1, 5.0)])]
        )
        .status(),
        204
    );
    assert_eq!(
        a.export(Some("team-a"), "up").values().next().unwrap(),
        &vec![(t0, 1.0)]
    );
    assert_eq!(
        a.export(Some("team-b"), "up").values().next().unwrap(),
        &vec![(t0, 0.0), (t0 + 1, 5.0)]
    );
    assert!(a.export(None, "up").is_empty());
    assert_eq!(
        a.get_json(Some("team-c"), "/api/v1/labels")["data"],
        json!([])
    );
    let r = client()
        .get(a.url("/api/v1/labels"))
        .header("X-Scope-OrgID", "../etc")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("X-Scope-OrgID"));
}

#[test]
fn multitenancy_required_refuses_requests_without_org_id() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "multitenancy: required\n");
    let r = a.write_v1(None, &[ts("up", &[], &[(1, 1.0)])]);
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("X-Scope-OrgID"));
    assert_eq!(
        a.write_v1(Some("t1"), &[ts("up", &[], &[(1, 1.0)])])
            .status(),
        204
    );
}

#[test]
fn metadata_and_grafana_endpoints() {
    use argus_ingest::remote_write::v1;
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let req = v1::WriteRequest {
        metadata: vec![v1::MetricMetadata {
            r#type: v1::MetricType::Counter as i32,
            metric_family_name: "http_requests_total".into(),
            help: "Requests served.".into(),
            unit: String::new(),
        }],
        ..Default::default()
    };
    let mut body = Vec::new();
    argus_ingest::remote_write::encode_message(&req, &mut body);
    assert_eq!(
        a.post_write(Some("m"), body, "application/x-protobuf")
            .status(),
        204
    );
    assert_eq!(
        a.get_json(Some("m"), "/api/v1/metadata"),
        json!({"status": "success", "data": {"http_requests_total": [{"type": "counter", "help": "Requests served.", "unit": ""}]}})
    );
    assert_eq!(
        a.get_json(Some("m"), "/api/v1/metadata?metric=nope"),
        json!({"status": "success", "data": {}})
    );
    assert_eq!(
        a.get_json(Some("other"), "/api/v1/metadata")["data"],
        json!({})
    );
    assert_eq!(
        a.get_json(None, "/api/v1/query_exemplars?query=up&start=1&end=2")["data"],
        json!([])
    );
    assert_eq!(
        a.get_json(None, "/api/v1/rules")["data"],
        json!({"groups": []})
    );
}
