//! Lines as a template and variables: the first step towards storing a
//! segment's lines in columns (`examples/line_templates.rs` measures the
//! layouts; BENCHMARKS.md, notes on the 02:07 run of 2026-12-06).
//!
//! A variable is a maximal run of `[A-Za-z0-9._/:+-]` that holds a digit:
//! numbers, addresses, ids, times, paths with ids. The template is the line
//! with [`MARK`] in place of each variable, so lines of one kind share it
//! ("user \u{11} logged in"), and each variable position can be a column.
//! [`join`] gives the line back byte for byte.

use std::ops::Range;

/// The character standing for a variable in a template (U+0011, a control
/// character log lines do not hold; a line that does is not split).
pub const MARK: char = '\u{11}';

/// Most variables of a split line; a line with more is not split. On the
/// benchmark's corpus, 8 stored the smallest segments: of a 167 MB slice,
/// 30.4 MB at 8, 30.6 at 12, 31.4 at 16, 33.6 at 6, 33.9 unsplit. Lines
/// with many variables (access lines with a browser's user agent) hold
/// many that repeat, which zstd finds better in the whole line.
pub const MAX_VARS: usize = 8;

/// Why a template and variables do not make a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("the template has {marks} variable marks but {vars} variables were given")]
    Count { marks: usize, vars: usize },
}

/// Per byte: is it a token byte (`[A-Za-z0-9._/:+-]`)?
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b':' | b'+' | b'-');
        b += 1;
    }
    t
};

const LO: u64 = 0x0101_0101_0101_0101;

/// Does any byte of `x` hold an ASCII digit? (Exact: `hasbetween` of
/// Bit Twiddling Hacks, bytes above 0x2F and below 0x3A; no carry
/// crosses a byte.)
fn has_digit(x: u64) -> bool {
    let low7 = x & (LO * 0x7F);
    ((LO * (0x7F + 0x3A) - low7) & !x & (low7 + LO * (0x7F - 0x2F)) & (LO * 0x80)) != 0
}

/// The index of the first digit of `b` at or after `i` (or `b.len()`):
/// eight bytes at a time while none is a digit.
fn next_digit(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        if has_digit(u64::from_le_bytes(w)) {
            break;
        }
        i += 8;
    }
    while i < b.len() && !b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Splits `line` into `template` and the byte ranges of its variables in
/// `line` (both cleared first). False, with both left empty, when the
/// line is kept whole: it holds [`MARK`], or more than [`MAX_VARS`]
/// variables.
pub fn split(line: &str, template: &mut String, vars: &mut Vec<Range<usize>>) -> bool {
    template.clear();
    vars.clear();
    let b = line.as_bytes();
    if b.contains(&(MARK as u8)) {
        return false;
    }
    // Each digit's maximal token run is a variable: find the digits (few),
    // then the run around each; the run before ended at a non-token byte,
    // so no run reaches back into it.
    let mut last = 0;
    let mut i = next_digit(b, 0);
    while i < b.len() {
        let mut start = i;
        while start > last && TOKEN[b[start - 1] as usize] {
            start -= 1;
        }
        let mut end = i + 1;
        while end < b.len() && TOKEN[b[end] as usize] {
            end += 1;
        }
        if vars.len() == MAX_VARS {
            template.clear();
            vars.clear();
            return false;
        }
        // Token bytes are ASCII: `start` and `end` are char boundaries.
        template.push_str(&line[last..start]);
        template.push(MARK);
        vars.push(start..end);
        last = end;
        i = next_digit(b, end);
    }
    template.push_str(&line[last..]);
    true
}

