//! Loki push JSON (`pkg/loghttp/push` and `pkg/loghttp/entry.go` of
//! grafana/loki describe the accepted shape): streams of
//! `{"stream": {labels}, "values": [[ts, line, {metadata}?], ...]}`.

use super::LokiError;
use argus_model::{clip, validate_label_name, LogEntry, LogStream};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// `{"streams": [...]}`; other keys are ignored, `null` is no streams.
struct Push {
    streams: Option<Vec<Stream>>,
}

/// `{"stream": {...}, "values": [...]}`; other keys are ignored.
struct Stream {
    stream: Option<Pairs>,
    values: Option<Vec<Entry>>,
}

/// A JSON object of string values, in document order.
struct Pairs(Vec<(String, String)>);

struct Entry(LogEntry);

struct Timestamp(i64);

pub(super) fn decode(body: &[u8]) -> Result<Vec<LogStream>, LokiError> {
    let push: Push = serde_json::from_slice(body).map_err(|e| LokiError::Json(e.to_string()))?;
    push.streams
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(si, s)| {
            let pairs = s.stream.map(|p| p.0).unwrap_or_default();
            if let Some((name, _)) = pairs.iter().find(|(n, _)| !validate_label_name(n)) {
                return Err(LokiError::Json(format!(
                    "streams[{si}].stream: invalid label name {:?}: names must match \
                     [a-zA-Z_][a-zA-Z0-9_]*",
                    clip(name, 100)
                )));
            }
            let labels = argus_model::Labels::from_pairs(pairs);
            if labels.is_empty() {
                return Err(LokiError::NoLabels { stream: si });
            }
            let entries = s
                .values
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.0)
                .collect();
            Ok(LogStream { labels, entries })
        })
        .collect()
}

impl<'de> Deserialize<'de> for Push {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Push;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a push request object {\"streams\": [...]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Push, A::Error> {
                let mut streams = None;
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k == "streams" {
                        streams = map.next_value()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Push { streams })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Stream {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Stream;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a stream object {\"stream\": {labels}, \"values\": [...]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Stream, A::Error> {
                let (mut stream, mut values) = (None, None);
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*k {
                        "stream" => stream = map.next_value()?,
                        "values" => values = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Stream { stream, values })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value::<String>()?;
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp as a string of integer nanoseconds since 1970")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                s.parse::<i64>().map(Timestamp).map_err(|_| {
                    E::custom(format!(
                        "invalid timestamp {:?}: expected integer nanoseconds since 1970 that \
                         fit an int64",
                        clip(s, 100)
                    ))
                })
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an entry: [\"<ns>\", \"<line>\"] or [\"<ns>\", \"<line>\", {metadata}]",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
                let Timestamp(ts_ns) = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let line: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let metadata = seq
                    .next_element::<Option<Pairs>>()?
                    .flatten()
                    .map(|p| p.0)
                    .unwrap_or_default();
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom(
                        "an entry has at most 3 elements: timestamp, line, structured metadata",
                    ));
                }
                Ok(Entry(LogEntry {
                    ts_ns,
                    line,
                    metadata,
                }))
            }
        }
        d.deserialize_seq(V)
    }
}
