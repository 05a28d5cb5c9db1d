//! A real Prometheus (Debian's package) scrapes Argus's own /metrics and
//! remote-writes what it scraped to Argus; the raw samples must match.

use crate::harness::*;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Prom(Child);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prom_matrix(port: u16, query: &str, time: f64) -> BTreeMap<String, Vec<(i64, f64)>> {
    let r: serde_json::Value = client()
        .get(format!("http://127.0.0.1:{port}/api/v1/query"))
        .query(&[("query", query), ("time", &format!("{time:.3}"))])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["status"], "success", "{r}");
    let mut out = BTreeMap::new();
    for s in r["data"]["result"].as_array().unwrap() {
        let samples = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    (p[0].as_f64().unwrap() * 1000.0).round() as i64,
                    p[1].as_str().unwrap().parse::<f64>().unwrap(),
                )
            })
            .collect();
        out.insert(s["metric"].to_string(), samples);
    }
    out
}

#[test]
fn prometheus_remote_write_matches_what_prometheus_stored() {
    if !have("prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(dir.path(), "");
    let pport = free_port();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: argus\n    static_configs:\n      - targets: ['127.0.0.1:{ap}']\nremote_write:\n  - url: http://127.0.0.1:{ap}/api/v1/write\n    queue_config:\n      batch_send_deadline: 1s\n      max_samples_per_send: 2000\n",
            ap = a.port
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _p = Prom(
        Command::new("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{pport}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    // let it scrape for a while
    std::thread::sleep(Duration::from_secs(8));
    let t1 = now_ms() as f64 / 1000.0 - 1.0;
    let window = 6.0;
    let want = prom_matrix(
        pport,
        &format!("{{__name__=~\".+\"}}[{}s]", window as i64),
        t1,
    );
    assert!(
        want.len() > 20,
        "prometheus scraped argus: {} series",
        want.len()
    );
    let want_samples: usize = want.values().map(Vec::len).sum();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut got = a.export(None, "{__name__=~\".+\"}");
        let lo = ((t1 - window) * 1000.0).round() as i64;
        let hi = (t1 * 1000.0).round() as i64;
        for v in got.values_mut() {
            v.retain(|x| x.0 >= lo && x.0 <= hi);
        }
        got.retain(|_, v| !v.is_empty());
        let got_samples: usize = got.values().map(Vec::len).sum();
        if got == want {
            eprintln!(
                "argus and prometheus agree on {} series, {got_samples} samples",
                got.len()
            );
            return;
        }
        if Instant::now() > deadline {
            let missing: Vec<_> = want
                .keys()
                .filter(|k| !got.contains_key(*k))
                .take(5)
                .collect();
            let differing: Vec<_> = want
                .iter()
                .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
                .take(3)
                .collect();
            panic!(
                "argus has {} series / {got_samples} samples, prometheus {} / {want_samples}; missing {missing:?}; differing {differing:?}",
                got.len(),
                want.len()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
