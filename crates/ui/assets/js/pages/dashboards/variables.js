/**
 * Dashboard variables at run time: their options (label values from
 * Prometheus or Loki, or a fixed list), their selected values (from the
 * URL's `var-<name>`, else the saved `current`), the bar of selects, and
 * the resolver that substitutes them into queries.
 * @module pages/dashboards/variables
 */
import { h, clear } from '../../lib/dom.js';
import { toSeconds, toNanos } from '../../lib/time.js';
import { ALL, variableSource, interpolate, formatVariable, builtins } from './model.js';

/**
 * Fetches the options of a variable.
 * @param {object} v the variable
 * @param {{api: object, range: {start:number,end:number}, resolve: Function, signal?: AbortSignal}} env
 * @returns {Promise<string[]>}
 */
export async function loadOptions(v, env) {
  const src = variableSource(v);
  if (!src) throw new Error(`variable $${v.name}: the query must be label_values(metric, label) or label_values(label)`);
  if (src.source === 'custom') return [...new Set(src.values)];
  if (!src.label) throw new Error(`variable $${v.name}: no label given`);
  const match = interpolate(src.match || '', env.resolve).trim();
  const { start, end } = env.range;
  const label = encodeURIComponent(src.label);
  let values;
  if (src.source === 'loki') {
    values = await env.api.data(env.api.get(`/loki/api/v1/label/${label}/values`,
      { query: match || undefined, start: toNanos(start), end: toNanos(end) }, { signal: env.signal }));
  } else {
    values = await env.api.data(env.api.get(`/api/v1/label/${label}/values`,
      { 'match[]': match || undefined, start: toSeconds(start), end: toSeconds(end) }, { signal: env.signal }));
  }
  return (values || []).map(String).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
}

/**
 * The variables' run-time state: options, selection, errors.
 */
export class VariableState {
  /**
   * @param {object[]} variables the dashboard's variables
   * @param {(name:string)=>string[]} fromUrl values of `var-<name>` in the URL
   */
  constructor(variables, fromUrl) {
    this.vars = variables;
    /** @type {Map<string, {options:string[], selected:string[], error:string|null, loading:boolean}>} */
    this.state = new Map();
    for (const v of variables) {
      const url = fromUrl(v.name);
      this.state.set(v.name, { options: [], selected: url.length ? url : [...v.current], error: null, loading: true, fromUrl: url.length > 0 });
    }
    this.range = null;
  }

  /** Values a variable stands for (ALL expanded). */
  values(name) {
    const s = this.state.get(name);
    if (!s) return [];
    return s.selected.includes(ALL) ? s.options : s.selected;
  }

  /**
   * The resolver for {@link interpolate}: variables, then the built-ins
   * for `range` and `stepMs`.
   */
  resolver(range, stepMs) {
    const b = range ? builtins(range.start, range.end, stepMs || 15000) : {};
    return (name, format) => {
      const v = this.vars.find((x) => x.name === name);
      if (v) return formatVariable(v, this.values(name), format);
      return b[name];
    };
  }

  /**
   * Loads every variable's options in order (a variable may use earlier
   * ones in its query) and fixes selections that are not options.
   * `after`: load just the variables after this one (it changed).
   */
  async load(api, range, signal, after = null) {
    this.range = range;
    let started = after === null;
    for (const v of this.vars) {
      if (!started) { started = v.name === after; continue; }
      const s = this.state.get(v.name);
      s.loading = true;
      if (after !== null) s.fromUrl = false; // an earlier variable changed: re-check this one's selection
      try {
        s.options = await loadOptions(v, { api, range, resolve: this.resolver(range), signal });
        s.error = null;
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        s.options = []; s.error = e.message;
      }
      s.loading = false;
      this.fixSelection(v);
    }
  }

  fixSelection(v) {
    const s = this.state.get(v.name);
    if (s.selected.includes(ALL)) { if (!v.includeAll) s.selected = s.options.slice(0, 1); return; }
    const kept = s.selected.filter((x) => s.options.includes(x));
    // A value from the URL is kept even if not (yet) an option: the link says so.
    if (kept.length && !s.fromUrl) s.selected = v.multi ? kept : kept.slice(0, 1);
    else if (!s.selected.length || (!kept.length && !s.fromUrl)) {
      s.selected = v.includeAll ? [ALL] : s.options.slice(0, 1);
    }
    if (!v.multi && s.selected.length > 1) s.selected = s.selected.slice(0, 1);
  }

  /** Sets a variable's selection (by the user). */
  select(name, values) {
    const s = this.state.get(name);
    if (!s) return;
    s.selected = values;
    s.fromUrl = true;
  }

