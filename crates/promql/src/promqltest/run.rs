//! Executing promqltest commands against the engine and comparing results.

use std::collections::HashMap;
use std::path::Path;

use argus_model::{is_stale_nan, Labels, Sample, STALE_NAN};
use regex::Regex;

use super::histo::{fmt_histogram, histograms_match};
use super::parse::{parse_script, Command, EvalCmd, ExpectKind, Expected};
use super::series_notation::SeqValue;
use promql_parser::parser::Expr;

use super::at_modifier::at_modifier_cases;
use crate::{Engine, EngineOptions, MemStore, PromqlError, QueryResult, Value};

/// The outcome of running one script.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub file: String,
    pub passed: usize,
    /// Failed statements: `eval`s, plus `load`s that could not be parsed.
    pub failed: usize,
    /// How many of `failed` are `load` statements.
    pub failed_loads: usize,
    /// One entry per failed statement: line, query, expected vs got.
    pub failures: Vec<String>,
}

impl std::fmt::Display for FileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} passed, {} failed",
            self.file, self.passed, self.failed
        )?;
        if self.failed_loads > 0 {
            write!(
                f,
                " ({} of them load statements that could not be parsed)",
                self.failed_loads
            )?;
        }
        Ok(())
    }
}

/// Runs a script file. Unreadable files report one failure.
pub fn run_file(path: &Path) -> FileReport {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match std::fs::read_to_string(path) {
        Ok(s) => run_script(&name, &s),
        Err(e) => FileReport {
            file: name,
            passed: 0,
            failed: 1,
            failed_loads: 0,
            failures: vec![format!("cannot read file: {e}")],
        },
    }
}

/// Runs a script given as text.
pub fn run_script(name: &str, input: &str) -> FileReport {
    let mut report = FileReport {
        file: name.to_string(),
        ..Default::default()
    };
    let engine = Engine::new(EngineOptions::default());
    let mut store = MemStore::new();
    for cmd in parse_script(input) {
        match cmd {
            Command::Clear => store.clear(),
            Command::Load {
                line,
                interval_ms,
                series,
                with_nhcb,
                error,
            } => {
                for (labels, vals) in &series {
                    for (i, v) in vals.iter().enumerate() {
                        let t = i as i64 * interval_ms;
                        match v {
                            SeqValue::Omitted => {}
                            SeqValue::Histogram(h, _) => {
                                store.add_histogram(labels.clone(), t, (**h).clone())
                            }
                            SeqValue::Stale => store.add(labels.clone(), Sample::new(t, STALE_NAN)),
                            SeqValue::Value(f) => store.add(labels.clone(), Sample::new(t, *f)),
                        }
                    }
                }
                if with_nhcb {
                    for (labels, hs) in super::histo::nhcb_series(&series, interval_ms) {
                        for (t, h) in hs {
                            store.add_histogram(labels.clone(), t, h);
                        }
                    }
                }
                if let Some(e) = error {
                    // The parsable series of the statement are loaded; the statement itself counts as failed.
                    report.failed += 1;
                    report.failed_loads += 1;
                    report.failures.push(format!("line {line}: load: {e}"));
                }
            }
            Command::Invalid {
                line,
                is_eval,
                error,
            } => {
                if is_eval {
                    report.failed += 1;
                }
                report
                    .failures
                    .push(format!("line {line}: cannot parse statement: {error}"));
            }
            Command::Eval(cmd) => {
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    exec_eval(&engine, &store, &cmd)
                }))
                .unwrap_or_else(|_| Err("engine panicked".to_string()));
                match res {
                    Ok(()) => report.passed += 1,
                    Err(e) => {
                        report.failed += 1;
                        report
                            .failures
                            .push(format!("line {}: {}: {e}", cmd.line, cmd.expr));
                    }
                }
            }
        }
    }
    report
}

fn exec_eval(engine: &Engine, store: &MemStore, cmd: &EvalCmd) -> Result<(), String> {
    if cmd.is_range {
        let res = engine.range(store, &cmd.expr, cmd.start, cmd.end, cmd.step);
        return check_outcome(cmd, res).map(|_| ());
    }
    run_instant(engine, store, cmd, None, cmd.end)?;
    if let Some((pinned, times)) = at_modifier_cases(&cmd.expr, cmd.end) {
        for t in times {
            run_instant(engine, store, cmd, Some(&pinned), t)
                .map_err(|e| format!("with @ modifiers at t={t}: {e}"))?;
        }
    }
    Ok(())
}

