//! The small JSON reader of the `json` and `unpack` stages: it borrows
//! from the line, reads only what a stage asks for, and gives Loki's
//! jsonparser errors.

use super::parsers::{sanitize_key_cow, MALFORMED_JSON, MALFORMED_OBJECT};
use std::borrow::Cow;

/// A string of the line: the bytes between its quotes, and whether they
/// are its text as they are (no escape, no U+FFFD, whose first byte is
/// 0xEF).
#[derive(Clone, Copy)]
struct RawStr {
    start: usize,
    end: usize,
    plain: bool,
}

/// A validating JSON reader over the line that allocates nothing: strings
/// are spans ([`RawStr`]), decoded only when a value is kept; values not
/// wanted are skipped. It accepts what jsonparser (Loki's reader) accepts,
/// and fails with its messages.
struct JReader<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

const MAX_JSON_DEPTH: usize = 256;
const ERR_STRING: &str = "Value is string, but can't find closing '\"' symbol";
const ERR_ARRAY: &str = "Value is array, but can't find closing ']' symbol";
const ERR_LITERAL: &str =
    "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";

/// Marks (bit 7 of each byte) the bytes of `w` that are `"`, `\\` or 0xEF;
/// the lowest mark is exact (bytes above it may be marked wrongly).
#[inline(always)]
fn special_marks(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = w ^ (LO * b'"' as u64);
    let b = w ^ (LO * b'\\' as u64);
    let e = w ^ (LO * 0xEF);
    (q.wrapping_sub(LO) & !q | b.wrapping_sub(LO) & !b | e.wrapping_sub(LO) & !e) & HI
}

#[inline(always)]
fn word(s: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[..8]);
    u64::from_le_bytes(w)
}

/// The first `"`, `\\` or 0xEF byte of `s` from `i` on, sixteen bytes at
/// a time without a branch inside (most JSON strings are short: this beats
/// memchr's set-up on them, and mispredicts less than a byte loop).
#[inline(always)]
fn find_special(s: &[u8], mut i: usize) -> Option<usize> {
    while let Some(c) = s.get(i..i + 16) {
        let t = special_marks(word(c)) as u128 | (special_marks(word(&c[8..])) as u128) << 64;
        if t != 0 {
            return Some(i + (t.trailing_zeros() / 8) as usize);
        }
        i += 16;
    }
    s.get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c == 0xEF)
        .map(|p| i + p)
}

/// The bytes a number runs over (jsonparser's lenient reading).
static NUM_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = matches!(c as u8, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E');
        c += 1;
    }
    t
};

