//! The metrics store's local layout: which tenants it has on disk, and the
//! start-up migration from the layout Argus 0.1 wrote.
//!
//! Paths come from [`argus_model::paths::DataDir`]; the metrics store owns
//! `<data_dir>/tenants/<tenant>/metrics/`.
//!
//! # Migration from the 0.1 layout
//!
//! Argus 0.1 kept a tenant's WAL at `<data_dir>/tenants/<tenant>/wal/` and
//! blocks being uploaded at `<data_dir>/staging/<tenant>/<block>/`. At
//! start-up, before any tenant is opened, [`migrate`]:
//!
//! 1. for each tenant with a `tenants/<tenant>/wal/` directory, creates
//!    `tenants/<tenant>/metrics/` and renames the WAL directory to
//!    `tenants/<tenant>/metrics/wal/` (one `rename(2)`: the WAL moves whole,
//!    nothing is copied or rewritten), then fsyncs both parent directories
//!    so the rename survives a power loss; it logs one line per tenant;
//! 2. deletes `<data_dir>/staging/`: a staging block is a copy of data that
//!    is still in the WAL (a cut block leaves the WAL only after its upload)
//!    or in the blocks it was compacted from, so what a crash left there is
//!    redundant (0.1 never cleaned it up).
//!
//! Object keys and the read cache already had the `metrics` segment in 0.1
//! and do not move.
//!
//! Killed at any point, the next start finishes the job: before a rename
//! the tenant is still in the old layout (perhaps with an empty `metrics/`
//! directory, which is fine) and is migrated again; after it, the WAL is
//! complete at its new place and there is nothing left to do; a
//! half-deleted `staging/` is deleted again. Running it on a migrated (or
//! new) directory does nothing. If both `tenants/<tenant>/wal/` and
//! `tenants/<tenant>/metrics/wal/` hold files (0.1 was started again on a
//! migrated directory and wrote a new WAL), start-up fails naming both
//! rather than guess which to keep; an empty one of the two is removed.

use crate::DbError;
use argus_model::paths::DataDir;
use argus_model::{Signal, TenantId};
use std::path::Path;
use tracing::{info, warn};

/// Moves a data directory in the 0.1 layout to the per-signal layout (see
/// the module docs). Returns the tenants whose WAL was moved.
pub fn migrate(data: &DataDir) -> Result<Vec<TenantId>, DbError> {
    let mut moved = Vec::new();
    for tenant in dir_tenants(data) {
        let old = data.legacy_wal(&tenant);
        if !is_dir(&old) {
            continue;
        }
        let new = data.wal(&tenant, Signal::Metrics);
        if is_dir(&new) {
            if is_empty_dir(&new)? {
                std::fs::remove_dir(&new).map_err(|e| DbError::io(&new, e))?;
            } else if is_empty_dir(&old)? {
                std::fs::remove_dir(&old).map_err(|e| DbError::io(&old, e))?;
                continue;
            } else {
                return Err(DbError::Internal(format!(
                    "tenant {tenant}: both {} (the layout of Argus 0.1) and {} hold a WAL; \
                     move away the one not to keep and start again",
                    old.display(),
                    new.display()
                )));
            }
        }
        let signal_dir = data.signal(&tenant, Signal::Metrics);
        let tenant_dir = data.tenant(&tenant);
        std::fs::create_dir_all(&signal_dir).map_err(|e| DbError::io(&signal_dir, e))?;
        sync_dir(&tenant_dir)?;
        std::fs::rename(&old, &new).map_err(|e| DbError::io(&old, e))?;
        sync_dir(&signal_dir)?;
        sync_dir(&tenant_dir)?;
        info!(tenant = %tenant, from = %old.display(), to = %new.display(),
              "migrated the tenant's metrics WAL to the per-signal layout");
        moved.push(tenant);
    }
    let staging = data.legacy_staging();
    if is_dir(&staging) {
        std::fs::remove_dir_all(&staging).map_err(|e| DbError::io(&staging, e))?;
        sync_dir(data.root())?;
        info!(path = %staging.display(), "removed the staging directory of an older release (blocks it held are still in the WAL or in uploaded blocks)");
    }
    Ok(moved)
}

