//! Prometheus Remote-Write receiver side: 1.0 (`prometheus.WriteRequest`) and
//! 2.0 (`io.prometheus.write.v2.Request`), snappy block-compressed protobuf.
//!
//! Specs followed: <https://prometheus.io/docs/specs/prw/remote_write_spec/>,
//! <https://prometheus.io/docs/specs/prw/remote_write_spec_2_0/>, and the
//! `prompb` protos of prometheus/prometheus (see [`v1`], [`v2`]).
//!
//! The HTTP layer calls [`check_content_encoding`] and
//! [`protocol_from_content_type`] (415 on error), then [`decode`] (400, or
//! 413 for [`DecodeError::TooLarge`]). Problems confined to one series do not
//! fail the request: that series is listed in [`WriteRequest::rejected`] and
//! the rest is returned, so the caller can write the valid part and still
//! answer 400 with the reasons, as both specs require.
//!
//! Validation per series, in wire order (the spec's label rules are MUSTs for
//! senders; breaking them rejects the series):
//! - label names sorted lexicographically (bytewise) and unique;
//! - no empty label names and no empty label values;
//! - label names match `[a-zA-Z_][a-zA-Z0-9_]*`, `__name__` is present and
//!   matches `[a-zA-Z_:][a-zA-Z0-9_:]*`. 1.0 makes these MUSTs; 2.0 allows any
//!   UTF-8 but lets receivers decide what is invalid, and Argus's model only
//!   supports these names, so both versions are held to them;
//! - 2.0: `labels_refs` has even length and every ref (labels, help, unit) is
//!   inside the symbols table, whose first entry must be `""`.
//!
//! Native histogram samples (integer histograms with delta-encoded bucket
//! counts, or float histograms) become [`TimeSeries::histograms`] with
//! absolute float counts; they are validated as Prometheus does (schema
//! -4..=8 or -53, spans consistent with the bucket counts, no negative
//! counts, integer counts adding up, custom bounds increasing), and an
//! invalid one rejects its series ([`RejectReason::InvalidHistogram`]).
//! Exemplars (1.0 `TimeSeries.exemplars`, field 3; 2.0 field 4, labels as
//! `labels_refs`) become [`TimeSeries::exemplars`], their labels sorted
//! with empty values dropped (as Prometheus's `WithoutEmpty`); a 2.0
//! exemplar with bad `labels_refs` is dropped and counted
//! ([`DecodeStats::rejected_exemplars`]). Their label length and order are
//! the store's to check. A series with only exemplars is kept for them; one
//! with only metadata is dropped silently. 2.0 start timestamps are not
//! kept (the model has no place for them).

mod decode;
mod histogram;
pub mod v1;
pub mod v2;
mod wire;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_exemplars;
#[cfg(test)]
mod tests_histogram;
#[cfg(test)]
mod tests_wire;

use std::collections::HashMap;
use std::fmt;

use argus_model::{Labels, TimeSeries};

use decode::clip;

/// Which protobuf message a request body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Remote-Write 1.0, `prometheus.WriteRequest`.
    V1,
    /// Remote-Write 2.0, `io.prometheus.write.v2.Request`.
    V2,
}

impl Protocol {
    /// Fully qualified name of the protobuf message.
    pub const fn message_name(self) -> &'static str {
        match self {
            Protocol::V1 => "prometheus.WriteRequest",
            Protocol::V2 => "io.prometheus.write.v2.Request",
        }
    }

    /// The `Content-Type` a sender uses (the 1.0 form for 1.x receivers).
    pub const fn content_type(self) -> &'static str {
        match self {
            Protocol::V1 => "application/x-protobuf",
            Protocol::V2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }
    }

    /// The `X-Prometheus-Remote-Write-Version` a sender uses.
    pub const fn version_header(self) -> &'static str {
        match self {
            Protocol::V1 => "0.1.0",
            Protocol::V2 => "2.0.0",
        }
    }
}

const MEDIA_TYPE: &str = "application/x-protobuf";

