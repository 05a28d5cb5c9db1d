//! What every store's WAL records are encoded with (the WAL carries them
//! as opaque bytes): LEB128 varints (zig-zag for signed) and
//! length-prefixed strings appended into a caller's buffer, a
//! bounds-checked [`Reader`] that decodes them, bounded zstd
//! decompression, and the framing the flushing stores share ([`Framed`]:
//! a zstd payload or a freeze marker). A damaged or hostile record is an
//! error from these, never a panic or an allocation larger than the record
//! allows.

use std::io::Read;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty record")]
    Empty,
    #[error("unknown record kind {0}")]
    Kind(u8),
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
    #[error("not a {0} file (bad magic)")]
    Magic(String),
    #[error("unsupported version {0}")]
    Version(u8),
    #[error("checksum mismatch")]
    Checksum,
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

const KIND_PAYLOAD: u8 = 1;
const KIND_FREEZE: u8 = 2;

/// A record of a store that flushes its head into segments (logs,
/// traces): `kind:u8 body`, kind 1 a zstd frame of the store's own
/// payload, kind 2 a freeze marker (`u64` LE: the WAL segment the flush
/// closed; every earlier record's data is in that flush).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// The payload, decompressed.
    Payload(Vec<u8>),
    Freeze(u64),
}

/// Appends a kind 1 record of `raw`, compressed at zstd `level`.
pub fn encode_payload(raw: &[u8], level: i32, out: &mut Vec<u8>) {
    out.push(KIND_PAYLOAD);
    out.extend(zstd::bulk::compress(raw, level).expect("zstd compresses in memory"));
}

/// Appends a freeze marker: the flush closed WAL segment `segment`.
pub fn encode_freeze(segment: u64, out: &mut Vec<u8>) {
    out.push(KIND_FREEZE);
    out.extend_from_slice(&segment.to_le_bytes());
}

/// Decodes a record's framing; a payload is decompressed to at most `max`
/// bytes.
pub fn decode_framed(rec: &[u8], max: usize) -> Result<Framed, CodecError> {
    let (&kind, body) = rec.split_first().ok_or(CodecError::Empty)?;
    match kind {
        KIND_PAYLOAD => decompress(body, max).map(Framed::Payload),
        KIND_FREEZE => {
            let mut r = Reader::new(body);
            let segment = r.u64_le()?;
            r.finish()?;
            Ok(Framed::Freeze(segment))
        }
        k => Err(CodecError::Kind(k)),
    }
}

/// Appends a sealed file: `magic version:u8 zstd(body) crc32(all before):u32
/// LE`, the envelope of a segment's index files.
pub fn seal(magic: &[u8; 8], version: u8, body: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(magic);
    out.push(version);
    out.extend(zstd::bulk::compress(body, 3).expect("zstd compresses in memory"));
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// The body of a file [`seal`]ed with `magic` and `version`, decompressed
/// to at most `max` bytes.
pub fn unseal(b: &[u8], magic: &[u8; 8], version: u8, max: usize) -> Result<Vec<u8>, CodecError> {
    if b.len() < 13 || &b[..8] != magic {
        return Err(CodecError::Magic(
            String::from_utf8_lossy(magic).into_owned(),
        ));
    }
    if b[8] != version {
        return Err(CodecError::Version(b[8]));
    }
    let (payload, crc) = b.split_at(b.len() - 4);
    if crc32fast::hash(payload) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(CodecError::Checksum);
    }
    decompress(&payload[9..], max)
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
    fn framed_records_round_trip_and_damage_is_an_error() {
        let mut b = Vec::new();
        encode_payload(b"abc", -3, &mut b);
        assert_eq!(decode_framed(&b, 10), Ok(Framed::Payload(b"abc".to_vec())));
        assert_eq!(decode_framed(&b, 2), Err(CodecError::TooLarge(2)));
        let mut b = Vec::new();
        encode_freeze(42, &mut b);
        assert_eq!(decode_framed(&b, 10), Ok(Framed::Freeze(42)));
        assert_eq!(decode_framed(&b[..5], 10), Err(CodecError::Truncated(0)));
        assert_eq!(decode_framed(&[], 10), Err(CodecError::Empty));
        assert_eq!(decode_framed(&[9], 10), Err(CodecError::Kind(9)));
        assert!(decode_framed(&[1, 0x28, 0xb5, 0x2f], 10).is_err());
    }

    #[test]
    fn sealed_files_open_and_damage_is_an_error() {
        let mut f = Vec::new();
        seal(b"ARGTEST1", 2, b"body", &mut f);
        assert_eq!(unseal(&f, b"ARGTEST1", 2, 100).unwrap(), b"body");
        assert_eq!(unseal(&f, b"ARGTEST1", 2, 3), Err(CodecError::TooLarge(3)));
        assert_eq!(unseal(&f, b"ARGTEST1", 3, 100), Err(CodecError::Version(2)));
        assert!(matches!(
            unseal(&f, b"ARGOTHER", 2, 100),
            Err(CodecError::Magic(_))
        ));
        let mut bad = f.clone();
        bad[10] ^= 1;
        assert_eq!(unseal(&bad, b"ARGTEST1", 2, 100), Err(CodecError::Checksum));
        assert!(matches!(
            unseal(&f[..12], b"ARGTEST1", 2, 100),
            Err(CodecError::Magic(_))
        ));
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
