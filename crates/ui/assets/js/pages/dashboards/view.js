/**
 * One dashboard (/ui/dashboards/<id>, or /ui/dashboards/new for a draft):
 * the variables bar, the 24-column grid of panels, and edit mode (add,
 * edit, duplicate, reorder, remove panels; settings; save; save as).
 * URL state: `var-<name>` (repeatable), `edit=1`.
 * @module pages/dashboards/view
 */
import { h, clear, notice } from '../../lib/dom.js';
import { PanelView } from './panels.js';
import { editPanel } from './panel-editor.js';
import { editSettings } from './settings.js';
import { confirmDialog, promptDialog, exportDialog } from './dialogs.js';
import { VariableState, renderVariablesBar } from './variables.js';
import {
  normalizeDashboard, newDashboard, newPanel, nextPanelId, packLayout, slugify, uniqueId, PANEL_TYPES,
} from './model.js';

/**
 * Mounts the dashboard view.
 * @param {HTMLElement} root
 * @param {object} ctx the page context
 * @param {string} id the dashboard's id, or 'new'
 * @returns {{refresh: Function, unmount: Function}}
 */
export function mountView(root, ctx, id) {
  const v = new DashboardView(root, ctx, id);
  v.load();
  return { refresh: () => v.refresh(), unmount: () => v.destroy() };
}

class DashboardView {
  constructor(root, ctx, id) {
    this.root = root;
    this.ctx = ctx;
    this.id = id;
    this.isNew = id === 'new';
    this.dash = null;
    this.saved = null;        // JSON text of the stored version
    this.views = new Map();   // panel id → {view, key, actions}
    this.vars = null;
    this.controller = null;
    this.tenant = ctx.tenant();
    this.editing = ctx.params.get('edit') === '1';
    this.toolbar = h('div', { class: 'toolbar dash-toolbar' });
    this.messages = h('div', { class: 'dash-messages' });
    this.varBar = h('div', { class: 'dash-vars', role: 'group', 'aria-label': 'Variables', hidden: true });
    this.grid = h('div', { class: 'dash-grid' });
    this.onBeforeUnload = (e) => { if (this.dirty()) { e.preventDefault(); e.returnValue = ''; } };
    this.onKey = (e) => {
      if (this.editing && (e.ctrlKey || e.metaKey) && e.key === 's' && !document.querySelector('dialog[open]')) {
        e.preventDefault();
        if (this.dirty()) this.save();
      }
    };
    window.addEventListener('beforeunload', this.onBeforeUnload);
    document.addEventListener('keydown', this.onKey);
    root.append(this.toolbar, this.messages, this.varBar, this.grid);
  }

  // ------------------------------------------------------------ loading

  async load() {
    this.loading = true;
    try {
      await this.loadDashboard();
    } finally {
      this.loading = false;
    }
    if (this.ctx.tenant() !== this.tenant && !this.destroyed) this.load(); // switched while loading
  }

  async loadDashboard() {
    this.abort();
    const ctl = (this.controller = new AbortController());
    this.clearViews();
    clear(this.grid); clear(this.messages);
    this.tenant = this.ctx.tenant();
    if (this.isNew) {
      this.setDashboard(newDashboard(), null);
      this.editing = true;
    } else {
      this.renderToolbar(true);
      this.grid.append(h('p', { class: 'loading' }, 'Loading dashboard…'));
      let raw;
      try {
        raw = await this.ctx.api.get(`/ui/api/dashboards/${encodeURIComponent(this.id)}`, {}, {
          signal: ctl.signal,
          // The version read: a save replaces only it (If-Match), not another's save since.
          onHeaders: (hs) => { this.etag = hs.get('ETag'); this.overwrite = false; },
        });
      } catch (e) {
        if (e.name === 'AbortError') return;
        this.showLoadError(e);
        return;
      }
      const { dashboard, dropped } = normalizeDashboard(raw);
      if (dropped.length) this.message('info', `Parts of this dashboard were not understood and are left out: ${dropped.join(', ')}.`);
      this.setDashboard(dashboard, JSON.stringify(dashboard));
    }
    const t = this.dash.time;
    if (t && !this.ctx.params.get('from') && !this.ctx.params.get('to')) this.ctx.time.set(t, { push: false });
    document.title = `${this.dash.title} · Dashboards · Argus`;
    this.vars = new VariableState(this.dash.variables, (n) => this.ctx.params.getAll(`var-${n}`));
    this.renderToolbar();
    this.syncGrid();
    await this.loadVariables(null);
    this.runPanels();
  }