impl<'a> JReader<'a> {
    fn new(line: &'a str) -> Self {
        JReader {
            s: line.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn ws(&mut self) {
        // Most JSON logs have no white space between tokens.
        if self.s.get(self.pos).is_some_and(|&c| c <= b' ') {
            while self.pos < self.s.len()
                && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r')
            {
                self.pos += 1;
            }
        }
    }

    /// At a `"`: the string's span, past its closing quote.
    #[inline(always)]
    fn string(&mut self) -> Result<RawStr, &'static str> {
        self.pos += 1;
        let start = self.pos;
        let mut plain = true;
        loop {
            let Some(i) = find_special(self.s, self.pos) else {
                return Err(ERR_STRING);
            };
            self.pos = i;
            match self.s[self.pos] {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(RawStr { start, end, plain });
                }
                0xEF => {
                    plain = false;
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            plain = false;
            self.pos += 1;
            let Some(e) = self.peek() else {
                return Err(ERR_STRING);
            };
            self.pos += 1;
            if e == b'u' {
                let cp = self.hex4().ok_or(MALFORMED_JSON)?;
                if (0xD800..0xDC00).contains(&cp)
                    && self.s.get(self.pos) == Some(&b'\\')
                    && self.s.get(self.pos + 1) == Some(&b'u')
                {
                    self.pos += 2;
                    self.hex4().ok_or(MALFORMED_JSON)?;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn lit(&mut self, word: &[u8]) -> Result<(), &'static str> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(ERR_LITERAL)
        }
    }

    /// Skips the value at the reader (which is past any white space before
    /// it: where `object` and `array` call their closures), checking it.
    fn skip_value(&mut self) -> Result<(), &'static str> {
        match self.peek() {
            Some(b'{') => self.object(|r, _| r.skip_value()),
            Some(b'[') => self.array(|r, _| r.skip_value()),
            Some(b'"') => self.string().map(|_| ()),
            Some(b't') => self.lit(b"true"),
            Some(b'f') => self.lit(b"false"),
            Some(b'n') => self.lit(b"null"),
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                self.pos += 1;
                while self.s.get(self.pos).is_some_and(|&c| NUM_BYTE[c as usize]) {
                    self.pos += 1;
                }
                Ok(())
            }
            _ => Err(MALFORMED_JSON),
        }
    }

    /// At a `{`: calls `member` with each key, the reader at its value
    /// (after white space), which `member` must read.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, RawStr) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(MALFORMED_JSON);
        }
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(MALFORMED_OBJECT);
            }
            let k = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(MALFORMED_JSON);
            }
            self.pos += 1;
            self.ws();
            member(self, k)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(MALFORMED_OBJECT),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// At a `[`: calls `item` with each index, the reader at the item.
    fn array(
        &mut self,
        mut item: impl FnMut(&mut Self, usize) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(MALFORMED_JSON);
        }
        self.pos += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            self.ws();
            item(self, i)?;
            i += 1;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(ERR_ARRAY),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// At the line's start: white space, then an object.
    fn root(
        &mut self,
        member: impl FnMut(&mut Self, RawStr) -> Result<(), &'static str>,
    ) -> Result<(), &'static str> {
        self.ws();
        if self.peek() != Some(b'{') {
            return Err(MALFORMED_OBJECT);
        }
        self.object(member)
    }
}