/// Picks the message from the `Content-Type` header (2.0 spec, "Content-Type";
/// parsed per RFC 9110: case-insensitive media type and parameter names,
/// optional whitespace, quoted values).
///
/// - absent or empty, `application/x-protobuf`, or
///   `application/x-protobuf;proto=prometheus.WriteRequest` → [`Protocol::V1`];
/// - `application/x-protobuf;proto=io.prometheus.write.v2.Request` → [`Protocol::V2`];
/// - any other media type or `proto` value → [`DecodeError::UnsupportedContentType`] (415).
///
/// Parameters other than `proto` are ignored.
pub fn protocol_from_content_type(ct: Option<&str>) -> Result<Protocol, DecodeError> {
    let Some(ct) = ct.map(trim_ows).filter(|s| !s.is_empty()) else {
        return Ok(Protocol::V1);
    };
    let unsupported = |reason: String| DecodeError::UnsupportedContentType {
        content_type: clip(ct, 200),
        reason,
    };
    let (media, params) = ct.split_at(ct.find(';').unwrap_or(ct.len()));
    if !trim_ows(media).eq_ignore_ascii_case(MEDIA_TYPE) {
        return Err(unsupported(format!("the media type must be {MEDIA_TYPE}")));
    }
    let proto = proto_param(params).map_err(|e| unsupported(e.to_string()))?;
    match proto.as_deref() {
        None | Some("prometheus.WriteRequest") => Ok(Protocol::V1),
        Some("io.prometheus.write.v2.Request") => Ok(Protocol::V2),
        Some(other) => Err(unsupported(format!(
            "unsupported protobuf message {:?}; this receiver accepts prometheus.WriteRequest and \
             io.prometheus.write.v2.Request",
            clip(other, 100)
        ))),
    }
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The `proto` parameter from `*( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`.
fn proto_param(mut rest: &str) -> Result<Option<String>, &'static str> {
    let mut proto: Option<String> = None;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Ok(proto);
        }
        rest = rest
            .strip_prefix(';')
            .ok_or("malformed parameters: expected ';'")?;
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with(';') {
            continue;
        }
        let eq = rest
            .find('=')
            .ok_or("malformed parameter: expected name=value")?;
        let name = &rest[..eq];
        if name.is_empty() || !name.chars().all(is_tchar) {
            return Err("malformed parameter name");
        }
        rest = &rest[eq + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            loop {
                match chars.next() {
                    Some((i, '"')) => {
                        rest = &quoted[i + 1..];
                        break;
                    }
                    Some((_, '\\')) => {
                        value.push(chars.next().ok_or("unterminated quoted string")?.1)
                    }
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated quoted string"),
                }
            }
            value
        } else {
            let end = rest.find(|c: char| !is_tchar(c)).unwrap_or(rest.len());
            if end == 0 {
                return Err("malformed parameter value");
            }
            let (value, tail) = rest.split_at(end);
            rest = tail;
            value.to_string()
        };
        if name.eq_ignore_ascii_case("proto") {
            if proto.as_ref().is_some_and(|p| *p != value) {
                return Err("conflicting proto parameters");
            }
            proto = Some(value);
        }
    }
}

/// Checks `Content-Encoding`. Both specs make senders send `snappy` (the only
/// coding defined) and 2.0 makes receivers answer 415 for an unsupported one.
/// A missing or empty header is accepted, as Prometheus's own receiver does:
/// the specs define the body as snappy whatever the header says, and the
/// spec's MUST here binds senders only. Anything else, `identity` and lists
/// included, is [`DecodeError::UnsupportedEncoding`] (415).
pub fn check_content_encoding(ce: Option<&str>) -> Result<(), DecodeError> {
    match ce.map(trim_ows) {
        None | Some("") => Ok(()),
        Some(c) if c.eq_ignore_ascii_case("snappy") => Ok(()),
        Some(c) => Err(DecodeError::UnsupportedEncoding {
            encoding: clip(c, 100),
        }),
    }
}

/// Limits applied while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted uncompressed body, checked against the snappy header
    /// before anything is allocated. Default 64 MiB. Decoded output can take
    /// up to ~25x this in memory (2.0 interns strings the model copies).
    pub max_decompressed_bytes: usize,
    /// How many rejections [`WriteRequest::rejected`] lists; the rest are
    /// only counted in [`DecodeStats`]. Default 1000.
    pub max_listed_rejections: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed_bytes: 64 << 20,
            max_listed_rejections: 1000,
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteRequest {
    /// Valid series with at least one float or histogram sample, in request order.
    pub series: Vec<TimeSeries>,
    /// Series (or a series' histograms) that were not accepted, up to
    /// [`DecodeLimits::max_listed_rejections`].
    pub rejected: Vec<Rejection>,
    /// 1.0: the request's `metadata`; 2.0: each valid series' metadata
    /// (deduplicated), named after the series' `__name__`.
    pub metadata: Vec<MetricMetadata>,
    pub stats: DecodeStats,
}

/// Counts over the whole request, rejected parts included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Float samples in the request.
    pub samples: usize,
    /// Native histogram samples in the request.
    pub histograms: usize,
    /// Exemplars in the request.
    pub exemplars: usize,
    /// Exemplars dropped: of rejected series, or (2.0) with labels_refs
    /// that are odd or outside the symbols table.
    pub rejected_exemplars: usize,
    /// Rejections, listed or not.
    pub rejected_series: usize,
    /// Float samples in rejected series.
    pub rejected_samples: usize,
    /// Histogram samples in rejected series.
    pub rejected_histograms: usize,
}

