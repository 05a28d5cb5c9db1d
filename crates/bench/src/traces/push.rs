//! The traces load: generated traces ([`TraceGen`]) cut into OTLP/HTTP
//! requests (`ExportTraceServiceRequest`, protobuf) before the clock
//! starts ([`prepare`]), then sent by a few concurrent senders ([`drive`]).
//!
//! The spans of a trace are always in one request, traces in time order;
//! a request holds whole traces, about `batch_spans` spans, its spans
//! grouped by resource (one `ResourceSpans` per service instance, as the
//! SDKs of the services and a collector's batch processor send them).
//! Requests go to the senders in turn. The prepared bodies are kept
//! zstd-compressed in memory (10M spans would not fit otherwise); a sender
//! decompresses one just before sending it, on the load generator's CPU.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use argus_model::traces::{Span, StatusCode, TraceId};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use parking_lot::Mutex;
use prost::Message;

use super::gen::TraceGen;
use crate::send::{PushResult, Wire};

/// Traces generated per job of a generating thread.
const CHUNK: u64 = 2048;

/// Trace ids kept for the lookups by id (about this many, evenly spread).
const SAMPLE: u64 = 10_000;

/// How the bodies go on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// Plain protobuf (the OpenTelemetry SDKs' default).
    None,
    /// `Content-Encoding: gzip`, level 1 (the Collector's `otlphttp`
    /// exporter compresses with gzip by default).
    Gzip,
}

impl Compression {
    pub(crate) fn parse(s: &str) -> Result<Compression> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            _ => anyhow::bail!("--compression {s}: none or gzip"),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }
}

/// The requests of each sender, and what they hold.
pub(crate) struct Prepared {
    /// Per sender, its request bodies: zstd-compressed protobuf
    /// ([`Compression::None`]) or the gzip body as sent.
    pub per_sender: Vec<Vec<Vec<u8>>>,
    pub compression: Compression,
    pub spans: u64,
    pub traces: u64,
    /// Traces with a span whose status is error.
    pub error_traces: u64,
    pub requests: u64,
    /// Protobuf bytes of all requests (uncompressed).
    pub proto_bytes: u64,
    /// Bytes on the wire (the protobuf, or gzip of it).
    pub wire_bytes: u64,
    /// Bytes of the prepared bodies held in memory.
    pub held_bytes: u64,
    /// Trace ids sent (an even sample) with their span counts.
    pub sample: Vec<(TraceId, u32)>,
    /// Seconds to generate and encode (before the clock).
    pub gen_s: f64,
}

/// One chunk of traces, encoded.
#[derive(Default)]
struct ChunkOut {
    bodies: Vec<Vec<u8>>,
    spans: u64,
    traces: u64,
    error_traces: u64,
    proto_bytes: u64,
    wire_bytes: u64,
    sample: Vec<(TraceId, u32)>,
}

/// The spans of one request as protobuf, grouped by resource (in order of
/// first appearance; spans keep their order within a resource).
pub(crate) fn encode(spans: &mut [Span]) -> Vec<u8> {
    let mut first: HashMap<*const argus_model::traces::SpanOrigin, usize> = HashMap::new();
    for s in spans.iter() {
        let n = first.len();
        first.entry(Arc::as_ptr(&s.origin)).or_insert(n);
    }
    spans.sort_by_key(|s| first[&Arc::as_ptr(&s.origin)]);
    ExportTraceServiceRequest {
        resource_spans: argus_ingest::otlp::traces::encode_resource_spans(spans),
    }
    .encode_to_vec()
}

fn store(c: Compression, proto: &[u8]) -> Result<(Vec<u8>, u64)> {
    Ok(match c {
        Compression::None => (zstd::bulk::compress(proto, 1)?, proto.len() as u64),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(proto.len() / 4),
                flate2::Compression::fast(),
            );
            e.write_all(proto)?;
            let b = e.finish()?;
            let n = b.len() as u64;
            (b, n)
        }
    })
}

fn chunk(
    seed: u64,
    traces: u64,
    (start_ns, end_ns): (i64, i64),
    range: std::ops::Range<u64>,
    batch_spans: usize,
    c: Compression,
) -> Result<ChunkOut> {
    let stride = (traces / SAMPLE).max(1);
    let mut out = ChunkOut::default();
    let mut batch: Vec<Span> = Vec::with_capacity(batch_spans + 64);
    let flush = |batch: &mut Vec<Span>, out: &mut ChunkOut| -> Result<()> {
        let proto = encode(batch);
        batch.clear();
        let (body, wire) = store(c, &proto)?;
        out.proto_bytes += proto.len() as u64;
        out.wire_bytes += wire;
        out.bodies.push(body);
        Ok(())
    };
    let first = range.start;
    for (k, t) in TraceGen::new(seed, traces, start_ns, end_ns)
        .range(range)
        .enumerate()
    {
        let i = first + k as u64;
        out.traces += 1;
        out.spans += t.len() as u64;
        out.error_traces += u64::from(t.iter().any(|s| s.status == StatusCode::Error));
        if i % stride == 0 {
            out.sample.push((t[0].trace_id, t.len() as u32));
        }
        batch.extend(t);
        if batch.len() >= batch_spans {
            flush(&mut batch, &mut out)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch, &mut out)?;
    }
    Ok(out)
}

