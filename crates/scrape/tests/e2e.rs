//! End to end: a real HTTP target (axum on 127.0.0.1:0) whose exposition
//! changes between scrapes, a ScrapeManager with a 200ms interval, and an
//! in-memory sink.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{is_stale_nan, Labels, TenantId, TimeSeries};
use argus_scrape::{parse_config, ManagerOptions, ScrapeManager, ScrapeSink, TargetHealth};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;

#[derive(Default)]
struct Target {
    /// `None` = answer 500.
    body: Mutex<Option<String>>,
    headers: Mutex<Option<HeaderMap>>,
    hits: Mutex<u64>,
}

async fn metrics(
    State(t): State<Arc<Target>>,
    headers: HeaderMap,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    *t.headers.lock() = Some(headers);
    *t.hits.lock() += 1;
    let ct = [(
        header::CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8",
    )];
    match t.body.lock().clone() {
        Some(b) => (StatusCode::OK, ct, b),
        None => (StatusCode::INTERNAL_SERVER_ERROR, ct, "oops".into()),
    }
}

async fn serve(t: Arc<Target>) -> String {
    let app = Router::new().route("/metrics", get(metrics)).with_state(t);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr.to_string()
}

#[derive(Default)]
struct MemSink {
    batches: Mutex<Vec<(TenantId, Vec<TimeSeries>)>>,
}

impl ScrapeSink for MemSink {
    fn append(
        &self,
        tenant: &TenantId,
        series: Vec<TimeSeries>,
    ) -> Result<(), argus_scrape::AppendError> {
        self.batches.lock().push((tenant.clone(), series));
        Ok(())
    }
}

impl MemSink {
    fn len(&self) -> usize {
        self.batches.lock().len()
    }

    /// Waits for a batch after index `from` that satisfies `pred`; returns its index.
    async fn wait_for(
        &self,
        from: usize,
        what: &str,
        pred: impl Fn(&[TimeSeries]) -> bool,
    ) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            {
                let b = self.batches.lock();
                if let Some(i) = (from..b.len()).find(|&i| pred(&b[i].1)) {
                    return i;
                }
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}",
                self.batches.lock()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn batch(&self, i: usize) -> (TenantId, Vec<TimeSeries>) {
        self.batches.lock()[i].clone()
    }
}

fn find<'a>(b: &'a [TimeSeries], name: &str) -> Option<&'a TimeSeries> {
    b.iter().find(|s| s.labels.metric_name() == Some(name))
}

fn value(b: &[TimeSeries], name: &str) -> Option<f64> {
    find(b, name).map(|s| s.samples[0].v)
}

fn stale(b: &[TimeSeries], name: &str) -> bool {
    find(b, name).is_some_and(|s| is_stale_nan(s.samples[0].v))
}

