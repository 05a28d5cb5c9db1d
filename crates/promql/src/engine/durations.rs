//! Duration expressions (`x[5m+30s]`, `x[step()*2]`, `x offset min_of(range(), 1h)`),
//! an experimental Prometheus feature that `promql-parser` does not parse.
//!
//! When a query does not parse, range brackets and `offset` operands are
//! evaluated here with the query's `step()` and `range()` and replaced by plain
//! millisecond durations; the rewritten query is then parsed again. As in
//! Prometheus, an `offset` operand is one term (a literal, `step()`, `range()`,
//! `min_of(..)`/`max_of(..)` or a parenthesised expression, optionally signed):
//! `x offset 100 + 2` is `(x offset 100) + 2`. Numbers are seconds.

use argus_model::parse_duration;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Op(char),
    LParen,
    RParen,
    Comma,
    Func(String),
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if "+-*/%^".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            let t = &s[start..i];
            let v = if t.bytes().any(|x| x.is_ascii_alphabetic()) {
                parse_duration(t).ok()?.as_millis() as f64 / 1000.0
            } else {
                t.parse::<f64>().ok()?
            };
            out.push(Tok::Num(v));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Func(s[start..i].to_ascii_lowercase()));
        } else {
            return None;
        }
    }
    Some(out)
}

struct Parser<'t> {
    toks: &'t [Tok],
    pos: usize,
    step_s: f64,
    range_s: f64,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Option<()> {
        (self.next()? == t).then_some(())
    }

    /// expr := term (('+'|'-') term)*
    fn expr(&mut self) -> Option<f64> {
        let mut v = self.term()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.term()?;
            v = if op == '+' { v + r } else { v - r };
        }
        Some(v)
    }

    /// term := unary (('*'|'/'|'%') unary)*
    fn term(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        while let Some(Tok::Op(op @ ('*' | '/' | '%'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.unary()?;
            v = match op {
                '*' => v * r,
                '/' => v / r,
                _ => v % r,
            };
        }
        Some(v)
    }

    /// unary := ('+'|'-') unary | power   (unary minus binds looser than '^')
    fn unary(&mut self) -> Option<f64> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Some(-self.unary()?)
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    /// power := primary ('^' unary)?   (right associative)
    fn power(&mut self) -> Option<f64> {
        let base = self.primary()?;
        if let Some(Tok::Op('^')) = self.peek() {
            self.pos += 1;
            let e = self.unary()?;
            return Some(base.powf(e));
        }
        Some(base)
    }

    fn primary(&mut self) -> Option<f64> {
        match self.next()? {
            Tok::Num(v) => Some(v),
            Tok::LParen => {
                let v = self.expr()?;
                self.expect(Tok::RParen)?;
                Some(v)
            }
            Tok::Func(f) => {
                self.expect(Tok::LParen)?;
                let v = match f.as_str() {
                    "step" => self.step_s,
                    "range" => self.range_s,
                    "min_of" | "max_of" => {
                        let a = self.expr()?;
                        self.expect(Tok::Comma)?;
                        let b = self.expr()?;
                        if f == "min_of" {
                            a.min(b)
                        } else {
                            a.max(b)
                        }
                    }
                    _ => return None,
                };
                self.expect(Tok::RParen)?;
                Some(v)
            }
            _ => None,
        }
    }

    /// An offset operand: one optionally signed primary.
    fn offset_operand(&mut self) -> Option<f64> {
        match self.peek() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Some(-self.primary()?)
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.primary()
            }
            _ => self.primary(),
        }
    }
}

fn eval_full(s: &str, step_s: f64, range_s: f64) -> Option<f64> {
    let toks = tokenize(s)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        step_s,
        range_s,
    };
    let v = p.expr()?;
    (p.pos == toks.len()).then_some(v)
}

fn ms(v: f64) -> String {
    format!("{}ms", (v * 1000.0).round() as i64)
}

