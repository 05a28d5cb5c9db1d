//! The typed tree of a TraceQL query. Parentheses are not kept: the shape of
//! the tree holds the grouping, and the printer puts back the parentheses it
//! needs.

/// A whole query: a spanset pipeline, optionally followed by a metrics
/// function (`| rate() by (…)`), a second metrics stage (`| topk(5)`), and
/// query hints (`with (most_recent=true)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The spanset pipeline that selects spans.
    pub pipeline: Pipeline,
    /// The metrics function that turns the selected spans into series.
    pub metrics: Option<MetricsStage>,
    /// `topk(n)` or `bottomk(n)` over the series (only with `metrics`).
    pub second_stage: Option<SecondStage>,
    /// Query hints; empty when the query has no `with (…)`.
    pub hints: Vec<Hint>,
}

/// Stages separated by `|`, applied left to right. Never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// One stage of a [`Pipeline`].
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// A spanset expression: filters and spanset operators.
    Spanset(SpansetExpr),
    /// A filter on an aggregate of each spanset: `count() > 2`.
    ScalarFilter(ScalarFilter),
    /// `by(expr)`: regroups the spans of each spanset by the expression.
    GroupBy(FieldExpr),
    /// `select(a, b)`: fetches more attributes for the spans.
    Select(Vec<Field>),
    /// `coalesce()`: merges the spansets of a trace into one.
    Coalesce,
}

/// A spanset expression: spanset filters combined with spanset operators.
#[derive(Debug, Clone, PartialEq)]
pub enum SpansetExpr {
    /// `{ … }`.
    Filter(SpansetFilter),
    /// `lhs op rhs`.
    Op {
        /// The operator.
        op: SpansetOp,
        /// Left operand.
        lhs: Box<SpansetExpr>,
        /// Right operand.
        rhs: Box<SpansetExpr>,
    },
    /// A parenthesized pipeline used as an operand: `({ a } | count() > 1)`.
    /// The parser never makes one whose only stage is a spanset expression
    /// (those parentheses are mere grouping).
    Pipeline(Box<Pipeline>),
}

/// `{ expr }`, or `{}` which selects every span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpansetFilter {
    /// The condition; `None` for `{}`.
    pub expr: Option<FieldExpr>,
}

/// Operators between spansets. `&&` and `||` bind loosest (same level), the
/// structural operators tighter (same level); all are left-associative, as
/// in Tempo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpansetOp {
    /// `&&`: both sides match in the trace.
    And,
    /// `||`: union.
    Or,
    /// `>`: right spans that are children of left spans.
    Child,
    /// `<`: right spans that are parents of left spans.
    Parent,
    /// `>>`: descendants.
    Descendant,
    /// `<<`: ancestors.
    Ancestor,
    /// `~`: siblings.
    Sibling,
    /// `!>`.
    NotChild,
    /// `!<`.
    NotParent,
    /// `!>>`.
    NotDescendant,
    /// `!<<`.
    NotAncestor,
    /// `!~`.
    NotSibling,
    /// `&>`: both sides of a child relation.
    UnionChild,
    /// `&<`.
    UnionParent,
    /// `&>>`.
    UnionDescendant,
    /// `&<<`.
    UnionAncestor,
    /// `&~`.
    UnionSibling,
}

/// An expression over one span's fields.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpr {
    /// A literal.
    Static(Static),
    /// An intrinsic field: `duration`, `span:name`…
    Intrinsic(Intrinsic),
    /// An attribute: `span.http.method`, `.foo`…
    Attribute(Attribute),
    /// `-expr` or `!expr`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<FieldExpr>,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<FieldExpr>,
        /// Right operand.
        rhs: Box<FieldExpr>,
    },
}

/// Prefix operators of field expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`.
    Neg,
    /// `!`.
    Not,
}

