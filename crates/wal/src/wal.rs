//! The `Wal` handle: appends, group commit, segment rotation, checkpoints.
//!
//! Locks (never held across each other except as noted):
//! - `writer`: the active segment; held for the whole `write` of a batch, so batches are never
//!   interleaved and sequence numbers follow file order. Rotation takes `sync` while holding it
//!   (order: `writer` then `sync`; nothing takes them the other way round).
//! - `sync`: group-commit state. The thread that runs an fsync holds neither lock during it.
//! - `checkpoint`: serialises `checkpoint` and `replay` (so files are not deleted mid-replay);
//!   takes `writer` briefly.
//! - `poison`, `shutdown`: leaves; nothing else is taken while they are held.

use parking_lot::{Condvar, Mutex};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::error::{IoContext, WalError};
use crate::layout::{self, segment_path};
use crate::options::{FsyncPolicy, ReplayStats, WalOptions, WalStats};
use crate::record::{check_batch, encode_into};
use crate::segment::{self, SEGMENT_HEADER_LEN};
use crate::{checkpoint, repair, replay};

/// Encode buffers larger than this are released after use instead of kept for the next batch.
const KEEP_BUF_CAPACITY: usize = 4 << 20;

/// A segmented, checksummed write-ahead log. See the crate docs.
pub struct Wal {
    inner: Arc<Inner>,
    background: Mutex<Option<JoinHandle<()>>>,
}

struct Writer {
    file: Arc<File>,
    index: u64,
    /// Bytes in the active segment, header included.
    size: u64,
    /// Sequence number of the last appended batch (0: none yet).
    last_seq: u64,
    closed: bool,
    buf: Vec<u8>,
}

#[derive(Default)]
struct SyncState {
    /// Every batch with a sequence number `<=` this is durable.
    synced_seq: u64,
    /// Some thread is running an fsync for the group.
    in_progress: bool,
}

