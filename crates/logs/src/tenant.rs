//! One tenant's logs: its WAL, its active and frozen heads, its segments;
//! the push path and WAL replay.

use crate::head::Head;
use crate::segment::{ms, SegmentReader};
use crate::walrec::{self, Record};
use crate::{LogsError, LogsOptions};
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_store::{LogRejectReason, PushReport, StreamLimits};
use argus_wal::Wal;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tracing::info;

/// A head set aside by a flush, readable until its segments are installed
/// and it is released.
#[derive(Debug, Clone)]
pub(crate) struct Frozen {
    pub(crate) head: Arc<Head>,
    /// The WAL segment the freeze closed: every record of this head is in
    /// it or an earlier one.
    pub(crate) wal_segment: u64,
    /// Aligned ranges (ms) already cut into installed segments: reads of
    /// the frozen head skip them (the segment has them).
    pub(crate) installed: Vec<(i64, i64)>,
}

impl Frozen {
    pub(crate) fn is_installed(&self, ts_ns: i64) -> bool {
        let t = ms(ts_ns);
        self.installed.iter().any(|&(s, e)| t >= s && t < e)
    }
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) active: Arc<Head>,
    pub(crate) frozen: Option<Frozen>,
    /// Installed segments, oldest first.
    pub(crate) segments: Vec<Arc<SegmentReader>>,
}

#[derive(Debug, Default)]
pub(crate) struct AppendState {
    /// Each stream's newest entry time (ns), across flushes: the
    /// out-of-order window counts from it.
    pub(crate) newest: HashMap<Arc<Labels>, i64>,
}

#[derive(Debug)]
pub(crate) struct TenantLogs {
    pub(crate) tenant: TenantId,
    pub(crate) wal: Wal,
    pub(crate) append: Mutex<AppendState>,
    pub(crate) state: RwLock<State>,
    /// One lifecycle step (flush, compaction, retention) at a time.
    pub(crate) lifecycle: tokio::sync::Mutex<()>,
}

impl TenantLogs {
    /// Opens the tenant's WAL and replays it over its installed segments:
    /// entries of a flush that a segment already holds are skipped.
    pub(crate) fn open(
        tenant: TenantId,
        opts: &LogsOptions,
        segments: Vec<Arc<SegmentReader>>,
    ) -> Result<TenantLogs, LogsError> {
        let dir = opts.data().wal(&tenant, argus_model::Signal::Logs);
        let wal = Wal::open(&dir, opts.wal.clone())?;
        let mut windows: HashMap<u64, Vec<(i64, i64)>> = HashMap::new();
        for s in &segments {
            for f in &s.meta.flushes {
                windows.entry(f.wal).or_default().push((f.start, f.end));
            }
        }
        let mut pending: Vec<LogStream> = Vec::new();
        let mut skipped = 0u64;
        let stats = wal.replay(|rec| {
            match walrec::decode(rec).map_err(argus_wal::WalError::callback)? {
                Record::Entries(streams) => pending.extend(streams),
                Record::Freeze(k) => {
                    if let Some(w) = windows.get(&k) {
                        for s in &mut pending {
                            let before = s.entries.len();
                            s.entries.retain(|e| {
                                let t = ms(e.ts_ns);
                                !w.iter().any(|&(a, b)| t >= a && t < b)
                            });
                            skipped += (before - s.entries.len()) as u64;
                        }
                        pending.retain(|s| !s.entries.is_empty());
                    }
                }
            }
            Ok(())
        })?;
        let head = Arc::new(Head::default());
        let mut append = AppendState::default();
        let mut interned: HashMap<Labels, Arc<Labels>> = HashMap::new();
        let mut replayed = 0usize;
        for s in pending {
            let labels = interned
                .entry(s.labels.clone())
                .or_insert_with(|| Arc::new(s.labels))
                .clone();
            if let Some(max) = s.entries.iter().map(|e| e.ts_ns).max() {
                let n = append.newest.entry(labels.clone()).or_insert(max);
                *n = (*n).max(max);
            }
            replayed += s.entries.len();
            head.append(&labels, s.entries);
        }
        info!(
            tenant = %tenant,
            records = stats.records,
            entries = replayed,
            skipped_in_segments = skipped,
            segments = segments.len(),
            "logs wal replayed"
        );
        Ok(TenantLogs {
            tenant,
            wal,
            append: Mutex::new(append),
            state: RwLock::new(State {
                active: head,
                frozen: None,
                segments,
            }),
            lifecycle: tokio::sync::Mutex::new(()),
        })
    }

    /// Bytes of lines and metadata not yet in segments (active and frozen heads).
    pub(crate) fn unflushed_bytes(&self) -> u64 {
        let st = self.state.read();
        st.active.bytes.load(std::sync::atomic::Ordering::Relaxed)
            + st.frozen.as_ref().map_or(0, |f| {
                f.head.bytes.load(std::sync::atomic::Ordering::Relaxed)
            })
    }

