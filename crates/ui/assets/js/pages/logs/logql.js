/**
 * LogQL text helpers for the logs page: finding the stream selector and the
 * line filters of a query, editing it (adding a label matcher or a label
 * filter stage) and building the volume query; plus client-side parsing of
 * logfmt and JSON lines, level names and trace IDs.
 * @module pages/logs/logql
 */

/** Quotes a value as a LogQL double-quoted string. */
export function quote(v) {
  return `"${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Skips a string literal starting at `i` (a quote); returns the index after it. */
function skipString(text, i) {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (q !== '`' && text[j] === '\\') { j++; continue; }
    if (text[j] === q) return j + 1;
  }
  return text.length;
}

/** Reads a string literal at `i` (after spaces): {value, end} or null. */
function readString(text, i) {
  while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n') i++;
  const q = text[i];
  if (q !== '"' && q !== '`') return null;
  const end = skipString(text, i);
  const raw = text.slice(i + 1, end - 1);
  if (q === '`') return { value: raw, end };
  let value = '';
  for (let k = 0; k < raw.length; k++) {
    if (raw[k] === '\\' && k + 1 < raw.length) {
      const c = raw[++k];
      value += c === 'n' ? '\n' : c === 't' ? '\t' : c;
    } else value += raw[k];
  }
  return { value, end };
}

/**
 * The first stream selector: offsets of `{` and `}` and the matcher text
 * between them, or null when the query has none (or it is not closed).
 * @param {string} text
 * @returns {{open:number, close:number, inner:string}|null}
 */
export function findSelector(text) {
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === '`') { i = skipString(text, i) - 1; continue; }
    if (c === '{' && open < 0) open = i;
    else if (c === '}' && open >= 0) return { open, close: i, inner: text.slice(open + 1, i) };
  }
  return null;
}

/**
 * The positive line filters of a log query (`|= "x"`, `|~ "re"`, also with
 * `or "y"` alternatives), as regular expressions for highlighting.
 * @param {string} text
 * @returns {RegExp[]}
 */
export function lineFilters(text) {
  const out = [];
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === '"' || c === '`') { i = skipString(text, i); continue; }
    const op = text.slice(i, i + 2);
    if (!['|=', '|~', '!=', '!~'].includes(op)) { i++; continue; }
    i += 2;
    let s = readString(text, i);
    while (s) {
      if (op === '|=' && s.value) out.push(new RegExp(escapeRegExp(s.value), 'g'));
      else if (op === '|~' && s.value) { const r = toJsRegExp(s.value); if (r) out.push(r); }
      i = s.end;
      const or = /^\s*or\s+/.exec(text.slice(i));
      if (!or) break;
      s = readString(text, i + or[0].length);
    }
  }
  return out;
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An RE2 pattern as a global JS RegExp (handles a leading `(?i)`); null when JS cannot compile it. */
function toJsRegExp(src) {
  let flags = 'g';
  const m = /^\(\?([imsU]+)\)/.exec(src);
  if (m) {
    if (m[1].includes('i')) flags += 'i';
    if (m[1].includes('s')) flags += 's';
    src = src.slice(m[0].length);
  }
  try {
    const r = new RegExp(src, flags);
    return r.test('') ? null : new RegExp(src, flags); // a pattern matching '' highlights nothing useful
  } catch (e) {
    return null;
  }
}

/**
 * Splits `line` into plain and matched pieces for the given filters.
 * @param {string} line
 * @param {RegExp[]} filters
 * @returns {Array<{text:string, match:boolean}>}
 */
export function highlightPieces(line, filters) {
  if (!filters.length) return [{ text: line, match: false }];
  const ranges = [];
  for (const re of filters) {
    re.lastIndex = 0;
    let m, guard = 0;
    while ((m = re.exec(line)) && guard++ < 1000) {
      if (m[0].length === 0) { re.lastIndex++; continue; }
      ranges.push([m.index, m.index + m[0].length]);
    }
  }
  if (!ranges.length) return [{ text: line, match: false }];
  ranges.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]); else merged.push([...r]);
  }
  const out = [];
  let at = 0;
  for (const [a, b] of merged) {
    if (a > at) out.push({ text: line.slice(at, a), match: false });
    out.push({ text: line.slice(a, b), match: true });
    at = b;
  }
  if (at < line.length) out.push({ text: line.slice(at), match: false });
  return out;
}

/**
 * Adds `name op "value"` to the query's stream selector (or makes one).
 * @param {string} query
 * @param {string} name
 * @param {string} value
 * @param {'='|'!='} op
 */
export function addMatcher(query, name, value, op = '=') {
  const m = `${name}${op}${quote(value)}`;
  const sel = findSelector(query);
  if (!sel) return `{${m}}${query.trim() ? ' ' + query.trim() : ''}`;
  if (sel.inner.replace(/\s+/g, '').split(',').includes(m.replace(/\s+/g, ''))) return query;
  const inner = sel.inner.trim();
  const next = inner ? `${inner}, ${m}` : m;
  return `${query.slice(0, sel.open)}{${next}}${query.slice(sel.close + 1)}`;
}

