/**
 * The service graph view (/ui/traces?view=graph): services as nodes and
 * client → server calls as edges, labelled with the request count and
 * rate, error ratio and latency over the time range from the
 * traces_service_graph_* metrics (falling back to /jaeger/api/dependencies),
 * drawn in SVG, with a table of the same edges below.
 * @module pages/traces/servicegraph
 */
import { h, notice } from '../../lib/dom.js';
import { formatDuration, formatNumber } from '../../lib/format.js';
import { describeRange } from '../../lib/time.js';
import { layeredLayout } from './graphlayout.js';
import { serviceColors } from './model.js';

const M = 'traces_service_graph_request';
const NODE_W = 150, NODE_H = 46;

/** The PromQL of each edge figure over a range of `r` (e.g. `3600s`). */
export function graphQueries(r) {
  const by = 'sum by (client, server, connection_type)';
  return {
    total: `${by} (increase(${M}_total[${r}]))`,
    totalRaw: `${by} (last_over_time(${M}_total[${r}]))`,
    failed: `${by} (increase(${M}_failed_total[${r}]))`,
    failedRaw: `${by} (last_over_time(${M}_failed_total[${r}]))`,
    sum: `${by} (increase(${M}_server_seconds_sum[${r}]))`,
    count: `${by} (increase(${M}_server_seconds_count[${r}]))`,
    sumRaw: `${by} (last_over_time(${M}_server_seconds_sum[${r}]))`,
    countRaw: `${by} (last_over_time(${M}_server_seconds_count[${r}]))`,
    p50: `histogram_quantile(0.5, sum by (client, server, le) (increase(${M}_server_seconds_bucket[${r}])))`,
  };
}

/** Fetches the edges from the metrics: `[{client, server, requests, failed, rate, errorRatio, p50, mean, fromTotals, virtual}]`. */
export async function loadMetricEdges(api, range, signal) {
  const secs = Math.max(1, Math.round((range.end - range.start) / 1000));
  const qs = graphQueries(`${secs}s`);
  const time = (range.end / 1000).toFixed(3);
  const results = await Promise.all(Object.entries(qs).map(async ([k, query]) => {
    const d = await api.data(api.postForm('/api/v1/query', { query, time }, { signal }));
    return [k, d.result || []];
  }));
  const edges = new Map();
  const edge = (m) => {
    const key = `${m.client}\u0000${m.server}`;
    if (!edges.has(key)) edges.set(key, { client: m.client || '?', server: m.server || '?' });
    return edges.get(key);
  };
  for (const [k, list] of results) {
    for (const r of list) {
      const e = edge(r.metric), v = Number(r.value[1]);
      // Sums over connection types add up; the quantile is per edge already.
      e[k] = k === 'p50' ? v : (e[k] || 0) + v;
      if (r.metric.connection_type === 'virtual_node') e.virtual = true;
    }
  }
  const out = [];
  for (const e of edges.values()) {
    // Counters that started inside the range can show no increase: the totals are used then.
    const fromTotals = !(e.total > 0) && e.totalRaw > 0;
    const requests = fromTotals ? e.totalRaw : (e.total || 0);
    if (!(requests > 0)) continue;
    const failed = (fromTotals ? e.failedRaw : e.failed) || 0;
    // A sum without a starting zero sample shows no increase while its count does: use the totals' mean then.
    const mean = !fromTotals && e.sum > 0 && e.count > 0 ? e.sum / e.count : e.sumRaw / e.countRaw;
    out.push({
      client: e.client, server: e.server, requests, failed, fromTotals, virtual: !!e.virtual,
      rate: requests / secs, errorRatio: Math.min(1, failed / requests),
      p50: Number.isFinite(e.p50) ? e.p50 * 1000 : NaN, mean: Number.isFinite(mean) ? mean * 1000 : NaN,
    });
  }
  return out.sort((a, b) => a.client.localeCompare(b.client) || a.server.localeCompare(b.server));
}

/** The fallback: call counts between services of the stored traces. */
async function loadDependencies(api, range, signal) {
  const d = await api.get('/jaeger/api/dependencies', { endTs: Math.round(range.end), lookback: Math.round(range.end - range.start) }, { signal });
  const secs = Math.max(1, (range.end - range.start) / 1000);
  return (d.data || []).map((x) => ({
    client: x.parent, server: x.child, requests: Number(x.callCount) || 0, failed: NaN,
    rate: (Number(x.callCount) || 0) / secs, errorRatio: NaN, p50: NaN, mean: NaN, fromTotals: false,
  }));
}

