use super::*;
use crate::jsonl::decode_jsonl;
use argus_model::Labels;

const NOW: i64 = 1_700_000_000_000_000_000;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn rfc3339_and_epoch_millis() {
    assert_eq!(
        parse_rfc3339_ns("1970-01-01T00:00:01Z"),
        Some(1_000_000_000)
    );
    assert_eq!(
        parse_rfc3339_ns("2023-11-14T22:13:20.123456789Z"),
        Some(1_700_000_000_123_456_789)
    );
    assert_eq!(
        parse_rfc3339_ns("2023-11-14T23:13:20.5+01:00"),
        Some(1_700_000_000_500_000_000)
    );
    assert_eq!(
        parse_rfc3339_ns("2023-11-14 22:13:20"),
        Some(1_700_000_000_000_000_000)
    );
    assert_eq!(parse_rfc3339_ns("1970-01-02"), Some(86_400_000_000_000));
    for bad in [
        "",
        "2023-13-01",
        "2023-11-14T22:13",
        "2023-11-14T22:13:20+0100",
        "+023-11-14",
        "2023-11-14T22:13:20.Z",
    ] {
        assert_eq!(parse_rfc3339_ns(bad), None, "{bad}");
    }
}

#[test]
fn bulk_maps_documents_by_the_default_fields() {
    let body = br#"{"index":{"_index":"app-logs","_id":"a1"}}
{"@timestamp":"2023-11-14T22:13:20Z","message":"hello","service":{"name":"api"},"host.name":"h1","level":"info","http":{"status":200},"tags":["a","b"],"nothing":null}
{"create":{}}
{"timestamp":1700000000001,"msg":"second","service_name":"api","host":{"name":"h1"}}
{"index":{"_index":"other"}}
{"level":"warn","n":1}
"#;
    let b = decode_bulk(body, Some("default-ix"), &FieldMapping::default(), NOW).unwrap();
    assert_eq!(b.items.len(), 3);
    assert_eq!(b.items[0].id, "a1");
    assert_eq!(b.items[0].index, "app-logs");
    assert_eq!(b.items[1].index, "default-ix");
    assert_eq!(b.items[1].action, BulkAction::Create);
    assert!(!b.items[2].id.is_empty());
    assert_eq!(b.streams.len(), 3);
    let s0 = &b.streams[0];
    assert_eq!(
        s0.labels,
        labels(&[
            ("service_name", "api"),
            ("host_name", "h1"),
            ("index", "app-logs")
        ])
    );
    let e = &s0.entries[0];
    assert_eq!(e.ts_ns, 1_700_000_000_000_000_000);
    assert_eq!(e.line, "hello");
    assert_eq!(
        e.metadata,
        vec![
            ("level".to_string(), "info".to_string()),
            ("http_status".into(), "200".into()),
            ("tags".into(), r#"["a","b"]"#.into()),
        ]
    );
    let e1 = &b.streams[1].entries[0];
    assert_eq!(e1.ts_ns, 1_700_000_000_001_000_000);
    assert_eq!(e1.line, "second");
    assert!(e1.metadata.is_empty());
    // No message field: the document is the line; no metadata.
    let s2 = &b.streams[2];
    assert_eq!(s2.labels, labels(&[("index", "other")]));
    assert_eq!(s2.entries[0].line, r#"{"level":"warn","n":1}"#);
    assert_eq!(s2.entries[0].ts_ns, NOW);
    assert_eq!(b.items[2].outcome, Ok((2, 0)));
}

#[test]
fn bulk_items_fail_alone() {
    let body = b"{\"delete\":{\"_index\":\"x\",\"_id\":\"1\"}}\n\
{\"update\":{\"_index\":\"x\",\"_id\":\"2\"}}\n{\"doc\":{}}\n\
{\"index\":{}}\n{\"message\":\"no index\"}\n\
{\"index\":{\"_index\":\"x\"}}\nnot json\n\
{\"index\":{\"_index\":\"x\"}}\n[1,2]\n\
{\"index\":{\"_index\":\"x\"}}\n{\"@timestamp\":\"yesterday\",\"message\":\"m\"}\n\
{\"index\":{\"_index\":\"x\"}}\r\n{\"message\":\"ok\"}\r\n";
    let b = decode_bulk(body, None, &FieldMapping::default(), NOW).unwrap();
    let kinds: Vec<_> = b
        .items
        .iter()
        .map(|i| i.outcome.as_ref().map_err(|e| e.kind).err())
        .collect();
    assert_eq!(
        kinds,
        vec![
            Some("illegal_argument_exception"),
            Some("illegal_argument_exception"),
            Some("action_request_validation_exception"),
            Some("document_parsing_exception"),
            Some("mapper_parsing_exception"),
            Some("mapper_parsing_exception"),
            None,
        ]
    );
    let ts = b.items[5].outcome.as_ref().unwrap_err();
    assert!(
        ts.reason.contains("failed to parse field [@timestamp]"),
        "{}",
        ts.reason
    );
    assert_eq!(b.streams.len(), 1);
    assert_eq!(b.streams[0].entries[0].line, "ok");
}

#[test]
fn bulk_request_errors() {
    let m = FieldMapping::default();
    assert_eq!(
        decode_bulk(b"\n\n", None, &m, NOW),
        Err(ElasticError::Empty)
    );
    let e = decode_bulk(b"{\"index\":{}}\n", None, &m, NOW).unwrap_err();
    assert!(
        matches!(e, ElasticError::MissingDocument { line: 1, .. }),
        "{e}"
    );
    let e = decode_bulk(b"{\"upsert\":{}}\n{}\n", None, &m, NOW).unwrap_err();
    assert!(e.to_string().contains("but found [upsert]"), "{e}");
    let e = decode_bulk(b"{}\n", None, &m, NOW).unwrap_err();
    assert!(matches!(e, ElasticError::Action { line: 1, .. }), "{e}");
    let e = decode_bulk(b"\n\"index\"\n", None, &m, NOW).unwrap_err();
    assert!(matches!(e, ElasticError::Action { line: 2, .. }), "{e}");
}

#[test]
fn field_mapping_from_parameters() {
    let m = FieldMapping::from_params(
        Some("ts"),
        Some("body, text"),
        Some("app,_index,kubernetes.pod"),
    );
    assert_eq!(m.time_fields, vec!["ts"]);
    assert_eq!(m.msg_fields, vec!["body", "text"]);
    let body = b"{\"index\":{\"_index\":\"i\"}}\n{\"ts\":\"1970-01-01T00:00:00.5Z\",\"text\":\"t\",\"app\":\"a\",\"kubernetes\":{\"pod\":\"p\"},\"message\":\"meta now\"}\n";
    let b = decode_bulk(body, None, &m, NOW).unwrap();
    let s = &b.streams[0];
    assert_eq!(
        s.labels,
        labels(&[("app", "a"), ("index", "i"), ("kubernetes_pod", "p")])
    );
    assert_eq!(s.entries[0].ts_ns, 500_000_000);
    assert_eq!(s.entries[0].line, "t");
    assert_eq!(
        s.entries[0].metadata,
        vec![("message".to_string(), "meta now".to_string())]
    );
    // Empty `_stream_fields`: no stream field, so unknown_service.
    let none = FieldMapping::from_params(None, None, Some(""));
    let b = decode_bulk(body, None, &none, NOW).unwrap();
    assert_eq!(
        b.streams[0].labels,
        labels(&[("service_name", UNKNOWN_SERVICE)])
    );
}

#[test]
fn jsonl_lines_fail_alone() {
    let body = b"{\"_time\":\"1970-01-01T00:00:01Z\",\"_msg\":\"a\",\"job\":\"j\",\"x\":1}\n\n  \nnope\n{\"_time\":\"bad\",\"_msg\":\"b\"}\n{\"_msg\":\"c\",\"job\":\"j\"}";
    let m = FieldMapping::from_params(Some("_time"), Some("_msg"), Some("job"));
    let j = decode_jsonl(body, &m, NOW);
    assert_eq!(j.lines, 4);
    assert_eq!(j.rejected.len(), 2);
    assert!(
        j.rejected[0]
            .to_string()
            .starts_with("line 4: invalid JSON"),
        "{}",
        j.rejected[0]
    );
    assert!(
        j.rejected[1]
            .to_string()
            .starts_with("line 5: failed to parse field [_time]"),
        "{}",
        j.rejected[1]
    );
    assert_eq!(j.streams.len(), 1);
    let s = &j.streams[0];
    assert_eq!(s.labels, labels(&[("job", "j")]));
    assert_eq!(s.entries.len(), 2);
    assert_eq!(s.entries[0].ts_ns, 1_000_000_000);
    assert_eq!(
        s.entries[0].metadata,
        vec![("x".to_string(), "1".to_string())]
    );
    assert_eq!(s.entries[1].ts_ns, NOW);
}

#[test]
fn deep_and_odd_documents_do_not_panic() {
    let deep = format!(
        "{}{}",
        "{\"a\":".repeat(200),
        "1".to_string() + &"}".repeat(200)
    );
    let j = decode_jsonl(deep.as_bytes(), &FieldMapping::default(), NOW);
    assert_eq!(j.rejected.len(), 1, "serde_json's recursion limit");
    let odd = "{\"@timestamp\":1e300,\"message\":\"m\"}\n{\"@timestamp\":-9223372036854775808,\"message\":\"m\"}\n{\"@timestamp\":\"99999999999999999999\",\"message\":\"m\"}\n{\"\":{\"\":\"x\"},\"message\":\"m\"}";
    let j = decode_jsonl(odd.as_bytes(), &FieldMapping::default(), NOW);
    assert_eq!(j.rejected.len(), 3, "{:?}", j.rejected);
    assert_eq!(j.streams[0].entries[0].metadata, vec![]);
}
