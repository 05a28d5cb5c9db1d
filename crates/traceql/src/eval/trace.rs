//! One trace's spans as a tree: parents, children, depth-first order and
//! nested-set bounds, computed once in O(n) so that the structural
//! operators run in O(n) per operator.

use std::collections::HashMap;

use argus_model::traces::{Span, SpanId, SpanKind};

/// The spans of one trace (in any order) with their tree.
///
/// A span's parent is the span of the trace whose id is its `parent_span_id`
/// (never itself). When two spans share an id (Zipkin's shared client/server
/// spans), a server span's parent is the client one of the pair and any
/// other span's parent is the server one, as Tempo links them. A span whose
/// parent is not in the trace is a root of its own subtree. Cycles (only
/// possible in corrupt data) are cut at one of their spans, which becomes a
/// root.
#[derive(Debug)]
pub struct TraceView<'a> {
    spans: &'a [Span],
    parent: Vec<Option<usize>>,
    /// Children of span `i`: `children[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<usize>,
    children: Vec<usize>,
    /// Depth-first pre-order over all spans, roots by start time.
    preorder: Vec<usize>,
    /// Nested-set bounds (Tempo's `nestedSetLeft`/`nestedSetRight`), from 1.
    left: Vec<i64>,
    right: Vec<i64>,
    root: Option<usize>,
    start_ns: i64,
    end_ns: i64,
}

/// Spans by id: the first two spans having each id.
type IdMap = HashMap<SpanId, (usize, Option<usize>)>;

impl<'a> TraceView<'a> {
    /// The tree of `spans` (all spans of one trace, any order).
    pub fn new(spans: &'a [Span]) -> Self {
        let mut ids: IdMap = HashMap::with_capacity(spans.len());
        for (i, s) in spans.iter().enumerate() {
            ids.entry(s.span_id)
                .and_modify(|e| {
                    if e.1.is_none() {
                        e.1 = Some(i);
                    }
                })
                .or_insert((i, None));
        }
        let mut parent: Vec<Option<usize>> = (0..spans.len())
            .map(|i| find_parent(spans, &ids, i))
            .collect();
        let roots = root_order(spans, &parent);
        // Spans that no root reaches are on a cycle (or under one): cut it.
        let mut seen = vec![false; spans.len()];
        let (start, kids) = csr(&parent);
        for &r in &roots {
            mark_reachable(r, &start, &kids, &mut seen);
        }
        let mut walk = vec![usize::MAX; spans.len()];
        for i in 0..spans.len() {
            if seen[i] {
                continue;
            }
            // Walk up to the cycle above `i` and cut it there.
            let mut c = i;
            while walk[c] != i {
                walk[c] = i;
                match parent[c] {
                    Some(p) => c = p,
                    None => break,
                }
            }
            parent[c] = None;
            mark_reachable(c, &start, &kids, &mut seen);
        }
        let roots = root_order(spans, &parent);
        let (child_start, children) = csr(&parent);
        let mut view = TraceView {
            spans,
            parent,
            child_start,
            children,
            preorder: Vec::with_capacity(spans.len()),
            left: vec![0; spans.len()],
            right: vec![0; spans.len()],
            root: None,
            start_ns: spans.iter().map(|s| s.start_ns).min().unwrap_or(0),
            end_ns: spans.iter().map(|s| s.end_ns).max().unwrap_or(0),
        };
        view.number(&roots);
        // The trace's root: a span without a parent id if there is one (as
        // Tempo), else a span whose parent is missing; the earliest-starting.
        view.root = roots
            .iter()
            .copied()
            .find(|&r| spans[r].parent_span_id.is_none())
            .or_else(|| roots.first().copied());
        view
    }

    /// Depth-first numbering from `roots`: pre-order and nested-set bounds.
    fn number(&mut self, roots: &[usize]) {
        let mut bound = 1i64;
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for &r in roots {
            self.left[r] = bound;
            bound += 1;
            self.preorder.push(r);
            stack.push((r, self.child_start[r]));
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                if next < self.child_start[node + 1] {
                    top.1 += 1;
                    let c = self.children[next];
                    self.left[c] = bound;
                    bound += 1;
                    self.preorder.push(c);
                    stack.push((c, self.child_start[c]));
                } else {
                    self.right[node] = bound;
                    bound += 1;
                    stack.pop();
                }
            }
        }
    }

    /// The spans, as given.
    pub fn spans(&self) -> &'a [Span] {
        self.spans
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the trace has no spans.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The parent of span `i` (an index), if it is in the trace.
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent.get(i).copied().flatten()
    }

    /// The children of span `i`, in input order.
    pub fn children(&self, i: usize) -> &[usize] {
        match (self.child_start.get(i), self.child_start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.children[a..b],
            _ => &[],
        }
    }

    /// All spans, parents before their children (depth-first).
    pub fn preorder(&self) -> &[usize] {
        &self.preorder
    }

    /// Tempo's nested-set bounds of span `i`: `(left, right)`; a span's
    /// descendants are the spans whose bounds lie strictly within its own.
    pub fn nested_set(&self, i: usize) -> (i64, i64) {
        (
            self.left.get(i).copied().unwrap_or(0),
            self.right.get(i).copied().unwrap_or(0),
        )
    }

    /// The trace's root span: the earliest-starting span without a parent
    /// id, or if none, the earliest-starting span whose parent is missing.
    pub fn root(&self) -> Option<usize> {
        self.root
    }

    /// Latest end minus earliest start, in nanoseconds (0 when empty).
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns).max(0)
    }
}

/// The parent of span `i` among `ids`, as described on [`TraceView`].
fn find_parent(spans: &[Span], ids: &IdMap, i: usize) -> Option<usize> {
    let pid = spans[i].parent_span_id?;
    let &(a, b) = ids.get(&pid)?;
    let candidates = [Some(a), b];
    let mut others = candidates.iter().flatten().copied().filter(|&c| c != i);
    let first = others.next()?;
    let Some(second) = others.next() else {
        return Some(first);
    };
    let want = if spans[i].kind == SpanKind::Server {
        SpanKind::Client
    } else {
        SpanKind::Server
    };
    if spans[second].kind == want && spans[first].kind != want {
        Some(second)
    } else {
        Some(first)
    }
}

/// Spans without a parent, earliest start first (then input order).
fn root_order(spans: &[Span], parent: &[Option<usize>]) -> Vec<usize> {
    let mut roots: Vec<usize> = (0..spans.len()).filter(|&i| parent[i].is_none()).collect();
    roots.sort_by_key(|&i| (spans[i].start_ns, i));
    roots
}

/// Children lists in compressed form: `(start, children)`.
fn csr(parent: &[Option<usize>]) -> (Vec<usize>, Vec<usize>) {
    let n = parent.len();
    let mut start = vec![0usize; n + 1];
    for p in parent.iter().flatten() {
        start[p + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![0usize; start[n]];
    for (c, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            children[fill[p]] = c;
            fill[p] += 1;
        }
    }
    (start, children)
}

/// Marks every span reachable from `from` through `children` (without
/// crossing already-marked spans).
fn mark_reachable(from: usize, start: &[usize], children: &[usize], seen: &mut [bool]) {
    if seen[from] {
        return;
    }
    seen[from] = true;
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        for &c in &children[start[node]..start[node + 1]] {
            if !seen[c] {
                seen[c] = true;
                stack.push(c);
            }
        }
    }
}
