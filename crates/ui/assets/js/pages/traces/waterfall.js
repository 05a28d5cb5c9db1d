/**
 * The waterfall of a trace: spans as a tree (indented names with
 * collapse/expand, the service's colour, error marks) beside a timeline
 * (a time axis, each span's bar at its offset and width with its duration,
 * the critical path drawn on the bars). Rows are a keyboard-navigable tree:
 * ↑/↓ move, ←/→ collapse/expand (or go to the parent/first child),
 * Home/End, Enter or Space opens the span's details.
 * @module pages/traces/waterfall
 */
import { h, clear } from '../../lib/dom.js';
import { formatDuration } from '../../lib/format.js';

/** A "nice" tick step (1, 2, 5 × 10^k ms) giving about `target` ticks over `span` ms. */
export function tickStep(span, target = 6) {
  const raw = Math.max(span, 1e-6) / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** The waterfall component. */
export class Waterfall {
  /**
   * @param {HTMLElement} container
   * @param {object} trace from model.buildTrace
   * @param {{colors: Map<string,string>, critical: {segments: Array, ids: Set<string>},
   *   onSelect: (span: object|null) => void, selectedId?: string}} opts
   */
  constructor(container, trace, opts) {
    this.trace = trace;
    this.opts = opts;
    this.collapsed = new Set();
    this.selectedId = opts.selectedId || null;
    this.focusId = this.selectedId || (trace.spans[0] && trace.spans[0].id);
    this.showCritical = true;
    this.rowsById = new Map();
    this.segmentsBySpan = new Map();
    for (const seg of opts.critical.segments) {
      if (!this.segmentsBySpan.has(seg.span.id)) this.segmentsBySpan.set(seg.span.id, []);
      this.segmentsBySpan.get(seg.span.id).push(seg);
    }
    this.root = h('div', { class: 'wf' });
    container.append(this.root);
    this.build();
  }

  build() {
    const t = this.trace;
    const step = tickStep(t.duration);
    this.gridPct = (step / Math.max(t.duration, 1e-9)) * 100;
    const ticks = [];
    for (let v = 0; v <= t.duration + 1e-9; v += step) ticks.push(v);
    const axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' },
      ticks.map((v) => h('span', { class: 'wf-tick', style: { left: `${(v / Math.max(t.duration, 1e-9)) * 100}%` } }, v ? formatDuration(v) : '0')));
    this.splitter = h('div', {
      class: 'wf-splitter', role: 'separator', tabindex: '0', 'aria-orientation': 'vertical',
      'aria-label': 'Resize the span name column', 'aria-valuemin': '15', 'aria-valuemax': '70', 'aria-valuenow': '34',
      onpointerdown: (e) => this.dragSplitter(e), onkeydown: (e) => this.keySplitter(e),
    });
    this.rows = h('div', {
      class: 'wf-rows', role: 'tree', 'aria-label': 'Spans, as a tree; arrow keys move, Enter shows details',
      onkeydown: (e) => this.onKey(e), onclick: (e) => this.onClick(e),
    });
    this.root.append(
      h('div', { class: 'wf-head' },
        h('div', { class: 'wf-name-head' }, 'Service · span', this.splitter),
        h('div', { class: 'wf-axis-wrap' }, axis)),
      this.rows);
    for (const s of t.spans) {
      const row = this.row(s);
      this.rowsById.set(s.id, row);
      this.rows.append(row);
    }
    this.update();
  }

  /** One span's row. */
  row(s) {
    const t = this.trace;
    const total = Math.max(t.duration, 1e-9);
    const left = ((s.start - t.start) / total) * 100;
    const width = (s.duration / total) * 100;
    const err = s.status === 'error';
    const color = this.opts.colors.get(s.service);
    const bar = h('div', { class: 'wf-bar', style: { left: `${left}%`, width: `max(2px, ${width}%)`, background: err ? '' : color } },
      (this.segmentsBySpan.get(s.id) || []).map((seg) => h('span', {
        class: 'wf-cp', style: {
          left: `${s.duration ? ((seg.start - s.start) / s.duration) * 100 : 0}%`,
          width: `${s.duration ? ((seg.end - seg.start) / s.duration) * 100 : 100}%`,
        },
      })));
    const events = s.events.map((ev) => h('span', {
      class: ev.name === 'exception' ? 'wf-event wf-event-exception' : 'wf-event',
      style: { left: `${((ev.time - t.start) / total) * 100}%` }, title: `${ev.name} at +${formatDuration(ev.time - t.start)}`,
    }));
    // The timeline keeps a margin on its right for the text after the longest bar.
    const dur = h('span', { class: 'wf-dur', style: { left: `calc(${left + width}% + 6px)` } }, formatDuration(s.duration));
    const label = `${s.service}: ${s.name}, ${formatDuration(s.duration)}${err ? ', error' : ''}${this.opts.critical.ids.has(s.id) ? ', on the critical path' : ''}`;
    return h('div', {
      class: ['wf-row', err && 'wf-error', this.opts.critical.ids.has(s.id) && 'wf-critical'],
      role: 'treeitem', tabindex: '-1', 'aria-level': String(s.depth + 1), 'aria-label': label,
      'aria-selected': 'false', dataset: { spanId: s.id },
    },
      h('div', { class: 'wf-name', style: { paddingLeft: `${6 + s.depth * 14}px` } },
        s.children.length
          ? h('button', { type: 'button', class: 'wf-toggle', tabindex: '-1', 'aria-hidden': 'true', title: 'Collapse or expand (← / →)' })
          : h('span', { class: 'wf-toggle wf-leaf', 'aria-hidden': 'true' }),
        h('span', { class: 'svc-chip', style: { background: color }, 'aria-hidden': 'true' }),
        h('span', { class: 'wf-service' }, s.service),
        h('span', { class: 'wf-op', title: s.name }, s.name),
        err ? h('span', { class: 'wf-err-icon', title: s.statusMessage || 'error', 'aria-hidden': 'true' }, '!') : null,
        h('span', { class: 'wf-hidden-count', 'aria-hidden': 'true' })),
      h('div', { class: 'wf-timeline', style: { backgroundSize: `${this.gridPct}% 100%` } }, bar, events, dur));
  }

  /** Re-applies collapse, selection and focus state to the rows (only what changed). */
  update() {
    const hidden = new Set();
    this.visible = [];
    for (const s of this.trace.spans) {
      const row = this.rowsById.get(s.id);
      const isHidden = !!s.parent && (hidden.has(s.parent.id) || this.collapsed.has(s.parent.id));
      if (isHidden) hidden.add(s.id); else this.visible.push(s.id);
      if (row.hidden !== isHidden) row.hidden = isHidden;
      if (s.children.length) {
        const open = !this.collapsed.has(s.id);
        if (row.getAttribute('aria-expanded') !== String(open)) {
          row.setAttribute('aria-expanded', String(open));
          row.querySelector('.wf-hidden-count').textContent = open ? '' : `+${countDescendants(s)}`;
        }
      }
    }
    if (this.focusId && hidden.has(this.focusId)) {
      let s = this.trace.byId.get(this.focusId);
      while (s.parent && hidden.has(s.id)) s = s.parent;
      this.focusId = s.id;
    }
    this.mark('aria-selected', this.selectedId);
    this.moveTabStop(this.focusId);
    this.root.classList.toggle('wf-no-critical', !this.showCritical);
  }

  /** Sets `attr`="true" on the row of `id` only (the previous one goes back to "false"). */
  mark(attr, id) {
    this.rows.querySelectorAll(`[${attr}="true"]`).forEach((r) => { if (r.dataset.spanId !== id) r.setAttribute(attr, 'false'); });
    if (id && this.rowsById.get(id)) this.rowsById.get(id).setAttribute(attr, 'true');
  }

  /** The one row in the tab order (roving tabindex). */
  moveTabStop(id) {
    if (this.tabStop && this.tabStop !== id) this.rowsById.get(this.tabStop).tabIndex = -1;
    this.tabStop = id;
    if (id) this.rowsById.get(id).tabIndex = 0;
  }

  visibleIds() {
    return this.visible;
  }

  focus(id) {
    this.focusId = id;
    this.moveTabStop(id);
    const row = this.rowsById.get(id);
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  /** Selects a span (null: none) and tells the page. */
  select(id, { notify = true, focus = false } = {}) {
    this.selectedId = id;
    if (id) {
      let p = this.trace.byId.get(id)?.parent;
      while (p) { this.collapsed.delete(p.id); p = p.parent; }
      this.focusId = id;
    }
    this.update();
    if (id && focus) this.focus(id);
    else if (id) this.rowsById.get(id)?.scrollIntoView({ block: notify ? 'nearest' : 'center' });
    if (notify) this.opts.onSelect(id ? this.trace.byId.get(id) : null);
  }

  toggle(id, open) {
    const s = this.trace.byId.get(id);
    if (!s || !s.children.length) return;
    const isOpen = !this.collapsed.has(id);
    if (open === undefined) open = !isOpen;
    if (open) this.collapsed.delete(id); else this.collapsed.add(id);
    this.update();
  }

  /** Expands (true) or collapses (false) every span with children. */
  setAll(open) {
    this.collapsed.clear();
    if (!open) for (const s of this.trace.spans) if (s.children.length && s.parent) this.collapsed.add(s.id);
    this.update();
  }

  setCritical(on) {
    this.showCritical = on;
    this.update();
  }

  onClick(e) {
    const row = e.target.closest('.wf-row');
    if (!row) return;
    const id = row.dataset.spanId;
    if (e.target.closest('.wf-toggle')) {
      this.focusId = id;
      this.toggle(id);
      row.focus();
      return;
    }
    this.focusId = id;
    this.select(id === this.selectedId ? null : id);
    row.focus();
  }

  onKey(e) {
    const row = e.target.closest('.wf-row');
    if (!row || e.altKey || e.ctrlKey || e.metaKey) return;
    const id = row.dataset.spanId;
    const s = this.trace.byId.get(id);
    const vis = this.visibleIds();
    const i = vis.indexOf(id);
    const go = (target) => { if (target) this.focus(target); };
    const moves = {
      ArrowDown: () => go(vis[i + 1]),
      ArrowUp: () => go(vis[i - 1]),
      Home: () => go(vis[0]),
      End: () => go(vis[vis.length - 1]),
      PageDown: () => go(vis[Math.min(vis.length - 1, i + 10)]),
      PageUp: () => go(vis[Math.max(0, i - 10)]),
      ArrowRight: () => {
        if (s.children.length && this.collapsed.has(id)) this.toggle(id, true);
        else if (s.children.length) go(s.children[0].id);
      },
      ArrowLeft: () => {
        if (s.children.length && !this.collapsed.has(id)) this.toggle(id, false);
        else if (s.parent) go(s.parent.id);
      },
      Enter: () => this.select(id),
      ' ': () => this.select(id),
      Escape: () => this.select(null),
    };
    const fn = moves[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
  }

  setNameWidth(pct) {
    const v = Math.max(15, Math.min(70, pct));
    this.root.style.setProperty('--wf-name', `${v}%`);
    this.splitter.setAttribute('aria-valuenow', String(Math.round(v)));
  }

  dragSplitter(e) {
    e.preventDefault();
    const rect = this.root.getBoundingClientRect();
    const move = (ev) => this.setNameWidth(((ev.clientX - rect.left) / rect.width) * 100);
    const up = () => { window.removeEventListener('pointermove', move); window.removeEventListener('pointerup', up); };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }

  keySplitter(e) {
    const now = Number(this.splitter.getAttribute('aria-valuenow'));
    if (e.key === 'ArrowLeft') this.setNameWidth(now - 2);
    else if (e.key === 'ArrowRight') this.setNameWidth(now + 2);
    else return;
    e.preventDefault();
  }

  destroy() {
    clear(this.root);
    this.root.remove();
  }
}

function countDescendants(s) {
  let n = 0;
  for (const c of s.children) n += 1 + countDescendants(c);
  return n;
}
