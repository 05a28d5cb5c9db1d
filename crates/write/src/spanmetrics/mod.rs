//! Metrics derived from spans, as Tempo's metrics-generator derives them
//! (its `span-metrics` and `service-graphs` processors, classic
//! histograms): a stateful processor, one per process, with every tenant's
//! series inside.
//!
//! [`SpanMetricsProcessor::observe`] takes spans just stored for a tenant;
//! [`SpanMetricsProcessor::collect`] returns every tenant's cumulative
//! series (Prometheus semantics: counters count since the process
//! started), to be written into the metrics store periodically as Tempo
//! remote-writes them.
//!
//! Span metrics, per span (labels `service`, `span_name`, `span_kind`
//! such as `SPAN_KIND_SERVER`, `status_code` such as `STATUS_CODE_ERROR`,
//! and the configured dimensions):
//! - `traces_spanmetrics_calls_total`
//! - `traces_spanmetrics_latency_bucket|_sum|_count` (seconds)
//! - `traces_spanmetrics_size_total` (bytes of the span's OTLP encoding)
//!
//! Service graph, per request between two services (labels `client`,
//! `server`, `connection_type` when known, and the configured service
//! graph dimensions; see `graph.rs` for how spans pair):
//! - `traces_service_graph_request_total`
//! - `traces_service_graph_request_failed_total` (either side has status error)
//! - `traces_service_graph_request_server_seconds_bucket|_sum|_count`
//! - `traces_service_graph_request_client_seconds_bucket|_sum|_count`
//!
//! A dimension is an attribute key looked up in the resource, then the
//! span; its label name is the key sanitised (`http.method` →
//! `http_method`), prefixed with `__` when it would be an intrinsic label
//! (`service`, `span_name`, `span_kind`, `status_code`, `status_message`).
//!
//! Histogram buckets carry exemplars (`{traceID="<hex, leading zeros
//! trimmed>"}`, the observed value in seconds) in their series'
//! [`TimeSeries::exemplars`], stored with the samples by the write
//! pipeline.
//!
//! Tempo's own counters about the processing (edges, expired edges,
//! dropped spans, series over the cap) are [`SpanMetricsStats`]. Tempo's
//! documentation also lists `traces_service_graph_unpaired_spans_total`
//! and `traces_service_graph_dropped_spans_total`, but its code emits
//! neither: unpaired and dropped spans are only these counters.
//!
//! A tenant whose series all went stale and with no edge waiting is
//! forgotten at a collection: its counters (series and stats) start again
//! from 0, a counter reset as Prometheus sees one.

mod attrs;
mod graph;
mod registry;
mod size;
#[cfg(test)]
mod tests;

use argus_model::traces::{hex_id, Span, SpanKind, TraceId};
use argus_model::{LabelsBuilder, TenantId, TimeSeries};
use attrs::{clip_value, sanitize_label_name, span_kind_label, status_code_label};
use graph::{Edge, EdgeStore, Upsert};
use parking_lot::Mutex;
use registry::{Counter, Histogram, SeriesBudget, SeriesPolicy};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Span metrics latency buckets (seconds), Tempo's default: 2ms doubling to 16.384s.
pub const DEFAULT_LATENCY_BUCKETS: [f64; 14] = [
    0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
    16.384,
];
/// Service graph latency buckets (seconds), Tempo's default: 0.1s doubling to 12.8s.
pub const DEFAULT_SERVICE_GRAPH_BUCKETS: [f64; 8] = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8];

const CALLS_TOTAL: &str = "traces_spanmetrics_calls_total";
const LATENCY: &str = "traces_spanmetrics_latency";
const SIZE_TOTAL: &str = "traces_spanmetrics_size_total";
const REQUEST_TOTAL: &str = "traces_service_graph_request_total";
const REQUEST_FAILED_TOTAL: &str = "traces_service_graph_request_failed_total";
const REQUEST_SERVER_SECONDS: &str = "traces_service_graph_request_server_seconds";
const REQUEST_CLIENT_SECONDS: &str = "traces_service_graph_request_client_seconds";

