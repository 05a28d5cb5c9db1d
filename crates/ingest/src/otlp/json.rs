//! OTLP/JSON decoding into the prost types.
//!
//! `opentelemetry-proto` 0.31's serde derive (`with-serde`) does not accept
//! OTLP/JSON as the OTLP spec defines it (opentelemetry-proto
//! docs/specification.md, "JSON Protobuf Encoding", plus the proto3 JSON
//! mapping): `timeUnixNano` only as a string (the spec's own example sends
//! numbers), `count`/`bucketCounts`/`asInt` only as numbers (exporters send
//! strings), exemplar `asDouble`/`asInt` nested under `value`, required
//! `flags`/`key`/`resourceMetrics` on several messages, no `"NaN"`/`"Infinity"`
//! doubles. So this module walks a `serde_json::Value` itself. It accepts
//! what the Collector's pdata (Prometheus's decoder) accepts: lowerCamelCase
//! and also snake_case keys, 64-bit integers as numbers or decimal strings,
//! enums as integers (or their proto names), doubles as numbers or strings
//! (`"NaN"`, `"Infinity"`, `"-Infinity"`), hex `traceId`/`spanId` (any case),
//! base64 `bytesValue`, `null` as the default; unknown fields are ignored.

use super::attrs::base64_decode;
use super::OtlpError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use serde_json::{Map, Value};

type Obj = Map<String, Value>;
type R<T> = Result<T, String>;

pub(crate) fn decode(body: &[u8]) -> Result<ExportMetricsServiceRequest, OtlpError> {
    // Note: without serde_json's `float_roundtrip` feature (not enabled in this
    // workspace) a JSON double with 16-17 significant digits can come out 1 ULP
    // off (e.g. -968271.4613574003); Go and the proto3 JSON mapping are exact.
    // Doubles sent as strings are parsed exactly (Rust's `str::parse`).
    let v: Value = serde_json::from_slice(body).map_err(|e| OtlpError::Json(e.to_string()))?;
    request(&v).map_err(OtlpError::Json)
}

/// The field under its lowerCamelCase name, else its proto name; `null` counts as absent.
fn field<'a>(o: &'a Obj, camel: &str, snake: &str) -> Option<&'a Value> {
    o.get(camel).filter(|v| !v.is_null()).or_else(|| {
        if camel == snake {
            None
        } else {
            o.get(snake).filter(|v| !v.is_null())
        }
    })
}

fn obj<'a>(v: &'a Value, what: &str) -> R<&'a Obj> {
    v.as_object()
        .ok_or_else(|| format!("{what}: expected an object, got {}", kind(v)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A repeated field of messages.
fn list<T>(o: &Obj, camel: &str, snake: &str, f: impl Fn(&Value) -> R<T>) -> R<Vec<T>> {
    match field(o, camel, snake) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| f(item).map_err(|e| format!("{camel}: {e}")))
            .collect(),
        Some(v) => Err(format!("{camel}: expected an array, got {}", kind(v))),
    }
}

fn u64_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f))
                .then_some(f as u64)
        }),
        Value::String(s) => s
            .parse::<u64>()
            .ok()
            .or_else(|| u64_of(&Value::Number(s.parse().ok()?))),
        _ => None,
    }
}

fn i64_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0
                && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f))
            .then_some(f as i64)
        }),
        Value::String(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| i64_of(&Value::Number(s.parse().ok()?))),
        _ => None,
    }
}

fn f64_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            // Rust's parser is correctly rounded and, like Go's ParseFloat
            // (pdata), also takes "nan", "inf", "+1.5".
            s => s.parse::<f64>().ok(),
        },
        _ => None,
    }
}

fn get_u64(o: &Obj, camel: &str, snake: &str) -> R<u64> {
    field(o, camel, snake).map_or(Ok(0), |v| {
        u64_of(v).ok_or_else(|| format!("{camel}: expected an unsigned 64-bit integer, got {v}"))
    })
}

fn get_i64(o: &Obj, camel: &str, snake: &str) -> R<i64> {
    field(o, camel, snake).map_or(Ok(0), |v| {
        i64_of(v).ok_or_else(|| format!("{camel}: expected a 64-bit integer, got {v}"))
    })
}

fn get_u32(o: &Obj, camel: &str, snake: &str) -> R<u32> {
    field(o, camel, snake).map_or(Ok(0), |v| {
        u64_of(v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("{camel}: expected an unsigned 32-bit integer, got {v}"))
    })
}