const fmtRate = (perSec) => (perSec >= 1 ? `${formatNumber(perSec, 3)}/s` : `${formatNumber(perSec * 60, 3)}/min`);
const fmtPct = (r) => (Number.isFinite(r) ? `${formatNumber(r * 100, 3)}%` : '–');
const fmtReq = (n) => (n >= 1 ? String(Math.round(n)) : formatNumber(n, 3));
const fmtMs = (ms) => (Number.isFinite(ms) ? formatDuration(ms) : '–');

/**
 * Mounts the service graph view.
 * @param {HTMLElement} root
 * @param {object} ctx
 * @returns {{refresh(): Promise<void>, unmount(): void}}
 */
export function mountGraph(root, ctx) {
  let controller = null;
  const status = h('div', { class: 'hint', role: 'status' });
  const body = h('div', { class: 'sg-body' });
  root.append(h('section', { class: 'panel sg-panel', 'aria-labelledby': 'sg-title' },
    h('div', { class: 'panel-header' }, h('h2', { id: 'sg-title' }, 'Service graph'), status),
    body));
  async function load() {
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    let range;
    try { range = ctx.time.resolve(); } catch (e) { body.replaceChildren(notice('error', e.message)); return; }
    body.setAttribute('aria-busy', 'true');
    if (!body.firstChild) body.append(h('p', { class: 'loading' }, 'Loading the service graph…'));
    let edges = [], source = 'metrics', warn = null;
    try {
      edges = await loadMetricEdges(ctx.api, range, signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      warn = `The service graph metrics could not be queried (${e.message}).`;
    }
    if (!edges.length) {
      try {
        edges = await loadDependencies(ctx.api, range, signal);
        source = 'dependencies';
      } catch (e) {
        if (e.name === 'AbortError') return;
        body.replaceChildren(notice('error', `Could not load the service graph: ${e.message}`));
        body.removeAttribute('aria-busy');
        return;
      }
    }
    if (signal.aborted) return;
    body.removeAttribute('aria-busy');
    status.textContent = source === 'metrics'
      ? `From traces_service_graph_* metrics · ${describeRange(ctx.time.get())}`
      : `From stored traces (call counts only) · ${describeRange(ctx.time.get())}`;
    renderServiceGraph(body, ctx, edges, source, warn);
  }
  load();
  return { refresh: load, unmount: () => controller && controller.abort() };
}

/**
 * Draws the graph and the table of `edges` into `body` (`source`:
 * 'metrics' or 'dependencies'; `warn`: a message shown above, or null).
 */
export function renderServiceGraph(body, ctx, edges, source, warn) {
  const parts = [];
  if (warn) parts.push(notice('error', warn));
  if (!edges.length) {
    parts.push(notice('empty', `No calls between services in ${describeRange(ctx.time.get())}. The graph is built from client and server spans of the same trace; widen the time range, or check that services send both.`));
    body.replaceChildren(...parts);
    return;
  }
  if (source === 'dependencies') parts.push(h('p', { class: 'hint' }, 'The service graph metrics have no data for this range; the edges below are counted from stored traces, without error ratios or latencies.'));
  if (edges.some((e) => e.fromTotals)) parts.push(h('p', { class: 'hint' }, '* These counters started inside the range; their totals since they started are shown.'));
  parts.push(drawGraph(ctx, edges), edgeTable(ctx, edges));
  body.replaceChildren(...parts);
}

const searchUrl = (ctx, svc) => ctx.href('/ui/traces', { service: svc, q: `{ resource.service.name = ${JSON.stringify(svc)} }` });

/** The point of a cubic Bézier at t = 0.5. */
const mid = (p0, p1, p2, p3) => [(p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8, (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8];

/** The SVG path of a route from the layout and where its label goes. */
function routePath(route) {
  const pts = route.points;
  if (route.kind === 'back') {
    const [[ax, ay], [bx, by]] = pts;
    const y = route.lane, r = 14, dir = bx < ax ? -1 : 1;
    return {
      d: `M ${ax} ${ay} L ${ax} ${y - r} Q ${ax} ${y}, ${ax + dir * r} ${y} L ${bx - dir * r} ${y} Q ${bx} ${y}, ${bx} ${y - r} L ${bx} ${by + 2}`,
      label: [(ax + bx) / 2, y],
    };
  }
  // Forward: out-port, then (in, out) of each waypoint, then the target's in-port.
  let d = `M ${pts[0]}`;
  let label = null;
  for (let k = 1; k < pts.length; k++) {
    const a = pts[k - 1], b = pts[k];
    if (k % 2 === 0) { d += ` L ${b}`; continue; }
    const dx = (b[0] - a[0]) / 2;
    const c1 = [a[0] + dx, a[1]], c2 = [b[0] - dx, b[1]];
    d += ` C ${c1}, ${c2}, ${b}`;
    if (!label) label = mid(a, c1, c2, b);
  }
  return { d, label };
}

function edgeLines(e) {
  if (!Number.isFinite(e.errorRatio)) return [`${fmtReq(e.requests)} calls`];
  const lat = Number.isFinite(e.p50) ? `p50 ${fmtMs(e.p50)}` : `avg ${fmtMs(e.mean)}`;
  return [`${fmtReq(e.requests)}${e.fromTotals ? '*' : ''} req · ${fmtRate(e.rate)}`, `${fmtPct(e.errorRatio)} err · ${lat}`];
}

/** Moves labels of the same gap apart so that none overlaps another. */
function spreadLabels(labels) {
  const groups = new Map();
  for (const l of labels) {
    const key = `${l.kind}:${l.gap}`;
    (groups.get(key) || groups.set(key, []).get(key)).push(l);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => a.y - b.y);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1], cur = list[i];
      const min = prev.y + (prev.h + cur.h) / 2 + 4;
      if (cur.y < min && Math.abs(cur.x - prev.x) < (cur.w + prev.w) / 2) cur.y = min;
    }
  }
}

