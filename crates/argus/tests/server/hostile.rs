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
}
