// Query-language support for the query editor: keyword lists, tokenizers
// (with a light syntactic classification used for highlighting) and the
// completion-context analysis for PromQL, LogQL and TraceQL.
//
// A token is `{ type, cls, start, end, text }`:
//   type — lexical kind: ws, comment, string, number, duration, ident, attr,
//          scoped (TraceQL `span:name`), op, brace, punct, other;
//   cls  — highlight class: keyword, function, metric, label, string, number,
//          duration, operator, comment, brace, punct, constant, plain.
// Strings also carry `closed` (false when the closing quote is missing);
// braces carry `match` (the partner brace token) or `unmatched: true`.

/** PromQL functions (called with parentheses). */
export const PROMQL_FUNCTIONS = [
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh',
  'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh',
  'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg',
  'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg',
  'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev',
  'histogram_stdvar', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'info',
  'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2',
  'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets',
  'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc',
  'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh',
  'time', 'timestamp', 'vector', 'year',
];

/** PromQL aggregation operators. */
export const PROMQL_AGGREGATIONS = [
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values',
  'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
];

/** PromQL keywords (modifiers, set operators). */
export const PROMQL_KEYWORDS = [
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool',
  'and', 'or', 'unless', 'atan2',
];

/** LogQL range aggregations (`f({…}[5m])`). */
export const LOGQL_RANGE_AGGREGATIONS = [
  'count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time',
  'rate_counter', 'sum_over_time', 'avg_over_time', 'max_over_time', 'min_over_time',
  'first_over_time', 'last_over_time', 'stdvar_over_time', 'stddev_over_time',
  'quantile_over_time',
];

/** LogQL aggregation operators. */
export const LOGQL_AGGREGATIONS = [
  'sum', 'avg', 'min', 'max', 'stddev', 'stdvar', 'count', 'topk', 'bottomk', 'sort',
  'sort_desc', 'approx_topk',
];

/** LogQL other functions (top-level and inside pipelines). */
export const LOGQL_FUNCTIONS = ['vector', 'label_replace', 'ip', 'duration', 'duration_seconds', 'bytes'];

/** LogQL pipeline stages (after `|`). */
export const LOGQL_STAGES = [
  'json', 'logfmt', 'regexp', 'pattern', 'unpack', 'line_format', 'label_format', 'drop',
  'keep', 'decolorize', 'unwrap', 'distinct',
];

/** LogQL parser stages (after which extracted labels can be filtered). */
export const LOGQL_PARSERS = ['json', 'logfmt', 'regexp', 'pattern', 'unpack'];

/** LogQL line filter operators. */
export const LOGQL_LINE_FILTERS = ['|=', '!=', '|~', '!~'];

/** LogQL keywords. */
export const LOGQL_KEYWORDS = [
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool',
  'and', 'or', 'unless',
];

/** TraceQL unscoped intrinsics. */
export const TRACEQL_INTRINSICS = [
  'name', 'status', 'kind', 'duration', 'rootName', 'rootServiceName', 'traceDuration',
  'statusMessage', 'nestedSetLeft', 'nestedSetRight', 'nestedSetParent',
];

/** TraceQL scoped intrinsics. */
export const TRACEQL_SCOPED_INTRINSICS = [
  'span:name', 'span:status', 'span:statusMessage', 'span:kind', 'span:duration', 'span:id',
  'span:parentID', 'trace:rootName', 'trace:rootService', 'trace:duration', 'trace:id',
  'event:name', 'event:timeSinceStart', 'link:traceID', 'link:spanID',
  'instrumentation:name', 'instrumentation:version',
];

/** TraceQL attribute scopes (typed before an attribute name). */
export const TRACEQL_SCOPES = ['.', 'span.', 'resource.', 'event.', 'link.', 'instrumentation.'];

/** TraceQL status values. */
export const TRACEQL_STATUS = ['ok', 'error', 'unset'];

/** TraceQL span kind values. */
export const TRACEQL_KINDS = ['server', 'client', 'producer', 'consumer', 'internal', 'unspecified'];

