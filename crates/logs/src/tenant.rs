//! The logs push path: validation (stream limit, out-of-order window,
//! retried duplicates) under the tenant's append lock, then the shared
//! append (WAL record, active head, fsync).

use crate::head::Head;
use crate::signal::Logs;
use crate::walrec;
use crate::LogsError;
use argus_model::{Labels, LogEntry, LogStream};
use argus_store::{LogRejectReason, PushReport, StreamLimits};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One tenant's logs.
pub(crate) type TenantLogs = argus_segments::tenants::Tenant<Logs>;

/// Stores a push: validate under the append lock, write the WAL, apply
/// to the active head, then wait for the WAL's fsync policy.
pub(crate) fn push(
    t: &TenantLogs,
    streams: Vec<LogStream>,
    limits: StreamLimits,
) -> Result<PushReport, LogsError> {
    let mut report = PushReport::default();
    let tenant = &t.tenant;
    let new_streams = t.append(
        |app, active, frozen, rec| {
            let (accepted, newest_now) =
                validate(app, active, frozen, streams, limits, tenant, &mut report);
            if accepted.is_empty() {
                return None;
            }
            walrec::encode_entries(accepted.iter().map(|(l, e)| (&**l, e.as_slice())), rec);
            Some((accepted, newest_now))
        },
        |app, active, (accepted, newest_now)| {
            let mut new_streams = 0;
            for (labels, entries) in accepted {
                if !active.contains_stream(&labels) {
                    new_streams += 1;
                }
                active.append(&labels, entries);
            }
            for (l, t) in newest_now {
                app.newest.insert(l, t);
            }
            new_streams
        },
    )?;
    report.new_streams += new_streams.unwrap_or(0);
    Ok(report)
}

type Accepted = (Vec<(Arc<Labels>, Vec<LogEntry>)>, HashMap<Arc<Labels>, i64>);

/// The entries of a push to store, by stream, and each stream's newest
/// time after them; what is refused (stream limit, out-of-order window)
/// and what was stored already (a retry) go into `report`.
fn validate(
    app: &mut crate::signal::AppendState,
    active: &Arc<Head>,
    frozen: Option<&Arc<Head>>,
    streams: Vec<LogStream>,
    limits: StreamLimits,
    tenant: &argus_model::TenantId,
    report: &mut PushReport,
) -> Accepted {
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
                            tenant
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
            if newest != i64::MIN && e.ts_ns < newest.saturating_sub(limits.out_of_order_window_ns)
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
    (accepted, newest_now)
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