/// Checks failure expectations, annotations and the value; `Ok(None)` when an expected failure happened.
fn check_outcome(
    cmd: &EvalCmd,
    res: Result<QueryResult, PromqlError>,
) -> Result<Option<QueryResult>, String> {
    let res = match res {
        Err(e) => {
            if cmd.is_fail() {
                return check_expected_failure(cmd, &e.to_string()).map(|_| None);
            }
            return Err(format!("error evaluating query: {e}"));
        }
        Ok(r) => r,
    };
    if cmd.is_fail() {
        return Err("expected error evaluating query but got none".into());
    }
    check_annotations(cmd, &res)?;
    compare_result(cmd, &res.value)?;
    Ok(Some(res))
}

/// One instant evaluation (the query itself, or its @-pinned form at another time),
/// followed by the same query in range mode around `t`.
fn run_instant(
    engine: &Engine,
    store: &MemStore,
    cmd: &EvalCmd,
    pinned: Option<&Expr>,
    t: i64,
) -> Result<(), String> {
    let exec = |start: i64, end: i64, step: i64| match pinned {
        None if step == 0 => engine.instant(store, &cmd.expr, t),
        None => engine.range(store, &cmd.expr, start, end, step),
        Some(e) => engine.exec_expr(store, &cmd.expr, e, start, end, step),
    };
    let Some(res) = check_outcome(cmd, exec(t, t, 0))? else {
        return Ok(());
    };
    if cmd.exclude_from_range_query {
        return Ok(());
    }
    let context_funcs = Regex::new(r"(start|end|range|step)\(\)").expect("valid regex");
    if context_funcs.is_match(&cmd.expr) || cmd.is_ordered() {
        return Ok(());
    }
    // Same query in range mode: the middle step must give the same result.
    let range = exec(t - 60_000, t + 60_000, 60_000)
        .map_err(|e| format!("error evaluating query in range mode: {e}"))?;
    let Value::Matrix(mat) = range.value else {
        return Err("range mode did not return a matrix".into());
    };
    check_sorted(&mat)?;
    let mut vec = Vec::new();
    for s in &mat {
        if let Some(p) = s.samples.iter().find(|p| p.t == t) {
            vec.push(crate::VectorSample {
                labels: s.labels.clone(),
                t,
                v: p.v,
                h: None,
            });
        } else if let Some(p) = s.histograms.iter().find(|p| p.t == t) {
            vec.push(crate::VectorSample {
                labels: s.labels.clone(),
                t,
                v: 0.0,
                h: Some(p.h.clone()),
            });
        }
    }
    let as_value = if let Value::Scalar(..) = res.value {
        match vec.first() {
            Some(s) => Value::Scalar(t, s.v),
            None => return Err("range mode: scalar query returned no value".into()),
        }
    } else {
        Value::Vector(vec)
    };
    compare_result(cmd, &as_value).map_err(|e| format!("range mode: {e}"))
}

fn check_expected_failure(cmd: &EvalCmd, err: &str) -> Result<(), String> {
    if let Some(m) = &cmd.expected_fail_message {
        if m != err {
            return Err(format!("expected error {m:?}, got {err:?}"));
        }
    }
    if let Some(r) = &cmd.expected_fail_regexp {
        if !r.is_match(err) {
            return Err(format!(
                "expected error matching {:?}, got {err:?}",
                r.as_str()
            ));
        }
    }
    if let Some(e) = cmd.of_kind(ExpectKind::Fail).first() {
        if !e.matches(err) {
            return Err(format!(
                "expected error matching {}, got {err:?}",
                e.describe()
            ));
        }
    }
    Ok(())
}

