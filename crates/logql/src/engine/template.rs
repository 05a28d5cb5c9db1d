//! A subset of Go's `text/template` with the functions Loki gives
//! `line_format` and `label_format` (its own and Sprig's most used ones).
//!
//! Supported: text, `{{ pipeline }}` with `|`, `{{- -}}` trimming, comments,
//! `{{if}}`/`{{else if}}`/`{{else}}`/`{{end}}`, fields `.name`, `.`,
//! string/raw-string/number/bool literals, parentheses, and the functions
//! listed in [`call`].

use super::gotime::{format_time, parse_time};
use super::tplparse::{lex, P};
use regex::Regex;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A template failed to compile or run: Go's message, roughly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

pub(super) type R<T> = Result<T, TemplateError>;

pub(super) fn err<T>(s: impl Into<String>) -> R<T> {
    Err(TemplateError(s.into()))
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Vec<(Pipe, Vec<Node>)>, Vec<Node>),
}

#[derive(Debug, Clone)]
pub(super) struct Pipe(pub(super) Vec<Cmd>);

#[derive(Debug, Clone)]
pub(super) struct Cmd(pub(super) Vec<Arg>);

#[derive(Debug, Clone)]
pub(super) enum Arg {
    Field(String),
    Dot,
    Lit(Val),
    Func(String),
    Sub(Pipe),
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds since the epoch, UTC.
    Time(i64),
    Nil,
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Str(s) => !s.is_empty(),
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Bool(b) => *b,
            Val::Time(_) => true,
            Val::Nil => false,
        }
    }

    fn print(&self, out: &mut String) {
        match self {
            Val::Str(s) => out.push_str(s),
            Val::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Val::Float(f) => out.push_str(&go_float(*f)),
            Val::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Val::Time(ns) => {
                out.push_str(&format_time(*ns, "2006-01-02 15:04:05.999999999 -0700 MST"))
            }
            Val::Nil => out.push_str("<no value>"),
        }
    }

    fn to_string_val(&self) -> String {
        let mut s = String::new();
        self.print(&mut s);
        s
    }

    /// Sprig's `cast.ToInt64` (errors become 0).
    fn to_i64(&self) -> i64 {
        match self {
            Val::Str(s) => s.trim().parse::<i64>().unwrap_or(0),
            Val::Int(i) => *i,
            Val::Float(f) => *f as i64,
            Val::Bool(b) => *b as i64,
            Val::Time(ns) => ns / 1_000_000_000,
            Val::Nil => 0,
        }
    }

    /// Sprig's `cast.ToFloat64`.
    fn to_f64(&self) -> f64 {
        match self {
            Val::Str(s) => s.trim().parse::<f64>().unwrap_or(0.0),
            Val::Int(i) => *i as f64,
            Val::Float(f) => *f,
            Val::Bool(b) => *b as i64 as f64,
            Val::Time(ns) => (*ns / 1_000_000_000) as f64,
            Val::Nil => 0.0,
        }
    }
}

/// Go's `%v` of a float64.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    let exp = f.abs().log10().floor() as i32;
    if !(-4..21).contains(&exp) {
        let s = format!("{f:e}");
        // Rust: 1e21, 1.5e-5; Go: 1e+21, 1.5e-05
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{m}e{sign}{digits:0>2}");
    }
    format!("{f}")
}

/// Compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
    regexes: HashMap<String, Regex>,
}

/// What a template reads while it runs.
pub(crate) struct Ctx<'a> {
    pub(crate) get: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) line: &'a str,
    pub(crate) ts_ns: i64,
}