/// One rejected series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The labels in Prometheus notation, cut to about 200 bytes.
    pub series: String,
    pub reason: RejectReason,
    /// Float samples dropped.
    pub samples: usize,
    /// Native histogram samples dropped.
    pub histograms: usize,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "series {}: {} ({} samples",
            self.series, self.reason, self.samples
        )?;
        if self.histograms > 0 {
            write!(f, " and {} native histogram samples", self.histograms)?;
        }
        f.write_str(" dropped)")
    }
}

/// Why a series was rejected. Quoted names are cut to about 100 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("the series has no __name__ label (metric name)")]
    MissingMetricName,
    #[error("invalid metric name {0:?}: it must match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidMetricName(String),
    #[error("invalid label name {0:?}: it must match [a-zA-Z_][a-zA-Z0-9_]*")]
    InvalidLabelName(String),
    #[error("a label has an empty name")]
    EmptyLabelName,
    #[error("label {0:?} has an empty value; remote write forbids empty label values")]
    EmptyLabelValue(String),
    #[error("label name {0:?} appears more than once")]
    DuplicateLabelName(String),
    #[error("labels are not sorted by name: {name:?} comes after {previous:?}; remote write requires them sorted")]
    UnsortedLabels { previous: String, name: String },
    #[error("labels_refs has odd length {0}; it must hold name/value pairs")]
    OddLabelRefs(usize),
    #[error(
        "symbol reference {index} is outside the request's symbols table of {symbols} entries"
    )]
    BadSymbolRef { index: u32, symbols: usize },
    #[error("invalid native histogram: {0}")]
    InvalidHistogram(String),
}

/// Metadata of a metric family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricMetadata {
    pub metric_family_name: String,
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}

/// Metric type, as in both protos (same numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Unknown,
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
}

impl MetricType {
    /// From the protobuf enum value; unknown values are [`MetricType::Unknown`].
    pub fn from_proto(v: i32) -> Self {
        match v {
            1 => MetricType::Counter,
            2 => MetricType::Gauge,
            3 => MetricType::Histogram,
            4 => MetricType::GaugeHistogram,
            5 => MetricType::Summary,
            6 => MetricType::Info,
            7 => MetricType::StateSet,
            _ => MetricType::Unknown,
        }
    }

    /// Prometheus's name for the type (`counter`, `gaugehistogram`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }
}

/// A request that cannot be decoded at all. The API answers 415 for the
/// content type or encoding, 413 for `TooLarge`, else 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported Content-Type {content_type:?}: {reason}")]
    UnsupportedContentType {
        content_type: String,
        reason: String,
    },
    #[error(
        "unsupported Content-Encoding {encoding:?}: remote write bodies must be snappy-compressed"
    )]
    UnsupportedEncoding { encoding: String },
    #[error("request body decompresses to {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    #[error("request body is not valid snappy block-format data: {0}")]
    Snappy(String),
    #[error("request body is not a valid {message} protobuf message: {detail}")]
    Protobuf {
        message: &'static str,
        detail: String,
    },
    #[error("invalid symbols table: symbols[0] must be the empty string, found {first:?}")]
    SymbolsTable { first: String },
}

/// The stream identifier chunk that starts snappy's framed format.
const SNAPPY_FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decodes a snappy-compressed request body holding `protocol`'s message.
pub fn decode(
    body: &[u8],
    protocol: Protocol,
    limits: &DecodeLimits,
) -> Result<WriteRequest, DecodeError> {
    let size = decompressed_len(body, limits)?;
    let mut raw = vec![0u8; size];
    let n = snap::raw::Decoder::new()
        .decompress(body, &mut raw)
        .map_err(|e| DecodeError::Snappy(e.to_string()))?;
    raw.truncate(n);
    match protocol {
        Protocol::V1 => decode::decode_v1(&raw, limits),
        Protocol::V2 => decode::decode_v2(&raw, limits),
    }
}

/// The uncompressed size announced by the snappy header, checked against
/// the limit before any buffer is allocated.
fn decompressed_len(body: &[u8], limits: &DecodeLimits) -> Result<usize, DecodeError> {
    let limit = limits.max_decompressed_bytes;
    if body.is_empty() {
        return Err(DecodeError::Snappy("the body is empty".into()));
    }
    if body.starts_with(SNAPPY_FRAMED_MAGIC) {
        return Err(DecodeError::Snappy(
            "the body uses snappy's framed format; remote write requires the block format".into(),
        ));
    }
    let size = snap::raw::decompress_len(body).map_err(|e| match e {
        snap::Error::TooBig { given, .. } => DecodeError::TooLarge { size: given, limit },
        e => DecodeError::Snappy(e.to_string()),
    })?;
    if size > limit {
        return Err(DecodeError::TooLarge {
            size: size as u64,
            limit,
        });
    }
    Ok(size)
}

