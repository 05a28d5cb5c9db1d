/**
 * The table view of instant results: one row per series (or scalar /
 * string), a column per label and the value; columns sort on click.
 * Range vectors list their samples; native histograms show count, sum and
 * their buckets.
 * @module pages/metrics/table
 */
import { h, clear } from '../../lib/dom.js';
import { formatTime, formatNumber } from '../../lib/format.js';

const MAX_ROWS = 2000;
const MAX_SAMPLES = 12;

/** Compares label values: numbers (incl. ±Inf, as `le` has) numerically, else as text. */
function compareText(a, b) {
  const na = numeric(a), nb = numeric(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return String(a ?? '').localeCompare(String(b ?? ''), undefined, { numeric: true });
}

function numeric(s) {
  if (s === undefined || s === null || s === '') return NaN;
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s) ? Number(s) : NaN;
}

function compareValues(a, b) {
  const na = typeof a === 'number' && !Number.isNaN(a), nb = typeof b === 'number' && !Number.isNaN(b);
  if (na && nb) return a - b;
  if (na !== nb) return na ? -1 : 1;
  return String(a ?? '').localeCompare(String(b ?? ''));
}

/** The label columns of the rows: `__name__` first, then the rest by name. */
function labelKeys(rows) {
  const keys = new Set();
  for (const r of rows) for (const k of Object.keys(r.labels)) keys.add(k);
  return [...keys].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
}

/** Full-precision text of a sample value (as the API sent it). */
function valueText(v) {
  if (typeof v !== 'number') return v === null || v === undefined ? '' : String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

function valueCell(r) {
  if (r.kind === 'string') return h('td', { class: 'metrics-value-string mono' }, JSON.stringify(r.value));
  if (r.kind === 'matrix') return h('td', { class: 'num' }, samplesList(r.samples));
  if (r.kind === 'histogram') return h('td', { class: 'num' }, histogramView(r.hist));
  return h('td', { class: 'num mono', title: r.time ? `at ${formatTime(r.time)}` : null }, valueText(r.value));
}

function samplesList(samples) {
  const shown = samples.slice(-MAX_SAMPLES);
  return h('div', { class: 'metrics-samples' },
    samples.length > shown.length ? h('div', { class: 'hint' }, `… ${samples.length - shown.length} earlier`) : null,
    shown.map((s) => h('div', { class: 'mono' }, valueText(s.v), h('span', { class: 'hint' }, ` @ ${formatTime(s.t)}`))));
}

/** Count, sum and a bar per bucket of a native histogram. */
function histogramView(hist) {
  const buckets = hist.buckets || [];
  const max = buckets.reduce((m, b) => Math.max(m, parseFloat(b[3]) || 0), 0) || 1;
  const bound = (rule, lo, hi) => `${rule === 1 || rule === 3 ? '(' : '['}${formatNumber(parseFloat(lo))}, ${formatNumber(parseFloat(hi))}${rule === 0 || rule === 1 ? ']' : ')'}`;
  return h('div', { class: 'metrics-hist' },
    h('div', { class: 'mono' }, `count ${hist.count} · sum ${formatNumber(parseFloat(hist.sum))}`),
    buckets.length ? h('details', {},
      h('summary', {}, `${buckets.length} buckets`),
      h('div', { class: 'metrics-hist-buckets' }, buckets.map((b) => h('div', { class: 'metrics-hist-row' },
        h('span', { class: 'mono' }, bound(b[0], b[1], b[2])),
        h('span', { class: 'metrics-hist-bar', style: { width: `${Math.max(1, (parseFloat(b[3]) / max) * 100)}%` } }),
        h('span', { class: 'mono' }, formatNumber(parseFloat(b[3]))))))) : null);
}

/**
 * A sortable results table.
 */
export class ResultsTable {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container;
    this.rows = [];
    this.sort = null; // {key, dir: 1|-1}; key: 'query' | 'value' | 'label:<name>'
  }

  /**
   * @param {Array<object>} rows from results.instantRows
   * @param {{multi: boolean}} opts multi: show the query letter column
   */
  setRows(rows, opts = { multi: false }) {
    this.rows = rows;
    this.multi = opts.multi;
    this.render();
  }

  sorted() {
    const rows = this.rows.map((r, i) => ({ r, i }));
    const s = this.sort;
    if (!s) return rows.map((x) => x.r);
    const get = s.key === 'value' ? (r) => r.value : s.key === 'query' ? (r) => r.query : (r) => r.labels[s.key.slice(6)];
    const cmp = s.key === 'value' ? compareValues : compareText;
    rows.sort((a, b) => (cmp(get(a.r), get(b.r)) * s.dir) || (a.i - b.i));
    return rows.map((x) => x.r);
  }

  toggleSort(key) {
    const s = this.sort;
    this.sort = s && s.key === key ? (s.dir === 1 ? { key, dir: -1 } : null) : { key, dir: key === 'value' ? -1 : 1 };
    this.render();
    const btn = this.container.querySelector(`th[data-key="${CSS.escape(key)}"] button`);
    if (btn) btn.focus();
  }

  header(key, text, cls) {
    const s = this.sort && this.sort.key === key ? this.sort.dir : 0;
    const ariaSort = s === 1 ? 'ascending' : s === -1 ? 'descending' : 'none';
    return h('th', { scope: 'col', class: cls, 'aria-sort': ariaSort, dataset: { key } },
      h('button', { type: 'button', class: 'metrics-sort', onClick: () => this.toggleSort(key) },
        text, h('span', { class: 'metrics-sort-mark', 'aria-hidden': 'true' }, s === 1 ? '▲' : s === -1 ? '▼' : '↕')));
  }

  render() {
    const c = this.container;
    clear(c);
    const rows = this.sorted();
    const keys = labelKeys(rows);
    const head = h('tr', {},
      this.multi ? this.header('query', 'Query', 'metrics-col-query') : null,
      keys.map((k) => this.header(`label:${k}`, k === '__name__' ? 'name' : k)),
      this.header('value', 'Value', 'num'));
    const body = h('tbody', {}, rows.slice(0, MAX_ROWS).map((r) => h('tr', {},
      this.multi ? h('td', {}, h('span', { class: 'metrics-letter' }, r.query)) : null,
      keys.map((k) => h('td', { class: k === '__name__' ? 'mono metrics-name-cell' : 'mono' }, r.labels[k] ?? '')),
      valueCell(r))));
    const table = h('table', { class: 'data metrics-table', 'aria-label': 'Query results at the end of the range' }, h('thead', {}, head), body);
    c.append(h('div', { class: 'table-scroll' }, table));
    if (rows.length > MAX_ROWS) c.append(h('p', { class: 'hint' }, `Showing the first ${MAX_ROWS} of ${rows.length} rows.`));
    if (keys.includes('le')) {
      c.append(h('p', { class: 'hint' }, 'These are classic histogram buckets: sort by le to read the distribution, or chart ',
        h('code', {}, 'histogram_quantile(0.95, sum by (le) (rate(…_bucket[5m])))'), '.'));
    }
  }
}
