//! OpenMetrics 1.0 text: the ABNF of the spec, single spaces, `# EOF`.

use super::lex::{
    build_labels, is_label_start, parse_om_timestamp, parse_value, show, unescape_help, Cursor, Res,
};
use super::{MetricType, Output, ParseError};
use argus_model::Label;

pub(super) fn parse(input: &[u8], out: &mut Output) -> Result<(), ParseError> {
    let mut pos = 0;
    let mut line_no = 0;
    while pos < input.len() {
        line_no += 1;
        let end = input[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(input.len(), |i| pos + i);
        let line = &input[pos..end];
        if line == b"# EOF" {
            // `exposition = metricset HASH SP eof [ LF ]`: nothing may follow.
            if end + 1 < input.len() {
                return Err(ParseError {
                    line: line_no + 1,
                    message: "unexpected data after # EOF".to_owned(),
                });
            }
            return Ok(());
        }
        parse_line(line, out).map_err(|message| ParseError {
            line: line_no,
            message,
        })?;
        pos = end + 1;
    }
    Err(ParseError {
        line: line_no + 1,
        message: "missing # EOF at end of input".to_owned(),
    })
}

fn parse_line(line: &[u8], out: &mut Output) -> Res<()> {
    match line.first() {
        None => Err("blank lines are not allowed in OpenMetrics".to_owned()),
        Some(b'#') => metadata(line, out),
        Some(_) => sample(line, out),
    }
}

/// `# HELP name text`, `# TYPE name type`, `# UNIT name unit`.
fn metadata(line: &[u8], out: &mut Output) -> Res<()> {
    let body = line.strip_prefix(b"# ").unwrap_or_default();
    let (what, rest) = if let Some(r) = body.strip_prefix(b"HELP ") {
        ("HELP", r)
    } else if let Some(r) = body.strip_prefix(b"TYPE ") {
        ("TYPE", r)
    } else if let Some(r) = body.strip_prefix(b"UNIT ") {
        ("UNIT", r)
    } else if line.starts_with(b"# EOF") {
        return Err(format!("invalid # EOF line {}", show(line)));
    } else {
        return Err(format!(
            "invalid comment line {}: OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF",
            show(line)
        ));
    };
    let mut c = Cursor::new(rest);
    let name = c.metadata_name(what)?;
    if !c.eat(b' ') {
        return Err(format!(
            "expected a space and the {what} text after {name:?}, found {}",
            show(c.rest())
        ));
    }
    let text = c.rest();
    match what {
        "HELP" => out.family(name).help = unescape_help(text, true)?,
        "TYPE" => {
            let t = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"gaugehistogram" => MetricType::GaugeHistogram,
                b"summary" => MetricType::Summary,
                b"info" => MetricType::Info,
                b"stateset" => MetricType::StateSet,
                b"unknown" => MetricType::Unknown,
                _ => return Err(format!("invalid metric type {}", show(text))),
            };
            out.family(name).metric_type = t;
        }
        _ => {
            // A non-empty unit must be a suffix of the name after an `_`.
            let ok = text.is_empty()
                || (name.len() > text.len()
                    && name.as_bytes().ends_with(text)
                    && name.as_bytes()[name.len() - text.len() - 1] == b'_');
            if !ok {
                return Err(format!(
                    "unit {} is not a suffix of metric name {name:?}",
                    show(text)
                ));
            }
            // A suffix of a valid metric name is ASCII.
            out.family(name).unit = String::from_utf8_lossy(text).into_owned();
        }
    }
    Ok(())
}

