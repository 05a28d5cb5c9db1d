//! The traces store's WAL records (`argus_traces::walrec`): any bytes decode
//! to an error or to spans that encode back to the same spans.
#![no_main]

use argus_traces::walrec::{decode, encode_spans, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Record::Spans { arrival_ms, spans }) = decode(data) {
        let mut again = Vec::new();
        encode_spans(&spans, arrival_ms, &mut again);
        match decode(&again) {
            Ok(Record::Spans { arrival_ms: a, spans: back }) => {
                assert_eq!(a, arrival_ms);
                // NaN attribute values are not equal to themselves: compare
                // the encodings instead.
                let mut twice = Vec::new();
                encode_spans(&back, a, &mut twice);
                assert_eq!(again, twice);
            }
            other => panic!("re-encoded spans do not decode: {other:?}"),
        }
    }
});
