//! Exemplars: a sample of one series annotated with labels (a trace id,
//! mostly), as Prometheus keeps them (`model/exemplar`).

use crate::Labels;

/// The longest label set an exemplar may carry: the characters (not bytes)
/// of its names and values together (OpenMetrics 1.0; Prometheus's
/// `exemplar.ExemplarMaxLabelSetLength`).
pub const EXEMPLAR_MAX_LABEL_SET_LENGTH: usize = 128;

/// An exemplar of a series: its own labels (e.g. `trace_id`), a value and a
/// time in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exemplar {
    pub labels: Labels,
    pub value: f64,
    pub ts_ms: i64,
}

impl Exemplar {
    pub fn new(labels: Labels, value: f64, ts_ms: i64) -> Self {
        Exemplar {
            labels,
            value,
            ts_ms,
        }
    }

    /// Characters in the names and values of its labels.
    pub fn label_set_len(&self) -> usize {
        self.labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum()
    }

    /// True when its labels are longer than
    /// [`EXEMPLAR_MAX_LABEL_SET_LENGTH`] characters: such an exemplar is
    /// dropped, as Prometheus drops it (`ErrExemplarLabelLength`).
    pub fn labels_too_long(&self) -> bool {
        // Bytes bound characters from above: most sets end here.
        self.labels.text_len() > EXEMPLAR_MAX_LABEL_SET_LENGTH
            && self.label_set_len() > EXEMPLAR_MAX_LABEL_SET_LENGTH
    }

    /// Prometheus's `Exemplar.Equals`: the same labels, value and time (a
    /// NaN value is never the same).
    pub fn same_as(&self, other: &Exemplar) -> bool {
        self.ts_ms == other.ts_ms && self.value == other.value && self.labels == other.labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_length_counts_characters() {
        let e = |v: &str| Exemplar::new(Labels::from_pairs([("trace_id", v)]), 1.0, 0);
        // 8 + 120 = 128 characters: allowed.
        assert!(!e(&"a".repeat(120)).labels_too_long());
        assert!(e(&"a".repeat(121)).labels_too_long());
        // 120 two-byte characters are 240 bytes but 128 characters.
        assert!(!e(&"é".repeat(120)).labels_too_long());
        assert!(e(&"é".repeat(121)).labels_too_long());
    }

    #[test]
    fn same_as_is_prometheus_equals() {
        let a = Exemplar::new(Labels::from_pairs([("trace_id", "1")]), 1.0, 5);
        assert!(a.same_as(&a.clone()));
        assert!(!a.same_as(&Exemplar {
            ts_ms: 6,
            ..a.clone()
        }));
        let nan = Exemplar {
            value: f64::NAN,
            ..a
        };
        assert!(!nan.same_as(&nan.clone()));
    }
}
