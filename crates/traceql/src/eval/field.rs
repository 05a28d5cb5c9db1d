//! Field expressions over one span: intrinsics, attributes, operators.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use argus_model::traces::{attr, Span, SpanKind, StatusCode};
use regex::Regex;

use super::trace::TraceView;
use super::value::{arith, compare, negate, Val};
use super::EvalError;
use crate::ast::*;

/// Dynamic regex patterns (from attributes) compiled and kept per query;
/// beyond this many, patterns are compiled for each use.
const MAX_CACHED_PATTERNS: usize = 1000;

/// Compiled regexes, keyed by pattern: the literals of the query compiled
/// up front, patterns read from spans compiled when first met.
#[derive(Debug, Default)]
pub(crate) struct Regexes {
    cache: RefCell<HashMap<String, Option<Regex>>>,
}

/// Compiles `pattern` anchored at both ends, as Tempo (Prometheus' regex
/// matcher) does: `=~ "get.*"` matches the whole value, and `.` matches
/// newlines.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?s:{pattern})$"))
        .size_limit(1 << 20)
        .build()
}

impl Regexes {
    /// Compiles a pattern written in the query; an invalid one is an error.
    pub(crate) fn add_literal(&self, pattern: &str) -> Result<(), EvalError> {
        let mut cache = self.cache.borrow_mut();
        if !cache.contains_key(pattern) {
            let re = compile(pattern).map_err(|e| EvalError::Regex {
                pattern: pattern.to_string(),
                reason: e.to_string(),
            })?;
            cache.insert(pattern.to_string(), Some(re));
        }
        Ok(())
    }

    /// Whether `subject` matches `pattern`; `None` for an invalid pattern.
    pub(crate) fn is_match(&self, subject: &str, pattern: &str) -> Option<bool> {
        if let Some(re) = self.cache.borrow().get(pattern) {
            return re.as_ref().map(|r| r.is_match(subject));
        }
        let re = compile(pattern).ok();
        let m = re.as_ref().map(|r| r.is_match(subject));
        let mut cache = self.cache.borrow_mut();
        if cache.len() < MAX_CACHED_PATTERNS {
            cache.insert(pattern.to_string(), re);
        }
        m
    }
}

/// Where a field is read: a span, and for `event.`/`link.` fields one of
/// its events or links.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub(crate) span: usize,
    pub(crate) event: Option<usize>,
    pub(crate) link: Option<usize>,
}

impl At {
    pub(crate) fn span(span: usize) -> At {
        At {
            span,
            event: None,
            link: None,
        }
    }
}

/// What an evaluation reads from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'t> {
    pub(crate) view: &'t TraceView<'t>,
    pub(crate) regexes: &'t Regexes,
}

/// Whether an expression reads events and links.
#[derive(Debug, Clone, Copy, Default)]
struct Reads {
    events: bool,
    links: bool,
}

fn reads(e: &FieldExpr, r: &mut Reads) {
    match e {
        FieldExpr::Static(_) => {}
        FieldExpr::Intrinsic(i) => match i {
            Intrinsic::EventName | Intrinsic::EventTimeSinceStart => r.events = true,
            Intrinsic::LinkTraceId | Intrinsic::LinkSpanId => r.links = true,
            _ => {}
        },
        FieldExpr::Attribute(a) => match a.scope {
            Scope::Event => r.events = true,
            Scope::Link => r.links = true,
            _ => {}
        },
        FieldExpr::Unary { expr, .. } => grow(|| reads(expr, r)),
        FieldExpr::Binary { lhs, rhs, .. } => grow(|| {
            reads(lhs, r);
            reads(rhs, r);
        }),
    }
}

/// Deep expressions evaluate on a grown stack, as they are parsed.
pub(crate) fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

/// `None` once, or each index below `n` when `needed` and `n > 0`.
fn choices(n: usize, needed: bool) -> impl Iterator<Item = Option<usize>> {
    let each = needed && n > 0;
    (0..if each { n } else { 1 }).map(move |i| each.then_some(i))
}

