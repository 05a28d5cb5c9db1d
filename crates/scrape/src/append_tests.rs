//! Cases from Prometheus's `scrape/scrape_test.go` (v2.55) for
//! `scrapeLoop.append`, `mutateSampleLabels` and `scrapeAndReport`.

use std::time::Instant;

use argus_ingest::textparse::{parse, Format};
use argus_model::is_stale_nan;

use super::*;
use crate::process::{process_scrape, ReportOptions, ScrapeOutcome};

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn samples(text: &str) -> Vec<ParsedSample> {
    parse(text.as_bytes(), Format::PrometheusText)
        .unwrap()
        .samples
}

fn opts() -> AppendOptions {
    AppendOptions {
        honor_timestamps: true,
        ..Default::default()
    }
}

const NOW: i64 = 1_700_000_000_000;

type Flat = Vec<(Labels, i64, f64)>;
type Pairs<'a> = &'a [(&'a str, &'a str)];

/// Appends `text` at `ts` and returns the batch as (labels, t, v).
fn run(
    cache: &mut ScrapeCache,
    o: &AppendOptions,
    text: &str,
    ts: i64,
) -> (Flat, AppendStats, Result<(), AppendError>) {
    let mut b = Batch::default();
    let (st, r) = append(
        cache,
        o,
        &samples(text),
        None,
        text.is_empty(),
        ts,
        NOW,
        &mut b,
    );
    (flat(&b), st, r)
}

fn flat(b: &Batch) -> Flat {
    b.series
        .iter()
        .map(|s| (s.labels.clone(), s.samples[0].t, s.samples[0].v))
        .collect()
}

#[test]
fn honor_labels_false_renames_conflicts() {
    let target = l(&[("n", "2")]);
    assert_eq!(
        mutate_sample_labels(
            &l(&[("__name__", "metric"), ("n", "1")]),
            &target,
            false,
            &[]
        ),
        l(&[("__name__", "metric"), ("exported_n", "1"), ("n", "2")])
    );
    // A target label already called exported_n is not overwritten.
    let target = l(&[("n", "2"), ("exported_n", "2")]);
    assert_eq!(
        mutate_sample_labels(&l(&[("__name__", "metric")]), &target, false, &[]),
        l(&[("__name__", "metric"), ("exported_n", "2"), ("n", "2")])
    );
}

#[test]
fn honor_labels_true_keeps_scraped_values() {
    let target = l(&[("n1", "0"), ("job", "j"), ("instance", "i")]);
    assert_eq!(
        mutate_sample_labels(
            &l(&[("__name__", "metric"), ("n1", "1"), ("n2", "2")]),
            &target,
            true,
            &[]
        ),
        l(&[
            ("__name__", "metric"),
            ("instance", "i"),
            ("job", "j"),
            ("n1", "1"),
            ("n2", "2")
        ])
    );
}

#[test]
fn conflicting_prefixed_labels() {
    let cases: [(Pairs, Pairs, Pairs); 6] = [
        (
            &[("foo", "2")],
            &[("foo", "1")],
            &[("__name__", "metric"), ("exported_foo", "1"), ("foo", "2")],
        ),
        (
            &[("foo", "2"), ("exported_foo", "3")],
            &[("foo", "1")],
            &[
                ("__name__", "metric"),
                ("exported_exported_foo", "1"),
                ("exported_foo", "3"),
                ("foo", "2"),
            ],
        ),
        (
            &[("foo", "3")],
            &[("foo", "1"), ("exported_foo", "2")],
            &[
                ("__name__", "metric"),
                ("exported_exported_foo", "1"),
                ("exported_foo", "2"),
                ("foo", "3"),
            ],
        ),
        (
            &[("exported_foo", "2")],
            &[("exported_foo", "1")],
            &[
                ("__name__", "metric"),
                ("exported_exported_foo", "1"),
                ("exported_foo", "2"),
            ],
        ),
        (
            &[("foo", "3"), ("exported_foo", "4")],
            &[("foo", "1"), ("exported_foo", "2")],
            &[
                ("__name__", "metric"),
                ("exported_exported_foo", "1"),
                ("exported_exported_exported_foo", "2"),
                ("exported_foo", "4"),
                ("foo", "3"),
            ],
        ),
        (
            &[
                ("foo", "0"),
                ("exported_exported_foo", "1"),
                ("exported_exported_exported_foo", "2"),
            ],
            &[
                ("foo", "3"),
                ("exported_foo", "4"),
                ("exported_exported_exported_foo", "5"),
            ],
            &[
                ("__name__", "metric"),
                ("exported_exported_exported_exported_exported_foo", "5"),
                ("exported_exported_exported_exported_foo", "3"),
                ("exported_exported_exported_foo", "2"),
                ("exported_exported_foo", "1"),
                ("exported_foo", "4"),
                ("foo", "0"),
            ],
        ),
    ];
    for (target, exposed, want) in cases {
        let mut scraped = exposed.to_vec();
        scraped.push(("__name__", "metric"));
        assert_eq!(
            mutate_sample_labels(&l(&scraped), &l(target), false, &[]),
            l(want),
            "target {target:?}"
        );
    }
}

