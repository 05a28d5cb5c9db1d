//! `detected_level`: the structured metadata Loki 3's distributor adds to
//! every entry under its default `discover_log_levels: true`
//! (`pkg/distributor/field_detection.go` of grafana/loki; behaviour
//! followed, no code taken), which Grafana's Logs Drilldown and the
//! `/loki/api/v1/patterns` levels read.
//!
//! The level is, first found:
//!
//! 1. an existing `detected_level` pair (its value normalized, no pair added);
//! 2. a stream label named as one of [`LEVEL_FIELDS`] (in that order);
//! 3. a structured metadata pair so named (OTLP's `severity_text`);
//! 4. OTLP's `severity_number` (1–4 trace, …, 21–24 fatal, 0 unknown,
//!    not a number: info);
//! 5. the line: a JSON object's string field so named (two levels deep), a
//!    logfmt key so named (case-insensitive, the earliest name of the list
//!    wins), and otherwise, or when that value is not a level, keywords
//!    (`info`, `[error]`, `warning`, `debug:`, …), else `unknown`.
//!
//! Known levels are normalized to `trace`, `debug`, `info`, `warn`,
//! `error`, `critical`, `fatal`; another value found in a label or in
//! metadata is kept as it is, an empty one adds nothing.

use argus_model::{Labels, LogEntry};

/// The metadata name.
pub const DETECTED_LEVEL: &str = "detected_level";

/// Loki's default fields holding a level, in order of preference.
pub const LEVEL_FIELDS: &[&str] = &[
    "level",
    "LEVEL",
    "Level",
    "log.level",
    "severity",
    "SEVERITY",
    "Severity",
    "SeverityText",
    "lvl",
    "LVL",
    "Lvl",
    "severity_text",
    "Severity_Text",
    "SEVERITY_TEXT",
];

/// How deep into a JSON line a level field is looked for (Loki's default
/// `log_level_from_json_max_depth`).
const JSON_MAX_DEPTH: usize = 2;

/// Adds (or normalizes) the entry's `detected_level` (see the module docs).
pub fn add_detected_level(labels: &Labels, e: &mut LogEntry) {
    if let Some(pair) = e.metadata.iter_mut().find(|(k, _)| k == DETECTED_LEVEL) {
        pair.1 = normalize(&pair.1).into_owned();
        return;
    }
    let level = if let Some(v) = LEVEL_FIELDS.iter().find_map(|f| labels.get(f)) {
        normalize(v).into_owned()
    } else if let Some(v) = LEVEL_FIELDS.iter().find_map(|f| meta(e, f)) {
        normalize(v).into_owned()
    } else if let Some(n) = meta(e, "severity_number") {
        severity_number_level(n).to_string()
    } else {
        line_level(&e.line).to_string()
    };
    if !level.is_empty() {
        e.metadata.push((DETECTED_LEVEL.to_string(), level));
    }
}

fn meta<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    e.metadata
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The normalized name of a known level.
fn known(v: &str) -> Option<&'static str> {
    let eq = |s: &str| v.eq_ignore_ascii_case(s);
    Some(if eq("trace") || eq("trc") {
        "trace"
    } else if eq("debug") || eq("dbg") {
        "debug"
    } else if eq("info") || eq("inf") || eq("information") {
        "info"
    } else if eq("warn") || eq("wrn") || eq("warning") {
        "warn"
    } else if eq("error") || eq("err") {
        "error"
    } else if eq("critical") {
        "critical"
    } else if eq("fatal") {
        "fatal"
    } else {
        return None;
    })
}

fn normalize(v: &str) -> std::borrow::Cow<'_, str> {
    known(v).map_or(v.into(), Into::into)
}

/// OTLP's severity number ranges (the data model's `SeverityNumber`).
fn severity_number_level(n: &str) -> &'static str {
    match n.trim().parse::<i64>() {
        Err(_) => "info",
        Ok(0) => "unknown",
        Ok(n) if n <= 4 => "trace",
        Ok(n) if n <= 8 => "debug",
        Ok(n) if n <= 12 => "info",
        Ok(n) if n <= 16 => "warn",
        Ok(n) if n <= 20 => "error",
        Ok(n) if n <= 24 => "fatal",
        Ok(_) => "unknown",
    }
}

/// The level a line states (JSON field, logfmt key, keywords).
fn line_level(line: &str) -> &'static str {
    let t = line.trim();
    let found = if t.starts_with('{') && t.ends_with('}') {
        serde_json::from_str::<serde_json::Value>(t)
            .ok()
            .and_then(|v| json_level(&v, 0).and_then(known))
    } else if line.contains('=') {
        logfmt_level(line).and_then(known)
    } else {
        None
    };
    found.unwrap_or_else(|| keyword_level(line))
}

