use super::*;

fn t(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn patch(yaml: &str) -> LimitsPatch {
    serde_yaml::from_str(yaml).unwrap()
}

fn resolve(limits: &str, overrides: &str) -> LimitsConfig {
    let d = patch(limits);
    let o: BTreeMap<String, LimitsPatch> = serde_yaml::from_str(overrides).unwrap();
    LimitsConfig::resolve(&d, &o)
}

#[test]
fn bucket_refuses_then_refills() {
    let r = RateLimiter::default();
    let m = Signal::Metrics;
    let a = t("a");
    assert!(r.try_take(&a, m, 100, 100.0, 100.0));
    assert!(!r.try_take(&a, m, 50, 100.0, 100.0));
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert!(r.try_take(&a, m, 50, 100.0, 100.0));
    assert!(r.try_take(&t("b"), m, 1_000_000, 0.0, 0.0));
    let c = t("c");
    assert!(!r.exhausted(&c, m, 100.0, 100.0));
    assert!(r.try_take(&c, m, 100, 100.0, 100.0));
    assert!(r.exhausted(&c, m, 100.0, 100.0));
}

/// A flood of one signal spends only that signal's bucket: the same tenant's
/// other signals keep theirs, and other tenants theirs.
#[test]
fn exhausting_one_signal_leaves_the_tenants_other_signals_untouched() {
    let r = RateLimiter::default();
    let a = t("a");
    // Logs: 1000 bytes/s, burst 1000, spent.
    assert!(r.try_take(&a, Signal::Logs, 1000, 1000.0, 1000.0));
    assert!(!r.try_take(&a, Signal::Logs, 10, 1000.0, 1000.0));
    assert!(r.exhausted(&a, Signal::Logs, 1000.0, 1000.0));
    // Metrics of the same tenant, with the same numbers: a full bucket.
    assert!(!r.exhausted(&a, Signal::Metrics, 1000.0, 1000.0));
    assert!(r.try_take(&a, Signal::Metrics, 1000, 1000.0, 1000.0));
    assert!(r.exhausted(&a, Signal::Metrics, 1000.0, 1000.0));
    assert!(r.try_take(&a, Signal::Traces, 1000, 1000.0, 1000.0));
    assert!(r.try_take(&t("b"), Signal::Logs, 1000, 1000.0, 1000.0));
}

/// Lock policy: a panic under the limiter's lock (every write takes it)
/// does not break later writes.
#[test]
fn a_panic_under_the_lock_does_not_break_later_calls() {
    let r = RateLimiter::default();
    let a = t("a");
    let res = std::thread::scope(|s| {
        s.spawn(|| {
            let _g = r.buckets.lock();
            panic!("panic under the rate limiter's lock");
        })
        .join()
    });
    assert!(res.is_err());
    assert!(r.try_take(&a, Signal::Metrics, 100, 100.0, 100.0));
    assert!(r.exhausted(&a, Signal::Metrics, 100.0, 100.0));
}

#[test]
fn the_per_signal_shape_parses() {
    let c = resolve(
        "metrics: {ingestion_rate: 100000, ingestion_burst: 200000, max_series: 0}\n\
         logs: {ingestion_rate_bytes: 4194304}\n\
         traces: {max_span_bytes: 1000}\n",
        "{}",
    );
    let d = &c.defaults;
    assert_eq!(d.metrics.ingestion_rate, 100_000.0);
    assert_eq!(d.metrics.ingestion_burst, 200_000.0);
    assert_eq!(d.metrics.max_series, 0);
    assert_eq!(
        d.metrics.max_labels_per_series, 64,
        "unset keys keep the built-in default"
    );
    assert_eq!(d.logs.ingestion_rate_bytes, 4_194_304.0);
    assert_eq!(d.logs.max_line_bytes, 256 * 1024);
    assert_eq!(d.traces.max_span_bytes, 1000);
    assert_eq!(d.ingestion(Signal::Logs), (4_194_304.0, 0.0));
    assert_eq!(d.ingestion(Signal::Metrics), (100_000.0, 200_000.0));
    assert!(!patch("metrics: {max_series: 1}").flat_metrics);
    // Empty sections and an empty `limits:` are the defaults.
    assert_eq!(
        resolve("metrics:\nlogs: {}\n", "{}").defaults,
        Limits::default()
    );
    assert_eq!(resolve("", "{}").defaults, Limits::default());
}

#[test]
fn the_flat_shape_is_the_metrics_section() {
    let p = patch("max_series: 10\ningestion_rate: 5\nlogs: {max_line_bytes: 7}\n");
    assert!(p.flat_metrics);
    let c = LimitsConfig::resolve(&p, []);
    assert_eq!(c.defaults.metrics.max_series, 10);
    assert_eq!(c.defaults.metrics.ingestion_rate, 5.0);
    assert_eq!(c.defaults.logs.max_line_bytes, 7);
    // Same result as the per-signal shape.
    assert_eq!(
        c,
        resolve(
            "metrics: {max_series: 10, ingestion_rate: 5}\nlogs: {max_line_bytes: 7}\n",
            "{}"
        )
    );
}

#[test]
fn mistakes_are_refused_with_the_key() {
    let err = |y: &str| {
        serde_yaml::from_str::<LimitsPatch>(y)
            .unwrap_err()
            .to_string()
    };
    let e = err("max_seris: 1");
    assert!(
        e.contains("max_seris") && e.contains("metrics, logs or traces"),
        "{e}"
    );
    let e = err("metrics: {max_line_bytes: 1}");
    assert!(e.contains("max_line_bytes"), "{e}");
    let e = err("logs: {ingestion_rate: 1}");
    assert!(e.contains("ingestion_rate"), "{e}");
    let e = err("max_series: 1\nmetrics: {ingestion_rate: 1}");
    assert!(e.contains("both"), "{e}");
    let e = err("metrics: {max_series: lots}");
    assert!(e.contains("max_series") || e.contains("invalid"), "{e}");
}

#[test]
fn overrides_merge_key_by_key_over_the_defaults() {
    let c = resolve(
        "metrics: {max_series: 1000, ingestion_rate: 100}\nlogs: {ingestion_rate_bytes: 50}\n",
        "team-a:\n  metrics: {ingestion_rate: 5}\n\
         old-style:\n  max_series: 7\n\
         logs-only:\n  logs: {ingestion_rate_bytes: 9}\n",
    );
    let a = c.for_tenant(&t("team-a"));
    assert_eq!(a.metrics.ingestion_rate, 5.0);
    assert_eq!(
        a.metrics.max_series, 1000,
        "from limits:, not the built-in default"
    );
    assert_eq!(a.logs.ingestion_rate_bytes, 50.0);
    // A flat (pre-sections) override means what it meant before: its metrics
    // keys not given are the built-in defaults; its other signals merge.
    let old = c.for_tenant(&t("old-style"));
    assert_eq!(old.metrics.max_series, 7);
    assert_eq!(old.metrics.ingestion_rate, 0.0);
    assert_eq!(old.logs.ingestion_rate_bytes, 50.0);
    let logs = c.for_tenant(&t("logs-only"));
    assert_eq!(logs.logs.ingestion_rate_bytes, 9.0);
    assert_eq!(logs.metrics, c.defaults.metrics);
    assert_eq!(c.metrics(&t("anyone")).max_series, 1000);
    assert_eq!(c.metrics(&t("anyone")).max_label_value_length, 4096);
}
