//! Gorilla XOR chunk: `<count u16 BE>` then a bit stream of
//! `t0 varint, v0 64 bits, Δt1 uvarint, v1 xor, (Δ²t, v xor)*`.

use super::bits::{BitReader, BitWriter};
use argus_model::Sample;

/// Appends samples to one XOR chunk. Timestamps must be strictly increasing
/// (the head enforces this before calling).
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    count: u16,
    t: i64,
    v: f64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

pub(super) fn write_varint(w: &mut BitWriter, v: i64) {
    write_uvarint(w, ((v << 1) ^ (v >> 63)) as u64)
}

pub(super) fn write_uvarint(w: &mut BitWriter, mut v: u64) {
    while v >= 0x80 {
        w.write_byte((v as u8) | 0x80);
        v >>= 7;
    }
    w.write_byte(v as u8);
}

pub(super) fn read_uvarint(r: &mut BitReader<'_>) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let b = r.read_bits(8)? as u8;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

pub(super) fn read_varint(r: &mut BitReader<'_>) -> Option<i64> {
    let u = read_uvarint(r)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}

#[inline]
pub(super) fn fits(x: i64, nbits: u8) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= (1i64 << (nbits - 1))
}

impl XorAppender {
    pub fn new() -> Self {
        XorAppender {
            w: BitWriter::from_vec(vec![0, 0]),
            count: 0,
            t: 0,
            v: 0.0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    pub fn count(&self) -> u16 {
        self.count
    }

    /// Encoded size so far.
    pub fn size(&self) -> usize {
        self.w.bytes().len()
    }

    pub fn last(&self) -> Option<Sample> {
        (self.count > 0).then_some(Sample {
            t: self.t,
            v: self.v,
        })
    }

    pub fn append(&mut self, t: i64, v: f64) {
        match self.count {
            0 => {
                write_varint(&mut self.w, t);
                self.w.write_bits(v.to_bits(), 64);
            }
            1 => {
                let d = t - self.t;
                write_uvarint(&mut self.w, d as u64);
                self.write_value(v);
                self.t_delta = d;
            }
            _ => {
                let d = t - self.t;
                let dod = d - self.t_delta;
                if dod == 0 {
                    self.w.write_bit(false);
                } else if fits(dod, 14) {
                    self.w.write_bits(0b10, 2);
                    self.w.write_bits(dod as u64, 14);
                } else if fits(dod, 17) {
                    self.w.write_bits(0b110, 3);
                    self.w.write_bits(dod as u64, 17);
                } else if fits(dod, 20) {
                    self.w.write_bits(0b1110, 4);
                    self.w.write_bits(dod as u64, 20);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.write_value(v);
                self.t_delta = d;
            }
        }
        self.t = t;
        self.v = v;
        self.count += 1;
        let c = self.count.to_be_bytes();
        self.w.buf[0] = c[0];
        self.w.buf[1] = c[1];
    }

    fn write_value(&mut self, v: f64) {
        let delta = v.to_bits() ^ self.v.to_bits();
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let mut leading = delta.leading_zeros() as u8;
        let trailing = delta.trailing_zeros() as u8;
        if leading >= 32 {
            leading = 31;
        }
        if self.leading != 0xff && leading >= self.leading && trailing >= self.trailing {
            self.w.write_bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.w.write_bits(delta >> self.trailing, sig);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            self.w.write_bit(true);
            self.w.write_bits(leading as u64, 5);
            let sig = 64 - leading - trailing;
            // 64 significant bits are written as 0 (6 bits cannot hold 64).
            self.w.write_bits((sig & 63) as u64, 6);
            self.w.write_bits(delta >> trailing, sig);
        }
    }

    /// The encoded chunk (header included).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_vec()
    }

    /// Rebuilds an appender positioned at the end of an existing chunk.
    pub fn from_bytes(data: &[u8]) -> Option<Self> {
        let mut it = XorIter::new(data)?;
        let mut a = XorAppender::new();
        for s in it.by_ref() {
            a.append(s.t, s.v);
        }
        (!it.failed).then_some(a)
    }
}

/// Decodes an XOR chunk. Stops (and sets `failed`) on malformed input instead of panicking.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    r: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
    pub failed: bool,
}

impl<'a> XorIter<'a> {
    pub fn new(data: &'a [u8]) -> Option<Self> {
        if data.len() < 2 {
            return None;
        }
        Some(XorIter {
            r: BitReader::new(&data[2..]),
            total: u16::from_be_bytes([data[0], data[1]]),
            read: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            failed: false,
        })
    }

