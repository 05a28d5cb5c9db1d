//! The logs corpus: the deterministic (seeded) lines of [`super::lines`]
//! — nginx access logs, JSON application logs with a trace id, syslog — over
//! a few hundred streams, written once to files so that Argus, `zstd`,
//! `grep` and DuckDB all see exactly the same lines.
//!
//! Files in the corpus directory:
//! - `lines.log`: the raw corpus, one log line per line (what `zstd -3` and
//!   `grep -F` read; its size is the "raw bytes" of every ratio).
//! - `corpus.tsv`: `ts_ns  stream  service_name  namespace  pod  job  level
//!   line`, tab-separated, in time order (what the push driver and DuckDB
//!   read). Lines never contain a tab or a newline.
//! - `corpus.json`: the parameters and what was generated ([`CorpusMeta`]).
//!
//! Entries are in global time order (interleaved across streams), so each
//! stream is in order. The rare token [`NEEDLE`] is planted in exactly
//! [`NEEDLE_LINES`] lines, spread over the corpus and over the stream kinds.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::rng::Rng;
use anyhow::{Context, Result};

pub(crate) use super::lines::{streams, Generator, Kind, StreamDef};

/// The planted rare token.
pub(crate) const NEEDLE: &str = "ARGUS-NEEDLE-7f3a91c2e5";
/// Lines carrying [`NEEDLE`].
pub(crate) const NEEDLE_LINES: usize = 5;

/// What a corpus is and holds (`corpus.json`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CorpusMeta {
    pub seed: u64,
    pub target_bytes: u64,
    pub streams: usize,
    pub span_ms: i64,
    pub start_ns: i64,
    pub end_ns: i64,
    pub lines: u64,
    /// Size of `lines.log` (lines and their newlines).
    pub raw_bytes: u64,
    pub lines_per_kind: [u64; 3],
}

impl CorpusMeta {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed, "target_bytes": self.target_bytes, "streams": self.streams,
            "span_ms": self.span_ms, "start_ns": self.start_ns, "end_ns": self.end_ns,
            "lines": self.lines, "raw_bytes": self.raw_bytes, "lines_per_kind": self.lines_per_kind,
        })
    }

    fn from_json(v: &serde_json::Value) -> Option<CorpusMeta> {
        let k = v["lines_per_kind"].as_array()?;
        Some(CorpusMeta {
            seed: v["seed"].as_u64()?,
            target_bytes: v["target_bytes"].as_u64()?,
            streams: v["streams"].as_u64()? as usize,
            span_ms: v["span_ms"].as_i64()?,
            start_ns: v["start_ns"].as_i64()?,
            end_ns: v["end_ns"].as_i64()?,
            lines: v["lines"].as_u64()?,
            raw_bytes: v["raw_bytes"].as_u64()?,
            lines_per_kind: [
                k.first()?.as_u64()?,
                k.get(1)?.as_u64()?,
                k.get(2)?.as_u64()?,
            ],
        })
    }
}

/// A corpus on disk.
#[derive(Debug, Clone)]
pub(crate) struct Corpus {
    pub dir: PathBuf,
    pub meta: CorpusMeta,
}

impl Corpus {
    pub(crate) fn lines_path(&self) -> PathBuf {
        self.dir.join("lines.log")
    }
    pub(crate) fn tsv_path(&self) -> PathBuf {
        self.dir.join("corpus.tsv")
    }
}

