//! Argus's HTTP surface (and its gRPC one, [`grpc`]). Handlers are thin:
//! parse the request, call a store trait or the write pipeline
//! ([`argus_write::WritePipeline`]), render the answer. Errors map to
//! statuses in one place ([`ApiError::classify`]).

mod elastic;
mod error;
mod exemplars;
pub mod gate;
pub mod grpc;
mod jaeger_api;
mod logs_write;
mod loki;
mod metrics;
pub mod params;
mod promql;
mod query;
pub mod tempo;
mod tempo_api;
mod tempo_metrics;
pub mod tenant;
mod traces_write;
pub mod ui;
mod write;

pub use error::{otlp_code, ApiError, JsonError};
pub use metrics::{GrpcMetrics, HttpMetrics};

use argus_model::TenantId;
use argus_store::MetricsReader;
use argus_write::{LogsPipeline, TracesPipeline, WritePipeline};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use prometheus_client::registry::Registry;
use std::sync::{Arc, OnceLock};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub default_tenant: TenantId,
    /// `multitenancy: required`: a request without `X-Scope-OrgID` is 401.
    pub require_tenant: bool,
    /// Largest request body accepted (compressed), 413 beyond.
    pub max_request_bytes: usize,
    /// Largest decompressed write body, 413 beyond.
    pub max_decompressed_bytes: usize,
    pub otlp: argus_ingest::otlp::OtlpOptions,
    pub engine: argus_promql::EngineOptions,
    /// Most PromQL queries evaluated at once (`query.max_concurrency`); more wait.
    pub max_concurrency: usize,
    /// Most of them from one tenant (`query.max_concurrency_per_tenant`; 0 = no
    /// share of its own).
    pub max_concurrency_per_tenant: usize,
    /// Retention as shown by `/api/v1/status/runtimeinfo` (e.g. `15d`).
    pub retention: String,
    /// Serve the web UI's assets from this directory instead of those
    /// embedded in the binary (`ARGUS_UI_DIR`, for working on the UI).
    pub ui_dir: Option<std::path::PathBuf>,
}

pub struct AppState {
    reader: OnceLock<Arc<dyn MetricsReader>>,
    pipeline: OnceLock<Arc<WritePipeline>>,
    /// The logs store's reads (Loki's query API), set when it is open.
    logs_reader: OnceLock<Arc<dyn argus_store::LogsReader>>,
    flush: OnceLock<Arc<dyn argus_store::Flush>>,
    logs: OnceLock<Arc<LogsPipeline>>,
    traces: OnceLock<Arc<TracesPipeline>>,
    traces_reader: OnceLock<Arc<dyn argus_store::traces::TracesReader>>,
    /// Tenants, usage and saved dashboards, for the web UI ([`ui`]).
    catalog: OnceLock<Arc<dyn argus_store::catalog::Catalog>>,
    pub config: ApiConfig,
    pub http_metrics: HttpMetrics,
    pub grpc_metrics: GrpcMetrics,
    /// Every self-metric of the process, encoded once by `/metrics`: the
    /// API registers its own here, the binary those of the other crates
    /// ([`AppState::register_metrics`]).
    registry: parking_lot::Mutex<Registry>,
    pub version: &'static str,
    pub engine: Arc<argus_promql::Engine>,
    /// Admission of PromQL queries ([`gate::QueryGate`]).
    pub query_gate: gate::QueryGate,
    pub start_time: String,
    pub retention_text: String,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(config: ApiConfig, version: &'static str) -> Self {
        let http_metrics = HttpMetrics::default();
        let grpc_metrics = GrpcMetrics::default();
        let query_gate =
            gate::QueryGate::new(config.max_concurrency, config.max_concurrency_per_tenant);
        let mut registry = Registry::default();
        http_metrics.register(&mut registry);
        grpc_metrics.register(&mut registry);
        query_gate.register(&mut registry);
        AppState {
            reader: OnceLock::new(),
            pipeline: OnceLock::new(),
            logs_reader: OnceLock::new(),
            flush: OnceLock::new(),
            logs: OnceLock::new(),
            traces: OnceLock::new(),
            traces_reader: OnceLock::new(),
            catalog: OnceLock::new(),
            http_metrics,
            grpc_metrics,
            registry: parking_lot::Mutex::new(registry),
            version,
            engine: Arc::new(argus_promql::Engine::new(config.engine.clone())),
            query_gate,
            start_time: params::format_rfc3339(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            ),
            retention_text: config.retention.clone(),
            config,
        }
    }

