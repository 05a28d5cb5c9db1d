use crate::harness::*;
use std::time::{Duration, Instant};

#[test]
fn argus_scrapes_targets_like_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let dead = free_port();
    let a = Argus::start_with(dir.path(), |port| {
        format!(
            "scrape_configs:\n  - job_name: self\n    scrape_interval: 500ms\n    scrape_timeout: 400ms\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n        labels: {{env: test}}\n  - job_name: dead\n    scrape_interval: 200ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: ['127.0.0.1:{dead}']\n"
        )
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let up = a.export(None, "up");
        let self_up = up.iter().find(|(k, _)| k.contains("\"job\":\"self\""));
        let dead_up = up.iter().find(|(k, _)| k.contains("\"job\":\"dead\""));
        if let (Some(s), Some(d)) = (self_up, dead_up) {
            if s.1.len() >= 2 && d.1.len() >= 2 {
                assert!(
                    s.0.contains("\"env\":\"test\"")
                        && s.0
                            .contains(&format!("\"instance\":\"127.0.0.1:{}\"", a.port)),
                    "{}",
                    s.0
                );
                assert!(s.1.iter().all(|x| x.1 == 1.0));
                assert!(d.1.iter().all(|x| x.1 == 0.0));
                break;
            }
        }
        assert!(Instant::now() < deadline, "no up series after 20s: {up:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // scraped series carry target labels; synthetic series exist
    let scraped = a.export(None, "argus_tsdb_head_series");
    assert!(
        scraped.keys().any(|k| k.contains("\"job\":\"self\"")),
        "{scraped:?}"
    );
    assert!(!a.export(None, "scrape_samples_scraped").is_empty());
    assert!(!a.export(None, "scrape_duration_seconds").is_empty());
    let m = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(m.contains("argus_scrape_scrapes_total"), "{m}");
}

/// A tiny HTTP server answering every request with `body` as a
/// Prometheus text exposition; returns its port.
fn serve_metrics(body: String) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

fn scrape_config(overrides: &str, target: u16) -> String {
    format!(
        "overrides:\n  scraped:\n{overrides}scrape_configs:\n  - job_name: many\n    tenant: scraped\n    scrape_interval: 200ms\n    scrape_timeout: 150ms\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
    )
}

fn wait_for_metric(a: &Argus, series: &str, at_least: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while crate::blocks::metric(a, series) < at_least {
        assert!(
            Instant::now() < deadline,
            "{series} never reached {at_least}; log:\n{}",
            a.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A target producing samples faster than its tenant's ingestion rate is
/// limited as remote write is: the same per-tenant bucket, the same
/// `rate_limited` counter; the refused scrapes are counted by the scraper
/// and `up` stays 1 (the target answered).
#[test]
fn scraped_samples_are_rate_limited_like_remote_write() {
    use crate::blocks::metric;
    let body: String = (0..500).map(|i| format!("m{{i=\"{i}\"}} {i}\n")).collect();
    let target = serve_metrics(body);
    let dir = tempfile::tempdir().unwrap();
    // 505 samples a scrape (500 + 5 report series) every 200ms against
    // 100 samples/s with a burst of 1000: two scrapes fit, then about one
    // in 25.
    let a = Argus::start(
        dir.path(),
        &scrape_config(
            "    ingestion_rate: 100\n    ingestion_burst: 1000\n",
            target,
        ),
    );
    wait_for_metric(
        &a,
        "argus_scrape_sink_errors_total{job=\"many\",reason=\"rate_limited\"}",
        3.0,
    );
    let rejected = metric(
        &a,
        "argus_ingest_samples_rejected_total{reason=\"rate_limited\",tenant=\"scraped\"}",
    );
    assert!(rejected >= 3.0 * 505.0, "{rejected}");
    assert_eq!(
        rejected % 505.0,
        0.0,
        "whole scrapes are refused: {rejected}"
    );
    // Read while no scrape lands in between (one gets through about every 5s).
    let (scrapes, stored, samples, received) = loop {
        let received = metric(
            &a,
            "argus_ingest_samples_received_total{tenant=\"scraped\"}",
        );
        let scrapes = metric(&a, "argus_scrape_scrapes_total{job=\"many\"}");
        let up = a.export(Some("scraped"), "up");
        let stored: Vec<f64> = up.values().flatten().map(|x| x.1).collect();
        let m = a.export(Some("scraped"), "m");
        assert_eq!(m.len(), 500);
        let samples: usize = m.values().map(|v| v.len()).sum();
        if received
            == metric(
                &a,
                "argus_ingest_samples_received_total{tenant=\"scraped\"}",
            )
        {
            break (scrapes, stored, samples, received);
        }
    };
    assert!(!stored.is_empty());
    assert!(
        (stored.len() as f64) < scrapes - 2.0,
        "{} of {scrapes} scrapes stored",
        stored.len()
    );
    assert!(stored.iter().all(|v| *v == 1.0), "{stored:?}");
    assert_eq!(samples, 500 * stored.len(), "stored scrapes are whole");
    // received counts what passed the limit, refused scrapes not.
    assert_eq!(received, 505.0 * stored.len() as f64);
    // One bucket per tenant, whatever the entry point: a remote write of
    // more than a scrape's worth is refused too.
    let t = now_ms();
    let batch: Vec<_> = (0..600)
        .map(|i| ts("pushed", &[("i", &i.to_string())], &[(t, 1.0)]))
        .collect();
    let r = a.write_v1(Some("scraped"), &batch);
    assert_eq!(r.status(), 429);
    assert!(r.text().unwrap().contains("rate limit"));
    assert!(
        a.log_text().contains("writing scrape results failed"),
        "{}",
        a.log_text()
    );
}

/// Scraped series with a too-long label value are rejected with the same
/// reason as pushed ones; the scrape's other series are stored.
#[test]
fn scraped_series_with_too_long_labels_are_rejected_like_remote_write() {
    use crate::blocks::metric;
    let long = "x".repeat(100);
    let target = serve_metrics(format!("ok{{path=\"/a\"}} 1\nlong{{path=\"{long}\"}} 2\n"));
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        &scrape_config("    max_label_value_length: 50\n", target),
    );
    wait_for_metric(
        &a,
        "argus_scrape_sink_errors_total{job=\"many\",reason=\"rejected\"}",
        2.0,
    );
    let series =
        "argus_ingest_samples_rejected_total{reason=\"label_too_long\",tenant=\"scraped\"}";
    let scraped = metric(&a, series);
    assert!(scraped >= 2.0, "{scraped}");
    assert!(a.export(Some("scraped"), "long").is_empty());
    assert_eq!(a.export(Some("scraped"), "ok").len(), 1);
    let up = a.export(Some("scraped"), "up");
    assert!(up.values().flatten().all(|x| x.1 == 1.0), "{up:?}");
    // The same series pushed: 400, counted under the same reason.
    let before = metric(&a, series);
    let r = a.write_v1(
        Some("scraped"),
        &[ts("long", &[("path", &long)], &[(now_ms(), 1.0)])],
    );
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .unwrap()
        .contains("longer than the limit of 50 bytes"));
    // scrapes keep adding to it meanwhile: at least the pushed sample
    assert!(metric(&a, series) >= before + 1.0);
}