/// Skips a string literal starting at `i`; returns the index after it.
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' && q != b'`' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

/// Rewrites the duration expressions of `query`; `None` if there are none or they do not evaluate.
pub(crate) fn rewrite_duration_exprs(query: &str, step_ms: i64, range_ms: i64) -> Option<String> {
    let (step_s, range_s) = (step_ms as f64 / 1000.0, range_ms as f64 / 1000.0);
    let b = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'"' | b'\'' | b'`') {
            let j = skip_string(b, i).min(b.len());
            out.push_str(&query[i..j]);
            i = j;
            continue;
        }
        if c == b'[' {
            let end = i + query[i..].find(']')?;
            let inner = &query[i + 1..end];
            let parts: Vec<&str> = inner.splitn(2, ':').collect();
            let mut rewritten = Vec::new();
            for p in &parts {
                if p.trim().is_empty() {
                    rewritten.push(String::new());
                } else {
                    rewritten.push(ms(eval_full(p, step_s, range_s)?));
                }
            }
            out.push('[');
            out.push_str(&rewritten.join(":"));
            out.push(']');
            changed = true;
            i = end + 1;
            continue;
        }
        let word_start =
            i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':');
        if word_start
            && query
                .get(i..i + 6)
                .is_some_and(|w| w.eq_ignore_ascii_case("offset"))
        {
            let after = i + 6;
            if after < b.len() && !(b[after].is_ascii_alphanumeric() || b[after] == b'_') {
                // Tokenize from here and take one operand.
                let rest = &query[after..];
                let (consumed, v) = offset_operand_len(rest, step_s, range_s)?;
                // A zero offset is no offset (and "offset 0ms" does not parse).
                if (v * 1000.0).round() != 0.0 {
                    out.push_str("offset ");
                    out.push_str(&ms(v));
                }
                changed = true;
                i = after + consumed;
                continue;
            }
        }
        let ch = query[i..].chars().next()?;
        out.push(ch);
        i += ch.len_utf8();
    }
    changed.then_some(out)
}

/// Length in bytes of the offset operand at the start of `rest` and its value in seconds.
fn offset_operand_len(rest: &str, step_s: f64, range_s: f64) -> Option<(usize, f64)> {
    // Try ever longer prefixes ending at a token boundary; the operand is the
    // shortest prefix that forms one complete operand followed by nothing of it.
    let b = rest.as_bytes();
    let mut depth = 0i32;
    let mut j = 0;
    // Skip leading whitespace and sign.
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    let start = j;
    if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
    }
    // A primary: literal, function call or parenthesised expression.
    if j < b.len() && b[j] == b'(' {
        loop {
            if j >= b.len() {
                return None;
            }
            match b[j] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
    } else {
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if k < b.len() && b[k] == b'(' {
            j = k;
            loop {
                if j >= b.len() {
                    return None;
                }
                match b[j] {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            j += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
    }
    let toks = tokenize(&rest[start..j])?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        step_s,
        range_s,
    };
    let v = p.offset_operand()?;
    (p.pos == toks.len()).then_some((j, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_and_rewrites() {
        assert_eq!(eval_full("24m+((1.5*2m)+2m)", 0.0, 0.0), Some(1740.0));
        assert_eq!(eval_full("-2 ^ 2", 0.0, 0.0), Some(-4.0));
        assert_eq!(eval_full("1+(STep()-5)*2", 10.0, 0.0), Some(11.0));
        assert_eq!(
            rewrite_duration_exprs("changes(x[26m+4m]) offset 100 + 2", 0, 0).as_deref(),
            Some("changes(x[1800000ms]) offset 100000ms + 2")
        );
        assert_eq!(
            rewrite_duration_exprs("x offset -min_of(step(), 1s)^0", 5000, 0).as_deref(),
            Some("x offset -1000ms^0")
        );
        assert_eq!(
            rewrite_duration_exprs("x[5m:] offset (2 * 2)", 0, 0).as_deref(),
            Some("x[300000ms:] offset 4000ms")
        );
        assert_eq!(rewrite_duration_exprs(r#"x{a="[1+1]"}"#, 0, 0), None);
    }
}
