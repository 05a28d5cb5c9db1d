//! Recursive descent over the tokens: queries, pipelines, spanset
//! expressions, metrics stages and hints. Field and scalar expressions are in
//! `expr.rs`.

use crate::ast::*;
use crate::lexer::{Tok, Token};
use crate::ParseError;

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) toks: Vec<Token>,
    /// For each `(` token, the index of its `)` (or `usize::MAX`).
    matching: Vec<usize>,
    pub(crate) i: usize,
    depth: usize,
}

const METRICS: &[&str] = &[
    "rate",
    "count_over_time",
    "min_over_time",
    "max_over_time",
    "avg_over_time",
    "sum_over_time",
    "quantile_over_time",
    "histogram_over_time",
    "compare",
];

pub(crate) const AGGREGATES: &[&str] = &["count", "avg", "min", "max", "sum"];

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, toks: Vec<Token>) -> Self {
        let mut matching = vec![usize::MAX; toks.len()];
        let mut open = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            match t.tok {
                Tok::LParen => open.push(i),
                Tok::RParen => {
                    if let Some(o) = open.pop() {
                        matching[o] = i;
                    }
                }
                _ => {}
            }
        }
        Parser {
            src,
            toks,
            matching,
            i: 0,
            depth: 0,
        }
    }

    // ---- helpers ----

    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    pub(crate) fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    pub(crate) fn bump(&mut self) -> Tok {
        let t = self.toks[self.i].tok.clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    pub(crate) fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    pub(crate) fn unexpected(&self, expected: &str) -> ParseError {
        ParseError::syntax(self.src, self.pos(), self.peek().describe(), expected)
    }

    pub(crate) fn invalid(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::invalid(self.src, pos, msg)
    }

    pub(crate) fn expect(&mut self, t: &Tok, expected: &str) -> Result<(), ParseError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Runs `f` one level deeper: refuses past [`crate::MAX_DEPTH`], and
    /// grows the stack when needed.
    pub(crate) fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.enter()?;
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || f(self));
        self.depth -= 1;
        r
    }

    /// One more level (for operator chains: call [`Self::leave`] after).
    pub(crate) fn enter(&mut self) -> Result<(), ParseError> {
        if self.depth >= crate::MAX_DEPTH {
            return Err(ParseError::too_deep(self.src, self.pos(), crate::MAX_DEPTH));
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self, n: usize) {
        self.depth -= n;
    }

    // ---- query ----

    pub(crate) fn parse_query(&mut self) -> Result<Query, ParseError> {
        let mut stages = vec![self.stage(true)?];
        let mut metrics = None;
        let mut second_stage = None;
        while self.eat(&Tok::Pipe) {
            if self.metrics_next() {
                metrics = Some(self.metrics()?);
                if self.eat(&Tok::Pipe) {
                    second_stage = Some(self.second_stage()?);
                }
                break;
            }
            if self.is_word("topk") || self.is_word("bottomk") {
                return Err(self.invalid(
                    self.pos(),
                    "topk and bottomk must follow a metrics function (`| rate() | topk(5)`)",
                ));
            }
            stages.push(self.stage(false)?);
        }
        let mut hints = Vec::new();
        if self.is_word("with") {
            hints = self.hints()?;
        }
        if *self.peek() != Tok::Eof {
            let expected = if metrics.is_some() {
                "`|` then topk or bottomk, `with`, or end of input"
            } else {
                "`|`, a spanset operator, `with`, or end of input"
            };
            return Err(self.unexpected(expected));
        }
        Ok(Query {
            pipeline: Pipeline { stages },
            metrics,
            second_stage,
            hints,
        })
    }

    fn metrics_next(&self) -> bool {
        matches!(self.peek(), Tok::Word(w) if METRICS.contains(&w.as_str()))
    }

    /// Stages up to a `)` (the pipeline of `( … )`).
    fn inner_pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let mut stages = vec![self.stage(true)?];
        while self.eat(&Tok::Pipe) {
            if self.metrics_next() {
                return Err(self.invalid(
                    self.pos(),
                    "metrics functions may only end the whole query, not a pipeline in parentheses",
                ));
            }
            stages.push(self.stage(false)?);
        }
        Ok(Pipeline { stages })
    }

    fn stage(&mut self, first: bool) -> Result<Stage, ParseError> {
        match self.peek() {
            Tok::Word(w) if w == "by" => {
                self.bump();
                self.expect(&Tok::LParen, "`(` after by")?;
                let e = self.field_expr()?;
                if *self.peek() == Tok::Comma {
                    return Err(self.invalid(
                        self.pos(),
                        "by() in a pipeline takes one expression (several are for metrics: `| rate() by (a, b)`)",
                    ));
                }
                self.expect(&Tok::RParen, "`)` closing by(")?;
                Ok(Stage::GroupBy(e))
            }
            Tok::Word(w) if w == "select" => {
                self.bump();
                self.expect(&Tok::LParen, "`(` after select")?;
                let fields = self.field_list("select")?;
                Ok(Stage::Select(fields))
            }
            Tok::Word(w) if w == "coalesce" => {
                if first {
                    return Err(self.invalid(self.pos(), "coalesce() must follow a `|`"));
                }
                self.bump();
                self.expect(&Tok::LParen, "`(` after coalesce")?;
                self.expect(&Tok::RParen, "`)`: coalesce takes no arguments")?;
                Ok(Stage::Coalesce)
            }
            Tok::Word(w) if METRICS.contains(&w.as_str()) => Err(self.invalid(
                self.pos(),
                format!("{w}() must follow a spanset pipeline and `|`: `{{ }} | {w}(…)`"),
            )),
            _ if self.scalar_next() => Ok(Stage::ScalarFilter(self.scalar_filter()?)),
            _ => Ok(Stage::Spanset(self.spanset_expr()?)),
        }
    }

    /// Does a scalar filter (`count() > 1`, `(max(duration) + 1s) > 3s`)
    /// start here, rather than a spanset expression?
    fn scalar_next(&self) -> bool {
        match self.peek() {
            Tok::Word(w) => AGGREGATES.contains(&w.as_str()),
            Tok::Int(_) | Tok::Float(_) | Tok::Duration(_) | Tok::Minus => true,
            Tok::LParen => {
                // `( … )` then an arithmetic or comparison operator is a
                // parenthesized scalar; `>` and `<` are also spanset
                // operators, so look one token further.
                let close = self.matching[self.i];
                if close == usize::MAX {
                    return false;
                }
                let after = |k: usize| &self.toks[(close + k).min(self.toks.len() - 1)].tok;
                match after(1) {
                    Tok::Plus | Tok::Minus | Tok::Star | Tok::Slash | Tok::Percent | Tok::Caret => {
                        true
                    }
                    Tok::Eq | Tok::Neq | Tok::Lte | Tok::Gte => true,
                    Tok::Gt | Tok::Lt => !matches!(after(2), Tok::LBrace | Tok::LParen),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    // ---- spanset expressions ----

    pub(crate) fn spanset_expr(&mut self) -> Result<SpansetExpr, ParseError> {
        self.spanset_binary(0)
    }

    fn spanset_op(t: &Tok) -> Option<(SpansetOp, u8)> {
        use SpansetOp::*;
        Some(match t {
            Tok::And => (And, 1),
            Tok::Or => (Or, 1),
            Tok::Gt => (Child, 2),
            Tok::Lt => (Parent, 2),
            Tok::Desc => (Descendant, 2),
            Tok::Anc => (Ancestor, 2),
            Tok::Tilde => (Sibling, 2),
            Tok::NotChild => (NotChild, 2),
            Tok::NotParent => (NotParent, 2),
            Tok::NotDesc => (NotDescendant, 2),
            Tok::NotAnc => (NotAncestor, 2),
            Tok::NotRe => (NotSibling, 2),
            Tok::UnionChild => (UnionChild, 2),
            Tok::UnionParent => (UnionParent, 2),
            Tok::UnionDesc => (UnionDescendant, 2),
            Tok::UnionAnc => (UnionAncestor, 2),
            Tok::UnionSibl => (UnionSibling, 2),
            _ => return None,
        })
    }

    fn spanset_binary(&mut self, min: u8) -> Result<SpansetExpr, ParseError> {
        let mut lhs = self.spanset_primary()?;
        let mut levels = 0;
        let r = loop {
            let Some((op, prec)) = Self::spanset_op(self.peek()) else {
                break Ok(lhs);
            };
            if prec < min {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            self.bump();
            let rhs = match self.nested(|p| p.spanset_binary(prec + 1)) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            lhs = SpansetExpr::Op {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        };
        self.leave(levels);
        r
    }

    fn spanset_primary(&mut self) -> Result<SpansetExpr, ParseError> {
        match self.peek() {
            Tok::LBrace => Ok(SpansetExpr::Filter(self.spanset_filter()?)),
            Tok::LParen => {
                self.bump();
                let p = self.nested(|p| p.inner_pipeline())?;
                self.expect(&Tok::RParen, "`)`, `|` or a spanset operator")?;
                let mut stages = p.stages;
                if stages.len() == 1 && matches!(stages[0], Stage::Spanset(_)) {
                    let Some(Stage::Spanset(e)) = stages.pop() else {
                        unreachable!("checked above")
                    };
                    return Ok(e);
                }
                Ok(SpansetExpr::Pipeline(Box::new(Pipeline { stages })))
            }
            _ => Err(self.unexpected(
                "a spanset filter `{ … }`, `(`, an aggregate, by(), select() or coalesce()",
            )),
        }
    }

    pub(crate) fn spanset_filter(&mut self) -> Result<SpansetFilter, ParseError> {
        self.expect(&Tok::LBrace, "`{`")?;
        if self.eat(&Tok::RBrace) {
            return Ok(SpansetFilter { expr: None });
        }
        let e = self.nested(|p| p.field_expr())?;
        self.expect(&Tok::RBrace, "`}` or an operator")?;
        Ok(SpansetFilter { expr: Some(e) })
    }

    // ---- fields, metrics, hints ----

    /// An intrinsic or an attribute.
    pub(crate) fn field(&mut self) -> Result<Field, ParseError> {
        match self.peek().clone() {
            Tok::Attr(a) => {
                self.bump();
                Ok(Field::Attribute(a))
            }
            Tok::Word(w) => match Intrinsic::from_name(&w) {
                Some(i) => {
                    self.bump();
                    Ok(Field::Intrinsic(i))
                }
                None => Err(self.unknown_word(&w)),
            },
            _ => {
                Err(self
                    .unexpected("an attribute (`span.foo`, `.foo`) or an intrinsic (`duration`)"))
            }
        }
    }

    /// Fields separated by commas, up to and including `)`.
    fn field_list(&mut self, what: &str) -> Result<Vec<Field>, ParseError> {
        let mut out = vec![self.field()?];
        while self.eat(&Tok::Comma) {
            out.push(self.field()?);
        }
        self.expect(&Tok::RParen, &format!("`,` or `)` closing {what}("))?;
        Ok(out)
    }

    pub(crate) fn unknown_word(&self, w: &str) -> ParseError {
        self.invalid(
            self.pos(),
            format!("unknown identifier `{w}`: attributes need a scope (`.{w}`, `span.{w}`, `resource.{w}`)"),
        )
    }

    fn metrics(&mut self) -> Result<MetricsStage, ParseError> {
        let Tok::Word(name) = self.bump() else {
            unreachable!("metrics_next checked a word")
        };
        self.expect(&Tok::LParen, &format!("`(` after {name}"))?;
        let function = match name.as_str() {
            "rate" | "count_over_time" => {
                self.expect(&Tok::RParen, &format!("`)`: {name} takes no arguments"))?;
                if name == "rate" {
                    MetricsFunction::Rate
                } else {
                    MetricsFunction::CountOverTime
                }
            }
            "compare" => {
                let filter = self.spanset_filter()?;
                let mut top_n = None;
                let mut window = None;
                if self.eat(&Tok::Comma) {
                    top_n = Some(self.uint("the number of values (topN)")?);
                    if self.eat(&Tok::Comma) {
                        let start = self.uint("the start timestamp (Unix nanoseconds)")?;
                        self.expect(&Tok::Comma, "`,` then the end timestamp")?;
                        let end = self.uint("the end timestamp (Unix nanoseconds)")?;
                        window = Some((start, end));
                    }
                }
                self.expect(&Tok::RParen, "`)` closing compare(")?;
                if self.is_word("by") {
                    return Err(self.invalid(self.pos(), "compare() takes no `by`"));
                }
                return Ok(MetricsStage {
                    function: MetricsFunction::Compare {
                        filter,
                        top_n,
                        window,
                    },
                    by: Vec::new(),
                });
            }
            _ => {
                let field = self.field()?;
                let f = match name.as_str() {
                    "quantile_over_time" => {
                        let mut quantiles = Vec::new();
                        while self.eat(&Tok::Comma) {
                            quantiles.push(match self.bump() {
                                Tok::Int(n) => n as f64,
                                Tok::Float(f) => f,
                                _ => {
                                    self.i -= 1;
                                    return Err(self.unexpected("a quantile (a number)"));
                                }
                            });
                        }
                        if quantiles.is_empty() {
                            return Err(self.unexpected(
                                "`,` then at least one quantile: quantile_over_time(duration, 0.9)",
                            ));
                        }
                        MetricsFunction::QuantileOverTime { field, quantiles }
                    }
                    "min_over_time" => MetricsFunction::MinOverTime(field),
                    "max_over_time" => MetricsFunction::MaxOverTime(field),
                    "avg_over_time" => MetricsFunction::AvgOverTime(field),
                    "sum_over_time" => MetricsFunction::SumOverTime(field),
                    _ => MetricsFunction::HistogramOverTime(field),
                };
                self.expect(&Tok::RParen, &format!("`)` closing {name}("))?;
                f
            }
        };
        let mut by = Vec::new();
        if self.is_word("by") {
            self.bump();
            self.expect(&Tok::LParen, "`(` after by")?;
            by = self.field_list("by")?;
        }
        Ok(MetricsStage { function, by })
    }

    fn uint(&mut self, what: &str) -> Result<u64, ParseError> {
        match self.peek() {
            Tok::Int(n) => {
                let n = *n;
                self.bump();
                Ok(n)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn second_stage(&mut self) -> Result<SecondStage, ParseError> {
        let topk = self.is_word("topk");
        if !topk && !self.is_word("bottomk") {
            return Err(self.unexpected("topk or bottomk after a metrics function"));
        }
        self.bump();
        self.expect(&Tok::LParen, "`(`")?;
        let n = self.uint("an integer")?;
        self.expect(&Tok::RParen, "`)`")?;
        Ok(if topk {
            SecondStage::TopK(n)
        } else {
            SecondStage::BottomK(n)
        })
    }

    fn hints(&mut self) -> Result<Vec<Hint>, ParseError> {
        self.bump();
        self.expect(&Tok::LParen, "`(` after with")?;
        let mut hints = Vec::new();
        loop {
            let name = match self.peek() {
                Tok::Word(w) if !w.contains(':') => w.clone(),
                _ => return Err(self.unexpected("a hint name, e.g. most_recent")),
            };
            self.bump();
            self.expect(&Tok::Eq, "`=` after the hint name")?;
            let value = match self.peek() {
                Tok::Minus => return Err(self.unexpected("a literal hint value")),
                _ => self
                    .static_value()?
                    .ok_or_else(|| self.unexpected("a literal hint value"))?,
            };
            hints.push(Hint { name, value });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)` closing with(")?;
        Ok(hints)
    }
}