/// Binary operators of field expressions. Precedence, loosest first (as in
/// Tempo): `&&` `||` (one level); comparisons; `+` `-`; prefix `!` and `-`;
/// `*` `/` `%`; `^` (right-associative). All others are left-associative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `&&`.
    And,
    /// `||`.
    Or,
    /// `=`.
    Eq,
    /// `!=`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `=~` (the right side, when a string literal, is a valid regex).
    Regex,
    /// `!~`.
    NotRegex,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `^`.
    Pow,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Static {
    /// An integer. The parser makes only non-negative ones (`-1` is
    /// [`UnaryOp::Neg`] of `1`).
    Int(i64),
    /// A finite float. Non-negative from the parser.
    Float(f64),
    /// A string, unescaped.
    String(String),
    /// A duration in nanoseconds. Non-negative from the parser.
    Duration(i64),
    /// `true` or `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// `ok`, `error`, `unset`.
    Status(Status),
    /// `unspecified`, `internal`, `server`, `client`, `producer`, `consumer`.
    Kind(Kind),
}

/// Span status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `ok`.
    Ok,
    /// `error`.
    Error,
    /// `unset`.
    Unset,
}

/// Span kind values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `unspecified`.
    Unspecified,
    /// `internal`.
    Internal,
    /// `server`.
    Server,
    /// `client`.
    Client,
    /// `producer`.
    Producer,
    /// `consumer`.
    Consumer,
}

macro_rules! intrinsics {
    ($($(#[$m:meta])* $v:ident = $s:literal,)*) => {
        /// Intrinsic fields, one variant per spelling (`duration` and
        /// `span:duration` are the same field, kept apart so that printing
        /// gives back what was written).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Intrinsic {
            $($(#[$m])* #[doc = concat!("`", $s, "`")] $v,)*
        }

        impl Intrinsic {
            /// Every intrinsic.
            pub const ALL: &'static [Intrinsic] = &[$(Intrinsic::$v,)*];

            /// The spelling in a query.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Intrinsic::$v => $s,)*
                }
            }

            /// The intrinsic spelled `s`.
            pub fn from_name(s: &str) -> Option<Intrinsic> {
                match s {
                    $($s => Some(Intrinsic::$v),)*
                    _ => None,
                }
            }
        }
    };
}

intrinsics! {
    Duration = "duration",
    Name = "name",
    Status = "status",
    StatusMessage = "statusMessage",
    Kind = "kind",
    ChildCount = "childCount",
    Parent = "parent",
    TraceDuration = "traceDuration",
    RootName = "rootName",
    RootServiceName = "rootServiceName",
    NestedSetLeft = "nestedSetLeft",
    NestedSetRight = "nestedSetRight",
    NestedSetParent = "nestedSetParent",
    SpanDuration = "span:duration",
    SpanName = "span:name",
    SpanStatus = "span:status",
    SpanStatusMessage = "span:statusMessage",
    SpanKind = "span:kind",
    SpanId = "span:id",
    SpanParentId = "span:parentID",
    SpanChildCount = "span:childCount",
    TraceDurationScoped = "trace:duration",
    TraceRootName = "trace:rootName",
    TraceRootService = "trace:rootService",
    TraceId = "trace:id",
    EventName = "event:name",
    EventTimeSinceStart = "event:timeSinceStart",
    LinkTraceId = "link:traceID",
    LinkSpanId = "link:spanID",
    InstrumentationName = "instrumentation:name",
    InstrumentationVersion = "instrumentation:version",
}

/// An attribute reference: `[parent.][scope].name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Written `parent.…`: the attribute of the span's parent.
    pub parent: bool,
    /// The scope; [`Scope::None`] for `.name` (any scope).
    pub scope: Scope,
    /// The name, unquoted (`span."foo bar"` has the name `foo bar`).
    pub name: String,
}

/// Attribute scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `.name`: span or resource.
    None,
    /// `span.`.
    Span,
    /// `resource.`.
    Resource,
    /// `event.`.
    Event,
    /// `link.`.
    Link,
    /// `instrumentation.`.
    Instrumentation,
}

