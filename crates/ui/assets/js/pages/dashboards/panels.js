/**
 * A dashboard panel on screen: its frame (title, actions) and the
 * rendering of its queries by type — time series (TimeChart over
 * query_range), stat and table (instant queries), logs (Loki
 * query_range) and traces (Tempo search).
 * @module pages/dashboards/panels
 */
import { h, clear } from '../../lib/dom.js';
import { formatBytes, formatDuration, formatNumber, formatTime, seriesName } from '../../lib/format.js';
import { autoStep, toSeconds, toNanos } from '../../lib/time.js';
import { TimeChart } from '../../components/chart.js';
import { PANEL_TYPES, interpolate, formatLegend } from './model.js';

const MAX_SERIES = 300;
const CHART_UNITS = { bytes: 'B', s: 's', ms: 'ms', percent: '%', reqps: 'req/s' };
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A value as text in a panel's unit. */
export function formatValue(v, unit) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return formatNumber(v);
  switch (unit) {
    case 'bytes': return formatBytes(v);
    case 's': return formatDuration(v * 1000);
    case 'ms': return formatDuration(v);
    case 'percent': return `${formatNumber(v, 3)}%`;
    case 'percentunit': return `${formatNumber(v * 100, 3)}%`;
    case 'reqps': return `${formatNumber(v)} req/s`;
    default: return formatNumber(v);
  }
}

/** A time short enough for a panel: `15:04:05` today, `12-06 15:04` otherwise. */
export function shortTime(ms) {
  const full = formatTime(ms);
  return full.slice(0, 10) === formatTime(Date.now()).slice(0, 10) ? full.slice(11) : full.slice(5, 16);
}

/** The interpolated queries of a panel that have text. */
function activeQueries(panel, resolve) {
  return panel.queries.map((q, i) => ({ ...q, index: i, text: interpolate(q.expr, resolve).trim() }))
    .filter((q) => q.text);
}

/** Where "Open in explore" goes for a panel (interpolated), or null. */
export function exploreLink(panel, resolve, href) {
  const qs = activeQueries(panel, resolve);
  if (!qs.length) return null;
  if (panel.type === 'traces') return href('/ui/traces', { q: qs[0].text });
  if (panel.type === 'logs' || qs[0].source === 'loki') return href('/ui/logs', { query: qs[0].text });
  const prom = qs.filter((q) => q.source !== 'loki');
  return href('/ui/metrics', {
    q: prom.map((q) => q.text),
    legend: prom.some((q) => q.legend) ? prom.map((q) => q.legend || '') : null,
    stacked: panel.stacked ? 1 : null,
  });
}

/**
 * One panel: build with the panel and the page's hooks, then call
 * `run()` whenever the range or the variables change.
 */
export class PanelView {
  /**
   * @param {object} panel the panel (from the dashboard model)
   * @param {{api: object, href: Function, onZoom?: Function, onQueryError?: Function, actions?: HTMLElement[]}} env
   */
  constructor(panel, env) {
    this.panel = panel;
    this.env = env;
    this.chart = null;
    this.controller = null;
    this.titleId = `panel-title-${panel.id}-${Math.random().toString(36).slice(2, 7)}`;
    this.status = h('span', { class: 'dash-panel-status', 'aria-live': 'polite' });
    this.explore = h('a', { class: 'dash-panel-explore', href: '#', hidden: true, title: 'Open these queries in explore' }, 'Explore ↗');
    this.body = h('div', { class: `dash-panel-body dash-body-${panel.type}` });
    const { x, y, w, h: ht } = panel.gridPos;
    this.el = h('section', {
      class: 'dash-panel', 'aria-labelledby': this.titleId, dataset: { panelId: String(panel.id), type: panel.type },
      style: { gridColumn: `${x + 1} / span ${w}`, gridRow: `${y + 1} / span ${ht}` },
    },
    h('header', { class: 'dash-panel-header' },
      h('h3', { id: this.titleId, title: panel.description || panel.title || '' }, panel.title || h('span', { class: 'hint' }, 'Untitled')),
      this.status,
      h('span', { class: 'grow' }),
      this.explore,
      ...(env.actions || [])),
    this.body);
    this.el.style.setProperty('--h', String(ht));
  }

