// TimeChart: a canvas time-series chart (lines, stacked areas, stacked bars)
// with axes, a toggleable legend, a hover tooltip, drag-to-zoom and exemplars.
//
// Two stacked canvases: the main one holds grid, axes, series and exemplars
// and is only redrawn when data, size, visibility or theme change; the overlay
// holds the crosshair, highlight and drag selection and is redrawn on hover.
// Styles live in /ui/static/css/chart.css.

import {
  readTheme, valueTicks, formatTick, withUnit, timeTicks, formatTime, lowerBound, nearestIndex,
} from './chart-axes.js';
import { traceLine, traceBand, traceBars, diamond, crisp } from './chart-render.js';
import { normalizeData, alignSeries, guessBucket, nearestRow, upperBound, el } from './chart-data.js';
import { fillSeriesTip, fillExemplarTip, placeTooltip } from './chart-tooltip.js';

const PAD_TOP = 10;
const PAD_RIGHT = 16;
const PAD_BOTTOM = 24;
const DRAG_MIN_PX = 5;
const EXEMPLAR_R = 4.5;
const EXEMPLAR_HIT_PX = 8;
const LINE_BUDGET = 30000; // vertices before lines turn into hairlines

/**
 * @typedef {object} ChartSeries
 * @property {string} name
 * @property {Object<string,string>} [labels]
 * @property {Float64Array|number[]} ts ascending ms
 * @property {Float64Array|number[]} values NaN (or null) = gap
 * @property {string} [color] CSS colour; a palette colour when absent
 */

/**
 * @typedef {object} ChartExemplar
 * @property {number} ts ms
 * @property {number} value
 * @property {number} seriesIndex index into series, or -1
 * @property {Object<string,string>} [labels]
 * @property {string} [traceId]
 */

/**
 * @typedef {object} ChartOptions
 * @property {number} [height=300] plot height in px; the width follows the container
 * @property {boolean} [stacked=false] stack visible series as filled areas
 * @property {'line'|'bars'} [kind='line'] bars are always stacked by series
 * @property {string} [unit=''] suffix for value labels
 * @property {(startMs:number, endMs:number)=>void} [onZoom] a horizontal range was dragged
 * @property {(exemplar:ChartExemplar)=>void} [onExemplarClick]
 * @property {boolean} [legend=true] show the legend below the plot
 * @property {boolean} [utc=false] label times in UTC rather than local time
 * @property {'start'|'center'} [barAlign='start'] where a bar's ts sits in its bucket
 */

/**
 * A fast canvas time-series chart.
 *
 * ```js
 * const chart = new TimeChart(el, { height: 300, onZoom: (s, e) => {} });
 * chart.setData({ start, end, series: [{ name, ts, values }], exemplars: [] });
 * ```
 */
export class TimeChart {
  /**
   * @param {HTMLElement} container the chart appends its elements here
   * @param {ChartOptions} [options]
   */
  constructor(container, options = {}) {
    /** @type {Required<ChartOptions>} */
    this.opts = {
      height: 300, stacked: false, kind: 'line', unit: '', onZoom: null, onExemplarClick: null,
      legend: true, utc: false, barAlign: 'start', ...options,
    };
    /** Duration of the last full render of the main canvas, ms. */
    this.lastRenderMs = 0;
    /** Duration of the last hover update (hit test, overlay, tooltip), ms. */
    this.lastHoverMs = 0;
    this.container = container;
    this._data = null;       // normalised data, see setData
    this._hidden = new Set(); // keys of hidden series; survives setData
    this._draw = [];          // per series: {xs, ys, lo, raw} as drawn
    this._grid = null;        // series aligned on one time grid (stacked / bars)
    this._layout = null;      // scales and ticks of the last render
    this._exPos = [];         // exemplars on screen: {x, y, ex, color}
    this._hover = null;       // hit-test result under the pointer
    this._drag = null;        // {x0, x1, id} while selecting a range
    this._pointer = null;     // last pointer position (client coords)
    this._legendHl = -1;      // series highlighted from the legend
    this._size = { w: 0, h: 0, dpr: 1 };
    this._renderRaf = 0;
    this._hoverRaf = 0;
    this._destroyed = false;
    this._buildDom();
    this._listen();
  }

