//! One in-memory series: closed XOR chunks, an open chunk, and a small
//! sorted buffer for out-of-order samples within the configured window;
//! native histogram samples in their own closed and open histogram chunks
//! (in order only).

use super::packed::PackedLabels;
use crate::chunk::{
    decode_compact, encode_compact_fast, histogram_bit_eq, HistogramAppender, HistogramIter,
    XorAppender, XorIter, SAMPLES_PER_CHUNK,
};
use argus_model::{HistogramSample, Labels, Sample};
use parking_lot::Mutex;

/// Why one sample was not appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleReject {
    /// Older than the head's lower bound (that range is already in blocks).
    TooOld,
    /// Older than the series' newest sample, outside the out-of-order window.
    OutOfOrder,
    /// Same timestamp as a stored sample, different value.
    DuplicateTimestamp,
}

impl SampleReject {
    pub fn as_str(&self) -> &'static str {
        match self {
            SampleReject::TooOld => "too_old",
            SampleReject::OutOfOrder => "out_of_order",
            SampleReject::DuplicateTimestamp => "duplicate_timestamp",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            SampleReject::TooOld => {
                "sample is older than the head's minimum valid time (out of bounds)"
            }
            SampleReject::OutOfOrder => "out of order sample",
            SampleReject::DuplicateTimestamp => {
                "duplicate sample for timestamp with a different value"
            }
        }
    }
}

/// Where an accepted sample goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    InOrder,
    OutOfOrder,
    /// Exact duplicate of a stored sample: accepted, nothing stored.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadChunk {
    pub mint: i64,
    pub maxt: i64,
    pub data: Box<[u8]>,
}

#[derive(Debug, Default)]
pub struct SeriesData {
    pub closed: Vec<HeadChunk>,
    pub open: Option<(i64, XorAppender)>,
    /// Out-of-order samples, sorted by time, unique timestamps.
    pub ooo: Vec<Sample>,
    /// Native histogram chunks, boxed: most series never have any, and
    /// the open appender is ~250 bytes.
    pub hist: Option<Box<HistData>>,
    /// Whether the series record is in the WAL.
    pub wal_logged: bool,
    /// Bits of the last float value logged in the WAL for this series (0.0
    /// before any): WAL sample records (type 5) store values relative to it.
    pub wal_last: u64,
}

#[derive(Debug, Default)]
pub struct HistData {
    /// Closed histogram chunks.
    pub closed: Vec<HeadChunk>,
    pub open: Option<(i64, HistogramAppender)>,
}

#[derive(Debug)]
pub struct MemSeries {
    pub id: u64,
    pub labels: PackedLabels,
    /// [`PackedLabels::stable_hash`] of `labels`, kept so that lookups and
    /// query-time merging never rehash the label text.
    pub hash: u64,
    pub data: Mutex<SeriesData>,
}

impl MemSeries {
    /// The label set, unpacked.
    pub fn labels(&self) -> Labels {
        self.labels.to_labels()
    }
}

impl SeriesData {
    pub fn last(&self) -> Option<Sample> {
        match &self.open {
            Some((_, a)) => a.last(),
            None => self
                .closed
                .last()
                .and_then(|c| decode_compact(&c.data).and_then(|v| v.last().copied())),
        }
    }

    /// The newest histogram sample.
    pub fn last_histogram(&self) -> Option<HistogramSample> {
        let h = self.hist.as_ref()?;
        match &h.open {
            Some((_, a)) => a.last(),
            None => h
                .closed
                .last()
                .and_then(|c| HistogramIter::new(&c.data).and_then(|it| it.last())),
        }
    }

    /// Timestamp of the newest histogram sample.
    pub fn last_histogram_t(&self) -> Option<i64> {
        let h = self.hist.as_ref()?;
        match &h.open {
            Some((_, a)) => a.last_t(),
            None => h.closed.last().map(|c| c.maxt),
        }
    }

    /// Judges one histogram sample: in order after the newest histogram
    /// `last` and the newest float (at `float_last`); a repeat of `last` is a
    /// duplicate. Out-of-order histograms are not supported.
    pub fn check_histogram(
        last: Option<&HistogramSample>,
        float_last: Option<i64>,
        s: &HistogramSample,
        min_valid: i64,
    ) -> Result<Verdict, SampleReject> {
        if s.t < min_valid {
            return Err(SampleReject::TooOld);
        }
        if let Some(l) = last {
            if s.t == l.t {
                return if histogram_bit_eq(&s.h, &l.h) {
                    Ok(Verdict::Duplicate)
                } else {
                    Err(SampleReject::DuplicateTimestamp)
                };
            }
            if s.t < l.t {
                return Err(SampleReject::OutOfOrder);
            }
        }
        other_type_check(float_last, s.t)?;
        Ok(Verdict::InOrder)
    }

