//! The fixed query set, run against both systems through Prometheus's HTTP
//! query API; results are compared before anything is timed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryKind {
    Range,
    Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct Query {
    pub kind: QueryKind,
    pub expr: &'static str,
}

const fn range(expr: &'static str) -> Query {
    Query {
        kind: QueryKind::Range,
        expr,
    }
}

const fn instant(expr: &'static str) -> Query {
    Query {
        kind: QueryKind::Instant,
        expr,
    }
}

/// Range queries cover the whole ingested span at a 60 s step; instant
/// queries are evaluated at the last sample's timestamp.
pub(crate) const QUERIES: &[Query] = &[
    range("sum by (job) (rate(http_requests_total[5m]))"),
    range("sum by (code) (rate(http_requests_total{handler=~\"/api/.*\"}[5m]))"),
    range("histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))"),
    range("histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{handler=\"/api/v1/users\"}[10m])))"),
    // (topk over the code="500" series alone has many exact ties, and the
    // two engines break ties differently: a mismatch that is not a bug.)
    range("topk(5, sum by (pod) (rate(http_requests_total[5m])))"),
    range("sum by (job) (rate(http_request_duration_seconds_sum[5m])) / sum by (job) (rate(http_request_duration_seconds_count[5m]))"),
    range("avg by (job) (go_goroutines)"),
    range("max by (job) (max_over_time(node_load1[30m]))"),
    range("sum by (job) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))"),
    range("count by (job) (up == 1)"),
    range("sum by (namespace) (process_resident_memory_bytes)"),
    range("max_over_time(sum by (job) (rate(http_requests_total[5m]))[30m:1m])"),
    range("quantile by (job) (0.9, rate(http_requests_total{method=\"POST\"}[5m]))"),
    range("sum by (job) (increase(http_requests_total{code=~\"5..\"}[1h]))"),
    instant("sum by (job, handler) (rate(http_requests_total[5m]))"),
    instant("topk(10, rate(http_requests_total{code=\"200\"}[5m]))"),
    instant("histogram_quantile(0.9, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))"),
    instant("count(count by (pod) (up))"),
    instant("sum by (job) (delta(node_filesystem_avail_bytes[1h]))"),
    instant("bottomk(3, sum by (pod) (process_resident_memory_bytes))"),
    instant("max by (job) (max_over_time(rate(http_requests_total[5m])[1h:5m]))"),
    instant("count by (job) ({__name__=~\"http_.*\", code!=\"200\"})"),
    instant("sum by (job) (rate(http_requests_total{handler!~\"/(healthz|metrics)\"}[5m])) > 0"),
    instant("avg by (namespace) (avg_over_time(go_goroutines{job=\"api\"}[1h]))"),
    instant("sum(rate(http_requests_total[1h] offset 1h))"),
    instant("stddev_over_time(node_memory_MemAvailable_bytes{job=\"web\"}[30m])"),
];

/// Where and when queries are evaluated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
}

impl Window {
    /// Evaluation times at :30 of each minute inside the data: range
    /// queries from the first to the last such time at a 60 s step, instant
    /// queries at the last.
    ///
    /// Prometheus 2.x selects a range `[t - range, t]`, Prometheus 3 and
    /// Argus `(t - range, t]`. With the samples 7.5 s off the 15 s grid
    /// (see `main`) and ranges in whole minutes, no sample lies on a window
    /// edge (edges are at :00 or :30, subquery steps at whole minutes), so
    /// both semantics select the same samples and results can be compared.
    pub(crate) fn for_data(first_ms: i64, last_ms: i64) -> Window {
        let at30 = |t: i64| t.div_euclid(60_000) * 60_000 + 30_000;
        let mut start = at30(first_ms);
        if start < first_ms {
            start += 60_000;
        }
        let mut end = at30(last_ms);
        if end > last_ms {
            end -= 60_000;
        }
        Window {
            start_ms: start,
            end_ms: end,
            step_ms: 60_000,
        }
    }
}