/** TraceQL pipeline (aggregate / metrics) functions. */
export const TRACEQL_FUNCTIONS = [
  'count', 'avg', 'max', 'min', 'sum', 'select', 'by', 'coalesce', 'rate',
  'count_over_time', 'min_over_time', 'max_over_time', 'avg_over_time', 'sum_over_time',
  'quantile_over_time', 'histogram_over_time', 'compare', 'topk', 'bottomk',
];

/** Durations offered inside `[…]`. */
export const DURATIONS = ['1m', '5m', '10m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '7d'];

const GROUP_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);
const TRACE_CMP_OPS = new Set(['=', '!=', '=~', '!~', '>', '<', '>=', '<=']);
const TRACE_CONSTANTS = new Set(['true', 'false', 'nil', ...TRACEQL_STATUS, ...TRACEQL_KINDS]);

const sets = (arr) => new Set(arr);
const SETS = {
  promFn: sets(PROMQL_FUNCTIONS), promAgg: sets(PROMQL_AGGREGATIONS), promKw: sets(PROMQL_KEYWORDS),
  logRange: sets(LOGQL_RANGE_AGGREGATIONS), logAgg: sets(LOGQL_AGGREGATIONS),
  logFn: sets(LOGQL_FUNCTIONS), logStage: sets(LOGQL_STAGES), logKw: sets(LOGQL_KEYWORDS),
  logParser: sets(LOGQL_PARSERS), traceIntr: sets(TRACEQL_INTRINSICS), traceFn: sets(TRACEQL_FUNCTIONS),
};

const OPS = {
  promql: ['==', '!=', '>=', '<=', '=~', '!~', '=', '>', '<', '+', '-', '*', '/', '%', '^', '@', ':'],
  logql: ['|=', '|~', '|>', '!=', '!~', '!>', '=~', '==', '>=', '<=', '=', '>', '<', '|', '+', '-',
    '*', '/', '%', '^'],
  traceql: ['!>>', '!<<', '&>>', '&<<', '!~', '&~', '>>', '<<', '&&', '||', '=~', '!=', '>=', '<=',
    '==', '~', '=', '>', '<', '!', '|', '+', '-', '*', '/', '%', '^'],
};
const QUOTES = { promql: '"\'`', logql: '"`', traceql: '"`' };

const RE = {
  ws: /\s+/y,
  comment: /#[^\n]*/y,
  duration: /(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|[smhdwy]))+(?![\w])/y,
  bytes: /\d+(?:\.\d+)?(?:[kmgtpe]i?b|b)(?![\w])/iy,
  number: /(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)/iy,
  promIdent: /[A-Za-z_:][\w:]*/y,
  ident: /[A-Za-z_]\w*/y,
  scoped: /(?:span|trace|event|link|instrumentation):[A-Za-z]*/y,
  attr: /(?:span|resource|event|link|instrumentation|parent)?\.(?:"(?:[^"\\\n]|\\.)*"?|[\w\-/.]*)/y,
};

function sticky(re, text, i) {
  re.lastIndex = i;
  const m = re.exec(text);
  return m ? m[0].length : 0;
}

function scanString(text, i) {
  const q = text[i];
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\' && q !== '`') { j += 2; continue; }
    if (c === q) return { end: j + 1, closed: true };
    if (c === '\n' && q !== '`') break;
    j++;
  }
  return { end: Math.min(j, text.length), closed: false };
}

