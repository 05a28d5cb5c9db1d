use super::*;
use argus_model::traces::{Attr, SpanOrigin, StatusCode};
use argus_model::{validate_label_name, validate_metric_name, Exemplar, Labels, Sample};

const T0: i64 = 1_700_000_000_000;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).expect("valid tenant")
}

fn origin(service: &str) -> Arc<SpanOrigin> {
    Arc::new(SpanOrigin::new(vec![Attr::str("service.name", service)]))
}

/// A span of `service`, trace `trace`, id `id`, parent `parent`, lasting `ms`.
fn span(service: &str, kind: SpanKind, trace: u8, id: u8, parent: Option<u8>, ms: i64) -> Span {
    let start = 1_000_000_000;
    Span {
        origin: origin(service),
        trace_id: [trace; 16],
        span_id: [id; 8],
        parent_span_id: parent.map(|p| [p; 8]),
        name: "op".into(),
        kind,
        start_ns: start,
        end_ns: start + ms * 1_000_000,
        ..Span::default()
    }
}

fn with_attrs(mut s: Span, attrs: &[(&str, &str)]) -> Span {
    s.attrs = attrs.iter().map(|(k, v)| Attr::str(*k, *v)).collect();
    s
}

fn processor(f: impl FnOnce(&mut SpanMetricsConfig)) -> SpanMetricsProcessor {
    let mut cfg = SpanMetricsConfig::default();
    f(&mut cfg);
    SpanMetricsProcessor::new(cfg).expect("valid config")
}

fn labels(name: &str, pairs: &[(&str, &str)]) -> Labels {
    let mut b = LabelsBuilder::default();
    b.set("__name__", name);
    for (n, v) in pairs {
        b.set(*n, *v);
    }
    b.build()
}

/// The samples of series `name{pairs}` in a collection of one tenant.
fn samples(out: &[TenantMetrics], name: &str, pairs: &[(&str, &str)]) -> Vec<Sample> {
    let want = labels(name, pairs);
    out.iter()
        .flat_map(|m| &m.series)
        .find(|s| s.labels == want)
        .map(|s| s.samples.clone())
        .unwrap_or_default()
}

/// The latest value of series `name{pairs}`, if collected.
fn value(out: &[TenantMetrics], name: &str, pairs: &[(&str, &str)]) -> Option<f64> {
    samples(out, name, pairs).last().map(|s| s.v)
}

/// The cumulative bucket counts of histogram `name{pairs}`, by `le`.
fn buckets(out: &[TenantMetrics], name: &str, pairs: &[(&str, &str)], les: &[&str]) -> Vec<f64> {
    les.iter()
        .map(|le| {
            let mut p = pairs.to_vec();
            p.push(("le", le));
            value(out, &format!("{name}_bucket"), &p).unwrap_or(-1.0)
        })
        .collect()
}

const GRAPH_LES: [&str; 9] = [
    "0.1", "0.2", "0.4", "0.8", "1.6", "3.2", "6.4", "12.8", "+Inf",
];
const AB: [(&str, &str); 2] = [("client", "a"), ("server", "b")];

