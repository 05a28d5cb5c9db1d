/**
 * A parser for the Prometheus text exposition format (what /metrics
 * serves) and helpers to compute per-second rates between two scrapes.
 * @module pages/status/promtext
 */

/**
 * @typedef {object} Sample
 * @property {string} name metric name (with its _total/_count/… suffix)
 * @property {Object<string,string>} labels
 * @property {number} value
 */

/**
 * @typedef {object} Exposition
 * @property {Sample[]} samples
 * @property {Map<string,{type:string, help:string}>} families by family name
 */

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new Error(`bad value "${s}"`);
  return v;
}

/** Parses `{a="x",b="y\"z"}` from `line` at `i`; returns [labels, next index]. */
function parseLabels(line, i) {
  const labels = {};
  i++; // {
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
    if (!m) throw new Error('bad label name');
    i += m[0].length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error('expected ="');
    i += 2;
    let v = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error('unterminated label value');
      if (c === '"') { i++; break; }
      if (c === '\\') {
        const n = line[i + 1];
        v += n === 'n' ? '\n' : n;
        i += 2;
      } else { v += c; i++; }
    }
    labels[m[0]] = v;
  }
}

/**
 * Parses an exposition. Malformed lines are skipped and counted in
 * `errors`.
 * @param {string} text
 * @returns {Exposition & {errors:number}}
 */
export function parsePromText(text) {
  const samples = [];
  const families = new Map();
  let errors = 0;
  for (const raw of String(text).split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (m) {
        const f = families.get(m[2]) || { type: 'untyped', help: '' };
        if (m[1] === 'TYPE') f.type = m[3].trim(); else f.help = m[3].replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
        families.set(m[2], f);
      }
      continue;
    }
    try {
      const m = NAME.exec(line);
      if (!m) throw new Error('bad metric name');
      let i = m[0].length, labels = {};
      if (line[i] === '{') [labels, i] = parseLabels(line, i);
      const rest = line.slice(i).trim().split(/\s+/);
      samples.push({ name: m[0], labels, value: parseValue(rest[0]) });
    } catch (e) {
      errors++;
    }
  }
  return { samples, families, errors };
}

/** A stable key of a sample: `name{a="x",b="y"}` with sorted labels. */
export function sampleKey(name, labels) {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

/** The help text of the family a sample name belongs to. */
export function familyOf(exp, name) {
  return exp.families.get(name) || exp.families.get(name.replace(/_(total|count|sum|bucket|created)$/, '')) || null;
}

/**
 * A scrape kept for rates: time and values by {@link sampleKey}.
 * @param {Exposition} exp
 * @param {number} t ms
 */
export function snapshot(exp, t) {
  const values = new Map();
  for (const s of exp.samples) values.set(sampleKey(s.name, s.labels), s.value);
  return { t, values, exp };
}

/**
 * Per-second rate of a counter between two snapshots (a reset — the
 * value went down — counts from zero); null without a previous one.
 */
export function counterRate(prev, cur, key) {
  if (!prev || !cur || cur.t <= prev.t) return null;
  const now = cur.values.get(key);
  if (now === undefined) return null;
  const before = prev.values.get(key) ?? 0;
  const delta = now >= before ? now - before : now;
  return delta / ((cur.t - prev.t) / 1000);
}
