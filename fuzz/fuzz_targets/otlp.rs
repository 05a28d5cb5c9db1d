//! OTLP/HTTP metrics bodies, binary protobuf and OTLP/JSON, decoded and
//! converted to Prometheus series (`argus_ingest::otlp`).
#![no_main]

use argus_ingest::otlp::{convert, decode_request, OtlpOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let other = OtlpOptions {
        add_metric_suffixes: false,
        promote_resource_attributes: vec!["service.name".into(), "host.name".into()],
        promote_scope_metadata: true,
        label_name_underscore_sanitization: false,
        label_name_preserve_multiple_underscores: false,
        lookback_delta_ms: 60_000,
    };
    for json in [false, true] {
        if let Ok(req) = decode_request(data, json) {
            let _ = convert(&req, &OtlpOptions::default());
            let _ = convert(&req, &other);
        }
    }
});
