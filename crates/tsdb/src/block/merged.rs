//! The union of several blocks' series, in label order, as a block writer
//! source (compaction).

use super::{BlockReader, SeriesSource};
use crate::merge::merge_stored;
use argus_model::StoredSeries;
use std::cmp::Ordering;
use std::sync::Arc;

/// The series of `blocks` merged by label set: every block's series are
/// sorted, so one k-way pass numbers the union; a merged series remembers
/// where it is in each block (8 bytes a block), not its labels.
pub struct MergedBlocks {
    blocks: Vec<Arc<BlockReader>>,
    /// (block, series in that block) of every merged series, grouped.
    at: Vec<(u32, u32)>,
    /// Start of each merged series' group in `at`, plus the end.
    starts: Vec<u32>,
}

impl std::fmt::Debug for MergedBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergedBlocks")
            .field("blocks", &self.blocks.len())
            .field("series", &self.starts.len().saturating_sub(1))
            .finish()
    }
}

impl MergedBlocks {
    pub fn new(blocks: Vec<Arc<BlockReader>>) -> Self {
        let mut next = vec![0usize; blocks.len()];
        let mut at = Vec::new();
        let mut starts = vec![0u32];
        let mut group: Vec<usize> = Vec::with_capacity(blocks.len());
        loop {
            // The smallest label set among the blocks' next series, and
            // every block holding it.
            group.clear();
            for (b, block) in blocks.iter().enumerate() {
                if next[b] >= block.num_series() {
                    continue;
                }
                let ord = match group.first() {
                    None => Ordering::Less,
                    Some(&g) => block
                        .series_label_pairs(next[b])
                        .cmp(blocks[g].series_label_pairs(next[g])),
                };
                match ord {
                    Ordering::Less => {
                        group.clear();
                        group.push(b);
                    }
                    Ordering::Equal => group.push(b),
                    Ordering::Greater => {}
                }
            }
            if group.is_empty() {
                break;
            }
            for &b in &group {
                at.push((b as u32, next[b] as u32));
                next[b] += 1;
            }
            starts.push(at.len() as u32);
        }
        MergedBlocks { blocks, at, starts }
    }

    fn group(&self, i: usize) -> &[(u32, u32)] {
        &self.at[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

impl SeriesSource for MergedBlocks {
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn label_pairs(&self, i: usize) -> impl Iterator<Item = (&str, &str)> + '_ {
        let (b, s) = self.group(i)[0];
        self.blocks[b as usize].series_label_pairs(s as usize)
    }

    /// The series' samples from every block holding it; on equal
    /// timestamps the earlier block (in `blocks` order) wins.
    fn load(&self, i: usize) -> std::io::Result<StoredSeries> {
        let runs = self
            .group(i)
            .iter()
            .map(|&(b, s)| self.blocks[b as usize].series_at(s as usize, false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(std::io::Error::other)?;
        Ok(merge_stored(runs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{write_block, Compaction, CHUNKS_FILE, INDEX_FILE};
    use argus_model::{Labels, Sample};

    fn series(name: &str, pts: &[(i64, f64)]) -> StoredSeries {
        StoredSeries {
            labels: Labels::from_pairs([("__name__", "m"), ("s", name)]),
            floats: pts.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
            histograms: vec![],
        }
    }

    fn block(dir: &std::path::Path, id: &str, s: &[StoredSeries]) -> Arc<BlockReader> {
        let d = dir.join(id);
        let meta = write_block(&d, id, 0, 100, s, Compaction::default()).unwrap();
        Arc::new(BlockReader::open(meta, &d.join(INDEX_FILE), &d.join(CHUNKS_FILE)).unwrap())
    }

    #[test]
    fn merges_series_by_label_set_in_order_first_block_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = block(
            dir.path(),
            "a",
            &[
                series("b", &[(1, 1.0), (3, 3.0)]),
                series("d", &[(1, 10.0)]),
            ],
        );
        let b = block(
            dir.path(),
            "b",
            &[
                series("a", &[(5, 5.0)]),
                series("b", &[(2, 2.0), (3, 99.0)]),
                series("c", &[(7, 7.0)]),
            ],
        );
        let c = block(dir.path(), "c", &[series("d", &[(2, 20.0)])]);
        let m = MergedBlocks::new(vec![a, b, c]);
        let names: Vec<String> = (0..m.len())
            .map(|i| m.label_pairs(i).map(|(_, v)| v.to_string()).last().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        let got = |i: usize| -> Vec<(i64, f64)> {
            m.load(i)
                .unwrap()
                .floats
                .iter()
                .map(|s| (s.t, s.v))
                .collect()
        };
        assert_eq!(got(0), [(5, 5.0)]);
        assert_eq!(got(1), [(1, 1.0), (2, 2.0), (3, 3.0)]);
        assert_eq!(got(2), [(7, 7.0)]);
        assert_eq!(got(3), [(1, 10.0), (2, 20.0)]);
    }

    #[test]
    fn no_blocks_no_series() {
        assert!(MergedBlocks::new(vec![]).is_empty());
    }
}
