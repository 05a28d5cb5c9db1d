// Runs the UI's end-to-end scenarios in headless Chromium (Debian's
// chromium, driven by playwright-core) against a running Argus that holds
// the fixture's data (fixture.mjs). Started by the server integration test
// (crates/argus/tests/server/ui.rs); by hand:
//
//   node run.mjs --base http://127.0.0.1:9009 --facts facts.json --artifacts /tmp/ui [--only metrics,logs]
//
// Each scenario is a module `scenarios/<name>.mjs` exporting
// `run(t)`; `t` has the page, the facts, `t.shot(name)` (a screenshot into
// the artifacts), `t.measure(name, value, unit)` and `t.log(...)`. Any
// console error, uncaught page error or request to anything but Argus
// fails the scenario. Prints one
// line per scenario and `N passed, M failed`; exits 1 on a failure.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCENARIOS = ['metrics', 'logs', 'traces', 'dashboards', 'status', 'tenants', 'a11y'];
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function args() {
  const a = process.argv.slice(2), out = {};
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}

async function runOne(browser, name, opts, measurements) {
  const mod = await import(`./scenarios/${name}.mjs`);
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The page works with what the binary serves: no request leaves it.
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(opts.base) && !/^(data|blob):/.test(u)) problems.push(`request outside Argus: ${u}`);
  });
  page.on('requestfailed', (r) => {
    const f = r.failure();
    if (f && f.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${f.errorText}`);
  });
  page.setDefaultTimeout(20_000);
  let shots = 0;
  const t = {
    page, context, base: opts.base, facts: opts.facts,
    url: (path) => opts.base + path,
    log: (...x) => console.log(`  [${name}]`, ...x),
    shot: async (label) => {
      const file = join(opts.artifacts, `${name}-${String(++shots).padStart(2, '0')}-${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    measure: (key, value, unit = 'ms') => { measurements[`${name}.${key}`] = { value, unit }; console.log(`  [${name}] ${key} = ${value} ${unit}`); },
    problems,
  };
  const started = Date.now();
  try {
    await mod.run(t);
    if (problems.length) throw new Error(`the page logged errors:\n    ${problems.join('\n    ')}`);
    console.log(`PASS ${name} (${Date.now() - started} ms)`);
    return true;
  } catch (e) {
    console.log(`FAIL ${name}: ${e.stack || e}`);
    try { await t.shot('failure'); } catch (x) { /* page gone */ }
    return false;
  } finally {
    await context.close();
  }
}

async function main() {
  const a = args();
  const opts = {
    base: a.base || 'http://127.0.0.1:9009',
    facts: JSON.parse(readFileSync(a.facts || 'facts.json', 'utf8')),
    artifacts: a.artifacts || '/tmp/argus-ui-artifacts',
  };
  mkdirSync(opts.artifacts, { recursive: true });
  const only = a.only ? a.only.split(',') : SCENARIOS;
  const browser = await chromium.launch({ executablePath: a.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const measurements = {};
  let passed = 0, failed = 0;
  try {
    for (const name of only) {
      if (await runOne(browser, name, opts, measurements)) passed++; else failed++;
    }
  } finally {
    await browser.close();
  }
  writeFileSync(join(opts.artifacts, 'measurements.json'), JSON.stringify(measurements, null, 1));
  console.log(`ui: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
