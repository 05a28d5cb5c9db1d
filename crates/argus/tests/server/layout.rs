//! A data directory written by the previous release (Argus 0.1, before
//! signals had their own directories) opens with every acknowledged sample
//! and is migrated to `tenants/<tenant>/metrics/…`.

use crate::blocks::{load, metric, total, wait_for};
use crate::harness::*;
use std::path::Path;

/// Every directory and file under `dir`, relative, sorted; `objects/` and
/// `cache/` (the object store and its read cache) and the test's own files
/// are left out.
fn local_tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            if rel == "objects" || rel == "cache" {
                continue;
            }
            out.push(rel);
            if e.file_type().unwrap().is_dir() {
                walk(root, &e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Rewrites the data directory a stopped server left into the layout the
/// previous release writes, with the same contents. That layout, as the
/// code of the previous release (commit cb9ed22) builds it:
///
/// - the WAL: `tenants/<tenant>/wal/` (`TenantDb::open`: `data_dir.join("tenants")
///   .join(tenant).join("wal")`); its segments and checkpoints are the
///   `argus-wal` format this branch does not change, so moving the
///   directory gives exactly the files 0.1 would have written;
/// - blocks being uploaded: `staging/<tenant>/<block>/` (`write_and_upload`),
///   each removed after its upload, leaving `staging/<tenant>/` behind;
/// - objects `tenants/<tenant>/metrics/blocks/<block>/…` in the object store
///   and the same keys in `cache/` (`argus_objstore::paths`): unchanged, not
///   moved.
///
/// Nothing else was under `tenants/<tenant>/`. Building 0.1 from git history
/// would write the same tree, at the cost of a second build of the binary.
fn to_previous_layout(data: &Path, tenant: &str) {
    let tdir = data.join("tenants").join(tenant);
    let signal = tdir.join("metrics");
    std::fs::rename(signal.join("wal"), tdir.join("wal")).unwrap();
    let staging = signal.join("staging");
    if staging.exists() {
        std::fs::create_dir_all(data.join("staging")).unwrap();
        std::fs::rename(&staging, data.join("staging").join(tenant)).unwrap();
    }
    std::fs::remove_dir(&signal).unwrap();
}

fn migrates_the_previous_layout(storage: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 200ms\n  retention: 0s\n{storage}"
    );
    let mut a = Argus::start(dir.path(), &config);
    // Three hours of samples: blocks are cut and uploaded for all but the
    // newest ~15 minutes, which are only in the WAL (the head spans 1.5
    // block ranges before a cut; the newest 10 minutes are never cut while
    // they are the newest).
    let end = now_ms();
    let n = load(&a, end);
    // A second tenant with data in the WAL only.
    let team: Vec<_> = (0..5)
        .map(|i| {
            ts(
                "team_m",
                &[("i", &i.to_string())],
                &[(end - 1000, i as f64)],
            )
        })
        .collect();
    assert_eq!(a.write_v1(Some("team-b"), &team).status(), 204);
    wait_for(&a, "argus_tsdb_blocks_cut_total", 2.0);
    // kill -9 (cuts may be under way): the newest samples are acknowledged
    // but only in the WAL.
    a.kill9();
    for t in ["anonymous", "team-b"] {
        to_previous_layout(&data, t);
    }
    let before = local_tree(&data);
    for p in ["tenants/anonymous/wal", "tenants/team-b/wal"] {
        assert!(before.iter().any(|x| x == p), "{before:?}");
    }
    assert!(before.iter().all(|x| !x.contains("metrics")), "{before:?}");
    assert!(
        before
            .iter()
            .any(|x| x.starts_with("tenants/anonymous/wal/0")),
        "the WAL has segments: {before:?}"
    );

    // No cut or compaction after the restart: a query racing a cut can miss
    // the block being cut (it reads the block list, then the head), and
    // this test counts samples.
    a.config = format!(
        "tsdb:\n  block_range: 10m\n  maintenance_interval: 1h\n  retention: 0s\n{storage}"
    );
    a.spawn();
    // Every sample: those in blocks and those replayed from the moved WAL.
    assert_eq!(total(&a).0, n);
    assert!(
        metric(&a, "argus_tsdb_blocks_loaded") >= 1.0,
        "blocks reloaded"
    );
    let team_now = a.export(Some("team-b"), "team_m");
    assert_eq!(team_now.values().map(Vec::len).sum::<usize>(), 5);
    // Migrated, one log line per tenant.
    let after = local_tree(&data);
    for t in ["anonymous", "team-b"] {
        let wal = format!("tenants/{t}/metrics/wal");
        assert!(after.contains(&wal), "{after:?}");
        assert!(!after.contains(&format!("tenants/{t}/wal")), "{after:?}");
    }
    assert!(!after.iter().any(|x| x.starts_with("staging")), "{after:?}");
    let log = a.log_text();
    for t in ["anonymous", "team-b"] {
        assert_eq!(
            log.lines()
                .filter(|l| l.contains("migrated the tenant's metrics WAL")
                    && l.contains(&format!("tenant={t}")))
                .count(),
            1,
            "{log}"
        );
    }
    // Writes, cuts and restarts go on in the new layout; a second start
    // migrates nothing.
    let more: Vec<_> = (0..10)
        .map(|i| ts("blk", &[("i", &i.to_string())], &[(now_ms(), 1.0)]))
        .collect();
    assert_eq!(a.write_v1(None, &more).status(), 204);
    a.kill9();
    a.spawn();
    assert_eq!(total(&a).0, n + 10);
    assert_eq!(
        a.log_text()
            .matches("migrated the tenant's metrics WAL")
            .count(),
        2
    );
}

#[test]
fn the_previous_releases_data_directory_is_migrated_on_local_disk() {
    migrates_the_previous_layout("");
}

#[test]
fn the_previous_releases_data_directory_is_migrated_with_s3() {
    let Some(moto) = Moto::start("argus-layout") else {
        return;
    };
    migrates_the_previous_layout(&s3_config(moto.port, "argus-layout"));
}
