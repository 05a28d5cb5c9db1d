//! Prometheus's HTTP API encoding of query values (the `data` object of
//! `/api/v1/query` and `/api/v1/query_range`).

use argus_model::{FloatHistogram, Labels, Sample};
use serde_json::{json, Map, Value as Json};

use crate::value::Value;

/// A float as Prometheus writes it (`jsonutil.MarshalFloat`): shortest
/// decimal, in exponent form (`1e-07`, `1.5e+21`) below 1e-6 and from 1e21
/// on, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v != 0.0 && (v.abs() < 1e-6 || v.abs() >= 1e21) {
        let e = format!("{v:e}");
        match e.split_once('e') {
            Some((m, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => e,
        }
    } else {
        format!("{v}")
    }
}

/// Milliseconds as the seconds number Prometheus writes (`1435781451.781`).
fn timestamp(t: i64) -> Json {
    if t % 1000 == 0 {
        json!(t / 1000)
    } else {
        json!(t as f64 / 1000.0)
    }
}

/// A label set as the API's `metric` object (keys in label order).
pub fn labels_json(l: &Labels) -> Json {
    let mut m = Map::new();
    for lb in l.iter() {
        m.insert(lb.name.clone(), Json::String(lb.value.clone()));
    }
    Json::Object(m)
}

fn point(s: &Sample) -> Json {
    json!([timestamp(s.t), format_value(s.v)])
}

/// A native histogram as Prometheus's API writes it (`jsonutil.MarshalHistogram`):
/// count, sum and the populated buckets as `[boundary_rule, lower, upper, count]`,
/// the rule being 0 (left open), 1 (right open), 2 (open) or 3 (closed).
pub fn histogram_json(h: &FloatHistogram) -> Json {
    let mut buckets = Vec::new();
    for b in crate::histogram::all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        let (lower_inc, upper_inc) = if b.zero {
            (true, true)
        } else if h.uses_custom_buckets() {
            (b.index == 0, true)
        } else {
            (b.lower < 0.0, b.upper > 0.0)
        };
        let rule = match (lower_inc, upper_inc) {
            (true, true) => 3,
            (true, false) => 1,
            (false, true) => 0,
            (false, false) => 2,
        };
        buckets.push(json!([
            rule,
            format_value(b.lower),
            format_value(b.upper),
            format_value(b.count)
        ]));
    }
    let mut m = Map::new();
    m.insert("count".into(), json!(format_value(h.count)));
    m.insert("sum".into(), json!(format_value(h.sum)));
    if !buckets.is_empty() {
        m.insert("buckets".into(), Json::Array(buckets));
    }
    Json::Object(m)
}

impl Value {
    /// `{"resultType": ..., "result": ...}` as in Prometheus's API responses.
    pub fn to_prometheus_json(&self) -> Json {
        match self {
            Value::Scalar(t, v) => {
                json!({"resultType": "scalar", "result": [timestamp(*t), format_value(*v)]})
            }
            Value::String(t, s) => json!({"resultType": "string", "result": [timestamp(*t), s]}),
            Value::Vector(v) => json!({
                "resultType": "vector",
                "result": v.iter().map(|s| match &s.h {
                    Some(h) => json!({"metric": labels_json(&s.labels), "histogram": [timestamp(s.t), histogram_json(h)]}),
                    None => json!({"metric": labels_json(&s.labels), "value": point(&Sample::new(s.t, s.v))}),
                }).collect::<Vec<_>>(),
            }),
            Value::Matrix(m) => json!({
                "resultType": "matrix",
                "result": m.iter().map(|s| {
                    let mut o = Map::new();
                    o.insert("metric".into(), labels_json(&s.labels));
                    if !s.samples.is_empty() || s.histograms.is_empty() {
                        o.insert("values".into(), s.samples.iter().map(point).collect());
                    }
                    if !s.histograms.is_empty() {
                        o.insert("histograms".into(), s.histograms.iter().map(|p| json!([timestamp(p.t), histogram_json(&p.h)])).collect());
                    }
                    Json::Object(o)
                }).collect::<Vec<_>>(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Series, VectorSample};

    #[test]
    fn encodes_like_prometheus() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let v = Value::Vector(vec![VectorSample {
            labels: l.clone(),
            t: 1_435_781_451_781,
            v: 1.0,
            h: None,
        }]);
        assert_eq!(
            v.to_prometheus_json().to_string(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1435781451.781,"1"]}]}"#
        );
        let m = Value::Matrix(vec![Series {
            labels: l,
            samples: vec![Sample::new(1000, f64::NAN), Sample::new(2000, 0.5)],
            histograms: vec![],
        }]);
        assert_eq!(
            m.to_prometheus_json()["result"][0]["values"].to_string(),
            r#"[[1,"NaN"],[2,"0.5"]]"#
        );
        assert_eq!(
            Value::Scalar(0, f64::NEG_INFINITY).to_prometheus_json()["result"].to_string(),
            r#"[0,"-Inf"]"#
        );
        assert_eq!(format_value(1e-7), "1e-07");
        assert_eq!(format_value(1.5e21), "1.5e+21");
        assert_eq!(format_value(-2.5e-300), "-2.5e-300");
        assert_eq!(format_value(123.25), "123.25");
        let h = FloatHistogram {
            count: 3.0,
            sum: 4.5,
            zero_count: 1.0,
            zero_threshold: 0.001,
            positive_spans: vec![argus_model::Span {
                offset: 0,
                length: 2,
            }],
            positive_buckets: vec![2.0, 0.0],
            ..Default::default()
        };
        let v = Value::Vector(vec![VectorSample {
            labels: Labels::default(),
            t: 1000,
            v: 0.0,
            h: Some(h),
        }]);
        assert_eq!(
            v.to_prometheus_json()["result"][0]["histogram"].to_string(),
            r#"[1,{"count":"3","sum":"4.5","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","2"]]}]"#
        );
    }
}
