//! Property tests; they double as the fuzz target of the text parser.
//!
//! - round trip: random valid families and samples, rendered with every
//!   allowed spelling variation of the format, parse back to exactly what
//!   was rendered (labels, value bits, timestamps, metadata);
//! - no panic: random bytes, grammar-fragment soup and byte-level mutations
//!   of valid bodies only ever give `Ok` or a `ParseError` with a sane line.
//!
//! 256 cases each by default; fuzz longer with e.g.
//! `PROPTEST_CASES=100000 cargo test --release -p argus-ingest textparse::proptests`.

use std::collections::BTreeMap;
use std::fmt::Write;

use argus_model::Labels;
use proptest::prelude::*;
use proptest::sample::select;

use super::*;

#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    ts: Option<i64>,
}

#[derive(Debug, Clone)]
struct Family {
    name: String,
    metric_type: MetricType,
    help: Option<String>,
    unit: String,
}

/// Exemplar labels, value and timestamp.
type Exemplar = (Vec<(String, String)>, f64, Option<i64>);

/// Choices for the spelling of one sample line; interpreted per format.
#[derive(Debug, Clone)]
struct Style {
    blanks: [&'static str; 6],
    braces: u8,
    quote: u8,
    value_form: u8,
    ts_extra: String,
    exemplar: Option<Exemplar>,
}

fn metric_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_:][a-zA-Z0-9_:]{0,10}"
}

fn label_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("reserved", |n| n != "__name__")
}

fn text() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        3 => any::<char>(),
        2 => select(vec!['\\', '"', '\n', ' ', '\t', '#', '{', '}', ',', '=', 'n', '\0', 'é']),
    ];
    prop::collection::vec(ch, 0..10).prop_map(String::from_iter)
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324
        ]),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
    ]
}

fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        prop::collection::btree_map(label_name(), text(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(m, rev)| {
            let mut v: Vec<_> = m.into_iter().collect();
            if rev {
                v.reverse();
            }
            v
        })
}

fn sample() -> impl Strategy<Value = Sample> {
    (metric_name(), labels(), value(), any::<Option<i64>>()).prop_map(
        |(name, labels, value, ts)| Sample {
            name,
            labels,
            value,
            ts,
        },
    )
}

fn families() -> impl Strategy<Value = Vec<Family>> {
    let fam = (
        0..8usize,
        prop::option::of(text()),
        prop::option::of("[a-z_]{1,6}"),
    );
    prop::collection::btree_map(metric_name(), fam, 0..4).prop_map(|m: BTreeMap<_, _>| {
        let mut seen = std::collections::HashSet::new();
        m.into_iter()
            .map(|(name, (t, help, unit))| {
                let types = [
                    MetricType::Counter,
                    MetricType::Gauge,
                    MetricType::Histogram,
                    MetricType::Summary,
                    MetricType::Unknown,
                    MetricType::GaugeHistogram,
                    MetricType::Info,
                    MetricType::StateSet,
                ];
                let unit: String = unit.unwrap_or_default();
                let name = if unit.is_empty() {
                    name
                } else {
                    format!("{name}_{unit}")
                };
                Family {
                    name,
                    metric_type: types[t],
                    help,
                    unit,
                }
            })
            .filter(|f| seen.insert(f.name.clone()))
            .collect()
    })
}

fn style() -> impl Strategy<Value = Style> {
    let blank = select(vec![" ", "\t", "  ", " \t "]);
    let exemplar = prop::option::of((labels(), value(), any::<Option<i64>>()));
    (
        [
            blank.clone(),
            blank.clone(),
            blank.clone(),
            blank.clone(),
            blank.clone(),
            blank,
        ],
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        "[0-9]{0,4}",
        exemplar,
    )
        .prop_map(
            |(blanks, braces, quote, value_form, ts_extra, exemplar)| Style {
                blanks,
                braces,
                quote,
                value_form,
                ts_extra,
                exemplar,
            },
        )
}

