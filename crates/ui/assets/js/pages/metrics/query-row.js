/**
 * One query of the metrics page: its letter, a PromQL editor with
 * completion, an optional legend format, a remove button, and a line
 * under it with the metadata of the metrics it uses and its last result.
 * @module pages/metrics/query-row
 */
import { h, clear, debounce } from '../../lib/dom.js';
import { QueryEditor } from '../../components/editor.js';
import { metricsIn } from './source.js';

/** The letter of the i-th query: A … Z, then AA, AB … */
export function letterOf(i) {
  return i < 26 ? String.fromCharCode(65 + i) : letterOf(Math.floor(i / 26) - 1) + letterOf(i % 26);
}

/**
 * A query row.
 */
export class QueryRow {
  /**
   * @param {{query?: string, legend?: string, source: import('./source.js').MetricsSource,
   *   onSubmit: () => void, onRemove: (row: QueryRow) => void, onChange?: () => void}} opts
   */
  constructor(opts) {
    this.opts = opts;
    this.letterEl = h('span', { class: 'metrics-letter', 'aria-hidden': 'true' });
    const editorBox = h('div', { class: 'metrics-editor' });
    this.editor = new QueryEditor(editorBox, {
      language: 'promql',
      value: opts.query || '',
      placeholder: 'PromQL, e.g. rate(http_requests_total[5m]) — Enter to run, Shift+Enter for a new line',
      complete: (ctx) => opts.source.complete(ctx),
      onSubmit: () => opts.onSubmit(),
      onChange: () => { this.updateMeta(); opts.onChange?.(); },
    });
    this.legendInput = h('input', {
      type: 'text', class: 'metrics-legend mono', value: opts.legend || '', placeholder: 'Legend: {{label}}',
      spellcheck: 'false', autocomplete: 'off',
      title: 'Legend format: text with {{label}} placeholders; empty shows the series labels',
      onKeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); opts.onSubmit(); } },
      onChange: () => opts.onChange?.(),
    });
    this.removeBtn = h('button', { type: 'button', class: 'icon-button metrics-remove', onClick: () => opts.onRemove(this) }, '✕');
    this.metaEl = h('div', { class: 'metrics-meta' });
    this.statusEl = h('span', { class: 'metrics-row-status hint', role: 'status' });
    this.element = h('div', { class: 'metrics-query-row', role: 'group' },
      this.letterEl,
      h('div', { class: 'metrics-query-main' },
        h('div', { class: 'metrics-query-line' }, editorBox, this.legendInput, this.removeBtn),
        h('div', { class: 'metrics-query-foot' }, this.metaEl, this.statusEl)));
    this.updateMeta = debounce(() => this.showMeta(), 250);
    this.showMeta();
  }

  /** The query text as typed (server error positions refer to it). */
  get query() { return this.editor.value; }

  /** The legend format. */
  get legend() { return this.legendInput.value.trim(); }

  /** Sets the letter (after a row above is removed); `alone` hides the remove button. */
  setLetter(letter, alone) {
    this.letter = letter;
    this.letterEl.textContent = letter;
    this.element.setAttribute('aria-label', `Query ${letter}`);
    this.editor.textarea.setAttribute('aria-label', `PromQL query ${letter}`);
    this.legendInput.setAttribute('aria-label', `Legend format of query ${letter}`);
    this.removeBtn.setAttribute('aria-label', `Remove query ${letter}`);
    this.removeBtn.title = `Remove query ${letter}`;
    this.removeBtn.hidden = alone;
  }

  /** Shows an error in the editor (`{message, start?, end?}`) or clears it. */
  setError(err) { this.editor.setError(err); }

  /** The line right of the metadata: e.g. `3 series · 723 points`. */
  setStatus(text) { this.statusEl.textContent = text || ''; }

  /** Type, unit and help of the metrics in the query, when the server knows them. */
  async showMeta() {
    const names = metricsIn(this.editor.value);
    if (!names.length) { clear(this.metaEl); return; }
    const meta = await this.opts.source.metadata();
    clear(this.metaEl);
    for (const n of names.slice(0, 4)) {
      const m = meta[n];
      if (!m) continue;
      this.metaEl.append(h('span', { class: 'metrics-meta-item' },
        h('span', { class: 'mono metrics-meta-name' }, n),
        m.type ? h('span', { class: 'badge' }, m.type) : null,
        m.unit ? h('span', { class: 'badge' }, m.unit) : null,
        m.help ? h('span', { class: 'metrics-meta-help' }, m.help) : null));
    }
  }

  /** Puts the caret in the editor. */
  focus() { this.editor.focus(); }

  /** Removes the row. */
  destroy() {
    this.updateMeta.cancel();
    this.editor.destroy();
    this.element.remove();
  }
}
