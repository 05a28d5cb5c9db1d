// The logs explorer (/ui/logs) against the fixture's logs:
//  1. `{service="checkout"} |= "payment failed"`: exactly the fail line, "payment failed"
//     marked; expanded, its structured metadata (trace_id, user_id=u-42) and parsed fields
//     (order=4242); its "View trace" link opens /ui/traces/<traceId>;
//  2. the volume histogram of `{service="checkout"}`: one series per level present (from the
//     chart's legend) and totals equal to what the API returns for the selector;
//  3. `{service="bulk"}`, limit 5000: the list is virtualised (< 200 rows in the DOM for
//     5,000 lines), a wheel scroll to the bottom is smooth (p95 frame ≤ 50 ms) and ends
//     on "bulk line 0000";
//  4. oldest/newest first flips the first row;
//  5. live tail of {service="tailtest"}: a pushed line shows up; pause buffers, resume shows;
//  6. screenshots: light, dark, 1280×800.

const MIN = 60_000;

function check(cond, message) {
  if (!cond) throw new Error(message);
}

const enc = encodeURIComponent;

/** Waits until the lines panel has settled; returns its status (ok, empty, error). */
async function settled(page, timeout = 20_000) {
  const h = await page.waitForFunction(() => {
    const s = document.querySelector('.log-results')?.dataset.status;
    return s && s !== 'loading' && s !== 'idle' ? s : false;
  }, null, { timeout, polling: 50 });
  return h.jsonValue();
}

/** Waits until the volume panel shows a total; returns it. */
async function volumeTotal(page) {
  const h = await page.waitForFunction(() => {
    const v = document.querySelector('.log-volume');
    return v && !v.classList.contains('is-loading') && v.dataset.total !== undefined
      ? document.querySelector('.log-volume-total')?.textContent : false;
  }, null, { polling: 50 });
  return Number(String(await h.jsonValue()).replace(/[^\d]/g, ''));
}

const firstRowText = (page) => page.$eval('.log-list .vlist-row[data-index="0"] .log-line', (e) => e.textContent);

/** Lines of `query` over [start, end] straight from the API, with their levels. */
async function apiLines(t, query, start, end) {
  const sp = new URLSearchParams({ query, start: `${start}000000`, end: `${end}000000`, limit: '5000' });
  const r = await fetch(`${t.base}/loki/api/v1/query_range?${sp}`, { headers: t.facts.tenant ? { 'X-Scope-OrgID': t.facts.tenant } : {} });
  check(r.ok, `the API refused ${query}: ${r.status}`);
  const body = await r.json();
  const byLevel = {};
  let total = 0;
  for (const s of body.data.result) {
    const level = s.stream.detected_level || s.stream.level || 'unknown';
    byLevel[level] = (byLevel[level] || 0) + s.values.length;
    total += s.values.length;
  }
  return { total, byLevel };
}

async function failLine(t, range) {
  const { page, facts } = t;
  await page.goto(t.url(`/ui/logs?query=${enc('{service="checkout"} |= "payment failed"')}&${range}`));
  check(await settled(page) === 'ok', 'the payment-failed query did not list lines');
  const rows = await page.$$eval('.log-list .log-row .log-line', (els) => els.map((e) => e.textContent));
  check(rows.length === 1, `expected exactly the fail line, the list has ${rows.length} rows: ${rows.join(' | ')}`);
  check(rows[0] === facts.failLine, `the listed line is ${JSON.stringify(rows[0])}, expected ${JSON.stringify(facts.failLine)}`);
  const marks = await page.$$eval('.log-list .log-row .log-line mark', (els) => els.map((e) => e.textContent));
  check(marks.length === 1 && marks[0] === 'payment failed', `marked text: ${JSON.stringify(marks)}`);
  const stats = await page.textContent('.log-stats');
  check(/^1 line\b/.test(stats), `the stats say "${stats}"`);

  await page.click('.log-list .log-row .log-toggle');
  await page.waitForSelector('.log-row.is-expanded .log-details');
  check(await page.getAttribute('.log-row .log-toggle', 'aria-expanded') === 'true', 'the toggle is not aria-expanded');
  const kv = (section) => page.$$eval(`.log-details [data-section="${section}"] tr`, (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.key, tr.querySelector('.log-value').textContent])));
  const sm = await kv('sm');
  check(sm.trace_id === facts.traceId, `structured metadata trace_id = ${sm.trace_id}`);
  check(sm.user_id === 'u-42', `structured metadata user_id = ${sm.user_id}`);
  const stream = await kv('stream');
  check(stream.service === 'checkout' && stream.level === 'error', `stream labels: ${JSON.stringify(stream)}`);
  const parsed = await kv('parsed');
  check(parsed.order === '4242', `parsed fields: order = ${parsed.order}`);
  check(parsed.msg === 'payment failed: cart unavailable', `parsed fields: msg = ${parsed.msg}`);
  check(new URL(page.url()).searchParams.get('line'), 'the expanded line is not in the URL');
  await t.shot('fail-line-expanded');

  // "Filter out" on a parsed field edits the query and re-runs it: no line is left.
  await page.click('.log-details [data-section="parsed"] tr[data-key="order"] button[aria-label^="Filter out"]');
  check(await settled(page) === 'empty', 'filtering out order=4242 still lists lines');
  const q = await page.inputValue('.log-query .qe-input');
  check(q === '{service="checkout"} |= "payment failed" | logfmt | order!="4242"', `the filter made the query ${q}`);
  await page.goBack();
  check(await settled(page) === 'ok', 'going back did not restore the fail line');
  await page.waitForSelector('.log-row.is-expanded .log-trace-link');

  await page.click('.log-row.is-expanded .log-trace-link');
  await page.waitForURL((u) => u.pathname === `/ui/traces/${facts.traceId}`);
  await page.waitForSelector('.page-traces');
}

