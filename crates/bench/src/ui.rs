//! `argus-bench ui`: the web UI's measurements in headless Chromium, over
//! a release build. Each run starts Argus, sends the end-to-end fixture
//! (`crates/argus/tests/ui/fixture.mjs`) and runs the metrics, logs and
//! traces scenarios (`run.mjs`, with their own assertions), whose
//! measurements (page load, the 50-series × 10k-point chart's render and
//! hover, scrolling 5,000 log lines, the waterfall) are collected; the
//! report gives the median and range over runs beside the limits.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::report::{argus_version, command, machine, over_runs, sh};
use crate::server::{Kind, Server};

#[derive(clap::Args, Debug)]
pub(crate) struct UiArgs {
    /// Runs (a fresh server and browser each).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[arg(long, default_value = "target/release/argus")]
    argus_bin: PathBuf,
    /// The UI tests' directory (fixture.mjs, run.mjs, node_modules).
    #[arg(long, default_value = "crates/argus/tests/ui")]
    ui_dir: PathBuf,
    /// Where the data directories and screenshots go (a fresh temporary
    /// directory inside, deleted at the end).
    #[arg(long, default_value = "/tmp")]
    workdir: PathBuf,
    /// Results file (appended to); `-` to only print.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: String,
}

/// The measurements reported: key in `measurements.json`, what it is, the
/// issue's limit.
const ROWS: &[(&str, &str, &str)] = &[
    (
        "metrics.page_load",
        "metrics explorer page load, navigation → editor ready (ms)",
        "< 1000",
    ),
    (
        "metrics.chart_render",
        "50 series × 10k points: chart render (ms)",
        "interactive",
    ),
    (
        "metrics.hover_median",
        "50 series × 10k points: hover → tooltip, median of 20 moves (ms)",
        "interactive",
    ),
    (
        "metrics.hover_max",
        "50 series × 10k points: hover → tooltip, slowest of 20 moves (ms)",
        "< 100",
    ),
    (
        "metrics.legend_toggle",
        "50 series × 10k points: legend toggle → redrawn (ms)",
        "interactive",
    ),
    (
        "logs.bulk_scroll_p95_frame",
        "5,000 log lines: scroll to the end, p95 frame time (ms)",
        "smooth (< 50)",
    ),
    ("logs.tail_latency", "live tail: push → line shown (ms)", ""),
    (
        "traces.trace_render_ms",
        "trace view: load and draw the waterfall (ms)",
        "",
    ),
    (
        "traces.search_ms",
        "trace search: submit → results (ms)",
        "",
    ),
];

/// One run's measurements.
fn run_once(a: &UiArgs, bin: &Path, dir: &Path) -> Result<BTreeMap<String, f64>> {
    let client = reqwest::blocking::Client::new();
    let mut server = Server::new(
        Kind::Argus,
        bin,
        dir.to_path_buf(),
        "metrics_generator:\n  collection_interval: 1s\n  service_graph_wait: 1s\n",
    )?;
    server.start(&client)?;
    let base = server.url("");
    let result = (|| -> Result<BTreeMap<String, f64>> {
        let fixture = Command::new("node")
            .current_dir(&a.ui_dir)
            .args(["fixture.mjs", &base])
            .output()
            .context("running node fixture.mjs")?;
        if !fixture.status.success() {
            bail!(
                "fixture.mjs failed: {}",
                String::from_utf8_lossy(&fixture.stderr)
            );
        }
        let facts = dir.join("facts.json");
        std::fs::write(&facts, &fixture.stdout)?;
        let art = dir.join("artifacts");
        let out = Command::new("node")
            .current_dir(&a.ui_dir)
            .args([
                "run.mjs",
                "--base",
                &base,
                "--only",
                "metrics,logs,traces",
                "--facts",
            ])
            .arg(&facts)
            .arg("--artifacts")
            .arg(&art)
            .output()
            .context("running node run.mjs")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprint!("{stdout}");
        if !out.status.success() {
            bail!(
                "the UI scenarios failed:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(art.join("measurements.json"))?)?;
        Ok(m.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v["value"].as_f64()?)))
            .collect())
    })();
    server.stop()?;
    result
}

pub(crate) fn run(a: UiArgs) -> Result<()> {
    let bin = std::fs::canonicalize(&a.argus_bin).with_context(|| {
        format!(
            "{} (build with cargo build --release -p argus)",
            a.argus_bin.display()
        )
    })?;
    if !a.ui_dir.join("node_modules/playwright-core").is_dir() {
        bail!(
            "playwright-core is not installed: npm ci --prefix {}",
            a.ui_dir.display()
        );
    }
    std::fs::create_dir_all(&a.workdir)?;
    let tmp = tempfile::Builder::new()
        .prefix("argus-ui-bench-")
        .tempdir_in(&a.workdir)?;
    let mut runs = Vec::new();
    for i in 0..a.runs.max(1) {
        eprintln!("==> run {}/{}", i + 1, a.runs.max(1));
        runs.push(run_once(&a, &bin, &tmp.path().join(format!("run{i}")))?);
    }
    let text = render(&a, &runs);
    println!("{text}");
    if a.out != "-" {
        crate::report::append(&a.out, &text)?;
        eprintln!("==> appended to {}", a.out);
    }
    Ok(())
}

fn render(a: &UiArgs, runs: &[BTreeMap<String, f64>]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## {} — ui: metrics, logs and traces pages in headless Chromium\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'")
    );
    let _ = writeln!(o, "Command: `{}`\n", command());
    let _ = writeln!(o, "{}\n", machine());
    let playwright = std::fs::read(a.ui_dir.join("node_modules/playwright-core/package.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "Versions: Argus {} · {} · playwright-core {playwright} · Node.js {}\n",
        argus_version(),
        sh("chromium --version"),
        sh("node --version")
    );
    let _ = writeln!(
        o,
        "Setup: Argus release build on loopback with the end-to-end fixture (`crates/argus/tests/ui/fixture.mjs`); Debian's Chromium headless (`--disable-gpu`), 1440×900 at device pixel ratio 1; the metrics, logs and traces scenarios of `crates/argus/tests/ui/`, each asserting what it shows while it measures. The chart: `ui_perf_wave * on() group_left() (1.5 + sin(vector(time()) / 3000))` over 41.6 h at a 15 s step, 50 series × 9,985 points. {} runs; cells are median (min – max) over runs. No peer: these are the issue's limits, not ratios.\n",
        runs.len()
    );
    let _ = writeln!(
        o,
        "| measurement | Argus UI | limit |\n| --- | ---: | --- |"
    );
    for (key, what, limit) in ROWS {
        let v: Vec<f64> = runs.iter().filter_map(|r| r.get(*key).copied()).collect();
        if v.is_empty() {
            continue;
        }
        let _ = writeln!(o, "| {what} | {} | {limit} |", over_runs(&v));
    }
    o
}
