//! Bit-level writer and reader used by the XOR chunk encoding.

/// Appends bits MSB-first into a caller's byte buffer.
#[derive(Debug, Clone, Default)]
pub(super) struct BitWriter {
    pub(crate) buf: Vec<u8>,
    /// Bits still free in the last byte of `buf` (0..=7; 0 means a new byte is needed).
    free: u8,
}

impl BitWriter {
    pub(super) fn from_vec(buf: Vec<u8>) -> Self {
        BitWriter { buf, free: 0 }
    }

    #[inline]
    pub(super) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            *self.buf.last_mut().expect("pushed above") |= 1 << self.free;
        }
    }

    /// Writes the low `n` bits of `v`, most significant first (n <= 64).
    #[inline]
    pub(super) fn write_bits(&mut self, v: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let shift = n - take;
            let chunk = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            self.free -= take;
            *self.buf.last_mut().expect("pushed above") |= chunk << self.free;
            n -= take;
        }
    }

    #[inline]
    pub(super) fn write_byte(&mut self, b: u8) {
        self.write_bits(b as u64, 8)
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub(super) fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads bits MSB-first.
#[derive(Debug, Clone)]
pub(super) struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize, // in bits
}

impl<'a> BitReader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, pos: 0 }
    }

    /// Bits left to read.
    pub(super) fn remaining(&self) -> usize {
        (self.buf.len() * 8).saturating_sub(self.pos)
    }

    #[inline]
    pub(super) fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.buf.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    #[inline]
    pub(super) fn read_bits(&mut self, mut n: u8) -> Option<u64> {
        if self.pos + n as usize > self.buf.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        while n > 0 {
            let byte = self.buf[self.pos / 8];
            let used = (self.pos % 8) as u8;
            let avail = 8 - used;
            let take = n.min(avail);
            let bits = (byte >> (avail - take)) & (((1u16 << take) - 1) as u8);
            v = (v << take) | bits as u64;
            self.pos += take as usize;
            n -= take;
        }
        Some(v)
    }
}
