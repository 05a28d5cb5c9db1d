//! Loki's HTTP query response body (`/loki/api/v1/query_range`, `/query`),
//! byte for byte as Loki writes it (jsoniter, `ConfigFastest`): field order,
//! number formats (`FormatFloat(v, 'f', -1, 64)` for sample values, seconds
//! as a number for sample times, six-digit floats in `stats`), lines
//! HTML-escaped, label values not.

use crate::engine::{Pairs, QueryResult, Stats};

/// Encodes a successful query response: `{"status":"success","data":{…}}`.
/// `categorize` is the `categorize-labels` encoding flag.
pub fn encode_response(result: &QueryResult, stats: &Stats, categorize: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    encode_response_into(&mut out, result, stats, categorize);
    out
}

/// [`encode_response`] appending to `out`.
pub fn encode_response_into(
    out: &mut Vec<u8>,
    result: &QueryResult,
    stats: &Stats,
    categorize: bool,
) {
    let categorize = categorize && matches!(result, QueryResult::Streams(_));
    out.extend_from_slice(b"{\"status\":\"success\",\"data\":{\"resultType\":");
    let ty = match result {
        QueryResult::Streams(_) => "streams",
        QueryResult::Matrix(_) => "matrix",
        QueryResult::Vector(_) => "vector",
        QueryResult::Scalar { .. } => "scalar",
    };
    write_str(out, ty, false);
    if categorize {
        out.extend_from_slice(b",\"encodingFlags\":[\"categorize-labels\"]");
    }
    out.extend_from_slice(b",\"result\":");
    match result {
        QueryResult::Streams(streams) => {
            out.push(b'[');
            for (i, s) in streams.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"stream\":");
                write_labels(out, &s.labels);
                out.extend_from_slice(b",\"values\":[");
                for (j, e) in s.entries.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"[\"");
                    out.extend_from_slice(e.ts_ns.to_string().as_bytes());
                    out.extend_from_slice(b"\",");
                    write_str(out, &e.line, true);
                    if categorize {
                        out.extend_from_slice(b",{");
                        let mut more = false;
                        if !e.metadata.is_empty() {
                            out.extend_from_slice(b"\"structuredMetadata\":");
                            write_labels(out, &e.metadata);
                            more = true;
                        }
                        if !e.parsed.is_empty() {
                            if more {
                                out.push(b',');
                            }
                            out.extend_from_slice(b"\"parsed\":");
                            write_labels(out, &e.parsed);
                        }
                        out.push(b'}');
                    }
                    out.push(b']');
                }
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
        QueryResult::Matrix(m) => {
            out.push(b'[');
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"metric\":");
                write_labels(out, &s.labels);
                out.extend_from_slice(b",\"values\":[");
                for (j, (t, v)) in s.points.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    write_point(out, *t, *v);
                }
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
        QueryResult::Vector(v) => {
            out.push(b'[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"metric\":");
                write_labels(out, &s.labels);
                out.extend_from_slice(b",\"value\":");
                write_point(out, s.t_ms, s.value);
                out.push(b'}');
            }
            out.push(b']');
        }
        QueryResult::Scalar { t_ms, value } => write_point(out, *t_ms, *value),
    }
    out.extend_from_slice(b",\"stats\":");
    write_stats(out, stats);
    out.extend_from_slice(b"}}");
}

/// Prometheus's `model.SampleValue.String()`: `FormatFloat(v, 'f', -1, 64)`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn write_point(out: &mut Vec<u8>, t_ms: i64, v: f64) {
    out.push(b'[');
    // model.Time.String(): seconds as FormatFloat(t/1000, 'f', -1, 64).
    out.extend_from_slice(format_value(t_ms as f64 / 1000.0).as_bytes());
    out.push(b',');
    write_str(out, &format_value(v), false);
    out.push(b']');
}

fn write_labels(out: &mut Vec<u8>, labels: &Pairs) {
    out.push(b'{');
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, n, false);
        out.push(b':');
        write_str(out, v, false);
    }
    out.push(b'}');
}