    /// Judges one sample against the series' state, where `last` is the
    /// newest in-order sample (including samples accepted earlier in the same
    /// batch but not applied yet). As in Prometheus, the out-of-order window
    /// is measured from the newest sample of the whole head (`head_maxt`).
    /// A float at or before the newest histogram (`hist_last`) is refused.
    pub fn check(
        &self,
        last: Option<Sample>,
        hist_last: Option<i64>,
        s: Sample,
        min_valid: i64,
        ooo_window: i64,
        head_maxt: i64,
    ) -> Result<Verdict, SampleReject> {
        match self.check_float(last, s, min_valid, ooo_window, head_maxt)? {
            Verdict::Duplicate => Ok(Verdict::Duplicate),
            v => other_type_check(hist_last, s.t).map(|()| v),
        }
    }

    fn check_float(
        &self,
        last: Option<Sample>,
        s: Sample,
        min_valid: i64,
        ooo_window: i64,
        head_maxt: i64,
    ) -> Result<Verdict, SampleReject> {
        if s.t < min_valid {
            return Err(SampleReject::TooOld);
        }
        let Some(last) = last else {
            return Ok(Verdict::InOrder);
        };
        if s.t > last.t {
            return Ok(Verdict::InOrder);
        }
        if s.t == last.t {
            return if s.v.to_bits() == last.v.to_bits() {
                Ok(Verdict::Duplicate)
            } else {
                Err(SampleReject::DuplicateTimestamp)
            };
        }
        if ooo_window > 0 && s.t >= head_maxt.max(last.t).saturating_sub(ooo_window) {
            if let Ok(i) = self.ooo.binary_search_by_key(&s.t, |x| x.t) {
                return if self.ooo[i].v.to_bits() == s.v.to_bits() {
                    Ok(Verdict::Duplicate)
                } else {
                    Err(SampleReject::DuplicateTimestamp)
                };
            }
            return Ok(Verdict::OutOfOrder);
        }
        Err(SampleReject::OutOfOrder)
    }

    /// Appends an in-order sample; closes the open chunk when it is full or
    /// when `t` crosses a multiple of `chunk_range` (so chunks never span
    /// two blocks).
    pub fn append(&mut self, s: Sample, chunk_range: i64) {
        if let Some((mint, app)) = &self.open {
            let boundary = (mint.div_euclid(chunk_range) + 1) * chunk_range;
            if app.count() >= SAMPLES_PER_CHUNK || s.t >= boundary {
                self.close_open();
            }
        }
        let (_, app) = self.open.get_or_insert_with(|| (s.t, XorAppender::new()));
        app.append(s.t, s.v);
    }

    /// Appends an in-order histogram sample (same chunk rules as floats).
    pub fn append_histogram(&mut self, s: &HistogramSample, chunk_range: i64) {
        let h = self.hist.get_or_insert_with(Box::default);
        if let Some((mint, app)) = &h.open {
            let boundary = (mint.div_euclid(chunk_range) + 1) * chunk_range;
            if app.count() >= SAMPLES_PER_CHUNK || s.t >= boundary {
                if let Some((mint, app)) = h.open.take() {
                    let maxt = app.last_t().unwrap_or(mint);
                    h.closed.push(HeadChunk {
                        mint,
                        maxt,
                        data: app.into_bytes().into_boxed_slice(),
                    });
                }
            }
        }
        let (_, app) = h
            .open
            .get_or_insert_with(|| (s.t, HistogramAppender::new()));
        app.append(s.t, &s.h);
    }

    /// All histogram samples in [mint, maxt], sorted.
    pub fn histograms(&self, mint: i64, maxt: i64, out: &mut Vec<HistogramSample>) {
        let Some(h) = &self.hist else {
            return;
        };
        for c in &h.closed {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            if let Some(it) = HistogramIter::new(&c.data) {
                out.extend(it.filter(|s| s.t >= mint && s.t <= maxt));
            }
        }
        if let Some((m, app)) = &h.open {
            if *m <= maxt {
                if let Some(it) = HistogramIter::new(app.bytes()) {
                    out.extend(it.filter(|s| s.t >= mint && s.t <= maxt));
                }
            }
        }
    }

    /// Whether the series has any float or histogram sample in [mint, maxt].
    pub fn has_data(&self, mint: i64, maxt: i64) -> bool {
        let mut v = Vec::new();
        self.samples(mint, maxt, &mut v);
        if !v.is_empty() {
            return true;
        }
        let mut h = Vec::new();
        self.histograms(mint, maxt, &mut h);
        !h.is_empty()
    }

