//! Request parameters as Prometheus's HTTP API reads them: repeated keys
//! (`match[]`), GET query strings and POST forms alike, times as unix
//! seconds or RFC 3339.

use crate::ApiError;
use argus_model::{MatchOp, Matcher};

/// Decoded `application/x-www-form-urlencoded` pairs, in order.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

fn percent_decode(s: &str) -> Result<String, ApiError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or_else(|| ApiError::BadData(format!("invalid URL escape in {s:?}")))?;
                out.push(
                    u8::from_str_radix(hex, 16)
                        .map_err(|_| ApiError::BadData(format!("invalid URL escape in {s:?}")))?,
                );
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::BadData("parameter is not valid UTF-8".into()))
}

impl Params {
    pub fn parse(query: Option<&str>, form: Option<&[u8]>) -> Result<Params, ApiError> {
        let mut out = Vec::new();
        let form = form
            .map(|f| {
                std::str::from_utf8(f)
                    .map_err(|_| ApiError::BadData("form body is not valid UTF-8".into()))
            })
            .transpose()?;
        for src in [query, form].into_iter().flatten() {
            for pair in src.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                out.push((percent_decode(k)?, percent_decode(v)?));
            }
        }
        Ok(Params(out))
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Prometheus's `minTime`/`maxTime` defaults, in ms.
pub const MIN_TIME: i64 = -9_223_309_901_257_974;
pub const MAX_TIME: i64 = 9_223_309_901_257_974;

/// A time parameter in ms: unix seconds (float) or RFC 3339.
pub fn parse_time(s: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::BadData(format!("cannot parse {s:?} to a valid timestamp"));
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(bad());
        }
        return Ok((f * 1000.0).round() as i64);
    }
    parse_rfc3339(s).ok_or_else(bad)
}

pub fn time_param(p: &Params, key: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(key) {
        None | Some("") => Ok(default),
        Some(s) => parse_time(s).map_err(|_| {
            ApiError::BadData(format!(
                "invalid parameter \"{key}\": cannot parse {s:?} to a valid timestamp"
            ))
        }),
    }
}

/// ms to `2006-01-02T15:04:05.000Z` (UTC).
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = argus_model::civil::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// `2006-01-02T15:04:05.999999999Z07:00` (Go's `time.RFC3339Nano`, which
/// Prometheus and Loki parse times with) to ns; fraction digits past the
/// ninth are dropped.
pub(crate) fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = s.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let mut ns = String::from(digits);
        ns.truncate(9);
        while ns.len() < 9 {
            ns.push('0');
        }
        frac_ns = ns.parse().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let m = oh * 60 + om;
            if *c == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = argus_model::civil::days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

/// The same, to ms (rounded down).
fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_rfc3339_ns(s).map(|ns| ns.div_euclid(1_000_000))
}

fn convert_op(op: &promql_parser::label::MatchOp) -> MatchOp {
    use promql_parser::label::MatchOp as P;
    match op {
        P::Equal => MatchOp::Equal,
        P::NotEqual => MatchOp::NotEqual,
        P::Re(_) => MatchOp::Regex,
        P::NotRe(_) => MatchOp::NotRegex,
    }
}

/// Parses a series selector (`up{job="api"}`) into one or more matcher sets
/// (several for `{a="1" or b="2"}`).
pub fn parse_selector(s: &str) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let bad = |m: String| ApiError::BadData(format!("invalid parameter \"match[]\": {m}"));
    // A selector is not nested: anything deep is refused before it is parsed,
    // and the tree of what is parsed is dropped on a deep enough stack.
    let vs = argus_promql::with_stack(|| match argus_promql::parse(s) {
        Ok(promql_parser::parser::Expr::VectorSelector(vs)) => Ok(vs),
        Ok(_) => Err(bad(format!("{s:?} is not a series selector"))),
        Err(e) => Err(bad(e.to_string())),
    })?;
    let sets = selector_matchers(&vs).map_err(|e| bad(e.to_string()))?;
    if sets.iter().any(|set| set.iter().all(|m| m.matches_empty())) {
        return Err(bad(
            "match[] must contain at least one non-empty matcher".into()
        ));
    }
    Ok(sets)
}

/// A vector selector's matcher sets, its metric name as a `__name__`
/// matcher in each (Prometheus's `LabelMatchers`): one set, or one per
/// alternative of `{a="1" or b="2"}`.
pub(crate) fn selector_matchers(
    vs: &promql_parser::parser::VectorSelector,
) -> Result<Vec<Vec<Matcher>>, argus_model::MatcherError> {
    let groups: Vec<&Vec<promql_parser::label::Matcher>> = if vs.matchers.or_matchers.is_empty() {
        vec![&vs.matchers.matchers]
    } else {
        vs.matchers.or_matchers.iter().collect()
    };
    let mut sets = Vec::with_capacity(groups.len());
    for g in groups {
        let mut set = Vec::with_capacity(g.len() + 1);
        if let Some(n) = &vs.name {
            set.push(Matcher::equal(argus_model::METRIC_NAME, n.clone()));
        }
        for m in g {
            set.push(Matcher::new(
                convert_op(&m.op),
                m.name.clone(),
                m.value.clone(),
            )?);
        }
        sets.push(set);
    }
    Ok(sets)
}

pub fn parse_selectors(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut out = Vec::new();
    for s in p.get_all("match[]") {
        out.extend(parse_selector(s)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1.5").unwrap(), 1500);
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z").unwrap(),
            1_435_781_451_781
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51+02:00").unwrap(),
            1_435_781_451_000
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn rfc3339_roundtrip() {
        for ms in [0, 1_435_781_451_781, 951_782_400_000, -86_400_000] {
            assert_eq!(parse_time(&format_rfc3339(ms)).unwrap(), ms);
        }
        assert_eq!(
            format_rfc3339(1_435_781_451_781),
            "2015-07-01T20:10:51.781Z"
        );
    }

    #[test]
    fn params_repeat_and_decode() {
        let p = Params::parse(
            Some("match%5B%5D=up&match[]=a%7Bb%3D%22c%22%7D&x=a+b"),
            Some(b"end=5"),
        )
        .unwrap();
        assert_eq!(p.get_all("match[]"), vec!["up", "a{b=\"c\"}"]);
        assert_eq!(p.get("x"), Some("a b"));
        assert_eq!(p.get("end"), Some("5"));
    }

    #[test]
    fn selectors() {
        let s = parse_selector(r#"up{job=~"a|b"}"#).unwrap();
        assert_eq!(s[0].len(), 2);
        assert!(parse_selector(r#"{job=""}"#).is_err());
        assert!(parse_selector("sum(up)").is_err());
    }
}
