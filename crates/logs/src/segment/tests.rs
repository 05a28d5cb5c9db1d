//! A segment written and read back: lines split into templates and
//! variables, entries given back whole and in order.

use super::*;
use argus_model::{Labels, LogEntry};
use argus_store::{Direction, LogBatch};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::sync::Arc;

/// The meta of a segment written alone (level 0, no flush windows).
pub(super) fn meta(w: &Written) -> SegmentMeta {
    SegmentMeta {
        version: META_VERSION,
        id: "s".into(),
        min_time: ms(w.min_ts),
        max_time: ms(w.max_ts) + 1,
        bytes: w.file_bytes,
        level: 0,
        sources: vec![],
        parents: vec![],
        streams: w.index.streams.len() as u64,
        entries: w.entries,
        raw_bytes: w.raw_bytes,
        flushes: vec![],
        json_keys: vec![],
        json_streams: vec![],
    }
}

/// Entries of two streams: `web` alternates three kinds of line and an
/// unsplittable one, every 50th at the time of the one before; `db` has
/// entries of one time with different templates, which must keep their
/// order.
fn entries() -> Vec<(Arc<Labels>, LogEntry)> {
    let web = Arc::new(Labels::from_pairs([("job", "web")]));
    let db = Arc::new(Labels::from_pairs([("job", "db")]));
    let mut out = Vec::new();
    for i in 0..3000i64 {
        let line = match i % 4 {
            0 => format!("GET /api/items/{i} 200 {}ms", i % 97),
            1 => format!("user {i} logged in from 10.0.{}.{}", i % 256, i % 7),
            2 => "cache warm, nothing to do".to_string(),
            _ => format!("\u{11}odd {i}"),
        };
        let t = 1_000 + i - i64::from(i % 50 == 49);
        out.push((web.clone(), LogEntry::new(t, line)));
    }
    for (t, l) in [
        (5, "slow query 12ms"),
        (5, "connection reset"),
        (5, "slow query 13ms"),
        (6, "ok"),
    ] {
        out.push((db.clone(), LogEntry::new(t, l)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ts_ns.cmp(&b.1.ts_ns)));
    out
}

fn read(
    seg: &Arc<SegmentReader>,
    direction: Direction,
    skip_lines: bool,
) -> Vec<(String, i64, String)> {
    let mut stats = argus_store::ScanStats::default();
    let plan = seg.plan(&[], i64::MIN, i64::MAX, &[], &mut stats).unwrap();
    let mut scan = seg.scan(plan, i64::MIN, i64::MAX, direction);
    scan.skip_lines(skip_lines);
    let mut out = Vec::new();
    while let Some(LogBatch { labels, entries }) = scan.next_batch().unwrap() {
        out.extend(
            entries
                .into_iter()
                .map(|e| (labels.to_string(), e.ts_ns, e.line)),
        );
    }
    out
}

#[test]
fn split_lines_come_back_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = entries();
    let opts = WriterOptions {
        row_group_bytes: 20_000,
        ..WriterOptions::default()
    };
    let w = write_segment(
        dir.path(),
        input.iter().map(|(l, e)| Ok((l.clone(), e))),
        &opts,
        None,
    )
    .unwrap()
    .unwrap();
    assert!(w.index.row_groups.len() > 2, "{}", w.index.row_groups.len());

    // On disk: split lines have a null `line`.
    let file = std::fs::File::open(dir.path().join(DATA_FILE)).unwrap();
    let rows: Vec<(i32, Option<i32>, bool)> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .flat_map(|b| {
            let b = b.unwrap();
            let s = b
                .column_by_name("stream")
                .unwrap()
                .as_dictionary::<Int32Type>()
                .keys()
                .clone();
            let t = b
                .column_by_name(TEMPLATE_COLUMN)
                .unwrap()
                .as_dictionary::<Int32Type>()
                .keys()
                .clone();
            let l = b.column_by_name("line").unwrap().clone();
            (0..b.num_rows())
                .map(|i| (s.value(i), t.is_valid(i).then(|| t.value(i)), l.is_valid(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(rows.len(), input.len());
    assert!(rows.iter().all(|&(_, t, l)| t.is_some() != l));
    assert_eq!(
        rows.iter().filter(|r| r.2).count(),
        750,
        "the lines holding U+0011"
    );

    let seg = Arc::new(
        SegmentReader::open(meta(&w), w.index.clone(), dir.path().join(DATA_FILE)).unwrap(),
    );
    let want: Vec<(String, i64, String)> = input
        .iter()
        .map(|(l, e)| (l.to_string(), e.ts_ns, e.line.clone()))
        .collect();
    // Forward: exactly the input, entries of one time in their order.
    assert_eq!(read(&seg, Direction::Forward, false), want);
    let mut back = read(&seg, Direction::Backward, false);
    back.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut sorted = want.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    assert_eq!(back.len(), sorted.len());
    assert_eq!(
        back.iter().map(|r| (&r.0, r.1)).collect::<Vec<_>>(),
        sorted.iter().map(|r| (&r.0, r.1)).collect::<Vec<_>>()
    );
    // Without lines: the times, in order.
    let times: Vec<(String, i64)> = read(&seg, Direction::Forward, true)
        .into_iter()
        .map(|(l, t, line)| {
            assert!(line.is_empty());
            (l, t)
        })
        .collect();
    assert_eq!(
        times,
        want.iter().map(|r| (r.0.clone(), r.1)).collect::<Vec<_>>()
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Any lines, split or not, come back byte for byte and in order.
    #[test]
    fn any_lines_come_back(lines in proptest::collection::vec("(\\PC|[0-9./:_+-]|\u{11}){0,60}", 1..200)) {
        let dir = tempfile::tempdir().unwrap();
        let labels = Arc::new(Labels::from_pairs([("job", "p")]));
        let input: Vec<(Arc<Labels>, LogEntry)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (labels.clone(), LogEntry::new(i as i64 / 3, l.clone())))
            .collect();
        let opts = WriterOptions { row_group_bytes: 2_000, ..WriterOptions::default() };
        let w = write_segment(dir.path(), input.iter().map(|(l, e)| Ok((l.clone(), e))), &opts, None)
            .unwrap()
            .unwrap();
        let seg = Arc::new(
            SegmentReader::open(meta(&w), w.index.clone(), dir.path().join(DATA_FILE)).unwrap(),
        );
        let got: Vec<String> = read(&seg, Direction::Forward, false).into_iter().map(|r| r.2).collect();
        proptest::prop_assert_eq!(got, lines);
    }
}

#[test]
fn damaged_split_rows_are_an_error() {
    use arrow_array::builder::StringDictionaryBuilder;
    use arrow_array::StringArray;
    let mut t = StringDictionaryBuilder::<Int32Type>::new();
    t.append_value("a \u{11} b \u{11}");
    t.append_null();
    let t = t.finish();
    let line = StringArray::from(vec![None, Some("whole")]);
    let v0 = StringArray::from(vec![Some("1"), None]);
    let v1 = StringArray::from(vec![Some("2"), None]);
    let ok = reader::join_lines(&line, &t, &[&v0, &v1]).unwrap();
    assert_eq!(ok.value(0), "a 1 b 2");
    assert_eq!(ok.value(1), "whole");
    // A variable missing, or neither line nor template: errors.
    assert!(reader::join_lines(&line, &t, &[&v0]).is_err());
    let none = StringArray::from(vec![None::<&str>, None]);
    assert!(reader::join_lines(&none, &t, &[&v0, &v1]).is_err());
}

/// A stand-in for the engine's `| json` values: a JSON-looking line gives
/// each key its name and the line's length.
struct ToyJson(Vec<String>);

impl argus_store::JsonExtractor for ToyJson {
    fn values(&self, line: &str, out: &mut Vec<String>) -> bool {
        out.clear();
        out.extend(self.0.iter().map(|k| format!("{k}:{}", line.len())));
        line.starts_with('{')
    }
}

fn json_columns(keys: &[&str]) -> Option<JsonColumns> {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    (!keys.is_empty()).then(|| JsonColumns {
        extractor: Box::new(ToyJson(keys.clone())),
        keys,
    })
}

/// Every row of a data file, as read.
fn rows_of(dir: &std::path::Path) -> Vec<arrow_array::RecordBatch> {
    let file = std::fs::File::open(dir.join(DATA_FILE)).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

type Input = (bool, u8, Vec<(u8, i64, String, bool)>);

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// A merge of segments (lines split or whole, JSON columns carried or
    /// extracted anew) writes the very segment that writing the merged
    /// entries does.
    #[test]
    fn a_merge_writes_what_its_entries_write(
        inputs in proptest::collection::vec(
            (
                proptest::bool::ANY,
                0u8..3,
                proptest::collection::vec(
                    (0u8..4, 0i64..40, "(\\{|[a-z ]|[0-9./:_+-]|\u{11}){0,40}", proptest::bool::ANY),
                    1..120,
                ),
            ),
            2..4,
        ),
        split_out in proptest::bool::ANY,
    ) {
        let inputs: Vec<Input> = inputs;
        let keysets: [&[&str]; 3] = [&[], &["a", "b"], &["a"]];
        let streams: Vec<Arc<Labels>> = (0..4)
            .map(|i| Arc::new(Labels::from_pairs([("job", format!("j{i}").as_str())])))
            .collect();
        let entry = |(s, t, l, md): &(u8, i64, String, bool)| {
            let mut e = LogEntry::new(*t, l.clone());
            if *md {
                e.metadata.push(("trace_id".into(), format!("{t}{s}")));
            }
            (streams[*s as usize].clone(), e)
        };
        let dirs: Vec<tempfile::TempDir> = inputs.iter().map(|_| tempfile::tempdir().unwrap()).collect();
        let mut readers = Vec::new();
        let mut all = Vec::new();
        let mut out_keys: Vec<String> = Vec::new();
        for ((split, keys, rows), dir) in inputs.iter().zip(&dirs) {
            let mut es: Vec<_> = rows.iter().map(entry).collect();
            es.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ts_ns.cmp(&b.1.ts_ns)));
            let json = json_columns(keysets[*keys as usize]);
            let opts = WriterOptions { row_group_bytes: 1_500, split_lines: *split, ..WriterOptions::default() };
            let w = write_segment(dir.path(), es.iter().map(|(l, e)| Ok((l.clone(), e))), &opts, json.as_ref())
                .unwrap()
                .unwrap();
            let mut m = meta(&w);
            m.json_keys = w.json_keys.clone();
            m.json_streams = w.json_streams();
            out_keys.extend(w.json_keys.iter().cloned());
            readers.push(Arc::new(SegmentReader::open(m, w.index.clone(), dir.path().join(DATA_FILE)).unwrap()));
            all.extend(es);
        }
        out_keys.sort();
        out_keys.dedup();
        let out_keys: Vec<&str> = out_keys.iter().map(String::as_str).collect();
        // Stable: of equal keys, the earlier input's first, as the merge.
        all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ts_ns.cmp(&b.1.ts_ns)));
        let opts = WriterOptions { row_group_bytes: 2_000, split_lines: split_out, ..WriterOptions::default() };

        let direct = tempfile::tempdir().unwrap();
        let want = write_segment(direct.path(), all.iter().map(|(l, e)| Ok((l.clone(), e))), &opts, json_columns(&out_keys).as_ref())
            .unwrap()
            .unwrap();
        let merged = tempfile::tempdir().unwrap();
        let keys: Vec<String> = out_keys.iter().map(|k| k.to_string()).collect();
        let mut rows = MergeRows::new(&readers, &keys).unwrap();
        let got = write_rows(merged.path(), &mut rows, &opts, json_columns(&out_keys).as_ref())
            .unwrap()
            .unwrap();
        proptest::prop_assert_eq!(rows_of(merged.path()), rows_of(direct.path()));
        proptest::prop_assert_eq!(got.json_complete, want.json_complete);
        proptest::prop_assert_eq!(got.entries, want.entries);
        proptest::prop_assert_eq!(got.raw_bytes, want.raw_bytes);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        got.index.encode(&mut a);
        want.index.encode(&mut b);
        proptest::prop_assert_eq!(a, b);
    }
}