fn get_i32(o: &Obj, camel: &str, snake: &str) -> R<i32> {
    field(o, camel, snake).map_or(Ok(0), |v| {
        i64_of(v)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{camel}: expected a 32-bit integer, got {v}"))
    })
}

fn get_opt_f64(o: &Obj, camel: &str, snake: &str) -> R<Option<f64>> {
    field(o, camel, snake)
        .map(|v| f64_of(v).ok_or_else(|| format!("{camel}: expected a double, got {v}")))
        .transpose()
}

fn get_f64(o: &Obj, camel: &str, snake: &str) -> R<f64> {
    Ok(get_opt_f64(o, camel, snake)?.unwrap_or(0.0))
}

fn get_bool(o: &Obj, camel: &str, snake: &str) -> R<bool> {
    match field(o, camel, snake) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!("{camel}: expected a boolean, got {v}")),
    }
}

fn get_string(o: &Obj, camel: &str, snake: &str) -> R<String> {
    match field(o, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(format!("{camel}: expected a string, got {}", kind(v))),
    }
}

fn get_strings(o: &Obj, camel: &str, snake: &str) -> R<Vec<String>> {
    list(o, camel, snake, |v| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| "expected a string".to_string())
    })
}

/// An enum field: integer (OTLP/JSON) or, leniently, the value's proto name.
fn get_enum(o: &Obj, camel: &str, snake: &str, names: &[&str]) -> R<i32> {
    if let Some(Value::String(s)) = field(o, camel, snake) {
        if let Some(i) = names.iter().position(|n| n == s) {
            return Ok(i as i32);
        }
    }
    get_i32(o, camel, snake)
}

