//! A subset of Go's `text/template` with the functions Loki gives
//! `line_format` and `label_format` (its own and Sprig's most used ones).
//!
//! Supported: text, `{{ pipeline }}` with `|`, `{{- -}}` trimming, comments,
//! `{{if}}`/`{{else if}}`/`{{else}}`/`{{end}}`, fields `.name`, `.`,
//! string/raw-string/number/bool literals, parentheses, and the functions
//! listed in [`call`].

use regex::Regex;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A template failed to compile or run: Go's message, roughly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

type R<T> = Result<T, TemplateError>;

fn err<T>(s: impl Into<String>) -> R<T> {
    Err(TemplateError(s.into()))
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipe),
    If(Vec<(Pipe, Vec<Node>)>, Vec<Node>),
}

#[derive(Debug, Clone)]
struct Pipe(Vec<Cmd>);

#[derive(Debug, Clone)]
struct Cmd(Vec<Arg>);

#[derive(Debug, Clone)]
enum Arg {
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

// ------------------------------------------------------------ time

/// Civil date from days since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Formats UTC time `ns` with a Go layout.
pub(crate) fn format_time(ns: i64, layout: &str) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let mut out = String::new();
    let mut rest = layout;
    let toks: &[(&str, u8)] = &[
        ("January", 1),
        ("Jan", 2),
        ("Monday", 3),
        ("Mon", 4),
        ("2006", 5),
        ("-07:00", 6),
        ("-0700", 7),
        ("Z07:00", 8),
        ("MST", 9),
        ("01", 10),
        ("02", 11),
        ("_2", 12),
        ("15", 13),
        ("03", 14),
        ("04", 15),
        ("05", 16),
        ("06", 17),
        ("PM", 18),
        ("pm", 19),
        ("1", 20),
        ("2", 21),
        ("3", 22),
        ("4", 23),
        ("5", 24),
        ("Z0700", 25),
    ];
    'outer: while !rest.is_empty() {
        if let Some(frac) = rest.strip_prefix(".000").or(None) {
            let _ = frac;
        }
        if rest.starts_with(".0")
            || rest.starts_with(".9")
            || rest.starts_with(",0")
            || rest.starts_with(",9")
        {
            let digit = rest.as_bytes()[1];
            let k = rest[1..].bytes().take_while(|b| *b == digit).count();
            let after = rest.as_bytes().get(1 + k);
            if !after.is_some_and(|b| b.is_ascii_digit()) {
                let full = format!("{nanos:09}");
                let part = &full[..k.min(9)];
                if digit == b'0' {
                    out.push_str(&rest[..1]);
                    out.push_str(part);
                } else {
                    let t = part.trim_end_matches('0');
                    if !t.is_empty() {
                        out.push_str(&rest[..1]);
                        out.push_str(t);
                    }
                }
                rest = &rest[1 + k..];
                continue;
            }
        }
        for (t, id) in toks {
            if let Some(r) = rest.strip_prefix(t) {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                let _ = match id {
                    1 => write!(out, "{}", MONTHS[mo as usize - 1]),
                    2 => write!(out, "{}", &MONTHS[mo as usize - 1][..3]),
                    3 => write!(out, "{wd}"),
                    4 => write!(out, "{}", &wd[..3]),
                    5 => write!(out, "{y:04}"),
                    6 => write!(out, "+00:00"),
                    7 => write!(out, "+0000"),
                    8 | 25 => write!(out, "Z"),
                    9 => write!(out, "UTC"),
                    10 => write!(out, "{mo:02}"),
                    11 => write!(out, "{d:02}"),
                    12 => write!(out, "{d:>2}"),
                    13 => write!(out, "{h:02}"),
                    14 => write!(out, "{h12:02}"),
                    15 => write!(out, "{mi:02}"),
                    16 => write!(out, "{s:02}"),
                    17 => write!(out, "{:02}", y.rem_euclid(100)),
                    18 => write!(out, "{}", if h >= 12 { "PM" } else { "AM" }),
                    19 => write!(out, "{}", if h >= 12 { "pm" } else { "am" }),
                    20 => write!(out, "{mo}"),
                    21 => write!(out, "{d}"),
                    22 => write!(out, "{h12}"),
                    23 => write!(out, "{mi}"),
                    _ => write!(out, "{s}"),
                };
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Parses `value` with a numeric Go layout (2006 01 02 15 04 05, fractions,
/// `Z07:00`, literals), UTC.
fn parse_time(layout: &str, value: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) =
        (1i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
    let mut l = layout;
    let mut v = value;
    let num = |v: &mut &str, n: usize| -> Option<i64> {
        let t = v.get(..n)?;
        let x = t.parse().ok()?;
        *v = &v[n..];
        Some(x)
    };
    while !l.is_empty() {
        if let Some(r) = l.strip_prefix("2006") {
            y = num(&mut v, 4)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("01") {
            mo = num(&mut v, 2)? as u32;
            l = r;
        } else if let Some(r) = l.strip_prefix("02") {
            d = num(&mut v, 2)? as u32;
            l = r;
        } else if let Some(r) = l.strip_prefix("15") {
            h = num(&mut v, 2)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("04") {
            mi = num(&mut v, 2)?;
            l = r;
        } else if let Some(r) = l.strip_prefix("05") {
            s = num(&mut v, 2)?;
            l = r;
            if (l.starts_with(".0") || l.starts_with(".9") || l.is_empty() || l.starts_with('Z'))
                && v.starts_with('.')
            {
                let digits: String = v[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
                v = &v[1 + digits.len()..];
                ns = format!("{digits:0<9}")[..9].parse().ok()?;
                l = l.trim_start_matches(['.', '0', '9']);
            }
        } else if let Some(r) = l.strip_prefix("Z07:00") {
            v = v.strip_prefix('Z')?;
            l = r;
        } else {
            let c = l.chars().next()?;
            v = v.strip_prefix(c)?;
            l = &l[c.len_utf8()..];
        }
    }
    if !v.is_empty() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + ns)
}

// ------------------------------------------------------------ lexing and parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Text(String),
    Open,
    Close,
    Field(String),
    Dot,
    Ident(String),
    Str(String),
    Num(String),
    LParen,
    RParen,
    Pipe,
}

fn lex(src: &str) -> R<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut rest = src;
    loop {
        let Some(open) = rest.find("{{") else {
            if !rest.is_empty() {
                toks.push(Tok::Text(rest.to_string()));
            }
            break;
        };
        let mut text = &rest[..open];
        let mut inner = &rest[open + 2..];
        if inner.starts_with("- ") || inner.starts_with("-\t") || inner.starts_with("-\n") {
            text = text.trim_end();
            inner = &inner[1..];
        }
        if !text.is_empty() {
            toks.push(Tok::Text(text.to_string()));
        }
        // comment
        let trimmed = inner.trim_start();
        if trimmed.starts_with("/*") {
            let Some(end) = trimmed.find("*/") else {
                return err("template: unclosed comment");
            };
            let after = trimmed[end + 2..].trim_start();
            let (after, trim_right) = match after.strip_prefix("-}}") {
                Some(a) => (a, true),
                None => match after.strip_prefix("}}") {
                    Some(a) => (a, false),
                    None => return err("template: comment ends before closing delimiter"),
                },
            };
            rest = if trim_right {
                after.trim_start()
            } else {
                after
            };
            continue;
        }
        toks.push(Tok::Open);
        let b = inner.as_bytes();
        let mut i = 0;
        let close_at;
        let mut trim_right = false;
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                return err("template: unclosed action");
            }
            if inner[i..].starts_with("}}") {
                close_at = i + 2;
                break;
            }
            if inner[i..].starts_with("-}}") && i > 0 && b[i - 1].is_ascii_whitespace() {
                close_at = i + 3;
                trim_right = true;
                break;
            }
            let c = b[i];
            match c {
                b'(' => {
                    toks.push(Tok::LParen);
                    i += 1;
                }
                b')' => {
                    toks.push(Tok::RParen);
                    i += 1;
                }
                b'|' => {
                    toks.push(Tok::Pipe);
                    i += 1;
                }
                b'"' => {
                    let mut j = i + 1;
                    let mut s = String::new();
                    loop {
                        let Some(&ch) = b.get(j) else {
                            return err("template: unterminated quoted string");
                        };
                        if ch == b'"' {
                            break;
                        }
                        if ch == b'\\' {
                            let e = b.get(j + 1).copied().unwrap_or(b'\\');
                            s.push(match e {
                                b'n' => '\n',
                                b't' => '\t',
                                b'r' => '\r',
                                other => other as char,
                            });
                            j += 2;
                            continue;
                        }
                        let chr = inner[j..].chars().next().unwrap_or(' ');
                        s.push(chr);
                        j += chr.len_utf8();
                    }
                    toks.push(Tok::Str(s));
                    i = j + 1;
                }
                b'`' => {
                    let Some(end) = inner[i + 1..].find('`') else {
                        return err("template: unterminated raw quoted string");
                    };
                    toks.push(Tok::Str(inner[i + 1..i + 1 + end].to_string()));
                    i = i + 2 + end;
                }
                b'.' => {
                    let j = i
                        + 1
                        + inner[i + 1..]
                            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .unwrap_or(inner.len() - i - 1);
                    if j == i + 1 {
                        toks.push(Tok::Dot);
                    } else {
                        toks.push(Tok::Field(inner[i + 1..j].to_string()));
                    }
                    i = j;
                }
                c if c.is_ascii_digit() || c == b'-' || c == b'+' => {
                    let j = i
                        + 1
                        + inner[i + 1..]
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                            .unwrap_or(inner.len() - i - 1);
                    toks.push(Tok::Num(inner[i..j].to_string()));
                    i = j;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let j = i + inner[i..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(inner.len() - i);
                    toks.push(Tok::Ident(inner[i..j].to_string()));
                    i = j;
                }
                _ => {
                    let ch = inner[i..].chars().next().unwrap_or(' ');
                    return err(format!("template: unexpected \"{ch}\" in command"));
                }
            }
        }
        toks.push(Tok::Close);
        rest = &inner[close_at..];
        if trim_right {
            rest = rest.trim_start();
        }
    }
    Ok(toks)
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    /// Nodes up to `{{end}}`/`{{else …}}` (returned as the stop word, with
    /// the position left after the keyword) or the end.
    fn nodes(&mut self) -> R<(Vec<Node>, Option<String>)> {
        let mut out = Vec::new();
        while let Some(t) = self.peek().cloned() {
            self.i += 1;
            match t {
                Tok::Text(s) => out.push(Node::Text(s)),
                Tok::Open => match self.peek() {
                    Some(Tok::Ident(k)) if k == "end" || k == "else" => {
                        let k = k.clone();
                        self.i += 1;
                        return Ok((out, Some(k)));
                    }
                    Some(Tok::Ident(k)) if k == "if" => {
                        self.i += 1;
                        out.push(self.if_node()?);
                    }
                    Some(Tok::Ident(k))
                        if matches!(
                            k.as_str(),
                            "range" | "with" | "define" | "template" | "block"
                        ) =>
                    {
                        return err(format!("template: {k} is not supported"));
                    }
                    _ => {
                        let p = self.pipe()?;
                        self.expect_close()?;
                        out.push(Node::Action(p));
                    }
                },
                other => return err(format!("template: unexpected {other:?}")),
            }
        }
        Ok((out, None))
    }

    fn if_node(&mut self) -> R<Node> {
        let mut branches = Vec::new();
        let mut cond = self.pipe()?;
        self.expect_close()?;
        loop {
            let (body, stop) = self.nodes()?;
            branches.push((cond, body));
            match stop.as_deref() {
                Some("end") => {
                    self.expect_close()?;
                    return Ok(Node::If(branches, Vec::new()));
                }
                Some("else") => {
                    if matches!(self.peek(), Some(Tok::Ident(k)) if k == "if") {
                        self.i += 1;
                        cond = self.pipe()?;
                        self.expect_close()?;
                        continue;
                    }
                    self.expect_close()?;
                    let (els, stop) = self.nodes()?;
                    if stop.as_deref() != Some("end") {
                        return err("template: unexpected EOF");
                    }
                    self.expect_close()?;
                    return Ok(Node::If(branches, els));
                }
                _ => return err("template: unexpected EOF"),
            }
        }
    }

    fn expect_close(&mut self) -> R<()> {
        if self.peek() == Some(&Tok::Close) {
            self.i += 1;
            Ok(())
        } else {
            err(format!("template: unexpected {:?} in command", self.peek()))
        }
    }

    fn pipe(&mut self) -> R<Pipe> {
        let mut cmds = vec![self.cmd()?];
        while self.peek() == Some(&Tok::Pipe) {
            self.i += 1;
            cmds.push(self.cmd()?);
        }
        Ok(Pipe(cmds))
    }

    fn cmd(&mut self) -> R<Cmd> {
        let mut args = Vec::new();
        while let Some(t) = self.peek().cloned() {
            let a = match t {
                Tok::Field(f) => Arg::Field(f),
                Tok::Dot => Arg::Dot,
                Tok::Str(s) => Arg::Lit(Val::Str(s)),
                Tok::Num(n) => {
                    if let Ok(i) = n.parse::<i64>() {
                        Arg::Lit(Val::Int(i))
                    } else if let Ok(f) = n.parse::<f64>() {
                        Arg::Lit(Val::Float(f))
                    } else {
                        return err(format!("template: bad number syntax: \"{n}\""));
                    }
                }
                Tok::Ident(id) => match id.as_str() {
                    "true" => Arg::Lit(Val::Bool(true)),
                    "false" => Arg::Lit(Val::Bool(false)),
                    "nil" => Arg::Lit(Val::Nil),
                    _ => Arg::Func(id),
                },
                Tok::LParen => {
                    self.i += 1;
                    let p = self.pipe()?;
                    if self.peek() != Some(&Tok::RParen) {
                        return err("template: unclosed left paren");
                    }
                    Arg::Sub(p)
                }
                _ => break,
            };
            self.i += 1;
            args.push(a);
        }
        if args.is_empty() {
            return err("template: missing value for command");
        }
        Ok(Cmd(args))
    }
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
