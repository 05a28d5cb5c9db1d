"""Real clients for the logs integration tests (logs_clients.rs). Each
subcommand prints one JSON document on stdout describing what it sent (or
read) and exits 1 unless the client reported success.

    python3 logs_clients.py otel http|grpc ENDPOINT TENANT
        The OpenTelemetry SDK: LoggerProvider, BatchLogRecordProcessor and
        the OTLP/HTTP (ENDPOINT is the /v1/logs URL) or OTLP/gRPC (ENDPOINT
        is host:port) log exporter; records within a span and one outside.
    python3 logs_clients.py es URL TENANT
        The official Elasticsearch client: ping() (HEAD /), info(), then
        helpers.bulk().
    python3 logs_clients.py duckdb FILE...
        DuckDB reading Argus's data.parquet segments.
"""

import json
import sys
import time


def otel(protocol: str, endpoint: str, tenant: str) -> int:
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        BatchLogRecordProcessor,
        LogRecordExporter,
        LogRecordExportResult,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        inner = OTLPLogExporter(
            endpoint=endpoint, headers={"X-Scope-OrgID": tenant}, timeout=10
        )
    else:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        inner = OTLPLogExporter(
            endpoint=f"http://{endpoint}",
            insecure=True,
            headers={"x-scope-orgid": tenant},
            timeout=10,
        )

    class Recording(LogRecordExporter):
        """The real exporter, with what each export call returned."""

        def __init__(self):
            self.results = []
            self.exported = 0

        def export(self, batch):
            r = inner.export(batch)
            self.results.append(r)
            self.exported += len(batch)
            return r

        def shutdown(self):
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    exporter = Recording()
    resource = Resource.create(
        {
            "service.name": "checkout",
            "service.namespace": "shop",
            "service.instance.id": f"checkout-{protocol}-1",
            "deployment.environment": "test",
            "k8s.pod.name": f"checkout-{protocol}-7d9f",
            "team": "payments",
        }
    )
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    logger = provider.get_logger("argus.logs.test", "1.2.3")
    tracer = TracerProvider(resource=resource).get_tracer("argus.logs.test")

    # Nanosecond timestamps a little in the past, each with odd nanoseconds.
    base = time.time_ns() - 5_000_000_000
    sent = []

    def emit(i, body, text, number, attrs):
        ts = base + i * 1_000_000_007
        logger.emit(
            LogRecord(
                timestamp=ts,
                severity_text=text,
                severity_number=number,
                body=body,
                attributes=attrs,
            )
        )
        sent.append(
            {
                "line": body,
                "ts": str(ts),
                "severity_text": text,
                "severity_number": number.value if number else None,
                "attributes": {k: str(v) for k, v in attrs.items()},
            }
        )

    with tracer.start_as_current_span("checkout") as span:
        ctx = span.get_span_context()
        trace_id, span_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
        emit(0, "user logged in", "INFO", SeverityNumber.INFO, {"user.id": "u-42", "http.method": "GET"})
        emit(1, "cart is slow", "WARN", SeverityNumber.WARN, {"cart.items": 3})
        emit(2, "payment failed", "ERROR", SeverityNumber.ERROR, {"error.type": "card_declined"})
        for r in sent:
            r["trace_id"], r["span_id"] = trace_id, span_id
    # Outside any span, and with a severity number only.
    emit(3, "cache warmed", None, SeverityNumber.DEBUG, {"cache.entries": 128})
    sent[-1]["trace_id"] = sent[-1]["span_id"] = None

    provider.shutdown()
    ok = exporter.exported == len(sent) and all(
        r == LogRecordExportResult.SUCCESS for r in exporter.results
    )
    print(json.dumps({"records": sent, "results": [str(r) for r in exporter.results]}))
    return 0 if ok else 1


def es(url: str, tenant: str) -> int:
    from elasticsearch import Elasticsearch, helpers

    client = Elasticsearch(url, headers={"X-Scope-OrgID": tenant}, request_timeout=10)
    # ping() is HEAD /: False (not an exception) on any failure.
    if not client.ping():
        print("ping (HEAD /) failed", file=sys.stderr)
        return 1
    info = client.info()
    base_ms = int(time.time() * 1000) - 5000
    docs = []
    for i in range(20):
        svc = "api" if i % 2 == 0 else "worker"
        ts_ms = base_ms + i * 7
        docs.append(
            {
                "_index": "app-logs",
                "_source": {
                    "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_ms // 1000))
                    + f".{ts_ms % 1000:03d}Z",
                    "message": f"request {i} handled",
                    "service": {"name": svc},
                    "host.name": f"host-{i % 3}",
                    "level": "warn" if i % 5 == 0 else "info",
                    "http": {"status": 200 + i, "method": "GET"},
                    "user": "alice",
                },
                "ts_ns": str(ts_ms * 1_000_000),
            }
        )
    actions = [{k: v for k, v in d.items() if k != "ts_ns"} for d in docs]
    ok, errors = helpers.bulk(client, actions, raise_on_error=False, stats_only=False)
    print(
        json.dumps(
            {
                "version": info["version"]["number"],
                "ok": ok,
                "errors": errors,
                "docs": [{"ts": d["ts_ns"], **d["_source"]} for d in docs],
            },
            default=str,
        )
    )
    return 0 if ok == len(docs) and not errors else 1


def read_parquet(files) -> int:
    import duckdb

    # A split line is its template's pieces with var<k> after piece k
    # (docs/format/logs.md); an unsplit one is in `line`.
    variables = ", ".join(f"var{k}" for k in range(8))
    line = (
        "coalesce(line, array_to_string(list_transform(string_split(template, chr(17)), "
        f"lambda p, i: p || coalesce([{variables}][i], '')), ''))"
    )
    rows = duckdb.sql(
        f"SELECT epoch_ns(timestamp)::VARCHAR AS ts, typeof(timestamp) AS ty, stream, {line}, "
        "metadata::VARCHAR AS metadata "
        f"FROM read_parquet({json.dumps(files)}) ORDER BY timestamp"
    ).fetchall()
    print(
        json.dumps(
            [{"ts": t, "type": ty, "stream": s, "line": l, "metadata": m} for t, ty, s, l, m in rows]
        )
    )
    return 0


def main() -> int:
    cmd = sys.argv[1]
    if cmd == "otel":
        return otel(sys.argv[2], sys.argv[3], sys.argv[4])
    if cmd == "es":
        return es(sys.argv[2], sys.argv[3])
    if cmd == "duckdb":
        return read_parquet(sys.argv[2:])
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