    /// Marks the server ready: the store is open (its WAL replayed) and
    /// read through `reader`; writes go through `pipeline` (shared with the
    /// other entry points).
    pub fn set_ready(&self, reader: Arc<dyn MetricsReader>, pipeline: Arc<WritePipeline>) {
        let _ = self.pipeline.set(pipeline);
        let _ = self.reader.set(reader);
    }

    /// Marks the logs write path ready: the logs store is open and pushes go
    /// through `pipeline`, whose counters are registered here (the binary
    /// does not register them again). Until then the logs endpoints answer
    /// 503. A second call is ignored.
    pub fn set_logs_ready(&self, pipeline: Arc<LogsPipeline>) {
        if self.logs.get().is_none() {
            pipeline.metrics().register(&mut self.registry.lock());
        }
        let _ = self.logs.set(pipeline);
    }

    /// The logs write pipeline, or 503 while the logs store is not open.
    pub fn logs_pipeline(&self) -> Result<Arc<LogsPipeline>, ApiError> {
        self.logs.get().cloned().ok_or_else(|| {
            ApiError::NotReady(
                "the logs store is not ready (starting up, or logs are not enabled); try again shortly"
                    .into(),
            )
        })
    }

    /// Marks the traces store ready: pushes go through `pipeline` (whose
    /// counters are registered here), reads through `reader`. Until then
    /// the traces endpoints answer 503. A second call is ignored.
    pub fn set_traces_ready(
        &self,
        pipeline: Arc<TracesPipeline>,
        reader: Arc<dyn argus_store::traces::TracesReader>,
    ) {
        if self.traces.get().is_none() {
            pipeline
                .metrics()
                .register_traces(&mut self.registry.lock());
        }
        let _ = self.traces.set(pipeline);
        let _ = self.traces_reader.set(reader);
    }

    /// Sets what the web UI lists tenants, usage and dashboards from.
    pub fn set_catalog(&self, catalog: Arc<dyn argus_store::catalog::Catalog>) {
        let _ = self.catalog.set(catalog);
    }

    /// The traces write pipeline, or 503 while the traces store is not open.
    pub fn traces_pipeline(&self) -> Result<Arc<TracesPipeline>, ApiError> {
        self.traces.get().cloned().ok_or_else(traces_not_ready)
    }

    /// The traces store's reads, or 503 while it is not open.
    pub fn traces_reader(&self) -> Result<Arc<dyn argus_store::traces::TracesReader>, ApiError> {
        self.traces_reader
            .get()
            .cloned()
            .ok_or_else(traces_not_ready)
    }

    /// Registers self-metrics of another part of the process (the write
    /// pipeline, the stores, the scraper) in the registry `/metrics`
    /// encodes.
    pub fn register_metrics(&self, f: impl FnOnce(&mut Registry)) {
        f(&mut self.registry.lock());
    }

    /// The self-metrics in the Prometheus text format (version 0.0.4), or
    /// in OpenMetrics when `openmetrics` is set.
    pub fn encode_metrics(&self, openmetrics: bool) -> String {
        let registry = self.registry.lock();
        let mut out = String::new();
        // Writing to a String cannot fail; a collector does not fail either.
        let _ = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        };
        out
    }

    /// The write pipeline, or 503 while the WAL is still being replayed.
    pub fn pipeline(&self) -> Result<Arc<WritePipeline>, ApiError> {
        self.pipeline.get().cloned().ok_or_else(not_ready)
    }

    /// The metrics store, or 503 while the WAL is still being replayed.
    pub fn reader(&self) -> Result<Arc<dyn MetricsReader>, ApiError> {
        self.reader.get().cloned().ok_or_else(not_ready)
    }

    /// Called once the logs store is open (its WALs replayed).
    pub fn set_logs_reader(&self, reader: Arc<dyn argus_store::LogsReader>) {
        let _ = self.logs_reader.set(reader);
    }

    /// What `POST /flush` flushes (the logs store).
    pub fn set_flush(&self, f: Arc<dyn argus_store::Flush>) {
        let _ = self.flush.set(f);
    }

    /// The logs store's reads; 503 until it is open.
    pub fn logs_reader(&self) -> Result<Arc<dyn argus_store::LogsReader>, ApiError> {
        self.logs_reader.get().cloned().ok_or_else(not_ready)
    }
}

