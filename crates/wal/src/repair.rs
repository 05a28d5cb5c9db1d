//! Recovery at open: bring the directory back to "checkpoint + contiguous valid segments".
//!
//! Rules (also in docs/format/wal.md):
//! 1. `checkpoint.*.tmp` entries are unfinished checkpoints: removed.
//! 2. The newest `checkpoint.N` wins: older checkpoints and segments `<= N` are removed (they
//!    are what a crash between the checkpoint's rename and its cleanup leaves behind). The
//!    checkpoint itself must be intact: it was fsynced before it was renamed into place, so
//!    damage there is not a crash artifact and `open` fails instead of dropping its records.
//! 3. Segments after the checkpoint are scanned in order. The valid log ends at the first
//!    torn or corrupt record, bad segment header, missing segment index, or segment whose
//!    header records a different size for its predecessor than the predecessor has (the
//!    predecessor lost its tail, e.g. written without fsync). The segment holding
//!    that point is truncated to its last good record (removed if its header is bad) and every
//!    later segment is removed.

use std::fs::{self, OpenOptions};
use std::path::Path;

use tracing::{info, warn};

use crate::error::{IoContext, WalError};
use crate::layout::{self, checkpoint_path, remove_any, segment_path};
use crate::segment::{read_strict, Opened, SegmentReader, Step};

/// State of a WAL directory after repair.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Index of the checkpoint, if any.
    pub checkpoint: Option<u64>,
    /// Segments after the checkpoint, ascending and contiguous.
    pub segments: Vec<u64>,
    /// Size of the last of `segments` (0 if there are none).
    pub last_len: u64,
}

impl Recovered {
    /// Index for the first segment the reopened WAL appends to.
    pub(crate) fn next_segment(&self) -> u64 {
        let last = self
            .segments
            .last()
            .copied()
            .or(self.checkpoint)
            .unwrap_or(0);
        last + 1
    }
}

enum Scan {
    /// The header is torn or has the wrong magic.
    BadHeader { file_len: u64, reason: String },
    /// A readable segment; `corrupt` is where its valid part ends, if before `file_len`.
    Read {
        prev_len: u64,
        file_len: u64,
        corrupt: Option<(u64, String)>,
    },
}

fn scan(path: &Path) -> Result<Scan, WalError> {
    let mut reader = match SegmentReader::open(path)? {
        Opened::Reader(r) => r,
        Opened::BadHeader { file_len, reason } => return Ok(Scan::BadHeader { file_len, reason }),
    };
    let corrupt = loop {
        match reader.next()? {
            Step::Record(_) => {}
            Step::End => break None,
            Step::Corrupt { offset, reason } => break Some((offset, reason)),
        }
    };
    Ok(Scan::Read {
        prev_len: reader.prev_len(),
        file_len: reader.file_len(),
        corrupt,
    })
}

/// Reads every record of checkpoint `index`, failing on any damage.
pub(crate) fn validate_checkpoint(dir: &Path, index: u64) -> Result<(), WalError> {
    let cdir = checkpoint_path(dir, index);
    let mut prev_len = None;
    for (expected, seg) in checkpoint_segments(&cdir)?.into_iter().enumerate() {
        let path = segment_path(&cdir, seg);
        if seg != expected as u64 {
            return Err(WalError::Corrupt {
                path,
                offset: 0,
                reason: format!("checkpoint segment {expected} is missing"),
            });
        }
        prev_len = Some(read_strict(&path, prev_len, &mut |_| Ok(()))?.file_len);
    }
    Ok(())
}

/// Segment indexes inside a checkpoint directory, ascending.
pub(crate) fn checkpoint_segments(cdir: &Path) -> Result<Vec<u64>, WalError> {
    Ok(layout::list(cdir)?.segments)
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Repairs `dir` in place (see the module docs) and describes what is left.
pub(crate) fn repair(dir: &Path) -> Result<Recovered, WalError> {
    let listing = layout::list(dir)?;
    let mut changed = false;

    for tmp in &listing.tmp {
        info!(path = %tmp.display(), "removing unfinished wal checkpoint");
        remove_any(tmp)?;
        changed = true;
    }

    let checkpoint = listing.newest_checkpoint();
    let mut segments = listing.segments.clone();
    if let Some(n) = checkpoint {
        validate_checkpoint(dir, n)?;
        for &old in listing.checkpoints.iter().filter(|&&c| c < n) {
            let path = checkpoint_path(dir, old);
            info!(path = %path.display(), checkpoint = n, "removing wal checkpoint superseded by a newer one");
            remove_any(&path)?;
            changed = true;
        }
        for &old in segments.iter().filter(|&&s| s <= n) {
            let path = segment_path(dir, old);
            info!(segment = %path.display(), checkpoint = n, "removing wal segment covered by checkpoint");
            remove_any(&path)?;
            changed = true;
        }
        segments.retain(|&s| s > n);
    }

    let mut valid = Vec::with_capacity(segments.len());
    let mut end = segments.len(); // position of the first segment to remove
    let mut last_len: Option<u64> = None; // size of the last valid segment
    for (i, &index) in segments.iter().enumerate() {
        let path = segment_path(dir, index);
        let expected = match i {
            0 => checkpoint.map(|n| n + 1),
            _ => Some(segments[i - 1] + 1),
        };
        if let Some(expected) = expected.filter(|&e| e != index) {
            warn!(
                segment = %path.display(),
                missing = expected,
                "wal segment missing; the valid log ends before it"
            );
            end = i;
            break;
        }
        match scan(&path)? {
            Scan::BadHeader { file_len, reason } => {
                warn!(
                    segment = %path.display(),
                    offset = 0u64,
                    dropped_bytes = file_len,
                    reason = %reason,
                    "removing wal segment with a bad header"
                );
                remove_any(&path)?;
                changed = true;
                end = i + 1;
                break;
            }
            Scan::Read { prev_len, .. } if last_len.is_some_and(|l| l != prev_len) => {
                warn!(
                    segment = %path.display(),
                    previous_segment_bytes = last_len,
                    recorded_bytes = prev_len,
                    "previous wal segment lost data (size differs from the one recorded here); \
                     the valid log ends before this segment"
                );
                end = i;
                break;
            }
            Scan::Read {
                file_len,
                corrupt: None,
                ..
            } => {
                valid.push(index);
                last_len = Some(file_len);
            }
            Scan::Read {
                file_len,
                corrupt: Some((offset, reason)),
                ..
            } => {
                warn!(
                    segment = %path.display(),
                    offset,
                    dropped_bytes = file_len - offset,
                    reason = %reason,
                    "truncating corrupt wal tail"
                );
                let f = OpenOptions::new().write(true).open(&path).at(&path)?;
                f.set_len(offset).at(&path)?;
                f.sync_all().at(&path)?;
                changed = true;
                valid.push(index);
                last_len = Some(offset);
                end = i + 1;
                break;
            }
        }
    }
    for &index in &segments[end..] {
        let path = segment_path(dir, index);
        warn!(
            segment = %path.display(),
            offset = 0u64,
            dropped_bytes = file_len(&path),
            "removing wal segment after the end of the valid log"
        );
        remove_any(&path)?;
        changed = true;
    }

    if changed {
        layout::sync_dir(dir)?;
    }
    Ok(Recovered {
        checkpoint,
        segments: valid,
        last_len: last_len.unwrap_or(0),
    })
}
