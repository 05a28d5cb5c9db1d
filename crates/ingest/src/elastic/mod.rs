//! Elasticsearch's bulk API bodies (`POST /_bulk`, `POST /{index}/_bulk`) to
//! [`LogStream`]s, so that shippers that speak Elasticsearch (Filebeat,
//! Logstash, Fluent Bit, Vector, the official clients) can send logs.
//!
//! A body is NDJSON: an action line, then for `index` and `create` the
//! document line. `delete` (no document) and `update` (its document line is
//! skipped) are answered per item as unsupported: logs are append-only.
//! A line that is not an action is an error for the whole request, as in
//! Elasticsearch; a document that cannot be mapped is an error for its item.
//!
//! Documents map to entries ([`map_document`], shared with
//! [`crate::jsonl`]) by a [`FieldMapping`]:
//!
//! - **time**: the first present of `time_fields` (default `@timestamp`,
//!   then `timestamp`): an RFC 3339 date (no zone = UTC; a date alone is
//!   midnight UTC) or epoch milliseconds (a number or a string of digits);
//!   none present: now. A present but unreadable time refuses the document.
//! - **line**: the first present of `msg_fields` (default `message`, `msg`,
//!   `log`), a string as it is, another value as JSON. None present: the
//!   whole document, as compact JSON, is the line (and there is no
//!   structured metadata: the line holds everything).
//! - **stream labels**: each present of `stream_fields` (default
//!   `service.name`, `service_name`, `host.name`, `_index`), named as
//!   Prometheus's `NormalizeLabel` writes it (`.` → `_`: `service_name`,
//!   `host_name`; `_index` is `index`, the item's index). A document with
//!   none gets `service_name="unknown_service"`.
//! - **structured metadata**: every other leaf, its dotted path normalized
//!   the same way (`http.request.method` → `http_request_method`, as Loki
//!   flattens OTLP attributes), the value as text (strings as they are,
//!   numbers, booleans and arrays as JSON); nulls are left out.
//!
//! Nested objects and dotted keys are the same field (`{"host":{"name":…}}`
//! and `{"host.name":…}`), as in Elasticsearch. Item ids given by the client
//! are echoed, others generated; neither is stored. No input makes these
//! functions panic.

mod mapping;
#[cfg(test)]
mod tests;

pub use mapping::{
    map_document, parse_rfc3339_ns, DocError, FieldMapping, StreamsBuilder, UNKNOWN_SERVICE,
};

use argus_model::LogStream;
use serde_json::{Map, Value};

/// A bulk body that cannot be read at all (Elasticsearch answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElasticError {
    #[error("Malformed action/metadata line [{line}], {reason}")]
    Action { line: usize, reason: String },
    #[error("The bulk request must be terminated by a newline [\\n]: the {action} action on line [{line}] has no document")]
    MissingDocument { line: usize, action: &'static str },
    #[error("request body is required")]
    Empty,
}

/// A bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Index,
    Create,
    Delete,
    Update,
}

impl BulkAction {
    /// The name in the request and the response (`index`, `create`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Index => "index",
            BulkAction::Create => "create",
            BulkAction::Delete => "delete",
            BulkAction::Update => "update",
        }
    }
}

/// Why an item was not stored, as an Elasticsearch item `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// The item's HTTP status (400 for invalid documents).
    pub status: u16,
    /// Elasticsearch's error `type`.
    pub kind: &'static str,
    pub reason: String,
}

/// One item of a bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    pub action: BulkAction,
    /// The item's `_index`, else the path's; empty when neither.
    pub index: String,
    /// The item's `_id`, else generated.
    pub id: String,
    /// Where its entry is in [`Bulk::streams`] (stream, entry), or why it
    /// has none.
    pub outcome: Result<(usize, usize), ItemError>,
}

/// A decoded bulk request: the streams to store and every item in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bulk {
    pub streams: Vec<LogStream>,
    pub items: Vec<BulkItem>,
}