/// Labels Tempo derives from the span itself; a dimension sanitised to one
/// of them is prefixed with `__`.
const INTRINSIC_LABELS: [&str; 5] = [
    "service",
    "span_name",
    "span_kind",
    "status_code",
    "status_message",
];

/// What the processor derives and how much it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanMetricsConfig {
    /// Extra span metrics labels: attribute keys (resource first, then span).
    pub dimensions: Vec<String>,
    /// Span metrics latency buckets, seconds ([`DEFAULT_LATENCY_BUCKETS`]).
    pub histogram_buckets: Vec<f64>,
    /// Extra service graph labels: attribute keys of either side.
    pub service_graph_dimensions: Vec<String>,
    /// Service graph latency buckets, seconds ([`DEFAULT_SERVICE_GRAPH_BUCKETS`]).
    pub service_graph_buckets: Vec<f64>,
    /// How long an edge waits for its other side (10s).
    pub service_graph_wait: Duration,
    /// Edges waiting per tenant (10000); spans past it are dropped
    /// ([`SpanMetricsStats::dropped_spans`]).
    pub max_pending_edges: usize,
    /// Span attributes naming the peer of an unpaired edge, first found
    /// wins (`peer.service`, `db.name`, `db.system`, `db.system.name`).
    pub peer_attributes: Vec<String>,
    /// Attributes making a client span a database call, first found wins
    /// (`db.namespace`, `db.name`, `db.system`, `db.system.name`).
    pub database_name_attributes: Vec<String>,
    /// Active series per tenant, 0 for no cap (10000); past it,
    /// observations go to each metric's `{metric_overflow="true"}` series.
    pub max_series: usize,
    /// A series not updated for this long is dropped (15m).
    pub stale_duration: Duration,
}

impl Default for SpanMetricsConfig {
    fn default() -> Self {
        let strings = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        SpanMetricsConfig {
            dimensions: Vec::new(),
            histogram_buckets: DEFAULT_LATENCY_BUCKETS.to_vec(),
            service_graph_dimensions: Vec::new(),
            service_graph_buckets: DEFAULT_SERVICE_GRAPH_BUCKETS.to_vec(),
            service_graph_wait: Duration::from_secs(10),
            max_pending_edges: 10_000,
            peer_attributes: strings(&["peer.service", "db.name", "db.system", "db.system.name"]),
            database_name_attributes: strings(&[
                "db.namespace",
                "db.name",
                "db.system",
                "db.system.name",
            ]),
            max_series: 10_000,
            stale_duration: Duration::from_secs(15 * 60),
        }
    }
}

/// Why a [`SpanMetricsConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpanMetricsConfigError {
    #[error("histogram bucket {0} is not a finite number")]
    BadBucket(f64),
    #[error("a dimension is an empty attribute name")]
    EmptyDimension,
}

/// A tenant's series at a collection; the latency histograms' buckets
/// carry the exemplars observed since the previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantMetrics {
    pub tenant: TenantId,
    pub series: Vec<TimeSeries>,
}

/// Counters about the processing of a tenant's spans (Tempo's
/// `tempo_metrics_generator_…` self-metrics), cumulative.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanMetricsStats {
    /// Edges created (`processor_service_graphs_edges`).
    pub edges_total: u64,
    /// Edges expired unpaired with nothing to name the other side, by the
    /// kind of their span, e.g. `SPAN_KIND_CLIENT`
    /// (`processor_service_graphs_expired_edges`).
    pub expired_edges: BTreeMap<&'static str, u64>,
    /// Spans dropped because too many edges were waiting
    /// (`processor_service_graphs_dropped_spans`).
    pub dropped_spans: u64,
    /// Edges waiting now.
    pub pending_edges: usize,
    /// Series active now (a histogram counts every bucket, `_sum`, `_count`).
    pub active_series: usize,
    /// Series refused by the cap (`registry_series_limited_total`).
    pub series_limited: u64,
}

