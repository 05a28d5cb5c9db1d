//! The metrics store's WAL record payloads (framing and checksums belong to
//! `argus-wal`). Documented in `docs/format/wal.md` ("Metrics records").

//!
//! Types 1–4 are the first encoding (still read); since WAL segment
//! version 2 new series are written as type 6 (type 1's body, compressed)
//! and float samples as type 5 (columns, values as decimal deltas from the
//! series' previous WAL value, compressed); checkpoints hold the head's
//! chunks as type 7. Type 8 holds exemplars (`crate::exemplars::walrec`),
//! written since exemplars are stored; a WAL without them reads as before.

use crate::chunk::{mantissa, min_exp, MAX_EXP, MAX_MANTISSA, POW10};
use crate::head::{HeadChunk, PackedLabels};
use crate::varint::{get_uvarint, get_varint, put_uvarint, put_varint};
use argus_model::{
    CounterResetHint, Exemplar, FloatHistogram, HistogramSample, Labels, Sample, Span,
};
use std::borrow::Cow;
use std::cell::RefCell;

pub const REC_SERIES: u8 = 1;
pub const REC_SAMPLES: u8 = 2;
pub const REC_MIN_VALID_TIME: u8 = 3;
pub const REC_HISTOGRAM_SAMPLES: u8 = 4;
pub const REC_DELTA_SAMPLES: u8 = 5;
pub const REC_SERIES_COMPRESSED: u8 = 6;
pub const REC_CHUNKS: u8 = 7;
/// Exemplars with their series' labels (`crate::exemplars::walrec`).
pub const REC_EXEMPLARS: u8 = 8;

/// Payload codecs of types 5 and 6.
const CODEC_NONE: u8 = 0;
const CODEC_ZSTD: u8 = 1;
/// zstd level for WAL records (on the ingest path).
const ZSTD_LEVEL: i32 = 1;
/// Largest decompressed payload a reader accepts, and the largest ratio of
/// decompressed to compressed size (plus `RATIO_SLACK`); writers store a
/// payload uncompressed when zstd would exceed either.
pub const MAX_PAYLOAD: usize = 64 << 20;
const MAX_RATIO: usize = 1024;
const RATIO_SLACK: usize = 4096;
/// Samples per type-5 record at most (larger batches are split).
pub const MAX_RECORD_SAMPLES: usize = 8192;
/// Exponent byte of a value stored as raw f64 bits.
const EXP_RAW: u8 = 0xff;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        RefCell::new(zstd::bulk::Compressor::new(ZSTD_LEVEL).ok());
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        RefCell::new(zstd::bulk::Decompressor::new().ok());
}

/// A type-5 sample value, relative to the previous float value the WAL
/// logged for the same series (0.0 for a new series): resolve it with
/// [`DeltaValue::resolve`] in WAL order, one series at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaValue {
    /// Decimal exponent (0..=15), or 0xff: `bits` are the value's bits.
    pub exp: u8,
    /// The mantissa delta (as i64 bits) or the raw value bits.
    pub bits: u64,
}

impl DeltaValue {
    pub fn raw(v: f64) -> Self {
        DeltaValue {
            exp: EXP_RAW,
            bits: v.to_bits(),
        }
    }

    /// The value, given the series' previous WAL value `prev`.
    #[inline]
    pub fn resolve(self, prev: f64) -> f64 {
        if self.exp == EXP_RAW {
            return f64::from_bits(self.bits);
        }
        let p = POW10[usize::from(self.exp).min(MAX_EXP)];
        let m = base_mantissa(prev, p).wrapping_add(self.bits as i64);
        m as f64 / p
    }

    /// Encodes `v` against the previous value `prev`.
    #[inline]
    pub fn encode(v: f64, prev: f64) -> Self {
        if let Some(e) = min_exp(v) {
            if let Some(m) = mantissa(v, e) {
                let base = base_mantissa(prev, POW10[e]);
                return DeltaValue {
                    exp: e as u8,
                    bits: m.wrapping_sub(base) as u64,
                };
            }
        }
        DeltaValue::raw(v)
    }
}

