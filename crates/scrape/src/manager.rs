//! The scrape manager: one pool per job, one loop per target (Prometheus's
//! `scrape.Manager` and `scrapePool` in `scrape/manager.go` /
//! `scrape/scrape.go`).
//!
//! Stopping follows Prometheus exactly:
//! - [`ScrapeManager::stop`] (shutdown) and removing a whole job through
//!   [`ScrapeManager::apply_config`] cancel the pool: loops end at once and
//!   write **no** staleness markers (the server may come back and resume).
//! - A target that disappears, or whose job changed in a way that
//!   invalidates its cache, is stopped on its own: its loop finishes the
//!   scrape in flight, waits until the next scrape would have been (the
//!   markers' timestamp), one more interval plus 10%, then writes staleness
//!   markers for all its series and its `up`/`scrape_*` series.
//! - A job whose change keeps the cache valid (only interval, timeout,
//!   sample limit or HTTP client settings changed) hands each target's cache
//!   to the new loop, without markers.

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argus_model::{Labels, TenantId};
use tokio::task::JoinHandle;

use crate::append::{AppendOptions, ScrapeCache};
use crate::config::{validate_all, ConfigError, GlobalScrapeConfig, ScrapeConfig};
use crate::http::{build_client, HttpScraper};
use crate::metrics::{Metrics, ScrapeCollector};
use crate::scrape_loop::{run, Cancel, LoopControl, LoopSpec, TargetState};
use crate::target::{targets_from_config, DroppedTarget, Fnv64a, Populated, Target, TargetStatus};
use crate::ScrapeSink;
use prometheus_client::registry::Registry;

/// Tuning that is not part of the Prometheus configuration.
#[derive(Debug, Clone, Default)]
pub struct ManagerOptions {
    /// Also report `scrape_timeout_seconds`, `scrape_sample_limit` and
    /// `scrape_body_size_bytes` (Prometheus's
    /// `--enable-feature=extra-scrape-metrics`).
    pub extra_scrape_metrics: bool,
    /// Seed of the per-target scrape offsets; default: a hash of the
    /// hostname, so that HA replicas scrape at different moments.
    pub offset_seed: Option<u64>,
    /// Scrape each target immediately instead of at its offset (tests).
    pub skip_offset: bool,
}

struct LoopEntry {
    target: Target,
    url: String,
    interval: Duration,
    timeout: Duration,
    ctl: LoopControl,
    handle: JoinHandle<()>,
}

struct Pool {
    config: Arc<ScrapeConfig>,
    client: reqwest::Client,
    loops: HashMap<u64, LoopEntry>,
    dropped: Vec<Labels>,
    dropped_count: usize,
    forced: Arc<Mutex<Option<String>>>,
    parent: Cancel,
}

struct State {
    pools: BTreeMap<String, Pool>,
    /// Loops told to stop that may still write end-of-run staleness markers.
    retiring: Vec<JoinHandle<()>>,
}

/// Runs the scrape loops of a set of jobs. Create it inside a Tokio runtime.
pub struct ScrapeManager {
    sink: Arc<dyn ScrapeSink>,
    default_tenant: TenantId,
    options: ManagerOptions,
    offset_seed: u64,
    metrics: Arc<Metrics>,
    /// Shared with the metrics collector ([`ScrapeManager::register_metrics`]).
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for ScrapeManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeManager")
            .field("default_tenant", &self.default_tenant)
            .finish_non_exhaustive()
    }
}

/// What a config change left to wait for.
#[derive(Default)]
struct Pending {
    stopped: Vec<Cancel>,
    joins: Vec<JoinHandle<()>>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Prometheus's `zeroConfig` comparison: configs that differ only in these
/// fields produce the same series, so a target's cache stays valid.
fn reusable_cache(a: &ScrapeConfig, b: &ScrapeConfig) -> bool {
    let zero = |c: &ScrapeConfig| {
        let mut z = c.clone();
        z.scrape_interval = Duration::ZERO;
        z.scrape_timeout = Duration::ZERO;
        z.sample_limit = 0;
        z.basic_auth = None;
        z.authorization = None;
        z.bearer_token = None;
        z.bearer_token_file = None;
        z.tls_config = None;
        z.follow_redirects = true;
        z.enable_http2 = true;
        z
    };
    zero(a) == zero(b)
}

impl ScrapeManager {
    /// Starts scraping `configs`. Invalid jobs (and repeated job names) are
    /// logged and skipped; validate beforehand with
    /// [`parse_config`](crate::parse_config) or
    /// [`validate_all`](crate::validate_all) to reject them instead.
    pub fn start(
        configs: Vec<ScrapeConfig>,
        global: GlobalScrapeConfig,
        default_tenant: TenantId,
        sink: Arc<dyn ScrapeSink>,
    ) -> ScrapeManager {
        Self::start_with_options(
            configs,
            global,
            default_tenant,
            sink,
            ManagerOptions::default(),
        )
    }

