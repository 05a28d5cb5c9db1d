use crate::harness::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const H: i64 = 3_600_000;

fn metric(a: &Argus, name: &str) -> f64 {
    let m = client()
        .get(a.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    m.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn wait_for(a: &Argus, name: &str, at_least: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric(a, name) < at_least {
        assert!(
            Instant::now() < deadline,
            "{name} never reached {at_least}; log:\n{}",
            a.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 3 hours of one-minute samples for 10 series, ending now.
fn load(a: &Argus, end: i64) -> usize {
    let start = end - 3 * H;
    let mut n = 0;
    for chunk in 0..3 {
        let series: Vec<_> = (0..10)
            .map(|i| {
                let samples: Vec<(i64, f64)> = (0..60)
                    .map(|k| (start + chunk * H + k * 60_000, (chunk * 60 + k + i) as f64))
                    .collect();
                n += samples.len();
                ts("blk", &[("i", &i.to_string())], &samples)
            })
            .collect();
        assert_eq!(a.write_v1(None, &series).status(), 204);
    }
    n
}

fn total(a: &Argus) -> (usize, i64) {
    let e = a.export(None, "blk");
    let n = e.values().map(|v| v.len()).sum();
    let oldest = e
        .values()
        .filter_map(|v| v.first().map(|x| x.0))
        .min()
        .unwrap_or(i64::MAX);
    for v in e.values() {
        assert!(
            v.windows(2).all(|w| w[0].0 < w[1].0),
            "samples sorted and unique"
        );
    }
    (n, oldest)
}

fn lifecycle(storage: &str) {
    let dir = tempfile::tempdir().unwrap();
    let base = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 0s\n{storage}"
    );
    let mut a = Argus::start(dir.path(), &base);
    let end = now_ms();
    let n = load(&a, end);
    wait_for(&a, "argus_tsdb_compactions_total", 1.0);
    wait_for(&a, "argus_tsdb_blocks_cut_total", 5.0);
    assert_eq!(total(&a).0, n);
    // restart after cut + compaction: everything readable, nothing doubled
    assert_eq!(a.stop(), Some(0));
    a.spawn();
    assert!(
        metric(&a, "argus_tsdb_blocks_loaded") >= 2.0,
        "blocks reloaded"
    );
    assert_eq!(total(&a).0, n);
    // crash restart too
    a.kill9();
    a.spawn();
    assert_eq!(total(&a).0, n);
    // retention of 1h: only blocks wholly older than now-1h go
    a.stop();
    a.config = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 1h\n{storage}"
    );
    a.spawn();
    wait_for(&a, "argus_tsdb_blocks_deleted_retention_total", 1.0);
    let (kept, oldest) = total(&a);
    assert!(kept < n, "something was deleted");
    assert!(oldest > end - 3 * H, "the oldest block is gone");
    // everything newer than the retention horizon is still there
    let horizon = now_ms() - H;
    let e = a.export(None, "blk");
    let recent: usize = e
        .values()
        .map(|v| v.iter().filter(|x| x.0 >= horizon).count())
        .sum();
    let expected: usize = (0..10)
        .map(|_| {
            (0..3 * 60)
                .filter(|k| end - 3 * H + k * 60_000 >= horizon)
                .count()
        })
        .sum();
    assert_eq!(recent, expected);
}

#[test]
fn blocks_cut_compact_restart_and_retention_on_local_disk() {
    lifecycle("");
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn blocks_cut_compact_restart_and_retention_on_s3() {
    if !have("moto_server") {
        return;
    }
    let port = free_port();
    let _moto = Moto(
        Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if c.put(format!("http://127.0.0.1:{port}/argus-test"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    lifecycle(&format!(
        "storage:\n  s3:\n    bucket: argus-test\n    endpoint: http://127.0.0.1:{port}\n    region: us-east-1\n    access_key_id: test\n    secret_access_key: test\n"
    ));
    // the blocks really are in the bucket
    let listing = c.get(format!("http://127.0.0.1:{port}/argus-test?list-type=2&prefix=tenants/anonymous/metrics/blocks/")).send().unwrap().text().unwrap();
    assert!(listing.contains("meta.json"), "{listing}");
}
