// The metrics explorer (/ui/metrics) against the fixture's metrics:
//  1. page load (navigation start → the query editor is shown and focused) < 1 s;
//  2. a query typed with the keyboard, the metric name taken from completion:
//     the chart has exactly the 3 ui_queue_depth series, the table 10/20/30 (sortable);
//  3. errors inline in the editor: a client-side one (unclosed parenthesis) and a
//     server one (rate of an instant vector), each underlined where it is;
//  4. the 50 × ~10k chart of facts.perfQuery: render, hover and legend-toggle latency;
//  5. ui_http_requests_total exemplars: shown, and a click opens their trace;
//  6. the URL restores the queries (reload), and running pushes history (back);
//  7. screenshots: light, dark, 1280×800.

const HOUR = 3_600_000;

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** Waits until the results panel has settled (not idle/loading); returns its status. */
async function settled(page, timeout = 20_000) {
  const h = await page.waitForFunction(() => {
    const r = document.querySelector('.metrics-results');
    const s = r && r.dataset.status;
    return s && s !== 'loading' && s !== 'idle' ? s : false;
  }, null, { timeout, polling: 50 });
  return h.jsonValue();
}

/** Marks the results panel so the next `settled` waits for a new run. */
async function armRun(page) {
  await page.evaluate(() => { document.querySelector('.metrics-results').dataset.status = 'loading'; });
}

const legendNames = (page) => page.$$eval('.metrics-chart .tchart-legend-item', (els) => els.map((e) => e.textContent.trim()));
const editorValues = (page) => page.$$eval('.metrics-query-row .qe-input', (els) => els.map((e) => e.value));

/** Removes the "Failed to load resource: … 400" console entries an intended bad query causes. */
function allowBadRequests(t, before, expected) {
  const extra = t.problems.slice(before);
  const bad = extra.filter((p) => /Failed to load resource: the server responded with a status of 400/.test(p));
  check(bad.length === expected, `expected ${expected} refused request(s) for the invalid query, saw: ${extra.join(' | ') || 'none'}`);
  t.problems.splice(before, extra.length, ...extra.filter((p) => !bad.includes(p)));
}

