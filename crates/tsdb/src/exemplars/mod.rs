//! One tenant's exemplars, kept as Prometheus keeps them
//! (`tsdb/exemplar.go`, `CircularExemplarStorage`): a circular buffer of at
//! most `max_exemplars` entries shared by the tenant's series, each series'
//! entries linked oldest to newest and found through an index by series
//! labels. The newest entry overwrites the oldest of the whole buffer; a
//! series whose last entry goes leaves the index.
//!
//! An exemplar is refused when it is older than its series' newest one
//! (Prometheus's out-of-order rule: an older time, or the same time with a
//! smaller value, or the same time and value with labels of a smaller hash),
//! ignored when it is exactly the newest one (a duplicate: a retried write
//! or a re-scraped exemplar), and refused when its labels are longer than
//! 128 characters. Durability is the caller's:
//! [`Db::append_exemplars`](crate::Db::append_exemplars) logs accepted
//! exemplars in the WAL (record type 8, [`walrec`]) before adding them, and
//! a checkpoint holds the whole buffer.

mod append;
pub mod walrec;

use argus_model::{Exemplar, Labels, Matcher};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// No next entry.
const NONE: usize = usize::MAX;

/// What [`Exemplars::check`] found for one exemplar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// New: store it.
    Append,
    /// Exactly the series' newest exemplar: nothing to do.
    Duplicate,
    /// Older than the series' newest exemplar.
    OutOfOrder,
    /// Labels longer than 128 characters.
    LabelTooLong,
    /// The store keeps no exemplars (`max_exemplars` 0).
    Disabled,
}

impl Check {
    /// The rejection reason, for counters and reports (None when accepted).
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Check::Append | Check::Duplicate => None,
            Check::OutOfOrder => Some("out_of_order"),
            Check::LabelTooLong => Some("label_too_long"),
            Check::Disabled => Some("disabled"),
        }
    }
}

#[derive(Debug)]
struct Entry {
    series: Arc<Labels>,
    exemplar: Exemplar,
    /// The series' next (newer) entry, or [`NONE`].
    next: usize,
}

/// A series' first and last entries.
#[derive(Debug, Clone, Copy)]
struct Span {
    oldest: usize,
    newest: usize,
}

#[derive(Debug, Default)]
struct Ring {
    /// Grows to the capacity, then wraps.
    entries: Vec<Entry>,
    /// The slot the next exemplar goes to.
    next: usize,
    index: HashMap<Arc<Labels>, Span>,
}

/// A tenant's exemplars (see the module docs). Reads and writes lock it
/// briefly; writes are serialised by the caller (the tenant's append lock)
/// so that a check and the add after it see the same state.
#[derive(Debug)]
pub struct Exemplars {
    capacity: usize,
    ring: RwLock<Ring>,
}

/// Prometheus's out-of-order test against a series' newest exemplar.
fn out_of_order(e: &Exemplar, newest: &Exemplar) -> bool {
    e.ts_ms < newest.ts_ms
        || (e.ts_ms == newest.ts_ms && e.value < newest.value)
        || (e.ts_ms == newest.ts_ms
            && e.value == newest.value
            && e.labels.stable_hash() < newest.labels.stable_hash())
}

/// [`Exemplars::check`] against a given newest exemplar.
pub(crate) fn check_against(e: &Exemplar, newest: Option<&Exemplar>) -> Check {
    if e.labels_too_long() {
        return Check::LabelTooLong;
    }
    match newest {
        Some(n) if n.same_as(e) => Check::Duplicate,
        Some(n) if out_of_order(e, n) => Check::OutOfOrder,
        _ => Check::Append,
    }
}

