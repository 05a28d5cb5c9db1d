//! Search: a TraceQL query over a tenant's traces ([`search`]), as Tempo's
//! `/api/search` runs it.
//!
//! The store scans traces newest data first ([`TracesReader::scan`]),
//! skipping segments whose stats rule out the query's required values
//! ([`required_values`]); a trace the scan gives whole is evaluated at
//! once; the part of a trace that one segment or head holds is evaluated,
//! and when it matches the trace is read whole by id and evaluated again,
//! so a hit's root, duration and spansets are always those of the whole
//! trace. The scan stops once `limit` traces matched or
//! `max_traces` were inspected; the whole traces that match come first,
//! then parts read whole while fewer than `limit` matched (a read by id
//! for nothing is then rare); sorted newest first.

use crate::ast::{Query, SpansetExpr, Stage};
use crate::eval::{
    eval_spansets, reads_span_attributes, required_values, EvalError, Requirement, TraceView, Value,
};
use argus_model::traces::{Span, StatusCode, TraceId};
use argus_model::TenantId;
use argus_store::traces::{ScanStats, SpanFields, SpanHint, TraceScan, TracesReader, Visit};
use argus_store::StorageError;
use std::collections::HashSet;

/// What a search asks.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    /// Spans overlapping this range (ns); `None`: any time.
    pub range_ns: Option<(i64, i64)>,
    /// Most traces returned (Tempo's default 20).
    pub limit: usize,
    /// Most spans returned per spanset (Tempo's `spss`, default 3).
    pub spans_per_spanset: usize,
    /// Trace duration bounds (ns), Tempo's `minDuration`/`maxDuration`.
    pub min_trace_duration_ns: Option<i64>,
    pub max_trace_duration_ns: Option<i64>,
    /// Stop after inspecting this many traces (0 = no limit).
    pub max_traces: usize,
    /// Bytes of one trace read at most (a larger one is partial).
    pub max_trace_bytes: usize,
}

/// One matching trace.
#[derive(Debug, Clone)]
pub struct TraceHit {
    pub trace_id: TraceId,
    pub root_service: String,
    pub root_name: String,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub spansets: Vec<HitSpanSet>,
    /// Per service of the trace: its spans and how many have status error
    /// (Tempo's `serviceStats`).
    pub service_stats: std::collections::BTreeMap<String, ServiceCounts>,
}

/// Spans of one service in a trace, and those with status error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceCounts {
    pub spans: u32,
    pub errors: u32,
}

/// Counts each service's spans and error spans.
fn service_stats(spans: &[Span]) -> std::collections::BTreeMap<String, ServiceCounts> {
    let mut out = std::collections::BTreeMap::<String, ServiceCounts>::new();
    for s in spans {
        let c = out.entry(s.origin.service.clone()).or_default();
        c.spans = c.spans.saturating_add(1);
        if s.status == argus_model::traces::StatusCode::Error {
            c.errors = c.errors.saturating_add(1);
        }
    }
    out
}

