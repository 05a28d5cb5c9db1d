//! Sample chunks as stored in head and block chunks (`argus_tsdb::chunk`):
//! Gorilla XOR, native histogram and compact (decimal + zstd) encodings.
//!
//! Input: a selector byte (`% 4`: 0 XOR, 1 histogram, 2 compact, 3 compact
//! whose timestamps may be a reference, resolved to a fixed chunk), then the
//! chunk. Decoders must not panic on any input. What decodes with strictly
//! increasing timestamps (all the appenders accept) must survive a round
//! trip through the encoder bit for bit.
#![no_main]

use std::sync::Arc;

use argus_model::Sample;
use argus_tsdb::chunk::{
    decode_compact, decode_compact_times, decode_compact_with, encode_compact, histogram_bit_eq,
    HistogramAppender, HistogramIter, XorAppender, XorIter, MAX_COMPACT_SAMPLES,
};
use libfuzzer_sys::fuzz_target;

fn increasing(ts: impl Iterator<Item = i64>) -> bool {
    let mut prev = None;
    for t in ts {
        if prev.is_some_and(|p| p >= t) {
            return false;
        }
        prev = Some(t);
    }
    true
}

fn bit_eq(a: &[Sample], b: &[Sample]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.bit_eq(y))
}

fn xor(data: &[u8]) {
    let Some(mut it) = XorIter::new(data) else {
        return;
    };
    let total = it.len();
    let samples: Vec<Sample> = it.by_ref().collect();
    if it.failed {
        return;
    }
    assert_eq!(
        samples.len(),
        usize::from(total),
        "a chunk that decodes has its count"
    );
    if increasing(samples.iter().map(|s| s.t)) {
        let mut a = XorAppender::new();
        for s in &samples {
            a.append(s.t, s.v);
        }
        let again: Vec<Sample> = XorIter::new(a.bytes()).unwrap().collect();
        assert!(bit_eq(&samples, &again), "XOR round trip");
    }
}

fn histogram(data: &[u8]) {
    let Some(mut it) = HistogramIter::new(data) else {
        return;
    };
    let total = it.len();
    let samples: Vec<_> = it.by_ref().collect();
    if it.failed {
        return;
    }
    assert_eq!(
        samples.len(),
        usize::from(total),
        "a chunk that decodes has its count"
    );
    if increasing(samples.iter().map(|s| s.t)) {
        let mut a = HistogramAppender::new();
        for s in &samples {
            a.append(s.t, &s.h);
        }
        let again: Vec<_> = HistogramIter::new(a.bytes()).unwrap().collect();
        assert_eq!(again.len(), samples.len(), "histogram round trip");
        for (x, y) in samples.iter().zip(&again) {
            assert!(
                x.t == y.t && histogram_bit_eq(&x.h, &y.h),
                "histogram round trip"
            );
        }
    }
}

fn compact(data: &[u8], with_ref: bool) {
    let decoded = if with_ref {
        let times: Arc<[i64]> = (0..16).map(|i| 1_000 * i).collect();
        decode_compact_with(data, |r| (r < 1 << 20).then(|| times.clone()))
    } else {
        decode_compact(data)
    };
    let times = decode_compact_times(data);
    let Some(samples) = decoded else {
        return;
    };
    assert!(samples.len() <= MAX_COMPACT_SAMPLES);
    if let (false, Some(t)) = (with_ref, times) {
        assert!(
            t.iter().copied().eq(samples.iter().map(|s| s.t)),
            "times agree"
        );
    }
    if increasing(samples.iter().map(|s| s.t)) {
        let again = decode_compact(&encode_compact(&samples)).expect("re-encoded chunk decodes");
        assert!(bit_eq(&samples, &again), "compact round trip");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, chunk)) = data.split_first() else {
        return;
    };
    match sel % 4 {
        0 => xor(chunk),
        1 => histogram(chunk),
        2 => compact(chunk, false),
        _ => compact(chunk, true),
    }
});
