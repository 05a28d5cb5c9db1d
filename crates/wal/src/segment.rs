//! Segment files: an 8-byte header followed by records.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{IoContext, WalError};
use crate::record::{record_crc, RecordHeader, MAX_RECORD_LEN, RECORD_HEADER_LEN};

/// Magic number at the start of every segment file, stored big-endian so that a hex dump
/// shows the ASCII bytes `AWAL`.
pub const SEGMENT_MAGIC: u32 = 0x4157_414C;

/// Current segment format version, written into new segments. Version 2
/// has version 1's layout; it marks segments whose records may use
/// encodings a version-1 reader does not know (the metrics store's
/// compressed records), so an older binary refuses them instead of
/// skipping their records.
pub const FORMAT_VERSION: u8 = 2;

/// Oldest segment format version still read (same layout).
pub const MIN_READ_VERSION: u8 = 1;

/// Size of the segment header: magic (4), version (1), reserved (3), previous segment size (8).
pub const SEGMENT_HEADER_LEN: u64 = 16;

/// Header of a segment whose predecessor is `prev_len` bytes long (0: no predecessor).
pub(crate) fn encode_header(prev_len: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[..4].copy_from_slice(&SEGMENT_MAGIC.to_be_bytes());
    h[4] = FORMAT_VERSION;
    h[8..].copy_from_slice(&prev_len.to_le_bytes());
    h
}

/// Creates a new segment file (it must not exist) and writes its header; `prev_len` is the
/// final size of the previous segment of the same log (0 if there is none). With `sync`, the
/// file is fsynced; the caller fsyncs the directory.
pub(crate) fn create(path: &Path, prev_len: u64, sync: bool) -> Result<File, WalError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .at(path)?;
    f.write_all(&encode_header(prev_len)).at(path)?;
    if sync {
        f.sync_all().at(path)?;
    }
    Ok(f)
}

/// One step of reading a segment.
#[derive(Debug)]
pub(crate) enum Step<'a> {
    /// A record whose checksum matched.
    Record(&'a [u8]),
    /// Clean end of the segment.
    End,
    /// The data at `offset` is not a valid record; the valid part of the segment ends there.
    Corrupt { offset: u64, reason: String },
}

/// Streams the records of one segment file, validating framing and checksums.
pub(crate) struct SegmentReader {
    path: PathBuf,
    reader: BufReader<File>,
    file_len: u64,
    prev_len: u64,
    /// End of the last valid record (or of the header).
    offset: u64,
    buf: Vec<u8>,
    done: bool,
}

/// Outcome of opening a segment.
pub(crate) enum Opened {
    Reader(SegmentReader),
    /// The header is missing, torn or has the wrong magic.
    BadHeader {
        file_len: u64,
        reason: String,
    },
}

impl SegmentReader {
    /// Opens `path` and validates its header. An unknown version is an error (never repaired).
    pub(crate) fn open(path: &Path) -> Result<Opened, WalError> {
        let file = File::open(path).at(path)?;
        let file_len = file.metadata().at(path)?.len();
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        if file_len < SEGMENT_HEADER_LEN {
            return Ok(Opened::BadHeader {
                file_len,
                reason: format!("torn segment header ({file_len} of {SEGMENT_HEADER_LEN} bytes)"),
            });
        }
        let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
        if let Some(reason) = read_exact_or_torn(&mut reader, &mut h, path)? {
            return Ok(Opened::BadHeader { file_len, reason });
        }
        let magic = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        if magic != SEGMENT_MAGIC {
            return Ok(Opened::BadHeader {
                file_len,
                reason: format!("bad magic {magic:#010X}, want {SEGMENT_MAGIC:#010X}"),
            });
        }
        if !(MIN_READ_VERSION..=FORMAT_VERSION).contains(&h[4]) {
            return Err(WalError::UnsupportedVersion {
                path: path.to_path_buf(),
                version: h[4],
                supported: FORMAT_VERSION,
            });
        }
        let prev_len = u64::from_le_bytes(h[8..16].try_into().expect("8 bytes"));
        Ok(Opened::Reader(SegmentReader {
            path: path.to_path_buf(),
            reader,
            file_len,
            prev_len,
            offset: SEGMENT_HEADER_LEN,
            buf: Vec::new(),
            done: false,
        }))
    }