impl Template {
    /// Compiles `src`.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let toks = lex(src)?;
        let mut p = P { toks, i: 0 };
        let (nodes, stop) = p.nodes()?;
        if let Some(s) = stop {
            return err(format!("template: unexpected {{{{{s}}}}}"));
        }
        let mut regexes = HashMap::new();
        collect_regexes(&nodes, &mut regexes)?;
        Ok(Template { nodes, regexes })
    }

    pub(crate) fn execute(&self, ctx: &Ctx<'_>) -> Result<String, TemplateError> {
        let mut out = String::new();
        self.exec_nodes(&self.nodes, ctx, &mut out)?;
        Ok(out)
    }

    fn exec_nodes(&self, nodes: &[Node], ctx: &Ctx<'_>, out: &mut String) -> R<()> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => self.pipe(p, ctx)?.print(out),
                Node::If(branches, els) => {
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.pipe(cond, ctx)?.truthy() {
                            self.exec_nodes(body, ctx, out)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.exec_nodes(els, ctx, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn pipe(&self, p: &Pipe, ctx: &Ctx<'_>) -> R<Val> {
        let mut prev: Option<Val> = None;
        for c in &p.0 {
            prev = Some(self.cmd(c, ctx, prev)?);
        }
        Ok(prev.unwrap_or(Val::Nil))
    }

    fn cmd(&self, c: &Cmd, ctx: &Ctx<'_>, prev: Option<Val>) -> R<Val> {
        match &c.0[0] {
            Arg::Func(name) => {
                let mut args = Vec::with_capacity(c.0.len());
                for a in &c.0[1..] {
                    args.push(self.arg(a, ctx)?);
                }
                if let Some(p) = prev {
                    args.push(p);
                }
                self.call(name, args, ctx)
            }
            a => {
                if c.0.len() > 1 || prev.is_some() {
                    return err("template: can't give argument to non-function");
                }
                self.arg(a, ctx)
            }
        }
    }

    fn arg(&self, a: &Arg, ctx: &Ctx<'_>) -> R<Val> {
        Ok(match a {
            Arg::Field(f) => Val::Str((ctx.get)(f).unwrap_or_default()),
            Arg::Dot => Val::Str(String::new()),
            Arg::Lit(v) => v.clone(),
            Arg::Func(name) => self.call(name, Vec::new(), ctx)?,
            Arg::Sub(p) => self.pipe(p, ctx)?,
        })
    }

    fn regex(&self, re: &str) -> R<Regex> {
        match self.regexes.get(re) {
            Some(r) => Ok(r.clone()),
            None => Regex::new(re).map_err(|e| TemplateError(format!("error parsing regexp: {e}"))),
        }
    }

    /// The functions.
    fn call(&self, name: &str, a: Vec<Val>, ctx: &Ctx<'_>) -> R<Val> {
        let n = a.len();
        let want = |k: usize| -> R<()> {
            if n != k {
                return err(format!(
                    "template: wrong number of args for {name}: want {k} got {n}"
                ));
            }
            Ok(())
        };
        let s = |i: usize| a[i].to_string_val();
        Ok(match name {
            "__line__" => Val::Str(ctx.line.to_string()),
            "__timestamp__" => Val::Time(ctx.ts_ns),
            "now" => Val::Time(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as i64)
                    .unwrap_or(0),
            ),
            "ToLower" | "lower" => {
                want(1)?;
                Val::Str(s(0).to_lowercase())
            }
            "ToUpper" | "upper" => {
                want(1)?;
                Val::Str(s(0).to_uppercase())
            }
            "title" => {
                want(1)?;
                let mut out = String::new();
                let mut prev_letter = false;
                for c in s(0).chars() {
                    if !prev_letter {
                        out.extend(c.to_uppercase());
                    } else {
                        out.push(c);
                    }
                    prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
                }
                Val::Str(out)
            }
            "trim" | "TrimSpace" => {
                want(1)?;
                Val::Str(s(0).trim().to_string())
            }
            "trimAll" => {
                want(2)?;
                let cut: Vec<char> = s(0).chars().collect();
                Val::Str(s(1).trim_matches(|c| cut.contains(&c)).to_string())
            }
            "Trim" => {
                want(2)?;
                let cut: Vec<char> = s(1).chars().collect();
                Val::Str(s(0).trim_matches(|c| cut.contains(&c)).to_string())
            }
            "TrimLeft" => {
                want(2)?;
                let cut: Vec<char> = s(1).chars().collect();
                Val::Str(s(0).trim_start_matches(|c| cut.contains(&c)).to_string())
            }
            "TrimRight" => {
                want(2)?;
                let cut: Vec<char> = s(1).chars().collect();
                Val::Str(s(0).trim_end_matches(|c| cut.contains(&c)).to_string())
            }
            "trimPrefix" => {
                want(2)?;
                let v = s(1);
                Val::Str(v.strip_prefix(s(0).as_str()).unwrap_or(&v).to_string())
            }
            "TrimPrefix" => {
                want(2)?;
                let v = s(0);
                Val::Str(v.strip_prefix(s(1).as_str()).unwrap_or(&v).to_string())
            }
            "trimSuffix" => {
                want(2)?;
                let v = s(1);
                Val::Str(v.strip_suffix(s(0).as_str()).unwrap_or(&v).to_string())
            }
            "TrimSuffix" => {
                want(2)?;
                let v = s(0);
                Val::Str(v.strip_suffix(s(1).as_str()).unwrap_or(&v).to_string())
            }
            "replace" => {
                want(3)?;
                Val::Str(s(2).replace(&s(0), &s(1)))
            }
            "Replace" => {
                want(4)?;
                let k = a[3].to_i64();
                let v = s(0);
                Val::Str(if k < 0 {
                    v.replace(&s(1), &s(2))
                } else {
                    v.replacen(&s(1), &s(2), k as usize)
                })
            }
            "substr" => {
                want(3)?;
                let v = s(2);
                let (st, en) = (a[0].to_i64(), a[1].to_i64());
                let b = v.as_bytes();
                let slice = if st < 0 {
                    &b[..(en.max(0) as usize).min(b.len())]
                } else if en < 0 || en as usize > b.len() {
                    &b[(st as usize).min(b.len())..]
                } else {
                    &b[(st as usize).min(en as usize)..en as usize]
                };
                Val::Str(String::from_utf8_lossy(slice).into_owned())
            }
            "trunc" => {
                want(2)?;
                let v = s(1);
                let c = a[0].to_i64();
                let len = v.len() as i64;
                Val::Str(if c < 0 && len + c > 0 {
                    String::from_utf8_lossy(&v.as_bytes()[(len + c) as usize..]).into_owned()
                } else if c >= 0 && len > c {
                    String::from_utf8_lossy(&v.as_bytes()[..c as usize]).into_owned()
                } else {
                    v
                })
            }
            "repeat" => {
                want(2)?;
                Val::Str(s(1).repeat(a[0].to_i64().clamp(0, 10_000) as usize))
            }
            "contains" => {
                want(2)?;
                Val::Bool(s(1).contains(&s(0)))
            }
            "hasPrefix" => {
                want(2)?;
                Val::Bool(s(1).starts_with(&s(0)))
            }
            "hasSuffix" => {
                want(2)?;
                Val::Bool(s(1).ends_with(&s(0)))
            }
            "default" => {
                if n == 1 {
                    return Ok(a[0].clone());
                }
                want(2)?;
                if a[1].truthy() {
                    a[1].clone()
                } else {
                    a[0].clone()
                }
            }
            "printf" => {
                if n == 0 {
                    return err("template: wrong number of args for printf: want at least 1 got 0");
                }
                Val::Str(printf(&s(0), &a[1..]))
            }
            "regexReplaceAll" | "regexReplaceAllLiteral" => {
                want(3)?;
                let re = self.regex(&s(0))?;
                let v = s(1);
                let rep = s(2);
                Val::Str(if name == "regexReplaceAll" {
                    re.replace_all(&v, go_expand_template(&rep).as_str())
                        .into_owned()
                } else {
                    re.replace_all(&v, regex::NoExpand(&rep)).into_owned()
                })
            }
            "count" => {
                want(2)?;
                let re = self.regex(&s(0))?;
                Val::Int(re.find_iter(&s(1)).count() as i64)
            }
            "len" => {
                want(1)?;
                Val::Int(s(0).len() as i64)
            }
            "add" => Val::Int(a.iter().map(Val::to_i64).fold(0i64, i64::wrapping_add)),
            "mul" => Val::Int(a.iter().map(Val::to_i64).fold(1i64, i64::wrapping_mul)),
            "sub" => {
                want(2)?;
                Val::Int(a[0].to_i64().wrapping_sub(a[1].to_i64()))
            }
            "div" | "mod" => {
                want(2)?;
                let d = a[1].to_i64();
                if d == 0 {
                    return err(format!(
                        "template: error calling {name}: runtime error: integer divide by zero"
                    ));
                }
                Val::Int(if name == "div" {
                    a[0].to_i64().wrapping_div(d)
                } else {
                    a[0].to_i64().wrapping_rem(d)
                })
            }
            "addf" => Val::Float(a.iter().map(Val::to_f64).sum()),
            "mulf" => Val::Float(a.iter().map(Val::to_f64).product()),
            "subf" => {
                want(2)?;
                Val::Float(a[0].to_f64() - a[1].to_f64())
            }
            "divf" => {
                want(2)?;
                Val::Float(a[0].to_f64() / a[1].to_f64())
            }
            "max" => Val::Int(a.iter().map(Val::to_i64).max().unwrap_or(0)),
            "min" => Val::Int(a.iter().map(Val::to_i64).min().unwrap_or(0)),
            "maxf" => Val::Float(a.iter().map(Val::to_f64).fold(f64::NEG_INFINITY, f64::max)),
            "minf" => Val::Float(a.iter().map(Val::to_f64).fold(f64::INFINITY, f64::min)),
            "int" => {
                want(1)?;
                Val::Int(a[0].to_i64())
            }
            "float64" => {
                want(1)?;
                Val::Float(a[0].to_f64())
            }
            "ceil" => {
                want(1)?;
                Val::Float(a[0].to_f64().ceil())
            }
            "floor" => {
                want(1)?;
                Val::Float(a[0].to_f64().floor())
            }
            "round" => {
                if n == 0 {
                    return err("template: wrong number of args for round");
                }
                let places = if n > 1 { a[1].to_i64() } else { 0 };
                let p = 10f64.powi(places as i32);
                Val::Float((a[0].to_f64() * p).round() / p)
            }
            "unixEpoch" => {
                want(1)?;
                Val::Str(time_of(&a[0]).div_euclid(1_000_000_000).to_string())
            }
            "unixEpochMillis" => {
                want(1)?;
                Val::Int(time_of(&a[0]).div_euclid(1_000_000))
            }
            "unixEpochNanos" => {
                want(1)?;
                Val::Int(time_of(&a[0]))
            }
            "date" => {
                want(2)?;
                Val::Str(format_time(time_of(&a[1]), &s(0)))
            }
            "toDate" => {
                want(2)?;
                match parse_time(&s(0), &s(1)) {
                    Some(t) => Val::Time(t),
                    None => Val::Time(0),
                }
            }
            "duration" | "duration_seconds" => {
                want(1)?;
                match crate::units::parse_go_duration(&s(0)) {
                    Some(ns) => Val::Float(ns as f64 / 1e9),
                    None => return err(format!("time: invalid duration \"{}\"", s(0))),
                }
            }
            "bytes" => {
                want(1)?;
                match crate::units::parse_bytes(&s(0)) {
                    Some(b) => Val::Float(b as f64),
                    None => {
                        return err(format!(
                            "strconv.ParseFloat: parsing \"{}\": invalid syntax",
                            s(0)
                        ))
                    }
                }
            }
            "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                if n < 2 {
                    return err(format!("template: missing argument for comparison {name}"));
                }
                if name == "eq" {
                    let mut any = false;
                    for b in &a[1..] {
                        if cmp(&a[0], b)? == std::cmp::Ordering::Equal {
                            any = true;
                        }
                    }
                    Val::Bool(any)
                } else {
                    want(2)?;
                    let o = cmp(&a[0], &a[1])?;
                    use std::cmp::Ordering::*;
                    Val::Bool(match name {
                        "ne" => o != Equal,
                        "lt" => o == Less,
                        "le" => o != Greater,
                        "gt" => o == Greater,
                        _ => o != Less,
                    })
                }
            }
            "and" => {
                if n == 0 {
                    return err("template: wrong number of args for and");
                }
                a.iter().find(|v| !v.truthy()).unwrap_or(&a[n - 1]).clone()
            }
            "or" => {
                if n == 0 {
                    return err("template: wrong number of args for or");
                }
                a.iter().find(|v| v.truthy()).unwrap_or(&a[n - 1]).clone()
            }
            "not" => {
                want(1)?;
                Val::Bool(!a[0].truthy())
            }
            other => return err(format!("template: function \"{other}\" not defined")),
        })
    }
}