/// A spanset of a hit: up to `spans_per_spanset` spans with their
/// reported attributes, and how many spans matched.
#[derive(Debug, Clone)]
pub struct HitSpanSet {
    pub spans: Vec<(Span, Vec<(String, Value)>)>,
    pub matched: usize,
    pub attrs: Vec<(String, Value)>,
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The hints a store can check for a query's required values.
pub fn hints(query: &Query) -> Vec<SpanHint> {
    required_values(query)
        .into_iter()
        .filter_map(|r| match r {
            Requirement::ServiceName(s) => Some(SpanHint::Service(s)),
            Requirement::Name(n) => Some(SpanHint::Name(n)),
            Requirement::Status(StatusCode::Error) => Some(SpanHint::Error),
            Requirement::MinDuration(d) => Some(SpanHint::MinDuration(d.max(0) as u64)),
            Requirement::MaxDuration(d) => Some(SpanHint::MaxDuration(d.max(0) as u64)),
            _ => None,
        })
        .collect()
}

/// Runs a search (blocking: segment reads).
pub fn search(
    reader: &dyn TracesReader,
    tenant: &TenantId,
    req: &SearchRequest,
) -> Result<(Vec<TraceHit>, ScanStats), SearchError> {
    // Refuse what cannot be evaluated before reading anything.
    eval_spansets(&req.query, &[])?;
    let scan = TraceScan {
        range_ns: req.range_ns,
        hints: hints(&req.query),
        // The requirements of one spanset filter are `&&`-joined
        // conditions: one span meets them all.
        hints_same_span: req.query.metrics.is_none()
            && matches!(
                req.query.pipeline.stages.first(),
                Some(Stage::Spanset(SpansetExpr::Filter(_)))
            ),
        max_traces: req.max_traces,
        max_trace_bytes: req.max_trace_bytes,
        fields: if reads_span_attributes(&req.query) {
            SpanFields::All
        } else {
            SpanFields::Intrinsics
        },
    };
    // Traces the scan gives whole are evaluated at once; a part of a trace
    // that matches makes it a candidate, read whole by id afterwards, and
    // only while the hits are fewer than the limit.
    let mut found: Vec<Found> = Vec::new();
    let (mut hits, mut candidates) = (0, 0);
    let mut seen: HashSet<TraceId> = HashSet::new();
    let mut failure: Option<EvalError> = None;
    let limit = req.limit.max(1);
    let stats = reader.scan(tenant, &scan, &mut |spans, whole| {
        let id = spans[0].trace_id;
        if seen.contains(&id) {
            return Visit::Continue;
        }
        let step = if whole {
            seen.insert(id);
            evaluate(req, spans).map(|hit| {
                if let Some(hit) = hit {
                    hits += 1;
                    found.push(Found::Hit(hit));
                }
            })
        } else {
            eval_spansets(&req.query, spans).map(|sets| {
                if !sets.is_empty() {
                    seen.insert(id);
                    candidates += 1;
                    found.push(Found::Candidate(id));
                }
            })
        };
        if let Err(e) = step {
            failure = Some(e);
            return Visit::Stop;
        }
        // Extra candidates make up for those the whole trace rules out.
        if hits >= limit || hits + candidates >= limit * 2 {
            Visit::Stop
        } else {
            Visit::Continue
        }
    })?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    // Whole hits first (stable: each kind stays in scan order).
    found.sort_by_key(|f| matches!(f, Found::Candidate(_)));
    let mut hits: Vec<TraceHit> = Vec::new();
    for f in found {
        if hits.len() >= limit {
            break;
        }
        match f {
            Found::Hit(hit) => hits.push(hit),
            Found::Candidate(id) => {
                let read = reader.trace(tenant, &id, None, req.max_trace_bytes)?;
                hits.extend(evaluate(req, &read.spans)?);
            }
        }
    }
    hits.sort_by(|a, b| {
        b.start_ns
            .cmp(&a.start_ns)
            .then(a.trace_id.cmp(&b.trace_id))
    });
    hits.truncate(limit);
    Ok((hits, stats))
}

/// A match of a scan.
enum Found {
    /// A whole trace that matches.
    Hit(TraceHit),
    /// Part of a trace that matches: the whole trace is read to tell.
    Candidate(TraceId),
}

/// The hit of a whole trace, if it matches.
fn evaluate(req: &SearchRequest, spans: &[Span]) -> Result<Option<TraceHit>, EvalError> {
    if spans.is_empty() {
        return Ok(None);
    }
    let view = TraceView::new(spans);
    let duration = view.duration_ns();
    if req.min_trace_duration_ns.is_some_and(|d| duration < d)
        || req.max_trace_duration_ns.is_some_and(|d| duration > d)
    {
        return Ok(None);
    }
    let sets = eval_spansets(&req.query, spans)?;
    if sets.is_empty() {
        return Ok(None);
    }
    let root = view.root().map(|i| &spans[i]);
    let spss = req.spans_per_spanset.max(1);
    let spansets = sets
        .into_iter()
        .map(|set| {
            let matched = set.spans.len();
            let mut picked: Vec<(Span, Vec<(String, Value)>)> = set
                .spans
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    (
                        spans[i].clone(),
                        set.selected.get(k).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            // Tempo keeps the earliest spans of a spanset.
            picked.sort_by_key(|(s, _)| s.start_ns);
            picked.truncate(spss);
            HitSpanSet {
                spans: picked,
                matched,
                attrs: set.attrs,
            }
        })
        .collect();
    Ok(Some(TraceHit {
        trace_id: spans[0].trace_id,
        root_service: root.map(|r| r.origin.service.clone()).unwrap_or_default(),
        root_name: root.map(|r| r.name.clone()).unwrap_or_default(),
        start_ns: spans.iter().map(|s| s.start_ns).min().unwrap_or(0),
        duration_ns: duration,
        spansets,
        service_stats: service_stats(spans),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::SpanOrigin;
    use argus_store::traces::TraceRead;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A store whose scan visits `visits` (spans, whole) in order and
    /// whose reads by id count themselves.
    #[derive(Debug)]
    struct Fake {
        visits: Vec<(Vec<Span>, bool)>,
        reads: AtomicUsize,
    }

    impl TracesReader for Fake {
        fn trace(
            &self,
            _: &TenantId,
            id: &TraceId,
            _: Option<(i64, i64)>,
            _: usize,
        ) -> Result<TraceRead, StorageError> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            let spans = self
                .visits
                .iter()
                .flat_map(|(s, _)| s)
                .filter(|s| s.trace_id == *id)
                .cloned()
                .collect();
            Ok(TraceRead {
                spans,
                partial: false,
            })
        }

        fn services(
            &self,
            _: &TenantId,
            _: Option<(i64, i64)>,
        ) -> Result<Vec<String>, StorageError> {
            Ok(Vec::new())
        }

        fn scan(
            &self,
            _: &TenantId,
            _: &TraceScan,
            visit: &mut dyn FnMut(&[Span], bool) -> Visit,
        ) -> Result<ScanStats, StorageError> {
            for (spans, whole) in &self.visits {
                if visit(spans, *whole) == Visit::Stop {
                    break;
                }
            }
            Ok(ScanStats::default())
        }
    }

    fn error_span(trace: u8, start_ns: i64) -> Span {
        Span {
            origin: Arc::new(SpanOrigin::default()),
            trace_id: [trace; 16],
            span_id: [trace; 8],
            start_ns,
            end_ns: start_ns + 1,
            status: StatusCode::Error,
            ..Span::default()
        }
    }

    fn run(visits: Vec<(Vec<Span>, bool)>, limit: usize) -> (Vec<u8>, usize) {
        let fake = Fake {
            visits,
            reads: AtomicUsize::new(0),
        };
        let req = SearchRequest {
            query: crate::parse("{ status = error }").unwrap(),
            range_ns: None,
            limit,
            spans_per_spanset: 3,
            min_trace_duration_ns: None,
            max_trace_duration_ns: None,
            max_traces: 0,
            max_trace_bytes: 0,
        };
        let (hits, _) = search(&fake, &TenantId::new("t").unwrap(), &req).unwrap();
        let ids = hits.iter().map(|h| h.trace_id[0]).collect();
        (ids, fake.reads.load(Ordering::Relaxed))
    }

    #[test]
    fn a_part_of_a_trace_is_read_whole_only_when_needed_for_the_limit() {
        // Whole traces meet the limit: the part is not read.
        let (ids, reads) = run(
            vec![
                (vec![error_span(1, 10)], false),
                (vec![error_span(2, 20)], true),
                (vec![error_span(3, 30)], true),
            ],
            2,
        );
        assert_eq!((ids, reads), (vec![3, 2], 0));
        // They do not: it is read whole, and matches.
        let (ids, reads) = run(
            vec![
                (vec![error_span(1, 10)], false),
                (vec![error_span(2, 20)], true),
            ],
            2,
        );
        assert_eq!((ids, reads), (vec![2, 1], 1));
    }

    /// Tempo's `serviceStats`: each service's spans and error spans.
    #[test]
    fn a_hit_counts_spans_and_errors_per_service() {
        let origin = |service: &str| {
            Arc::new(SpanOrigin {
                service: service.into(),
                ..SpanOrigin::default()
            })
        };
        let span = |id: u8, service: &str, status| Span {
            origin: origin(service),
            trace_id: [9; 16],
            span_id: [id; 8],
            start_ns: 10,
            end_ns: 20,
            status,
            ..Span::default()
        };
        let spans = vec![
            span(1, "api", StatusCode::Ok),
            span(2, "api", StatusCode::Error),
            span(3, "db", StatusCode::Unset),
            span(4, "api", StatusCode::Error),
        ];
        let req = SearchRequest {
            query: crate::parse("{ }").unwrap(),
            range_ns: None,
            limit: 20,
            spans_per_spanset: 3,
            min_trace_duration_ns: None,
            max_trace_duration_ns: None,
            max_traces: 0,
            max_trace_bytes: 0,
        };
        let hit = evaluate(&req, &spans).unwrap().unwrap();
        let stats: Vec<_> = hit
            .service_stats
            .iter()
            .map(|(s, c)| (s.as_str(), c.spans, c.errors))
            .collect();
        assert_eq!(stats, [("api", 3, 2), ("db", 1, 0)]);
    }
}
