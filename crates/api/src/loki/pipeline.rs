//! Which lines of the selected streams a log query keeps ([`apply_pipeline`]):
//! the query's leading line filters (`|=`, `!=`, `|~`, `!~`), compiled here
//! as a fast first test, then the LogQL engine's whole pipeline (parsers,
//! label filters, formatting) over what passes.

use super::params::{convert_matchers, log_query};
use super::LokiError;
use argus_logql::{LineFilterOp, LineFilterValue, LogExpr, Stage};
use argus_model::{Labels, LogEntry, Matcher, TenantId};
use argus_store::{Direction, LogSelect, LogsReader, StorageError};
use regex::Regex;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// One leading line filter, compiled.
#[derive(Debug)]
enum LineTest {
    /// `|=` (`negated`: `!=`): any alternative is a substring.
    Contains { any: Vec<String>, negated: bool },
    /// `|~` (`negated`: `!~`): any alternative matches (unanchored).
    Regex { any: Vec<Regex>, negated: bool },
}

impl LineTest {
    fn keeps(&self, line: &str) -> bool {
        match self {
            LineTest::Contains { any, negated } => {
                any.iter().any(|s| line.contains(s.as_str())) != *negated
            }
            LineTest::Regex { any, negated } => any.iter().any(|r| r.is_match(line)) != *negated,
        }
    }
}

/// A parsed log query with what the read endpoints need to select and
/// filter its lines: the store's matchers and the compiled leading line
/// filters.
#[derive(Debug)]
pub(crate) struct LogQuery {
    /// The parsed query, for the engine's pipeline when it comes.
    pub(crate) expr: LogExpr,
    pub(crate) matchers: Vec<Matcher>,
    tests: Vec<LineTest>,
    /// Substrings every kept line contains (the `|=` filters with one
    /// alternative), for the store's block filters.
    required: Vec<String>,
    /// The engine's compiled pipeline of the whole query.
    pipeline: argus_logql::engine::Pipeline,
}

impl LogQuery {
    /// Parses `query` (a log query; a metric query is refused).
    pub(crate) fn parse(query: &str) -> Result<Self, LokiError> {
        Self::new(log_query(query)?)
    }

    pub(crate) fn new(expr: LogExpr) -> Result<Self, LokiError> {
        let matchers = convert_matchers(&expr.selector)?;
        let mut tests = Vec::new();
        let mut required = Vec::new();
        for stage in &expr.pipeline {
            let Stage::LineFilter(f) = stage else { break };
            let texts: Option<Vec<&String>> = f
                .values
                .iter()
                .map(|v| match v {
                    LineFilterValue::Text(t) => Some(t),
                    LineFilterValue::Ip(_) => None,
                })
                .collect();
            let Some(texts) = texts else { break };
            let test = match f.op {
                LineFilterOp::Contains | LineFilterOp::NotContains => {
                    let negated = f.op == LineFilterOp::NotContains;
                    if !negated && texts.len() == 1 && !texts[0].is_empty() {
                        required.push(texts[0].clone());
                    }
                    LineTest::Contains {
                        any: texts.into_iter().cloned().collect(),
                        negated,
                    }
                }
                LineFilterOp::Match | LineFilterOp::NotMatch => LineTest::Regex {
                    any: texts
                        .into_iter()
                        .map(|t| Regex::new(t))
                        .collect::<Result<_, _>>()
                        .map_err(|e| super::bad(format!("invalid regex in line filter: {e}")))?,
                    negated: f.op == LineFilterOp::NotMatch,
                },
                LineFilterOp::Pattern | LineFilterOp::NotPattern => break,
            };
            tests.push(test);
        }
        let pipeline = argus_logql::engine::Pipeline::compile(&expr.pipeline)
            .map_err(|e| super::bad(e.to_string()))?;
        Ok(LogQuery {
            expr,
            matchers,
            tests,
            required,
            pipeline,
        })
    }

    /// The store selection of this query's streams in [start, end).
    pub(crate) fn select(&self, start_ns: i64, end_ns: i64, direction: Direction) -> LogSelect {
        LogSelect {
            matchers: self.matchers.clone(),
            start_ns,
            end_ns,
            required: self.required.clone(),
            direction,
            skip_lines: false,
            metadata_keys: None,
            json_keys: None,
        }
    }
}

/// Whether `query` keeps `entry` of the stream `labels` (one its selector
/// matched): the leading line filters first, then the engine's pipeline.
pub(crate) fn apply_pipeline(query: &LogQuery, labels: &Arc<Labels>, entry: &LogEntry) -> bool {
    query.tests.iter().all(|t| t.keeps(&entry.line))
        && query
            .pipeline
            .keeps(entry.ts_ns, &entry.line, labels, &entry.metadata)
}

/// The newest `limit` entries of `query`'s streams in [start, end) that
/// [`apply_pipeline`] keeps, newest first (as Loki's `BACKWARD` queries
/// with a limit). Holds at most `limit` entries; tells the cursor the
/// oldest time still wanted once it has them. Blocking.
pub(crate) fn newest_entries(
    reader: &dyn LogsReader,
    tenant: &TenantId,
    query: &LogQuery,
    start_ns: i64,
    end_ns: i64,
    limit: usize,
) -> Result<Vec<(Arc<Labels>, LogEntry)>, StorageError> {
    // A min-heap on time: the oldest kept entry is on top and leaves first.
    let mut heap: BinaryHeap<Reverse<Newest>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut cursor = reader.select(tenant, &query.select(start_ns, end_ns, Direction::Backward))?;
    while let Some(batch) = cursor.next_batch()? {
        for entry in batch.entries {
            if heap.len() >= limit && heap.peek().is_some_and(|o| o.0.ts >= entry.ts_ns) {
                continue;
            }
            if !apply_pipeline(query, &batch.labels, &entry) {
                continue;
            }
            seq += 1;
            heap.push(Reverse(Newest {
                ts: entry.ts_ns,
                seq,
                labels: batch.labels.clone(),
                entry,
            }));
            if heap.len() > limit {
                heap.pop();
            }
            if heap.len() == limit {
                if let Some(o) = heap.peek() {
                    cursor.bound(o.0.ts);
                }
            }
        }
    }
    let mut out: Vec<Newest> = heap.into_iter().map(|r| r.0).collect();
    out.sort_by(|a, b| b.ts.cmp(&a.ts).then(a.seq.cmp(&b.seq)));
    Ok(out.into_iter().map(|n| (n.labels, n.entry)).collect())
}

#[derive(Debug)]
struct Newest {
    ts: i64,
    seq: u64,
    labels: Arc<Labels>,
    entry: LogEntry,
}

impl PartialEq for Newest {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.seq) == (o.ts, o.seq)
    }
}
impl Eq for Newest {}
impl PartialOrd for Newest {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Newest {
    /// Older is smaller; of equal times the later read is smaller (dropped
    /// first).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.ts.cmp(&o.ts).then(o.seq.cmp(&self.seq))
    }
}
