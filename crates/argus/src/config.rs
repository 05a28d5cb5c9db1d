//! `argus serve` configuration: a YAML file (see `argus.example.yaml`),
//! then command-line flags on top. [`RawConfig`] is what the file says;
//! [`Config::resolve`] validates it into what the server runs with.

use anyhow::{bail, Context, Result};
use argus_limits::LimitsPatch;
use argus_model::TenantId;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub default_tenant: Option<String>,
    /// `optional` (default) or `required`.
    pub multitenancy: Option<String>,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub tsdb: RawTsdb,
    /// The logs store (`logs:`).
    #[serde(default)]
    pub logs: RawStore,
    /// The traces store (`traces:`), the same keys as `logs:`.
    #[serde(default)]
    pub traces: RawStore,
    /// Span metrics and service graphs derived from spans
    /// (`metrics_generator:`), written into the tenant's metrics.
    #[serde(default)]
    pub metrics_generator: RawGenerator,
    #[serde(default)]
    pub ingest: RawIngest,
    #[serde(default)]
    pub query: RawQuery,
    #[serde(default)]
    pub otlp: RawOtlp,
    /// Per-signal sections (`metrics:`, `logs:`, `traces:`); metrics keys at
    /// the top level are the deprecated shape of the metrics section.
    #[serde(default)]
    pub limits: LimitsPatch,
    /// Per tenant, the same shape as `limits:`; set keys replace the defaults.
    #[serde(default)]
    pub overrides: HashMap<String, LimitsPatch>,
    #[serde(default)]
    pub global: Option<serde_yaml::Value>,
    #[serde(default)]
    pub scrape_configs: Vec<serde_yaml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub local: Option<RawLocal>,
    pub s3: Option<argus_objstore::S3Config>,
    /// Where downloaded objects are cached (default `<data_dir>/cache`).
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLocal {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTsdb {
    pub block_range: Option<String>,
    pub out_of_order_window: Option<String>,
    pub retention: Option<String>,
    pub retention_size: Option<u64>,
    /// `always` (group commit before acknowledging), `never`, or an interval like `1s`.
    pub wal_fsync: Option<String>,
    pub wal_segment_size: Option<u64>,
    pub maintenance_interval: Option<String>,
    /// Exemplars kept in memory per tenant (default 100000; 0 turns them off).
    pub max_exemplars: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    /// Compaction builds segments of 1×, 4× and 24× this (default `1h`); a flush writes one
    /// segment per aligned 24× window its data spans (traces: by arrival).
    pub segment_range: Option<String>,
    /// Delete segments whose newest line is older than this (default `31d`; `0s` keeps them).
    pub retention: Option<String>,
    /// Delete a tenant's oldest segments while they take more bytes than this (default: no limit).
    pub retention_size: Option<u64>,
    /// Flush a tenant's in-memory lines into segments at this many bytes (default 128 MiB).
    pub flush_size: Option<u64>,
    /// ... or when the oldest in memory arrived this long ago (default `15m`).
    pub max_head_age: Option<String>,
    /// A flush writes the newest this many bytes into a segment of their
    /// own, for newest-first queries (default 4 MiB; 0 turns it off).
    pub flush_tail_size: Option<u64>,
    /// Unflushed bytes a tenant may hold (default twice `flush_size`); pushes
    /// beyond wait for a flush, then get 429.
    pub max_head_size: Option<u64>,
    /// Traces only: bytes of decoded segment columns kept in memory for
    /// searches (default 128 MiB; 0 turns it off).
    pub cache_size: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGenerator {
    /// Derive `traces_spanmetrics_*` and `traces_service_graph_*` from
    /// ingested spans (default true).
    pub enabled: Option<bool>,
    /// Span or resource attributes added as labels to the span metrics.
    pub dimensions: Option<Vec<String>>,
    /// ... and to the service graph metrics.
    pub service_graph_dimensions: Option<Vec<String>>,
    /// How long the client or server half of a call waits for the other
    /// (default `10s`).
    pub service_graph_wait: Option<String>,
    /// How often the series are written into the metrics store (default `15s`).
    pub collection_interval: Option<String>,
    /// Series per tenant at most (default 10000; 0 = no limit).
    pub max_series: Option<usize>,
}

/// The metrics generator's settings (`metrics_generator:`); `None` when off.
#[derive(Debug, Clone)]
pub(crate) struct GeneratorConfig {
    pub processor: argus_write::spanmetrics::SpanMetricsConfig,
    pub interval: Duration,
}

impl GeneratorConfig {
    fn resolve(r: &RawGenerator) -> Result<Option<GeneratorConfig>> {
        if r.enabled == Some(false) {
            return Ok(None);
        }
        let mut p = argus_write::spanmetrics::SpanMetricsConfig::default();
        if let Some(d) = &r.dimensions {
            p.dimensions = d.clone();
        }
        if let Some(d) = &r.service_graph_dimensions {
            p.service_graph_dimensions = d.clone();
        }
        p.service_graph_wait = Duration::from_millis(dur_ms(
            &r.service_graph_wait,
            p.service_graph_wait,
            "metrics_generator.service_graph_wait",
        )? as u64);
        if let Some(n) = r.max_series {
            p.max_series = n;
        }
        let interval = dur_ms(
            &r.collection_interval,
            Duration::from_secs(15),
            "metrics_generator.collection_interval",
        )?;
        if interval < 1000 {
            bail!("metrics_generator.collection_interval must be at least 1s");
        }
        // Refuse a bad setting (an empty dimension) at start-up.
        argus_write::spanmetrics::SpanMetricsProcessor::new(p.clone())
            .context("metrics_generator")?;
        Ok(Some(GeneratorConfig {
            processor: p,
            interval: Duration::from_millis(interval as u64),
        }))
    }
}

/// A store's settings (`logs:`, `traces:`).
#[derive(Debug, Clone)]
pub(crate) struct StoreConfig {
    pub segment_range_ms: i64,
    pub retention_ms: i64,
    pub retention_bytes: u64,
    pub flush_bytes: u64,
    pub max_head_age: Duration,
    pub max_head_bytes: u64,
    pub flush_tail_bytes: u64,
    pub cache_bytes: u64,
}

impl StoreConfig {
    /// The settings of section `section` (`logs`, `traces`).
    fn resolve(r: &RawStore, section: &str) -> Result<StoreConfig> {
        let segment_range_ms = dur_ms(
            &r.segment_range,
            Duration::from_secs(3600),
            &format!("{section}.segment_range"),
        )?;
        if segment_range_ms < 1000 {
            bail!("{section}.segment_range must be at least 1s");
        }
        let flush_bytes = r.flush_size.unwrap_or(128 << 20);
        if flush_bytes == 0 {
            bail!("{section}.flush_size must be more than 0");
        }
        if section != "traces" && r.cache_size.is_some() {
            bail!("{section}.cache_size: only traces: has a cache");
        }
        Ok(StoreConfig {
            segment_range_ms,
            retention_ms: dur_ms(
                &r.retention,
                Duration::from_secs(31 * 86400),
                &format!("{section}.retention"),
            )?,
            retention_bytes: r.retention_size.unwrap_or(0),
            flush_bytes,
            max_head_bytes: r.max_head_size.unwrap_or(flush_bytes.saturating_mul(2)),
            flush_tail_bytes: r.flush_tail_size.unwrap_or(4 << 20),
            cache_bytes: r
                .cache_size
                .unwrap_or(argus_traces::DEFAULT_CACHE_BYTES as u64),
            max_head_age: Duration::from_millis(dur_ms(
                &r.max_head_age,
                Duration::from_secs(900),
                &format!("{section}.max_head_age"),
            )? as u64),
        })
    }

    /// Sets these settings and the WAL's in a store's options.
    fn apply(&self, o: &mut argus_segments::tenants::StoreOptions, wal: argus_wal::WalOptions) {
        let r = self.segment_range_ms;
        o.segment_range_ms = r;
        o.retention_ms = self.retention_ms;
        o.retention_bytes = self.retention_bytes;
        o.flush_bytes = self.flush_bytes;
        o.max_head_age = self.max_head_age;
        o.max_head_bytes = self.max_head_bytes;
        o.flush_tail_bytes = self.flush_tail_bytes;
        o.wal = wal;
    }

    /// The logs store's options under `data_dir` with the WAL's fsync policy.
    pub(crate) fn logs_options(
        &self,
        data_dir: PathBuf,
        wal: argus_wal::WalOptions,
    ) -> argus_logs::LogsOptions {
        let mut o = argus_logs::LogsOptions::new(data_dir);
        self.apply(&mut o.store, wal);
        let r = self.segment_range_ms;
        o.store.compaction_ranges = vec![r, r * 4, r * 24];
        o
    }

    /// The traces store's options.
    pub(crate) fn traces_options(
        &self,
        data_dir: PathBuf,
        wal: argus_wal::WalOptions,
    ) -> argus_traces::TracesOptions {
        let mut o = argus_traces::TracesOptions::new(data_dir);
        self.apply(&mut o.store, wal);
        o.cache_bytes = usize::try_from(self.cache_bytes).unwrap_or(usize::MAX);
        let r = self.segment_range_ms;
        o.store.compaction_ranges = vec![r, r * 4, r * 24];
        o
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuery {
    pub lookback_delta: Option<String>,
    pub max_samples: Option<usize>,
    pub timeout: Option<String>,
    /// Most queries evaluated at once (default 20, as Prometheus's
    /// `--query.max-concurrency`); more wait in a queue.
    pub max_concurrency: Option<usize>,
    /// Most queries of one tenant evaluated at once (default half of
    /// `max_concurrency`, rounded up; 0 = no share of its own).
    pub max_concurrency_per_tenant: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIngest {
    pub max_request_bytes: Option<usize>,
    pub max_decompressed_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOtlp {
    /// The OTLP/gRPC receiver's address (default `127.0.0.1:4317`); `""` turns it off.
    pub grpc_listen: Option<String>,
}

/// Flags that override the file.
#[derive(Debug, Default, Clone)]
pub(crate) struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub otlp_grpc_listen: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Config {
    pub listen: SocketAddr,
    /// The OTLP/gRPC receiver's address; None when turned off.
    pub otlp_grpc_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub default_tenant: TenantId,
    pub require_tenant: bool,
    pub backend: argus_objstore::Backend,
    pub cache_dir: PathBuf,
    pub block_range_ms: i64,
    pub ooo_window_ms: i64,
    pub retention_ms: i64,
    pub retention_bytes: u64,
    pub max_exemplars: usize,
    pub wal: argus_wal::WalOptions,
    pub logs: StoreConfig,
    pub traces: StoreConfig,
    pub generator: Option<GeneratorConfig>,
    pub maintenance_interval: Duration,
    pub max_request_bytes: usize,
    pub max_decompressed_bytes: usize,
    pub engine: argus_promql::EngineOptions,
    pub max_concurrency: usize,
    pub max_concurrency_per_tenant: usize,
    /// Retention as written in the config, for display.
    pub retention_text: String,
    /// Per tenant and signal, overrides merged over the defaults.
    pub limits: argus_limits::LimitsConfig,
    /// Deprecated settings in the file, logged once at start-up.
    pub warnings: Vec<String>,
    pub global: argus_scrape::GlobalScrapeConfig,
    pub scrape_configs: Vec<argus_scrape::ScrapeConfig>,
}

fn dur_ms(s: &Option<String>, default: Duration, what: &str) -> Result<i64> {
    Ok(match s {
        None => default.as_millis() as i64,
        Some(s) => argus_model::parse_duration(s)
            .with_context(|| format!("{what}: invalid duration {s:?}"))?
            .as_millis() as i64,
    })
}

impl Config {
    pub(crate) fn load(file: Option<&std::path::Path>, flags: Overrides) -> Result<Config> {
        let raw: RawConfig = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config file {}", p.display()))?;
                serde_yaml::from_str(&text)
                    .with_context(|| format!("parsing config file {}", p.display()))?
            }
            None => RawConfig::default(),
        };
        Self::resolve(raw, flags)
    }

    pub(crate) fn resolve(raw: RawConfig, flags: Overrides) -> Result<Config> {
        let listen = flags
            .listen
            .or(raw.listen)
            .unwrap_or_else(|| "127.0.0.1:9009".into());
        let listen: SocketAddr = listen
            .parse()
            .with_context(|| format!("listen: {listen:?} is not an address like 127.0.0.1:9009"))?;
        let grpc = flags
            .otlp_grpc_listen
            .or(raw.otlp.grpc_listen)
            .unwrap_or_else(|| "127.0.0.1:4317".into());
        let otlp_grpc_listen = match grpc.trim() {
            "" => None,
            a => Some(a.parse::<SocketAddr>().with_context(|| {
                format!("otlp.grpc_listen: {a:?} is not an address like 127.0.0.1:4317 (\"\" turns the receiver off)")
            })?),
        };
        if otlp_grpc_listen == Some(listen) {
            bail!("otlp.grpc_listen: {listen} is also the HTTP listen address");
        }
        let data_dir = flags
            .data_dir
            .or(raw.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let default_tenant = TenantId::new(raw.default_tenant.as_deref().unwrap_or("anonymous"))
            .context("default_tenant")?;
        let require_tenant = match raw.multitenancy.as_deref().unwrap_or("optional") {
            "optional" => false,
            "required" => true,
            other => bail!("multitenancy: {other:?} must be \"optional\" or \"required\""),
        };
        let data = argus_model::paths::DataDir::new(&data_dir);
        let backend = match (raw.storage.local, raw.storage.s3) {
            (Some(_), Some(_)) => bail!("storage: configure either local or s3, not both"),
            (_, Some(s3)) => argus_objstore::Backend::S3(s3),
            (Some(l), None) => {
                argus_objstore::Backend::Local(l.path.unwrap_or_else(|| data.default_objects()))
            }
            (None, None) => argus_objstore::Backend::Local(data.default_objects()),
        };
        let cache_dir = raw
            .storage
            .cache_dir
            .unwrap_or_else(|| data.default_cache());
        let t = &raw.tsdb;
        let block_range_ms = dur_ms(
            &t.block_range,
            Duration::from_secs(7200),
            "tsdb.block_range",
        )?;
        if block_range_ms < 1000 {
            bail!("tsdb.block_range must be at least 1s");
        }
        let fsync = match t.wal_fsync.as_deref().unwrap_or("always") {
            "always" => argus_wal::FsyncPolicy::Always,
            "never" => argus_wal::FsyncPolicy::Never,
            other => {
                argus_wal::FsyncPolicy::Interval(argus_model::parse_duration(other).with_context(
                    || format!("tsdb.wal_fsync: {other:?} must be always, never or a duration"),
                )?)
            }
        };
        let mut wal = argus_wal::WalOptions {
            fsync,
            ..Default::default()
        };
        if let Some(s) = t.wal_segment_size {
            wal.segment_size = s;
        }
        let mut flat = Vec::new();
        if raw.limits.flat_metrics {
            flat.push("`limits`".to_string());
        }
        let mut tenants: Vec<_> = raw.overrides.iter().collect();
        tenants.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in &tenants {
            TenantId::new(k).with_context(|| format!("overrides: {k:?}"))?;
            if v.flat_metrics {
                flat.push(format!("`overrides.{k}`"));
            }
        }
        let limits = argus_limits::LimitsConfig::resolve(&raw.limits, tenants);
        // A bad logs `out_of_order_window` fails here, at start-up.
        argus_write::out_of_order_windows(&limits)?;
        let mut warnings = Vec::new();
        if !flat.is_empty() {
            let legacy = if flat.iter().any(|f| f.starts_with("`overrides")) {
                " (in a tenant's override, metrics keys not given there are the built-in defaults, as before; under `metrics:` they are those of `limits:`)"
            } else {
                ""
            };
            warnings.push(format!(
                "deprecated: metrics limits written directly under {} (they apply to metrics); move them into a `metrics:` section{legacy} (see argus.example.yaml)",
                flat.join(", ")
            ));
        }
        let global: argus_scrape::GlobalScrapeConfig = match raw.global {
            Some(v) => serde_yaml::from_value(v).context("global")?,
            None => Default::default(),
        };
        let mut scrape_configs = Vec::new();
        for v in raw.scrape_configs {
            let c: argus_scrape::ScrapeConfig =
                serde_yaml::from_value(v).context("scrape_configs")?;
            scrape_configs.push(c);
        }
        let q = &raw.query;
        let defaults = argus_promql::EngineOptions::default();
        let engine = argus_promql::EngineOptions {
            lookback_delta_ms: dur_ms(
                &q.lookback_delta,
                Duration::from_secs(300),
                "query.lookback_delta",
            )?,
            timeout: Duration::from_millis(dur_ms(
                &q.timeout,
                Duration::from_secs(120),
                "query.timeout",
            )? as u64),
            max_samples: q.max_samples.unwrap_or(defaults.max_samples),
            ..defaults
        };
        let max_concurrency = q.max_concurrency.unwrap_or(20);
        if max_concurrency == 0 {
            bail!("query.max_concurrency must be at least 1");
        }
        let max_concurrency_per_tenant = q
            .max_concurrency_per_tenant
            .unwrap_or(max_concurrency.div_ceil(2));
        if max_concurrency_per_tenant > max_concurrency {
            bail!("query.max_concurrency_per_tenant ({max_concurrency_per_tenant}) must not exceed query.max_concurrency ({max_concurrency})");
        }
        let retention_text = t.retention.clone().unwrap_or_else(|| "15d".into());
        Ok(Config {
            engine,
            max_concurrency,
            max_concurrency_per_tenant,
            retention_text,
            listen,
            otlp_grpc_listen,
            data_dir,
            default_tenant,
            require_tenant,
            backend,
            cache_dir,
            block_range_ms,
            ooo_window_ms: dur_ms(
                &t.out_of_order_window,
                Duration::ZERO,
                "out_of_order_window",
            )?,
            retention_ms: dur_ms(
                &t.retention,
                Duration::from_secs(15 * 86400),
                "tsdb.retention",
            )?,
            retention_bytes: t.retention_size.unwrap_or(0),
            max_exemplars: t.max_exemplars.unwrap_or(100_000),
            wal,
            logs: StoreConfig::resolve(&raw.logs, "logs")?,
            traces: StoreConfig::resolve(&raw.traces, "traces")?,
            generator: GeneratorConfig::resolve(&raw.metrics_generator)?,
            maintenance_interval: Duration::from_millis(dur_ms(
                &t.maintenance_interval,
                Duration::from_secs(60),
                "maintenance_interval",
            )? as u64),
            max_request_bytes: raw.ingest.max_request_bytes.unwrap_or(32 << 20),
            max_decompressed_bytes: raw.ingest.max_decompressed_bytes.unwrap_or(64 << 20),
            limits,
            warnings,
            global,
            scrape_configs,
        })
    }
}

impl Config {
    /// The resolved limits in the config file's shape: `limits:` (the
    /// defaults) and each tenant's `overrides:`, every signal and key spelt
    /// out (`argus check-config`).
    pub(crate) fn limits_yaml(&self) -> Result<String> {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            limits: &'a argus_limits::Limits,
            overrides: &'a std::collections::BTreeMap<String, argus_limits::Limits>,
        }
        Ok(serde_yaml::to_string(&Shown {
            limits: &self.limits.defaults,
            overrides: &self.limits.overrides,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../../argus.example.yaml");
        let raw: RawConfig = serde_yaml::from_str(text).unwrap();
        let c = Config::resolve(raw, Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9009");
        assert_eq!(c.otlp_grpc_listen.unwrap().to_string(), "127.0.0.1:4317");
        assert_eq!(c.block_range_ms, 7_200_000);
        assert_eq!(c.scrape_configs.len(), 1);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let team = c.limits.for_tenant(&TenantId::new("team-a").unwrap());
        assert_eq!(team.metrics.ingestion_rate, 50_000.0);
        assert_eq!(team.metrics.max_series, 100_000);
        assert_eq!(team.metrics.max_labels_per_series, 64);
        assert_eq!(c.limits.defaults, argus_limits::Limits::default());
        assert_eq!(c.engine.max_samples, 50_000_000);
        assert_eq!((c.max_concurrency, c.max_concurrency_per_tenant), (20, 10));
        assert_eq!(c.traces.cache_bytes, 128 << 20);
    }

    #[test]
    fn only_traces_has_a_cache() {
        let c = resolve("traces:\n  cache_size: 0\n").unwrap();
        assert_eq!(c.traces.cache_bytes, 0);
        let err = resolve("logs:\n  cache_size: 1000\n").unwrap_err();
        assert!(format!("{err:#}").contains("logs.cache_size"), "{err:#}");
    }

    fn resolve(yaml: &str) -> Result<Config> {
        let raw: RawConfig = serde_yaml::from_str(yaml)?;
        Config::resolve(raw, Overrides::default())
    }

    #[test]
    fn a_bad_logs_out_of_order_window_fails_at_load() {
        let e = resolve("overrides:\n  team-a:\n    logs: {out_of_order_window: 1 hour}\n")
            .unwrap_err();
        assert!(
            format!("{e:#}")
                .contains("overrides.team-a.logs.out_of_order_window: invalid duration \"1 hour\""),
            "{e:#}"
        );
        assert!(resolve("limits:\n  logs: {out_of_order_window: 2h30m}\n").is_ok());
    }

    #[test]
    fn limits_per_signal_with_overrides_merged() {
        let c = resolve(
            "limits:\n  metrics: {ingestion_rate: 100000, ingestion_burst: 200000, max_series: 0}\n  logs: {ingestion_rate_bytes: 1000}\n\
             overrides:\n  team-a:\n    metrics: {ingestion_rate: 5000}\n  team-b:\n    traces: {max_span_bytes: 10}\n",
        )
        .unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let t = |s: &str| TenantId::new(s).unwrap();
        let a = c.limits.for_tenant(&t("team-a"));
        assert_eq!(a.metrics.ingestion_rate, 5000.0);
        assert_eq!(a.metrics.ingestion_burst, 200_000.0, "merged over limits:");
        assert_eq!(a.metrics.max_series, 0);
        assert_eq!(a.logs.ingestion_rate_bytes, 1000.0);
        let b = c.limits.for_tenant(&t("team-b"));
        assert_eq!(b.traces.max_span_bytes, 10);
        assert_eq!(b.metrics, c.limits.defaults.metrics);
        assert_eq!(c.limits.metrics(&t("other")).ingestion_rate, 100_000.0);
        let shown = c.limits_yaml().unwrap();
        for key in [
            "limits:",
            "overrides:",
            "team-a:",
            "logs:",
            "traces:",
            "ingestion_rate: 5000.0",
            "max_line_bytes: 262144",
        ] {
            assert!(shown.contains(key), "{key} in {shown}");
        }
    }

    #[test]
    fn flat_limits_are_the_metrics_section_with_one_warning() {
        let c = resolve(
            "limits:\n  max_series: 100\n  ingestion_rate: 10\n\
             overrides:\n  team-a:\n    ingestion_rate: 5\n  team-b:\n    metrics: {max_series: 7}\n  team-c:\n    max_series: 1\n",
        )
        .unwrap();
        let t = |s: &str| TenantId::new(s).unwrap();
        assert_eq!(c.limits.defaults.metrics.max_series, 100);
        // A flat override keeps its old meaning: the built-in defaults underneath.
        let a = c.limits.metrics(&t("team-a"));
        assert_eq!((a.ingestion_rate, a.max_series), (5.0, 5_000_000));
        assert_eq!(c.limits.metrics(&t("other")).max_series, 100);
        assert_eq!(c.limits.metrics(&t("team-b")).max_series, 7);
        assert_eq!(c.limits.metrics(&t("team-c")).max_series, 1);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let w = &c.warnings[0];
        assert!(
            w.contains("`limits`, `overrides.team-a`, `overrides.team-c`"),
            "{w}"
        );
        assert!(w.contains("metrics:"), "{w}");
        // Both shapes in one section are refused.
        let e = resolve("limits:\n  max_series: 1\n  metrics: {max_series: 2}\n").unwrap_err();
        assert!(format!("{e:#}").contains("both"), "{e:#}");
        let e = resolve("overrides:\n  t:\n    logs: {max_series: 2}\n").unwrap_err();
        assert!(format!("{e:#}").contains("max_series"), "{e:#}");
    }

    #[test]
    fn query_concurrency_defaults_and_checks() {
        let resolve = |yaml: &str| {
            let raw: RawConfig = serde_yaml::from_str(yaml).unwrap();
            Config::resolve(raw, Overrides::default())
        };
        let c = resolve("{}").unwrap();
        assert_eq!((c.max_concurrency, c.max_concurrency_per_tenant), (20, 10));
        let c = resolve("query: {max_concurrency: 5}").unwrap();
        assert_eq!((c.max_concurrency, c.max_concurrency_per_tenant), (5, 3));
        let c = resolve("query: {max_concurrency: 5, max_concurrency_per_tenant: 0}").unwrap();
        assert_eq!(c.max_concurrency_per_tenant, 0);
        let e = resolve("query: {max_concurrency: 0}").unwrap_err();
        assert!(format!("{e:#}").contains("query.max_concurrency"), "{e:#}");
        let e = resolve("query: {max_concurrency: 2, max_concurrency_per_tenant: 3}").unwrap_err();
        assert!(
            format!("{e:#}").contains("max_concurrency_per_tenant"),
            "{e:#}"
        );
    }

    #[test]
    fn flags_override_file_and_errors_are_clear() {
        let raw: RawConfig = serde_yaml::from_str("listen: 0.0.0.0:1\ndata_dir: /x").unwrap();
        let c = Config::resolve(
            raw,
            Overrides {
                listen: Some("127.0.0.1:5".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:5");
        assert_eq!(c.data_dir, PathBuf::from("/x"));
        let raw: RawConfig = serde_yaml::from_str("multitenancy: sometimes").unwrap();
        let e = Config::resolve(raw, Overrides::default()).unwrap_err();
        assert!(format!("{e:#}").contains("multitenancy"));
        assert!(serde_yaml::from_str::<RawConfig>("bogus: 1").is_err());
    }

    #[test]
    fn otlp_grpc_listen_defaults_overrides_and_turns_off() {
        let resolve = |yaml: &str, flag: Option<&str>| {
            let raw: RawConfig = serde_yaml::from_str(yaml).unwrap();
            Config::resolve(
                raw,
                Overrides {
                    otlp_grpc_listen: flag.map(String::from),
                    ..Default::default()
                },
            )
        };
        let addr = |c: Config| c.otlp_grpc_listen.map(|a| a.to_string());
        assert_eq!(
            addr(resolve("{}", None).unwrap()).unwrap(),
            "127.0.0.1:4317"
        );
        assert_eq!(
            addr(resolve("otlp: {grpc_listen: '0.0.0.0:5317'}", None).unwrap()).unwrap(),
            "0.0.0.0:5317"
        );
        assert_eq!(
            addr(resolve("otlp: {grpc_listen: ''}", None).unwrap()),
            None
        );
        assert_eq!(
            addr(resolve("otlp: {grpc_listen: ''}", Some("127.0.0.1:6")).unwrap()).unwrap(),
            "127.0.0.1:6"
        );
        assert_eq!(addr(resolve("{}", Some("")).unwrap()), None);
        let e = resolve("otlp: {grpc_listen: nowhere}", None).unwrap_err();
        assert!(format!("{e:#}").contains("otlp.grpc_listen"), "{e:#}");
        let e = resolve(
            "listen: 127.0.0.1:7\notlp: {grpc_listen: 127.0.0.1:7}",
            None,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("otlp.grpc_listen"), "{e:#}");
        assert!(serde_yaml::from_str::<RawConfig>("otlp: {http: 1}").is_err());
    }
}
