//! The parser stages: `json`, `logfmt`, `regexp`, `pattern`, `unpack`, and
//! the small JSON reader and logfmt decoder they use.

use super::labels::{Category, LabelState};

pub(crate) const DUPLICATE_SUFFIX: &str = "_extracted";
pub(crate) const ERR_JSON: &str = "JSONParserErr";
pub(crate) const ERR_LOGFMT: &str = "LogfmtParserErr";

/// jsonparser's messages, which Loki puts in `__error_details__`.
const MALFORMED_OBJECT: &str = "Value looks like object, but can't find closing '}' symbol";
const MALFORMED_JSON: &str = "Malformed JSON error";

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

/// Sets a parsed label, adding `_extracted` when a stream label or
/// structured metadata has the name.
pub(crate) fn set_parsed(lbs: &mut LabelState, key: &str, value: &str) {
    if lbs.base_has(key) || lbs.has_metadata(key) {
        let k = format!("{key}{DUPLICATE_SUFFIX}");
        lbs.set(Category::Parsed, &k, value);
    } else {
        lbs.set(Category::Parsed, key, value);
    }
}

// ---------------------------------------------------------------- JSON

/// A JSON value; objects and arrays keep their text span.
#[derive(Debug)]
pub(crate) enum JVal {
    Obj(Vec<(String, JVal)>, usize, usize),
    Arr(Vec<JVal>, usize, usize),
    Str(String),
    Num(usize, usize),
    Bool(bool),
    Null,
}

struct JReader<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

const MAX_JSON_DEPTH: usize = 256;

impl<'a> JReader<'a> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<JVal, &'static str> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(JVal::Str(self.string()?)),
            Some(b't') => self.lit(b"true", JVal::Bool(true)),
            Some(b'f') => self.lit(b"false", JVal::Bool(false)),
            Some(b'n') => self.lit(b"null", JVal::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && matches!(
                        self.s[self.pos],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.pos += 1;
                }
                Ok(JVal::Num(start, self.pos))
            }
            _ => Err(MALFORMED_JSON),
        }
    }

    fn lit(&mut self, word: &[u8], v: JVal) -> Result<JVal, &'static str> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err("Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol")
        }
    }

    fn string(&mut self) -> Result<String, &'static str> {
        const ERR: &str = "Value is string, but can't find closing '\"' symbol";
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(ERR);
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(ERR);
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let cp = self.hex4().ok_or(MALFORMED_JSON)?;
                            let ch = if (0xD800..0xDC00).contains(&cp)
                                && self.s.get(self.pos) == Some(&b'\\')
                                && self.s.get(self.pos + 1) == Some(&b'u')
                            {
                                self.pos += 2;
                                let lo = self.hex4().ok_or(MALFORMED_JSON)?;
                                char::from_u32(
                                    0x10000
                                        + ((cp - 0xD800) << 10)
                                        + (lo.wrapping_sub(0xDC00) & 0x3ff),
                                )
                            } else {
                                char::from_u32(cp)
                            };
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.unwrap_or(' ').encode_utf8(&mut b).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).replace('\u{FFFD}', " "))
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn object(&mut self) -> Result<JVal, &'static str> {
        let start = self.pos;
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(MALFORMED_JSON);
        }
        self.pos += 1;
        let mut fields = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JVal::Obj(fields, start, self.pos));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(MALFORMED_OBJECT);
            }
            let k = self.string()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(MALFORMED_JSON);
            }
            self.pos += 1;
            let v = self.value()?;
            fields.push((k, v));
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(MALFORMED_OBJECT),
            }
        }
        self.depth -= 1;
        Ok(JVal::Obj(fields, start, self.pos))
    }

    fn array(&mut self) -> Result<JVal, &'static str> {
        let start = self.pos;
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(MALFORMED_JSON);
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JVal::Arr(items, start, self.pos));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err("Value is array, but can't find closing ']' symbol"),
            }
        }
        self.depth -= 1;
        Ok(JVal::Arr(items, start, self.pos))
    }
}

/// Parses a line that must be a JSON object.
pub(crate) fn parse_json_object(line: &str) -> Result<JVal, &'static str> {
    let mut r = JReader {
        s: line.as_bytes(),
        pos: 0,
        depth: 0,
    };
    r.ws();
    if r.s.get(r.pos) != Some(&b'{') {
        return Err(MALFORMED_OBJECT);
    }
    r.object()
}

