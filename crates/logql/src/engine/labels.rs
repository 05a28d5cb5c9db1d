//! The labels of one entry while a pipeline runs: stream labels, structured
//! metadata and parsed labels (Loki's three categories), plus the error
//! labels `__error__` and `__error_details__`.

use argus_model::{Label, Labels};
use std::borrow::Cow;

/// `__error__`.
pub const ERROR_LABEL: &str = "__error__";
/// `__error_details__`.
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";
/// `__preserve_error__`.
pub(crate) const PRESERVE_ERROR_LABEL: &str = "__preserve_error__";

/// Where a label came from (Loki's categories, for the categorize-labels
/// response encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// An index (stream) label.
    Stream,
    /// Structured metadata of the entry.
    Metadata,
    /// Extracted by a parser or set by `label_format`.
    Parsed,
}

/// Sorted `(name, value)` pairs.
pub type Pairs = Vec<(String, String)>;

/// The labels of an entry after a pipeline, by category, each sorted by
/// name; the error labels are in `parsed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryLabels {
    /// Stream (index) labels.
    pub stream: Pairs,
    /// Structured metadata.
    pub metadata: Pairs,
    /// Parsed labels (and `__error__`, `__error_details__`).
    pub parsed: Pairs,
}

impl EntryLabels {
    /// All labels, sorted by name.
    pub fn all(&self) -> Pairs {
        let mut v: Pairs = self
            .stream
            .iter()
            .chain(&self.metadata)
            .chain(&self.parsed)
            .cloned()
            .collect();
        v.sort();
        v
    }
}

/// Formats pairs as Prometheus does (`{a="1", b="2"}`), the key Loki sorts
/// streams by.
pub(crate) fn pairs_string(p: &[(String, String)]) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in p.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(n);
        s.push('=');
        go_quote(&mut s, v);
    }
    s.push('}');
    s
}

/// Go's `strconv.Quote`, close enough for label values.
pub(crate) fn go_quote(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// String equality for label names, most of which are short and differ in
/// length or first byte: no call to `memcmp` for those.
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && (a.is_empty() || a[0] == b[0]) && a == b
}

/// A name's bit in a 64-bit filter: a set of names whose filter lacks the
/// bit does not hold the name.
#[inline]
fn name_bit(n: &str) -> u64 {
    let b = n.as_bytes();
    let h = b.len() as u32
        ^ (b.first().copied().unwrap_or(0) as u32) << 8
        ^ (b.last().copied().unwrap_or(0) as u32) << 16;
    1 << (h.wrapping_mul(0x9E37_79B9) >> 26)
}

/// Where a current label lives in a [`LabelState`].
#[derive(Clone, Copy)]
enum Slot {
    Extra(usize),
    Meta(usize),
    Base(usize),
}

/// Bits of a `u64` hide entries of the borrowed layers; longer layers are
/// copied into `extra` instead.
const MAX_BORROWED: usize = 64;

/// The mutable label state of one entry: copy-on-write over the stream
/// labels and the entry's structured metadata, which are borrowed; labels
/// set, overridden or added later live in `extra`, and deleted or
/// overridden borrowed labels are hidden by a bit. Each current name is in
/// one place only.
#[derive(Debug, Clone)]
pub(crate) struct LabelState<'a> {
    /// The stream labels as selected (for [`LabelState::base_has`]).
    base: &'a Labels,
    /// The stream labels kept borrowed (all of `base`, or none when it is
    /// too long), less those whose bit is set in `base_hidden`.
    base_view: &'a [Label],
    base_hidden: u64,
    /// Structured metadata kept borrowed (when its names are unique and
    /// none is a stream label's or an error label's), less `meta_hidden`.
    meta: &'a [(String, String)],
    meta_hidden: u64,
    extra: Vec<(Cow<'a, str>, Cow<'a, str>, Category)>,
    /// [`name_bit`] filters: of the names of `base` and `meta`, and of every
    /// name ever put in `extra`.
    fixed_bits: u64,
    extra_bits: u64,
    err: Cow<'a, str>,
    err_details: Cow<'a, str>,
}

