//! Attribute values to label values, as pdata's `pcommon.Value.AsString` does
//! (which Prometheus's translator calls for every attribute): strings as-is,
//! bools `true`/`false`, ints in decimal, doubles ES6-style, bytes as standard
//! base64, arrays and maps as the JSON Go's `encoding/json` would write for
//! `Value.AsRaw()` (sorted map keys, HTML-escaped strings), empty values as ``.

use super::naming::{double_attr_string, format_es6_float};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use std::collections::BTreeMap;

/// The label value for an attribute value (`Value.AsString`).
pub(crate) fn value_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => double_attr_string(*d),
        Some(Value::BytesValue(b)) => base64_std(b),
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            // json.Marshal fails on NaN/Inf; AsString then returns "".
            let mut out = String::new();
            if write_json(Some(v), &mut out) {
                out
            } else {
                String::new()
            }
        }
    }
}

/// Looks up an attribute by key (first match, like `pcommon.Map.Get`).
pub(crate) fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|kv| kv.key == key)
}

/// Appends the JSON of `AsRaw()`; false when Go's encoder would fail.
fn write_json(v: Option<&Value>, out: &mut String) -> bool {
    match v {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_string(s, out),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => match format_es6_float(*d) {
            Some(s) => out.push_str(&s),
            None => return false,
        },
        Some(Value::BytesValue(b)) => write_json_string(&base64_std(b), out),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, item) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(item.value.as_ref(), out) {
                    return false;
                }
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kvs)) => {
            // AsRaw builds a Go map (a later duplicate key wins); encoding/json
            // writes map keys sorted.
            let mut map: BTreeMap<&str, Option<&Value>> = BTreeMap::new();
            for kv in &kvs.values {
                map.insert(
                    kv.key.as_str(),
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                );
            }
            out.push('{');
            for (i, (k, v)) in map.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                if !write_json(v, out) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

/// A JSON string as Go's `encoding/json` writes it with HTML escaping on.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub(crate) fn base64_std(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decodes base64, standard or URL-safe alphabet, padding optional (what the
/// proto3 JSON mapping accepts for `bytes`).
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(format!("invalid base64 character {:?}", c as char)),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("invalid base64 length".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn av(v: Value) -> AnyValue {
        AnyValue { value: Some(v) }
    }

    #[test]
    fn as_string_matches_pdata() {
        assert_eq!(value_string(None), "");
        assert_eq!(value_string(Some(&AnyValue { value: None })), "");
        assert_eq!(
            value_string(Some(&av(Value::StringValue("x y".into())))),
            "x y"
        );
        assert_eq!(value_string(Some(&av(Value::BoolValue(true)))), "true");
        assert_eq!(value_string(Some(&av(Value::IntValue(-42)))), "-42");
        assert_eq!(value_string(Some(&av(Value::DoubleValue(1.5)))), "1.5");
        assert_eq!(value_string(Some(&av(Value::DoubleValue(3.0)))), "3");
        assert_eq!(value_string(Some(&av(Value::DoubleValue(1e21)))), "1e+21");
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(1e20)))),
            "100000000000000000000"
        );
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(1.5e-7)))),
            "1.5e-7"
        );
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(1e-6)))),
            "0.000001"
        );
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(-1e-10)))),
            "-1e-10"
        );
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(f64::NAN)))),
            "json: unsupported value: NaN"
        );
        assert_eq!(
            value_string(Some(&av(Value::DoubleValue(f64::INFINITY)))),
            "json: unsupported value: +Inf"
        );
        assert_eq!(
            value_string(Some(&av(Value::BytesValue(b"hello".to_vec())))),
            "aGVsbG8="
        );
        let arr = av(Value::ArrayValue(ArrayValue {
            values: vec![
                av(Value::StringValue("a<b>&\"c\"\n".into())),
                av(Value::IntValue(1)),
                av(Value::DoubleValue(2.5)),
                av(Value::BoolValue(false)),
                AnyValue { value: None },
            ],
        }));
        assert_eq!(
            value_string(Some(&arr)),
            r#"["a\u003cb\u003e\u0026\"c\"\n",1,2.5,false,null]"#
        );
        let map = av(Value::KvlistValue(KeyValueList {
            values: vec![
                KeyValue {
                    key: "z".into(),
                    value: Some(av(Value::IntValue(1))),
                },
                KeyValue {
                    key: "a".into(),
                    value: Some(arr.clone()),
                },
            ],
        }));
        assert_eq!(
            value_string(Some(&map)),
            r#"{"a":["a\u003cb\u003e\u0026\"c\"\n",1,2.5,false,null],"z":1}"#
        );
        let bad = av(Value::ArrayValue(ArrayValue {
            values: vec![av(Value::DoubleValue(f64::NAN))],
        }));
        assert_eq!(value_string(Some(&bad)), "");
    }

    #[test]
    fn base64_round_trip() {
        for data in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0xfe, 0x00],
        ] {
            let enc = base64_std(data);
            assert_eq!(base64_decode(&enc).unwrap(), data);
            assert_eq!(base64_decode(enc.trim_end_matches('=')).unwrap(), data);
        }
        assert_eq!(base64_decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(base64_decode("a").is_err());
        assert!(base64_decode("a*b=").is_err());
    }
}
