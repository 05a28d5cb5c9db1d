use serde::{Deserialize, Serialize};

pub const META_VERSION: u32 = 1;

/// `meta.json` of a block. Written last: a block without it is incomplete.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    pub version: u32,
    pub id: String,
    /// Inclusive lower bound of sample timestamps (ms).
    pub min_time: i64,
    /// Exclusive upper bound of sample timestamps (ms), as in Prometheus.
    pub max_time: i64,
    pub stats: BlockStats,
    pub compaction: Compaction,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    pub num_series: u64,
    pub num_samples: u64,
    pub num_chunks: u64,
    /// Sum of index and chunks file sizes.
    #[serde(default)]
    pub num_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Compaction {
    pub level: u32,
    /// Ids of the level-1 blocks this block contains (itself for level 1).
    pub sources: Vec<String>,
    /// Ids of the blocks merged into this one.
    #[serde(default)]
    pub parents: Vec<String>,
}

impl BlockMeta {
    /// What the shared segment lifecycle knows of this block.
    pub fn segment_info(&self) -> argus_segments::SegmentInfo {
        argus_segments::SegmentInfo {
            id: self.id.clone(),
            min_time: self.min_time,
            max_time: self.max_time,
            bytes: self.stats.num_bytes,
            level: self.compaction.level,
            sources: self.compaction.sources.clone(),
            parents: self.compaction.parents.clone(),
        }
    }
}

/// A new block id: sortable by creation time (12 hex digits of ms) plus 14
/// hex digits of entropy ([`argus_segments::new_id`]).
pub fn new_block_id() -> String {
    argus_segments::new_id()
}
