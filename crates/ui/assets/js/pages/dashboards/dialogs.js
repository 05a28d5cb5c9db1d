/**
 * Modal dialogs of the dashboards page (native `<dialog>`: focus is kept
 * inside, Escape cancels): a generic one, confirm, prompt, and export.
 * @module pages/dashboards/dialogs
 */
import { h } from '../../lib/dom.js';

let seq = 0;

/**
 * Opens a modal dialog.
 * @param {{title: string, body: Node|Node[], actions?: Node[], className?: string, onClose?: Function}} o
 * @returns {{dialog: HTMLDialogElement, close: Function}}
 */
export function openDialog({ title, body, actions = [], className = '', onClose }) {
  const id = `dash-dialog-${++seq}`;
  const dialog = h('dialog', { class: ['dash-dialog', className], 'aria-labelledby': id },
    h('form', { method: 'dialog', class: 'dash-dialog-form', onSubmit: (e) => e.preventDefault() },
      h('header', { class: 'dash-dialog-header' },
        h('h2', { id }, title),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onClick: () => close() }, '✕')),
      h('div', { class: 'dash-dialog-body' }, body),
      actions.length ? h('footer', { class: 'dash-dialog-actions' }, actions) : null));
  let closed = false;
  function close(result) {
    if (closed) return;
    closed = true;
    if (dialog.open) dialog.close();
    dialog.remove();
    if (onClose) onClose(result);
  }
  dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/**
 * Asks a yes/no question. Resolves true when confirmed.
 * @param {{title: string, message: string|Node, confirm?: string, danger?: boolean}} o
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, message, confirm = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'danger-solid' : 'primary', onClick: () => d.close(true) }, confirm);
    const d = openDialog({
      title, className: 'dash-dialog-small', body: h('p', {}, message),
      actions: [h('button', { type: 'button', onClick: () => d.close(false) }, 'Cancel'), ok],
      onClose: (r) => resolve(r === true),
    });
    ok.focus();
  });
}

/**
 * Asks for one line of text; `validate(text)` returns an error message or ''.
 * Resolves the text, or null when cancelled.
 * @param {{title: string, label: string, value?: string, confirm?: string, hint?: string, validate?: Function}} o
 * @returns {Promise<string|null>}
 */
export function promptDialog({ title, label, value = '', confirm = 'OK', hint = '', validate = () => '' }) {
  return new Promise((resolve) => {
    const inputId = `dash-prompt-${++seq}`;
    const input = h('input', { type: 'text', id: inputId, value, autocomplete: 'off' });
    const err = h('div', { class: 'field-error', role: 'alert' });
    const hintEl = h('div', { class: 'hint' }, hint);
    const submit = () => {
      const msg = validate(input.value.trim());
      err.textContent = msg;
      if (!msg) d.close(input.value.trim());
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); submit(); } });
    if (typeof hint === 'function') input.addEventListener('input', () => { hintEl.textContent = hint(input.value.trim()); });
    if (typeof hint === 'function') hintEl.textContent = hint(value);
    const d = openDialog({
      title, className: 'dash-dialog-small',
      body: h('div', { class: 'dash-field' }, h('label', { for: inputId }, label), input, hintEl, err),
      actions: [h('button', { type: 'button', onClick: () => d.close(null) }, 'Cancel'),
        h('button', { type: 'button', class: 'primary', onClick: submit }, confirm)],
      onClose: (r) => resolve(typeof r === 'string' ? r : null),
    });
    input.focus();
    input.select();
  });
}

/**
 * Shows a dashboard's JSON with a download link (a Blob URL, revoked on close).
 * @param {object} dashboard
 * @param {string} id used for the file name
 */
export function exportDialog(dashboard, id) {
  const text = JSON.stringify(dashboard, null, 2);
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const copied = h('span', { class: 'hint', 'aria-live': 'polite' });
  const area = h('textarea', { class: 'dash-json', readonly: true, rows: 20, 'aria-label': 'Dashboard JSON', spellcheck: 'false' });
  area.value = text;
  const copy = async () => {
    try { await navigator.clipboard.writeText(text); copied.textContent = 'Copied.'; } catch (e) {
      area.select(); copied.textContent = 'Press Ctrl+C to copy the selected text.';
    }
  };
  const d = openDialog({
    title: `Export “${dashboard.title}”`, className: 'dash-dialog-wide',
    body: [h('p', { class: 'hint' }, 'This JSON can be imported on any Argus (Dashboards → Import).'), area],
    actions: [copied, h('span', { class: 'grow' }),
      h('button', { type: 'button', onClick: copy }, 'Copy'),
      h('a', { class: 'button primary dash-download', href: url, download: `${id || 'dashboard'}.json` }, 'Download JSON'),
      h('button', { type: 'button', onClick: () => d.close() }, 'Close')],
    onClose: () => URL.revokeObjectURL(url),
  });
  return d;
}
