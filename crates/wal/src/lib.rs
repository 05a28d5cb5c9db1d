//! A generic, segmented, checksummed write-ahead log with group commit.
//!
//! Records are opaque byte payloads; the metrics, logs and traces stores define what they
//! contain, encoded with [`codec`] (varints, strings, a bounds-checked reader, bounded zstd).
//! The on-disk format is specified in `docs/format/wal.md`.
//!
//! Lifecycle:
//! 1. [`Wal::open`] repairs the directory (truncating a torn or corrupt tail) and starts a fresh
//!    segment.
//! 2. [`Wal::replay`] feeds the newest checkpoint's records, then every later segment's, to the
//!    store so it can rebuild its in-memory state.
//! 3. [`Wal::append`] + [`Wal::sync`] log new data; concurrent `sync` callers share fsyncs.
//! 4. Periodically the store calls [`Wal::cut_segment`] and [`Wal::checkpoint`] with whatever
//!    records it still needs, and older segments are deleted.
//!
//! ```
//! use argus_wal::{Wal, WalOptions};
//! # let tmp = tempfile::tempdir().unwrap();
//! let wal = Wal::open(tmp.path(), WalOptions::default())?;
//! wal.replay(|_record| Ok(()))?;
//! let seq = wal.append(&[b"first", b"second"])?;
//! wal.sync(seq)?; // durable once this returns
//! wal.close()?;
//!
//! let wal = Wal::open(tmp.path(), WalOptions::default())?;
//! let mut seen = Vec::new();
//! wal.replay(|r| {
//!     seen.push(r.to_vec());
//!     Ok(())
//! })?;
//! assert_eq!(seen, vec![b"first".to_vec(), b"second".to_vec()]);
//! # Ok::<(), argus_wal::WalError>(())
//! ```

mod checkpoint;
pub mod codec;
mod error;
mod layout;
mod options;
mod record;
mod repair;
mod replay;
mod segment;
mod wal;

pub use error::WalError;
pub use options::{FsyncPolicy, ReplayStats, WalOptions, WalStats, DEFAULT_SEGMENT_SIZE};
pub use record::{MAX_RECORD_LEN, RECORD_HEADER_LEN};
pub use segment::{FORMAT_VERSION, MIN_READ_VERSION, SEGMENT_HEADER_LEN, SEGMENT_MAGIC};
pub use wal::Wal;

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT_DOC: &str = include_str!("../../../docs/format/wal.md");

    #[test]
    fn format_doc_matches_constants() {
        let magic = format!("{SEGMENT_MAGIC:#010X}").replace("0X", "0x");
        assert!(
            FORMAT_DOC.contains(&magic),
            "wal.md must mention the magic {magic}"
        );
        assert!(
            FORMAT_DOC.contains(&format!("Current version: `{FORMAT_VERSION}`")),
            "wal.md must state the current version {FORMAT_VERSION}"
        );
        assert!(FORMAT_DOC.contains(&format!("{SEGMENT_HEADER_LEN}-byte header")));
        assert!(FORMAT_DOC.contains(&format!("{MAX_RECORD_LEN} bytes")));
        assert!(FORMAT_DOC.contains("CRC-32/ISO-HDLC"));
    }

    #[test]
    fn wal_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Wal>();
        assert_send_sync::<WalError>();
    }
}