/// Interns strings for a 2.0 request; index 0 is always `""`.
#[derive(Debug, Clone)]
pub struct Symbols {
    index: HashMap<String, u32>,
    table: Vec<String>,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            index: HashMap::from([(String::new(), 0)]),
            table: vec![String::new()],
        }
    }
}

impl Symbols {
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `s`, added if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.table.len()).expect("more than 2^32 symbols");
        self.index.insert(s.to_string(), i);
        self.table.push(s.to_string());
        i
    }

    /// Name/value refs of a label set, as `labels_refs` wants them.
    pub fn label_refs(&mut self, labels: &Labels) -> Vec<u32> {
        let mut refs = Vec::with_capacity(labels.len() * 2);
        for l in labels {
            refs.push(self.intern(&l.name));
            refs.push(self.intern(&l.value));
        }
        refs
    }

    /// The table, for `Request::symbols`.
    pub fn into_table(self) -> Vec<String> {
        self.table
    }
}

/// Appends `series` to `buf` as a snappy-compressed 1.0 `WriteRequest`
/// (native histograms as float histograms).
pub fn encode_v1(series: &[TimeSeries], buf: &mut Vec<u8>) {
    let labels = |ls: &Labels| -> Vec<v1::Label> {
        ls.iter()
            .map(|l| v1::Label {
                name: l.name.clone(),
                value: l.value.clone(),
            })
            .collect()
    };
    let timeseries = series
        .iter()
        .map(|s| v1::TimeSeries {
            labels: labels(&s.labels),
            samples: s
                .samples
                .iter()
                .map(|x| v1::Sample {
                    value: x.v,
                    timestamp: x.t,
                })
                .collect(),
            exemplars: s
                .exemplars
                .iter()
                .map(|e| v1::Exemplar {
                    labels: labels(&e.labels),
                    value: e.value,
                    timestamp: e.ts_ms,
                })
                .collect(),
            histograms: s.histograms.iter().map(histogram::to_v1).collect(),
        })
        .collect();
    encode_message(
        &v1::WriteRequest {
            timeseries,
            metadata: Vec::new(),
        },
        buf,
    );
}

/// Appends `series` to `buf` as a snappy-compressed 2.0 `Request`, with its
/// symbols table (`""` first, then strings in order of first use).
pub fn encode_v2(series: &[TimeSeries], buf: &mut Vec<u8>) {
    let mut symbols = Symbols::new();
    let mut timeseries = Vec::with_capacity(series.len());
    for s in series {
        timeseries.push(v2::TimeSeries {
            labels_refs: symbols.label_refs(&s.labels),
            samples: s
                .samples
                .iter()
                .map(|x| v2::Sample {
                    value: x.v,
                    timestamp: x.t,
                    start_timestamp: 0,
                })
                .collect(),
            histograms: s.histograms.iter().map(histogram::to_v2).collect(),
            exemplars: s
                .exemplars
                .iter()
                .map(|e| v2::Exemplar {
                    labels_refs: symbols.label_refs(&e.labels),
                    value: e.value,
                    timestamp: e.ts_ms,
                })
                .collect(),
            metadata: None,
        });
    }
    encode_message(
        &v2::Request {
            symbols: symbols.into_table(),
            timeseries,
        },
        buf,
    );
}

/// [`encode_v1`] or [`encode_v2`].
pub fn encode(series: &[TimeSeries], protocol: Protocol, buf: &mut Vec<u8>) {
    match protocol {
        Protocol::V1 => encode_v1(series, buf),
        Protocol::V2 => encode_v2(series, buf),
    }
}

/// Appends any message (e.g. a hand-built [`v1::WriteRequest`] with
/// histograms or metadata) to `buf`, snappy block-compressed.
///
/// # Panics
/// If the encoded message exceeds snappy's block limit of 4 GiB - 1.
pub fn encode_message(msg: &impl prost::Message, buf: &mut Vec<u8>) {
    let raw = msg.encode_to_vec();
    let start = buf.len();
    buf.resize(start + snap::raw::max_compress_len(raw.len()), 0);
    let n = snap::raw::Encoder::new()
        .compress(&raw, &mut buf[start..])
        .expect("message too large for a snappy block");
    buf.truncate(start + n);
}