    pub fn insert_ooo(&mut self, s: Sample) {
        match self.ooo.binary_search_by_key(&s.t, |x| x.t) {
            Ok(i) => self.ooo[i] = s,
            Err(i) => self.ooo.insert(i, s),
        }
    }

    /// Closes the open chunk. Closed float chunks are re-encoded in the
    /// compact encoding (zstd level 1): on the benchmark's data 1.2 bytes per
    /// sample against XOR's 2.35, and most of a head's memory is its closed
    /// chunks.
    pub fn close_open(&mut self) {
        if let Some((mint, app)) = self.open.take() {
            let maxt = app.last().map(|s| s.t).unwrap_or(mint);
            let samples: Vec<Sample> = XorIter::new(app.bytes()).into_iter().flatten().collect();
            self.closed.push(HeadChunk {
                mint,
                maxt,
                data: encode_compact_fast(&samples).into_boxed_slice(),
            });
        }
    }

    pub fn mint(&self) -> Option<i64> {
        let c = self
            .closed
            .first()
            .map(|c| c.mint)
            .or(self.open.as_ref().map(|(m, _)| *m));
        let h = self.hist.as_ref().and_then(|h| {
            h.closed
                .first()
                .map(|c| c.mint)
                .or(h.open.as_ref().map(|(m, _)| *m))
        });
        [c, self.ooo.first().map(|s| s.t), h]
            .into_iter()
            .flatten()
            .min()
    }

    /// All samples in [mint, maxt], sorted, out-of-order ones merged in.
    pub fn samples(&self, mint: i64, maxt: i64, out: &mut Vec<Sample>) {
        let start = out.len();
        for c in &self.closed {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            if let Some(v) = decode_compact(&c.data) {
                out.extend(v.into_iter().filter(|s| s.t >= mint && s.t <= maxt));
            }
        }
        if let Some((_, app)) = &self.open {
            if let Some(it) = XorIter::new(app.bytes()) {
                out.extend(it.filter(|s| s.t >= mint && s.t <= maxt));
            }
        }
        let ooo: Vec<Sample> = self
            .ooo
            .iter()
            .filter(|s| s.t >= mint && s.t <= maxt)
            .copied()
            .collect();
        if !ooo.is_empty() {
            crate::merge::merge_into(out, start, &ooo);
        }
    }

    /// Drops all data before `t` (data that is now in a block). Returns the
    /// number of chunks removed. Chunks never straddle a block boundary, so
    /// dropping whole chunks is exact.
    pub fn truncate_before(&mut self, t: i64) -> usize {
        let before = self.closed.len();
        self.closed.retain(|c| c.maxt >= t);
        if let Some((_, app)) = &self.open {
            if app.last().is_some_and(|s| s.t < t) {
                self.open = None;
            }
        }
        self.ooo.retain(|s| s.t >= t);
        let mut removed = before - self.closed.len();
        if let Some(h) = &mut self.hist {
            let hbefore = h.closed.len();
            h.closed.retain(|c| c.maxt >= t);
            if let Some((_, app)) = &h.open {
                if app.last_t().is_some_and(|x| x < t) {
                    h.open = None;
                }
            }
            removed += hbefore - h.closed.len();
            if h.closed.is_empty() && h.open.is_none() {
                self.hist = None;
            }
        }
        removed
    }

    pub fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_none() && self.ooo.is_empty() && self.hist.is_none()
    }

    /// Bytes of chunk data (float and histogram, closed and open).
    pub fn chunk_bytes(&self) -> (usize, usize) {
        let closed = self.closed.iter().map(|c| c.data.len()).sum::<usize>()
            + self
                .hist
                .as_ref()
                .map_or(0, |h| h.closed.iter().map(|c| c.data.len()).sum());
        let open = self.open.as_ref().map_or(0, |(_, a)| a.bytes().len())
            + self
                .hist
                .as_ref()
                .and_then(|h| h.open.as_ref())
                .map_or(0, |(_, a)| a.bytes().len());
        (closed, open)
    }

    pub fn chunk_count(&self) -> usize {
        self.closed.len()
            + usize::from(self.open.is_some())
            + self
                .hist
                .as_ref()
                .map_or(0, |h| h.closed.len() + usize::from(h.open.is_some()))
    }
}

/// A sample at or before the newest sample of the other type (float vs
/// histogram) is refused: at one timestamp a series holds one of them.
fn other_type_check(other_last: Option<i64>, t: i64) -> Result<(), SampleReject> {
    match other_last {
        Some(o) if t == o => Err(SampleReject::DuplicateTimestamp),
        Some(o) if t < o => Err(SampleReject::OutOfOrder),
        _ => Ok(()),
    }
}
