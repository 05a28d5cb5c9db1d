//! The lifecycle's decisions, as pure functions over [`SegmentInfo`]s (the
//! rules of Prometheus's head compaction and leveled compactor planner).

use crate::SegmentInfo;
use std::collections::{BTreeMap, BTreeSet};

/// The next range `[start, end)` to cut from in-memory data spanning
/// `unflushed` (min and max timestamp, inclusive), or `None`.
///
/// Ranges are aligned to `range`. A range is cut once the data spans more
/// than 1.5 ranges (as Prometheus does), so the head keeps half a range for
/// late samples; when `force`, every range with data is cut, the last one
/// ending just after the newest sample.
pub fn cut_due(unflushed: Option<(i64, i64)>, range: i64, force: bool) -> Option<(i64, i64)> {
    let (mint, maxt) = unflushed?;
    let start = mint.div_euclid(range) * range;
    let end = start + range;
    let due = if force {
        maxt >= end || mint <= maxt
    } else {
        maxt - mint > range / 2 * 3
    };
    if !due {
        return None;
    }
    let end = if force && maxt < end { maxt + 1 } else { end };
    Some((start, end))
}

/// Segments to merge into one, and the aligned window they fall in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub start: i64,
    pub end: i64,
    /// In the order they were given (oldest first).
    pub sources: Vec<SegmentInfo>,
}

impl Plan {
    /// The description of the merged segment `id`: it spans its sources,
    /// its level is one more than theirs, it contains their sources and
    /// names them as parents (what start-up clean-up reads).
    pub fn merged(&self, id: &str) -> SegmentInfo {
        SegmentInfo {
            id: id.to_string(),
            min_time: self
                .sources
                .iter()
                .map(|s| s.min_time)
                .min()
                .unwrap_or(self.start),
            max_time: self
                .sources
                .iter()
                .map(|s| s.max_time)
                .max()
                .unwrap_or(self.end),
            bytes: 0,
            level: self.sources.iter().map(|s| s.level).max().unwrap_or(1) + 1,
            sources: self
                .sources
                .iter()
                .flat_map(|s| s.sources.iter().cloned())
                .collect(),
            parents: self.sources.iter().map(|s| s.id.clone()).collect(),
        }
    }
}

/// The next compaction: for each range of `ranges` after the first (the
/// first is the cut range), segments shorter than the range that lie in one
/// aligned window of it are merged once there are two or more and the
/// window is complete (the newest segment ends at or after the window's
/// end). Smaller ranges first, then the oldest window.
pub fn plan_compaction(segments: &[SegmentInfo], ranges: &[i64]) -> Option<Plan> {
    plan(segments, ranges, false)
}

/// [`plan_compaction`], size-tiered within a window: a window's largest
/// segment is left out while it holds more than twice the bytes of the
/// window's other segments together, and the rest are merged if two or
/// more remain. So segments of comparable sizes merge as
/// [`plan_compaction`] merges them, but a window that keeps receiving small
/// segments (a backfill, or late lines, whose flushes each add a slice to a
/// window compacted already) does not rewrite its big segment for each:
/// the small ones wait, or merge among themselves, until they are half as
/// big, so the big one is rewritten once it has grown by half, not once
/// per new segment.
pub fn plan_compaction_tiered(segments: &[SegmentInfo], ranges: &[i64]) -> Option<Plan> {
    plan(segments, ranges, true)
}

/// `sources` without, while it is more than twice as big as the others
/// together, the biggest.
fn tiered(mut sources: Vec<SegmentInfo>) -> Vec<SegmentInfo> {
    loop {
        let total: u64 = sources.iter().map(|s| s.bytes).sum();
        let Some((i, big)) = sources.iter().enumerate().max_by_key(|(_, s)| s.bytes) else {
            return sources;
        };
        if big.bytes <= 2 * (total - big.bytes) {
            return sources;
        }
        sources.remove(i);
    }
}

