//! Parsing log queries: stream selectors, pipeline stages, label filters,
//! `unwrap`, and the log ranges of range aggregations.

use crate::ast::*;
use crate::lexer::Tok;
use crate::parser::{is_label_name, Parser};
use crate::ParseError;

type Result<T> = std::result::Result<T, ParseError>;

const AT_LEAST_ONE: &str = "queries require at least one regexp or equality matcher that does \
    not have an empty-compatible value. For instance, app=~\".*\" does not meet this \
    requirement, but app=~\".+\" will";

impl Parser<'_> {
    /// `{…}` and its pipeline (no `unwrap`: this is a log query).
    pub(crate) fn parse_log_expr(&mut self) -> Result<LogExpr> {
        let selector = self.parse_selector()?;
        let pipeline = self.parse_pipeline()?;
        if self.at_unwrap() {
            return Err(self.invalid_at(
                self.offset(),
                "unwrap is only allowed in a range aggregation (e.g. sum_over_time({…} | unwrap x [5m]))",
            ));
        }
        Ok(LogExpr { selector, pipeline })
    }

    /// `{a="b", c=~"d"}`.
    fn parse_selector(&mut self) -> Result<Vec<Matcher>> {
        let open = self.offset();
        self.expect(Tok::LBrace, "a stream selector \"{\"")?;
        let mut matchers = Vec::new();
        if *self.peek() == Tok::RBrace {
            self.bump();
        } else {
            loop {
                matchers.push(self.parse_matcher()?);
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RBrace => {
                        self.bump();
                        break;
                    }
                    _ => return Err(self.unexpected("\",\" or \"}\"")),
                }
            }
        }
        if self.validate && !matchers.iter().any(|m| !self.matches_empty(m)) {
            return Err(self.invalid_at(open, AT_LEAST_ONE));
        }
        Ok(matchers)
    }

    /// Does matcher `m` accept an empty value (an absent label)?
    fn matches_empty(&self, m: &Matcher) -> bool {
        match m.op {
            MatchOp::Eq => m.value.is_empty(),
            MatchOp::Neq => !m.value.is_empty(),
            MatchOp::Re | MatchOp::Nre => {
                let hit = self
                    .check_regex(&m.value, 0, "matcher")
                    .is_ok_and(|r| r.is_match(""));
                hit == (m.op == MatchOp::Re)
            }
        }
    }

    /// `name op "value"`.
    fn parse_matcher(&mut self) -> Result<Matcher> {
        let name = self.expect_ident("a label name")?;
        let op = match self.peek() {
            Tok::Eq => MatchOp::Eq,
            Tok::Neq => MatchOp::Neq,
            Tok::Re => MatchOp::Re,
            Tok::Nre => MatchOp::Nre,
            _ => return Err(self.unexpected("\"=\", \"!=\", \"=~\" or \"!~\"")),
        };
        self.bump();
        let (value, pos) = self.expect_string("a string")?;
        if matches!(op, MatchOp::Re | MatchOp::Nre) {
            self.check_regex(&value, pos, "label matcher")?;
        }
        Ok(Matcher { name, op, value })
    }

    /// `| unwrap` next?
    fn at_unwrap(&self) -> bool {
        *self.peek() == Tok::Pipe && self.is_kw_at(1, "unwrap")
    }

    /// Pipeline stages up to a token that cannot start one (or `| unwrap`).
    fn parse_pipeline(&mut self) -> Result<Vec<Stage>> {
        let mut stages = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::PipeExact => LineFilterOp::Contains,
                Tok::Neq => LineFilterOp::NotContains,
                Tok::PipeMatch => LineFilterOp::Match,
                Tok::Nre => LineFilterOp::NotMatch,
                Tok::PipePattern => LineFilterOp::Pattern,
                Tok::Npa => LineFilterOp::NotPattern,
                Tok::Pipe if !self.at_unwrap() => {
                    self.bump();
                    stages.push(self.parse_stage()?);
                    continue;
                }
                _ => return Ok(stages),
            };
            self.bump();
            stages.push(Stage::LineFilter(self.parse_line_filter(op)?));
        }
    }

    /// After the operator: `"text" [or "text"]…`, `ip("…")`.
    fn parse_line_filter(&mut self, op: LineFilterOp) -> Result<LineFilter> {
        let mut values = vec![self.parse_line_filter_value(op)?];
        while self.is_kw("or") {
            self.bump();
            values.push(self.parse_line_filter_value(op)?);
        }
        Ok(LineFilter { op, values })
    }

    fn parse_line_filter_value(&mut self, op: LineFilterOp) -> Result<LineFilterValue> {
        let pos = self.offset();
        if self.is_kw("ip") && *self.peek_at(1) == Tok::LParen {
            if !matches!(op, LineFilterOp::Contains | LineFilterOp::NotContains) {
                return Err(self.invalid_at(pos, "ip() line filters only support |= and !="));
            }
            return Ok(LineFilterValue::Ip(self.parse_ip_call()?));
        }
        let (s, pos) = self.expect_string("a string or ip(\"…\")")?;
        if matches!(op, LineFilterOp::Match | LineFilterOp::NotMatch) {
            // Line filter regexes are unanchored; validity is what matters.
            self.check_regex(&s, pos, "line filter")?;
        }
        Ok(LineFilterValue::Text(s))
    }

    /// `ip("…")`.
    fn parse_ip_call(&mut self) -> Result<String> {
        self.bump();
        self.expect(Tok::LParen, "\"(\"")?;
        let (s, _) = self.expect_string("a string (an IP address, CIDR or range)")?;
        self.expect(Tok::RParen, "\")\"")?;
        Ok(s)
    }

    /// A stage after `|`.
    fn parse_stage(&mut self) -> Result<Stage> {
        let kw = self.ident_at(0).map(str::to_ascii_lowercase);
        let stage_pos = self.offset();
        let stage = match kw.as_deref() {
            Some("json") => {
                self.bump();
                Stage::Parser(LogParser::Json(self.parse_extractions()?))
            }
            Some("logfmt") => {
                self.bump();
                let (mut strict, mut keep_empty) = (false, false);
                while *self.peek() == Tok::Flag {
                    let t = self.bump();
                    match self.text(&t) {
                        "--strict" => strict = true,
                        _ => keep_empty = true,
                    }
                }
                Stage::Parser(LogParser::Logfmt {
                    strict,
                    keep_empty,
                    params: self.parse_extractions()?,
                })
            }
            Some("regexp") => {
                self.bump();
                let (re, pos) = self.expect_string("a string (a regex with named groups)")?;
                let compiled = self.check_regex(&re, pos, "regexp parser")?;
                let mut names: Vec<&str> = Vec::new();
                for name in compiled.capture_names().flatten() {
                    if !is_label_name(name) {
                        return Err(self.invalid_at(
                            pos,
                            format!("invalid extracted label name {name:?} in regexp parser"),
                        ));
                    }
                    if names.contains(&name) {
                        return Err(self.invalid_at(
                            pos,
                            format!("duplicate extracted label name {name:?} in regexp parser"),
                        ));
                    }
                    names.push(name);
                }
                if names.is_empty() {
                    return Err(self.invalid_at(
                        pos,
                        "at least one named capture must be supplied in regexp parser",
                    ));
                }
                Stage::Parser(LogParser::Regexp(re))
            }
            Some("pattern") => {
                self.bump();
                let (p, pos) = self.expect_string("a string (a pattern such as \"<ip> <_>\")")?;
                if let Err(e) = check_pattern(&p) {
                    return Err(self.invalid_at(pos, format!("invalid pattern parser: {e}")));
                }
                Stage::Parser(LogParser::Pattern(p))
            }
            Some("unpack") => {
                self.bump();
                Stage::Parser(LogParser::Unpack)
            }
            Some("line_format") => {
                self.bump();
                Stage::LineFormat(self.expect_string("a string (a template)")?.0)
            }
            Some("label_format") => {
                self.bump();
                let mut v = Vec::new();
                loop {
                    let name = self.expect_ident("a label name")?;
                    self.expect(Tok::Eq, "\"=\"")?;
                    let value = match self.peek().clone() {
                        Tok::Str(s) => LabelFormatValue::Template(s),
                        Tok::Ident => LabelFormatValue::Rename(
                            self.ident_at(0).unwrap_or_default().to_string(),
                        ),
                        _ => return Err(self.unexpected("a string (a template) or a label name")),
                    };
                    self.bump();
                    v.push(LabelFormat { name, value });
                    if *self.peek() != Tok::Comma {
                        break;
                    }
                    self.bump();
                }
                Stage::LabelFormat(v)
            }
            Some(k @ ("drop" | "keep")) => {
                let drop = k == "drop";
                self.bump();
                let mut v = Vec::new();
                loop {
                    if matches!(self.peek_at(1), Tok::Eq | Tok::Neq | Tok::Re | Tok::Nre) {
                        v.push(LabelSelection::Matcher(self.parse_matcher()?));
                    } else {
                        v.push(LabelSelection::Name(self.expect_ident("a label name")?));
                    }
                    if *self.peek() != Tok::Comma {
                        break;
                    }
                    self.bump();
                }
                if drop {
                    Stage::Drop(v)
                } else {
                    Stage::Keep(v)
                }
            }
            Some("decolorize") => {
                self.bump();
                Stage::Decolorize
            }
            _ => match self.peek() {
                Tok::Ident | Tok::LParen => Stage::LabelFilter(self.parse_label_filter(0)?),
                _ => return Err(ParseError::syntax(
                    self.src,
                    stage_pos,
                    self.describe_current(),
                    "a parser, a formatter, drop, keep, decolorize or a label filter after \"|\"",
                )),
            },
        };
        Ok(stage)
    }

    fn describe_current(&self) -> String {
        match self.unexpected("") {
            ParseError::Syntax { found, .. } => found,
            e => e.to_string(),
        }
    }

    /// `name`, `name="path"`, comma-separated (none when no identifier follows).
    fn parse_extractions(&mut self) -> Result<Vec<LabelExtraction>> {
        let mut v = Vec::new();
        if *self.peek() != Tok::Ident {
            return Ok(v);
        }
        loop {
            let name = self.expect_ident("a label name")?;
            let path = if *self.peek() == Tok::Eq {
                self.bump();
                Some(self.expect_string("a string (the field to extract)")?.0)
            } else {
                None
            };
            v.push(LabelExtraction { name, path });
            if *self.peek() != Tok::Comma {
                return Ok(v);
            }
            self.bump();
        }
    }

    /// A label filter expression. `or` binds loosest, then `and`; a comma or
    /// two filters side by side also mean `and`, and (as in Loki's grammar)
    /// take everything to their right: `a, b or c` is `a and (b or c)`.
    pub(crate) fn parse_label_filter(&mut self, min_prec: u8) -> Result<LabelFilter> {
        let mut lhs = self.parse_label_filter_primary()?;
        loop {
            let (prec, juxtaposed) = if self.is_kw("or") {
                (1, false)
            } else if self.is_kw("and") {
                (2, false)
            } else if *self.peek() == Tok::Comma {
                (3, false)
            } else if matches!(self.peek(), Tok::Ident | Tok::LParen) {
                (3, true)
            } else {
                break;
            };
            if prec < min_prec {
                break;
            }
            if !juxtaposed {
                self.bump();
            }
            let next = if prec == 3 { 0 } else { prec + 1 };
            let rhs = self.nested(|p| p.parse_label_filter(next))?;
            lhs = if prec == 1 {
                LabelFilter::or(lhs, rhs)
            } else {
                LabelFilter::and(lhs, rhs)
            };
        }
        Ok(lhs)
    }

    fn parse_label_filter_primary(&mut self) -> Result<LabelFilter> {
        if *self.peek() == Tok::LParen {
            self.bump();
            let f = self.nested(|p| p.parse_label_filter(0))?;
            self.expect(Tok::RParen, "\")\", \"and\", \"or\" or \",\"")?;
            return Ok(f);
        }
        let name = self.expect_ident("a label filter")?;
        let op_tok = self.peek().clone();
        let (cmp, string_op) = match op_tok {
            Tok::Eq => (CmpOp::Eq, Some(MatchOp::Eq)),
            Tok::Neq => (CmpOp::Neq, Some(MatchOp::Neq)),
            Tok::Re | Tok::Nre => {
                self.bump();
                let (value, pos) = self.expect_string("a string (a regex)")?;
                self.check_regex(&value, pos, "label filter")?;
                let op = if op_tok == Tok::Re {
                    MatchOp::Re
                } else {
                    MatchOp::Nre
                };
                return Ok(LabelFilter::Matcher(Matcher { name, op, value }));
            }
            Tok::EqEq => (CmpOp::Eq, None),
            Tok::Gt => (CmpOp::Gt, None),
            Tok::Gte => (CmpOp::Gte, None),
            Tok::Lt => (CmpOp::Lt, None),
            Tok::Lte => (CmpOp::Lte, None),
            _ => {
                return Err(
                    self.unexpected("a comparison operator (=, !=, =~, !~, ==, >, >=, <, <=)")
                )
            }
        };
        self.bump();
        match self.peek().clone() {
            Tok::Str(value) if string_op.is_some() => {
                self.bump();
                let op = string_op.unwrap_or(MatchOp::Eq);
                Ok(LabelFilter::Matcher(Matcher { name, op, value }))
            }
            Tok::Ident
                if string_op.is_some() && self.is_kw("ip") && *self.peek_at(1) == Tok::LParen =>
            {
                let value = self.parse_ip_call()?;
                Ok(LabelFilter::Ip {
                    name,
                    negated: cmp == CmpOp::Neq,
                    value,
                })
            }
            Tok::Duration(value) => {
                self.bump();
                Ok(LabelFilter::Duration {
                    name,
                    op: cmp,
                    value,
                })
            }
            Tok::Bytes(value) => {
                self.bump();
                Ok(LabelFilter::Bytes {
                    name,
                    op: cmp,
                    value,
                })
            }
            Tok::Number(value) => {
                self.bump();
                Ok(LabelFilter::Number {
                    name,
                    op: cmp,
                    value,
                })
            }
            Tok::Plus | Tok::Minus if matches!(self.peek_at(1), Tok::Number(_)) => {
                let neg = *self.peek() == Tok::Minus;
                self.bump();
                let Tok::Number(v) = *self.peek() else {
                    return Err(self.unexpected("a number"));
                };
                self.bump();
                Ok(LabelFilter::Number {
                    name,
                    op: cmp,
                    value: if neg { -v } else { v },
                })
            }
            _ if string_op.is_some() => {
                Err(self.unexpected("a string, ip(\"…\"), a number, a duration or a byte size"))
            }
            _ => Err(self.unexpected("a number, a duration or a byte size")),
        }
    }

    /// `| unwrap [conv(]label[)] [| label filter]…` (at `|`).
    fn parse_unwrap(&mut self) -> Result<Unwrap> {
        self.bump();
        self.bump();
        let conv = match self.ident_at(0).map(str::to_ascii_lowercase).as_deref() {
            Some("bytes") => Some(Conversion::Bytes),
            Some("duration") => Some(Conversion::Duration),
            Some("duration_seconds") => Some(Conversion::DurationSeconds),
            _ => None,
        };
        let (label, conversion) = match conv {
            Some(c) if *self.peek_at(1) == Tok::LParen => {
                self.bump();
                self.bump();
                let label = self.expect_ident("a label name")?;
                self.expect(Tok::RParen, "\")\"")?;
                (label, Some(c))
            }
            _ => (self.expect_ident("a label name to unwrap")?, None),
        };
        let mut post_filters = Vec::new();
        while *self.peek() == Tok::Pipe {
            self.bump();
            post_filters.push(self.parse_label_filter(0)?);
        }
        Ok(Unwrap {
            label,
            conversion,
            post_filters,
        })
    }

    fn parse_offset(&mut self) -> Result<Option<i64>> {
        if !self.is_kw("offset") {
            return Ok(None);
        }
        self.bump();
        match *self.peek() {
            Tok::Duration(d) => {
                self.bump();
                Ok(Some(d))
            }
            _ => Err(self.unexpected("a duration")),
        }
    }

    /// The argument of a range aggregation: a log query and a range, in any
    /// of the orders Loki accepts:
    /// `{…} [| stages] [| unwrap …] [5m] [offset 1h]`,
    /// `{…} [5m] [offset 1h] [| stages] [| unwrap …]`,
    /// `({…} [| stages] [| unwrap …]) [5m] [offset 1h]`,
    /// `({…}) [5m] [offset 1h] [| unwrap …]`, and any of these in parentheses.
    pub(crate) fn parse_log_range(&mut self) -> Result<LogRange> {
        if *self.peek() != Tok::LParen {
            let (log, unwrap) = self.parse_range_head()?;
            return self.finish_range(log, unwrap);
        }
        self.bump();
        if *self.peek() == Tok::LParen {
            let r = self.nested(|p| p.parse_log_range())?;
            self.expect(Tok::RParen, "\")\"")?;
            return Ok(r);
        }
        let (log, unwrap) = self.parse_range_head()?;
        if matches!(self.peek(), Tok::Range(_)) {
            let r = self.finish_range(log, unwrap)?;
            self.expect(Tok::RParen, "\")\"")?;
            return Ok(r);
        }
        self.expect(Tok::RParen, "\")\" or a range such as [5m]")?;
        let bare = log.pipeline.is_empty() && unwrap.is_none();
        let Tok::Range(range) = *self.peek() else {
            return Err(self.unexpected("a range such as [5m]"));
        };
        self.bump();
        let offset = self.parse_offset()?;
        let mut unwrap = unwrap;
        if bare && self.at_unwrap() {
            unwrap = Some(self.parse_unwrap()?);
        }
        Ok(LogRange {
            log,
            unwrap,
            range,
            offset,
        })
    }

    /// `{…} [| stages] [| unwrap …]`.
    fn parse_range_head(&mut self) -> Result<(LogExpr, Option<Unwrap>)> {
        let selector = self.parse_selector()?;
        let pipeline = self.parse_pipeline()?;
        let unwrap = if self.at_unwrap() {
            Some(self.parse_unwrap()?)
        } else {
            None
        };
        Ok((LogExpr { selector, pipeline }, unwrap))
    }

    /// `[5m] [offset 1h]`, then stages and unwrap if none came before.
    fn finish_range(&mut self, mut log: LogExpr, mut unwrap: Option<Unwrap>) -> Result<LogRange> {
        let Tok::Range(range) = *self.peek() else {
            let expected = if unwrap.is_some() {
                "a range such as [5m] or \"|\" and a label filter"
            } else {
                "a range such as [5m] or a pipeline stage"
            };
            return Err(self.unexpected(expected));
        };
        self.bump();
        let offset = self.parse_offset()?;
        if log.pipeline.is_empty() && unwrap.is_none() {
            log.pipeline = self.parse_pipeline()?;
            if self.at_unwrap() {
                unwrap = Some(self.parse_unwrap()?);
            }
        }
        Ok(LogRange {
            log,
            unwrap,
            range,
            offset,
        })
    }
}

/// Checks a `pattern` parser expression as Loki does: literals and captures
/// (`<name>`, or `<_>` to skip), at least one named capture, no two captures
/// side by side, no name twice.
fn check_pattern(p: &str) -> std::result::Result<(), String> {
    let mut names: Vec<&str> = Vec::new();
    let mut last_was_capture = false;
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let n = after
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(after.len());
            let name = &after[..n];
            if n > 0
                && after[n..].starts_with('>')
                && !name.starts_with(|c: char| c.is_ascii_digit())
            {
                if last_was_capture {
                    return Err(format!("found consecutive captures before <{name}>"));
                }
                if name != "_" {
                    if names.contains(&name) {
                        return Err(format!("duplicate capture name <{name}>"));
                    }
                    names.push(name);
                }
                last_was_capture = true;
                rest = &after[n + 1..];
                continue;
            }
        }
        last_was_capture = false;
        let c = rest.chars().next().map_or(1, char::len_utf8);
        rest = &rest[c..];
    }
    if names.is_empty() {
        return Err("at least one named capture is required".to_string());
    }
    Ok(())
}
