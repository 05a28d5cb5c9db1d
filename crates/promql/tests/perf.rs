//! A rough performance smoke test (ignored by default): `cargo test -p argus-promql --release --test perf -- --ignored --nocapture`.

use std::time::Instant;

use argus_model::{Labels, Sample};
use argus_promql::{Engine, MemStore, Value};

#[test]
#[ignore]
fn range_query_over_many_series() {
    let mut s = MemStore::new();
    for i in 0..1000 {
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total".to_string()),
            ("job", format!("j{}", i % 10)),
            ("instance", format!("i{i}")),
        ]);
        for t in 0..1440 {
            s.add(l.clone(), Sample::new(t * 15_000, (t * i) as f64));
        }
    }
    let e = Engine::default();
    for q in [
        "sum by (job) (rate(http_requests_total[5m]))",
        "http_requests_total * 2",
        "topk(5, http_requests_total)",
    ] {
        let t0 = Instant::now();
        let r = e.range(&s, q, 0, 1440 * 15_000, 60_000).unwrap();
        let n = match r.value {
            Value::Matrix(m) => m.iter().map(|s| s.samples.len()).sum::<usize>(),
            _ => 0,
        };
        println!("{q}: {n} points in {:?}", t0.elapsed());
    }
}
