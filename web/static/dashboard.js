/* Dashboards: widgets at their saved grid places, the global filters bar, drill-down.

   The dashboard page and the dashboard editor's live preview draw widgets with the
   same code (window.TesseraDashboard): a report as a chart (or a table), a number with
   its comparison to the previous period, a list of records, a "not allowed" tile for a
   widget whose source the viewer may not read. Figures come from the REST API, which
   applies the viewer's row scope; text is always set as text, never parsed as HTML. */
(function () {
  "use strict";
  const T = window.Tessera;
  const R = window.TesseraReports;
  const { t, el, api } = T;
  /** The height of one grid row in pixels: the editor's gridstack uses the same. */
  const CELL = 70;

  function note(section, text) {
    section.querySelector(".widget-note").textContent = text || "";
  }

  /** The empty frame of one widget: a title, a body, a note. */
  function frame(widget) {
    const section = el("section", {
      class: `card widget widget-${widget.kind}`,
      "data-index": String(widget.index),
      "data-kind": widget.kind,
    });
    const title = widget.report ? el("a", { href: `/reports/${widget.report.name}` }, widget.label) : widget.label;
    section.append(el("h2", {}, title), el("div", { class: "widget-body" }), el("p", { class: "muted widget-note" }));
    return section;
  }

  /** Place ``section`` at ``grid`` ({x, y, w, h}) on a 12-column CSS grid. */
  function place(section, grid) {
    section.style.gridColumn = `${grid.x + 1} / span ${grid.w}`;
    section.style.gridRow = `${grid.y + 1} / span ${grid.h}`;
  }

  function changeText(answer) {
    if (answer.previous === undefined) return "";
    if (answer.previous === null) return t("No previous period: set a period filter to compare.");
    const pct = answer.change === null ? "–" : (answer.change > 0 ? "+" : "") + R.fmt(answer.change) + "%";
    return t("Previous period: {value} ({change})", { value: R.fmt(answer.previous), change: pct });
  }

  /** Draw one widget's figures (``answer`` from the API) into its frame. */
  function fill(section, widget, answer, onDrill) {
    const body = section.querySelector(".widget-body");
    note(section, "");
    section.classList.remove("denied", "failed");
    if (widget.denied || (answer && answer.denied)) {
      section.classList.add("denied");
      body.replaceChildren(el("p", { class: "widget-denied" }, t("Not allowed: you may not see these figures.")));
      return;
    }
    if (widget.error || (answer && answer.error)) {
      section.classList.add("failed");
      body.replaceChildren(el("p", { class: "form-error" }, (answer && answer.error) || widget.error));
      return;
    }
    if (!answer) {
      body.replaceChildren(el("p", { class: "muted" }, t("Loading…")));
      return;
    }
    if (answer.ignored && answer.ignored.length) {
      note(section, t("Not filtered by: {names}", { names: answer.ignored.map((n) => filterLabel(n)).join(", ") }));
    }
    if (widget.kind === "kpi" || widget.kind === "number") {
      const value = el("button", { type: "button", class: "kpi-value", "data-format": widget.format || "", title: t("Show the records") },
        R.fmt(answer.value === null ? 0 : answer.value));
      value.dataset.value = answer.value === null ? "" : String(answer.value);
      value.addEventListener("click", () => onDrill && onDrill(widget, [], widget.label));
      const compare = el("p", { class: "kpi-compare" }, changeText(answer));
      if (answer.change !== undefined && answer.change !== null) compare.dataset.change = String(answer.change);
      if (answer.previous !== undefined && answer.previous !== null) compare.dataset.previous = String(answer.previous);
      body.replaceChildren(value, compare);
      return;
    }
    if (widget.kind === "list") {
      const head = el("tr", {}, widget.columns.map((c) => el("th", { scope: "col" }, c.label)));
      const rows = answer.records.map((record) => el("tr", { "data-id": String(record.id) },
        widget.columns.map((c, i) => {
          const value = record[c.key] === null || record[c.key] === undefined ? "" : String(record[c.key]);
          return el("td", {}, i === 0 ? el("a", { href: `/app/${widget.source}/${record.id}` }, value || "#" + record.id) : value);
        })));
      body.replaceChildren(
        el("table", { class: "widget-list" }, el("thead", {}, head), el("tbody", {}, rows)),
        el("p", { class: "muted" }, t("{count} records", { count: answer.count })));
      return;
    }
    const report = widget.report;
    const result = answer.result;
    section.dataset.rows = String(result.rows.length);
    if (widget.chart === "table") {
      const table = el("table", { class: "report-table widget-table" });
      if (result.type === "pivot") R.pivotTable(report, result, table);
      else R.flatTable(report, result, table);
      if (entryKey(result, 0) !== null) {
        // a funnel's stages and a leaderboard's entries drill to their records
        table.querySelectorAll("tbody tr").forEach((tr, i) => {
          tr.classList.add("drill-row");
          tr.dataset.key = JSON.stringify([entryKey(result, i)]);
          tr.title = t("Show the records");
        });
      }
      table.addEventListener("click", (event) => {
        const cell = event.target.closest("td.drill, tr.drill-row");
        if (!cell || !onDrill) return;
        const title = cell.dataset.title || (cell.querySelector("th") || cell).textContent;
        onDrill(widget, JSON.parse(cell.dataset.key), title);
      });
      body.replaceChildren(el("div", { class: "widget-scroll" }, table));
      return;
    }
    const chart = el("div", { class: "widget-chart" });
    body.replaceChildren(chart);
    R.drawChart(chart, R.chartOption(report, result, widget.chart));
    const instance = window.echarts && window.echarts.getInstanceByDom(chart);
    if (instance && result.type === "pivot" && onDrill) {
      instance.on("click", (params) => {
        const key = chartKey(result, params);
        if (key) onDrill(widget, key, params.name + (params.seriesName ? " · " + params.seriesName : ""));
      });
    } else if (instance && onDrill && entryKey(result, 0) !== null) {
      instance.on("click", (params) => {
        const key = entryKey(result, params.dataIndex);
        if (key !== null) onDrill(widget, [key], params.name);
      });
    }
  }

  /** The value a funnel's stage or a leaderboard's entry drills on (null: it does not drill). */
  function entryKey(result, index) {
    const row = result.rows[index];
    if (!row) return null;
    if (result.type === "funnel") return row.stage;
    if (result.type === "leaderboard") return row.key;
    return null;
  }

  /** The pivot key behind a clicked bar or point: row keys then column keys. */
  function chartKey(result, params) {
    const nRows = result.row_dimensions.length;
    const leaves = result.rows.filter((row) => row.level === nRows);
    if (result.column_dimensions.length) {
      const row = leaves[params.seriesIndex];
      const column = result.columns[params.dataIndex];
      return row && column ? row.key.concat(column.key) : null;
    }
    const row = leaves[params.dataIndex];
    return row ? row.key : null;
  }

  let filterLabels = {};
  function filterLabel(name) {
    return filterLabels[name] || name;
  }

  /** Build the frames of ``widgets`` in ``board`` at their places; returns index → frame. */
  function layout(board, widgets) {
    const frames = new Map();
    board.replaceChildren();
    for (const widget of widgets) {
      const section = frame(widget);
      place(section, widget.grid);
      board.append(section);
      frames.set(widget.index, section);
    }
    return frames;
  }

  // ------------------------------------------------------------ the dashboard page

  function dashboardPage(root) {
    const data = JSON.parse(document.getElementById("dashboard-data").textContent);
    const form = document.getElementById("dashboard-filters");
    const board = document.getElementById("board");
    const drill = document.getElementById("dashboard-drill");
    filterLabels = Object.fromEntries(data.filters.map((f) => [f.name, f.label]));
    const frames = layout(board, data.widgets);
    for (const widget of data.widgets) fill(frames.get(widget.index), widget, null);
    let values = {};
    let loads = 0;

    function encoded() {
      return Object.keys(values).length ? "values=" + encodeURIComponent(JSON.stringify(values)) : "";
    }

    async function showDrill(widget, key, title) {
      drill.hidden = false;
      drill.dataset.state = "loading";
      document.getElementById("drill-title").textContent = t("Records behind {cell}", { cell: `${widget.label}: ${title || t("Total")}` });
      const list = document.getElementById("drill-list");
      list.replaceChildren();
      const query = encoded();
      try {
        const answer = await api("GET", `${data.api}/widgets/${widget.index}/drill?key=${encodeURIComponent(JSON.stringify(key))}${query ? "&" + query : ""}`);
        document.getElementById("drill-count").textContent = t("{count} records", { count: answer.count }) +
          (answer.count > answer.records.length ? " · " + t("showing the first {n}", { n: answer.records.length }) : "");
        for (const record of answer.records) {
          const title = record[answer.title_field] || "#" + record.id;
          list.append(el("li", { "data-id": String(record.id) }, el("a", { href: `/app/${answer.entity}/${record.id}` }, String(title))));
        }
        drill.dataset.widget = String(widget.index);
        drill.dataset.key = JSON.stringify(key);
        drill.dataset.state = "ready";
        drill.scrollIntoView({ block: "nearest" });
      } catch (err) {
        drill.dataset.state = "error";
        T.toast(err.message, "error");
      }
    }

    async function load() {
      root.dataset.state = "loading";
      values = R.formValues(form);
      const query = encoded();
      try {
        const answer = await api("GET", data.api + (query ? "?" + query : ""));
        const byIndex = new Map(answer.widgets.map((w) => [w.index, w]));
        for (const widget of data.widgets) fill(frames.get(widget.index), widget, byIndex.get(widget.index) || { denied: true }, showDrill);
        drill.hidden = true;
        loads += 1;
        root.dataset.loads = String(loads);
        root.dataset.state = "ready";
      } catch (err) {
        root.dataset.state = "error";
        T.toast(err.message, "error");
      }
    }

    document.getElementById("drill-close").addEventListener("click", () => { drill.hidden = true; });
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        load();
      });
      form.addEventListener("reset", () => setTimeout(load, 0));
    }
    load();
  }

  window.TesseraDashboard = { CELL, frame, fill, place, layout, setFilterLabels: (labels) => { filterLabels = labels; } };
  const root = document.getElementById("dashboard");
  if (root && document.getElementById("board")) dashboardPage(root);
})();
