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
