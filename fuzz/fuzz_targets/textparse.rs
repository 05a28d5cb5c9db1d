//! Scrape bodies: Prometheus text 0.0.4 and OpenMetrics 1.0
//! (`argus_ingest::textparse::parse`), each input through both parsers.
#![no_main]

use argus_ingest::textparse::{parse, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in [Format::PrometheusText, Format::OpenMetrics] {
        let _ = parse(data, f);
    }
});
