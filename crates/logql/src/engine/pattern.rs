//! Loki's `pattern` expressions (`<name>`, `<_>` and literals), for the
//! `pattern` parser and the `|>`/`!>` line filters.

// ---------------------------------------------------------------- pattern

/// A compiled `pattern` expression: literals and captures (`<name>`, `<_>`).
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    nodes: Vec<PNode>,
}

#[derive(Debug, Clone)]
enum PNode {
    Lit(String),
    Cap(Option<String>),
}

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    #[error("at least one capture is required")]
    NoCapture,
    #[error("found consecutive capture '{0}': invalid expression")]
    Consecutive(String),
    #[error("duplicate capture name ({0}): invalid expression")]
    Duplicate(String),
    #[error("named captures are not allowed in a pattern line filter: found '<{0}>'")]
    NamedInFilter(String),
}

impl Pattern {
    pub(crate) fn parse(s: &str) -> Pattern {
        let mut nodes = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while !rest.is_empty() {
            if rest.starts_with('<') {
                if let Some(end) = rest.find('>') {
                    let name = &rest[1..end];
                    let valid = !name.is_empty()
                        && (name == "_"
                            || (name
                                .chars()
                                .next()
                                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
                    if valid {
                        if !lit.is_empty() {
                            nodes.push(PNode::Lit(std::mem::take(&mut lit)));
                        }
                        nodes.push(PNode::Cap((name != "_").then(|| name.to_string())));
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            let c = rest.chars().next().unwrap_or(' ');
            lit.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if !lit.is_empty() {
            nodes.push(PNode::Lit(lit));
        }
        Pattern { nodes }
    }

    /// The checks of the `pattern` parser.
    pub(crate) fn validate_parser(&self) -> Result<(), PatternError> {
        if !self.nodes.iter().any(|n| matches!(n, PNode::Cap(_))) {
            return Err(PatternError::NoCapture);
        }
        self.validate_common()
    }

    fn validate_common(&self) -> Result<(), PatternError> {
        let mut seen = std::collections::HashSet::new();
        for w in self.nodes.windows(2) {
            if let (PNode::Cap(a), PNode::Cap(b)) = (&w[0], &w[1]) {
                let n = |c: &Option<String>| format!("<{}>", c.as_deref().unwrap_or("_"));
                return Err(PatternError::Consecutive(format!("{}{}", n(a), n(b))));
            }
        }
        for n in &self.nodes {
            if let PNode::Cap(Some(name)) = n {
                if !seen.insert(name.clone()) {
                    return Err(PatternError::Duplicate(name.clone()));
                }
            }
        }
        Ok(())
    }

    /// The checks of a `|>` line filter: no named captures.
    pub(crate) fn validate_filter(&self) -> Result<(), PatternError> {
        for n in &self.nodes {
            if let PNode::Cap(Some(name)) = n {
                return Err(PatternError::NamedInFilter(name.clone()));
            }
        }
        self.validate_common()
    }

    /// Loki's `Matcher.Matches`: the named captures, possibly fewer than the
    /// names when the line ends early.
    pub(crate) fn captures<'l>(&self, line: &'l str) -> Vec<(&str, &'l str)> {
        let mut out = Vec::new();
        if line.is_empty() || self.nodes.is_empty() {
            return out;
        }
        let mut input = line;
        let mut nodes = &self.nodes[..];
        if let PNode::Lit(l) = &nodes[0] {
            if !input.starts_with(l.as_str()) {
                return out;
            }
            input = &input[l.len()..];
            nodes = &nodes[1..];
        }
        while !nodes.is_empty() {
            let PNode::Cap(cap) = &nodes[0] else {
                return out;
            };
            if nodes.len() == 1 {
                if let Some(n) = cap {
                    out.push((n.as_str(), input));
                }
                return out;
            }
            let PNode::Lit(l) = &nodes[1] else {
                return out;
            };
            nodes = &nodes[2..];
            match input.find(l.as_str()) {
                None => {
                    if let Some(n) = cap {
                        out.push((n.as_str(), input));
                    }
                    return out;
                }
                Some(i) => {
                    if let Some(n) = cap {
                        out.push((n.as_str(), &input[..i]));
                    }
                    input = &input[i + l.len()..];
                }
            }
        }
        out
    }

    /// Loki's `Matcher.Test`, for `|>` and `!>`.
    pub(crate) fn test(&self, line: &str) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return line.is_empty() && self.nodes.is_empty();
        }
        let mut off = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            let PNode::Lit(lit) = n else { continue };
            let Some(j) = line[off..].find(lit.as_str()) else {
                return false;
            };
            if i != 0 && j == 0 {
                return false;
            }
            off += j + lit.len();
        }
        let req_rem = matches!(self.nodes.last(), Some(PNode::Cap(_)));
        let has_rem = off != line.len();
        req_rem == has_rem
    }
}
