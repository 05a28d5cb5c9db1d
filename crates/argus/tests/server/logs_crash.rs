//! kill -9 during sustained log ingest, with flushes to segments running
//! every second: after every restart each acknowledged line is there
//! exactly once, and nothing is there that was never sent.

use crate::harness::*;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const STREAMS: usize = 4;
const PER_STREAM: usize = 5;

/// What the writers sent: acknowledged lines and the lines of batches in
/// flight at a kill (either stored whole or not at all... or partly: a
/// batch is one WAL record, so whole or not at all).
#[derive(Default)]
struct Sent {
    acked: HashSet<(i64, String)>,
    in_flight: HashSet<(i64, String)>,
}

/// Pushes batches (Loki JSON, every entry a globally unique timestamp)
/// until a request fails; records every batch that got a 2xx.
fn writer(url: String, next_ts: Arc<AtomicI64>, sent: Arc<Mutex<Sent>>, stop: Arc<AtomicBool>) {
    let c = client();
    while !stop.load(Ordering::SeqCst) {
        let mut batch = Vec::new();
        let streams: Vec<Value> = (0..STREAMS)
            .map(|s| {
                let values: Vec<Value> = (0..PER_STREAM)
                    .map(|_| {
                        let ts = next_ts.fetch_add(1, Ordering::SeqCst);
                        let line = format!("crash line {ts} stream {s}");
                        batch.push((ts, line.clone()));
                        json!([ts.to_string(), line])
                    })
                    .collect();
                json!({"stream": {"job": "crash", "s": s.to_string()}, "values": values})
            })
            .collect();
        sent.lock().in_flight.extend(batch.iter().cloned());
        let r = c
            .post(&url)
            .header("Content-Type", "application/json")
            .body(json!({ "streams": streams }).to_string())
            .send();
        match r {
            Ok(r) if r.status().as_u16() == 204 => {
                let mut s = sent.lock();
                for b in batch {
                    s.in_flight.remove(&b);
                    s.acked.insert(b);
                }
            }
            Ok(r) => panic!("unexpected status {}: {:?}", r.status(), r.text()),
            Err(_) => break,
        }
    }
}

/// Every line of `{job="crash"}` from `start`, paging forward by time
/// (timestamps are unique, so a page ends where the next begins).
fn stored(a: &Argus, start: i64, end: i64) -> Vec<(i64, String)> {
    let c = client();
    let mut out = Vec::new();
    let mut from = start;
    loop {
        let r = c
            .get(a.url("/loki/api/v1/query_range"))
            .query(&[
                ("query", r#"{job="crash"}"#.to_string()),
                ("start", from.to_string()),
                ("end", end.to_string()),
                ("limit", "5000".to_string()),
                ("direction", "forward".to_string()),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.text());
        let v: Value = r.json().unwrap();
        let mut page: Vec<(i64, String)> = v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["values"].as_array().unwrap().clone())
            .map(|e| {
                (
                    e[0].as_str().unwrap().parse::<i64>().unwrap(),
                    e[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        page.sort();
        let n = page.len();
        let last = page.last().map(|p| p.0);
        out.extend(page);
        match last {
            Some(t) if n == 5000 => from = t + 1,
            _ => return out,
        }
    }
}

#[test]
fn kill_9_during_log_ingest_loses_and_repeats_no_acknowledged_line() {
    let dir = tempfile::tempdir().unwrap();
    // Flushes every second and small WAL segments, so kills also land in
    // flushes (freeze, segment upload, install, WAL checkpoint).
    let mut a = Argus::start(
        dir.path(),
        "tsdb:\n  wal_segment_size: 65536\nlogs:\n  max_head_age: 1s\n",
    );
    let start = now_ms() * 1_000_000;
    let next_ts = Arc::new(AtomicI64::new(start));
    let sent = Arc::new(Mutex::new(Sent::default()));
    for cycle in 0..fault_cycles() {
        let (url, n, s) = (a.url("/loki/api/v1/push"), next_ts.clone(), sent.clone());
        let run = Duration::from_millis(300 + pseudo_random(1200));
        kill9_under_load(&mut a, 2, run, move |stop| {
            writer(url.clone(), n.clone(), s.clone(), stop)
        });
        let end = next_ts.load(Ordering::SeqCst) + 1;
        let got = stored(&a, start, end);
        let s = sent.lock();
        assert!(
            s.acked.len() > cycle,
            "cycle {cycle}: the writers got nothing acknowledged"
        );
        let mut seen: HashMap<i64, &str> = HashMap::new();
        for (ts, line) in &got {
            assert!(
                seen.insert(*ts, line).is_none(),
                "cycle {cycle}: line at {ts} stored twice"
            );
            let k = (*ts, line.clone());
            assert!(
                s.acked.contains(&k) || s.in_flight.contains(&k),
                "cycle {cycle}: stored line {k:?} was never sent"
            );
        }
        for (ts, line) in &s.acked {
            assert_eq!(
                seen.get(ts).copied(),
                Some(line.as_str()),
                "cycle {cycle}: acknowledged line at {ts} lost"
            );
        }
        eprintln!(
            "cycle {cycle}: {} acknowledged lines, {} stored",
            s.acked.len(),
            got.len()
        );
    }
    // POST /flush (Loki's ingester endpoint) moves what is in memory into
    // segments before it answers.
    let r = client().post(a.url("/flush")).send().unwrap();
    assert_eq!(r.status(), 204);
    let metrics = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("argus_logs_head_bytes{tenant=\"anonymous\"} 0"),
        "{metrics}"
    );
    // The lines went through segments too.
    let segments = std::fs::read_dir(
        dir.path()
            .join("data/objects/tenants/anonymous/logs/blocks"),
    )
    .map(|d| d.count())
    .unwrap_or(0);
    assert!(segments > 0, "no logs segment was flushed during the test");
    a.stop();
}
