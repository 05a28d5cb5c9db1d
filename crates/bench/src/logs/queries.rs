//! The four LogQL queries (a)–(d), their DuckDB SQL, and running them on
//! Argus through `GET /loki/api/v1/query_range`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::corpus::NEEDLE;

/// One query of the benchmark, in LogQL and in DuckDB's SQL.
#[derive(Debug, Clone)]
pub(crate) struct LogQuery {
    pub name: &'static str,
    pub what: &'static str,
    pub logql: String,
    /// Step in seconds (metric queries); log queries use `limit`.
    pub step_s: Option<u64>,
    pub limit: Option<u64>,
    pub sql: String,
}

/// The selector that matches every stream.
pub(crate) const ALL: &str = "{namespace=~\".+\"}";

/// The table DuckDB holds: `logs(ts TIMESTAMP, service_name, namespace,
/// pod, job, level VARCHAR, line VARCHAR)`, in time order.
pub(crate) fn queries() -> Vec<LogQuery> {
    vec![
        LogQuery {
            name: "a",
            what: "needle over the whole corpus",
            logql: format!("{ALL} |= \"{NEEDLE}\""),
            step_s: None,
            limit: Some(100),
            sql: format!(
                "SELECT ts, line FROM logs WHERE contains(line, '{NEEDLE}') ORDER BY ts DESC LIMIT 100"
            ),
        },
        LogQuery {
            name: "b",
            what: "lines per level per minute, whole range",
            logql: format!("sum by (level) (count_over_time({ALL}[1m]))"),
            step_s: Some(60),
            limit: None,
            sql: "SELECT level, time_bucket(INTERVAL 1 minute, ts) AS t, count(*) AS n FROM logs GROUP BY ALL".into(),
        },
        LogQuery {
            name: "c",
            what: "JSON filter status >= 500, limit 100",
            logql: "{job=\"app\"} | json | status >= 500".into(),
            step_s: None,
            limit: Some(100),
            sql: "SELECT ts, line FROM logs WHERE job = 'app' AND TRY_CAST(json_extract_string(line, '$.status') AS INTEGER) >= 500 ORDER BY ts DESC LIMIT 100".into(),
        },
        LogQuery {
            name: "d",
            what: "top 10 paths by rate, 5m",
            logql: "topk(10, sum by (path) (rate({job=\"app\"} | json path=\"path\" [5m])))".into(),
            step_s: Some(300),
            limit: None,
            sql: "WITH c AS (SELECT time_bucket(INTERVAL 5 minute, ts) AS t, json_extract_string(line, '$.path') AS path, count(*) / 300.0 AS rate FROM logs WHERE job = 'app' GROUP BY ALL) SELECT t, path, rate FROM (SELECT *, row_number() OVER (PARTITION BY t ORDER BY rate DESC) AS r FROM c) WHERE r <= 10".into(),
        },
    ]
}

/// What one answer of Argus held.
#[derive(Debug, Default, Clone)]
pub(crate) struct Answer {
    pub secs: f64,
    /// Entries (log queries) or series (metric queries).
    pub results: u64,
    /// Sum of every sample value (metric queries).
    pub value_sum: f64,
    pub bytes_processed: u64,
    pub lines_processed: u64,
    pub compressed_bytes: u64,
    pub exec_time: f64,
}

/// The time range of the queries: whole minutes around the corpus.
pub(crate) fn range_ns(start_ns: i64, end_ns: i64) -> (i64, i64) {
    const MIN: i64 = 60_000_000_000;
    (
        start_ns.div_euclid(MIN) * MIN,
        (end_ns.div_euclid(MIN) + 1) * MIN,
    )
}

/// Runs `q` over `[start, end]` (ns) on the Loki API at `base`.
pub(crate) fn run(
    client: &reqwest::blocking::Client,
    base: &str,
    q: &LogQuery,
    (start, end): (i64, i64),
) -> Result<Answer> {
    let mut params = vec![
        ("query", q.logql.clone()),
        ("start", start.to_string()),
        ("end", end.to_string()),
    ];
    if let Some(s) = q.step_s {
        params.push(("step", format!("{s}s")));
    }
    if let Some(l) = q.limit {
        params.push(("limit", l.to_string()));
    }
    let t0 = Instant::now();
    let resp = client
        .get(format!("{base}/loki/api/v1/query_range"))
        .query(&params)
        .timeout(Duration::from_secs(900))
        .send()?;
    let status = resp.status();
    let body = resp.bytes()?;
    let secs = t0.elapsed().as_secs_f64();
    if !status.is_success() {
        bail!(
            "query ({}) {status}: {}",
            q.name,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&body).context("query answer")?;
    let mut a = parse_answer(&v)?;
    a.secs = secs;
    Ok(a)
}

pub(crate) fn parse_answer(v: &serde_json::Value) -> Result<Answer> {
    let data = &v["data"];
    let result = data["result"].as_array().context("no data.result")?;
    let mut a = Answer::default();
    match data["resultType"].as_str() {
        Some("streams") => {
            a.results = result
                .iter()
                .map(|s| s["values"].as_array().map_or(0, Vec::len) as u64)
                .sum();
        }
        Some("matrix") => {
            a.results = result.len() as u64;
            a.value_sum = result
                .iter()
                .flat_map(|s| s["values"].as_array().into_iter().flatten())
                .filter_map(|p| p[1].as_str()?.parse::<f64>().ok())
                .sum();
        }
        t => bail!("unexpected resultType {t:?}"),
    }
    let st = &data["stats"];
    a.bytes_processed = st["summary"]["totalBytesProcessed"].as_u64().unwrap_or(0);
    a.lines_processed = st["summary"]["totalLinesProcessed"].as_u64().unwrap_or(0);
    a.exec_time = st["summary"]["execTime"].as_f64().unwrap_or(0.0);
    a.compressed_bytes = st["querier"]["store"]["compressedBytes"]
        .as_u64()
        .unwrap_or(0);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_loki_answers() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"b"},"values":[["1","x"],["2","y"]]},{"stream":{},"values":[["3","z"]]}],"stats":{"summary":{"totalBytesProcessed":10,"totalLinesProcessed":3,"execTime":0.5},"querier":{"store":{"compressedBytes":4}}}}}"#,
        )
        .unwrap();
        let a = parse_answer(&v).unwrap();
        assert_eq!(
            (
                a.results,
                a.bytes_processed,
                a.lines_processed,
                a.compressed_bytes
            ),
            (3, 10, 3, 4)
        );
        let v: serde_json::Value = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"level":"info"},"values":[[60,"2"],[120,"3"]]}],"stats":{}}}"#,
        )
        .unwrap();
        let a = parse_answer(&v).unwrap();
        assert_eq!((a.results, a.value_sum), (1, 5.0));
        assert_eq!(
            range_ns(61_000_000_000, 119_000_000_000),
            (60_000_000_000, 120_000_000_000)
        );
        assert_eq!(queries().len(), 4);
    }
}
