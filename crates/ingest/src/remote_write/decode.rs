//! Decoding of uncompressed 1.0 and 2.0 messages into the Argus model, one
//! series at a time, with per-series validation.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use argus_model::{
    validate_label_name, validate_metric_name, Exemplar, HistogramSample, Label, Labels, Sample,
    TimeSeries, METRIC_NAME,
};
use prost::Message as _;

use super::histogram;
use super::wire::{expect_len, expect_str, push_u32s, Reader, WireError};
use super::{
    v1, v2, DecodeError, DecodeLimits, MetricMetadata, MetricType, RejectReason, Rejection,
    WriteRequest,
};

/// Longest series text kept in a [`Rejection`], in bytes.
pub(crate) const SERIES_DISPLAY_MAX: usize = 200;
/// Longest label name or value quoted in a [`RejectReason`], in bytes.
pub(crate) const REASON_TEXT_MAX: usize = 100;

const V1_MESSAGE: &str = "prometheus.WriteRequest";
const V2_MESSAGE: &str = "io.prometheus.write.v2.Request";

fn v1_err(at: impl fmt::Display, err: impl fmt::Display) -> DecodeError {
    DecodeError::Protobuf {
        message: V1_MESSAGE,
        detail: format!("{at}: {err}"),
    }
}

fn v2_err(at: impl fmt::Display, err: impl fmt::Display) -> DecodeError {
    DecodeError::Protobuf {
        message: V2_MESSAGE,
        detail: format!("{at}: {err}"),
    }
}

pub(crate) use argus_model::clip;