    /// [`start`](Self::start) with [`ManagerOptions`].
    pub fn start_with_options(
        configs: Vec<ScrapeConfig>,
        mut global: GlobalScrapeConfig,
        default_tenant: TenantId,
        sink: Arc<dyn ScrapeSink>,
        options: ManagerOptions,
    ) -> ScrapeManager {
        if let Err(e) = global.validate() {
            tracing::error!(error = %e, "invalid global scrape config, using defaults");
            global = GlobalScrapeConfig::default();
        }
        let offset_seed = options.offset_seed.unwrap_or_else(|| {
            let mut h = Fnv64a::new();
            h.write(format!("{}{{}}", hostname()).as_bytes());
            h.finish()
        });
        let m = ScrapeManager {
            sink,
            default_tenant,
            options,
            offset_seed,
            metrics: Arc::new(Metrics::default()),
            state: Arc::new(Mutex::new(State {
                pools: BTreeMap::new(),
                retiring: Vec::new(),
            })),
        };
        let mut seen = HashSet::new();
        let mut st = m.state.lock();
        for mut cfg in configs {
            if let Err(e) = cfg.validate(&global) {
                tracing::error!(job = %cfg.job_name, error = %e, "invalid scrape config, skipped");
                continue;
            }
            if !seen.insert(cfg.job_name.clone()) {
                tracing::error!(job = %cfg.job_name, "repeated job name, skipped");
                continue;
            }
            match build_client(&cfg) {
                Ok(client) => {
                    let name = cfg.job_name.clone();
                    let mut pool = m.new_pool(cfg, client);
                    let mut pending = Pending::default();
                    m.sync(&name, &mut pool, &mut pending, &mut st.retiring);
                    st.pools.insert(name, pool);
                }
                Err(e) => {
                    tracing::error!(job = %cfg.job_name, error = %e, "error creating scrape pool")
                }
            }
        }
        drop(st);
        m
    }

    fn new_pool(&self, cfg: ScrapeConfig, client: reqwest::Client) -> Pool {
        Pool {
            config: Arc::new(cfg),
            client,
            loops: HashMap::new(),
            dropped: Vec::new(),
            dropped_count: 0,
            forced: Arc::new(Mutex::new(None)),
            parent: Cancel::new(),
        }
    }

    fn tenant(&self, cfg: &ScrapeConfig) -> TenantId {
        cfg.tenant
            .clone()
            .unwrap_or_else(|| self.default_tenant.clone())
    }

    fn spawn_loop(
        &self,
        pool: &Pool,
        target: Target,
        cache: Option<Arc<Mutex<ScrapeCache>>>,
        wait_for: Option<Cancel>,
    ) -> LoopEntry {
        let cfg = &pool.config;
        let (interval, timeout) = target.interval_and_timeout();
        let url = target.url();
        let spec = LoopSpec {
            job: cfg.job_name.clone(),
            tenant: self.tenant(cfg),
            target: target.clone(),
            interval,
            timeout,
            append_opts: AppendOptions {
                target_labels: target.public_labels(),
                honor_labels: cfg.honor_labels,
                honor_timestamps: cfg.honor_timestamps,
                track_timestamps_staleness: cfg.track_timestamps_staleness,
                sample_limit: cfg.sample_limit,
                label_limit: cfg.label_limit,
                label_name_length_limit: cfg.label_name_length_limit,
                label_value_length_limit: cfg.label_value_length_limit,
                metric_relabel_configs: cfg.metric_relabel_configs.clone(),
            },
            scraper: HttpScraper {
                client: pool.client.clone(),
                url: url.clone(),
                accept: cfg.accept_header(),
                timeout,
                body_size_limit: cfg.body_size_limit,
                config: cfg.clone(),
            },
            offset_seed: self.offset_seed,
            skip_offset: self.options.skip_offset,
            extra_metrics: self.options.extra_scrape_metrics,
            sample_limit: cfg.sample_limit,
            forced_error: pool.forced.clone(),
            sink: self.sink.clone(),
            metrics: self.metrics.clone(),
        };
        let ctl = LoopControl {
            parent: pool.parent.clone(),
            stop: Cancel::new(),
            stopped: Cancel::new(),
            no_end_staleness: Arc::new(AtomicBool::new(false)),
            cache: cache.unwrap_or_default(),
            state: Arc::new(Mutex::new(TargetState::default())),
        };
        let handle = tokio::spawn(run(spec, ctl.clone(), wait_for));
        LoopEntry {
            target,
            url,
            interval,
            timeout,
            ctl,
            handle,
        }
    }