  /**
   * Replaces the data and renders.
   * @param {{start?:number, end?:number, step?:number, series?:ChartSeries[], exemplars?:ChartExemplar[]}} data
   *   `step` (optional) is the bucket width in ms for bars; guessed from the data when absent.
   */
  setData(data) {
    this._data = normalizeData(data);
    this._grid = null;
    this._hover = null;
    this._legendHl = -1;
    this._prepare();
    this._buildLegend();
    this.render();
  }

  /** @param {boolean} stacked */
  setStacked(stacked) {
    this.opts.stacked = !!stacked;
    this._prepare();
    this.render();
  }

  /** @param {'line'|'bars'} kind */
  setKind(kind) {
    this.opts.kind = kind === 'bars' ? 'bars' : 'line';
    this._prepare();
    this.render();
  }

  /** @returns {boolean[]} whether each series (in setData order) is shown */
  visibleSeries() {
    return (this._data?.series ?? []).map((s) => !this._hidden.has(s.key));
  }

  /**
   * Shows or hides series programmatically.
   * @param {boolean[]} flags one per series; missing entries mean visible
   */
  setVisibleSeries(flags) {
    const series = this._data?.series ?? [];
    this._hidden.clear();
    series.forEach((s, i) => { if (flags[i] === false) this._hidden.add(s.key); });
    this._visibilityChanged();
  }

  /** Removes the chart's elements and stops all observers and listeners. */
  destroy() {
    if (this._destroyed) return;
    this._destroyed = true;
    cancelAnimationFrame(this._renderRaf);
    cancelAnimationFrame(this._hoverRaf);
    this._resizeObs.disconnect();
    this._themeObs.disconnect();
    this._darkQuery?.removeEventListener('change', this._onThemeChange);
    window.removeEventListener('keydown', this._onKeyDown, true);
    const o = this._overlay;
    o.removeEventListener('pointerdown', this._onPointerDown);
    o.removeEventListener('pointermove', this._onPointerMove);
    o.removeEventListener('pointerup', this._onPointerUp);
    o.removeEventListener('pointercancel', this._onPointerCancel);
    o.removeEventListener('pointerleave', this._onPointerLeave);
    const lg = this._legend;
    lg.removeEventListener('click', this._onLegendClick);
    lg.removeEventListener('pointerover', this._onLegendOver);
    lg.removeEventListener('pointerout', this._onLegendOut);
    lg.removeEventListener('focusin', this._onLegendOver);
    lg.removeEventListener('focusout', this._onLegendOut);
    this.root.remove();
    this._data = null;
    this._draw = [];
    this._grid = null;
  }

  // ------------------------------------------------------------ set-up

  _buildDom() {
    const root = el('div', 'tchart');
    const plot = el('div', 'tchart-plot');
    plot.style.height = `${this.opts.height}px`;
    plot.setAttribute('role', 'img');
    this._canvas = el('canvas', 'tchart-canvas');
    this._overlay = el('canvas', 'tchart-canvas tchart-overlay');
    plot.append(this._canvas, this._overlay);
    this._tip = el('div', 'tchart-tooltip');
    this._tip.hidden = true;
    this._legend = el('div', 'tchart-legend');
    this._legend.setAttribute('role', 'group');
    this._legend.setAttribute('aria-label', 'Series (click to toggle, shift-click to isolate)');
    this._legend.hidden = true;
    root.append(plot, this._legend, this._tip);
    this.container.append(root);
    this.root = root;
    this._plot = plot;
    this._ctx = this._canvas.getContext('2d');
    this._octx = this._overlay.getContext('2d');
  }