/// Generates about `spans` spans of traces starting in `[start_ns,
/// end_ns)` and cuts them into requests (see the module docs), on
/// `threads` threads.
pub(crate) fn prepare(
    seed: u64,
    spans: u64,
    (start_ns, end_ns): (i64, i64),
    batch_spans: usize,
    senders: usize,
    c: Compression,
    threads: usize,
) -> Result<Prepared> {
    let t0 = std::time::Instant::now();
    // Traces for at least `spans` spans: the mean trace size of the first
    // traces, with a margin (trace sizes vary; the report gives the count
    // sent).
    let probe: u64 = TraceGen::new(seed, 2000, start_ns, end_ns)
        .map(|t| t.len() as u64)
        .sum();
    let traces = (spans as f64 * 1.04 / (probe as f64 / 2000.0))
        .ceil()
        .max(1.0) as u64;
    let chunks = traces.div_ceil(CHUNK);
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<Option<Result<ChunkOut>>>> =
        Mutex::new((0..chunks).map(|_| None).collect());
    std::thread::scope(|sc| {
        for _ in 0..threads.max(1) {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= chunks {
                    break;
                }
                let r = k * CHUNK..((k + 1) * CHUNK).min(traces);
                let out = chunk(seed, traces, (start_ns, end_ns), r, batch_spans, c);
                results.lock()[k as usize] = Some(out);
            });
        }
    });
    let senders = senders.max(1);
    let mut p = Prepared {
        per_sender: vec![Vec::new(); senders],
        compression: c,
        spans: 0,
        traces: 0,
        error_traces: 0,
        requests: 0,
        proto_bytes: 0,
        wire_bytes: 0,
        held_bytes: 0,
        sample: Vec::new(),
        gen_s: 0.0,
    };
    for out in results.into_inner() {
        let out = out.context("a chunk was not generated")??;
        p.spans += out.spans;
        p.traces += out.traces;
        p.error_traces += out.error_traces;
        p.proto_bytes += out.proto_bytes;
        p.wire_bytes += out.wire_bytes;
        p.sample.extend(out.sample);
        for b in out.bodies {
            p.held_bytes += b.len() as u64;
            let w = (p.requests % senders as u64) as usize;
            p.per_sender[w].push(b);
            p.requests += 1;
        }
    }
    p.gen_s = t0.elapsed().as_secs_f64();
    Ok(p)
}

/// The bytes to send of a prepared body.
fn wire_body(c: Compression, b: &[u8]) -> Vec<u8> {
    match c {
        Compression::None => zstd::stream::decode_all(b).expect("a body the bench compressed"),
        Compression::Gzip => b.to_vec(),
    }
}

/// Sends every prepared request to `url` (`POST /v1/traces`), retrying
/// 429 and 5xx after a backoff as the OpenTelemetry Collector's exporters
/// do ([`crate::send::drive`]).
pub(crate) fn drive(url: &str, p: &Prepared, client: &reqwest::blocking::Client) -> PushResult {
    let wire = Wire {
        content_type: "application/x-protobuf",
        content_encoding: (p.compression == Compression::Gzip).then_some("gzip"),
    };
    let c = p.compression;
    crate::send::drive(url, wire, &p.per_sender, |b| wire_body(c, b), client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn requests_hold_whole_traces_once() {
        let end = 3_600_000_000_000;
        for c in [Compression::None, Compression::Gzip] {
            let p = prepare(7, 20_000, (0, end), 500, 3, c, 2).unwrap();
            assert!(p.spans >= 15_000 && p.spans <= 25_000, "{}", p.spans);
            assert!(p.requests > 10);
            assert_eq!(p.per_sender.len(), 3);
            assert!(!p.sample.is_empty());
            let mut seen: HashSet<TraceId> = HashSet::new();
            let mut spans = 0u64;
            for b in p.per_sender.iter().flatten() {
                let raw = match c {
                    Compression::None => wire_body(c, b),
                    Compression::Gzip => {
                        let mut d = flate2::read::GzDecoder::new(&b[..]);
                        let mut v = Vec::new();
                        std::io::Read::read_to_end(&mut d, &mut v).unwrap();
                        v
                    }
                };
                let req = argus_ingest::otlp::traces::decode_traces_request(&raw, false).unwrap();
                let conv = argus_ingest::otlp::traces::convert_traces(&req);
                let ids: HashSet<TraceId> = conv.spans.iter().map(|s| s.trace_id).collect();
                for id in &ids {
                    assert!(seen.insert(*id), "a trace in two requests");
                }
                spans += conv.spans.len() as u64;
                assert!(req.resource_spans.len() <= 36, "grouped by resource");
            }
            assert_eq!(spans, p.spans);
            assert_eq!(seen.len() as u64, p.traces);
            for (id, _) in &p.sample {
                assert!(seen.contains(id));
            }
        }
    }
}
