/**
 * A small layered layout for the service graph (Sugiyama-style, simplified):
 * cycles are broken by a depth-first search, nodes are put in layers by the
 * longest path from a source, edges longer than one layer get waypoints in
 * the layers they cross, every layer is ordered by the barycentre of its
 * neighbours, and everything gets coordinates. Edges that close a cycle are
 * routed under the graph, one lane each.
 * @module pages/traces/graphlayout
 */

const DUMMY_H = 14;
const LANE = 30;

/**
 * Lays out a directed graph.
 * @param {string[]} nodes node names
 * @param {Array<{from: string, to: string}>} edges
 * @param {{nodeW?: number, nodeH?: number, gapX?: number, gapY?: number, pad?: number}} [o]
 * @returns {{pos: Map<string, {x: number, y: number, layer: number}>, width: number, height: number,
 *   routes: Array<{kind: 'forward'|'back'|'self', points: Array<[number, number]>, lane?: number}>}}
 *   node positions (top-left), the size, and per edge its route: for 'forward' the points from the
 *   source's right side through the waypoints to the target's left side; for 'back' the two bottom
 *   centres and the lane's y; for 'self' the node's top centre.
 */
export function layeredLayout(nodes, edges, o = {}) {
  const { nodeW = 150, nodeH = 44, gapX = 200, gapY = 56, pad = 24 } = o;
  const names = [...new Set(nodes)].sort();
  const out = new Map(names.map((n) => [n, []]));
  edges.forEach((e, i) => { if (e.from !== e.to) out.get(e.from).push({ to: e.to, i }); });
  const back = findBackEdges(names, out);
  const fwd = edges.map((e, i) => ({ ...e, i })).filter((e) => e.from !== e.to && !back.has(e.i));
  const layer = longestPathLayers(names, fwd);
  const layers = [];
  for (const n of names) (layers[layer.get(n)] ||= []).push(n);
  // Waypoints for edges that cross layers.
  const chains = new Map();
  const links = [];
  for (const e of fwd) {
    const chain = [e.from];
    for (let l = layer.get(e.from) + 1; l < layer.get(e.to); l++) {
      const d = `\u0000${e.i}:${l}`;
      layers[l].push(d);
      chain.push(d);
    }
    chain.push(e.to);
    chains.set(e.i, chain);
    for (let k = 0; k + 1 < chain.length; k++) links.push({ from: chain[k], to: chain[k + 1] });
  }
  orderLayers(layers, links);
  const isDummy = (n) => n.startsWith('\u0000');
  const heightOf = (n) => (isDummy(n) ? DUMMY_H : nodeH);
  const gapAfter = (a, b) => (isDummy(a) || isDummy(b) ? 18 : gapY);
  const span = (l) => l.reduce((s, n, i) => s + heightOf(n) + (i ? gapAfter(l[i - 1], n) : 0), 0);
  const tallest = Math.max(nodeH, ...layers.map(span));
  const pos = new Map();
  layers.forEach((l, li) => {
    let y = pad + (tallest - span(l)) / 2;
    l.forEach((n, i) => {
      if (i) y += gapAfter(l[i - 1], n);
      pos.set(n, { x: pad + li * (nodeW + gapX), y, layer: li });
      y += heightOf(n);
    });
  });
  const width = pad * 2 + Math.max(1, layers.length) * nodeW + Math.max(0, layers.length - 1) * gapX;
  let height = pad * 2 + tallest;
  const routes = edges.map((e, i) => {
    if (e.from === e.to) {
      const p = pos.get(e.from);
      return { kind: 'self', points: [[p.x + nodeW / 2, p.y]] };
    }
    if (back.has(i)) return { kind: 'back', points: [] };
    const pts = chains.get(i).map((n, k, all) => {
      const p = pos.get(n);
      if (k === 0) return [[p.x + nodeW, p.y + nodeH / 2]];
      if (k === all.length - 1) return [[p.x, p.y + nodeH / 2]];
      return [[p.x, p.y + DUMMY_H / 2], [p.x + nodeW, p.y + DUMMY_H / 2]];
    }).flat();
    return { kind: 'forward', points: pts };
  });
  // Back edges: one lane each under the graph.
  let lane = 0;
  routes.forEach((r, i) => {
    if (r.kind !== 'back') return;
    const a = pos.get(edges[i].from), b = pos.get(edges[i].to);
    r.points = [[a.x + nodeW / 2 + 10, a.y + nodeH], [b.x + nodeW / 2 - 10, b.y + nodeH]];
    r.lane = pad + tallest + 24 + lane * LANE;
    lane++;
  });
  if (lane) height += 24 + lane * LANE;
  return { pos: new Map([...pos].filter(([n]) => !isDummy(n))), width, height, routes };
}

/** Indexes of the edges that close a cycle (found by a depth-first search from the sources first). */
function findBackEdges(names, out) {
  const state = new Map(); // 1: on the stack, 2: done
  const back = new Set();
  const indeg = new Map(names.map((n) => [n, 0]));
  for (const list of out.values()) for (const { to } of list) indeg.set(to, indeg.get(to) + 1);
  const visit = (n) => {
    state.set(n, 1);
    for (const { to, i } of out.get(n)) {
      if (state.get(to) === 1) back.add(i);
      else if (!state.get(to)) visit(to);
    }
    state.set(n, 2);
  };
  for (const n of names.filter((x) => indeg.get(x) === 0)) if (!state.get(n)) visit(n);
  for (const n of names) if (!state.get(n)) visit(n);
  return back;
}

/** The layer of each node: the longest path to it from a source (the edges form a DAG). */
function longestPathLayers(names, fwd) {
  const layer = new Map(names.map((n) => [n, 0]));
  for (let round = 0; round < names.length; round++) {
    let changed = false;
    for (const e of fwd) {
      if (layer.get(e.to) < layer.get(e.from) + 1) { layer.set(e.to, layer.get(e.from) + 1); changed = true; }
    }
    if (!changed) break;
  }
  return layer;
}

/** Orders each layer by the mean position of the node's neighbours in the layers before and after (a few sweeps). */
function orderLayers(layers, links) {
  const preds = new Map(), succs = new Map();
  const add = (m, k, v) => (m.get(k) || m.set(k, []).get(k)).push(v);
  for (const e of links) { add(preds, e.to, e.from); add(succs, e.from, e.to); }
  const index = new Map();
  const reindex = () => layers.forEach((l) => l.forEach((n, i) => index.set(n, i)));
  reindex();
  const sweep = (list, neighbours) => {
    const bc = new Map(list.map((n, i) => {
      const ns = neighbours.get(n) || [];
      return [n, ns.length ? ns.reduce((a, m) => a + index.get(m), 0) / ns.length : i];
    }));
    list.sort((a, b) => bc.get(a) - bc.get(b) || (a < b ? -1 : a > b ? 1 : 0));
  };
  for (let it = 0; it < 6; it++) {
    for (let l = 1; l < layers.length; l++) { sweep(layers[l], preds); reindex(); }
    for (let l = layers.length - 2; l >= 0; l--) { sweep(layers[l], succs); reindex(); }
  }
}
