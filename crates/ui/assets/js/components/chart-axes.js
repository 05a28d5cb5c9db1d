// Helpers for TimeChart (chart.js): colour palette, theme colours, tick
// generation for the time and value axes, and number/time formatting.
// Pure functions only; nothing here touches the chart's DOM.

/**
 * Twenty series colours, mid-luminance and saturated enough to read on both a
 * light and a dark background. Neighbours differ in hue as much as possible.
 * @type {string[]}
 */
export const PALETTE = [
  '#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6',
  '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#6366f1',
  '#14b8a6', '#e11d48', '#0ea5e9', '#ca8a04', '#a855f7',
  '#22c55e', '#d946ef', '#64748b', '#dc2626', '#2dd4bf',
];

/**
 * Colour of the i-th series when it brings none of its own.
 * @param {number} i
 * @returns {string}
 */
export function paletteColor(i) {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

const LIGHT = { fg: '#1f2328', muted: '#656d76', border: '#d8dee4', bg: '#ffffff', panel: '#ffffff' };
const DARK = { fg: '#e6edf3', muted: '#8d96a0', border: '#30363d', bg: '#0d1117', panel: '#161b22' };

/**
 * Theme colours for drawing, read from the CSS custom properties --fg, --muted,
 * --border, --bg and --panel as seen by `el` (which inherits them from the
 * document), with defaults matching the document's light or dark theme.
 * @param {Element} el
 * @returns {{fg:string, muted:string, border:string, bg:string, panel:string, font:string, key:string}}
 */
export function readTheme(el) {
  const cs = getComputedStyle(el);
  const root = document.documentElement;
  const explicit = root.dataset.theme;
  const dark = explicit ? explicit === 'dark'
    : typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  const base = dark ? DARK : LIGHT;
  const pick = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  const t = {
    fg: pick('--fg', base.fg),
    muted: pick('--muted', base.muted),
    border: pick('--border', base.border),
    bg: pick('--bg', base.bg),
    panel: pick('--panel', base.panel),
    font: `11px ${cs.fontFamily || 'system-ui, sans-serif'}`,
    key: '',
  };
  t.key = [t.fg, t.muted, t.border, t.bg, t.panel, t.font].join('|');
  return t;
}

// ---------------------------------------------------------------- numbers

const BIG = [[1e18, 'E'], [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
const SMALL = [[1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p']];

/** Scale and SI suffix for |a| >= 1000 (k, M, G, …), otherwise 1 and ''. */
function bigScale(a) {
  for (const [s, n] of BIG) if (a >= s) return [s, n];
  return [1, ''];
}

/** Removes trailing zeros after a decimal point: "1.50" → "1.5", "2.0" → "2". */
function trimZeros(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Number of decimals needed to write x (a tick step) exactly, at most 12. */
function decimalsOf(x) {
  let d = 0;
  let m = Math.abs(x);
  while (d < 12 && Math.abs(Math.round(m) - m) > 1e-6 * Math.max(1, m)) { m *= 10; d++; }
  return d;
}

/**
 * A "nice" step (1, 2, 2.5 or 5 × 10^k) at least as large as `rough`.
 * @param {number} rough
 * @returns {number}
 */
export function niceStep(rough) {
  if (!(rough > 0) || !isFinite(rough)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(rough)));
  const f = rough / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

/**
 * Value-axis domain and ticks for data spanning [min, max].
 * @param {number} min smallest data value (Infinity when there is none)
 * @param {number} max largest data value (-Infinity when there is none)
 * @param {number} count roughly how many ticks fit
 * @param {boolean} includeZero whether the domain must contain 0 (stacked, bars)
 * @returns {{min:number, max:number, step:number, ticks:number[]}}
 */
export function valueTicks(min, max, count, includeZero) {
  if (!(min <= max)) { min = 0; max = 1; }
  if (includeZero) { min = Math.min(min, 0); max = Math.max(max, 0); }
  // A positive series whose floor is small next to its swing reads better from 0.
  if (min > 0 && min < (max - min) * 0.25) min = 0;
  if (max < 0 && -max < (max - min) * 0.25) max = 0;
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min = min >= 0 && min - pad < 0 ? 0 : min - pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, count));
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n && i < 1000; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  return { min: lo, max: hi, step, ticks };
}

/**
 * Short axis label for a tick value, precise enough to tell ticks `step` apart:
 * 1.5k, 2M, 0.001, 250µ.
 * @param {number} v
 * @param {number} step distance between ticks
 * @returns {string}
 */
export function formatTick(v, step) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  let [scale, suffix] = bigScale(a);
  if (a < 1e-3 && step < 1e-3) {
    for (const [s, n] of SMALL) if (a >= s) { scale = s; suffix = n; break; }
  }
  const d = Math.min(12, decimalsOf(step / scale));
  return trimZeros((v / scale).toFixed(d)) + suffix;
}

/**
 * Compact value for tooltips: four significant digits, SI suffix from 1000 up
 * (1.235k, 12.35, 0.001234, 1.2e-7). NaN and ±Infinity read as "—" / "∞".
 * @param {number} v
 * @returns {string}
 */
export function formatValue(v) {
  if (v !== v) return '—';
  if (!isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-4) return v.toExponential(2).replace(/\.?0+e/, 'e');
  const [scale, suffix] = bigScale(a);
  return trimZeros(String(Number((v / scale).toPrecision(4)))) + suffix;
}

/**
 * Appends a unit to a formatted number ("%" sticks to it, others get a space).
 * @param {string} s
 * @param {string} unit
 * @returns {string}
 */
export function withUnit(s, unit) {
  if (!unit) return s;
  return unit === '%' ? s + unit : `${s} ${unit}`;
}

// ------------------------------------------------------------------- time

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

// Candidate steps. Numbers are milliseconds; {months} steps follow the calendar.
const TIME_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
  MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY,
  { months: 1 }, { months: 3 }, { months: 6 },
  { months: 12 }, { months: 24 }, { months: 60 }, { months: 120 },
];

const pad2 = (n) => (n < 10 ? '0' : '') + n;
const pad3 = (n) => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/**
 * Calendar fields of an instant, in local time or UTC.
 * @param {number} t ms since the epoch
 * @param {boolean} utc
 */
export function timeParts(t, utc) {
  const d = new Date(t);
  return utc
    ? { Y: d.getUTCFullYear(), M: d.getUTCMonth(), D: d.getUTCDate(), h: d.getUTCHours(), m: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() }
    : { Y: d.getFullYear(), M: d.getMonth(), D: d.getDate(), h: d.getHours(), m: d.getMinutes(), s: d.getSeconds(), ms: d.getMilliseconds() };
}

/** Instant of a calendar date (fields may overflow; Date normalises them). */
function makeTime(utc, Y, M, D = 1, h = 0, m = 0) {
  return utc ? Date.UTC(Y, M, D, h, m) : new Date(Y, M, D, h, m).getTime();
}

/** Label format for a tick step over a range; see formatTime. */
function formatFor(step, range, multiYear) {
  if (typeof step === 'object') return step.months >= 12 ? 'Y' : 'YM';
  if (step >= DAY) return multiYear ? 'YMD' : 'MD';
  if (step < SEC) return 'hmsS';
  if (step < MIN) return range > DAY ? 'MDhms' : 'hms';
  return range > DAY ? 'MDhm' : 'hm';
}

/**
 * Formats an instant: 'hm' HH:MM, 'hms' HH:MM:SS, 'hmsS' HH:MM:SS.mmm,
 * 'MDhm' MM-DD HH:MM, 'MDhms', 'MD' MM-DD, 'YMD' YYYY-MM-DD, 'YM' YYYY-MM,
 * 'Y' YYYY, 'full' YYYY-MM-DD HH:MM:SS (with .mmm when not whole seconds).
 * @param {number} t ms
 * @param {string} fmt
 * @param {boolean} [utc]
 * @returns {string}
 */
export function formatTime(t, fmt, utc = false) {
  const p = timeParts(t, utc);
  const hm = `${pad2(p.h)}:${pad2(p.m)}`;
  const hms = `${hm}:${pad2(p.s)}`;
  const md = `${pad2(p.M + 1)}-${pad2(p.D)}`;
  switch (fmt) {
    case 'hm': return hm;
    case 'hms': return hms;
    case 'hmsS': return `${hms}.${pad3(p.ms)}`;
    case 'MDhm': return `${md} ${hm}`;
    case 'MDhms': return `${md} ${hms}`;
    case 'MD': return md;
    case 'YMD': return `${p.Y}-${md}`;
    case 'YM': return `${p.Y}-${pad2(p.M + 1)}`;
    case 'Y': return String(p.Y);
    default: return `${p.Y}-${md} ${hms}${p.ms ? '.' + pad3(p.ms) : ''}`;
  }
}

const SAMPLE = { hm: '00:00', hms: '00:00:00', hmsS: '00:00:00.000', MDhm: '00-00 00:00', MDhms: '00-00 00:00:00', MD: '00-00', YMD: '0000-00-00', YM: '0000-00', Y: '0000' };

/** Instants of the ticks of `step` within [start, end]. */
function stepTicks(start, end, step, utc) {
  const out = [];
  const p = timeParts(start, utc);
  if (typeof step === 'object') {
    const n = step.months;
    let Y = p.Y, M = p.M;
    if (n >= 12) { Y = Math.ceil(Y / (n / 12)) * (n / 12); M = 0; } else M = Math.ceil(M / n) * n;
    for (let i = 0; i < 500; i++) {
      const t = makeTime(utc, Y, M + i * n);
      if (t > end) break;
      if (t >= start) out.push(t);
    }
  } else if (step >= HOUR) {
    // Calendar stepping keeps ticks on local midnights / whole hours across DST.
    const days = step >= DAY ? step / DAY : 0;
    const hours = days ? 0 : step / HOUR;
    for (let i = 0; i < 2000; i++) {
      const t = days ? makeTime(utc, p.Y, p.M, p.D + i * days)
        : makeTime(utc, p.Y, p.M, p.D, Math.ceil(p.h / hours) * hours + i * hours);
      if (t > end) break;
      if (t >= start) out.push(t);
    }
  } else {
    const off = utc ? 0 : -new Date(start).getTimezoneOffset() * MIN;
    for (let t = Math.ceil((start + off) / step) * step - off; t <= end && out.length < 2000; t += step) out.push(t);
  }
  return out;
}

/**
 * Time-axis ticks for [start, end] drawn over `width` px: the finest calendar-
 * friendly step whose labels (measured with `measure`) do not collide.
 * @param {number} start ms
 * @param {number} end ms
 * @param {number} width px
 * @param {(s:string)=>number} measure text width in px
 * @param {boolean} [utc]
 * @returns {{ticks:number[], fmt:string}}
 */
export function timeTicks(start, end, width, measure, utc = false) {
  const range = end - start;
  if (!(range > 0) || !(width > 0)) return { ticks: [], fmt: 'full' };
  const multiYear = timeParts(start, utc).Y !== timeParts(end, utc).Y;
  const widths = {};
  for (const step of TIME_STEPS) {
    const fmt = formatFor(step, range, multiYear);
    const ms = typeof step === 'object' ? step.months * 30.44 * DAY : step;
    widths[fmt] ??= measure(SAMPLE[fmt]) + 28;
    if ((ms / range) * width >= widths[fmt]) return { ticks: stepTicks(start, end, step, utc), fmt };
  }
  return { ticks: [start, end], fmt: 'YMD' };
}

/**
 * Index of the first element of a sorted array that is >= x (length if none).
 * @param {ArrayLike<number>} a
 * @param {number} x
 */
export function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/**
 * Index of the element of a sorted array nearest to x (-1 if empty).
 * @param {ArrayLike<number>} a
 * @param {number} x
 */
export function nearestIndex(a, x) {
  const n = a.length;
  if (!n) return -1;
  const i = lowerBound(a, x);
  if (i === 0) return 0;
  if (i === n) return n - 1;
  return x - a[i - 1] <= a[i] - x ? i - 1 : i;
}
