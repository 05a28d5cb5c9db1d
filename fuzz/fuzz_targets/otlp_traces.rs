//! OTLP/HTTP traces bodies, binary protobuf and OTLP/JSON, decoded and
//! converted to spans (`argus_ingest::otlp::traces`).
#![no_main]

use argus_ingest::otlp::traces::{convert_traces, decode_traces_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for json in [false, true] {
        if let Ok(req) = decode_traces_request(data, json) {
            let c = convert_traces(&req);
            let total: usize = req
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            assert_eq!(c.spans.len() + c.rejected_spans(), total, "every span kept or refused");
            for s in &c.spans {
                assert_ne!(s.trace_id, [0; 16]);
                assert_ne!(s.span_id, [0; 8]);
            }
        }
    }
});