/// The text of a string, escapes decoded. U+FFFD (what an invalid byte
/// would decode to) becomes a space, as Loki does.
fn str_text(line: &str, r: RawStr) -> Cow<'_, str> {
    let raw = &line[r.start..r.end];
    if r.plain {
        return Cow::Borrowed(raw);
    }
    if !raw.contains('\\') {
        return Cow::Owned(raw.replace('\u{FFFD}', " "));
    }
    let s = raw.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut pos = 0;
    let hex4 = |pos: &mut usize| -> u32 {
        let v = s
            .get(*pos..*pos + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        *pos += 4;
        v
    };
    while pos < s.len() {
        let c = s[pos];
        pos += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = s[pos];
        pos += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'u' => {
                let cp = hex4(&mut pos);
                let ch = if (0xD800..0xDC00).contains(&cp)
                    && s.get(pos) == Some(&b'\\')
                    && s.get(pos + 1) == Some(&b'u')
                {
                    pos += 2;
                    let lo = hex4(&mut pos);
                    char::from_u32(
                        0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3ff),
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
    Cow::Owned(String::from_utf8_lossy(&out).replace('\u{FFFD}', " "))
}

/// Is this key (decoded) `want`?
#[inline]
fn key_is(line: &str, k: RawStr, want: &str) -> bool {
    if k.plain {
        k.end - k.start == want.len() && line.as_bytes()[k.start..k.end] == *want.as_bytes()
    } else {
        str_text(line, k) == want
    }
}

/// The text of the scalar at the reader (a string, number or boolean), or
/// `None` for null, objects and arrays, which are skipped.
fn scalar_at<'l>(r: &mut JReader<'_>, line: &'l str) -> Result<Option<Cow<'l, str>>, &'static str> {
    let start = r.pos;
    Ok(match r.peek() {
        Some(b'"') => Some(str_text(line, r.string()?)),
        Some(b't') => r.lit(b"true").map(|_| Some(Cow::Borrowed("true")))?,
        Some(b'f') => r.lit(b"false").map(|_| Some(Cow::Borrowed("false")))?,
        Some(c) if c == b'-' || c.is_ascii_digit() => {
            r.skip_value()?;
            Some(Cow::Borrowed(&line[start..r.pos]))
        }
        _ => {
            r.skip_value()?;
            None
        }
    })
}

/// A label name and value borrowed from the line where possible.
pub(crate) type CowPair<'l> = (Cow<'l, str>, Cow<'l, str>);

/// `| json`: every scalar field, nested keys joined with `_`; arrays are
/// skipped, as in Loki. Collected in `out`, to be set only when the whole
/// line is a JSON object.
pub(crate) fn json_all<'l>(line: &'l str, out: &mut Vec<CowPair<'l>>) -> Result<(), &'static str> {
    let mut prefix = String::new();
    let mut r = JReader::new(line);
    r.root(|r, k| flatten_member(r, line, k, &mut prefix, out))
}

fn flatten_member<'l>(
    r: &mut JReader<'_>,
    line: &'l str,
    k: RawStr,
    prefix: &mut String,
    out: &mut Vec<CowPair<'l>>,
) -> Result<(), &'static str> {
    let part = sanitize_key_cow(str_text(line, k));
    match r.peek() {
        Some(b'{') => {
            let len = prefix.len();
            if !part.is_empty() {
                if !prefix.is_empty() {
                    prefix.push('_');
                }
                prefix.push_str(&part);
            }
            r.object(|r, k| flatten_member(r, line, k, prefix, out))?;
            prefix.truncate(len);
        }
        _ => {
            if let Some(text) = scalar_at(r, line)? {
                let key = match (prefix.is_empty(), part.is_empty()) {
                    (true, true) => return Ok(()),
                    (true, false) => part,
                    (false, true) => Cow::Owned(prefix.clone()),
                    (false, false) => Cow::Owned(format!("{prefix}_{part}")),
                };
                out.push((key, text));
            }
        }
    }
    Ok(())
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

/// The value at `start` (an object or array) reached by `seg`: the last
/// member of that key, or the item of that index.
fn step(line: &str, start: usize, seg: &PathSeg) -> Option<usize> {
    let mut r = JReader::new(line);
    r.pos = start;
    let mut found = None;
    let res = match (seg, r.peek()) {
        (PathSeg::Key(want), Some(b'{')) => r.object(|r, k| {
            if key_is(line, k, want) {
                found = Some(r.pos);
            }
            r.skip_value()
        }),
        (PathSeg::Index(want), Some(b'[')) => r.array(|r, i| {
            if i == *want {
                found = Some(r.pos);
            }
            r.skip_value()
        }),
        _ => return None,
    };
    res.ok().and(found)
}

/// The text of the value at `start`: objects and arrays as they are
/// written, null as nothing.
fn value_text(line: &str, start: usize) -> Cow<'_, str> {
    let mut r = JReader::new(line);
    r.pos = start;
    match r.peek() {
        Some(b'{') | Some(b'[') => {
            let _ = r.skip_value();
            Cow::Borrowed(&line[start..r.pos])
        }
        _ => scalar_at(&mut r, line).ok().flatten().unwrap_or_default(),
    }
}

