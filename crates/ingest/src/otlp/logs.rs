//! OTLP logs (`ExportLogsServiceRequest`, protobuf or JSON) to Loki-style
//! [`LogStream`]s, mapped as Loki 3's OTLP endpoint does under its default
//! configuration (`pkg/loghttp/push/otlp.go` of grafana/loki and its
//! "Ingesting logs to Loki using OpenTelemetry Collector" docs; behaviour
//! followed, no code taken):
//!
//! - Stream labels: the resource attributes in [`INDEX_LABEL_ATTRIBUTES`],
//!   names normalized as Prometheus's `NormalizeLabel` (characters other than
//!   `[a-zA-Z0-9_]` to `_`, `key_` before a leading digit, `key` before a single
//!   leading `_`). Without a non-empty `service.name`, `service_name` is taken
//!   from the first of those labels, in attribute order, whose name is in
//!   [`DISCOVER_SERVICE_NAME`] (of the defaults only `container_name`,
//!   `k8s_container_name` and `k8s_job_name` can match), else it is
//!   [`UNKNOWN_SERVICE`].
//! - Structured metadata, in this order: the record's attributes;
//!   `observed_timestamp` (when both timestamps are set), `severity_number`
//!   (when not 0), `severity_text`, `dropped_attributes_count`, `flags` (when
//!   not 0), `trace_id` and `span_id` (lowercase hex, when not empty or all
//!   zero); the other resource attributes; the scope's attributes,
//!   `scope_name`, `scope_version`, `scope_dropped_attributes_count`.
//! - Attribute values become strings as pdata's `Value.AsString` writes them
//!   (maps and arrays as JSON), except that a map value is flattened into one
//!   pair per leaf, its keys joined with `_` (`http: {method: GET}` →
//!   `http_method=GET`), as Loki does.
//! - The line is the body: a string as is, other kinds as `AsString`.
//! - The timestamp is `time_unix_nano`, else `observed_time_unix_nano`, else
//!   the caller's `now_ns` (Loki uses the time of ingestion).
//!
//! Entries of resources with the same labels share one stream; streams come
//! in order of first appearance. Attributes whose key normalizes to an empty
//! name are skipped (Loki refuses the resource when it is a stream label).

use super::attrs::value_string;
use super::json;
use super::OtlpError;
use argus_model::traces::hex_id;
use argus_model::{Labels, LabelsBuilder, LogEntry, LogStream};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use std::collections::HashMap;

/// Loki's default `distributor.otlp_config.default_resource_attributes_as_index_labels`
/// (with both `deployment.environment` and its successor
/// `deployment.environment.name`).
pub const INDEX_LABEL_ATTRIBUTES: &[&str] = &[
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

/// Loki's default `limits_config.discover_service_name`: stream labels that
/// give `service_name` when the resource has no `service.name`.
pub const DISCOVER_SERVICE_NAME: &[&str] = &[
    "service",
    "app",
    "application",
    "app_name",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
    "k8s_job_name",
];

/// The `service_name` of a resource nothing names.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The stream label Loki fills for every stream.
pub const SERVICE_NAME_LABEL: &str = "service_name";

/// Decodes an OTLP/HTTP logs body: binary protobuf, or OTLP/JSON when
/// `json` (Content-Type `application/json`; hex trace and span ids, 64-bit
/// integers as numbers or strings, enums as numbers or names). Never panics
/// on bad input.
pub fn decode_logs_request(body: &[u8], json: bool) -> Result<ExportLogsServiceRequest, OtlpError> {
    if json {
        json::decode_logs(body)
    } else {
        Ok(prost::Message::decode(body)?)
    }
}

/// Converts a decoded request to streams (see the module docs). `now_ns`
/// stamps records that carry neither timestamp.
pub fn convert_logs(req: &ExportLogsServiceRequest, now_ns: i64) -> Vec<LogStream> {
    let mut streams: Vec<LogStream> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for rl in &req.resource_logs {
        let attrs: &[KeyValue] = rl.resource.as_ref().map_or(&[], |r| &r.attributes);
        let (labels, resource_meta) = resource_labels(attrs);
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            streams.push(LogStream::new(labels));
            streams.len() - 1
        });
        for sl in &rl.scope_logs {
            let mut scope_meta = Vec::new();
            if let Some(scope) = &sl.scope {
                for kv in &scope.attributes {
                    flatten(&kv.key, kv.value.as_ref(), "", &mut scope_meta);
                }
                if !scope.name.is_empty() {
                    scope_meta.push(("scope_name".to_string(), scope.name.clone()));
                }
                if !scope.version.is_empty() {
                    scope_meta.push(("scope_version".to_string(), scope.version.clone()));
                }
                if scope.dropped_attributes_count != 0 {
                    scope_meta.push((
                        "scope_dropped_attributes_count".to_string(),
                        scope.dropped_attributes_count.to_string(),
                    ));
                }
            }
            for rec in &sl.log_records {
                let mut e = entry(rec, now_ns);
                e.metadata.extend(resource_meta.iter().cloned());
                e.metadata.extend(scope_meta.iter().cloned());
                streams[i].entries.push(e);
            }
        }
    }
    streams.retain(|s| !s.entries.is_empty());
    streams
}

