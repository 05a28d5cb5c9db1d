//! Prometheus decodes only count and sum of native histograms for selectors
//! whose only consumers are `histogram_count`/`histogram_sum`/`histogram_avg`
//! (its `HistogramStatsIterator`), and detects counter resets on the fly
//! while doing so. The results can differ (counter reset hints, annotations),
//! so the engine does the same for those selectors.

use std::collections::{HashMap, HashSet};

use argus_model::{CounterResetHint, FloatHistogram, HistogramSample};
use promql_parser::parser::{Expr, VectorSelector};

enum PathNode {
    Subquery,
    StatsCall,
    BucketsCall,
    Trim,
    Other,
}

fn visit(
    e: &Expr,
    path: &mut Vec<PathNode>,
    trims: &HashMap<usize, &'static str>,
    out: &mut HashSet<usize>,
) {
    let mut mark = |vs: &VectorSelector, path: &[PathNode]| {
        let mut skip = false;
        for p in path.iter().rev() {
            match p {
                PathNode::Subquery | PathNode::BucketsCall | PathNode::Trim => {
                    skip = false;
                    break;
                }
                PathNode::StatsCall => skip = true,
                PathNode::Other => {}
            }
        }
        if skip {
            out.insert(vs as *const VectorSelector as usize);
        }
    };
    match e {
        Expr::VectorSelector(vs) => mark(vs, path),
        Expr::MatrixSelector(ms) => mark(&ms.vs, path),
        Expr::Paren(p) => visit(&p.expr, path, trims, out),
        Expr::Unary(u) => {
            path.push(PathNode::Other);
            visit(&u.expr, path, trims, out);
            path.pop();
        }
        Expr::Subquery(s) => {
            path.push(PathNode::Subquery);
            visit(&s.expr, path, trims, out);
            path.pop();
        }
        Expr::Aggregate(a) => {
            path.push(PathNode::Other);
            if let Some(p) = &a.param {
                visit(p, path, trims, out);
            }
            visit(&a.expr, path, trims, out);
            path.pop();
        }
        Expr::Binary(b) => {
            let is_trim = trims.contains_key(&(e as *const Expr as usize));
            path.push(if is_trim {
                PathNode::Trim
            } else {
                PathNode::Other
            });
            visit(&b.lhs, path, trims, out);
            visit(&b.rhs, path, trims, out);
            path.pop();
        }
        Expr::Call(c) => {
            path.push(match c.func.name {
                "histogram_count" | "histogram_sum" | "histogram_avg" => PathNode::StatsCall,
                "histogram_quantile" | "histogram_quantiles" | "histogram_fraction" => {
                    PathNode::BucketsCall
                }
                _ => PathNode::Other,
            });
            for a in &c.args.args {
                visit(a, path, trims, out);
            }
            path.pop();
        }
        _ => {}
    }
}

/// Addresses of the vector selectors whose histograms are read as statistics only.
pub(crate) fn stats_selectors(expr: &Expr, trims: &HashMap<usize, &'static str>) -> HashSet<usize> {
    let mut out = HashSet::new();
    visit(expr, &mut Vec::new(), trims, &mut out);
    out
}

/// Count and sum only, with counter resets detected between consecutive samples.
pub(crate) fn to_stats(hs: &mut [HistogramSample]) {
    let mut last: Option<FloatHistogram> = None;
    for s in hs.iter_mut() {
        let h = &s.h;
        let mut hint = h.counter_reset_hint;
        if argus_model::is_stale_nan(h.sum) {
            s.h = FloatHistogram {
                counter_reset_hint: hint,
                schema: h.schema,
                count: h.count,
                sum: h.sum,
                ..Default::default()
            };
            continue;
        }
        if hint == CounterResetHint::Unknown {
            if let Some(l) = &last {
                hint = if crate::histogram::detect_reset(h, l) {
                    CounterResetHint::CounterReset
                } else {
                    CounterResetHint::NotCounterReset
                };
            }
        }
        last = Some(h.clone());
        s.h = FloatHistogram {
            counter_reset_hint: hint,
            schema: h.schema,
            count: h.count,
            sum: h.sum,
            ..Default::default()
        };
    }
}