function lexOne(lang, text, i) {
  const c = text[i];
  let len;
  if ((len = sticky(RE.ws, text, i))) return ['ws', len];
  if (c === '#' && lang !== 'traceql') return ['comment', sticky(RE.comment, text, i)];
  if (QUOTES[lang].includes(c)) return ['string', 0];
  if (lang === 'traceql') {
    if ((len = sticky(RE.scoped, text, i))) return ['scoped', len];
    if (!/\d/.test(text[i + 1] || '') && (len = sticky(RE.attr, text, i))) return ['attr', len];
  }
  if (/\d/.test(c) || (c === '.' && /\d/.test(text[i + 1] || ''))) {
    if ((len = sticky(RE.duration, text, i))) return ['duration', len];
    if (lang === 'logql' && (len = sticky(RE.bytes, text, i))) return ['number', len];
    if ((len = sticky(RE.number, text, i))) return ['number', len];
  }
  if ((len = sticky(lang === 'promql' ? RE.promIdent : RE.ident, text, i))) return ['ident', len];
  if ('{}()[]'.includes(c)) return ['brace', 1];
  if (c === ',') return ['punct', 1];
  const op = OPS[lang].find((o) => text.startsWith(o, i));
  if (op) return ['op', op.length];
  return ['other', 1];
}

/**
 * Splits `text` into tokens (no classification).
 * @param {'promql'|'logql'|'traceql'} lang
 * @param {string} text
 * @returns {Array<{type:string,start:number,end:number,text:string,closed?:boolean}>}
 */
export function lex(lang, text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    let [type, len] = lexOne(lang, text, i);
    const tok = { type, start: i, end: 0, text: '', cls: 'plain' };
    if (type === 'string') {
      const s = scanString(text, i);
      tok.closed = s.closed;
      len = s.end - i;
    }
    tok.end = i + len;
    tok.text = text.slice(i, tok.end);
    tokens.push(tok);
    i = tok.end;
  }
  return tokens;
}

const CLOSERS = { '}': '{', ')': '(', ']': '[' };
const BASIC_CLS = {
  string: 'string', number: 'number', duration: 'duration', op: 'operator', punct: 'punct',
  comment: 'comment', brace: 'brace', attr: 'label', scoped: 'keyword', other: 'plain', ws: 'plain',
};

/** Opens or closes a bracket frame; `kindOf(open, prev)` names the new frame. */
function braceStep(stack, t, prev, kindOf) {
  if (CLOSERS[t.text]) {
    const top = stack[stack.length - 1];
    if (top && top.open === CLOSERS[t.text]) {
      stack.pop();
      t.match = top.tok;
      top.tok.match = t;
      return top;
    }
    t.unmatched = true;
    return null;
  }
  const frame = { open: t.text, kind: kindOf(t.text, prev), start: t.start, tok: t };
  stack.push(frame);
  return null;
}

function promIdentClass(t, prev, next, top) {
  const kind = top ? top.kind : null;
  const nextText = next ? next.text : '';
  if (kind === 'sel' || kind === 'group') return 'label';
  if (t.text === 'Inf' || t.text === 'NaN') return 'number';
  if ((t.text === 'start' || t.text === 'end') && prev && prev.text === '@') return 'keyword';
  if (SETS.promKw.has(t.text)) return 'keyword';
  if (SETS.promAgg.has(t.text) && (nextText === '(' || nextText === 'by' || nextText === 'without')) return 'keyword';
  if (SETS.promFn.has(t.text) && nextText === '(') return 'function';
  return 'metric';
}

function classifyPromql(sig) {
  const stack = [];
  sig.forEach((t, k) => {
    const prev = sig[k - 1];
    const top = stack[stack.length - 1];
    t.frame = top ? top.kind : null;
    if (t.type === 'ident') t.cls = promIdentClass(t, prev, sig[k + 1], top);
    else if (t.type === 'brace') {
      braceStep(stack, t, prev, (open, p) => {
        if (open === '{') return 'sel';
        if (open === '[') return 'range';
        return p && p.type === 'ident' && GROUP_KEYWORDS.has(p.text) ? 'group' : 'paren';
      });
      if (t.text === '{') stack[stack.length - 1].metric = prev && prev.cls === 'metric' ? prev.text : '';
    }
  });
  return { stack };
}

