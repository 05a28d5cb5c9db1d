// Status: build info against /api/v1/status/buildinfo, the storage table
// against /ui/api/status (the very answer the page got, and one fetched
// here), and ingest rates, limits hit and HTTP classes from /metrics after
// pushing log lines, a metric and a refused line during the test.

const check = (cond, msg) => { if (!cond) throw new Error(msg); };
const POLL_MS = 5000;

async function getJson(t, path) {
  const r = await fetch(t.url(path));
  check(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

async function post(t, path, body) {
  const r = await fetch(t.url(path), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return r.status;
}

/** Three log lines and a gauge with two points. */
async function pushData(t, now) {
  const ns = (ms) => `${ms}000000`;
  const lines = [0, 1, 2].map((i) => [ns(now + i), `level=info msg="status scenario ${i}"`]);
  check(await post(t, '/loki/api/v1/push', { streams: [{ stream: { service: 'status-scenario' }, values: lines }] }) === 204, 'the Loki push is accepted');
  const points = [now - 1000, now].map((ms, i) => ({ timeUnixNano: ns(ms), asDouble: i + 1, attributes: [{ key: 'scenario', value: { stringValue: 'status' } }] }));
  const metrics = { resourceMetrics: [{ resource: {}, scopeMetrics: [{ scope: {}, metrics: [{ name: 'ui_status_scenario', gauge: { dataPoints: points } }] }] }] };
  check(await post(t, '/v1/metrics', metrics) === 200, 'the OTLP metric is accepted');
  return { lines: 3, samples: 2 };
}

/** A log line refused for a label value over the limit (2048 bytes). */
async function pushRefused(t) {
  const refused = await post(t, '/loki/api/v1/push', { streams: [{ stream: { service: 'x'.repeat(3000) }, values: [[`${Date.now()}000000`, 'refused']] }] });
  check(refused === 400, `a label value over the limit is refused (400), got ${refused}`);
}

const cellText = (page, tenant, key, part) => page.locator(`table.status-ingest tr[data-tenant="${tenant}"] td[data-key="${key}"] .status-${part}`).textContent();
const parseInt_ = (s) => Number(String(s).replace(/[^\d]/g, ''));

function checkStorage(rows, usage, tenant) {
  for (const signal of ['metrics', 'logs', 'traces']) {
    const want = usage.find((u) => u.tenant === tenant && u.signal === signal);
    check(want, `/ui/api/status lists ${tenant}/${signal}`);
    const row = rows.find((r) => r.tenant === tenant && r.signal === signal);
    check(row, `the storage table has a ${signal} row for ${tenant}`);
    const total = want.objectBytes + want.walBytes;
    check(total > 0, `${tenant}/${signal} stores some bytes`);
    check(row.objects === want.objects, `${signal} objects: table ${row.objects}, API ${want.objects}`);
    check(row.total === total && row.wal === want.walBytes && row.store === want.objectBytes, `${signal} bytes: table ${JSON.stringify(row)}, API ${JSON.stringify(want)}`);
  }
}

export async function run(t) {
  const { page } = t;
  const statusResp = page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/api/status');
  const firstMetrics = page.waitForResponse((r) => new URL(r.url()).pathname === '/metrics');
  await page.goto(t.url('/ui/status'));
  const seen = await (await statusResp).json();
  await firstMetrics;
  const tenant = seen.data.defaultTenant;

  // Before the second read, rates are being collected.
  await page.locator('table.status-ingest').waitFor();
  check(await page.locator('table.status-ingest .status-collecting').count() > 0, 'rates say "collecting…" until the second read of /metrics');
  await t.shot('status-first-read');

  // Build info.
  const build = await getJson(t, '/api/v1/status/buildinfo');
  const version = (await page.locator('.status-facts dd.status-version').textContent()).trim();
  check(version === build.data.version, `version: page ${version}, buildinfo ${build.data.version}`);
  check(await page.locator('.status-facts dd[data-key="default tenant"]', { hasText: tenant }).count() === 1, 'the default tenant is shown');
  for (const s of ['metrics', 'logs', 'traces']) {
    check(await page.locator(`.status-signals .badge.ok[data-signal=${s}]`).count() === (seen.data.signals[s] ? 1 : 0), `${s} readiness badge`);
  }

  // Storage: exactly what the page was answered, and the same shape now.
  const rows = await page.locator('table.status-storage tbody tr[data-signal]').evaluateAll((trs) => trs.map((tr) => {
    const bytes = [...tr.querySelectorAll('td.num')].map((td) => Number((td.title || td.textContent).replace(/[^\d]/g, '')));
    return { tenant: tr.dataset.tenant, signal: tr.dataset.signal, objects: bytes[0], store: bytes[1], wal: bytes[2], total: bytes[3] };
  }));
  checkStorage(rows, seen.data.usage, tenant);
  const now = await getJson(t, '/ui/api/status');
  for (const s of ['metrics', 'logs', 'traces']) {
    const u = now.data.usage.find((x) => x.tenant === tenant && x.signal === s);
    check(u && u.objectBytes + u.walBytes > 0, `/ui/api/status fetched by the test lists ${tenant}/${s} with bytes`);
  }
  const tenants = new Set(seen.data.usage.map((u) => u.tenant));
  check(await page.locator('table.status-storage tbody tr.status-subtotal').count() === tenants.size, 'a total row per tenant');

  // Push between two reads, then wait for the rates.
  const before = { lines: parseInt_(await cellText(page, tenant, 'Log lines', 'total')), samples: parseInt_(await cellText(page, tenant, 'Samples', 'total')) };
  const pushed = await pushData(t, Date.now());
  const readAfterPush = Date.now();
  await page.waitForFunction(([tn]) => {
    const cell = document.querySelector(`table.status-ingest tr[data-tenant="${tn}"] td[data-key="Log lines"] .status-rate`);
    return cell && /^[\d.]+[kM]?\/s$/.test(cell.textContent) && cell.textContent !== '0/s';
  }, [tenant], { timeout: 3 * POLL_MS + 2000 });
  t.measure('rate_visible_after_push', Date.now() - readAfterPush);
  const after = { lines: parseInt_(await cellText(page, tenant, 'Log lines', 'total')), samples: parseInt_(await cellText(page, tenant, 'Samples', 'total')) };
  check(after.lines - before.lines === pushed.lines, `log lines received went up by ${pushed.lines}: ${before.lines} → ${after.lines}`);
  check(after.samples - before.samples >= pushed.samples, `samples received went up by at least ${pushed.samples}: ${before.samples} → ${after.samples}`);
  const lineRate = await cellText(page, tenant, 'Log lines', 'rate');
  check(parseFloat(lineRate) > 0 && parseFloat(lineRate) <= pushed.lines, `log lines/s between the two reads: ${lineRate}`);
  const sampleRate = await cellText(page, tenant, 'Samples', 'rate');
  check(/\/s$/.test(sampleRate), `samples/s is a rate: ${sampleRate}`);

  // A refused line shows under limits hit, and its 400 as a 4xx.
  const limitSel = `table.status-limits tr[data-reason="label_value_too_long"][data-tenant="${tenant}"]`;
  const limit = page.locator(limitSel);
  const refusedBefore = (await limit.count()) ? parseInt_(await limit.locator('td').nth(4).textContent()) : 0;
  await pushRefused(t);
  await page.waitForFunction(([sel, n]) => {
    const td = document.querySelector(`${sel} td:nth-child(5)`);
    return td && Number(td.textContent.replace(/[^\d]/g, '')) > n;
  }, [limitSel, refusedBefore], { timeout: 3 * POLL_MS });
  const cells = await limit.locator('td').allTextContents();
  check(cells[0] === 'logs' && cells[3] === tenant && parseInt_(cells[4]) === refusedBefore + 1, `limits row: ${JSON.stringify(cells)}`);
  const c4 = parseInt_(await page.locator('.status-card[data-class="4xx"] .status-total').textContent());
  check(c4 >= 1, `4xx requests counted: ${c4}`);
  const push4xx = await page.locator('table.status-http tr[data-handler="/loki/api/v1/push"] td').nth(4).textContent();
  check(parseInt_(push4xx) >= 1, `the refused push is a 4xx of /loki/api/v1/push: ${push4xx}`);
  await t.shot('status-rates');

  await page.locator('#theme-toggle').click();
  await t.shot('status-dark');
  await page.setViewportSize({ width: 1280, height: 800 });
  await t.shot('status-dark-1280');
  await page.locator('#theme-toggle').click();
  await t.shot('status-light-1280');

  // Leaving the page stops the polling.
  await page.locator('.mainnav a[data-page=dashboards]').click();
  await page.locator('.page-dashboards').waitFor();
  let polled = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/metrics') polled++; });
  await page.waitForTimeout(POLL_MS + 1000);
  check(polled === 0, `no /metrics reads after leaving the page, got ${polled}`);
}
