// Traces page scenario: search by form and by TraceQL, the known trace's
// waterfall (order, durations, errors, critical path, keyboard), its span
// details, the service graph, and screenshots of each view in both themes
// and at a laptop size.

const fail = (msg) => { throw new Error(msg); };
const eq = (actual, expected, what) => {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
};

/** `formatDuration` of the UI for whole milliseconds under a second. */
const ms = (n) => `${n}ms`;

/** The chain the critical path must at least hold: from the root, always the child that ends last. */
function lastEndingChain(spans) {
  const [root] = spans.filter((s) => !s[1]);
  const chain = [root[0]];
  let cur = root;
  for (;;) {
    const kids = spans.filter((s) => s[1] === cur[0]);
    if (!kids.length) return chain;
    cur = kids.reduce((a, b) => (b[6] > a[6] ? b : a));
    chain.push(cur[0]);
  }
}

async function waitResults(page) {
  await page.waitForSelector('.tr-results:not([aria-busy])');
  await page.waitForFunction(() => !/Searching/.test(document.querySelector('.tr-summary').textContent));
}

async function resultIds(page) {
  return page.$$eval('.tr-table tbody tr', (rows) => rows.map((r) => ({ id: r.dataset.traceId, error: r.classList.contains('tr-row-error') })));
}

/** (1) The form: service cart, status error → only the known trace. */
async function searchByForm(t, range) {
  const { page, facts } = t;
  await page.goto(t.url(`/ui/traces?${range}`));
  await page.waitForSelector('#tr-service option[value="cart"]', { state: 'attached' });
  await waitResults(page);
  await page.selectOption('#tr-service', 'cart');
  await page.click('.tr-field .segmented button[data-value="error"]');
  const started = Date.now();
  await waitResults(page);
  t.measure('search_ms', Date.now() - started);
  const q = await page.$eval('.tr-editor textarea', (ta) => ta.value);
  eq(q, '{ resource.service.name = "cart" && status = error }', 'the TraceQL the form composed');
  const rows = await resultIds(page);
  eq(rows, [{ id: facts.traceId, error: true }], 'error traces of cart (id, marked as error)');
  const url = new URL(page.url());
  eq([url.searchParams.get('service'), url.searchParams.get('status')], ['cart', 'error'], 'form state in the URL');
  const dur = await page.$eval('.tr-table tbody tr .tr-dur-text', (e) => e.textContent);
  eq(dur, ms(120), 'the trace duration in the results');
  await t.shot('search-light');
}

/** (2) + (3) The waterfall of the known trace, its errors, critical path and details. */
async function waterfall(t) {
  const { page, facts } = t;
  const started = Date.now();
  await page.click(`.tr-table tbody tr[data-trace-id="${facts.traceId}"] a.tr-trace-link`);
  await page.waitForSelector('.wf-row');
  t.measure('trace_render_ms', Date.now() - started);
  if (!page.url().includes(`/ui/traces/${facts.traceId}`)) fail(`the trace's URL is ${page.url()}`);
  const rows = await page.$$eval('.wf-row', (rs) => rs.map((r) => ({
    id: r.dataset.spanId,
    service: r.querySelector('.wf-service').textContent,
    name: r.querySelector('.wf-op').textContent,
    dur: r.querySelector('.wf-dur').textContent,
    error: r.classList.contains('wf-error') && !!r.querySelector('.wf-err-icon'),
    critical: r.classList.contains('wf-critical'),
    level: Number(r.getAttribute('aria-level')),
  })));
  eq(rows.map((r) => `${r.name} (${r.service})`), facts.spans.map((s) => `${s[3]} (${s[2]})`), 'waterfall order (depth first)');
  eq(rows.map((r) => r.name), ['GET /checkout', 'POST /api/checkout', 'POST /api/checkout', 'SELECT orders', 'GET /cart', 'GET /cart', 'redis GET'], 'span names');
  eq(rows.map((r) => r.dur), facts.spans.map((s) => ms(s[6] - s[5])), 'span durations');
  eq(rows.map((r) => r.dur), ['120ms', '105ms', '95ms', '25ms', '50ms', '42ms', '15ms'], 'span durations (literal)');
  eq(rows.map((r) => r.level), [1, 2, 3, 4, 4, 5, 6], 'tree levels');
  eq(rows.filter((r) => r.error).map((r) => r.id), facts.spans.filter((s) => s[7]).map((s) => s[0]), 'spans marked as errors');
  const colors = await page.$$eval('.wf-row .wf-bar', (bars) => bars.map((b) => getComputedStyle(b).backgroundColor));
  if (colors[0] === colors[5]) fail('error bars must look different from the others');
  // (3) critical path: the root and the chain through checkout down to cart.
  const critical = new Set(rows.filter((r) => r.critical).map((r) => r.id));
  for (const id of lastEndingChain(facts.spans)) if (!critical.has(id)) fail(`span ${id} should be on the critical path; marked: ${[...critical]}`);
  if (!(await page.$('.tr-legend-cp'))) fail('the critical path legend is missing');
  const cpSegments = await page.$$eval('.wf-row[data-span-id="a000000000000001"] .wf-cp', (s) => s.length);
  if (cpSegments < 1) fail('the root bar shows no critical path segment');
  await t.shot('waterfall-light');
}