async function pageLoad(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/metrics?${range}`));
  const ms = await (await page.waitForFunction(() => {
    const ta = document.querySelector('.page-metrics .qe-input');
    if (!ta || document.activeElement !== ta) return false;
    const r = ta.getBoundingClientRect();
    return r.width > 100 && r.height > 10 ? performance.now() : false;
  }, null, { polling: 'raf' })).jsonValue();
  t.measure('page_load', Math.round(ms));
  check(ms < 1000, `page load took ${Math.round(ms)} ms (limit 1000 ms)`);
  await page.waitForSelector('.metrics-browser-item');
  const names = await page.$$eval('.metrics-browser-name', (els) => els.map((e) => e.textContent));
  check(names.includes('ui_queue_depth') && names.includes('ui_perf_wave'), `the metric browser lists ${names.join(', ')}`);
  await t.shot('empty');
}

async function typedQuery(t, range) {
  const { page, facts } = t;
  const ta = page.locator('.metrics-query-row .qe-input').first();
  await ta.focus();
  await page.keyboard.type('ui_que', { delay: 40 });
  const option = page.locator('.qe-popup [role="option"][aria-selected="true"]');
  await option.waitFor({ state: 'visible' });
  const label = (await option.locator('.qe-label').textContent()).trim();
  check(label === 'ui_queue_depth', `the first completion for "ui_que" is "${label}", expected ui_queue_depth`);
  await t.shot('completion');
  await page.keyboard.press('Tab');
  check(await ta.inputValue() === 'ui_queue_depth', `after accepting the completion the query is "${await ta.inputValue()}"`);
  await page.keyboard.press('Enter');
  check(await settled(page) === 'done', 'the query did not succeed');
  const names = (await legendNames(page)).sort();
  const want = Object.keys(facts.queues).sort().map((q) => `ui_queue_depth{queue="${q}"}`);
  check(JSON.stringify(names) === JSON.stringify(want), `legend: ${JSON.stringify(names)}, expected ${JSON.stringify(want)}`);
  const url = new URL(page.url());
  check(url.searchParams.getAll('q').join('|') === 'ui_queue_depth', `URL after running: ${page.url()}`);
  await metadataLine(t);
  await t.shot('graph-queues');

  await armRun(page);
  await page.getByRole('tab', { name: 'Table' }).click();
  check(await settled(page) === 'done', 'the table query did not succeed');
  const table = await readTable(page);
  for (const [q, v] of Object.entries(facts.queues)) {
    const row = table.rows.find((r) => r.queue === q);
    check(row && Number(row.Value) === v, `table: queue ${q} shows ${row && row.Value}, expected ${v}`);
  }
  check(table.rows.length === 3, `table has ${table.rows.length} rows, expected 3`);
  await page.locator('th[data-key="value"] button').click();
  const desc = (await readTable(page)).rows.map((r) => r.queue).join('');
  check(desc === 'cba', `sorted by value (descending) the queues are ${desc}, expected cba`);
  await page.locator('th[data-key="value"] button').click();
  const asc = (await readTable(page)).rows.map((r) => r.queue).join('');
  check(asc === 'abc', `sorted by value (ascending) the queues are ${asc}, expected abc`);
  check(new URL(page.url()).searchParams.get('tab') === 'table', 'the URL does not carry tab=table');
  await t.shot('table-queues');
}

/** The type and help under the editor, when the server has the metric's metadata. */
async function metadataLine(t) {
  const { page } = t;
  const meta = await page.evaluate(async () => (await (await fetch('/api/v1/metadata?metric=ui_queue_depth')).json()).data || {});
  await page.waitForTimeout(400);
  const line = (await page.locator('.metrics-query-row .metrics-meta').first().textContent()).trim();
  const m = meta.ui_queue_depth && meta.ui_queue_depth[0];
  if (!m) {
    t.log('the server has no metadata for ui_queue_depth yet: checking the line stays empty');
    check(line === '', `without metadata the info line shows "${line}"`);
    return;
  }
  check(line.includes(m.type) && line.includes(m.help), `the info line "${line}" lacks ${m.type} / ${m.help}`);
}

async function zoom(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/metrics?q=ui_queue_depth&${range}`));
  check(await settled(page) === 'done', 'ui_queue_depth did not load');
  const before = new URL(page.url()).searchParams;
  const [from0, to0] = [Number(before.get('from')), Number(before.get('to'))];
  const box = await page.locator('.metrics-chart .tchart-overlay').boundingBox();
  await armRun(page);
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 6 });
  await page.mouse.up();
  check(await settled(page) === 'done', 'the zoomed range did not load');
  const after = new URL(page.url()).searchParams;
  const [from1, to1] = [Number(after.get('from')), Number(after.get('to'))];
  check(from1 > from0 && to1 < to0 && to1 - from1 < (to0 - from0) / 2, `after the zoom the range is ${after.get('from')}..${after.get('to')} (was ${from0}..${to0})`);
  const chart = await page.$eval('.metrics-chart', (el) => ({ start: el.__data.start, end: el.__data.end, n: el.__data.series.length }));
  check(chart.start === from1 && chart.end === to1 && chart.n === 3, `the chart shows ${JSON.stringify(chart)} after the zoom`);
  await page.goBack();
  check(Number(new URL(page.url()).searchParams.get('from')) === from0, 'Back does not return to the range before the zoom');
}

