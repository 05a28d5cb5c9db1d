//! Loki push API bodies (`POST /loki/api/v1/push`) to [`LogStream`]s.
//!
//! - Protobuf ([`decode_protobuf`]): a snappy block-compressed
//!   `logproto.PushRequest` ([`proto`]), `Content-Type: application/x-protobuf`,
//!   as Loki's clients (Promtail, Alloy, the Docker driver) send it. Each
//!   stream's `labels` string is parsed with [`parse_labels`].
//! - JSON ([`decode_json`]): `{"streams":[{"stream":{"k":"v"},"values":[["<ns>","line"],
//!   ["<ns>","line",{"meta":"value"}]]}]}`, `Content-Type: application/json`
//!   (a gzip `Content-Encoding` is undone by the HTTP layer). As in Loki
//!   (`pkg/loghttp/entry.go`), a timestamp must be a JSON *string* of integer
//!   nanoseconds (a number is refused), the line a string, and the optional
//!   third element an object of string values.
//!
//! A stream without labels is refused as Loki refuses it ("at least one
//! label pair is required per stream"). Entries keep their order; nothing is
//! sorted, deduplicated or checked against time or size limits here (the
//! ingest layer does that). No input makes these functions panic.

mod json;
mod labels;
pub mod proto;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use argus_model::{LogEntry, LogStream};

pub use labels::{format_labels, parse_labels, LabelsError};

/// A push body that cannot be decoded. [`LokiError::status`] is the HTTP
/// status to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LokiError {
    #[error("request body decompresses to {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: usize },
    #[error("request body is not valid snappy block-format data: {0}")]
    Snappy(String),
    #[error("request body is not a valid logproto.PushRequest protobuf message: {0}")]
    Protobuf(String),
    #[error("invalid Loki push JSON: {0}")]
    Json(String),
    #[error("stream {stream}: {error}")]
    Labels { stream: usize, error: LabelsError },
    #[error("stream {stream}: at least one label pair is required per stream")]
    NoLabels { stream: usize },
    #[error("stream {stream}, entry {entry}: {reason}")]
    Timestamp {
        stream: usize,
        entry: usize,
        reason: String,
    },
}

impl LokiError {
    /// 413 for [`LokiError::TooLarge`], else 400.
    pub fn status(&self) -> u16 {
        match self {
            LokiError::TooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// The stream identifier chunk that starts snappy's framed format.
const SNAPPY_FRAMED_MAGIC: &[u8] = b"\xff\x06\x00\x00sNaPpY";

/// Decodes a snappy block-compressed `logproto.PushRequest`. The size the
/// snappy header announces is checked against `max_decompressed_bytes`
/// before anything is allocated.
pub fn decode_protobuf(
    body: &[u8],
    max_decompressed_bytes: usize,
) -> Result<Vec<LogStream>, LokiError> {
    let raw = decompress(body, max_decompressed_bytes)?;
    let req: proto::PushRequest =
        prost::Message::decode(raw.as_slice()).map_err(|e| LokiError::Protobuf(e.to_string()))?;
    req.streams
        .into_iter()
        .enumerate()
        .map(|(si, s)| {
            let labels =
                parse_labels(&s.labels).map_err(|error| LokiError::Labels { stream: si, error })?;
            if labels.is_empty() {
                return Err(LokiError::NoLabels { stream: si });
            }
            let entries = s
                .entries
                .into_iter()
                .enumerate()
                .map(|(ei, e)| {
                    let ts = e.timestamp.ok_or_else(|| LokiError::Timestamp {
                        stream: si,
                        entry: ei,
                        reason: "the entry has no timestamp".into(),
                    })?;
                    let ts_ns = ts.to_nanos().ok_or_else(|| LokiError::Timestamp {
                        stream: si,
                        entry: ei,
                        reason: format!(
                            "timestamp {}s {}ns is out of range (nanoseconds since 1970 must fit \
                             an int64, nanos must be 0..1e9)",
                            ts.seconds, ts.nanos
                        ),
                    })?;
                    Ok(LogEntry {
                        ts_ns,
                        line: e.line,
                        metadata: e
                            .structured_metadata
                            .into_iter()
                            .map(|p| (p.name, p.value))
                            .collect(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(LogStream { labels, entries })
        })
        .collect()
}

fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, LokiError> {
    if body.is_empty() {
        return Err(LokiError::Snappy("the body is empty".into()));
    }
    if body.starts_with(SNAPPY_FRAMED_MAGIC) {
        return Err(LokiError::Snappy(
            "the body uses snappy's framed format; Loki push requires the block format".into(),
        ));
    }
    let size = snap::raw::decompress_len(body).map_err(|e| match e {
        snap::Error::TooBig { given, .. } => LokiError::TooLarge { size: given, limit },
        e => LokiError::Snappy(e.to_string()),
    })?;
    if size > limit {
        return Err(LokiError::TooLarge {
            size: size as u64,
            limit,
        });
    }
    let mut raw = vec![0u8; size];
    let n = snap::raw::Decoder::new()
        .decompress(body, &mut raw)
        .map_err(|e| LokiError::Snappy(e.to_string()))?;
    raw.truncate(n);
    Ok(raw)
}

/// Decodes a Loki push JSON body (see the module docs).
pub fn decode_json(body: &[u8]) -> Result<Vec<LogStream>, LokiError> {
    json::decode(body)
}

/// The `logproto.PushRequest` for `streams` (labels written with
/// [`format_labels`], `hash` 0).
pub fn to_proto(streams: &[LogStream]) -> proto::PushRequest {
    proto::PushRequest {
        streams: streams
            .iter()
            .map(|s| proto::StreamAdapter {
                labels: format_labels(&s.labels),
                entries: s
                    .entries
                    .iter()
                    .map(|e| proto::EntryAdapter {
                        timestamp: Some(proto::Timestamp::from_nanos(e.ts_ns)),
                        line: e.line.clone(),
                        structured_metadata: e
                            .metadata
                            .iter()
                            .map(|(n, v)| proto::LabelPairAdapter {
                                name: n.clone(),
                                value: v.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
    }
}

/// Appends `streams` to `buf` as a snappy block-compressed
/// `logproto.PushRequest`, as Loki's clients send it.
///
/// # Panics
/// If the encoded message exceeds snappy's block limit of 4 GiB - 1.
pub fn encode_protobuf(streams: &[LogStream], buf: &mut Vec<u8>) {
    crate::remote_write::encode_message(&to_proto(streams), buf);
}
