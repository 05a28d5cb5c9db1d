//! The expanding series notation of promqltest scripts:
//! `metric{label="value"} 1 2+3x4 _ _x2 stale -1-2x3 5x2`.
//!
//! Native histograms (`{{...}}`) are not supported yet and are reported as an error.

use argus_model::{Labels, LabelsBuilder, METRIC_NAME};

/// One position of a sequence: a value, or an omitted (`_`) sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeqValue {
    Omitted,
    Value(f64),
    Stale,
    /// A native histogram (`{{...}}`): not supported yet, kept as a position.
    Histogram,
}

/// Parses `metric{labels} values...` into the label set and the expanded values.
pub fn parse_series_desc(line: &str) -> Result<(Labels, Vec<SeqValue>), String> {
    let (labels, rest) = parse_labels_prefix(line)?;
    let values = parse_values(rest)?;
    Ok((labels, values))
}

/// Parses the leading series selector (`name`, `name{...}` or `{...}`), returning the rest.
pub fn parse_labels_prefix(line: &str) -> Result<(Labels, &str), String> {
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
        if r.starts_with('{') {
            return Err("native histogram notation is not supported".into());
        }
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
pub fn parse_quoted(s: &str) -> Result<(String, &str), String> {
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

/// Replaces every `{{...}}` block by `H` so that tokens split on whitespace.
fn mask_histograms(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find("}}")
            .ok_or("unterminated native histogram")?;
        out.push('H');
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands a whitespace-separated value sequence.
pub fn parse_values(s: &str) -> Result<Vec<SeqValue>, String> {
    let mut out = Vec::new();
    let masked = mask_histograms(s)?;
    for tok in masked.split_whitespace() {
        if tok.starts_with('H') {
            let times = match tok.rsplit_once('x') {
                Some((_, n)) => {
                    n.parse::<usize>()
                        .map_err(|_| format!("invalid repetition in {tok:?}"))?
                        + 1
                }
                None => 1,
            };
            out.extend(std::iter::repeat_n(SeqValue::Histogram, times));
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
                SeqValue::Histogram => -555.0,
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
            vals("1 {{schema:1 sum:2}} {{count:1}}x2 {{a:1}}+{{a:2}}x1"),
            vec![1.0, -555.0, -555.0, -555.0, -555.0, -555.0, -555.0]
        );
        assert_eq!(vals("0x3"), vec![0.0; 4]);
    }
}
