//! Float histogram chunk (encoding 2): `<count u16 BE>` then a bit stream.
//! Timestamps as in the XOR chunk (delta-of-delta); per sample a 2-bit
//! counter reset hint, the bucket layout when it changed (schema, zero
//! threshold, spans, custom bounds), and every value (count, sum, zero
//! count, each bucket) XOR'ed with the same field of the previous sample,
//! each field with its own leading/trailing-zero window. Format in
//! `docs/format/chunks.md`.

use super::bits::{BitReader, BitWriter};
use super::xor::{fits, read_uvarint, read_varint, write_uvarint, write_varint};
use argus_model::{CounterResetHint, FloatHistogram, HistogramSample, Span};

/// Largest number of spans or custom bounds a decoder accepts per layout.
const MAX_LAYOUT_ITEMS: u64 = 1 << 16;

/// Leading/trailing-zero window of one XOR'ed field (`leading == 0xff`: unset).
#[derive(Debug, Clone, Copy)]
struct Window {
    leading: u8,
    trailing: u8,
}

const UNSET: Window = Window {
    leading: 0xff,
    trailing: 0,
};

fn write_xor(w: &mut BitWriter, win: &mut Window, prev: f64, v: f64) {
    let delta = v.to_bits() ^ prev.to_bits();
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    let leading = (delta.leading_zeros() as u8).min(31);
    let trailing = delta.trailing_zeros() as u8;
    if win.leading != 0xff && leading >= win.leading && trailing >= win.trailing {
        w.write_bit(false);
        w.write_bits(delta >> win.trailing, 64 - win.leading - win.trailing);
    } else {
        *win = Window { leading, trailing };
        w.write_bit(true);
        w.write_bits(leading as u64, 5);
        let sig = 64 - leading - trailing;
        w.write_bits((sig & 63) as u64, 6);
        w.write_bits(delta >> trailing, sig);
    }
}

fn read_xor(r: &mut BitReader<'_>, win: &mut Window, prev: f64) -> Option<f64> {
    if !r.read_bit()? {
        return Some(prev);
    }
    if r.read_bit()? {
        let leading = r.read_bits(5)? as u8;
        let mut sig = r.read_bits(6)? as u8;
        if sig == 0 {
            sig = 64;
        }
        if leading as u16 + sig as u16 > 64 {
            return None;
        }
        *win = Window {
            leading,
            trailing: 64 - leading - sig,
        };
    } else if win.leading == 0xff {
        return None;
    }
    let bits = r.read_bits(64 - win.leading - win.trailing)?;
    Some(f64::from_bits(prev.to_bits() ^ (bits << win.trailing)))
}

fn hint_bits(h: CounterResetHint) -> u64 {
    match h {
        CounterResetHint::Unknown => 0,
        CounterResetHint::CounterReset => 1,
        CounterResetHint::NotCounterReset => 2,
        CounterResetHint::Gauge => 3,
    }
}

