//! Compressed sample chunks.
//!
//! The only encoding today is [`Encoding::Xor`]: Gorilla-style delta-of-delta
//! timestamps and XOR'd floats (Pelkonen et al., VLDB 2015), the same scheme
//! Prometheus's TSDB uses. The format is described in `docs/format/chunks.md`.

mod bits;
mod xor;

pub use xor::{XorAppender, XorIter};

/// Chunk encodings; the byte is stored before each chunk on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Encoding {
    Xor = 1,
}

impl Encoding {
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(Encoding::Xor),
            _ => None,
        }
    }
}

/// Samples per head chunk before it is closed (Prometheus uses 120).
pub const SAMPLES_PER_CHUNK: u16 = 120;
