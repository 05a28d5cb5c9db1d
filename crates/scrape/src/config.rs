//! `global:` and `scrape_configs:` in Prometheus's YAML shape, with the
//! defaults and checks of Prometheus's `config/config.go` (v2.55):
//! per-job values of 0 / unset inherit the global ones, a missing
//! `scrape_timeout` is `min(global timeout, scrape_interval)`, and a timeout
//! longer than the interval is an error.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use argus_model::{validate_label_name, TenantId};
use serde::{Deserialize, Deserializer};

use crate::relabel::RelabelConfig;
use argus_model::{parse_duration, parse_size};

/// An invalid configuration; the message says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn cerr<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Argus's default for `body_size_limit` (Prometheus: 0, no limit).
pub const DEFAULT_BODY_SIZE_LIMIT: u64 = 64 << 20;

/// A scrape protocol to offer in the `Accept` header. `PrometheusProto` is
/// rejected: Argus has no protobuf exposition parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    OpenMetricsText1_0_0,
    OpenMetricsText0_0_1,
    PrometheusText0_0_4,
}

impl ScrapeProtocol {
    /// Prometheus's `DefaultScrapeProtocols`.
    pub const DEFAULT: [ScrapeProtocol; 3] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
        }
    }

    /// The media type offered for this protocol.
    pub fn media_type(self) -> &'static str {
        match self {
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
        }
    }

    fn parse(s: &str) -> Result<Self, ConfigError> {
        Ok(match s {
            "OpenMetricsText1.0.0" => ScrapeProtocol::OpenMetricsText1_0_0,
            "OpenMetricsText0.0.1" => ScrapeProtocol::OpenMetricsText0_0_1,
            "PrometheusText0.0.4" => ScrapeProtocol::PrometheusText0_0_4,
            "PrometheusProto" => {
                return cerr("scrape_protocols: PrometheusProto is not supported by Argus (no protobuf parser)")
            }
            _ => return cerr(format!(
                "scrape_protocols: unknown scrape protocol {s:?}, supported: [OpenMetricsText1.0.0 OpenMetricsText0.0.1 PrometheusText0.0.4]"
            )),
        })
    }
}

/// Prometheus's `acceptHeader`: each protocol with a decreasing `q`
/// starting at 0.5 (the weight counts the four protocols Prometheus knows),
/// then `*/*`. For the defaults this is
/// [`argus_ingest::textparse::SCRAPE_ACCEPT_HEADER`].
pub fn accept_header(protocols: &[ScrapeProtocol]) -> String {
    let mut weight = 5;
    let mut parts = Vec::with_capacity(protocols.len() + 1);
    for p in protocols {
        parts.push(format!("{};q=0.{weight}", p.media_type()));
        weight -= 1;
    }
    parts.push(format!("*/*;q=0.{weight}"));
    parts.join(",")
}

/// Deserializes any YAML scalar as text (yaml.v2 turns `0`, `true` into
/// strings where Go expects one).
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = Scalar::deserialize(d)?;
    parse_duration(&s.0).map_err(serde::de::Error::custom)
}

fn de_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = Scalar::deserialize(d)?;
    parse_size(&s.0).map_err(serde::de::Error::custom)
}

fn de_opt_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    de_size(d).map(Some)
}

fn de_protocols<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<ScrapeProtocol>>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    let mut out = Vec::with_capacity(v.len());
    let mut seen = HashSet::new();
    for s in &v {
        if !seen.insert(s.to_lowercase()) {
            return Err(serde::de::Error::custom(format!(
                "duplicated protocol in scrape_protocols, got {v:?}"
            )));
        }
        out.push(ScrapeProtocol::parse(s).map_err(serde::de::Error::custom)?);
    }
    Ok(Some(out))
}

fn de_tenant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TenantId>, D::Error> {
    let s = String::deserialize(d)?;
    TenantId::new(&s)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("tenant: {e}")))
}

fn de_label_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let m = BTreeMap::<String, Option<Scalar>>::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (k, v) in m {
        if !validate_label_name(&k) {
            return Err(serde::de::Error::custom(format!(
                "{k:?} is not a valid label name"
            )));
        }
        out.insert(k, v.map(|s| s.0).unwrap_or_default());
    }
    Ok(out)
}