function logIdentClass(t, prev, next, top, st) {
  const kind = top ? top.kind : null;
  const nextText = next ? next.text : '';
  if (kind === 'sel' || kind === 'group') return 'label';
  if (st.pipeline && prev && prev.text === '|' && SETS.logStage.has(t.text)) {
    st.stage = t.text;
    return 'keyword';
  }
  if (SETS.logFn.has(t.text) && nextText === '(') return 'function';
  if (SETS.logKw.has(t.text)) return 'keyword';
  if (st.pipeline) return 'label';
  if (SETS.logRange.has(t.text) && nextText === '(') return 'function';
  if (SETS.logAgg.has(t.text) && (nextText === '(' || nextText === 'by' || nextText === 'without')) return 'keyword';
  return 'plain';
}

function classifyLogql(sig) {
  const stack = [];
  const st = { pipeline: false, pipeDepth: 0, stage: '', parsed: false };
  sig.forEach((t, k) => {
    const prev = sig[k - 1];
    const top = stack[stack.length - 1];
    t.frame = top ? top.kind : null;
    t.pipeline = st.pipeline;
    if (t.type === 'ident') {
      t.cls = logIdentClass(t, prev, sig[k + 1], top, st);
      if (SETS.logParser.has(st.stage)) st.parsed = true;
    } else if (t.type === 'op' && top?.kind !== 'sel' && /^[|!]/.test(t.text)) {
      if (!st.pipeline) st.pipeDepth = stack.length;
      st.pipeline = true;
      if (t.text === '|') st.stage = '';
    } else if (t.type === 'brace') {
      braceStep(stack, t, prev, (open, p) => {
        if (open === '{') return 'sel';
        if (open === '[') return 'range';
        return p && p.type === 'ident' && GROUP_KEYWORDS.has(p.text) ? 'group' : 'paren';
      });
      if (t.text === '[' || stack.length < st.pipeDepth) st.pipeline = false;
    }
  });
  return { stack, pipeline: st.pipeline, stage: st.stage, parsed: st.parsed };
}

function traceIdentClass(t, prev, next, top) {
  const kind = top ? top.kind : null;
  if (kind === 'spanset' || kind === 'fnargs') {
    if (SETS.traceIntr.has(t.text)) return 'keyword';
    if (TRACE_CONSTANTS.has(t.text)) return 'constant';
    if (kind === 'fnargs' && SETS.traceFn.has(t.text)) return 'function';
    return 'plain';
  }
  if (SETS.traceFn.has(t.text) && next && next.text === '(') return 'function';
  if (t.text === 'with' || t.text === 'by') return 'keyword';
  if (t.text === 'true' || t.text === 'false' || t.text === 'nil') return 'constant';
  return 'plain';
}

function classifyTraceql(sig) {
  const stack = [];
  sig.forEach((t, k) => {
    const prev = sig[k - 1];
    const top = stack[stack.length - 1];
    t.frame = top ? top.kind : null;
    if (t.type === 'ident') t.cls = traceIdentClass(t, prev, sig[k + 1], top);
    else if (t.type === 'brace') {
      braceStep(stack, t, prev, (open, p) => {
        if (open === '{') return 'spanset';
        if (open === '[') return 'range';
        if (top && top.kind === 'spanset') return 'spanset';
        return p && p.cls === 'function' ? 'fnargs' : 'paren';
      });
    }
  });
  return { stack };
}

const CLASSIFIERS = { promql: classifyPromql, logql: classifyLogql, traceql: classifyTraceql };

/**
 * Tokenizes and classifies `text`.
 * @param {'promql'|'logql'|'traceql'} lang
 * @param {string} text
 * @returns {{tokens: Array<object>, sig: Array<object>, state: object}} all tokens,
 *   the significant ones (no whitespace/comments), and the parser state at the end
 *   of the text (`stack` of open bracket frames, plus per-language fields).
 */
export function tokenize(lang, text) {
  const tokens = lex(lang, text);
  for (const t of tokens) t.cls = BASIC_CLS[t.type] || 'plain';
  const sig = tokens.filter((t) => t.type !== 'ws' && t.type !== 'comment');
  const state = (CLASSIFIERS[lang] || classifyPromql)(sig);
  return { tokens, sig, state };
}

