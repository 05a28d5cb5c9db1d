//! The typed AST of a LogQL query.
//!
//! A query ([`Expr`]) is either a log query ([`LogExpr`]: a stream selector
//! and a pipeline of [`Stage`]s applied in order to each line) or a metric
//! query ([`MetricExpr`]): range aggregations over a [`LogRange`] (a log query
//! over a time window, with an optional [`Unwrap`] that turns each line into a
//! sample), vector aggregations, binary operations, literals, `vector(…)` and
//! `label_replace(…)`. Parentheses leave no trace: the tree's shape holds the
//! grouping, and the printer adds back the parentheses it needs.
//!
//! Durations are nanoseconds (`i64`), numbers `f64`, byte sizes `u64`.

/// A LogQL query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A log query: returns log lines.
    Log(LogExpr),
    /// A metric query: returns samples.
    Metric(MetricExpr),
}

/// A log query: `{app="foo"} |= "error" | json | level="error"`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogExpr {
    /// The stream selector, `{…}`: all matchers must hold.
    pub selector: Vec<Matcher>,
    /// The pipeline, applied to each line in order.
    pub pipeline: Vec<Stage>,
}

/// A label matcher: `name op "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// How the value is compared.
    pub op: MatchOp,
    /// The value, or the regex (anchored at both ends) for `=~` and `!~`.
    pub value: String,
}

/// A matcher's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Eq,
    /// `!=`
    Neq,
    /// `=~`
    Re,
    /// `!~`
    Nre,
}

/// One stage of a log pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// A line filter, `|= "text"` (`|= "a" or "b"` keeps lines matching any
    /// alternative). Consecutive filters are consecutive stages.
    LineFilter(LineFilter),
    /// A parser that extracts labels from the line.
    Parser(LogParser),
    /// `| <label filter>`: keeps lines whose labels pass.
    LabelFilter(LabelFilter),
    /// `| line_format "{{.a}}"`: rewrites the line with a Go template.
    LineFormat(String),
    /// `| label_format a="{{.b}}", c=d`: sets or renames labels.
    LabelFormat(Vec<LabelFormat>),
    /// `| drop a, b="v"`: removes labels (a matcher: only when it matches).
    Drop(Vec<LabelSelection>),
    /// `| keep a, b="v"`: keeps only these labels.
    Keep(Vec<LabelSelection>),
    /// `| decolorize`: strips ANSI colour sequences from the line.
    Decolorize,
}

/// A line filter: an operator and one or more alternatives (`or`).
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilter {
    /// The operator.
    pub op: LineFilterOp,
    /// The alternatives, at least one: the filter matches when any does
    /// (for the negated operators: when none does).
    pub values: Vec<LineFilterValue>,
}

/// A line filter's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFilterOp {
    /// `|=`: the line contains the text.
    Contains,
    /// `!=`: the line does not contain the text.
    NotContains,
    /// `|~`: the line matches the regex (unanchored).
    Match,
    /// `!~`: the line does not match the regex.
    NotMatch,
    /// `|>`: the line matches the pattern (`<_>` placeholders).
    Pattern,
    /// `!>`: the line does not match the pattern.
    NotPattern,
}

/// What a line filter looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFilterValue {
    /// A string: text, regex or pattern depending on the operator.
    Text(String),
    /// `ip("…")`: an IP address, CIDR range or `a-b` range, found in the line
    /// (only with `|=` and `!=`).
    Ip(String),
}

/// A parser stage.
#[derive(Debug, Clone, PartialEq)]
pub enum LogParser {
    /// `json`, or `json a="x.y", b` to extract only some fields.
    Json(Vec<LabelExtraction>),
    /// `logfmt [--strict] [--keep-empty] [a="x", b]`.
    Logfmt {
        /// `--strict`: stop at the first malformed pair.
        strict: bool,
        /// `--keep-empty`: keep standalone keys as empty labels.
        keep_empty: bool,
        /// Fields to extract (all when empty).
        params: Vec<LabelExtraction>,
    },
    /// `regexp "(?P<name>…)"`: one label per named group.
    Regexp(String),
    /// `pattern "<ip> - <_>"`.
    Pattern(String),
    /// `unpack`: unpacks JSON packed by Promtail's `pack` stage.
    Unpack,
}