fn de_params<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let m = BTreeMap::<String, Vec<Scalar>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|s| s.0).collect()))
        .collect())
}

fn yes() -> bool {
    true
}

/// The scrape-related part of Prometheus's `global:` block. Keys that do not
/// concern scraping (`evaluation_interval`, `external_labels`, …) are
/// accepted and ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawGlobal")]
pub struct GlobalScrapeConfig {
    /// Default 1m.
    pub scrape_interval: Duration,
    /// Default `min(10s, scrape_interval)`.
    pub scrape_timeout: Duration,
    pub scrape_protocols: Vec<ScrapeProtocol>,
    /// Bytes; 0 = no limit. Default [`DEFAULT_BODY_SIZE_LIMIT`] (an Argus
    /// choice; Prometheus has no limit by default).
    pub body_size_limit: u64,
    pub sample_limit: u64,
    pub target_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub keep_dropped_targets: u64,
}

impl Default for GlobalScrapeConfig {
    fn default() -> Self {
        GlobalScrapeConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            scrape_protocols: ScrapeProtocol::DEFAULT.to_vec(),
            body_size_limit: DEFAULT_BODY_SIZE_LIMIT,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
        }
    }
}

#[derive(Deserialize, Default)]
struct RawGlobal {
    #[serde(default, deserialize_with = "de_duration")]
    scrape_interval: Duration,
    #[serde(default, deserialize_with = "de_duration")]
    scrape_timeout: Duration,
    #[serde(default, deserialize_with = "de_protocols")]
    scrape_protocols: Option<Vec<ScrapeProtocol>>,
    #[serde(default, deserialize_with = "de_opt_size")]
    body_size_limit: Option<u64>,
    #[serde(default)]
    sample_limit: u64,
    #[serde(default)]
    target_limit: u64,
    #[serde(default)]
    label_limit: u64,
    #[serde(default)]
    label_name_length_limit: u64,
    #[serde(default)]
    label_value_length_limit: u64,
    #[serde(default)]
    keep_dropped_targets: u64,
    #[serde(default)]
    metric_name_validation_scheme: Option<String>,
}

impl TryFrom<RawGlobal> for GlobalScrapeConfig {
    type Error = ConfigError;

    fn try_from(r: RawGlobal) -> Result<Self, ConfigError> {
        let d = GlobalScrapeConfig::default();
        check_validation_scheme(r.metric_name_validation_scheme.as_deref())?;
        let mut g = GlobalScrapeConfig {
            scrape_interval: r.scrape_interval,
            scrape_timeout: r.scrape_timeout,
            scrape_protocols: r.scrape_protocols.unwrap_or(d.scrape_protocols),
            body_size_limit: r.body_size_limit.unwrap_or(d.body_size_limit),
            sample_limit: r.sample_limit,
            target_limit: r.target_limit,
            label_limit: r.label_limit,
            label_name_length_limit: r.label_name_length_limit,
            label_value_length_limit: r.label_value_length_limit,
            keep_dropped_targets: r.keep_dropped_targets,
        };
        g.validate()?;
        Ok(g)
    }
}

impl GlobalScrapeConfig {
    /// Applies Prometheus's `GlobalConfig.UnmarshalYAML` defaults and checks.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        if self.scrape_interval.is_zero() {
            self.scrape_interval = Duration::from_secs(60);
        }
        if self.scrape_timeout > self.scrape_interval {
            return cerr("global scrape timeout greater than scrape interval");
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = Duration::from_secs(10).min(self.scrape_interval);
        }
        if self.scrape_protocols.is_empty() {
            return cerr("scrape_protocols cannot be empty for global config");
        }
        Ok(())
    }
}

fn check_validation_scheme(s: Option<&str>) -> Result<(), ConfigError> {
    match s {
        None | Some("") | Some("legacy") => Ok(()),
        Some("utf8") => cerr("metric_name_validation_scheme: utf8 names are not supported by Argus"),
        Some(other) => cerr(format!(
            "unknown name validation method specified, must be either 'legacy' or 'utf8', got {other}"
        )),
    }
}

/// A `static_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses (the port defaults from the scheme).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Labels for every target of the group.
    #[serde(default, deserialize_with = "de_label_map")]
    pub labels: BTreeMap<String, String>,
}