// ---------------------------------------------------------------------------
// Completion context
// ---------------------------------------------------------------------------

const WORD_AFTER = { promql: /^[\w:]*/, logql: /^\w*/, traceql: /^[\w.\-/:]*/ };
const PARTIAL_TYPES = new Set(['ident', 'attr', 'scoped', 'string', 'number', 'duration']);

const fnItem = (name, detail = 'function') => ({
  label: name, insert: `${name}()`, caret: name.length + 1, kind: 'function', detail,
});
const kwItem = (name, detail = 'keyword') => ({ label: name, kind: 'keyword', detail });
const groupItem = (name) => ({ label: name, insert: `${name} ()`, caret: name.length + 2, kind: 'keyword', detail: 'keyword' });

const PROM_ITEMS = [
  ...PROMQL_AGGREGATIONS.map((n) => fnItem(n, 'aggregation')),
  ...PROMQL_FUNCTIONS.map((n) => fnItem(n)),
  ...PROMQL_KEYWORDS.map((n) => (GROUP_KEYWORDS.has(n) ? groupItem(n) : kwItem(n))),
];
const LOG_TOP_ITEMS = [
  ...LOGQL_RANGE_AGGREGATIONS.map((n) => fnItem(n, 'range aggregation')),
  ...LOGQL_AGGREGATIONS.map((n) => fnItem(n, 'aggregation')),
  fnItem('vector'), fnItem('label_replace'),
  ...LOGQL_KEYWORDS.map((n) => (GROUP_KEYWORDS.has(n) ? groupItem(n) : kwItem(n))),
];
const QUOTED_STAGES = new Set(['regexp', 'pattern', 'line_format']);
const stageItem = (n) => (QUOTED_STAGES.has(n)
  ? { label: n, insert: `${n} ""`, caret: n.length + 2, kind: 'keyword', detail: 'stage' }
  : { label: n, kind: 'keyword', detail: LOGQL_PARSERS.includes(n) ? 'parser' : 'stage' });
const LOG_STAGE_ITEMS = LOGQL_STAGES.map(stageItem);
const LOG_PIPE_ITEMS = [
  ...LOGQL_LINE_FILTERS.map((op) => ({
    label: op, insert: `${op} ""`, caret: op.length + 2, kind: 'operator', detail: 'line filter',
  })),
  ...LOGQL_STAGES.map((n) => {
    const it = stageItem(n);
    const ins = `| ${it.insert ?? n}`;
    return { ...it, label: `| ${n}`, insert: ins, caret: it.caret == null ? ins.length : it.caret + 2 };
  }),
];
const TRACE_ATTR_ITEMS = [
  ...TRACEQL_INTRINSICS.map((n) => ({ label: n, kind: 'intrinsic', detail: 'intrinsic' })),
  ...TRACEQL_SCOPED_INTRINSICS.map((n) => ({ label: n, kind: 'intrinsic', detail: 'intrinsic' })),
  ...TRACEQL_SCOPES.map((n) => ({ label: n, kind: 'scope', detail: n === '.' ? 'any scope' : 'scope' })),
];
const TRACE_OP_ITEMS = ['=', '!=', '=~', '!~', '>', '>=', '<', '<=']
  .map((op) => ({ label: op, insert: `${op} `, kind: 'operator', detail: 'operator' }));
const TRACE_PIPE_ITEMS = TRACEQL_FUNCTIONS.map((n) => fnItem(n, n === 'by' || n === 'select' ? 'grouping' : 'aggregate'));
const DURATION_ITEMS = DURATIONS.map((d) => ({ label: d, kind: 'duration', detail: 'duration' }));
const valueItems = (arr, detail) => arr.map((v) => ({ label: v, kind: 'value', detail, raw: true }));

/** Unescapes a (partial) string body. */
function unescapeBody(s, q) {
  return q === '`' ? s : s.replace(/\\(.)/g, '$1');
}