#[test]
fn samples_get_target_labels_and_scrape_time() {
    let o = AppendOptions {
        target_labels: l(&[("job", "j"), ("instance", "i:1")]),
        ..opts()
    };
    let mut c = ScrapeCache::default();
    let (got, st, r) = run(&mut c, &o, "metric{n=\"\"} 0\nother 2 1000\n", 5000);
    r.unwrap();
    assert_eq!(
        got,
        vec![
            (
                l(&[("__name__", "metric"), ("instance", "i:1"), ("job", "j")]),
                5000,
                0.0
            ),
            (
                l(&[("__name__", "other"), ("instance", "i:1"), ("job", "j")]),
                1000,
                2.0
            ),
        ]
    );
    assert_eq!((st.total, st.added, st.series_added), (2, 2, 2));
    // honor_timestamps: false ignores the exposed timestamp.
    let o = AppendOptions {
        honor_timestamps: false,
        ..opts()
    };
    let (got, _, _) = run(&mut ScrapeCache::default(), &o, "other 2 1000\n", 5000);
    assert_eq!(got[0].1, 5000);
}

#[test]
fn series_added_counts_new_series_only() {
    let mut c = ScrapeCache::default();
    let (_, st, _) = run(&mut c, &opts(), "test_metric 1\n", 1);
    assert_eq!((st.total, st.added, st.series_added), (1, 1, 1));
    let (_, st, _) = run(&mut c, &opts(), "test_metric 1\n", 2);
    assert_eq!((st.total, st.added, st.series_added), (1, 1, 0));
}

#[test]
fn duplicates_within_a_scrape() {
    let mut c = ScrapeCache::default();
    let (got, st, r) = run(
        &mut c,
        &opts(),
        "test_metric 1\ntest_metric 2\ntest_metric 3\n",
        1,
    );
    r.unwrap();
    assert_eq!(
        (st.total, st.added, st.series_added, st.duplicates),
        (3, 3, 1, 2)
    );
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, 1.0);
    // Distinct explicit timestamps are all kept. The series is no longer
    // tracked for staleness (explicit timestamps), so the previous scrape's
    // untimestamped sample gets a marker at this scrape's time.
    let (got, st, _) = run(
        &mut c,
        &opts(),
        "test_metric 1 1001\ntest_metric 1 1002\ntest_metric 1 1003\n",
        2,
    );
    assert_eq!(
        (st.total, st.added, st.series_added, st.duplicates),
        (3, 3, 0, 0)
    );
    assert_eq!(
        got.iter().map(|g| g.1).collect::<Vec<_>>(),
        [1001, 1002, 1003, 2]
    );
    assert!(is_stale_nan(got[3].2));
}

