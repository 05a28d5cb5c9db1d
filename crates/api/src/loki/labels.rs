//! Label and stream discovery: `/labels`, `/label/{name}/values`,
//! `/series` ([`LogsReader::label_names`], [`LogsReader::label_values`],
//! [`LogsReader::series`]) and `/detected_labels` (over `series`).
//!
//! [`LogsReader::label_names`]: argus_store::LogsReader::label_names
//! [`LogsReader::label_values`]: argus_store::LogsReader::label_values
//! [`LogsReader::series`]: argus_store::LogsReader::series

use super::params::{bounds, optional_selector, ordered_bounds, selector_unvalidated};
use super::{bad, json_response, LokiError};
use crate::query::{blocking, params};
use crate::tenant::tenant_of;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Loki's label answer: `data` is left out when empty (`omitempty`).
fn label_response(values: Vec<String>) -> Response {
    if values.is_empty() {
        json_response(json!({"status": "success"}))
    } else {
        json_response(json!({"status": "success", "data": values}))
    }
}

fn labels_object<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Object(
        pairs
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect::<Map<_, _>>(),
    )
}

/// `/loki/api/v1/labels?start&end&since&query`.
pub(crate) async fn labels(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = bounds(&p)?;
    let matchers = optional_selector(&p)?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let names = blocking(move || Ok(reader.label_names(&tenant, &matchers, start, end)?)).await?;
    Ok(label_response(names))
}

/// `/loki/api/v1/label/{name}/values?start&end&since&query`.
pub(crate) async fn label_values(
    State(s): State<Arc<AppState>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = bounds(&p)?;
    let matchers = optional_selector(&p)?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let values =
        blocking(move || Ok(reader.label_values(&tenant, &name, &matchers, start, end)?)).await?;
    Ok(label_response(values))
}

/// The selector groups of `/series`: `match[]` and `match` together, each
/// once, sorted; a lone `{}` means every stream (as no `match` at all).
fn series_groups(p: &crate::params::Params) -> Result<Vec<Vec<argus_model::Matcher>>, LokiError> {
    let mut groups: Vec<&str> = p
        .get_all("match")
        .into_iter()
        .chain(p.get_all("match[]"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if groups.len() == 1 && groups[0].replace(' ', "") == "{}" {
        groups.clear();
    }
    groups
        .into_iter()
        .map(|g| {
            let ms = selector_unvalidated(g)?;
            if ms.is_empty() {
                return Err(bad(format!("0 matchers in group: {g}")));
            }
            Ok(ms)
        })
        .collect()
}

/// `/loki/api/v1/series?match[]=…&start&end&since`: the label sets of the
/// streams matching any group (every stream without one).
pub(crate) async fn series(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = bounds(&p)?;
    let groups = series_groups(&p)?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let series = blocking(move || Ok(reader.series(&tenant, &groups, start, end)?)).await?;
    let data: Vec<Value> = series.iter().map(|l| labels_object(l.pairs())).collect();
    Ok(json_response(json!({"status": "success", "data": data})))
}

/// Labels Loki's `detected_labels` keeps whatever their values.
const STATIC_LABELS: [&str; 4] = ["cluster", "namespace", "instance", "pod"];

/// `/loki/api/v1/detected_labels?query&start&end`: the stream labels worth
/// grouping by, with their number of values. As Loki, a label whose values
/// are all numbers or UUIDs (IDs) is left out, except `0`/`1` flags and the
/// static labels (`cluster`, `namespace`, `instance`, `pod`). Sorted by name
/// (Loki's order is its map's); cardinalities are exact (Loki estimates
/// them with HyperLogLog, exact for small counts).
pub(crate) async fn detected_labels(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &body)?;
    let (start, end) = ordered_bounds(&p)?;
    let matchers = optional_selector(&p)?;
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let sets = if matchers.is_empty() {
        Vec::new()
    } else {
        vec![matchers]
    };
    let series = blocking(move || Ok(reader.series(&tenant, &sets, start, end)?)).await?;
    if series.is_empty() {
        return Ok(json_response(json!({"detectedLabels": []})));
    }
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for l in &series {
        for (k, v) in l.pairs() {
            values.entry(k).or_default().insert(v);
        }
    }
    let out: Vec<Value> = values
        .into_iter()
        .filter(|(k, vs)| STATIC_LABELS.contains(k) || !should_reject(vs))
        .map(|(k, vs)| json!({"label": k, "cardinality": vs.len()}))
        .collect();
    // Loki's list is nil when every label was left out.
    let out = if out.is_empty() {
        Value::Null
    } else {
        Value::Array(out)
    };
    Ok(json_response(json!({"detectedLabels": out})))
}

/// Loki's `shouldRejectLabel`: no values, or only IDs (numbers, UUIDs) —
/// except one or two values that are all `0`/`1`.
fn should_reject(values: &BTreeSet<&str>) -> bool {
    if values.is_empty() {
        return true;
    }
    if values.len() <= 2 && values.iter().all(|v| *v == "0" || *v == "1") {
        return false;
    }
    values.iter().all(|v| is_id(v))
}

fn is_id(v: &str) -> bool {
    v.parse::<f64>().is_ok() || is_uuid(v)
}

/// The forms Go's `uuid.Parse` accepts: 36 characters with dashes, wrapped
/// in `{}` or prefixed `urn:uuid:`, or 32 hex digits.
fn is_uuid(v: &str) -> bool {
    let v = v
        .strip_prefix("urn:uuid:")
        .or_else(|| v.strip_prefix('{').and_then(|x| x.strip_suffix('}')))
        .unwrap_or(v);
    let b = v.as_bytes();
    match b.len() {
        32 => b.iter().all(u8::is_ascii_hexdigit),
        36 => b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_rejected() {
        let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<&str>>();
        assert!(should_reject(&set(&[])));
        assert!(should_reject(&set(&["1", "2", "3"])));
        assert!(should_reject(&set(&[
            "0f8fad5b-d9cb-469f-a165-70867728950e"
        ])));
        assert!(!should_reject(&set(&["0", "1"])));
        assert!(!should_reject(&set(&["api", "1"])));
    }
}
