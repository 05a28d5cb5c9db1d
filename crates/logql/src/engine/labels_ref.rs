//! The label state as it was before it borrowed the stream labels and
//! metadata (a vector of every label, copied): a reference for the tests.

use super::{Category, EntryLabels, ERROR_DETAILS_LABEL, ERROR_LABEL};
use argus_model::Labels;
use std::sync::Arc;

/// The mutable label state of one entry.
#[derive(Debug, Clone)]
pub(super) struct OldState {
    base: Arc<Labels>,
    labels: Vec<(String, String, Category)>,
    pub(super) err: String,
    pub(super) err_details: String,
}

impl OldState {
    pub(super) fn new(base: &Arc<Labels>, metadata: &[(String, String)]) -> Self {
        let mut s = OldState {
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
    pub(super) fn base_has(&self, name: &str) -> bool {
        self.base.get(name).is_some()
    }

    /// Is `name` a structured metadata label now?
    pub(super) fn has_metadata(&self, name: &str) -> bool {
        self.labels
            .iter()
            .any(|(n, _, c)| n == name && *c == Category::Metadata)
    }

    /// Parsed labels take precedence over metadata, metadata over stream
    /// labels (Loki's `LabelsBuilder.Set`).
    pub(super) fn set(&mut self, cat: Category, name: &str, value: &str) {
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

    pub(super) fn get(&self, name: &str) -> Option<&str> {
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

    pub(super) fn del(&mut self, name: &str) {
        match name {
            ERROR_LABEL => self.err.clear(),
            ERROR_DETAILS_LABEL => self.err_details.clear(),
            _ => self.labels.retain(|(n, _, _)| n != name),
        }
    }

    pub(super) fn has_err(&self) -> bool {
        !self.err.is_empty()
    }

    pub(super) fn set_err(&mut self, err: &str, details: Option<String>) {
        self.err = err.to_string();
        if let Some(d) = details {
            self.err_details = d;
        }
    }

    /// Names of the current labels (not the error labels).
    pub(super) fn names(&self) -> Vec<String> {
        self.labels.iter().map(|(n, _, _)| n.clone()).collect()
    }

    pub(super) fn into_entry_labels(self) -> EntryLabels {
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
