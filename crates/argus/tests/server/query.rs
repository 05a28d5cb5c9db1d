use crate::harness::*;

#[test]
fn query_api_answers_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let t0 = 1_700_000_000_000i64;
    let samples: Vec<(i64, f64)> = (0..20)
        .map(|i| (t0 + i * 15_000, (i * 10) as f64))
        .collect();
    assert_eq!(
        a.write_v1(
            None,
            &[
                ts("reqs_total", &[("job", "api"), ("code", "200")], &samples),
                ts(
                    "reqs_total",
                    &[("job", "api"), ("code", "500")],
                    &samples[..10]
                )
            ]
        )
        .status(),
        204
    );
    let c = client();
    let get = |path: &str, q: &[(&str, &str)]| -> (u16, String) {
        let r = c.get(a.url(path)).query(q).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let t = format!("{}", (t0 + 19 * 15_000) / 1000);
    let (s, body) = get(
        "/api/v1/query",
        &[
            ("query", "sum by (job) (rate(reqs_total[1m]))"),
            ("time", &t),
        ],
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"job":"api"}},"value":[{t},"0.6666666666666666"]}}]}}}}"#
        )
    );
    let (s, body) = get(
        "/api/v1/query_range",
        &[
            ("query", "reqs_total{code=\"500\"} * 2"),
            ("start", &format!("{}", t0 / 1000)),
            ("end", &format!("{}", t0 / 1000 + 30)),
            ("step", "15s"),
        ],
    );
    assert_eq!(s, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["resultType"], "matrix");
    assert_eq!(
        v["data"]["result"][0]["metric"],
        serde_json::json!({"code": "500", "job": "api"})
    );
    assert_eq!(
        v["data"]["result"][0]["values"],
        serde_json::json!([
            [t0 / 1000, "0"],
            [t0 / 1000 + 15, "20"],
            [t0 / 1000 + 30, "40"]
        ])
    );
    // scalars and strings
    let (_, body) = get("/api/v1/query", &[("query", "1 + 1"), ("time", "100")]);
    assert_eq!(
        body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[100,"2"]}}"#
    );
    // errors
    let (s, body) = get("/api/v1/query", &[("query", "sum(")]);
    assert_eq!(s, 400);
    assert!(
        body.starts_with(r#"{"status":"error","errorType":"bad_data","error":"#),
        "{body}"
    );
    let (s, body) = get(
        "/api/v1/query_range",
        &[
            ("query", "up"),
            ("start", "10"),
            ("end", "5"),
            ("step", "1"),
        ],
    );
    assert_eq!(
        (s, body.as_str()),
        (
            400,
            r#"{"status":"error","errorType":"bad_data","error":"end timestamp must not be before start time"}"#
        )
    );
    let (s, _) = get(
        "/api/v1/query",
        &[
            ("query", "reqs_total{job=\"api\"} + on(job) reqs_total"),
            ("time", &t),
        ],
    );
    assert_eq!(s, 422, "many-to-many matching is an execution error");
    // format / parse / status
    let (s, body) = get(
        "/api/v1/format_query",
        &[("query", "sum(rate(x[5m]))by(job)")],
    );
    assert_eq!(
        (s, body.as_str()),
        (
            200,
            r#"{"status":"success","data":"sum by (job) (rate(x[5m]))"}"#
        )
    );
    let (s, body) = get("/api/v1/parse_query", &[("query", "up")]);
    assert_eq!(s, 200, "{body}");
    let (s, body) = get("/api/v1/status/buildinfo", &[]);
    assert!(s == 200 && body.contains("\"version\""), "{body}");
    let (s, body) = get("/api/v1/status/runtimeinfo", &[]);
    assert!(
        s == 200 && body.contains("\"storageRetention\":\"15d\""),
        "{body}"
    );
}
