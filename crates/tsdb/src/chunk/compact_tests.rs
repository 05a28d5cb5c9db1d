//! Tests of the compact block chunk: round trips, garbage input, and its
//! size on a realistic mix of series.

use super::compact::{
    decode_compact, decode_compact_times, decode_compact_with, encode_compact, encode_compact_ref,
    MAX_COMPACT_SAMPLES,
};
use super::XorAppender;
use crate::block::writer::float_chunks;
use argus_model::Sample;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

fn bits(s: &[Sample]) -> Vec<(i64, u64)> {
    s.iter().map(|s| (s.t, s.v.to_bits())).collect()
}

fn roundtrip(s: &[Sample]) {
    let enc = encode_compact(s);
    let dec = decode_compact(&enc).expect("decodes");
    assert_eq!(bits(&dec), bits(s));
}

#[test]
fn special_values_round_trip_bit_exactly() {
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let vals = [
        1.0,
        stale,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::from_bits(0xfff8_0000_0000_0001),
        f64::MIN_POSITIVE,
        f64::MAX,
        1e300,
        0.1 + 0.2,
        12.34,
    ];
    // Mixed in one chunk (XOR fallback), and as rare exceptions among
    // decimals.
    let s: Vec<Sample> = (0..vals.len())
        .map(|i| Sample::new(i as i64 * 15_000, vals[i]))
        .collect();
    roundtrip(&s);
    for (k, &v) in vals.iter().enumerate() {
        let s: Vec<Sample> = (0..200)
            .map(|i| {
                let x = if i == 37 + k {
                    v
                } else {
                    (i * 7) as f64 / 100.0
                };
                Sample::new(1_700_000_000_000 + i as i64 * 15_000, x)
            })
            .collect();
        roundtrip(&s);
    }
    roundtrip(&[]);
    roundtrip(&[Sample::new(i64::MIN, -0.0)]);
    roundtrip(&[Sample::new(i64::MIN, 1.0), Sample::new(i64::MAX, 2.0)]);
    roundtrip(&[
        Sample::new(i64::MIN, 1.0),
        Sample::new(0, 2.0),
        Sample::new(i64::MAX, 3.0),
    ]);
    let big: Vec<Sample> = (0..MAX_COMPACT_SAMPLES)
        .map(|i| Sample::new(i as i64, 9_007_199_254_740_992.0 - i as f64))
        .collect();
    roundtrip(&big);
}

#[test]
fn timestamps_by_reference_need_a_matching_column() {
    let s: Vec<Sample> = (0..100)
        .map(|i| Sample::new(i * 15_000, i as f64))
        .collect();
    let enc = encode_compact_ref(&s, 12345);
    assert!(decode_compact(&enc).is_none());
    let short: Arc<[i64]> = s[1..].iter().map(|s| s.t).collect();
    assert!(decode_compact_with(&enc, |_| Some(short.clone())).is_none());
    // A column is never itself a reference.
    assert!(decode_compact_times(&enc).is_none());
    let inline = encode_compact(&s);
    let ts = decode_compact_times(&inline).unwrap();
    let got = decode_compact_with(&enc, |r| (r == 12345).then(|| ts.clone())).unwrap();
    assert_eq!(bits(&got), bits(&s));
}

