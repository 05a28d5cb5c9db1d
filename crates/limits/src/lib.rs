//! Limits per tenant and signal, shared by every store: configuration with
//! per-tenant overrides, and a token-bucket rate limiter with one bucket per
//! (tenant, signal), so a flood of one signal never spends another's budget.
//! Exceeding a limit is answered with HTTP 429 by the API layer.
//!
//! The config has a section per signal, under `limits:` (the defaults) and
//! under each tenant of `overrides:`; an override sets only the keys it
//! names, the others keep those of `limits:`:
//!
//! ```yaml
//! limits:
//!   metrics: { ingestion_rate: 100000, max_series: 0 }
//!   logs: { ingestion_rate_bytes: 4194304 }
//! overrides:
//!   team-a:
//!     metrics: { ingestion_rate: 5000 }
//! ```
//!
//! The metrics keys may still be written at the top level of `limits:` or of
//! a tenant's override (the shape before sections, deprecated): they are the
//! metrics section ([`LimitsPatch::flat_metrics`] says so, for a warning).
//! Such an override keeps the meaning it had before sections: its metrics
//! keys not given take the built-in defaults, not those of `limits:`, so an
//! existing config resolves to the same limits as before.
//!
//! A new signal adds its section here (a `section!` invocation, a field of
//! [`Limits`] and [`LimitsPatch`]), and its store reads
//! `LimitsConfig::for_tenant(t).<signal>` and takes from the rate limiter
//! with its own [`Signal`].

pub use argus_model::Signal;
use argus_model::TenantId;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Declares a signal's limits (with their defaults) and the patch a config
/// section reads for it: every key optional, unknown keys refused.
macro_rules! section {
    (
        $(#[$meta:meta])*
        $name:ident, $patch:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        #[doc = concat!("What a config section sets of [`", stringify!($name), "`]; unset keys keep the value underneath.")]
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $patch {
            $( pub $field: Option<$ty>, )*
        }

        impl $patch {
            /// The config keys of this section.
            pub const KEYS: &'static [&'static str] = &[$( stringify!($field), )*];

            pub fn apply_to(&self, l: &mut $name) {
                $( if let Some(v) = &self.$field { l.$field = v.clone(); } )*
            }

            pub fn is_empty(&self) -> bool {
                true $( && self.$field.is_none() )*
            }

            /// Reads `key`'s value from `map` if it is one of this section's
            /// keys; false if it is not. (Only metrics has the flat shape.)
            #[allow(dead_code)]
            fn read_key<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $( stringify!($field) => {
                        self.$field = Some(map.next_value()?);
                        Ok(true)
                    } )*
                    _ => Ok(false),
                }
            }
        }
    };
}

section! {
    /// Metrics limits (`limits.metrics`): what the write pipeline applies to
    /// every batch of samples. Zero means unlimited for the numeric limits.
    MetricsLimits, MetricsPatch {
        /// Active (in-memory head) series per tenant.
        max_series: usize = 5_000_000,
        /// Sustained ingest rate in samples (floats and histograms) per second (token bucket refill).
        ingestion_rate: f64 = 0.0,
        /// Bucket size in samples (default: 2 seconds of `ingestion_rate`, at least one request's worth).
        ingestion_burst: f64 = 0.0,
        max_labels_per_series: usize = 64,
        max_label_name_length: usize = 1024,
        max_label_value_length: usize = 4096,
    }
}

