// Accessibility and layout audit of every view of the UI, in both themes,
// at 1440×900 and 1280×800 (and a narrow 900 px check):
//  - contrast: every visible text (DOM text nodes, form values, SVG text) against
//    its effective background (ancestors' backgrounds blended; background
//    images are unknown and skipped): ≥ 4.5:1, or ≥ 3:1 for large text; the
//    canvas charts' axis text (--muted, --fg) against their panel and --panel/--bg;
//  - names: every visible button, link, input, select, textarea, [role=tab|option|
//    button|img] has an accessible name; every <img> has an alt;
//  - keyboard: Tab from the top reaches the main navigation, the time picker,
//    the tenant, the theme toggle and the view's primary action within a
//    bounded number of presses; every stop shows a focus indicator (outline or
//    box-shadow that is not there unfocused, ≥ 3:1 against its background);
//    focus always moves (no trap); Enter on a navigation link navigates;
//  - layout: no horizontal page overflow at 1440 and 1280 px, nor at 900 px (and 1920 px).
// Every view is screenshotted; offenders are outlined in magenta in an extra
// "-offenders" screenshot, and a JSON report (a11y-report.json) is written
// beside the screenshots.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MIN = 60_000;
const SIZES = [{ width: 1440, height: 900 }, { width: 1280, height: 800 }];
const NARROW = { width: 900, height: 800 };
const WIDE = { width: 1920, height: 1080 };
const THEMES = ['light', 'dark'];
/** Presses of Tab within which the header's controls must be reached. */
const HEADER_TABS = 15;
/** Presses of Tab within which the view's primary action must be reached. */
const PRIMARY_TABS = 60;

const check = (cond, message) => { if (!cond) throw new Error(message); };
const enc = encodeURIComponent;

// ------------------------------------------------------------------ views

async function settledStatus(page, sel) {
  const h = await page.waitForFunction((s) => {
    const st = document.querySelector(s)?.dataset.status;
    return st && st !== 'loading' && st !== 'idle' ? st : false;
  }, sel, { polling: 50 });
  return h.jsonValue();
}

