// Dashboards: build a dashboard in the UI (a time series of ui_queue_depth,
// a stat, a logs panel, a `queue` variable from label values), save it,
// reload, switch the variable, check what the server stored, zoom, export,
// import a Grafana dashboard, delete both, and open a deleted one (404).

const check = (cond, msg) => { if (!cond) throw new Error(msg); };

/** A small Grafana dashboard: a Prometheus time series, a Loki logs panel, a query variable, a text panel. */
function grafanaDashboard() {
  return {
    __inputs: [{ name: 'DS_PROM', type: 'datasource', pluginId: 'prometheus' }],
    title: 'Grafana queues', uid: 'gq1', schemaVersion: 39, time: { from: 'now-2h', to: 'now' },
    templating: {
      list: [
        {
          type: 'query', name: 'q', label: 'Queue', datasource: { type: 'prometheus', uid: '${DS_PROM}' },
          query: { query: 'label_values(ui_queue_depth, queue)', refId: 'A' }, multi: true, includeAll: true,
          current: { text: 'All', value: ['$__all'] },
        },
        { type: 'interval', name: 'iv', query: '1m,5m' },
      ],
    },
    panels: [
      { type: 'row', title: 'Overview', collapsed: false, gridPos: { x: 0, y: 0, w: 24, h: 1 }, panels: [] },
      {
        type: 'timeseries', title: 'Depth by queue', gridPos: { x: 0, y: 1, w: 16, h: 8 },
        datasource: { type: 'prometheus', uid: '${DS_PROM}' },
        targets: [{ refId: 'A', expr: 'ui_queue_depth{queue=~"$q"}', legendFormat: 'queue {{queue}}' }],
        fieldConfig: { defaults: { custom: { stacking: { mode: 'normal' } } } },
      },
      { type: 'text', title: 'Read me', gridPos: { x: 16, y: 1, w: 8, h: 8 }, options: { content: 'hello' } },
      {
        type: 'logs', title: 'Cart logs', gridPos: { x: 0, y: 9, w: 24, h: 8 },
        datasource: { type: 'loki', uid: 'loki1' },
        targets: [{ refId: 'A', expr: '{service="cart"}' }],
      },
    ],
  };
}

async function api(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p);
    return { status: r.status, body: r.ok ? await r.json() : await r.text() };
  }, path);
}

async function fillEditor(dialog, text, index = 0) {
  const ta = dialog.locator('.dash-query textarea.qe-input').nth(index);
  await ta.fill(text);
}

async function addPanel(page, { type, title, expr, legend }) {
  await page.locator('.dash-toolbar .dash-add-panel').click();
  const dialog = page.locator('dialog.dash-panel-editor');
  await dialog.waitFor();
  await dialog.getByLabel('Title').fill(title);
  await dialog.getByLabel('Type', { exact: true }).selectOption(type);
  await fillEditor(dialog, expr);
  if (legend) await dialog.getByLabel('Query A legend').fill(legend);
  await dialog.getByRole('button', { name: 'Run queries' }).click();
  await dialog.locator('.dash-editor-preview .dash-panel:not(.is-loading)').waitFor();
  return dialog;
}

async function panelStatus(page, type) {
  const panel = page.locator(`.dash-grid .dash-panel[data-type=${type}]`).first();
  await panel.locator('xpath=self::*[not(contains(@class,"is-loading"))]').waitFor();
  return (await panel.locator('.dash-panel-status').textContent()).trim();
}

async function waitStatus(page, type, want, what) {
  const panel = page.locator(`.dash-grid .dash-panel[data-type=${type}]`).first();
  try {
    await panel.locator('.dash-panel-status', { hasText: want }).waitFor({ timeout: 10_000 });
  } catch (e) {
    throw new Error(`${what}: expected "${want}", the panel says "${await panel.locator('.dash-panel-status').textContent()}" ${await panel.locator('.dash-panel-body').textContent()}`);
  }
}

