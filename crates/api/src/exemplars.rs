//! `GET|POST /api/v1/query_exemplars?query=<PromQL>&start=&end=`, as
//! Prometheus answers it (`web/api/v1/api.go` `queryExemplars`): the query
//! is parsed, the matchers of each of its vector selectors are one matcher
//! set, and the exemplars in [start, end] of the series matching any set
//! come back per series, sorted by series labels:
//!
//! ```json
//! {"status":"success","data":[{"seriesLabels":{"__name__":"req","job":"api"},
//!   "exemplars":[{"labels":{"trace_id":"abc"},"value":"6","timestamp":1600096945.479}]}]}
//! ```
//!
//! The value is a string as sample values are; the timestamp is seconds
//! written as Prometheus's `jsonutil.MarshalTimestamp` writes them (whole
//! seconds, then `.` and three digits when there are milliseconds). A query
//! without a vector selector (`1+1`) answers `"data":null`, as Prometheus.

use crate::error::JsonError;
use crate::params::{selector_matchers, time_param, MAX_TIME, MIN_TIME};
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_model::{Exemplar, Labels, Matcher};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use promql_parser::parser::Expr;
use std::fmt::Write;
use std::sync::Arc;

pub(crate) async fn query_exemplars(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let tenant = tenant_of(&s, &headers)?;
    let start = time_param(&p, "start", MIN_TIME)?;
    let end = time_param(&p, "end", MAX_TIME)?;
    if end < start {
        return Err(
            ApiError::BadData("end timestamp must not be before start timestamp".into()).into(),
        );
    }
    let sets = query_matchers(p.get("query").unwrap_or(""))?;
    let mut out = String::from(r#"{"status":"success","data":"#);
    if sets.is_empty() {
        out.push_str("null}");
    } else {
        let reader = s.reader()?;
        let found =
            blocking(move || Ok(reader.select_exemplars(&tenant, &sets, start, end)?)).await?;
        write_results(&found, &mut out);
        out.push('}');
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

/// The matcher sets of every vector selector in `query` (Prometheus's
/// `parser.ExtractSelectors`); a parse error is `bad_data`.
pub(crate) fn query_matchers(query: &str) -> Result<Vec<Vec<Matcher>>, ApiError> {
    argus_promql::with_stack(|| {
        let expr = argus_promql::parse(query)?;
        let mut sets = Vec::new();
        collect(&expr, &mut sets).map_err(|e| ApiError::BadData(e.to_string()))?;
        Ok(sets)
    })
}

fn collect(e: &Expr, out: &mut Vec<Vec<Matcher>>) -> Result<(), argus_model::MatcherError> {
    match e {
        Expr::VectorSelector(vs) => out.extend(selector_matchers(vs)?),
        Expr::MatrixSelector(ms) => out.extend(selector_matchers(&ms.vs)?),
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                collect(p, out)?;
            }
            collect(&a.expr, out)?;
        }
        Expr::Unary(u) => collect(&u.expr, out)?,
        Expr::Binary(b) => {
            collect(&b.lhs, out)?;
            collect(&b.rhs, out)?;
        }
        Expr::Paren(p) => collect(&p.expr, out)?,
        Expr::Subquery(s) => collect(&s.expr, out)?,
        Expr::Call(c) => {
            for a in &c.args.args {
                collect(a, out)?;
            }
        }
        Expr::Extension(x) => {
            for c in x.expr.children() {
                collect(c, out)?;
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
    }
    Ok(())
}

/// Appends the `data` array: per series `seriesLabels` and `exemplars`.
pub(crate) fn write_results(found: &[(Labels, Vec<Exemplar>)], out: &mut String) {
    out.push('[');
    for (i, (series, exemplars)) in found.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"seriesLabels":"#);
        write_labels(series, out);
        out.push_str(r#","exemplars":["#);
        for (j, e) in exemplars.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            write_exemplar(e, out);
        }
        out.push_str("]}");
    }
    out.push(']');
}

fn write_labels(labels: &Labels, out: &mut String) {
    out.push_str(&argus_promql::labels_json(labels).to_string());
}

/// Prometheus's `marshalExemplarJSON`: labels, the value as a string, the
/// timestamp in seconds.
fn write_exemplar(e: &Exemplar, out: &mut String) {
    out.push_str(r#"{"labels":"#);
    write_labels(&e.labels, out);
    out.push_str(r#","value":"#);
    out.push_str(&serde_json::Value::String(argus_promql::format_value(e.value)).to_string());
    out.push_str(r#","timestamp":"#);
    write_timestamp(e.ts_ms, out);
    out.push('}');
}

/// Prometheus's `jsonutil.MarshalTimestamp`: whole seconds, then `.` and
/// the milliseconds as three digits when there are some.
fn write_timestamp(ms: i64, out: &mut String) {
    let abs = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    let _ = write!(out, "{}", abs / 1000);
    if !abs.is_multiple_of(1000) {
        let _ = write!(out, ".{:03}", abs % 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_is_prometheus_s() {
        let series = Labels::from_pairs([("__name__", "req"), ("job", "api")]);
        let found = vec![(
            series,
            vec![
                Exemplar::new(
                    Labels::from_pairs([("trace_id", "EpTxMJ40fUus7aGY")]),
                    6.0,
                    1_600_096_945_479,
                ),
                Exemplar::new(Labels::default(), 0.5, 1_600_096_945_470),
                Exemplar::new(Labels::default(), f64::INFINITY, 1_600_096_945_000),
                Exemplar::new(Labels::default(), 19.0, -1_500),
                Exemplar::new(Labels::default(), 1e-7, 7),
            ],
        )];
        let mut out = String::new();
        write_results(&found, &mut out);
        assert_eq!(
            out,
            concat!(
                r#"[{"seriesLabels":{"__name__":"req","job":"api"},"exemplars":["#,
                r#"{"labels":{"trace_id":"EpTxMJ40fUus7aGY"},"value":"6","timestamp":1600096945.479},"#,
                r#"{"labels":{},"value":"0.5","timestamp":1600096945.470},"#,
                r#"{"labels":{},"value":"+Inf","timestamp":1600096945},"#,
                r#"{"labels":{},"value":"19","timestamp":-1.500},"#,
                r#"{"labels":{},"value":"1e-07","timestamp":0.007}]}]"#
            )
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["exemplars"][0]["timestamp"], 1600096945.479);
        let mut empty = String::new();
        write_results(&[], &mut empty);
        assert_eq!(empty, "[]");
    }

    #[test]
    fn every_vector_selector_is_a_matcher_set() {
        let sets = query_matchers(
            r#"histogram_quantile(0.9, sum by (le) (rate(req_bucket{job="api"}[5m]))) / on() group_left up"#,
        )
        .unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].len(), 2);
        assert!(sets[0]
            .iter()
            .any(|m| m.name == "__name__" && m.value == "req_bucket"));
        assert!(sets[1].iter().any(|m| m.value == "up"));
        assert!(query_matchers("1 + 1").unwrap().is_empty());
        let or = query_matchers(r#"{a="1" or b="2"}"#).unwrap();
        assert_eq!(or.len(), 2);
        assert!(matches!(query_matchers("sum("), Err(ApiError::BadData(_))));
    }
}
