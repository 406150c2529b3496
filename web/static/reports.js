/* Report and dashboard pages: figures from the REST API drawn as an ECharts chart and a
   table, parameters and global filters, drill-down to the records behind a cell.
   Text from the API is always set as text (Tessera.el), never parsed as HTML. */
(function () {
  "use strict";
  const T = window.Tessera;
  const { t, el, api } = T;
  const locale = T.lang === "zh-CN" ? "zh-CN" : "en-US";
  const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });

  /** A figure in the user's language (thousands separators, at most two decimals). */
  function fmt(value) {
    if (value === null || value === undefined || value === "") return "";
    const n = typeof value === "number" ? value : Number(value);
    return Number.isFinite(n) ? numbers.format(n) : String(value);
  }

  function numeric(value) {
    if (value === null || value === undefined || value === "") return null;
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }

  /** The label of one key value of dimension ``index`` (option labels in the user's language). */
  function keyLabel(report, index, value, fallback) {
    const path = report.dimensions[index];
    const labels = (path && report.values[path]) || {};
    if (value !== null && value !== undefined && labels[value] !== undefined) return labels[value];
    if (fallback !== undefined && fallback !== "") return fallback;
    return value === null || value === undefined ? t("(empty)") : String(value);
  }

  function rowText(report, row) {
    return row.labels.map((text, i) => keyLabel(report, i, row.key[i], text)).join(" / ");
  }

  function columnText(report, result, column) {
    const offset = result.row_dimensions.length;
    return column.labels.map((text, i) => keyLabel(report, offset + i, column.key[i], text)).join(" / ");
  }

  function measureText(report, measure) {
    return report.measures[measure.name] || measure.name;
  }

  function encodeParams(values) {
    return Object.keys(values).length ? "params=" + encodeURIComponent(JSON.stringify(values)) : "";
  }

  /** Parameter values from a form of fieldsets: {name: value} or {name: {from, to}}. */
  function formValues(form) {
    const values = {};
    if (!form) return values;
    for (const set of form.querySelectorAll("fieldset.param")) {
      const name = set.dataset.name;
      if (set.dataset.kind === "period") {
        const from = set.querySelector(`input[name="${name}.from"]`).value;
        const to = set.querySelector(`input[name="${name}.to"]`).value;
        if (from || to) values[name] = Object.assign({}, from ? { from } : {}, to ? { to } : {});
      } else {
        const input = set.querySelector("select, input");
        if (input && input.value) values[name] = input.value;
      }
    }
    return values;
  }

  // ------------------------------------------------------------ charts

  /** The ECharts option for a result: by report type, the chart hint, or the result's own. */
  function chartOption(report, result, hint) {
    const kind = hint || (result.chart && result.chart.type) || report.chart || "bar";
    if (kind === "table") return null;
    if (result.type === "funnel") {
      const data = result.rows.map((row) => ({
        name: keyLabel({ dimensions: [report.stage_field], values: report.values }, 0, row.stage),
        value: numeric(row.reached !== undefined ? row.reached : row.count),
      }));
      return {
        tooltip: { trigger: "item" },
        series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", data,
                   label: { show: true, position: "inside" } }],
      };
    }
    let categories;
    let series;
    if (result.type === "pivot") {
      const nRows = result.row_dimensions.length;
      const leaves = result.rows.filter((row) => row.level === nRows);
      if (result.column_dimensions.length) {
        categories = result.columns.map((c) => columnText(report, result, c));
        series = leaves.map((row) => ({
          name: rowText(report, row),
          data: row.cells.map((cell) => numeric(cell ? cell[0] : null)),
        }));
      } else {
        categories = leaves.map((row) => rowText(report, row));
        series = result.measures.map((m, i) => ({
          name: measureText(report, m),
          data: leaves.map((row) => numeric(row.cells[0] ? row.cells[0][i] : null)),
        }));
      }
    } else if (result.chart) {
      const stageOf = (v) => keyLabel({ dimensions: [report.stage_field], values: report.values }, 0, v);
      categories = result.chart.categories.map((c) => stageOf(c));
      const names = { reached: t("Reached"), count: t("Count"), value: t("Value"), target: t("Target"),
                      customers: t("Customers"), monetary: t("Monetary") };
      series = result.chart.series.map((s) => ({ name: names[s.name] || s.name, data: s.data.map(numeric), axis: s.axis || 0 }));
    } else {
      const first = report.columns[0];
      const value = report.columns.find((c) => c.key === "weighted") || report.columns[1];
      categories = result.rows.map((row) => String(row[first.key]));
      series = [{ name: value.label, data: result.rows.map((row) => numeric(row[value.key])) }];
    }
    if (kind === "pie") {
      const s = series[0] || { data: [] };
      return {
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: "65%", data: categories.map((name, i) => ({ name, value: s.data[i] })) }],
      };
    }
    const stacked = kind === "stacked_bar";
    // A series the result puts on axis 1 (counts beside amounts) gets a right-hand axis.
    const twoAxes = series.some((s) => s.axis === 1);
    const valueAxis = (name) => ({ type: "value", name, axisLabel: { formatter: (v) => fmt(v) } });
    return {
      tooltip: { trigger: "axis", valueFormatter: (v) => fmt(v) },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: twoAxes ? 8 : 16, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "category", data: categories },
      yAxis: twoAxes
        ? [valueAxis(series.filter((s) => !s.axis).map((s) => s.name).join(" / ")),
           Object.assign(valueAxis(series.filter((s) => s.axis === 1).map((s) => s.name).join(" / ")), { splitLine: { show: false } })]
        : valueAxis(undefined),
      series: series.map((s) => ({
        name: s.name,
        type: kind === "line" ? "line" : "bar",
        stack: stacked ? "total" : undefined,
        yAxisIndex: twoAxes && s.axis === 1 ? 1 : 0,
        data: s.data,
      })),
    };
  }

  function drawChart(node, option) {
    if (!window.echarts) return;
    let chart = window.echarts.getInstanceByDom(node);
    if (!option) {
      if (chart) chart.dispose();
      node.hidden = true;
      return;
    }
    node.hidden = false;
    if (!chart) {
      chart = window.echarts.init(node);
      window.addEventListener("resize", () => chart.resize());
    }
    chart.setOption(option, true);
  }

  // ------------------------------------------------------------ the table

  function drillCell(text, key, title) {
    const td = el("td", { class: "num drill", tabindex: "0", role: "button", title: t("Show the records") }, text);
    td.dataset.key = JSON.stringify(key);
    td.dataset.title = title;
    return td;
  }

  function pivotTable(report, result, table) {
    const nRows = result.row_dimensions.length;
    const nCols = result.column_dimensions.length;
    const measures = result.measures;
    const hasTotal = result.rows.some((row) => row.total) || Boolean(result.totals && result.totals.total && nCols);
    const head = el("thead");
    const dimHeads = () =>
      result.row_dimensions.map((d, i) =>
        el("th", { rowspan: nCols ? "2" : null, scope: "col" }, report.dimension_labels[i] || d.label));
    if (nCols) {
      head.append(el("tr", {}, dimHeads(),
        result.columns.map((c) => el("th", { colspan: String(measures.length), scope: "colgroup", class: "col-key" }, columnText(report, result, c))),
        hasTotal ? el("th", { colspan: String(measures.length), scope: "colgroup" }, t("Total")) : null));
      const second = [];
      for (let i = 0; i < result.columns.length + (hasTotal ? 1 : 0); i++) {
        for (const m of measures) second.push(el("th", { scope: "col", class: "num" }, measureText(report, m)));
      }
      head.append(el("tr", {}, second));
    } else {
      head.append(el("tr", {}, dimHeads(), measures.map((m) => el("th", { scope: "col", class: "num" }, measureText(report, m)))));
    }
    const body = el("tbody");
    for (const row of result.rows) {
      const subtotal = row.level < nRows;
      const labels = [];
      for (let i = 0; i < nRows; i++) {
        let text = "";
        if (subtotal && i === row.level) text = t("Subtotal");
        else if (i < row.labels.length && (!subtotal || i < row.level)) text = keyLabel(report, i, row.key[i], row.labels[i]);
        labels.push(el("th", { scope: "row" }, text));
      }
      const cells = [];
      result.columns.forEach((column, ci) => {
        const values = row.cells[ci] || [];
        measures.forEach((m, mi) => {
          const text = fmt(values[mi]);
          if (!subtotal && report.drill) {
            cells.push(drillCell(text, row.key.concat(column.key), rowText(report, row) + (column.labels.length ? " · " + columnText(report, result, column) : "")));
          } else {
            cells.push(el("td", { class: "num" }, text));
          }
        });
      });
      if (hasTotal) {
        const values = row.total || [];
        measures.forEach((m, mi) => {
          const key = row.key.slice(0, row.level);
          cells.push(report.drill ? drillCell(fmt(values[mi]), key, rowText(report, row) + " · " + t("Total")) : el("td", { class: "num" }, fmt(values[mi])));
        });
      }
      body.append(el("tr", { class: subtotal ? "subtotal" : "leaf", "data-key": JSON.stringify(row.key) }, labels, cells));
    }
    if (result.totals) {
      const labels = [el("th", { scope: "row", colspan: String(Math.max(nRows, 1)) }, t("Total"))];
      const cells = [];
      (result.totals.cells || []).forEach((values, ci) => {
        const column = result.columns[ci];
        const drillable = report.drill && column && (!nCols || !nRows);
        measures.forEach((m, mi) => {
          const text = fmt((values || [])[mi]);
          cells.push(drillable ? drillCell(text, column.key, t("Total")) : el("td", { class: "num" }, text));
        });
      });
      if (result.totals.total && hasTotal) {
        measures.forEach((m, mi) => {
          const text = fmt(result.totals.total[mi]);
          cells.push(report.drill ? drillCell(text, [], t("Total")) : el("td", { class: "num" }, text));
        });
      }
      body.append(el("tr", { class: "totals" }, labels, cells));
    }
    table.replaceChildren(head, body);
  }

  function flatTable(report, result, table) {
    const columns = report.columns;
    const head = el("thead", {}, el("tr", {}, columns.map((c, i) => el("th", { scope: "col", class: i ? "num" : null }, c.label))));
    const body = el("tbody");
    for (const row of result.rows) {
      body.append(el("tr", {}, columns.map((c, i) => {
        let value = row[c.key];
        if (i === 0 && report.stage_field) value = keyLabel({ dimensions: [report.stage_field], values: report.values }, 0, value);
        return i ? el("td", { class: "num" }, fmt(value)) : el("th", { scope: "row" }, value === null || value === undefined ? "" : String(value));
      })));
    }
    table.replaceChildren(head, body);
  }

  // ------------------------------------------------------------ the report page

  function reportPage(root) {
    const report = JSON.parse(document.getElementById("report-data").textContent);
    const form = document.getElementById("report-params");
    const status = document.getElementById("report-status");
    const table = document.getElementById("report-table");
    const chartNode = document.getElementById("report-chart");
    const drill = document.getElementById("report-drill");
    let query = "";

    async function load() {
      root.dataset.state = "loading";
      status.hidden = false;
      status.textContent = t("Loading…");
      query = encodeParams(formValues(form));
      for (const link of root.querySelectorAll("a.export")) {
        link.href = `${report.api}/export?format=${link.dataset.format}&lang=${encodeURIComponent(T.lang)}${query ? "&" + query : ""}`;
      }
      try {
        const result = await api("GET", report.api + (query ? "?" + query : ""));
        if (result.type === "pivot") pivotTable(report, result, table);
        else flatTable(report, result, table);
        drawChart(chartNode, chartOption(report, result));
        status.textContent = result.truncated ? t("The result was cut: only the first cells are shown.") : "";
        status.hidden = !result.truncated;
        if (!result.rows.length) {
          status.hidden = false;
          status.textContent = t("No records match.");
        }
        drill.hidden = true;
        root.dataset.state = "ready";
      } catch (err) {
        status.textContent = err.message;
        root.dataset.state = "error";
        T.toast(err.message, "error");
      }
    }

    async function showDrill(cell) {
      const key = cell.dataset.key;
      drill.hidden = false;
      drill.dataset.state = "loading";
      document.getElementById("drill-title").textContent = t("Records behind {cell}", { cell: cell.dataset.title || t("Total") });
      const list = document.getElementById("drill-list");
      list.replaceChildren();
      try {
        const answer = await api("GET", `${report.api}/drill?key=${encodeURIComponent(key)}${query ? "&" + query : ""}`);
        document.getElementById("drill-count").textContent = t("{count} records", { count: answer.count }) +
          (answer.count > answer.records.length ? " · " + t("showing the first {n}", { n: answer.records.length }) : "");
        for (const record of answer.records) {
          const title = record[report.title_field] || "#" + record.id;
          list.append(el("li", { "data-id": String(record.id) }, el("a", { href: `/app/${answer.entity}/${record.id}` }, String(title))));
        }
        drill.dataset.key = key;
        drill.dataset.state = "ready";
        drill.scrollIntoView({ block: "nearest" });
      } catch (err) {
        drill.dataset.state = "error";
        T.toast(err.message, "error");
      }
    }

    /** Fetch the export first, so a refused or failed one says why on the page
        (a plain link would leave the browser with a failed download and no message). */
    async function exportFile(link) {
      link.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(link.href, { credentials: "same-origin" });
        if (!response.ok) {
          const type = response.headers.get("Content-Type") || "";
          throw new T.ApiError(response.status, type.includes("json") ? await response.json() : null);
        }
        const url = URL.createObjectURL(await response.blob());
        const name = `${report.name || "report"}.${link.dataset.format}`;
        const save = el("a", { href: url, download: name, hidden: true });
        document.body.append(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (err) {
        status.hidden = false;
        status.textContent = t("Export failed: {error}", { error: err.message });
        T.toast(status.textContent, "error");
      } finally {
        link.removeAttribute("aria-busy");
      }
    }

    for (const link of root.querySelectorAll("a.export")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        exportFile(link);
      });
    }
    table.addEventListener("click", (event) => {
      const cell = event.target.closest("td.drill");
      if (cell) showDrill(cell);
    });
    table.addEventListener("keydown", (event) => {
      const cell = event.target.closest("td.drill");
      if (cell && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        showDrill(cell);
      }
    });
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        load();
      });
      form.addEventListener("reset", () => setTimeout(load, 0));
    }
    load();
  }

  // The dashboard page and the dashboard editor draw their widgets with the same helpers.
  window.TesseraReports = { fmt, numeric, keyLabel, chartOption, drawChart, pivotTable, flatTable, formValues, rowText, columnText };

  const report = document.getElementById("report");
  if (report) reportPage(report);
})();