section! {
    /// Logs limits (`limits.logs`): what the logs write path and store
    /// apply to every push. Zero means unlimited for the numeric limits.
    LogsLimits, LogsPatch {
        /// Sustained ingest rate in bytes (lines plus structured metadata) per second.
        ingestion_rate_bytes: f64 = 0.0,
        /// Bucket size in bytes (default: 2 seconds of `ingestion_rate_bytes`).
        ingestion_burst_bytes: f64 = 0.0,
        /// Longest log line accepted, in bytes (Loki's default).
        max_line_bytes: usize = 256 * 1024,
        /// Structured metadata of one entry, names plus values, in bytes (Loki's default).
        max_structured_metadata_bytes: usize = 64 * 1024,
        /// Structured metadata entries of one line (Loki's default).
        max_structured_metadata_entries: usize = 128,
        /// Active streams (in memory) per tenant.
        max_streams: usize = 100_000,
        /// Labels of one stream (Loki's `max_label_names_per_series`).
        max_labels_per_stream: usize = 15,
        max_label_name_length: usize = 1024,
        /// Loki's default.
        max_label_value_length: usize = 2048,
        /// Entries older than their stream's newest minus this are refused (a duration).
        out_of_order_window: String = "1h".to_string(),
    }
}

section! {
    /// Traces limits (`limits.traces`): what the traces write path and
    /// store apply to every push. Zero means unlimited.
    TracesLimits, TracesPatch {
        /// Sustained ingest rate in bytes of spans per second.
        ingestion_rate_bytes: f64 = 0.0,
        /// Bucket size in bytes (default: 2 seconds of `ingestion_rate_bytes`).
        ingestion_burst_bytes: f64 = 0.0,
        /// Sustained ingest rate in spans per second.
        ingestion_rate_spans: f64 = 0.0,
        /// Bucket size in spans (default: 2 seconds of `ingestion_rate_spans`).
        ingestion_burst_spans: f64 = 0.0,
        /// Largest span accepted, in bytes.
        max_span_bytes: usize = 1024 * 1024,
        /// Most attributes of one span (OpenTelemetry's default attribute
        /// count limit).
        max_attributes_per_span: usize = 128,
        /// Most bytes of spans one trace may hold in memory (Tempo's
        /// `max_bytes_per_trace` default); spans beyond are refused.
        max_trace_bytes: usize = 5_000_000,
    }
}

/// One tenant's limits, a section per signal.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Limits {
    pub metrics: MetricsLimits,
    pub logs: LogsLimits,
    pub traces: TracesLimits,
}

impl Limits {
    /// Sets what `patch` sets.
    pub fn apply(&mut self, patch: &LimitsPatch) {
        patch.metrics.apply_to(&mut self.metrics);
        patch.logs.apply_to(&mut self.logs);
        patch.traces.apply_to(&mut self.traces);
    }

    /// A signal's ingestion bucket: (rate, burst), in samples for metrics
    /// and bytes for logs and traces. A rate of 0 is unlimited.
    pub fn ingestion(&self, signal: Signal) -> (f64, f64) {
        match signal {
            Signal::Metrics => (self.metrics.ingestion_rate, self.metrics.ingestion_burst),
            Signal::Logs => (
                self.logs.ingestion_rate_bytes,
                self.logs.ingestion_burst_bytes,
            ),
            Signal::Traces => (
                self.traces.ingestion_rate_bytes,
                self.traces.ingestion_burst_bytes,
            ),
        }
    }
}

/// What `limits:` or one tenant under `overrides:` says: a patch per signal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitsPatch {
    pub metrics: MetricsPatch,
    pub logs: LogsPatch,
    pub traces: TracesPatch,
    /// The metrics keys were at the top level (the shape before per-signal
    /// sections): still read as the metrics section, but deprecated.
    pub flat_metrics: bool,
}

