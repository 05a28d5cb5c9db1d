/**
 * The time range picker of the header: quick relative ranges and an
 * absolute from/to form, a refresh button and the auto-refresh interval.
 * Calls `onChange({from, to})` with the texts the URL carries (see
 * lib/time.js) and `onAutoRefresh(interval)` ('' = off).
 * @module components/timepicker
 */
import { h, clear } from '../lib/dom.js';
import { describeRange, resolveRange } from '../lib/time.js';

/** Auto-refresh intervals offered ('' = off). */
export const AUTO_REFRESH = ['', '5s', '10s', '30s', '1m', '5m', '15m'];

const QUICK = [
  ['now-5m', 'Last 5 minutes'], ['now-15m', 'Last 15 minutes'], ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'], ['now-3h', 'Last 3 hours'], ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'], ['now-24h', 'Last 24 hours'], ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'], ['now-30d', 'Last 30 days'],
];

export class TimePicker {
  /**
   * @param {HTMLElement} root
   * @param {{range: {from: string, to: string}, refresh?: string, onChange: Function,
   *   onRefresh?: Function, onAutoRefresh?: Function}} opts
   */
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.range = opts.range;
    this.auto = opts.refresh || '';
    this.open = false;
    this.onDocClick = (e) => { if (this.open && !this.root.contains(e.target)) this.close(); };
    document.addEventListener('mousedown', this.onDocClick);
    this.render();
  }

  /** Shows another range (after a zoom or a URL change) without calling onChange. */
  setRange(range) {
    this.range = range;
    this.render();
  }

  /** Shows another auto-refresh interval ('' = off) without calling onAutoRefresh. */
  setAutoRefresh(interval) {
    this.auto = AUTO_REFRESH.includes(interval || '') ? interval || '' : '';
    this.render();
  }

  close() {
    this.open = false;
    this.render();
  }

  apply(range) {
    this.range = range;
    this.open = false;
    this.render();
    this.opts.onChange(range);
  }

  render() {
    clear(this.root);
    this.root.className = 'timepicker';
    const button = h('button', {
      type: 'button', class: 'timepicker-button', 'aria-haspopup': 'dialog', 'aria-expanded': String(this.open),
      title: 'Time range', onclick: () => { this.open = !this.open; this.render(); },
    }, describeRange(this.range));
    const refresh = h('button', {
      type: 'button', class: 'icon-button', 'aria-label': 'Refresh', title: 'Refresh (run again)',
      onclick: () => this.opts.onRefresh && this.opts.onRefresh(),
    }, '⟳');
    const auto = h('select', {
      class: 'timepicker-auto', 'aria-label': 'Auto-refresh', title: 'Auto-refresh',
      onchange: (e) => { this.auto = e.target.value; this.opts.onAutoRefresh && this.opts.onAutoRefresh(this.auto); },
    }, AUTO_REFRESH.map((v) => h('option', { value: v, selected: v === this.auto }, v ? `Every ${v}` : 'Auto off')));
    this.root.append(button, refresh, auto);
    if (this.open) this.root.append(this.popover());
  }

  popover() {
    const err = h('div', { class: 'field-error', role: 'alert' });
    const from = h('input', { type: 'text', value: this.range.from, 'aria-label': 'From', spellcheck: 'false' });
    const to = h('input', { type: 'text', value: this.range.to, 'aria-label': 'To', spellcheck: 'false' });
    const submit = (e) => {
      e.preventDefault();
      const range = { from: from.value.trim(), to: to.value.trim() };
      try { resolveRange(range); } catch (x) { err.textContent = x.message; return; }
      this.apply(range);
    };
    const pop = h('div', {
      class: 'popover timepicker-popover', role: 'dialog', 'aria-label': 'Choose a time range',
      onkeydown: (e) => { if (e.key === 'Escape') { this.close(); this.root.querySelector('button').focus(); } },
    },
      h('form', { class: 'timepicker-absolute', onsubmit: submit },
        h('div', { class: 'popover-title' }, 'Absolute range'),
        h('label', {}, 'From', from),
        h('label', {}, 'To', to),
        h('div', { class: 'hint' }, 'now-1h, 2026-12-06 10:00, or epoch ms'),
        err,
        h('button', { type: 'submit', class: 'primary' }, 'Apply')),
      h('ul', { class: 'timepicker-quick', 'aria-label': 'Quick ranges' },
        QUICK.map(([f, label]) => h('li', {},
          h('button', {
            type: 'button', class: f === this.range.from && this.range.to === 'now' ? 'active' : '',
            onclick: () => this.apply({ from: f, to: 'now' }),
          }, label)))));
    queueMicrotask(() => from.focus());
    return pop;
  }

  destroy() {
    document.removeEventListener('mousedown', this.onDocClick);
    clear(this.root);
  }
}
