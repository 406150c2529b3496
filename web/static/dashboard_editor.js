/* The dashboard editor: a gridstack grid where widgets from the palette (the reports the
   user may read, a number, a list) are dropped, moved and resized; a properties panel per
   widget; global filters, sharing and home pages; a live preview of every widget through
   POST /api/v1/dashboards/preview; saving through PUT /api/v1/meta/dashboard/<name> with
   the version the editor started from (409: someone else saved; reload).
   Text is always set as text (Tessera.el), never parsed as HTML. */
(function () {
  "use strict";
  const T = window.Tessera;
  const D = window.TesseraDashboard;
  const { t, el, api } = T;
  const root = document.getElementById("dashboard-editor");
  if (!root || !window.GridStack) return;
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const name = data.name;

  /** The global filters the editor offers: each maps to a filter of the definition. */
  const FILTERS = [
    { name: "period", type: "period", label: t("Period"), field: "created_on" },
    { name: "team", type: "text", label: t("Team"), field: "team" },
    { name: "region", type: "select", label: t("Region"), field: "region" },
    { name: "owner", type: "user", label: t("Owner"), field: "owner" },
  ];
  const KIND_LABELS = { report: t("Report"), number: t("Number"), kpi: t("Number"), list: t("List") };
  const CHART_LABELS = { bar: t("Bar"), stacked_bar: t("Stacked bar"), line: t("Line"), pie: t("Pie"), funnel: t("Funnel"), table: t("Table") };
  const AGG_LABELS = { count: t("Count"), count_distinct: t("Count distinct"), sum: t("Sum"), avg: t("Average"), min: t("Minimum"), max: t("Maximum") };

  const found = data.found;
  let version = found ? found.version : null;
  const start = found ? found.definition : { name, label: { en: name }, widgets: [] };
  /** Widgets by uid: {uid, def (without grid), el}; the definition's order is insertion order. */
  const widgets = [];
  let selected = null;
  let nextUid = 1;
  let extra = {}; // keys of the definition the editor does not edit (description, ...)

  const grid = window.GridStack.init({
    column: data.columns,
    cellHeight: D.CELL,
    margin: 6,
    float: true,
    resizable: { handles: "se,e,s" },
  }, document.getElementById("editor-grid"));

  // ------------------------------------------------------------ helpers

  function reportOf(nameOf) {
    return data.reports.find((r) => r.name === nameOf);
  }

  function entityOf(nameOf) {
    return data.entities.find((e) => e.name === nameOf);
  }

  function labelOf(def) {
    const own = def.label && (def.label[T.lang] || def.label.en || def.label["zh-CN"]);
    if (own) return own;
    if (def.report) return (reportOf(def.report) || { label: def.report }).label;
    return KIND_LABELS[kindOf(def)];
  }

  function kindOf(def) {
    return ["report", "number", "kpi", "list"].find((k) => k in def);
  }

  function slug(text) {
    return (text || "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40) || "widget";
  }

  function uniqueName(base) {
    const taken = new Set(widgets.map((w) => w.def.number || w.def.kpi || w.def.list));
    let n = 1;
    let out = base;
    while (taken.has(out)) out = `${base}_${++n}`;
    return out;
  }

  /** A new widget's definition for a palette entry. */
  function newDefinition(kind, reportName) {
    if (kind === "report") {
      const report = reportOf(reportName);
      const chart = report.type === "funnel" ? "funnel" : report.chart && data.charts.includes(report.chart) ? report.chart : "bar";
      return { report: reportName, chart };
    }
    const entity = data.entities.find((e) => e.name === "opportunity") || data.entities[0];
    if (kind === "number") return { number: uniqueName("number"), source: entity.name, agg: "count", compare: "previous_period" };
    const columns = defaultColumns(entity);
    return { list: uniqueName("list"), source: entity.name, columns, limit: 10 };
  }

  /** A list's first columns: the entity's title field, then the next two fields. */
  function defaultColumns(entity) {
    const names = entity.fields.map((f) => f.name);
    const first = names.includes(entity.title) ? [entity.title] : [];
    return first.concat(names.filter((n) => n !== entity.title)).slice(0, 3);
  }

  const SIZES = { report: [6, 4], number: [3, 2], kpi: [3, 2], list: [6, 4] };

  // ------------------------------------------------------------ widgets on the grid

  function addWidget(def, place) {
    const uid = nextUid++;
    const kind = kindOf(def);
    const [w, h] = SIZES[kind];
    const item = el("div", { class: "grid-stack-item", "data-uid": String(uid) });
    const content = el("div", { class: "grid-stack-item-content" });
    item.append(content);
    const entry = { uid, def, el: item };
    widgets.push(entry);
    document.getElementById("editor-grid").appendChild(item);
    const options = Object.assign({ w, h, id: String(uid) }, place || {});
    if (!place || place.x === undefined) options.autoPosition = true;
    grid.makeWidget(item, options);
    redraw(entry, null, null);
    item.addEventListener("pointerdown", () => select(entry));
    item.addEventListener("focusin", () => select(entry));
    document.getElementById("grid-empty").hidden = true;
    return entry;
  }

  /** The tile of one widget: its frame, filled with the preview's answer. */
  function redraw(entry, view, answer) {
    const content = entry.el.querySelector(".grid-stack-item-content");
    const index = widgets.indexOf(entry);
    const shown = view || { index, kind: kindOf(entry.def), label: labelOf(entry.def) };
    const section = D.frame(Object.assign({}, shown, { label: labelOf(entry.def), report: null }));
    content.className = section.className + " grid-stack-item-content";
    content.dataset.kind = shown.kind;
    content.dataset.index = String(index);
    content.replaceChildren(...section.childNodes);
    content.setAttribute("tabindex", "0");
    content.setAttribute("aria-label", labelOf(entry.def));
    D.fill(content, shown, answer, null);
    const problems = entry.problems || [];
    entry.el.classList.toggle("invalid", problems.length > 0);
    for (const problem of problems) content.append(el("p", { class: "widget-problem" }, problem));
  }

  function removeWidget(entry) {
    grid.removeWidget(entry.el, true);
    widgets.splice(widgets.indexOf(entry), 1);
    if (selected === entry) select(null);
    document.getElementById("grid-empty").hidden = widgets.length > 0;
    changed();
  }

  function select(entry) {
    if (selected === entry && entry) return;
    for (const w of widgets) w.el.classList.toggle("selected", w === entry);
    selected = entry;
    renderProps();
  }

  // ------------------------------------------------------------ the palette

  function paletteItem(kind, text, reportName, hint) {
    const [w, h] = SIZES[kind];
    const add = el("button", { type: "button", class: "add", title: t("Add to the grid"), "aria-label": t("Add {name} to the grid", { name: text }) }, "+");
    const item = el("li", { class: "palette-item", draggable: "true", "data-kind": kind, "data-w": String(w), "data-h": String(h) },
      el("span", { class: "name" }, text), hint ? el("span", { class: "muted" }, hint) : null, add);
    if (reportName) item.dataset.report = reportName;
    add.addEventListener("click", (event) => {
      event.stopPropagation();
      const entry = addWidget(newDefinition(kind, reportName));
      select(entry);
      changed();
    });
    return item;
  }

  function buildPalette() {
    const reports = document.getElementById("palette-reports");
    for (const report of data.reports) {
      reports.append(paletteItem("report", report.label, report.name, typeLabel(report.type)));
    }
    if (!data.reports.length) reports.append(el("li", { class: "muted" }, t("No report you may read.")));
    const other = document.getElementById("palette-other");
    other.append(paletteItem("number", t("Number")), paletteItem("list", t("List")));
  }

  function typeLabel(type) {
    return { pivot: t("Pivot"), funnel: t("Funnel"), rfm: t("RFM"), forecast: t("Forecast"), leaderboard: t("Leaderboard") }[type] || type;
  }

  // Palette items are dragged with the browser's own drag and drop (gridstack's drag-in
  // hangs headless Chromium); the drop point gives the grid cell of the new widget.
  const gridNode = document.getElementById("editor-grid");
  root.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest(".palette-item");
    if (!item) return;
    event.dataTransfer.setData("application/x-tessera-widget", JSON.stringify({ kind: item.dataset.kind, report: item.dataset.report || null }));
    event.dataTransfer.effectAllowed = "copy";
  });
  const boardWrap = gridNode.parentElement;
  boardWrap.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes("application/x-tessera-widget")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    boardWrap.classList.add("drop-target");
  });
  boardWrap.addEventListener("dragleave", () => boardWrap.classList.remove("drop-target"));
  boardWrap.addEventListener("drop", (event) => {
    const raw = event.dataTransfer.getData("application/x-tessera-widget");
    boardWrap.classList.remove("drop-target");
    if (!raw) return;
    event.preventDefault();
    const { kind, report } = JSON.parse(raw);
    const rect = gridNode.getBoundingClientRect();
    const [w, h] = SIZES[kind];
    const column = Math.floor(((event.clientX - rect.left) / rect.width) * data.columns);
    const x = Math.max(0, Math.min(data.columns - w, column));
    const y = Math.max(0, Math.floor((event.clientY - rect.top) / D.CELL));
    const entry = addWidget(newDefinition(kind, report), { x, y, w, h });
    select(entry);
    changed();
  });
  grid.on("change", () => {
    if (selected) {
      const node = selected.el.gridstackNode || {};
      const w = document.getElementById("prop-w");
      const h = document.getElementById("prop-h");
      if (w && document.activeElement !== w) w.value = String(node.w);
      if (h && document.activeElement !== h) h.value = String(node.h);
    }
    changed();
  });

  // ------------------------------------------------------------ the properties panel

  function field(labelText, input, errorKey) {
    const wrap = el("label", {}, labelText, input);
    if (errorKey) wrap.append(el("span", { class: "field-error", "data-error": errorKey }));
    return wrap;
  }

  function selectInput(options, value, onChange, attrs) {
    const node = el("select", attrs || {}, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
    node.addEventListener("change", () => onChange(node.value));
    return node;
  }

  function textInput(value, onChange, attrs) {
    const node = el("input", Object.assign({ value: value || "" }, attrs || {}));
    node.addEventListener("input", () => onChange(node.value));
    return node;
  }

  function setLabel(def, lang, value) {
    const labels = Object.assign({}, def.label || {});
    if (value) labels[lang] = value;
    else delete labels[lang];
    if (Object.keys(labels).length) def.label = labels;
    else delete def.label;
  }

  function renderProps() {
    const body = document.getElementById("props-body");
    document.getElementById("props-empty").hidden = Boolean(selected);
    body.replaceChildren();
    if (!selected) return;
    const entry = selected;
    const def = entry.def;
    const kind = kindOf(def);
    const update = (fn) => (value) => { fn(value); redraw(entry, null, null); changed(); };
    body.append(el("p", { class: "muted" }, KIND_LABELS[kind]));
    body.append(field(t("Title (English)"), textInput((def.label || {}).en, update((v) => setLabel(def, "en", v)), { id: "prop-label-en" })));
    body.append(field(t("Title (Chinese)"), textInput((def.label || {})["zh-CN"], update((v) => setLabel(def, "zh-CN", v)), { id: "prop-label-zh" })));
    if (kind === "report") {
      body.append(field(t("Report"), selectInput(data.reports.map((r) => [r.name, r.label]), def.report, update((v) => { def.report = v; }), { id: "prop-report" }), "report"));
      body.append(field(t("Chart"), selectInput(data.charts.map((c) => [c, CHART_LABELS[c] || c]), def.chart || "bar", update((v) => { def.chart = v; }), { id: "prop-chart" }), "chart"));
    } else {
      const entities = data.entities.map((e) => [e.name, e.label]);
      body.append(field(t("Records of"), selectInput(entities, def.source, (v) => {
        def.source = v;
        if (kind === "list") def.columns = defaultColumns(entityOf(v));
        else delete def.field;
        redraw(entry, null, null);
        renderProps();
        changed();
      }, { id: "prop-source" }), "source"));
      const fields = (entityOf(def.source) || { fields: [] }).fields;
      if (kind === "list") {
        const box = el("div", { class: "columns", id: "prop-columns" });
        for (const f of fields) {
          const check = el("input", { type: "checkbox", value: f.name, checked: (def.columns || []).includes(f.name) });
          check.addEventListener("change", update(() => {
            def.columns = fields.map((x) => x.name).filter((n) => box.querySelector(`input[value="${n}"]`).checked);
          }));
          box.append(el("label", {}, check, f.label));
        }
        body.append(el("div", {}, el("p", {}, t("Columns")), box, el("span", { class: "field-error", "data-error": "columns" })));
        body.append(field(t("How many records"), textInput(String(def.limit || 10), update((v) => { def.limit = Number(v) || 10; }), { type: "number", min: "1", max: "50", id: "prop-limit" }), "limit"));
      } else {
        body.append(field(t("Measure"), selectInput(data.aggregates.map((a) => [a, AGG_LABELS[a] || a]), def.agg || "count", (v) => {
          def.agg = v;
          if (v === "count") delete def.field;
          redraw(entry, null, null);
          renderProps();
          changed();
        }, { id: "prop-agg" }), "agg"));
        if (def.agg && def.agg !== "count") {
          const numeric = fields.filter((f) => f.numeric || def.agg === "count_distinct");
          body.append(field(t("Of the field"), selectInput([["", "—"]].concat(numeric.map((f) => [f.name, f.label])), def.field || "", update((v) => { if (v) def.field = v; else delete def.field; }), { id: "prop-field" }), "field"));
        }
        const compare = el("input", { type: "checkbox", id: "prop-compare", checked: def.compare === "previous_period" });
        compare.addEventListener("change", update(() => { if (compare.checked) def.compare = "previous_period"; else delete def.compare; }));
        body.append(el("label", {}, compare, " ", t("Compare with the previous period")));
      }
      body.append(field(t("Filter (rule language)"), textInput(def.filters, update((v) => { if (v.trim()) def.filters = v; else delete def.filters; }), { id: "prop-filter", placeholder: 'stage == "won"' }), "filters"));
    }
    const node = entry.el.gridstackNode || {};
    const sizeW = textInput(String(node.w || ""), (v) => grid.update(entry.el, { w: Number(v) || 1 }), { type: "number", min: "1", max: String(data.columns), id: "prop-w" });
    const sizeH = textInput(String(node.h || ""), (v) => grid.update(entry.el, { h: Number(v) || 1 }), { type: "number", min: "1", max: String(data.max_height), id: "prop-h" });
    body.append(el("div", { class: "size" }, field(t("Width (columns)"), sizeW, "grid"), field(t("Height (rows)"), sizeH)));
    const remove = el("button", { type: "button", class: "danger", id: "prop-remove" }, t("Remove the widget"));
    remove.addEventListener("click", () => removeWidget(entry));
    body.append(remove);
    showFieldErrors();
  }

  function showFieldErrors() {
    if (!selected) return;
    for (const span of document.querySelectorAll("#props-body [data-error]")) {
      const key = span.dataset.error;
      span.textContent = (selected.fieldProblems || {})[key] || "";
    }
  }

  // ------------------------------------------------------------ global filters and sharing

  function buildSettings() {
    const choices = document.getElementById("filter-choices");
    const current = new Map((start.filters || []).map((f) => [f.name, f]));
    for (const spec of FILTERS) {
      const had = current.get(spec.name);
      const check = el("input", { type: "checkbox", name: "filter", value: spec.name, checked: Boolean(had) });
      const row = el("div", { class: "filter-choice", "data-filter": spec.name }, el("label", {}, check, spec.label));
      if (spec.type === "period") {
        const dates = dateFields();
        const chosen = had ? had.field : spec.field;
        const pick = el("select", { id: "period-field", "aria-label": t("Date field of the period") },
          dates.map(([v, text]) => el("option", { value: v, selected: v === chosen }, text)));
        if (!dates.some(([v]) => v === chosen)) pick.append(el("option", { value: chosen, selected: true }, chosen));
        pick.addEventListener("change", changed);
        row.append(el("label", {}, t("Date field"), pick));
      }
      check.addEventListener("change", changed);
      choices.append(row);
      if (had) current.delete(spec.name);
    }
    extra.filters = Array.from(current.values()); // filters the editor does not offer stay as they are
    roleChoices("share-roles", "share", start.share || []);
    roleChoices("home-roles", "home", start.home_for || []);
    document.getElementById("board-label-en").value = (start.label && start.label.en) || (typeof start.label === "string" ? start.label : "");
    document.getElementById("board-label-zh").value = (start.label && start.label["zh-CN"]) || "";
    for (const id of ["board-label-en", "board-label-zh"]) document.getElementById(id).addEventListener("input", changed);
  }

  /** Date fields the period may compare: created_on, then every date field of any entity. */
  function dateFields() {
    const out = [["created_on", t("Created on")]];
    const seen = new Set(["created_on"]);
    for (const entity of data.entities) {
      for (const f of entity.dates || []) {
        if (!seen.has(f.name)) {
          seen.add(f.name);
          out.push([f.name, f.label]);
        }
      }
    }
    return out;
  }

  function roleChoices(id, group, chosen) {
    const box = document.getElementById(id);
    for (const role of data.roles) {
      const check = el("input", { type: "checkbox", name: group, value: role.name, checked: chosen.includes(role.name) });
      check.addEventListener("change", changed);
      box.append(el("label", {}, check, role.label));
    }
  }

  function checked(groupName) {
    return Array.from(root.querySelectorAll(`input[name="${groupName}"]:checked`)).map((c) => c.value);
  }

  // ------------------------------------------------------------ the definition

  function definition() {
    const out = Object.assign({}, extra.rest || {}, { name });
    const en = document.getElementById("board-label-en").value.trim();
    const zh = document.getElementById("board-label-zh").value.trim();
    out.label = Object.assign({}, en ? { en } : { en: name }, zh ? { "zh-CN": zh } : {});
    const filters = [];
    for (const spec of FILTERS) {
      if (!checked("filter").includes(spec.name)) continue;
      const f = { name: spec.name, type: spec.type, field: spec.field };
      if (spec.type === "period") f.field = document.getElementById("period-field").value;
      filters.push(f);
    }
    out.filters = filters.concat(extra.filters || []);
    if (!out.filters.length) delete out.filters;
    out.widgets = widgets.map((entry) => {
      const node = entry.el.gridstackNode || {};
      return Object.assign({}, entry.def, { grid: { x: node.x || 0, y: node.y || 0, w: node.w || 1, h: node.h || 1 } });
    });
    const share = checked("share");
    const home = checked("home");
    if (share.length) out.share = share;
    else delete out.share;
    if (home.length) out.home_for = home;
    else delete out.home_for;
    return out;
  }

  // ------------------------------------------------------------ preview, problems, save

  let timer = null;
  let previews = 0;
  /** Set once a save was refused as stale: the message stays until the page reloads. */
  let stale = false;
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  }

  /** Split located problems (``widgets[2].grid.w``) over the widgets; the rest are the board's. */
  function spread(problems) {
    for (const w of widgets) {
      w.problems = [];
      w.fieldProblems = {};
    }
    const board = [];
    for (const p of problems) {
      const match = /^widgets\[(\d+)\](?:\.([a-z_]+))?/.exec(p.field || "");
      const entry = match && widgets[Number(match[1])];
      if (entry) {
        entry.problems.push(p.message);
        if (match[2]) entry.fieldProblems[match[2]] = p.message;
      } else {
        board.push(p);
      }
    }
    return board;
  }

  async function preview() {
    if (!widgets.length) {
      root.dataset.preview = String(++previews);
      return;
    }
    const draft = definition();
    try {
      const answer = await api("POST", "/api/v1/dashboards/preview", { definition: draft, values: {} });
      const board = spread(answer.problems || []);
      const views = new Map(answer.views.map((v) => [v.index, v]));
      const figures = new Map(answer.widgets.map((w) => [w.index, w]));
      D.setFilterLabels(Object.fromEntries(answer.filters.map((f) => [f.name, f.label])));
      widgets.forEach((entry, index) => redraw(entry, views.get(index), figures.get(index)));
      if (!stale) showProblems(board.length ? t("The dashboard has problems:") : "", board);
      showFieldErrors();
    } catch (err) {
      if (!stale) showProblems(err.message, err.errors || []);
    }
    root.dataset.preview = String(++previews);
  }

  function showProblems(text, list, stale) {
    const box = document.getElementById("editor-error");
    box.hidden = !text;
    document.getElementById("editor-error-text").textContent = text || "";
    document.getElementById("editor-error-list").replaceChildren(
      ...list.map((p) => el("li", {}, (p.field ? p.field + ": " : "") + p.message)));
    document.getElementById("reload-board").hidden = !stale;
  }

  async function save() {
    const button = document.getElementById("save-board");
    button.disabled = true;
    const status = document.getElementById("editor-status");
    root.dataset.saved = "";
    try {
      if (!widgets.length) throw new T.ApiError(422, { detail: t("Add at least one widget before saving."), errors: [] });
      const body = { definition: definition() };
      if (version !== null) body.version = version;
      const answer = await api("PUT", `/api/v1/meta/dashboard/${encodeURIComponent(name)}`, body);
      version = answer.version;
      spread([]);
      widgets.forEach((entry) => { entry.el.classList.remove("invalid"); });
      showProblems("", []);
      showFieldErrors();
      status.textContent = answer.unchanged ? t("No changes to save") : t("Saved as version {version}.", { version: answer.version });
      document.getElementById("open-board").hidden = false;
      root.dataset.saved = String(answer.version);
      T.toast(status.textContent);
    } catch (err) {
      if (err.status === 409) {
        stale = true;
        showProblems(t("Someone else saved this dashboard since you opened it; reload to see their version, then edit again."), [], true);
      } else {
        const board = spread(err.errors || []);
        widgets.forEach((entry) => {
          entry.el.classList.toggle("invalid", entry.problems.length > 0);
          const content = entry.el.querySelector(".grid-stack-item-content");
          for (const node of content.querySelectorAll(".widget-problem")) node.remove();
          for (const problem of entry.problems) content.append(el("p", { class: "widget-problem" }, problem));
        });
        showProblems(err.message, board);
        showFieldErrors();
      }
      root.dataset.saved = "error";
    } finally {
      button.disabled = false;
    }
  }

  document.getElementById("save-board").addEventListener("click", save);
  document.getElementById("reload-board").addEventListener("click", () => window.location.reload());
  document.addEventListener("keydown", (event) => {
    if (selected && event.key === "Delete" && event.target.closest && event.target.closest(".grid-stack-item")) {
      removeWidget(selected);
    }
  });

  // ------------------------------------------------------------ start

  extra.rest = Object.fromEntries(Object.entries(start).filter(([k]) => !["name", "label", "filters", "widgets", "share", "home_for"].includes(k)));
  buildPalette();
  buildSettings();
  grid.batchUpdate();
  for (const w of start.widgets || []) {
    const def = Object.assign({}, w);
    const place = def.grid;
    delete def.grid;
    delete def.width;
    addWidget(def, place);
  }
  grid.batchUpdate(false);
  document.getElementById("grid-empty").hidden = widgets.length > 0;
  root.dataset.ready = "1";
  preview();
})();