    /// Stores a push: validate under the append lock, write the WAL, apply
    /// to the active head, then wait for the WAL's fsync policy.
    pub(crate) fn push(
        &self,
        streams: Vec<LogStream>,
        limits: StreamLimits,
    ) -> Result<PushReport, LogsError> {
        let mut report = PushReport::default();
        let seq = {
            let mut app = self.append.lock();
            let (active, frozen) = {
                let st = self.state.read();
                (
                    st.active.clone(),
                    st.frozen.as_ref().map(|f| f.head.clone()),
                )
            };
            let mut new_streams: HashSet<Arc<Labels>> = HashSet::new();
            let mut accepted: Vec<(Arc<Labels>, Vec<LogEntry>)> = Vec::new();
            let mut newest_now: HashMap<Arc<Labels>, i64> = HashMap::new();
            for s in streams {
                let labels = match app.newest.get_key_value(&s.labels) {
                    Some((k, _)) => k.clone(),
                    None => Arc::new(s.labels),
                };
                if !active.contains_stream(&labels) && !new_streams.contains(&labels) {
                    if limits.max_streams > 0
                        && active.stream_count() + new_streams.len() >= limits.max_streams
                    {
                        let n = s.entries.len();
                        *report
                            .rejected
                            .entry(LogRejectReason::StreamLimit)
                            .or_default() += n;
                        report.example(
                            &labels,
                            format!(
                                "Maximum active stream limit exceeded, reduce the number of active streams (reduce labels or reduce label values), or contact your administrator to see if the limit can be increased, user: '{}'",
                                self.tenant
                            ),
                            n,
                        );
                        continue;
                    }
                    new_streams.insert(labels.clone());
                }
                let mut newest = newest_now
                    .get(&labels)
                    .copied()
                    .or_else(|| app.newest.get(&labels).copied())
                    .unwrap_or(i64::MIN);
                let mut keep: Vec<LogEntry> = Vec::with_capacity(s.entries.len());
                // Only an entry no newer than the newest of the stream's
                // entries held (in a head, or kept from this push) can be a
                // retry: most entries are newer, and need no lookup.
                let held = active
                    .newest(&labels)
                    .max(frozen.as_ref().and_then(|f| f.newest(&labels)));
                let mut newest_kept = i64::MIN;
                // (time, line hash) of the kept entries, built at the first
                // entry not newer than all of them.
                let mut seen: Option<HashSet<(i64, u64)>> = None;
                let mut too_old = 0usize;
                let mut first_old = None;
                for e in s.entries {
                    if newest != i64::MIN
                        && e.ts_ns < newest.saturating_sub(limits.out_of_order_window_ns)
                    {
                        too_old += 1;
                        first_old.get_or_insert(e.ts_ns);
                        continue;
                    }
                    let in_heads = held.is_some_and(|h| e.ts_ns <= h)
                        && (active.is_duplicate(&labels, &e)
                            || frozen.as_ref().is_some_and(|f| f.is_duplicate(&labels, &e)));
                    let key = (e.ts_ns <= newest_kept).then(|| (e.ts_ns, line_hash(&e.line)));
                    let in_push = key.is_some_and(|key| {
                        seen.get_or_insert_with(|| {
                            keep.iter().map(|k| (k.ts_ns, line_hash(&k.line))).collect()
                        })
                        .contains(&key)
                            && keep.iter().any(|k| k.ts_ns == e.ts_ns && k.line == e.line)
                    });
                    if in_heads || in_push {
                        // A retried push: stored already, answered as stored.
                        report.accepted_entries += 1;
                        continue;
                    }
                    if let Some(seen) = &mut seen {
                        seen.insert(key.unwrap_or_else(|| (e.ts_ns, line_hash(&e.line))));
                    }
                    newest_kept = newest_kept.max(e.ts_ns);
                    newest = newest.max(e.ts_ns);
                    report.accepted_entries += 1;
                    report.accepted_bytes += e.size();
                    keep.push(e);
                }
                if too_old > 0 {
                    *report.rejected.entry(LogRejectReason::TooOld).or_default() += too_old;
                    report.example(
                        &labels,
                        format!(
                            "entry too far behind, entry timestamp is: {}, oldest acceptable timestamp is: {}",
                            fmt_ns(first_old.unwrap_or_default()),
                            fmt_ns(newest.saturating_sub(limits.out_of_order_window_ns))
                        ),
                        too_old,
                    );
                }
                if !keep.is_empty() {
                    newest_now.insert(labels.clone(), newest);
                    accepted.push((labels, keep));
                }
            }
            if accepted.is_empty() {
                return Ok(report);
            }
            let mut rec = Vec::new();
            walrec::encode_entries(accepted.iter().map(|(l, e)| (&**l, e.as_slice())), &mut rec);
            let seq = self.wal.append(&[&rec])?;
            for (labels, entries) in accepted {
                if !active.contains_stream(&labels) {
                    report.new_streams += 1;
                }
                active.append(&labels, entries);
            }
            for (l, t) in newest_now {
                app.newest.insert(l, t);
            }
            seq
        };
        self.wal.sync(seq)?;
        Ok(report)
    }
}

fn line_hash(line: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(line)
}

trait ReportExt {
    fn example(&mut self, labels: &Labels, reason: String, entries: usize);
}

impl ReportExt for PushReport {
    fn example(&mut self, labels: &Labels, reason: String, entries: usize) {
        if self.examples.len() < 5 {
            self.examples.push((labels.to_string(), reason, entries));
        }
    }
}

/// RFC 3339 with nanoseconds, UTC, as Loki prints times in its messages.
pub(crate) fn fmt_ns(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = argus_model::civil::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
