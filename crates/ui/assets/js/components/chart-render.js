// Canvas path builders for TimeChart (chart.js). They only add to the current
// path of a 2D context; the caller sets styles and strokes or fills.
//
// Scales are affine: x = t * kx + bx, y = v * ky + by (CSS pixels; the context
// is already scaled by devicePixelRatio `dpr`). Points that fall into the same
// device-pixel column are merged, so the cost of stroking is bounded by the
// plot's width rather than the number of points.

/**
 * @typedef {{kx:number, bx:number, ky:number, by:number, dpr:number}} Scales
 */

/**
 * Adds the polyline through (xs[i], ys[i]) for i in [i0, i1] to a path (a
 * context or a Path2D), in reverse order when `reverse`. Consecutive points in
 * one device-pixel column collapse into a single vertical stroke from their
 * min to their max, so at most two vertices are emitted per column. A NaN in
 * ys, or in `gap` when given, lifts the pen; an isolated point becomes a 1px
 * dash so it stays visible.
 * @param {CanvasRenderingContext2D|Path2D} ctx
 * @param {ArrayLike<number>} xs ascending times
 * @param {ArrayLike<number>} ys values
 * @param {ArrayLike<number>|null} gap values whose NaNs also break the line
 * @param {number} i0 first index (inclusive)
 * @param {number} i1 last index (inclusive)
 * @param {Scales} sc
 * @param {boolean} reverse walk from i1 down to i0
 * @param {boolean} connect continue the current sub-path instead of starting one
 */
export function traceLine(ctx, xs, ys, gap, i0, i1, sc, reverse, connect) {
  const { kx, bx, ky, by, dpr } = sc;
  // Locals only (no closures over them) so the hot loop stays in registers.
  let pen = connect, prev = NaN, cols = 0;
  let col = NaN, n = 0, fx = 0, fy = 0, mn = 0, mx = 0;
  const step = reverse ? -1 : 1;
  const stop = reverse ? i0 - 1 : i1 + 1;
  for (let i = reverse ? i1 : i0; i !== stop; i += step) {
    const v = ys[i];
    if (v !== v || (gap !== null && gap[i] !== gap[i])) {
      if (n) {
        emitColumn(ctx, pen, fx, fy, n, mn, mx, prev);
        if (cols === 0 && n === 1 && !connect) ctx.lineTo(fx + 1, fy);
      }
      n = 0; cols = 0; col = NaN; pen = false; prev = NaN;
      continue;
    }
    const x = xs[i] * kx + bx;
    const y = v * ky + by;
    const c = Math.floor(x * dpr);
    if (c !== col) {
      if (n) { prev = emitColumn(ctx, pen, fx, fy, n, mn, mx, prev); pen = true; cols++; }
      col = c; n = 1; fx = x; fy = mn = mx = y;
    } else {
      n++;
      if (y < mn) mn = y; else if (y > mx) mx = y;
    }
  }
  if (n) {
    emitColumn(ctx, pen, fx, fy, n, mn, mx, prev);
    if (cols === 0 && n === 1 && !connect) ctx.lineTo(fx + 1, fy);
  }
}

/**
 * Emits one column of traceLine: its single point, or a vertical stroke from
 * min to max entered at the end nearer the previous vertex. Returns the y the
 * column ends at.
 */
function emitColumn(ctx, pen, x, fy, n, mn, mx, prev) {
  let a = fy, b = fy;
  if (n > 1 && mn !== mx) {
    const p = prev === prev ? prev : fy;
    if (Math.abs(p - mn) <= Math.abs(p - mx)) { a = mn; b = mx; } else { a = mx; b = mn; }
  }
  if (pen) ctx.lineTo(x, a); else ctx.moveTo(x, a);
  if (b !== a) ctx.lineTo(x, b);
  return b;
}

