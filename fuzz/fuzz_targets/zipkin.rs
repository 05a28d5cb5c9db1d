//! Zipkin v2 JSON bodies (`POST /api/v2/spans`) decoded to spans
//! (`argus_ingest::zipkin`).
#![no_main]

use argus_ingest::zipkin::decode_zipkin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(z) = decode_zipkin(data) {
        for s in &z.spans {
            assert_ne!(s.trace_id, [0; 16]);
            assert_ne!(s.span_id, [0; 8]);
            assert!(s.end_ns >= s.start_ns);
        }
    }
});
