use crate::harness::*;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Acknowledged samples per series (labels as JSON).
type Acked = Arc<Mutex<BTreeMap<String, Vec<(i64, f64)>>>>;

/// Sends batches until a request fails; records the samples of every
/// batch that got a 2xx. Returns the next timestamp to use.
fn writer(a_url: String, start_t: i64, acked: Acked, stop: Arc<AtomicBool>) -> i64 {
    let c = client();
    let mut t = start_t;
    while !stop.load(Ordering::SeqCst) {
        let series: Vec<_> = (0..20)
            .map(|i| {
                ts(
                    "crash_metric",
                    &[("i", &i.to_string())],
                    &[(t, (t % 1000) as f64 + i as f64)],
                )
            })
            .collect();
        let mut body = Vec::new();
        argus_ingest::remote_write::encode_v1(&series, &mut body);
        let r = c
            .post(&a_url)
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .body(body)
            .send();
        match r {
            Ok(r) if r.status().is_success() => {
                let mut m = acked.lock();
                for s in &series {
                    let key = serde_json::to_string(
                        &s.labels
                            .iter()
                            .map(|l| (l.name.clone(), l.value.clone()))
                            .collect::<BTreeMap<_, _>>(),
                    )
                    .unwrap();
                    m.entry(key).or_default().push((t, s.samples[0].v));
                }
                t += 1000;
            }
            Ok(r) => panic!("unexpected status {}", r.status()),
            Err(_) => break,
        }
    }
    t
}

#[test]
fn kill_9_during_ingest_loses_no_acknowledged_sample() {
    let dir = tempfile::tempdir().unwrap();
    // Small WAL segments so that kills also land around segment rotation.
    let mut a = Argus::start(dir.path(), "tsdb:\n  wal_segment_size: 65536\n");
    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let mut t = 1_700_000_000_000i64;
    // timestamps of batches in flight at a kill: they may or may not be stored
    let mut in_flight = std::collections::HashSet::new();
    for cycle in 0..fault_cycles() {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, ac, st) = (a.url("/api/v1/write"), acked.clone(), stop.clone());
        let h = std::thread::spawn(move || writer(url, t, ac, st));
        std::thread::sleep(Duration::from_millis(150 + pseudo_random(400)));
        a.kill9();
        stop.store(true, Ordering::SeqCst);
        t = h.join().unwrap();
        in_flight.insert(t);
        a.spawn();
        let got = a.export(None, "crash_metric");
        let want = acked.lock();
        assert!(!want.is_empty());
        for (k, samples) in want.iter() {
            let g = got
                .get(k)
                .unwrap_or_else(|| panic!("cycle {cycle}: series {k} missing"));
            let gset: std::collections::HashMap<i64, f64> = g.iter().copied().collect();
            assert_eq!(
                gset.len(),
                g.len(),
                "cycle {cycle}: duplicate timestamps in {k}"
            );
            for (ts, v) in samples {
                assert_eq!(
                    gset.get(ts),
                    Some(v),
                    "cycle {cycle}: acknowledged sample {ts} of {k} lost"
                );
            }
        }
        // nothing but acknowledged samples and the batches in flight at a kill
        for (k, g) in &got {
            let acked_ts: std::collections::HashSet<i64> = want
                .get(k)
                .map(|w| w.iter().map(|x| x.0).collect())
                .unwrap_or_default();
            for (ts, _) in g {
                assert!(
                    acked_ts.contains(ts) || in_flight.contains(ts),
                    "cycle {cycle}: {k} has sample {ts} that was never sent"
                );
            }
        }
        t += 1000; // never reuse the in-flight batch's timestamp
    }
}

#[test]
fn corrupt_wal_tail_is_truncated_with_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");
    let t0 = 1_700_000_000_000;
    for i in 0..5 {
        assert_eq!(
            a.write_v1(None, &[ts("wal_m", &[], &[(t0 + i * 1000, i as f64)])])
                .status(),
            204
        );
    }
    a.kill9();
    let wal = dir.path().join("data/tenants/anonymous/metrics/wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    segs.sort();
    let last = segs
        .iter()
        .rev()
        .find(|p| std::fs::metadata(p).unwrap().len() > 16)
        .expect("a segment with records")
        .clone();
    // a torn record: a plausible header followed by too few bytes, then garbage
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    std::io::Write::write_all(&mut f, &[0x40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]).unwrap();
    drop(f);
    a.spawn();
    let got = a.export(None, "wal_m");
    assert_eq!(
        got.values().next().unwrap().len(),
        5,
        "all records before the torn one are replayed"
    );
    let log = a.log_text();
    assert!(log.contains("truncating corrupt wal tail"), "{log}");
    assert!(log.contains("dropped_bytes=11"), "{log}");
    // and it keeps working
    assert_eq!(
        a.write_v1(None, &[ts("wal_m", &[], &[(t0 + 10_000, 9.0)])])
            .status(),
        204
    );
}