fn traces_not_ready() -> ApiError {
    ApiError::NotReady(
        "the traces store is not ready (starting up, or traces are not enabled); try again shortly"
            .into(),
    )
}

fn not_ready() -> ApiError {
    ApiError::NotReady("Argus is starting up (replaying the WAL); try again shortly".into())
}

/// `POST /flush` (Loki's ingester endpoint): moves every tenant's
/// in-memory logs into segments now; 204 when they are uploaded.
async fn flush(State(s): State<Arc<AppState>>) -> Result<StatusCode, ApiError> {
    let f = s.flush.get().cloned().ok_or_else(not_ready)?;
    f.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ready(State(s): State<Arc<AppState>>) -> impl IntoResponse {
    match s.reader() {
        Ok(_) => (StatusCode::OK, "Argus is Ready.\n"),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: replaying the WAL\n",
        ),
    }
}

async fn healthy() -> impl IntoResponse {
    (StatusCode::OK, "Argus is Healthy.\n")
}

/// `/metrics`: every registered self-metric, in OpenMetrics when the
/// request's `Accept` asks for it (as Prometheus's scrapes do), else in the
/// Prometheus text format 0.0.4.
async fn self_metrics(State(s): State<Arc<AppState>>, headers: HeaderMap) -> impl IntoResponse {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    } else {
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE
    };
    let out = s.encode_metrics(openmetrics);
    ([(header::CONTENT_TYPE, content_type)], out)
}

/// `GET /`: the web UI for a browser (which asks for HTML), else
/// Elasticsearch's info (its clients check the product here first).
async fn root(state: State<Arc<AppState>>, headers: HeaderMap) -> axum::response::Response {
    if ui::wants_html(&headers) {
        ui::page(state, headers).await
    } else {
        elastic::product_header(elastic::info(state).await).await
    }
}

/// The Elasticsearch routes, each response with `X-Elastic-Product`.
fn elastic_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_bulk", post(elastic::bulk).put(elastic::bulk))
        .route(
            "/{index}/_bulk",
            post(elastic::bulk_index).put(elastic::bulk_index),
        )
        .layer(axum::middleware::map_response(elastic::product_header))
}

/// All routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/-/ready", get(ready))
        .route("/-/healthy", get(healthy))
        .route("/flush", post(flush))
        .route("/metrics", get(self_metrics))
        .route("/api/v1/write", post(write::remote_write))
        .route("/v1/metrics", post(write::otlp_metrics))
        .route("/loki/api/v1/push", post(logs_write::loki_push))
        .route("/v1/logs", post(logs_write::otlp_logs))
        .route("/otlp/v1/logs", post(logs_write::otlp_logs))
        .route("/api/v1/logs/jsonl", post(logs_write::jsonl))
        .route("/v1/traces", post(traces_write::otlp_traces))
        .route("/otlp/v1/traces", post(traces_write::otlp_traces))
        .route("/api/v2/spans", post(traces_write::zipkin_spans))
        .route("/api/v1/series", get(query::series).post(query::series))
        .route("/api/v1/labels", get(query::labels).post(query::labels))
        .route("/api/v1/label/{name}/values", get(query::label_values))
        .route("/api/v1/export", get(query::export).post(query::export))
        .route("/api/v1/query", get(promql::query).post(promql::query))
        .route(
            "/api/v1/query_range",
            get(promql::query_range).post(promql::query_range),
        )
        .route(
            "/api/v1/format_query",
            get(promql::format_query).post(promql::format_query),
        )
        .route(
            "/api/v1/parse_query",
            get(promql::parse_query).post(promql::parse_query),
        )
        .route("/api/v1/status/buildinfo", get(promql::buildinfo))
        .route("/api/v1/metadata", get(query::metadata))
        .route(
            "/api/v1/query_exemplars",
            get(exemplars::query_exemplars).post(exemplars::query_exemplars),
        )
        .route("/api/v1/rules", get(query::rules))
        .route("/api/v1/alerts", get(query::alerts))
        .route("/api/v1/status/runtimeinfo", get(promql::runtimeinfo))
        .merge(loki::routes())
        .merge(tempo_api::routes())
        .merge(jaeger_api::routes())
        .merge(tempo_metrics::routes())
        .merge(elastic_routes())
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

#[cfg(test)]
mod logs_tests;
