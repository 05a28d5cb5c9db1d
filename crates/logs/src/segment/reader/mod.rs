//! Reads an installed segment: its index in memory, its Parquet data read
//! one row group at a time, only the row groups the indexes cannot rule out
//! (time range, matching streams, trigram filters of `|=` needles).

mod columns;

use super::index::SegmentIndex;
use super::SegmentMeta;
use super::{is_line_column, json_column, var_column, TEMPLATE_COLUMN};
use crate::template::MAX_VARS;
use argus_model::{Labels, LogEntry, Matcher};
use argus_store::{json_object, Direction, EntryRun, LogBatch, RunBatch, ScanStats};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
#[cfg(test)]
pub(super) use columns::join_lines;
pub(super) use columns::join_row;
use columns::{push_line, Columns};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection,
};
use parquet::arrow::ProjectionMask;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Rows per Arrow batch of a scan that skips lines: few large batches.
const SCAN_BATCH_ROWS: usize = 8192;

/// Rows per Arrow batch of a scan reading lines: smaller, so that a batch
/// spans fewer pages of the `line` column and the reader's line buffer,
/// grown for each page, is copied less (measured on JSON lines of
/// ~250 bytes: a metric query over every line ~5% faster than with 8192).
const LINE_SCAN_BATCH_ROWS: usize = 2048;

/// Entries per batch handed to the engine.
const BATCH_ENTRIES: usize = 4096;

/// An installed segment.
#[derive(Debug)]
pub struct SegmentReader {
    pub meta: SegmentMeta,
    pub index: SegmentIndex,
    data: PathBuf,
    parquet: ArrowReaderMetadata,
    /// A stream's label text (the `stream` column) → its ordinal.
    ordinals: HashMap<String, u32>,
    /// Per stream: has every entry a value in every `json:` column?
    json_complete: Vec<bool>,
    /// Has the data `template` and `var<k>` columns (version 2)?
    templated: bool,
}

/// Which row groups of a segment a query reads and which streams it wants.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub row_groups: Vec<usize>,
    pub wanted: Vec<bool>,
}

