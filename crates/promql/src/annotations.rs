//! Annotations (warnings and infos) as Prometheus renders them, positions included.
//!
//! `promql-parser` keeps no positions in its AST, so [`Positions`] recovers
//! them: it walks the AST in source order and finds each node's leading token
//! (a metric name, a function or aggregation name, a number, `(`, `-`) in the
//! query text, searching forward from where the previous node was found.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use promql_parser::parser::Expr;

#[derive(Debug, Default)]
pub(crate) struct Annotations {
    pub warnings: RefCell<BTreeSet<String>>,
    pub infos: RefCell<BTreeSet<String>>,
}

impl Annotations {
    pub(crate) fn warn(&self, msg: String) {
        self.warnings
            .borrow_mut()
            .insert(format!("PromQL warning: {msg}"));
    }
    pub(crate) fn info(&self, msg: String) {
        self.infos
            .borrow_mut()
            .insert(format!("PromQL info: {msg}"));
    }
}

/// Start offsets of the nodes of one parsed query, by node address.
#[derive(Debug, Default)]
pub(crate) struct Positions(HashMap<usize, usize>);

fn addr(e: &Expr) -> usize {
    e as *const Expr as usize
}

impl Positions {
    pub(crate) fn new(query: &str, root: &Expr) -> Self {
        let mut p = Positions::default();
        let mut cursor = 0;
        p.visit(query, root, &mut cursor);
        p
    }

    fn visit(&mut self, q: &str, e: &Expr, cursor: &mut usize) {
        let tok = leading_token(e);
        let start = tok
            .as_deref()
            .and_then(|t| find_token_from(q, t, *cursor))
            .unwrap_or_else(|| skip_punctuation(q, *cursor));
        self.0.insert(addr(e), start);
        let tok_len = tok.as_deref().map(str::len).unwrap_or(0);
        *cursor = start;
        match e {
            Expr::Binary(b) => {
                self.visit(q, &b.lhs, cursor);
                self.visit(q, &b.rhs, cursor);
            }
            Expr::Call(c) => {
                *cursor = start + tok_len;
                for a in &c.args.args {
                    self.visit(q, a, cursor);
                }
            }
            Expr::Aggregate(a) => {
                *cursor = start + tok_len;
                if let Some(p) = &a.param {
                    self.visit(q, p, cursor);
                }
                self.visit(q, &a.expr, cursor);
            }
            Expr::Unary(u) => {
                *cursor = start + 1;
                self.visit(q, &u.expr, cursor);
            }
            Expr::Paren(p) => {
                *cursor = start + 1;
                self.visit(q, &p.expr, cursor);
            }
            Expr::Subquery(s) => self.visit(q, &s.expr, cursor),
            _ => *cursor = (start + tok_len).min(q.len()),
        }
    }

    pub(crate) fn get(&self, e: &Expr) -> Option<usize> {
        self.0.get(&addr(e)).copied()
    }
}

/// The first offset at or after `from` that is not whitespace, `(` or `,`.
fn skip_punctuation(q: &str, from: usize) -> usize {
    let from = from.min(q.len());
    q[from..]
        .char_indices()
        .find(|(_, c)| !(c.is_whitespace() || *c == '(' || *c == ','))
        .map(|(i, _)| from + i)
        .unwrap_or(from)
}

/// `(line:column)` of `expr` in `query`, 1-based, as Prometheus appends to annotations.
pub(crate) fn position(query: &str, expr: &Expr, positions: &Positions) -> String {
    let offset = positions
        .get(expr)
        .or_else(|| leading_token(expr).and_then(|tok| find_token_from(query, &tok, 0)))
        .unwrap_or(0)
        .min(query.len());
    let before = &query[..offset];
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(i) => before[i + 1..].chars().count() + 1,
        None => before.chars().count() + 1,
    };
    format!("({line}:{col})")
}

fn leading_token(mut expr: &Expr) -> Option<String> {
    // A loop, not recursion: called for every node, a left-deep chain
    // (`1+1+…`) would otherwise cost its length squared.
    loop {
        match expr {
            Expr::Binary(b) => expr = &b.lhs,
            Expr::Subquery(s) => expr = &s.expr,
            _ => break,
        }
    }
    match expr {
        Expr::Aggregate(a) => Some(a.op.to_string()),
        Expr::Unary(_) => Some("-".into()),
        Expr::Binary(_) | Expr::Subquery(_) => None, // unwrapped above
        Expr::Paren(_) => Some("(".into()),
        Expr::NumberLiteral(n) => Some(format_number(n.val)),
        Expr::StringLiteral(s) => Some(s.val.clone()),
        Expr::VectorSelector(vs) => Some(vs.name.clone().unwrap_or_else(|| "{".into())),
        Expr::MatrixSelector(ms) => Some(ms.vs.name.clone().unwrap_or_else(|| "{".into())),
        Expr::Call(c) => Some(c.func.name.to_string()),
        Expr::Extension(_) => None,
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// First occurrence of `tok` at or after `from` that is not inside a longer identifier.
fn find_token_from(query: &str, tok: &str, from: usize) -> Option<usize> {
    if tok.is_empty() || from > query.len() || !query.is_char_boundary(from) {
        return None;
    }
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let ident_tok = tok.chars().all(is_ident);
    let mut from = from;
    while let Some(i) = query[from..].find(tok) {
        let at = from + i;
        let before_ok = !ident_tok || query[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        let after_ok = !ident_tok
            || query[at + tok.len()..]
                .chars()
                .next()
                .is_none_or(|c| !is_ident(c));
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + tok.len().max(1);
    }
    None
}

/// Formats a float like Go's `%g`.
pub(crate) fn fmt_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest representation first, then choose notation by exponent like %g.
    let s = format!("{v:e}");
    let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if !(-4..6).contains(&e) {
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_g_format() {
        let q = "rate(foo[5m]) + rate(foo[5m] offset 1h)";
        let e = promql_parser::parser::parse(q).unwrap();
        let p = Positions::new(q, &e);
        assert_eq!(position(q, &e, &p), "(1:1)");
        let promql_parser::parser::Expr::Binary(b) = &e else {
            panic!()
        };
        let promql_parser::parser::Expr::Call(c) = b.rhs.as_ref() else {
            panic!()
        };
        assert_eq!(position(q, &c.args.args[0], &p), "(1:22)");
        assert_eq!(find_token_from("foo_bar + foo", "foo", 0), Some(10));
        assert_eq!(fmt_g(1.5), "1.5");
        assert_eq!(fmt_g(-2.0), "-2");
        assert_eq!(fmt_g(f64::NAN), "NaN");
        assert_eq!(fmt_g(1e-7), "1e-07");
        assert_eq!(fmt_g(1e21), "1e+21");
        assert_eq!(fmt_g(123456.0), "123456");
        assert_eq!(fmt_g(1234567.0), "1.234567e+06");
    }
}
