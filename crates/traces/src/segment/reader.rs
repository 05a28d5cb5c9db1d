//! Reads a segment's `data.parquet` back into spans.
//!
//! A span's attributes come back as its `span.<key>` columns' values (in
//! column order, which is by key) followed by the rest from `attrs` (in
//! the order they were pushed): OTLP attribute keys are unique, so this
//! is the same set.

use super::cache::ColumnCache;
use super::SegmentIndex;
use crate::walrec::{attrs, read_events, read_links, RecordError};
use argus_model::traces::{Attr, AttrValue, Span, SpanKind, SpanOrigin, StatusCode, TraceId};
use argus_store::traces::{SpanFields, SpanHint};
use argus_wal::codec::Reader;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampNanosecondType, UInt32Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn bad(what: &str) -> io::Error {
    io::Error::other(format!("traces segment data: bad column {what}"))
}

fn record(e: RecordError) -> io::Error {
    io::Error::other(format!("traces segment data: {e}"))
}

/// A segment's data file with its Parquet metadata (footer and page
/// index), read once when the segment is opened.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: PathBuf,
    parquet: ArrowReaderMetadata,
}

impl DataFile {
    /// Opens `path` and reads its metadata.
    pub fn open(path: &Path) -> io::Result<DataFile> {
        let file = std::fs::File::open(path)?;
        let parquet =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new().with_page_index(true))
                .map_err(io::Error::other)?;
        Ok(DataFile {
            path: path.to_path_buf(),
            parquet,
        })
    }

    pub fn num_row_groups(&self) -> usize {
        self.parquet.metadata().num_row_groups()
    }

    /// The Arrow schema of the data.
    pub fn schema(&self) -> &arrow_schema::SchemaRef {
        self.parquet.schema()
    }

    pub(crate) fn builder(&self) -> io::Result<ParquetRecordBatchReaderBuilder<std::fs::File>> {
        let file = std::fs::File::open(&self.path)?;
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            file,
            self.parquet.clone(),
        ))
    }

    /// Rows of row group `rg` (0 beyond the last).
    pub(crate) fn rows_of(&self, rg: usize) -> usize {
        let md = self.parquet.metadata();
        if rg < md.num_row_groups() {
            usize::try_from(md.row_group(rg).num_rows()).unwrap_or(0)
        } else {
            0
        }
    }

    /// The indexes (ascending) of the columns named `names` that the file
    /// has: leaves as much as fields, the schema being flat.
    pub(crate) fn columns_named(&self, names: &[&str]) -> Vec<usize> {
        let schema = self.schema();
        (0..schema.fields().len())
            .filter(|&i| names.contains(&schema.field(i).name().as_str()))
            .collect()
    }

    /// Columns `leaves` (ascending; the schema is flat: a field is a
    /// leaf) of row group `rg`, whole, in one batch (traces never
    /// straddle two).
    pub(crate) fn read_whole(&self, rg: usize, leaves: &[usize]) -> io::Result<RecordBatch> {
        self.check(&[rg])?;
        let b = self.builder()?;
        let mask = ProjectionMask::leaves(b.parquet_schema(), leaves.iter().copied());
        let reader = b
            .with_row_groups(vec![rg])
            .with_projection(mask)
            .with_batch_size(self.rows_of(rg).max(1))
            .build()
            .map_err(io::Error::other)?;
        let mut batches = Vec::new();
        for batch in reader {
            batches.push(batch.map_err(io::Error::other)?);
        }
        if batches.len() != 1 {
            return Err(io::Error::other(format!(
                "{}: row group {rg} read in {} batches, not one",
                self.path.display(),
                batches.len()
            )));
        }
        Ok(batches.remove(0))
    }

    fn check(&self, rgs: &[usize]) -> io::Result<()> {
        if let Some(rg) = rgs.iter().find(|&&rg| rg >= self.num_row_groups()) {
            return Err(io::Error::other(format!(
                "{}: row group {rg} is beyond the file's {}",
                self.path.display(),
                self.num_row_groups()
            )));
        }
        Ok(())
    }
}