/// `prev` scaled by `p` and rounded, the base a delta is added to (0 when
/// it is not a finite integer within ±2^53).
#[inline]
fn base_mantissa(prev: f64, p: f64) -> i64 {
    let m = (prev * p).round();
    if m.is_finite() && m.abs() <= MAX_MANTISSA {
        m as i64
    } else {
        0
    }
}

/// One float sample of a type-5 record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaSample {
    pub id: u64,
    pub t: i64,
    pub v: DeltaValue,
}

/// A series' chunks in a checkpoint (type 7).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesChunks {
    pub id: u64,
    /// The series' last float value logged in the WAL (f64 bits): later
    /// type-5 records are relative to it.
    pub wal_last: u64,
    /// Closed float chunks (compact encoding), oldest first.
    pub closed: Vec<HeadChunk>,
    /// The open float chunk (XOR encoding) and its first timestamp.
    pub open: Option<(i64, Vec<u8>)>,
    /// Out-of-order samples, sorted by time.
    pub ooo: Vec<Sample>,
    /// Closed native histogram chunks, oldest first.
    pub hist_closed: Vec<HeadChunk>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// New series: id and label set (packed, as stored in the record).
    Series(Vec<(u64, PackedLabels)>),
    Samples(Vec<(u64, Sample)>),
    MinValidTime(i64),
    HistogramSamples(Vec<(u64, HistogramSample)>),
    DeltaSamples(Vec<DeltaSample>),
    Chunks(Vec<SeriesChunks>),
    /// Exemplars with their series' labels, in the order stored (type 8).
    Exemplars(Vec<(Labels, Exemplar)>),
}

#[derive(Debug, thiserror::Error)]
#[error("malformed metrics wal record: {0}")]
pub struct RecordError(pub &'static str);

/// Series in the first encoding (type 1); new WALs use [`encode_series`].
pub fn encode_series_v1(series: &[(u64, &PackedLabels)], buf: &mut Vec<u8>) {
    buf.push(REC_SERIES);
    series_body(series, buf);
}

fn series_body(series: &[(u64, &PackedLabels)], buf: &mut Vec<u8>) {
    put_uvarint(buf, series.len() as u64);
    for (id, labels) in series {
        put_uvarint(buf, *id);
        put_uvarint(buf, labels.iter().count() as u64);
        // The packed form is the record's own label encoding.
        buf.extend_from_slice(labels.as_bytes());
    }
}

/// Series (type 6): type 1's body, compressed. Series of one batch share
/// most of their label text, so it compresses well.
pub fn encode_series(series: &[(u64, &PackedLabels)], buf: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(series.len() * 64);
    series_body(series, &mut body);
    buf.push(REC_SERIES_COMPRESSED);
    put_payload(buf, &body);
}

/// Appends `codec` and `payload`, zstd-compressed when that makes it
/// smaller and stays within the reader's limits.
pub(crate) fn put_payload(buf: &mut Vec<u8>, payload: &[u8]) {
    if payload.len() <= MAX_PAYLOAD {
        let z = COMPRESSOR.with(|c| match &mut *c.borrow_mut() {
            Some(c) => c.compress(payload),
            None => zstd::bulk::compress(payload, ZSTD_LEVEL),
        });
        if let Ok(z) = z {
            if z.len() < payload.len() && payload.len() <= z.len() * MAX_RATIO + RATIO_SLACK {
                buf.push(CODEC_ZSTD);
                buf.extend_from_slice(&z);
                return;
            }
        }
    }
    buf.push(CODEC_NONE);
    buf.extend_from_slice(payload);
}

/// The payload after a codec byte, decompressed.
pub(crate) fn get_payload(buf: &[u8]) -> Result<Cow<'_, [u8]>, RecordError> {
    let (&codec, body) = buf.split_first().ok_or(RecordError("missing codec"))?;
    match codec {
        CODEC_NONE => Ok(Cow::Borrowed(body)),
        CODEC_ZSTD => {
            let size = zstd::zstd_safe::get_frame_content_size(body)
                .ok()
                .flatten()
                .ok_or(RecordError("bad zstd frame header"))?;
            if size > MAX_PAYLOAD as u64
                || size as usize > body.len().saturating_mul(MAX_RATIO) + RATIO_SLACK
            {
                return Err(RecordError("decompressed payload too large"));
            }
            let v = DECOMPRESSOR
                .with(|d| match &mut *d.borrow_mut() {
                    Some(d) => d.decompress(body, size as usize),
                    None => zstd::bulk::decompress(body, size as usize),
                })
                .map_err(|_| RecordError("bad zstd payload"))?;
            if v.len() as u64 != size {
                return Err(RecordError("zstd payload size mismatch"));
            }
            Ok(Cow::Owned(v))
        }
        _ => Err(RecordError("unknown codec")),
    }
}

