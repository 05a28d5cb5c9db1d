/**
 * The metrics explorer: several PromQL queries (with completion, inline
 * errors, legend formats) drawn on one time-series chart with exemplars,
 * or listed as a sortable table of their instant values at the end of the
 * range. The state (queries, legends, tab, step, stacked, exemplars) lives
 * in the URL; running a query pushes a history entry.
 * @module pages/metrics
 */
import { h, clear, notice } from '../lib/dom.js';
import { formatTime, formatNumber, formatDuration } from '../lib/format.js';
import { parseDuration, formatDurationSpec, autoStep, toSeconds } from '../lib/time.js';
import { TimeChart } from '../components/chart.js';
import { MetricsSource, lintPromql, locateError, metricsIn } from './metrics/source.js';
import { QueryRow, letterOf } from './metrics/query-row.js';
import { makeGrid, rangeSeries, chartExemplars, instantRows } from './metrics/results.js';
import { ResultsTable } from './metrics/table.js';
import { renderBrowser } from './metrics/browser.js';

/** Prometheus refuses more points than this per series. */
const MAX_POINTS = 11000;
const CHART_HEIGHT = 320;
/** More series than this make an unreadable chart and a slow legend. */
const MAX_SERIES = 500;

/**
 * Mounts the page.
 * @param {HTMLElement} root
 * @param {object} ctx the shell's page context
 * @returns {{refresh: () => void, unmount: () => void}}
 */
export function mount(root, ctx) {
  const page = new MetricsPage(root, ctx);
  return { refresh: () => page.refresh(), unmount: () => page.destroy() };
}

/** The error an abandoned run stops with. */
const abortError = () => new DOMException('the run was replaced by a newer one', 'AbortError');

/** Whether some queries of a result failed or were not sent. */
const hasErrors = (r) => r.failed.length + r.skipped > 0;

class MetricsPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.rows = [];
    this.chart = null;
    this.controller = null;
    this.stale = { graph: true, table: true };
    this.lastTenant = ctx.tenant();
    this.source = new MetricsSource(ctx.api, () => { try { return ctx.time.resolve(); } catch (e) { return null; } });
    const p = ctx.params;
    this.tab = p.get('tab') === 'table' ? 'table' : 'graph';
    this.stacked = p.get('stacked') === '1';
    this.exemplars = p.get('exemplars') !== '0';
    this.build(p.get('step') || '');
    const queries = p.getAll('q');
    const legends = p.getAll('legend');
    if (queries.length) queries.forEach((q, i) => this.addRow(q, legends[i] || ''));
    else this.addRow('', '');
    this.showTab();
    if (queries.some((q) => q.trim())) this.run({ push: false });
    else { this.showBrowser(); this.rows[0].focus(); }
  }

  // ------------------------------------------------------------ layout

  build(stepText) {
    this.rowsEl = h('div', { class: 'metrics-rows' });
    this.stepInput = h('input', {
      type: 'text', id: 'metrics-step', class: 'metrics-step mono', value: stepText, placeholder: 'auto', spellcheck: 'false', autocomplete: 'off',
      'aria-describedby': 'metrics-step-error',
      onKeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); this.run({ push: true }); } },
    });
    this.stepError = h('span', { class: 'field-error', id: 'metrics-step-error', role: 'alert' });
    this.runBtn = h('button', { type: 'button', class: 'primary metrics-run', onClick: () => this.run({ push: true }) }, '▶ Run');
    const queries = h('section', { class: 'panel metrics-queries', 'aria-label': 'Queries' },
      this.rowsEl,
      h('div', { class: 'toolbar metrics-query-tools' },
        h('button', { type: 'button', class: 'metrics-add', onClick: () => this.addRow('', '', true) }, '+ Add query'),
        h('span', { class: 'hint metrics-keys' }, 'Enter runs · Shift+Enter adds a line · Ctrl+Space completes'),
        h('span', { class: 'grow' }),
        h('label', { class: 'metrics-step-label', for: 'metrics-step' }, 'Step'),
        this.stepInput, this.stepError,
        this.runBtn));
    this.root.append(queries, this.buildResults());
  }

  buildResults() {
    const tab = (name, label) => h('button', {
      type: 'button', role: 'tab', id: `metrics-tab-${name}`, 'aria-controls': `metrics-panel-${name}`,
      onClick: () => this.setTab(name), onKeydown: (e) => this.tabKey(e),
    }, label);
    this.tabs = { graph: tab('graph', 'Graph'), table: tab('table', 'Table') };
    this.stats = h('div', { class: 'metrics-stats', role: 'status', 'aria-live': 'polite' });
    this.stackBtn = h('button', { type: 'button', class: 'metrics-toggle', 'aria-pressed': String(this.stacked), onClick: () => this.setStacked(!this.stacked) }, 'Stacked');
    this.exBtn = h('button', { type: 'button', class: 'metrics-toggle', 'aria-pressed': String(this.exemplars), onClick: () => this.setExemplars(!this.exemplars) }, '◆ Exemplars');
    this.graphTools = h('div', { class: 'metrics-graph-tools' }, this.stackBtn, this.exBtn);
    this.message = h('div', { class: 'metrics-message' });
    this.chartHost = h('div', { class: 'metrics-chart' });
    this.graphPanel = h('div', { role: 'tabpanel', id: 'metrics-panel-graph', 'aria-labelledby': 'metrics-tab-graph', class: 'metrics-panel' }, this.chartHost);
    this.tableHost = h('div', { class: 'metrics-table-host' });
    this.tablePanel = h('div', { role: 'tabpanel', id: 'metrics-panel-table', 'aria-labelledby': 'metrics-tab-table', class: 'metrics-panel' }, this.tableHost);
    this.table = new ResultsTable(this.tableHost);
    this.results = h('section', { class: 'panel metrics-results', 'aria-label': 'Results', dataset: { status: 'idle' } },
      h('div', { class: 'metrics-results-bar' },
        h('div', { class: 'tabs metrics-tabs', role: 'tablist', 'aria-label': 'View' }, this.tabs.graph, this.tabs.table),
        this.stats, h('span', { class: 'grow' }), this.graphTools),
      this.message, this.graphPanel, this.tablePanel);
    return this.results;
  }

  addRow(query, legend, focus = false) {
    const row = new QueryRow({
      query, legend, source: this.source,
      onSubmit: () => this.run({ push: true }),
      onRemove: (r) => this.removeRow(r),
    });
    this.rows.push(row);
    this.rowsEl.append(row.element);
    this.relabel();
    if (focus) row.focus();
    return row;
  }

  removeRow(row) {
    const i = this.rows.indexOf(row);
    if (i < 0 || this.rows.length === 1) return;
    row.destroy();
    this.rows.splice(i, 1);
    this.relabel();
    this.rows[Math.min(i, this.rows.length - 1)].focus();
    this.run({ push: true });
  }

  relabel() {
    this.rows.forEach((r, i) => r.setLetter(letterOf(i), this.rows.length === 1));
  }

  showTab() {
    for (const [name, btn] of Object.entries(this.tabs)) {
      const on = name === this.tab;
      btn.setAttribute('aria-selected', String(on));
      btn.tabIndex = on ? 0 : -1;
    }
    this.graphPanel.hidden = this.tab !== 'graph';
    this.tablePanel.hidden = this.tab !== 'table';
    this.graphTools.hidden = this.tab !== 'graph' || this.results.dataset.status === 'idle';
  }

  tabKey(e) {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const next = this.tab === 'graph' ? 'table' : 'graph';
    this.setTab(next);
    this.tabs[next].focus();
  }

  setTab(name) {
    if (name === this.tab) return;
    this.tab = name;
    this.showTab();
    this.ctx.params.set({ tab: name === 'graph' ? null : name });
    if (this.stale[name] && this.activeQueries().length) this.run({ push: false, keepUrl: true });
    else this.showStats();
  }

  setStacked(on) {
    this.stacked = on;
    this.stackBtn.setAttribute('aria-pressed', String(on));
    this.ctx.params.set({ stacked: on ? '1' : null });
    if (this.chart) this.chart.setStacked(on);
  }

  setExemplars(on) {
    this.exemplars = on;
    this.exBtn.setAttribute('aria-pressed', String(on));
    this.ctx.params.set({ exemplars: on ? null : '0' });
    if (this.graph) {
      if (on && !this.graph.exemplarsLoaded) this.run({ push: false, keepUrl: true });
      else this.drawChart();
    }
  }

  // ------------------------------------------------------------ state

  /** The non-empty queries with their letters and legend formats. */
  activeQueries() {
    return this.rows
      .map((r) => ({ row: r, letter: r.letter, query: r.query, legend: r.legend }))
      .filter((q) => q.query.trim());
  }

  /** Writes the queries, legends and step to the URL; pushes when they changed. */
  saveUrl(push) {
    const qs = this.activeQueries();
    const legends = qs.map((q) => q.legend);
    const changes = {
      q: qs.map((q) => q.query),
      legend: legends.some(Boolean) ? legends : null,
      step: this.stepInput.value.trim() || null,
    };
    const p = this.ctx.params;
    const same = JSON.stringify([p.getAll('q'), p.getAll('legend'), p.get('step') || null])
      === JSON.stringify([changes.q, changes.legend || [], changes.step]);
    p.set(changes, { push: push && !same });
  }

  /** Step in ms for the range: the step field, or auto from the chart width. */
  stepFor(start, end) {
    const width = Math.max(300, (this.chartHost.clientWidth || this.results.clientWidth || 1000) - 60);
    const minStep = Math.ceil((end - start) / (MAX_POINTS - 1) / 1000) * 1000;
    const auto = Math.max(autoStep(start, end, width), minStep);
    this.stepInput.placeholder = `auto (${formatDurationSpec(auto)})`;
    const text = this.stepInput.value.trim();
    this.stepError.textContent = '';
    this.stepInput.removeAttribute('aria-invalid');
    if (!text) return auto;
    const ms = /^\d+(\.\d+)?$/.test(text) ? parseFloat(text) * 1000 : parseDuration(text);
    let problem = '';
    if (!(ms > 0)) problem = `"${text}" is not a step: use a duration such as 15s, 1m or 1h`;
    else if ((end - start) / ms > MAX_POINTS) problem = `step ${text} gives more than ${MAX_POINTS.toLocaleString()} points for this range: use ${formatDurationSpec(minStep)} or more`;
    if (problem) {
      this.stepError.textContent = problem;
      this.stepInput.setAttribute('aria-invalid', 'true');
      throw new Error(problem);
    }
    return ms;
  }

  // ------------------------------------------------------------ running

  /** Re-runs with the current time range (the shell calls this). */
  refresh() {
    if (this.ctx.tenant() !== this.lastTenant) {
      this.lastTenant = this.ctx.tenant();
      this.source.reset();
      // Another tenant: another metadata.
      for (const r of this.rows) r.showMeta();
    }
    if (this.activeQueries().length) this.run({ push: false, keepUrl: true });
    else this.showBrowser();
  }

  /**
   * Runs the queries for the visible tab.
   * @param {{push?: boolean, keepUrl?: boolean}} opts push: add a history entry when the queries changed
   */
  async run({ push = false, keepUrl = false } = {}) {
    if (!keepUrl) this.saveUrl(push);
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const queries = this.activeQueries();
    for (const r of this.rows) { r.setError(null); r.setStatus(''); }
    clear(this.message);
    if (!queries.length) { this.showBrowser(); return; }
    let range;
    try {
      range = this.ctx.time.resolve();
    } catch (e) {
      this.fail(`Time range: ${e.message}`);
      return;
    }
    const ready = [];
    for (const q of queries) {
      const lint = lintPromql(q.query);
      if (lint) q.row.setError(lint); else ready.push(q);
    }
    this.stale = { graph: true, table: true };
    this.setStatus('loading');
    try {
      if (this.tab === 'graph') await this.runGraph(ready, queries, range, controller.signal);
      else await this.runTable(ready, queries, range, controller.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.fail(e.message);
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  }

  /** Sends one query per row; returns per-query `{q, data}` or `{q, error}`. */
  async fetchAll(ready, path, params, signal) {
    const api = this.ctx.api;
    return Promise.all(ready.map(async (q) => {
      try {
        return { q, data: await api.data(api.postForm(path, { query: q.query, ...params }, { signal })) };
      } catch (e) {
        if (e.name === 'AbortError' || signal.aborted) throw abortError();
        q.row.setError(locateError(e.message, q.query));
        return { q, error: e.message };
      }
    }));
  }

  async runGraph(ready, queries, range, signal) {
    let step;
    try { step = this.stepFor(range.start, range.end); } catch (e) { this.fail(e.message); return; }
    const start = Math.floor(range.start / step) * step;
    const params = { start: toSeconds(start), end: toSeconds(range.end), step: step / 1000 };
    const t0 = performance.now();
    const answers = await this.fetchAll(ready, '/api/v1/query_range', params, signal);
    if (signal.aborted) throw abortError();
    const grid = makeGrid(start, range.end, step);
    const series = [], owners = [];
    let points = 0;
    for (const a of answers) {
      if (a.error) continue;
      const r = rangeSeries(a.data, grid, a.q);
      owners.push({ a, offset: series.length, count: r.series.length });
      series.push(...r.series);
      points += r.points;
      a.q.row.setStatus(r.series.length ? `${r.series.length} series · ${formatNumber(r.points)} points` : 'no data in this range');
    }
    const exemplars = this.exemplars ? await this.fetchExemplars(owners, series, range, signal) : [];
    if (signal.aborted) throw abortError();
    const fetchMs = performance.now() - t0;
    this.graph = {
      start: range.start, end: range.end, step, series, exemplars, points, fetchMs,
      exemplarsLoaded: this.exemplars, failed: answers.filter((a) => a.error), skipped: queries.length - ready.length,
    };
    this.stale.graph = false;
    this.drawChart();
  }

  /** Exemplars of every answered query; a failed look-up only loses its points. */
  async fetchExemplars(owners, series, range, signal) {
    const api = this.ctx.api;
    const params = { start: toSeconds(range.start), end: toSeconds(range.end) };
    const lists = await Promise.all(owners.map(async ({ a, offset, count }) => {
      if (!count) return [];
      try {
        const d = await api.data(api.postForm('/api/v1/query_exemplars', { query: a.q.query, ...params }, { signal }));
        return chartExemplars(d, series, offset, count);
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        return [];
      }
    }));
    return lists.flat();
  }

  drawChart() {
    const g = this.graph;
    clear(this.message);
    if (!g.series.length) {
      this.chartHost.hidden = true;
      this.message.append(this.emptyNotice(g));
      this.setStatus(hasErrors(g) ? 'error' : 'empty');
      this.showStats();
      return;
    }
    this.chartHost.hidden = false;
    if (!this.chart) {
      this.chart = new TimeChart(this.chartHost, {
        height: CHART_HEIGHT,
        stacked: this.stacked,
        onZoom: (a, b) => this.ctx.time.set({ from: String(a), to: String(b) }),
        onExemplarClick: (ex) => { if (ex.traceId) this.ctx.navigate(this.ctx.href(`/ui/traces/${ex.traceId}`)); },
      });
      this.chartHost.__chart = this.chart;
    }
    const series = g.series.slice(0, MAX_SERIES);
    const exemplars = this.exemplars ? g.exemplars.filter((e) => e.seriesIndex < MAX_SERIES) : [];
    if (g.series.length > MAX_SERIES) {
      this.message.append(notice('info', `Drawing the first ${MAX_SERIES} of ${g.series.length.toLocaleString()} series: aggregate (sum by …) or add label matchers to see them all.`));
    }
    const data = { start: g.start, end: g.end, step: g.step, series, exemplars };
    this.chartHost.__data = data; // for tests and debugging, beside __chart
    const t0 = performance.now();
    this.chart.setData(data);
    g.setDataMs = performance.now() - t0;
    this.setStatus(hasErrors(g) ? 'partial' : 'done');
    this.showStats();
  }

  async runTable(ready, queries, range, signal) {
    const t0 = performance.now();
    const answers = await this.fetchAll(ready, '/api/v1/query', { time: toSeconds(range.end) }, signal);
    if (signal.aborted) throw abortError();
    const rows = [];
    for (const a of answers) {
      if (a.error) continue;
      const r = instantRows(a.data, a.q.letter);
      rows.push(...r);
      const kind = a.data && a.data.resultType;
      a.q.row.setStatus(kind === 'scalar' || kind === 'string' ? kind : (r.length ? `${r.length} series` : 'no data at the end of the range'));
    }
    const failed = answers.filter((a) => a.error);
    this.tableData = { rows, time: range.end, fetchMs: performance.now() - t0, failed, skipped: queries.length - ready.length };
    this.stale.table = false;
    clear(this.message);
    this.tableHost.hidden = !rows.length;
    if (!rows.length) this.message.append(this.emptyNotice(this.tableData));
    else this.table.setRows(rows, { multi: queries.length > 1 });
    const bad = hasErrors(this.tableData);
    this.setStatus(!rows.length ? (bad ? 'error' : 'empty') : (bad ? 'partial' : 'done'));
    this.showStats();
  }

  emptyNotice(result) {
    const bad = result.failed.length + result.skipped;
    if (bad) {
      const what = bad === 1 ? 'The query has an error' : `${bad} queries have errors`;
      return notice('error', `${what}: see the message under the query.`);
    }
    const box = notice('empty', this.tab === 'graph'
      ? 'No data: the queries matched no series in this time range. Try a longer range or check the label matchers.'
      : 'No data: the queries returned nothing at the end of the time range.');
    this.explainEmpty(box);
    return box;
  }

  /** Adds to an empty-result notice the metric names that do not exist in the range. */
  async explainEmpty(box) {
    const used = [...new Set(this.activeQueries().flatMap((q) => metricsIn(q.query)))];
    if (!used.length) return;
    let known;
    try { known = new Set(await this.source.metricNames()); } catch (e) { return; }
    const missing = used.filter((n) => !known.has(n));
    if (missing.length) box.append(h('div', { class: 'metrics-missing' }, `No metric named ${missing.join(', ')} in this range.`));
  }

  fail(message) {
    clear(this.message);
    this.message.append(notice('error', message));
    this.setStatus('error');
    this.showStats();
  }

  setStatus(status) {
    this.results.dataset.status = status;
    this.graphTools.hidden = this.tab !== 'graph' || status === 'idle';
    this.results.setAttribute('aria-busy', String(status === 'loading'));
    this.runBtn.textContent = status === 'loading' ? '… Running' : '▶ Run';
    if (status === 'loading') this.stats.textContent = 'Running…';
  }

  /** The line of numbers next to the tabs. */
  showStats() {
    if (this.results.dataset.status === 'loading') return;
    const parts = [];
    if (this.tab === 'graph' && this.graph && !this.stale.graph && (this.graph.series.length || !hasErrors(this.graph))) {
      const g = this.graph;
      parts.push(`${g.series.length} series`, `${formatNumber(g.points)} points`, `step ${formatDurationSpec(g.step)}`,
        `query ${formatDuration(g.fetchMs)}`);
      if (this.chart && g.series.length) parts.push(`render ${formatDuration(this.chart.lastRenderMs)}`);
      if (this.exemplars && g.exemplars.length) parts.push(`${g.exemplars.length} exemplars`);
    } else if (this.tab === 'table' && this.tableData && !this.stale.table && (this.tableData.rows.length || !hasErrors(this.tableData))) {
      const t = this.tableData;
      parts.push(`${t.rows.length} rows`, `at ${formatTime(t.time)}`, `query ${formatDuration(t.fetchMs)}`);
    }
    this.stats.textContent = parts.join(' · ');
  }

  showBrowser() {
    this.setStatus('idle');
    this.stats.textContent = '';
    this.chartHost.hidden = true;
    this.tableHost.hidden = true;
    clear(this.message);
    const box = h('div', { class: 'metrics-browser' });
    this.message.append(box);
    renderBrowser(box, this.source, (name) => {
      const row = this.rows.find((r) => !r.query.trim()) || this.addRow('', '');
      row.editor.setValue(name);
      row.showMeta();
      this.run({ push: true });
    });
  }

  destroy() {
    this.controller?.abort();
    for (const r of this.rows) r.destroy();
    if (this.chart) this.chart.destroy();
  }
}
