// Known metrics, logs and traces for the UI's end-to-end tests, sent to a
// running Argus over its public write APIs (OTLP/HTTP JSON for metrics and
// traces, Loki's push JSON for logs), all relative to `now`.
//
//   node fixture.mjs http://127.0.0.1:9009 [tenant]   → prints the facts as JSON
//
// The tests import `ingest` and assert against the facts it returns.

const MIN = 60_000;

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');
const nanos = (ms) => `${Math.round(ms)}000000`;
const attr = (key, value) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: String(value) } });

async function post(base, path, body, tenant, type = 'application/json') {
  const headers = { 'Content-Type': type };
  if (tenant) headers['X-Scope-OrgID'] = tenant;
  const r = await fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
}

// ---------------------------------------------------------------- traces
/** The trace every test opens: a checkout through four services. */
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
/** Spans of the known trace: [id, parent, service, name, kind, startMs, endMs, error?]. */
export const TRACE_SPANS = [
  ['a000000000000001', '', 'frontend', 'GET /checkout', 2, 0, 120],
  ['a000000000000002', 'a000000000000001', 'frontend', 'POST /api/checkout', 3, 5, 110],
  ['a000000000000003', 'a000000000000002', 'checkout', 'POST /api/checkout', 2, 10, 105],
  ['a000000000000004', 'a000000000000003', 'checkout', 'SELECT orders', 3, 15, 40],
  ['a000000000000005', 'a000000000000003', 'checkout', 'GET /cart', 3, 45, 95, true],
  ['a000000000000006', 'a000000000000005', 'cart', 'GET /cart', 2, 50, 92, true],
  ['a000000000000007', 'a000000000000006', 'cart', 'redis GET', 3, 55, 70],
];

function traceRequest(traceId, t0, spans, extraAttrs = {}) {
  const byService = new Map();
  for (const [id, parent, service, name, kind, s, e, error] of spans) {
    const span = {
      traceId, spanId: id, parentSpanId: parent, name, kind,
      startTimeUnixNano: nanos(t0 + s), endTimeUnixNano: nanos(t0 + e),
      attributes: [attr('http.route', name), ...Object.entries(extraAttrs).map(([k, v]) => attr(k, v))],
      status: error ? { code: 2, message: 'upstream failed' } : { code: 0 },
      events: error ? [{ timeUnixNano: nanos(t0 + e - 1), name: 'exception', attributes: [attr('exception.message', 'cart unavailable')] }] : [],
    };
    if (!byService.has(service)) byService.set(service, []);
    byService.get(service).push(span);
  }
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [attr('service.name', service)] },
      scopeSpans: [{ scope: { name: 'argus-ui-fixture' }, spans }],
    })),
  };
}

async function ingestTraces(base, tenant, now) {
  const traceStart = now - 10 * MIN;
  await post(base, '/v1/traces', traceRequest(TRACE_ID, traceStart, TRACE_SPANS, { 'user.id': 'u-42' }), tenant);
  // 20 more traces of the same shape, successful, for search results and the service graph.
  const r = rng(7);
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const id = hex(0xabc00000 + i, 4) + hex(Math.floor(r() * 2 ** 32), 4) + hex(i, 8);
    // Span ids `b<i as 2 hex digits><the known span's last 13>`: 8 bytes, distinct.
    const other = (sid) => (sid ? `b${hex(i, 1)}${sid.slice(3)}` : '');
    const spans = TRACE_SPANS.map(([sid, parent, ...rest]) => [other(sid), other(parent), ...rest.slice(0, 5), false]);
    await post(base, '/v1/traces', traceRequest(id, now - (30 - i) * MIN, spans, { 'user.id': `u-${i}` }), tenant);
    ids.push(id);
  }
  return { traceId: TRACE_ID, traceStartMs: traceStart, otherTraceIds: ids, spans: TRACE_SPANS };
}

// ---------------------------------------------------------------- metrics
function gauge(name, description, unit, points) {
  return { name, description, unit, gauge: { dataPoints: points } };
}

function point(ms, value, labels, exemplars) {
  return {
    timeUnixNano: nanos(ms), asDouble: value,
    attributes: Object.entries(labels).map(([k, v]) => attr(k, v)),
    exemplars,
  };
}

