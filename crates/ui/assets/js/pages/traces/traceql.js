/**
 * The search form's TraceQL: composing a query from the form's fields,
 * reading a simple query back into fields (so hand edits keep the form in
 * step when they can), and the editor's completion provider.
 * @module pages/traces/traceql
 */

/** Comparison operators an attribute row may use. */
export const ATTR_OPS = ['=', '!=', '=~', '!~', '>', '>=', '<', '<='];
const STATUSES = ['ok', 'error', 'unset'];
const INTRINSIC = /^(?:name|status|statusMessage|kind|duration|rootName|rootServiceName|traceDuration|[a-z]+:[A-Za-z]+)$/;
const SCOPED = /^(?:\.|span\.|resource\.|event\.|link\.|instrumentation\.)/;

/** The empty form. */
export function emptyForm() {
  return { service: '', name: '', status: '', min: '', max: '', attrs: [] };
}

/** A TraceQL string literal. */
export function quote(s) {
  return `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function unquote(s) {
  if (!/^".*"$/s.test(s)) return null;
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** An attribute key as TraceQL: `user.id` → `.user.id`; scoped keys and intrinsics stay. */
export function attrKey(key) {
  const k = key.trim();
  if (!k || SCOPED.test(k) || INTRINSIC.test(k)) return k;
  return /^[\w.\-/]+$/.test(k) ? `.${k}` : `."${k.replace(/"/g, '\\"')}"`;
}

/** A value as typed: numbers, booleans, durations and quoted text stay; other text is quoted. */
function literal(v) {
  const s = v.trim();
  if (/^(-?\d+(\.\d+)?|true|false|nil|\d+(\.\d+)?(ns|us|µs|ms|s|m|h))$/.test(s) || /^".*"$/s.test(s)) return s;
  return quote(s);
}

/**
 * The TraceQL of a form: one spanset with every condition AND-ed
 * (`{}` when there is none).
 * @param {{service, name, status, min, max, attrs: Array<{key, op, value}>}} f
 */
export function compose(f) {
  const c = [];
  if (f.service) c.push(`resource.service.name = ${quote(f.service)}`);
  if (f.name) c.push(`name = ${quote(f.name)}`);
  if (f.status) c.push(`status = ${f.status}`);
  if (f.min) c.push(`duration >= ${f.min.trim()}`);
  if (f.max) c.push(`duration <= ${f.max.trim()}`);
  for (const a of f.attrs || []) {
    if (!a.key.trim()) continue;
    c.push(`${attrKey(a.key)} ${a.op || '='} ${literal(a.value || '')}`);
  }
  return c.length ? `{ ${c.join(' && ')} }` : '{}';
}

/** Splits `text` on `sep` outside double quotes; null on an unbalanced quote. */
function splitTop(text, sep) {
  const parts = [];
  let cur = '', inStr = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      cur += ch;
      if (ch === '\\') { cur += text[++i] ?? ''; continue; }
      if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') { inStr = true; cur += ch; continue; }
    if (text.startsWith(sep, i)) { parts.push(cur); cur = ''; i += sep.length - 1; continue; }
    if ('|{}()'.includes(ch) || text.startsWith('||', i)) return null;
    cur += ch;
  }
  if (inStr) return null;
  parts.push(cur);
  return parts;
}

const COND = /^\s*(\.?"(?:[^"\\]|\\.)*"|[\w.:\-/]+)\s*(=~|!~|!=|>=|<=|=|>|<)\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$/s;

function readCond(f, text) {
  const m = COND.exec(text);
  if (!m) return false;
  const [, key, op, raw] = m;
  const str = unquote(raw);
  const one = (k, v) => { if (f[k]) return false; f[k] = v; return true; };
  if (key === 'resource.service.name' && op === '=' && str !== null) return one('service', str);
  if ((key === 'name' || key === 'span:name') && op === '=' && str !== null) return one('name', str);
  if ((key === 'status' || key === 'span:status') && op === '=' && STATUSES.includes(raw)) return one('status', raw);
  if ((key === 'duration' || key === 'span:duration') && op === '>=' && str === null) return one('min', raw);
  if ((key === 'duration' || key === 'span:duration') && op === '<=' && str === null) return one('max', raw);
  if (['resource.service.name', 'name', 'span:name', 'status', 'span:status', 'duration', 'span:duration'].includes(key)) return false;
  let shown = key.startsWith('.') && !key.startsWith('."') ? key.slice(1) : key;
  if (shown.startsWith('."')) shown = unquote(shown.slice(1));
  // Text that would be quoted anyway is shown bare; numbers-as-text keep their quotes.
  const value = str !== null && literal(str) === raw ? str : raw;
  f.attrs.push({ key: shown, op, value });
  return true;
}

/**
 * Reads a query the form could have written back into a form; null when
 * it is anything else (several spansets, `||`, pipelines, …).
 * @param {string} q
 */
export function parse(q) {
  const m = /^\s*\{(.*)\}\s*$/s.exec(q || '');
  if (!m) return null;
  const f = emptyForm();
  if (!m[1].trim()) return f;
  const parts = splitTop(m[1], '&&');
  if (!parts) return null;
  for (const p of parts) if (!readCond(f, p)) return null;
  return f;
}

/** Form fields as URL parameters (attributes as `key<op>value` texts). */
export function formToParams(f) {
  return {
    service: f.service || null, name: f.name || null, status: f.status || null,
    min: f.min || null, max: f.max || null,
    attr: (f.attrs || []).filter((a) => a.key.trim()).map((a) => `${a.key}${a.op || '='}${a.value}`),
  };
}

/** The form in URL parameters (see {@link formToParams}). */
export function formFromParams(params) {
  const f = emptyForm();
  for (const k of ['service', 'name', 'min', 'max']) f[k] = params.get(k) || '';
  const st = params.get('status') || '';
  f.status = STATUSES.includes(st) ? st : '';
  for (const a of params.getAll('attr')) {
    const m = /^(.*?)(=~|!~|!=|>=|<=|=|>|<)(.*)$/s.exec(a);
    if (m) f.attrs.push({ key: m[1], op: m[2], value: m[3] });
  }
  return f;
}

/**
 * The editor's completion provider: attribute names from
 * /api/v2/search/tags, values from /api/v2/search/tag/<tag>/values.
 * @param {object} api ctx.api
 * @param {() => {start: number, end: number}|null} range the time range in ms, if valid
 */
export function completer(api, range) {
  const secs = () => {
    const r = range();
    return r ? { start: Math.floor(r.start / 1000), end: Math.ceil(r.end / 1000) } : {};
  };
  return async (ctx) => {
    if (ctx.kind === 'attribute') {
      const d = await api.get('/api/v2/search/tags', secs());
      const items = [];
      for (const sc of d.scopes || []) {
        if (sc.name === 'intrinsic') continue;
        for (const t of sc.tags || []) items.push({ label: `${sc.name}.${t}`, kind: 'attribute', detail: sc.name });
      }
      return items;
    }
    if (ctx.kind === 'attribute_value' && ctx.attribute) {
      const tag = ctx.attribute.replace(/^span:/, '').replace(/^\.(?=")/, '');
      const d = await api.get(`/api/v2/search/tag/${encodeURIComponent(tag)}/values`, secs());
      // The editor quotes text values itself when the caret is not in a string.
      return (d.tagValues || []).map((v) => ({ label: String(v.value), kind: 'value', detail: v.type }));
    }
    return [];
  };
}
