//! Bounded nesting for untrusted query text.
//!
//! Parsing, the query rewrites, every walk over the AST, evaluation and the
//! `Drop` of the tree all recurse once per level of nesting, in Argus's code
//! and in `promql-parser`'s. A query of a million `(` would overflow any
//! thread's stack and abort the process, so two things bound them:
//!
//! 1. [`check`] scans the text *before* it is parsed and refuses a query whose
//!    nesting may exceed [`MAX_DEPTH`] with `bad_data`. The scan computes an
//!    upper bound of the AST's depth in one pass, without recursion: every
//!    `(` or `[` opens a level, and every operator (binary, unary, `offset`,
//!    `@`, a range or subquery `[…]`) may add one inside the level it stands
//!    in (a chain `1+1+…+1` is as deep as it is long).
//! 2. [`with_stack`] runs parsing, evaluation, rendering and the drop of the
//!    tree on a stack large enough for [`MAX_DEPTH`] levels (measured in a
//!    debug build, whose frames are the largest), whatever thread calls it.

use crate::PromqlError;

/// Deepest nesting a query may have: parentheses, function calls,
/// aggregations, subqueries and range selectors each add a level, and so does
/// each operator of a chain (`a + b + c` is two levels deep). Prometheus has no
/// such limit (Go stacks grow up to 1 GB); it answers queries nested 20,000
/// levels deep. Deeper than this, Argus answers `400 bad_data` naming the limit.
pub const MAX_DEPTH: usize = 10_000;

/// Stack on which a query of [`MAX_DEPTH`] levels is parsed, evaluated and
/// dropped. Only the pages a query touches are ever committed; a shallow query
/// touches a few.
const QUERY_STACK_BYTES: usize = 512 << 20;

/// Runs `f` on a stack large enough for a query nested [`MAX_DEPTH`] levels
/// deep (a new one is mapped only when the current one has less left).
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(QUERY_STACK_BYTES, QUERY_STACK_BYTES, f)
}

/// Refuses `query` when its nesting may exceed [`MAX_DEPTH`].
pub(crate) fn check(query: &str) -> Result<(), PromqlError> {
    check_depth(query, MAX_DEPTH)
}

/// Refuses `query` when its nesting may exceed `max` levels (a caller whose
/// work grows faster than the depth, such as formatting, sets a lower limit).
pub fn check_depth(query: &str, max: usize) -> Result<(), PromqlError> {
    if nesting_bound(query, max) > max {
        return Err(PromqlError::BadData(format!(
            "query is nested more than {max} levels deep (the limit: parentheses, function calls, \
             subqueries and each operator of a chain add a level); simplify the query"
        )));
    }
    Ok(())
}

/// One `(` or `[` level being scanned: sibling segments (function arguments)
/// are separated by commas.
#[derive(Default, Clone, Copy)]
struct Level {
    /// Operators in the current segment.
    ops: usize,
    /// Deepest closed child level in the current segment.
    child: usize,
    /// Deepest finished segment.
    best: usize,
}

impl Level {
    fn depth(&self) -> usize {
        self.best.max(self.ops + self.child)
    }
}

