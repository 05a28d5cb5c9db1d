/**
 * The span details panel of the trace view: identity, timing, status,
 * attributes (span and resource), events with their offsets, links, and
 * the ways on to the span's logs, its service's RED metrics and traces.
 * @module pages/traces/details
 */
import { h } from '../../lib/dom.js';
import { formatDuration, formatTime, formatClock } from '../../lib/format.js';
import { showValue } from './model.js';

const PROM_STR = (s) => JSON.stringify(String(s));

/** A LogQL stream selector + line filter for a trace's logs in some services. */
export function logsQuery(services, traceId) {
  const sel = services.length === 1
    ? `service=${PROM_STR(services[0])}`
    : `service=~${PROM_STR(services.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))}`;
  return `{${sel}} |= ${PROM_STR(traceId)}`;
}

/** The PromQL queries of a service's RED metrics from the span metrics. */
export function redQueries(service) {
  const svc = `service=${PROM_STR(service)}`;
  return [
    `sum by (span_name) (rate(traces_spanmetrics_calls_total{${svc}}[5m]))`,
    `sum by (span_name) (rate(traces_spanmetrics_calls_total{${svc}, status_code="STATUS_CODE_ERROR"}[5m]))`,
    `histogram_quantile(0.95, sum by (le, span_name) (rate(traces_spanmetrics_latency_bucket{${svc}}[5m])))`,
  ];
}

/**
 * A window around a trace for the pages it links to: the current range if
 * it holds the trace, else the trace ± `padMs`.
 */
export function windowAround(ctx, startMs, endMs, padMs) {
  try {
    const r = ctx.time.resolve();
    if (r.start <= startMs && r.end >= endMs) return {};
  } catch (e) { /* a bad range: use the window */ }
  return { from: String(Math.floor(startMs - padMs)), to: String(Math.ceil(endMs + padMs)) };
}

function kv(rows, empty) {
  if (!rows.length) return h('p', { class: 'hint' }, empty);
  return h('table', { class: 'data tr-kv' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {},
    h('th', { scope: 'row' }, k), h('td', { class: 'mono' }, showValue(v))))));
}

function section(title, count, body) {
  return h('section', { class: 'tr-details-section' },
    h('h3', {}, title, count !== null ? h('span', { class: 'badge' }, String(count)) : null), body);
}

/**
 * Renders the details of `span` of `trace`.
 * @param {object} ctx the page context
 * @param {object} trace from model.buildTrace
 * @param {object} span
 * @param {{colors: Map<string,string>, critical: Set<string>, onClose(): void, onSelect(id: string): void}} opts
 * @returns {HTMLElement}
 */
export function renderDetails(ctx, trace, span, opts) {
  const s = span;
  const off = (ms) => `+${formatDuration(ms - trace.start)}`;
  const err = s.status === 'error';
  const head = h('div', { class: 'tr-details-head' },
    h('span', { class: 'svc-chip', style: { background: opts.colors.get(s.service) }, 'aria-hidden': 'true' }),
    h('div', { class: 'grow' },
      h('h2', { id: 'tr-details-title' }, s.name || '(no name)'),
      h('div', { class: 'hint' }, s.service)),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the span details', title: 'Close (Esc)', onclick: opts.onClose }, '×'));
  const badges = h('div', { class: 'tr-badges' },
    h('span', { class: 'badge' }, s.kind),
    h('span', { class: `badge ${err ? 'error' : s.status === 'ok' ? 'ok' : ''}` }, `status: ${s.status}`),
    opts.critical.has(s.id) ? h('span', { class: 'badge tr-cp-badge' }, 'critical path') : null);
  const parentBtn = s.parent
    ? h('button', { type: 'button', class: 'linklike mono', onclick: () => opts.onSelect(s.parent.id), title: `Show ${s.parent.name}` }, s.parentId)
    : h('span', { class: 'mono' }, s.parentId || '— (root)');
  const facts = h('dl', { class: 'tr-facts' },
    dt('Service', s.service), dt('Name', s.name), dt('Kind', s.kind),
    dt('Status', err ? h('span', { class: 'tr-status-error' }, `error${s.statusMessage ? `: ${s.statusMessage}` : ''}`) : s.status + (s.statusMessage ? `: ${s.statusMessage}` : '')),
    dt('Start', h('span', {}, off(s.start), h('span', { class: 'hint' }, ` · ${formatTime(s.start)}.${String(Math.floor(s.start % 1000)).padStart(3, '0')}`))),
    dt('Duration', formatDuration(s.duration)),
    dt('Span ID', h('span', { class: 'mono' }, s.id)),
    dt('Parent ID', parentBtn),
    s.scope && s.scope.name ? dt('Scope', `${s.scope.name}${s.scope.version ? ` ${s.scope.version}` : ''}`) : null);
  return h('aside', { class: 'panel tr-details', 'aria-labelledby': 'tr-details-title', dataset: { spanId: s.id } },
    head, badges, actions(ctx, trace, s), facts,
    section('Attributes', s.attributes.length, kv(s.attributes, 'No span attributes.')),
    section('Events', s.events.length, events(s, off)),
    section('Links', s.links.length, links(ctx, s)),
    section('Resource', s.resource.length, kv(s.resource, 'No resource attributes.')));
}

function dt(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function actions(ctx, trace, s) {
  const win = windowAround(ctx, trace.start, trace.end, 15 * 60_000);
  const metricsWin = windowAround(ctx, trace.start, trace.end, 60 * 60_000);
  return h('div', { class: 'tr-actions' },
    h('a', { class: 'button', href: ctx.href('/ui/logs', { query: logsQuery([s.service], trace.spans[0].traceId), ...win }) }, `Logs of ${s.service} for this trace`),
    h('a', { class: 'button', href: ctx.href('/ui/metrics', { q: redQueries(s.service), ...metricsWin }) }, `RED metrics of ${s.service}`),
    h('a', { class: 'button', href: ctx.href('/ui/traces', { service: s.service, name: s.name, q: `{ resource.service.name = ${PROM_STR(s.service)} && name = ${PROM_STR(s.name)} }` }) }, 'Similar spans'));
}

function events(s, off) {
  if (!s.events.length) return h('p', { class: 'hint' }, 'No events.');
  return h('ol', { class: 'tr-events' }, [...s.events].sort((a, b) => a.time - b.time).map((e) => h('li', { class: e.name === 'exception' ? 'tr-event tr-event-exception' : 'tr-event' },
    h('div', { class: 'tr-event-head' },
      h('span', { class: 'mono tr-event-time', title: formatClock(e.time) }, off(e.time)),
      h('strong', {}, e.name || '(event)'),
      h('span', { class: 'hint' }, `${formatDuration(e.time - s.start)} into the span`)),
    e.attributes.length ? kv(e.attributes, '') : null)));
}

function links(ctx, s) {
  if (!s.links.length) return h('p', { class: 'hint' }, 'No links.');
  return h('ul', { class: 'tr-links' }, s.links.map((l) => h('li', {},
    h('a', { href: ctx.href(`/ui/traces/${l.traceId}`, { span: l.spanId }), class: 'mono' }, `${l.traceId} / ${l.spanId}`),
    l.attributes.length ? kv(l.attributes, '') : null)));
}