/// Every span of the data file, in file order; `origins` are the
/// segment's (what its `origin` column indexes).
pub fn read_spans(data: &DataFile, origins: &[Arc<SpanOrigin>]) -> io::Result<Vec<Span>> {
    read(data, origins, None, None, Rows::All, SpanFields::All)
}

/// The spans of row group `rg` of the data file.
pub fn read_row_group(
    data: &DataFile,
    origins: &[Arc<SpanOrigin>],
    rg: usize,
) -> io::Result<Vec<Span>> {
    read(
        data,
        origins,
        Some(vec![rg]),
        None,
        Rows::All,
        SpanFields::All,
    )
}

/// The spans of trace `id` in the segment: only the row groups `index`
/// says may hold it are read, and of them only the pages holding the
/// trace's rows (found by its `trace_id` column first).
pub fn read_trace(data: &DataFile, index: &SegmentIndex, id: &TraceId) -> io::Result<Vec<Span>> {
    let row_groups = index.row_groups_of(id);
    if row_groups.is_empty() {
        return Ok(Vec::new());
    }
    data.check(&row_groups)?;
    // The trace's rows: one run per row group (rows are sorted by trace).
    let b = data.builder()?;
    let mask = ProjectionMask::columns(b.parquet_schema(), ["trace_id"]);
    let reader = b
        .with_row_groups(row_groups.clone())
        .with_projection(mask)
        .build()
        .map_err(io::Error::other)?;
    let mut selectors: Vec<RowSelector> = Vec::new();
    let mut found = false;
    for batch in reader {
        let batch = batch.map_err(io::Error::other)?;
        let ids = batch
            .column(0)
            .as_fixed_size_binary_opt()
            .ok_or_else(|| bad("trace_id"))?;
        for row in 0..batch.num_rows() {
            let hit = ids.value(row) == &id[..];
            found |= hit;
            match selectors.last_mut() {
                Some(last) if last.skip != hit => last.row_count += 1,
                _ => selectors.push(if hit {
                    RowSelector::select(1)
                } else {
                    RowSelector::skip(1)
                }),
            }
        }
    }
    if !found {
        return Ok(Vec::new());
    }
    read(
        data,
        &index.origins,
        Some(row_groups),
        Some(RowSelection::from(selectors)),
        Rows::Trace(id),
        SpanFields::All,
    )
}

/// Which rows a read keeps.
#[derive(Clone, Copy)]
enum Rows<'a> {
    All,
    Trace(&'a TraceId),
    /// These row ranges of the batch (ascending), and no others.
    Ranges(&'a [(usize, usize)]),
}

impl Rows<'_> {
    fn keeps(&self, id: &[u8]) -> bool {
        match self {
            Rows::All => true,
            Rows::Trace(t) => id == &t[..],
            Rows::Ranges(_) => true,
        }
    }
}

/// The spans of row group `rg` whose traces have, for each of `hints`, a
/// span meeting it, with `fields` of them at least. The row group's
/// trace id column and those the hints name are read first; the rest
/// only when some trace may match, and only its rows are decoded. With
/// a cache, intrinsics are read whole from it (or into it).
pub fn read_row_group_where(
    data: &DataFile,
    origins: &[Arc<SpanOrigin>],
    rg: usize,
    hints: &[SpanHint],
    same_span: bool,
    fields: SpanFields,
    cache: Option<&ColumnCache>,
) -> io::Result<Vec<Span>> {
    data.check(&[rg])?;
    if let Some(cache) = cache.filter(|_| fields == SpanFields::Intrinsics) {
        return read_cached(data, origins, rg, (hints, same_span), cache);
    }
    if hints.is_empty() {
        return read(data, origins, Some(vec![rg]), None, Rows::All, fields);
    }
    let batch = data.read_whole(rg, &data.columns_named(&hint_columns(hints)))?;
    let ranges = hits_in_batch(&batch, (hints, same_span))?;
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let selection = selection_of(&ranges, batch.num_rows());
    read(
        data,
        origins,
        Some(vec![rg]),
        Some(selection),
        Rows::All,
        fields,
    )
}

/// The trace id column and those `hints` look at.
fn hint_columns(hints: &[SpanHint]) -> Vec<&'static str> {
    let mut names = vec!["trace_id"];
    names.extend(hints.iter().map(hint_column));
    names
}

