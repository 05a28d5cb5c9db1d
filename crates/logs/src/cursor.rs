//! A selection's cursor: the sources a query reads (the active head, the
//! frozen head, the segments), in the query's direction, one batch at a
//! time. The set of sources is taken under the tenant's state lock, so a
//! flush running meanwhile neither hides nor repeats an entry: the frozen
//! head's ranges already installed as segments are skipped there.

use crate::head::Head;
use crate::segment::{ScanPlan, SegmentReader, SegmentScan};
type Frozen = argus_segments::tenants::Frozen<crate::head::Head>;
use argus_store::{Direction, LogBatch, LogCursor, LogSelect, RunBatch, ScanStats, StorageError};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

const HEAD_BATCH: usize = 4096;

#[derive(Debug)]
pub(crate) enum Source {
    Head {
        head: Arc<Head>,
        /// Ranges (ms) of a frozen head already in segments.
        installed: Option<Frozen>,
    },
    Segment(Arc<SegmentReader>),
    /// Some row groups of a segment, planned already (a part of a
    /// selection read by several cursors).
    Planned(Arc<SegmentReader>, ScanPlan),
}

impl Source {
    /// (min, max) ns of what the source may hold.
    fn range(&self) -> Option<(i64, i64)> {
        match self {
            Source::Head { head, .. } => head.time_range(),
            Source::Segment(s) | Source::Planned(s, _) => Some((
                s.meta.min_time.saturating_mul(1_000_000),
                s.meta.max_time.saturating_mul(1_000_000) - 1,
            )),
        }
    }
}

enum Current {
    None,
    Head {
        head: Arc<Head>,
        installed: Option<Frozen>,
        streams: Vec<u32>,
        at: usize,
        skip: usize,
    },
    Segment(Box<SegmentScan>),
}

/// Row groups per unit of work when a selection is read in parts.
const PART_ROW_GROUPS: usize = 2;

pub(crate) struct Cursor {
    select: LogSelect,
    sources: VecDeque<Source>,
    /// Sources shared with the other parts of the selection, taken one at
    /// a time once `sources` is empty.
    shared: Option<Arc<Mutex<VecDeque<Source>>>>,
    current: Current,
    bound: Option<i64>,
    stats: ScanStats,
}

impl Cursor {
    /// `sources` in the selection's direction (newest first for
    /// `Backward`).
    pub(crate) fn new(select: LogSelect, sources: Vec<Source>) -> Cursor {
        Cursor {
            select,
            sources: sources.into(),
            shared: None,
            current: Current::None,
            bound: None,
            stats: ScanStats::default(),
        }
    }

    /// The selection as `parts` cursors sharing its sources, segments
    /// planned here and cut into units of a few row groups, so that the
    /// cursors read concurrently share the work evenly.
    pub(crate) fn parts(select: LogSelect, sources: Vec<Source>, parts: usize) -> Vec<Cursor> {
        let mut stats = ScanStats::default();
        let mut units: VecDeque<Source> = VecDeque::new();
        for src in sources {
            match src {
                Source::Segment(seg) => {
                    if !seg.overlaps(select.start_ns, select.end_ns) {
                        continue;
                    }
                    let Some(plan) = seg.plan(
                        &select.matchers,
                        select.start_ns,
                        select.end_ns,
                        &select.required,
                        &mut stats,
                    ) else {
                        continue;
                    };
                    for chunk in plan.row_groups.chunks(PART_ROW_GROUPS) {
                        let part = ScanPlan {
                            row_groups: chunk.to_vec(),
                            wanted: plan.wanted.clone(),
                        };
                        units.push_back(Source::Planned(seg.clone(), part));
                    }
                }
                other => units.push_back(other),
            }
        }
        let shared = Arc::new(Mutex::new(units));
        (0..parts.max(1))
            .map(|i| Cursor {
                select: select.clone(),
                sources: VecDeque::new(),
                shared: Some(shared.clone()),
                current: Current::None,
                bound: None,
                stats: if i == 0 { stats } else { ScanStats::default() },
            })
            .collect()
    }

    fn next_source(&mut self) -> Option<Source> {
        if let Some(s) = self.sources.pop_front() {
            return Some(s);
        }
        self.shared.as_ref()?.lock().pop_front()
    }

    fn beyond_bound(&self, range: (i64, i64)) -> bool {
        match (self.bound, self.select.direction) {
            (Some(b), Direction::Backward) => range.1 < b,
            (Some(b), Direction::Forward) => range.0 > b,
            (None, _) => false,
        }
    }

