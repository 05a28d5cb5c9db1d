//! Index statistics and volumes, from the store's per-stream counts
//! ([`argus_store::LogsReader::stream_stats`]; no line is read):
//! `/index/stats`, `/index/volume` and `/index/volume_range`.

use super::params::{
    bounds, int_param, ordered_bounds, range_checks, seconds_json, selector, END_BEFORE_START,
};
use super::{bad, json_response, LokiError};
use crate::params::Params;
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::AppState;
use argus_model::{Labels, MatchOp, Matcher};
use argus_store::StreamStats;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// `/loki/api/v1/index/stats?query&start&end`: streams, chunks, bytes and
/// entries of the streams the selector matches, without Loki's envelope.
pub(crate) async fn index_stats(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = ordered_bounds(&p)?;
    range_checks(&p, start, end, false)?;
    let matchers = selector(p.get("query").unwrap_or(""))?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let stats = blocking(move || Ok(reader.stream_stats(&tenant, &matchers, start, end)?)).await?;
    let sum = |f: fn(&StreamStats) -> u64| stats.iter().map(f).sum::<u64>();
    // Loki's field order (its protobuf's).
    Ok(json_response(json!({
        "streams": stats.len(),
        "chunks": sum(|s| s.chunks),
        "bytes": sum(|s| s.bytes),
        "entries": sum(|s| s.entries),
    })))
}

/// A volume request, as Loki's `VolumeRequest`.
#[derive(Debug)]
struct VolumeRequest {
    start: i64,
    end: i64,
    /// 0 for an instant query (one bucket).
    step: i64,
    matchers: Vec<Matcher>,
    limit: usize,
    /// The labels a volume is grouped by: the target labels, or the
    /// selector's label names; `None` for all labels (`{}`).
    group_by: Option<BTreeSet<String>>,
    /// `targetLabels` were given (`aggregateBy=labels` counts only those).
    targeted: bool,
    by_series: bool,
}

/// Loki's `volumeLimit`, `volumeAggregateBy`, `targetLabels` and the
/// selector (`{}` selects every stream).
fn volume_request(p: &Params, start: i64, end: i64, step: i64) -> Result<VolumeRequest, LokiError> {
    let mut limit = int_param(p, "limit", 100)?;
    if limit == 0 {
        limit = 100;
    }
    if limit < 0 {
        return Err(bad("limit must be a positive value"));
    }
    let by_series = match p.get("aggregateBy").unwrap_or("") {
        "" | "series" => true,
        "labels" => false,
        _ => return Err(bad("invalid aggregation option")),
    };
    let query = p.get("query").unwrap_or("");
    let mut matchers = if query == "{}" {
        Vec::new()
    } else {
        selector(query)?
    };
    let targets: Vec<String> = p
        .get("targetLabels")
        .unwrap_or("")
        .split(',')
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    let group_by = if !targets.is_empty() {
        // Loki's PrepareLabelsAndMatchers: a target label the selector does
        // not name must be present (`=~".+"`).
        for t in &targets {
            if !matchers.iter().any(|m| &m.name == t) {
                matchers.push(
                    Matcher::new(MatchOp::Regex, t.clone(), ".+")
                        .map_err(|e| bad(e.to_string()))?,
                );
            }
        }
        Some(targets.iter().cloned().collect())
    } else if matchers.is_empty() {
        None
    } else {
        Some(matchers.iter().map(|m| m.name.clone()).collect())
    };
    Ok(VolumeRequest {
        start,
        end,
        step,
        matchers,
        limit: limit as usize,
        group_by,
        targeted: !targets.is_empty(),
        by_series,
    })
}

/// One volume group: its name (Loki's key) and its labels in the answer.
type Group = (String, Vec<(String, String)>);

/// Volumes of one bucket, by group, the biggest `limit` (Loki's
/// `MapToVolumeResponse`: by volume, then name).
fn bucket_volumes(req: &VolumeRequest, stats: &[StreamStats]) -> Vec<(Group, u64)> {
    let mut volumes: BTreeMap<Group, u64> = BTreeMap::new();
    let wanted = |name: &str| req.group_by.as_ref().is_none_or(|g| g.contains(name));
    for s in stats {
        if req.by_series {
            let kept: Vec<(String, String)> = s
                .labels
                .pairs()
                .filter(|(k, _)| wanted(k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let name =
                Labels::from_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str()))).to_string();
            *volumes.entry((name, kept)).or_default() += s.bytes;
        } else {
            for (k, _) in s.labels.pairs() {
                if !req.targeted || wanted(k) {
                    let group = (k.to_string(), vec![(k.to_string(), String::new())]);
                    *volumes.entry(group).or_default() += s.bytes;
                }
            }
        }
    }
    let mut v: Vec<(Group, u64)> = volumes.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0 .0.cmp(&b.0 .0)));
    v.truncate(req.limit);
    v
}