/// `basic_auth:`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// `authorization:`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Default `Bearer`.
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub credentials: Option<String>,
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
}

/// `tls_config:` (the subset Argus supports).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// One `scrape_configs:` entry. Zero durations and limits mean "inherit from
/// the global config"; [`ScrapeConfig::validate`] fills them in (the
/// manager calls it too).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    pub job_name: String,
    #[serde(default)]
    pub honor_labels: bool,
    #[serde(default = "yes")]
    pub honor_timestamps: bool,
    #[serde(default)]
    pub track_timestamps_staleness: bool,
    #[serde(default, deserialize_with = "de_params")]
    pub params: BTreeMap<String, Vec<String>>,
    #[serde(default, deserialize_with = "de_duration")]
    pub scrape_interval: Duration,
    #[serde(default, deserialize_with = "de_duration")]
    pub scrape_timeout: Duration,
    #[serde(default, deserialize_with = "de_protocols")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Accepted for compatibility; no effect without native histograms.
    #[serde(default)]
    pub scrape_classic_histograms: bool,
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Accepted; Argus always asks for `identity` (no gzip decoder).
    #[serde(default = "yes")]
    pub enable_compression: bool,
    #[serde(default, deserialize_with = "de_size")]
    pub body_size_limit: u64,
    #[serde(default)]
    pub sample_limit: u64,
    #[serde(default)]
    pub target_limit: u64,
    #[serde(default)]
    pub label_limit: u64,
    #[serde(default)]
    pub label_name_length_limit: u64,
    #[serde(default)]
    pub label_value_length_limit: u64,
    #[serde(default)]
    pub keep_dropped_targets: u64,
    #[serde(default)]
    pub metric_name_validation_scheme: Option<String>,
    /// Accepted for compatibility; native histograms are not scraped.
    #[serde(default)]
    pub native_histogram_bucket_limit: u64,
    /// Accepted for compatibility; native histograms are not scraped.
    #[serde(default)]
    pub native_histogram_min_bucket_factor: f64,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default)]
    pub authorization: Option<Authorization>,
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    /// Accepted; HTTP/1.1 is used (reqwest built without HTTP/2).
    #[serde(default = "yes")]
    pub enable_http2: bool,
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(default)]
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Argus extension: the tenant that owns this job's samples (default:
    /// the server's default tenant).
    #[serde(default, deserialize_with = "de_tenant")]
    pub tenant: Option<TenantId>,
}

fn default_metrics_path() -> String {
    "/metrics".to_string()
}

fn default_scheme() -> String {
    "http".to_string()
}

