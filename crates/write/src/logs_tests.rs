use super::*;
use argus_limits::Limits;
use argus_model::{Labels, LogStream};
use argus_store::{Direction, LogSelect, LogsReader, MemLogs};

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn limits_for(t: &str, logs: LogsLimits) -> LimitsConfig {
    let mut c = LimitsConfig::default();
    c.overrides.insert(
        t.into(),
        Limits {
            logs,
            ..Limits::default()
        },
    );
    c
}

fn stream(pairs: &[(&str, &str)], lines: &[&str]) -> LogStream {
    LogStream {
        labels: Labels::from_pairs(pairs.iter().copied()),
        entries: lines
            .iter()
            .enumerate()
            .map(|(i, l)| LogEntry::new(1_000 + i as i64, *l))
            .collect(),
    }
}

fn stored(m: &MemLogs, t: &TenantId) -> Vec<(Labels, Vec<String>)> {
    let mut c = m
        .select(
            t,
            &LogSelect {
                matchers: vec![],
                start_ns: i64::MIN,
                end_ns: i64::MAX,
                required: vec![],
                direction: Direction::Forward,
                skip_lines: false,
                metadata_keys: None,
                json_keys: None,
            },
        )
        .unwrap();
    let mut out = Vec::new();
    while let Some(b) = c.next_batch().unwrap() {
        out.push((
            (*b.labels).clone(),
            b.entries.into_iter().map(|e| e.line).collect(),
        ));
    }
    out.sort();
    out
}

fn rendered(p: &LogsPipeline) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    p.metrics().register(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
    out
}

