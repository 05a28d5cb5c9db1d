//! Compact float chunk (encoding 3), for blocks only: column-wise
//! timestamps (offsets from a detected regular interval, or
//! delta-of-delta), values as decimal integers (common exponent, then delta
//! or delta-of-delta, divided by their GCD) with a byte-transposed XOR
//! fallback, all as varints compressed with zstd. Layout in
//! `docs/format/chunks.md`.

use crate::varint::{get_uvarint, get_varint, put_uvarint, put_varint};
use argus_model::Sample;
use std::cell::RefCell;
use std::sync::Arc;
use zstd::zstd_safe::{CParameter, ParamSwitch};

/// zstd level for block chunks (written once, at cut or compaction time).
const ZSTD_LEVEL: i32 = 9;
/// zstd level for the head's closed chunks (written on the ingest path).
/// Level 1 compresses these small chunks as well as level 9 (measured with
/// `argus-bench head-memory`: 1.19 vs 1.19 bytes/sample) at a fraction of the CPU.
/// Their literals are stored, not Huffman-coded: reading a Huffman table
/// cost more than the rest of decoding a 120-sample chunk (40 % of an
/// instant query over 60k head series); stored literals make the head's
/// closed chunks 12 % larger (45.8 → 51.2 MiB for 100k series × 2 h in
/// `argus-bench head-memory`) and that query 35 % faster.
const HEAD_ZSTD_LEVEL: i32 = 1;
/// Largest decimal exponent tried: 10^e is exact in f64 up to e = 22.
pub(crate) const MAX_EXP: usize = 15;
/// Integer mantissas are kept within ±2^53, where f64 is exact.
pub(crate) const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0;
/// Refuse to decode a chunk claiming more samples than this.
pub const MAX_COMPACT_SAMPLES: usize = 1 << 16;

thread_local! {
    /// zstd contexts are reused: creating one costs more than a small chunk.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        RefCell::new(zstd::bulk::Compressor::new(ZSTD_LEVEL).ok());
    static HEAD_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        RefCell::new(zstd::bulk::Compressor::new(HEAD_ZSTD_LEVEL).ok().and_then(|mut c| {
            c.set_parameter(CParameter::LiteralCompressionMode(ParamSwitch::Disable))
                .ok()?;
            Some(c)
        }));
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        RefCell::new(zstd::bulk::Decompressor::new().ok());
}

const FLAG_ZSTD: u8 = 1;
const TIME_DOD: u8 = 0;
const TIME_GRID: u8 = 1;
const TIME_REF: u8 = 2;
const VALUES_XOR: u8 = 0;
const VALUES_DECIMAL: u8 = 1;

