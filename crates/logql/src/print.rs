//! Printing the AST back to LogQL ([`std::fmt::Display`]): one canonical
//! form (double-quoted strings, `==` for numeric equality, groupings of
//! vector aggregations before the arguments, parentheses only where the tree
//! needs them) that parses back to the same tree.
//!
//! That holds for every tree the parser builds. A tree built by hand can
//! hold what LogQL cannot write, and then prints text that reads back
//! differently or not at all: a range that is not a whole number of
//! milliseconds (`[…]` takes Prometheus durations), a negative `vector(…)`
//! or `topk` parameter, empty lists, unflattened `And`/`Or`, or a `drop` /
//! `keep` ending in a bare name before a `!=` or `!~` line filter.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::parser::{op_name, range_op_name, vector_op_name};
use crate::units::{format_duration, format_prom_duration};

/// Writes `s` as a double-quoted LogQL string.
pub(crate) fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() || c == '\u{feff}' => {
                if (c as u32) <= 0xffff {
                    write!(f, "\\u{:04x}", c as u32)?
                } else {
                    write!(f, "\\U{:08x}", c as u32)?
                }
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// A number that reads back as the same `f64` (never in exponent form; a
/// negative zero as `-0.0`, since `-0` would read as a duration).
fn write_number(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    if v == 0.0 && v.is_sign_negative() {
        f.write_str("-0.0")
    } else {
        write!(f, "{v}")
    }
}

fn write_list(f: &mut Formatter<'_>, labels: &[String]) -> fmt::Result {
    f.write_char('(')?;
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(l)?;
    }
    f.write_char(')')
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl Display for MatchOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Eq => "=",
            MatchOp::Neq => "!=",
            MatchOp::Re => "=~",
            MatchOp::Nre => "!~",
        })
    }
}

impl Display for Matcher {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, self.op)?;
        write_quoted(f, &self.value)
    }
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('{')?;
        for (i, m) in self.selector.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            m.fmt(f)?;
        }
        f.write_char('}')?;
        for s in &self.pipeline {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

impl Display for LineFilterOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LineFilterOp::Contains => "|=",
            LineFilterOp::NotContains => "!=",
            LineFilterOp::Match => "|~",
            LineFilterOp::NotMatch => "!~",
            LineFilterOp::Pattern => "|>",
            LineFilterOp::NotPattern => "!>",
        })
    }
}

impl Display for LineFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.op)?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            match v {
                LineFilterValue::Text(s) => write_quoted(f, s)?,
                LineFilterValue::Ip(s) => {
                    f.write_str("ip(")?;
                    write_quoted(f, s)?;
                    f.write_char(')')?;
                }
            }
        }
        Ok(())
    }
}

fn write_extractions(f: &mut Formatter<'_>, params: &[LabelExtraction]) -> fmt::Result {
    for (i, p) in params.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        f.write_str(&p.name)?;
        if let Some(path) = &p.path {
            f.write_char('=')?;
            write_quoted(f, path)?;
        }
    }
    Ok(())
}

fn write_selections(f: &mut Formatter<'_>, v: &[LabelSelection]) -> fmt::Result {
    for (i, s) in v.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        match s {
            LabelSelection::Name(n) => f.write_str(n)?,
            LabelSelection::Matcher(m) => m.fmt(f)?,
        }
    }
    Ok(())
}

impl Display for LogParser {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LogParser::Json(params) => {
                f.write_str("json")?;
                write_extractions(f, params)
            }
            LogParser::Logfmt {
                strict,
                keep_empty,
                params,
            } => {
                f.write_str("logfmt")?;
                if *strict {
                    f.write_str(" --strict")?;
                }
                if *keep_empty {
                    f.write_str(" --keep-empty")?;
                }
                write_extractions(f, params)
            }
            LogParser::Regexp(re) => {
                f.write_str("regexp ")?;
                write_quoted(f, re)
            }
            LogParser::Pattern(p) => {
                f.write_str("pattern ")?;
                write_quoted(f, p)
            }
            LogParser::Unpack => f.write_str("unpack"),
        }
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(l) => l.fmt(f),
            Stage::Parser(p) => write!(f, "| {p}"),
            Stage::LabelFilter(l) => {
                f.write_str("| ")?;
                write_stage_filter(f, l)
            }
            Stage::LineFormat(t) => {
                f.write_str("| line_format ")?;
                write_quoted(f, t)
            }
            Stage::LabelFormat(v) => {
                f.write_str("| label_format")?;
                for (i, l) in v.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write!(f, "{}=", l.name)?;
                    match &l.value {
                        LabelFormatValue::Rename(src) => f.write_str(src)?,
                        LabelFormatValue::Template(t) => write_quoted(f, t)?,
                    }
                }
                Ok(())
            }
            Stage::Drop(v) => {
                f.write_str("| drop")?;
                write_selections(f, v)
            }
            Stage::Keep(v) => {
                f.write_str("| keep")?;
                write_selections(f, v)
            }
            Stage::Decolorize => f.write_str("| decolorize"),
        }
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        })
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || match self {
            LabelFilter::Matcher(m) => m.fmt(f),
            LabelFilter::Ip {
                name,
                negated,
                value,
            } => {
                write!(f, "{name}{}ip(", if *negated { "!=" } else { "=" })?;
                write_quoted(f, value)?;
                f.write_char(')')
            }
            LabelFilter::Number { name, op, value } => {
                write!(f, "{name} {op} ")?;
                write_number(f, *value)
            }
            LabelFilter::Duration { name, op, value } => {
                write!(f, "{name} {op} {}", format_duration(*value))
            }
            LabelFilter::Bytes { name, op, value } => write!(f, "{name} {op} {value}B"),
            LabelFilter::And(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    // `and` binds tighter than `or`.
                    if matches!(x, LabelFilter::Or(_) | LabelFilter::And(_)) {
                        write!(f, "({x})")?;
                    } else {
                        x.fmt(f)?;
                    }
                }
                Ok(())
            }
            LabelFilter::Or(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    if matches!(x, LabelFilter::Or(_)) {
                        write!(f, "({x})")?;
                    } else {
                        x.fmt(f)?;
                    }
                }
                Ok(())
            }
        })
    }
}

