//! The parser stages: `json`, `logfmt`, `regexp`, `pattern`, `unpack`; the
//! logfmt decoder (the JSON reader is in `json.rs`).

use super::labels::LabelState;
use std::borrow::Cow;

pub(crate) use super::json::{
    json_all, json_paths, parse_json_path, top_level_keys, unpack, CowPair, PathSeg,
};

pub(crate) const DUPLICATE_SUFFIX: &str = "_extracted";
pub(crate) const ERR_JSON: &str = "JSONParserErr";
pub(crate) const ERR_LOGFMT: &str = "LogfmtParserErr";

/// jsonparser's messages, which Loki puts in `__error_details__`.
pub(super) const MALFORMED_OBJECT: &str =
    "Value looks like object, but can't find closing '}' symbol";
pub(super) const MALFORMED_JSON: &str = "Malformed JSON error";

/// Loki's `sanitizeLabelKey(key, true)`.
pub(crate) fn sanitize_key(key: &str) -> String {
    let key = key.trim();
    let mut out = String::with_capacity(key.len() + 1);
    if key.as_bytes().first().is_some_and(|b| b.is_ascii_digit()) {
        out.push('_');
    }
    for c in key.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        });
    }
    out
}

/// The bytes a sanitized label name keeps: ASCII letters, digits, `_`.
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    t
};

/// [`sanitize_key`], borrowing a key that needs no change.
pub(crate) fn sanitize_key_cow(key: Cow<'_, str>) -> Cow<'_, str> {
    let b = key.as_bytes();
    // No early exit: keys are short, and a branch per byte mispredicts.
    let clean = b.first().is_some_and(|c| !c.is_ascii_digit())
        && b.iter().fold(true, |ok, &c| ok & KEY_BYTE[c as usize]);
    if clean {
        key
    } else {
        Cow::Owned(sanitize_key(&key))
    }
}

/// Sets a parsed label, adding `_extracted` when a stream label or
/// structured metadata has the name.
pub(crate) fn set_parsed<'a>(
    lbs: &mut LabelState<'a>,
    key: impl Into<Cow<'a, str>>,
    value: impl Into<Cow<'a, str>>,
) {
    lbs.set_parsed(key.into(), value.into());
}

// ---------------------------------------------------------------- logfmt

/// One `key[=value]` of a logfmt line, or a syntax error.
pub(crate) struct Logfmt<'a> {
    line: &'a [u8],
    src: &'a str,
    pos: usize,
    pub(crate) err: Option<String>,
}

impl<'a> Logfmt<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Logfmt {
            line: line.as_bytes(),
            src: line,
            pos: 0,
            err: None,
        }
    }

    fn error(&mut self, msg: &str) {
        self.err = Some(format!(
            "logfmt syntax error at pos {} : {msg}",
            self.pos + 1
        ));
    }

    fn unexpected(&mut self, c: u8) {
        let msg = format!("unexpected '{}'", c as char);
        self.error(&msg);
    }

    fn skip_value(&mut self) {
        while self.pos < self.line.len() && self.line[self.pos] > b' ' {
            self.pos += 1;
        }
    }

    /// The next pair: `None` at the end of the line, `Some(Err(()))` for a
    /// malformed pair, `Some(Ok((key, value)))` otherwise.
    #[allow(clippy::type_complexity)]
    pub(crate) fn next_pair(&mut self) -> Option<Result<(&'a str, Option<Cow<'a, str>>), ()>> {
        let l = self.line;
        while self.pos < l.len() && l[self.pos] <= b' ' {
            self.pos += 1;
        }
        if self.pos >= l.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < l.len() {
            let c = l[self.pos];
            if c == b'=' {
                if self.pos == start {
                    self.unexpected(c);
                    self.skip_value();
                    return Some(Err(()));
                }
                break;
            }
            if c == b'"' {
                self.unexpected(c);
                self.skip_value();
                return Some(Err(()));
            }
            if c <= b' ' {
                return Some(Ok((&self.src[start..self.pos], None)));
            }
            self.pos += 1;
        }
        let key = &self.src[start..self.pos];
        if self.pos >= l.len() {
            return Some(Ok((key, None)));
        }
        // at '='
        self.pos += 1;
        if self.pos >= l.len() || l[self.pos] <= b' ' {
            return Some(Ok((key, None)));
        }
        if l[self.pos] == b'"' {
            let qstart = self.pos;
            let mut esc = false;
            let mut has_esc = false;
            let mut p = self.pos + 1;
            while p < l.len() {
                let c = l[p];
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                    has_esc = true;
                } else if c == b'"' {
                    self.pos = p + 1;
                    let raw = &self.src[qstart + 1..p];
                    let v = if has_esc {
                        match unquote(raw) {
                            Some(v) => Cow::Owned(v),
                            None => {
                                self.error("invalid quoted value");
                                return Some(Err(()));
                            }
                        }
                    } else {
                        Cow::Borrowed(raw)
                    };
                    return Some(Ok((key, (!v.is_empty()).then_some(v))));
                }
                p += 1;
            }
            self.pos = l.len();
            self.error("unterminated quoted value");
            return Some(Err(()));
        }
        let vstart = self.pos;
        while self.pos < l.len() {
            let c = l[self.pos];
            if c == b'=' || c == b'"' {
                self.unexpected(c);
                self.skip_value();
                return Some(Err(()));
            }
            if c <= b' ' {
                break;
            }
            self.pos += 1;
        }
        Some(Ok((key, Some(Cow::Borrowed(&self.src[vstart..self.pos])))))
    }
}

