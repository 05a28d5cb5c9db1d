//! Metrics WAL record payloads (`argus_tsdb::walrec::decode`): series (plain
//! and compressed), samples, delta samples, minimum valid time, histogram
//! samples, checkpoint chunks and exemplars records. A record that decodes must encode
//! back to bytes that decode to the same record (compared as encoded bytes,
//! so NaN values compare by their bits); delta samples, which have no encoder
//! from their decoded form, are resolved instead, and the chunks a
//! checkpoint record carries go through the chunk decoders.
#![no_main]

use argus_tsdb::chunk::{decode_compact, HistogramIter, XorIter};
use argus_tsdb::exemplars::walrec::encode_exemplars;
use argus_tsdb::walrec::{self, Record};
use libfuzzer_sys::fuzz_target;

fn encode(r: &Record) -> Option<Vec<u8>> {
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
        Record::DeltaSamples(s) => {
            for d in s {
                let _ = (
                    d.v.resolve(0.0),
                    d.v.resolve(-1.25e3),
                    d.v.resolve(f64::NAN),
                );
            }
            return None;
        }
        Record::Chunks(c) => {
            for s in c {
                for ch in s.closed.iter() {
                    let _ = decode_compact(&ch.data);
                }
                if let Some((_, data)) = &s.open {
                    let _ = XorIter::new(data).map(Iterator::count);
                }
                for ch in s.hist_closed.iter() {
                    let _ = HistogramIter::new(&ch.data).map(Iterator::count);
                }
            }
            walrec::encode_chunks(c, &mut b);
        }
        Record::Exemplars(e) => {
            encode_exemplars(e.iter().map(|(s, x)| (s, x)), &mut b);
        }
    }
    Some(b)
}

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = walrec::decode(data) else {
        return;
    };
    let Some(once) = encode(&rec) else {
        return;
    };
    let again = walrec::decode(&once).expect("a re-encoded record decodes");
    assert_eq!(Some(once), encode(&again), "re-encoding is stable");
});
