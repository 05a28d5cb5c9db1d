/**
 * The dashboards page: /ui/dashboards lists the tenant's dashboards
 * (create, import, export, delete), /ui/dashboards/<id> shows one
 * (variables, panels, edit mode), /ui/dashboards/new is an unsaved draft.
 *
 * Dashboards are stored per tenant by the server (GET /ui/api/dashboards
 * → {data: [{id, title}]}; GET/PUT/DELETE /ui/api/dashboards/<id>; the
 * server checks only that the body is an object with a string `title` and
 * a `panels` array, ≤ 1 MiB; ids are 1–64 of A-Z a-z 0-9 _ -, made from the
 * title here: "My Dashboard" → my-dashboard).
 *
 * Schema (version 1), as this page writes it:
 *
 *   {
 *     title: string,
 *     version: 1,
 *     description?: string,
 *     time?: {from, to},          // default range (the header's text forms: now-6h, epoch ms, dates),
 *                                 //   applied when opened without from/to in the URL
 *     variables: [{
 *       name: string,             // [A-Za-z_]\w*, used in queries as $name, ${name}, ${name:format}, [[name]]
 *       label?: string,           // shown in the variables bar
 *       query: 'label_values(metric_or_selector, label)' | 'label_values(label)'     // Prometheus
 *            | {source: 'prometheus'|'loki', label, match?}   // match: a series/stream selector
 *            | {source: 'custom', values: [string]},
 *       multi: boolean,           // several values → regex alternation `(a|b)` (Grafana's way)
 *       includeAll: boolean,      // offers "All" = every option
 *       current: [string],        // saved selection; ['$__all'] = All
 *     }],
 *     panels: [{
 *       id: integer,              // unique in the dashboard
 *       type: 'timeseries' | 'stat' | 'table' | 'logs' | 'traces',
 *       title: string,
 *       description?: string,
 *       queries: [{
 *         expr: string,           // PromQL; LogQL for logs panels (and for metric panels with source 'loki');
 *                                 //   TraceQL for traces panels
 *         legend?: string,        // {{label}} template (metric panels)
 *         source?: 'loki',        // metric panels: a LogQL metric query instead of PromQL
 *       }],
 *       gridPos: {x, y, w, h},    // 24 columns; h in rows of 30 px (Grafana's grid)
 *       stacked?: boolean,        // timeseries
 *       unit?: 'bytes'|'s'|'ms'|'percent'|'percentunit'|'reqps',   // metric panels
 *       limit?: integer,          // logs: lines (100), traces: traces (20)
 *     }],
 *   }
 *
 * Panels read: timeseries → /api/v1/query_range (or Loki's), stat and
 * table → /api/v1/query (or Loki's), logs → /loki/api/v1/query_range,
 * traces → /api/search. Built-in variables: $__interval, $__rate_interval,
 * $__range (and _s, _ms variants).
 *
 * URL state: var-<name>=<value> (repeatable; $__all = All), edit=1,
 * filter=<text> on the list.
 * @module pages/dashboards
 */
import { mountList } from './dashboards/list.js';
import { mountView } from './dashboards/view.js';

/**
 * Mounts the list (no id) or one dashboard.
 * @param {HTMLElement} root
 * @param {object} ctx the shell's page context
 */
export function mount(root, ctx) {
  const id = ctx.rest[0];
  if (!id) return mountList(root, ctx);
  root.classList.add('page-dashboard');
  return mountView(root, ctx, id);
}