    pub fn len(&self) -> u16 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn step(&mut self) -> Option<Sample> {
        match self.read {
            0 => {
                self.t = read_varint(&mut self.r)?;
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.t_delta = read_uvarint(&mut self.r)? as i64;
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    if !self.r.read_bit()? {
                        break;
                    }
                    prefix += 1;
                }
                let nbits = match prefix {
                    0 => 0,
                    1 => 14,
                    2 => 17,
                    3 => 20,
                    _ => 64,
                };
                let mut dod = 0i64;
                if nbits > 0 {
                    let bits = self.r.read_bits(nbits)?;
                    dod = if nbits == 64 {
                        bits as i64
                    } else if bits > (1u64 << (nbits - 1)) {
                        bits as i64 - (1i64 << nbits)
                    } else {
                        bits as i64
                    };
                }
                self.t_delta = self.t_delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.t_delta);
                self.read_value()?;
            }
        }
        self.read += 1;
        Some(Sample {
            t: self.t,
            v: f64::from_bits(self.v),
        })
    }

    fn read_value(&mut self) -> Option<()> {
        if !self.r.read_bit()? {
            return Some(());
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u8;
            let mut sig = self.r.read_bits(6)? as u8;
            if sig == 0 {
                sig = 64;
            }
            if self.leading as u16 + sig as u16 > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - sig;
        }
        let sig = 64 - self.leading - self.trailing;
        let bits = self.r.read_bits(sig)?;
        self.v ^= bits << self.trailing;
        Some(())
    }
}

impl Iterator for XorIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.read >= self.total || self.failed {
            return None;
        }
        let s = self.step();
        if s.is_none() {
            self.failed = true;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(samples: &[Sample]) -> Vec<Sample> {
        let mut a = XorAppender::new();
        for s in samples {
            a.append(s.t, s.v);
        }
        let it = XorIter::new(a.bytes()).unwrap();
        assert_eq!(it.len() as usize, samples.len());
        it.collect()
    }

    #[test]
    fn regular_series_is_small() {
        let samples: Vec<Sample> = (0..120)
            .map(|i| Sample::new(1_000_000 + i * 15_000, (i % 7) as f64))
            .collect();
        let mut a = XorAppender::new();
        for s in &samples {
            a.append(s.t, s.v);
        }
        let got: Vec<Sample> = XorIter::new(a.bytes()).unwrap().collect();
        assert!(got.iter().zip(&samples).all(|(x, y)| x.bit_eq(y)));
        assert!(a.size() < 120 * 3, "size {}", a.size());
        // constant interval and value: 1 bit per timestamp, 1 bit per value
        let mut c = XorAppender::new();
        for i in 0..120 {
            c.append(1_000_000 + i * 15_000, 42.0);
        }
        assert!(c.size() <= 2 + 8 + 8 + 3 + 30 + 2, "size {}", c.size());
    }

    #[test]
    fn special_values_survive() {
        let vals = [
            f64::NAN,
            argus_model::STALE_NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
        ];
        let samples: Vec<Sample> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| Sample::new(i as i64 * 1000 - 5000, *v))
            .collect();
        let got = roundtrip(&samples);
        assert!(got.iter().zip(&samples).all(|(x, y)| x.bit_eq(y)));
    }

    #[test]
    fn truncated_chunk_does_not_panic() {
        let samples: Vec<Sample> = (0..50)
            .map(|i| Sample::new(i * 1000 + (i * i) % 17, i as f64 * 1.5))
            .collect();
        let mut a = XorAppender::new();
        for s in &samples {
            a.append(s.t, s.v);
        }
        let bytes = a.bytes();
        for cut in 0..bytes.len() {
            if let Some(it) = XorIter::new(&bytes[..cut]) {
                let _ = it.count();
            }
        }
    }

    proptest! {
        #[test]
        fn prop_roundtrip(start in -1_000_000_000_000i64..1_000_000_000_000i64,
                          deltas in proptest::collection::vec(1i64..10_000_000_000, 0..200),
                          vals in proptest::collection::vec(any::<u64>(), 201)) {
            let mut t = start;
            let mut samples = vec![Sample::new(t, f64::from_bits(vals[0]))];
            for (i, d) in deltas.iter().enumerate() {
                t += d;
                samples.push(Sample::new(t, f64::from_bits(vals[i + 1])));
            }
            let got = roundtrip(&samples);
            prop_assert!(got.iter().zip(&samples).all(|(x, y)| x.bit_eq(y)));
        }

        #[test]
        fn prop_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Some(it) = XorIter::new(&data) { let _ = it.count(); }
        }
    }
}