/// Loki's buckets (`util.ForInterval`, end inclusive): aligned to the step,
/// the first starting at `start`; each is (from, to exclusive, sample time
/// in ms). One bucket for an instant query.
fn buckets(req: &VolumeRequest) -> Vec<(i64, i64, i64)> {
    const MS: i64 = 1_000_000;
    if req.step <= 0 {
        return vec![(req.start, req.end, req.end / MS)];
    }
    let mut out = Vec::new();
    let mut s = req.start - req.start.rem_euclid(req.step);
    while s < req.end {
        let next = s + req.step;
        let (to, ts) = if next >= req.end {
            (req.end, req.end)
        } else {
            (next, next - MS)
        };
        out.push((s.max(req.start), to, ts / MS));
        s = next;
    }
    out
}

async fn run_volume(
    s: Arc<AppState>,
    headers: &HeaderMap,
    req: VolumeRequest,
) -> Result<Response, LokiError> {
    let tenant = tenant_of(&s, headers)?;
    let reader = s.logs_reader()?;
    let per_bucket = blocking(move || {
        let mut out = Vec::new();
        for (from, to, ts) in buckets(&req) {
            let stats = reader.stream_stats(&tenant, &req.matchers, from, to)?;
            out.push((ts, bucket_volumes(&req, &stats)));
        }
        Ok(out)
    })
    .await?;
    Ok(json_response(prometheus_answer(per_bucket)))
}

/// Loki's `ToPrometheusResponse`: one series per group, a vector when each
/// has one sample, else a matrix; series by their first value (biggest
/// first), then name.
fn prometheus_answer(per_bucket: Vec<(i64, Vec<(Group, u64)>)>) -> Value {
    let mut series: BTreeMap<Group, Vec<(i64, u64)>> = BTreeMap::new();
    for (ts, vols) in per_bucket {
        for (g, v) in vols {
            series.entry(g).or_default().push((ts, v));
        }
    }
    let matrix = series.values().any(|s| s.len() > 1);
    let mut series: Vec<(Group, Vec<(i64, u64)>)> = series.into_iter().collect();
    for (_, samples) in &mut series {
        samples.sort_by_key(|x| x.0);
    }
    series.sort_by(|a, b| b.1[0].1.cmp(&a.1[0].1).then_with(|| a.0 .0.cmp(&b.0 .0)));
    let result: Vec<Value> = series
        .into_iter()
        .map(|((_, labels), samples)| {
            let metric: Map<String, Value> = labels
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let point = |(ts, v): (i64, u64)| json!([seconds_json(ts), v.to_string()]);
            if matrix {
                let values: Vec<Value> = samples.into_iter().map(point).collect();
                json!({"metric": metric, "values": values})
            } else {
                json!({"metric": metric, "value": point(samples[0])})
            }
        })
        .collect();
    let result_type = if matrix { "matrix" } else { "vector" };
    json!({"status": "success", "data": {"resultType": result_type, "result": result}})
}

/// `/loki/api/v1/index/volume?query&start&end&limit&targetLabels&aggregateBy`:
/// bytes per group over the whole range, one sample at `end`.
pub(crate) async fn volume(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = bounds(&p)?;
    if end < start {
        return Err(bad(END_BEFORE_START));
    }
    let req = volume_request(&p, start, end, 0)?;
    run_volume(s, &headers, req).await
}

/// `/loki/api/v1/index/volume_range?…&step`: bytes per group and step
/// bucket (each bucket's streams counted by `stream_stats` for that
/// window).
pub(crate) async fn volume_range(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = ordered_bounds(&p)?;
    let req0 = volume_request(&p, start, end, 0)?;
    let step = range_checks(&p, start, end, true)?;
    let req = VolumeRequest { step, ..req0 };
    run_volume(s, &headers, req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_align_to_the_step() {
        const S: i64 = 1_000_000_000;
        let req = VolumeRequest {
            start: 95 * S,
            end: 300 * S,
            step: 100 * S,
            matchers: Vec::new(),
            limit: 100,
            group_by: None,
            targeted: false,
            by_series: true,
        };
        assert_eq!(
            buckets(&req),
            vec![
                (95 * S, 100 * S, 99_999),
                (100 * S, 200 * S, 199_999),
                (200 * S, 300 * S, 300_000)
            ]
        );
    }
}