#[test]
fn staleness_markers_for_vanished_series() {
    let mut c = ScrapeCache::default();
    run(&mut c, &opts(), "metric_a 1\nmetric_b 1\n", 1000)
        .2
        .unwrap();
    let (got, _, _) = run(&mut c, &opts(), "metric_a 2\n", 2000);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], (l(&[("__name__", "metric_a")]), 2000, 2.0));
    assert_eq!(got[1].0, l(&[("__name__", "metric_b")]));
    assert_eq!(got[1].1, 2000);
    assert!(is_stale_nan(got[1].2));
    // Marked once only.
    let (got, _, _) = run(&mut c, &opts(), "metric_a 3\n", 3000);
    assert_eq!(got.len(), 1);
    // An empty body stales everything.
    let (got, _, _) = run(&mut c, &opts(), "", 4000);
    assert_eq!(got.len(), 1);
    assert!(is_stale_nan(got[0].2));
}

#[test]
fn no_staleness_for_explicit_timestamps_unless_tracked() {
    let mut c = ScrapeCache::default();
    run(&mut c, &opts(), "metric_a 1 1000\n", 5000).2.unwrap();
    let (got, _, _) = run(&mut c, &opts(), "", 6000);
    assert!(got.is_empty());

    let o = AppendOptions {
        track_timestamps_staleness: true,
        ..opts()
    };
    let mut c = ScrapeCache::default();
    run(&mut c, &o, "metric_a 1 1000\n", 5000).2.unwrap();
    let (got, _, _) = run(&mut c, &o, "", 6000);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, 6000);
    assert!(is_stale_nan(got[0].2));
}

#[test]
fn sample_limit() {
    let o = AppendOptions {
        sample_limit: 1,
        ..opts()
    };
    let mut c = ScrapeCache::default();
    let (_, st, r) = run(&mut c, &o, "metric_a 1\nmetric_b 1\nmetric_c 1\n", 1);
    assert_eq!(r, Err(AppendError::SampleLimit));
    assert_eq!((st.total, st.added, st.series_added), (3, 3, 1));
    // Samples dropped by metric relabelling do not count.
    let o = AppendOptions {
        sample_limit: 2,
        metric_relabel_configs: serde_yaml::from_str(
            "[{source_labels: [deleteme], regex: yes, action: drop}]",
        )
        .unwrap(),
        ..opts()
    };
    let (_, st, r) = run(
        &mut ScrapeCache::default(),
        &o,
        "a 1\nb{deleteme=\"yes\"} 1\nc 1\n",
        1,
    );
    r.unwrap();
    assert_eq!((st.total, st.added), (3, 2));
}

#[test]
fn metric_relabelling_drops_and_caches() {
    let o = AppendOptions {
        metric_relabel_configs: serde_yaml::from_str(
            "[{source_labels: [__name__], regex: 'go_.*', action: drop}]",
        )
        .unwrap(),
        ..opts()
    };
    let mut c = ScrapeCache::default();
    let (got, st, _) = run(&mut c, &o, "go_goroutines 1\nkeep 1\n", 1);
    assert_eq!(got.len(), 1);
    assert_eq!((st.total, st.added), (2, 1));
    assert_eq!(c.dropped.len(), 1);
    let (got, st, _) = run(&mut c, &o, "go_goroutines 1\nkeep 1\n", 2);
    assert_eq!(got.len(), 1);
    assert_eq!((st.total, st.added, st.series_added), (2, 1, 0));
}

#[test]
fn invalid_labels_after_relabelling_fail() {
    // Prometheus's TestScrapeLoopFailWithInvalidLabelsAfterRelabel.
    let o = AppendOptions {
        target_labels: l(&[("pod_label_invalid_012", "test")]),
        honor_labels: true,
        metric_relabel_configs: serde_yaml::from_str(
            "[{regex: 'pod_label_invalid_(.+)', action: labelmap}]",
        )
        .unwrap(),
        ..opts()
    };
    let (_, st, r) = run(&mut ScrapeCache::default(), &o, "test_metric 1\n", 1);
    assert!(
        matches!(r, Err(AppendError::Other(ref e)) if e.contains("invalid metric name or label names")),
        "{r:?}"
    );
    assert_eq!((st.total, st.added, st.series_added), (1, 0, 0));
    // Dropping __name__ fails the scrape too (unless nothing is left: that
    // is a drop).
    let o = AppendOptions {
        metric_relabel_configs: serde_yaml::from_str("[{regex: __name__, action: labeldrop}]")
            .unwrap(),
        ..opts()
    };
    let (_, _, r) = run(&mut ScrapeCache::default(), &o, "ok 1\nnok{a=\"1\"} 1\n", 1);
    assert_eq!(
        r,
        Err(AppendError::Other(
            "missing metric name (__name__ label)".into()
        ))
    );
    let (got, st, r) = run(&mut ScrapeCache::default(), &o, "gone 1\n", 1);
    r.unwrap();
    assert!(got.is_empty());
    assert_eq!((st.total, st.added), (1, 0));
}

