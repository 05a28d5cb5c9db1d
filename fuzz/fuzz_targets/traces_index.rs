//! A traces segment's `index` file (`argus_traces::segment::SegmentIndex`):
//! any bytes decode to an error or to an index that encodes back to the
//! same index.
#![no_main]

use argus_traces::segment::SegmentIndex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = SegmentIndex::decode(data) {
        let mut again = Vec::new();
        index.encode(&mut again);
        let back = SegmentIndex::decode(&again).expect("an encoded index decodes");
        let mut twice = Vec::new();
        back.encode(&mut twice);
        assert_eq!(again, twice);
        for rg in &index.row_groups {
            let _ = index.row_groups_of(&rg.min_trace);
        }
    }
});
