//! A new signal needs only `cut` and `merge` (plus its bookkeeping hooks):
//! this fake store's "segments" are text files of numbers, and the shared
//! driver cuts, uploads, compacts, expires and cleans them up after a crash
//! on the local object store.

use argus_model::TenantId;
use argus_objstore::{Backend, ObjectStorage};
use argus_segments::{
    Error, Event, Lifecycle, Policy, SegmentInfo, SegmentLayout, SegmentSource, SegmentStore,
};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

const FILES: &[&str] = &["data", "meta"];

/// In memory: timestamps not yet cut. Installed: segments with their
/// numbers (read back from object storage when installed).
struct Fake {
    storage: ObjectStorage,
    layout: SegmentLayout,
    mem: Mutex<Vec<i64>>,
    min_valid: Mutex<i64>,
    installed: Mutex<Vec<(SegmentInfo, Vec<i64>)>>,
    released: Mutex<Vec<i64>>,
    events: Mutex<Vec<String>>,
}

impl Fake {
    fn push(&self, ts: impl IntoIterator<Item = i64>) {
        let min = *self.min_valid.lock();
        self.mem.lock().extend(ts.into_iter().filter(|&t| t >= min));
    }

    fn installed(&self) -> Vec<(i64, i64, u32, Vec<i64>)> {
        self.installed
            .lock()
            .iter()
            .map(|(s, v)| (s.min_time, s.max_time, s.level, v.clone()))
            .collect()
    }
}

fn write(dir: &Path, info: &mut SegmentInfo, values: &[i64]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let data: String = values.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(dir.join("data"), &data)?;
    info.bytes = data.len() as u64;
    std::fs::write(dir.join("meta"), meta_text(info))
}

fn meta_text(s: &SegmentInfo) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        s.id,
        s.min_time,
        s.max_time,
        s.bytes,
        s.level,
        s.sources.join(","),
        s.parents.join(",")
    )
}

fn parse_meta(text: &[u8]) -> SegmentInfo {
    let text = std::str::from_utf8(text).unwrap();
    let f: Vec<&str> = text.split(' ').collect();
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    SegmentInfo {
        id: f[0].into(),
        min_time: f[1].parse().unwrap(),
        max_time: f[2].parse().unwrap(),
        bytes: f[3].parse().unwrap(),
        level: f[4].parse().unwrap(),
        sources: list(f[5]),
        parents: list(f[6]),
    }
}

impl SegmentSource for Fake {
    type Meta = SegmentInfo;
    type Error = Error;

    fn info(meta: &SegmentInfo) -> SegmentInfo {
        meta.clone()
    }

    fn segments(&self) -> Vec<SegmentInfo> {
        self.installed
            .lock()
            .iter()
            .map(|(s, _)| s.clone())
            .collect()
    }

    fn unflushed_range(&self) -> Option<(i64, i64)> {
        let mem = self.mem.lock();
        Some((*mem.iter().min()?, *mem.iter().max()?))
    }

    fn seal_before(&self, end: i64) {
        *self.min_valid.lock() = end;
    }

    fn cut(
        &self,
        dir: &Path,
        id: &str,
        start: i64,
        end: i64,
    ) -> std::io::Result<Option<SegmentInfo>> {
        let values: Vec<i64> = self
            .mem
            .lock()
            .iter()
            .copied()
            .filter(|t| (start..end).contains(t))
            .collect();
        if values.is_empty() {
            return Ok(None);
        }
        let mut info = SegmentInfo {
            id: id.into(),
            min_time: start,
            max_time: end,
            level: 1,
            sources: vec![id.into()],
            ..Default::default()
        };
        write(dir, &mut info, &values)?;
        Ok(Some(info))
    }

