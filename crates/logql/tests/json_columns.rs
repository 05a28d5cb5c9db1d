//! Metric queries over `| json k="k"` give the same results from a logs
//! store that keeps top-level JSON members as columns (and gives their
//! values in place of the lines) as from one that keeps lines only, on
//! lines that test the reading: escapes, numbers, objects, duplicate and
//! missing keys, empty and malformed lines, U+FFFD.

use argus_logql::engine::{Engine, EngineOptions, JsonColumns, QueryParams, QueryResult, Stats};
use argus_logs::{LogsDb, LogsOptions};
use argus_model::{Labels, LogEntry, LogStream, TenantId};
use argus_objstore::{Backend, ObjectStorage};
use argus_store::{LogsWriter, StreamLimits};
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

/// `n` lines of a stream, cycling through `lines`, one a second.
fn stream(job: &str, lines: &[&str], n: i64) -> LogStream {
    LogStream {
        labels: Labels::from_pairs([("job", job)]),
        entries: (0..n)
            .map(|i| {
                let mut e = LogEntry::new(T0 + i * S, lines[i as usize % lines.len()]);
                if i % 3 == 0 {
                    e.metadata.push(("trace_id".into(), format!("t{}", i % 4)));
                }
                e
            })
            .collect(),
    }
}

fn corpus() -> Vec<LogStream> {
    let app = [
        r#"{"level":"info","status":200,"path":"/a","msg":"one"}"#,
        r#"{"level":"error","status":500,"path":"/b\"q","msg":"two"}"#,
        r#"{"level":"info","status":200.5,"path":"/c\\d\u00e9\n","msg":"three"}"#,
        r#" {"path":"/a","status":"404","level":"warn"} "#,
        r#"{"level":"info","path":{"x":[1,2]},"status":true}"#,
        r#"{"level":"info","path":"first","path":"/a","status":null}"#,
        r#"{"level":"debug","status":201}"#,
        r#"{"level":"info","status":200,"path":"/fffd-\ufffd","msg":"four"}"#,
    ];
    let mut broken: Vec<&str> = app.to_vec();
    broken.push(r#"{"level":"info","path":"/a""#);
    let mut empty: Vec<&str> = app.to_vec();
    empty.push("");
    vec![
        stream("app", &app, 300),
        stream("broken", &broken, 300),
        stream("empty", &empty, 300),
        stream("text", &["GET /a 200", "path=/b status=500"], 100),
        stream(
            "fffd",
            &[
                "{\"path\":\"/raw-\u{FFFD}\",\"status\":200}",
                "{\"path\":{\"in\":\"\u{FFFD}\"},\"status\":201}",
                "{\"path\":\"/a\",\"status\":202}",
            ],
            60,
        ),
    ]
}

async fn store(dir: &std::path::Path, json: bool) -> LogsDb {
    let mut opts = LogsOptions::new(dir.to_path_buf());
    if json {
        opts.json_fields = Some(Arc::new(JsonColumns));
    }
    let storage =
        ObjectStorage::new(Backend::Local(dir.join("objects")), dir.join("cache")).unwrap();
    let db = LogsDb::open(opts, storage).await.unwrap();
    let limits = StreamLimits {
        max_streams: 0,
        out_of_order_window_ns: 3600 * S,
    };
    db.push(&TenantId::new("t").unwrap(), corpus(), limits)
        .unwrap();
    db.flush_all().await.unwrap();
    db
}

fn run(db: &LogsDb, q: &str) -> (QueryResult, Stats) {
    let engine = Engine::new(EngineOptions::default());
    let params = QueryParams::range(q, T0, T0 + 400 * S, 60 * S);
    engine
        .execute(db, &TenantId::new("t").unwrap(), &params)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_columns_answer_as_lines_do() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (cols, lines) = (store(a.path(), true).await, store(b.path(), false).await);
    let queries = [
        r#"sum by (path) (count_over_time({job=~".+"} | json path="path" | __error__="" [1m]))"#,
        r#"sum by (p, status) (rate({job=~"app|empty"} | json p="path", status [5m]))"#,
        r#"sum by (path, job) (count_over_time({job=~".+"} | json path | drop __error__ [1m]))"#,
        r#"count_over_time({job="app"} | json path, level | path != "" and level="info" [2m])"#,
        r#"sum by (level, trace_id) (count_over_time({job=~"app|empty"} | json level | drop __error__ [1m]))"#,
        r#"sum by (status) (count_over_time({job="app"} | json status="status" | status >= 200 | __error__="" [1m]))"#,
    ];
    let mut fewer_bytes = false;
    // Queries of complete streams alone: read from the columns.
    for q in [
        r#"sum by (path) (count_over_time({job="app"} | json path [1m]))"#,
        r#"sum by (p, status, msg) (rate({job="app"} | json p="path", status, msg [5m]))"#,
        r#"sum by (path, status) (count_over_time({job="fffd"} | json path, status [1m]))"#,
    ] {
        let ((rc, sc), (rl, sl)) = (run(&cols, q), run(&lines, q));
        assert_eq!(rc, rl, "{q}");
        assert!(
            !matches!(&rc, QueryResult::Matrix(m) if m.is_empty()),
            "{q}"
        );
        if !q.contains("fffd") {
            assert!(sc.scan.bytes_scanned < sl.scan.bytes_scanned, "{q}");
        }
    }
    for q in queries {
        let ((rc, sc), (rl, sl)) = (run(&cols, q), run(&lines, q));
        assert_eq!(rc, rl, "{q}");
        assert!(
            !matches!(&rc, QueryResult::Matrix(m) if m.is_empty()),
            "{q}"
        );
        fewer_bytes |= sc.scan.bytes_scanned < sl.scan.bytes_scanned;
    }
    // The columns were read in place of the lines.
    assert!(fewer_bytes);
    // A query that reads the line reads the lines.
    let q =
        r#"sum(count_over_time({job="app"} | json path | line_format "{{.path}}" |= "/a" [1m]))"#;
    let ((rc, sc), (rl, sl)) = (run(&cols, q), run(&lines, q));
    assert_eq!(rc, rl);
    assert_eq!(sc.scan.bytes_scanned, sl.scan.bytes_scanned);
}