impl<'a> LabelState<'a> {
    pub(crate) fn new(base: &'a Labels, metadata: &'a [(String, String)]) -> Self {
        let mut s = LabelState {
            base,
            base_view: base.as_slice(),
            base_hidden: 0,
            meta: &[],
            meta_hidden: 0,
            extra: Vec::new(),
            fixed_bits: base.iter().fold(0, |b, l| b | name_bit(&l.name)),
            extra_bits: 0,
            err: Cow::Borrowed(""),
            err_details: Cow::Borrowed(""),
        };
        if base.len() > MAX_BORROWED {
            s.extra_bits = s.fixed_bits;
            s.base_view = &[];
            s.extra = base
                .iter()
                .map(|l| {
                    (
                        Cow::Borrowed(l.name.as_str()),
                        Cow::Borrowed(l.value.as_str()),
                        Category::Stream,
                    )
                })
                .collect();
        }
        let simple = metadata.len() <= MAX_BORROWED
            && s.extra.is_empty()
            && metadata.iter().enumerate().all(|(i, (n, _))| {
                !n.starts_with("__error")
                    && !base.iter().any(|l| same(&l.name, n))
                    && !metadata[..i].iter().any(|(m, _)| same(m, n))
            });
        if simple {
            s.meta = metadata;
            s.fixed_bits |= metadata.iter().fold(0, |b, (n, _)| b | name_bit(n));
        } else {
            for (n, v) in metadata {
                s.set(Category::Metadata, n.as_str(), v.as_str());
            }
        }
        s
    }

    /// Makes this state a copy of `from`, keeping its own allocation (for
    /// the entries of a run, which all start from the same state).
    pub(crate) fn reset_from(&mut self, from: &LabelState<'a>) {
        let LabelState {
            base,
            base_view,
            base_hidden,
            meta,
            meta_hidden,
            extra,
            fixed_bits,
            extra_bits,
            err,
            err_details,
        } = from;
        self.base = base;
        self.base_view = base_view;
        self.base_hidden = *base_hidden;
        self.meta = meta;
        self.meta_hidden = *meta_hidden;
        self.extra.clone_from(extra);
        self.fixed_bits = *fixed_bits;
        self.extra_bits = *extra_bits;
        self.err.clone_from(err);
        self.err_details.clone_from(err_details);
    }

    fn find(&self, name: &str) -> Option<Slot> {
        let bit = name_bit(name);
        if self.extra_bits & bit != 0 {
            if let Some(i) = self.extra.iter().position(|(n, _, _)| same(n, name)) {
                return Some(Slot::Extra(i));
            }
        }
        if self.fixed_bits & bit == 0 {
            return None;
        }
        if let Some(i) = self
            .meta
            .iter()
            .enumerate()
            .position(|(i, (n, _))| self.meta_hidden & (1 << i) == 0 && same(n, name))
        {
            return Some(Slot::Meta(i));
        }
        match self.base_view.iter().position(|l| same(&l.name, name)) {
            Some(i) if self.base_hidden & (1 << i) == 0 => Some(Slot::Base(i)),
            _ => None,
        }
    }

    /// Is `name` a label of the original stream (Loki's `BaseHas`)?
    pub(crate) fn base_has(&self, name: &str) -> bool {
        self.fixed_bits & name_bit(name) != 0 && self.base.iter().any(|l| same(&l.name, name))
    }

    /// Is `name` a structured metadata label now?
    pub(crate) fn has_metadata(&self, name: &str) -> bool {
        match self.find(name) {
            Some(Slot::Meta(_)) => true,
            Some(Slot::Extra(i)) => self.extra[i].2 == Category::Metadata,
            _ => false,
        }
    }

