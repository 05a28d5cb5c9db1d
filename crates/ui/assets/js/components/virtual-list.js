/**
 * A virtualised vertical list: only the rows in (and just around) the
 * viewport are in the DOM, absolutely positioned inside a spacer as tall as
 * the whole list. Row heights are measured once rendered (estimate until
 * then), so rows may differ in height (wrapped or expanded rows); the view
 * stays anchored on the first visible row when rows above it change height
 * or rows are inserted at the top.
 *
 * ```js
 * const list = new VirtualList(el, { estimate: 24, renderRow: (i) => rowElement(i), keyOf: (i) => ids[i] });
 * list.setCount(5000);
 * list.invalidate(12);       // row 12's content changed: re-render and re-measure it
 * list.scrollToIndex(4999);
 * ```
 *
 * Styles: `.vlist` (the scroller; give it a height), `.vlist-spacer`, `.vlist-row`
 * (see css/logs.css for an example).
 * @module components/virtual-list
 */

/**
 * @typedef {object} VirtualListOptions
 * @property {(index:number) => HTMLElement} renderRow builds the element of row `index`
 * @property {(index:number) => string} [keyOf] a stable identity of row `index` (default: the index);
 *   measured heights follow keys, so rows keep them when rows are inserted or removed
 * @property {number} [estimate=24] height of a row not yet measured, px
 * @property {number} [overscan=6] rows rendered beyond each edge of the viewport
 * @property {string} [label] accessible name of the list
 * @property {(first:number, last:number) => void} [onRange] called after the rendered range changes
 */

/** A virtualised list of `count` rows inside `container`. */
export class VirtualList {
  /**
   * @param {HTMLElement} container the list's scroller is appended here
   * @param {VirtualListOptions} options
   */
  constructor(container, options) {
    this.opts = { estimate: 24, overscan: 6, keyOf: (i) => String(i), onRange: null, ...options };
    this.count = 0;
    /** Measured heights by key. */
    this._heights = new Map();
    /** offsets[i] = top of row i; offsets[count] = total height. */
    this._offsets = new Float64Array(1);
    /** Rendered rows: index → element. */
    this._rows = new Map();
    this._range = [0, -1];
    this._raf = 0;
    this.scroller = document.createElement('div');
    this.scroller.className = 'vlist';
    this.scroller.setAttribute('role', 'list');
    if (this.opts.label) this.scroller.setAttribute('aria-label', this.opts.label);
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.scroller.append(this.spacer);
    container.append(this.scroller);
    this._onScroll = () => this._schedule();
    this.scroller.addEventListener('scroll', this._onScroll, { passive: true });
    this._ro = new ResizeObserver(() => this._schedule());
    this._ro.observe(this.scroller);
  }

  /**
   * Sets the number of rows and re-renders every visible row.
   * @param {number} count
   * @param {{anchor?: boolean}} [opts] anchor: keep the first visible row (by key) in place
   *   (e.g. after inserting rows at the top); otherwise the scroll position is kept as is.
   */
  setCount(count, { anchor = false } = {}) {
    const a = anchor ? this._anchor() : null;
    this.count = count;
    this._dropRows();
    this._layout();
    if (a) this._restore(a);
    this._render();
  }

  /** Re-renders (and re-measures) every rendered row, e.g. after a display option changed. */
  refresh({ remeasure = false } = {}) {
    const a = this._anchor();
    if (remeasure) this._heights.clear();
    this._dropRows();
    this._layout();
    if (a) this._restore(a);
    this._render();
  }

  /** Re-renders and re-measures row `index` (its content or height changed). */
  invalidate(index) {
    const el = this._rows.get(index);
    if (el) { el.remove(); this._rows.delete(index); }
    this._render();
  }

  /** The element of row `index` if it is rendered. */
  rowElement(index) {
    return this._rows.get(index) || null;
  }

  /** Indices of the first and last row intersecting the viewport. */
  visibleRange() {
    const top = this.scroller.scrollTop;
    const bottom = top + this.scroller.clientHeight;
    const first = this._indexAt(top);
    let last = this._indexAt(Math.max(top, bottom - 1));
    if (last >= this.count) last = this.count - 1;
    return [first, last];
  }

  /**
   * Scrolls so that row `index` is visible.
   * @param {number} index
   * @param {'start'|'center'|'end'|'nearest'} [align='nearest']
   */
  scrollToIndex(index, align = 'nearest') {
    if (index < 0 || index >= this.count) return;
    const view = this.scroller.clientHeight;
    const top = this._offsets[index];
    const h = this._offsets[index + 1] - top;
    const cur = this.scroller.scrollTop;
    let next = cur;
    if (align === 'start') next = top;
    else if (align === 'end') next = top + h - view;
    else if (align === 'center') next = top + h / 2 - view / 2;
    else if (top < cur) next = top;
    else if (top + h > cur + view) next = top + h - view;
    if (next !== cur) this.scroller.scrollTop = Math.max(0, next);
    this._render();
    // Rows measured on the way may have moved the target: correct once.
    const top2 = this._offsets[index];
    if (align === 'start' && top2 !== this.scroller.scrollTop) { this.scroller.scrollTop = top2; this._render(); }
  }

