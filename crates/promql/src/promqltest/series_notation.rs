//! The expanding series notation of promqltest scripts:
//! `metric{label="value"} 1 2+3x4 _ _x2 stale -1-2x3 5x2`.
//!
//! Native histograms: `{{schema:0 count:3 buckets:[1 2]}}`, `{{...}}x3`, `{{...}}+{{...}}x3`.

use argus_model::{CounterResetHint, FloatHistogram, Labels, LabelsBuilder, Span, METRIC_NAME};

/// One position of a sequence: a value, or an omitted (`_`) sample.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqValue {
    Omitted,
    Value(f64),
    Stale,
    /// A native histogram (`{{...}}`) and whether its counter reset hint was given.
    Histogram(Box<FloatHistogram>, bool),
}

/// Parses `metric{labels} values...` into the label set and the expanded values.
pub fn parse_series_desc(line: &str) -> Result<(Labels, Vec<SeqValue>), String> {
    let (labels, rest) = parse_labels_prefix(line)?;
    let values = parse_values(rest)?;
    Ok((labels, values))
}

/// Parses the leading series selector (`name`, `name{...}` or `{...}`), returning the rest.
pub(super) fn parse_labels_prefix(line: &str) -> Result<(Labels, &str), String> {
    let s = line.trim_start();
    let mut b = LabelsBuilder::default();
    let name_len = s
        .char_indices()
        .take_while(|&(i, c)| {
            c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
        })
        .count();
    let mut rest = &s[name_len..];
    if name_len > 0 {
        b.set(METRIC_NAME, &s[..name_len]);
    }
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            // A label name or a quoted metric name.
            let (name, r, quoted) = if rest.starts_with(['"', '\'', '`']) {
                let (n, r) = parse_quoted(rest)?;
                (n, r, true)
            } else {
                let n = rest
                    .char_indices()
                    .take_while(|&(i, c)| {
                        c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                    })
                    .count();
                if n == 0 {
                    return Err(format!("unexpected character in label set: {rest:?}"));
                }
                (rest[..n].to_string(), &rest[n..], false)
            };
            let r = r.trim_start();
            if let Some(r) = r.strip_prefix('=') {
                let (v, r) = parse_quoted(r.trim_start())?;
                b.set(name, v);
                rest = r;
            } else if quoted {
                b.set(METRIC_NAME, name);
                rest = r;
            } else {
                return Err(format!("expected '=' after label name {name:?}"));
            }
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if !rest.starts_with('}') {
                return Err(format!("expected ',' or '}}' in label set: {rest:?}"));
            }
        }
    } else if name_len == 0 {
        return Err(format!("invalid series description {line:?}"));
    }
    Ok((b.build(), rest))
}

/// Parses a Go-style quoted string (`"..."`, `'...'` or `` `...` ``) at the start of `s`.
pub(super) fn parse_quoted(s: &str) -> Result<(String, &str), String> {
    let q = s.chars().next().ok_or("expected a quoted string")?;
    if !matches!(q, '"' | '\'' | '`') {
        return Err(format!("expected a quoted string at {s:?}"));
    }
    let body = &s[1..];
    if q == '`' {
        let end = body.find('`').ok_or("unterminated raw string")?;
        return Ok((body[..end].to_string(), &body[end + 1..]));
    }
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            flush(&mut bytes, &mut out);
            return Ok((out, &body[i + 1..]));
        }
        if c != '\\' {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let (_, e) = chars.next().ok_or("unterminated escape")?;
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            _ => None,
        };
        if let Some(c) = simple {
            flush(&mut bytes, &mut out);
            out.push(c);
            continue;
        }
        let mut take = |n: usize, radix: u32| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, d) = chars.next().ok_or("short escape")?;
                v = v * radix + d.to_digit(radix).ok_or("bad escape digit")?;
            }
            Ok(v)
        };
        match e {
            'x' => bytes.push(take(2, 16)? as u8),
            '0'..='7' => {
                let rest = take(2, 8)?;
                bytes.push((e.to_digit(8).unwrap_or(0) * 64 + rest) as u8);
            }
            'u' | 'U' => {
                flush(&mut bytes, &mut out);
                let v = take(if e == 'u' { 4 } else { 8 }, 16)?;
                out.push(char::from_u32(v).ok_or("bad unicode escape")?);
            }
            _ => return Err(format!("unknown escape \\{e}")),
        }
    }
    Err("unterminated string".into())
}

