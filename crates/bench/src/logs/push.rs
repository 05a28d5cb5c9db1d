//! Ingest through Loki push: `POST /loki/api/v1/push`, snappy-compressed
//! `logproto.PushRequest` protobuf ([`argus_ingest::loki::encode_protobuf`]).
//!
//! The corpus is cut into requests once, before any timing ([`prepare`]):
//! stream `s` always goes to sender `s % senders`, whose requests carry the
//! entries of its streams in corpus (time) order, about `batch_bytes` of
//! lines each. [`drive`] then sends every sender's requests one after the
//! other, the senders concurrently, so each stream arrives in order.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{Context, Result};
use argus_model::{Labels, LogEntry, LogStream};

use super::corpus::{parse_tsv, Corpus, StreamDef};

/// The request bodies of each sender.
pub(crate) struct Prepared {
    pub per_sender: Vec<Vec<Vec<u8>>>,
    pub lines: u64,
    /// Line bytes (without newlines) in the requests.
    pub line_bytes: u64,
    pub requests: u64,
    /// Compressed body bytes.
    pub body_bytes: u64,
}

struct Pending {
    streams: HashMap<usize, Vec<LogEntry>>,
    order: Vec<usize>,
    bytes: usize,
}

impl Pending {
    fn new() -> Self {
        Pending {
            streams: HashMap::new(),
            order: Vec::new(),
            bytes: 0,
        }
    }

    fn take(&mut self, labels: &[Labels]) -> Vec<u8> {
        let streams: Vec<LogStream> = self
            .order
            .drain(..)
            .map(|s| LogStream {
                labels: labels[s].clone(),
                entries: self.streams.remove(&s).unwrap_or_default(),
            })
            .collect();
        self.bytes = 0;
        let mut body = Vec::new();
        argus_ingest::loki::encode_protobuf(&streams, &mut body);
        body
    }
}

/// Cuts the corpus into push requests (see the module docs).
pub(crate) fn prepare(
    c: &Corpus,
    defs: &[StreamDef],
    batch_bytes: usize,
    senders: usize,
) -> Result<Prepared> {
    let senders = senders.max(1);
    let labels: Vec<Labels> = defs.iter().map(StreamDef::labels).collect();
    let mut pending: Vec<Pending> = (0..senders).map(|_| Pending::new()).collect();
    let mut out = Prepared {
        per_sender: vec![Vec::new(); senders],
        lines: 0,
        line_bytes: 0,
        requests: 0,
        body_bytes: 0,
    };
    let f = std::fs::File::open(c.tsv_path())?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f);
    let mut l = String::new();
    loop {
        l.clear();
        if r.read_line(&mut l)? == 0 {
            break;
        }
        let (ts, s, line) = parse_tsv(&l).with_context(|| format!("bad corpus line {l:?}"))?;
        anyhow::ensure!(s < defs.len(), "stream {s} out of range");
        let w = s % senders;
        let p = &mut pending[w];
        let e = p.streams.entry(s).or_insert_with(|| {
            p.order.push(s);
            Vec::new()
        });
        e.push(LogEntry::new(ts, line));
        p.bytes += line.len();
        out.lines += 1;
        out.line_bytes += line.len() as u64;
        if p.bytes >= batch_bytes {
            let body = p.take(&labels);
            out.body_bytes += body.len() as u64;
            out.requests += 1;
            out.per_sender[w].push(body);
        }
    }
    for (w, p) in pending.iter_mut().enumerate() {
        if p.bytes > 0 {
            let body = p.take(&labels);
            out.body_bytes += body.len() as u64;
            out.requests += 1;
            out.per_sender[w].push(body);
        }
    }
    Ok(out)
}

pub(crate) use crate::send::PushResult;

/// Sends every prepared request to `url` ([`crate::send::drive`]): each
/// sender in its own thread, a request answered 429 or 5xx sent again
/// after a backoff, as Loki's clients (Promtail, Alloy) do.
pub(crate) fn drive(
    url: &str,
    p: &Prepared,
    client: &reqwest::blocking::Client,
) -> Result<PushResult> {
    let wire = crate::send::Wire {
        content_type: "application/x-protobuf",
        content_encoding: None,
    };
    Ok(crate::send::drive(
        url,
        wire,
        &p.per_sender,
        Vec::clone,
        client,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_hold_every_line_once_streams_in_order_on_one_sender() {
        let d = tempfile::tempdir().unwrap();
        let c =
            super::super::corpus::generate(d.path(), 3, 600_000, 40, 3_600_000, 1_700_000_000_000)
                .unwrap();
        let defs = super::super::corpus::streams(3, 40);
        let p = prepare(&c, &defs, 64 * 1024, 3).unwrap();
        assert_eq!(p.lines, c.meta.lines);
        assert_eq!(p.line_bytes + p.lines, c.meta.raw_bytes);
        assert!(p.requests > 3);
        let mut seen = 0u64;
        let mut last: HashMap<String, i64> = HashMap::new();
        let mut sender_of: HashMap<String, usize> = HashMap::new();
        for (w, bodies) in p.per_sender.iter().enumerate() {
            for b in bodies {
                let streams = argus_ingest::loki::decode_protobuf(b, 64 << 20).unwrap();
                for s in streams {
                    let key = argus_ingest::loki::format_labels(&s.labels);
                    assert_eq!(*sender_of.entry(key.clone()).or_insert(w), w);
                    for e in s.entries {
                        let l = last.entry(key.clone()).or_insert(i64::MIN);
                        assert!(e.ts_ns > *l);
                        *l = e.ts_ns;
                        seen += 1;
                    }
                }
            }
        }
        assert_eq!(seen, c.meta.lines);
    }
}
