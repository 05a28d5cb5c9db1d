//! Compressed sample chunks.
//!
//! [`Encoding::Xor`]: Gorilla-style delta-of-delta timestamps and XOR'd
//! floats (Pelkonen et al., VLDB 2015), the same scheme Prometheus's TSDB
//! uses; [`Encoding::Histogram`]: native histograms, the same timestamps and
//! every histogram field XOR'd against the previous sample;
//! [`Encoding::Compact`]: block float chunks, decimal integers and
//! regular-interval timestamps as varint columns compressed with zstd. The formats are
//! described in `docs/format/chunks.md`.

mod bits;
mod compact;
#[cfg(test)]
mod compact_tests;
mod histogram;
mod xor;

pub use compact::{
    decode_compact, decode_compact_times, decode_compact_with, encode_compact, encode_compact_fast,
    encode_compact_ref, MAX_COMPACT_SAMPLES,
};
pub(crate) use compact::{mantissa, min_exp, MAX_EXP, MAX_MANTISSA, POW10};
pub use histogram::{histogram_bit_eq, HistogramAppender, HistogramIter};
pub use xor::{XorAppender, XorIter};

/// Chunk encodings; the byte is stored before each chunk on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Encoding {
    Xor = 1,
    Histogram = 2,
    /// Block float chunks (never in the head).
    Compact = 3,
}

impl Encoding {
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(Encoding::Xor),
            2 => Some(Encoding::Histogram),
            3 => Some(Encoding::Compact),
            _ => None,
        }
    }
}

/// Samples per head chunk before it is closed (Prometheus uses 120).
pub const SAMPLES_PER_CHUNK: u16 = 120;
