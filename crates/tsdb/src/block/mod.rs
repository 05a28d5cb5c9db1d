//! Immutable blocks: all samples of a tenant for a time range, as an
//! `index` file and a `chunks` file plus `meta.json`. Format in
//! `docs/format/block.md`.

mod merged;
mod meta;
pub(crate) mod reader;
pub(crate) mod writer;

pub use merged::MergedBlocks;
pub use meta::{new_block_id, BlockMeta, BlockStats, Compaction, META_VERSION};
pub use reader::BlockReader;
pub use writer::{write_block, write_block_from, SeriesSource};

pub const INDEX_MAGIC: u32 = 0x4152_4749; // "ARGI"
pub const CHUNKS_MAGIC: u32 = 0x4152_4743; // "ARGC"
/// Version written; readers accept 1 (XOR float chunks only), 2 (XOR and
/// histogram chunks) and 3 (compact float chunks and histogram chunks).
pub const FORMAT_VERSION: u8 = 3;
/// Samples per histogram chunk in a block (head chunks hold 120).
pub const BLOCK_CHUNK_SAMPLES: usize = 240;
/// Samples per compact float chunk in a block at most…
pub const BLOCK_FLOAT_CHUNK_SAMPLES: usize = 4096;
/// …and the time a compact float chunk spans at most (ms): a query decodes
/// whole chunks, so chunks stay small next to a query range.
pub const BLOCK_FLOAT_CHUNK_SPAN_MS: i64 = 2 * 3600 * 1000;

pub const META_FILE: &str = "meta.json";
pub const INDEX_FILE: &str = "index";
pub const CHUNKS_FILE: &str = "chunks";

#[cfg(test)]
mod tests {
    #[test]
    fn documented_magics_match_the_code() {
        let doc = include_str!("../../../../docs/format/block.md");
        assert!(doc.contains(&format!("magic(0x{:08X})", super::INDEX_MAGIC)));
        assert!(doc.contains(&format!("magic(0x{:08X})", super::CHUNKS_MAGIC)));
        assert!(doc.contains(&format!("version({})", super::FORMAT_VERSION)));
        assert!(doc.contains(&format!("\"version\": {}", super::META_VERSION)));
    }
}
