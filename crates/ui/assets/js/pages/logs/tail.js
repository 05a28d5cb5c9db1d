/**
 * Live tailing over Loki's WebSocket `/loki/api/v1/tail`. Browsers cannot
 * set headers on a WebSocket, so the tenant goes as the query parameter
 * `X-Scope-OrgID` (which Argus's tail handler accepts).
 * @module pages/logs/tail
 */
import { toNanos } from '../../lib/time.js';
import { flatten } from './data.js';

/**
 * One tail connection.
 *
 * ```js
 * const tail = new LiveTail({ query, tenant, onEntries: (entries) => …, onState: (state, message) => … });
 * tail.start(); … tail.stop();
 * ```
 */
export class LiveTail {
  /**
   * @param {{query:string, tenant:string, limit?:number, since?:number,
   *   streamLabels?: Set<string>,
   *   onEntries:(entries:import('./data.js').LogEntry[], dropped:number)=>void,
   *   onState:(state:'connecting'|'live'|'closed'|'error', message?:string)=>void}} o
   *   since: ms of the oldest entry the first frame may hold; streamLabels: the stream label
   *   names (the tail merges structured metadata into the stream labels; this splits them again)
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.stopped = false;
  }

  /** The WebSocket URL of the tail. */
  url() {
    const o = this.o;
    const sp = new URLSearchParams({ query: o.query, limit: String(o.limit || 100), start: toNanos(o.since ?? Date.now() - 60_000) });
    if (o.tenant) sp.set('X-Scope-OrgID', o.tenant);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/loki/api/v1/tail?${sp}`;
  }

  /** Opens the connection. */
  start() {
    this.stopped = false;
    this.o.onState('connecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => { if (this.ws === ws) this.o.onState('live'); };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      const entries = flatten(msg.streams, 'backward', this.o.streamLabels ? (l) => this.split(l) : undefined);
      this.o.onEntries(entries, Number(msg.dropped_entries && msg.dropped_entries.length) || 0);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped || ev.code === 1000) this.o.onState('closed');
      else this.o.onState('error', ev.reason || `the connection closed (code ${ev.code})`);
    };
  }

  /** Separates structured metadata from the stream labels of a tail frame. */
  split(labels) {
    const stream = {}, sm = {};
    for (const [k, v] of Object.entries(labels)) (this.o.streamLabels.has(k) ? stream : sm)[k] = v;
    return { stream, sm };
  }

  /** Closes the connection. */
  stop() {
    this.stopped = true;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState === WebSocket.CONNECTING) {
      // Closing before the handshake ends makes Chromium log an error: close once open.
      ws.onmessage = null;
      ws.onclose = null;
      ws.onopen = () => ws.close(1000, 'stopped');
    } else if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000, 'stopped');
    this.o.onState('closed');
  }
}
