//! Byte-level scanning shared by both text formats: a cursor over one line,
//! names, quoted strings, numbers, timestamps and label-set assembly.
//!
//! Everything here returns `Result<_, String>`; the caller attaches the line
//! number. No regex, no allocation unless a value is kept.

use argus_model::{validate_label_name, validate_metric_name, Label, Labels, METRIC_NAME};

pub(super) type Res<T> = Result<T, String>;

/// The bit pattern Prometheus gives every NaN read from text
/// (`value.NormalNaN`, which is also what Go's `math.NaN()` returns).
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

#[inline]
fn is_metric_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

#[inline]
fn is_metric_char(b: u8) -> bool {
    is_metric_start(b) || b.is_ascii_digit()
}

#[inline]
pub(super) fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

#[inline]
fn is_label_char(b: u8) -> bool {
    is_label_start(b) || b.is_ascii_digit()
}

#[inline]
pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A short, quoted, lossy rendering of some input for error messages.
pub(super) fn show(b: &[u8]) -> String {
    const MAX: usize = 48;
    if b.len() > MAX {
        format!("{:?}...", String::from_utf8_lossy(&b[..MAX]))
    } else {
        format!("{:?}", String::from_utf8_lossy(b))
    }
}

/// Bytes that the grammar already restricted to ASCII.
fn ascii(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A position in one line (without its `\n`).
pub(super) struct Cursor<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(b: &'a [u8]) -> Self {
        Cursor { b, pos: 0 }
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    #[inline]
    pub(super) fn rest(&self) -> &'a [u8] {
        &self.b[self.pos.min(self.b.len())..]
    }

    /// Consumes `c` if it is next.
    #[inline]
    pub(super) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; returns whether any were skipped.
    #[inline]
    pub(super) fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Consumes bytes while `f` holds.
    #[inline]
    pub(super) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.b[start..self.pos]
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, or `None` (nothing consumed).
    pub(super) fn metric_name(&mut self) -> Option<String> {
        if !self.peek().is_some_and(is_metric_start) {
            return None;
        }
        Some(ascii(self.take_while(is_metric_char)))
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, or `None` (nothing consumed).
    pub(super) fn label_name(&mut self) -> Option<String> {
        if !self.peek().is_some_and(is_label_start) {
            return None;
        }
        Some(ascii(self.take_while(is_label_char)))
    }

    /// A metric name in a `# HELP`/`# TYPE`/`# UNIT` line: plain or quoted.
    pub(super) fn metadata_name(&mut self, what: &str) -> Res<String> {
        if self.peek() == Some(b'"') {
            let name = self.quoted("metric name")?;
            if !validate_metric_name(&name) {
                return Err(format!("invalid metric name {name:?} in {what}"));
            }
            return Ok(name);
        }
        self.metric_name().ok_or_else(|| {
            format!(
                "expected metric name after {what}, found {}",
                show(self.rest())
            )
        })
    }

    /// A double-quoted string starting at the cursor (which must be on the
    /// opening quote). `\\`, `\"` and `\n` are unescaped; any other
    /// backslash sequence is kept verbatim, as in Prometheus (and as
    /// OpenMetrics' `escaped-char =/ BS normal-char` rule means).
    pub(super) fn quoted(&mut self, what: &str) -> Res<String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        let b = self.b;
        let start = self.pos + 1;
        let mut i = start;
        // Fast path: no escapes.
        while i < b.len() {
            match b[i] {
                b'"' => {
                    self.pos = i + 1;
                    return utf8(&b[start..i], what);
                }
                b'\\' => break,
                _ => i += 1,
            }
        }
        let mut buf = Vec::with_capacity(i - start + 16);
        buf.extend_from_slice(&b[start..i.min(b.len())]);
        while i < b.len() {
            match b[i] {
                b'"' => {
                    self.pos = i + 1;
                    return String::from_utf8(buf).map_err(|_| format!("invalid UTF-8 in {what}"));
                }
                b'\\' => {
                    match b.get(i + 1) {
                        Some(b'\\') => buf.push(b'\\'),
                        Some(b'"') => buf.push(b'"'),
                        Some(b'n') => buf.push(b'\n'),
                        Some(&other) => buf.extend_from_slice(&[b'\\', other]),
                        None => break,
                    }
                    i += 2;
                }
                other => {
                    buf.push(other);
                    i += 1;
                }
            }
        }
        Err(format!("unterminated {what} (missing closing '\"')"))
    }
}

fn utf8(b: &[u8], what: &str) -> Res<String> {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|_| format!("invalid UTF-8 in {what}"))
}

/// HELP text unescaping: `\\` and `\n` in both formats, `\"` too in
/// OpenMetrics (Prometheus's `helpReplacer` vs `lvalReplacer`). Other
/// backslashes are kept verbatim. The result must be valid UTF-8.
pub(super) fn unescape_help(text: &[u8], openmetrics: bool) -> Res<String> {
    if !text.contains(&b'\\') {
        return utf8(text, "HELP text");
    }
    let mut buf = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'\\' && i + 1 < text.len() {
            let unescaped = match text[i + 1] {
                b'\\' => Some(b'\\'),
                b'n' => Some(b'\n'),
                b'"' if openmetrics => Some(b'"'),
                _ => None,
            };
            if let Some(u) = unescaped {
                buf.push(u);
                i += 2;
                continue;
            }
        }
        buf.push(c);
        i += 1;
    }
    String::from_utf8(buf).map_err(|_| "invalid UTF-8 in HELP text".to_owned())
}

/// A decimal number split by [`decimal`]: `[sign] int [. frac] [e exp]`.
struct Decimal<'a> {
    neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
    exp: i64,
}