/// jsoniter's `WriteString` / `WriteStringWithHTMLEscaped`.
fn write_str(out: &mut Vec<u8>, s: &str, html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '<' | '>' | '&' if html => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c as usize) >> 4]);
                out.push(HEX[(c as usize) & 0xf]);
            }
            '\u{2028}' if html => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' if html => out.extend_from_slice(b"\\u2029"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c as usize) >> 4]);
                out.push(HEX[(c as usize) & 0xf]);
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// jsoniter's `WriteFloat64Lossy` (`MarshalFloatWith6Digits`).
fn float6(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let mut s = String::new();
    let mut val = v;
    if val < 0.0 {
        s.push('-');
        val = -val;
    }
    if val > 0x4ff_ffff as f64 {
        s.push_str(&format!("{val}"));
        return s;
    }
    let lval = (val * 1e6 + 0.5) as u64;
    s.push_str(&(lval / 1_000_000).to_string());
    let frac = lval % 1_000_000;
    if frac == 0 {
        return s;
    }
    let f = format!("{frac:06}");
    s.push('.');
    s.push_str(f.trim_end_matches('0'));
    s
}

fn cache_obj(out: &mut String) {
    out.push_str("{\"entriesFound\":0,\"entriesRequested\":0,\"entriesStored\":0,\"bytesReceived\":0,\"bytesSent\":0,\"requests\":0,\"downloadTime\":0,\"queryLengthServed\":0}");
}

fn store_obj(out: &mut String, chunk: &[(&str, u64)]) {
    out.push_str("{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,\"chunksDownloadTime\":0,\"queryReferencedStructuredMetadata\":false,\"queryUsedV2Engine\":false,\"chunk\":{");
    for (i, (k, v)) in chunk.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("\"{k}\":{v}"));
    }
    out.push_str("},\"chunkRefsFetchTime\":0,\"congestionControlLatency\":0,\"pipelineWrapperFilteredLines\":0,\"dataobj\":{\"prePredicateDecompressedRows\":0,\"prePredicateDecompressedBytes\":0,\"prePredicateDecompressedStructuredMetadataBytes\":0,\"postPredicateRows\":0,\"postPredicateDecompressedBytes\":0,\"postPredicateStructuredMetadataBytes\":0,\"postFilterRows\":0,\"pagesScanned\":0,\"pagesDownloaded\":0,\"pagesDownloadedBytes\":0,\"pageBatches\":0,\"totalRowsAvailable\":0,\"totalPageDownloadTime\":0,\"wireBytesTransferred\":0}}");
}

