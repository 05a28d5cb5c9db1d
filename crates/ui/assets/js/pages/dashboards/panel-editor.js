/**
 * The panel editor: a dialog with the panel's type, title, size, options
 * and queries (QueryEditor in the type's language), and a live preview.
 * @module pages/dashboards/panel-editor
 */
import { h, clear } from '../../lib/dom.js';
import { QueryEditor, errorSpan } from '../../components/editor.js';
import { openDialog } from './dialogs.js';
import { PanelView, TYPE_OPTIONS } from './panels.js';
import { PANEL_TYPES, UNITS, GRID_COLUMNS, DEFAULT_SIZE, queryLanguage } from './model.js';
import { completer } from './complete.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const WIDTHS = [[6, '¼'], [8, '⅓'], [12, '½'], [16, '⅔'], [18, '¾'], [24, 'Full']];
const PLACEHOLDERS = {
  promql: 'PromQL, e.g. rate(http_requests_total{job="$job"}[$__rate_interval])',
  logql: 'LogQL, e.g. {service="$service"} |= "error"',
  traceql: 'TraceQL, e.g. { resource.service.name = "$service" && status = error }',
};
const copy = (x) => JSON.parse(JSON.stringify(x));

let seq = 0;

/**
 * Opens the editor for `panel` (a copy is edited; `env.onApply` gets it).
 * @param {object} panel
 * @param {{api: object, href: Function, range: Function, variables: Function, resolverFor: Function, isNew?: boolean,
 *          onApply: (panel: object) => void}} env
 */
export function editPanel(panel, env) {
  return new PanelEditor(panel, env).dialog;
}

