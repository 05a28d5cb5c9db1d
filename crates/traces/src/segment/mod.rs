//! A traces segment (`docs/format/traces.md`): one tenant's spans of one
//! time range, immutable, sorted by trace id. Being built in steps: the
//! data file's writer and reader first.

mod cache;
mod index;
mod merge;
mod meta;
mod reader;
mod writer;

pub use cache::{CacheCounters, ColumnCache};
pub use index::{RowGroupIndex, SegmentIndex, TraceIdFilter, INDEX_MAGIC};
pub use merge::{merge_segments, MergeInput};
pub use meta::{Segment, SegmentMeta, SpanStats, MAX_STAT_NAMES, META_FILE, META_VERSION};
pub use reader::{read_row_group, read_row_group_where, read_spans, read_trace, DataFile};
pub use writer::{
    attr_column, attr_columns_of, write_segment, AttrType, SegmentWriter, WriterOptions, Written,
};

pub const DATA_FILE: &str = "data.parquet";
pub const INDEX_FILE: &str = "index";
/// A segment's files, the meta file last.
pub const FILES: &[&str] = &[DATA_FILE, INDEX_FILE, META_FILE];
