/**
 * The dashboard model: normalisation of a stored dashboard (see the schema
 * at the top of pages/dashboards.js), the 24-column layout, ids, and the
 * substitution of variables into queries.
 * @module pages/dashboards/model
 */

/** Version of the stored schema this page writes. */
export const SCHEMA_VERSION = 1;
/** Columns of the panel grid (Grafana's). */
export const GRID_COLUMNS = 24;
/** Value of a variable meaning "every option". */
export const ALL = '$__all';

/** Panel types: label, the query language of their queries, the API they read. */
export const PANEL_TYPES = {
  timeseries: { label: 'Time series', language: 'promql', metric: true },
  stat: { label: 'Stat', language: 'promql', metric: true },
  table: { label: 'Table', language: 'promql', metric: true },
  logs: { label: 'Logs', language: 'logql' },
  traces: { label: 'Traces', language: 'traceql' },
};

/** Units a panel's values may be shown in. */
export const UNITS = {
  '': 'None',
  bytes: 'Bytes (IEC)',
  s: 'Seconds',
  ms: 'Milliseconds',
  percent: 'Percent (0–100)',
  percentunit: 'Percent (0.0–1.0)',
  reqps: 'Requests/s',
};

/** Default [w, h] of a new panel of each type. */
export const DEFAULT_SIZE = { timeseries: [12, 8], stat: [6, 4], table: [12, 8], logs: [24, 10], traces: [12, 8] };

const str = (v, d = '') => (typeof v === 'string' ? v : d);
const clampInt = (v, lo, hi, d) => {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : d;
};

/** The query language of a panel's query (a metric panel's query may be LogQL). */
export function queryLanguage(panel, query) {
  const t = PANEL_TYPES[panel.type] || PANEL_TYPES.timeseries;
  if (t.metric && query && query.source === 'loki') return 'logql';
  return t.language;
}

/** A new panel of `type` with one empty query. */
export function newPanel(type = 'timeseries', id = 1) {
  const [w, h] = DEFAULT_SIZE[type] || [12, 8];
  return {
    id, type, title: PANEL_TYPES[type] ? `${PANEL_TYPES[type].label} panel` : 'Panel',
    queries: [{ expr: '', legend: '' }], gridPos: { x: 0, y: 0, w, h },
  };
}

/** An empty dashboard. */
export function newDashboard(title = 'New dashboard') {
  return { title, version: SCHEMA_VERSION, variables: [], panels: [] };
}

function normQuery(q, metric) {
  if (typeof q === 'string') q = { expr: q };
  if (!q || typeof q !== 'object') return null;
  const out = { expr: str(q.expr) };
  if (metric) {
    if (str(q.legend)) out.legend = q.legend;
    if (q.source === 'loki') out.source = 'loki';
  }
  return out;
}

function normPanel(p, i) {
  const type = PANEL_TYPES[p && p.type] ? p.type : null;
  if (!type) return null;
  const metric = !!PANEL_TYPES[type].metric;
  const gp = (p.gridPos && typeof p.gridPos === 'object') ? p.gridPos : {};
  const [dw, dh] = DEFAULT_SIZE[type];
  const panel = {
    id: Number.isInteger(p.id) && p.id > 0 ? p.id : i + 1,
    type,
    title: str(p.title),
    queries: (Array.isArray(p.queries) ? p.queries : []).map((q) => normQuery(q, metric)).filter(Boolean),
    gridPos: {
      x: clampInt(gp.x, 0, GRID_COLUMNS - 1, 0), y: clampInt(gp.y, 0, 10000, 0),
      w: clampInt(gp.w, 1, GRID_COLUMNS, dw), h: clampInt(gp.h, 2, 40, dh),
    },
  };
  if (!panel.queries.length) panel.queries.push({ expr: '' });
  if (type === 'timeseries' && p.stacked) panel.stacked = true;
  if (metric && UNITS[p.unit] && p.unit) panel.unit = p.unit;
  if ((type === 'logs' || type === 'traces') && p.limit) panel.limit = clampInt(p.limit, 1, 5000, 100);
  if (str(p.description)) panel.description = p.description;
  return panel;
}

function normVariable(v) {
  if (!v || typeof v !== 'object' || !/^[A-Za-z_]\w*$/.test(str(v.name))) return null;
  let query = v.query;
  if (query && typeof query === 'object') {
    if (query.source === 'custom') {
      query = { source: 'custom', values: (Array.isArray(query.values) ? query.values : []).map(String) };
    } else {
      query = { source: query.source === 'loki' ? 'loki' : 'prometheus', label: str(query.label), match: str(query.match) };
    }
  } else {
    query = str(query);
  }
  const out = { name: v.name, label: str(v.label), query, multi: !!v.multi, includeAll: !!v.includeAll };
  if (!out.label) delete out.label;
  const cur = Array.isArray(v.current) ? v.current : (v.current != null && v.current !== '' ? [v.current] : []);
  out.current = cur.map(String);
  return out;
}

/**
 * A stored dashboard made well-formed: unknown panel types and bad
 * variables are dropped, sizes clamped, panels ordered by position and
 * packed. Returns `{dashboard, dropped}` (`dropped`: descriptions).
 * @param {object} raw
 */
