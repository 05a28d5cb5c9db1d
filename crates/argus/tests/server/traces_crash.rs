//! kill -9 during sustained span ingest (OTLP/HTTP protobuf, several
//! senders), with a small `traces.flush_size` so that flushes to segments
//! run all along and kills land in them too: after every restart each
//! acknowledged span is in its trace exactly once, and no span is there
//! that was never sent; the requests that got no answer are then sent
//! again, as an exporter retries them, and are stored once too.

use crate::harness::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, ResourceSpans, ScopeSpans, Span};
use parking_lot::Mutex;
use prost::Message as _;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Concurrent senders, traces each sender spreads its spans over, and
/// spans per request.
const WRITERS: usize = 3;
const TRACES_PER_WRITER: u64 = 4;
const SPANS_PER_REQUEST: usize = 20;

/// The high half of every trace id (the low half is a counter).
const RUN: [u8; 8] = *b"crashrun";

fn trace_id(n: u64) -> Vec<u8> {
    let mut id = RUN.to_vec();
    id.extend_from_slice(&n.to_be_bytes());
    id
}

/// Span id → trace number: spans acknowledged (2xx), and spans of requests
/// that got no answer (in flight at a kill: stored or not, never twice).
#[derive(Default)]
struct Sent {
    acked: HashMap<u64, u64>,
    in_flight: HashMap<u64, u64>,
}

/// The spans' times, from the first request on: a span's times follow
/// from its id, so that a retried span is the same span.
static BASE_NS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn request(spans: &[(u64, u64)]) -> ExportTraceServiceRequest {
    let base = *BASE_NS.get_or_init(|| now_ms() as u64 * 1_000_000);
    let spans = spans
        .iter()
        .map(|&(id, trace)| Span {
            trace_id: trace_id(trace),
            span_id: id.to_be_bytes().to_vec(),
            name: "crash op".into(),
            kind: SpanKind::Server as i32,
            start_time_unix_nano: base + id * 1000,
            end_time_unix_nano: base + id * 1000 + 1_000_000,
            attributes: vec![KeyValue {
                key: "seq".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(id as i64)),
                }),
            }],
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue("crash".into())),
                    }),
                }],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// Pushes requests of fresh span ids over this writer's own traces until
/// a request fails or `stop`; records every span of a 2xx request.
fn writer(url: String, ids: Arc<AtomicU64>, sent: Arc<Mutex<Sent>>, stop: Arc<AtomicBool>) {
    let c = client();
    let traces: Vec<u64> = (0..TRACES_PER_WRITER)
        .map(|_| ids.fetch_add(1, Ordering::SeqCst))
        .collect();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let trace = traces[i % traces.len()];
        i += 1;
        let spans: Vec<(u64, u64)> = (0..SPANS_PER_REQUEST)
            .map(|_| (ids.fetch_add(1, Ordering::SeqCst), trace))
            .collect();
        let body = request(&spans).encode_to_vec();
        sent.lock().in_flight.extend(spans.iter().copied());
        let r = c
            .post(&url)
            .header("Content-Type", "application/x-protobuf")
            .body(body)
            .send();
        match r {
            Ok(r) if r.status().is_success() => {
                let mut s = sent.lock();
                for (id, t) in spans {
                    s.in_flight.remove(&id);
                    s.acked.insert(id, t);
                }
            }
            Ok(r) => panic!("unexpected status {}: {:?}", r.status(), r.text()),
            Err(_) => break,
        }
    }
}

/// The span ids of trace `t` (with repeats) by `/api/v2/traces/<id>` in
/// protobuf; none when 404.
fn stored(a: &Argus, t: u64) -> Vec<u64> {
    let hex: String = trace_id(t).iter().map(|b| format!("{b:02x}")).collect();
    let r = client()
        .get(a.url(&format!("/api/v2/traces/{hex}")))
        .header("Accept", "application/protobuf")
        .send()
        .unwrap();
    if r.status() == 404 {
        return Vec::new();
    }
    assert_eq!(r.status(), 200, "trace {hex}");
    let resp = TraceByIdResponse::decode(r.bytes().unwrap()).unwrap();
    assert_eq!(resp.status, 0, "trace {hex} partial: {}", resp.message);
    let mut out = Vec::new();
    for rs in resp.trace.unwrap_or_default().resource_spans {
        for ss in rs.scope_spans {
            for sp in ss.spans {
                assert_eq!(sp.trace_id, trace_id(t), "a span of another trace in {hex}");
                out.push(u64::from_be_bytes(
                    sp.span_id.as_slice().try_into().unwrap(),
                ));
            }
        }
    }
    out
}