/// Float samples (type 5) with each value's previous WAL value for its
/// series (`prev`, f64 bits; 0 for a new series): columns of id deltas,
/// timestamp deltas (both from the previous entry), decimal exponents and
/// values (mantissa deltas from the previous value, or raw bits),
/// compressed. At most [`MAX_RECORD_SAMPLES`] samples.
pub fn encode_delta_samples(
    samples: impl ExactSizeIterator<Item = (u64, Sample, u64)>,
    buf: &mut Vec<u8>,
) {
    let n = samples.len();
    debug_assert!(n <= MAX_RECORD_SAMPLES);
    let mut ids = Vec::with_capacity(n * 3 + 8);
    let mut ts = Vec::with_capacity(n + 8);
    let mut exps = Vec::with_capacity(n);
    let mut vals = Vec::with_capacity(n * 2);
    put_uvarint(&mut ids, n as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s, prev) in samples {
        put_varint(&mut ids, (id as i64).wrapping_sub(pid));
        put_varint(&mut ts, s.t.wrapping_sub(pt));
        let d = DeltaValue::encode(s.v, f64::from_bits(prev));
        exps.push(d.exp);
        if d.exp == EXP_RAW {
            vals.extend_from_slice(&d.bits.to_le_bytes());
        } else {
            put_varint(&mut vals, d.bits as i64);
        }
        pid = id as i64;
        pt = s.t;
    }
    ids.extend_from_slice(&ts);
    ids.extend_from_slice(&exps);
    ids.extend_from_slice(&vals);
    buf.push(REC_DELTA_SAMPLES);
    put_payload(buf, &ids);
}

fn get_chunk(buf: &mut &[u8]) -> Result<HeadChunk, RecordError> {
    let mint = get_varint(buf).ok_or(RecordError("truncated chunk mint"))?;
    let maxt = get_varint(buf).ok_or(RecordError("truncated chunk maxt"))?;
    if maxt < mint {
        return Err(RecordError("chunk maxt before mint"));
    }
    let data = get_bytes(buf)?;
    Ok(HeadChunk {
        mint,
        maxt,
        data: data.into(),
    })
}

fn put_chunks(buf: &mut Vec<u8>, chunks: &[HeadChunk]) {
    put_uvarint(buf, chunks.len() as u64);
    for c in chunks {
        put_varint(buf, c.mint);
        put_varint(buf, c.maxt);
        put_uvarint(buf, c.data.len() as u64);
        buf.extend_from_slice(&c.data);
    }
}

fn get_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated length"))?;
    if n > buf.len() as u64 {
        return Err(RecordError("bytes past end"));
    }
    let (b, rest) = buf.split_at(n as usize);
    *buf = rest;
    Ok(b)
}

fn get_chunks(buf: &mut &[u8]) -> Result<Vec<HeadChunk>, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated chunk count"))?;
    // Each chunk takes at least 3 bytes.
    if n > buf.len() as u64 / 3 {
        return Err(RecordError("chunks past end"));
    }
    (0..n).map(|_| get_chunk(buf)).collect()
}

/// A checkpoint's chunks (type 7): per series, its last WAL value, closed
/// float chunks, the open float chunk, out-of-order samples and closed
/// histogram chunks (the chunk bytes as the head holds them).
pub fn encode_chunks(series: &[SeriesChunks], buf: &mut Vec<u8>) {
    buf.push(REC_CHUNKS);
    put_uvarint(buf, series.len() as u64);
    for s in series {
        put_uvarint(buf, s.id);
        buf.extend_from_slice(&s.wal_last.to_le_bytes());
        put_chunks(buf, &s.closed);
        match &s.open {
            Some((mint, data)) => {
                buf.push(1);
                put_varint(buf, *mint);
                put_uvarint(buf, data.len() as u64);
                buf.extend_from_slice(data);
            }
            None => buf.push(0),
        }
        put_uvarint(buf, s.ooo.len() as u64);
        for x in &s.ooo {
            put_varint(buf, x.t);
            put_f64(buf, x.v);
        }
        put_chunks(buf, &s.hist_closed);
    }
}

