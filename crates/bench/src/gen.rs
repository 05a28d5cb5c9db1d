//! The synthetic workload: "targets" that look like real exporters (a web
//! service instrumented with client_golang plus node_exporter), 100 series
//! each, with deterministic values.
//!
//! Per target: `http_requests_total{handler,method,code}` (30 counters with
//! integer increments), `http_request_duration_seconds` (classic histograms
//! for 5 handlers: 9 `_bucket` series with `le`, `_sum`, `_count` = 55),
//! `node_cpu_seconds_total{cpu,mode}` (8 counters, 0.01 s precision) and 7
//! gauges (random walks with limited precision: goroutines, RSS and free
//! memory in pages, open fds, load average with 2 decimals, free disk,
//! `up`). Target labels: `job`, `namespace`, `pod`, `instance`.
//!
//! Churn replaces whole targets (a pod restart: new `pod` and `instance`,
//! counters from zero): every `churn_every` points the next `churn` fraction
//! of targets, in a rotating window, gets a new generation.

use argus_model::Labels;

use crate::rng::Rng;

pub(crate) const SERIES_PER_TARGET: usize = 100;

const JOBS: [&str; 8] = [
    "api", "web", "auth", "billing", "search", "cart", "payments", "catalog",
];
const NAMESPACES: [&str; 3] = ["prod", "staging", "dev"];
const HANDLERS: [&str; 5] = [
    "/api/v1/users",
    "/api/v1/orders",
    "/api/v1/items",
    "/healthz",
    "/metrics",
];
const METHODS: [&str; 2] = ["GET", "POST"];
const CODES: [&str; 3] = ["200", "404", "500"];
const LES: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
const LE_TEXT: [&str; 9] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf",
];
const CPU_MODES: [&str; 4] = ["idle", "iowait", "system", "user"];
const GAUGES: [&str; 7] = [
    "go_goroutines",
    "process_resident_memory_bytes",
    "process_open_fds",
    "node_memory_MemAvailable_bytes",
    "node_load1",
    "node_filesystem_avail_bytes",
    "up",
];

// Offsets of each family inside a target's 100 series.
const HTTP: usize = 0; // 30
const HIST: usize = 30; // 5 × 11
const CPU: usize = 85; // 8
const GAUGE: usize = 93; // 7

/// The shape of the load.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub seed: u64,
    pub targets: usize,
    pub points: usize,
    pub interval_ms: i64,
    pub start_ms: i64,
    /// Fraction of targets replaced at each churn step (0 = none).
    pub churn: f64,
    /// Points between churn steps.
    pub churn_every: usize,
}

impl Workload {
    pub(crate) fn active_series(&self) -> usize {
        self.targets * SERIES_PER_TARGET
    }

    pub(crate) fn total_samples(&self) -> u64 {
        (self.active_series() * self.points) as u64
    }

    /// Timestamp of point `p`.
    pub(crate) fn ts(&self, p: usize) -> i64 {
        self.start_ms + p as i64 * self.interval_ms
    }

    pub(crate) fn end_ms(&self) -> i64 {
        self.ts(self.points.saturating_sub(1))
    }

    fn churn_window(&self) -> usize {
        ((self.churn * self.targets as f64).round() as usize).min(self.targets)
    }

    /// Generation of target `slot` at point `p`.
    pub(crate) fn generation(&self, slot: usize, p: usize) -> u64 {
        let m = self.churn_window();
        if m == 0 || self.churn_every == 0 {
            return 0;
        }
        let steps = p / self.churn_every;
        let mut g = 0;
        for k in 1..=steps {
            let lo = (k - 1) * m;
            // window [lo, lo + m) modulo targets
            let pos = (slot + self.targets - lo % self.targets) % self.targets;
            if pos < m {
                g += 1;
            }
        }
        g
    }

    /// Series created over the whole run (active plus churned).
    pub(crate) fn series_created(&self) -> usize {
        (0..self.targets)
            .map(|s| self.generation(s, self.points.saturating_sub(1)) as usize + 1)
            .sum::<usize>()
            * SERIES_PER_TARGET
    }
}

/// One exporter instance: its series' labels and the state of their values.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub slot: usize,
    pub generation: u64,
    pub labels: Vec<Labels>,
    /// The labels pre-encoded for remote write ([`crate::wire::encode_labels`]).
    pub encoded: Vec<Vec<u8>>,
    rng: Rng,
    values: [f64; SERIES_PER_TARGET],
    http_base: [u64; 30],
    latency_mean: [f64; 5],
    hist_buckets: [[u64; 9]; 5],
    hist_sum_ms: [u64; 5],
    cpu_share: [f64; 4],
}

