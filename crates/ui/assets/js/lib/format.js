/**
 * Formatting of numbers, bytes, durations and times for display.
 * @module lib/format
 */

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** `2026-12-06 15:04:05` in local time. @param {number} ms */
export function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `15:04:05.123` in local time. @param {number} ms */
export function formatClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** 1536 → `1.5 KiB`. @param {number} n */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A duration in ms as `850µs`, `12.3ms`, `4.56s`, `2m 3s`, `1h 2m`. @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${+ms.toFixed(ms < 10 ? 2 : 1)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${+s.toFixed(2)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
}

/** A number with at most `digits` significant digits, SI-suffixed past 10k. */
export function formatNumber(v, digits = 4) {
  if (typeof v !== 'number') v = Number(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : (v > 0 ? '+Inf' : '-Inf');
  const a = Math.abs(v);
  if (a >= 1e4) {
    const units = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
    for (const [m, u] of units) if (a >= m) return `${+(v / m).toPrecision(digits)}${u}`;
  }
  if (a !== 0 && a < 1e-3) return v.toExponential(digits - 1);
  return String(+v.toPrecision(digits));
}

/** `{job="api", instance="a:9090"}` → a metric's display name. */
export function seriesName(metric) {
  const name = metric.__name__ || '';
  const rest = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return rest.length ? `${name}{${rest.join(', ')}}` : (name || '{}');
}
