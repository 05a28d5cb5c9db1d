//! TraceQL: parse any text (`argus_traceql::parse`); what parses must print
//! (`Display`) to text that parses back to the same tree.
//!
//! Inputs longer than 16 KiB are skipped to keep executions fast (the parser
//! itself refuses more than 128 KiB, and bounds nesting to 1,000 levels
//! whatever the length: `crates/traceql/tests/robustness.rs`).
#![no_main]

use argus_traceql::{parse, ParseError};
use libfuzzer_sys::fuzz_target;

const MAX_LEN: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    if q.len() > MAX_LEN {
        return;
    }
    let Ok(tree) = parse(q) else {
        return;
    };
    let printed = tree.to_string();
    match parse(&printed) {
        Ok(again) => assert_eq!(again, tree, "{q:?} printed as {printed:?}"),
        // Printing may add parentheses, which can pass the nesting limit at
        // its edge.
        Err(ParseError::TooDeep { .. }) => {}
        Err(err) => panic!("{q:?} printed as {printed:?}, which does not parse: {err}"),
    }
});
