/**
 * The sections of the status page: build info, storage per tenant and
 * signal, ingest rates, limits hit and HTTP requests. Each `render*`
 * fills a container from the data the page polled.
 * @module pages/status/sections
 */
import { h, clear, notice } from '../../lib/dom.js';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../../lib/format.js';
import { familyOf } from './promtext.js';

const SIGNALS = ['metrics', 'logs', 'traces'];
const COLLECTING = () => h('span', { class: 'status-collecting' }, 'collecting…');
const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

/** A rate as text: `0`, `0.2/s`, `1.23k/s`, or bytes/s. */
export function formatRate(r, bytes = false) {
  if (r === null || r === undefined) return null;
  if (r === 0) return '0/s';
  if (bytes && r >= 1024) return `${formatBytes(r)}/s`;
  return `${formatNumber(r, 3)}${bytes ? ' B' : ''}/s`;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sumOf(snap, name, match = {}) {
  if (!snap) return undefined;
  let total, any = false;
  for (const s of snap.exp.samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).some(([k, v]) => s.labels[k] !== v)) continue;
    total = (any ? total : 0) + s.value;
    any = true;
  }
  return any ? total : undefined;
}

/** Rate of a sum of counters between snapshots; null before the second one. */
export function sumRate(prev, cur, name, match = {}) {
  if (!prev || !cur || cur.t <= prev.t) return null;
  const now = sumOf(cur, name, match);
  if (now === undefined) return null;
  const before = sumOf(prev, name, match) ?? 0;
  return (now >= before ? now - before : now) / ((cur.t - prev.t) / 1000);
}

// ---------------------------------------------------------------- build

/**
 * Build and run-time facts.
 * @param {HTMLElement} el
 * @param {object|null} build /api/v1/status/buildinfo data
 * @param {object|null} status /ui/api/status data
 */
export function renderBuild(el, build, status) {
  clear(el);
  if (!build && !status) { el.append(h('p', { class: 'loading' }, 'Loading…')); return; }
  const b = build || {}, s = status || {};
  const start = s.startTime ? Date.parse(s.startTime) : NaN;
  const row = (k, v, cls) => [h('dt', {}, k), h('dd', { class: cls || null, dataset: { key: k.toLowerCase() } }, v === '' || v == null ? '—' : v)];
  el.append(h('dl', { class: 'status-facts' },
    row('Version', b.version || s.version, 'status-version mono'),
    row('Revision', b.revision || s.revision, 'mono'),
    b.branch ? row('Branch', b.branch, 'mono') : null,
    b.buildDate ? row('Built', b.buildDate) : null,
    row('Started', Number.isFinite(start) ? formatTime(start) : s.startTime),
    row('Uptime', Number.isFinite(start) ? formatDuration(Math.round((Date.now() - start) / 1000) * 1000) : '—', 'status-uptime'),
    row('Retention', s.retention),
    row('Default tenant', s.defaultTenant, 'mono'),
    row('Tenant header', s.requireTenant === undefined ? '—' : s.requireTenant ? 'Required (X-Scope-OrgID)' : 'Optional (default tenant without it)'),
    row('Signals', h('span', { class: 'status-signals' }, SIGNALS.map((sig) => {
      const ready = s.signals ? s.signals[sig] : undefined;
      return h('span', { class: `badge ${ready ? 'ok' : ready === false ? 'warn' : ''}`, dataset: { signal: sig }, title: ready ? `${sig} ready` : `${sig} not ready` },
        `${ready ? '●' : '○'} ${sig}${ready === false ? ' (starting)' : ''}`);
    })))));
}

// ---------------------------------------------------------------- storage

/**
 * Storage per tenant and signal, with totals per tenant and per signal.
 * @param {HTMLElement} el
 * @param {Array<{tenant:string, signal:string, objects:number, objectBytes:number, walBytes:number}>} usage
 */