/// A field to extract: `name` or `name="path"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelExtraction {
    /// The label to set.
    pub name: String,
    /// Where to read it (a JSON path for `json`, a key for `logfmt`);
    /// `None` means the label's own name.
    pub path: Option<String>,
}

/// One `label_format` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelFormat {
    /// The label to set.
    pub name: String,
    /// Its new value.
    pub value: LabelFormatValue,
}

/// The right side of a `label_format` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelFormatValue {
    /// `dst=src`: renames label `src` to `dst`.
    Rename(String),
    /// `dst="{{.a}}"`: a Go template.
    Template(String),
}

/// A label named by `drop` or `keep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSelection {
    /// The label, whatever its value.
    Name(String),
    /// The label when its value matches.
    Matcher(Matcher),
}

/// A label filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelFilter {
    /// A string comparison, `name op "value"`.
    Matcher(Matcher),
    /// `name = ip("…")` or `name != ip("…")`.
    Ip {
        /// The label.
        name: String,
        /// `!=` rather than `=`.
        negated: bool,
        /// An address, CIDR range or `a-b` range.
        value: String,
    },
    /// `name > 5`: the label read as a number.
    Number {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// The number.
        value: f64,
    },
    /// `name > 250ms`: the label read as a duration.
    Duration {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// Nanoseconds.
        value: i64,
    },
    /// `name > 20MB`: the label read as a byte size.
    Bytes {
        /// The label.
        name: String,
        /// The comparison.
        op: CmpOp,
        /// Bytes.
        value: u64,
    },
    /// All must pass (`and`, `,` or two filters side by side). The parser
    /// flattens nested conjunctions: no element is itself an `And`.
    And(Vec<LabelFilter>),
    /// Any must pass (`or`). Flattened like `And`.
    Or(Vec<LabelFilter>),
}

impl LabelFilter {
    /// `a and b`, flattening conjunctions.
    pub fn and(a: LabelFilter, b: LabelFilter) -> LabelFilter {
        let mut v = match a {
            LabelFilter::And(v) => v,
            a => vec![a],
        };
        match b {
            LabelFilter::And(w) => v.extend(w),
            b => v.push(b),
        }
        LabelFilter::And(v)
    }

    /// `a or b`, flattening disjunctions.
    pub fn or(a: LabelFilter, b: LabelFilter) -> LabelFilter {
        let mut v = match a {
            LabelFilter::Or(v) => v,
            a => vec![a],
        };
        match b {
            LabelFilter::Or(w) => v.extend(w),
            b => v.push(b),
        }
        LabelFilter::Or(v)
    }
}

/// A numeric comparison in a label filter (`=` and `==` are both `Eq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==` (or `=`)
    Eq,
    /// `!=`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

/// A metric query.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpr {
    /// `rate({…}[5m])`, `quantile_over_time(0.9, {…} | unwrap x [5m]) by (a)`.
    RangeAggregation(Box<RangeAggregation>),
    /// `sum by (a) (…)`, `topk(5, …)`.
    VectorAggregation(Box<VectorAggregation>),
    /// `a + b`, `a > bool b`, `a and on (x) b`.
    Binary(Box<BinaryExpr>),
    /// A number (the sign folded in: `-1` is `Literal(-1.0)`).
    Literal(f64),
    /// `vector(1)`: one sample with no labels at every step.
    Vector(f64),
    /// `label_replace(expr, "dst", "replacement", "src", "regex")`.
    LabelReplace(Box<LabelReplace>),
}

/// A log query over a time window: what a range aggregation consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRange {
    /// The log query.
    pub log: LogExpr,
    /// Which label becomes the sample value (for the `*_over_time`
    /// aggregations that need values).
    pub unwrap: Option<Unwrap>,
    /// The window, in nanoseconds (a whole number of milliseconds).
    pub range: i64,
    /// `offset 1h`, in nanoseconds.
    pub offset: Option<i64>,
}

/// `| unwrap [conversion(]label[)]` and the label filters after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrap {
    /// The label whose value becomes the sample.
    pub label: String,
    /// How the value is read (as a number when `None`).
    pub conversion: Option<Conversion>,
    /// Label filters applied after the conversion (`| __error__=""`).
    pub post_filters: Vec<LabelFilter>,
}