  showLoadError(e) {
    clear(this.grid);
    this.renderToolbar(true);
    const tenant = this.ctx.tenant() ? `tenant “${this.ctx.tenant()}”` : 'the default tenant';
    const text = e.status === 404
      ? `There is no dashboard “${this.id}” for ${tenant}. It may have been deleted, or belong to another tenant.`
      : `Could not load the dashboard: ${e.message}`;
    this.grid.append(h('div', { class: 'dash-missing' }, notice('error', text)));
  }

  setDashboard(d, savedJson) {
    this.dash = d;
    this.saved = savedJson;
  }

  async loadVariables(after) {
    if (!this.vars || !this.vars.vars.length) { renderVariablesBar(this.varBar, this.vars || { vars: [] }, () => {}); return; }
    let range;
    try { range = this.ctx.time.resolve(); } catch (e) { return; }
    renderVariablesBar(this.varBar, this.vars, (n, vals) => this.selectVariable(n, vals));
    const ctl = this.controller;
    try {
      await this.vars.load(this.ctx.api, range, ctl.signal, after);
    } catch (e) {
      if (e.name === 'AbortError') return;
      throw e;
    }
    if (ctl.signal.aborted) return;
    renderVariablesBar(this.varBar, this.vars, (n, vals) => this.selectVariable(n, vals));
    this.ctx.params.set(this.vars.urlParams());
  }

  async selectVariable(name, values) {
    this.vars.select(name, values);
    this.ctx.params.set(this.vars.urlParams(), { push: true });
    await this.loadVariables(name);
    this.runPanels();
  }

  /** Called by the shell: new range, tenant, or the refresh button. */
  async refresh() {
    if (this.loading) return; // load() runs the panels with the new range itself
    if (this.ctx.tenant() !== this.tenant || !this.dash) { this.load(); return; }
    this.abort();
    this.controller = new AbortController();
    await this.loadVariables(null);
    this.runPanels();
  }

  runPanels() {
    let range;
    try {
      range = this.ctx.time.resolve();
    } catch (e) {
      this.message('error', `Time range: ${e.message}`, 'range');
      return;
    }
    this.messages.querySelectorAll('[data-key=range]').forEach((n) => n.remove());
    for (const { view } of this.views.values()) view.run(range, (step) => this.vars.resolver(range, step));
  }

  runPanel(view) {
    let range;
    try { range = this.ctx.time.resolve(); } catch (e) { return; }
    view.run(range, (step) => this.vars.resolver(range, step));
  }

  // ------------------------------------------------------------ grid

  /** Lays out the panels and (re)creates the views whose panel changed. */
  syncGrid() {
    packLayout(this.dash.panels);
    const seen = new Set();
    const fresh = [];
    for (const p of this.dash.panels) {
      const key = JSON.stringify({ ...p, gridPos: { w: p.gridPos.w, h: p.gridPos.h } });
      seen.add(p.id);
      let entry = this.views.get(p.id);
      if (entry && entry.key !== key) { entry.view.destroy(); entry = null; }
      if (!entry) {
        const actions = h('span', { class: 'dash-panel-actions' });
        const view = new PanelView(p, {
          api: this.ctx.api, href: this.ctx.href, actions: [actions],
          onZoom: (s, e) => this.ctx.time.set({ from: String(Math.round(s)), to: String(Math.round(e)) }),
        });
        entry = { view, key, actions };
        this.views.set(p.id, entry);
        fresh.push(view);
      }
      entry.view.panel = p;
      const { x, y, w, h: ht } = p.gridPos;
      Object.assign(entry.view.el.style, { gridColumn: `${x + 1} / span ${w}`, gridRow: `${y + 1} / span ${ht}` });
      entry.view.el.style.setProperty('--h', String(ht));
      this.fillActions(entry, p);
    }
    for (const [pid, entry] of this.views) if (!seen.has(pid)) { entry.view.destroy(); this.views.delete(pid); }
    clear(this.grid);
    for (const p of this.dash.panels) this.grid.append(this.views.get(p.id).view.el);
    if (!this.dash.panels.length) this.grid.append(this.emptyState());
    this.grid.classList.toggle('is-editing', this.editing);
    return fresh;
  }

