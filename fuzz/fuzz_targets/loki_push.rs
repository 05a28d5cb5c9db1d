//! Loki push bodies (`argus_ingest::loki`): snappy-compressed protobuf
//! `PushRequest`s, JSON pushes and Prometheus-style label strings. What
//! decodes must survive a round trip through Argus's own encoders.
#![no_main]

use argus_ingest::loki::{decode_json, decode_protobuf, encode_protobuf, format_labels, parse_labels};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 1 << 20;

fn round_trip(streams: &[argus_model::LogStream]) {
    let mut body = Vec::new();
    encode_protobuf(streams, &mut body);
    let again = decode_protobuf(&body, usize::MAX).expect("re-encoded push decodes");
    assert_eq!(again, streams, "protobuf round trip");
}

fuzz_target!(|data: &[u8]| {
    // The input as a request body: snappy header and decompression first.
    if let Ok(streams) = decode_protobuf(data, MAX) {
        round_trip(&streams);
    }
    // The input as the uncompressed message, so mutations reach prost.
    if let Ok(body) = snap::raw::Encoder::new().compress_vec(data) {
        if let Ok(streams) = decode_protobuf(&body, MAX) {
            round_trip(&streams);
        }
    }
    if let Ok(streams) = decode_json(data) {
        round_trip(&streams);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(labels) = parse_labels(text) {
            let printed = format_labels(&labels);
            let again = parse_labels(&printed).expect("printed labels parse");
            assert_eq!(again, labels, "label string round trip");
        }
    }
});
