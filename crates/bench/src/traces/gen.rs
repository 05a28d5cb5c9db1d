//! A deterministic generator of realistic traces (`bench/run traces`): a
//! dozen services of a shop (the OpenTelemetry demo's shape), each request
//! a tree of server and client spans across them with database calls at
//! the leaves; about 500 bytes of attributes per span (HTTP, database,
//! user agent, ids), resources with Kubernetes and SDK attributes; 2 % of
//! traces fail (an error status, a 500 and an exception event on the
//! failing span), 1 % are slow outliers.

use crate::rng::Rng;
use argus_model::traces::{
    Attr, AttrValue, Span, SpanEvent, SpanId, SpanKind, SpanOrigin, StatusCode, TraceId,
};
use std::sync::Arc;

/// A service: its name, the operations it serves, whom it calls.
struct Service {
    name: &'static str,
    routes: &'static [&'static str],
    calls: &'static [&'static str],
    /// Database calls (system, statement) it makes.
    db: Option<(&'static str, &'static [&'static str])>,
}

const SERVICES: &[Service] = &[
    Service {
        name: "frontend",
        routes: &["GET /", "GET /product/{id}", "POST /cart", "POST /checkout"],
        calls: &[
            "catalog",
            "cart",
            "recommendation",
            "ad",
            "currency",
            "checkout",
        ],
        db: None,
    },
    Service {
        name: "checkout",
        routes: &["oteldemo.CheckoutService/PlaceOrder"],
        calls: &["cart", "currency", "payment", "shipping", "email"],
        db: Some((
            "postgresql",
            &["INSERT INTO orders (id, user_id, total) VALUES ($1, $2, $3)"],
        )),
    },
    Service {
        name: "cart",
        routes: &[
            "oteldemo.CartService/GetCart",
            "oteldemo.CartService/AddItem",
        ],
        calls: &[],
        db: Some((
            "redis",
            &["HGETALL cart:{user}", "HSET cart:{user} {item} {qty}"],
        )),
    },
    Service {
        name: "catalog",
        routes: &[
            "oteldemo.ProductCatalogService/GetProduct",
            "oteldemo.ProductCatalogService/ListProducts",
        ],
        calls: &["inventory"],
        db: Some((
            "postgresql",
            &[
                "SELECT id, name, price FROM products WHERE id = $1",
                "SELECT id, name, price FROM products ORDER BY rank LIMIT 20",
            ],
        )),
    },
    Service {
        name: "recommendation",
        routes: &["oteldemo.RecommendationService/ListRecommendations"],
        calls: &["catalog"],
        db: None,
    },
    Service {
        name: "ad",
        routes: &["oteldemo.AdService/GetAds"],
        calls: &[],
        db: None,
    },
    Service {
        name: "currency",
        routes: &["oteldemo.CurrencyService/Convert"],
        calls: &[],
        db: None,
    },
    Service {
        name: "payment",
        routes: &["oteldemo.PaymentService/Charge"],
        calls: &["auth"],
        db: None,
    },
    Service {
        name: "shipping",
        routes: &[
            "oteldemo.ShippingService/GetQuote",
            "oteldemo.ShippingService/ShipOrder",
        ],
        calls: &[],
        db: None,
    },
    Service {
        name: "email",
        routes: &["oteldemo.EmailService/SendOrderConfirmation"],
        calls: &[],
        db: None,
    },
    Service {
        name: "auth",
        routes: &["oteldemo.AuthService/Verify"],
        calls: &[],
        db: Some(("redis", &["GET session:{user}"])),
    },
    Service {
        name: "inventory",
        routes: &["oteldemo.InventoryService/Check"],
        calls: &[],
        db: Some((
            "postgresql",
            &["SELECT qty FROM stock WHERE product_id = $1 FOR UPDATE"],
        )),
    },
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
];

/// Pods per service.
const PODS: u64 = 3;

/// The traces of a run: `traces` requests spread over `[start_ns, end_ns)`.
pub(crate) struct TraceGen {
    seed: u64,
    origins: Vec<Vec<Arc<SpanOrigin>>>,
    start_ns: i64,
    step_ns: i64,
    next: u64,
    traces: u64,
}

impl TraceGen {
    pub(crate) fn new(seed: u64, traces: u64, start_ns: i64, end_ns: i64) -> Self {
        let origins = SERVICES
            .iter()
            .map(|s| (0..PODS).map(|p| Arc::new(origin(s.name, p))).collect())
            .collect();
        TraceGen {
            seed,
            origins,
            start_ns,
            step_ns: ((end_ns - start_ns) / traces.max(1) as i64).max(1),
            next: 0,
            traces,
        }
    }
}

impl TraceGen {
    /// Only traces `range` of the run (the same traces as the whole run
    /// gives at those positions), so that several threads can generate one
    /// run.
    pub(crate) fn range(mut self, range: std::ops::Range<u64>) -> Self {
        self.traces = range.end.min(self.traces);
        self.next = range.start.min(self.traces);
        self
    }
}

impl Iterator for TraceGen {
    type Item = Vec<Span>;

    fn next(&mut self) -> Option<Vec<Span>> {
        if self.next >= self.traces {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let mut r = Rng::stream(self.seed, i);
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&r.next_u64().to_be_bytes());
        trace_id[8..].copy_from_slice(&r.next_u64().to_be_bytes());
        let mut t = Trace {
            id: trace_id,
            spans: Vec::new(),
            fail: r.unit() < 0.02,
            slow: r.unit() < 0.01,
            user: r.below(10_000),
            request: format!("{:016x}{:016x}", r.next_u64(), r.next_u64()),
            ua: USER_AGENTS[r.below(USER_AGENTS.len() as u64) as usize],
        };
        let start = self.start_ns + i as i64 * self.step_ns + r.below(self.step_ns as u64) as i64;
        self.serve(&mut t, &mut r, 0, None, start, 0);
        Some(t.spans)
    }
}

struct Trace {
    id: TraceId,
    spans: Vec<Span>,
    fail: bool,
    slow: bool,
    user: u64,
    request: String,
    ua: &'static str,
}

impl TraceGen {
    /// Service `svc` serves a request starting at `start`; returns its end.
    fn serve(
        &self,
        t: &mut Trace,
        r: &mut Rng,
        svc: usize,
        parent: Option<SpanId>,
        start: i64,
        depth: usize,
    ) -> i64 {
        let s = &SERVICES[svc];
        let origin = self.origins[svc][r.below(PODS) as usize].clone();
        let route = s.routes[r.below(s.routes.len() as u64) as usize];
        let id = span_id(r);
        let at = t.spans.len();
        t.spans.push(Span::default());
        let mut now = start + 20_000 + r.below(200_000) as i64;
        // Calls: each callee with some probability, fewer deeper down.
        let mut failed_child = false;
        for callee in s.calls {
            if depth > 3 || r.unit() > 0.6 {
                continue;
            }
            let c = SERVICES.iter().position(|x| x.name == *callee).unwrap_or(0);
            let client = span_id(r);
            let cat = t.spans.len();
            t.spans.push(Span::default());
            let call_start = now + 10_000;
            let end = self.serve(t, r, c, Some(client), call_start + 50_000, depth + 1) + 40_000;
            let err = t.spans[cat + 1].status == StatusCode::Error;
            failed_child |= err;
            let callee_route = t.spans[cat + 1].name.clone();
            let mut attrs = vec![
                Attr::str("rpc.system", "grpc"),
                Attr::str(
                    "rpc.service",
                    callee_route.split('/').next().unwrap_or("").to_string(),
                ),
                Attr::str(
                    "rpc.method",
                    callee_route.rsplit('/').next().unwrap_or("").to_string(),
                ),
                Attr::str("server.address", format!("{callee}:8080")),
                Attr::new("server.port", AttrValue::Int(8080)),
                Attr::new(
                    "rpc.grpc.status_code",
                    AttrValue::Int(if err { 13 } else { 0 }),
                ),
            ];
            common_attrs(t, s.name, &mut attrs);
            t.spans[cat] = span(
                t,
                origin.clone(),
                client,
                Some(id),
                callee_route,
                SpanKind::Client,
                call_start,
                end,
                attrs,
                err,
            );
            now = end;
        }
        if let Some((system, stmts)) = s.db {
            let q =
                stmts[r.below(stmts.len() as u64) as usize].replace("{user}", &t.user.to_string());
            let q = q
                .replace("{item}", &format!("item-{}", r.below(500)))
                .replace("{qty}", &r.below(5).to_string());
            let dur = 200_000 + r.below(3_000_000) as i64 * if t.slow { 20 } else { 1 };
            let mut attrs = vec![
                Attr::str("db.system", system),
                Attr::str("db.name", "shop"),
                Attr::str("db.statement", q.clone()),
                Attr::str(
                    "db.operation",
                    q.split(' ').next().unwrap_or("").to_string(),
                ),
                Attr::str("server.address", format!("{system}.db.svc.cluster.local")),
            ];
            common_attrs(t, s.name, &mut attrs);
            let name = format!("{} {}", q.split(' ').next().unwrap_or(""), system);
            let db_id = span_id(r);
            t.spans.push(span(
                t,
                origin.clone(),
                db_id,
                Some(id),
                name,
                SpanKind::Client,
                now + 5_000,
                now + 5_000 + dur,
                attrs,
                false,
            ));
            now += dur + 10_000;
        }
        let fail_here = t.fail && !failed_child && depth > 0 && r.unit() < 0.5
            || (t.fail && depth == 0 && !failed_child);
        let end = now + 30_000 + r.below(100_000) as i64;
        let status = if fail_here || failed_child { 500 } else { 200 };
        let mut attrs = if svc == 0 {
            vec![
                Attr::str(
                    "http.request.method",
                    route.split(' ').next().unwrap_or("GET"),
                ),
                Attr::str("http.route", route.split(' ').nth(1).unwrap_or("/")),
                Attr::str(
                    "url.full",
                    format!(
                        "https://shop.example.com{}?session={}",
                        route
                            .split(' ')
                            .nth(1)
                            .unwrap_or("/")
                            .replace("{id}", &r.below(500).to_string()),
                        t.request
                    ),
                ),
                Attr::new("http.response.status_code", AttrValue::Int(status)),
                Attr::str("user_agent.original", t.ua),
                Attr::str(
                    "client.address",
                    format!("10.{}.{}.{}", r.below(4), r.below(256), r.below(256)),
                ),
                Attr::str("network.protocol.version", "1.1"),
            ]
        } else {
            vec![
                Attr::str("rpc.system", "grpc"),
                Attr::str(
                    "rpc.service",
                    route.split('/').next().unwrap_or("").to_string(),
                ),
                Attr::str(
                    "rpc.method",
                    route.rsplit('/').next().unwrap_or("").to_string(),
                ),
                Attr::new(
                    "rpc.grpc.status_code",
                    AttrValue::Int(if status == 500 { 13 } else { 0 }),
                ),
            ]
        };
        common_attrs(t, s.name, &mut attrs);
        let mut sp = span(
            t,
            origin,
            id,
            parent,
            route.to_string(),
            SpanKind::Server,
            start,
            end,
            attrs,
            fail_here || failed_child,
        );
        if fail_here {
            sp.events.push(SpanEvent {
                ts_ns: end - 10_000,
                name: "exception".into(),
                attrs: vec![
                    Attr::str("exception.type", "ConnectionError"),
                    Attr::str(
                        "exception.message",
                        format!("upstream {} refused the connection after 3 retries", s.name),
                    ),
                ],
                dropped_attrs: 0,
            });
        }
        t.spans[at] = sp;
        end
    }
}

#[allow(clippy::too_many_arguments)]
fn span(
    t: &Trace,
    origin: Arc<SpanOrigin>,
    id: SpanId,
    parent: Option<SpanId>,
    name: String,
    kind: SpanKind,
    start: i64,
    end: i64,
    attrs: Vec<Attr>,
    error: bool,
) -> Span {
    Span {
        origin,
        trace_id: t.id,
        span_id: id,
        parent_span_id: parent,
        flags: 1,
        name,
        kind,
        start_ns: start,
        end_ns: end,
        attrs,
        status: if error {
            StatusCode::Error
        } else {
            StatusCode::Unset
        },
        status_message: if error {
            "upstream call failed".into()
        } else {
            String::new()
        },
        ..Span::default()
    }
}

/// What every span of a request carries: ids of the request and its
/// user, and where in the code the span was made.
fn common_attrs(t: &Trace, svc: &str, attrs: &mut Vec<Attr>) {
    let tenant = if t.user % 7 == 0 {
        "enterprise"
    } else {
        "retail"
    };
    attrs.extend([
        Attr::str("app.user.id", format!("user-{:05}", t.user)),
        Attr::str(
            "app.session.id",
            format!("sess-{:05}-{}", t.user, &t.request[..12]),
        ),
        Attr::str("app.request.id", t.request.clone()),
        Attr::str("app.tenant", tenant),
        Attr::str(
            "code.namespace",
            format!("github.com/example/shop/src/{svc}/internal/server"),
        ),
        Attr::str(
            "code.filepath",
            format!("/usr/src/app/src/{svc}/internal/server/handlers.go"),
        ),
        Attr::str("code.function", format!("(*{svc}Server).Handle")),
        Attr::new("code.lineno", AttrValue::Int(100 + (t.user % 50) as i64)),
        Attr::new("thread.id", AttrValue::Int(1 + (t.user % 16) as i64)),
    ]);
}

fn span_id(r: &mut Rng) -> SpanId {
    let id = r.next_u64() | 1;
    id.to_be_bytes()
}

fn origin(service: &str, pod: u64) -> SpanOrigin {
    let hash = format!("{:08x}", (service.len() as u64 * 0x9E37_79B9) ^ 0x5bd1_e995);
    let mut o = SpanOrigin::new(vec![
        Attr::str("service.name", service),
        Attr::str("service.namespace", "shop"),
        Attr::str("service.version", "2.1.4"),
        Attr::str("service.instance.id", format!("{service}-{hash}-{pod}")),
        Attr::str("deployment.environment.name", "production"),
        Attr::str("host.name", format!("node-{}", pod + 1)),
        Attr::str("k8s.namespace.name", "shop"),
        Attr::str("k8s.deployment.name", service),
        Attr::str("k8s.pod.name", format!("{service}-{hash}-{pod}")),
        Attr::str("k8s.node.name", format!("node-{}", pod + 1)),
        Attr::str("cloud.region", "eu-west-1"),
        Attr::str("telemetry.sdk.name", "opentelemetry"),
        Attr::str("telemetry.sdk.language", "go"),
        Attr::str("telemetry.sdk.version", "1.32.0"),
        Attr::new("process.pid", AttrValue::Int(1 + pod as i64)),
    ]);
    o.scope_name =
        "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc".into();
    o.scope_version = "0.57.0".into();
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::traces::SpanKind;
    use std::collections::HashSet;

    #[test]
    fn traces_are_trees_of_a_realistic_size() {
        let traces: Vec<Vec<Span>> = TraceGen::new(1, 2000, 0, 3_600_000_000_000).collect();
        let spans: usize = traces.iter().map(Vec::len).sum();
        let avg = spans as f64 / traces.len() as f64;
        assert!((5.0..40.0).contains(&avg), "{avg} spans per trace");
        let mut failed = 0;
        for t in &traces {
            let ids: HashSet<SpanId> = t.iter().map(|s| s.span_id).collect();
            assert_eq!(ids.len(), t.len(), "span ids unique");
            assert_eq!(
                t.iter().filter(|s| s.parent_span_id.is_none()).count(),
                1,
                "one root"
            );
            for s in t {
                assert!(s.end_ns > s.start_ns);
                if let Some(p) = s.parent_span_id {
                    assert!(ids.contains(&p), "parent in the trace");
                }
                assert!(s.trace_id == t[0].trace_id);
            }
            // A client span has its server span as a child.
            for c in t.iter().filter(|s| {
                s.kind == SpanKind::Client && s.attrs.iter().any(|a| a.key == "rpc.system")
            }) {
                assert!(t
                    .iter()
                    .any(|s| s.parent_span_id == Some(c.span_id) && s.kind == SpanKind::Server));
            }
            failed += usize::from(t.iter().any(|s| s.status == StatusCode::Error));
        }
        assert!(
            (10..100).contains(&failed),
            "{failed} failed traces of 2000"
        );
        // About 500 bytes of attributes per span.
        let attr_bytes: usize = traces
            .iter()
            .flatten()
            .flat_map(|s| &s.attrs)
            .map(|a| {
                a.key.len()
                    + match &a.value {
                        AttrValue::Str(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum();
        let per_span = attr_bytes / spans;
        eprintln!("{avg:.1} spans per trace, {per_span} bytes of attributes per span, {failed} failed of 2000");
        assert!(
            (250..900).contains(&per_span),
            "{per_span} bytes of attributes per span"
        );
        // Deterministic (compared without printing megabytes on failure).
        let again: Vec<Vec<Span>> = TraceGen::new(1, 2000, 0, 3_600_000_000_000)
            .take(20)
            .collect();
        assert!(
            again[..] == traces[..20],
            "the same seed gives the same traces"
        );
        let part: Vec<Vec<Span>> = TraceGen::new(1, 2000, 0, 3_600_000_000_000)
            .range(100..120)
            .collect();
        assert!(part[..] == traces[100..120], "a range is the same traces");
    }
}

#[cfg(test)]
mod segment_bytes {
    use super::*;

    /// Bytes per span of a traces segment of generated traces, per column
    /// (run by hand: `cargo test --release -p argus-bench segment_bytes --
    /// --ignored --nocapture`; `SEGMENT_TRACES` sets the trace count,
    /// `SEGMENT_ZSTD` and `SEGMENT_ROW_GROUP_BYTES` the writer's options).
    #[test]
    #[ignore]
    fn segment_bytes_per_span() {
        let n: u64 = std::env::var("SEGMENT_TRACES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50_000);
        let mut spans: Vec<Span> = TraceGen::new(1, n, 0, 3_600_000_000_000)
            .flatten()
            .collect();
        spans.sort_by_key(|s| (s.trace_id, s.start_ns));
        let refs: Vec<&Span> = spans.iter().collect();
        let dir = tempfile::tempdir().unwrap();
        let t = std::time::Instant::now();
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<i64>().ok());
        let mut opts = argus_traces::segment::WriterOptions::default();
        if let Some(l) = env("SEGMENT_ZSTD") {
            opts.zstd_level = l as i32;
        }
        if let Some(b) = env("SEGMENT_ROW_GROUP_BYTES") {
            opts.row_group_bytes = b as usize;
        }
        let w = argus_traces::segment::write_segment(dir.path(), &refs, &opts)
            .unwrap()
            .unwrap();
        let el = t.elapsed();
        eprintln!(
            "{} spans of {} traces: {} bytes = {:.1} bytes per span, written in {el:?} ({:.0} spans/s); {} attribute columns",
            w.spans,
            w.traces,
            w.file_bytes,
            w.file_bytes as f64 / w.spans as f64,
            w.spans as f64 / el.as_secs_f64(),
            w.attr_columns.len(),
        );
        let f = std::fs::File::open(dir.path().join("data.parquet")).unwrap();
        let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
        let md = parquet::file::reader::FileReader::metadata(&r);
        let mut sizes: Vec<(String, i64)> = Vec::new();
        for rg in md.row_groups() {
            for c in rg.columns() {
                let name = c.column_path().string();
                match sizes.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, s)) => *s += c.compressed_size(),
                    None => sizes.push((name, c.compressed_size())),
                }
            }
        }
        sizes.sort_by_key(|(_, s)| -s);
        for (name, s) in sizes {
            eprintln!("  {name:40} {:6.2} bytes/span", s as f64 / w.spans as f64);
        }
    }
}
