//! Parsing of promqltest scripts into commands (`load`, `clear`, `eval`).

use argus_model::{parse_duration, Labels};
use regex::Regex;

use super::series_notation::{parse_number, parse_quoted, parse_series_desc, SeqValue};

/// A script command. A command that failed to parse is kept as `Invalid` so the
/// runner can count it (for `eval`) instead of giving up on the whole file.
#[derive(Debug)]
pub enum Command {
    Load {
        line: usize,
        interval_ms: i64,
        series: Vec<(Labels, Vec<SeqValue>)>,
        /// `load_with_nhcb`: classic histograms are also loaded as NHCB native histograms.
        with_nhcb: bool,
        error: Option<String>,
    },
    Clear,
    Eval(Box<EvalCmd>),
    Invalid {
        line: usize,
        is_eval: bool,
        error: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKind {
    Ordered,
    Fail,
    Warn,
    NoWarn,
    Info,
    NoInfo,
}

/// An `expect` line: with neither message nor regex it matches anything.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub msg: Option<String>,
    pub regex: Option<Regex>,
}

impl Expectation {
    pub fn matches(&self, s: &str) -> bool {
        match (&self.msg, &self.regex) {
            (Some(m), _) => m == s,
            (None, Some(r)) => r.is_match(s),
            (None, None) => true,
        }
    }

