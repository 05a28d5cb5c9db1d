//! The web UI against the real binary. `ui_assets_and_api`: the page and
//! its embedded assets are served (with ETags), `/` answers browsers with
//! the page and Elasticsearch clients with its info, and the UI's own API
//! (tenants, status, dashboards) works per tenant. `ui_end_to_end`: the
//! scenarios of `tests/ui/` in headless Chromium (Debian's, driven by
//! playwright-core from npm) over the data `tests/ui/fixture.mjs` sends:
//! a PromQL query's chart and table, a log search to a line's trace, a
//! trace's waterfall, the service graph, a dashboard saved and reloaded,
//! the status page. Screenshots and measurements (page load, chart
//! render and hover, log scrolling) go to `target/tmp/ui-artifacts/`.

use crate::harness::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const UI_TESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui");

/// The span metrics generator writes every second, so the service graph
/// has edges by the time the traces scenario looks.
const CONFIG: &str = "metrics_generator:\n  collection_interval: 1s\n  service_graph_wait: 1s\n";

fn get(a: &Argus, path: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut r = client().get(a.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().unwrap()
}

/// The `src` and `href` of `<script>` and `<link>` elements of a page.
fn asset_refs(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|s| s.starts_with("/ui/static/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn ui_assets_and_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), "");

    // Browsers get the page at / and at every /ui/ path; Elasticsearch clients get its info.
    let page = get(&a, "/", &[("Accept", "text/html,application/xhtml+xml")]);
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Only Argus itself: the browser enforces it.
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().unwrap();
    assert_eq!(get(&a, "/ui/traces/abc?x=1", &[]).text().unwrap(), html);
    let es = get(
        &a,
        "/",
        &[(
            "Accept",
            "application/vnd.elasticsearch+json; compatible-with=8",
        )],
    );
    assert_eq!(es.headers()["x-elastic-product"], "Elasticsearch");
    assert_eq!(es.json::<Value>().unwrap()["version"]["number"], "8.11.0");

    // Every asset the page names is there, with its type and an ETag that revalidates.
    let refs = asset_refs(&html);
    assert!(refs.iter().any(|r| r.ends_with("/js/app.js")), "{refs:?}");
    for r in &refs {
        let resp = get(&a, r, &[]);
        assert_eq!(resp.status(), 200, "{r}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let want = if r.ends_with(".js") {
            "text/javascript"
        } else if r.ends_with(".css") {
            "text/css"
        } else {
            "image/svg+xml"
        };
        assert!(ct.starts_with(want), "{r}: {ct}");
        let etag = resp.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(get(&a, r, &[("If-None-Match", &etag)]).status(), 304, "{r}");
    }
    assert_eq!(get(&a, "/ui/static/js/nope.js", &[]).status(), 404);
    assert_eq!(
        get(&a, "/ui/static/%2e%2e/%2e%2e/Cargo.toml", &[]).status(),
        404
    );

    // Dashboards are per tenant, validated, and survive a restart.
    let put = |tenant: &str, id: &str, body: &str| {
        client()
            .put(a.url(&format!("/ui/api/dashboards/{id}")))
            .header("X-Scope-OrgID", tenant)
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let dash = json!({"title": "Queues", "panels": [{"type": "timeseries", "queries": [{"expr": "ui_queue_depth"}]}]});
    assert_eq!(put("team-a", "queues", &dash.to_string()).status(), 200);
    for (id, body, status, says) in [
        ("queues", "{", 400, "not valid JSON"),
        ("queues", r#"{"panels": []}"#, 400, "title"),
        ("queues", r#"{"title": "x"}"#, 400, "panels"),
        ("a.b", r#"{"title": "x", "panels": []}"#, 400, "not valid"),
        (
            "big",
            &format!(r#"{{"title": "{}", "panels": []}}"#, "x".repeat(1 << 20)),
            413,
            "larger than the limit",
        ),
    ] {
        let r = put("team-a", id, body);
        assert_eq!(r.status(), status, "{id} {body}");
        assert!(r.text().unwrap().contains(says), "{id} {body}");
    }
    let list = |tenant: &str| {
        get(&a, "/ui/api/dashboards", &[("X-Scope-OrgID", tenant)])
            .json::<Value>()
            .unwrap()["data"]
            .clone()
    };
    assert_eq!(list("team-a"), json!([{"id": "queues", "title": "Queues"}]));

    // Saves are conditional on the version read: a stale ETag is 412, the
    // current one saves, `If-None-Match: *` only creates.
    let read = get(
        &a,
        "/ui/api/dashboards/queues",
        &[("X-Scope-OrgID", "team-a")],
    );
    let etag = read.headers()["etag"].to_str().unwrap().to_string();
    let save = |headers: &[(&str, &str)], body: &Value| {
        let mut r = client()
            .put(a.url("/ui/api/dashboards/queues"))
            .header("X-Scope-OrgID", "team-a")
            .body(body.to_string());
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.send().unwrap()
    };
    let mine = json!({"title": "Queues", "panels": [], "version": 2});
    let saved = save(&[("If-Match", &etag)], &mine);
    assert_eq!(saved.status(), 200);
    let new_etag = saved.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    let theirs = json!({"title": "Queues", "panels": [], "version": 3});
    let stale = save(&[("If-Match", &etag)], &theirs);
    assert_eq!(stale.status(), 412);
    assert!(stale
        .text()
        .unwrap()
        .contains("was changed since it was read"));
    assert_eq!(save(&[("If-None-Match", "*")], &theirs).status(), 412);
    assert_eq!(save(&[("If-Match", &new_etag)], &dash).status(), 200);
    assert_eq!(list("team-b"), json!([]));
    assert_eq!(
        get(
            &a,
            "/ui/api/dashboards/queues",
            &[("X-Scope-OrgID", "team-b")]
        )
        .status(),
        404
    );
    a.stop();
    a.spawn();
    let got = get(
        &a,
        "/ui/api/dashboards/queues",
        &[("X-Scope-OrgID", "team-a")],
    )
    .json::<Value>()
    .unwrap();
    assert_eq!(got, dash);

    // Tenants and usage: team-c's logs are listed once they are written.
    let push = json!({"streams": [{"stream": {"app": "x"}, "values": [[format!("{}", now_ns()), "hello"]]}]});
    let r = client()
        .post(a.url("/loki/api/v1/push"))
        .header("X-Scope-OrgID", "team-c")
        .json(&push)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let tenants = get(&a, "/ui/api/tenants", &[]).json::<Value>().unwrap();
    let names: Vec<&str> = tenants["data"]["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"team-a") && names.contains(&"team-c"),
        "{tenants}"
    );
    let status = get(&a, "/ui/api/status", &[]).json::<Value>().unwrap();
    let usage = status["data"]["usage"].as_array().unwrap();
    let logs_c = usage
        .iter()
        .find(|u| u["tenant"] == "team-c" && u["signal"] == "logs")
        .unwrap_or_else(|| panic!("no team-c logs in {status}"));
    assert!(logs_c["walBytes"].as_u64().unwrap() > 0, "{status}");
    assert_eq!(
        status["data"]["signals"],
        json!({"metrics": true, "logs": true, "traces": true})
    );
    a.stop();
}

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Node's modules for the scenarios, installed by `scripts/test` (`npm ci`).
fn have_playwright() -> bool {
    let ok = Path::new(UI_TESTS)
        .join("node_modules/playwright-core")
        .is_dir();
    if !ok {
        assert!(
            std::env::var("ARGUS_REQUIRE_PEERS").is_err(),
            "playwright-core is required (ARGUS_REQUIRE_PEERS is set): run `npm ci` in {UI_TESTS}"
        );
        eprintln!("skipping: playwright-core not installed (run scripts/test to install it)");
    }
    ok
}

/// Where screenshots and measurements are kept after the run.
fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-artifacts")
}

#[test]
fn ui_end_to_end() {
    if !have("node") || !have("chromium") || !have_playwright() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut a = Argus::start(dir.path(), CONFIG);
    let base = a.url("");
    let fixture = Command::new("node")
        .current_dir(UI_TESTS)
        .args(["fixture.mjs", &base])
        .output()
        .unwrap();
    assert!(
        fixture.status.success(),
        "fixture.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&fixture.stdout),
        String::from_utf8_lossy(&fixture.stderr)
    );
    let facts = dir.path().join("facts.json");
    std::fs::write(&facts, &fixture.stdout).unwrap();
    let artifacts = artifacts_dir();
    let _ = std::fs::remove_dir_all(&artifacts);
    let out = Command::new("node")
        .current_dir(UI_TESTS)
        .arg("run.mjs")
        .args(["--base", &base])
        .arg("--facts")
        .arg(&facts)
        .arg("--artifacts")
        .arg(&artifacts)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "UI scenarios failed (screenshots in {}):\n{stdout}\n{}\nargus log:\n{}",
        artifacts.display(),
        String::from_utf8_lossy(&out.stderr),
        a.log_text()
    );
    a.stop();
}
