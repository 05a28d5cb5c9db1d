//! LEB128 varints (zig-zag for signed): written with the shared record
//! codec (`argus_wal::codec`), read here from a slice that advances.

pub(crate) use argus_wal::codec::{put_uvarint, put_varint};

/// Reads a uvarint and advances `buf`; `None` when truncated or over 64 bits.
pub(crate) fn get_uvarint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return None;
        }
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b < 0x80 {
            *buf = &buf[i + 1..];
            return Some(v);
        }
    }
    None
}

pub(crate) fn get_varint(buf: &mut &[u8]) -> Option<i64> {
    let u = get_uvarint(buf)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}
