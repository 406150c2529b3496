/* The flow designer (/build/flows/<name>): an AntV X6 canvas over a flow definition.

   The palette is the node-type registry (GET /api/v1/flows/design/node-types, also in
   the page data): a type's properties form is generated from its config JSON Schema, so
   a plugin's type is drawn and configured with no code here. Approval steps get an
   approver picker (users, roles, the record's fields, manager levels). Edges leaving a
   gateway get a condition from the condition builder (condition.js) and a default flag.
   Every change is checked by the server (debounced POST .../check); its problems are
   marked on the node or edge they name, and Publish stays disabled until there are
   none. Publishing is PUT /api/v1/meta/flow/<name> with the version the editor started
   from, so a stale publish is refused (409). Text from definitions goes into the page
   only as text nodes, values or SVG text attributes, never as HTML. */
(function () {
  "use strict";
  const T = window.Tessera;
  const { text, labels } = T;
  const { t, api, toast, el, lang } = T;
  const root = document.getElementById("flow-designer");
  if (!root || !window.X6) return;
  const data = JSON.parse(document.getElementById("flow-data").textContent);
  const { Graph, Dnd, Snapline, Selection, History } = window.X6;
  const $ = (id) => document.getElementById(id);
  const KEY = /^[a-z][a-z0-9_]*$/;
  const DESIGN = "/api/v1/flows/design";
  const GRID = 10;
  const COLORS = { stroke: "#5b6b8c", error: "#c0392b", path: "#2d7d46", selected: "#3867d6" };

  const types = {};
  for (const item of data.palette) types[item.ref] = item;
  const found = data.found;
  const base = found ? JSON.parse(JSON.stringify(found.definition)) : { name: data.name, label: { en: data.name }, nodes: {}, edges: [] };
  let version = found ? found.version : null;
  const flow = {
    label: base.label || { en: data.name },
    entity: base.entity || "",
    // always an object here; definition() writes it out only when an event is ticked
    trigger: Object.assign({ on: [] }, base.trigger || {}),
    extra: Object.fromEntries(Object.entries(base).filter(([k]) => !["name", "label", "entity", "trigger", "nodes", "edges"].includes(k))),
  };
  let problems = [];
  let checking = false;
  let people = { users: [], roles: [], fields: [] };
  let selected = null;

  // ------------------------------------------------------------ helpers


  function typeOf(typeText) {
    const [name, v] = String(typeText || "").split("@");
    return types[`${name}@${v || 1}`] || null;
  }

  function isGateway(type) { return !!(type && type.gateway); }

  // ------------------------------------------------------------ the canvas

  const graph = new Graph({
    container: $("flow-canvas"),
    width: $("flow-canvas").clientWidth || 800,
    height: $("flow-canvas").clientHeight || 520,
    grid: { size: GRID, visible: true },
    panning: { enabled: true },
    mousewheel: { enabled: true, modifiers: null, zoomAtMousePosition: true, minScale: 0.3, maxScale: 2.5 },
    connecting: {
      snap: { radius: 30 },
      allowBlank: false,
      allowLoop: false,
      allowNode: false,
      allowEdge: false,
      allowMulti: false,
      highlight: true,
      connector: { name: "rounded" },
      router: { name: "manhattan", args: { padding: 12 } },
      createEdge() {
        return this.createEdge({ shape: "edge", attrs: edgeAttrs(), data: {}, zIndex: 0 });
      },
      validateConnection({ sourceCell, targetCell, sourceMagnet, targetMagnet }) {
        if (!sourceMagnet || !targetMagnet || sourceCell === targetCell) return false;
        return sourceMagnet.getAttribute("port-group") === "out" && targetMagnet.getAttribute("port-group") === "in";
      },
    },
    highlighting: {
      magnetAvailable: { name: "stroke", args: { attrs: { "stroke-width": 3, stroke: "#8fb3ff" } } },
      magnetAdsorbed: { name: "stroke", args: { attrs: { "stroke-width": 4, stroke: COLORS.selected } } },
    },
  });
  window.addEventListener("resize", () => graph.resize($("flow-canvas").clientWidth, $("flow-canvas").clientHeight));
  graph.use(new Snapline({ enabled: true }));
  const selection = new Selection({ enabled: true, multiple: false, rubberband: false, showNodeSelectionBox: true, showEdgeSelectionBox: false, pointerEvents: "none" });
  graph.use(selection);
  // Undo and redo cover the drawing and every property (a cell's data); the colours the
  // checker and the dry run paint (attrs) and the captions made from data are not edits.
  const NOT_EDITS = ["attrs", "labels", "tools", "zIndex"];
  const history = new History({
    enabled: true,
    beforeAddCommand(event, args) { return !(args && NOT_EDITS.includes(args.key)); },
  });
  graph.use(history);

  function edgeAttrs() {
    return { line: { stroke: COLORS.stroke, strokeWidth: 1.5, targetMarker: { name: "classic", size: 8 } } };
  }

  function port(group) {
    return {
      position: group === "in" ? "left" : "right",
      attrs: { circle: { r: 6, magnet: true, stroke: COLORS.stroke, strokeWidth: 1.5, fill: "#fff" } },
    };
  }

  function portItems(type) {
    const items = [];
    if (!type || type.inputs.max !== 0) items.push({ id: "in", group: "in" });
    if (!type || type.outputs.max !== 0) items.push({ id: "out", group: "out" });
    return items;
  }

  /** The X6 node description of a flow node (shape by kind, label, ports). */
  function nodeMeta(key, raw, position) {
    const type = typeOf(raw.type);
    const gateway = isGateway(type);
    const round = type && (type.name === "start" || type.name === "end");
    const caption = text(raw.label, "") || (type ? text(type.label, type.name) : raw.type);
    return {
      id: key,
      shape: gateway ? "polygon" : "rect",
      x: position.x,
      y: position.y,
      width: gateway ? 64 : 140,
      height: gateway ? 64 : 44,
      zIndex: 1,
      attrs: {
        body: Object.assign(
          { fill: gateway ? "#fff8e1" : round ? "#eef6ee" : "#fff", stroke: COLORS.stroke, strokeWidth: 1.5 },
          gateway ? { refPoints: "0,10 10,0 20,10 10,20" } : { rx: round ? 22 : 6, ry: round ? 22 : 6 }),
        label: { text: gateway ? "" : caption, fontSize: 12, fill: "#223", textWrap: { width: -14, ellipsis: true } },
      },
      ports: { groups: { in: port("in"), out: port("out") }, items: portItems(type) },
      data: { key, type: raw.type, label: raw.label, config: raw.config || {}, extra: raw.extra || {} },
    };
  }

  function refreshNode(node) {
    const d = node.getData();
    const type = typeOf(d.type);
    if (isGateway(type)) return decorateGateway(node);
    node.attr("label/text", text(d.label, "") || (type ? text(type.label, type.name) : d.type));
  }

  /** Replace a cell's data (X6 merges deeply by default, which would keep removed keys). */
  function patch(cell, values) {
    cell.setData(Object.assign({}, cell.getData() || {}, values), { overwrite: true });
  }

  function edgeCaption(d) {
    if (d.label) return text(d.label, "");
    if (d.default) return t("default");
    if (d.when) return d.when.length > 28 ? d.when.slice(0, 27) + "…" : d.when;
    if (d.outcome) return t(d.outcome === "approve" ? "approve" : d.outcome === "reject" ? "reject" : d.outcome);
    return "";
  }

  function refreshEdge(edge) {
    const caption = edgeCaption(edge.getData() || {});
    edge.setLabels(caption ? [{ attrs: { label: { text: caption, fontSize: 11, fill: "#334" }, body: { fill: "#fff", stroke: "none" } } }] : []);
  }

  // Gateways are diamonds with their caption beneath.
  function decorateGateway(node) {
    const d = node.getData();
    const type = typeOf(d.type);
    if (!isGateway(type)) return;
    const caption = text(d.label, "") || text(type.label, type.name);
    node.attr("label", { text: caption, refY: 1.0, refY2: 10, textVerticalAnchor: "top", fontSize: 11, fill: "#223" });
  }

  // ------------------------------------------------------------ load the definition

  function load(def) {
    const keys = Object.keys(def.nodes || {});
    const placed = keys.filter((k) => def.nodes[k].position);
    let i = 0;
    for (const key of keys) {
      const raw = def.nodes[key];
      const extra = Object.fromEntries(Object.entries(raw).filter(([k]) => !["type", "label", "config", "position"].includes(k)));
      const pos = raw.position || { x: 40 + (i % 5) * 180, y: 40 + Math.floor(i / 5) * 110 };
      i += 1;
      const node = graph.addNode(nodeMeta(key, { ...raw, extra }, pos));
      decorateGateway(node);
    }
    (def.edges || []).forEach((raw) => {
      const e = Array.isArray(raw) ? { from: raw[0], to: raw[1] } : raw;
      if (!graph.getCellById(e.from) || !graph.getCellById(e.to)) return;
      const d = {};
      for (const k of ["when", "default", "outcome", "label"]) if (e[k] !== undefined) d[k] = e[k];
      d.written = Array.isArray(raw) ? "pair" : "object";
      const edge = graph.addEdge({ shape: "edge", source: { cell: e.from, port: "out" }, target: { cell: e.to, port: "in" }, attrs: edgeAttrs(), data: d, zIndex: 0 });
      refreshEdge(edge);
    });
    if (keys.length && placed.length < keys.length) autoLayout();
    else if (keys.length) graph.zoomToFit({ padding: 30, maxScale: 1 });
  }

  // ------------------------------------------------------------ the definition out

  /** The draft as a flow definition; node positions ride along in ``position``. */
  function definition() {
    const out = { name: data.name, label: flow.label };
    if (flow.entity) out.entity = flow.entity;
    Object.assign(out, flow.extra);
    const on = [].concat(flow.trigger.on || []);
    if (on.length) {
      out.trigger = { on: base.trigger && !Array.isArray(base.trigger.on) && on.length === 1 ? on[0] : on };
      if (flow.trigger.when) out.trigger.when = flow.trigger.when;
    }
    out.nodes = {};
    for (const node of graph.getNodes()) {
      const d = node.getData();
      const p = node.position();
      const raw = { type: d.type };
      if (d.label) raw.label = d.label;
      if (d.config && Object.keys(d.config).length) raw.config = d.config;
      Object.assign(raw, d.extra || {});
      raw.position = { x: Math.round(p.x), y: Math.round(p.y) };
      out.nodes[d.key] = raw;
    }
    out.edges = graph.getEdges().map((edge) => {
      const d = edge.getData() || {};
      const from = keyOf(edge.getSourceCellId());
      const to = keyOf(edge.getTargetCellId());
      const rest = {};
      if (d.when) rest.when = d.when;
      if (d.default) rest.default = true;
      if (d.outcome) rest.outcome = d.outcome;
      if (d.label) rest.label = d.label;
      if (!Object.keys(rest).length && d.written !== "object") return [from, to];
      return Object.assign({ from, to }, rest);
    });
    return out;
  }

  function keyOf(cellId) {
    const cell = graph.getCellById(cellId);
    return cell ? cell.getData().key : cellId;
  }

  function cellOfKey(key) {
    return graph.getNodes().find((n) => n.getData().key === key) || null;
  }

  function edgeAt(index) {
    return graph.getEdges()[index] || null;
  }

  // ------------------------------------------------------------ the palette

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    const use = document.createElementNS(ns, "use");
    use.setAttribute("href", "/vendor/icons.svg#" + name);
    svg.append(use);
    return svg;
  }

  const dnd = new Dnd({
    target: graph,
    scaled: false,
    getDropNode(dragging) {
      const d = dragging.getData();
      const key = freshKey(d.type.split("@")[0]);
      const p = dragging.position();
      const node = graph.createNode(nodeMeta(key, { type: d.type }, { x: Math.round(p.x / GRID) * GRID, y: Math.round(p.y / GRID) * GRID }));
      return node;
    },
  });

  function freshKey(stem) {
    const taken = new Set(graph.getNodes().flatMap((n) => [n.getData().key, n.id]));
    if (!taken.has(stem)) return stem;
    let i = 2;
    while (taken.has(`${stem}_${i}`)) i += 1;
    return `${stem}_${i}`;
  }

  const paletteList = $("palette");
  for (const item of data.palette) {
    const typeText = item.version === 1 ? item.name : item.ref;
    const li = el("li", { class: "palette-item", tabindex: "0", dataset: { type: item.name, ref: item.ref }, title: text(item.label, item.name) },
      icon(item.icon), el("span", {}, text(item.label, item.name)),
      item.module.startsWith("engine.") ? null : el("span", { class: "plugin" }, t("plugin")));
    li.addEventListener("mousedown", (event) => {
      const node = graph.createNode(nodeMeta("dragging", { type: typeText }, { x: 0, y: 0 }));
      dnd.start(node, event);
    });
    li.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const area = graph.getGraphArea();
      const node = graph.addNode(nodeMeta(freshKey(item.name), { type: typeText }, { x: Math.round((area.x + 40) / GRID) * GRID, y: Math.round((area.y + 40) / GRID) * GRID }));
      decorateGateway(node);
      selection.reset(node);
    });
    paletteList.append(li);
  }

  let loading = false;
  graph.on("node:added", ({ node }) => {
    if (loading) return;
    decorateGateway(node);
    changed();
    setTimeout(() => selection.reset(node), 0);
  });
  graph.on("node:removed", () => changed());
  graph.on("edge:removed", () => changed());
  graph.on("node:moved", () => changed(false));
  graph.on("edge:connected", ({ edge }) => {
    refreshEdge(edge);
    changed();
    selection.reset(edge);
  });
  graph.on("cell:selected", ({ cell }) => { selected = cell; showProps(); });
  graph.on("cell:unselected", () => { selected = null; showProps(); });
  graph.on("blank:click", () => { selection.clean(); selected = null; showProps(); });

  // ------------------------------------------------------------ zoom and layout

  $("zoom-in").addEventListener("click", () => graph.zoom(0.15));
  $("zoom-out").addEventListener("click", () => graph.zoom(-0.15));
  $("zoom-fit").addEventListener("click", () => graph.zoomToFit({ padding: 30, maxScale: 1.2 }));
  $("auto-layout").addEventListener("click", () => { autoLayout(); changed(false); });

  /** Left-to-right layers by dagre; every node is moved, snapped to the grid. */
  function autoLayout() {
    const g = new window.dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 70, marginx: 30, marginy: 30 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const node of graph.getNodes()) {
      const size = node.size();
      g.setNode(node.id, { width: size.width, height: size.height + (isGateway(typeOf(node.getData().type)) ? 24 : 0) });
    }
    for (const edge of graph.getEdges()) g.setEdge(edge.getSourceCellId(), edge.getTargetCellId());
    window.dagre.layout(g);
    graph.startBatch("layout"); // one step to undo
    for (const node of graph.getNodes()) {
      const at = g.node(node.id);
      const size = node.size();
      node.position(Math.round((at.x - size.width / 2) / GRID) * GRID, Math.round((at.y - size.height / 2) / GRID) * GRID);
    }
    graph.stopBatch("layout");
    graph.zoomToFit({ padding: 30, maxScale: 1 });
  }

  // ------------------------------------------------------------ delete, undo, redo

  function removeSelected() {
    if (!selected) return;
    const cell = selected;
    selection.clean();
    selected = null;
    graph.startBatch("delete"); // a node and its edges go, and come back, as one edit
    if (cell.isNode()) for (const edge of graph.getConnectedEdges(cell)) graph.removeCell(edge);
    graph.removeCell(cell);
    graph.stopBatch("delete");
    showProps();
  }

  /** After an undo or redo: captions, gateways and the panel follow the restored data. */
  function afterHistory() {
    for (const node of graph.getNodes()) refreshNode(node);
    for (const edge of graph.getEdges()) refreshEdge(edge);
    if (selected && !graph.getCellById(selected.id)) selected = null;
    showProps();
    changed();
    setHistoryButtons();
  }

  function undo() { if (history.canUndo()) { history.undo(); afterHistory(); } }
  function redo() { if (history.canRedo()) { history.redo(); afterHistory(); } }

  function setHistoryButtons() {
    $("undo").disabled = !history.canUndo();
    $("redo").disabled = !history.canRedo();
  }

  history.on("change", setHistoryButtons);
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  // Keys act on the canvas, never while the user types in a field of the page.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable)) return;
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && (key === "z" || key === "y")) {
      event.preventDefault();
      if (key === "y" || event.shiftKey) redo();
      else undo();
    } else if ((event.key === "Delete" || event.key === "Backspace") && selected) {
      event.preventDefault();
      removeSelected();
    }
  });

  // ------------------------------------------------------------ checking

  let checkTimer = null;
  let ticket = 0;
  let dirty = false;

  function changed(recheck) {
    dirty = true;
    clearDry();
    if (recheck === false) return;
    checking = true;
    setPublish();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(runCheck, 400);
  }

  async function runCheck() {
    const mine = ++ticket;
    const status = $("check-status");
    status.className = "status-line";
    status.textContent = t("Checking…");
    try {
      const answer = await api("POST", `${DESIGN}/${encodeURIComponent(data.name)}/check`, { definition: definition() });
      if (mine !== ticket) return;
      problems = answer.errors;
    } catch (err) {
      if (mine !== ticket) return;
      problems = err.errors.length ? err.errors : [{ message: err.message }];
    }
    checking = false;
    showProblems();
  }

  function problemTarget(p) {
    if (p.edge) return edgeAt(p.edge.index);
    if (p.node) return cellOfKey(p.node);
    return null;
  }

  function showProblems() {
    for (const node of graph.getNodes()) node.attr({ body: { stroke: COLORS.stroke, strokeWidth: 1.5 } });
    for (const edge of graph.getEdges()) edge.attr("line/stroke", COLORS.stroke);
    const list = $("problems");
    list.replaceChildren();
    for (const p of problems) {
      const target = problemTarget(p);
      if (target && target.isNode()) {
        target.attr("body/stroke", COLORS.error);
        target.attr("body/strokeWidth", 2.5);
      } else if (target) {
        target.attr("line/stroke", COLORS.error);
      }
      const li = el("li", { tabindex: "0", dataset: { node: p.node || "", edge: p.edge ? `${p.edge.from}->${p.edge.to}` : "" } }, p.message);
      const pick = () => { if (target) { selection.reset(target); graph.centerCell(target); } };
      li.addEventListener("click", pick);
      li.addEventListener("keydown", (e) => { if (e.key === "Enter") pick(); });
      list.append(li);
    }
    $("no-problems").hidden = problems.length > 0;
    const status = $("check-status");
    status.className = "status-line " + (problems.length ? "bad" : "good");
    status.textContent = problems.length ? t("{n} problem(s) to fix before publishing", { n: problems.length }) : t("Ready to publish");
    root.dataset.problems = String(problems.length);
    root.dataset.checked = String(ticket);
    setPublish();
    itemErrors();
  }

  function setPublish() {
    $("publish").disabled = checking || problems.length > 0;
  }

  // ------------------------------------------------------------ properties

  function field(labelText, input, cls) {
    return el("label", { class: "prop" + (cls ? " " + cls : "") }, el("span", {}, labelText), input);
  }

  function check(labelText, box) {
    return el("label", { class: "prop check" }, box, " ", labelText);
  }

  function showProps() {
    const body = $("props-body");
    body.replaceChildren();
    if (selected && selected.isNode()) nodeProps(selected, body);
    else if (selected && selected.isEdge()) edgeProps(selected, body);
    else flowProps(body);
    itemErrors();
  }

  /** The problems of the selected item (or of the flow itself), above its properties. */
  function itemErrors() {
    const box = $("item-errors");
    if (!box) return;
    let match = (p) => !p.node && !p.edge;
    if (selected && selected.isNode()) {
      const key = selected.getData().key;
      match = (p) => !p.edge && p.node === key;
    } else if (selected && selected.isEdge()) {
      const index = graph.getEdges().indexOf(selected);
      match = (p) => p.edge && p.edge.index === index;
    }
    box.replaceChildren(...problems.filter(match).map((p) => el("li", {}, p.message)));
    box.hidden = !box.children.length;
  }

  function itemProblems() {
    return el("ul", { class: "item-errors", id: "item-errors", role: "alert", hidden: true });
  }

  function flowProps(body) {
    $("props-title").textContent = t("Flow");
    const en = el("input", { id: "flow-label-en" });
    const zh = el("input", { id: "flow-label-zh" });
    en.value = text(flow.label && flow.label.en, typeof flow.label === "string" ? flow.label : "");
    zh.value = (flow.label && flow.label["zh-CN"]) || "";
    const setLabel = () => { flow.label = labels(en.value.trim(), zh.value.trim()) || { en: data.name }; changed(); };
    en.addEventListener("input", setLabel);
    zh.addEventListener("input", setLabel);
    const entity = el("select", { id: "flow-entity" }, el("option", { value: "" }, t("(no record)")),
      data.entities.map((e) => el("option", { value: e.name, selected: e.name === flow.entity || null }, e.label)));
    entity.addEventListener("change", () => { flow.entity = entity.value; loadPeople(); changed(); });
    const on = [].concat(flow.trigger.on || []);
    const events = ["created", "updated", "deleted"].map((ev) => {
      const box = el("input", { type: "checkbox", value: ev, checked: on.includes(ev) || null });
      box.addEventListener("change", () => {
        flow.trigger.on = Array.from(body.querySelectorAll(".trigger-on input:checked")).map((b) => b.value);
        changed();
      });
      return el("label", {}, box, " ", t(ev === "created" ? "created" : ev === "updated" ? "updated" : "deleted"));
    });
    const when = el("div", { id: "trigger-when", class: "trigger-when" });
    const mountWhen = () => {
      when.replaceChildren();
      if (!flow.entity) {
        when.append(el("p", { class: "muted" }, t("Pick the flow's record type first.")));
        return;
      }
      T.conditionBuilder(when, {
        entity: flow.entity,
        text: flow.trigger.when || "",
        onChange: (value) => { flow.trigger.when = value.trim() || undefined; changed(); },
      });
    };
    entity.addEventListener("change", mountWhen);
    mountWhen();
    body.append(
      field(t("Label (English)"), en), field(t("Label (Chinese)"), zh), field(t("Record type"), entity),
      el("fieldset", { class: "trigger-on" }, el("legend", {}, t("Start automatically when a record is")), events),
      el("h3", {}, t("…and this condition holds")), when,
      itemProblems(),
      el("p", { class: "muted" }, t("Pick a node or an edge on the canvas to edit it.")));
  }

  function nodeProps(node, body) {
    const d = node.getData();
    const type = typeOf(d.type);
    $("props-title").textContent = type ? text(type.label, type.name) : d.type;
    const key = el("input", { id: "node-key", value: d.key });
    key.addEventListener("change", () => {
      const next = key.value.trim();
      if (!KEY.test(next) || (next !== d.key && cellOfKey(next))) {
        key.setCustomValidity(t("Use a new name of lower-case letters, digits and underscores."));
        key.reportValidity();
        return;
      }
      key.setCustomValidity("");
      patch(node, { key: next });
      changed();
    });
    const en = el("input", { id: "node-label-en" });
    const zh = el("input", { id: "node-label-zh" });
    en.value = d.label ? text(typeof d.label === "string" ? d.label : d.label.en, "") : "";
    zh.value = d.label && typeof d.label === "object" ? d.label["zh-CN"] || "" : "";
    const setLabel = () => {
      patch(node, { label: labels(en.value.trim(), zh.value.trim()) || null });
      refreshNode(node);
      changed();
    };
    en.addEventListener("input", setLabel);
    zh.addEventListener("input", setLabel);
    const errors = itemProblems();
    const config = JSON.parse(JSON.stringify(d.config || {}));
    const save = () => { patch(node, { config: prune(config) }); changed(); };
    const form = type ? schemaForm(type.config_schema || {}, config, save, "config") : el("p", { class: "form-error" }, t("This node type is not installed."));
    const remove = el("button", { type: "button", class: "danger", id: "delete-item" }, t("Delete node"));
    remove.addEventListener("click", removeSelected);
    body.append(errors, field(t("Name"), key), field(t("Label (English)"), en), field(t("Label (Chinese)"), zh),
      el("div", { class: "node-config", dataset: { type: type ? type.name : "" } }, form), remove);
  }

  function edgeProps(edge, body) {
    $("props-title").textContent = t("Edge");
    const d = edge.getData() || {};
    const source = graph.getCellById(edge.getSourceCellId());
    const sourceType = source ? typeOf(source.getData().type) : null;
    const from = keyOf(edge.getSourceCellId());
    const to = keyOf(edge.getTargetCellId());
    body.append(el("p", { class: "muted" }, `${from} → ${to}`), itemProblems());
    const update = (patch) => {
      const next = Object.assign({}, edge.getData() || {}, patch);
      for (const k of Object.keys(next)) if (next[k] === undefined || next[k] === null || next[k] === "" || next[k] === false) delete next[k];
      edge.setData(next, { overwrite: true });
      refreshEdge(edge);
      changed();
    };
    if (sourceType && sourceType.conditional) {
      const dflt = el("input", { type: "checkbox", id: "edge-default", checked: d.default || null });
      const condBox = el("div", { class: "edge-condition", id: "edge-condition" });
      dflt.addEventListener("change", () => { update({ default: dflt.checked, when: dflt.checked ? undefined : (edge.getData() || {}).when }); condBox.hidden = dflt.checked; });
      body.append(check(t("Default path (taken when no condition holds)"), dflt));
      body.append(el("h3", {}, t("Condition")), condBox);
      condBox.hidden = !!d.default;
      if (flow.entity) {
        T.conditionBuilder(condBox, { entity: flow.entity, text: d.when || "", onChange: (value) => update({ when: value.trim() || undefined }) });
      } else {
        condBox.append(el("p", { class: "muted" }, t("Pick the flow's record type first.")));
      }
    }
    if (sourceType && sourceType.outcomes.length) {
      const outcome = el("select", { id: "edge-outcome" }, el("option", { value: "" }, t("(unmarked)")),
        sourceType.outcomes.map((o) => el("option", { value: o, selected: o === d.outcome || null }, t(o === "approve" ? "approve" : o === "reject" ? "reject" : o))));
      outcome.addEventListener("change", () => update({ outcome: outcome.value || undefined }));
      body.append(field(t("Taken on the outcome"), outcome));
    }
    const en = el("input", { id: "edge-label-en" });
    en.value = d.label ? text(typeof d.label === "string" ? d.label : d.label.en, "") : "";
    const zh = el("input", { id: "edge-label-zh" });
    zh.value = d.label && typeof d.label === "object" ? d.label["zh-CN"] || "" : "";
    const setLabel = () => update({ label: labels(en.value.trim(), zh.value.trim()) });
    en.addEventListener("input", setLabel);
    zh.addEventListener("input", setLabel);
    const remove = el("button", { type: "button", class: "danger", id: "delete-item" }, t("Delete edge"));
    remove.addEventListener("click", removeSelected);
    body.append(field(t("Label (English)"), en), field(t("Label (Chinese)"), zh), remove);
  }

  // ------------------------------------------------------------ JSON Schema forms

  /** Empty strings, empty lists and empty objects are left out of a config. */
  function prune(value) {
    if (Array.isArray(value)) return value;
    if (value && typeof value === "object") {
      const out = {};
      for (const [k, v] of Object.entries(value)) {
        const p = prune(v);
        if (p === undefined || p === "" || p === null) continue;
        if (typeof p === "object" && !Array.isArray(p) && !Object.keys(p).length) continue;
        if (Array.isArray(p) && !p.length) continue;
        out[k] = p;
      }
      return out;
    }
    return value;
  }

  function isAssignee(schema) {
    const props = (schema && schema.properties) || {};
    return "manager_of" in props && "role" in props && "user" in props;
  }

  function title(schema, key) {
    return schema.title || key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  /** A form for ``schema`` editing ``target[key]`` (or the object ``target`` itself at the top). */
  function schemaForm(schema, target, onChange, path) {
    const box = el("div", { class: "schema-form", dataset: { path } });
    const props = schema.properties || {};
    const required = new Set(schema.required || []);
    for (const [key, sub] of Object.entries(props)) {
      box.append(propertyInput(key, sub, target, onChange, `${path}.${key}`, required.has(key)));
    }
    if (!Object.keys(props).length && schema.additionalProperties === false) {
      box.append(el("p", { class: "muted" }, t("This step has nothing to set.")));
    }
    return box;
  }

  function propertyInput(key, schema, target, onChange, path, required) {
    const name = title(schema, key) + (required ? " *" : "");
    const id = "f-" + path.replace(/[^a-z0-9_]/gi, "-");
    const value = target[key];
    if (isAssignee(schema)) {
      return el("fieldset", { class: "assignee", dataset: { path } }, el("legend", {}, name),
        approverPicker(value || {}, (next) => { target[key] = next; onChange(); }, id));
    }
    if (schema.enum) {
      const select = el("select", { id, dataset: { path } }, el("option", { value: "" }, schema.default !== undefined ? t("(default: {value})", { value: schema.default }) : "—"),
        schema.enum.map((o) => el("option", { value: JSON.stringify(o), selected: JSON.stringify(o) === JSON.stringify(value) || null }, String(o))));
      select.addEventListener("change", () => { target[key] = select.value ? JSON.parse(select.value) : undefined; onChange(); });
      return field(name, select);
    }
    if (schema.const === true || schema.type === "boolean") {
      const box = el("input", { type: "checkbox", id, dataset: { path }, checked: (value === undefined ? schema.default === true : value === true) || null });
      box.addEventListener("change", () => { target[key] = box.checked ? true : schema.const === true ? undefined : false; onChange(); });
      return check(name, box);
    }
    if (schema.type === "string") {
      const input = el("input", { id, dataset: { path }, type: "text", placeholder: schema.pattern && key === "after" ? "48h" : null });
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("input", () => { target[key] = input.value === "" ? undefined : input.value; onChange(); });
      return field(name, input);
    }
    if (schema.type === "integer" || schema.type === "number") {
      const input = el("input", { id, dataset: { path }, type: "number", step: schema.type === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum, placeholder: schema.default });
      input.value = value === undefined ? "" : String(value);
      input.addEventListener("input", () => {
        const n = input.value === "" ? undefined : Number(input.value);
        target[key] = n === undefined || Number.isNaN(n) ? undefined : n;
        onChange();
      });
      return field(name, input);
    }
    if (schema.type === "array" && schema.items && (schema.items.type === "string" || schema.items.enum)) {
      if (schema.items.enum) {
        const chosen = new Set(Array.isArray(value) ? value : []);
        const boxes = schema.items.enum.map((o) => {
          const b = el("input", { type: "checkbox", value: o, checked: chosen.has(o) || null });
          b.addEventListener("change", () => {
            target[key] = Array.from(fs.querySelectorAll("input:checked")).map((x) => x.value);
            onChange();
          });
          return el("label", {}, b, " ", String(o));
        });
        const fs = el("fieldset", { dataset: { path } }, el("legend", {}, name), boxes);
        return fs;
      }
      const area = el("textarea", { id, dataset: { path }, rows: 2, placeholder: t("One per line") });
      area.value = Array.isArray(value) ? value.join("\n") : "";
      area.addEventListener("input", () => {
        target[key] = area.value.split("\n").map((s) => s.trim()).filter(Boolean);
        onChange();
      });
      return field(name, area);
    }
    if (schema.type === "object" && schema.properties) {
      const inner = value && typeof value === "object" ? value : {};
      target[key] = inner;
      return el("fieldset", { dataset: { path } }, el("legend", {}, name), schemaForm(schema, inner, onChange, path));
    }
    // anything else (maps, labels, unions): edit as JSON, checked by the server
    const area = el("textarea", { id, dataset: { path }, rows: 2, spellcheck: "false", placeholder: "JSON" });
    area.value = value === undefined ? "" : JSON.stringify(value);
    area.addEventListener("input", () => {
      if (!area.value.trim()) { target[key] = undefined; area.setCustomValidity(""); onChange(); return; }
      try {
        target[key] = JSON.parse(area.value);
        area.setCustomValidity("");
        onChange();
      } catch (err) {
        area.setCustomValidity(t("Not valid JSON"));
        area.reportValidity();
      }
    });
    return field(name + " " + t("(JSON)"), area);
  }

  // ------------------------------------------------------------ the approver picker

  const WHO = [
    ["role", () => t("A role")],
    ["roles", () => t("Several roles (one task each)")],
    ["user", () => t("A user")],
    ["users", () => t("Several users")],
    ["manager_of", () => t("A manager")],
    ["field", () => t("A user field of the record")],
    ["initiator", () => t("Whoever started the flow")],
  ];

  function approverPicker(value, onChange, id) {
    const kind = Object.keys(value).find((k) => k !== "levels") || "";
    const select = el("select", { id: id + "-kind", class: "who-kind" }, el("option", { value: "" }, "—"),
      WHO.map(([k, label]) => el("option", { value: k, selected: k === kind || null }, label())));
    const slot = el("div", { class: "who-slot" });
    const box = el("div", { class: "approver-picker" }, select, slot);
    let current = Object.assign({}, value);

    function emit() { onChange(Object.keys(current).length ? current : undefined); }

    function choices(list, multiple, chosen, nameOf, labelOf, cls) {
      if (!multiple) {
        const s = el("select", { class: cls }, el("option", { value: "" }, "—"),
          list.map((x) => el("option", { value: nameOf(x), selected: nameOf(x) === chosen || null }, labelOf(x))));
        return s;
      }
      const set = new Set(chosen || []);
      return el("div", { class: "who-choices " + cls }, list.map((x) =>
        el("label", {}, el("input", { type: "checkbox", value: nameOf(x), checked: set.has(nameOf(x)) || null }), " ", labelOf(x))));
    }

    function fill() {
      const k = select.value;
      slot.replaceChildren();
      if (!k) { current = {}; emit(); return; }
      const userLabel = (u) => (u.label ? `${u.label} (${u.name})` : u.name);
      const roleLabel = (r) => `${text(r.label, r.name)} (${r.name})`;
      let input;
      if (k === "role" || k === "roles") {
        input = choices(people.roles, k === "roles", current[k], (r) => r.name, roleLabel, "who-role");
      } else if (k === "user" || k === "users") {
        input = choices(people.users, k === "users", current[k], (u) => u.name, userLabel, "who-user");
      } else if (k === "field") {
        input = choices(people.fields.filter((f) => f.user), false, current.field, (f) => f.key, (f) => text(f.label, f.key), "who-field");
      } else if (k === "manager_of") {
        const of = choices([{ key: "initiator", label: t("whoever started the flow") }, ...people.fields.filter((f) => f.user)],
          false, current.manager_of, (f) => f.key, (f) => text(f.label, f.key), "who-manager-of");
        const levels = el("input", { type: "number", min: "1", max: "10", step: "1", class: "who-levels" });
        levels.value = current.levels || 1;
        const take = () => {
          current = { manager_of: of.value || "initiator" };
          const n = Number(levels.value);
          if (n > 1) current.levels = n;
          emit();
        };
        of.addEventListener("change", take);
        levels.addEventListener("input", take);
        slot.append(field(t("Manager of"), of), field(t("Levels up"), levels));
        if (!current.manager_of) take();
        return;
      } else if (k === "initiator") {
        current = { initiator: true };
        emit();
        return;
      }
      const take = () => {
        if (input.tagName === "SELECT") current = input.value ? { [k]: input.value } : {};
        else {
          const picked = Array.from(input.querySelectorAll("input:checked")).map((b) => b.value);
          current = picked.length ? { [k]: picked } : {};
        }
        emit();
      };
      input.addEventListener("change", take);
      slot.append(input);
      if (!(k in current)) { current = {}; take(); }
    }
    select.addEventListener("change", () => { current = {}; fill(); });
    peopleReady.then(fill);
    return box;
  }

  let peopleReady = Promise.resolve();
  function loadPeople() {
    const q = flow.entity ? "?entity=" + encodeURIComponent(flow.entity) : "";
    peopleReady = api("GET", `${DESIGN}/people${q}`).then((answer) => { people = answer; }).catch(() => {});
    return peopleReady;
  }

  // ------------------------------------------------------------ publish

  function showError(message) {
    const box = $("flow-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  $("publish").addEventListener("click", async () => {
    showError("");
    $("publish").disabled = true;
    try {
      const body = { definition: definition() };
      if (version !== null) body.version = version;
      const answer = await api("PUT", `/api/v1/meta/flow/${encodeURIComponent(data.name)}`, body);
      version = answer.version;
      dirty = false;
      showVersion();
      toast(answer.unchanged ? t("No changes to publish") : t("Published as version {version}", { version }));
      loadVersions();
    } catch (err) {
      if (err.status === 409) {
        showError(t("Someone else published this flow after you opened it. Reload to see their version, then make your change again."));
      } else if (err.errors.length) {
        problems = err.errors;
        showProblems();
        showError(t("The flow was not published: fix the problems listed under the canvas."));
      } else {
        showError(err.message);
      }
    } finally {
      setPublish();
    }
  });

  function showVersion() {
    $("base-version").textContent = version === null ? t("Not published yet") : t("Editing version {version}", { version });
  }

  window.addEventListener("beforeunload", (event) => { if (dirty) event.preventDefault(); });

  // ------------------------------------------------------------ versions in use

  async function loadVersions() {
    const tbody = $("versions-body");
    if (version === null) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "muted" }, t("Not published yet"))));
      return;
    }
    try {
      const answer = await api("GET", `${DESIGN}/${encodeURIComponent(data.name)}/versions`);
      tbody.replaceChildren(...answer.versions.slice().reverse().map((v) => el("tr", { dataset: { version: v.version } },
        el("td", {}, String(v.version), v.version === version ? " " + t("(live)") : ""),
        el("td", {}, v.on ? String(v.on).replace("T", " ").slice(0, 16) : ""),
        el("td", {}, v.by || (v.origin === "bundle" ? t("bundle") : "")),
        el("td", { class: "running" }, String(v.running)),
        el("td", { class: "finished" }, String(v.finished)))));
    } catch (err) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: "5", class: "form-error" }, err.message)));
    }
  }

  // ------------------------------------------------------------ dry run

  function clearDry() {
    for (const node of graph.getNodes()) node.attr("body/fill", nodeFill(node));
    for (const edge of graph.getEdges()) edge.attr("line/strokeWidth", 1.5);
    for (const edge of graph.getEdges()) if (edge.attr("line/stroke") === COLORS.path) edge.attr("line/stroke", COLORS.stroke);
    delete root.dataset.dryPath;
  }

  function nodeFill(node) {
    const type = typeOf(node.getData().type);
    if (isGateway(type)) return "#fff8e1";
    return type && (type.name === "start" || type.name === "end") ? "#eef6ee" : "#fff";
  }

  /** What each person step answers in the dry run (node key → outcome); approve if unset. */
  const dryOutcomes = {};

  function outcomeText(o) {
    return o === "approve" ? t("approve") : o === "reject" ? t("reject") : o;
  }

  function valueText(v) {
    if (v === null || v === undefined) return t("(empty)");
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  $("dry-clear").addEventListener("click", () => { clearDry(); $("dry-result").replaceChildren(); });
  $("dry-go").addEventListener("click", () => runDry());

  async function runDry() {
    const out = $("dry-result");
    const body = { definition: definition() };
    const id = $("dry-record").value.trim();
    const values = $("dry-values").value.trim();
    if (id) body.record_id = Number(id);
    else if (values) {
      try { body.values = JSON.parse(values); } catch (err) {
        out.replaceChildren(el("p", { class: "form-error", role: "alert" }, t("The field values are not valid JSON.")));
        return;
      }
    }
    const keys = new Set(graph.getNodes().map((n) => n.getData().key));
    body.outcomes = Object.fromEntries(Object.entries(dryOutcomes).filter(([k]) => keys.has(k)));
    out.replaceChildren(el("p", { class: "muted" }, t("Running…")));
    try {
      const answer = await api("POST", `${DESIGN}/${encodeURIComponent(data.name)}/dry-run`, body);
      showDry(answer);
    } catch (err) {
      const list = err.errors.length ? err.errors : [{ message: err.message }];
      out.replaceChildren(el("ul", { class: "form-error", role: "alert" }, list.map((e) => el("li", {}, e.message))));
    }
  }

  function showDry(answer) {
    const out = $("dry-result");
    clearDry();
    for (const key of answer.nodes) { const n = cellOfKey(key); if (n) n.attr("body/fill", "#d9f2df"); }
    for (const e of answer.edges) {
      const edge = edgeAt(e.index);
      if (edge) { edge.attr("line/stroke", COLORS.path); edge.attr("line/strokeWidth", 3); }
    }
    root.dataset.dryPath = answer.nodes.join(",");
    const asked = new Map(answer.people.map((a) => [a.node, a]));
    const decided = new Map(answer.decisions.map((d) => [d.node, d]));
    const steps = answer.nodes.map((key) => {
      const n = cellOfKey(key);
      const d = n ? n.getData() : { key };
      const type = n ? typeOf(d.type) : null;
      const a = asked.get(key);
      let who = null;
      if (a) {
        const names = [...a.users, ...a.roles.map((r) => t("role {role} ({users})", { role: r.role, users: r.users.join(", ") || t("nobody holds it") }))];
        who = el("div", { class: "asked" }, a.nobody ? t("Asks nobody: this step would fail") : t("Asks: {who}", { who: names.join("; ") }),
          a.fallback ? " " + t("(fallback)") : "");
      }
      let pick = null;
      const decision = decided.get(key);
      if (decision && decision.choices.length > 1) {
        const choice = el("select", { class: "dry-outcome", dataset: { node: key } },
          decision.choices.map((o) => el("option", { value: o, selected: o === decision.outcome || null }, outcomeText(o))));
        choice.addEventListener("change", () => { dryOutcomes[key] = choice.value; runDry(); });
        pick = el("label", { class: "dry-pick" }, t("Answer"), " ", choice);
      }
      const sets = answer.changes.filter((c) => c.node === key).map((c) => el("div", { class: "dry-set" + (c.error ? " form-error" : "") },
        c.error ? t("Cannot work out {field}: {error}", { field: c.field, error: c.error }) : t("Sets {field} to {value}", { field: c.field, value: valueText(c.value) })));
      return el("li", { dataset: { node: key } }, el("strong", {}, text(d.label, "") || key), " ",
        el("span", { class: "muted" }, type ? text(type.label, type.name) : ""), pick, who, sets);
    });
    const ending = [];
    if (answer.rejected) ending.push(el("p", { class: "dry-ending", dataset: { ending: "rejected" } }, t("Rejected at {node}: the flow ends there.", { node: answer.rejected })));
    if (answer.returned) ending.push(el("p", { class: "dry-ending", dataset: { ending: "returned" } }, t("Sent back at {node} to whoever started it.", { node: answer.returned })));
    if (answer.stuck.length) ending.push(el("p", { class: "form-error" }, t("Stops at {nodes}: no condition holds and there is no default path.", { nodes: answer.stuck.join(", ") })));
    out.replaceChildren(el("ol", { class: "dry-path" }, steps), ...ending,
      el("p", { class: "muted" }, t("Each step that asks someone is approved unless you pick another answer; the fields a step sets change the sample for the steps after it.")));
  }

  // ------------------------------------------------------------ start

  loading = true;
  load(base);
  loading = false;
  dirty = false;
  history.clean(); // loading is not an edit to undo
  setHistoryButtons();
  showVersion();
  loadPeople().then(() => showProps());
  loadVersions();
  if (graph.getNodes().length) {
    checking = true;
    runCheck();
  } else {
    problems = [];
    $("check-status").textContent = t("Drag a start node, the steps and an end onto the canvas.");
  }
  showProps();
  root.dataset.ready = "true";
})();
