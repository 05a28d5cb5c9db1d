//! The columns of one Arrow batch of a segment: lines joined from their
//! templates and variables, shared as a [`LineSource`], metadata, streams.

use super::super::{is_line_column, var_column, TEMPLATE_COLUMN};
use crate::template::{MARK, MAX_VARS};
use argus_store::{EntryRun, LineSource};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, RecordBatch};
use std::borrow::Borrow;
use std::io;
use std::ops::Range;
use std::sync::Arc;

/// `batch` with `line` joined from `template` and `var<k>` where
/// they were read (and those columns left out).
pub(super) fn join(batch: RecordBatch) -> io::Result<RecordBatch> {
    let bad = |what: &str| io::Error::other(format!("segment data: bad column {what}"));
    let Some(template) = batch.column_by_name(TEMPLATE_COLUMN) else {
        return Ok(batch);
    };
    let template = template
        .as_dictionary_opt::<Int32Type>()
        .ok_or_else(|| bad(TEMPLATE_COLUMN))?;
    let line = batch
        .column_by_name("line")
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| bad("line"))?;
    let vars = (0..MAX_VARS)
        .map_while(|k| batch.column_by_name(&var_column(k)))
        .map(|c| c.as_string_opt::<i32>().ok_or_else(|| bad("var")))
        .collect::<io::Result<Vec<_>>>()?;
    let lines = join_lines(line, template, &vars)?;
    let fields: Vec<(String, arrow_array::ArrayRef)> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| f.name() == "line" || !is_line_column(f.name()))
        .map(|(f, c)| {
            let c = if f.name() == "line" {
                Arc::new(lines.clone()) as arrow_array::ArrayRef
            } else {
                c.clone()
            };
            (f.name().clone(), c)
        })
        .collect();
    RecordBatch::try_from_iter(fields).map_err(io::Error::other)
}

/// The columns of one Arrow batch of a segment.
pub(super) struct Columns<'a> {
    pub(super) ts: &'a arrow_array::TimestampNanosecondArray,
    pub(super) keys: &'a arrow_array::Int32Array,
    pub(super) line: Option<&'a arrow_array::StringArray>,
    /// The metadata map's offsets, keys and values, when read.
    pub(super) md: Option<(
        &'a [i32],
        &'a arrow_array::StringArray,
        &'a arrow_array::StringArray,
    )>,
    /// Only these metadata keys are wanted.
    pub(super) wanted: Option<Vec<String>>,
    /// Stream dictionary value → ordinal, when wanted.
    pub(super) map: Vec<Option<u32>>,
}

/// Adds row `row`'s entry to a run, its line kept in the batch's `line`
/// column (none when lines are skipped).
pub(super) fn push_line(r: &mut EntryRun, t: i64, src: Option<&Arc<dyn LineSource>>, row: usize) {
    match src {
        Some(src) => r.push_shared(t, src, row),
        None => r.push(t, ""),
    }
}

/// A batch's `line` column, shared by the runs read from it so that their
/// lines are not copied.
#[derive(Debug)]
struct ArrowLines(arrow_array::StringArray);

impl LineSource for ArrowLines {
    fn line(&self, i: usize) -> &str {
        if i < self.0.len() {
            self.0.value(i)
        } else {
            ""
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Columns<'_> {
    /// The `line` column as a [`LineSource`] (none when lines are skipped).
    pub(super) fn line_source(&self) -> Option<Arc<dyn LineSource>> {
        self.line
            .map(|l| Arc::new(ArrowLines(l.clone())) as Arc<dyn LineSource>)
    }

    /// The (wanted) metadata of row `row`.
    pub(super) fn metadata(&self, row: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        let (range, keys, values) = match self.md {
            Some((off, k, v)) => (off[row] as usize..off[row + 1] as usize, Some(k), Some(v)),
            None => (0..0, None, None),
        };
        range.filter_map(move |i| {
            let n = keys?.value(i);
            let keep = self
                .wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|k| k == n));
            keep.then(|| (n, values.map(|v| v.value(i)).unwrap_or("")))
        })
    }

    /// The ordinal of row `row`'s stream, when wanted.
    pub(super) fn ordinal(&self, row: usize) -> Option<u32> {
        let key = self.keys.value(row);
        usize::try_from(key)
            .ok()
            .and_then(|k| self.map.get(k).copied().flatten())
    }
}

/// Each row's line: `line` where set, else its template with the
/// variables in place of its marks. A row with neither, or with fewer
/// variables than marks, is damage: an error.
pub(in crate::segment) fn join_lines(
    line: &arrow_array::StringArray,
    template: &arrow_array::DictionaryArray<Int32Type>,
    vars: &[&arrow_array::StringArray],
) -> io::Result<arrow_array::StringArray> {
    let bad = |what: &str| io::Error::other(format!("segment data: bad column {what}"));
    let dict = template
        .values()
        .as_string_opt::<i32>()
        .ok_or_else(|| bad(TEMPLATE_COLUMN))?;
    let rows = line.len();
    let keys = template.keys();
    let mut out = arrow_array::builder::StringBuilder::with_capacity(rows, rows * 64);
    let (mut text, mut spans) = (String::new(), Vec::new());
    for row in 0..rows {
        if line.is_valid(row) {
            out.append_value(line.value(row));
            continue;
        }
        let k = usize::try_from(keys.value(row))
            .ok()
            .filter(|&k| keys.is_valid(row) && k < dict.len())
            .ok_or_else(|| bad("line"))?;
        text.clear();
        join_row(dict.value(k), vars, row, &mut text, &mut spans)?;
        out.append_value(&text);
    }
    Ok(out.finish())
}

/// Appends to `out` the line of template `tpl` with row `row`'s variables
/// in place of its marks, and sets `spans` to their byte ranges in `out`.
/// Fewer variables than marks is damage: an error.
pub(in crate::segment) fn join_row<V: Borrow<arrow_array::StringArray>>(
    tpl: &str,
    vars: &[V],
    row: usize,
    out: &mut String,
    spans: &mut Vec<Range<usize>>,
) -> io::Result<()> {
    spans.clear();
    let mut parts = tpl.split(MARK);
    out.push_str(parts.next().unwrap_or_default());
    for (k, part) in parts.enumerate() {
        let v = vars
            .get(k)
            .map(Borrow::borrow)
            .filter(|v| v.is_valid(row))
            .ok_or_else(|| {
                io::Error::other(format!("segment data: bad column {}", var_column(k)))
            })?;
        let start = out.len();
        out.push_str(v.value(row));
        spans.push(start..out.len());
        out.push_str(part);
    }
    Ok(())
}
