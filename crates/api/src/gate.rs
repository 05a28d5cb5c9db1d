//! The query gate: at most `query.max_concurrency` PromQL queries
//! (`/api/v1/query`, `/api/v1/query_range`) run at once, and at most
//! `query.max_concurrency_per_tenant` of one tenant; the others wait in a
//! first-come queue, for no longer than their timeout (then 503 `timeout`,
//! "query timed out in query queue", as Prometheus answers).
//!
//! A query takes its tenant's permit first, then a global one, so a tenant
//! with many queued queries holds no more than its share of the global
//! slots, and the others' queries still get the rest.

use crate::ApiError;
use argus_model::TenantId;
use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Default)]
struct Counts {
    queued: AtomicI64,
    running: AtomicI64,
    queue_timeouts: AtomicU64,
}

#[derive(Debug)]
pub struct QueryGate {
    max: usize,
    per_tenant: usize,
    global: Arc<Semaphore>,
    tenants: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
    counts: Arc<Counts>,
}

/// A running query's place; dropping it lets the next queued query in.
#[derive(Debug)]
pub struct QueryPermit {
    _tenant: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    counts: Arc<Counts>,
}

impl Drop for QueryPermit {
    fn drop(&mut self) {
        self.counts.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a query as queued while it exists (also when the request is dropped).
struct Queued<'a>(&'a Counts);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

impl QueryGate {
    /// `max` queries at once (at least 1), at most `per_tenant` of one
    /// tenant (0 or more than `max` means `max`).
    pub fn new(max: usize, per_tenant: usize) -> Self {
        let max = max.max(1);
        let per_tenant = if per_tenant == 0 {
            max
        } else {
            per_tenant.min(max)
        };
        QueryGate {
            max,
            per_tenant,
            global: Arc::new(Semaphore::new(max)),
            tenants: Mutex::default(),
            counts: Arc::default(),
        }
    }

    /// Waits for a place for one of `tenant`'s queries, at most `wait`.
    pub async fn enter(&self, tenant: &TenantId, wait: Duration) -> Result<QueryPermit, ApiError> {
        let tsem = self
            .tenants
            .lock()
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        self.counts.queued.fetch_add(1, Ordering::Relaxed);
        let queued = Queued(&self.counts);
        let global = self.global.clone();
        let take = async move {
            let t = tsem.acquire_owned().await;
            let g = global.acquire_owned().await;
            (t, g)
        };
        let (t, g) = match tokio::time::timeout(wait, take).await {
            Ok((Ok(t), Ok(g))) => (t, g),
            Ok(_) => return Err(ApiError::Internal("query gate closed".into())),
            Err(_) => {
                self.counts.queue_timeouts.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError::Timeout("query timed out in query queue".into()));
            }
        };
        drop(queued);
        self.counts.running.fetch_add(1, Ordering::Relaxed);
        Ok(QueryPermit {
            _tenant: t,
            _global: g,
            counts: self.counts.clone(),
        })
    }

    pub fn queued(&self) -> i64 {
        self.counts.queued.load(Ordering::Relaxed)
    }

    pub fn running(&self) -> i64 {
        self.counts.running.load(Ordering::Relaxed)
    }

    /// Registers `argus_query_running`, `argus_query_queued`,
    /// `argus_query_max_concurrency` and `argus_query_queue_timeouts_total`,
    /// read when `/metrics` is encoded.
    pub fn register(&self, registry: &mut Registry) {
        registry.register_collector(Box::new(GateCollector {
            counts: self.counts.clone(),
            max: self.max,
            per_tenant: self.per_tenant,
        }));
    }
}

/// The gate's counts as metrics, read at scrape time.
#[derive(Debug)]
struct GateCollector {
    counts: Arc<Counts>,
    max: usize,
    per_tenant: usize,
}

impl Collector for GateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.counts;
        ConstGauge::new(c.running.load(Ordering::Relaxed)).encode(encoder.encode_descriptor(
            "argus_query_running",
            "PromQL queries being evaluated.",
            None,
            MetricType::Gauge,
        )?)?;
        ConstGauge::new(c.queued.load(Ordering::Relaxed)).encode(encoder.encode_descriptor(
            "argus_query_queued",
            "PromQL queries waiting for a place (query.max_concurrency, query.max_concurrency_per_tenant).",
            None,
            MetricType::Gauge,
        )?)?;
        let mut m = encoder.encode_descriptor(
            "argus_query_max_concurrency",
            "Most PromQL queries evaluated at once, in all and per tenant.",
            None,
            MetricType::Gauge,
        )?;
        for (scope, v) in [("all", self.max), ("tenant", self.per_tenant)] {
            ConstGauge::new(v as i64).encode(m.encode_family(&[("scope", scope)])?)?;
        }
        ConstCounter::new(c.queue_timeouts.load(Ordering::Relaxed)).encode(
            encoder.encode_descriptor(
                "argus_query_queue_timeouts",
                "PromQL queries that timed out waiting in the queue.",
                None,
                MetricType::Counter,
            )?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TenantId {
        TenantId::new(s).unwrap()
    }

    #[tokio::test]
    async fn limits_all_and_per_tenant_and_times_out_in_the_queue() {
        let g = Arc::new(QueryGate::new(3, 2));
        let long = Duration::from_secs(10);
        let a1 = g.enter(&t("a"), long).await.unwrap();
        let a2 = g.enter(&t("a"), long).await.unwrap();
        // Tenant a has its share: a third query of a waits, and times out.
        let err = g
            .enter(&t("a"), Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ApiError::Timeout(m) if m == "query timed out in query queue"),
            "{err:?}"
        );
        assert_eq!(g.queued(), 0);
        // Another tenant still gets the last global place, then the queue.
        let b1 = g.enter(&t("b"), long).await.unwrap();
        assert_eq!(g.running(), 3);
        let g2 = g.clone();
        let waiting = tokio::spawn(async move { g2.enter(&t("b"), long).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(g.queued(), 1);
        // A finished query lets the queued one in.
        drop(a1);
        waiting.await.unwrap().unwrap();
        assert_eq!(g.queued(), 0);
        drop((a2, b1));
        assert_eq!(g.running(), 0);
        let mut registry = Registry::default();
        g.register(&mut registry);
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
        assert!(out.contains("argus_query_queue_timeouts_total 1"), "{out}");
        assert!(out.contains("argus_query_max_concurrency{scope=\"tenant\"} 2"));
    }

    #[test]
    fn per_tenant_share_defaults_to_all() {
        assert_eq!(QueryGate::new(20, 0).per_tenant, 20);
        assert_eq!(QueryGate::new(4, 9).per_tenant, 4);
        assert_eq!(QueryGate::new(0, 0).max, 1);
    }
}
