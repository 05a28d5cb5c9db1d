/**
 * The traces page: search (/ui/traces), the service graph
 * (/ui/traces?view=graph) and one trace (/ui/traces/<traceId>[?span=<id>]).
 * The views live in js/pages/traces/*.js.
 * @module pages/traces
 */
import { h } from '../lib/dom.js';
import { mountSearch } from './traces/search.js';
import { mountGraph } from './traces/servicegraph.js';
import { mountTrace } from './traces/trace.js';

const VIEWS = [['search', 'Search'], ['graph', 'Service graph']];

/**
 * Mounts the page.
 * @param {HTMLElement} root
 * @param {object} ctx the shell's page context
 * @returns {{refresh(): void, unmount(): void}}
 */
export function mount(root, ctx) {
  if (ctx.rest[0]) return mountTrace(root, ctx, ctx.rest[0]);
  let view = ctx.params.get('view') === 'graph' ? 'graph' : 'search';
  let current = null;
  const content = h('div', { class: 'tr-view', role: 'tabpanel', id: 'tr-tabpanel' });
  const tabs = h('div', { class: 'tabs tr-tabs', role: 'tablist', 'aria-label': 'Traces views', onkeydown: onTabKey },
    VIEWS.map(([key, label]) => h('button', {
      type: 'button', role: 'tab', id: `tr-tab-${key}`, 'aria-controls': 'tr-tabpanel', dataset: { view: key },
      onclick: () => show(key, true),
    }, label)));
  root.append(h('div', { class: 'tr-page-head' }, h('h1', {}, 'Traces'), tabs), content);

  function show(key, push) {
    if (current && key === view) return;
    view = key;
    if (current && current.unmount) current.unmount();
    content.replaceChildren();
    if (push) ctx.params.set({ view: key === 'graph' ? 'graph' : null }, { push: true });
    for (const b of tabs.children) {
      const sel = b.dataset.view === key;
      b.setAttribute('aria-selected', String(sel));
      b.tabIndex = sel ? 0 : -1;
    }
    content.setAttribute('aria-labelledby', `tr-tab-${key}`);
    current = key === 'graph' ? mountGraph(content, ctx) : mountSearch(content, ctx);
  }

  function onTabKey(e) {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const i = VIEWS.findIndex(([k]) => k === view);
    const next = VIEWS[(i + (e.key === 'ArrowRight' ? 1 : VIEWS.length - 1)) % VIEWS.length][0];
    show(next, true);
    tabs.querySelector(`[data-view="${next}"]`).focus();
  }

  show(view, false);
  return {
    refresh: () => current && current.refresh && current.refresh(),
    unmount: () => current && current.unmount && current.unmount(),
  };
}