fn plan(segments: &[SegmentInfo], ranges: &[i64], size_tiered: bool) -> Option<Plan> {
    let newest = segments.iter().map(|s| s.max_time).max()?;
    for &r in ranges.iter().skip(1) {
        let mut windows: BTreeMap<i64, Vec<SegmentInfo>> = BTreeMap::new();
        for s in segments {
            let w = s.min_time.div_euclid(r) * r;
            if s.max_time <= w + r && s.max_time - s.min_time < r {
                windows.entry(w).or_default().push(s.clone());
            }
        }
        for (w, sources) in windows {
            let sources = if size_tiered && newest >= w + r {
                tiered(sources)
            } else {
                sources
            };
            if sources.len() >= 2 && newest >= w + r {
                return Some(Plan {
                    start: w,
                    end: w + r,
                    sources,
                });
            }
        }
    }
    None
}

/// Segments to delete, in order: those entirely older than `retention_ms`
/// before `now` (0 = no time limit), then the oldest of the rest (in the
/// order given) while their total bytes exceed `retention_bytes` (0 = no
/// size limit).
pub fn retention(
    segments: &[SegmentInfo],
    now: i64,
    retention_ms: i64,
    retention_bytes: u64,
) -> Vec<SegmentInfo> {
    let mut doomed: Vec<SegmentInfo> = Vec::new();
    if retention_ms > 0 {
        doomed.extend(
            segments
                .iter()
                .filter(|s| s.max_time <= now - retention_ms)
                .cloned(),
        );
    }
    if retention_bytes > 0 {
        let is_doomed =
            |doomed: &[SegmentInfo], s: &SegmentInfo| doomed.iter().any(|d| d.id == s.id);
        let mut total: u64 = segments
            .iter()
            .filter(|s| !is_doomed(&doomed, s))
            .map(|s| s.bytes)
            .sum();
        for s in segments {
            if total <= retention_bytes {
                break;
            }
            if !is_doomed(&doomed, s) {
                total -= s.bytes;
                doomed.push(s.clone());
            }
        }
    }
    doomed
}