/// Reads the object of an action line: `{"<action>": {"_index": …, "_id": …}}`.
fn parse_action(
    line_no: usize,
    line: &[u8],
) -> Result<(BulkAction, Map<String, Value>), ElasticError> {
    let bad = |reason: String| ElasticError::Action {
        line: line_no,
        reason,
    };
    let v: Value =
        serde_json::from_slice(line).map_err(|e| bad(format!("expected a JSON object: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(bad("expected START_OBJECT".into()));
    };
    if obj.len() != 1 {
        return Err(bad(format!(
            "expected one action ([create], [delete], [index] or [update]) but found {} fields",
            obj.len()
        )));
    }
    let Some((name, meta)) = obj.into_iter().next() else {
        return Err(bad("expected an action".into()));
    };
    let action = match name.as_str() {
        "index" => BulkAction::Index,
        "create" => BulkAction::Create,
        "delete" => BulkAction::Delete,
        "update" => BulkAction::Update,
        other => {
            return Err(bad(format!(
                "expected field [create], [delete], [index] or [update] but found [{}]",
                argus_model::clip(other, 100)
            )))
        }
    };
    let Value::Object(meta) = meta else {
        return Err(bad(format!("the [{name}] action must be an object")));
    };
    Ok((action, meta))
}

/// Decodes a bulk body. `default_index` is the path's `{index}`; `now_ns`
/// stamps documents without a time and seeds generated ids.
pub fn decode_bulk(
    body: &[u8],
    default_index: Option<&str>,
    mapping: &FieldMapping,
    now_ns: i64,
) -> Result<Bulk, ElasticError> {
    let mut lines = body
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
    let mut streams = StreamsBuilder::default();
    let mut items = Vec::new();
    while let Some((line_no, line)) = lines.next() {
        let (action, meta) = parse_action(line_no, line)?;
        let str_field = |k: &str| match meta.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let index = str_field("_index")
            .or_else(|| default_index.map(String::from))
            .unwrap_or_default();
        let id = str_field("_id").unwrap_or_else(|| format!("{:016x}{:08x}", now_ns, items.len()));
        let doc = match action {
            BulkAction::Delete => None,
            _ => Some(lines.next().ok_or(ElasticError::MissingDocument {
                line: line_no,
                action: action.as_str(),
            })?),
        };
        let outcome = match (action, doc) {
            (BulkAction::Delete | BulkAction::Update, _) => Err(ItemError {
                status: 400,
                kind: "illegal_argument_exception",
                reason: format!(
                    "the {} operation is not supported: Argus stores logs append-only (use index or create)",
                    action.as_str()
                ),
            }),
            (_, _) if index.is_empty() => Err(ItemError {
                status: 400,
                kind: "action_request_validation_exception",
                reason: "Validation Failed: 1: index is missing;".into(),
            }),
            (_, Some((doc_line, doc))) => match serde_json::from_slice::<Value>(doc) {
                Ok(Value::Object(obj)) => map_document(&obj, Some(&index), mapping, now_ns)
                    .map(|(labels, entry)| streams.add(labels, entry))
                    .map_err(|e| ItemError {
                        status: 400,
                        kind: e.kind,
                        reason: e.reason,
                    }),
                Ok(_) => Err(ItemError {
                    status: 400,
                    kind: "mapper_parsing_exception",
                    reason: "failed to parse: the document is not a JSON object".into(),
                }),
                Err(e) => Err(ItemError {
                    status: 400,
                    kind: "document_parsing_exception",
                    reason: format!("[{doc_line}:{}] failed to parse: {e}", e.column()),
                }),
            },
            (_, None) => Err(ItemError {
                status: 400,
                kind: "action_request_validation_exception",
                reason: "Validation Failed: 1: source is missing;".into(),
            }),
        };
        items.push(BulkItem {
            action,
            index,
            id,
            outcome,
        });
    }
    if items.is_empty() {
        return Err(ElasticError::Empty);
    }
    Ok(Bulk {
        streams: streams.finish(),
        items,
    })
}