impl ScrapeConfig {
    /// A config with Prometheus's defaults for `job_name` and no targets.
    pub fn new(job_name: &str) -> Self {
        ScrapeConfig {
            job_name: job_name.to_string(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            params: BTreeMap::new(),
            scrape_interval: Duration::ZERO,
            scrape_timeout: Duration::ZERO,
            scrape_protocols: None,
            scrape_classic_histograms: false,
            metrics_path: default_metrics_path(),
            scheme: default_scheme(),
            enable_compression: true,
            body_size_limit: 0,
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: None,
            native_histogram_bucket_limit: 0,
            native_histogram_min_bucket_factor: 0.0,
            basic_auth: None,
            authorization: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: None,
            follow_redirects: true,
            enable_http2: true,
            static_configs: Vec::new(),
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
            tenant: None,
        }
    }

    /// Fills inherited values from `global` and checks the job, as
    /// Prometheus's `ScrapeConfig.UnmarshalYAML` + `Validate` do.
    /// Idempotent.
    pub fn validate(&mut self, global: &GlobalScrapeConfig) -> Result<(), ConfigError> {
        let job = self.job_name.clone();
        if job.is_empty() {
            return cerr("job_name is empty");
        }
        if self.scrape_interval.is_zero() {
            self.scrape_interval = global.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return cerr(format!("scrape timeout greater than scrape interval for scrape config with job name {job:?}"));
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = global.scrape_timeout.min(self.scrape_interval);
        }
        macro_rules! inherit {
            ($($f:ident),*) => { $( if self.$f == 0 { self.$f = global.$f; } )* };
        }
        inherit!(
            body_size_limit,
            sample_limit,
            target_limit,
            label_limit,
            label_name_length_limit,
            label_value_length_limit,
            keep_dropped_targets
        );
        match &self.scrape_protocols {
            None => self.scrape_protocols = Some(global.scrape_protocols.clone()),
            Some(p) if p.is_empty() => {
                return cerr(format!(
                    "scrape_protocols cannot be empty for scrape config with job name {job:?}"
                ))
            }
            Some(_) => {}
        }
        check_validation_scheme(self.metric_name_validation_scheme.as_deref())?;
        self.validate_http(&job)?;
        // Check for users putting URLs in target groups.
        if self.relabel_configs.is_empty() {
            for sc in &self.static_configs {
                for t in &sc.targets {
                    check_target_address(t)?;
                }
            }
        }
        for r in self
            .relabel_configs
            .iter()
            .chain(&self.metric_relabel_configs)
        {
            r.validate()
                .map_err(|e| ConfigError(format!("job {job:?}: {e}")))?;
        }
        Ok(())
    }

    /// Prometheus's `HTTPClientConfig.Validate` for the supported subset.
    fn validate_http(&mut self, job: &str) -> Result<(), ConfigError> {
        let e = |m: &str| cerr(format!("job {job:?}: {m}"));
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return e("at most one of bearer_token & bearer_token_file must be configured");
        }
        let has_bearer = self.bearer_token.is_some() || self.bearer_token_file.is_some();
        if self.basic_auth.is_some() && has_bearer {
            return e("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
        }
        if let Some(b) = &self.basic_auth {
            if b.password.is_some() && b.password_file.is_some() {
                return e("at most one of basic_auth password & password_file must be configured");
            }
        }
        if let Some(a) = &mut self.authorization {
            if has_bearer {
                return e("authorization is not compatible with bearer_token & bearer_token_file");
            }
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return e("at most one of authorization credentials & credentials_file must be configured");
            }
            a.kind = a.kind.trim().to_string();
            if a.kind.is_empty() {
                a.kind = "Bearer".to_string();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return e(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#,
                );
            }
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return e("at most one of basic_auth, oauth2 & authorization must be configured");
        }
        if let Some(t) = &self.tls_config {
            if t.cert_file.is_some() != t.key_file.is_some() {
                return e("tls_config: exactly one of cert_file and key_file is configured; both or neither are needed");
            }
        }
        Ok(())
    }

    /// The Accept header for this job (after [`validate`](Self::validate)).
    pub fn accept_header(&self) -> String {
        accept_header(
            self.scrape_protocols
                .as_deref()
                .unwrap_or(&ScrapeProtocol::DEFAULT),
        )
    }
}

/// Prometheus's `CheckTargetAddress`: an address must not look like a URL.
pub(crate) fn check_target_address(addr: &str) -> Result<(), ConfigError> {
    if addr.contains('/') {
        return cerr(format!("{addr:?} is not a valid hostname"));
    }
    Ok(())
}

/// The scraping part of a Prometheus configuration file: `global:` and
/// `scrape_configs:`. Other top-level keys are ignored.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ScrapeConfigFile {
    #[serde(default)]
    pub global: Option<GlobalScrapeConfig>,
    #[serde(default)]
    pub scrape_configs: Vec<ScrapeConfig>,
}

/// Parses a Prometheus-style YAML file into the global scrape settings and
/// the validated jobs (defaults applied, unique job names).
pub fn parse_config(yaml: &str) -> Result<(GlobalScrapeConfig, Vec<ScrapeConfig>), ConfigError> {
    let file: ScrapeConfigFile =
        serde_yaml::from_str(yaml).map_err(|e| ConfigError(e.to_string()))?;
    let global = file.global.unwrap_or_default();
    let configs = validate_all(file.scrape_configs, &global)?;
    Ok((global, configs))
}

/// Validates every job against `global` and checks that job names are unique.
pub fn validate_all(
    mut configs: Vec<ScrapeConfig>,
    global: &GlobalScrapeConfig,
) -> Result<Vec<ScrapeConfig>, ConfigError> {
    let mut names = HashSet::new();
    for c in &mut configs {
        c.validate(global)?;
        if !names.insert(c.job_name.clone()) {
            return cerr(format!(
                "found multiple scrape configs with job name {:?}",
                c.job_name
            ));
        }
    }
    Ok(configs)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
