//! Values during evaluation and the operators on them, with Tempo's typing:
//! a comparison of mismatched types (or with `nil`) is false, `=` and `!=`
//! alike; ints, floats and durations compare as numbers.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use argus_model::traces::{hex_id, AttrValue};

use crate::ast::{BinaryOp, Kind, Status};

/// A value reported with a spanset: a `by(…)` key, an aggregate, a
/// `select(…)`ed field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (a missing attribute).
    Nil,
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (span and trace ids are lowercase hex).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A duration in nanoseconds.
    Duration(i64),
    /// A span status.
    Status(Status),
    /// A span kind.
    Kind(Kind),
    /// An array attribute.
    Array(Vec<Value>),
    /// An attribute of a type TraceQL does not compare (bytes, key-value
    /// list).
    Other,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Duration(d) => write!(f, "{d}ns"),
            Value::Status(s) => write!(f, "{}", crate::ast::Static::Status(*s)),
            Value::Kind(k) => write!(f, "{}", crate::ast::Static::Kind(*k)),
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Other => f.write_str("<other>"),
        }
    }
}

/// A value while evaluating, borrowing from the trace where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Nil,
    Int(i64),
    Float(f64),
    Dur(i64),
    Str(Cow<'a, str>),
    Bool(bool),
    Status(Status),
    Kind(Kind),
    /// A span or trace id: equal to a string of hex digits naming it.
    Id(&'a [u8]),
    Array(&'a [AttrValue]),
    /// Bytes or a key-value list: present, but equal to nothing.
    Opaque,
}

impl<'a> Val<'a> {
    pub(crate) fn from_attr(v: &'a AttrValue) -> Val<'a> {
        match v {
            AttrValue::Str(s) => Val::Str(Cow::Borrowed(s)),
            AttrValue::Int(n) => Val::Int(*n),
            AttrValue::Float(x) => Val::Float(*x),
            AttrValue::Bool(b) => Val::Bool(*b),
            AttrValue::Array(a) => Val::Array(a),
            AttrValue::Bytes(_) | AttrValue::Map(_) => Val::Opaque,
        }
    }

    pub(crate) fn is_nil(&self) -> bool {
        matches!(self, Val::Nil)
    }

    /// The number, for ints, floats and durations.
    pub(crate) fn num(&self) -> Option<f64> {
        match self {
            Val::Int(n) | Val::Dur(n) => Some(*n as f64),
            Val::Float(x) => Some(*x),
            _ => None,
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Val::Nil => Value::Nil,
            Val::Int(n) => Value::Int(*n),
            Val::Float(x) => Value::Float(*x),
            Val::Dur(d) => Value::Duration(*d),
            Val::Str(s) => Value::Str(s.to_string()),
            Val::Bool(b) => Value::Bool(*b),
            Val::Status(s) => Value::Status(*s),
            Val::Kind(k) => Value::Kind(*k),
            Val::Id(id) => Value::Str(hex_id(id)),
            Val::Array(a) => Value::Array(a.iter().map(|v| Val::from_attr(v).to_value()).collect()),
            Val::Opaque => Value::Other,
        }
    }

    /// The string for string operators (ids as hex).
    fn as_str(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Str(s) => Some(Cow::Borrowed(s)),
            Val::Id(id) => Some(Cow::Owned(hex_id(id))),
            _ => None,
        }
    }
}

/// Order of two numbers: exact for integers and durations, else as floats.
fn num_cmp(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x) | Val::Dur(x), Val::Int(y) | Val::Dur(y)) => Some(x.cmp(y)),
        _ => a.num()?.partial_cmp(&b.num()?),
    }
}

/// Whether `id` is named by the hex string `s` (any case, zero-padded on the
/// left, as Tempo reads ids).
fn id_eq(id: &[u8], s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 2 * id.len() {
        return false;
    }
    let mut digits = b.iter().rev().map(|c| (*c as char).to_digit(16));
    for byte in id.iter().rev() {
        let lo = digits.next().unwrap_or(Some(0));
        let hi = digits.next().unwrap_or(Some(0));
        match (lo, hi) {
            (Some(l), Some(h)) if u32::from(*byte) == (h << 4 | l) => {}
            _ => return false,
        }
    }
    true
}

