//! The per-target loop (Prometheus's `scrapeLoop.run`): wait for the
//! target's offset, scrape every interval, write each result to the sink,
//! and after being stopped write end-of-run staleness markers unless the
//! whole pool was shut down.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argus_model::TenantId;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::append::{append, append_report_stale, AppendOptions, Batch, ScrapeCache};
use crate::http::HttpScraper;
use crate::metrics::Metrics;
use crate::process::{process_scrape, ReportOptions, ScrapeOutcome};
use crate::target::{Target, TargetHealth};
use crate::{AppendError, AppendErrorKind, ScrapeSink};

/// A one-shot, clonable cancellation signal.
#[derive(Clone, Debug)]
pub(crate) struct Cancel(Arc<watch::Sender<bool>>);

impl Cancel {
    pub(crate) fn new() -> Self {
        Cancel(Arc::new(watch::channel(false).0))
    }
    pub(crate) fn cancel(&self) {
        self.0.send_replace(true);
    }
    pub(crate) fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
    pub(crate) async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// Scrape timestamps within this of the ideal slot are snapped to it, for
/// better compression (Prometheus's `ScrapeTimestampTolerance`).
const SCRAPE_TIMESTAMP_TOLERANCE: Duration = Duration::from_millis(2);

/// Last-scrape state of a target.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetState {
    pub health: TargetHealth,
    pub last_error: Option<String>,
    pub last_scrape_ms: Option<i64>,
    pub last_duration: Option<Duration>,
}

/// Everything a loop needs.
pub(crate) struct LoopSpec {
    pub job: String,
    pub tenant: TenantId,
    pub target: Target,
    pub interval: Duration,
    pub timeout: Duration,
    pub append_opts: AppendOptions,
    pub scraper: HttpScraper,
    pub offset_seed: u64,
    pub skip_offset: bool,
    pub extra_metrics: bool,
    pub sample_limit: u64,
    /// `target_limit` exceeded: scrapes are skipped and fail with this.
    pub forced_error: Arc<Mutex<Option<String>>>,
    pub sink: Arc<dyn ScrapeSink>,
    pub metrics: Arc<Metrics>,
}

/// Signals and shared state of a running loop.
#[derive(Clone)]
pub(crate) struct LoopControl {
    /// Cancelled when the pool shuts down: stop at once, no staleness.
    pub parent: Cancel,
    /// Cancelled to stop this loop (target gone, config reloaded).
    pub stop: Cancel,
    /// Set by the loop when it has stopped scraping.
    pub stopped: Cancel,
    /// Skip the end-of-run staleness markers (the cache moves to a new loop).
    pub no_end_staleness: Arc<AtomicBool>,
    pub cache: Arc<Mutex<ScrapeCache>>,
    pub state: Arc<Mutex<TargetState>>,
}

pub(crate) fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn nanos_to_ms(n: i128) -> i64 {
    n.div_euclid(1_000_000) as i64
}