  emptyState() {
    return h('div', { class: 'dash-empty dash-empty-grid' },
      h('h2', {}, 'This dashboard has no panels yet'),
      this.editing
        ? h('div', { class: 'toolbar' }, ...Object.entries(PANEL_TYPES).map(([type, t]) => h('button', { type: 'button', onClick: () => this.addPanel(type) }, `+ ${t.label}`)))
        : h('button', { type: 'button', class: 'primary', onClick: () => this.setEditing(true) }, 'Edit to add panels'));
  }

  fillActions(entry, p) {
    clear(entry.actions);
    if (!this.editing) return;
    const name = p.title || 'untitled panel';
    const i = this.dash.panels.indexOf(p);
    const btn = (label, aria, fn, props = {}) => h('button', { type: 'button', class: 'icon-button', 'aria-label': `${aria} ${name}`, title: aria, onClick: fn, ...props }, label);
    entry.actions.append(
      btn('✎', 'Edit', () => this.editPanel(p), { class: 'icon-button dash-edit-panel' }),
      btn('←', 'Move earlier', () => this.movePanel(p, -1), { disabled: i === 0 }),
      btn('→', 'Move later', () => this.movePanel(p, 1), { disabled: i === this.dash.panels.length - 1 }),
      btn('❐', 'Duplicate', () => this.duplicatePanel(p)),
      btn('✕', 'Remove', () => this.removePanel(p), { class: 'icon-button danger' }));
  }

  /** Re-lays out after an edit and runs the panels that are new or changed. */
  changed() {
    const fresh = this.syncGrid();
    for (const v of fresh) this.runPanel(v);
    this.renderToolbar();
  }

  clearViews() {
    for (const { view } of this.views.values()) view.destroy();
    this.views.clear();
  }

  // ------------------------------------------------------------ editing

  setEditing(on) {
    this.editing = on;
    this.ctx.params.set({ edit: on ? '1' : null });
    this.renderToolbar();
    this.syncGrid();
  }

  panelEnv(extra) {
    return {
      api: this.ctx.api, href: this.ctx.href,
      range: () => this.ctx.time.resolve(),
      variables: () => this.dash.variables.map((x) => x.name),
      resolverFor: (step) => { let r; try { r = this.ctx.time.resolve(); } catch (e) { r = null; } return this.vars.resolver(r, step); },
      ...extra,
    };
  }

  addPanel(type = 'timeseries') {
    const p = newPanel(type, nextPanelId(this.dash.panels));
    editPanel(p, this.panelEnv({ isNew: true, onApply: (np) => { this.dash.panels.push(np); this.changed(); } }));
  }

  editPanel(p) {
    editPanel(p, this.panelEnv({
      onApply: (np) => {
        const i = this.dash.panels.indexOf(p);
        if (i >= 0) this.dash.panels[i] = np;
        this.changed();
      },
    }));
  }

  movePanel(p, delta) {
    const a = this.dash.panels, i = a.indexOf(p), j = i + delta;
    if (i < 0 || j < 0 || j >= a.length) return;
    [a[i], a[j]] = [a[j], a[i]];
    this.changed();
    const entry = this.views.get(p.id);
    const target = entry && entry.actions.querySelector(`[title="${delta < 0 ? 'Move earlier' : 'Move later'}"]:not([disabled])`);
    if (target) target.focus();
  }

