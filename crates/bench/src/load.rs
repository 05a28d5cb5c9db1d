//! The load generator: remote write 1.0, deterministic series and values,
//! samples in time order.
//!
//! Targets are sharded over `concurrency` worker threads (target `s` goes to
//! worker `s % concurrency`), so each series is always sent by the same
//! worker, in time order, one request after the other. A worker packs the
//! samples of consecutive targets, one timestamp after the other, into
//! requests of `batch` series × 1 sample. Workers may run at most
//! `MAX_SKEW` points ahead of the slowest one, so the servers always see
//! near-current timestamps (Prometheus refuses samples more than an hour
//! older than its head's newest one).

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use argus_model::{Sample, TimeSeries};

use crate::gen::{Target, Workload};

const MAX_SKEW: usize = 4;

#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadOptions {
    pub batch: usize,
    pub concurrency: usize,
    /// `encode_v1` on model types instead of the pre-encoded labels.
    pub prost: bool,
}

#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    pub wall: Duration,
    pub samples_sent: u64,
    pub requests: u64,
    pub failed_requests: u64,
    pub body_bytes: u64,
    pub first_error: Option<String>,
}

struct Shared {
    progress: Vec<AtomicUsize>,
    samples: AtomicU64,
    requests: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    error: Mutex<Option<String>>,
}

/// Sends the whole workload to `url` (a remote-write endpoint).
pub(crate) fn drive(url: &str, w: &Workload, opt: LoadOptions) -> Result<LoadResult> {
    let conc = opt.concurrency.max(1);
    let shared = Arc::new(Shared {
        progress: (0..conc).map(|_| AtomicUsize::new(0)).collect(),
        samples: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        error: Mutex::new(None),
    });
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(conc)
        .build()?;
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..conc {
            let shared = Arc::clone(&shared);
            let client = client.clone();
            s.spawn(move || run_worker(worker, conc, url, w, opt, &client, &shared));
        }
    });
    let wall = t0.elapsed();
    let first_error = shared.error.lock().clone();
    Ok(LoadResult {
        wall,
        samples_sent: shared.samples.load(Ordering::Relaxed),
        requests: shared.requests.load(Ordering::Relaxed),
        failed_requests: shared.failed.load(Ordering::Relaxed),
        body_bytes: shared.bytes.load(Ordering::Relaxed),
        first_error,
    })
}

fn run_worker(
    worker: usize,
    conc: usize,
    url: &str,
    w: &Workload,
    opt: LoadOptions,
    client: &reqwest::blocking::Client,
    shared: &Shared,
) {
    let mut targets: Vec<Target> = (worker..w.targets)
        .step_by(conc)
        .map(|slot| Target::new(w.seed, slot, 0))
        .collect();
    let interval_s = w.interval_ms as f64 / 1000.0;
    let batch = opt.batch.max(1);
    // Series of the request being built: model types (prost) or raw protobuf.
    let mut pending: Vec<TimeSeries> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut n_pending = 0u64;
    let mut body = Vec::new();
    let mut send = |pending: &mut Vec<TimeSeries>, raw: &mut Vec<u8>, n_pending: &mut u64| {
        if *n_pending == 0 {
            return;
        }
        if opt.prost {
            body.clear();
            argus_ingest::remote_write::encode_v1(pending, &mut body);
            pending.clear();
        } else {
            crate::wire::compress(raw, &mut body);
            raw.clear();
        }
        let n = std::mem::take(n_pending);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = client
                .post(url)
                .header("Content-Type", "application/x-protobuf")
                .header("Content-Encoding", "snappy")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .header("User-Agent", "argus-bench")
                .body(body.clone())
                .send();
            let (ok, retry, err) = match r {
                Ok(resp) if resp.status().is_success() => (true, false, None),
                Ok(resp) => {
                    let st = resp.status();
                    let text = resp.text().unwrap_or_default();
                    let retry = st.as_u16() == 429 || st.is_server_error();
                    (
                        false,
                        retry,
                        Some(format!(
                            "{st}: {}",
                            text.chars().take(300).collect::<String>()
                        )),
                    )
                }
                Err(e) => (false, true, Some(e.to_string())),
            };
            shared.requests.fetch_add(1, Ordering::Relaxed);
            shared.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
            if ok {
                shared.samples.fetch_add(n, Ordering::Relaxed);
                return;
            }
            shared.failed.fetch_add(1, Ordering::Relaxed);
            let mut e = shared.error.lock();
            if e.is_none() {
                *e = err;
            }
            drop(e);
            if !retry || attempt >= 5 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100 * attempt));
        }
    };
    for p in 0..w.points {
        // stay within MAX_SKEW points of the slowest worker
        while p > MAX_SKEW
            && shared
                .progress
                .iter()
                .any(|x| x.load(Ordering::Acquire) + MAX_SKEW < p)
        {
            std::thread::sleep(Duration::from_micros(200));
        }
        if p > 0 && w.churn_every > 0 && p % w.churn_every == 0 {
            for t in targets.iter_mut() {
                let g = w.generation(t.slot, p);
                if g != t.generation {
                    *t = Target::new(w.seed, t.slot, g);
                }
            }
        }
        let ts = w.ts(p);
        for t in targets.iter_mut() {
            let values = *t.step(interval_s);
            for (i, v) in values.into_iter().enumerate() {
                if opt.prost {
                    pending.push(TimeSeries::new(
                        t.labels[i].clone(),
                        vec![Sample::new(ts, v)],
                    ));
                } else {
                    crate::wire::push_series(&mut raw, &t.encoded[i], ts, v);
                }
                n_pending += 1;
                if n_pending >= batch as u64 {
                    send(&mut pending, &mut raw, &mut n_pending);
                }
            }
        }
        shared.progress[worker].store(p + 1, Ordering::Release);
    }
    send(&mut pending, &mut raw, &mut n_pending);
    shared.progress[worker].store(usize::MAX / 2, Ordering::Release);
}
