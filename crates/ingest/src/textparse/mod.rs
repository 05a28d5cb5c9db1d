//! Parser for the Prometheus text exposition format 0.0.4 and the
//! OpenMetrics 1.0 text format, as served by scrape targets.
//!
//! [`parse`] turns a whole response body into [`ParsedSample`]s (labels with
//! `__name__`, value, optional timestamp) plus the [`FamilyMeta`] declared by
//! `# HELP` / `# TYPE` / `# UNIT` lines. It is a hand-written byte scanner,
//! one pass, no regex; every error aborts the parse and says which line.
//!
//! The reference for every edge case is Prometheus v2.55.1
//! (`model/textparse/{promlex.l,promparse.go,openmetricslex.l,openmetricsparse.go}`,
//! `scrape/scrape.go`), read together with the format documents
//! (prometheus/docs `docs/instrumenting/exposition_formats.md`,
//! OpenMetrics `specification/OpenMetrics.md` v1.0.0).
//!
//! # What the scrape layer must do with an error
//!
//! OpenMetrics: "Partial or invalid expositions MUST be considered erroneous
//! in their entirety." Prometheus (`scrapeLoop.scrapeAndReport` in
//! `scrape/scrape.go`) does exactly that on a parse error, and on an
//! invalid name or a duplicate label name, which it finds while appending:
//!
//! - the appender is rolled back: **no sample of that scrape is stored**;
//! - an empty scrape is appended instead, so every series seen in the
//!   previous scrape gets a **staleness marker**;
//! - **`up` is 0** (the append error becomes the scrape error, and `report`
//!   sets health = 0 for any scrape error);
//! - `scrape_samples_scraped` still reports the samples parsed before the
//!   error, and `scrape_duration_seconds` etc. are written as usual.
//!
//! Not parse errors, left to the scrape layer (Prometheus counts them and
//! drops the sample, the scrape succeeds): the same series twice without
//! timestamps, out-of-order or out-of-bounds timestamps, and exemplar
//! problems. `honor_timestamps: false` means ignoring [`ParsedSample::timestamp_ms`].
//!
//! # Format selection
//!
//! [`format_from_content_type`] mirrors `textparse.New` in 2.x: the media
//! type `application/openmetrics-text` (any version, case-insensitive)
//! selects OpenMetrics; anything else, or no header, falls back to the 0.0.4
//! text parser. (Prometheus 3 fails a scrape with a missing or unknown
//! Content-Type unless `fallback_scrape_protocol` is set; that policy belongs
//! to the scrape layer.) [`SCRAPE_ACCEPT_HEADER`] is the header 2.x sends
//! with its default `scrape_protocols`.
//!
//! # Both formats
//!
//! - Label values and quoted names unescape `\\`, `\"` and `\n`; any other
//!   backslash sequence is kept verbatim (Prometheus's `lvalReplacer`;
//!   OpenMetrics' `escaped-char =/ BS normal-char`). A raw line feed cannot
//!   occur inside a value: lines end at `\n`. Values and HELP text must be
//!   valid UTF-8; NUL is fine. `\r` is no line end: with CRLF endings the
//!   last token of each line is invalid, as in Prometheus.
//! - Values are Go `ParseFloat` floats without hex or `_` (Prometheus
//!   rejects `p`, `P`, `_`): decimals, `Inf`/`Infinity` with optional sign and
//!   `NaN` without, case-insensitive. Every NaN becomes the bit pattern
//!   [`NORMAL_NAN_BITS`] (Prometheus's `value.NormalNaN`), so the staleness
//!   marker can never be scraped. A finite literal beyond `f64` is an error.
//! - Names are checked with [`argus_model::validate_metric_name`] and
//!   [`argus_model::validate_label_name`] (Prometheus 2.x's default legacy
//!   scheme). The quoted syntax `{"name", "label"="v"}` is parsed (2.55
//!   lexes it) but a quoted name must still be a legacy name; this applies to
//!   names in HELP/TYPE/UNIT lines too (Prometheus does not validate those,
//!   which only matters for a family that has metadata and no samples).
//!   `le`/`quantile` values are kept as written (Prometheus 3 rewrites them
//!   to canonical floats; 2.x does not).
//! - A label name appearing twice (including `__name__` given explicitly) is
//!   an error; empty label values mean "absent" and are dropped after that
//!   check.
//! - `families` lists each name that had a HELP/TYPE/UNIT line, in order of
//!   first appearance; a repeated line overwrites (Prometheus's scrape cache
//!   does the same and does not reject repeats). Samples are not checked
//!   against their family's type, as in Prometheus.
//!
//! # Text format 0.0.4
//!
//! Accepts what Prometheus accepts, plus what the format document allows
//! and Prometheus's lexer misses:
//! - blanks (space, tab) anywhere between tokens, leading and trailing;
//!   blank lines; a missing final `\n`; `{}`; a trailing comma in a label
//!   set, and (Prometheus quirk) label pairs separated only by blanks;
//! - lines whose first non-blank byte is `#` are comments unless the next
//!   tokens are `HELP`/`TYPE` followed by a blank (`#HELP`, `# HELPER` are
//!   comments); `HELP` needs a metric name, the rest of the line (blanks
//!   trimmed) is the docstring with `\\` and `\n` unescaped; `TYPE` needs a
//!   name and exactly one of `counter`, `gauge`, `histogram`, `summary`,
//!   `untyped` (→ [`MetricType::Unknown`]);
//! - timestamps are `int64` milliseconds; a sign is accepted (the document's
//!   own example has `-3982045`; Prometheus's lexer only takes digits);
//!   out of range is an error.
//!
//! # OpenMetrics 1.0
//!
//! Follows the ABNF (which Prometheus's lexer implements): single spaces
//! between tokens, no blank lines, no other comments, `# EOF` required as the
//! last line (an optional `\n` after it, nothing else), `# HELP`/`# TYPE`/
//! `# UNIT` need a space after the name, TYPE is one of the eight OpenMetrics
//! types (`untyped` is an error, `unknown` is correct), a non-empty UNIT
//! must be a `_`-separated suffix of the name. HELP unescapes `\"` too.
//! Timestamps are `realnumber` seconds (NaN/Inf rejected) converted to
//! milliseconds truncating toward zero, like Prometheus's `int64(ts*1000)`,
//! but computed on the decimal digits so that e.g. `1.005` is exactly 1005
//! (Prometheus's float product yields 1004); beyond `i64` saturates (Go's
//! conversion is unspecified there; the OpenMetrics test suite requires such
//! input to parse).
//! Exemplars ` # {labels} value [timestamp]` are fully parsed, with the same
//! checks (timestamp not NaN/Inf), then dropped; their 128-character limit
//! is not enforced, as Prometheus only logs it.
//!
//! Like Prometheus, the parser checks syntax, not the OpenMetrics semantic
//! MUSTs that need cross-line state (a trailing comma in a label set is also
//! accepted, as Prometheus does). Accepted although the spec forbids them:
//! repeated or misplaced metadata, interleaved families, wrong sample
//! suffixes for a type, counter/bucket values that are negative or NaN,
//! histogram bucket order and `+Inf`/`_count` consistency, non-increasing
//! timestamps, units on info/stateset, exemplars on other sample kinds.
//!
//! ## `_created` samples
//!
//! Prometheus 2.x's OpenMetrics parser (`NewOpenMetricsParser` as called by
//! `textparse.New`, without `WithOMParserCTSeriesSkipped`) returns `_created`
//! lines as **ordinary samples**: `foo_created{…}` with the creation time in
//! *seconds* as its value (never as milliseconds). We do the same. With
//! `--enable-feature=created-timestamp-zero-ingestion`, Prometheus 3.x
//! instead drops `_created` lines of counters, histograms and summaries and
//! uses them as the series' start timestamp; that is not done here.