/** Keyboard: ↓ moves, ← collapses, → expands, Enter opens details — then the details of cart's GET /cart. */
async function keyboardAndDetails(t) {
  const { page } = t;
  const target = 'a000000000000006';
  await page.focus('.wf-row[data-span-id="a000000000000001"]');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  let focused = await page.evaluate(() => document.activeElement.dataset.spanId);
  eq(focused, 'a000000000000005', 'focus after 4 × ↓');
  await page.keyboard.press('ArrowLeft');
  let visible = await page.$$eval('.wf-row', (rs) => rs.filter((r) => !r.hidden).length);
  eq(visible, 5, 'visible rows after ← collapses GET /cart (checkout)');
  await page.keyboard.press('ArrowRight');
  visible = await page.$$eval('.wf-row', (rs) => rs.filter((r) => !r.hidden).length);
  eq(visible, 7, 'visible rows after → expands it again');
  await page.keyboard.press('ArrowDown');
  focused = await page.evaluate(() => document.activeElement.dataset.spanId);
  eq(focused, target, 'focus after ↓');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tr-details[data-span-id="${target}"]`);
  const d = await page.$eval('.tr-details', (el) => ({
    title: el.querySelector('h2').textContent,
    text: el.textContent,
    attr: Object.fromEntries([...[...el.querySelectorAll('.tr-details-section')]
      .find((s) => s.querySelector('h3').textContent.startsWith('Attributes')).querySelectorAll('tr')]
      .map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent])),
    events: [...el.querySelectorAll('.tr-event')].map((e) => e.textContent),
    logs: [...el.querySelectorAll('.tr-actions a')].map((a) => a.getAttribute('href')),
  }));
  eq(d.title, 'GET /cart', 'details title');
  eq(d.attr['user.id'], 'u-42', 'attribute user.id in the details');
  if (!d.text.includes('cart')) fail('the details do not name the service');
  if (!d.events.some((e) => e.includes('exception') && e.includes('cart unavailable'))) fail(`no exception event 'cart unavailable' in ${JSON.stringify(d.events)}`);
  if (!d.text.includes('upstream failed')) fail('the status message is not shown');
  if (!/\+91ms/.test(d.events[0])) fail(`the exception's offset from the trace start should be +91ms: ${d.events[0]}`);
  const logs = new URL(d.logs[0], t.base);
  eq(logs.pathname, '/ui/logs', 'logs link path');
  eq(logs.searchParams.get('query'), `{service="cart"} |= "${t.facts.traceId}"`, 'logs link query');
  const metrics = new URL(d.logs[1], t.base);
  eq(metrics.pathname, '/ui/metrics', 'metrics link path');
  if (metrics.searchParams.getAll('q').length !== 3 || !metrics.searchParams.getAll('q').every((q) => q.includes('service="cart"'))) fail(`RED metrics link: ${metrics.search}`);
  eq(new URL(page.url()).searchParams.get('span'), target, 'selected span in the URL');
  await t.shot('span-details-light');
}

