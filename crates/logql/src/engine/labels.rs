//! The labels of one entry while a pipeline runs: stream labels, structured
//! metadata and parsed labels (Loki's three categories), plus the error
//! labels `__error__` and `__error_details__`.

use argus_model::Labels;
use std::sync::Arc;

/// `__error__`.
pub const ERROR_LABEL: &str = "__error__";
/// `__error_details__`.
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";
/// `__preserve_error__`.
pub(crate) const PRESERVE_ERROR_LABEL: &str = "__preserve_error__";

/// Where a label came from (Loki's categories, for the categorize-labels
/// response encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// An index (stream) label.
    Stream,
    /// Structured metadata of the entry.
    Metadata,
    /// Extracted by a parser or set by `label_format`.
    Parsed,
}

/// Sorted `(name, value)` pairs.
pub type Pairs = Vec<(String, String)>;

/// The labels of an entry after a pipeline, by category, each sorted by
/// name; the error labels are in `parsed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryLabels {
    /// Stream (index) labels.
    pub stream: Pairs,
    /// Structured metadata.
    pub metadata: Pairs,
    /// Parsed labels (and `__error__`, `__error_details__`).
    pub parsed: Pairs,
}

impl EntryLabels {
    /// All labels, sorted by name.
    pub fn all(&self) -> Pairs {
        let mut v: Pairs = self
            .stream
            .iter()
            .chain(&self.metadata)
            .chain(&self.parsed)
            .cloned()
            .collect();
        v.sort();
        v
    }
}

/// Formats pairs as Prometheus does (`{a="1", b="2"}`), the key Loki sorts
/// streams by.
pub(crate) fn pairs_string(p: &[(String, String)]) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in p.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(n);
        s.push('=');
        go_quote(&mut s, v);
    }
    s.push('}');
    s
}

/// Go's `strconv.Quote`, close enough for label values.
pub(crate) fn go_quote(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The mutable label state of one entry.
#[derive(Debug, Clone)]
pub(crate) struct LabelState {
    base: Arc<Labels>,
    labels: Vec<(String, String, Category)>,
    pub(crate) err: String,
    pub(crate) err_details: String,
}

impl LabelState {
    pub(crate) fn new(base: &Arc<Labels>, metadata: &[(String, String)]) -> Self {
        let mut s = LabelState {
            base: base.clone(),
            labels: base
                .iter()
                .map(|l| (l.name.clone(), l.value.clone(), Category::Stream))
                .collect(),
            err: String::new(),
            err_details: String::new(),
        };
        for (n, v) in metadata {
            s.set(Category::Metadata, n, v);
        }
        s
    }

    /// Is `name` a label of the original stream (Loki's `BaseHas`)?
    pub(crate) fn base_has(&self, name: &str) -> bool {
        self.base.get(name).is_some()
    }

    /// Is `name` a structured metadata label now?
    pub(crate) fn has_metadata(&self, name: &str) -> bool {
        self.labels
            .iter()
            .any(|(n, _, c)| n == name && *c == Category::Metadata)
    }

    /// Parsed labels take precedence over metadata, metadata over stream
    /// labels (Loki's `LabelsBuilder.Set`).
    pub(crate) fn set(&mut self, cat: Category, name: &str, value: &str) {
        match name {
            ERROR_LABEL => {
                self.err = value.to_string();
                return;
            }
            ERROR_DETAILS_LABEL => {
                self.err_details = value.to_string();
                return;
            }
            _ => {}
        }
        if let Some(i) = self.labels.iter().position(|(n, _, _)| n == name) {
            let cur = self.labels[i].2;
            if cur > cat {
                return;
            }
            self.labels[i].1 = value.to_string();
            self.labels[i].2 = cat;
        } else {
            self.labels.push((name.to_string(), value.to_string(), cat));
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        match name {
            ERROR_LABEL => return (!self.err.is_empty()).then_some(self.err.as_str()),
            ERROR_DETAILS_LABEL => {
                return (!self.err_details.is_empty()).then_some(self.err_details.as_str())
            }
            _ => {}
        }
        self.labels
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    pub(crate) fn del(&mut self, name: &str) {
        match name {
            ERROR_LABEL => self.err.clear(),
            ERROR_DETAILS_LABEL => self.err_details.clear(),
            _ => self.labels.retain(|(n, _, _)| n != name),
        }
    }

    pub(crate) fn has_err(&self) -> bool {
        !self.err.is_empty()
    }

    pub(crate) fn set_err(&mut self, err: &str, details: Option<String>) {
        self.err = err.to_string();
        if let Some(d) = details {
            self.err_details = d;
        }
    }

    /// Names of the current labels (not the error labels).
    pub(crate) fn names(&self) -> Vec<String> {
        self.labels.iter().map(|(n, _, _)| n.clone()).collect()
    }

    pub(crate) fn into_entry_labels(self) -> EntryLabels {
        let mut out = EntryLabels::default();
        for (n, v, c) in self.labels {
            match c {
                Category::Stream => out.stream.push((n, v)),
                Category::Metadata => out.metadata.push((n, v)),
                Category::Parsed => out.parsed.push((n, v)),
            }
        }
        if !self.err.is_empty() {
            out.parsed.push((ERROR_LABEL.to_string(), self.err));
        }
        if !self.err_details.is_empty() {
            out.parsed
                .push((ERROR_DETAILS_LABEL.to_string(), self.err_details));
        }
        out.stream.sort();
        out.metadata.sort();
        out.parsed.sort();
        out
    }
}