    pub fn describe(&self) -> String {
        match (&self.msg, &self.regex) {
            (Some(m), _) => format!("msg {m:?}"),
            (None, Some(r)) => format!("regex {:?}", r.as_str()),
            (None, None) => "anything".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Expected {
    /// No expectation lines at all (empty result).
    None,
    Scalar(f64),
    String(String),
    /// Series with their values and their 1-based position (for ordered checks).
    Series(Vec<(Labels, Vec<SeqValue>, usize)>),
}

#[derive(Debug, Clone)]
pub struct EvalCmd {
    pub line: usize,
    pub expr: String,
    pub is_range: bool,
    pub start: i64,
    pub end: i64,
    pub step: i64,
    /// Old-style modifiers: eval_fail, eval_warn, eval_info, eval_ordered.
    pub old_fail: bool,
    pub old_warn: bool,
    pub old_info: bool,
    pub old_ordered: bool,
    pub expected_fail_message: Option<String>,
    pub expected_fail_regexp: Option<Regex>,
    pub expects: Vec<Expectation>,
    pub expected: Expected,
    /// `expect range vector from .. to .. step ..` on an instant query.
    pub range_vector: Option<(i64, i64, i64)>,
    pub exclude_from_range_query: bool,
}

impl EvalCmd {
    pub fn is_fail(&self) -> bool {
        self.old_fail || self.expects.iter().any(|e| e.kind == ExpectKind::Fail)
    }
    pub fn is_ordered(&self) -> bool {
        self.old_ordered || self.expects.iter().any(|e| e.kind == ExpectKind::Ordered)
    }
    pub fn of_kind(&self, k: ExpectKind) -> Vec<&Expectation> {
        self.expects.iter().filter(|e| e.kind == k).collect()
    }
}

struct Patterns {
    load: Regex,
    instant: Regex,
    range: Regex,
    expect: Regex,
    expect_range: Regex,
}

fn patterns() -> Patterns {
    Patterns {
        load: Regex::new(r"^load(?:_(with_nhcb))?\s+(.+?)$").expect("valid regex"),
        instant: Regex::new(
            r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$",
        )
        .expect("valid regex"),
        range: Regex::new(
            r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$",
        )
        .expect("valid regex"),
        expect: Regex::new(
            r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$",
        )
        .expect("valid regex"),
        expect_range: Regex::new(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
            .expect("valid regex"),
    }
}

/// Durations in scripts (`1m`, `0`, `10s53ms`); a leading `-` is allowed.
pub(super) fn duration_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let d = parse_duration(body).map_err(|e| e.to_string())?;
    let ms = d.as_millis() as i64;
    Ok(if neg { -ms } else { ms })
}

/// Splits a script into commands. Lines are trimmed and `#` comments removed, as in Prometheus.
pub fn parse_script(input: &str) -> Vec<Command> {
    let p = patterns();
    let lines: Vec<String> = input
        .split('\n')
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                String::new()
            } else {
                l.to_string()
            }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let word = l
            .split([' ', '\t'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if word == "clear" {
            cmds.push(Command::Clear);
            i += 1;
        } else if word.starts_with("load") {
            let (next, cmd) = parse_load(&p, &lines, i);
            cmds.push(cmd);
            i = next;
        } else if word.starts_with("eval") {
            let (next, cmd) = parse_eval(&p, &lines, i);
            cmds.push(cmd);
            i = next;
        } else {
            cmds.push(Command::Invalid {
                line: i + 1,
                is_eval: false,
                error: format!("invalid command {l:?}"),
            });
            i += 1;
        }
    }
    cmds
}

/// Index of the first line after a block starting at `i` (the block ends at an empty line).
fn block_end(lines: &[String], i: usize) -> usize {
    let mut j = i + 1;
    while j < lines.len() && !lines[j].is_empty() {
        j += 1;
    }
    j
}

fn parse_load(p: &Patterns, lines: &[String], i: usize) -> (usize, Command) {
    let end = block_end(lines, i);
    let Some(c) = p.load.captures(&lines[i]) else {
        return (
            end,
            Command::Invalid {
                line: i + 1,
                is_eval: false,
                error: "invalid load command".into(),
            },
        );
    };
    let interval_ms = match duration_ms(&c[2]) {
        Ok(v) => v,
        Err(e) => {
            return (
                end,
                Command::Invalid {
                    line: i + 1,
                    is_eval: false,
                    error: e,
                },
            )
        }
    };
    let mut series = Vec::new();
    let mut error = None;
    for (j, line) in lines.iter().enumerate().take(end).skip(i + 1) {
        match parse_series_desc(line) {
            Ok(s) => series.push(s),
            Err(e) => {
                error.get_or_insert(format!("line {}: {e}", j + 1));
            }
        }
    }
    (
        end,
        Command::Load {
            line: i + 1,
            interval_ms,
            series,
            with_nhcb: c.get(1).is_some(),
            error,
        },
    )
}

fn parse_eval(p: &Patterns, lines: &[String], i: usize) -> (usize, Command) {
    let end = block_end(lines, i);
    match parse_eval_inner(p, lines, i, end) {
        Ok(cmd) => (end, Command::Eval(Box::new(cmd))),
        Err(error) => (
            end,
            Command::Invalid {
                line: i + 1,
                is_eval: true,
                error,
            },
        ),
    }
}

fn parse_eval_inner(
    p: &Patterns,
    lines: &[String],
    i: usize,
    end: usize,
) -> Result<EvalCmd, String> {
    let line = &lines[i];
    let (modifier, expr, is_range, start, stop, step) = if let Some(c) = p.instant.captures(line) {
        let at = c.get(2).map(|m| m.as_str()).unwrap_or("0");
        let t = duration_ms(at)?;
        (
            c.get(1).map(|m| m.as_str().to_string()),
            c[3].to_string(),
            false,
            t,
            t,
            0,
        )
    } else if let Some(c) = p.range.captures(line) {
        let (from, to, step) = (
            duration_ms(&c[2])?,
            duration_ms(&c[3])?,
            duration_ms(&c[4])?,
        );
        if to < from {
            return Err("end timestamp is before start timestamp".into());
        }
        (
            c.get(1).map(|m| m.as_str().to_string()),
            c[5].to_string(),
            true,
            from,
            to,
            step,
        )
    } else {
        return Err("invalid evaluation command".into());
    };
    let mut cmd = EvalCmd {
        line: i + 1,
        expr,
        is_range,
        start,
        end: stop,
        step,
        old_fail: modifier.as_deref() == Some("fail"),
        old_warn: modifier.as_deref() == Some("warn"),
        old_info: modifier.as_deref() == Some("info"),
        old_ordered: modifier.as_deref() == Some("ordered"),
        expected_fail_message: None,
        expected_fail_regexp: None,
        expects: Vec::new(),
        expected: Expected::None,
        range_vector: None,
        exclude_from_range_query: false,
    };
    let mut series = Vec::new();
    let mut pos = 0;
    for def in lines.iter().take(end).skip(i + 1) {
        pos += 1;
        if cmd.old_fail {
            if let Some(m) = def.strip_prefix("expected_fail_message") {
                cmd.expected_fail_message = Some(m.trim().to_string());
                break;
            }
            if let Some(r) = def.strip_prefix("expected_fail_regexp") {
                cmd.expected_fail_regexp = Some(Regex::new(r.trim()).map_err(|e| e.to_string())?);
                break;
            }
        }
        if def.starts_with("expect range vector") {
            let c = p
                .expect_range
                .captures(def)
                .ok_or("invalid range vector definition")?;
            let (from, to, st) = (
                duration_ms(&c[1])?,
                duration_ms(&c[2])?,
                duration_ms(&c[3])?,
            );
            cmd.range_vector = Some((from, to, st));
            cmd.start = from;
            cmd.end = to;
            cmd.step = st;
            cmd.exclude_from_range_query = true;
            continue;
        }
        if def.starts_with("expect string") {
            let rest = def.strip_prefix("expect string").unwrap_or("").trim_start();
            let (s, tail) = parse_quoted(rest)
                .map_err(|e| format!("expected string literal not valid: {e}"))?;
            if !tail.trim().is_empty() {
                return Err("expected string literal not valid".into());
            }
            cmd.expected = Expected::String(s);
            cmd.exclude_from_range_query = true;
            continue;
        }
        if def.split(' ').next() == Some("expect") {
            let c = p
                .expect
                .captures(def.trim())
                .ok_or_else(|| format!("invalid expect statement {def:?}"))?;
            let kind = match &c[1] {
                "ordered" => ExpectKind::Ordered,
                "fail" => ExpectKind::Fail,
                "warn" => ExpectKind::Warn,
                "no_warn" => ExpectKind::NoWarn,
                "info" => ExpectKind::Info,
                _ => ExpectKind::NoInfo,
            };
            let mut e = Expectation {
                kind,
                msg: None,
                regex: None,
            };
            match c.get(2).map(|m| m.as_str()) {
                Some("msg") => e.msg = Some(c[3].trim().to_string()),
                Some(_) => e.regex = Some(Regex::new(c[3].trim()).map_err(|err| err.to_string())?),
                None => {}
            }
            cmd.expects.push(e);
            pos -= 1;
            continue;
        }
        if let Some(f) = parse_number(def) {
            cmd.expected = Expected::Scalar(f);
            break;
        }
        let (labels, vals) = parse_series_desc(def)?;
        if vals.len() > 1 && !is_range && cmd.range_vector.is_none() {
            return Err("expecting multiple values in instant evaluation not allowed".into());
        }
        series.push((labels, vals, pos));
    }
    if !series.is_empty() {
        cmd.expected = Expected::Series(series);
    }
    Ok(cmd)
}
