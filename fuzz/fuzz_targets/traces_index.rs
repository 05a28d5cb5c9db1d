//! A traces segment's `index` file (`argus_traces::segment::SegmentIndex`).
//! The input is the index body: the target seals it (header, zstd frame,
//! checksum) so the fuzzer explores the body's decoder rather than the
//! checksum. An index that decodes encodes back to the same bytes.
#![no_main]

use argus_traces::segment::{SegmentIndex, INDEX_MAGIC};
use argus_wal::codec::seal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut file = Vec::new();
    seal(INDEX_MAGIC, 1, data, &mut file);
    let Ok(index) = SegmentIndex::decode(&file) else {
        return;
    };
    let mut again = Vec::new();
    index.encode(&mut again);
    let back = SegmentIndex::decode(&again).expect("an encoded index decodes");
    let mut twice = Vec::new();
    back.encode(&mut twice);
    assert_eq!(again, twice);
    for rg in &index.row_groups {
        let _ = index.row_groups_of(&rg.min_trace);
    }
});