/** Reorders, duplicates, removes and resizes panels in edit mode. */
async function editLayout(t) {
  const { page } = t;
  const order = async () => (await page.locator('.dash-grid .dash-panel h3').allTextContents()).join(' | ');
  const button = (name) => page.getByRole('button', { name, exact: true });
  await button('Move earlier Total depth').click();
  check(await order() === 'Total depth | Queue depth | Checkout logs', `after moving the stat earlier: ${await order()}`);
  await button('Move later Total depth').click();
  check(await order() === 'Queue depth | Total depth | Checkout logs', `after moving it back: ${await order()}`);
  await button('Duplicate Checkout logs').click();
  check(await order() === 'Queue depth | Total depth | Checkout logs | Checkout logs (copy)', `after duplicating: ${await order()}`);
  await button('Remove Checkout logs (copy)').click();
  check(await order() === 'Queue depth | Total depth | Checkout logs', `after removing the copy: ${await order()}`);
  // The stat to a quarter of the width, 4 rows high.
  await button('Edit Total depth').click();
  const dialog = page.locator('dialog.dash-panel-editor');
  await dialog.getByRole('button', { name: '¼' }).click();
  await dialog.getByLabel('Height (rows)').fill('4');
  await dialog.getByRole('button', { name: 'Apply' }).click();
  const col = await page.locator('.dash-grid .dash-panel[data-type=stat]').evaluate((el) => getComputedStyle(el).gridColumnEnd);
  check(col === 'span 6', `the stat spans 6 of 24 columns: ${col}`);
  const logs = await page.locator('.dash-grid .dash-panel[data-type=logs]').boundingBox();
  const ts = await page.locator('.dash-grid .dash-panel[data-type=timeseries]').boundingBox();
  check(logs.y >= ts.y + ts.height, 'the logs panel goes below the time series');
}

async function createDashboard(t, title) {
  const { page } = t;
  await page.goto(t.url('/ui/dashboards'));
  await page.locator('.dash-list-body :is(table, .dash-empty)').first().waitFor();
  await t.shot('list');
  await page.locator('.dash-list-toolbar').getByRole('link', { name: '+ New dashboard' }).click();
  await page.locator('.dash-toolbar h1', { hasText: 'New dashboard' }).waitFor();
  check(new URL(page.url()).searchParams.get('edit') === '1', `a new dashboard opens in edit mode: ${page.url()}`);

  // Settings: title and the variable.
  await page.locator('.dash-settings-button').click();
  const settings = page.locator('dialog.dash-settings');
  await settings.getByLabel('Title', { exact: true }).fill(title);
  await settings.getByRole('button', { name: '+ Add variable' }).click();
  const row = settings.locator('fieldset.dash-var-row').first();
  await row.getByLabel('Name').fill('queue');
  await row.getByLabel('Query').fill('label_values(ui_queue_depth, queue)');
  await row.getByLabel('Several values can be selected').check();
  await row.getByLabel('Offer “All”').check();
  await settings.getByRole('button', { name: 'Apply' }).click();
  await settings.waitFor({ state: 'detached' });
  const varButton = page.locator('.dash-vars .dash-var[data-var=queue] button.dash-multi-button');
  await varButton.locator('.dash-multi-text', { hasText: 'All' }).waitFor();

  // Panels.
  let dialog = await addPanel(page, { type: 'timeseries', title: 'Queue depth', expr: 'ui_queue_depth{queue=~"$queue"}', legend: '{{queue}}' });
  const prev = (await dialog.locator('.dash-editor-preview .dash-panel-status').textContent()).trim();
  check(prev === '3 series', `the editor's preview shows 3 series of ui_queue_depth, got "${prev}"`);
  await t.shot('panel-editor');
  await dialog.getByRole('button', { name: 'Add panel' }).click();
  await waitStatus(page, 'timeseries', '3 series', 'timeseries panel with All queues');

  dialog = await addPanel(page, { type: 'stat', title: 'Total depth', expr: 'sum(last_over_time(ui_queue_depth{queue=~"$queue"}[1h]))' });
  await dialog.getByRole('button', { name: 'Add panel' }).click();
  const total = Object.values(t.facts.queues).reduce((a, b) => a + b, 0);
  await page.locator('.dash-grid .dash-panel[data-type=stat] .dash-stat-value', { hasText: String(total) }).waitFor();

  dialog = await addPanel(page, { type: 'logs', title: 'Checkout logs', expr: '{service="checkout"}' });
  await dialog.getByRole('button', { name: 'Add panel' }).click();
  const lines = page.locator('.dash-grid .dash-panel[data-type=logs] .dash-log');
  await lines.first().waitFor();
  const texts = await lines.locator('.dash-log-line').allTextContents();
  check(texts.length === 100, `the logs panel shows its limit of 100 lines, got ${texts.length}`);
  check(texts.every((x) => x.includes('service=checkout')), 'every line of {service="checkout"} is a checkout line');

  await editLayout(t);
  check(await page.locator('.dash-unsaved').isVisible(), 'an unsaved-changes indicator is shown before saving');
  await t.shot('edit-unsaved');
  await page.locator('.dash-toolbar .dash-save').click();
  const prompt = page.locator('dialog.dash-dialog-small');
  await prompt.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL((u) => /\/ui\/dashboards\/(?!new)[\w-]+/.test(u.pathname));
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.locator('.dash-toolbar h1', { hasText: title }).waitFor();
  check(!(await page.locator('.dash-unsaved').count()), 'no unsaved indicator after saving');
  return id;
}