    /// Parsed labels take precedence over metadata, metadata over stream
    /// labels (Loki's `LabelsBuilder.Set`).
    pub(crate) fn set(
        &mut self,
        cat: Category,
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) {
        let name = name.into();
        match &*name {
            ERROR_LABEL => {
                self.err = value.into();
                return;
            }
            ERROR_DETAILS_LABEL => {
                self.err_details = value.into();
                return;
            }
            _ => {}
        }
        match self.find(&name) {
            Some(Slot::Extra(i)) => {
                let e = &mut self.extra[i];
                if e.2 > cat {
                    return;
                }
                e.1 = value.into();
                e.2 = cat;
                return;
            }
            Some(Slot::Meta(i)) => {
                if Category::Metadata > cat {
                    return;
                }
                self.meta_hidden |= 1 << i;
            }
            Some(Slot::Base(i)) => self.base_hidden |= 1 << i,
            None => {}
        }
        self.extra_bits |= name_bit(&name);
        self.extra.push((name, value.into(), cat));
    }

    /// Sets a parsed label, adding `_extracted` to its name when a stream
    /// label or structured metadata has it (Loki's parsers): `set` and the
    /// checks in one pass over the labels.
    pub(crate) fn set_parsed(&mut self, name: Cow<'a, str>, value: Cow<'a, str>) {
        let bit = name_bit(&name);
        let clash = self.fixed_bits & bit != 0
            && (self.base.iter().any(|l| same(&l.name, &name))
                || self
                    .meta
                    .iter()
                    .enumerate()
                    .any(|(i, (n, _))| self.meta_hidden & (1 << i) == 0 && same(n, &name)));
        if !clash && name != ERROR_LABEL && name != ERROR_DETAILS_LABEL {
            let at = if self.extra_bits & bit == 0 {
                None
            } else {
                self.extra.iter().position(|(n, _, _)| same(n, &name))
            };
            match at {
                None => {
                    self.extra_bits |= bit;
                    self.extra.push((name, value, Category::Parsed));
                    return;
                }
                Some(i) if self.extra[i].2 != Category::Metadata => {
                    self.extra[i].1 = value;
                    self.extra[i].2 = Category::Parsed;
                    return;
                }
                Some(_) => {}
            }
        }
        if clash || self.has_metadata(&name) {
            let k = format!("{name}{}", super::parsers::DUPLICATE_SUFFIX);
            self.set(Category::Parsed, k, value);
        } else {
            self.set(Category::Parsed, name, value);
        }
    }