impl SegmentReader {
    /// Opens a segment whose data file is at `data` (local).
    pub fn open(meta: SegmentMeta, index: SegmentIndex, data: PathBuf) -> io::Result<Self> {
        let file = std::fs::File::open(&data)?;
        // The page (offset) index lets a row selection skip whole pages.
        let parquet =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new().with_page_index(true))
                .map_err(io::Error::other)?;
        if parquet.metadata().num_row_groups() != index.row_groups.len() {
            return Err(io::Error::other(format!(
                "{}: {} row groups, the index lists {}",
                data.display(),
                parquet.metadata().num_row_groups(),
                index.row_groups.len()
            )));
        }
        let ordinals = index
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| (s.labels.to_string(), i as u32))
            .collect();
        let mut json_complete = vec![false; index.streams.len()];
        for &o in &meta.json_streams {
            if let Some(c) = json_complete.get_mut(o as usize) {
                *c = true;
            }
        }
        let templated = parquet
            .schema()
            .fields()
            .iter()
            .any(|f| f.name() == TEMPLATE_COLUMN);
        Ok(SegmentReader {
            meta,
            index,
            data,
            parquet,
            ordinals,
            json_complete,
            templated,
        })
    }

    /// The ordinal of the stream of label text `labels` (the `stream`
    /// column's values).
    pub(in crate::segment) fn ordinal(&self, labels: &str) -> Option<u32> {
        self.ordinals.get(labels).copied()
    }

    /// The local path of `data.parquet`.
    pub(in crate::segment) fn data_path(&self) -> &std::path::Path {
        &self.data
    }

    /// Its Parquet metadata, read once.
    pub(in crate::segment) fn parquet_metadata(&self) -> &ArrowReaderMetadata {
        &self.parquet
    }

    /// True when the segment may hold entries in [start_ns, end_ns).
    pub fn overlaps(&self, start_ns: i64, end_ns: i64) -> bool {
        let (min_ms, max_ms) = (self.meta.min_time, self.meta.max_time);
        // max_time is exclusive in ms: entries are < max_ms * 1e6.
        start_ns < max_ms.saturating_mul(1_000_000) && end_ns > min_ms.saturating_mul(1_000_000)
    }

    /// Streams whose labels match every matcher and who have entries in
    /// [start_ns, end_ns).
    pub fn matching_streams(&self, matchers: &[Matcher], start_ns: i64, end_ns: i64) -> Vec<bool> {
        self.index
            .streams
            .iter()
            .map(|s| {
                s.min_ts < end_ns
                    && s.max_ts >= start_ns
                    && matchers
                        .iter()
                        .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .collect()
    }

    /// The row groups a query must read; `None` when no stream matches.
    pub fn plan(
        &self,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
        required: &[String],
        stats: &mut ScanStats,
    ) -> Option<ScanPlan> {
        stats.segments_total += 1;
        let wanted = self.matching_streams(matchers, start_ns, end_ns);
        if !wanted.iter().any(|&w| w) {
            stats.segments_skipped_streams += 1;
            return None;
        }
        let mut row_groups = Vec::new();
        for (i, rg) in self.index.row_groups.iter().enumerate() {
            let streams = &wanted[rg.first_stream as usize..=rg.last_stream as usize];
            if !streams.iter().any(|&w| w) {
                continue;
            }
            stats.blocks_total += 1;
            if rg.max_ts < start_ns || rg.min_ts >= end_ns {
                stats.blocks_skipped_time += 1;
                continue;
            }
            if let Some(f) = &rg.filter {
                if !required.iter().all(|n| f.may_contain(n.as_bytes())) {
                    stats.blocks_skipped_bloom += 1;
                    continue;
                }
            }
            row_groups.push(i);
        }
        Some(ScanPlan { row_groups, wanted })
    }

    /// Reads the planned row groups: in stream order for `Forward` (what a
    /// merge of segments relies on), those with the newest entries first
    /// for `Backward`.
    pub fn scan(
        self: &Arc<Self>,
        mut plan: ScanPlan,
        start_ns: i64,
        end_ns: i64,
        direction: Direction,
    ) -> SegmentScan {
        // Newest data first for `Backward`, so a query with a limit fills
        // it early and `bound` skips the rest: a segment's row groups are
        // in stream order, each may span its whole time range.
        if direction == Direction::Backward {
            let rgs = &self.index.row_groups;
            plan.row_groups
                .sort_by_key(|&i| std::cmp::Reverse(rgs.get(i).map_or(i64::MIN, |r| r.max_ts)));
        }
        SegmentScan {
            segment: self.clone(),
            row_groups: plan.row_groups.into(),
            wanted: plan.wanted,
            start_ns,
            end_ns,
            direction,
            reader: None,
            ready: VecDeque::new(),
            ready_ts: VecDeque::new(),
            skip_lines: false,
            bound_ts: None,
            metadata_keys: None,
            has_metadata: true,
            json_keys: None,
            json_now: false,
            stats: ScanStats::default(),
        }
    }

    /// Can row group `rg` give `keys`' values in place of the lines of
    /// the `wanted` streams: kept as columns, and every entry of those
    /// streams has them?
    fn json_ready(&self, rg: usize, wanted: &[bool], keys: &[String]) -> bool {
        let Some(r) = self.index.row_groups.get(rg) else {
            return false;
        };
        keys.iter().all(|k| self.meta.json_keys.contains(k))
            && (r.first_stream..=r.last_stream).all(|o| {
                !wanted.get(o as usize).copied().unwrap_or(false)
                    || self.json_complete.get(o as usize).copied().unwrap_or(false)
            })
    }

    /// Reads row group `rg`; without the `line` column when `skip_lines`
    /// or `json` (then with those `json:` columns), without `metadata`
    /// unless `metadata`.
    fn open_row_group(
        &self,
        rg: usize,
        skip_lines: bool,
        metadata: bool,
        selection: Option<RowSelection>,
        json: Option<&[String]>,
    ) -> io::Result<ParquetRecordBatchReader> {
        let file = std::fs::File::open(&self.data)?;
        let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.parquet.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(if skip_lines || json.is_some() {
                SCAN_BATCH_ROWS
            } else {
                LINE_SCAN_BATCH_ROWS
            });
        if let Some(s) = selection {
            b = b.with_row_selection(s);
        }
        let json_cols: Vec<String> = json
            .unwrap_or_default()
            .iter()
            .map(|k| json_column(k))
            .collect();
        let var_cols: Vec<String> = (0..MAX_VARS).map(var_column).collect();
        if skip_lines || !metadata || json.is_some() || !self.meta.json_keys.is_empty() {
            let mut cols = vec!["timestamp", "stream"];
            if !skip_lines && json.is_none() {
                cols.push("line");
                if self.templated {
                    cols.push(TEMPLATE_COLUMN);
                    cols.extend(var_cols.iter().map(String::as_str));
                }
            }
            if metadata {
                cols.push("metadata");
            }
            cols.extend(json_cols.iter().map(String::as_str));
            let mask = ProjectionMask::columns(
                self.parquet.metadata().file_metadata().schema_descr(),
                cols,
            );
            b = b.with_projection(mask);
        }
        b.build().map_err(io::Error::other)
    }

    /// The rows of row group `rg` a bounded scan still wants (in
    /// `[start, end)`, of a wanted stream, not beyond `bound`), from its
    /// `timestamp` and `stream` columns only; `None` when there is none.
    fn rows_within(
        &self,
        rg: usize,
        wanted: &[bool],
        (start, end): (i64, i64),
        bound: i64,
        direction: Direction,
    ) -> io::Result<Option<RowSelection>> {
        let file = std::fs::File::open(&self.data)?;
        let mask = ProjectionMask::columns(
            self.parquet.metadata().file_metadata().schema_descr(),
            ["timestamp", "stream"],
        );
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.parquet.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(64 * 1024)
            .with_projection(mask)
            .build()
            .map_err(io::Error::other)?;
        let bad = |what: &str| io::Error::other(format!("segment data: bad column {what}"));
        let mut filters = Vec::new();
        let mut any = false;
        for batch in reader {
            let batch = batch.map_err(io::Error::other)?;
            let ts = batch
                .column_by_name("timestamp")
                .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
                .ok_or_else(|| bad("timestamp"))?;
            let stream = batch
                .column_by_name("stream")
                .and_then(|c| c.as_dictionary_opt::<Int32Type>())
                .ok_or_else(|| bad("stream"))?;
            let dict = stream
                .values()
                .as_string_opt::<i32>()
                .ok_or_else(|| bad("stream"))?;
            let want: Vec<bool> = (0..dict.len())
                .map(|i| {
                    self.ordinals
                        .get(dict.value(i))
                        .is_some_and(|&o| wanted.get(o as usize).copied().unwrap_or(false))
                })
                .collect();
            let keys = stream.keys();
            let keep: arrow_array::BooleanArray = (0..batch.num_rows())
                .map(|row| {
                    let t = ts.value(row);
                    let inside = t >= start
                        && t < end
                        && match direction {
                            Direction::Backward => t >= bound,
                            Direction::Forward => t <= bound,
                        };
                    let w = usize::try_from(keys.value(row))
                        .ok()
                        .and_then(|k| want.get(k).copied())
                        .unwrap_or(false);
                    Some(inside && w)
                })
                .collect();
            any |= keep.true_count() > 0;
            filters.push(keep);
        }
        Ok(any.then(|| RowSelection::from_filters(&filters)))
    }

    /// May row group `rg` hold one of `keys` as a metadata key? From the
    /// key column's min and max (any Parquet writer's chunk statistics);
    /// without them, yes.
    fn may_hold_metadata(&self, rg: usize, keys: &[String]) -> bool {
        let Some(meta) = self.parquet.metadata().row_groups().get(rg) else {
            return true;
        };
        let Some(col) = meta.columns().iter().find(|c| {
            c.column_path().parts().first().map(String::as_str) == Some("metadata")
                && c.column_path().parts().last().map(String::as_str) == Some("keys")
        }) else {
            return true;
        };
        let Some(stats) = col.statistics() else {
            return true;
        };
        if stats.null_count_opt() == Some(meta.num_rows() as u64) {
            // Every row's map is empty.
            return false;
        }
        match (stats.min_bytes_opt(), stats.max_bytes_opt()) {
            (Some(min), Some(max)) => keys
                .iter()
                .any(|k| k.as_bytes() >= min && k.as_bytes() <= max),
            _ => true,
        }
    }
}

/// A scan of one segment: batches of entries of one stream.
#[derive(Debug)]
pub struct SegmentScan {
    segment: Arc<SegmentReader>,
    row_groups: VecDeque<usize>,
    wanted: Vec<bool>,
    start_ns: i64,
    end_ns: i64,
    direction: Direction,
    reader: Option<ParquetRecordBatchReader>,
    ready: VecDeque<LogBatch>,
    ready_ts: VecDeque<RunBatch>,
    skip_lines: bool,
    /// Entries beyond this are no longer wanted ([`SegmentScan::bound`]).
    bound_ts: Option<i64>,
    /// Only these metadata keys are wanted (`LogSelect::metadata_keys`).
    metadata_keys: Option<Vec<String>>,
    /// Was the current row group's metadata column read?
    has_metadata: bool,
    /// `LogSelect::json_keys`.
    json_keys: Option<Vec<String>>,
    /// Is the current row group read from its `json:` columns?
    json_now: bool,
    pub stats: ScanStats,
}

impl SegmentScan {
    /// Read no line text: entries come with an empty `line`.
    pub fn skip_lines(&mut self, skip: bool) {
        self.skip_lines = skip;
    }

    /// Only these structured metadata keys are needed: others are left
    /// out, and a row group whose statistics rule them all out is read
    /// without its metadata column.
    pub fn metadata_keys(&mut self, keys: Option<Vec<String>>) {
        self.metadata_keys = keys;
    }

    /// The caller reads lines only through `| json k="k"` for these keys
    /// (`LogSelect::json_keys`): where the segment can, it gives the
    /// object of their values in place of each line.
    pub fn json_keys(&mut self, keys: Option<Vec<String>>) {
        self.json_keys = keys.filter(|k| !k.is_empty());
    }

    /// Entries beyond `ts` are no longer needed: skip row groups entirely
    /// beyond it.
    pub fn bound(&mut self, ts: i64) {
        self.bound_ts = Some(ts);
        let seg = &self.segment;
        let dir = self.direction;
        self.row_groups.retain(|&rg| {
            let r = &seg.index.row_groups[rg];
            match dir {
                Direction::Backward => r.max_ts >= ts,
                Direction::Forward => r.min_ts <= ts,
            }
        });
    }

    pub fn next_batch(&mut self) -> io::Result<Option<LogBatch>> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b));
            }
            match self.next_record_batch()? {
                Some(batch) => self.decode(&batch)?,
                None => return Ok(None),
            }
        }
    }

    /// The next batch as timestamps ([`RunBatch`]): no entry is
    /// built, no line read (set [`SegmentScan::skip_lines`]).
    pub fn next_runs(&mut self) -> io::Result<Option<RunBatch>> {
        loop {
            if let Some(b) = self.ready_ts.pop_front() {
                return Ok(Some(b));
            }
            if let Some(b) = self.ready.pop_front() {
                return Ok(Some(b.into()));
            }
            match self.next_record_batch()? {
                Some(batch) => self.decode_runs(&batch)?,
                None => return Ok(None),
            }
        }
    }

    /// The next Arrow batch of the planned row groups.
    fn next_record_batch(&mut self) -> io::Result<Option<RecordBatch>> {
        loop {
            if let Some(reader) = &mut self.reader {
                match reader.next() {
                    Some(batch) => {
                        let batch = batch.map_err(io::Error::other)?;
                        let batch = columns::join(batch)?;
                        return self.json_lines(batch).map(Some);
                    }
                    None => self.reader = None,
                }
            }
            let Some(rg) = self.row_groups.pop_front() else {
                return Ok(None);
            };
            let metadata = match &self.metadata_keys {
                Some(keys) => self.segment.may_hold_metadata(rg, keys),
                None => true,
            };
            let json_now = !self.skip_lines
                && self
                    .json_keys
                    .as_ref()
                    .is_some_and(|k| self.segment.json_ready(rg, &self.wanted, k));
            if let Some(meta) = self.segment.parquet.metadata().row_groups().get(rg) {
                // The column chunks read: `line` unless lines are skipped
                // or given from `json:` columns, `metadata` when needed,
                // the wanted `json:` columns when they give the lines.
                self.stats.bytes_read += meta
                    .columns()
                    .iter()
                    .filter(
                        |c| match c.column_path().parts().first().map(String::as_str) {
                            Some(c) if is_line_column(c) => !self.skip_lines && !json_now,
                            Some("metadata") => metadata,
                            Some(top) => match top.strip_prefix("json:") {
                                Some(k) => {
                                    json_now
                                        && self
                                            .json_keys
                                            .as_ref()
                                            .is_some_and(|w| w.iter().any(|x| x == k))
                                }
                                None => true,
                            },
                            None => true,
                        },
                    )
                    .map(|c| c.compressed_size().max(0) as u64)
                    .sum::<u64>();
            }
            // Bounded (a query holding its limit): read only the rows
            // still wanted, found from the time and stream columns, so the
            // pages of the others are not read.
            let selection = match self.bound_ts {
                Some(b) => match self.segment.rows_within(
                    rg,
                    &self.wanted,
                    (self.start_ns, self.end_ns),
                    b,
                    self.direction,
                )? {
                    Some(s) => Some(s),
                    None => continue,
                },
                None => None,
            };
            self.has_metadata = metadata;
            self.json_now = json_now;
            let json = self.json_keys.as_deref().filter(|_| json_now);
            self.reader = Some(self.segment.open_row_group(
                rg,
                self.skip_lines,
                metadata,
                selection,
                json,
            )?);
        }
    }

    /// `batch` with a `line` column of `{"k":"v",…}` objects built from its
    /// `json:` columns, when the row group is read from them.
    fn json_lines(&self, batch: RecordBatch) -> io::Result<RecordBatch> {
        let Some(keys) = self.json_keys.as_ref().filter(|_| self.json_now) else {
            return Ok(batch);
        };
        let bad = |k: &str| io::Error::other(format!("segment data: bad column json:{k}"));
        let cols = keys
            .iter()
            .map(|k| {
                batch
                    .column_by_name(&json_column(k))
                    .and_then(|c| c.as_string_opt::<i32>())
                    .ok_or_else(|| bad(k))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let rows = batch.num_rows();
        let mut lines = arrow_array::builder::StringBuilder::with_capacity(rows, rows * 32);
        let mut text = String::new();
        for row in 0..rows {
            text.clear();
            json_object(
                keys.iter().map(String::as_str),
                cols.iter().map(|c| c.value(row)),
                &mut text,
            );
            lines.append_value(&text);
        }
        let mut fields: Vec<(&str, arrow_array::ArrayRef)> = ["timestamp", "stream", "metadata"]
            .into_iter()
            .filter_map(|n| batch.column_by_name(n).map(|c| (n, c.clone())))
            .collect();
        fields.push(("line", Arc::new(lines.finish())));
        RecordBatch::try_from_iter(fields).map_err(io::Error::other)
    }

    /// The columns of a batch, and each stream dictionary value's ordinal
    /// when the stream is wanted.
    fn columns<'a>(&self, batch: &'a RecordBatch) -> io::Result<Columns<'a>> {
        let bad = |what: &str| io::Error::other(format!("segment data: bad column {what}"));
        let col = |name: &str| batch.column_by_name(name).ok_or_else(|| bad(name));
        let ts = col("timestamp")?
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or_else(|| bad("timestamp"))?;
        let stream = col("stream")?
            .as_dictionary_opt::<Int32Type>()
            .ok_or_else(|| bad("stream"))?;
        let line = match batch.column_by_name("line") {
            Some(c) => Some(c.as_string_opt::<i32>().ok_or_else(|| bad("line"))?),
            None if self.skip_lines => None,
            None => return Err(bad("line")),
        };
        let md = match batch.column_by_name("metadata") {
            Some(c) => {
                let m = c.as_map_opt().ok_or_else(|| bad("metadata"))?;
                let keys = m
                    .keys()
                    .as_string_opt::<i32>()
                    .ok_or_else(|| bad("metadata"))?;
                let values = m
                    .values()
                    .as_string_opt::<i32>()
                    .ok_or_else(|| bad("metadata"))?;
                Some((m.value_offsets(), keys, values))
            }
            None if !self.has_metadata => None,
            None => return Err(bad("metadata")),
        };
        let dict = stream
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| bad("stream"))?;
        // Dictionary value → stream ordinal (or none: not wanted).
        let map: Vec<Option<u32>> = (0..dict.len())
            .map(|i| {
                self.segment
                    .ordinals
                    .get(dict.value(i))
                    .copied()
                    .filter(|&o| self.wanted[o as usize])
            })
            .collect();
        Ok(Columns {
            ts,
            keys: stream.keys(),
            line,
            md,
            wanted: self.metadata_keys.clone(),
            map,
        })
    }

    /// Timestamps of the wanted rows, as runs of one stream and metadata.
    fn decode_runs(&mut self, batch: &RecordBatch) -> io::Result<()> {
        let c = self.columns(batch)?;
        if c.md.is_none() {
            return self.decode_bare_runs(&c, batch.num_rows());
        }
        let mut current: Option<(u32, Vec<EntryRun>)> = None;
        let mut lines = 0u64;
        let mut bytes = 0u64;
        let mut run_md_bytes = 0u64;
        let src = c.line_source();
        for row in 0..batch.num_rows() {
            let Some(ordinal) = c.ordinal(row) else {
                continue;
            };
            let t = c.ts.value(row);
            if t < self.start_ns || t >= self.end_ns {
                continue;
            }
            lines += 1;
            let same_stream = matches!(&current, Some((o, _)) if *o == ordinal);
            if !same_stream {
                if let Some((o, runs)) = current.take() {
                    self.push_ready_ts(o, runs);
                }
                current = Some((ordinal, Vec::new()));
            }
            let Some((_, runs)) = current.as_mut() else {
                continue;
            };
            let same_metadata = runs.last().is_some_and(|r| {
                let mut md = c.metadata(row);
                r.metadata
                    .iter()
                    .all(|(n, v)| md.next() == Some((n.as_str(), v.as_str())))
                    && md.next().is_none()
            });
            bytes += c.line.map_or(0, |l| l.value(row).len()) as u64;
            if same_metadata {
                if let Some(r) = runs.last_mut() {
                    push_line(r, t, src.as_ref(), row);
                    bytes += run_md_bytes;
                }
            } else {
                let metadata: Vec<(String, String)> = c
                    .metadata(row)
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                // The run's metadata size, counted for each of its entries.
                run_md_bytes = metadata
                    .iter()
                    .map(|(n, v)| (n.len() + v.len()) as u64)
                    .sum::<u64>();
                bytes += run_md_bytes;
                runs.push(match &src {
                    Some(src) => EntryRun::new_shared(metadata, t, src, row),
                    None => EntryRun::new(metadata, t, ""),
                });
            }
        }
        self.stats.lines_scanned += lines;
        self.stats.bytes_scanned += bytes;
        if let Some((o, runs)) = current.take() {
            self.push_ready_ts(o, runs);
        }
        Ok(())
    }

    /// [`SegmentScan::decode_runs`] without a metadata column: one
    /// run per stream.
    fn decode_bare_runs(&mut self, c: &Columns<'_>, rows: usize) -> io::Result<()> {
        let src = c.line_source();
        let ts = &c.ts.values()[..rows];
        let keys = &c.keys.values()[..rows];
        let mut lines = 0u64;
        let mut bytes = 0u64;
        // Rows are sorted by stream, then time: each stream's rows are one
        // slice, its times in order, cut to [start, end) by binary search.
        let mut i = 0;
        while i < rows {
            let k = keys[i];
            let j = i + keys[i..].iter().position(|&x| x != k).unwrap_or(rows - i);
            let Some(ordinal) = c.ordinal(i) else {
                i = j;
                continue;
            };
            let run = &ts[i..j];
            let lo = i + run.partition_point(|&t| t < self.start_ns);
            let hi = i + run.partition_point(|&t| t < self.end_ns);
            if lo < hi {
                let mut r = EntryRun::default();
                match (c.line, &src) {
                    (Some(l), Some(src)) => {
                        for (row, &t) in ts.iter().enumerate().take(hi).skip(lo) {
                            bytes += l.value(row).len() as u64;
                            r.push_shared(t, src, row);
                        }
                    }
                    _ => r.ts_ns.extend_from_slice(&ts[lo..hi]),
                }
                lines += (hi - lo) as u64;
                self.push_ready_ts(ordinal, vec![r]);
            }
            i = j;
        }
        self.stats.lines_scanned += lines;
        self.stats.bytes_scanned += bytes;
        Ok(())
    }

    fn push_ready_ts(&mut self, ordinal: u32, mut runs: Vec<EntryRun>) {
        if self.direction == Direction::Backward {
            runs.reverse();
            for r in &mut runs {
                r.reverse();
            }
        }
        let labels: Arc<Labels> = self.segment.index.streams[ordinal as usize].labels.clone();
        self.ready_ts.push_back(RunBatch { labels, runs });
    }

    fn decode(&mut self, batch: &RecordBatch) -> io::Result<()> {
        let c = self.columns(batch)?;
        let (ts, line) = (c.ts, c.line);
        let mut current: Option<(u32, Vec<LogEntry>)> = None;
        for row in 0..batch.num_rows() {
            let Some(ordinal) = c.ordinal(row) else {
                continue;
            };
            let t = ts.value(row);
            if t < self.start_ns || t >= self.end_ns {
                continue;
            }
            let entry = LogEntry {
                ts_ns: t,
                line: line.map(|l| l.value(row).to_string()).unwrap_or_default(),
                metadata: c
                    .metadata(row)
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            };
            self.stats.lines_scanned += 1;
            self.stats.bytes_scanned += entry.size() as u64;
            match &mut current {
                Some((o, entries)) if *o == ordinal && entries.len() < BATCH_ENTRIES => {
                    entries.push(entry)
                }
                _ => {
                    if let Some((o, entries)) = current.take() {
                        self.push_ready(o, entries);
                    }
                    current = Some((ordinal, vec![entry]));
                }
            }
        }
        if let Some((o, entries)) = current.take() {
            self.push_ready(o, entries);
        }
        Ok(())
    }

    fn push_ready(&mut self, ordinal: u32, mut entries: Vec<LogEntry>) {
        if self.direction == Direction::Backward {
            entries.reverse();
        }
        let labels: Arc<Labels> = self.segment.index.streams[ordinal as usize].labels.clone();
        self.ready.push_back(LogBatch { labels, entries });
    }
}