fn escape(s: &str, quote: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

fn render_value(v: f64, form: u8) -> String {
    let pick = |options: &[&str]| options[form as usize % options.len()].to_owned();
    if v.is_nan() {
        pick(&["NaN", "nan", "NAN"])
    } else if v == f64::INFINITY {
        pick(&["+Inf", "Inf", "inf", "+Infinity", "infinity", "+INF"])
    } else if v == f64::NEG_INFINITY {
        pick(&["-Inf", "-inf", "-Infinity", "-INFINITY"])
    } else {
        match form % 4 {
            0 => format!("{v:?}"),
            1 => format!("{v:e}"),
            2 => format!("{v:E}"),
            _ => format!("{v}"),
        }
    }
}

/// Milliseconds as OpenMetrics seconds, in a spelling that must truncate
/// back to exactly `ms` (`extra` digits go beyond millisecond precision).
fn render_om_ts(ms: i64, form: u8, extra: &str) -> String {
    let sign = match (ms < 0, form % 3) {
        (true, _) => "-",
        (false, 0) => "+",
        _ => "",
    };
    let (secs, frac) = (ms.unsigned_abs() / 1000, ms.unsigned_abs() % 1000);
    match (form % 4, frac) {
        (0, _) => format!("{sign}{secs}.{frac:03}{extra}"),
        (1, _) => format!("{sign}{}e-3", ms.unsigned_abs()),
        (2, _) => format!("{sign}{secs}{frac:03}.{extra}E-3"),
        (_, 0) => format!("{sign}{secs}"),
        _ => format!("{sign}0{secs}.{frac:03}{extra}e0"),
    }
}

fn render_labels(
    out: &mut String,
    name: Option<&str>,
    labels: &[(String, String)],
    st: &Style,
    om: bool,
    exemplar: bool,
) {
    // 0.0.4 also takes pairs separated by blanks only (a promparse.go quirk),
    // but not a quoted metric name followed by a pair.
    let (sp, comma) = if om {
        ("", ",")
    } else {
        (
            st.blanks[3],
            [",", " ,", " "][usize::from(st.quote >> 4) % 3],
        )
    };
    out.push('{');
    if let Some(name) = name {
        let _ = write!(out, "{sp}\"{name}\"");
        if !labels.is_empty() {
            out.push(',');
        }
    }
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(comma);
        }
        if !exemplar && st.quote.rotate_left(i as u32) & 1 == 1 {
            let _ = write!(out, "{sp}\"{n}\"{sp}={sp}\"{}\"", escape(v, true));
        } else {
            let _ = write!(out, "{sp}{n}{sp}={sp}\"{}\"", escape(v, true));
        }
    }
    if (name.is_some() || !labels.is_empty()) && st.quote & 8 == 8 {
        out.push(',');
    }
    out.push_str(sp);
    out.push('}');
}

fn render(families: &[Family], samples: &[(Sample, Style)], format: Format) -> String {
    let om = format == Format::OpenMetrics;
    let mut out = String::new();
    for f in families {
        let t = match (f.metric_type, om) {
            (MetricType::Unknown, false) => "untyped",
            (t, _) => t.as_str(),
        };
        if om {
            let _ = writeln!(out, "# TYPE {} {t}", f.name);
            let _ = writeln!(out, "# UNIT {} {}", f.name, f.unit);
            if let Some(h) = &f.help {
                let _ = writeln!(out, "# HELP {} {}", f.name, escape(h, true));
            }
        } else {
            let _ = writeln!(out, "#\tTYPE  {} {t} ", f.name);
            if let Some(h) = &f.help {
                let _ = writeln!(out, "# HELP {} {}", f.name, escape(h, false));
            }
            out.push_str("# a comment {\"\n \t\n");
        }
    }
    for (s, st) in samples {
        let b = &st.blanks;
        let name_inside = st.braces % 4 == 3;
        let braces = name_inside || !s.labels.is_empty() || st.braces % 2 == 1;
        if !om {
            out.push_str(b[0]);
        }
        if !name_inside {
            out.push_str(&s.name);
            if !om && braces && st.braces & 4 == 4 {
                out.push_str(b[1]);
            }
        }
        if braces {
            render_labels(
                &mut out,
                name_inside.then_some(s.name.as_str()),
                &s.labels,
                st,
                om,
                false,
            );
        }
        let sep = if om {
            " "
        } else if braces && st.braces & 8 == 8 {
            ""
        } else {
            b[2]
        };
        out.push_str(sep);
        out.push_str(&render_value(s.value, st.value_form));
        if let Some(ts) = s.ts {
            if om {
                let _ = write!(out, " {}", render_om_ts(ts, st.value_form, &st.ts_extra));
            } else {
                let plus = if ts >= 0 && st.value_form & 16 == 16 {
                    "+"
                } else {
                    ""
                };
                let _ = write!(out, "{}{plus}{ts}", b[4]);
            }
        }
        match (&st.exemplar, om) {
            (Some((labels, v, ts)), true) => {
                out.push_str(" # ");
                render_labels(&mut out, None, labels, st, true, true);
                let _ = write!(out, " {}", render_value(*v, st.value_form / 3));
                if let Some(ts) = ts {
                    let _ = write!(out, " {}", render_om_ts(*ts, st.value_form / 5, ""));
                }
            }
            _ if !om => out.push_str(b[5]),
            _ => {}
        }
        out.push('\n');
    }
    if om {
        // `# EOF` with and without the optional final line feed.
        out.push_str(["# EOF\n", "# EOF"][samples.len() % 2]);
    }
    out
}

fn expected_sample(s: &Sample) -> ParsedSample {
    let pairs =
        std::iter::once(("__name__".to_owned(), s.name.clone())).chain(s.labels.iter().cloned());
    let value = if s.value.is_nan() {
        f64::from_bits(NORMAL_NAN_BITS)
    } else {
        s.value
    };
    ParsedSample {
        labels: Labels::from_pairs(pairs),
        value,
        timestamp_ms: s.ts,
    }
}