/// Words that, right after `|`, start a stage of their own.
const STAGE_KEYWORDS: [&str; 11] = [
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "drop",
    "keep",
    "decolorize",
    "unwrap",
];

/// The label name a filter's text starts with, if it starts with one.
fn leading_name(l: &LabelFilter) -> Option<&str> {
    match l {
        LabelFilter::Matcher(m) => Some(&m.name),
        LabelFilter::Ip { name, .. }
        | LabelFilter::Number { name, .. }
        | LabelFilter::Duration { name, .. }
        | LabelFilter::Bytes { name, .. } => Some(name),
        LabelFilter::And(v) => match v.first() {
            Some(LabelFilter::And(_) | LabelFilter::Or(_)) | None => None,
            Some(x) => leading_name(x),
        },
        LabelFilter::Or(v) => match v.first() {
            Some(LabelFilter::Or(_)) | None => None,
            Some(x) => leading_name(x),
        },
    }
}

/// A label filter after `|`: in parentheses when it starts with a label
/// named like a stage (`(json="x")`), which would otherwise read as that
/// stage.
fn write_stage_filter(f: &mut Formatter<'_>, l: &LabelFilter) -> fmt::Result {
    let clash =
        leading_name(l).is_some_and(|n| STAGE_KEYWORDS.iter().any(|k| n.eq_ignore_ascii_case(k)));
    if clash {
        write!(f, "({l})")
    } else {
        l.fmt(f)
    }
}

impl Display for Grouping {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.without { "without " } else { "by " })?;
        write_list(f, &self.labels)
    }
}

impl Display for Unwrap {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("| unwrap ")?;
        match self.conversion {
            None => f.write_str(&self.label)?,
            Some(c) => {
                let name = match c {
                    Conversion::Bytes => "bytes",
                    Conversion::Duration => "duration",
                    Conversion::DurationSeconds => "duration_seconds",
                };
                write!(f, "{name}({})", self.label)?;
            }
        }
        for p in &self.post_filters {
            f.write_str(" | ")?;
            write_stage_filter(f, p)?;
        }
        Ok(())
    }
}

impl Display for LogRange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.log.fmt(f)?;
        if let Some(u) = &self.unwrap {
            write!(f, " {u}")?;
        }
        write!(f, " [{}]", format_prom_duration(self.range))?;
        if let Some(o) = self.offset {
            write!(f, " offset {}", format_duration(o))?;
        }
        Ok(())
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(op_name(*self))
    }
}

impl Display for RangeOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(range_op_name(*self))
    }
}

impl Display for VectorOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(vector_op_name(*self))
    }
}

/// Writes an operand of `parent`, in parentheses when it is a binary
/// operation that would otherwise group differently.
fn write_operand(
    f: &mut Formatter<'_>,
    parent: BinaryOp,
    e: &MetricExpr,
    right: bool,
) -> fmt::Result {
    let paren = match e {
        MetricExpr::Binary(b) => {
            let (p, c) = (parent.precedence(), b.op.precedence());
            c < p || (c == p && (right != parent.is_right_associative()))
        }
        _ => false,
    };
    if paren {
        write!(f, "({e})")
    } else {
        e.fmt(f)
    }
}

impl Display for MetricExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        stacker::maybe_grow(32 * 1024, 1024 * 1024, || match self {
            MetricExpr::Literal(v) => write_number(f, *v),
            MetricExpr::Vector(v) => {
                f.write_str("vector(")?;
                write_number(f, *v)?;
                f.write_char(')')
            }
            MetricExpr::RangeAggregation(r) => {
                write!(f, "{}(", r.op)?;
                if let Some(p) = r.param {
                    write_number(f, p)?;
                    f.write_str(", ")?;
                }
                write!(f, "{})", r.range)?;
                if let Some(g) = &r.grouping {
                    write!(f, " {g}")?;
                }
                Ok(())
            }
            MetricExpr::VectorAggregation(v) => {
                write!(f, "{}", v.op)?;
                if let Some(g) = &v.grouping {
                    write!(f, " {g} ")?;
                }
                f.write_char('(')?;
                if let Some(k) = v.param {
                    write!(f, "{k}, ")?;
                }
                write!(f, "{})", v.expr)
            }
            MetricExpr::LabelReplace(l) => {
                write!(f, "label_replace({}, ", l.expr)?;
                for (i, s) in [&l.dst, &l.replacement, &l.src, &l.regex]
                    .into_iter()
                    .enumerate()
                {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, s)?;
                }
                f.write_char(')')
            }
            MetricExpr::Binary(b) => {
                write_operand(f, b.op, &b.lhs, false)?;
                write!(f, " {}", b.op)?;
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(m) = &b.matching {
                    f.write_str(if m.on { " on " } else { " ignoring " })?;
                    write_list(f, &m.labels)?;
                    match &m.cardinality {
                        Cardinality::OneToOne => {}
                        Cardinality::ManyToOne(l) => {
                            f.write_str(" group_left ")?;
                            write_list(f, l)?;
                        }
                        Cardinality::OneToMany(l) => {
                            f.write_str(" group_right ")?;
                            write_list(f, l)?;
                        }
                    }
                }
                f.write_char(' ')?;
                write_operand(f, b.op, &b.rhs, true)
            }
        })
    }
}