class PanelEditor {
  constructor(panel, env) {
    this.env = env;
    this.draft = copy(panel);
    this.uid = `pe${++seq}`;
    this.editors = [];
    this.preview = null;
    this.buildControls();
    const fields = h('div', { class: 'dash-editor-fields' },
      this.field('Title', this.titleIn), this.field('Type', this.typeSel),
      h('div', { class: 'dash-field' }, h('label', { for: `${this.uid}-width` }, 'Width (of 24)'),
        h('div', { class: 'dash-size' }, this.widthIn, this.widthPresets)),
      this.field('Height (rows)', this.heightIn),
      this.options);
    const main = h('div', { class: 'dash-editor-main' },
      h('div', { class: 'dash-editor-section-title' }, h('h3', {}, 'Queries'),
        h('span', { class: 'hint' }, 'Enter runs the preview · $var, ${var} and $__rate_interval are replaced')),
      this.queriesEl,
      h('div', { class: 'dash-editor-section-title' }, h('h3', {}, 'Preview'),
        h('button', { type: 'button', onClick: () => this.runPreview() }, 'Run queries')),
      this.previewEl);
    this.dialog = openDialog({
      title: env.isNew ? 'Add panel' : `Edit panel “${panel.title || 'Untitled'}”`,
      className: 'dash-dialog-wide dash-panel-editor',
      body: h('div', { class: 'dash-editor' }, fields, main),
      actions: [h('span', { class: 'grow' }),
        h('button', { type: 'button', onClick: () => this.dialog.close(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'primary', onClick: () => this.apply() }, env.isNew ? 'Add panel' : 'Apply')],
      onClose: () => this.teardown(),
    });
    this.setSize();
    this.renderOptions();
    this.renderQueries();
    this.titleIn.focus();
    this.titleIn.select();
    this.runPreview();
  }

  buildControls() {
    const d = this.draft;
    this.titleIn = h('input', { type: 'text', value: d.title, autocomplete: 'off', onInput: () => { d.title = this.titleIn.value; } });
    this.typeSel = h('select', { onChange: () => this.changeType(this.typeSel.value) },
      TYPE_OPTIONS.map((o) => h('option', { value: o.value, selected: o.value === d.type }, o.label)));
    this.widthIn = h('input', { type: 'number', id: `${this.uid}-width`, min: 1, max: GRID_COLUMNS, value: d.gridPos.w, onInput: () => this.setSize() });
    this.heightIn = h('input', { type: 'number', min: 2, max: 40, value: d.gridPos.h, onInput: () => this.setSize() });
    this.widthPresets = h('div', { class: 'segmented dash-width-presets', role: 'group', 'aria-label': 'Width presets' },
      WIDTHS.map(([w, label]) => h('button', {
        type: 'button', title: `${w} of 24 columns`, 'aria-label': `${label === 'Full' ? 'Full' : label} width`,
        onClick: () => { this.widthIn.value = w; this.setSize(); },
      }, label)));
    this.options = h('div', { class: 'dash-editor-options' });
    this.queriesEl = h('div', { class: 'dash-editor-queries' });
    this.previewEl = h('div', { class: 'dash-editor-preview' });
  }

  field(label, control) {
    const id = `${this.uid}-${label.replace(/\W+/g, '').toLowerCase()}`;
    control.id = id;
    return h('div', { class: 'dash-field' }, h('label', { for: id }, label), control);
  }

  setSize() {
    const g = this.draft.gridPos;
    g.w = Math.min(GRID_COLUMNS, Math.max(1, Math.round(+this.widthIn.value || 12)));
    g.h = Math.min(40, Math.max(2, Math.round(+this.heightIn.value || 8)));
    for (const b of this.widthPresets.children) b.setAttribute('aria-pressed', String(b.title.startsWith(`${g.w} `)));
  }

  changeType(type) {
    const d = this.draft;
    const wasMetric = !!PANEL_TYPES[d.type].metric;
    const [ow, oh] = DEFAULT_SIZE[d.type];
    if (d.gridPos.w === ow && d.gridPos.h === oh) {
      [this.widthIn.value, this.heightIn.value] = DEFAULT_SIZE[type];
      this.setSize();
    }
    d.type = type;
    const metric = !!PANEL_TYPES[type].metric;
    if (!metric) d.queries = d.queries.map((q) => ({ expr: q.expr }));
    if (!metric || !wasMetric) delete d.unit;
    if (type !== 'timeseries') delete d.stacked;
    if (type !== 'logs' && type !== 'traces') delete d.limit;
    this.renderOptions();
    this.renderQueries();
    this.runPreview();
  }

  renderOptions() {
    const d = this.draft, t = d.type, opts = this.options;
    clear(opts);
    if (PANEL_TYPES[t].metric) {
      const unit = h('select', { onChange: () => { if (unit.value) d.unit = unit.value; else delete d.unit; this.runPreview(); } },
        Object.entries(UNITS).map(([v, l]) => h('option', { value: v, selected: (d.unit || '') === v }, l)));
      opts.append(this.field('Unit', unit));
    }
    if (t === 'timeseries') {
      const id = `${this.uid}-stacked`;
      opts.append(h('div', { class: 'dash-field dash-check' },
        h('input', { type: 'checkbox', id, checked: !!d.stacked, onChange: (e) => { if (e.target.checked) d.stacked = true; else delete d.stacked; this.runPreview(); } }),
        h('label', { for: id }, 'Stack series')));
    }
    if (t === 'logs' || t === 'traces') {
      const def = t === 'logs' ? 100 : 20;
      const lim = h('input', { type: 'number', min: 1, max: 5000, value: d.limit || def,
        onChange: () => { const n = Math.round(+lim.value); if (n > 0 && n !== def) d.limit = Math.min(5000, n); else delete d.limit; } });
      opts.append(this.field(t === 'logs' ? 'Max lines' : 'Max traces', lim));
    }
  }

  renderQueries() {
    this.editors.splice(0).forEach((e) => e.destroy());
    clear(this.queriesEl);
    const metric = !!PANEL_TYPES[this.draft.type].metric;
    this.draft.queries.forEach((q, i) => this.queriesEl.append(this.queryRow(q, i, metric)));
    this.queriesEl.append(h('button', { type: 'button', class: 'dash-add-query', onClick: () => {
      this.draft.queries.push(metric ? { expr: '', legend: '' } : { expr: '' });
      this.renderQueries();
      this.editors[this.editors.length - 1].focus();
    } }, '+ Add query'));
  }

  queryRow(q, i, metric) {
    const d = this.draft;
    const lang = queryLanguage(d, q);
    const head = h('div', { class: 'dash-query-head' }, h('span', { class: 'dash-query-letter', 'aria-hidden': 'true' }, LETTERS[i]));
    const edBox = h('div', { class: 'dash-query-editor' });
    const ed = new QueryEditor(edBox, {
      language: lang, value: q.expr, placeholder: PLACEHOLDERS[lang], ariaLabel: `Query ${LETTERS[i]}`,
      onChange: (v) => { q.expr = v; },
      onSubmit: (v) => { q.expr = v; this.runPreview(); },
      complete: (ctx) => completer(this.env.api, ed.language, this.env.range, this.env.variables, this.env.resolverFor(15000))(ctx),
    });
    this.editors[i] = ed;
    if (metric) {
      const src = h('select', { 'aria-label': `Query ${LETTERS[i]} source`, onChange: () => {
        if (src.value === 'loki') q.source = 'loki'; else delete q.source;
        ed.setLanguage(queryLanguage(d, q));
        ed.setError(null);
      } }, h('option', { value: 'prometheus', selected: q.source !== 'loki' }, 'Metrics (PromQL)'),
      h('option', { value: 'loki', selected: q.source === 'loki' }, 'Logs (LogQL metric query)'));
      head.append(src);
    } else {
      head.append(h('span', { class: 'hint' }, { logql: 'LogQL log query', traceql: 'TraceQL search' }[lang]));
    }
    head.append(h('span', { class: 'grow' }));
    if (d.queries.length > 1) {
      head.append(h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove query ${LETTERS[i]}`, title: 'Remove query',
        onClick: () => { d.queries.splice(i, 1); this.renderQueries(); this.runPreview(); } }, '✕'));
    }
    const row = h('div', { class: 'dash-query', dataset: { index: String(i) } }, head, edBox);
    if (metric) {
      const legend = h('input', { type: 'text', value: q.legend || '', placeholder: '{{label}} templates, e.g. {{queue}}', 'aria-label': `Query ${LETTERS[i]} legend`,
        onInput: () => { q.legend = legend.value; } });
      row.append(h('div', { class: 'dash-query-legend' }, h('span', { class: 'hint', 'aria-hidden': 'true' }, 'Legend'), legend));
    }
    return row;
  }

  /** Shows a query's error in its editor (at its position when the text was not interpolated). */
  queryError(i, e, text) {
    const ed = this.editors[i];
    if (!ed) return;
    if (!e) { ed.setError(null); return; }
    const span = errorSpan(e.message, text);
    ed.setError(text === this.draft.queries[i].expr.trim() ? span : { message: span.message });
  }

  runPreview() {
    if (this.preview) this.preview.destroy();
    clear(this.previewEl);
    const p = copy(this.draft);
    p.gridPos = { x: 0, y: 0, w: 24, h: Math.min(this.draft.gridPos.h, 10) };
    this.preview = new PanelView(p, { api: this.env.api, href: this.env.href, onQueryError: (i, e, text) => this.queryError(i, e, text) });
    this.previewEl.append(this.preview.el);
    let range;
    try { range = this.env.range(); } catch (e) { this.preview.showError(e); return; }
    this.preview.run(range, this.env.resolverFor);
  }

  apply() {
    const d = this.draft;
    d.title = this.titleIn.value.trim();
    d.queries = d.queries.map((q) => {
      const out = { expr: q.expr.trim() };
      if (PANEL_TYPES[d.type].metric) {
        if (q.legend && q.legend.trim()) out.legend = q.legend.trim();
        if (q.source === 'loki') out.source = 'loki';
      }
      return out;
    });
    this.dialog.close(true);
    this.env.onApply(d);
  }

  teardown() {
    this.editors.splice(0).forEach((e) => e.destroy());
    if (this.preview) this.preview.destroy();
  }
}
