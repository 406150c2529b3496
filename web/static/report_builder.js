/* The report builder (/build/reports/<name>): a report drafted by dragging fields.

   The draft is kept as plain state and turned into the standard report definition
   (the same format as reports/*.yaml) on every change; the server checks it and runs
   it (POST /api/v1/reports/builder/preview, debounced, under the builder's own read
   scope and a cell cap) and the page shows the table, the chart or the problems at
   the zone or item each names. Saving goes through the metadata API with the version
   the page started from, so a stale save is refused. Text from definitions and
   results is only ever set with textContent. */
(function () {
  "use strict";
  const { t, api, toast, el, ApiError, lang, text, labels } = window.Tessera;
  const root = document.getElementById("report-builder");
  if (!root) return;
  const data = JSON.parse(document.getElementById("report-builder-data").textContent);
  const $ = (id) => document.getElementById(id);
  const locale = lang === "zh-CN" ? "zh-CN" : "en-US";
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const ZONES = ["rows", "columns", "measures", "filters"];
  const NUMERIC = ["number", "duration"];
  const DATES = ["date", "datetime"];
  const OPS = ["==", "!=", ">", ">=", "<", "<="];
  const LIST_OPS = ["in", "not in"];


  function fmt(value) {
    if (value === null || value === undefined || value === "") return "";
    const n = Number(value);
    return Number.isFinite(n) && typeof value !== "boolean" ? numbers.format(n) : String(value);
  }

  const BUCKET_TEXT = {
    day: t("Day"), week: t("Week"), month: t("Month"), quarter: t("Quarter"), year: t("Year"),
    month_of_year: t("Month of year"), quarter_of_year: t("Quarter of year"), day_of_week: t("Day of week"),
  };
  const AGG_TEXT = {
    count: t("Count"), count_distinct: t("Count distinct"), sum: t("Sum"), avg: t("Average"),
    min: t("Minimum"), max: t("Maximum"),
  };
  const OF_TEXT = { row: t("of the row"), column: t("of the column"), total: t("of the grand total") };

  // ------------------------------------------------------------ state

  let fields = {}; // path -> field info from the catalogue
  let fieldOrder = [];
  let version = data.found ? data.found.version : null;
  const state = fromDefinition(data.found ? data.found.definition : { type: "pivot" });
  let previews = 0;

  function fromDefinition(def) {
    const s = {
      type: def.type || "pivot",
      source: def.source || "",
      labelEn: typeof def.label === "string" ? def.label : (def.label || {}).en || "",
      labelZh: typeof def.label === "object" && def.label ? def.label["zh-CN"] || "" : "",
      description: def.description,
      chart: typeof def.chart === "string" ? def.chart : "",
      rows: (def.rows || []).map(dimension),
      columns: (def.columns || []).map(dimension),
      measures: (def.measures || []).map((m) => Object.assign({}, m)),
      filters: [],
      condition: def.filters || "",
      totals: Object.assign({ rows: true, columns: true, subtotals: false }, def.totals || {}),
      orderBy: typeof def.order_by === "string" ? def.order_by : "",
      options: def.options,
      parameters: def.parameters,
      other: {},
    };
    for (const key of ["stage", "stages", "amount", "won", "lost", "close", "customer", "date", "segments", "top", "by", "measure", "limit", "targets", "window"]) {
      if (def[key] !== undefined) s.other[key] = JSON.parse(JSON.stringify(def[key]));
    }
    return s;
  }

  function dimension(raw) {
    if (typeof raw === "string") return { field: raw };
    return Object.assign({}, raw);
  }

  /** The filter items and the free condition, as one rule-language condition. */
  function filterText() {
    const parts = state.filters
      .filter((f) => f.value !== "" && f.value !== undefined && f.value !== null && !(Array.isArray(f.value) && !f.value.length))
      .map((f) => `${f.field} ${f.op || "=="} ${literal(f)}`);
    if (state.condition.trim()) parts.push(parts.length ? `(${state.condition.trim()})` : state.condition.trim());
    return parts.join(" and ");
  }

  function literal(f) {
    const info = fields[f.field] || {};
    if (Array.isArray(f.value)) return "[" + f.value.map((v) => literal({ field: f.field, value: v })).join(", ") + "]";
    const v = String(f.value);
    if (NUMERIC.includes(info.kind) || info.kind === "record") return /^-?\d+(\.\d+)?$/.test(v) ? v : JSON.stringify(v);
    // a date literal (@2026-03-31) is what the condition tree reads back into an item
    if (info.kind === "date" && /^\d{4}-\d{2}-\d{2}$/.test(v)) return "@" + v;
    if (DATES.includes(info.kind)) return `date(${JSON.stringify(v)})`;
    if (info.kind === "boolean") return v === "true" ? "true" : "false";
    return JSON.stringify(v);
  }

  function toDefinition() {
    const def = { name: data.name, label: labels(state.labelEn, state.labelZh) || data.name, type: state.type };
    if (state.description) def.description = state.description;
    if (state.source) def.source = state.source;
    const where = filterText();
    if (where) def.filters = where;
    if (state.type === "pivot") {
      def.rows = state.rows.map(cleanDimension);
      def.columns = state.columns.map(cleanDimension);
      def.measures = state.measures.map(cleanMeasure);
      def.totals = { rows: !!state.totals.rows, columns: !!state.totals.columns };
      if (state.totals.subtotals) def.totals.subtotals = true;
      if (state.orderBy) def.order_by = state.orderBy;
      if (state.chart) def.chart = state.chart;
      if (state.options) def.options = state.options;
      if (state.parameters) def.parameters = state.parameters;
    } else {
      for (const [key, value] of Object.entries(state.other)) {
        if (value !== "" && value !== undefined && value !== null) def[key] = value;
      }
    }
    return def;
  }

  function cleanDimension(d) {
    if (!d.bucket && !d.top && !d.label) return d.field;
    const out = { field: d.field };
    if (d.bucket) out.bucket = d.bucket;
    if (d.top) {
      out.top = d.top;
      if (d.by) out.by = d.by;
    }
    if (d.label) out.label = d.label;
    return out;
  }

  function cleanMeasure(m) {
    const out = { name: m.name };
    if (m.percent_of !== undefined) {
      out.percent_of = m.percent_of;
      out.of = m.of || "total";
    } else if (m.expr !== undefined) {
      out.expr = m.expr;
    } else {
      out.agg = m.agg || "count";
      if (m.field) out.field = m.field;
    }
    if (m.label && (typeof m.label === "string" || Object.keys(m.label).length)) out.label = m.label;
    return out;
  }

  function uniqueName(base) {
    const taken = new Set(state.measures.map((m) => m.name));
    let name = base.replace(/[^a-z0-9_]/g, "_").replace(/^[^a-z]+/, "") || "measure";
    let n = 2;
    const first = name;
    while (taken.has(name)) name = `${first}_${n++}`;
    return name;
  }

  /** A zone's item for a field just dropped there (or moved in from another zone). */
  function itemFor(zone, raw) {
    const field = raw.field !== undefined ? raw.field : raw.path;
    const info = fields[field] || {};
    if (zone === "measures") {
      if (raw.agg || raw.expr !== undefined || raw.percent_of !== undefined) return raw;
      const agg = !field ? "count" : NUMERIC.includes(info.kind) ? "sum" : "count_distinct";
      return { name: uniqueName(field ? `${agg}_${field}` : "count"), agg, field: field || undefined };
    }
    if (!field) return null; // "count of records" only makes sense as a measure
    if (zone === "filters") return { field, op: raw.op || "==", value: raw.value !== undefined ? raw.value : "" };
    const out = { field };
    if (DATES.includes(info.kind)) out.bucket = raw.bucket || "month";
    // moved between rows and columns: keep what was set on it
    for (const key of ["top", "by", "label"]) if (raw[key] !== undefined) out[key] = raw[key];
    return out;
  }

  // ------------------------------------------------------------ fields

  async function loadFields() {
    fields = {};
    fieldOrder = [];
    const list = $("rb-field-list");
    list.replaceChildren();
    $("rb-fields-empty").hidden = !!state.source;
    if (!state.source) return;
    try {
      const answer = await api("GET", `/api/v1/reports/builder/fields/${encodeURIComponent(state.source)}`);
      for (const f of answer.fields) {
        fields[f.path] = f;
        fieldOrder.push(f.path);
      }
    } catch (err) {
      showProblems(err);
      return;
    }
    renderFields();
  }

  function fieldText(path) {
    const f = fields[path];
    if (!f) return path;
    return [...f.trail.map((x) => text(x)), text(f.label, path.split(".").pop())].join(" › ");
  }

  /** A select field's option as its label says it (the stored value when it has none). */
  function optionText(path, value) {
    const f = fields[path] || {};
    return text((f.option_labels || {})[value], value);
  }

  function kindText(kind) {
    return { number: t("number"), date: t("date"), datetime: t("date and time"), string: t("text"),
             boolean: t("yes/no"), record: t("reference"), duration: t("duration") }[kind] || kind;
  }

  function renderFields() {
    const list = $("rb-field-list");
    const find = $("rb-field-search").value.trim().toLowerCase();
    list.replaceChildren();
    list.append(el("li", { class: "rb-field count", dataset: { path: "", kind: "count" } }, t("Count of records")));
    let via = null;
    for (const path of fieldOrder) {
      const f = fields[path];
      const label = fieldText(path);
      if (find && !label.toLowerCase().includes(find) && !path.includes(find)) continue;
      if (f.via !== via) {
        via = f.via;
        if (via) list.append(el("li", { class: "rb-field-group" }, f.trail.map((x) => text(x)).join(" › ")));
      }
      list.append(
        el("li", { class: "rb-field", dataset: { path, kind: f.kind }, title: path },
          el("span", { class: "rb-field-name" }, text(f.label, path.split(".").pop())),
          el("span", { class: "rb-kind" }, kindText(f.kind)))
      );
    }
  }

  // ------------------------------------------------------------ zones

  function removeButton(zone, index) {
    return el("button", { type: "button", class: "rb-remove", title: t("Remove"), "aria-label": t("Remove"),
      onclick: () => { state[zone].splice(index, 1); changed(); } }, "×");
  }

  function select(options, value, onchange, attrs) {
    const node = el("select", attrs || {}, options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
    node.addEventListener("change", () => onchange(node.value));
    return node;
  }

  function dimensionItem(zone, d, index) {
    const info = fields[d.field] || {};
    const li = el("li", { class: "rb-item", dataset: { item: JSON.stringify(d), index: String(index) } },
      el("span", { class: "rb-item-name" }, fieldText(d.field)));
    if (DATES.includes(info.kind)) {
      li.append(select([["", t("No grouping")], ...data.buckets.map((b) => [b, BUCKET_TEXT[b] || b])], d.bucket || "",
        (v) => { d.bucket = v || undefined; changed(); }, { class: "rb-bucket", "aria-label": t("Date bucket") }));
    }
    if (info.kind === "string") {
      const top = el("input", { type: "number", min: "1", class: "rb-top", value: d.top || "", placeholder: t("Top N"), "aria-label": t("Top N") });
      top.addEventListener("change", () => { d.top = top.value ? Number(top.value) : undefined; changed(); });
      li.append(top);
      if (d.top) {
        const stored = state.measures.filter((m) => m.agg && m.agg !== "count_distinct");
        li.append(select([["", t("by the first measure")], ...stored.map((m) => [m.name, m.name])], d.by || "",
          (v) => { d.by = v || undefined; changed(); }, { class: "rb-by", "aria-label": t("Rank by") }));
      }
    }
    li.append(removeButton(zone, index), labelInputs(d, li), el("p", { class: "form-error rb-item-error", hidden: true }));
    return li;
  }

  /** An item's label in both languages (a dimension's heading, a measure's column). */
  function labelInputs(item, li) {
    const label = typeof item.label === "object" && item.label ? item.label : { en: typeof item.label === "string" ? item.label : "" };
    const en = el("input", { class: "rb-label-en", value: label.en || "", placeholder: t("Label (English)"), "aria-label": t("Label (English)") });
    const zh = el("input", { class: "rb-label-zh", value: label["zh-CN"] || "", placeholder: t("Label (Chinese)"), "aria-label": t("Label (Chinese)") });
    const relabel = () => {
      item.label = labels(en.value.trim(), zh.value.trim());
      if (!item.label) delete item.label;
      li.dataset.item = JSON.stringify(item);
      changed(false);
    };
    en.addEventListener("change", relabel);
    zh.addEventListener("change", relabel);
    return el("div", { class: "rb-labels" }, en, zh);
  }

  function measureItem(m, index) {
    const li = el("li", { class: "rb-item rb-measure", dataset: { item: JSON.stringify(m), index: String(index) } });
    const name = el("input", { class: "rb-measure-name", value: m.name, "aria-label": t("Measure name"), size: "12" });
    name.addEventListener("change", () => { m.name = name.value.trim(); changed(); });
    if (m.expr !== undefined) {
      const expr = el("input", { class: "rb-expr", value: m.expr, placeholder: "amount / deals", "aria-label": t("Formula") });
      expr.addEventListener("input", () => { m.expr = expr.value; li.dataset.item = JSON.stringify(m); changed(false); });
      li.append(el("span", { class: "rb-item-name" }, t("Computed")), name, el("span", {}, "="), expr);
    } else if (m.percent_of !== undefined) {
      const stored = state.measures.filter((x) => x.agg && x.agg !== "count_distinct" && x !== m);
      li.append(el("span", { class: "rb-item-name" }, t("Percent")), name,
        select([["", t("Pick a measure")], ...stored.map((x) => [x.name, x.name])], m.percent_of,
          (v) => { m.percent_of = v; changed(); }, { class: "rb-percent-of", "aria-label": t("Percent of") }),
        select(data.percent_of.map((o) => [o, OF_TEXT[o] || o]), m.of || "total",
          (v) => { m.of = v; changed(); }, { class: "rb-of", "aria-label": t("Percent of") }));
    } else {
      const info = fields[m.field] || {};
      const allowed = data.aggregates.filter((a) => {
        if (!m.field) return a === "count";
        if (data.numeric_aggregates.includes(a)) return NUMERIC.includes(info.kind);
        if (a === "min" || a === "max") return [...NUMERIC, ...DATES, "string"].includes(info.kind);
        return true;
      });
      li.append(
        select(allowed.map((a) => [a, AGG_TEXT[a] || a]), m.agg, (v) => { m.agg = v; changed(); },
          { class: "rb-agg", "aria-label": t("Aggregation") }),
        el("span", { class: "rb-item-name" }, m.field ? fieldText(m.field) : t("records")),
        name);
    }
    li.append(removeButton("measures", index), labelInputs(m, li),
      el("p", { class: "form-error rb-item-error", hidden: true }));
    return li;
  }

  function filterItem(f, index) {
    const info = fields[f.field] || {};
    const li = el("li", { class: "rb-item rb-filter", dataset: { item: JSON.stringify(f), index: String(index) } },
      el("span", { class: "rb-item-name" }, fieldText(f.field)));
    const ops = itemOps(info);
    li.append(select(ops.map((o) => [o, o]), f.op || "==", (v) => {
      // a list for "in", one value for the others
      if (LIST_OPS.includes(v) !== Array.isArray(f.value)) f.value = LIST_OPS.includes(v) ? (f.value ? [f.value] : []) : (f.value || [])[0] || "";
      f.op = v;
      changed();
    }, { class: "rb-op", "aria-label": t("Comparison") }));
    let value;
    if (info.options && info.options.length && Array.isArray(f.value)) {
      const chosen = new Set(f.value);
      value = el("select", { class: "rb-value", multiple: true, "aria-label": t("Values") },
        info.options.map((o) => el("option", { value: o, selected: chosen.has(o) || null }, optionText(f.field, o))));
      value.addEventListener("change", () => { f.value = Array.from(value.selectedOptions).map((o) => o.value); changed(); });
    } else if (info.options && info.options.length) {
      value = select([["", t("Pick a value")], ...info.options.map((o) => [o, optionText(f.field, o)])], f.value, (v) => { f.value = v; changed(); },
        { class: "rb-value", "aria-label": t("Value") });
    } else if (info.kind === "boolean") {
      value = select([["", t("Pick a value")], ["true", t("yes")], ["false", t("no")]], f.value, (v) => { f.value = v; changed(); },
        { class: "rb-value", "aria-label": t("Value") });
    } else {
      value = el("input", { class: "rb-value", value: f.value, type: DATES.includes(info.kind) ? "date" : NUMERIC.includes(info.kind) ? "number" : "text", "aria-label": t("Value") });
      value.addEventListener("change", () => { f.value = value.value; changed(); });
    }
    li.append(value, removeButton("filters", index), el("p", { class: "form-error rb-item-error", hidden: true }));
    return li;
  }

  function renderZones() {
    for (const zone of ZONES) {
      const ul = $(`zone-${zone}`);
      ul.replaceChildren(...state[zone].map((item, i) =>
        zone === "measures" ? measureItem(item, i) : zone === "filters" ? filterItem(item, i) : dimensionItem(zone, item, i)));
      ul.classList.toggle("empty", !state[zone].length);
    }
    const order = $("rb-order-by");
    const current = state.orderBy;
    order.replaceChildren(el("option", { value: "" }, t("Row labels")),
      ...state.measures.flatMap((m) => [
        el("option", { value: m.name, selected: current === m.name }, t("{name}, smallest first", { name: m.name })),
        el("option", { value: `-${m.name}`, selected: current === `-${m.name}` }, t("{name}, largest first", { name: m.name })),
      ]));
    $("rb-condition").value = state.condition;
    $("rb-total-rows").checked = !!state.totals.rows;
    $("rb-total-columns").checked = !!state.totals.columns;
    $("rb-subtotals").checked = !!state.totals.subtotals;
  }

  /** Read every zone's order back from the page after a drag, then redraw from the state. */
  function syncFromDom() {
    const next = {};
    for (const zone of ZONES) {
      next[zone] = [];
      for (const li of $(`zone-${zone}`).children) {
        let raw;
        if (li.dataset.item) raw = JSON.parse(li.dataset.item);
        else if (li.dataset.path !== undefined) raw = { path: li.dataset.path };
        else continue;
        const item = itemFor(zone, raw);
        if (item) next[zone].push(item);
      }
    }
    Object.assign(state, next);
    changed();
  }

  let syncQueued = false;
  function queueSync() {
    if (syncQueued) return;
    syncQueued = true;
    setTimeout(() => { syncQueued = false; syncFromDom(); }, 0);
  }

  if (window.Sortable) {
    window.Sortable.create($("rb-field-list"), {
      forceFallback: true, group: { name: "report", pull: "clone", put: false }, sort: false,
      draggable: ".rb-field", animation: 120,
    });
    for (const zone of ZONES) {
      window.Sortable.create($(`zone-${zone}`), {
        forceFallback: true, group: { name: "report", pull: true, put: true }, animation: 120,
        filter: "input, select, button", preventOnFilter: false,
        onSort: queueSync,
      });
    }
  }

  // ------------------------------------------------------------ other report types

  /** The small form of each non-pivot type: which definition key takes which kind of field. */
  const FORMS = {
    funnel: [
      { key: "stage", label: t("Stage field"), pick: "options" },
      { key: "stages", label: t("Stages, in order"), list: "stage" },
      { key: "amount", label: t("Amount (optional)"), pick: NUMERIC, optional: true },
    ],
    forecast: [
      { key: "stage", label: t("Stage field"), pick: "options" },
      { key: "won", label: t("Won stage"), option: "stage" },
      { key: "lost", label: t("Lost stages"), list: "stage" },
      { key: "amount", label: t("Amount"), pick: NUMERIC },
      { key: "close", label: t("Expected close date"), pick: DATES },
    ],
    rfm: [
      { key: "customer", label: t("Customer"), pick: ["record"] },
      { key: "date", label: t("Order date"), pick: DATES },
      { key: "amount", label: t("Amount"), pick: NUMERIC },
      { key: "top", label: t("Customers listed"), number: true },
    ],
    leaderboard: [
      { key: "by", label: t("Rank"), pick: ["string"] },
      { key: "measure", label: t("Measure"), measure: true },
      { key: "limit", label: t("How many"), number: true },
    ],
  };

  function fieldChoices(pick) {
    return fieldOrder.filter((p) => {
      const f = fields[p];
      if (pick === "options") return f.options && f.options.length && !f.via;
      return pick.includes(f.kind);
    });
  }

  function renderOther() {
    const box = $("rb-other-fields");
    box.replaceChildren();
    const form = FORMS[state.type] || [];
    const o = state.other;
    for (const spec of form) {
      const row = el("div", { class: "rb-other-row", dataset: { key: spec.key } }, el("span", { class: "rb-other-label" }, spec.label));
      if (spec.pick) {
        row.append(select([["", t("Pick a field")], ...fieldChoices(spec.pick).map((p) => [p, fieldText(p)])], o[spec.key] || "",
          (v) => { o[spec.key] = v || undefined; if (spec.pick === "options") { delete o.stages; delete o.won; delete o.lost; } changed(); renderOther(); },
          { name: spec.key, "aria-label": spec.label }));
      } else if (spec.option) {
        const opts = (fields[o[spec.option]] || {}).options || [];
        row.append(select([["", t("Pick a value")], ...opts.map((v) => [v, optionText(o[spec.option], v)])], o[spec.key] || "",
          (v) => { o[spec.key] = v || undefined; changed(); }, { name: spec.key, "aria-label": spec.label }));
      } else if (spec.list) {
        const opts = (fields[o[spec.list]] || {}).options || [];
        const chosen = new Set(o[spec.key] || []);
        const boxes = el("div", { class: "rb-checks" });
        for (const v of opts) {
          const input = el("input", { type: "checkbox", value: v, checked: chosen.has(v), name: spec.key });
          input.addEventListener("change", () => {
            const picked = [...boxes.querySelectorAll("input:checked")].map((i) => i.value);
            o[spec.key] = picked.length ? picked : undefined;
            changed();
          });
          boxes.append(el("label", { class: "check" }, input, " ", optionText(o[spec.list], v)));
        }
        row.append(boxes);
      } else if (spec.number) {
        const input = el("input", { type: "number", min: "1", name: spec.key, value: o[spec.key] || "", "aria-label": spec.label });
        input.addEventListener("change", () => { o[spec.key] = input.value ? Number(input.value) : undefined; changed(); });
        row.append(input);
      } else if (spec.measure) {
        const m = o.measure || { agg: "count" };
        const numeric = fieldChoices(NUMERIC);
        row.append(
          select(data.aggregates.map((a) => [a, AGG_TEXT[a] || a]), m.agg || "count",
            (v) => { o.measure = Object.assign({}, m, { agg: v }); changed(); renderOther(); }, { name: "measure_agg", "aria-label": t("Aggregation") }),
          select([["", t("records")], ...(["sum", "avg"].includes(m.agg) ? numeric : fieldOrder).map((p) => [p, fieldText(p)])], m.field || "",
            (v) => { o.measure = Object.assign({}, m, { field: v || undefined }); changed(); }, { name: "measure_field", "aria-label": t("Measure") }));
      }
      row.append(el("p", { class: "form-error rb-item-error", hidden: true }));
      box.append(row);
    }
    const condition = el("input", { class: "rb-condition", value: state.condition, name: "filters", placeholder: 'region == "east_china"', "aria-label": t("Condition") });
    condition.addEventListener("input", () => { state.condition = condition.value; changed(false); });
    box.append(el("div", { class: "rb-other-row", dataset: { key: "filters" } }, el("span", { class: "rb-other-label" }, t("Condition")), condition,
      el("p", { class: "form-error rb-item-error", hidden: true })));
  }

  // ------------------------------------------------------------ problems

  function clearProblems() {
    root.querySelectorAll(".rb-error, .rb-item-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
    root.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
  }

  /** Each problem at the zone, item or form row its path names; the rest above the builder. */
  function showProblems(err) {
    clearProblems();
    const general = [];
    const problems = err instanceof ApiError && err.errors.length ? err.errors : [{ message: err.message }];
    for (const p of problems) {
      const path = p.field || "";
      const m = /^(rows|columns|measures)\[(\d+)\]/.exec(path);
      let spot = null;
      if (m && state.type === "pivot") {
        const li = $(`zone-${m[1]}`).children[Number(m[2])];
        if (li) {
          li.classList.add("has-error");
          spot = li.querySelector(".rb-item-error");
        }
      } else if (state.type !== "pivot") {
        const row = root.querySelector(`.rb-other-row[data-key="${path.split(/[.[]/)[0]}"]`);
        if (row) spot = row.querySelector(".rb-item-error");
      } else {
        spot = root.querySelector(`.rb-error[data-path="${path.split(/[.[]/)[0]}"]`);
      }
      if (spot) {
        spot.hidden = false;
        spot.textContent = (spot.textContent ? spot.textContent + " " : "") + p.message;
      } else {
        general.push(path ? `${path}: ${p.message}` : p.message);
      }
    }
    const box = $("rb-error");
    box.hidden = !general.length;
    box.textContent = general.join(" · ");
  }

  // ------------------------------------------------------------ preview

  let timer = null;
  let asked = 0;
  let edits = 0;

  /** The draft changed: redraw the zones (the other forms redraw themselves), preview soon. */
  function changed(redraw = true) {
    if (redraw && state.type === "pivot") renderZones();
    clearTimeout(timer);
    edits += 1;
    root.dataset.state = "pending";
    timer = setTimeout(preview, 350);
  }

  function ready() {
    return state.source && (state.type !== "pivot" || state.measures.length || state.rows.length || state.columns.length);
  }

  async function preview() {
    const mine = ++asked;
    // A change made while this preview was on its way asks for another: this one is stale.
    const edit = edits;
    const stale = () => mine !== asked || edit !== edits;
    if (!ready()) {
      clearProblems();
      $("rb-table").replaceChildren();
      drawChart(null);
      $("rb-status").textContent = t("Drop fields into rows, columns or measures.");
      root.dataset.state = "idle";
      return;
    }
    $("rb-status").textContent = t("Loading…");
    try {
      const result = await api("POST", "/api/v1/reports/builder/preview", { definition: toDefinition() });
      if (stale()) return;
      clearProblems();
      renderResult(result);
      $("rb-status").textContent = result.truncated
        ? t("Showing the first {n} cells only.", { n: (result.preview || {}).max_cells })
        : t("Up to date");
      root.dataset.previews = String(++previews);
      root.dataset.state = "ready";
    } catch (err) {
      if (stale()) return;
      showProblems(err);
      $("rb-status").textContent = t("The draft has problems; see the marked places.");
      root.dataset.state = "invalid";
    }
  }

  function th(textValue, attrs) {
    return el("th", attrs || {}, textValue);
  }

  function td(value, attrs) {
    const a = Object.assign({ class: "num" }, attrs || {});
    if (value !== null && value !== undefined) a["data-value"] = String(value);
    return el("td", a, fmt(value));
  }

  function measureLabel(m) {
    const def = state.measures.find((x) => x.name === m.name);
    return text(def && def.label, m.name);
  }

  function renderResult(result) {
    const table = $("rb-table");
    table.replaceChildren();
    if (result.type === "pivot") pivotTable(result, table);
    else flatTable(result, table);
    drawChart(result);
  }

  /** A row or column key as the table shows it: a select's option label, else the engine's. */
  function keyText(dim, key, label) {
    const plain = dim && !dim.bucket && key !== null && key !== undefined && !String(key).startsWith("\ue000");
    if (plain) return optionText(dim.field, key);
    return label;
  }

  function pivotTable(result, table) {
    const nRows = result.row_dimensions.length;
    const measures = result.measures;
    const head = el("tr", {}, result.row_dimensions.map((d) => th(fieldText(d.field) + (d.bucket ? ` (${BUCKET_TEXT[d.bucket] || d.bucket})` : ""))));
    if (!nRows) head.append(th(""));
    for (const c of result.columns) {
      for (const m of measures) {
        const parts = c.labels.map((l, i) => keyText(result.column_dimensions[i], c.key[i], l));
        if (measures.length > 1 || !parts.length) parts.push(measureLabel(m));
        head.append(th(parts.join(" / "), { class: "num" }));
      }
    }
    const hasTotal = result.rows.some((r) => r.total);
    if (hasTotal) for (const m of measures) head.append(th(measures.length > 1 ? `${t("Total")} / ${measureLabel(m)}` : t("Total"), { class: "num" }));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (const row of result.rows) {
      const tr = el("tr", { class: row.level === nRows ? "leaf" : "subtotal", dataset: { key: JSON.stringify(row.key) } });
      for (let i = 0; i < Math.max(nRows, 1); i++) tr.append(el("th", { scope: "row" }, i < row.labels.length ? keyText(result.row_dimensions[i], row.key[i], row.labels[i]) : i === row.labels.length ? t("Subtotal") : ""));
      for (const cell of row.cells) for (let i = 0; i < measures.length; i++) tr.append(td(cell ? cell[i] : null));
      if (hasTotal) for (let i = 0; i < measures.length; i++) tr.append(td(row.total ? row.total[i] : null, { class: "num total" }));
      body.append(tr);
    }
    table.append(body);
    if (result.totals) {
      const tr = el("tr", { class: "totals" });
      for (let i = 0; i < Math.max(nRows, 1); i++) tr.append(el("th", { scope: "row" }, i === 0 ? t("Total") : ""));
      for (const cell of result.totals.cells) for (let i = 0; i < measures.length; i++) tr.append(td(cell ? cell[i] : null));
      if (result.totals.total) {
        for (let i = 0; i < measures.length; i++) tr.append(td(result.totals.total[i], { class: "num grand", dataset: { measure: measures[i].name } }));
      }
      table.append(el("tfoot", {}, tr));
    }
  }

  function flatTable(result, table) {
    const rows = result.rows || [];
    if (!rows.length) {
      table.append(el("tbody", {}, el("tr", {}, el("td", {}, t("No records match.")))));
      return;
    }
    const keys = Object.keys(rows[0]).filter((k) => typeof rows[0][k] !== "object" || rows[0][k] === null);
    const heads = { stage: t("Stage"), count: t("Count"), amount: t("Amount"), entered: t("Entered"), reached: t("Reached"),
      conversion: t("Conversion %"), of_first: t("% of the first stage"), customers: t("Customers"), monetary: t("Monetary"),
      value: t("Value"), target: t("Target") };
    // the stage (funnel, forecast) or ranked field (leaderboard) whose option labels the keys get
    const keyed = { stage: state.other.stage, key: state.other.by };
    const cell = (k, v) => {
      if (typeof v === "number" || (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v))) return td(v);
      return el("td", {}, v === null ? "" : keyed[k] ? optionText(keyed[k], v) : String(v));
    };
    table.append(el("thead", {}, el("tr", {}, keys.map((k) => th(heads[k] || k)))));
    table.append(el("tbody", {}, rows.map((r) => el("tr", { class: "leaf" }, keys.map((k) => cell(k, r[k]))))));
  }

  function drawChart(result) {
    const node = $("rb-chart");
    if (!window.echarts) return;
    let chart = window.echarts.getInstanceByDom(node);
    const kind = state.chart || (result && result.chart && result.chart.type) || "bar";
    if (!result || !result.chart || kind === "table") {
      if (chart) chart.clear();
      node.hidden = true;
      return;
    }
    node.hidden = false;
    if (!chart) {
      chart = window.echarts.init(node);
      window.addEventListener("resize", () => chart.resize());
    }
    const c = result.chart;
    const seriesName = (s) => ({ reached: t("Reached"), count: t("Count"), value: t("Value"), target: t("Target"),
      customers: t("Customers"), monetary: t("Monetary") })[s.name] || s.name;
    let option;
    if (kind === "funnel" || result.type === "funnel") {
      const s = c.series[0] || { data: [] };
      option = { tooltip: { trigger: "item" }, series: [{ type: "funnel", sort: "none", left: "10%", width: "80%",
        label: { show: true, position: "inside" },
        data: c.categories.map((name, i) => ({ name: optionText(state.other.stage, String(name)), value: Number(s.data[i]) || 0 })) }] };
    } else if (kind === "pie") {
      const s = c.series[0] || { data: [] };
      option = { tooltip: { trigger: "item" }, series: [{ type: "pie", radius: "65%",
        data: c.categories.map((name, i) => ({ name: String(name), value: Number(s.data[i]) || 0 })) }] };
    } else {
      option = {
        tooltip: { trigger: "axis", valueFormatter: (v) => fmt(v) },
        legend: { type: "scroll", top: 0 },
        grid: { left: 8, right: 16, bottom: 8, top: 40, containLabel: true },
        xAxis: { type: "category", data: c.categories.map(String) },
        yAxis: { type: "value", axisLabel: { formatter: (v) => fmt(v) } },
        series: c.series.map((s) => ({ name: seriesName(s), type: kind === "line" ? "line" : "bar",
          stack: kind === "stacked_bar" ? "total" : undefined, data: s.data.map((v) => (v === null ? null : Number(v))) })),
      };
    }
    chart.setOption(option, true);
    chart.resize();
  }

  // ------------------------------------------------------------ save

  async function save() {
    const body = { definition: toDefinition() };
    if (version !== null) body.version = version;
    try {
      const answer = await api("PUT", `/api/v1/meta/report/${encodeURIComponent(data.name)}`, body);
      version = answer.version;
      clearProblems();
      $("rb-open").hidden = false;
      root.dataset.saved = String(version);
      toast(answer.unchanged ? t("No changes to save") : t("Saved as version {version}.", { version }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        clearProblems();
        const box = $("rb-error");
        box.hidden = false;
        box.textContent = t("Someone else saved this report after you opened it. Reload to see their version, then make your change again.");
        root.dataset.saved = "conflict";
        return;
      }
      showProblems(err);
      root.dataset.saved = "refused";
    }
  }

  // ------------------------------------------------------------ wiring

  function showForm() {
    const pivot = state.type === "pivot";
    $("rb-form-pivot").hidden = !pivot;
    $("rb-form-other").hidden = pivot;
    if (pivot) renderZones();
    else renderOther();
  }

  $("rb-type").value = state.type;
  $("rb-source").value = state.source;
  $("rb-label-en").value = state.labelEn;
  $("rb-label-zh").value = state.labelZh;
  $("rb-chart-type").value = state.chart;

  $("rb-type").addEventListener("change", (e) => { state.type = e.target.value; state.other = {}; showForm(); changed(false); });
  $("rb-source").addEventListener("change", async (e) => {
    state.source = e.target.value;
    Object.assign(state, { rows: [], columns: [], measures: [], filters: [], orderBy: "", other: {} });
    await loadFields();
    showForm();
    changed(false);
  });
  $("rb-label-en").addEventListener("input", (e) => { state.labelEn = e.target.value.trim(); });
  $("rb-label-zh").addEventListener("input", (e) => { state.labelZh = e.target.value.trim(); });
  $("rb-chart-type").addEventListener("change", (e) => { state.chart = e.target.value; changed(false); });
  $("rb-field-search").addEventListener("input", renderFields);
  $("rb-condition").addEventListener("input", (e) => { state.condition = e.target.value; changed(false); });
  $("rb-total-rows").addEventListener("change", (e) => { state.totals.rows = e.target.checked; changed(false); });
  $("rb-total-columns").addEventListener("change", (e) => { state.totals.columns = e.target.checked; changed(false); });
  $("rb-subtotals").addEventListener("change", (e) => { state.totals.subtotals = e.target.checked; changed(false); });
  $("rb-order-by").addEventListener("change", (e) => { state.orderBy = e.target.value; changed(false); });
  $("rb-add-computed").addEventListener("click", () => { state.measures.push({ name: uniqueName("computed"), expr: "" }); changed(); });
  $("rb-add-percent").addEventListener("click", () => {
    const base = state.measures.find((m) => m.agg && m.agg !== "count_distinct");
    state.measures.push({ name: uniqueName(base ? `${base.name}_pct` : "percent"), percent_of: base ? base.name : "", of: "total" });
    changed();
  });
  $("rb-save").addEventListener("click", save);

  /** Which operators a filter item offers on a field (see filterItem). */
  function itemOps(info) {
    if (info.options && info.options.length) return ["==", "!=", ...LIST_OPS];
    return info.kind === "boolean" ? ["=="] : OPS;
  }

  /** A saved report's condition back into filter items, each part the condition builder
      reads as a plain comparison of a field with a value; what it cannot show that way
      stays in "Other condition". The server reads the text (POST /api/v1/rules/condition),
      so the page never parses rule text itself. */
  async function reopenFilters() {
    const condition = state.condition.trim();
    if (state.type !== "pivot" || !state.source || !condition || state.filters.length) return;
    const url = "/api/v1/rules/condition";
    let tree;
    try {
      tree = (await api("POST", url, { entity: state.source, text: condition })).tree;
    } catch (err) {
      return; // the preview names what is wrong with it
    }
    if (!tree || (tree.match !== "all" && tree.items.length > 1)) return;
    const items = [];
    const rest = [];
    for (const node of tree.items) {
      const info = fields[node.field];
      const ok = node.type === "row" && info && info.kind !== "datetime" && itemOps(info).includes(node.op) &&
        (LIST_OPS.includes(node.op) ? Array.isArray(node.value) && node.value.length > 0
          : node.value !== null && ["string", "number", "boolean"].includes(typeof node.value));
      if (ok) items.push({ field: node.field, op: node.op, value: Array.isArray(node.value) ? node.value.map(String) : String(node.value) });
      else rest.push(node);
    }
    if (!items.length) return;
    let remainder = "";
    if (rest.length) {
      try {
        remainder = (await api("POST", url, { entity: state.source, tree: { type: "group", match: "all", items: rest } })).text;
      } catch (err) {
        return;
      }
    }
    state.filters = items;
    state.condition = remainder;
  }

  (async function start() {
    await loadFields();
    await reopenFilters();
    showForm();
    changed(false);
  })();
})();