#[test]
fn label_limits() {
    let o = AppendOptions {
        label_limit: 2,
        ..opts()
    };
    let (_, _, r) = run(&mut ScrapeCache::default(), &o, "m{a=\"1\",b=\"2\"} 1\n", 1);
    assert!(
        matches!(r, Err(AppendError::Other(ref e)) if e.starts_with("label_limit exceeded")),
        "{r:?}"
    );
    let o = AppendOptions {
        label_name_length_limit: 3,
        ..opts()
    };
    let (_, _, r) = run(&mut ScrapeCache::default(), &o, "m{abcd=\"1\"} 1\n", 1);
    assert!(
        matches!(r, Err(AppendError::Other(ref e)) if e.starts_with("label_name_length_limit exceeded"))
    );
    let o = AppendOptions {
        label_value_length_limit: 3,
        ..opts()
    };
    let (_, _, r) = run(&mut ScrapeCache::default(), &o, "m{a=\"1234\"} 1\n", 1);
    assert!(
        matches!(r, Err(AppendError::Other(ref e)) if e.starts_with("label_value_length_limit exceeded"))
    );
}

#[test]
fn future_timestamps_are_out_of_bounds() {
    let (got, st, r) = run(
        &mut ScrapeCache::default(),
        &opts(),
        &format!("a 1 {}\nb 1\n", NOW + MAX_AHEAD_MS + 1),
        NOW,
    );
    r.unwrap();
    assert_eq!(st.out_of_bounds, 1);
    assert_eq!(got.len(), 1);
}

fn process(
    c: &mut ScrapeCache,
    o: &AppendOptions,
    outcome: ScrapeOutcome,
    ts: i64,
) -> crate::process::Processed {
    process_scrape(
        c,
        o,
        outcome,
        Instant::now(),
        ts,
        NOW,
        ReportOptions { extra: None },
    )
}

fn body(s: &str) -> ScrapeOutcome {
    ScrapeOutcome::Body {
        bytes: s.as_bytes().to_vec(),
        content_type: Some("text/plain; version=0.0.4".into()),
    }
}

fn value_of(p: &crate::process::Processed, name: &str) -> Option<f64> {
    p.batch
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some(name))
        .map(|s| s.samples[0].v)
}

#[test]
fn report_series_carry_target_labels() {
    let target = l(&[("job", "j"), ("instance", "i:1")]);
    let o = AppendOptions {
        target_labels: target.clone(),
        ..opts()
    };
    let mut c = ScrapeCache::default();
    let p = process(&mut c, &o, body("a 1\nb 2\n"), 7000);
    assert!(p.error.is_none());
    assert_eq!(p.batch.len(), 2 + 5);
    for (name, v) in [
        ("up", 1.0),
        ("scrape_samples_scraped", 2.0),
        ("scrape_samples_post_metric_relabeling", 2.0),
        ("scrape_series_added", 2.0),
    ] {
        assert_eq!(value_of(&p, name), Some(v), "{name}");
    }
    let up = p
        .batch
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some("up"))
        .unwrap();
    assert_eq!(
        up.labels,
        l(&[("__name__", "up"), ("instance", "i:1"), ("job", "j")])
    );
    assert_eq!(up.samples[0].t, 7000);
    assert!(value_of(&p, "scrape_duration_seconds").unwrap() >= 0.0);
}