fn decode_chunks(mut buf: &[u8]) -> Result<Vec<SeriesChunks>, RecordError> {
    let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))?;
    if n > buf.len() as u64 / 12 {
        return Err(RecordError("series past end"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let id = get_uvarint(&mut buf).ok_or(RecordError("truncated id"))?;
        let wal_last = get_f64(&mut buf)?.to_bits();
        let closed = get_chunks(&mut buf)?;
        let (&flag, rest) = buf
            .split_first()
            .ok_or(RecordError("truncated open flag"))?;
        buf = rest;
        let open = match flag {
            0 => None,
            1 => {
                let mint = get_varint(&mut buf).ok_or(RecordError("truncated open mint"))?;
                Some((mint, get_bytes(&mut buf)?.to_vec()))
            }
            _ => return Err(RecordError("bad open flag")),
        };
        let k = get_uvarint(&mut buf).ok_or(RecordError("truncated ooo count"))?;
        if k > buf.len() as u64 / 9 {
            return Err(RecordError("ooo samples past end"));
        }
        let mut ooo = Vec::with_capacity(k as usize);
        for _ in 0..k {
            let t = get_varint(&mut buf).ok_or(RecordError("truncated ooo time"))?;
            ooo.push(Sample {
                t,
                v: get_f64(&mut buf)?,
            });
        }
        let hist_closed = get_chunks(&mut buf)?;
        out.push(SeriesChunks {
            id,
            wal_last,
            closed,
            open,
            ooo,
            hist_closed,
        });
    }
    Ok(out)
}

fn decode_delta_samples(payload: &[u8]) -> Result<Vec<DeltaSample>, RecordError> {
    let mut ids = payload;
    let n = get_uvarint(&mut ids).ok_or(RecordError("truncated count"))?;
    // At least 3 bytes per sample (id, time, exponent) and 1 of value.
    if n > MAX_RECORD_SAMPLES as u64 || n > ids.len() as u64 / 4 {
        return Err(RecordError("bad sample count"));
    }
    let n = n as usize;
    let mut out = Vec::with_capacity(n);
    let (mut pid, mut pt) = (0i64, 0i64);
    for _ in 0..n {
        pid = pid.wrapping_add(get_varint(&mut ids).ok_or(RecordError("truncated id"))?);
        out.push(DeltaSample {
            id: pid as u64,
            t: 0,
            v: DeltaValue { exp: 0, bits: 0 },
        });
    }
    let mut rest = ids;
    for s in out.iter_mut() {
        pt = pt.wrapping_add(get_varint(&mut rest).ok_or(RecordError("truncated time"))?);
        s.t = pt;
    }
    if rest.len() < n {
        return Err(RecordError("truncated exponents"));
    }
    let (exps, mut vals) = rest.split_at(n);
    for (s, &e) in out.iter_mut().zip(exps) {
        s.v = if e == EXP_RAW {
            DeltaValue::raw(get_f64(&mut vals)?)
        } else if usize::from(e) <= MAX_EXP {
            let d = get_varint(&mut vals).ok_or(RecordError("truncated value"))?;
            DeltaValue {
                exp: e,
                bits: d as u64,
            }
        } else {
            return Err(RecordError("bad exponent"));
        };
    }
    if !vals.is_empty() {
        return Err(RecordError("trailing bytes"));
    }
    Ok(out)
}

/// Samples in the first encoding (type 2): the first id and timestamp
/// absolute, later ones as deltas. New WALs use [`encode_delta_samples`].
/// Deltas wrap (ids are any `u64`, timestamps any `i64`), in the decoder too.
pub fn encode_samples(samples: &[(u64, Sample)], buf: &mut Vec<u8>) {
    buf.push(REC_SAMPLES);
    put_uvarint(buf, samples.len() as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s) in samples {
        put_varint(buf, (*id as i64).wrapping_sub(pid));
        put_varint(buf, s.t.wrapping_sub(pt));
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
        pid = *id as i64;
        pt = s.t;
    }
}

pub fn encode_min_valid_time(t: i64, buf: &mut Vec<u8>) {
    buf.push(REC_MIN_VALID_TIME);
    put_varint(buf, t);
}

fn put_f64(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn get_f64(buf: &mut &[u8]) -> Result<f64, RecordError> {
    if buf.len() < 8 {
        return Err(RecordError("truncated float"));
    }
    let v = f64::from_bits(u64::from_le_bytes(buf[..8].try_into().expect("8 bytes")));
    *buf = &buf[8..];
    Ok(v)
}

fn put_spans(buf: &mut Vec<u8>, spans: &[Span]) {
    put_uvarint(buf, spans.len() as u64);
    for s in spans {
        put_varint(buf, s.offset as i64);
        put_uvarint(buf, s.length as u64);
    }
}

fn get_spans(buf: &mut &[u8]) -> Result<Vec<Span>, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated span count"))? as usize;
    let mut out = Vec::with_capacity(n.min(buf.len() / 2));
    for _ in 0..n {
        let offset = get_varint(buf)
            .and_then(|x| i32::try_from(x).ok())
            .ok_or(RecordError("bad span offset"))?;
        let length = get_uvarint(buf)
            .and_then(|x| u32::try_from(x).ok())
            .ok_or(RecordError("bad span length"))?;
        out.push(Span { offset, length });
    }
    Ok(out)
}

fn put_floats(buf: &mut Vec<u8>, v: &[f64]) {
    put_uvarint(buf, v.len() as u64);
    for x in v {
        put_f64(buf, *x);
    }
}

fn get_floats(buf: &mut &[u8]) -> Result<Vec<f64>, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated float count"))? as usize;
    if n > buf.len() / 8 {
        return Err(RecordError("floats past end"));
    }
    (0..n).map(|_| get_f64(buf)).collect()
}

