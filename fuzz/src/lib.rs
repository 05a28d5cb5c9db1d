//! Helpers shared by the fuzz targets.

use std::path::{Path, PathBuf};

/// A scratch directory for targets that decode files: under `/dev/shm` when
/// it exists (tmpfs, so the fsyncs of repair and open cost nothing), else the
/// system temp dir.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let base: PathBuf = if shm.is_dir() {
        shm.into()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("argus-fuzz-")
        .tempdir_in(base)
        .expect("scratch dir")
}

/// Reads a LEB128 uvarint as the project's decoders do (at most 10 bytes).
pub fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}
