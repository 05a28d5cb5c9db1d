//! Writes the seed inputs of every fuzz target into `fuzz/corpus/<target>/`
//! (`seed-*` files), built with Argus's own encoders so they are valid inputs:
//!
//! ```sh
//! cd fuzz && cargo run --example gen_corpus
//! ```
//!
//! The committed corpora are these seeds plus what fuzzing found, minimized
//! with `cargo fuzz cmin`.

use std::fs;
use std::path::{Path, PathBuf};

use argus_ingest::remote_write::{encode_v1, encode_v2};
use argus_model::{
    CounterResetHint, Exemplar, FloatHistogram, HistogramSample, Labels, Sample, Span,
    StoredSeries, TimeSeries,
};
use argus_tsdb::block::{write_block, Compaction, INDEX_FILE};
use argus_tsdb::chunk::{encode_compact, HistogramAppender, XorAppender};
use argus_tsdb::head::{HeadChunk, PackedLabels};
use argus_tsdb::walrec;
use argus_wal::{FsyncPolicy, Wal, WalOptions};

const T0: i64 = 1_700_000_000_000;

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = corpus().join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{name}")), data).unwrap();
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn hist(i: i64) -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 1,
        zero_threshold: 0.001,
        zero_count: 1.0,
        count: 6.0 + i as f64,
        sum: 12.5 + i as f64,
        positive_spans: vec![
            Span {
                offset: 0,
                length: 2,
            },
            Span {
                offset: 1,
                length: 1,
            },
        ],
        positive_buckets: vec![1.0, 2.0, 1.0 + i as f64],
        negative_spans: vec![Span {
            offset: -1,
            length: 1,
        }],
        negative_buckets: vec![1.0],
        custom_values: vec![],
    }
}

fn custom_hist() -> FloatHistogram {
    FloatHistogram {
        counter_reset_hint: CounterResetHint::Unknown,
        schema: -53,
        count: 3.0,
        sum: 2.5,
        positive_spans: vec![Span {
            offset: 0,
            length: 3,
        }],
        positive_buckets: vec![1.0, 1.0, 1.0],
        custom_values: vec![0.5, 1.0],
        ..FloatHistogram::default()
    }
}

