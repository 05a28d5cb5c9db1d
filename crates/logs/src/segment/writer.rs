//! Writes a segment's `data.parquet` and `index` from entries sorted by
//! stream then time (a flush of the in-memory streams, or a merge of
//! segments), one row group at a time: memory is one row group's arrays.

use super::index::{RowGroupIndex, SegmentIndex, StreamIndex};
use super::{var_column, DATA_FILE, INDEX_FILE, TEMPLATE_COLUMN};
use crate::ngram::TrigramSet;
use crate::template::{self, MAX_VARS};
use argus_model::{Labels, LogEntry};
use argus_store::JsonExtractor;
use arrow_array::builder::{MapBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::borrow::Borrow;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// How a segment is laid out.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// A row group is closed once its lines and metadata reach this many
    /// bytes (uncompressed): the unit the time and n-gram indexes skip.
    pub row_group_bytes: usize,
    /// zstd level of the Parquet pages. 1: on the benchmark's corpus
    /// (`argus-bench logs`) its pages came out 2 % smaller than at level 3,
    /// and the segment was written 15 % faster.
    pub zstd_level: i32,
    /// Store lines as template and variables (`docs/format/logs.md`);
    /// else whole in `line`, as a reader of either expects.
    pub split_lines: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            row_group_bytes: 4 << 20,
            zstd_level: 1,
            split_lines: true,
        }
    }
}

/// What a written segment holds.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub index: SegmentIndex,
    pub entries: u64,
    pub raw_bytes: u64,
    /// Bytes of `data.parquet` and `index`.
    pub file_bytes: u64,
    /// Oldest and newest entry (ns).
    pub min_ts: i64,
    pub max_ts: i64,
    /// The `json:<key>` columns written.
    pub json_keys: Vec<String>,
    /// Per stream (index order): did every entry yield every JSON key?
    pub json_complete: Vec<bool>,
}

impl Written {
    /// The streams every entry of which has a value in each `json:`
    /// column (`SegmentMeta::json_streams`).
    pub fn json_streams(&self) -> Vec<u32> {
        (0u32..)
            .zip(&self.json_complete)
            .filter(|(_, &c)| c)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Top-level JSON members to keep as columns `json:<key>` beside the
/// lines: a row holds the value `| json key="key"` gives its line, or null
/// when the stage would not give one (the line is not a JSON object).
pub struct JsonColumns {
    /// Sorted, distinct.
    pub keys: Vec<String>,
    pub extractor: Box<dyn JsonExtractor>,
}

impl std::fmt::Debug for JsonColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonColumns")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// The column holding top-level JSON member `key`.
pub fn json_column(key: &str) -> String {
    format!("json:{key}")
}

/// A row's structured metadata, as the writer is handed it.
#[derive(Debug, Clone)]
pub enum Metadata<'a> {
    /// An entry's pairs.
    Pairs(&'a [(String, String)]),
    /// Entries `range` of a segment's metadata map (its keys and values).
    Columns {
        keys: &'a StringArray,
        values: &'a StringArray,
        range: Range<usize>,
    },
}

impl<'a> Metadata<'a> {
    /// The (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let (pairs, columns) = match self {
            Metadata::Pairs(p) => (*p, None),
            Metadata::Columns {
                keys,
                values,
                range,
            } => (&[][..], Some((*keys, *values, range.clone()))),
        };
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(
            columns
                .into_iter()
                .flat_map(|(k, v, r)| r.map(move |i| (k.value(i), v.value(i)))),
        )
    }
}

/// The values of a row's `json:` columns, as the writer is handed them.
#[derive(Debug, Clone, Copy)]
pub enum JsonValues<'a> {
    /// Unknown: the writer extracts them from the line.
    Extract,
    /// The line gives none (all null).
    Absent,
    /// Row `.1` of columns of the segment's keys, in order (all valid).
    Columns(&'a [StringArray], usize),
}

