//! Go string-literal semantics that `promql-parser` does not keep.
//!
//! In Go (and so in Prometheus) `"\xc5"` is the single byte 0xC5, which makes the
//! string invalid UTF-8 and so an invalid label name; `promql-parser` decodes it
//! to the character U+00C5 instead. This module re-reads the string literals of
//! a query with Go's rules to find the ones that are not valid UTF-8.

/// A string literal Go would decode to invalid UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvalidLiteral {
    /// The value as `promql-parser` decoded it.
    pub parsed: String,
    /// Go's `strconv.Quote` of the bytes, e.g. `"a\xc5z"`.
    pub go_quoted: String,
}

/// Literals in `query` whose Go decoding is invalid UTF-8.
pub(crate) fn invalid_utf8_literals(query: &str) -> Vec<InvalidLiteral> {
    let mut out = Vec::new();
    let b = query.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if q == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if q != b'"' && q != b'\'' && q != b'`' {
            i += 1;
            continue;
        }
        i += 1;
        let mut bytes: Vec<u8> = Vec::new();
        let mut parsed = String::new();
        let mut escaped_high = false;
        while i < b.len() && b[i] != q {
            if b[i] == b'\\' && q != b'`' && i + 1 < b.len() {
                let c = b[i + 1];
                let hex = |s: &[u8]| {
                    std::str::from_utf8(s)
                        .ok()
                        .and_then(|s| u32::from_str_radix(s, 16).ok())
                };
                match c {
                    b'x' if i + 4 <= b.len() => {
                        if let Some(v) = hex(&b[i + 2..i + 4]) {
                            bytes.push(v as u8);
                            parsed.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                            escaped_high |= v >= 0x80;
                        }
                        i += 4;
                        continue;
                    }
                    b'0'..=b'7' if i + 4 <= b.len() => {
                        let v = std::str::from_utf8(&b[i + 1..i + 4])
                            .ok()
                            .and_then(|s| u32::from_str_radix(s, 8).ok());
                        if let Some(v) = v {
                            bytes.push(v as u8);
                            parsed.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                            escaped_high |= v >= 0x80;
                        }
                        i += 4;
                        continue;
                    }
                    _ => {
                        // Other escapes decode to valid characters; keep them verbatim enough for comparison.
                        let simple = match c {
                            b'n' => Some('\n'),
                            b't' => Some('\t'),
                            b'r' => Some('\r'),
                            b'\\' => Some('\\'),
                            b'"' => Some('"'),
                            b'\'' => Some('\''),
                            _ => None,
                        };
                        if let Some(ch) = simple {
                            let mut buf = [0u8; 4];
                            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            parsed.push(ch);
                        }
                        i += 2;
                        continue;
                    }
                }
            }
            // A plain (possibly multi-byte) character.
            let rest = &query[i..];
            let ch = rest.chars().next().unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            parsed.push(ch);
            i += ch.len_utf8();
        }
        i += 1;
        if escaped_high && std::str::from_utf8(&bytes).is_err() {
            out.push(InvalidLiteral {
                parsed,
                go_quoted: go_quote(&bytes),
            });
        }
    }
    out
}

/// Go's `strconv.Quote` for a byte string (ASCII-printable kept, invalid bytes as `\xNN`).
fn go_quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                push_escaped(&mut s, valid);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                push_escaped(&mut s, std::str::from_utf8(good).unwrap_or(""));
                s.push_str(&format!("\\x{:02x}", bad[0]));
                rest = &bad[1..];
            }
        }
    }
    s.push('"');
    s
}

fn push_escaped(s: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\x{:02x}", c as u32)),
            c => s.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_invalid_literals() {
        let got = invalid_utf8_literals(
            r#"count_values("a\xc5z", x) + label_replace(y, "ok\xc3\xa9", "", "", "")"#,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].go_quoted, r#""a\xc5z""#);
        assert_eq!(got[0].parsed, "a\u{c5}z");
    }
}