export function renderStorage(el, usage) {
  clear(el);
  if (!usage) { el.append(h('p', { class: 'loading' }, 'Loading…')); return; }
  if (!usage.length) { el.append(notice('empty', 'Nothing stored yet: no tenant has sent data.')); return; }
  const tenants = [...new Set(usage.map((u) => u.tenant))].sort();
  const add = (a, u) => ({ objects: a.objects + u.objects, objectBytes: a.objectBytes + u.objectBytes, walBytes: a.walBytes + u.walBytes });
  const zero = { objects: 0, objectBytes: 0, walBytes: 0 };
  const bytes = (n) => h('td', { class: 'num', title: `${int(n)} bytes` }, formatBytes(n));
  const cells = (u) => [h('td', { class: 'num' }, int(u.objects)), bytes(u.objectBytes), bytes(u.walBytes), bytes(u.objectBytes + u.walBytes)];
  const order = (sig) => (SIGNALS.indexOf(sig) + 4) % 4;
  const body = h('tbody', {});
  for (const t of tenants) {
    const rows = usage.filter((u) => u.tenant === t).sort((a, b) => order(a.signal) - order(b.signal));
    rows.forEach((u, i) => body.append(h('tr', { dataset: { tenant: t, signal: u.signal } },
      i === 0 ? h('th', { scope: 'rowgroup', rowspan: rows.length + 1, class: 'status-tenant mono' }, t) : null,
      h('td', {}, u.signal), ...cells(u))));
    body.append(h('tr', { class: 'status-subtotal', dataset: { tenant: t, signal: 'total' } },
      h('td', {}, 'total'), ...cells(rows.reduce(add, zero))));
  }
  const foot = h('tfoot', {});
  const sigs = [...new Set(usage.map((u) => u.signal))].sort((a, b) => order(a) - order(b));
  sigs.forEach((sig, i) => foot.append(h('tr', { dataset: { total: sig } },
    i === 0 ? h('th', { scope: 'rowgroup', rowspan: sigs.length + 1 }, 'All tenants') : null,
    h('td', {}, sig), ...cells(usage.filter((u) => u.signal === sig).reduce(add, zero)))));
  foot.append(h('tr', { class: 'status-grand', dataset: { total: 'all' } }, h('td', {}, 'total'), ...cells(usage.reduce(add, zero))));
  el.append(h('div', { class: 'table-scroll status-table-wrap' }, h('table', { class: 'data status-storage' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Tenant'), h('th', { scope: 'col' }, 'Signal'),
      h('th', { class: 'num', scope: 'col' }, 'Objects'), h('th', { class: 'num', scope: 'col', title: 'Bytes of blocks and segments in the object store' }, 'In object store'),
      h('th', { class: 'num', scope: 'col', title: 'Bytes of write-ahead log on local disk, not yet flushed' }, 'WAL'),
      h('th', { class: 'num', scope: 'col' }, 'Total'))),
    body, foot)));
}

// ---------------------------------------------------------------- ingest

/** Ingest counters: received per tenant, and stored (all tenants). */
export const INGEST = [
  { signal: 'metrics', label: 'Samples', received: 'argus_ingest_samples_received_total', stored: 'argus_tsdb_samples_appended_total' },
  { signal: 'metrics', label: 'Exemplars', received: 'argus_ingest_exemplars_received_total', stored: 'argus_tsdb_exemplars_appended_total' },
  { signal: 'logs', label: 'Log lines', received: 'argus_ingest_log_lines_received_total', stored: 'argus_logs_entries_appended_total' },
  { signal: 'logs', label: 'Log bytes', received: 'argus_ingest_log_bytes_received_total', stored: 'argus_logs_bytes_appended_total', bytes: true },
  { signal: 'traces', label: 'Spans', received: 'argus_ingest_spans_received_total', stored: 'argus_traces_spans_appended_total' },
  { signal: 'traces', label: 'Span bytes', received: 'argus_ingest_span_bytes_received_total', stored: 'argus_traces_bytes_appended_total', bytes: true },
];

function rateCell(prev, cur, name, match, bytes, key) {
  const total = sumOf(cur, name, match);
  const r = sumRate(prev, cur, name, match);
  const text = formatRate(r, bytes);
  return h('td', { class: ['num', r > 0 ? 'status-active' : r === 0 ? 'status-idle' : null], dataset: { key } },
    h('div', { class: 'status-rate' }, text === null ? (total === undefined ? '—' : COLLECTING()) : text),
    total === undefined ? null : h('div', { class: 'status-total', title: `${int(total)} since start` }, bytes ? formatBytes(total) : int(total)));
}

/**
 * Per-tenant ingest rates of each signal, stored rates below.
 * @param {HTMLElement} el
 * @param {object|null} prev previous snapshot
 * @param {object} cur latest snapshot
 */
