//! What every store's WAL records are encoded with (the WAL carries them
//! as opaque bytes): LEB128 varints (zig-zag for signed) and
//! length-prefixed strings appended into a caller's buffer, a
//! bounds-checked [`Reader`] that decodes them, and bounded zstd
//! decompression. A damaged or hostile record is an error from these,
//! never a panic or an allocation larger than the record allows.

use std::io::Read;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("record truncated at byte {0}")]
    Truncated(usize),
    #[error("invalid UTF-8 at byte {0}")]
    Utf8(usize),
    #[error("record larger than {0} bytes decompressed")]
    TooLarge(usize),
    #[error("decompressing: {0}")]
    Zstd(String),
    #[error("{0} trailing bytes")]
    Trailing(usize),
    #[error("invalid value at byte {0}")]
    Invalid(usize),
}

pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Length (uvarint), then the bytes.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

/// `body`, a zstd frame, decompressed: at most `max` bytes.
pub fn decompress(body: &[u8], max: usize) -> Result<Vec<u8>, CodecError> {
    let dec = zstd::stream::Decoder::new(body).map_err(|e| CodecError::Zstd(e.to_string()))?;
    let mut out = Vec::new();
    dec.take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Zstd(e.to_string()))?;
    if out.len() > max {
        return Err(CodecError::TooLarge(max));
    }
    Ok(out)
}

/// A bounds-checked reader over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error unless every byte was read.
    pub fn finish(&self) -> Result<(), CodecError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(CodecError::Trailing(n)),
        }
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(CodecError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn uvarint(&mut self) -> Result<u64, CodecError> {
        let at = self.pos;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(CodecError::Invalid(at))
    }

    pub fn varint(&mut self) -> Result<i64, CodecError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// 8 bytes, little-endian.
    pub fn u64_le(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// 8 bytes, little-endian.
    pub fn i64_le(&mut self) -> Result<i64, CodecError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A uvarint that must fit a `u32`.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        let at = self.pos;
        u32::try_from(self.uvarint()?).map_err(|_| CodecError::Invalid(at))
    }

    /// A count of items each taking at least `min_bytes`: larger than what
    /// is left cannot be right (and must not size an allocation).
    pub fn count(&mut self, min_bytes: usize) -> Result<usize, CodecError> {
        let at = self.pos;
        let n = self.uvarint()?;
        if n.saturating_mul(min_bytes.max(1) as u64) > self.remaining() as u64 {
            return Err(CodecError::Truncated(at));
        }
        Ok(n as usize)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(CodecError::Truncated(self.pos))?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    /// The next `N` bytes, as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let at = self.pos;
        self.bytes(N)?
            .try_into()
            .map_err(|_| CodecError::Truncated(at))
    }

    /// Length-prefixed bytes ([`put_bytes`]).
    pub fn len_bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let at = self.pos;
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| CodecError::Truncated(at))?;
        self.bytes(n)
    }

    /// A length-prefixed UTF-8 string ([`put_str`]).
    pub fn str(&mut self) -> Result<&'a str, CodecError> {
        let at = self.pos;
        std::str::from_utf8(self.len_bytes()?).map_err(|_| CodecError::Utf8(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn values_round_trip(u in any::<u64>(), i in any::<i64>(), s in "\\PC{0,20}", b in proptest::collection::vec(any::<u8>(), 0..20)) {
            let mut out = Vec::new();
            put_uvarint(&mut out, u);
            put_varint(&mut out, i);
            put_str(&mut out, &s);
            put_bytes(&mut out, &b);
            out.extend_from_slice(&[1, 2, 3]);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.uvarint().unwrap(), u);
            prop_assert_eq!(r.varint().unwrap(), i);
            prop_assert_eq!(r.str().unwrap(), s.as_str());
            prop_assert_eq!(r.len_bytes().unwrap(), &b[..]);
            prop_assert_eq!(r.array::<3>().unwrap(), [1, 2, 3]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn garbage_is_an_error_not_a_panic(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = Reader::new(&b);
            let _ = r.count(1).and_then(|n| (0..n).try_for_each(|_| r.str().map(|_| ())));
            let _ = Reader::new(&b).u32();
            let _ = decompress(&b, 1 << 10);
        }
    }

    #[test]
    fn counts_beyond_the_record_and_long_varints_are_errors() {
        let mut out = Vec::new();
        put_uvarint(&mut out, 5);
        out.push(0);
        assert_eq!(Reader::new(&out).count(1), Err(CodecError::Truncated(0)));
        assert_eq!(
            Reader::new(&[0xff; 11]).uvarint(),
            Err(CodecError::Invalid(0))
        );
        let mut out = Vec::new();
        put_uvarint(&mut out, u64::from(u32::MAX) + 1);
        assert_eq!(Reader::new(&out).u32(), Err(CodecError::Invalid(0)));
        let big = zstd::bulk::compress(&[7u8; 5000], 1).unwrap();
        assert_eq!(decompress(&big, 4999), Err(CodecError::TooLarge(4999)));
        assert_eq!(decompress(&big, 5000).unwrap().len(), 5000);
        assert_eq!(Reader::new(&[1, 2]).finish(), Err(CodecError::Trailing(2)));
        let mut out = Vec::new();
        put_bytes(&mut out, &[0xff, 0xfe]);
        assert_eq!(Reader::new(&out).str(), Err(CodecError::Utf8(0)));
    }
}
