//! Field expressions (inside `{ … }`, `by(…)`, aggregates) and scalar
//! filters (`count() > 2`), by precedence climbing.

use crate::ast::*;
use crate::lexer::Tok;
use crate::parser::{Parser, AGGREGATES};
use crate::ParseError;

/// Precedence of prefix `!` and `-` in field expressions: between `+ -` and
/// `* / %`, as in Tempo.
pub(crate) const UNARY_PREC: u8 = 4;

impl BinaryOp {
    /// Binding strength in field expressions (higher binds tighter).
    pub(crate) fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            And | Or => 1,
            Eq | Neq | Lt | Lte | Gt | Gte | Regex | NotRegex => 2,
            Add | Sub => 3,
            Mul | Div | Mod => 5,
            Pow => 6,
        }
    }

    /// Binding strength in scalar expressions (arithmetic only).
    pub(crate) fn scalar_precedence(self) -> u8 {
        match self.precedence() {
            3 => 1,
            5 => 2,
            _ => 3,
        }
    }

    pub(crate) fn right_assoc(self) -> bool {
        self == BinaryOp::Pow
    }

    /// Whether `self` is `+ - * / % ^`.
    pub fn is_arithmetic(self) -> bool {
        self.precedence() >= 3
    }
}

fn field_op(t: &Tok) -> Option<BinaryOp> {
    use BinaryOp::*;
    Some(match t {
        Tok::And => And,
        Tok::Or => Or,
        Tok::Eq => Eq,
        Tok::Neq => Neq,
        Tok::Lt => Lt,
        Tok::Lte => Lte,
        Tok::Gt => Gt,
        Tok::Gte => Gte,
        Tok::Re => Regex,
        Tok::NotRe => NotRegex,
        Tok::Plus => Add,
        Tok::Minus => Sub,
        Tok::Star => Mul,
        Tok::Slash => Div,
        Tok::Percent => Mod,
        Tok::Caret => Pow,
        _ => return None,
    })
}

fn comparison_op(t: &Tok) -> Option<ComparisonOp> {
    use ComparisonOp::*;
    Some(match t {
        Tok::Eq => Eq,
        Tok::Neq => Neq,
        Tok::Lt => Lt,
        Tok::Lte => Lte,
        Tok::Gt => Gt,
        Tok::Gte => Gte,
        _ => return None,
    })
}

