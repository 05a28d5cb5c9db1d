//! Read endpoints: `/api/v1/series`, `/api/v1/labels`,
//! `/api/v1/label/<name>/values` (Prometheus JSON) and `/api/v1/export`
//! (raw samples, one JSON object per series and line).

use crate::error::JsonError;
use crate::params::{parse_selectors, time_param, Params, MAX_TIME, MIN_TIME};
use crate::tenant::tenant_of;
use crate::{ApiError, AppState};
use argus_model::{is_stale_nan, Sample, StoredSeries};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn params(
    query: Option<String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Params, ApiError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    Params::parse(query.as_deref(), is_form.then_some(body.as_ref()))
}

fn success(data: Value) -> Response {
    axum::Json(json!({"status": "success", "data": data})).into_response()
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

pub(crate) async fn series(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let tenant = tenant_of(&s, &headers)?;
    let sets = parse_selectors(&p)?;
    if sets.is_empty() {
        return Err(ApiError::BadData("no match[] parameter provided".into()).into());
    }
    let (start, end) = (
        time_param(&p, "start", MIN_TIME)?,
        time_param(&p, "end", MAX_TIME)?,
    );
    let reader = s.reader()?;
    let series = blocking(move || Ok(reader.series(&tenant, &sets, start, end)?)).await?;
    Ok(success(Value::Array(
        series.iter().map(argus_promql::labels_json).collect(),
    )))
}

pub(crate) async fn labels(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let tenant = tenant_of(&s, &headers)?;
    let sets = parse_selectors(&p)?;
    let (start, end) = (
        time_param(&p, "start", MIN_TIME)?,
        time_param(&p, "end", MAX_TIME)?,
    );
    let reader = s.reader()?;
    let names = blocking(move || Ok(reader.label_names(&tenant, &sets, start, end)?)).await?;
    Ok(success(json!(names)))
}

pub(crate) async fn label_values(
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &Bytes::new())?;
    let tenant = tenant_of(&s, &headers)?;
    if !argus_model::validate_label_name(&name) && name != argus_model::METRIC_NAME {
        return Err(ApiError::BadData(format!("invalid label name: {name:?}")).into());
    }
    let sets = parse_selectors(&p)?;
    let (start, end) = (
        time_param(&p, "start", MIN_TIME)?,
        time_param(&p, "end", MAX_TIME)?,
    );
    let reader = s.reader()?;
    let values =
        blocking(move || Ok(reader.label_values(&tenant, &name, &sets, start, end)?)).await?;
    Ok(success(json!(values)))
}

