//! The experimental `anchored` and `smoothed` selector modifiers
//! (`rate(x[5m] anchored)`, `x smoothed`), which `promql-parser` does not parse.
//!
//! When a query does not parse, each modifier keyword is removed and recorded
//! as a marker matcher (`__argus_anchored__=""` or `__argus_smoothed__=""`) in
//! the selector it applies to; the evaluator reads and strips the marker.
//! Semantics follow Prometheus: `anchored` extends a range window back by the
//! lookback delta so that the last sample before the window counts; `smoothed`
//! interpolates the values at the window's edges (and, on an instant selector,
//! at the evaluation time).

use promql_parser::parser::VectorSelector;

pub(crate) const ANCHORED_MARKER: &str = "__argus_anchored__";
pub(crate) const SMOOTHED_MARKER: &str = "__argus_smoothed__";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modifier {
    None,
    Anchored,
    Smoothed,
}

pub(crate) fn modifier_of(vs: &VectorSelector) -> Modifier {
    let has = |n: &str| vs.matchers.matchers.iter().any(|m| m.name == n);
    if has(ANCHORED_MARKER) {
        Modifier::Anchored
    } else if has(SMOOTHED_MARKER) {
        Modifier::Smoothed
    } else {
        Modifier::None
    }
}

pub(crate) fn is_marker(name: &str) -> bool {
    name == ANCHORED_MARKER || name == SMOOTHED_MARKER
}

pub(crate) const ANCHORED_FUNCTIONS: &str = "changes, delta, increase, rate, resets";
pub(crate) const SMOOTHED_FUNCTIONS: &str = "delta, increase, rate";

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident,
    Str,
    Num,
    Punct(u8),
}

/// Byte ranges and kinds of the query's tokens (enough to find selectors).
fn tokens(q: &str) -> Vec<(usize, usize, Tok)> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if matches!(c, b'"' | b'\'' | b'`') {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' && c != b'`' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push((start, i, Tok::Str));
        } else if c.is_ascii_digit() || c == b'.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            out.push((start, i, Tok::Num));
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            out.push((start, i, Tok::Ident));
        } else {
            out.push((i, i + 1, Tok::Punct(c)));
            i += 1;
        }
    }
    out
}

/// Index of the token matching the closing bracket at `j` (scanning backwards).
fn matching_open(toks: &[(usize, usize, Tok)], mut j: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0;
    loop {
        match toks[j].2 {
            Tok::Punct(c) if c == close => depth += 1,
            Tok::Punct(c) if c == open => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j = j.checked_sub(1)?;
    }
}

/// Rewrites `anchored`/`smoothed` keywords into marker matchers; `None` if there are none.
pub(crate) fn rewrite_modifiers(q: &str) -> Option<String> {
    let toks = tokens(q);
    // (insert position, text) and (remove start, remove end) edits.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut removes: Vec<(usize, usize)> = Vec::new();
    for (k, (s, e, t)) in toks.iter().enumerate() {
        if *t != Tok::Ident || k == 0 {
            continue;
        }
        let word = &q[*s..*e];
        let marker = match word {
            "anchored" => ANCHORED_MARKER,
            "smoothed" => SMOOTHED_MARKER,
            _ => continue,
        };
        if matches!(toks.get(k + 1), Some((_, _, Tok::Punct(b'(')))) {
            continue;
        }
        // Walk back over `[range]`, `offset <dur>` and `@ <time>` to the selector.
        let mut j = k - 1;
        loop {
            let (ts, te, tt) = &toks[j];
            match tt {
                Tok::Punct(b']') => j = matching_open(&toks, j, b'[', b']')?.checked_sub(1)?,
                Tok::Num if j >= 1 => {
                    // The operand of offset/@, possibly signed.
                    let mut p = j - 1;
                    if matches!(toks[p].2, Tok::Punct(b'-') | Tok::Punct(b'+')) {
                        p = p.checked_sub(1)?;
                    }
                    let kw = &q[toks[p].0..toks[p].1];
                    if kw.eq_ignore_ascii_case("offset") || kw == "@" {
                        j = p.checked_sub(1)?;
                    } else {
                        return None;
                    }
                }
                Tok::Punct(b')')
                    if j >= 3
                        && toks[j - 1].2 == Tok::Punct(b'(')
                        && &q[toks[j - 3].0..toks[j - 3].1] == "@" =>
                {
                    j = j.checked_sub(4)?; // @ start() / @ end()
                }
                Tok::Punct(b'}') => {
                    let open = matching_open(&toks, j, b'{', b'}')?;
                    inserts.push((toks[open].1, format!("{marker}=\"\",")));
                    break;
                }
                Tok::Ident => {
                    let _ = ts;
                    inserts.push((*te, format!("{{{marker}=\"\"}}")));
                    break;
                }
                _ => return None,
            }
        }
        removes.push((*s, *e));
    }
    if removes.is_empty() {
        return None;
    }
    let mut edits: Vec<(usize, usize, String)> = inserts
        .into_iter()
        .map(|(p, t)| (p, p, t))
        .chain(removes.into_iter().map(|(s, e)| (s, e, String::new())))
        .collect();
    edits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut out = q.to_string();
    for (s, e, t) in edits {
        out.replace_range(s..e, &t);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_keywords_into_markers() {
        assert_eq!(
            rewrite_modifiers("rate(x[5m] anchored) + y{a=\"b\"} offset -1m smoothed").as_deref(),
            Some("rate(x{__argus_anchored__=\"\"}[5m] ) + y{__argus_smoothed__=\"\",a=\"b\"} offset -1m ")
        );
        assert_eq!(
            rewrite_modifiers("metric @ 100 smoothed + 0").as_deref(),
            Some("metric{__argus_smoothed__=\"\"} @ 100  + 0")
        );
        assert_eq!(rewrite_modifiers("rate(x[5m])"), None);
    }
}
