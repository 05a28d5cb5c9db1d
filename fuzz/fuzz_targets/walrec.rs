//! Metrics WAL record payloads (`argus_tsdb::walrec::decode`): series,
//! samples, minimum valid time and histogram samples records. A record that
//! decodes must encode back to bytes that decode to the same record (compared
//! as encoded bytes, so NaN values compare by their bits).
#![no_main]

use argus_tsdb::walrec::{self, Record};
use libfuzzer_sys::fuzz_target;

fn encode(r: &Record) -> Vec<u8> {
    let mut b = Vec::new();
    match r {
        Record::Series(s) => {
            let refs: Vec<_> = s.iter().map(|(id, l)| (*id, l)).collect();
            walrec::encode_series(&refs, &mut b);
        }
        Record::Samples(s) => walrec::encode_samples(s, &mut b),
        Record::MinValidTime(t) => walrec::encode_min_valid_time(*t, &mut b),
        Record::HistogramSamples(s) => {
            let refs: Vec<_> = s.iter().map(|(id, h)| (*id, h)).collect();
            walrec::encode_histogram_samples(&refs, &mut b);
        }
    }
    b
}

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = walrec::decode(data) else {
        return;
    };
    let once = encode(&rec);
    let again = walrec::decode(&once).expect("a re-encoded record decodes");
    assert_eq!(once, encode(&again), "re-encoding is stable");
});
