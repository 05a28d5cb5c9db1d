/**
 * The dashboard settings dialog: title, description, default time range
 * and the variables (label values from Prometheus or Loki, or a fixed list).
 * @module pages/dashboards/settings
 */
import { h, clear } from '../../lib/dom.js';
import { describeRange } from '../../lib/time.js';
import { openDialog } from './dialogs.js';
import { parseLabelValues, variableSource } from './model.js';

let seq = 0;

/** A variable as the editor's form shows it. */
function toForm(v) {
  const src = variableSource(v) || { source: 'prometheus', label: '', match: '' };
  return {
    name: v.name, label: v.label || '', multi: !!v.multi, includeAll: !!v.includeAll, current: v.current || [],
    source: src.source,
    promQuery: typeof v.query === 'string' ? v.query : (src.source === 'prometheus' ? `label_values(${src.match ? `${src.match}, ` : ''}${src.label})` : ''),
    lokiLabel: src.source === 'loki' ? src.label : '', lokiMatch: src.source === 'loki' ? src.match || '' : '',
    values: src.source === 'custom' ? src.values.join(', ') : '',
  };
}

/** The form back to a variable, or an error message. */
function fromForm(f, names) {
  if (!/^[A-Za-z_]\w*$/.test(f.name)) return `“${f.name}” is not a valid variable name: use letters, digits and _`;
  if (names.filter((n) => n === f.name).length > 1) return `two variables are named “${f.name}”`;
  const v = { name: f.name, label: f.label.trim(), multi: f.multi, includeAll: f.includeAll, current: f.current };
  if (f.source === 'prometheus') {
    if (!parseLabelValues(f.promQuery)) return `$${f.name}: write the query as label_values(metric, label) or label_values(label)`;
    v.query = f.promQuery.trim();
  } else if (f.source === 'loki') {
    if (!/^[A-Za-z_]\w*$/.test(f.lokiLabel.trim())) return `$${f.name}: give the Loki label whose values to offer`;
    v.query = { source: 'loki', label: f.lokiLabel.trim(), match: f.lokiMatch.trim() };
  } else {
    const values = f.values.split(',').map((x) => x.trim()).filter(Boolean);
    if (!values.length) return `$${f.name}: give at least one value`;
    v.query = { source: 'custom', values };
  }
  if (!v.label) delete v.label;
  return v;
}

/** The fieldset editing one variable's form `f`. */
function variableFieldset(f, i, uid, onRemove) {
  const id = (k) => `${uid}-v${i}-${k}`;
  const input = (k, props = {}) => h('input', { type: 'text', id: id(k), value: f[k], autocomplete: 'off', spellcheck: 'false', ...props, onInput: (e) => { f[k] = e.target.value; } });
  const check = (k, text) => h('span', { class: 'dash-check' },
    h('input', { type: 'checkbox', id: id(k), checked: f[k], onChange: (e) => { f[k] = e.target.checked; } }), h('label', { for: id(k) }, text));
  const srcFields = h('div', { class: 'dash-var-source' });
  const drawSource = () => {
    clear(srcFields);
    if (f.source === 'prometheus') {
      srcFields.append(h('div', { class: 'dash-field grow' }, h('label', { for: id('promQuery') }, 'Query'),
        input('promQuery', { class: 'mono', placeholder: 'label_values(up{job="api"}, instance)' })));
    } else if (f.source === 'loki') {
      srcFields.append(h('div', { class: 'dash-field' }, h('label', { for: id('lokiLabel') }, 'Label'), input('lokiLabel', { placeholder: 'service' })),
        h('div', { class: 'dash-field grow' }, h('label', { for: id('lokiMatch') }, 'Stream selector (optional)'),
          input('lokiMatch', { class: 'mono', placeholder: '{env="prod"}' })));
    } else {
      srcFields.append(h('div', { class: 'dash-field grow' }, h('label', { for: id('values') }, 'Values (comma-separated)'), input('values', { placeholder: 'a, b, c' })));
    }
  };
  drawSource();
  const source = h('select', { id: id('source'), onChange: () => { f.source = source.value; drawSource(); } },
    [['prometheus', 'Prometheus label values'], ['loki', 'Loki label values'], ['custom', 'Fixed values']]
      .map(([v, l]) => h('option', { value: v, selected: f.source === v }, l)));
  return h('fieldset', { class: 'dash-var-row', dataset: { index: String(i) } },
    h('legend', {}, f.name ? `$${f.name}` : `Variable ${i + 1}`),
    h('div', { class: 'dash-var-line' },
      h('div', { class: 'dash-field' }, h('label', { for: id('name') }, 'Name'), input('name', { class: 'mono', placeholder: 'queue' })),
      h('div', { class: 'dash-field' }, h('label', { for: id('label') }, 'Label'), input('label', { placeholder: 'Queue' })),
      h('div', { class: 'dash-field' }, h('label', { for: id('source') }, 'Values from'), source),
      h('span', { class: 'grow' }),
      h('button', { type: 'button', class: 'danger', onClick: onRemove, 'aria-label': `Remove variable ${f.name || i + 1}` }, 'Remove')),
    srcFields,
    h('div', { class: 'dash-var-line' }, check('multi', 'Several values can be selected'), check('includeAll', 'Offer “All”')));
}

