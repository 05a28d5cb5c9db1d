//! Logs WAL records (`argus_logs::walrec::decode`): entries (zstd frames of
//! streams and entries) and freeze markers. A record that decodes encodes
//! back to one that decodes to the same streams.
#![no_main]

use argus_logs::walrec::{self, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = walrec::decode(data) else {
        return;
    };
    let mut b = Vec::new();
    match &rec {
        Record::Entries(streams) => walrec::encode_entries(
            streams.iter().map(|s| (&s.labels, s.entries.as_slice())),
            &mut b,
        ),
        Record::Freeze(k) => walrec::encode_freeze(*k, &mut b),
    }
    let again = walrec::decode(&b).expect("a re-encoded record decodes");
    // Label pairs are sorted and deduplicated on decode: compare after a
    // second round.
    let mut c = Vec::new();
    match &again {
        Record::Entries(streams) => walrec::encode_entries(
            streams.iter().map(|s| (&s.labels, s.entries.as_slice())),
            &mut c,
        ),
        Record::Freeze(k) => walrec::encode_freeze(*k, &mut c),
    }
    assert_eq!(walrec::decode(&c).expect("decodes"), again);
});
