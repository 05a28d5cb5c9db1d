//! OpenMetrics-specific tests.

use super::tests::{err, fam, ok, one, s, samples, OM, PROM};
use super::*;

/// The complete exposition example of OpenMetrics.md ("Overall Structure").
const OM_SPEC_EXAMPLE: &str = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
acme_http_router_request_seconds_sum{path="/api/v2",method="POST"} 479.3
acme_http_router_request_seconds_count{path="/api/v2",method="POST"} 34.0
acme_http_router_request_seconds_created{path="/api/v2",method="POST"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
# EOF
"#;

#[test]
fn om_spec_example() {
    let p = ok(OM_SPEC_EXAMPLE, OM);
    let acme = "acme_http_router_request_seconds";
    let v1 = [("path", "/api/v1"), ("method", "GET")];
    let v2 = [("path", "/api/v2"), ("method", "POST")];
    let with = |suffix: &str, l: &[(&'static str, &'static str)], v: f64| {
        let name = format!("{acme}_{suffix}");
        let mut pairs: Vec<(&str, &str)> = vec![("__name__", &name)];
        pairs.extend_from_slice(l);
        s(&pairs, v, None)
    };
    let expected = vec![
        with("sum", &v1, 9036.32),
        with("count", &v1, 807283.0),
        with("created", &v1, 1605281325.0), // an ordinary sample, in seconds
        with("sum", &v2, 479.3),
        with("count", &v2, 34.0),
        with("created", &v2, 1605281325.0),
        s(&[("__name__", "go_goroutines")], 69.0, None),
        s(
            &[("__name__", "process_cpu_seconds_total")],
            4.20072246e6,
            None,
        ),
    ];
    assert_eq!(p.samples, expected);
    assert_eq!(
        p.families,
        vec![
            fam(
                acme,
                MetricType::Summary,
                "Latency though all of ACME's HTTP request router.",
                "seconds"
            ),
            fam(
                "go_goroutines",
                MetricType::Gauge,
                "Number of goroutines that currently exist.",
                ""
            ),
            fam(
                "process_cpu_seconds",
                MetricType::Counter,
                "Total user and system CPU time spent in seconds.",
                "seconds"
            ),
        ]
    );
}

/// The smaller examples of OpenMetrics.md's "Text format" section, each
/// closed with `# EOF`; all must parse.
#[test]
fn om_spec_snippets() {
    let snippets = [
        "# TYPE foo_seconds counter\n# UNIT foo_seconds seconds\n",
        "# TYPE foo_seconds counter\n",
        "# TYPE foo_seconds counter\n# UNIT foo_seconds seconds\n# HELP foo_seconds Some text and \\n some \\\" escaping\n",
        "bar_seconds_count 0\n",
        "bar_seconds_count{} 0\n",
        "bar_seconds_count{a=\"x\",b=\"escaping\\\" example \\n \"} 0\n",
        "# TYPE foo_seconds summary\n# UNIT foo_seconds seconds\nfoo_seconds_count{a=\"bb\"} 0 123\nfoo_seconds_sum{a=\"bb\"} 0 123\nfoo_seconds_count{a=\"bb\"} 0 456\nfoo_seconds_sum{a=\"bb\"} 0 456\n",
        "# TYPE foo gauge\nfoo 17.0\n",
        "# TYPE foo gauge\nfoo{a=\"bb\"} 17.0\nfoo{a=\"ccc\"} 17.0\n",
        "# TYPE foo gauge\n",
        "# TYPE foo gauge\nfoo{a=\"b\"} 17.0 1520879607.789\n",
        "# TYPE foo gauge\nfoo 17.0 123\nfoo 18.0 456\n",
        "# TYPE foo counter\nfoo_total 17.0 1520879607.789\nfoo_created 1520430000.123 1520879607.789\n",
        "# TYPE foo stateset\nfoo{entity=\"controller\",foo=\"a\"} 1.0\nfoo{entity=\"controller\",foo=\"bb\"} 0.0\n",
        "# TYPE foo info\nfoo_info{entity=\"replica\",name=\"prettier name\",version=\"8.1.9\"} 1.0\n",
        "# TYPE foo summary\nfoo_count 17.0\nfoo_sum 324789.3\nfoo_created 1520430000.123\n",
        "# TYPE foo summary\nfoo{quantile=\"0.95\"} 123.7\nfoo{quantile=\"0.99\"} 150.0\n",
        "# TYPE foo histogram\nfoo_bucket{le=\"0.0\"} 0\nfoo_bucket{le=\"1e-05\"} 0\nfoo_bucket{le=\"1.1e+23\"} 17\nfoo_bucket{le=\"+Inf\"} 17\nfoo_count 17\nfoo_sum 324789.3\nfoo_created 1520430000.123\n",
        "# TYPE foo gaugehistogram\nfoo_bucket{le=\"0.01\"} 20.0\nfoo_bucket{le=\"+Inf\"} 42.0\nfoo_gcount 42.0\nfoo_gsum 3289.3\n",
        "# TYPE foo unknown\nfoo 42.23\n",
    ];
    for snippet in snippets {
        ok(&format!("{snippet}# EOF\n"), OM);
    }
    let p = ok("# TYPE foo counter\nfoo_total 17.0 1520879607.789\nfoo_created 1520430000.123 1520879607.789\n# EOF", OM);
    assert_eq!(
        p.samples,
        vec![
            s(&[("__name__", "foo_total")], 17.0, Some(1520879607789)),
            s(
                &[("__name__", "foo_created")],
                1520430000.123,
                Some(1520879607789)
            ),
        ]
    );
}

#[test]
fn om_spec_exemplars_are_dropped() {
    // OpenMetrics.md, Histogram > Exemplars, with its doubled space before
    // the `_created` value fixed (the ABNF allows a single SP only).
    let input = r#"# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="0.1"} 8 # {} 0.054
foo_bucket{le="1"} 11 # {trace_id="KOO5S4vxi0o"} 0.67
foo_bucket{le="10"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# EOF
"#;
    let p = ok(input, OM);
    assert_eq!(p.samples.len(), 8);
    assert_eq!(
        p.samples[3],
        s(&[("__name__", "foo_bucket"), ("le", "10")], 17.0, None)
    );
    let e = err(
        &input.replace("foo_created 1520430000.123", "foo_created  1520430000.123"),
        OM,
    );
    assert_eq!(e.line, 9, "{e}");
    // Exemplar after a timestamp, with a trailing comma, with hash and braces in values.
    let p = ok(
        "a_total 1 2 # {a=\"b\",} 3 4\nb{x=\"} # {\"} 1 # {y=\"#\"} 2\n# EOF",
        OM,
    );
    assert_eq!(p.samples[0], s(&[("__name__", "a_total")], 1.0, Some(2000)));
    assert_eq!(
        p.samples[1],
        s(&[("__name__", "b"), ("x", "} # {")], 1.0, None)
    );
}

#[test]
fn om_bad_exemplars() {
    for (line, why) in [
        (
            "a_total 1 # {a=\"b\"} 0.5 NaN",
            "exemplar: invalid timestamp",
        ),
        (
            "a_total 1 # {a=\"b\"} 0.5 Inf",
            "exemplar: invalid timestamp",
        ),
        ("a_total 1 #", "invalid timestamp"),
        ("a_total 1# {} 1", "invalid value"),
        ("a_total 1 #{} 1", "invalid timestamp"),
        ("a_total 1 # {}1", "exemplar: expected a space"),
        ("a_total 1 # {} 1 ", "missing exemplar timestamp"),
        ("a_total 1 # {} 1 1 ", "unexpected text"),
        ("a_total 1 # {} 0x1p-3", "exemplar: invalid value"),
        (
            "a_total 1 1 # id=\"a\"} 1",
            "unexpected text after timestamp",
        ),
        ("a_total 1 1 # {id=\"a\"}  ", "missing exemplar value"),
        ("a_total 1 # {\"q\"} 1", "exemplar: expected label name"),
        ("a_total 1 # {a=\"1\"b=\"2\"} 1", "exemplar: expected ','"),
    ] {
        let e = err(&format!("# TYPE a counter\n{line}\n# EOF\n"), OM);
        assert_eq!(e.line, 2, "{line}: {e}");
        assert!(e.message.contains(why), "{line}: {e}");
    }
}

#[test]
fn om_eof_rules() {
    assert_eq!(ok("# EOF", OM), Parsed::default());
    assert_eq!(ok("# EOF\n", OM), Parsed::default());
    assert_eq!(samples("a 1\n# EOF", OM).len(), 1);
    let cases = [
        ("", 1, "missing # EOF"),
        ("a 1\n", 2, "missing # EOF"),
        ("a 1", 2, "missing # EOF"),
        ("a 1\n# EOF\n\n", 3, "after # EOF"),
        ("a 1\n# EOF\nb 1\n", 3, "after # EOF"),
        ("a 1\n# EOF\n# EOF\n", 3, "after # EOF"),
        ("a 1\n# EOF blah\n", 2, "invalid # EOF"),
        ("a 1\n# EOFblah", 2, "invalid # EOF"),
        ("a 1\n#EOF\n", 2, "invalid comment"),
        ("a 1\n # EOF\n", 2, "expected metric name"),
    ];
    for (input, line, why) in cases {
        let e = err(input, OM);
        assert_eq!(
            (e.line, e.message.contains(why)),
            (line, true),
            "{input:?}: {e}"
        );
    }
    // In text 0.0.4 `# EOF` is just a comment.
    assert_eq!(samples("a 1\n# EOF\nb 2\n", PROM).len(), 2);
}

#[test]
fn om_timestamps() {
    let ts = |t: &str| one(&format!("m 1 {t}\n# EOF"), OM).timestamp_ms;
    assert_eq!(ts("0"), Some(0));
    assert_eq!(ts("000"), Some(0));
    assert_eq!(ts("0.0"), Some(0));
    assert_eq!(ts("1.1"), Some(1100));
    assert_eq!(ts("1520879607.789"), Some(1520879607789));
    assert_eq!(ts("1.005"), Some(1005));
    assert_eq!(ts("1.0009"), Some(1000));
    assert_eq!(ts("-1.0009"), Some(-1000));
    assert_eq!(ts("-0.0005"), Some(0));
    assert_eq!(ts("1.5e3"), Some(1_500_000));
    assert_eq!(ts("1520879607789e-3"), Some(1520879607789));
    assert_eq!(ts("15e-5"), Some(0));
    assert_eq!(ts("+2"), Some(2000));
    assert_eq!(ts(".5"), Some(500));
    assert_eq!(ts("1234567890"), Some(1234567890000));
    assert_eq!(ts("12345678901234567890.1234567890"), Some(i64::MAX));
    assert_eq!(ts("-1e300"), Some(i64::MIN));
    assert_eq!(ts("0.0000000001"), Some(0));
    for bad in [
        "NaN", "Inf", "-Inf", "+Inf", "z", "1z", "1_2", "1.1.1", "0x1p-3", ".",
    ] {
        let e = err(&format!("m 1 {bad}\n# EOF"), OM);
        assert!(e.message.contains("invalid timestamp"), "{bad}: {e}");
    }
    assert!(err("m 1  2\n# EOF", OM)
        .message
        .contains("missing timestamp"));
}

#[test]
fn om_syntax_errors() {
    let cases = [
        ("", "blank lines"),
        ("# random comment", "invalid comment"),
        ("# FOO a x", "invalid comment"),
        ("#", "invalid comment"),
        (" # HELP a meh", "expected metric name"),
        (" a 1", "expected metric name"),
        ("a  1", "missing value"),
        ("a\t1", "expected a space"),
        ("a 1\t", "invalid value"),
        ("a 1 ", "missing timestamp"),
        ("a", "missing value"),
        ("a ", "missing value"),
        ("a {b=\"c\"} 1", "invalid value"),
        ("a{b=\"c\"}1", "expected a space"),
        ("a{ b=\"c\"} 1", "expected label name"),
        ("a{b =\"c\"} 1", "expected '='"),
        ("a{b= \"c\"} 1", "quoted label value"),
        ("a{b=\"c\" } 1", "expected ','"),
        ("a{b=\"c\"d=\"e\"} 1", "expected ','"),
        ("a{b=\"c\",,d=\"e\"} 1", "expected label name"),
        ("a{a} 1", "expected '='"),
        ("a{a\"v\"} 1", "expected '='"),
        ("a{a=} 1", "quoted label value"),
        ("a{1=\"1\"} 1", "expected label name"),
        ("0a 1", "expected metric name"),
        ("a-b 1", "expected a space"),
        ("# HELP", "invalid comment"),
        ("# HELP ", "expected metric name after HELP"),
        ("# HELP a", "expected a space"),
        ("# HELP a\t", "expected a space"),
        ("# TYPE a", "expected a space"),
        ("# TYPE a meh", "invalid metric type"),
        ("# TYPE a gauge ", "invalid metric type"),
        ("# TYPE a untyped", "invalid metric type"),
        ("# TYPE  a gauge", "expected metric name"),
        ("# UNIT a", "expected a space"),
        ("# UNIT a seconds", "not a suffix"),
        ("# UNIT a_seconds seconds ", "not a suffix"),
        ("# UNIT seconds seconds", "not a suffix"),
        ("# UNIT a_seconds _seconds", "not a suffix"),
    ];
    for (line, why) in cases {
        let e = err(&format!("x 1\n{line}\n# EOF\n"), OM);
        assert!(e.line == 2 && e.message.contains(why), "{line:?}: {e}");
    }
}

#[test]
fn om_metadata() {
    let p = ok("# HELP a \n# UNIT a \n# TYPE b_seconds gauge\n# UNIT b_seconds seconds\n# TYPE \"c\" info\n# EOF", OM);
    assert_eq!(
        p.families,
        vec![
            fam("a", MetricType::Unknown, "", ""),
            fam("b_seconds", MetricType::Gauge, "", "seconds"),
            fam("c", MetricType::Info, "", "")
        ]
    );
    for (t, want) in [
        ("counter", MetricType::Counter),
        ("gauge", MetricType::Gauge),
        ("histogram", MetricType::Histogram),
        ("gaugehistogram", MetricType::GaugeHistogram),
        ("summary", MetricType::Summary),
        ("info", MetricType::Info),
        ("stateset", MetricType::StateSet),
        ("unknown", MetricType::Unknown),
    ] {
        assert_eq!(
            ok(&format!("# TYPE a {t}\n# EOF"), OM).families[0].metric_type,
            want
        );
        assert_eq!(want.as_str(), t);
    }
    // A repeated line overwrites (Prometheus does not reject it either).
    let p = ok(
        "# TYPE a gauge\n# HELP a one\n# HELP a two\n# TYPE a counter\n",
        PROM,
    );
    assert_eq!(p.families, vec![fam("a", MetricType::Counter, "two", "")]);
}
