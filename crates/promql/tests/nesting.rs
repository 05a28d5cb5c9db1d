//! Deeply nested queries are answered up to `MAX_DEPTH` and refused with
//! `BadData` naming the limit beyond it, never a stack overflow, on a thread
//! with a small stack (the engine brings its own).

use argus_model::{Labels, Sample};
use argus_promql::{Engine, MemStore, PromqlError, Value, MAX_DEPTH};

fn store() -> MemStore {
    let mut s = MemStore::new();
    for t in 0..10 {
        s.add(
            Labels::from_pairs([("__name__", "up"), ("job", "a")]),
            Sample::new(t * 60_000, t as f64),
        );
    }
    s
}

/// Runs `f` on a thread with a 256 KiB stack, far less than a deep query needs.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic, no overflow")
}

fn instant(q: String) -> Result<Value, PromqlError> {
    on_small_stack(move || {
        Engine::default()
            .instant(&store(), &q, 600_000)
            .map(|r| r.value)
    })
}

fn scalar(v: Result<Value, PromqlError>) -> f64 {
    match v {
        Ok(Value::Scalar(_, v)) => v,
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn refused(v: Result<Value, PromqlError>) {
    match v {
        Err(PromqlError::BadData(m)) => assert!(
            m.contains(&MAX_DEPTH.to_string()) && m.contains("levels deep"),
            "{m}"
        ),
        other => panic!("expected bad_data naming the limit, got {other:?}"),
    }
}

fn parens(n: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(".repeat(n), ")".repeat(n))
}

#[test]
fn parentheses_up_to_the_limit_are_answered() {
    assert_eq!(scalar(instant(parens(5_000, "1"))), 1.0);
    assert_eq!(scalar(instant(parens(MAX_DEPTH, "7"))), 7.0);
    // A vector selector at the bottom, a function at every other level.
    let q = format!(
        "{}up{}",
        "abs(".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    let Ok(Value::Vector(v)) = instant(q) else {
        panic!("expected a vector")
    };
    assert_eq!(v[0].v, 9.0);
}

#[test]
fn operator_chains_up_to_the_limit_are_answered() {
    // Right-deep: a parenthesis and an operator a level.
    let n = MAX_DEPTH / 2;
    let q = format!("{}1{}", "1+(".repeat(n), ")".repeat(n));
    assert_eq!(scalar(instant(q)), (n + 1) as f64);
    // Left-deep chains, as long as each is deep.
    let n = 2_000;
    assert_eq!(
        scalar(instant(format!("1{}", "+1".repeat(n)))),
        (n + 1) as f64
    );
    let q = format!("up{}", " + up".repeat(n));
    let Ok(Value::Vector(v)) = instant(q) else {
        panic!("expected a vector")
    };
    assert_eq!(v[0].v, 9.0 * (n + 1) as f64);
    assert_eq!(scalar(instant(format!("{}1", "-".repeat(n)))), 1.0);
    let q = format!("{}up{}", "-(".repeat(n), ")".repeat(n));
    let Ok(Value::Vector(v)) = instant(q) else {
        panic!("expected a vector")
    };
    assert_eq!(v[0].v, 9.0);
}

#[test]
fn nested_subqueries_are_answered() {
    let n = 500;
    let q = format!("{}up{}", "max_over_time(".repeat(n), "[2m:1m])".repeat(n));
    let Ok(Value::Vector(v)) = instant(q) else {
        panic!("expected a vector")
    };
    assert_eq!(v[0].v, 9.0);
}

#[test]
fn deeper_than_the_limit_is_refused_at_any_depth() {
    for n in [MAX_DEPTH + 1, 100_000, 1_000_000] {
        refused(instant(parens(n, "1")));
        refused(instant(format!("{}1", "-".repeat(n))));
        refused(instant(format!("1{}", "+1".repeat(n))));
        refused(instant(format!("1{}", " and 1".repeat(n))));
        refused(instant(format!("up{}", "[1m:1m]".repeat(n))));
        refused(instant(format!("up{}", " offset 1m".repeat(n))));
        refused(instant(format!("up{}", " @ 1".repeat(n))));
        refused(instant(format!(
            "{}up{}",
            "sum(rate(".repeat(n / 2),
            "[5m:]))".repeat(n / 2)
        )));
    }
    // A range query too, and parse-only callers.
    let q = parens(1_000_000, "1");
    let r = on_small_stack(move || Engine::default().range(&store(), &q, 0, 600_000, 60_000));
    refused(r.map(|r| r.value));
    let q = parens(1_000_000, "up");
    refused(on_small_stack(move || {
        argus_promql::parse(&q).map(|_| Value::Scalar(0, 0.0))
    }));
}

#[test]
fn the_deepest_tree_is_parsed_rendered_and_dropped_on_the_engine_stack() {
    // What the API does for parse_query: parse, render and drop the tree
    // inside `with_stack`, here on a thread with a small stack.
    let q = format!(
        "{}up{}",
        "-(".repeat(MAX_DEPTH / 2),
        ")".repeat(MAX_DEPTH / 2)
    );
    let (text, json) = on_small_stack(move || {
        argus_promql::with_stack(|| {
            let e = argus_promql::parse(&q).unwrap();
            (e.to_string(), serde_json::to_string(&e).unwrap())
        })
    });
    assert_eq!(text.matches('(').count(), MAX_DEPTH / 2);
    assert!(text.contains("up"));
    assert_eq!(json.matches("\"op\":\"-\"").count(), MAX_DEPTH / 2);
}
