//! The lexer: query text to tokens, each with its byte offset. Attributes are
//! lexed whole (`parent.span.http.method` is one token), as Tempo does,
//! because their names may hold dots and other punctuation.

use crate::ast::{Attribute, Scope};
use crate::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Pipe,
    And,
    Or,
    Not,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Re,
    NotRe,
    Desc,
    Anc,
    Tilde,
    NotChild,
    NotParent,
    NotDesc,
    NotAnc,
    UnionChild,
    UnionParent,
    UnionDesc,
    UnionAnc,
    UnionSibl,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Int(u64),
    Float(f64),
    Duration(i64),
    Str(String),
    /// A keyword, intrinsic or hint name: letters, digits, `_` and `:`.
    Word(String),
    Attr(Attribute),
    Eof,
}

impl Tok {
    /// How the token is named in "unexpected …" messages.
    pub(crate) fn describe(&self) -> String {
        let sym = |s: &str| format!("`{s}`");
        match self {
            Tok::LBrace => sym("{"),
            Tok::RBrace => sym("}"),
            Tok::LParen => sym("("),
            Tok::RParen => sym(")"),
            Tok::Comma => sym(","),
            Tok::Pipe => sym("|"),
            Tok::And => sym("&&"),
            Tok::Or => sym("||"),
            Tok::Not => sym("!"),
            Tok::Eq => sym("="),
            Tok::Neq => sym("!="),
            Tok::Lt => sym("<"),
            Tok::Lte => sym("<="),
            Tok::Gt => sym(">"),
            Tok::Gte => sym(">="),
            Tok::Re => sym("=~"),
            Tok::NotRe => sym("!~"),
            Tok::Desc => sym(">>"),
            Tok::Anc => sym("<<"),
            Tok::Tilde => sym("~"),
            Tok::NotChild => sym("!>"),
            Tok::NotParent => sym("!<"),
            Tok::NotDesc => sym("!>>"),
            Tok::NotAnc => sym("!<<"),
            Tok::UnionChild => sym("&>"),
            Tok::UnionParent => sym("&<"),
            Tok::UnionDesc => sym("&>>"),
            Tok::UnionAnc => sym("&<<"),
            Tok::UnionSibl => sym("&~"),
            Tok::Plus => sym("+"),
            Tok::Minus => sym("-"),
            Tok::Star => sym("*"),
            Tok::Slash => sym("/"),
            Tok::Percent => sym("%"),
            Tok::Caret => sym("^"),
            Tok::Int(n) => format!("integer {n}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Duration(_) => "duration".to_string(),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Attr(a) => format!("attribute `{a}`"),
            Tok::Eof => "end of input".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: usize,
}

/// Characters that end a bare attribute name (besides whitespace).
pub(crate) const NAME_TERMINATORS: &str = "{}()=~!<>&|^,\"";

pub(crate) fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !NAME_TERMINATORS.contains(c)
}

/// Tokens of `src`, ending with [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer { src, pos: 0 };
    let mut out = Vec::new();
    loop {
        lx.skip_space_and_comments()?;
        let pos = lx.pos;
        let tok = lx.next_token()?;
        let eof = tok == Tok::Eof;
        out.push(Token { tok, pos });
        if eof {
            return Ok(out);
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::invalid(self.src, pos, msg)
    }

    fn skip_space_and_comments(&mut self) -> Result<(), ParseError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                match body.find("*/") {
                    Some(i) => self.pos += i + 4,
                    None => return Err(self.err(self.pos, "unterminated comment: no `*/`")),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn next_token(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Tok::Eof);
        };
        const OPS: &[(&str, Tok)] = &[
            ("!>>", Tok::NotDesc),
            ("!<<", Tok::NotAnc),
            ("&>>", Tok::UnionDesc),
            ("&<<", Tok::UnionAnc),
            ("&&", Tok::And),
            ("||", Tok::Or),
            ("!=", Tok::Neq),
            ("!~", Tok::NotRe),
            ("!>", Tok::NotChild),
            ("!<", Tok::NotParent),
            ("&>", Tok::UnionChild),
            ("&<", Tok::UnionParent),
            ("&~", Tok::UnionSibl),
            ("=~", Tok::Re),
            (">>", Tok::Desc),
            ("<<", Tok::Anc),
            (">=", Tok::Gte),
            ("<=", Tok::Lte),
            ("{", Tok::LBrace),
            ("}", Tok::RBrace),
            ("(", Tok::LParen),
            (")", Tok::RParen),
            (",", Tok::Comma),
            ("|", Tok::Pipe),
            ("!", Tok::Not),
            ("=", Tok::Eq),
            ("<", Tok::Lt),
            (">", Tok::Gt),
            ("~", Tok::Tilde),
            ("+", Tok::Plus),
            ("-", Tok::Minus),
            ("*", Tok::Star),
            ("/", Tok::Slash),
            ("%", Tok::Percent),
            ("^", Tok::Caret),
        ];
        for (s, t) in OPS {
            if self.rest().starts_with(s) {
                self.pos += s.len();
                return Ok(t.clone());
            }
        }
        match c {
            '"' | '`' => Ok(Tok::Str(self.string(c)?)),
            '.' => {
                self.pos += 1;
                let name = self.attr_name(start)?;
                Ok(Tok::Attr(Attribute {
                    parent: false,
                    scope: Scope::None,
                    name,
                }))
            }
            '0'..='9' => self.number(),
            c if c.is_ascii_alphabetic() || c == '_' => self.word(),
            '&' => Err(self.err(start, "unexpected `&`: expected `&&` or a union operator (`&>`, `&>>`, `&<`, `&<<`, `&~`)")),
            c => Err(self.err(start, format!("unexpected character {c:?}"))),
        }
    }

    fn word(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(self.rest().len());
        let word = &self.src[start..start + len];
        self.pos += len;
        if self.peek() == Some('.') {
            let parent = word == "parent";
            let mut scope = Scope::from_keyword(word);
            if parent || scope.is_some() {
                self.pos += 1;
                if parent {
                    scope = None;
                    let rest = self.rest();
                    let wl = rest
                        .find(|c: char| !c.is_ascii_alphabetic())
                        .unwrap_or(rest.len());
                    if let Some(sc) = Scope::from_keyword(&rest[..wl]) {
                        if rest[wl..].starts_with('.') {
                            scope = Some(sc);
                            self.pos += wl + 1;
                        }
                    }
                }
                let name = self.attr_name(start)?;
                return Ok(Tok::Attr(Attribute {
                    parent,
                    scope: scope.unwrap_or(Scope::None),
                    name,
                }));
            }
        }
        Ok(Tok::Word(word.to_string()))
    }

    /// An attribute name: bare characters and quoted segments, up to
    /// whitespace or an operator.
    fn attr_name(&mut self, start: usize) -> Result<String, ParseError> {
        let mut name = String::new();
        let mut any = false;
        loop {
            match self.peek() {
                Some('"') => {
                    name.push_str(&self.string('"')?);
                    any = true;
                }
                Some(c) if is_name_char(c) => {
                    name.push(c);
                    self.pos += c.len_utf8();
                    any = true;
                }
                _ => break,
            }
        }
        if !any {
            let prefix = &self.src[start..self.pos];
            return Err(self.err(
                start,
                format!("expected an attribute name after `{prefix}`"),
            ));
        }
        Ok(name)
    }

    /// A double-quoted string (escapes as in Go) or a back-quoted raw one.
    fn string(&mut self, quote: char) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(start, "unterminated string"));
            };
            self.pos += c.len_utf8();
            if c == quote {
                return Ok(out);
            }
            if c != '\\' || quote == '`' {
                out.push(c);
                continue;
            }
            let esc_pos = self.pos - 1;
            let Some(e) = self.peek() else {
                return Err(self.err(start, "unterminated string"));
            };
            self.pos += e.len_utf8();
            let ch = match e {
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                '\\' => '\\',
                '"' => '"',
                '\'' => '\'',
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex = self.rest().get(..n).unwrap_or("");
                    let code = (hex.len() == n && hex.chars().all(|c| c.is_ascii_hexdigit()))
                        .then(|| u32::from_str_radix(hex, 16).ok())
                        .flatten()
                        .and_then(char::from_u32)
                        .ok_or_else(|| {
                            self.err(esc_pos, format!("invalid escape: `\\{e}` needs {n} hex digits of a valid character"))
                        })?;
                    self.pos += n;
                    code
                }
                other => {
                    return Err(
                        self.err(esc_pos, format!("unsupported escape `\\{other}` in string"))
                    )
                }
            };
            out.push(ch);
        }
    }

    fn digits(&mut self) -> &'a str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.src[start..start + len]
    }

    /// An integer, a float (`1.5`) or a duration (`1.5s`, `2h45m`).
    fn number(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let int = self.digits().to_string();
        let mut frac = None;
        if self.rest().starts_with('.')
            && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            self.pos += 1;
            frac = Some(self.digits().to_string());
        }
        let unit_follows = self.peek().is_some_and(|c| c.is_alphabetic());
        if unit_follows {
            return self.duration(start, int, frac);
        }
        match frac {
            None => int
                .parse::<u64>()
                .map(Tok::Int)
                .map_err(|_| self.err(start, format!("integer {int} out of range"))),
            Some(f) => {
                let v: f64 = format!("{int}.{f}").parse().unwrap_or(f64::INFINITY);
                if v.is_finite() {
                    Ok(Tok::Float(v))
                } else {
                    Err(self.err(start, format!("number {int}.{f} out of range")))
                }
            }
        }
    }

    fn duration(
        &mut self,
        start: usize,
        mut int: String,
        mut frac: Option<String>,
    ) -> Result<Tok, ParseError> {
        const UNITS: &[(&str, u128)] = &[
            ("ns", 1),
            ("us", 1_000),
            ("µs", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ];
        let mut total: u128 = 0;
        loop {
            let Some(&(u, mult)) = UNITS.iter().find(|(u, _)| {
                self.rest().starts_with(u)
                    && !self.rest()[u.len()..].starts_with(|c: char| c.is_alphabetic())
            }) else {
                return Err(self.err(
                    start,
                    "invalid duration: units are ns, us, µs, ms, s, m and h (e.g. `1.5s`, `2h45m`)",
                ));
            };
            self.pos += u.len();
            let whole: u128 = int.parse().unwrap_or(u128::MAX);
            let mut part = whole.saturating_mul(mult);
            if let Some(f) = &frac {
                let f = &f[..f.len().min(18)];
                let num: u128 = f.parse().unwrap_or(0);
                part = part.saturating_add(num.saturating_mul(mult) / 10u128.pow(f.len() as u32));
            }
            total = total.saturating_add(part);
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                break;
            }
            int = self.digits().to_string();
            frac = None;
            if self.rest().starts_with('.')
                && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit())
            {
                self.pos += 1;
                frac = Some(self.digits().to_string());
            }
        }
        i64::try_from(total)
            .map(Tok::Duration)
            .map_err(|_| self.err(start, "duration out of range"))
    }
}