/// One row to write, borrowed from where it is read.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub labels: &'a Arc<Labels>,
    pub ts: i64,
    /// The whole line.
    pub line: &'a str,
    /// Its template and the byte ranges of its variables in `line`, when
    /// known (a merge reads them); else the writer splits `line`.
    pub split: Option<(&'a str, &'a [Range<usize>])>,
    pub metadata: Metadata<'a>,
    pub json: JsonValues<'a>,
}

impl Row<'_> {
    /// Bytes of the line and metadata ([`LogEntry::size`]).
    fn size(&self) -> usize {
        self.line.len()
            + self
                .metadata
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }
}

/// Where a segment's rows come from, one at a time (each borrowed until
/// the next), sorted by labels then time, each label set's rows
/// contiguous.
pub trait Rows {
    fn next_row(&mut self) -> io::Result<Option<Row<'_>>>;
}

/// [`Rows`] of entries.
struct EntryRows<I, E> {
    entries: I,
    current: Option<(Arc<Labels>, E)>,
}

impl<I, E> Rows for EntryRows<I, E>
where
    I: Iterator<Item = io::Result<(Arc<Labels>, E)>>,
    E: Borrow<LogEntry>,
{
    fn next_row(&mut self) -> io::Result<Option<Row<'_>>> {
        self.current = self.entries.next().transpose()?;
        Ok(self.current.as_ref().map(|(labels, e)| {
            let e = e.borrow();
            Row {
                labels,
                ts: e.ts_ns,
                line: &e.line,
                split: None,
                metadata: Metadata::Pairs(&e.metadata),
                json: JsonValues::Extract,
            }
        }))
    }
}

