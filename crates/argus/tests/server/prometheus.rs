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
    // Long enough that every series compared below started before the first
    // window opens: Prometheus 2.42 extrapolates rate() at a counter's very
    // start differently from current Prometheus (which Argus follows).
    std::thread::sleep(Duration::from_secs(22));
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
            break;
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
    compare_queries(&a, pport, t1);
}

/// Representative queries whose results must match Prometheus's.
const QUERIES: &[&str] = &[
    "up",
    "argus_tsdb_head_series",
    "rate(argus_http_request_duration_seconds_count[5s])",
    "irate(argus_http_request_duration_seconds_count[5s])",
    "increase(argus_ingest_samples_received_total[5s])",
    "sum by (handler) (rate(argus_http_request_duration_seconds_count[5s]))",
    "sum without (code) (rate(argus_http_request_duration_seconds_sum[4s]))",
    "histogram_quantile(0.9, sum by (le) (rate(argus_http_request_duration_seconds_bucket[5s])))",
    "histogram_quantile(0.5, sum by (le, handler) (rate(argus_http_request_duration_seconds_bucket[5s])))",
    // Over sums of durations: request counts tie (two handlers polled as
    // often), and which of tied series topk keeps is not specified.
    "topk(3, argus_http_request_duration_seconds_sum)",
    "bottomk(2, argus_http_request_duration_seconds_sum)",
    "count by (job) ({__name__=~\"argus_.*\"})",
    "max_over_time(scrape_duration_seconds[5s])",
    "min_over_time(scrape_samples_scraped[5s])",
    "avg_over_time(argus_wal_bytes[5s])",
    "rate(argus_http_request_duration_seconds_count[5s] offset 2s)",
    "argus_wal_bytes offset 1s",
    "deriv(argus_wal_bytes[5s])",
    "delta(argus_wal_bytes[5s])",
    "changes(argus_wal_fsyncs_total[5s])",
    "resets(argus_wal_fsyncs_total[5s])",
    "max_over_time(rate(argus_ingest_samples_received_total[3s])[5s:1s])",
    "{__name__=~\"argus_tsdb_.*\", tenant=~\"anon.*\"}",
    "sum(argus_http_request_duration_seconds_bucket) by (le)",
    "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
    "quantile(0.5, argus_http_request_duration_seconds_count)",
    "stddev(argus_http_request_duration_seconds_count)",
    "count_values(\"v\", up)",
    "timestamp(up)",
    "clamp_max(argus_tsdb_head_series, 10)",
    "up == 1",
    "argus_tsdb_head_series > bool 5",
    "argus_tsdb_head_series and on (instance) up",
    "argus_http_request_duration_seconds_count / ignoring (le) group_left argus_http_request_duration_seconds_sum",
    "predict_linear(argus_wal_bytes[5s], 10)",
    "scalar(sum(up)) * 2",
    "absent(nonexistent_metric)",
];

fn matrix_of(v: &serde_json::Value) -> BTreeMap<String, Vec<(f64, String)>> {
    let mut out = BTreeMap::new();
    for s in v["data"]["result"].as_array().unwrap() {
        let vals = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_str().unwrap().to_string()))
            .collect();
        out.insert(s["metric"].to_string(), vals);
    }
    out
}

fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
        _ => false,
    }
}

fn compare_queries(a: &Argus, pport: u16, t1: f64) {
    let c = client();
    let (start, end) = (format!("{:.3}", t1 - 6.0), format!("{t1:.3}"));
    let mut empty = Vec::new();
    for q in QUERIES {
        let params = [
            ("query", *q),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", "1"),
        ];
        let prom: serde_json::Value = c
            .get(format!("http://127.0.0.1:{pport}/api/v1/query_range"))
            .query(&params)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let argus: serde_json::Value = c
            .get(a.url("/api/v1/query_range"))
            .query(&params)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(prom["status"], "success", "prometheus failed {q}: {prom}");
        assert_eq!(argus["status"], "success", "argus failed {q}: {argus}");
        let (p, g) = (matrix_of(&prom), matrix_of(&argus));
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            g.keys().collect::<Vec<_>>(),
            "series differ for {q}"
        );
        for (k, pv) in &p {
            let gv = &g[k];
            assert_eq!(
                pv.len(),
                gv.len(),
                "{q}: {k}: prometheus {pv:?} argus {gv:?}"
            );
            for (x, y) in pv.iter().zip(gv) {
                if !(x.0 == y.0 && same_value(&x.1, &y.1)) {
                    let sel =
                        "argus_http_request_duration_seconds_count{handler=\"/metrics\"}[20s]";
                    let raw = prom_matrix(pport, sel, t1);
                    let araw = a.export(
                        None,
                        "argus_http_request_duration_seconds_count{handler=\"/metrics\"}",
                    );
                    panic!("{q}: {k}: prometheus {pv:?} argus {gv:?}\nraw prom {raw:?}\nraw argus {araw:?}");
                }
            }
        }
        if p.is_empty() {
            empty.push(*q);
        }
    }
    assert!(empty.len() <= 1, "queries without data: {empty:?}");
    eprintln!(
        "{} queries identical in argus and prometheus",
        QUERIES.len()
    );
}