    /// Size of the file when it was opened.
    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The previous segment's size as recorded in this segment's header (0: none).
    pub(crate) fn prev_len(&self) -> u64 {
        self.prev_len
    }

    /// Reads the next record. After `End` or `Corrupt`, keeps returning `End`.
    pub(crate) fn next(&mut self) -> Result<Step<'_>, WalError> {
        if self.done {
            return Ok(Step::End);
        }
        let offset = self.offset;
        let remaining = self.file_len - offset;
        if remaining == 0 {
            self.done = true;
            return Ok(Step::End);
        }
        if remaining < RECORD_HEADER_LEN {
            return Ok(self.corrupt(format!("torn record header ({remaining} bytes)")));
        }
        let mut hb = [0u8; RECORD_HEADER_LEN as usize];
        if let Some(reason) = read_exact_or_torn(&mut self.reader, &mut hb, &self.path)? {
            return Ok(self.corrupt(reason));
        }
        let h = RecordHeader::decode(hb);
        let len = u64::from(h.len);
        if len > MAX_RECORD_LEN {
            return Ok(self.corrupt(format!(
                "record length {len} exceeds the maximum {MAX_RECORD_LEN}"
            )));
        }
        let avail = remaining - RECORD_HEADER_LEN;
        if len > avail {
            return Ok(self.corrupt(format!(
                "record length {len} runs past the end of the segment ({avail} bytes left)"
            )));
        }
        self.buf.clear();
        self.buf.resize(h.len as usize, 0);
        if let Some(reason) = read_exact_or_torn(&mut self.reader, &mut self.buf, &self.path)? {
            return Ok(self.corrupt(reason));
        }
        let crc = record_crc(h.len, &self.buf);
        if crc != h.crc {
            return Ok(self.corrupt(format!(
                "checksum mismatch: stored {:#010x}, computed {crc:#010x}",
                h.crc
            )));
        }
        self.offset = offset + RECORD_HEADER_LEN + len;
        Ok(Step::Record(&self.buf))
    }

    fn corrupt(&mut self, reason: String) -> Step<'static> {
        self.done = true;
        Step::Corrupt {
            offset: self.offset,
            reason,
        }
    }
}

/// `read_exact`, but an unexpected EOF (the file shrank under us) is reported as a torn read.
fn read_exact_or_torn(
    r: &mut impl Read,
    buf: &mut [u8],
    path: &Path,
) -> Result<Option<String>, WalError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Ok(Some("unexpected end of file".to_string()))
        }
        Err(e) => Err(WalError::io(path, e)),
    }
}

/// What [`read_strict`] read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadStats {
    pub records: u64,
    pub bytes: u64,
    pub file_len: u64,
}