/// The selection of row ranges `ranges` (ascending) of `rows` rows.
fn selection_of(ranges: &[(usize, usize)], rows: usize) -> RowSelection {
    let mut selectors: Vec<RowSelector> = Vec::new();
    let mut at = 0;
    for &(lo, hi) in ranges {
        if lo > at {
            selectors.push(RowSelector::skip(lo - at));
        }
        selectors.push(RowSelector::select(hi - lo));
        at = hi;
    }
    if rows > at {
        selectors.push(RowSelector::skip(rows - at));
    }
    RowSelection::from(selectors)
}

/// [`read_row_group_where`] of intrinsics through `cache`.
fn read_cached(
    data: &DataFile,
    origins: &[Arc<SpanOrigin>],
    rg: usize,
    (hints, same_span): (&[SpanHint], bool),
    cache: &ColumnCache,
) -> io::Result<Vec<Span>> {
    let ranges = if hints.is_empty() {
        vec![(0, data.rows_of(rg))]
    } else {
        let batch = cache.batch(data, rg, &hint_columns(hints))?;
        hits_in_batch(&batch, (hints, same_span))?
    };
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let batch = cache.batch(data, rg, INTRINSIC_COLUMNS)?;
    let mut out = Vec::new();
    let mut parents = Vec::new();
    decode_batch(
        &batch,
        origins,
        Rows::Ranges(&ranges),
        SpanFields::Intrinsics,
        &mut out,
        &mut parents,
    )?;
    link_parents(&mut out, parents)?;
    Ok(out)
}

/// The column hint `h` looks at.
fn hint_column(h: &SpanHint) -> &'static str {
    match h {
        SpanHint::Service(_) => "service",
        SpanHint::Name(_) => "name",
        SpanHint::Error => "status",
        SpanHint::MinDuration(_) | SpanHint::MaxDuration(_) => "duration",
    }
}

/// The columns holding a span's intrinsics, ids and origin: what
/// [`SpanFields::Intrinsics`] reads.
const INTRINSIC_COLUMNS: &[&str] = &[
    "trace_id",
    "span_id",
    "parent_span_id",
    "parent_row",
    "start",
    "duration",
    "name",
    "kind",
    "status",
    "status_message",
    "origin",
];

/// The row ranges (ascending) of the traces of `batch`, a whole row
/// group, that meet every hint with some span (with `same_span`, one span
/// meeting them all). Each hint's rows are found by a pass over its
/// column; only the traces around the rarest hint's rows are looked at
/// further.
fn hits_in_batch(
    batch: &RecordBatch,
    (hints, same_span): (&[SpanHint], bool),
) -> io::Result<Vec<(usize, usize)>> {
    let mut ranges = Vec::new();
    let ids = batch
        .column_by_name("trace_id")
        .and_then(|c| c.as_fixed_size_binary_opt())
        .filter(|c| c.value_length() == 16)
        .ok_or_else(|| bad("trace_id"))?;
    // Each hint's rows, ascending.
    let mut per_hint: Vec<Vec<u32>> = Vec::with_capacity(hints.len());
    for h in hints {
        per_hint.push(hint_rows(batch, h)?);
    }
    per_hint.sort_by_key(Vec::len);
    let Some((rarest, others)) = per_hint.split_first() else {
        return Ok(ranges);
    };
    let has = |rows: &[u32], r: u32| rows.binary_search(&r).is_ok();
    let both: Vec<u32>;
    let rarest = if same_span {
        both = rarest
            .iter()
            .copied()
            .filter(|&r| others.iter().all(|o| has(o, r)))
            .collect();
        &both
    } else {
        rarest
    };
    let id_at = |r: usize| ids.value(r);
    let mut done = 0; // rows below this are in a trace already looked at
    for &r in rarest {
        let r = r as usize;
        if r < done {
            continue;
        }
        let id = id_at(r);
        let mut lo = r;
        while lo > 0 && id_at(lo - 1) == id {
            lo -= 1;
        }
        let mut hi = r + 1;
        while hi < batch.num_rows() && id_at(hi) == id {
            hi += 1;
        }
        done = hi;
        let met = same_span
            || others.iter().all(|rows| {
                let i = rows.partition_point(|&x| (x as usize) < lo);
                rows.get(i).is_some_and(|&x| (x as usize) < hi)
            });
        if met {
            ranges.push((lo, hi));
        }
    }
    Ok(ranges)
}