async function checkReload(t, id, title) {
  const { page } = t;
  await page.reload();
  await page.locator('.dash-toolbar h1', { hasText: title }).waitFor();
  const titles = await page.locator('.dash-grid .dash-panel h3').allTextContents();
  check(JSON.stringify(titles) === JSON.stringify(['Queue depth', 'Total depth', 'Checkout logs']), `panels after reload: ${JSON.stringify(titles)}`);
  await waitStatus(page, 'timeseries', '3 series', 'timeseries after reload');
  const legend = await page.locator('.dash-panel[data-type=timeseries] .tchart-legend-item').allTextContents();
  check(JSON.stringify(legend.map((x) => x.trim())) === '["a","b","c"]', `legend from {{queue}}: ${JSON.stringify(legend)}`);

  // Pick queue = b only.
  await page.locator('.dash-var[data-var=queue] button.dash-multi-button').click();
  const menu = page.locator('.dash-var[data-var=queue] .dash-multi-menu');
  await menu.getByLabel('b', { exact: true }).check();
  check(!(await menu.getByLabel('All', { exact: true }).isChecked()), 'picking a value unticks All');
  await menu.getByRole('button', { name: 'Apply' }).click();
  await waitStatus(page, 'timeseries', '1 series', 'timeseries with queue=b');
  const one = await page.locator('.dash-panel[data-type=timeseries] .tchart-legend-item').allTextContents();
  check(one.length === 1 && one[0].trim() === 'b', `legend with queue=b: ${JSON.stringify(one)}`);
  await page.locator('.dash-panel[data-type=stat] .dash-stat-value', { hasText: String(t.facts.queues.b) }).waitFor();
  const explore = new URL(await page.locator('.dash-panel[data-type=timeseries] a.dash-panel-explore').getAttribute('href'), page.url());
  check(explore.pathname === '/ui/metrics' && explore.searchParams.get('q') === 'ui_queue_depth{queue=~"b"}', `"Explore" opens the interpolated query: ${explore}`);
  const logsExplore = new URL(await page.locator('.dash-panel[data-type=logs] a.dash-panel-explore').getAttribute('href'), page.url());
  check(logsExplore.pathname === '/ui/logs' && logsExplore.searchParams.get('query') === '{service="checkout"}', `logs "Explore": ${logsExplore}`);
  check(new URL(page.url()).searchParams.getAll('var-queue').join() === 'b', `the URL carries var-queue=b: ${page.url()}`);
  await t.shot('view-queue-b');

  // The stored JSON.
  const got = await api(page, `/ui/api/dashboards/${id}`);
  check(got.status === 200, `GET /ui/api/dashboards/${id}: ${got.status}`);
  const d = got.body;
  check(d.title === title && d.version === 1, `stored title/version: ${d.title} ${d.version}`);
  check(JSON.stringify(d.panels.map((p) => p.type)) === '["timeseries","stat","logs"]', `stored panel types: ${d.panels.map((p) => p.type)}`);
  check(d.panels[0].queries[0].expr === 'ui_queue_depth{queue=~"$queue"}' && d.panels[0].queries[0].legend === '{{queue}}', 'stored query and legend');
  check(d.panels.every((p) => p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0), 'stored gridPos');
  const v = d.variables[0];
  check(v && v.name === 'queue' && v.query === 'label_values(ui_queue_depth, queue)' && v.multi && v.includeAll, `stored variable: ${JSON.stringify(v)}`);
  const list = await api(page, '/ui/api/dashboards');
  check(list.body.data.some((x) => x.id === id && x.title === title), 'the dashboard is in the list');
}

