/**
 * The rows of the log list: a summary line (time, level, the line with the
 * query's matches marked) and, when expanded, the entry's details: stream
 * labels, structured metadata and parsed fields with filter buttons, and a
 * link to the entry's trace.
 * @module pages/logs/rows
 */
import { h } from '../../lib/dom.js';
import { formatClock, formatTime } from '../../lib/format.js';
import { highlightPieces, parseLine, traceIdOf } from './logql.js';

/**
 * @typedef {object} RowOptions
 * @property {RegExp[]} filters line filters to highlight
 * @property {boolean} showDate whether times carry their date
 * @property {(entry, expanded:boolean) => void} onToggle
 * @property {(f:{source:string, key:string, value:string, op:string, parser?:string}) => void} onFilter
 * @property {(path:string) => string} href builds a UI link
 */

/** The time of an entry as shown in its row. */
export function timeText(entry, showDate) {
  const ms = Math.floor(entry.ms);
  return showDate ? `${formatTime(ms)}.${String(ms % 1000).padStart(3, '0')}` : formatClock(ms);
}

/** The line with `<mark>`s on the pieces the filters match. */
function lineNodes(line, filters) {
  return highlightPieces(line, filters).map((p) => (p.match ? h('mark', {}, p.text) : p.text));
}

/**
 * Builds the element of one row.
 * @param {import('./data.js').LogEntry} entry
 * @param {number} index position in the list (for the accessible name)
 * @param {boolean} expanded
 * @param {RowOptions} o
 */
export function renderRow(entry, index, expanded, o) {
  const time = timeText(entry, o.showDate);
  const toggle = h('button', {
    type: 'button', class: 'log-toggle', tabindex: '-1', 'aria-expanded': String(expanded),
    'aria-label': `${expanded ? 'Hide' : 'Show'} details of the ${entry.level} line at ${time}`,
  }, h('span', { class: 'log-chevron', 'aria-hidden': 'true' }));
  const summary = h('div', { class: 'log-summary' },
    toggle,
    h('time', { class: 'log-time', datetime: new Date(Math.floor(entry.ms)).toISOString(), title: `${formatTime(Math.floor(entry.ms))} (${entry.ns} ns)` }, time),
    h('span', { class: `log-level lvl-${entry.level}` }, entry.level),
    h('span', { class: 'log-line' }, lineNodes(entry.line, o.filters)));
  const row = h('div', { class: ['log-row', `lvl-${entry.level}`, expanded && 'is-expanded'], dataset: { id: entry.id } }, summary);
  summary.addEventListener('click', (e) => {
    if (e.target.closest('a, button:not(.log-toggle)')) return;
    if (e.target !== toggle && !toggle.contains(e.target) && String(window.getSelection() || '').length) return; // selecting text
    e.preventDefault();
    o.onToggle(entry, !expanded);
  });
  if (expanded) row.append(details(entry, o));
  return row;
}

/** The expanded part of a row. */
function details(entry, o) {
  const traceId = traceIdOf(entry);
  const actions = h('div', { class: 'log-actions' },
    traceId && h('a', { class: 'button log-trace-link', href: o.href(`/ui/traces/${traceId}`) }, 'View trace ', h('code', {}, traceId.slice(0, 8) + '…')),
    h('button', {
      type: 'button', class: 'log-copy',
      onClick: (e) => {
        const b = e.currentTarget;
        navigator.clipboard?.writeText(entry.line).then(() => { b.textContent = 'Copied'; }, () => { b.textContent = 'Copy failed'; });
      },
    }, 'Copy line'));
  const parts = [h('pre', { class: 'log-full' }, lineNodes(entry.line, o.filters)), actions];
  const labels = Object.entries(entry.stream);
  if (labels.length) parts.push(fieldTable('Stream labels', labels, 'stream', o, entry));
  const sm = Object.entries(entry.sm || {});
  if (sm.length) parts.push(fieldTable('Structured metadata', sm, 'sm', o, entry));
  if (entry.parsed && Object.keys(entry.parsed).length) {
    parts.push(fieldTable('Parsed fields', Object.entries(entry.parsed), 'parsed', o, entry));
  } else {
    const p = parseLine(entry.line);
    if (p) parts.push(fieldTable(`Parsed fields (${p.parser})`, p.fields, 'client', o, entry, p.parser));
  }
  return h('div', { class: 'log-details' }, parts);
}

/**
 * A key/value table with "filter for value" / "filter out" buttons.
 * `source` says how a filter on it is written: a stream matcher, a label
 * filter on metadata or parsed labels, or one after a client-side parser.
 */
function fieldTable(title, pairs, source, o, entry, parser = '') {
  const rows = pairs.map(([k, v]) => {
    // A parsed key that is also a stream label is named `<key>_extracted` by the parser stage.
    const key = source === 'client' && k in entry.stream ? `${k}_extracted` : k;
    const btn = (op, text, label) => h('button', {
      type: 'button', class: 'icon-button log-filter', title: label, 'aria-label': label,
      onClick: () => o.onFilter({ source, key, value: v, op, parser }),
    }, text);
    return h('tr', { dataset: { key: k } },
      h('th', { scope: 'row' }, k),
      h('td', { class: 'log-value' }, v === '' ? h('span', { class: 'hint' }, '(empty)') : v),
      h('td', { class: 'log-filters' },
        btn('=', '⊕', `Filter for ${k} = ${v}`),
        btn('!=', '⊖', `Filter out ${k} = ${v}`)));
  });
  const section = source === 'client' ? 'parsed' : source;
  return h('section', { class: 'log-fields', dataset: { section } },
    h('h3', {}, title),
    h('table', { class: 'data log-kv' }, h('tbody', {}, rows)));
}