/// Ids of complete segments that another complete segment names as a
/// parent: compacted away, but a crash came before they were deleted.
pub fn superseded(segments: &[SegmentInfo]) -> BTreeSet<String> {
    let parents: BTreeSet<&str> = segments
        .iter()
        .flat_map(|s| s.parents.iter().map(String::as_str))
        .collect();
    segments
        .iter()
        .filter(|s| parents.contains(s.id.as_str()))
        .map(|s| s.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn seg(id: &str, min_time: i64, max_time: i64, bytes: u64) -> SegmentInfo {
        SegmentInfo {
            id: id.into(),
            min_time,
            max_time,
            bytes,
            level: 1,
            sources: vec![id.into()],
            parents: vec![],
        }
    }

    #[test]
    fn cut_waits_for_one_and_a_half_ranges() {
        let r = 2 * H;
        assert_eq!(cut_due(None, r, false), None);
        assert_eq!(cut_due(Some((0, 3 * H)), r, false), None);
        assert_eq!(cut_due(Some((H, 4 * H + 1)), r, false), Some((0, r)));
        // Negative timestamps align downwards.
        assert_eq!(cut_due(Some((-1, 3 * H)), r, false), Some((-r, 0)));
    }

    #[test]
    fn forced_cut_takes_every_range_with_data() {
        let r = 2 * H;
        assert_eq!(cut_due(Some((10, 10)), r, true), Some((0, 11)));
        assert_eq!(cut_due(Some((10, 3 * H)), r, true), Some((0, r)));
        assert_eq!(cut_due(Some((r, 3 * H)), r, true), Some((r, 3 * H + 1)));
    }

    #[test]
    fn compaction_merges_a_complete_window() {
        let ranges = [2 * H, 6 * H, 24 * H];
        let a = seg("a", 0, 2 * H, 1);
        let b = seg("b", 2 * H, 4 * H, 1);
        // The 6h window [0, 6h) is not complete while the newest ends at 4h.
        assert_eq!(plan_compaction(&[a.clone(), b.clone()], &ranges), None);
        let c = seg("c", 6 * H, 8 * H, 1);
        let plan = plan_compaction(&[a.clone(), b.clone(), c.clone()], &ranges).unwrap();
        assert_eq!((plan.start, plan.end), (0, 6 * H));
        assert_eq!(plan.sources, vec![a.clone(), b.clone()]);
        let m = plan.merged("m");
        assert_eq!((m.min_time, m.max_time, m.level), (0, 4 * H, 2));
        assert_eq!(m.sources, vec!["a", "b"]);
        assert_eq!(m.parents, vec!["a", "b"]);
        // A lone segment in a window is left alone.
        assert_eq!(plan_compaction(&[a, c], &ranges), None);
        assert_eq!(plan_compaction(&[], &ranges), None);
    }

    #[test]
    fn compaction_prefers_smaller_ranges_then_older_windows() {
        let ranges = [2 * H, 6 * H, 24 * H];
        let segs = [
            seg("big1", 0, 6 * H, 1),
            seg("big2", 6 * H, 12 * H, 1),
            seg("s1", 24 * H, 26 * H, 1),
            seg("s2", 26 * H, 28 * H, 1),
            seg("s3", 30 * H, 32 * H, 1),
        ];
        let plan = plan_compaction(&segs, &ranges).unwrap();
        assert_eq!(plan.start, 24 * H);
        assert_eq!(plan.sources.len(), 2);
        // The 24h window [0, 24h) is not complete: the newest ends at 12h.
        assert_eq!(plan_compaction(&segs[..2], &ranges), None);
    }

    #[test]
    fn tiered_compaction_leaves_a_big_segment_until_the_rest_are_as_big() {
        let ranges = [H, 4 * H, 24 * H];
        let next = seg("next", 4 * H, 5 * H, 1);
        let plan = |segs: &[SegmentInfo]| {
            plan_compaction_tiered(segs, &ranges).map(|p| {
                p.sources
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        // Segments of about one size: merged as plan_compaction merges them.
        let even = [
            seg("a", 0, H, 3),
            seg("b", H, 2 * H, 2),
            seg("c", 2 * H, 3 * H, 4),
            next.clone(),
        ];
        assert_eq!(plan(&even).as_deref(), Some("a,b,c"));
        // A big merged segment and small newcomers: the small ones first.
        let big = seg("big", 0, 3 * H + 1, 20);
        let one = [big.clone(), seg("s1", H, 2 * H, 1), next.clone()];
        assert_eq!(plan(&one), None);
        let two = [
            big.clone(),
            seg("s1", H, 2 * H, 1),
            seg("s2", 2 * H, 3 * H, 2),
            next.clone(),
        ];
        assert_eq!(plan(&two).as_deref(), Some("s1,s2"));
        // ... and all of them once the rest are half as big as it.
        let even_out = [
            big,
            seg("s1", H, 2 * H, 4),
            seg("s2", 2 * H, 3 * H, 6),
            next,
        ];
        assert_eq!(plan(&even_out).as_deref(), Some("big,s1,s2"));
    }

    #[test]
    fn tiered_compaction_of_a_backfilled_window_rewrites_each_entry_a_few_times() {
        // 64 flushes each add a 1-byte slice to the window [0, 4h);
        // compaction runs after each. Leveled, the window's segment would
        // be rewritten every time (64 * 65 / 2 bytes); tiered, each byte
        // about 5 times (321 bytes).
        let ranges = [H, 4 * H];
        let mut segs = vec![seg("next", 4 * H, 5 * H, 0)];
        let mut rewritten = 0u64;
        for i in 0..64 {
            segs.push(seg(&format!("f{i}"), 0, 4 * H - 1, 1));
            while let Some(p) = plan_compaction_tiered(&segs, &ranges) {
                let mut m = p.merged(&format!("m{i}-{}", segs.len()));
                m.bytes = p.sources.iter().map(|s| s.bytes).sum();
                rewritten += m.bytes;
                segs.retain(|s| !p.sources.contains(s));
                segs.push(m);
            }
        }
        assert!(rewritten <= 64 * 6, "{rewritten}");
        // Few segments are left in the window.
        assert!(segs.len() <= 1 + 7, "{}", segs.len());
    }

    #[test]
    fn retention_by_time_then_size() {
        let segs = [seg("a", 0, 10, 5), seg("b", 10, 20, 5), seg("c", 20, 30, 5)];
        let ids = |v: Vec<SegmentInfo>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(retention(&segs, 100, 0, 0)), Vec::<String>::new());
        assert_eq!(ids(retention(&segs, 30, 15, 0)), vec!["a"]);
        assert_eq!(ids(retention(&segs, 30, 0, 10)), vec!["a"]);
        assert_eq!(ids(retention(&segs, 30, 0, 9)), vec!["a", "b"]);
        assert_eq!(ids(retention(&segs, 35, 15, 5)), vec!["a", "b"]);
    }

    #[test]
    fn superseded_are_the_parents_of_complete_segments() {
        let mut m = seg("m", 0, 20, 1);
        m.parents = vec!["a".into(), "b".into(), "gone".into()];
        let segs = [seg("a", 0, 10, 1), m, seg("c", 20, 30, 1)];
        assert_eq!(superseded(&segs), BTreeSet::from(["a".to_string()]));
    }

    fn segments() -> impl Strategy<Value = Vec<SegmentInfo>> {
        proptest::collection::vec((0i64..48, 1i64..4, 1u64..100), 0..12).prop_map(|v| {
            let mut v: Vec<SegmentInfo> = v
                .into_iter()
                .enumerate()
                .map(|(i, (start, len, bytes))| {
                    seg(&i.to_string(), start * H, (start + len) * H, bytes)
                })
                .collect();
            v.sort_by_key(|s| s.min_time);
            v
        })
    }

    proptest! {
        #[test]
        fn a_cut_is_one_aligned_range_holding_the_oldest_data(
            mint in -1_000_000i64..1_000_000, span in 0i64..100_000, range in 1i64..10_000, force: bool,
        ) {
            let maxt = mint + span;
            if let Some((start, end)) = cut_due(Some((mint, maxt)), range, force) {
                prop_assert_eq!(start.rem_euclid(range), 0);
                prop_assert!(start <= mint && mint < end && end <= start + range);
                if !force {
                    prop_assert_eq!(end - start, range);
                    prop_assert!(maxt >= end, "a cut leaves data after it");
                }
            } else {
                prop_assert!(!force);
            }
        }

        #[test]
        fn a_plan_is_a_complete_window_of_short_segments(segs in segments()) {
            let ranges = [2 * H, 6 * H, 24 * H];
            if let Some(p) = plan_compaction_tiered(&segs, &ranges) {
                let biggest = p.sources.iter().map(|s| s.bytes).max().unwrap();
                prop_assert!(biggest <= 2 * (p.sources.iter().map(|s| s.bytes).sum::<u64>() - biggest));
                prop_assert!(plan_compaction(&segs, &ranges).is_some());
            }
            let plans = [plan_compaction(&segs, &ranges), plan_compaction_tiered(&segs, &ranges)];
            for p in plans.into_iter().flatten() {
                let r = p.end - p.start;
                prop_assert!(ranges[1..].contains(&r));
                prop_assert!(p.sources.len() >= 2);
                prop_assert!(segs.iter().map(|s| s.max_time).max().unwrap() >= p.end);
                for s in &p.sources {
                    prop_assert!(s.min_time >= p.start && s.max_time <= p.end && s.max_time - s.min_time < r);
                }
            }
        }

        #[test]
        fn retention_keeps_the_newest_within_limits(
            segs in segments(), now in 0i64..60, ms in 0i64..30, bytes in 0u64..400,
        ) {
            let (now, ms) = (now * H, ms * H);
            let doomed = retention(&segs, now, ms, bytes);
            let kept: Vec<&SegmentInfo> = segs.iter().filter(|s| !doomed.contains(s)).collect();
            if ms > 0 {
                prop_assert!(kept.iter().all(|s| s.max_time > now - ms));
            }
            if bytes > 0 {
                prop_assert!(kept.iter().map(|s| s.bytes).sum::<u64>() <= bytes);
            }
            // Size retention drops the oldest first: nothing kept precedes a
            // segment dropped for size.
            for d in doomed.iter().filter(|d| ms == 0 || d.max_time > now - ms) {
                let di = segs.iter().position(|s| s == d).unwrap();
                prop_assert!(kept.iter().all(|k| segs.iter().position(|s| s == *k).unwrap() > di));
            }
        }
    }
}
