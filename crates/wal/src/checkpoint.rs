//! Writing checkpoints.
//!
//! A checkpoint `checkpoint.N` is a directory of segment files (numbered from `00000000`, same
//! format as WAL segments) whose records replace every WAL segment with index `<= N`.
//!
//! Protocol, each step durable before the next:
//! 1. write the records into `checkpoint.N.tmp/`, fsync every file and the directory;
//! 2. rename `checkpoint.N.tmp` to `checkpoint.N` (atomic) and fsync the WAL directory;
//! 3. delete the segments `<= N` and older checkpoints.
//!
//! A crash before step 2 completes leaves the old view plus a `.tmp` directory that `open`
//! deletes; a crash after it leaves the new view plus stale files that `open` deletes. Replay
//! always uses only the newest complete checkpoint and only segments after it, so it never
//! mixes the two.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use tracing::{debug, warn};

use crate::error::{IoContext, WalError};
use crate::layout::{self, checkpoint_path, checkpoint_tmp_path, remove_any, segment_path};
use crate::record::{encode_into, encoded_len, MAX_RECORD_LEN};
use crate::segment::{self, SEGMENT_HEADER_LEN};

/// What a finished checkpoint holds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Written {
    pub records: u64,
    pub bytes: u64,
    pub segments: u64,
}

struct Out {
    file: BufWriter<File>,
    index: u64,
    size: u64,
}

fn finish(dir: &Path, out: Out) -> Result<(), WalError> {
    let path = segment_path(dir, out.index);
    let file = out
        .file
        .into_inner()
        .map_err(|e| WalError::io(&path, e.into_error()))?;
    file.sync_all().at(&path)
}

fn start(dir: &Path, index: u64, prev_len: u64) -> Result<Out, WalError> {
    let file = segment::create(&segment_path(dir, index), prev_len, false)?;
    Ok(Out {
        file: BufWriter::with_capacity(1 << 20, file),
        index,
        size: SEGMENT_HEADER_LEN,
    })
}

/// Writes `records` into `tmp` as segment files of at most `segment_size` bytes (a record
/// larger than that gets a segment of its own). Every file is fsynced.
fn write_segments(
    tmp: &Path,
    segment_size: u64,
    records: impl Iterator<Item = Vec<u8>>,
) -> Result<Written, WalError> {
    let mut out = start(tmp, 0, 0)?;
    let mut written = Written::default();
    let mut buf = Vec::new();
    for record in records {
        if record.len() as u64 > MAX_RECORD_LEN {
            return Err(WalError::RecordTooLarge {
                len: record.len(),
                max: MAX_RECORD_LEN,
            });
        }
        let len = encoded_len(record.len());
        if out.size > SEGMENT_HEADER_LEN && out.size + len > segment_size {
            let (next, prev_len) = (out.index + 1, out.size);
            finish(tmp, out)?;
            out = start(tmp, next, prev_len)?;
        }
        buf.clear();
        encode_into(&mut buf, &record);
        out.file.write_all(&buf).at(segment_path(tmp, out.index))?;
        out.size += len;
        written.records += 1;
        written.bytes += record.len() as u64;
    }
    written.segments = out.index + 1;
    finish(tmp, out)?;
    layout::sync_dir(tmp)?;
    Ok(written)
}

/// Runs the whole checkpoint protocol. The caller has validated `upto`.
pub(crate) fn write(
    dir: &Path,
    upto: u64,
    segment_size: u64,
    records: impl Iterator<Item = Vec<u8>>,
) -> Result<Written, WalError> {
    let tmp = checkpoint_tmp_path(dir, upto);
    let fin = checkpoint_path(dir, upto);
    remove_any(&tmp)?;
    fs::create_dir(&tmp).at(&tmp)?;

    let result = write_segments(&tmp, segment_size, records).and_then(|written| {
        fs::rename(&tmp, &fin).at(&fin)?;
        layout::sync_dir(dir)?;
        Ok(written)
    });
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            if let Err(cleanup) = remove_any(&tmp) {
                warn!(path = %tmp.display(), error = %cleanup, "could not remove unfinished wal checkpoint");
            }
            return Err(e);
        }
    };
    debug!(
        checkpoint = %fin.display(),
        records = written.records,
        bytes = written.bytes,
        segments = written.segments,
        "wal checkpoint written"
    );

    // The checkpoint is in effect. Failing to delete what it replaced is not an error for the
    // caller: `open` and the next checkpoint delete the leftovers.
    if let Err(e) = remove_replaced(dir, upto) {
        warn!(checkpoint = %fin.display(), error = %e, "could not remove files replaced by wal checkpoint");
    }
    Ok(written)
}

/// Deletes segments `<= upto` and checkpoints older than `upto`.
fn remove_replaced(dir: &Path, upto: u64) -> Result<(), WalError> {
    let listing = layout::list(dir)?;
    for &s in listing.segments.iter().filter(|&&s| s <= upto) {
        remove_any(&segment_path(dir, s))?;
    }
    for &c in listing.checkpoints.iter().filter(|&&c| c < upto) {
        remove_any(&checkpoint_path(dir, c))?;
    }
    layout::sync_dir(dir)
}