async function ingestMetrics(base, tenant, now) {
  const step = 15_000;
  const end = Math.floor(now / step) * step;
  // ui_queue_depth{queue=a|b|c}: constant 10, 20, 30 over the last hour.
  const queues = { a: 10, b: 20, c: 30 };
  const depth = [];
  for (const [q, v] of Object.entries(queues)) {
    for (let t = end - 60 * MIN; t <= end; t += step) depth.push(point(t, v, { queue: q }));
  }
  // ui_http_requests_total{service, code}: counters rising 1/s (code 200) and 0.1/s (500),
  // the 500s carrying exemplars that point at the known trace.
  const reqs = [];
  for (const service of ['checkout', 'cart']) {
    for (const [code, perSec] of [['200', 1], ['500', 0.1]]) {
      for (let t = end - 60 * MIN, n = 0; t <= end; t += step, n += perSec * step / 1000) {
        const ex = code === '500' && (t / step) % 20 === 0
          ? [{ timeUnixNano: nanos(t), asDouble: 1, traceId: TRACE_ID, spanId: 'a000000000000005', filteredAttributes: [] }]
          : undefined;
        reqs.push({ ...point(t, n, { service, code }, ex), startTimeUnixNano: nanos(end - 61 * MIN) });
      }
    }
  }
  const body = {
    resourceMetrics: [{
      resource: { attributes: [] },
      scopeMetrics: [{
        scope: { name: 'argus-ui-fixture' },
        metrics: [
          gauge('ui_queue_depth', 'Jobs waiting in a queue.', '', depth),
          {
            name: 'ui_http_requests_total', description: 'HTTP requests served.', unit: '',
            sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: reqs },
          },
        ],
      }],
    }],
  };
  await post(base, '/v1/metrics', body, tenant);
  // ui_perf_wave{i=0..49}: a point every 5 minutes over the last 42 hours, for the
  // 50-series × 10k-point chart (`perfQuery`, step 15s).
  const wave = [];
  for (let i = 0; i < 50; i++) {
    for (let t = end - 42 * 60 * MIN; t <= end; t += 5 * MIN) wave.push(point(t, i + 1, { i: String(i).padStart(2, '0') }));
  }
  await post(base, '/v1/metrics', {
    resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: {}, metrics: [gauge('ui_perf_wave', 'Synthetic series for the chart benchmark.', '', wave)] }] }],
  }, tenant);
  return { metricsEndMs: end, queues, perfSeries: 50, perfQuery: 'ui_perf_wave * on() group_left() (1.5 + sin(vector(time()) / 3000))' };
}

// ---------------------------------------------------------------- logs
async function ingestLogs(base, tenant, now) {
  const r = rng(11);
  const streams = [];
  const levels = ['info', 'info', 'info', 'warn', 'error'];
  // {service="checkout"|"cart", level=…}: 120 logfmt lines each over the last 30 minutes.
  for (const service of ['checkout', 'cart']) {
    const byLevel = {};
    for (let i = 0; i < 120; i++) {
      const level = levels[Math.floor(r() * levels.length)];
      const t = now - 30 * MIN + i * 15_000;
      const line = `level=${level} msg="handled request" service=${service} order=${1000 + i} duration_ms=${Math.floor(r() * 300)}`;
      (byLevel[level] ||= []).push([nanos(t), line]);
    }
    for (const [level, values] of Object.entries(byLevel)) streams.push({ stream: { service, level }, values });
  }
  // The line that leads to the known trace, with the trace id in the line and as structured metadata.
  const failT = now - 10 * MIN + 95;
  const failLine = `level=error msg="payment failed: cart unavailable" service=checkout order=4242 trace_id=${TRACE_ID}`;
  streams.push({ stream: { service: 'checkout', level: 'error' }, values: [[nanos(failT), failLine, { trace_id: TRACE_ID, user_id: 'u-42' }]] });
  await post(base, '/loki/api/v1/push', { streams }, tenant);
  // {service="bulk"}: 5,000 lines over the last 50 minutes, for the virtualised list.
  const bulk = [];
  for (let i = 0; i < 5000; i++) bulk.push([nanos(now - 50 * MIN + i * 600), `level=info msg="bulk line ${String(i).padStart(4, '0')}" seq=${i}`]);
  await post(base, '/loki/api/v1/push', { streams: [{ stream: { service: 'bulk', level: 'info' }, values: bulk }] }, tenant);
  return { failLine, failLineMs: failT, bulkLines: 5000 };
}

/** Sends everything; returns the facts the tests check. */
export async function ingest(base, { tenant = '' } = {}) {
  const now = Date.now();
  const metrics = await ingestMetrics(base, tenant, now);
  const logs = await ingestLogs(base, tenant, now);
  const traces = await ingestTraces(base, tenant, now);
  return { now, tenant, ...metrics, ...logs, ...traces };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const facts = await ingest(process.argv[2] || 'http://127.0.0.1:9009', { tenant: process.argv[3] || '' });
  console.log(JSON.stringify(facts, null, 1));
}
