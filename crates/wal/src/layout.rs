//! Names of the files and directories in a WAL directory, and listing them.
//!
//! ```text
//! <dir>/00000007              segment 7
//! <dir>/checkpoint.00000005/  checkpoint replacing segments <= 5
//! <dir>/checkpoint.00000009.tmp/  checkpoint being written (or left by a crash)
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, WalError};

pub(crate) const CHECKPOINT_PREFIX: &str = "checkpoint.";
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// File name of segment `index`: at least 8 decimal digits, zero padded.
pub(crate) fn segment_name(index: u64) -> String {
    format!("{index:08}")
}

pub(crate) fn segment_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(segment_name(index))
}

pub(crate) fn checkpoint_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{index:08}"))
}

pub(crate) fn checkpoint_tmp_path(dir: &Path, index: u64) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{index:08}{TMP_SUFFIX}"))
}

/// Parses a segment file name: 8 or more ASCII digits.
pub(crate) fn parse_index(name: &str) -> Option<u64> {
    if name.len() >= 8 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// What a WAL directory (or a checkpoint directory, for `segments`) contains.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Segment indexes, ascending.
    pub segments: Vec<u64>,
    /// Checkpoint indexes, ascending.
    pub checkpoints: Vec<u64>,
    /// Leftover `checkpoint.*.tmp` entries.
    pub tmp: Vec<PathBuf>,
}

impl Listing {
    pub(crate) fn newest_checkpoint(&self) -> Option<u64> {
        self.checkpoints.last().copied()
    }
}

pub(crate) fn list(dir: &Path) -> Result<Listing, WalError> {
    let mut out = Listing::default();
    for entry in fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_dir = entry.file_type().at(entry.path())?.is_dir();
        if let Some(rest) = name.strip_prefix(CHECKPOINT_PREFIX) {
            if rest.ends_with(TMP_SUFFIX) {
                out.tmp.push(entry.path());
            } else if let (Some(index), true) = (parse_index(rest), is_dir) {
                out.checkpoints.push(index);
            }
        } else if let (Some(index), false) = (parse_index(name), is_dir) {
            out.segments.push(index);
        }
    }
    out.segments.sort_unstable();
    out.checkpoints.sort_unstable();
    Ok(out)
}

/// Makes creations, renames and deletions of entries in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    #[cfg(unix)]
    {
        fs::File::open(dir).at(dir)?.sync_all().at(dir)?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// Removes a file or a directory tree; a missing entry is not an error.
pub(crate) fn remove_any(path: &Path) -> Result<(), WalError> {
    let res = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.at(path),
    }
}

/// Total size of the regular files directly in `dir` plus those one level down (checkpoints).
pub(crate) fn disk_usage(dir: &Path) -> u64 {
    fn walk(dir: &Path, depth: u32) -> u64 {
        let Ok(rd) = fs::read_dir(dir) else { return 0 };
        rd.flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_file() => m.len(),
                Ok(m) if m.is_dir() && depth > 0 => walk(&e.path(), depth - 1),
                _ => 0,
            })
            .sum()
    }
    walk(dir, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_name(1), "00000001");
        assert_eq!(parse_index("00000001"), Some(1));
        assert_eq!(
            parse_index(&segment_name(123_456_789_012)),
            Some(123_456_789_012)
        );
        assert_eq!(parse_index("0000001"), None);
        assert_eq!(parse_index("0000000a"), None);
        assert_eq!(parse_index("+0000001"), None);
    }

    #[test]
    fn listing_classifies_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("00000002"), b"").unwrap();
        fs::write(p.join("00000001"), b"").unwrap();
        fs::write(p.join("notes.txt"), b"").unwrap();
        fs::create_dir(p.join("checkpoint.00000001")).unwrap();
        fs::create_dir(p.join("checkpoint.00000003.tmp")).unwrap();
        fs::create_dir(p.join("00000009")).unwrap(); // a directory is not a segment
        let l = list(p).unwrap();
        assert_eq!(l.segments, vec![1, 2]);
        assert_eq!(l.checkpoints, vec![1]);
        assert_eq!(l.tmp, vec![p.join("checkpoint.00000003.tmp")]);
    }
}