/** (4) The service graph: edges frontend→checkout and checkout→cart with requests, checkout→cart with errors. */
async function serviceGraph(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/traces?view=graph&${range}`));
  const deadline = Date.now() + 20_000;
  let edges = [];
  for (;;) {
    await page.waitForSelector('.sg-body:not([aria-busy]) > *');
    edges = await page.$$eval('.sg-table tbody tr', (rows) => rows.map((r) => ({
      client: r.dataset.client, server: r.dataset.server,
      requests: parseFloat(r.querySelector('.sg-requests').textContent),
      errorRatio: r.querySelector('.sg-error-ratio') ? parseFloat(r.querySelector('.sg-error-ratio').textContent) : NaN,
    })));
    const fc = edges.find((e) => e.client === 'frontend' && e.server === 'checkout');
    const cc = edges.find((e) => e.client === 'checkout' && e.server === 'cart');
    if (fc && cc && fc.requests > 0 && cc.requests > 0 && cc.errorRatio > 0) break;
    if (Date.now() > deadline) fail(`service graph edges after 20 s: ${JSON.stringify(edges)}`);
    await page.waitForTimeout(1000);
    await page.click('button[aria-label="Refresh"]');
    await page.waitForTimeout(200);
  }
  const fc = edges.find((e) => e.client === 'frontend' && e.server === 'checkout');
  if (!(fc.errorRatio === 0)) fail(`frontend → checkout should have no errors: ${fc.errorRatio}`);
  const drawn = await page.$$eval('.sg-edge', (es) => es.map((e) => `${e.dataset.client}>${e.dataset.server}${e.classList.contains('sg-edge-error') ? '!' : ''}`));
  for (const e of ['frontend>checkout', 'checkout>cart!']) if (!drawn.includes(e)) fail(`edge ${e} is not drawn: ${drawn}`);
  const nodes = await page.$$eval('.sg-node', (ns) => ns.map((n) => n.dataset.service));
  for (const n of ['frontend', 'checkout', 'cart']) if (!nodes.includes(n)) fail(`node ${n} is missing: ${nodes}`);
  await t.shot('service-graph-light');
  // A node leads to its service's traces.
  await page.click('.sg-node[data-service="cart"]');
  await page.waitForSelector('#tr-service');
  await page.waitForFunction(() => document.querySelector('#tr-service').value === 'cart');
  eq(new URL(page.url()).searchParams.get('view'), null, 'clicking a node opens the search');
}

/** (5) A TraceQL query typed in the editor (with completion) finds the trace; the form follows. */
async function traceql(t, range) {
  const { page, facts } = t;
  await page.goto(t.url(`/ui/traces?${range}&q=${encodeURIComponent('{}')}`));
  await waitResults(page);
  const ta = page.locator('.tr-editor textarea');
  await ta.click();
  await ta.press('Control+a');
  await ta.press('Delete');
  await ta.pressSequentially('{ resource.service.name = "c', { delay: 15 });
  const popup = page.locator('.qe-popup [role="option"]', { hasText: 'cart' });
  await popup.first().waitFor({ timeout: 5000 });
  await ta.pressSequentially('art" && status = error }', { delay: 15 });
  await ta.press('Escape');
  eq(await ta.inputValue(), '{ resource.service.name = "cart" && status = error }', 'the typed query');
  await page.click('.tr-query-row button.primary');
  await waitResults(page);
  const rows = await resultIds(page);
  eq(rows.map((r) => r.id), [facts.traceId], 'traces the TraceQL query finds');
  eq(await page.$eval('#tr-service', (s) => s.value), 'cart', 'the form follows the query (service)');
  eq(await page.$eval('.tr-field .segmented button[aria-pressed="true"]', (b) => b.dataset.value), 'error', 'the form follows the query (status)');
  // A broken query shows the server's error in the editor. The browser logs
  // the server's 400 answers; those (and only those) are expected here.
  const before = t.problems.length;
  await ta.press('End');
  await ta.press('Backspace');
  await ta.press('Control+Enter');
  await page.waitForSelector('.qe-error:not([hidden])');
  const err = await page.$eval('.qe-error', (e) => e.textContent);
  if (!/parse error/.test(err)) fail(`the editor's error: ${err}`);
  if (!(await page.$('.qe-highlight .qe-err'))) fail('the error position is not marked in the editor');
  await page.waitForTimeout(300);
  const added = t.problems.splice(before);
  const other = added.filter((p) => !/status of 400/.test(p));
  if (other.length) t.problems.push(...other);
  await t.shot('traceql-error-light');
}

/** (6) Every view in dark theme and at 1280×800, restored from its URL. */
async function themedShots(t, range) {
  const { page, facts } = t;
  const q = encodeURIComponent('{ resource.service.name = "cart" && status = error }');
  const views = [
    ['search', `/ui/traces?${range}&service=cart&status=error&q=${q}`, '.tr-table tbody tr'],
    ['waterfall', `/ui/traces/${facts.traceId}?${range}`, '.wf-row'],
    ['span-details', `/ui/traces/${facts.traceId}?${range}&span=a000000000000006`, '.tr-details .tr-event'],
    ['service-graph', `/ui/traces?view=graph&${range}`, '.sg-table tbody tr'],
  ];
  for (const [theme, size] of [['dark', null], ['light', { width: 1280, height: 800 }], ['dark', { width: 1280, height: 800 }]]) {
    if (size) await page.setViewportSize(size);
    for (const [name, path, sel] of views) {
      await page.goto(t.url(path));
      await page.evaluate((th) => { document.documentElement.dataset.theme = th; }, theme);
      await page.waitForSelector(sel);
      await t.shot(`${name}-${theme}${size ? '-1280' : ''}`);
    }
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

export async function run(t) {
  const range = `from=${t.facts.now - 60 * 60_000}&to=now`;
  await searchByForm(t, range);
  await waterfall(t);
  await keyboardAndDetails(t);
  await serviceGraph(t, range);
  await traceql(t, range);
  await themedShots(t, range);
}
