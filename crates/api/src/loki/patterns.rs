//! `/loki/api/v1/patterns`: the lines of the matching streams (read with
//! [`argus_store::LogsReader::select`]) grouped into patterns by a small
//! Drain-like clustering, each with its count per `step`.
//!
//! Loki's pattern ingester keeps Drain trees per stream and level as lines
//! arrive; Argus clusters the lines of the query's range when asked. A line
//! is split on whitespace; lines of the same level, token count and first
//! token (`<_>` if it has a digit) form a group; in a group, a line joins
//! the most similar cluster (the share of tokens equal at the same place) if
//! that share is at least [`SIMILARITY`], and the tokens that differ become
//! `<_>`; else it starts a cluster. Runs of `<_>` print as one.

use super::params::{ordered_bounds, selector, step};
use super::pipeline::LogQuery;
use super::{json_response, LokiError};
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::AppState;
use argus_store::Direction;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Drain's similarity threshold (Loki's `SimTh`).
pub(crate) const SIMILARITY: f64 = 0.3;
/// Most lines read for one request (the newest are kept).
pub(crate) const MAX_LINES: usize = 100_000;
const WILDCARD: &str = "<_>";
/// Loki's `constants.LogLevels`: a `detected_level` outside them is `unknown`.
const LEVELS: [&str; 8] = [
    "unknown", "debug", "info", "warn", "error", "fatal", "critical", "trace",
];

/// One pattern: its tokens and its count per bucket (seconds).
#[derive(Debug)]
struct Cluster {
    tokens: Vec<String>,
    samples: BTreeMap<i64, u64>,
}

impl Cluster {
    fn similarity(&self, tokens: &[&str]) -> f64 {
        let same = self
            .tokens
            .iter()
            .zip(tokens)
            .filter(|(a, b)| a.as_str() == **b)
            .count();
        same as f64 / tokens.len().max(1) as f64
    }

    fn merge(&mut self, tokens: &[&str]) {
        for (a, b) in self.tokens.iter_mut().zip(tokens) {
            if a != b {
                *a = WILDCARD.to_string();
            }
        }
    }

    fn pattern(&self) -> String {
        let mut out: Vec<&str> = Vec::with_capacity(self.tokens.len());
        for t in &self.tokens {
            if t == WILDCARD && out.last() == Some(&WILDCARD) {
                continue;
            }
            out.push(t);
        }
        out.join(" ")
    }
}

/// A pattern found: (pattern, level, samples as (seconds, count)).
pub(crate) type Found = (String, String, Vec<(i64, u64)>);

/// Clusters lines into patterns per level.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    /// (level, token count, first token) → clusters.
    groups: HashMap<(String, usize, String), Vec<Cluster>>,
}

impl Drain {
    /// Adds a line at `bucket` (seconds).
    pub(crate) fn add(&mut self, level: &str, line: &str, bucket: i64) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            return;
        }
        let first = if tokens[0].contains(|c: char| c.is_ascii_digit()) {
            WILDCARD
        } else {
            tokens[0]
        };
        let clusters = self
            .groups
            .entry((level.to_string(), tokens.len(), first.to_string()))
            .or_default();
        let best = clusters
            .iter_mut()
            .map(|c| (c.similarity(&tokens), c))
            .filter(|(s, _)| *s >= SIMILARITY)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let cluster = match best {
            Some((_, c)) => {
                c.merge(&tokens);
                c
            }
            None => {
                clusters.push(Cluster {
                    tokens: tokens.iter().map(|t| t.to_string()).collect(),
                    samples: BTreeMap::new(),
                });
                let n = clusters.len() - 1;
                &mut clusters[n]
            }
        };
        *cluster.samples.entry(bucket).or_default() += 1;
    }

    /// (pattern, level, samples), the most frequent first. Clusters whose
    /// patterns print the same are one.
    pub(crate) fn patterns(self) -> Vec<Found> {
        let mut merged: BTreeMap<(String, String), BTreeMap<i64, u64>> = BTreeMap::new();
        for ((level, _, _), clusters) in self.groups {
            for c in clusters {
                let e = merged.entry((c.pattern(), level.clone())).or_default();
                for (t, n) in c.samples {
                    *e.entry(t).or_default() += n;
                }
            }
        }
        let mut out: Vec<Found> = merged
            .into_iter()
            .map(|((p, l), s)| (p, l, s.into_iter().collect()))
            .collect();
        let total = |s: &[(i64, u64)]| s.iter().map(|x| x.1).sum::<u64>();
        out.sort_by(|a, b| {
            total(&b.2)
                .cmp(&total(&a.2))
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        });
        out
    }
}

/// The level a line is counted under: its `detected_level` structured
/// metadata (lower-cased) when it is one of Loki's levels, else `unknown`.
fn level_of(entry: &argus_model::LogEntry) -> String {
    entry
        .metadata
        .iter()
        .find(|(k, _)| k == "detected_level")
        .map(|(_, v)| v.to_ascii_lowercase())
        .filter(|v| LEVELS.contains(&v.as_str()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// `/loki/api/v1/patterns?query&start&end&step`.
pub(crate) async fn patterns(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = ordered_bounds(&p)?;
    let step = step(&p, start, end)?;
    selector(p.get("query").unwrap_or(""))?;
    let query = LogQuery::parse(p.get("query").unwrap_or(""))?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let found = blocking(move || {
        let mut drain = Drain::default();
        let mut read = 0usize;
        let mut cursor = reader.select(&tenant, &query.select(start, end, Direction::Backward))?;
        'outer: while let Some(batch) = cursor.next_batch()? {
            for e in &batch.entries {
                if read >= MAX_LINES {
                    break 'outer;
                }
                read += 1;
                let bucket_ns = e.ts_ns - e.ts_ns.rem_euclid(step);
                drain.add(&level_of(e), &e.line, bucket_ns.div_euclid(1_000_000_000));
            }
        }
        Ok(drain.patterns())
    })
    .await?;
    let data: Vec<Value> = found
        .into_iter()
        .map(|(pattern, level, samples)| {
            let samples: Vec<Value> = samples.into_iter().map(|(t, n)| json!([t, n])).collect();
            json!({"pattern": pattern, "level": level, "samples": samples})
        })
        .collect();
    Ok(json_response(json!({"status": "success", "data": data})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_groups_similar_lines() {
        let mut d = Drain::default();
        d.add("info", "GET /api/users 200 12ms", 0);
        d.add("info", "GET /api/orders 200 15ms", 10);
        d.add("info", "GET /api/orders 200 9ms", 10);
        d.add("info", "connection closed", 10);
        d.add("info", "user 42 logged in from 10.0.0.1", 0);
        d.add("info", "user 7 logged in from 10.0.0.2", 20);
        let p = d.patterns();
        assert_eq!(
            p,
            vec![
                (
                    "GET <_> 200 <_>".to_string(),
                    "info".to_string(),
                    vec![(0, 1), (10, 2)]
                ),
                (
                    "user <_> logged in from <_>".to_string(),
                    "info".to_string(),
                    vec![(0, 1), (20, 1)]
                ),
                (
                    "connection closed".to_string(),
                    "info".to_string(),
                    vec![(10, 1)]
                ),
            ]
        );
    }
}