proptest! {
    #[test]
    fn arbitrary_samples_round_trip(
        start in any::<i64>(),
        deltas in proptest::collection::vec(1u64..u64::MAX / 4096, 0..300),
        vals in proptest::collection::vec(any::<u64>(), 300),
    ) {
        let mut t = start;
        let mut s = vec![Sample::new(t, f64::from_bits(vals[0]))];
        for (i, d) in deltas.iter().enumerate() {
            match t.checked_add(*d as i64) {
                Some(x) => t = x,
                None => break,
            }
            s.push(Sample::new(t, f64::from_bits(vals[i + 1])));
        }
        roundtrip(&s);
    }

    #[test]
    fn decimal_like_samples_round_trip(
        start in -1i64 << 50..1i64 << 50,
        jitter in proptest::collection::vec(-50i64..50, 1..500),
        steps in proptest::collection::vec(-1000i64..1000, 500),
        exp in 0u32..6,
        special in proptest::collection::vec((0usize..500, any::<u64>()), 0..4),
    ) {
        let mut m = 0i64;
        let mut s: Vec<Sample> = jitter
            .iter()
            .enumerate()
            .map(|(i, j)| {
                m += steps[i];
                Sample::new(start + i as i64 * 15_000 + j, m as f64 / 10f64.powi(exp as i32))
            })
            .collect();
        for (i, b) in special {
            if let Some(x) = s.get_mut(i) {
                x.v = f64::from_bits(b);
            }
        }
        roundtrip(&s);
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode_compact(&data);
        let mut raw = vec![0u8];
        raw.extend_from_slice(&data);
        let _ = decode_compact(&raw);
    }

    #[test]
    fn truncated_or_flipped_chunks_never_panic(cut in 0usize..2000, flip in 0usize..2000, x in 1u8..) {
        let s: Vec<Sample> = (0..300)
            .map(|i| Sample::new(i * 15_000 + (i * 7) % 11, (i * i % 97) as f64 / 10.0))
            .collect();
        let enc = encode_compact(&s);
        let _ = decode_compact(&enc[..cut.min(enc.len())]);
        let mut bad = enc.clone();
        let k = flip % bad.len();
        bad[k] ^= x;
        let _ = decode_compact(&bad);
        // Flips inside the uncompressed payload too.
        let mut raw = vec![0u8];
        raw.extend_from_slice(&zstd::bulk::decompress(&enc[1..], 1 << 20).unwrap());
        let _ = decode_compact(&raw[..cut.min(raw.len())]);
        let k = flip % raw.len();
        raw[k] ^= x;
        let _ = decode_compact(&raw);
    }
}

/// splitmix64: a small deterministic generator.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Kinds of series in the realistic mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Bucket,
}

/// One exporter's worth of series, as in the load generator of the
/// benchmarks: 30 request counters (integer increments), 8 CPU counters
/// (0.01 s), 5 classic histograms (9 `_bucket`, `_sum` with ms precision,
/// `_count`), 7 random-walk gauges (integers, pages, 2 decimals). All
/// series of a target share its scrape timestamps: every 15 s with
/// `jitter_ms` of jitter either way.
pub(crate) fn realistic_target(
    seed: u64,
    points: usize,
    jitter_ms: i64,
) -> Vec<(Kind, Vec<Sample>)> {
    let mut rng = Rng(seed);
    let start = 1_700_000_000_000 + rng.below(15_000) as i64;
    let ts: Vec<i64> = (0..points as i64)
        .map(|p| start + p * 15_000 + rng.below(2 * jitter_ms as u64 + 1) as i64 - jitter_ms)
        .collect();
    let mut out: Vec<(Kind, Vec<f64>)> = Vec::new();
    // Request counters.
    for i in 0..30 {
        let base = match i % 3 {
            0 => 1 + rng.below(40),
            1 => rng.below(4),
            _ => rng.below(2),
        };
        let mut v = (base * rng.below(5000)) as f64;
        let vals = (0..points)
            .map(|_| {
                v += if base == 0 {
                    u64::from(rng.below(50) == 0)
                } else {
                    base / 2 + rng.below(base + 1)
                } as f64;
                v
            })
            .collect();
        out.push((Kind::Counter, vals));
    }
    // CPU seconds, 0.01 s precision.
    for _ in 0..8 {
        let share = 0.05 + rng.unit() * 0.9;
        let mut v = rng.below(10_000_000) as f64 / 100.0;
        let vals = (0..points)
            .map(|_| {
                v = ((v + share * (0.8 + 0.4 * rng.unit()) * 15.0) * 100.0).round() / 100.0;
                v
            })
            .collect();
        out.push((Kind::Counter, vals));
    }
    // Classic histograms.
    const LES: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
    for _ in 0..5 {
        let mean = 0.005 + rng.unit() * 0.2;
        let rate = 1 + rng.below(40);
        let mut buckets = [0u64; 9];
        let mut sum_ms = 0u64;
        let mut series = vec![Vec::new(); 11];
        for _ in 0..points {
            for _ in 0..rate / 2 + rng.below(rate + 1) {
                let ms = (-(1.0 - rng.unit()).ln() * mean * 1000.0).round() as u64;
                sum_ms += ms;
                let v = ms as f64 / 1000.0;
                buckets[LES.iter().position(|&le| v <= le).unwrap_or(8)] += 1;
            }
            let mut cum = 0;
            for b in 0..9 {
                cum += buckets[b];
                series[b].push(cum as f64);
            }
            series[9].push(sum_ms as f64 / 1000.0);
            series[10].push(cum as f64);
        }
        out.extend(series.into_iter().map(|v| (Kind::Bucket, v)));
    }
    // Gauges: random walks with limited precision.
    let walk = |rng: &mut Rng, span: u64| rng.below(2 * span + 1) as f64 - span as f64;
    let mut g = [
        (20 + rng.below(200)) as f64,
        ((50 + rng.below(400)) * 256 * 4096) as f64,
        (10 + rng.below(100)) as f64,
        ((1 + rng.below(16)) * 262_144 * 4096) as f64,
        rng.below(300) as f64 / 100.0,
        ((10 + rng.below(500)) * 262_144 * 4096) as f64,
        1.0,
    ];
    let mut gauges = vec![Vec::new(); 7];
    for _ in 0..points {
        g[0] = (g[0] + walk(&mut rng, 3)).max(1.0);
        g[1] = (g[1] + walk(&mut rng, 4) * 16.0 * 4096.0).max(4096.0 * 1024.0);
        g[2] = (g[2] + walk(&mut rng, 1)).max(3.0);
        g[3] = (g[3] + walk(&mut rng, 8) * 64.0 * 4096.0).max(4096.0);
        g[4] = ((g[4] + walk(&mut rng, 10) / 100.0).max(0.0) * 100.0).round() / 100.0;
        g[5] = (g[5] - rng.below(100) as f64 * 4096.0).max(0.0);
        for (s, v) in gauges.iter_mut().zip(g) {
            s.push(v);
        }
    }
    out.extend(gauges.into_iter().map(|v| (Kind::Gauge, v)));
    out.into_iter()
        .map(|(k, v)| {
            let s = ts.iter().zip(v).map(|(&t, v)| Sample::new(t, v)).collect();
            (k, s)
        })
        .collect()
}

