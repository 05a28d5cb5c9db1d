/**
 * The metrics page's look-ups besides the queries themselves: metric
 * names, label names and values (for completion and the metric browser),
 * metric metadata, and the client-side checks and error positions of
 * PromQL text.
 * @module pages/metrics/source
 */
import { tokenize } from '../../components/languages.js';
import { errorSpan } from '../../components/editor.js';
import { toSeconds } from '../../lib/time.js';

const CACHE_MS = 30_000;
const BRACKETS = { '(': 'parenthesis', '{': 'brace', '[': 'bracket' };
/** One matcher `label op "value"` (any quote), as the editor passes them. */
const MATCHER = String.raw`\s*[A-Za-z_]\w*\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + '`[^`]*`' + String.raw`)\s*`;
const MATCHERS_RE = new RegExp(`^(?:${MATCHER}(?:,${MATCHER})*,?)?\\s*$`);
const METRIC_RE = /^[A-Za-z_:][\w:]*$/;

/**
 * A series selector for `match[]` from a metric name and the text of other
 * matchers; '' when there is nothing to match on. Malformed matchers are
 * dropped (the server would refuse the whole look-up).
 * @param {string} metric
 * @param {string} matchers e.g. `job="api", code=~"5.."`
 * @returns {string}
 */
export function selectorFor(metric, matchers) {
  const m = METRIC_RE.test(metric || '') ? metric : '';
  const rest = (matchers || '').trim().replace(/,\s*$/, '');
  const ok = rest && MATCHERS_RE.test(rest);
  if (!m && !ok) return '';
  return ok ? `${m}{${rest}}` : m;
}

/**
 * The first problem the browser can see in a query without asking the
 * server: an unterminated string or an unbalanced bracket.
 * @param {string} text
 * @returns {{message: string, start: number, end: number} | null}
 */
export function lintPromql(text) {
  const { tokens, state } = tokenize('promql', text);
  for (const t of tokens) {
    if (t.type === 'string' && !t.closed) {
      return { message: 'unterminated quoted string', start: t.start, end: t.end };
    }
    if (t.unmatched) {
      return { message: `unexpected "${t.text}": it closes nothing`, start: t.start, end: t.end };
    }
  }
  const open = state.stack[state.stack.length - 1];
  if (open) {
    return { message: `unclosed left ${BRACKETS[open.open] || 'bracket'}: "${open.open}" is never closed`, start: open.start, end: open.start + 1 };
  }
  return null;
}

/**
 * Where a server's error message points in the query: the position it
 * states, else the first thing it quotes (`'rate'`, `"foo"`, `…: 5x`) that
 * the query contains as a word.
 * @param {string} message
 * @param {string} query
 * @returns {{message: string, start?: number, end?: number}}
 */
export function locateError(message, query) {
  const span = errorSpan(message, query);
  if (span.start != null) return span;
  const candidates = [];
  for (const m of message.matchAll(/["'`]([^"'`]{1,80})["'`]/g)) candidates.push(m[1]);
  const tail = /:\s*([^\s:]{1,80})\s*$/.exec(message);
  if (tail) candidates.push(tail[1]);
  for (const c of candidates) {
    const at = findWord(query, c);
    if (at >= 0) return { message, start: at, end: at + c.length };
  }
  return span;
}

function findWord(text, word) {
  const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[^\\w:])(${esc})(?![\\w:])`);
  const m = re.exec(text);
  if (m) return m.index + m[1].length;
  return text.indexOf(word);
}

/** Metric names used in a query (the identifiers the highlighter calls metrics). */
export function metricsIn(text) {
  const names = new Set();
  for (const t of tokenize('promql', text).sig) if (t.cls === 'metric') names.add(t.text);
  return [...names];
}

/**
 * Cached look-ups against the Prometheus API of the selected tenant.
 */
export class MetricsSource {
  /**
   * @param {object} api the ctx.api module
   * @param {() => {start:number, end:number} | null} range the page's time range in ms, or null
   */
  constructor(api, range) {
    this.api = api;
    this.range = range;
    this.cache = new Map();
  }

  /** Drops every cached answer (after a tenant change). */
  reset() { this.cache.clear(); }

  async cached(key, load) {
    const k = `${this.api.getTenant()}|${key}`;
    const hit = this.cache.get(k);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const value = load().catch((e) => { this.cache.delete(k); throw e; });
    this.cache.set(k, { at: Date.now(), value });
    return value;
  }

  params(extra) {
    const r = this.range();
    const p = { ...extra };
    if (r) { p.start = toSeconds(r.start); p.end = toSeconds(r.end); }
    return p;
  }

  /** Metric names seen in the page's time range. @returns {Promise<string[]>} */
  metricNames() {
    return this.cached('names', () => this.api.data(this.api.get('/api/v1/label/__name__/values', this.params())))
      .then((d) => d || []);
  }

  /** Label names of the series matching `selector` ('' = all). */
  labelNames(selector) {
    return this.cached(`labels|${selector}`, () => this.api.data(this.api.get('/api/v1/labels', this.params(selector ? { 'match[]': selector } : {}))))
      .then((d) => d || []);
  }

  /** Values of label `name` on the series matching `selector` ('' = all). */
  labelValues(name, selector) {
    const path = `/api/v1/label/${encodeURIComponent(name)}/values`;
    return this.cached(`values|${name}|${selector}`, () => this.api.data(this.api.get(path, this.params(selector ? { 'match[]': selector } : {}))))
      .then((d) => d || []);
  }

  /**
   * Metadata of every metric: `{name: {type, help, unit}}` (the first entry
   * per metric); empty when the server has none. Never throws.
   */
  metadata() {
    return this.cached('metadata', async () => {
      const d = await this.api.data(this.api.get('/api/v1/metadata'));
      const out = {};
      for (const [name, list] of Object.entries(d || {})) {
        const m = Array.isArray(list) ? list[0] : list;
        if (m) out[name] = { type: m.type || '', help: m.help || '', unit: m.unit || '' };
      }
      return out;
    }).catch(() => ({}));
  }

  /**
   * The editor's completion provider.
   * @param {{kind: string, prefix: string, metric?: string, label?: string, matchers?: string}} ctx
   * @returns {Promise<Array<{label: string, kind: string, detail?: string}>>}
   */
  async complete(ctx) {
    try {
      if (ctx.kind === 'metric') {
        const [names, meta] = await Promise.all([this.metricNames(), this.metadata()]);
        return names.map((n) => ({ label: n, kind: 'metric', detail: describeType(meta[n]) }));
      }
      const selector = selectorFor(ctx.metric, ctx.matchers);
      if (ctx.kind === 'label_name') {
        const names = await this.labelNames(selector);
        return names.filter((n) => n !== '__name__' || !ctx.metric).map((n) => ({ label: n, kind: 'label_name', detail: 'label' }));
      }
      if (ctx.kind === 'label_value' && ctx.label) {
        const values = await this.labelValues(ctx.label, selector);
        return values.map((v) => ({ label: v, kind: 'label_value', detail: ctx.label }));
      }
    } catch (e) {
      if (e.name !== 'AbortError') return [];
    }
    return [];
  }
}

/** `counter`, `gauge · seconds` … or 'metric' without metadata. */
export function describeType(m) {
  if (!m || !(m.type || m.unit)) return 'metric';
  return [m.type, m.unit].filter(Boolean).join(' · ');
}
