//! The Markdown report of `argus-bench traces`: targets first (the table
//! that "Latest results" shows), then the load, the measurements, the
//! queries beside DuckDB with its SQL, and any problem seen.

use std::fmt::Write;

use super::duck::{count_sql, limited_sql};
use super::push::Prepared;
use super::queries::{Search, BY_ID_SQL, LIMIT};
use super::{ArgusRun, Run, TracesArgs};
use crate::report::{median, num, over_runs as mmm, percentile, sh};

const MIB: f64 = 1048576.0;

/// Per run, `f` of the run.
fn vals(runs: &[Run], f: impl Fn(&Run) -> f64) -> Vec<f64> {
    runs.iter().map(f).collect()
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

fn verdict(ok: bool, v: f64) -> &'static str {
    if !v.is_finite() {
        "not measured"
    } else if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// Milliseconds of a quantile of `v` (seconds), NaN for none.
fn ms(v: &[f64], q: f64) -> f64 {
    percentile(v, q) * 1e3
}

/// Argus's and DuckDB's timings of query `i` (0: trace by id, then the
/// searches) in a run.
fn times(r: &Run, i: usize) -> (&[f64], &[f64]) {
    fn d(v: Option<&Vec<f64>>) -> &[f64] {
        v.map_or(&[], Vec::as_slice)
    }
    if i == 0 {
        (&r.argus.by_id_s, &r.duck.by_id_s)
    } else {
        (
            d(r.argus.searches.get(i - 1).map(|s| &s.secs)),
            d(r.duck.search_s.get(i - 1)),
        )
    }
}

pub(crate) fn render(a: &TracesArgs, p: &Prepared, searches: &[Search], runs: &[Run]) -> String {
    let n = p.spans as f64;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## {} — traces: {} spans over {}{}\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        a.spans,
        a.window,
        if a.no_metrics_generator {
            ", metrics generator off"
        } else {
            ""
        }
    );
    let _ = writeln!(o, "Command: `{}`\n", crate::report::command());
    let _ = writeln!(o, "{}\n", crate::report::machine());
    let duck_version = runs
        .first()
        .map(|r| r.duck.version.clone())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "Versions: Argus {} · DuckDB {duck_version} (Python)\n",
        crate::report::argus_version()
    );
    // Targets.
    let med = |v: Vec<f64>| median(&v);
    let per_core = med(vals(runs, |r| n / (r.argus.cpu_s + r.argus.flush_cpu_s)));
    let bps = med(vals(runs, |r| r.argus.segment_bytes as f64 / n));
    let vs_duck = med(vals(runs, |r| {
        r.argus.segment_bytes as f64 / r.duck.file_bytes as f64
    }));
    let by_id_p99 = med(vals(runs, |r| ms(&r.argus.by_id_s, 0.99)));
    let search_idx = |name: &str| searches.iter().position(|s| s.name == name);
    let p99_of = |i: Option<usize>| {
        i.map_or(f64::NAN, |i| {
            med(vals(runs, |r| ms(times(r, i + 1).0, 0.99)))
        })
    };
    let ratio_of = |i: usize| {
        med(vals(runs, |r| {
            let (x, d) = times(r, i);
            median(x) / median(d)
        }))
    };
    let mut rows: Vec<(String, String, &str)> = vec![
        (
            "ingest ≥ 50,000 spans/s per core, final flush included".into(),
            format!("{} spans/s per core", num(per_core)),
            verdict(per_core >= 50_000.0, per_core),
        ),
        (
            "stored ≤ 40 bytes per span".into(),
            format!("{} B/span", num(bps)),
            verdict(bps <= 40.0, bps),
        ),
        (
            "stored bytes ≤ 0.5× DuckDB's file".into(),
            format!("{}×", num(vs_duck)),
            verdict(vs_duck <= 0.5, vs_duck),
        ),
        (
            "trace by id p99 < 100 ms".into(),
            format!("{} ms", num(by_id_p99)),
            verdict(by_id_p99 < 100.0, by_id_p99),
        ),
    ];
    let nothing = p99_of(search_idx("nothing"));
    rows.push((
        "a search that matches nothing < 100 ms (p99)".into(),
        format!("{} ms", num(nothing)),
        verdict(nothing < 100.0, nothing),
    ));
    for (i, s) in searches.iter().enumerate().filter(|(_, s)| !s.empty) {
        let x = ratio_of(i + 1);
        rows.push((
            format!("{} search faster than DuckDB (median)", s.name),
            format!("{}× DuckDB's time", num(x)),
            verdict(x < 1.0, x),
        ));
    }
    let _ = writeln!(o, "| target | measured (median of runs) | met? |");
    let _ = writeln!(o, "| --- | ---: | --- |");
    for (t, v, ok) in rows {
        let _ = writeln!(o, "| {t} | {v} | {ok} |");
    }
    let _ = writeln!(o);
    // Load.
    let _ = writeln!(
        o,
        "Load: {} spans in {} traces ({:.1} spans per trace; {} traces, {:.1}%, with an error status) from the bench's trace generator (seed {}: a shop of 12 services, requests fanning out over server and client spans with database calls at the leaves, about 500 bytes of span attributes, resources with Kubernetes and SDK attributes, 2% failing traces, 1% slow outliers), starting over the {} before the load was generated. Sent over OTLP/HTTP (`POST /v1/traces`, protobuf `ExportTraceServiceRequest`, compression {}) in {} requests of whole traces, about {} spans each, grouped by resource ({:.1} MB of protobuf, {:.1} MB on the wire), traces in time order, {} concurrent senders; generated and encoded before the clock starts ({:.1}s); a request answered 429 or 5xx is sent again after a backoff (0.5 s, doubling up to 5 s, 10 attempts), as the OpenTelemetry Collector's exporters do. Argus `wal_fsync: {}`, traces store defaults (`flush_size: 128 MiB`, `max_head_size: 256 MiB`, `max_head_age: 15m`), metrics generator {}; then `POST /flush` (answers once the heads are written into segments, uploaded and installed). Per-core figures divide spans by Argus's CPU time (utime + stime from `/proc/<pid>/stat`) during ingest, and, \"final flush included\", plus its CPU time during `POST /flush` (the target uses the latter); peak RSS is `VmHWM`. {} runs, each with a fresh data directory; cells are median (min – max) over runs.\n",
        p.spans,
        p.traces,
        n / p.traces as f64,
        p.error_traces,
        100.0 * p.error_traces as f64 / p.traces as f64,
        a.seed,
        a.window,
        p.compression.name(),
        p.requests,
        a.batch_spans,
        p.proto_bytes as f64 / 1e6,
        p.wire_bytes as f64 / 1e6,
        a.concurrency,
        p.gen_s,
        a.argus_fsync,
        if a.no_metrics_generator {
            "**off** (`metrics_generator: {enabled: false}`: the store alone)"
        } else {
            "on (span metrics and service graphs from every span, Argus's default)"
        },
        runs.len()
    );
    let av = |f: &dyn Fn(&ArgusRun) -> f64| mmm(&vals(runs, |r| f(&r.argus)));
    let dv = |f: &dyn Fn(&super::duck::DuckRun) -> f64| mmm(&vals(runs, |r| f(&r.duck)));
    let table: Vec<(&str, String, String)> = vec![
        (
            "ingest time (s); DuckDB: load",
            av(&|x| x.ingest_s),
            dv(&|d| d.load_s),
        ),
        (
            "ingest spans/s (wall)",
            av(&|x| n / x.ingest_s),
            dv(&|d| n / d.load_s),
        ),
        (
            "Argus CPU during ingest (s)",
            av(&|x| x.cpu_s),
            String::new(),
        ),
        (
            "ingest spans/s per core",
            av(&|x| n / x.cpu_s),
            String::new(),
        ),
        (
            "ingest spans/s per core, final flush included",
            av(&|x| n / (x.cpu_s + x.flush_cpu_s)),
            String::new(),
        ),
        (
            "final flush (`POST /flush`): time (s) / CPU (s)",
            format!("{} / {}", av(&|x| x.flush_s), av(&|x| x.flush_cpu_s)),
            String::new(),
        ),
        (
            "push retries (429 or 5xx, retried after a backoff)",
            av(&|x| x.retries as f64),
            String::new(),
        ),
        (
            "load generator CPU (s)",
            av(&|x| x.loadgen_cpu_s),
            String::new(),
        ),
        (
            "peak RSS, ingest (MiB; DuckDB: load and queries)",
            av(&|x| x.peak_rss_ingest as f64 / MIB),
            dv(&|d| d.peak_rss as f64 / MIB),
        ),
        (
            "peak RSS, flush + queries (MiB)",
            av(&|x| x.peak_rss_query as f64 / MIB),
            String::new(),
        ),
        (
            "traces WAL after ingest (MiB)",
            av(&|x| x.wal_bytes_ingest as f64 / MIB),
            String::new(),
        ),
        (
            "stored bytes (MiB): segments; DuckDB: its file",
            av(&|x| x.segment_bytes as f64 / MIB),
            dv(&|d| d.file_bytes as f64 / MIB),
        ),
        (
            "stored bytes per span",
            av(&|x| x.segment_bytes as f64 / n),
            dv(&|d| d.file_bytes as f64 / n),
        ),
        (
            "… of which `data.parquet` (bytes per span)",
            av(&|x| x.parquet_bytes as f64 / n),
            String::new(),
        ),
        ("segments", av(&|x| x.segments as f64), String::new()),
        (
            "Argus / DuckDB stored bytes",
            mmm(&vals(runs, |r| {
                r.argus.segment_bytes as f64 / r.duck.file_bytes as f64
            })),
            String::new(),
        ),
        (
            "traces WAL after the flush (MiB)",
            av(&|x| x.wal_bytes as f64 / MIB),
            String::new(),
        ),
        (
            "whole data directory (MiB, incl. the metrics the generator wrote)",
            av(&|x| x.data_bytes as f64 / MIB),
            String::new(),
        ),
        ("rows", String::new(), dv(&|d| d.rows as f64)),
    ];
    let _ = writeln!(o, "| metric | Argus | DuckDB |");
    let _ = writeln!(o, "| --- | ---: | ---: |");
    for (name, x, d) in table {
        let _ = writeln!(o, "| {name} | {x} | {d} |");
    }
    let _ = writeln!(
        o,
        "\nStored bytes: Argus's segments after the flush, the sizes of each segment's `data.parquet`, `index` and `meta.json` under `<data>/objects/tenants/anonymous/traces/blocks/` (the WAL, emptied by the flush, is reported apart); DuckDB's database file after `CHECKPOINT`, holding the same rows and columns, every parent as its id: `CREATE TABLE spans AS` the rows of `read_parquet([<every segment's data.parquet>], union_by_name = true, filename = true, file_row_number = true)` without `parent_row`, their `parent_span_id` or, for a parent Argus writes as a row of the trace (`parent_row`), the id of the span at that row (a self-join on file and row number) — trace, span and parent ids as BLOBs, `start`, `duration`, `name`, `service`, `kind`, `status`, the encoded `attrs`, `events`, `links`, and Argus's per-attribute columns `span.<key>` — loaded in the segments' order (by trace id).\n"
    );
    // Queries.
    let _ = writeln!(
        o,
        "Queries without a time range, after the flush. Trace by id: `GET /api/v2/traces/<id>`, {} lookups of different traces picked at random among those sent (after one untimed lookup), each answer checked to hold the trace's spans; DuckDB runs `{BY_ID_SQL}` for the same ids. Searches: `GET /api/search?q=<TraceQL>&limit={LIMIT}`, one untimed run then {} timed (the untimed run's time is the last column: Argus's cache of decoded columns, `traces.cache_size`, then holds only what the queries before it read, and the timed runs find there what it read; DuckDB's data is in its memory from the load); DuckDB runs the SQL below as many times (default threads, results fetched; `LIMIT {LIMIT}` on the distinct matching trace ids; Argus answers each trace's root, duration and matching spans, DuckDB only the ids). The count of all matching traces is Argus's answer with `limit=1000000` (first run) beside DuckDB's `count(*)` of the ids. p50 and p99 are nearest-rank over the repetitions, then the median over runs.\n",
        a.by_id_reps(),
        a.search_reps(),
    );
    let _ = writeln!(
        o,
        "| query | Argus p50 ms | Argus p99 ms | DuckDB p50 ms | DuckDB p99 ms | Argus/DuckDB (p50) | Argus traces (limit {LIMIT}) | matching traces: Argus / DuckDB | inspected traces / MB | Argus first run ms (cold cache) |"
    );
    let _ = writeln!(
        o,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let q_row = |i: usize| {
        let x50 = mmm(&vals(runs, |r| ms(times(r, i).0, 0.5)));
        let x99 = mmm(&vals(runs, |r| ms(times(r, i).0, 0.99)));
        let d50 = mmm(&vals(runs, |r| ms(times(r, i).1, 0.5)));
        let d99 = mmm(&vals(runs, |r| ms(times(r, i).1, 0.99)));
        let ratio = mmm(&vals(runs, |r| {
            let (x, d) = times(r, i);
            median(x) / median(d)
        }));
        format!("{x50} | {x99} | {d50} | {d99} | {ratio}")
    };
    let _ = writeln!(
        o,
        "| trace by id | {} | all {} spans | – | – | – |",
        q_row(0),
        if runs
            .iter()
            .all(|r| r.argus.by_id_wrong.is_empty() && r.argus.by_id_error.is_none())
        {
            "with their"
        } else {
            "**not** with their"
        }
    );
    let first = runs.first();
    for (i, s) in searches.iter().enumerate() {
        let sr = first.and_then(|r| r.argus.searches.get(i));
        let got = sr
            .and_then(|x| x.first.as_ref())
            .map_or("–".into(), |x| x.traces.to_string());
        let all = sr
            .and_then(|x| x.all.as_ref())
            .map_or("–".into(), |x| x.traces.to_string());
        let dc = first
            .and_then(|r| r.duck.search_count.get(i))
            .map_or("–".into(), u64::to_string);
        let insp = sr.and_then(|x| x.first.as_ref()).map_or("–".into(), |x| {
            format!(
                "{} / {}",
                num(x.inspected_traces as f64),
                num(x.inspected_bytes as f64 / 1e6)
            )
        });
        // The untimed first run: the cache of decoded columns empty.
        let cold = mmm(&vals(runs, |r| {
            r.argus
                .searches
                .get(i)
                .and_then(|x| x.first.as_ref())
                .map_or(f64::NAN, |x| x.secs * 1e3)
        }));
        let _ = writeln!(
            o,
            "| ({}) {}: `{}` | {} | {got} | {all} / {dc} | {insp} | {cold} |",
            s.name,
            s.what,
            esc(s.traceql),
            q_row(i + 1)
        );
    }
    let _ = writeln!(o, "\nDuckDB's SQL (table `spans`; `status` 2 is error):\n");
    let _ = writeln!(o, "- trace by id: `{BY_ID_SQL}` (the hex id as parameter)");
    for s in searches {
        let _ = writeln!(o, "- ({}): `{}`", s.name, limited_sql(s));
    }
    let _ = writeln!(
        o,
        "\nThe count of matching traces is `{}` for each (shown for the first).",
        searches
            .first()
            .map_or(String::new(), |s| count_sql(s).replace('|', "\\|"))
    );
    let _ = writeln!(
        o,
        "\nThe structural query's `>>` (descendant) is a recursive CTE in DuckDB: the children of every `frontend` span, then their children, and so on (`UNION ALL`: spans form trees), keeping those with an error status.\n"
    );
    let problems = problems(searches, runs);
    if !problems.is_empty() {
        let _ = writeln!(o, "Problems: {}.\n", problems.join(". "));
    }
    o
}

