//! Prometheus text format 0.0.4: line by line, blanks between tokens.

use super::lex::{
    build_labels, is_blank, is_label_start, parse_prom_timestamp, parse_value, show, unescape_help,
    Cursor, Res,
};
use super::{MetricType, Output, ParseError};
use argus_model::Label;

pub(super) fn parse(input: &[u8], out: &mut Output) -> Result<(), ParseError> {
    for (i, line) in input.split(|&b| b == b'\n').enumerate() {
        parse_line(line, out).map_err(|message| ParseError {
            line: i + 1,
            message,
        })?;
    }
    Ok(())
}

fn parse_line(line: &[u8], out: &mut Output) -> Res<()> {
    let mut c = Cursor::new(line);
    c.skip_blanks();
    match c.peek() {
        None => Ok(()),
        Some(b'#') => {
            c.pos += 1;
            comment(c, out)
        }
        Some(_) => sample(c, out),
    }
}

/// After the `#`. Only `#[ \t]+(HELP|TYPE)[ \t]+` starts a metadata line
/// (promlex.l); anything else is a comment and ignored.
fn comment(mut c: Cursor<'_>, out: &mut Output) -> Res<()> {
    if !c.skip_blanks() {
        return Ok(());
    }
    let rest = c.rest();
    let help = if rest.starts_with(b"HELP") {
        true
    } else if rest.starts_with(b"TYPE") {
        false
    } else {
        return Ok(());
    };
    c.pos += 4;
    if !c.skip_blanks() {
        return Ok(());
    }
    let what = if help { "HELP" } else { "TYPE" };
    let name = c.metadata_name(what)?;
    if c.peek().is_some_and(|b| !is_blank(b)) {
        return Err(format!(
            "invalid metric name in {what}: unexpected {}",
            show(c.rest())
        ));
    }
    c.skip_blanks();
    if help {
        let text = c.rest();
        let end = text
            .iter()
            .rposition(|&b| !is_blank(b))
            .map_or(0, |i| i + 1);
        out.family(name).help = unescape_help(&text[..end], false)?;
        return Ok(());
    }
    let tok = c.take_while(|b| !is_blank(b));
    c.skip_blanks();
    if !c.at_end() {
        return Err(format!(
            "unexpected text after metric type: {}",
            show(c.rest())
        ));
    }
    let t = match tok {
        b"counter" => MetricType::Counter,
        b"gauge" => MetricType::Gauge,
        b"histogram" => MetricType::Histogram,
        b"summary" => MetricType::Summary,
        b"untyped" => MetricType::Unknown,
        b"" => return Err(format!("missing metric type for {name:?}")),
        _ => return Err(format!("invalid metric type {}", show(tok))),
    };
    out.family(name).metric_type = t;
    Ok(())
}

/// `name [{labels}] value [timestamp]` or `{"name", labels} value [timestamp]`.
fn sample(mut c: Cursor<'_>, out: &mut Output) -> Res<()> {
    let mut name = None;
    let pairs = &mut out.scratch;
    pairs.clear();
    let mut braces = true;
    let mut separated = false;
    if let Some(n) = c.metric_name() {
        name = Some(n);
        separated = c.skip_blanks();
        braces = c.eat(b'{');
        if braces {
            labels(&mut c, &mut name, pairs)?;
        }
    } else if c.eat(b'{') {
        labels(&mut c, &mut name, pairs)?;
    } else {
        return Err(format!(
            "expected metric name or '{{', found {}",
            show(c.rest())
        ));
    }
    let Some(name) = name else {
        return Err("metric name missing in label set".to_owned());
    };
    separated |= c.skip_blanks();
    let tok = c.take_while(|b| !is_blank(b));
    if tok.is_empty() {
        return Err(format!("missing value for {name:?}"));
    }
    let value = match parse_value(tok) {
        Ok(v) => v,
        // `a.b 1`: the name ended early rather than the value being odd.
        Err(_) if !separated && !braces => {
            return Err(format!(
                "invalid metric name: unexpected {} after {name:?}",
                show(tok)
            ));
        }
        Err(e) => return Err(e),
    };
    c.skip_blanks();
    let mut timestamp_ms = None;
    if !c.at_end() {
        let tok = c.take_while(|b| !is_blank(b));
        timestamp_ms = Some(parse_prom_timestamp(tok)?);
        c.skip_blanks();
        if !c.at_end() {
            return Err(format!(
                "unexpected text after timestamp: {}",
                show(c.rest())
            ));
        }
    }
    let labels = build_labels(name, &mut out.scratch)?;
    out.push(labels, value, timestamp_ms);
    Ok(())
}

/// After `{`, through `}`. Blanks are allowed around every token; commas
/// between pairs are optional and one may trail (both as in promparse.go).
/// A quoted string followed by `,` or `}` is the metric name.
fn labels(c: &mut Cursor<'_>, name: &mut Option<String>, pairs: &mut Vec<Label>) -> Res<()> {
    loop {
        c.skip_blanks();
        let label = match c.peek() {
            Some(b'}') => {
                c.pos += 1;
                return Ok(());
            }
            Some(b'"') => {
                let s = c.quoted("quoted name")?;
                c.skip_blanks();
                if matches!(c.peek(), Some(b',' | b'}')) {
                    if name.is_some() {
                        return Err(format!("metric name given twice ({s:?})"));
                    }
                    *name = Some(s);
                    c.eat(b',');
                    continue;
                }
                s
            }
            Some(b) if is_label_start(b) => c.label_name().unwrap_or_default(),
            None => return Err("unterminated label set (missing '}')".to_owned()),
            Some(_) => return Err(format!("expected label name, found {}", show(c.rest()))),
        };
        c.skip_blanks();
        if !c.eat(b'=') {
            return Err(format!(
                "expected '=' after label name {label:?}, found {}",
                show(c.rest())
            ));
        }
        c.skip_blanks();
        if c.peek() != Some(b'"') {
            return Err(format!(
                "expected quoted label value for {label:?}, found {}",
                show(c.rest())
            ));
        }
        let value = c.quoted("label value")?;
        pairs.push(Label { name: label, value });
        c.skip_blanks();
        c.eat(b',');
    }
}