fn time_of(v: &Val) -> i64 {
    match v {
        Val::Time(t) => *t,
        other => other.to_i64().saturating_mul(1_000_000_000),
    }
}

fn cmp(a: &Val, b: &Val) -> R<std::cmp::Ordering> {
    let num = |v: &Val| match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        _ => None,
    };
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Ok(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Ok(x.cmp(y)),
        (Val::Time(x), Val::Time(y)) => Ok(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => Ok(x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)),
            _ => err("template: error calling eq: incompatible types for comparison"),
        },
    }
}

/// Go's `$1`/`${name}` expansion is the regex crate's, except that `$1a`
/// means group `1a` in both: nothing to change.
fn go_expand_template(rep: &str) -> String {
    rep.to_string()
}

/// `fmt.Sprintf` for the common verbs.
fn printf(fmtstr: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut it = fmtstr.chars().peekable();
    let mut ai = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = it.peek() {
            if "+-# 0".contains(f) {
                flags.push(f);
                it.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            it.next();
        }
        let mut prec: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = String::new();
            while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                it.next();
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = it.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(ai) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        ai += 1;
        let body = match verb {
            'd' => match arg {
                Val::Int(i) => i.to_string(),
                Val::Float(_) | Val::Str(_) => format!("%!d({})", arg.to_string_val()),
                _ => arg.to_i64().to_string(),
            },
            'f' | 'F' => {
                let f = match arg {
                    Val::Float(f) => *f,
                    Val::Int(i) => *i as f64,
                    _ => arg.to_f64(),
                };
                format!("{:.*}", prec.unwrap_or(6), f)
            }
            'e' => format!("{:.*e}", prec.unwrap_or(6), arg.to_f64()),
            'q' => {
                let mut s = String::new();
                super::labels::go_quote(&mut s, &arg.to_string_val());
                s
            }
            'x' => match arg {
                Val::Int(i) => format!("{i:x}"),
                _ => arg
                    .to_string_val()
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            },
            't' => arg.to_string_val(),
            _ => {
                let mut s = arg.to_string_val();
                if let (Some(p), Val::Str(_)) = (prec, arg) {
                    s = s.chars().take(p).collect();
                }
                s
            }
        };
        let w: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                out.push_str(&body);
                out.extend(std::iter::repeat_n(' ', pad));
            } else if flags.contains('0') && verb != 's' {
                out.extend(std::iter::repeat_n('0', pad));
                out.push_str(&body);
            } else {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if ai < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[ai..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let ty = match a {
                Val::Str(_) => "string",
                Val::Int(_) => "int64",
                Val::Float(_) => "float64",
                Val::Bool(_) => "bool",
                Val::Time(_) => "time.Time",
                Val::Nil => "<nil>",
            };
            let _ = write!(out, "{ty}={}", a.to_string_val());
        }
        out.push(')');
    }
    out
}