mod lex;
mod om;
mod prom;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_om;

use std::collections::HashMap;

use argus_model::{Label, Labels};

pub use lex::NORMAL_NAN_BITS;

/// A text exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    #[default]
    PrometheusText,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

/// The `Accept` header Prometheus 2.x sends when scraping with its default
/// `scrape_protocols` (OpenMetrics 1.0.0, OpenMetrics 0.0.1, text 0.0.4),
/// as built by `acceptHeader` in `scrape/scrape.go`.
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0;q=0.5,\
application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/// Chooses the parser from a scrape response's `Content-Type`:
/// `application/openmetrics-text` (any parameters, case-insensitive) is
/// [`Format::OpenMetrics`]; `text/plain`, anything else, or no header is
/// [`Format::PrometheusText`].
pub fn format_from_content_type(ct: Option<&str>) -> Format {
    let media = ct
        .and_then(|ct| ct.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if media.eq_ignore_ascii_case("application/openmetrics-text") {
        Format::OpenMetrics
    } else {
        Format::PrometheusText
    }
}

/// A metric family type from a `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// `untyped` in text 0.0.4, `unknown` in OpenMetrics, or no TYPE line.
    #[default]
    Unknown,
}

impl MetricType {
    /// The OpenMetrics spelling (`unknown` for [`MetricType::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    /// Sorted, `__name__` included, empty values dropped.
    pub labels: Labels,
    /// Any NaN has the bits [`NORMAL_NAN_BITS`].
    pub value: f64,
    /// Milliseconds since the epoch, when the line had a timestamp.
    pub timestamp_ms: Option<i64>,
}

