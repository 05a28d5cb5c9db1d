//! The object store fails or is slow: a TCP proxy in front of moto that
//! drops or delays connections.

use crate::blocks::{load, metric, total, wait_for};
use crate::harness::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PASS: u8 = 0;
const FAIL: u8 = 1;
const SLOW: u8 = 2;

struct Proxy {
    port: u16,
    mode: Arc<AtomicU8>,
}

/// Copies until EOF, or until the proxy is switched to FAIL (which also
/// breaks connections that were open before).
fn pipe(mut from: TcpStream, mut to: TcpStream, mode: Arc<AtomicU8>) {
    let mut buf = [0u8; 16 * 1024];
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    loop {
        if mode.load(Ordering::SeqCst) == FAIL {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        match from.read(&mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let m = mode.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                match m.load(Ordering::SeqCst) {
                    FAIL => drop(conn), // connection closed: the client sees a network error
                    mode => {
                        let m = m.clone();
                        std::thread::spawn(move || {
                            if mode == SLOW {
                                std::thread::sleep(Duration::from_millis(300));
                            }
                            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                                return;
                            };
                            let (c2, u2) = (conn.try_clone().unwrap(), up.try_clone().unwrap());
                            let m2 = m.clone();
                            std::thread::spawn(move || pipe(c2, u2, m2));
                            pipe(up, conn, m);
                        });
                    }
                }
            }
        });
        Proxy { port, mode }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

#[test]
fn failing_and_slow_object_store_loses_nothing() {
    let Some(moto) = Moto::start("flaky") else {
        return;
    };
    let proxy = Proxy::start(moto.port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 0s\n{}",
        s3_config(proxy.port, "flaky")
    );
    let mut a = Argus::start(dir.path(), &cfg);
    proxy.set(FAIL);
    let n = load(&a, now_ms());
    wait_for(&a, "argus_tsdb_block_uploads_failed_total", 2.0);
    assert_eq!(
        metric(&a, "argus_tsdb_blocks_cut_total"),
        0.0,
        "no block counts as cut while its upload fails"
    );
    assert_eq!(
        total(&a).0,
        n,
        "the data stays in the head (and WAL) until an upload is confirmed"
    );
    assert!(a.log_text().contains("upload failed, retrying"));
    // A crash while the store is slow: everything comes back from the WAL.
    proxy.set(SLOW);
    a.kill9();
    a.spawn();
    assert_eq!(total(&a).0, n);
    // The store recovers: blocks get uploaded, nothing lost or doubled.
    proxy.set(PASS);
    wait_for(&a, "argus_tsdb_blocks_cut_total", 5.0);
    assert_eq!(total(&a).0, n);
    a.stop();
    a.spawn();
    assert!(metric(&a, "argus_tsdb_blocks_loaded") >= 1.0);
    assert_eq!(total(&a).0, n);
}

/// Every cached `chunks` file of the tenant's blocks.
fn cached_chunk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let blocks = dir.join("data/cache/tenants/anonymous/metrics/blocks");
    let Ok(entries) = std::fs::read_dir(&blocks) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path().join("chunks"))
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn a_query_whose_block_cannot_be_read_answers_500_internal() {
    let Some(moto) = Moto::start("broken") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let storage = s3_config(moto.port, "broken");
    let mut a = Argus::start(
        dir.path(),
        &format!(
            "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 0s\n{storage}"
        ),
    );
    let end = now_ms();
    load(&a, end);
    wait_for(&a, "argus_tsdb_blocks_cut_total", 5.0);
    let q = |a: &Argus, query: &str, t: i64| {
        let r = client()
            .get(a.url("/api/v1/query"))
            .query(&[("query", query), ("time", &format!("{}", t / 1000))])
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().unwrap())
    };
    let old = end - 2 * 3_600_000;
    let (status, body) = q(&a, "count(count_over_time(blk[10m]))", old);
    assert_eq!(status, 200, "{body}");
    // Stopped, so no cut or compaction runs meanwhile: the uploaded blocks'
    // cached chunk files lose everything after their header, then Argus
    // starts again with the lifecycle idle and opens them from the cache.
    a.stop();
    let files = cached_chunk_files(dir.path());
    assert!(!files.is_empty(), "no cached block files");
    for f in &files {
        std::fs::OpenOptions::new()
            .write(true)
            .open(f)
            .unwrap()
            .set_len(8)
            .unwrap();
    }
    a.config = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 1h\n  retention: 0s\n{storage}"
    );
    a.spawn();
    // A storage failure is the server's: 500 `internal`, as Prometheus
    // answers `ErrStorage` (before, 422 `execution`).
    let (status, body) = q(&a, "count(count_over_time(blk[10m]))", old);
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["errorType"], "internal", "{body}");
    assert!(body["error"].as_str().unwrap().contains("chunk"), "{body}");
    let r = client()
        .get(a.url("/api/v1/query_range"))
        .query(&[
            ("query", "blk"),
            ("start", &format!("{}", (old - 600_000) / 1000)),
            ("end", &format!("{}", old / 1000)),
            ("step", "60"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    // The head is unaffected: a query over the last minutes still answers.
    let (status, body) = q(&a, "count(blk)", end);
    assert_eq!(status, 200, "{body}");
}
