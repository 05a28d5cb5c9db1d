//! The traces store's WAL records (`docs/format/traces.md`): the WAL itself
//! (`argus-wal`) carries opaque records; these are the traces store's.
//!
//! ```text
//! record  := kind:u8 body
//! kind 1  (spans) := zstd frame of: varint(arrival ms) uvarint(origins) origin*
//!                    uvarint(spans) span*
//!   origin := attrs(resource) str(scope name) str(scope version) attrs(scope)
//!   span   := uvarint(origin index) trace_id:16 span_id:8
//!             u8(has parent) [parent_span_id:8] str(trace state) uvarint(flags)
//!             str(name) u8(kind) varint(start_ns) varint(end_ns - start_ns)
//!             attrs uvarint(dropped attrs)
//!             uvarint(events) event* uvarint(dropped events)
//!             uvarint(links) link* uvarint(dropped links)
//!             u8(status) str(status message)
//!   event  := varint(ts_ns - start_ns) str(name) attrs uvarint(dropped attrs)
//!   link   := trace_id:16 span_id:8 str(trace state) attrs uvarint(dropped attrs)
//!             uvarint(flags)
//!   attrs  := uvarint(n) (str(key) value)*
//!   value  := 0 str | 1 varint | 2 f64:8 LE | 3 u8(bool) | 4 bytes
//!           | 5 uvarint(n) value* (array) | 6 attrs (map)
//!   str    := uvarint(len) UTF-8 bytes
//! kind 2  (freeze marker) := u64 LE: the WAL segment the flush closed
//! ```
//!
//! Decoding checks every length against what is left and bounds the
//! nesting of values, so a damaged or hostile record is an error, never a
//! panic or an allocation larger than the record.

use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanKind, SpanLink, SpanOrigin, StatusCode,
};
pub use argus_wal::codec::encode_freeze;
use argus_wal::codec::{
    decode_framed, encode_payload, put_bytes, put_str, put_uvarint, put_varint, CodecError, Framed,
    Reader,
};
use std::sync::Arc;

/// zstd level of a spans record (a negative level is a fast one, as for
/// the logs store's records).
const WAL_ZSTD_LEVEL: i32 = -3;

/// The largest decompressed spans record accepted (a push is bounded by
/// the ingest body limit well below this).
pub const MAX_RECORD_BYTES: usize = 1 << 30;

/// Array and map values nest at most this deep (OTLP's protobuf decoder
/// allows about 50 levels of `AnyValue`).
pub const MAX_VALUE_DEPTH: usize = 64;

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Spans accepted by one push, and when it arrived (ms; what a flush
    /// cuts segments by).
    Spans { arrival_ms: i64, spans: Vec<Span> },
    /// Everything before this record was set aside by the flush that
    /// closed WAL segment `.0`.
    Freeze(u64),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error("attribute values nested deeper than {MAX_VALUE_DEPTH}")]
    TooDeep,
    #[error("span origin {0} out of range")]
    Origin(u64),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Appends a spans record for `spans`, arrived at `arrival_ms`, to `out`.
pub fn encode_spans(spans: &[Span], arrival_ms: i64, out: &mut Vec<u8>) {
    // Origins in order of first use, shared spans' by pointer.
    let mut origins: Vec<&Arc<SpanOrigin>> = Vec::new();
    let mut index = Vec::with_capacity(spans.len());
    for s in spans {
        let i = match origins.iter().rposition(|o| Arc::ptr_eq(o, &s.origin)) {
            Some(i) => i,
            None => {
                origins.push(&s.origin);
                origins.len() - 1
            }
        };
        index.push(i);
    }
    let mut raw = Vec::with_capacity(spans.len() * 256);
    put_varint(&mut raw, arrival_ms);
    put_uvarint(&mut raw, origins.len() as u64);
    for o in &origins {
        put_origin(&mut raw, o);
    }
    put_uvarint(&mut raw, spans.len() as u64);
    for (s, &o) in spans.iter().zip(&index) {
        put_uvarint(&mut raw, o as u64);
        put_span(&mut raw, s);
    }
    encode_payload(&raw, WAL_ZSTD_LEVEL, out);
}

fn put_span(out: &mut Vec<u8>, s: &Span) {
    out.extend_from_slice(&s.trace_id);
    out.extend_from_slice(&s.span_id);
    match &s.parent_span_id {
        Some(p) => {
            out.push(1);
            out.extend_from_slice(p);
        }
        None => out.push(0),
    }
    put_str(out, &s.trace_state);
    put_uvarint(out, u64::from(s.flags));
    put_str(out, &s.name);
    out.push(s.kind as u8);
    put_varint(out, s.start_ns);
    put_varint(out, s.end_ns.wrapping_sub(s.start_ns));
    put_attrs(out, &s.attrs);
    put_uvarint(out, u64::from(s.dropped_attrs));
    put_events(out, &s.events, s.start_ns);
    put_uvarint(out, u64::from(s.dropped_events));
    put_links(out, &s.links);
    put_uvarint(out, u64::from(s.dropped_links));
    out.push(s.status as u8);
    put_str(out, &s.status_message);
}

