//! Writes a segment's `data.parquet` from spans sorted by trace id, then
//! start time: one row per span, one row group at a time.
//!
//! Columns: `trace_id` (16 bytes, dictionary: a trace's spans are one run),
//! `span_id`, `parent_span_id` (8 bytes; null for a root and for a span
//! whose parent is in the trace's rows: `parent_row` is then the parent's
//! row as an offset from the span's own, a few bits where an id takes 8
//! random bytes), `start` and
//! `duration` (delta-packed), `name`, `service`, `kind`, `status`,
//! `status_message` (dictionaries), `origin` (the span's resource and
//! scope: an index into the segment index's origins), the most common span
//! attributes each in a typed column of its own (`span.<key>`), the rest
//! in `attrs`, and `events` and `links` (the WAL record's encoding,
//! `docs/format/traces.md`).

use super::{RowGroupIndex, SegmentIndex, TraceIdFilter, DATA_FILE, INDEX_FILE};
use crate::head::span_bytes;
use crate::walrec::{put_attr, put_events, put_links};
use argus_model::traces::{AttrValue, Span, SpanOrigin};
use argus_wal::codec::put_uvarint;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder,
    Int64Builder, StringDictionaryBuilder, UInt32Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// How a segment is laid out.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// A row group is closed once its spans reach this many bytes
    /// ([`span_bytes`]): the unit a lookup by trace id reads.
    pub row_group_bytes: usize,
    pub zstd_level: i32,
    /// At most this many span attributes get a column of their own.
    pub attr_columns: usize,
    /// An attribute gets a column when at least this share of spans has it.
    pub attr_column_share: f64,
    /// A column's data page is closed once its encoded values reach this
    /// many bytes: a read of a few traces' rows decompresses only the
    /// pages holding them.
    pub page_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            row_group_bytes: 8 << 20,
            zstd_level: 3,
            attr_columns: 48,
            attr_column_share: 0.005,
            page_bytes: 8 << 10,
        }
    }
}

/// The type of a `span.<key>` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttrType {
    Str,
    Int,
    Float,
    Bool,
}

impl AttrType {
    fn of(v: &AttrValue) -> Option<AttrType> {
        match v {
            AttrValue::Str(_) => Some(AttrType::Str),
            AttrValue::Int(_) => Some(AttrType::Int),
            AttrValue::Float(_) => Some(AttrType::Float),
            AttrValue::Bool(_) => Some(AttrType::Bool),
            _ => None,
        }
    }
}

/// What a written segment holds.
#[derive(Debug, Clone)]
pub struct Written {
    pub spans: u64,
    pub traces: u64,
    pub file_bytes: u64,
    /// Earliest start and latest end (ns).
    pub min_start: i64,
    pub max_end: i64,
    /// The `span.<key>` columns, in order.
    pub attr_columns: Vec<(String, AttrType)>,
    /// The segment's `index` (its origins: what the `origin` column
    /// indexes).
    pub index: SegmentIndex,
}

/// The column of span attribute `key`.
pub fn attr_column(key: &str) -> String {
    format!("span.{key}")
}

fn schema(attr_columns: &[(String, AttrType)]) -> SchemaRef {
    let dict = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let mut fields = vec![
        Field::new("trace_id", DataType::FixedSizeBinary(16), false),
        Field::new("span_id", DataType::FixedSizeBinary(8), false),
        Field::new("parent_span_id", DataType::FixedSizeBinary(8), true),
        Field::new("parent_row", DataType::Int32, true),
        Field::new(
            "start",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("duration", DataType::Int64, false),
        Field::new("name", dict(), false),
        Field::new("service", dict(), false),
        Field::new("kind", DataType::Int32, false),
        Field::new("status", DataType::Int32, false),
        Field::new("status_message", dict(), true),
        Field::new("origin", DataType::Int32, false),
        Field::new("trace_state", dict(), true),
        Field::new("flags", DataType::UInt32, false),
        Field::new("dropped", DataType::Binary, true),
        Field::new("attrs", DataType::Binary, true),
        Field::new("events", DataType::Binary, true),
        Field::new("links", DataType::Binary, true),
    ];
    fields.extend(attr_columns.iter().map(|(k, t)| {
        let dt = match t {
            AttrType::Str => dict(),
            AttrType::Int => DataType::Int64,
            AttrType::Float => DataType::Float64,
            AttrType::Bool => DataType::Boolean,
        };
        Field::new(attr_column(k), dt, true)
    }));
    Arc::new(Schema::new(fields))
}

/// The span attributes that get a column of their own: present on at
/// least `share` of the spans with one type, the most common first.
fn choose_attr_columns(spans: &[&Span], opts: &WriterOptions) -> Vec<(String, AttrType)> {
    let mut counts: HashMap<(&str, AttrType), usize> = HashMap::new();
    for s in spans {
        for a in &s.attrs {
            if let Some(t) = AttrType::of(&a.value) {
                *counts.entry((a.key.as_str(), t)).or_default() += 1;
            }
        }
    }
    let min = ((spans.len() as f64 * opts.attr_column_share).ceil() as usize).max(1);
    let mut keys: Vec<((&str, AttrType), usize)> =
        counts.into_iter().filter(|&(_, n)| n >= min).collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0 .0.cmp(b.0 .0)));
    let mut out: Vec<(String, AttrType)> = Vec::new();
    for ((k, t), _) in keys {
        // One column per key: its most common type.
        if out.len() < opts.attr_columns && !out.iter().any(|(x, _)| x == k) {
            out.push((k.to_string(), t));
        }
    }
    out.sort();
    out
}

