//! Go (RE2) regular expressions on top of the `regex` crate, as relabelling
//! uses them: the same syntax where the two differ, and Go's
//! `Regexp.Expand` for `$1` / `${name}` templates.
//!
//! Differences between Go's `regexp` and `regex` that are bridged here:
//! - `\d \w \s \b` (and negations) are ASCII-only in Go, Unicode in `regex`;
//!   `\s` is `[\t\n\f\r ]` in Go (no `\v`).
//! - `\Q…\E` quoting exists only in Go.
//! - Inside a class, `[` is a literal in Go but opens a nested class in
//!   `regex`; `&&`, `--`, `~~` are set operators only in `regex`.
//! - A `{` that does not start a valid repetition is a literal in Go and an
//!   error in `regex`.
//! - Octal escapes (`\012`) are accepted.
//! - Templates: a name is the longest run of letters, digits and `_`; an
//!   all-digit name is a group index unless it has a leading zero; a
//!   malformed reference leaves the `$` as text; `$$` is a `$`.

use regex::{Captures, Regex, RegexBuilder};

const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\x0C\r\x20";
const DIGIT: &str = "0-9";

/// Rewrites a Go regexp into the `regex` crate's syntax with Go's meaning.
pub(crate) fn translate(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::with_capacity(pat.len() + 16);
    let mut i = 0;
    let mut in_class = false;
    // Position right after `[` or `[^`, where `]` is a literal.
    let mut class_start = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            i += 2;
            class_start = false;
            if e == 'Q' {
                // Literal text up to `\E` or the end.
                let mut lit = String::new();
                while i < chars.len() {
                    if chars[i] == '\\' && i + 1 < chars.len() && chars[i + 1] == 'E' {
                        i += 2;
                        break;
                    }
                    lit.push(chars[i]);
                    i += 1;
                }
                if in_class {
                    for ch in lit.chars() {
                        push_class_literal(&mut out, ch);
                    }
                } else {
                    out.push_str(&regex::escape(&lit));
                }
                continue;
            }
            let rep: Option<String> = match (e, in_class) {
                ('d', false) => Some(format!("[{DIGIT}]")),
                ('D', _) => Some(format!("[^{DIGIT}]")),
                ('w', false) => Some(format!("[{WORD}]")),
                ('W', _) => Some(format!("[^{WORD}]")),
                ('s', false) => Some(format!("[{SPACE}]")),
                ('S', _) => Some(format!("[^{SPACE}]")),
                ('d', true) => Some(DIGIT.to_string()),
                ('w', true) => Some(WORD.to_string()),
                ('s', true) => Some(SPACE.to_string()),
                ('b', false) => Some(r"(?-u:\b)".to_string()),
                ('B', false) => Some(r"(?-u:\B)".to_string()),
                _ => None,
            };
            match rep {
                Some(r) => out.push_str(&r),
                None => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        if in_class {
            match c {
                ']' if !class_start => {
                    in_class = false;
                    out.push(']');
                }
                '[' if chars.get(i + 1) == Some(&':') => {
                    // POSIX class `[:alpha:]`: copy through `:]`.
                    let rest: String = chars[i..].iter().collect();
                    match rest.find(":]") {
                        Some(end) if end >= 2 => {
                            out.push_str(&rest[..end + 2]);
                            i += rest[..end + 2].chars().count();
                            class_start = false;
                            continue;
                        }
                        _ => out.push_str(r"\["),
                    }
                }
                _ => push_class_literal(&mut out, c),
            }
            class_start = false;
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = true;
                i += 1;
                continue;
            }
            '{' => {
                if let Some(len) = repetition_len(&chars[i..]) {
                    out.extend(&chars[i..i + len]);
                    i += len;
                    continue;
                }
                out.push_str(r"\{");
            }
            '}' => out.push_str(r"\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// A character inside a class, escaped where `regex` would give it a
/// meaning Go does not (nested classes, set operators).
fn push_class_literal(out: &mut String, c: char) {
    match c {
        '[' | '&' | '~' => {
            out.push('\\');
            out.push(c);
        }
        ']' => out.push_str(r"\]"),
        _ => out.push(c),
    }
}

/// Length of a Go repetition operator `{n}`, `{n,}`, `{n,m}` at the start
/// of `s`, if there is one.
fn repetition_len(s: &[char]) -> Option<usize> {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if s.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (s.get(i) == Some(&'}')).then_some(i + 1)
}

/// Compiles a Go regexp fully anchored, as Prometheus's relabel `Regexp`
/// does (`^(?:` + s + `)$`).
pub(crate) fn compile_anchored(pat: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&format!("^(?:{})$", translate(pat)))
        .octal(true)
        .build()
}

/// Go's `Regexp.Expand` for a string template.
pub(crate) fn expand(re: &Regex, template: &str, caps: &Captures<'_>) -> String {
    let mut dst = String::new();
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        dst.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            dst.push('$');
            rest = r;
            continue;
        }
        let Some((name, num, after)) = extract(rest) else {
            // Malformed; treat `$` as raw text.
            dst.push('$');
            continue;
        };
        rest = after;
        match num {
            Some(n) => {
                if let Some(m) = caps.get(n) {
                    dst.push_str(m.as_str());
                }
            }
            None => {
                let idx = re.capture_names().position(|n| n == Some(name));
                if let Some(m) = idx.and_then(|i| caps.get(i)) {
                    dst.push_str(m.as_str());
                }
            }
        }
    }
    dst.push_str(rest);
    dst
}

