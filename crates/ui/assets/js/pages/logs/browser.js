/**
 * The label browser of the logs page: pick stream labels, then values of
 * each (scoped by the values picked for the others), and use the resulting
 * stream selector in the query.
 * @module pages/logs/browser
 */
import { h, clear, debounce } from '../../lib/dom.js';
import { toNanos } from '../../lib/time.js';
import { escapeRegExp, quote, findSelector } from './logql.js';

/** A selector from picked values: `{a="x", b=~"y|z"}`. */
export function selectorOf(picked) {
  const parts = [];
  for (const [label, values] of picked) {
    if (!values.size) continue;
    const vs = [...values];
    parts.push(vs.length === 1 ? `${label}=${quote(vs[0])}` : `${label}=~${quote(vs.map(escapeRegExp).join('|'))}`);
  }
  return `{${parts.join(', ')}}`;
}

/** The label browser panel (hidden until opened). */
export class LabelBrowser {
  /**
   * @param {HTMLElement} container
   * @param {object} ctx the page context
   * @param {(selector:string, run:boolean) => void} onUse
   */
  constructor(container, ctx, onUse) {
    this.ctx = ctx;
    this.onUse = onUse;
    /** label → Set of picked values, in the order labels were picked. */
    this.picked = new Map();
    this.values = new Map(); // label → values shown
    this.labelsEl = h('div', { class: 'lb-labels', role: 'group', 'aria-label': 'Stream labels' });
    this.columns = h('div', { class: 'lb-columns' });
    this.preview = h('code', { class: 'lb-preview' });
    this.error = h('p', { class: 'field-error' });
    this.root = h('section', { class: 'panel log-browser', id: 'log-label-browser', 'aria-label': 'Label browser', hidden: true },
      h('div', { class: 'panel-header' }, h('h2', {}, 'Label browser'),
        h('span', { class: 'hint' }, 'Choose labels, then values, to build a stream selector.')),
      h('div', { class: 'lb-step hint' }, '1. Labels'), this.labelsEl,
      h('div', { class: 'lb-step hint' }, '2. Values'), this.columns, this.error,
      h('div', { class: 'toolbar lb-footer' }, h('span', { class: 'hint' }, 'Selector'), this.preview, h('span', { class: 'grow' }),
        h('button', { type: 'button', onClick: () => this.clearPicks() }, 'Clear'),
        h('button', { type: 'button', onClick: () => this.use(false) }, 'Use selector'),
        h('button', { type: 'button', class: 'primary', onClick: () => this.use(true) }, 'Show logs')));
    container.append(this.root);
    this.reloadValues = debounce(() => this.renderColumns(), 150);
    this.showPreview();
  }

  get open() { return !this.root.hidden; }

  /**
   * Picks what the query's selector already matches: `k="v"` and `k=~"a|b"`
   * (plain alternatives only); other matchers are left out.
   */
  seed(query) {
    const sel = findSelector(query || '');
    if (!sel) return;
    this.picked.clear();
    const re = /([A-Za-z_][\w]*)\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g;
    let m;
    while ((m = re.exec(sel.inner))) {
      const [, label, op, raw] = m;
      const v = raw.replace(/\\(.)/g, '$1');
      let values = [v];
      if (op === '=~') {
        const alts = v.split('|').map((a) => a.replace(/\\(.)/g, '$1'));
        if (!v.split('|').every((a) => /^(?:[^.*+?^${}()[\]\\|]|\\.)+$/.test(a))) continue;
        values = alts;
      }
      this.picked.set(label, new Set(values));
    }
    this.showPreview();
  }

  /** Shows or hides the browser; loads the labels when it opens. */
  toggle(open = !this.open) {
    this.root.hidden = !open;
    if (open) this.loadLabels();
  }

  range() {
    try {
      const { start, end } = this.ctx.time.resolve();
      return { start: toNanos(start), end: toNanos(end) };
    } catch (e) { return {}; }
  }

  async loadLabels() {
    this.error.textContent = '';
    try {
      const labels = await this.ctx.api.data(this.ctx.api.get('/loki/api/v1/labels', this.range()));
      clear(this.labelsEl);
      for (const l of labels || []) {
        this.labelsEl.append(h('button', {
          type: 'button', class: 'lb-label', 'aria-pressed': String(this.picked.has(l)),
          onClick: (e) => this.toggleLabel(l, e.currentTarget),
        }, l));
      }
      if (!labels || !labels.length) this.labelsEl.append(h('span', { class: 'hint' }, 'No stream labels in this time range.'));
      this.renderColumns();
    } catch (e) {
      this.error.textContent = `Labels unavailable: ${e.message}`;
    }
  }

  toggleLabel(label, button) {
    if (this.picked.has(label)) this.picked.delete(label); else this.picked.set(label, new Set());
    button.setAttribute('aria-pressed', String(this.picked.has(label)));
    this.showPreview();
    this.renderColumns();
  }

  /** One column of values per picked label, each scoped by the other labels' picks. */
  async renderColumns() {
    const labels = [...this.picked.keys()];
    if (!labels.length) {
      clear(this.columns);
      this.columns.append(h('span', { class: 'hint' }, 'Pick a label above to see its values.'));
      return;
    }
    const cols = await Promise.all(labels.map(async (label) => {
      const others = new Map([...this.picked].filter(([l]) => l !== label));
      const scope = selectorOf(others);
      try {
        const vals = await this.ctx.api.data(this.ctx.api.get(`/loki/api/v1/label/${encodeURIComponent(label)}/values`, {
          ...this.range(), query: scope === '{}' ? undefined : scope,
        }));
        return this.column(label, vals || []);
      } catch (e) {
        return h('div', { class: 'lb-column' }, h('h3', {}, label), h('p', { class: 'field-error' }, e.message));
      }
    }));
    clear(this.columns);
    this.columns.append(...cols);
  }

  column(label, values) {
    const picked = this.picked.get(label);
    const list = h('ul', { class: 'lb-values' });
    const filter = h('input', {
      type: 'search', placeholder: `Filter ${values.length} values`, 'aria-label': `Filter values of ${label}`,
      onInput: () => {
        const f = filter.value.toLowerCase();
        for (const li of list.children) li.hidden = !li.dataset.value.toLowerCase().includes(f);
      },
    });
    for (const v of values) {
      list.append(h('li', { dataset: { value: v } }, h('label', {},
        h('input', {
          type: 'checkbox', checked: picked.has(v),
          onChange: (e) => {
            if (e.target.checked) picked.add(v); else picked.delete(v);
            this.showPreview();
            if (this.picked.size > 1) this.reloadValues();
          },
        }), v)));
    }
    if (!values.length) list.append(h('li', { class: 'hint', dataset: { value: '' } }, 'No values with the other picks.'));
    return h('div', { class: 'lb-column' }, h('h3', {}, label), filter, list);
  }

  showPreview() {
    this.preview.textContent = selectorOf(this.picked);
  }

  clearPicks() {
    for (const s of this.picked.values()) s.clear();
    this.showPreview();
    this.renderColumns();
  }

  use(run) {
    const sel = selectorOf(this.picked);
    if (sel === '{}') {
      this.error.textContent = 'Pick at least one value: a stream selector needs a matcher.';
      return;
    }
    this.error.textContent = '';
    this.onUse(sel, run);
  }
}
