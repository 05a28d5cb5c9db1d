use crate::harness::*;
use std::time::{Duration, Instant};

const H: i64 = 3_600_000;

pub(crate) fn metric(a: &Argus, name: &str) -> f64 {
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

pub(crate) fn wait_for(a: &Argus, name: &str, at_least: f64) {
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
pub(crate) fn load(a: &Argus, end: i64) -> usize {
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

pub(crate) fn total(a: &Argus) -> (usize, i64) {
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

#[test]
fn blocks_cut_compact_restart_and_retention_on_s3() {
    let Some(moto) = Moto::start("argus-test") else {
        return;
    };
    lifecycle(&s3_config(moto.port, "argus-test"));
    // the blocks really are in the bucket
    let listing = client()
        .get(format!(
            "http://127.0.0.1:{}/argus-test?list-type=2&prefix=tenants/anonymous/metrics/blocks/",
            moto.port
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(listing.contains("meta.json"), "{listing}");
}
