/**
 * The traces page's search view: a form (service, span name, status, span
 * duration, attributes) that composes TraceQL into an editable query, and
 * the list of matching traces from /api/search.
 * @module pages/traces/search
 */
import { h, clear, notice, debounce } from '../../lib/dom.js';
import { formatDuration, formatTime, formatNumber } from '../../lib/format.js';
import { describeRange } from '../../lib/time.js';
import { QueryEditor, errorSpan } from '../../components/editor.js';
import { compose, parse, formToParams, formFromParams, completer, ATTR_OPS } from './traceql.js';
import { serviceColors, normaliseTraceId } from './model.js';

const LIMITS = [20, 50, 100, 500];
const STATUS_CHOICES = [['', 'Any'], ['ok', 'OK'], ['error', 'Error'], ['unset', 'Unset']];
const DURATION_RE = /^\s*(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+\s*$/;
/** Where the last search's URL is kept, for the trace view's way back. */
export const LAST_SEARCH_KEY = 'argus.traces.lastSearch';

/** Lists the services: Jaeger's API first, the tag values as a fallback. */
async function loadServices(api) {
  try {
    const d = await api.get('/jaeger/api/services');
    if (Array.isArray(d.data)) return d.data.slice().sort();
  } catch (e) { /* fall back */ }
  const d = await api.get('/api/v2/search/tag/resource.service.name/values');
  return (d.tagValues || []).map((v) => String(v.value)).sort();
}

/** The span names of a service (or of all services when none is given). */
async function loadOperations(api, service) {
  if (service) {
    try {
      const d = await api.get(`/jaeger/api/services/${encodeURIComponent(service)}/operations`);
      if (Array.isArray(d.data)) return d.data.map((o) => (typeof o === 'string' ? o : o.name)).sort();
    } catch (e) { /* fall back */ }
  }
  const q = service ? `{ resource.service.name = "${service.replace(/["\\]/g, '\\$&')}" }` : undefined;
  const d = await api.get('/api/v2/search/tag/name/values', { q });
  return (d.tagValues || []).map((v) => String(v.value)).sort();
}

/**
 * The search view.
 * @param {HTMLElement} root
 * @param {object} ctx the page context
 * @returns {{refresh(): void, unmount(): void}}
 */
export function mountSearch(root, ctx) {
  const view = new SearchView(root, ctx);
  return { refresh: () => view.run(), unmount: () => view.destroy() };
}

class SearchView {
  constructor(root, ctx) {
    this.ctx = ctx;
    this.api = ctx.api;
    this.limit = LIMITS.includes(Number(ctx.params.get('limit'))) ? Number(ctx.params.get('limit')) : 20;
    this.sort = ctx.params.get('sort') === 'duration' ? 'duration' : 'start';
    this.dir = ctx.params.get('dir') === 'asc' ? 'asc' : 'desc';
    this.results = null;
    this.controller = null;
    this.timers = [];
    this.initState();
    this.build(root);
    this.fillSelects();
    this.run();
  }

  /** Form and query from the URL: a query the form can show wins over the fields. */
  initState() {
    const q = this.ctx.params.get('q');
    const fromQ = q !== null ? parse(q) : null;
    this.form = fromQ || formFromParams(this.ctx.params);
    this.q = q !== null ? q : compose(this.form);
    this.detached = q !== null && !fromQ;
  }

  build(root) {
    this.services = h('select', { id: 'tr-service', onchange: () => this.changed({ service: this.services.value, name: '' }) },
      h('option', { value: '' }, 'Any service'));
    this.names = h('select', { id: 'tr-name', onchange: () => this.changed({ name: this.names.value }) },
      h('option', { value: '' }, 'Any span name'));
    this.status = h('div', { class: 'segmented', role: 'group', 'aria-labelledby': 'tr-status-label' },
      STATUS_CHOICES.map(([v, label]) => h('button', {
        type: 'button', dataset: { value: v }, class: v === 'error' ? 'status-error' : '',
        onclick: () => this.changed({ status: v }),
      }, label)));
    this.min = this.durationInput('tr-min', 'min', 'e.g. 100ms');
    this.max = this.durationInput('tr-max', 'max', 'e.g. 2s');
    this.durError = h('div', { class: 'field-error', id: 'tr-dur-error', role: 'alert' });
    this.attrList = h('div', { class: 'tr-attrs' });
    this.detachedNote = h('div', { class: 'tr-detached hint', role: 'status', hidden: true });
    const editorBox = h('div', { class: 'tr-editor' });
    this.editor = new QueryEditor(editorBox, {
      language: 'traceql', value: this.q, ariaLabel: 'TraceQL query',
      placeholder: '{ resource.service.name = "api" && status = error }',
      onChange: (v) => this.edited(v), onSubmit: () => this.run(), complete: completer(this.api, () => this.range()),
    });
    const limit = h('select', { 'aria-label': 'Most traces to list', onchange: () => { this.limit = Number(limit.value); this.saveUrl(); this.run(); } },
      LIMITS.map((n) => h('option', { value: String(n), selected: n === this.limit }, `${n} traces`)));
    this.summary = h('div', { class: 'tr-summary hint', role: 'status' });
    this.resultsBox = h('div', { class: 'tr-results' });
    root.append(
      h('section', { class: 'panel tr-search', 'aria-labelledby': 'tr-search-title' },
        h('div', { class: 'panel-header' }, h('h2', { id: 'tr-search-title' }, 'Find traces'), h('span', { class: 'grow' }), this.traceIdBox()),
        h('div', { class: 'tr-form' },
          h('div', { class: 'tr-field' }, h('label', { for: 'tr-service' }, 'Service'), this.services),
          h('div', { class: 'tr-field' }, h('label', { for: 'tr-name' }, 'Span name'), this.names),
          h('div', { class: 'tr-field' }, h('span', { id: 'tr-status-label', class: 'tr-label' }, 'Status'), this.status),
          h('div', { class: 'tr-field' }, h('span', { class: 'tr-label', id: 'tr-dur-label' }, 'Span duration'),
            h('div', { class: 'tr-range' }, this.min, h('span', { 'aria-hidden': 'true' }, '–'), this.max), this.durError),
          h('div', { class: 'tr-field tr-field-attrs' }, h('span', { class: 'tr-label' }, 'Attributes'), this.attrList)),
        h('div', { class: 'tr-query' },
          h('span', { class: 'tr-label' }, 'TraceQL'),
          h('div', { class: 'tr-query-row' }, editorBox,
            h('button', { type: 'button', class: 'primary', onclick: () => this.run() }, 'Search'), limit),
          this.detachedNote)),
      h('section', { class: 'panel tr-results-panel', 'aria-labelledby': 'tr-results-title' },
        h('div', { class: 'panel-header' }, h('h2', { id: 'tr-results-title' }, 'Traces'), this.summary),
        this.resultsBox));
    this.showForm();
    if (this.detached) this.showDetached(true);
  }

  durationInput(id, key, placeholder) {
    const input = h('input', {
      type: 'text', id, placeholder, spellcheck: 'false', class: 'tr-dur', 'aria-describedby': 'tr-dur-error',
      'aria-label': key === 'min' ? 'Span duration at least' : 'Span duration at most',
      oninput: this.later(() => this.changed({ [key]: input.value.trim() }, true)),
    });
    return input;
  }

  traceIdBox() {
    const input = h('input', { type: 'search', placeholder: 'Trace ID', 'aria-label': 'Trace ID to open', spellcheck: 'false', class: 'mono tr-id-input' });
    const err = h('span', { class: 'field-error', role: 'alert' });
    const open = (e) => {
      e.preventDefault();
      const id = normaliseTraceId(input.value);
      if (!id) { err.textContent = 'A trace ID is 1 to 32 hex digits'; return; }
      this.ctx.navigate(this.ctx.href(`/ui/traces/${id}`));
    };
    return h('form', { class: 'tr-open-id', onsubmit: open }, input, h('button', { type: 'submit' }, 'Open'), err);
  }

  /** A debounced handler that is cancelled when the view goes away. */
  later(fn, ms = 500) {
    const d = debounce(fn, ms);
    this.timers.push(d);
    return d;
  }

  /** Shows the form state in the fields (the editor is left alone). */
  showForm() {
    const f = this.form;
    this.ensureOption(this.services, f.service);
    this.services.value = f.service;
    this.ensureOption(this.names, f.name);
    this.names.value = f.name;
    for (const b of this.status.children) b.setAttribute('aria-pressed', String(b.dataset.value === f.status));
    if (document.activeElement !== this.min) this.min.value = f.min;
    if (document.activeElement !== this.max) this.max.value = f.max;
    this.showAttrs();
    this.showDetached();
    this.checkDurations();
  }

  /** The note that the form cannot show the query; shown once typing pauses. */
  showDetached(now = false) {
    if (!this.detached) {
      this.detachedNote.hidden = true;
      return;
    }
    if (!now) {
      this.noteTimer = this.noteTimer || this.later(() => this.showDetached(true), 800);
      this.noteTimer();
      return;
    }
    this.detachedNote.replaceChildren(
      'This query is more than the form can show; changing a field above replaces it. ',
      h('button', { type: 'button', class: 'linklike', onclick: () => this.changed({}) }, 'Rebuild the query from the form'));
    this.detachedNote.hidden = false;
  }

  ensureOption(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) select.append(h('option', { value }, value));
  }

  /** Renders the attribute rows (not while one has the focus, unless `force`). */
  showAttrs(force = false) {
    if (!force && this.attrList.contains(document.activeElement)) return; // do not re-render under the caret
    clear(this.attrList);
    this.form.attrs.forEach((a, i) => {
      const update = (patch, later) => {
        const attrs = this.form.attrs.map((x, j) => (j === i ? { ...x, ...patch } : x));
        this.changed({ attrs }, later);
      };
      const key = h('input', { type: 'text', value: a.key, placeholder: 'key, e.g. http.route', 'aria-label': `Attribute ${i + 1} key`, list: 'tr-attr-keys', spellcheck: 'false',
        oninput: this.later(() => update({ key: key.value }, true)) });
      const op = h('select', { 'aria-label': `Attribute ${i + 1} operator`, onchange: () => update({ op: op.value }) },
        ATTR_OPS.map((o) => h('option', { value: o, selected: o === (a.op || '=') }, o)));
      const value = h('input', { type: 'text', value: a.value, placeholder: 'value', 'aria-label': `Attribute ${i + 1} value`, spellcheck: 'false',
        oninput: this.later(() => update({ value: value.value }, true)) });
      const remove = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove attribute ${i + 1}`, title: 'Remove',
        onclick: () => {
          this.changed({ attrs: this.form.attrs.filter((_, j) => j !== i) });
          this.showAttrs(true);
          this.focusAttr(Math.max(0, i - 1));
        } }, '×');
      this.attrList.append(h('div', { class: 'tr-attr' }, key, op, value, remove));
    });
    this.attrList.append(h('button', { type: 'button', class: 'tr-add-attr',
      onclick: () => { this.form.attrs.push({ key: '', op: '=', value: '' }); this.showAttrs(true); this.focusAttr(this.form.attrs.length - 1); } }, '+ Attribute'));
  }

  focusAttr(i) {
    const row = this.attrList.querySelectorAll('.tr-attr')[i];
    (row ? row.querySelector('input') : this.attrList.querySelector('.tr-add-attr')).focus();
  }

  checkDurations() {
    const bad = [this.min, this.max].filter((i) => i.value.trim() && !DURATION_RE.test(i.value));
    for (const i of [this.min, this.max]) i.toggleAttribute('aria-invalid', bad.includes(i));
    this.durError.textContent = bad.length ? 'Durations look like 250ms, 1.5s or 2m' : '';
    return !bad.length;
  }

  /** A form field changed: the query is composed again and run. */
  changed(patch, typed = false) {
    Object.assign(this.form, patch);
    if ('service' in patch) this.loadNames();
    this.detached = false;
    this.q = compose(this.form);
    this.editor.setValue(this.q);
    this.editor.setError(null);
    this.showForm();
    this.saveUrl();
    if (!typed || this.checkDurations()) this.run();
  }

  /** The query was edited by hand: the form follows when it can. */
  edited(v) {
    this.q = v;
    const f = parse(v);
    this.detached = !f;
    if (f) {
      const serviceChanged = f.service !== this.form.service;
      this.form = f;
      if (serviceChanged) this.loadNames();
    }
    this.showForm();
    this.saveUrl();
  }

  saveUrl() {
    const p = { ...formToParams(this.form), q: this.q, limit: this.limit === 20 ? null : this.limit,
      sort: this.sort === 'start' ? null : this.sort, dir: this.dir === 'desc' ? null : this.dir };
    this.ctx.params.set(p);
    try { sessionStorage.setItem(LAST_SEARCH_KEY, location.pathname + location.search); } catch (e) { /* storage off */ }
  }

  async fillSelects() {
    try {
      const services = await loadServices(this.api);
      for (const s of services) this.ensureOption(this.services, s);
      this.services.value = this.form.service;
      const keys = await this.api.get('/api/search/tags').catch(() => ({}));
      document.getElementById('tr-attr-keys')?.remove();
      this.attrList.after(h('datalist', { id: 'tr-attr-keys' }, (keys.tagNames || []).map((k) => h('option', { value: k }))));
    } catch (e) {
      this.summary.textContent = `Could not list services: ${e.message}`;
    }
    this.loadNames();
  }

  async loadNames() {
    const service = this.form.service;
    let names = [];
    try { names = await loadOperations(this.api, service); } catch (e) { /* the field keeps "Any" */ }
    if (service !== this.form.service) return;
    clear(this.names);
    this.names.append(h('option', { value: '' }, 'Any span name'), ...names.map((n) => h('option', { value: n }, n)));
    this.ensureOption(this.names, this.form.name);
    this.names.value = this.form.name;
  }

  range() {
    try { return this.ctx.time.resolve(); } catch (e) { return null; }
  }

  destroy() {
    if (this.controller) this.controller.abort();
    this.controller = null;
    for (const d of this.timers) d.cancel();
    this.editor.destroy();
  }

  /** Runs the query over the time range; marks traces with errors. */
  async run() {
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    let range;
    try { range = this.ctx.time.resolve(); } catch (e) {
      this.resultsBox.replaceChildren(notice('error', e.message));
      return;
    }
    const q = this.q.trim() || '{}';
    const base = { start: Math.floor(range.start / 1000), end: Math.ceil(range.end / 1000) };
    this.editor.setError(null);
    this.resultsBox.setAttribute('aria-busy', 'true');
    this.summary.textContent = 'Searching…';
    const started = performance.now();
    try {
      const res = await this.api.get('/api/search', { ...base, q, limit: this.limit }, { signal: controller.signal });
      if (controller.signal.aborted) return;
      this.results = (res.traces || []).map(traceRow);
      this.inspected = res.metrics && res.metrics.inspectedTraces;
      this.tookMs = performance.now() - started;
      this.showResults();
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.results = null;
      this.editor.setError(errorSpan(e.message, q));
      this.summary.textContent = '';
      this.resultsBox.replaceChildren(e.status === 400
        ? notice('empty', 'No results: the server rejected the query (the error is shown under the query).')
        : notice('error', `The search failed: ${e.message}`));
    } finally {
      if (this.controller === controller) this.resultsBox.removeAttribute('aria-busy');
    }
  }

  sorted() {
    const key = this.sort === 'duration' ? (r) => r.durationMs : (r) => r.startMs;
    const sign = this.dir === 'asc' ? 1 : -1;
    return [...this.results].sort((a, b) => sign * (key(a) - key(b)) || a.id.localeCompare(b.id));
  }

  showResults() {
    const rows = this.results;
    const errors = rows.filter((r) => r.error).length;
    const parts = [`${rows.length} trace${rows.length === 1 ? '' : 's'}`];
    if (rows.length) parts.push(`${errors} with errors`);
    if (this.inspected !== undefined) parts.push(`${formatNumber(this.inspected)} inspected`);
    parts.push(`${formatDuration(this.tookMs)}`);
    this.summary.textContent = parts.join(' · ');
    if (!rows.length) {
      this.resultsBox.replaceChildren(notice('empty',
        `No traces match this query in ${describeRange(this.ctx.time.get())}. Widen the time range or remove some conditions.`));
      return;
    }
    const max = Math.max(...rows.map((r) => r.durationMs), 1e-9);
    const colors = serviceColors(rows.map((r) => r.rootService));
    const table = h('table', { class: 'data tr-table' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Trace'),
        this.sortHeader('start', 'Start'),
        this.sortHeader('duration', 'Duration', 'tr-col-dur'),
        h('th', { scope: 'col', class: 'num' }, 'Spans'),
        h('th', { scope: 'col' }, 'Status'))),
      h('tbody', {}, this.sorted().map((r) => this.resultRow(r, max, colors))));
    const notes = [];
    if (rows.length >= this.limit) notes.push(h('p', { class: 'hint' }, `Showing the first ${this.limit}; narrow the search or raise the limit to see more.`));
    this.resultsBox.replaceChildren(h('div', { class: 'table-scroll tr-table-scroll' }, table), ...notes);
  }

  sortHeader(key, label, cls) {
    const active = this.sort === key;
    const arrow = active ? (this.dir === 'asc' ? ' ↑' : ' ↓') : '';
    return h('th', { scope: 'col', class: cls, 'aria-sort': active ? (this.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', {
        type: 'button', class: 'tr-sort', title: `Sort by ${label.toLowerCase()}`,
        onclick: () => {
          if (this.sort === key) this.dir = this.dir === 'asc' ? 'desc' : 'asc';
          else { this.sort = key; this.dir = 'desc'; }
          this.saveUrl();
          this.showResults();
          this.resultsBox.querySelector(`th[aria-sort]:not([aria-sort="none"]) button`)?.focus();
        },
      }, label, h('span', { 'aria-hidden': 'true' }, arrow)));
  }

  resultRow(r, max, colors) {
    const url = this.ctx.href(`/ui/traces/${r.id}`);
    const pct = Math.max(0.5, (r.durationMs / max) * 100);
    const spans = r.spanCount !== undefined ? `${r.spanCount} · ${r.matched} matched` : `${r.matched} matched`;
    return h('tr', { class: r.error ? 'tr-row tr-row-error' : 'tr-row', dataset: { traceId: r.id },
      onclick: (e) => { if (!e.target.closest('a') && !window.getSelection().toString()) this.ctx.navigate(url); } },
      h('td', { class: 'tr-cell-trace' },
        h('a', { href: url, class: 'tr-trace-link' },
          h('span', { class: 'svc-dot', style: { background: colors.get(r.rootService) }, 'aria-hidden': 'true' }),
          h('span', { class: 'tr-root-service' }, r.rootService), h('span', { class: 'tr-root-name' }, r.rootName)),
        h('div', { class: 'mono hint tr-id' }, r.id)),
      h('td', { class: 'tr-cell-start' }, h('time', { datetime: new Date(r.startMs).toISOString() }, formatTime(r.startMs))),
      h('td', {}, h('div', { class: 'tr-cell-dur' },
        h('div', { class: 'tr-dur-bar', 'aria-hidden': 'true' }, h('span', { class: r.error ? 'error' : '', style: { width: `${pct}%` } })),
        h('span', { class: 'tr-dur-text' }, formatDuration(r.durationMs)))),
      h('td', { class: 'num tr-cell-spans' }, spans),
      h('td', { class: 'tr-cell-status' }, statusBadge(r)));
  }
}

function statusBadge(r) {
  if (r.error) return h('span', { class: 'badge error' }, r.errorCount > 1 ? `${r.errorCount} errors` : 'error');
  if (r.error === null) return h('span', { class: 'hint' }, '–');
  return h('span', { class: 'tr-ok' }, 'ok');
}

/**
 * One search result as the list shows it; its span and error counts come
 * from Tempo's per-service stats (`serviceStats`).
 */
function traceRow(t) {
  const sets = t.spanSets || (t.spanSet ? [t.spanSet] : []);
  const matched = sets.reduce((n, s) => n + (s.matched || (s.spans || []).length), 0);
  const stats = t.serviceStats || null;
  let spanCount, errorCount;
  if (stats) {
    spanCount = Object.values(stats).reduce((n, s) => n + (s.spanCount || 0), 0);
    errorCount = Object.values(stats).reduce((n, s) => n + (s.errorCount || 0), 0);
  }
  const id = String(t.traceID || t.traceId || '').toLowerCase();
  const startNs = String(t.startTimeUnixNano || '0');
  return {
    id, rootService: t.rootServiceName || '<root span not yet received>', rootName: t.rootTraceName || '',
    startMs: startNs.length > 6 ? Number(startNs.slice(0, -6)) : 0,
    durationMs: Number(t.durationMs || 0), matched, spanCount,
    errorCount, error: errorCount !== undefined ? errorCount > 0 : null,
  };
}
