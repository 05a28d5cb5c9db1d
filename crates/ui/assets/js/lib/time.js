/**
 * Time ranges as the URL carries them: each end is `now`, `now-<n><unit>`
 * (units s m h d w y), epoch milliseconds, or a local date
 * `YYYY-MM-DD[ HH:MM[:SS]]` / ISO-8601 text.
 * @module lib/time
 */

const UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8, y: 3.1536e10 };

/** Parses a duration such as `5m`, `1h30m`, `250ms` into ms; NaN if not one. */
export function parseDuration(text) {
  const s = String(text).trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0, m, last = 0;
  while ((m = re.exec(s))) { total += parseFloat(m[1]) * UNIT_MS[m[2]]; last = re.lastIndex; }
  return last === s.length && last > 0 ? total : NaN;
}

/** 300000 → `5m`; the largest whole units, e.g. `1h30m`. */
export function formatDurationSpec(ms) {
  if (!(ms > 0)) return '0s';
  const order = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let out = '';
  for (const u of order) {
    const n = Math.floor(ms / UNIT_MS[u]);
    if (n > 0) { out += `${n}${u}`; ms -= n * UNIT_MS[u]; }
  }
  return out;
}

/**
 * Resolves one end of a range to epoch ms, relative to `now`; NaN when
 * the text is none of the accepted forms.
 */
export function parseTime(text, now = Date.now()) {
  const s = String(text ?? '').trim();
  if (s === 'now') return now;
  const rel = /^now-(.+)$/.exec(s);
  if (rel) return now - parseDuration(rel[1]);
  if (/^\d{10,}$/.test(s)) return Number(s);
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (local) {
    const [, y, mo, d, hh = '0', mm = '0', ss = '0'] = local;
    return new Date(+y, +mo - 1, +d, +hh, +mm, +ss).getTime();
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? NaN : t;
}

/** A valid range's text; throws an Error naming the bad end otherwise. */
export function resolveRange(range, now = Date.now()) {
  const start = parseTime(range.from, now);
  const end = parseTime(range.to, now);
  if (Number.isNaN(start)) throw new Error(`"${range.from}" is not a time: use now-1h, 2026-12-06 10:00 or epoch ms`);
  if (Number.isNaN(end)) throw new Error(`"${range.to}" is not a time: use now, 2026-12-06 11:00 or epoch ms`);
  if (start >= end) throw new Error('the start of the range must be before its end');
  return { start, end };
}

/** Text of a range for the picker's button: `Last 1h` or two dates. */
export function describeRange(range) {
  const rel = /^now-(.+)$/.exec(range.from);
  if (rel && range.to === 'now') return `Last ${rel[1]}`;
  const fmt = (t) => {
    const ms = parseTime(t);
    if (Number.isNaN(ms)) return t;
    const d = new Date(ms), p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  };
  return `${fmt(range.from)} → ${fmt(range.to)}`;
}

/** A "nice" step for a range drawn `width` px wide (~1 point per 2 px, ≥ `min`). */
export function autoStep(start, end, width = 1000, min = 1000) {
  const raw = Math.max(min, (end - start) / Math.max(50, width / 2));
  const nice = [1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];
  for (const n of nice) if (n >= raw) return n;
  return Math.ceil(raw / 864e5) * 864e5;
}

/** Milliseconds as seconds for the Prometheus API (`1733490000.123`). */
export const toSeconds = (ms) => (ms / 1000).toFixed(3).replace(/\.?0+$/, '');

/** Milliseconds as nanoseconds text for the Loki API. */
export const toNanos = (ms) => `${Math.round(ms)}000000`;
