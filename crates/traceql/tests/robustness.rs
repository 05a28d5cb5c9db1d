//! Untrusted input never crashes the server: whatever the text, the parser
//! returns (an error when it must), without panicking or overflowing its
//! stack, and what it accepts prints back to text that parses to the same
//! tree.

use argus_traceql::{parse, ParseError, Query, MAX_DEPTH, MAX_QUERY_LEN};
use proptest::prelude::*;

/// Parses `q`; whatever parses must round-trip.
fn check(q: &str) -> Result<Query, ParseError> {
    let r = parse(q);
    if let Ok(t) = &r {
        let printed = t.to_string();
        match parse(&printed) {
            Ok(again) => assert_eq!(&again, t, "{q:?} printed as {printed:?}"),
            Err(ParseError::TooDeep { .. }) => {}
            Err(e) => panic!("{q:?} printed as {printed:?}, which does not parse: {e}"),
        }
    }
    r
}

#[test]
fn a_megabyte_query_is_refused() {
    let q = "{ .a = 1 } && ".repeat(80_000);
    assert!(q.len() > 1_000_000);
    assert!(matches!(parse(&q), Err(ParseError::TooLong { .. })));
    let q = "x".repeat(MAX_QUERY_LEN + 1);
    assert!(matches!(parse(&q), Err(ParseError::TooLong { .. })));
}

#[test]
fn nesting_100k_deep_is_an_error() {
    for (open, close) in [("(", ")"), ("{ (", ") }"), ("{ !", " }"), ("{ -", " }")] {
        let q = format!("{}{{ .a }}{}", open.repeat(100_000), close.repeat(100_000));
        let e = parse(&q).unwrap_err();
        assert!(matches!(e, ParseError::TooLong { .. }), "{e}");
    }
    // Within the length limit, the depth limit refuses.
    let n = MAX_QUERY_LEN / 2 - 10;
    for q in [
        format!("{}{{}}{}", "(".repeat(n), ")".repeat(n)),
        format!("{{ {}.a{} }}", "(".repeat(n), ")".repeat(n)),
        format!("{{ {}.a }}", "!".repeat(n)),
        format!("{{ {}.a }}", "-".repeat(n)),
        format!("{{ .a{} }}", " + 1".repeat(n / 4)),
        format!("{{ .a{} }}", " ^ 1".repeat(n / 4)),
        format!("{{}}{}", " && {}".repeat(n / 6)),
        format!(
            "{{}} | {}count() > 1{}",
            "(".repeat(n / 2),
            ")".repeat(n / 2)
        ),
        format!("{{}} | count(){} > 1", " + 1".repeat(n / 4)),
        "(".repeat(MAX_QUERY_LEN),
        "{".repeat(MAX_QUERY_LEN),
    ] {
        let e = check(&q).unwrap_err();
        assert!(
            matches!(
                e,
                ParseError::TooDeep {
                    limit: MAX_DEPTH,
                    ..
                }
            ) || matches!(e, ParseError::Syntax { .. }),
            "{e}"
        );
    }
    let e = parse(&format!("{}{{}}{}", "(".repeat(5000), ")".repeat(5000))).unwrap_err();
    assert!(e.to_string().contains("nested too deeply"), "{e}");
}

#[test]
fn nesting_up_to_the_limit() {
    let nest = |n: usize| format!("{{ {}.a{} }}", "(".repeat(n), ")".repeat(n));
    assert!(check(&nest(MAX_DEPTH - 2)).is_ok());
    assert!(matches!(
        check(&nest(MAX_DEPTH + 1)),
        Err(ParseError::TooDeep { .. })
    ));
    let chain = |n: usize| format!("{{ .a{} }}", " + 1".repeat(n));
    assert!(check(&chain(MAX_DEPTH / 2)).is_ok());
    assert!(matches!(
        check(&chain(MAX_DEPTH + 1)),
        Err(ParseError::TooDeep { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary text: an answer, never a panic.
    #[test]
    fn any_text(q in "\\PC{0,80}") {
        let _ = check(&q);
    }

    /// Text made of TraceQL's pieces: more of it parses.
    #[test]
    fn traceql_pieces(parts in prop::collection::vec(prop::sample::select(vec![
        "{", "}", "(", ")", " ", ".a", "span.b", "parent.c", "1", "1.5", "2s", "\"s\"", "`r`",
        "&&", "||", "!", "-", "+", "*", "/", "%", "^", "=", "!=", "<", "<=", ">", ">=", "=~", "!~",
        ">>", "<<", "~", "!>", "!>>", "&>", "&~", "|", ",", "count()", "avg", "by", "select",
        "coalesce()", "rate()", "topk(3)", "quantile_over_time", "compare", "with", "most_recent",
        "true", "nil", "ok", "server", "duration", "span:id", "status",
    ]), 0..24)) {
        let q = parts.concat();
        let _ = check(&q);
    }
}
