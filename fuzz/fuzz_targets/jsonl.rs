//! JSON lines bodies (`argus_ingest::jsonl::decode_jsonl`): every non-blank
//! line is either an entry or a refused line, and every stream has labels.
#![no_main]

use argus_ingest::elastic::FieldMapping;
use argus_ingest::jsonl::decode_jsonl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for m in [
        FieldMapping::default(),
        FieldMapping::from_params(Some("_time"), Some("_msg"), Some("host,app.name")),
    ] {
        let j = decode_jsonl(data, &m, 0);
        let entries: usize = j.streams.iter().map(|s| s.entries.len()).sum();
        assert_eq!(entries + j.rejected.len(), j.lines, "a line lost or counted twice");
        for s in &j.streams {
            assert!(!s.labels.is_empty(), "a stream without labels");
        }
    }
});
