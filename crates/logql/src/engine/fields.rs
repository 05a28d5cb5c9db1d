//! [`JsonColumns`]: the engine's reading of `| json k="k"`, given to the
//! logs store so that the top-level members it keeps as columns hold
//! exactly what the stage would extract (`argus_store::JsonFields`).

use super::parsers::{json_paths, top_level_keys, PathSeg};
use argus_store::{JsonExtractor, JsonFields};
use std::collections::{HashMap, HashSet};

/// Most columns a segment keeps.
const MAX_KEYS: usize = 8;
/// Fewest JSON lines in a sample to choose from.
const MIN_SAMPLE: usize = 16;
/// Longest average value worth a column (bytes).
const MAX_AVG_LEN: usize = 48;

/// `| json k="k"` as the engine reads it ([`JsonFields`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonColumns;

impl JsonFields for JsonColumns {
    /// Keys in at least half the sample's JSON object lines whose distinct
    /// values are at most a quarter of their appearances (or 64), short,
    /// by how often they appear.
    fn choose(&self, sample: &[&str]) -> Vec<String> {
        let mut keys = Vec::new();
        let mut seen: HashMap<String, (usize, usize, HashSet<String>)> = HashMap::new();
        let mut objects = 0usize;
        let mut values = Vec::new();
        for line in sample {
            if !top_level_keys(line, &mut keys) {
                continue;
            }
            objects += 1;
            keys.sort();
            keys.dedup();
            let ex = Extractor::new(&keys);
            if !ex.values(line, &mut values) {
                continue;
            }
            for (k, v) in keys.iter().zip(&values) {
                let e = seen.entry(k.clone()).or_default();
                e.0 += 1;
                e.1 += v.len();
                if e.2.len() <= sample.len() / 4 + 64 {
                    e.2.insert(v.clone());
                }
            }
        }
        if objects < MIN_SAMPLE {
            return Vec::new();
        }
        let mut chosen: Vec<(usize, String)> = seen
            .into_iter()
            .filter(|(k, (n, len, distinct))| {
                !k.is_empty()
                    && k.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
                    && *n * 2 >= objects
                    && *len / *n <= MAX_AVG_LEN
                    && distinct.len() <= (*n / 4).max(64)
            })
            .map(|(k, (n, _, _))| (n, k))
            .collect();
        chosen.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        chosen.truncate(MAX_KEYS);
        let mut out: Vec<String> = chosen.into_iter().map(|(_, k)| k).collect();
        out.sort();
        out
    }

    fn extractor(&self, keys: &[String]) -> Box<dyn JsonExtractor> {
        Box::new(Extractor::new(keys))
    }
}

/// `| json k1="k1", k2="k2", …` for fixed keys.
struct Extractor {
    params: Vec<(String, Vec<PathSeg>)>,
}

impl Extractor {
    fn new(keys: &[String]) -> Self {
        Extractor {
            params: keys
                .iter()
                .map(|k| (k.clone(), vec![PathSeg::Key(k.clone())]))
                .collect(),
        }
    }
}

impl JsonExtractor for Extractor {
    fn values(&self, line: &str, out: &mut Vec<String>) -> bool {
        // An empty line gives no labels at all, unlike `{}`.
        if line.is_empty() {
            return false;
        }
        out.resize(self.params.len(), String::new());
        let mut ok = true;
        let parsed = json_paths(line, &self.params, |i, v| {
            // The engine reads U+FFFD in a string as a space; a value
            // holding one (raw JSON text) would not read back the same.
            ok &= !v.contains('\u{FFFD}');
            if let Some(o) = out.get_mut(i) {
                o.clear();
                o.push_str(&v);
            }
        });
        parsed.is_ok() && ok
    }
}