impl Exemplars {
    /// A store of at most `capacity` exemplars (0: off, every exemplar is
    /// refused as [`Check::Disabled`]). Memory grows with use.
    pub fn new(capacity: usize) -> Self {
        Exemplars {
            capacity,
            ring: RwLock::default(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Exemplars held now.
    pub fn len(&self) -> usize {
        self.ring.read().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The series' newest exemplar.
    pub fn newest(&self, series: &Labels) -> Option<Exemplar> {
        let ring = self.ring.read();
        let span = ring.index.get(series)?;
        Some(ring.entries[span.newest].exemplar.clone())
    }

    /// Whether `e` would be stored for `series` now.
    pub fn check(&self, series: &Labels, e: &Exemplar) -> Check {
        if self.capacity == 0 {
            return Check::Disabled;
        }
        let ring = self.ring.read();
        let newest = ring
            .index
            .get(series)
            .map(|s| &ring.entries[s.newest].exemplar);
        check_against(e, newest)
    }

    /// Checks and stores one exemplar (WAL replay, tests): what
    /// [`Self::check`] says, and the exemplar is stored when it says
    /// [`Check::Append`].
    pub fn add(&self, series: &Labels, e: Exemplar) -> Check {
        let c = self.check(series, &e);
        if c == Check::Append {
            self.ring.write().push(self.capacity, series, e);
        }
        c
    }

    /// Stores exemplars the caller checked (in order), without checking.
    pub(crate) fn add_checked(&self, items: impl IntoIterator<Item = (Labels, Exemplar)>) {
        let mut ring = self.ring.write();
        for (series, e) in items {
            ring.push(self.capacity, &series, e);
        }
    }

    /// Every exemplar held, oldest first, with its series: what a WAL
    /// checkpoint writes and a replay adds back in order.
    pub fn snapshot(&self) -> Vec<(Arc<Labels>, Exemplar)> {
        let ring = self.ring.read();
        let n = ring.entries.len();
        // Before the buffer is full the oldest is slot 0; after, `next`.
        let start = if n < self.capacity { 0 } else { ring.next };
        (0..n)
            .map(|i| &ring.entries[(start + i) % n])
            .map(|e| (e.series.clone(), e.exemplar.clone()))
            .collect()
    }

    /// Exemplars in [start, end] of series matching any of `matcher_sets`
    /// (all of one set's matchers; every series when there is none), one
    /// entry per series with some, sorted by series labels, oldest first
    /// (Prometheus's `CircularExemplarStorage.Select`).
    pub fn select(
        &self,
        matcher_sets: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Exemplar>)> {
        let ring = self.ring.read();
        let mut out = Vec::new();
        for (series, span) in &ring.index {
            let oldest = &ring.entries[span.oldest].exemplar;
            if oldest.ts_ms > end || ring.entries[span.newest].exemplar.ts_ms < start {
                continue;
            }
            let matches = matcher_sets.is_empty()
                || matcher_sets
                    .iter()
                    .any(|set| set.iter().all(|m| m.matches_labels(series)));
            if !matches {
                continue;
            }
            let mut found = Vec::new();
            let mut i = span.oldest;
            while i != NONE {
                let e = &ring.entries[i];
                if e.exemplar.ts_ms > end {
                    break;
                }
                if e.exemplar.ts_ms >= start {
                    found.push(e.exemplar.clone());
                }
                i = e.next;
            }
            if !found.is_empty() {
                out.push(((**series).clone(), found));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Ring {
    /// Puts `e` in the next slot, evicting what was there.
    fn push(&mut self, capacity: usize, series: &Labels, e: Exemplar) {
        let slot = self.next;
        let key = match self.index.get_key_value(series) {
            Some((k, _)) => k.clone(),
            None => Arc::new(series.clone()),
        };
        if slot < self.entries.len() {
            self.evict(slot);
        }
        let entry = Entry {
            series: key.clone(),
            exemplar: e,
            next: NONE,
        };
        if slot < self.entries.len() {
            self.entries[slot] = entry;
        } else {
            self.entries.push(entry);
        }
        match self.index.get_mut(&key) {
            Some(span) => {
                self.entries[span.newest].next = slot;
                span.newest = slot;
            }
            None => {
                self.index.insert(
                    key,
                    Span {
                        oldest: slot,
                        newest: slot,
                    },
                );
            }
        }
        self.next = (slot + 1) % capacity.max(1);
    }

    /// Drops the entry at `slot`, the oldest of its series (the buffer
    /// overwrites in order, so the oldest of all is its series' oldest).
    fn evict(&mut self, slot: usize) {
        let (next, series) = {
            let e = &self.entries[slot];
            (e.next, e.series.clone())
        };
        if next == NONE {
            self.index.remove(&*series);
        } else if let Some(span) = self.index.get_mut(&*series) {
            span.oldest = next;
        }
    }
}

#[cfg(test)]
mod tests;
