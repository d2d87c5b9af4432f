// simlab explorer: plain JS + SVG, no external scripts. Talks to the JSON API of the same server.
"use strict";
const $ = (id) => document.getElementById(id);
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                 "#7f7f7f", "#aec7e8"];
const state = { sources: {}, neighbours: [], query: null };
const headers = () => {
  const key = new URLSearchParams(location.search).get("key");
  return key ? { "X-API-Key": key } : {};
};

async function api(path, body) {
  const opts = body === undefined ? { headers: headers() }
    : { method: "POST", headers: { ...headers(), "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, opts);
  const data = await r.json();
  if (!r.ok) throw new Error(`${data.error}: ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)}`);
  return data;
}

function status(msg) { $("status").textContent = msg || ""; }

function source() {
  const v = $("source").value;
  return state.sources[v];
}

async function loadSources() {
  const [models, colls] = await Promise.all([api("/v1/models"), api("/v1/collections")]);
  const sel = $("source");
  sel.innerHTML = "";
  for (const m of models) {
    state.sources["m:" + m.name] = { type: "model", info: m };
    sel.add(new Option(`model: ${m.name} (${m.kind})`, "m:" + m.name));
  }
  for (const c of colls) {
    state.sources["c:" + c.name] = { type: "collection", info: c };
    sel.add(new Option(`collection: ${c.name} (${c.count})`, "c:" + c.name));
  }
  const pick = new URLSearchParams(location.search).get("source");
  if (pick && state.sources[pick]) sel.value = pick;
  await onSource();
}

async function onSource() {
  const s = source();
  const mode = $("mode");
  mode.innerHTML = "";
  if (!s) return;
  if (s.type === "model") {
    mode.add(new Option("key", "key"));
    if (["word", "text"].includes(s.info.item_type)) mode.add(new Option("text", "item"));
    if (s.info.item_type === "text") mode.value = "item";
    $("rerank-box").hidden = !s.info.reranks.length;
  } else {
    mode.add(new Option("id", "id"));
    if (s.info.model) mode.add(new Option("text / item", "item"));
    $("rerank-box").hidden = true;
  }
  state.neighbours = []; state.query = null;
  $("color").innerHTML = '<option value="">(none)</option>';
  $("neighbours").querySelector("tbody").innerHTML = "";
  $("graphs").innerHTML = "";
  await drawMap([]);
}

function parseQuery(raw, s) {
  const t = raw.trim();
  if (s.type === "model" && $("mode").value === "item" && s.info.item_type === "series") return JSON.parse(t);
  return t;
}

async function search(raw) {
  const s = source();
  if (!s || !raw.trim()) return;
  status("");
  const k = Math.max(1, parseInt($("k").value || "10", 10));
  const mode = $("mode").value;
  let hits;
  try {
    if (s.type === "model") {
      const name = encodeURIComponent(s.info.name);
      if (mode === "key") {
        const rr = $("rerank").checked && !$("rerank-box").hidden ? "&rerank=editpath" : "";
        hits = (await api(`/v1/models/${name}/similar/${encodeURIComponent(raw.trim())}?k=${k}${rr}`)).results[0];
      } else {
        hits = (await api(`/v1/models/${name}/search`, { queries: [parseQuery(raw, s)], k, by: "item" })).results[0];
      }
      hits = hits.map((h) => ({ key: h.key, score: h.score }));
    } else {
      const q = mode === "id" ? { id: raw.trim() } : { item: raw.trim() };
      const res = await api(`/v1/collections/${encodeURIComponent(s.info.name)}/search`, { queries: [q], k });
      hits = res.results[0].map((h) => ({ key: h.id, score: h.score, metadata: h.metadata }));
    }
  } catch (e) { status(e.message); return; }
  state.neighbours = hits;
  state.query = mode === "item" ? null : raw.trim();
  $("qlabel").textContent = `of ${raw.trim().slice(0, 40)}`;
  renderNeighbours();
  await Promise.all([drawMap(hits.map((h) => h.key).concat(state.query ? [state.query] : [])), drawGraphs(s)]);
}

function renderNeighbours() {
  const tb = $("neighbours").querySelector("tbody");
  tb.innerHTML = "";
  state.neighbours.forEach((h, i) => {
    const tr = document.createElement("tr");
    tr.dataset.key = String(h.key);
    tr.innerHTML = `<td>${i + 1}</td><td class="key"></td><td class="score">${h.score === null ? "–" : h.score.toFixed(4)}</td>`;
    tr.querySelector(".key").textContent = String(h.key);
    if (h.metadata) tr.title = JSON.stringify(h.metadata);
    tr.onclick = () => { $("query").value = String(h.key); setKeyMode(); search(String(h.key)); };
    tb.appendChild(tr);
  });
}

function setKeyMode() {
  const s = source();
  $("mode").value = s.type === "model" ? "key" : "id";
}

function colourOf(values) {
  const cats = [...new Set(values.filter((v) => v !== null && v !== undefined).map(String))].sort();
  const map = new Map(cats.map((c, i) => [c, PALETTE[i % PALETTE.length]]));
  return { map, f: (v) => (v === null || v === undefined ? "#9ca3af" : map.get(String(v))) };
}

async function drawMap(highlight) {
  const s = source();
  const svg = $("map");
  svg.innerHTML = "";
  if (!s) return;
  const p = new URLSearchParams({ n: "1000", method: $("method").value });
  if ($("color").value) p.set("color", $("color").value);
  for (const h of highlight) p.append("highlight", String(h));
  const base = s.type === "model" ? `/v1/models/${encodeURIComponent(s.info.name)}` : `/v1/collections/${encodeURIComponent(s.info.name)}`;
  let m;
  try { m = await api(`${base}/map?${p}`); } catch (e) { $("mapinfo").textContent = `(${e.message})`; return; }
  {
    const sel = $("color"), cur = sel.value;
    sel.innerHTML = '<option value="">(none)</option>';
    for (const f of m.fields) sel.add(new Option(f, f));
    sel.value = m.fields.includes(cur) ? cur : "";
  }
  $("mapinfo").textContent = `(${m.points.length} points, ${m.method})`;
  if (!m.points.length) return;
  const xs = m.points.map((q) => q.x), ys = m.points.map((q) => q.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => 20 + (600 * (x - x0)) / (x1 - x0 || 1), sy = (y) => 460 - (440 * (y - y0)) / (y1 - y0 || 1);
  const col = colourOf(m.points.map((q) => q.color));
  const ns = "http://www.w3.org/2000/svg";
  const pts = [...m.points].sort((a, b) => Number(a.highlight) - Number(b.highlight));
  for (const q of pts) {
    const c = document.createElementNS(ns, "circle");
    const isQuery = state.query !== null && String(q.key) === String(state.query);
    c.setAttribute("cx", sx(q.x)); c.setAttribute("cy", sy(q.y));
    c.setAttribute("r", isQuery ? 7 : q.highlight ? 5.5 : 3);
    c.setAttribute("fill", isQuery ? "#dc2626" : col.f(q.color));
    c.setAttribute("fill-opacity", q.highlight || isQuery ? 1 : 0.55);
    if (q.highlight && !isQuery) { c.setAttribute("stroke", "#111"); c.setAttribute("stroke-width", 1.5); c.classList.add("neighbour"); }
    c.dataset.key = String(q.key);
    const t = document.createElementNS(ns, "title");
    t.textContent = `${q.key}${q.color !== null && q.color !== undefined ? " · " + q.color : ""}`;
    c.appendChild(t);
    c.onclick = () => { $("query").value = String(q.key); setKeyMode(); search(String(q.key)); };
    svg.appendChild(c);
  }
  $("legend").innerHTML = "";
  for (const [cat, colr] of col.map) {
    const span = document.createElement("span");
    span.innerHTML = `<i style="background:${colr}"></i>`;
    span.appendChild(document.createTextNode(cat));
    $("legend").appendChild(span);
  }
}

const nodeColours = colourOf(["C", "N", "O", "S", "P", "F", "Cl", "Br", "I", "H"]);

function nodeColour(label) {
  if (label === null || label === undefined) return "#9ca3af";
  if (!nodeColours.map.has(String(label))) nodeColours.map.set(String(label), PALETTE[nodeColours.map.size % PALETTE.length]);
  return nodeColours.map.get(String(label));
}

function drawGraph(g, title) {
  const ns = "http://www.w3.org/2000/svg", size = 110, r = 40;
  const fig = document.createElement("figure");
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", size); svg.setAttribute("height", size);
  const pos = new Map(g.nodes.map((n, i) => [String(n.id), [size / 2 + r * Math.cos((2 * Math.PI * i) / g.nodes.length),
                                                         size / 2 + r * Math.sin((2 * Math.PI * i) / g.nodes.length)]]));
  for (const e of g.edges) {
    const [a, b] = [pos.get(String(e.source)), pos.get(String(e.target))];
    const l = document.createElementNS(ns, "line");
    l.setAttribute("x1", a[0]); l.setAttribute("y1", a[1]); l.setAttribute("x2", b[0]); l.setAttribute("y2", b[1]);
    l.setAttribute("stroke", "#555"); svg.appendChild(l);
  }
  for (const n of g.nodes) {
    const [x, y] = pos.get(String(n.id));
    const c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", 6); c.setAttribute("fill", nodeColour(n.label));
    const t = document.createElementNS(ns, "title"); t.textContent = n.label ?? String(n.id); c.appendChild(t);
    svg.appendChild(c);
  }
  fig.appendChild(svg);
  const cap = document.createElement("figcaption"); cap.textContent = title; fig.appendChild(cap);
  return fig;
}

async function drawGraphs(s) {
  const box = $("graphs");
  box.innerHTML = "";
  if (s.type !== "model" || s.info.item_type !== "graph") return;
  const name = encodeURIComponent(s.info.name);
  const keys = (state.query ? [state.query] : []).concat(state.neighbours.slice(0, 5).map((h) => h.key));
  for (const [i, key] of keys.entries()) {
    try {
      const g = await api(`/v1/models/${name}/graphs/${encodeURIComponent(String(key))}`);
      box.appendChild(drawGraph(g, i === 0 && state.query ? `query ${key}` : String(key)));
    } catch (e) { status(e.message); }
  }
}

$("source").onchange = onSource;
$("go").onclick = () => search($("query").value);
$("query").onkeydown = (e) => { if (e.key === "Enter") search($("query").value); };
$("color").onchange = () => drawMap(state.neighbours.map((h) => h.key).concat(state.query ? [state.query] : []));
$("method").onchange = $("color").onchange;
loadSources().catch((e) => status(e.message));