/// Appends to `out` the line of `template` with `vars` in place of its
/// marks, in order.
pub fn join<S: AsRef<str>>(template: &str, vars: &[S], out: &mut String) -> Result<(), JoinError> {
    let marks = template.bytes().filter(|&b| b == MARK as u8).count();
    if marks != vars.len() {
        return Err(JoinError::Count {
            marks,
            vars: vars.len(),
        });
    }
    let mut vars = vars.iter();
    let mut parts = template.split(MARK);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str(vars.next().map_or("", |v| v.as_ref()));
        out.push_str(part);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parts(line: &str) -> Option<(String, Vec<String>)> {
        let (mut t, mut v) = (String::new(), Vec::new());
        split(line, &mut t, &mut v)
            .then(|| (t, v.into_iter().map(|r| line[r].to_string()).collect()))
    }

    #[test]
    fn splits_lines_of_every_kind() {
        let (t, v) =
            parts(r#"{"ts":"2026-12-04T19:31:00.013Z","msg":"user 10173 logged in","status":200}"#)
                .unwrap();
        // `:` is a token byte (for times): a member's colon goes with its number.
        assert_eq!(
            t,
            "{\"ts\":\"\u{11}\",\"msg\":\"user \u{11} logged in\",\"status\"\u{11}}"
        );
        assert_eq!(v, ["2026-12-04T19:31:00.013Z", "10173", ":200"]);
        let (t, v) = parts(r#"10.4.90.5 - - [04/Dec/2026:19:31:00 +0000] "GET /api/v1/shipping/51822 HTTP/1.1" 200"#).unwrap();
        assert_eq!(t, "\u{11} - - [\u{11} \u{11}] \"GET \u{11} \u{11}\" \u{11}");
        assert_eq!(
            v,
            [
                "10.4.90.5",
                "04/Dec/2026:19:31:00",
                "+0000",
                "/api/v1/shipping/51822",
                "HTTP/1.1",
                "200"
            ]
        );
        // No digit: no variable; not ASCII: kept in the template.
        assert_eq!(
            parts("connection refused — é"),
            Some(("connection refused — é".into(), vec![]))
        );
        assert_eq!(parts(""), Some((String::new(), vec![])));
        // Kept whole: a mark in the line, or too many variables.
        assert_eq!(parts("a\u{11}1"), None);
        let many: Vec<String> = (0..=MAX_VARS).map(|i| i.to_string()).collect();
        assert_eq!(parts(&many.join(" ")), None);
        assert!(parts(&many[..MAX_VARS].join(" ")).is_some());
    }

    #[test]
    fn join_refuses_a_wrong_count() {
        let mut out = String::new();
        assert_eq!(
            join("a \u{11} b \u{11}", &["1"], &mut out),
            Err(JoinError::Count { marks: 2, vars: 1 })
        );
        join("a \u{11} b \u{11}", &["1", "2"], &mut out).unwrap();
        assert_eq!(out, "a 1 b 2");
    }

    /// The definition, byte by byte: maximal token runs holding a digit.
    fn reference(line: &str) -> Option<Vec<Range<usize>>> {
        let b = line.as_bytes();
        if b.contains(&(MARK as u8)) {
            return None;
        }
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            let start = i;
            while i < b.len() && TOKEN[b[i] as usize] {
                i += 1;
            }
            if b[start..i].iter().any(u8::is_ascii_digit) {
                out.push(start..i);
            }
            i = i.max(start + 1);
        }
        (out.len() <= MAX_VARS).then_some(out)
    }

    #[test]
    fn has_digit_is_exact() {
        for pos in 0..8 {
            for v in 0..=255u8 {
                let mut w = [b'a'; 8];
                w[pos] = v;
                assert_eq!(
                    has_digit(u64::from_le_bytes(w)),
                    v.is_ascii_digit(),
                    "{v} at {pos}"
                );
                let mut w = [0xFFu8; 8];
                w[pos] = v;
                assert_eq!(
                    has_digit(u64::from_le_bytes(w)),
                    v.is_ascii_digit(),
                    "{v} at {pos}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn split_finds_the_runs_the_definition_gives(line in "(\\PC|[0-9./:_+-]|[a-z ]|\u{11}){0,120}") {
            let (mut t, mut v) = (String::new(), Vec::new());
            let ok = split(&line, &mut t, &mut v);
            prop_assert_eq!(ok.then_some(v), reference(&line));
        }

        #[test]
        fn split_then_join_gives_the_line(line in "(\\PC|[0-9./:_+-]|\u{11}){0,80}") {
            let (mut t, mut v) = (String::new(), Vec::new());
            if split(&line, &mut t, &mut v) {
                let vars: Vec<&str> = v.iter().map(|r| &line[r.clone()]).collect();
                prop_assert!(vars.len() <= MAX_VARS);
                prop_assert!(vars.iter().all(|x| x.bytes().any(|b| b.is_ascii_digit())));
                let mut out = String::new();
                join(&t, &vars, &mut out).unwrap();
                prop_assert_eq!(out, line);
            } else {
                prop_assert!(t.is_empty() && v.is_empty());
                prop_assert!(line.contains(MARK) || line.bytes().filter(|b| b.is_ascii_digit()).count() > MAX_VARS);
            }
        }

        #[test]
        fn join_never_panics(t in "(\\PC|\u{11}){0,40}", vars in proptest::collection::vec("\\PC{0,8}", 0..6)) {
            let mut out = String::new();
            let _ = join(&t, &vars, &mut out);
        }
    }
}