/// A row's values of the `json:` columns, resolved.
enum JsonRow<'a> {
    Null,
    Strings(&'a [String]),
    Columns(&'a [StringArray], usize),
}

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8192;

pub(crate) fn schema(json_keys: &[String]) -> SchemaRef {
    let map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()).finish();
    let mut fields = vec![
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new(
            "stream",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("line", DataType::Utf8, true),
        Field::new(
            TEMPLATE_COLUMN,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
    ];
    fields.extend((0..MAX_VARS).map(|k| Field::new(var_column(k), DataType::Utf8, true)));
    fields.push(Field::new(
        "metadata",
        arrow_array::Array::data_type(&map).clone(),
        false,
    ));
    fields.extend(
        json_keys
            .iter()
            .map(|k| Field::new(json_column(k), DataType::Utf8, true)),
    );
    Arc::new(Schema::new(fields))
}

/// Rows of a row group, in entry order.
struct Batch {
    ts: Vec<i64>,
    stream: StringDictionaryBuilder<Int32Type>,
    /// The line when it is not split, else null.
    line: StringBuilder,
    /// The line's template when split, else null.
    template: StringDictionaryBuilder<Int32Type>,
    /// Variable `k` of a split line, null past its last. (Empty strings
    /// in place of nulls came out 0.9% bigger on the benchmark's corpus.)
    vars: Vec<StringBuilder>,
    /// Nulls each of `vars` is owed, appended in one call before its next
    /// value (or at the batch's end): most rows fill few variables.
    var_nulls: Vec<usize>,
    metadata: MapBuilder<StringBuilder, StringBuilder>,
    json: Vec<StringBuilder>,
    rows: usize,
    split_lines: bool,
    /// Per template key of the batch: are its pieces' trigrams added?
    trigrams_added: Vec<bool>,
    /// Scratch of [`template::split`].
    tpl: String,
    spans: Vec<Range<usize>>,
}

impl Batch {
    fn new(json_keys: usize, split_lines: bool) -> Self {
        Batch {
            split_lines,
            trigrams_added: Vec::new(),
            json: (0..json_keys).map(|_| StringBuilder::new()).collect(),
            ts: Vec::with_capacity(BATCH_ROWS),
            stream: StringDictionaryBuilder::new(),
            line: StringBuilder::new(),
            template: StringDictionaryBuilder::new(),
            vars: (0..MAX_VARS).map(|_| StringBuilder::new()).collect(),
            var_nulls: vec![0; MAX_VARS],
            metadata: MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
            rows: 0,
            tpl: String::new(),
            spans: Vec::new(),
        }
    }

    /// Adds a row, and its line's trigrams to `trigrams`; `json`: its JSON
    /// members' values.
    fn push(
        &mut self,
        stream: &str,
        row: &Row<'_>,
        json: JsonRow<'_>,
        trigrams: &mut TrigramSet,
    ) -> io::Result<()> {
        match json {
            JsonRow::Strings(values) => {
                for (b, v) in self.json.iter_mut().zip(values) {
                    b.append_value(v);
                }
            }
            JsonRow::Columns(cols, i) => {
                for (b, c) in self.json.iter_mut().zip(cols) {
                    b.append_value(c.value(i));
                }
            }
            JsonRow::Null => self.json.iter_mut().for_each(|b| b.append_null()),
        }
        self.ts.push(row.ts);
        self.stream.append_value(stream);
        let (mut tpl, mut spans) = (
            std::mem::take(&mut self.tpl),
            std::mem::take(&mut self.spans),
        );
        let split = match row.split {
            Some(known) => Some(known),
            None if self.split_lines && template::split(row.line, &mut tpl, &mut spans) => {
                Some((tpl.as_str(), &spans[..]))
            }
            None => None,
        };
        let pushed = match split.filter(|_| self.split_lines) {
            Some((tpl, spans)) => self.push_split(row.line, tpl, spans, trigrams),
            None => {
                self.line.append_value(row.line);
                self.template.append_null();
                self.var_nulls.iter_mut().for_each(|n| *n += 1);
                Ok(())
            }
        };
        (self.tpl, self.spans) = (tpl, spans);
        pushed?;
        for (n, v) in row.metadata.iter() {
            self.metadata.keys().append_value(n);
            self.metadata.values().append_value(v);
        }
        self.metadata.append(true).map_err(io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Adds `line` as its template `tpl` and the variables at `spans`.
    fn push_split(
        &mut self,
        line: &str,
        tpl: &str,
        spans: &[Range<usize>],
        trigrams: &mut TrigramSet,
    ) -> io::Result<()> {
        self.line.append_null();
        let key = self.template.append(tpl).map_err(io::Error::other)?;
        // The line's trigrams: those within the template's pieces once
        // per template in the batch, and per row those that overlap a
        // variable; together, every window of the line.
        let key = usize::try_from(key).map_err(io::Error::other)?;
        if self.trigrams_added.len() <= key {
            self.trigrams_added.resize(key + 1, false);
        }
        if !self.trigrams_added[key] {
            self.trigrams_added[key] = true;
            for piece in tpl.split(template::MARK) {
                trigrams.add_line(piece.as_bytes());
            }
        }
        let bytes = line.as_bytes();
        for r in spans {
            trigrams.add_line(&bytes[r.start.saturating_sub(2)..(r.end + 2).min(bytes.len())]);
        }
        for (k, (b, nulls)) in self.vars.iter_mut().zip(&mut self.var_nulls).enumerate() {
            match spans.get(k) {
                Some(r) => {
                    b.append_nulls(std::mem::take(nulls));
                    b.append_value(&line[r.clone()]);
                }
                None => *nulls += 1,
            }
        }
        Ok(())
    }

    fn finish(&mut self, schema: &SchemaRef) -> io::Result<RecordBatch> {
        let ts = TimestampNanosecondArray::from(std::mem::take(&mut self.ts)).with_timezone("UTC");
        self.trigrams_added.clear();
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(ts),
            Arc::new(self.stream.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.template.finish()),
        ];
        cols.extend(
            self.vars
                .iter_mut()
                .zip(&mut self.var_nulls)
                .map(|(b, nulls)| {
                    b.append_nulls(std::mem::take(nulls));
                    Arc::new(b.finish()) as ArrayRef
                }),
        );
        cols.push(Arc::new(self.metadata.finish()));
        cols.extend(
            self.json
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), cols).map_err(io::Error::other)
    }
}

fn properties(opts: &WriterOptions) -> io::Result<WriterProperties> {
    let level = ZstdLevel::try_new(opts.zstd_level).map_err(io::Error::other)?;
    let mut b = WriterProperties::builder();
    // As `line`: measured so (`examples/line_templates.rs`). No
    // statistics for the line columns: no reader uses them.
    for k in 0..MAX_VARS {
        let col = ColumnPath::from(var_column(k));
        b = b
            .set_column_dictionary_enabled(col.clone(), false)
            .set_column_statistics_enabled(col.clone(), EnabledStatistics::None)
            .set_column_encoding(col, Encoding::DELTA_LENGTH_BYTE_ARRAY);
    }
    for col in ["line", TEMPLATE_COLUMN] {
        b = b.set_column_statistics_enabled(ColumnPath::from(col), EnabledStatistics::None);
    }
    Ok(b.set_compression(Compression::ZSTD(level))
        .set_max_row_group_size(usize::MAX)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_column_dictionary_enabled(ColumnPath::from("timestamp"), false)
        .set_column_encoding(ColumnPath::from("timestamp"), Encoding::DELTA_BINARY_PACKED)
        // Bit-packed deltas of nanosecond times: zstd made them no smaller
        // on the benchmark's corpus, only slower to read.
        .set_column_compression(ColumnPath::from("timestamp"), Compression::UNCOMPRESSED)
        .set_column_dictionary_enabled(ColumnPath::from("line"), false)
        // Lengths apart from the text: zstd sees only the lines.
        .set_column_encoding(ColumnPath::from("line"), Encoding::DELTA_LENGTH_BYTE_ARRAY)
        .build())
}

/// Writes `entries` (sorted by labels, then time; each label set's entries
/// contiguous) as a segment's data and index files in `dir`, with `json`'s
/// columns. `None` when there are no entries.
pub fn write_segment<E: Borrow<LogEntry>>(
    dir: &Path,
    entries: impl Iterator<Item = io::Result<(Arc<Labels>, E)>>,
    opts: &WriterOptions,
    json: Option<&JsonColumns>,
) -> io::Result<Option<Written>> {
    let mut rows = EntryRows {
        entries,
        current: None,
    };
    write_rows(dir, &mut rows, opts, json)
}

/// [`write_segment`] of [`Rows`]: a row's parts already known (a split
/// line's template, its JSON values) are written as they are.
pub fn write_rows(
    dir: &Path,
    rows: &mut impl Rows,
    opts: &WriterOptions,
    json: Option<&JsonColumns>,
) -> io::Result<Option<Written>> {
    let json_keys: &[String] = json.map_or(&[], |j| &j.keys);
    let mut values: Vec<String> = Vec::new();
    std::fs::create_dir_all(dir)?;
    let data_path = dir.join(DATA_FILE);
    let file = std::fs::File::create(&data_path)?;
    let schema = schema(json_keys);
    let mut writer = ArrowWriter::try_new(
        io::BufWriter::with_capacity(1 << 20, file),
        schema.clone(),
        Some(properties(opts)?),
    )
    .map_err(io::Error::other)?;

    let mut out = Written {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        json_keys: json_keys.to_vec(),
        ..Written::default()
    };
    let mut batch = Batch::new(json_keys.len(), opts.split_lines);
    let mut trigrams = TrigramSet::default();
    let mut rg = RowGroupIndex {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        rows: 0,
        first_stream: 0,
        last_stream: 0,
        filter: None,
    };
    let mut rg_bytes = 0usize;
    let mut stream_text = String::new();
    let mut current: Option<Arc<Labels>> = None;

    while let Some(row) = rows.next_row()? {
        let labels = row.labels;
        // The same `Arc` for a stream's entries, as a flush and a merge
        // hand them: one pointer comparison per entry, not the labels'.
        let same = current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, labels) || **c == **labels);
        if !same {
            if let Some(prev) = &current {
                if **prev > **labels {
                    return Err(io::Error::other("segment entries out of stream order"));
                }
            }
            out.index.streams.push(StreamIndex {
                labels: labels.clone(),
                min_ts: i64::MAX,
                max_ts: i64::MIN,
                entries: 0,
                bytes: 0,
                first_rg: out.index.row_groups.len() as u32,
                last_rg: out.index.row_groups.len() as u32,
            });
            stream_text = labels.to_string();
            out.json_complete.push(json.is_some());
            current = Some(labels.clone());
            if rg.rows == 0 {
                rg.first_stream = out.index.streams.len() as u32 - 1;
            }
        }
        let (ts, size) = (row.ts, row.size());
        let ordinal = out.index.streams.len() as u32 - 1;
        let s = out.index.streams.last_mut().expect("a stream");
        s.min_ts = s.min_ts.min(ts);
        s.max_ts = s.max_ts.max(ts);
        s.entries += 1;
        s.bytes += size as u64;
        s.last_rg = out.index.row_groups.len() as u32;
        rg.min_ts = rg.min_ts.min(ts);
        rg.max_ts = rg.max_ts.max(ts);
        rg.rows += 1;
        rg.last_stream = ordinal;
        rg_bytes += size;
        out.entries += 1;
        out.raw_bytes += size as u64;
        out.min_ts = out.min_ts.min(ts);
        out.max_ts = out.max_ts.max(ts);
        let fields = match (json, row.json) {
            (None, _) => JsonRow::Null,
            (Some(j), JsonValues::Extract) if j.extractor.values(row.line, &mut values) => {
                JsonRow::Strings(&values)
            }
            (Some(j), JsonValues::Columns(cols, i)) if cols.len() == j.keys.len() => {
                JsonRow::Columns(cols, i)
            }
            (Some(_), JsonValues::Columns(..)) => {
                return Err(io::Error::other("JSON columns of another set of keys"))
            }
            (Some(_), JsonValues::Extract | JsonValues::Absent) => {
                if let Some(c) = out.json_complete.last_mut() {
                    *c = false;
                }
                JsonRow::Null
            }
        };
        batch.push(&stream_text, &row, fields, &mut trigrams)?;
        if batch.rows >= BATCH_ROWS {
            let b = batch.finish(&schema)?;
            writer.write(&b).map_err(io::Error::other)?;
        }
        if rg_bytes >= opts.row_group_bytes {
            if batch.rows > 0 {
                let b = batch.finish(&schema)?;
                writer.write(&b).map_err(io::Error::other)?;
            }
            writer.flush().map_err(io::Error::other)?;
            rg.filter = Some(trigrams.take_filter());
            out.index.row_groups.push(rg.clone());
            rg = RowGroupIndex {
                min_ts: i64::MAX,
                max_ts: i64::MIN,
                rows: 0,
                first_stream: ordinal,
                last_stream: ordinal,
                filter: None,
            };
            rg_bytes = 0;
        }
    }
    if out.entries == 0 {
        drop(writer);
        std::fs::remove_file(&data_path)?;
        return Ok(None);
    }
    if batch.rows > 0 {
        let b = batch.finish(&schema)?;
        writer.write(&b).map_err(io::Error::other)?;
    }
    if rg.rows > 0 {
        writer.flush().map_err(io::Error::other)?;
        rg.filter = Some(trigrams.take_filter());
        out.index.row_groups.push(rg);
    }
    let file = writer.into_inner().map_err(io::Error::other)?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let data_bytes = file.metadata()?.len();

    let mut index = Vec::new();
    out.index.encode(&mut index);
    let index_path = dir.join(INDEX_FILE);
    std::fs::write(&index_path, &index)?;
    std::fs::File::open(&index_path)?.sync_all()?;
    out.file_bytes = data_bytes + index.len() as u64;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A split line adds the same trigrams as the whole line: its
        /// template's pieces (once per template) and the windows around
        /// its variables make every window of the line.
        #[test]
        fn split_lines_add_the_trigrams_of_the_whole_lines(
            lines in proptest::collection::vec("(\\PC|[0-9./:_+-]|[a-z ]){0,60}", 1..40),
        ) {
            let mut whole = TrigramSet::default();
            for l in &lines {
                whole.add_line(l.as_bytes());
            }
            let mut split = TrigramSet::default();
            let mut b = Batch::new(0, true);
            for l in &lines {
                let labels = Arc::new(Labels::default());
                let row = Row {
                    labels: &labels,
                    ts: 0,
                    line: l,
                    split: None,
                    metadata: Metadata::Pairs(&[]),
                    json: JsonValues::Extract,
                };
                b.push("{}", &row, JsonRow::Null, &mut split).unwrap();
            }
            prop_assert_eq!(split.len(), whole.len());
            prop_assert_eq!(split.take_filter(), whole.take_filter());
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;

    /// A flush of the benchmark's corpus (run by hand, after `argus-bench
    /// logs --corpus-dir DIR`: `FLUSH_CORPUS=DIR/corpus.tsv cargo test
    /// --release -p argus-logs flush_corpus -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn flush_corpus() {
        use std::io::BufRead;
        let path = std::env::var("FLUSH_CORPUS").expect("FLUSH_CORPUS");
        let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let mut streams: std::collections::HashMap<String, Arc<Labels>> = Default::default();
        let mut entries = Vec::new();
        let mut bytes = 0;
        for l in f.lines().take(800_000) {
            let l = l.unwrap();
            let c: Vec<&str> = l.splitn(8, '\t').collect();
            let labels = streams
                .entry(c[1].to_string())
                .or_insert_with(|| {
                    Arc::new(Labels::from_pairs([
                        ("service_name", c[2]),
                        ("namespace", c[3]),
                        ("pod", c[4]),
                        ("job", c[5]),
                        ("level", c[6]),
                    ]))
                })
                .clone();
            let mut e = LogEntry::new(c[0].parse().unwrap(), c[7]);
            e.metadata.push(("detected_level".into(), c[6].into()));
            bytes += c[7].len();
            entries.push((labels, e));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ts_ns.cmp(&b.1.ts_ns)));
        let mut best = [f64::MAX; 2];
        for rep in 0..8 {
            let split_lines = rep % 2 == 0;
            let opts = WriterOptions {
                split_lines,
                ..WriterOptions::default()
            };
            let dir = tempfile::tempdir().unwrap();
            let t = std::time::Instant::now();
            let w = write_segment(
                dir.path(),
                entries.iter().map(|(l, e)| Ok((l.clone(), e))),
                &opts,
                None,
            )
            .unwrap()
            .unwrap();
            let el = t.elapsed();
            best[rep % 2] = best[rep % 2].min(el.as_secs_f64());
            eprintln!(
                "split {split_lines}: {} MB raw in {el:?} = {:.0} MB/s; {} bytes ({:.4} of raw); best {:.3} s split, {:.3} s whole",
                bytes / 1_000_000,
                bytes as f64 / 1e6 / el.as_secs_f64(),
                w.file_bytes,
                w.file_bytes as f64 / bytes as f64,
                best[0], best[1],
            );
            if rep < 2 {
                let f = std::fs::File::open(dir.path().join(DATA_FILE)).unwrap();
                let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
                let md = parquet::file::reader::FileReader::metadata(&r);
                let mut sizes: std::collections::BTreeMap<String, i64> = Default::default();
                for rg in md.row_groups() {
                    for c in rg.columns() {
                        *sizes.entry(c.column_path().string()).or_default() += c.compressed_size();
                    }
                }
                eprintln!("  {sizes:?}");
            }
            let meta = super::super::tests::meta(&w);
            let seg = Arc::new(
                super::super::SegmentReader::open(
                    meta,
                    w.index.clone(),
                    dir.path().join(DATA_FILE),
                )
                .unwrap(),
            );
            for skip in [true, false] {
                let t = std::time::Instant::now();
                let mut stats = argus_store::ScanStats::default();
                let plan = seg.plan(&[], i64::MIN, i64::MAX, &[], &mut stats).unwrap();
                let mut scan = seg.scan(plan, i64::MIN, i64::MAX, argus_store::Direction::Forward);
                scan.skip_lines(skip);
                let mut n = 0;
                if skip {
                    while let Some(b) = scan.next_runs().unwrap() {
                        n += b.runs.iter().map(|r| r.ts_ns.len()).sum::<usize>();
                    }
                } else {
                    while let Some(b) = scan.next_batch().unwrap() {
                        n += b.entries.len();
                    }
                }
                eprintln!("  scan skip_lines={skip}: {n} in {:?}", t.elapsed());
            }
        }
    }

    /// Where a flush's time goes (run by hand: `cargo test --release -p
    /// argus-logs flush_cost -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn flush_cost() {
        let mut entries = Vec::new();
        let streams: Vec<Arc<Labels>> = (0..300)
            .map(|i| {
                Arc::new(Labels::from_pairs([
                    ("job", "bench"),
                    ("pod", &format!("pod-{i}")),
                    ("service_name", &format!("svc-{}", i % 20)),
                ]))
            })
            .collect();
        let mut bytes = 0;
        let mut x: u64 = 1;
        for s in &streams {
            for j in 0..1500 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let line = format!(
                    r#"{{"ts":"2026-12-05T10:{:02}:{:02}Z","level":"info","msg":"request done","trace_id":"{:032x}","status":{},"path":"/api/v1/items/{}","duration_ms":{}}}"#,
                    j / 60 % 60,
                    j % 60,
                    x as u128 * 0x9E37_79B9,
                    if x.is_multiple_of(50) { 500 } else { 200 },
                    x % 200,
                    x % 1000
                );
                bytes += line.len();
                let mut e = LogEntry::new(1_700_000_000_000_000_000 + j * 1_000_000_000, line);
                e.metadata.push(("detected_level".into(), "info".into()));
                entries.push((s.clone(), e));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ts_ns.cmp(&b.1.ts_ns)));
        for (name, opts) in [
            ("default", WriterOptions::default()),
            (
                "zstd 3",
                WriterOptions {
                    zstd_level: 3,
                    ..Default::default()
                },
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let t = std::time::Instant::now();
            let w = write_segment(dir.path(), entries.iter().cloned().map(Ok), &opts, None)
                .unwrap()
                .unwrap();
            let el = t.elapsed();
            eprintln!(
                "{name}: {} MB raw in {:?} = {:.0} MB/s; {} bytes ({:.3} of raw), index {} bytes",
                bytes / 1_000_000,
                el,
                bytes as f64 / 1e6 / el.as_secs_f64(),
                w.file_bytes,
                w.file_bytes as f64 / bytes as f64,
                std::fs::metadata(dir.path().join(INDEX_FILE))
                    .unwrap()
                    .len()
            );
        }
        let t = std::time::Instant::now();
        let mut set = TrigramSet::default();
        for (_, e) in &entries {
            set.add_line(e.line.as_bytes());
        }
        let _ = set.take_filter();
        eprintln!("trigrams alone: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let (mut tpl, mut spans, mut n) = (String::new(), Vec::new(), 0);
        for (_, e) in &entries {
            n += usize::from(template::split(&e.line, &mut tpl, &mut spans));
        }
        eprintln!("split alone: {:?} ({n})", t.elapsed());
        let t = std::time::Instant::now();
        let n: usize = entries.iter().map(|(_, e)| e.clone().line.len()).sum();
        eprintln!("clone alone: {:?} ({n})", t.elapsed());
    }
}