/**
 * Opens the settings of `dashboard`; `onApply(changes)` gets
 * `{title, description, time, variables}`.
 * @param {object} dashboard
 * @param {{currentRange: {from:string,to:string}, onApply: Function}} env
 */
export function editSettings(dashboard, env) {
  const uid = `ds${++seq}`;
  const forms = dashboard.variables.map(toForm);
  const title = h('input', { type: 'text', id: `${uid}-title`, value: dashboard.title, autocomplete: 'off' });
  const desc = h('textarea', { id: `${uid}-desc`, rows: 2 });
  desc.value = dashboard.description || '';
  const cur = env.currentRange;
  const timeSel = h('select', { id: `${uid}-time` },
    h('option', { value: 'none' }, 'The range in the header (no default)'),
    dashboard.time ? h('option', { value: 'keep', selected: true }, `Keep: ${describeRange(dashboard.time)}`) : null,
    h('option', { value: 'current' }, `The current range: ${describeRange(cur)}`));
  const varsEl = h('div', { class: 'dash-vars-editor' });
  const err = h('div', { class: 'field-error', role: 'alert' });

  const renderVars = () => {
    clear(varsEl);
    if (!forms.length) varsEl.append(h('p', { class: 'hint' }, 'No variables. A variable offers label values in a select above the panels; use it in queries as $name or ${name}.'));
    forms.forEach((f, i) => varsEl.append(variableFieldset(f, i, uid, () => { forms.splice(i, 1); renderVars(); })));
  };
  const apply = () => {
    const names = forms.map((f) => f.name);
    const variables = [];
    for (const f of forms) {
      const v = fromForm(f, names);
      if (typeof v === 'string') { err.textContent = v; return; }
      variables.push(v);
    }
    if (!title.value.trim()) { err.textContent = 'The dashboard needs a title.'; title.focus(); return; }
    const t = timeSel.value === 'current' ? { ...cur } : timeSel.value === 'keep' ? dashboard.time : null;
    d.close(true);
    env.onApply({ title: title.value.trim(), description: desc.value.trim(), time: t, variables });
  };

  renderVars();
  const d = openDialog({
    title: 'Dashboard settings', className: 'dash-dialog-wide dash-settings',
    body: [
      h('div', { class: 'dash-settings-grid' },
        h('div', { class: 'dash-field' }, h('label', { for: `${uid}-title` }, 'Title'), title),
        h('div', { class: 'dash-field' }, h('label', { for: `${uid}-time` }, 'Default time range'), timeSel,
          h('span', { class: 'hint' }, 'Applied when the dashboard is opened without a range in its link.')),
        h('div', { class: 'dash-field dash-span-2' }, h('label', { for: `${uid}-desc` }, 'Description'), desc)),
      h('div', { class: 'dash-editor-section-title' }, h('h3', {}, 'Variables'),
        h('button', { type: 'button', onClick: () => {
          forms.push({ name: '', label: '', multi: false, includeAll: false, current: [], source: 'prometheus', promQuery: '', lokiLabel: '', lokiMatch: '', values: '' });
          renderVars();
          const inputs = varsEl.querySelectorAll('fieldset:last-child input');
          if (inputs[0]) inputs[0].focus();
        } }, '+ Add variable')),
      varsEl, err],
    actions: [h('span', { class: 'grow' }),
      h('button', { type: 'button', onClick: () => d.close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', onClick: apply }, 'Apply')],
  });
  title.focus();
  return d;
}
