//! PromQL: parse and evaluate any query (`argus_promql::Engine`) over a small
//! fixed `MemStore` (counters, a gauge with NaN and a staleness marker, a
//! classic histogram, native histograms), as an instant query and a short
//! range query.
//!
//! Inputs longer than 4 KiB are skipped to keep executions fast. Nesting is
//! not limited here: deeply nested queries used to overflow the stack; the
//! engine now refuses queries nested deeper than `MAX_DEPTH` and runs the rest
//! on a stack big enough for them (`crates/promql/src/depth.rs`, tested to the
//! limit in `crates/promql/tests/nesting.rs`), so the fuzzer checks that too,
//! up to the depth 4 KiB of text reaches.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use argus_model::{CounterResetHint, FloatHistogram, Labels, Sample, Span, STALE_NAN};
use argus_promql::{Engine, EngineOptions, MemStore};
use libfuzzer_sys::fuzz_target;

const T0: i64 = 1_700_000_000_000;
const MAX_LEN: usize = 4096;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn store() -> &'static MemStore {
    static STORE: OnceLock<MemStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut s = MemStore::new();
        for (i, (job, code)) in [("api", "200"), ("api", "500"), ("db", "200")]
            .iter()
            .enumerate()
        {
            let l = labels(&[
                ("__name__", "http_requests_total"),
                ("job", job),
                ("code", code),
            ]);
            for k in 0..41 {
                // A counter with a reset half-way.
                let v = ((k % 20) * (i as i64 + 1)) as f64;
                s.add(l.clone(), Sample::new(T0 + k * 15_000, v));
            }
        }
        let temp = labels(&[
            ("__name__", "temperature"),
            ("instance", "a:9100"),
            ("job", "node"),
        ]);
        for (k, v) in [20.5, f64::NAN, -3.0, 1e308, STALE_NAN, 7.0]
            .into_iter()
            .enumerate()
        {
            s.add(temp.clone(), Sample::new(T0 + k as i64 * 60_000, v));
        }
        for (le, n) in [("0.1", 1.0), ("0.5", 4.0), ("1", 9.0), ("+Inf", 10.0)] {
            let l = labels(&[
                ("__name__", "rpc_seconds_bucket"),
                ("job", "api"),
                ("le", le),
            ]);
            for k in 0..11 {
                s.add(l.clone(), Sample::new(T0 + k * 60_000, n * k as f64));
            }
        }
        let up = labels(&[("__name__", "up"), ("job", "api")]);
        for k in 0..11 {
            s.add(up.clone(), Sample::new(T0 + k * 60_000, 1.0));
        }
        let lat = labels(&[("__name__", "latency_seconds"), ("job", "api")]);
        for k in 0..11 {
            let f = k as f64;
            s.add_histogram(
                lat.clone(),
                T0 + k * 60_000,
                FloatHistogram {
                    counter_reset_hint: CounterResetHint::NotCounterReset,
                    schema: 1,
                    zero_threshold: 0.001,
                    zero_count: f,
                    count: 6.0 * f,
                    sum: 2.5 * f,
                    positive_spans: vec![
                        Span {
                            offset: -1,
                            length: 2,
                        },
                        Span {
                            offset: 2,
                            length: 1,
                        },
                    ],
                    positive_buckets: vec![f, 2.0 * f, f],
                    negative_spans: vec![Span {
                        offset: 0,
                        length: 1,
                    }],
                    negative_buckets: vec![f],
                    custom_values: vec![],
                },
            );
        }
        let nhcb = labels(&[("__name__", "size_bytes"), ("job", "db")]);
        for k in 0..11 {
            let f = k as f64;
            s.add_histogram(
                nhcb.clone(),
                T0 + k * 60_000,
                FloatHistogram {
                    schema: -53,
                    count: 3.0 * f,
                    sum: 100.0 * f,
                    positive_spans: vec![Span {
                        offset: 0,
                        length: 3,
                    }],
                    positive_buckets: vec![f, f, f],
                    custom_values: vec![10.0, 100.0],
                    ..FloatHistogram::default()
                },
            );
        }
        s
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    if q.len() > MAX_LEN {
        return;
    }
    let engine = Engine::new(EngineOptions {
        max_samples: 200_000,
        timeout: Duration::from_secs(5),
        ..EngineOptions::default()
    });
    let _ = engine.instant(store(), q, T0 + 300_000);
    let _ = engine.range(store(), q, T0, T0 + 600_000, 60_000);
});
