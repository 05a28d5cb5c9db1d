//! In-memory streams: what was pushed since the last flush. Each stream's
//! entries are kept sorted by time (a late entry is inserted in place), so
//! reads and flushes need no sort.

use argus_model::{Labels, LogEntry, Matcher};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct HeadStream {
    pub(crate) labels: Arc<Labels>,
    pub(crate) entries: Vec<LogEntry>,
}

#[derive(Debug, Default)]
pub(crate) struct Streams {
    pub(crate) by_labels: HashMap<Arc<Labels>, u32>,
    pub(crate) streams: Vec<HeadStream>,
}

/// One generation of in-memory streams: the active head, or a frozen one
/// being flushed.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) streams: RwLock<Streams>,
    /// Bytes of lines and metadata held.
    pub(crate) bytes: AtomicU64,
    pub(crate) entries: AtomicU64,
    pub(crate) min_ts: AtomicI64,
    pub(crate) max_ts: AtomicI64,
    /// When the first entry arrived (for the age flush).
    pub(crate) first_append: parking_lot::Mutex<Option<Instant>>,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            streams: RwLock::new(Streams::default()),
            bytes: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            min_ts: AtomicI64::new(i64::MAX),
            max_ts: AtomicI64::new(i64::MIN),
            first_append: parking_lot::Mutex::new(None),
        }
    }
}

impl Head {
    pub(crate) fn stream_count(&self) -> usize {
        self.streams.read().streams.len()
    }

    pub(crate) fn contains_stream(&self, labels: &Labels) -> bool {
        self.streams.read().by_labels.contains_key(labels)
    }

    /// The time of the stream's newest entry, if it has any: no entry newer
    /// than it can be a duplicate ([`Head::is_duplicate`]).
    pub(crate) fn newest(&self, labels: &Labels) -> Option<i64> {
        let s = self.streams.read();
        let &i = s.by_labels.get(labels)?;
        s.streams[i as usize].entries.last().map(|e| e.ts_ns)
    }

    /// True when the stream already holds this exact entry (same time and
    /// line): a retried push.
    pub(crate) fn is_duplicate(&self, labels: &Labels, e: &LogEntry) -> bool {
        let s = self.streams.read();
        let Some(&i) = s.by_labels.get(labels) else {
            return false;
        };
        let entries = &s.streams[i as usize].entries;
        let from = entries.partition_point(|x| x.ts_ns < e.ts_ns);
        entries[from..]
            .iter()
            .take_while(|x| x.ts_ns == e.ts_ns)
            .any(|x| x.line == e.line)
    }

    /// Adds entries to a stream (created if new).
    pub(crate) fn append(&self, labels: &Arc<Labels>, entries: Vec<LogEntry>) {
        if entries.is_empty() {
            return;
        }
        let mut bytes = 0u64;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let n = entries.len() as u64;
        {
            let mut s = self.streams.write();
            let i = match s.by_labels.get(labels) {
                Some(&i) => i as usize,
                None => {
                    let i = s.streams.len();
                    s.streams.push(HeadStream {
                        labels: labels.clone(),
                        entries: Vec::new(),
                    });
                    s.by_labels.insert(labels.clone(), i as u32);
                    i
                }
            };
            let stream = &mut s.streams[i].entries;
            for e in entries {
                bytes += e.size() as u64;
                lo = lo.min(e.ts_ns);
                hi = hi.max(e.ts_ns);
                if stream.last().is_none_or(|l| l.ts_ns <= e.ts_ns) {
                    stream.push(e);
                } else {
                    let at = stream.partition_point(|x| x.ts_ns <= e.ts_ns);
                    stream.insert(at, e);
                }
            }
        }
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.entries.fetch_add(n, Ordering::Relaxed);
        self.min_ts.fetch_min(lo, Ordering::Relaxed);
        self.max_ts.fetch_max(hi, Ordering::Relaxed);
        self.first_append.lock().get_or_insert_with(Instant::now);
    }