  /**
   * Runs the panel's queries for `range` with variables from `resolverFor(stepMs)`.
   * @param {{start:number,end:number}} range
   * @param {(stepMs:number)=>Function} resolverFor
   */
  async run(range, resolverFor) {
    if (this.controller) this.controller.abort();
    const ctl = (this.controller = new AbortController());
    const width = Math.max(200, this.body.clientWidth || 600);
    const step = autoStep(range.start, range.end, width);
    const resolve = resolverFor(step);
    const link = exploreLink(this.panel, resolve, this.env.href);
    this.explore.hidden = !link;
    if (link) this.explore.href = link;
    const queries = activeQueries(this.panel, resolve);
    this.el.classList.add('is-loading');
    this.status.textContent = 'Loading…';
    this.status.className = 'dash-panel-status';
    try {
      if (!queries.length) { this.showEmpty('This panel has no query yet.'); return; }
      const run = RUNNERS[this.panel.type];
      const out = await run.call(this, queries, range, step, ctl.signal);
      if (ctl.signal.aborted) return;
      this.status.textContent = out && out.status ? out.status : '';
    } catch (e) {
      if (e.name === 'AbortError' || ctl.signal.aborted) return;
      this.showError(e);
    } finally {
      if (this.controller === ctl) this.el.classList.remove('is-loading');
    }
  }

  showEmpty(text) {
    this.dropChart();
    clear(this.body);
    this.body.append(h('div', { class: 'dash-panel-empty' }, text));
    this.status.textContent = '';
  }

  showError(e) {
    this.dropChart();
    clear(this.body);
    this.body.append(h('div', { class: 'notice notice-error dash-panel-error', role: 'alert' }, e.message));
    this.status.textContent = '⚠ error';
    this.status.className = 'dash-panel-status is-error';
  }

  dropChart() {
    if (this.chart) { this.chart.destroy(); this.chart = null; }
  }

  /** Runs each query, collecting per-query errors (reported to the editor). */
  async each(queries, fn) {
    const results = await Promise.all(queries.map((q) => fn(q).then((r) => ({ q, r }), (e) => ({ q, e }))));
    const aborted = results.find((x) => x.e && x.e.name === 'AbortError');
    if (aborted) throw aborted.e;
    const errors = results.filter((x) => x.e);
    for (const x of results) if (this.env.onQueryError) this.env.onQueryError(x.q.index, x.e || null, x.q.text);
    if (errors.length === results.length) {
      const multi = this.panel.queries.length > 1;
      throw new Error(errors.map((x) => (multi ? `Query ${LETTERS[x.q.index]}: ` : '') + x.e.message).join('\n'));
    }
    return { results: results.filter((x) => !x.e), errors };
  }

  /** Removes the chart and aborts requests. */
  destroy() {
    if (this.controller) this.controller.abort();
    this.dropChart();
    this.el.remove();
  }
}

// ------------------------------------------------------------ runners

function metricRequest(api, q, range, step, signal, instant) {
  if (q.source === 'loki') {
    const p = instant ? { query: q.text, time: toNanos(range.end) }
      : { query: q.text, start: toNanos(range.start), end: toNanos(range.end), step: toSeconds(step) };
    return api.data(api.get(instant ? '/loki/api/v1/query' : '/loki/api/v1/query_range', p, { signal }));
  }
  const p = instant ? { query: q.text, time: toSeconds(range.end) }
    : { query: q.text, start: toSeconds(range.start), end: toSeconds(range.end), step: toSeconds(step) };
  return api.data(api.postForm(instant ? '/api/v1/query' : '/api/v1/query_range', p, { signal }));
}

function errorNote(errors, panel) {
  if (!errors.length) return '';
  return errors.map((x) => `${panel.queries.length > 1 ? `Query ${LETTERS[x.q.index]}: ` : ''}${x.e.message}`).join('\n');
}

