//! Sending prepared request bodies to a write endpoint, as a telemetry
//! agent does: a few concurrent senders, each sending its requests one
//! after the other; a request answered 429 or 5xx is sent again after a
//! backoff (Promtail, Alloy and the OpenTelemetry Collector's exporters all
//! retry these), other answers are final. Shared by `logs` and `traces`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

#[derive(Debug, Default, Clone)]
pub(crate) struct PushResult {
    pub wall: Duration,
    pub requests: u64,
    /// Requests that failed for good (after the retries).
    pub failed: u64,
    /// Retries of requests answered 429 or 5xx (a request retried twice
    /// counts twice).
    pub retries: u64,
    pub first_error: Option<String>,
}

/// Attempts of one request answered 429 or 5xx before it counts as failed.
pub(crate) const ATTEMPTS: u32 = 10;
/// First wait before a retry; doubled for each further one.
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(500);
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How the bodies go on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire<'a> {
    pub content_type: &'a str,
    /// `Content-Encoding`, when the bodies are compressed for it.
    pub content_encoding: Option<&'a str>,
}

/// Sends every sender's requests to `url`, each sender in its own thread;
/// `body` turns a prepared request into the bytes to send (run in the
/// sender's thread, so its cost is the load generator's, not the server's).
pub(crate) fn drive<B: Sync>(
    url: &str,
    wire: Wire<'_>,
    per_sender: &[Vec<B>],
    body: impl Fn(&B) -> Vec<u8> + Sync,
    client: &reqwest::blocking::Client,
) -> PushResult {
    let failed = AtomicU64::new(0);
    let requests = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let first_error: Mutex<Option<String>> = Mutex::new(None);
    let t0 = Instant::now();
    std::thread::scope(|sc| {
        for reqs in per_sender {
            let (failed, requests, retries, first_error, body) =
                (&failed, &requests, &retries, &first_error, &body);
            sc.spawn(move || {
                for r in reqs {
                    let bytes = body(r);
                    requests.fetch_add(1, Ordering::Relaxed);
                    let mut backoff = MIN_BACKOFF;
                    for attempt in 1..=ATTEMPTS {
                        let mut req = client
                            .post(url)
                            .header("Content-Type", wire.content_type)
                            .body(bytes.clone());
                        if let Some(e) = wire.content_encoding {
                            req = req.header("Content-Encoding", e);
                        }
                        let (err, retryable) = match req.send() {
                            Ok(resp) if resp.status().is_success() => {
                                // Read the answer so the connection is reused.
                                let _ = resp.bytes();
                                break;
                            }
                            Ok(resp) => {
                                let st = resp.status();
                                let text = resp.text().unwrap_or_default();
                                let e =
                                    format!("{st}: {}", text.chars().take(300).collect::<String>());
                                (e, st.as_u16() == 429 || st.is_server_error())
                            }
                            Err(e) => (e.to_string(), false),
                        };
                        if !retryable || attempt == ATTEMPTS {
                            failed.fetch_add(1, Ordering::Relaxed);
                            first_error.lock().get_or_insert(err);
                            break;
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            });
        }
    });
    let first_error = first_error.lock().clone();
    PushResult {
        wall: t0.elapsed(),
        requests: requests.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        retries: retries.load(Ordering::Relaxed),
        first_error,
    }
}