  duplicatePanel(p) {
    const copy = JSON.parse(JSON.stringify(p));
    copy.id = nextPanelId(this.dash.panels);
    copy.title = p.title ? `${p.title} (copy)` : '';
    this.dash.panels.splice(this.dash.panels.indexOf(p) + 1, 0, copy);
    this.changed();
  }

  removePanel(p) {
    this.dash.panels = this.dash.panels.filter((x) => x !== p);
    this.changed();
  }

  openSettings() {
    editSettings(this.dash, {
      currentRange: this.ctx.time.get(),
      onApply: async (c) => {
        this.dash.title = c.title;
        if (c.description) this.dash.description = c.description; else delete this.dash.description;
        if (c.time) this.dash.time = c.time; else delete this.dash.time;
        const before = JSON.stringify(this.dash.variables);
        this.dash.variables = c.variables;
        // Keep key order stable (title, version, description, time, variables, panels).
        this.dash = normalizeDashboard(this.dash).dashboard;
        this.renderToolbar();
        this.syncGrid();
        if (JSON.stringify(this.dash.variables) !== before) {
          this.vars = new VariableState(this.dash.variables, (n) => this.ctx.params.getAll(`var-${n}`));
          await this.loadVariables(null);
          this.runPanels();
        }
      },
    });
  }

  dirty() {
    return !!this.dash && (this.saved === null || JSON.stringify(this.dash) !== this.saved);
  }

  /** The dashboard to store: the current variable selections become the defaults. */
  toStore() {
    const d = JSON.parse(JSON.stringify(this.dash));
    if (this.vars) {
      for (const v of d.variables) {
        const s = this.vars.state.get(v.name);
        if (s && !s.loading) v.current = [...s.selected];
      }
    }
    return d;
  }

  async save() {
    if (this.isNew) { await this.saveAs(); return; }
    clear(this.messages);
    const d = this.toStore();
    const cond = this.etag && !this.overwrite ? { 'If-Match': this.etag } : {};
    try {
      await this.ctx.api.sendJson('PUT', `/ui/api/dashboards/${encodeURIComponent(this.id)}`, d, {
        headers: cond,
        onHeaders: (hs) => { this.etag = hs.get('ETag'); this.overwrite = false; },
      });
    } catch (e) {
      if (e.status === 412) {
        // Someone saved it since it was read: say so; a second Save overwrites.
        this.overwrite = true;
        this.message('error', 'Someone else saved this dashboard since you opened it. Reload the page to see their version, or press Save again to replace it with yours.');
        return;
      }
      this.message('error', `Could not save: ${e.message}`);
      return;
    }
    this.dash = d;
    this.saved = JSON.stringify(d);
    this.syncGrid();
    this.renderToolbar();
    this.message('ok', 'Saved.', 'saved', 3000);
  }

  async saveAs() {
    let taken = [];
    try { taken = (await this.ctx.api.data(this.ctx.api.get('/ui/api/dashboards'))).map((x) => x.id); } catch (e) { /* the PUT will tell */ }
    const idFor = (t) => uniqueId(slugify(t), taken);
    const title = await promptDialog({
      title: this.isNew ? 'Save dashboard' : 'Save as a new dashboard', label: 'Title', confirm: 'Save',
      value: this.isNew ? this.dash.title : `${this.dash.title} (copy)`,
      hint: (t) => `It will be saved as /ui/dashboards/${idFor(t || 'dashboard')}`,
      validate: (t) => (t ? '' : 'Give the dashboard a title.'),
    });
    if (title === null) return;
    const id = idFor(title);
    const d = { ...this.toStore(), title };
    try {
      await this.ctx.api.sendJson('PUT', `/ui/api/dashboards/${id}`, d, { headers: { 'If-None-Match': '*' } });
    } catch (e) {
      this.message('error', `Could not save: ${e.message}`);
      return;
    }
    this.saved = JSON.stringify(this.dash); // nothing left unsaved here: the copy has it
    const params = { ...this.vars.urlParams() };
    if (this.editing) params.edit = 1;
    this.ctx.navigate(this.ctx.href(`/ui/dashboards/${id}`, params), { replace: this.isNew });
  }

