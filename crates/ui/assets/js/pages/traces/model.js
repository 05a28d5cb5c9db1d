/**
 * The trace model of the traces page: OTLP JSON (as /api/traces/<id> and
 * /api/v2/traces/<id> answer — camelCase or snake_case keys, ids in base64
 * or hex, enums as numbers or names) turned into a span tree with depths,
 * the critical path, and the colours of services.
 * @module pages/traces/model
 */

/** A field of an OTLP JSON object under its camelCase or snake_case name. */
export function field(obj, camel) {
  if (!obj || typeof obj !== 'object') return undefined;
  if (obj[camel] !== undefined) return obj[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[snake];
}

/**
 * An id as lower-case hex: hex text is kept, base64 (the protobuf JSON
 * mapping) is decoded. `bytes` is the id's length (16 for traces, 8 for spans).
 * @param {string} id
 * @param {number} bytes
 */
export function hexId(id, bytes) {
  if (!id) return '';
  const s = String(id).trim();
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(s)) return s.toLowerCase();
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    let out = '';
    for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, '0');
    if (/^0*$/.test(out)) return '';
    return out.padStart(bytes * 2, '0');
  } catch (e) {
    return /^[0-9a-fA-F]+$/.test(s) ? s.toLowerCase().padStart(bytes * 2, '0') : s;
  }
}

/** Normalises a trace id typed by a user (hex, any case, maybe short) or null. */
export function normaliseTraceId(text) {
  const s = String(text || '').trim().toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(s)) return null;
  return s.padStart(s.length > 16 ? 32 : 16, '0');
}

/** The value of an OTLP AnyValue as a JS value (arrays and maps recursively). */
export function anyValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return v;
  const pairs = [
    ['stringValue', (x) => String(x)], ['boolValue', (x) => x === true || x === 'true'],
    ['intValue', (x) => Number(x)], ['doubleValue', (x) => Number(x)], ['bytesValue', (x) => String(x)],
  ];
  for (const [k, conv] of pairs) {
    const x = field(v, k);
    if (x !== undefined) return conv(x);
  }
  const arr = field(v, 'arrayValue');
  if (arr) return (field(arr, 'values') || []).map(anyValue);
  const kv = field(v, 'kvlistValue');
  if (kv) return Object.fromEntries((field(kv, 'values') || []).map((p) => [p.key, anyValue(p.value)]));
  return null;
}

/** OTLP attributes as `[[key, value], …]` (order kept). */
export function attributes(list) {
  return (list || []).map((a) => [a.key, anyValue(a.value)]);
}

