//! Prometheus's step-invariance check for instant queries: the query is run
//! again with `@ <eval time>` added to every selector (outside subqueries, and
//! every subquery pinned too) at other evaluation times, and must give the same
//! result. Skipped for expressions using functions whose value depends on the
//! evaluation time.

use std::time::{Duration, UNIX_EPOCH};

use promql_parser::parser::{AtModifier, Expr};

const UNSAFE_FUNCTIONS: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

fn at(ts: i64) -> AtModifier {
    let t = if ts >= 0 {
        UNIX_EPOCH + Duration::from_millis(ts as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ts.unsigned_abs())
    };
    AtModifier::At(t)
}

/// Pins selectors to `ts`; returns false if the expression uses an @-unsafe function.
fn pin(e: &mut Expr, ts: i64) -> bool {
    match e {
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert_with(|| at(ts));
            true
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.at.get_or_insert_with(|| at(ts));
            true
        }
        Expr::Subquery(sq) => {
            // Selectors inside a pinned subquery keep their own timing, and (as in
            // Prometheus) functions inside it are not checked.
            sq.at.get_or_insert_with(|| at(ts));
            true
        }
        Expr::Aggregate(a) => {
            let ok = a.param.as_deref_mut().is_none_or(|p| pin(p, ts));
            pin(&mut a.expr, ts) && ok
        }
        Expr::Unary(u) => pin(&mut u.expr, ts),
        Expr::Binary(b) => {
            let l = pin(&mut b.lhs, ts);
            pin(&mut b.rhs, ts) && l
        }
        Expr::Paren(p) => pin(&mut p.expr, ts),
        Expr::Call(c) => {
            let mut ok = !UNSAFE_FUNCTIONS.contains(&c.func.name);
            for a in &mut c.args.args {
                ok &= pin(a, ts);
            }
            ok
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => true,
    }
}

/// The pinned expression and the extra evaluation times, or `None` when the check does not apply.
pub(super) fn at_modifier_cases(query: &str, ts: i64) -> Option<(Expr, Vec<i64>)> {
    let mut e = crate::engine::parse(query).ok()?;
    if !pin(&mut e, ts) {
        return None;
    }
    let times = if ts == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![-10 * ts, 0, ts / 5, ts, 10 * ts]
    };
    Some((e, times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_selectors_but_not_inside_subqueries() {
        let (e, times) =
            at_modifier_cases("sum(rate(m[5m])) + max_over_time(x[10m:1m])", 60_000).unwrap();
        assert_eq!(times, vec![-600_000, 0, 12_000, 60_000, 600_000]);
        let s = e.to_string();
        assert!(s.contains("m[5m] @ 60.000"), "{s}");
        assert!(s.contains("x[10m:1m] @ 60.000"), "{s}");
        assert!(!s.contains("x @"), "{s}");
        assert!(at_modifier_cases("time() + m", 60_000).is_none());
        assert!(at_modifier_cases("max_over_time(vector(time())[5m:])", 60_000).is_some());
    }
}
