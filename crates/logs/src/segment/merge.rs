//! A merge of segments for compaction: their rows in (stream, time) order,
//! each handed to the writer as stored: a split line's template and
//! variables (joined, and not split again), its metadata and its JSON
//! values straight from the input's columns. No entry is built.

use super::reader::join_row;
use super::writer::{JsonValues, Metadata, Row, Rows};
use super::{var_column, SegmentReader, TEMPLATE_COLUMN};
use crate::template::MAX_VARS;
use argus_model::Labels;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampNanosecondType};
use arrow_array::{
    Array, Int32Array, MapArray, RecordBatch, StringArray, TimestampNanosecondArray,
};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::io;
use std::ops::Range;
use std::sync::Arc;

/// Rows per Arrow batch read from each input.
const MERGE_BATCH_ROWS: usize = 8192;

fn bad(what: &str) -> io::Error {
    io::Error::other(format!("segment data: bad column {what}"))
}

/// The columns of one Arrow batch of an input.
struct Batch {
    ts: TimestampNanosecondArray,
    /// Each row's stream as its rank among the merge's label sets.
    rank: Vec<u32>,
    line: StringArray,
    /// Keys and dictionary of `template`, when the segment has it.
    template: Option<(Int32Array, StringArray)>,
    vars: Vec<StringArray>,
    /// Its offsets; its keys and values below.
    md: MapArray,
    md_keys: StringArray,
    md_values: StringArray,
    /// The merge's `json:` columns, when this input has just those.
    json: Vec<StringArray>,
}

/// One input: its current batch and row.
struct Input {
    segment: Arc<SegmentReader>,
    reader: ParquetRecordBatchReader,
    /// Stream ordinal → rank among the merge's label sets.
    ranks: Vec<u32>,
    /// Are its `json:` columns the merge's (carried, not extracted)?
    carry_json: bool,
    json_keys: Vec<String>,
    batch: Option<Batch>,
    row: usize,
}

impl Input {
    /// Moves to the next batch with rows (`batch` none at the end).
    fn next_batch(&mut self) -> io::Result<()> {
        self.batch = None;
        self.row = 0;
        for b in self.reader.by_ref() {
            let b = b.map_err(io::Error::other)?;
            if b.num_rows() > 0 {
                self.batch = Some(self.columns(&b)?);
                return Ok(());
            }
        }
        Ok(())
    }

    fn columns(&self, b: &RecordBatch) -> io::Result<Batch> {
        let col = |name: &str| b.column_by_name(name).ok_or_else(|| bad(name));
        let string = |name: &str| -> io::Result<StringArray> {
            Ok(col(name)?
                .as_string_opt::<i32>()
                .ok_or_else(|| bad(name))?
                .clone())
        };
        let ts = col("timestamp")?
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or_else(|| bad("timestamp"))?
            .clone();
        let stream = col("stream")?
            .as_dictionary_opt::<Int32Type>()
            .ok_or_else(|| bad("stream"))?;
        let dict = stream
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| bad("stream"))?;
        let dict_rank = (0..dict.len())
            .map(|i| {
                let o = self
                    .segment
                    .ordinal(dict.value(i))
                    .ok_or_else(|| bad("stream"))?;
                self.ranks
                    .get(o as usize)
                    .copied()
                    .ok_or_else(|| bad("stream"))
            })
            .collect::<io::Result<Vec<u32>>>()?;
        let rank = stream
            .keys()
            .iter()
            .map(|k| {
                k.and_then(|k| dict_rank.get(usize::try_from(k).ok()?).copied())
                    .ok_or_else(|| bad("stream"))
            })
            .collect::<io::Result<Vec<u32>>>()?;
        let template = match b.column_by_name(TEMPLATE_COLUMN) {
            Some(c) => {
                let t = c
                    .as_dictionary_opt::<Int32Type>()
                    .ok_or_else(|| bad(TEMPLATE_COLUMN))?;
                let values = t
                    .values()
                    .as_string_opt::<i32>()
                    .ok_or_else(|| bad(TEMPLATE_COLUMN))?;
                Some((t.keys().clone(), values.clone()))
            }
            None => None,
        };
        let vars = (0..MAX_VARS)
            .map_while(|k| {
                b.column_by_name(&var_column(k))
                    .map(|_| string(&var_column(k)))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let md = col("metadata")?
            .as_map_opt()
            .ok_or_else(|| bad("metadata"))?;
        let json = if self.carry_json {
            self.json_keys
                .iter()
                .map(|k| string(&super::json_column(k)))
                .collect::<io::Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(Batch {
            ts,
            rank,
            line: string("line")?,
            template,
            vars,
            md: md.clone(),
            md_keys: md
                .keys()
                .as_string_opt::<i32>()
                .ok_or_else(|| bad("metadata"))?
                .clone(),
            md_values: md
                .values()
                .as_string_opt::<i32>()
                .ok_or_else(|| bad("metadata"))?
                .clone(),
            json,
        })
    }

    /// The current row's (stream rank, time).
    fn key(&self) -> Option<(u32, i64)> {
        let b = self.batch.as_ref()?;
        Some((b.rank[self.row], b.ts.value(self.row)))
    }
}

/// The rows of segments, merged by (stream, time); of equal keys, the
/// earlier input's first.
pub struct MergeRows {
    inputs: Vec<Input>,
    /// The label sets of all inputs, sorted: a stream's rank.
    labels: Vec<Arc<Labels>>,
    /// The input the last row came from (moved past it on the next call).
    last: Option<usize>,
    line: String,
    spans: Vec<Range<usize>>,
}

impl std::fmt::Debug for MergeRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergeRows")
            .field("inputs", &self.inputs.len())
            .field("streams", &self.labels.len())
            .finish_non_exhaustive()
    }
}

