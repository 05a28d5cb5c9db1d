//! Differential test: a real Prometheus (Debian's package) and Argus's
//! ScrapeManager scrape the same target with the same config. Each scraper
//! gets the same sequence of responses (told apart by User-Agent);
//! Prometheus remote-writes what it stored to a receiver here. Scrape by
//! scrape, both must produce the same series, values and staleness markers.
//!
//! Skipped when `prometheus` is not installed (fails instead with
//! `ARGUS_REQUIRE_PEERS` set), like the server's Prometheus tests.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_ingest::remote_write::{decode, DecodeLimits, Protocol};
use argus_model::{is_stale_nan, TenantId, TimeSeries};
use argus_scrape::{parse_config, ManagerOptions, ScrapeManager, ScrapeSink};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;

/// What the target answers on the n-th scrape of each scraper (the last
/// answer repeats). `None` is an HTTP 500.
const SEQUENCE: [Option<&str>; 8] = [
    Some("# TYPE a gauge\na 1\nb{x=\"1\"} 2\nc{job=\"exposed\"} 3\ndropped_x 9\n"),
    Some("a 2\nc{job=\"exposed\"} 3\n"),
    None,
    Some("a 3\nb 3\nd 3\n"),
    // A parse error after `a`: nothing stored, `a` not marked stale.
    Some("a 4\n7&-\n"),
    Some("z 1\n"),
    Some(""),
    Some("a 7\n"),
];

/// The same for the `honor` job (`/other`).
const SEQUENCE_OTHER: [Option<&str>; 2] = [
    Some("a{env=\"scraped\",job=\"own\",x_y=\"1\"} 1\nb{team=\"mine\"} 2\n"),
    Some("a{env=\"scraped\",job=\"own\",x_y=\"1\"} 1\n"),
];

/// Per (scraper, path): scrapes so far and the first request URI.
#[derive(Default)]
struct Hits(Mutex<BTreeMap<(String, String), (usize, String)>>);

async fn target(
    State(hits): State<Arc<Hits>>,
    uri: axum::http::Uri,
    h: HeaderMap,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let ua = h
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let who = ua.split('/').next().unwrap_or("").to_string();
    let n = {
        let mut m = hits.0.lock();
        let c = m
            .entry((who, uri.path().to_string()))
            .or_insert((0, uri.to_string()));
        c.0 += 1;
        c.0 - 1
    };
    let ct = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    let seq: &[Option<&str>] = if uri.path() == "/other" {
        &SEQUENCE_OTHER
    } else {
        &SEQUENCE
    };
    match seq[n.min(seq.len() - 1)] {
        Some(b) => (StatusCode::OK, ct, b.to_string()),
        None => (StatusCode::INTERNAL_SERVER_ERROR, ct, String::new()),
    }
}

#[derive(Default)]
struct Collected(Mutex<Vec<TimeSeries>>);

