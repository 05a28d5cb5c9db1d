//! Log data: streams of timestamped lines, as Loki models them.
//!
//! A [`LogStream`] is identified by its [`Labels`] (the index: low-cardinality
//! labels such as `service_name` or `namespace`); each [`LogEntry`] carries a
//! nanosecond timestamp, the line, and optional structured metadata
//! (name/value pairs stored with the entry, not indexed).

use crate::Labels;

/// One log line with its timestamp and structured metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogEntry {
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// The log line (any UTF-8, may contain newlines).
    pub line: String,
    /// Structured metadata: name/value pairs in the order received. Names
    /// are not required to be unique or sorted.
    pub metadata: Vec<(String, String)>,
}

impl LogEntry {
    /// An entry without structured metadata.
    pub fn new(ts_ns: i64, line: impl Into<String>) -> Self {
        LogEntry {
            ts_ns,
            line: line.into(),
            metadata: Vec::new(),
        }
    }

    /// Bytes of the line plus the names and values of the metadata (what Loki
    /// counts against its ingestion rate limits).
    pub fn size(&self) -> usize {
        self.line.len()
            + self
                .metadata
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }
}

/// Entries sharing one label set, in the order received (not necessarily
/// sorted by time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

impl LogStream {
    /// A stream with no entries yet.
    pub fn new(labels: Labels) -> Self {
        LogStream {
            labels,
            entries: Vec::new(),
        }
    }
}

/// The streams of one push request, in request order. A label set may
/// appear in more than one stream.
pub type LogPush = Vec<LogStream>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_size_counts_line_and_metadata() {
        let mut e = LogEntry::new(1, "hello");
        assert_eq!(e.size(), 5);
        e.metadata.push(("trace_id".into(), "abc".into()));
        assert_eq!(e.size(), 5 + 8 + 3);
        let s = LogStream::new(Labels::from_pairs([("job", "x")]));
        assert!(s.entries.is_empty());
        assert_eq!(s.labels.get("job"), Some("x"));
    }
}
