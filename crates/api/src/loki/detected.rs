//! `/detected_fields` and `/detected_field/{name}/values`: the fields found
//! in the newest `line_limit` lines of a log query (over
//! [`argus_store::LogsReader::select`], backward): structured metadata, and
//! the keys of JSON lines or else logfmt lines, as Loki's query frontend
//! finds them (`queryrange/detected_fields.go`).

use super::params::{ordered_bounds, positive, step};
use super::pipeline::{newest_entries, LogQuery};
use super::{json_response, LokiError};
use crate::params::Params;
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::AppState;
use argus_model::{Labels, LogEntry};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What a detected-fields request asks (Loki's `ParseDetectedFieldsQuery`).
#[derive(Debug)]
struct FieldsRequest {
    query: LogQuery,
    start: i64,
    end: i64,
    line_limit: usize,
    limit: usize,
}

fn fields_request(p: &Params) -> Result<FieldsRequest, LokiError> {
    let (start, end) = ordered_bounds(p)?;
    let line_limit = positive(p, "line_limit", 100)?;
    let limit_key = if p.get("limit").unwrap_or("").is_empty() {
        "field_limit"
    } else {
        "limit"
    };
    let limit = positive(p, limit_key, 1000)?;
    step(p, start, end)?;
    let query = LogQuery::parse(p.get("query").unwrap_or(""))?;
    Ok(FieldsRequest {
        query,
        start,
        end,
        line_limit,
        limit,
    })
}

async fn sample(
    s: &Arc<AppState>,
    headers: &HeaderMap,
    req: FieldsRequest,
) -> Result<(FieldsRequest, Vec<(Arc<Labels>, LogEntry)>), LokiError> {
    let tenant = tenant_of(s, headers)?;
    let reader = s.logs_reader()?;
    Ok(blocking(move || {
        let lines = newest_entries(
            reader.as_ref(),
            &tenant,
            &req.query,
            req.start,
            req.end,
            req.line_limit,
        )?;
        Ok((req, lines))
    })
    .await?)
}

/// One field seen so far.
#[derive(Debug, Default)]
struct Field {
    values: BTreeSet<String>,
    kind: &'static str,
    /// `None` for structured metadata (Loki writes `null`).
    parsers: Option<Vec<&'static str>>,
    json_path: Vec<String>,
}

/// `/loki/api/v1/detected_fields?query&start&end&line_limit&limit`.
pub(crate) async fn detected_fields(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (req, lines) = sample(&s, &headers, fields_request(&p)?).await?;
    let mut fields: BTreeMap<String, Field> = BTreeMap::new();
    for (labels, entry) in &lines {
        for (k, v) in &entry.metadata {
            if let Some(f) = field(&mut fields, k, req.limit, None) {
                f.kind = determine_type(v);
                f.values.insert(v.clone());
            }
        }
        let Some(parsed) = parse_line(&entry.line, labels) else {
            continue;
        };
        for (k, v, path) in parsed.fields {
            if let Some(f) = field(&mut fields, &k, req.limit, Some(parsed.parser)) {
                match &mut f.parsers {
                    Some(ps) if !ps.contains(&parsed.parser) => ps.push(parsed.parser),
                    Some(_) => {}
                    None => f.parsers = Some(vec![parsed.parser]),
                }
                if parsed.parser == "json" {
                    f.json_path = path;
                }
                f.kind = determine_type(&v);
                f.values.insert(v);
            }
        }
    }
    if fields.is_empty() {
        return Ok(json_response(json!({})));
    }
    let out: Vec<Value> = fields
        .into_iter()
        .map(|(label, f)| {
            let mut o = json!({
                "label": label,
                "type": f.kind,
                "cardinality": f.values.len(),
                "parsers": f.parsers,
            });
            if !f.json_path.is_empty() {
                o["jsonPath"] = json!(f.json_path);
            }
            o
        })
        .collect();
    Ok(json_response(json!({"fields": out, "limit": req.limit})))
}

/// The entry of field `k`, created while fewer than `limit` fields are known.
fn field<'a>(
    fields: &'a mut BTreeMap<String, Field>,
    k: &str,
    limit: usize,
    parser: Option<&'static str>,
) -> Option<&'a mut Field> {
    if !fields.contains_key(k) {
        if fields.len() >= limit {
            return None;
        }
        fields.insert(
            k.to_string(),
            Field {
                parsers: parser.map(|p| vec![p]),
                kind: "string",
                ..Field::default()
            },
        );
    }
    fields.get_mut(k)
}

