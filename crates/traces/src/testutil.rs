//! Test strategies shared by the store's codecs' tests.

use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanKind, SpanLink, SpanOrigin, StatusCode,
};
use proptest::prelude::*;
use std::sync::Arc;

pub(crate) fn value_strategy() -> impl Strategy<Value = AttrValue> {
    let leaf = prop_oneof![
        ".{0,8}".prop_map(AttrValue::Str),
        any::<i64>().prop_map(AttrValue::Int),
        // Any bits but NaN's: a NaN is not equal to itself.
        any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(AttrValue::Float),
        any::<bool>().prop_map(AttrValue::Bool),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(AttrValue::Bytes),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttrValue::Array),
            proptest::collection::vec(("[a-z.]{1,6}", inner), 0..4).prop_map(|kv| {
                AttrValue::Map(kv.into_iter().map(|(k, v)| Attr::new(k, v)).collect())
            }),
        ]
    })
}

pub(crate) fn attrs_strategy() -> impl Strategy<Value = Vec<Attr>> {
    proptest::collection::vec(("[a-z.]{1,8}", value_strategy()), 0..4)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| Attr::new(k, v)).collect())
}

prop_compose! {
    pub(crate) fn span_strategy(origins: Vec<Arc<SpanOrigin>>)(
        o in 0..origins.len(),
        trace_id in any::<[u8; 16]>(),
        span_id in any::<[u8; 8]>(),
        parent in proptest::option::of(any::<[u8; 8]>()),
        name in ".{0,12}",
        kind in 0i32..6,
        start in any::<i64>(),
        dur in any::<i64>(),
        attrs in attrs_strategy(),
        events in proptest::collection::vec((any::<i64>(), ".{0,6}", attrs_strategy(), any::<u32>()), 0..3),
        links in proptest::collection::vec((any::<[u8; 16]>(), any::<[u8; 8]>(), ".{0,4}", attrs_strategy()), 0..2),
        status in 0i32..3,
        msg in ".{0,6}",
        counts in any::<(u32, u32, u32, u32)>(),
    ) -> Span {
        Span {
            origin: origins[o].clone(),
            trace_id,
            span_id,
            parent_span_id: parent,
            trace_state: "k=v".into(),
            flags: counts.3,
            name,
            kind: SpanKind::from_i32(kind),
            start_ns: start,
            end_ns: start.wrapping_add(dur),
            attrs,
            dropped_attrs: counts.0,
            events: events.into_iter().map(|(ts_ns, name, attrs, dropped_attrs)| SpanEvent { ts_ns, name, attrs, dropped_attrs }).collect(),
            dropped_events: counts.1,
            links: links.into_iter().map(|(trace_id, span_id, trace_state, attrs)| SpanLink { trace_id, span_id, trace_state, attrs, dropped_attrs: 1, flags: 2 }).collect(),
            dropped_links: counts.2,
            status: StatusCode::from_i32(status),
            status_message: msg,
        }
    }
}

pub(crate) fn origins() -> Vec<Arc<SpanOrigin>> {
    let mut a = SpanOrigin::new(vec![
        Attr::str("service.name", "checkout"),
        Attr::new("pid", AttrValue::Int(7)),
    ]);
    a.scope_name = "lib".into();
    a.scope_version = "1.0".into();
    a.scope_attrs = vec![Attr::new("x", AttrValue::Bool(true))];
    vec![Arc::new(a), Arc::new(SpanOrigin::new(Vec::new()))]
}
