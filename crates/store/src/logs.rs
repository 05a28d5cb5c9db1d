//! The logs store traits: what the push endpoints ([`LogsWriter`]) and the
//! LogQL engine and Loki's read API ([`LogsReader`]) need from a logs store.
//!
//! Reads stream: [`LogsReader::select`] returns a [`LogCursor`] that yields
//! [`LogBatch`]es (entries of one stream, sorted in the asked direction) one
//! at a time, so a query holds one batch plus what it computes, never every
//! matching line. Times are nanoseconds since the epoch.

use crate::StorageError;
use argus_model::{Labels, LogPush, Matcher, TenantId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The order a query wants entries in (Loki's `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first (Loki's default).
    #[default]
    Backward,
}

/// What a query asks of the store.
#[derive(Debug, Clone)]
pub struct LogSelect {
    /// The stream selector: every matcher must match the stream's labels.
    pub matchers: Vec<Matcher>,
    /// Inclusive start, ns.
    pub start_ns: i64,
    /// Exclusive end, ns.
    pub end_ns: i64,
    /// Substrings every wanted line contains (the query's leading `|=`
    /// filters, case-sensitive): the store may skip blocks whose indexes
    /// say they cannot hold them. Lines without them may still be returned
    /// (the engine filters again).
    pub required: Vec<String>,
    /// The order of entries within a batch, and of the sources the cursor
    /// reads (newest sources first for `Backward`), so that a query with a
    /// limit can stop early ([`LogCursor::bound`]).
    pub direction: Direction,
    /// The caller reads no line text (a count over labels): the store may
    /// return entries with an empty `line` and skip reading lines.
    pub skip_lines: bool,
    /// `Some(keys)`: the caller needs only these structured metadata keys
    /// (a count grouped by labels): the store may leave the others out,
    /// and skip reading metadata where none of them can be.
    pub metadata_keys: Option<Vec<String>>,
    /// `Some(keys)`: the caller reads a line only through `| json k="k"`
    /// for these top-level keys (then labels only). Where a segment kept
    /// them as columns ([`JsonFields`]) and every wanted line of a stream
    /// yielded them, the store may give, instead of the line, the JSON
    /// object `{"k":"<value>",…}` of the values `| json` would extract.
    pub json_keys: Option<Vec<String>>,
}

/// What `| json k="k"` extracts from a line, for a store that keeps
/// top-level JSON members as columns beside the lines (implemented by the
/// query engine, so both read JSON the same way).
pub trait JsonFields: Send + Sync + std::fmt::Debug {
    /// Keys worth a column in a segment holding lines like `sample` (a
    /// few of each stream): present in most JSON lines, with few distinct
    /// values.
    fn choose(&self, sample: &[&str]) -> Vec<String>;

    /// What `| json k="k"` gives for each of `keys`.
    fn extractor(&self, keys: &[String]) -> Box<dyn JsonExtractor>;
}

/// [`JsonFields::extractor`].
pub trait JsonExtractor: Send {
    /// The value `| json k="k"` gives each key for `line`, in order, into
    /// `out` (resized to the keys; its strings are reused); `false` (and
    /// `out` unspecified) when the stage would not give a value for every
    /// key without an error (an empty line, not a JSON object).
    fn values(&self, line: &str, out: &mut Vec<String>) -> bool;
}

/// `{"k1":"v1","k2":"v2"}` for `keys` and `values`, appended to `out`:
/// the line a store gives in place of the original for
/// [`LogSelect::json_keys`].
pub fn json_object<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    values: impl IntoIterator<Item = &'a str>,
    out: &mut String,
) {
    out.push('{');
    for (i, (k, v)) in keys.into_iter().zip(values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(k, out);
        out.push(':');
        json_string(v, out);
    }
    out.push('}');
}