/// Sends the spans in flight at the kill again (a request per trace) and
/// counts them acknowledged; how many.
fn retry_in_flight(a: &Argus, s: &mut Sent) -> usize {
    let mut by_trace: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
    for (&id, &t) in &s.in_flight {
        by_trace.entry(t).or_default().push((id, t));
    }
    for spans in by_trace.values() {
        let r = client()
            .post(a.url("/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .body(request(spans).encode_to_vec())
            .send()
            .unwrap();
        assert!(
            r.status().is_success(),
            "retry: {}: {:?}",
            r.status(),
            r.text()
        );
    }
    let n = s.in_flight.len();
    s.acked.extend(s.in_flight.drain());
    n
}

/// Every acknowledged span stored once, nothing stored that was not sent.
fn check(a: &Argus, sent: &Sent, cycle: &str) -> usize {
    let traces: BTreeSet<u64> = sent
        .acked
        .values()
        .chain(sent.in_flight.values())
        .copied()
        .collect();
    let mut found: HashMap<u64, u64> = HashMap::new();
    for t in traces {
        for id in stored(a, t) {
            assert!(
                found.insert(id, t).is_none(),
                "{cycle}: span {id} of trace {t} stored twice"
            );
            assert!(
                sent.acked.get(&id) == Some(&t) || sent.in_flight.get(&id) == Some(&t),
                "{cycle}: stored span {id} of trace {t} was never sent"
            );
        }
    }
    for (id, t) in &sent.acked {
        assert_eq!(
            found.get(id),
            Some(t),
            "{cycle}: acknowledged span {id} of trace {t} lost"
        );
    }
    found.len()
}

/// The traces store's segment files under the data directory.
fn segment_files(dir: &std::path::Path) -> usize {
    fn walk(p: &std::path::Path, n: &mut usize) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, n);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(&dir.join("data/objects/tenants/anonymous/traces"), &mut n);
    n
}

#[test]
fn kill_9_during_span_ingest_loses_and_repeats_no_acknowledged_span() {
    let dir = tempfile::tempdir().unwrap();
    // A flush every 64 KiB of spans (with room in the head, so that pushes
    // do not wait for them) and small WAL segments: kills land in flushes
    // and around WAL rotation.
    let mut a = Argus::start(
        dir.path(),
        "tsdb:\n  wal_segment_size: 65536\ntraces:\n  flush_size: 65536\n  max_head_size: 67108864\n  flush_tail_size: 0\n",
    );
    let ids = Arc::new(AtomicU64::new(1));
    let sent = Arc::new(Mutex::new(Sent::default()));
    for cycle in 0..fault_cycles() {
        let (url, n, s) = (a.url("/v1/traces"), ids.clone(), sent.clone());
        let run = Duration::from_millis(300 + pseudo_random(1200));
        kill9_under_load(&mut a, WRITERS, run, move |stop| {
            writer(url.clone(), n.clone(), s.clone(), stop)
        });
        let mut s = sent.lock();
        assert!(
            s.acked.len() > cycle,
            "cycle {cycle}: the writers got nothing acknowledged"
        );
        // The exporters retry what got no answer: whether the server had
        // stored it or not, it is stored once.
        let retried = retry_in_flight(&a, &mut s);
        let stored = check(&a, &s, &format!("cycle {cycle}, {retried} spans retried"));
        eprintln!(
            "cycle {cycle}: {} acknowledged spans, {} stored, {} segment files",
            s.acked.len(),
            stored,
            segment_files(dir.path())
        );
    }
    // The spans went through segments during the run, not only the WAL.
    assert!(
        segment_files(dir.path()) > 0,
        "no traces segment was flushed during the test"
    );
    // And all of them read back from segments once the heads are flushed.
    let r = client().post(a.url("/flush")).send().unwrap();
    assert_eq!(r.status(), 204);
    check(&a, &sent.lock(), "after /flush");
    a.stop();
}
