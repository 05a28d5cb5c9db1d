//! Running a DuckDB script in Python (the `duckdb` package, which
//! `bench/run` installs with pip): the script reads a JSON configuration on
//! stdin and prints its answer as one JSON line last. Shared by the `logs`
//! and `traces` benchmarks.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Runs `script` with `python`, `cfg` on its stdin; the last stdout line
/// that starts with `{` is the answer.
pub(crate) fn run(
    python: &str,
    script: &str,
    cfg: &serde_json::Value,
) -> Result<serde_json::Value> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {python}"))?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(cfg.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "DuckDB script failed ({}); is the duckdb package installed (`python3 -m pip install duckdb`)? {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The answer is the last line (DuckDB may print other things first).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(last).with_context(|| {
        format!(
            "DuckDB output: {}",
            stdout.chars().take(500).collect::<String>()
        )
    })
}

/// A JSON array of numbers.
pub(crate) fn f64s(x: &serde_json::Value) -> Vec<f64> {
    x.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default()
}

/// A JSON array of arrays of numbers.
pub(crate) fn f64s2(x: &serde_json::Value) -> Vec<Vec<f64>> {
    x.as_array()
        .map(|a| a.iter().map(f64s).collect())
        .unwrap_or_default()
}

/// A JSON array of counts.
pub(crate) fn u64s(x: &serde_json::Value) -> Vec<u64> {
    x.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default()
}
