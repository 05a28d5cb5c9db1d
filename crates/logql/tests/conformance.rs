//! Conformance with Grafana's LogQL grammar (the Lezer grammar behind the
//! query editor): every query of its test file must parse, print, and parse
//! back to the same tree — except the cases listed below, each with the
//! reason Loki refuses it.
//!
//! The file lives beside the repository checkout, in
//! `shared/conformance/logql/expression.txt` (CI provides it); each case is
//! `# title`, the query, `==>`, and the Lezer tree.

use argus_logql::{parse, parse_syntax, ParseError};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/logql/expression.txt"
);

/// Cases whose Lezer tree itself marks an error (`⚠`): Loki refuses them
/// too, and so must we.
const SYNTAX_ERRORS: &[(&str, &str)] = &[
    (
        "Log query with pipe exact filter and unclosed quotes",
        "unterminated string",
    ),
    (
        "Log query with pipe exact filter and unclosed back-ticks",
        "unterminated raw string",
    ),
    (
        "Log query with regexp parser without string",
        "regexp needs its regex",
    ),
    (
        "Simple log query with trailing comma in stream selector to have error",
        "Loki's grammar has no trailing comma in a selector",
    ),
    // A duration or a byte size is not an expression on its own: Loki's
    // lexer makes a DURATION or BYTES token, which no rule starts with.
    ("5y2w3d4h5m6s succeeds", "a bare duration is not a query"),
    (
        "2w3y errors because week before year",
        "a bare duration is not a query",
    ),
    ("5.5y", "`5.5` then the identifier `y`: not a query"),
    ("2.5h", "a bare duration is not a query"),
    ("-2.5h", "a bare (negative) duration is not a query"),
    ("20KB", "a bare byte size is not a query"),
    (
        "20kb does parse as Bytes",
        "`20k` (a byte size) then the identifier `b`",
    ),
    ("20MB", "a bare byte size is not a query"),
    ("20.5MB", "a bare byte size is not a query"),
    ("-20.5MB", "a sign then a byte size is not a query"),
];

/// Cases Lezer's looser grammar accepts but Loki refuses while parsing (in
/// its grammar's actions): both `parse` and `parse_syntax` must refuse them.
const REFUSED_WHILE_PARSING: &[(&str, &str)] = &[(
    "Log query with regexp parser",
    "`regexp \"regexp\"` has no named capture group: Loki answers \"invalid regexp parser: \
     at least one named capture must be supplied\"",
)];

/// Cases the grammar accepts but Loki's query endpoints refuse in the checks
/// made after parsing (`validateExpr`): `parse_syntax` accepts them, `parse`
/// must not.
const REFUSED_AFTER_PARSING: &[(&str, &str)] = &[
    (
        "Log query with regex matcher and back-ticks",
        "{name !~ `mysql-\\d+`} also matches streams without `name`: Loki requires a matcher that \
         does not match the empty string",
    ),
    (
        "Range aggregation expression - \"(\" Selector \")\" Range OffsetExpr UnwrapExpr",
        "{label=\"\"} matches every stream: Loki requires a matcher that does not match the empty string",
    ),
    ("Drop with one label", "{label=\"\"}: no matcher that refuses the empty string"),
    ("Drop with multiple labels and matchers", "{label=\"\"}: no matcher that refuses the empty string"),
    ("Keep with one label", "{label=\"\"}: no matcher that refuses the empty string"),
    ("Keep with multiple labels and matchers", "{label=\"\"}: no matcher that refuses the empty string"),
    ("Sort", "Loki refuses `sort … without (app)`: sort and sort_desc take no grouping labels"),
];

struct Case {
    title: String,
    query: String,
    tree: String,
}

