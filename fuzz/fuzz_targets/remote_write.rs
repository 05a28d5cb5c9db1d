//! Remote write 1.0 and 2.0 request bodies (snappy block format + protobuf),
//! through `argus_ingest::remote_write::decode` as the HTTP handler calls it.
#![no_main]

use argus_ingest::remote_write::{decode, DecodeLimits, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits::default();
    // The input as a request body: snappy header and decompression first.
    for p in [Protocol::V1, Protocol::V2] {
        let _ = decode(data, p, &limits);
    }
    // The input as the uncompressed protobuf message, so that mutations reach
    // the protobuf decoder and the validation behind it.
    if let Ok(body) = snap::raw::Encoder::new().compress_vec(data) {
        for p in [Protocol::V1, Protocol::V2] {
            if let Ok(req) = decode(&body, p, &limits) {
                assert!(req.rejected.len() <= req.stats.rejected_series);
                assert!(req.rejected.len() <= limits.max_listed_rejections);
            }
        }
    }
});
