use argus_model::Labels;

use super::*;

pub(super) const PROM: Format = Format::PrometheusText;
pub(super) const OM: Format = Format::OpenMetrics;

pub(super) fn s(pairs: &[(&str, &str)], value: f64, ts: Option<i64>) -> ParsedSample {
    ParsedSample {
        labels: Labels::from_pairs(pairs.iter().copied()),
        value,
        timestamp_ms: ts,
    }
}

pub(super) fn ok(input: &str, format: Format) -> Parsed {
    parse(input.as_bytes(), format)
        .unwrap_or_else(|e| panic!("{format:?} parse failed: {e}\ninput:\n{input}"))
}

pub(super) fn samples(input: &str, format: Format) -> Vec<ParsedSample> {
    ok(input, format).samples
}

pub(super) fn one(input: &str, format: Format) -> ParsedSample {
    let mut v = samples(input, format);
    assert_eq!(v.len(), 1, "{input:?}");
    v.pop().unwrap()
}

pub(super) fn err(input: &str, format: Format) -> ParseError {
    match parse(input.as_bytes(), format) {
        Ok(p) => panic!("{format:?} accepted {input:?}: {p:?}"),
        Err(e) => e,
    }
}

pub(super) fn fam(name: &str, t: MetricType, help: &str, unit: &str) -> FamilyMeta {
    FamilyMeta {
        name: name.into(),
        metric_type: t,
        help: help.into(),
        unit: unit.into(),
    }
}

/// The example of prometheus/docs `exposition_formats.md` (text format 0.0.4).
const PROM_DOC_EXAMPLE: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
"#;

#[test]
fn prom_doc_example() {
    let p = ok(PROM_DOC_EXAMPLE, PROM);
    let bucket = "http_request_duration_seconds_bucket";
    let expected = vec![
        s(
            &[
                ("__name__", "http_requests_total"),
                ("method", "post"),
                ("code", "200"),
            ],
            1027.0,
            Some(1395066363000),
        ),
        s(
            &[
                ("__name__", "http_requests_total"),
                ("method", "post"),
                ("code", "400"),
            ],
            3.0,
            Some(1395066363000),
        ),
        s(
            &[
                ("__name__", "msdos_file_access_time_seconds"),
                ("path", r"C:\DIR\FILE.TXT"),
                ("error", "Cannot find file:\n\"FILE.TXT\""),
            ],
            1.458255915e9,
            None,
        ),
        s(
            &[("__name__", "metric_without_timestamp_and_labels")],
            12.47,
            None,
        ),
        s(
            &[
                ("__name__", "something_weird"),
                ("problem", "division by zero"),
            ],
            f64::INFINITY,
            Some(-3982045),
        ),
        s(&[("__name__", bucket), ("le", "0.05")], 24054.0, None),
        s(&[("__name__", bucket), ("le", "0.1")], 33444.0, None),
        s(&[("__name__", bucket), ("le", "0.2")], 100392.0, None),
        s(&[("__name__", bucket), ("le", "0.5")], 129389.0, None),
        s(&[("__name__", bucket), ("le", "1")], 133988.0, None),
        s(&[("__name__", bucket), ("le", "+Inf")], 144320.0, None),
        s(
            &[("__name__", "http_request_duration_seconds_sum")],
            53423.0,
            None,
        ),
        s(
            &[("__name__", "http_request_duration_seconds_count")],
            144320.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds"), ("quantile", "0.01")],
            3102.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds"), ("quantile", "0.05")],
            3272.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds"), ("quantile", "0.5")],
            4773.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds"), ("quantile", "0.9")],
            9001.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds"), ("quantile", "0.99")],
            76656.0,
            None,
        ),
        s(
            &[("__name__", "rpc_duration_seconds_sum")],
            1.7560473e7,
            None,
        ),
        s(&[("__name__", "rpc_duration_seconds_count")], 2693.0, None),
    ];
    assert_eq!(p.samples, expected);
    assert_eq!(
        p.families,
        vec![
            fam(
                "http_requests_total",
                MetricType::Counter,
                "The total number of HTTP requests.",
                ""
            ),
            fam(
                "http_request_duration_seconds",
                MetricType::Histogram,
                "A histogram of the request duration.",
                ""
            ),
            fam(
                "rpc_duration_seconds",
                MetricType::Summary,
                "A summary of the RPC duration in seconds.",
                ""
            ),
        ]
    );
}