/** Replace range for an identifier-like partial token (or an empty one at the cursor). */
function wordRange(lang, text, cursor, cur) {
  const from = cur ? cur.start : cursor;
  const to = cursor + WORD_AFTER[lang].exec(text.slice(cursor))[0].length;
  return { from, to, prefix: text.slice(from, cursor) };
}

/** Replace range for the body of an unclosed string token (closing quote included if present). */
function stringRange(text, cursor, cur) {
  const q = cur.text[0];
  const from = cur.start + 1;
  const body = q === '`' ? /^[^`]*/ : new RegExp(`^(?:[^${q}\\\\\\n]|\\\\.)*`);
  const rest = body.exec(text.slice(cursor))[0].length;
  const to = text[cursor + rest] === q ? cursor + rest + 1 : cursor;
  return { from, to, prefix: unescapeBody(text.slice(from, cursor), q), quote: q };
}

/**
 * Describes the selector whose `{` is at `openPos` in `text`: the other matchers
 * (all but the one containing `cursor`) and the `__name__` matcher's value.
 */
function selectorInfo(lang, text, openPos, cursor) {
  const toks = lex(lang, text).filter((t) => t.type !== 'ws' && t.type !== 'comment');
  let k = toks.findIndex((t) => t.start === openPos && t.text === '{');
  const groups = [];
  let cur = { start: openPos + 1, toks: [] };
  let depth = 0;
  for (k += 1; k > 0 && k < toks.length; k++) {
    const t = toks[k];
    if (depth === 0 && (t.text === ',' || t.text === '}')) {
      groups.push({ ...cur, end: t.start });
      cur = { start: t.end, toks: [] };
      if (t.text === '}') break;
      continue;
    }
    if (t.type === 'brace') depth += '{(['.includes(t.text) ? 1 : -1;
    cur.toks.push(t);
  }
  if (k >= toks.length) groups.push({ ...cur, end: text.length });
  let name = '';
  const others = [];
  for (const g of groups) {
    const [a, op, v] = g.toks;
    if (a && a.text === '__name__' && op && op.text === '=' && v && v.type === 'string' && v.closed) {
      name = unescapeBody(v.text.slice(1, -1), v.text[0]);
    }
    if (cursor >= g.start && cursor <= g.end) continue;
    const s = text.slice(g.start, g.end).trim();
    if (s) others.push(s);
  }
  return { matchers: others.join(', '), name };
}

/** The matchers of the first selector in the query (for scoping label lookups). */
function firstSelector(lang, text) {
  const open = lex(lang, text).find((t) => t.text === '{');
  return open ? selectorInfo(lang, text, open.start, -1) : { matchers: '', name: '' };
}

function selectorContext(lang, text, cursor, sig, cur, top) {
  const prevIdx = cur ? sig.length - 2 : sig.length - 1;
  const prev = sig[prevIdx];
  const info = selectorInfo(lang, text, top.start, cursor);
  const base = lang === 'promql' ? { metric: top.metric || info.name || '' } : {};
  const label = sig[prevIdx - 1];
  const afterOp = prev && prev.type === 'op' && MATCH_OPS.has(prev.text) && label && label.type === 'ident';
  if (cur && cur.type === 'string') {
    if (cur.closed || !afterOp) return null;
    const r = stringRange(text, cursor, cur);
    const ctx = { kind: 'label_value', ...base, label: label.text, prefix: r.prefix, matchers: info.matchers };
    return { ctx, ...r, items: [] };
  }
  if (!cur && afterOp) {
    const ctx = { kind: 'label_value', ...base, label: label.text, prefix: '', matchers: info.matchers };
    return { ctx, from: cursor, to: cursor, prefix: '', wrapQuotes: true, items: [] };
  }
  if (cur && cur.type !== 'ident') return null;
  if (prev && prev.text !== '{' && prev.text !== ',') return null;
  const r = wordRange(lang, text, cursor, cur);
  return { ctx: { kind: 'label_name', ...base, prefix: r.prefix, matchers: info.matchers }, ...r, items: [] };
}

/** Common preamble: tokenizes the text before the cursor and finds the partial token. */
function analyse(lang, text, cursor) {
  const before = text.slice(0, cursor);
  const { tokens, sig, state } = tokenize(lang, before);
  const lastTok = tokens[tokens.length - 1];
  if (lastTok && lastTok.type === 'comment') return null;
  const last = sig[sig.length - 1];
  const cur = last && last.end === cursor && PARTIAL_TYPES.has(last.type) ? last : null;
  const prev = cur ? sig[sig.length - 2] : last;
  return { sig, state, top: state.stack[state.stack.length - 1], last, cur, prev };
}

function durationContext(lang, text, cursor, cur) {
  if (cur && !['number', 'duration', 'ident'].includes(cur.type)) return null;
  const r = wordRange(lang, text, cursor, cur);
  return { ctx: { kind: 'duration', prefix: r.prefix }, ...r, items: DURATION_ITEMS };
}

function promContext(text, cursor) {
  const a = analyse('promql', text, cursor);
  if (!a) return null;
  const { sig, top, cur } = a;
  if (top && top.kind === 'sel') return selectorContext('promql', text, cursor, sig, cur, top);
  if (top && top.kind === 'range') return durationContext('promql', text, cursor, cur);
  if (cur && cur.type !== 'ident') return null;
  const r = wordRange('promql', text, cursor, cur);
  if (top && top.kind === 'group') {
    const metric = tokenize('promql', text).sig.find((t) => t.cls === 'metric');
    const sel = firstSelector('promql', text);
    const ctx = { kind: 'label_name', metric: metric ? metric.text : sel.name, prefix: r.prefix, matchers: sel.matchers };
    return { ctx, ...r, items: [] };
  }
  return { ctx: { kind: 'metric', prefix: r.prefix }, ...r, items: PROM_ITEMS };
}

function logStageLabels(text, cursor, cur, items) {
  const r = wordRange('logql', text, cursor, cur);
  const sel = firstSelector('logql', text);
  return { ctx: { kind: 'label_name', prefix: r.prefix, matchers: sel.matchers, stage: true }, ...r, items };
}

function logContext(text, cursor) {
  const a = analyse('logql', text, cursor);
  if (!a) return null;
  const { sig, state, top, last, cur, prev } = a;
  if (top && top.kind === 'sel') return selectorContext('logql', text, cursor, sig, cur, top);
  if (top && top.kind === 'range') return durationContext('logql', text, cursor, cur);
  if (last && last.type === 'op' && last.text === '|' && last.end === cursor) {
    return { ctx: null, from: last.start, to: cursor, prefix: '|', items: LOG_PIPE_ITEMS };
  }
  if (cur && cur.type !== 'ident') return null;
  if (top && top.kind === 'group') {
    const r = wordRange('logql', text, cursor, cur);
    return { ctx: { kind: 'label_name', prefix: r.prefix, matchers: firstSelector('logql', text).matchers }, ...r, items: [] };
  }
  if (prev && prev.text === '|') return { ...logStageLabels(text, cursor, cur, LOG_STAGE_ITEMS), builtinFirst: true };
  const labelStage = ['keep', 'drop', 'unwrap'].includes(state.stage);
  if (prev && prev.cls === 'keyword' && ['keep', 'drop', 'unwrap'].includes(prev.text)) {
    return logStageLabels(text, cursor, cur, prev.text === 'unwrap' ? [fnItem('duration'), fnItem('duration_seconds'), fnItem('bytes')] : []);
  }
  if (prev && prev.text === ',' && labelStage && state.pipeline) return logStageLabels(text, cursor, cur, []);
  if (prev && state.pipeline && prev.cls === 'keyword' && (prev.text === 'and' || prev.text === 'or')) {
    return logStageLabels(text, cursor, cur, []);
  }
  if (!cur && prev && (prev.text === '}' || state.pipeline)) {
    return { ctx: null, from: cursor, to: cursor, prefix: '', items: LOG_PIPE_ITEMS };
  }
  if (state.pipeline) return null;
  const r = wordRange('logql', text, cursor, cur);
  return { ctx: null, ...r, items: LOG_TOP_ITEMS };
}

function traceAttrValue(text, cursor, sig, cur, prev) {
  const attrTok = sig[sig.indexOf(prev) - 1];
  const attribute = attrTok ? attrTok.text : '';
  const r = cur && cur.type === 'string' ? stringRange(text, cursor, cur) : wordRange('traceql', text, cursor, cur);
  const fixed = { status: TRACEQL_STATUS, 'span:status': TRACEQL_STATUS, kind: TRACEQL_KINDS, 'span:kind': TRACEQL_KINDS }[attribute];
  if (fixed && !r.quote) return { ctx: null, ...r, items: valueItems(fixed, attribute) };
  const ctx = { kind: 'attribute_value', attribute, prefix: r.prefix, quoted: !!r.quote };
  return { ctx, ...r, wrapQuotes: r.quote ? false : 'auto', items: [] };
}

function traceContext(text, cursor) {
  const a = analyse('traceql', text, cursor);
  if (!a) return null;
  const { sig, state, top, cur, prev } = a;
  const inSpanset = state.stack.some((f) => f.open === '{');
  const attrCtx = () => {
    const r = wordRange('traceql', text, cursor, cur);
    return { ctx: { kind: 'attribute', prefix: r.prefix }, ...r, items: TRACE_ATTR_ITEMS };
  };
  if (top && top.kind === 'range') return durationContext('traceql', text, cursor, cur);
  if (cur && cur.type === 'string') {
    if (cur.closed || !inSpanset || !prev || !TRACE_CMP_OPS.has(prev.text)) return null;
    return traceAttrValue(text, cursor, sig, cur, prev);
  }
  if (inSpanset) {
    if (prev && TRACE_CMP_OPS.has(prev.text)) {
      return !cur || cur.type === 'ident' ? traceAttrValue(text, cursor, sig, cur, prev) : null;
    }
    if (!cur && prev && (prev.type === 'attr' || prev.type === 'scoped' || prev.cls === 'keyword')) {
      return { ctx: null, from: cursor, to: cursor, prefix: '', items: TRACE_OP_ITEMS };
    }
    if (cur && cur.type !== 'ident' && cur.type !== 'attr' && cur.type !== 'scoped') return null;
    if (!prev || ['{', '(', '&&', '||', '!'].includes(prev.text)) return attrCtx();
    return null;
  }
  if (cur && cur.type !== 'ident' && cur.type !== 'attr' && cur.type !== 'scoped') return null;
  if (top && top.kind === 'fnargs') return prev && (prev.text === '(' || prev.text === ',') ? attrCtx() : null;
  if (prev && (TRACE_CMP_OPS.has(prev.text) || prev.type === 'number')) return null;
  const r = wordRange('traceql', text, cursor, cur);
  return { ctx: null, ...r, items: TRACE_PIPE_ITEMS };
}

const CONTEXTS = { promql: promContext, logql: logContext, traceql: traceContext };

/**
 * Computes the completion context at `cursor`.
 * @param {'promql'|'logql'|'traceql'} lang
 * @param {string} text the whole query
 * @param {number} cursor caret offset
 * @returns {null | {
 *   ctx: object|null,   // context for the page's provider (null: don't ask it)
 *   from: number, to: number,  // range replaced on accept
 *   prefix: string,     // filter text
 *   quote?: string,     // inside a string opened with this quote: accept escapes + closes it
 *   wrapQuotes?: boolean|'auto', // wrap accepted values in double quotes ('auto': unless numeric/boolean)
 *   builtinFirst?: boolean, // list the editor's own items before the provider's
 *   items: Array<{label:string, insert?:string, caret?:number, kind?:string, detail?:string, raw?:boolean}>
 * }}
 */
export function buildContext(lang, text, cursor) {
  const fn = CONTEXTS[lang] || promContext;
  const res = fn(text, cursor);
  if (res && res.ctx) res.ctx.language = lang;
  return res;
}
