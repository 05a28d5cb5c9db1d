//! Experiment: the `line` column of a segment rewritten with other
//! encodings and zstd levels; prints bytes and time (version 1 segments,
//! whose `line` holds every line whole). Not part of the build's
//! products: `cargo run --release -p argus-logs --example line_encodings -- <data.parquet>`.
use arrow_array::RecordBatch;
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("data.parquet");
    let f = std::fs::File::open(&path).unwrap();
    let b = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    let mask = parquet::arrow::ProjectionMask::columns(b.parquet_schema(), ["line", "timestamp"]);
    let batches: Vec<RecordBatch> = b
        .with_projection(mask)
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let schema: Arc<Schema> = batches[0].schema();
    for (enc, level, page, rg_rows) in [
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 1, 1 << 20, 18000),
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 1, 4 << 20, 72000),
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 3, 4 << 20, 72000),
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 1, 8 << 20, 144000),
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 3, 8 << 20, 144000),
        (Encoding::DELTA_LENGTH_BYTE_ARRAY, 6, 1 << 20, 18000),
    ] {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(level).unwrap()))
            .set_dictionary_enabled(false)
            .set_encoding(enc)
            .set_column_encoding("timestamp".into(), Encoding::DELTA_BINARY_PACKED)
            .set_data_page_size_limit(page)
            .set_max_row_group_size(usize::MAX)
            .build();
        let mut out = Vec::new();
        let t = Instant::now();
        let mut w = ArrowWriter::try_new(&mut out, schema.clone(), Some(props)).unwrap();
        let mut rows = 0;
        for b in &batches {
            w.write(b).unwrap();
            rows += b.num_rows();
            if rows >= rg_rows {
                w.flush().unwrap();
                rows = 0;
            }
        }
        w.close().unwrap();
        println!(
            "{enc:?} zstd {level} page {page} rg {rg_rows}: {} bytes, {:.2}s",
            out.len(),
            t.elapsed().as_secs_f64()
        );
    }
}
