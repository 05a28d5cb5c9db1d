//! Parse errors of the query languages (LogQL, TraceQL): a byte offset into
//! the query, its line and column (1-based, the column counted in
//! characters), and what was expected.

/// Why a query was refused. Every variant but [`ParseError::TooLong`] carries
/// the byte offset (`pos`) of the offending token in the query text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A token the grammar does not allow where it stands.
    #[error("parse error at line {line}, col {col}: syntax error: unexpected {found}, expecting {expected}")]
    Syntax {
        /// Byte offset of the unexpected token.
        pos: usize,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The token found, e.g. `identifier "foo"` or `end of input`.
        found: String,
        /// What the parser expected there.
        expected: String,
    },
    /// Well-formed text with an invalid value: a bad regex, an unterminated
    /// string, a number out of range, an aggregation without its parameter…
    #[error("parse error at line {line}, col {col}: {message}")]
    Invalid {
        /// Byte offset where the invalid part starts.
        pos: usize,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// More than the language's limit of nested parentheses, function
    /// calls, operators or pipelines.
    #[error("parse error at line {line}, col {col}: query nested too deeply: more than {limit} levels of parentheses, function calls, operators or pipelines")]
    TooDeep {
        /// Byte offset where the limit was passed.
        pos: usize,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        /// The language's limit.
        limit: usize,
    },
    /// The query is longer than the language's limit.
    #[error("parse error: query too long: {len} bytes, the limit is {limit}")]
    TooLong {
        /// Length of the query in bytes.
        len: usize,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl ParseError {
    /// Byte offset in the query where the error was found (0 for
    /// [`ParseError::TooLong`]).
    pub fn position(&self) -> usize {
        match self {
            ParseError::Syntax { pos, .. }
            | ParseError::Invalid { pos, .. }
            | ParseError::TooDeep { pos, .. } => *pos,
            ParseError::TooLong { .. } => 0,
        }
    }

    pub fn syntax(src: &str, pos: usize, found: String, expected: &str) -> Self {
        let (line, col) = line_col(src, pos);
        ParseError::Syntax {
            pos,
            line,
            col,
            found,
            expected: expected.to_string(),
        }
    }

    pub fn invalid(src: &str, pos: usize, message: impl Into<String>) -> Self {
        let (line, col) = line_col(src, pos);
        ParseError::Invalid {
            pos,
            line,
            col,
            message: message.into(),
        }
    }

    /// Nested deeper than `limit` at `pos`.
    pub fn too_deep(src: &str, pos: usize, limit: usize) -> Self {
        let (line, col) = line_col(src, pos);
        ParseError::TooDeep {
            pos,
            line,
            col,
            limit,
        }
    }
}

/// 1-based line and column (in characters) of byte offset `pos`.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}
