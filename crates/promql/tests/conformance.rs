//! Runs Prometheus's PromQL test scripts (../shared/conformance/promqltest) and
//! guards the pass counts against regressions.
//!
//! `PROMQLTEST_VERBOSE=1` prints every failure; `PROMQLTEST_FILE=name` runs one file
//! (without checks). The scripts must be present unless `ARGUS_SKIP_CONFORMANCE` is set.

use std::path::PathBuf;

use argus_promql::promqltest::{run_file, FileReport};

const TIER1: [&str; 13] = [
    "aggregators",
    "at_modifier",
    "collision",
    "functions",
    "histograms",
    "literals",
    "operators",
    "range_queries",
    "selectors",
    "staleness",
    "subquery",
    "trig_functions",
    "name_label_dropping",
];

const OTHERS: [&str; 8] = [
    "native_histograms",
    "limit",
    "info",
    "duration_expression",
    "extended_vectors",
    "fill-modifier",
    "start_timestamps",
    "type_and_unit",
];

/// Minimum passing `eval` statements per file (what the engine reaches today).
/// Tier-1 files must also have no failures at all.
const MIN_PASSED: [(&str, usize); 21] = [
    ("aggregators", 160),
    ("at_modifier", 78),
    ("collision", 2),
    ("functions", 431),
    ("histograms", 185),
    ("literals", 25),
    ("operators", 214),
    ("range_queries", 18),
    ("selectors", 31),
    ("staleness", 17),
    ("subquery", 34),
    ("trig_functions", 19),
    ("name_label_dropping", 30),
    ("native_histograms", 522),
    ("limit", 37),
    ("info", 53),
    ("duration_expression", 59),
    ("extended_vectors", 169),
    ("fill-modifier", 46),
    ("start_timestamps", 2),
    ("type_and_unit", 58),
];

fn min_passed(name: &str) -> usize {
    MIN_PASSED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .unwrap_or(0)
}

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promqltest")
}

fn run(name: &str) -> FileReport {
    let r = run_file(&conformance_dir().join(format!("{name}.test")));
    println!("{r}");
    if std::env::var("PROMQLTEST_VERBOSE").is_ok() {
        for f in &r.failures {
            println!("    {f}");
        }
    }
    r
}

#[test]
fn promqltest_conformance() {
    let dir = conformance_dir();
    if !dir.is_dir() {
        eprintln!(
            "conformance scripts not found at {}; skipping",
            dir.display()
        );
        return;
    }
    if let Ok(only) = std::env::var("PROMQLTEST_FILE") {
        run(&only);
        return;
    }
    let (mut passed, mut failed) = (0, 0);
    let mut regressions = Vec::new();
    for name in TIER1 {
        let r = run(name);
        passed += r.passed;
        failed += r.failed;
        let min = min_passed(name);
        if r.passed < min {
            regressions.push(format!(
                "{name}: {} passed, expected at least {min}",
                r.passed
            ));
        }
        if r.failed > 0 {
            regressions.push(format!("{name}: {} failed, expected none", r.failed));
        }
    }
    println!("tier 1 total: {passed} passed, {failed} failed");
    for name in OTHERS {
        let r = run(name);
        let min = min_passed(name);
        if r.passed < min {
            regressions.push(format!(
                "{name}: {} passed, expected at least {min}",
                r.passed
            ));
        }
    }
    assert!(
        regressions.is_empty(),
        "conformance regressions:\n{}",
        regressions.join("\n")
    );
}
