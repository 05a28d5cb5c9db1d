//! Service graph edges: a client (or producer) span and the server (or
//! consumer) span whose parent it is, paired by (trace id, client span id)
//! whatever order and push they arrive in, as Tempo's `servicegraphs`
//! processor pairs them.
//!
//! - A client span with a database attribute (`db.namespace`, `db.name`,
//!   `db.system`, `db.system.name`) is an edge to the database at once
//!   (`connection_type="database"`), the server named by `peer.service`,
//!   `server.address`, `network.peer.address[:network.peer.port]` or the
//!   database attribute's value, its latency the client span's.
//! - A producer/consumer pair is `connection_type="messaging_system"`.
//! - An edge unpaired after the wait expires. A root server span's edge
//!   (a server span without parent) becomes a request from a virtual
//!   client, named by its peer attribute or `user`; a client span's edge
//!   with a peer attribute (`peer.service`, `db.name`, `db.system`,
//!   `db.system.name`) becomes a request to that virtual server; both
//!   `connection_type="virtual_node"`. Any other expired edge is only
//!   counted ([`super::SpanMetricsStats::expired_edges`], by the kind of
//!   its span).

use super::attrs::find_attr;
use super::Prepared;
use argus_model::traces::{Span, SpanId, SpanKind, StatusCode, TraceId};
use std::collections::{BTreeMap, HashMap};

/// `connection_type` of an edge; `Unknown` is no label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum ConnectionType {
    #[default]
    Unknown,
    MessagingSystem,
    Database,
    VirtualNode,
}

impl ConnectionType {
    pub(super) fn label(self) -> &'static str {
        match self {
            ConnectionType::Unknown => "",
            ConnectionType::MessagingSystem => "messaging_system",
            ConnectionType::Database => "database",
            ConnectionType::VirtualNode => "virtual_node",
        }
    }
}

/// (trace id, client span id); a root server span (no parent) has `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct EdgeKey {
    trace: TraceId,
    span: Option<SpanId>,
}

/// One request between two services, filled by either side.
#[derive(Debug, Clone, Default)]
pub(super) struct Edge {
    /// Set by the client side, or by a root server span.
    pub(super) trace_id: Option<TraceId>,
    pub(super) connection_type: ConnectionType,
    pub(super) client: String,
    pub(super) server: String,
    pub(super) client_secs: f64,
    pub(super) server_secs: f64,
    /// The kind of the span last added.
    pub(super) kind: SpanKind,
    /// Either side has status error.
    pub(super) failed: bool,
    /// Values of the configured service graph dimensions, by index.
    pub(super) dims: Vec<Option<String>>,
    /// The value of the first peer attribute found.
    pub(super) peer: String,
    root: bool,
    expiration: i64,
    seq: u64,
}

impl Edge {
    fn is_complete(&self) -> bool {
        !self.client.is_empty() && !self.server.is_empty()
    }
}

/// What adding one side did.
#[derive(Debug)]
pub(super) enum Upsert {
    /// The edge is complete: record it.
    Complete { edge: Edge, new: bool },
    /// The edge waits for its other side.
    Pending { new: bool },
    /// The store is full: the span was dropped.
    TooMany,
}

/// Edges waiting for their other side, oldest first.
#[derive(Debug, Default)]
pub(super) struct EdgeStore {
    edges: HashMap<EdgeKey, Edge>,
    /// (expiration, sequence) → key: the expiry order.
    order: BTreeMap<(i64, u64), EdgeKey>,
    seq: u64,
}

fn span_secs(span: &Span) -> f64 {
    span.duration_ns() as f64 / 1e9
}

impl EdgeStore {
    pub(super) fn len(&self) -> usize {
        self.edges.len()
    }

    /// Adds a client/producer or server/consumer span (others are ignored:
    /// `None`), its service `service` (not empty).
    pub(super) fn add_span(
        &mut self,
        p: &Prepared,
        service: &str,
        span: &Span,
        now_ms: i64,
    ) -> Option<Upsert> {
        let (key, client) = match span.kind {
            SpanKind::Client | SpanKind::Producer => (
                EdgeKey {
                    trace: span.trace_id,
                    span: Some(span.span_id),
                },
                true,
            ),
            SpanKind::Server | SpanKind::Consumer => (
                EdgeKey {
                    trace: span.trace_id,
                    span: span.parent_span_id,
                },
                false,
            ),
            _ => return None,
        };
        let update = |e: &mut Edge| {
            if client {
                update_client(p, e, service, span)
            } else {
                update_server(p, e, service, span)
            }
        };
        Some(self.upsert(key, p, now_ms, update))
    }

