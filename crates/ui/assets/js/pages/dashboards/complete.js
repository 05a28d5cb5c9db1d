/**
 * Completion providers for the query editors of the panel editor:
 * metric names and labels from Prometheus, labels from Loki, attributes
 * from Tempo; dashboard variables are offered as values too.
 * @module pages/dashboards/complete
 */
import { toSeconds, toNanos } from '../../lib/time.js';
import { interpolate } from './model.js';

const selector = (metric, matchers) => (matchers ? `${metric || ''}{${matchers}}` : metric || undefined);

/**
 * A `complete(ctx)` function for a QueryEditor.
 * @param {object} api the api module
 * @param {'promql'|'logql'|'traceql'} language
 * @param {() => {start:number,end:number}} range
 * @param {() => string[]} variables names of the dashboard's variables
 * @param {Function} [resolve] substitutes variables in the other matchers (see model.interpolate)
 */
export function completer(api, language, range, variables, resolve = () => undefined) {
  const vars = () => variables().map((n) => ({ label: `$${n}`, kind: 'value', detail: 'variable' }));
  const values = (list, kind) => (list || []).map((v) => ({ label: String(v), kind }));
  return async (c) => {
    const ctx = c.matchers ? { ...c, matchers: interpolate(c.matchers, resolve) } : c;
    let r;
    try { r = range(); } catch (e) { r = { start: Date.now() - 3600e3, end: Date.now() }; }
    if (language === 'promql') return promql(api, ctx, r, vars);
    if (language === 'logql') return logql(api, ctx, r, vars);
    if (ctx.kind === 'attribute') {
      const d = await api.get('/api/v2/search/tags', { start: Math.floor(r.start / 1000), end: Math.ceil(r.end / 1000) });
      return (d.scopes || []).flatMap((s) => (s.tags || []).map((t) => ({ label: s.name === 'intrinsic' ? t : `${s.name}.${t}`, kind: 'attribute' })));
    }
    if (ctx.kind === 'attribute_value') {
      const d = await api.get(`/api/v2/search/tag/${encodeURIComponent(ctx.attribute)}/values`, { start: Math.floor(r.start / 1000), end: Math.ceil(r.end / 1000) });
      return (d.tagValues || []).map((v) => ({ label: String(v.value), kind: 'value', detail: v.type })).concat(vars());
    }
    return [];
  };

  async function promql(api, ctx, r, vars) {
    const t = { start: toSeconds(r.start), end: toSeconds(r.end) };
    if (ctx.kind === 'metric') return values(await api.data(api.get('/api/v1/label/__name__/values', t)), 'metric');
    if (ctx.kind === 'label_name') {
      return values(await api.data(api.get('/api/v1/labels', { ...t, 'match[]': selector(ctx.metric, ctx.matchers) })), 'label')
        .filter((x) => x.label !== '__name__');
    }
    if (ctx.kind === 'label_value') {
      const got = await api.data(api.get(`/api/v1/label/${encodeURIComponent(ctx.label)}/values`, { ...t, 'match[]': selector(ctx.metric, ctx.matchers) }));
      return values(got, 'value').concat(vars());
    }
    return [];
  }

  async function logql(api, ctx, r, vars) {
    const t = { start: toNanos(r.start), end: toNanos(r.end) };
    if (ctx.kind === 'label_name') return values(await api.data(api.get('/loki/api/v1/labels', t)), 'label');
    if (ctx.kind === 'label_value') {
      const q = ctx.matchers ? `{${ctx.matchers}}` : undefined;
      return values(await api.data(api.get(`/loki/api/v1/label/${encodeURIComponent(ctx.label)}/values`, { ...t, query: q })), 'value').concat(vars());
    }
    return [];
  }
}
