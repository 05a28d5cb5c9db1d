//! Relabelling, a port of Prometheus's `model/relabel/relabel.go` (v2.55):
//! the `relabel_config` YAML shape with its defaults and validation, and
//! [`relabel`] / [`process_builder`] applying a list of rules.

use std::fmt;
use std::sync::LazyLock;

use argus_model::{validate_label_name, Label, Labels};
use regex::Regex;
use serde::Deserialize;

use crate::goregex;
use md5::{Digest, Md5};

/// What a relabel rule does (`action:`, case-insensitive in YAML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Set `target_label` to `replacement` (expanded) when `regex` matches.
    #[default]
    Replace,
    /// Drop the label set unless `regex` matches.
    Keep,
    /// Drop the label set when `regex` matches.
    Drop,
    /// Drop unless the concatenated source labels equal `target_label`'s value.
    KeepEqual,
    /// Drop when the concatenated source labels equal `target_label`'s value.
    DropEqual,
    /// Set `target_label` to `md5(value)` modulo `modulus`.
    HashMod,
    /// Copy labels whose name matches `regex` to the name `replacement`.
    LabelMap,
    /// Remove labels whose name matches `regex`.
    LabelDrop,
    /// Remove labels whose name does not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased value.
    Lowercase,
    /// Set `target_label` to the upper-cased value.
    Uppercase,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name case-insensitively, as Prometheus does.
    pub fn parse(s: &str) -> Result<Action, RelabelError> {
        Ok(match s.to_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return Err(RelabelError(format!("unknown relabel action {s:?}"))),
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An invalid relabel rule; the message is Prometheus's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RelabelError(pub String);

/// A relabel regex: Go RE2 syntax, fully anchored (`^(?:…)$`).
#[derive(Clone)]
pub struct RelabelRegex {
    source: String,
    /// Whether the rule spelled out a regex (Prometheus compares its default
    /// regex by identity for `keepequal`/`dropequal`).
    explicit: bool,
    re: Regex,
}

impl RelabelRegex {
    /// Compiles `s` anchored on both ends.
    pub fn new(s: &str) -> Result<Self, RelabelError> {
        let re = goregex::compile_anchored(s)
            .map_err(|e| RelabelError(format!("invalid regex {s:?}: {e}")))?;
        Ok(RelabelRegex {
            source: s.to_string(),
            explicit: true,
            re,
        })
    }

    /// The regex as written (without the anchors).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    fn default_regex() -> Self {
        static DEFAULT: LazyLock<Regex> =
            LazyLock::new(|| goregex::compile_anchored("(.*)").expect("valid"));
        RelabelRegex {
            source: "(.*)".to_string(),
            explicit: false,
            re: DEFAULT.clone(),
        }
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        RelabelRegex::default_regex()
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.explicit == other.explicit
    }
}

impl fmt::Debug for RelabelRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

/// One `relabel_config` rule. Construct with [`RelabelConfig::default`]
/// (Prometheus's defaults) and field updates, or from YAML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRelabelConfig")]
pub struct RelabelConfig {
    pub source_labels: Vec<String>,
    /// Default `;`.
    pub separator: String,
    pub target_label: String,
    /// Default `(.*)`.
    pub regex: RelabelRegex,
    pub modulus: u64,
    /// Default `$1`.
    pub replacement: String,
    /// Default `replace`.
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".to_string(),
            target_label: String::new(),
            regex: RelabelRegex::default(),
            modulus: 0,
            replacement: "$1".to_string(),
            action: Action::Replace,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabelConfig {
    #[serde(default)]
    source_labels: Option<Vec<String>>,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default)]
    target_label: Option<String>,
    /// `Some(None)` is an explicit `regex: null`, which Prometheus turns into "".
    #[serde(default, deserialize_with = "explicit_null")]
    regex: Option<Option<String>>,
    #[serde(default)]
    modulus: Option<u64>,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

fn explicit_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl TryFrom<RawRelabelConfig> for RelabelConfig {
    type Error = RelabelError;

    fn try_from(raw: RawRelabelConfig) -> Result<Self, Self::Error> {
        let mut c = RelabelConfig::default();
        if let Some(v) = raw.source_labels {
            c.source_labels = v;
        }
        if let Some(v) = raw.separator {
            c.separator = v;
        }
        if let Some(v) = raw.target_label {
            c.target_label = v;
        }
        if let Some(v) = raw.regex {
            c.regex = RelabelRegex::new(v.as_deref().unwrap_or(""))?;
        }
        if let Some(v) = raw.modulus {
            c.modulus = v;
        }
        if let Some(v) = raw.replacement {
            c.replacement = v;
        }
        if let Some(v) = raw.action {
            c.action = Action::parse(&v)?;
        }
        c.validate()?;
        Ok(c)
    }
}

/// Prometheus's `relabelTarget`: what a `target_label` containing `$` (or a
/// `labelmap` replacement) must look like.
fn is_relabel_target(s: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{[0-9A-Za-z_]+\}|[0-9A-Za-z_]+))+[0-9A-Za-z_]*)+$")
            .expect("valid")
    });
    RE.is_match(s)
}

