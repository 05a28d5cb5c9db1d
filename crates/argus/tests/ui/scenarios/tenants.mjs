// Tenants in the UI: the header's selector lists the tenants with data,
// every request of the page carries the chosen one (X-Scope-OrgID), the
// URL keeps it (a reload or a shared link shows the same tenant's data),
// and one tenant's data is never shown under another.
//  1. a metric and a log line are sent for tenant `ui-team-b` only;
//  2. the selector lists ui-team-b; choosing it puts tenant=ui-team-b in the URL;
//  3. the metrics explorer finds the metric there, not under the default tenant;
//  4. the logs explorer finds the line there; a reload keeps the tenant;
//  5. the default tenant's data (ui_queue_depth) is not under ui-team-b;
//  6. the header's auto-refresh: in the URL, re-runs the page's query, kept across pages.

const TENANT = 'ui-team-b';

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function send(t, now) {
  const ns = `${now}000000`;
  const post = async (path, body) => {
    const r = await fetch(t.url(path), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Scope-OrgID': TENANT },
      body: JSON.stringify(body),
    });
    check(r.ok, `POST ${path} for ${TENANT}: ${r.status} ${await r.text()}`);
  };
  await post('/v1/metrics', {
    resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: {}, metrics: [{
      name: 'team_b_only', description: 'Only in tenant ui-team-b.', unit: '',
      gauge: { dataPoints: [{ timeUnixNano: ns, asDouble: 7, attributes: [{ key: 'who', value: { stringValue: 'b' } }] }] },
    }] }] }],
  });
  await post('/loki/api/v1/push', { streams: [{ stream: { service: 'team-b-svc' }, values: [[ns, 'hello from team b']] }] });
}

/** The results status of the metrics page once a run finished. */
async function runMetrics(page, query) {
  const ta = page.locator('.page-metrics .qe-input').first();
  await ta.fill(query);
  await page.evaluate(() => { document.querySelector('.metrics-results').dataset.status = 'loading'; });
  await page.locator('.metrics-run').click();
  const h = await page.waitForFunction(() => {
    const s = document.querySelector('.metrics-results')?.dataset.status;
    return s && s !== 'loading' && s !== 'idle' ? s : false;
  }, null, { polling: 50 });
  return h.jsonValue();
}

const legend = (page) => page.$$eval('.metrics-chart .tchart-legend-item', (els) => els.map((e) => e.textContent.trim()));

export async function run(t) {
  const { page } = t;
  const now = Date.now();
  await send(t, now);
  const range = `from=${now - 15 * 60_000}&to=${now + 60_000}`;

  // The default tenant does not see ui-team-b's metric.
  await page.goto(t.url(`/ui/metrics?${range}`));
  const select = page.locator('#tenant');
  await page.waitForFunction((name) => [...document.querySelectorAll('#tenant option')].some((o) => o.value === name), TENANT);
  const before = await runMetrics(page, 'team_b_only');
  check(before === 'empty', `the default tenant has no team_b_only (status ${before})`);

  // Choose ui-team-b: the URL carries it and the metric is there.
  await select.selectOption(TENANT);
  await page.waitForURL((u) => new URL(u).searchParams.get('tenant') === TENANT);
  const found = await runMetrics(page, 'team_b_only');
  check(found === 'done', `team_b_only under ui-team-b: ${found}`);
  const names = await legend(page);
  check(names.length === 1 && names[0].includes('who="b"'), `ui-team-b's series: ${JSON.stringify(names)}`);
  // Its metadata (help) is ui-team-b's.
  await page.locator('.metrics-meta-help', { hasText: 'Only in tenant ui-team-b.' }).waitFor();
  await t.shot('metrics-team-b');
  // ...and the default tenant's ui_queue_depth is not.
  const other = await runMetrics(page, 'ui_queue_depth');
  check(other === 'empty', `ui_queue_depth is not shown under ui-team-b (status ${other})`);

  // The logs explorer, by a link that keeps the tenant; then a reload.
  const q = encodeURIComponent('{service="team-b-svc"}');
  await page.goto(t.url(`/ui/logs?tenant=${TENANT}&${range}&query=${q}`));
  await page.getByText('hello from team b').first().waitFor();
  await page.reload();
  await page.getByText('hello from team b').first().waitFor();
  check(await select.inputValue() === TENANT, `after a reload the selector shows ${await select.inputValue()}`);
  await t.shot('logs-team-b');

  // Auto-refresh: the header's interval goes in the URL and runs the page's
  // query again every interval; navigation keeps it; Off stops it.
  let runs = 0;
  page.on('request', (r) => { if (r.url().includes('/loki/api/v1/query_range')) runs += 1; });
  await page.getByLabel('Auto-refresh').selectOption('5s');
  await page.waitForURL((u) => new URL(u).searchParams.get('refresh') === '5s');
  const runsBefore = runs;
  await page.waitForTimeout(5_600);
  check(runs > runsBefore, `auto-refresh every 5s ran the query again (${runs - runsBefore} requests in 5.6 s)`);
  await page.locator('.mainnav a[data-page=metrics]').click();
  await page.waitForURL((u) => new URL(u).pathname === '/ui/metrics');
  check(new URL(page.url()).searchParams.get('refresh') === '5s', `the navigation keeps refresh=5s: ${page.url()}`);
  check(await page.getByLabel('Auto-refresh').inputValue() === '5s', 'the picker shows 5s after navigating');
  await page.getByLabel('Auto-refresh').selectOption('');
  await page.waitForURL((u) => !new URL(u).searchParams.has('refresh'));
}
