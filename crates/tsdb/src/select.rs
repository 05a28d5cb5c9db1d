//! Query selections: the series a selector matches, found at once, their
//! samples read one series at a time ([`Selection::load`]).
//!
//! A selection holds, per series, its label set and where its versions are
//! (a block's series number, a head series), not its samples: block chunks
//! are read from disk and head chunks decoded when the engine loads the
//! series, and dropped when it is done with it. So a query over many long
//! series holds one series' raw samples at a time instead of all of them.

use crate::block::BlockReader;
use crate::head::idmap::NumMap;
use crate::head::{Head, MemSeries};
use crate::merge::merge_stored;
use crate::tenant::TenantDb;
use crate::DbError;
use argus_model::{Labels, Matcher, StoredSeries};
use std::collections::hash_map::Entry;
use std::sync::Arc;

/// Where one version of a series is.
enum Version {
    /// Series number in `Selection::blocks[block]`.
    Block(u32, u32),
    Head(Arc<MemSeries>),
}

struct Selected {
    labels: Arc<Labels>,
    /// Oldest source first (blocks by min time, then the head): the first
    /// version that has a timestamp wins it.
    versions: Vec<Version>,
}

/// The series matching a selector in [mint, maxt], each once, head and
/// blocks joined; samples are read by [`Selection::load`]. Series come as
/// [`crate::Db::select_series`] returns them: blocks' series first in label
/// order, then series only in the head in creation order.
pub struct Selection {
    tdb: Option<Arc<TenantDb>>,
    blocks: Vec<Arc<BlockReader>>,
    series: Vec<Selected>,
    mint: i64,
    maxt: i64,
    /// The head's [`Head::truncations`] when the selection was made.
    truncations: u64,
}

impl std::fmt::Debug for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selection")
            .field("blocks", &self.blocks.len())
            .field("series", &self.series.len())
            .field("mint", &self.mint)
            .field("maxt", &self.maxt)
            .finish_non_exhaustive()
    }
}

impl Selection {
    pub(crate) fn empty() -> Selection {
        Selection {
            tdb: None,
            blocks: Vec::new(),
            series: Vec::new(),
            mint: 0,
            maxt: -1,
            truncations: 0,
        }
    }

    pub(crate) fn new(tdb: Arc<TenantDb>, matchers: &[Matcher], mint: i64, maxt: i64) -> Selection {
        // A cut publishes its block, then truncates the head. The block list
        // and the head are read between two readings of the truncation
        // count; if a truncation fell between them, a series whose range
        // moved into a block this list lacks could be missing from both
        // reads, so the selection is made again (cuts are hours apart). A
        // truncation after this is seen by `load`.
        let (truncations, blocks, head) = loop {
            let truncations = tdb.head.truncations();
            let blocks: Vec<Arc<BlockReader>> = tdb
                .blocks()
                .into_iter()
                .filter(|b| b.meta.max_time > mint && b.meta.min_time <= maxt)
                .collect();
            let head = tdb.head.select_lazy(matchers, mint, maxt);
            if tdb.head.truncations() == truncations {
                break (truncations, blocks, head);
            }
        };
        let mut found: Vec<Version> = Vec::new();
        let mut sources = 0;
        for (bi, b) in blocks.iter().enumerate() {
            let ids = b.select_ids(matchers, mint, maxt);
            sources += usize::from(!ids.is_empty());
            found.extend(ids.into_iter().map(|i| Version::Block(bi as u32, i)));
        }
        sources += usize::from(!head.is_empty());
        found.extend(head.into_iter().map(Version::Head));
        let groups: Vec<Vec<Version>> = if sources > 1 {
            join_versions(&blocks, found)
        } else {
            found.into_iter().map(|v| vec![v]).collect()
        };
        let series = groups
            .into_iter()
            .map(|versions| Selected {
                labels: Arc::new(labels_of(&blocks, &versions[0])),
                versions,
            })
            .collect();
        Selection {
            tdb: Some(tdb),
            blocks,
            series,
            mint,
            maxt,
            truncations,
        }
    }

    /// How many series were selected (some may turn out to have no samples
    /// in the range: a chunk overlapping it need not hold one).
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Series `i`'s label set.
    pub fn labels(&self, i: usize) -> &Labels {
        &self.series[i].labels
    }