fn series() -> Vec<TimeSeries> {
    let floats = |n: i64| {
        (0..n)
            .map(|i| Sample::new(T0 + i * 15_000, i as f64 * 1.5))
            .collect()
    };
    vec![
        TimeSeries::new(
            labels(&[
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "200"),
            ]),
            floats(5),
        ),
        TimeSeries::new(
            labels(&[("__name__", "temperature"), ("instance", "a:9100")]),
            vec![Sample::new(T0, f64::NAN), Sample::new(T0 + 1000, -3.25e10)],
        ),
        TimeSeries {
            labels: labels(&[("__name__", "latency_seconds"), ("job", "api")]),
            samples: vec![],
            histograms: (0..3)
                .map(|i| HistogramSample {
                    t: T0 + i * 15_000,
                    h: hist(i),
                })
                .chain([HistogramSample {
                    t: T0 + 60_000,
                    h: custom_hist(),
                }])
                .collect(),
            exemplars: vec![Exemplar::new(
                labels(&[("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]),
                0.25,
                T0,
            )],
        },
    ]
}

fn unsnappy(body: &[u8]) -> Vec<u8> {
    snap::raw::Decoder::new().decompress_vec(body).unwrap()
}

fn remote_write() {
    let all = series();
    for (name, s) in [
        ("floats", &all[..2]),
        ("hist", &all[2..]),
        ("all", &all[..]),
    ] {
        let mut b = Vec::new();
        encode_v1(s, &mut b);
        write("remote_write", &format!("v1-{name}.pb"), &unsnappy(&b));
        if name == "all" {
            write("remote_write", "v1-all.snappy", &b);
        }
        let mut b = Vec::new();
        encode_v2(s, &mut b);
        write("remote_write", &format!("v2-{name}.pb"), &unsnappy(&b));
        if name == "all" {
            write("remote_write", "v2-all.snappy", &b);
        }
    }
}

const OTLP_JSON: &[(&str, &str)] = &[
    (
        "spec-example.json",
        include_str!("seeds/otlp-spec-example.json"),
    ),
    ("collector.json", include_str!("seeds/otlp-collector.json")),
    (
        "exphist-summary.json",
        include_str!("seeds/otlp-exphist-summary.json"),
    ),
];

fn otlp() {
    for (name, json) in OTLP_JSON {
        write("otlp", name, json.as_bytes());
        let req = argus_ingest::otlp::decode_request(json.as_bytes(), true).unwrap();
        let pb = prost::Message::encode_to_vec(&req);
        write("otlp", &name.replace(".json", ".pb"), &pb);
    }
}

const TEXT: &[(&str, &str)] = &[
    ("prom.txt", include_str!("seeds/prom.txt")),
    ("openmetrics.txt", include_str!("seeds/openmetrics.txt")),
    ("om-histogram.txt", include_str!("seeds/om-histogram.txt")),
];

fn textparse() {
    for (name, text) in TEXT {
        write("textparse", name, text.as_bytes());
    }
}

fn wal_records() -> Vec<Vec<u8>> {
    let all = series();
    let packed: Vec<PackedLabels> = all.iter().map(|s| PackedLabels::new(&s.labels)).collect();
    let mut recs = Vec::new();
    let mut b = Vec::new();
    walrec::encode_min_valid_time(T0 - 3_600_000, &mut b);
    recs.push(std::mem::take(&mut b));
    let refs: Vec<_> = packed
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, p))
        .collect();
    walrec::encode_series(&refs, &mut b);
    recs.push(std::mem::take(&mut b));
    let samples: Vec<_> = all
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.samples.iter().map(move |x| (i as u64 + 1, *x)))
        .collect();
    walrec::encode_samples(&samples, &mut b);
    recs.push(std::mem::take(&mut b));
    let hists: Vec<_> = all[2].histograms.iter().map(|h| (3u64, h)).collect();
    walrec::encode_histogram_samples(&hists, &mut b);
    recs.push(std::mem::take(&mut b));
    walrec::encode_series_v1(&refs, &mut b);
    recs.push(std::mem::take(&mut b));
    let mut prev = 0f64;
    let deltas: Vec<_> = samples
        .iter()
        .map(|&(id, s)| {
            let p = std::mem::replace(&mut prev, s.v);
            (id, s, p.to_bits())
        })
        .collect();
    walrec::encode_delta_samples(deltas.into_iter(), &mut b);
    recs.push(std::mem::take(&mut b));
    let mut x = XorAppender::new();
    for s in &all[0].samples {
        x.append(s.t, s.v);
    }
    let mut h = HistogramAppender::new();
    for s in &all[2].histograms {
        h.append(s.t, &s.h);
    }
    let chunks = walrec::SeriesChunks {
        id: 1,
        wal_last: 6.0f64.to_bits(),
        closed: vec![HeadChunk {
            mint: T0 - 60_000,
            maxt: T0 - 15_000,
            data: encode_compact(&[Sample::new(T0 - 60_000, 1.0), Sample::new(T0 - 15_000, 2.0)])
                .into(),
        }],
        open: Some((T0, x.bytes().to_vec())),
        ooo: vec![Sample::new(T0 - 30_000, 0.5)],
        hist_closed: vec![HeadChunk {
            mint: T0,
            maxt: T0 + 60_000,
            data: h.bytes().into(),
        }],
    };
    walrec::encode_chunks(&[chunks], &mut b);
    recs.push(std::mem::take(&mut b));
    let ex: Vec<(Labels, Exemplar)> = series()
        .into_iter()
        .flat_map(|s| {
            let l = s.labels.clone();
            (0..3).map(move |i| {
                let trace = labels(&[("trace_id", &format!("{i:032x}"))]);
                (l.clone(), Exemplar::new(trace, i as f64, T0 + i))
            })
        })
        .collect();
    argus_tsdb::exemplars::walrec::encode_exemplars(ex.iter().map(|(s, e)| (s, e)), &mut b);
    recs.push(std::mem::take(&mut b));
    recs
}

fn walrec_seeds() {
    for (i, r) in wal_records().iter().enumerate() {
        write("walrec", &format!("record-{i}"), r);
    }
}

