"""Exports a counter, a gauge and a histogram with the OpenTelemetry Python
SDK's OTLP/gRPC exporter (gzip, a tenant header), as an instrumented service
would. Used by otlp_grpc.rs; exits 1 unless the export succeeded.

    python3 otlp_grpc_export.py 127.0.0.1:4317 TENANT
"""

import sys

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource


def main() -> int:
    endpoint, tenant = sys.argv[1], sys.argv[2]
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create(
            {
                "service.name": "checkout",
                "service.instance.id": "py-1",
                "deployment.environment": "test",
            }
        ),
        metric_readers=[reader],
    )
    meter = provider.get_meter("argus-grpc-test")
    orders = meter.create_counter("orders", unit="1", description="Orders placed.")
    orders.add(5, {"shop": "a"})
    orders.add(2, {"shop": "a"})
    orders.add(1, {"shop": "b"})
    temperature = meter.create_gauge("room.temperature", unit="Cel")
    temperature.set(21.5, {"room": "lab"})
    duration = meter.create_histogram(
        "http.server.duration",
        unit="s",
        explicit_bucket_boundaries_advisory=[0.1, 1.0],
    )
    for v in (0.05, 0.5, 2.0):
        duration.record(v, {"route": "/cart"})

    exporter = OTLPMetricExporter(
        endpoint=f"http://{endpoint}",
        insecure=True,
        headers={"x-scope-orgid": tenant},
        compression=Compression.Gzip,
        timeout=10,
    )
    result = exporter.export(reader.get_metrics_data())
    exporter.shutdown()
    provider.shutdown()
    print(f"export: {result}")
    return 0 if result == MetricExportResult.SUCCESS else 1


if __name__ == "__main__":
    sys.exit(main())
