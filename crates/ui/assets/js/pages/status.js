/**
 * The status page (/ui/status), first page of the "System" area: build
 * and run-time facts, storage per tenant and signal (/ui/api/status),
 * and — from the server's own /metrics, read now and every 5 s — ingest
 * rates per tenant, limits hit, and HTTP requests by status class.
 * Rates are computed between two reads, so they show "collecting…" until
 * the second one.
 * @module pages/status
 */
import { h, clear, notice } from '../lib/dom.js';
import { formatClock } from '../lib/format.js';
import { parsePromText, snapshot } from './status/promtext.js';
import { systemHeader } from './status/system-nav.js';
import {
  renderBuild, renderStorage, renderIngest, renderLimits, renderHttp, sumRate, formatRate, INGEST,
} from './status/sections.js';

const POLL_MS = 5000;
const STATUS_EVERY_MS = 30000;
const HISTORY = 60;

function section(title, hint, cls) {
  const body = h('div', { class: 'status-section-body' });
  const el = h('section', { class: `panel status-section ${cls}`, 'aria-label': title },
    h('div', { class: 'panel-header' }, h('h2', {}, title), hint ? h('span', { class: 'hint' }, hint) : null), body);
  return { el, body };
}

/** A small inline SVG line of the last values (null = no point). */
function sparkline(values, label) {
  const w = 120, ht = 28;
  const pts = values.map((v, i) => [i, v]).filter(([, v]) => v !== null);
  const svg = h('svg:svg', { class: 'status-spark', viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: 'img', 'aria-label': label });
  if (pts.length < 3) return svg;
  const max = Math.max(...pts.map(([, v]) => v), 1e-9);
  const slots = Math.max(values.length, 12);
  const x = (i) => (i / (slots - 1)) * w, y = (v) => ht - 2 - (v / max) * (ht - 4);
  const off = slots - values.length;
  const d = pts.map(([i, v], k) => `${k ? 'L' : 'M'}${x(i + off).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  svg.append(h('svg:path', { d: `${d} L${x(pts[pts.length - 1][0] + off).toFixed(1)},${ht} L${x(pts[0][0] + off).toFixed(1)},${ht} Z`, class: 'status-spark-area' }),
    h('svg:path', { d, class: 'status-spark-line' }));
  return svg;
}

/**
 * Mounts the status page.
 * @param {HTMLElement} root
 * @param {object} ctx the shell's page context
 */
export function mount(root, ctx) {
  const page = new StatusPage(root, ctx);
  page.poll({ withStatus: true });
  return { refresh: () => page.poll({ withStatus: true }), unmount: () => page.stop() };
}

class StatusPage {
  constructor(root, ctx) {
    this.ctx = ctx;
    Object.assign(this, { prev: null, cur: null, build: null, status: null, statusAt: 0, timer: 0, paused: false, gone: false, controller: null });
    this.history = new Map();
    this.updated = h('span', { class: 'hint status-updated' });
    this.pauseButton = h('button', { type: 'button', 'aria-pressed': 'false', onClick: () => this.togglePause() }, 'Pause');
    this.errors = h('div', { class: 'status-errors' });
    this.buildSec = section('Build and runtime', '', 'status-build');
    this.storageSec = section('Storage', 'per tenant and signal: the object store and the local write-ahead log', 'status-storage-section');
    this.ingestSec = section('Ingest', `per second over the last ${POLL_MS / 1000} s, from /metrics`, 'status-ingest-section');
    this.cards = h('div', { class: 'status-ingest-cards' });
    this.ingestSec.body.before(this.cards);
    this.limitsSec = section('Limits hit', 'data refused since the server started, by reason', 'status-limits-section');
    this.httpSec = section('HTTP requests', 'by status class and handler', 'status-http-section');
    root.append(
      systemHeader(ctx, 'status', [this.updated, this.pauseButton]),
      h('h1', { class: 'sr-only' }, 'Status'),
      this.errors,
      h('div', { class: 'status-grid' }, this.buildSec.el, this.storageSec.el),
      this.ingestSec.el, this.limitsSec.el, this.httpSec.el);
    renderBuild(this.buildSec.body, null, null);
    renderStorage(this.storageSec.body, null);
    this.ingestSec.body.append(h('p', { class: 'loading' }, 'Reading /metrics…'));
  }

  showError(key, text) {
    this.errors.querySelectorAll(`[data-key="${key}"]`).forEach((n) => n.remove());
    if (!text) return;
    const n = notice('error', text);
    n.dataset.key = key;
    this.errors.append(n);
  }

  async loadStatus(signal) {
    const { api } = this.ctx;
    try {
      const [b, s] = await Promise.all([
        api.data(api.get('/api/v1/status/buildinfo', {}, { signal })),
        api.data(api.get('/ui/api/status', {}, { signal })),
      ]);
      Object.assign(this, { build: b, status: s, statusAt: Date.now() });
      this.showError('status', '');
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      this.showError('status', `Could not read the server's status: ${e.message}`);
    }
    renderBuild(this.buildSec.body, this.build, this.status);
    renderStorage(this.storageSec.body, this.status ? this.status.usage : null);
  }

  async loadMetrics(signal) {
    let text;
    try {
      text = await this.ctx.api.get('/metrics', {}, { signal, accept: 'text/plain' });
      this.showError('metrics', '');
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      this.showError('metrics', `Could not read /metrics: ${e.message}`);
      return;
    }
    const snap = snapshot(parsePromText(text), Date.now());
    this.prev = this.cur;
    this.cur = snap;
    this.recordHistory();
    this.renderCards();
    renderIngest(this.ingestSec.body, this.prev, this.cur);
    renderLimits(this.limitsSec.body, this.prev, this.cur);
    this.renderHttp();
    renderBuild(this.buildSec.body, this.build, this.status); // the uptime
    this.showUpdated();
  }

  renderHttp() {
    const refocus = document.activeElement && document.activeElement.classList.contains('status-more') && this.httpSec.body.contains(document.activeElement);
    renderHttp(this.httpSec.body, this.prev, this.cur, {
      all: this.allHandlers,
      onToggle: () => {
        this.allHandlers = !this.allHandlers;
        this.renderHttp();
        const b = this.httpSec.body.querySelector('.status-more');
        if (b) b.focus();
      },
    });
    if (refocus) { const b = this.httpSec.body.querySelector('.status-more'); if (b) b.focus(); }
  }

  showUpdated() {
    if (!this.cur) return;
    this.updated.textContent = `Updated ${formatClock(this.cur.t).slice(0, 8)} · ${this.paused ? 'paused' : `every ${POLL_MS / 1000} s`}`;
  }

  recordHistory() {
    for (const d of INGEST) {
      const list = this.history.get(d.label) || [];
      list.push(sumRate(this.prev, this.cur, d.received));
      while (list.length > HISTORY) list.shift();
      this.history.set(d.label, list);
    }
  }

  renderCards() {
    clear(this.cards);
    for (const d of INGEST.filter((x) => !x.bytes)) {
      const hist = this.history.get(d.label) || [];
      const r = hist.length ? hist[hist.length - 1] : null;
      this.cards.append(h('div', { class: 'status-card', dataset: { card: d.label } },
        h('div', { class: 'status-card-label' }, `${d.label} received`, h('span', { class: 'hint' }, ` · ${d.signal}, all tenants`)),
        h('div', { class: 'status-card-row' },
          h('div', { class: 'status-card-value' }, formatRate(r) ?? h('span', { class: 'status-collecting' }, 'collecting…')),
          sparkline(hist, `${d.label} per second, last ${Math.round((hist.length * POLL_MS) / 60000) || 1} min`))));
    }
  }

  /** Reads /metrics (and the status when due), then schedules the next read. */
  async poll({ withStatus = false } = {}) {
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
    if (this.gone) return;
    const ctl = (this.controller = new AbortController());
    try {
      const jobs = [this.loadMetrics(ctl.signal)];
      if (withStatus || Date.now() - this.statusAt >= STATUS_EVERY_MS) jobs.push(this.loadStatus(ctl.signal));
      await Promise.all(jobs);
    } catch (e) {
      if (ctl.signal.aborted) return;
      this.showError('poll', e.message);
    }
    if (!this.paused && !this.gone && this.controller === ctl) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseButton.setAttribute('aria-pressed', String(this.paused));
    this.pauseButton.textContent = this.paused ? 'Resume' : 'Pause';
    if (this.paused) clearTimeout(this.timer);
    else { this.cur = null; this.poll(); } // rates start again from the next two reads
    this.showUpdated();
  }

  /** Stops polling for good (the page is left). */
  stop() {
    this.gone = true;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
  }
}
