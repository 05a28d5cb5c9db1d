//! A tenant's spans not yet in a segment, indexed by trace id.
//!
//! Spans are kept in arrival order; each trace lists its spans' positions.
//! A span that arrives again (a retried push: same trace id and span id)
//! is stored once, so the head never holds a span twice. Memory is counted
//! per span ([`span_bytes`]) for the flush and back-pressure thresholds.
//!
//! Each push carries its arrival time (ms, never decreasing within a
//! tenant): a flush cuts segments by arrival, as Tempo cuts blocks, so
//! spans far in the past or future never spread a flush over many
//! windows, and a trace whose spans arrive together lands in one segment.

use argus_model::traces::{Span, SpanId, TraceId};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A trace's spans in the head.
#[derive(Debug, Default)]
struct Trace {
    /// Positions in [`Head::spans`], in arrival order.
    spans: Vec<u32>,
    /// The spans' ids, once the trace has more than [`SCAN_IDS`] spans
    /// (before that, a scan of `spans` is cheaper).
    ids: Option<HashSet<SpanId>>,
    min_start: i64,
    max_end: i64,
    /// Bytes of its spans ([`span_bytes`]).
    bytes: usize,
}

/// Below this many spans a trace finds a duplicate by scanning.
const SCAN_IDS: usize = 32;

/// Spans in memory, by trace.
#[derive(Debug, Default)]
pub struct Head {
    spans: Vec<Span>,
    traces: HashMap<TraceId, Trace>,
    bytes: usize,
    min_start: Option<i64>,
    max_end: Option<i64>,
    /// (position of the push's first span, its arrival ms), ascending.
    arrivals: Vec<(u32, i64)>,
}

/// What one [`Head::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pushed {
    pub spans: usize,
    /// Spans already held (retries), not stored again.
    pub duplicates: usize,
    pub bytes: usize,
}

impl Head {
    /// Adds `spans`, arrived at `arrival_ms` (not before the previous
    /// push's); those already held are skipped.
    pub fn push(&mut self, spans: impl IntoIterator<Item = Span>, arrival_ms: i64) -> Pushed {
        let first = self.spans.len() as u32;
        let arrival_ms = self
            .arrivals
            .last()
            .map_or(arrival_ms, |a| a.1.max(arrival_ms));
        let mut out = Pushed::default();
        for s in spans {
            let pos = self.spans.len() as u32;
            let t = self.traces.entry(s.trace_id).or_insert_with(|| Trace {
                min_start: i64::MAX,
                max_end: i64::MIN,
                ..Trace::default()
            });
            let held = match &t.ids {
                Some(ids) => ids.contains(&s.span_id),
                None => t
                    .spans
                    .iter()
                    .any(|&p| self.spans[p as usize].span_id == s.span_id),
            };
            if held {
                out.duplicates += 1;
                continue;
            }
            t.spans.push(pos);
            match &mut t.ids {
                Some(ids) => {
                    ids.insert(s.span_id);
                }
                None if t.spans.len() > SCAN_IDS => {
                    t.ids = Some(
                        t.spans
                            .iter()
                            .map(|&p| self.spans.get(p as usize).map_or(s.span_id, |x| x.span_id))
                            .collect(),
                    );
                }
                None => {}
            }
            t.min_start = t.min_start.min(s.start_ns);
            t.max_end = t.max_end.max(s.end_ns);
            self.min_start = Some(self.min_start.map_or(s.start_ns, |m| m.min(s.start_ns)));
            self.max_end = Some(self.max_end.map_or(s.end_ns, |m| m.max(s.end_ns)));
            let b = span_bytes(&s);
            t.bytes += b;
            out.bytes += b;
            out.spans += 1;
            self.bytes += b;
            self.spans.push(s);
        }
        if out.spans > 0 {
            self.arrivals.push((first, arrival_ms));
        }
        out
    }

    /// The first and last arrival (ms) of the spans held.
    pub fn arrival_range(&self) -> Option<(i64, i64)> {
        Some((self.arrivals.first()?.1, self.arrivals.last()?.1))
    }

    /// The first and last arrival (ms) of the spans that arrived in
    /// `[start, end)` ms.
    pub fn arrivals_in(&self, start: i64, end: i64) -> Option<(i64, i64)> {
        let from = self.arrivals.partition_point(|a| a.1 < start);
        let to = self.arrivals.partition_point(|a| a.1 < end);
        let a = &self.arrivals[from..to];
        Some((a.first()?.1, a.last()?.1))
    }

    /// The spans that arrived in `[start, end)` ms, in arrival order.
    pub fn arrived(&self, start: i64, end: i64) -> &[Span] {
        let pos = |t: i64| {
            let i = self.arrivals.partition_point(|a| a.1 < t);
            self.arrivals
                .get(i)
                .map_or(self.spans.len(), |a| a.0 as usize)
        };
        &self.spans[pos(start)..pos(end)]
    }

    /// The spans of trace `id`, in arrival order.
    pub fn trace(&self, id: &TraceId) -> impl Iterator<Item = &Span> + Clone + '_ {
        self.traces
            .get(id)
            .into_iter()
            .flat_map(|t| t.spans.iter().map(|&p| &self.spans[p as usize]))
    }

    /// Bytes of trace `id`'s spans held ([`span_bytes`]).
    pub fn trace_bytes(&self, id: &TraceId) -> usize {
        self.traces.get(id).map_or(0, |t| t.bytes)
    }

    /// Does the head hold spans of trace `id`?
    pub fn has_trace(&self, id: &TraceId) -> bool {
        self.traces.contains_key(id)
    }

    /// Every span, in arrival order.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Trace ids with their spans' earliest start and latest end.
    pub fn traces(&self) -> impl Iterator<Item = (&TraceId, i64, i64)> + '_ {
        self.traces
            .iter()
            .map(|(id, t)| (id, t.min_start, t.max_end))
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Bytes of the spans held ([`span_bytes`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The earliest start and the latest end of the spans held.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        Some((self.min_start?, self.max_end?))
    }
}

