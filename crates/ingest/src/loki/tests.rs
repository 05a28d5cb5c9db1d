use super::*;
use argus_model::Labels;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn sample() -> Vec<LogStream> {
    vec![
        LogStream {
            labels: labels(&[("job", "api"), ("level", "info")]),
            entries: vec![
                LogEntry::new(1_700_000_000_123_456_789, "GET /health 200"),
                LogEntry {
                    ts_ns: 1_700_000_001_000_000_000,
                    line: "multi\nline \"quoted\" ü".into(),
                    metadata: vec![
                        ("trace_id".into(), "0af7651916cd43dd8448eb211c80319c".into()),
                        ("user".into(), "".into()),
                    ],
                },
            ],
        },
        LogStream {
            labels: labels(&[("path", "C:\\logs\\\"x\"\n\ttab ünï")]),
            entries: vec![LogEntry::new(-1, "before 1970"), LogEntry::new(0, "")],
        },
        LogStream {
            labels: labels(&[("job", "empty")]),
            entries: vec![],
        },
    ]
}

#[test]
fn protobuf_round_trip() {
    let streams = sample();
    let mut buf = Vec::new();
    encode_protobuf(&streams, &mut buf);
    assert_eq!(decode_protobuf(&buf, 1 << 20).unwrap(), streams);
}

#[test]
fn protobuf_limits_and_bad_bodies() {
    let mut buf = Vec::new();
    encode_protobuf(&sample(), &mut buf);
    let e = decode_protobuf(&buf, 10).unwrap_err();
    assert!(matches!(e, LokiError::TooLarge { limit: 10, .. }), "{e}");
    assert_eq!(e.status(), 413);

    let e = decode_protobuf(&[], 1 << 20).unwrap_err();
    assert_eq!(e, LokiError::Snappy("the body is empty".into()));
    assert_eq!(e.status(), 400);

    let framed = b"\xff\x06\x00\x00sNaPpY\x01\x02";
    let e = decode_protobuf(framed, 1 << 20).unwrap_err();
    assert!(e.to_string().contains("framed format"), "{e}");

    // Valid snappy, invalid protobuf.
    let body = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\xff\xff")
        .unwrap();
    let e = decode_protobuf(&body, 1 << 20).unwrap_err();
    assert!(matches!(e, LokiError::Protobuf(_)), "{e}");
}

fn encode_raw(req: &proto::PushRequest) -> Vec<u8> {
    let mut buf = Vec::new();
    crate::remote_write::encode_message(req, &mut buf);
    buf
}

fn one_stream(labels: &str, entries: Vec<proto::EntryAdapter>) -> Vec<u8> {
    encode_raw(&proto::PushRequest {
        streams: vec![proto::StreamAdapter {
            labels: labels.into(),
            entries,
            hash: 42,
        }],
    })
}

fn entry(ts: Option<proto::Timestamp>) -> proto::EntryAdapter {
    proto::EntryAdapter {
        timestamp: ts,
        line: "x".into(),
        structured_metadata: vec![],
    }
}