impl<'t> Env<'t> {
    fn span(&self, i: usize) -> &'t Span {
        &self.view.spans()[i]
    }

    /// A span filter: a span matches when `e` is `true` for it. A filter
    /// reading `event.`/`link.` fields matches when it is true for one of
    /// the span's events (links, or pairs of both).
    pub(crate) fn filter<'s>(&'s self, e: &'s FieldExpr) -> impl Fn(usize) -> bool + 's {
        let mut r = Reads::default();
        reads(e, &mut r);
        move |span| {
            let s = self.span(span);
            choices(s.events.len(), r.events).any(|event| {
                choices(s.links.len(), r.links).any(|link| {
                    let at = At { span, event, link };
                    self.eval(e, at) == Val::Bool(true)
                })
            })
        }
    }

    /// The value of `e` at `at`.
    pub(crate) fn eval<'v>(&self, e: &'v FieldExpr, at: At) -> Val<'v>
    where
        't: 'v,
    {
        match e {
            FieldExpr::Static(s) => static_val(s),
            FieldExpr::Intrinsic(i) => self.intrinsic(*i, at),
            FieldExpr::Attribute(a) => self.attribute(a, at),
            FieldExpr::Unary { op, expr } => {
                let v = grow(|| self.eval(expr, at));
                match (op, v) {
                    (UnaryOp::Not, Val::Bool(b)) => Val::Bool(!b),
                    (UnaryOp::Not, _) => Val::Nil,
                    (UnaryOp::Neg, v) => negate(&v),
                }
            }
            FieldExpr::Binary { op, lhs, rhs } => grow(|| self.binary(*op, lhs, rhs, at)),
        }
    }

    fn binary<'v>(&self, op: BinaryOp, lhs: &'v FieldExpr, rhs: &'v FieldExpr, at: At) -> Val<'v>
    where
        't: 'v,
    {
        use BinaryOp::*;
        // `x = nil` tests that `x` is missing, `x != nil` that it is there.
        let nil = |e: &FieldExpr| matches!(e, FieldExpr::Static(Static::Nil));
        if matches!(op, Eq | Neq) && (nil(lhs) || nil(rhs)) {
            let other = if nil(lhs) { rhs } else { lhs };
            return Val::Bool(self.eval(other, at).is_nil() == (op == Eq));
        }
        let a = self.eval(lhs, at);
        match op {
            And if a != Val::Bool(true) => return Val::Bool(false),
            Or if a == Val::Bool(true) => return Val::Bool(true),
            _ => {}
        }
        let b = self.eval(rhs, at);
        match op {
            And | Or => Val::Bool(b == Val::Bool(true)),
            Add | Sub | Mul | Div | Mod | Pow => arith(op, &a, &b),
            _ => Val::Bool(compare(op, &a, &b, &|s, p| self.regexes.is_match(s, p))),
        }
    }

    /// The value of a field named whole (`select`, `by`).
    pub(crate) fn field(&self, f: &Field, span: usize) -> Val<'t> {
        match f {
            Field::Intrinsic(i) => self.intrinsic(*i, At::span(span)),
            Field::Attribute(a) => self.attribute(a, At::span(span)),
        }
    }

    fn intrinsic(&self, i: Intrinsic, at: At) -> Val<'t> {
        use Intrinsic as I;
        let s = self.span(at.span);
        let view = self.view;
        let event = || at.event.and_then(|e| s.events.get(e));
        let link = || at.link.and_then(|l| s.links.get(l));
        let opt_str = |x: &'t str| {
            if x.is_empty() {
                Val::Nil
            } else {
                Val::Str(Cow::Borrowed(x))
            }
        };
        match i {
            I::Duration | I::SpanDuration => {
                Val::Dur(i64::try_from(s.duration_ns()).unwrap_or(i64::MAX))
            }
            I::Name | I::SpanName => Val::Str(Cow::Borrowed(&s.name)),
            I::Status | I::SpanStatus => Val::Status(status(s.status)),
            I::StatusMessage | I::SpanStatusMessage => Val::Str(Cow::Borrowed(&s.status_message)),
            I::Kind | I::SpanKind => Val::Kind(kind(s.kind)),
            I::ChildCount | I::SpanChildCount => {
                Val::Int(i64::try_from(view.children(at.span).len()).unwrap_or(i64::MAX))
            }
            I::TraceDuration | I::TraceDurationScoped => Val::Dur(view.duration_ns()),
            I::RootName | I::TraceRootName => view
                .root()
                .map_or(Val::Nil, |r| Val::Str(Cow::Borrowed(&self.span(r).name))),
            I::RootServiceName | I::TraceRootService => {
                view.root().map_or(Val::Nil, |r| service(self.span(r)))
            }
            I::NestedSetLeft => Val::Int(view.nested_set(at.span).0),
            I::NestedSetRight => Val::Int(view.nested_set(at.span).1),
            I::NestedSetParent => {
                Val::Int(view.parent(at.span).map_or(-1, |p| view.nested_set(p).0))
            }
            I::SpanId => Val::Id(&s.span_id),
            I::SpanParentId => s.parent_span_id.as_ref().map_or(Val::Nil, |p| Val::Id(p)),
            I::TraceId => Val::Id(&s.trace_id),
            I::EventName => event().map_or(Val::Nil, |e| Val::Str(Cow::Borrowed(&e.name))),
            I::EventTimeSinceStart => {
                event().map_or(Val::Nil, |e| Val::Dur(e.ts_ns.saturating_sub(s.start_ns)))
            }
            I::LinkTraceId => link().map_or(Val::Nil, |l| Val::Id(&l.trace_id)),
            I::LinkSpanId => link().map_or(Val::Nil, |l| Val::Id(&l.span_id)),
            I::InstrumentationName => opt_str(&s.origin.scope_name),
            I::InstrumentationVersion => opt_str(&s.origin.scope_version),
            // Refused before evaluation (`validate`).
            I::Parent => Val::Nil,
        }
    }

    fn attribute(&self, a: &Attribute, at: At) -> Val<'t> {
        let span = if a.parent {
            match self.view.parent(at.span) {
                Some(p) => p,
                None => return Val::Nil,
            }
        } else {
            at.span
        };
        let s = self.span(span);
        let name = a.name.as_str();
        let found = match a.scope {
            Scope::Span => attr(&s.attrs, name),
            Scope::Resource => return resource_attr(s, name),
            Scope::None => match attr(&s.attrs, name) {
                Some(v) => Some(v),
                None => return resource_attr(s, name),
            },
            Scope::Event => at
                .event
                .and_then(|e| s.events.get(e))
                .and_then(|e| attr(&e.attrs, name)),
            Scope::Link => at
                .link
                .and_then(|l| s.links.get(l))
                .and_then(|l| attr(&l.attrs, name)),
            Scope::Instrumentation => attr(&s.origin.scope_attrs, name),
        };
        found.map_or(Val::Nil, Val::from_attr)
    }
}