export function normalizeDashboard(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const dropped = [];
  const panels = [];
  (Array.isArray(src.panels) ? src.panels : []).forEach((p, i) => {
    const n = normPanel(p, i);
    if (n) panels.push(n); else dropped.push(`panel ${i + 1} (${(p && p.type) || 'no type'})`);
  });
  const variables = [];
  for (const v of Array.isArray(src.variables) ? src.variables : []) {
    const n = normVariable(v);
    if (n && !variables.some((x) => x.name === n.name)) variables.push(n);
    else dropped.push(`variable ${(v && v.name) || '?'}`);
  }
  const dashboard = { title: str(src.title, 'Untitled'), version: SCHEMA_VERSION };
  if (str(src.description)) dashboard.description = src.description;
  if (src.time && str(src.time.from) && str(src.time.to)) dashboard.time = { from: src.time.from, to: src.time.to };
  dashboard.variables = variables;
  panels.sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  uniquePanelIds(panels);
  dashboard.panels = packLayout(panels);
  return { dashboard, dropped };
}

function uniquePanelIds(panels) {
  const seen = new Set();
  let next = Math.max(0, ...panels.map((p) => p.id)) + 1;
  for (const p of panels) {
    if (seen.has(p.id)) p.id = next++;
    seen.add(p.id);
  }
}

/** The next free panel id. */
export function nextPanelId(panels) {
  return Math.max(0, ...panels.map((p) => p.id)) + 1;
}

/**
 * Places panels in array order, each at the first free spot scanning
 * rows top-down and columns left-right (keeps Grafana-style layouts,
 * fills holes). Sets each `gridPos.x/y`; returns the array.
 * @param {Array<{gridPos:{x:number,y:number,w:number,h:number}}>} panels
 */
export function packLayout(panels) {
  const rows = []; // rows[y] = Uint8Array(24) of used cells
  const used = (y) => (rows[y] ||= new Uint8Array(GRID_COLUMNS));
  const fits = (x, y, w, h) => {
    for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) if (used(r)[c]) return false;
    return true;
  };
  let floor = 0; // no panel goes above the top of the previous one (keeps reading order)
  for (const p of panels) {
    const { w, h } = p.gridPos;
    let placed = false;
    for (let y = floor; !placed; y++) {
      for (let x = 0; x + w <= GRID_COLUMNS; x++) {
        if (fits(x, y, w, h)) {
          p.gridPos.x = x; p.gridPos.y = y; placed = true;
          for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) used(r)[c] = 1;
          floor = y;
          break;
        }
      }
    }
  }
  return panels;
}

/** `My Dashboard!` → `my-dashboard` (1–64 of a-z 0-9 -, as the server accepts). */
export function slugify(title) {
  const s = String(title || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56).replace(/-+$/, '');
  return s || 'dashboard';
}

/** `base`, or `base-2`, `base-3`… whichever is not in `taken` (nor `new`). */
export function uniqueId(base, taken) {
  const set = new Set(taken);
  set.add('new');
  if (!set.has(base)) return base;
  for (let i = 2; ; i++) if (!set.has(`${base}-${i}`)) return `${base}-${i}`;
}

/**
 * Parses a variable's string query: `label_values(metric_or_selector, label)`
 * or `label_values(label)`. Returns `{label, match}` or null.
 */
export function parseLabelValues(query) {
  const m = /^\s*label_values\s*\(\s*(?:(.*?)\s*,\s*)?([A-Za-z_][\w.]*)\s*\)\s*$/s.exec(String(query || ''));
  return m ? { match: m[1] || '', label: m[2] } : null;
}

/** A variable's source: `{source, label, match}` or `{source:'custom', values}`, or null. */
export function variableSource(v) {
  if (v.query && typeof v.query === 'object') return v.query;
  const lv = parseLabelValues(v.query);
  return lv ? { source: 'prometheus', ...lv } : null;
}

const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}]/g;
/** A value escaped for a regex inside a PromQL/LogQL double-quoted string. */
export const regexEscape = (v) => String(v).replace(REGEX_SPECIAL, '\\\\$&');

/**
 * The text a variable stands for in a query. Single-value variables give
 * their value as is; multi-value (or "All") ones a regex alternation like
 * Grafana's: `a`, `(a|b)`.
 * @param {{multi:boolean, includeAll:boolean}} v
 * @param {string[]} values selected values (ALL expanded already)
 * @param {string} [format] `${var:format}`: raw, regex, pipe, csv, json
 */
export function formatVariable(v, values, format) {
  switch (format) {
    case 'raw': return values.join(',');
    case 'csv': return values.join(',');
    case 'pipe': return values.join('|');
    case 'json': return JSON.stringify(values);
    case 'regex': break;
    default:
      if (!v.multi && !v.includeAll) return values[0] ?? '';
  }
  const esc = values.map(regexEscape);
  return esc.length === 1 ? esc[0] : `(${esc.join('|')})`;
}

/**
 * Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` in `text`
 * with `resolve(name, format)`; names it answers `undefined` for stay.
 * @param {string} text
 * @param {(name:string, format?:string)=>string|undefined} resolve
 */
export function interpolate(text, resolve) {
  return String(text || '').replace(/\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)/g, (all, a, fmt, b, c) => {
    const v = resolve(a || b || c, fmt);
    return v === undefined ? all : v;
  });
}

/**
 * Grafana's built-in interval variables for a range and step (ms).
 * @returns {Object<string,string>}
 */
export function builtins(start, end, stepMs) {
  const s = (ms) => `${Math.max(1, Math.round(ms / 1000))}s`;
  const rangeS = Math.round((end - start) / 1000);
  return {
    __interval: s(stepMs),
    __interval_ms: String(Math.round(stepMs)),
    __rate_interval: s(Math.max(stepMs + 15000, 60000)),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(Math.round(end - start)),
  };
}

/** `{{label}}` templates of a legend filled from a series' labels. */
export function formatLegend(template, metric) {
  return String(template).replace(/\{\{\s*([\w.]+)\s*\}\}/g, (m, k) => metric[k] ?? '');
}

/** Stable JSON text of a dashboard (for "unsaved changes" and export). */
export function dashboardJson(d) {
  return JSON.stringify(d, null, 2);
}