/// Compiles the regexes of `regexReplaceAll`/`count` calls whose pattern is
/// a literal, once.
fn collect_regexes(nodes: &[Node], out: &mut HashMap<String, Regex>) -> R<()> {
    fn pipe(p: &Pipe, out: &mut HashMap<String, Regex>) -> R<()> {
        for c in &p.0 {
            if let (Arg::Func(f), Some(Arg::Lit(Val::Str(re)))) = (&c.0[0], c.0.get(1)) {
                if matches!(
                    f.as_str(),
                    "regexReplaceAll" | "regexReplaceAllLiteral" | "count"
                ) {
                    let r = Regex::new(re)
                        .map_err(|e| TemplateError(format!("error parsing regexp: {e}")))?;
                    out.insert(re.clone(), r);
                }
            }
            for a in &c.0 {
                if let Arg::Sub(p) = a {
                    pipe(p, out)?;
                }
            }
        }
        Ok(())
    }
    for n in nodes {
        match n {
            Node::Text(_) => {}
            Node::Action(p) => pipe(p, out)?,
            Node::If(b, e) => {
                for (c, body) in b {
                    pipe(c, out)?;
                    collect_regexes(body, out)?;
                }
                collect_regexes(e, out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str, labels: &[(&str, &str)]) -> String {
        let tpl = Template::parse(t).unwrap();
        let get = |n: &str| {
            labels
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        };
        tpl.execute(&Ctx {
            get: &get,
            line: "the line",
            ts_ns: 1_700_000_000_123_000_000,
        })
        .unwrap()
    }

    #[test]
    fn fields_functions_and_conditionals() {
        let l = [("a", "Hello"), ("n", "7"), ("s", "200")];
        assert_eq!(
            run("{{.a}} {{ .a | ToUpper }} {{ lower .a }}", &l),
            "Hello HELLO hello"
        );
        assert_eq!(run("{{ __line__ }}|{{ .missing }}|", &l), "the line||");
        assert_eq!(
            run("{{ add .n 3 }} {{ div .n 2 }} {{ mulf .n 0.5 }}", &l),
            "10 3 3.5"
        );
        assert_eq!(
            run(r#"{{ printf "%s=%05.2f %d" .a 3.14159 42 }}"#, &l),
            "Hello=03.14 42"
        );
        assert_eq!(
            run(
                r#"{{if eq .s "200"}}ok{{else if eq .s "500"}}err{{else}}other{{end}}"#,
                &l
            ),
            "ok"
        );
        assert_eq!(
            run(
                r#"{{ if and (ne .s "1") (not (eq .a "x")) }}y{{ end }}"#,
                &l
            ),
            "y"
        );
        assert_eq!(run(r#"{{ .missing | default "none" }}"#, &l), "none");
        assert_eq!(run(r#"{{ regexReplaceAll "l+" .a "L" }}"#, &l), "HeLo");
        assert_eq!(
            run(
                r#"{{ substr 1 3 .a }} {{ title "foo bar" }} {{ len .a }}"#,
                &l
            ),
            "el Foo Bar 5"
        );
        assert_eq!(run("a  {{- .a -}}  b", &l), "aHellob");
        assert_eq!(run("{{ __timestamp__ | unixEpoch }}", &l), "1700000000");
        assert_eq!(
            run(
                r#"{{ __timestamp__ | date "2006-01-02T15:04:05.000Z07:00" }}"#,
                &l
            ),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            run("{{ __timestamp__ }}", &l),
            "2023-11-14 22:13:20.123 +0000 UTC"
        );
        assert_eq!(
            run(r#"{{ toDate "2006-01-02" "2024-02-29" | unixEpoch }}"#, &l),
            "1709164800"
        );
    }

    #[test]
    fn errors() {
        assert!(Template::parse("{{ .a ").is_err());
        assert!(Template::parse("{{ if .a }}x").is_err());
        let t = Template::parse("{{ nosuch .a }}").unwrap();
        let get = |_: &str| None;
        assert!(t
            .execute(&Ctx {
                get: &get,
                line: "",
                ts_ns: 0
            })
            .is_err());
    }
}