/// A resource attribute; `service.name` falls back to the origin's service.
fn resource_attr<'t>(s: &'t Span, name: &str) -> Val<'t> {
    match attr(&s.origin.resource, name) {
        Some(v) => Val::from_attr(v),
        None if name == "service.name" => service(s),
        None => Val::Nil,
    }
}

fn service(s: &Span) -> Val<'_> {
    match attr(&s.origin.resource, "service.name") {
        Some(v) => Val::from_attr(v),
        None if !s.origin.service.is_empty() => Val::Str(Cow::Borrowed(&s.origin.service)),
        None => Val::Nil,
    }
}

pub(crate) fn static_val(s: &Static) -> Val<'_> {
    match s {
        Static::Int(n) => Val::Int(*n),
        Static::Float(x) => Val::Float(*x),
        Static::String(s) => Val::Str(Cow::Borrowed(s)),
        Static::Duration(d) => Val::Dur(*d),
        Static::Bool(b) => Val::Bool(*b),
        Static::Nil => Val::Nil,
        Static::Status(s) => Val::Status(*s),
        Static::Kind(k) => Val::Kind(*k),
    }
}

fn status(s: StatusCode) -> Status {
    match s {
        StatusCode::Unset => Status::Unset,
        StatusCode::Ok => Status::Ok,
        StatusCode::Error => Status::Error,
    }
}

fn kind(k: SpanKind) -> Kind {
    match k {
        SpanKind::Unspecified => Kind::Unspecified,
        SpanKind::Internal => Kind::Internal,
        SpanKind::Server => Kind::Server,
        SpanKind::Client => Kind::Client,
        SpanKind::Producer => Kind::Producer,
        SpanKind::Consumer => Kind::Consumer,
    }
}