  _listen() {
    this._onPointerDown = (e) => this._pointerDown(e);
    this._onPointerMove = (e) => { this._pointer = { x: e.clientX, y: e.clientY }; this._scheduleHover(); };
    this._onPointerUp = (e) => this._pointerUp(e);
    this._onPointerCancel = () => this._cancelDrag();
    this._onPointerLeave = () => {
      if (this._drag) return;
      this._pointer = null;
      this._scheduleHover();
    };
    this._onKeyDown = (e) => { if (e.key === 'Escape' && this._drag) { e.stopPropagation(); this._cancelDrag(); } };
    const o = this._overlay;
    o.addEventListener('pointerdown', this._onPointerDown);
    o.addEventListener('pointermove', this._onPointerMove);
    o.addEventListener('pointerup', this._onPointerUp);
    o.addEventListener('pointercancel', this._onPointerCancel);
    o.addEventListener('pointerleave', this._onPointerLeave);

    this._onLegendClick = (e) => this._legendClick(e);
    this._onLegendOver = (e) => this._legendHighlight(e, true);
    this._onLegendOut = (e) => this._legendHighlight(e, false);
    const lg = this._legend;
    lg.addEventListener('click', this._onLegendClick);
    lg.addEventListener('pointerover', this._onLegendOver);
    lg.addEventListener('pointerout', this._onLegendOut);
    lg.addEventListener('focusin', this._onLegendOver);
    lg.addEventListener('focusout', this._onLegendOut);

    this._resizeObs = new ResizeObserver(() => {
      const w = this._plot.clientWidth;
      if (w !== this._size.w || (window.devicePixelRatio || 1) !== this._size.dpr) this._scheduleRender();
    });
    this._resizeObs.observe(this._plot);
    this._onThemeChange = () => this._scheduleRender();
    this._themeObs = new MutationObserver(this._onThemeChange);
    this._themeObs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class', 'style'] });
    this._darkQuery = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
    this._darkQuery?.addEventListener('change', this._onThemeChange);
  }

  _scheduleRender() {
    if (this._renderRaf || this._destroyed) return;
    this._renderRaf = requestAnimationFrame(() => { this._renderRaf = 0; this.render(); });
  }

  _scheduleHover() {
    if (this._hoverRaf || this._destroyed) return;
    this._hoverRaf = requestAnimationFrame(() => { this._hoverRaf = 0; this._hoverFrame(); });
  }

  // ------------------------------------------------------------- data

  _stackMode() {
    return this.opts.stacked || this.opts.kind === 'bars';
  }

  _visible(i) {
    return !this._hidden.has(this._data.series[i].key);
  }

  /** Builds the arrays drawn for each series: raw, or cumulative when stacking. */
  _prepare() {
    const d = this._data;
    if (!d) { this._draw = []; return; }
    if (!this._stackMode()) {
      this._draw = d.series.map((s) => ({ xs: s.ts, ys: s.values, lo: null, raw: s.values }));
      return;
    }
    const g = (this._grid ??= alignSeries(d.series));
    let acc = new Float64Array(g.xs.length);
    this._draw = d.series.map((s, i) => {
      const raw = g.vals[i];
      if (!this._visible(i)) return { xs: g.xs, ys: raw, lo: null, raw };
      const hi = new Float64Array(raw.length);
      for (let j = 0; j < raw.length; j++) { const v = raw[j]; hi[j] = v === v ? acc[j] + v : acc[j]; }
      const r = { xs: g.xs, ys: hi, lo: acc, raw };
      acc = hi;
      return r;
    });
    if (!d.step) g.bucket ??= guessBucket(g.xs, d.end - d.start);
  }

  /** Width of a bar's bucket in ms. */
  _bucketMs() {
    const d = this._data;
    return d.step || this._grid?.bucket || (d.end - d.start) / 60;
  }

  // ----------------------------------------------------------- render

  /** Redraws the main canvas (and the overlay) now. */
  render() {
    if (this._destroyed) return;
    const t0 = performance.now();
    if (!this._resize()) return;
    const th = (this._theme = readTheme(this.root));
    const ctx = this._ctx;
    const { w, h, dpr } = this._size;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = th.font;
    const L = (this._layout = this._computeLayout(ctx));
    this._drawGrid(ctx, L, th);
    ctx.save();
    ctx.beginPath();
    ctx.rect(L.left, L.top - 2, L.w, L.h + 4);
    ctx.clip();
    const drawn = this.opts.kind === 'bars' ? this._drawBars(ctx, L) : this._drawLines(ctx, L);
    this._drawExemplars(ctx, L, th);
    ctx.restore();
    if (!drawn) {
      ctx.fillStyle = th.muted;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.font = th.font.replace(/^\d+px/, '13px');
      ctx.fillText('No data', L.left + L.w / 2, L.top + L.h / 2);
    }
    const summary = this._summary();
    if (this._plot.getAttribute('aria-label') !== summary) this._plot.setAttribute('aria-label', summary);
    this.lastRenderMs = performance.now() - t0;
    if (this._pointer || this._hover) this._hoverFrame();
    else this._drawOverlay();
  }

