//! XOR chunk encode/decode speed (ns/sample) and size (bytes/sample) on
//! realistic series, against the Gorilla paper's 1.37 bytes/sample
//! (Pelkonen et al., VLDB 2015, on Facebook's production data).
//!
//! `cargo bench -p argus-tsdb --bench chunk`; sizes are printed first.

use argus_tsdb::chunk::{XorAppender, XorIter, SAMPLES_PER_CHUNK};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// SplitMix64, so the data is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SERIES: usize = 200;

/// One chunk's worth of samples for `SERIES` series of a kind.
fn dataset(kind: &str, jitter_ms: u64) -> Vec<Vec<(i64, f64)>> {
    let mut r = Rng(42);
    (0..SERIES)
        .map(|_| {
            let mut t = 1_700_000_000_000i64;
            let mut v: f64 = match kind {
                "counter" => r.below(100_000) as f64,
                "gauge" => r.below(300) as f64 / 100.0,
                "bytes" => (r.below(100_000) * 4096) as f64,
                "histogram_sum" => r.below(10_000) as f64 * 0.001,
                "constant" => 1.0,
                _ => unreachable!(),
            };
            let rate = 1 + r.below(40);
            (0..SAMPLES_PER_CHUNK)
                .map(|_| {
                    t += 15_000 + r.below(jitter_ms + 1) as i64 - (jitter_ms / 2) as i64;
                    v = match kind {
                        // integer increments
                        "counter" => v + (rate / 2 + r.below(rate + 1)) as f64,
                        // load average, 2 decimals
                        "gauge" => {
                            ((v + (r.below(21) as f64 - 10.0) / 100.0).max(0.0) * 100.0).round()
                                / 100.0
                        }
                        // memory in pages
                        "bytes" => (v + (r.below(9) as f64 - 4.0) * 65536.0).max(0.0),
                        // sum of millisecond latencies, in seconds
                        "histogram_sum" => {
                            let mut s = v;
                            for _ in 0..rate {
                                s += (-(1.0 - r.unit()).ln() * 0.1 * 1000.0).round() / 1000.0;
                            }
                            s
                        }
                        _ => v,
                    };
                    (t, v)
                })
                .collect()
        })
        .collect()
}

fn encode(series: &[(i64, f64)]) -> Vec<u8> {
    let mut a = XorAppender::new();
    for &(t, v) in series {
        a.append(t, v);
    }
    a.into_bytes()
}

const KINDS: [(&str, u64); 6] = [
    ("counter", 0),
    ("counter", 20),
    ("gauge", 0),
    ("bytes", 0),
    ("histogram_sum", 0),
    ("constant", 0),
];

fn bench(c: &mut Criterion) {
    println!("XOR chunk size, {SAMPLES_PER_CHUNK} samples per chunk, 15s interval (Gorilla paper: 1.37 bytes/sample):");
    let mut all = (0usize, 0usize);
    for (kind, jitter) in KINDS {
        let data = dataset(kind, jitter);
        let bytes: usize = data.iter().map(|s| encode(s).len()).sum();
        let samples = data.len() * SAMPLES_PER_CHUNK as usize;
        all.0 += bytes;
        all.1 += samples;
        println!(
            "  {kind:<14} jitter ±{:>2}ms: {:.2} bytes/sample",
            jitter / 2,
            bytes as f64 / samples as f64
        );
    }
    println!(
        "  all kinds, equal weight: {:.2} bytes/sample",
        all.0 as f64 / all.1 as f64
    );

    let mut g = c.benchmark_group("xor_chunk");
    for (kind, jitter) in [
        ("counter", 0),
        ("gauge", 0),
        ("histogram_sum", 0),
        ("counter", 20),
    ] {
        let data = dataset(kind, jitter);
        let name = format!("{kind}_jitter{jitter}");
        let samples = (data.len() * SAMPLES_PER_CHUNK as usize) as u64;
        g.throughput(Throughput::Elements(samples));
        g.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| {
                for s in &data {
                    black_box(encode(black_box(s)));
                }
            })
        });
        let chunks: Vec<Vec<u8>> = data.iter().map(|s| encode(s)).collect();
        g.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for c in &chunks {
                    for s in XorIter::new(black_box(c)).expect("valid chunk") {
                        sum += s.v;
                    }
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
