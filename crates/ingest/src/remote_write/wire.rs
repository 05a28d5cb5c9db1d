//! A minimal protobuf wire-format reader over a byte slice.
//!
//! The decoder walks the outer messages (request, series) with this reader
//! so that one series at a time is materialised straight into the model:
//! decoding a whole request into prost structs first would let a few bytes
//! on the wire (an empty histogram is 2 bytes) become a struct of ~200
//! bytes, a 100x memory amplification on top of the snappy limit. Leaf messages are decoded with
//! prost. Acceptance mirrors prost's decoder exactly (varint overflow rule,
//! key checks, group skipping, wire-type checks); a proptest checks that
//! the two agree.

use std::fmt;

/// Nesting limit for skipped groups, as prost's recursion limit.
const MAX_GROUP_DEPTH: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint,
    Fixed64,
    Len,
    StartGroup,
    EndGroup,
    Fixed32,
}

impl fmt::Display for WireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireType::Varint => "varint",
            WireType::Fixed64 => "64-bit",
            WireType::Len => "length-delimited",
            WireType::StartGroup => "start-group",
            WireType::EndGroup => "end-group",
            WireType::Fixed32 => "32-bit",
        })
    }
}

/// A field's value; fixed-width numbers and groups are only skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Other(WireType),
}

impl Value<'_> {
    pub(crate) fn wire_type(&self) -> WireType {
        match self {
            Value::Varint(_) => WireType::Varint,
            Value::Len(_) => WireType::Len,
            Value::Other(w) => *w,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    InvalidVarint,
    InvalidKey(u64),
    InvalidTag,
    InvalidWireType(u64),
    BufferUnderflow,
    UnexpectedEndGroup,
    GroupTooDeep,
    WrongWireType {
        tag: u32,
        actual: WireType,
        expected: WireType,
    },
    InvalidUtf8 {
        tag: u32,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::InvalidVarint => f.write_str("invalid varint"),
            WireError::InvalidKey(k) => write!(f, "invalid field key {k}"),
            WireError::InvalidTag => f.write_str("invalid field number 0"),
            WireError::InvalidWireType(w) => write!(f, "invalid wire type {w}"),
            WireError::BufferUnderflow => {
                f.write_str("field length runs past the end of the message (truncated?)")
            }
            WireError::UnexpectedEndGroup => f.write_str("unexpected end-group tag"),
            WireError::GroupTooDeep => f.write_str("groups nested too deeply"),
            WireError::WrongWireType {
                tag,
                actual,
                expected,
            } => {
                write!(f, "field {tag} has wire type {actual}, expected {expected}")
            }
            WireError::InvalidUtf8 { tag } => write!(f, "string field {tag} is not valid UTF-8"),
        }
    }
}

/// Reads the fields of one message, in wire order.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The next field number and value, or `None` at the end of the message.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let (tag, wire_type) = self.key()?;
        let value = match wire_type {
            WireType::Varint => Value::Varint(self.varint()?),
            WireType::Len => {
                let len = self.varint()?;
                Value::Len(self.take(len)?)
            }
            WireType::Fixed64 => {
                self.take(8)?;
                Value::Other(wire_type)
            }
            WireType::Fixed32 => {
                self.take(4)?;
                Value::Other(wire_type)
            }
            WireType::StartGroup => {
                self.skip_group(tag, MAX_GROUP_DEPTH)?;
                Value::Other(wire_type)
            }
            WireType::EndGroup => return Err(WireError::UnexpectedEndGroup),
        };
        Ok(Some((tag, value)))
    }

    /// A LEB128 varint of at most 10 bytes; the 10th byte may only be 0 or 1.
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(i) else {
                return Err(WireError::InvalidVarint);
            };
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                if i == 9 && b >= 2 {
                    return Err(WireError::InvalidVarint);
                }
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(WireError::InvalidVarint)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn key(&mut self) -> Result<(u32, WireType), WireError> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(WireError::InvalidKey(key));
        }
        let wire_type = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            w => return Err(WireError::InvalidWireType(w)),
        };
        let tag = (key as u32) >> 3;
        if tag == 0 {
            return Err(WireError::InvalidTag);
        }
        Ok((tag, wire_type))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], WireError> {
        if len > self.buf.len() as u64 {
            return Err(WireError::BufferUnderflow);
        }
        let (head, rest) = self.buf.split_at(len as usize);
        self.buf = rest;
        Ok(head)
    }

    fn skip_group(&mut self, tag: u32, depth: u32) -> Result<(), WireError> {
        if depth == 0 {
            return Err(WireError::GroupTooDeep);
        }
        loop {
            let (inner, wire_type) = self.key()?;
            match wire_type {
                WireType::EndGroup if inner == tag => return Ok(()),
                WireType::EndGroup => return Err(WireError::UnexpectedEndGroup),
                WireType::StartGroup => self.skip_group(inner, depth - 1)?,
                WireType::Varint => {
                    self.varint()?;
                }
                WireType::Fixed64 => {
                    self.take(8)?;
                }
                WireType::Fixed32 => {
                    self.take(4)?;
                }
                WireType::Len => {
                    let len = self.varint()?;
                    self.take(len)?;
                }
            }
        }
    }
}

