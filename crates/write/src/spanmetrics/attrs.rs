//! Attribute values as label values and attribute keys as label names,
//! the way Tempo's metrics-generator turns them.

use argus_model::traces::{Attr, AttrValue, SpanKind, StatusCode};

/// Longest label value kept (Tempo's `max_label_value_length` default);
/// longer values are cut.
pub(super) const MAX_LABEL_VALUE_LEN: usize = 2048;

/// The first attribute `key` in `lists`, searched in order (Tempo looks in
/// the resource first, then the span), as a string. A bytes value is
/// `Some("")`.
pub(super) fn find_attr(key: &str, lists: &[&[Attr]]) -> Option<String> {
    lists
        .iter()
        .find_map(|l| l.iter().find(|a| a.key == key))
        .map(|a| stringify(&a.value))
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
pub(super) fn format_float(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// An attribute value as a label value: arrays as `[` values `]`, maps as
/// `{` key`:`value… `}` (no separators), bytes as "".
pub(super) fn stringify(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => s.clone(),
        AttrValue::Int(n) => n.to_string(),
        AttrValue::Float(f) => format_float(*f),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Bytes(_) => String::new(),
        AttrValue::Array(xs) => {
            let mut s = String::from("[");
            for x in xs {
                s.push_str(&stringify(x));
            }
            s.push(']');
            s
        }
        AttrValue::Map(kvs) => {
            let mut s = String::from("{");
            for kv in kvs {
                s.push_str(&kv.key);
                s.push(':');
                s.push_str(&stringify(&kv.value));
            }
            s.push('}');
            s
        }
    }
}

/// An attribute key as a label name: every character outside
/// `[a-zA-Z0-9_]` becomes `_` (`http.method` → `http_method`), and so does
/// a leading digit, so the name is a valid Prometheus label name.
pub(super) fn sanitize_label_name(key: &str) -> String {
    key.chars()
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_alphabetic() || c == '_' || (c.is_ascii_digit() && i > 0) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `s` cut to [`MAX_LABEL_VALUE_LEN`] bytes on a char boundary.
pub(super) fn clip_value(s: &str) -> &str {
    if s.len() <= MAX_LABEL_VALUE_LEN {
        return s;
    }
    let mut cut = MAX_LABEL_VALUE_LEN;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// OTLP's name of a span kind (`SPAN_KIND_SERVER`).
pub(super) fn span_kind_label(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Unspecified => "SPAN_KIND_UNSPECIFIED",
        SpanKind::Internal => "SPAN_KIND_INTERNAL",
        SpanKind::Server => "SPAN_KIND_SERVER",
        SpanKind::Client => "SPAN_KIND_CLIENT",
        SpanKind::Producer => "SPAN_KIND_PRODUCER",
        SpanKind::Consumer => "SPAN_KIND_CONSUMER",
    }
}

/// OTLP's name of a status code (`STATUS_CODE_ERROR`).
pub(super) fn status_code_label(s: StatusCode) -> &'static str {
    match s {
        StatusCode::Unset => "STATUS_CODE_UNSET",
        StatusCode::Ok => "STATUS_CODE_OK",
        StatusCode::Error => "STATUS_CODE_ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stringify_as_tempo_does() {
        assert_eq!(stringify(&AttrValue::Int(-3)), "-3");
        assert_eq!(stringify(&AttrValue::Float(0.5)), "0.5");
        assert_eq!(stringify(&AttrValue::Float(2.0)), "2");
        assert_eq!(stringify(&AttrValue::Float(f64::INFINITY)), "+Inf");
        assert_eq!(stringify(&AttrValue::Bool(true)), "true");
        assert_eq!(stringify(&AttrValue::Bytes(vec![1])), "");
        let arr = AttrValue::Array(vec![AttrValue::Int(1), AttrValue::Str("a".into())]);
        assert_eq!(stringify(&arr), "[1a]");
        let map = AttrValue::Map(vec![Attr::str("k", "v"), Attr::new("n", AttrValue::Int(2))]);
        assert_eq!(stringify(&map), "{k:vn:2}");
    }

    #[test]
    fn names_sanitize_to_valid_label_names() {
        assert_eq!(sanitize_label_name("http.method"), "http_method");
        assert_eq!(sanitize_label_name("k8s.pod-name"), "k8s_pod_name");
        assert_eq!(sanitize_label_name("1abc"), "_abc");
        assert_eq!(sanitize_label_name("é.x"), "__x");
        for n in ["http.method", "1abc", "é.x", "a b"] {
            assert!(argus_model::validate_label_name(&sanitize_label_name(n)));
        }
    }

    #[test]
    fn first_attribute_wins_resource_first() {
        let res = [Attr::str("env", "prod"), Attr::str("env", "dev")];
        let span = [Attr::str("env", "span"), Attr::str("x", "1")];
        assert_eq!(find_attr("env", &[&res, &span]).as_deref(), Some("prod"));
        assert_eq!(find_attr("x", &[&res, &span]).as_deref(), Some("1"));
        assert_eq!(find_attr("y", &[&res, &span]), None);
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let s = format!("{}é", "a".repeat(MAX_LABEL_VALUE_LEN - 1));
        assert_eq!(clip_value(&s).len(), MAX_LABEL_VALUE_LEN - 1);
        assert_eq!(clip_value("short"), "short");
    }
}
