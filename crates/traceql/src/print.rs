//! `Display`: prints a query back to TraceQL that parses to the same tree,
//! with the parentheses the tree's shape needs and no others.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::expr::UNARY_PREC;
use crate::lexer::is_name_char;

/// Deep trees print on a grown stack, as they are parsed.
fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pipeline)?;
        if let Some(m) = &self.metrics {
            write!(f, " | {m}")?;
            if let Some(s) = &self.second_stage {
                write!(f, " | {s}")?;
            }
        }
        if !self.hints.is_empty() {
            f.write_str(" with (")?;
            for (i, h) in self.hints.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}={}", h.name, h.value)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl Display for Pipeline {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, s) in self.stages.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Spanset(e) => write!(f, "{e}"),
            Stage::ScalarFilter(s) => write!(f, "{s}"),
            Stage::GroupBy(e) => write!(f, "by({e})"),
            Stage::Select(fields) => write!(f, "select({})", FieldList(fields)),
            Stage::Coalesce => f.write_str("coalesce()"),
        }
    }
}

struct FieldList<'a>(&'a [Field]);

impl Display for FieldList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{x}")?;
        }
        Ok(())
    }
}

impl SpansetOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        use SpansetOp::*;
        match self {
            And => "&&",
            Or => "||",
            Child => ">",
            Parent => "<",
            Descendant => ">>",
            Ancestor => "<<",
            Sibling => "~",
            NotChild => "!>",
            NotParent => "!<",
            NotDescendant => "!>>",
            NotAncestor => "!<<",
            NotSibling => "!~",
            UnionChild => "&>",
            UnionParent => "&<",
            UnionDescendant => "&>>",
            UnionAncestor => "&<<",
            UnionSibling => "&~",
        }
    }

    pub(crate) fn precedence(self) -> u8 {
        match self {
            SpansetOp::And | SpansetOp::Or => 1,
            _ => 2,
        }
    }
}

fn spanset_prec(e: &SpansetExpr) -> u8 {
    match e {
        SpansetExpr::Op { op, .. } => op.precedence(),
        _ => 3,
    }
}

impl Display for SpansetExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        grow(|| match self {
            SpansetExpr::Filter(x) => write!(f, "{x}"),
            SpansetExpr::Pipeline(p) => write!(f, "({p})"),
            SpansetExpr::Op { op, lhs, rhs } => {
                let p = op.precedence();
                paren(f, lhs, spanset_prec(lhs) < p)?;
                write!(f, " {} ", op.as_str())?;
                paren(f, rhs, spanset_prec(rhs) <= p)
            }
        })
    }
}

fn paren(f: &mut Formatter<'_>, x: &dyn Display, wrap: bool) -> fmt::Result {
    if wrap {
        write!(f, "({x})")
    } else {
        write!(f, "{x}")
    }
}

impl Display for SpansetFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.expr {
            None => f.write_str("{}"),
            Some(e) => write!(f, "{{ {e} }}"),
        }
    }
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        use BinaryOp::*;
        match self {
            And => "&&",
            Or => "||",
            Eq => "=",
            Neq => "!=",
            Lt => "<",
            Lte => "<=",
            Gt => ">",
            Gte => ">=",
            Regex => "=~",
            NotRegex => "!~",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Pow => "^",
        }
    }
}

fn field_prec(e: &FieldExpr) -> u8 {
    match e {
        FieldExpr::Binary { op, .. } => op.precedence(),
        FieldExpr::Unary { .. } => UNARY_PREC,
        _ => 10,
    }
}

impl Display for FieldExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        grow(|| match self {
            FieldExpr::Static(s) => write!(f, "{s}"),
            FieldExpr::Intrinsic(i) => f.write_str(i.as_str()),
            FieldExpr::Attribute(a) => write!(f, "{a}"),
            FieldExpr::Unary { op, expr } => {
                f.write_str(match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Not => "!",
                })?;
                paren(
                    f,
                    expr,
                    field_prec(expr) <= UNARY_PREC && !matches!(**expr, FieldExpr::Unary { .. }),
                )
            }
            FieldExpr::Binary { op, lhs, rhs } => {
                let p = op.precedence();
                let (l, r) = (field_prec(lhs), field_prec(rhs));
                paren(f, lhs, l < p || (l == p && op.right_assoc()))?;
                write!(f, " {} ", op.as_str())?;
                paren(f, rhs, r < p || (r == p && !op.right_assoc()))
            }
        })
    }
}

impl Display for Static {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Static::Int(n) => write!(f, "{n}"),
            Static::Float(x) => write_float(f, *x),
            Static::String(s) => write_quoted(f, s),
            Static::Duration(d) => write_duration(f, *d),
            Static::Bool(b) => write!(f, "{b}"),
            Static::Nil => f.write_str("nil"),
            Static::Status(s) => f.write_str(match s {
                Status::Ok => "ok",
                Status::Error => "error",
                Status::Unset => "unset",
            }),
            Static::Kind(k) => f.write_str(match k {
                Kind::Unspecified => "unspecified",
                Kind::Internal => "internal",
                Kind::Server => "server",
                Kind::Client => "client",
                Kind::Producer => "producer",
                Kind::Consumer => "consumer",
            }),
        }
    }
}