function toSeries(data, q, step) {
  if (!data || data.resultType !== 'matrix') {
    throw new Error(`expected a range vector from query_range, got ${data ? data.resultType : 'nothing'}`);
  }
  return data.result.map((r) => {
    const ts = [], values = [];
    let prev = null;
    for (const [t, v] of r.values || []) {
      const ms = t * 1000;
      if (prev !== null && ms - prev > step * 1.5) { ts.push(prev + step); values.push(NaN); }
      ts.push(ms); values.push(parseFloat(v));
      prev = ms;
    }
    const name = q.legend ? formatLegend(q.legend, r.metric) : seriesName(r.metric);
    return { name: name || seriesName(r.metric), labels: r.metric, ts: Float64Array.from(ts), values: Float64Array.from(values) };
  });
}

async function runTimeseries(queries, range, step, signal) {
  const { results, errors } = await this.each(queries, (q) => metricRequest(this.env.api, q, range, step, signal, false));
  let series = [];
  for (const { q, r } of results) series = series.concat(toSeries(r, q, step));
  const total = series.length;
  if (total > MAX_SERIES) series = series.slice(0, MAX_SERIES);
  if (!this.chart) {
    clear(this.body);
    this.chartNote = h('div', { class: 'dash-panel-note' });
    this.chartBox = h('div', { class: 'dash-chart' });
    this.body.append(this.chartNote, this.chartBox);
    this.chart = new TimeChart(this.chartBox, {
      height: Math.max(60, this.body.clientHeight - 40),
      stacked: !!this.panel.stacked,
      unit: CHART_UNITS[this.panel.unit] || '',
      onZoom: this.env.onZoom,
    });
  }
  const note = [errorNote(errors, this.panel), total > MAX_SERIES ? `Showing ${MAX_SERIES} of ${total} series.` : ''].filter(Boolean).join('\n');
  this.chartNote.textContent = note;
  this.chartNote.hidden = !note;
  this.chartNote.classList.toggle('is-error', errors.length > 0);
  this.chart.setData({ start: range.start, end: range.end, step, series });
  fitChart(this.chart, this.body.clientHeight - (note ? this.chartNote.offsetHeight + 4 : 0));
  return { status: `${total} series` };
}

/** Gives the chart's plot the body's height less its legend's. */
function fitChart(chart, bodyH) {
  const legend = chart.root.querySelector('.tchart-legend');
  const lh = legend && !legend.hidden ? legend.offsetHeight : 0;
  const ph = Math.max(60, Math.floor(bodyH - lh - 2));
  if (typeof chart.setHeight === 'function') { chart.setHeight(ph); return; }
  if (chart.opts.height === ph) return;
  chart.opts.height = ph;
  chart.root.querySelector('.tchart-plot').style.height = `${ph}px`;
  chart.render();
}

/** Instant results of all queries as rows `{query, metric, value}`. */
async function instantRows(view, queries, range, signal) {
  const { results, errors } = await view.each(queries, (q) => metricRequest(view.env.api, q, range, 0, signal, true));
  const rows = [];
  for (const { q, r } of results) {
    if (r.resultType === 'scalar' || r.resultType === 'string') {
      rows.push({ q, metric: {}, name: q.legend || q.text, value: parseFloat(r.result[1]) });
    } else if (r.resultType === 'vector') {
      for (const s of r.result) {
        rows.push({ q, metric: s.metric, name: (q.legend && formatLegend(q.legend, s.metric)) || seriesName(s.metric), value: parseFloat(s.value[1]) });
      }
    } else {
      throw new Error(`expected an instant vector, got ${r.resultType}`);
    }
  }
  return { rows, errors };
}

async function runStat(queries, range, step, signal) {
  this.dropChart();
  const { rows, errors } = await instantRows(this, queries, range, signal);
  clear(this.body);
  if (!rows.length) { this.showEmpty('No data'); return { status: '' }; }
  const shown = rows.slice(0, 60);
  const grid = h('div', { class: 'dash-stats', style: { '--n': String(Math.min(shown.length, 6)) } });
  for (const r of shown) {
    grid.append(h('div', { class: 'dash-stat', title: `${r.name}: ${r.value}` },
      h('div', { class: 'dash-stat-value' }, formatValue(r.value, this.panel.unit)),
      rows.length > 1 || r.q.legend ? h('div', { class: 'dash-stat-name' }, r.name) : null));
  }
  const note = errorNote(errors, this.panel);
  if (note) this.body.append(h('div', { class: 'dash-panel-note is-error' }, note));
  this.body.append(grid);
  return { status: rows.length > 1 ? `${rows.length} values` : '' };
}