/// `a = b` between scalars (false when either is nil or the types differ).
fn scalar_eq(a: &Val<'_>, b: &Val<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Val::Nil, _) | (_, Val::Nil) => return None,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Id(x), Val::Id(y)) => x == y,
        (Val::Id(id), Val::Str(s)) | (Val::Str(s), Val::Id(id)) => id_eq(id, s),
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Status(x), Val::Status(y)) => x == y,
        (Val::Kind(x), Val::Kind(y)) => x == y,
        _ => num_cmp(a, b)? == Ordering::Equal,
    })
}

/// Matches a subject against a regex pattern: `Some(matched)`, or `None`
/// when the pattern is not a valid regex.
pub(crate) type RegexFn<'r> = &'r dyn Fn(&str, &str) -> Option<bool>;

/// `a op b` for a comparison `op` between two scalars (false when the types
/// do not compare).
fn scalar_cmp(op: BinaryOp, a: &Val<'_>, b: &Val<'_>, re: RegexFn<'_>) -> bool {
    use BinaryOp::*;
    match op {
        Eq => scalar_eq(a, b) == Some(true),
        Neq => scalar_eq(a, b) == Some(false),
        Regex | NotRegex => match (a.as_str(), b) {
            (Some(s), Val::Str(p)) => re(&s, p).is_some_and(|m| m == (op == Regex)),
            _ => false,
        },
        Lt | Lte | Gt | Gte => {
            let ord = match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => Some(x.as_ref().cmp(y.as_ref())),
                (None, None) => num_cmp(a, b),
                _ => None,
            };
            ord.is_some_and(|o| match op {
                Lt => o == Ordering::Less,
                Lte => o != Ordering::Greater,
                Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        _ => false,
    }
}

/// A comparison, with an array on either side: `=`, `=~`, `<`… hold when
/// an element satisfies them; `!=` and `!~` when every element does (Tempo's
/// "not in" and "match none"). Two arrays never compare.
pub(crate) fn compare(op: BinaryOp, a: &Val<'_>, b: &Val<'_>, re: RegexFn<'_>) -> bool {
    let all = matches!(op, BinaryOp::Neq | BinaryOp::NotRegex);
    let over = |xs: &[AttrValue], f: &dyn Fn(&Val<'_>) -> bool| {
        let mut it = xs.iter().map(Val::from_attr);
        !xs.is_empty()
            && if all {
                it.all(|x| f(&x))
            } else {
                it.any(|x| f(&x))
            }
    };
    match (a, b) {
        (Val::Array(_), Val::Array(_)) => false,
        (Val::Array(xs), _) => over(xs, &|x| scalar_cmp(op, x, b, re)),
        (_, Val::Array(ys)) => over(ys, &|y| scalar_cmp(op, a, y, re)),
        _ => scalar_cmp(op, a, b, re),
    }
}

/// `a op b` for an arithmetic `op`: integers stay integers (floats when they
/// overflow), other numbers are floats; anything else is nil, as is an
/// integer division by zero.
pub(crate) fn arith(op: BinaryOp, a: &Val<'_>, b: &Val<'_>) -> Val<'static> {
    use BinaryOp::*;
    if let (Val::Int(x), Val::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        let exact = match op {
            Add => x.checked_add(y),
            Sub => x.checked_sub(y),
            Mul => x.checked_mul(y),
            Div | Mod if y == 0 => return Val::Nil,
            Div => x.checked_div(y),
            Mod => x.checked_rem(y),
            Pow => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
            _ => return Val::Nil,
        };
        if let Some(n) = exact {
            return Val::Int(n);
        }
    }
    let (Some(x), Some(y)) = (a.num(), b.num()) else {
        return Val::Nil;
    };
    let r = match op {
        Add => x + y,
        Sub => x - y,
        Mul => x * y,
        Div => x / y,
        Mod => x % y,
        Pow => x.powf(y),
        _ => return Val::Nil,
    };
    Val::Float(r)
}

/// `-a`.
pub(crate) fn negate(a: &Val<'_>) -> Val<'static> {
    match a {
        Val::Int(n) => n.checked_neg().map_or(Val::Float(-(*n as f64)), Val::Int),
        Val::Dur(n) => Val::Dur(n.saturating_neg()),
        Val::Float(x) => Val::Float(-x),
        _ => Val::Nil,
    }
}
