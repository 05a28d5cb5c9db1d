//! A traces segment's `meta.json` and an installed segment.

use super::SegmentIndex;
use argus_model::traces::{Span, StatusCode};
use argus_segments::tenants::FlushWindow;
use argus_segments::SegmentInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const META_FILE: &str = "meta.json";
pub const META_VERSION: u32 = 1;

/// A segment keeps at most this many distinct span names in its stats;
/// with more it keeps none (and a search by name reads it).
pub const MAX_STAT_NAMES: usize = 1000;

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeta {
    pub version: u32,
    pub id: String,
    /// Arrival of its spans (ms): the first, inclusive; the last + 1,
    /// exclusive. Flushes cut, compaction merges and retention drops by it.
    pub min_time: i64,
    pub max_time: i64,
    pub bytes: u64,
    pub level: u32,
    pub sources: Vec<String>,
    pub parents: Vec<String>,
    pub spans: u64,
    pub traces: u64,
    /// Bytes of the spans ([`crate::head::span_bytes`]) before compression.
    pub raw_bytes: u64,
    pub flushes: Vec<FlushWindow>,
    pub stats: SpanStats,
}

/// What a search checks before reading a segment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanStats {
    /// Earliest span start and latest span end (ns).
    pub min_start_ns: i64,
    pub max_end_ns: i64,
    pub min_duration_ns: u64,
    pub max_duration_ns: u64,
    /// Every `service.name`, sorted.
    pub services: Vec<String>,
    /// Every span name, sorted; `None` when there are more than
    /// [`MAX_STAT_NAMES`].
    pub names: Option<Vec<String>>,
    pub error_spans: u64,
}

impl SpanStats {
    /// The stats of `spans` (not empty).
    pub fn of<'a>(spans: impl IntoIterator<Item = &'a Span>) -> SpanStats {
        let mut st = SpanStats {
            min_start_ns: i64::MAX,
            max_end_ns: i64::MIN,
            min_duration_ns: u64::MAX,
            ..SpanStats::default()
        };
        let mut services = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut too_many = false;
        for s in spans {
            st.min_start_ns = st.min_start_ns.min(s.start_ns);
            st.max_end_ns = st.max_end_ns.max(s.end_ns);
            let d = s.duration_ns();
            st.min_duration_ns = st.min_duration_ns.min(d);
            st.max_duration_ns = st.max_duration_ns.max(d);
            if !services.contains(s.origin.service.as_str()) {
                services.insert(s.origin.service.clone());
            }
            if !too_many && !names.contains(s.name.as_str()) {
                names.insert(s.name.clone());
                too_many = names.len() > MAX_STAT_NAMES;
            }
            st.error_spans += u64::from(s.status == StatusCode::Error);
        }
        st.services = services.into_iter().collect();
        st.names = (!too_many).then(|| names.into_iter().collect());
        st
    }

    /// The stats of segments merged.
    pub fn merge<'a>(all: impl IntoIterator<Item = &'a SpanStats>) -> SpanStats {
        let mut st = SpanStats {
            min_start_ns: i64::MAX,
            max_end_ns: i64::MIN,
            min_duration_ns: u64::MAX,
            ..SpanStats::default()
        };
        let mut services = BTreeSet::new();
        let mut names = Some(BTreeSet::new());
        for s in all {
            st.min_start_ns = st.min_start_ns.min(s.min_start_ns);
            st.max_end_ns = st.max_end_ns.max(s.max_end_ns);
            st.min_duration_ns = st.min_duration_ns.min(s.min_duration_ns);
            st.max_duration_ns = st.max_duration_ns.max(s.max_duration_ns);
            services.extend(s.services.iter().cloned());
            names = match (names, &s.names) {
                (Some(mut n), Some(more)) => {
                    n.extend(more.iter().cloned());
                    (n.len() <= MAX_STAT_NAMES).then_some(n)
                }
                _ => None,
            };
            st.error_spans += s.error_spans;
        }
        st.services = services.into_iter().collect();
        st.names = names.map(|n| n.into_iter().collect());
        st
    }
}

impl argus_segments::tenants::SegmentMeta for SegmentMeta {
    fn info(&self) -> SegmentInfo {
        SegmentInfo {
            id: self.id.clone(),
            min_time: self.min_time,
            max_time: self.max_time,
            bytes: self.bytes,
            level: self.level,
            sources: self.sources.clone(),
            parents: self.parents.clone(),
        }
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn time_range(&self) -> (i64, i64) {
        (self.min_time, self.max_time)
    }
    fn flushes(&self) -> &[FlushWindow] {
        &self.flushes
    }
    fn items(&self) -> u64 {
        self.spans
    }
}

/// An installed segment: its meta, its index (in memory), its data file
/// (local).
#[derive(Debug)]
pub struct Segment {
    pub meta: SegmentMeta,
    pub index: SegmentIndex,
    pub data: super::DataFile,
}

impl argus_segments::tenants::Installed for Segment {
    type Meta = SegmentMeta;
    fn meta(&self) -> &SegmentMeta {
        &self.meta
    }
}