function drawEdges(edges, routes, maxRate) {
  const lines = [], labels = [];
  edges.forEach((e, i) => {
    // Calls of a service to itself are told on its node instead.
    if (routes[i].kind === 'self') return;
    const { d, label } = routePath(routes[i]);
    const bad = e.errorRatio > 0;
    const text = edgeLines(e);
    const w = Math.max(...text.map((l) => l.length)) * 6.4 + 14, hgt = text.length * 15 + 8;
    lines.push(h('svg:path', {
      d, class: bad ? 'sg-line sg-line-error' : 'sg-line', dataset: { client: e.client, server: e.server },
      'stroke-width': (1.5 + 3.5 * Math.sqrt(maxRate > 0 ? e.rate / maxRate : 0)).toFixed(2),
      'marker-end': `url(#${bad ? 'sg-arrow-err' : 'sg-arrow'})`,
    }, h('svg:title', {}, `${e.client} → ${e.server}: ${text.join(', ')}`)));
    labels.push({ e, bad, text, w, h: hgt, x: label[0], y: label[1], kind: routes[i].kind, gap: Math.round(routes[i].points[0][0]) });
  });
  spreadLabels(labels);
  return h('svg:g', { class: 'sg-edges' }, lines, labels.map((l) => h('svg:g', {
    class: l.bad ? 'sg-edge sg-edge-error' : 'sg-edge', dataset: { client: l.e.client, server: l.e.server },
    transform: `translate(${(l.x - l.w / 2).toFixed(1)}, ${(l.y - l.h / 2).toFixed(1)})`,
  },
    h('svg:rect', { class: 'sg-label-box', width: l.w, height: l.h, rx: 4 }),
    l.text.map((t, k) => h('svg:text', { x: l.w / 2, y: 16 + k * 15, 'text-anchor': 'middle', class: k === 1 && l.bad ? 'sg-text-error' : '' }, t)))));
}

function drawNode(ctx, name, p, color, stats) {
  const go = () => ctx.navigate(searchUrl(ctx, name));
  const shown = name.length > 19 ? `${name.slice(0, 18)}…` : name;
  const self = stats.self;
  const line = stats.virtual ? 'virtual caller' : `in ${fmtReq(stats.in)} · out ${fmtReq(stats.out)}${self ? ` · ↻ ${fmtReq(self.requests)}` : ''}`;
  const selfText = self ? ` It calls itself: ${edgeLines(self).join(', ')}.` : '';
  return h('svg:g', {
    class: stats.virtual ? 'sg-node sg-virtual' : 'sg-node', transform: `translate(${p.x}, ${p.y})`, tabindex: '0', role: 'link',
    'aria-label': `${name}${stats.virtual ? ' (virtual caller)' : ''}: search its traces`, dataset: { service: name },
    onclick: go, onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } },
  },
    h('svg:title', {}, `${name} — ${fmtReq(stats.in)} requests in, ${fmtReq(stats.out)} out.${selfText} Click to search its traces.`),
    h('svg:rect', { class: self && self.errorRatio > 0 ? 'sg-node-box sg-self-error' : 'sg-node-box', width: NODE_W, height: NODE_H, rx: 8 }),
    h('svg:rect', { class: 'sg-node-strip', width: 6, height: NODE_H - 2, x: 1, y: 1, rx: 3, fill: color }),
    h('svg:text', { x: 16, y: 19, class: 'sg-node-name' }, shown),
    h('svg:text', { x: 16, y: 36, class: 'sg-node-stats' }, line));
}