/** Label name and value completion inside braces, scoped by the metric and the other matchers. */
async function labelCompletion(t) {
  const { page } = t;
  const ta = page.locator('.metrics-query-row .qe-input').first();
  await ta.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('ui_http_requests_total{co', { delay: 20 });
  const options = () => page.$$eval('.qe-popup [role="option"] .qe-label', (els) => els.map((e) => e.textContent));
  await page.waitForFunction(() => [...document.querySelectorAll('.qe-popup [role="option"] .qe-label')].some((e) => e.textContent === 'code'));
  await page.keyboard.press('Tab');
  await page.keyboard.type('="500", service="', { delay: 20 });
  await page.waitForFunction(() => document.querySelectorAll('.qe-popup [role="option"]').length > 0);
  await page.waitForTimeout(300);
  const values = (await options()).sort();
  check(JSON.stringify(values) === JSON.stringify(['cart', 'checkout']), `service values offered: ${JSON.stringify(values)}`);
  await t.shot('completion-values');
  await page.keyboard.press('Enter');
  const text = await ta.inputValue();
  check(/^ui_http_requests_total\{code="500", service="(cart|checkout)"$/.test(text), `after completing the value the query is ${text}`);
  await page.keyboard.press('Escape');
}

async function readTable(page) {
  return page.$eval('.metrics-table', (tbl) => {
    const heads = [...tbl.querySelectorAll('thead th')].map((th) => th.querySelector('button').firstChild.textContent.trim());
    const rows = [...tbl.querySelectorAll('tbody tr')].map((tr) => {
      const cells = [...tr.children].map((td) => td.textContent.trim());
      return Object.fromEntries(heads.map((hd, i) => [hd, cells[i]]));
    });
    return { heads, rows };
  });
}

async function replaceQuery(page, text) {
  const ta = page.locator('.metrics-query-row .qe-input').first();
  await ta.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Escape');
}

async function inlineErrors(t) {
  const { page } = t;
  const bad = 'sum(rate(ui_queue_depth[5m])';
  await replaceQuery(page, bad);
  await armRun(page);
  await page.getByRole('button', { name: /Run/ }).click();
  check(await settled(page) === 'error', 'an invalid query did not end in the error state');
  const msg = (await page.locator('.metrics-query-row .qe-error').first().textContent()).trim();
  check(/unclosed left parenthesis/.test(msg), `the error under the editor is "${msg}"`);
  const marked = await page.$$eval('.metrics-query-row .qe-highlight .qe-err', (els) => els.map((e) => e.textContent).join(''));
  check(marked === '(', `the underlined text is "${marked}", expected the unclosed "(" of sum`);
  const at = await page.$eval('.metrics-query-row .qe-highlight', (pre) => {
    const err = pre.querySelector('.qe-err');
    let n = 0;
    for (const node of pre.childNodes) { if (node === err || node.contains(err)) return n; n += node.textContent.length; }
    return -1;
  });
  check(at === 3, `the underline starts at ${at}, expected 3`);
  check(await page.locator('.metrics-query-row .qe-input').first().getAttribute('aria-invalid') === 'true', 'the editor is not aria-invalid');
  await t.shot('error-client');

  // A mistake only the server sees: its message, underlined at the function it names.
  const before = t.problems.length;
  await replaceQuery(page, 'rate(ui_queue_depth)');
  await armRun(page);
  await page.keyboard.press('Enter');
  check(await settled(page) === 'error', 'the server-refused query did not end in the error state');
  const msg2 = (await page.locator('.metrics-query-row .qe-error').first().textContent()).trim();
  check(/rate/.test(msg2) && /matrix|range/.test(msg2), `the server's error under the editor is "${msg2}"`);
  const marked2 = await page.$$eval('.metrics-query-row .qe-highlight .qe-err', (els) => els.map((e) => e.textContent).join(''));
  check(marked2 === 'rate', `the underlined text is "${marked2}", expected rate`);
  await t.shot('error-server');
  allowBadRequests(t, before, 1);
}

async function perfChart(t) {
  const { page, facts } = t;
  const end = facts.metricsEndMs;
  const start = Math.round(end - 41.6 * HOUR);
  const q = encodeURIComponent(facts.perfQuery);
  await page.goto(t.url(`/ui/metrics?q=${q}&from=${start}&to=${end}&step=15s`));
  const status = await settled(page, 90_000);
  if (status !== 'done') {
    const err = await page.locator('.metrics-query-row .qe-error').first().textContent().catch(() => '');
    throw new Error(`the perf query ${facts.perfQuery} failed: ${err || status}`);
  }
  const info = await page.$eval('.metrics-chart', (el) => {
    const c = el.__chart;
    const series = el.__data.series;
    const counts = series.map((s) => { let n = 0; for (const v of s.values) if (v === v) n++; return n; });
    return { n: series.length, min: Math.min(...counts), max: Math.max(...counts), render: c.lastRenderMs };
  });
  check(info.n === facts.perfSeries, `the perf chart has ${info.n} series, expected ${facts.perfSeries}`);
  check(info.min >= 9900 && info.max <= 10100, `perf series have ${info.min}..${info.max} points, expected ~10,000`);
  t.measure('chart_render', +info.render.toFixed(1));
  check(info.render < 1000, `the chart took ${info.render.toFixed(0)} ms to render (limit 1000 ms)`);

  const box = await page.locator('.metrics-chart .tchart-overlay').boundingBox();
  await page.evaluate(() => {
    const host = document.querySelector('.metrics-chart');
    const w = (window.__hoverProbe = { pending: null, times: [] });
    host.querySelector('.tchart-overlay').addEventListener('pointermove', (e) => { if (w.pending === null) w.pending = e.timeStamp; });
    new MutationObserver(() => {
      if (w.pending === null) return;
      w.times.push(performance.now() - w.pending);
      w.pending = null;
    }).observe(host.querySelector('.tchart-tooltip'), { childList: true, subtree: true, characterData: true, attributes: true });
  });
  for (let k = 0; k < 20; k++) {
    await page.mouse.move(box.x + 80 + (k * (box.width - 120)) / 19, box.y + box.height * 0.4);
    await page.waitForFunction((n) => window.__hoverProbe.times.length >= n, k + 1, { polling: 'raf' });
  }
  const hovers = await page.evaluate(() => window.__hoverProbe.times);
  const hoverMax = Math.max(...hovers);
  const sorted = [...hovers].sort((a, b) => a - b);
  t.measure('hover_max', +hoverMax.toFixed(1));
  t.measure('hover_median', +sorted[sorted.length >> 1].toFixed(1));
  check(hoverMax < 100, `hover took up to ${hoverMax.toFixed(0)} ms (limit 100 ms)`);
  const tip = await page.locator('.metrics-chart .tchart-tooltip').textContent();
  check(/…\d+ more/.test(tip) || tip.includes('{i='), `the tooltip shows "${tip.slice(0, 120)}"`);
  await t.shot('perf-hover');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height + 200);

  const toggles = [];
  for (let k = 0; k < 2; k++) {
    await page.evaluate(() => {
      const lg = document.querySelector('.metrics-chart .tchart-legend');
      lg.addEventListener('click', (e) => {
        const t0 = e.timeStamp;
        requestAnimationFrame(() => { window.__toggleMs = performance.now() - t0; });
      }, { once: true });
      window.__toggleMs = null;
    });
    await page.locator('.metrics-chart .tchart-legend-item').first().click();
    toggles.push(await (await page.waitForFunction(() => window.__toggleMs, null, { polling: 'raf' })).jsonValue());
    const visible = await page.$eval('.metrics-chart', (el) => el.__chart.visibleSeries()[0]);
    check(visible === (k === 1), `after ${k + 1} click(s) on the first legend entry its series is ${visible ? 'shown' : 'hidden'}`);
  }
  t.measure('legend_toggle', +Math.max(...toggles).toFixed(1));
  await t.shot('perf-chart');
}