/// The first string field named as a level field, depth first in key order.
fn json_level(v: &serde_json::Value, depth: usize) -> Option<&str> {
    if depth >= JSON_MAX_DEPTH {
        return None;
    }
    for (k, v) in v.as_object()? {
        match v {
            serde_json::Value::String(s) if LEVEL_FIELDS.contains(&k.as_str()) => {
                return Some(s);
            }
            serde_json::Value::Object(_) => {
                if let Some(s) = json_level(v, depth + 1) {
                    return Some(s);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value of the logfmt key matching the earliest level field
/// (case-insensitive).
fn logfmt_level(line: &str) -> Option<&str> {
    let mut best: Option<(usize, &str)> = None;
    for (k, v) in logfmt_pairs(line) {
        if let Some(i) = LEVEL_FIELDS.iter().position(|f| f.eq_ignore_ascii_case(k)) {
            if best.is_none_or(|(b, _)| i < b) {
                best = Some((i, v));
                if i == 0 {
                    break;
                }
            }
        }
    }
    best.map(|(_, v)| v)
}

/// logfmt's `key=value` pairs (values bare or double-quoted, quotes kept
/// out; escapes are not undone: a level has none).
fn logfmt_pairs(line: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = line.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            while i < b.len() && b[i] <= b' ' {
                i += 1;
            }
            let ks = i;
            while i < b.len() && b[i] > b' ' && b[i] != b'=' && b[i] != b'"' {
                i += 1;
            }
            let key = &line[ks..i];
            if i >= b.len() || b[i] != b'=' {
                // A bare key (or a stray quote): skip to the next space.
                while i < b.len() && b[i] > b' ' {
                    i += 1;
                }
                if !key.is_empty() {
                    return Some((key, ""));
                }
                continue;
            }
            i += 1;
            let value = if i < b.len() && b[i] == b'"' {
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let v = &line[vs..i.min(b.len())];
                i += 1;
                v
            } else {
                let vs = i;
                while i < b.len() && b[i] > b' ' {
                    i += 1;
                }
                &line[vs..i]
            };
            if !key.is_empty() {
                return Some((key, value));
            }
        }
        None
    })
}

/// Keywords in a line, checked in Loki's order.
fn keyword_level(line: &str) -> &'static str {
    let any = |ws: &[&str]| ws.iter().any(|w| line.contains(w));
    if any(&["info:", "INFO:", "[info]", "[INFO]", "info", "INFO"]) {
        "info"
    } else if any(&["err:", "ERR:", "[err]", "[ERR]", "[error]", "[ERROR]"]) {
        "error"
    } else if any(&[
        "warn:",
        "WARN:",
        "[warn]",
        "[WARN]",
        "[warning]",
        "[WARNING]",
        "warning",
        "WARNING",
    ]) {
        "warn"
    } else if any(&["critical:", "CRITICAL:", "[critical]", "[CRITICAL]"]) {
        "critical"
    } else if any(&["debug:", "DEBUG:", "[debug]", "[DEBUG]", "debug", "DEBUG"]) {
        "debug"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(labels: &[(&str, &str)], meta: &[(&str, &str)], line: &str) -> Option<String> {
        let mut e = LogEntry {
            ts_ns: 1,
            line: line.into(),
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        add_detected_level(&Labels::from_pairs(labels.iter().copied()), &mut e);
        let found: Vec<&(String, String)> = e
            .metadata
            .iter()
            .filter(|(k, _)| k == DETECTED_LEVEL)
            .collect();
        assert!(found.len() <= 1, "{e:?}");
        found.first().map(|(_, v)| v.clone())
    }

    #[test]
    fn sources_in_loki_order() {
        let l = |x: &str| Some(x.to_string());
        // An existing pair is normalized, not duplicated.
        assert_eq!(level(&[], &[("detected_level", "WARNING")], "x"), l("warn"));
        // A stream label beats metadata, metadata beats the line.
        assert_eq!(
            level(&[("level", "ERR")], &[("severity_text", "info")], "debug"),
            l("error")
        );
        assert_eq!(
            level(&[("job", "a")], &[("severity_text", "Warning")], "[debug]"),
            l("warn")
        );
        assert_eq!(level(&[("level", "notice")], &[], "x"), l("notice"));
        assert_eq!(level(&[], &[("severity", "")], "info"), None);
        // OTLP's severity number.
        for (n, want) in [
            ("0", "unknown"),
            ("1", "trace"),
            ("5", "debug"),
            ("9", "info"),
            ("13", "warn"),
            ("17", "error"),
            ("21", "fatal"),
            ("25", "unknown"),
            ("x", "info"),
        ] {
            assert_eq!(
                level(&[], &[("severity_number", n)], "error"),
                l(want),
                "{n}"
            );
        }
    }

    #[test]
    fn from_the_line() {
        let l = |x: &str| Some(x.to_string());
        assert_eq!(level(&[], &[], r#"{"msg":"x","level":"WRN"}"#), l("warn"));
        assert_eq!(level(&[], &[], r#"{"log":{"lvl":"dbg"}}"#), l("debug"));
        // Deeper than two levels: not looked at; keywords then.
        assert_eq!(
            level(&[], &[], r#"{"a":{"b":{"level":"fatal"}}}"#),
            l("unknown")
        );
        assert_eq!(level(&[], &[], r#"{"level":3,"m":"[ERROR]"}"#), l("error"));
        assert_eq!(level(&[], &[], r#"ts=1 msg="a b" LVL=trc"#), l("trace"));
        assert_eq!(level(&[], &[], r#"lvl=info level="error" x"#), l("error"));
        assert_eq!(level(&[], &[], "msg=hello level=crazy"), l("unknown"));
        assert_eq!(level(&[], &[], "something INFO happened"), l("info"));
        assert_eq!(level(&[], &[], "disk warning"), l("warn"));
        assert_eq!(level(&[], &[], "CRITICAL: disk"), l("critical"));
        assert_eq!(level(&[], &[], "an error"), l("unknown"));
        assert_eq!(level(&[], &[], ""), l("unknown"));
    }
}
