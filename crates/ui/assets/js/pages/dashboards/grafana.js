/**
 * Conversion of a Grafana dashboard (its JSON model, or the API's
 * `{dashboard: …}` wrapper) into an Argus dashboard: Prometheus and Loki
 * panels (timeseries/graph → timeseries, stat/gauge/singlestat/bargauge →
 * stat, table → table, logs → logs; Tempo TraceQL → traces), rows
 * flattened, `query` variables (label_values) and `custom` ones. Anything
 * else is skipped and listed.
 * @module pages/dashboards/grafana
 */
import { normalizeDashboard, parseLabelValues, GRID_COLUMNS } from './model.js';

const TYPE_MAP = {
  timeseries: 'timeseries', graph: 'timeseries', 'grafana-timeseries': 'timeseries',
  stat: 'stat', gauge: 'stat', singlestat: 'stat', bargauge: 'stat',
  table: 'table', 'table-old': 'table', logs: 'logs', traces: 'traces',
};
const UNIT_MAP = {
  bytes: 'bytes', decbytes: 'bytes', s: 's', ms: 'ms', percent: 'percent', percentunit: 'percentunit', reqps: 'reqps',
};

/** Whether `json` looks like a Grafana dashboard rather than an Argus one. */
export function isGrafana(json) {
  const d = json && json.dashboard ? json.dashboard : json;
  if (!d || typeof d !== 'object') return false;
  if (d.schemaVersion !== undefined || d.templating || Array.isArray(d.rows)) return true;
  return Array.isArray(d.panels) && d.panels.some((p) => p && (Array.isArray(p.targets) || p.type === 'row' || p.datasource !== undefined));
}

/** Datasource type named by a reference (object, name, `${DS_X}` or uid). */
function makeResolver(d) {
  const inputs = new Map((d.__inputs || []).map((i) => [i.name, i.pluginId]));
  const dsVars = new Map(((d.templating && d.templating.list) || []).filter((v) => v.type === 'datasource').map((v) => [v.name, v.query]));
  const guess = (s) => {
    const l = String(s).toLowerCase();
    if (l.includes('loki')) return 'loki';
    if (l.includes('tempo')) return 'tempo';
    if (l.includes('prom') || l.includes('mimir') || l.includes('thanos') || l.includes('cortex') || l.includes('victoria')) return 'prometheus';
    return null;
  };
  return function typeOf(ref) {
    if (ref === null || ref === undefined || ref === '' || ref === 'default') return 'default';
    if (typeof ref === 'object') {
      if (ref.type && ref.type !== 'datasource') return ref.type === '__expr__' ? 'expression' : ref.type;
      if (ref.uid) return typeOf(ref.uid);
      return 'default';
    }
    const m = /^\$\{?(\w+)\}?$/.exec(ref);
    if (m) return inputs.get(m[1]) || dsVars.get(m[1]) || guess(m[1]) || 'prometheus';
    if (ref === '-- Mixed --') return 'mixed';
    if (ref === '-- Grafana --') return 'grafana';
    return guess(ref) || ref;
  };
}

/** Panels with rows flattened (new style `type: row` and old `rows[]`). */
function flattenPanels(d) {
  const out = [];
  if (Array.isArray(d.rows)) {
    let y = 0;
    for (const row of d.rows) {
      const hRows = Math.max(2, Math.round((parseInt(row.height, 10) || 250) / 38));
      let x = 0;
      for (const p of row.panels || []) {
        const w = Math.max(1, Math.min(GRID_COLUMNS, Math.round((p.span || 12) * 2)));
        if (x + w > GRID_COLUMNS) { x = 0; y += hRows; }
        out.push({ ...p, gridPos: p.gridPos || { x, y, w, h: hRows } });
        x += w;
      }
      y += hRows;
    }
  }
  for (const p of d.panels || []) {
    if (p.type === 'row') { for (const c of p.panels || []) out.push(c); } else out.push(p);
  }
  return out;
}

function convertTargets(p, panelType, typeOf, skipped, name) {
  const panelDs = typeOf(p.datasource);
  const queries = [];
  for (const t of p.targets || []) {
    if (t.hide) continue;
    let ds = t.datasource !== undefined ? typeOf(t.datasource) : panelDs;
    if (ds === 'default' || ds === 'mixed') ds = panelDs !== 'default' && panelDs !== 'mixed' ? panelDs : (panelType === 'logs' ? 'loki' : panelType === 'traces' ? 'tempo' : 'prometheus');
    const expr = ds === 'tempo' ? t.query : t.expr;
    if (!['prometheus', 'loki', 'tempo'].includes(ds)) { skipped.push(`${name}: query ${t.refId || ''} uses a ${ds} data source`); continue; }
    if (typeof expr !== 'string' || !expr.trim()) { skipped.push(`${name}: query ${t.refId || ''} has no expression`); continue; }
    if (panelType === 'traces' && ds !== 'tempo') { skipped.push(`${name}: a traces panel needs a TraceQL query`); continue; }
    if (panelType === 'logs' && ds !== 'loki') { skipped.push(`${name}: a logs panel needs a Loki query`); continue; }
    if (ds === 'tempo' && panelType !== 'traces') { skipped.push(`${name}: query ${t.refId || ''} is a Tempo query`); continue; }
    const q = { expr: expr.trim() };
    if (panelType !== 'logs' && panelType !== 'traces') {
      if (t.legendFormat && t.legendFormat !== '__auto') q.legend = t.legendFormat;
      if (ds === 'loki') q.source = 'loki';
    }
    queries.push(q);
  }
  return queries;
}

