//! Metric and label name translation, ported from `github.com/prometheus/otlptranslator`
//! v1.0.0 (the version Prometheus 3 vendors): `metric_namer.go`, `unit_namer.go`,
//! `label_namer.go`, `strconv.go`. Only the legacy (non-UTF-8, "underscore
//! escaping") scheme is implemented, Prometheus's default translation strategy
//! `UnderscoreEscapingWithSuffixes` (or `UnderscoreEscapingWithoutSuffixes`).

/// OTel metric kind as seen by the namer (`otlptranslator.MetricType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Gauge,
    MonotonicCounter,
    NonMonotonicCounter,
    Histogram,
    ExponentialHistogram,
    Summary,
}

/// `unitMap` in metric_namer.go.
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

/// `perUnitMap` in metric_namer.go.
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// `isValidCompliantMetricChar`: `[a-zA-Z0-9:]` (note: not `_`).
fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

/// `buildUnitSuffixes`: the main and the `per_` unit words, uncleaned.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main_otel = parts.next().unwrap_or("").trim();
    let main = if !main_otel.is_empty() && !main_otel.contains(['{', '}']) {
        unit_word(main_otel).to_string()
    } else {
        String::new()
    };
    let mut per = String::new();
    if let Some(per_raw) = parts.next().filter(|p| !p.is_empty()) {
        let per_otel = per_raw.trim();
        if !per_otel.is_empty() && !per_otel.contains(['{', '}']) {
            per = per_unit_word(per_otel).to_string();
        }
        if !per.is_empty() {
            per = format!("per_{per}");
        }
    }
    (main, per)
}

/// Replaces runs of `_` with one `_`.
fn collapse_underscores(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = false;
    for c in s.chars() {
        if c == '_' {
            if !prev {
                out.push('_');
            }
            prev = true;
        } else {
            out.push(c);
            prev = false;
        }
    }
    out
}

/// `cleanUpUnit`: invalid characters to `_`, runs collapsed, leading `_` trimmed.
fn clean_up_unit(unit: &str) -> String {
    let mapped: String = unit
        .chars()
        .map(|c| if is_metric_char(c) { c } else { '_' })
        .collect();
    let collapsed = collapse_underscores(&mapped);
    collapsed
        .strip_prefix('_')
        .map(str::to_string)
        .unwrap_or(collapsed)
}

/// The Prometheus unit (`UnitNamer.Build`, non-UTF-8) for an OTel unit:
/// `s` → `seconds`, `By/s` → `bytes_per_second`, `1` → ``.
pub fn prometheus_unit(unit: &str) -> String {
    let (main, per) = unit_suffixes(unit);
    let (main, per) = (clean_up_unit(&main), clean_up_unit(&per));
    let u = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    let u = u.strip_prefix('_').unwrap_or(&u);
    u.strip_suffix('_').unwrap_or(u).to_string()
}

/// `addUnitTokens`.
fn add_unit_tokens(mut tokens: Vec<String>, main: String, per: String) -> Vec<String> {
    let mut main = if tokens.contains(&main) {
        String::new()
    } else {
        main
    };
    let per = if per == "per_" {
        String::new()
    } else {
        let per = per.strip_suffix('_').unwrap_or(&per).to_string();
        if tokens.contains(&per) {
            String::new()
        } else {
            per
        }
    };
    if !per.is_empty() {
        if let Some(stripped) = main.strip_suffix('_') {
            main = stripped.to_string();
        }
    }
    if !main.is_empty() {
        tokens.push(main);
    }
    if !per.is_empty() {
        tokens.push(per);
    }
    tokens
}

/// `normalizeName` (full normalization with unit and type suffixes).
fn normalize_with_suffixes(name: &str, unit: &str, kind: MetricKind) -> String {
    let tokens: Vec<String> = name
        .split(|c: char| !is_metric_char(c))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let (main, per) = unit_suffixes(unit);
    let mut tokens = add_unit_tokens(tokens, clean_up_unit(&main), clean_up_unit(&per));
    if kind == MetricKind::MonotonicCounter {
        tokens.retain(|t| t != "total");
        tokens.push("total".to_string());
    }
    if unit == "1" && kind == MetricKind::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".to_string());
    }
    let joined = tokens.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// The Prometheus metric name for an OTel metric (`MetricNamer.Build` with