async function checkZoomAndThemes(t) {
  const { page } = t;
  const plot = page.locator('.dash-panel[data-type=timeseries] .tchart-overlay');
  const box = await plot.boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForURL((u) => /^\d+$/.test(u.searchParams.get('from') || ''));
  const u = new URL(page.url());
  const span = +u.searchParams.get('to') - +u.searchParams.get('from');
  check(span > 10 * 60e3 && span < 30 * 60e3, `dragging 30% of a 1 h chart zooms to ~18 min, got ${span / 60e3} min`);
  await waitStatus(page, 'timeseries', '1 series', 'timeseries after zoom');
  await page.locator('#theme-toggle').click();
  await t.shot('view-dark');
  await page.setViewportSize({ width: 1280, height: 800 });
  await t.shot('view-dark-1280');
  await page.locator('#theme-toggle').click();
  await t.shot('view-light-1280');
  await page.setViewportSize({ width: 1440, height: 900 });
}

async function checkExport(t, id, title) {
  const { page } = t;
  await page.locator('.dash-toolbar').getByRole('button', { name: 'Exit edit' }).click();
  check(!new URL(page.url()).searchParams.has('edit'), 'leaving edit mode drops edit=1 from the URL');
  await page.locator('.dash-toolbar .dash-export').click();
  const dialog = page.locator('dialog.dash-dialog-wide');
  const json = JSON.parse(await dialog.locator('textarea.dash-json').inputValue());
  check(json.title === title && json.panels.length === 3 && json.variables[0].name === 'queue', 'the export shows the dashboard JSON');
  const link = dialog.getByRole('link', { name: 'Download JSON' });
  check((await link.getAttribute('download')) === `${id}.json` && (await link.getAttribute('href')).startsWith('blob:'), 'a Blob download link');
  await t.shot('export');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const { readFileSync } = await import('node:fs');
  const file = JSON.parse(readFileSync(await download.path(), 'utf8'));
  check(file.title === title && file.panels.length === 3, 'the downloaded file is the dashboard');
  await dialog.getByRole('button', { name: 'Close' }).last().click();
}

/**
 * Two editors: a save over another's save since the page read the
 * dashboard is refused (412) with a clear message; a second Save replaces it.
 */
async function checkConcurrentSave(t, id) {
  const { page } = t;
  await page.goto(t.url(`/ui/dashboards/${id}?edit=1`));
  await page.locator('.dash-grid .dash-panel h3').first().waitFor();
  const theirs = await page.evaluate(async (p) => {
    const d = await (await fetch(p)).json();
    d.description = 'saved by someone else';
    const r = await fetch(p, { method: 'PUT', body: JSON.stringify(d) });
    return r.status;
  }, `/ui/api/dashboards/${id}`);
  check(theirs === 200, `the other save: ${theirs}`);
  // An edit of this page's own, then Save.
  await page.getByRole('button', { name: 'Move later Total depth', exact: true }).click();
  const before = t.problems.length;
  const save = page.getByRole('button', { name: 'Save', exact: true });
  await save.click();
  await page.getByText('Someone else saved this dashboard since you opened it').waitFor();
  const extra = t.problems.splice(before);
  check(extra.length === 1 && extra[0].includes('412'), `only the expected 412 was logged: ${extra.join('; ')}`);
  await t.shot('concurrent-save');
  await save.click();
  await page.getByText('Saved.').waitFor();
  const got = await api(page, `/ui/api/dashboards/${id}`);
  check(got.body.description !== 'saved by someone else', 'the second Save replaced the other version');
}

/** The server refuses a dashboard over 1 MiB: its message is shown in the import dialog. */
async function importTooLarge(t) {
  const { page } = t;
  await page.goto(t.url('/ui/dashboards'));
  await page.locator('.dash-list-toolbar .dash-import-button').click();
  const dialog = page.locator('dialog.dash-import');
  const big = { title: 'Too large', version: 1, description: 'x'.repeat(1100 * 1024), panels: [], variables: [] };
  await dialog.getByLabel('Dashboard JSON').fill(JSON.stringify(big));
  const before = t.problems.length;
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await dialog.locator('.field-error', { hasText: /Could not import: request body is larger than the limit of 1048576 bytes/ }).waitFor();
  const extra = t.problems.splice(before);
  check(extra.every((p) => p.includes('413')), `only the expected 413 was logged: ${extra.join('; ')}`);
  await t.shot('import-too-large');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
}