function convertPanel(p, typeOf, skipped, id) {
  const name = `panel “${p.title || `#${p.id ?? id}`}”`;
  let type = TYPE_MAP[p.type];
  if (!type) { skipped.push(`${name}: type ${p.type || 'unknown'} is not supported`); return null; }
  if (type === 'timeseries' && typeOf(p.datasource) === 'tempo') type = 'traces';
  const queries = convertTargets(p, type, typeOf, skipped, name);
  if (!queries.length) { skipped.push(`${name} (${p.type}): no Prometheus, Loki or TraceQL query to convert`); return null; }
  const gp = p.gridPos || {};
  const out = {
    id, type, title: p.title || '', queries,
    gridPos: { x: gp.x || 0, y: gp.y || 0, w: gp.w || 12, h: gp.h || 8 },
  };
  if (p.description) out.description = p.description;
  const custom = (p.fieldConfig && p.fieldConfig.defaults && p.fieldConfig.defaults.custom) || {};
  if (type === 'timeseries' && (p.stack === true || (custom.stacking && custom.stacking.mode && custom.stacking.mode !== 'none'))) out.stacked = true;
  const unit = (p.fieldConfig && p.fieldConfig.defaults && p.fieldConfig.defaults.unit) || (p.yaxes && p.yaxes[0] && p.yaxes[0].format) || p.format;
  if (UNIT_MAP[unit] && type !== 'logs' && type !== 'traces') out.unit = UNIT_MAP[unit];
  if (type === 'logs' && p.maxDataPoints) out.limit = p.maxDataPoints;
  return out;
}

function currentOf(v) {
  const c = v.current && v.current.value;
  const list = Array.isArray(c) ? c : c != null && c !== '' ? [c] : [];
  return list.map((x) => (x === '$__all' || x === 'All' ? '$__all' : String(x)));
}

function convertVariable(v, typeOf, skipped) {
  const name = `variable $${v.name}`;
  const base = { name: v.name, label: v.label || '', multi: !!v.multi, includeAll: !!v.includeAll, current: currentOf(v) };
  if (v.type === 'custom') {
    const values = String(v.query || '').split(',').map((x) => x.trim()).filter(Boolean);
    return values.length ? { ...base, query: { source: 'custom', values } } : (skipped.push(`${name}: no values`), null);
  }
  if (v.type !== 'query') {
    skipped.push(`${name}: type ${v.type} is not supported${v.type === 'datasource' ? ' (Argus has one data source per signal)' : ''}`);
    return null;
  }
  const ds = typeOf(v.datasource);
  const q = v.query && typeof v.query === 'object' ? v.query : { query: v.query };
  if (ds === 'loki') {
    if (q.label) return { ...base, query: { source: 'loki', label: q.label, match: q.stream || '' } };
    const lv = parseLabelValues(q.query);
    if (lv) return { ...base, query: { source: 'loki', label: lv.label, match: lv.match } };
  } else if (ds === 'prometheus' || ds === 'default') {
    const text = String(q.query || '').trim();
    if (parseLabelValues(text)) return { ...base, query: text };
    if (q.qryType === 1 && q.label) return { ...base, query: `label_values(${q.metric ? `${q.metric}, ` : ''}${q.label})` };
    skipped.push(`${name}: only label_values(…) queries are supported, not “${text}”`);
    return null;
  }
  skipped.push(`${name}: its ${ds} data source is not supported`);
  return null;
}

/**
 * Converts a Grafana dashboard.
 * @param {object} json
 * @returns {{dashboard: object, converted: number, skipped: string[]}}
 */
export function convertGrafana(json) {
  const d = json && json.dashboard ? json.dashboard : json;
  const typeOf = makeResolver(d);
  const skipped = [];
  const panels = [];
  for (const p of flattenPanels(d)) {
    const c = convertPanel(p, typeOf, skipped, panels.length + 1);
    if (c) panels.push(c);
  }
  const variables = [];
  for (const v of (d.templating && d.templating.list) || []) {
    const c = convertVariable(v, typeOf, skipped);
    if (c) variables.push(c);
  }
  const raw = { title: d.title || 'Imported dashboard', panels, variables };
  if (d.description) raw.description = d.description;
  if (d.time && typeof d.time.from === 'string' && typeof d.time.to === 'string') raw.time = { from: d.time.from, to: d.time.to };
  const { dashboard } = normalizeDashboard(raw);
  return { dashboard, converted: panels.length, skipped };
}