  /** Removes the list and its listeners. */
  destroy() {
    cancelAnimationFrame(this._raf);
    this._ro.disconnect();
    this.scroller.removeEventListener('scroll', this._onScroll);
    this.scroller.remove();
    this._rows.clear();
  }

  // ------------------------------------------------------------ internals

  _schedule() {
    if (this._raf) return;
    this._raf = requestAnimationFrame(() => { this._raf = 0; this._render(); });
  }

  _heightOf(i) {
    const h = this._heights.get(this.opts.keyOf(i));
    return h === undefined ? this.opts.estimate : h;
  }

  /** Recomputes every offset from the known heights. */
  _layout() {
    const n = this.count;
    if (this._offsets.length !== n + 1) this._offsets = new Float64Array(n + 1);
    const off = this._offsets;
    let y = 0;
    for (let i = 0; i < n; i++) { off[i] = y; y += this._heightOf(i); }
    off[n] = y;
    this.spacer.style.height = `${y}px`;
  }

  /** The row containing y (binary search over the offsets). */
  _indexAt(y) {
    const off = this._offsets;
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (off[mid + 1] <= y) lo = mid + 1; else hi = mid;
    }
    return Math.min(lo, Math.max(0, this.count - 1));
  }

  /** The first visible row's key and its distance from the top of the viewport. */
  _anchor() {
    if (!this.count) return null;
    const top = this.scroller.scrollTop;
    if (top <= 0) return null; // at the very top: stay there (new rows show up)
    const i = this._indexAt(top);
    return { key: this.opts.keyOf(i), index: i, delta: top - this._offsets[i] };
  }

  _restore(a) {
    let i = -1;
    // The anchor usually moved by a few rows (inserted at the top): look near it first.
    for (let d = 0; d < 4096 && i < 0; d++) {
      for (const j of [a.index + d, a.index - d]) {
        if (j >= 0 && j < this.count && this.opts.keyOf(j) === a.key) { i = j; break; }
      }
      if (a.index + d >= this.count && a.index - d < 0) break;
    }
    if (i >= 0) this.scroller.scrollTop = this._offsets[i] + a.delta;
  }

  _dropRows() {
    for (const el of this._rows.values()) el.remove();
    this._rows.clear();
  }

  /** Renders the rows around the viewport, measures new ones, fixes offsets. */
  _render() {
    const n = this.count;
    if (!n) { this._dropRows(); this._setRange(0, -1); return; }
    const { overscan } = this.opts;
    let [first, last] = this.visibleRange();
    first = Math.max(0, first - overscan);
    last = Math.min(n - 1, last + overscan);
    const focused = this._focusedIndex();
    for (const [i, el] of this._rows) {
      if ((i < first || i > last) && i !== focused) { el.remove(); this._rows.delete(i); }
    }
    const added = [];
    for (let i = first; i <= last; i++) {
      if (this._rows.has(i)) continue;
      const el = this.opts.renderRow(i);
      el.classList.add('vlist-row');
      el.setAttribute('role', 'listitem');
      el.dataset.index = String(i);
      el.style.transform = `translateY(${this._offsets[i]}px)`;
      this._rows.set(i, el);
      this.spacer.append(el);
      added.push(i);
    }
    if (added.length && this._measure(added)) {
      // Heights changed: keep the first visible row where it is, reposition rows.
      const a = this._anchor();
      this._layout();
      if (a) this._restore(a);
      for (const [i, el] of this._rows) el.style.transform = `translateY(${this._offsets[i]}px)`;
      // Rows may now be missing at an edge; one more pass (no loop: heights are now known).
      const [f2, l2] = this.visibleRange();
      if (f2 < first + overscan || l2 > last - overscan) this._schedule();
    }
    this._setRange(first, last);
  }

  /** Reads the height of newly rendered rows; true when one differs from what the layout assumed. */
  _measure(indices) {
    let changed = false;
    const hs = indices.map((i) => this._rows.get(i).offsetHeight); // one layout for all
    indices.forEach((i, k) => {
      const h = hs[k];
      if (!h) return; // not laid out (hidden): keep the estimate
      const key = this.opts.keyOf(i);
      if (this._heightOf(i) !== h) changed = true;
      this._heights.set(key, h);
    });
    return changed;
  }

  _focusedIndex() {
    const a = document.activeElement;
    if (!a || !this.spacer.contains(a)) return -1;
    const row = a.closest('.vlist-row');
    return row ? Number(row.dataset.index) : -1;
  }

  _setRange(first, last) {
    if (this._range[0] === first && this._range[1] === last) return;
    this._range = [first, last];
    if (this.opts.onRange) this.opts.onRange(first, last);
  }
}