    /// Series `i`'s float and histogram samples in the selection's range,
    /// its versions merged (the oldest source wins a timestamp); `labels`
    /// left empty. Reads block chunks from disk and decodes head chunks now.
    ///
    /// If the head was truncated since the selection was made, the samples
    /// read from it may have moved to a block cut since: that block's
    /// version of the series is read too.
    pub fn load(&self, i: usize) -> Result<StoredSeries, DbError> {
        let s = &self.series[i];
        let mut runs: Vec<StoredSeries> = Vec::with_capacity(s.versions.len());
        for v in &s.versions {
            runs.push(match v {
                Version::Block(b, id) => {
                    self.blocks[*b as usize].series_samples(*id, self.mint, self.maxt)?
                }
                Version::Head(m) => Head::series_samples_unlabelled(m, self.mint, self.maxt),
            });
        }
        if let Some(tdb) = &self.tdb {
            if tdb.head.truncations() != self.truncations {
                runs.extend(self.in_new_blocks(tdb, &s.labels)?);
            }
        }
        Ok(if runs.len() == 1 {
            runs.pop().unwrap_or_default()
        } else {
            merge_stored(runs)
        })
    }

    /// The versions of the series labelled `labels` in blocks that were not
    /// there when the selection was made.
    fn in_new_blocks(&self, tdb: &TenantDb, labels: &Labels) -> Result<Vec<StoredSeries>, DbError> {
        let eq: Vec<Matcher> = labels
            .iter()
            .map(|l| Matcher::equal(l.name.clone(), l.value.clone()))
            .collect();
        let mut out = Vec::new();
        for b in tdb.blocks() {
            if b.meta.max_time <= self.mint
                || b.meta.min_time > self.maxt
                || self.blocks.iter().any(|k| k.meta.id == b.meta.id)
            {
                continue;
            }
            for id in b.select_ids(&eq, self.mint, self.maxt) {
                let same = b
                    .series_label_pairs(id as usize)
                    .eq(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())));
                if same {
                    out.push(b.series_samples(id, self.mint, self.maxt)?);
                }
            }
        }
        Ok(out)
    }
}

fn labels_of(blocks: &[Arc<BlockReader>], v: &Version) -> Labels {
    match v {
        Version::Block(b, i) => blocks[*b as usize].series_labels_at(*i),
        Version::Head(m) => m.labels(),
    }
}

fn hash_of(blocks: &[Arc<BlockReader>], v: &Version) -> u64 {
    match v {
        Version::Block(b, i) => blocks[*b as usize].series_hash(*i),
        Version::Head(m) => m.hash,
    }
}

fn same_labels(blocks: &[Arc<BlockReader>], a: &Version, b: &Version) -> bool {
    match (a, b) {
        (Version::Block(x, i), Version::Block(y, j)) => blocks[*x as usize]
            .series_label_pairs(*i as usize)
            .eq(blocks[*y as usize].series_label_pairs(*j as usize)),
        (Version::Block(x, i), Version::Head(m)) | (Version::Head(m), Version::Block(x, i)) => {
            blocks[*x as usize]
                .series_label_pairs(*i as usize)
                .eq(m.labels.iter())
        }
        (Version::Head(a), Version::Head(b)) => a.labels == b.labels,
    }
}

/// Groups the versions of each series (equal label sets), in the order of
/// each series' first version. Versions are joined by the label hash each
/// source keeps (a block computes it when opened, a head series when
/// created), equal hashes checked against the label text.
fn join_versions(blocks: &[Arc<BlockReader>], found: Vec<Version>) -> Vec<Vec<Version>> {
    let mut out: Vec<Vec<Version>> = Vec::with_capacity(found.len());
    let mut by_hash: NumMap<u64, usize> =
        NumMap::with_capacity_and_hasher(found.len(), Default::default());
    // Series whose hash an earlier, different label set already holds.
    let mut collided: Vec<usize> = Vec::new();
    for v in found {
        let h = hash_of(blocks, &v);
        let at = match by_hash.entry(h) {
            Entry::Vacant(e) => {
                e.insert(out.len());
                None
            }
            Entry::Occupied(e) if same_labels(blocks, &out[*e.get()][0], &v) => Some(*e.get()),
            Entry::Occupied(_) => {
                let hit = collided.iter().copied().find(|&j| {
                    hash_of(blocks, &out[j][0]) == h && same_labels(blocks, &out[j][0], &v)
                });
                if hit.is_none() {
                    collided.push(out.len());
                }
                hit
            }
        };
        match at {
            Some(i) => out[i].push(v),
            None => out.push(vec![v]),
        }
    }
    out
}

impl argus_store::SeriesSet for Selection {
    fn len(&self) -> usize {
        Selection::len(self)
    }

    fn labels(&self, i: usize) -> &Labels {
        Selection::labels(self, i)
    }

    fn shared_labels(&self, i: usize) -> Arc<Labels> {
        self.series[i].labels.clone()
    }

    fn load(&self, i: usize) -> Result<StoredSeries, argus_store::StorageError> {
        Ok(Selection::load(self, i)?)
    }
}