/// A dimension: the attribute key and its label name.
#[derive(Debug, Clone)]
struct Dimension {
    key: String,
    label: String,
}

/// The config, checked, with label names worked out.
#[derive(Debug)]
struct Prepared {
    span_dims: Vec<Dimension>,
    graph_dims: Vec<Dimension>,
    latency_buckets: Vec<f64>,
    graph_buckets: Vec<f64>,
    wait_ms: i64,
    max_pending_edges: usize,
    peer_attributes: Vec<String>,
    database_name_attributes: Vec<String>,
    policy: SeriesPolicy,
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn buckets(b: &[f64]) -> Result<Vec<f64>, SpanMetricsConfigError> {
    if let Some(&x) = b.iter().find(|x| !x.is_finite()) {
        return Err(SpanMetricsConfigError::BadBucket(x));
    }
    let mut b = b.to_vec();
    b.sort_by(f64::total_cmp);
    b.dedup();
    Ok(b)
}

fn dimensions(
    keys: &[String],
    intrinsic: &[&str],
) -> Result<Vec<Dimension>, SpanMetricsConfigError> {
    keys.iter()
        .map(|k| {
            if k.is_empty() {
                return Err(SpanMetricsConfigError::EmptyDimension);
            }
            let mut label = sanitize_label_name(k);
            if intrinsic.contains(&label.as_str()) {
                label.insert_str(0, "__");
            }
            Ok(Dimension {
                key: k.clone(),
                label,
            })
        })
        .collect()
}

impl Prepared {
    fn new(cfg: &SpanMetricsConfig) -> Result<Self, SpanMetricsConfigError> {
        Ok(Prepared {
            span_dims: dimensions(&cfg.dimensions, &INTRINSIC_LABELS)?,
            graph_dims: dimensions(&cfg.service_graph_dimensions, &[])?,
            latency_buckets: buckets(&cfg.histogram_buckets)?,
            graph_buckets: buckets(&cfg.service_graph_buckets)?,
            wait_ms: duration_ms(cfg.service_graph_wait),
            max_pending_edges: cfg.max_pending_edges,
            peer_attributes: cfg.peer_attributes.clone(),
            database_name_attributes: cfg.database_name_attributes.clone(),
            policy: SeriesPolicy {
                max_series: cfg.max_series,
                stale_ms: duration_ms(cfg.stale_duration),
            },
        })
    }
}

/// A tenant's series, pending edges and counters.
#[derive(Debug)]
struct TenantState {
    budget: SeriesBudget,
    edges: EdgeStore,
    stats: SpanMetricsStats,
    calls: Counter,
    latency: Histogram,
    size: Counter,
    requests: Counter,
    failed: Counter,
    server_secs: Histogram,
    client_secs: Histogram,
}

/// A trace id as Tempo writes it in exemplars: hex, leading zeros trimmed.
fn exemplar_trace_id(id: &TraceId) -> String {
    hex_id(id).trim_start_matches('0').to_string()
}

impl TenantState {
    fn new(p: &Prepared) -> Self {
        TenantState {
            budget: SeriesBudget::default(),
            edges: EdgeStore::default(),
            stats: SpanMetricsStats::default(),
            calls: Counter::new(CALLS_TOTAL),
            latency: Histogram::new(LATENCY, &p.latency_buckets),
            size: Counter::new(SIZE_TOTAL),
            requests: Counter::new(REQUEST_TOTAL),
            failed: Counter::new(REQUEST_FAILED_TOTAL),
            server_secs: Histogram::new(REQUEST_SERVER_SECONDS, &p.graph_buckets),
            client_secs: Histogram::new(REQUEST_CLIENT_SECONDS, &p.graph_buckets),
        }
    }