fn unquote(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            '/' => out.push('/'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'u' => {
                let h: String = it.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?).unwrap_or(' '));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `| logfmt [--strict] [--keep-empty]` without parameters: `set(key,
/// value)` for each pair; the error, with `--strict`.
pub(crate) fn logfmt_all<'l>(
    line: &'l str,
    strict: bool,
    keep_empty: bool,
    mut set: impl FnMut(Cow<'l, str>, Cow<'l, str>),
) -> Option<String> {
    let mut dec = Logfmt::new(line);
    while let Some(r) = dec.next_pair() {
        let Ok((k, v)) = r else {
            if strict {
                break;
            }
            continue;
        };
        let key = sanitize_key_cow(Cow::Borrowed(k));
        if key.is_empty() {
            continue;
        }
        let v = v.unwrap_or_default();
        if !keep_empty && v.is_empty() {
            continue;
        }
        set(key, v);
    }
    dec.err.filter(|_| strict)
}

/// `| logfmt a="key", b`: the named keys only: `set(i, value)` for the
/// `i`th parameter's key (the caller sets the others empty first); the
/// error, with `--strict`.
pub(crate) fn logfmt_params<'l>(
    line: &'l str,
    strict: bool,
    params: &[(String, String)],
    mut set: impl FnMut(usize, Cow<'l, str>),
) -> Option<String> {
    let mut dec = Logfmt::new(line);
    while let Some(r) = dec.next_pair() {
        let Ok((k, v)) = r else {
            if strict {
                break;
            }
            continue;
        };
        let key = sanitize_key_cow(Cow::Borrowed(k));
        for (i, (_, src)) in params.iter().enumerate() {
            if *src == key {
                set(i, v.clone().unwrap_or_default());
            }
        }
    }
    dec.err.filter(|_| strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_captures_and_test() {
        use super::super::pattern::Pattern;
        let p = Pattern::parse("<ip> - - [<_>] \"<method> <path> <_>\" <status> <size>");
        let line = r#"10.0.0.1 - - [10/Oct/2023:13:55:36 +0000] "GET /api/x HTTP/1.1" 200 512"#;
        let caps = p.captures(line);
        assert_eq!(
            caps,
            vec![
                ("ip", "10.0.0.1"),
                ("method", "GET"),
                ("path", "/api/x"),
                ("status", "200"),
                ("size", "512")
            ]
        );
        assert!(Pattern::parse("<_> bar <_>").test("foo bar baz"));
        assert!(!Pattern::parse("<_> bar").test("foo bar baz"));
        assert!(Pattern::parse("foo <_>").test("foo bar baz"));
    }

    #[test]
    fn logfmt_decoder() {
        let mut d = Logfmt::new(r#"a=1 b="x y" c d= e="q\"z""#);
        let mut got = Vec::new();
        while let Some(Ok((k, v))) = d.next_pair() {
            got.push((k.to_string(), v));
        }
        assert_eq!(
            got,
            vec![
                ("a".into(), Some("1".into())),
                ("b".into(), Some("x y".into())),
                ("c".into(), None),
                ("d".into(), None),
                ("e".into(), Some("q\"z".into())),
            ]
        );
        let mut d = Logfmt::new("a=1 =x");
        assert!(d.next_pair().unwrap().is_ok());
        assert!(d.next_pair().unwrap().is_err());
        assert_eq!(
            d.err.as_deref(),
            Some("logfmt syntax error at pos 5 : unexpected '='")
        );
    }
}