enum AttrBuilder {
    Str(StringDictionaryBuilder<Int32Type>),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
}

impl AttrBuilder {
    fn new(t: AttrType) -> Self {
        match t {
            AttrType::Str => AttrBuilder::Str(StringDictionaryBuilder::new()),
            AttrType::Int => AttrBuilder::Int(Int64Builder::new()),
            AttrType::Float => AttrBuilder::Float(Float64Builder::new()),
            AttrType::Bool => AttrBuilder::Bool(BooleanBuilder::new()),
        }
    }

    /// Appends `v` when it is of the column's type (true), else nothing.
    fn append(&mut self, v: &AttrValue) -> bool {
        match (self, v) {
            (AttrBuilder::Str(b), AttrValue::Str(s)) => {
                b.append_value(s);
            }
            (AttrBuilder::Int(b), AttrValue::Int(i)) => b.append_value(*i),
            (AttrBuilder::Float(b), AttrValue::Float(f)) => b.append_value(*f),
            (AttrBuilder::Bool(b), AttrValue::Bool(x)) => b.append_value(*x),
            _ => return false,
        }
        true
    }

    fn append_null(&mut self) {
        match self {
            AttrBuilder::Str(b) => b.append_null(),
            AttrBuilder::Int(b) => b.append_null(),
            AttrBuilder::Float(b) => b.append_null(),
            AttrBuilder::Bool(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            AttrBuilder::Str(b) => Arc::new(b.finish()),
            AttrBuilder::Int(b) => Arc::new(b.finish()),
            AttrBuilder::Float(b) => Arc::new(b.finish()),
            AttrBuilder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// One row group's columns being built.
struct Batch {
    trace_id: FixedSizeBinaryBuilder,
    span_id: FixedSizeBinaryBuilder,
    parent: FixedSizeBinaryBuilder,
    parent_row: Int32Builder,
    start: Vec<i64>,
    duration: Int64Builder,
    name: StringDictionaryBuilder<Int32Type>,
    service: StringDictionaryBuilder<Int32Type>,
    kind: Int32Builder,
    status: Int32Builder,
    status_message: StringDictionaryBuilder<Int32Type>,
    origin: Int32Builder,
    trace_state: StringDictionaryBuilder<Int32Type>,
    flags: UInt32Builder,
    dropped: BinaryBuilder,
    attrs: BinaryBuilder,
    events: BinaryBuilder,
    links: BinaryBuilder,
    columns: Vec<AttrBuilder>,
    rows: usize,
    /// Per row, reused: which columns it filled, and which of its
    /// attributes are left for `attrs`.
    filled: Vec<bool>,
    rest: Vec<usize>,
}

impl Batch {
    fn new(attr_columns: &[(String, AttrType)]) -> Self {
        Batch {
            trace_id: FixedSizeBinaryBuilder::new(16),
            span_id: FixedSizeBinaryBuilder::new(8),
            parent: FixedSizeBinaryBuilder::new(8),
            parent_row: Int32Builder::new(),
            start: Vec::new(),
            duration: Int64Builder::new(),
            name: StringDictionaryBuilder::new(),
            service: StringDictionaryBuilder::new(),
            kind: Int32Builder::new(),
            status: Int32Builder::new(),
            status_message: StringDictionaryBuilder::new(),
            origin: Int32Builder::new(),
            trace_state: StringDictionaryBuilder::new(),
            flags: UInt32Builder::new(),
            dropped: BinaryBuilder::new(),
            attrs: BinaryBuilder::new(),
            events: BinaryBuilder::new(),
            links: BinaryBuilder::new(),
            columns: attr_columns
                .iter()
                .map(|(_, t)| AttrBuilder::new(*t))
                .collect(),
            rows: 0,
            filled: Vec::new(),
            rest: Vec::new(),
        }
    }

    fn push(
        &mut self,
        s: &Span,
        parent_row: Option<i32>,
        origin: i32,
        attr_columns: &[(String, AttrType)],
        scratch: &mut Vec<u8>,
    ) -> io::Result<()> {
        let err = io::Error::other;
        self.trace_id.append_value(s.trace_id).map_err(err)?;
        self.span_id.append_value(s.span_id).map_err(err)?;
        match (&s.parent_span_id, parent_row) {
            (Some(_), Some(r)) => {
                self.parent.append_null();
                self.parent_row.append_value(r);
            }
            (Some(p), None) => {
                self.parent.append_value(p).map_err(err)?;
                self.parent_row.append_null();
            }
            (None, _) => {
                self.parent.append_null();
                self.parent_row.append_null();
            }
        }
        self.start.push(s.start_ns);
        self.duration
            .append_value(s.end_ns.wrapping_sub(s.start_ns));
        self.name.append_value(&s.name);
        self.service.append_value(&s.origin.service);
        self.kind.append_value(s.kind as i32);
        self.status.append_value(s.status as i32);
        if s.status_message.is_empty() {
            self.status_message.append_null();
        } else {
            self.status_message.append_value(&s.status_message);
        }
        self.origin.append_value(origin);
        if s.trace_state.is_empty() {
            self.trace_state.append_null();
        } else {
            self.trace_state.append_value(&s.trace_state);
        }
        self.flags.append_value(s.flags);
        if s.dropped_attrs == 0 && s.dropped_events == 0 && s.dropped_links == 0 {
            self.dropped.append_null();
        } else {
            scratch.clear();
            for n in [s.dropped_attrs, s.dropped_events, s.dropped_links] {
                put_uvarint(scratch, u64::from(n));
            }
            self.dropped.append_value(&scratch[..]);
        }
        // Each column takes its key's first value of its type; everything
        // else goes to `attrs`, in order.
        let (filled, rest) = (&mut self.filled, &mut self.rest);
        filled.clear();
        filled.resize(attr_columns.len(), false);
        rest.clear();
        for (j, a) in s.attrs.iter().enumerate() {
            let col = attr_columns
                .binary_search_by(|(k, _)| k.as_str().cmp(&a.key))
                .ok()
                .filter(|&i| !filled[i]);
            match col {
                Some(i) if self.columns[i].append(&a.value) => filled[i] = true,
                _ => rest.push(j),
            }
        }
        for (b, f) in self.columns.iter_mut().zip(filled.iter()) {
            if !f {
                b.append_null();
            }
        }
        if rest.is_empty() {
            self.attrs.append_null();
        } else {
            // As `put_attrs` of the attributes left.
            scratch.clear();
            put_uvarint(scratch, rest.len() as u64);
            for &j in rest.iter() {
                put_attr(scratch, &s.attrs[j]);
            }
            self.attrs.append_value(&scratch[..]);
        }
        if s.events.is_empty() {
            self.events.append_null();
        } else {
            scratch.clear();
            put_events(scratch, &s.events, s.start_ns);
            self.events.append_value(&scratch[..]);
        }
        if s.links.is_empty() {
            self.links.append_null();
        } else {
            scratch.clear();
            put_links(scratch, &s.links);
            self.links.append_value(&scratch[..]);
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self, schema: &SchemaRef) -> io::Result<RecordBatch> {
        let start =
            TimestampNanosecondArray::from(std::mem::take(&mut self.start)).with_timezone("UTC");
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.trace_id.finish()),
            Arc::new(self.span_id.finish()),
            Arc::new(self.parent.finish()),
            Arc::new(self.parent_row.finish()),
            Arc::new(start),
            Arc::new(self.duration.finish()),
            Arc::new(self.name.finish()),
            Arc::new(self.service.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.status_message.finish()),
            Arc::new(self.origin.finish()),
            Arc::new(self.trace_state.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(self.dropped.finish()),
            Arc::new(self.attrs.finish()),
            Arc::new(self.events.finish()),
            Arc::new(self.links.finish()),
        ];
        cols.extend(self.columns.iter_mut().map(AttrBuilder::finish));
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), cols).map_err(io::Error::other)
    }
}

fn properties(opts: &WriterOptions) -> io::Result<WriterProperties> {
    let level = ZstdLevel::try_new(opts.zstd_level).map_err(io::Error::other)?;
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_size(usize::MAX)
        .set_data_page_size_limit(opts.page_bytes.max(1))
        .set_statistics_enabled(EnabledStatistics::Chunk);
    // Random ids: a dictionary would only add its indexes, and zstd
    // nothing but the time to decompress.
    for col in ["span_id", "parent_span_id"] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(col), false)
            .set_column_statistics_enabled(ColumnPath::from(col), EnabledStatistics::None)
            .set_column_compression(ColumnPath::from(col), Compression::UNCOMPRESSED);
    }
    // Starts are sorted within a trace: deltas are small. Durations are
    // not: their bytes split by significance compress best (measured on
    // the generated traces: 2.9 bytes per span, 3.2 delta-packed).
    b = b
        .set_column_dictionary_enabled(ColumnPath::from("start"), false)
        .set_column_encoding(ColumnPath::from("start"), Encoding::DELTA_BINARY_PACKED)
        .set_column_dictionary_enabled(ColumnPath::from("duration"), false)
        .set_column_encoding(ColumnPath::from("duration"), Encoding::BYTE_STREAM_SPLIT);
    for col in ["attrs", "events", "links", "dropped"] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(col), false)
            .set_column_statistics_enabled(ColumnPath::from(col), EnabledStatistics::None);
    }
    Ok(b.build())
}

