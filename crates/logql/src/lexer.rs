//! The lexer: query text to tokens, all at once (queries are short and
//! bounded by [`crate::MAX_QUERY_LEN`]).
//!
//! It follows Loki's lexer where that changes what parses: a number directly
//! followed by duration units is a duration (`5m`, `1.5h`), else by size units
//! a byte size (`20MB`); `-` directly followed by a duration is a negative
//! duration (`-1s`); `--strict` and `--keep-empty` are parser flags; `[…]` is
//! one range token holding a Prometheus duration; `#` starts a comment that
//! runs to the end of the line. Keywords are not tokens of their own: the
//! parser recognises identifiers by context, case-insensitively as Loki does.

use crate::units;
use crate::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier; its text is the token's span.
    Ident,
    /// A string literal, unquoted.
    Str(String),
    /// A number; its text is the token's span.
    Number(f64),
    /// A duration literal, in nanoseconds.
    Duration(i64),
    /// A byte size literal.
    Bytes(u64),
    /// A range, `[5m]`, in nanoseconds.
    Range(i64),
    /// `--strict` or `--keep-empty`; its text is the token's span.
    Flag,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    Neq,
    /// `=~`
    Re,
    /// `!~`
    Nre,
    /// `!>`
    Npa,
    /// `|=`
    PipeExact,
    /// `|~`
    PipeMatch,
    /// `|>`
    PipePattern,
    /// `|`
    Pipe,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Gt,
    Gte,
    Lt,
    Lte,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

const FLAGS: [&str; 2] = ["--strict", "--keep-empty"];

fn is_duration_char(c: char) -> bool {
    c.is_ascii_digit()
        || matches!(
            c,
            '.' | 'n' | 'u' | '\u{b5}' | 'm' | 's' | 'h' | 'd' | 'w' | 'y'
        )
}

fn is_bytes_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | 'B' | 'i' | 'k' | 'K' | 'M' | 'G' | 'T' | 'P')
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Length in bytes of the longest prefix of `s` whose chars satisfy `f`.
fn run_len(s: &str, f: impl Fn(char) -> bool) -> usize {
    s.find(|c: char| !f(c)).unwrap_or(s.len())
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut toks = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        if c == b'#' {
            i = src[i..].find('\n').map_or(b.len(), |n| i + n);
            continue;
        }
        let start = i;
        let two = |x: u8| b.get(i + 1) == Some(&x);
        let (tok, len) = match c {
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            b'+' => (Tok::Plus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'^' => (Tok::Caret, 1),
            b'=' if two(b'=') => (Tok::EqEq, 2),
            b'=' if two(b'~') => (Tok::Re, 2),
            b'=' => (Tok::Eq, 1),
            b'!' if two(b'=') => (Tok::Neq, 2),
            b'!' if two(b'~') => (Tok::Nre, 2),
            b'!' if two(b'>') => (Tok::Npa, 2),
            b'|' if two(b'=') => (Tok::PipeExact, 2),
            b'|' if two(b'~') => (Tok::PipeMatch, 2),
            b'|' if two(b'>') => (Tok::PipePattern, 2),
            b'|' => (Tok::Pipe, 1),
            b'>' if two(b'=') => (Tok::Gte, 2),
            b'>' => (Tok::Gt, 1),
            b'<' if two(b'=') => (Tok::Lte, 2),
            b'<' => (Tok::Lt, 1),
            b'-' => lex_minus(&src[i..]),
            b'[' => lex_range(src, i)?,
            b'"' => lex_string(src, i)?,
            b'`' => match src[i + 1..].find('`') {
                Some(n) => (Tok::Str(src[i + 1..i + 1 + n].to_string()), n + 2),
                None => return Err(ParseError::invalid(src, i, "unterminated raw string")),
            },
            b'0'..=b'9' => lex_number(src, i)?,
            b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => lex_number(src, i)?,
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                if is_ident_start(ch) {
                    (Tok::Ident, run_len(&src[i..], is_ident_char))
                } else {
                    return Err(ParseError::invalid(
                        src,
                        i,
                        format!("syntax error: unexpected character {ch:?}"),
                    ));
                }
            }
        };
        i += len;
        toks.push(Token { tok, start, end: i });
    }
    toks.push(Token {
        tok: Tok::Eof,
        start: b.len(),
        end: b.len(),
    });
    Ok(toks)
}

/// Longest unit suffix considered after a number: enough for any duration or
/// size (`2562047h47m16s854ms775us807ns`), and it keeps lexing linear on
/// inputs such as `1.1.1.1…` or `------…`.
const MAX_SUFFIX: usize = 64;

/// Length of the run of `f` chars at the start of `s`, or `None` when it is
/// longer than [`MAX_SUFFIX`] (then it is no duration nor size).
fn suffix_len(s: &str, f: impl Fn(char) -> bool) -> Option<usize> {
    let mut n = 0;
    for (count, c) in s.chars().enumerate() {
        if !f(c) {
            return Some(n);
        }
        if count >= MAX_SUFFIX {
            return None;
        }
        n += c.len_utf8();
    }
    Some(n)
}