fn uvarint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).max(1).div_ceil(7)
}

/// Bytes a chunk costs in a block besides its data: `len`, encoding byte
/// and CRC in the chunks file, and its (mint, maxt-mint, ref) index entry.
fn framing(data_len: usize, span: i64) -> usize {
    uvarint_len(data_len as u64 + 1) + 1 + 4 + 6 + uvarint_len(span as u64) + 4
}

/// (samples, XOR bytes, compact bytes) per kind over `targets` targets.
fn measure(targets: u64, points: usize, jitter: i64) -> Vec<(Kind, usize, usize, usize)> {
    let mut acc = vec![
        (Kind::Counter, 0, 0, 0),
        (Kind::Gauge, 0, 0, 0),
        (Kind::Bucket, 0, 0, 0),
    ];
    for seed in 0..targets {
        let mut seen = HashSet::new();
        for (kind, s) in realistic_target(seed, points, jitter) {
            let a = acc.iter_mut().find(|a| a.0 == kind).expect("kind");
            a.1 += s.len();
            for g in s.chunks(crate::block::BLOCK_CHUNK_SAMPLES) {
                let mut app = XorAppender::new();
                for x in g {
                    app.append(x.t, x.v);
                }
                a.2 += app.size() + framing(app.size(), g[g.len() - 1].t - g[0].t);
            }
            for g in float_chunks(&s) {
                // As the block writer does: the first series of a target
                // stores the timestamps, the others refer to its chunk.
                let ts: Arc<[i64]> = g.iter().map(|s| s.t).collect();
                let enc = if seen.contains(&ts) {
                    encode_compact_ref(g, 1 << 20)
                } else {
                    seen.insert(ts.clone());
                    encode_compact(g)
                };
                let dec = decode_compact_with(&enc, |_| Some(ts.clone())).unwrap();
                assert_eq!(bits(&dec), bits(g));
                a.3 += enc.len() + framing(enc.len(), g[g.len() - 1].t - g[0].t);
            }
        }
    }
    acc
}

#[test]
fn realistic_mix_costs_under_one_byte_per_sample() {
    for jitter in [0, 2, 5, 25] {
        let acc = measure(6, 1440, jitter);
        let (mut n, mut xor, mut compact) = (0, 0, 0);
        for (kind, samples, x, c) in &acc {
            println!(
                "jitter ±{jitter} ms {kind:?}: {samples} samples, XOR {:.3} B/sample, compact {:.3} B/sample",
                *x as f64 / *samples as f64,
                *c as f64 / *samples as f64
            );
            n += samples;
            xor += x;
            compact += c;
        }
        let (x, c) = (xor as f64 / n as f64, compact as f64 / n as f64);
        println!("jitter ±{jitter} ms all: XOR {x:.3} B/sample, compact {c:.3} B/sample");
        if jitter <= 5 {
            assert!(c <= 1.0, "compact chunks cost {c:.3} bytes/sample");
        }
        assert!(c <= 0.7 * x, "compact {c:.3} vs XOR {x:.3} bytes/sample");
    }
}

