//! What an append did, and the limits it ran under.

use argus_model::Labels;
use std::collections::BTreeMap;

/// What happened to a batch.
#[derive(Debug, Default, Clone)]
pub struct AppendReport {
    /// Float samples accepted (duplicates included).
    pub accepted: usize,
    /// Float samples that were exact duplicates of stored ones.
    pub duplicates: usize,
    /// Histogram samples accepted (duplicates included).
    pub histograms_accepted: usize,
    /// Histogram samples that were exact duplicates of stored ones.
    pub histogram_duplicates: usize,
    pub new_series: usize,
    /// Rejected samples (floats and histograms) by reason.
    pub rejected_samples: BTreeMap<&'static str, usize>,
    /// Series rejected whole by limits.
    pub rejected_series: BTreeMap<&'static str, usize>,
    /// The first few rejections, for the error message: (series, reason, samples).
    pub examples: Vec<(String, String, usize)>,
    /// True when any rejection came from a limit (answered 429).
    pub limited: bool,
}

impl AppendReport {
    pub fn rejected_total(&self) -> usize {
        self.rejected_samples.values().sum()
    }

    /// Keeps a rejection as an example for the error message (the first
    /// five; the series' labels clipped to 200 bytes).
    pub fn example(&mut self, labels: &Labels, reason: String, samples: usize) {
        if self.examples.len() < 5 {
            let mut s = labels.to_string();
            if s.len() > 200 {
                let mut cut = 200;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push('…');
            }
            self.examples.push((s, reason, samples));
        }
    }
}

/// Per-tenant series limits a store enforces on an append.
#[derive(Debug, Clone, Copy)]
pub struct SeriesLimits {
    pub max_series: usize,
    pub max_labels: usize,
}

/// What an exemplar append did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExemplarReport {
    /// Exemplars stored, exact duplicates of a series' newest one included
    /// (what Prometheus counts as written: a duplicate is a no-op).
    pub written: usize,
    /// Exemplars refused, by reason: `out_of_order` (older than its
    /// series' newest), `label_too_long` (over 128 characters of labels),
    /// `disabled` (the store keeps none).
    pub rejected: BTreeMap<&'static str, usize>,
}

impl ExemplarReport {
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }
}