fn scalar_text(line: &str, v: &JVal) -> Option<String> {
    match v {
        JVal::Str(s) => Some(s.clone()),
        JVal::Num(a, b) => Some(line[*a..*b].to_string()),
        JVal::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `| json`: every scalar field, nested keys joined with `_`; arrays are
/// skipped, as in Loki.
pub(crate) fn json_all(line: &str, lbs: &mut LabelState) {
    match parse_json_object(line) {
        Ok(v) => {
            let mut prefix = String::new();
            flatten(line, &v, &mut prefix, lbs);
        }
        Err(e) => lbs.set_err(ERR_JSON, Some(e.to_string())),
    }
}

fn flatten(line: &str, v: &JVal, prefix: &mut String, lbs: &mut LabelState) {
    let JVal::Obj(fields, _, _) = v else { return };
    for (k, v) in fields {
        let part = sanitize_key(k);
        let len = prefix.len();
        if !part.is_empty() {
            if !prefix.is_empty() {
                prefix.push('_');
                prefix.push_str(&part);
            } else {
                prefix.push_str(&part);
            }
        }
        match v {
            JVal::Obj(..) => flatten(line, v, prefix, lbs),
            JVal::Arr(..) | JVal::Null => {}
            _ => {
                if !prefix.is_empty() {
                    let text = scalar_text(line, v).unwrap_or_default();
                    let key = prefix.clone();
                    set_parsed(lbs, &key, &text);
                }
            }
        }
        prefix.truncate(len);
    }
}

/// One step of a `json a="x.y[0]"` path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathSeg {
    Key(String),
    Index(usize),
}

/// Parses Loki's JSON expression (`a.b`, `a[0]`, `a["b c"]`, `["a"].b`).
pub(crate) fn parse_json_path(expr: &str) -> Option<Vec<PathSeg>> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut cur = String::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                if !cur.is_empty() {
                    out.push(PathSeg::Key(std::mem::take(&mut cur)));
                }
                i += 1;
            }
            b'[' => {
                if !cur.is_empty() {
                    out.push(PathSeg::Key(std::mem::take(&mut cur)));
                }
                let close = expr[i..].find(']')? + i;
                let inner = expr[i + 1..close].trim();
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    out.push(PathSeg::Key(q.to_string()));
                } else {
                    out.push(PathSeg::Index(inner.parse().ok()?));
                }
                i = close + 1;
            }
            _ => {
                let c = expr[i..].chars().next()?;
                cur.push(c);
                i += c.len_utf8();
            }
        }
    }
    if !cur.is_empty() {
        out.push(PathSeg::Key(cur));
    }
    (!out.is_empty()).then_some(out)
}

/// `| json a="x.y"`: each label is the value at its path, or empty.
pub(crate) fn json_paths(line: &str, params: &[(String, Vec<PathSeg>)], lbs: &mut LabelState) {
    if line.is_empty() {
        return;
    }
    let root = match parse_json_object(line) {
        Ok(v) => v,
        Err(_) => {
            lbs.set_err(ERR_JSON, None);
            return;
        }
    };
    for (name, path) in params {
        let mut v = &root;
        let mut found = true;
        for seg in path {
            let next = match (seg, v) {
                (PathSeg::Key(k), JVal::Obj(fields, _, _)) => {
                    fields.iter().rev().find(|(fk, _)| fk == k).map(|(_, v)| v)
                }
                (PathSeg::Index(i), JVal::Arr(items, _, _)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => v = n,
                None => {
                    found = false;
                    break;
                }
            }
        }
        let text = if !found {
            String::new()
        } else {
            match v {
                JVal::Obj(_, a, b) | JVal::Arr(_, a, b) => line[*a..*b].to_string(),
                JVal::Null => String::new(),
                v => scalar_text(line, v).unwrap_or_default(),
            }
        };
        set_parsed(lbs, name, &text);
    }
}

/// `| unpack`: JSON string fields become labels; `_entry` becomes the line.
pub(crate) fn unpack(line: &str, lbs: &mut LabelState) -> Option<String> {
    let v = match parse_json_object(line) {
        Ok(v) => v,
        Err(e) => {
            lbs.set_err(ERR_JSON, Some(e.to_string()));
            return None;
        }
    };
    let JVal::Obj(fields, _, _) = v else {
        return None;
    };
    let mut entry = None;
    for (k, v) in fields {
        if let JVal::Str(s) = v {
            if k == "_entry" {
                entry = Some(s);
            } else {
                set_parsed(lbs, &k, &s);
            }
        }
    }
    entry
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
    pub(crate) fn next_pair(&mut self) -> Option<Result<(&'a str, Option<String>), ()>> {
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
                            Some(v) => v,
                            None => {
                                self.error("invalid quoted value");
                                return Some(Err(()));
                            }
                        }
                    } else {
                        raw.to_string()
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
        Some(Ok((key, Some(self.src[vstart..self.pos].to_string()))))
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

/// `| logfmt [--strict] [--keep-empty]` without parameters.
pub(crate) fn logfmt_all(line: &str, strict: bool, keep_empty: bool, lbs: &mut LabelState) {
    let mut dec = Logfmt::new(line);
    while let Some(r) = dec.next_pair() {
        let Ok((k, v)) = r else {
            if strict {
                break;
            }
            continue;
        };
        let key = sanitize_key(k);
        if key.is_empty() {
            continue;
        }
        let v = v.unwrap_or_default();
        if !keep_empty && v.is_empty() {
            continue;
        }
        set_parsed(lbs, &key, &v);
    }
    if strict {
        if let Some(e) = dec.err {
            lbs.set_err(ERR_LOGFMT, Some(e));
        }
    }
}

/// `| logfmt a="key", b`: the named keys only (empty when absent).
pub(crate) fn logfmt_params(
    line: &str,
    strict: bool,
    params: &[(String, String)],
    lbs: &mut LabelState,
) {
    for (id, _) in params {
        if !lbs.base_has(id) && !lbs.has_metadata(id) {
            lbs.set(Category::Parsed, id, "");
        }
    }
    let mut dec = Logfmt::new(line);
    while let Some(r) = dec.next_pair() {
        let Ok((k, v)) = r else {
            if strict {
                break;
            }
            continue;
        };
        let key = sanitize_key(k);
        for (id, src) in params {
            if *src == key {
                set_parsed(lbs, id, v.as_deref().unwrap_or(""));
            }
        }
    }
    if strict {
        if let Some(e) = dec.err {
            lbs.set_err(ERR_LOGFMT, Some(e));
        }
    }
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

    #[test]
    fn json_path_syntax() {
        assert_eq!(
            parse_json_path(r#"a.b[0]["c d"]"#),
            Some(vec![
                PathSeg::Key("a".into()),
                PathSeg::Key("b".into()),
                PathSeg::Index(0),
                PathSeg::Key("c d".into())
            ])
        );
    }
}