    /// Room for `n` more labels.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.extra.reserve(n);
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        match name {
            ERROR_LABEL => return (!self.err.is_empty()).then_some(&*self.err),
            ERROR_DETAILS_LABEL => {
                return (!self.err_details.is_empty()).then_some(&*self.err_details)
            }
            _ => {}
        }
        Some(match self.find(name)? {
            Slot::Extra(i) => &self.extra[i].1,
            Slot::Meta(i) => &self.meta[i].1,
            Slot::Base(i) => &self.base_view[i].value,
        })
    }

    pub(crate) fn del(&mut self, name: &str) {
        match name {
            ERROR_LABEL => self.err = Cow::Borrowed(""),
            ERROR_DETAILS_LABEL => self.err_details = Cow::Borrowed(""),
            _ => match self.find(name) {
                Some(Slot::Extra(i)) => {
                    self.extra.remove(i);
                }
                Some(Slot::Meta(i)) => self.meta_hidden |= 1 << i,
                Some(Slot::Base(i)) => self.base_hidden |= 1 << i,
                None => {}
            },
        }
    }

    pub(crate) fn has_err(&self) -> bool {
        !self.err.is_empty()
    }

    pub(crate) fn set_err(&mut self, err: &'static str, details: Option<String>) {
        self.err = Cow::Borrowed(err);
        if let Some(d) = details {
            self.err_details = Cow::Owned(d);
        }
    }

    /// Keeps the labels (not the error labels) for which `f(name, value)`
    /// is true, as deleting each of the others would (a stream label named
    /// like an error label stays, and the error is deleted).
    pub(crate) fn retain(&mut self, mut f: impl FnMut(&str, &str) -> bool) {
        let mut clear = [false; 2];
        let (err, details) = (
            std::mem::take(&mut self.err),
            std::mem::take(&mut self.err_details),
        );
        // A label named like an error label reads as the error (`get`).
        let mut drop = |n: &str, v: &str| {
            match n {
                ERROR_LABEL => clear[0] |= !f(n, &err),
                ERROR_DETAILS_LABEL => clear[1] |= !f(n, &details),
                _ => return !f(n, v),
            }
            false
        };
        self.extra.retain(|(n, v, _)| !drop(n, v));
        for (i, (n, v)) in self.meta.iter().enumerate() {
            if self.meta_hidden & (1 << i) == 0 && drop(n, v) {
                self.meta_hidden |= 1 << i;
            }
        }
        for (i, l) in self.base_view.iter().enumerate() {
            if self.base_hidden & (1 << i) == 0 && drop(&l.name, &l.value) {
                self.base_hidden |= 1 << i;
            }
        }
        if !clear[0] {
            self.err = err;
        }
        if !clear[1] {
            self.err_details = details;
        }
    }

    /// Every current label with its category, the error labels (when set)
    /// as parsed labels, in no particular order.
    fn each<'s>(&'s self, mut f: impl FnMut(&'s str, &'s str, Category)) {
        for (i, l) in self.base_view.iter().enumerate() {
            if self.base_hidden & (1 << i) == 0 {
                f(&l.name, &l.value, Category::Stream);
            }
        }
        for (i, (n, v)) in self.meta.iter().enumerate() {
            if self.meta_hidden & (1 << i) == 0 {
                f(n, v, Category::Metadata);
            }
        }
        for (n, v, c) in &self.extra {
            f(n, v, *c);
        }
        if !self.err.is_empty() {
            f(ERROR_LABEL, &self.err, Category::Parsed);
        }
        if !self.err_details.is_empty() {
            f(ERROR_DETAILS_LABEL, &self.err_details, Category::Parsed);
        }
    }

    /// The labels whose name `keep` accepts, error labels included, sorted
    /// ([`EntryLabels::all`] filtered, without building it).
    pub(crate) fn pairs_where(&self, keep: impl Fn(&str) -> bool) -> Pairs {
        let mut out = Pairs::new();
        self.each(|n, v, _| {
            if keep(n) {
                out.push((n.to_string(), v.to_string()));
            }
        });
        out.sort();
        out
    }

    /// [`LabelState::pairs_where`] borrowed, into `out`.
    pub(crate) fn pairs_where_into<'s>(
        &'s self,
        keep: impl Fn(&str) -> bool,
        out: &mut Vec<(&'s str, &'s str)>,
    ) {
        self.each(|n, v, _| {
            if keep(n) {
                out.push((n, v));
            }
        });
        out.sort_unstable();
    }

    pub(crate) fn into_entry_labels(self) -> EntryLabels {
        let mut out = EntryLabels::default();
        self.each(|n, v, c| {
            let p = (n.to_string(), v.to_string());
            match c {
                Category::Stream => out.stream.push(p),
                Category::Metadata => out.metadata.push(p),
                Category::Parsed => out.parsed.push(p),
            }
        });
        out.stream.sort();
        out.metadata.sort();
        out.parsed.sort();
        out
    }
}

#[cfg(test)]
#[path = "labels_ref.rs"]
mod reference;

#[cfg(test)]
mod tests {
    use super::reference::OldState;
    use super::*;
    use std::sync::Arc;

    use crate::engine::test_rng::Rng;

