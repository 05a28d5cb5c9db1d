//! Exemplars in remote write 1.0 and 2.0.

use argus_model::{Exemplar, Labels};

use super::tests::{lim, series, v1_ts, v2_req, v2_ts};
use super::*;

fn v1_ex(labels: &[(&str, &str)], value: f64, timestamp: i64) -> v1::Exemplar {
    v1::Exemplar {
        labels: labels
            .iter()
            .map(|(n, v)| v1::Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        value,
        timestamp,
    }
}

#[test]
fn v1_exemplars_are_kept_with_their_series() {
    let mut with = v1_ts(&[("__name__", "req")], 1);
    // Unsorted, with an empty value: sorted, the empty label dropped.
    with.exemplars = vec![
        v1_ex(
            &[("trace_id", "abc"), ("span_id", "01"), ("empty", "")],
            6.0,
            1_600_096_945_479,
        ),
        v1_ex(&[], 7.5, 1_600_096_945_480),
    ];
    // Only exemplars: kept for them (the store takes them for a series it has).
    let mut only = v1_ts(&[("__name__", "only")], 0);
    only.exemplars = vec![v1_ex(&[("trace_id", "x")], 1.0, 5)];
    // An invalid series' exemplars are dropped with it.
    let mut bad = v1_ts(&[("bad-name", "x")], 1);
    bad.exemplars = vec![v1_ex(&[("trace_id", "y")], 1.0, 5)];
    let mut buf = Vec::new();
    encode_message(
        &v1::WriteRequest {
            timeseries: vec![with, only, bad],
            metadata: vec![],
        },
        &mut buf,
    );
    let out = decode(&buf, Protocol::V1, &lim()).unwrap();
    assert_eq!(out.series.len(), 2);
    assert_eq!(
        out.series[0].exemplars,
        vec![
            Exemplar::new(
                Labels::from_pairs([("span_id", "01"), ("trace_id", "abc")]),
                6.0,
                1_600_096_945_479
            ),
            Exemplar::new(Labels::default(), 7.5, 1_600_096_945_480),
        ]
    );
    assert!(out.series[1].samples.is_empty());
    assert_eq!(out.series[1].exemplars.len(), 1);
    assert_eq!(out.stats.exemplars, 4);
    assert_eq!(out.stats.rejected_exemplars, 1);
    assert_eq!(out.rejected.len(), 1);
}

#[test]
fn v2_exemplars_resolve_their_symbols() {
    // 0   1           2      3           4      5
    let syms = ["", "__name__", "req", "trace_id", "abc", "span_id"];
    let mut ts = v2_ts(&[1, 2], 1);
    ts.exemplars = vec![
        v2::Exemplar {
            labels_refs: vec![3, 4],
            value: 6.0,
            timestamp: 10,
        },
        // Odd refs, a ref past the table: dropped and counted.
        v2::Exemplar {
            labels_refs: vec![3],
            value: 1.0,
            timestamp: 11,
        },
        v2::Exemplar {
            labels_refs: vec![5, 99],
            value: 1.0,
            timestamp: 12,
        },
        // No labels at all is fine.
        v2::Exemplar {
            labels_refs: vec![],
            value: 2.0,
            timestamp: 13,
        },
    ];
    let out = decode(&v2_req(&syms, vec![ts]), Protocol::V2, &lim()).unwrap();
    assert_eq!(out.series.len(), 1);
    assert_eq!(
        out.series[0].exemplars,
        vec![
            Exemplar::new(Labels::from_pairs([("trace_id", "abc")]), 6.0, 10),
            Exemplar::new(Labels::default(), 2.0, 13),
        ]
    );
    assert_eq!((out.stats.exemplars, out.stats.rejected_exemplars), (4, 2));
}

#[test]
fn exemplars_roundtrip_through_both_encoders() {
    let mut s = series(&[("__name__", "req"), ("job", "api")], &[(1000, 1.0)]);
    s.exemplars = vec![
        Exemplar::new(Labels::from_pairs([("trace_id", "abc")]), 0.25, 1000),
        Exemplar::new(
            Labels::from_pairs([("span_id", "1"), ("trace_id", "d")]),
            3.0,
            2000,
        ),
    ];
    for protocol in [Protocol::V1, Protocol::V2] {
        let mut buf = Vec::new();
        encode(std::slice::from_ref(&s), protocol, &mut buf);
        let out = decode(&buf, protocol, &lim()).unwrap();
        assert_eq!(out.series, vec![s.clone()], "{protocol:?}");
    }
}
