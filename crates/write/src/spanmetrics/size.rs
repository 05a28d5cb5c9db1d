//! A span's size as OTLP's protobuf encoding (`opentelemetry.proto.trace.v1.Span`)
//! would take, what Tempo adds to `traces_spanmetrics_size_total`. Fields at
//! their zero value take nothing (proto3), a set attribute value takes its
//! oneof field even at zero, and the status is always present (the
//! OpenTelemetry Collector writes it even when empty).

use argus_model::traces::{Attr, AttrValue, Span, SpanEvent, SpanLink};

fn varint_len(v: u64) -> usize {
    // 7 bits a byte; 0 takes one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn tag_len(field: u32) -> usize {
    varint_len(u64::from(field) << 3)
}

/// A length-delimited field of `n` bytes, written even when empty.
fn len_field(field: u32, n: usize) -> usize {
    tag_len(field) + varint_len(n as u64) + n
}

/// A string or bytes field: nothing when empty.
fn bytes_field(field: u32, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        len_field(field, n)
    }
}

fn varint_field(field: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        tag_len(field) + varint_len(v)
    }
}

fn fixed_field(field: u32, nonzero: bool, width: usize) -> usize {
    if nonzero {
        tag_len(field) + width
    } else {
        0
    }
}

fn any_value_len(v: &AttrValue) -> usize {
    match v {
        AttrValue::Str(s) => len_field(1, s.len()),
        AttrValue::Bool(_) => tag_len(2) + 1,
        // Negative int64s are 10-byte varints (two's complement).
        AttrValue::Int(n) => tag_len(3) + varint_len(*n as u64),
        AttrValue::Float(_) => tag_len(4) + 8,
        AttrValue::Array(xs) => {
            len_field(5, xs.iter().map(|x| len_field(1, any_value_len(x))).sum())
        }
        AttrValue::Map(kvs) => len_field(6, kvs.iter().map(|kv| len_field(1, kv_len(kv))).sum()),
        AttrValue::Bytes(b) => len_field(7, b.len()),
    }
}

fn kv_len(a: &Attr) -> usize {
    bytes_field(1, a.key.len()) + len_field(2, any_value_len(&a.value))
}

fn attrs_len(field: u32, attrs: &[Attr]) -> usize {
    attrs.iter().map(|a| len_field(field, kv_len(a))).sum()
}

fn event_len(e: &SpanEvent) -> usize {
    fixed_field(1, e.ts_ns != 0, 8)
        + bytes_field(2, e.name.len())
        + attrs_len(3, &e.attrs)
        + varint_field(4, u64::from(e.dropped_attrs))
}

fn link_len(l: &SpanLink) -> usize {
    len_field(1, l.trace_id.len())
        + len_field(2, l.span_id.len())
        + bytes_field(3, l.trace_state.len())
        + attrs_len(4, &l.attrs)
        + varint_field(5, u64::from(l.dropped_attrs))
        + fixed_field(6, l.flags != 0, 4)
}

/// The encoded size of `span` in bytes.
pub(super) fn span_proto_len(span: &Span) -> usize {
    let status = bytes_field(2, span.status_message.len()) + varint_field(3, span.status as u64);
    len_field(1, span.trace_id.len())
        + len_field(2, span.span_id.len())
        + bytes_field(3, span.trace_state.len())
        + span.parent_span_id.map_or(0, |p| len_field(4, p.len()))
        + bytes_field(5, span.name.len())
        + varint_field(6, span.kind as u64)
        + fixed_field(7, span.start_ns != 0, 8)
        + fixed_field(8, span.end_ns != 0, 8)
        + attrs_len(9, &span.attrs)
        + varint_field(10, u64::from(span.dropped_attrs))
        + span
            .events
            .iter()
            .map(|e| len_field(11, event_len(e)))
            .sum::<usize>()
        + varint_field(12, u64::from(span.dropped_events))
        + span
            .links
            .iter()
            .map(|l| len_field(13, link_len(l)))
            .sum::<usize>()
        + varint_field(14, u64::from(span.dropped_links))
        + len_field(15, status)
        + fixed_field(16, span.flags != 0, 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::{SpanKind, StatusCode};

    #[test]
    fn varints() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(u64::MAX), 10);
        assert_eq!(tag_len(15), 1);
        assert_eq!(tag_len(16), 2);
    }

    #[test]
    fn a_span_sizes_by_hand() {
        let span = Span {
            trace_id: [1; 16],
            span_id: [2; 8],
            name: "GET".into(),
            kind: SpanKind::Server,
            start_ns: 1,
            end_ns: 2,
            attrs: vec![Attr::new("n", AttrValue::Int(300))],
            status: StatusCode::Error,
            ..Span::default()
        };
        // trace id 1+1+16, span id 1+1+8, name 1+1+3, kind 1+1,
        // start 1+8, end 1+8,
        // attribute: tag 1 + len 1 + (key 1+1+1, value 1+1+(1+2)) = 10,
        // status: 1+1+(code 1+1) = 4.
        let want = 18 + 10 + 5 + 2 + 9 + 9 + 10 + 4;
        assert_eq!(span_proto_len(&span), want);
    }
}