fn base36(mut x: u64, len: usize) -> String {
    const A: &[u8] = b"0123456789bcdfghjklmnpqrstvwxz";
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(A[(x % A.len() as u64) as usize] as char);
        x /= A.len() as u64;
    }
    s
}

impl Target {
    pub(crate) fn new(seed: u64, slot: usize, generation: u64) -> Target {
        let mut id = Rng::derive(seed, &[slot as u64, generation, 1]);
        let job = JOBS[slot % JOBS.len()];
        let namespace = NAMESPACES[(slot / JOBS.len()) % NAMESPACES.len()];
        let deploy = Rng::derive(seed, &[slot as u64, 2]).next_u64();
        let pod = format!("{job}-{}-{}", base36(deploy, 10), base36(id.next_u64(), 5));
        let ip = id.next_u64();
        let instance = format!(
            "10.{}.{}.{}:8080",
            (ip >> 16) % 256,
            (ip >> 8) % 256,
            ip % 254 + 1
        );
        let common = |name: &str, extra: &[(&str, &str)]| {
            let mut pairs: Vec<(String, String)> = vec![
                ("__name__".into(), name.into()),
                ("job".into(), job.into()),
                ("namespace".into(), namespace.into()),
                ("pod".into(), pod.clone()),
                ("instance".into(), instance.clone()),
            ];
            pairs.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
            Labels::from_pairs(pairs)
        };
        let mut labels = Vec::with_capacity(SERIES_PER_TARGET);
        for h in HANDLERS {
            for m in METHODS {
                for c in CODES {
                    labels.push(common(
                        "http_requests_total",
                        &[("handler", h), ("method", m), ("code", c)],
                    ));
                }
            }
        }
        for h in HANDLERS {
            for le in LE_TEXT {
                labels.push(common(
                    "http_request_duration_seconds_bucket",
                    &[("handler", h), ("method", "GET"), ("le", le)],
                ));
            }
            labels.push(common(
                "http_request_duration_seconds_sum",
                &[("handler", h), ("method", "GET")],
            ));
            labels.push(common(
                "http_request_duration_seconds_count",
                &[("handler", h), ("method", "GET")],
            ));
        }
        for cpu in ["0", "1"] {
            for mode in CPU_MODES {
                labels.push(common(
                    "node_cpu_seconds_total",
                    &[("cpu", cpu), ("mode", mode)],
                ));
            }
        }
        for g in GAUGES {
            labels.push(common(g, &[]));
        }
        debug_assert_eq!(labels.len(), SERIES_PER_TARGET);

        let mut rng = Rng::derive(seed, &[slot as u64, generation, 3]);
        // A first-generation target has been running for a while; a
        // replacement starts from zero.
        let fresh = generation > 0;
        let mut values = [0.0; SERIES_PER_TARGET];
        let mut http_base = [0u64; 30];
        for (i, b) in http_base.iter_mut().enumerate() {
            *b = match i % 3 {
                0 => 1 + rng.below(40),
                1 => rng.below(4),
                _ => rng.below(2),
            };
            if !fresh {
                values[HTTP + i] = (*b * rng.below(5000)) as f64;
            }
        }
        let mut latency_mean = [0.0; 5];
        for m in latency_mean.iter_mut() {
            *m = 0.005 + rng.unit() * 0.2;
        }
        let mut cpu_share = [0.0; 4];
        let busy = 0.05 + rng.unit() * 0.5;
        cpu_share[0] = 1.0 - busy; // idle
        cpu_share[1] = busy * 0.05; // iowait
        cpu_share[2] = busy * 0.25; // system
        cpu_share[3] = busy * 0.70; // user
        if !fresh {
            for c in 0..8 {
                values[CPU + c] = (rng.below(10_000_000) as f64) / 100.0;
            }
        }
        values[GAUGE] = (20 + rng.below(200)) as f64;
        values[GAUGE + 1] = ((50 + rng.below(400)) * 256 * 4096) as f64;
        values[GAUGE + 2] = (10 + rng.below(100)) as f64;
        values[GAUGE + 3] = ((1 + rng.below(16)) * 262_144 * 4096) as f64;
        values[GAUGE + 4] = (rng.below(300) as f64) / 100.0;
        values[GAUGE + 5] = ((10 + rng.below(500)) * 262_144 * 4096) as f64;
        values[GAUGE + 6] = 1.0;
        let mut t = Target {
            slot,
            generation,
            encoded: labels.iter().map(crate::wire::encode_labels).collect(),
            labels,
            rng,
            values,
            http_base,
            latency_mean,
            hist_buckets: [[0; 9]; 5],
            hist_sum_ms: [0; 5],
            cpu_share,
        };
        if !fresh {
            for h in 0..5 {
                let n = t.rng.below(100_000);
                t.observe(h, n);
            }
            t.write_hist();
        }
        t
    }