/// The payload of a length-delimited field, or a wire-type error.
pub(crate) fn expect_len(tag: u32, value: Value<'_>) -> Result<&[u8], WireError> {
    match value {
        Value::Len(b) => Ok(b),
        other => Err(WireError::WrongWireType {
            tag,
            actual: other.wire_type(),
            expected: WireType::Len,
        }),
    }
}

/// A `string` field's payload as `&str` (protobuf strings must be UTF-8).
pub(crate) fn expect_str(tag: u32, value: Value<'_>) -> Result<&str, WireError> {
    std::str::from_utf8(expect_len(tag, value)?).map_err(|_| WireError::InvalidUtf8 { tag })
}

/// Appends a `repeated uint32` field, packed or not; values are truncated to
/// 32 bits as protobuf (and prost) do.
pub(crate) fn push_u32s(tag: u32, value: Value<'_>, out: &mut Vec<u32>) -> Result<(), WireError> {
    match value {
        Value::Varint(v) => out.push(v as u32),
        Value::Len(b) => {
            let mut r = Reader::new(b);
            while !r.is_empty() {
                out.push(r.varint()? as u32);
            }
        }
        Value::Other(actual) => {
            return Err(WireError::WrongWireType {
                tag,
                actual,
                expected: WireType::Varint,
            })
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_limits() {
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint(), Ok(u64::MAX));
        let overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            Reader::new(&overflow).varint(),
            Err(WireError::InvalidVarint)
        );
        assert_eq!(
            Reader::new(&[0x80; 11]).varint(),
            Err(WireError::InvalidVarint)
        );
        assert_eq!(Reader::new(&[0x80]).varint(), Err(WireError::InvalidVarint));
    }

    #[test]
    fn skips_groups_and_checks_keys() {
        // field 7 start-group { field 1 varint 5 } field 7 end-group, then field 2 len "a".
        let buf = [0x3b, 0x08, 0x05, 0x3c, 0x12, 0x01, b'a'];
        let mut r = Reader::new(&buf);
        assert_eq!(
            r.next_field(),
            Ok(Some((7, Value::Other(WireType::StartGroup))))
        );
        assert_eq!(r.next_field(), Ok(Some((2, Value::Len(b"a")))));
        assert_eq!(r.next_field(), Ok(None));
        assert_eq!(
            Reader::new(&[0x3b, 0x44]).next_field(),
            Err(WireError::UnexpectedEndGroup)
        );
        assert_eq!(
            Reader::new(&[0x00]).next_field(),
            Err(WireError::InvalidTag)
        );
        assert_eq!(
            Reader::new(&[0x0e]).next_field(),
            Err(WireError::InvalidWireType(6))
        );
        assert_eq!(
            Reader::new(&[0x0a, 0x05, 1]).next_field(),
            Err(WireError::BufferUnderflow)
        );
    }
}
