//! [`Db`]'s exemplar append and select: check under the tenant's append
//! lock, log in the WAL, add to the tenant's [`Exemplars`], then wait for
//! the fsync policy, as [`Db::append`] does for samples.

use super::walrec::{encode_exemplars, MAX_RECORD_EXEMPLARS};
use super::{check_against, Check, Exemplars};
use crate::{Db, DbError};
use argus_model::{Exemplar, Labels, Matcher, TenantId};
use argus_store::ExemplarReport;
use std::collections::HashMap;

impl Exemplars {
    /// Checks a batch in order against what is stored and what the batch
    /// itself stored before (a later exemplar of a series is checked against
    /// the batch's newest one of that series); `known` says whether a
    /// series exists (Prometheus stores exemplars of existing series only).
    /// Returns what to store; counts the rest in `report`.
    pub(crate) fn plan(
        &self,
        items: Vec<(Labels, Exemplar)>,
        known: impl Fn(&Labels) -> bool,
        report: &mut ExemplarReport,
    ) -> Vec<(Labels, Exemplar)> {
        if self.capacity() == 0 {
            if !items.is_empty() {
                *report.rejected.entry("disabled").or_default() += items.len();
            }
            return Vec::new();
        }
        let mut accepted: Vec<(Labels, Exemplar)> = Vec::with_capacity(items.len());
        // Series → index in `accepted` of its newest exemplar of this batch.
        let mut newest_in_batch: HashMap<Labels, usize> = HashMap::new();
        for (series, e) in items {
            let check = match newest_in_batch.get(&series) {
                Some(&i) => check_against(&e, Some(&accepted[i].1)),
                None if !known(&series) => {
                    *report.rejected.entry("unknown_series").or_default() += 1;
                    continue;
                }
                None => self.check(&series, &e),
            };
            match check {
                Check::Append => {
                    report.written += 1;
                    newest_in_batch.insert(series.clone(), accepted.len());
                    accepted.push((series, e));
                }
                Check::Duplicate => report.written += 1,
                other => {
                    let reason = other.reason().unwrap_or("rejected");
                    *report.rejected.entry(reason).or_default() += 1;
                }
            }
        }
        accepted
    }
}

impl Db {
    /// Stores exemplars of existing series: checked (length, duplicates,
    /// out of order) under the tenant's append lock, logged in the WAL
    /// (record type 8), added to the tenant's buffer; then the fsync policy
    /// is waited for. Blocking. An `Err` (the WAL) stored nothing.
    pub fn append_exemplars(
        &self,
        tenant: &TenantId,
        items: Vec<(Labels, Exemplar)>,
    ) -> Result<ExemplarReport, DbError> {
        let mut report = ExemplarReport::default();
        if items.is_empty() {
            return Ok(report);
        }
        let Some(tdb) = self.tenant(tenant) else {
            // No series at all: every exemplar is of an unknown series.
            report.rejected.insert(
                if self.opts.max_exemplars == 0 {
                    "disabled"
                } else {
                    "unknown_series"
                },
                items.len(),
            );
            return Ok(report);
        };
        let seq = {
            let _g = tdb.head.append_lock.lock();
            let accepted = tdb
                .exemplars
                .plan(items, |s| tdb.head.contains(s), &mut report);
            if accepted.is_empty() {
                None
            } else {
                let mut recs = Vec::new();
                for part in accepted.chunks(MAX_RECORD_EXEMPLARS) {
                    let mut buf = Vec::new();
                    encode_exemplars(part.iter().map(|(s, e)| (s, e)), &mut buf);
                    recs.push(buf);
                }
                let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
                let seq = tdb.wal.append(&refs)?;
                tdb.exemplars.add_checked(accepted);
                Some(seq)
            }
        };
        self.metrics.record_exemplars(tenant.as_str(), &report);
        if let Some(s) = seq {
            tdb.wal.sync(s)?;
        }
        Ok(report)
    }

    /// Exemplars in [start, end] of the tenant's series matching any of
    /// `matcher_sets`, per series, sorted by series labels
    /// ([`Exemplars::select`]).
    pub fn select_exemplars(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Exemplar>)> {
        match self.tenant(tenant) {
            Some(tdb) => tdb.exemplars.select(matcher_sets, start, end),
            None => Vec::new(),
        }
    }
}
