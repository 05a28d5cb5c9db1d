//! Number literals where `promql-parser` expects a duration: `x[300]`,
//! `x[5m:30]`, `x offset 60`. It turns them into a `Duration` with
//! `Duration::from_secs_f64`, which panics on NaN, infinity, negatives and
//! anything from 2^64 seconds up (`x[1e400]`, `x[NaN]`, found by the `promql`
//! fuzz target). Such literals are refused with `bad_data` before the query is
//! parsed. Durations with units (`5m`) are parsed with checked arithmetic and
//! need nothing here.

use crate::depth::skip_string;
use crate::PromqlError;

/// `Duration::from_secs_f64` accepts seconds below 2^64.
const MAX_SECONDS: f64 = 18_446_744_073_709_551_616.0;

/// Refuses `query` when a number literal in a duration position is not a
/// representable duration. Strings and comments are skipped; whatever else is
/// wrong is left for the parser to report.
pub(crate) fn check(query: &str) -> Result<(), PromqlError> {
    let b = query.as_bytes();
    let mut brackets = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' | b'`' => {
                i = skip_string(b, i);
                continue;
            }
            b'#' => {
                i = skip_comment(b, i);
                continue;
            }
            b'[' => {
                brackets += 1;
                check_literal_at(query, i + 1)?;
            }
            b']' => brackets = brackets.saturating_sub(1),
            // A subquery's step.
            b':' if brackets > 0 => check_literal_at(query, i + 1)?,
            c if c.is_ascii_digit() || c == b'.' => {
                i = token_end(b, i);
                continue;
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                if query[start..i].eq_ignore_ascii_case("offset") {
                    let mut j = skip_space(b, i);
                    if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                        j += 1;
                    }
                    check_literal_at(query, j)?;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Checks the token starting at `i` (after white space), if it is a number.
fn check_literal_at(query: &str, i: usize) -> Result<(), PromqlError> {
    let b = query.as_bytes();
    let start = skip_space(b, i);
    let end = token_end(b, start);
    let tok = &query[start..end];
    // Decimal and float literals, Inf and NaN; hex and octal literals are
    // integers below 2^63, durations with units do not parse as f64.
    match tok.parse::<f64>() {
        Ok(secs) if !(0.0..MAX_SECONDS).contains(&secs) => Err(PromqlError::BadData(format!(
            "invalid duration {tok:?}: a duration in seconds must be a number from 0 to 2^64"
        ))),
        _ => Ok(()),
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// The end of a number, duration or word starting at `i`: alphanumerics,
/// `_`, `.`, and a sign right after an exponent's `e`.
fn token_end(b: &[u8], mut i: usize) -> usize {
    let start = i;
    while i < b.len() {
        let c = b[i];
        let exp_sign = (c == b'+' || c == b'-')
            && i > start
            && matches!(b[i - 1], b'e' | b'E')
            && b[start].is_ascii_digit();
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exp_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'#' {
            i = skip_comment(b, i);
        } else {
            return i;
        }
    }
}

fn skip_comment(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, MemStore, PromqlError};

    /// The `promql` fuzz target's input: a subquery range of 4.3e43 seconds
    /// panicked inside promql-parser.
    const FUZZ_INPUT: &str =
        "irate%(cumulative[43333333333333333333333333333333333333333333:333333333333s33333333m])";

    #[test]
    fn out_of_range_number_durations_are_refused() {
        for q in [
            FUZZ_INPUT,
            "x[1e400]",
            "x[ NaN ]",
            "x[inf]",
            "x[Inf:1m]",
            "x[5m:1e30]",
            "x[5m: 18446744073709551616]",
            "x offset 1e20",
            "x OFFSET -1e300",
            "x offset\n# a comment\n nan",
            "sum(rate(x[1E+25]))",
        ] {
            assert!(
                matches!(check(q), Err(PromqlError::BadData(ref m)) if m.contains("invalid duration")),
                "{q}: {:?}",
                check(q)
            );
        }
    }

    #[test]
    fn valid_queries_pass() {
        for q in [
            "x[300]",
            "x[5m]",
            "x[1h30m:15s]",
            "x[5m:]",
            "x[0x10]",
            "x offset 1.5",
            "x offset -5m",
            "rate(job:x:rate5m[1e5])",
            r#"x{a="[1e400]"}"#,
            "x # offset 1e400",
            "x[5m:10] @ 1e300",
            "offset_1e400[5m]",
            "1e400 + x",
        ] {
            assert!(check(q).is_ok(), "{q}: {:?}", check(q));
        }
    }

    #[test]
    fn the_engine_and_parse_answer_bad_data() {
        let engine = Engine::default();
        for q in [FUZZ_INPUT, "x[1e400]", "x[5m:NaN]", "x offset Inf"] {
            let r = engine.instant(&MemStore::new(), q, 0);
            assert!(matches!(r, Err(PromqlError::BadData(_))), "{q}: {r:?}");
            let r = engine.range(&MemStore::new(), q, 0, 60_000, 15_000);
            assert!(matches!(r, Err(PromqlError::BadData(_))), "{q}: {r:?}");
            assert!(
                matches!(crate::parse(q), Err(PromqlError::BadData(_))),
                "{q}"
            );
        }
        assert!(engine.instant(&MemStore::new(), "x[300]", 0).is_ok());
    }
}
