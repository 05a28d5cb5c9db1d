use super::*;
use crate::relabel::Action;

const REALISTIC: &str = r#"
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels:
    cluster: eu-1
rule_files: ["rules/*.yml"]
alerting:
  alertmanagers: []
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['localhost:9090']
  - job_name: node
    scrape_interval: 5s
    metrics_path: /custom/metrics
    scheme: https
    honor_labels: true
    honor_timestamps: false
    params:
      module: [http_2xx]
      target: ["example.com", 42]
    basic_auth:
      username: scraper
      password_file: /etc/secret
    tls_config:
      insecure_skip_verify: true
    sample_limit: 1000
    body_size_limit: 10MB
    tenant: team-a
    static_configs:
      - targets: ['node1:9100', 'node2:9100']
        labels:
          env: prod
          rack: 12
      - targets: ['node3']
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):\d+'
        target_label: host
      - action: labeldrop
        regex: rack
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_.*'
        action: drop
  - job_name: slow
    scrape_interval: 5s
    scrape_timeout: 2s
    scrape_protocols: [PrometheusText0.0.4]
"#;

#[test]
fn realistic_config_with_defaults() {
    let (global, jobs) = parse_config(REALISTIC).unwrap();
    assert_eq!(global.scrape_interval, Duration::from_secs(15));
    assert_eq!(global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(global.body_size_limit, DEFAULT_BODY_SIZE_LIMIT);
    assert_eq!(jobs.len(), 3);

    let p = &jobs[0];
    assert_eq!(p.job_name, "prometheus");
    assert_eq!(p.scrape_interval, Duration::from_secs(15));
    assert_eq!(p.scrape_timeout, Duration::from_secs(10));
    assert_eq!(p.metrics_path, "/metrics");
    assert_eq!(p.scheme, "http");
    assert!(!p.honor_labels);
    assert!(p.honor_timestamps);
    assert!(p.follow_redirects);
    assert_eq!(p.body_size_limit, DEFAULT_BODY_SIZE_LIMIT);
    assert_eq!(p.sample_limit, 0);
    assert_eq!(p.tenant, None);
    assert_eq!(
        p.static_configs,
        vec![StaticConfig {
            targets: vec!["localhost:9090".into()],
            labels: BTreeMap::new()
        }]
    );
    assert_eq!(
        p.accept_header(),
        argus_ingest::textparse::SCRAPE_ACCEPT_HEADER
    );

    let n = &jobs[1];
    assert_eq!(n.scrape_interval, Duration::from_secs(5));
    // Global 10s timeout is longer than the 5s interval: the interval wins.
    assert_eq!(n.scrape_timeout, Duration::from_secs(5));
    assert_eq!(n.metrics_path, "/custom/metrics");
    assert_eq!(n.scheme, "https");
    assert!(n.honor_labels);
    assert!(!n.honor_timestamps);
    assert_eq!(n.params["module"], vec!["http_2xx"]);
    assert_eq!(n.params["target"], vec!["example.com", "42"]);
    assert_eq!(n.basic_auth.as_ref().unwrap().username, "scraper");
    assert!(n.tls_config.as_ref().unwrap().insecure_skip_verify);
    assert_eq!(n.sample_limit, 1000);
    assert_eq!(n.body_size_limit, 10 << 20);
    assert_eq!(n.tenant.as_ref().map(|t| t.as_str()), Some("team-a"));
    assert_eq!(n.static_configs.len(), 2);
    assert_eq!(n.static_configs[0].labels["rack"], "12");
    assert_eq!(n.relabel_configs.len(), 2);
    assert_eq!(n.relabel_configs[0].action, Action::Replace);
    assert_eq!(n.relabel_configs[0].replacement, "$1");
    assert_eq!(n.relabel_configs[1].action, Action::LabelDrop);
    assert_eq!(n.metric_relabel_configs[0].action, Action::Drop);

    let s = &jobs[2];
    assert_eq!(s.scrape_timeout, Duration::from_secs(2));
    assert_eq!(
        s.accept_header(),
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
    );
}

#[test]
fn no_global_block_uses_prometheus_defaults() {
    let (global, jobs) = parse_config("scrape_configs:\n  - job_name: a\n").unwrap();
    assert_eq!(global, GlobalScrapeConfig::default());
    assert_eq!(jobs[0].scrape_interval, Duration::from_secs(60));
    assert_eq!(jobs[0].scrape_timeout, Duration::from_secs(10));
    // An empty global block too.
    let (global, _) = parse_config("global: {}\n").unwrap();
    assert_eq!(global, GlobalScrapeConfig::default());
    // A short global interval caps the default timeout.
    let (global, _) = parse_config("global:\n  scrape_interval: 5s\n").unwrap();
    assert_eq!(global.scrape_timeout, Duration::from_secs(5));
    let (global, _) = parse_config("global:\n  body_size_limit: 0\n").unwrap();
    assert_eq!(global.body_size_limit, 0);
}

#[test]
fn rejects_invalid_configs() {
    for (yaml, msg) in [
        ("scrape_configs:\n - job_name: ''", "job_name is empty"),
        ("scrape_configs:\n - {job_name: a}\n - {job_name: a}", "multiple scrape configs with job name \"a\""),
        (
            "scrape_configs:\n - {job_name: a, scrape_interval: 5s, scrape_timeout: 10s}",
            "scrape timeout greater than scrape interval",
        ),
        ("global:\n  scrape_interval: 5s\n  scrape_timeout: 10s", "global scrape timeout greater"),
        ("scrape_configs:\n - {job_name: a, scrape_interval: 5x}", "unknown unit"),
        (
            "scrape_configs:\n - job_name: a\n   static_configs: [{targets: ['http://x:80']}]",
            "is not a valid hostname",
        ),
        ("scrape_configs:\n - {job_name: a, kubernetes_sd_configs: []}", "unknown field `kubernetes_sd_configs`"),
        ("scrape_configs:\n - {job_name: a, scrape_protocols: [PrometheusProto]}", "PrometheusProto is not supported"),
        ("scrape_configs:\n - {job_name: a, scrape_protocols: []}", "scrape_protocols cannot be empty"),
        (
            "scrape_configs:\n - {job_name: a, scrape_protocols: [PrometheusText0.0.4, PrometheusText0.0.4]}",
            "duplicated protocol",
        ),
        ("scrape_configs:\n - {job_name: a, tenant: 'a/b'}", "tenant"),
        ("scrape_configs:\n - {job_name: a, static_configs: [{labels: {'a-b': x}}]}", "not a valid label name"),
        ("scrape_configs:\n - {job_name: a, bearer_token: x, basic_auth: {username: u}}", "at most one of basic_auth"),
        ("scrape_configs:\n - {job_name: a, authorization: {type: Basic}}", "use \"basic_auth\" instead"),
        ("scrape_configs:\n - {job_name: a, metric_name_validation_scheme: utf8}", "utf8"),
    ] {
        let err = parse_config(yaml).unwrap_err().to_string();
        assert!(err.contains(msg), "{yaml:?}: {err}");
    }
    // With relabelling, a URL-looking address may be rewritten: allowed.
    parse_config(
        "scrape_configs:\n - job_name: a\n   static_configs: [{targets: ['http://x:80']}]\n   relabel_configs: [{action: labelkeep, regex: '.*'}]",
    )
    .unwrap();
}

#[test]
fn manual_construction_then_validate() {
    let mut c = ScrapeConfig::new("manual");
    c.static_configs.push(StaticConfig {
        targets: vec!["h:1".into()],
        labels: BTreeMap::new(),
    });
    let g = GlobalScrapeConfig {
        sample_limit: 7,
        ..Default::default()
    };
    c.validate(&g).unwrap();
    assert_eq!(c.scrape_interval, Duration::from_secs(60));
    assert_eq!(c.sample_limit, 7);
    let before = c.clone();
    c.validate(&g).unwrap();
    assert_eq!(c, before);
}