/// The rows of `a` whose value meets `keep`, ascending.
fn rows_where<T: arrow_array::ArrowPrimitiveType>(
    a: &arrow_array::PrimitiveArray<T>,
    keep: impl Fn(T::Native) -> bool,
) -> Vec<u32> {
    let mut out = Vec::new();
    for (r, v) in a.values().iter().enumerate() {
        if keep(*v) {
            out.push(r as u32);
        }
    }
    if a.null_count() > 0 {
        out.retain(|&r| a.is_valid(r as usize));
    }
    out
}

/// The rows of `batch` meeting `hint`, ascending.
fn hint_rows(batch: &RecordBatch, hint: &SpanHint) -> io::Result<Vec<u32>> {
    let col = |name: &str| batch.column_by_name(name).ok_or_else(|| bad(name));
    let ints = |name: &str| -> io::Result<Vec<u32>> {
        let c = col(name)?;
        if let Some(a) = c.as_primitive_opt::<Int32Type>() {
            Ok(match hint {
                SpanHint::Error => rows_where(a, |v| v == StatusCode::Error as i32),
                _ => Vec::new(),
            })
        } else if let Some(a) = c.as_primitive_opt::<Int64Type>() {
            Ok(match *hint {
                SpanHint::MinDuration(x) => rows_where(a, |v| v as u64 >= x),
                SpanHint::MaxDuration(x) => rows_where(a, |v| v as u64 <= x),
                _ => Vec::new(),
            })
        } else {
            Err(bad(name))
        }
    };
    match hint {
        SpanHint::Service(x) => Ok(Strs::column(col("service")?, "service")?.rows_equal(x)),
        SpanHint::Name(x) => Ok(Strs::column(col("name")?, "name")?.rows_equal(x)),
        SpanHint::Error => ints("status"),
        SpanHint::MinDuration(_) | SpanHint::MaxDuration(_) => ints("duration"),
    }
}

fn read(
    data: &DataFile,
    origins: &[Arc<SpanOrigin>],
    row_groups: Option<Vec<usize>>,
    selection: Option<RowSelection>,
    only: Rows<'_>,
    fields: SpanFields,
) -> io::Result<Vec<Span>> {
    let mut b = data.builder()?;
    if let Some(rgs) = row_groups {
        data.check(&rgs)?;
        b = b.with_row_groups(rgs);
    }
    if let Some(sel) = selection {
        b = b.with_row_selection(sel);
    }
    if fields == SpanFields::Intrinsics {
        let schema = b.parquet_schema();
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&i| INTRINSIC_COLUMNS.contains(&schema.column(i).name()))
            .collect();
        let mask = ProjectionMask::leaves(schema, leaves);
        b = b.with_projection(mask);
    }
    let reader = b.build().map_err(io::Error::other)?;
    let mut out = Vec::new();
    let mut parents = Vec::new();
    for batch in reader {
        let batch = batch.map_err(io::Error::other)?;
        decode_batch(&batch, origins, only, fields, &mut out, &mut parents)?;
    }
    link_parents(&mut out, parents)?;
    Ok(out)
}

/// Sets the parents given as a row of the trace (`(span, offset)`): every
/// row of a trace read is in `out`, in file order.
fn link_parents(out: &mut [Span], parents: Vec<(usize, i64)>) -> io::Result<()> {
    for (i, offset) in parents {
        let j = usize::try_from(i as i64 + offset)
            .ok()
            .filter(|&j| j < out.len() && out[j].trace_id == out[i].trace_id)
            .ok_or_else(|| bad("parent_row"))?;
        out[i].parent_span_id = Some(out[j].span_id);
    }
    Ok(())
}

/// A string column, plain or dictionary-encoded, read row by row without
/// copying it (a lookup by trace id reads a few rows of a row group).
enum Strs<'a> {
    Plain(&'a arrow_array::StringArray),
    Dict(&'a arrow_array::Int32Array, &'a arrow_array::StringArray),
}

