//! The scraper's own metrics (`argus_scrape_*`), per job.

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::AppendErrorKind;

/// Counters of one job.
#[derive(Debug, Clone, Default)]
pub(crate) struct JobCounters {
    pub scrapes: u64,
    pub failures: u64,
    pub duration_sum: f64,
    pub samples_scraped: u64,
    pub series_written: u64,
    pub sample_limit_exceeded: u64,
    pub body_size_limit_exceeded: u64,
    pub duplicate_samples: u64,
    pub out_of_bounds_samples: u64,
    /// Batches the sink did not store (all of), by reason.
    pub sink_errors: BTreeMap<AppendErrorKind, u64>,
}

/// All jobs' counters. Counters of removed jobs are kept (they never go
/// backwards).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    jobs: Mutex<BTreeMap<String, JobCounters>>,
}

impl Metrics {
    pub(crate) fn update(&self, job: &str, f: impl FnOnce(&mut JobCounters)) {
        let mut jobs = self.jobs.lock();
        f(jobs.entry(job.to_string()).or_default());
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<String, JobCounters> {
        self.jobs.lock().clone()
    }
}

/// Active and dropped target counts per job, read at scrape time.
pub(crate) type TargetCounts = Box<dyn Fn() -> BTreeMap<String, (usize, usize)> + Send + Sync>;

/// The scraper's metrics, read when the registry is encoded.
pub(crate) struct ScrapeCollector {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) targets: TargetCounts,
}

impl std::fmt::Debug for ScrapeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeCollector").finish_non_exhaustive()
    }
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let jobs = self.metrics.snapshot();
        let targets = (self.targets)();
        type Get = fn(&JobCounters) -> u64;
        // Counter names without `_total`: the encoder adds it.
        let counters: [(&str, &str, Get); 8] = [
            ("argus_scrape_scrapes", "Scrapes performed.", |c| c.scrapes),
            (
                "argus_scrape_failures",
                "Scrapes that failed (up == 0).",
                |c| c.failures,
            ),
            (
                "argus_scrape_samples_scraped",
                "Samples parsed from scrape responses.",
                |c| c.samples_scraped,
            ),
            (
                "argus_scrape_series_written",
                "Samples handed to storage, staleness markers and report series included.",
                |c| c.series_written,
            ),
            (
                "argus_scrape_sample_limit_exceeded",
                "Scrapes that hit sample_limit.",
                |c| c.sample_limit_exceeded,
            ),
            (
                "argus_scrape_body_size_limit_exceeded",
                "Scrapes that hit body_size_limit.",
                |c| c.body_size_limit_exceeded,
            ),
            (
                "argus_scrape_duplicate_samples",
                "Samples dropped for repeating a series and timestamp within a scrape.",
                |c| c.duplicate_samples,
            ),
            (
                "argus_scrape_out_of_bounds_samples",
                "Samples dropped for a timestamp more than 10 minutes in the future.",
                |c| c.out_of_bounds_samples,
            ),
        ];
        for (name, help, get) in counters {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (job, c) in &jobs {
                ConstCounter::new(get(c)).encode(m.encode_family(&[("job", job.as_str())])?)?;
            }
        }
        let mut m = encoder.encode_descriptor(
            "argus_scrape_sink_errors",
            "Scrape results storage did not take (all of), by reason.",
            None,
            MetricType::Counter,
        )?;
        for (job, c) in &jobs {
            for (reason, n) in &c.sink_errors {
                ConstCounter::new(*n).encode(
                    m.encode_family(&[("job", job.as_str()), ("reason", reason.as_str())])?,
                )?;
            }
        }
        // Durations as a histogram with only the `+Inf` bucket: the text
        // formats' `_sum` and `_count` of the summary it was (the client
        // library has no summary).
        let mut m = encoder.encode_descriptor(
            "argus_scrape_duration_seconds",
            "Duration of scrapes.",
            None,
            MetricType::Histogram,
        )?;
        for (job, c) in &jobs {
            m.encode_family(&[("job", job.as_str())])?
                .encode_histogram::<NoLabelSet>(
                    c.duration_sum,
                    c.scrapes,
                    &[(f64::INFINITY, c.scrapes)],
                    None,
                )?;
        }
        for (name, help, dropped) in [
            ("argus_scrape_targets", "Active scrape targets.", false),
            (
                "argus_scrape_targets_dropped",
                "Targets dropped by relabelling.",
                true,
            ),
        ] {
            let mut m = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for (job, (active, drop)) in &targets {
                let v = if dropped { drop } else { active };
                ConstGauge::new(*v as i64).encode(m.encode_family(&[("job", job.as_str())])?)?;
            }
        }
        Ok(())
    }
}