fn hint_from(b: u64) -> CounterResetHint {
    match b {
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}

/// True when `a` and `b` have the same bucket layout (everything but the
/// counts, sum and hint).
fn same_layout(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    a.schema == b.schema
        && a.zero_threshold.to_bits() == b.zero_threshold.to_bits()
        && a.positive_spans == b.positive_spans
        && a.negative_spans == b.negative_spans
        && a.positive_buckets.len() == b.positive_buckets.len()
        && a.negative_buckets.len() == b.negative_buckets.len()
        && a.custom_values.len() == b.custom_values.len()
        && a.custom_values
            .iter()
            .zip(&b.custom_values)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Bitwise equality of two histograms (NaN sums compare by bits), the
/// notion of "same sample" used for duplicate detection.
pub fn histogram_bit_eq(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let eq = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
    };
    same_layout(a, b)
        && a.counter_reset_hint == b.counter_reset_hint
        && a.count.to_bits() == b.count.to_bits()
        && a.sum.to_bits() == b.sum.to_bits()
        && a.zero_count.to_bits() == b.zero_count.to_bits()
        && eq(&a.positive_buckets, &b.positive_buckets)
        && eq(&a.negative_buckets, &b.negative_buckets)
}

fn write_spans(w: &mut BitWriter, spans: &[Span]) {
    write_uvarint(w, spans.len() as u64);
    for s in spans {
        write_varint(w, s.offset as i64);
        write_uvarint(w, s.length as u64);
    }
}

fn read_spans(r: &mut BitReader<'_>) -> Option<Vec<Span>> {
    let n = read_uvarint(r)?;
    if n > MAX_LAYOUT_ITEMS || n as usize * 16 > r.remaining() {
        return None;
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let offset = i32::try_from(read_varint(r)?).ok()?;
        let length = u32::try_from(read_uvarint(r)?).ok()?;
        out.push(Span { offset, length });
    }
    Some(out)
}

fn write_layout(w: &mut BitWriter, h: &FloatHistogram) {
    write_varint(w, h.schema as i64);
    w.write_bits(h.zero_threshold.to_bits(), 64);
    write_spans(w, &h.positive_spans);
    write_uvarint(w, h.positive_buckets.len() as u64);
    write_spans(w, &h.negative_spans);
    write_uvarint(w, h.negative_buckets.len() as u64);
    write_uvarint(w, h.custom_values.len() as u64);
    for v in &h.custom_values {
        w.write_bits(v.to_bits(), 64);
    }
}

/// Reads a layout into `h`, bucket vectors zeroed.
fn read_layout(r: &mut BitReader<'_>, h: &mut FloatHistogram) -> Option<()> {
    h.schema = i32::try_from(read_varint(r)?).ok()?;
    h.zero_threshold = f64::from_bits(r.read_bits(64)?);
    // Every bucket costs at least one bit per sample, which bounds the counts.
    let count = |r: &mut BitReader<'_>| -> Option<usize> {
        let n = read_uvarint(r)?;
        (n as usize <= r.remaining()).then_some(n as usize)
    };
    h.positive_spans = read_spans(r)?;
    h.positive_buckets = vec![0.0; count(r)?];
    h.negative_spans = read_spans(r)?;
    h.negative_buckets = vec![0.0; count(r)?];
    let n = read_uvarint(r)?;
    if n > MAX_LAYOUT_ITEMS || n as usize * 64 > r.remaining() {
        return None;
    }
    h.custom_values = (0..n)
        .map(|_| r.read_bits(64).map(f64::from_bits))
        .collect::<Option<_>>()?;
    Some(())
}

/// XOR windows of one sample's fields: count, sum, zero count, then buckets.
#[derive(Debug, Clone, Default)]
struct Windows {
    fixed: [Option<Window>; 3],
    buckets: Vec<Window>,
}

impl Windows {
    fn reset_buckets(&mut self, n: usize, unset: Window) {
        self.buckets.clear();
        self.buckets.resize(n, unset);
    }
}

/// Writes (or reads) every value of `h` against `prev`, which has the same layout.
fn write_values(w: &mut BitWriter, wins: &mut Windows, prev: &FloatHistogram, h: &FloatHistogram) {
    let fixed = [
        (prev.count, h.count),
        (prev.sum, h.sum),
        (prev.zero_count, h.zero_count),
    ];
    for (i, (p, v)) in fixed.into_iter().enumerate() {
        let win = wins.fixed[i].get_or_insert(UNSET);
        write_xor(w, win, p, v);
    }
    let pb = prev.positive_buckets.iter().chain(&prev.negative_buckets);
    let hb = h.positive_buckets.iter().chain(&h.negative_buckets);
    for ((p, v), win) in pb.zip(hb).zip(wins.buckets.iter_mut()) {
        write_xor(w, win, *p, *v);
    }
}

/// Appends histogram samples to one chunk. Timestamps must strictly increase.
#[derive(Debug, Clone)]
pub struct HistogramAppender {
    w: BitWriter,
    count: u16,
    t: i64,
    t_delta: i64,
    last: FloatHistogram,
    wins: Windows,
}

impl Default for HistogramAppender {
    fn default() -> Self {
        Self::new()
    }
}

fn write_timestamp(w: &mut BitWriter, n: u16, t: i64, prev_t: i64, prev_delta: i64) -> i64 {
    match n {
        0 => {
            write_varint(w, t);
            0
        }
        1 => {
            let d = t.wrapping_sub(prev_t);
            write_uvarint(w, d as u64);
            d
        }
        _ => {
            let d = t.wrapping_sub(prev_t);
            let dod = d.wrapping_sub(prev_delta);
            if dod == 0 {
                w.write_bit(false);
            } else if fits(dod, 14) {
                w.write_bits(0b10, 2);
                w.write_bits(dod as u64, 14);
            } else if fits(dod, 17) {
                w.write_bits(0b110, 3);
                w.write_bits(dod as u64, 17);
            } else if fits(dod, 20) {
                w.write_bits(0b1110, 4);
                w.write_bits(dod as u64, 20);
            } else {
                w.write_bits(0b1111, 4);
                w.write_bits(dod as u64, 64);
            }
            d
        }
    }
}

impl HistogramAppender {
    pub fn new() -> Self {
        HistogramAppender {
            w: BitWriter::from_vec(vec![0, 0]),
            count: 0,
            t: 0,
            t_delta: 0,
            last: FloatHistogram::default(),
            wins: Windows::default(),
        }
    }

