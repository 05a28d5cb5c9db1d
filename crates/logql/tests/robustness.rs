//! Untrusted input never crashes the server: whatever the text, the parser
//! returns (an error when it must), without panicking or overflowing its
//! stack, and what it accepts prints back to text that parses to the same
//! tree.

use argus_logql::{parse, parse_syntax, Expr, ParseError, MAX_DEPTH, MAX_QUERY_LEN};
use proptest::prelude::*;

/// Parses `q` both ways; whatever parses must round-trip.
fn check(q: &str) -> Result<Expr, ParseError> {
    let syntax = parse_syntax(q);
    let full = parse(q);
    if let Ok(e) = &full {
        assert_eq!(syntax.as_ref(), Ok(e), "{q}");
    }
    if let Ok(e) = &syntax {
        let printed = e.to_string();
        match parse_syntax(&printed) {
            Ok(again) => assert_eq!(&again, e, "{q:?} printed as {printed:?}"),
            // Printing may add parentheses (`a, b or c` prints as
            // `a and (b or c)`), which can pass the depth limit at its edge.
            Err(ParseError::TooDeep { .. }) => {}
            Err(err) => panic!("{q:?} printed as {printed:?}, which does not parse: {err}"),
        }
    }
    syntax
}

#[test]
fn a_million_open_parentheses() {
    let q = "(".repeat(1_000_000);
    assert!(matches!(
        parse(&q),
        Err(ParseError::TooLong { len: 1_000_000, .. })
    ));
    let q = "(".repeat(MAX_QUERY_LEN);
    let e = parse(&q).unwrap_err();
    assert!(
        matches!(
            e,
            ParseError::TooDeep {
                limit: MAX_DEPTH,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("more than 1000 levels"), "{e}");
    let q = "(".repeat(MAX_QUERY_LEN + 1);
    assert!(matches!(parse(&q), Err(ParseError::TooLong { .. })));
}

#[test]
fn nesting_up_to_the_limit() {
    let nest = |n: usize, inner: &str| format!("{}{inner}{}", "(".repeat(n), ")".repeat(n));
    assert!(check(&nest(MAX_DEPTH, "1")).is_ok());
    assert!(matches!(
        check(&nest(MAX_DEPTH + 1, "1")),
        Err(ParseError::TooDeep { .. })
    ));
    let sel = r#"{a="b"} |= "x""#;
    assert!(check(&nest(MAX_DEPTH, sel)).is_ok());
    assert!(matches!(
        check(&nest(MAX_DEPTH + 1, sel)),
        Err(ParseError::TooDeep { .. })
    ));
    // Nested aggregations.
    let mut q = r#"rate({a="b"}[5m])"#.to_string();
    for _ in 0..MAX_DEPTH - 1 {
        q = format!("sum({q})");
    }
    assert!(check(&q).is_ok());
    assert!(matches!(
        check(&format!("sum({q})")),
        Err(ParseError::TooDeep { .. })
    ));
    // Nested label filter parentheses.
    let q = format!(r#"{{a="b"}} | {}"#, nest(MAX_DEPTH + 1, r#"x="y""#));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
    let q = format!(r#"{{a="b"}} | {}"#, nest(MAX_DEPTH - 2, r#"x="y""#));
    assert!(check(&q).is_ok());
    // Nested log ranges.
    let q = format!("rate({})", nest(MAX_DEPTH + 1, r#"{a="b"}[5m]"#));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
}

#[test]
fn operator_chains() {
    for op in [
        "+", "-", "*", "/", "%", "^", "==", "!=", ">", "<=", "or", "and", "unless",
    ] {
        let piece = format!(" {op} vector(1)");
        let long = format!(
            "vector(1){}",
            piece.repeat((MAX_QUERY_LEN - 9) / piece.len())
        );
        assert!(
            matches!(check(&long), Err(ParseError::TooDeep { .. })),
            "{op}"
        );
        let ok = format!(
            "vector(1){}",
            format!(" {op} vector(1)").repeat(MAX_DEPTH - 1)
        );
        let e = check(&ok).unwrap_or_else(|e| panic!("{op}: {e}"));
        drop(e);
    }
    let q = format!("1{}", "+1".repeat(60_000));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
    // Unary minus applies to number literals only, as in Loki.
    for n in [2, 3, 100, 100_000] {
        let q = format!("{}1", "-".repeat(n));
        assert!(check(&q).is_err(), "{n}");
        let q = format!("{}1", "- ".repeat(n));
        assert!(check(&q).is_err(), "{n}");
        // `1 - -1` is fine; a third sign is not.
        let q = format!("1{}1", " -".repeat(n + 1));
        assert!(check(&q).is_err(), "{n}");
    }
    assert!(check("1 - -1").is_ok());
    assert!(check("1 --1").is_ok());
    // Label filter chains are flat, up to the nesting limit for commas.
    let q = format!(r#"{{a="b"}} | x="1"{}"#, r#" and x="1""#.repeat(5_000));
    assert!(check(&q).is_ok());
    let q = format!(r#"{{a="b"}} | x="1"{}"#, r#" or x="1""#.repeat(5_000));
    assert!(check(&q).is_ok());
    let q = format!(r#"{{a="b"}} | x="1"{}"#, r#", x="1""#.repeat(5_000));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
    let q = format!(r#"{{a="b"}}{}"#, r#" |= "x""#.repeat(10_000));
    assert!(check(&q).is_ok());
}

#[test]
fn huge_numbers_and_durations() {
    for q in [
        format!("1{}", "0".repeat(400)),
        "1e309".to_string(),
        "vector(1e999)".to_string(),
        "0xffffffffffffffffffff".to_string(),
        "1e".to_string(),
        "0x".to_string(),
        r#"{a="b"} | x > 99999999999999999999h"#.to_string(),
        r#"{a="b"} | x > 99999999999999999999MB"#.to_string(),
        r#"rate({a="b"}[99999999999999y])"#.to_string(),
        r#"rate({a="b"}[5m] offset 999999999999999999999s)"#.to_string(),
        r#"topk(99999999999999999999999, rate({a="b"}[5m]))"#.to_string(),
    ] {
        assert!(check(&q).is_err(), "{q}");
    }
    assert!(check(&format!("1{}", "0".repeat(300))).is_ok());
    assert!(check(&format!("0.{}1", "0".repeat(400))).is_ok());
    assert!(check(r#"{a="b"} | x > 2562047h47m16s854ms775us807ns"#).is_ok());
    assert!(check(r#"{a="b"} | x > 18446744073709551615B"#).is_ok());
    assert!(check(r#"{a="b"} | x > -9223372036854775808ns"#).is_ok());
}

#[test]
fn strings_and_utf8() {
    for q in [
        r#"{a="b"#,
        r#"{a=`b"#,
        "{a=\"b\\",
        "{a=\"b\\\"}",
        "{a=\"b\n\"}",
        r#"{a="\xff"}"#,
        r#"{a="\xc3"}"#,
        r#"{a="\377"}"#,
        r#"{a="\400"}"#,
        r#"{a="\ud800"}"#,
        r#"{a="\U00110000"}"#,
        r#"{a="\u12"}"#,
        r#"{a="\q"}"#,
        r#"{a="\'"}"#,
        "{a='b'}",
        "{a=\"b\"} |= \"é",
        "{é",
        "µ",
        "1µ",
        "{a=\"b\"} | x > 1µ",
        "é(1)",
        "{a=\"b\"} | x > 1\u{1F600}",
        "\u{feff}vector(1)",
        "vector(1) \u{a0}+ 1",
        "\u{0}",
        "[",
        "]",
        "{a=\"b\"} [",
        "`",
        "\"",
    ] {
        assert!(check(q).is_err(), "{q:?}");
    }
    assert!(check(r#"{a="\xc3\xa9"}"#).is_ok());
    assert!(check("{a=\"b\"} | x > 1µs").is_ok());
    assert!(check("{a=\"é\u{1F600}\\u00e9\\U0001F600\\101\"}").is_ok());
    assert!(check("{a=\"\\a\\b\\f\\v\\x00\\x7f\u{85}\u{feff}\"}").is_ok());
}

/// Every prefix of valid queries: cut at any character.
#[test]
fn truncated_queries() {
    let queries = [
        r#"sum by (level, detected_level) (count_over_time({job="x"} | drop __error__ [1m]))"#,
        r#"quantile_over_time(0.99, {a="é"} | json | __error__ = "" | unwrap duration(latency) | __error__="" [1m] offset 5m) by (path)"#,
        r#"topk(5, sum(rate({a=~"x.+"} |= "a" or "b" |~ `c\d` | logfmt --strict a="b" | x > 250ms, y <= 20MB or z == -1 [5m])) by (x)) / on (x) group_left (y) vector(1)"#,
        r#"label_replace(bytes_rate(({a="b"} | line_format "{{.x}}" | label_format a=b, c="d")[5m]), "dst", "$1", "src", "(.*)") > bool 2 ^ -3"#,
        "{a=\"b\"} # comment\n |= ip(\"1.2.3.4\") | pattern `<a> <_>` | keep a, b=\"c\" | decolorize",
    ];
    for q in queries {
        assert!(check(q).is_ok(), "{q}");
        for (i, _) in q.char_indices() {
            let _ = check(&q[..i]);
            let _ = check(&q[i..]);
        }
    }
}

/// Text made of LogQL's pieces, so that much of it gets past the lexer.
fn logql_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "{",
        "}",
        "(",
        ")",
        "[5m]",
        "[1h30m]",
        "[",
        "]",
        ",",
        "=",
        "!=",
        "=~",
        "!~",
        "|=",
        "|~",
        "|>",
        "!>",
        "|",
        "==",
        ">",
        ">=",
        "<",
        "<=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        " ",
        "\n",
        "#c\n",
        "a",
        "job",
        "\"x\"",
        "`y`",
        "\"(?P<a>.)\"",
        "\"<a> <_>\"",
        "1",
        "0.5",
        "-1",
        "250ms",
        "20MB",
        "1h",
        "-1s",
        "json",
        "logfmt",
        "--strict",
        "--keep-empty",
        "regexp",
        "pattern",
        "unpack",
        "line_format",
        "label_format",
        "drop",
        "keep",
        "decolorize",
        "unwrap",
        "bytes",
        "duration",
        "duration_seconds",
        "ip",
        "or",
        "and",
        "unless",
        "by",
        "without",
        "bool",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "sum",
        "topk",
        "sort",
        "rate",
        "count_over_time",
        "sum_over_time",
        "quantile_over_time",
        "vector",
        "label_replace",
        "__error__",
        "é",
        "\"",
        "`",
        "\\",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn never_panics_on_soup(q in logql_soup()) {
        let _ = check(&q);
    }

    #[test]
    fn never_panics_on_any_text(q in "\\PC{0,80}") {
        let _ = check(&q);
    }

    #[test]
    fn valid_queries_round_trip(
        sel in prop::sample::select(vec![r#"{a="b"}"#, r#"{a=~"x.+", b!="c"}"#]),
        stages in prop::collection::vec(prop::sample::select(vec![
            r#" |= "x""#, r#" != "y" or "z""#, " | json", " | logfmt --strict", r#" | x > 1.5s"#,
            r#" | y <= 20MB or z == -1"#, r#" | a="1", b="2" or c="3""#, " | decolorize",
            r#" | label_format a=b"#, r#" | drop a, b="c""#,
        ]), 0..5),
        range in prop::sample::select(vec!["[5m]", "[1h30m]", "[10s] offset 1m"]),
        agg in prop::sample::select(vec!["sum", "max by (a)", "topk(3,", "sort"]),
        op in prop::sample::select(vec![" + ", " / on (a) ", " > bool ", " or ", " ^ "]),
    ) {
        let log = format!("{sel}{}", stages.concat());
        let inner = format!("count_over_time({log} {range})");
        let metric = if agg.ends_with(',') { format!("{agg} {inner})") } else { format!("{agg}({inner})") };
        let q = format!("{metric}{op}vector(2)");
        prop_assert!(check(&log).is_ok(), "{}", log);
        prop_assert!(check(&q).is_ok(), "{}", q);
    }
}

/// Inputs of the maximum length that a careless lexer would scan again and
/// again (quadratic time): each must be refused quickly.
#[test]
fn long_runs_lex_in_linear_time() {
    let n = MAX_QUERY_LEN;
    let start = std::time::Instant::now();
    for unit in [
        "-", "1.", "1", "m", "1m", "--strict", "[", "\"", "`", "#", "é", "(", "{", "|", "1KiB",
    ] {
        let q: String = unit.repeat(n / unit.len());
        let _ = check(&q);
        let q = format!("{{a=\"b\"}} | x > {}", &q[..q.len() - 20]);
        let _ = check(&q);
    }
    // Generous: this takes milliseconds; a quadratic lexer takes minutes.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

/// A chain after a parenthesised chain builds a tree as high as both: the
/// height of the metric tree is bounded, not only the nesting of the text.
#[test]
fn tree_height_is_bounded() {
    let chain = |n: usize| format!("vector(1){}", " + vector(1)".repeat(n));
    // 600 + 600 operators: each chain alone is within the limit.
    let q = format!("({}){}", chain(600), " + vector(1)".repeat(600));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })), "{q}");
    let q = format!("({}){}", chain(500), " + vector(1)".repeat(499));
    assert!(check(&q).is_ok());
    // Left-nested parentheses, each followed by a chain.
    let mut q = chain(10);
    for _ in 0..200 {
        q = format!("({q}){}", " * vector(2)".repeat(10));
    }
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
    let q = format!("sum({})", chain(MAX_DEPTH - 1));
    assert!(matches!(check(&q), Err(ParseError::TooDeep { .. })));
    let q = format!("sum({})", chain(MAX_DEPTH - 2));
    assert!(check(&q).is_ok());
}