/** Whether the query's pipeline already has a parser stage (`| logfmt`, `| json`, …). */
export function hasParser(query) {
  return /\|\s*(logfmt|json|regexp|pattern|unpack)\b/.test(query);
}

/**
 * Appends a label filter stage `| name op "value"`, first adding `parser`
 * (`logfmt` / `json`) when the field comes from one and the query has none.
 */
export function addLabelFilter(query, name, value, op = '=', parser = '') {
  let q = query.trim();
  if (parser && !hasParser(q)) q += ` | ${parser}`;
  return `${q} | ${name}${op}${quote(value)}`;
}

/**
 * Replaces the matchers of the query's selector (keeping its pipeline).
 * @param {string} query
 * @param {string} selector e.g. `{service="api"}`
 */
export function replaceSelector(query, selector) {
  const sel = findSelector(query);
  if (!sel) return `${selector}${query.trim() ? ' ' + query.trim() : ''}`;
  return `${query.slice(0, sel.open)}${selector}${query.slice(sel.close + 1)}`;
}

/** Whether `query` looks like a log query (a selector first, not a metric expression). */
export function isLogQuery(query) {
  return /^\s*\{/.test(query);
}

/**
 * The volume query of a log query: lines per `step` by detected level.
 * @param {string} query a log query
 * @param {number} stepMs
 */
export function volumeQuery(query, stepMs) {
  return `sum by (detected_level) (count_over_time(${query.trim()} [${Math.round(stepMs / 1000)}s]))`;
}

// ------------------------------------------------------------ levels

const LEVEL_ALIASES = {
  fatal: 'critical', crit: 'critical', critical: 'critical', emerg: 'critical', alert: 'critical', panic: 'critical',
  error: 'error', err: 'error', eror: 'error',
  warn: 'warn', warning: 'warn',
  info: 'info', information: 'info', informational: 'info', notice: 'info',
  debug: 'debug', dbug: 'debug',
  trace: 'trace',
};

/** Levels from most to least severe (the histogram stacks them in this order). */
export const LEVELS = ['critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];

/** Bar colours of the levels (readable on light and dark panels). */
export const LEVEL_COLORS = {
  critical: '#a8174e', error: '#e5484d', warn: '#f5a524', info: '#2fa56a',
  debug: '#8b95a7', trace: '#b9c0cc', unknown: '#9b8ec4',
};

/** A level name normalised to one of {@link LEVELS}. */
export function normalizeLevel(v) {
  return LEVEL_ALIASES[String(v || '').toLowerCase()] || 'unknown';
}

// ------------------------------------------------------------ parsing

/**
 * Parses a logfmt line into key/value pairs (null when it has none).
 * @param {string} line
 * @returns {Array<[string,string]>|null}
 */
export function parseLogfmt(line) {
  const out = [];
  const re = /([^\s="]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))/g;
  let m;
  while ((m = re.exec(line))) {
    const v = m[2] !== undefined ? m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c === 't' ? '\t' : c)) : m[3];
    out.push([m[1], v]);
  }
  return out.length ? out : null;
}

/** Loki's name for a JSON key path: non-identifier characters become `_`. */
const sanitize = (k) => k.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * Parses a JSON object line into flattened pairs (`a_b` for nested keys, as
 * Loki's `| json` names them); null when the line is not a JSON object.
 * @returns {Array<[string,string]>|null}
 */
export function parseJsonLine(line) {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  let obj;
  try { obj = JSON.parse(s); } catch (e) { return null; }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const out = [];
  const walk = (o, prefix) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}_${sanitize(k)}` : sanitize(k);
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, key);
      else out.push([key, v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)]);
    }
  };
  walk(obj, '');
  return out;
}

/**
 * Fields of a line, parsed client side: JSON first, then logfmt.
 * @returns {{parser: 'json'|'logfmt', fields: Array<[string,string]>}|null}
 */
export function parseLine(line) {
  const j = parseJsonLine(line);
  if (j) return { parser: 'json', fields: j };
  const l = parseLogfmt(line);
  return l ? { parser: 'logfmt', fields: l } : null;
}

const TRACE_KEYS = ['trace_id', 'traceID', 'traceId', 'traceid', 'TraceId', 'TraceID'];
const TRACE_IN_LINE = /(?:trace_?id)["']?\s*[=:]\s*["']?([0-9a-fA-F]{32})(?![0-9a-fA-F])/i;

/**
 * The trace ID of a log entry: from its structured metadata or labels
 * (trace_id, traceID, traceId) or from the line (`trace_id=…`, `"traceId":"…"`).
 * @returns {string} 32 lower-case hex digits, or ''
 */
export function traceIdOf(entry) {
  for (const src of [entry.sm, entry.parsed, entry.stream]) {
    if (!src) continue;
    for (const k of TRACE_KEYS) {
      const v = src[k] || src[`${k}_extracted`];
      if (v && /^[0-9a-fA-F]{32}$/.test(v)) return v.toLowerCase();
    }
  }
  const m = TRACE_IN_LINE.exec(entry.line);
  return m ? m[1].toLowerCase() : '';
}
