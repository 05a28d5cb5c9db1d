//! Per-tenant limits, shared by every signal: configuration with per-tenant
//! overrides, and a token-bucket rate limiter. Exceeding a limit is answered
//! with HTTP 429 by the API layer.

use argus_model::TenantId;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Instant;

/// Limits for one tenant. Zero means unlimited for the numeric limits.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Active (in-memory head) series per tenant.
    pub max_series: usize,
    /// Sustained ingest rate in samples per second (token bucket refill).
    pub ingestion_rate: f64,
    /// Bucket size in samples (default: 2 seconds of `ingestion_rate`, at least one request's worth).
    pub ingestion_burst: f64,
    pub max_labels_per_series: usize,
    pub max_label_name_length: usize,
    pub max_label_value_length: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_series: 5_000_000,
            ingestion_rate: 0.0,
            ingestion_burst: 0.0,
            max_labels_per_series: 64,
            max_label_name_length: 1024,
            max_label_value_length: 4096,
        }
    }
}

/// Defaults plus per-tenant overrides (`limits:` and `overrides:` in the config).
#[derive(Debug, Clone, Default)]
pub struct LimitsConfig {
    pub defaults: Limits,
    pub overrides: HashMap<String, Limits>,
}

impl LimitsConfig {
    pub fn for_tenant(&self, t: &TenantId) -> &Limits {
        self.overrides.get(t.as_str()).unwrap_or(&self.defaults)
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per tenant.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<TenantId, Bucket>>,
}

impl RateLimiter {
    /// Takes `n` tokens if available. `rate <= 0` means unlimited. A request
    /// larger than the burst is allowed when the bucket is full, so that a
    /// single large request is never refused forever.
    pub fn try_take(&self, tenant: &TenantId, n: usize, rate: f64, burst: f64) -> bool {
        if rate <= 0.0 {
            return true;
        }
        let burst = if burst > 0.0 { burst } else { rate * 2.0 };
        let now = Instant::now();
        let mut map = self.buckets.lock();
        let b = map.entry(tenant.clone()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(burst);
        b.last = now;
        let n = n as f64;
        if b.tokens >= n || b.tokens >= burst {
            b.tokens -= n;
            true
        } else {
            false
        }
    }
}

impl RateLimiter {
    /// True when the tenant's bucket is empty right now, so any request would
    /// be refused: lets callers answer 429 before reading or decoding a body.
    pub fn exhausted(&self, tenant: &TenantId, rate: f64, burst: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        let burst = if burst > 0.0 { burst } else { rate * 2.0 };
        let map = self.buckets.lock();
        map.get(tenant)
            .is_some_and(|b| (b.tokens + b.last.elapsed().as_secs_f64() * rate).min(burst) < 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_then_refills() {
        let r = RateLimiter::default();
        let t = TenantId::new("a").unwrap();
        assert!(r.try_take(&t, 100, 100.0, 100.0));
        assert!(!r.try_take(&t, 50, 100.0, 100.0));
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(r.try_take(&t, 50, 100.0, 100.0));
        assert!(r.try_take(&TenantId::new("b").unwrap(), 1_000_000, 0.0, 0.0));
        let c = TenantId::new("c").unwrap();
        assert!(!r.exhausted(&c, 100.0, 100.0));
        assert!(r.try_take(&c, 100, 100.0, 100.0));
        assert!(r.exhausted(&c, 100.0, 100.0));
    }

    /// Lock policy: a panic under the limiter's lock (every write takes it)
    /// does not break later writes.
    #[test]
    fn a_panic_under_the_lock_does_not_break_later_calls() {
        let r = RateLimiter::default();
        let t = TenantId::new("a").unwrap();
        let res = std::thread::scope(|s| {
            s.spawn(|| {
                let _g = r.buckets.lock();
                panic!("panic under the rate limiter's lock");
            })
            .join()
        });
        assert!(res.is_err());
        assert!(r.try_take(&t, 100, 100.0, 100.0));
        assert!(r.exhausted(&t, 100.0, 100.0));
    }

    #[test]
    fn overrides_apply_per_tenant() {
        let mut c = LimitsConfig::default();
        c.overrides.insert(
            "small".into(),
            Limits {
                max_series: 10,
                ..Limits::default()
            },
        );
        assert_eq!(
            c.for_tenant(&TenantId::new("small").unwrap()).max_series,
            10
        );
        assert_eq!(
            c.for_tenant(&TenantId::new("other").unwrap()).max_series,
            5_000_000
        );
    }
}