struct Inner {
    dir: PathBuf,
    opts: WalOptions,
    writer: Mutex<Writer>,
    sync: Mutex<SyncState>,
    sync_done: Condvar,
    /// Set after a failed write rollback or fsync; the WAL then refuses writes.
    poison: Mutex<Option<String>>,
    checkpoint: Mutex<()>,
    shutdown: Mutex<bool>,
    shutdown_cv: Condvar,
    appended_seq: AtomicU64,
    bytes_written: AtomicU64,
    fsyncs: AtomicU64,
    fsync_nanos_total: AtomicU64,
    last_fsync_nanos: AtomicU64,
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`. Before returning, repairs the log: a torn or
    /// corrupt record ends the valid log; that segment is truncated to the last good record and
    /// any later segments are removed, with a `warn!` naming the segment, offset and bytes
    /// dropped. Leftover `checkpoint.*.tmp` directories are removed, and so are files replaced
    /// by the newest checkpoint. Returns the WAL, positioned to append into a fresh segment
    /// (never one that was repaired or replayed).
    pub fn open(dir: &Path, opts: WalOptions) -> Result<Wal, WalError> {
        opts.validate()?;
        std::fs::create_dir_all(dir).at(dir)?;
        let recovered = repair::repair(dir)?;
        let index = recovered.next_segment();
        let durable = opts.fsync != FsyncPolicy::Never;
        let file = create_segment(dir, index, recovered.last_len, durable)?;
        info!(
            dir = %dir.display(),
            segment = index,
            checkpoint = ?recovered.checkpoint,
            segments = recovered.segments.len(),
            "wal opened"
        );

        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            opts: opts.clone(),
            writer: Mutex::new(Writer {
                file: Arc::new(file),
                index,
                size: SEGMENT_HEADER_LEN,
                last_seq: 0,
                closed: false,
                buf: Vec::new(),
            }),
            sync: Mutex::new(SyncState::default()),
            sync_done: Condvar::new(),
            poison: Mutex::new(None),
            checkpoint: Mutex::new(()),
            shutdown: Mutex::new(false),
            shutdown_cv: Condvar::new(),
            appended_seq: AtomicU64::new(0),
            bytes_written: AtomicU64::new(SEGMENT_HEADER_LEN),
            fsyncs: AtomicU64::new(0),
            fsync_nanos_total: AtomicU64::new(0),
            last_fsync_nanos: AtomicU64::new(0),
        });
        let background = match opts.fsync {
            FsyncPolicy::Interval(every) => {
                let inner = Arc::clone(&inner);
                let handle = std::thread::Builder::new()
                    .name("argus-wal-fsync".into())
                    .spawn(move || inner.run_interval(every))
                    .at(dir)?;
                Some(handle)
            }
            FsyncPolicy::Always | FsyncPolicy::Never => None,
        };
        Ok(Wal {
            inner,
            background: Mutex::new(background),
        })
    }

    /// The directory this WAL lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Calls `f` for every record, in order: first the records of the newest checkpoint (if
    /// any), then those of every segment after it, up to (not including) the segment being
    /// appended to. Call after `open`, before appending. Stops with the error `f` returns (use
    /// [`WalError::callback`] to wrap a foreign error). Damage found here (the directory changed
    /// after `open` repaired it) is returned as [`WalError::Corrupt`].
    pub fn replay(
        &self,
        mut f: impl FnMut(&[u8]) -> Result<(), WalError>,
    ) -> Result<ReplayStats, WalError> {
        let _guard = self.inner.checkpoint.lock();
        let active = self.inner.writer.lock().index;
        replay::replay(&self.inner.dir, active, &mut f)
    }

    /// Appends `records` with one write (one sequence number; a later `sync` makes them durable
    /// together). A batch never spans segments. Thread-safe. With [`FsyncPolicy::Always`] this
    /// does not fsync by itself: call [`sync`](Self::sync) with the returned number. An empty
    /// batch writes nothing and returns the last sequence number.
    pub fn append(&self, records: &[&[u8]]) -> Result<u64, WalError> {
        let total = check_batch(records)?;
        let inner = &*self.inner;
        let mut guard = inner.writer.lock();
        if guard.closed {
            return Err(WalError::Closed);
        }
        inner.check_poison()?;
        if records.is_empty() {
            return Ok(guard.last_seq);
        }
        if guard.size > SEGMENT_HEADER_LEN && guard.size + total > inner.opts.segment_size {
            inner.rotate(&mut guard)?;
        }
        let w = &mut *guard;
        w.buf.clear();
        for r in records {
            encode_into(&mut w.buf, r);
        }
        let written = (&*w.file).write_all(&w.buf);
        if w.buf.capacity() > KEEP_BUF_CAPACITY {
            w.buf = Vec::new();
        }
        if let Err(e) = written {
            let path = segment_path(&inner.dir, w.index);
            // Cut off whatever part of the batch reached the file, or later batches would sit
            // behind a torn record and be dropped by the next `open`.
            let size = w.size;
            let rollback = w
                .file
                .set_len(size)
                .and_then(|()| (&*w.file).seek(SeekFrom::Start(size)).map(drop));
            if let Err(re) = rollback {
                inner.set_poison(format!(
                    "write to {} failed ({e}) and could not be rolled back ({re})",
                    path.display()
                ));
            }
            return Err(WalError::io(path, e));
        }
        w.size += total;
        w.last_seq += 1;
        inner.appended_seq.store(w.last_seq, Ordering::Release);
        inner.bytes_written.fetch_add(total, Ordering::Relaxed);
        Ok(w.last_seq)
    }

    /// Group commit: returns once every batch up to `seq` is fsynced (policy `Always`).
    /// Concurrent callers share one fsync; if another thread's fsync already covered `seq`,
    /// returns at once. With `Interval` or `Never`, returns immediately (after an `Interval`
    /// background fsync failed, returns [`WalError::Poisoned`]).
    pub fn sync(&self, seq: u64) -> Result<(), WalError> {
        match self.inner.opts.fsync {
            FsyncPolicy::Always => self.inner.sync_to(seq),
            FsyncPolicy::Interval(_) | FsyncPolicy::Never => self.inner.check_poison(),
        }
    }

    /// Closes the current segment (fsyncing it unless the policy is `Never`) and starts a new
    /// one; returns the index of the segment just closed.
    pub fn cut_segment(&self) -> Result<u64, WalError> {
        let mut w = self.inner.writer.lock();
        if w.closed {
            return Err(WalError::Closed);
        }
        self.inner.check_poison()?;
        self.inner.rotate(&mut w)
    }

    /// Writes a checkpoint holding `records` that replaces every segment with index `<= upto`:
    /// writes `checkpoint.<upto>.tmp/`, fsyncs it, renames it to `checkpoint.<upto>`, fsyncs the
    /// directory, then deletes segments `<= upto` and older checkpoints. Checkpoints are fsynced
    /// whatever the [`FsyncPolicy`]. `upto` must be a closed segment (below the active one, see
    /// [`cut_segment`](Self::cut_segment)) and newer than the current checkpoint.
    pub fn checkpoint(
        &self,
        upto: u64,
        records: impl Iterator<Item = Vec<u8>>,
    ) -> Result<(), WalError> {
        let inner = &*self.inner;
        let _guard = inner.checkpoint.lock();
        let active = {
            let w = inner.writer.lock();
            if w.closed {
                return Err(WalError::Closed);
            }
            w.index
        };
        if upto >= active {
            return Err(WalError::InvalidCheckpoint(format!(
                "segment {upto} is not closed (the active segment is {active}); call cut_segment first"
            )));
        }
        if let Some(current) = layout::list(&inner.dir)?.newest_checkpoint() {
            if upto <= current {
                return Err(WalError::InvalidCheckpoint(format!(
                    "checkpoint {upto} is not newer than the existing checkpoint {current}"
                )));
            }
        }
        checkpoint::write(&inner.dir, upto, inner.opts.segment_size, records)?;
        Ok(())
    }

    /// Indexes of the segment files in the WAL directory (the active one included), ascending.
    pub fn segments(&self) -> Result<Vec<u64>, WalError> {
        Ok(layout::list(&self.inner.dir)?.segments)
    }

    /// Counters for monitoring.
    pub fn stats(&self) -> WalStats {
        let inner = &*self.inner;
        let secs = |a: &AtomicU64| Duration::from_nanos(a.load(Ordering::Relaxed)).as_secs_f64();
        WalStats {
            bytes_written: inner.bytes_written.load(Ordering::Relaxed),
            disk_bytes: layout::disk_usage(&inner.dir),
            fsyncs: inner.fsyncs.load(Ordering::Relaxed),
            fsync_seconds_total: secs(&inner.fsync_nanos_total),
            last_fsync_seconds: secs(&inner.last_fsync_nanos),
            current_segment: inner.writer.lock().index,
        }
    }

    /// Stops the background fsync thread, fsyncs the active segment (whatever the policy) and
    /// refuses further appends. Idempotent. Dropping a `Wal` closes it, logging any error.
    pub fn close(&self) -> Result<(), WalError> {
        self.stop_background();
        let inner = &*self.inner;
        let (file, index, target) = {
            let mut w = inner.writer.lock();
            if w.closed {
                return Ok(());
            }
            w.closed = true;
            (Arc::clone(&w.file), w.index, w.last_seq)
        };
        inner.check_poison()?;
        inner.fsync(&file, index)?;
        inner.mark_synced(target);
        debug!(dir = %inner.dir.display(), segment = index, "wal closed");
        Ok(())
    }

    fn stop_background(&self) {
        let Some(handle) = self.background.lock().take() else {
            return;
        };
        *self.inner.shutdown.lock() = true;
        self.inner.shutdown_cv.notify_all();
        if handle.join().is_err() {
            warn!(dir = %self.inner.dir.display(), "wal fsync thread panicked");
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            warn!(dir = %self.inner.dir.display(), error = %e, "closing wal on drop failed");
        }
    }
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.inner.dir)
            .field("opts", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

/// Creates segment `index` in `dir`, recording `prev_len` as the size of segment `index - 1`;
/// with `durable`, fsyncs it and the directory. A failure leaves no file behind (best effort),
/// so the index can be tried again.
fn create_segment(dir: &Path, index: u64, prev_len: u64, durable: bool) -> Result<File, WalError> {
    let path = segment_path(dir, index);
    let result = segment::create(&path, prev_len, durable).and_then(|file| {
        if durable {
            layout::sync_dir(dir)?;
        }
        Ok(file)
    });
    if result.is_err() && path.exists() {
        let _ = std::fs::remove_file(&path);
    }
    result
}

impl Inner {
    fn check_poison(&self) -> Result<(), WalError> {
        match &*self.poison.lock() {
            Some(msg) => Err(WalError::Poisoned(msg.clone())),
            None => Ok(()),
        }
    }

    fn set_poison(&self, msg: String) {
        warn!(dir = %self.dir.display(), reason = %msg, "wal disabled after failure");
        self.poison.lock().get_or_insert(msg);
    }

    /// fsyncs `file` (segment `index`), recording stats; a failure poisons the WAL.
    fn fsync(&self, file: &File, index: u64) -> Result<(), WalError> {
        let start = Instant::now();
        if let Err(e) = file.sync_data() {
            let path = segment_path(&self.dir, index);
            self.set_poison(format!("fsync of {} failed: {e}", path.display()));
            self.sync_done.notify_all();
            return Err(WalError::io(path, e));
        }
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.fsync_nanos_total.fetch_add(nanos, Ordering::Relaxed);
        self.last_fsync_nanos.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    fn mark_synced(&self, seq: u64) {
        let mut st = self.sync.lock();
        st.synced_seq = st.synced_seq.max(seq);
        drop(st);
        self.sync_done.notify_all();
    }

    /// Group commit (see `Wal::sync`), regardless of policy.
    fn sync_to(&self, seq: u64) -> Result<(), WalError> {
        let seq = seq.min(self.appended_seq.load(Ordering::Acquire));
        let mut st = self.sync.lock();
        loop {
            if st.synced_seq >= seq {
                return Ok(());
            }
            self.check_poison()?;
            if !st.in_progress {
                break;
            }
            self.sync_done.wait(&mut st);
        }
        st.in_progress = true;
        drop(st);

        // Everything appended so far is either in the active file or in a segment that was
        // fsynced when it was rotated out, so fsyncing the active file covers `last_seq`.
        let (file, index, target) = {
            let w = self.writer.lock();
            (Arc::clone(&w.file), w.index, w.last_seq)
        };
        let result = self.fsync(&file, index);

        let mut st = self.sync.lock();
        st.in_progress = false;
        if result.is_ok() {
            st.synced_seq = st.synced_seq.max(target);
        }
        drop(st);
        self.sync_done.notify_all();
        result
    }

    /// Closes the active segment and starts the next; returns the closed index.
    fn rotate(&self, w: &mut Writer) -> Result<u64, WalError> {
        let durable = self.opts.fsync != FsyncPolicy::Never;
        if durable {
            self.fsync(&w.file, w.index)?;
        }
        let next = w.index + 1;
        let file = create_segment(&self.dir, next, w.size, durable)?;
        let closed = w.index;
        w.file = Arc::new(file);
        w.index = next;
        w.size = SEGMENT_HEADER_LEN;
        self.bytes_written
            .fetch_add(SEGMENT_HEADER_LEN, Ordering::Relaxed);
        if durable {
            self.mark_synced(w.last_seq);
        }
        debug!(dir = %self.dir.display(), closed, segment = next, "wal segment cut");
        Ok(closed)
    }

    /// Body of the `FsyncPolicy::Interval` thread.
    fn run_interval(&self, every: Duration) {
        let mut stop = self.shutdown.lock();
        loop {
            self.shutdown_cv.wait_for(&mut stop, every);
            if *stop {
                return;
            }
            drop(stop);
            if let Err(e) = self.sync_to(self.appended_seq.load(Ordering::Acquire)) {
                warn!(dir = %self.dir.display(), error = %e, "periodic wal fsync failed; stopping");
                return;
            }
            stop = self.shutdown.lock();
        }
    }
}
