//! The references run beside Argus on the same corpus: `zstd -3` of the raw
//! lines, `zstd -dc | grep -F` (and plain `grep -F`) for the needle, and
//! DuckDB (Python package) holding the same lines in a table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};

use super::corpus::{Corpus, NEEDLE};
use super::queries::LogQuery;
use crate::duckpy::{f64s, f64s2, u64s};

#[derive(Debug, Default, Clone)]
pub(crate) struct ZstdRun {
    pub compressed_bytes: u64,
    pub compress_s: f64,
    /// `zstd -dc file.zst | grep -F <needle>`, each repetition.
    pub grep_zst_s: Vec<f64>,
    /// `grep -F <needle>` on the uncompressed file, each repetition.
    pub grep_raw_s: Vec<f64>,
    pub grep_matches: u64,
}

fn sh_timed(cmd: &str) -> Result<(f64, String)> {
    let t0 = Instant::now();
    let out = Command::new("sh").arg("-c").arg(cmd).output()?;
    let secs = t0.elapsed().as_secs_f64();
    // grep exits 1 when nothing matched: not a failure here.
    if !out.status.success() && out.status.code() != Some(1) {
        bail!(
            "`{cmd}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((secs, String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// `zstd -3 -T1` of the raw corpus into `dir`, then the needle searches.
pub(crate) fn zstd(c: &Corpus, dir: &Path, reps: usize) -> Result<ZstdRun> {
    let zst = dir.join("lines.log.zst");
    let raw = c.lines_path();
    let (compress_s, _) = sh_timed(&format!(
        "zstd -3 -T1 -q -f -o {} {}",
        quote(&zst),
        quote(&raw)
    ))?;
    let mut r = ZstdRun {
        compressed_bytes: std::fs::metadata(&zst)?.len(),
        compress_s,
        ..Default::default()
    };
    for _ in 0..reps.max(1) {
        let (s, out) = sh_timed(&format!(
            "zstd -dc {} | LC_ALL=C grep -F '{NEEDLE}'",
            quote(&zst)
        ))?;
        r.grep_zst_s.push(s);
        r.grep_matches = out.lines().count() as u64;
        let (s, _) = sh_timed(&format!("LC_ALL=C grep -F '{NEEDLE}' {}", quote(&raw)))?;
        r.grep_raw_s.push(s);
    }
    let _ = std::fs::remove_file(&zst);
    Ok(r)
}

#[derive(Debug, Default, Clone)]
pub(crate) struct DuckRun {
    pub version: String,
    pub load_s: f64,
    pub file_bytes: u64,
    pub rows: u64,
    pub peak_rss: u64,
    /// Per query: each repetition's seconds.
    pub query_s: Vec<Vec<f64>>,
    /// Per query: rows returned.
    pub query_rows: Vec<u64>,
    /// Per query: sum of the last column (metric queries).
    pub query_sum: Vec<f64>,
    /// Why the DuckDB side failed (the run goes on without it).
    pub error: Option<String>,
}

const SCRIPT: &str = r#"
import duckdb, json, os, resource, sys, time
cfg = json.load(sys.stdin)
db = cfg["db"]
for p in (db, db + ".wal"):
    if os.path.exists(p):
        os.remove(p)
con = duckdb.connect(db)
con.execute("SET preserve_insertion_order = true")
con.execute("SET enable_progress_bar = false")
tsv = cfg["tsv"].replace("'", "''")
t0 = time.time()
con.execute(f"""CREATE TABLE logs AS SELECT make_timestamp(ts // 1000) AS ts, service_name, namespace, pod, job, level, line
FROM read_csv('{tsv}', delim='\t', quote='', escape='', header=false, max_line_size=1048576,
  columns={{'ts':'BIGINT','stream':'INTEGER','service_name':'VARCHAR','namespace':'VARCHAR','pod':'VARCHAR','job':'VARCHAR','level':'VARCHAR','line':'VARCHAR'}})""")
con.execute("CHECKPOINT")
load_s = time.time() - t0
size = os.path.getsize(db) + (os.path.getsize(db + ".wal") if os.path.exists(db + ".wal") else 0)
rows = con.execute("SELECT count(*) FROM logs").fetchone()[0]
qs, qrows, qsum = [], [], []
for sql in cfg["queries"]:
    times = []
    for _ in range(cfg["reps"]):
        t0 = time.time()
        res = con.execute(sql).fetchall()
        times.append(time.time() - t0)
    qs.append(times)
    qrows.append(len(res))
    s = 0.0
    for r in res:
        if isinstance(r[-1], (int, float)):
            s += r[-1]
    qsum.append(s)
con.close()
print(json.dumps({"version": duckdb.__version__, "load_s": load_s, "file_bytes": size, "rows": rows,
    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "query_s": qs, "query_rows": qrows, "query_sum": qsum}))
"#;

/// Loads the corpus into a DuckDB file in `dir` and times `queries`' SQL
/// (`reps` times each). The file is deleted afterwards.
pub(crate) fn duckdb(
    python: &str,
    c: &Corpus,
    dir: &Path,
    queries: &[LogQuery],
    reps: usize,
) -> Result<DuckRun> {
    let db: PathBuf = dir.join("logs.duckdb");
    let cfg = serde_json::json!({
        "db": db.display().to_string(),
        "tsv": c.tsv_path().display().to_string(),
        "queries": queries.iter().map(|q| q.sql.clone()).collect::<Vec<_>>(),
        "reps": reps.max(1),
    });
    let v = crate::duckpy::run(python, SCRIPT, &cfg);
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(dir.join("logs.duckdb.wal"));
    let v = v?;
    Ok(DuckRun {
        version: v["version"].as_str().unwrap_or("?").to_string(),
        load_s: v["load_s"].as_f64().unwrap_or(f64::NAN),
        file_bytes: v["file_bytes"].as_u64().unwrap_or(0),
        rows: v["rows"].as_u64().unwrap_or(0),
        peak_rss: v["peak_rss"].as_u64().unwrap_or(0),
        query_s: f64s2(&v["query_s"]),
        query_rows: u64s(&v["query_rows"]),
        query_sum: f64s(&v["query_sum"]),
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    fn have(cmd: &str) -> bool {
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// zstd, grep and DuckDB over a small corpus (skipped where zstd or
    /// the duckdb package is missing: `bench/run logs` installs them).
    #[test]
    fn references_on_a_small_corpus() {
        let d = tempfile::tempdir().unwrap();
        let c =
            super::super::corpus::generate(d.path(), 5, 400_000, 30, 3_600_000, 1_700_000_000_000)
                .unwrap();
        if have("command -v zstd") {
            let z = zstd(&c, d.path(), 1).unwrap();
            assert_eq!(z.grep_matches, super::super::corpus::NEEDLE_LINES as u64);
            assert!(z.compressed_bytes > 0 && z.compressed_bytes < c.meta.raw_bytes / 3);
        } else {
            eprintln!("zstd missing: skipped");
        }
        if !have("python3 -c 'import duckdb'") {
            eprintln!("duckdb missing: skipped");
            return;
        }
        let qs = super::super::queries::queries();
        let r = duckdb("python3", &c, d.path(), &qs, 1).unwrap();
        assert_eq!(r.rows, c.meta.lines);
        assert!(r.file_bytes > 0);
        assert_eq!(r.query_rows[0], super::super::corpus::NEEDLE_LINES as u64);
        assert_eq!(
            r.query_sum[1] as u64, c.meta.lines,
            "counts per level and minute add up"
        );
        assert!(r.query_rows[2] > 0 && r.query_rows[2] <= 100);
        assert!(r.query_rows[3] > 0);
        assert!(!d.path().join("logs.duckdb").exists());
    }
}