async function runTable(queries, range, step, signal) {
  this.dropChart();
  const { rows, errors } = await instantRows(this, queries, range, signal);
  clear(this.body);
  const note = errorNote(errors, this.panel);
  if (note) this.body.append(h('div', { class: 'dash-panel-note is-error' }, note));
  if (!rows.length) { this.body.append(h('div', { class: 'dash-panel-empty' }, 'No data')); return { status: '' }; }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.metric)))]
    .sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const multi = queries.length > 1;
  let sort = { key: null, dir: 1 };
  const table = h('table', { class: 'data dash-table' });
  const draw = () => {
    clear(table);
    const sorted = sort.key === null ? rows : [...rows].sort((a, b) => {
      const va = sort.key === '' ? a.value : (a.metric[sort.key] ?? ''), vb = sort.key === '' ? b.value : (b.metric[sort.key] ?? '');
      return (typeof va === 'number' ? va - vb : String(va).localeCompare(String(vb), undefined, { numeric: true })) * sort.dir;
    });
    const th = (label, key, num) => h('th', { class: num ? 'num' : null, 'aria-sort': sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : null },
      h('button', { type: 'button', class: 'dash-sort', onClick: () => { sort = { key, dir: sort.key === key ? -sort.dir : (num ? -1 : 1) }; draw(); } },
        label, sort.key === key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''));
    table.append(h('thead', {}, h('tr', {}, multi ? h('th', {}, 'Query') : null,
      keys.map((k) => th(k === '__name__' ? 'name' : k, k, false)), th('Value', '', true))));
    table.append(h('tbody', {}, sorted.slice(0, 1000).map((r) => h('tr', {},
      multi ? h('td', {}, LETTERS[r.q.index]) : null,
      keys.map((k) => h('td', {}, r.metric[k] ?? '')),
      h('td', { class: 'num', title: String(r.value) }, formatValue(r.value, this.panel.unit))))));
  };
  draw();
  this.body.append(h('div', { class: 'dash-table-scroll' }, table));
  return { status: `${rows.length} rows` };
}

const LEVEL_CLASS = { error: 'error', err: 'error', fatal: 'error', critical: 'error', warn: 'warn', warning: 'warn', info: 'info', debug: 'debug', trace: 'debug' };

async function runLogs(queries, range, step, signal) {
  this.dropChart();
  const limit = this.panel.limit || 100;
  const { results, errors } = await this.each(queries, (q) => this.env.api.data(this.env.api.get('/loki/api/v1/query_range',
    { query: q.text, start: toNanos(range.start), end: toNanos(range.end), limit, direction: 'backward' }, { signal })));
  const lines = [];
  for (const { r } of results) {
    if (r.resultType !== 'streams') throw new Error(`a logs panel needs a log query; this one gives a ${r.resultType}`);
    for (const s of r.result) for (const [ts, line] of s.values) lines.push({ ns: BigInt(ts), line, labels: s.stream });
  }
  lines.sort((a, b) => (a.ns < b.ns ? 1 : a.ns > b.ns ? -1 : 0));
  const shown = lines.slice(0, limit);
  clear(this.body);
  const note = errorNote(errors, this.panel);
  if (note) this.body.append(h('div', { class: 'dash-panel-note is-error' }, note));
  if (!shown.length) { this.body.append(h('div', { class: 'dash-panel-empty' }, 'No log lines in this range')); return { status: '' }; }
  // One tab stop for the whole list (roving tabindex): ↑/↓/Home/End move between lines, Enter/Space unfold one.
  const list = h('ol', { class: 'dash-logs', 'aria-label': `${this.panel.title || 'Log'} lines, newest first (arrow keys move, Enter unfolds)` });
  for (const l of shown) {
    const lvl = String(l.labels.level || l.labels.detected_level || l.labels.severity || '').toLowerCase();
    const labelText = Object.entries(l.labels).map(([k, v]) => `${k}="${v}"`).join(', ');
    list.append(h('li', { class: ['dash-log', LEVEL_CLASS[lvl] ? `lvl-${LEVEL_CLASS[lvl]}` : null], title: `{${labelText}}`, tabindex: list.childElementCount ? '-1' : '0', 'aria-expanded': 'false' },
      h('time', { class: 'dash-log-time', title: formatTime(Number(l.ns / 1000000n)) }, shortTime(Number(l.ns / 1000000n))),
      h('span', { class: 'dash-log-line' }, l.line)));
  }
  const toggle = (li) => li && li.setAttribute('aria-expanded', String(li.getAttribute('aria-expanded') !== 'true'));
  const makeStop = (li) => {
    for (const x of list.querySelectorAll('.dash-log[tabindex="0"]')) x.tabIndex = -1;
    li.tabIndex = 0;
  };
  list.addEventListener('click', (e) => {
    const li = e.target.closest('.dash-log');
    if (li) makeStop(li);
    if (!getSelection().toString()) toggle(li);
  });
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest('.dash-log');
    if (!li) return;
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(li); return; }
    const to = { ArrowDown: li.nextElementSibling, ArrowUp: li.previousElementSibling, Home: list.firstElementChild, End: list.lastElementChild }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    if (to) { makeStop(to); to.focus(); }
  });
  this.body.append(list);
  return { status: `${shown.length}${lines.length >= limit ? '+' : ''} lines` };
}