fn flush(bytes: &mut Vec<u8>, out: &mut String) {
    if !bytes.is_empty() {
        out.push_str(&String::from_utf8_lossy(bytes));
        bytes.clear();
    }
}

/// Parses a float the way the promqltest series lexer does (decimal, hex, `Inf`, `NaN`).
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()? as f64
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&body[1..], 8).ok()? as f64
    } else if body
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.')
    {
        body.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// Parses the inside of a `{{...}}` histogram description; the flag tells
/// whether `counter_reset_hint` was given.
pub(super) fn parse_histogram_desc(body: &str) -> Result<(FloatHistogram, bool), String> {
    let mut h = FloatHistogram::default();
    let mut hint_set = false;
    let mut rest = body.trim();
    let (mut buckets, mut n_buckets) = (Vec::new(), Vec::new());
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let mut seen: Vec<String> = Vec::new();
    while !rest.is_empty() {
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("invalid histogram description {body:?}"))?;
        let key = rest[..colon].trim().to_string();
        if seen.contains(&key) {
            return Err(format!("duplicate key \"{key}\" in histogram"));
        }
        seen.push(key.clone());
        rest = rest[colon + 1..].trim_start();
        let (val, r) = if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or("unterminated bucket list")?;
            (&r[..close], &r[close + 1..])
        } else {
            let e = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..e], &rest[e..])
        };
        rest = r.trim_start();
        let num =
            |v: &str| parse_number(v).ok_or_else(|| format!("invalid number {v:?} for {key}"));
        let list = |v: &str| -> Result<Vec<f64>, String> {
            v.split_whitespace()
                .map(|x| parse_number(x).ok_or_else(|| format!("invalid number {x:?} in {key}")))
                .collect()
        };
        match key.as_str() {
            "schema" => h.schema = num(val)? as i32,
            "sum" => h.sum = num(val)?,
            "count" => h.count = num(val)?,
            "z_bucket" => h.zero_count = num(val)?,
            "z_bucket_w" => h.zero_threshold = num(val)?,
            "offset" => offset = num(val)? as i32,
            "n_offset" => n_offset = num(val)? as i32,
            "buckets" => buckets = list(val)?,
            "n_buckets" => n_buckets = list(val)?,
            "custom_values" => h.custom_values = list(val)?,
            "counter_reset_hint" => {
                hint_set = true;
                h.counter_reset_hint = match val {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return Err(format!("invalid counter_reset_hint {val:?}")),
                }
            }
            _ => return Err(format!("unknown histogram key {key:?}")),
        }
    }
    if !buckets.is_empty() {
        h.positive_spans = vec![Span {
            offset,
            length: buckets.len() as u32,
        }];
    }
    if !n_buckets.is_empty() {
        h.negative_spans = vec![Span {
            offset: n_offset,
            length: n_buckets.len() as u32,
        }];
    }
    h.positive_buckets = buckets;
    h.negative_buckets = n_buckets;
    Ok((h, hint_set))
}

/// Splits a value sequence into tokens; a `{{...}}` block is part of its token.
fn tokens(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            if s[i..].starts_with("{{") {
                let end = s[i..].find("}}").ok_or("unterminated native histogram")?;
                i += end + 2;
            } else {
                i += 1;
            }
        }
        out.push(&s[start..i]);
    }
    Ok(out)
}

fn histogram_token(tok: &str) -> Result<Vec<SeqValue>, String> {
    let end = tok.find("}}").ok_or("unterminated native histogram")?;
    let (base, base_set) = parse_histogram_desc(&tok[2..end])?;
    let rest = &tok[end + 2..];
    if rest.is_empty() {
        return Ok(vec![SeqValue::Histogram(Box::new(base), base_set)]);
    }
    if let Some(n) = rest.strip_prefix('x') {
        let n: usize = n
            .parse()
            .map_err(|_| format!("invalid repetition in {tok:?}"))?;
        return Ok(vec![SeqValue::Histogram(Box::new(base), base_set); n + 1]);
    }
    let negate = rest.starts_with('-');
    let inc_tok = rest
        .strip_prefix(['+', '-'])
        .and_then(|r| r.strip_prefix("{{"))
        .ok_or_else(|| format!("invalid histogram sequence {tok:?}"))?;
    let e2 = inc_tok.find("}}").ok_or("unterminated native histogram")?;
    let (inc, inc_set) = parse_histogram_desc(&inc_tok[..e2])?;
    let n: usize = inc_tok[e2 + 2..]
        .strip_prefix('x')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("invalid repetition in {tok:?}"))?;
    let mut out = vec![SeqValue::Histogram(Box::new(base.clone()), inc_set)];
    let mut cur = base;
    for _ in 0..n {
        if cur.schema > inc.schema {
            return Err(format!(
                "error combining histograms: cannot merge from schema {} to {}",
                inc.schema, cur.schema
            ));
        }
        let r = if negate {
            crate::histogram::sub(&mut cur, &inc)
        } else {
            crate::histogram::add(&mut cur, &inc)
        };
        r.map_err(|_| "error combining histograms: incompatible schemas".to_string())?;
        out.push(SeqValue::Histogram(Box::new(cur.clone()), inc_set));
    }
    Ok(out)
}