  /** Sizes both canvases to the plot box; false when it has no width yet. */
  _resize() {
    const w = this._plot.clientWidth;
    const h = this.opts.height;
    const dpr = window.devicePixelRatio || 1;
    if (w <= 0 || h <= 0) return false;
    const W = Math.round(w * dpr), H = Math.round(h * dpr);
    for (const c of [this._canvas, this._overlay]) {
      if (c.width !== W) c.width = W;
      if (c.height !== H) c.height = H;
    }
    this._size = { w, h, dpr };
    return true;
  }

  /** Value range, ticks, margins and scales for the current data and size. */
  _computeLayout(ctx) {
    const { w, h, dpr } = this._size;
    const d = this._data;
    const start = d ? d.start : Date.now() - 3600e3;
    const end = d ? d.end : Date.now();
    const stack = this._stackMode();
    const [mn, mx] = this._extent(start, end);
    const plotH = Math.max(10, h - PAD_TOP - PAD_BOTTOM);
    const yt = valueTicks(mn, mx, Math.max(2, Math.floor(plotH / 42)), stack);
    const labels = yt.ticks.map((v) => withUnit(formatTick(v, yt.step), this.opts.unit));
    let labelW = 0;
    for (const s of labels) labelW = Math.max(labelW, ctx.measureText(s).width);
    const left = Math.max(28, Math.ceil(labelW) + 12);
    const plotW = Math.max(10, w - left - PAD_RIGHT);
    const kx = plotW / (end - start);
    const ky = -plotH / (yt.max - yt.min);
    const xt = timeTicks(start, end, plotW, (s) => ctx.measureText(s).width, this.opts.utc);
    return {
      left, top: PAD_TOP, w: plotW, h: plotH, dpr, start, end, yt, labels, xt,
      kx, bx: left - start * kx, ky, by: PAD_TOP + plotH - yt.min * ky,
    };
  }

  /** Smallest and largest drawn value of the visible series within [start, end]. */
  _extent(start, end) {
    let mn = Infinity, mx = -Infinity;
    const d = this._data;
    if (!d) return [mn, mx];
    const stack = this._stackMode();
    const from = this.opts.kind === 'bars' ? start - this._bucketMs() : start;
    d.series.forEach((s, i) => {
      if (!this._visible(i)) return;
      const { xs, ys, lo } = this._draw[i];
      const a = lowerBound(xs, from), b = upperBound(xs, end);
      for (let j = a; j < b; j++) {
        const v = ys[j];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
        if (lo !== null) { const l = lo[j]; if (l < mn) mn = l; if (l > mx) mx = l; }
      }
    });
    if (!stack) {
      for (const ex of d.exemplars) {
        if (ex.ts < start || ex.ts > end || !isFinite(ex.value)) continue;
        if (ex.seriesIndex >= 0 && ex.seriesIndex < d.series.length && !this._visible(ex.seriesIndex)) continue;
        if (ex.value < mn) mn = ex.value;
        if (ex.value > mx) mx = ex.value;
      }
    }
    return [mn, mx];
  }