impl Scope {
    /// The prefix word (`span`…); `None` has none.
    pub fn keyword(self) -> Option<&'static str> {
        match self {
            Scope::None => None,
            Scope::Span => Some("span"),
            Scope::Resource => Some("resource"),
            Scope::Event => Some("event"),
            Scope::Link => Some("link"),
            Scope::Instrumentation => Some("instrumentation"),
        }
    }

    pub(crate) fn from_keyword(s: &str) -> Option<Scope> {
        [
            Scope::Span,
            Scope::Resource,
            Scope::Event,
            Scope::Link,
            Scope::Instrumentation,
        ]
        .into_iter()
        .find(|sc| sc.keyword() == Some(s))
    }
}

/// A field named as a whole: for `select(…)`, metrics arguments and `by`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// An intrinsic.
    Intrinsic(Intrinsic),
    /// An attribute.
    Attribute(Attribute),
}

/// `lhs op rhs` over aggregates of a spanset: `count() > 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarFilter {
    /// The comparison.
    pub op: ComparisonOp,
    /// Left side.
    pub lhs: ScalarExpr,
    /// Right side.
    pub rhs: ScalarExpr,
}

/// Comparisons of a [`ScalarFilter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOp {
    /// `=`.
    Eq,
    /// `!=`.
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

/// Arithmetic over aggregates and numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarExpr {
    /// An aggregate over the spanset.
    Aggregate(Aggregate),
    /// An integer (may be negative: `-1`).
    Int(i64),
    /// A finite float (may be negative).
    Float(f64),
    /// A duration in nanoseconds (may be negative).
    Duration(i64),
    /// `lhs op rhs`, `op` one of `+ - * / % ^`.
    Binary {
        /// The operator (an arithmetic [`BinaryOp`]).
        op: BinaryOp,
        /// Left operand.
        lhs: Box<ScalarExpr>,
        /// Right operand.
        rhs: Box<ScalarExpr>,
    },
}

/// Aggregates of a spanset.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregate {
    /// `count()`.
    Count,
    /// `avg(expr)`.
    Avg(FieldExpr),
    /// `min(expr)`.
    Min(FieldExpr),
    /// `max(expr)`.
    Max(FieldExpr),
    /// `sum(expr)`.
    Sum(FieldExpr),
}

/// A metrics function and its grouping: `rate() by (resource.service.name)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsStage {
    /// The function.
    pub function: MetricsFunction,
    /// `by (…)` fields; empty without `by`. Always empty for `compare`.
    pub by: Vec<Field>,
}

/// Metrics functions (the first metrics stage).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricsFunction {
    /// `rate()`.
    Rate,
    /// `count_over_time()`.
    CountOverTime,
    /// `min_over_time(field)`.
    MinOverTime(Field),
    /// `max_over_time(field)`.
    MaxOverTime(Field),
    /// `avg_over_time(field)`.
    AvgOverTime(Field),
    /// `sum_over_time(field)`.
    SumOverTime(Field),
    /// `quantile_over_time(field, q…)`, at least one quantile.
    QuantileOverTime {
        /// The measured field.
        field: Field,
        /// The quantiles (finite, non-negative).
        quantiles: Vec<f64>,
    },
    /// `histogram_over_time(field)`.
    HistogramOverTime(Field),
    /// `compare({…}[, top_n[, start, end]])`.
    Compare {
        /// The selection compared with the rest.
        filter: SpansetFilter,
        /// How many values per attribute (Tempo's default is 10).
        top_n: Option<u64>,
        /// Start and end of the selection, in Unix nanoseconds.
        window: Option<(u64, u64)>,
    },
}

/// Second metrics stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecondStage {
    /// `topk(n)`.
    TopK(u64),
    /// `bottomk(n)`.
    BottomK(u64),
}

/// `name = value` inside `with (…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// The hint's name, e.g. `most_recent`.
    pub name: String,
    /// Its value.
    pub value: Static,
}
