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
//! Native histograms (`{{...}}` in `load` lines and expected values) are
//! compared as `test.go` does (compacted, floats with the same tolerance, the
//! counter reset hint only when the expectation states it); `load_with_nhcb`
//! also loads classic histograms as native histograms with custom buckets.

mod at_modifier;
mod histo;
mod parse;
mod run;
mod series_notation;

pub use parse::{parse_script, Command, EvalCmd, ExpectKind, Expectation, Expected};
pub use run::{almost_equal, almost_equal_eps, run_file, run_script, FileReport};
pub use series_notation::{parse_number, parse_series_desc, parse_values, SeqValue};
