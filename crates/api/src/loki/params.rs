//! Request parameters as Loki's `pkg/loghttp` reads them: times as
//! nanosecond integers, unix seconds (10 digits or fewer, or with a
//! fraction) or RFC 3339; `end` defaults to now and `start` to `end - since`
//! (`since` 1h by default); steps as float seconds or durations; queries as
//! LogQL stream selectors. The error messages are Loki's.

use super::{bad, LokiError};
use crate::params::{parse_rfc3339_ns, Params};
use argus_logql::{Expr, LogExpr};
use argus_model::{MatchOp, Matcher};

/// Loki's `defaultSince`.
const DEFAULT_SINCE_NS: i64 = 3_600_000_000_000;
const NS: i64 = 1_000_000_000;

/// Loki's `errEndBeforeStart`.
pub(crate) const END_BEFORE_START: &str = "end timestamp must not be before or equal to start time";
const ZERO_STEP: &str =
    "zero or negative query resolution step widths are not accepted. Try a positive integer";
const STEP_TOO_SMALL: &str = "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter";

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Loki's `parseTimestamp`: `None` for an empty value.
pub(crate) fn parse_timestamp(value: &str) -> Result<Option<i64>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.contains('.') {
        if let Ok(t) = value.parse::<f64>() {
            if t.is_finite() {
                let secs = t.trunc();
                let ms = ((t - secs) * 1000.0).round() as i64;
                return Ok(Some((secs as i64).saturating_mul(NS) + ms * 1_000_000));
            }
        }
    }
    match value.parse::<i64>() {
        Ok(n) if value.len() <= 10 => Ok(Some(n.saturating_mul(NS))),
        Ok(n) => Ok(Some(n)),
        Err(_) => parse_rfc3339_ns(value)
            .map(Some)
            .ok_or_else(|| format!("strconv.ParseInt: parsing {value:?}: invalid syntax")),
    }
}

/// Loki's `bounds`: (start, end) in ns.
pub(crate) fn bounds(p: &Params) -> Result<(i64, i64), LokiError> {
    bounds_at(p, now_ns())
}

pub(crate) fn bounds_at(p: &Params, now: i64) -> Result<(i64, i64), LokiError> {
    let since = match p.get("since").unwrap_or("") {
        "" => DEFAULT_SINCE_NS,
        s => argus_model::parse_duration(s)
            .map(|d| d.as_nanos() as i64)
            .map_err(|e| bad(format!("could not parse 'since' parameter: {e}")))?,
    };
    let end = parse_timestamp(p.get("end").unwrap_or(""))
        .map_err(|e| bad(format!("could not parse 'end' parameter: {e}")))?
        .unwrap_or(now);
    // The default start counts back from `end`, or from now when `end` is in
    // the future.
    let end_or_now = end.min(now);
    let start = parse_timestamp(p.get("start").unwrap_or(""))
        .map_err(|e| bad(format!("could not parse 'start' parameter: {e}")))?
        .unwrap_or(end_or_now.saturating_sub(since));
    Ok((start, end))
}

/// Bounds, refusing `end` before `start` (Loki's range and detected-* queries).
pub(crate) fn ordered_bounds(p: &Params) -> Result<(i64, i64), LokiError> {
    let (start, end) = bounds(p)?;
    if end < start {
        return Err(bad(END_BEFORE_START));
    }
    Ok((start, end))
}

/// An integer parameter (Loki's `parseInt`), `def` when absent or empty.
pub(crate) fn int_param(p: &Params, key: &str, def: i64) -> Result<i64, LokiError> {
    match p.get(key).unwrap_or("") {
        "" => Ok(def),
        v => v
            .parse::<i64>()
            .map_err(|_| bad(format!("strconv.Atoi: parsing {v:?}: invalid syntax"))),
    }
}

/// A positive limit (`limit`, `line_limit`): Loki's message for 0 and less.
pub(crate) fn positive(p: &Params, key: &str, def: i64) -> Result<usize, LokiError> {
    let n = int_param(p, key, def)?;
    if n <= 0 {
        return Err(bad("limit must be a positive value"));
    }
    if n > i64::from(u32::MAX) {
        return Err(bad(format!(
            "{key} value {n} is out of range [0, {}]",
            u32::MAX
        )));
    }
    Ok(n as usize)
}

/// Float seconds or a duration (Loki's `parseSecondsOrDuration`), in ns.
pub(crate) fn seconds_or_duration(value: &str) -> Result<i64, LokiError> {
    if let Ok(f) = value.parse::<f64>() {
        let ns = f * 1e9;
        if !ns.is_finite() || ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(bad(format!(
                "cannot parse {value:?} to a valid duration. It overflows int64"
            )));
        }
        return Ok(ns as i64);
    }
    argus_model::parse_duration(value)
        .map(|d| d.as_nanos() as i64)
        .map_err(|_| bad(format!("cannot parse {value:?} to a valid duration")))
}

/// The `step` of a range request in ns: given, or Loki's default (the range
/// / 250, at least 1s); refused when not positive or when it makes more than
/// 11,000 points.
pub(crate) fn step(p: &Params, start: i64, end: i64) -> Result<i64, LokiError> {
    let step = match p.get("step").unwrap_or("") {
        "" => ((end - start) / NS / 250).max(1) * NS,
        v => seconds_or_duration(v)?,
    };
    if step <= 0 {
        return Err(bad(ZERO_STEP));
    }
    if (end - start) / step > 11_000 {
        return Err(bad(STEP_TOO_SMALL));
    }
    Ok(step)
}

