//! The experimental trim operators `</` and `>/`, which `promql-parser` does
//! not know: they are parsed as `<=` / `>=` (same length, same precedence as
//! the comparisons) and the binary nodes they became are remembered.

use std::collections::HashMap;

use promql_parser::parser::Expr;

/// Comparison-like operator tokens outside strings and label matchers, in
/// source order; `Some(op)` for a trim operator.
fn comparison_tokens(q: &str) -> Vec<(usize, Option<&'static str>)> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut braces = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => braces += 1,
            b'}' => braces = braces.saturating_sub(1),
            b'<' | b'>' if braces == 0 => {
                let next = b.get(i + 1).copied();
                if next == Some(b'/') {
                    out.push((i, Some(if c == b'<' { "</" } else { ">/" })));
                } else {
                    out.push((i, None));
                }
                if matches!(next, Some(b'/') | Some(b'=')) {
                    i += 1;
                }
            }
            b'=' | b'!' if braces == 0 && b.get(i + 1) == Some(&b'=') => {
                out.push((i, None));
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `q` with `</` and `>/` replaced by `<=` and `>=`, if it has any.
pub(crate) fn rewrite_trim_ops(q: &str) -> Option<String> {
    let trims: Vec<usize> = comparison_tokens(q)
        .into_iter()
        .filter_map(|(pos, op)| op.map(|_| pos))
        .collect();
    if trims.is_empty() {
        return None;
    }
    let mut out = q.as_bytes().to_vec();
    for pos in trims {
        out[pos + 1] = b'=';
    }
    String::from_utf8(out).ok()
}

fn comparison_nodes<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(b) => {
            comparison_nodes(&b.lhs, out);
            if b.op.is_comparison_operator() {
                out.push(e);
            }
            comparison_nodes(&b.rhs, out);
        }
        Expr::Paren(p) => comparison_nodes(&p.expr, out),
        Expr::Unary(u) => comparison_nodes(&u.expr, out),
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                comparison_nodes(p, out);
            }
            comparison_nodes(&a.expr, out);
        }
        Expr::Call(c) => {
            for a in &c.args.args {
                comparison_nodes(a, out);
            }
        }
        Expr::Subquery(s) => comparison_nodes(&s.expr, out),
        _ => {}
    }
}

/// The binary nodes of `expr` that `query` wrote with a trim operator.
pub(crate) fn trim_nodes(query: &str, expr: &Expr) -> HashMap<usize, &'static str> {
    let toks: Vec<Option<&'static str>> = comparison_tokens(query)
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    let mut map = HashMap::new();
    if !toks.iter().any(Option::is_some) {
        return map;
    }
    let mut nodes = Vec::new();
    comparison_nodes(expr, &mut nodes);
    if nodes.len() != toks.len() {
        return map;
    }
    for (n, t) in nodes.into_iter().zip(toks) {
        if let Some(op) = t {
            map.insert(n as *const Expr as usize, op);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_and_finds_trims() {
        let q = r#"a{x="</"} </ 2 > b >/ on(l) c"#;
        let r = rewrite_trim_ops(q).unwrap();
        assert_eq!(r, r#"a{x="</"} <= 2 > b >= on(l) c"#);
        let e = promql_parser::parser::parse(&r).unwrap();
        let t = trim_nodes(q, &e);
        assert_eq!(t.len(), 2);
        assert!(rewrite_trim_ops("a > b").is_none());
    }
}