/// Runs the loop until stopped. `wait_for` is the stop signal of a loop this
/// one replaces: scraping starts only after that loop has finished its
/// last scrape.
pub(crate) async fn run(spec: LoopSpec, ctl: LoopControl, wait_for: Option<Cancel>) {
    if let Some(w) = wait_for {
        tokio::select! {
            _ = w.cancelled() => {}
            _ = ctl.parent.cancelled() => { ctl.stopped.cancel(); return; }
        }
    }
    if !spec.skip_offset {
        let offset = spec
            .target
            .offset(spec.interval, spec.offset_seed, now_nanos());
        tokio::select! {
            _ = tokio::time::sleep(offset) => {}
            _ = ctl.parent.cancelled() => { ctl.stopped.cancel(); return; }
            _ = ctl.stop.cancelled() => { ctl.stopped.cancel(); return; }
        }
    }
    let interval_ns = spec.interval.as_nanos() as i128;
    let tolerance = (spec.interval / 100)
        .min(SCRAPE_TIMESTAMP_TOLERANCE)
        .as_nanos() as i128;
    let mut aligned = now_nanos();
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + spec.interval, spec.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut scraped_once = false;
    loop {
        if ctl.parent.is_cancelled() {
            ctl.stopped.cancel();
            return;
        }
        if ctl.stop.is_cancelled() {
            break;
        }
        let mut scrape_time = now_nanos();
        while scrape_time - aligned >= interval_ns {
            aligned += interval_ns;
        }
        if scrape_time - aligned <= tolerance {
            scrape_time = aligned;
        }
        let start = Instant::now();
        let forced = spec.forced_error.lock().clone();
        let outcome = match forced {
            Some(e) => ScrapeOutcome::Forced(e),
            None => tokio::select! {
                o = spec.scraper.scrape() => o,
                // Shutdown aborts the request; nothing is written.
                _ = ctl.parent.cancelled() => { ctl.stopped.cancel(); return; }
            },
        };
        scrape_and_report(&spec, &ctl, outcome, start, nanos_to_ms(scrape_time)).await;
        scraped_once = true;
        tokio::select! {
            _ = ctl.parent.cancelled() => { ctl.stopped.cancel(); return; }
            _ = ctl.stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
    }
    ctl.stopped.cancel();
    if scraped_once && !ctl.no_end_staleness.load(Ordering::SeqCst) {
        end_of_run_staleness(&spec, &ctl, &mut ticker).await;
    }
}

async fn scrape_and_report(
    spec: &LoopSpec,
    ctl: &LoopControl,
    outcome: ScrapeOutcome,
    start: Instant,
    ts: i64,
) {
    let ro = ReportOptions {
        extra: spec
            .extra_metrics
            .then_some((spec.timeout.as_secs_f64(), spec.sample_limit)),
    };
    let body_exceeded = matches!(
        outcome,
        ScrapeOutcome::Failed {
            body_size_exceeded: true,
            ..
        }
    );
    let now_ms = nanos_to_ms(now_nanos());
    let p = {
        let mut cache = ctl.cache.lock();
        process_scrape(
            &mut cache,
            &spec.append_opts,
            outcome,
            start,
            ts,
            now_ms,
            ro,
        )
    };
    let duration = start.elapsed();
    {
        let mut st = ctl.state.lock();
        st.health = if p.error.is_none() {
            TargetHealth::Up
        } else {
            TargetHealth::Down
        };
        st.last_error = p.error.clone();
        st.last_scrape_ms = Some(ts);
        st.last_duration = Some(duration);
    }
    if let Some(e) = &p.error {
        tracing::debug!(job = %spec.job, target = %spec.scraper.url, error = %e, "scrape failed");
    }
    let written = p.batch.len() as u64;
    spec.metrics.update(&spec.job, |c| {
        c.scrapes += 1;
        c.failures += u64::from(p.error.is_some());
        c.duration_sum += duration.as_secs_f64();
        c.samples_scraped += p.stats.total;
        c.sample_limit_exceeded += u64::from(p.sample_limit_exceeded);
        c.body_size_limit_exceeded += u64::from(body_exceeded);
        c.duplicate_samples += p.stats.duplicates + p.batch.duplicates;
        c.out_of_bounds_samples += p.stats.out_of_bounds;
        c.series_written += written;
    });
    write(spec, p.batch).await;
}

/// Hands a batch to the sink on the blocking pool and waits for it. A
/// refusal is logged and counted; the target's health stays as scraped.
async fn write(spec: &LoopSpec, batch: Batch) {
    if batch.series.is_empty() {
        return;
    }
    let sink = spec.sink.clone();
    let tenant = spec.tenant.clone();
    let series = batch.series;
    let res = tokio::task::spawn_blocking(move || sink.append(&tenant, series)).await;
    let err = match res {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(e) => AppendError::new(AppendErrorKind::Storage, format!("sink panicked: {e}")),
    };
    tracing::warn!(job = %spec.job, target = %spec.scraper.url, reason = err.kind.as_str(), error = %err, "writing scrape results failed");
    spec.metrics.update(&spec.job, |c| {
        *c.sink_errors.entry(err.kind).or_default() += 1;
    });
}

/// After a loop was stopped: wait until the next scrape would have been
/// (that is the markers' timestamp), one more interval in case the target
/// comes back under a new loop, and 10% more; then mark everything of the
/// last scrape stale. Abandoned if the pool shuts down meanwhile.
async fn end_of_run_staleness(
    spec: &LoopSpec,
    ctl: &LoopControl,
    ticker: &mut tokio::time::Interval,
) {
    let stale_time = tokio::select! {
        _ = ctl.parent.cancelled() => return,
        _ = ticker.tick() => nanos_to_ms(now_nanos()),
    };
    tokio::select! {
        _ = ctl.parent.cancelled() => return,
        _ = ticker.tick() => {}
    }
    tokio::select! {
        _ = ctl.parent.cancelled() => return,
        _ = tokio::time::sleep(spec.interval / 10) => {}
    }
    let mut batch = Batch::default();
    {
        let mut cache = ctl.cache.lock();
        let now_ms = nanos_to_ms(now_nanos());
        let _ = append(
            &mut cache,
            &spec.append_opts,
            &[],
            None,
            true,
            stale_time,
            now_ms,
            &mut batch,
        );
    }
    append_report_stale(
        &mut batch,
        &spec.append_opts.target_labels,
        stale_time,
        spec.extra_metrics,
    );
    let written = batch.len() as u64;
    spec.metrics
        .update(&spec.job, |c| c.series_written += written);
    write(spec, batch).await;
}
