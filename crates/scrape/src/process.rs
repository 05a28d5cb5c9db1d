//! One scrape from response to batch, as Prometheus's
//! `scrapeLoop.scrapeAndReport` handles it: parse, append, and on any error
//! throw the samples away, write staleness markers instead, and report
//! `up = 0`.

use std::time::Instant;

use argus_ingest::textparse::{self, Format, ParsedSample};

use crate::append::{
    append, append_report, AppendOptions, AppendStats, Batch, Report, ScrapeCache,
};

/// What fetching the target produced.
#[derive(Debug)]
pub(crate) enum ScrapeOutcome {
    /// A 200 response and its (size-checked) body.
    Body {
        bytes: Vec<u8>,
        content_type: Option<String>,
    },
    /// The scrape failed before a body was read.
    Failed {
        error: String,
        body_size_exceeded: bool,
    },
    /// Not scraped (`target_limit` exceeded).
    Forced(String),
}

/// The result of [`process_scrape`].
#[derive(Debug)]
pub(crate) struct Processed {
    pub batch: Batch,
    pub error: Option<String>,
    pub stats: AppendStats,
    pub sample_limit_exceeded: bool,
}

/// Extra settings for the report series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReportOptions {
    /// `Some((timeout_seconds, sample_limit))` with `extra_scrape_metrics`.
    pub extra: Option<(f64, u64)>,
}

/// Turns an outcome into the series to store. `start` is when the scrape
/// began (for `scrape_duration_seconds`), `def_time` the scrape timestamp
/// in ms, `now_ms` the wall clock (for the future-timestamp limit).
pub(crate) fn process_scrape(
    cache: &mut ScrapeCache,
    o: &AppendOptions,
    outcome: ScrapeOutcome,
    start: Instant,
    def_time: i64,
    now_ms: i64,
    ro: ReportOptions,
) -> Processed {
    let mut batch = Batch::default();
    let mut sample_limit_exceeded = false;
    let mut bytes_read: i64 = 0;
    let (stats, error) = match outcome {
        ScrapeOutcome::Forced(e)
        | ScrapeOutcome::Failed {
            error: e,
            body_size_exceeded: false,
        } => {
            // A failed scrape is an empty one: stale markers for everything.
            let _ = append(cache, o, &[], None, true, def_time, now_ms, &mut batch);
            (AppendStats::default(), Some(e))
        }
        ScrapeOutcome::Failed {
            error: e,
            body_size_exceeded: true,
        } => {
            bytes_read = -1;
            let _ = append(cache, o, &[], None, true, def_time, now_ms, &mut batch);
            (AppendStats::default(), Some(e))
        }
        ScrapeOutcome::Body {
            bytes,
            content_type,
        } => {
            bytes_read = bytes.len() as i64;
            let format = textparse::format_from_content_type(content_type.as_deref());
            let (samples, parse_error) = match textparse::parse(&bytes, format) {
                Ok(p) => (p.samples, None),
                Err(e) => (
                    samples_before_error(&bytes, format, e.line),
                    Some(e.to_string()),
                ),
            };
            let (stats, res) = append(
                cache,
                o,
                &samples,
                parse_error,
                bytes.is_empty(),
                def_time,
                now_ms,
                &mut batch,
            );
            match res {
                Ok(()) => (stats, None),
                Err(e) => {
                    sample_limit_exceeded = e == crate::append::AppendError::SampleLimit;
                    // Roll back, then append an empty scrape for the stale markers.
                    batch = Batch::default();
                    let _ = append(cache, o, &[], None, true, def_time, now_ms, &mut batch);
                    (stats, Some(e.to_string()))
                }
            }
        }
    };
    let report = Report {
        up: error.is_none(),
        duration_seconds: start.elapsed().as_secs_f64(),
        stats,
        extra: ro
            .extra
            .map(|(timeout, limit)| (timeout, limit, bytes_read)),
    };
    append_report(&mut batch, &o.target_labels, def_time, &report);
    Processed {
        batch,
        error,
        stats,
        sample_limit_exceeded,
    }
}

/// The samples a streaming parser (Prometheus's) yields before the line
/// that fails: those of the lines before `line` (1-based).
fn samples_before_error(body: &[u8], format: Format, line: usize) -> Vec<ParsedSample> {
    // Up to and including the newline that ends line `line - 1`.
    let end = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    let prefix = &body[..end];
    if let Ok(p) = textparse::parse(prefix, format) {
        return p.samples;
    }
    if format == Format::OpenMetrics {
        // The prefix lacks `# EOF`.
        let mut with_eof = prefix.to_vec();
        if !with_eof.is_empty() && !with_eof.ends_with(b"\n") {
            with_eof.push(b'\n');
        }
        with_eof.extend_from_slice(b"# EOF\n");
        if let Ok(p) = textparse::parse(&with_eof, format) {
            return p.samples;
        }
    }
    Vec::new()
}