    const NAMES: &[&str] = &[
        "job",
        "env",
        "pod",
        "level",
        "status",
        "path",
        "level_extracted",
        "job_extracted",
        ERROR_LABEL,
        ERROR_DETAILS_LABEL,
        "x",
    ];
    const VALUES: &[&str] = &["", "a", "b", "info", "500"];

    /// Random sequences of operations give what the old state gave.
    #[test]
    fn label_state_matches_reference() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let mut base = Vec::new();
            for _ in 0..r.next() % 4 {
                base.push((r.pick(NAMES).to_string(), r.pick(&VALUES[1..]).to_string()));
            }
            // Sometimes more stream labels than the state borrows.
            if r.next().is_multiple_of(8) {
                base.extend((0..MAX_BORROWED + 2).map(|i| (format!("f{i}"), "v".to_string())));
            }
            let base = Arc::new(Labels::from_pairs(base));
            let md: Vec<(String, String)> = (0..r.next() % 3)
                .map(|_| (r.pick(NAMES).to_string(), r.pick(VALUES).to_string()))
                .collect();
            let mut new = LabelState::new(&base, &md);
            let mut old = OldState::new(&base, &md);
            for _ in 0..r.next() % 8 {
                let n = r.pick(NAMES);
                let v = r.pick(VALUES);
                match r.next() % 6 {
                    0 => {
                        new.set(Category::Parsed, n, v);
                        old.set(Category::Parsed, n, v);
                    }
                    1 => {
                        new.set(Category::Metadata, n, v);
                        old.set(Category::Metadata, n, v);
                    }
                    2 => {
                        new.set_parsed(Cow::Borrowed(n), Cow::Borrowed(v));
                        // The old parsers' rule.
                        if old.base_has(n) || old.has_metadata(n) {
                            old.set(Category::Parsed, &format!("{n}_extracted"), v);
                        } else {
                            old.set(Category::Parsed, n, v);
                        }
                    }
                    3 => {
                        new.del(n);
                        old.del(n);
                    }
                    4 => {
                        let keep =
                            |name: &str, value: &str| (name.len() + value.len()) % 2 == v.len() % 2;
                        new.retain(keep);
                        for name in old.names() {
                            if !keep(&name, old.get(&name).unwrap_or("")) {
                                old.del(&name);
                            }
                        }
                    }
                    _ => {
                        new.set_err("SomeErr", (!v.is_empty()).then(|| v.to_string()));
                        old.set_err("SomeErr", (!v.is_empty()).then(|| v.to_string()));
                    }
                }
                for n in NAMES {
                    assert_eq!(new.get(n), old.get(n), "{n}");
                    assert_eq!(new.has_metadata(n), old.has_metadata(n), "{n}");
                    assert_eq!(new.base_has(n), old.base_has(n), "{n}");
                }
                assert_eq!(new.has_err(), old.has_err());
            }
            let all = old.clone().into_entry_labels().all();
            assert_eq!(new.pairs_where(|_| true), all);
            assert_eq!(
                new.pairs_where(|n| n.len() > 3),
                all.iter()
                    .filter(|(n, _)| n.len() > 3)
                    .cloned()
                    .collect::<Pairs>()
            );
            // Borrowed, the same pairs.
            let mut refs = Vec::new();
            new.pairs_where_into(|n| n.len() > 3, &mut refs);
            let owned: Pairs = refs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(owned, new.pairs_where(|n| n.len() > 3));
            // A state reset from this one is the same as it.
            let mut reset = LabelState::new(&base, &[]);
            reset.set(Category::Parsed, "zz", "1");
            reset.set_err("E", Some("d".into()));
            reset.reset_from(&new);
            for n in NAMES {
                assert_eq!(reset.get(n), new.get(n), "{n}");
                assert_eq!(reset.has_metadata(n), new.has_metadata(n), "{n}");
            }
            assert_eq!(reset.into_entry_labels(), new.clone().into_entry_labels());
            assert_eq!(new.into_entry_labels(), old.into_entry_labels());
        }
    }
}
