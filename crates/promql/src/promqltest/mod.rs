//! Runner for Prometheus's PromQL test scripts (`promql/promqltest/testdata/*.test`).
//!
//! The script language is described in the conformance folder's `SCRIPT-LANGUAGE.md`.
//! Every `eval` statement is one pass/fail unit. Results are compared as
//! Prometheus's `test.go` does: floats with a relative tolerance of 1e-6 (NaN equals
//! NaN, stale markers only equal stale markers), series matched by label set,
//! order checked only with `expect ordered`, annotations checked against the
//! `expect warn|info|no_warn|no_info` lines. Instant queries are also re-run as a
//! range query around the evaluation time, and the middle step must match too.
//!
//! Not supported yet: native histograms (`{{...}}` in `load` lines or expected
//! values). A `load` statement using them still loads its float samples but
//! counts as one failed statement; an `eval` expecting them fails.

mod at_modifier;
mod parse;
mod run;
mod series_notation;

pub use parse::{parse_script, Command, EvalCmd, ExpectKind, Expectation, Expected};
pub use run::{almost_equal, almost_equal_eps, run_file, run_script, FileReport};
pub use series_notation::{parse_number, parse_series_desc, parse_values, SeqValue};
