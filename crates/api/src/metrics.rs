//! Self-metrics of the HTTP and gRPC layers (the write pipeline counts ingest).

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request durations by route and status code.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, u16), Histogram>>,
}

impl HttpMetrics {
    pub fn observe(&self, route: &str, code: u16, secs: f64) {
        let mut m = self.requests.lock();
        m.entry((route.to_string(), code))
            .or_default()
            .observe(secs);
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP argus_http_request_duration_seconds HTTP request latency by route and status code.\n# TYPE argus_http_request_duration_seconds histogram");
        for ((route, code), h) in self.requests.lock().iter() {
            let l = format!("code=\"{code}\",handler=\"{route}\"");
            h.render(out, "argus_http_request_duration_seconds", &l);
        }
    }
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, l: &str) {
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{l},le=\"{b}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{l}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{l}}} {}", self.count);
    }
}

/// gRPC request durations by method and gRPC status code (`OK`,
/// `INVALID_ARGUMENT`, …); methods no service has are `other`.
#[derive(Debug, Default)]
pub struct GrpcMetrics {
    requests: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl GrpcMetrics {
    pub fn observe(&self, method: &str, code: &str, secs: f64) {
        let mut m = self.requests.lock();
        m.entry((method.to_string(), code.to_string()))
            .or_default()
            .observe(secs);
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP argus_grpc_request_duration_seconds gRPC request latency by method and status code.\n# TYPE argus_grpc_request_duration_seconds histogram");
        for ((method, code), h) in self.requests.lock().iter() {
            let l = format!("code=\"{code}\",method=\"{method}\"");
            h.render(out, "argus_grpc_request_duration_seconds", &l);
        }
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
