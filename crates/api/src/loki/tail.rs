//! `/loki/api/v1/tail`: live tailing over a WebSocket. Argus has no push
//! path from the ingest side to readers, so the tail polls the store every
//! [`POLL_INTERVAL`] with [`argus_store::LogsReader::select`] and sends what
//! it has not sent yet, in Loki's tail frames
//! (`{"streams":[{"stream":{…},"values":[["<ns>","<line>"]]}]}`).
//!
//! The first poll reads from `start` (default an hour ago) and sends the
//! newest `limit` entries; each later poll reads the last
//! [`LOOKBACK`] before now (minus `delay_for`), so entries that reach the
//! store a little late are still sent. Per stream the tail remembers the
//! newest time it sent and which lines it sent at that time: an entry is
//! sent once, and an entry newer than the last one sent of its stream is
//! never skipped. An entry older than that (out of order within its stream)
//! or arriving more than [`LOOKBACK`] late is not sent, as Loki's tail is
//! best effort too. Lines are filtered with [`apply_pipeline`].

use super::params::{bounds, int_param, now_ns, positive};
use super::pipeline::{apply_pipeline, LogQuery};
use super::{bad, LokiError};
use crate::query::{blocking, params};
use crate::tenant::{tenant_of, TENANT_HEADER};
use crate::AppState;
use argus_model::{Labels, LogEntry, TenantId};
use argus_store::{Direction, LogsReader, StorageError};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How often the store is polled (Loki pings its clients as often).
pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How far back each poll after the first reads.
pub(crate) const LOOKBACK: Duration = Duration::from_secs(10);
/// Loki's `maxDelayForInTailing`, seconds.
const MAX_DELAY_FOR: i64 = 5;

/// What one stream has had sent: the newest time, and how many times each
/// line was sent at that time.
#[derive(Debug, Default)]
struct Sent {
    ts: i64,
    lines: HashMap<String, usize>,
}

/// The state of one tail.
#[derive(Debug)]
pub(crate) struct Tailer {
    query: LogQuery,
    sent: HashMap<Arc<Labels>, Sent>,
    /// Nothing older is sent (the first poll's `start`, or its oldest sent
    /// entry when `limit` cut it).
    floor: i64,
    /// Where the next poll starts reading.
    lower: i64,
    /// The first poll's limit; `None` after it.
    limit: Option<usize>,
}

impl Tailer {
    pub(crate) fn new(query: LogQuery, start: i64, limit: usize) -> Self {
        Tailer {
            query,
            sent: HashMap::new(),
            floor: start,
            lower: start,
            limit: Some(limit),
        }
    }

    /// The entries not sent yet up to `upper` (exclusive), oldest first,
    /// recorded as sent. Blocking.
    pub(crate) fn poll(
        &mut self,
        reader: &dyn LogsReader,
        tenant: &TenantId,
        upper: i64,
    ) -> Result<Vec<(Arc<Labels>, LogEntry)>, StorageError> {
        let from = self.floor.max(self.lower);
        let mut new: Vec<(Arc<Labels>, LogEntry)> = Vec::new();
        if from < upper {
            let mut cursor =
                reader.select(tenant, &self.query.select(from, upper, Direction::Forward))?;
            while let Some(batch) = cursor.next_batch()? {
                let sent = self.sent.get(&batch.labels);
                for e in batch.entries {
                    if sent.is_some_and(|s| e.ts_ns < s.ts)
                        || !apply_pipeline(&self.query, &batch.labels, &e)
                    {
                        continue;
                    }
                    new.push((batch.labels.clone(), e));
                }
            }
        }
        // Stable: entries of equal time keep the store's order.
        new.sort_by_key(|(_, e)| e.ts_ns);
        // Of the entries at a stream's last sent time, those already sent
        // (as many as were sent of each line) are dropped.
        let mut seen: HashMap<(Arc<Labels>, String), usize> = HashMap::new();
        new.retain(|(l, e)| match self.sent.get(l) {
            Some(s) if e.ts_ns == s.ts => {
                let n = seen.entry((l.clone(), e.line.clone())).or_default();
                *n += 1;
                *n > s.lines.get(&e.line).copied().unwrap_or(0)
            }
            _ => true,
        });
        if let Some(limit) = self.limit.take() {
            if new.len() > limit {
                new.drain(..new.len() - limit);
                if let Some((_, e)) = new.first() {
                    self.floor = e.ts_ns;
                }
            }
        }
        for (l, e) in &new {
            let s = self.sent.entry(l.clone()).or_default();
            if e.ts_ns > s.ts {
                s.ts = e.ts_ns;
                s.lines.clear();
            }
            *s.lines.entry(e.line.clone()).or_default() += 1;
        }
        self.lower = upper.saturating_sub(LOOKBACK.as_nanos() as i64);
        Ok(new)
    }
}