/// `UTF8Allowed: false`, no namespace). Errors as `buildCompliantMetricName`
/// does: an empty result, or a changed name made only of underscores.
pub(crate) fn metric_name(
    name: &str,
    unit: &str,
    kind: MetricKind,
    with_suffixes: bool,
) -> Result<String, String> {
    let normalized = if with_suffixes {
        normalize_with_suffixes(name, unit, kind)
    } else {
        let tokens: Vec<&str> = name
            .split(|c: char| !is_metric_char(c) && c != '_')
            .filter(|t| !t.is_empty())
            .collect();
        let joined = tokens.join("_");
        if joined.starts_with(|c: char| c.is_ascii_digit()) {
            format!("_{joined}")
        } else {
            joined
        }
    };
    if normalized.is_empty() {
        return Err(format!(
            "normalization for metric {name:?} resulted in empty name"
        ));
    }
    if normalized != name && normalized.chars().all(|c| c == '_') {
        return Err(format!(
            "normalization for metric {name:?} resulted in invalid name {normalized:?}"
        ));
    }
    Ok(normalized)
}

/// `LabelNamer` with `UTF8Allowed: false`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelNamer {
    /// Prefix `key` to names starting with a single `_` (Prometheus config
    /// `label_name_underscore_sanitization`, default true).
    pub underscore_sanitization: bool,
    /// Keep runs of `_` (Prometheus config `label_name_preserve_multiple_underscores`,
    /// default true); when false they collapse, as the OTel spec asks.
    pub preserve_multiple_underscores: bool,
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

impl LabelNamer {
    /// `sanitizeLabelName` in strconv.go.
    fn sanitize(&self, name: &str) -> String {
        if self.preserve_multiple_underscores {
            return name
                .chars()
                .map(|c| if is_label_char(c) { c } else { '_' })
                .collect();
        }
        let reserved = name.len() >= 4 && name.starts_with("__") && name.ends_with("__");
        let inner = if reserved {
            &name[2..name.len() - 2]
        } else {
            name
        };
        let mut out = String::with_capacity(name.len());
        if reserved {
            out.push_str("__");
        }
        let mut prev_underscore = false;
        for c in inner.chars() {
            if is_label_char(c) {
                out.push(c);
                prev_underscore = false;
            } else if !prev_underscore {
                out.push('_');
                prev_underscore = true;
            }
        }
        if reserved {
            out.push_str("__");
        }
        out
    }

    /// `LabelNamer.Build`: invalid characters to `_`, a leading digit gets
    /// `key_`, a single leading `_` gets `key` (with underscore sanitization);
    /// empty or all-underscore results are errors.
    pub(crate) fn build(&self, label: &str) -> Result<String, String> {
        if label.is_empty() {
            return Err("label name is empty".to_string());
        }
        let mut n = self.sanitize(label);
        if n.starts_with(|c: char| c.is_ascii_digit()) {
            n = format!("key_{n}");
        } else if self.underscore_sanitization && n.starts_with('_') && !n.starts_with("__") {
            n = format!("key{n}");
        }
        if n.chars().all(|c| c == '_') {
            return Err(format!(
                "normalization for label name {label:?} resulted in invalid name {n:?}"
            ));
        }
        Ok(n)
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`, which Prometheus uses for `le`
/// and `quantile` values: shortest round-trip digits, never an exponent,
/// `+Inf`/`-Inf`/`NaN`. Rust's `Display` for `f64` is the same algorithm
/// (shortest round-trip, positional notation), so only the specials differ.
pub(crate) fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f == f64::INFINITY {
        "+Inf".to_string()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        f.to_string()
    }
}

/// Go's `strconv.FormatFloat(f, 'e', -1, 64)` for a finite `f`: `1e+21`,
/// `1.5e-07` (exponent at least two digits).
fn format_go_float_exp(f: f64) -> String {
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Number formatting of Go's `encoding/json` (and pdata's `float64AsString`):
/// ES6-style, positional between 1e-6 and 1e21, else exponent form without
/// zero padding on negative exponents (`1e-7`, `1e+21`). `None` for NaN/±Inf,
/// which `encoding/json` refuses.
pub(crate) fn format_es6_float(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_go_float_exp(f);
        // encoding/json: "clean up e-09 to e-9"
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            return Some(format!("{}{}", &s[..n - 2], &s[n - 1..]));
        }
        return Some(s);
    }
    Some(f.to_string())
}

/// pdata's `float64AsString` (used by `Value.AsString` for double attributes).
pub(crate) fn double_attr_string(f: f64) -> String {
    match format_es6_float(f) {
        Some(s) => s,
        None => {
            // FormatFloat(f, 'g', -1, 64) for the specials.
            let g = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            };
            format!("json: unsupported value: {g}")
        }
    }
}