fn cases(text: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(title) = line.strip_prefix("# ") else {
            assert!(
                line.trim().is_empty(),
                "unexpected line outside a case: {line:?}"
            );
            continue;
        };
        let mut query = Vec::new();
        loop {
            let l = lines
                .next()
                .unwrap_or_else(|| panic!("case {title:?}: no `==>`"));
            if l.trim() == "==>" {
                break;
            }
            query.push(l);
        }
        let mut tree = String::new();
        while let Some(l) = lines.peek() {
            if l.starts_with("# ") {
                break;
            }
            tree.push_str(l.trim());
            lines.next();
        }
        out.push(Case {
            title: title.trim().to_string(),
            query: query.join("\n").trim().to_string(),
            tree,
        });
    }
    out
}

fn round_trip(title: &str, query: &str, parsed: &argus_logql::Expr) {
    let printed = parsed.to_string();
    match parse_syntax(&printed) {
        Ok(again) => assert_eq!(
            &again, parsed,
            "case {title:?}: printing then parsing changed the tree\n query:   {query}\n printed: {printed}"
        ),
        Err(e) => panic!("case {title:?}: the printed query does not parse: {e}\n query:   {query}\n printed: {printed}"),
    }
}

#[test]
fn grafana_lezer_expressions() {
    let text = std::fs::read_to_string(FILE).unwrap_or_else(|e| {
        panic!(
            "cannot read the LogQL conformance file {FILE}: {e}. It lives beside the repository \
             checkout, in shared/conformance/logql/expression.txt (CI provides it); this test \
             does not skip without it."
        )
    });
    let cases = cases(&text);
    assert!(
        cases.len() >= 70,
        "only {} cases read from {FILE}",
        cases.len()
    );
    let (mut ok, mut refused, mut errors) = (0, 0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        let syntax_error = SYNTAX_ERRORS.iter().find(|(t, _)| *t == c.title);
        if let Some((_, why)) = REFUSED_WHILE_PARSING.iter().find(|(t, _)| *t == c.title) {
            for (what, r) in [
                ("parse", parse(&c.query)),
                ("parse_syntax", parse_syntax(&c.query)),
            ] {
                match r {
                    Err(ParseError::Invalid { .. }) => {}
                    other => panic!(
                        "case {:?} ({why}): {what} should refuse it, got {other:?}",
                        c.title
                    ),
                }
            }
            refused += 1;
            continue;
        }
        let after = REFUSED_AFTER_PARSING.iter().find(|(t, _)| *t == c.title);
        assert_eq!(
            syntax_error.is_some(),
            c.tree.contains('⚠'),
            "case {:?}: listed as an error iff its Lezer tree has an error node",
            c.title
        );
        if let Some((_, why)) = syntax_error {
            for (what, r) in [
                ("parse", parse(&c.query)),
                ("parse_syntax", parse_syntax(&c.query)),
            ] {
                match r {
                    Err(e) => assert!(!e.to_string().is_empty()),
                    Ok(e) => panic!(
                        "case {:?} ({why}): {what} accepted {:?} as {e:?}",
                        c.title, c.query
                    ),
                }
            }
            errors += 1;
            continue;
        }
        if let Some((_, why)) = after {
            let tree = parse_syntax(&c.query).unwrap_or_else(|e| {
                panic!(
                    "case {:?}: the grammar should accept it: {e}\n{}",
                    c.title, c.query
                )
            });
            round_trip(&c.title, &c.query, &tree);
            match parse(&c.query) {
                Err(ParseError::Invalid { .. }) => {}
                other => panic!(
                    "case {:?} ({why}): parse should refuse it, got {other:?}",
                    c.title
                ),
            }
            refused += 1;
            continue;
        }
        let tree = match parse(&c.query) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("case {:?}: {e}\n  {}", c.title, c.query));
                continue;
            }
        };
        assert_eq!(parse_syntax(&c.query).as_ref(), Ok(&tree));
        round_trip(&c.title, &c.query, &tree);
        ok += 1;
    }
    for (t, _) in SYNTAX_ERRORS
        .iter()
        .chain(REFUSED_WHILE_PARSING)
        .chain(REFUSED_AFTER_PARSING)
    {
        assert!(
            cases.iter().any(|c| c.title == *t),
            "listed case {t:?} is not in the file"
        );
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{ok} parsed, {refused} refused by Loki's checks, {errors} syntax errors");
}