async function exemplars(t, range) {
  const { page, facts } = t;
  await page.goto(t.url(`/ui/metrics?q=ui_http_requests_total&${range}`));
  check(await settled(page) === 'done', 'ui_http_requests_total did not load');
  const ex = await page.$eval('.metrics-chart', (el) => el.__chart._exPos.map((e) => ({ x: e.x, y: e.y, trace: e.ex.traceId })));
  check(ex.length > 0, 'no exemplars are drawn for ui_http_requests_total');
  check(ex.every((e) => e.trace === facts.traceId), `exemplars point at ${[...new Set(ex.map((e) => e.trace))].join(', ')}`);
  const box = await page.locator('.metrics-chart .tchart-overlay').boundingBox();
  const target = ex[Math.floor(ex.length / 2)];
  await page.mouse.move(box.x + target.x, box.y + target.y);
  const tip = page.locator('.metrics-chart .tchart-tooltip');
  await tip.waitFor({ state: 'visible' });
  check((await tip.textContent()).includes(facts.traceId), 'the exemplar tooltip does not name the trace');
  await t.shot('exemplar');
  await page.mouse.click(box.x + target.x, box.y + target.y);
  await page.waitForURL((u) => u.pathname === `/ui/traces/${facts.traceId}`);
}

async function urlState(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/metrics?q=ui_http_requests_total&${range}`));
  await settled(page);
  await page.getByRole('button', { name: '+ Add query' }).click();
  const second = page.locator('.metrics-query-row').nth(1);
  await second.locator('.qe-input').focus();
  await page.keyboard.insertText('sum by (queue) (ui_queue_depth)');
  await second.locator('.metrics-legend').fill('depth {{queue}}');
  await page.getByRole('button', { name: 'Stacked' }).click();
  await armRun(page);
  await second.locator('.metrics-legend').press('Enter');
  check(await settled(page) === 'done', 'two queries did not run');
  const names = await legendNames(page);
  for (const q of ['a', 'b', 'c']) check(names.includes(`depth ${q}`), `legend ${JSON.stringify(names)} lacks "depth ${q}"`);
  check(names.length === 7, `two queries give ${names.length} series, expected 4 + 3`);

  await page.reload();
  check(await settled(page) === 'done', 'the reloaded page did not run its queries');
  const values = await editorValues(page);
  check(JSON.stringify(values) === JSON.stringify(['ui_http_requests_total', 'sum by (queue) (ui_queue_depth)']), `after reload the queries are ${JSON.stringify(values)}`);
  const legend = await page.locator('.metrics-query-row').nth(1).locator('.metrics-legend').inputValue();
  check(legend === 'depth {{queue}}', `after reload the legend format is "${legend}"`);
  check(await page.getByRole('button', { name: 'Stacked' }).getAttribute('aria-pressed') === 'true', 'after reload the chart is not stacked');
  check((await legendNames(page)).length === 7, 'after reload the chart does not have the 7 series');
  await t.shot('two-queries-stacked');

  await armRun(page);
  await page.goBack();
  await settled(page);
  const back = await editorValues(page);
  check(JSON.stringify(back) === JSON.stringify(['ui_http_requests_total']), `Back shows the queries ${JSON.stringify(back)}, expected the single first one`);
}

async function themes(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/metrics?q=ui_queue_depth&q=rate(ui_http_requests_total[5m])&legend={{queue}}&legend={{service}} {{code}}&${range}`));
  await settled(page);
  await t.shot('light-1440');
  await page.locator('#theme-toggle').click();
  check(await page.evaluate(() => document.documentElement.dataset.theme) === 'dark', 'the theme did not switch to dark');
  await page.waitForTimeout(100);
  await t.shot('dark-1440');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(150);
  await t.shot('dark-1280x800');
  await page.locator('#theme-toggle').click();
  await page.waitForTimeout(100);
  await t.shot('light-1280x800');
  await armRun(page);
  await page.getByRole('tab', { name: 'Table' }).click();
  await settled(page);
  await t.shot('table-1280x800');
}

export async function run(t) {
  const end = t.facts.metricsEndMs;
  const range = `from=${end - HOUR}&to=${end}`;
  await pageLoad(t, range);
  await typedQuery(t, range);
  await labelCompletion(t);
  await inlineErrors(t);
  await zoom(t, range);
  await exemplars(t, range);
  await urlState(t, range);
  await themes(t, range);
  await perfChart(t);
}