    /// Prometheus's `scrapePool.Sync` for the job's static targets: start
    /// loops for new targets, stop those of vanished ones.
    fn sync(
        &self,
        job: &str,
        pool: &mut Pool,
        pending: &mut Pending,
        retiring: &mut Vec<JoinHandle<()>>,
    ) {
        let mut unique: Vec<(u64, Target)> = Vec::new();
        let mut seen = HashSet::new();
        pool.dropped.clear();
        pool.dropped_count = 0;
        for p in targets_from_config(&pool.config) {
            match p {
                Populated::Target(t) => {
                    let h = t.hash();
                    if seen.insert(h) {
                        unique.push((h, t));
                    }
                }
                Populated::Dropped(d) => {
                    let keep = pool.config.keep_dropped_targets;
                    if keep == 0 || (pool.dropped.len() as u64) < keep {
                        pool.dropped.push(d);
                    }
                    pool.dropped_count += 1;
                }
                Populated::Failed(e) => tracing::error!(job, error = %e, "creating target failed"),
            }
        }
        let limit = pool.config.target_limit;
        *pool.forced.lock() = (limit > 0 && unique.len() as u64 > limit).then(|| {
            format!(
                "target_limit exceeded (number of targets: {}, limit: {limit})",
                unique.len()
            )
        });
        let gone: Vec<u64> = pool
            .loops
            .keys()
            .filter(|h| !seen.contains(h))
            .copied()
            .collect();
        for h in gone {
            if let Some(e) = pool.loops.remove(&h) {
                e.ctl.stop.cancel();
                pending.stopped.push(e.ctl.stopped.clone());
                retiring.push(e.handle);
            }
        }
        for (h, t) in unique {
            if !pool.loops.contains_key(&h) {
                let entry = self.spawn_loop(pool, t, None, None);
                pool.loops.insert(h, entry);
            }
        }
    }

    /// Prometheus's `scrapePool.reload` followed by the target sync it
    /// leads to: loops of targets that survive the change restart with the
    /// new config (handing over their cache when it stays valid); loops of
    /// targets the new config no longer produces are stopped with end-of-run
    /// staleness markers, as the next sync would do in Prometheus.
    fn reload(
        &self,
        pool: &mut Pool,
        cfg: ScrapeConfig,
        client: reqwest::Client,
        pending: &mut Pending,
        retiring: &mut Vec<JoinHandle<()>>,
    ) {
        let reuse = reusable_cache(&pool.config, &cfg);
        pool.config = Arc::new(cfg);
        pool.client = client;
        let surviving: HashSet<u64> = targets_from_config(&pool.config)
            .into_iter()
            .filter_map(|p| match p {
                Populated::Target(t) => Some(t.hash()),
                _ => None,
            })
            .collect();
        let old: Vec<(u64, LoopEntry)> = pool.loops.drain().collect();
        for (h, e) in old {
            let keep = surviving.contains(&h);
            let cache = if keep && reuse {
                e.ctl.no_end_staleness.store(true, Ordering::SeqCst);
                Some(e.ctl.cache.clone())
            } else {
                None
            };
            e.ctl.stop.cancel();
            pending.stopped.push(e.ctl.stopped.clone());
            retiring.push(e.handle);
            if keep {
                let entry = self.spawn_loop(pool, e.target, cache, Some(e.ctl.stopped.clone()));
                pool.loops.insert(h, entry);
            }
        }
    }