/// `| json a="x.y"`: `emit(i, value)` for each parameter, in order: the
/// value at its path, or empty. Nothing for an empty line; an error (and
/// nothing) unless the line is a JSON object. Only the members on the
/// parameters' paths are decoded.
pub(crate) fn json_paths<'l>(
    line: &'l str,
    params: &[(String, Vec<PathSeg>)],
    mut emit: impl FnMut(usize, Cow<'l, str>),
) -> Result<(), ()> {
    if line.is_empty() {
        return Ok(());
    }
    let mut small = [None::<usize>; 8];
    let mut big = Vec::new();
    let found: &mut [Option<usize>] = if params.len() <= small.len() {
        &mut small[..params.len()]
    } else {
        big.resize(params.len(), None);
        &mut big
    };
    // The lengths of the first keys of the paths: a plain key of another
    // length is none of them.
    let lens = params.iter().fold(0u64, |m, (_, path)| match path.first() {
        Some(PathSeg::Key(k)) => m | 1 << k.len().min(63),
        _ => m,
    });
    let mut r = JReader::new(line);
    r.root(|r, k| {
        if k.plain && lens & 1 << (k.end - k.start).min(63) == 0 {
            return r.skip_value();
        }
        for (i, (_, path)) in params.iter().enumerate() {
            if let Some(PathSeg::Key(want)) = path.first() {
                if key_is(line, k, want) {
                    found[i] = Some(r.pos);
                }
            }
        }
        r.skip_value()
    })
    .map_err(|_| ())?;
    for (i, (_, path)) in params.iter().enumerate() {
        let mut at = found[i];
        for seg in path.iter().skip(1) {
            at = at.and_then(|p| step(line, p, seg));
        }
        emit(i, at.map(|p| value_text(line, p)).unwrap_or_default());
    }
    Ok(())
}

/// The top-level keys of a JSON object line that need no escaping (into
/// `out`, cleared first); `false` unless the line is a JSON object.
pub(crate) fn top_level_keys(line: &str, out: &mut Vec<String>) -> bool {
    out.clear();
    let mut r = JReader::new(line);
    r.root(|r, k| {
        if k.plain {
            out.push(line[k.start..k.end].to_string());
        }
        r.skip_value()
    })
    .is_ok()
}

/// `| unpack`: JSON string fields (collected in `out`, empty on an error)
/// become labels; `_entry` (returned) becomes the line.
pub(crate) fn unpack<'l>(
    line: &'l str,
    out: &mut Vec<CowPair<'l>>,
) -> Result<Option<Cow<'l, str>>, &'static str> {
    let mut entry = None;
    let mut r = JReader::new(line);
    let res = r.root(|r, k| {
        if r.peek() != Some(b'"') {
            return r.skip_value();
        }
        let v = str_text(line, r.string()?);
        let k = str_text(line, k);
        if k == "_entry" {
            entry = Some(v);
        } else {
            out.push((k, v));
        }
        Ok(())
    });
    if res.is_err() {
        out.clear();
    }
    res.map(|_| entry)
}

