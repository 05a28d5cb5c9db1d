//! The JSON reader the parsers used before they borrowed from the line:
//! a reference for the tests to compare the new one with.

use super::super::parsers::{MALFORMED_JSON, MALFORMED_OBJECT};
use super::PathSeg;

// ---------------------------------------------------------------- JSON

/// A JSON value; objects and arrays keep their text span.
#[derive(Debug)]
enum JVal {
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
fn parse_json_object(line: &str) -> Result<JVal, &'static str> {
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

/// `| json`: the (key, value) pairs set, in order, or the error.
pub(crate) fn json_all(line: &str) -> Result<Vec<(String, String)>, &'static str> {
    let v = parse_json_object(line)?;
    let mut prefix = String::new();
    let mut out = Vec::new();
    flatten(line, &v, &mut prefix, &mut out);
    Ok(out)
}

fn flatten(line: &str, v: &JVal, prefix: &mut String, out: &mut Vec<(String, String)>) {
    let JVal::Obj(fields, _, _) = v else { return };
    for (k, v) in fields {
        let part = super::super::parsers::sanitize_key(k);
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
            JVal::Obj(..) => flatten(line, v, prefix, out),
            JVal::Arr(..) | JVal::Null => {}
            _ => {
                if !prefix.is_empty() {
                    let text = scalar_text(line, v).unwrap_or_default();
                    out.push((prefix.clone(), text));
                }
            }
        }
        prefix.truncate(len);
    }
}

/// `| json a="x.y"`: the value of each parameter (none for an empty line),
/// or `None` for an error.
pub(crate) fn json_paths(line: &str, params: &[(String, Vec<PathSeg>)]) -> Option<Vec<String>> {
    if line.is_empty() {
        return Some(Vec::new());
    }
    let root = parse_json_object(line).ok()?;
    let mut out = Vec::new();
    for (_, path) in params {
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
        out.push(text);
    }
    Some(out)
}

/// `| unpack`: the string fields set as labels, and `_entry`.
#[allow(clippy::type_complexity)]
pub(crate) fn unpack(line: &str) -> Result<(Vec<(String, String)>, Option<String>), &'static str> {
    let JVal::Obj(fields, _, _) = parse_json_object(line)? else {
        return Ok((Vec::new(), None));
    };
    let mut entry = None;
    let mut out = Vec::new();
    for (k, v) in fields {
        if let JVal::Str(s) = v {
            if k == "_entry" {
                entry = Some(s);
            } else {
                out.push((k, s));
            }
        }
    }
    Ok((out, entry))
}