#[test]
fn protobuf_labels_and_timestamps_checked() {
    let ok = proto::Timestamp {
        seconds: 1,
        nanos: 5,
    };
    let got = decode_protobuf(
        &one_stream(r#"{ job = "a\"b", x=`raw\n` }"#, vec![entry(Some(ok))]),
        1 << 20,
    )
    .unwrap();
    assert_eq!(got[0].labels, labels(&[("job", "a\"b"), ("x", "raw\\n")]));
    assert_eq!(got[0].entries[0].ts_ns, 1_000_000_005);

    let e = decode_protobuf(&one_stream("{job=x}", vec![]), 1 << 20).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stream 0: invalid label set \"{job=x}\": expected a quoted label value, found 'x' at \
         byte 5"
    );
    let e = decode_protobuf(&one_stream("{}", vec![]), 1 << 20).unwrap_err();
    assert_eq!(e, LokiError::NoLabels { stream: 0 });
    let e = decode_protobuf(&one_stream("{a=\"\"}", vec![]), 1 << 20).unwrap_err();
    assert_eq!(e, LokiError::NoLabels { stream: 0 });

    let e = decode_protobuf(
        &one_stream("{a=\"1\"}", vec![entry(Some(ok)), entry(None)]),
        1 << 20,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "stream 0, entry 1: the entry has no timestamp"
    );
    for bad in [
        proto::Timestamp {
            seconds: 0,
            nanos: -1,
        },
        proto::Timestamp {
            seconds: 0,
            nanos: 1_000_000_000,
        },
        proto::Timestamp {
            seconds: i64::MAX / 1_000_000_000 + 1,
            nanos: 0,
        },
    ] {
        let e =
            decode_protobuf(&one_stream("{a=\"1\"}", vec![entry(Some(bad))]), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}

#[test]
fn timestamp_conversions() {
    for ns in [0, 1, -1, 999_999_999, -1_000_000_000, i64::MAX, i64::MIN] {
        assert_eq!(
            proto::Timestamp::from_nanos(ns).to_nanos(),
            Some(ns),
            "{ns}"
        );
    }
}

#[test]
fn parse_labels_accepts() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("{}", &[]),
        (" { } ", &[]),
        (
            r#"{job="x", level="info"}"#,
            &[("job", "x"), ("level", "info")],
        ),
        (
            r#"{level="info",job="x"}"#,
            &[("job", "x"), ("level", "info")],
        ),
        ("{\n a = \"1\" ,\tb=\"2\"\n}", &[("a", "1"), ("b", "2")]),
        (r#"{a="q\"b\\s\nn\tt"}"#, &[("a", "q\"b\\s\nn\tt")]),
        (r#"{a="\x41\101\u00e9\U0001F600"}"#, &[("a", "AAé😀")]),
        (r#"{a="", b="1"}"#, &[("b", "1")]),
        (r#"{_a="ü"}"#, &[("_a", "ü")]),
        ("{a=`x\"y\\`}", &[("a", "x\"y\\")]),
    ];
    for (input, want) in cases {
        assert_eq!(parse_labels(input).unwrap(), labels(want), "{input}");
    }
}

#[test]
fn parse_labels_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "expected '{', found the end"),
        ("job=\"x\"", "expected '{', found 'j'"),
        ("{job=\"x\"", "expected '}', found the end"),
        ("{job=\"x\",}", "expected a label name, found '}'"),
        ("{1a=\"x\"}", "invalid label name \"1a\""),
        ("{a.b=\"x\"}", "invalid label name \"a.b\""),
        ("{a-b=\"x\"}", "invalid label name \"a-b\""),
        ("{a=\"1\", a=\"2\"}", "duplicate label name \"a\""),
        ("{a!=\"1\"}", "expected '=' after label name \"a\""),
        ("{a=~\"1\"}", "expected '=' after label name \"a\""),
        ("{a==\"1\"}", "expected '=' after label name \"a\""),
        ("{a=\"1}", "unterminated quoted string"),
        ("{a=\"1\n\"}", "newline in quoted string"),
        ("{a=\"\\q\"}", "unknown escape \\q"),
        ("{a=\"\\x4\"}", "invalid escape \\x"),
        ("{a=\"\\xff\"}", "escapes make invalid UTF-8"),
        ("{a=\"\\777\"}", "octal escape value > 255"),
        ("{a=\"\\uD800\"}", "not a valid Unicode code point"),
        ("{a=\"\\", "unterminated"),
        ("{a=`x}", "unterminated raw string"),
        ("{a='x'}", "expected a quoted label value, found '\\''"),
        ("{a=\"1\"} x", "unexpected text after '}'"),
        ("{a=\"1\" b=\"2\"}", "expected '}', found 'b'"),
    ];
    for (input, want) in cases {
        let e = parse_labels(input).unwrap_err();
        assert!(e.to_string().contains(want), "{input:?}: {e}");
    }
}

#[test]
fn format_labels_round_trips() {
    let l = labels(&[("a", "q\"b\\s\nn\tt\r\u{1}ü"), ("b", "2")]);
    let s = format_labels(&l);
    assert_eq!(s, r#"{a="q\"b\\s\nn\tt\r\u0001ü", b="2"}"#);
    assert_eq!(parse_labels(&s).unwrap(), l);
    assert_eq!(format_labels(&Labels::default()), "{}");
}

#[test]
fn json_push() {
    let body = br#"{"streams":[
        {"stream":{"job":"api","level":"info","empty":""},
         "values":[["1700000000123456789","GET / 200"],
                   ["-5","second",{"trace_id":"abc","user":"bob"}],
                   ["+7","third",{}],
                   ["8","fourth",null]]},
        {"stream":{"job":"b"},"values":[]},
        {"stream":{"job":"c"}}
    ]}"#;
    let got = decode_json(body).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].labels, labels(&[("job", "api"), ("level", "info")]));
    assert_eq!(
        got[0].entries,
        vec![
            LogEntry::new(1_700_000_000_123_456_789, "GET / 200"),
            LogEntry {
                ts_ns: -5,
                line: "second".into(),
                metadata: vec![
                    ("trace_id".into(), "abc".into()),
                    ("user".into(), "bob".into())
                ],
            },
            LogEntry::new(7, "third"),
            LogEntry::new(8, "fourth"),
        ]
    );
    assert!(got[1].entries.is_empty() && got[2].entries.is_empty());
    assert_eq!(decode_json(b"{}").unwrap(), vec![]);
    assert_eq!(decode_json(br#"{"streams":null}"#).unwrap(), vec![]);
}

#[test]
fn json_round_trips_through_protobuf() {
    let body = br#"{"streams":[{"stream":{"a":"x\"y"},"values":[["1","l",{"k":"v"}]]}]}"#;
    let streams = decode_json(body).unwrap();
    let mut buf = Vec::new();
    encode_protobuf(&streams, &mut buf);
    assert_eq!(decode_protobuf(&buf, 1 << 20).unwrap(), streams);
}

#[test]
fn json_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "EOF while parsing"),
        ("[]", "invalid type: sequence"),
        (
            r#"{"streams":{}}"#,
            "invalid type: map, expected a sequence",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[[1700000000, "x"]]}]}"#,
            "invalid type: integer `1700000000`, expected a timestamp as a string of integer \
             nanoseconds since 1970",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["2024-05-08T18:52:26Z", "x"]]}]}"#,
            "invalid timestamp \"2024-05-08T18:52:26Z\"",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1.5", "x"]]}]}"#,
            "invalid timestamp \"1.5\"",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["99999999999999999999", "x"]]}]}"#,
            "invalid timestamp",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1", 5]]}]}"#,
            "invalid type: integer `5`, expected a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1"]]}]}"#,
            "invalid length 1",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1","x",{},"extra"]]}]}"#,
            "at most 3 elements",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1","x",{"k":1}]]}]}"#,
            "invalid type: integer `1`, expected a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"},"values":[["1","x",["k"]]]}]}"#,
            "expected an object of string values",
        ),
        (
            r#"{"streams":[{"stream":{"a":1},"values":[]}]}"#,
            "invalid type: integer `1`, expected a string",
        ),
        (
            r#"{"streams":[{"stream":{"a":"1"}},{"stream":{"a.b":"1"}}]}"#,
            "streams[1].stream: invalid label name \"a.b\"",
        ),
        (
            r#"{"streams":[{"stream":{},"values":[]}]}"#,
            "stream 0: at least one label pair is required per stream",
        ),
        (r#"{"streams":[{"values":[]}]}"#, "at least one label pair"),
    ];
    for (input, want) in cases {
        let e = decode_json(input.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(want), "{input}: {e}");
        assert_eq!(e.status(), 400);
    }
}