/// Expands a whitespace-separated value sequence.
pub fn parse_values(s: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    for tok in tokens(s)? {
        if tok.starts_with("{{") {
            out.extend(histogram_token(tok)?);
            continue;
        }
        if tok == "_" {
            out.push(SeqValue::Omitted);
            continue;
        }
        if tok == "stale" {
            out.push(SeqValue::Stale);
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n: usize = n
                .parse()
                .map_err(|_| format!("invalid repetition in {tok:?}"))?;
            out.extend(std::iter::repeat_n(SeqValue::Omitted, n));
            continue;
        }
        if let Some(v) = parse_number(tok).filter(|_| !tok.contains(['x', 'X'])) {
            out.push(SeqValue::Value(v));
            continue;
        }
        let (head, times) = tok
            .rsplit_once('x')
            .ok_or_else(|| format!("invalid value {tok:?}"))?;
        let times: usize = times
            .parse()
            .map_err(|_| format!("invalid repetition in {tok:?}"))?;
        // Split `head` into a start value and an optional signed increment: the
        // operator is the first '+'/'-' that is neither leading nor part of an exponent.
        let bytes = head.as_bytes();
        let mut split = None;
        for i in 1..bytes.len() {
            if (bytes[i] == b'+' || bytes[i] == b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
                split = Some(i);
                break;
            }
        }
        let (start, inc) = match split {
            Some(i) => {
                let inc = parse_number(&head[i + 1..])
                    .ok_or_else(|| format!("invalid increment in {tok:?}"))?;
                (&head[..i], if bytes[i] == b'-' { -inc } else { inc })
            }
            None => (head, 0.0),
        };
        let start = parse_number(start).ok_or_else(|| format!("invalid value {tok:?}"))?;
        let mut cur = start;
        for _ in 0..=times {
            out.push(SeqValue::Value(cur));
            cur += inc;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<f64> {
        parse_values(s)
            .unwrap()
            .into_iter()
            .map(|v| match v {
                SeqValue::Value(v) => v,
                SeqValue::Omitted => -999.0,
                SeqValue::Stale => -777.0,
                SeqValue::Histogram(..) => -555.0,
            })
            .collect()
    }

    #[test]
    fn expands_sequences() {
        assert_eq!(vals("-2+4x3"), vec![-2.0, 2.0, 6.0, 10.0]);
        assert_eq!(vals("1-2x4"), vec![1.0, -1.0, -3.0, -5.0, -7.0]);
        assert_eq!(vals("1x4"), vec![1.0; 5]);
        assert_eq!(
            vals("1 _x3 stale"),
            vec![1.0, -999.0, -999.0, -999.0, -777.0]
        );
        assert_eq!(
            vals("1e3 Inf -Inf"),
            vec![1000.0, f64::INFINITY, f64::NEG_INFINITY]
        );
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(vals("1.5e-1+1x1"), vec![0.15, 1.15]);
    }

    #[test]
    fn parses_labels() {
        let (l, v) = parse_series_desc(r#"http_requests{job="api", instance="0"} 1 2"#).unwrap();
        assert_eq!(
            l.to_string(),
            r#"{__name__="http_requests", instance="0", job="api"}"#
        );
        assert_eq!(v.len(), 2);
        let (l, _) = parse_series_desc(r#"{"some.metric", a="b\"c"} 1"#).unwrap();
        assert_eq!(l.get("__name__"), Some("some.metric"));
        assert_eq!(l.get("a"), Some("b\"c"));
        assert_eq!(
            vals("1 {{schema:1 sum:2}} {{count:1}}x2 {{count:1}}+{{count:2}}x1"),
            vec![1.0, -555.0, -555.0, -555.0, -555.0, -555.0, -555.0]
        );
        assert_eq!(vals("0x3"), vec![0.0; 4]);
    }
}
