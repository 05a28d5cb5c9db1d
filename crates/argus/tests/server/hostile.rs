use crate::harness::*;
use argus_model::{Label, Labels, TimeSeries};

fn still_serving(a: &Argus) {
    assert_eq!(
        a.write_v1(None, &[ts("alive", &[], &[(now_ms(), 1.0)])])
            .status(),
        204
    );
}

#[test]
fn malformed_and_hostile_bodies_get_4xx_and_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "ingest:\n  max_request_bytes: 10000000\n  max_decompressed_bytes: 20000000\n",
    );
    // garbage bytes
    let r = a.post_write(
        None,
        b"\x00\x01garbage-not-snappy\xff\xff".to_vec(),
        "application/x-protobuf",
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("snappy"));
    // valid snappy, invalid protobuf
    let r = a.post_write(
        None,
        snap::raw::Encoder::new()
            .compress_vec(b"\xff\xff\xff\xff\xff")
            .unwrap(),
        "application/x-protobuf",
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("protobuf"));
    // zip-bomb-like snappy: header claims 4 GiB
    let r = a.post_write(
        None,
        vec![0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
        "application/x-protobuf",
    );
    assert_eq!(r.status(), 413);
    // body over the limit: 413 (the server may close the connection before the client has sent it all)
    let r = client()
        .post(a.url("/api/v1/write"))
        .header("Content-Type", "application/x-protobuf")
        .body(vec![0u8; 10_000_001])
        .send();
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(
            format!("{e:?}").contains("BrokenPipe") || format!("{e:?}").contains("ConnectionReset"),
            "{e:?}"
        ),
    }
    // wrong content type
    let r = a.post_write(None, vec![], "application/json");
    assert_eq!(r.status(), 415);
    still_serving(&a);

    // huge label value: rejected by the length limit, named in the answer
    let big = "x".repeat(100_000);
    let r = a.write_v1(
        None,
        &[
            ts("big", &[("v", &big)], &[(now_ms(), 1.0)]),
            ts("ok_metric", &[], &[(now_ms(), 1.0)]),
        ],
    );
    assert_eq!(r.status(), 400);
    let text = r.text().unwrap();
    assert!(text.contains("longer than the limit"), "{text}");
    assert!(text.contains("1 of 2 samples rejected"), "{text}");
    assert_eq!(
        a.export(None, "ok_metric").len(),
        1,
        "the valid rest was stored"
    );

    // 1M labels in one series (the body is ~8 MB)
    let mut labels: Vec<Label> = (0..1_000_000)
        .map(|i| Label::new(format!("l{i:07}"), "v"))
        .collect();
    labels.push(Label::new("__name__", "many"));
    labels.sort();
    let s = TimeSeries {
        labels: Labels::from_sorted_unchecked(labels),
        samples: vec![argus_model::Sample::new(now_ms(), 1.0)],
        ..Default::default()
    };
    let r = a.write_v1(None, &[s]);
    assert!(
        r.status() == 400 || r.status() == 429 || r.status() == 413,
        "{}",
        r.status()
    );
    assert!(a.export(None, "many").is_empty());

    // invalid and unsorted labels: that series rejected with a reason, rest kept
    use argus_ingest::remote_write::v1;
    let lbl = |n: &str, v: &str| v1::Label {
        name: n.into(),
        value: v.into(),
    };
    let sample = vec![v1::Sample {
        value: 1.0,
        timestamp: 1,
    }];
    let req = v1::WriteRequest {
        timeseries: vec![
            v1::TimeSeries {
                labels: vec![lbl("__name__", "a"), lbl("0bad", "x")],
                samples: sample.clone(),
                ..Default::default()
            },
            v1::TimeSeries {
                labels: vec![lbl("__name__", "b"), lbl("z", "1"), lbl("a", "2")],
                samples: sample.clone(),
                ..Default::default()
            },
            v1::TimeSeries {
                labels: vec![lbl("__name__", "fine")],
                samples: sample,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let mut body = Vec::new();
    argus_ingest::remote_write::encode_message(&req, &mut body);
    let r = a.post_write(None, body, "application/x-protobuf");
    assert_eq!(r.status(), 400);
    let text = r.text().unwrap();
    assert!(text.contains("2 of 3 samples rejected"), "{text}");
    assert!(text.contains("not sorted"), "{text}");
    assert_eq!(a.export(None, "fine").len(), 1);
    still_serving(&a);
}

#[test]
fn limits_answer_429() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "limits:\n  max_series: 3\n  max_labels_per_series: 4\noverrides:\n  slow:\n    ingestion_rate: 10\n    ingestion_burst: 10\n",
    );
    let t = now_ms();
    let series: Vec<_> = (0..5)
        .map(|i| ts("m", &[("i", &i.to_string())], &[(t, 1.0)]))
        .collect();
    let r = a.write_v1(None, &series);
    assert_eq!(r.status(), 429);
    assert!(r.text().unwrap().contains("active series"));
    assert_eq!(a.export(None, "m").len(), 3);
    let r = a.write_v1(
        None,
        &[ts(
            "m",
            &[("i", "0"), ("a", "1"), ("b", "2"), ("c", "3")],
            &[(t, 1.0)],
        )],
    );
    assert_eq!(r.status(), 429);
    // rate limit: 10 samples/s burst 10
    let batch: Vec<_> = (0..8)
        .map(|i| ts("r", &[("i", &i.to_string())], &[(t, 1.0)]))
        .collect();
    let r = a.write_v1(Some("slow"), &batch);
    assert_eq!(r.status(), 204, "{}", r.text().unwrap());
    let r = a.write_v1(Some("slow"), &batch);
    assert_eq!(r.status(), 429);
    assert!(r.text().unwrap().contains("rate limit"));
    // other tenants unaffected
    assert_eq!(a.write_v1(Some("fast"), &batch[..3]).status(), 204);
    let m = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains(
            "argus_ingest_samples_rejected_total{reason=\"rate_limited\",tenant=\"slow\"} 8"
        ),
        "{m}"
    );
    // The flat keys (the shape before per-signal sections) still work, with
    // one deprecation warning naming where they are.
    let log = a.log_text();
    assert_eq!(
        log.matches("deprecated: metrics limits").count(),
        1,
        "{log}"
    );
    assert!(log.contains("`limits`, `overrides.slow`"), "{log}");
}