impl<'a> Strs<'a> {
    fn of(c: &'a ArrayRef) -> Option<Self> {
        match c.data_type() {
            DataType::Utf8 => c.as_string_opt::<i32>().map(Strs::Plain),
            DataType::Dictionary(_, _) => {
                let d = c.as_dictionary_opt::<Int32Type>()?;
                Some(Strs::Dict(d.keys(), d.values().as_string_opt::<i32>()?))
            }
            _ => None,
        }
    }

    fn column(c: &'a ArrayRef, name: &str) -> io::Result<Self> {
        Strs::of(c).ok_or_else(|| bad(name))
    }

    /// Row `row`'s value; `None` when null (or a key out of the
    /// dictionary: damage read as absent).
    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Strs::Plain(a) => a.is_valid(row).then(|| a.value(row)),
            Strs::Dict(keys, values) => {
                let k = usize::try_from(keys.is_valid(row).then(|| keys.value(row))?).ok()?;
                (k < values.len()).then(|| values.value(k))
            }
        }
    }

    /// The rows whose value is `x`, ascending: a dictionary column's
    /// keys are compared, not its strings.
    fn rows_equal(&self, x: &str) -> Vec<u32> {
        match self {
            Strs::Plain(a) => (0..a.len())
                .filter(|&r| a.is_valid(r) && a.value(r) == x)
                .map(|r| r as u32)
                .collect(),
            Strs::Dict(keys, values) => {
                let wanted: Vec<i32> = (0..values.len())
                    .filter(|&k| values.is_valid(k) && values.value(k) == x)
                    .filter_map(|k| i32::try_from(k).ok())
                    .collect();
                let Some(&first) = wanted.first() else {
                    return Vec::new();
                };
                if wanted.len() == 1 {
                    rows_where(keys, |k| k == first)
                } else {
                    rows_where(keys, |k| wanted.contains(&k))
                }
            }
        }
    }

    /// Row `row`'s value, empty when null.
    fn string(&self, row: usize) -> String {
        self.get(row).unwrap_or_default().to_string()
    }
}

