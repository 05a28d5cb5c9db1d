//! DuckDB beside Argus (Python package, [`crate::duckpy`]): the spans of
//! Argus's segments loaded into a DuckDB database file (`CREATE TABLE
//! spans AS SELECT … FROM read_parquet(<segments' data.parquet>)`, the
//! same rows and columns, every parent as its id: Argus's `parent_row`
//! resolved), its size after `CHECKPOINT`, and the SQL of each query timed
//! as many times as Argus's.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::queries::{Search, BY_ID_SQL, LIMIT};
use crate::duckpy::{f64s, f64s2, u64s};

#[derive(Debug, Default, Clone)]
pub(crate) struct DuckRun {
    pub version: String,
    pub load_s: f64,
    pub file_bytes: u64,
    pub rows: u64,
    pub peak_rss: u64,
    /// Each lookup by id's seconds, and the rows it returned.
    pub by_id_s: Vec<f64>,
    pub by_id_rows: Vec<u64>,
    /// Lookups whose row count was not the trace's span count.
    pub by_id_wrong: u64,
    /// Per search: each repetition's seconds, the rows of the limited
    /// query, and the count of all matching traces.
    pub search_s: Vec<Vec<f64>>,
    pub search_rows: Vec<u64>,
    pub search_count: Vec<u64>,
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
files = ", ".join("'" + f.replace("'", "''") + "'" for f in cfg["files"])
t0 = time.time()
# Argus writes a parent in the trace's rows as its row (parent_row, an
# offset): the table gets every parent's id back, as DuckDB would hold it.
con.execute(
    f"CREATE TABLE spans AS WITH s AS (SELECT * FROM read_parquet([{files}], union_by_name = true, "
    "filename = true, file_row_number = true)) "
    "SELECT s.* EXCLUDE (parent_span_id, parent_row, filename, file_row_number), "
    "coalesce(s.parent_span_id, p.span_id) AS parent_span_id "
    "FROM s LEFT JOIN s p ON p.filename = s.filename AND p.file_row_number = s.file_row_number + s.parent_row "
    "ORDER BY s.filename, s.file_row_number"
)
con.execute("CHECKPOINT")
load_s = time.time() - t0
size = os.path.getsize(db) + (os.path.getsize(db + ".wal") if os.path.exists(db + ".wal") else 0)
rows = con.execute("SELECT count(*) FROM spans").fetchone()[0]
by_id_s, by_id_rows = [], []
for tid in cfg["ids"]:
    t0 = time.time()
    res = con.execute(cfg["by_id_sql"], [tid]).fetchall()
    by_id_s.append(time.time() - t0)
    by_id_rows.append(len(res))
qs, qrows, qcount = [], [], []
for q in cfg["searches"]:
    times = []
    for _ in range(cfg["reps"]):
        t0 = time.time()
        res = con.execute(q["sql"]).fetchall()
        times.append(time.time() - t0)
    qs.append(times)
    qrows.append(len(res))
    qcount.append(con.execute(q["count_sql"]).fetchone()[0])
con.close()
print(json.dumps({"version": duckdb.__version__, "load_s": load_s, "file_bytes": size, "rows": rows,
    "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "by_id_s": by_id_s, "by_id_rows": by_id_rows, "search_s": qs, "search_rows": qrows, "search_count": qcount}))
"#;

/// The SQL DuckDB times for a search.
pub(crate) fn limited_sql(s: &Search) -> String {
    format!("{} LIMIT {LIMIT}", s.ids_sql)
}

/// The SQL that counts every trace a search matches.
pub(crate) fn count_sql(s: &Search) -> String {
    format!("SELECT count(*) FROM ({})", s.ids_sql)
}

/// Loads `files` (Argus's `data.parquet` files) into a DuckDB file in
/// `dir`, looks up `ids` (hex) one by one and times each search `reps`
/// times. The database file is deleted afterwards.
pub(crate) fn run(
    python: &str,
    files: &[PathBuf],
    dir: &Path,
    ids: &[String],
    searches: &[Search],
    reps: usize,
) -> Result<DuckRun> {
    let db = dir.join("spans.duckdb");
    let cfg = serde_json::json!({
        "db": db.display().to_string(),
        "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "ids": ids,
        "by_id_sql": BY_ID_SQL,
        "searches": searches
            .iter()
            .map(|s| serde_json::json!({"sql": limited_sql(s), "count_sql": count_sql(s)}))
            .collect::<Vec<_>>(),
        "reps": reps.max(1),
    });
    let v = crate::duckpy::run(python, SCRIPT, &cfg);
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(dir.join("spans.duckdb.wal"));
    let v = v?;
    Ok(DuckRun {
        version: v["version"].as_str().unwrap_or("?").to_string(),
        load_s: v["load_s"].as_f64().unwrap_or(f64::NAN),
        file_bytes: v["file_bytes"].as_u64().unwrap_or(0),
        rows: v["rows"].as_u64().unwrap_or(0),
        peak_rss: v["peak_rss"].as_u64().unwrap_or(0),
        by_id_s: f64s(&v["by_id_s"]),
        by_id_rows: u64s(&v["by_id_rows"]),
        by_id_wrong: 0,
        search_s: f64s2(&v["search_s"]),
        search_rows: u64s(&v["search_rows"]),
        search_count: u64s(&v["search_count"]),
        error: None,
    })
}