    fn upsert(
        &mut self,
        key: EdgeKey,
        p: &Prepared,
        now_ms: i64,
        update: impl FnOnce(&mut Edge),
    ) -> Upsert {
        if let Some(e) = self.edges.get_mut(&key) {
            update(e);
            if !e.is_complete() {
                return Upsert::Pending { new: false };
            }
            let order_key = (e.expiration, e.seq);
            self.order.remove(&order_key);
            return match self.edges.remove(&key) {
                Some(edge) => Upsert::Complete { edge, new: false },
                None => Upsert::Pending { new: false },
            };
        }
        let mut e = Edge {
            root: key.span.is_none(),
            dims: vec![None; p.graph_dims.len()],
            ..Edge::default()
        };
        update(&mut e);
        if e.is_complete() {
            return Upsert::Complete { edge: e, new: true };
        }
        if self.edges.len() >= p.max_pending_edges {
            return Upsert::TooMany;
        }
        self.seq += 1;
        e.seq = self.seq;
        e.expiration = now_ms.saturating_add(p.wait_ms);
        self.order.insert((e.expiration, e.seq), key);
        self.edges.insert(key, e);
        Upsert::Pending { new: true }
    }

    /// Removes and returns the edges whose wait is over at `now_ms`.
    pub(super) fn expire(&mut self, now_ms: i64) -> Vec<Edge> {
        let mut out = Vec::new();
        while let Some(entry) = self.order.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            let key = entry.remove();
            if let Some(e) = self.edges.remove(&key) {
                out.push(e);
            }
        }
        out
    }
}

/// What an expired edge becomes: an edge to or from a virtual node, or
/// nothing (`Err` with the kind of its last span: it is only counted as
/// expired).
pub(super) fn resolve_expired(mut e: Edge) -> Result<Edge, SpanKind> {
    e.connection_type = ConnectionType::VirtualNode;
    if e.client.is_empty() {
        if e.root {
            e.client = if e.peer.is_empty() {
                "user".to_string()
            } else {
                e.peer.clone()
            };
            return Ok(e);
        }
    } else if e.server.is_empty() && !e.peer.is_empty() {
        e.server = e.peer.clone();
        return Ok(e);
    }
    Err(e.kind)
}

fn update_dims(p: &Prepared, e: &mut Edge, span: &Span) {
    for (i, d) in p.graph_dims.iter().enumerate() {
        if let Some(v) = find_attr(&d.key, &[&span.origin.resource, &span.attrs]) {
            e.dims[i] = Some(v);
        }
    }
}

fn update_peer(p: &Prepared, e: &mut Edge, span: &Span) {
    if let Some(v) = p
        .peer_attributes
        .iter()
        .find_map(|k| find_attr(k, &[&span.attrs]))
    {
        e.peer = v;
    }
}

fn update_client(p: &Prepared, e: &mut Edge, service: &str, span: &Span) {
    e.trace_id = Some(span.trace_id);
    e.kind = span.kind;
    e.connection_type = if span.kind == SpanKind::Producer {
        ConnectionType::MessagingSystem
    } else {
        ConnectionType::Unknown
    };
    e.client = service.to_string();
    e.client_secs = span_secs(span);
    e.failed |= span.status == StatusCode::Error;
    update_dims(p, e, span);
    update_peer(p, e, span);
    update_database(p, e, span);
}

fn update_server(p: &Prepared, e: &mut Edge, service: &str, span: &Span) {
    e.kind = span.kind;
    if span.parent_span_id.is_none() {
        e.trace_id = Some(span.trace_id);
    }
    e.connection_type = if span.kind == SpanKind::Consumer {
        ConnectionType::MessagingSystem
    } else {
        ConnectionType::Unknown
    };
    e.server = service.to_string();
    e.server_secs = span_secs(span);
    e.failed |= span.status == StatusCode::Error;
    update_dims(p, e, span);
    update_peer(p, e, span);
}

/// A client span calling a database is an edge to the database.
fn update_database(p: &Prepared, e: &mut Edge, span: &Span) {
    let lists: [&[_]; 2] = [&span.origin.resource, &span.attrs];
    let Some(db_name) = p
        .database_name_attributes
        .iter()
        .find_map(|k| find_attr(k, &lists))
    else {
        return;
    };
    e.connection_type = ConnectionType::Database;
    e.server_secs = span_secs(span);
    if let Some(v) = find_attr("peer.service", &lists) {
        e.server = v;
    } else if let Some(v) = find_attr("server.address", &lists) {
        e.server = v;
    } else if let Some(host) = find_attr("network.peer.address", &lists) {
        e.server = match find_attr("network.peer.port", &lists) {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
    } else if !db_name.is_empty() {
        e.server = db_name;
    }
}
