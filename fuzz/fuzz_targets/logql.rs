//! LogQL: parse any text (`argus_logql::parse_syntax` and `parse`); what
//! parses must print (`Display`) to text that parses back to the same tree,
//! and `parse` may only accept what `parse_syntax` accepts, as the same tree.
//!
//! Inputs longer than 16 KiB are skipped to keep executions fast (the parser
//! itself refuses more than 128 KiB, and bounds nesting to 1,000 levels
//! whatever the length: `crates/logql/tests/robustness.rs`).
#![no_main]

use argus_logql::{parse, parse_syntax, ParseError};
use libfuzzer_sys::fuzz_target;

const MAX_LEN: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    if q.len() > MAX_LEN {
        return;
    }
    let syntax = parse_syntax(q);
    let full = parse(q);
    if let Ok(e) = &full {
        assert_eq!(syntax.as_ref(), Ok(e), "parse accepted what parse_syntax did not");
    }
    let Ok(e) = syntax else {
        return;
    };
    let printed = e.to_string();
    match parse_syntax(&printed) {
        Ok(again) => assert_eq!(again, e, "{q:?} printed as {printed:?}"),
        // Printing may add parentheses (`a, b or c` prints as
        // `a and (b or c)`), which can pass the nesting limit at its edge.
        Err(ParseError::TooDeep { .. }) => {}
        Err(err) => panic!("{q:?} printed as {printed:?}, which does not parse: {err}"),
    }
});
