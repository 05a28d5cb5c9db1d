/**
 * Turns Prometheus API answers into what the chart and the table draw:
 * range results (matrices) into chart series on a shared time grid,
 * exemplars into chart points attached to their series, instant results
 * (vector, scalar, string, matrix, native histograms) into table rows.
 * @module pages/metrics/results
 */
import { seriesName } from '../../lib/format.js';

/**
 * A series' display name: the legend format with `{{label}}` replaced by
 * the series' labels (Grafana style), or the full series name.
 * @param {Object<string,string>} metric
 * @param {string} [format]
 * @returns {string}
 */
export function legendName(metric, format) {
  if (!format || !format.trim()) return seriesName(metric);
  return format.replace(/\{\{\s*([\w.:]+)\s*\}\}/g, (_, k) => metric[k] ?? '');
}

/**
 * The grid range results are laid on: `n` points `start + i*step` (ms).
 * @param {number} startMs @param {number} endMs @param {number} stepMs
 */
export function makeGrid(startMs, endMs, stepMs) {
  const n = Math.max(1, Math.floor((endMs - startMs) / stepMs) + 1);
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = startMs + i * stepMs;
  return { start: startMs, step: stepMs, n, ts };
}

/** The value of a sample: a float, or a native histogram's count. */
function sampleValue(v) {
  if (typeof v === 'string') return parseFloat(v);
  if (v && typeof v === 'object') return parseFloat(v.count);
  return NaN;
}

/**
 * Lays one range series on the grid (NaN where the server returned no
 * point, so gaps stay gaps); falls back to its own timestamps when they
 * are not on the grid.
 */
function onGrid(samples, grid) {
  const values = new Float64Array(grid.n).fill(NaN);
  let points = 0;
  for (const [t, v] of samples) {
    const ms = t * 1000;
    const i = Math.round((ms - grid.start) / grid.step);
    if (i < 0 || i >= grid.n || Math.abs(grid.ts[i] - ms) > 1) return offGrid(samples, grid.step);
    values[i] = sampleValue(v);
    points++;
  }
  return { ts: grid.ts, values, points };
}

function offGrid(samples, step) {
  const ts = [], values = [];
  let prev = -Infinity;
  for (const [t, v] of samples) {
    const ms = t * 1000;
    if (ms - prev > step * 1.5 && ts.length) { ts.push(prev + step); values.push(NaN); }
    ts.push(ms);
    values.push(sampleValue(v));
    prev = ms;
  }
  return { ts: Float64Array.from(ts), values: Float64Array.from(values), points: samples.length };
}

/**
 * Chart series of one query's range result.
 * @param {{resultType: string, result: any}} data the `data` of /query_range
 * @param {ReturnType<makeGrid>} grid
 * @param {{legend?: string, query: string}} q the query row (its letter and legend format)
 * @returns {{series: Array<object>, points: number}}
 */
export function rangeSeries(data, grid, q) {
  const series = [];
  let points = 0;
  if (!data) return { series, points };
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    // Not possible from query_range, but be lenient: one flat point.
    const [t, v] = data.result;
    const s = onGrid([[t, v]], grid);
    return { series: [{ name: `${q.query}`, labels: {}, ...s, query: q.letter }], points: 1 };
  }
  for (const r of data.result || []) {
    const samples = r.values || [];
    const hist = r.histograms || [];
    const s = onGrid(samples.length ? samples : hist, grid);
    points += s.points;
    const name = legendName(r.metric || {}, q.legend) + (hist.length && !samples.length ? ' (count)' : '');
    series.push({ name, labels: r.metric || {}, ts: s.ts, values: s.values, query: q.letter });
  }
  return { series, points };
}

/** Whether every label of `sub` (but the name) has the same value in `sup`. */
function labelsWithin(sub, sup) {
  for (const [k, v] of Object.entries(sub)) if (k !== '__name__' && sup[k] !== v) return false;
  return true;
}

/**
 * Chart exemplars of one query, attached to the series (among `series`
 * from `offset` on, the query's own) whose labels they carry.
 * @param {Array<{seriesLabels: object, exemplars: Array}>|null} data the `data` of /query_exemplars
 * @param {Array<{labels: object}>} series all chart series
 * @param {number} offset index of the query's first series
 * @param {number} count how many series the query has
 */
export function chartExemplars(data, series, offset, count) {
  const out = [];
  for (const group of data || []) {
    const labels = group.seriesLabels || {};
    let best = -1, bestSize = -1;
    for (let i = offset; i < offset + count; i++) {
      const own = series[i].labels;
      const size = Object.keys(own).length;
      if (size > bestSize && labelsWithin(own, labels)) { best = i; bestSize = size; }
    }
    for (const ex of group.exemplars || []) {
      const l = ex.labels || {};
      out.push({
        ts: ex.timestamp * 1000,
        value: parseFloat(ex.value),
        seriesIndex: best,
        labels: { ...labels, ...l },
        traceId: l.trace_id || l.traceID || l.traceId || '',
      });
    }
  }
  return out;
}

/**
 * Table rows of one query's instant result.
 * Each row: `{query, labels, kind, value (number|string|null), samples?, hist?}`.
 * @param {{resultType: string, result: any}} data the `data` of /query
 * @param {string} letter the query's letter
 */
export function instantRows(data, letter) {
  if (!data) return [];
  const { resultType, result } = data;
  if (resultType === 'scalar' || resultType === 'string') {
    const v = result[1];
    return [{ query: letter, labels: {}, kind: resultType, value: resultType === 'scalar' ? parseFloat(v) : String(v), time: result[0] * 1000 }];
  }
  if (resultType === 'matrix') {
    return (result || []).map((r) => {
      const samples = (r.values || []).map(([t, v]) => ({ t: t * 1000, v: parseFloat(v) }));
      const last = samples[samples.length - 1];
      return { query: letter, labels: r.metric || {}, kind: 'matrix', value: last ? last.v : null, samples };
    });
  }
  return (result || []).map((r) => {
    if (r.histogram) {
      const h = r.histogram[1] || {};
      return { query: letter, labels: r.metric || {}, kind: 'histogram', value: parseFloat(h.count), hist: h, time: r.histogram[0] * 1000 };
    }
    const [t, v] = r.value || [];
    return { query: letter, labels: r.metric || {}, kind: 'vector', value: parseFloat(v), time: t * 1000 };
  });
}