impl RelabelConfig {
    /// Checks the rule as Prometheus's `Config.Validate` does.
    pub fn validate(&self) -> Result<(), RelabelError> {
        let a = self.action;
        let err = |m: String| Err(RelabelError(m));
        let d = RelabelConfig::default();
        if a == Action::HashMod && self.modulus == 0 {
            return err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        let invalid_target = || {
            err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ))
        };
        if a == Action::Replace {
            let ok = if self.target_label.contains('$') {
                is_relabel_target(&self.target_label)
            } else {
                validate_label_name(&self.target_label)
            };
            if !ok {
                return invalid_target();
            }
        }
        let case_or_equal = matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        );
        if case_or_equal && !validate_label_name(&self.target_label) {
            return invalid_target();
        }
        if case_or_equal && self.replacement != d.replacement {
            return err(format!("'replacement' can not be set for {a} action"));
        }
        if a == Action::LabelMap && !is_relabel_target(&self.replacement) {
            return err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if a == Action::HashMod && !validate_label_name(&self.target_label) {
            return invalid_target();
        }
        if matches!(a, Action::DropEqual | Action::KeepEqual)
            && (self.regex.explicit
                || self.modulus != d.modulus
                || self.separator != d.separator
                || self.replacement != d.replacement)
        {
            return err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (!self.source_labels.is_empty()
                || self.target_label != d.target_label
                || self.modulus != d.modulus
                || self.separator != d.separator
                || self.replacement != d.replacement)
        {
            return err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// A label set under edit with the exact semantics of Prometheus's
/// `labels.Builder`: `set` with an empty value deletes, and [`range`]
/// visits the untouched base labels (sorted) and then the added ones in the
/// order they were first set. That order is observable through `labelmap`.
///
/// [`range`]: LabelBuilder::range
#[derive(Debug, Clone, Default)]
pub struct LabelBuilder {
    base: Vec<Label>,
    del: Vec<String>,
    add: Vec<Label>,
}

impl LabelBuilder {
    pub fn new(base: &Labels) -> Self {
        LabelBuilder {
            base: base.as_slice().to_vec(),
            del: Vec::new(),
            add: Vec::new(),
        }
    }

    /// The value of `name`, `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        if let Some(l) = self.add.iter().find(|l| l.name == name) {
            return &l.value;
        }
        if self.del.iter().any(|d| d == name) {
            return "";
        }
        match self.base.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) => &self.base[i].value,
            Err(_) => "",
        }
    }

    /// Sets `name`; an empty value deletes it.
    pub fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.del(name);
            return;
        }
        match self.add.iter_mut().find(|l| l.name == name) {
            Some(l) => l.value = value.to_string(),
            None => self.add.push(Label::new(name, value)),
        }
    }

    pub fn del(&mut self, name: &str) {
        self.add.retain(|l| l.name != name);
        self.del.push(name.to_string());
    }

    /// A snapshot of the current labels in Prometheus's `Range` order.
    pub fn range(&self) -> Vec<Label> {
        let mut out: Vec<Label> = self
            .base
            .iter()
            .filter(|l| !self.del.contains(&l.name) && !self.add.iter().any(|a| a.name == l.name))
            .cloned()
            .collect();
        out.extend(self.add.iter().cloned());
        out
    }

    /// The resulting sorted label set.
    pub fn labels(&self) -> Labels {
        if self.del.is_empty() && self.add.is_empty() {
            return Labels::from_sorted_unchecked(self.base.clone());
        }
        let mut out = self.range();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Labels::from_sorted_unchecked(out)
    }
}