    fn open(&mut self, src: Source) {
        let sel = &self.select;
        self.current = match src {
            Source::Head { head, installed } => {
                let streams = head.matching(&sel.matchers);
                Current::Head {
                    head,
                    installed,
                    streams,
                    at: 0,
                    skip: 0,
                }
            }
            Source::Planned(seg, plan) => {
                let mut scan = seg.scan(plan, sel.start_ns, sel.end_ns, sel.direction);
                scan.skip_lines(sel.skip_lines);
                scan.metadata_keys(sel.metadata_keys.clone());
                scan.json_keys(sel.json_keys.clone());
                Current::Segment(Box::new(scan))
            }
            Source::Segment(seg) => {
                let mut stats = ScanStats::default();
                let plan = seg.plan(
                    &sel.matchers,
                    sel.start_ns,
                    sel.end_ns,
                    &sel.required,
                    &mut stats,
                );
                self.stats.add(&stats);
                match plan {
                    Some(plan) => {
                        let mut scan = seg.scan(plan, sel.start_ns, sel.end_ns, sel.direction);
                        scan.skip_lines(sel.skip_lines);
                        scan.metadata_keys(sel.metadata_keys.clone());
                        scan.json_keys(sel.json_keys.clone());
                        if let Some(b) = self.bound {
                            scan.bound(b);
                        }
                        Current::Segment(Box::new(scan))
                    }
                    None => Current::None,
                }
            }
        };
    }
}

/// A batch as entries or as timestamps.
enum Out {
    Entries(LogBatch),
    Runs(RunBatch),
}

impl Cursor {
    /// The next batch; from segments as timestamps when `timestamps`.
    fn advance(&mut self, timestamps: bool) -> Result<Option<Out>, StorageError> {
        loop {
            match &mut self.current {
                Current::None => {
                    let Some(src) = self.next_source() else {
                        return Ok(None);
                    };
                    match src.range() {
                        None => continue,
                        Some(r) if r.1 < self.select.start_ns || r.0 >= self.select.end_ns => {
                            continue
                        }
                        Some(r) if self.beyond_bound(r) => continue,
                        Some(_) => {}
                    }
                    self.open(src);
                }
                Current::Head {
                    head,
                    installed,
                    streams,
                    at,
                    skip,
                } => {
                    let Some(&i) = streams.get(*at) else {
                        self.current = Current::None;
                        continue;
                    };
                    let frozen = installed.clone();
                    let keep = |ts: i64| frozen.as_ref().is_none_or(|f| !f.is_installed(ts));
                    let Some((labels, mut entries, more)) = head.read(
                        i,
                        (self.select.start_ns, self.select.end_ns),
                        (*skip, HEAD_BATCH),
                        self.select.skip_lines,
                        keep,
                    ) else {
                        *at += 1;
                        *skip = 0;
                        continue;
                    };
                    if more {
                        *skip += HEAD_BATCH;
                    } else {
                        *at += 1;
                        *skip = 0;
                    }
                    if entries.is_empty() {
                        continue;
                    }
                    if self.select.direction == Direction::Backward {
                        entries.reverse();
                    }
                    let n = entries.len() as u64;
                    self.stats.lines_scanned += n;
                    self.stats.head_lines += n;
                    self.stats.bytes_scanned +=
                        entries.iter().map(|e| e.size() as u64).sum::<u64>();
                    return Ok(Some(Out::Entries(LogBatch { labels, entries })));
                }
                Current::Segment(scan) => match if timestamps {
                    scan.next_runs().map(|b| b.map(Out::Runs))
                } else {
                    scan.next_batch().map(|b| b.map(Out::Entries))
                } {
                    Ok(Some(b)) => return Ok(Some(b)),
                    Ok(None) => {
                        let s = scan.stats;
                        self.stats.add(&s);
                        self.current = Current::None;
                    }
                    Err(e) => {
                        return Err(StorageError::internal(format!("reading logs segment: {e}")))
                    }
                },
            }
        }
    }
}

impl LogCursor for Cursor {
    fn next_batch(&mut self) -> Result<Option<LogBatch>, StorageError> {
        match self.advance(false)? {
            Some(Out::Entries(b)) => Ok(Some(b)),
            // Only produced when asked for.
            Some(Out::Runs(_)) => Err(StorageError::internal(
                "logs cursor: timestamps where entries were asked for",
            )),
            None => Ok(None),
        }
    }

    fn next_runs(&mut self) -> Result<Option<RunBatch>, StorageError> {
        Ok(self.advance(true)?.map(|o| match o {
            Out::Entries(b) => b.into(),
            Out::Runs(b) => b,
        }))
    }

    fn bound(&mut self, ts_ns: i64) {
        self.bound = Some(ts_ns);
        if let Current::Segment(scan) = &mut self.current {
            scan.bound(ts_ns);
        }
    }

    fn stats(&self) -> ScanStats {
        let mut s = self.stats;
        if let Current::Segment(scan) = &self.current {
            s.add(&scan.stats);
        }
        s
    }
}