async function volume(t, range, start, end) {
  const { page } = t;
  const query = '{service="checkout"}';
  await page.goto(t.url(`/ui/logs?query=${enc(query)}&${range}`));
  check(await settled(page) === 'ok', 'the checkout query listed no lines');
  const total = await volumeTotal(page);
  const legend = await page.$$eval('.log-volume .tchart-legend-item', (els) => els.map((e) => e.textContent.trim()));
  const perLevel = await page.$$eval('.log-volume-level', (els) => Object.fromEntries(els.map((e) => [e.dataset.level, Number(e.textContent.replace(/[^\d]/g, ''))])));
  const api = await apiLines(t, query, start, end);
  t.log(`volume: total ${total}, legend ${legend.join(',')}, API ${api.total} ${JSON.stringify(api.byLevel)}`);
  const want = Object.keys(api.byLevel).sort();
  check(JSON.stringify([...legend].sort()) === JSON.stringify(want), `legend ${legend.join(', ')}, levels in the API's answer ${want.join(', ')}`);
  check(total === api.total, `the histogram counts ${total} lines, the API returns ${api.total}`);
  for (const [level, n] of Object.entries(api.byLevel)) check(perLevel[level] === n, `${level}: histogram ${perLevel[level]}, API ${n}`);
  const lines = Number((await page.getAttribute('.log-stats', 'data-lines')) || 0);
  check(lines === api.total, `the list shows ${lines} lines, the API ${api.total}`);
  await t.shot('volume');
}

