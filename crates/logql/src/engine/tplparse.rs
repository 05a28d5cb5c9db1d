//! Lexing and parsing Go templates.

use super::template::{err, Arg, Cmd, Node, Pipe, Val, R};

// ------------------------------------------------------------ lexing and parsing

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Text(String),
    Open,
    Close,
    Field(String),
    Dot,
    Ident(String),
    Str(String),
    Num(String),
    LParen,
    RParen,
    Pipe,
}

pub(super) fn lex(src: &str) -> R<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut rest = src;
    loop {
        let Some(open) = rest.find("{{") else {
            if !rest.is_empty() {
                toks.push(Tok::Text(rest.to_string()));
            }
            break;
        };
        let mut text = &rest[..open];
        let mut inner = &rest[open + 2..];
        if inner.starts_with("- ") || inner.starts_with("-\t") || inner.starts_with("-\n") {
            text = text.trim_end();
            inner = &inner[1..];
        }
        if !text.is_empty() {
            toks.push(Tok::Text(text.to_string()));
        }
        // comment
        let trimmed = inner.trim_start();
        if trimmed.starts_with("/*") {
            let Some(end) = trimmed.find("*/") else {
                return err("template: unclosed comment");
            };
            let after = trimmed[end + 2..].trim_start();
            let (after, trim_right) = match after.strip_prefix("-}}") {
                Some(a) => (a, true),
                None => match after.strip_prefix("}}") {
                    Some(a) => (a, false),
                    None => return err("template: comment ends before closing delimiter"),
                },
            };
            rest = if trim_right {
                after.trim_start()
            } else {
                after
            };
            continue;
        }
        toks.push(Tok::Open);
        let b = inner.as_bytes();
        let mut i = 0;
        let close_at;
        let mut trim_right = false;
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                return err("template: unclosed action");
            }
            if inner[i..].starts_with("}}") {
                close_at = i + 2;
                break;
            }
            if inner[i..].starts_with("-}}") && i > 0 && b[i - 1].is_ascii_whitespace() {
                close_at = i + 3;
                trim_right = true;
                break;
            }
            let c = b[i];
            match c {
                b'(' => {
                    toks.push(Tok::LParen);
                    i += 1;
                }
                b')' => {
                    toks.push(Tok::RParen);
                    i += 1;
                }
                b'|' => {
                    toks.push(Tok::Pipe);
                    i += 1;
                }
                b'"' => {
                    let mut j = i + 1;
                    let mut s = String::new();
                    loop {
                        let Some(&ch) = b.get(j) else {
                            return err("template: unterminated quoted string");
                        };
                        if ch == b'"' {
                            break;
                        }
                        if ch == b'\\' {
                            let e = b.get(j + 1).copied().unwrap_or(b'\\');
                            s.push(match e {
                                b'n' => '\n',
                                b't' => '\t',
                                b'r' => '\r',
                                other => other as char,
                            });
                            j += 2;
                            continue;
                        }
                        let chr = inner[j..].chars().next().unwrap_or(' ');
                        s.push(chr);
                        j += chr.len_utf8();
                    }
                    toks.push(Tok::Str(s));
                    i = j + 1;
                }
                b'`' => {
                    let Some(end) = inner[i + 1..].find('`') else {
                        return err("template: unterminated raw quoted string");
                    };
                    toks.push(Tok::Str(inner[i + 1..i + 1 + end].to_string()));
                    i = i + 2 + end;
                }
                b'.' => {
                    let j = i
                        + 1
                        + inner[i + 1..]
                            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .unwrap_or(inner.len() - i - 1);
                    if j == i + 1 {
                        toks.push(Tok::Dot);
                    } else {
                        toks.push(Tok::Field(inner[i + 1..j].to_string()));
                    }
                    i = j;
                }
                c if c.is_ascii_digit() || c == b'-' || c == b'+' => {
                    let j = i
                        + 1
                        + inner[i + 1..]
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                            .unwrap_or(inner.len() - i - 1);
                    toks.push(Tok::Num(inner[i..j].to_string()));
                    i = j;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let j = i + inner[i..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(inner.len() - i);
                    toks.push(Tok::Ident(inner[i..j].to_string()));
                    i = j;
                }
                _ => {
                    let ch = inner[i..].chars().next().unwrap_or(' ');
                    return err(format!("template: unexpected \"{ch}\" in command"));
                }
            }
        }
        toks.push(Tok::Close);
        rest = &inner[close_at..];
        if trim_right {
            rest = rest.trim_start();
        }
    }
    Ok(toks)
}

