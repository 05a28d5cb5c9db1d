//! The response JSON and its `stats`.

use crate::common::*;

fn body_without_stats(r: &QueryResult, st: &Stats, categorize: bool) -> String {
    let s = String::from_utf8(encode_response(r, st, categorize)).unwrap();
    let i = s.find(",\"stats\":").expect("stats");
    assert!(s.ends_with("}}"));
    s[..i].to_string()
}

#[test]
fn json_streams_plain_and_categorized() {
    let q = r#"{job="app"} | json | level="error""#;
    let mut p = QueryParams::range(q, T0, T0 + 60 * S, S);
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"duration":"1.5s","env":"prod","job":"app","level":"error","msg":"failed <db>","req_method":"POST","req_size":"2048","trace_id":"def"},"values":[["1700000025000000000","{\"level\":\"error\",\"msg\":\"failed \u003cdb\u003e\",\"trace_id\":\"def\",\"duration\":\"1.5s\",\"req\":{\"method\":\"POST\",\"size\":2048}}"]]}]"#
    );
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"prod","job":"app"},"values":[["1700000025000000000","{\"level\":\"error\",\"msg\":\"failed \u003cdb\u003e\",\"trace_id\":\"def\",\"duration\":\"1.5s\",\"req\":{\"method\":\"POST\",\"size\":2048}}",{"parsed":{"duration":"1.5s","level":"error","msg":"failed <db>","req_method":"POST","req_size":"2048","trace_id":"def"}}]]}]"#
    );
    let mut p = QueryParams::range(r#"{job="packed"} | unpack"#, T0, T0 + 60 * S, S);
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"dev","job":"packed"},"values":[["1700000016000000000","inner line",{"structuredMetadata":{"pod":"p1"},"parsed":{"container":"c1"}}]]}]"#
    );
    // No metadata, no parsed labels: an empty object.
    let mut p = QueryParams::range(r#"{job="nginx"} |= "health""#, T0, T0 + 60 * S, S);
    p.categorize_labels = true;
    let (r, st) = run(&p).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, true),
        r#"{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"env":"prod","job":"nginx"},"values":[["1700000040000000000","10.0.0.3 \"GET /health\" 200 2 1ms",{}]]}]"#
    );
}

#[test]
fn json_matrix_vector_scalar() {
    let (r, st) = run(&QueryParams::range(
        r#"rate({job="nginx"}[30s])"#,
        T0 + 30 * S,
        T0 + 60 * S,
        15 * S,
    ))
    .unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"env":"prod","job":"nginx"},"values":[[1700000030,"0.1"],[1700000045,"0.1"],[1700000060,"0.06666666666666667"]]}]"#
    );
    let (r, st) = run(&QueryParams::instant(
        "vector(1)+vector(1)",
        T0 + 60 * S + 500_000_000,
    ))
    .unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000060.5,"2"]}]"#
    );
    let (r, st) = run(&QueryParams::instant("1/0", T0)).unwrap();
    assert_eq!(
        body_without_stats(&r, &st, false),
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"+Inf"]"#
    );
}

#[test]
fn json_stats_shape() {
    let st = Stats {
        scan: argus_store::ScanStats {
            lines_scanned: 10,
            bytes_scanned: 1000,
            head_lines: 10,
            ..Default::default()
        },
        exec_time: std::time::Duration::from_millis(1500),
        entries_returned: 3,
        post_filter_lines: 4,
        structured_metadata_bytes: 12,
        categorize_labels: false,
    };
    let body =
        String::from_utf8(encode_response(&QueryResult::Vector(vec![]), &st, false)).unwrap();
    let cache = r#"{"entriesFound":0,"entriesRequested":0,"entriesStored":0,"bytesReceived":0,"bytesSent":0,"requests":0,"downloadTime":0,"queryLengthServed":0}"#;
    let dataobj = r#"{"prePredicateDecompressedRows":0,"prePredicateDecompressedBytes":0,"prePredicateDecompressedStructuredMetadataBytes":0,"postPredicateRows":0,"postPredicateDecompressedBytes":0,"postPredicateStructuredMetadataBytes":0,"postFilterRows":0,"pagesScanned":0,"pagesDownloaded":0,"pagesDownloadedBytes":0,"pageBatches":0,"totalRowsAvailable":0,"totalPageDownloadTime":0,"wireBytesTransferred":0}"#;
    let want = format!(
        concat!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[],"stats":{{"#,
            r#""summary":{{"bytesProcessedPerSecond":666,"linesProcessedPerSecond":6,"totalBytesProcessed":1000,"totalLinesProcessed":10,"execTime":1.5,"queueTime":0,"subqueries":0,"totalEntriesReturned":3,"splits":0,"shards":0,"totalPostFilterLines":4,"totalStructuredMetadataBytesProcessed":12}},"#,
            r#""querier":{{"store":{{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,"chunk":{{"headChunkBytes":1000,"headChunkLines":10,"decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":4,"headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0}},"chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,"dataobj":{dataobj}}},"querierExecTime":1.5}},"#,
            r#""ingester":{{"totalReached":0,"totalChunksMatched":0,"totalBatches":0,"totalLinesSent":0,"store":{{"totalChunksRef":0,"totalChunksDownloaded":0,"chunksDownloadTime":0,"queryReferencedStructuredMetadata":false,"queryUsedV2Engine":false,"chunk":{{"headChunkBytes":0,"headChunkLines":0,"decompressedBytes":0,"decompressedLines":0,"compressedBytes":0,"totalDuplicates":0,"postFilterLines":0,"headChunkStructuredMetadataBytes":0,"decompressedStructuredMetadataBytes":0}},"chunkRefsFetchTime":0,"congestionControlLatency":0,"pipelineWrapperFilteredLines":0,"dataobj":{dataobj}}}}},"#,
            r#""cache":{{"chunk":{c},"index":{c},"result":{c},"statsResult":{c},"volumeResult":{c},"seriesResult":{c},"labelResult":{c},"instantMetricResult":{c},"logResult":{c},"taskResult":{c}}},"#,
            r#""index":{{"totalChunks":0,"postFilterChunks":0,"shardsDuration":0,"usedBloomFilters":false,"totalStreams":0,"chunkRefsLookupTime":0,"bloomFilterTime":0}},"#,
            r#""argus":{{"segmentsTotal":0,"segmentsSkippedByStreams":0,"blocksTotal":0,"blocksSkippedByTime":0,"blocksSkippedByNgrams":0,"bytesRead":0,"linesScanned":10,"bytesScanned":1000,"headLines":10}}}}}}}}"#
        ),
        dataobj = dataobj,
        c = cache
    );
    assert_eq!(body, want);
}

#[test]
fn stats_count_lines() {
    let (_, st) = run(&QueryParams::range(
        r#"{job="nginx"} |= "GET""#,
        T0,
        T0 + 60 * S,
        S,
    ))
    .unwrap();
    assert_eq!(st.scan.lines_scanned, 5);
    assert_eq!(st.post_filter_lines, 4);
    assert_eq!(st.entries_returned, 4);
}
