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

/// A new block id: sortable by creation time (12 hex digits of ms) plus 14
/// hex digits of entropy.
pub fn new_block_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut x = now.as_nanos() as u64
        ^ (std::process::id() as u64) << 32
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    format!(
        "{:012X}{:014X}",
        now.as_millis() as u64 & 0xFFFF_FFFF_FFFF,
        x & 0x00FF_FFFF_FFFF_FFFF
    )
}
