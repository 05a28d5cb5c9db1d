//! The Prometheus-style label set string of `StreamAdapter.labels`:
//! `{job="x", level="info"}`.
//!
//! Loki parses it with its LogQL parser, which takes Go string literals:
//! double-quoted with Go's escapes, or back-quoted raw strings. Only `=`
//! pairs are allowed, names must be Prometheus label names, and a name may
//! not repeat. Empty values are dropped (as in any Prometheus label set, an
//! empty value means the label is absent).

use argus_model::{clip, validate_label_name, Labels, LabelsBuilder};

/// A label set string that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label set {input}: {reason} at byte {offset}")]
pub struct LabelsError {
    /// The input, clipped and quoted.
    pub input: String,
    pub reason: String,
    pub offset: usize,
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

/// Parses `{name="value", ...}` (whitespace allowed between tokens, a
/// trailing comma not). `{}` is an empty set.
pub fn parse_labels(s: &str) -> Result<Labels, LabelsError> {
    let mut p = Parser { s, pos: 0 };
    p.parse().map_err(|(reason, offset)| LabelsError {
        input: format!("{:?}", clip(s, 200)),
        reason,
        offset,
    })
}

type PResult<T> = Result<T, (String, usize)>;

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn err<T>(&self, reason: impl Into<String>) -> PResult<T> {
        Err((reason.into(), self.pos))
    }

    fn expect(&mut self, c: char) -> PResult<()> {
        self.skip_ws();
        if self.rest().starts_with(c) {
            self.pos += 1;
            Ok(())
        } else {
            match self.rest().chars().next() {
                Some(f) => self.err(format!("expected {c:?}, found {f:?}")),
                None => self.err(format!("expected {c:?}, found the end")),
            }
        }
    }

    fn parse(&mut self) -> PResult<Labels> {
        self.expect('{')?;
        let mut b = LabelsBuilder::default();
        let mut seen: Vec<String> = Vec::new();
        self.skip_ws();
        if !self.rest().starts_with('}') {
            loop {
                self.skip_ws();
                let start = self.pos;
                let name = self.name()?;
                if seen.contains(&name) {
                    return Err((format!("duplicate label name {name:?}"), start));
                }
                self.skip_ws();
                if !self.rest().starts_with('=') || self.rest()[1..].starts_with(['=', '~']) {
                    return self.err(format!(
                        "expected '=' after label name {name:?} (a label set allows no other matcher)"
                    ));
                }
                self.pos += 1;
                self.skip_ws();
                let value = self.value()?;
                b.set(name.clone(), value);
                seen.push(name);
                self.skip_ws();
                if self.rest().starts_with(',') {
                    self.pos += 1;
                    continue;
                }
                break;
            }
        }
        self.expect('}')?;
        self.skip_ws();
        if !self.rest().is_empty() {
            return self.err("unexpected text after '}'");
        }
        Ok(b.build())
    }

    fn name(&mut self) -> PResult<String> {
        let r = self.rest();
        let len = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == ':'))
            .unwrap_or(r.len());
        let name = &r[..len];
        if name.is_empty() {
            return match r.chars().next() {
                Some(c) => self.err(format!("expected a label name, found {c:?}")),
                None => self.err("expected a label name, found the end"),
            };
        }
        if !validate_label_name(name) {
            return self.err(format!(
                "invalid label name {:?}: names must match [a-zA-Z_][a-zA-Z0-9_]*",
                clip(name, 100)
            ));
        }
        self.pos += len;
        Ok(name.to_string())
    }

    fn value(&mut self) -> PResult<String> {
        let r = self.rest();
        if let Some(raw) = r.strip_prefix('`') {
            return match raw.find('`') {
                Some(end) => {
                    self.pos += end + 2;
                    Ok(raw[..end].to_string())
                }
                None => self.err("unterminated raw string"),
            };
        }
        if !r.starts_with('"') {
            return match r.chars().next() {
                Some(c) => self.err(format!("expected a quoted label value, found {c:?}")),
                None => self.err("expected a quoted label value, found the end"),
            };
        }
        let start = self.pos;
        let mut out: Vec<u8> = Vec::new();
        let bytes = self.s.as_bytes();
        let mut i = self.pos + 1;
        loop {
            let Some(&c) = bytes.get(i) else {
                return Err(("unterminated quoted string".into(), start));
            };
            match c {
                b'"' => break,
                b'\n' => return Err(("newline in quoted string".into(), i)),
                b'\\' => {
                    i = unescape(self.s, i, &mut out)?;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        self.pos = i + 1;
        String::from_utf8(out).map_err(|_| ("escapes make invalid UTF-8".into(), start))
    }
}

/// Decodes the escape at `s[i]` (a backslash) into `out`; returns the index
/// after it. Go's escapes: `\a \b \f \n \r \t \v \\ \"`, `\xHH`, `\ooo`,
/// `\uHHHH`, `\UHHHHHHHH`.
fn unescape(s: &str, i: usize, out: &mut Vec<u8>) -> PResult<usize> {
    let b = s.as_bytes();
    let Some(&e) = b.get(i + 1) else {
        return Err(("unterminated escape".into(), i));
    };
    let simple = match e {
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return Ok(i + 2);
    }
    let digits = |n: usize, radix: u32| -> PResult<u32> {
        let d = s
            .get(i + 2..i + 2 + n)
            .filter(|d| d.chars().all(|c| c.is_digit(radix)))
            .ok_or_else(|| (format!("invalid escape \\{}", e as char), i))?;
        u32::from_str_radix(d, radix).map_err(|_| (format!("invalid escape \\{}", e as char), i))
    };
    match e {
        b'x' => {
            out.push(digits(2, 16)? as u8);
            Ok(i + 4)
        }
        b'0'..=b'7' => {
            let d = s
                .get(i + 1..i + 4)
                .filter(|d| d.chars().all(|c| c.is_digit(8)))
                .ok_or_else(|| ("invalid octal escape".to_string(), i))?;
            let v =
                u32::from_str_radix(d, 8).map_err(|_| ("invalid octal escape".to_string(), i))?;
            if v > 255 {
                return Err(("octal escape value > 255".into(), i));
            }
            out.push(v as u8);
            Ok(i + 4)
        }
        b'u' | b'U' => {
            let n = if e == b'u' { 4 } else { 8 };
            let c = char::from_u32(digits(n, 16)?)
                .ok_or_else(|| ("escape is not a valid Unicode code point".to_string(), i))?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            Ok(i + 2 + n)
        }
        _ => {
            let c = s[i + 1..].chars().next().unwrap_or('?');
            Err((format!("unknown escape \\{c}"), i))
        }
    }
}

/// Writes `labels` as `{a="1", b="2"}` with Go string escaping, so that
/// [`parse_labels`] (and Loki) read it back.
pub fn format_labels(labels: &Labels) -> String {
    let mut out = String::with_capacity(labels.text_len() + 4 * labels.len() + 2);
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&l.name);
        out.push_str("=\"");
        for c in l.value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}
