// Query editor for PromQL, LogQL and TraceQL: a transparent <textarea> laid
// over a syntax-highlighted <pre> (same font metrics, scroll synced), with an
// auto-growing height, a completion popup and inline error display.
//
//   import { QueryEditor } from '/ui/static/js/components/editor.js';
//   const ed = new QueryEditor(el, { language: 'promql', complete: async (ctx) => [...] });
//
// Styles live in /ui/static/css/editor.css; language knowledge in languages.js.

import { tokenize, buildContext, lex } from './languages.js';

const DEFAULTS = {
  language: 'promql',
  value: '',
  placeholder: '',
  ariaLabel: '',
  onChange: null,
  onSubmit: null,
  complete: null,
  minLines: 1,
  maxLines: 10,
  debounceMs: 150,
  maxItems: 200,
  clearErrorOnEdit: true,
  autofocus: false,
};

const LANG_NAMES = { promql: 'PromQL', logql: 'LogQL', traceql: 'TraceQL' };
const TRIGGER_CHARS = /[\w{="',(|[.~:`]$/;
const KIND_BADGES = {
  metric: 'M', function: 'ƒ', keyword: 'K', label: 'L', label_name: 'L', value: 'V',
  label_value: 'V', duration: 'D', operator: 'O', attribute: 'A', intrinsic: 'I', scope: 'S',
};
const PROVIDER_CACHE_MS = 10000;
const PROVIDER_CACHE_MAX = 50;

let instanceCount = 0;

/**
 * Ranks completion items against a prefix: exact matches, then prefix matches,
 * then substring matches (all case-insensitive); keeps source order otherwise.
 * @param {Array<{label:string}>} items
 * @param {string} prefix
 * @param {number} max
 */
export function rankItems(items, prefix, max = 200) {
  const p = prefix.toLowerCase();
  if (!p) return items.slice(0, max);
  const exact = [];
  const starts = [];
  const contains = [];
  for (const it of items) {
    const l = it.label.toLowerCase();
    if (l === p) exact.push(it);
    else if (l.startsWith(p)) starts.push(it);
    else if (l.includes(p)) contains.push(it);
  }
  return exact.concat(starts, contains).slice(0, max);
}

/** Escapes `s` for the inside of a string literal opened with quote `q`. */
function escapeFor(s, q) {
  if (q === '`') return s.replace(/`/g, '');
  return s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`);
}

/** Whether an unquoted value needs quotes ('auto': everything but numbers, durations, booleans). */
function needsQuotes(mode, value) {
  if (!mode) return false;
  if (/^["`]/.test(value)) return false;
  if (mode === 'auto') return !/^(-?\d+(\.\d+)?(e[+-]?\d+)?[a-zµ]*|true|false|nil)$/i.test(value);
  return true;
}

/** Converts a 1-based line/column (in code points) into a UTF-16 offset into `query`. */
function lineColOffset(query, line, col) {
  const lines = query.split('\n');
  let off = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
  const text = lines[line - 1] ?? '';
  let units = 0;
  let cps = 0;
  for (const ch of text) {
    if (cps >= col - 1) break;
    units += ch.length;
    cps += 1;
  }
  if (cps < col - 1) units += col - 1 - cps;
  return off + units;
}

/**
 * Extracts a character span from a query error message.
 * Understands `1:14: parse error: …` (Prometheus), `parse error at line 1, col 14: …`
 * (Loki, Tempo, Argus; 1-based, in characters), `… at position 14` and `… at 14..18`
 * (0-based offsets).
 * @param {string} message
 * @param {string} query the query the message is about (for line/column conversion)
 * @returns {{message:string, start?:number, end?:number}} `end` = `start + 1` when unknown
 */
export function errorSpan(message, query = '') {
  const msg = String(message ?? '');
  const q = String(query ?? '');
  let m = /\bline (\d+),? col(?:umn)? (\d+)/i.exec(msg);
  if (!m) m = /(?:^|[\s(])(\d+):(\d+)(?::|\s|$)/.exec(msg);
  if (m) {
    const start = lineColOffset(q, Number(m[1]), Number(m[2]));
    return { message: msg, start, end: start + 1 };
  }
  m = /\bat (?:position |offset |char(?:acter)? |pos )?(\d+)(?:\s*(?:\.\.=?|-)\s*(\d+))?\b/i.exec(msg);
  if (m) {
    const start = Number(m[1]);
    const end = m[2] != null ? Math.max(Number(m[2]), start + 1) : start + 1;
    return { message: msg, start, end };
  }
  const guess = guessSpan(msg, q);
  return guess ? { message: msg, ...guess } : { message: msg };
}

const BRACKET_WORDS = { parenthesis: '()', bracket: '[]', brace: '{}' };

/**
 * Positions for position-less parser messages (promql-parser): unbalanced
 * brackets, and a trailing `: token` / quoted token that occurs in the query.
 */
function guessSpan(msg, query) {
  const m = /\b(unclosed left|unexpected right) (parenthesis|bracket|brace)\b/i.exec(msg);
  if (m) {
    const [open, close] = BRACKET_WORDS[m[2].toLowerCase()];
    const stack = [];
    for (const t of lex('promql', query)) {
      if (t.text === open) stack.push(t);
      else if (t.text === close && !stack.pop() && /right/i.test(m[1])) return { start: t.start, end: t.end };
    }
    const t = stack.pop();
    return t && /left/i.test(m[1]) ? { start: t.start, end: t.end } : null;
  }
  const tail = /(?:'([^']+)'|"([^"]+)"|`([^`]+)`|:\s+(\S+))\s*$/.exec(msg);
  const tok = tail && (tail[1] || tail[2] || tail[3] || tail[4]);
  if (!tok || (tail[4] && tok.length < 2)) return null;
  const at = query.indexOf(tok);
  return at >= 0 ? { start: at, end: at + tok.length } : null;
}

function el(tag, attrs = {}, parent = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'className') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  if (parent) parent.appendChild(node);
  return node;
}

/**
 * A query editor with highlighting, completion and inline errors.
 *
 * Options: `language` ('promql'|'logql'|'traceql'), `value`, `placeholder`,
 * `ariaLabel`, `onChange(value)`, `onSubmit(value)`, `complete(ctx)` (async
 * provider returning `[{label, insert?, kind?, detail?, caret?}]`), and
 * optionally `minLines` (1), `maxLines` (10), `debounceMs` (150), `maxItems`
 * (200), `clearErrorOnEdit` (true: the user editing clears the error),
 * `autofocus` (false).
 */
export class QueryEditor {
  #opts;
  #root;
  #field;
  #pre;
  #ta;
  #list;
  #errEl;
  #id;
  #error = null;
  #comp = null;
  #seq = 0;
  #timer = 0;
  #cache = new Map();
  #programmatic = false;
  #braceKey = '';
  #raf = 0;
  #ro = null;
  #listeners = [];

  /**
   * @param {HTMLElement} container element the editor is appended to
   * @param {object} options see the class documentation
   */
  constructor(container, options = {}) {
    this.#opts = { ...DEFAULTS, ...options };
    this.#id = `qe${++instanceCount}`;
    this.#build(container);
    this.#bindEvents();
    this.setValue(this.#opts.value ?? '');
    if (this.#opts.autofocus) this.focus();
  }

  /** The current query text. */
  get value() {
    return this.#ta.value;
  }

  set value(v) {
    this.setValue(v);
  }

  /** The current language. */
  get language() {
    return this.#opts.language;
  }

  /** The editor's root element (`.qe`). */
  get element() {
    return this.#root;
  }

  /** The underlying textarea (for focus management / labelling). */
  get textarea() {
    return this.#ta;
  }

  /**
   * Replaces the text (does not call `onChange`); the caret goes to the end.
   * @param {string} v
   */
  setValue(v) {
    const text = String(v ?? '');
    this.#closePopup();
    if (text !== this.#ta.value) this.#ta.value = text;
    this.#ta.setSelectionRange(text.length, text.length);
    this.#render();
    this.#autoGrow();
  }

  /**
   * Switches the language (keeps the text).
   * @param {'promql'|'logql'|'traceql'} lang
   */
  setLanguage(lang) {
    this.#opts.language = lang;
    this.#root.dataset.language = lang;
    this.#closePopup();
    this.#cache.clear();
    this.#render();
  }

  /** Focuses the textarea. */
  focus() {
    this.#ta.focus();
  }

  /**
   * Shows an error under the editor, underlining `[start, end)` when given.
   * @param {{message:string, start?:number, end?:number}|string|null} err
   */
  setError(err) {
    if (typeof err === 'string') err = { message: err };
    this.#error = err && (err.message || err.start != null) ? { ...err } : null;
    const msg = this.#error ? String(this.#error.message ?? '') : '';
    this.#errEl.textContent = msg;
    this.#errEl.hidden = !msg;
    if (this.#error) {
      this.#ta.setAttribute('aria-invalid', 'true');
      this.#ta.setAttribute('aria-describedby', this.#errEl.id);
    } else {
      this.#ta.removeAttribute('aria-invalid');
      this.#ta.removeAttribute('aria-describedby');
    }
    this.#render();
  }

  /** Removes the editor from the DOM and drops all listeners and timers. */
  destroy() {
    this.#closePopup();
    clearTimeout(this.#timer);
    cancelAnimationFrame(this.#raf);
    for (const [target, type, fn, opt] of this.#listeners) target.removeEventListener(type, fn, opt);
    this.#listeners = [];
    if (this.#ro) this.#ro.disconnect();
    this.#root.remove();
    this.#comp = null;
  }

  // -- construction ---------------------------------------------------------

  #build(container) {
    const o = this.#opts;
    this.#root = el('div', { className: 'qe', 'data-language': o.language });
    this.#field = el('div', { className: 'qe-field' }, this.#root);
    this.#pre = el('pre', { className: 'qe-highlight', 'aria-hidden': 'true' }, this.#field);
    this.#ta = el('textarea', {
      className: 'qe-input',
      rows: 1,
      spellcheck: 'false',
      autocomplete: 'off',
      autocapitalize: 'off',
      autocorrect: 'off',
      translate: 'no',
      'data-gramm': 'false',
      placeholder: o.placeholder || null,
      'aria-label': o.ariaLabel || `${LANG_NAMES[o.language] || 'Query'} query`,
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': `${this.#id}-list`,
      'aria-multiline': 'true',
    }, this.#field);
    this.#list = el('ul', {
      className: 'qe-popup',
      id: `${this.#id}-list`,
      role: 'listbox',
      'aria-label': 'Suggestions',
      tabindex: '-1',
    }, this.#root);
    if (typeof this.#list.showPopover === 'function') this.#list.setAttribute('popover', 'manual');
    else this.#list.hidden = true;
    this.#errEl = el('div', { className: 'qe-error', id: `${this.#id}-err`, 'aria-live': 'polite' }, this.#root);
    this.#errEl.hidden = true;
    container.appendChild(this.#root);
  }

  #on(target, type, fn, opt) {
    target.addEventListener(type, fn, opt);
    this.#listeners.push([target, type, fn, opt]);
  }

  #bindEvents() {
    const ta = this.#ta;
    this.#on(ta, 'input', (e) => this.#onInput(e));
    this.#on(ta, 'keydown', (e) => this.#onKeyDown(e));
    this.#on(ta, 'scroll', () => this.#syncScroll());
    this.#on(ta, 'blur', () => this.#closePopup());
    this.#on(ta, 'mousedown', () => this.#closePopup());
    for (const type of ['selectionchange', 'select', 'keyup', 'mouseup', 'focus']) {
      this.#on(ta, type, () => this.#scheduleBraceUpdate());
    }
    this.#on(ta, 'compositionend', () => this.#trigger(false));
    this.#on(this.#list, 'mousedown', (e) => e.preventDefault());
    this.#on(this.#list, 'click', (e) => {
      const li = e.target.closest('li[data-index]');
      if (li && this.#comp) this.#accept(this.#comp.shown[Number(li.dataset.index)]);
    });
    if (typeof ResizeObserver === 'function') {
      let width = -1;
      this.#ro = new ResizeObserver((entries) => {
        const w = entries[entries.length - 1].contentRect.width;
        if (w === width) return;
        width = w;
        requestAnimationFrame(() => this.#root.isConnected && this.#autoGrow());
      });
      this.#ro.observe(this.#field);
    }
    if (document.fonts && document.fonts.ready) {
      document.fonts.ready.then(() => this.#root.isConnected && this.#autoGrow());
    }
  }

  // -- rendering ------------------------------------------------------------

  /** Rebuilds the highlighted copy of the text. */
  #render() {
    const text = this.#ta.value;
    const { tokens } = tokenize(this.#opts.language, text);
    const err = this.#errorRange(text.length);
    const braces = this.#bracePair(tokens);
    this.#braceKey = braces.map((t) => t.start).join(',');
    const frag = document.createDocumentFragment();
    for (const t of tokens) this.#renderToken(frag, t, err, braces);
    const eol = el('span', { className: 'qe-eol', text: ' ' }, frag);
    if (err && err.start >= text.length) eol.classList.add('qe-err');
    this.#pre.replaceChildren(frag);
    this.#syncScroll();
  }

  #renderToken(frag, t, err, braces) {
    const cuts = [t.start, t.end];
    if (err) {
      if (err.start > t.start && err.start < t.end) cuts.push(err.start);
      if (err.end > t.start && err.end < t.end) cuts.push(err.end);
    }
    cuts.sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      if (a === b) continue;
      const piece = t.text.slice(a - t.start, b - t.start);
      const inErr = err && a >= err.start && b <= err.end;
      const classes = [];
      if (t.type !== 'ws') classes.push(`qe-t-${t.cls}`);
      if (inErr) classes.push('qe-err');
      if (braces.includes(t)) classes.push('qe-brace-match');
      if (t.unmatched) classes.push('qe-brace-bad');
      if (classes.length) el('span', { className: classes.join(' '), text: piece }, frag);
      else frag.appendChild(document.createTextNode(piece));
    }
  }

  #errorRange(len) {
    const e = this.#error;
    if (!e || e.start == null || !Number.isFinite(Number(e.start))) return null;
    const start = Math.max(0, Math.min(Number(e.start), len));
    let end = e.end == null ? start + 1 : Number(e.end);
    end = Math.max(start + 1, Math.min(end, len));
    return { start, end };
  }

  /** The brace token next to the caret and its partner, if any. */
  #bracePair(tokens) {
    const ta = this.#ta;
    if (document.activeElement !== ta || ta.selectionStart !== ta.selectionEnd) return [];
    const c = ta.selectionStart;
    const near = tokens.filter((t) => t.type === 'brace' && t.match && (t.end === c || t.start === c));
    const t = near.find((x) => x.end === c) || near[0];
    return t ? [t, t.match] : [];
  }

  #scheduleBraceUpdate() {
    cancelAnimationFrame(this.#raf);
    this.#raf = requestAnimationFrame(() => {
      const { tokens } = tokenize(this.#opts.language, this.#ta.value);
      const key = this.#bracePair(tokens).map((t) => t.start).join(',');
      if (key !== this.#braceKey) this.#render();
    });
  }

  #syncScroll() {
    this.#pre.scrollTop = this.#ta.scrollTop;
    this.#pre.scrollLeft = this.#ta.scrollLeft;
  }

  /** Sizes the textarea to its content, between minLines and maxLines. */
  #autoGrow() {
    const ta = this.#ta;
    const cs = getComputedStyle(ta);
    const line = parseFloat(cs.lineHeight) || 20;
    const pad = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
    const min = line * this.#opts.minLines + pad;
    const max = line * this.#opts.maxLines + pad;
    const scroll = ta.scrollTop;
    ta.style.height = `${min}px`;
    const want = Math.ceil(ta.scrollHeight);
    const h = Math.max(min, Math.min(want, max));
    ta.style.height = `${h}px`;
    ta.classList.toggle('qe-scrolling', want > max + 1);
    ta.scrollTop = scroll;
    this.#syncScroll();
  }

  // -- input ----------------------------------------------------------------

  #onInput(e) {
    if (this.#opts.clearErrorOnEdit && this.#error) this.setError(null);
    else this.#render();
    this.#autoGrow();
    if (typeof this.#opts.onChange === 'function') this.#opts.onChange(this.#ta.value);
    if (this.#programmatic || e.isComposing) return;
    const type = e.inputType || '';
    const before = this.#ta.value.slice(0, this.#ta.selectionStart);
    if (type.startsWith('insert') && e.data && e.data.length <= 2 && TRIGGER_CHARS.test(e.data)) {
      this.#trigger(false);
    } else if (e.data === ' ' && this.#comp && /[{(,|=~&!]\s$/.test(before)) {
      this.#trigger(this.#comp.explicit);
    } else if (type.startsWith('delete') && this.#comp) {
      this.#trigger(this.#comp.explicit);
    } else {
      this.#closePopup();
    }
  }

  #onKeyDown(e) {
    if (e.isComposing || e.keyCode === 229) return;
    const open = this.#isOpen();
    if (e.key === ' ' && e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      this.#trigger(true);
      return;
    }
    if (open && this.#onPopupKey(e)) return;
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.#submit();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      this.#submit();
    } else if (e.key === 'Enter') {
      this.#closePopup();
    } else if (e.key === 'Escape' && this.#comp) {
      this.#closePopup();
    } else if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && this.#comp) {
      setTimeout(() => this.#comp && this.#trigger(this.#comp.explicit), 0);
    }
  }

  /** Handles a key while the popup is visible; true if consumed. */
  #onPopupKey(e) {
    const mods = e.ctrlKey || e.metaKey || e.altKey;
    const comp = this.#comp;
    const n = comp.shown.length;
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 8, PageUp: -8 };
    if (e.key in moves && !mods && !e.shiftKey) {
      e.preventDefault();
      const step = moves[e.key];
      let i = comp.active + step;
      if (Math.abs(step) === 1) i = (i + n) % n;
      else i = Math.max(0, Math.min(n - 1, i));
      this.#setActive(i);
      comp.pinned = comp.shown[i] ? comp.shown[i].label : null;
      return true;
    }
    if ((e.key === 'Enter' || e.key === 'Tab') && !mods && !e.shiftKey) {
      e.preventDefault();
      this.#accept(comp.shown[comp.active]);
      return true;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.#closePopup();
      return true;
    }
    return false;
  }

  #submit() {
    this.#closePopup();
    if (typeof this.#opts.onSubmit === 'function') this.#opts.onSubmit(this.#ta.value);
  }

  // -- completion -------------------------------------------------------------

  /** Recomputes the completion context at the caret and (re)opens the popup. */
  #trigger(explicit) {
    const ta = this.#ta;
    if (ta.selectionStart !== ta.selectionEnd || document.activeElement !== ta) {
      this.#closePopup();
      return;
    }
    const res = buildContext(this.#opts.language, ta.value, ta.selectionStart);
    if (!res) {
      this.#closePopup();
      return;
    }
    const prev = this.#comp;
    const scope = res.ctx ? JSON.stringify({ ...res.ctx, prefix: '' }) : '';
    const keep = prev && prev.scope === scope && scope !== '';
    this.#comp = {
      res, scope, explicit, active: 0, shown: [],
      provider: keep ? prev.provider : [],
      pinned: keep ? prev.pinned : null,
    };
    const seq = ++this.#seq;
    clearTimeout(this.#timer);
    this.#showItems();
    if (res.ctx && typeof this.#opts.complete === 'function') {
      const cached = this.#cacheGet(JSON.stringify(res.ctx));
      if (cached) {
        this.#comp.provider = cached;
        this.#showItems();
      } else {
        this.#timer = setTimeout(() => this.#askProvider(res.ctx, seq), this.#opts.debounceMs);
      }
    }
  }

  async #askProvider(ctx, seq) {
    let items = [];
    try {
      const out = await this.#opts.complete({ ...ctx });
      items = Array.isArray(out) ? out : [];
    } catch {
      items = [];
    }
    const norm = items
      .filter((it) => it && (typeof it === 'string' || it.label != null))
      .map((it) => (typeof it === 'string' ? { label: it } : { ...it, label: String(it.label) }));
    this.#cacheSet(JSON.stringify(ctx), norm);
    if (seq !== this.#seq || !this.#comp || !this.#root.isConnected) return;
    this.#comp.provider = norm;
    this.#showItems();
  }

  #cacheGet(key) {
    const hit = this.#cache.get(key);
    if (!hit || Date.now() - hit.at > PROVIDER_CACHE_MS) return null;
    return hit.items;
  }

  #cacheSet(key, items) {
    this.#cache.delete(key);
    this.#cache.set(key, { at: Date.now(), items });
    while (this.#cache.size > PROVIDER_CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value);
  }

  /** Merges, filters and renders the current items; hides the popup when empty. */
  #showItems() {
    const comp = this.#comp;
    const seen = new Set();
    const merged = [];
    const sources = comp.res.builtinFirst ? [comp.res.items, comp.provider] : [comp.provider, comp.res.items];
    for (const it of sources.flat()) {
      if (seen.has(it.label)) continue;
      seen.add(it.label);
      merged.push(it);
    }
    const { prefix } = comp.res;
    const shown = rankItems(merged, prefix, this.#opts.maxItems);
    const trivial = shown.length === 1 && (shown[0].insert ?? shown[0].label) === prefix && !comp.explicit;
    comp.shown = trivial ? [] : shown;
    if (!comp.shown.length) {
      this.#hideList();
      return;
    }
    const keepIdx = comp.pinned == null ? -1 : comp.shown.findIndex((it) => it.label === comp.pinned);
    comp.active = Math.max(0, keepIdx);
    this.#renderList(prefix);
    this.#showList();
    this.#setActive(comp.active);
  }

  #renderList(prefix) {
    const frag = document.createDocumentFragment();
    const p = prefix.toLowerCase();
    this.#comp.shown.forEach((it, i) => {
      const li = el('li', {
        id: `${this.#id}-opt-${i}`, role: 'option', 'aria-selected': 'false', 'data-index': i,
        className: 'qe-option',
      }, frag);
      const kind = it.kind || 'value';
      el('span', {
        className: `qe-kind qe-kind-${kind.replace(/[^\w-]/g, '')}`,
        text: KIND_BADGES[kind] || kind.charAt(0).toUpperCase(), 'aria-hidden': 'true',
      }, li);
      const label = el('span', { className: 'qe-label' }, li);
      const at = p ? it.label.toLowerCase().indexOf(p) : -1;
      if (at >= 0) {
        label.append(it.label.slice(0, at));
        el('mark', { text: it.label.slice(at, at + p.length) }, label);
        label.append(it.label.slice(at + p.length));
      } else {
        label.textContent = it.label;
      }
      if (it.detail) el('span', { className: 'qe-detail', text: String(it.detail) }, li);
    });
    this.#list.replaceChildren(frag);
  }

  #setActive(i) {
    const comp = this.#comp;
    const prev = this.#list.querySelector('[aria-selected="true"]');
    if (prev) prev.setAttribute('aria-selected', 'false');
    comp.active = i;
    const li = this.#list.children[i];
    if (!li) return;
    li.setAttribute('aria-selected', 'true');
    this.#ta.setAttribute('aria-activedescendant', li.id);
    li.scrollIntoView({ block: 'nearest' });
  }

  #isOpen() {
    return !!(this.#comp && this.#comp.shown.length && this.#ta.getAttribute('aria-expanded') === 'true');
  }

  #showList() {
    const list = this.#list;
    if (list.hasAttribute('popover')) {
      if (!list.matches(':popover-open')) list.showPopover();
    } else {
      list.hidden = false;
    }
    this.#ta.setAttribute('aria-expanded', 'true');
    this.#positionList();
    if (!this.#listeners.some((l) => l[1] === 'scroll' && l[0] === window)) {
      this.#on(window, 'scroll', this.#reposition, { capture: true, passive: true });
      this.#on(window, 'resize', this.#reposition);
    }
  }

  #reposition = () => {
    if (this.#isOpen()) this.#positionList();
  };

  #hideList() {
    const list = this.#list;
    if (list.hasAttribute('popover')) {
      if (list.matches(':popover-open')) list.hidePopover();
    } else {
      list.hidden = true;
    }
    this.#ta.setAttribute('aria-expanded', 'false');
    this.#ta.removeAttribute('aria-activedescendant');
    this.#listeners = this.#listeners.filter(([target, type, fn, opt]) => {
      if (target !== window) return true;
      target.removeEventListener(type, fn, opt);
      return false;
    });
  }

  #closePopup() {
    clearTimeout(this.#timer);
    this.#seq++;
    this.#comp = null;
    this.#hideList();
  }

  /** Places the popup under (or above) the caret, in viewport coordinates. */
  #positionList() {
    const rect = this.#caretRect();
    const list = this.#list;
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    list.style.maxHeight = '';
    const w = list.offsetWidth;
    const natural = list.offsetHeight;
    const below = vh - rect.bottom - 8;
    const above = rect.top - 8;
    let top = rect.bottom + 4;
    if (natural > below && above > below) {
      const h = Math.min(natural, above);
      list.style.maxHeight = `${Math.floor(h)}px`;
      top = rect.top - 4 - h;
    } else if (natural > below) {
      list.style.maxHeight = `${Math.max(48, Math.floor(below))}px`;
    }
    const left = Math.max(4, Math.min(rect.left - 4, vw - w - 4));
    list.style.top = `${Math.round(top)}px`;
    list.style.left = `${Math.round(left)}px`;
  }

  /** Viewport rectangle of the caret, measured on the highlighted copy. */
  #caretRect() {
    const pos = this.#ta.selectionStart;
    const walker = document.createTreeWalker(this.#pre, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const len = node.data.length;
      if (pos < seen + len) {
        const range = document.createRange();
        range.setStart(node, pos - seen);
        range.setEnd(node, pos - seen + 1);
        const r = range.getClientRects()[0] || range.getBoundingClientRect();
        return { left: r.left, top: r.top, bottom: r.bottom };
      }
      seen += len;
    }
    return this.#ta.getBoundingClientRect();
  }

  /** Inserts the chosen item in place of the current token. */
  #accept(item) {
    const comp = this.#comp;
    if (!comp || !item) return;
    const { res } = comp;
    const text = this.#ta.value;
    let ins = String(item.insert ?? item.label);
    let caret = Number.isInteger(item.caret) ? item.caret : ins.length;
    if (res.quote) {
      ins = escapeFor(ins, res.quote) + res.quote;
      caret = ins.length;
    } else if (!item.raw && needsQuotes(res.wrapQuotes, ins)) {
      ins = `"${escapeFor(ins, '"')}"`;
      caret = ins.length;
    } else if (ins.endsWith('()') && caret === ins.length - 1 && text[res.to] === '(') {
      ins = ins.slice(0, -2);
      caret = ins.length;
    }
    this.#closePopup();
    this.#replaceRange(res.from, res.to, ins, res.from + caret);
    if (/[({.:]$/.test(ins.slice(0, caret))) this.#trigger(false);
  }

  /** Replaces `[from, to)` with `ins` keeping the browser's undo stack when possible. */
  #replaceRange(from, to, ins, caretPos) {
    const ta = this.#ta;
    ta.focus();
    ta.setSelectionRange(from, to);
    this.#programmatic = true;
    let ok = false;
    try {
      ok = document.execCommand('insertText', false, ins);
    } catch {
      ok = false;
    }
    if (!ok || ta.value.slice(from, from + ins.length) !== ins) {
      ta.setRangeText(ins, from, to, 'end');
      ta.dispatchEvent(new InputEvent('input', { inputType: 'insertReplacementText', data: ins }));
    }
    this.#programmatic = false;
    ta.setSelectionRange(caretPos, caretPos);
    this.#render();
  }
}