/// For each span of a trace, its parent's row as an offset from its own
/// (`parent - row`), when the parent is one of the trace's spans.
fn parent_rows(spans: &[&Span]) -> Vec<Option<i32>> {
    let index: HashMap<argus_model::traces::SpanId, usize> = if spans.len() > 16 {
        spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id, i))
            .collect()
    } else {
        HashMap::new()
    };
    let find = |p: &argus_model::traces::SpanId| -> Option<usize> {
        if spans.len() > 16 {
            index.get(p).copied()
        } else {
            spans.iter().position(|s| s.span_id == *p)
        }
    };
    spans
        .iter()
        .enumerate()
        .map(|(row, s)| {
            let parent = find(s.parent_span_id.as_ref()?)?;
            i32::try_from(parent as i64 - row as i64).ok()
        })
        .collect()
}

/// Writes `spans` (sorted by trace id, then start) as `dir/data.parquet`
/// and `dir/index`, with the attribute columns their spans call for.
/// `None` when there are none.
pub fn write_segment(
    dir: &Path,
    spans: &[&Span],
    opts: &WriterOptions,
) -> io::Result<Option<Written>> {
    if spans.is_empty() {
        return Ok(None);
    }
    let traces = 1 + spans
        .windows(2)
        .filter(|w| w[0].trace_id != w[1].trace_id)
        .count();
    let mut w = SegmentWriter::new(dir, choose_attr_columns(spans, opts), traces, opts)?;
    for trace in spans.chunk_by(|a, b| a.trace_id == b.trace_id) {
        w.push_trace(trace)?;
    }
    w.finish()
}