/// An unwrap conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conversion {
    /// `bytes(label)`: `20MB` → 20000000.
    Bytes,
    /// `duration(label)`: a duration, as seconds.
    Duration,
    /// `duration_seconds(label)`: the same.
    DurationSeconds,
}

/// A range aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeAggregation {
    /// The function.
    pub op: RangeOp,
    /// `quantile_over_time`'s quantile (only there).
    pub param: Option<f64>,
    /// The log range.
    pub range: LogRange,
    /// `by (…)` / `without (…)` after the call (unwrapped aggregations only).
    pub grouping: Option<Grouping>,
}

/// A range aggregation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    /// `count_over_time`
    CountOverTime,
    /// `rate`
    Rate,
    /// `rate_counter`
    RateCounter,
    /// `bytes_over_time`
    BytesOverTime,
    /// `bytes_rate`
    BytesRate,
    /// `absent_over_time`
    AbsentOverTime,
    /// `sum_over_time`
    SumOverTime,
    /// `avg_over_time`
    AvgOverTime,
    /// `min_over_time`
    MinOverTime,
    /// `max_over_time`
    MaxOverTime,
    /// `stdvar_over_time`
    StdvarOverTime,
    /// `stddev_over_time`
    StddevOverTime,
    /// `quantile_over_time`
    QuantileOverTime,
    /// `first_over_time`
    FirstOverTime,
    /// `last_over_time`
    LastOverTime,
}

/// A vector aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorAggregation {
    /// The function.
    pub op: VectorOp,
    /// `topk`'s and `bottomk`'s k (only there, > 0).
    pub param: Option<i64>,
    /// The aggregated expression.
    pub expr: MetricExpr,
    /// `by (…)` / `without (…)`, written before or after the arguments.
    pub grouping: Option<Grouping>,
}

/// A vector aggregation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VectorOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `count`
    Count,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `sort`
    Sort,
    /// `sort_desc`
    SortDesc,
}

/// `by (a, b)` or `without (a, b)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// `without` rather than `by`.
    pub without: bool,
    /// The labels (possibly none).
    pub labels: Vec<String>,
}

/// A binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// The left operand.
    pub lhs: MetricExpr,
    /// The right operand.
    pub rhs: MetricExpr,
    /// `bool`: comparisons return 0 or 1 instead of filtering.
    pub return_bool: bool,
    /// `on (…)` / `ignoring (…)` and `group_left` / `group_right`.
    pub matching: Option<VectorMatching>,
}

/// A binary operator. Precedence, lowest first: `or`; `and`, `unless`;
/// comparisons; `+`, `-`; `*`, `/`, `%`; `^` (right-associative, the others
/// left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `unless`
    Unless,
    /// `==`
    Eq,
    /// `!=`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}

impl BinaryOp {
    /// Binding power: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eq
            | BinaryOp::Neq
            | BinaryOp::Gt
            | BinaryOp::Gte
            | BinaryOp::Lt
            | BinaryOp::Lte => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 5,
            BinaryOp::Pow => 6,
        }
    }

    /// `^` groups to the right (`2 ^ 3 ^ 2` is `2 ^ (3 ^ 2)`).
    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `==`, `!=`, `>`, `>=`, `<`, `<=`.
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// `and`, `or`, `unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

/// How the two sides' series are paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorMatching {
    /// `on` (match on these labels) rather than `ignoring` (all but these).
    pub on: bool,
    /// The labels.
    pub labels: Vec<String>,
    /// One-to-one, or many-to-one / one-to-many with `group_left` /
    /// `group_right`.
    pub cardinality: Cardinality,
}

/// Vector matching cardinality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cardinality {
    /// Neither `group_left` nor `group_right`.
    OneToOne,
    /// `group_left (labels to copy from the right)`.
    ManyToOne(Vec<String>),
    /// `group_right (labels to copy from the left)`.
    OneToMany(Vec<String>),
}

/// `label_replace(expr, "dst", "replacement", "src", "regex")`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelReplace {
    /// The input.
    pub expr: MetricExpr,
    /// The label to write.
    pub dst: String,
    /// Its value, with `$1`-style references to the regex's groups.
    pub replacement: String,
    /// The label read.
    pub src: String,
    /// Matched against the source label's value (anchored).
    pub regex: String,
}
