//! The parser: recursive descent, with precedence climbing for binary
//! operators. Every recursion goes through [`Parser::nested`], which counts
//! the depth against [`crate::MAX_DEPTH`] before recursing and runs on a
//! stack grown on the heap when the current one runs low, so no input can
//! overflow the stack. Chains of left-associative operators are parsed in a
//! loop, without recursion, but the tree they build is as deep as they are
//! long, and every later walk of it (`Drop`, `PartialEq`, an evaluator)
//! recurses once per level: so the parser also tracks the height of the
//! metric tree it builds and refuses one higher than [`crate::MAX_DEPTH`].

use crate::ast::*;
use crate::lexer::{Tok, Token};
use crate::ParseError;
use crate::MAX_DEPTH;

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Height of the metric expression [`Parser::parse_expr`] and
    /// [`Parser::parse_operand`] returned last (a leaf is 1).
    height: usize,
    /// Apply Loki's checks beyond the grammar (see [`crate::parse`]).
    pub(crate) validate: bool,
}

type Result<T> = std::result::Result<T, ParseError>;

const RANGE_OPS: [(&str, RangeOp); 15] = [
    ("count_over_time", RangeOp::CountOverTime),
    ("rate", RangeOp::Rate),
    ("rate_counter", RangeOp::RateCounter),
    ("bytes_over_time", RangeOp::BytesOverTime),
    ("bytes_rate", RangeOp::BytesRate),
    ("absent_over_time", RangeOp::AbsentOverTime),
    ("sum_over_time", RangeOp::SumOverTime),
    ("avg_over_time", RangeOp::AvgOverTime),
    ("min_over_time", RangeOp::MinOverTime),
    ("max_over_time", RangeOp::MaxOverTime),
    ("stdvar_over_time", RangeOp::StdvarOverTime),
    ("stddev_over_time", RangeOp::StddevOverTime),
    ("quantile_over_time", RangeOp::QuantileOverTime),
    ("first_over_time", RangeOp::FirstOverTime),
    ("last_over_time", RangeOp::LastOverTime),
];