/// The `wal` target's input: segment files back to back (the harness splits
/// at each segment magic), after a flags byte (see `fuzz_targets/wal.rs`).
fn wal() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: 256,
        fsync: FsyncPolicy::Never,
    };
    let wal = Wal::open(tmp.path(), opts.clone()).unwrap();
    let recs = wal_records();
    for r in &recs {
        wal.append(&[r]).unwrap();
    }
    wal.append(&[b"", b"x"]).unwrap();
    wal.close().unwrap();
    let mut names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let segs: Vec<Vec<u8>> = names.iter().map(|p| fs::read(p).unwrap()).collect();
    for (flags, name) in [(0u8, "raw"), (3, "fixed")] {
        let mut input = vec![flags];
        for s in &segs {
            input.extend_from_slice(s);
        }
        write("wal", &format!("segments-{name}"), &input);
    }
    let mut one = vec![0u8];
    one.extend_from_slice(&segs[0]);
    write("wal", "one-segment", &one);
}

/// The `chunk` target's input: a selector byte (0 XOR, 1 histogram,
/// 2 compact; see `fuzz_targets/chunk.rs`), then the chunk.
fn chunk() {
    let mut x = XorAppender::new();
    for i in 0..20 {
        x.append(T0 + i * 15_000 + (i % 3), (i * i) as f64 / 7.0);
    }
    write("chunk", "xor", &[&[0u8][..], x.bytes()].concat());
    let mut h = HistogramAppender::new();
    for i in 0..5 {
        h.append(T0 + i * 15_000, &hist(i));
    }
    h.append(T0 + 100_000, &custom_hist());
    write("chunk", "histogram", &[&[1u8][..], h.bytes()].concat());
    let samples: Vec<_> = (0..50)
        .map(|i| Sample::new(T0 + i * 15_000, 100.0 + i as f64 * 0.25))
        .collect();
    write(
        "chunk",
        "compact-grid",
        &[&[2u8][..], &encode_compact(&samples)].concat(),
    );
    let odd: Vec<_> = (0..30)
        .map(|i| {
            Sample::new(
                T0 + i * 1_234 + i * i,
                if i == 7 { f64::NAN } else { (i as f64).sqrt() },
            )
        })
        .collect();
    write(
        "chunk",
        "compact-irregular",
        &[&[2u8][..], &encode_compact(&odd)].concat(),
    );
}

/// The `block` target's input: flags, u16 LE index body length, index body,
/// chunks body (see `fuzz_targets/block.rs`).
fn block() {
    let tmp = tempfile::tempdir().unwrap();
    let stored: Vec<StoredSeries> = series()
        .into_iter()
        .map(|s| StoredSeries {
            labels: s.labels,
            floats: s.samples,
            histograms: s.histograms,
        })
        .collect();
    let mut stored = stored;
    stored.sort_by(|a, b| a.labels.cmp(&b.labels));
    let dir = tmp.path().join("b");
    write_block(
        &dir,
        "01",
        T0,
        T0 + 7_200_000,
        &stored,
        Compaction::default(),
    )
    .unwrap();
    let index = fs::read(dir.join(INDEX_FILE)).unwrap();
    let chunks = fs::read(dir.join("chunks")).unwrap();
    for (flags, name) in [(1u8, "wrapped"), (0, "raw")] {
        let (i, c) = if flags & 1 == 1 {
            (&index[8..index.len() - 4], &chunks[8..])
        } else {
            (&index[..], &chunks[..])
        };
        let mut input = vec![flags];
        input.extend_from_slice(&(i.len() as u16).to_le_bytes());
        input.extend_from_slice(i);
        input.extend_from_slice(c);
        write("block", &format!("block-{name}"), &input);
    }
}

fn promql() {
    let mut n = 0;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/promqltest");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "test"))
    {
        let text = fs::read_to_string(f).unwrap();
        // A few queries of every test file: the first eval lines.
        for q in text
            .lines()
            .filter(|l| l.starts_with("eval"))
            .filter_map(query_of_eval_line)
            .step_by(7)
            .take(6)
        {
            write("promql", &format!("q{n:03}"), q.as_bytes());
            n += 1;
        }
    }
    for q in PROMQL {
        write("promql", &format!("q{n:03}"), q.as_bytes());
        n += 1;
    }
}

/// The query of a promqltest `eval` line: `eval[_fail|…] instant at <t> <query>`
/// or `eval[_…] range from <t> to <t> step <d> <query>`.
fn query_of_eval_line(line: &str) -> Option<&str> {
    let rest = if let Some(i) = line.find(" instant at ") {
        &line[i + " instant at ".len()..]
    } else {
        let i = line.find(" step ")?;
        &line[i + " step ".len()..]
    };
    let q = rest.split_once(' ')?.1.trim();
    (!q.is_empty()).then_some(q)
}