/// The stream labels and the structured metadata of a resource.
fn resource_labels(attrs: &[KeyValue]) -> (Labels, Vec<(String, String)>) {
    let mut b = LabelsBuilder::default();
    let mut meta = Vec::new();
    // The first label that could name the service, for a resource whose
    // `service.name` is missing or empty (the last one set wins, as a
    // repeated attribute overrides).
    let mut discovered: Option<String> = None;
    for kv in attrs {
        if INDEX_LABEL_ATTRIBUTES.contains(&kv.key.as_str()) {
            let mut pairs = Vec::new();
            flatten(&kv.key, kv.value.as_ref(), "", &mut pairs);
            for (name, value) in pairs {
                if discovered.is_none()
                    && !value.is_empty()
                    && DISCOVER_SERVICE_NAME.contains(&name.as_str())
                {
                    discovered = Some(value.clone());
                }
                b.set(name, value);
            }
        } else {
            flatten(&kv.key, kv.value.as_ref(), "", &mut meta);
        }
    }
    if b.get(SERVICE_NAME_LABEL).is_none_or(str::is_empty) {
        let name = discovered.unwrap_or_else(|| UNKNOWN_SERVICE.to_string());
        b.set(SERVICE_NAME_LABEL, name);
    }
    (b.build(), meta)
}

/// The entry of one record, with the record's own metadata.
fn entry(rec: &LogRecord, now_ns: i64) -> LogEntry {
    let mut meta = Vec::with_capacity(rec.attributes.len() + 6);
    for kv in &rec.attributes {
        flatten(&kv.key, kv.value.as_ref(), "", &mut meta);
    }
    if rec.time_unix_nano != 0 && rec.observed_time_unix_nano != 0 {
        meta.push((
            "observed_timestamp".to_string(),
            rec.observed_time_unix_nano.to_string(),
        ));
    }
    if rec.severity_number != 0 {
        meta.push((
            "severity_number".to_string(),
            rec.severity_number.to_string(),
        ));
    }
    if !rec.severity_text.is_empty() {
        meta.push(("severity_text".to_string(), rec.severity_text.clone()));
    }
    if rec.dropped_attributes_count != 0 {
        meta.push((
            "dropped_attributes_count".to_string(),
            rec.dropped_attributes_count.to_string(),
        ));
    }
    if rec.flags != 0 {
        meta.push(("flags".to_string(), rec.flags.to_string()));
    }
    if rec.trace_id.iter().any(|&b| b != 0) {
        meta.push(("trace_id".to_string(), hex_id(&rec.trace_id)));
    }
    if rec.span_id.iter().any(|&b| b != 0) {
        meta.push(("span_id".to_string(), hex_id(&rec.span_id)));
    }
    let ts = match (rec.time_unix_nano, rec.observed_time_unix_nano) {
        (0, 0) => now_ns,
        (0, t) | (t, _) => i64::try_from(t).unwrap_or(i64::MAX),
    };
    let line = match rec.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        _ => value_string(rec.body.as_ref()),
    };
    LogEntry {
        ts_ns: ts,
        line,
        metadata: meta,
    }
}

/// Appends the pairs of one attribute: maps are flattened with `_`-joined
/// keys, other values go through `AsString`.
fn flatten(key: &str, v: Option<&AnyValue>, prefix: &str, out: &mut Vec<(String, String)>) {
    let name = if prefix.is_empty() {
        normalize_label(key)
    } else {
        normalize_label(&format!("{prefix}_{key}"))
    };
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::KvlistValue(kvs)) => {
            for kv in &kvs.values {
                flatten(&kv.key, kv.value.as_ref(), &name, out);
            }
        }
        _ if name.is_empty() => {}
        _ => out.push((name, value_string(v))),
    }
}

/// Prometheus's `NormalizeLabel` (otlptranslator): characters other than
/// `[a-zA-Z0-9_]` to `_`, `key_` before a leading digit, `key` before a
/// single leading `_`.
pub fn normalize_label(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    let s: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{s}")
    } else if s.starts_with('_') && !s.starts_with("__") {
        format!("key{s}")
    } else {
        s
    }
}
