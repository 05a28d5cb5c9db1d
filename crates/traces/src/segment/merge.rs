//! Compaction's merge: installed segments streamed into one, a row group
//! of each input in memory at a time, in (trace id, start) order, each
//! span once (a span pushed again after its first copy was flushed is in
//! two inputs).

use super::{
    attr_columns_of, read_row_group, AttrType, DataFile, SegmentWriter, WriterOptions, Written,
};
use argus_model::traces::{Span, SpanId, SpanOrigin, TraceId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// One input segment: its data file, origins, row groups and span count.
#[derive(Debug, Clone)]
pub struct MergeInput {
    pub data: DataFile,
    pub origins: Vec<Arc<SpanOrigin>>,
    pub row_groups: usize,
    pub spans: u64,
    pub traces: u64,
}

struct Cursor<'a> {
    input: &'a MergeInput,
    next_rg: usize,
    buf: VecDeque<Span>,
}

impl Cursor<'_> {
    /// The next span, reading the next row group when needed.
    fn pop(&mut self) -> io::Result<Option<Span>> {
        while self.buf.is_empty() && self.next_rg < self.input.row_groups {
            self.buf = read_row_group(&self.input.data, &self.input.origins, self.next_rg)?.into();
            self.next_rg += 1;
        }
        Ok(self.buf.pop_front())
    }
}

/// The attribute columns of the merged segment: the inputs' columns, by
/// how many spans the inputs having them hold, at most `opts.attr_columns`;
/// a key with several types takes that of the most spans.
fn columns(inputs: &[MergeInput], opts: &WriterOptions) -> Vec<(String, AttrType)> {
    let mut weight: HashMap<(String, AttrType), u64> = HashMap::new();
    for i in inputs {
        for c in attr_columns_of(&i.data) {
            *weight.entry(c).or_default() += i.spans;
        }
    }
    let mut all: Vec<((String, AttrType), u64)> = weight.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<(String, AttrType)> = Vec::new();
    for ((k, t), _) in all {
        if out.len() < opts.attr_columns && !out.iter().any(|(x, _)| *x == k) {
            out.push((k, t));
        }
    }
    out
}

/// Merges `inputs` into `dir`'s files; `None` when they hold no span.
pub fn merge_segments(
    inputs: &[MergeInput],
    dir: &Path,
    opts: &WriterOptions,
) -> io::Result<Option<Written>> {
    let traces = inputs.iter().map(|i| i.traces as usize).sum();
    let mut w = SegmentWriter::new(dir, columns(inputs, opts), traces, opts)?;
    let mut cursors: Vec<Cursor<'_>> = inputs
        .iter()
        .map(|input| Cursor {
            input,
            next_rg: 0,
            buf: VecDeque::new(),
        })
        .collect();
    // The heap holds each input's next span, smallest (trace, start) first.
    let mut heads: Vec<Option<Span>> = Vec::with_capacity(cursors.len());
    let mut heap: BinaryHeap<Reverse<(TraceId, i64, SpanId, usize)>> = BinaryHeap::new();
    for (i, c) in cursors.iter_mut().enumerate() {
        let s = c.pop()?;
        if let Some(s) = &s {
            heap.push(Reverse((s.trace_id, s.start_ns, s.span_id, i)));
        }
        heads.push(s);
    }
    // The current trace's spans, each once, written when the next begins.
    let mut trace: Vec<Span> = Vec::new();
    let mut seen: HashSet<SpanId> = HashSet::new();
    let flush = |trace: &mut Vec<Span>, w: &mut SegmentWriter| -> io::Result<()> {
        let refs: Vec<&Span> = trace.iter().collect();
        w.push_trace(&refs)?;
        trace.clear();
        Ok(())
    };
    while let Some(Reverse((_, _, _, i))) = heap.pop() {
        let Some(s) = heads[i].take() else {
            continue;
        };
        if trace.first().is_some_and(|t| t.trace_id != s.trace_id) {
            flush(&mut trace, &mut w)?;
            seen.clear();
        }
        let next = cursors[i].pop()?;
        if let Some(n) = &next {
            heap.push(Reverse((n.trace_id, n.start_ns, n.span_id, i)));
        }
        heads[i] = next;
        if seen.insert(s.span_id) {
            trace.push(s);
        }
    }
    flush(&mut trace, &mut w)?;
    w.finish()
}
