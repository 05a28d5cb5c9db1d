//! [`Db`] as the store traits of `argus-store`: the API and the write
//! pipeline hold it as `Arc<dyn MetricsReader>` / `Arc<dyn MetricsWriter>`.

use crate::Db;
use argus_model::{Exemplar, Labels, Matcher, TenantId, TimeSeries};
use argus_store::{
    AppendReport, ExemplarReport, MetricMeta, MetricsReader, MetricsWriter, SeriesLimits,
    SeriesSet, StorageError,
};
use std::collections::BTreeMap;

impl MetricsReader for Db {
    fn select<'s>(
        &'s self,
        tenant: &TenantId,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Box<dyn SeriesSet + 's>, StorageError> {
        Ok(Box::new(Db::select(self, tenant, matchers, mint, maxt)))
    }

    fn series(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Labels>, StorageError> {
        Ok(Db::series(self, tenant, matcher_sets, mint, maxt)?)
    }

    fn label_names(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        Ok(Db::label_names(self, tenant, matcher_sets, mint, maxt)?)
    }

    fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        matcher_sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, StorageError> {
        Ok(Db::label_values(
            self,
            tenant,
            name,
            matcher_sets,
            mint,
            maxt,
        )?)
    }

    fn metadata(
        &self,
        tenant: &TenantId,
        metric: Option<&str>,
        limit: usize,
        limit_per_metric: usize,
    ) -> BTreeMap<String, Vec<MetricMeta>> {
        self.metadata.query(tenant, metric, limit, limit_per_metric)
    }

    fn select_exemplars(
        &self,
        tenant: &TenantId,
        matcher_sets: &[Vec<Matcher>],
        start: i64,
        end: i64,
    ) -> Result<Vec<(Labels, Vec<Exemplar>)>, StorageError> {
        Ok(Db::select_exemplars(self, tenant, matcher_sets, start, end))
    }
}

impl MetricsWriter for Db {
    fn append(
        &self,
        tenant: &TenantId,
        batch: Vec<TimeSeries>,
        limits: SeriesLimits,
    ) -> Result<AppendReport, StorageError> {
        Ok(Db::append(self, tenant, batch, limits)?)
    }

    fn record_metadata(&self, tenant: &TenantId, entries: Vec<(String, MetricMeta)>) {
        self.metadata.record(tenant, entries);
    }

    fn append_exemplars(
        &self,
        tenant: &TenantId,
        exemplars: Vec<(Labels, Exemplar)>,
    ) -> Result<ExemplarReport, StorageError> {
        Ok(Db::append_exemplars(self, tenant, exemplars)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DbOptions;
    use argus_model::{MatchOp, Sample};
    use argus_objstore::{Backend, ObjectStorage};
    use std::sync::Arc;

    /// The API and the write pipeline see the database only through the
    /// traits: an append through `MetricsWriter` is read back through
    /// `MetricsReader`, metadata included.
    #[tokio::test]
    async fn db_as_the_store_traits() {
        let dir = tempfile::tempdir().unwrap();
        let storage = ObjectStorage::new(
            Backend::Local(dir.path().join("objects")),
            dir.path().join("cache"),
        )
        .unwrap();
        let db = Arc::new(
            Db::open(DbOptions::new(dir.path().join("data")), storage)
                .await
                .unwrap(),
        );
        let (w, r): (Arc<dyn MetricsWriter>, Arc<dyn MetricsReader>) = (db.clone(), db);
        let t = TenantId::new("a").unwrap();
        let labels = Labels::from_pairs([("__name__", "m"), ("job", "x")]);
        let report = tokio::task::spawn_blocking({
            let (w, t, labels) = (w.clone(), t.clone(), labels.clone());
            move || {
                w.append(
                    &t,
                    vec![TimeSeries {
                        labels,
                        samples: vec![Sample::new(1000, 2.0)],
                        ..Default::default()
                    }],
                    SeriesLimits {
                        max_series: 10,
                        max_labels: 10,
                    },
                )
            }
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!((report.accepted, report.new_series), (1, 1));
        w.record_metadata(
            &t,
            vec![(
                "m".into(),
                MetricMeta {
                    metric_type: "gauge".into(),
                    help: "h".into(),
                    unit: String::new(),
                },
            )],
        );
        let m = [Matcher::new(MatchOp::Equal, "job", "x").unwrap()];
        let sel = r.select(&t, &m, 0, 2000).unwrap();
        assert_eq!(sel.len(), 1);
        assert_eq!(sel.labels(0), &labels);
        assert_eq!(sel.load(0).unwrap().floats, vec![Sample::new(1000, 2.0)]);
        assert_eq!(r.series(&t, &[m.to_vec()], 0, 2000).unwrap(), vec![labels]);
        assert_eq!(
            r.label_names(&t, &[], 0, 2000).unwrap(),
            vec!["__name__", "job"]
        );
        assert_eq!(r.label_values(&t, "job", &[], 0, 2000).unwrap(), vec!["x"]);
        assert_eq!(r.metadata(&t, None, 0, 0)["m"][0].metric_type, "gauge");
        assert!(r
            .series(&TenantId::new("b").unwrap(), &[], 0, 2000)
            .unwrap()
            .is_empty());
    }
}