/// A segment being written a trace at a time (by trace id; a trace's
/// spans by start), a row group at a time: what a merge streams its inputs
/// into.
pub struct SegmentWriter {
    dir: std::path::PathBuf,
    opts: WriterOptions,
    attr_columns: Vec<(String, AttrType)>,
    schema: SchemaRef,
    writer: ArrowWriter<io::BufWriter<std::fs::File>>,
    out: Written,
    rg: Option<RowGroupIndex>,
    origin_index: HashMap<*const SpanOrigin, i32>,
    batch: Batch,
    scratch: Vec<u8>,
    rg_bytes: usize,
    last: Option<argus_model::traces::TraceId>,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter")
            .field("dir", &self.dir)
            .field("spans", &self.out.spans)
            .finish_non_exhaustive()
    }
}

impl SegmentWriter {
    /// A writer with these `span.<key>` columns, sized for about
    /// `traces` traces (the Bloom filter's capacity).
    pub fn new(
        dir: &Path,
        attr_columns: Vec<(String, AttrType)>,
        traces: usize,
        opts: &WriterOptions,
    ) -> io::Result<Self> {
        let mut attr_columns = attr_columns;
        attr_columns.sort();
        attr_columns.dedup_by(|a, b| a.0 == b.0);
        let schema = schema(&attr_columns);
        std::fs::create_dir_all(dir)?;
        let file = std::fs::File::create(dir.join(DATA_FILE))?;
        let writer = ArrowWriter::try_new(
            io::BufWriter::with_capacity(1 << 20, file),
            schema.clone(),
            Some(properties(opts)?),
        )
        .map_err(io::Error::other)?;
        Ok(SegmentWriter {
            dir: dir.to_path_buf(),
            opts: *opts,
            batch: Batch::new(&attr_columns),
            attr_columns,
            schema,
            writer,
            out: Written {
                min_start: i64::MAX,
                max_end: i64::MIN,
                index: SegmentIndex {
                    origins: Vec::new(),
                    row_groups: Vec::new(),
                    filter: TraceIdFilter::with_capacity(traces.max(1)),
                },
                spans: 0,
                traces: 0,
                file_bytes: 0,
                attr_columns: Vec::new(),
            },
            rg: None,
            origin_index: HashMap::new(),
            scratch: Vec::new(),
            rg_bytes: 0,
            last: None,
        })
    }