/// Recognises exactly the decimal floats that Go's `strconv.ParseFloat`
/// accepts once Prometheus has refused `p`, `P` and `_` (so no hex floats
/// and no digit separators), which is also OpenMetrics' `realnumber`:
/// `[+-] (D+ [. D*] | . D+) [(e|E) [+-] D+]`.
fn decimal(s: &[u8]) -> Option<Decimal<'_>> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let digits = |from: usize| from + s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_end = digits(i);
    let int = &s[i..int_end];
    i = int_end;
    let mut frac: &[u8] = &[];
    if s.get(i) == Some(&b'.') {
        let frac_end = digits(i + 1);
        frac = &s[i + 1..frac_end];
        i = frac_end;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_neg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exp_end = digits(i);
        if exp_end == i {
            return None;
        }
        for &d in &s[i..exp_end] {
            // Saturate far beyond any meaningful exponent.
            exp = (exp * 10 + i64::from(d - b'0')).min(1 << 40);
        }
        if exp_neg {
            exp = -exp;
        }
        i = exp_end;
    }
    (i == s.len()).then_some(Decimal {
        neg,
        int,
        frac,
        exp,
    })
}

/// Parses a sample or exemplar value as Go's `ParseFloat` does for
/// Prometheus: decimals, and case-insensitive `Inf`/`Infinity` (optionally
/// signed) and `NaN` (unsigned). NaN becomes [`NORMAL_NAN_BITS`]; a finite
/// literal that overflows `f64` is an error (Go's `ErrRange`).
pub(super) fn parse_value(tok: &[u8]) -> Res<f64> {
    let (sign, body) = match tok.first() {
        Some(b'+') => (1.0, &tok[1..]),
        Some(b'-') => (-1.0, &tok[1..]),
        _ => (1.0, tok),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Ok(sign * f64::INFINITY);
    }
    if body.len() == tok.len() && tok.eq_ignore_ascii_case(b"nan") {
        return Ok(f64::from_bits(NORMAL_NAN_BITS));
    }
    if decimal(tok).is_none() {
        return Err(format!("invalid value {}", show(tok)));
    }
    // `decimal` guarantees ASCII, and Rust's grammar is a superset of it.
    let s = std::str::from_utf8(tok).map_err(|_| format!("invalid value {}", show(tok)))?;
    let v: f64 = s
        .parse()
        .map_err(|_| format!("invalid value {}", show(tok)))?;
    if v.is_infinite() {
        return Err(format!("value {} out of range", show(tok)));
    }
    Ok(v)
}

/// A text-format 0.0.4 timestamp: an `int64` of milliseconds as Go's
/// `ParseInt(s, 10, 64)` reads it (optional sign, decimal digits).
pub(super) fn parse_prom_timestamp(tok: &[u8]) -> Res<i64> {
    let ok = match tok.first() {
        Some(b'+' | b'-') => tok.len() > 1 && tok[1..].iter().all(u8::is_ascii_digit),
        _ => !tok.is_empty() && tok.iter().all(u8::is_ascii_digit),
    };
    if !ok {
        return Err(format!("invalid timestamp {}", show(tok)));
    }
    std::str::from_utf8(tok)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("timestamp {} out of range", show(tok)))
}

/// An OpenMetrics timestamp (`realnumber` seconds; `NaN`/`Inf` rejected as
/// Prometheus does) converted to milliseconds, truncating toward zero like
/// Prometheus's `int64(ts * 1000)`. The conversion is done on the decimal
/// digits, so `1.005` is 1005 ms exactly (Prometheus's float product gives
/// 1004). Values beyond the `i64` range saturate.
pub(super) fn parse_om_timestamp(tok: &[u8]) -> Res<i64> {
    let d = decimal(tok).ok_or_else(|| format!("invalid timestamp {}", show(tok)))?;
    // Digits of the integer part of value * 1000: the first `point` digits.
    let point = d.int.len() as i64 + d.exp + 3;
    let digits = d.int.iter().chain(d.frac.iter());
    let mut ms: u128 = 0;
    let limit = u128::from(u64::MAX);
    for (k, &c) in digits.enumerate() {
        if k as i64 >= point {
            break;
        }
        ms = (ms * 10 + u128::from(c - b'0')).min(limit);
    }
    let total = (d.int.len() + d.frac.len()) as i64;
    for _ in total..point.min(total + 40) {
        ms = (ms * 10).min(limit);
    }
    let ms = i128::try_from(ms).unwrap_or(i128::MAX);
    let ms = if d.neg { -ms } else { ms };
    Ok(ms.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Assembles a series' labels from `name` and the pairs in `scratch`
/// (drained). Names must pass the legacy validators, names must be unique
/// (Prometheus fails the scrape on a duplicate when appending), and empty
/// values are dropped afterwards. The result has an exact-size allocation.
pub(super) fn build_labels(name: String, scratch: &mut Vec<Label>) -> Res<Labels> {
    if !validate_metric_name(&name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    if let Some(l) = scratch.iter().find(|l| !validate_label_name(&l.name)) {
        return Err(format!("invalid label name {:?}", l.name));
    }
    scratch.push(Label {
        name: METRIC_NAME.to_owned(),
        value: name,
    });
    scratch.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = scratch.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("duplicate label name {:?}", w[0].name));
    }
    let mut v = Vec::with_capacity(scratch.iter().filter(|l| !l.value.is_empty()).count());
    v.extend(scratch.drain(..).filter(|l| !l.value.is_empty()));
    Ok(Labels::from_sorted_unchecked(v))
}