    /// (min, max) entry time, ns.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let (lo, hi) = (
            self.min_ts.load(Ordering::Relaxed),
            self.max_ts.load(Ordering::Relaxed),
        );
        (lo <= hi).then_some((lo, hi))
    }

    /// Ordinals of streams matching `matchers`.
    pub(crate) fn matching(&self, matchers: &[Matcher]) -> Vec<u32> {
        let s = self.streams.read();
        s.streams
            .iter()
            .enumerate()
            .filter(|(_, st)| {
                matchers
                    .iter()
                    .all(|m| m.matches(st.labels.get(&m.name).unwrap_or("")))
            })
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Stream `i`'s labels and its entries in [start, end) that `keep`
    /// accepts, at most `max` of them starting after `skip` (an entry index
    /// into the stream's in-range entries); without their lines when
    /// `skip_lines`.
    pub(crate) fn read(
        &self,
        i: u32,
        (start, end): (i64, i64),
        (skip, max): (usize, usize),
        skip_lines: bool,
        keep: impl Fn(i64) -> bool,
    ) -> Option<(Arc<Labels>, Vec<LogEntry>, bool)> {
        let s = self.streams.read();
        let st = s.streams.get(i as usize)?;
        let from = st.entries.partition_point(|e| e.ts_ns < start);
        let to = st.entries.partition_point(|e| e.ts_ns < end);
        let from = (from + skip).min(to);
        let upto = (from + max).min(to);
        let out = st.entries[from..upto]
            .iter()
            .filter(|e| keep(e.ts_ns))
            .map(|e| {
                if skip_lines {
                    LogEntry {
                        ts_ns: e.ts_ns,
                        line: String::new(),
                        metadata: e.metadata.clone(),
                    }
                } else {
                    e.clone()
                }
            })
            .collect();
        Some((st.labels.clone(), out, upto < to))
    }

    /// Every stream's labels and in-range entry count and bytes (0 unless
    /// `sizes`: summing them reads every entry, which listing streams does
    /// not need).
    pub(crate) fn stream_stats(
        &self,
        matchers: &[Matcher],
        (start, end): (i64, i64),
        sizes: bool,
    ) -> Vec<(Arc<Labels>, u64, u64)> {
        let s = self.streams.read();
        s.streams
            .iter()
            .filter(|st| {
                matchers
                    .iter()
                    .all(|m| m.matches(st.labels.get(&m.name).unwrap_or("")))
            })
            .filter_map(|st| {
                let from = st.entries.partition_point(|e| e.ts_ns < start);
                let to = st.entries.partition_point(|e| e.ts_ns < end);
                (to > from).then(|| {
                    let bytes = if sizes {
                        st.entries[from..to].iter().map(|e| e.size() as u64).sum()
                    } else {
                        0
                    };
                    (st.labels.clone(), (to - from) as u64, bytes)
                })
            })
            .collect()
    }

    /// The start (ms) of the newest part of the head holding about `bytes`
    /// of lines and metadata (at least that many, to the millisecond);
    /// `None` when the head holds less than twice that, or `bytes` is 0.
    pub(crate) fn tail_start(&self, bytes: u64) -> Option<i64> {
        if bytes == 0 || self.bytes.load(Ordering::Relaxed) < bytes.saturating_mul(2) {
            return None;
        }
        let (lo, hi) = self.time_range()?;
        let s = self.streams.read();
        // Bytes of the entries at or after `t` ms: bounded by `bytes` (the
        // walk from each stream's end stops there), so a probe is cheap.
        let newer = |t: i64| -> u64 {
            let from = t.saturating_mul(1_000_000);
            let mut sum = 0u64;
            for st in &s.streams {
                for e in st.entries.iter().rev() {
                    if e.ts_ns < from || sum >= bytes {
                        break;
                    }
                    sum += e.size() as u64;
                }
            }
            sum
        };
        // The latest t with at least `bytes` at or after it.
        let (mut a, mut b) = (crate::segment::ms(lo), crate::segment::ms(hi) + 1);
        if newer(a) < bytes {
            return None;
        }
        while b - a > 1 {
            let m = a + (b - a) / 2;
            if newer(m) >= bytes {
                a = m;
            } else {
                b = m;
            }
        }
        (a > crate::segment::ms(lo)).then_some(a)
    }
}
