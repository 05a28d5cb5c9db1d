//! A compiled log pipeline: the stages of a [`LogExpr`] applied to one entry.

use super::labels::{Category, EntryLabels, LabelState};
use super::parsers::{self, PathSeg};
use super::pattern::Pattern;
use super::template::{Ctx, Template};
use super::EvalError;
use crate::ast::*;
use argus_model::Labels;
use regex::Regex;
use std::borrow::Cow;
use std::sync::Arc;

const ERR_LABEL_FILTER: &str = "LabelFilterErr";
const ERR_TEMPLATE: &str = "TemplateFormatErr";

#[derive(Debug)]
enum LineMatch {
    Contains(String),
    Regex(Regex),
    Pattern(Pattern),
}

impl LineMatch {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatch::Contains(s) => line.contains(s.as_str()),
            LineMatch::Regex(r) => r.is_match(line),
            LineMatch::Pattern(p) => p.test(line),
        }
    }
}

#[derive(Debug)]
struct CLineFilter {
    negated: bool,
    alts: Vec<LineMatch>,
}

#[derive(Debug)]
enum CLabelFilter {
    Str(String, argus_model::Matcher),
    Num(String, CmpOp, f64),
    Dur(String, CmpOp, i64),
    Bytes(String, CmpOp, u64),
    And(Vec<CLabelFilter>),
    Or(Vec<CLabelFilter>),
}

#[derive(Debug)]
enum LfValue {
    Rename(String),
    Tpl(Template),
}

#[derive(Debug)]
enum Sel {
    Name(String),
    Matcher(String, argus_model::Matcher),
}

#[derive(Debug)]
enum CStage {
    Line(CLineFilter),
    /// `| json`, and the label filters right after it (stages up to
    /// `filters_end`) with the parsed label names they can see (`names`,
    /// empty when there is no such filter): see
    /// [`Pipeline::filters_drop`].
    JsonAll {
        names: Vec<String>,
        filters_end: usize,
    },
    JsonPaths(Vec<(String, Vec<PathSeg>)>),
    Logfmt {
        strict: bool,
        keep_empty: bool,
        params: Vec<(String, String)>,
    },
    /// The regex and its named groups, with their sanitized names.
    Regexp(Regex, Vec<(String, String)>),
    Pattern(Pattern),
    Unpack,
    Label(CLabelFilter),
    LineFormat(Template),
    LabelFormat(Vec<(String, LfValue)>),
    Drop(Vec<Sel>),
    Keep(Vec<Sel>),
    Decolorize(Regex),
}

/// A compiled pipeline. Regexes and templates are compiled once.
#[derive(Debug)]
pub struct Pipeline {
    stages: Vec<CStage>,
}

/// What a pipeline made of an entry: the line is borrowed unless a stage
/// rewrote it.
#[derive(Debug, Clone)]
pub(crate) struct Output<'a> {
    pub(crate) line: Cow<'a, str>,
    pub(crate) labels: LabelState<'a>,
}

fn bad(msg: impl Into<String>) -> EvalError {
    EvalError::BadQuery(msg.into())
}

pub(crate) fn to_model_matcher(m: &Matcher) -> Result<argus_model::Matcher, EvalError> {
    let op = match m.op {
        MatchOp::Eq => argus_model::MatchOp::Equal,
        MatchOp::Neq => argus_model::MatchOp::NotEqual,
        MatchOp::Re => argus_model::MatchOp::Regex,
        MatchOp::Nre => argus_model::MatchOp::NotRegex,
    };
    argus_model::Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| bad(e.to_string()))
}

