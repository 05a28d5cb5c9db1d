//! Experiment (not built into anything): how small the `line` column of a
//! segment gets when lines are split into a template and variables
//! (`argus_logs::template`), with and without reordering rows by template
//! within each stream of a row group. Reads version 1 segments, whose
//! `line` column holds every line whole (segments now store split lines
//! themselves: `docs/format/logs.md`).
//! `cargo run --release -p argus-logs --example line_templates -- <data.parquet>...`
use arrow_array::builder::{StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use argus_logs::template::{split as split_line, MAX_VARS as VARS};

/// (template, variables), or false when the line stays whole.
fn split(line: &str, tpl: &mut String, vars: &mut Vec<(usize, usize)>) -> bool {
    let mut ranges = Vec::new();
    let ok = split_line(line, tpl, &mut ranges);
    vars.clear();
    vars.extend(ranges.into_iter().map(|r| (r.start, r.end)));
    ok
}

fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
        .set_dictionary_enabled(false)
        .set_encoding(Encoding::DELTA_LENGTH_BYTE_ARRAY)
        .set_column_dictionary_enabled("template".into(), true)
        .set_max_row_group_size(usize::MAX)
        .build()
}

fn write(batches: &[RecordBatch]) -> (usize, f64) {
    let mut out = Vec::new();
    let t = Instant::now();
    let mut w = ArrowWriter::try_new(&mut out, batches[0].schema(), Some(props())).unwrap();
    for b in batches {
        w.write(b).unwrap();
        w.flush().unwrap();
    }
    w.close().unwrap();
    (out.len(), t.elapsed().as_secs_f64())
}

/// (stream, template id, line, template, variable spans, split or not).
type Row<'a> = (i32, u32, &'a str, String, Vec<(usize, usize)>, bool);

/// One row group's rows as (stream, line), in segment order.
fn layouts(groups: &[Vec<(i32, String)>]) {
    let line_schema = Arc::new(Schema::new(vec![Field::new("line", DataType::Utf8, false)]));
    let mut fields = vec![
        Field::new("line", DataType::Utf8, true),
        Field::new(
            "template",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            true,
        ),
    ];
    fields.extend((0..VARS).map(|k| Field::new(format!("v{k}"), DataType::Utf8, true)));
    let split_schema = Arc::new(Schema::new(fields));
    let mut raw = 0usize;
    for reorder in [false, true] {
        let (mut whole, mut parts) = (Vec::new(), Vec::new());
        let t = Instant::now();
        for g in groups {
            let mut tpl = String::new();
            let mut vars = Vec::new();
            let mut rows: Vec<Row<'_>> = Vec::new();
            let mut ids: HashMap<String, u32> = HashMap::new();
            for (s, l) in g {
                let ok = split(l, &mut tpl, &mut vars);
                let n = ids.len() as u32;
                let id = *ids.entry(tpl.clone()).or_insert(n);
                rows.push((*s, id, l.as_str(), tpl.clone(), vars.clone(), ok));
            }
            if reorder {
                // Stable: time order within (stream, template).
                rows.sort_by_key(|r| (r.0, r.1));
            }
            let mut lb = StringBuilder::new();
            for r in &rows {
                lb.append_value(r.2);
                if !reorder {
                    raw += r.2.len();
                }
            }
            whole.push(
                RecordBatch::try_new(line_schema.clone(), vec![Arc::new(lb.finish()) as ArrayRef])
                    .unwrap(),
            );
            let mut line = StringBuilder::new();
            let mut tb = StringDictionaryBuilder::<Int32Type>::new();
            let mut vb: Vec<StringBuilder> = (0..VARS).map(|_| StringBuilder::new()).collect();
            for r in &rows {
                if r.5 {
                    line.append_null();
                    tb.append_value(&r.3);
                    for (k, b) in vb.iter_mut().enumerate() {
                        match r.4.get(k) {
                            Some(&(s, e)) => b.append_value(&r.2[s..e]),
                            None => b.append_null(),
                        }
                    }
                } else {
                    line.append_value(r.2);
                    tb.append_null();
                    vb.iter_mut().for_each(|b| b.append_null());
                }
            }
            let mut cols: Vec<ArrayRef> = vec![Arc::new(line.finish()), Arc::new(tb.finish())];
            cols.extend(vb.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
            parts.push(RecordBatch::try_new(split_schema.clone(), cols).unwrap());
        }
        let prep = t.elapsed().as_secs_f64();
        let (w, wt) = write(&whole);
        let (p, pt) = write(&parts);
        println!(
            "reorder {reorder}: raw {raw}, whole lines {w} ({:.3} of raw, {wt:.2}s); template + vars {p} ({:.3} of whole, {pt:.2}s write, {prep:.2}s split)",
            w as f64 / raw as f64,
            p as f64 / w as f64
        );
    }
}

fn main() {
    let mut groups = Vec::new();
    for path in std::env::args().skip(1) {
        let f = std::fs::File::open(&path).unwrap();
        let b = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let mask = parquet::arrow::ProjectionMask::columns(b.parquet_schema(), ["line", "stream"]);
        let rgs = b.metadata().num_row_groups();
        drop(b);
        for rg in 0..rgs {
            let f = std::fs::File::open(&path).unwrap();
            let b = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
            let r = b
                .with_projection(mask.clone())
                .with_row_groups(vec![rg])
                .build()
                .unwrap();
            let mut g = Vec::new();
            let mut ids: HashMap<String, i32> = HashMap::new();
            for batch in r {
                let batch = batch.unwrap();
                let lines = batch
                    .column_by_name("line")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone();
                let streams = batch
                    .column_by_name("stream")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<arrow_array::DictionaryArray<Int32Type>>()
                    .unwrap()
                    .clone();
                let values = streams
                    .values()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone();
                for i in 0..lines.len() {
                    let n = ids.len() as i32;
                    let key = values.value(streams.keys().value(i) as usize);
                    let s = *ids.entry(key.to_string()).or_insert(n);
                    g.push((s, lines.value(i).to_string()));
                }
            }
            groups.push(g);
        }
    }
    layouts(&groups);
}