/// A result normalised for comparison: series (labels as sorted pairs) →
/// points (ms, value).
pub(crate) type Normalised = BTreeMap<Vec<(String, String)>, Vec<(i64, f64)>>;

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Runs a query; returns the raw body and how long the request took.
pub(crate) fn run(
    client: &reqwest::blocking::Client,
    base: &str,
    q: &Query,
    w: Window,
) -> Result<(String, Duration)> {
    let mut params = vec![("query", q.expr.to_string())];
    let path = match q.kind {
        QueryKind::Range => {
            params.push(("start", secs(w.start_ms)));
            params.push(("end", secs(w.end_ms)));
            params.push(("step", secs(w.step_ms)));
            "/api/v1/query_range"
        }
        QueryKind::Instant => {
            params.push(("time", secs(w.end_ms)));
            "/api/v1/query"
        }
    };
    let t0 = Instant::now();
    let resp = client.post(format!("{base}{path}")).form(&params).send()?;
    let status = resp.status();
    let body = resp.text()?;
    let took = t0.elapsed();
    if !status.is_success() {
        bail!(
            "HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
    Ok((body, took))
}

fn point(p: &serde_json::Value) -> Result<(i64, f64)> {
    let t = p[0].as_f64().context("timestamp")?;
    let v = p[1].as_str().context("value")?;
    let v = match v {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        s => s.parse()?,
    };
    Ok(((t * 1000.0).round() as i64, v))
}

pub(crate) fn normalise(body: &str) -> Result<Normalised> {
    let v: serde_json::Value = serde_json::from_str(body)?;
    if v["status"] != "success" {
        bail!("status {}: {}", v["status"], v["error"]);
    }
    let data = &v["data"];
    let mut out = Normalised::new();
    let key = |m: &serde_json::Value| -> Vec<(String, String)> {
        let mut k: Vec<(String, String)> = m
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(n, v)| (n.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        k.sort();
        k
    };
    match data["resultType"].as_str() {
        Some("matrix") => {
            for s in data["result"].as_array().context("result")? {
                let pts = s["values"]
                    .as_array()
                    .context("values")?
                    .iter()
                    .map(point)
                    .collect::<Result<Vec<_>>>()?;
                out.insert(key(&s["metric"]), pts);
            }
        }
        Some("vector") => {
            for s in data["result"].as_array().context("result")? {
                out.insert(key(&s["metric"]), vec![point(&s["value"])?]);
            }
        }
        Some("scalar") => {
            out.insert(Vec::new(), vec![point(&data["result"])?]);
        }
        other => bail!("unexpected resultType {other:?}"),
    }
    Ok(out)
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// `None` when both results are equal (same series, same timestamps,
/// values within 1e-9 relative); else a short description of the first
/// difference.
pub(crate) fn compare(a: &Normalised, b: &Normalised) -> Option<String> {
    let fmt = |k: &[(String, String)]| {
        let inner: Vec<String> = k.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
        format!("{{{}}}", inner.join(","))
    };
    for k in a.keys() {
        if !b.contains_key(k) {
            return Some(format!(
                "series {} only in Argus ({} vs {} series)",
                fmt(k),
                a.len(),
                b.len()
            ));
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            return Some(format!(
                "series {} only in Prometheus ({} vs {} series)",
                fmt(k),
                a.len(),
                b.len()
            ));
        }
    }
    for (k, pa) in a {
        let pb = &b[k];
        if pa.len() != pb.len() {
            return Some(format!(
                "{}: {} points in Argus, {} in Prometheus",
                fmt(k),
                pa.len(),
                pb.len()
            ));
        }
        for (x, y) in pa.iter().zip(pb) {
            if x.0 != y.0 || !close(x.1, y.1) {
                return Some(format!(
                    "{} at {}: Argus ({}, {}) vs Prometheus ({}, {})",
                    fmt(k),
                    x.0,
                    x.0,
                    x.1,
                    y.0,
                    y.1
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_20_queries_of_both_kinds() {
        assert!(QUERIES.len() >= 20);
        assert!(QUERIES.iter().any(|q| q.kind == QueryKind::Range));
        assert!(QUERIES.iter().any(|q| q.kind == QueryKind::Instant));
    }

    #[test]
    fn normalise_and_compare() {
        let a = normalise(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"b":"1","a":"2"},"values":[[1.5,"1"],[2,"NaN"]]}]}}"#).unwrap();
        let b = normalise(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"2","b":"1"},"values":[[1.5,"1.0000000000001"],[2,"NaN"]]}]}}"#).unwrap();
        assert_eq!(compare(&a, &b), None);
        let c = normalise(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"2"]}]}}"#).unwrap();
        assert!(compare(&a, &c).is_some());
        assert_eq!(secs(-1500), "-2.500");
        assert_eq!(secs(1500), "1.500");
        let w = Window::for_data(67_500, 607_500);
        assert_eq!((w.start_ms, w.end_ms), (90_000, 570_000));
    }
}
