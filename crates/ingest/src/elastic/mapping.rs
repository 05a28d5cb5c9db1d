//! JSON documents to log entries: the mapping the Elasticsearch bulk and
//! JSON lines decoders share (see the [`super`] module docs).

use crate::otlp::logs::normalize_label;
use argus_model::{Labels, LabelsBuilder, LogEntry, LogStream};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The `service_name` a document without any stream field gets, as Loki
/// names a service it cannot discover.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// Which fields of a document are its time, its message and its stream
/// labels. Fields are dotted paths: `service.name` is
/// `{"service":{"name":…}}` or `{"service.name":…}`; `_index` is the bulk
/// item's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    /// The first of these present is the time.
    pub time_fields: Vec<String>,
    /// The first of these present is the line.
    pub msg_fields: Vec<String>,
    /// Each present becomes a stream label (name normalized: `host.name` →
    /// `host_name`, `_index` → `index`; the first field giving a name wins).
    pub stream_fields: Vec<String>,
}

impl Default for FieldMapping {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        FieldMapping {
            time_fields: v(&["@timestamp", "timestamp"]),
            msg_fields: v(&["message", "msg", "log"]),
            stream_fields: v(&["service.name", "service_name", "host.name", "_index"]),
        }
    }
}

impl FieldMapping {
    /// The defaults with what the query parameters `_time_field`,
    /// `_msg_field` and `_stream_fields` (comma-separated lists) set; an
    /// empty `_stream_fields` means no stream field.
    pub fn from_params(time: Option<&str>, msg: Option<&str>, stream: Option<&str>) -> Self {
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let mut m = FieldMapping::default();
        if let Some(t) = time.filter(|t| !t.trim().is_empty()) {
            m.time_fields = list(t);
        }
        if let Some(t) = msg.filter(|t| !t.trim().is_empty()) {
            m.msg_fields = list(t);
        }
        if let Some(s) = stream {
            m.stream_fields = list(s);
        }
        m
    }
}

/// Why a document cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocError {
    /// Elasticsearch's error type (`mapper_parsing_exception`, …).
    pub kind: &'static str,
    pub reason: String,
}

/// A label name for a stream field.
fn label_name(field: &str) -> String {
    if field == "_index" {
        "index".into()
    } else {
        normalize_label(field)
    }
}

/// `doc`'s leaves by dotted path, in document order; nulls and empty
/// objects are left out, arrays are leaves.
fn flatten<'a>(prefix: &str, doc: &'a Map<String, Value>, out: &mut Vec<(String, &'a Value)>) {
    for (k, v) in doc {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Null => {}
            Value::Object(o) => flatten(&path, o, out),
            _ => out.push((path, v)),
        }
    }
}

/// A leaf as text: strings as they are, the rest as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Maps one document. `index` is the bulk item's index (`_index`), if any.
pub fn map_document(
    doc: &Map<String, Value>,
    index: Option<&str>,
    mapping: &FieldMapping,
    now_ns: i64,
) -> Result<(Labels, LogEntry), DocError> {
    let mut leaves = Vec::new();
    flatten("", doc, &mut leaves);
    let mut used = vec![false; leaves.len()];
    let find = |name: &str| leaves.iter().position(|(p, _)| p == name);

    let mut ts_ns = now_ns;
    for f in &mapping.time_fields {
        if let Some(i) = find(f) {
            ts_ns = parse_time(leaves[i].1).ok_or_else(|| DocError {
                kind: "mapper_parsing_exception",
                reason: format!(
                    "failed to parse field [{f}] of type [date]: {}: expected an RFC 3339 date or epoch milliseconds",
                    argus_model::clip(&text(leaves[i].1), 100)
                ),
            })?;
            used[i] = true;
            break;
        }
    }

    let mut builder = LabelsBuilder::default();
    for f in &mapping.stream_fields {
        let name = label_name(f);
        if name.is_empty() || builder.get(&name).is_some() {
            continue;
        }
        if f == "_index" {
            if let Some(ix) = index {
                builder.set(name, ix);
            }
        } else if let Some(i) = find(f) {
            builder.set(name, text(leaves[i].1));
            used[i] = true;
        }
    }
    let mut labels = builder.build();
    if labels.is_empty() {
        labels = Labels::from_pairs([("service_name", UNKNOWN_SERVICE)]);
    }

    let msg = mapping.msg_fields.iter().find_map(|f| find(f)).map(|i| {
        used[i] = true;
        text(leaves[i].1)
    });
    let entry = match msg {
        Some(line) => LogEntry {
            ts_ns,
            line,
            metadata: leaves
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .filter_map(|((p, v), _)| {
                    let n = normalize_label(p);
                    (!n.is_empty()).then(|| (n, text(v)))
                })
                .collect(),
        },
        // No message field: the whole document is the line.
        None => LogEntry::new(ts_ns, Value::Object(doc.clone()).to_string()),
    };
    Ok((labels, entry))
}

/// A time value: an RFC 3339 date (or a date alone, UTC), or epoch
/// milliseconds as a number or a string of digits.
fn parse_time(v: &Value) -> Option<i64> {
    let from_ms = |ms: f64| {
        let ns = ms * 1e6;
        (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns as i64)
    };
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(ms) => ms.checked_mul(1_000_000),
            None => from_ms(n.as_f64()?),
        },
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<i64>().ok()?.checked_mul(1_000_000)
            } else {
                parse_rfc3339_ns(s)
            }
        }
        _ => None,
    }
}

/// `2006-01-02T15:04:05.999999999Z07:00` (or ` ` for `T`, `z`, no zone =
/// UTC, or `2006-01-02` alone) to nanoseconds since the epoch.
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = argus_model::civil::days_from_civil(y, mo as u32, d as u32);
    if b.len() == 10 {
        return days.checked_mul(86_400_000_000_000);
    }
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 9)];
        frac = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset_min = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(c @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let m = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *c == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

/// Groups entries into streams by label set, in order of first appearance.
#[derive(Debug, Default)]
pub struct StreamsBuilder {
    streams: Vec<LogStream>,
    index: HashMap<Labels, usize>,
}

impl StreamsBuilder {
    /// Adds an entry; returns its (stream, entry) position in [`Self::finish`].
    pub fn add(&mut self, labels: Labels, entry: LogEntry) -> (usize, usize) {
        let si = match self.index.get(&labels) {
            Some(&i) => i,
            None => {
                self.streams.push(LogStream::new(labels.clone()));
                self.index.insert(labels, self.streams.len() - 1);
                self.streams.len() - 1
            }
        };
        let s = &mut self.streams[si];
        s.entries.push(entry);
        (si, s.entries.len() - 1)
    }

    pub fn finish(self) -> Vec<LogStream> {
        self.streams
    }
}