function drawGraph(ctx, edges) {
  const names = [...new Set(edges.flatMap((e) => [e.client, e.server]))];
  const { pos, width, height, routes } = layeredLayout(names, edges.map((e) => ({ from: e.client, to: e.server })),
    { nodeW: NODE_W, nodeH: NODE_H, gapX: 200, gapY: 64, pad: 24 });
  const colors = serviceColors(names);
  const maxRate = Math.max(...edges.map((e) => e.rate));
  const stats = new Map(names.map((n) => [n, { in: 0, out: 0, self: null, virtual: false }]));
  for (const e of edges) {
    if (e.client === e.server) { stats.get(e.client).self = e; continue; }
    stats.get(e.server).in += e.requests;
    stats.get(e.client).out += e.requests;
    if (e.virtual) stats.get(e.client).virtual = true;
  }
  const arrow = (id) => h('svg:marker', { id, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '13', markerHeight: '13', orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' },
    h('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', class: id }));
  const svg = h('svg:svg', {
    class: 'sg-svg', viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'group', 'aria-label': `Service graph: ${names.length} services, ${edges.length} edges (listed in the table below)`,
  },
    h('svg:defs', {}, arrow('sg-arrow'), arrow('sg-arrow-err')),
    drawEdges(edges, routes, maxRate),
    h('svg:g', { class: 'sg-nodes' }, names.map((n) => drawNode(ctx, n, pos.get(n), colors.get(n), stats.get(n)))));
  return h('div', { class: 'sg-canvas' }, svg);
}

function edgeTable(ctx, edges) {
  const metrics = edges.some((e) => Number.isFinite(e.errorRatio));
  const svcLink = (s) => h('a', { href: searchUrl(ctx, s) }, s);
  const edgeQuery = (e) => `{ resource.service.name = ${JSON.stringify(e.client)} } > { resource.service.name = ${JSON.stringify(e.server)} }`;
  return h('div', { class: 'table-scroll sg-table-wrap' },
    h('table', { class: 'data sg-table' },
      h('caption', { class: 'hint' }, `Calls between services, ${describeRange(ctx.time.get())}`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Client'), h('th', { scope: 'col' }, 'Server'),
        h('th', { scope: 'col', class: 'num' }, 'Requests'), h('th', { scope: 'col', class: 'num' }, 'Rate'),
        metrics ? [h('th', { scope: 'col', class: 'num' }, 'Failed'), h('th', { scope: 'col', class: 'num' }, 'Error ratio'),
          h('th', { scope: 'col', class: 'num' }, 'p50'), h('th', { scope: 'col', class: 'num' }, 'Mean')] : null,
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Traces')))),
      h('tbody', {}, edges.map((e) => h('tr', { dataset: { client: e.client, server: e.server } },
        h('td', {}, svcLink(e.client)), h('td', {}, svcLink(e.server)),
        h('td', { class: 'num sg-requests' }, `${fmtReq(e.requests)}${e.fromTotals ? '*' : ''}`),
        h('td', { class: 'num' }, fmtRate(e.rate)),
        metrics ? [
          h('td', { class: 'num' }, fmtReq(e.failed)),
          h('td', { class: ['num', 'sg-error-ratio', e.errorRatio > 0 && 'sg-bad'] }, fmtPct(e.errorRatio)),
          h('td', { class: 'num' }, fmtMs(e.p50)), h('td', { class: 'num' }, fmtMs(e.mean))] : null,
        h('td', {}, h('a', { href: ctx.href('/ui/traces', { q: edgeQuery(e) }), title: `Traces where ${e.client} calls ${e.server}` }, 'Traces')))))));
}