  async exitEdit() {
    if (this.dirty() && !this.isNew) {
      const ok = await confirmDialog({ title: 'Discard changes?', message: 'The changes made since the last save will be lost.', confirm: 'Discard changes', danger: true });
      if (!ok) return;
      this.setDashboard(JSON.parse(this.saved), this.saved);
      this.clearViews();
      this.editing = false;
      this.ctx.params.set({ edit: null });
      this.vars = new VariableState(this.dash.variables, (n) => this.ctx.params.getAll(`var-${n}`));
      this.renderToolbar();
      this.syncGrid();
      await this.loadVariables(null);
      this.runPanels();
      return;
    }
    if (this.isNew) {
      if (this.dash.panels.length && !(await confirmDialog({ title: 'Discard this dashboard?', message: 'It has not been saved yet.', confirm: 'Discard', danger: true }))) return;
      this.saved = JSON.stringify(this.dash); // no "leave the page?" prompt
      this.ctx.navigate(this.ctx.href('/ui/dashboards'));
      return;
    }
    this.setEditing(false);
  }

  // ------------------------------------------------------------ chrome

  renderToolbar(bare = false) {
    clear(this.toolbar);
    const back = h('a', { class: 'dash-back', href: this.ctx.href('/ui/dashboards') }, '← Dashboards');
    if (bare || !this.dash) { this.toolbar.append(back); return; }
    const dirty = this.dirty();
    const b = (label, fn, props = {}) => h('button', { type: 'button', onClick: fn, ...props }, label);
    this.toolbar.append(back,
      h('h1', { class: 'dash-title', title: this.dash.description || null }, this.dash.title),
      ...[this.editing ? h('span', { class: 'badge warn dash-mode' }, 'Editing') : null,
        dirty ? h('span', { class: 'badge dash-unsaved', role: 'status' }, '● Unsaved changes') : null].filter(Boolean),
      h('span', { class: 'grow' }));
    if (this.editing) {
      this.toolbar.append(
        b('+ Add panel', () => this.addPanel(), { class: 'dash-add-panel' }),
        b('Settings', () => this.openSettings(), { class: 'dash-settings-button' }),
        ...(this.isNew ? [] : [b('Save as…', () => this.saveAs())]),
        b(dirty && !this.isNew ? 'Discard' : 'Exit edit', () => this.exitEdit()),
        b('Save', () => this.save(), { class: 'primary dash-save', disabled: !dirty, title: 'Save (Ctrl+S)' }));
    } else {
      this.toolbar.append(
        b('Export', () => exportDialog(this.toStore(), this.id), { class: 'dash-export' }),
        b('Save as…', () => this.saveAs()),
        b('Edit', () => this.setEditing(true), { class: 'primary dash-edit' }));
    }
  }

  message(kind, text, key = '', ttl = 0) {
    if (key) this.messages.querySelectorAll(`[data-key="${key}"]`).forEach((n) => n.remove());
    const n = notice(kind === 'ok' ? 'info' : kind, text);
    n.classList.add(`dash-message-${kind}`);
    if (key) n.dataset.key = key;
    n.append(h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', onClick: () => n.remove() }, '✕'));
    this.messages.append(n);
    if (ttl) setTimeout(() => n.remove(), ttl);
  }

  abort() {
    if (this.controller) this.controller.abort();
  }

  destroy() {
    this.destroyed = true;
    this.abort();
    this.clearViews();
    window.removeEventListener('beforeunload', this.onBeforeUnload);
    document.removeEventListener('keydown', this.onKey);
    document.querySelectorAll('dialog.dash-dialog').forEach((d) => { d.close(); d.remove(); });
  }
}