    pub fn count(&self) -> u16 {
        self.count
    }

    /// The newest sample.
    pub fn last(&self) -> Option<HistogramSample> {
        (self.count > 0).then(|| HistogramSample {
            t: self.t,
            h: self.last.clone(),
        })
    }

    pub fn last_t(&self) -> Option<i64> {
        (self.count > 0).then_some(self.t)
    }

    pub fn append(&mut self, t: i64, h: &FloatHistogram) {
        self.t_delta = write_timestamp(&mut self.w, self.count, t, self.t, self.t_delta);
        self.w.write_bits(hint_bits(h.counter_reset_hint), 2);
        let new_layout = self.count == 0 || !same_layout(&self.last, h);
        if self.count > 0 {
            self.w.write_bit(new_layout);
        }
        let mut prev = std::mem::take(&mut self.last);
        if new_layout {
            write_layout(&mut self.w, h);
            prev.positive_buckets = vec![0.0; h.positive_buckets.len()];
            prev.negative_buckets = vec![0.0; h.negative_buckets.len()];
            self.wins
                .reset_buckets(h.positive_buckets.len() + h.negative_buckets.len(), UNSET);
        }
        write_values(&mut self.w, &mut self.wins, &prev, h);
        self.last = h.clone();
        self.t = t;
        self.count += 1;
        let c = self.count.to_be_bytes();
        self.w.buf[0] = c[0];
        self.w.buf[1] = c[1];
    }

    /// The encoded chunk (header included).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_vec()
    }
}

/// Decodes a histogram chunk. Stops (and sets `failed`) on malformed input
/// instead of panicking.
#[derive(Debug, Clone)]
pub struct HistogramIter<'a> {
    r: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    t_delta: i64,
    last: FloatHistogram,
    fixed: [Window; 3],
    buckets: Vec<Window>,
    pub failed: bool,
}

impl<'a> HistogramIter<'a> {
    pub fn new(data: &'a [u8]) -> Option<Self> {
        if data.len() < 2 {
            return None;
        }
        Some(HistogramIter {
            r: BitReader::new(&data[2..]),
            total: u16::from_be_bytes([data[0], data[1]]),
            read: 0,
            t: 0,
            t_delta: 0,
            last: FloatHistogram::default(),
            fixed: [UNSET; 3],
            buckets: Vec::new(),
            failed: false,
        })
    }

    pub fn len(&self) -> u16 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn read_timestamp(&mut self) -> Option<()> {
        let r = &mut self.r;
        match self.read {
            0 => self.t = read_varint(r)?,
            1 => {
                self.t_delta = read_uvarint(r)? as i64;
                self.t = self.t.wrapping_add(self.t_delta);
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    if !r.read_bit()? {
                        break;
                    }
                    prefix += 1;
                }
                let nbits = [0u8, 14, 17, 20, 64][prefix as usize];
                let mut dod = 0i64;
                if nbits > 0 {
                    let bits = r.read_bits(nbits)?;
                    dod = if nbits < 64 && bits > (1u64 << (nbits - 1)) {
                        bits as i64 - (1i64 << nbits)
                    } else {
                        bits as i64
                    };
                }
                self.t_delta = self.t_delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.t_delta);
            }
        }
        Some(())
    }

    fn step(&mut self) -> Option<HistogramSample> {
        self.read_timestamp()?;
        let hint = hint_from(self.r.read_bits(2)?);
        let new_layout = self.read == 0 || self.r.read_bit()?;
        let mut h = std::mem::take(&mut self.last);
        h.counter_reset_hint = hint;
        if new_layout {
            read_layout(&mut self.r, &mut h)?;
            self.buckets.clear();
            self.buckets
                .resize(h.positive_buckets.len() + h.negative_buckets.len(), UNSET);
        }
        h.count = read_xor(&mut self.r, &mut self.fixed[0], h.count)?;
        h.sum = read_xor(&mut self.r, &mut self.fixed[1], h.sum)?;
        h.zero_count = read_xor(&mut self.r, &mut self.fixed[2], h.zero_count)?;
        let np = h.positive_buckets.len();
        for (i, win) in self.buckets.iter_mut().enumerate() {
            let v = if i < np {
                &mut h.positive_buckets[i]
            } else {
                &mut h.negative_buckets[i - np]
            };
            *v = read_xor(&mut self.r, win, *v)?;
        }
        self.read += 1;
        self.last = h.clone();
        Some(HistogramSample { t: self.t, h })
    }
}

impl Iterator for HistogramIter<'_> {
    type Item = HistogramSample;

    fn next(&mut self) -> Option<HistogramSample> {
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
#[path = "histogram_tests.rs"]
mod tests;
