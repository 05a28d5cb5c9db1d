//! The queries of `argus-bench traces`: trace by id and three TraceQL
//! searches on Tempo's API, each with the SQL DuckDB runs for it.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A TraceQL search and its DuckDB equivalent.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    pub name: &'static str,
    pub what: &'static str,
    pub traceql: &'static str,
    /// The distinct trace ids that match, without a limit: DuckDB times
    /// `<ids> LIMIT 20` and counts them all once.
    pub ids_sql: &'static str,
    /// Whether it matches nothing by design.
    pub empty: bool,
}

/// Traces a search returns (Tempo's `limit`, Grafana's default).
pub(crate) const LIMIT: usize = 20;

/// The table DuckDB holds: Argus's segments' columns (`trace_id` BLOB,
/// `span_id`, `parent_span_id`, `start`, `duration`, `name`, `service`,
/// `kind`, `status` (0 unset, 1 ok, 2 error), …).
pub(crate) fn searches() -> Vec<Search> {
    vec![
        Search {
            name: "selective",
            what: "errors of a rare service",
            traceql: r#"{ resource.service.name = "email" && status = error }"#,
            ids_sql: "SELECT DISTINCT trace_id FROM spans WHERE service = 'email' AND status = 2",
            empty: false,
        },
        Search {
            name: "nothing",
            what: "matches nothing",
            traceql: r#"{ resource.service.name = "no-such-service" }"#,
            ids_sql: "SELECT DISTINCT trace_id FROM spans WHERE service = 'no-such-service'",
            empty: true,
        },
        Search {
            name: "structural",
            what: "an error below a frontend span",
            traceql: r#"{ resource.service.name = "frontend" } >> { status = error }"#,
            // Descendants: a recursive CTE from the frontend spans' children.
            ids_sql: "WITH RECURSIVE d(trace_id, span_id, status) AS (\
SELECT c.trace_id, c.span_id, c.status FROM spans p JOIN spans c ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id WHERE p.service = 'frontend' \
UNION ALL \
SELECT c.trace_id, c.span_id, c.status FROM d JOIN spans c ON c.trace_id = d.trace_id AND c.parent_span_id = d.span_id) \
SELECT DISTINCT trace_id FROM d WHERE status = 2",
            empty: false,
        },
    ]
}

/// DuckDB's lookup of one trace (the parameter is the hex id).
pub(crate) const BY_ID_SQL: &str = "SELECT * FROM spans WHERE trace_id = unhex(?)";

pub(crate) fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /api/v2/traces/<id>` (no time range): (seconds, spans in the
/// answer; 0 for 404).
pub(crate) fn trace_by_id(
    client: &reqwest::blocking::Client,
    base: &str,
    id: &str,
) -> Result<(f64, u64)> {
    let t0 = Instant::now();
    let resp = client
        .get(format!("{base}/api/v2/traces/{id}"))
        .timeout(Duration::from_secs(300))
        .send()?;
    let status = resp.status();
    let body = resp.bytes()?;
    let secs = t0.elapsed().as_secs_f64();
    if status.as_u16() == 404 {
        return Ok((secs, 0));
    }
    if !status.is_success() {
        bail!(
            "trace {id}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("trace answer")?;
    Ok((secs, count_spans(&v["trace"])))
}

/// Spans of a `tempopb.Trace` in JSON (`resourceSpans` or `batches`).
pub(crate) fn count_spans(trace: &serde_json::Value) -> u64 {
    let rs = trace["resourceSpans"]
        .as_array()
        .or_else(|| trace["batches"].as_array());
    rs.into_iter()
        .flatten()
        .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
        .map(|s| s["spans"].as_array().map_or(0, Vec::len) as u64)
        .sum()
}

/// What one search answered.
#[derive(Debug, Default, Clone)]
pub(crate) struct Answer {
    pub secs: f64,
    pub traces: u64,
    pub inspected_traces: u64,
    pub inspected_bytes: u64,
}

/// `GET /api/search?q=<TraceQL>&limit=<limit>` (no time range).
pub(crate) fn search(
    client: &reqwest::blocking::Client,
    base: &str,
    traceql: &str,
    limit: usize,
) -> Result<Answer> {
    let t0 = Instant::now();
    let resp = client
        .get(format!("{base}/api/search"))
        .query(&[("q", traceql), ("limit", &limit.to_string())])
        .timeout(Duration::from_secs(900))
        .send()?;
    let status = resp.status();
    let body = resp.bytes()?;
    let secs = t0.elapsed().as_secs_f64();
    if !status.is_success() {
        bail!(
            "search {traceql}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("search answer")?;
    let mut a = parse_search(&v)?;
    a.secs = secs;
    Ok(a)
}

pub(crate) fn parse_search(v: &serde_json::Value) -> Result<Answer> {
    let traces = v["traces"].as_array().map_or(0, Vec::len) as u64;
    if !v.is_object() {
        bail!("search answer is not an object");
    }
    // jsonpb: 64-bit counts may be strings.
    let n = |x: &serde_json::Value| {
        x.as_u64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0)
    };
    Ok(Answer {
        secs: 0.0,
        traces,
        inspected_traces: n(&v["metrics"]["inspectedTraces"]),
        inspected_bytes: n(&v["metrics"]["inspectedBytes"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tempo_answers() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"traces":[{"traceID":"a"},{"traceID":"b"}],"metrics":{"inspectedTraces":7,"inspectedBytes":"900"}}"#,
        )
        .unwrap();
        let a = parse_search(&v).unwrap();
        assert_eq!(
            (a.traces, a.inspected_traces, a.inspected_bytes),
            (2, 7, 900)
        );
        let t: serde_json::Value = serde_json::from_str(
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{}]},{"spans":[{}]}]},{"scopeSpans":[{"spans":[{}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(count_spans(&t), 4);
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn the_searches_parse_as_traceql() {
        for q in searches() {
            argus_traceql::parse(q.traceql).unwrap_or_else(|e| panic!("{}: {e}", q.traceql));
        }
    }
}