/// `-`: a parser flag, a negative duration, or a minus sign.
fn lex_minus(s: &str) -> (Tok, usize) {
    for flag in FLAGS {
        if s.starts_with(flag)
            && !s[flag.len()..].starts_with(|c: char| c == '-' || c.is_alphabetic())
        {
            return (Tok::Flag, flag.len());
        }
    }
    if let Some(n) = suffix_len(&s[1..], is_duration_char) {
        if n > 0 {
            if let Some(d) = units::parse_duration(&s[..n + 1]) {
                return (Tok::Duration(d), n + 1);
            }
        }
    }
    (Tok::Minus, 1)
}

/// `[5m]`: a range, a Prometheus duration.
fn lex_range(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let Some(n) = src[i + 1..].find(']') else {
        return Err(ParseError::invalid(src, i, "missing closing ']' in range"));
    };
    let text = &src[i + 1..i + 1 + n];
    match units::parse_prom_duration(text) {
        Some(d) => Ok((Tok::Range(d), n + 2)),
        None => Err(ParseError::invalid(
            src,
            i,
            format!(
                "invalid range [{}]: expected a duration such as [5m] or [1h30m] \
                 (units ms, s, m, h, d, w, y)",
                text.escape_debug()
            ),
        )),
    }
}

/// A number, a duration (`5m`) or a byte size (`20MB`).
fn lex_number(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let s = &src[i..];
    let b = s.as_bytes();
    let mut n;
    let value: f64;
    if b.len() > 1 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        n = 2 + run_len(&s[2..], |c| c.is_ascii_hexdigit());
        if n == 2 {
            return Err(ParseError::invalid(
                src,
                i,
                "hexadecimal literal has no digits",
            ));
        }
        let Ok(v) = u64::from_str_radix(&s[2..n], 16) else {
            return Err(ParseError::invalid(src, i, "number out of range"));
        };
        value = v as f64;
    } else {
        n = run_len(s, |c| c.is_ascii_digit());
        if b.get(n) == Some(&b'.') {
            n += 1;
            n += run_len(&s[n..], |c| c.is_ascii_digit());
        }
        if matches!(b.get(n), Some(b'e' | b'E')) {
            let mut m = n + 1;
            if matches!(b.get(m), Some(b'+' | b'-')) {
                m += 1;
            }
            let digits = run_len(&s[m..], |c| c.is_ascii_digit());
            if digits == 0 {
                return Err(ParseError::invalid(src, i, "exponent has no digits"));
            }
            n = m + digits;
        }
        value = match s[..n].parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                return Err(ParseError::invalid(
                    src,
                    i,
                    format!("number out of range: {}", &s[..n]),
                ))
            }
        };
    }
    // Directly followed by units: a duration, else a byte size (as Loki).
    if let Some(d) = suffix_len(&s[n..], is_duration_char).filter(|&d| d > 0) {
        if let Some(v) = units::parse_duration(&s[..n + d]) {
            return Ok((Tok::Duration(v), n + d));
        }
    }
    if let Some(k) = suffix_len(&s[n..], is_bytes_char).filter(|&k| k > 0) {
        if let Some(v) = units::parse_bytes(&s[..n + k]) {
            return Ok((Tok::Bytes(v), n + k));
        }
    }
    Ok((Tok::Number(value), n))
}

/// A double-quoted string with Go escapes.
fn lex_string(src: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let s = &src[i..];
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut j = 1;
    loop {
        let Some(&c) = b.get(j) else {
            return Err(ParseError::invalid(src, i, "unterminated string"));
        };
        match c {
            b'"' => break,
            b'\n' => {
                return Err(ParseError::invalid(
                    src,
                    i,
                    "unterminated string (newline in string)",
                ))
            }
            b'\\' => {
                let at = i + j;
                let bad = |m: &str| Err(ParseError::invalid(src, at, m.to_string()));
                let Some(&e) = b.get(j + 1) else {
                    return Err(ParseError::invalid(src, i, "unterminated string"));
                };
                j += 2;
                match e {
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(11),
                    b'\\' => out.push(b'\\'),
                    b'"' => out.push(b'"'),
                    b'0'..=b'7' => {
                        let digits = s.get(j - 1..j + 2).unwrap_or("");
                        if digits.len() != 3 || !digits.bytes().all(|d| (b'0'..=b'7').contains(&d))
                        {
                            return bad("invalid octal escape in string: expected 3 octal digits");
                        }
                        let Ok(v) = u8::from_str_radix(digits, 8) else {
                            return bad("octal escape value > 255 in string");
                        };
                        out.push(v);
                        j += 2;
                    }
                    b'x' | b'u' | b'U' => {
                        let len = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let digits = s.get(j..j + len).unwrap_or("");
                        if digits.len() != len || !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                            return bad("invalid hexadecimal escape in string");
                        }
                        let Ok(v) = u32::from_str_radix(digits, 16) else {
                            return bad("invalid hexadecimal escape in string");
                        };
                        j += len;
                        if e == b'x' {
                            out.push(v as u8);
                        } else {
                            let Some(ch) = char::from_u32(v) else {
                                return bad("escape is not a valid Unicode code point");
                            };
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    _ => return bad("unknown escape sequence in string"),
                }
            }
            _ => {
                out.push(c);
                j += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(v) => Ok((Tok::Str(v), j + 1)),
        Err(_) => Err(ParseError::invalid(
            src,
            i,
            "string escapes do not form valid UTF-8",
        )),
    }
}