    /// Applies a new set of jobs, like Prometheus's `Manager.ApplyConfig`
    /// followed by a target sync: removed jobs stop (no staleness markers),
    /// changed jobs restart their loops, new jobs start. On error nothing
    /// changes. Returns once stopped loops have finished their last scrape.
    pub async fn apply_config(
        &self,
        configs: Vec<ScrapeConfig>,
        mut global: GlobalScrapeConfig,
    ) -> Result<(), ConfigError> {
        global.validate()?;
        let configs = validate_all(configs, &global)?;
        let mut clients = BTreeMap::new();
        {
            let st = self.state.lock();
            for c in &configs {
                if st.pools.get(&c.job_name).is_none_or(|p| *p.config != *c) {
                    let client = build_client(c)
                        .map_err(|e| ConfigError(format!("job {:?}: {e}", c.job_name)))?;
                    clients.insert(c.job_name.clone(), client);
                }
            }
        }
        let mut pending = Pending::default();
        {
            let mut guard = self.state.lock();
            let st = &mut *guard;
            let names: HashSet<&str> = configs.iter().map(|c| c.job_name.as_str()).collect();
            let removed: Vec<String> = st
                .pools
                .keys()
                .filter(|n| !names.contains(n.as_str()))
                .cloned()
                .collect();
            for name in removed {
                if let Some(pool) = st.pools.remove(&name) {
                    pool.parent.cancel();
                    pending
                        .joins
                        .extend(pool.loops.into_values().map(|e| e.handle));
                }
            }
            for cfg in configs {
                let name = cfg.job_name.clone();
                let Some(client) = clients.remove(&name) else {
                    continue;
                };
                match st.pools.get_mut(&name) {
                    Some(pool) => {
                        self.reload(pool, cfg, client, &mut pending, &mut st.retiring);
                        self.sync(&name, pool, &mut pending, &mut st.retiring);
                    }
                    None => {
                        let mut pool = self.new_pool(cfg, client);
                        self.sync(&name, &mut pool, &mut pending, &mut st.retiring);
                        st.pools.insert(name, pool);
                    }
                }
            }
            st.retiring.retain(|h| !h.is_finished());
        }
        for s in pending.stopped {
            s.cancelled().await;
        }
        for j in pending.joins {
            let _ = j.await;
        }
        Ok(())
    }

    /// Stops all loops, like Prometheus on shutdown: scrapes in flight are
    /// abandoned, writes in flight complete, and no staleness markers are
    /// written. Returns when every loop has exited.
    pub async fn stop(self) {
        let handles = self.cancel_all();
        for h in handles {
            let _ = h.await;
        }
    }

    fn cancel_all(&self) -> Vec<JoinHandle<()>> {
        let mut st = self.state.lock();
        let mut handles = std::mem::take(&mut st.retiring);
        for pool in std::mem::take(&mut st.pools).into_values() {
            pool.parent.cancel();
            handles.extend(pool.loops.into_values().map(|e| e.handle));
        }
        handles
    }

    /// The active targets, by job and URL.
    pub fn targets(&self) -> Vec<TargetStatus> {
        let st = self.state.lock();
        let mut out = Vec::new();
        for (job, pool) in &st.pools {
            for e in pool.loops.values() {
                let s = e.ctl.state.lock().clone();
                out.push(TargetStatus {
                    job: job.clone(),
                    scrape_url: e.url.clone(),
                    labels: e.target.public_labels(),
                    discovered_labels: e.target.discovered.clone(),
                    tenant: self.tenant(&pool.config),
                    health: s.health,
                    last_error: s.last_error,
                    last_scrape_ms: s.last_scrape_ms,
                    last_scrape_duration: s.last_duration,
                    scrape_interval: e.interval,
                    scrape_timeout: e.timeout,
                });
            }
        }
        out.sort_by(|a, b| (&a.job, &a.scrape_url).cmp(&(&b.job, &b.scrape_url)));
        out
    }

    /// Targets dropped by relabelling (up to `keep_dropped_targets` per job).
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let st = self.state.lock();
        st.pools
            .iter()
            .flat_map(|(job, p)| {
                p.dropped.iter().map(|d| DroppedTarget {
                    job: job.clone(),
                    discovered_labels: d.clone(),
                })
            })
            .collect()
    }

    /// Registers the `argus_scrape_*` metrics, read when the registry is
    /// encoded. The collector does not hold the manager: it can still be
    /// stopped (and dropped) while the registry lives on.
    pub fn register_metrics(&self, registry: &mut Registry) {
        let state = self.state.clone();
        registry.register_collector(Box::new(ScrapeCollector {
            metrics: self.metrics.clone(),
            targets: Box::new(move || {
                state
                    .lock()
                    .pools
                    .iter()
                    .map(|(j, p)| (j.clone(), (p.loops.len(), p.dropped_count)))
                    .collect()
            }),
        }));
    }

    /// The `argus_scrape_*` metrics in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let mut registry = Registry::default();
        self.register_metrics(&mut registry);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(out, &registry);
    }
}

impl Drop for ScrapeManager {
    /// A manager dropped without [`stop`](Self::stop) still ends its loops.
    fn drop(&mut self) {
        drop(self.cancel_all());
    }
}