/// `s` as a JSON string literal.
fn json_string(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Entries of one stream, sorted by time in the selection's direction.
/// A stream may come in several batches (from memory and from several
/// segments), not globally ordered.
#[derive(Debug, Clone)]
pub struct LogBatch {
    pub labels: Arc<Labels>,
    pub entries: Vec<argus_model::LogEntry>,
}

/// One stream's entries as columns, for metric queries: `runs` are
/// entries sharing their structured metadata, each run's entries in the
/// selection's direction; lines are in one buffer per run (empty when the
/// selection skips lines), so reading builds no entry.
#[derive(Debug, Clone)]
pub struct RunBatch {
    pub labels: Arc<Labels>,
    pub runs: Vec<EntryRun>,
}

/// Lines kept by their producer (a column the store read), which an
/// [`EntryRun`] refers to instead of copying them.
pub trait LineSource: Send + Sync + std::fmt::Debug {
    /// Line `i` ("" when out of range).
    fn line(&self, i: usize) -> &str;
    /// The number of lines.
    fn len(&self) -> usize;
    /// Whether there is no line.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Lines `start..start + len` of a [`LineSource`].
#[derive(Debug, Clone)]
struct SharedLines {
    src: Arc<dyn LineSource>,
    start: usize,
    len: usize,
}

impl SharedLines {
    /// The lines copied: the text and each line's end.
    fn copy(&self) -> (String, Vec<u32>) {
        let lines = self.start..self.start + self.len;
        let mut text = String::with_capacity(lines.clone().map(|i| self.src.line(i).len()).sum());
        let mut ends = Vec::with_capacity(self.len + 1);
        for i in lines {
            text.push_str(self.src.line(i));
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        (text, ends)
    }
}

/// Where the lines of an [`EntryRun`] are.
#[derive(Debug, Clone)]
enum Lines {
    /// The run's own: one after the other, entry `i`'s ending at `ends[i]`
    /// (`ends` is empty while every line is).
    Owned { text: String, ends: Vec<u32> },
    /// Kept in their source: entry `i`'s is the source's `start + i`.
    Shared(SharedLines),
}

impl Default for Lines {
    fn default() -> Self {
        Lines::Owned {
            text: String::new(),
            ends: Vec::new(),
        }
    }
}

/// Adds a line after `n` others to owned lines.
fn push_owned(text: &mut String, ends: &mut Vec<u32>, n: usize, line: &str) {
    if line.is_empty() && ends.is_empty() {
        // No line yet (lines not read): `ends` is filled in when one
        // comes.
        return;
    }
    // The lines before were all empty: they end at 0.
    ends.resize(n, 0);
    text.push_str(line);
    ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
}

/// Entries of a [`RunBatch`] with the same structured metadata.
#[derive(Debug, Clone, Default)]
pub struct EntryRun {
    pub metadata: Vec<(String, String)>,
    pub ts_ns: Vec<i64>,
    /// The lines, the run's own or shared with the column they were read
    /// from.
    lines: Lines,
}

impl PartialEq for EntryRun {
    fn eq(&self, o: &Self) -> bool {
        self.metadata == o.metadata
            && self.ts_ns == o.ts_ns
            && (0..self.ts_ns.len()).all(|i| self.line(i) == o.line(i))
    }
}

impl Eq for EntryRun {}

impl EntryRun {
    /// A run of one entry.
    pub fn new(metadata: Vec<(String, String)>, ts_ns: i64, line: &str) -> Self {
        let mut r = EntryRun {
            metadata,
            ..Default::default()
        };
        r.push(ts_ns, line);
        r
    }

    /// A run of one entry whose line is `src`'s line `i`, not copied.
    pub fn new_shared(
        metadata: Vec<(String, String)>,
        ts_ns: i64,
        src: &Arc<dyn LineSource>,
        i: usize,
    ) -> Self {
        EntryRun {
            metadata,
            ts_ns: vec![ts_ns],
            lines: Lines::Shared(SharedLines {
                src: src.clone(),
                start: i,
                len: 1,
            }),
        }
    }

    /// Adds an entry.
    pub fn push(&mut self, ts_ns: i64, line: &str) {
        let n = self.ts_ns.len();
        match &mut self.lines {
            Lines::Owned { text, ends } => push_owned(text, ends, n, line),
            Lines::Shared(s) => {
                let (mut text, mut ends) = s.copy();
                push_owned(&mut text, &mut ends, n, line);
                self.lines = Lines::Owned { text, ends };
            }
        }
        self.ts_ns.push(ts_ns);
    }

    /// Adds an entry whose line is `src`'s line `i`: the line stays in
    /// `src` when it starts the run or follows the run's lines there, and
    /// is copied otherwise.
    pub fn push_shared(&mut self, ts_ns: i64, src: &Arc<dyn LineSource>, i: usize) {
        match &mut self.lines {
            Lines::Shared(s) if Arc::ptr_eq(&s.src, src) && s.start + s.len == i => s.len += 1,
            Lines::Owned { text, ends }
                if self.ts_ns.is_empty() && text.is_empty() && ends.is_empty() =>
            {
                self.lines = Lines::Shared(SharedLines {
                    src: src.clone(),
                    start: i,
                    len: 1,
                })
            }
            _ => return self.push(ts_ns, src.line(i)),
        }
        self.ts_ns.push(ts_ns);
    }

    /// The run in the opposite order.
    pub fn reverse(&mut self) {
        let mut r = EntryRun {
            metadata: std::mem::take(&mut self.metadata),
            ts_ns: Vec::with_capacity(self.ts_ns.len()),
            lines: Lines::default(),
        };
        for i in (0..self.ts_ns.len()).rev() {
            r.push(self.ts_ns[i], self.line(i));
        }
        *self = r;
    }

    /// The number of entries whose line the run holds: 0 while every line
    /// is empty (or lines were skipped), else one per entry.
    pub fn lines_held(&self) -> usize {
        match &self.lines {
            Lines::Owned { ends, .. } => ends.len(),
            Lines::Shared(s) => s.len,
        }
    }

    /// Entry `i`'s line ("" when lines were skipped or `i` is out of range).
    pub fn line(&self, i: usize) -> &str {
        match &self.lines {
            Lines::Owned { text, ends } => {
                let end = ends.get(i).copied().unwrap_or(0) as usize;
                let start = if i == 0 {
                    0
                } else {
                    ends.get(i - 1).copied().unwrap_or(0) as usize
                };
                text.get(start..end).unwrap_or("")
            }
            Lines::Shared(s) if i < s.len => s.src.line(s.start + i),
            Lines::Shared(_) => "",
        }
    }
}

impl From<LogBatch> for RunBatch {
    /// Consecutive entries with equal metadata become one run.
    fn from(b: LogBatch) -> Self {
        let mut runs: Vec<EntryRun> = Vec::new();
        for e in b.entries {
            match runs.last_mut() {
                Some(r) if r.metadata == e.metadata => r.push(e.ts_ns, &e.line),
                _ => runs.push(EntryRun::new(e.metadata, e.ts_ns, &e.line)),
            }
        }
        RunBatch {
            labels: b.labels,
            runs,
        }
    }
}

/// What a selection read and skipped (the query's `stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Segments overlapping the query's time range.
    pub segments_total: u64,
    /// Of those, skipped because no stream matched the selector.
    pub segments_skipped_streams: u64,
    /// Blocks (row groups) of the remaining segments.
    pub blocks_total: u64,
    /// Blocks skipped by their time range.
    pub blocks_skipped_time: u64,
    /// Blocks skipped by their token/n-gram filter (`required`).
    pub blocks_skipped_bloom: u64,
    /// Lines and bytes (line + structured metadata) decoded and returned.
    pub lines_scanned: u64,
    pub bytes_scanned: u64,
    /// Bytes read from segment files (compressed).
    pub bytes_read: u64,
    /// Lines returned from memory (not yet in segments).
    pub head_lines: u64,
}

impl ScanStats {
    pub fn add(&mut self, o: &ScanStats) {
        self.segments_total += o.segments_total;
        self.segments_skipped_streams += o.segments_skipped_streams;
        self.blocks_total += o.blocks_total;
        self.blocks_skipped_time += o.blocks_skipped_time;
        self.blocks_skipped_bloom += o.blocks_skipped_bloom;
        self.lines_scanned += o.lines_scanned;
        self.bytes_scanned += o.bytes_scanned;
        self.bytes_read += o.bytes_read;
        self.head_lines += o.head_lines;
    }
}

/// The lines a selection matched, read a batch at a time.
pub trait LogCursor: Send {
    /// The next batch, `None` at the end. A failure fails the query.
    fn next_batch(&mut self) -> Result<Option<LogBatch>, StorageError>;

    /// The next batch as runs of entries (see [`RunBatch`]), with their
    /// lines unless the selection skips them. A store that keeps entries
    /// in columns answers without building entries; the default converts
    /// [`LogCursor::next_batch`]'s.
    fn next_runs(&mut self) -> Result<Option<RunBatch>, StorageError> {
        Ok(self.next_batch()?.map(RunBatch::from))
    }

    /// The caller no longer needs entries older than `ts_ns` (direction
    /// `Backward`) or newer than `ts_ns` (`Forward`), e.g. because it holds
    /// `limit` entries already: the cursor may skip sources and blocks
    /// entirely beyond it. Entries beyond it may still be returned.
    fn bound(&mut self, ts_ns: i64) {
        let _ = ts_ns;
    }

    /// What was read so far.
    fn stats(&self) -> ScanStats;
}

/// Entries and bytes of one stream in a time range, from the index (no
/// line is read): what `/index/stats` and `/index/volume` add up. A
/// segment that overlaps the range counts whole, as Loki counts chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStats {
    pub labels: Arc<Labels>,
    /// Segments (and the in-memory head) holding entries of the stream.
    pub chunks: u64,
    pub entries: u64,
    /// Bytes of lines and structured metadata.
    pub bytes: u64,
}

/// What the LogQL engine and Loki's read endpoints need from a logs store.
/// Every read is of one tenant. Blocking: call it from a blocking thread.
pub trait LogsReader: Send + Sync + std::fmt::Debug {
    /// The entries of streams matching `select.matchers` in
    /// [`start_ns`, `end_ns`).
    fn select(
        &self,
        tenant: &TenantId,
        select: &LogSelect,
    ) -> Result<Box<dyn LogCursor>, StorageError>;

    /// The selection as up to `parts` cursors that together return each
    /// selected entry once, to be read concurrently (a metric query's
    /// threads). Each cursor's batches come in no particular order; `bound`
    /// is not meant for them. The default is one cursor, [`LogsReader::select`].
    fn select_parts(
        &self,
        tenant: &TenantId,
        select: &LogSelect,
        parts: usize,
    ) -> Result<Vec<Box<dyn LogCursor>>, StorageError> {
        let _ = parts;
        Ok(vec![self.select(tenant, select)?])
    }

    /// Label sets of streams matching any of `matcher_sets` (all streams
    /// when empty) with entries in [start_ns, end_ns), sorted and unique.
    fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StorageError>;

    /// Per-stream entry and byte counts of the streams matching `matchers`
    /// with entries in [start_ns, end_ns), from the index.
    fn stream_stats(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<StreamStats>, StorageError>;

    /// Label names of those streams (as `series`), sorted and unique.
    fn label_names(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>, StorageError> {
        let sets = if matchers.is_empty() {
            Vec::new()
        } else {
            vec![matchers.to_vec()]
        };
        let mut names: Vec<String> = self
            .series(tenant, &sets, start_ns, end_ns)?
            .iter()
            .flat_map(|l| l.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Values of label `name` in those streams, sorted and unique.
    fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<String>, StorageError> {
        let sets = if matchers.is_empty() {
            Vec::new()
        } else {
            vec![matchers.to_vec()]
        };
        let mut values: Vec<String> = self
            .series(tenant, &sets, start_ns, end_ns)?
            .iter()
            .filter_map(|l| l.get(name).map(String::from))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// Why entries of a push were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogRejectReason {
    /// Older than the stream's newest entry minus the out-of-order window,
    /// or older than what was already cut into segments.
    TooOld,
    /// The tenant's stream limit: a new stream would exceed it.
    StreamLimit,
}

impl LogRejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LogRejectReason::TooOld => "too_far_behind",
            LogRejectReason::StreamLimit => "stream_limit",
        }
    }

    /// True for a limit (answered 429), false for invalid data (400).
    pub fn is_limit(self) -> bool {
        matches!(self, LogRejectReason::StreamLimit)
    }
}

/// What a push did.
#[derive(Debug, Clone, Default)]
pub struct PushReport {
    pub accepted_entries: usize,
    /// Bytes of lines and structured metadata accepted.
    pub accepted_bytes: usize,
    pub new_streams: usize,
    /// Refused entries by reason.
    pub rejected: BTreeMap<LogRejectReason, usize>,
    /// The first few rejections for the error message: (stream, reason, entries).
    pub examples: Vec<(String, String, usize)>,
}

impl PushReport {
    pub fn rejected_total(&self) -> usize {
        self.rejected.values().sum()
    }

    /// True when any rejection came from a limit (answered 429).
    pub fn limited(&self) -> bool {
        self.rejected.keys().any(|r| r.is_limit())
    }
}

/// The store's per-tenant limits on a push (the rest, line and metadata
/// sizes, labels per stream and the rate, are checked before the store).
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Active streams (in memory) per tenant; 0 = unlimited.
    pub max_streams: usize,
    /// Entries older than a stream's newest minus this are refused (ns).
    pub out_of_order_window_ns: i64,
}

/// A store that can move what it holds in memory into segments on demand
/// (Loki's ingester `POST /flush`; tools and benchmarks).
pub trait Flush: Send + Sync + std::fmt::Debug {
    /// Flushes every tenant's in-memory data into segments, uploaded and
    /// installed when the future completes.
    fn flush(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StorageError>> + Send + '_>>;
}

/// What the logs write path needs from a logs store.
pub trait LogsWriter: Send + Sync + std::fmt::Debug {
    /// Stores a push for a tenant, durably (as the store's fsync policy
    /// says) before returning. Entries the store refuses are in the report;
    /// an `Err` means nothing was stored. Blocking.
    fn push(
        &self,
        tenant: &TenantId,
        streams: LogPush,
        limits: StreamLimits,
    ) -> Result<PushReport, StorageError>;
}

/// A logs store in memory, for tests of the layers above (the engine, the
/// API): every push is kept as it came (no limits, no durability);
/// `select` returns one batch per stream.
#[derive(Debug, Default)]
pub struct MemLogs {
    tenants: parking_lot::Mutex<BTreeMap<TenantId, BTreeMap<Labels, Vec<argus_model::LogEntry>>>>,
}

impl MemLogs {
    pub fn new() -> Self {
        Self::default()
    }

    fn matching(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Vec<(Labels, Vec<argus_model::LogEntry>)> {
        let tenants = self.tenants.lock();
        let Some(streams) = tenants.get(tenant) else {
            return Vec::new();
        };
        streams
            .iter()
            .filter(|(l, _)| {
                matchers
                    .iter()
                    .all(|m| m.matches(l.get(&m.name).unwrap_or("")))
            })
            .map(|(l, es)| {
                let es: Vec<_> = es
                    .iter()
                    .filter(|e| e.ts_ns >= start_ns && e.ts_ns < end_ns)
                    .cloned()
                    .collect();
                (l.clone(), es)
            })
            .filter(|(_, es)| !es.is_empty())
            .collect()
    }
}

impl LogsWriter for MemLogs {
    fn push(
        &self,
        tenant: &TenantId,
        streams: LogPush,
        _limits: StreamLimits,
    ) -> Result<PushReport, StorageError> {
        let mut report = PushReport::default();
        let mut tenants = self.tenants.lock();
        let t = tenants.entry(tenant.clone()).or_default();
        for s in streams {
            let entries = match t.get_mut(&s.labels) {
                Some(e) => e,
                None => {
                    report.new_streams += 1;
                    t.entry(s.labels).or_default()
                }
            };
            for e in s.entries {
                report.accepted_entries += 1;
                report.accepted_bytes += e.size();
                entries.push(e);
            }
        }
        Ok(report)
    }
}

struct MemCursor {
    batches: std::vec::IntoIter<LogBatch>,
    stats: ScanStats,
}

impl LogCursor for MemCursor {
    fn next_batch(&mut self) -> Result<Option<LogBatch>, StorageError> {
        let b = self.batches.next();
        if let Some(b) = &b {
            self.stats.lines_scanned += b.entries.len() as u64;
            self.stats.head_lines += b.entries.len() as u64;
            self.stats.bytes_scanned += b.entries.iter().map(|e| e.size() as u64).sum::<u64>();
        }
        Ok(b)
    }

    fn stats(&self) -> ScanStats {
        self.stats
    }
}

impl LogsReader for MemLogs {
    fn select(
        &self,
        tenant: &TenantId,
        select: &LogSelect,
    ) -> Result<Box<dyn LogCursor>, StorageError> {
        let batches: Vec<LogBatch> = self
            .matching(tenant, &select.matchers, select.start_ns, select.end_ns)
            .into_iter()
            .map(|(labels, mut entries)| {
                if select.skip_lines {
                    entries.iter_mut().for_each(|e| e.line.clear());
                }
                entries.sort_by_key(|e| e.ts_ns);
                if select.direction == Direction::Backward {
                    entries.reverse();
                }
                LogBatch {
                    labels: Arc::new(labels),
                    entries,
                }
            })
            .collect();
        Ok(Box::new(MemCursor {
            batches: batches.into_iter(),
            stats: ScanStats::default(),
        }))
    }

    fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        let mut out: Vec<Labels> = if matcher_sets.is_empty() {
            self.matching(tenant, &[], start_ns, end_ns)
                .into_iter()
                .map(|(l, _)| l)
                .collect()
        } else {
            matcher_sets
                .iter()
                .flat_map(|m| self.matching(tenant, m, start_ns, end_ns))
                .map(|(l, _)| l)
                .collect()
        };
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn stream_stats(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<StreamStats>, StorageError> {
        Ok(self
            .matching(tenant, matchers, start_ns, end_ns)
            .into_iter()
            .map(|(l, es)| StreamStats {
                labels: Arc::new(l),
                chunks: 1,
                entries: es.len() as u64,
                bytes: es.iter().map(|e| e.size() as u64).sum(),
            })
            .collect())
    }
}

#[cfg(test)]
mod run_tests {
    use super::{EntryRun, LineSource, Lines};
    use std::sync::Arc;

    /// Lines in a `Vec`, as a column the store read.
    #[derive(Debug)]
    struct VecLines(Vec<String>);

    impl LineSource for VecLines {
        fn line(&self, i: usize) -> &str {
            self.0.get(i).map(String::as_str).unwrap_or("")
        }
        fn len(&self) -> usize {
            self.0.len()
        }
    }

    #[test]
    fn shared_runs_read_as_copied_ones() {
        let col: Vec<String> = ["a", "bb", "", "dddd", "e"].map(String::from).to_vec();
        let src: Arc<dyn LineSource> = Arc::new(VecLines(col.clone()));
        let other: Arc<dyn LineSource> = Arc::new(VecLines(col.clone()));
        // Rows 1..4 follow each other; then a gap (row 0), then another source.
        let rows: [(&Arc<dyn LineSource>, usize); 5] =
            [(&src, 1), (&src, 2), (&src, 3), (&src, 0), (&other, 4)];
        let mut shared = EntryRun::default();
        let mut copied = EntryRun::default();
        for (t, (s, i)) in rows.iter().enumerate() {
            shared.push_shared(t as i64, s, *i);
            copied.push(t as i64, &col[*i]);
            assert_eq!(shared, copied);
            assert_eq!(shared.lines_held(), t + 1);
        }
        // Kept in the source while the rows followed each other.
        let mut r = EntryRun::new_shared(vec![], 0, &src, 1);
        r.push_shared(1, &src, 2);
        assert!(matches!(r.lines, Lines::Shared(_)));
        assert_eq!((r.line(0), r.line(1), r.line(2)), ("bb", "", ""));
        r.push(2, "x");
        assert!(matches!(r.lines, Lines::Owned { .. }));
        assert_eq!((r.line(0), r.line(1), r.line(2)), ("bb", "", "x"));
        let mut rev = EntryRun::new_shared(vec![], 0, &src, 3);
        rev.push_shared(1, &src, 4);
        rev.reverse();
        assert_eq!(
            (rev.ts_ns.clone(), rev.line(0), rev.line(1)),
            (vec![1, 0], "e", "dddd")
        );
    }

    #[test]
    fn runs_keep_each_line_with_its_time_in_either_order() {
        let mut r = EntryRun::default();
        for (t, l) in [(1, ""), (2, ""), (3, "c"), (4, ""), (5, "eee")] {
            r.push(t, l);
        }
        let got = |r: &EntryRun| -> Vec<(i64, String)> {
            (0..r.ts_ns.len())
                .map(|i| (r.ts_ns[i], r.line(i).to_string()))
                .collect()
        };
        let want: Vec<(i64, String)> = [(1, ""), (2, ""), (3, "c"), (4, ""), (5, "eee")]
            .iter()
            .map(|&(t, l)| (t, l.to_string()))
            .collect();
        assert_eq!(got(&r), want);
        r.reverse();
        assert_eq!(got(&r), want.into_iter().rev().collect::<Vec<_>>());
        // Lines not read: no buffer at all.
        let mut bare = EntryRun::default();
        bare.push(1, "");
        bare.push(2, "");
        assert_eq!(bare.lines_held(), 0);
        assert!(
            matches!(&bare.lines, Lines::Owned { text, ends } if text.is_empty() && ends.is_empty())
        );
        assert_eq!((bare.line(0), bare.line(1), bare.line(9)), ("", "", ""));
    }
}
