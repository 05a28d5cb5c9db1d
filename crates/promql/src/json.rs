//! Prometheus's HTTP API encoding of query values (the `data` object of
//! `/api/v1/query` and `/api/v1/query_range`).

use argus_model::{Labels, Sample};
use serde_json::{json, Map, Value as Json};

use crate::value::Value;

/// A float as Prometheus writes it: shortest decimal, `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
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

fn metric(l: &Labels) -> Json {
    let mut m = Map::new();
    for lb in l.iter() {
        m.insert(lb.name.clone(), Json::String(lb.value.clone()));
    }
    Json::Object(m)
}

fn point(s: &Sample) -> Json {
    json!([timestamp(s.t), format_value(s.v)])
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
                "result": v.iter().map(|s| json!({"metric": metric(&s.labels), "value": point(&Sample::new(s.t, s.v))})).collect::<Vec<_>>(),
            }),
            Value::Matrix(m) => json!({
                "resultType": "matrix",
                "result": m.iter().map(|s| json!({"metric": metric(&s.labels), "values": s.samples.iter().map(point).collect::<Vec<_>>()})).collect::<Vec<_>>(),
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
        }]);
        assert_eq!(
            v.to_prometheus_json().to_string(),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1435781451.781,"1"]}]}"#
        );
        let m = Value::Matrix(vec![Series {
            labels: l,
            samples: vec![Sample::new(1000, f64::NAN), Sample::new(2000, 0.5)],
        }]);
        assert_eq!(
            m.to_prometheus_json()["result"][0]["values"].to_string(),
            r#"[[1,"NaN"],[2,"0.5"]]"#
        );
        assert_eq!(
            Value::Scalar(0, f64::NEG_INFINITY).to_prometheus_json()["result"].to_string(),
            r#"[0,"-Inf"]"#
        );
    }
}