async function importGrafana(t) {
  const { page } = t;
  await importTooLarge(t);
  await page.locator('.dash-list-toolbar .dash-import-button').click();
  const dialog = page.locator('dialog.dash-import');
  await dialog.getByLabel('Or choose a file').setInputFiles({ name: 'grafana.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(grafanaDashboard())) });
  const summary = dialog.locator('.dash-import-summary');
  await summary.getByText('Grafana dashboard “Grafana queues”').waitFor();
  const types = await summary.locator('.dash-import-panels li').evaluateAll((els) => els.map((e) => e.dataset.type));
  check(JSON.stringify(types) === '["timeseries","logs"]', `converted panels: ${JSON.stringify(types)}`);
  const skipped = await summary.locator('.dash-import-skipped li').allTextContents();
  check(skipped.some((s) => s.includes('Read me') && s.includes('text')), `the text panel is listed as skipped: ${JSON.stringify(skipped)}`);
  check(skipped.some((s) => s.includes('$iv')), `the interval variable is listed as skipped: ${JSON.stringify(skipped)}`);
  await t.shot('import');
  await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForURL((u) => /\/ui\/dashboards\/grafana-queues/.test(u.pathname));
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.locator('.dash-toolbar h1', { hasText: 'Grafana queues' }).waitFor();
  const u = new URL(page.url());
  check(u.searchParams.get('from') === 'now-2h' && u.searchParams.get('to') === 'now', `the dashboard's own range applies when the link has none: ${u}`);
  await waitStatus(page, 'timeseries', '3 series', 'imported timeseries');
  const legend = await page.locator('.dash-panel[data-type=timeseries] .tchart-legend-item').allTextContents();
  check(legend.map((x) => x.trim()).join() === 'queue a,queue b,queue c', `imported legendFormat: ${legend}`);
  const cart = await page.locator('.dash-panel[data-type=logs] .dash-log-line').allTextContents();
  check(cart.length > 0 && cart.every((x) => x.includes('service=cart')), 'the imported Loki panel shows cart lines');
  check(await page.locator('.dash-var[data-var=q] .dash-var-label', { hasText: 'Queue' }).count() === 1, 'the imported variable is in the bar');
  const stored = (await api(page, `/ui/api/dashboards/${id}`)).body;
  check(stored.panels[0].stacked === true && stored.panels[0].gridPos.w === 16 && stored.variables.length === 1, `stored conversion: ${JSON.stringify(stored.panels[0])}`);
  await t.shot('imported');
  return id;
}

async function remove(t, id) {
  const { page } = t;
  await page.goto(t.url('/ui/dashboards'));
  const row = page.locator(`table.dash-list tr[data-id="${id}"]`);
  await row.getByRole('button', { name: /^Delete/ }).click();
  const confirm = page.locator('dialog.dash-dialog-small');
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  const list = await api(page, '/ui/api/dashboards');
  check(!list.body.data.some((x) => x.id === id), `${id} is gone from the server`);
}

export async function run(t) {
  const { page } = t;
  const title = `Scenario queues ${Date.now().toString(36)}`;
  const id = await createDashboard(t, title);
  t.log('saved as', id);
  await checkReload(t, id, title);
  await checkZoomAndThemes(t);
  await checkConcurrentSave(t, id);
  await checkExport(t, id, title);
  const imported = await importGrafana(t);
  await page.goto(t.url('/ui/dashboards'));
  await page.locator(`table.dash-list tr[data-id="${imported}"]`).waitFor();
  await t.shot('list-two');
  await remove(t, id);
  await remove(t, imported);
  await t.shot('list-after-delete');

  // A deleted dashboard: a clear 404 message (the browser logs the 404 response; that one is expected).
  const before = t.problems.length;
  await page.goto(t.url(`/ui/dashboards/${id}`));
  await page.locator('.dash-missing .notice-error', { hasText: `There is no dashboard “${id}”` }).waitFor();
  await t.shot('not-found');
  const extra = t.problems.splice(before);
  check(extra.every((p) => p.includes('404')), `only the expected 404 was logged: ${extra.join('; ')}`);
}
