//! Self-metrics of the HTTP and gRPC layers (the write pipeline counts
//! ingest), registered in the one [`Registry`] `/metrics` encodes.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    code: u16,
    handler: String,
}

/// Request durations by route and status code.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Histograms<HttpLabels>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            requests: Family::new_with_constructor(histogram),
        }
    }
}

impl HttpMetrics {
    pub fn observe(&self, route: &str, code: u16, secs: f64) {
        self.requests
            .get_or_create(&HttpLabels {
                code,
                handler: route.to_string(),
            })
            .observe(secs);
    }

    /// Registers `argus_http_request_duration_seconds`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "argus_http_request_duration_seconds",
            "HTTP request latency by route and status code",
            self.requests.clone(),
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct GrpcLabels {
    code: String,
    method: String,
}

/// gRPC request durations by method and gRPC status code (`OK`,
/// `INVALID_ARGUMENT`, …); methods no service has are `other`.
#[derive(Debug, Clone)]
pub struct GrpcMetrics {
    requests: Histograms<GrpcLabels>,
}

impl Default for GrpcMetrics {
    fn default() -> Self {
        GrpcMetrics {
            requests: Family::new_with_constructor(histogram),
        }
    }
}

impl GrpcMetrics {
    pub fn observe(&self, method: &str, code: &str, secs: f64) {
        self.requests
            .get_or_create(&GrpcLabels {
                code: code.to_string(),
                method: method.to_string(),
            })
            .observe(secs);
    }

    /// Registers `argus_grpc_request_duration_seconds`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "argus_grpc_request_duration_seconds",
            "gRPC request latency by method and status code",
            self.requests.clone(),
        );
    }
}

pub(crate) async fn track(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let start = Instant::now();
    let resp = next.run(req).await;
    s.http_metrics.observe(
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