fn compile_label_filter(f: &LabelFilter) -> Result<CLabelFilter, EvalError> {
    Ok(match f {
        LabelFilter::Matcher(m) => CLabelFilter::Str(m.name.clone(), to_model_matcher(m)?),
        LabelFilter::Ip { .. } => {
            return Err(EvalError::Unsupported("ip() label filters".into()));
        }
        LabelFilter::Number { name, op, value } => CLabelFilter::Num(name.clone(), *op, *value),
        LabelFilter::Duration { name, op, value } => CLabelFilter::Dur(name.clone(), *op, *value),
        LabelFilter::Bytes { name, op, value } => CLabelFilter::Bytes(name.clone(), *op, *value),
        LabelFilter::And(v) => CLabelFilter::And(
            v.iter()
                .map(compile_label_filter)
                .collect::<Result<_, _>>()?,
        ),
        LabelFilter::Or(v) => CLabelFilter::Or(
            v.iter()
                .map(compile_label_filter)
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn cmp<T: PartialOrd>(op: CmpOp, a: T, b: T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Neq => a != b,
        CmpOp::Gt => a > b,
        CmpOp::Gte => a >= b,
        CmpOp::Lt => a < b,
        CmpOp::Lte => a <= b,
    }
}

/// Go's `strconv.ParseFloat` message.
pub(crate) fn parse_float_err(v: &str) -> String {
    format!("strconv.ParseFloat: parsing {}: invalid syntax", quoted(v))
}

pub(crate) fn quoted(v: &str) -> String {
    let mut s = String::new();
    super::labels::go_quote(&mut s, v);
    s
}

/// Go's `strconv.ParseFloat`, roughly (Rust also accepts `inf`, `nan`).
pub(crate) fn parse_go_float(v: &str) -> Option<f64> {
    let t = v.strip_prefix('+').unwrap_or(v);
    if t.starts_with(['+', '-']) && v.starts_with('+') {
        return None;
    }
    v.parse::<f64>().ok()
}

impl CLabelFilter {
    /// The names of the labels the filter reads.
    fn names(&self, out: &mut Vec<String>) {
        match self {
            CLabelFilter::Str(n, _)
            | CLabelFilter::Num(n, _, _)
            | CLabelFilter::Dur(n, _, _)
            | CLabelFilter::Bytes(n, _, _) => {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
            CLabelFilter::And(v) | CLabelFilter::Or(v) => v.iter().for_each(|f| f.names(out)),
        }
    }

    fn process(&self, lbs: &mut LabelState<'_>) -> bool {
        match self {
            CLabelFilter::Str(name, m) => m.matches(lbs.get(name).unwrap_or("")),
            CLabelFilter::Num(name, op, want) => {
                let Some(v) = lbs.get(name) else { return false };
                match parse_go_float(v) {
                    Some(x) => cmp(*op, x, *want),
                    None => {
                        if !lbs.has_err() {
                            let d = parse_float_err(v);
                            lbs.set_err(ERR_LABEL_FILTER, Some(d));
                        }
                        true
                    }
                }
            }
            CLabelFilter::Dur(name, op, want) => {
                let Some(v) = lbs.get(name) else { return false };
                match crate::units::parse_go_duration(v) {
                    Some(x) => cmp(*op, x, *want),
                    None => {
                        if !lbs.has_err() {
                            let d = format!("time: invalid duration {}", quoted(v));
                            lbs.set_err(ERR_LABEL_FILTER, Some(d));
                        }
                        true
                    }
                }
            }
            CLabelFilter::Bytes(name, op, want) => {
                let Some(v) = lbs.get(name) else { return false };
                match crate::units::parse_bytes(v) {
                    Some(x) => cmp(*op, x, *want),
                    None => {
                        if !lbs.has_err() {
                            let d = parse_float_err(v);
                            lbs.set_err(ERR_LABEL_FILTER, Some(d));
                        }
                        true
                    }
                }
            }
            CLabelFilter::And(v) => {
                let mut ok = true;
                for f in v {
                    ok &= f.process(lbs);
                }
                ok
            }
            CLabelFilter::Or(v) => {
                for f in v {
                    if f.process(lbs) {
                        return true;
                    }
                }
                false
            }
        }
    }
}

fn compile_sel(s: &LabelSelection) -> Result<Sel, EvalError> {
    Ok(match s {
        LabelSelection::Name(n) => Sel::Name(n.clone()),
        LabelSelection::Matcher(m) => Sel::Matcher(m.name.clone(), to_model_matcher(m)?),
    })
}

fn compile_template(t: &str, stage: &str) -> Result<Template, EvalError> {
    Template::parse(t).map_err(|e| bad(format!("stage '{stage}' : {e}")))
}

/// Is this stage one that leaves the line as it is (so that a line filter
/// after it still filters the stored line)? Parsers (but `unpack`), label
/// filters and label changes keep the line; `line_format`, `unpack` and
/// `decolorize` rewrite it.
fn keeps_line(s: &Stage) -> bool {
    match s {
        Stage::LineFilter(_)
        | Stage::LabelFilter(_)
        | Stage::LabelFormat(_)
        | Stage::Drop(_)
        | Stage::Keep(_) => true,
        Stage::Parser(p) => !matches!(p, LogParser::Unpack),
        Stage::LineFormat(_) | Stage::Decolorize => false,
    }
}

/// Does any stage read the line? Label filters, `drop` and `keep` read
/// labels only; everything else may read it (`label_format` templates can
/// name `__line__`).
pub(crate) fn reads_line(pipeline: &[Stage]) -> bool {
    !pipeline
        .iter()
        .all(|s| matches!(s, Stage::LabelFilter(_) | Stage::Drop(_) | Stage::Keep(_)))
}

/// The keys of a pipeline that reads the line only through a leading
/// `| json a="k1", b="k2"` of top-level keys, then labels only: a store
/// that kept those members as columns may give `{"k1":"v1","k2":"v2"}` of
/// the values the stage would extract in place of each line
/// (`LogSelect::json_keys`), which this pipeline reads the same.
pub(crate) fn json_keys(pipeline: &[Stage]) -> Option<Vec<String>> {
    let (Stage::Parser(LogParser::Json(params)), rest) = pipeline.split_first()? else {
        return None;
    };
    if params.is_empty() || reads_line(rest) {
        return None;
    }
    let mut keys = Vec::new();
    for p in params {
        let expr = p.path.as_ref().unwrap_or(&p.name);
        match parsers::parse_json_path(expr)?.as_slice() {
            [PathSeg::Key(k)] => keys.push(k.clone()),
            _ => return None,
        }
    }
    keys.sort();
    keys.dedup();
    Some(keys)
}

/// Substrings every line a query keeps contains, from its line filters
/// before any stage that changes the line: `|= "text"` (one alternative)
/// and the literals every match of a `|~` regex contains (case-sensitive
/// parts only). The store may use them to skip blocks.
pub(crate) fn required_literals(pipeline: &[Stage]) -> Vec<String> {
    let mut out = Vec::new();
    for s in pipeline {
        if !keeps_line(s) {
            break;
        }
        let Stage::LineFilter(f) = s else { continue };
        if f.values.len() != 1 {
            continue;
        }
        let LineFilterValue::Text(t) = &f.values[0] else {
            continue;
        };
        match f.op {
            LineFilterOp::Contains if !t.is_empty() => out.push(t.clone()),
            LineFilterOp::Match => out.extend(regex_required(t)),
            _ => {}
        }
    }
    out
}

/// Literals (3 bytes or longer) that every match of `re` contains.
fn regex_required(re: &str) -> Vec<String> {
    use regex_syntax::hir::{Hir, HirKind, Literal};
    fn walk(h: &Hir, out: &mut Vec<String>) {
        match h.kind() {
            HirKind::Literal(Literal(b)) => {
                if let Ok(s) = std::str::from_utf8(b) {
                    if s.len() >= 3 {
                        out.push(s.to_string());
                    }
                }
            }
            HirKind::Capture(c) => walk(&c.sub, out),
            HirKind::Repetition(r) if r.min >= 1 => walk(&r.sub, out),
            HirKind::Concat(parts) => {
                // Adjacent literals join into one longer literal.
                let mut run = Vec::new();
                for p in parts {
                    if let HirKind::Literal(Literal(b)) = p.kind() {
                        run.extend_from_slice(b);
                        continue;
                    }
                    flush(&mut run, out);
                    walk(p, out);
                }
                flush(&mut run, out);
            }
            _ => {}
        }
    }
    fn flush(run: &mut Vec<u8>, out: &mut Vec<String>) {
        if let Ok(s) = std::str::from_utf8(run) {
            if s.len() >= 3 {
                out.push(s.to_string());
            }
        }
        run.clear();
    }
    let mut out = Vec::new();
    if let Ok(hir) = regex_syntax::Parser::new().parse(re) {
        walk(&hir, &mut out);
    }
    out
}

/// ANSI colour and OSC sequences.
fn decolorize_regex() -> Result<Regex, EvalError> {
    Regex::new(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\][^\x07]*\x07").map_err(|e| bad(e.to_string()))
}

impl Pipeline {
    /// Compiles `stages` (and the post-unwrap filters, when given).
    pub fn compile(stages: &[Stage]) -> Result<Pipeline, EvalError> {
        let mut out = Vec::with_capacity(stages.len());
        for s in stages {
            out.push(match s {
                Stage::LineFilter(f) => {
                    let negated = matches!(
                        f.op,
                        LineFilterOp::NotContains
                            | LineFilterOp::NotMatch
                            | LineFilterOp::NotPattern
                    );
                    let mut alts = Vec::new();
                    for v in &f.values {
                        let LineFilterValue::Text(t) = v else {
                            return Err(EvalError::Unsupported("ip() line filters".into()));
                        };
                        alts.push(match f.op {
                            LineFilterOp::Contains | LineFilterOp::NotContains => {
                                LineMatch::Contains(t.clone())
                            }
                            LineFilterOp::Match | LineFilterOp::NotMatch => LineMatch::Regex(
                                Regex::new(t)
                                    .map_err(|e| bad(format!("invalid regex {t:?}: {e}")))?,
                            ),
                            LineFilterOp::Pattern | LineFilterOp::NotPattern => {
                                let p = Pattern::parse(t);
                                p.validate_filter().map_err(|e| bad(e.to_string()))?;
                                LineMatch::Pattern(p)
                            }
                        });
                    }
                    CStage::Line(CLineFilter { negated, alts })
                }
                Stage::Parser(LogParser::Json(params)) if params.is_empty() => CStage::JsonAll {
                    names: Vec::new(),
                    filters_end: 0,
                },
                Stage::Parser(LogParser::Json(params)) => {
                    let mut v = Vec::new();
                    for p in params {
                        let expr = p.path.clone().unwrap_or_else(|| p.name.clone());
                        let path = parsers::parse_json_path(&expr)
                            .ok_or_else(|| bad(format!("cannot parse expression [{expr}]")))?;
                        v.push((p.name.clone(), path));
                    }
                    CStage::JsonPaths(v)
                }
                Stage::Parser(LogParser::Logfmt {
                    strict,
                    keep_empty,
                    params,
                }) => CStage::Logfmt {
                    strict: *strict,
                    keep_empty: *keep_empty,
                    params: params
                        .iter()
                        .map(|p| {
                            (
                                p.name.clone(),
                                p.path.clone().unwrap_or_else(|| p.name.clone()),
                            )
                        })
                        .collect(),
                },
                Stage::Parser(LogParser::Regexp(re)) => {
                    let r =
                        Regex::new(re).map_err(|e| bad(format!("invalid regex {re:?}: {e}")))?;
                    if !r.capture_names().any(|n| n.is_some()) {
                        return Err(bad("at least one named capture must be supplied"));
                    }
                    let names = r
                        .capture_names()
                        .flatten()
                        .map(|n| (n.to_string(), parsers::sanitize_key(n)))
                        .collect();
                    CStage::Regexp(r, names)
                }
                Stage::Parser(LogParser::Pattern(p)) => {
                    let pat = Pattern::parse(p);
                    pat.validate_parser().map_err(|e| bad(e.to_string()))?;
                    CStage::Pattern(pat)
                }
                Stage::Parser(LogParser::Unpack) => CStage::Unpack,
                Stage::LabelFilter(f) => CStage::Label(compile_label_filter(f)?),
                Stage::LineFormat(t) => CStage::LineFormat(compile_template(t, "line_format")?),
                Stage::LabelFormat(v) => {
                    let mut out = Vec::new();
                    for f in v {
                        out.push((
                            f.name.clone(),
                            match &f.value {
                                LabelFormatValue::Rename(src) => LfValue::Rename(src.clone()),
                                LabelFormatValue::Template(t) => {
                                    LfValue::Tpl(compile_template(t, "label_format")?)
                                }
                            },
                        ));
                    }
                    CStage::LabelFormat(out)
                }
                Stage::Drop(v) => {
                    CStage::Drop(v.iter().map(compile_sel).collect::<Result<_, _>>()?)
                }
                Stage::Keep(v) => {
                    CStage::Keep(v.iter().map(compile_sel).collect::<Result<_, _>>()?)
                }
                Stage::Decolorize => CStage::Decolorize(decolorize_regex()?),
            });
        }
        for i in 0..out.len() {
            if !matches!(out[i], CStage::JsonAll { .. }) {
                continue;
            }
            let mut names = Vec::new();
            let mut end = i + 1;
            while let Some(CStage::Label(f)) = out.get(end) {
                f.names(&mut names);
                end += 1;
            }
            // A parsed label named `x_extracted` may come from a key `x`.
            let stems: Vec<String> = names
                .iter()
                .filter_map(|n| n.strip_suffix(parsers::DUPLICATE_SUFFIX))
                .map(str::to_string)
                .collect();
            names.extend(stems);
            out[i] = CStage::JsonAll {
                names,
                filters_end: end,
            };
        }
        Ok(Pipeline { stages: out })
    }

    /// Do the label filters `from..to` (those right after a `| json` that
    /// parsed `kv`) drop the entry? They are run on a copy of the labels
    /// given only the parsed labels they can see, which have the values the
    /// whole of `kv` would give them: an entry they drop is dropped without
    /// setting every label (they run again on the real labels otherwise).
    fn filters_drop<'s>(
        &self,
        from: usize,
        to: usize,
        names: &[String],
        kv: &[parsers::CowPair<'s>],
        mut tmp: LabelState<'s>,
    ) -> bool {
        for (k, v) in kv {
            if names.iter().any(|n| n == k) {
                tmp.set_parsed(k.clone(), v.clone());
            }
        }
        self.stages[from..to].iter().any(|s| match s {
            CStage::Label(f) => !f.process(&mut tmp),
            _ => false,
        })
    }

    /// Appends label filters (the filters after `unwrap`).
    pub(crate) fn compile_filters(filters: &[LabelFilter]) -> Result<Pipeline, EvalError> {
        let stages = filters
            .iter()
            .map(|f| compile_label_filter(f).map(CStage::Label))
            .collect::<Result<_, _>>()?;
        Ok(Pipeline { stages })
    }

    /// Runs the pipeline on one entry.
    pub(crate) fn process<'a>(
        &'a self,
        ts_ns: i64,
        line: &'a str,
        stream: &'a Labels,
        metadata: &'a [(String, String)],
    ) -> Option<Output<'a>> {
        let mut lbs = LabelState::new(stream, metadata);
        let line = self.process_in(ts_ns, Cow::Borrowed(line), &mut lbs)?;
        Some(Output { line, labels: lbs })
    }

    /// Runs the pipeline on a line and its label state, changed in place
    /// (not moved in and out, for each entry of a scan): the line when the
    /// pipeline keeps the entry.
    pub(crate) fn process_in<'a>(
        &'a self,
        ts_ns: i64,
        mut line: Cow<'a, str>,
        lbs: &mut LabelState<'a>,
    ) -> Option<Cow<'a, str>> {
        for (si, s) in self.stages.iter().enumerate() {
            match s {
                CStage::Line(f) => {
                    let any = f.alts.iter().any(|m| m.matches(&line));
                    if any == f.negated {
                        return None;
                    }
                }
                CStage::JsonAll { names, filters_end } => {
                    let drops = |kv: &[parsers::CowPair<'_>], lbs: &LabelState<'_>| {
                        !names.is_empty()
                            && self.filters_drop(si + 1, *filters_end, names, kv, lbs.clone())
                    };
                    let res = match &line {
                        &Cow::Borrowed(l) => {
                            let mut kv = Vec::with_capacity(16);
                            match parsers::json_all(l, &mut kv) {
                                Ok(()) if drops(&kv, lbs) => return None,
                                Ok(()) => {
                                    lbs.reserve(kv.len());
                                    for (k, v) in kv {
                                        parsers::set_parsed(lbs, k, v);
                                    }
                                    Ok(())
                                }
                                Err(e) => Err(e),
                            }
                        }
                        Cow::Owned(l) => {
                            let mut kv = Vec::with_capacity(16);
                            match parsers::json_all(l, &mut kv) {
                                Ok(()) if drops(&kv, lbs) => return None,
                                Ok(()) => {
                                    lbs.reserve(kv.len());
                                    for (k, v) in kv {
                                        parsers::set_parsed(lbs, k.into_owned(), v.into_owned());
                                    }
                                    Ok(())
                                }
                                Err(e) => Err(e),
                            }
                        }
                    };
                    if let Err(e) = res {
                        lbs.set_err(parsers::ERR_JSON, Some(e.to_string()));
                    }
                }
                CStage::JsonPaths(p) => {
                    let res = match &line {
                        &Cow::Borrowed(l) => parsers::json_paths(l, p, |i, v| {
                            parsers::set_parsed(lbs, p[i].0.as_str(), v)
                        }),
                        Cow::Owned(l) => parsers::json_paths(l, p, |i, v| {
                            parsers::set_parsed(lbs, p[i].0.as_str(), v.into_owned())
                        }),
                    };
                    if res.is_err() {
                        lbs.set_err(parsers::ERR_JSON, None);
                    }
                }
                CStage::Logfmt {
                    strict,
                    keep_empty,
                    params,
                } => {
                    let err = if params.is_empty() {
                        match &line {
                            &Cow::Borrowed(l) => {
                                parsers::logfmt_all(l, *strict, *keep_empty, |k, v| {
                                    parsers::set_parsed(lbs, k, v)
                                })
                            }
                            Cow::Owned(l) => {
                                parsers::logfmt_all(l, *strict, *keep_empty, |k, v| {
                                    parsers::set_parsed(lbs, k.into_owned(), v.into_owned())
                                })
                            }
                        }
                    } else {
                        for (id, _) in params {
                            if !lbs.base_has(id) && !lbs.has_metadata(id) {
                                lbs.set(Category::Parsed, id.as_str(), "");
                            }
                        }
                        match &line {
                            &Cow::Borrowed(l) => {
                                parsers::logfmt_params(l, *strict, params, |i, v| {
                                    parsers::set_parsed(lbs, params[i].0.as_str(), v)
                                })
                            }
                            Cow::Owned(l) => parsers::logfmt_params(l, *strict, params, |i, v| {
                                parsers::set_parsed(lbs, params[i].0.as_str(), v.into_owned())
                            }),
                        }
                    };
                    if let Some(e) = err {
                        lbs.set_err(parsers::ERR_LOGFMT, Some(e));
                    }
                }
                CStage::Regexp(re, names) => {
                    let caps = match &line {
                        &Cow::Borrowed(l) => re.captures(l),
                        Cow::Owned(l) => re.captures(l),
                    };
                    if let Some(caps) = caps {
                        for (name, key) in names {
                            if let Some(m) = caps.name(name) {
                                let v = match &line {
                                    &Cow::Borrowed(l) => Cow::Borrowed(&l[m.range()]),
                                    Cow::Owned(_) => Cow::Owned(m.as_str().to_string()),
                                };
                                parsers::set_parsed(lbs, key.as_str(), v);
                            }
                        }
                    }
                }
                CStage::Pattern(p) => match &line {
                    &Cow::Borrowed(l) => {
                        for (n, v) in p.captures(l) {
                            parsers::set_parsed(lbs, n, v);
                        }
                    }
                    Cow::Owned(l) => {
                        for (n, v) in p.captures(l) {
                            parsers::set_parsed(lbs, n, v.to_string());
                        }
                    }
                },
                CStage::Unpack => {
                    let res = match &line {
                        &Cow::Borrowed(l) => {
                            let mut kv = Vec::new();
                            let res = parsers::unpack(l, &mut kv);
                            for (k, v) in kv {
                                parsers::set_parsed(lbs, k, v);
                            }
                            res
                        }
                        Cow::Owned(l) => {
                            let mut kv = Vec::new();
                            let res = parsers::unpack(l, &mut kv);
                            for (k, v) in kv {
                                parsers::set_parsed(lbs, k.into_owned(), v.into_owned());
                            }
                            res.map(|e| e.map(|e| Cow::Owned(e.into_owned())))
                        }
                    };
                    match res {
                        Ok(Some(entry)) => line = entry,
                        Ok(None) => {}
                        Err(e) => lbs.set_err(parsers::ERR_JSON, Some(e.to_string())),
                    }
                }
                CStage::Label(f) => {
                    if !f.process(lbs) {
                        return None;
                    }
                }
                CStage::LineFormat(t) => {
                    let res = {
                        let get = |n: &str| lbs.get(n).map(str::to_string);
                        t.execute(&Ctx {
                            get: &get,
                            line: &line,
                            ts_ns,
                        })
                    };
                    match res {
                        Ok(l) => line = Cow::Owned(l),
                        Err(e) => lbs.set_err(ERR_TEMPLATE, Some(e.0)),
                    }
                }
                CStage::LabelFormat(v) => {
                    // Every template sees the labels as they were before the stage.
                    let snapshot = lbs.clone();
                    for (dst, val) in v {
                        match val {
                            LfValue::Rename(src) => {
                                let value = snapshot.get(src).map(str::to_string);
                                if let Some(value) = value {
                                    lbs.del(src);
                                    lbs.set(Category::Parsed, dst.as_str(), value);
                                }
                            }
                            LfValue::Tpl(t) => {
                                let res = {
                                    let get = |n: &str| snapshot.get(n).map(str::to_string);
                                    t.execute(&Ctx {
                                        get: &get,
                                        line: &line,
                                        ts_ns,
                                    })
                                };
                                match res {
                                    Ok(value) => lbs.set(Category::Parsed, dst.as_str(), value),
                                    Err(e) => lbs.set_err(ERR_TEMPLATE, Some(e.0)),
                                }
                            }
                        }
                    }
                }
                CStage::Drop(sels) => {
                    for s in sels {
                        match s {
                            Sel::Name(n) => lbs.del(n),
                            Sel::Matcher(n, m) => {
                                if let Some(v) = lbs.get(n) {
                                    if m.matches(v) {
                                        lbs.del(n);
                                    }
                                }
                            }
                        }
                    }
                }
                CStage::Keep(sels) => lbs.retain(|name, value| {
                    sels.iter().any(|s| match s {
                        Sel::Name(n) => n == name,
                        Sel::Matcher(n, m) => n == name && m.matches(value),
                    })
                }),
                CStage::Decolorize(re) => {
                    if re.is_match(&line) {
                        line = Cow::Owned(re.replace_all(&line, "").into_owned());
                    }
                }
            }
        }
        Some(line)
    }
}

impl Pipeline {
    /// Does the pipeline keep this entry? [`run_pipeline`]`(…).is_some()`
    /// without building the line and labels it would return.
    pub fn keeps(
        &self,
        ts_ns: i64,
        line: &str,
        stream: &Labels,
        metadata: &[(String, String)],
    ) -> bool {
        self.process(ts_ns, line, stream, metadata).is_some()
    }
}

/// Runs a pipeline over one entry and returns the line and categorized
/// labels, for tests and tools.
pub fn run_pipeline(
    pipeline: &Pipeline,
    ts_ns: i64,
    line: &str,
    stream: &Arc<Labels>,
    metadata: &[(String, String)],
) -> Option<(String, EntryLabels)> {
    pipeline
        .process(ts_ns, line, stream, metadata)
        .map(|o| (o.line.into_owned(), o.labels.into_entry_labels()))
}

#[cfg(test)]
mod tests {
    use super::required_literals;

    /// Label filters right after `| json` drop entries before every label
    /// is set: the results are those of the same filters a no-op stage
    /// apart.
    #[test]
    fn filters_after_json_drop_as_they_would_after_it() {
        use super::{run_pipeline, Pipeline};
        use argus_model::Labels;
        use std::sync::Arc;
        let compile = |q: &str| match crate::parse(q).unwrap() {
            crate::Expr::Log(l) => Pipeline::compile(&l.pipeline).unwrap(),
            e => panic!("{e:?}"),
        };
        let stream = Arc::new(Labels::from_pairs([("job", "app"), ("env", "prod")]));
        let md = vec![("level".to_string(), "meta".to_string())];
        let lines = [
            r#"{"status":503,"level":"error","job":"x","a":{"b":"1"}}"#,
            r#"{"status":200,"level":"info","job":"y","a":{"b":"2"}}"#,
            r#"{"status":"abc","level":"warn"}"#,
            r#"{"status":200,"status":500,"st-atus":1,"level_extracted":"z"}"#,
            r#"{"__error__":"boom","status":501,"job_extracted":"x"}"#,
            r#"{"status":502"#,
            r#"not json"#,
            r#"{"a":{"b":"1","c":{"d":"e"}},"a_b":"3"}"#,
        ];
        for filter in [
            "status >= 500",
            r#"status >= 500 or level_extracted="error""#,
            r#"job_extracted="x""#,
            r#"__error__="""#,
            r#"__error__!="""#,
            r#"a_b="1""#,
            r#"status > 100 | level_extracted != "info""#,
            r#"st_atus=1, status=500"#,
            r#"status >= 500 | __error__="""#,
            r#"a_c_d="e""#,
        ] {
            let fast = compile(&format!(r#"{{job="app"}} | json | {filter}"#));
            let slow = compile(&format!(
                r#"{{job="app"}} | json | drop __none__ | {filter}"#
            ));
            for line in lines {
                assert_eq!(
                    run_pipeline(&fast, 0, line, &stream, &md),
                    run_pipeline(&slow, 0, line, &stream, &md),
                    "{filter} on {line}"
                );
            }
        }
    }

    fn req(q: &str) -> Vec<String> {
        match crate::parse(q).unwrap() {
            crate::Expr::Log(l) => required_literals(&l.pipeline),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn literals_a_store_may_require() {
        assert_eq!(req(r#"{a="b"} |= "needle" != "x""#), ["needle"]);
        // Past stages that keep the line, not past those that rewrite it.
        assert_eq!(
            req(r#"{a="b"} | json | status >= 500 |= "boom" | line_format "{{.x}}" |= "late""#),
            ["boom"]
        );
        assert!(req(r#"{a="b"} | unpack |= "x1y""#).is_empty());
        assert!(req(r#"{a="b"} |= "a" or "b""#).is_empty());
        // Regexes: the literals every match contains.
        assert_eq!(
            req(r#"{a="b"} |~ "GET /api/v[0-9]+/users""#),
            ["GET /api/v", "/users"]
        );
        assert_eq!(req(r#"{a="b"} |~ "(error|fatal): disk""#), [": disk"]);
        assert!(req(r#"{a="b"} |~ "(?i)error""#).is_empty());
        assert!(
            req(r#"{a="b"} |~ "er(ror)?""#).is_empty(),
            "3 bytes at least"
        );
        assert_eq!(req(r#"{a="b"} |~ "err(or)?""#), ["err"]);
        assert_eq!(
            req(r#"{a="b"} |~ "timeout(s)? after""#),
            ["timeout", " after"]
        );
    }
}