/** Scrolls the list to the bottom with the wheel while sampling frame times. */
async function wheelToBottom(page) {
  const box = await page.locator('.log-list').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(() => {
    const s = { frames: [], last: performance.now(), on: true };
    window.__frames = s;
    const tick = (now) => { s.frames.push(now - s.last); s.last = now; if (s.on) requestAnimationFrame(tick); };
    requestAnimationFrame((now) => { s.last = now; requestAnimationFrame(tick); });
  });
  for (let i = 0; i < 400; i++) {
    await page.mouse.wheel(0, 1000);
    await page.waitForTimeout(16);
    const atBottom = await page.$eval('.log-list', (el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
    if (atBottom) break;
  }
  await page.waitForTimeout(200);
  return page.evaluate(() => { window.__frames.on = false; return window.__frames.frames; });
}

async function bulk(t, range) {
  const { page, facts } = t;
  await page.goto(t.url(`/ui/logs?query=${enc('{service="bulk"}')}&limit=5000&${range}`));
  check(await settled(page) === 'ok', 'the bulk query listed no lines');
  const stats = await page.textContent('.log-stats');
  check(stats.startsWith(`${facts.bulkLines.toLocaleString('en-US')} lines`), `the stats say "${stats}" (expected ${facts.bulkLines} lines)`);
  const domRows = await page.$$eval('.log-list .vlist-row', (e) => e.length);
  t.log(`bulk: ${domRows} row elements for ${facts.bulkLines} lines`);
  check(domRows > 10 && domRows < 200, `${domRows} row elements in the DOM for ${facts.bulkLines} lines (not virtualised)`);
  check((await firstRowText(page)).includes('bulk line 4999'), `newest first, the first row is ${await firstRowText(page)}`);

  const frames = (await wheelToBottom(page)).filter((f) => f > 0).sort((a, b) => a - b);
  check(frames.length > 20, `only ${frames.length} frames sampled`);
  const p95 = frames[Math.min(frames.length - 1, Math.floor(frames.length * 0.95))];
  t.measure('bulk_scroll_p95_frame', Math.round(p95 * 10) / 10);
  t.measure('bulk_scroll_frames', frames.length, 'frames');
  check(p95 <= 50, `p95 frame during the scroll is ${p95.toFixed(1)} ms (limit 50 ms)`);
  const last = await page.evaluate(() => {
    const list = document.querySelector('.log-list');
    const lr = list.getBoundingClientRect();
    const rows = [...list.querySelectorAll('.vlist-row')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.bottom > lr.top && b.top < lr.bottom;
    });
    rows.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
    return { text: rows.length ? rows[rows.length - 1].querySelector('.log-line').textContent : '', count: document.querySelectorAll('.log-list .vlist-row').length };
  });
  check(last.text.includes('bulk line 0000'), `at the bottom the last visible row is ${JSON.stringify(last.text)}`);
  check(last.count < 200, `${last.count} row elements after scrolling`);
  await t.shot('bulk-bottom');

  // 4. Order: oldest first puts line 0000 on top, newest first 4999 again.
  await page.click('.log-results button:text-is("Oldest first")');
  check(await settled(page) === 'ok', 'oldest first listed no lines');
  await page.waitForFunction(() => document.querySelector('.log-list .vlist-row[data-index="0"] .log-line')?.textContent.includes('bulk line 0000'));
  check(new URL(page.url()).searchParams.get('dir') === 'forward', 'the order is not in the URL');
  await page.click('.log-results button:text-is("Newest first")');
  await page.waitForFunction(() => document.querySelector('.log-list .vlist-row[data-index="0"] .log-line')?.textContent.includes('bulk line 4999'));
  check((await firstRowText(page)).includes('bulk line 4999'), 'newest first did not flip the first row back');
}

async function push(t, line) {
  const body = { streams: [{ stream: { service: 'tailtest', level: 'info' }, values: [[`${Date.now()}000000`, line]] }] };
  const headers = { 'Content-Type': 'application/json' };
  if (t.facts.tenant) headers['X-Scope-OrgID'] = t.facts.tenant;
  const r = await fetch(`${t.base}/loki/api/v1/push`, { method: 'POST', headers, body: JSON.stringify(body) });
  check(r.ok, `push failed: ${r.status} ${await r.text()}`);
}

const rowWith = (page, text) => page.waitForFunction((s) => [...document.querySelectorAll('.log-list .log-line')].some((e) => e.textContent.includes(s)), text, { timeout: 8000 });

async function liveTail(t) {
  const { page } = t;
  await page.goto(t.url(`/ui/logs?query=${enc('{service="tailtest"}')}`));
  await settled(page);
  await page.click('.log-live-btn');
  await page.waitForSelector('.log-live-status[data-state="live"]');
  const first = `tail check ${Date.now()} one`;
  const t0 = Date.now();
  await push(t, `level=info msg="${first}"`);
  await rowWith(page, first);
  t.measure('tail_latency', Date.now() - t0);
  // Paused: a new line waits in the buffer; resuming shows it on top.
  await page.click('.log-pause');
  const second = `tail check ${Date.now()} two`;
  await push(t, `level=warn msg="${second}"`);
  await page.waitForFunction(() => /Resume \(1 new\)/.test(document.querySelector('.log-pause').textContent), null, { timeout: 8000 });
  check(!(await page.$$eval('.log-list .log-line', (els, s) => els.some((e) => e.textContent.includes(s)), second)), 'a line showed while paused');
  await t.shot('live-paused');
  await page.click('.log-pause');
  await rowWith(page, second);
  check((await firstRowText(page)).includes(second), 'the newest tailed line is not on top');
  await page.click('.log-live-btn');
  await page.waitForFunction(() => document.querySelector('.log-live-btn').getAttribute('aria-pressed') === 'false');
  check(await settled(page) === 'ok', 'after the tail the query did not list the lines');
}

async function screenshots(t, range) {
  const { page } = t;
  await page.goto(t.url(`/ui/logs?query=${enc('{service=~"checkout|cart"} |= "error"')}&${range}`));
  await settled(page);
  await page.click('.log-list .vlist-row[data-index="1"] .log-toggle');
  await page.click('.log-query button:text-is("Label browser")');
  // The browser starts from the query's selector; picking `level` adds a column of its values.
  await page.waitForSelector('.lb-column h3:text-is("service")');
  const preview = await page.textContent('.lb-preview');
  check(preview === '{service=~"checkout|cart"}', `the label browser starts from ${preview}`);
  await page.click('.lb-label:text-is("level")');
  await page.waitForSelector('.lb-column h3:text-is("level")');
  await page.check('.lb-column:has(h3:text-is("level")) input[type="checkbox"] >> nth=0');
  const levels = await page.$$eval('.lb-column:has(h3:text-is("level")) li', (els) => els.map((e) => e.dataset.value));
  check(JSON.stringify(levels) === '["error","info","warn"]', `level values: ${levels}`);
  check(await page.textContent('.lb-preview') === '{service=~"checkout|cart", level="error"}', `after picking: ${await page.textContent('.lb-preview')}`);
  await t.shot('light-1440');
  await page.click('#theme-toggle');
  await page.waitForTimeout(150);
  await t.shot('dark-1440');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(200);
  await t.shot('dark-1280');
  await page.click('#theme-toggle');
  await page.waitForTimeout(150);
  await t.shot('light-1280');
}

export async function run(t) {
  const start = t.facts.now - 60 * MIN, end = t.facts.now + 5 * MIN;
  const range = `from=${start}&to=${end}`;
  await failLine(t, range);
  await volume(t, range, start, end);
  await bulk(t, range);
  await liveTail(t);
  await screenshots(t, range);
}