const VECTOR_OPS: [(&str, VectorOp); 11] = [
    ("sum", VectorOp::Sum),
    ("avg", VectorOp::Avg),
    ("min", VectorOp::Min),
    ("max", VectorOp::Max),
    ("count", VectorOp::Count),
    ("stddev", VectorOp::Stddev),
    ("stdvar", VectorOp::Stdvar),
    ("topk", VectorOp::Topk),
    ("bottomk", VectorOp::Bottomk),
    ("sort", VectorOp::Sort),
    ("sort_desc", VectorOp::SortDesc),
];

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, toks: Vec<Token>, validate: bool) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            depth: 0,
            height: 0,
            validate,
        }
    }

    // ---- tokens -------------------------------------------------------

    pub(crate) fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    /// Byte offset of the current token.
    pub(crate) fn offset(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].start
    }

    pub(crate) fn bump(&mut self) -> Token {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn text(&self, t: &Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    /// The current token's text when it is an identifier.
    pub(crate) fn ident_at(&self, n: usize) -> Option<&'a str> {
        let i = (self.pos + n).min(self.toks.len() - 1);
        let t = &self.toks[i];
        (t.tok == Tok::Ident).then(|| &self.src[t.start..t.end])
    }

    /// Is the token `n` ahead the keyword `kw` (case-insensitive)?
    pub(crate) fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        self.ident_at(n).is_some_and(|s| s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    pub(crate) fn describe(&self, t: &Token) -> String {
        let text = self.text(t);
        let short = |s: &str| -> String {
            let mut out: String = s.chars().take(32).collect();
            if out.len() < s.len() {
                out.push('…');
            }
            out
        };
        match &t.tok {
            Tok::Eof => "end of input".to_string(),
            Tok::Ident => format!("identifier {:?}", short(text)),
            Tok::Str(s) => format!("string {:?}", short(s)),
            Tok::Number(_) => format!("number {}", short(text)),
            Tok::Duration(_) => format!("duration {}", short(text)),
            Tok::Bytes(_) => format!("byte size {}", short(text)),
            Tok::Range(_) => format!("range {}", short(text)),
            Tok::Flag => format!("flag {text}"),
            _ => format!("\"{text}\""),
        }
    }

    /// A syntax error at the current token.
    pub(crate) fn unexpected(&self, expected: &str) -> ParseError {
        let t = &self.toks[self.pos.min(self.toks.len() - 1)];
        ParseError::syntax(self.src, t.start, self.describe(t), expected)
    }

    pub(crate) fn invalid_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        ParseError::invalid(self.src, pos, message)
    }

    pub(crate) fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token> {
        if *self.peek() == tok {
            Ok(self.bump())
        } else {
            Err(self.unexpected(expected))
        }
    }

    pub(crate) fn expect_ident(&mut self, expected: &str) -> Result<String> {
        match self.ident_at(0) {
            Some(s) => {
                self.bump();
                Ok(s.to_string())
            }
            None => Err(self.unexpected(expected)),
        }
    }

    pub(crate) fn expect_string(&mut self, expected: &str) -> Result<(String, usize)> {
        let pos = self.offset();
        match self.peek() {
            Tok::Str(s) => {
                let s = s.clone();
                self.bump();
                Ok((s, pos))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// Runs `f` one level deeper: refuses to go past [`MAX_DEPTH`] and grows
    /// the stack when it runs low.
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::too_deep(
                self.src,
                self.offset(),
                crate::MAX_DEPTH,
            ));
        }
        self.depth += 1;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || f(self));
        self.depth -= 1;
        r
    }

    // ---- expressions --------------------------------------------------

    /// The whole query.
    pub(crate) fn parse_query(&mut self) -> Result<Expr> {
        let e = self.parse_expr(0)?;
        if *self.peek() != Tok::Eof {
            let expected = match e {
                Expr::Log(_) => "a pipeline stage or end of query",
                Expr::Metric(_) => "a binary operator or end of query",
            };
            return Err(self.unexpected(expected));
        }
        Ok(e)
    }

    fn peek_binop(&self) -> Option<BinaryOp> {
        Some(match self.peek() {
            Tok::Plus => BinaryOp::Add,
            Tok::Minus => BinaryOp::Sub,
            Tok::Star => BinaryOp::Mul,
            Tok::Slash => BinaryOp::Div,
            Tok::Percent => BinaryOp::Mod,
            Tok::Caret => BinaryOp::Pow,
            Tok::EqEq => BinaryOp::Eq,
            Tok::Neq => BinaryOp::Neq,
            Tok::Gt => BinaryOp::Gt,
            Tok::Gte => BinaryOp::Gte,
            Tok::Lt => BinaryOp::Lt,
            Tok::Lte => BinaryOp::Lte,
            Tok::Ident if self.is_kw("or") => BinaryOp::Or,
            Tok::Ident if self.is_kw("and") => BinaryOp::And,
            Tok::Ident if self.is_kw("unless") => BinaryOp::Unless,
            _ => return None,
        })
    }

    /// An expression whose binary operators all bind at least as tightly as
    /// `min_prec`.
    pub(crate) fn parse_expr(&mut self, min_prec: u8) -> Result<Expr> {
        let mut lhs = self.parse_operand()?;
        let mut height = self.height;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            let op_pos = self.offset();
            self.bump();
            let (return_bool, matching) = self.parse_bin_modifiers(op)?;
            let next = if op.is_right_associative() {
                prec
            } else {
                prec + 1
            };
            let rhs_pos = self.offset();
            let rhs = self.nested(|p| p.parse_expr(next))?;
            height = height.max(self.height) + 1;
            if height > MAX_DEPTH {
                return Err(ParseError::too_deep(self.src, op_pos, crate::MAX_DEPTH));
            }
            let lhs_m = self.metric_operand(lhs, op_pos, "left")?;
            let rhs_m = self.metric_operand(rhs, rhs_pos, "right")?;
            if op.is_set_operator() {
                for (side, e) in [("left", &lhs_m), ("right", &rhs_m)] {
                    if let MetricExpr::Literal(v) = e {
                        return Err(self.invalid_at(
                            op_pos,
                            format!(
                                "unexpected literal for {side} leg of logical/set binary \
                                 operation ({}): {v}",
                                op_name(op)
                            ),
                        ));
                    }
                }
            }
            lhs = Expr::Metric(MetricExpr::Binary(Box::new(BinaryExpr {
                op,
                lhs: lhs_m,
                rhs: rhs_m,
                return_bool,
                matching,
            })));
        }
        self.height = height;
        Ok(lhs)
    }

    fn metric_operand(&self, e: Expr, pos: usize, side: &str) -> Result<MetricExpr> {
        match e {
            Expr::Metric(m) => Ok(m),
            Expr::Log(_) => Err(self.invalid_at(
                pos,
                format!(
                    "the {side} operand of a binary operation is a log query; \
                     binary operations take metric queries (e.g. count_over_time({{…}}[5m]))"
                ),
            )),
        }
    }

    /// `bool`, `on (…)` / `ignoring (…)`, `group_left (…)` / `group_right (…)`.
    fn parse_bin_modifiers(&mut self, op: BinaryOp) -> Result<(bool, Option<VectorMatching>)> {
        let mut return_bool = false;
        if self.is_kw("bool") {
            if !op.is_comparison() {
                return Err(self.invalid_at(
                    self.offset(),
                    format!(
                        "bool modifier can only be used on comparison operators, not {}",
                        op_name(op)
                    ),
                ));
            }
            self.bump();
            return_bool = true;
        }
        let on = if self.is_kw("on") {
            true
        } else if self.is_kw("ignoring") {
            false
        } else {
            return Ok((return_bool, None));
        };
        self.bump();
        let labels = self.parse_label_list()?;
        let mut cardinality = Cardinality::OneToOne;
        let group_pos = self.offset();
        for (kw, left) in [("group_left", true), ("group_right", false)] {
            if self.is_kw(kw) {
                self.bump();
                let include = if *self.peek() == Tok::LParen {
                    self.parse_label_list()?
                } else {
                    Vec::new()
                };
                cardinality = if left {
                    Cardinality::ManyToOne(include)
                } else {
                    Cardinality::OneToMany(include)
                };
                if op.is_set_operator() {
                    return Err(self.invalid_at(
                        group_pos,
                        format!("no grouping allowed for \"{}\" operation", op_name(op)),
                    ));
                }
                break;
            }
        }
        Ok((
            return_bool,
            Some(VectorMatching {
                on,
                labels,
                cardinality,
            }),
        ))
    }

    /// `(a, b)` or `()`.
    pub(crate) fn parse_label_list(&mut self) -> Result<Vec<String>> {
        self.expect(Tok::LParen, "\"(\" and a list of labels")?;
        let mut labels = Vec::new();
        if *self.peek() == Tok::RParen {
            self.bump();
            return Ok(labels);
        }
        loop {
            labels.push(self.expect_ident("a label name")?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(labels);
                }
                _ => return Err(self.unexpected("\",\" or \")\"")),
            }
        }
    }

    fn parse_grouping(&mut self) -> Result<Option<Grouping>> {
        let without = if self.is_kw("by") {
            false
        } else if self.is_kw("without") {
            true
        } else {
            return Ok(None);
        };
        self.bump();
        let labels = self.parse_label_list()?;
        Ok(Some(Grouping { without, labels }))
    }

    /// A literal, a parenthesised expression, a log query or a function call.
    fn parse_operand(&mut self) -> Result<Expr> {
        // Leaves; a parenthesised expression and calls set their own.
        self.height = 1;
        match self.peek().clone() {
            Tok::LParen => {
                self.bump();
                let e = self.nested(|p| p.parse_expr(0))?;
                self.expect(Tok::RParen, "\")\" or a binary operator")?;
                Ok(e)
            }
            Tok::LBrace => Ok(Expr::Log(self.parse_log_expr()?)),
            Tok::Number(v) => {
                self.bump();
                Ok(Expr::Metric(MetricExpr::Literal(v)))
            }
            Tok::Plus | Tok::Minus => match *self.peek_at(1) {
                Tok::Number(v) => {
                    let neg = *self.peek() == Tok::Minus;
                    self.bump();
                    self.bump();
                    Ok(Expr::Metric(MetricExpr::Literal(if neg { -v } else { v })))
                }
                _ => {
                    self.bump();
                    Err(self.unexpected("a number after the sign"))
                }
            },
            Tok::Ident => self.parse_call(),
            _ => Err(self.unexpected("a stream selector, a metric expression or a number")),
        }
    }

    /// A function call: a range or vector aggregation, `vector`,
    /// `label_replace`.
    fn parse_call(&mut self) -> Result<Expr> {
        let name = self.ident_at(0).unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        let call_pos = self.offset();
        let paren_next = *self.peek_at(1) == Tok::LParen;
        if let Some(&(_, op)) = RANGE_OPS.iter().find(|(n, _)| *n == lower) {
            if paren_next {
                self.bump();
                return self
                    .nested(|p| p.parse_range_aggregation(op, call_pos))
                    .map(Expr::Metric);
            }
        }
        if let Some(&(_, op)) = VECTOR_OPS.iter().find(|(n, _)| *n == lower) {
            if paren_next || self.is_kw_at(1, "by") || self.is_kw_at(1, "without") {
                self.bump();
                return self
                    .nested(|p| p.parse_vector_aggregation(op, call_pos))
                    .map(Expr::Metric);
            }
        }
        if lower == "vector" && paren_next {
            self.bump();
            self.bump();
            let v = match *self.peek() {
                Tok::Number(v) => v,
                _ => return Err(self.unexpected("a number")),
            };
            self.bump();
            self.expect(Tok::RParen, "\")\"")?;
            return Ok(Expr::Metric(MetricExpr::Vector(v)));
        }
        if lower == "label_replace" && paren_next {
            self.bump();
            return self.nested(|p| p.parse_label_replace()).map(Expr::Metric);
        }
        Err(self.unexpected("a stream selector, a metric expression or a number"))
    }

    /// After the function name: `([quantile,] log range) [grouping]`.
    fn parse_range_aggregation(&mut self, op: RangeOp, call_pos: usize) -> Result<MetricExpr> {
        self.expect(Tok::LParen, "\"(\"")?;
        let param = self.parse_param()?;
        let range = self.parse_log_range()?;
        self.expect(Tok::RParen, "\")\"")?;
        let grouping = self.parse_grouping()?;
        let name = RANGE_OPS
            .iter()
            .find(|(_, o)| *o == op)
            .map_or("", |(n, _)| n);
        let param = match (op, param) {
            (RangeOp::QuantileOverTime, Some((v, _, _))) => Some(v),
            (RangeOp::QuantileOverTime, None) => {
                return Err(
                    self.invalid_at(call_pos, format!("parameter required for operation {name}"))
                )
            }
            (_, Some((_, text, pos))) => {
                return Err(self.invalid_at(
                    pos,
                    format!("parameter {text} not supported for operation {name}"),
                ))
            }
            (_, None) => None,
        };
        use RangeOp::*;
        if grouping.is_some()
            && !matches!(
                op,
                AvgOverTime
                    | StddevOverTime
                    | StdvarOverTime
                    | QuantileOverTime
                    | MaxOverTime
                    | MinOverTime
                    | FirstOverTime
                    | LastOverTime
            )
        {
            return Err(self.invalid_at(
                call_pos,
                format!("grouping not allowed for {name} aggregation"),
            ));
        }
        let unwrapped = range.unwrap.is_some();
        let ok = if unwrapped {
            !matches!(op, CountOverTime | BytesOverTime | BytesRate)
        } else {
            matches!(
                op,
                BytesOverTime | BytesRate | CountOverTime | Rate | AbsentOverTime
            )
        };
        if !ok {
            let which = if unwrapped { "with" } else { "without" };
            return Err(self.invalid_at(
                call_pos,
                format!("invalid aggregation {name} {which} unwrap"),
            ));
        }
        Ok(MetricExpr::RangeAggregation(Box::new(RangeAggregation {
            op,
            param,
            range,
            grouping,
        })))
    }

    /// `NUMBER ,` at the start of a call's arguments: (value, text, offset).
    fn parse_param(&mut self) -> Result<Option<(f64, &'a str, usize)>> {
        if let (Tok::Number(v), Tok::Comma) = (self.peek().clone(), self.peek_at(1)) {
            let pos = self.offset();
            let t = self.bump();
            self.bump();
            return Ok(Some((v, self.text(&t), pos)));
        }
        Ok(None)
    }

    /// After the function name: `[grouping] ([k,] expr) [grouping]`.
    fn parse_vector_aggregation(&mut self, op: VectorOp, call_pos: usize) -> Result<MetricExpr> {
        let mut grouping = self.parse_grouping()?;
        self.expect(Tok::LParen, "\"(\"")?;
        let param = self.parse_param()?;
        let inner_pos = self.offset();
        let inner = self.parse_expr(0)?;
        let height = self.wrap_height(inner_pos)?;
        let expr = match inner {
            Expr::Metric(m) => m,
            Expr::Log(_) => {
                return Err(self.invalid_at(
                    inner_pos,
                    "vector aggregations take a metric query, not a log query \
                     (e.g. sum(count_over_time({…}[5m])))",
                ))
            }
        };
        self.expect(Tok::RParen, "\")\" or a binary operator")?;
        if grouping.is_none() {
            grouping = self.parse_grouping()?;
        }
        let name = VECTOR_OPS
            .iter()
            .find(|(_, o)| *o == op)
            .map_or("", |(n, _)| n);
        let param = match (op, param) {
            (VectorOp::Topk | VectorOp::Bottomk, None) => {
                return Err(
                    self.invalid_at(call_pos, format!("parameter required for operation {name}"))
                )
            }
            (VectorOp::Topk | VectorOp::Bottomk, Some((_, text, pos))) => {
                let Ok(k) = text.parse::<i64>() else {
                    return Err(self.invalid_at(
                        pos,
                        format!("invalid parameter {name}({text},: must be an integer"),
                    ));
                };
                if k <= 0 {
                    return Err(self.invalid_at(
                        pos,
                        format!("invalid parameter (must be greater than 0) {name}({text}"),
                    ));
                }
                Some(k)
            }
            (_, Some((_, text, pos))) => {
                return Err(self.invalid_at(
                    pos,
                    format!("unsupported parameter for operation {name}({text},"),
                ))
            }
            (_, None) => None,
        };
        if self.validate
            && matches!(op, VectorOp::Sort | VectorOp::SortDesc)
            && grouping.as_ref().is_some_and(|g| !g.labels.is_empty())
        {
            return Err(self.invalid_at(
                call_pos,
                "sort and sort_desc doesn't allow grouping by labels",
            ));
        }
        self.height = height;
        Ok(MetricExpr::VectorAggregation(Box::new(VectorAggregation {
            op,
            param,
            expr,
            grouping,
        })))
    }

    /// After `label_replace`: `(expr, "dst", "replacement", "src", "regex")`.
    fn parse_label_replace(&mut self) -> Result<MetricExpr> {
        self.expect(Tok::LParen, "\"(\"")?;
        let inner_pos = self.offset();
        let inner = self.parse_expr(0)?;
        let height = self.wrap_height(inner_pos)?;
        let expr = match inner {
            Expr::Metric(m) => m,
            Expr::Log(_) => {
                return Err(self.invalid_at(
                    inner_pos,
                    "label_replace takes a metric query, not a log query",
                ))
            }
        };
        let mut args = Vec::with_capacity(4);
        for what in ["destination label", "replacement", "source label", "regex"] {
            self.expect(Tok::Comma, "\",\"")?;
            args.push(self.expect_string(&format!("a string ({what})"))?);
        }
        self.expect(Tok::RParen, "\")\"")?;
        let [(dst, dst_pos), (replacement, _), (src, _), (regex, regex_pos)]: [(String, usize); 4] =
            args.try_into()
                .map_err(|_| self.unexpected("label_replace arguments"))?;
        if !is_label_name(&dst) {
            return Err(self.invalid_at(
                dst_pos,
                format!("invalid destination label name in label_replace(): {dst:?}"),
            ));
        }
        self.check_regex(&regex, regex_pos, "label_replace")?;
        self.height = height;
        Ok(MetricExpr::LabelReplace(Box::new(LabelReplace {
            expr,
            dst,
            replacement,
            src,
            regex,
        })))
    }

    /// Height of a call around the expression just parsed.
    fn wrap_height(&self, pos: usize) -> Result<usize> {
        let h = self.height + 1;
        if h > MAX_DEPTH {
            return Err(ParseError::too_deep(self.src, pos, crate::MAX_DEPTH));
        }
        Ok(h)
    }

    /// Refuses a regex the evaluator could not compile.
    pub(crate) fn check_regex(&self, re: &str, pos: usize, what: &str) -> Result<regex::Regex> {
        regex::RegexBuilder::new(&format!("^(?:{re})$"))
            .size_limit(8 << 20)
            .build()
            .map_err(|e| {
                let msg = e.to_string();
                let first = msg.lines().last().unwrap_or("").trim();
                self.invalid_at(pos, format!("invalid regex in {what}: {first}"))
            })
    }
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

pub(crate) fn op_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "or",
        BinaryOp::And => "and",
        BinaryOp::Unless => "unless",
        BinaryOp::Eq => "==",
        BinaryOp::Neq => "!=",
        BinaryOp::Gt => ">",
        BinaryOp::Gte => ">=",
        BinaryOp::Lt => "<",
        BinaryOp::Lte => "<=",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "^",
    }
}

pub(crate) fn range_op_name(op: RangeOp) -> &'static str {
    RANGE_OPS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or("", |(n, _)| n)
}

pub(crate) fn vector_op_name(op: VectorOp) -> &'static str {
    VECTOR_OPS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or("", |(n, _)| n)
}
