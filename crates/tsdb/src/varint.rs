//! LEB128 varints (zig-zag for signed), appended into a caller's buffer.

pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64)
}

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