/** A value for display: strings as they are, everything else as JSON. */
export function showValue(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

function enumName(v, names, prefix) {
  if (v === undefined || v === null || v === '') return names[0];
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return names[Number(v)] || names[0];
  const s = String(v).toLowerCase().replace(prefix, '');
  return names.includes(s) ? s : names[0];
}

/** Nanoseconds as text/number → milliseconds (float, sub-ms kept). */
function nanosToMs(v) {
  if (v === undefined || v === null || v === '') return NaN;
  const s = String(v);
  if (/^\d+$/.test(s) && s.length > 6) return Number(s.slice(0, -6)) + Number(s.slice(-6)) / 1e6;
  return Number(s) / 1e6;
}

function parseSpan(s, resource, scope) {
  const start = nanosToMs(field(s, 'startTimeUnixNano'));
  const end = nanosToMs(field(s, 'endTimeUnixNano'));
  const status = field(s, 'status') || {};
  const rattrs = attributes(field(resource, 'attributes'));
  const service = (rattrs.find(([k]) => k === 'service.name') || [])[1] || 'unknown';
  return {
    traceId: hexId(field(s, 'traceId'), 16),
    id: hexId(field(s, 'spanId'), 8),
    parentId: hexId(field(s, 'parentSpanId'), 8),
    name: s.name || '',
    kind: enumName(s.kind, KINDS, 'span_kind_'),
    start, end, duration: Math.max(0, end - start),
    status: enumName(field(status, 'code'), STATUS, 'status_code_'),
    statusMessage: status.message || '',
    service: String(service),
    attributes: attributes(s.attributes),
    resource: rattrs,
    scope: scope ? { name: scope.name || '', version: scope.version || '' } : null,
    events: (s.events || []).map((e) => ({
      time: nanosToMs(field(e, 'timeUnixNano')), name: e.name || '', attributes: attributes(e.attributes),
    })),
    links: (s.links || []).map((l) => ({
      traceId: hexId(field(l, 'traceId'), 16), spanId: hexId(field(l, 'spanId'), 8), attributes: attributes(l.attributes),
    })),
    children: [], parent: null, depth: 0,
  };
}

/** All spans of an OTLP JSON trace document (any of the server's shapes). */
export function parseSpans(doc) {
  const root = doc && (doc.trace || doc);
  const batches = field(root, 'batches') || field(root, 'resourceSpans') || [];
  const out = [];
  for (const b of batches) {
    const resource = field(b, 'resource') || {};
    const scopes = field(b, 'scopeSpans') || field(b, 'instrumentationLibrarySpans') || [];
    for (const ss of scopes) {
      const scope = field(ss, 'scope') || field(ss, 'instrumentationLibrary');
      for (const s of ss.spans || []) out.push(parseSpan(s, resource, scope));
    }
  }
  return out;
}

/**
 * Builds the tree: `{spans (depth-first order), roots, byId, start, end,
 * duration, services, errors}`. Parents come before their children,
 * siblings by start time; spans whose parent is missing become roots.
 * @param {Array<object>} spans from {@link parseSpans}
 */
export function buildTrace(spans) {
  const byId = new Map();
  for (const s of spans) if (!byId.has(s.id)) byId.set(s.id, s);
  const roots = [];
  for (const s of byId.values()) {
    const p = s.parentId && s.parentId !== s.id ? byId.get(s.parentId) : null;
    if (p) { s.parent = p; p.children.push(s); } else roots.push(s);
  }
  const byStart = (a, b) => a.start - b.start || a.end - b.end || a.name.localeCompare(b.name);
  roots.sort(byStart);
  const order = [];
  const visit = (s, depth) => {
    s.depth = depth;
    order.push(s);
    s.children.sort(byStart);
    for (const c of s.children) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  const start = Math.min(...order.map((s) => s.start));
  const end = Math.max(...order.map((s) => s.end));
  const services = [...new Set(order.map((s) => s.service))];
  return {
    spans: order, roots, byId, start, end, duration: end - start, services,
    errors: order.filter((s) => s.status === 'error').length,
  };
}

/**
 * The critical path: the segments of spans that determine when the trace
 * ends. From each span's end, the last-finishing child (clamped to the
 * parent) is followed, then the time before that child's start is searched
 * for the next one, and so on; time not covered by a child is the span's own.
 * Returns `{segments: [{span, start, end}], ids: Set<spanId>}`.
 * @param {{roots: Array<object>}} trace
 */
export function criticalPath(trace) {
  const segments = [];
  const walk = (span, limit) => {
    let t = Math.min(span.end, limit);
    const kids = span.children
      .map((c) => ({ c, s: Math.max(c.start, span.start), e: Math.min(c.end, t) }))
      .filter((k) => k.e > k.s);
    while (t > span.start) {
      let best = null;
      for (const k of kids) if (k.e <= t && k.s < t && (!best || k.e > best.e)) best = k;
      if (!best) break;
      if (best.e < t) segments.push({ span, start: best.e, end: t });
      walk(best.c, best.e);
      t = best.s;
      kids.splice(kids.indexOf(best), 1);
    }
    if (t > span.start) segments.push({ span, start: span.start, end: t });
  };
  // The root that ends last (several roots: a trace with missing parents).
  const root = [...trace.roots].sort((a, b) => b.end - a.end)[0];
  if (root) walk(root, root.end);
  return { segments, ids: new Set(segments.map((s) => s.span.id)) };
}

// Colours of services: hues chosen to stay apart in both themes; the same
// service has the same colour on every page (waterfall, graph, results).
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#17becf', '#edc948', '#9c755f', '#6b6ecf', '#76b7b2', '#bcbd22', '#8c6d31', '#1f77b4'];

function hashIndex(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) { h ^= name.charCodeAt(i); h = Math.imul(h, 16777619); }
  return (h >>> 0) % PALETTE.length;
}

/**
 * Colours for a set of services: each its hashed colour unless another
 * service of the set took it first (sorted by name), then the next free one.
 * @param {Iterable<string>} names
 * @returns {Map<string, string>}
 */
export function serviceColors(names) {
  const out = new Map();
  const used = new Set();
  for (const n of [...new Set(names)].sort()) {
    let i = hashIndex(n);
    for (let k = 0; k < PALETTE.length && used.has(i); k++) i = (i + 1) % PALETTE.length;
    used.add(i);
    out.set(n, PALETTE[i]);
  }
  return out;
}