/// What Loki's `ParseRangeQuery` checks besides the bounds (for the
/// endpoints that share it: index stats, volume range): `limit`,
/// `direction`, `step`, `interval`. Returns the step. `zero_limit`: a
/// `limit` of 0 means the default (the volume endpoints).
pub(crate) fn range_checks(
    p: &Params,
    start: i64,
    end: i64,
    zero_limit: bool,
) -> Result<i64, LokiError> {
    if !(zero_limit && p.get("limit") == Some("0")) {
        positive(p, "limit", 100)?;
    }
    match p.get("direction").unwrap_or("") {
        "" => {}
        d if d.eq_ignore_ascii_case("forward") || d.eq_ignore_ascii_case("backward") => {}
        d => return Err(bad(format!("invalid direction '{d}'"))),
    }
    let step = step(p, start, end)?;
    if let Some(v) = p.get("interval").filter(|v| !v.is_empty()) {
        if seconds_or_duration(v)? < 0 {
            return Err(bad("interval must be >= 0"));
        }
    }
    Ok(step)
}

pub(crate) fn parse_error(e: argus_logql::ParseError) -> LokiError {
    bad(e.to_string())
}

/// A log query (`{…} |= "x" | json`), refusing metric queries as Loki's
/// `ParseLogSelector` does.
pub(crate) fn log_query(query: &str) -> Result<LogExpr, LokiError> {
    match argus_logql::parse(query).map_err(parse_error)? {
        Expr::Log(l) => Ok(l),
        Expr::Metric(_) => Err(bad("only log selector is supported")),
    }
}

/// A stream selector alone (Loki's `syntax.ParseMatchers(query, true)`): a
/// pipeline or a metric query is refused.
pub(crate) fn selector(query: &str) -> Result<Vec<Matcher>, LokiError> {
    selector_with(argus_logql::parse(query))
}

/// As [`selector`], without the check that a matcher must not match the
/// empty string (`ParseMatchers(query, false)`, for `/series`).
pub(crate) fn selector_unvalidated(query: &str) -> Result<Vec<Matcher>, LokiError> {
    selector_with(argus_logql::parse_syntax(query))
}

fn selector_with(parsed: Result<Expr, argus_logql::ParseError>) -> Result<Vec<Matcher>, LokiError> {
    match parsed.map_err(parse_error)? {
        Expr::Log(l) if l.pipeline.is_empty() => convert_matchers(&l.selector),
        _ => Err(bad("only label matchers are supported")),
    }
}

/// The optional `query` of the label endpoints: no matchers when absent.
pub(crate) fn optional_selector(p: &Params) -> Result<Vec<Matcher>, LokiError> {
    match p.get("query").unwrap_or("") {
        "" => Ok(Vec::new()),
        q => selector(q),
    }
}

/// LogQL matchers as the store's.
pub(crate) fn convert_matchers(ms: &[argus_logql::Matcher]) -> Result<Vec<Matcher>, LokiError> {
    ms.iter()
        .map(|m| {
            let op = match m.op {
                argus_logql::MatchOp::Eq => MatchOp::Equal,
                argus_logql::MatchOp::Neq => MatchOp::NotEqual,
                argus_logql::MatchOp::Re => MatchOp::Regex,
                argus_logql::MatchOp::Nre => MatchOp::NotRegex,
            };
            Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| bad(e.to_string()))
        })
        .collect()
}

/// ms as Prometheus JSON writes a sample time (`model.Time.String`): whole
/// seconds as an integer, else seconds with the milliseconds.
pub(crate) fn seconds_json(ms: i64) -> serde_json::Value {
    if ms % 1000 == 0 {
        serde_json::Value::from(ms / 1000)
    } else {
        serde_json::Value::from(ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Params {
        Params::parse(Some(q), None).unwrap()
    }

    #[test]
    fn timestamps_as_loki_reads_them() {
        assert_eq!(parse_timestamp("").unwrap(), None);
        assert_eq!(
            parse_timestamp("1700000000").unwrap(),
            Some(1_700_000_000 * NS)
        );
        assert_eq!(
            parse_timestamp("1700000000123456789").unwrap(),
            Some(1_700_000_000_123_456_789)
        );
        assert_eq!(
            parse_timestamp("1700000000.25").unwrap(),
            Some(1_700_000_000_250_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20.5Z").unwrap(),
            Some(1_700_000_000_500_000_000)
        );
        assert_eq!(
            parse_timestamp("2023-11-15T00:13:20+02:00").unwrap(),
            Some(1_700_000_000 * NS)
        );
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn default_bounds_and_errors() {
        let now = 10_000 * NS;
        assert_eq!(bounds_at(&p(""), now).unwrap(), (now - 3600 * NS, now));
        assert_eq!(
            bounds_at(&p("since=5m&end=9000"), now).unwrap(),
            (9000 * NS - 300 * NS, 9000 * NS)
        );
        // An end in the future: the default start counts back from now.
        assert_eq!(
            bounds_at(&p("since=1m&end=20000"), now).unwrap(),
            (now - 60 * NS, 20_000 * NS)
        );
        let e = bounds_at(&p("start=abc"), now).unwrap_err();
        assert_eq!(
            e.0.to_string(),
            "could not parse 'start' parameter: strconv.ParseInt: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn steps() {
        assert_eq!(step(&p(""), 0, 3600 * NS).unwrap(), 14 * NS);
        assert_eq!(step(&p("step=30s"), 0, 3600 * NS).unwrap(), 30 * NS);
        assert_eq!(step(&p("step=0.5"), 0, 60 * NS).unwrap(), NS / 2);
        assert!(step(&p("step=0"), 0, 60 * NS).is_err());
        assert!(step(&p("step=1ms"), 0, 3600 * NS).is_err());
    }
}