/// A [`Head`] shared by pushes and reads, with what the shared store asks
/// of it kept apart so that asking takes no lock.
#[derive(Debug, Default)]
pub struct SharedHead {
    pub head: RwLock<Head>,
    bytes: AtomicU64,
    first_append: Mutex<Option<Instant>>,
}

impl SharedHead {
    /// [`Head::push`].
    pub fn push(&self, spans: impl IntoIterator<Item = Span>, arrival_ms: i64) -> Pushed {
        let p = self.head.write().push(spans, arrival_ms);
        if p.spans > 0 {
            self.bytes.fetch_add(p.bytes as u64, Ordering::Relaxed);
            self.first_append.lock().get_or_insert_with(Instant::now);
        }
        p
    }
}

impl argus_segments::tenants::HeadData for SharedHead {
    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    fn first_append(&self) -> Option<Instant> {
        *self.first_append.lock()
    }
    /// The arrival range: what a flush cuts by.
    fn time_range(&self) -> Option<(i64, i64)> {
        let (a, b) = self.head.read().arrival_range()?;
        Some((a.saturating_mul(1_000_000), b.saturating_mul(1_000_000)))
    }
}

/// A span's size for limits and memory accounting ([`Span::size`]).
pub fn span_bytes(s: &Span) -> usize {
    s.size()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::{Attr, SpanOrigin};
    use std::sync::Arc;

    fn span(trace: u8, id: u16, start: i64) -> Span {
        let mut span_id = [0; 8];
        span_id[6..].copy_from_slice(&id.to_be_bytes());
        Span {
            origin: Arc::new(SpanOrigin::default()),
            trace_id: [trace; 16],
            span_id,
            name: format!("op{id}"),
            start_ns: start,
            end_ns: start + 10,
            attrs: vec![Attr::str("k", "vvv")],
            ..Span::default()
        }
    }

    #[test]
    fn spans_are_found_by_trace_and_stored_once() {
        let mut h = Head::default();
        let p = h.push([span(1, 1, 100), span(2, 1, 50), span(1, 2, 120)], 1000);
        assert_eq!((p.spans, p.duplicates), (3, 0));
        assert_eq!(p.bytes, h.bytes());
        assert_eq!(p.bytes, 3 * (48 + 3 + 4));
        // A retried push: nothing new.
        let again = h.push([span(1, 2, 120), span(1, 3, 130)], 990);
        assert_eq!((again.spans, again.duplicates), (1, 1));
        let names: Vec<&str> = h.trace(&[1; 16]).map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["op1", "op2", "op3"]);
        assert_eq!(h.trace(&[3; 16]).count(), 0);
        assert!(h.has_trace(&[2; 16]) && !h.has_trace(&[3; 16]));
        assert_eq!(h.trace_bytes(&[1; 16]), 3 * (48 + 3 + 4));
        assert_eq!(h.trace_bytes(&[3; 16]), 0);
        assert_eq!(h.time_range(), Some((50, 140)));
        let mut traces: Vec<_> = h.traces().map(|(id, a, b)| (id[0], a, b)).collect();
        traces.sort();
        assert_eq!(traces, [(1, 100, 140), (2, 50, 60)]);
        assert_eq!(h.len(), 4);
        // The second push arrived no earlier than the first.
        assert_eq!(h.arrival_range(), Some((1000, 1000)));
        assert_eq!(h.arrived(1000, 1001).len(), 4);
        assert_eq!(h.arrived(0, 1000).len(), 0);
    }

    #[test]
    fn spans_are_cut_by_arrival() {
        let mut h = Head::default();
        h.push([span(1, 1, 5), span(1, 2, 6)], 100);
        h.push([span(1, 2, 6)], 150); // only a retry: no arrival recorded
        h.push([span(2, 1, 1)], 200);
        h.push([span(3, 1, 1), span(3, 2, 1)], 300);
        let names = |s: &[Span]| {
            s.iter()
                .map(|s| (s.trace_id[0], s.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(h.arrival_range(), Some((100, 300)));
        assert_eq!(
            names(h.arrived(0, 200)),
            [(1, "op1".into()), (1, "op2".into())]
        );
        assert_eq!(names(h.arrived(150, 300)), [(2, "op1".into())]);
        assert_eq!(h.arrived(200, 301).len(), 3);
        assert_eq!(h.arrived(301, 400).len(), 0);
    }

    #[test]
    fn a_large_trace_still_finds_its_duplicates() {
        let mut h = Head::default();
        let spans: Vec<Span> = (0..200).map(|i| span(9, i, i64::from(i))).collect();
        assert_eq!(h.push(spans.clone(), 1).spans, 200);
        let p = h.push(spans.into_iter().rev(), 2);
        assert_eq!((p.spans, p.duplicates), (0, 200));
        assert_eq!(h.push([span(9, 500, 0)], 3).spans, 1);
        assert_eq!(h.trace(&[9; 16]).count(), 201);
    }
}