/// The value of the self-metric line starting with `series`.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{series} not in\n{text}"))
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn config(addr: &str, targets: &str) -> String {
    format!(
        "global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: e2e
    tenant: team-a
    static_configs:
      - targets: [{targets}]
        labels: {{env: test}}
    metric_relabel_configs:
      - {{source_labels: [__name__], regex: 'dropped_.*', action: drop}}
# target: {addr}
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_end_to_end() {
    let target = Arc::new(Target::default());
    *target.body.lock() =
        Some("# TYPE a gauge\na 1\nb{x=\"1\"} 2\nc{job=\"exposed\"} 3\ndropped_x 9\n".into());
    let addr = serve(target.clone()).await;
    let (global, jobs) = parse_config(&config(&addr, &format!("'{addr}'"))).unwrap();
    let sink = Arc::new(MemSink::default());
    let mgr = ScrapeManager::start(
        jobs.clone(),
        global.clone(),
        TenantId::new("default").unwrap(),
        sink.clone(),
    );

    // First scrape: samples with target labels, report series, up=1.
    let i = sink
        .wait_for(0, "first scrape", |b| value(b, "up") == Some(1.0))
        .await;
    let (tenant, b) = sink.batch(i);
    assert_eq!(tenant.as_str(), "team-a");
    let tl = [("env", "test"), ("instance", addr.as_str()), ("job", "e2e")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = tl.to_vec();
        v.extend_from_slice(extra);
        l(&v)
    };
    let up = find(&b, "up").unwrap();
    assert_eq!(up.labels, with(&[("__name__", "up")]));
    let ts = up.samples[0].t;
    let a = find(&b, "a").unwrap();
    assert_eq!(a.labels, with(&[("__name__", "a")]));
    assert_eq!(a.samples[0].t, ts, "samples carry the scrape timestamp");
    assert_eq!(a.samples[0].v, 1.0);
    assert_eq!(
        find(&b, "b").unwrap().labels,
        with(&[("__name__", "b"), ("x", "1")])
    );
    // honor_labels: false renames the exposed job label.
    assert_eq!(
        find(&b, "c").unwrap().labels,
        with(&[("__name__", "c"), ("exported_job", "exposed")])
    );
    assert!(find(&b, "dropped_x").is_none());
    assert_eq!(value(&b, "scrape_samples_scraped"), Some(4.0));
    assert_eq!(
        value(&b, "scrape_samples_post_metric_relabeling"),
        Some(3.0)
    );
    assert_eq!(value(&b, "scrape_series_added"), Some(3.0));
    assert!(value(&b, "scrape_duration_seconds").unwrap() > 0.0);
    assert_eq!(b.len(), 3 + 5);

    // Request headers.
    let h = target.headers.lock().clone().unwrap();
    assert_eq!(h["accept"], argus_ingest::textparse::SCRAPE_ACCEPT_HEADER);
    assert_eq!(h["accept-encoding"], "identity");
    assert_eq!(h["x-prometheus-scrape-timeout-seconds"], "0.15");
    assert!(h["user-agent"].to_str().unwrap().starts_with("Argus/"));

    // `b` disappears: one staleness marker at the next scrape's timestamp.
    *target.body.lock() = Some("a 2\nc{job=\"exposed\"} 3\n".into());
    let i = sink
        .wait_for(i + 1, "b stale", |b| value(b, "a") == Some(2.0))
        .await;
    let (_, b) = sink.batch(i);
    assert!(stale(&b, "b"), "{b:#?}");
    assert_eq!(
        find(&b, "b").unwrap().samples[0].t,
        find(&b, "up").unwrap().samples[0].t
    );
    assert!(!stale(&b, "a"));
    assert_eq!(value(&b, "scrape_series_added"), Some(0.0));

    // The target fails: up=0 and everything of the last scrape goes stale.
    *target.body.lock() = None;
    let i = sink
        .wait_for(i + 1, "up=0", |b| value(b, "up") == Some(0.0))
        .await;
    let (_, b) = sink.batch(i);
    assert!(stale(&b, "a") && stale(&b, "c"), "{b:#?}");
    assert_eq!(b.len(), 2 + 5);
    let ts = mgr.targets();
    assert_eq!(ts.len(), 1);
    assert_eq!(ts[0].health, TargetHealth::Down);
    assert!(
        ts[0].last_error.as_deref().unwrap().contains("500"),
        "{:?}",
        ts[0].last_error
    );
    assert_eq!(ts[0].scrape_url, format!("http://{addr}/metrics"));
    assert_eq!(ts[0].scrape_interval, Duration::from_millis(200));

    let mut m = String::new();
    mgr.render_metrics(&mut m);
    assert!(metric(&m, "argus_scrape_failures_total{job=\"e2e\"}") >= 1.0);
    assert!(metric(&m, "argus_scrape_scrapes_total{job=\"e2e\"}") >= 3.0);
    assert!(metric(&m, "argus_scrape_duration_seconds_count{job=\"e2e\"}") >= 3.0);
    assert_eq!(metric(&m, "argus_scrape_targets{job=\"e2e\"}"), 1.0);

    // Recovery, then the target is removed by a config change: after about
    // two intervals its series and report series are marked stale.
    *target.body.lock() = Some("a 5\n".into());
    let i = sink
        .wait_for(i + 1, "recovered", |b| value(b, "up") == Some(1.0))
        .await;
    let (global2, jobs2) = parse_config(&config(&addr, "")).unwrap();
    mgr.apply_config(jobs2, global2).await.unwrap();
    assert!(mgr.targets().is_empty());
    let j = sink
        .wait_for(i + 1, "end-of-run staleness", |b| stale(b, "up"))
        .await;
    let (_, b) = sink.batch(j);
    assert!(
        stale(&b, "a") && stale(&b, "scrape_duration_seconds"),
        "{b:#?}"
    );
    assert_eq!(b.len(), 1 + 5);

    // Back again; then shutdown writes no staleness markers.
    mgr.apply_config(jobs, global).await.unwrap();
    let k = sink
        .wait_for(j + 1, "re-added", |b| value(b, "a") == Some(5.0))
        .await;
    mgr.stop().await;
    let n = sink.len();
    let hits = *target.hits.lock();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.len(), n, "nothing is written after stop");
    assert_eq!(*target.hits.lock(), hits, "no scrape after stop");
    for idx in k..n {
        assert!(!stale(&sink.batch(idx).1, "up"));
    }
}

#[tokio::test]
async fn sample_limit_and_timeout_fail_the_scrape() {
    let target = Arc::new(Target::default());
    *target.body.lock() = Some("a 1\nb 1\nc 1\n".into());
    let addr = serve(target.clone()).await;
    let yaml = format!(
        "scrape_configs:
  - job_name: limited
    scrape_interval: 200ms
    sample_limit: 2
    static_configs: [{{targets: ['{addr}']}}]
  - job_name: unreachable
    scrape_interval: 200ms
    scrape_timeout: 100ms
    static_configs: [{{targets: ['127.0.0.1:1']}}]
  - job_name: small
    scrape_interval: 200ms
    body_size_limit: 12B
    static_configs: [{{targets: ['{addr}']}}]
  - job_name: toomany
    scrape_interval: 200ms
    target_limit: 1
    static_configs: [{{targets: ['{addr}', 'localhost:1', 'drop.me:1']}}]
    relabel_configs: [{{source_labels: [__address__], regex: 'drop\\..*', action: drop}}]
"
    );
    let (global, jobs) = parse_config(&yaml).unwrap();
    let sink = Arc::new(MemSink::default());
    let opts = ManagerOptions {
        skip_offset: true,
        extra_scrape_metrics: true,
        ..Default::default()
    };
    let mgr = ScrapeManager::start_with_options(
        jobs,
        global,
        TenantId::new("t").unwrap(),
        sink.clone(),
        opts,
    );
    let job_is =
        |b: &[TimeSeries], j: &str| find(b, "up").is_some_and(|s| s.labels.get("job") == Some(j));
    let i = sink.wait_for(0, "limited", |b| job_is(b, "limited")).await;
    let (tenant, b) = sink.batch(i);
    assert_eq!(tenant.as_str(), "t");
    assert_eq!(value(&b, "up"), Some(0.0));
    assert!(find(&b, "a").is_none());
    assert_eq!(value(&b, "scrape_samples_scraped"), Some(3.0));
    assert_eq!(value(&b, "scrape_sample_limit"), Some(2.0));
    let i = sink
        .wait_for(0, "unreachable", |b| job_is(b, "unreachable"))
        .await;
    let (_, b) = sink.batch(i);
    assert_eq!(value(&b, "up"), Some(0.0));
    assert_eq!(value(&b, "scrape_body_size_bytes"), Some(0.0));
    let down = mgr
        .targets()
        .into_iter()
        .find(|t| t.job == "unreachable")
        .unwrap();
    assert!(down.last_error.unwrap().contains("127.0.0.1:1"));

    // A 12-byte body reaches a 12-byte limit.
    let i = sink.wait_for(0, "small", |b| job_is(b, "small")).await;
    let (_, b) = sink.batch(i);
    assert_eq!(value(&b, "up"), Some(0.0));
    assert_eq!(value(&b, "scrape_body_size_bytes"), Some(-1.0));

    // Two targets over a target_limit of 1: neither is scraped.
    let i = sink.wait_for(0, "toomany", |b| job_is(b, "toomany")).await;
    let (_, b) = sink.batch(i);
    assert_eq!(value(&b, "up"), Some(0.0));
    let t: Vec<_> = mgr
        .targets()
        .into_iter()
        .filter(|t| t.job == "toomany")
        .collect();
    assert_eq!(t.len(), 2);
    let err = t[0].last_error.as_deref().unwrap_or("");
    assert!(err.contains("target_limit exceeded"), "{t:?}");
    let dropped = mgr.dropped_targets();
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0].discovered_labels.get("__address__"),
        Some("drop.me:1")
    );

    let mut m = String::new();
    mgr.render_metrics(&mut m);
    assert_eq!(
        metric(&m, "argus_scrape_targets_dropped{job=\"toomany\"}"),
        1.0
    );
    assert_eq!(metric(&m, "argus_scrape_targets{job=\"toomany\"}"), 2.0);
    assert!(
        metric(
            &m,
            "argus_scrape_body_size_limit_exceeded_total{job=\"small\"}"
        ) >= 1.0
    );
    assert!(
        metric(
            &m,
            "argus_scrape_sample_limit_exceeded_total{job=\"limited\"}"
        ) >= 1.0
    );
    mgr.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_reload_keeps_or_stales_series_like_prometheus() {
    let target = Arc::new(Target::default());
    *target.body.lock() = Some("a 1\n".into());
    let addr = serve(target.clone()).await;
    let yaml = |extra: &str, v: &str| {
        format!(
            "scrape_configs:
  - job_name: r
    scrape_interval: 300ms
    {extra}
    static_configs: [{{targets: ['{addr}'], labels: {{v: '{v}'}}}}]
"
        )
    };
    let (global, jobs) = parse_config(&yaml("", "1")).unwrap();
    let sink = Arc::new(MemSink::default());
    let opts = ManagerOptions {
        skip_offset: true,
        ..Default::default()
    };
    let mgr = ScrapeManager::start_with_options(
        jobs,
        global,
        TenantId::new("t").unwrap(),
        sink.clone(),
        opts,
    );
    sink.wait_for(0, "first scrape", |b| value(b, "a") == Some(1.0))
        .await;

    // Only the sample limit changes: the cache carries over, no markers.
    let (global, jobs) = parse_config(&yaml("sample_limit: 100", "1")).unwrap();
    mgr.apply_config(jobs, global).await.unwrap();
    let n = sink.len();
    sink.wait_for(n, "scrapes after reload", |b| value(b, "up") == Some(1.0))
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let stale_any =
        (0..sink.len()).any(|i| sink.batch(i).1.iter().any(|s| is_stale_nan(s.samples[0].v)));
    assert!(!stale_any, "a reusable cache writes no staleness markers");

    // A new target label makes it a different target: the old series are
    // marked stale about two intervals later, the new ones appear.
    let (global, jobs) = parse_config(&yaml("sample_limit: 100", "2")).unwrap();
    let n = sink.len();
    mgr.apply_config(jobs, global).await.unwrap();
    let i = sink
        .wait_for(n, "old series stale", |b| stale(b, "a"))
        .await;
    let (_, b) = sink.batch(i);
    assert_eq!(find(&b, "a").unwrap().labels.get("v"), Some("1"));
    assert!(stale(&b, "up"));
    let j = sink
        .wait_for(n, "new series", |b| value(b, "a") == Some(1.0))
        .await;
    assert_eq!(
        find(&sink.batch(j).1, "a").unwrap().labels.get("v"),
        Some("2")
    );
    mgr.stop().await;
}