/** The audited views: path, how to bring them to the state audited, their primary action. */
function views(t, dashId) {
  const { facts } = t;
  const range = `from=${facts.now - 60 * MIN}&to=now`;
  const metricsRange = `from=${facts.metricsEndMs - 60 * MIN}&to=${facts.metricsEndMs}`;
  const logsRange = `from=${facts.now - 60 * MIN}&to=${facts.now + 5 * MIN}`;
  return [
    {
      name: 'metrics', path: `/ui/metrics?q=ui_queue_depth&${metricsRange}`, primary: 'button.metrics-run',
      ready: async (page) => {
        check(await settledStatus(page, '.metrics-results') === 'done', 'the ui_queue_depth query did not run');
        await page.waitForFunction(() => document.querySelectorAll('.metrics-chart .tchart-legend-item').length === 3);
      },
    },
    {
      // A client-side error (unclosed parenthesis): the message under the editor and the marked span.
      name: 'metrics-error', path: `/ui/metrics?q=${enc('sum(rate(ui_queue_depth[5m])')}&${metricsRange}`, keyboard: false,
      ready: async (page) => { await page.waitForSelector('.qe-error:not([hidden])'); await page.waitForSelector('.qe-highlight .qe-err'); },
    },
    {
      // The completion popup over the empty page (with its metric browser).
      name: 'metrics-completion', path: `/ui/metrics?${metricsRange}`, keyboard: false,
      ready: async (page) => {
        await page.waitForSelector('.metrics-browser-item');
        await page.locator('.metrics-query-row .qe-input').first().focus();
        await page.keyboard.type('r', { delay: 30 });
        await page.locator('.qe-popup [role="option"][aria-selected="true"]').waitFor({ state: 'visible' });
        check(await page.locator('.qe-popup [role="option"]').count() > 3, 'completion offers several items for "r"');
      },
    },
    {
      name: 'logs', path: `/ui/logs?query=${enc('{service="checkout"}')}&${logsRange}`, primary: 'button.primary',
      primaryText: 'Run query',
      ready: async (page) => {
        check(await settledStatus(page, '.log-results') === 'ok', 'the {service="checkout"} query listed no lines');
        await page.waitForFunction(() => { const v = document.querySelector('.log-volume'); return v && !v.classList.contains('is-loading') && v.dataset.total !== undefined; });
        await page.click('.log-list .vlist-row[data-index="0"] .log-toggle');
        await page.waitForSelector('.log-row.is-expanded .log-details');
      },
    },
    {
      name: 'logs-browser', path: `/ui/logs?query=${enc('{service="checkout"}')}&${logsRange}`, keyboard: false,
      ready: async (page) => {
        await settledStatus(page, '.log-results');
        await page.getByRole('button', { name: 'Label browser' }).click();
        // The query's selector is picked already: the service column lists its values.
        await page.waitForSelector('.log-browser .lb-label[aria-pressed="true"]');
        await page.waitForSelector('.log-browser .lb-values li');
      },
    },
    {
      name: 'traces-search', path: `/ui/traces?${range}`, primary: '.tr-query-row button.primary', primaryText: 'Search',
      ready: async (page) => {
        await page.waitForSelector('.tr-results:not([aria-busy]) .tr-table tbody tr');
        await page.waitForFunction(() => !/Searching/.test(document.querySelector('.tr-summary').textContent));
      },
    },
    {
      name: 'trace', path: `/ui/traces/${facts.traceId}?${range}&span=a000000000000006`, primary: '.wf-row',
      ready: async (page) => { await page.waitForSelector('.tr-details[data-span-id="a000000000000006"] .tr-event'); },
    },
    {
      name: 'service-graph', path: `/ui/traces?view=graph&${range}`, primary: '.sg-node',
      ready: async (page) => { await page.waitForSelector('.sg-body:not([aria-busy]) .sg-table tbody tr'); await page.waitForSelector('.sg-node'); },
    },
    {
      name: 'dashboards', path: '/ui/dashboards', primary: 'a.button.primary', primaryText: '+ New dashboard',
      ready: async (page) => { await page.locator('.dash-list-body :is(table, .dash-empty)').first().waitFor(); },
    },
    {
      name: 'dashboard', path: `/ui/dashboards/${dashId}?${metricsRange}`, primary: 'button.dash-edit',
      ready: async (page) => {
        await page.waitForSelector('.dash-grid .dash-panel');
        await page.waitForFunction(() => {
          const ps = [...document.querySelectorAll('.dash-grid .dash-panel')];
          return ps.length === 5 && ps.every((p) => !p.classList.contains('is-loading') && p.querySelector('.dash-panel-body').childElementCount);
        });
        await page.waitForSelector('.dash-panel[data-type=stat] .dash-stat-value');
      },
      keys: async (page) => {
        // The logs panel is one tab stop; the arrow keys move between its lines, Enter unfolds one.
        const stops = await page.$$eval('.dash-panel[data-type=logs] .dash-log', (ls) => ls.filter((l) => l.tabIndex >= 0).length);
        check(stops === 1, `the logs panel should be one tab stop, it has ${stops}`);
        await page.focus('.dash-panel[data-type=logs] .dash-log[tabindex="0"]');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('ArrowDown');
        const at = await page.evaluate(() => [...document.activeElement.parentElement.children].indexOf(document.activeElement));
        check(at === 2, `two ↓ from the first log line should focus the third, focused #${at}`);
        await page.keyboard.press('Enter');
        check(await page.evaluate(() => document.activeElement.getAttribute('aria-expanded')) === 'true', 'Enter unfolds the focused log line');
        await page.keyboard.press('End');
        check(await page.evaluate(() => !document.activeElement.nextElementSibling && document.activeElement.tabIndex === 0), 'End focuses the last line, which becomes the tab stop');
      },
    },
    {
      name: 'dashboard-panel-editor', path: `/ui/dashboards/${dashId}?edit=1&${metricsRange}`, keyboard: false,
      ready: async (page) => {
        await page.locator('.dash-grid .dash-panel[data-type=timeseries] .dash-edit-panel').click();
        await page.waitForSelector('dialog[open] .dash-editor-preview .dash-panel .tchart-legend-item');
      },
    },
    {
      name: 'status', path: '/ui/status', primary: '.system-nav a',
      ready: async (page) => { await page.locator('table.status-ingest').waitFor(); await page.locator('table.status-storage').waitFor(); },
    },
  ];
}

/** A dashboard with one panel of each kind, to audit a dashboard's view. */
function auditDashboard() {
  return {
    title: 'Accessibility check', version: 1,
    variables: [{ name: 'queue', query: 'label_values(ui_queue_depth, queue)', multi: true, includeAll: true, current: ['$__all'] }],
    panels: [
      { id: 1, type: 'timeseries', title: 'Queue depth', queries: [{ expr: 'ui_queue_depth{queue=~"$queue"}', legend: '{{queue}}' }], gridPos: { x: 0, y: 0, w: 12, h: 8 } },
      { id: 2, type: 'stat', title: 'Total depth', queries: [{ expr: 'sum(ui_queue_depth{queue=~"$queue"})' }], gridPos: { x: 12, y: 0, w: 6, h: 4 } },
      { id: 3, type: 'table', title: 'Depth by queue', queries: [{ expr: 'ui_queue_depth{queue=~"$queue"}' }], gridPos: { x: 18, y: 0, w: 6, h: 8 } },
      { id: 4, type: 'logs', title: 'Checkout logs', queries: [{ expr: '{service="checkout"}' }], gridPos: { x: 0, y: 8, w: 12, h: 8 } },
      { id: 5, type: 'traces', title: 'Cart traces', queries: [{ expr: '{ resource.service.name = "cart" }' }], gridPos: { x: 12, y: 8, w: 12, h: 8 } },
    ],
  };
}

// ------------------------------------------------------------------ in-page audit

/**
 * Runs in every page of the context before its scripts: colour parsing,
 * WCAG contrast, backgrounds and CSS paths for the audits below (window.__a11yLib).
 */
