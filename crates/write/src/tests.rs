use super::*;
use argus_limits::{Limits, MetricsLimits};
use argus_model::{FloatHistogram, HistogramSample, Labels, Sample};
use argus_objstore::{Backend, ObjectStorage};
use argus_tsdb::Db;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn pipeline(dir: &std::path::Path, limits: LimitsConfig) -> WritePipeline {
    let storage =
        ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt
        .block_on(Db::open(
            argus_tsdb::DbOptions::new(dir.to_path_buf()),
            storage,
        ))
        .unwrap();
    WritePipeline::new(Arc::new(db), limits)
}

fn floats(name: &str, i: usize, n: i64) -> TimeSeries {
    TimeSeries {
        labels: Labels::from_pairs([("__name__", name), ("i", &*i.to_string())]),
        samples: (0..n).map(|k| Sample::new(1_000 * k, 1.0)).collect(),
        ..Default::default()
    }
}

fn histograms(name: &str, n: i64) -> TimeSeries {
    TimeSeries {
        labels: Labels::from_pairs([("__name__", name)]),
        histograms: (0..n)
            .map(|k| HistogramSample {
                t: 1_000 * k,
                h: FloatHistogram::default(),
            })
            .collect(),
        ..Default::default()
    }
}

fn rendered(p: &WritePipeline) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    p.metrics().register(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
    out
}

fn limits_for(t: &str, metrics: MetricsLimits) -> LimitsConfig {
    let mut c = LimitsConfig::default();
    c.overrides.insert(
        t.into(),
        Limits {
            metrics,
            ..Limits::default()
        },
    );
    c
}

#[test]
fn histograms_count_as_samples_received_and_against_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(
        dir.path(),
        limits_for(
            "slow",
            MetricsLimits {
                ingestion_rate: 1.0,
                ingestion_burst: 10.0,
                ..MetricsLimits::default()
            },
        ),
    );
    let t = tenant("slow");
    let o = p
        .write(&t, vec![floats("f", 0, 3), histograms("h", 4)])
        .unwrap();
    assert_eq!(o.rejected_samples(), 0);
    assert_eq!(o.report.histograms_accepted, 4);
    // 7 of 10 tokens are gone: 4 more samples (histograms too) are refused.
    let err = p.write(&t, vec![histograms("h2", 4)]).unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert!(err.to_string().contains("nothing was stored"), "{err}");
    assert!(p.check_rate(&t).is_ok(), "3 tokens left");
    let m = rendered(&p);
    assert!(
        m.contains("argus_ingest_samples_received_total{tenant=\"slow\"} 7"),
        "{m}"
    );
    assert!(
        m.contains(
            "argus_ingest_samples_rejected_total{reason=\"rate_limited\",tenant=\"slow\"} 4"
        ),
        "{m}"
    );
    // Other tenants have their own budget.
    assert!(p.write(&tenant("other"), vec![floats("f", 0, 50)]).is_ok());
}

#[test]
fn too_long_labels_reject_only_their_series() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(
        dir.path(),
        limits_for(
            "t",
            MetricsLimits {
                max_label_value_length: 8,
                ..MetricsLimits::default()
            },
        ),
    );
    let t = tenant("t");
    let long = TimeSeries {
        labels: Labels::from_pairs([("__name__", "m"), ("path", "/a/very/long/path")]),
        samples: vec![Sample::new(0, 1.0), Sample::new(1, 1.0)],
        ..Default::default()
    };
    let o = p.write(&t, vec![long, floats("m", 1, 1)]).unwrap();
    assert_eq!(o.report.accepted, 1);
    assert_eq!(o.invalid_samples, 2);
    assert!(!o.limited());
    let msg = o.message(3).unwrap();
    assert!(msg.starts_with("2 of 3 samples rejected"), "{msg}");
    assert!(
        msg.contains("value of label \"path\" is longer than the limit of 8 bytes"),
        "{msg}"
    );
    let o = o.with_decode_rejections(vec![("series x: bad".into(), 1)], 1);
    assert_eq!(o.rejected_samples(), 3);
    assert!(o.message(4).unwrap().contains("e.g. series x: bad; series"));
    let m = rendered(&p);
    assert!(
        m.contains("argus_ingest_samples_rejected_total{reason=\"label_too_long\",tenant=\"t\"} 2"),
        "{m}"
    );
}

#[test]
fn exemplars_of_kept_series_are_stored_long_labels_dropped() {
    use argus_model::{Exemplar, Matcher};
    use argus_store::MetricsReader;
    let dir = tempfile::tempdir().unwrap();
    let storage = ObjectStorage::new(
        Backend::Local(dir.path().join("objects")),
        dir.path().join("cache"),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = Arc::new(
        rt.block_on(Db::open(
            argus_tsdb::DbOptions::new(dir.path().to_path_buf()),
            storage,
        ))
        .unwrap(),
    );
    let p = WritePipeline::new(db.clone(), LimitsConfig::default());
    let t = tenant("t");
    let trace = |v: &str| Labels::from_pairs([("trace_id", v)]);
    let mut s = floats("m", 0, 2);
    s.exemplars = vec![
        Exemplar::new(trace("abc"), 6.0, 1000),
        Exemplar::new(trace(&"x".repeat(200)), 1.0, 1001),
        // Older than the one before: the store refuses it.
        Exemplar::new(trace("old"), 1.0, 10),
    ];
    let o = p.write(&t, vec![s.clone()]).unwrap();
    assert_eq!(o.report.accepted, 2);
    assert_eq!(o.exemplars.written, 1);
    assert_eq!(o.exemplars.rejected.get("label_too_long"), Some(&1));
    assert_eq!(o.exemplars.rejected.get("out_of_order"), Some(&1));
    // A retry: the exemplar is a duplicate, written again as Prometheus counts it.
    s.exemplars.truncate(1);
    let o = p.write(&t, vec![s]).unwrap();
    assert_eq!((o.exemplars.written, o.exemplars.rejected_total()), (1, 0));
    let reader: &dyn MetricsReader = &*db;
    let got = reader
        .select_exemplars(&t, &[vec![Matcher::equal("__name__", "m")]], 0, 2000)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, vec![Exemplar::new(trace("abc"), 6.0, 1000)]);
    let m = rendered(&p);
    assert!(
        m.contains("argus_ingest_exemplars_received_total{tenant=\"t\"} 4"),
        "{m}"
    );
    assert!(
        m.contains(
            "argus_ingest_exemplars_rejected_total{reason=\"label_too_long\",tenant=\"t\"} 1"
        ),
        "{m}"
    );
}
