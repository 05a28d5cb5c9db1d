/**
 * The list of the tenant's dashboards (/ui/dashboards): open, create,
 * import (Argus or Grafana JSON), export and delete.
 * @module pages/dashboards/list
 */
import { h, clear, notice } from '../../lib/dom.js';
import { openDialog, confirmDialog, exportDialog } from './dialogs.js';
import { normalizeDashboard, slugify, uniqueId } from './model.js';
import { isGrafana, convertGrafana } from './grafana.js';

/**
 * Mounts the list view.
 * @param {HTMLElement} root
 * @param {object} ctx the page context
 */
export function mountList(root, ctx) {
  let items = [];
  let controller = null;
  const filter = h('input', { type: 'search', placeholder: 'Filter by title or id', 'aria-label': 'Filter dashboards', value: ctx.params.get('filter') || '' });
  const body = h('div', { class: 'dash-list-body' });
  const count = h('span', { class: 'hint' });
  filter.addEventListener('input', () => { ctx.params.set({ filter: filter.value }); draw(); });

  root.append(
    h('div', { class: 'toolbar dash-list-toolbar' },
      h('h1', {}, 'Dashboards'), count, h('span', { class: 'grow' }), filter,
      h('button', { type: 'button', class: 'dash-import-button', onClick: () => importDialog(ctx, items) }, 'Import…'),
      h('a', { class: 'button primary', href: ctx.href('/ui/dashboards/new', { edit: 1 }) }, '+ New dashboard')),
    h('div', { class: 'panel dash-list-panel' }, body));

  async function load() {
    if (controller) controller.abort();
    const ctl = (controller = new AbortController());
    clear(body);
    body.append(h('p', { class: 'loading' }, 'Loading dashboards…'));
    try {
      items = await ctx.api.data(ctx.api.get('/ui/api/dashboards', {}, { signal: ctl.signal }));
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(body);
      body.append(notice('error', `Could not list the dashboards: ${e.message}`));
      return;
    }
    items.sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id));
    draw();
  }

  function draw() {
    clear(body);
    const f = filter.value.trim().toLowerCase();
    const shown = items.filter((d) => !f || d.title.toLowerCase().includes(f) || d.id.includes(f));
    count.textContent = items.length ? `${items.length} dashboard${items.length === 1 ? '' : 's'}` : '';
    if (!items.length) {
      body.append(h('div', { class: 'dash-empty' },
        h('h2', {}, 'No dashboards yet'),
        h('p', {}, 'A dashboard groups metrics, logs and traces panels over one time range, with variables to switch between label values. Dashboards are saved per tenant.'),
        h('div', { class: 'toolbar' },
          h('a', { class: 'button primary', href: ctx.href('/ui/dashboards/new', { edit: 1 }) }, '+ New dashboard'),
          h('button', { type: 'button', onClick: () => importDialog(ctx, items) }, 'Import a Grafana or Argus dashboard…'))));
      return;
    }
    if (!shown.length) { body.append(notice('empty', `No dashboard matches “${filter.value}”.`)); return; }
    body.append(h('table', { class: 'data dash-list' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Title'), h('th', {}, 'ID'), h('th', { class: 'num' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, shown.map((d) => h('tr', { dataset: { id: d.id } },
        h('td', {}, h('a', { class: 'dash-list-title', href: ctx.href(`/ui/dashboards/${encodeURIComponent(d.id)}`) }, d.title || d.id)),
        h('td', { class: 'mono hint' }, d.id),
        h('td', { class: 'num dash-list-actions' },
          h('button', { type: 'button', onClick: () => exportOne(d), 'aria-label': `Export ${d.title}` }, 'Export'),
          h('button', { type: 'button', class: 'danger', onClick: () => remove(d), 'aria-label': `Delete ${d.title}` }, 'Delete')))))));
  }

  async function exportOne(d) {
    try {
      const json = await ctx.api.get(`/ui/api/dashboards/${encodeURIComponent(d.id)}`);
      exportDialog(json, d.id);
    } catch (e) {
      body.prepend(notice('error', `Could not read “${d.title}”: ${e.message}`));
    }
  }

  async function remove(d) {
    const ok = await confirmDialog({
      title: 'Delete dashboard?', confirm: 'Delete', danger: true,
      message: `“${d.title}” (${d.id}) will be deleted for every user of ${ctx.tenant() ? `tenant “${ctx.tenant()}”` : 'the default tenant'}. This cannot be undone.`,
    });
    if (!ok) return;
    try {
      await ctx.api.request('DELETE', `/ui/api/dashboards/${encodeURIComponent(d.id)}`);
      items = items.filter((x) => x.id !== d.id);
      draw();
    } catch (e) {
      body.prepend(notice('error', `Could not delete “${d.title}”: ${e.message}`));
    }
  }

  load();
  return { refresh: load, unmount: () => controller && controller.abort() };
}

