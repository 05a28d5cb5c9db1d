//! Log queries: the `limit` newest (or oldest) entries that pass the
//! pipeline, grouped into streams.

use super::labels::pairs_string;
use super::pipeline::{required_literals, to_model_matcher, Pipeline};
use super::{Ctx, Entry, EvalError, QueryParams, QueryResult, Stream};
use crate::ast::LogExpr;
use argus_store::{Direction, LogSelect};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// An entry held while reading: ordered so that the heap's top is the one
/// to evict (the oldest for `Backward`, the newest for `Forward`).
struct Held {
    key: (i64, u64),
    entry: Entry,
    group: super::labels::EntryLabels,
}

pub(crate) fn select_for(
    log: &LogExpr,
    start_ns: i64,
    end_ns: i64,
    direction: Direction,
    lines: bool,
) -> Result<LogSelect, EvalError> {
    Ok(LogSelect {
        matchers: log
            .selector
            .iter()
            .map(to_model_matcher)
            .collect::<Result<_, _>>()?,
        start_ns,
        end_ns,
        required: required_literals(&log.pipeline),
        direction,
        skip_lines: !lines,
        metadata_keys: None,
        json_keys: None,
    })
}

pub(crate) fn eval_logs(
    ctx: &mut Ctx<'_>,
    log: &LogExpr,
    p: &QueryParams,
) -> Result<QueryResult, EvalError> {
    if p.instant {
        return Err(EvalError::BadQuery(
            "log queries are not supported as an instant query type, please change your query to a range query type".into(),
        ));
    }
    if p.limit > ctx.opts.max_entries_limit {
        return Err(EvalError::Limit(format!(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query ({} > {})",
            p.limit, ctx.opts.max_entries_limit
        )));
    }
    let pipeline = Pipeline::compile(&log.pipeline)?;
    let sel = select_for(log, p.start_ns, p.end_ns, p.direction, true)?;
    let mut cursor = ctx.reader.select(ctx.tenant, &sel)?;
    let backward = p.direction == Direction::Backward;
    // Backward keeps the newest: evict the smallest key (a min-heap via Reverse).
    let mut back: BinaryHeap<Reverse<HeldKey>> = BinaryHeap::new();
    let mut fwd: BinaryHeap<HeldKey> = BinaryHeap::new();
    let mut store: HashMap<u64, Held> = HashMap::new();
    let mut seq = 0u64;
    let limit = p.limit;
    let mut post_filter = 0u64;
    while let Some(batch) = cursor.next_batch()? {
        ctx.check_deadline()?;
        for e in &batch.entries {
            if e.ts_ns < p.start_ns || e.ts_ns >= p.end_ns {
                continue;
            }
            ctx.stats.structured_metadata_bytes += e
                .metadata
                .iter()
                .map(|(n, v)| (n.len() + v.len()) as u64)
                .sum::<u64>();
            if limit == 0 {
                continue;
            }
            // Skip entries that cannot make the cut before running the pipeline.
            let full = store.len() >= limit;
            if full {
                let edge = if backward {
                    back.peek().map(|r| r.0 .0)
                } else {
                    fwd.peek().map(|k| k.0)
                };
                if let Some((ts, _)) = edge {
                    if (backward && e.ts_ns <= ts) || (!backward && e.ts_ns >= ts) {
                        continue;
                    }
                }
            }
            let Some(out) = pipeline.process(e.ts_ns, &e.line, &batch.labels, &e.metadata) else {
                continue;
            };
            post_filter += 1;
            let labels = out.labels.into_entry_labels();
            seq += 1;
            // Ties: the entry read first wins.
            let key = if backward {
                (e.ts_ns, u64::MAX - seq)
            } else {
                (e.ts_ns, seq)
            };
            let id = seq;
            store.insert(
                id,
                Held {
                    key,
                    entry: Entry {
                        ts_ns: e.ts_ns,
                        line: out.line.into_owned(),
                        metadata: Vec::new(),
                        parsed: Vec::new(),
                    },
                    group: labels,
                },
            );
            if backward {
                back.push(Reverse(HeldKey(key, id)));
                if store.len() > limit {
                    if let Some(Reverse(HeldKey(_, old))) = back.pop() {
                        store.remove(&old);
                    }
                }
                if store.len() >= limit {
                    if let Some(Reverse(HeldKey((ts, _), _))) = back.peek() {
                        cursor.bound(*ts);
                    }
                }
            } else {
                fwd.push(HeldKey(key, id));
                if store.len() > limit {
                    if let Some(HeldKey(_, old)) = fwd.pop() {
                        store.remove(&old);
                    }
                }
                if store.len() >= limit {
                    if let Some(HeldKey((ts, _), _)) = fwd.peek() {
                        cursor.bound(*ts);
                    }
                }
            }
        }
    }
    ctx.add_scan(&cursor.stats());
    ctx.stats.post_filter_lines += post_filter;

    let mut held: Vec<Held> = store.into_values().collect();
    held.sort_by_key(|h| h.key);
    if backward {
        held.reverse();
    }
    // Loki's `interval`: one entry per interval, in the query's direction.
    if p.interval_ns > 0 {
        let mut last: Option<i64> = None;
        held.retain(|h| {
            let ok = match last {
                None => true,
                Some(l) if backward => h.entry.ts_ns <= l - p.interval_ns,
                Some(l) => h.entry.ts_ns >= l + p.interval_ns,
            };
            if ok {
                last = Some(h.entry.ts_ns);
            }
            ok
        });
    }
    let mut streams: HashMap<super::Pairs, Stream> = HashMap::new();
    for h in held {
        let mut entry = h.entry;
        let key = if p.categorize_labels {
            entry.metadata = h.group.metadata.clone();
            entry.parsed = h.group.parsed.clone();
            h.group.stream.clone()
        } else {
            h.group.all()
        };
        streams
            .entry(key.clone())
            .or_insert_with(|| Stream {
                labels: key,
                entries: Vec::new(),
            })
            .entries
            .push(entry);
    }
    let mut out: Vec<(String, Stream)> = streams
        .into_values()
        .map(|s| (pairs_string(&s.labels), s))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(QueryResult::Streams(
        out.into_iter().map(|(_, s)| s).collect(),
    ))
}

/// A heap key: the entry's order key and its id in the store.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct HeldKey((i64, u64), u64);
