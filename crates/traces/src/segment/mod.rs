//! A traces segment (`docs/format/traces.md`): one tenant's spans of one
//! time range, immutable, sorted by trace id. Being built in steps: the
//! data file's writer and reader first.

mod index;
mod reader;
mod writer;

pub use index::{RowGroupIndex, SegmentIndex, TraceIdFilter, INDEX_MAGIC};
pub use reader::{read_spans, read_trace};
pub use writer::{attr_column, write_segment, AttrType, WriterOptions, Written};

pub const DATA_FILE: &str = "data.parquet";
pub const INDEX_FILE: &str = "index";