/// A `fmt::Write` that keeps the first `limit` bytes and then stops the
/// formatting (so a series with a million labels costs nothing to show).
struct Bounded {
    out: String,
    limit: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit - self.out.len();
        if s.len() <= room {
            self.out.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.push_str(&s[..cut]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// Labels in Prometheus notation, `{a="1", b="2"}` (names that are not
/// valid are quoted, as Prometheus does for UTF-8 names), cut to
/// [`SERIES_DISPLAY_MAX`] bytes (then ending in "…").
pub(crate) fn display_labels<'a>(labels: impl IntoIterator<Item = &'a Label>) -> String {
    let mut b = Bounded {
        out: String::new(),
        limit: SERIES_DISPLAY_MAX,
        cut: false,
    };
    let _ = (|| {
        b.write_str("{")?;
        for (i, l) in labels.into_iter().enumerate() {
            if i > 0 {
                b.write_str(", ")?;
            }
            if validate_label_name(&l.name) {
                write!(b, "{}={:?}", l.name, l.value)?;
            } else {
                write!(b, "{:?}={:?}", l.name, l.value)?;
            }
        }
        b.write_str("}")
    })();
    if b.cut {
        b.out.push('…');
    }
    b.out
}

/// Checks labels as they arrive, in wire order, against the spec's rules:
/// names sorted and unique, no empty names or values, valid names, a valid
/// `__name__`. Keeps the labels while they are valid; after the first
/// problem keeps only enough of them to show the series.
#[derive(Default)]
struct LabelCheck {
    labels: Vec<Label>,
    problem: Option<RejectReason>,
    shown_len: usize,
    has_name: bool,
}

impl LabelCheck {
    /// Checks the next label; true when the caller should [`Self::push`] it.
    fn admit(&mut self, name: &str, value: &str) -> bool {
        if self.problem.is_none() {
            let prev = self.labels.last().map(|l| l.name.as_str());
            self.problem = check_label(prev, name, value);
            self.has_name |= name == METRIC_NAME;
        }
        self.problem.is_none() || self.shown_len < SERIES_DISPLAY_MAX
    }

    fn push(&mut self, label: Label) {
        self.shown_len += label.name.len() + label.value.len() + 5;
        self.labels.push(label);
    }

    fn fail(&mut self, reason: RejectReason) {
        self.problem.get_or_insert(reason);
    }

    /// Records a missing `__name__` once all labels are in.
    fn require_name(&mut self) {
        if !self.has_name {
            self.fail(RejectReason::MissingMetricName);
        }
    }

    /// The valid label set, or the reason and the series as far as known.
    fn finish(mut self) -> Result<Labels, (RejectReason, String)> {
        self.require_name();
        match self.problem {
            Some(reason) => Err((reason, display_labels(&self.labels))),
            None => Ok(Labels::from_sorted_unchecked(self.labels)),
        }
    }
}

fn check_label(prev: Option<&str>, name: &str, value: &str) -> Option<RejectReason> {
    let text = |s: &str| clip(s, REASON_TEXT_MAX);
    if name.is_empty() {
        return Some(RejectReason::EmptyLabelName);
    }
    match prev {
        Some(p) if p == name => return Some(RejectReason::DuplicateLabelName(text(name))),
        Some(p) if p > name => {
            return Some(RejectReason::UnsortedLabels {
                previous: text(p),
                name: text(name),
            })
        }
        _ => {}
    }
    if !validate_label_name(name) {
        return Some(RejectReason::InvalidLabelName(text(name)));
    }
    if value.is_empty() {
        return Some(RejectReason::EmptyLabelValue(text(name)));
    }
    if name == METRIC_NAME && !validate_metric_name(value) {
        return Some(RejectReason::InvalidMetricName(text(value)));
    }
    None
}

/// Collects the outcome; caps the listed rejections, counts them all.
struct Out {
    req: WriteRequest,
    max_listed: usize,
}

impl Out {
    fn new(limits: &DecodeLimits) -> Self {
        Out {
            req: WriteRequest::default(),
            max_listed: limits.max_listed_rejections,
        }
    }

    fn reject(
        &mut self,
        series: impl FnOnce() -> String,
        reason: RejectReason,
        samples: usize,
        histograms: usize,
    ) {
        let stats = &mut self.req.stats;
        stats.rejected_series += 1;
        stats.rejected_samples += samples;
        stats.rejected_histograms += histograms;
        if self.req.rejected.len() < self.max_listed {
            self.req.rejected.push(Rejection {
                series: series(),
                reason,
                samples,
                histograms,
            });
        }
    }

    /// Adds a decoded series: kept, rejected, or (without samples,
    /// histograms and exemplars) dropped. True when its labels are valid,
    /// so that its metadata may be used. `hist` holds the valid histograms,
    /// and the total count with the first problem when some were invalid.
    /// A series with only exemplars is kept for them (the store takes
    /// exemplars of series it has, as Prometheus's does).
    fn add_series(
        &mut self,
        labels: LabelCheck,
        samples: Vec<Sample>,
        hist: Histograms,
        exemplars: Vec<Exemplar>,
    ) -> bool {
        let stats = &mut self.req.stats;
        stats.samples += samples.len();
        stats.histograms += hist.total;
        if samples.is_empty() && hist.total == 0 && exemplars.is_empty() {
            // Only metadata: nothing to store, nothing lost.
            return labels.finish().is_ok();
        }
        match labels.finish() {
            Err((reason, shown)) => {
                self.req.stats.rejected_exemplars += exemplars.len();
                self.reject(|| shown, reason, samples.len(), hist.total);
                false
            }
            Ok(labels) => {
                if let Some(reason) = hist.problem {
                    self.req.stats.rejected_exemplars += exemplars.len();
                    self.reject(
                        || display_labels(&labels),
                        reason,
                        samples.len(),
                        hist.total,
                    );
                    return true;
                }
                self.req.series.push(TimeSeries {
                    labels,
                    samples,
                    histograms: hist.valid,
                    exemplars,
                });
                true
            }
        }
    }
}

/// The native histograms of one series as decoded.
#[derive(Default)]
struct Histograms {
    valid: Vec<HistogramSample>,
    total: usize,
    problem: Option<RejectReason>,
}

impl Histograms {
    fn add(&mut self, h: Result<HistogramSample, RejectReason>) {
        self.total += 1;
        match h {
            Ok(h) if self.problem.is_none() => self.valid.push(h),
            Ok(_) => {}
            Err(e) => {
                self.problem.get_or_insert(e);
                self.valid.clear();
            }
        }
    }
}

fn sample(t: i64, v: f64) -> Sample {
    // `Sample` holds the f64 as is: the bits (staleness NaN included) survive.
    Sample { t, v }
}

/// Decodes an uncompressed `prometheus.WriteRequest`.
pub(crate) fn decode_v1(raw: &[u8], limits: &DecodeLimits) -> Result<WriteRequest, DecodeError> {
    let mut out = Out::new(limits);
    let mut r = Reader::new(raw);
    let (mut n_series, mut n_meta) = (0usize, 0usize);
    while let Some((tag, value)) = r.next_field().map_err(|e| v1_err("WriteRequest", e))? {
        match tag {
            1 => {
                let at = || format!("timeseries[{n_series}]");
                let bytes = expect_len(tag, value).map_err(|e| v1_err(at(), e))?;
                v1_series(bytes, &mut out).map_err(|e| v1_err(at(), e))?;
                n_series += 1;
            }
            3 => {
                let at = || format!("metadata[{n_meta}]");
                let bytes = expect_len(tag, value).map_err(|e| v1_err(at(), e))?;
                let m = v1::MetricMetadata::decode(bytes).map_err(|e| v1_err(at(), e))?;
                n_meta += 1;
                if !m.metric_family_name.is_empty() {
                    out.req.metadata.push(MetricMetadata {
                        metric_family_name: m.metric_family_name,
                        metric_type: MetricType::from_proto(m.r#type),
                        help: m.help,
                        unit: m.unit,
                    });
                }
            }
            _ => {} // reserved or unknown: skipped
        }
    }
    Ok(out.req)
}

/// Wire or prost error within a series, with the field it was in.
enum SeriesError {
    Wire(&'static str, WireError),
    WireItem(&'static str, usize, WireError),
    Prost(&'static str, usize, prost::DecodeError),
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeriesError::Wire(field, e) => write!(f, "{field}: {e}"),
            SeriesError::WireItem(field, i, e) => write!(f, "{field}[{i}]: {e}"),
            SeriesError::Prost(field, i, e) => write!(f, "{field}[{i}]: {e}"),
        }
    }
}

fn v1_series(bytes: &[u8], out: &mut Out) -> Result<(), SeriesError> {
    let mut labels = LabelCheck::default();
    let mut samples = Vec::new();
    let mut histograms = Histograms::default();
    let mut exemplars = Vec::new();
    let mut n_labels = 0usize;
    let mut r = Reader::new(bytes);
    while let Some((tag, value)) = r
        .next_field()
        .map_err(|e| SeriesError::Wire("TimeSeries", e))?
    {
        let field = match tag {
            1 => "labels",
            2 => "samples",
            3 => "exemplars",
            4 => "histograms",
            _ => continue,
        };
        let b = expect_len(tag, value).map_err(|e| SeriesError::Wire(field, e))?;
        match tag {
            1 => {
                let (name, value) =
                    v1_label(b).map_err(|e| SeriesError::WireItem(field, n_labels, e))?;
                n_labels += 1;
                if labels.admit(name, value) {
                    labels.push(Label::new(name, value));
                }
            }
            2 => {
                let s = v1::Sample::decode(b)
                    .map_err(|e| SeriesError::Prost(field, samples.len(), e))?;
                samples.push(sample(s.timestamp, s.value));
            }
            3 => {
                let e = v1::Exemplar::decode(b)
                    .map_err(|e| SeriesError::Prost(field, exemplars.len(), e))?;
                exemplars.push(Exemplar::new(
                    Labels::from_pairs(e.labels.into_iter().map(|l| (l.name, l.value))),
                    e.value,
                    e.timestamp,
                ));
            }
            _ => {
                let h = v1::Histogram::decode(b)
                    .map_err(|e| SeriesError::Prost(field, histograms.total, e))?;
                histograms.add(histogram::from_v1(&h));
            }
        }
    }
    out.req.stats.exemplars += exemplars.len();
    out.add_series(labels, samples, histograms, exemplars);
    Ok(())
}

/// A `prometheus.Label`, borrowed: decoded as prost would (last value of a
/// repeated field wins, unknown fields skipped) without allocating.
fn v1_label(bytes: &[u8]) -> Result<(&str, &str), WireError> {
    let (mut name, mut value) = ("", "");
    let mut r = Reader::new(bytes);
    while let Some((tag, v)) = r.next_field()? {
        match tag {
            1 => name = expect_str(tag, v)?,
            2 => value = expect_str(tag, v)?,
            _ => {}
        }
    }
    Ok((name, value))
}

/// Decodes an uncompressed `io.prometheus.write.v2.Request`.
pub(crate) fn decode_v2(raw: &[u8], limits: &DecodeLimits) -> Result<WriteRequest, DecodeError> {
    // Pass 1: the symbols table (fields may come in any order on the wire).
    let mut symbols: Vec<&str> = Vec::new();
    let mut r = Reader::new(raw);
    while let Some((tag, value)) = r.next_field().map_err(|e| v2_err("Request", e))? {
        match tag {
            4 => {
                let s = expect_str(tag, value)
                    .map_err(|e| v2_err(format!("symbols[{}]", symbols.len()), e))?;
                symbols.push(s);
            }
            5 => {
                expect_len(tag, value).map_err(|e| v2_err("timeseries", e))?;
            }
            _ => {}
        }
    }
    if let Some(first) = symbols.first().filter(|s| !s.is_empty()) {
        return Err(DecodeError::SymbolsTable {
            first: clip(first, REASON_TEXT_MAX),
        });
    }
    // Pass 2: the series.
    let mut out = Out::new(limits);
    let mut seen_meta = HashSet::new();
    let mut r = Reader::new(raw);
    let mut n_series = 0usize;
    while let Some((tag, value)) = r.next_field().map_err(|e| v2_err("Request", e))? {
        if tag == 5 {
            let bytes = expect_len(tag, value).map_err(|e| v2_err("timeseries", e))?;
            v2_series(bytes, &symbols, &mut out, &mut seen_meta)
                .map_err(|e| v2_err(format!("timeseries[{n_series}]"), e))?;
            n_series += 1;
        }
    }
    Ok(out.req)
}

fn v2_series<'s>(
    bytes: &[u8],
    symbols: &[&'s str],
    out: &mut Out,
    seen_meta: &mut HashSet<(&'s str, i32, u32, u32)>,
) -> Result<(), SeriesError> {
    let mut refs = Vec::new();
    let mut samples = Vec::new();
    let mut metadata = v2::Metadata::default();
    let mut histograms = Histograms::default();
    let mut exemplars = Vec::new();
    let mut r = Reader::new(bytes);
    while let Some((tag, value)) = r
        .next_field()
        .map_err(|e| SeriesError::Wire("TimeSeries", e))?
    {
        let field = match tag {
            1 => "labels_refs",
            2 => "samples",
            3 => "histograms",
            4 => "exemplars",
            5 => "metadata",
            _ => continue,
        };
        if tag == 1 {
            push_u32s(tag, value, &mut refs).map_err(|e| SeriesError::Wire(field, e))?;
            continue;
        }
        let b = expect_len(tag, value).map_err(|e| SeriesError::Wire(field, e))?;
        match tag {
            2 => {
                let s = v2::Sample::decode(b)
                    .map_err(|e| SeriesError::Prost(field, samples.len(), e))?;
                samples.push(sample(s.timestamp, s.value));
            }
            3 => {
                let h = v2::Histogram::decode(b)
                    .map_err(|e| SeriesError::Prost(field, histograms.total, e))?;
                histograms.add(histogram::from_v2(&h));
            }
            4 => {
                let e = v2::Exemplar::decode(b)
                    .map_err(|e| SeriesError::Prost(field, exemplars.len(), e))?;
                exemplars.push(e);
            }
            _ => metadata
                .merge(b)
                .map_err(|e| SeriesError::Prost(field, 0, e))?,
        }
    }
    out.req.stats.exemplars += exemplars.len();

    let symbol = |i: u32| symbols.get(i as usize).copied();
    let exemplars = v2_exemplars(exemplars, symbols, &mut out.req.stats.rejected_exemplars);
    let mut labels = LabelCheck::default();
    let mut name_symbol = None;
    for pair in refs.chunks(2) {
        let &[n, v] = pair else {
            labels.fail(RejectReason::OddLabelRefs(refs.len()));
            break;
        };
        let (Some(name), Some(value)) = (symbol(n), symbol(v)) else {
            let bad = if symbol(n).is_none() { n } else { v };
            labels.fail(RejectReason::BadSymbolRef {
                index: bad,
                symbols: symbols.len(),
            });
            break;
        };
        if name == METRIC_NAME {
            name_symbol = Some(value);
        }
        if labels.admit(name, value) {
            labels.push(Label::new(name, value));
        }
    }
    labels.require_name();
    for index in [metadata.help_ref, metadata.unit_ref] {
        if symbol(index).is_none() {
            labels.fail(RejectReason::BadSymbolRef {
                index,
                symbols: symbols.len(),
            });
        }
    }
    if !out.add_series(labels, samples, histograms, exemplars) {
        return Ok(());
    }
    let (Some(name), Some(help), Some(unit)) = (
        name_symbol,
        symbol(metadata.help_ref),
        symbol(metadata.unit_ref),
    ) else {
        return Ok(());
    };
    let metric_type = MetricType::from_proto(metadata.r#type);
    if metric_type == MetricType::Unknown && help.is_empty() && unit.is_empty() {
        return Ok(());
    }
    if seen_meta.insert((name, metadata.r#type, metadata.help_ref, metadata.unit_ref)) {
        out.req.metadata.push(MetricMetadata {
            metric_family_name: name.to_string(),
            metric_type,
            help: help.to_string(),
            unit: unit.to_string(),
        });
    }
    Ok(())
}

/// A 2.0 series' exemplars with their labels resolved; one whose
/// `labels_refs` has odd length or points outside the symbols table is
/// dropped and counted in `rejected`.
fn v2_exemplars(
    exemplars: Vec<v2::Exemplar>,
    symbols: &[&str],
    rejected: &mut usize,
) -> Vec<Exemplar> {
    let symbol = |i: u32| symbols.get(i as usize).copied();
    let mut out = Vec::with_capacity(exemplars.len());
    for e in exemplars {
        let pairs: Option<Vec<(&str, &str)>> = if e.labels_refs.len() % 2 == 0 {
            e.labels_refs
                .chunks(2)
                .map(|p| Some((symbol(p[0])?, symbol(p[1])?)))
                .collect()
        } else {
            None
        };
        match pairs {
            Some(pairs) => out.push(Exemplar::new(
                Labels::from_pairs(pairs),
                e.value,
                e.timestamp,
            )),
            None => *rejected += 1,
        }
    }
    out
}