#[test]
fn realistic_block_round_trips_and_costs_under_one_byte_per_sample() {
    use crate::block::{write_block, BlockReader, Compaction, CHUNKS_FILE, INDEX_FILE};
    use argus_model::{Labels, StoredSeries};
    let dir = tempfile::tempdir().unwrap();
    let mut series: Vec<StoredSeries> = (0..4u64)
        .flat_map(|target| {
            realistic_target(100 + target, 1440, 5)
                .into_iter()
                .enumerate()
                .map(move |(i, (_, floats))| StoredSeries {
                    labels: Labels::from_pairs([
                        ("__name__", format!("m{i}").as_str()),
                        ("target", target.to_string().as_str()),
                    ]),
                    floats,
                    histograms: vec![],
                })
        })
        .collect();
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    let (mint, maxt) = (1_600_000_000_000, 1_800_000_000_000);
    let meta = write_block(dir.path(), "B", mint, maxt, &series, Compaction::default()).unwrap();
    let n: usize = series.iter().map(|s| s.floats.len()).sum();
    let r = BlockReader::open(
        meta,
        &dir.path().join(INDEX_FILE),
        &dir.path().join(CHUNKS_FILE),
    )
    .unwrap();
    let got = r.all_series().unwrap();
    assert_eq!(got.len(), series.len());
    for (a, b) in got.iter().zip(&series) {
        assert_eq!(a.labels, b.labels);
        assert_eq!(bits(&a.floats), bits(&b.floats));
    }
    let size = std::fs::metadata(dir.path().join(CHUNKS_FILE))
        .unwrap()
        .len()
        + std::fs::metadata(dir.path().join(INDEX_FILE))
            .unwrap()
            .len();
    let bps = size as f64 / n as f64;
    println!("block with ±5 ms jitter: {bps:.3} bytes/sample (chunks + index)");
    assert!(bps <= 1.0, "{bps:.3} bytes/sample");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Series that share timestamps, some only in part, across chunk
    /// boundaries, histograms alongside: a block reads back bit-exactly,
    /// whole and by time range.
    #[test]
    fn blocks_with_shared_timestamps_round_trip(
        lens in proptest::collection::vec(1usize..1500, 1..6),
        offsets in proptest::collection::vec(0i64..3, 6),
        vals in proptest::collection::vec(any::<u64>(), 64),
        range in (0i64..30_000_000, 0i64..30_000_000),
    ) {
        use crate::block::{write_block, BlockReader, Compaction, CHUNKS_FILE, INDEX_FILE};
        use argus_model::{Labels, MatchOp, Matcher, StoredSeries};
        let dir = tempfile::tempdir().unwrap();
        let series: Vec<StoredSeries> = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| StoredSeries {
                labels: Labels::from_pairs([("__name__", "m"), ("i", &*i.to_string())]),
                floats: (0..n)
                    .map(|j| {
                        // Series with the same offset share their timestamps.
                        let t = offsets[i] * 7 + j as i64 * 15_000 + (j as i64 * 37 % 11);
                        let v = if j % 97 == 5 {
                            f64::from_bits(vals[(i * 7 + j) % vals.len()])
                        } else {
                            (j * (i + 1)) as f64 / 100.0
                        };
                        Sample::new(t, v)
                    })
                    .collect(),
                histograms: vec![],
            })
            .collect();
        let meta = write_block(dir.path(), "B", 0, i64::MAX, &series, Compaction::default())
            .unwrap();
        let r = BlockReader::open(
            meta,
            &dir.path().join(INDEX_FILE),
            &dir.path().join(CHUNKS_FILE),
        )
        .unwrap();
        let got = r.all_series().unwrap();
        prop_assert_eq!(got.len(), series.len());
        for (a, b) in got.iter().zip(&series) {
            prop_assert_eq!(bits(&a.floats), bits(&b.floats));
        }
        let (lo, hi) = (range.0.min(range.1), range.0.max(range.1));
        let m = [Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()];
        for got in r.select_series(&m, lo, hi).unwrap() {
            let want = series.iter().find(|s| s.labels == got.labels).unwrap();
            let want: Vec<Sample> =
                want.floats.iter().filter(|s| s.t >= lo && s.t <= hi).copied().collect();
            prop_assert_eq!(bits(&got.floats), bits(&want));
        }
    }
}