/// Histogram samples: ids and timestamps as in [`encode_samples`], then
/// each histogram's fields (see `docs/format/wal.md`).
pub fn encode_histogram_samples(samples: &[(u64, &HistogramSample)], buf: &mut Vec<u8>) {
    buf.push(REC_HISTOGRAM_SAMPLES);
    put_uvarint(buf, samples.len() as u64);
    let (mut pid, mut pt) = (0i64, 0i64);
    for (id, s) in samples {
        put_varint(buf, (*id as i64).wrapping_sub(pid));
        put_varint(buf, s.t.wrapping_sub(pt));
        let h = &s.h;
        buf.push(match h.counter_reset_hint {
            CounterResetHint::Unknown => 0,
            CounterResetHint::CounterReset => 1,
            CounterResetHint::NotCounterReset => 2,
            CounterResetHint::Gauge => 3,
        });
        put_varint(buf, h.schema as i64);
        for v in [h.zero_threshold, h.zero_count, h.count, h.sum] {
            put_f64(buf, v);
        }
        put_spans(buf, &h.positive_spans);
        put_floats(buf, &h.positive_buckets);
        put_spans(buf, &h.negative_spans);
        put_floats(buf, &h.negative_buckets);
        put_floats(buf, &h.custom_values);
        pid = *id as i64;
        pt = s.t;
    }
}

fn get_histogram(buf: &mut &[u8]) -> Result<FloatHistogram, RecordError> {
    let (&hint, rest) = buf
        .split_first()
        .ok_or(RecordError("truncated histogram"))?;
    *buf = rest;
    let counter_reset_hint = match hint {
        0 => CounterResetHint::Unknown,
        1 => CounterResetHint::CounterReset,
        2 => CounterResetHint::NotCounterReset,
        3 => CounterResetHint::Gauge,
        _ => return Err(RecordError("bad counter reset hint")),
    };
    let schema = get_varint(buf)
        .and_then(|x| i32::try_from(x).ok())
        .ok_or(RecordError("bad schema"))?;
    let zero_threshold = get_f64(buf)?;
    let zero_count = get_f64(buf)?;
    let count = get_f64(buf)?;
    let sum = get_f64(buf)?;
    Ok(FloatHistogram {
        counter_reset_hint,
        schema,
        zero_threshold,
        zero_count,
        count,
        sum,
        positive_spans: get_spans(buf)?,
        positive_buckets: get_floats(buf)?,
        negative_spans: get_spans(buf)?,
        negative_buckets: get_floats(buf)?,
        custom_values: get_floats(buf)?,
    })
}

