//! Elasticsearch bulk bodies (`argus_ingest::elastic::decode_bulk`): NDJSON
//! action/document pairs mapped to log streams. Every stored item must point
//! at an entry that exists, each entry be pointed at once, and every stream
//! have labels.
#![no_main]

use argus_ingest::elastic::{decode_bulk, FieldMapping};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mappings = [
        FieldMapping::default(),
        FieldMapping::from_params(Some("ts,t"), Some("m"), Some("a.b,_index,c")),
        FieldMapping::from_params(None, None, Some("")),
    ];
    for (k, m) in mappings.iter().enumerate() {
        let index = (k == 1).then_some("ix");
        let Ok(bulk) = decode_bulk(data, index, m, 1_700_000_000_000_000_000) else {
            continue;
        };
        assert!(!bulk.items.is_empty());
        let entries: usize = bulk.streams.iter().map(|s| s.entries.len()).sum();
        let mut seen = std::collections::HashSet::new();
        for item in &bulk.items {
            if let Ok((si, ei)) = item.outcome {
                assert!(ei < bulk.streams[si].entries.len(), "item points past its stream");
                assert!(seen.insert((si, ei)), "two items share an entry");
            }
        }
        assert_eq!(seen.len(), entries, "an entry without an item");
        for s in &bulk.streams {
            assert!(!s.labels.is_empty(), "a stream without labels");
        }
    }
});