function installLib() {
  let probe = null;
  const cache = new Map();
  /** Any CSS colour → [r, g, b, a] (0–255, alpha 0–1), or null. */
  function rgba(str) {
    if (!str) return null;
    let m = str.match(/^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : +m[4]];
    m = str.match(/^color\(srgb\s+([-\d.e]+)\s+([-\d.e]+)\s+([-\d.e]+)(?:\s*\/\s*([\d.]+%?))?\s*\)$/);
    if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : +m[4]];
    if (str === 'transparent') return [0, 0, 0, 0];
    if (cache.has(str)) return cache.get(str);
    if (!probe || !probe.isConnected) {
      probe = document.createElement('span');
      probe.style.display = 'none';
      document.documentElement.append(probe);
    }
    probe.style.color = '';
    probe.style.color = str;
    const c = probe.style.color ? getComputedStyle(probe).color : '';
    const out = c && c !== str ? rgba(c) : null;
    cache.set(str, out);
    return out;
  }
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('') + (c[3] < 1 ? `/${c[3].toFixed(2)}` : '');
  function cssPath(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5 && e !== document.body; e = e.parentElement) {
      let s = e.localName;
      if (e.id) { parts.unshift(`${s}#${e.id}`); break; }
      const cls = [...e.classList].filter((c) => !c.startsWith('is-') || parts.length === 0).slice(0, 2);
      if (cls.length) s += '.' + cls.join('.');
      else if (e.parentElement) {
        const same = [...e.parentElement.children].filter((x) => x.localName === e.localName);
        if (same.length > 1) s += `:nth-of-type(${same.indexOf(e) + 1})`;
      }
      parts.unshift(s);
    }
    return parts.join(' > ');
  }
  /** The colour behind `el`: its and its ancestors' backgrounds blended; null when an image is in the way. */
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;
      if (e.localName === 'canvas') return null;
      const c = rgba(cs.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function opacity(el) {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  }
  const visible = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true });
  const disabled = (el) => !!el.closest('button:disabled, input:disabled, select:disabled, textarea:disabled, fieldset:disabled, [aria-disabled="true"]');

  window.__a11yLib = { rgba, over, lum, ratio, hex, cssPath, background, opacity, visible, disabled };
}

/** Runs in the page: the element audits look at (a modal dialog makes the page behind it inert and dimmed). */
function installScope() {
  window.__a11yScope = () => document.querySelector('dialog:modal') || document.body;
}

/** Runs in the page: contrast of every visible text against its background. Marks offenders with data-a11y-bad. */
function contrastAudit() {
  const { rgba, over, ratio, hex, cssPath, background, opacity, visible, disabled } = window.__a11yLib;
  const contrast = [];
  let checked = 0, unknown = 0;
  const unknownList = [];
  const seen = new Set();
  function checkText(el, rect, sample) {
    if (seen.has(el)) return;
    seen.add(el);
    if (el.closest('[aria-hidden="true"], option, script, style, noscript, template')) return;
    if (!visible(el) || disabled(el)) return;
    if (rect.width <= 1 || rect.height <= 1) return;
    const cs = getComputedStyle(el);
    const svg = el instanceof SVGElement;
    let fg = rgba(svg ? cs.fill : cs.webkitTextFillColor || cs.color);
    if (!fg) { unknown++; unknownList.push(`${cssPath(el)} (colour ${cs.color})`); return; }
    if (fg[3] === 0) return; // transparent text over a highlighted copy (the query editor)
    let bg = null;
    if (svg) {
      const x = rect.left + rect.width / 2, y = rect.top + rect.height / 2;
      const under = document.elementsFromPoint(x, y).find((e) => e !== el && e instanceof SVGGeometryElement && e.localName !== 'text' && rgba(getComputedStyle(e).fill)?.[3] > 0);
      if (under) {
        const f = rgba(getComputedStyle(under).fill);
        f[3] *= parseFloat(getComputedStyle(under).fillOpacity);
        const base = background(under.ownerSVGElement.parentElement);
        bg = base && over(f, base);
      } else bg = background(el.ownerSVGElement ? el.ownerSVGElement.parentElement : el);
    } else bg = background(el);
    if (!bg) { unknown++; unknownList.push(`${cssPath(el)} “${sample.slice(0, 20)}”`); return; }
    fg = [...fg];
    fg[3] *= opacity(el);
    const shown = over(fg, bg);
    const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10) || 400;
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    const need = large ? 3 : 4.5;
    const r = ratio(shown, bg);
    checked++;
    if (r + 1e-6 < need) {
      el.dataset.a11yBad = 'contrast';
      contrast.push({ path: cssPath(el), text: sample.slice(0, 40), fg: hex(fg), bg: hex(bg), ratio: +r.toFixed(2), need, size, weight });
    }
  }
  const scope = window.__a11yScope();
  const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    if (!text || !n.parentElement) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    checkText(n.parentElement, range.getBoundingClientRect(), text);
  }
  for (const el of scope.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea')) {
    const value = el.localName === 'select' ? el.selectedOptions[0]?.textContent || '' : el.value;
    if (value.trim()) checkText(el, el.getBoundingClientRect(), value.trim());
  }
  return { contrast, checked, unknown, unknownList: [...new Set(unknownList)].slice(0, 30) };
}