  _drawGrid(ctx, L, th) {
    const { left, top, w, h, dpr, yt, xt } = L;
    ctx.lineWidth = 1 / dpr;
    ctx.strokeStyle = th.border;
    ctx.beginPath();
    for (const v of yt.ticks) {
      const y = crisp(v * L.ky + L.by, dpr);
      ctx.moveTo(left, y);
      ctx.lineTo(left + w, y);
    }
    for (const t of xt.ticks) {
      const x = crisp(t * L.kx + L.bx, dpr);
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + h);
    }
    ctx.stroke();
    ctx.fillStyle = th.muted;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    yt.ticks.forEach((v, i) => ctx.fillText(L.labels[i], left - 8, v * L.ky + L.by));
    ctx.textBaseline = 'top';
    const cw = this._size.w;
    for (const t of xt.ticks) {
      const s = formatTime(t, xt.fmt, this.opts.utc);
      const half = ctx.measureText(s).width / 2;
      const x = Math.min(cw - half - 1, Math.max(half + 1, t * L.kx + L.bx));
      ctx.textAlign = 'center';
      ctx.fillText(s, x, top + h + 7);
    }
  }

  /** Index range of points to draw: those in [start, end] plus one either side. */
  _range(xs, L) {
    const a = Math.max(0, lowerBound(xs, L.start) - 1);
    const b = Math.min(xs.length - 1, upperBound(xs, L.end));
    return [a, b];
  }

  /**
   * Line width for the series: 1.5px (1px past 20 series) while the plot has
   * few vertices; past LINE_BUDGET, 1-device-pixel hairlines, which software
   * rasterisers draw an order of magnitude faster than wider strokes (on
   * high-DPI screens struck twice, one device pixel apart, to keep their weight).
   * @returns {{width:number, strikes:number}}
   */
  _lineStyle(L, vertices, visible) {
    if (vertices <= LINE_BUDGET) return { width: visible > 20 ? 1 : 1.5, strikes: 1 };
    return { width: 1 / L.dpr, strikes: L.dpr >= 1.5 ? 2 : 1 };
  }

  /** Strokes a path `strikes` times, shifted down one device pixel each time. */
  _strokePath(ctx, path, L, strikes) {
    ctx.stroke(path);
    if (strikes > 1) {
      ctx.translate(0, 1 / L.dpr);
      ctx.stroke(path);
      ctx.translate(0, -1 / L.dpr);
    }
  }

  /** Lines or stacked areas; returns whether any visible series has points. */
  _drawLines(ctx, L) {
    const d = this._data;
    if (!d) return false;
    const stack = this.opts.stacked;
    const cap = 2 * L.w * L.dpr;
    const items = [];
    let vertices = 0;
    d.series.forEach((s, i) => {
      if (!this._visible(i)) return;
      const dr = this._draw[i];
      const [a, b] = this._range(dr.xs, L);
      if (b < a) return;
      items.push([s, dr, a, b]);
      vertices += Math.min(b - a + 1, cap);
    });
    const style = this._lineStyle(L, vertices, items.length);
    ctx.lineWidth = style.width;
    ctx.lineJoin = 'round';
    for (const [s, dr, a, b] of items) {
      if (stack) {
        ctx.beginPath();
        traceBand(ctx, dr.xs, dr.ys, dr.lo, a, b, L);
        ctx.globalAlpha = 0.35;
        ctx.fillStyle = s.color;
        ctx.fill();
        ctx.globalAlpha = 1;
      }
      const path = new Path2D();
      traceLine(path, dr.xs, dr.ys, stack ? dr.raw : null, a, b, L, false, false);
      ctx.strokeStyle = s.color;
      this._strokePath(ctx, path, L, style.strikes);
    }
    return items.length > 0;
  }

  /** Bar geometry in px: left offset from x(ts), and width. */
  _barGeom(L) {
    const bw = this._bucketMs() * L.kx;
    const gap = bw >= 4 ? Math.min(2, bw * 0.2) : 0;
    const width = Math.max(1 / L.dpr, bw - gap);
    const off = (this.opts.barAlign === 'center' ? -bw / 2 : 0) + gap / 2;
    return { off, width, bw };
  }

  /** Stacked bars; returns whether any visible series has points. */
  _drawBars(ctx, L) {
    const d = this._data;
    if (!d) return false;
    const { off, width } = this._barGeom(L);
    let any = false;
    d.series.forEach((s, i) => {
      if (!this._visible(i)) return;
      const dr = this._draw[i];
      const a = Math.max(0, lowerBound(dr.xs, L.start - this._bucketMs()));
      const b = Math.min(dr.xs.length - 1, upperBound(dr.xs, L.end));
      if (b < a) return;
      any = true;
      ctx.beginPath();
      traceBars(ctx, dr.xs, dr.ys, dr.lo, a, b, L, off, width);
      ctx.fillStyle = s.color;
      ctx.globalAlpha = 0.85;
      ctx.fill();
      ctx.globalAlpha = 1;
    });
    return any;
  }

  /** Exemplar diamonds; also records their screen positions for hit testing. */
  _drawExemplars(ctx, L, th) {
    const d = this._data;
    this._exPos = [];
    if (!d || !d.exemplars.length) return;
    const stack = this._stackMode();
    const byColor = new Map();
    for (const ex of d.exemplars) {
      const si = ex.seriesIndex;
      const own = si >= 0 && si < d.series.length;
      if ((own && !this._visible(si)) || !(ex.ts >= L.start && ex.ts <= L.end) || !isFinite(ex.value)) continue;
      let v = ex.value;
      if (stack && own) {
        const dr = this._draw[si];
        const k = nearestIndex(dr.xs, ex.ts);
        if (k >= 0 && dr.lo) v += dr.lo[k];
      }
      const x = ex.ts * L.kx + L.bx, y = v * L.ky + L.by;
      if (y < L.top - 2 || y > L.top + L.h + 2) continue;
      const color = own ? d.series[si].color : th.fg;
      this._exPos.push({ x, y, ex, color });
      if (!byColor.has(color)) byColor.set(color, []);
      byColor.get(color).push(x, y);
    }
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = th.panel;
    for (const [color, pts] of byColor) {
      ctx.beginPath();
      for (let k = 0; k < pts.length; k += 2) diamond(ctx, pts[k], pts[k + 1], EXEMPLAR_R);
      ctx.fillStyle = color;
      ctx.stroke();
      ctx.fill();
    }
  }

  _summary() {
    const d = this._data;
    const n = d ? d.series.length : 0;
    if (!d) return 'Chart: no data';
    const f = (t) => formatTime(t, 'full', this.opts.utc);
    return `${this.opts.kind === 'bars' ? 'Bar' : 'Line'} chart of ${n} series from ${f(d.start)} to ${f(d.end)}`;
  }

  // ------------------------------------------------------------ hover

  _localPoint() {
    const p = this._pointer;
    if (!p) return null;
    const r = this._overlay.getBoundingClientRect();
    return { x: p.x - r.left, y: p.y - r.top };
  }

  _hoverFrame() {
    if (this._destroyed) return;
    const t0 = performance.now();
    const p = this._localPoint();
    const L = this._layout;
    if (this._drag && p && L) {
      this._drag.x1 = Math.min(L.left + L.w, Math.max(L.left, p.x));
      this._hover = null;
    } else {
      this._hover = p && L ? this._hitTest(p.x, p.y) : null;
    }
    this._overlay.classList.toggle('is-exemplar', !!this._hover?.exemplar);
    this._drawOverlay();
    this._updateTooltip();
    this.lastHoverMs = performance.now() - t0;
  }

  /** What is under (px, py): an exemplar, or the nearest points of each series. */
  _hitTest(px, py) {
    const L = this._layout;
    const d = this._data;
    if (!d || px < L.left || px > L.left + L.w || py < L.top - 4 || py > L.top + L.h + 4) return null;
    let best = null, bd = EXEMPLAR_HIT_PX * EXEMPLAR_HIT_PX;
    for (const e of this._exPos) {
      const dd = (e.x - px) ** 2 + (e.y - py) ** 2;
      if (dd <= bd) { bd = dd; best = e; }
    }
    if (best) return { exemplar: best };
    const t = (px - L.bx) / L.kx;
    const bars = this.opts.kind === 'bars';
    const stack = this._stackMode();
    const bucket = bars ? this._bucketMs() : 0;
    const shift = bars && this.opts.barAlign === 'center' ? bucket / 2 : 0;
    const rows = [];
    let snap = NaN, snapD = Infinity;
    d.series.forEach((s, i) => {
      if (!this._visible(i)) return;
      const dr = this._draw[i];
      let k;
      if (bars) {
        k = upperBound(dr.xs, t + shift) - 1;
        if (k < 0 || t + shift - dr.xs[k] > bucket) return;
      } else {
        k = nearestIndex(dr.xs, t);
        if (k < 0) return;
      }
      const v = dr.raw[k];
      if (v !== v) return;
      const dt = Math.abs(dr.xs[k] - t);
      if (dt < snapD) { snapD = dt; snap = dr.xs[k]; }
      rows.push({ i, k, v, x: dr.xs[k] * L.kx + L.bx, y: dr.ys[k] * L.ky + L.by, y0: stack ? dr.lo[k] * L.ky + L.by : NaN });
    });
    if (!rows.length) return null;
    return { t: snap, x: snap * L.kx + L.bx, rows, hl: nearestRow(rows, py, stack) };
  }

  _drawOverlay() {
    const c = this._octx;
    const { w, h, dpr } = this._size;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, w, h);
    const L = this._layout;
    const th = this._theme;
    if (!L || !th || !this._data) return;
    const hov = this._hover;
    const hl = hov?.rows ? hov.hl : this._legendHl;
    if (hl >= 0 && this._visible(hl)) this._drawHighlight(c, L, th, hl, hov);
    if (hov?.rows) this._drawCrosshair(c, L, th, hov);
    if (hov?.exemplar) {
      const e = hov.exemplar;
      c.beginPath();
      diamond(c, e.x, e.y, EXEMPLAR_R + 3);
      c.lineWidth = 2;
      c.strokeStyle = th.fg;
      c.stroke();
    }
    if (this._drag) {
      const x0 = Math.min(this._drag.x0, this._drag.x1), x1 = Math.max(this._drag.x0, this._drag.x1);
      c.globalAlpha = 0.12;
      c.fillStyle = th.fg;
      c.fillRect(x0, L.top, x1 - x0, L.h);
      c.globalAlpha = 0.6;
      c.fillRect(x0, L.top, 1, L.h);
      c.fillRect(x1 - 1, L.top, 1, L.h);
      c.globalAlpha = 1;
    }
  }

  /** Dims the plot and redraws series `i` on top, thicker. */
  _drawHighlight(c, L, th, i, hov) {
    const s = this._data.series[i];
    const dr = this._draw[i];
    c.save();
    c.beginPath();
    c.rect(L.left, L.top - 2, L.w, L.h + 4);
    c.clip();
    c.globalAlpha = 0.45;
    c.fillStyle = th.panel;
    c.fillRect(L.left, L.top - 2, L.w, L.h + 4);
    c.globalAlpha = 1;
    c.beginPath();
    if (this.opts.kind === 'bars') {
      const { off, width } = this._barGeom(L);
      const a = Math.max(0, lowerBound(dr.xs, L.start - this._bucketMs()));
      traceBars(c, dr.xs, dr.ys, dr.lo, a, Math.min(dr.xs.length - 1, upperBound(dr.xs, L.end)), L, off, width);
      c.fillStyle = s.color;
      c.fill();
      const row = hov?.rows?.find((r) => r.i === i);
      if (row) {
        c.beginPath();
        traceBars(c, dr.xs, dr.ys, dr.lo, row.k, row.k, L, off, width);
        c.lineWidth = 1.5;
        c.strokeStyle = th.fg;
        c.stroke();
      }
    } else {
      const [a, b] = this._range(dr.xs, L);
      if (this.opts.stacked && dr.lo) {
        traceBand(c, dr.xs, dr.ys, dr.lo, a, b, L);
        c.globalAlpha = 0.55;
        c.fillStyle = s.color;
        c.fill();
        c.globalAlpha = 1;
        c.beginPath();
      }
      traceLine(c, dr.xs, dr.ys, this.opts.stacked ? dr.raw : null, a, b, L, false, false);
      c.lineWidth = 2.5;
      c.lineJoin = 'round';
      c.strokeStyle = s.color;
      c.stroke();
    }
    c.restore();
  }

  _drawCrosshair(c, L, th, hov) {
    const { dpr } = L;
    c.fillStyle = th.muted;
    if (this.opts.kind === 'bars') {
      const { bw } = this._barGeom(L);
      c.globalAlpha = 0.12;
      c.fillRect(hov.x + (this.opts.barAlign === 'center' ? -bw / 2 : 0), L.top, Math.max(1, bw), L.h);
      c.globalAlpha = 1;
      return;
    }
    c.fillRect(crisp(hov.x, dpr) - 0.5 / dpr, L.top, 1 / dpr, L.h);
    c.lineWidth = 1.5;
    c.strokeStyle = th.panel;
    for (const r of hov.rows) {
      if (r.y < L.top - 4 || r.y > L.top + L.h + 4) continue;
      c.beginPath();
      c.arc(r.x, r.y, r.i === hov.hl ? 4 : 3, 0, Math.PI * 2);
      c.fillStyle = this._data.series[r.i].color;
      c.fill();
      c.stroke();
    }
  }

  _updateTooltip() {
    const tip = this._tip;
    const hov = this._hover;
    if (!hov || this._drag || !this._pointer) { tip.hidden = true; return; }
    const ctx = {
      series: this._data.series, unit: this.opts.unit, utc: this.opts.utc,
      bucketMs: this.opts.kind === 'bars' ? this._bucketMs() : 0, barAlign: this.opts.barAlign,
      clickable: !!this.opts.onExemplarClick,
    };
    if (hov.exemplar) fillExemplarTip(tip, hov.exemplar.ex, ctx);
    else fillSeriesTip(tip, hov, ctx);
    placeTooltip(tip, this._pointer.x, this._pointer.y);
  }

  // ------------------------------------------------------------- drag

  _pointerDown(e) {
    const L = this._layout;
    if (e.button !== 0 || !L || !this._data) return;
    const r = this._overlay.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    if (x < L.left || x > L.left + L.w || y < L.top || y > L.top + L.h) return;
    e.preventDefault();
    this._drag = { x0: x, x1: x, id: e.pointerId };
    this._overlay.setPointerCapture(e.pointerId);
    window.addEventListener('keydown', this._onKeyDown, true);
    this._pointer = { x: e.clientX, y: e.clientY };
    this._scheduleHover();
  }

  _pointerUp(e) {
    const drag = this._drag;
    if (!drag) return;
    this._endDrag();
    const L = this._layout;
    const r = this._overlay.getBoundingClientRect();
    const x = Math.min(L.left + L.w, Math.max(L.left, e.clientX - r.left));
    this._pointer = { x: e.clientX, y: e.clientY };
    if (Math.abs(x - drag.x0) >= DRAG_MIN_PX) {
      const a = (Math.min(x, drag.x0) - L.bx) / L.kx, b = (Math.max(x, drag.x0) - L.bx) / L.kx;
      this._hoverFrame();
      this.opts.onZoom?.(Math.round(a), Math.round(b));
      return;
    }
    const hit = this._hitTest(x, e.clientY - r.top);
    this._hoverFrame();
    if (hit?.exemplar) this.opts.onExemplarClick?.(hit.exemplar.ex);
  }

  _endDrag() {
    const drag = this._drag;
    this._drag = null;
    window.removeEventListener('keydown', this._onKeyDown, true);
    if (drag && this._overlay.hasPointerCapture(drag.id)) this._overlay.releasePointerCapture(drag.id);
  }

  _cancelDrag() {
    this._endDrag();
    this._scheduleHover();
  }

  // ----------------------------------------------------------- legend

  _buildLegend() {
    const lg = this._legend;
    const series = this._data?.series ?? [];
    // Same series as before (a refresh): keep the buttons, and keyboard focus.
    const sig = series.map((s) => `${s.key}\u0001${s.color}`).join('\u0002');
    if (sig === this._legendSig && lg.children.length === series.length) { this._syncLegend(); return; }
    this._legendSig = sig;
    const frag = document.createDocumentFragment();
    series.forEach((s, i) => {
      const b = el('button', 'tchart-legend-item');
      b.type = 'button';
      b.dataset.i = String(i);
      b.title = s.name;
      const sw = el('span', 'tchart-swatch');
      sw.style.setProperty('--swatch', s.color);
      b.append(sw, el('span', 'tchart-legend-name', s.name || '(unnamed)'));
      frag.append(b);
    });
    lg.replaceChildren(frag);
    lg.hidden = !this.opts.legend || series.length === 0;
    this._syncLegend();
  }

  _syncLegend() {
    const vis = this.visibleSeries();
    for (const b of this._legend.children) {
      const on = vis[+b.dataset.i];
      b.setAttribute('aria-pressed', String(on));
      b.classList.toggle('is-off', !on);
    }
  }

  _legendClick(e) {
    const b = e.target.closest('.tchart-legend-item');
    if (!b || !this._legend.contains(b) || !this._data) return;
    const i = +b.dataset.i;
    const series = this._data.series;
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      const alone = this._visible(i) && series.every((s, j) => j === i || !this._visible(j));
      this._hidden.clear();
      if (!alone) series.forEach((s, j) => { if (j !== i) this._hidden.add(s.key); });
    } else if (this._hidden.has(series[i].key)) {
      this._hidden.delete(series[i].key);
    } else {
      this._hidden.add(series[i].key);
    }
    this._visibilityChanged();
  }

  _legendHighlight(e, on) {
    const b = e.target.closest?.('.tchart-legend-item');
    if (!b) return;
    if (!on && e.relatedTarget && b.contains(e.relatedTarget)) return;
    const i = on ? +b.dataset.i : -1;
    if (i === this._legendHl) return;
    this._legendHl = i;
    if (!this._hover) this._drawOverlay();
  }

  _visibilityChanged() {
    this._prepare();
    this._syncLegend();
    this._hover = null;
    this.render();
  }
}