/// `name[{labels}] SP value [SP timestamp] [SP # SP {labels} SP value [SP timestamp]]`.
fn sample(line: &[u8], out: &mut Output) -> Res<()> {
    let mut c = Cursor::new(line);
    let mut name = None;
    let pairs = &mut out.scratch;
    pairs.clear();
    if let Some(n) = c.metric_name() {
        name = Some(n);
        if c.eat(b'{') {
            labels(&mut c, Some(&mut name), pairs)?;
        }
    } else if c.eat(b'{') {
        labels(&mut c, Some(&mut name), pairs)?;
    } else {
        return Err(format!("expected metric name, found {}", show(line)));
    }
    let Some(name) = name else {
        return Err("metric name missing in label set".to_owned());
    };
    if !c.eat(b' ') {
        return Err(if c.at_end() {
            format!("missing value for {name:?}")
        } else {
            format!(
                "expected a space before the value of {name:?}, found {}",
                show(c.rest())
            )
        });
    }
    let value = parse_value(token(&mut c, "value")?)?;
    let mut timestamp_ms = None;
    if c.eat(b' ') {
        if !at_exemplar(&c) {
            timestamp_ms = Some(parse_om_timestamp(token(&mut c, "timestamp")?)?);
            if c.eat(b' ') && !at_exemplar(&c) {
                return Err(format!(
                    "unexpected text after timestamp: {}",
                    show(c.rest())
                ));
            }
        }
        if at_exemplar(&c) {
            exemplar(&mut c)?;
        }
    }
    if !c.at_end() {
        return Err(format!("unexpected text after sample: {}", show(c.rest())));
    }
    let labels = build_labels(name, &mut out.scratch)?;
    out.push(labels, value, timestamp_ms);
    Ok(())
}

/// A non-empty run of non-space bytes.
fn token<'a>(c: &mut Cursor<'a>, what: &str) -> Res<&'a [u8]> {
    let tok = c.take_while(|b| b != b' ');
    if tok.is_empty() {
        return Err(format!("missing {what} (extra space?)"));
    }
    Ok(tok)
}

fn at_exemplar(c: &Cursor<'_>) -> bool {
    c.rest().starts_with(b"# {")
}

/// `# {labels} SP value [SP timestamp]` to the end of the line; parsed,
/// checked and dropped.
fn exemplar(c: &mut Cursor<'_>) -> Res<()> {
    c.pos += 3;
    let mut pairs = Vec::new();
    labels(c, None, &mut pairs).map_err(|e| format!("exemplar: {e}"))?;
    if !c.eat(b' ') {
        return Err(format!(
            "exemplar: expected a space and a value, found {}",
            show(c.rest())
        ));
    }
    parse_value(token(c, "exemplar value")?).map_err(|e| format!("exemplar: {e}"))?;
    if c.eat(b' ') {
        parse_om_timestamp(token(c, "exemplar timestamp")?)
            .map_err(|e| format!("exemplar: {e}"))?;
    }
    Ok(())
}

/// After `{`, through `}`: `label *("," label)`, no blanks. A quoted string
/// followed by `,` or `}` is the metric name (sample labels only: `name` is
/// `None` for exemplars, which also take no quoted label names). A trailing
/// comma is accepted, as Prometheus does.
fn labels(
    c: &mut Cursor<'_>,
    mut name: Option<&mut Option<String>>,
    pairs: &mut Vec<Label>,
) -> Res<()> {
    if c.eat(b'}') {
        return Ok(());
    }
    loop {
        let label = match (c.peek(), name.as_deref_mut()) {
            (Some(b'"'), Some(name)) => {
                let s = c.quoted("quoted name")?;
                if matches!(c.peek(), Some(b',' | b'}')) {
                    if name.is_some() {
                        return Err(format!("metric name given twice ({s:?})"));
                    }
                    *name = Some(s);
                    None
                } else {
                    Some(s)
                }
            }
            (Some(b), _) if is_label_start(b) => c.label_name(),
            (None, _) => return Err("unterminated label set (missing '}')".to_owned()),
            (Some(_), _) => return Err(format!("expected label name, found {}", show(c.rest()))),
        };
        if let Some(label) = label {
            if !c.eat(b'=') {
                return Err(format!(
                    "expected '=' after label name {label:?}, found {}",
                    show(c.rest())
                ));
            }
            if c.peek() != Some(b'"') {
                return Err(format!(
                    "expected quoted label value for {label:?}, found {}",
                    show(c.rest())
                ));
            }
            let value = c.quoted("label value")?;
            pairs.push(Label { name: label, value });
        }
        match c.peek() {
            Some(b',') => {
                c.pos += 1;
                if c.eat(b'}') {
                    return Ok(());
                }
            }
            Some(b'}') => {
                c.pos += 1;
                return Ok(());
            }
            None => return Err("unterminated label set (missing '}')".to_owned()),
            Some(_) => {
                return Err(format!(
                    "expected ',' or '}}' after label, found {}",
                    show(c.rest())
                ))
            }
        }
    }
}