/// Tenants with a local directory for `signal` (`tenants/<tenant>/<signal>/`), sorted.
pub fn local_tenants(data: &DataDir, signal: Signal) -> Vec<TenantId> {
    dir_tenants(data)
        .into_iter()
        .filter(|t| is_dir(&data.signal(t, signal)))
        .collect()
}

/// Valid tenant ids among the directories under `tenants/`, sorted; other
/// names are skipped with a warning.
fn dir_tenants(data: &DataDir) -> Vec<TenantId> {
    let Ok(rd) = std::fs::read_dir(data.tenants()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        match TenantId::new(&name) {
            Ok(t) => out.push(t),
            Err(_) => warn!(name = %name, "ignoring directory that is not a valid tenant id"),
        }
    }
    out.sort();
    out
}

fn is_dir(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

fn is_empty_dir(p: &Path) -> Result<bool, DbError> {
    Ok(std::fs::read_dir(p)
        .map_err(|e| DbError::io(p, e))?
        .next()
        .is_none())
}

fn sync_dir(p: &Path) -> Result<(), DbError> {
    std::fs::File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|e| DbError::io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TenantId {
        TenantId::new(s).unwrap()
    }

    /// The 0.1 layout: `tenants/<t>/wal/<segment>` and `staging/<t>/<block>/`.
    fn old_layout(d: &DataDir, tenant: &str) {
        let wal = d.legacy_wal(&t(tenant));
        std::fs::create_dir_all(&wal).unwrap();
        std::fs::write(wal.join("00000000"), tenant).unwrap();
        let staging = d.legacy_staging().join(tenant).join("01BLOCK");
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("index"), b"x").unwrap();
    }

    #[test]
    fn migrates_every_tenant_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::new(dir.path());
        old_layout(&d, "a");
        old_layout(&d, "b");
        std::fs::create_dir_all(d.tenants().join("not a tenant")).unwrap();
        assert_eq!(migrate(&d).unwrap(), vec![t("a"), t("b")]);
        for name in ["a", "b"] {
            let wal = d.wal(&t(name), Signal::Metrics);
            assert_eq!(
                std::fs::read(wal.join("00000000")).unwrap(),
                name.as_bytes()
            );
            assert!(!d.legacy_wal(&t(name)).exists());
        }
        assert!(!d.legacy_staging().exists());
        assert_eq!(local_tenants(&d, Signal::Metrics), vec![t("a"), t("b")]);
        assert!(local_tenants(&d, Signal::Logs).is_empty());
        // Idempotent.
        assert!(migrate(&d).unwrap().is_empty());
        assert_eq!(
            std::fs::read(d.wal(&t("a"), Signal::Metrics).join("00000000")).unwrap(),
            b"a"
        );
    }

    #[test]
    fn a_migration_killed_before_the_rename_is_redone() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::new(dir.path());
        old_layout(&d, "a");
        // Killed after creating the target directories, before the rename.
        std::fs::create_dir_all(d.wal(&t("a"), Signal::Metrics)).unwrap();
        assert_eq!(migrate(&d).unwrap(), vec![t("a")]);
        assert!(d.wal(&t("a"), Signal::Metrics).join("00000000").exists());
        assert!(!d.legacy_wal(&t("a")).exists());
    }

    #[test]
    fn two_non_empty_wals_refuse_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::new(dir.path());
        old_layout(&d, "a");
        let new = d.wal(&t("a"), Signal::Metrics);
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("00000000"), b"new").unwrap();
        let e = migrate(&d).unwrap_err().to_string();
        assert!(e.contains("both"), "{e}");
        // Nothing was moved or deleted.
        assert!(d.legacy_wal(&t("a")).join("00000000").exists());
        assert!(new.join("00000000").exists());
        // An empty old WAL (0.1 started and stopped at once) is dropped.
        std::fs::remove_file(d.legacy_wal(&t("a")).join("00000000")).unwrap();
        assert!(migrate(&d).unwrap().is_empty());
        assert!(!d.legacy_wal(&t("a")).exists());
        assert_eq!(std::fs::read(new.join("00000000")).unwrap(), b"new");
    }
}