/// Generates the corpus of `seed` into `dir` (about `target_bytes` of raw
/// lines over `span_ms` ending at `end_ms`), or reuses the one already
/// there when it was made with the same seed, size, streams and span.
pub(crate) fn generate(
    dir: &Path,
    seed: u64,
    target_bytes: u64,
    n_streams: usize,
    span_ms: i64,
    end_ms: i64,
) -> Result<Corpus> {
    std::fs::create_dir_all(dir)?;
    let meta_path = dir.join("corpus.json");
    if let Some(m) = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| CorpusMeta::from_json(&v))
    {
        if (m.seed, m.target_bytes, m.streams, m.span_ms)
            == (seed, target_bytes, n_streams, span_ms)
            && std::fs::metadata(dir.join("lines.log")).is_ok_and(|md| md.len() == m.raw_bytes)
        {
            eprintln!("    reusing the corpus in {}", dir.display());
            return Ok(Corpus {
                dir: dir.to_path_buf(),
                meta: m,
            });
        }
    }
    let _ = std::fs::remove_file(&meta_path);
    // Estimate the mean line length to space timestamps evenly over the span.
    let mut probe = Generator::new(seed ^ 0xa5a5, n_streams);
    let mut buf = String::new();
    let mut probe_bytes = 0u64;
    const PROBE: u64 = 20_000;
    for _ in 0..PROBE {
        let s = probe.next_stream();
        probe.line(s, end_ms * 1_000_000, false, &mut buf);
        probe_bytes += buf.len() as u64 + 1;
    }
    let est_lines = (target_bytes * PROBE / probe_bytes.max(1)).max(1);
    let span_ns = span_ms as i128 * 1_000_000;
    let start_ns = (end_ms as i128 * 1_000_000 - span_ns) as i64;
    let step_ns = (span_ns / est_lines as i128).max(1) as i64;

    let mut g = Generator::new(seed, n_streams);
    let mut jit = Rng::derive(seed, &[0x004a_4954]);
    let mut lines_w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("lines.log"))?);
    let mut tsv_w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("corpus.tsv"))?);
    let mut meta = CorpusMeta {
        seed,
        target_bytes,
        streams: n_streams,
        span_ms,
        start_ns,
        end_ns: start_ns,
        lines: 0,
        raw_bytes: 0,
        lines_per_kind: [0; 3],
    };
    let mut planted = 0usize;
    let mut line = String::with_capacity(1024);
    let mut ts = start_ns;
    while meta.raw_bytes < target_bytes {
        // Needles at 10%, 30%, 50%, 70% and 90% of the bytes, in streams of
        // every kind (the next stream of the needle's kind).
        let needle = planted < NEEDLE_LINES
            && meta.raw_bytes * NEEDLE_LINES as u64 * 2 >= target_bytes * (2 * planted as u64 + 1);
        let mut s = g.next_stream();
        if needle {
            let want = [Kind::App, Kind::Access, Kind::Syslog][planted % 3];
            while g.streams[s].kind != want {
                s = g.next_stream();
            }
            planted += 1;
        }
        ts += step_ns / 2 + jit.below(step_ns as u64) as i64;
        g.line(s, ts, needle, &mut line);
        let st = &g.streams[s];
        lines_w.write_all(line.as_bytes())?;
        lines_w.write_all(b"\n")?;
        writeln!(
            tsv_w,
            "{ts}\t{s}\t{}\t{}\t{}\t{}\t{}\t{line}",
            st.service,
            st.namespace,
            st.pod,
            st.kind.job(),
            st.level
        )?;
        meta.raw_bytes += line.len() as u64 + 1;
        meta.lines += 1;
        meta.lines_per_kind[st.kind as usize] += 1;
    }
    meta.end_ns = ts;
    lines_w.flush()?;
    tsv_w.flush()?;
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta.to_json())?)
        .with_context(|| meta_path.display().to_string())?;
    Ok(Corpus {
        dir: dir.to_path_buf(),
        meta,
    })
}

/// One entry of `corpus.tsv`: (ts_ns, stream, line).
pub(crate) fn parse_tsv(l: &str) -> Option<(i64, usize, &str)> {
    let mut it = l.splitn(8, '\t');
    let ts = it.next()?.parse().ok()?;
    let s = it.next()?.parse().ok()?;
    let line = it.nth(5)?;
    Some((ts, s, line.strip_suffix('\n').unwrap_or(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_deterministic_ordered_with_the_needles() {
        let d = tempfile::tempdir().unwrap();
        let end = 1_700_000_000_000;
        let c = generate(&d.path().join("a"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        let c2 = generate(&d.path().join("b"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        let lines = std::fs::read_to_string(c.lines_path()).unwrap();
        assert_eq!(lines, std::fs::read_to_string(c2.lines_path()).unwrap());
        assert_eq!(lines.len() as u64, c.meta.raw_bytes);
        assert!(c.meta.raw_bytes >= 2_000_000 && c.meta.raw_bytes < 2_010_000);
        assert_eq!(lines.matches(NEEDLE).count(), NEEDLE_LINES);
        let tsv = std::fs::read_to_string(c.tsv_path()).unwrap();
        let mut last = i64::MIN;
        let mut n = 0u64;
        let mut json_ok = 0;
        for (l, raw) in tsv.lines().zip(lines.lines()) {
            let (ts, s, line) = parse_tsv(l).unwrap();
            assert_eq!(line, raw);
            assert!(ts > last && ts >= c.meta.start_ns && s < 50);
            assert!(!line.contains('\t'));
            last = ts;
            n += 1;
            if l.contains("\tapp\t") {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
                assert!(v["status"].as_u64().is_some());
                json_ok += 1;
            }
        }
        assert_eq!(n, c.meta.lines);
        assert!(json_ok > 0);
        assert_eq!(last, c.meta.end_ns);
        // Time spread over roughly the whole span.
        let span = (c.meta.end_ns - c.meta.start_ns) as f64 / 3.6e12;
        assert!((0.8..1.2).contains(&span), "{span}");
        // Reused when asked again.
        let again = generate(&d.path().join("a"), 7, 2_000_000, 50, 3_600_000, end).unwrap();
        assert_eq!(again.meta, c.meta);
    }
}