pub(super) struct P {
    pub(super) toks: Vec<Tok>,
    pub(super) i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    /// Nodes up to `{{end}}`/`{{else …}}` (returned as the stop word, with
    /// the position left after the keyword) or the end.
    pub(super) fn nodes(&mut self) -> R<(Vec<Node>, Option<String>)> {
        let mut out = Vec::new();
        while let Some(t) = self.peek().cloned() {
            self.i += 1;
            match t {
                Tok::Text(s) => out.push(Node::Text(s)),
                Tok::Open => match self.peek() {
                    Some(Tok::Ident(k)) if k == "end" || k == "else" => {
                        let k = k.clone();
                        self.i += 1;
                        return Ok((out, Some(k)));
                    }
                    Some(Tok::Ident(k)) if k == "if" => {
                        self.i += 1;
                        out.push(self.if_node()?);
                    }
                    Some(Tok::Ident(k))
                        if matches!(
                            k.as_str(),
                            "range" | "with" | "define" | "template" | "block"
                        ) =>
                    {
                        return err(format!("template: {k} is not supported"));
                    }
                    _ => {
                        let p = self.pipe()?;
                        self.expect_close()?;
                        out.push(Node::Action(p));
                    }
                },
                other => return err(format!("template: unexpected {other:?}")),
            }
        }
        Ok((out, None))
    }

    fn if_node(&mut self) -> R<Node> {
        let mut branches = Vec::new();
        let mut cond = self.pipe()?;
        self.expect_close()?;
        loop {
            let (body, stop) = self.nodes()?;
            branches.push((cond, body));
            match stop.as_deref() {
                Some("end") => {
                    self.expect_close()?;
                    return Ok(Node::If(branches, Vec::new()));
                }
                Some("else") => {
                    if matches!(self.peek(), Some(Tok::Ident(k)) if k == "if") {
                        self.i += 1;
                        cond = self.pipe()?;
                        self.expect_close()?;
                        continue;
                    }
                    self.expect_close()?;
                    let (els, stop) = self.nodes()?;
                    if stop.as_deref() != Some("end") {
                        return err("template: unexpected EOF");
                    }
                    self.expect_close()?;
                    return Ok(Node::If(branches, els));
                }
                _ => return err("template: unexpected EOF"),
            }
        }
    }

    fn expect_close(&mut self) -> R<()> {
        if self.peek() == Some(&Tok::Close) {
            self.i += 1;
            Ok(())
        } else {
            err(format!("template: unexpected {:?} in command", self.peek()))
        }
    }

    fn pipe(&mut self) -> R<Pipe> {
        let mut cmds = vec![self.cmd()?];
        while self.peek() == Some(&Tok::Pipe) {
            self.i += 1;
            cmds.push(self.cmd()?);
        }
        Ok(Pipe(cmds))
    }

    fn cmd(&mut self) -> R<Cmd> {
        let mut args = Vec::new();
        while let Some(t) = self.peek().cloned() {
            let a = match t {
                Tok::Field(f) => Arg::Field(f),
                Tok::Dot => Arg::Dot,
                Tok::Str(s) => Arg::Lit(Val::Str(s)),
                Tok::Num(n) => {
                    if let Ok(i) = n.parse::<i64>() {
                        Arg::Lit(Val::Int(i))
                    } else if let Ok(f) = n.parse::<f64>() {
                        Arg::Lit(Val::Float(f))
                    } else {
                        return err(format!("template: bad number syntax: \"{n}\""));
                    }
                }
                Tok::Ident(id) => match id.as_str() {
                    "true" => Arg::Lit(Val::Bool(true)),
                    "false" => Arg::Lit(Val::Bool(false)),
                    "nil" => Arg::Lit(Val::Nil),
                    _ => Arg::Func(id),
                },
                Tok::LParen => {
                    self.i += 1;
                    let p = self.pipe()?;
                    if self.peek() != Some(&Tok::RParen) {
                        return err("template: unclosed left paren");
                    }
                    Arg::Sub(p)
                }
                _ => break,
            };
            self.i += 1;
            args.push(a);
        }
        if args.is_empty() {
            return err("template: missing value for command");
        }
        Ok(Cmd(args))
    }
}