/// `traceId`/`spanId`: case-insensitive hex.
fn get_hex(o: &Obj, camel: &str, snake: &str) -> R<Vec<u8>> {
    let s = get_string(o, camel, snake)?;
    if s.len() % 2 != 0 {
        return Err(format!("{camel}: odd-length hex string"));
    }
    let digit = |c: u8| {
        (c as char)
            .to_digit(16)
            .ok_or_else(|| format!("{camel}: invalid hex character"))
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Ok((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

fn request(v: &Value) -> R<ExportMetricsServiceRequest> {
    let o = obj(v, "ExportMetricsServiceRequest")?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: list(o, "resourceMetrics", "resource_metrics", resource_metrics)?,
    })
}

fn resource_metrics(v: &Value) -> R<ResourceMetrics> {
    let o = obj(v, "ResourceMetrics")?;
    Ok(ResourceMetrics {
        resource: field(o, "resource", "resource").map(resource).transpose()?,
        scope_metrics: list(o, "scopeMetrics", "scope_metrics", scope_metrics)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

fn resource(v: &Value) -> R<Resource> {
    let o = obj(v, "resource")?;
    Ok(Resource {
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
        entity_refs: list(o, "entityRefs", "entity_refs", entity_ref)?,
    })
}

fn entity_ref(v: &Value) -> R<EntityRef> {
    let o = obj(v, "EntityRef")?;
    Ok(EntityRef {
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
        r#type: get_string(o, "type", "type")?,
        id_keys: get_strings(o, "idKeys", "id_keys")?,
        description_keys: get_strings(o, "descriptionKeys", "description_keys")?,
    })
}

fn scope_metrics(v: &Value) -> R<ScopeMetrics> {
    let o = obj(v, "ScopeMetrics")?;
    Ok(ScopeMetrics {
        scope: field(o, "scope", "scope").map(scope).transpose()?,
        metrics: list(o, "metrics", "metrics", metric)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

fn scope(v: &Value) -> R<InstrumentationScope> {
    let o = obj(v, "scope")?;
    Ok(InstrumentationScope {
        name: get_string(o, "name", "name")?,
        version: get_string(o, "version", "version")?,
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
    })
}

fn key_value(v: &Value) -> R<KeyValue> {
    let o = obj(v, "KeyValue")?;
    Ok(KeyValue {
        key: get_string(o, "key", "key")?,
        value: field(o, "value", "value").map(any_value).transpose()?,
    })
}

fn any_value(v: &Value) -> R<AnyValue> {
    use any_value::Value as V;
    let o = obj(v, "AnyValue")?;
    let value = if let Some(s) = field(o, "stringValue", "string_value") {
        Some(V::StringValue(
            s.as_str()
                .ok_or("stringValue: expected a string")?
                .to_string(),
        ))
    } else if field(o, "boolValue", "bool_value").is_some() {
        Some(V::BoolValue(get_bool(o, "boolValue", "bool_value")?))
    } else if field(o, "intValue", "int_value").is_some() {
        Some(V::IntValue(get_i64(o, "intValue", "int_value")?))
    } else if field(o, "doubleValue", "double_value").is_some() {
        Some(V::DoubleValue(get_f64(o, "doubleValue", "double_value")?))
    } else if let Some(a) = field(o, "arrayValue", "array_value") {
        let a = obj(a, "arrayValue")?;
        Some(V::ArrayValue(ArrayValue {
            values: list(a, "values", "values", any_value)?,
        }))
    } else if let Some(kv) = field(o, "kvlistValue", "kvlist_value") {
        let kv = obj(kv, "kvlistValue")?;
        Some(V::KvlistValue(KeyValueList {
            values: list(kv, "values", "values", key_value)?,
        }))
    } else if field(o, "bytesValue", "bytes_value").is_some() {
        let s = get_string(o, "bytesValue", "bytes_value")?;
        Some(V::BytesValue(
            base64_decode(&s).map_err(|e| format!("bytesValue: {e}"))?,
        ))
    } else {
        None
    };
    Ok(AnyValue { value })
}

const TEMPORALITY: &[&str] = &[
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

fn temporality(o: &Obj) -> R<i32> {
    get_enum(
        o,
        "aggregationTemporality",
        "aggregation_temporality",
        TEMPORALITY,
    )
}

fn metric(v: &Value) -> R<Metric> {
    let o = obj(v, "Metric")?;
    let data = if let Some(g) = field(o, "gauge", "gauge") {
        let g = obj(g, "gauge")?;
        Some(Data::Gauge(Gauge {
            data_points: list(g, "dataPoints", "data_points", number_point)?,
        }))
    } else if let Some(s) = field(o, "sum", "sum") {
        let s = obj(s, "sum")?;
        Some(Data::Sum(Sum {
            data_points: list(s, "dataPoints", "data_points", number_point)?,
            aggregation_temporality: temporality(s)?,
            is_monotonic: get_bool(s, "isMonotonic", "is_monotonic")?,
        }))
    } else if let Some(h) = field(o, "histogram", "histogram") {
        let h = obj(h, "histogram")?;
        Some(Data::Histogram(Histogram {
            data_points: list(h, "dataPoints", "data_points", histogram_point)?,
            aggregation_temporality: temporality(h)?,
        }))
    } else if let Some(h) = field(o, "exponentialHistogram", "exponential_histogram") {
        let h = obj(h, "exponentialHistogram")?;
        Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: list(h, "dataPoints", "data_points", exp_histogram_point)?,
            aggregation_temporality: temporality(h)?,
        }))
    } else if let Some(s) = field(o, "summary", "summary") {
        let s = obj(s, "summary")?;
        Some(Data::Summary(Summary {
            data_points: list(s, "dataPoints", "data_points", summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: get_string(o, "name", "name")?,
        description: get_string(o, "description", "description")?,
        unit: get_string(o, "unit", "unit")?,
        metadata: list(o, "metadata", "metadata", key_value)?,
        data,
    })
}

fn number_point(v: &Value) -> R<NumberDataPoint> {
    let o = obj(v, "NumberDataPoint")?;
    let value = if field(o, "asDouble", "as_double").is_some() {
        Some(number_data_point::Value::AsDouble(get_f64(
            o,
            "asDouble",
            "as_double",
        )?))
    } else if field(o, "asInt", "as_int").is_some() {
        Some(number_data_point::Value::AsInt(get_i64(
            o, "asInt", "as_int",
        )?))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: get_u64(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        exemplars: list(o, "exemplars", "exemplars", exemplar)?,
        flags: get_u32(o, "flags", "flags")?,
        value,
    })
}

fn exemplar(v: &Value) -> R<Exemplar> {
    let o = obj(v, "Exemplar")?;
    let value = if field(o, "asDouble", "as_double").is_some() {
        Some(exemplar::Value::AsDouble(get_f64(
            o,
            "asDouble",
            "as_double",
        )?))
    } else if field(o, "asInt", "as_int").is_some() {
        Some(exemplar::Value::AsInt(get_i64(o, "asInt", "as_int")?))
    } else {
        None
    };
    Ok(Exemplar {
        filtered_attributes: list(o, "filteredAttributes", "filtered_attributes", key_value)?,
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        span_id: get_hex(o, "spanId", "span_id")?,
        trace_id: get_hex(o, "traceId", "trace_id")?,
        value,
    })
}

fn u64_list(o: &Obj, camel: &str, snake: &str) -> R<Vec<u64>> {
    list(o, camel, snake, |v| {
        u64_of(v).ok_or_else(|| format!("expected an unsigned 64-bit integer, got {v}"))
    })
}

fn histogram_point(v: &Value) -> R<HistogramDataPoint> {
    let o = obj(v, "HistogramDataPoint")?;
    Ok(HistogramDataPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: get_u64(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        count: get_u64(o, "count", "count")?,
        sum: get_opt_f64(o, "sum", "sum")?,
        bucket_counts: u64_list(o, "bucketCounts", "bucket_counts")?,
        explicit_bounds: list(o, "explicitBounds", "explicit_bounds", |v| {
            f64_of(v).ok_or_else(|| format!("expected a double, got {v}"))
        })?,
        exemplars: list(o, "exemplars", "exemplars", exemplar)?,
        flags: get_u32(o, "flags", "flags")?,
        min: get_opt_f64(o, "min", "min")?,
        max: get_opt_f64(o, "max", "max")?,
    })
}

fn buckets(v: &Value) -> R<Buckets> {
    let o = obj(v, "Buckets")?;
    Ok(Buckets {
        offset: get_i32(o, "offset", "offset")?,
        bucket_counts: u64_list(o, "bucketCounts", "bucket_counts")?,
    })
}

fn exp_histogram_point(v: &Value) -> R<ExponentialHistogramDataPoint> {
    let o = obj(v, "ExponentialHistogramDataPoint")?;
    Ok(ExponentialHistogramDataPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: get_u64(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        count: get_u64(o, "count", "count")?,
        sum: get_opt_f64(o, "sum", "sum")?,
        scale: get_i32(o, "scale", "scale")?,
        zero_count: get_u64(o, "zeroCount", "zero_count")?,
        positive: field(o, "positive", "positive").map(buckets).transpose()?,
        negative: field(o, "negative", "negative").map(buckets).transpose()?,
        flags: get_u32(o, "flags", "flags")?,
        exemplars: list(o, "exemplars", "exemplars", exemplar)?,
        min: get_opt_f64(o, "min", "min")?,
        max: get_opt_f64(o, "max", "max")?,
        zero_threshold: get_f64(o, "zeroThreshold", "zero_threshold")?,
    })
}

fn summary_point(v: &Value) -> R<SummaryDataPoint> {
    let o = obj(v, "SummaryDataPoint")?;
    Ok(SummaryDataPoint {
        attributes: list(o, "attributes", "attributes", key_value)?,
        start_time_unix_nano: get_u64(o, "startTimeUnixNano", "start_time_unix_nano")?,
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        count: get_u64(o, "count", "count")?,
        sum: get_f64(o, "sum", "sum")?,
        quantile_values: list(o, "quantileValues", "quantile_values", |v| {
            let q = obj(v, "ValueAtQuantile")?;
            Ok(ValueAtQuantile {
                quantile: get_f64(q, "quantile", "quantile")?,
                value: get_f64(q, "value", "value")?,
            })
        })?,
        flags: get_u32(o, "flags", "flags")?,
    })
}

// ---- logs ----

pub(crate) fn decode_logs(body: &[u8]) -> Result<ExportLogsServiceRequest, OtlpError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| OtlpError::Json(e.to_string()))?;
    logs_request(&v).map_err(OtlpError::Json)
}

fn logs_request(v: &Value) -> R<ExportLogsServiceRequest> {
    let o = obj(v, "ExportLogsServiceRequest")?;
    Ok(ExportLogsServiceRequest {
        resource_logs: list(o, "resourceLogs", "resource_logs", resource_logs)?,
    })
}

fn resource_logs(v: &Value) -> R<ResourceLogs> {
    let o = obj(v, "ResourceLogs")?;
    Ok(ResourceLogs {
        resource: field(o, "resource", "resource").map(resource).transpose()?,
        scope_logs: list(o, "scopeLogs", "scope_logs", scope_logs)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

fn scope_logs(v: &Value) -> R<ScopeLogs> {
    let o = obj(v, "ScopeLogs")?;
    Ok(ScopeLogs {
        scope: field(o, "scope", "scope").map(scope).transpose()?,
        log_records: list(o, "logRecords", "log_records", log_record)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

/// `SeverityNumber` value names, by number.
const SEVERITY: &[&str] = &[
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

fn log_record(v: &Value) -> R<LogRecord> {
    let o = obj(v, "LogRecord")?;
    Ok(LogRecord {
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        observed_time_unix_nano: get_u64(o, "observedTimeUnixNano", "observed_time_unix_nano")?,
        severity_number: get_enum(o, "severityNumber", "severity_number", SEVERITY)?,
        severity_text: get_string(o, "severityText", "severity_text")?,
        body: field(o, "body", "body").map(any_value).transpose()?,
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
        flags: get_u32(o, "flags", "flags")?,
        trace_id: get_hex(o, "traceId", "trace_id")?,
        span_id: get_hex(o, "spanId", "span_id")?,
        event_name: get_string(o, "eventName", "event_name")?,
    })
}

// ---- traces ----

pub(crate) fn decode_traces(body: &[u8]) -> Result<ExportTraceServiceRequest, OtlpError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| OtlpError::Json(e.to_string()))?;
    traces_request(&v).map_err(OtlpError::Json)
}

fn traces_request(v: &Value) -> R<ExportTraceServiceRequest> {
    let o = obj(v, "ExportTraceServiceRequest")?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(o, "resourceSpans", "resource_spans", resource_spans)?,
    })
}

fn resource_spans(v: &Value) -> R<ResourceSpans> {
    let o = obj(v, "ResourceSpans")?;
    Ok(ResourceSpans {
        resource: field(o, "resource", "resource").map(resource).transpose()?,
        scope_spans: list(o, "scopeSpans", "scope_spans", scope_spans)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

fn scope_spans(v: &Value) -> R<ScopeSpans> {
    let o = obj(v, "ScopeSpans")?;
    Ok(ScopeSpans {
        scope: field(o, "scope", "scope").map(scope).transpose()?,
        spans: list(o, "spans", "spans", span)?,
        schema_url: get_string(o, "schemaUrl", "schema_url")?,
    })
}

/// `Span.SpanKind` value names, by number.
const SPAN_KIND: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];

/// `Status.StatusCode` value names, by number.
const STATUS_CODE: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn span(v: &Value) -> R<Span> {
    let o = obj(v, "Span")?;
    Ok(Span {
        trace_id: get_hex(o, "traceId", "trace_id")?,
        span_id: get_hex(o, "spanId", "span_id")?,
        trace_state: get_string(o, "traceState", "trace_state")?,
        parent_span_id: get_hex(o, "parentSpanId", "parent_span_id")?,
        flags: get_u32(o, "flags", "flags")?,
        name: get_string(o, "name", "name")?,
        kind: get_enum(o, "kind", "kind", SPAN_KIND)?,
        start_time_unix_nano: get_u64(o, "startTimeUnixNano", "start_time_unix_nano")?,
        end_time_unix_nano: get_u64(o, "endTimeUnixNano", "end_time_unix_nano")?,
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
        events: list(o, "events", "events", span_event)?,
        dropped_events_count: get_u32(o, "droppedEventsCount", "dropped_events_count")?,
        links: list(o, "links", "links", span_link)?,
        dropped_links_count: get_u32(o, "droppedLinksCount", "dropped_links_count")?,
        status: field(o, "status", "status").map(status).transpose()?,
    })
}

fn span_event(v: &Value) -> R<span::Event> {
    let o = obj(v, "Event")?;
    Ok(span::Event {
        time_unix_nano: get_u64(o, "timeUnixNano", "time_unix_nano")?,
        name: get_string(o, "name", "name")?,
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
    })
}

fn span_link(v: &Value) -> R<span::Link> {
    let o = obj(v, "Link")?;
    Ok(span::Link {
        trace_id: get_hex(o, "traceId", "trace_id")?,
        span_id: get_hex(o, "spanId", "span_id")?,
        trace_state: get_string(o, "traceState", "trace_state")?,
        attributes: list(o, "attributes", "attributes", key_value)?,
        dropped_attributes_count: get_u32(o, "droppedAttributesCount", "dropped_attributes_count")?,
        flags: get_u32(o, "flags", "flags")?,
    })
}

fn status(v: &Value) -> R<Status> {
    let o = obj(v, "Status")?;
    Ok(Status {
        message: get_string(o, "message", "message")?,
        code: get_enum(o, "code", "code", STATUS_CODE)?,
    })
}
