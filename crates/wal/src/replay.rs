//! Reading the log back: the newest checkpoint, then every segment after it.

use std::path::Path;

use tracing::debug;

use crate::error::WalError;
use crate::layout::{self, checkpoint_path, segment_path};
use crate::options::ReplayStats;
use crate::repair::checkpoint_segments;
use crate::segment::read_strict;

/// Replays the checkpoint and the segments with index `< active` (the segment being appended
/// to is excluded). `open` has repaired the directory, so any damage found here is an error.
pub(crate) fn replay(
    dir: &Path,
    active: u64,
    f: &mut dyn FnMut(&[u8]) -> Result<(), WalError>,
) -> Result<ReplayStats, WalError> {
    let listing = layout::list(dir)?;
    let mut stats = ReplayStats::default();
    let checkpoint = listing.newest_checkpoint();

    // `prev_len`: size of the previous file of the same sequence, checked against the header.
    let mut read = |path: &Path, prev_len: Option<u64>, stats: &mut ReplayStats| {
        let read = read_strict(path, prev_len, f)?;
        stats.records += read.records;
        stats.bytes += read.bytes;
        stats.segments += 1;
        Ok::<u64, WalError>(read.file_len)
    };

    if let Some(n) = checkpoint {
        let cdir = checkpoint_path(dir, n);
        stats.from_checkpoint = true;
        let mut prev_len = None;
        for seg in checkpoint_segments(&cdir)? {
            prev_len = Some(read(&segment_path(&cdir, seg), prev_len, &mut stats)?);
        }
    }
    let mut prev_len = None;
    for &seg in listing
        .segments
        .iter()
        .filter(|&&s| checkpoint.is_none_or(|n| s > n) && s < active)
    {
        prev_len = Some(read(&segment_path(dir, seg), prev_len, &mut stats)?);
    }
    debug!(
        dir = %dir.display(),
        records = stats.records,
        bytes = stats.bytes,
        segments = stats.segments,
        from_checkpoint = stats.from_checkpoint,
        "wal replayed"
    );
    Ok(stats)
}