fn check_annotations(cmd: &EvalCmd, res: &QueryResult) -> Result<(), String> {
    if cmd.old_warn && res.warnings.is_empty() {
        return Err("expected warnings but got none".into());
    }
    if cmd.old_info && res.infos.is_empty() {
        return Err("expected info annotations but got none".into());
    }
    for (kind, actual, what) in [
        (ExpectKind::Warn, &res.warnings, "warn"),
        (ExpectKind::Info, &res.infos, "info"),
    ] {
        let expected = cmd.of_kind(kind);
        if expected.is_empty() {
            continue;
        }
        if actual.is_empty() {
            return Err(format!("expected {what} annotations but none were found"));
        }
        for e in &expected {
            if !actual.iter().any(|a| e.matches(a)) {
                return Err(format!(
                    "expected {what} annotation matching {} but found {actual:?}",
                    e.describe()
                ));
            }
        }
        for a in actual.iter() {
            if !expected.iter().any(|e| e.matches(a)) {
                return Err(format!("unexpected {what} annotation {a:?}"));
            }
        }
    }
    if !cmd.of_kind(ExpectKind::NoWarn).is_empty() && !res.warnings.is_empty() {
        return Err(format!(
            "unexpected warning annotations: {:?}",
            res.warnings
        ));
    }
    if !cmd.of_kind(ExpectKind::NoInfo).is_empty() && !res.infos.is_empty() {
        return Err(format!("unexpected info annotations: {:?}", res.infos));
    }
    Ok(())
}

/// Float comparison of Prometheus's `util/almost.Equal` with epsilon 1e-6.
pub fn almost_equal(a: f64, b: f64) -> bool {
    almost_equal_eps(a, b, 1e-6)
}