fn expected_family(f: &Family, om: bool) -> FamilyMeta {
    let help = f.help.clone().unwrap_or_default();
    let help = if om {
        help
    } else {
        help.trim_matches([' ', '\t']).to_owned()
    };
    FamilyMeta {
        name: f.name.clone(),
        metric_type: f.metric_type,
        help,
        unit: if om { f.unit.clone() } else { String::new() },
    }
}

fn check_round_trip(
    families: &[Family],
    samples: &[(Sample, Style)],
    format: Format,
) -> Result<(), TestCaseError> {
    let om = format == Format::OpenMetrics;
    // Text 0.0.4 has no UNIT and only five types.
    let families: Vec<Family> = families
        .iter()
        .filter(|f| {
            om || matches!(
                f.metric_type.as_str(),
                "counter" | "gauge" | "histogram" | "summary" | "unknown"
            )
        })
        .cloned()
        .collect();
    let body = render(&families, samples, format);
    let parsed =
        parse(body.as_bytes(), format).map_err(|e| TestCaseError::fail(format!("{e}\n{body}")))?;
    let want: Vec<_> = samples.iter().map(|(s, _)| expected_sample(s)).collect();
    prop_assert_eq!(parsed.samples.len(), want.len(), "{}", body);
    for (got, want) in parsed.samples.iter().zip(&want) {
        prop_assert_eq!(&got.labels, &want.labels, "{}", body);
        prop_assert_eq!(
            got.value.to_bits(),
            want.value.to_bits(),
            "{} vs {}\n{}",
            got.value,
            want.value,
            body
        );
        prop_assert_eq!(got.timestamp_ms, want.timestamp_ms, "{}", body);
    }
    let want: Vec<_> = families.iter().map(|f| expected_family(f, om)).collect();
    prop_assert_eq!(parsed.families, want, "{}", body);
    Ok(())
}

/// Any outcome but a panic is fine; errors must name an existing line (or
/// the one after the last, for a missing `# EOF`).
fn check_no_panic(input: &[u8]) -> Result<(), TestCaseError> {
    let max_line = input.iter().filter(|&&b| b == b'\n').count() + 2;
    for format in [Format::PrometheusText, Format::OpenMetrics] {
        match parse(input, format) {
            Ok(p) => {
                for s in &p.samples {
                    prop_assert!(s
                        .labels
                        .metric_name()
                        .is_some_and(argus_model::validate_metric_name));
                    prop_assert!(s.labels.iter().all(|l| !l.value.is_empty()));
                }
            }
            Err(e) => prop_assert!(e.line >= 1 && e.line <= max_line, "{e} (max {max_line})"),
        }
    }
    Ok(())
}

fn fragment() -> impl Strategy<Value = &'static str> {
    select(vec![
        "\n",
        " ",
        "\t",
        "#",
        "# ",
        "# EOF",
        "# EOF\n",
        "# HELP ",
        "# TYPE ",
        "# UNIT ",
        "HELP",
        "TYPE",
        "counter",
        "gauge",
        "untyped",
        "unknown",
        "{",
        "}",
        "\"",
        "\\",
        "\\\\",
        "\\\"",
        "\\n",
        "=",
        ",",
        "a",
        "m_total",
        "_created",
        "__name__",
        "le",
        ":",
        "0",
        "1",
        "-",
        "+",
        ".",
        "e",
        "E",
        "9223372036854775808",
        "1e400",
        "NaN",
        "Inf",
        "+Inf",
        "-Inf",
        "infinity",
        " # {",
        "} ",
        "\r",
        "\0",
        "\u{ff}",
        "é",
        "\u{1F600}",
    ])
}

proptest! {
    #[test]
    fn round_trip_prometheus_text(
        families in families(),
        samples in prop::collection::vec((sample(), style()), 0..12),
    ) {
        check_round_trip(&families, &samples, Format::PrometheusText)?;
    }

    #[test]
    fn round_trip_openmetrics(
        families in families(),
        samples in prop::collection::vec((sample(), style()), 0..12),
    ) {
        check_round_trip(&families, &samples, Format::OpenMetrics)?;
    }

    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..400)) {
        check_no_panic(&input)?;
    }

    #[test]
    fn fragment_soup_never_panics(parts in prop::collection::vec(fragment(), 0..60)) {
        check_no_panic(parts.concat().as_bytes())?;
    }

    #[test]
    fn mutated_bodies_never_panic(
        families in families(),
        samples in prop::collection::vec((sample(), style()), 1..6),
        om in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, fragment()), 1..6),
    ) {
        let format = if om { Format::OpenMetrics } else { Format::PrometheusText };
        let mut body = render(&families, &samples, format).into_bytes();
        for (at, op, frag) in edits {
            let i = at.index(body.len() + 1);
            match op {
                0 => body.splice(i..i, frag.bytes()).for_each(drop),
                1 if i < body.len() => { body.remove(i); }
                2 if i < body.len() => body[i] = frag.as_bytes().first().copied().unwrap_or(b'x'),
                _ => body.truncate(i),
            }
        }
        check_no_panic(&body)?;
    }
}
