//! A logs segment (`docs/format/logs.md`): one tenant's entries of one time
//! range, immutable, in three files:
//!
//! - `data.parquet`: the entries, sorted by stream (label text) then time,
//!   columns `timestamp`, `stream`, `line`, `metadata`; readable by any
//!   Parquet reader (DuckDB: `SELECT * FROM 'data.parquet'`);
//! - `index`: the streams (labels, time range, counts, row groups) and per
//!   row group its time range, stream range and trigram filter;
//! - `meta.json`: what the lifecycle and start-up need, written last.

mod index;
mod merge;
mod reader;
mod writer;

pub use index::{IndexError, RowGroupIndex, SegmentIndex, StreamIndex, INDEX_MAGIC};
pub use merge::MergeRows;
pub use reader::{ScanPlan, SegmentReader, SegmentScan};
pub use writer::{
    json_column, write_rows, write_segment, JsonColumns, JsonValues, Metadata, Row, Rows,
    WriterOptions, Written,
};

use argus_segments::SegmentInfo;
use serde::{Deserialize, Serialize};

pub const DATA_FILE: &str = "data.parquet";
pub const INDEX_FILE: &str = "index";
pub const META_FILE: &str = "meta.json";
/// The column of a split line's template (`crate::template`); the line's
/// variables are in [`var_column`]`(0..MAX_VARS)`, and `line` is null.
pub const TEMPLATE_COLUMN: &str = "template";

/// The column of variable `k` of split lines: `var0`, `var1`, ….
pub fn var_column(k: usize) -> String {
    format!("var{k}")
}

/// Is `name` one of the columns a line is read from?
pub(crate) fn is_line_column(name: &str) -> bool {
    name == "line"
        || name == TEMPLATE_COLUMN
        || name
            .strip_prefix("var")
            .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
}
/// Upload order: `meta.json` last.
pub const FILES: &[&str] = &[DATA_FILE, INDEX_FILE, META_FILE];

pub use argus_segments::tenants::FlushWindow;

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    pub version: u32,
    pub id: String,
    /// ms, inclusive (the oldest entry's time, rounded down).
    pub min_time: i64,
    /// ms, exclusive (the newest entry's time, rounded down, plus one).
    pub max_time: i64,
    /// Bytes of the segment's files (the meta file not included).
    pub bytes: u64,
    pub level: u32,
    pub sources: Vec<String>,
    pub parents: Vec<String>,
    pub streams: u64,
    pub entries: u64,
    /// Bytes of lines and structured metadata (before compression).
    pub raw_bytes: u64,
    pub flushes: Vec<FlushWindow>,
    /// Top-level JSON members kept as columns `json:<key>` (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_keys: Vec<String>,
    /// The streams (index ordinals, ascending) each of whose entries has a
    /// value in every `json:` column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_streams: Vec<u32>,
}

/// 2: lines may be split into `template` and `var<k>` columns (version 1
/// segments, `line` only, read as before).
pub const META_VERSION: u32 = 2;

impl SegmentMeta {
    pub(crate) fn segment_info(&self) -> SegmentInfo {
        SegmentInfo {
            id: self.id.clone(),
            min_time: self.min_time,
            max_time: self.max_time,
            bytes: self.bytes,
            level: self.level,
            sources: self.sources.clone(),
            parents: self.parents.clone(),
        }
    }
}

pub use argus_segments::tenants::ms;

#[cfg(test)]
mod tests;

impl argus_segments::tenants::SegmentMeta for SegmentMeta {
    fn info(&self) -> SegmentInfo {
        self.segment_info()
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn time_range(&self) -> (i64, i64) {
        (self.min_time, self.max_time)
    }
    fn flushes(&self) -> &[FlushWindow] {
        &self.flushes
    }
    fn items(&self) -> u64 {
        self.entries
    }
}

impl argus_segments::tenants::Installed for SegmentReader {
    type Meta = SegmentMeta;
    fn meta(&self) -> &SegmentMeta {
        &self.meta
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn documented_magics_match_the_code() {
        let doc = include_str!("../../../../docs/format/logs.md");
        let magic = std::str::from_utf8(super::INDEX_MAGIC).unwrap();
        assert!(doc.contains(&format!("magic \"{magic}\"")));
        assert!(doc.contains(&format!("\"version\": {}", super::META_VERSION)));
        for f in super::FILES {
            assert!(doc.contains(&format!("/{f}")), "{f}");
        }
    }
}