#[test]
fn failed_scrape_is_up_zero_with_stale_markers() {
    let o = opts();
    let mut c = ScrapeCache::default();
    process(&mut c, &o, body("a 1\nb 1\n"), 1000);
    let p = process(
        &mut c,
        &o,
        ScrapeOutcome::Failed {
            error: "boom".into(),
            body_size_exceeded: false,
        },
        2000,
    );
    assert_eq!(p.error.as_deref(), Some("boom"));
    assert_eq!(value_of(&p, "up"), Some(0.0));
    assert_eq!(value_of(&p, "scrape_samples_scraped"), Some(0.0));
    let stale: Vec<_> = p
        .batch
        .series
        .iter()
        .filter(|s| is_stale_nan(s.samples[0].v))
        .collect();
    assert_eq!(stale.len(), 2);
    // The next failure has nothing left to mark.
    let p = process(
        &mut c,
        &o,
        ScrapeOutcome::Failed {
            error: "boom".into(),
            body_size_exceeded: false,
        },
        3000,
    );
    assert_eq!(p.batch.len(), 5);
}

#[test]
fn parse_error_discards_samples_but_counts_them() {
    let o = opts();
    let mut c = ScrapeCache::default();
    process(&mut c, &o, body("a 1\nb 1\nc 1\n"), 1000);
    // Like Prometheus's streaming parser: `a` is processed before the error
    // (so it is not marked stale now), nothing of this scrape is stored.
    let p = process(&mut c, &o, body("a 2\n7&-\n"), 2000);
    assert!(
        p.error.as_deref().unwrap().starts_with("line 2"),
        "{:?}",
        p.error
    );
    assert_eq!(value_of(&p, "up"), Some(0.0));
    assert_eq!(value_of(&p, "scrape_samples_scraped"), Some(1.0));
    assert_eq!(value_of(&p, "a"), None);
    let mut stale: Vec<_> = p
        .batch
        .series
        .iter()
        .filter(|s| is_stale_nan(s.samples[0].v))
        .map(|s| s.labels.metric_name().unwrap())
        .collect();
    stale.sort();
    assert_eq!(stale, ["b", "c"]);
    // The next good scrape writes `a` and stales nothing.
    let p = process(&mut c, &o, body("a 3\n"), 3000);
    assert!(p.error.is_none());
    assert_eq!(value_of(&p, "a"), Some(3.0));
    assert_eq!(
        p.batch
            .series
            .iter()
            .filter(|s| is_stale_nan(s.samples[0].v))
            .count(),
        0
    );
}

#[test]
fn openmetrics_parse_error_counts_prefix() {
    let o = opts();
    let mut c = ScrapeCache::default();
    let p = process_scrape(
        &mut c,
        &o,
        ScrapeOutcome::Body {
            bytes: b"a_total 1\nb 2\n".to_vec(),
            content_type: Some("application/openmetrics-text; version=1.0.0".into()),
        },
        Instant::now(),
        1000,
        NOW,
        ReportOptions {
            extra: Some((10.0, 0)),
        },
    );
    assert!(p.error.is_some(), "missing # EOF must fail");
    assert_eq!(value_of(&p, "scrape_samples_scraped"), Some(2.0));
    assert_eq!(value_of(&p, "scrape_timeout_seconds"), Some(10.0));
    assert_eq!(value_of(&p, "scrape_body_size_bytes"), Some(14.0));
}

#[test]
fn sample_limit_fails_the_scrape() {
    let o = AppendOptions {
        sample_limit: 1,
        ..opts()
    };
    let mut c = ScrapeCache::default();
    let p = process(&mut c, &o, body("a 1\nb 1\n"), 1000);
    assert_eq!(p.error.as_deref(), Some("sample limit exceeded"));
    assert!(p.sample_limit_exceeded);
    assert_eq!(value_of(&p, "up"), Some(0.0));
    assert_eq!(value_of(&p, "a"), None);
    assert_eq!(
        value_of(&p, "scrape_samples_post_metric_relabeling"),
        Some(2.0)
    );
}

#[test]
fn report_stale_markers() {
    let mut b = Batch::default();
    append_report_stale(&mut b, &l(&[("job", "j")]), 9, true);
    assert_eq!(b.len(), 8);
    assert!(b
        .series
        .iter()
        .all(|s| is_stale_nan(s.samples[0].v) && s.samples[0].t == 9));
}