    fn observe(&mut self, h: usize, n: u64) {
        for _ in 0..n {
            // exponential latency, millisecond precision
            let secs = -(1.0 - self.rng.unit()).ln() * self.latency_mean[h];
            let ms = (secs * 1000.0).round() as u64;
            self.hist_sum_ms[h] += ms;
            let v = ms as f64 / 1000.0;
            let b = LES.iter().position(|&le| v <= le).unwrap_or(LES.len());
            self.hist_buckets[h][b] += 1;
        }
    }

    fn write_hist(&mut self) {
        for h in 0..5 {
            let base = HIST + h * 11;
            let mut cum = 0;
            for b in 0..9 {
                cum += self.hist_buckets[h][b];
                self.values[base + b] = cum as f64;
            }
            self.values[base + 9] = self.hist_sum_ms[h] as f64 / 1000.0;
            self.values[base + 10] = cum as f64;
        }
    }

    /// Advances every series by one scrape and returns the values, in the
    /// order of [`Target::labels`].
    pub(crate) fn step(&mut self, interval_s: f64) -> &[f64; SERIES_PER_TARGET] {
        for i in 0..30 {
            let b = self.http_base[i];
            let inc = if b == 0 {
                u64::from(self.rng.below(50) == 0)
            } else {
                b / 2 + self.rng.below(b + 1)
            };
            self.values[HTTP + i] += inc as f64;
        }
        // Observations come from the GET requests of the handler.
        for h in 0..5 {
            let n = self.http_base[h * 6] / 2 + self.rng.below(self.http_base[h * 6] + 1);
            self.observe(h, n);
        }
        self.write_hist();
        for c in 0..8 {
            let share = self.cpu_share[c % 4] * (0.8 + 0.4 * self.rng.unit());
            let v = self.values[CPU + c] + share * interval_s;
            self.values[CPU + c] = (v * 100.0).round() / 100.0;
        }
        let walk = |rng: &mut Rng, span: u64| rng.below(2 * span + 1) as f64 - span as f64;
        let g = &mut self.values[GAUGE..];
        g[0] = (g[0] + walk(&mut self.rng, 3)).max(1.0);
        g[1] = (g[1] + walk(&mut self.rng, 4) * 16.0 * 4096.0).max(4096.0 * 1024.0);
        g[2] = (g[2] + walk(&mut self.rng, 1)).max(3.0);
        g[3] = (g[3] + walk(&mut self.rng, 8) * 64.0 * 4096.0).max(4096.0);
        g[4] = ((g[4] + walk(&mut self.rng, 10) / 100.0).max(0.0) * 100.0).round() / 100.0;
        g[5] = (g[5] - self.rng.below(100) as f64 * 4096.0).max(0.0);
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(targets: usize, churn: f64) -> Workload {
        Workload {
            seed: 1,
            targets,
            points: 100,
            interval_ms: 15_000,
            start_ms: 0,
            churn,
            churn_every: 10,
        }
    }

    #[test]
    fn targets_are_deterministic_and_consistent() {
        let mut a = Target::new(1, 3, 0);
        let mut b = Target::new(1, 3, 0);
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.labels.len(), SERIES_PER_TARGET);
        let mut set = std::collections::HashSet::new();
        assert!(a.labels.iter().all(|l| set.insert(l.clone())));
        let mut prev = *a.step(15.0);
        b.step(15.0);
        for _ in 0..50 {
            let v = *a.step(15.0);
            assert_eq!(v, *b.step(15.0));
            // counters and histogram series never decrease
            for i in 0..GAUGE {
                assert!(v[i] >= prev[i], "series {i}: {} < {}", v[i], prev[i]);
            }
            for h in 0..5 {
                let base = HIST + h * 11;
                for k in 0..8 {
                    assert!(v[base + k] <= v[base + k + 1]);
                }
                assert_eq!(v[base + 8], v[base + 10]);
            }
            prev = v;
        }
        assert_ne!(Target::new(1, 3, 1).labels, a.labels);
    }

    #[test]
    fn churn_rotates_a_window() {
        let no = w(10, 0.0);
        assert_eq!(no.series_created(), 1000);
        let c = w(10, 0.2);
        // 9 churn steps in 100 points × 2 targets each
        assert_eq!(c.series_created(), 1000 + 9 * 2 * 100);
        assert_eq!(c.generation(0, 9), 0);
        assert_eq!(c.generation(0, 10), 1);
        assert_eq!(c.generation(2, 10), 0);
        assert_eq!(c.generation(2, 20), 1);
    }
}
