//! Conformance with Grafana's TraceQL grammar (the Lezer grammar behind the
//! query editor, @grafana/lezer-traceql): every query of its test file must
//! parse, print, and parse back to the same tree, and every case whose tree
//! marks a syntax error (`⚠`) must be refused — except the cases listed in
//! [`UNSUPPORTED`], each with the reason.
//!
//! The file lives beside the repository checkout, in
//! `shared/conformance/traceql/expression.txt` (CI provides it); each case is
//! `# title`, the query, `==>`, and the Lezer tree.

use argus_traceql::parse;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/traceql/expression.txt"
);

/// Cases the grammar accepts that we refuse, with the reason. The test fails
/// if one of them parses, or if a case not listed fails.
const UNSUPPORTED: &[(&str, &str)] = &[];

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

#[test]
fn grafana_lezer_expressions() {
    let text = std::fs::read_to_string(FILE).unwrap_or_else(|e| {
        panic!(
            "cannot read the TraceQL conformance file {FILE}: {e}. It lives beside the repository \
             checkout, in shared/conformance/traceql/expression.txt (CI provides it); this test \
             does not skip without it."
        )
    });
    let cases = cases(&text);
    assert_eq!(cases.len(), 128, "cases read from {FILE}");
    let (mut ok, mut refused, mut unsupported) = (0, 0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        let result = parse(&c.query);
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(t, _)| *t == c.title) {
            match result {
                Err(e) => assert!(!e.to_string().is_empty()),
                Ok(q) => failures.push(format!(
                    "case {:?} is listed as unsupported ({why}) but parses as {q:?}",
                    c.title
                )),
            }
            unsupported += 1;
            continue;
        }
        if c.tree.contains('⚠') {
            match result {
                Err(_) => refused += 1,
                Ok(q) => failures.push(format!(
                    "case {:?}: the grammar refuses it, we accepted {:?} as {q:?}",
                    c.title, c.query
                )),
            }
            continue;
        }
        let q = match result {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("case {:?}: {e}\n  {}", c.title, c.query));
                continue;
            }
        };
        let printed = q.to_string();
        match parse(&printed) {
            Ok(again) if again == q => ok += 1,
            Ok(again) => failures.push(format!(
                "case {:?}: printing then parsing changed the tree\n query:   {}\n printed: {printed}\n {q:?}\n {again:?}",
                c.title, c.query
            )),
            Err(e) => failures.push(format!(
                "case {:?}: the printed query does not parse: {e}\n query:   {}\n printed: {printed}",
                c.title, c.query
            )),
        }
    }
    for (t, _) in UNSUPPORTED {
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
    eprintln!(
        "{ok} parsed and round-tripped, {refused} refused as the grammar does, \
         {unsupported} listed as unsupported, of {}",
        cases.len()
    );
    assert!(ok * 100 >= cases.len() * 95, "fewer than 95% parse");
}
