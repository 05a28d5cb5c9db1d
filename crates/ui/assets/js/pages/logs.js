/**
 * The logs explorer: a LogQL editor (with label, value and field
 * completion and inline errors), a label browser, the log volume by level
 * over the range (drag to zoom), and a virtualised list of the lines with
 * their matches marked, expandable into labels, structured metadata and
 * parsed fields (with filter buttons that edit the query) and a link to the
 * line's trace; plus live tailing over a WebSocket.
 *
 * URL state: `query`, `dir` (backward = newest first | forward), `limit`,
 * `wrap=1`, `line` (the expanded line's id). Running a query pushes history.
 * @module pages/logs
 */
import { h, clear, notice } from '../lib/dom.js';
import { formatBytes, formatDuration } from '../lib/format.js';
import { QueryEditor, errorSpan } from '../components/editor.js';
import { VirtualList } from '../components/virtual-list.js';
import { lineFilters, isLogQuery, addMatcher, addLabelFilter, replaceSelector } from './logs/logql.js';
import { queryLines, completer } from './logs/data.js';
import { renderRow } from './logs/rows.js';
import { VolumePanel, count } from './logs/volume.js';
import { LabelBrowser } from './logs/browser.js';
import { LiveTail } from './logs/tail.js';

const LIMITS = [100, 1000, 5000];
const DEFAULT_LIMIT = 1000;
const ROW_ESTIMATE = 25;
const EXAMPLE = '{service="api"} |= "error"';

/**
 * Mounts the page.
 * @param {HTMLElement} root
 * @param {object} ctx the shell's page context
 * @returns {{refresh: () => void, unmount: () => void}}
 */
export function mount(root, ctx) {
  const page = new LogsPage(root, ctx);
  return { refresh: () => page.refresh(), unmount: () => page.destroy() };
}

class LogsPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    const p = ctx.params;
    const limit = Number(p.get('limit'));
    this.state = {
      query: p.get('query') || p.get('q') || '',
      dir: p.get('dir') === 'forward' ? 'forward' : 'backward',
      limit: LIMITS.includes(limit) ? limit : DEFAULT_LIMIT,
      wrap: p.get('wrap') === '1',
    };
    /** @type {import('./logs/data.js').LogEntry[]} */
    this.entries = [];
    this.expanded = new Set();
    this.lineParam = p.get('line') || '';
    this.active = 0;
    this.filters = [];
    this.showDate = false;
    this.controller = null;
    this.tail = null;
    this.paused = false;
    this.buffer = [];
    this.build();
    if (this.state.query.trim()) this.run({ push: false });
    else this.showIntro();
  }

  // ------------------------------------------------------------ layout

  build() {
    const ctx = this.ctx;
    const editorBox = h('div', { class: 'log-editor' });
    this.browserBtn = h('button', {
      type: 'button', 'aria-expanded': 'false', 'aria-controls': 'log-label-browser',
      onClick: () => this.toggleBrowser(),
    }, 'Label browser');
    this.liveBtn = h('button', { type: 'button', class: 'log-live-btn', 'aria-pressed': 'false', onClick: () => this.toggleLive() },
      h('span', { class: 'log-live-dot', 'aria-hidden': 'true' }), 'Live');
    this.runBtn = h('button', { type: 'button', class: 'primary', onClick: () => this.run({ push: true }) }, 'Run query');
    const queryPanel = h('section', { class: 'panel log-query', 'aria-label': 'Query' },
      h('div', { class: 'log-query-row' }, editorBox, h('div', { class: 'log-query-buttons' }, this.browserBtn, this.liveBtn, this.runBtn)),
      h('p', { class: 'hint log-keys' }, 'Enter runs · Shift+Enter adds a line · Ctrl+Space completes labels, values and fields'));
    this.root.append(h('h1', { class: 'visually-hidden' }, 'Logs'), queryPanel);
    this.editor = new QueryEditor(editorBox, {
      language: 'logql', value: this.state.query, placeholder: `Enter a LogQL query, e.g. ${EXAMPLE}`, ariaLabel: 'LogQL query',
      onSubmit: () => this.run({ push: true }),
      complete: completer(ctx, () => this.editor.value),
    });
    this.browser = new LabelBrowser(this.root, ctx, (sel, run) => this.useSelector(sel, run));
    this.volume = new VolumePanel(this.root, ctx);
    this.root.append(this.buildResults());
  }

  buildResults() {
    this.stats = h('span', { class: 'log-stats hint', role: 'status' });
    this.dirBtns = segmented('Order', [['backward', 'Newest first'], ['forward', 'Oldest first']], this.state.dir, (v) => this.setOption({ dir: v }));
    this.limitBtns = segmented('Limit', LIMITS.map((n) => [String(n), count(n)]), String(this.state.limit), (v) => this.setOption({ limit: Number(v) }));
    this.wrapBtn = h('button', { type: 'button', 'aria-pressed': String(this.state.wrap), onClick: () => this.setOption({ wrap: !this.state.wrap }) }, 'Wrap lines');
    this.pauseBtn = h('button', { type: 'button', class: 'log-pause', hidden: true, onClick: () => this.togglePause() }, 'Pause');
    this.liveStatus = h('span', { class: 'log-live-status', hidden: true, role: 'status' });
    this.message = h('div', { class: 'log-message' });
    this.listBox = h('div', { class: 'log-list-box' });
    const section = h('section', { class: 'panel log-results', 'aria-label': 'Log lines', dataset: { status: 'idle' } },
      h('div', { class: 'panel-header log-results-header' },
        h('h2', {}, 'Lines'), this.stats, this.liveStatus, this.pauseBtn, h('span', { class: 'grow' }),
        h('div', { class: 'toolbar' },
          h('span', { class: 'hint', id: 'log-order-label' }, 'Order'), this.dirBtns.el,
          h('span', { class: 'hint', id: 'log-limit-label' }, 'Limit'), this.limitBtns.el,
          this.wrapBtn)),
      this.message, this.listBox);
    this.resultsEl = section;
    this.list = new VirtualList(this.listBox, {
      estimate: ROW_ESTIMATE, overscan: 8, label: 'Log lines',
      keyOf: (i) => this.entries[i].id,
      renderRow: (i) => this.renderRow(i),
    });
    this.list.scroller.classList.add('log-list');
    this.list.scroller.classList.toggle('is-wrapped', this.state.wrap);
    this.list.scroller.addEventListener('keydown', (e) => this.onListKey(e));
    this.list.scroller.addEventListener('focusin', (e) => {
      const row = e.target.closest('.vlist-row');
      if (row && e.target.classList.contains('log-toggle')) this.setActive(Number(row.dataset.index), false);
    });
    return section;
  }

  renderRow(i) {
    const entry = this.entries[i];
    const row = renderRow(entry, i, this.expanded.has(entry.id), {
      filters: this.filters, showDate: this.showDate,
      onToggle: (e, open) => this.toggleExpanded(e, open),
      onFilter: (f) => this.applyFilter(f),
      href: (path) => this.ctx.href(path),
    });
    row.setAttribute('aria-setsize', String(this.entries.length));
    row.setAttribute('aria-posinset', String(i + 1));
    row.querySelector('.log-toggle').tabIndex = i === this.active ? 0 : -1;
    return row;
  }

  showIntro() {
    this.volume.reset();
    this.volume.root.hidden = true;
    if (!this.browser.open) this.toggleBrowser();
    this.resultsEl.dataset.status = 'idle';
    this.setMessage(notice('empty', `Enter a LogQL query — a stream selector such as ${EXAMPLE} — or pick labels in the label browser.`));
    this.setEntries([]);
    this.editor.focus();
  }

  setMessage(node) {
    clear(this.message);
    if (node) this.message.append(node);
  }

  // ------------------------------------------------------------ running

  /** Re-runs the current query for the new time range or tenant. */
  refresh() {
    if (this.browser.open) this.browser.loadLabels();
    if (this.tail) this.startTail();
    else if (this.state.query.trim()) this.run({ push: false, keepExpanded: true });
  }

  /**
   * Runs the editor's query: the lines and the volume, in parallel.
   * @param {{push?: boolean, keepExpanded?: boolean}} opts push: add a history entry
   */
  async run({ push = false, keepExpanded = false } = {}) {
    const query = this.editor.value.trim();
    this.state.query = query;
    this.editor.setError(null);
    if (!keepExpanded && push) { this.expanded.clear(); this.lineParam = ''; }
    this.saveState(push);
    if (!query) { this.showIntro(); return; }
    if (!isLogQuery(query)) {
      this.editor.setError({ message: 'The logs explorer shows log lines: start the query with a stream selector such as {service="api"}. Metric queries (rate, count_over_time…) belong on a dashboard panel.', start: 0, end: query.length });
      return;
    }
    if (this.tail) { this.startTail(); return; }
    let range;
    try { range = this.ctx.time.resolve(); } catch (e) { this.setMessage(notice('error', e.message)); return; }
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.volume.root.hidden = false;
    this.filters = lineFilters(query);
    this.showDate = range.end - range.start > 86_400_000 || new Date(range.start).toDateString() !== new Date().toDateString();
    this.root.classList.add('is-loading');
    this.resultsEl.dataset.status = 'loading';
    this.stats.textContent = 'Loading…';
    this.volume.load(query, range.start, range.end, controller.signal);
    const t0 = performance.now();
    try {
      const res = await queryLines(this.ctx, { query, ...range, limit: this.state.limit, direction: this.state.dir }, controller.signal);
      if (this.controller !== controller) return;
      this.showResult(res, performance.now() - t0);
    } catch (e) {
      if (e.name === 'AbortError' || this.controller !== controller) return;
      this.showError(e, query);
    } finally {
      if (this.controller === controller) { this.root.classList.remove('is-loading'); this.controller = null; }
    }
  }

  showResult(res, elapsed) {
    if (res.resultType !== 'streams') {
      this.setEntries([]);
      this.stats.textContent = '';
      this.resultsEl.dataset.status = 'error';
      this.setMessage(notice('error', 'This is a metric query: the logs explorer shows log lines. Remove the range aggregation to see the lines.'));
      return;
    }
    const s = (res.stats && res.stats.summary) || {};
    const parts = [plural(res.entries.length, 'line')];
    if (res.entries.length >= this.state.limit) parts[0] += ` (limit ${count(this.state.limit)} reached)`;
    if (Number.isFinite(s.totalBytesProcessed)) parts.push(`${formatBytes(s.totalBytesProcessed)} scanned`);
    if (Number.isFinite(s.totalLinesProcessed)) parts.push(`${count(s.totalLinesProcessed)} lines scanned`);
    parts.push(Number.isFinite(s.execTime) ? `${formatDuration(s.execTime * 1000)} on the server, ${formatDuration(elapsed)} total` : formatDuration(elapsed));
    this.stats.textContent = parts.join(' · ');
    this.resultsEl.dataset.status = res.entries.length ? 'ok' : 'empty';
    this.stats.dataset.lines = String(res.entries.length);
    this.setMessage(res.entries.length ? null
      : notice('empty', 'No log lines match this query in the selected time range. Widen the time range or loosen the filters.'));
    if (this.lineParam && res.entries.some((e) => e.id === this.lineParam)) this.expanded.add(this.lineParam);
    this.setEntries(res.entries);
    const at = this.lineParam ? res.entries.findIndex((e) => e.id === this.lineParam) : -1;
    if (at >= 0) { this.active = at; this.list.scrollToIndex(at, 'center'); }
  }

  showError(e, query) {
    this.resultsEl.dataset.status = 'error';
    this.setEntries([]);
    this.stats.textContent = '';
    delete this.stats.dataset.lines;
    if (e.status >= 400 && e.status < 500) this.editor.setError(errorSpan(e.message, query));
    this.setMessage(notice('error', e.status ? `The query failed: ${e.message}` : e.message));
  }

  setEntries(entries) {
    this.entries = entries;
    this.active = Math.min(this.active, Math.max(0, entries.length - 1));
    this.list.scroller.scrollTop = 0;
    this.list.setCount(entries.length);
    this.list.scroller.hidden = !entries.length;
  }

  saveState(push) {
    const s = this.state;
    this.ctx.params.set({
      query: s.query || null, q: null, dir: s.dir === 'forward' ? 'forward' : null,
      limit: s.limit === DEFAULT_LIMIT ? null : s.limit, wrap: s.wrap ? '1' : null, line: this.lineParam || null,
    }, { push });
  }

  /** Applies a display option (order, limit, wrap); order and limit re-run the query. */
  setOption(change) {
    Object.assign(this.state, change);
    this.dirBtns.set(this.state.dir);
    this.limitBtns.set(String(this.state.limit));
    this.wrapBtn.setAttribute('aria-pressed', String(this.state.wrap));
    if ('wrap' in change) {
      this.list.scroller.classList.toggle('is-wrapped', this.state.wrap);
      this.list.refresh({ remeasure: true });
      this.saveState(false);
      return;
    }
    if (this.tail && 'limit' in change) { this.trimLive(); this.saveState(false); return; }
    if (this.tail) { this.saveState(false); return; }
    this.editor.setValue(this.state.query);
    this.run({ push: true, keepExpanded: true });
  }

  // ------------------------------------------------------------ rows

  toggleExpanded(entry, open) {
    if (open) this.expanded.add(entry.id); else this.expanded.delete(entry.id);
    this.lineParam = open ? entry.id : (this.lineParam === entry.id ? '' : this.lineParam);
    this.saveState(false);
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.active = i;
    const hadFocus = this.list.rowElement(i)?.contains(document.activeElement);
    this.list.invalidate(i);
    if (hadFocus) this.focusRow(i);
  }

  applyFilter({ source, key, value, op, parser }) {
    const q = this.editor.value.trim() || this.state.query;
    const next = source === 'stream' ? addMatcher(q, key, value, op)
      : addLabelFilter(q, key, value, op, source === 'client' ? parser : '');
    this.editor.setValue(next);
    this.run({ push: true });
  }

  useSelector(selector, run) {
    this.editor.setValue(replaceSelector(this.editor.value, selector));
    if (run) this.run({ push: true }); else this.editor.focus();
  }

  toggleBrowser() {
    if (!this.browser.open) this.browser.seed(this.editor.value);
    this.browser.toggle();
    this.browserBtn.setAttribute('aria-expanded', String(this.browser.open));
    this.browserBtn.classList.toggle('active', this.browser.open);
  }

  setActive(i, focus = true) {
    if (!this.entries.length) return;
    i = Math.max(0, Math.min(this.entries.length - 1, i));
    const prev = this.list.rowElement(this.active);
    if (prev) prev.querySelector('.log-toggle').tabIndex = -1;
    this.active = i;
    if (focus) this.focusRow(i);
    else { const row = this.list.rowElement(i); if (row) row.querySelector('.log-toggle').tabIndex = 0; }
  }

  focusRow(i) {
    this.list.scrollToIndex(i);
    const row = this.list.rowElement(i);
    if (!row) return;
    const t = row.querySelector('.log-toggle');
    t.tabIndex = 0;
    t.focus({ preventScroll: true });
  }

  /** Arrow keys, Page Up/Down, Home and End move between rows. */
  onListKey(e) {
    if (!e.target.classList.contains('log-toggle')) return;
    const page = Math.max(1, Math.floor(this.list.scroller.clientHeight / ROW_ESTIMATE) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    let next = null;
    if (e.key in moves) next = this.active + moves[e.key];
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = this.entries.length - 1;
    if (next === null) return;
    e.preventDefault();
    this.setActive(next);
  }

  // ------------------------------------------------------------ live tail

  async toggleLive() {
    if (this.tail) { this.stopTail(); return; }
    const query = this.editor.value.trim();
    if (!isLogQuery(query)) { this.run({ push: true }); return; }
    // Check the query first: a WebSocket refused at the handshake only says "failed".
    try {
      await this.ctx.api.get('/loki/api/v1/format_query', { query });
    } catch (e) {
      this.editor.setError(errorSpan(e.message, query));
      return;
    }
    this.state.query = query;
    this.saveState(true);
    this.startTail();
  }

  async startTail() {
    if (this.tail) this.tail.stop();
    if (this.controller) { this.controller.abort(); this.controller = null; }
    const query = this.state.query;
    this.filters = lineFilters(query);
    this.showDate = false;
    this.received = 0;
    this.buffer = [];
    this.paused = false;
    this.setEntries([]);
    this.setMessage(notice('empty', 'Waiting for new lines…'));
    this.resultsEl.dataset.status = 'live';
    this.stats.textContent = '';
    this.liveBtn.setAttribute('aria-pressed', 'true');
    this.liveBtn.classList.add('is-live');
    this.liveBtn.lastChild.textContent = 'Stop live';
    this.volume.root.hidden = true;
    this.pauseBtn.hidden = false;
    this.pauseBtn.textContent = 'Pause';
    this.liveStatus.hidden = false;
    this.dirBtns.setDisabled(true);
    const streamLabels = await this.streamLabelNames();
    const tail = new LiveTail({
      query, tenant: this.ctx.tenant(), limit: Math.min(100, this.state.limit), since: Date.now() - 60_000, streamLabels,
      onEntries: (entries) => this.onTailEntries(tail, entries),
      onState: (state, message) => this.onTailState(tail, state, message),
    });
    this.tail = tail;
    tail.start();
  }

  /** The names of the stream labels (to tell them from structured metadata in tail frames). */
  async streamLabelNames() {
    try {
      const { start, end } = this.ctx.time.resolve();
      const l = await this.ctx.api.data(this.ctx.api.get('/loki/api/v1/labels', { start: `${start}000000`, end: `${end}000000` }));
      return new Set(l || []);
    } catch (e) {
      return undefined;
    }
  }

  onTailState(tail, state, message) {
    if (tail !== this.tail) return;
    const text = { connecting: 'Connecting…', live: 'Live', closed: 'Stopped', error: `Tail stopped: ${message}` }[state];
    this.liveStatus.textContent = text;
    this.liveStatus.dataset.state = state;
    if (state === 'error') { this.setMessage(notice('error', `Live tail stopped: ${message}`)); this.endTailUi(); }
  }

  onTailEntries(tail, entries) {
    if (tail !== this.tail || !entries.length) return;
    this.received += entries.length;
    if (this.paused) {
      this.buffer = entries.concat(this.buffer).slice(0, this.state.limit);
      this.pauseBtn.textContent = `Resume (${count(this.buffer.length)} new)`;
      return;
    }
    this.prepend(entries);
  }

  prepend(entries) {
    const known = new Set(this.entries.slice(0, 500).map((e) => e.id));
    const fresh = entries.filter((e) => !known.has(e.id));
    this.entries = fresh.concat(this.entries).slice(0, this.state.limit);
    this.setMessage(null);
    this.list.scroller.hidden = false;
    this.list.setCount(this.entries.length, { anchor: true });
    this.stats.textContent = `${plural(this.entries.length, 'line')} · ${count(this.received)} received · keeps the newest ${count(this.state.limit)}`;
    this.stats.dataset.lines = String(this.entries.length);
  }

  trimLive() {
    this.entries = this.entries.slice(0, this.state.limit);
    this.list.setCount(this.entries.length, { anchor: true });
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseBtn.setAttribute('aria-pressed', String(this.paused));
    this.pauseBtn.textContent = this.paused ? 'Resume' : 'Pause';
    this.liveStatus.textContent = this.paused ? 'Paused' : 'Live';
    this.liveStatus.dataset.state = this.paused ? 'paused' : 'live';
    if (!this.paused && this.buffer.length) { const b = this.buffer; this.buffer = []; this.prepend(b); }
  }

  stopTail() {
    const tail = this.tail;
    this.tail = null;
    if (tail) tail.stop();
    this.endTailUi();
    this.liveStatus.hidden = true;
    this.run({ push: false });
  }

  endTailUi() {
    this.liveBtn.setAttribute('aria-pressed', 'false');
    this.liveBtn.classList.remove('is-live');
    this.liveBtn.lastChild.textContent = 'Live';
    this.volume.root.hidden = false;
    this.pauseBtn.hidden = true;
    this.pauseBtn.removeAttribute('aria-pressed');
    this.dirBtns.setDisabled(false);
  }

  destroy() {
    if (this.controller) this.controller.abort();
    if (this.tail) { const t = this.tail; this.tail = null; t.stop(); }
    this.editor.destroy();
    this.volume.destroy();
    this.list.destroy();
  }
}

/** `1 line`, `5,000 lines`. */
const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

/**
 * A group of toggle buttons of which one is on.
 * @returns {{el: HTMLElement, set(v:string): void, setDisabled(b:boolean): void}}
 */
function segmented(label, options, value, onPick) {
  const buttons = options.map(([v, text]) => h('button', {
    type: 'button', 'aria-pressed': String(v === value), dataset: { value: v },
    onClick: () => { if (buttons.find((b) => b.dataset.value === v).getAttribute('aria-pressed') !== 'true') onPick(v); },
  }, text));
  const el = h('div', { class: 'segmented', role: 'group', 'aria-label': label }, buttons);
  return {
    el,
    set: (v) => buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.value === v))),
    setDisabled: (d) => buttons.forEach((b) => { b.disabled = d; }),
  };
}