#[cfg(test)]
#[path = "json_ref.rs"]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(kv: Vec<CowPair<'_>>) -> Vec<(String, String)> {
        kv.into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The reader that borrows from the line gives what the old one gave.
    fn same_as_reference(line: &str, params: &[(String, Vec<PathSeg>)]) {
        let mut kv = Vec::new();
        let got = json_all(line, &mut kv).map(|_| owned(kv));
        assert_eq!(got, reference::json_all(line), "json: {line:?}");

        let mut vals = Vec::new();
        let got = json_paths(line, params, |i, v| vals.push((i, v.into_owned())))
            .ok()
            .map(|_| vals.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
        assert_eq!(
            got,
            reference::json_paths(line, params),
            "json paths: {line:?}"
        );

        let mut kv = Vec::new();
        let got = unpack(line, &mut kv).map(|e| (owned(kv), e.map(Cow::into_owned)));
        assert_eq!(got, reference::unpack(line), "unpack: {line:?}");
    }

    fn test_params() -> Vec<(String, Vec<PathSeg>)> {
        [
            "a",
            "b",
            "a.b",
            "a[0]",
            "a[1].b",
            "c.d.e",
            "_entry",
            "x y",
            "a.c",
            "b[0][1]",
            "é",
            "k\u{fffd}",
        ]
        .iter()
        .map(|p| (p.to_string(), parse_json_path(p).unwrap()))
        .collect()
    }

    #[test]
    fn json_reader_matches_reference_on_examples() {
        let params = test_params();
        for line in [
            "",
            "   ",
            "{}",
            " { } trailing",
            r#"{"a":1}"#,
            r#"{"a":{"b":"x","c":[1,2]},"b":true,"c":{"d":{"e":null}}}"#,
            r#"{"a":[{"b":1},{"b":"two"}],"a":"dup"}"#,
            r#"{"a":"esc \" \\ \/ \n \t \u00e9 \ud83d\ude00 \ud800 \uDFFF \q"}"#,
            r#"{"a\u0062":1,"x y":2,"1st":3," sp ":4,"":5,"é":6,"a-b":{"":{"c":7}}}"#,
            "{\"k\u{fffd}\":\"v\u{fffd}\",\"b\":\"\u{fffd}\",\"\u{fffd}x\":1}",
            r#"{"_entry":"inner","b":"x","_entry":"last","n":1}"#,
            r#"{"a":-1.5e+3,"b":false,"c":null,"d":[]}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            r#"{"a":"x"#,
            r#"{"a":"x\"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\u+abc"}"#,
            r#"{"a":"\ud800\u12"}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul,"b":1}"#,
            r#"{"a":x}"#,
            r#"{a:1}"#,
            r#"[1,2]"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"b":1 "c":2}}"#,
            "{\"a\":\t\r\n 1 , \"b\" : [ ] }",
        ] {
            same_as_reference(line, &params);
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(300), "]".repeat(300));
        same_as_reference(&deep, &params);
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        same_as_reference(&ok, &params);
    }

    use crate::engine::test_rng::Rng;

    fn gen_string(r: &mut Rng, out: &mut String) {
        out.push('"');
        for _ in 0..r.next() % 4 {
            out.push_str(r.pick(&[
                "a",
                "b",
                "c",
                "_entry",
                "x y",
                "é",
                "\u{fffd}",
                r"\n",
                r#"\""#,
                r"\u0061",
                r"\ud83d\ude00",
                "-",
                "1",
            ]));
        }
        out.push('"');
    }

    fn gen_value(r: &mut Rng, depth: usize, out: &mut String) {
        match r.next() % if depth > 3 { 5 } else { 7 } {
            0 | 3 | 4 => gen_string(r, out),
            1 => out.push_str(r.pick(&["1", "-2.5", "1e3", "0", "12-3", "+1"])),
            2 => out.push_str(r.pick(&["true", "false", "null", "nul"])),
            5 => {
                out.push('[');
                for i in 0..r.next() % 4 {
                    if i > 0 {
                        out.push(',');
                    }
                    gen_value(r, depth + 1, out);
                }
                out.push(']');
            }
            _ => gen_object(r, depth + 1, out),
        }
    }

    fn gen_object(r: &mut Rng, depth: usize, out: &mut String) {
        out.push('{');
        for i in 0..r.next() % 5 {
            if i > 0 {
                out.push_str(r.pick(&[",", ",", ", ", ",\n"]));
            }
            gen_string(r, out);
            out.push_str(r.pick(&[":", ":", " : "]));
            gen_value(r, depth, out);
        }
        out.push('}');
    }

    #[test]
    fn json_reader_matches_reference_on_random_lines() {
        let params = test_params();
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let boundary = |r: &mut Rng, line: &str| {
            let mut i = (r.next() % (line.len() as u64 + 1)) as usize;
            while !line.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        for _ in 0..100_000 {
            let mut line = String::new();
            gen_object(&mut r, 0, &mut line);
            // Break some: cut, drop or insert a byte.
            match r.next() % 4 {
                0 => line.truncate(boundary(&mut r, &line)),
                1 => {
                    let i = boundary(&mut r, &line);
                    if i < line.len() {
                        line.remove(i);
                    }
                }
                2 => {
                    let i = boundary(&mut r, &line);
                    let s = r.pick(&[
                        "\"", "\\", "{", "}", "[", "]", ",", ":", " ", r"\u00", "nul",
                    ]);
                    line.insert_str(i, s);
                }
                _ => {}
            }
            same_as_reference(&line, &params);
        }
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
