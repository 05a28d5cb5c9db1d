/**
 * The HTTP client of the UI: every request carries the selected tenant as
 * `X-Scope-OrgID`; errors become an {@link ApiError} with the server's
 * message (Prometheus/Loki JSON `error`, Tempo's text, or the status).
 * @module lib/api
 */

let tenant = '';

/** Sets the tenant every later request is for ('' = the server's default). */
export function setTenant(t) { tenant = t || ''; }

/** The tenant requests are for. */
export function getTenant() { return tenant; }

/** A failed request: `status` (0 for a network error) and the server's message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

function headers(extra) {
  const h = new Headers(extra || {});
  if (tenant) h.set('X-Scope-OrgID', tenant);
  return h;
}

function query(params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x));
    else sp.append(k, String(v));
  }
  return sp;
}

async function errorOf(resp) {
  const text = await resp.text().catch(() => '');
  let message = text.trim() || `${resp.status} ${resp.statusText}`;
  let body = text;
  try {
    body = JSON.parse(text);
    message = body.error || body.message || (body.error && body.error.reason) || message;
  } catch (e) { /* a text body */ }
  return new ApiError(resp.status, message, body);
}

/**
 * Sends a request and returns the parsed JSON (or text for a non-JSON
 * answer, null for 204).
 * @param {string} method
 * @param {string} path e.g. `/api/v1/query`
 * `headers` adds request headers (e.g. `If-Match`); `onHeaders` is called
 * with the response's headers (e.g. to keep an `ETag`).
 * @param {{params?: object, body?: any, form?: object, signal?: AbortSignal, accept?: string,
 *   headers?: object, onHeaders?: (h: Headers) => void}} [opts]
 */
export async function request(method, path, opts = {}) {
  const sp = query(opts.params);
  const url = sp.toString() ? `${path}?${sp}` : path;
  const extra = { ...(opts.headers || {}) };
  if (opts.accept) extra.Accept = opts.accept;
  const init = { method, headers: headers(extra), signal: opts.signal };
  if (opts.form) {
    init.body = query(opts.form);
    init.headers.set('Content-Type', 'application/x-www-form-urlencoded');
  } else if (opts.body !== undefined) {
    init.body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    init.headers.set('Content-Type', 'application/json');
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach Argus: ${e.message}`);
  }
  if (!resp.ok) throw await errorOf(resp);
  if (opts.onHeaders) opts.onHeaders(resp.headers);
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

/** GET with query parameters. */
export const get = (path, params, opts = {}) => request('GET', path, { ...opts, params });

/** POST of a form (as Prometheus's and Loki's query endpoints take). */
export const postForm = (path, form, opts = {}) => request('POST', path, { ...opts, form });

/** A JSON body with any method. */
export const sendJson = (method, path, body, opts = {}) => request(method, path, { ...opts, body });

/** The `data` of a Prometheus-style `{status, data}` answer. */
export async function data(promise) {
  const r = await promise;
  return r && typeof r === 'object' && 'data' in r ? r.data : r;
}