/// What went wrong in the runs, for the report.
fn problems(searches: &[Search], runs: &[Run]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, r) in runs.iter().enumerate() {
        let x = &r.argus;
        let mut notes = Vec::new();
        if x.failed > 0 {
            notes.push(format!(
                "{} of {} requests failed (first: {})",
                x.failed,
                x.requests,
                esc(x.first_error.as_deref().unwrap_or(""))
            ));
        }
        for (id, got, sent) in x.by_id_wrong.iter().take(3) {
            notes.push(format!(
                "trace {id} answered with {got} spans, {sent} were sent"
            ));
        }
        if let Some(e) = &x.by_id_error {
            notes.push(format!("trace by id failed: {}", esc(e)));
        }
        if r.duck.by_id_wrong > 0 {
            notes.push(format!(
                "DuckDB returned the wrong span count for {} of the lookups",
                r.duck.by_id_wrong
            ));
        }
        for (i, s) in searches.iter().enumerate() {
            let Some(sr) = x.searches.get(i) else {
                continue;
            };
            if let Some(e) = &sr.error {
                notes.push(format!("({}) failed: {}", s.name, esc(e)));
            }
            if let Some(f) = &sr.first {
                if s.empty != (f.traces == 0) {
                    notes.push(format!(
                        "({}) answered {} traces, {} expected",
                        s.name,
                        f.traces,
                        if s.empty { "none" } else { "some" }
                    ));
                }
            }
            if let (Some(rows), Some(dc)) = (r.duck.search_rows.get(i), r.duck.search_count.get(i))
            {
                if *rows != (*dc).min(LIMIT as u64) {
                    notes.push(format!(
                        "({}) DuckDB's limited query returned {rows} of {dc} traces",
                        s.name
                    ));
                }
            }
            if let (Some(f), Some(all)) = (&sr.first, &sr.all) {
                if f.traces != all.traces.min(LIMIT as u64) {
                    notes.push(format!(
                        "({}) Argus returned {} traces with limit {LIMIT}, {} in all",
                        s.name, f.traces, all.traces
                    ));
                }
            }
            if let (Some(all), Some(dc)) = (&sr.all, r.duck.search_count.get(i)) {
                if all.traces != *dc {
                    notes.push(format!(
                        "({}) **count mismatch**: Argus matched {} traces, DuckDB {}",
                        s.name, all.traces, dc
                    ));
                }
            }
        }
        if let Some(e) = &r.duck.error {
            notes.push(format!("DuckDB failed: {}", esc(e)));
        }
        if !notes.is_empty() {
            out.push(format!("run {}: {}", k + 1, notes.join("; ")));
        }
    }
    out
}
