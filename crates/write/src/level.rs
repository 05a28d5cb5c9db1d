//! `detected_level`: the level Loki's distributor derives for every entry
//! (`discover_log_levels`, on by default) and stores as structured metadata,
//! which Grafana's log volume and level colours read. In Loki's order: an
//! existing `detected_level` is normalised; else a level label of the
//! stream, else a level field of the structured metadata, else OTLP's
//! `severity_number`, else the line (a level field of a JSON object within
//! two levels, a logfmt level key, else the first level word in the line),
//! else `unknown`.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;

pub(crate) const DETECTED_LEVEL: &str = "detected_level";

/// Loki's `DefaultAllowedLevelFields`, in its order.
const LEVEL_FIELDS: &[&str] = &[
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

/// Loki's `levelPatterns`, in its order (earlier wins at the same position).
const WORDS: &[(&str, &str)] = &[
    ("trace", "trace"),
    ("debug", "debug"),
    ("fatal", "fatal"),
    ("critical", "critical"),
    ("error", "error"),
    ("err", "error"),
    ("warning", "warn"),
    ("warn", "warn"),
    ("info", "info"),
];

/// Adds (or normalises) `detected_level` in an entry's structured metadata.
pub(crate) fn add_detected_level(
    labels: &argus_model::Labels,
    metadata: &mut Vec<(String, String)>,
    line: &str,
) {
    if let Some((_, v)) = metadata.iter_mut().find(|(n, _)| n == DETECTED_LEVEL) {
        if let Some(n) = known(v) {
            *v = n.to_string();
        }
        return;
    }
    let level = detect(labels, metadata, line);
    metadata.push((DETECTED_LEVEL.to_string(), level));
}

fn detect(labels: &argus_model::Labels, metadata: &[(String, String)], line: &str) -> String {
    let meta = |name: &str| {
        metadata
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(v) = LEVEL_FIELDS.iter().find_map(|f| labels.get(f)) {
        return normalize(v);
    }
    if let Some(v) = LEVEL_FIELDS.iter().find_map(|f| meta(f)) {
        return normalize(v);
    }
    if let Some(n) = meta("severity_number").filter(|s| !s.is_empty()) {
        return match n.parse::<i64>() {
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
        .to_string();
    }
    from_line(line).to_string()
}

/// A known level's canonical name, matched without case.
fn known(v: &str) -> Option<&'static str> {
    let eq = |w: &str| v.eq_ignore_ascii_case(w);
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

/// Loki's `normalizeLogLevel`: a known level's name, else the value as it is.
fn normalize(v: &str) -> String {
    known(v)
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn from_line(line: &str) -> &'static str {
    let t = line.trim();
    let field = if t.starts_with('{') && t.ends_with('}') {
        json_level(t)
    } else if line.contains('=') {
        logfmt_level(line)
    } else {
        return level_word(line);
    };
    field
        .as_deref()
        .and_then(known)
        .unwrap_or_else(|| level_word(line))
}

/// The first level field (a string) of a JSON object, searched within its
/// first two levels, as Loki's `getLevelUsingJSONParser` (default depth 2).
fn json_level(line: &str) -> Option<String> {
    struct Find {
        depth: usize,
    }
    impl<'de> DeserializeSeed<'de> for Find {
        type Value = Option<String>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Find {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if found.is_some() {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                if LEVEL_FIELDS.contains(&&*key) {
                    // A string value is the level; anything else is skipped.
                    match map.next_value::<serde_json::Value>()? {
                        serde_json::Value::String(s) => found = Some(s),
                        serde_json::Value::Object(_) if self.depth + 1 < 2 => {}
                        _ => {}
                    }
                } else if self.depth + 1 < 2 {
                    found = map.next_value_seed(Find {
                        depth: self.depth + 1,
                    })?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_string<E>(self, _: String) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    Find { depth: 0 }.deserialize(&mut de).ok().flatten()
}

/// The value of the first level key (in `LEVEL_FIELDS` order, keys matched
/// without case) of a logfmt line.
fn logfmt_level(line: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' {
            i += 1;
        }
        let key = &line[ks..i];
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && b[i] == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    value.push(b[i] as char);
                    i += 1;
                }
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && b[i] > b' ' {
                    i += 1;
                }
                value = line[vs..i].to_string();
            }
        }
        if key.is_empty() {
            i += 1;
            continue;
        }
        if let Some(pos) = LEVEL_FIELDS
            .iter()
            .position(|f| f.eq_ignore_ascii_case(key))
        {
            if best.as_ref().is_none_or(|(p, _)| pos < *p) {
                if pos == 0 {
                    return Some(value);
                }
                best = Some((pos, value));
            }
        }
    }
    best.map(|(_, v)| v)
}

fn left_boundary(b: &[u8], pos: usize) -> bool {
    pos == 0
        || matches!(
            b[pos - 1],
            b' ' | b'\t' | b'\n' | b'[' | b'(' | b'{' | b'"' | b'\'' | b'=' | b'|'
        )
}

fn right_boundary(b: &[u8], pos: usize) -> bool {
    pos >= b.len()
        || matches!(
            b[pos],
            b' ' | b'\t'
                | b'\n'
                | b'['
                | b']'
                | b'('
                | b')'
                | b'{'
                | b'}'
                | b':'
                | b','
                | b'!'
                | b'"'
                | b'\''
                | b'='
                | b'|'
        )
}

/// The level of the earliest level word standing alone in the line
/// (Loki's `detectLevelFromLogLine`), else `unknown`.
fn level_word(line: &str) -> &'static str {
    let lower = line.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut best = (b.len(), "unknown");
    for &(word, level) in WORDS {
        let mut from = 0;
        while let Some(p) = lower[from..].find(word) {
            let at = from + p;
            if at >= best.0 {
                break;
            }
            if left_boundary(b, at) && right_boundary(b, at + word.len()) {
                best = (at, level);
                break;
            }
            from = at + 1;
        }
        if best.0 == 0 {
            break;
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::Labels;

    fn level(labels: &[(&str, &str)], meta: &[(&str, &str)], line: &str) -> String {
        let mut m: Vec<(String, String)> = meta
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        add_detected_level(&Labels::from_pairs(labels.iter().copied()), &mut m, line);
        m.iter()
            .find(|(n, _)| n == DETECTED_LEVEL)
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    #[test]
    fn loki_order_of_sources() {
        assert_eq!(level(&[("level", "WARNING")], &[], "error here"), "warn");
        assert_eq!(level(&[], &[("severity", "Err")], "info"), "error");
        assert_eq!(level(&[], &[("detected_level", "INFO")], "error"), "info");
        assert_eq!(
            level(&[], &[("detected_level", "custom")], "error"),
            "custom"
        );
        assert_eq!(level(&[], &[("severity_number", "17")], "info"), "error");
        assert_eq!(level(&[], &[("severity_number", "0")], "info"), "unknown");
        assert_eq!(level(&[], &[("severity_number", "x")], "error"), "info");
        assert_eq!(level(&[("lvl", "notice")], &[], ""), "notice");
    }

    #[test]
    fn from_the_line() {
        assert_eq!(level(&[], &[], r#"{"msg":"x","level":"DEBUG"}"#), "debug");
        assert_eq!(
            level(&[], &[], r#"{"log":{"level":"error"},"msg":"info"}"#),
            "error"
        );
        // Deeper than two levels is not searched; the words decide.
        assert_eq!(
            level(&[], &[], r#"{"a":{"b":{"level":"debug2"}},"m":"warn"}"#),
            "warn"
        );
        assert_eq!(level(&[], &[], r#"{"level":5,"m":"x"}"#), "unknown");
        assert_eq!(
            level(&[], &[], r#"ts=1 level=warn msg="disk full""#),
            "warn"
        );
        assert_eq!(level(&[], &[], r#"ts=1 Severity="Error" msg=x"#), "error");
        assert_eq!(level(&[], &[], "a=b msg=nothing"), "unknown");
        assert_eq!(
            level(&[], &[], "2024-01-01 [ERROR] connection refused"),
            "error"
        );
        assert_eq!(level(&[], &[], "GET /api 200 debug: info"), "debug");
        assert_eq!(level(&[], &[], "terror struck; information"), "unknown");
        assert_eq!(level(&[], &[], "misc:error"), "unknown");
        assert_eq!(level(&[], &[], "WARN: low"), "warn");
        assert_eq!(level(&[], &[], ""), "unknown");
    }
}
