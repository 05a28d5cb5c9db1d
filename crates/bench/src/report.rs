//! Aggregation over runs and the Markdown report.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::gen::Workload;
use crate::queries::{QueryKind, QUERIES};
use crate::{MetricsArgs, Run, SysRun};

/// Nearest-rank percentile (q in [0, 1]); NaN for no values.
pub(crate) fn percentile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

fn min_med_max(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let med = if s.is_empty() {
        f64::NAN
    } else if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (
        s.first().copied().unwrap_or(f64::NAN),
        med,
        s.last().copied().unwrap_or(f64::NAN),
    )
}

/// A number with about 3 significant digits, thousands separated.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        let s = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if x < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{x:.3}")
    }
}

fn mmm(v: &[f64]) -> String {
    let (lo, med, hi) = min_med_max(v);
    if v.len() <= 1 {
        return num(med);
    }
    format!("{} ({} – {})", num(med), num(lo), num(hi))
}

pub(crate) fn sh(cmd: &str) -> String {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Median of the finite values (mean of the middle two for an even
/// count); NaN for none.
pub(crate) fn median(v: &[f64]) -> f64 {
    let s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    min_med_max(&s).1
}

/// "median (min – max)" of the finite values (over runs), or the one value.
pub(crate) fn over_runs(v: &[f64]) -> String {
    let s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    mmm(&s)
}

/// The command that reproduces a run: `ARGUS_BENCH_COMMAND` (set by
/// `bench/run`), else this process's arguments.
pub(crate) fn command() -> String {
    std::env::var("ARGUS_BENCH_COMMAND").unwrap_or_else(|_| {
        std::env::args()
            .map(|s| if s.contains(' ') { format!("'{s}'") } else { s })
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The "Machine: …" line of a report.
pub(crate) fn machine() -> String {
    format!(
        "Machine: {} · {} CPUs (`nproc`) · kernel {} · memory (`free -g`): {}",
        cpu_model(),
        sh("nproc"),
        sh("uname -r"),
        sh("free -g | awk '/^Mem:/ {print $2\" GiB total, \"$7\" GiB available\"}'")
    )
}

/// Argus's version for a report: the commit, and whether the tree had
/// uncommitted changes.
pub(crate) fn argus_version() -> String {
    format!(
        "`{}`{}",
        sh("git rev-parse --short HEAD"),
        if sh("git status --porcelain --untracked-files=no").is_empty() {
            ""
        } else {
            " (with uncommitted changes)"
        }
    )
}

type Row = (&'static str, fn(&SysRun, &Workload) -> f64);

pub(crate) fn render(a: &MetricsArgs, w: &Workload, runs: &[Run], prom_bin: &Path) -> String {
    let mut o = String::new();
    let command = std::env::var("ARGUS_BENCH_COMMAND").unwrap_or_else(|_| {
        std::env::args()
            .map(|s| if s.contains(' ') { format!("'{s}'") } else { s })
            .collect::<Vec<_>>()
            .join(" ")
    });
    let _ = writeln!(
        o,
        "## {} — metrics: {} active series × {} points ({} interval)\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        w.active_series(),
        w.points,
        a.interval
    );
    let _ = writeln!(o, "Command: `{command}`\n");
    let _ = writeln!(
        o,
        "Machine: {} · {} CPUs (`nproc`) · kernel {} · memory (`free -g`): {}\n",
        cpu_model(),
        sh("nproc"),
        sh("uname -r"),
        sh("free -g | awk '/^Mem:/ {print $2\" GiB total, \"$7\" GiB available\"}'")
    );
    let _ = writeln!(
        o,
        "Versions: Argus `{}`{} · {}\n",
        sh("git rev-parse --short HEAD"),
        if sh("git status --porcelain --untracked-files=no").is_empty() {
            ""
        } else {
            " (with uncommitted changes)"
        },
        sh(&format!("{} --version 2>&1 | head -1", prom_bin.display()))
    );
    let _ = writeln!(
        o,
        "Load: {} series created ({} churn every {} points), {} samples per system per run, remote write 1.0 ({} encoder), {} series × 1 sample per request, {} senders, seed {}. Argus `wal_fsync: {}`, `block_range: 2h`, `maintenance_interval: 5s`; Prometheus defaults plus `--web.enable-remote-write-receiver`. Each system ingests alone (the other idles); order alternates between runs. {} runs; cells are median (min – max) over runs; the ratio is Argus/Prometheus per run.\n",
        w.series_created(),
        a.churn,
        a.churn_every,
        w.total_samples(),
        a.encoder,
        a.batch,
        a.concurrency,
        a.seed,
        a.argus_fsync,
        runs.len()
    );
    let rows: Vec<Row> = vec![
        ("ingest throughput (samples/s)", |s, _| s.throughput()),
        ("server CPU-seconds per million samples", |s, _| {
            s.cpu_per_m()
        }),
        (
            "load generator CPU-seconds (same load, for reference)",
            |s, _| s.loadgen_cpu_s,
        ),
        ("peak RSS (MiB)", |s, _| s.peak_rss as f64 / 1048576.0),
        ("peak RSS per active series (bytes)", |s, w| {
            s.peak_rss as f64 / w.active_series() as f64
        }),
        ("RSS after ingest and block cutting (MiB)", |s, _| {
            s.rss_after as f64 / 1048576.0
        }),
        ("disk, blocks only (bytes/sample in blocks)", |s, _| {
            s.block_bytes as f64 / s.block_samples as f64
        }),
        (
            "disk, everything incl. WAL (bytes/sample ingested)",
            |s, _| s.all_bytes as f64 / s.samples_sent as f64,
        ),
        ("disk, WAL only (bytes/sample ingested)", |s, _| {
            s.wal_bytes as f64 / s.samples_sent as f64
        }),
        ("blocks on disk", |s, _| s.blocks as f64),
        ("samples in blocks", |s, _| s.block_samples as f64),
        ("samples acknowledged (load generator)", |s, _| {
            s.samples_sent as f64
        }),
        ("samples appended (server's own counter)", |s, _| {
            s.samples_appended
        }),
        ("query latency p50 (ms)", |s, _| {
            percentile(&s.query_lat, 0.5) * 1e3
        }),
        ("query latency p99 (ms)", |s, _| {
            percentile(&s.query_lat, 0.99) * 1e3
        }),
        ("restart until /-/ready (s)", |s, _| s.restart_s),
        ("long query count_over_time: RSS before (MiB)", |s, _| {
            s.long[0].idle_rss as f64 / 1048576.0
        }),
        (
            "long query count_over_time: peak RSS, alone (MiB)",
            |s, _| s.long[0].peak_one as f64 / 1048576.0,
        ),
        (
            "long query count_over_time: peak RSS, 8 at once (MiB)",
            |s, _| s.long[0].peak_eight as f64 / 1048576.0,
        ),
        ("long query count_over_time: latency alone (s)", |s, _| {
            s.long[0].one.secs
        }),
        ("long query last_over_time: RSS before (MiB)", |s, _| {
            s.long[1].idle_rss as f64 / 1048576.0
        }),
        (
            "long query last_over_time: peak RSS, alone (MiB)",
            |s, _| s.long[1].peak_one as f64 / 1048576.0,
        ),
        (
            "long query last_over_time: peak RSS, 8 at once (MiB)",
            |s, _| s.long[1].peak_eight as f64 / 1048576.0,
        ),
        ("long query last_over_time: latency alone (s)", |s, _| {
            s.long[1].one.secs
        }),
    ];
    let _ = writeln!(o, "| metric | Argus | Prometheus | Argus/Prometheus |");
    let _ = writeln!(o, "| --- | ---: | ---: | ---: |");
    for (name, f) in &rows {
        let av: Vec<f64> = runs.iter().map(|r| f(&r.argus, w)).collect();
        let pv: Vec<f64> = runs.iter().map(|r| f(&r.prom, w)).collect();
        let rv: Vec<f64> = av.iter().zip(&pv).map(|(x, y)| x / y).collect();
        let ratio = {
            let (lo, med, hi) = min_med_max(&rv);
            if rv.len() <= 1 {
                format!("{med:.2}")
            } else {
                format!("{med:.2} ({lo:.2} – {hi:.2})")
            }
        };
        let _ = writeln!(o, "| {name} | {} | {} | {ratio} |", mmm(&av), mmm(&pv));
    }
    let total_bytes = |f: fn(&SysRun) -> u64| -> String {
        let a: Vec<f64> = runs
            .iter()
            .map(|r| f(&r.argus) as f64 / 1048576.0)
            .collect();
        let p: Vec<f64> = runs.iter().map(|r| f(&r.prom) as f64 / 1048576.0).collect();
        format!("Argus {} MiB, Prometheus {} MiB", mmm(&a), mmm(&p))
    };
    let _ = writeln!(
        o,
        "\nDisk totals (allocated blocks, as `du`): blocks only {}; whole data directory {}; WAL only {}. Blocks only = Argus `<data>/objects` (its local object store), Prometheus data directory minus `wal/` and `chunks_head/`; WAL only = Argus `<data>/tenants/*/metrics/wal` (before per-signal directories, `<data>/tenants/*/wal`), Prometheus `<data>/wal` (snappy-compressed records; its `chunks_head/` is not counted), measured after ingest, before the restart.\n",
        total_bytes(|s| s.block_bytes),
        total_bytes(|s| s.all_bytes),
        total_bytes(|s| s.wal_bytes)
    );
    let incomplete: Vec<String> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            [("Argus", &r.argus), ("Prometheus", &r.prom)]
                .into_iter()
                .filter(|(_, s)| !s.compaction_done)
                .map(move |(n, _)| format!("run {}: {n}", i + 1))
        })
        .collect();
    if !incomplete.is_empty() {
        let _ = writeln!(
            o,
            "Block cutting had not settled within 5 minutes of the end of ingest in: {}.\n",
            incomplete.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "Long-range queries (each reads every raw sample of every series; instant, at the end of the data; each system alone, then 8 at once; peak RSS is the kernel's high-water mark reset before each part). `count_over_time` is the issue's `{}`, which Prometheus 2.42 refuses (it drops the metric name before the `sum`, so series differing only in their name collide: 422), so its Prometheus figures are those of a refused query; `last_over_time` is `{}`, which both evaluate fully (the name is kept): the fair comparison, run first (a server's RSS after a query is where the next one starts). Answers per run:\n",
        crate::longq::LONG_QUERIES[0].1.replace('|', "\\|"),
        crate::longq::LONG_QUERIES[1].1.replace('|', "\\|")
    );
    for (q, (name, _)) in crate::longq::LONG_QUERIES.iter().enumerate() {
        for (i, r) in runs.iter().enumerate() {
            for (n, s) in [("Argus", &r.argus), ("Prometheus", &r.prom)] {
                let _ = writeln!(
                    o,
                    "- {name}, run {}, {n}: alone {}; 8 at once: {}",
                    i + 1,
                    s.long[q].one.describe(),
                    s.long[q].describe_eight()
                );
            }
            let same = crate::longq::compare(&r.argus.long[q], &r.prom.long[q]);
            let _ = writeln!(o, "- {name}, run {}: {same}", i + 1);
        }
    }
    let _ = writeln!(o);
    let failed: Vec<String> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            [("Argus", &r.argus), ("Prometheus", &r.prom)]
                .into_iter()
                .filter(|(_, s)| s.failed_requests > 0)
                .map(move |(n, s)| {
                    format!(
                        "run {}: {n} {} failed requests (first: {})",
                        i + 1,
                        s.failed_requests,
                        s.first_error.clone().unwrap_or_default()
                    )
                })
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(o, "Failed writes: {}.\n", failed.join("; "));
    }
    let _ = writeln!(
        o,
        "Queries ({} PromQL expressions; range queries over the whole ingested span at a 60s step, instant queries at the end of the data; evaluation times at :30 of a minute and samples at 7.5 s past the 15 s grid, so no sample sits exactly on a window edge, where Prometheus 2.x (`[t-range, t]`) and Argus (Prometheus 3's `(t-range, t]`) differ by design; each result compared between the systems — same series, timestamps, values within 1e-9 relative — before {} timed repetitions on each). Median latency per query, median over runs:\n",
        QUERIES.len(),
        a.query_reps
    );
    let _ = writeln!(
        o,
        "| # | query | kind | Argus ms | Prometheus ms | ratio | results |"
    );
    let _ = writeln!(o, "| ---: | --- | --- | ---: | ---: | ---: | --- |");
    for (i, q) in QUERIES.iter().enumerate() {
        let av: Vec<f64> = runs.iter().map(|r| r.argus.per_query[i] * 1e3).collect();
        let pv: Vec<f64> = runs.iter().map(|r| r.prom.per_query[i] * 1e3).collect();
        let (_, am, _) = min_med_max(&av);
        let (_, pm, _) = min_med_max(&pv);
        let mism = runs
            .iter()
            .filter(|r| r.mismatches.iter().any(|m| m.0 == i))
            .count();
        let check = if mism == 0 {
            "equal".to_string()
        } else {
            format!("**MISMATCH** in {mism}/{} runs", runs.len())
        };
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {} | {:.2} | {check} |",
            i + 1,
            q.expr.replace('|', "\\|"),
            match q.kind {
                QueryKind::Range => "range",
                QueryKind::Instant => "instant",
            },
            num(am),
            num(pm),
            am / pm
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    let details: Vec<String> = runs
        .iter()
        .flat_map(|r| r.mismatches.iter())
        .filter(|m| seen.insert(m.0))
        .map(|(i, d)| format!("- q{}: {}", i + 1, d.replace('\n', " ")))
        .collect();
    if !details.is_empty() {
        let _ = writeln!(
            o,
            "\nMismatches (first difference, first run it occurred in):\n"
        );
        for d in details {
            let _ = writeln!(o, "{d}");
        }
    }
    o
}

/// Where the history of runs starts; everything above it is the intro and
/// the latest result of each benchmark.
const HISTORY: &str = "## History";

const INTRO: &str = "# Benchmarks\n\nMeasured with `bench/run metrics`, `bench/run logs`, `bench/run traces` and `bench/run ui` (crate `crates/bench`). The latest result of each benchmark comes first, one table each; the harness keeps it current. Below it, the history: every invocation's full report, appended by the harness, oldest first. Nothing here is copied from elsewhere.\n\n## Latest results\n";

/// Appends `text` (one run's report, headed `## <date> — <benchmark>`) to
/// the history in `path`, and replaces that benchmark's block under
/// "Latest results" (or adds one) with the report's heading, command and
/// first table.
pub(crate) fn append(path: &str, text: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    std::fs::write(path, with_run(&old, text))?;
    Ok(())
}

/// The file `doc` with the run `text` recorded (see [`append`]).
pub(crate) fn with_run(doc: &str, text: &str) -> String {
    let (head, history) = match doc.find(&format!("\n{HISTORY}\n")) {
        Some(i) => doc.split_at(i + 1),
        None if doc.trim().is_empty() => (INTRO, ""),
        // A file from before "Latest results": all of it is history.
        None => (
            INTRO,
            doc.split_once('\n').map(|(_, rest)| rest).unwrap_or(""),
        ),
    };
    let history = history
        .strip_prefix(HISTORY)
        .unwrap_or(history)
        .trim_start_matches('\n');
    let (key, block) = latest_block(text);
    let (open, close) = (
        format!("<!-- latest: {key} -->"),
        format!("<!-- /latest: {key} -->"),
    );
    let block = format!("{open}\n{block}{close}\n");
    let head = match (head.find(&open), head.find(&close)) {
        (Some(a), Some(b)) if a < b => {
            format!(
                "{}{block}{}",
                &head[..a],
                &head[b + close.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{}\n{block}", head.trim_end_matches('\n')),
    };
    format!(
        "{}\n\n{HISTORY}\n\n{}{}\n",
        head.trim_end_matches('\n'),
        history,
        text.trim_end_matches('\n')
    )
}

/// The benchmark a report is about (its heading after the date) and its
/// summary for "Latest results": heading, the lines up to and including its
/// first table, and a pointer to the full report.
fn latest_block(text: &str) -> (String, String) {
    let mut lines = text.lines();
    let heading = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim();
    let (date, what) = heading.split_once(" — ").unwrap_or(("", heading));
    let mut out = format!("### {what} ({date})\n");
    let mut in_table = false;
    for l in lines {
        if l.starts_with('|') {
            in_table = true;
        } else if in_table {
            break;
        }
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("\nFull report: \"{heading}\" under History.\n\n"));
    (what.to_string(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_go_to_the_history_and_replace_their_latest_block() {
        let run = |date: &str, v: &str| {
            format!("## {date} — metrics: 10 series\n\nCommand: `x`\n\n| a | b |\n| --- | --- |\n| 1 | {v} |\n\nQueries:\n\n| q |\n")
        };
        let other = "## d0 — micro\n\n| m |\n| --- |\n| 7 |\n";
        // A file from before "Latest results" keeps its runs as history.
        let doc = with_run("# Benchmarks\n\nold intro\n\n## old run\n", other);
        let doc = with_run(&doc, &run("d1", "v-one"));
        let doc = with_run(&doc, &run("d2", "v-two"));
        let (latest, history) = doc.split_once("\n## History\n").unwrap();
        assert!(latest.starts_with("# Benchmarks"));
        assert!(!latest.contains("old intro"));
        assert_eq!(
            latest
                .matches("<!-- latest: metrics: 10 series -->")
                .count(),
            1
        );
        assert!(latest.contains("### metrics: 10 series (d2)"));
        assert!(latest.contains("| 1 | v-two |") && !latest.contains("v-one"));
        assert!(!latest.contains("Queries:"), "only the first table");
        assert!(latest.contains("### micro (d0)") && latest.contains("| 7 |"));
        let order: Vec<usize> = ["## old run", "## d0", "## d1", "## d2"]
            .iter()
            .map(|h| history.find(h).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{history}");
    }

    #[test]
    fn stats() {
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.99), 4.0);
        assert_eq!(min_med_max(&[4.0, 1.0, 2.0, 3.0]), (1.0, 2.5, 4.0));
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(0.01234), "0.012");
        assert_eq!(num(12.34), "12.3");
    }
}
