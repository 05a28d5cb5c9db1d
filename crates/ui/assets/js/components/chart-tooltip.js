// Tooltip contents and placement for TimeChart (chart.js).

import { formatValue, withUnit, formatTime } from './chart-axes.js';
import { el } from './chart-data.js';

/** Most series rows a tooltip lists before "…N more". */
export const TOOLTIP_ROWS = 15;

/**
 * @typedef {object} TipContext
 * @property {{name:string, color:string}[]} series
 * @property {string} unit
 * @property {boolean} utc
 * @property {number} bucketMs bar bucket width (0 for lines)
 * @property {string} barAlign
 * @property {boolean} clickable whether clicking an exemplar does something
 */

/**
 * Fills the tooltip for a hover over series: the time, then each series'
 * value sorted descending (the highlighted one always listed and bold), and
 * for bars the total.
 * @param {HTMLElement} tip
 * @param {{t:number, hl:number, rows:{i:number, v:number}[]}} hov
 * @param {TipContext} c
 */
export function fillSeriesTip(tip, hov, c) {
  tip.replaceChildren();
  let head = formatTime(hov.t, 'full', c.utc);
  if (c.bucketMs && c.barAlign !== 'center') head += ` + ${formatDuration(c.bucketMs)}`;
  tip.append(el('div', 'tchart-tip-time', head));
  const rows = hov.rows.slice().sort((a, b) => b.v - a.v);
  let shown = rows.slice(0, TOOLTIP_ROWS);
  const hlRow = rows.find((r) => r.i === hov.hl);
  if (hlRow && !shown.includes(hlRow)) shown = [...shown.slice(0, TOOLTIP_ROWS - 1), hlRow];
  for (const r of shown) {
    const s = c.series[r.i];
    const row = el('div', r.i === hov.hl ? 'tchart-tip-row is-hl' : 'tchart-tip-row');
    const sw = el('span', 'tchart-swatch');
    sw.style.setProperty('--swatch', s.color);
    row.append(sw, el('span', 'tchart-tip-name', s.name || '(unnamed)'), el('span', 'tchart-tip-val', withUnit(formatValue(r.v), c.unit)));
    tip.append(row);
  }
  if (rows.length > shown.length) tip.append(el('div', 'tchart-tip-more', `…${rows.length - shown.length} more`));
  if (c.bucketMs && rows.length > 1) {
    const total = rows.reduce((acc, r) => acc + r.v, 0);
    const row = el('div', 'tchart-tip-row tchart-tip-total');
    row.append(el('span'), el('span', 'tchart-tip-name', 'Total'), el('span', 'tchart-tip-val', withUnit(formatValue(total), c.unit)));
    tip.append(row);
  }
}

/**
 * Fills the tooltip for a hovered exemplar: time, series, value, trace id, labels.
 * @param {HTMLElement} tip
 * @param {{ts:number, value:number, seriesIndex:number, traceId?:string, labels?:object}} ex
 * @param {TipContext} c
 */
export function fillExemplarTip(tip, ex, c) {
  tip.replaceChildren();
  tip.append(el('div', 'tchart-tip-time', `Exemplar · ${formatTime(ex.ts, 'full', c.utc)}`));
  const s = ex.seriesIndex >= 0 ? c.series[ex.seriesIndex] : null;
  const kv = (k, v, cls = '') => {
    const row = el('div', `tchart-tip-kv ${cls}`.trim());
    row.append(el('span', 'tchart-tip-key', k), el('span', 'tchart-tip-v', v));
    tip.append(row);
  };
  if (s) kv('series', s.name);
  kv('value', withUnit(formatValue(ex.value), c.unit));
  if (ex.traceId) kv('trace', ex.traceId, 'tchart-tip-trace');
  for (const [k, v] of Object.entries(ex.labels ?? {})) kv(k, String(v));
  if (c.clickable) tip.append(el('div', 'tchart-tip-more', 'Click to open'));
}

/**
 * Shows the (position: fixed) tooltip beside the pointer, flipped to stay
 * inside the viewport.
 * @param {HTMLElement} tip
 * @param {number} x pointer clientX
 * @param {number} y pointer clientY
 */
export function placeTooltip(tip, x, y) {
  tip.hidden = false;
  const tw = tip.offsetWidth, th = tip.offsetHeight;
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  let left = x + 16, top = y + 16;
  if (left + tw > vw - 4) left = Math.max(4, x - 16 - tw);
  if (top + th > vh - 4) top = Math.max(4, y - 16 - th);
  tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
}

/** "30s", "5m", "1h", "1d" for a bucket width. */
export function formatDuration(ms) {
  const units = [[86400e3, 'd'], [3600e3, 'h'], [60e3, 'm'], [1e3, 's']];
  for (const [u, n] of units) if (ms >= u) return `${formatValue(ms / u)}${n}`;
  return `${formatValue(ms)}ms`;
}