    /// Appends a trace's spans (sorted by start): its trace id after the
    /// previous trace's. A span whose parent is a span of the trace is
    /// written with the parent's row (as an offset) instead of its id.
    pub fn push_trace(&mut self, spans: &[&Span]) -> io::Result<()> {
        let Some(first) = spans.first() else {
            return Ok(());
        };
        let id = first.trace_id;
        let ordered = spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns);
        if !ordered || spans.iter().any(|s| s.trace_id != id) || self.last.is_some_and(|l| l >= id)
        {
            return Err(io::Error::other(
                "segment spans out of (trace id, start) order",
            ));
        }
        self.last = Some(id);
        self.out.traces += 1;
        self.out.index.filter.insert(&id);
        // A row group ends between traces.
        if self.rg_bytes >= self.opts.row_group_bytes {
            let b = self.batch.finish(&self.schema)?;
            self.writer.write(&b).map_err(io::Error::other)?;
            self.writer.flush().map_err(io::Error::other)?;
            self.out.index.row_groups.extend(self.rg.take());
            self.rg_bytes = 0;
        }
        let rows = parent_rows(spans);
        for (s, parent_row) in spans.iter().zip(rows) {
            self.push_row(s, parent_row)?;
        }
        Ok(())
    }

    fn push_row(&mut self, s: &Span, parent_row: Option<i32>) -> io::Result<()> {
        let out = &mut self.out;
        let o = *self
            .origin_index
            .entry(Arc::as_ptr(&s.origin))
            .or_insert_with(|| {
                out.index.origins.push(s.origin.clone());
                (out.index.origins.len() - 1) as i32
            });
        let r = self.rg.get_or_insert(RowGroupIndex {
            min_trace: s.trace_id,
            max_trace: s.trace_id,
            spans: 0,
            min_start: i64::MAX,
            max_end: i64::MIN,
        });
        r.max_trace = s.trace_id;
        r.spans += 1;
        r.min_start = r.min_start.min(s.start_ns);
        r.max_end = r.max_end.max(s.end_ns);
        self.batch
            .push(s, parent_row, o, &self.attr_columns, &mut self.scratch)?;
        self.rg_bytes += span_bytes(s);
        self.out.spans += 1;
        self.out.min_start = self.out.min_start.min(s.start_ns);
        self.out.max_end = self.out.max_end.max(s.end_ns);
        Ok(())
    }

    /// Closes the data file and writes the index; `None` when no span was
    /// pushed (the files written are left for the caller's staging
    /// directory to drop).
    pub fn finish(mut self) -> io::Result<Option<Written>> {
        if self.out.spans == 0 {
            return Ok(None);
        }
        if self.batch.rows > 0 {
            let b = self.batch.finish(&self.schema)?;
            self.writer.write(&b).map_err(io::Error::other)?;
        }
        self.out.index.row_groups.extend(self.rg.take());
        let file = self.writer.into_inner().map_err(io::Error::other)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let mut index = Vec::new();
        self.out.index.encode(&mut index);
        let index_path = self.dir.join(INDEX_FILE);
        std::fs::write(&index_path, &index)?;
        std::fs::File::open(&index_path)?.sync_all()?;
        self.out.file_bytes = file.metadata()?.len() + index.len() as u64;
        self.out.attr_columns = self.attr_columns;
        Ok(Some(self.out))
    }
}

