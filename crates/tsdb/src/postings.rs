//! Inverted index over label pairs, and matcher evaluation over any index
//! that can list label values and postings (the head's and a block's).

use argus_model::Matcher;
use std::collections::HashMap;

/// What matcher evaluation needs from an index. Series ids in postings
/// lists are sorted ascending and unique.
pub trait PostingsSource {
    fn label_values(&self, name: &str) -> Vec<&str>;
    fn postings(&self, name: &str, value: &str) -> &[u64];
    fn all_postings(&self) -> Vec<u64>;
}

/// Series ids matching all `matchers`, sorted. Mirrors Prometheus's
/// `PostingsForMatchers`: matchers that do not match the empty string
/// intersect the union of their values' postings; matchers that match the
/// empty string subtract the series whose value does not match.
pub fn select<S: PostingsSource + ?Sized>(idx: &S, matchers: &[Matcher]) -> Vec<u64> {
    let mut positive: Vec<Vec<u64>> = Vec::new();
    let mut negative: Vec<Vec<u64>> = Vec::new();
    for m in matchers {
        if m.matches_empty() {
            // Series that carry the label with a value the matcher rejects.
            let lists: Vec<&[u64]> = idx
                .label_values(&m.name)
                .into_iter()
                .filter(|v| !m.matches(v))
                .map(|v| idx.postings(&m.name, v))
                .collect();
            negative.push(union(&lists));
        } else {
            let lists: Vec<&[u64]> = match m.set_matches() {
                Some(vals) => vals.iter().map(|v| idx.postings(&m.name, v)).collect(),
                None if m.op == argus_model::MatchOp::Equal => {
                    vec![idx.postings(&m.name, &m.value)]
                }
                None => idx
                    .label_values(&m.name)
                    .into_iter()
                    .filter(|v| m.matches(v))
                    .map(|v| idx.postings(&m.name, v))
                    .collect(),
            };
            let u = union(&lists);
            if u.is_empty() {
                return Vec::new();
            }
            positive.push(u);
        }
    }
    positive.sort_by_key(|p| p.len());
    let mut result = match positive.split_first() {
        Some((first, rest)) => rest.iter().fold(first.clone(), |acc, p| intersect(&acc, p)),
        None => idx.all_postings(),
    };
    for n in &negative {
        result = subtract(&result, n);
    }
    result
}

pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

pub fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut j = 0;
    let mut out = Vec::with_capacity(a.len());
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

pub fn union(lists: &[&[u64]]) -> Vec<u64> {
    match lists {
        [] => Vec::new(),
        [one] => one.to_vec(),
        _ => {
            let mut out: Vec<u64> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// The head's mutable inverted index: name → value → sorted series ids.
#[derive(Debug, Default)]
pub struct MemPostings {
    map: HashMap<String, HashMap<String, Vec<u64>>>,
    all: Vec<u64>,
}

impl MemPostings {
    /// Adds a series. Ids must be added in increasing order.
    pub fn add<'a>(&mut self, id: u64, labels: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (name, value) in labels {
            // Look up by &str first: the name and value are almost always
            // there already, and `entry` would allocate both strings.
            let vals = match self.map.get_mut(name) {
                Some(v) => v,
                None => self.map.entry(name.to_string()).or_default(),
            };
            let list = match vals.get_mut(value) {
                Some(list) => list,
                None => vals.entry(value.to_string()).or_default(),
            };
            insert_sorted(list, id);
        }
        insert_sorted(&mut self.all, id);
    }

    pub fn remove<'a>(&mut self, id: u64, labels: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (name, value) in labels {
            if let Some(vals) = self.map.get_mut(name) {
                if let Some(list) = vals.get_mut(value) {
                    if let Ok(i) = list.binary_search(&id) {
                        list.remove(i);
                    }
                    if list.is_empty() {
                        vals.remove(value);
                    }
                }
                if vals.is_empty() {
                    self.map.remove(name);
                }
            }
        }
        if let Ok(i) = self.all.binary_search(&id) {
            self.all.remove(i);
        }
    }

    pub fn label_names(&self) -> Vec<&str> {
        self.map.keys().map(String::as_str).collect()
    }
}

fn insert_sorted(list: &mut Vec<u64>, id: u64) {
    match list.last() {
        Some(&last) if last >= id => {
            if let Err(i) = list.binary_search(&id) {
                list.insert(i, id);
            }
        }
        _ => list.push(id),
    }
}

impl PostingsSource for MemPostings {
    fn label_values(&self, name: &str) -> Vec<&str> {
        self.map
            .get(name)
            .map(|v| v.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn postings(&self, name: &str, value: &str) -> &[u64] {
        self.map
            .get(name)
            .and_then(|v| v.get(value))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn all_postings(&self) -> Vec<u64> {
        self.all.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::MatchOp;

    fn idx() -> MemPostings {
        let mut p = MemPostings::default();
        p.add(1, [("__name__", "up"), ("job", "api")]);
        p.add(2, [("__name__", "up"), ("job", "db")]);
        p.add(3, [("__name__", "up")]);
        p.add(4, [("__name__", "x"), ("job", "api")]);
        p
    }

    fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
        Matcher::new(op, n, v).unwrap()
    }

    #[test]
    fn matcher_semantics_match_prometheus() {
        let p = idx();
        assert_eq!(
            select(&p, &[m(MatchOp::Equal, "__name__", "up")]),
            vec![1, 2, 3]
        );
        assert_eq!(
            select(
                &p,
                &[
                    m(MatchOp::Equal, "__name__", "up"),
                    m(MatchOp::NotEqual, "job", "api")
                ]
            ),
            vec![2, 3]
        );
        assert_eq!(
            select(
                &p,
                &[
                    m(MatchOp::Equal, "__name__", "up"),
                    m(MatchOp::Equal, "job", "")
                ]
            ),
            vec![3]
        );
        assert_eq!(
            select(&p, &[m(MatchOp::Regex, "job", "a.*|d.*")]),
            vec![1, 2, 4]
        );
        assert_eq!(
            select(&p, &[m(MatchOp::Regex, "job", "api|db")]),
            vec![1, 2, 4]
        );
        assert_eq!(
            select(&p, &[m(MatchOp::NotRegex, "job", "api")]),
            vec![2, 3]
        );
        assert_eq!(select(&p, &[m(MatchOp::Regex, "job", ".+")]), vec![1, 2, 4]);
        assert_eq!(
            select(&p, &[m(MatchOp::Equal, "job", "nope")]),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn remove_cleans_up() {
        let mut p = idx();
        p.remove(4, [("__name__", "x"), ("job", "api")]);
        assert!(p.label_values("__name__") == vec!["up"]);
        assert_eq!(p.all_postings(), vec![1, 2, 3]);
    }
}
