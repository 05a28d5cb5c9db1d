/**
 * The UI's shell: the header (navigation, time range, tenant, theme), the
 * router (`/ui/<page>[/<rest>]`, state in the query string) and the
 * context every page is mounted with.
 *
 * A page is a module `js/pages/<name>.js` exporting
 * `mount(root, ctx) → { refresh?(), unmount?() }`; `refresh` is called when
 * the time range or the tenant changes or the user presses refresh.
 * @module app
 */
import * as api from './lib/api.js';
import { h, clear, notice } from './lib/dom.js';
import { parseDuration, resolveRange } from './lib/time.js';
import { TimePicker } from './components/timepicker.js';

const PAGES = ['metrics', 'logs', 'traces', 'dashboards', 'status'];
const DEFAULT_RANGE = { from: 'now-1h', to: 'now' };
/** Query parameters the shell owns; every other one is the page's. */
const GLOBAL = ['tenant', 'from', 'to', 'refresh'];

const view = document.getElementById('view');
let current = null; // { name, instance, key }
let picker = null;

function routeOf(pathname) {
  const parts = pathname.replace(/^\/ui\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = PAGES.includes(parts[0]) ? parts[0] : 'metrics';
  return { name, rest: parts.slice(1) };
}

const params = () => new URLSearchParams(location.search);

/** The range in the URL, or the default. */
function timeRange() {
  const p = params();
  return { from: p.get('from') || DEFAULT_RANGE.from, to: p.get('to') || DEFAULT_RANGE.to };
}

/** Builds a UI URL that keeps the tenant and time range of this one. */
function href(path, pageParams = {}, { keepTime = true } = {}) {
  const p = params();
  const sp = new URLSearchParams();
  for (const k of keepTime ? GLOBAL : ['tenant']) if (p.get(k)) sp.set(k, p.get(k));
  for (const [k, v] of Object.entries(pageParams)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x)); else sp.set(k, String(v));
  }
  const q = sp.toString();
  return q ? `${path}?${q}` : path;
}

/** Replaces (or pushes) query parameters of the current URL. */
function setParams(changes, { push = false } = {}) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) {
    p.delete(k);
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x)); else p.set(k, String(v));
  }
  const q = p.toString();
  const url = q ? `${location.pathname}?${q}` : location.pathname;
  if (url === location.pathname + location.search) return;
  history[push ? 'pushState' : 'replaceState'](null, '', url);
}

function navigate(url, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  render();
}

/** The context a page is mounted with. */
function context(rest) {
  return {
    api,
    rest,
    href,
    navigate,
    params: {
      get: (k) => params().get(k),
      getAll: (k) => params().getAll(k),
      set: setParams,
    },
    time: {
      get: timeRange,
      resolve: () => resolveRange(timeRange()),
      set: (range, { push = true } = {}) => {
        setParams({ from: range.from, to: range.to }, { push });
        picker.setRange(timeRange());
        refresh();
      },
    },
    tenant: api.getTenant,
  };
}

async function render() {
  const { name, rest } = routeOf(location.pathname);
  const key = `${name}/${rest.join('/')}`;
  document.querySelectorAll('.mainnav a').forEach((a) => {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Argus`;
  picker.setRange(timeRange());
  picker.setAutoRefresh(params().get('refresh') || '');
  scheduleAutoRefresh();
  syncTenantFromUrl();
  if (current && current.instance && current.instance.unmount) current.instance.unmount();
  current = { name, key, instance: null };
  clear(view);
  const root = h('div', { class: `page page-${name}` });
  view.append(root);
  try {
    const mod = await import(`./pages/${name}.js`);
    if (current.key !== key) return; // navigated away while loading
    current.instance = (await mod.mount(root, context(rest))) || {};
  } catch (e) {
    clear(root);
    root.append(notice('error', `This page failed to load: ${e.message}`));
    throw e;
  }
}

function refresh() {
  if (current && current.instance && current.instance.refresh) current.instance.refresh();
}

// ---- auto-refresh: `refresh=<interval>` in the URL; paused while the tab is hidden ----
let autoTimer = null;
function scheduleAutoRefresh() {
  clearInterval(autoTimer);
  autoTimer = null;
  const ms = parseDuration(params().get('refresh') || '');
  if (ms >= 1000) autoTimer = setInterval(() => { if (!document.hidden) refresh(); }, ms);
}

// ---- tenant ----
const tenantSelect = document.getElementById('tenant');

function syncTenantFromUrl() {
  const t = params().get('tenant') || localStorage.getItem('argus.tenant') || '';
  api.setTenant(t);
  if (t && ![...tenantSelect.options].some((o) => o.value === t)) tenantSelect.append(h('option', { value: t }, t));
  tenantSelect.value = t;
}

async function loadTenants() {
  let list = [], def = '';
  try {
    const d = await api.data(api.get('/ui/api/tenants'));
    list = d.tenants; def = d.default;
  } catch (e) { /* the selector keeps the default entry */ }
  const cur = api.getTenant();
  clear(tenantSelect);
  tenantSelect.append(h('option', { value: '' }, def ? `${def} (default)` : 'default'));
  for (const t of list) if (t !== def) tenantSelect.append(h('option', { value: t }, t));
  if (cur && ![...tenantSelect.options].some((o) => o.value === cur)) tenantSelect.append(h('option', { value: cur }, cur));
  tenantSelect.value = cur;
}

tenantSelect.addEventListener('change', () => {
  const t = tenantSelect.value;
  try { localStorage.setItem('argus.tenant', t); } catch (e) { /* storage off */ }
  api.setTenant(t);
  setParams({ tenant: t }, { push: true });
  refresh();
});

// ---- theme ----
const themeButton = document.getElementById('theme-toggle');
function showTheme() {
  const dark = document.documentElement.dataset.theme === 'dark';
  themeButton.setAttribute('aria-label', dark ? 'Switch to light theme' : 'Switch to dark theme');
}
themeButton.addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try { localStorage.setItem('argus.theme', next); } catch (e) { /* storage off */ }
  showTheme();
});
showTheme();

// ---- links and history ----
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target && a.target !== '_self') return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/') || url.pathname.startsWith('/ui/static/')) return;
  e.preventDefault();
  if (a.dataset.page || a.dataset.nav) {
    // Main navigation keeps the tenant and the time range.
    navigate(href(url.pathname, Object.fromEntries(url.searchParams)));
  } else {
    navigate(url.pathname + url.search);
  }
});
window.addEventListener('popstate', render);

picker = new TimePicker(document.getElementById('timepicker'), {
  range: timeRange(),
  onChange: (range) => { setParams({ from: range.from, to: range.to }, { push: true }); refresh(); },
  onRefresh: refresh,
  refresh: params().get('refresh') || '',
  onAutoRefresh: (interval) => { setParams({ refresh: interval || null }); scheduleAutoRefresh(); },
});

if (!location.pathname.startsWith('/ui/') || location.pathname === '/ui/') {
  history.replaceState(null, '', `/ui/metrics${location.search}`);
}
syncTenantFromUrl();
loadTenants();
render();