/// A float with a `.` so that it reads back as a float.
fn write_float(f: &mut Formatter<'_>, x: f64) -> fmt::Result {
    let s = x.to_string();
    if s.contains('.') || !x.is_finite() {
        f.write_str(&s)
    } else {
        write!(f, "{s}.0")
    }
}

/// A duration in the largest unit that divides it: `1500ms`, `2h`.
fn write_duration(f: &mut Formatter<'_>, ns: i64) -> fmt::Result {
    if ns < 0 {
        f.write_char('-')?;
    }
    let ns = ns.unsigned_abs();
    const UNITS: &[(u64, &str)] = &[
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    if ns == 0 {
        return f.write_str("0s");
    }
    for (u, s) in UNITS {
        if ns.is_multiple_of(*u) {
            return write!(f, "{}{s}", ns / u);
        }
    }
    write!(f, "{ns}ns")
}

/// A double-quoted string the lexer reads back as `s`.
fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl Display for Attribute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.parent {
            f.write_str("parent")?;
        }
        match self.scope.keyword() {
            Some(k) => write!(f, "{}{k}.", if self.parent { "." } else { "" })?,
            None => f.write_str(".")?,
        }
        // `parent.span.x` would read as the span scope: quote such names.
        let scope_like = self.parent
            && self.scope == Scope::None
            && self
                .name
                .split_once('.')
                .is_some_and(|(w, _)| Scope::from_keyword(w).is_some());
        if self.name.is_empty() || scope_like || !self.name.chars().all(is_name_char) {
            write_quoted(f, &self.name)
        } else {
            f.write_str(&self.name)
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Field::Intrinsic(i) => f.write_str(i.as_str()),
            Field::Attribute(a) => write!(f, "{a}"),
        }
    }
}

impl Display for ScalarFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            ComparisonOp::Eq => "=",
            ComparisonOp::Neq => "!=",
            ComparisonOp::Lt => "<",
            ComparisonOp::Lte => "<=",
            ComparisonOp::Gt => ">",
            ComparisonOp::Gte => ">=",
        };
        write!(f, "{} {op} {}", self.lhs, self.rhs)
    }
}

fn scalar_prec(e: &ScalarExpr) -> u8 {
    match e {
        ScalarExpr::Binary { op, .. } => op.scalar_precedence(),
        _ => 10,
    }
}

impl Display for ScalarExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        grow(|| match self {
            ScalarExpr::Aggregate(a) => write!(f, "{a}"),
            ScalarExpr::Int(n) => write!(f, "{n}"),
            ScalarExpr::Float(x) => write_float(f, *x),
            ScalarExpr::Duration(d) => write_duration(f, *d),
            ScalarExpr::Binary { op, lhs, rhs } => {
                let p = op.scalar_precedence();
                let (l, r) = (scalar_prec(lhs), scalar_prec(rhs));
                paren(f, lhs, l < p || (l == p && op.right_assoc()))?;
                write!(f, " {} ", op.as_str())?;
                paren(f, rhs, r < p || (r == p && !op.right_assoc()))
            }
        })
    }
}

impl Display for Aggregate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Aggregate::Count => f.write_str("count()"),
            Aggregate::Avg(e) => write!(f, "avg({e})"),
            Aggregate::Min(e) => write!(f, "min({e})"),
            Aggregate::Max(e) => write!(f, "max({e})"),
            Aggregate::Sum(e) => write!(f, "sum({e})"),
        }
    }
}

impl Display for MetricsStage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.function {
            MetricsFunction::Rate => f.write_str("rate()")?,
            MetricsFunction::CountOverTime => f.write_str("count_over_time()")?,
            MetricsFunction::MinOverTime(x) => write!(f, "min_over_time({x})")?,
            MetricsFunction::MaxOverTime(x) => write!(f, "max_over_time({x})")?,
            MetricsFunction::AvgOverTime(x) => write!(f, "avg_over_time({x})")?,
            MetricsFunction::SumOverTime(x) => write!(f, "sum_over_time({x})")?,
            MetricsFunction::HistogramOverTime(x) => write!(f, "histogram_over_time({x})")?,
            MetricsFunction::QuantileOverTime { field, quantiles } => {
                write!(f, "quantile_over_time({field}")?;
                for q in quantiles {
                    f.write_str(", ")?;
                    write_float(f, *q)?;
                }
                f.write_str(")")?;
            }
            MetricsFunction::Compare {
                filter,
                top_n,
                window,
            } => {
                write!(f, "compare({filter}")?;
                if let Some(n) = top_n {
                    write!(f, ", {n}")?;
                    if let Some((s, e)) = window {
                        write!(f, ", {s}, {e}")?;
                    }
                }
                f.write_str(")")?;
            }
        }
        if !self.by.is_empty() {
            write!(f, " by ({})", FieldList(&self.by))?;
        }
        Ok(())
    }
}

impl Display for SecondStage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SecondStage::TopK(n) => write!(f, "topk({n})"),
            SecondStage::BottomK(n) => write!(f, "bottomk({n})"),
        }
    }
}
