//! Postings: intersecting sorted series-id lists, and evaluating matcher
//! sets over a head index of 100k series shaped like real exporters.
//!
//! `cargo bench -p argus-tsdb --bench postings`

use argus_model::{Labels, MatchOp, Matcher};
use argus_tsdb::postings::{intersect, select, MemPostings, PostingsSource};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const TARGETS: usize = 1000;
const HANDLERS: [&str; 5] = ["/a", "/b", "/c", "/healthz", "/metrics"];
const CODES: [&str; 3] = ["200", "404", "500"];
const JOBS: [&str; 8] = [
    "api", "web", "auth", "billing", "search", "cart", "pay", "cat",
];

/// 1000 targets × (30 request counters + 70 other series) = 100k series.
fn index() -> MemPostings {
    let mut p = MemPostings::default();
    let mut id = 0u64;
    for t in 0..TARGETS {
        let job = JOBS[t % JOBS.len()];
        let pod = format!("{job}-{t:05}");
        for h in HANDLERS {
            for m in ["GET", "POST"] {
                for c in CODES {
                    let l = Labels::from_pairs([
                        ("__name__", "http_requests_total"),
                        ("job", job),
                        ("pod", &pod),
                        ("handler", h),
                        ("method", m),
                        ("code", c),
                    ]);
                    p.add(id, l.pairs());
                    id += 1;
                }
            }
        }
        for k in 0..70 {
            let name = format!("other_metric_{k}");
            let l = Labels::from_pairs([("__name__", name.as_str()), ("job", job), ("pod", &pod)]);
            p.add(id, l.pairs());
            id += 1;
        }
    }
    p
}

fn bench(c: &mut Criterion) {
    let idx = index();
    let mut g = c.benchmark_group("postings");
    let a = idx.postings("__name__", "http_requests_total").to_vec();
    let b = idx.postings("code", "500").to_vec();
    let j = idx.postings("job", "api").to_vec();
    g.throughput(Throughput::Elements((a.len() + b.len()) as u64));
    g.bench_function("intersect/30k_x_10k", |bn| {
        bn.iter(|| black_box(intersect(black_box(&a), black_box(&b))))
    });
    g.throughput(Throughput::Elements((a.len() + j.len()) as u64));
    g.bench_function("intersect/30k_x_12.5k", |bn| {
        bn.iter(|| black_box(intersect(black_box(&a), black_box(&j))))
    });
    let pod = idx.postings("pod", "api-00008").to_vec();
    g.throughput(Throughput::Elements((a.len() + pod.len()) as u64));
    g.bench_function("intersect/30k_x_100", |bn| {
        bn.iter(|| black_box(intersect(black_box(&a), black_box(&pod))))
    });
    g.throughput(Throughput::Elements(1));
    let sets: Vec<(&str, Vec<Matcher>)> = vec![
        (
            "select/name_job_code",
            vec![
                Matcher::equal("__name__", "http_requests_total"),
                Matcher::equal("job", "api"),
                Matcher::equal("code", "500"),
            ],
        ),
        (
            "select/name_regex_handler",
            vec![
                Matcher::equal("__name__", "http_requests_total"),
                Matcher::new(MatchOp::Regex, "handler", "/(a|b).*").expect("regex"),
            ],
        ),
        (
            "select/name_not_equal_code",
            vec![
                Matcher::equal("__name__", "http_requests_total"),
                Matcher::new(MatchOp::NotEqual, "code", "200").expect("matcher"),
            ],
        ),
        (
            "select/regex_pod",
            vec![Matcher::new(MatchOp::Regex, "pod", "api-0000.*").expect("regex")],
        ),
    ];
    for (name, ms) in &sets {
        g.bench_function(*name, |bn| {
            bn.iter(|| black_box(select(&idx, black_box(ms))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
