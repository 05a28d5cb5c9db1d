//! `argus promqltest` over Prometheus's conformance scripts (tier 1 must all pass).

use std::path::Path;
use std::process::Command;

const TIER1: &[&str] = &[
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

#[test]
fn promqltest_cli_passes_tier_1_and_reports_per_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promqltest");
    assert!(
        dir.is_dir(),
        "conformance scripts not found at {}",
        dir.display()
    );
    let files: Vec<_> = TIER1
        .iter()
        .map(|f| dir.join(format!("{f}.test")))
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_argus"))
        .arg("promqltest")
        .args(&files)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for f in &files {
        let line = text
            .lines()
            .find(|l| l.starts_with(&f.display().to_string()))
            .unwrap_or_else(|| panic!("no line for {}", f.display()));
        assert!(
            line.ends_with(" 0 failed") && line.contains(" passed, "),
            "{line}"
        );
    }
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 1244, "{last}");
    // A failing script makes the command fail and shows expected vs got.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.test");
    std::fs::write(&bad, "load 1m\n  m 1 2 3\n\neval instant at 1m m\n  m 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_argus"))
        .arg("promqltest")
        .arg(&bad)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("bad.test: 0 passed, 1 failed"), "{text}");
    assert!(text.trim_end().ends_with("0 passed, 1 failed"), "{text}");
}