    fn observe_span(&mut self, p: &Prepared, span: &Span, now_ms: i64) {
        let mut b = LabelsBuilder::default();
        b.set("service", clip_value(&span.origin.service));
        b.set("span_name", clip_value(&span.name));
        b.set("span_kind", span_kind_label(span.kind));
        b.set("status_code", status_code_label(span.status));
        for d in &p.span_dims {
            let v = attrs::find_attr(&d.key, &[&span.origin.resource, &span.attrs]);
            b.set(d.label.as_str(), clip_value(v.as_deref().unwrap_or("")));
        }
        let labels = b.build();
        let (budget, policy) = (&mut self.budget, p.policy);
        self.calls.inc(labels.clone(), 1.0, now_ms, budget, policy);
        let secs = span.duration_ns() as f64 / 1e9;
        let trace = exemplar_trace_id(&span.trace_id);
        self.latency
            .observe(labels.clone(), secs, &trace, now_ms, budget, policy);
        let size = size::span_proto_len(span) as f64;
        self.size.inc(labels, size, now_ms, budget, policy);
    }

    fn observe_edge_side(&mut self, p: &Prepared, span: &Span, now_ms: i64) {
        let service = &span.origin.service;
        if service.is_empty() {
            // Tempo skips a resource without `service.name`.
            return;
        }
        match self.edges.add_span(p, service, span, now_ms) {
            None => {}
            Some(Upsert::TooMany) => self.stats.dropped_spans += 1,
            Some(Upsert::Pending { new }) => self.stats.edges_total += u64::from(new),
            Some(Upsert::Complete { edge, new }) => {
                self.stats.edges_total += u64::from(new);
                self.record_edge(p, &edge, now_ms);
            }
        }
    }

    fn record_edge(&mut self, p: &Prepared, e: &Edge, now_ms: i64) {
        let mut b = LabelsBuilder::default();
        b.set("client", clip_value(&e.client));
        b.set("server", clip_value(&e.server));
        b.set("connection_type", e.connection_type.label());
        for (d, v) in p.graph_dims.iter().zip(&e.dims) {
            b.set(d.label.as_str(), clip_value(v.as_deref().unwrap_or("")));
        }
        let labels = b.build();
        let (budget, policy) = (&mut self.budget, p.policy);
        self.requests
            .inc(labels.clone(), 1.0, now_ms, budget, policy);
        if e.failed {
            self.failed.inc(labels.clone(), 1.0, now_ms, budget, policy);
        }
        let trace = e
            .trace_id
            .as_ref()
            .map(exemplar_trace_id)
            .unwrap_or_default();
        self.server_secs.observe(
            labels.clone(),
            e.server_secs,
            &trace,
            now_ms,
            budget,
            policy,
        );
        self.client_secs
            .observe(labels, e.client_secs, &trace, now_ms, budget, policy);
    }

    /// Expires the edges whose wait is over: virtual node edges are
    /// recorded, the others counted.
    fn expire_edges(&mut self, p: &Prepared, now_ms: i64) {
        for e in self.edges.expire(now_ms) {
            match graph::resolve_expired(e) {
                Ok(e) => self.record_edge(p, &e, now_ms),
                Err(kind) => {
                    *self
                        .stats
                        .expired_edges
                        .entry(span_kind_label(kind))
                        .or_default() += 1
                }
            }
        }
    }

    fn collect(&mut self, p: &Prepared, now_ms: i64) -> Vec<TimeSeries> {
        self.expire_edges(p, now_ms);
        let before = now_ms.saturating_sub(p.policy.stale_ms);
        let budget = &mut self.budget;
        for c in [
            &mut self.calls,
            &mut self.size,
            &mut self.requests,
            &mut self.failed,
        ] {
            c.remove_stale(before, budget);
        }
        for h in [
            &mut self.latency,
            &mut self.server_secs,
            &mut self.client_secs,
        ] {
            h.remove_stale(before, budget);
        }
        let mut series = Vec::new();
        for c in [
            &mut self.calls,
            &mut self.size,
            &mut self.requests,
            &mut self.failed,
        ] {
            c.collect(now_ms, &mut series);
        }
        for h in [
            &mut self.latency,
            &mut self.server_secs,
            &mut self.client_secs,
        ] {
            h.collect(now_ms, &mut series);
        }
        series
    }