/// The `span.<key>` columns of a data file.
pub fn attr_columns_of(data: &super::DataFile) -> Vec<(String, AttrType)> {
    let mut out = Vec::new();
    for f in data.schema().fields() {
        let Some(key) = f.name().strip_prefix("span.") else {
            continue;
        };
        let t = match f.data_type() {
            DataType::Dictionary(_, v) if **v == DataType::Utf8 => AttrType::Str,
            DataType::Utf8 => AttrType::Str,
            DataType::Int64 => AttrType::Int,
            DataType::Float64 => AttrType::Float,
            DataType::Boolean => AttrType::Bool,
            _ => continue,
        };
        out.push((key.to_string(), t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::{Attr, SpanEvent};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn span(trace: u8, id: u8, start: i64, attrs: Vec<Attr>) -> Span {
        Span {
            origin: Arc::new(SpanOrigin::new(vec![Attr::str("service.name", "svc")])),
            trace_id: [trace; 16],
            span_id: [id; 8],
            parent_span_id: (id > 1).then_some([1; 8]),
            name: format!("op{id}"),
            start_ns: start,
            end_ns: start + 100,
            attrs,
            ..Span::default()
        }
    }

    #[test]
    fn common_attributes_get_columns_and_the_rest_is_kept() {
        let mut spans: Vec<Span> = (0..10u8)
            .map(|i| {
                span(
                    i / 4,
                    i + 1,
                    i64::from(i),
                    [
                        Some(Attr::new(
                            "http.status_code",
                            AttrValue::Int(200 + i64::from(i)),
                        )),
                        (i % 3 == 0).then(|| Attr::str("rare", format!("r{i}"))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                )
            })
            .collect();
        // One span whose status code is a string: kept in `attrs`.
        spans[3].attrs[0] = Attr::str("http.status_code", "oops");
        spans[5].events.push(SpanEvent {
            ts_ns: 7,
            name: "e".into(),
            ..SpanEvent::default()
        });
        let refs: Vec<&Span> = spans.iter().collect();
        let dir = tempfile::tempdir().unwrap();
        let opts = WriterOptions {
            attr_column_share: 0.5,
            ..WriterOptions::default()
        };
        let w = write_segment(dir.path(), &refs, &opts).unwrap().unwrap();
        assert_eq!((w.spans, w.traces), (10, 3));
        assert_eq!((w.min_start, w.max_end), (0, 109));
        assert_eq!(
            w.attr_columns,
            [("http.status_code".to_string(), AttrType::Int)]
        );
        assert_eq!(w.index.origins.len(), 10, "each span its own origin here");
        let file = std::fs::File::open(dir.path().join(DATA_FILE)).unwrap();
        let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let b = only_batch(&batches);
        assert_eq!(b.num_rows(), 10);
        let codes = b
            .column_by_name("span.http.status_code")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(codes.value(0), 200);
        assert!(codes.is_null(3));
        let attrs = b.column_by_name("attrs").unwrap().as_binary::<i32>();
        // Row 3 keeps both attributes in `attrs`, row 0 only `rare`, row 1
        // nothing.
        let decode = |i: usize| {
            let mut r = argus_wal::codec::Reader::new(attrs.value(i));
            crate::walrec::attrs(&mut r, 0).unwrap()
        };
        assert_eq!(decode(3).len(), 2);
        assert_eq!(decode(0), vec![Attr::str("rare", "r0")]);
        assert!(attrs.is_null(1));
        let events = b.column_by_name("events").unwrap();
        assert_eq!(events.null_count(), 9);
        // A root has no parent; a parent in the trace is its row (span 1
        // is row 0 of trace 0); a parent elsewhere (trace 1's) its id.
        let parent = b.column_by_name("parent_span_id").unwrap();
        let row = b
            .column_by_name("parent_row")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert!(parent.is_null(0) && row.is_null(0));
        assert!(parent.is_null(1) && row.value(1) == -1 && row.value(2) == -2);
        assert!(!parent.is_null(4) && row.is_null(4));
    }

    #[test]
    fn spans_out_of_order_are_refused() {
        let (a, b) = (span(2, 1, 0, vec![]), span(1, 2, 0, vec![]));
        let dir = tempfile::tempdir().unwrap();
        assert!(write_segment(dir.path(), &[&a, &b], &WriterOptions::default()).is_err());
        assert!(write_segment(dir.path(), &[], &WriterOptions::default())
            .unwrap()
            .is_none());
    }

    /// The batches as one (they share the file's schema).
    fn only_batch(batches: &[RecordBatch]) -> RecordBatch {
        assert_eq!(batches.len(), 1, "small files are one batch");
        batches[0].clone()
    }
}