/// `/loki/api/v1/detected_field/{name}/values?query&start&end&line_limit&limit`.
pub(crate) async fn detected_field_values(
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (req, lines) = sample(&s, &headers, fields_request(&p)?).await?;
    let mut values = BTreeSet::new();
    for (labels, entry) in &lines {
        if values.len() >= req.limit {
            break;
        }
        for (k, v) in &entry.metadata {
            if *k == name {
                values.insert(v.clone());
            }
        }
        if let Some(parsed) = parse_line(&entry.line, labels) {
            for (k, v, _) in parsed.fields {
                if k == name {
                    // Byte sizes as Loki normalises them (`humanize.Bytes`),
                    // so that they can go into a query as they are.
                    values.insert(normalize_bytes(&v).unwrap_or(v));
                }
            }
        }
    }
    if values.is_empty() {
        return Ok(json_response(json!({})));
    }
    Ok(json_response(json!({"values": values, "limit": req.limit})))
}

/// The fields of one line: (name, value, JSON path).
#[derive(Debug)]
struct Parsed {
    parser: &'static str,
    fields: Vec<(String, String, Vec<String>)>,
}

/// JSON when the line is a JSON object, else logfmt (Loki's order). A name
/// that is a stream label gets `_extracted`, as Loki's parsers do.
fn parse_line(line: &str, stream: &Labels) -> Option<Parsed> {
    let mut parsed = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(o)) => {
            let mut fields = Vec::new();
            flatten_json(&Value::Object(o), &mut Vec::new(), &mut fields);
            Parsed {
                parser: "json",
                fields,
            }
        }
        _ => Parsed {
            parser: "logfmt",
            fields: logfmt(line)
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (sanitize_key(&k), v, Vec::new()))
                .filter(|(k, _, _)| !k.is_empty())
                .collect(),
        },
    };
    for (k, _, _) in &mut parsed.fields {
        if stream.get(k).is_some() {
            k.push_str("_extracted");
        }
    }
    Some(parsed)
}

/// Nested objects flattened with `_` (`{"a":{"b":1}}` is `a_b`); arrays and
/// nulls are left out, as Loki's JSON parser does.
fn flatten_json(v: &Value, path: &mut Vec<String>, out: &mut Vec<(String, String, Vec<String>)>) {
    let name = || {
        path.iter()
            .map(|p| sanitize_key(p))
            .collect::<Vec<_>>()
            .join("_")
    };
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                path.push(k.clone());
                flatten_json(v, path, out);
                path.pop();
            }
        }
        Value::String(s) => out.push((name(), s.clone(), path.clone())),
        Value::Number(n) => out.push((name(), n.to_string(), path.clone())),
        Value::Bool(b) => out.push((name(), b.to_string(), path.clone())),
        Value::Array(_) | Value::Null => {}
    }
}

/// Loki's `sanitizeLabelKey`: characters other than `[a-zA-Z0-9_]` become
/// `_`, and a leading digit gets a `_` before it.
fn sanitize_key(k: &str) -> String {
    let k = k.trim();
    let mut out = String::with_capacity(k.len() + 1);
    if k.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(k.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// logfmt pairs (`a=1 b="two words" c`), leniently: a key without `=` has
/// an empty value.
fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = line.chars().peekable();
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(&c) = it.peek() {
            if c.is_whitespace() || c == '=' {
                break;
            }
            key.push(c);
            it.next();
        }
        let mut value = String::new();
        if it.peek() == Some(&'=') {
            it.next();
            if it.peek() == Some(&'"') {
                it.next();
                while let Some(c) = it.next() {
                    match c {
                        '"' => break,
                        '\\' => match it.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some(o) => value.push(o),
                            None => break,
                        },
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = it.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    it.next();
                }
            }
        }
        if !key.is_empty() && !key.contains('"') {
            out.push((key, value));
        }
    }
}