/** Parses pasted text into {dashboard, source, skipped} or throws. */
function parseImport(text) {
  let json;
  try { json = JSON.parse(text); } catch (e) { throw new Error(`This is not valid JSON: ${e.message}`); }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('A dashboard is a JSON object.');
  if (isGrafana(json)) {
    const r = convertGrafana(json);
    return { dashboard: r.dashboard, source: 'Grafana', converted: r.converted, skipped: r.skipped };
  }
  if (typeof json.title !== 'string' || !Array.isArray(json.panels)) throw new Error('This is neither an Argus dashboard (title, panels) nor a Grafana one.');
  const r = normalizeDashboard(json);
  return { dashboard: r.dashboard, source: 'Argus', converted: r.dashboard.panels.length, skipped: r.dropped.map((x) => `${x}: not understood`) };
}

/** The import dialog: paste or pick a file, see what converts, save. */
function importDialog(ctx, items) {
  let parsed = null;
  const area = h('textarea', { class: 'dash-json', rows: 12, id: 'dash-import-text', spellcheck: 'false', placeholder: 'Paste a Grafana dashboard JSON (Share → Export) or an Argus one here' });
  const file = h('input', { type: 'file', id: 'dash-import-file', accept: '.json,application/json' });
  const title = h('input', { type: 'text', id: 'dash-import-title', autocomplete: 'off' });
  const summary = h('div', { class: 'dash-import-summary', 'aria-live': 'polite' });
  const err = h('div', { class: 'field-error', role: 'alert' });
  const go = h('button', { type: 'button', class: 'primary', disabled: true, onClick: save }, 'Import');

  function check() {
    clear(summary); err.textContent = ''; parsed = null; go.disabled = true;
    if (!area.value.trim()) return;
    try { parsed = parseImport(area.value); } catch (e) { err.textContent = e.message; return; }
    title.value = parsed.dashboard.title;
    go.disabled = false;
    const d = parsed.dashboard;
    summary.append(...[
      h('p', {}, h('strong', {}, `${parsed.source} dashboard “${d.title}”: `),
        `${d.panels.length} panel${d.panels.length === 1 ? '' : 's'}, ${d.variables.length} variable${d.variables.length === 1 ? '' : 's'}.`),
      h('ul', { class: 'dash-import-panels' }, d.panels.map((p) => h('li', { dataset: { type: p.type } },
        h('span', { class: 'badge' }, p.type), ' ', p.title || 'Untitled',
        h('span', { class: 'hint' }, ` — ${p.queries.length} quer${p.queries.length === 1 ? 'y' : 'ies'}`)))),
      d.variables.length ? h('p', { class: 'hint' }, 'Variables: ', d.variables.map((v) => `$${v.name}`).join(', ')) : null,
      parsed.skipped.length ? h('div', { class: 'notice dash-import-skipped' },
        h('strong', {}, `Skipped (${parsed.skipped.length}):`),
        h('ul', {}, parsed.skipped.map((s) => h('li', {}, s)))) : null].filter(Boolean));
  }

  async function save() {
    if (!parsed) return;
    const t = title.value.trim() || parsed.dashboard.title;
    const dash = { ...parsed.dashboard, title: t };
    go.disabled = true;
    try {
      const list = await ctx.api.data(ctx.api.get('/ui/api/dashboards'));
      const id = uniqueId(slugify(t), list.map((x) => x.id));
      await ctx.api.sendJson('PUT', `/ui/api/dashboards/${id}`, dash, { headers: { 'If-None-Match': '*' } });
      d.close();
      ctx.navigate(ctx.href(`/ui/dashboards/${id}`));
    } catch (e) {
      err.textContent = `Could not import: ${e.message}`;
      go.disabled = false;
    }
  }

  area.addEventListener('input', check);
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    area.value = await f.text();
    check();
  });
  const d = openDialog({
    title: 'Import a dashboard', className: 'dash-dialog-wide dash-import',
    body: [
      h('div', { class: 'dash-field' }, h('label', { for: 'dash-import-text' }, 'Dashboard JSON'), area),
      h('div', { class: 'dash-field' }, h('label', { for: 'dash-import-file' }, 'Or choose a file'), file),
      summary,
      h('div', { class: 'dash-field' }, h('label', { for: 'dash-import-title' }, 'Title'), title),
      h('p', { class: 'hint' }, 'Grafana panels with Prometheus or Loki queries (time series, graph, stat, gauge, table, logs) and label_values variables are converted; the rest is listed above and left out.')],
    actions: [err, h('span', { class: 'grow' }), h('button', { type: 'button', onClick: () => d.close() }, 'Cancel'), go],
  });
  area.focus();
  return d;
}
