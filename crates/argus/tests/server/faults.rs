//! The fault suite's short form: a full disk, and one tenant flooding past
//! its limits while another keeps working. (kill -9 cycles are in crash.rs,
//! object-store failures in blocks.rs / s3 proxy tests.)

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A small tmpfs mounted for one test, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .ok()
            .is_some_and(|o| o.stdout.starts_with(b"0\n"));
        let ok = root
            && std::fs::create_dir_all(dir).is_ok()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var("ARGUS_REQUIRE_PEERS").is_err() || !root,
                "mounting a tmpfs failed although running as root"
            );
            eprintln!("skipping: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_refuses_writes_clearly_keeps_reads_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(_disk) = SmallDisk::mount(&data, "4m") else {
        return;
    };
    let mut a = Argus::start(dir.path(), "tsdb:\n  wal_segment_size: 65536\n");
    let t0 = 1_700_000_000_000i64;
    let batch = |k: i64| -> Vec<argus_model::TimeSeries> {
        (0..50)
            .map(|i| {
                ts(
                    "disk_metric",
                    &[("i", &i.to_string()), ("pad", &"p".repeat(100))],
                    &[(t0 + k * 1000, k as f64)],
                )
            })
            .collect()
    };
    assert_eq!(a.write_v1(None, &batch(0)).status(), 204);
    // Fill the disk, leaving a little room.
    let filler = data.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    let mut acked = vec![0i64];
    let mut refused = None;
    for k in 1..2000 {
        let r = a.write_v1(None, &batch(k));
        match r.status().as_u16() {
            204 => acked.push(k),
            code => {
                refused = Some((code, r.text().unwrap()));
                break;
            }
        }
    }
    let (code, text) = refused.expect("writes are refused once the disk is full");
    assert_eq!(code, 507, "{text}");
    assert!(
        text.contains("storage is full") && text.contains("No space left"),
        "{text}"
    );
    // Reads keep working and hold every acknowledged sample.
    let got = a.export(None, "disk_metric");
    assert_eq!(got.len(), 50);
    assert!(got
        .values()
        .all(|v| v.iter().map(|x| (x.0 - t0) / 1000).collect::<Vec<_>>() == acked));
    // Space comes back: ingest resumes without a restart.
    std::fs::remove_file(&filler).unwrap();
    let k = *acked.last().unwrap() + 1;
    assert_eq!(a.write_v1(None, &batch(k)).status(), 204);
    acked.push(k);
    // Nothing stored was corrupted: a crash and restart replays it all.
    a.kill9();
    a.spawn();
    let got = a.export(None, "disk_metric");
    assert!(
        got.values()
            .all(|v| v.iter().map(|x| (x.0 - t0) / 1000).collect::<Vec<_>>() == acked),
        "{got:?}"
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median latency (s) of `n` write+query rounds for `tenant`.
fn calm_latency(a: &Argus, tenant: &str, n: usize, t_base: i64) -> f64 {
    let c = client();
    let mut lat = Vec::new();
    for k in 0..n {
        let series: Vec<_> = (0..20)
            .map(|i| {
                ts(
                    "calm",
                    &[("i", &i.to_string())],
                    &[(t_base + k as i64 * 1000, 1.0)],
                )
            })
            .collect();
        let mut body = Vec::new();
        argus_ingest::remote_write::encode_v1(&series, &mut body);
        let start = Instant::now();
        let r = c
            .post(a.url("/api/v1/write"))
            .header("X-Scope-OrgID", tenant)
            .header("Content-Encoding", "snappy")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
        let q = c
            .get(a.url("/api/v1/query"))
            .header("X-Scope-OrgID", tenant)
            .query(&[("query", "sum(calm)")])
            .send()
            .unwrap();
        assert_eq!(q.status(), 200);
        lat.push(start.elapsed().as_secs_f64());
    }
    median(lat)
}

#[test]
fn a_flooding_tenant_gets_429_and_others_are_unaffected() {
    let dir = tempfile::tempdir().unwrap();
    let a = Argus::start(
        dir.path(),
        "overrides:\n  flood:\n    ingestion_rate: 1000\n    ingestion_burst: 1000\n",
    );
    let t0 = now_ms() - 3_600_000;
    let unloaded = calm_latency(&a, "calm", 200, t0);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut floods = Vec::new();
    for w in 0..2 {
        let (url, stop) = (a.url("/api/v1/write"), stop.clone());
        floods.push(std::thread::spawn(move || {
            let c = client();
            let series: Vec<_> = (0..2000)
                .map(|i| {
                    ts(
                        "flood",
                        &[("w", &w.to_string()), ("i", &i.to_string())],
                        &[(t0, 1.0)],
                    )
                })
                .collect();
            let mut body = Vec::new();
            argus_ingest::remote_write::encode_v1(&series, &mut body);
            let (mut ok, mut limited) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = c
                    .post(&url)
                    .header("X-Scope-OrgID", "flood")
                    .header("Content-Encoding", "snappy")
                    .body(body.clone())
                    .send()
                    .unwrap();
                match r.status().as_u16() {
                    429 => limited += 1,
                    _ => ok += 1,
                }
                // ~40 requests/s per thread: 160x the tenant's limit, while
                // leaving this 2-core machine's CPU to the server under test.
                std::thread::sleep(Duration::from_millis(25));
            }
            (ok, limited)
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let loaded = calm_latency(&a, "calm", 200, t0 + 1_000_000);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut limited) = (0, 0);
    for f in floods {
        let (o, l) = f.join().unwrap();
        ok += o;
        limited += l;
    }
    assert!(
        limited > 10 * ok.max(1),
        "the flood was mostly refused: {ok} accepted, {limited} limited"
    );
    // Starvation, not noise: the flood's senders share the 2 cores, and
    // this host's speed swings by 40% between runs (BENCHMARKS.md, notes of
    // 2026-12-06), which made a 1.5x bound fail at 7.8 ms against 4.0 ms.
    // A calm tenant queued behind the flood would be many times slower.
    assert!(
        loaded <= (unloaded * 3.0).max(unloaded + 0.005),
        "calm tenant latency {loaded:.4}s under flood vs {unloaded:.4}s unloaded"
    );
    eprintln!("calm tenant median write+query: {:.2} ms unloaded, {:.2} ms during the flood ({limited} requests refused)", unloaded * 1e3, loaded * 1e3);
}