/// The per-signal shape: `limits.metrics` applies to every tenant, an
/// override's `metrics:` keys replace only themselves; no warning.
#[test]
fn per_signal_limits_apply_to_metrics_writes() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "limits:\n  metrics: {max_series: 2, max_labels_per_series: 3}\n  logs: {ingestion_rate_bytes: 1}\n\
         overrides:\n  big:\n    metrics: {max_series: 10}\n",
    );
    let t = now_ms();
    let series: Vec<_> = (0..5)
        .map(|i| ts("m", &[("i", &i.to_string())], &[(t, 1.0)]))
        .collect();
    assert_eq!(a.write_v1(None, &series).status(), 429);
    assert_eq!(a.export(None, "m").len(), 2);
    assert_eq!(a.write_v1(Some("big"), &series).status(), 204);
    // max_labels_per_series comes from limits.metrics for `big` too.
    let wide = ts("m", &[("i", "9"), ("a", "1"), ("b", "2")], &[(t, 1.0)]);
    assert_eq!(a.write_v1(Some("big"), &[wide]).status(), 429);
    assert!(!a.log_text().contains("deprecated"), "{}", a.log_text());
}

/// Queries nested deeper than any thread's stack: answered up to the
/// documented depth (as Prometheus answers them), `400 bad_data` naming the
/// limit beyond it, over GET and POST, and the server keeps serving.
#[test]
fn deeply_nested_queries_are_answered_or_refused_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let c = client();
    let parens = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let get = |path: &str, q: &str| c.get(a.url(path)).query(&[("query", q)]).send();
    let post = |path: &str, q: &str| c.post(a.url(path)).form(&[("query", q)]).send();
    let refused_at = |r: reqwest::blocking::Response, limit: usize| {
        assert_eq!(r.status(), 400);
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["errorType"], "bad_data", "{body}");
        let msg = body["error"].as_str().unwrap();
        assert!(
            msg.contains(&format!("more than {limit} levels deep")),
            "{msg}"
        );
    };
    let refused = |r| refused_at(r, 10_000);

    // The 10 KB query that used to abort the process, over GET and POST.
    for r in [
        get("/api/v1/query", &parens(5_000)),
        post("/api/v1/query", &parens(5_000)),
    ] {
        let r = r.unwrap();
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["data"]["result"][1], "1", "{body}");
    }
    let r = post("/api/v1/parse_query", &parens(5_000)).unwrap();
    assert_eq!(r.status(), 200);
    // Formatting puts each level on a line of its own, indented: 1,000 levels.
    let r = post("/api/v1/format_query", &parens(1_000)).unwrap();
    assert_eq!(r.status(), 200);
    refused_at(post("/api/v1/format_query", &parens(5_000)).unwrap(), 1_000);

    // Deeper than the limit, up to a million levels, in every shape.
    let million = 1_000_000;
    // The longest URL the HTTP client builds is 64 KB: 10,001 levels fit.
    refused(get("/api/v1/query", &parens(10_001)).unwrap());
    for q in [
        parens(million),
        format!("{}1", "-".repeat(million)),
        format!("1{}", "+1".repeat(million)),
        format!("up{}", "[1m:1m]".repeat(million)),
        format!("up{}", " offset 1m".repeat(million)),
        format!("up{}", " @ 1".repeat(million)),
    ] {
        refused(post("/api/v1/query", &q).unwrap());
    }
    let r = c
        .post(a.url("/api/v1/query_range"))
        .form(&[
            ("query", parens(million).as_str()),
            ("start", "0"),
            ("end", "60"),
            ("step", "15"),
        ])
        .send()
        .unwrap();
    refused(r);
    refused_at(
        post("/api/v1/format_query", &parens(million)).unwrap(),
        1_000,
    );
    refused(post("/api/v1/parse_query", &parens(million)).unwrap());
    let r = c
        .post(a.url("/api/v1/series"))
        .form(&[(
            "match[]",
            format!("{}up{}", "(".repeat(million), ")".repeat(million)),
        )])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    // A million levels over GET is a 6 MB request line, sent by hand: refused
    // by the HTTP server's limit on a request head (or the connection closed).
    {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", a.port)).unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let line = format!(
            "GET /api/v1/query?query={}1{} HTTP/1.1\r\nHost: argus\r\n\r\n",
            "%28".repeat(million),
            "%29".repeat(million)
        );
        let _ = conn.write_all(line.as_bytes());
        let mut head = [0u8; 12];
        if conn.read_exact(&mut head).is_ok() {
            let status = String::from_utf8_lossy(&head[9..12]).to_string();
            assert!(status.starts_with('4'), "{status}");
        }
    }
    still_serving(&a);
    let body = a.get_json(None, "/api/v1/query?query=alive");
    assert_eq!(body["data"]["result"][0]["value"][1], "1", "{body}");
}

