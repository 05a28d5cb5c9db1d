//! Record framing: `len u32 LE | crc32 u32 LE | payload`.
//!
//! The CRC is CRC-32/ISO-HDLC (the IEEE 802.3 polynomial, what `crc32fast` computes) over the
//! four length bytes followed by the payload. Covering the length means a run of zero bytes
//! (e.g. a zero-filled tail after a crash) is never mistaken for a series of empty records:
//! the CRC of `00 00 00 00` is `0x2144DF1C`, not 0.

use crate::error::WalError;

/// Bytes of framing in front of every payload (`len` + `crc`).
pub const RECORD_HEADER_LEN: u64 = 8;

/// Largest payload a record may carry (1 GiB). `append` rejects larger records, readers treat a
/// larger length field as corruption without allocating.
pub const MAX_RECORD_LEN: u64 = 1 << 30;

/// The checksum stored in a record header.
pub(crate) fn record_crc(len: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Size of a record on disk, framing included.
pub(crate) fn encoded_len(payload_len: usize) -> u64 {
    RECORD_HEADER_LEN + payload_len as u64
}

/// Checks that every record of a batch may be written.
pub(crate) fn check_batch(records: &[&[u8]]) -> Result<u64, WalError> {
    let mut total = 0u64;
    for r in records {
        if r.len() as u64 > MAX_RECORD_LEN {
            return Err(WalError::RecordTooLarge {
                len: r.len(),
                max: MAX_RECORD_LEN,
            });
        }
        total += encoded_len(r.len());
    }
    Ok(total)
}

/// Appends the framed record to `buf`. The caller has checked the length with [`check_batch`].
pub(crate) fn encode_into(buf: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).expect("record length checked against MAX_RECORD_LEN");
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&record_crc(len, payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

/// A decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub len: u32,
    pub crc: u32,
}

impl RecordHeader {
    pub(crate) fn decode(b: [u8; RECORD_HEADER_LEN as usize]) -> RecordHeader {
        RecordHeader {
            len: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            crc: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_layout() {
        let mut buf = Vec::new();
        encode_into(&mut buf, b"abc");
        assert_eq!(buf.len() as u64, encoded_len(3));
        assert_eq!(&buf[0..4], &[3, 0, 0, 0]);
        let h = RecordHeader::decode(buf[0..8].try_into().unwrap());
        assert_eq!(h.len, 3);
        assert_eq!(h.crc, record_crc(3, b"abc"));
        assert_eq!(&buf[8..], b"abc");
    }

    #[test]
    fn zeroed_header_is_not_a_valid_empty_record() {
        assert_eq!(record_crc(0, b""), 0x2144_DF1C);
        assert_ne!(record_crc(0, b""), 0);
    }

    #[test]
    fn crc_covers_length() {
        // Same payload bytes, different length field => different checksum.
        assert_ne!(record_crc(3, b"abc"), record_crc(4, b"abc"));
    }

    #[test]
    fn rejects_oversized_records_in_batch() {
        // Cannot allocate 1 GiB in a unit test; check the arithmetic path with a normal batch.
        assert_eq!(check_batch(&[b"ab", b""]).unwrap(), 8 + 2 + 8);
    }
}
