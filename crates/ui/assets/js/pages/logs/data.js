/**
 * Data access of the logs page: log lines (with categorised labels: stream
 * labels, structured metadata and parsed labels apart), the level volume,
 * and the editor's completions (labels, values, detected fields).
 * @module pages/logs/data
 */
import { toNanos } from '../../lib/time.js';
import { normalizeLevel, volumeQuery } from './logql.js';

/**
 * @typedef {object} LogEntry
 * @property {string} id stable identity (time, hash of stream and line)
 * @property {string} ns timestamp in ns (text)
 * @property {number} ms timestamp in ms
 * @property {string} line
 * @property {Object<string,string>} stream stream labels
 * @property {Object<string,string>} sm structured metadata
 * @property {Object<string,string>|null} parsed labels a parser stage of the query extracted
 * @property {string} level normalised level
 */

/** 32-bit FNV-1a of a string, as 8 hex digits. */
function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const streamKey = (s) => Object.keys(s).sort().map((k) => `${k}=${s[k]}`).join(',');

/** Compares two ns timestamps given as decimal text. */
export function compareNs(a, b) {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds an entry. `meta` is the third element of a categorised value.
 * @returns {LogEntry}
 */
export function makeEntry(ns, line, stream, meta, seen) {
  const sm = (meta && meta.structuredMetadata) || {};
  const parsed = (meta && meta.parsed) || null;
  const lvl = sm.detected_level || stream.detected_level || stream.level || stream.severity
    || (parsed && (parsed.level || parsed.level_extracted || parsed.severity)) || '';
  let id = `${ns}-${fnv(streamKey(stream) + '\n' + line)}`;
  if (seen) {
    const n = seen.get(id) || 0;
    seen.set(id, n + 1);
    if (n) id += `-${n}`;
  }
  return { id, ns, ms: Number(ns.slice(0, -6) || 0) + Number(ns.slice(-6)) / 1e6, line, stream, sm, parsed, level: normalizeLevel(lvl) };
}

/**
 * Flattens Loki `streams` into entries sorted by time.
 * @param {Array<{stream:object, values:Array}>} result
 * @param {'backward'|'forward'} direction
 * @param {(labels: object) => {stream: object, sm: object}} [split] separates
 *   structured metadata from stream labels when the answer merges them
 * @returns {LogEntry[]}
 */
export function flatten(result, direction, split) {
  const out = [];
  const seen = new Map();
  for (const s of result || []) {
    let stream = s.stream || {}, extra = null;
    if (split) { const p = split(stream); stream = p.stream; extra = { structuredMetadata: p.sm }; }
    for (const v of s.values || []) out.push(makeEntry(String(v[0]), String(v[1]), stream, v[2] || extra, seen));
  }
  const sign = direction === 'forward' ? 1 : -1;
  out.sort((a, b) => sign * compareNs(a.ns, b.ns) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}

/** The server's message of a failed response (JSON `error`/`message`, or its text). */
async function errorOf(ctx, resp) {
  const text = await resp.text().catch(() => '');
  let message = text.trim() || `${resp.status} ${resp.statusText}`;
  try {
    const body = JSON.parse(text);
    message = body.error || body.message || message;
  } catch (e) { /* a text body */ }
  return new ctx.api.ApiError(resp.status, message);
}

/**
 * Runs a log query and returns its entries and statistics. Asks for
 * categorised labels (`X-Loki-Response-Encoding-Flags: categorize-labels`),
 * which is why this does not go through ctx.api (it cannot set headers).
 * @returns {Promise<{entries: LogEntry[], stats: object, resultType: string}>}
 */
export async function queryLines(ctx, { query, start, end, limit, direction }, signal) {
  const sp = new URLSearchParams({ query, start: toNanos(start), end: toNanos(end), limit: String(limit), direction });
  const headers = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels', Accept: 'application/json' };
  const tenant = ctx.tenant();
  if (tenant) headers['X-Scope-OrgID'] = tenant;
  let resp;
  try {
    resp = await fetch(`/loki/api/v1/query_range?${sp}`, { headers, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ctx.api.ApiError(0, `cannot reach Argus: ${e.message}`);
  }
  if (!resp.ok) throw await errorOf(ctx, resp);
  const body = await resp.json();
  const data = body.data || {};
  if (data.resultType !== 'streams') {
    return { entries: [], stats: data.stats || {}, resultType: data.resultType || '' };
  }
  return { entries: flatten(data.result, direction), stats: data.stats || {}, resultType: 'streams' };
}

/**
 * Lines per level over the range, one point per `step` (a bar's time is the
 * start of its bucket).
 * @returns {Promise<{series: Array<{level:string, ts:Float64Array, values:Float64Array}>, total:number, step:number}>}
 */
export async function queryVolume(ctx, { query, start, end, step }, signal) {
  // Buckets (t-step, t] tile the range exactly: evaluate at start+step, …, ≥ end.
  const n = Math.max(1, Math.ceil((end - start) / step));
  const evalStart = start + step, evalEnd = start + n * step;
  const d = await ctx.api.data(ctx.api.get('/loki/api/v1/query_range', {
    query: volumeQuery(query, step), start: toNanos(evalStart), end: toNanos(evalEnd), step: `${step / 1000}s`,
  }, { signal }));
  const byLevel = new Map();
  let total = 0;
  for (const r of d.result || []) {
    const level = normalizeLevel(r.metric && r.metric.detected_level);
    const vals = r.values || [];
    const cur = byLevel.get(level) || new Map();
    for (const [t, v] of vals) {
      const ts = t * 1000 - step;
      const x = Number(v);
      cur.set(ts, (cur.get(ts) || 0) + x);
      total += x;
    }
    byLevel.set(level, cur);
  }
  const series = [...byLevel].map(([level, m]) => {
    const ts = [...m.keys()].sort((a, b) => a - b);
    return { level, ts: Float64Array.from(ts), values: Float64Array.from(ts, (t) => m.get(t)) };
  });
  return { series, total, step };
}

// ------------------------------------------------------------ completion

/**
 * A completion provider for the editor: stream label names and values
 * (scoped by the other matchers), and detected fields after a pipeline stage.
 * @param {object} ctx the page context
 * @param {() => string} currentQuery the editor's text
 */
export function completer(ctx, currentQuery) {
  const range = () => {
    try {
      const { start, end } = ctx.time.resolve();
      return { start: toNanos(start), end: toNanos(end) };
    } catch (e) { return {}; }
  };
  const scoped = (matchers) => (matchers && matchers.trim() ? `{${matchers.trim()}}` : undefined);
  return async (c) => {
    if (c.kind === 'label_name') {
      const labels = await ctx.api.data(ctx.api.get('/loki/api/v1/labels', { ...range(), query: scoped(c.matchers) }));
      const items = (labels || []).filter((l) => l !== '__name__').map((l) => ({ label: l, kind: 'label', detail: 'stream label' }));
      if (!c.stage) return items;
      const sel = c.matchers ? `{${c.matchers}}` : '';
      const q = currentQuery().split(/\|\s*\w*$/)[0].trim() || sel;
      if (!q) return items;
      const d = await ctx.api.get('/loki/api/v1/detected_fields', { ...range(), query: q }).catch(() => null);
      const fields = (d && d.fields) || [];
      return items.concat(fields.filter((f) => !labels.includes(f.label)).map((f) => ({
        label: f.label, kind: 'label',
        detail: `${f.type || 'field'}${f.parsers && f.parsers.length ? ` · ${f.parsers.join(', ')}` : ' · metadata'}`,
      })));
    }
    if (c.kind === 'label_value') {
      const vals = await ctx.api.data(ctx.api.get(`/loki/api/v1/label/${encodeURIComponent(c.label)}/values`, {
        ...range(), query: scoped(c.matchers),
      }));
      return (vals || []).map((v) => ({ label: v, kind: 'value' }));
    }
    return [];
  };
}