/** Runs in the page: accessible names of the visible controls, alt of images. */
function namesAudit() {
  const { cssPath, visible } = window.__a11yLib;
  const scope = window.__a11yScope();
  const names = [];
  const textOf = (el) => {
    let s = '';
    for (const n of el.childNodes) {
      if (n.nodeType === 3) s += n.textContent;
      else if (n.nodeType === 1) {
        if (n.getAttribute('aria-hidden') === 'true') continue;
        if (n.localName === 'img') s += n.getAttribute('alt') || '';
        else if (n.getAttribute('aria-label')) s += n.getAttribute('aria-label');
        else s += textOf(n);
      }
    }
    return s;
  };
  function nameOf(el) {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const s = by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
      if (s) return s;
    }
    if (el.getAttribute('aria-label')?.trim()) return el.getAttribute('aria-label').trim();
    if (el.labels && el.labels.length) {
      const s = [...el.labels].map((l) => textOf(l)).join(' ').trim();
      if (s) return s;
    }
    if (!['input', 'select', 'textarea'].includes(el.localName) || (el.localName === 'input' && ['button', 'submit', 'reset'].includes(el.type))) {
      const s = (el.localName === 'input' ? el.value : textOf(el)).trim();
      if (s) return s;
    }
    if (el.localName === 'input' && el.type === 'submit') return 'Submit';
    return (el.getAttribute('title') || '').trim();
  }
  const controls = 'button, a[href], input:not([type=hidden]), select, textarea, [role=tab], [role=option], [role=button], [role=img], [role=link], [role=treeitem], [role=checkbox], [role=switch]';
  for (const el of scope.querySelectorAll(controls)) {
    if (el.closest('[aria-hidden="true"]') || !visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if (!nameOf(el)) { el.dataset.a11yBad = 'name'; names.push({ path: cssPath(el), html: el.outerHTML.slice(0, 140) }); }
  }
  for (const img of scope.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) { img.dataset.a11yBad = 'name'; names.push({ path: cssPath(img), html: img.outerHTML.slice(0, 140), why: 'no alt' }); }
  }
  return names;
}

