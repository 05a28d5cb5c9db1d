/**
 * The metric browser shown before any query is run: the tenant's metric
 * names (with type and help when known) under a filter; picking one
 * queries it.
 * @module pages/metrics/browser
 */
import { h, clear, notice } from '../../lib/dom.js';

const MAX_SHOWN = 300;

/**
 * Fills `container` with the browser.
 * @param {HTMLElement} container
 * @param {import('./source.js').MetricsSource} source
 * @param {(name: string) => void} onPick
 * @returns {Promise<void>}
 */
export async function renderBrowser(container, source, onPick) {
  clear(container);
  const status = h('p', { class: 'loading' }, 'Loading metric names…');
  container.append(status);
  let names, meta;
  try {
    [names, meta] = await Promise.all([source.metricNames(), source.metadata()]);
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(container);
    container.append(notice('error', `Cannot list the metrics: ${e.message}`));
    return;
  }
  clear(container);
  if (!names.length) {
    container.append(notice('empty', 'No metrics in this time range for this tenant. Send some over OTLP or remote write, or pick a longer range.'));
    return;
  }
  const list = h('ul', { class: 'metrics-browser-list', 'aria-label': 'Metrics' });
  const count = h('span', { class: 'hint', role: 'status' });
  const filter = h('input', {
    type: 'search', class: 'metrics-browser-filter', placeholder: 'Filter metrics', 'aria-label': 'Filter metrics',
    onInput: () => show(filter.value),
  });
  const show = (text) => {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = names.filter((n) => {
      const hay = `${n} ${meta[n]?.help || ''}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    clear(list);
    for (const n of hits.slice(0, MAX_SHOWN)) {
      const m = meta[n];
      list.append(h('li', {}, h('button', { type: 'button', class: 'metrics-browser-item', onClick: () => onPick(n) },
        h('span', { class: 'mono metrics-browser-name' }, n),
        m?.type ? h('span', { class: 'badge' }, m.type) : null,
        m?.help ? h('span', { class: 'metrics-browser-help' }, m.help) : null)));
    }
    count.textContent = hits.length > MAX_SHOWN
      ? `${MAX_SHOWN} of ${hits.length} shown: refine the filter`
      : `${hits.length} of ${names.length} metrics`;
  };
  container.append(
    h('div', { class: 'metrics-browser-head' },
      h('h3', {}, 'Metrics'),
      filter, count),
    h('p', { class: 'hint' }, 'Pick a metric to chart it, or type a query above (Ctrl+Space lists what fits at the caret).'),
    list);
  show('');
}
