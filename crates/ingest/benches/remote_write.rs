//! Remote-write decode (snappy + protobuf + validation) of a 2,000-series ×
//! 1-sample request shaped like a Prometheus sender's, 1.0 and 2.0.
//!
//! `cargo bench -p argus-ingest --bench remote_write`

use argus_ingest::remote_write::{decode, encode, DecodeLimits, Protocol};
use argus_model::{Labels, Sample, TimeSeries};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn request(n: usize) -> Vec<TimeSeries> {
    let handlers = ["/api/v1/users", "/api/v1/orders", "/healthz", "/metrics"];
    let codes = ["200", "404", "500"];
    (0..n)
        .map(|i| {
            let l = Labels::from_pairs([
                ("__name__", "http_requests_total".to_string()),
                ("job", format!("job-{}", i % 8)),
                ("namespace", "prod".to_string()),
                ("pod", format!("api-7d4b9c8f6d-{:05}", i / 24)),
                (
                    "instance",
                    format!("10.0.{}.{}:8080", i / 24 / 250, i / 24 % 250),
                ),
                ("handler", handlers[i % 4].to_string()),
                ("method", if i % 8 < 4 { "GET" } else { "POST" }.to_string()),
                ("code", codes[i % 3].to_string()),
            ]);
            TimeSeries::new(l, vec![Sample::new(1_700_000_000_000, (i * 17) as f64)])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let series = request(2000);
    let limits = DecodeLimits::default();
    let mut g = c.benchmark_group("remote_write_decode");
    g.throughput(Throughput::Elements(series.len() as u64));
    for (name, p) in [("v1", Protocol::V1), ("v2", Protocol::V2)] {
        let mut body = Vec::new();
        encode(&series, p, &mut body);
        println!(
            "{name}: 2000 series x 1 sample = {} bytes snappy-compressed",
            body.len()
        );
        g.bench_function(format!("{name}/2000_series"), |b| {
            b.iter(|| black_box(decode(black_box(&body), p, &limits).expect("decode")))
        });
    }
    g.bench_function("v1/encode_2000_series", |b| {
        let mut body = Vec::new();
        b.iter(|| {
            body.clear();
            encode(black_box(&series), Protocol::V1, &mut body);
            black_box(body.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