/// Metadata of one metric family, from its HELP/TYPE/UNIT lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FamilyMeta {
    /// The family name as written in the metadata line (for OpenMetrics
    /// counters this lacks the samples' `_total` suffix).
    pub name: String,
    /// [`MetricType::Unknown`] without a TYPE line.
    pub metric_type: MetricType,
    /// Unescaped; empty without a HELP line.
    pub help: String,
    /// Empty without a UNIT line (always empty in text 0.0.4).
    pub unit: String,
}

/// Everything a body contained.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// In input order.
    pub samples: Vec<ParsedSample>,
    /// In order of first metadata line.
    pub families: Vec<FamilyMeta>,
}

/// A parse failure; the whole body is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// Parses a whole scrape body. See the module documentation for the exact
/// grammar and what an error means for the scrape.
pub fn parse(input: &[u8], format: Format) -> Result<Parsed, ParseError> {
    let mut out = Output::with_capacity(input.len());
    match format {
        Format::PrometheusText => prom::parse(input, &mut out)?,
        Format::OpenMetrics => om::parse(input, &mut out)?,
    }
    Ok(out.finish())
}

/// Collects samples and family metadata while parsing.
pub(super) struct Output {
    samples: Vec<ParsedSample>,
    families: Vec<FamilyMeta>,
    index: HashMap<String, usize>,
    /// The labels of the sample being parsed (reused, see `build_labels`).
    scratch: Vec<Label>,
}

impl Output {
    fn with_capacity(body_len: usize) -> Self {
        Output {
            // Sample lines are typically 50-150 bytes; Vec grows if needed.
            samples: Vec::with_capacity(body_len / 128),
            families: Vec::new(),
            index: HashMap::new(),
            scratch: Vec::with_capacity(16),
        }
    }

    fn push(&mut self, labels: Labels, value: f64, timestamp_ms: Option<i64>) {
        self.samples.push(ParsedSample {
            labels,
            value,
            timestamp_ms,
        });
    }

    /// The family called `name`, created on first use.
    fn family(&mut self, name: String) -> &mut FamilyMeta {
        let i = match self.index.get(&name) {
            Some(&i) => i,
            None => {
                let i = self.families.len();
                self.index.insert(name.clone(), i);
                self.families.push(FamilyMeta {
                    name,
                    ..FamilyMeta::default()
                });
                i
            }
        };
        &mut self.families[i]
    }

    fn finish(self) -> Parsed {
        Parsed {
            samples: self.samples,
            families: self.families,
        }
    }
}