#[test]
fn a_pair_in_one_push_is_one_request() {
    let p = processor(|_| {});
    let t = tenant("t1");
    // a calls b: the client span lasts 150ms, the server span 100ms.
    let client = span("a", SpanKind::Client, 1, 10, Some(9), 150);
    let server = span("b", SpanKind::Server, 1, 11, Some(10), 100);
    p.observe(&t, &[client, server], T0);
    let out = p.collect(T0 + 5_000);
    assert_eq!(out.len(), 1);
    assert_eq!(value(&out, REQUEST_TOTAL, &AB), Some(1.0));
    // A new series starts with a 0 at the end of the previous minute.
    let first = samples(&out, REQUEST_TOTAL, &AB);
    assert_eq!(
        first,
        vec![
            Sample::new(registry::end_of_last_minute(T0 + 5_000), 0.0),
            Sample::new(T0 + 5_000, 1.0)
        ]
    );
    assert_eq!(value(&out, REQUEST_FAILED_TOTAL, &AB), None);
    // 0.1s is in le="0.1" (inclusive); 0.15s first in le="0.2".
    let server_b = buckets(&out, REQUEST_SERVER_SECONDS, &AB, &GRAPH_LES);
    assert_eq!(server_b, [1.0; 9]);
    let client_b = buckets(&out, REQUEST_CLIENT_SECONDS, &AB, &GRAPH_LES);
    assert_eq!(client_b, [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    let sum = value(&out, "traces_service_graph_request_client_seconds_sum", &AB);
    assert!((sum.unwrap_or(0.0) - 0.15).abs() < 1e-12);
    assert_eq!(
        value(
            &out,
            "traces_service_graph_request_server_seconds_count",
            &AB
        ),
        Some(1.0)
    );
    let stats = p.stats();
    assert_eq!(stats[0].1.edges_total, 1);
    assert_eq!(stats[0].1.pending_edges, 0);
    // The next collection: one sample, the counter unchanged.
    let out = p.collect(T0 + 20_000);
    assert_eq!(
        samples(&out, REQUEST_TOTAL, &AB),
        vec![Sample::new(T0 + 20_000, 1.0)]
    );
}

#[test]
fn a_pair_in_two_pushes_out_of_order_pairs() {
    let p = processor(|_| {});
    let t = tenant("t1");
    // The server span first, then its client 3s later (within the 10s wait).
    p.observe(&t, &[span("b", SpanKind::Server, 2, 21, Some(20), 40)], T0);
    assert_eq!(p.stats()[0].1.pending_edges, 1);
    assert_eq!(value(&p.collect(T0 + 1_000), REQUEST_TOTAL, &AB), None);
    p.observe(
        &t,
        &[span("a", SpanKind::Client, 2, 20, None, 50)],
        T0 + 3_000,
    );
    let out = p.collect(T0 + 30_000);
    assert_eq!(value(&out, REQUEST_TOTAL, &AB), Some(1.0));
    let s = &p.stats()[0].1;
    assert_eq!((s.edges_total, s.pending_edges), (1, 0));
    assert!(s.expired_edges.is_empty());
    // Another client span of another trace does not pair with anything.
    p.observe(
        &t,
        &[span("b", SpanKind::Server, 3, 31, Some(30), 40)],
        T0 + 31_000,
    );
    p.observe(
        &t,
        &[span("a", SpanKind::Client, 4, 30, None, 40)],
        T0 + 31_000,
    );
    assert_eq!(
        value(&p.collect(T0 + 32_000), REQUEST_TOTAL, &AB),
        Some(1.0)
    );
}

#[test]
fn a_failed_side_counts_as_failed() {
    let p = processor(|_| {});
    let t = tenant("t1");
    let mut server = span("b", SpanKind::Server, 1, 11, Some(10), 10);
    server.status = StatusCode::Error;
    let client = span("a", SpanKind::Client, 1, 10, None, 20);
    let ok_client = span("a", SpanKind::Client, 2, 10, None, 20);
    let ok_server = span("b", SpanKind::Server, 2, 11, Some(10), 10);
    p.observe(&t, &[server, client, ok_client, ok_server], T0);
    let out = p.collect(T0);
    assert_eq!(value(&out, REQUEST_TOTAL, &AB), Some(2.0));
    assert_eq!(value(&out, REQUEST_FAILED_TOTAL, &AB), Some(1.0));
}

#[test]
fn an_unpaired_client_expires_after_the_wait() {
    let p = processor(|_| {});
    let t = tenant("t1");
    p.observe(&t, &[span("a", SpanKind::Client, 1, 10, None, 20)], T0);
    p.collect(T0 + 9_999);
    assert_eq!(p.stats()[0].1.pending_edges, 1);
    let out = p.collect(T0 + 10_000);
    let s = &p.stats()[0].1;
    assert_eq!(s.pending_edges, 0);
    assert_eq!(s.expired_edges.get("SPAN_KIND_CLIENT"), Some(&1));
    let graph = out[0].series.iter().filter(|s| {
        s.labels
            .metric_name()
            .is_some_and(|n| n.starts_with("traces_service_graph"))
    });
    assert_eq!(graph.count(), 0);
    // A server span arriving after the expiry waits on its own.
    p.observe(
        &t,
        &[span("b", SpanKind::Server, 1, 11, Some(10), 20)],
        T0 + 10_001,
    );
    let out = p.collect(T0 + 20_001);
    assert_eq!(value(&out, REQUEST_TOTAL, &AB), None);
    let s = &p.stats()[0].1;
    assert_eq!(s.expired_edges.get("SPAN_KIND_SERVER"), Some(&1));
    assert_eq!(s.edges_total, 2);
}

#[test]
fn expired_edges_with_a_peer_become_virtual_nodes() {
    let p = processor(|_| {});
    let t = tenant("t1");
    let to_stripe = with_attrs(
        span("a", SpanKind::Client, 1, 10, None, 20),
        &[("peer.service", "stripe")],
    );
    // A root server span: called from outside (no peer attribute: "user").
    let root = span("b", SpanKind::Server, 2, 20, None, 30);
    // A root server span whose peer is named.
    let from_web = with_attrs(
        span("c", SpanKind::Server, 3, 30, None, 30),
        &[("peer.service", "web")],
    );
    p.observe(&t, &[to_stripe, root, from_web], T0);
    assert_eq!(value(&p.collect(T0 + 9_000), REQUEST_TOTAL, &AB), None);
    let out = p.collect(T0 + 10_000);
    let vn = ("connection_type", "virtual_node");
    let a_stripe = [("client", "a"), ("server", "stripe"), vn];
    assert_eq!(value(&out, REQUEST_TOTAL, &a_stripe), Some(1.0));
    let user_b = [("client", "user"), ("server", "b"), vn];
    assert_eq!(value(&out, REQUEST_TOTAL, &user_b), Some(1.0));
    let web_c = [("client", "web"), ("server", "c"), vn];
    assert_eq!(value(&out, REQUEST_TOTAL, &web_c), Some(1.0));
    // The missing side's latency is observed as 0.
    assert_eq!(
        buckets(&out, REQUEST_SERVER_SECONDS, &a_stripe, &["0.1"]),
        [1.0]
    );
    assert!(p.stats()[0].1.expired_edges.is_empty());
}

#[test]
fn database_calls_are_edges_at_once() {
    let p = processor(|_| {});
    let t = tenant("t1");
    let pg = with_attrs(
        span("a", SpanKind::Client, 1, 10, None, 250),
        &[("db.system", "postgresql")],
    );
    let named = with_attrs(
        span("a", SpanKind::Client, 2, 10, None, 250),
        &[
            ("db.name", "orders"),
            ("network.peer.address", "10.0.0.1"),
            ("network.peer.port", "5432"),
        ],
    );
    p.observe(&t, &[pg, named], T0);
    let out = p.collect(T0);
    let db = ("connection_type", "database");
    let a_pg = [("client", "a"), ("server", "postgresql"), db];
    assert_eq!(value(&out, REQUEST_TOTAL, &a_pg), Some(1.0));
    // The server latency is the client span's: 0.25s, first in le="0.4".
    assert_eq!(
        buckets(&out, REQUEST_SERVER_SECONDS, &a_pg, &["0.2", "0.4"]),
        [0.0, 1.0]
    );
    let a_addr = [("client", "a"), ("server", "10.0.0.1:5432"), db];
    assert_eq!(value(&out, REQUEST_TOTAL, &a_addr), Some(1.0));
    assert_eq!(p.stats()[0].1.pending_edges, 0);
}

#[test]
fn producer_and_consumer_are_a_messaging_edge() {
    let p = processor(|_| {});
    let t = tenant("t1");
    let producer = span("a", SpanKind::Producer, 1, 10, None, 5);
    let consumer = span("b", SpanKind::Consumer, 1, 11, Some(10), 5);
    p.observe(&t, &[consumer, producer], T0);
    let out = p.collect(T0);
    let pairs = [AB[0], AB[1], ("connection_type", "messaging_system")];
    assert_eq!(value(&out, REQUEST_TOTAL, &pairs), Some(1.0));
}

#[test]
fn service_graph_dimensions_come_from_either_side() {
    let p = processor(|c| c.service_graph_dimensions = vec!["deployment.env".into()]);
    let t = tenant("t1");
    let client = with_attrs(
        span("a", SpanKind::Client, 1, 10, None, 5),
        &[("deployment.env", "prod")],
    );
    p.observe(
        &t,
        &[client, span("b", SpanKind::Server, 1, 11, Some(10), 5)],
        T0,
    );
    let out = p.collect(T0);
    let pairs = [AB[0], AB[1], ("deployment_env", "prod")];
    assert_eq!(value(&out, REQUEST_TOTAL, &pairs), Some(1.0));
}

const SPAN_LES: [&str; 15] = [
    "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512", "1.024",
    "2.048", "4.096", "8.192", "16.384", "+Inf",
];

#[test]
fn span_metrics_count_by_service_name_kind_status_and_dimension() {
    let p = processor(|c| c.dimensions = vec!["http.method".into(), "service".into()]);
    let t = tenant("t1");
    let get = |ms, status| {
        let mut s = with_attrs(
            span("api", SpanKind::Server, 1, 1, None, ms),
            &[("http.method", "GET"), ("service", "x")],
        );
        s.name = "GET /items".into();
        s.status = status;
        s
    };
    let internal = span("api", SpanKind::Internal, 1, 2, Some(1), 1);
    p.observe(
        &t,
        &[
            get(3, StatusCode::Unset),
            get(100, StatusCode::Unset),
            get(5, StatusCode::Error),
            internal,
        ],
        T0,
    );
    let out = p.collect(T0);
    let ok = [
        ("service", "api"),
        ("span_name", "GET /items"),
        ("span_kind", "SPAN_KIND_SERVER"),
        ("status_code", "STATUS_CODE_UNSET"),
        ("http_method", "GET"),
        // A dimension named like an intrinsic label is prefixed.
        ("__service", "x"),
    ];
    assert_eq!(value(&out, CALLS_TOTAL, &ok), Some(2.0));
    let mut err = ok;
    err[3] = ("status_code", "STATUS_CODE_ERROR");
    assert_eq!(value(&out, CALLS_TOTAL, &err), Some(1.0));
    // 3ms is first in le="0.004", 100ms in le="0.128".
    let b = buckets(&out, "traces_spanmetrics_latency", &ok, &SPAN_LES);
    let want = [0., 1., 1., 1., 1., 1., 2., 2., 2., 2., 2., 2., 2., 2., 2.];
    assert_eq!(b, want);
    let sum = value(&out, "traces_spanmetrics_latency_sum", &ok).unwrap_or(0.0);
    assert!((sum - 0.103).abs() < 1e-12, "{sum}");
    // The internal span has neither dimension: the labels are absent.
    let internal = [
        ("service", "api"),
        ("span_name", "op"),
        ("span_kind", "SPAN_KIND_INTERNAL"),
        ("status_code", "STATUS_CODE_UNSET"),
    ];
    assert_eq!(value(&out, CALLS_TOTAL, &internal), Some(1.0));
    let size = value(&out, SIZE_TOTAL, &internal).unwrap_or(0.0);
    let one = size::span_proto_len(&span("api", SpanKind::Internal, 1, 2, Some(1), 1));
    assert_eq!(size, one as f64);
}

#[test]
fn exemplars_carry_the_trace_id_once() {
    let p = processor(|_| {});
    let t = tenant("t1");
    let mut s = span("api", SpanKind::Internal, 0, 1, None, 3);
    s.trace_id[14] = 0x0a;
    s.trace_id[15] = 0xbc;
    p.observe(&t, &[s], T0);
    let out = p.collect(T0 + 1);
    // (series, exemplar) of every exemplar collected.
    let exemplars = |out: &[TenantMetrics]| -> Vec<(Labels, Exemplar)> {
        out.iter()
            .flat_map(|m| &m.series)
            .flat_map(|s| s.exemplars.iter().map(|e| (s.labels.clone(), e.clone())))
            .collect()
    };
    let ex: Vec<_> = exemplars(&out)
        .into_iter()
        .filter(|(l, _)| l.metric_name() == Some("traces_spanmetrics_latency_bucket"))
        .collect();
    assert_eq!(ex.len(), 1, "{ex:?}");
    // In the bucket the value first falls in; leading zeros trimmed.
    assert_eq!(ex[0].0.get("le"), Some("0.004"));
    assert_eq!(ex[0].0.get("service"), Some("api"));
    assert_eq!(
        ex[0].1,
        Exemplar::new(Labels::from_pairs([("traceID", "abc")]), 0.003, T0 + 1)
    );
    // Emitted once.
    assert!(exemplars(&p.collect(T0 + 2)).is_empty());
    // Service graph histograms carry the client's trace id.
    let c = span("a", SpanKind::Client, 0x11, 10, None, 5);
    let sv = span("b", SpanKind::Server, 0x11, 11, Some(10), 5);
    p.observe(&t, &[sv, c], T0 + 3);
    let out = p.collect(T0 + 4);
    let graph: Vec<_> = exemplars(&out)
        .into_iter()
        .filter(|(l, _)| l.get("client") == Some("a"))
        .collect();
    assert_eq!(graph.len(), 2);
    for (l, e) in graph {
        assert_eq!(e.labels.get("traceID"), Some("11".repeat(16).as_str()));
        assert_eq!(l.get("le"), Some("0.1"));
    }
}

#[test]
fn the_series_cap_sends_new_series_to_overflow() {
    // One internal span costs 19 series: calls and size 1 each, the
    // latency histogram 14 buckets + "+Inf" + _sum + _count.
    let p = processor(|c| c.max_series = 19);
    let t = tenant("t1");
    let mut other = span("api", SpanKind::Internal, 1, 2, None, 1);
    other.name = "other".into();
    p.observe(&t, &[span("api", SpanKind::Internal, 1, 1, None, 1)], T0);
    p.observe(&t, &[other.clone(), other], T0);
    let out = p.collect(T0);
    let overflow = [("metric_overflow", "true")];
    assert_eq!(value(&out, CALLS_TOTAL, &overflow), Some(2.0));
    assert_eq!(
        value(&out, "traces_spanmetrics_latency_count", &overflow),
        Some(2.0)
    );
    let first = [
        ("service", "api"),
        ("span_name", "op"),
        ("span_kind", "SPAN_KIND_INTERNAL"),
        ("status_code", "STATUS_CODE_UNSET"),
    ];
    assert_eq!(value(&out, CALLS_TOTAL, &first), Some(1.0));
    let s = &p.stats()[0].1;
    assert_eq!(s.active_series, 19);
    assert_eq!(s.series_limited, 2 * 19);
    // 19 series, 19 overflow series.
    assert_eq!(out[0].series.len(), 38);
}

#[test]
fn pending_edges_are_capped() {
    let p = processor(|c| c.max_pending_edges = 1);
    let t = tenant("t1");
    p.observe(
        &t,
        &[
            span("a", SpanKind::Client, 1, 10, None, 5),
            span("a", SpanKind::Client, 2, 10, None, 5),
        ],
        T0,
    );
    let s = &p.stats()[0].1;
    assert_eq!((s.pending_edges, s.dropped_spans, s.edges_total), (1, 1, 1));
}

#[test]
fn stale_series_and_idle_tenants_are_dropped() {
    let p = processor(|c| c.stale_duration = Duration::from_secs(60));
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    p.observe(&t1, &[span("api", SpanKind::Internal, 1, 1, None, 1)], T0);
    p.observe(
        &t2,
        &[span("web", SpanKind::Internal, 1, 1, None, 1)],
        T0 + 30_000,
    );
    let out = p.collect(T0 + 60_000);
    assert_eq!(
        out.iter().map(|m| m.tenant.as_str()).collect::<Vec<_>>(),
        ["t1", "t2"]
    );
    let out = p.collect(T0 + 60_001);
    assert_eq!(
        out.iter().map(|m| m.tenant.as_str()).collect::<Vec<_>>(),
        ["t2"]
    );
    assert_eq!(p.stats().len(), 1);
}

#[test]
fn collected_labels_are_sorted_and_valid() {
    let p = processor(|c| {
        c.dimensions = vec!["http.method".into(), "9lives".into(), "k8s.pod-name".into()];
        c.service_graph_dimensions = vec!["deployment.env".into()];
    });
    let t = tenant("t1");
    let client = with_attrs(
        span("a", SpanKind::Client, 1, 10, None, 5),
        &[
            ("http.method", "GET"),
            ("9lives", "y"),
            ("k8s.pod-name", "p"),
        ],
    );
    p.observe(
        &t,
        &[client, span("b", SpanKind::Server, 1, 11, Some(10), 5)],
        T0,
    );
    let out = p.collect(T0);
    assert!(!out[0].series.is_empty());
    for l in out[0].series.iter().map(|s| &s.labels) {
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{l}");
        assert!(names.iter().all(|n| validate_label_name(n)), "{l}");
        assert!(l.iter().all(|l| !l.value.is_empty()), "{l}");
        assert!(validate_metric_name(l.metric_name().unwrap_or("")), "{l}");
        assert_eq!(*l, Labels::from_pairs(l.pairs()));
    }
    let client_series = labels(
        CALLS_TOTAL,
        &[
            ("service", "a"),
            ("span_name", "op"),
            ("span_kind", "SPAN_KIND_CLIENT"),
            ("status_code", "STATUS_CODE_UNSET"),
            ("http_method", "GET"),
            ("_lives", "y"),
            ("k8s_pod_name", "p"),
        ],
    );
    assert!(out[0].series.iter().any(|s| s.labels == client_series));
}

#[test]
fn bad_configs_are_refused() {
    let bad = |f: fn(&mut SpanMetricsConfig)| {
        let mut c = SpanMetricsConfig::default();
        f(&mut c);
        SpanMetricsProcessor::new(c).err()
    };
    assert!(matches!(
        bad(|c| c.histogram_buckets = vec![0.1, f64::NAN]),
        Some(SpanMetricsConfigError::BadBucket(_))
    ));
    assert_eq!(
        bad(|c| c.service_graph_buckets = vec![f64::INFINITY]),
        Some(SpanMetricsConfigError::BadBucket(f64::INFINITY))
    );
    assert_eq!(
        bad(|c| c.dimensions = vec![String::new()]),
        Some(SpanMetricsConfigError::EmptyDimension)
    );
    // Unsorted buckets are sorted.
    let p = processor(|c| c.histogram_buckets = vec![1.0, 0.5]);
    p.observe(
        &tenant("t"),
        &[span("a", SpanKind::Internal, 1, 1, None, 700)],
        T0,
    );
    let out = p.collect(T0);
    let pairs = [
        ("service", "a"),
        ("span_name", "op"),
        ("span_kind", "SPAN_KIND_INTERNAL"),
        ("status_code", "STATUS_CODE_UNSET"),
    ];
    let b = buckets(
        &out,
        "traces_spanmetrics_latency",
        &pairs,
        &["0.5", "1", "+Inf"],
    );
    assert_eq!(b, [0.0, 1.0, 1.0]);
}