/// `attrs(resource) str(scope name) str(scope version) attrs(scope)`.
pub(crate) fn put_origin(out: &mut Vec<u8>, o: &SpanOrigin) {
    put_attrs(out, &o.resource);
    put_str(out, &o.scope_name);
    put_str(out, &o.scope_version);
    put_attrs(out, &o.scope_attrs);
}

pub(crate) fn read_origin(r: &mut Reader<'_>) -> Result<SpanOrigin, RecordError> {
    let mut o = SpanOrigin::new(attrs(r, 0)?);
    o.scope_name = r.str()?.to_string();
    o.scope_version = r.str()?.to_string();
    o.scope_attrs = attrs(r, 0)?;
    Ok(o)
}

/// `uvarint(n) event*`, times relative to the span's start.
pub(crate) fn put_events(out: &mut Vec<u8>, events: &[SpanEvent], start_ns: i64) {
    put_uvarint(out, events.len() as u64);
    for e in events {
        put_varint(out, e.ts_ns.wrapping_sub(start_ns));
        put_str(out, &e.name);
        put_attrs(out, &e.attrs);
        put_uvarint(out, u64::from(e.dropped_attrs));
    }
}

/// `uvarint(n) link*`.
pub(crate) fn put_links(out: &mut Vec<u8>, links: &[SpanLink]) {
    put_uvarint(out, links.len() as u64);
    for l in links {
        out.extend_from_slice(&l.trace_id);
        out.extend_from_slice(&l.span_id);
        put_str(out, &l.trace_state);
        put_attrs(out, &l.attrs);
        put_uvarint(out, u64::from(l.dropped_attrs));
        put_uvarint(out, u64::from(l.flags));
    }
}

pub(crate) fn read_events(
    r: &mut Reader<'_>,
    start_ns: i64,
) -> Result<Vec<SpanEvent>, RecordError> {
    let n = r.count(4)?;
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        events.push(SpanEvent {
            ts_ns: start_ns.wrapping_add(r.varint()?),
            name: r.str()?.to_string(),
            attrs: attrs(r, 0)?,
            dropped_attrs: r.u32()?,
        });
    }
    Ok(events)
}

pub(crate) fn read_links(r: &mut Reader<'_>) -> Result<Vec<SpanLink>, RecordError> {
    let n = r.count(28)?;
    let mut links = Vec::with_capacity(n);
    for _ in 0..n {
        links.push(SpanLink {
            trace_id: r.array()?,
            span_id: r.array()?,
            trace_state: r.str()?.to_string(),
            attrs: attrs(r, 0)?,
            dropped_attrs: r.u32()?,
            flags: r.u32()?,
        });
    }
    Ok(links)
}

pub(crate) fn put_attrs(out: &mut Vec<u8>, attrs: &[Attr]) {
    put_uvarint(out, attrs.len() as u64);
    for a in attrs {
        put_attr(out, a);
    }
}

/// One attribute of `attrs`: its key, then its value.
pub(crate) fn put_attr(out: &mut Vec<u8>, a: &Attr) {
    put_str(out, &a.key);
    put_value(out, &a.value);
}

fn put_value(out: &mut Vec<u8>, v: &AttrValue) {
    match v {
        AttrValue::Str(s) => {
            out.push(0);
            put_str(out, s);
        }
        AttrValue::Int(i) => {
            out.push(1);
            put_varint(out, *i);
        }
        AttrValue::Float(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_le_bytes());
        }
        AttrValue::Bool(b) => {
            out.push(3);
            out.push(u8::from(*b));
        }
        AttrValue::Bytes(b) => {
            out.push(4);
            put_bytes(out, b);
        }
        AttrValue::Array(items) => {
            out.push(5);
            put_uvarint(out, items.len() as u64);
            for i in items {
                put_value(out, i);
            }
        }
        AttrValue::Map(attrs) => {
            out.push(6);
            put_attrs(out, attrs);
        }
    }
}

/// Decodes one record.
pub fn decode(rec: &[u8]) -> Result<Record, RecordError> {
    match decode_framed(rec, MAX_RECORD_BYTES)? {
        Framed::Payload(raw) => decode_spans(&raw),
        Framed::Freeze(segment) => Ok(Record::Freeze(segment)),
    }
}

fn decode_spans(raw: &[u8]) -> Result<Record, RecordError> {
    let mut r = Reader::new(raw);
    let arrival_ms = r.varint()?;
    let n = r.count(4)?;
    let mut origins = Vec::with_capacity(n);
    for _ in 0..n {
        origins.push(Arc::new(read_origin(&mut r)?));
    }
    let n = r.count(40)?;
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        let o = r.uvarint()?;
        let origin = usize::try_from(o)
            .ok()
            .and_then(|i| origins.get(i))
            .ok_or(RecordError::Origin(o))?
            .clone();
        spans.push(span(&mut r, origin)?);
    }
    r.finish()?;
    Ok(Record::Spans { arrival_ms, spans })
}