pub(crate) const POW10: [f64; MAX_EXP + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

fn varint_len(v: i64) -> usize {
    let u = ((v << 1) ^ (v >> 63)) as u64;
    (64 - u.leading_zeros() as usize).max(1).div_ceil(7)
}

/// Encodes `samples` (timestamps strictly increasing, at most
/// [`MAX_COMPACT_SAMPLES`]) as a compact chunk.
pub fn encode_compact(samples: &[Sample]) -> Vec<u8> {
    encode(samples, None, ZSTD_LEVEL)
}

/// [`encode_compact`] with a faster zstd level, for the head's closed
/// chunks (encoded on the ingest path).
pub fn encode_compact_fast(samples: &[Sample]) -> Vec<u8> {
    encode(samples, None, HEAD_ZSTD_LEVEL)
}

/// Encodes `samples` as a compact chunk whose timestamps are those of the
/// compact chunk at `chunk_ref` in the same chunks file (stored inline
/// there, the same number of samples): series scraped from one target share
/// their timestamps.
pub fn encode_compact_ref(samples: &[Sample], chunk_ref: u64) -> Vec<u8> {
    encode(samples, Some(chunk_ref), ZSTD_LEVEL)
}

fn encode(samples: &[Sample], chunk_ref: Option<u64>, level: i32) -> Vec<u8> {
    debug_assert!(samples.len() <= MAX_COMPACT_SAMPLES);
    let mut payload = Vec::with_capacity(samples.len() * 3 + 16);
    put_uvarint(&mut payload, samples.len() as u64);
    if !samples.is_empty() {
        match chunk_ref {
            Some(r) => {
                payload.push(TIME_REF);
                put_uvarint(&mut payload, r);
            }
            None => {
                let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
                encode_times(&mut payload, &ts);
            }
        }
        encode_values(&mut payload, samples);
    }
    let mut out = Vec::with_capacity(payload.len() / 2 + 16);
    let compressor = if level == ZSTD_LEVEL {
        &COMPRESSOR
    } else {
        &HEAD_COMPRESSOR
    };
    let z = compressor.with(|c| match &mut *c.borrow_mut() {
        Some(c) => c.compress(&payload),
        None => zstd::bulk::compress(&payload, level),
    });
    match z {
        Ok(z) if z.len() < payload.len() => {
            out.push(FLAG_ZSTD);
            out.extend_from_slice(&z);
        }
        _ => {
            out.push(0);
            out.extend_from_slice(&payload);
        }
    }
    out
}

fn encode_times(out: &mut Vec<u8>, ts: &[i64]) {
    if ts.len() == 1 {
        out.push(TIME_DOD);
        put_varint(out, ts[0]);
        return;
    }
    let n = ts.len();
    // Regular interval: offsets from t0 + i·interval (jitter of a few ms
    // costs a byte, then zstd shrinks it further).
    let span = ts[n - 1] as i128 - ts[0] as i128;
    let interval = (span + (n as i128 - 1) / 2) / (n as i128 - 1);
    let mut grid = Vec::with_capacity(n + 8);
    let mut grid_ok = interval > 0 && interval <= i64::MAX as i128;
    if grid_ok {
        put_uvarint(&mut grid, interval as u64);
        for (i, &t) in ts.iter().enumerate().skip(1) {
            let off = t as i128 - (ts[0] as i128 + i as i128 * interval);
            if off.abs() > (1i128 << 60) {
                grid_ok = false;
                break;
            }
            put_varint(&mut grid, off as i64);
        }
    }
    let mut dod = Vec::with_capacity(n + 8);
    let mut prev_delta = ts[1].wrapping_sub(ts[0]);
    put_uvarint(&mut dod, prev_delta as u64);
    for w in ts[1..].windows(2) {
        let d = w[1].wrapping_sub(w[0]);
        put_varint(&mut dod, d.wrapping_sub(prev_delta));
        prev_delta = d;
    }
    if grid_ok && grid.len() <= dod.len() {
        out.push(TIME_GRID);
        put_varint(out, ts[0]);
        out.extend_from_slice(&grid);
    } else {
        out.push(TIME_DOD);
        put_varint(out, ts[0]);
        out.extend_from_slice(&dod);
    }
}

/// The integer mantissa of `v` at exponent `e`, when `m / 10^e` gives back
/// exactly `v` (so never for NaN, ±Inf or -0.0).
#[inline]
pub(crate) fn mantissa(v: f64, e: usize) -> Option<i64> {
    let m = (v * POW10[e]).round();
    if m.is_nan() || m.abs() > MAX_MANTISSA {
        return None;
    }
    let m = m as i64;
    // Through the integer, as the decoder does: -0.0 comes back as +0.0.
    ((m as f64 / POW10[e]).to_bits() == v.to_bits()).then_some(m)
}

/// Smallest exponent at which `v` is an exact decimal.
pub(crate) fn min_exp(v: f64) -> Option<usize> {
    if !v.is_finite() {
        return None;
    }
    (0..=MAX_EXP).find(|&e| mantissa(v, e).is_some())
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Residuals of `m` of order 1 (deltas) or 2 (delta-of-deltas), from
/// index `order` on.
fn residuals(m: &[i64], order: u8) -> Vec<i64> {
    let d: Vec<i64> = m.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    if order == 1 {
        return d;
    }
    d.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect()
}

fn encode_values(out: &mut Vec<u8>, samples: &[Sample]) {
    let n = samples.len();
    // Values that are not exact decimals at the chosen exponent are stored
    // raw as exceptions; allow one in 16 before giving up on decimals.
    let max_exceptions = n / 16;
    let mut by_exp = [0usize; MAX_EXP + 1];
    let mut none = 0;
    for s in samples {
        match min_exp(s.v) {
            Some(e) => by_exp[e] += 1,
            None => none += 1,
        }
        if none > max_exceptions {
            return encode_xor(out, samples);
        }
    }
    let mut above = n - none;
    let mut exp = MAX_EXP;
    for (e, &c) in by_exp.iter().enumerate() {
        above -= c;
        if above + none <= max_exceptions {
            exp = e;
            break;
        }
    }
    let mut m = Vec::with_capacity(n);
    let mut exceptions = Vec::new();
    let mut last = 0i64;
    for (i, s) in samples.iter().enumerate() {
        match mantissa(s.v, exp) {
            Some(x) => last = x,
            None => exceptions.push((i, s.v.to_bits())),
        }
        m.push(last);
    }
    if exceptions.len() > max_exceptions {
        return encode_xor(out, samples);
    }
    out.push(VALUES_DECIMAL);
    out.push(exp as u8);
    put_uvarint(out, exceptions.len() as u64);
    let mut prev = 0;
    for &(i, bits) in &exceptions {
        put_uvarint(out, (i - prev) as u64);
        out.extend_from_slice(&bits.to_le_bytes());
        prev = i;
    }
    let r1 = residuals(&m, 1);
    let r2 = residuals(&m, 2);
    let cost = |r: &[i64]| r.iter().map(|&x| varint_len(x)).sum::<usize>();
    let (order, r) = if n > 2 && cost(&r2) < cost(&r1) {
        (2u8, r2)
    } else {
        (1u8, r1)
    };
    out.push(order);
    put_varint(out, m[0]);
    if order == 2 {
        put_varint(out, m[1].wrapping_sub(m[0]));
    }
    let g = r.iter().fold(0u64, |g, &x| gcd(g, x.unsigned_abs())).max(1);
    put_uvarint(out, g);
    for x in r {
        put_varint(out, x / g as i64);
    }
}

/// Fallback: each value's bits XOR'ed with the previous value's, written as
/// 8 byte planes (all low bytes, …, all high bytes) so zstd sees runs.
fn encode_xor(out: &mut Vec<u8>, samples: &[Sample]) {
    out.push(VALUES_XOR);
    let n = samples.len();
    let start = out.len();
    out.resize(start + 8 * n, 0);
    let mut prev = 0u64;
    for (i, s) in samples.iter().enumerate() {
        let bits = s.v.to_bits();
        let x = (bits ^ prev).to_le_bytes();
        for (k, b) in x.into_iter().enumerate() {
            out[start + k * n + i] = b;
        }
        prev = bits;
    }
}

/// The payload of a compact chunk, decompressed.
fn payload(data: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    let (&flags, body) = data.split_first()?;
    match flags {
        0 => Some(body.into()),
        FLAG_ZSTD => {
            // At most 10 bytes of varints per timestamp and value, plus
            // the headers; the frame states its decompressed size.
            let cap = MAX_COMPACT_SAMPLES * 20 + 64;
            let size = zstd::zstd_safe::get_frame_content_size(body).ok()??;
            if size > cap as u64 {
                return None;
            }
            let v = DECOMPRESSOR.with(|d| match &mut *d.borrow_mut() {
                Some(d) => d.decompress(body, size as usize).ok(),
                None => zstd::bulk::decompress(body, size as usize).ok(),
            })?;
            Some(v.into())
        }
        _ => None,
    }
}

fn sample_count(b: &mut &[u8]) -> Option<usize> {
    let n = get_uvarint(b)? as usize;
    (n <= MAX_COMPACT_SAMPLES && n <= b.len()).then_some(n)
}

/// Decodes a compact chunk that stores its timestamps; `None` on truncated
/// or malformed input, or timestamps by reference.
pub fn decode_compact(data: &[u8]) -> Option<Vec<Sample>> {
    decode_compact_with(data, |_| None)
}

/// Decodes a compact chunk; `resolve` gives the timestamps of the chunk a
/// chunk refers to for its timestamps ([`decode_compact_times`] of it).
pub fn decode_compact_with(
    data: &[u8],
    resolve: impl FnOnce(u64) -> Option<Arc<[i64]>>,
) -> Option<Vec<Sample>> {
    let payload = payload(data)?;
    let mut b: &[u8] = &payload;
    let n = sample_count(&mut b)?;
    if n == 0 {
        return Some(Vec::new());
    }
    let mut out = Vec::with_capacity(n);
    if b.first() == Some(&TIME_REF) {
        b = &b[1..];
        let ts = resolve(get_uvarint(&mut b)?)?;
        if ts.len() != n {
            return None;
        }
        out.extend(ts.iter().map(|&t| Sample::new(t, 0.0)));
    } else {
        decode_times(&mut b, n, &mut out)?;
    }
    decode_values(&mut b, &mut out)?;
    Some(out)
}

/// The timestamps of a compact chunk that stores them (not by reference).
pub fn decode_compact_times(data: &[u8]) -> Option<Arc<[i64]>> {
    let payload = payload(data)?;
    let mut b: &[u8] = &payload;
    let n = sample_count(&mut b)?;
    let mut out = Vec::with_capacity(n);
    if n > 0 {
        decode_times(&mut b, n, &mut out)?;
    }
    Some(out.iter().map(|s| s.t).collect())
}

fn decode_times(b: &mut &[u8], n: usize, out: &mut Vec<Sample>) -> Option<()> {
    let (&mode, rest) = b.split_first()?;
    *b = rest;
    let t0 = get_varint(b)?;
    out.push(Sample::new(t0, 0.0));
    if n == 1 {
        return (mode == TIME_DOD).then_some(());
    }
    match mode {
        TIME_GRID => {
            let interval = get_uvarint(b)? as i64;
            let mut base = t0;
            for _ in 1..n {
                base = base.wrapping_add(interval);
                let off = get_varint(b)?;
                out.push(Sample::new(base.wrapping_add(off), 0.0));
            }
        }
        TIME_DOD => {
            let mut delta = get_uvarint(b)? as i64;
            let mut t = t0.wrapping_add(delta);
            out.push(Sample::new(t, 0.0));
            for _ in 2..n {
                delta = delta.wrapping_add(get_varint(b)?);
                t = t.wrapping_add(delta);
                out.push(Sample::new(t, 0.0));
            }
        }
        _ => return None,
    }
    Some(())
}

fn decode_values(b: &mut &[u8], out: &mut [Sample]) -> Option<()> {
    let n = out.len();
    let (&mode, rest) = b.split_first()?;
    *b = rest;
    match mode {
        VALUES_XOR => {
            if b.len() < 8 * n {
                return None;
            }
            let mut prev = 0u64;
            for (i, s) in out.iter_mut().enumerate() {
                let mut x = [0u8; 8];
                for (k, byte) in x.iter_mut().enumerate() {
                    *byte = b[k * n + i];
                }
                prev ^= u64::from_le_bytes(x);
                s.v = f64::from_bits(prev);
            }
            *b = &b[8 * n..];
        }
        VALUES_DECIMAL => {
            let (&exp, rest) = b.split_first()?;
            *b = rest;
            let scale = *POW10.get(exp as usize)?;
            let nexc = get_uvarint(b)? as usize;
            if nexc > n {
                return None;
            }
            let mut exceptions = Vec::with_capacity(nexc);
            let mut at = 0usize;
            for _ in 0..nexc {
                at = at.checked_add(get_uvarint(b)? as usize)?;
                let (bits, rest) = b.split_first_chunk::<8>()?;
                *b = rest;
                exceptions.push((at, u64::from_le_bytes(*bits)));
            }
            let (&order, rest) = b.split_first()?;
            *b = rest;
            let mut m = get_varint(b)?;
            let mut d = 0i64;
            let first = match order {
                1 => 1,
                2 => {
                    d = get_varint(b)?;
                    2
                }
                _ => return None,
            };
            let g = get_uvarint(b)? as i64;
            let to_f64 = |m: i64| m as f64 / scale;
            out[0].v = to_f64(m);
            if first == 2 && n > 1 {
                m = m.wrapping_add(d);
                out[1].v = to_f64(m);
            }
            for s in out.iter_mut().skip(first) {
                let r = get_varint(b)?.wrapping_mul(g);
                if order == 1 {
                    m = m.wrapping_add(r);
                } else {
                    d = d.wrapping_add(r);
                    m = m.wrapping_add(d);
                }
                s.v = to_f64(m);
            }
            for (i, bits) in exceptions {
                out.get_mut(i)?.v = f64::from_bits(bits);
            }
        }
        _ => return None,
    }
    Some(())
}