export function renderIngest(el, prev, cur) {
  clear(el);
  const tenants = new Set();
  for (const s of cur.exp.samples) if (INGEST.some((d) => d.received === s.name) && s.labels.tenant !== undefined) tenants.add(s.labels.tenant);
  const head = h('thead', {},
    h('tr', {}, h('th', { rowspan: 2, scope: 'col' }, 'Tenant'),
      SIGNALS.map((sig) => h('th', { colspan: INGEST.filter((d) => d.signal === sig).length, scope: 'colgroup', class: 'status-group' }, sig))),
    h('tr', {}, INGEST.map((d) => h('th', { class: 'num', scope: 'col', title: d.received }, `${d.label}/s`))));
  const body = h('tbody', {});
  for (const t of [...tenants].sort()) {
    body.append(h('tr', { dataset: { tenant: t } }, h('th', { scope: 'row', class: 'mono' }, t),
      INGEST.map((d) => rateCell(prev, cur, d.received, { tenant: t }, d.bytes, d.label))));
  }
  if (!tenants.size) body.append(h('tr', {}, h('td', { colspan: INGEST.length + 1, class: 'status-none' }, 'Nothing received since the server started.')));
  const foot = h('tfoot', {}, h('tr', { dataset: { tenant: '*stored' } },
    h('th', { scope: 'row', title: 'Written to storage, all tenants' }, 'Stored (all)'),
    INGEST.map((d) => rateCell(prev, cur, d.stored, {}, d.bytes, d.label))));
  el.append(h('div', { class: 'table-scroll status-table-wrap' }, h('table', { class: 'data status-ingest' }, head, body, foot)));
}

// ---------------------------------------------------------------- limits

const LIMIT_RE = /^argus_\w*?(_rejected_total|_refused_\w*_total|_limit_exceeded_total|_queue_timeouts_total|_sink_errors_total|_duplicate_samples_total|_out_of_bounds_samples_total)$/;

function signalOf(name) {
  if (/log/.test(name)) return 'logs';
  if (/span|traces/.test(name)) return 'traces';
  if (/scrape/.test(name)) return 'scrape';
  if (/query/.test(name)) return 'queries';
  return 'metrics';
}

function handlerSignal(handler) {
  if (handler.startsWith('/ui/')) return 'ui';
  if (/loki|logs/.test(handler)) return 'logs';
  if (/trace|tempo|jaeger|zipkin|span|\/api\/search/.test(handler)) return 'traces';
  if (/metrics|\/api\/v1\/(push|write|import)|prom/.test(handler)) return 'metrics';
  return 'api';
}

/** Rows of limits hit: rejected/refused counters by reason, 429 and 413 answers. */
export function limitRows(prev, cur) {
  const rows = [];
  for (const s of cur.exp.samples) {
    if (!LIMIT_RE.test(s.name) || !(s.value > 0)) continue;
    const fam = familyOf(cur.exp, s.name);
    const what = fam && fam.help ? fam.help.replace(/,? by reason.*$/i, '').replace(/\s*\(.*\)\s*$/, '') : s.name;
    const { reason, tenant, ...rest } = s.labels;
    rows.push({ signal: signalOf(s.name), what, reason: reason || Object.values(rest).join(' ') || '—', tenant: tenant || '', total: s.value,
      rate: sumRate(prev, cur, s.name, s.labels), metric: s.name });
  }
  for (const code of ['429', '413']) {
    for (const s of cur.exp.samples) {
      if (s.name !== 'argus_http_request_duration_seconds_count' || s.labels.code !== code || !(s.value > 0)) continue;
      rows.push({ signal: handlerSignal(s.labels.handler || ''), what: code === '429' ? 'HTTP 429 Too Many Requests (rate limited)' : 'HTTP 413 Payload Too Large',
        reason: s.labels.handler || '—', tenant: '', total: s.value, rate: sumRate(prev, cur, s.name, s.labels), metric: s.name });
    }
  }
  return rows.sort((a, b) => b.total - a.total);
}

/**
 * The limits-hit table (or a reassuring empty state).
 * @param {HTMLElement} el
 */