fn span(r: &mut Reader<'_>, origin: Arc<SpanOrigin>) -> Result<Span, RecordError> {
    let trace_id = r.array()?;
    let span_id = r.array()?;
    let parent_span_id = match r.u8()? {
        0 => None,
        _ => Some(r.array()?),
    };
    let trace_state = r.str()?.to_string();
    let flags = r.u32()?;
    let name = r.str()?.to_string();
    let kind = SpanKind::from_i32(i32::from(r.u8()?));
    let start_ns = r.varint()?;
    let end_ns = start_ns.wrapping_add(r.varint()?);
    let attrs_ = attrs(r, 0)?;
    let dropped_attrs = r.u32()?;
    let events = read_events(r, start_ns)?;
    let dropped_events = r.u32()?;
    let links = read_links(r)?;
    let dropped_links = r.u32()?;
    let status = StatusCode::from_i32(i32::from(r.u8()?));
    let status_message = r.str()?.to_string();
    Ok(Span {
        origin,
        trace_id,
        span_id,
        parent_span_id,
        trace_state,
        flags,
        name,
        kind,
        start_ns,
        end_ns,
        attrs: attrs_,
        dropped_attrs,
        events,
        dropped_events,
        links,
        dropped_links,
        status,
        status_message,
    })
}

pub(crate) fn attrs(r: &mut Reader<'_>, depth: usize) -> Result<Vec<Attr>, RecordError> {
    let n = r.count(2)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.str()?.to_string();
        out.push(Attr::new(key, value(r, depth)?));
    }
    Ok(out)
}

fn value(r: &mut Reader<'_>, depth: usize) -> Result<AttrValue, RecordError> {
    if depth >= MAX_VALUE_DEPTH {
        return Err(RecordError::TooDeep);
    }
    let at = r.pos();
    Ok(match r.u8()? {
        0 => AttrValue::Str(r.str()?.to_string()),
        1 => AttrValue::Int(r.varint()?),
        2 => AttrValue::Float(f64::from_le_bytes(r.array()?)),
        3 => AttrValue::Bool(r.u8()? != 0),
        4 => AttrValue::Bytes(r.len_bytes()?.to_vec()),
        5 => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(r, depth + 1)?);
            }
            AttrValue::Array(items)
        }
        6 => AttrValue::Map(attrs(r, depth + 1)?),
        _ => return Err(CodecError::Invalid(at).into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{origins, span_strategy};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_spans_round_trip(spans in proptest::collection::vec(span_strategy(origins()), 0..6)) {
            let mut buf = Vec::new();
            encode_spans(&spans, -5, &mut buf);
            let Record::Spans { arrival_ms: -5, spans: got } = decode(&buf).unwrap() else { panic!("not spans") };
            prop_assert_eq!(&got, &spans);
            // Spans of one origin share it after decoding too.
            for (a, b) in got.iter().zip(&spans) {
                for (c, d) in got.iter().zip(&spans) {
                    prop_assert_eq!(Arc::ptr_eq(&a.origin, &c.origin), Arc::ptr_eq(&b.origin, &d.origin));
                }
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
            let mut rec = Vec::new();
            encode_payload(&bytes, 1, &mut rec);
            let _ = decode(&rec);
        }
    }

    #[test]
    fn freeze_round_trips_and_damage_is_an_error() {
        let mut buf = Vec::new();
        encode_freeze(42, &mut buf);
        assert_eq!(decode(&buf), Ok(Record::Freeze(42)));
        assert_eq!(
            decode(&buf[..5]),
            Err(RecordError::Codec(CodecError::Truncated(0)))
        );
        assert_eq!(decode(&[]), Err(RecordError::Codec(CodecError::Empty)));
        assert_eq!(decode(&[9]), Err(RecordError::Codec(CodecError::Kind(9))));
        // An origin index beyond the origins.
        let mut raw = Vec::new();
        put_varint(&mut raw, 0); // arrival
        put_uvarint(&mut raw, 0);
        put_uvarint(&mut raw, 1);
        put_uvarint(&mut raw, 3);
        raw.extend_from_slice(&[0; 40]);
        let mut rec = Vec::new();
        encode_payload(&raw, 1, &mut rec);
        assert_eq!(decode(&rec), Err(RecordError::Origin(3)));
    }

    #[test]
    fn deep_values_are_refused() {
        // An origin whose one resource attribute nests arrays past the bound.
        let mut raw = Vec::new();
        put_varint(&mut raw, 0); // arrival
        put_uvarint(&mut raw, 1);
        put_uvarint(&mut raw, 1);
        put_str(&mut raw, "k");
        for _ in 0..MAX_VALUE_DEPTH + 1 {
            raw.push(5);
            put_uvarint(&mut raw, 1);
        }
        raw.push(3);
        raw.push(1);
        let mut rec = Vec::new();
        encode_payload(&raw, 1, &mut rec);
        assert_eq!(decode(&rec), Err(RecordError::TooDeep));
    }
}