/// Loki's `stats.Result` in its field order. Lines and bytes read from the
/// in-memory head count as head-chunk lines/bytes, the rest as decompressed.
fn write_stats(out: &mut Vec<u8>, st: &Stats) {
    let sc = &st.scan;
    let head_lines = sc.head_lines.min(sc.lines_scanned);
    let dec_lines = sc.lines_scanned - head_lines;
    let (head_bytes, dec_bytes) = if dec_lines == 0 {
        (sc.bytes_scanned, 0)
    } else if head_lines == 0 {
        (0, sc.bytes_scanned)
    } else {
        let hb = (sc.bytes_scanned as u128 * head_lines as u128 / sc.lines_scanned as u128) as u64;
        (hb, sc.bytes_scanned - hb)
    };
    let exec = st.exec_time.as_secs_f64();
    let total_bytes = sc.bytes_scanned;
    let total_lines = sc.lines_scanned;
    let per_sec = |x: u64| {
        if exec > 0.0 {
            (x as f64 / exec) as i64
        } else {
            0
        }
    };
    let mut s = String::with_capacity(2048);
    s.push_str(&format!(
        "{{\"summary\":{{\"bytesProcessedPerSecond\":{},\"linesProcessedPerSecond\":{},\"totalBytesProcessed\":{},\"totalLinesProcessed\":{},\"execTime\":{},\"queueTime\":0,\"subqueries\":0,\"totalEntriesReturned\":{},\"splits\":0,\"shards\":0,\"totalPostFilterLines\":{},\"totalStructuredMetadataBytesProcessed\":{}}}",
        per_sec(total_bytes),
        per_sec(total_lines),
        total_bytes,
        total_lines,
        float6(exec),
        st.entries_returned,
        st.post_filter_lines,
        st.structured_metadata_bytes,
    ));
    s.push_str(",\"querier\":{\"store\":");
    store_obj(
        &mut s,
        &[
            ("headChunkBytes", head_bytes),
            ("headChunkLines", head_lines),
            ("decompressedBytes", dec_bytes),
            ("decompressedLines", dec_lines),
            ("compressedBytes", sc.bytes_read),
            ("totalDuplicates", 0),
            ("postFilterLines", st.post_filter_lines),
            ("headChunkStructuredMetadataBytes", 0),
            ("decompressedStructuredMetadataBytes", 0),
        ],
    );
    s.push_str(&format!(",\"querierExecTime\":{}}}", float6(exec)));
    s.push_str(",\"ingester\":{\"totalReached\":0,\"totalChunksMatched\":0,\"totalBatches\":0,\"totalLinesSent\":0,\"store\":");
    store_obj(
        &mut s,
        &[
            ("headChunkBytes", 0),
            ("headChunkLines", 0),
            ("decompressedBytes", 0),
            ("decompressedLines", 0),
            ("compressedBytes", 0),
            ("totalDuplicates", 0),
            ("postFilterLines", 0),
            ("headChunkStructuredMetadataBytes", 0),
            ("decompressedStructuredMetadataBytes", 0),
        ],
    );
    s.push_str("},\"cache\":{");
    for (i, name) in [
        "chunk",
        "index",
        "result",
        "statsResult",
        "volumeResult",
        "seriesResult",
        "labelResult",
        "instantMetricResult",
        "logResult",
        "taskResult",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\"{name}\":"));
        cache_obj(&mut s);
    }
    let chunks = sc.segments_total + sc.blocks_total;
    let post_chunks = chunks.saturating_sub(
        sc.segments_skipped_streams + sc.blocks_skipped_time + sc.blocks_skipped_bloom,
    );
    s.push_str(&format!(
        "}},\"index\":{{\"totalChunks\":{chunks},\"postFilterChunks\":{post_chunks},\"shardsDuration\":0,\"usedBloomFilters\":{},\"totalStreams\":0,\"chunkRefsLookupTime\":0,\"bloomFilterTime\":0}}",
        sc.blocks_skipped_bloom > 0
    ));
    // Argus's own: what each index skipped (Loki's shape has no place for it).
    s.push_str(&format!(
        ",\"argus\":{{\"segmentsTotal\":{},\"segmentsSkippedByStreams\":{},\"blocksTotal\":{},\"blocksSkippedByTime\":{},\"blocksSkippedByNgrams\":{},\"bytesRead\":{},\"linesScanned\":{},\"bytesScanned\":{},\"headLines\":{}}}}}",
        sc.segments_total,
        sc.segments_skipped_streams,
        sc.blocks_total,
        sc.blocks_skipped_time,
        sc.blocks_skipped_bloom,
        sc.bytes_read,
        sc.lines_scanned,
        sc.bytes_scanned,
        sc.head_lines
    ));
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(float6(0.0123456789), "0.012346");
        assert_eq!(float6(1.5), "1.5");
        assert_eq!(float6(0.0), "0");
    }

    #[test]
    fn escaping() {
        let mut v = Vec::new();
        write_str(&mut v, "a<b>&\"\n\u{1}", true);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#""a\u003cb\u003e\u0026\"\n\u0001""#
        );
        let mut v = Vec::new();
        write_str(&mut v, "a<b", false);
        assert_eq!(String::from_utf8(v).unwrap(), r#""a<b""#);
    }
}