#[test]
fn prom_doc_quoted_names() {
    // The current document's UTF-8 example line (it lacks a value there).
    let line = r#"{"my.dotted.metric", "error.message"="Not Found"} 1"#;
    assert!(
        err(line, PROM).message.contains("invalid metric name"),
        "{}",
        err(line, PROM)
    );
    let e = err(r#"{"my_metric", "error.message"="Not Found"} 1"#, PROM);
    assert!(e.message.contains("invalid label name"), "{e}");
    assert_eq!(
        one(r#"{"my_metric", "error_message"="Not Found"} 1"#, PROM),
        s(
            &[("__name__", "my_metric"), ("error_message", "Not Found")],
            1.0,
            None
        )
    );
    assert_eq!(
        one(r#"{ "m" , } 2"#, PROM),
        s(&[("__name__", "m")], 2.0, None)
    );
    let p = ok("# HELP \"m\" quoted help\n# TYPE \"m\" gauge\n", PROM);
    assert_eq!(
        p.families,
        vec![fam("m", MetricType::Gauge, "quoted help", "")]
    );
    assert!(err(r#"m{"n"} 1"#, PROM).message.contains("twice"));
    assert!(err(r#"{a="1"} 1"#, PROM)
        .message
        .contains("metric name missing"));
}

#[test]
fn label_value_escapes() {
    let cases = [
        (r#"\\"#, "\\"),
        (r#"\""#, "\""),
        (r#"\n"#, "\n"),
        (r#"a\\nb"#, "a\\nb"),
        (r#"\\\n"#, "\\\n"),
        (r#"\\\""#, "\\\""),
        // Undefined escapes stay verbatim (Prometheus; OpenMetrics `BS normal-char`).
        (r#"\t\a\z\'"#, r#"\t\a\z\'"#),
        (r#"C:\DIR"#, r#"C:\DIR"#),
        ("ünï\u{1F600}", "ünï\u{1F600}"),
        ("nul\0byte", "nul\0byte"),
        ("#{}=, \t", "#{}=, \t"),
    ];
    for (raw, want) in cases {
        for (format, eof) in [(PROM, ""), (OM, "\n# EOF")] {
            let got = one(&format!("m{{l=\"{raw}\"}} 1{eof}"), format);
            assert_eq!(got.labels.get("l"), Some(want), "{format:?} {raw:?}");
        }
    }
    for (format, eof) in [(PROM, ""), (OM, "\n# EOF")] {
        assert!(err(&format!("m{{l=\"abc}} 1{eof}"), format)
            .message
            .contains("unterminated"));
        assert!(err(&format!("m{{l=\"abc\\\"}} 1{eof}"), format)
            .message
            .contains("unterminated"));
        assert!(err(&format!("m{{l=\"\\\n\"}} 1{eof}"), format)
            .message
            .contains("unterminated"));
        let bad_utf8 = [b"m{l=\"\xff\"} 1".as_slice(), eof.as_bytes()].concat();
        let e = parse(&bad_utf8, format).unwrap_err();
        assert!(e.message.contains("UTF-8"), "{e}");
        assert!(err(&format!("m{{l='x'}} 1{eof}"), format)
            .message
            .contains("quoted label value"));
        assert!(err(&format!("m{{l=x}} 1{eof}"), format)
            .message
            .contains("quoted label value"));
    }
}

#[test]
fn help_escapes() {
    let p = ok(
        "# HELP a he\\n\\\\l\\tp \\\"q\\\"  \n# HELP b \\\\n\\\\\\n\\\n",
        PROM,
    );
    assert_eq!(p.families[0].help, "he\n\\l\\tp \\\"q\\\"");
    assert_eq!(p.families[1].help, "\\n\\\n\\");
    let p = ok(
        "# HELP a he\\n\\\\l\\tp \\\"q\\\"  \n# HELP b \\\\n\\\\\\n\\\n# EOF",
        OM,
    );
    assert_eq!(p.families[0].help, "he\n\\l\\tp \"q\"  ");
    assert_eq!(p.families[1].help, "\\n\\\n\\");
    assert_eq!(ok("# HELP a he\0lp\n# EOF", OM).families[0].help, "he\0lp");
    let bad = parse(b"# HELP a \xff\n", PROM).unwrap_err();
    assert_eq!(
        bad,
        ParseError {
            line: 1,
            message: "invalid UTF-8 in HELP text".into()
        }
    );
}

#[test]
fn value_forms() {
    let nan = f64::from_bits(NORMAL_NAN_BITS);
    let cases: &[(&str, f64)] = &[
        ("0", 0.0),
        ("-0", -0.0),
        ("+0.0", 0.0),
        ("1", 1.0),
        ("-1.5", -1.5),
        ("+1.5", 1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5e-3", -0.0005),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1.e3", 1000.0),
        ("1e+3", 1000.0),
        ("0042", 42.0),
        ("0000000000000000000000000000000000000000001.2e-1", 0.12),
        ("9223372036854775808", 9223372036854775808.0),
        ("1.7976931348623157e308", f64::MAX),
        ("4.9e-324", 5e-324),
        ("1e-400", 0.0),
        ("1e0000000000000000000000005", 1e5),
        ("Inf", f64::INFINITY),
        ("+Inf", f64::INFINITY),
        ("-Inf", f64::NEG_INFINITY),
        ("inf", f64::INFINITY),
        ("INF", f64::INFINITY),
        ("+infinity", f64::INFINITY),
        ("-Infinity", f64::NEG_INFINITY),
        ("NaN", nan),
        ("nan", nan),
        ("NAN", nan),
    ];
    for &(tok, want) in cases {
        for (format, eof) in [(PROM, ""), (OM, "\n# EOF")] {
            let got = one(&format!("m {tok}{eof}"), format).value;
            assert_eq!(got.to_bits(), want.to_bits(), "{format:?} {tok}: {got}");
        }
    }
    let bad = [
        "",
        "-",
        "+",
        ".",
        "e3",
        "1e",
        "1e+",
        "1.2.3",
        "1_000",
        "0x1p-3",
        "0x1P-3",
        "0x1",
        "0X1",
        "0b1",
        "0o1",
        "+NaN",
        "-nan",
        "infin",
        "Infinityy",
        "true",
        "1,5",
        "1e400",
        "-1e400",
        "1.7976931348623159e308",
        "١",
    ];
    for tok in bad {
        for (format, eof) in [(PROM, ""), (OM, "\n# EOF")] {
            let e = err(&format!("m {tok}{eof}"), format);
            assert_eq!(e.line, 1, "{format:?} {tok:?}: {e}");
        }
    }
}

#[test]
fn prom_timestamps() {
    let ts = |t: &str| one(&format!("m 1 {t}"), PROM).timestamp_ms;
    assert_eq!(ts("0"), Some(0));
    assert_eq!(ts("1395066363000"), Some(1395066363000));
    assert_eq!(ts("-3982045"), Some(-3982045));
    assert_eq!(ts("+5"), Some(5));
    assert_eq!(ts("9223372036854775807"), Some(i64::MAX));
    assert_eq!(ts("-9223372036854775808"), Some(i64::MIN));
    assert_eq!(one("m 1", PROM).timestamp_ms, None);
    for bad in [
        "9223372036854775808",
        "1.5",
        "1e3",
        "-",
        "+",
        "0x10",
        "1_2",
        "NaN",
        "12a",
    ] {
        let e = err(&format!("m 1 {bad}"), PROM);
        assert!(e.message.contains("timestamp"), "{bad}: {e}");
    }
    assert!(err("m 1 2 3", PROM).message.contains("after timestamp"));
}

#[test]
fn prom_whitespace_and_comments() {
    let input = "  \t\n# plain comment\n#HELP not_meta x\n# HELPER x\n# HELP\n#\n\
        \t go_gc{ quantile = \"1.0\" , a = \"b\" , }\t8.5  \t 123 \t\n\
        go_gc { quantile = \"2.0\" a = \"b\" } 1\n\
        go_gc{}3\n\
        x{y=\"z\"}4\n\
        # \tTYPE go_gc   summary  \n\
        last 1";
    let p = ok(input, PROM);
    assert_eq!(
        p.samples,
        vec![
            s(
                &[("__name__", "go_gc"), ("quantile", "1.0"), ("a", "b")],
                8.5,
                Some(123)
            ),
            s(
                &[("__name__", "go_gc"), ("quantile", "2.0"), ("a", "b")],
                1.0,
                None
            ),
            s(&[("__name__", "go_gc")], 3.0, None),
            s(&[("__name__", "x"), ("y", "z")], 4.0, None),
            s(&[("__name__", "last")], 1.0, None),
        ]
    );
    assert_eq!(p.families, vec![fam("go_gc", MetricType::Summary, "", "")]);
    let p = ok("# HELP nohelp1\n# HELP nohelp2 \n# TYPE u untyped\n", PROM);
    assert_eq!(
        p.families,
        vec![
            fam("nohelp1", MetricType::Unknown, "", ""),
            fam("nohelp2", MetricType::Unknown, "", ""),
            fam("u", MetricType::Unknown, "", "")
        ]
    );
}

#[test]
fn prom_errors() {
    let cases = [
        ("a", "missing value"),
        ("a{b='c'} 1", "quoted label value"),
        ("a{b=\n", "quoted label value"),
        ("a{\u{ff}=\"foo\"} 1", "expected label name"),
        ("a{b=\"c\"", "unterminated label set"),
        ("a true", "invalid value"),
        ("a.b 1", "invalid metric name"),
        ("empty_label_name{=\"\"} 0", "expected label name"),
        ("foo 1_2", "invalid value"),
        ("foo 0 1_2", "invalid timestamp"),
        ("{a=\"ok\"} 1", "metric name missing"),
        ("1abc 1", "expected metric name"),
        ("a{b=\"1\",,c=\"2\"} 1", "expected label name"),
        ("a{,} 1", "expected label name"),
        ("# TYPE #", "expected metric name after TYPE"),
        ("# HELP #", "expected metric name after HELP"),
        ("# HELP ", "expected metric name after HELP"),
        ("# TYPE a", "missing metric type"),
        ("# TYPE a gaugehistogram", "invalid metric type"),
        (
            "# TYPE a counter gauge",
            "unexpected text after metric type",
        ),
        ("# TYPE a.b counter", "invalid metric name in TYPE"),
        ("# TYPE a unknown", "invalid metric type"),
        ("a 1\r", "invalid value"),
        ("a 1 2\r", "invalid timestamp"),
    ];
    for (input, why) in cases {
        let e = err(input, PROM);
        assert!(e.line == 1 && e.message.contains(why), "{input:?}: {e}");
    }
}

#[test]
fn names_and_duplicates() {
    for (format, eof) in [(PROM, ""), (OM, "\n# EOF")] {
        let e = err(&format!("x 1\na{{b=\"1\",b=\"2\"}} 1{eof}"), format);
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "duplicate label name \"b\"")
        );
        // Duplicates are found before empty values are dropped.
        assert!(err(&format!("a{{b=\"\",b=\"2\"}} 1{eof}"), format)
            .message
            .contains("duplicate"));
        assert!(err(&format!("a{{__name__=\"x\"}} 1{eof}"), format)
            .message
            .contains("duplicate"));
        assert!(err(&format!("{{\"a\",\"a\"}} 1{eof}"), format)
            .message
            .contains("twice"));
        assert!(err(&format!("{{\"a-b\"}} 1{eof}"), format)
            .message
            .contains("invalid metric name"));
        assert!(err(&format!("a{{\"b c\"=\"1\"}} 1{eof}"), format)
            .message
            .contains("invalid label name"));
        let got = one(
            &format!("_a:b{{_c=\"\",D9=\"x\",\"q\"=\"y\"}} 1{eof}"),
            format,
        );
        assert_eq!(
            got.labels,
            Labels::from_pairs([("__name__", "_a:b"), ("D9", "x"), ("q", "y")])
        );
        assert_eq!(got.labels.get("_c"), None);
        let got = one(&format!("a{{__meta=\"x\"}} 1{eof}"), format);
        assert_eq!(got.labels.get("__meta"), Some("x"));
    }
}

#[test]
fn error_line_numbers() {
    let body = "# HELP a x\n# TYPE a gauge\na 1\na{b=\"c\"} 2\n\n# comment\na{b=\"c\"} oops\na 3\n";
    assert_eq!(
        err(body, PROM),
        ParseError {
            line: 7,
            message: "invalid value \"oops\"".into()
        }
    );
    assert_eq!(
        err(body, PROM).to_string(),
        "line 7: invalid value \"oops\""
    );
    let body = "# TYPE a gauge\na 1\na{b=\"c\"} 2\na 3 4 5\n# EOF\n";
    assert_eq!(err(body, OM).line, 4);
    let big: String = (0..5000)
        .map(|i| format!("m{{i=\"{i}\"}} {i}\n"))
        .collect::<String>()
        + "m{i=\"x\" 1\n";
    assert_eq!(err(&big, PROM).line, 5001);
    assert_eq!(err(&(big + "# EOF\n"), OM).line, 5001);
}

#[test]
fn content_type_and_accept() {
    let cases = [
        (None, PROM),
        (Some(""), PROM),
        (Some("text/plain; version=0.0.4; charset=utf-8"), PROM),
        (Some("text/plain"), PROM),
        (Some("application/json"), PROM),
        (
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            OM,
        ),
        (Some("application/openmetrics-text;version=0.0.1"), OM),
        (Some("application/openmetrics-text"), OM),
        (Some(" Application/OpenMetrics-Text ;version=1.0.0"), OM),
        (Some("application/openmetrics-textx"), PROM),
    ];
    for (ct, want) in cases {
        assert_eq!(format_from_content_type(ct), want, "{ct:?}");
    }
    assert_eq!(
        SCRAPE_ACCEPT_HEADER,
        "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,\
         text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    );
}

/// A 100k-line body of realistic lines.
fn big_body(format: Format) -> String {
    let mut body = String::with_capacity(12 << 20);
    body.push_str("# HELP http_requests Requests.\n# TYPE http_requests counter\n");
    for i in 0..100_000u32 {
        let (method, code) = (["GET", "POST", "PUT"][i as usize % 3], 200 + i % 5);
        body.push_str(&format!("http_requests_total{{method=\"{method}\",code=\"{code}\",path=\"/api/v1/item/{i}\"}} {i}.5 "));
        match format {
            PROM => body.push_str(&format!("{}\n", 1_700_000_000_000u64 + u64::from(i))),
            OM => body.push_str(&format!(
                "{}.{:03} # {{trace_id=\"{i:x}\"}} 0.5\n",
                1_700_000_000 + i / 1000,
                i % 1000
            )),
        }
    }
    if format == OM {
        body.push_str("# EOF\n");
    }
    body
}

#[test]
fn large_body_parses() {
    for format in [PROM, OM] {
        let p = ok(&big_body(format), format);
        assert_eq!(p.samples.len(), 100_000);
        let last = &p.samples[99_999];
        assert_eq!(last.labels.get("path"), Some("/api/v1/item/99999"));
        assert_eq!(last.labels.len(), 4);
        assert_eq!(last.value, 99_999.5);
        assert_eq!(last.timestamp_ms, Some(1_700_000_099_999));
        assert_eq!(
            p.families,
            vec![fam("http_requests", MetricType::Counter, "Requests.", "")]
        );
    }
}
