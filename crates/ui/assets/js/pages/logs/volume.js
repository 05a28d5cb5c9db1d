/**
 * The log-volume histogram of the logs page: lines per bucket stacked by
 * level, with a per-level count summary; dragging on it zooms the range.
 * @module pages/logs/volume
 */
import { h, clear } from '../../lib/dom.js';
import { autoStep } from '../../lib/time.js';
import { TimeChart } from '../../components/chart.js';
import { LEVELS, LEVEL_COLORS } from './logql.js';
import { queryVolume } from './data.js';

/** 12345 → `12,345`. */
export const count = (n) => Math.round(n).toLocaleString('en-US');

/** The histogram panel. */
export class VolumePanel {
  /**
   * @param {HTMLElement} container
   * @param {object} ctx the page context
   */
  constructor(container, ctx) {
    this.ctx = ctx;
    this.summary = h('span', { class: 'log-volume-summary hint', 'aria-live': 'polite' });
    this.status = h('div', { class: 'log-volume-status' });
    this.plot = h('div', { class: 'log-volume-plot' });
    this.root = h('section', { class: 'panel log-volume', 'aria-label': 'Log volume' },
      h('div', { class: 'panel-header' }, h('h2', {}, 'Log volume'), this.summary,
        h('span', { class: 'grow' }), h('span', { class: 'hint' }, 'Drag across the bars to zoom')),
      this.plot, this.status);
    container.append(this.root);
    this.chart = new TimeChart(this.plot, {
      height: 110, kind: 'bars', stacked: true, unit: '',
      onZoom: (s, e) => ctx.time.set({ from: String(Math.floor(s)), to: String(Math.ceil(e)) }),
    });
    this.seq = 0;
  }

  /**
   * Loads and draws the volume of `query` over [start, end].
   * @returns {Promise<number|null>} the total count, null on failure
   */
  async load(query, start, end, signal) {
    const seq = ++this.seq;
    this.root.classList.add('is-loading');
    const width = this.plot.clientWidth || 1000;
    const step = autoStep(start, end, width / 4);
    try {
      const v = await queryVolume(this.ctx, { query, start, end, step }, signal);
      if (seq !== this.seq) return null;
      v.series.sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level));
      this.chart.setData({
        start, end, step,
        series: v.series.map((s) => ({ name: s.level, labels: { detected_level: s.level }, ts: s.ts, values: s.values, color: LEVEL_COLORS[s.level] })),
      });
      this.showSummary(v);
      clear(this.status);
      if (!v.total) this.status.append(h('p', { class: 'hint log-volume-empty' }, 'No lines in this time range.'));
      return v.total;
    } catch (e) {
      if (e.name === 'AbortError' || seq !== this.seq) return null;
      this.chart.setData({ start, end, series: [] });
      this.summary.textContent = '';
      clear(this.status);
      this.status.append(e.status === 400
        ? h('p', { class: 'hint' }, 'No volume: the query is not valid (see the error under the editor).')
        : h('p', { class: 'field-error' }, `Volume unavailable: ${e.message}`));
      return null;
    } finally {
      if (seq === this.seq) this.root.classList.remove('is-loading');
    }
  }

  /** "121 lines · error 26 · warn 19 · info 76". */
  showSummary(v) {
    clear(this.summary);
    this.root.dataset.total = String(v.total);
    const parts = [h('strong', { class: 'log-volume-total' }, `${count(v.total)} line${v.total === 1 ? '' : 's'}`)];
    for (const s of v.series) {
      const n = s.values.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      parts.push(' · ', h('span', { class: 'log-volume-level', dataset: { level: s.level } },
        h('span', { class: 'log-swatch', style: { background: LEVEL_COLORS[s.level] }, 'aria-hidden': 'true' }),
        `${s.level} ${count(n)}`));
    }
    this.summary.append(...parts);
  }

  /** Clears the chart (e.g. while live tailing or for a query with no volume). */
  reset(message = '') {
    ++this.seq;
    this.chart.setData({ series: [] });
    clear(this.summary);
    clear(this.status);
    delete this.root.dataset.total;
    if (message) this.status.append(h('p', { class: 'hint' }, message));
  }

  destroy() {
    ++this.seq;
    this.chart.destroy();
  }
}