async function runTraces(queries, range, step, signal) {
  this.dropChart();
  const limit = this.panel.limit || 20;
  const { results, errors } = await this.each(queries, (q) => this.env.api.get('/api/search',
    { q: q.text, start: Math.floor(range.start / 1000), end: Math.ceil(range.end / 1000), limit }, { signal }));
  const traces = [];
  const seen = new Set();
  for (const { r } of results) {
    for (const t of (r && r.traces) || []) if (!seen.has(t.traceID)) { seen.add(t.traceID); traces.push(t); }
  }
  traces.sort((a, b) => (BigInt(b.startTimeUnixNano || 0) > BigInt(a.startTimeUnixNano || 0) ? 1 : -1));
  clear(this.body);
  const note = errorNote(errors, this.panel);
  if (note) this.body.append(h('div', { class: 'dash-panel-note is-error' }, note));
  if (!traces.length) { this.body.append(h('div', { class: 'dash-panel-empty' }, 'No traces in this range')); return { status: '' }; }
  const table = h('table', { class: 'data dash-table dash-traces' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Trace'), h('th', {}, 'Root service'), h('th', {}, 'Root span'),
      h('th', {}, 'Start'), h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Spans'))),
    h('tbody', {}, traces.map((t) => h('tr', {},
      h('td', { class: 'mono' }, h('a', { href: this.env.href(`/ui/traces/${t.traceID}`), title: t.traceID }, t.traceID.slice(0, 12))),
      h('td', {}, t.rootServiceName || '—'),
      h('td', {}, t.rootTraceName || '—'),
      h('td', { title: formatTime(Number(BigInt(t.startTimeUnixNano || 0) / 1000000n)) }, shortTime(Number(BigInt(t.startTimeUnixNano || 0) / 1000000n))),
      h('td', { class: 'num' }, t.durationMs != null ? formatDuration(t.durationMs) : '—'),
      h('td', { class: 'num' }, matchedSpans(t))))));
  this.body.append(h('div', { class: 'dash-table-scroll' }, table));
  return { status: `${traces.length} traces` };
}

function matchedSpans(t) {
  const sets = t.spanSets || (t.spanSet ? [t.spanSet] : []);
  const n = sets.reduce((a, s) => a + (s.matched || 0), 0);
  return n ? String(n) : '—';
}

const RUNNERS = { timeseries: runTimeseries, stat: runStat, table: runTable, logs: runLogs, traces: runTraces };

/** Labels of the panel types for selects. */
export const TYPE_OPTIONS = Object.entries(PANEL_TYPES).map(([value, t]) => ({ value, label: t.label }));
