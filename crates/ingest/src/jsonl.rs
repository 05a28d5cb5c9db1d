//! JSON lines (`POST /api/v1/logs/jsonl`): one JSON object per line, each a
//! log entry, mapped as Elasticsearch bulk documents are
//! ([`crate::elastic::map_document`], [`FieldMapping`]: the time, message and
//! stream fields come from the query parameters `_time_field`, `_msg_field`
//! and `_stream_fields`). There is no `_index`. A line that is not a JSON
//! object, or whose time cannot be read, is refused alone; blank lines are
//! skipped. No input makes [`decode_jsonl`] panic.

use crate::elastic::{map_document, FieldMapping, StreamsBuilder};
use argus_model::LogStream;
use serde_json::Value;

/// A refused line: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The decoded lines: streams to store, and the refused lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonLines {
    pub streams: Vec<LogStream>,
    pub rejected: Vec<LineError>,
    /// Lines read (not blank), stored or not.
    pub lines: usize,
}

/// Decodes a JSON lines body; `now_ns` stamps lines without a time.
pub fn decode_jsonl(body: &[u8], mapping: &FieldMapping, now_ns: i64) -> JsonLines {
    let mut streams = StreamsBuilder::default();
    let mut rejected = Vec::new();
    let mut lines = 0;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        let err = |reason: String| LineError {
            line: i + 1,
            reason,
        };
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(obj)) => match map_document(&obj, None, mapping, now_ns) {
                Ok((labels, entry)) => {
                    streams.add(labels, entry);
                }
                Err(e) => rejected.push(err(e.reason)),
            },
            Ok(_) => rejected.push(err("not a JSON object".into())),
            Err(e) => rejected.push(err(format!("invalid JSON: {e}"))),
        }
    }
    JsonLines {
        streams: streams.finish(),
        rejected,
        lines,
    }
}
