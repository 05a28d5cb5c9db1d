use super::*;
use crate::config::{parse_config, GlobalScrapeConfig};

fn job(yaml: &str) -> ScrapeConfig {
    let (_, mut jobs) = parse_config(&format!("scrape_configs:\n{yaml}")).unwrap();
    jobs.remove(0)
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn only_target(cfg: &ScrapeConfig) -> Target {
    match targets_from_config(cfg).as_slice() {
        [Populated::Target(t)] => t.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn target_labels_and_defaults() {
    let cfg = job("- job_name: node\n  scrape_interval: 15s\n  static_configs: [{targets: ['h1:9100'], labels: {env: prod}}]");
    let t = only_target(&cfg);
    assert_eq!(
        t.labels,
        l(&[
            ("__address__", "h1:9100"),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("__scrape_interval__", "15s"),
            ("__scrape_timeout__", "10s"),
            ("env", "prod"),
            ("instance", "h1:9100"),
            ("job", "node"),
        ])
    );
    assert_eq!(
        t.public_labels(),
        l(&[("env", "prod"), ("instance", "h1:9100"), ("job", "node")])
    );
    assert_eq!(t.url(), "http://h1:9100/metrics");
    assert_eq!(
        t.interval_and_timeout(),
        (Duration::from_secs(15), Duration::from_secs(10))
    );
    assert_eq!(t.discovered.get("__address__"), Some("h1:9100"));
    assert_eq!(t.discovered.get("instance"), None);
}

#[test]
fn default_ports_follow_the_scheme() {
    let t = only_target(&job("- {job_name: a, static_configs: [{targets: [host]}]}"));
    assert_eq!(t.labels.get("__address__"), Some("host:80"));
    assert_eq!(t.labels.get("instance"), Some("host:80"));
    let t = only_target(&job(
        "- {job_name: a, scheme: https, static_configs: [{targets: ['[::1]']}]}",
    ));
    assert_eq!(t.labels.get("__address__"), Some("[::1]:443"));
    assert_eq!(t.url(), "https://[::1]:443/metrics");
    let t = only_target(&job(
        "- {job_name: a, scheme: ftp, static_configs: [{targets: ['h:21']}]}",
    ));
    assert_eq!(t.labels.get("__scheme__"), Some("ftp"));
    let got = targets_from_config(&job(
        "- {job_name: a, scheme: ftp, static_configs: [{targets: [h]}]}",
    ));
    assert!(
        matches!(&got[..], [Populated::Failed(e)] if e.contains("invalid scheme")),
        "{got:?}"
    );
}

#[test]
fn params_and_url_escaping() {
    let cfg = job("- job_name: blackbox
  metrics_path: /probe path
  params: {module: [http_2xx, other], 'q s': ['a b&c']}
  static_configs: [{targets: ['bb:9115'], labels: {__param_target: 'https://x.org/?a=1'}}]");
    let t = only_target(&cfg);
    assert_eq!(t.labels.get("__param_module"), Some("http_2xx"));
    assert_eq!(t.labels.get("__param_target"), Some("https://x.org/?a=1"));
    assert_eq!(
        t.url(),
        "http://bb:9115/probe%20path?module=http_2xx&module=other&q+s=a+b%26c&target=https%3A%2F%2Fx.org%2F%3Fa%3D1"
    );
}

#[test]
fn relabelling_targets() {
    let cfg = job(
        "- job_name: a
  static_configs: [{targets: ['keep:1', 'drop:2', 'retime:3']}]
  relabel_configs:
    - {source_labels: [__address__], regex: 'drop:.*', action: drop}
    - {source_labels: [__address__], regex: 'retime:.*', target_label: __scrape_interval__, replacement: 2m}
    - {source_labels: [__address__], regex: 'retime:.*', target_label: __scrape_timeout__, replacement: 1m}
    - {target_label: __meta_x, replacement: gone}
    - {target_label: __tmp_x, replacement: kept}
    - {source_labels: [__address__], regex: '(.*):.*', target_label: instance, replacement: '$1'}",
    );
    let got = targets_from_config(&cfg);
    assert_eq!(got.len(), 3);
    let Populated::Target(keep) = &got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(keep.labels.get("instance"), Some("keep"));
    assert_eq!(keep.labels.get("__meta_x"), None);
    assert_eq!(keep.labels.get("__tmp_x"), Some("kept"));
    assert_eq!(
        keep.public_labels(),
        l(&[("instance", "keep"), ("job", "a")])
    );
    let Populated::Dropped(d) = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(d.get("__address__"), Some("drop:2"));
    let Populated::Target(retime) = &got[2] else {
        panic!("{got:?}")
    };
    assert_eq!(
        retime.interval_and_timeout(),
        (Duration::from_secs(120), Duration::from_secs(60))
    );
}

#[test]
fn invalid_targets_fail() {
    for (yaml, msg) in [
        (
            "- {job_name: a, static_configs: [{targets: [x]}], relabel_configs: [{target_label: __address__, replacement: ''}]}",
            "no address",
        ),
        (
            "- {job_name: a, static_configs: [{targets: ['x:1']}], relabel_configs: [{target_label: __scrape_timeout__, replacement: 5m}]}",
            "scrape timeout cannot be greater",
        ),
        (
            "- {job_name: a, static_configs: [{targets: ['x:1']}], relabel_configs: [{target_label: __scrape_interval__, replacement: '0'}]}",
            "scrape interval cannot be 0",
        ),
        (
            "- {job_name: a, static_configs: [{targets: ['x:1']}], relabel_configs: [{target_label: __address__, replacement: 'http://x'}]}",
            "not a valid hostname",
        ),
    ] {
        let got = targets_from_config(&job(yaml));
        assert!(matches!(&got[..], [Populated::Failed(e)] if e.contains(msg)), "{yaml}: {got:?}");
    }
}

#[test]
fn split_host_port_like_go() {
    assert_eq!(split_host_port("h:80"), Ok(("h", "80")));
    assert_eq!(split_host_port("h:"), Ok(("h", "")));
    assert_eq!(split_host_port("[::1]:80"), Ok(("::1", "80")));
    assert!(split_host_port("h").is_err());
    assert!(split_host_port("::1").is_err());
    assert!(split_host_port("[::1]").is_err());
    assert!(split_host_port("[::1]x:1").is_err());
    assert!(split_host_port("a:b:c").is_err());
}

#[test]
fn offset_is_within_interval_and_stable() {
    let cfg = job("- {job_name: a, static_configs: [{targets: ['x:1']}]}");
    let t = only_target(&cfg);
    let iv = Duration::from_secs(10);
    let now = 1_700_000_000_123_456_789i128;
    let o = t.offset(iv, 42, now);
    assert!(o <= iv);
    // The phase is fixed in absolute time.
    let phase = (now + o.as_nanos() as i128) % iv.as_nanos() as i128;
    let later = now + 3_333_333_333;
    let o2 = t.offset(iv, 42, later);
    assert_eq!(
        (later + o2.as_nanos() as i128) % iv.as_nanos() as i128,
        phase
    );
    assert_ne!(t.hash(), 0);
    let _ = GlobalScrapeConfig::default();
}
