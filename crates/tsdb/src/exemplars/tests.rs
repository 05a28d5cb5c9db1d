use super::*;

fn series(i: &str) -> Labels {
    Labels::from_pairs([("__name__", "req"), ("i", i)])
}

fn ex(trace: &str, v: f64, t: i64) -> Exemplar {
    Exemplar::new(Labels::from_pairs([("trace_id", trace)]), v, t)
}

fn times(store: &Exemplars, i: &str) -> Vec<i64> {
    let m = vec![Matcher::equal("i", i)];
    store
        .select(&[m], i64::MIN, i64::MAX)
        .into_iter()
        .flat_map(|(_, es)| es.into_iter().map(|e| e.ts_ms))
        .collect()
}

#[test]
fn the_buffer_evicts_the_oldest_of_all_series() {
    let store = Exemplars::new(4);
    // a:1, b:2, a:3, b:4 fill the buffer; a:5 evicts a:1, b:6 evicts b:2.
    for (i, t) in [("a", 1), ("b", 2), ("a", 3), ("b", 4)] {
        assert_eq!(store.add(&series(i), ex("x", 1.0, t)), Check::Append);
    }
    assert_eq!(store.len(), 4);
    store.add(&series("a"), ex("x", 1.0, 5));
    store.add(&series("b"), ex("x", 1.0, 6));
    assert_eq!(store.len(), 4);
    assert_eq!(times(&store, "a"), vec![3, 5]);
    assert_eq!(times(&store, "b"), vec![4, 6]);
    // Three more of c: a's 3 and b's 4 go, then a's 5 (a leaves the index).
    for t in 7..10 {
        store.add(&series("c"), ex("x", 1.0, t));
    }
    assert_eq!(times(&store, "a"), Vec::<i64>::new());
    assert_eq!(times(&store, "b"), vec![6]);
    assert_eq!(times(&store, "c"), vec![7, 8, 9]);
    assert!(store.newest(&series("a")).is_none());
    // The snapshot is oldest first, the order a replay restores.
    let snap: Vec<i64> = store.snapshot().iter().map(|(_, e)| e.ts_ms).collect();
    assert_eq!(snap, vec![6, 7, 8, 9]);
    let again = Exemplars::new(4);
    for (s, e) in store.snapshot() {
        assert_eq!(again.add(&s, e), Check::Append);
    }
    assert_eq!(again.snapshot().len(), 4);
    assert_eq!(times(&again, "c"), vec![7, 8, 9]);
}

#[test]
fn a_series_alone_wraps_around_itself() {
    let store = Exemplars::new(3);
    for t in 1..=10 {
        store.add(&series("a"), ex("x", 1.0, t));
    }
    assert_eq!(times(&store, "a"), vec![8, 9, 10]);
    let snap: Vec<i64> = store.snapshot().iter().map(|(_, e)| e.ts_ms).collect();
    assert_eq!(snap, vec![8, 9, 10]);
}

#[test]
fn duplicates_are_ignored_and_out_of_order_refused() {
    let store = Exemplars::new(10);
    let s = series("a");
    assert_eq!(store.add(&s, ex("1", 5.0, 100)), Check::Append);
    // The same exemplar again (a retried write, a re-scrape): a no-op.
    assert_eq!(store.add(&s, ex("1", 5.0, 100)), Check::Duplicate);
    assert_eq!(store.len(), 1);
    // Older: refused. Same time, smaller value: refused (Prometheus's rule).
    assert_eq!(store.add(&s, ex("2", 5.0, 99)), Check::OutOfOrder);
    assert_eq!(store.add(&s, ex("2", 4.0, 100)), Check::OutOfOrder);
    // Same time, larger value (another bucket of a native histogram): kept.
    assert_eq!(store.add(&s, ex("3", 6.0, 100)), Check::Append);
    // Other series are independent.
    assert_eq!(store.add(&series("b"), ex("1", 1.0, 1)), Check::Append);
    // Labels over 128 characters are refused.
    let long = Exemplar::new(
        Labels::from_pairs([("trace_id", "x".repeat(121))]),
        1.0,
        200,
    );
    assert_eq!(store.add(&s, long), Check::LabelTooLong);
    assert_eq!(Check::LabelTooLong.reason(), Some("label_too_long"));
    assert_eq!(times(&store, "a"), vec![100, 100]);
}

#[test]
fn zero_capacity_is_off() {
    let store = Exemplars::new(0);
    assert_eq!(store.add(&series("a"), ex("1", 1.0, 1)), Check::Disabled);
    assert!(store.is_empty());
    assert!(store.select(&[], i64::MIN, i64::MAX).is_empty());
}

#[test]
fn select_filters_by_time_and_matchers_and_sorts_series() {
    let store = Exemplars::new(100);
    for i in ["c", "a", "b"] {
        for t in [10, 20, 30] {
            store.add(&series(i), ex(i, 1.0, t));
        }
    }
    store.add(
        &Labels::from_pairs([("__name__", "other")]),
        ex("o", 1.0, 20),
    );
    let req = vec![Matcher::equal("__name__", "req")];
    let got = store.select(std::slice::from_ref(&req), 15, 30);
    let names: Vec<&str> = got.iter().map(|(s, _)| s.get("i").unwrap()).collect();
    assert_eq!(names, vec!["a", "b", "c"]);
    assert!(got
        .iter()
        .all(|(_, es)| es.iter().map(|e| e.ts_ms).eq([20, 30])));
    // Any of several matcher sets; no set selects everything.
    let other = vec![Matcher::equal("__name__", "other")];
    assert_eq!(store.select(&[req, other], 0, 100).len(), 4);
    assert_eq!(store.select(&[], 0, 100).len(), 4);
    // Nothing in range: no entry at all.
    assert!(store.select(&[], 31, 100).is_empty());
    assert!(store.select(&[], 11, 19).is_empty());
}

#[test]
fn a_plan_checks_a_batch_against_itself() {
    let store = Exemplars::new(10);
    let mut report = argus_store::ExemplarReport::default();
    let a = series("a");
    let items = vec![
        (a.clone(), ex("1", 1.0, 10)),
        (a.clone(), ex("1", 1.0, 10)), // duplicate of the batch's own
        (a.clone(), ex("2", 1.0, 5)),  // older than the batch's newest
        (a.clone(), ex("3", 1.0, 20)),
        (series("unknown"), ex("4", 1.0, 20)),
    ];
    let accepted = store.plan(items, |s| s.get("i") == Some("a"), &mut report);
    assert_eq!(accepted.len(), 2);
    assert_eq!(report.written, 3);
    assert_eq!(report.rejected.get("out_of_order"), Some(&1));
    assert_eq!(report.rejected.get("unknown_series"), Some(&1));
}