/**
 * Adds a band edge through (xs[i], ys[i]) for i in [i0, i1], keeping one
 * vertex per device-pixel column (its last point). The result is monotone in
 * x, so a band built from two edges is a simple polygon that fills fast, and
 * two bands sharing an edge array meet without seams or overlap. (Spikes
 * within a column are left to the outline, which keeps min and max.)
 * @param {CanvasRenderingContext2D} ctx
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} ys (no NaNs)
 * @param {number} i0
 * @param {number} i1
 * @param {Scales} sc
 * @param {boolean} reverse walk from i1 down to i0
 * @param {boolean} connect continue the current sub-path instead of starting one
 */
function traceEdge(ctx, xs, ys, i0, i1, sc, reverse, connect) {
  const { kx, bx, ky, by, dpr } = sc;
  let pen = connect, col = NaN, fx = 0, ly = 0;
  const step = reverse ? -1 : 1;
  const stop = reverse ? i0 - 1 : i1 + 1;
  for (let i = reverse ? i1 : i0; i !== stop; i += step) {
    const x = xs[i] * kx + bx;
    const c = Math.floor(x * dpr);
    if (c !== col) {
      if (col === col) { if (pen) ctx.lineTo(fx, ly); else { ctx.moveTo(fx, ly); pen = true; } }
      col = c; fx = x;
    }
    ly = ys[i] * ky + by;
  }
  if (col === col) { if (pen) ctx.lineTo(fx, ly); else ctx.moveTo(fx, ly); }
}

/**
 * Adds the filled band between `hi` and `lo` over [i0, i1] (an area of a
 * stacked chart) as one closed sub-path. Neither array may hold NaNs.
 * @param {CanvasRenderingContext2D} ctx
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} hi top of the band
 * @param {ArrayLike<number>} lo bottom of the band
 * @param {number} i0
 * @param {number} i1
 * @param {Scales} sc
 */
export function traceBand(ctx, xs, hi, lo, i0, i1, sc) {
  if (i1 < i0) return;
  traceEdge(ctx, xs, hi, i0, i1, sc, false, false);
  traceEdge(ctx, xs, lo, i0, i1, sc, true, true);
  ctx.closePath();
}

/**
 * Adds one rectangle per bar (bucket i spans [x(xs[i]) + off, + width] and
 * vertically [lo[i] or 0, hi[i]]) to the current path. Bars starting in one
 * device-pixel column merge into a single rectangle covering all of them.
 * Empty (zero-height or NaN) bars are skipped.
 * @param {CanvasRenderingContext2D} ctx
 * @param {ArrayLike<number>} xs bucket times
 * @param {ArrayLike<number>} hi bar tops
 * @param {ArrayLike<number>|null} lo bar bottoms (null: 0)
 * @param {number} i0
 * @param {number} i1
 * @param {Scales} sc
 * @param {number} off px from x(ts) to the bar's left edge
 * @param {number} width bar width in px
 */
export function traceBars(ctx, xs, hi, lo, i0, i1, sc, off, width) {
  const { kx, bx, ky, by, dpr } = sc;
  let col = NaN, x0 = 0, x1 = 0, top = 0, bot = 0;
  for (let i = i0; i <= i1; i++) {
    const h = hi[i];
    const l = lo === null ? 0 : lo[i];
    if (!(h !== l) || h !== h) continue;
    const x = xs[i] * kx + bx + off;
    const ya = h * ky + by, yb = l * ky + by;
    const t = ya < yb ? ya : yb, b = ya < yb ? yb : ya;
    const c = Math.floor(x * dpr);
    if (c === col) {
      if (t < top) top = t;
      if (b > bot) bot = b;
      if (x + width > x1) x1 = x + width;
    } else {
      if (col === col) ctx.rect(x0, top, x1 - x0, bot - top);
      col = c; x0 = x; x1 = x + width; top = t; bot = b;
    }
  }
  if (col === col) ctx.rect(x0, top, x1 - x0, bot - top);
}

/**
 * Adds a diamond centred on (x, y) with half-diagonal r.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} x
 * @param {number} y
 * @param {number} r
 */
export function diamond(ctx, x, y, r) {
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
}

/**
 * Snaps a coordinate so a 1-device-pixel line drawn through it is crisp.
 * @param {number} p CSS px
 * @param {number} dpr
 */
export function crisp(p, dpr) {
  return (Math.round(p * dpr - 0.5) + 0.5) / dpr;
}