  /** `{var-name: [...]}` for the URL. */
  urlParams() {
    const out = {};
    for (const v of this.vars) out[`var-${v.name}`] = this.state.get(v.name).selected;
    return out;
  }
}

/**
 * Renders the variables bar: one control per variable (a select for a
 * single value, a checkbox menu for several).
 * @param {HTMLElement} el
 * @param {VariableState} vs
 * @param {(name:string, values:string[])=>void} onChange
 */
export function renderVariablesBar(el, vs, onChange) {
  clear(el);
  el.hidden = !vs.vars.length;
  for (const v of vs.vars) {
    const s = vs.state.get(v.name);
    const label = v.label || v.name;
    const id = `var-${v.name}`;
    const control = v.multi ? multiSelect(v, s, label, (vals) => onChange(v.name, vals)) : singleSelect(v, s, id, (vals) => onChange(v.name, vals));
    el.append(h('div', { class: 'dash-var', dataset: { var: v.name } },
      h('label', { for: id, class: 'dash-var-label' }, label),
      control,
      s.error ? h('span', { class: 'field-error', title: s.error }, '⚠ ', s.error) : null));
  }
}

function singleSelect(v, s, id, onChange) {
  const sel = h('select', { id, 'aria-label': v.label || v.name, disabled: s.loading, onChange: () => onChange([sel.value]) });
  if (s.loading) sel.append(h('option', { value: '' }, 'Loading…'));
  if (v.includeAll) sel.append(h('option', { value: ALL }, 'All'));
  const opts = new Set(s.options);
  for (const x of s.selected) if (x !== ALL && !opts.has(x)) sel.append(h('option', { value: x }, x));
  for (const o of s.options) sel.append(h('option', { value: o }, o));
  if (!s.loading && !s.options.length && !v.includeAll && !s.selected.length) sel.append(h('option', { value: '' }, 'No values'));
  sel.value = s.selected[0] ?? '';
  return sel;
}

function multiSelect(v, s, label, onChange) {
  const all = s.selected.includes(ALL);
  const text = s.loading ? 'Loading…' : all ? 'All'
    : s.selected.length ? s.selected.join(' + ') : 'None';
  const wrap = h('div', { class: 'dash-multi' });
  const button = h('button', {
    type: 'button', id: `var-${v.name}`, class: 'dash-multi-button', 'aria-haspopup': 'true', 'aria-expanded': 'false',
    disabled: s.loading, title: text,
  }, h('span', { class: 'dash-multi-text' }, text), h('span', { 'aria-hidden': 'true' }, '▾'));
  const menu = h('div', { class: 'popover dash-multi-menu', role: 'group', 'aria-label': `${label} values`, hidden: true });
  const close = (apply) => {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (apply) {
      const boxes = [...menu.querySelectorAll('input[type=checkbox]')];
      const allBox = boxes.find((b) => b.value === ALL);
      const picked = allBox && allBox.checked ? [ALL] : boxes.filter((b) => b.checked && b.value !== ALL).map((b) => b.value);
      if (JSON.stringify(picked) !== JSON.stringify(s.selected)) onChange(picked);
    }
  };
  const outside = (e) => { if (!wrap.contains(e.target)) close(true); };
  button.addEventListener('click', () => {
    if (!menu.hidden) { close(true); return; }
    buildMenu(menu, v, s, () => { close(true); button.focus(); });
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    const first = menu.querySelector('input');
    if (first) first.focus();
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(true); button.focus(); }
  });
  menu.addEventListener('change', (e) => {
    const boxes = [...menu.querySelectorAll('input[type=checkbox]')];
    const allBox = boxes.find((b) => b.value === ALL);
    if (!allBox) return;
    if (e.target === allBox && allBox.checked) boxes.forEach((b) => { if (b !== allBox) b.checked = false; });
    else if (e.target !== allBox && e.target.checked) allBox.checked = false;
  });
  wrap.append(button, menu);
  return wrap;
}

function buildMenu(menu, v, s, apply) {
  clear(menu);
  const all = s.selected.includes(ALL);
  const box = (value, text, checked) => h('label', { class: 'dash-multi-option' },
    h('input', { type: 'checkbox', value, checked }), h('span', {}, text));
  const list = h('div', { class: 'dash-multi-list' });
  if (v.includeAll) list.append(box(ALL, 'All', all));
  for (const o of s.options) list.append(box(o, o, !all && s.selected.includes(o)));
  if (!s.options.length) list.append(h('div', { class: 'hint' }, 'No values'));
  menu.append(list, h('div', { class: 'dash-multi-actions' },
    h('button', { type: 'button', class: 'primary', onClick: apply }, 'Apply')));
}
