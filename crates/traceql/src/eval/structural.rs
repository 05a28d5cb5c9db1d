//! The structural spanset operators (`>`, `<`, `>>`, `<<`, `~`, their
//! negations and union forms), each in O(n) over the trace's tree.
//!
//! As in Tempo, `L op R` keeps the spans of `R` that stand in the relation
//! to some span of `L` (`L > R`: the children of `L` spans found in `R`);
//! the negated forms keep the `R` spans that stand in it to none; the union
//! forms keep both ends of every related pair.

use super::trace::TraceView;
use crate::ast::SpansetOp;

/// `l op r`, `l` and `r` sorted span indexes; the result is sorted. `op`
/// is structural (`&&` and `||` are the caller's).
pub(crate) fn relate(view: &TraceView<'_>, op: SpansetOp, l: &[usize], r: &[usize]) -> Vec<usize> {
    use SpansetOp::*;
    let n = view.len();
    let in_l = mask(n, l);
    match op {
        Child | NotChild => keep(r, |x| has_parent_in(view, &in_l, x) == (op == Child)),
        Parent | NotParent => {
            let m = has_child_in(view, l);
            keep(r, |x| m[x] == (op == Parent))
        }
        Descendant | NotDescendant => {
            let m = has_ancestor_in(view, &in_l);
            keep(r, |x| m[x] == (op == Descendant))
        }
        Ancestor | NotAncestor => {
            let m = has_descendant_in(view, &in_l);
            keep(r, |x| m[x] == (op == Ancestor))
        }
        Sibling | NotSibling => {
            let count = children_in(view, l);
            keep(r, |x| {
                has_sibling_in(view, &count, &in_l, x) == (op == Sibling)
            })
        }
        UnionChild => {
            let m = has_child_in(view, r);
            union(
                keep(r, |x| has_parent_in(view, &in_l, x)),
                keep(l, |x| m[x]),
            )
        }
        UnionParent => {
            let in_r = mask(n, r);
            let m = has_child_in(view, l);
            union(
                keep(r, |x| m[x]),
                keep(l, |x| has_parent_in(view, &in_r, x)),
            )
        }
        UnionDescendant => {
            let in_r = mask(n, r);
            let below_l = has_ancestor_in(view, &in_l);
            let above_r = has_descendant_in(view, &in_r);
            union(keep(r, |x| below_l[x]), keep(l, |x| above_r[x]))
        }
        UnionAncestor => {
            let in_r = mask(n, r);
            let above_l = has_descendant_in(view, &in_l);
            let below_r = has_ancestor_in(view, &in_r);
            union(keep(r, |x| above_l[x]), keep(l, |x| below_r[x]))
        }
        UnionSibling => {
            let in_r = mask(n, r);
            let count_l = children_in(view, l);
            let count_r = children_in(view, r);
            union(
                keep(r, |x| has_sibling_in(view, &count_l, &in_l, x)),
                keep(l, |x| has_sibling_in(view, &count_r, &in_r, x)),
            )
        }
        // Not structural: evaluated by the caller.
        And | Or => Vec::new(),
    }
}

/// Sorted, deduplicated union of two sorted lists.
pub(crate) fn union(mut a: Vec<usize>, b: Vec<usize>) -> Vec<usize> {
    a.extend(b);
    a.sort_unstable();
    a.dedup();
    a
}

fn mask(n: usize, set: &[usize]) -> Vec<bool> {
    let mut m = vec![false; n];
    for &i in set {
        m[i] = true;
    }
    m
}

fn keep(set: &[usize], f: impl Fn(usize) -> bool) -> Vec<usize> {
    set.iter().copied().filter(|&x| f(x)).collect()
}

fn has_parent_in(view: &TraceView<'_>, set: &[bool], x: usize) -> bool {
    view.parent(x).is_some_and(|p| set[p])
}

/// Spans with a child in `set`.
fn has_child_in(view: &TraceView<'_>, set: &[usize]) -> Vec<bool> {
    let mut m = vec![false; view.len()];
    for &c in set {
        if let Some(p) = view.parent(c) {
            m[p] = true;
        }
    }
    m
}

/// Spans with a (proper) ancestor in `set`: parents come first in
/// pre-order.
fn has_ancestor_in(view: &TraceView<'_>, set: &[bool]) -> Vec<bool> {
    let mut m = vec![false; view.len()];
    for &x in view.preorder() {
        if let Some(p) = view.parent(x) {
            m[x] = set[p] || m[p];
        }
    }
    m
}

/// Spans with a (proper) descendant in `set`: children come first in
/// reverse pre-order.
fn has_descendant_in(view: &TraceView<'_>, set: &[bool]) -> Vec<bool> {
    let mut m = vec![false; view.len()];
    for &x in view.preorder().iter().rev() {
        if let Some(p) = view.parent(x) {
            if set[x] || m[x] {
                m[p] = true;
            }
        }
    }
    m
}

/// For each span, how many of its children are in `set`.
fn children_in(view: &TraceView<'_>, set: &[usize]) -> Vec<usize> {
    let mut count = vec![0usize; view.len()];
    for &c in set {
        if let Some(p) = view.parent(c) {
            count[p] += 1;
        }
    }
    count
}

/// Whether `x` has a sibling (another child of its parent) in the set
/// whose per-parent counts are `count` and whose members are `set`.
fn has_sibling_in(view: &TraceView<'_>, count: &[usize], set: &[bool], x: usize) -> bool {
    view.parent(x)
        .is_some_and(|p| count[p] > usize::from(set[x]))
}