/** Runs in the page: the canvas charts' text colours, crowded tab orders, horizontal overflow. */
function widgetsAudit() {
  const { rgba, ratio, hex, cssPath, background, visible } = window.__a11yLib;
  const scope = window.__a11yScope();
  // Canvas charts: the colours they draw text with.
  const charts = [];
  for (const c of scope.querySelectorAll('.tchart')) {
    if (!visible(c)) continue;
    const cs = getComputedStyle(c);
    const v = (n) => rgba(cs.getPropertyValue(n).trim());
    const plot = c.querySelector('.tchart-plot') || c;
    const behind = background(plot.parentElement);
    const pairs = [['--muted', '--panel'], ['--muted', '--bg'], ['--fg', '--panel'], ['--fg', '--bg']]
      .map(([f, b]) => [f, b, v(f), v(b)]);
    if (behind) pairs.push(['--muted', 'chart background', v('--muted'), behind], ['--fg', 'chart background', v('--fg'), behind]);
    for (const [f, b, fc, bc] of pairs) {
      if (!fc || !bc) { charts.push({ path: cssPath(c), what: `${f} on ${b}`, error: 'colour not readable' }); continue; }
      const r = ratio(fc, bc);
      if (r < 4.5) { c.dataset.a11yBad = 'chart'; charts.push({ path: cssPath(c), what: `${f} on ${b}`, fg: hex(fc), bg: hex(bc), ratio: +r.toFixed(2), need: 4.5 }); }
    }
  }

  // Widgets that put very many stops in the tab order (a list should use a roving tabindex).
  const crowded = [];
  const tabbable = (e) => e.tabIndex >= 0 && !e.disabled && visible(e) && e.matches('a[href], button, input, select, textarea, summary, [tabindex]') && !e.closest('[inert], [aria-hidden="true"]');
  for (const c of scope.querySelectorAll('ol, ul, tbody, [role=tree], [role=listbox], [role=grid], [role=list]')) {
    const n = [...c.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')].filter(tabbable).length;
    if (n > 50 && !crowded.some((x) => x.el.contains(c))) crowded.push({ el: c, n });
  }

  // Horizontal overflow of the page.
  const vw = window.innerWidth;
  const overflow = document.documentElement.scrollWidth > vw + 1 ? {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: vw,
    culprits: [...document.querySelectorAll('body *')].filter((e) => {
      const r = e.getBoundingClientRect();
      if (r.right <= vw + 1 || !r.width) return false;
      const p = e.parentElement;
      if (p && p !== document.body && p.getBoundingClientRect().right > vw + 1) return false; // report the outermost
      for (let a = p; a && a !== document.body; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return false; // inside a scroll area
      return true;
    }).slice(0, 6).map((e) => ({ path: cssPath(e), right: Math.round(e.getBoundingClientRect().right), width: Math.round(e.getBoundingClientRect().width) })),
  } : null;
  return { charts, overflow, crowded: crowded.map((x) => ({ path: cssPath(x.el), stops: x.n })) };
}

/** All the audits of the page as it is now. */
async function pageAudit(page) {
  return { ...(await page.evaluate(contrastAudit)), names: await page.evaluate(namesAudit), ...(await page.evaluate(widgetsAudit)) };
}

// ------------------------------------------------------------------ keyboard

/** Focus-relevant styles of an element: outline, box-shadow, and for SVG the strokes of its shapes. */
function focusStyleOf() {
  window.__a11yFocusStyle = (e) => {
    const cs = getComputedStyle(e);
    const st = { outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`, shadow: cs.boxShadow, strokes: '' };
    if (e instanceof SVGElement) st.strokes = [...e.querySelectorAll('rect, path, circle, ellipse')].map((x) => { const c = getComputedStyle(x); return `${c.stroke} ${c.strokeWidth}`; }).join('|');
    return st;
  };
}

/** Runs in the page: the focus styles of every focusable element and its ancestors, unfocused. */
function snapshotFocusStyles() {
  const base = new Map();
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')) {
    for (let e = el, i = 0; e && i < 4 && e !== document.body; e = e.parentElement, i++) if (!base.has(e)) base.set(e, window.__a11yFocusStyle(e));
  }
  window.__a11yFocusBase = base;
}

/** Runs in the page: describes the focused element and whether a focus indicator shows. */
function focusedState() {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return { none: true };
  const { rgba, over, ratio, background } = window.__a11yLib;
  const base = window.__a11yFocusBase || new Map();
  const against = (color, e) => {
    const c = rgba(color);
    const bg = background(e) || [255, 255, 255, 1];
    return c ? +ratio(over(c, bg), bg).toFixed(2) : 0;
  };
  let indicator = null;
  for (let e = el, i = 0; e && i < 4 && e !== document.body; e = e.parentElement, i++) {
    const cs = getComputedStyle(e);
    const now = window.__a11yFocusStyle(e);
    const was = base.get(e);
    const on = e === el ? 'self' : `ancestor ${i}`;
    const hasOutline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 && rgba(cs.outlineColor)?.[3] > 0;
    if (hasOutline && (!was || was.outline !== now.outline)) {
      const behind = parseFloat(cs.outlineOffset) < 0 ? e : e.parentElement;
      indicator = { kind: 'outline', on, color: cs.outlineColor, ratio: against(cs.outlineColor, behind) };
      break;
    }
    if (cs.boxShadow !== 'none' && (!was || was.shadow !== now.shadow)) {
      const col = cs.boxShadow.match(/rgba?\([^)]*\)|color\([^)]*\)/);
      const behind = /inset/.test(cs.boxShadow) ? e : e.parentElement;
      indicator = { kind: 'box-shadow', on, color: col && col[0], ratio: col ? against(col[0], behind) : 0 };
      break;
    }
    if (now.strokes && was && was.strokes !== now.strokes) {
      const changed = [...e.querySelectorAll('rect, path, circle, ellipse')].find((x, k) => was.strokes.split('|')[k] !== now.strokes.split('|')[k]);
      const stroke = getComputedStyle(changed).stroke;
      const fill = rgba(getComputedStyle(changed).fill);
      const outside = background(e.ownerSVGElement ? e.ownerSVGElement.parentElement : e.parentElement) || [255, 255, 255, 1];
      const c = rgba(stroke);
      // The stroke lies between the shape's fill and what is around it: it must stand out from both.
      const r = c ? Math.min(ratio(over(c, outside), outside), fill && fill[3] > 0 ? ratio(over(c, over(fill, outside)), over(fill, outside)) : 99) : 0;
      indicator = { kind: 'stroke', on, color: stroke, ratio: +r.toFixed(2) };
      break;
    }
  }
  const r = el.getBoundingClientRect();
  const label = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.getAttribute('title') || '';
  const cls = el.getAttribute('class') ? '.' + el.getAttribute('class').trim().split(/\s+/).slice(0, 2).join('.') : '';
  const desc = `${el.localName}${el.id ? '#' + el.id : ''}${cls}${label ? ` “${label}”` : ''}`;
  if (!el.dataset.a11yKey) el.dataset.a11yKey = Math.random().toString(36).slice(2);
  return {
    key: el.dataset.a11yKey, desc, indicator,
    inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
  };
}

/** Tab from the top: which presses reach what, focus indicators, traps. Then Enter on a nav link. */
async function keyboard(t, view, theme, findings) {
  const { page } = t;
  const where = `${view.name} ${theme}`;
  await page.evaluate(snapshotFocusStyles);
  // From the top: a click on the header's empty left edge puts the sequential focus start there.
  await page.mouse.click(2, 2);
  await page.keyboard.press('Shift+Tab');
  const first = await page.evaluate(() => document.activeElement?.className);
  if (first !== 'skip-link') findings.keyboard.push({ where, problem: `Shift+Tab from the header's edge should reach the skip link, got ${first}` });
  const targets = {
    'nav Metrics': '.mainnav a[data-page=metrics]', 'nav Logs': '.mainnav a[data-page=logs]', 'nav Traces': '.mainnav a[data-page=traces]',
    'nav Dashboards': '.mainnav a[data-page=dashboards]', 'nav Status': '.mainnav a[data-page=status]',
    'time picker': '.timepicker-button', tenant: '#tenant', 'theme toggle': '#theme-toggle', primary: view.primary,
  };
  const reached = {};
  const stops = [];
  let prev = await page.evaluate(focusedState);
  stops.push(prev);
  for (let i = 1; i <= PRIMARY_TABS; i++) {
    await page.keyboard.press('Tab');
    const st = await page.evaluate(focusedState);
    if (st.none) break; // left the document: the end of the tab order
    if (st.key === prev.key) { findings.keyboard.push({ where, problem: `focus is stuck on ${st.desc} (Tab ${i})` }); break; }
    for (const [name, sel] of Object.entries(targets)) {
      if (reached[name]) continue;
      const hit = await page.evaluate(([s, txt]) => {
        const el = document.activeElement;
        return el.matches(s) && (!txt || el.textContent.trim() === txt);
      }, [sel, name === 'primary' ? view.primaryText : null]);
      if (hit) reached[name] = i;
    }
    stops.push(st);
    prev = st;
    if (Object.keys(reached).length === Object.keys(targets).length && i >= 25) break;
  }
  for (const [name] of Object.entries(targets)) {
    const limit = name === 'primary' ? PRIMARY_TABS : HEADER_TABS;
    if (!reached[name]) findings.keyboard.push({ where, problem: `${name} (${targets[name]}) not reached within ${limit} Tab presses` });
    else if (reached[name] > limit) findings.keyboard.push({ where, problem: `${name} reached only after ${reached[name]} Tab presses (limit ${limit})` });
  }
  for (const st of stops) {
    if (st.none) continue;
    if (!st.indicator) findings.focus.push({ where, element: st.desc, problem: 'no visible focus indicator' });
    else if (st.indicator.ratio < 3) findings.focus.push({ where, element: st.desc, problem: `focus ${st.indicator.kind} ${st.indicator.color} has ${st.indicator.ratio}:1 against its background (< 3:1)` });
    if (!st.inView) findings.focus.push({ where, element: st.desc, problem: 'focused element is not visible on screen' });
  }
  findings.tabOrder.push({ where, stops: stops.filter((x) => !x.none).map((x) => `${x.desc} → ${x.indicator ? `${x.indicator.kind} on ${x.indicator.on} ${x.indicator.color} ${x.indicator.ratio}:1` : 'NONE'}`) });
  return { reached, stops: stops.length };
}

/** Enter on a navigation link (reached with Tab) opens that page. */
async function enterNavigates(t, view, findings) {
  const { page } = t;
  const dest = view.name === 'logs' ? 'traces' : 'logs';
  await page.mouse.click(2, 2);
  for (let i = 0; i < HEADER_TABS; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((d) => document.activeElement.matches(`.mainnav a[data-page=${d}]`), dest)) break;
  }
  const on = await page.evaluate((d) => document.activeElement.matches(`.mainnav a[data-page=${d}]`), dest);
  if (!on) { findings.keyboard.push({ where: view.name, problem: `could not Tab to the ${dest} link` }); return; }
  await page.keyboard.press('Enter');
  try {
    await page.waitForSelector(`.page-${dest}`, { timeout: 5000 });
    const path = new URL(page.url()).pathname;
    if (path !== `/ui/${dest}`) findings.keyboard.push({ where: view.name, problem: `Enter on the ${dest} link led to ${path}` });
  } catch (e) {
    findings.keyboard.push({ where: view.name, problem: `Enter on the ${dest} link did not open the ${dest} page` });
  }
}

// ------------------------------------------------------------------ driver

async function open(t, view, theme) {
  const { page } = t;
  await page.evaluate((th) => localStorage.setItem('argus.theme', th), theme);
  await page.goto(t.url(view.path));
  await view.ready(page);
  check(await page.evaluate(() => document.documentElement.dataset.theme) === theme, `${view.name}: the saved theme ${theme} is not applied`);
  await page.waitForTimeout(150); // transitions (opacity while loading) end
}

/** Text colour variables of the theme against the backgrounds they are used on (and the focus ring: 3:1). */
const VARIABLE_PAIRS = [
  ...['--fg', '--muted', '--accent', '--error', '--warn', '--ok'].flatMap((f) => ['--bg', '--panel', '--panel-2'].map((b) => [f, b, 4.5])),
  ['--accent', '--accent-soft', 4.5], ['--muted', '--accent-soft', 4.5], ['--fg', '--accent-soft', 4.5], ['--error', '--accent-soft', 4.5],
  ['--error', '--error-soft', 4.5], ['--warn', '--warn-soft', 4.5], ['--ok', '--ok-soft', 4.5], ['--accent-fg', '--accent', 4.5],
  ['--fg', '--highlight', 4.5], ['--muted', '--error-soft', 4.5], ['--muted', '--warn-soft', 4.5], ['--muted', '--ok-soft', 4.5],
  ['--focus', '--bg', 3], ['--focus', '--panel', 3], ['--focus', '--panel-2', 3], ['--focus', '--accent-soft', 3],
];

async function themeVariables(page, theme, findings) {
  const bad = await page.evaluate((pairs) => {
    const { rgba, ratio, hex } = window.__a11yLib;
    const cs = getComputedStyle(document.documentElement);
    const out = [];
    for (const [f, b, need] of pairs) {
      const fc = rgba(cs.getPropertyValue(f).trim()), bc = rgba(cs.getPropertyValue(b).trim());
      if (!fc || !bc) { out.push({ what: `${f} on ${b}`, error: 'not a colour' }); continue; }
      const r = ratio(fc, bc);
      if (r < need) out.push({ what: `${f} on ${b}`, fg: hex(fc), bg: hex(bc), ratio: +r.toFixed(2), need });
    }
    return out;
  }, VARIABLE_PAIRS);
  for (const b of bad) findings.charts.push({ where: `theme ${theme}`, ...b });
}

/** Screenshot with the offenders outlined, then without the marks. */
async function offendersShot(t, label) {
  const { page } = t;
  await page.addStyleTag({ content: '[data-a11y-bad]{outline:2px dashed #ff00ff !important;outline-offset:1px !important}' });
  await t.shot(`${label}-offenders`);
  await page.evaluate(() => {
    document.querySelectorAll('[data-a11y-bad]').forEach((e) => delete e.dataset.a11yBad);
    [...document.querySelectorAll('style')].filter((s) => s.textContent.includes('data-a11y-bad')).forEach((s) => s.remove());
  });
}

function record(findings, where, audit) {
  for (const c of audit.contrast) findings.contrast.push({ where, ...c });
  for (const n of audit.names) findings.names.push({ where, ...n });
  for (const c of audit.charts) findings.charts.push({ where, ...c });
  if (audit.overflow) findings.layout.push({ where, ...audit.overflow });
  for (const u of audit.unknownList || []) findings.unknownBackground.push({ where, path: u });
  for (const c of audit.crowded) findings.keyboard.push({ where, problem: `${c.path} puts ${c.stops} stops in the tab order (more than 50: use one stop and arrow keys)` });
  return audit.contrast.length + audit.names.length + audit.charts.length + audit.crowded.length + (audit.overflow ? 1 : 0);
}

/** Groups findings of the same element and problem over views, themes and sizes. */
function summarize(list, key) {
  const groups = new Map();
  for (const f of list) {
    const k = key(f);
    if (!groups.has(k)) groups.set(k, { ...f, where: [] });
    groups.get(k).where.push(f.where);
  }
  return [...groups.values()];
}

/** Every view in both themes at 1440 and 1280 (keyboard at 1440), then narrow and wide. */
async function auditViews(t, viewList, findings, totals) {
  const { page } = t;
  for (const view of viewList) {
    for (const theme of THEMES) {
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await open(t, view, theme);
        const label = `${view.name}-${theme}-${size.width}`;
        const audit = await pageAudit(page);
        totals.checked += audit.checked; totals.unknown += audit.unknown;
        const bad = record(findings, label, audit);
        totals.shot = await t.shot(label);
        if (bad) await offendersShot(t, label);
        let kbText = '';
        if (size.width === 1440 && view.keyboard !== false) {
          const kb = await keyboard(t, view, theme, findings);
          kbText = `; tab stops ${kb.stops}, reached ${JSON.stringify(kb.reached)}`;
          if (theme === 'light' && view.keys) { await open(t, view, theme); await view.keys(page); }
          if (theme === 'light') await enterNavigates(t, view, findings);
        }
        t.log(`${label}: ${audit.checked} texts, ${audit.contrast.length} contrast, ${audit.names.length} names, ${audit.charts.length} chart, overflow ${audit.overflow ? 'yes' : 'no'}${kbText}`);
      }
    }
    // Narrow (light) and wide (dark): the page body must still fit (inner scroll areas are fine).
    for (const [size, theme] of [[NARROW, 'light'], [WIDE, 'dark']]) {
      await page.setViewportSize(size);
      await open(t, view, theme);
      const audit = await pageAudit(page);
      const label = `${view.name}-${theme}-${size.width}`;
      if (audit.overflow) findings.layout.push({ where: label, ...audit.overflow });
      for (const n of audit.names) findings.names.push({ where: label, ...n });
      await t.shot(label);
      if (audit.overflow || audit.names.length) await offendersShot(t, label);
    }
  }
}

/** The theme toggle switches, says what it does and is saved; the theme's variables contrast. */
async function themeToggle(t, findings) {
  const { page } = t;
  await page.goto(t.url('/ui/status'));
  await page.evaluate(() => localStorage.setItem('argus.theme', 'light'));
  await page.reload();
  await page.locator('#theme-toggle').click();
  check(await page.evaluate(() => document.documentElement.dataset.theme) === 'dark', 'the theme toggle switches to dark');
  check(/light/i.test(await page.getAttribute('#theme-toggle', 'aria-label')), 'the toggle says it switches back to light');
  check(await page.evaluate(() => localStorage.getItem('argus.theme')) === 'dark', 'the toggle saves the choice');
  await themeVariables(page, 'dark', findings);
  await page.locator('#theme-toggle').click();
  await themeVariables(page, 'light', findings);
}

/** The time picker's popover, open, in both themes; Escape closes it and gives the focus back. */
async function timePicker(t, dashboardsView, findings) {
  const { page } = t;
  await page.setViewportSize(SIZES[0]);
  for (const theme of THEMES) {
    await open(t, dashboardsView, theme);
    await page.click('.timepicker-button');
    await page.waitForSelector('.timepicker-popover');
    const audit = await pageAudit(page);
    const label = `timepicker-${theme}`;
    const bad = record(findings, label, audit);
    await t.shot(label);
    if (bad) await offendersShot(t, label);
    await page.keyboard.press('Escape');
    check(!(await page.$('.timepicker-popover')), 'Escape closes the time picker');
    check(await page.evaluate(() => document.activeElement.classList.contains('timepicker-button')), 'Escape returns the focus to the time picker button');
  }
}

/** Writes a11y-report.json, the measurements, and fails with the grouped findings. */
function reportFindings(t, findings, totals) {
  const report = {
    contrast: summarize(findings.contrast, (f) => `${f.path}|${f.fg}|${f.bg}`),
    names: summarize(findings.names, (f) => f.path),
    charts: summarize(findings.charts, (f) => `${f.what}|${f.fg}|${f.bg}`),
    layout: findings.layout,
    keyboard: findings.keyboard,
    focus: summarize(findings.focus, (f) => `${f.element}|${f.problem}`),
    skippedUnknownBackground: summarize(findings.unknownBackground, (f) => f.path),
    tabOrder: findings.tabOrder,
  };
  if (totals.shot) writeFileSync(join(dirname(totals.shot), 'a11y-report.json'), JSON.stringify(report, null, 1));
  t.measure('texts_checked', totals.checked, 'texts');
  t.measure('texts_unknown_background', totals.unknown, 'texts');
  for (const [k, v] of Object.entries(findings)) t.measure(`${k}_findings`, v.length, 'findings');

  const lines = [];
  const top = (arr, fmt) => arr.slice(0, 25).map(fmt).concat(arr.length > 25 ? [`… and ${arr.length - 25} more`] : []);
  const at = (w) => `[${w.slice(0, 3).join(', ')}${w.length > 3 ? ', …' : ''}]`;
  if (report.contrast.length) lines.push(`contrast (${findings.contrast.length} findings, ${report.contrast.length} distinct):`,
    ...top(report.contrast.sort((a, b) => a.ratio - b.ratio), (f) => `  ${f.ratio}:1 < ${f.need} ${f.fg} on ${f.bg} ${f.path} “${f.text}” ${at(f.where)}`));
  if (report.names.length) lines.push(`accessible names (${report.names.length} distinct):`, ...top(report.names, (f) => `  ${f.path} ${f.why || 'no name'}: ${f.html} ${at(f.where)}`));
  if (report.charts.length) lines.push('theme variables and chart text colours:', ...top(report.charts, (f) => `  ${f.what}: ${f.fg} on ${f.bg} ${f.ratio}:1 ${at(f.where)}`));
  if (report.layout.length) lines.push('horizontal overflow:', ...top(report.layout, (f) => `  ${f.where}: scrollWidth ${f.scrollWidth} > ${f.innerWidth}; ${f.culprits.map((c) => `${c.path} (right ${c.right})`).join('; ')}`));
  if (report.keyboard.length) lines.push('keyboard:', ...top(report.keyboard, (f) => `  ${f.where}: ${f.problem}`));
  if (report.focus.length) lines.push('focus indicators:', ...top(report.focus, (f) => `  ${f.element}: ${f.problem} ${at(f.where)}`));
  check(!lines.length, `accessibility/layout problems:\n    ${lines.join('\n    ')}`);
}

export async function run(t) {
  const { page } = t;
  const findings = { contrast: [], names: [], charts: [], layout: [], keyboard: [], focus: [] };
  Object.defineProperty(findings, 'unknownBackground', { value: [], enumerable: false });
  Object.defineProperty(findings, 'tabOrder', { value: [], enumerable: false });
  const totals = { checked: 0, unknown: 0, shot: '' };
  const dashId = `a11y-${Date.now().toString(36)}`;
  const headers = { 'content-type': 'application/json', ...(t.facts.tenant ? { 'X-Scope-OrgID': t.facts.tenant } : {}) };
  const put = await fetch(t.url(`/ui/api/dashboards/${dashId}`), { method: 'PUT', headers, body: JSON.stringify(auditDashboard()) });
  check(put.ok, `could not store the audit dashboard: ${put.status}`);
  await t.context.addInitScript(installLib);
  await t.context.addInitScript(focusStyleOf);
  await t.context.addInitScript(installScope);
  try {
    const viewList = views(t, dashId);
    await themeToggle(t, findings);
    await auditViews(t, viewList, findings, totals);
    await timePicker(t, viewList.find((v) => v.name === 'dashboards'), findings);
  } finally {
    await fetch(t.url(`/ui/api/dashboards/${dashId}`), { method: 'DELETE', headers });
    await page.setViewportSize(SIZES[0]);
  }
  reportFindings(t, findings, totals);
}
