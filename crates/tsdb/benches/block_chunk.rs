//! Encode and decode speed of block float chunks: compact (encoding 3)
//! against XOR (encoding 1), on a 2 h chunk (480 samples at 15 s with ms
//! jitter) of a counter, a 2-decimal gauge and a non-decimal float series.
//! Throughput is in samples: ns/sample = 1e9 / (elements/s).
//!
//! `cargo bench -p argus-tsdb --bench block_chunk`

use argus_model::Sample;
use argus_tsdb::chunk::{
    decode_compact, decode_compact_times, decode_compact_with, encode_compact, encode_compact_ref,
    XorAppender, XorIter,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn series(kind: &str, n: usize) -> Vec<Sample> {
    let mut rng = Rng(42);
    let mut v = 1000.0f64;
    let mut m = 5000i64;
    (0..n as i64)
        .map(|i| {
            let t = 1_700_000_000_000 + i * 15_000 + rng.below(11) as i64 - 5;
            let x = match kind {
                "counter" => {
                    v += rng.below(20) as f64;
                    v
                }
                "gauge" => {
                    m = (m + rng.below(21) as i64 - 10).max(0);
                    m as f64 / 100.0
                }
                _ => {
                    v += (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                    v
                }
            };
            Sample::new(t, x)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let n = 480;
    for kind in ["counter", "gauge", "float"] {
        let s = series(kind, n);
        let compact = encode_compact(&s);
        let mut app = XorAppender::new();
        for x in &s {
            app.append(x.t, x.v);
        }
        let xor = app.into_bytes();
        eprintln!(
            "{kind}: compact {:.3} B/sample, XOR {:.3} B/sample",
            compact.len() as f64 / n as f64,
            xor.len() as f64 / n as f64
        );
        let mut g = c.benchmark_group(format!("block_chunk/{kind}"));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("compact_encode", |b| {
            b.iter(|| encode_compact(black_box(&s)))
        });
        g.bench_function("compact_decode", |b| {
            b.iter(|| decode_compact(black_box(&compact)).expect("decodes"))
        });
        // Timestamps shared with another series' chunk (cached column).
        let by_ref = encode_compact_ref(&s, 1 << 20);
        let ts = decode_compact_times(&compact).expect("decodes");
        g.bench_function("compact_decode_shared_times", |b| {
            b.iter(|| {
                decode_compact_with(black_box(&by_ref), |_| Some(ts.clone())).expect("decodes")
            })
        });
        g.bench_function("xor_encode", |b| {
            b.iter(|| {
                let mut app = XorAppender::new();
                for x in black_box(&s) {
                    app.append(x.t, x.v);
                }
                app.into_bytes()
            })
        });
        g.bench_function("xor_decode", |b| {
            b.iter(|| {
                XorIter::new(black_box(&xor))
                    .expect("decodes")
                    .collect::<Vec<_>>()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
