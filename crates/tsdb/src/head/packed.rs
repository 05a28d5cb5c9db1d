//! A head series' label set packed into one allocation.
//!
//! [`Labels`] holds two `String`s per label (48 bytes of headers plus two
//! heap blocks each); a head with a million series would spend most of its
//! memory on them. [`PackedLabels`] stores the same sorted pairs as
//! `uvarint(len(name)) name uvarint(len(value)) value …` in one boxed slice,
//! like Prometheus's `stringlabels`, and builds a [`Labels`] only when a
//! caller needs one (query results, WAL records).

use crate::varint::{get_uvarint, put_uvarint};
use argus_model::{Label, Labels};

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PackedLabels(Box<[u8]>);

impl PackedLabels {
    pub fn new(labels: &Labels) -> Self {
        let mut buf = Vec::with_capacity(labels.text_len() + 2 * labels.len());
        for l in labels {
            put_uvarint(&mut buf, l.name.len() as u64);
            buf.extend_from_slice(l.name.as_bytes());
            put_uvarint(&mut buf, l.value.len() as u64);
            buf.extend_from_slice(l.value.as_bytes());
        }
        PackedLabels(buf.into_boxed_slice())
    }

    /// Wraps bytes already in the packed form whose strings were checked to
    /// be UTF-8 and whose names are sorted and unique (a WAL series record's
    /// labels, see `walrec::decode`).
    pub(crate) fn from_checked_bytes(b: &[u8]) -> Self {
        PackedLabels(b.into())
    }

    /// The pairs in label-name order.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter { rest: &self.0 }
    }

    pub fn to_labels(&self) -> Labels {
        Labels::from_sorted_unchecked(self.iter().map(|(n, v)| Label::new(n, v)).collect())
    }

    /// Whether this is the same label set as `labels`, without building one.
    pub fn eq_labels(&self, labels: &Labels) -> bool {
        let mut it = self.iter();
        for l in labels {
            match it.next() {
                Some((n, v)) if n == l.name && v == l.value => {}
                _ => return false,
            }
        }
        it.next().is_none()
    }

    /// [`Labels::stable_hash`] of the unpacked set.
    pub fn stable_hash(&self) -> u64 {
        argus_model::stable_hash_pairs(self.iter())
    }

    /// The packed bytes: for each label `uvarint(len) name uvarint(len)
    /// value`, which is also how WAL series records spell a label set.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for PackedLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_labels())
    }
}

#[derive(Debug)]
pub struct PackedIter<'a> {
    rest: &'a [u8],
}

impl<'a> PackedIter<'a> {
    fn text(&mut self) -> &'a str {
        // The buffer was written by `PackedLabels::new` from valid strings,
        // so neither the lengths nor the UTF-8 can be wrong.
        let n = get_uvarint(&mut self.rest).expect("packed label length") as usize;
        let (s, rest) = self.rest.split_at(n);
        self.rest = rest;
        std::str::from_utf8(s).expect("packed label text")
    }
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let name = self.text();
        let value = self.text();
        Some((name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(pairs in proptest::collection::vec(("[a-z_]{1,12}", ".{1,200}"), 0..20)) {
            let labels = Labels::from_pairs(pairs);
            let p = PackedLabels::new(&labels);
            prop_assert_eq!(p.to_labels(), labels.clone());
            prop_assert!(p.eq_labels(&labels));
            prop_assert_eq!(p.stable_hash(), labels.stable_hash());
            let mut other = labels.builder();
            other.set("zz_extra", "1");
            prop_assert!(!p.eq_labels(&other.build()));
        }
    }
}