/// Garbage, bombs and deep nesting on every logs endpoint: a 4xx naming the
/// problem, never a crash; the server still takes and answers logs.
#[test]
fn hostile_log_bodies_get_4xx_and_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "ingest:\n  max_request_bytes: 1000000\n  max_decompressed_bytes: 2000000\n",
    );
    let c = client();
    let post = |path: &str, ct: &str, enc: Option<&str>, body: Vec<u8>| {
        let mut r = c.post(a.url(path)).header("Content-Type", ct);
        if let Some(e) = enc {
            r = r.header("Content-Encoding", e);
        }
        let r = r.body(body).send().unwrap();
        let status = r.status().as_u16();
        (status, r.text().unwrap_or_default())
    };
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    // A gzip bomb: 50 MB of zeros in ~50 KB.
    let bomb = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 50_000_000]).unwrap();
        e.finish().unwrap()
    };
    let cases: Vec<(&str, &str, Option<&str>, Vec<u8>)> = vec![
        (
            "/loki/api/v1/push",
            "application/x-protobuf",
            None,
            b"\x00\x01garbage\xff".to_vec(),
        ),
        (
            "/loki/api/v1/push",
            "application/json",
            None,
            b"{\"streams\": [".to_vec(),
        ),
        ("/loki/api/v1/push", "application/json", None, deep.clone()),
        (
            "/loki/api/v1/push",
            "application/json",
            Some("gzip"),
            bomb.clone(),
        ),
        (
            "/loki/api/v1/push",
            "application/json",
            None,
            br#"{"streams":[{"stream":{"a b":"x"},"values":[["1","x"]]}]}"#.to_vec(),
        ),
        (
            "/v1/logs",
            "application/x-protobuf",
            None,
            b"\xff\xff\xff\xff".to_vec(),
        ),
        ("/v1/logs", "application/json", None, deep.clone()),
        (
            "/otlp/v1/logs",
            "application/json",
            Some("gzip"),
            bomb.clone(),
        ),
        ("/_bulk", "application/x-ndjson", None, deep.clone()),
        (
            "/_bulk",
            "application/x-ndjson",
            None,
            b"{\"index\":{}}\nnot json\n".to_vec(),
        ),
        ("/api/v1/logs/jsonl", "application/json", None, deep),
    ];
    for (path, ct, enc, body) in cases {
        let (status, text) = post(path, ct, enc, body);
        // Elasticsearch answers a bad document per item, with a 200.
        let per_item = path == "/_bulk" && status == 200 && text.contains("\"errors\":true");
        assert!(
            (400..500).contains(&status) || per_item,
            "{path} ({ct}): {status} {text}"
        );
        assert!(!text.is_empty(), "{path}: a 4xx names the problem");
    }
    // Still serving: a push is stored and read back.
    let t = now_ms() * 1_000_000;
    let body = format!(
        r#"{{"streams":[{{"stream":{{"job":"alive"}},"values":[["{t}","still here"]]}}]}}"#
    );
    let (status, text) = post(
        "/loki/api/v1/push",
        "application/json",
        None,
        body.into_bytes(),
    );
    assert_eq!(status, 204, "{text}");
    let v: serde_json::Value = c
        .get(a.url("/loki/api/v1/query_range"))
        .query(&[
            ("query", r#"{job="alive"}"#),
            ("start", &(t - 1).to_string()),
            ("end", &(t + 1).to_string()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["data"]["result"][0]["values"][0][1], "still here", "{v}");
}
