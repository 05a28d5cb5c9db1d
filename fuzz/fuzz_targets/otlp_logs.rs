//! OTLP/HTTP logs bodies, binary protobuf and OTLP/JSON, decoded and
//! converted to Loki-style streams (`argus_ingest::otlp::logs`).
#![no_main]

use argus_ingest::otlp::logs::{convert_logs, decode_logs_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for json in [false, true] {
        if let Ok(req) = decode_logs_request(data, json) {
            for s in convert_logs(&req, 1_700_000_000_000_000_000) {
                assert!(
                    s.labels.get("service_name").is_some_and(|v| !v.is_empty()),
                    "every stream has a service_name: {:?}",
                    s.labels
                );
            }
        }
    }
});
