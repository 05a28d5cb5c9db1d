//! Reading the head: selections by matchers (with samples now or later),
//! label sets, and the series of a block range.

use super::*;

impl Head {
    /// Series matching `matchers` with samples in [mint, maxt], in id
    /// (creation) order, their `labels` left empty: a caller merging
    /// several sources builds the label set once per series it keeps.
    pub fn select_raw(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Vec<(Arc<MemSeries>, StoredSeries)> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let ids = postings::select(&*self.index.read(), matchers);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter_map(|s| Some((s.clone(), series_samples(s, mint, maxt)?)))
            .collect()
    }

    /// Series matching `matchers` with data in [mint, maxt], in id
    /// (creation) order, their samples not read (see [`Head::series_samples`]).
    pub fn select_lazy(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Arc<MemSeries>> {
        if !self.overlaps(mint, maxt) {
            return Vec::new();
        }
        let ids = postings::select(&*self.index.read(), matchers);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .cloned()
            .collect()
    }

    /// One series' samples in [mint, maxt], labels left empty.
    pub fn series_samples_unlabelled(s: &MemSeries, mint: i64, maxt: i64) -> StoredSeries {
        series_samples(s, mint, maxt).unwrap_or_default()
    }

    /// Label sets of series matching `matchers` with data in [mint, maxt]
    /// (all series when `matchers` is empty).
    pub fn series_labels(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Labels> {
        let index = self.index.read();
        let ids = if matchers.is_empty() {
            index.all_postings()
        } else {
            postings::select(&*index, matchers)
        };
        drop(index);
        let map = self.series.read();
        ids.into_iter()
            .filter_map(|id| map.by_id.get(&id))
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .map(|s| s.labels())
            .collect()
    }

    /// Series with data in [mint, maxt], sorted by labels; their samples
    /// are read later, one series at a time ([`Head::series_samples`]).
    pub fn series_in_range(&self, mint: i64, maxt: i64) -> Vec<Arc<MemSeries>> {
        let map = self.series.read();
        let mut out: Vec<Arc<MemSeries>> = map
            .by_id
            .values()
            .filter(|s| s.data.lock().has_data(mint, maxt))
            .cloned()
            .collect();
        drop(map);
        // Compared packed: unpacking every label set to sort would hold a
        // copy of all of them.
        out.sort_unstable_by(|a, b| a.labels.iter().cmp(b.labels.iter()));
        out
    }

    /// One series' samples in [mint, maxt] (empty when it has none).
    pub fn series_samples(s: &MemSeries, mint: i64, maxt: i64) -> StoredSeries {
        let mut out = series_samples(s, mint, maxt).unwrap_or_default();
        out.labels = s.labels();
        out
    }

    pub fn label_names(&self) -> Vec<String> {
        self.index
            .read()
            .label_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}
