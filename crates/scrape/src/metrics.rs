//! The scraper's own metrics (`argus_scrape_*`), per job.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;

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

/// Escapes a label value for the text format.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the metrics in the Prometheus text format. `targets` holds the
/// active and dropped target counts per job.
pub(crate) fn render(
    out: &mut String,
    jobs: &BTreeMap<String, JobCounters>,
    targets: &BTreeMap<String, (usize, usize)>,
) {
    type Get = fn(&JobCounters) -> f64;
    let counters: [(&str, &str, Get); 8] = [
        ("argus_scrape_scrapes_total", "Scrapes performed.", |c| {
            c.scrapes as f64
        }),
        (
            "argus_scrape_failures_total",
            "Scrapes that failed (up == 0).",
            |c| c.failures as f64,
        ),
        (
            "argus_scrape_samples_scraped_total",
            "Samples parsed from scrape responses.",
            |c| c.samples_scraped as f64,
        ),
        (
            "argus_scrape_series_written_total",
            "Samples handed to storage, staleness markers and report series included.",
            |c| c.series_written as f64,
        ),
        (
            "argus_scrape_sample_limit_exceeded_total",
            "Scrapes that hit sample_limit.",
            |c| c.sample_limit_exceeded as f64,
        ),
        (
            "argus_scrape_body_size_limit_exceeded_total",
            "Scrapes that hit body_size_limit.",
            |c| c.body_size_limit_exceeded as f64,
        ),
        (
            "argus_scrape_duplicate_samples_total",
            "Samples dropped for repeating a series and timestamp within a scrape.",
            |c| c.duplicate_samples as f64,
        ),
        (
            "argus_scrape_out_of_bounds_samples_total",
            "Samples dropped for a timestamp more than 10 minutes in the future.",
            |c| c.out_of_bounds_samples as f64,
        ),
    ];
    for (name, help, get) in counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (job, c) in jobs {
            let _ = writeln!(out, "{name}{{job=\"{}\"}} {}", esc(job), get(c));
        }
    }
    let name = "argus_scrape_sink_errors_total";
    let _ = writeln!(
        out,
        "# HELP {name} Scrape results storage did not take (all of), by reason.\n# TYPE {name} counter"
    );
    for (job, c) in jobs {
        for (reason, n) in &c.sink_errors {
            let _ = writeln!(
                out,
                "{name}{{job=\"{}\",reason=\"{}\"}} {n}",
                esc(job),
                reason.as_str()
            );
        }
    }
    let name = "argus_scrape_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Duration of scrapes.\n# TYPE {name} summary"
    );
    for (job, c) in jobs {
        let _ = writeln!(out, "{name}_sum{{job=\"{}\"}} {}", esc(job), c.duration_sum);
        let _ = writeln!(out, "{name}_count{{job=\"{}\"}} {}", esc(job), c.scrapes);
    }
    for (name, help, dropped) in [
        ("argus_scrape_targets", "Active scrape targets.", false),
        (
            "argus_scrape_targets_dropped",
            "Targets dropped by relabelling.",
            true,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (job, (active, drop)) in targets {
            let v = if dropped { drop } else { active };
            let _ = writeln!(out, "{name}{{job=\"{}\"}} {v}", esc(job));
        }
    }
}
