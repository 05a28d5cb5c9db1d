/**
 * The "System" area's sub-navigation. Pages about the server itself
 * (status now; cluster, alerts, usage later) add themselves to
 * {@link SYSTEM_PAGES} and render {@link systemHeader} at their top.
 * @module pages/status/system-nav
 */
import { h } from '../../lib/dom.js';

/** The System area's pages, in navigation order (only pages that exist). */
export const SYSTEM_PAGES = [
  { name: 'status', label: 'Status', path: '/ui/status' },
];

/**
 * The header of a System page: the area's name, its sub-navigation, and
 * `tools` (nodes shown at the right).
 * @param {object} ctx the page context (for links that keep the tenant and range)
 * @param {string} current the page's name
 * @param {Node[]} [tools]
 * @returns {HTMLElement}
 */
export function systemHeader(ctx, current, tools = []) {
  return h('header', { class: 'system-header' },
    h('div', { class: 'system-area' }, 'System'),
    h('nav', { class: 'system-nav', 'aria-label': 'System' },
      SYSTEM_PAGES.map((p) => h('a', {
        href: ctx.href(p.path), 'aria-current': p.name === current ? 'page' : null,
      }, p.label))),
    h('div', { class: 'system-tools' }, tools));
}