/// A tail frame: entries grouped by stream (the stream's labels with the
/// entry's structured metadata, as Loki answers clients that do not ask for
/// categorised labels), each stream's oldest first. `dropped_entries` is
/// left out, as Loki does when none were dropped.
pub(crate) fn frame(entries: &[(Arc<Labels>, LogEntry)]) -> String {
    let mut streams: BTreeMap<Labels, Vec<Value>> = BTreeMap::new();
    for (l, e) in entries {
        let labels = if e.metadata.is_empty() {
            (**l).clone()
        } else {
            let mut b = l.builder();
            for (k, v) in &e.metadata {
                if l.get(k).is_none() {
                    b.set(k.clone(), v.clone());
                }
            }
            b.build()
        };
        streams
            .entry(labels)
            .or_default()
            .push(json!([e.ts_ns.to_string(), e.line]));
    }
    let streams: Vec<Value> = streams
        .into_iter()
        .map(|(l, values)| {
            let stream: Map<String, Value> = l
                .pairs()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            json!({"stream": stream, "values": values})
        })
        .collect();
    json!({"streams": streams}).to_string()
}

/// `GET /loki/api/v1/tail?query&limit&start&delay_for` (WebSocket). A
/// browser cannot set headers on a WebSocket, so the tenant may also come
/// as the query parameter `X-Scope-OrgID` (the header wins).
pub(crate) async fn tail(
    State(s): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, LokiError> {
    let p = params(q, &headers, &Bytes::new())?;
    let query = LogQuery::parse(p.get("query").unwrap_or(""))?;
    let limit = positive(&p, "limit", 100)?;
    let (start, _) = bounds(&p)?;
    let delay_for = int_param(&p, "delay_for", 0)?;
    if !(0..=i64::from(u32::MAX)).contains(&delay_for) {
        return Err(bad(format!(
            "delay_for value {delay_for} is out of range [0, {}]",
            u32::MAX
        )));
    }
    if delay_for > MAX_DELAY_FOR {
        return Err(bad(format!(
            "delay_for can't be greater than {MAX_DELAY_FOR}"
        )));
    }
    let mut headers = headers;
    if !headers.contains_key(TENANT_HEADER) {
        if let Some(v) = p.get(TENANT_HEADER) {
            let v = axum::http::HeaderValue::from_str(v)
                .map_err(|_| bad(format!("{TENANT_HEADER} is not a valid tenant id")))?;
            headers.insert(TENANT_HEADER, v);
        }
    }
    let tenant = tenant_of(&s, &headers)?;
    let reader = s.logs_reader()?;
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let delay_ns = delay_for * 1_000_000_000;
    tracing::info!(tenant = %tenant.as_str(), query = %query.expr, "starting to tail logs");
    let tailer = Tailer::new(query, start, limit);
    Ok(ws.on_upgrade(move |socket| run(socket, reader, tenant, tailer, delay_ns)))
}

async fn run(
    mut socket: WebSocket,
    reader: Arc<dyn LogsReader>,
    tenant: TenantId,
    mut tailer: Tailer,
    delay_ns: i64,
) {
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let (r, t) = (reader.clone(), tenant.clone());
                let upper = now_ns() - delay_ns;
                let polled = blocking(move || {
                    let out = tailer.poll(r.as_ref(), &t, upper);
                    Ok((tailer, out))
                })
                .await;
                let entries = match polled {
                    Ok((t, Ok(entries))) => {
                        tailer = t;
                        entries
                    }
                    Ok((_, Err(e))) => return close(socket, e.to_string()).await,
                    Err(e) => return close(socket, e.to_string()).await,
                };
                let msg = if entries.is_empty() {
                    // Loki pings idle clients every second to notice dead connections.
                    Message::Ping(Bytes::new())
                } else {
                    Message::Text(frame(&entries).into())
                };
                if let Err(e) = socket.send(msg).await {
                    tracing::debug!(tenant = %tenant.as_str(), error = %e, "tail: client gone");
                    return;
                }
            }
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                    tracing::info!(tenant = %tenant.as_str(), "ended tailing logs");
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Closes the socket with an internal-error close frame (as Loki does when
/// its tailer fails).
async fn close(mut socket: WebSocket, reason: String) {
    tracing::warn!(error = %reason, "tail: closing on error");
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1011,
            reason: reason.into(),
        })))
        .await;
}