/// Go's `extract`: a name (`name` or `{name}`) at the start of `s`, its
/// group number if it is one, and the rest.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let mut rest = &body[end..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                num = Some(n * 10 + (b - b'0') as usize)
            }
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(pat: &str, s: &str) -> bool {
        compile_anchored(pat).unwrap().is_match(s)
    }

    fn exp(pat: &str, tmpl: &str, s: &str) -> String {
        let re = compile_anchored(pat).unwrap();
        let caps = re.captures(s).unwrap();
        expand(&re, tmpl, &caps)
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(full(r"\d+", "123"));
        assert!(!full(r"\d", "٣")); // Arabic-Indic digit: Unicode \d, not Go's.
        assert!(full(r"\w+", "a_Z9"));
        assert!(!full(r"\w", "é"));
        assert!(!full(r"\s", "\u{0B}")); // \v is not in Go's \s
        assert!(full(r"\s", "\u{0C}"));
        assert!(full(r"\W", "é"));
        assert!(full(r"[\d]x", "5x"));
        assert!(!full(r"[\w]", "é"));
        assert!(full(r"[^\d]", "é"));
        assert!(full(r"[\D]", "é"));
        assert!(full(r"a\b.*", "a b"));
    }

    #[test]
    fn go_only_syntax() {
        assert!(full(r"\Qa.b\E", "a.b"));
        assert!(!full(r"\Qa.b\E", "axb"));
        assert!(full(r"[a[]+", "a[a"));
        assert!(full(r"[]a]+", "]a"));
        assert!(full(r"[a&&b]+", "a&b"));
        assert!(full(r"[a~~b]+", "a~b"));
        assert!(full(r"a{", "a{"));
        assert!(full(r"a{,2}", "a{,2}"));
        assert!(full(r"a{2}", "aa"));
        assert!(full(r"a{1,}", "aaa"));
        assert!(full(r"x}", "x}"));
        assert!(full(r"[[:alpha:]]+", "abc"));
        assert!(full(r"\x41\101", "AA"));
        assert!(full(r"(?i)abc", "ABC"));
        assert!(full(r"(?P<n>a)(?<m>b)", "ab"));
    }

    #[test]
    fn anchored() {
        assert!(!full("f", "foo"));
        assert!(full("f|o", "o"));
        assert!(!full("f|o", "fo"));
    }

    #[test]
    fn expand_like_go() {
        assert_eq!(exp("f(.*)", "ch${1}-ch${1}", "foo"), "choo-choo");
        assert_eq!(exp("(b).*b(.*)ba(.*)", "$1$2$2$3", "baz;boobam"), "boooom");
        assert_eq!(exp("(a)(b)", "$1x", "ab"), ""); // `1x` is a (missing) name
        assert_eq!(exp("(a)(b)", "${1}x", "ab"), "ax");
        assert_eq!(exp("(a)(b)", "$$1", "ab"), "$1");
        assert_eq!(exp("(a)(b)", "$", "ab"), "$");
        assert_eq!(exp("(a)(b)", "${a-b}", "ab"), "${a-b}");
        assert_eq!(exp("(a)(b)", "${1", "ab"), "${1");
        assert_eq!(exp("(a)(b)", "$01", "ab"), ""); // leading zero: a name
        assert_eq!(exp("(a)(b)", "$3", "ab"), "");
        assert_eq!(exp("(?P<x>a)(b)", "$x-${x}-$2", "ab"), "a-a-b");
        assert_eq!(exp("(a)", "$!", "a"), "$!");
    }
}