/// Refuses every batch with one kind of error.
struct RefusingSink(argus_scrape::AppendErrorKind, Mutex<usize>);

impl ScrapeSink for RefusingSink {
    fn append(&self, _: &TenantId, _: Vec<TimeSeries>) -> Result<(), argus_scrape::AppendError> {
        *self.1.lock() += 1;
        Err(argus_scrape::AppendError::new(self.0, "refused"))
    }
}

/// A batch the sink refuses (the rate limit, say) is counted by reason;
/// the target stays up, as in Prometheus, since it answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_appends_are_counted_by_reason_and_keep_the_target_up() {
    use argus_scrape::AppendErrorKind;
    let target = Arc::new(Target::default());
    *target.body.lock() = Some("a 1\n".into());
    let addr = serve(target.clone()).await;
    let (global, jobs) = parse_config(&config(&addr, &format!("'{addr}'"))).unwrap();
    let sink = Arc::new(RefusingSink(AppendErrorKind::RateLimited, Mutex::new(0)));
    let mgr = ScrapeManager::start(
        jobs,
        global,
        TenantId::new("default").unwrap(),
        sink.clone(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while *sink.1.lock() < 2 {
        assert!(Instant::now() < deadline, "no scrape reached the sink");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut text = String::new();
    mgr.render_metrics(&mut text);
    assert!(
        metric(
            &text,
            "argus_scrape_sink_errors_total{job=\"e2e\",reason=\"rate_limited\"}"
        ) >= 2.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "argus_scrape_failures_total{job=\"e2e\"}"),
        0.0
    );
    let t = mgr.targets();
    assert_eq!(t[0].health, TargetHealth::Up, "{t:?}");
    assert_eq!(t[0].last_error, None);
    mgr.stop().await;
}