/// Applies `cfgs` in order; `None` when a rule dropped the label set.
/// Prometheus's `relabel.Process`.
pub fn relabel(labels: &Labels, cfgs: &[RelabelConfig]) -> Option<Labels> {
    let mut lb = LabelBuilder::new(labels);
    process_builder(&mut lb, cfgs).then(|| lb.labels())
}

/// Applies `cfgs` to a builder; false when a rule dropped it.
/// Prometheus's `relabel.ProcessBuilder`.
pub fn process_builder(lb: &mut LabelBuilder, cfgs: &[RelabelConfig]) -> bool {
    cfgs.iter().all(|cfg| apply(cfg, lb))
}

fn apply(cfg: &RelabelConfig, lb: &mut LabelBuilder) -> bool {
    let val = cfg
        .source_labels
        .iter()
        .map(|n| lb.get(n))
        .collect::<Vec<_>>()
        .join(&cfg.separator);
    let re = &cfg.regex.re;
    match cfg.action {
        Action::Drop => {
            if re.is_match(&val) {
                return false;
            }
        }
        Action::Keep => {
            if !re.is_match(&val) {
                return false;
            }
        }
        Action::DropEqual => {
            if lb.get(&cfg.target_label) == val {
                return false;
            }
        }
        Action::KeepEqual => {
            if lb.get(&cfg.target_label) != val {
                return false;
            }
        }
        Action::Replace => {
            // No match, no replacement.
            if let Some(caps) = re.captures(&val) {
                let target = goregex::expand(re, &cfg.target_label, &caps);
                if validate_label_name(&target) {
                    let res = goregex::expand(re, &cfg.replacement, &caps);
                    if res.is_empty() {
                        lb.del(&target);
                    } else {
                        lb.set(&target, &res);
                    }
                }
            }
        }
        Action::Lowercase => lb.set(&cfg.target_label, &go_to_lower(&val)),
        Action::Uppercase => lb.set(&cfg.target_label, &go_to_upper(&val)),
        Action::HashMod => {
            let sum = Md5::digest(val.as_bytes());
            let tail = u64::from_be_bytes(sum[8..16].try_into().expect("8 bytes"));
            lb.set(&cfg.target_label, &(tail % cfg.modulus).to_string());
        }
        Action::LabelMap => {
            for l in lb.range() {
                if let Some(caps) = re.captures(&l.name) {
                    let res = goregex::expand(re, &cfg.replacement, &caps);
                    lb.set(&res, &l.value);
                }
            }
        }
        Action::LabelDrop => {
            for l in lb.range() {
                if re.is_match(&l.name) {
                    lb.del(&l.name);
                }
            }
        }
        Action::LabelKeep => {
            for l in lb.range() {
                if !re.is_match(&l.name) {
                    lb.del(&l.name);
                }
            }
        }
    }
    true
}

/// Go's `strings.ToLower`: Unicode simple (one-to-one) case mapping per
/// character, no context rules (a final `Σ` becomes `σ`).
fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut it = c.to_lowercase();
            match (it.next(), it.next()) {
                (Some(l), None) => l,
                // Only U+0130 has a multi-character full mapping; its
                // simple mapping is `i`.
                _ if c == '\u{130}' => 'i',
                _ => c,
            }
        })
        .collect()
}

/// Go's `strings.ToUpper`: Unicode simple case mapping per character
/// (`ß` stays `ß`).
fn go_to_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut it = c.to_uppercase();
            match (it.next(), it.next()) {
                (Some(u), None) => u,
                _ => simple_upper_of_multi(c),
            }
        })
        .collect()
}

/// Characters whose full uppercase mapping has several characters but whose
/// simple mapping is a different single character (Greek with
/// ypogegrammeni); every other such character maps to itself.
fn simple_upper_of_multi(c: char) -> char {
    let u = c as u32;
    let mapped = match u {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => u + 8,
        0x1FB3 => 0x1FBC,
        0x1FC3 => 0x1FCC,
        0x1FF3 => 0x1FFC,
        _ => u,
    };
    char::from_u32(mapped).unwrap_or(c)
}

#[cfg(test)]
#[path = "relabel_tests.rs"]
mod tests;
