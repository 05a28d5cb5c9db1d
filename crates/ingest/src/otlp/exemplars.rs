//! OTLP exemplars to Prometheus exemplars, as Prometheus's OTLP receiver
//! converts them (`getPromExemplars` and `addExemplars` in
//! `otlptranslator/prometheusremotewrite`):
//!
//! - the time is the exemplar's, in ms; the value is `asDouble` or `asInt`
//!   (an exemplar with neither is dropped);
//! - a non-empty `trace_id` becomes label `trace_id`, a non-empty `span_id`
//!   label `span_id`, both in lowercase hex;
//! - the filtered attributes become labels under their own keys (values as
//!   strings), unless they would make the label set longer than 128
//!   characters: then only `trace_id` and `span_id` are kept;
//! - a sum point's exemplars go to its series, an exponential histogram
//!   point's to its native histogram series, an explicit-bucket histogram
//!   point's each to the first `_bucket` series (by bound) whose bound is at
//!   least its value. Gauges' and summaries' exemplars are dropped, as
//!   Prometheus drops them.

use super::attrs::value_string;
use super::ns_to_ms;
use argus_model::{Exemplar, Labels, EXEMPLAR_MAX_LABEL_SET_LENGTH};
use opentelemetry_proto::tonic::metrics::v1::{exemplar, Exemplar as OtlpExemplar};

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// One OTLP exemplar as Prometheus's (None without a value).
pub(crate) fn convert(e: &OtlpExemplar) -> Option<Exemplar> {
    let value = match e.value? {
        exemplar::Value::AsDouble(d) => d,
        exemplar::Value::AsInt(i) => i as f64,
    };
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(2 + e.filtered_attributes.len());
    let mut runes = 0;
    for (name, id) in [("trace_id", &e.trace_id), ("span_id", &e.span_id)] {
        if !id.is_empty() {
            let v = hex(id);
            runes += chars(name) + chars(&v);
            pairs.push((name.to_string(), v));
        }
    }
    let mut attrs = Vec::with_capacity(e.filtered_attributes.len());
    for kv in &e.filtered_attributes {
        let v = value_string(kv.value.as_ref());
        runes += chars(&kv.key) + chars(&v);
        attrs.push((kv.key.clone(), v));
    }
    if runes <= EXEMPLAR_MAX_LABEL_SET_LENGTH {
        pairs.extend(attrs);
    }
    Some(Exemplar::new(
        Labels::from_pairs(pairs),
        value,
        ns_to_ms(e.time_unix_nano),
    ))
}

/// All of a point's exemplars that have a value.
pub(crate) fn convert_all(es: &[OtlpExemplar]) -> Vec<Exemplar> {
    es.iter().filter_map(convert).collect()
}

/// For each exemplar, the index in `buckets` ((bound, series index), in
/// any order) of the series it belongs to: the smallest bound at least its
/// value (`addExemplars`). None when no bound is (a NaN value).
pub(crate) fn bucket_for(buckets: &[(f64, usize)], value: f64) -> Option<usize> {
    buckets
        .iter()
        .filter(|(bound, _)| value <= *bound)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|&(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
        }
    }

    #[test]
    fn ids_become_hex_labels_and_attributes_follow_within_the_limit() {
        let e = OtlpExemplar {
            filtered_attributes: vec![kv("user", "u1")],
            time_unix_nano: 1_600_096_945_479_999_999,
            value: Some(exemplar::Value::AsInt(6)),
            span_id: vec![0xab, 0x01],
            trace_id: vec![0x00, 0xff, 0x10],
        };
        let got = convert(&e).unwrap();
        assert_eq!(got.ts_ms, 1_600_096_945_479);
        assert_eq!(got.value, 6.0);
        assert_eq!(
            got.labels,
            Labels::from_pairs([("trace_id", "00ff10"), ("span_id", "ab01"), ("user", "u1")])
        );
        // Attributes that would pass 128 characters are left out.
        let long = OtlpExemplar {
            filtered_attributes: vec![kv("note", &"x".repeat(100))],
            trace_id: vec![0x11; 16],
            ..e.clone()
        };
        assert_eq!(
            convert(&long).unwrap().labels,
            Labels::from_pairs([("trace_id", "11".repeat(16)), ("span_id", "ab01".into())])
        );
        assert!(convert(&OtlpExemplar { value: None, ..e }).is_none());
    }

    #[test]
    fn bucket_choice_is_the_smallest_bound_at_least_the_value() {
        let b = [(f64::INFINITY, 9), (1.0, 1), (0.5, 0), (5.0, 2)];
        assert_eq!(bucket_for(&b, 0.5), Some(0));
        assert_eq!(bucket_for(&b, 0.7), Some(1));
        assert_eq!(bucket_for(&b, 100.0), Some(9));
        assert_eq!(bucket_for(&b, f64::NAN), None);
    }

    #[test]
    fn sums_and_histogram_buckets_carry_exemplars_gauges_do_not() {
        use crate::otlp::tests::{gauge, histogram, l, point, request, sum, CUMULATIVE, T0};
        use crate::otlp::{convert, OtlpOptions};
        use opentelemetry_proto::tonic::metrics::v1::HistogramDataPoint;
        let ex = |v: f64, trace: u8| OtlpExemplar {
            time_unix_nano: T0,
            value: Some(exemplar::Value::AsDouble(v)),
            trace_id: vec![trace; 2],
            ..Default::default()
        };
        let mut counted = point(vec![], T0, 1.0);
        counted.exemplars = vec![ex(6.0, 1)];
        let mut gauged = point(vec![], T0, 1.0);
        gauged.exemplars = vec![ex(6.0, 2)];
        let h = HistogramDataPoint {
            time_unix_nano: T0,
            count: 3,
            bucket_counts: vec![1, 1, 1],
            explicit_bounds: vec![1.0, 5.0],
            exemplars: vec![ex(100.0, 3), ex(0.5, 4), ex(3.0, 5)],
            ..Default::default()
        };
        let req = request(
            vec![],
            vec![
                sum("reqs", "", true, CUMULATIVE, vec![counted]),
                gauge("temp", "", vec![gauged]),
                histogram("lat", "", CUMULATIVE, vec![h]),
            ],
        );
        let c = convert(&req, &OtlpOptions::default());
        let of = |labels: &[(&str, &str)]| -> Vec<String> {
            let s = c.series.iter().find(|s| s.labels == l(labels)).unwrap();
            s.exemplars
                .iter()
                .map(|e| e.labels.get("trace_id").unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(of(&[("__name__", "reqs_total")]), vec!["0101"]);
        assert!(of(&[("__name__", "temp")]).is_empty());
        assert_eq!(of(&[("__name__", "lat_bucket"), ("le", "1")]), vec!["0404"]);
        assert_eq!(of(&[("__name__", "lat_bucket"), ("le", "5")]), vec!["0505"]);
        assert_eq!(
            of(&[("__name__", "lat_bucket"), ("le", "+Inf")]),
            vec!["0303"]
        );
        assert!(of(&[("__name__", "lat_count")]).is_empty());
        assert_eq!(c.exemplars(), 4);
    }
}
