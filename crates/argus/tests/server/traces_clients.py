"""Real clients for the traces integration tests (traces_clients.rs): the
OpenTelemetry Python SDK sends three traces across three services, one
TracerProvider per service (Resource service.name), the context carried
from service to service by W3C traceparent headers as over a network:

    A (OTLP/HTTP, gzip): frontend SERVER > CLIENT > checkout SERVER (slow, 250 ms)
       > CLIENT > payments SERVER (error, payment.amount 42, an event)
    B (OTLP/gRPC): the same calls, fast, payments OK with payment.amount 5;
       its root span links to A's root span
    C (OTLP/gRPC): frontend SERVER > CLIENT > checkout SERVER only

Every span gets explicit start and end times (A's checkout SERVER span is
the only one longer than 1 ms). Prints one JSON document: per trace, its
id and every span as sent (ids in lowercase hex); exits 1 unless every
export succeeded.

    python3 traces_clients.py HTTP_URL GRPC_HOST_PORT TENANT
        HTTP_URL is the /v1/traces URL, GRPC_HOST_PORT the OTLP/gRPC port.
"""

import json
import sys
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

SERVICES = ("frontend", "checkout", "payments")
MS = 1_000_000


class Recording(SpanExporter):
    """The real exporter, with what each export call returned."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []
        self.exported = 0

    def export(self, spans):
        r = self.inner.export(spans)
        self.results.append(r)
        self.exported += len(spans)
        return r

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def providers(make_exporter):
    out = {}
    for svc in SERVICES:
        exporter = Recording(make_exporter())
        p = TracerProvider(
            resource=Resource.create(
                {"service.name": svc, "deployment.environment": "test"}
            )
        )
        p.add_span_processor(BatchSpanProcessor(exporter))
        out[svc] = (p, exporter)
    return out


def hexid(n: int, width: int) -> str:
    return format(n, f"0{width}x")


def described(span, service):
    """A finished SDK span as the Rust side compares it."""
    ctx = span.get_span_context()
    return {
        "service": service,
        "scope": span.instrumentation_scope.name,
        "name": span.name,
        "trace_id": hexid(ctx.trace_id, 32),
        "span_id": hexid(ctx.span_id, 16),
        "parent_span_id": hexid(span.parent.span_id, 16) if span.parent else None,
        "kind": span.kind.name,
        "start": str(span.start_time),
        "end": str(span.end_time),
        "status": span.status.status_code.name,
        "status_message": span.status.description or "",
        "attributes": dict(span.attributes),
        "events": [
            {"name": e.name, "ts": str(e.timestamp), "attributes": dict(e.attributes)}
            for e in span.events
        ],
        "links": [
            {
                "trace_id": hexid(l.context.trace_id, 32),
                "span_id": hexid(l.context.span_id, 16),
                "attributes": dict(l.attributes),
            }
            for l in span.links
        ],
    }


def carried(span):
    """The context a server reads from the traceparent its client sent."""
    prop = TraceContextTextMapPropagator()
    headers = {}
    prop.inject(headers, context=trace.set_span_in_context(span))
    return prop.extract(headers)


def send_trace(provs, t0, slow, payments_amount, error, with_payments, link_to=None):
    """One trace across the services (its root linked to `link_to`, a span
    context, if given); returns its spans and its root's context."""
    tracers = {s: provs[s][0].get_tracer("argus.traces.test", "1.0.0") for s in SERVICES}
    done = []

    def end(span, service, at):
        span.end(end_time=at)
        done.append((span, service))

    t = t0
    root = tracers["frontend"].start_span(
        "GET /checkout",
        kind=SpanKind.SERVER,
        start_time=t,
        attributes={"http.method": "GET", "http.status_code": 500 if error else 200},
        links=[Link(link_to, {"link.reason": "retry"})] if link_to else (),
    )
    call = tracers["frontend"].start_span(
        "POST checkout",
        context=trace.set_span_in_context(root),
        kind=SpanKind.CLIENT,
        start_time=t + 10_000,
        attributes={"http.method": "POST"},
    )
    ck_len = 250 * MS if slow else 200_000
    ck = tracers["checkout"].start_span(
        "POST /checkout",
        context=carried(call),
        kind=SpanKind.SERVER,
        start_time=t + 20_000,
        attributes={"http.method": "POST", "http.status_code": 500 if error else 200},
    )
    if with_payments:
        pay_call = tracers["checkout"].start_span(
            "POST payments",
            context=trace.set_span_in_context(ck),
            kind=SpanKind.CLIENT,
            start_time=t + 30_000,
            attributes={"http.method": "POST"},
        )
        pay = tracers["payments"].start_span(
            "POST /charge",
            context=carried(pay_call),
            kind=SpanKind.SERVER,
            start_time=t + 40_000,
            attributes={
                "http.method": "POST",
                "http.status_code": 402 if error else 200,
                "payment.amount": payments_amount,
            },
        )
        if error:
            pay.add_event(
                "charge declined",
                {"reason": "insufficient funds"},
                timestamp=t + 50_000,
            )
            pay.set_status(Status(StatusCode.ERROR, "card declined"))
        end(pay, "payments", t + 60_000)
        end(pay_call, "checkout", t + 70_000)
    end(ck, "checkout", t + 20_000 + ck_len)
    end(call, "frontend", t + 30_000 + ck_len)
    end(root, "frontend", t + 40_000 + ck_len)
    spans = [described(s, svc) for s, svc in done]
    return {"trace_id": spans[0]["trace_id"], "spans": spans}, root.get_span_context()


def main() -> int:
    http_url, grpc, tenant = sys.argv[1], sys.argv[2], sys.argv[3]
    via_http = providers(
        lambda: HttpExporter(
            endpoint=http_url,
            headers={"X-Scope-OrgID": tenant},
            compression=Compression.Gzip,
            timeout=10,
        )
    )
    via_grpc = providers(
        lambda: GrpcExporter(
            endpoint=f"http://{grpc}",
            insecure=True,
            headers={"x-scope-orgid": tenant},
            timeout=10,
        )
    )
    # Ten seconds ago, a second apart: well inside any default time range.
    t0 = time.time_ns() - 10_000 * MS
    a, a_root = send_trace(
        via_http, t0, slow=True, payments_amount=42, error=True, with_payments=True
    )
    # B retries A: its root links to A's root.
    b, _ = send_trace(
        via_grpc,
        t0 + 1000 * MS,
        slow=False,
        payments_amount=5,
        error=False,
        with_payments=True,
        link_to=a_root,
    )
    c, _ = send_trace(
        via_grpc,
        t0 + 2000 * MS,
        slow=False,
        payments_amount=0,
        error=False,
        with_payments=False,
    )
    out = {"a": a, "b": b, "c": c}
    ok = True
    for name, provs in (("http", via_http), ("grpc", via_grpc)):
        for svc, (p, exporter) in provs.items():
            p.force_flush()
            p.shutdown()
            if not exporter.results or any(r != SpanExportResult.SUCCESS for r in exporter.results):
                print(f"{name} {svc}: {exporter.results}", file=sys.stderr)
                ok = False
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