impl MergeRows {
    /// A merge of `segments`, for a segment of `json_keys`' columns.
    pub fn new(segments: &[Arc<SegmentReader>], json_keys: &[String]) -> io::Result<Self> {
        let mut labels: Vec<Arc<Labels>> = segments
            .iter()
            .flat_map(|s| s.index.streams.iter().map(|st| st.labels.clone()))
            .collect();
        labels.sort();
        labels.dedup_by(|a, b| **a == **b);
        let mut inputs = Vec::with_capacity(segments.len());
        for s in segments {
            let ranks = s
                .index
                .streams
                .iter()
                .map(|st| {
                    labels
                        .binary_search(&st.labels)
                        .map(|r| r as u32)
                        .map_err(|_| bad("stream"))
                })
                .collect::<io::Result<Vec<u32>>>()?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                std::fs::File::open(s.data_path())?,
                s.parquet_metadata().clone(),
            )
            .with_batch_size(MERGE_BATCH_ROWS)
            .build()
            .map_err(io::Error::other)?;
            let mut input = Input {
                segment: s.clone(),
                reader,
                ranks,
                carry_json: !json_keys.is_empty() && s.meta.json_keys == json_keys,
                json_keys: json_keys.to_vec(),
                batch: None,
                row: 0,
            };
            input.next_batch()?;
            inputs.push(input);
        }
        Ok(MergeRows {
            inputs,
            labels,
            last: None,
            line: String::new(),
            spans: Vec::new(),
        })
    }
}

impl Rows for MergeRows {
    fn next_row(&mut self) -> io::Result<Option<Row<'_>>> {
        if let Some(i) = self.last.take() {
            let input = &mut self.inputs[i];
            input.row += 1;
            if input
                .batch
                .as_ref()
                .is_none_or(|b| input.row >= b.rank.len())
            {
                input.next_batch()?;
            }
        }
        let mut best: Option<(usize, (u32, i64))> = None;
        for (i, input) in self.inputs.iter().enumerate() {
            if let Some(k) = input.key() {
                if best.is_none_or(|(_, b)| k < b) {
                    best = Some((i, k));
                }
            }
        }
        let Some((i, (rank, ts))) = best else {
            return Ok(None);
        };
        self.last = Some(i);
        let input = &self.inputs[i];
        let (b, row) = (input.batch.as_ref().ok_or_else(|| bad("line"))?, input.row);
        let split = if b.line.is_valid(row) {
            None
        } else {
            let (keys, dict) = b.template.as_ref().ok_or_else(|| bad("line"))?;
            let k = usize::try_from(keys.value(row))
                .ok()
                .filter(|&k| keys.is_valid(row) && k < dict.len())
                .ok_or_else(|| bad("line"))?;
            self.line.clear();
            join_row(dict.value(k), &b.vars, row, &mut self.line, &mut self.spans)?;
            Some(dict.value(k))
        };
        let off = b.md.value_offsets();
        let md = off[row] as usize..off[row + 1] as usize;
        let json = if !input.carry_json {
            JsonValues::Extract
        } else if b.json.iter().all(|c| c.is_valid(row)) {
            JsonValues::Columns(&b.json, row)
        } else {
            JsonValues::Absent
        };
        Ok(Some(Row {
            labels: &self.labels[rank as usize],
            ts,
            line: match split {
                Some(_) => &self.line,
                None => b.line.value(row),
            },
            split: split.map(|t| (t, &self.spans[..])),
            metadata: Metadata::Columns {
                keys: &b.md_keys,
                values: &b.md_values,
                range: md,
            },
            json,
        }))
    }
}