/// Reads every record of a segment that must be intact (replay after repair, checkpoints).
/// `prev_len` is the size of the previous segment of the same log, if it exists; the header
/// must agree with it.
pub(crate) fn read_strict(
    path: &Path,
    prev_len: Option<u64>,
    f: &mut dyn FnMut(&[u8]) -> Result<(), WalError>,
) -> Result<ReadStats, WalError> {
    let mut reader = match SegmentReader::open(path)? {
        Opened::Reader(r) => r,
        Opened::BadHeader { reason, .. } => {
            return Err(WalError::Corrupt {
                path: path.to_path_buf(),
                offset: 0,
                reason,
            })
        }
    };
    if let Some(expected) = prev_len.filter(|&p| p != reader.prev_len()) {
        return Err(WalError::Corrupt {
            path: path.to_path_buf(),
            offset: 8,
            reason: format!(
                "header records a previous segment of {} bytes, but it is {expected} bytes",
                reader.prev_len()
            ),
        });
    }
    let mut stats = ReadStats {
        file_len: reader.file_len(),
        ..ReadStats::default()
    };
    loop {
        match reader.next()? {
            Step::Record(payload) => {
                stats.records += 1;
                stats.bytes += payload.len() as u64;
                f(payload)?;
            }
            Step::End => return Ok(stats),
            Step::Corrupt { offset, reason } => {
                return Err(WalError::Corrupt {
                    path: path.to_path_buf(),
                    offset,
                    reason,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_into;

    fn write_segment(path: &Path, records: &[&[u8]], extra: &[u8]) {
        let mut buf = encode_header(0).to_vec();
        for r in records {
            encode_into(&mut buf, r);
        }
        buf.extend_from_slice(extra);
        std::fs::write(path, buf).unwrap();
    }

    fn collect(path: &Path) -> (Vec<Vec<u8>>, Option<u64>) {
        let Opened::Reader(mut r) = SegmentReader::open(path).unwrap() else {
            panic!("bad header")
        };
        let mut out = Vec::new();
        loop {
            match r.next().unwrap() {
                Step::Record(p) => out.push(p.to_vec()),
                Step::End => return (out, None),
                Step::Corrupt { offset, .. } => return (out, Some(offset)),
            }
        }
    }

    #[test]
    fn header_layout() {
        let h = encode_header(0x0102);
        assert_eq!(&h[..4], b"AWAL");
        assert_eq!(h[4], FORMAT_VERSION);
        assert_eq!(&h[5..8], &[0, 0, 0]);
        assert_eq!(&h[8..], &[2, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn reads_records_and_stops_at_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("00000001");
        write_segment(&p, &[b"one", b"", b"three"], &[]);
        assert_eq!(
            collect(&p),
            (vec![b"one".to_vec(), vec![], b"three".to_vec()], None)
        );
        let end_of_one = SEGMENT_HEADER_LEN + 8 + 3;

        write_segment(&p, &[b"one"], &[0xff; 5]);
        assert_eq!(collect(&p), (vec![b"one".to_vec()], Some(end_of_one)));

        // A huge length is rejected without allocating it.
        write_segment(&p, &[b"one"], &[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1]);
        assert_eq!(collect(&p), (vec![b"one".to_vec()], Some(end_of_one)));

        // Zeroed tail.
        write_segment(&p, &[b"one"], &[0; 64]);
        assert_eq!(collect(&p), (vec![b"one".to_vec()], Some(end_of_one)));
    }

    #[test]
    fn bad_header_and_unknown_version() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("00000001");
        std::fs::write(&p, b"AWA").unwrap();
        assert!(matches!(
            SegmentReader::open(&p).unwrap(),
            Opened::BadHeader { .. }
        ));
        std::fs::write(&p, b"AWAL\x01\0\0\0").unwrap(); // the old 8 bytes only
        assert!(matches!(
            SegmentReader::open(&p).unwrap(),
            Opened::BadHeader { .. }
        ));
        std::fs::write(&p, b"XXXX\x01\0\0\0\0\0\0\0\0\0\0\0").unwrap();
        assert!(matches!(
            SegmentReader::open(&p).unwrap(),
            Opened::BadHeader { .. }
        ));
        std::fs::write(&p, b"AWAL\x03\0\0\0\0\0\0\0\0\0\0\0").unwrap();
        assert!(matches!(
            SegmentReader::open(&p),
            Err(WalError::UnsupportedVersion { version: 3, .. })
        ));
        // Version 1 segments (same layout) are still read.
        for v in [1u8, 2] {
            let mut h = b"AWAL\x01\0\0\0\0\0\0\0\0\0\0\0".to_vec();
            h[4] = v;
            std::fs::write(&p, &h).unwrap();
            assert!(matches!(
                SegmentReader::open(&p).unwrap(),
                Opened::Reader(_)
            ));
        }
    }
}