/// The spans of `b` that `only` keeps appended to `out`.
fn decode_batch(
    b: &RecordBatch,
    origins: &[Arc<SpanOrigin>],
    only: Rows<'_>,
    fields: SpanFields,
    out: &mut Vec<Span>,
    parents: &mut Vec<(usize, i64)>,
) -> io::Result<()> {
    // Absent from segments written before it.
    let parent_row = b
        .column_by_name("parent_row")
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .cloned();
    let col = |name: &str| b.column_by_name(name).ok_or_else(|| bad(name));
    let fixed = |name: &str| {
        col(name)?
            .as_fixed_size_binary_opt()
            .cloned()
            .ok_or_else(|| bad(name))
    };
    let (trace_id, span_id, parent) = (
        fixed("trace_id")?,
        fixed("span_id")?,
        fixed("parent_span_id")?,
    );
    let start = col("start")?
        .as_primitive_opt::<TimestampNanosecondType>()
        .cloned()
        .ok_or_else(|| bad("start"))?;
    let int64 = |name: &str| {
        col(name)?
            .as_primitive_opt::<Int64Type>()
            .cloned()
            .ok_or_else(|| bad(name))
    };
    let int32 = |name: &str| {
        col(name)?
            .as_primitive_opt::<Int32Type>()
            .cloned()
            .ok_or_else(|| bad(name))
    };
    let duration = int64("duration")?;
    let (kind, status, origin) = (int32("kind")?, int32("status")?, int32("origin")?);
    // The columns a read of intrinsics leaves out: `None` then.
    let opt = |name: &str| match fields {
        SpanFields::All => col(name).map(Some),
        SpanFields::Intrinsics => Ok(b.column_by_name(name)),
    };
    let flags = opt("flags")?
        .map(|c| {
            c.as_primitive_opt::<UInt32Type>()
                .cloned()
                .ok_or_else(|| bad("flags"))
        })
        .transpose()?;
    let name = Strs::column(col("name")?, "name")?;
    let status_message = Strs::column(col("status_message")?, "status_message")?;
    let trace_state = opt("trace_state")?
        .map(|c| Strs::column(c, "trace_state"))
        .transpose()?;
    let binary = |name: &str| {
        opt(name)?
            .map(|c| c.as_binary_opt::<i32>().cloned().ok_or_else(|| bad(name)))
            .transpose()
    };
    let (dropped, rest, events, links) = (
        binary("dropped")?,
        binary("attrs")?,
        binary("events")?,
        binary("links")?,
    );
    // The `span.<key>` columns.
    let attr_cols: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .filter_map(|(f, c)| Some((f.name().strip_prefix("span.")?.to_string(), c.clone())))
        .collect();
    let attr_strings: Vec<Option<Strs<'_>>> = attr_cols.iter().map(|(_, c)| Strs::of(c)).collect();
    let all = [(0, b.num_rows())];
    let ranges = match only {
        Rows::Ranges(r) => r,
        _ => &all[..],
    };
    let rows = ranges
        .iter()
        .flat_map(|&(lo, hi)| lo.min(b.num_rows())..hi.min(b.num_rows()));
    for row in rows {
        if !only.keeps(trace_id.value(row)) {
            continue;
        }
        let o = usize::try_from(origin.value(row))
            .ok()
            .and_then(|o| origins.get(o))
            .ok_or_else(|| bad("origin"))?;
        let mut span_attrs = Vec::new();
        for ((key, c), s) in attr_cols.iter().zip(&attr_strings) {
            if c.is_null(row) {
                continue;
            }
            let v = match s {
                Some(s) => AttrValue::Str(s.string(row)),
                None => match c.data_type() {
                    DataType::Int64 => AttrValue::Int(c.as_primitive::<Int64Type>().value(row)),
                    DataType::Float64 => {
                        AttrValue::Float(c.as_primitive::<Float64Type>().value(row))
                    }
                    DataType::Boolean => AttrValue::Bool(c.as_boolean().value(row)),
                    _ => return Err(bad(&format!("span.{key}"))),
                },
            };
            span_attrs.push(Attr::new(key.clone(), v));
        }
        if let Some(rest) = rest.as_ref().filter(|c| c.is_valid(row)) {
            let mut r = Reader::new(rest.value(row));
            span_attrs.extend(attrs(&mut r, 0).map_err(record)?);
        }
        let start_ns = start.value(row);
        let mut span = Span {
            origin: o.clone(),
            trace_id: trace_id
                .value(row)
                .try_into()
                .map_err(|_| bad("trace_id"))?,
            span_id: span_id.value(row).try_into().map_err(|_| bad("span_id"))?,
            parent_span_id: if parent.is_valid(row) {
                Some(
                    parent
                        .value(row)
                        .try_into()
                        .map_err(|_| bad("parent_span_id"))?,
                )
            } else {
                None
            },
            trace_state: trace_state
                .as_ref()
                .map(|c| c.string(row))
                .unwrap_or_default(),
            flags: flags.as_ref().map_or(0, |c| c.value(row)),
            name: name.string(row),
            kind: SpanKind::from_i32(kind.value(row)),
            start_ns,
            end_ns: start_ns.wrapping_add(duration.value(row)),
            attrs: span_attrs,
            status: StatusCode::from_i32(status.value(row)),
            status_message: status_message.string(row),
            ..Span::default()
        };
        if let Some(dropped) = dropped.as_ref().filter(|c| c.is_valid(row)) {
            let mut r = Reader::new(dropped.value(row));
            span.dropped_attrs = r.u32().map_err(|e| record(e.into()))?;
            span.dropped_events = r.u32().map_err(|e| record(e.into()))?;
            span.dropped_links = r.u32().map_err(|e| record(e.into()))?;
        }
        if let Some(events) = events.as_ref().filter(|c| c.is_valid(row)) {
            let mut r = Reader::new(events.value(row));
            span.events = read_events(&mut r, start_ns).map_err(record)?;
            r.finish().map_err(|e| record(e.into()))?;
        }
        if let Some(links) = links.as_ref().filter(|c| c.is_valid(row)) {
            let mut r = Reader::new(links.value(row));
            span.links = read_links(&mut r).map_err(record)?;
            r.finish().map_err(|e| record(e.into()))?;
        }
        if let Some(p) = parent_row.as_ref().filter(|p| p.is_valid(row)) {
            parents.push((out.len(), i64::from(p.value(row))));
        }
        out.push(span);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{write_segment, WriterOptions, DATA_FILE, INDEX_FILE};
    use crate::testutil::{origins, span_strategy};
    use proptest::prelude::*;

    /// Attributes by key (their order is not kept, OTLP keys are unique).
    fn normalized(mut s: Span) -> Span {
        s.attrs.sort_by(|a, b| a.key.cmp(&b.key));
        s
    }

    fn hint_strategy() -> impl Strategy<Value = SpanHint> {
        prop_oneof![
            prop_oneof![Just(""), Just("api"), Just("db")]
                .prop_map(|s| SpanHint::Service(s.into())),
            "[a-c]{0,2}".prop_map(SpanHint::Name),
            (0u64..2_000).prop_map(SpanHint::MinDuration),
            (0u64..2_000).prop_map(SpanHint::MaxDuration),
            Just(SpanHint::Error),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A filtered read keeps exactly the spans of the traces that have,
        /// for each hint, a span meeting it (one span meeting them all when
        /// asked), whichever way it reads.
        #[test]
        fn filtered_reads_keep_the_traces_that_meet_every_hint(
            spans in proptest::collection::vec(span_strategy(origins()), 1..60),
            hints in proptest::collection::vec(hint_strategy(), 0..3),
            traces in 1u8..6,
            same_span in proptest::bool::ANY,
        ) {
            let mut spans: Vec<Span> = spans
                .into_iter()
                .enumerate()
                .map(|(i, mut s)| {
                    s.trace_id = [(i as u8) % traces; 16];
                    s.name = s.name.chars().take(2).collect();
                    // OTLP attribute keys are unique per span.
                    let mut seen = std::collections::HashSet::new();
                    s.attrs.retain(|a| seen.insert(a.key.clone()));
                    s.end_ns = s.start_ns.wrapping_add((i as i64 * 97) % 2_000);
                    s
                })
                .collect();
            spans.sort_by_key(|s| (s.trace_id, s.start_ns));
            let refs: Vec<&Span> = spans.iter().collect();
            let dir = tempfile::tempdir().unwrap();
            // Small row groups and pages: reads select pages.
            let opts = WriterOptions { row_group_bytes: 300, page_bytes: 64, ..WriterOptions::default() };
            let w = write_segment(dir.path(), &refs, &opts).unwrap().unwrap();
            let holds = |h: &SpanHint, s: &Span| match h {
                SpanHint::Service(x) => s.origin.service == *x,
                SpanHint::Name(x) => s.name == *x,
                SpanHint::MinDuration(d) => s.end_ns.wrapping_sub(s.start_ns) as u64 >= *d,
                SpanHint::MaxDuration(d) => s.end_ns.wrapping_sub(s.start_ns) as u64 <= *d,
                SpanHint::Error => s.status == StatusCode::Error,
            };
            let want: Vec<&Span> = spans
                .iter()
                .filter(|s| {
                    let t: Vec<&Span> = spans.iter().filter(|x| x.trace_id == s.trace_id).collect();
                    if same_span {
                        t.iter().any(|x| hints.iter().all(|h| holds(h, x)))
                    } else {
                        hints.iter().all(|h| t.iter().any(|x| holds(h, x)))
                    }
                })
                .collect();
            let data = DataFile::open(&dir.path().join(DATA_FILE)).unwrap();
            let (mut got, mut intrinsics) = (Vec::new(), Vec::new());
            // Through caches: one keeping everything (read twice: the
            // second from memory), one too small to keep much.
            let (big, small) = (ColumnCache::new(1 << 30), ColumnCache::new(300));
            let mut cached = vec![Vec::new(); 3];
            for rg in 0..w.index.row_groups.len() {
                got.extend(read_row_group_where(&data, &w.index.origins, rg, &hints, same_span, SpanFields::All, None).unwrap());
                intrinsics.extend(read_row_group_where(&data, &w.index.origins, rg, &hints, same_span, SpanFields::Intrinsics, None).unwrap());
                for (i, c) in [&big, &big, &small].into_iter().enumerate() {
                    cached[i].extend(read_row_group_where(&data, &w.index.origins, rg, &hints, same_span, SpanFields::Intrinsics, Some(c)).unwrap());
                }
            }
            prop_assert!(big.counters.hits.get() > 0);
            for c in cached {
                prop_assert_eq!(&c, &intrinsics);
            }
            prop_assert_eq!(got.len(), want.len());
            prop_assert_eq!(intrinsics.len(), want.len());
            for ((g, i), s) in got.into_iter().zip(intrinsics).zip(want) {
                prop_assert_eq!(normalized(g), normalized(s.clone()));
                // What a read of intrinsics leaves out.
                let bare = Span {
                    attrs: Vec::new(),
                    events: Vec::new(),
                    links: Vec::new(),
                    trace_state: String::new(),
                    flags: 0,
                    dropped_attrs: 0,
                    dropped_events: 0,
                    dropped_links: 0,
                    ..s.clone()
                };
                prop_assert_eq!(i, bare);
            }
        }

        /// Spans written to a segment read back the same (attributes by key),
        /// whether their attributes got columns or stayed in `attrs`.
        #[test]
        fn spans_round_trip_through_a_segment(
            spans in proptest::collection::vec(span_strategy(origins()), 1..40),
            attr_columns in 0usize..6,
        ) {
            // Few distinct keys, so that spans share them (and their
            // columns), sometimes with another type; keys unique per span.
            let mut spans: Vec<Span> = spans
                .into_iter()
                .map(|mut s| {
                    for a in &mut s.attrs {
                        a.key.truncate(1);
                    }
                    let mut seen = std::collections::HashSet::new();
                    s.attrs.retain(|a| seen.insert(a.key.clone()));
                    s
                })
                .collect();
            spans.sort_by_key(|s| (s.trace_id, s.start_ns));
            let refs: Vec<&Span> = spans.iter().collect();
            let dir = tempfile::tempdir().unwrap();
            let opts = WriterOptions {
                attr_columns,
                attr_column_share: 0.0,
                row_group_bytes: 2_000,
                ..WriterOptions::default()
            };
            let w = write_segment(dir.path(), &refs, &opts).unwrap().unwrap();
            prop_assert!(w.attr_columns.len() <= attr_columns);
            let back = read_spans(&DataFile::open(&dir.path().join(DATA_FILE)).unwrap(), &w.index.origins).unwrap();
            let want: Vec<Span> = spans.into_iter().map(normalized).collect();
            let got: Vec<Span> = back.into_iter().map(normalized).collect();
            prop_assert_eq!(&got, &want);
            // Each trace by id: its spans, from its row groups only; the
            // index read back from its file.
            let index = SegmentIndex::decode(&std::fs::read(dir.path().join(INDEX_FILE)).unwrap()).unwrap();
            prop_assert_eq!(&index, &w.index);
            let mut ids: Vec<TraceId> = want.iter().map(|s| s.trace_id).collect();
            ids.dedup();
            for id in ids {
                let trace: Vec<Span> = read_trace(&DataFile::open(&dir.path().join(DATA_FILE)).unwrap(), &index, &id)
                    .unwrap()
                    .into_iter()
                    .map(normalized)
                    .collect();
                let expect: Vec<&Span> = want.iter().filter(|s| s.trace_id == id).collect();
                prop_assert_eq!(trace.iter().collect::<Vec<_>>(), expect);
            }
            let absent = [0xee; 16];
            if !want.iter().any(|s| s.trace_id == absent) {
                prop_assert!(read_trace(&DataFile::open(&dir.path().join(DATA_FILE)).unwrap(), &index, &absent).unwrap().is_empty());
            }
        }
    }

    #[test]
    fn an_origin_out_of_range_is_an_error() {
        let s = Span {
            origin: origins()[0].clone(),
            trace_id: [1; 16],
            span_id: [2; 8],
            ..Span::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let w = write_segment(dir.path(), &[&s], &WriterOptions::default())
            .unwrap()
            .unwrap();
        assert_eq!(w.index.origins.len(), 1);
        let e = read_spans(&DataFile::open(&dir.path().join(DATA_FILE)).unwrap(), &[]).unwrap_err();
        assert!(e.to_string().contains("bad column origin"), "{e}");
    }
}