export function renderLimits(el, prev, cur) {
  clear(el);
  const rows = limitRows(prev, cur);
  if (!rows.length) {
    el.append(h('p', { class: 'status-ok' }, h('span', { class: 'badge ok' }, '✓'), ' No limit hit and nothing rejected since the server started.'));
    return;
  }
  el.append(h('div', { class: 'table-scroll status-table-wrap' }, h('table', { class: 'data status-limits' },
    h('thead', {}, h('tr', {}, ['Signal', 'What', 'Reason', 'Tenant'].map((x) => h('th', { scope: 'col' }, x)),
      h('th', { class: 'num', scope: 'col' }, 'Count'), h('th', { class: 'num', scope: 'col' }, 'Now'))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { reason: r.reason, tenant: r.tenant }, title: r.metric },
      h('td', {}, r.signal), h('td', {}, r.what), h('td', { class: 'mono' }, r.reason), h('td', { class: 'mono' }, r.tenant || '—'),
      h('td', { class: 'num' }, int(r.total)),
      h('td', { class: ['num', r.rate > 0 ? 'status-bad' : null] }, formatRate(r.rate) ?? COLLECTING())))))));
}

// ---------------------------------------------------------------- http

const CLASSES = ['2xx', '3xx', '4xx', '5xx'];

/**
 * HTTP requests by status class (cards) and by handler (table; the 25
 * busiest unless `opts.all`, with a button calling `opts.onToggle`).
 */
export function renderHttp(el, prev, cur, opts = {}) {
  clear(el);
  const name = 'argus_http_request_duration_seconds_count';
  const samples = cur.exp.samples.filter((s) => s.name === name);
  if (!samples.length) { el.append(notice('empty', 'No HTTP requests counted yet.')); return; }
  const byClass = (cls, match = {}) => samples.filter((s) => (s.labels.code || '')[0] === cls[0] && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  const classRate = (cls, match) => {
    const ss = byClass(cls, match);
    if (!prev) return null;
    const dt = (cur.t - prev.t) / 1000;
    return ss.reduce((a, s) => { const b = sumOf(prev, name, s.labels) ?? 0; return a + (s.value >= b ? s.value - b : s.value); }, 0) / dt;
  };
  const classTotal = (cls, match) => byClass(cls, match).reduce((a, s) => a + s.value, 0);
  el.append(h('div', { class: 'status-cards' }, CLASSES.map((c) => h('div', { class: `status-card status-class-${c}`, dataset: { class: c } },
    h('div', { class: 'status-card-label' }, c),
    h('div', { class: 'status-card-value' }, formatRate(classRate(c)) ?? COLLECTING()),
    h('div', { class: 'status-total' }, `${int(classTotal(c))} total`)))));
  const handlers = [...new Set(samples.map((s) => s.labels.handler || '—'))];
  const stats = handlers.map((hd) => {
    const m = { handler: hd };
    const rate = CLASSES.reduce((a, c) => a + (classRate(c, m) || 0), 0);
    const total = CLASSES.reduce((a, c) => a + classTotal(c, m), 0);
    const sum = sumOf(cur, 'argus_http_request_duration_seconds_sum', m);
    return { hd, rate: prev ? rate : null, total, ok: classTotal('2xx', m), c4: classTotal('4xx', m), c5: classTotal('5xx', m), avg: sum !== undefined && total ? (sum / total) * 1000 : NaN };
  }).sort((a, b) => (b.rate || 0) - (a.rate || 0) || b.total - a.total);
  el.append(h('div', { class: 'table-scroll status-table-wrap' }, h('table', { class: 'data status-http' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Handler'), ['Requests/s', 'Total', '2xx', '4xx', '5xx', 'Mean latency'].map((x) => h('th', { class: 'num', scope: 'col' }, x)))),
    h('tbody', {}, (opts.all ? stats : stats.slice(0, 25)).map((s) => h('tr', { dataset: { handler: s.hd } },
      h('td', { class: 'mono' }, s.hd),
      h('td', { class: ['num', s.rate === 0 ? 'status-idle' : null] }, formatRate(s.rate) ?? COLLECTING()),
      h('td', { class: 'num' }, int(s.total)), h('td', { class: 'num' }, int(s.ok)),
      h('td', { class: ['num', s.c4 ? 'status-warn' : null] }, int(s.c4)), h('td', { class: ['num', s.c5 ? 'status-bad' : null] }, int(s.c5)),
      h('td', { class: 'num' }, Number.isFinite(s.avg) ? formatDuration(s.avg) : '—')))))));
  if (stats.length > 25) {
    el.append(h('button', { type: 'button', class: 'status-more', 'aria-expanded': String(!!opts.all), onClick: opts.onToggle },
      opts.all ? 'Show the 25 busiest handlers' : `Show all ${stats.length} handlers`));
  }
}
