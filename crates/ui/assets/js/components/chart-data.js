// Data helpers for TimeChart (chart.js): input normalisation, aligning series
// on one time grid for stacking, bucket width guessing, small DOM/array utils.

import { paletteColor } from './chart-axes.js';

/**
 * Normalises setData's argument: typed arrays of equal length per series, a
 * unique key and a colour per series, and a finite, non-empty [start, end]
 * (from the data when not given).
 * @param {object} data see TimeChart#setData
 * @returns {{start:number, end:number, step:number, series:object[], exemplars:object[]}}
 */
export function normalizeData(data) {
  const keys = new Map();
  const series = (data?.series ?? []).map((s, i) => {
    let ts = toF64(s.ts), values = toF64(s.values);
    const n = Math.min(ts.length, values.length);
    if (ts.length !== n) ts = ts.subarray(0, n);
    if (values.length !== n) values = values.subarray(0, n);
    const name = String(s.name ?? '');
    const dup = keys.get(name) ?? 0;
    keys.set(name, dup + 1);
    const key = dup ? `${name}\u0000${dup}` : name;
    return { name, key, labels: s.labels ?? {}, ts, values, color: s.color || paletteColor(i) };
  });
  let start = Number(data?.start), end = Number(data?.end);
  if (!isFinite(start) || !isFinite(end)) {
    let lo = Infinity, hi = -Infinity;
    for (const s of series) if (s.ts.length) { lo = Math.min(lo, s.ts[0]); hi = Math.max(hi, s.ts[s.ts.length - 1]); }
    if (!isFinite(start)) start = isFinite(lo) ? lo : Date.now() - 3600e3;
    if (!isFinite(end)) end = isFinite(hi) ? hi : Date.now();
  }
  if (!(end > start)) end = start + 1000;
  return { start, end, step: Number(data?.step) || 0, series, exemplars: data?.exemplars ?? [] };
}

/** Creates an element with a class and optional text. */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Coerces an array-like of numbers (null → NaN) to a Float64Array. */
export function toF64(a) {
  if (a instanceof Float64Array) return a;
  if (!a) return new Float64Array(0);
  return Float64Array.from(a, (v) => (v === null || v === undefined ? NaN : +v));
}

/** Index of the first element of a sorted array that is > x. */
export function upperBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (a[mid] <= x) lo = mid + 1; else hi = mid; }
  return lo;
}

/**
 * Puts all series on one time grid so they can be stacked: their shared
 * timestamps when they all have the same ones, else the union of all
 * timestamps, interpolated between a series' own points (NaN outside them).
 * @returns {{xs: Float64Array, vals: Float64Array[], bucket?: number}}
 */
export function alignSeries(series) {
  const first = series[0]?.ts ?? new Float64Array(0);
  if (series.every((s) => sameArray(s.ts, first))) return { xs: first, vals: series.map((s) => s.values) };
  let total = 0;
  for (const s of series) total += s.ts.length;
  const all = new Float64Array(total);
  let o = 0;
  for (const s of series) { all.set(s.ts, o); o += s.ts.length; }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i];
  const xs = all.slice(0, n);
  const vals = series.map((s) => {
    const out = new Float64Array(n).fill(NaN);
    let k = 0, pk = -1, pv = NaN, pt = 0;
    for (let j = 0; j < s.ts.length; j++) {
      const t = s.ts[j], v = s.values[j];
      while (xs[k] < t) k++;
      out[k] = v;
      // Between two of its own points, a series is interpolated onto the
      // others' timestamps so stacks do not fall apart into gaps.
      if (pk >= 0 && v === v && pv === pv) {
        for (let m = pk + 1; m < k; m++) out[m] = pv + ((v - pv) * (xs[m] - pt)) / (t - pt);
      }
      pk = k; pv = v; pt = t;
    }
    return out;
  });
  return { xs, vals };
}

export function sameArray(a, b) {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Median spacing of a sorted time grid (a bar's width), from a sample. */
export function guessBucket(xs, range) {
  if (xs.length < 2) return range / 60;
  const diffs = [];
  const stride = Math.max(1, Math.floor(xs.length / 2000));
  for (let i = stride; i < xs.length; i += stride) {
    const dd = xs[i] - xs[i - 1];
    if (dd > 0) diffs.push(dd);
  }
  if (!diffs.length) return range / 60;
  diffs.sort((a, b) => a - b);
  return diffs[diffs.length >> 1];
}

/** The series under py: the band containing it (stacked) or the nearest line. */
export function nearestRow(rows, py, stack) {
  if (stack) {
    for (const r of rows) if (py >= Math.min(r.y, r.y0) && py <= Math.max(r.y, r.y0) && r.y !== r.y0) return r.i;
  }
  let best = -1, bd = Infinity;
  for (const r of rows) {
    const dd = Math.abs(r.y - py);
    if (dd < bd) { bd = dd; best = r.i; }
  }
  return best;
}
