//! The experimental `info()` function: adds the data labels of info series
//! (`target_info` by default) that share the identifying labels `instance` and
//! `job` with each input series.

use std::collections::{BTreeSet, HashMap, HashSet};

use argus_model::{is_stale_nan, Labels, MatchOp, Matcher, Sample, METRIC_NAME};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::Expr;

use super::selector::offset_ms;
use super::{exec_err, EResult, ESeries, Evaluator, SeriesCollector, StepReader, StepSample};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING_LABELS: [&str; 2] = ["instance", "job"];

fn name_matcher(op: MatchOp, v: &str) -> Matcher {
    Matcher::new(op, METRIC_NAME, v).unwrap_or_else(|_| Matcher::equal(METRIC_NAME, v))
}

/// Prometheus's `effectiveInfoNameMatchers`.
fn effective_name_matchers(ms: &[Matcher]) -> Vec<Matcher> {
    if ms
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        return ms.to_vec();
    }
    if !ms.is_empty() {
        let mut out = vec![name_matcher(MatchOp::Regex, ".+_info")];
        out.extend(ms.iter().cloned());
        return out;
    }
    vec![name_matcher(MatchOp::Equal, TARGET_INFO)]
}

/// The `@` time and offset of the first selector of `e` (or of its enclosing subqueries).
fn first_selector_timing(
    ev: &Evaluator<'_, '_>,
    e: &Expr,
    outer: &mut Vec<(Option<i64>, i64)>,
) -> Option<(Option<i64>, i64)> {
    match e {
        Expr::VectorSelector(vs) => {
            let mut at = ev.at_ms(&vs.at);
            let mut off = offset_ms(&vs.offset);
            for (sq_at, sq_off) in outer.iter().rev() {
                if at.is_some() {
                    break;
                }
                off += sq_off;
                at = *sq_at;
            }
            Some((at, off))
        }
        Expr::MatrixSelector(ms) => {
            first_selector_timing(ev, &Expr::VectorSelector(ms.vs.clone()), outer)
        }
        Expr::Subquery(sq) => {
            outer.push((ev.at_ms(&sq.at), offset_ms(&sq.offset)));
            let r = first_selector_timing(ev, &sq.expr, outer);
            outer.pop();
            r
        }
        Expr::Aggregate(a) => a
            .param
            .as_deref()
            .and_then(|p| first_selector_timing(ev, p, outer))
            .or_else(|| first_selector_timing(ev, &a.expr, outer)),
        Expr::Unary(u) => first_selector_timing(ev, &u.expr, outer),
        Expr::Binary(b) => first_selector_timing(ev, &b.lhs, outer)
            .or_else(|| first_selector_timing(ev, &b.rhs, outer)),
        Expr::Paren(p) => first_selector_timing(ev, &p.expr, outer),
        Expr::Call(c) => c
            .args
            .args
            .iter()
            .find_map(|a| first_selector_timing(ev, a, outer)),
        _ => None,
    }
}

/// The join signature of a series for one info metric name.
fn signature(name: &str, l: &Labels) -> String {
    let mut s = format!("{name}\u{ff}");
    for n in IDENTIFYING_LABELS {
        if let Some(v) = l.get(n) {
            s.push_str(n);
            s.push('\u{ff}');
            s.push_str(v);
            s.push('\u{ff}');
        }
    }
    s
}