/// Loki's `determineType`: int, float, boolean, duration, bytes, else string
/// (Go's parsers' rules).
fn determine_type(v: &str) -> &'static str {
    if v.parse::<i64>().is_ok() {
        "int"
    } else if v.parse::<f64>().is_ok() {
        "float"
    } else if matches!(
        v,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    ) {
        "boolean"
    } else if is_go_duration(v) {
        "duration"
    } else if parse_bytes(v).is_some() {
        "bytes"
    } else {
        "string"
    }
}

/// Go's `time.ParseDuration` syntax: `[-+]?([0-9]*(\.[0-9]*)?unit)+` with
/// units ns, us, µs, μs, ms, s, m, h (or `0`).
fn is_go_duration(v: &str) -> bool {
    let s = v.strip_prefix(['-', '+']).unwrap_or(v);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_len];
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if !matches!(
            &rest[..unit_len],
            "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h"
        ) {
            return false;
        }
        rest = &rest[unit_len..];
    }
    true
}

/// go-humanize's `ParseBytes`: a number (commas allowed), optional space,
/// an SI or IEC unit (any case); bytes.
fn parse_bytes(v: &str) -> Option<u64> {
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(v.len());
    let num: f64 = v[..split].replace(',', "").parse().ok()?;
    let unit = v[split..].trim().to_ascii_lowercase();
    let k: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024f64.powi(2),
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024f64.powi(3),
        "t" | "tb" => 1e12,
        "ti" | "tib" => 1024f64.powi(4),
        "p" | "pb" => 1e15,
        "pi" | "pib" => 1024f64.powi(5),
        "e" | "eb" => 1e18,
        "ei" | "eib" => 1024f64.powi(6),
        _ => return None,
    };
    let n = num * k;
    (n < u64::MAX as f64).then_some(n as u64)
}

/// A byte size with a unit as go-humanize's `Bytes` prints it, without the
/// space (`1.5 MB` is `1.5MB`): Loki's detected field values.
fn normalize_bytes(v: &str) -> Option<String> {
    const UNITS: [&str; 12] = [
        "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb",
    ];
    const SHORT: [&str; 11] = ["b", "ki", "k", "mi", "m", "gi", "g", "ti", "t", "pi", "p"];
    let lower = v.to_ascii_lowercase();
    let has_unit = UNITS
        .iter()
        .chain(SHORT.iter())
        .chain(["ei", "e"].iter())
        .any(|u| lower.ends_with(u));
    if !has_unit {
        return None;
    }
    let n = parse_bytes(v)?;
    if n < 10 {
        return Some(format!("{n}B"));
    }
    let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(sizes.len() - 1);
    let val = ((n as f64) / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    Some(if val < 10.0 {
        format!("{val:.1}{}", sizes[e])
    } else {
        format!("{val:.0}{}", sizes[e])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_as_loki_detects_them() {
        assert_eq!(determine_type("42"), "int");
        assert_eq!(determine_type("4.2"), "float");
        assert_eq!(determine_type("true"), "boolean");
        assert_eq!(determine_type("250ms"), "duration");
        assert_eq!(determine_type("1h2m3.5s"), "duration");
        assert_eq!(determine_type("10MB"), "bytes");
        assert_eq!(determine_type("1.5 KiB"), "bytes");
        assert_eq!(determine_type("error"), "string");
    }

    #[test]
    fn logfmt_and_json() {
        assert_eq!(
            logfmt(r#"a=1 b="two \"words\"" c"#),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "two \"words\"".into()),
                ("c".into(), String::new())
            ]
        );
        let l = Labels::from_pairs([("level", "x")]);
        let p = parse_line(r#"{"level":"info","user":{"id":7},"tags":[1]}"#, &l).unwrap();
        assert_eq!(p.parser, "json");
        assert_eq!(
            p.fields,
            vec![
                (
                    "level_extracted".into(),
                    "info".into(),
                    vec!["level".into()]
                ),
                (
                    "user_id".into(),
                    "7".into(),
                    vec!["user".into(), "id".into()]
                ),
            ]
        );
        assert_eq!(normalize_bytes("1500kb").as_deref(), Some("1.5MB"));
        assert_eq!(normalize_bytes("12"), None);
    }
}
