/**
 * The trace view (/ui/traces/<traceId>[?span=<spanId>]): the trace's
 * summary, its waterfall and the selected span's details.
 * @module pages/traces/trace
 */
import { h, clear, notice } from '../../lib/dom.js';
import { formatDuration, formatTime } from '../../lib/format.js';
import { parseSpans, buildTrace, criticalPath, serviceColors, normaliseTraceId } from './model.js';
import { Waterfall } from './waterfall.js';
import { renderDetails, logsQuery, windowAround } from './details.js';
import { LAST_SEARCH_KEY } from './search.js';

/**
 * Mounts the trace view for `traceId`.
 * @param {HTMLElement} root
 * @param {object} ctx the page context
 * @param {string} rawId the id from the URL
 * @returns {{refresh(): void, unmount(): void}}
 */
export function mountTrace(root, ctx, rawId) {
  const view = new TraceView(root, ctx, rawId);
  view.load();
  return { refresh: () => view.load(), unmount: () => view.destroy() };
}

class TraceView {
  constructor(root, ctx, rawId) {
    this.ctx = ctx;
    this.root = root;
    this.id = normaliseTraceId(rawId);
    this.rawId = rawId;
    this.waterfall = null;
    this.controller = null;
    let back = '/ui/traces';
    try { back = sessionStorage.getItem(LAST_SEARCH_KEY) || back; } catch (e) { /* storage off */ }
    this.nav = h('nav', { class: 'tr-crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: back.startsWith('/ui/traces') ? back : ctx.href('/ui/traces') }, '← Trace search'));
    this.body = h('div', { class: 'tr-trace-body' });
    root.append(this.nav, this.body);
  }

  async load() {
    if (!this.id) {
      this.body.replaceChildren(notice('error', `"${this.rawId}" is not a trace ID: a trace ID is 1 to 32 hex digits.`));
      return;
    }
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    if (!this.trace) this.body.replaceChildren(h('p', { class: 'loading', role: 'status' }, `Loading trace ${this.id}…`));
    let doc;
    try {
      doc = await this.ctx.api.get(`/api/traces/${this.id}`, {}, { signal: controller.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      const msg = e.status === 404
        ? `Trace ${this.id} was not found for this tenant. It may be older than the retention period, or its spans may not have arrived yet.`
        : `Could not load trace ${this.id}: ${e.message}`;
      this.body.replaceChildren(notice('error', msg));
      return;
    }
    const spans = parseSpans(doc);
    if (!spans.length) {
      this.body.replaceChildren(notice('empty', `Trace ${this.id} has no spans.`));
      return;
    }
    this.trace = buildTrace(spans);
    this.critical = criticalPath(this.trace);
    this.colors = serviceColors(this.trace.services);
    this.render();
  }

  render() {
    const t = this.trace;
    if (this.waterfall) this.waterfall.destroy();
    clear(this.body);
    const root = t.roots[0];
    document.title = `${root.service}: ${root.name} · Traces · Argus`;
    this.details = h('div', { class: 'tr-details-slot' });
    const wfBox = h('div', { class: 'tr-wf-box' });
    this.layout = h('div', { class: 'tr-trace-layout' }, wfBox, this.details);
    this.body.append(this.summary(), h('section', { class: 'panel tr-wf-panel', 'aria-label': 'Waterfall' }, this.toolbar(), this.layout));
    const selected = this.ctx.params.get('span');
    this.waterfall = new Waterfall(wfBox, t, {
      colors: this.colors, critical: this.critical,
      selectedId: selected && t.byId.has(selected) ? selected : null,
      onSelect: (span) => this.showSpan(span, true),
    });
    if (selected && t.byId.has(selected)) {
      this.waterfall.select(selected, { notify: false });
      this.showSpan(t.byId.get(selected), false);
    } else if (selected) {
      this.details.replaceChildren(notice('error', `Span ${selected} is not in this trace.`));
    }
  }

  summary() {
    const t = this.trace;
    const root = t.roots[0];
    const traceId = root.traceId || this.id;
    const win = windowAround(this.ctx, t.start, t.end, 15 * 60_000);
    const copy = h('button', { type: 'button', class: 'tr-copy', title: 'Copy the trace ID to the clipboard',
      onclick: async () => {
        try { await navigator.clipboard.writeText(traceId); copy.textContent = 'Copied'; } catch (e) { copy.textContent = 'Copy failed'; }
        setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
      } }, 'Copy');
    return h('section', { class: 'panel tr-summary-panel', 'aria-labelledby': 'tr-trace-title' },
      h('div', { class: 'tr-title-row' },
        h('span', { class: 'svc-chip big', style: { background: this.colors.get(root.service) }, 'aria-hidden': 'true' }),
        h('h1', { id: 'tr-trace-title' }, h('span', { class: 'tr-title-service' }, `${root.service}: `), root.name),
        t.errors ? h('span', { class: 'badge error' }, `${t.errors} error span${t.errors > 1 ? 's' : ''}`) : h('span', { class: 'badge ok' }, 'no errors'),
        h('span', { class: 'grow' }),
        h('a', { class: 'button', href: this.ctx.href('/ui/logs', { query: logsQuery(t.services, traceId), ...win }) }, 'Logs for this trace')),
      h('dl', { class: 'tr-meta' },
        meta('Trace ID', h('span', {}, h('code', { class: 'tr-trace-id' }, traceId), ' ', copy)),
        meta('Started', formatTime(t.start)),
        meta('Duration', formatDuration(t.duration)),
        meta('Spans', String(t.spans.length)),
        meta('Depth', String(Math.max(...t.spans.map((s) => s.depth)) + 1)),
        meta('Services', h('span', { class: 'tr-legend-services' }, t.services.map((svc) => h('a', {
          class: 'tr-svc', href: this.ctx.href('/ui/traces', { service: svc, q: `{ resource.service.name = ${JSON.stringify(svc)} }` }),
          title: `Search traces of ${svc}`,
        }, h('span', { class: 'svc-dot', style: { background: this.colors.get(svc) }, 'aria-hidden': 'true' }), svc))))),
      t.roots.length > 1 ? h('p', { class: 'hint' }, `${t.roots.length - 1} span(s) have a parent that is not in this trace; they are shown as extra roots.`) : null);
  }

  toolbar() {
    const cp = h('input', { type: 'checkbox', checked: true, onchange: () => this.waterfall.setCritical(cp.checked) });
    return h('div', { class: 'toolbar tr-wf-toolbar' },
      h('button', { type: 'button', onclick: () => this.waterfall.setAll(true) }, 'Expand all'),
      h('button', { type: 'button', onclick: () => this.waterfall.setAll(false) }, 'Collapse all'),
      h('label', { class: 'tr-cp-toggle' }, cp, 'Critical path'),
      h('span', { class: 'grow' }),
      h('div', { class: 'tr-legend hint', id: 'tr-legend' },
        h('span', { class: 'tr-legend-item' }, h('span', { class: 'tr-legend-cp', 'aria-hidden': 'true' }),
          'Critical path: the parts of spans that decided when the trace ended'),
        h('span', { class: 'tr-legend-item' }, h('span', { class: 'tr-legend-err', 'aria-hidden': 'true' }), 'Error span'),
        h('span', { class: 'tr-legend-item' }, h('span', { class: 'wf-event tr-legend-event', 'aria-hidden': 'true' }), 'Event'),
        h('span', { class: 'tr-legend-item' }, h('kbd', {}, '↑↓'), ' move ', h('kbd', {}, '←→'), ' fold ', h('kbd', {}, 'Enter'), ' details')));
  }

  /** Shows a span's details (null: closes them); `push` records it in the URL. */
  showSpan(span, push) {
    if (push) this.ctx.params.set({ span: span ? span.id : null }, { push: false });
    this.layout.classList.toggle('has-details', !!span);
    if (!span) {
      clear(this.details);
      return;
    }
    this.details.replaceChildren(renderDetails(this.ctx, this.trace, span, {
      colors: this.colors, critical: this.critical.ids,
      onClose: () => { this.waterfall.select(null); this.waterfall.focus(span.id); },
      onSelect: (id) => this.waterfall.select(id, { focus: true }),
    }));
  }

  destroy() {
    if (this.controller) this.controller.abort();
    if (this.waterfall) this.waterfall.destroy();
  }
}

function meta(term, value) {
  return h('div', { class: 'tr-meta-item' }, h('dt', {}, term), h('dd', {}, value));
}