#[test]
fn valid_push_is_stored_and_counted() {
    let mem = Arc::new(MemLogs::new());
    let p = LogsPipeline::new(mem.clone(), LimitsConfig::default()).unwrap();
    let t = tenant("a");
    let o = p
        .write(&t, vec![stream(&[("job", "x")], &["one", "two"])])
        .unwrap();
    assert_eq!(o.accepted_entries(), 2);
    assert_eq!(o.received_bytes, 6);
    assert!(o.message().is_none());
    assert_eq!(
        stored(&mem, &t),
        vec![(
            Labels::from_pairs([("job", "x")]),
            vec!["one".into(), "two".into()]
        )]
    );
    let m = rendered(&p);
    assert!(
        m.contains("argus_ingest_log_lines_received_total{tenant=\"a\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("argus_ingest_log_bytes_received_total{tenant=\"a\"} 6"),
        "{m}"
    );
}

#[test]
fn rate_limit_refuses_the_whole_push() {
    let mem = Arc::new(MemLogs::new());
    let limits = limits_for(
        "slow",
        LogsLimits {
            ingestion_rate_bytes: 1.0,
            ingestion_burst_bytes: 10.0,
            ..LogsLimits::default()
        },
    );
    let p = LogsPipeline::new(mem.clone(), limits).unwrap();
    let t = tenant("slow");
    p.write(&t, vec![stream(&[("job", "x")], &["12345678"])])
        .unwrap();
    let err = p
        .write(&t, vec![stream(&[("job", "x")], &["abcdef"])])
        .unwrap_err();
    assert!(err.is_rate_limited());
    let msg = err.to_string();
    assert!(
        msg.starts_with("ingestion rate limit exceeded for user slow (limit: 1 bytes/sec) while attempting to ingest '1' lines totaling '6' bytes"),
        "{msg}"
    );
    assert_eq!(
        stored(&mem, &t)[0].1.len(),
        1,
        "nothing of the refused push"
    );
    assert!(p.check_rate(&t).is_ok(), "2 bytes left");
    let m = rendered(&p);
    assert!(
        m.contains(
            "argus_ingest_log_lines_rejected_total{reason=\"rate_limited\",tenant=\"slow\"} 1"
        ),
        "{m}"
    );
    // Another tenant has its own bucket.
    assert!(p
        .write(&tenant("b"), vec![stream(&[("job", "x")], &["abcdef"])])
        .is_ok());
}

#[test]
fn check_rate_refuses_when_the_bucket_is_empty() {
    let limits = limits_for(
        "t",
        LogsLimits {
            ingestion_rate_bytes: 0.001,
            ingestion_burst_bytes: 4.0,
            ..LogsLimits::default()
        },
    );
    let p = LogsPipeline::new(Arc::new(MemLogs::new()), limits).unwrap();
    let t = tenant("t");
    p.write(&t, vec![stream(&[("job", "x")], &["1234"])])
        .unwrap();
    assert!(p.check_rate(&t).unwrap_err().is_rate_limited());
}

#[test]
fn invalid_streams_and_entries_are_refused_alone_with_lokis_messages() {
    let mem = Arc::new(MemLogs::new());
    let limits = limits_for(
        "t",
        LogsLimits {
            max_line_bytes: 5,
            max_labels_per_stream: 2,
            max_label_name_length: 12,
            max_label_value_length: 6,
            max_structured_metadata_bytes: 10,
            max_structured_metadata_entries: 2,
            ..LogsLimits::default()
        },
    );
    let p = LogsPipeline::new(mem.clone(), limits).unwrap();
    let t = tenant("t");
    let mut meta = stream(&[("job", "m")], &["a", "b", "c"]);
    meta.entries[1].metadata = vec![("k".into(), "0123456789".into())];
    meta.entries[2].metadata = vec![
        ("a".into(), "1".into()),
        ("b".into(), "2".into()),
        ("c".into(), "3".into()),
    ];
    let push = vec![
        stream(&[("job", "ok")], &["fine", "too long"]),
        stream(&[], &["x"]),
        stream(&[("a", "1"), ("b", "2"), ("c", "3")], &["x"]),
        // service_name is not counted, as in Loki.
        stream(&[("a", "1"), ("b", "2"), ("service_name", "s")], &["y"]),
        stream(&[("job", "a-long-value")], &["x", "y"]),
        stream(&[("a_very_long_name", "v")], &["x"]),
        stream(&[("bad.name", "v")], &["x"]),
        meta,
    ];
    let o = p.write(&t, push).unwrap();
    let r = |x: LogsRejectReason| o.rejected.get(&x).copied().unwrap_or(0);
    assert_eq!(r(LogsRejectReason::LineTooLong), 1);
    assert_eq!(r(LogsRejectReason::MissingLabels), 1);
    assert_eq!(r(LogsRejectReason::MaxLabelNamesPerSeries), 1);
    assert_eq!(r(LogsRejectReason::LabelValueTooLong), 2);
    assert_eq!(r(LogsRejectReason::LabelNameTooLong), 1);
    assert_eq!(r(LogsRejectReason::InvalidLabels), 1);
    assert_eq!(r(LogsRejectReason::StructuredMetadataTooLarge), 1);
    assert_eq!(r(LogsRejectReason::StructuredMetadataTooMany), 1);
    assert!(!o.limited());
    assert_eq!(o.accepted_entries(), 3);
    let st = stored(&mem, &t);
    assert_eq!(st.len(), 3, "{st:?}");
    let msg = o.message().unwrap();
    for want in [
        "1 errors like: max entry size '5' bytes exceeded for stream '{job=\"ok\"}' while adding an entry with length '8' bytes",
        "error at least one label pair is required per stream",
        "entry for stream '{a=\"1\", b=\"2\", c=\"3\"}' has 3 label names; limit 2",
        "stream '{job=\"a-long-value\"}' has label value too long: 'a-long-value'",
        "stream '{a_very_long_name=\"v\"}' has label name too long: 'a_very_long_name'",
        "error parsing labels '{bad.name=\"v\"}' with error: invalid label name \"bad.name\"",
        "has structured metadata too large: '11' bytes, limit: '10' bytes",
        "has too many structured metadata labels: '3', limit: '2'",
    ] {
        assert!(msg.contains(want), "{want}\n in {msg}");
    }
    // Positions for entry points that answer per item.
    let line = o
        .rejections
        .iter()
        .find(|x| x.reason == LogsRejectReason::LineTooLong)
        .unwrap();
    assert_eq!((line.stream, line.entry), (Some(0), Some(1)));
    let m = rendered(&p);
    assert!(
        m.contains(
            "argus_ingest_log_lines_rejected_total{reason=\"label_value_too_long\",tenant=\"t\"} 2"
        ),
        "{m}"
    );
}

#[test]
fn identical_problems_are_grouped() {
    let limits = limits_for(
        "t",
        LogsLimits {
            max_line_bytes: 1,
            ..LogsLimits::default()
        },
    );
    let p = LogsPipeline::new(Arc::new(MemLogs::new()), limits).unwrap();
    let o = p
        .write(&tenant("t"), vec![stream(&[("j", "x")], &["aa", "bb"])])
        .unwrap();
    assert_eq!(
        o.message().unwrap(),
        "2 errors like: max entry size '1' bytes exceeded for stream '{j=\"x\"}' while adding an entry with length '2' bytes"
    );
}

/// A store that refuses every stream it has not seen, as over its limit,
/// and records the limits it was given.
#[derive(Debug, Default)]
struct Refusing {
    seen: parking_lot::Mutex<Option<StreamLimits>>,
}

impl LogsWriter for Refusing {
    fn push(
        &self,
        _t: &TenantId,
        streams: LogPush,
        limits: StreamLimits,
    ) -> Result<PushReport, StorageError> {
        *self.seen.lock() = Some(limits);
        let mut r = PushReport::default();
        for s in streams {
            r.rejected
                .insert(LogRejectReason::StreamLimit, s.entries.len());
            r.examples
                .push((s.labels.to_string(), "stream_limit".into(), s.entries.len()));
        }
        Ok(r)
    }
}

#[test]
fn store_rejections_are_merged_and_limits_passed() {
    let store = Arc::new(Refusing::default());
    let limits = limits_for(
        "t",
        LogsLimits {
            max_streams: 7,
            out_of_order_window: "2m".into(),
            ..LogsLimits::default()
        },
    );
    let p = LogsPipeline::new(store.clone(), limits).unwrap();
    let o = p
        .write(&tenant("t"), vec![stream(&[("job", "x")], &["a", "b"])])
        .unwrap();
    let seen = store.seen.lock().unwrap();
    assert_eq!(seen.max_streams, 7);
    assert_eq!(seen.out_of_order_window_ns, 120_000_000_000);
    assert!(o.limited());
    assert_eq!(o.rejected_total(), 2);
    assert!(o.message().unwrap().starts_with(
        "maximum active stream limit exceeded when trying to create stream {job=\"x\"}"
    ));
    // The default tenant's window is the default, 1h.
    p.write(&tenant("u"), vec![stream(&[("job", "x")], &["a"])])
        .unwrap();
    assert_eq!(
        store.seen.lock().unwrap().out_of_order_window_ns,
        3_600_000_000_000
    );
}

#[test]
fn a_bad_out_of_order_window_is_refused_with_its_place() {
    let limits = limits_for(
        "team",
        LogsLimits {
            out_of_order_window: "soon".into(),
            ..LogsLimits::default()
        },
    );
    let e = LogsPipeline::new(Arc::new(MemLogs::new()), limits).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("overrides.team.logs.out_of_order_window: invalid duration \"soon\""),
        "{e}"
    );
}