fn get_str_ref<'a>(buf: &mut &'a [u8]) -> Result<&'a str, RecordError> {
    let n = get_uvarint(buf).ok_or(RecordError("truncated string length"))? as usize;
    if n > buf.len() {
        return Err(RecordError("string past end"));
    }
    let (s, rest) = buf.split_at(n);
    *buf = rest;
    std::str::from_utf8(s).map_err(|_| RecordError("label not utf-8"))
}

fn decode_series(mut buf: &[u8]) -> Result<Vec<(u64, PackedLabels)>, RecordError> {
    let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
    let mut out = Vec::with_capacity(n.min(buf.len()));
    for _ in 0..n {
        let id = get_uvarint(&mut buf).ok_or(RecordError("truncated id"))?;
        let nl = get_uvarint(&mut buf).ok_or(RecordError("truncated label count"))? as usize;
        // The record's label bytes are the packed form: check them
        // (UTF-8, sorted unique names) and keep them as they are.
        let start = buf;
        let mut prev: Option<&str> = None;
        for _ in 0..nl {
            let name = get_str_ref(&mut buf)?;
            get_str_ref(&mut buf)?;
            if prev.is_some_and(|p| p >= name) {
                return Err(RecordError("labels not sorted"));
            }
            prev = Some(name);
        }
        let used = start.len() - buf.len();
        out.push((id, PackedLabels::from_checked_bytes(&start[..used])));
    }
    Ok(out)
}

pub fn decode(mut buf: &[u8]) -> Result<Record, RecordError> {
    let (&typ, rest) = buf.split_first().ok_or(RecordError("empty record"))?;
    buf = rest;
    match typ {
        REC_SERIES => decode_series(buf).map(Record::Series),
        REC_SERIES_COMPRESSED => decode_series(&get_payload(buf)?).map(Record::Series),
        REC_DELTA_SAMPLES => decode_delta_samples(&get_payload(buf)?).map(Record::DeltaSamples),
        REC_CHUNKS => decode_chunks(buf).map(Record::Chunks),
        REC_EXEMPLARS => crate::exemplars::walrec::decode_exemplars(buf).map(Record::Exemplars),
        REC_SAMPLES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len() / 10 + 1));
            let (mut pid, mut pt) = (0i64, 0i64);
            for _ in 0..n {
                let id = pid.wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated id"))?);
                let t = pt
                    .wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated timestamp"))?);
                if buf.len() < 8 {
                    return Err(RecordError("truncated value"));
                }
                let v = f64::from_bits(u64::from_le_bytes(buf[..8].try_into().expect("8 bytes")));
                buf = &buf[8..];
                out.push((id as u64, Sample { t, v }));
                pid = id;
                pt = t;
            }
            Ok(Record::Samples(out))
        }
        REC_HISTOGRAM_SAMPLES => {
            let n = get_uvarint(&mut buf).ok_or(RecordError("truncated count"))? as usize;
            let mut out = Vec::with_capacity(n.min(buf.len() / 40 + 1));
            let (mut pid, mut pt) = (0i64, 0i64);
            for _ in 0..n {
                let id = pid.wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated id"))?);
                let t = pt
                    .wrapping_add(get_varint(&mut buf).ok_or(RecordError("truncated timestamp"))?);
                let h = get_histogram(&mut buf)?;
                out.push((id as u64, HistogramSample { t, h }));
                pid = id;
                pt = t;
            }
            Ok(Record::HistogramSamples(out))
        }
        REC_MIN_VALID_TIME => Ok(Record::MinValidTime(
            get_varint(&mut buf).ok_or(RecordError("truncated time"))?,
        )),
        _ => Err(RecordError("unknown record type")),
    }
}

#[cfg(test)]
#[path = "walrec_tests.rs"]
mod tests;