/// An upper bound of the depth of the AST `query` parses into; scanning stops
/// as soon as the bound passes `limit` (the result is then `limit + 1`).
/// Unbalanced brackets are left for the parser to report.
pub(crate) fn nesting_bound(query: &str, limit: usize) -> usize {
    let b = query.as_bytes();
    let mut stack: Vec<Level> = vec![Level::default()];
    let mut i = 0;
    let over = limit + 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = skip_string(b, i);
                continue;
            }
            b'{' => {
                // Label matchers: strings, names and `=`/`!=`/`=~`/`!~`, no expressions.
                i += 1;
                while i < b.len() && b[i] != b'}' {
                    if matches!(b[i], b'"' | b'\'' | b'`') {
                        i = skip_string(b, i);
                    } else {
                        i += 1;
                    }
                }
                i += 1;
                continue;
            }
            b'(' | b'[' => {
                if c == b'[' {
                    // A range selector or subquery wraps what stands before it.
                    let top = stack.last_mut().expect("the outermost level stays");
                    top.ops += 1;
                    if top.ops > limit {
                        return over;
                    }
                }
                if stack.len() > limit {
                    return over;
                }
                stack.push(Level::default());
            }
            b')' | b']' if stack.len() > 1 => {
                let done = stack.pop().expect("more than one level");
                let top = stack.last_mut().expect("the outermost level stays");
                top.child = top.child.max(1 + done.depth());
            }
            b',' => {
                let top = stack.last_mut().expect("the outermost level stays");
                top.best = top.depth();
                top.ops = 0;
                top.child = 0;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'@' | b'<' | b'>' | b'=' | b'!' => {
                // Two-character operators (`==`, `!=`, `<=`, `>=`) count twice: harmless.
                let top = stack.last_mut().expect("the outermost level stays");
                top.ops += 1;
                if top.ops > limit {
                    return over;
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b':' => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b':'))
                {
                    // A number's exponent sign (`1e-3`) is part of the number.
                    if matches!(b[i], b'e' | b'E')
                        && b[start].is_ascii_digit()
                        && matches!(b.get(i + 1), Some(b'+' | b'-'))
                    {
                        i += 1;
                    }
                    i += 1;
                }
                let word = &query[start..i];
                if ["and", "or", "unless", "atan2", "offset"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k))
                {
                    let top = stack.last_mut().expect("the outermost level stays");
                    top.ops += 1;
                    if top.ops > limit {
                        return over;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Close what the text left open, innermost first.
    while stack.len() > 1 {
        let done = stack.pop().expect("more than one level");
        let top = stack.last_mut().expect("the outermost level stays");
        top.child = top.child.max(1 + done.depth());
    }
    stack[0].depth().min(over)
}

/// The index just past the string literal starting at `i` (or the end).
fn skip_string(b: &[u8], i: usize) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote != b'`' => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(q: &str) -> usize {
        nesting_bound(q, 1_000_000)
    }

    #[test]
    fn bounds_follow_the_tree() {
        assert_eq!(bound("up"), 0);
        assert_eq!(bound("1 + 2"), 1);
        assert_eq!(bound("1 + 2 + 3"), 2);
        assert_eq!(bound("((1))"), 2);
        assert_eq!(bound("(((1))) + 1 + 1 + 1"), 6);
        assert_eq!(bound("sum(rate(x[5m]))"), 4);
        // Function arguments are siblings, not a chain.
        assert_eq!(bound("clamp(a + b, 1, 2)"), 2);
        assert_eq!(bound("f((((a))), b)"), 4);
        assert_eq!(bound("x[5m:1m][5m:1m]"), 3);
        assert_eq!(bound("-(-(1))"), 4);
        assert_eq!(bound("a and b or c unless d"), 3);
        assert_eq!(bound("x offset 5m @ 100"), 2);
        assert_eq!(bound("1e-3 + 2E+4"), 1);
    }

    #[test]
    fn strings_matchers_and_comments_do_not_count() {
        assert_eq!(bound(r#"up{job=~"((((", a!="+-*/", b='(\'('} # ((((("#), 0);
        assert_eq!(bound("label_replace(up, \"a\", \"((\", \"b\", \"$1\")"), 1);
        assert_eq!(bound("`((((` + 1"), 1);
    }

    #[test]
    fn deep_or_long_queries_stop_at_the_limit() {
        let deep = format!("{}1{}", "(".repeat(1_000_000), ")".repeat(1_000_000));
        assert_eq!(nesting_bound(&deep, MAX_DEPTH), MAX_DEPTH + 1);
        let chain = format!("1{}", "+1".repeat(1_000_000));
        assert_eq!(nesting_bound(&chain, MAX_DEPTH), MAX_DEPTH + 1);
        let open = "(".repeat(50);
        assert_eq!(nesting_bound(&open, MAX_DEPTH), 50);
        assert!(check(&deep).is_err());
        assert!(check(&format!("{}1{}", "(".repeat(5000), ")".repeat(5000))).is_ok());
    }
}