async fn receive(State(c): State<Arc<Collected>>, body: Bytes) -> StatusCode {
    match decode(&body, Protocol::V1, &DecodeLimits::default()) {
        Ok(req) => {
            c.0.lock().extend(req.series);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

impl ScrapeSink for Collected {
    fn append(
        &self,
        _: &TenantId,
        series: Vec<TimeSeries>,
    ) -> Result<(), argus_scrape::AppendError> {
        self.0.lock().extend(series);
        Ok(())
    }
}

/// Samples whose `job` label is one of `jobs`, grouped by timestamp (= by
/// scrape), each rendered as `labels value`; values that differ by nature
/// are masked.
fn scrapes(c: &Collected, jobs: &[&str]) -> Vec<Vec<String>> {
    let mut by_t: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for s in c.0.lock().iter() {
        if !s.labels.get("job").is_some_and(|j| jobs.contains(&j)) {
            continue;
        }
        for p in &s.samples {
            let name = s.labels.metric_name().unwrap_or("");
            let v = if is_stale_nan(p.v) {
                "STALE".to_string()
            } else if name == "scrape_duration_seconds" {
                "<duration>".to_string()
            } else if name == "scrape_series_added" {
                // Prometheus before 3.x does not advance its cache
                // iteration after failed scrapes, which changes this count
                // after a failure; Argus follows the fixed behaviour.
                "<n>".to_string()
            } else {
                p.v.to_string()
            };
            by_t.entry(p.t)
                .or_default()
                .push(format!("{} {v}", s.labels));
        }
    }
    by_t.into_values()
        .map(|mut v| {
            v.sort();
            v
        })
        .collect()
}

struct Prom(Child, std::path::PathBuf);

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn have_prometheus() -> bool {
    let ok = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ARGUS_REQUIRE_PEERS").is_err(),
            "prometheus is required (ARGUS_REQUIRE_PEERS is set)"
        );
        eprintln!("skipping: prometheus not installed");
    }
    ok
}

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_series_as_prometheus() {
    if !have_prometheus() {
        return;
    }
    let hits = Arc::new(Hits::default());
    let taddr = serve(
        Router::new()
            .route("/metrics", get(target))
            .route("/other", get(target))
            .with_state(hits.clone()),
    )
    .await;
    let prom_samples = Arc::new(Collected::default());
    let raddr = serve(
        Router::new()
            .route("/write", post(receive))
            .with_state(prom_samples.clone()),
    )
    .await;

    let yaml = format!(
        "global:
  scrape_interval: 100ms
  scrape_timeout: 80ms
scrape_configs:
  - job_name: diff
    static_configs: [{{targets: ['{taddr}'], labels: {{env: test}}}}]
    metric_relabel_configs:
      - {{source_labels: [__name__], regex: 'dropped_.*', action: drop}}
  - job_name: honor
    metrics_path: /other
    honor_labels: true
    params: {{module: [m1]}}
    static_configs: [{{targets: ['{taddr}'], labels: {{env: test, team: t1}}}}]
    relabel_configs:
      - {{target_label: __param_extra, replacement: 'x y'}}
      - {{source_labels: [__param_module], target_label: module}}
      - {{source_labels: [__address__], regex: '[^:]+:(\\d+)', target_label: port}}
    metric_relabel_configs:
      - {{source_labels: [__name__, env], separator: '@', regex: '(.*)@(.*)', target_label: combined, replacement: '${{1}}-$2'}}
      - {{action: labelmap, regex: 'x_(.*)', replacement: 'mapped_$1'}}
      - {{action: hashmod, source_labels: [__name__], modulus: 7, target_label: shard}}
      - {{action: uppercase, source_labels: [team], target_label: team_upper}}
      - {{action: labeldrop, regex: port}}
remote_write:
  - url: http://{raddr}/write
    queue_config: {{batch_send_deadline: 100ms, max_samples_per_send: 1000}}
"
    );
    let dir = std::env::temp_dir().join(format!("argus-scrape-vs-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("prometheus.yml"), &yaml).unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let _prom = Prom(child, dir.clone());

    let (global, jobs) = parse_config(&yaml).unwrap();
    let ours = Arc::new(Collected::default());
    let opts = ManagerOptions {
        skip_offset: true,
        ..Default::default()
    };
    let mgr = ScrapeManager::start_with_options(
        jobs,
        global,
        TenantId::new("t").unwrap(),
        ours.clone(),
        opts,
    );

    // One scrape more than the sequence, and one more still for Prometheus
    // so that remote write has delivered the last compared scrape whole.
    // (Prometheus 2.42 starts scraping and remote-writing after ~5 s.)
    let want = SEQUENCE.len() + 1;
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = |c: &Collected, extra| {
        scrapes(c, &["diff"]).len() >= want + extra
            && scrapes(c, &["honor", "own"]).len() >= SEQUENCE_OTHER.len() + 1 + extra
    };
    while !done(&ours, 0) || !done(&prom_samples, 1) {
        assert!(
            Instant::now() < deadline,
            "timed out; prometheus log:\n{}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mgr.stop().await;
    for (job, n) in [
        (&["diff"][..], want),
        (&["honor", "own"][..], SEQUENCE_OTHER.len() + 1),
    ] {
        let (a, p) = (scrapes(&ours, job), scrapes(&prom_samples, job));
        for i in 0..n {
            assert_eq!(
                a[i], p[i],
                "{job:?}: scrape {i} differs (left: Argus, right: Prometheus)"
            );
        }
    }
    // Same scrape URLs.
    let hits = hits.0.lock();
    for path in ["/metrics", "/other"] {
        let uri = |who: &str| {
            hits.get(&(who.to_string(), path.to_string()))
                .map(|h| h.1.clone())
        };
        assert_eq!(uri("Argus"), uri("Prometheus"), "{path}");
    }
}
