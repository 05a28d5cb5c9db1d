//! Query evaluation benchmark: 1,000 series (100 counters × 10 `le` buckets
//! … see `store`) over 6 hours at a 15 s interval, queried with the shapes
//! dashboards use. `cargo bench -p argus-promql --bench eval`.

use argus_model::{Labels, Sample};
use argus_promql::{Engine, MemStore};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const STEP: i64 = 15_000;
const POINTS: i64 = 6 * 3600 * 1000 / STEP;

fn store() -> MemStore {
    let mut s = MemStore::new();
    let les = [
        "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf",
    ];
    for pod in 0..10 {
        for handler in 0..10 {
            let (p, h) = (format!("pod-{pod}"), format!("/api/{handler}"));
            let base = [("job", "api"), ("pod", p.as_str()), ("handler", h.as_str())];
            let counter = Labels::from_pairs(
                base.iter()
                    .copied()
                    .chain([("__name__", "http_requests_total")]),
            );
            for i in 0..POINTS {
                s.add(
                    counter.clone(),
                    Sample::new(i * STEP, (i * (handler + 1)) as f64),
                );
            }
            for (k, le) in les.iter().enumerate() {
                let l = Labels::from_pairs(base.iter().copied().chain([
                    ("__name__", "http_request_duration_seconds_bucket"),
                    ("le", le),
                ]));
                for i in 0..POINTS {
                    s.add(
                        l.clone(),
                        Sample::new(i * STEP, (i * (k as i64 + 1)) as f64),
                    );
                }
            }
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let s = store();
    let engine = Engine::default();
    let end = (POINTS - 1) * STEP;
    let queries = [
        "sum by (job) (rate(http_requests_total[5m]))",
        "topk(5, sum by (handler) (rate(http_requests_total[5m])))",
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "http_requests_total{handler=~\"/api/[1-3]\"}",
        "max_over_time(rate(http_requests_total[5m])[30m:1m])",
    ];
    let mut g = c.benchmark_group("range_1h_step_15s");
    g.sample_size(10);
    for q in queries {
        g.bench_with_input(BenchmarkId::from_parameter(q), q, |b, q| {
            b.iter(|| engine.range(&s, q, end - 3_600_000, end, STEP).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("instant");
    for q in queries {
        g.bench_with_input(BenchmarkId::from_parameter(q), q, |b, q| {
            b.iter(|| engine.instant(&s, q, end).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