    /// Nothing kept: the tenant can be forgotten.
    fn is_empty(&self) -> bool {
        self.edges.len() == 0
            && [&self.calls, &self.size, &self.requests, &self.failed]
                .iter()
                .all(|c| c.is_empty())
            && [&self.latency, &self.server_secs, &self.client_secs]
                .iter()
                .all(|h| h.is_empty())
    }

    fn stats(&self) -> SpanMetricsStats {
        SpanMetricsStats {
            pending_edges: self.edges.len(),
            active_series: self.budget.active,
            series_limited: self.budget.limited,
            ..self.stats.clone()
        }
    }
}

/// Span metrics and service graphs of every tenant (one per process).
#[derive(Debug)]
pub struct SpanMetricsProcessor {
    p: Prepared,
    tenants: Mutex<HashMap<TenantId, Arc<Mutex<TenantState>>>>,
}

impl SpanMetricsProcessor {
    pub fn new(cfg: SpanMetricsConfig) -> Result<Self, SpanMetricsConfigError> {
        Ok(SpanMetricsProcessor {
            p: Prepared::new(&cfg)?,
            tenants: Mutex::new(HashMap::new()),
        })
    }

    fn tenant(&self, tenant: &TenantId) -> Arc<Mutex<TenantState>> {
        self.tenants
            .lock()
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Mutex::new(TenantState::new(&self.p))))
            .clone()
    }

    /// Feeds spans just stored for `tenant`; `now_ms` is the time of the
    /// observation (series freshness, edge expiry).
    pub fn observe(&self, tenant: &TenantId, spans: &[Span], now_ms: i64) {
        if spans.is_empty() {
            return;
        }
        let state = self.tenant(tenant);
        let mut st = state.lock();
        st.expire_edges(&self.p, now_ms);
        for span in spans {
            st.observe_span(&self.p, span, now_ms);
            if matches!(
                span.kind,
                SpanKind::Client | SpanKind::Producer | SpanKind::Server | SpanKind::Consumer
            ) {
                st.observe_edge_side(&self.p, span, now_ms);
            }
        }
    }

    /// Every tenant's current series, each with one sample at `now_ms`
    /// (preceded by a 0 when the series is new), the histograms' buckets
    /// with the exemplars observed since the previous collection. Expires
    /// the edges whose wait is over and drops stale series first. Tenants
    /// with no series are left out.
    pub fn collect(&self, now_ms: i64) -> Vec<TenantMetrics> {
        let tenants: Vec<(TenantId, Arc<Mutex<TenantState>>)> = self
            .tenants
            .lock()
            .iter()
            .map(|(t, s)| (t.clone(), s.clone()))
            .collect();
        let mut out = Vec::new();
        for (tenant, state) in tenants {
            let series = state.lock().collect(&self.p, now_ms);
            if !series.is_empty() {
                out.push(TenantMetrics { tenant, series });
            }
        }
        // Forget tenants that keep nothing. A tenant's state is only
        // shared while the map's lock is held or by an `observe` that took
        // it under that lock, so a count of 1 means no one else holds it.
        self.tenants
            .lock()
            .retain(|_, s| Arc::strong_count(s) > 1 || !s.lock().is_empty());
        out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        out
    }

    /// Every tenant's processing counters.
    pub fn stats(&self) -> Vec<(TenantId, SpanMetricsStats)> {
        let tenants: Vec<(TenantId, Arc<Mutex<TenantState>>)> = self
            .tenants
            .lock()
            .iter()
            .map(|(t, s)| (t.clone(), s.clone()))
            .collect();
        let mut out: Vec<_> = tenants
            .into_iter()
            .map(|(t, s)| (t, s.lock().stats()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