impl Parser<'_> {
    pub(crate) fn field_expr(&mut self) -> Result<FieldExpr, ParseError> {
        self.field_binary(1)
    }

    fn field_binary(&mut self, min: u8) -> Result<FieldExpr, ParseError> {
        let mut lhs = self.field_unary()?;
        let mut levels = 0;
        let r = loop {
            let Some(op) = field_op(self.peek()) else {
                if matches!(self.peek(), Tok::Tilde | Tok::Desc | Tok::Anc)
                    || spanset_only(self.peek())
                {
                    break Err(self.invalid(
                        self.pos(),
                        format!(
                            "{} is an operator between spansets, not inside `{{ }}`",
                            self.peek().describe()
                        ),
                    ));
                }
                break Ok(lhs);
            };
            let prec = op.precedence();
            if prec < min {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            let op_pos = self.pos();
            self.bump();
            let next = if op.right_assoc() { prec } else { prec + 1 };
            let rhs = match self.nested(|p| p.field_binary(next)) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            if let (BinaryOp::Regex | BinaryOp::NotRegex, FieldExpr::Static(Static::String(re))) =
                (op, &rhs)
            {
                if let Err(e) = regex::RegexBuilder::new(re).size_limit(1 << 20).build() {
                    break Err(self.invalid(op_pos, format!("invalid regex {re:?}: {e}")));
                }
            }
            lhs = FieldExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        };
        self.leave(levels);
        r
    }

    fn field_unary(&mut self) -> Result<FieldExpr, ParseError> {
        let op = match self.peek() {
            Tok::Not => UnaryOp::Not,
            Tok::Minus => UnaryOp::Neg,
            _ => return self.field_primary(),
        };
        self.bump();
        let expr = self.nested(|p| p.field_binary(UNARY_PREC + 1))?;
        Ok(FieldExpr::Unary {
            op,
            expr: Box::new(expr),
        })
    }

    fn field_primary(&mut self) -> Result<FieldExpr, ParseError> {
        if self.eat(&Tok::LParen) {
            let e = self.nested(|p| p.field_expr())?;
            self.expect(&Tok::RParen, "`)` or an operator")?;
            return Ok(e);
        }
        if let Some(s) = self.static_value()? {
            return Ok(FieldExpr::Static(s));
        }
        match self.peek().clone() {
            Tok::Attr(a) => {
                self.bump();
                Ok(FieldExpr::Attribute(a))
            }
            Tok::Word(w) => match Intrinsic::from_name(&w) {
                Some(i) => {
                    self.bump();
                    Ok(FieldExpr::Intrinsic(i))
                }
                None => Err(self.unknown_word(&w)),
            },
            _ => Err(self.unexpected("a value, an attribute, an intrinsic, `!`, `-` or `(`")),
        }
    }

    /// A literal, if one is next.
    pub(crate) fn static_value(&mut self) -> Result<Option<Static>, ParseError> {
        let s = match self.peek() {
            Tok::Str(s) => Static::String(s.clone()),
            Tok::Int(n) => Static::Int(self.int(*n, false)?),
            Tok::Float(f) => Static::Float(*f),
            Tok::Duration(d) => Static::Duration(*d),
            Tok::Word(w) => match w.as_str() {
                "true" => Static::Bool(true),
                "false" => Static::Bool(false),
                "nil" => Static::Nil,
                "ok" => Static::Status(Status::Ok),
                "error" => Static::Status(Status::Error),
                "unset" => Static::Status(Status::Unset),
                "unspecified" => Static::Kind(Kind::Unspecified),
                "internal" => Static::Kind(Kind::Internal),
                "server" => Static::Kind(Kind::Server),
                "client" => Static::Kind(Kind::Client),
                "producer" => Static::Kind(Kind::Producer),
                "consumer" => Static::Kind(Kind::Consumer),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.bump();
        Ok(Some(s))
    }

    fn int(&self, n: u64, negative: bool) -> Result<i64, ParseError> {
        let v = if negative {
            0i64.checked_sub_unsigned(n)
        } else {
            i64::try_from(n).ok()
        };
        v.ok_or_else(|| self.invalid(self.pos(), format!("integer {n} out of range")))
    }

    // ---- scalar filters ----

    pub(crate) fn scalar_filter(&mut self) -> Result<ScalarFilter, ParseError> {
        let lhs = self.scalar_binary(1)?;
        let Some(op) = comparison_op(self.peek()) else {
            return Err(self.unexpected(
                "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`) after the aggregate, e.g. `count() > 2`",
            ));
        };
        self.bump();
        let rhs = self.scalar_binary(1)?;
        Ok(ScalarFilter { op, lhs, rhs })
    }

    fn scalar_binary(&mut self, min: u8) -> Result<ScalarExpr, ParseError> {
        let mut lhs = self.scalar_primary()?;
        let mut levels = 0;
        let r = loop {
            let Some(op) = field_op(self.peek()).filter(|o| o.is_arithmetic()) else {
                break Ok(lhs);
            };
            let prec = op.scalar_precedence();
            if prec < min {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            levels += 1;
            self.bump();
            let next = if op.right_assoc() { prec } else { prec + 1 };
            let rhs = match self.nested(|p| p.scalar_binary(next)) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            lhs = ScalarExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        };
        self.leave(levels);
        r
    }

    fn scalar_primary(&mut self) -> Result<ScalarExpr, ParseError> {
        let negative = self.eat(&Tok::Minus);
        let e = match self.peek().clone() {
            Tok::Int(n) => ScalarExpr::Int(self.int(n, negative)?),
            Tok::Float(f) => ScalarExpr::Float(if negative { -f } else { f }),
            Tok::Duration(d) => ScalarExpr::Duration(if negative { -d } else { d }),
            _ if negative => return Err(self.unexpected("a number or a duration after `-`")),
            Tok::LParen => {
                self.bump();
                let e = self.nested(|p| p.scalar_binary(1))?;
                self.expect(&Tok::RParen, "`)` or an arithmetic operator")?;
                return Ok(e);
            }
            Tok::Word(w) if AGGREGATES.contains(&w.as_str()) => {
                return Ok(ScalarExpr::Aggregate(self.aggregate(&w)?))
            }
            _ => return Err(self.unexpected(
                "an aggregate (count(), avg(…), min(…), max(…), sum(…)), a number or a duration",
            )),
        };
        self.bump();
        Ok(e)
    }

    fn aggregate(&mut self, name: &str) -> Result<Aggregate, ParseError> {
        self.bump();
        self.expect(&Tok::LParen, &format!("`(` after {name}"))?;
        if name == "count" {
            self.expect(&Tok::RParen, "`)`: count takes no arguments")?;
            return Ok(Aggregate::Count);
        }
        if *self.peek() == Tok::RParen {
            return Err(self.invalid(
                self.pos(),
                format!("{name}() needs a field expression, e.g. {name}(duration)"),
            ));
        }
        let e = self.nested(|p| p.field_expr())?;
        self.expect(&Tok::RParen, &format!("`)` closing {name}("))?;
        Ok(match name {
            "avg" => Aggregate::Avg(e),
            "min" => Aggregate::Min(e),
            "max" => Aggregate::Max(e),
            _ => Aggregate::Sum(e),
        })
    }
}

fn spanset_only(t: &Tok) -> bool {
    matches!(
        t,
        Tok::NotChild
            | Tok::NotParent
            | Tok::NotDesc
            | Tok::NotAnc
            | Tok::UnionChild
            | Tok::UnionParent
            | Tok::UnionDesc
            | Tok::UnionAnc
            | Tok::UnionSibl
    )
}
