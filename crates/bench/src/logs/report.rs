//! The Markdown report of `argus-bench logs`: targets first (the table
//! that "Latest results" shows), then the measurements, the queries with
//! their SQL, and how it was measured.

use std::fmt::Write;

use super::corpus::{Corpus, NEEDLE, NEEDLE_LINES};
use super::push::Prepared;
use super::queries::{LogQuery, ALL};
use super::{ArgusRun, LogsArgs, Run};
use crate::report::num;

pub(crate) use crate::report::median;
use crate::report::{over_runs as mmm, sh};

const MIB: f64 = 1048576.0;

/// Per run, `f` of Argus's result (runs without Argus left out).
fn argus_vals(runs: &[Run], f: impl Fn(&ArgusRun) -> f64) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.argus.as_ref().map(&f))
        .collect()
}

/// Per run, `f` of the run where Argus ran, so ratios pair up.
fn ratio_vals(runs: &[Run], f: impl Fn(&ArgusRun, &Run) -> f64) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.argus.as_ref().map(|a| f(a, r)))
        .collect()
}

/// `x` with about 3 significant digits and `unit`, or "–".
fn times(x: f64, unit: &str) -> String {
    if x.is_finite() {
        format!("{}{unit}", num(x))
    } else {
        "–".into()
    }
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

pub(crate) fn render(
    a: &LogsArgs,
    c: &Corpus,
    gen_s: f64,
    prepared: Option<&Prepared>,
    qs: &[LogQuery],
    runs: &[Run],
) -> String {
    let m = &c.meta;
    let raw = m.raw_bytes as f64;
    let mut o = String::new();
    let command = crate::report::command();
    let _ = writeln!(
        o,
        "## {} — logs: {} raw, {} streams over {}{}\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        a.bytes,
        m.streams,
        a.span,
        if a.dry_run {
            " (dry run, no Argus)"
        } else {
            ""
        }
    );
    let _ = writeln!(o, "Command: `{command}`\n");
    let _ = writeln!(o, "{}\n", crate::report::machine());
    let duck_version = runs
        .first()
        .map(|r| r.duck.version.clone())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "Versions: Argus {} · {} · {} · DuckDB {duck_version} (Python)\n",
        crate::report::argus_version(),
        sh("zstd --version | head -1").trim_matches(|c: char| c == '*' || c == ' '),
        sh("grep --version | head -1")
    );
    // Targets.
    let med = |v: Vec<f64>| median(&v);
    let stored_vs_zstd = med(ratio_vals(runs, |x, r| {
        x.segment_bytes as f64 / r.zstd.compressed_bytes as f64
    }));
    let stored_vs_duck = med(ratio_vals(runs, |x, r| {
        x.segment_bytes as f64 / r.duck.file_bytes as f64
    }));
    let needle_speedup = med(ratio_vals(runs, |x, r| {
        median(&r.zstd.grep_zst_s) / median(&x.query_s[0])
    }));
    let vs_duck = |q: usize| {
        med(ratio_vals(runs, |x, r| {
            median(&x.query_s[q]) / median(&r.duck.query_s[q])
        }))
    };
    // Per core with the final flush: segments built after ingest are part
    // of its cost (at small sizes the whole corpus is still in the head).
    let per_core = med(argus_vals(runs, |x| raw / 1e6 / (x.cpu_s + x.flush_cpu_s)));
    let peak = med(argus_vals(runs, |x| {
        x.peak_rss_ingest.max(x.peak_rss_query) as f64
    }));
    let verdict = |ok: bool, v: f64| {
        if !v.is_finite() {
            "not measured"
        } else if ok {
            "met"
        } else {
            "**not met**"
        }
    };
    let _ = writeln!(o, "| target | measured (median of runs) | met? |");
    let _ = writeln!(o, "| --- | ---: | --- |");
    let rows: Vec<(String, String, &str)> = vec![
        (
            "stored bytes ≤ `zstd -3` file".into(),
            times(stored_vs_zstd, "×"),
            verdict(stored_vs_zstd <= 1.0, stored_vs_zstd),
        ),
        (
            "stored bytes ≤ 0.5× DuckDB's file".into(),
            times(stored_vs_duck, "×"),
            verdict(stored_vs_duck <= 0.5, stored_vs_duck),
        ),
        (
            "needle (a) ≥ 10× faster than `zstd -dc \\| grep -F`".into(),
            times(needle_speedup, "× faster"),
            verdict(needle_speedup >= 10.0, needle_speedup),
        ),
        (
            "(b) no slower than DuckDB".into(),
            times(vs_duck(1), "× DuckDB's time"),
            verdict(vs_duck(1) <= 1.0, vs_duck(1)),
        ),
        (
            "(c) no slower than DuckDB".into(),
            times(vs_duck(2), "× DuckDB's time"),
            verdict(vs_duck(2) <= 1.0, vs_duck(2)),
        ),
        (
            "(d) no slower than DuckDB".into(),
            times(vs_duck(3), "× DuckDB's time"),
            verdict(vs_duck(3) <= 1.0, vs_duck(3)),
        ),
        (
            "ingest ≥ 50 MB/s per core, final flush included (Loki's public figure: about 23)"
                .into(),
            format!("{} MB/s per core", num(per_core)),
            verdict(per_core >= 50.0, per_core),
        ),
        (
            "peak RSS ≤ 1 GiB".into(),
            format!("{} MiB", num(peak / MIB)),
            verdict(peak <= 1024.0 * MIB, peak),
        ),
    ];
    for (t, v, ok) in rows {
        let _ = writeln!(o, "| {t} | {v} | {ok} |");
    }
    let _ = writeln!(o);
    // Corpus and load.
    let _ = writeln!(
        o,
        "Corpus: {} lines, {} bytes raw (lines and newlines; MB = 10⁶ bytes), generated in {:.1}s (seed {}): {} nginx access lines, {} JSON application lines (`trace_id`, `span_id`, `status`, `path`, `duration_ms`), {} syslog lines; {} streams labelled `service_name`, `namespace`, `pod`, `job` (access/app/syslog), `level`, Zipf-like volumes; ~200 request paths (Zipf); about 2% 5xx; timestamps over {} in order per stream, interleaved across streams. The token `{NEEDLE}` is in exactly {NEEDLE_LINES} lines. The `zstd`/`grep` reference reads the same lines as one file (without stream labels or separate timestamps: access and syslog lines carry their own time); DuckDB loads them with their timestamp and labels as columns.\n",
        m.lines,
        m.raw_bytes,
        gen_s,
        m.seed,
        m.lines_per_kind[0],
        m.lines_per_kind[1],
        m.lines_per_kind[2],
        m.streams,
        a.span
    );
    if let Some(p) = prepared {
        let _ = writeln!(
            o,
            "Load: Loki push (`POST /loki/api/v1/push`, snappy-compressed protobuf, `application/x-protobuf`), {} requests of about {} of lines ({:.1} MB compressed in all), {} concurrent senders (a stream always on the same sender, in order), cut before the clock starts; a request answered 429 or 5xx is sent again after a backoff (0.5 s, doubling up to 5 s, 10 attempts), as Promtail and Alloy do. Argus `wal_fsync: {}`, logs defaults (`max_head_age: 15m`, `flush_size: 128 MiB`, `max_head_size: 256 MiB`) while ingesting; then `POST /flush` (Loki's ingester endpoint; it answers once the rest of the head is written into segments, uploaded and installed), and the segments are measured once compaction has settled (segments, WAL and staging area unchanged for 20 s). Per-core figures divide by Argus's CPU time (utime + stime from `/proc/<pid>/stat`) during ingest, and, \"final flush included\", plus its CPU time during `POST /flush` — the target uses the latter; compaction's CPU (merges run during ingest count in the ingest CPU; those after it until settled are reported on their own, and in the row that includes them); peak RSS is `VmHWM` during ingest and after the flush, compaction and the queries. {} runs, each with a fresh data directory; cells are median (min – max) over runs.\n",
            p.requests,
            a.batch,
            p.body_bytes as f64 / 1e6,
            a.concurrency,
            a.argus_fsync,
            runs.len()
        );
    }
    let _ = writeln!(o, "| metric | Argus | `zstd -3` / `grep` | DuckDB |");
    let _ = writeln!(o, "| --- | ---: | ---: | ---: |");
    let zv = |f: &dyn Fn(&super::side::ZstdRun) -> f64| {
        runs.iter().map(|r| f(&r.zstd)).collect::<Vec<_>>()
    };
    let dv = |f: &dyn Fn(&super::side::DuckRun) -> f64| {
        runs.iter().map(|r| f(&r.duck)).collect::<Vec<_>>()
    };
    let av = |f: &dyn Fn(&ArgusRun) -> f64| mmm(&argus_vals(runs, f));
    let table: Vec<(&str, String, String, String)> = vec![
        (
            "ingest / load time (s)",
            av(&|x| x.ingest_s),
            mmm(&zv(&|z| z.compress_s)),
            mmm(&dv(&|d| d.load_s)),
        ),
        (
            "ingest MB/s (wall)",
            av(&|x| raw / 1e6 / x.ingest_s),
            mmm(&zv(&|z| z.compress_s)
                .iter()
                .map(|s| raw / 1e6 / s)
                .collect::<Vec<_>>()),
            mmm(&dv(&|d| d.load_s)
                .iter()
                .map(|s| raw / 1e6 / s)
                .collect::<Vec<_>>()),
        ),
        (
            "ingest lines/s (wall)",
            av(&|x| m.lines as f64 / x.ingest_s),
            "".into(),
            "".into(),
        ),
        (
            "Argus CPU during ingest (s)",
            av(&|x| x.cpu_s),
            "".into(),
            "".into(),
        ),
        (
            "ingest MB/s per core",
            av(&|x| raw / 1e6 / x.cpu_s),
            "".into(),
            "".into(),
        ),
        (
            "ingest lines/s per core",
            av(&|x| m.lines as f64 / x.cpu_s),
            "".into(),
            "".into(),
        ),
        (
            "ingest MB/s per core, final flush included",
            av(&|x| raw / 1e6 / (x.cpu_s + x.flush_cpu_s)),
            "".into(),
            "".into(),
        ),
        (
            "ingest lines/s per core, final flush included",
            av(&|x| m.lines as f64 / (x.cpu_s + x.flush_cpu_s)),
            "".into(),
            "".into(),
        ),
        (
            "ingest MB/s per core, final flush and compaction included",
            av(&|x| raw / 1e6 / (x.cpu_s + x.flush_cpu_s + x.settle_cpu_s)),
            "".into(),
            "".into(),
        ),
        (
            "push retries (429 or 5xx, retried after a backoff)",
            av(&|x| x.retries as f64),
            "".into(),
            "".into(),
        ),
        (
            "load generator CPU (s)",
            av(&|x| x.loadgen_cpu_s),
            "".into(),
            "".into(),
        ),
        (
            "peak RSS, ingest (MiB; DuckDB: load and queries)",
            av(&|x| x.peak_rss_ingest as f64 / MIB),
            "".into(),
            mmm(&dv(&|d| d.peak_rss as f64 / MIB)),
        ),
        (
            "peak RSS, flush + compaction + queries (MiB)",
            av(&|x| x.peak_rss_query as f64 / MIB),
            "".into(),
            "".into(),
        ),
        (
            "WAL after ingest (MiB)",
            av(&|x| x.wal_bytes_ingest as f64 / MIB),
            "".into(),
            "".into(),
        ),
        (
            "final flush (`POST /flush`): time (s) / CPU (s)",
            format!("{} / {}", av(&|x| x.flush_s), av(&|x| x.flush_cpu_s)),
            "".into(),
            "".into(),
        ),
        (
            "compaction until settled: time (s) / CPU (s)",
            format!("{} / {}", av(&|x| x.settle_s), av(&|x| x.settle_cpu_s)),
            "".into(),
            "".into(),
        ),
        (
            "stored bytes (MiB)",
            av(&|x| x.segment_bytes as f64 / MIB),
            mmm(&zv(&|z| z.compressed_bytes as f64 / MIB)),
            mmm(&dv(&|d| d.file_bytes as f64 / MIB)),
        ),
        (
            "stored / raw",
            av(&|x| x.segment_bytes as f64 / raw),
            mmm(&zv(&|z| z.compressed_bytes as f64 / raw)),
            mmm(&dv(&|d| d.file_bytes as f64 / raw)),
        ),
        (
            "segment files",
            av(&|x| x.segment_files as f64),
            "".into(),
            "".into(),
        ),
        (
            "WAL after the flush (MiB)",
            av(&|x| x.wal_bytes as f64 / MIB),
            "".into(),
            "".into(),
        ),
        (
            "whole data directory (MiB)",
            av(&|x| x.data_bytes as f64 / MIB),
            "".into(),
            "".into(),
        ),
        (
            "needle: `zstd -dc \\| grep -F` / `grep -F` on the raw file (ms)",
            "".into(),
            format!(
                "{} / {}",
                mmm(&zv(&|z| median(&z.grep_zst_s) * 1e3)),
                mmm(&zv(&|z| median(&z.grep_raw_s) * 1e3))
            ),
            "".into(),
        ),
    ];
    for (name, x, z, d) in table {
        let _ = writeln!(o, "| {name} | {x} | {z} | {d} |");
    }
    let _ = writeln!(
        o,
        "\nStored bytes: Argus `<data>/objects/tenants/anonymous/logs/` (segments, allocated blocks as `du`; the WAL is reported apart), the `.zst` file, the DuckDB file after `CHECKPOINT`.\n"
    );
    // Queries.
    let _ = writeln!(
        o,
        "Queries over the whole range (`GET /loki/api/v1/query_range`, start and end on whole minutes around the corpus), after one untimed run, {} timed repetitions each; DuckDB runs the equivalent SQL ({} repetitions, default threads, results fetched) on `logs(ts TIMESTAMP, service_name, namespace, pod, job, level, line VARCHAR)`. Latency is the median over repetitions, then over runs. Argus stats are from the answer's `stats` (first run).\n",
        a.query_reps, a.query_reps
    );
    let _ = writeln!(
        o,
        "| q | LogQL | Argus ms | DuckDB ms | Argus/DuckDB | Argus results | DuckDB rows | bytes processed | lines processed | compressed bytes read |"
    );
    let _ = writeln!(
        o,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (i, q) in qs.iter().enumerate() {
        let am = argus_vals(runs, |x| median(&x.query_s[i]) * 1e3);
        let dm: Vec<f64> = runs
            .iter()
            .map(|r| median(&r.duck.query_s[i]) * 1e3)
            .collect();
        let ratio = ratio_vals(runs, |x, r| {
            median(&x.query_s[i]) / median(&r.duck.query_s[i])
        });
        let first = runs
            .iter()
            .find_map(|r| r.argus.as_ref().and_then(|x| x.answers[i].clone()));
        let err = runs
            .iter()
            .find_map(|r| r.argus.as_ref().and_then(|x| x.errors[i].clone()));
        let cell = |f: fn(&super::queries::Answer) -> u64| {
            first.as_ref().map_or("–".to_string(), |x| num(f(x) as f64))
        };
        let results = match (&first, &err) {
            (Some(x), _) if q.step_s.is_some() => {
                format!("{} series (sum {})", x.results, num(x.value_sum))
            }
            (Some(x), _) => x.results.to_string(),
            (None, Some(e)) => format!(
                "**failed**: {}",
                esc(&e.chars().take(120).collect::<String>())
            ),
            (None, None) => "–".into(),
        };
        let _ = writeln!(
            o,
            "| ({}) {} | `{}` | {} | {} | {} | {results} | {} | {} | {} | {} |",
            q.name,
            q.what,
            esc(&q.logql),
            mmm(&am),
            mmm(&dm),
            mmm(&ratio),
            runs.first()
                .and_then(|r| r.duck.query_rows.get(i))
                .map_or("–".into(), |n| n.to_string()),
            cell(|x| x.bytes_processed),
            cell(|x| x.lines_processed),
            cell(|x| x.compressed_bytes),
        );
    }
    let _ = writeln!(
        o,
        "\nThe needle is also timed as `zstd -dc lines.log.zst | grep -F '{NEEDLE}'` ({} matches) in the table above. `{ALL}` selects every stream. Argus (b) counted {} lines in all (the corpus has {}); DuckDB counted {}.\n",
        runs.first().map_or(0, |r| r.zstd.grep_matches),
        argus_vals(runs, |x| x.answers.get(1).and_then(|a| a.as_ref()).map_or(f64::NAN, |a| a.value_sum))
            .first()
            .map_or("–".into(), |v| num(*v)),
        m.lines,
        runs.first().and_then(|r| r.duck.query_sum.get(1)).map_or("–".into(), |v| num(*v)),
    );
    let _ = writeln!(o, "DuckDB's SQL:\n");
    for q in qs {
        let _ = writeln!(o, "- ({}) `{}`", q.name, q.sql);
    }
    let _ = writeln!(o);
    let failed: Vec<String> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let mut notes = Vec::new();
            if let Some(x) = &r.argus {
                if x.failed > 0 {
                    notes.push(format!(
                        "{} of {} push requests failed (first: {})",
                        x.failed,
                        x.requests,
                        esc(x.first_error.as_deref().unwrap_or(""))
                    ));
                }
                if !x.flush_settled {
                    notes
                        .push("the segments had not settled within 30 minutes of the flush".into());
                }
            }
            if let Some(e) = &r.duck.error {
                notes.push(format!("DuckDB failed: {}", esc(e)));
            }
            (!notes.is_empty()).then(|| format!("run {}: {}", i + 1, notes.join("; ")))
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(o, "Problems: {}.\n", failed.join(". "));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(mmm(&[1.0, 3.0, 2.0]), "2.00 (1.00 – 3.00)");
    }
}