impl Evaluator<'_, '_> {
    pub(crate) fn eval_info(&self, args: &[&Expr]) -> EResult<Vec<ESeries>> {
        let (at, offset) =
            first_selector_timing(self, args[0], &mut Vec::new()).unwrap_or((None, 0));
        let base = self.eval_vector(args[0])?;
        // Data label matchers by label name, from the optional selector argument.
        let mut data: HashMap<String, Vec<Matcher>> = HashMap::new();
        let mut name_matchers = Vec::new();
        if let Some(Expr::VectorSelector(vs)) = args.get(1) {
            let mut ms = vs.matchers.matchers.clone();
            if let Some(n) = &vs.name {
                if !ms.iter().any(|m| m.name == METRIC_NAME) {
                    ms.push(promql_parser::label::Matcher::new(
                        PMatchOp::Equal,
                        METRIC_NAME,
                        n,
                    ));
                }
            }
            for m in ms.into_iter().filter(|m| m.name != INFO_PLACEHOLDER) {
                let op = match m.op {
                    PMatchOp::Equal => MatchOp::Equal,
                    PMatchOp::NotEqual => MatchOp::NotEqual,
                    PMatchOp::Re(_) => MatchOp::Regex,
                    PMatchOp::NotRe(_) => MatchOp::NotRegex,
                };
                let mm = Matcher::new(op, m.name.clone(), m.value.clone())
                    .map_err(|e| exec_err(e.to_string()))?;
                if m.name == METRIC_NAME {
                    name_matchers.push(mm.clone());
                }
                data.entry(m.name.clone()).or_default().push(mm);
            }
        } else {
            name_matchers.push(name_matcher(MatchOp::Equal, TARGET_INFO));
        }
        let effective = effective_name_matchers(&name_matchers);
        let ignored: HashSet<usize> = base
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let n = s.labels.get(METRIC_NAME).unwrap_or("");
                effective.iter().all(|m| m.matches(n))
            })
            .map(|(i, _)| i)
            .collect();
        let info = self.fetch_info_series(&base, &ignored, &mut data, at, offset)?;
        self.combine_with_info(&base, &info, &ignored, &data)
    }

    fn fetch_info_series(
        &self,
        base: &[ESeries],
        ignored: &HashSet<usize>,
        data: &mut HashMap<String, Vec<Matcher>>,
        at: Option<i64>,
        offset: i64,
    ) -> EResult<Vec<ESeries>> {
        let mut id_values: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (i, s) in base.iter().enumerate() {
            if ignored.contains(&i) {
                continue;
            }
            for n in IDENTIFYING_LABELS {
                if let Some(v) = s.labels.get(n) {
                    id_values.entry(n).or_default().insert(v);
                }
            }
        }
        let name_ms: Vec<Matcher> = data.get(METRIC_NAME).cloned().unwrap_or_default();
        data.remove(METRIC_NAME);
        if id_values.is_empty() {
            return Ok(Vec::new());
        }
        let mut ms = Vec::new();
        for (n, vals) in &id_values {
            let re = vals
                .iter()
                .map(|v| regex::escape(v))
                .collect::<Vec<_>>()
                .join("|");
            ms.push(Matcher::new(MatchOp::Regex, *n, re).map_err(|e| exec_err(e.to_string()))?);
        }
        for v in data.values() {
            ms.extend(v.iter().cloned());
        }
        ms.extend(effective_name_matchers(&name_ms));
        let steps = self.steps();
        let refs: Vec<i64> = steps.iter().map(|&ts| at.unwrap_or(ts) - offset).collect();
        let (Some(&lo), Some(&hi)) = (refs.iter().min(), refs.iter().max()) else {
            return Ok(Vec::new());
        };
        let lookback = self.ctx.opts.lookback_delta_ms;
        let sel = self.ctx.q.select(&ms, lo - lookback + 1, hi)?;
        let mut out = Vec::new();
        let mut held = 0;
        for k in 0..sel.len() {
            self.ctx.check_deadline()?;
            let argus_model::StoredSeries {
                floats: samples,
                histograms,
                ..
            } = sel.load(k)?;
            self.ctx
                .check_transient(held + samples.len() + histograms.len())?;
            let mut points = Vec::new();
            for (&ts, &r) in steps.iter().zip(&refs) {
                let hidx = histograms.partition_point(|h| h.t <= r);
                if let Some(h) = hidx.checked_sub(1).map(|i| &histograms[i]) {
                    let newer_float = samples.iter().any(|s| s.t > h.t && s.t <= r);
                    if h.t > r - lookback && !newer_float {
                        return Err(exec_err("info sample should be float"));
                    }
                }
                let idx = samples.partition_point(|s| s.t <= r);
                if idx == 0 {
                    continue;
                }
                let s = samples[idx - 1];
                if s.t <= r - lookback || is_stale_nan(s.v) {
                    continue;
                }
                // The value is the sample's own timestamp, to pick the newest info series.
                points.push(Sample::new(ts, s.t as f64));
            }
            if !points.is_empty() {
                held += points.len();
                out.push(ESeries {
                    hists: Vec::new(),
                    labels: sel.shared_labels(k),
                    drop_name: false,
                    points,
                });
            }
        }
        Ok(out)
    }

    fn combine_with_info(
        &self,
        base: &[ESeries],
        info: &[ESeries],
        ignored: &HashSet<usize>,
        data: &HashMap<String, Vec<Matcher>>,
    ) -> EResult<Vec<ESeries>> {
        let info_names: BTreeSet<&str> = info
            .iter()
            .filter_map(|s| s.labels.get(METRIC_NAME))
            .collect();
        let base_sigs: Vec<Vec<(&str, String)>> = base
            .iter()
            .map(|s| {
                info_names
                    .iter()
                    .map(|n| (*n, signature(n, &s.labels)))
                    .collect()
            })
            .collect();
        let info_sigs: Vec<String> = info
            .iter()
            .map(|s| signature(s.labels.get(METRIC_NAME).unwrap_or(""), &s.labels))
            .collect();
        let mut base_reader = StepReader::new(base);
        let mut info_reader = StepReader::new(info);
        let mut out = SeriesCollector::new();
        for ts in self.steps() {
            self.ctx.check_deadline()?;
            let mut right: HashMap<&str, (usize, f64)> = HashMap::new();
            for (i, sig) in info_sigs.iter().enumerate() {
                let Some(orig_t) = info_reader.value(i, ts) else {
                    continue;
                };
                match right.get(sig.as_str()) {
                    // Keep the info series with the newest sample.
                    Some(&(_, t)) if t > orig_t => {}
                    Some(&(j, t)) if t == orig_t => {
                        return Err(exec_err(format!(
                            "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                            info[j].labels, t as i64, info[i].labels, orig_t as i64
                        )));
                    }
                    _ => {
                        right.insert(sig.as_str(), (i, orig_t));
                    }
                }
            }
            for (bi, bs) in base.iter().enumerate() {
                let (v, h) = match base_reader.value(bi, ts) {
                    Some(v) => (v, None),
                    None => match base_reader.hist(bi, ts) {
                        Some(h) => (0.0, Some(h)),
                        None => continue,
                    },
                };
                if ignored.contains(&bi) {
                    out.add(
                        ts,
                        StepSample {
                            h,
                            labels: bs.labels.clone(),
                            v,
                            drop_name: bs.drop_name,
                            t: ts,
                        },
                    )?;
                    continue;
                }
                let mut added: Vec<(String, String)> = Vec::new();
                let mut seen = 0;
                for (_, sig) in &base_sigs[bi] {
                    let Some(&(ii, _)) = right.get(sig.as_str()) else {
                        continue;
                    };
                    seen += 1;
                    for l in info[ii].labels.iter() {
                        if l.name == METRIC_NAME
                            || (!data.is_empty() && !data.contains_key(&l.name))
                        {
                            continue;
                        }
                        if let Some((_, v)) = added.iter().find(|(n, _)| *n == l.name) {
                            if *v != l.value {
                                return Err(exec_err(format!("conflicting label: {}", l.name)));
                            }
                        }
                        if bs.labels.get(&l.name).is_some()
                            || added.iter().any(|(n, _)| *n == l.name)
                        {
                            continue;
                        }
                        added.push((l.name.clone(), l.value.clone()));
                    }
                }
                if seen == 0 && !data.values().flatten().all(|m| m.matches_empty()) {
                    continue;
                }
                let mut b = bs.labels.builder();
                for (n, v) in added {
                    b.set(n, v);
                }
                out.add(
                    ts,
                    StepSample {
                        h,
                        labels: b.build().into(),
                        v,
                        drop_name: bs.drop_name,
                        t: ts,
                    },
                )?;
            }
        }
        Ok(out.series)
    }
}