/// Raw samples of matching series: one line per series,
/// `{"metric":{...},"values":[...],"timestamps":[...]}` (VictoriaMetrics's
/// export format; staleness markers are left out, NaN/Inf as strings).
/// A series with native histogram samples also has
/// `"histograms":[[<ms>,{"count":..,"sum":..,"buckets":[..]}],...]`: each
/// histogram as Prometheus's query API writes it, its timestamp in
/// milliseconds like `timestamps`. See [`export_line`].
pub(crate) async fn export(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &body)?;
    let tenant = tenant_of(&s, &headers)?;
    let sets = parse_selectors(&p)?;
    if sets.is_empty() {
        return Err(ApiError::BadData("no match[] parameter provided".into()).into());
    }
    let (start, end) = (
        time_param(&p, "start", MIN_TIME)?,
        time_param(&p, "end", MAX_TIME)?,
    );
    let reader = s.reader()?;
    let out = blocking(move || {
        // Sorted by labels, each series once however many match[] select it;
        // series without samples in the range are left out.
        let mut all = std::collections::BTreeMap::new();
        for m in &sets {
            let sel = reader.select(&tenant, m, start, end)?;
            for i in 0..sel.len() {
                let mut series = sel.load(i)?;
                if !series.floats.is_empty() || !series.histograms.is_empty() {
                    series.labels = sel.labels(i).clone();
                    all.insert(series.labels.clone(), series);
                }
            }
        }
        let mut out = String::new();
        for series in all.values() {
            out.push_str(&export_line(series));
            out.push('\n');
        }
        Ok(out)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/stream+json")], out).into_response())
}

/// One series as a line of `/api/v1/export` (without the newline).
/// `values`/`timestamps` hold the float samples (always present);
/// `histograms` holds the native histogram samples as `[<ms>, <histogram>]`
/// pairs, the histogram in the encoding of Prometheus's query API
/// ([`argus_promql::histogram_json`]), and is left out when there are none.
/// Staleness markers (floats and histograms) are not exported.
fn export_line(series: &StoredSeries) -> String {
    let floats: Vec<&Sample> = series
        .floats
        .iter()
        .filter(|x| !is_stale_nan(x.v))
        .collect();
    let values: Vec<Value> = floats
        .iter()
        .map(|x| {
            if x.v.is_finite() {
                json!(x.v)
            } else {
                Value::String(argus_promql::format_value(x.v))
            }
        })
        .collect();
    let ts: Vec<i64> = floats.iter().map(|x| x.t).collect();
    let mut line = json!({"metric": argus_promql::labels_json(&series.labels), "values": values, "timestamps": ts});
    let histograms: Vec<Value> = series
        .histograms
        .iter()
        .filter(|x| !is_stale_nan(x.h.sum))
        .map(|x| json!([x.t, argus_promql::histogram_json(&x.h)]))
        .collect();
    if !histograms.is_empty() {
        line["histograms"] = Value::Array(histograms);
    }
    line.to_string()
}

/// `GET /api/v1/metadata?metric=&limit=&limit_per_metric=`.
pub(crate) async fn metadata(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, JsonError> {
    let p = params(q, &headers, &Bytes::new())?;
    let tenant = tenant_of(&s, &headers)?;
    let num = |key: &str| -> Result<usize, ApiError> {
        match p.get(key) {
            None | Some("") => Ok(0),
            Some(v) => v.parse::<i64>().map(|n| n.max(0) as usize).map_err(|_| {
                ApiError::BadData(format!(
                    "invalid parameter \"{key}\": {v:?} is not a number"
                ))
            }),
        }
    };
    let (limit, per) = (num("limit")?, num("limit_per_metric")?);
    let reader = s.reader()?;
    let data = reader.metadata(
        &tenant,
        p.get("metric").filter(|m| !m.is_empty()),
        limit,
        per,
    );
    let data: serde_json::Map<String, Value> = data
        .into_iter()
        .map(|(metric, metas)| {
            let metas = metas
                .iter()
                .map(|m| json!({"type": m.metric_type, "help": m.help, "unit": m.unit}))
                .collect();
            (metric, Value::Array(metas))
        })
        .collect();
    Ok(success(Value::Object(data)))
}

/// Endpoints Grafana calls that Argus has no data for yet: rules and
/// alerts answer empty, in Prometheus's shape.
pub(crate) async fn rules() -> Response {
    success(json!({"groups": []}))
}

pub(crate) async fn alerts() -> Response {
    success(json!({"alerts": []}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{FloatHistogram, HistogramSample, Labels, Span, STALE_NAN};

    fn hist(k: f64) -> FloatHistogram {
        FloatHistogram {
            count: 3.0 * k,
            sum: 4.5 * k,
            schema: 0,
            positive_spans: vec![Span {
                offset: 1,
                length: 1,
            }],
            positive_buckets: vec![3.0 * k],
            ..Default::default()
        }
    }

    #[test]
    fn export_line_keeps_floats_and_adds_histograms() {
        let labels = Labels::from_pairs([("__name__", "m"), ("job", "a")]);
        let floats = StoredSeries {
            labels: labels.clone(),
            floats: vec![
                Sample::new(1000, 1.5),
                Sample::new(2000, f64::INFINITY),
                Sample::new(3000, STALE_NAN),
            ],
            histograms: vec![],
        };
        // The float format is unchanged: no `histograms` key.
        assert_eq!(
            export_line(&floats),
            r#"{"metric":{"__name__":"m","job":"a"},"values":[1.5,"+Inf"],"timestamps":[1000,2000]}"#
        );
        let mut stale = hist(1.0);
        stale.sum = STALE_NAN;
        let mixed = StoredSeries {
            labels,
            floats: vec![Sample::new(1000, 2.0)],
            histograms: vec![
                HistogramSample {
                    t: 2000,
                    h: hist(1.0),
                },
                HistogramSample {
                    t: 3500,
                    h: hist(2.0),
                },
                HistogramSample { t: 4000, h: stale },
            ],
        };
        assert_eq!(
            export_line(&mixed),
            r#"{"metric":{"__name__":"m","job":"a"},"values":[2.0],"timestamps":[1000],"histograms":[[2000,{"count":"3","sum":"4.5","buckets":[[0,"1","2","3"]]}],[3500,{"count":"6","sum":"9","buckets":[[0,"1","2","6"]]}]]}"#
        );
    }
}
