//! Prometheus-compatible scraping for Argus.
//!
//! The behaviour follows Prometheus v2.55 (`scrape/`, `config/config.go`,
//! `model/relabel/relabel.go`), the version the text parser
//! ([`argus_ingest::textparse`]) follows too:
//!
//! - **Configuration** ([`parse_config`], [`ScrapeConfig`],
//!   [`GlobalScrapeConfig`]): Prometheus's YAML shape, defaults and checks,
//!   plus the Argus extension `tenant:` per job. Service discovery other
//!   than `static_configs` is not supported (an unknown field is an error).
//! - **Targets**: `job`, `__address__` (default port from the scheme),
//!   `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
//!   `__scrape_timeout__`, `__param_*`, then `relabel_configs`; `__meta_*`
//!   labels are removed, `instance` defaults to the address, and labels
//!   starting with `__` never reach the series.
//! - **Samples**: target labels merged per `honor_labels` (conflicts become
//!   `exported_<name>`), `metric_relabel_configs` applied, the scrape's
//!   start time as timestamp unless `honor_timestamps` and the sample has
//!   one; `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//!   `scrape_samples_post_metric_relabeling`, `scrape_series_added` per
//!   scrape.
//! - **Failures**: an HTTP error, a parse error, an invalid label set after
//!   relabelling, `sample_limit`, label limits or `body_size_limit` fail the
//!   whole scrape: no scraped sample is stored, `up` is 0, and every series
//!   of the previous scrape gets a staleness marker.
//! - **Staleness** ([`argus_model::STALE_NAN`]): a series present in the
//!   previous scrape and absent from this one is marked stale at this
//!   scrape's timestamp; series with explicit timestamps are not tracked
//!   unless `track_timestamps_staleness`. See [`ScrapeManager`] for what
//!   happens when targets or the manager stop.
//! - **Timing**: each target scrapes at a fixed, hash-derived phase of its
//!   interval; timestamps within 2 ms (or 1% of the interval) of the ideal
//!   slot are aligned to it.

mod append;
mod config;
mod goregex;
mod http;
mod manager;
mod metrics;
mod process;
mod relabel;
mod scrape_loop;
mod target;

use argus_model::{TenantId, TimeSeries};

pub use append::{
    mutate_sample_labels, EXPORTED_LABEL_PREFIX, EXTRA_REPORT_METRICS, REPORT_METRICS,
};
pub use argus_model::{format_duration, parse_duration, parse_size, DurationError};
pub use config::{
    accept_header, parse_config, validate_all, Authorization, BasicAuth, ConfigError,
    GlobalScrapeConfig, ScrapeConfig, ScrapeConfigFile, ScrapeProtocol, StaticConfig, TlsConfig,
    DEFAULT_BODY_SIZE_LIMIT,
};
pub use http::USER_AGENT_VALUE;
pub use manager::{ManagerOptions, ScrapeManager};
pub use relabel::{
    process_builder, relabel, Action, LabelBuilder, RelabelConfig, RelabelError, RelabelRegex,
};
pub use target::{DroppedTarget, TargetHealth, TargetStatus};

/// Where scraped series go. The binary implements it over the write
/// pipeline (the same limits and counters as pushed data). Called from a
/// blocking thread (`spawn_blocking`), once per scrape with that scrape's
/// samples, staleness markers and report series.
pub trait ScrapeSink: Send + Sync + 'static {
    /// An error means some or all of the batch was not stored; the scrape
    /// loop logs and counts it (`argus_scrape_sink_errors_total` by
    /// reason). As in Prometheus, it does not make the target unhealthy:
    /// `up` stays 1 when the target answered.
    fn append(&self, tenant: &TenantId, series: Vec<TimeSeries>) -> Result<(), AppendError>;
}

/// Why a sink did not store (all of) a scrape's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppendErrorKind {
    /// The tenant's ingestion rate limit refused the whole batch.
    RateLimited,
    /// A limit (active series, labels per series) rejected some series; the
    /// rest was stored.
    Limited,
    /// Some samples were invalid (too-long labels, out of order, too old);
    /// the rest was stored.
    Rejected,
    /// The store failed; nothing was stored.
    Storage,
}

impl AppendErrorKind {
    /// The `reason` label of `argus_scrape_sink_errors_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppendErrorKind::RateLimited => "rate_limited",
            AppendErrorKind::Limited => "limited",
            AppendErrorKind::Rejected => "rejected",
            AppendErrorKind::Storage => "storage",
        }
    }
}

/// A [`ScrapeSink`] failure: its kind and a message for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppendError {
    pub kind: AppendErrorKind,
    pub message: String,
}

impl AppendError {
    pub fn new(kind: AppendErrorKind, message: impl Into<String>) -> Self {
        AppendError {
            kind,
            message: message.into(),
        }
    }
}