/// A label matcher inserted into `info()`'s label selector so that
/// `promql-parser` accepts selectors whose matchers all match the empty string
/// (Prometheus's parser allows them there); ignored when evaluating.
pub(crate) const INFO_PLACEHOLDER: &str = "__argus_info_selector__";

/// Rewrites `info(expr, {...})` so that the selector has a non-empty matcher.
/// Calls may nest (`info(info(x, {a="1"}), {b="2"})`): an outer call is found
/// before the calls inside it, but its selector comes after theirs, so the
/// insertion points are collected first and applied in text order.
pub(crate) fn rewrite_info_selectors(query: &str) -> Option<String> {
    let b = query.as_bytes();
    // Byte offsets of the `{` of each info() selector.
    let mut selectors = Vec::new();
    let mut i = 0;
    while let Some(off) = query[i..].find("info(") {
        let start = i + off;
        i = start + 5;
        if start > 0
            && (b[start - 1].is_ascii_alphanumeric()
                || b[start - 1] == b'_'
                || b[start - 1] == b':')
        {
            continue;
        }
        // Find the top-level comma of the call.
        let (mut depth, mut j, mut quote) = (0i32, i, 0u8);
        let mut comma = None;
        while j < b.len() {
            let c = b[j];
            if quote != 0 {
                if c == b'\\' && quote != b'`' {
                    j += 1;
                } else if c == quote {
                    quote = 0;
                }
            } else {
                match c {
                    b'"' | b'\'' | b'`' => quote = c,
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' if depth == 0 => break,
                    b')' | b']' | b'}' => depth -= 1,
                    b',' if depth == 0 => {
                        comma = Some(j);
                        break;
                    }
                    _ => {}
                }
            }
            j += 1;
        }
        let Some(c) = comma else { continue };
        let mut k = c + 1;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if k < b.len() && b[k] == b'{' {
            selectors.push(k);
        }
    }
    if selectors.is_empty() {
        return None;
    }
    selectors.sort_unstable();
    selectors.dedup();
    let mut out = String::with_capacity(query.len() + selectors.len() * 32);
    let mut last = 0;
    for k in selectors {
        out.push_str(&query[last..=k]);
        out.push_str(INFO_PLACEHOLDER);
        out.push_str("!=\"\",");
        last = k + 1;
    }
    out.push_str(&query[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_info_selectors() {
        assert_eq!(
            rewrite_info_selectors(r#"info(rate(x[5m]), {data=~".*"}) + build_info(y, {a=""})"#)
                .as_deref(),
            Some(
                r#"info(rate(x[5m]), {__argus_info_selector__!="",data=~".*"}) + build_info(y, {a=""})"#
            )
        );
        assert_eq!(rewrite_info_selectors("info(x)"), None);
    }

    /// Found by the `promql` fuzz target: an info() call inside the first
    /// argument of another one panicked (the outer call's selector was
    /// spliced in first, then the inner one's, earlier in the text, was
    /// sliced from past it). Both selectors are rewritten now.
    #[test]
    fn rewrites_nested_info_selectors() {
        assert_eq!(
            rewrite_info_selectors(r#"info(info(a, {x="1"}), {y="2"})"#).as_deref(),
            Some(
                r#"info(info(a, {__argus_info_selector__!="",x="1"}), {__argus_info_selector__!="",y="2"})"#
            )
        );
        // The fuzzer's input.
        let q = r#"info(info(build_info, {__name__=~"target_.+", __n8me__=~".+in_fo"})build_info, {__name__=~"target_.+", __n8me__=~".+in_fo"})"#;
        let out = rewrite_info_selectors(q).unwrap();
        assert_eq!(out.matches(INFO_PLACEHOLDER).count(), 2);
        // Through the engine: an answer (here a parse error), not a panic.
        let engine = crate::Engine::default();
        let _ = engine.instant(&crate::MemStore::new(), q, 0);
        let ok = engine.instant(
            &crate::MemStore::new(),
            r#"info(info(up, {x="1"}), {y="2"})"#,
            0,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }
}