/// `util/almost.Equal` with a given relative epsilon.
pub fn almost_equal_eps(a: f64, b: f64, epsilon: f64) -> bool {
    let min_normal = f64::MIN_POSITIVE;
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < min_normal {
        return diff < epsilon * min_normal;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

fn check_sorted(mat: &[crate::Series]) -> Result<(), String> {
    for w in mat.windows(2) {
        if w[0].labels > w[1].labels {
            return Err(format!(
                "matrix results should always be sorted by labels: {} before {}",
                w[0].labels, w[1].labels
            ));
        }
    }
    Ok(())
}

fn seq_f64(v: &SeqValue) -> Option<f64> {
    match v {
        SeqValue::Omitted | SeqValue::Histogram(..) => None,
        SeqValue::Stale => Some(STALE_NAN),
        SeqValue::Value(f) => Some(*f),
    }
}

fn compare_result(cmd: &EvalCmd, value: &Value) -> Result<(), String> {
    let series: HashMap<&Labels, (&Vec<SeqValue>, usize)> = match &cmd.expected {
        Expected::Series(s) => s.iter().map(|(l, v, p)| (l, (v, *p))).collect(),
        _ => HashMap::new(),
    };
    let expect_scalar = matches!(cmd.expected, Expected::Scalar(_));
    match value {
        Value::Matrix(mat) => {
            if cmd.is_ordered() {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            if expect_scalar {
                return Err("expected scalar result, but got matrix".into());
            }
            check_sorted(mat)?;
            let mut seen = 0;
            for s in mat {
                let Some((vals, _)) = series.get(&s.labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has {}",
                        s.labels,
                        fmt_points(&s.samples)
                    ));
                };
                seen += 1;
                let mut expected = Vec::new();
                let mut expected_h = Vec::new();
                for (i, v) in vals.iter().enumerate() {
                    let ts = cmd.start + i as i64 * cmd.step;
                    if ts > cmd.end {
                        return Err(format!("expected {} points for {}, but query time range cannot return this many points", vals.len(), s.labels));
                    }
                    if let Some(f) = seq_f64(v) {
                        expected.push(Sample::new(ts, f));
                    }
                    if let SeqValue::Histogram(h, set) = v {
                        expected_h.push((ts, h, *set));
                    }
                }
                if expected.len() != s.samples.len() || expected_h.len() != s.histograms.len() {
                    return Err(format!(
                        "expected {} float points and {} histogram points for {}, but got {} and {} histograms",
                        expected.len(),
                        expected_h.len(),
                        s.labels,
                        fmt_points(&s.samples),
                        s.histograms.len()
                    ));
                }
                for ((t, h, set), a) in expected_h.iter().zip(&s.histograms) {
                    if *t != a.t {
                        return Err(format!(
                            "expected histogram timestamp {t} for {}, got {}",
                            s.labels, a.t
                        ));
                    }
                    if !histograms_match(h, &a.h, *set) {
                        return Err(format!(
                            "expected histogram {} at t={t} for {}, got {}",
                            fmt_histogram(h),
                            s.labels,
                            fmt_histogram(&a.h)
                        ));
                    }
                }
                for (e, a) in expected.iter().zip(&s.samples) {
                    if e.t != a.t {
                        return Err(format!(
                            "expected timestamp {} for {}, got {} ({})",
                            e.t,
                            s.labels,
                            a.t,
                            fmt_points(&s.samples)
                        ));
                    }
                    if !almost_equal(a.v, e.v) {
                        return Err(format!(
                            "expected {} at t={} for {}, got {} ({})",
                            e.v,
                            a.t,
                            s.labels,
                            a.v,
                            fmt_points(&s.samples)
                        ));
                    }
                }
            }
            if seen != series.len() {
                let missing: Vec<String> = series
                    .keys()
                    .filter(|l| !mat.iter().any(|s| &&s.labels == *l))
                    .map(|l| l.to_string())
                    .collect();
                return Err(format!(
                    "expected metrics not found: {}",
                    missing.join(", ")
                ));
            }
        }
        Value::Vector(vec) => {
            if expect_scalar {
                return Err("expected scalar result, but got vector".into());
            }
            let mut seen = std::collections::HashSet::new();
            for (pos, s) in vec.iter().enumerate() {
                let Some((vals, epos)) = series.get(&s.labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has value {}",
                        s.labels, s.v
                    ));
                };
                if cmd.is_ordered() && *epos != pos + 1 {
                    return Err(format!(
                        "expected metric {} at position {} but was at {}",
                        s.labels,
                        epos,
                        pos + 1
                    ));
                }
                let first = vals
                    .first()
                    .ok_or_else(|| format!("no expected value for {}", s.labels))?;
                match (first, &s.h) {
                    (SeqValue::Histogram(h, set), Some(a)) => {
                        if !histograms_match(h, a, *set) {
                            return Err(format!(
                                "expected {} for {} but got {}",
                                fmt_histogram(h),
                                s.labels,
                                fmt_histogram(a)
                            ));
                        }
                        seen.insert(&s.labels);
                        continue;
                    }
                    (SeqValue::Histogram(h, _), None) => {
                        return Err(format!(
                            "expected histogram {} for {} but got float value {}",
                            fmt_histogram(h),
                            s.labels,
                            s.v
                        ));
                    }
                    (_, Some(a)) => {
                        return Err(format!(
                            "expected float value for {} but got histogram {}",
                            s.labels,
                            fmt_histogram(a)
                        ));
                    }
                    _ => {}
                }
                let exp =
                    seq_f64(first).ok_or_else(|| format!("no expected value for {}", s.labels))?;
                if !almost_equal(exp, s.v) {
                    return Err(format!("expected {exp} for {} but got {}", s.labels, s.v));
                }
                seen.insert(&s.labels);
            }
            if seen.len() != series.len() {
                let missing: Vec<String> = series
                    .keys()
                    .filter(|l| !seen.contains(*l))
                    .map(|l| l.to_string())
                    .collect();
                return Err(format!(
                    "expected metrics not found: {}",
                    missing.join(", ")
                ));
            }
        }
        Value::Scalar(_, v) => {
            let Expected::Scalar(exp) = cmd.expected else {
                return Err(format!(
                    "expected vector or matrix result, but got scalar {v}"
                ));
            };
            if !almost_equal(exp, *v) {
                return Err(format!("expected scalar {exp} but got {v}"));
            }
        }
        Value::String(_, s) => {
            let exp = match &cmd.expected {
                Expected::String(e) => e.as_str(),
                _ => "",
            };
            if exp != s {
                return Err(format!("expected string {exp:?} but got {s:?}"));
            }
        }
    }
    Ok(())
}

fn fmt_points(samples: &[Sample]) -> String {
    let pts: Vec<String> = samples
        .iter()
        .map(|s| format!("{} @{}", s.v, s.t))
        .collect();
    format!("[{}]", pts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn almost_equal_rules() {
        assert!(almost_equal(1.0, 1.0 + 1e-9));
        assert!(!almost_equal(1.0, 1.001));
        assert!(almost_equal(f64::NAN, f64::NAN));
        assert!(!almost_equal(f64::NAN, STALE_NAN));
        assert!(almost_equal(STALE_NAN, STALE_NAN));
        assert!(!almost_equal(0.0, 1e-300));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY));
    }
}