impl<'de> serde::Deserialize<'de> for LimitsPatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LimitsPatch;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of per-signal sections: metrics, logs, traces")
            }

            fn visit_unit<E: Error>(self) -> Result<LimitsPatch, E> {
                Ok(LimitsPatch::default())
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<LimitsPatch, A::Error> {
                let mut p = LimitsPatch::default();
                let mut section = None;
                let mut flat = MetricsPatch::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.parse::<Signal>() {
                        Ok(Signal::Metrics) => {
                            section = Some(
                                map.next_value::<Option<MetricsPatch>>()?
                                    .unwrap_or_default(),
                            )
                        }
                        Ok(Signal::Logs) => {
                            p.logs = map.next_value::<Option<LogsPatch>>()?.unwrap_or_default()
                        }
                        Ok(Signal::Traces) => {
                            p.traces = map.next_value::<Option<TracesPatch>>()?.unwrap_or_default()
                        }
                        Err(_) => {
                            if !flat.read_key(&key, &mut map)? {
                                return Err(A::Error::custom(format_args!(
                                    "unknown key `{key}`: expected a section metrics, logs or traces \
                                     (or, deprecated, a metrics limit: {})",
                                    MetricsPatch::KEYS.join(", ")
                                )));
                            }
                        }
                    }
                }
                p.flat_metrics = !flat.is_empty();
                p.metrics = match section {
                    Some(_) if p.flat_metrics => {
                        return Err(A::Error::custom(
                            "metrics limits both under `metrics:` and at the top level \
                             (the deprecated shape): put them all under `metrics:`",
                        ))
                    }
                    Some(m) => m,
                    None => flat,
                };
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

/// The defaults plus per-tenant overrides, resolved: an override is the
/// defaults with the override's keys set (for a deprecated flat override,
/// its metrics section is the built-in defaults with its keys set, as before
/// sections).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LimitsConfig {
    pub defaults: Limits,
    pub overrides: BTreeMap<String, Limits>,
}

impl LimitsConfig {
    /// Resolves `limits:` (on top of the built-in defaults) and `overrides:`
    /// (each on top of the result).
    pub fn resolve<'a>(
        defaults: &LimitsPatch,
        overrides: impl IntoIterator<Item = (&'a String, &'a LimitsPatch)>,
    ) -> LimitsConfig {
        let mut d = Limits::default();
        d.apply(defaults);
        let overrides = overrides
            .into_iter()
            .map(|(t, p)| {
                let mut l = d.clone();
                if p.flat_metrics {
                    l.metrics = MetricsLimits::default();
                }
                l.apply(p);
                (t.clone(), l)
            })
            .collect();
        LimitsConfig {
            defaults: d,
            overrides,
        }
    }

    pub fn for_tenant(&self, t: &TenantId) -> &Limits {
        self.overrides.get(t.as_str()).unwrap_or(&self.defaults)
    }

    /// The tenant's metrics limits.
    pub fn metrics(&self, t: &TenantId) -> &MetricsLimits {
        &self.for_tenant(t).metrics
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per (tenant, signal): tokens are samples for metrics,
/// bytes for logs and traces.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(TenantId, Signal), Bucket>>,
}

impl RateLimiter {
    /// Takes `n` tokens from the tenant's bucket for `signal` if available.
    /// `rate <= 0` means unlimited. A request larger than the burst is
    /// allowed when the bucket is full, so that a single large request is
    /// never refused forever.
    pub fn try_take(
        &self,
        tenant: &TenantId,
        signal: Signal,
        n: usize,
        rate: f64,
        burst: f64,
    ) -> bool {
        if rate <= 0.0 {
            return true;
        }
        let burst = if burst > 0.0 { burst } else { rate * 2.0 };
        let now = Instant::now();
        let mut map = self.buckets.lock();
        let b = map.entry((tenant.clone(), signal)).or_insert(Bucket {
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

    /// True when the tenant's bucket for `signal` is empty right now, so any
    /// request would be refused: lets callers answer 429 before reading or
    /// decoding a body.
    pub fn exhausted(&self, tenant: &TenantId, signal: Signal, rate: f64, burst: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        let burst = if burst > 0.0 { burst } else { rate * 2.0 };
        let map = self.buckets.lock();
        map.get(&(tenant.clone(), signal))
            .is_some_and(|b| (b.tokens + b.last.elapsed().as_secs_f64() * rate).min(burst) < 1.0)
    }
}

#[cfg(test)]
mod tests;
