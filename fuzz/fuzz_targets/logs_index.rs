//! A logs segment's `index` file (`argus_logs::segment::SegmentIndex`). The
//! input is the index body: the target wraps it in a valid header, zstd
//! frame and checksum, so the fuzzer explores the body's decoder rather than
//! the checksum. An index that decodes encodes back to the same index.
#![no_main]

use argus_logs::segment::{SegmentIndex, INDEX_MAGIC};
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
    assert_eq!(SegmentIndex::decode(&again).expect("re-encoded index decodes"), index);
});