    fn merge(
        &self,
        dir: &Path,
        target: &SegmentInfo,
        inputs: &[SegmentInfo],
    ) -> std::io::Result<SegmentInfo> {
        let installed = self.installed.lock();
        let mut values: Vec<i64> = inputs
            .iter()
            .flat_map(|i| {
                installed
                    .iter()
                    .find(|(s, _)| s.id == i.id)
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        values.sort();
        let mut info = target.clone();
        write(dir, &mut info, &values)?;
        Ok(info)
    }

    async fn install(&self, meta: &SegmentInfo, replaces: &[SegmentInfo]) -> Result<(), Error> {
        let data = self.storage.get(&self.layout.key(&meta.id, "data")).await?;
        let values = std::str::from_utf8(&data)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let mut installed = self.installed.lock();
        installed.retain(|(s, _)| !replaces.iter().any(|r| r.id == s.id));
        installed.push((meta.clone(), values));
        installed.sort_by_key(|(s, _)| s.min_time);
        Ok(())
    }

    fn remove(&self, id: &str) {
        self.installed.lock().retain(|(s, _)| s.id != id);
    }

    async fn release(&self, end: i64) -> Result<(), Error> {
        self.mem.lock().retain(|&t| t >= end);
        self.released.lock().push(end);
        Ok(())
    }

    fn observe(&self, event: Event<'_, SegmentInfo>) {
        let e = match event {
            Event::Cut { meta, .. } => format!("cut {}..{}", meta.min_time, meta.max_time),
            Event::Compacted { meta, inputs, .. } => {
                format!(
                    "compacted {} into {}..{}",
                    inputs.len(),
                    meta.min_time,
                    meta.max_time
                )
            }
            Event::Expired { segment } => {
                format!("expired {}..{}", segment.min_time, segment.max_time)
            }
            Event::UploadFailed => "upload failed".into(),
        };
        self.events.lock().push(e);
    }
}

/// The ids of the segments in the object store.
async fn stored(storage: &ObjectStorage, layout: &SegmentLayout) -> Vec<SegmentInfo> {
    let mut out = Vec::new();
    for id in storage.list_dirs(&layout.prefix).await.unwrap() {
        if let Ok(m) = storage.get(&layout.key(&id, "meta")).await {
            out.push(parse_meta(&m));
        }
    }
    out.sort_by_key(|s| s.min_time);
    out
}

#[tokio::test]
async fn a_new_signal_supplies_only_cut_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let storage = ObjectStorage::new(
        Backend::Local(dir.path().join("objects")),
        dir.path().join("cache"),
    )
    .unwrap();
    let layout = SegmentLayout {
        tenant: TenantId::new("t").unwrap(),
        prefix: "tenants/t/fake/segments/".into(),
        files: FILES,
        staging: dir.path().join("staging/t"),
    };
    let fake = Arc::new(Fake {
        storage: storage.clone(),
        layout: layout.clone(),
        mem: Mutex::default(),
        min_valid: Mutex::new(i64::MIN),
        installed: Mutex::default(),
        released: Mutex::default(),
        events: Mutex::default(),
    });
    let mut policy = Policy {
        range_ms: 10,
        compaction_ranges: vec![10, 30],
        retention_ms: 0,
        retention_bytes: 0,
        size_tiered: false,
    };
    let lc = Lifecycle::new(
        fake.clone(),
        SegmentStore::new(storage.clone(), layout.clone()),
        policy.clone(),
    );

    // Cut: data spanning 0..=35 yields [0, 10) and [10, 20) (1.5 ranges stay
    // in memory); the [0, 30) window is not complete yet.
    fake.push(0..=35);
    lc.maintain(100).await;
    assert_eq!(
        fake.installed(),
        vec![
            (0, 10, 1, (0..10).collect()),
            (10, 20, 1, (10..20).collect())
        ]
    );
    assert_eq!(*fake.released.lock(), vec![10, 20]);
    assert_eq!(*fake.min_valid.lock(), 20);
    assert_eq!(stored(&storage, &layout).await, fake.segments());
    assert!(
        !layout.staging.join(&fake.segments()[0].id).exists(),
        "staging removed after upload"
    );

    // Compaction: once a segment reaches 40, the three in [0, 30) merge.
    fake.push(36..=50);
    lc.maintain(100).await;
    assert_eq!(
        fake.installed(),
        vec![
            (0, 30, 2, (0..30).collect()),
            (30, 40, 1, (30..40).collect())
        ]
    );
    let segs = fake.segments();
    assert_eq!(segs[0].parents.len(), 3);
    assert_eq!(segs[0].sources, segs[0].parents);
    assert_eq!(stored(&storage, &layout).await, segs);
    assert_eq!(*fake.mem.lock(), (40..=50).collect::<Vec<_>>());

    // Retention by time: at 100, with 65 ms, the merged segment (ends at 30) goes.
    policy.retention_ms = 65;
    let lc = Lifecycle::new(
        fake.clone(),
        SegmentStore::new(storage.clone(), layout.clone()),
        policy,
    );
    lc.apply_retention(100).await.unwrap();
    assert_eq!(fake.installed(), vec![(30, 40, 1, (30..40).collect())]);
    assert_eq!(stored(&storage, &layout).await, fake.segments());

    // A forced cut (flush) takes what is left, range by range.
    lc.cut(true).await.unwrap();
    let installed = fake.installed();
    assert_eq!(installed[1], (40, 50, 1, (40..50).collect()));
    assert_eq!(installed[2], (50, 51, 1, vec![50]));
    assert!(fake.mem.lock().is_empty());
    assert_eq!(
        *fake.events.lock(),
        vec![
            "cut 0..10",
            "cut 10..20",
            "cut 20..30",
            "cut 30..40",
            "compacted 3 into 0..30",
            "expired 0..30",
            "cut 40..50",
            "cut 50..51"
        ]
    );

    // Crash clean-up: an incomplete segment (no meta file), a segment that a
    // compacted one replaced, a stale staging directory.
    let kept = stored(&storage, &layout).await;
    storage
        .put(&layout.key("INCOMPLETE", "data"), "1\n".into())
        .await
        .unwrap();
    let parent = SegmentInfo {
        id: "PARENT".into(),
        min_time: 0,
        max_time: 10,
        level: 1,
        ..Default::default()
    };
    let child = SegmentInfo {
        id: "CHILD".into(),
        min_time: 0,
        max_time: 10,
        level: 2,
        parents: vec!["PARENT".into()],
        ..Default::default()
    };
    for s in [&parent, &child] {
        storage
            .put(&layout.key(&s.id, "data"), "".into())
            .await
            .unwrap();
        storage
            .put(&layout.key(&s.id, "meta"), meta_text(s).into())
            .await
            .unwrap();
    }
    std::fs::create_dir_all(layout.staging_dir("CRASHED")).unwrap();

    let store = SegmentStore::new(storage.clone(), layout.clone());
    let complete: Vec<SegmentInfo> = store
        .load_complete()
        .await
        .unwrap()
        .iter()
        .map(|(_, m)| parse_meta(m))
        .collect();
    assert!(!layout.staging.exists(), "stale staging removed");
    assert_eq!(complete.len(), kept.len() + 2);
    let gone = store.delete_superseded(&complete).await.unwrap();
    assert_eq!(
        gone.into_iter().collect::<Vec<_>>(),
        vec!["PARENT".to_string()]
    );
    let mut after = kept.clone();
    after.push(child);
    after.sort_by_key(|s| s.min_time);
    assert_eq!(stored(&storage, &layout).await, after);
    let ids = storage.list_dirs(&layout.prefix).await.unwrap();
    assert!(
        !ids.contains(&"INCOMPLETE".to_string()) && !ids.contains(&"PARENT".to_string()),
        "{ids:?}"
    );
}
