//! Metric metadata (type, help, unit) per tenant, as senders report it
//! (remote write metadata). Kept in memory, like Prometheus's scrape cache:
//! senders repeat it periodically.

use argus_model::TenantId;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};

pub use argus_store::MetricMeta;

/// Most distinct metadata entries kept per metric (a metric can have
/// several, e.g. from two exporters with different help texts).
const MAX_PER_METRIC: usize = 10;

#[derive(Debug, Default)]
pub struct MetadataStore {
    tenants: RwLock<HashMap<TenantId, BTreeMap<String, Vec<MetricMeta>>>>,
}

impl MetadataStore {
    pub fn record(
        &self,
        tenant: &TenantId,
        entries: impl IntoIterator<Item = (String, MetricMeta)>,
    ) {
        let mut map = self.tenants.write();
        let t = map.entry(tenant.clone()).or_default();
        for (metric, meta) in entries {
            let v = t.entry(metric).or_default();
            if !v.contains(&meta) && v.len() < MAX_PER_METRIC {
                v.push(meta);
            }
        }
    }

    /// Metadata by metric name, as `/api/v1/metadata` returns it. `limit`
    /// bounds metrics, `limit_per_metric` entries per metric (0 = no limit).
    pub fn query(
        &self,
        tenant: &TenantId,
        metric: Option<&str>,
        limit: usize,
        limit_per_metric: usize,
    ) -> BTreeMap<String, Vec<MetricMeta>> {
        let map = self.tenants.read();
        let Some(t) = map.get(tenant) else {
            return BTreeMap::new();
        };
        t.iter()
            .filter(|(m, _)| metric.is_none_or(|x| x == m.as_str()))
            .take(if limit == 0 { usize::MAX } else { limit })
            .map(|(m, v)| {
                (
                    m.clone(),
                    v.iter()
                        .take(if limit_per_metric == 0 {
                            usize::MAX
                        } else {
                            limit_per_metric
                        })
                        .cloned()
                        .collect(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_tenant_dedup_and_limits() {
        let s = MetadataStore::default();
        let a = TenantId::new("a").unwrap();
        let m = |h: &str| MetricMeta {
            metric_type: "counter".into(),
            help: h.into(),
            unit: String::new(),
        };
        s.record(
            &a,
            [
                ("x".to_string(), m("one")),
                ("x".to_string(), m("one")),
                ("x".to_string(), m("two")),
                ("y".to_string(), m("y")),
            ],
        );
        assert_eq!(s.query(&a, None, 0, 0)["x"].len(), 2);
        assert_eq!(s.query(&a, None, 1, 0).len(), 1);
        assert_eq!(s.query(&a, Some("y"), 0, 0).len(), 1);
        assert_eq!(s.query(&a, None, 0, 1)["x"].len(), 1);
        assert!(s.query(&TenantId::new("b").unwrap(), None, 0, 0).is_empty());
    }

    /// Lock policy: a panic under the store's lock does not break later calls.
    #[test]
    fn a_panic_under_the_lock_does_not_break_later_calls() {
        let s = MetadataStore::default();
        let a = TenantId::new("a").unwrap();
        let r = std::thread::scope(|sc| {
            sc.spawn(|| {
                let _g = s.tenants.write();
                panic!("panic under the metadata lock");
            })
            .join()
        });
        assert!(r.is_err());
        let meta = MetricMeta {
            metric_type: "gauge".into(),
            help: "h".into(),
            unit: String::new(),
        };
        s.record(&a, [("x".to_string(), meta)]);
        assert_eq!(s.query(&a, None, 0, 0)["x"].len(), 1);
    }
}