const PROMQL: &[&str] = &[
    "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (le) (rate(latency_seconds[1m])))",
    "histogram_quantile(0.5, latency_seconds)",
    "temperature offset 1m > bool 0",
    "max_over_time(temperature[2m:30s])",
    "label_replace(up, \"x\", \"$1\", \"job\", \"(.*)\")",
    "topk(2, http_requests_total) or on() vector(1)",
    "count_values(\"v\", http_requests_total) @ end()",
];

/// Logs WAL records and a segment index body.
fn logs() {
    use argus_logs::walrec as lw;
    use argus_model::LogEntry;
    let web = labels(&[("job", "web"), ("env", "prod")]);
    let mut e = LogEntry::new(T0 * 1_000_000 + 7, "GET /a 200 12ms");
    e.metadata.push(("trace_id".into(), "4bf92f3577b34da6a3ce929d0e0e4736".into()));
    let entries = vec![e, LogEntry::new(T0 * 1_000_000 - 5, "level=error msg=\"late\"")];
    let db = labels(&[("job", "db")]);
    let db_entries = vec![LogEntry::new(T0 * 1_000_000, "{\"level\":\"info\"}")];
    let mut b = Vec::new();
    lw::encode_entries(
        [(&web, entries.as_slice()), (&db, db_entries.as_slice())],
        &mut b,
    );
    write("logs_walrec", "entries", &b);
    let mut b = Vec::new();
    lw::encode_freeze(42, &mut b);
    write("logs_walrec", "freeze", &b);
    // An index body: one stream, one row group with a 64-byte filter.
    let mut body = Vec::new();
    body.push(1); // streams
    body.push(1); // pairs
    for s in ["job", "web"] {
        body.push(s.len() as u8);
        body.extend_from_slice(s.as_bytes());
    }
    body.extend_from_slice(&(T0 * 1_000_000).to_le_bytes());
    body.extend_from_slice(&(T0 * 1_000_000 + 9).to_le_bytes());
    body.extend_from_slice(&[2, 40, 0, 0]); // entries, bytes, first rg, last rg
    body.push(1); // row groups
    body.extend_from_slice(&(T0 * 1_000_000).to_le_bytes());
    body.extend_from_slice(&(T0 * 1_000_000 + 9).to_le_bytes());
    body.extend_from_slice(&[2, 0, 0, 64]); // rows, first stream, last stream, filter bytes
    body.extend_from_slice(&[0x5a; 64]);
    write("logs_index", "one-stream", &body);
}

fn traces() {
    use argus_ingest::otlp::traces::{convert_traces, decode_traces_request};
    use argus_traces::walrec as tw;
    let json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"scope":{"name":"lib","version":"1"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173","name":"GET /cart","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","attributes":[{"key":"http.status_code","value":{"intValue":"200"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"doubleValue":1.5}]}}}],"events":[{"timeUnixNano":"1544712660500000000","name":"retry"}],"links":[{"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b175"}],"status":{"code":2,"message":"boom"}}]}]}]}"#;
    let req = decode_traces_request(json, true).unwrap();
    write("otlp_traces", "protobuf", &prost::Message::encode_to_vec(&req));
    let spans = convert_traces(&req).spans;
    assert_eq!(spans.len(), 1);
    let mut b = Vec::new();
    tw::encode_spans(&spans, 1_544_712_660_000, &mut b);
    write("traces_walrec", "spans", &b);
    let mut b = Vec::new();
    tw::encode_freeze(7, &mut b);
    write("traces_walrec", "freeze", &b);
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<&argus_model::traces::Span> = spans.iter().collect();
    let w = argus_traces::segment::write_segment(dir.path(), &refs, &Default::default())
        .unwrap()
        .unwrap();
    // The body: the target seals its input itself.
    let mut b = Vec::new();
    w.index.encode(&mut b);
    let body = argus_wal::codec::unseal(&b, argus_traces::segment::INDEX_MAGIC, 1, 1 << 30).unwrap();
    write("traces_index", "one-trace", &body);
}

fn main() {
    traces();
    logs();
    remote_write();
    otlp();
    textparse();
    walrec_seeds();
    wal();
    chunk();
    block();
    promql();
    println!("seeds written under {}", corpus().display());
}
