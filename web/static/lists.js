/* The list page: the condition builder as its filter, saved views and bulk
   actions. The first page is rendered on the server; this script only adds to it,
   and talks to the REST API through Tessera.api (which sends the CSRF token). */
(function () {
  "use strict";
  const T = window.Tessera;
  const t = T.t;
  const el = T.el;
  const metaNode = document.getElementById("list-meta");
  if (!metaNode) return;
  const meta = JSON.parse(metaNode.textContent);
  const fields = {};
  for (const f of meta.fields) fields[f.key] = f;
  const whereBox = document.getElementById("where");
  const problemList = document.getElementById("where-problems");

  // ------------------------------------------------------------ the condition builder

  /** A value input for field ``f`` (the bulk "Set field" control). */
  function valueInput(f) {
    if (f.options.length) {
      return el("select", { class: "cond-value", "aria-label": t("Value") },
        f.options.map(([value, label]) => el("option", { value }, label)));
    }
    const type = f.kind === "date" ? "date" : f.kind === "datetime" ? "datetime-local"
      : f.num ? "number" : "text";
    return el("input", { class: "cond-value", type, step: f.num ? "any" : null, "aria-label": t("Value") });
  }

  // The filter: nested groups of conditions (condition.js) writing the rule text into
  // the form's ``where`` field, checked live; "Edit as text" shows the text itself.
  T.conditionBuilder(document.getElementById("builder"), {
    entity: meta.entity,
    text: whereBox.value,
    textarea: whereBox,
    problems: problemList,
    addButton: document.getElementById("add-condition"),
  });

  function showProblems(items) {
    problemList.classList.remove("ok");
    problemList.replaceChildren(...items.map((d) => el("li", {},
      d.line ? t("Line {line}, column {column}", { line: d.line, column: d.column }) + ": " : "",
      d.message)));
  }

  // ------------------------------------------------------------ saved views

  const select = document.getElementById("view-select");
  select.addEventListener("change", () => {
    location.href = "/app/" + encodeURIComponent(meta.entity) + (select.value ? "?view=" + select.value : "");
  });

  document.getElementById("save-view").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      entity: meta.entity,
      name: document.getElementById("view-name").value,
      shared: document.getElementById("view-shared").checked,
      columns: meta.columns,
      order_by: meta.sort || null,
      where: whereBox.value.trim() || null,
    };
    try {
      const view = await T.api("POST", "/api/v1/views", body);
      location.href = "/app/" + encodeURIComponent(meta.entity) + "?view=" + view.id;
    } catch (err) {
      showProblems(err.errors.length ? err.errors : [{ message: err.message }]);
      T.toast(err.message, "error");
    }
  });

  const deleteView = document.getElementById("delete-view");
  if (deleteView) {
    deleteView.addEventListener("click", async () => {
      if (!window.confirm(t("Delete this view?"))) return;
      try {
        await T.api("DELETE", "/api/v1/views/" + deleteView.dataset.id);
        location.href = "/app/" + encodeURIComponent(meta.entity);
      } catch (err) {
        T.toast(err.message, "error");
      }
    });
  }

  // ------------------------------------------------------------ bulk actions

  const bulk = document.getElementById("bulk");
  const report = document.getElementById("bulk-report");
  const picks = Array.from(document.querySelectorAll(".pick-row"));
  const pickAll = document.getElementById("pick-all");

  function selected() {
    return picks.filter((box) => box.checked).map((box) => box.closest("tr"));
  }

  function refreshBulk() {
    const n = selected().length;
    bulk.hidden = n === 0;
    document.getElementById("bulk-count").textContent = t("{n} selected", { n });
    const exportLink = document.getElementById("bulk-export");
    if (exportLink) {
      const ids = selected().map((tr) => tr.dataset.id).join(", ");
      exportLink.href = "/api/v1/records/" + encodeURIComponent(meta.entity) +
        "/export?format=csv&lang=" + encodeURIComponent(meta.lang) +
        "&where=" + encodeURIComponent("id in [" + ids + "]");
    }
  }

  picks.forEach((box) => box.addEventListener("change", refreshBulk));
  pickAll.addEventListener("change", () => {
    picks.forEach((box) => { box.checked = pickAll.checked; });
    refreshBulk();
  });

  function problemText(err) {
    const located = [...new Set((err.errors || []).map((e) => e.message).filter(Boolean))];
    return located.length ? located.join("; ") : err.message;
  }

  /**
   * Run one bulk action on every selected record in a single request
   * (POST /api/v1/records/<entity>/bulk): all of them change, or none. A refusal
   * names each refused record by its id; the report lists them by title.
   */
  async function runBulk(action, values) {
    const rowsNow = selected();
    const titles = new Map(rowsNow.map((tr) => [tr.dataset.id, tr.dataset.title]));
    const versions = {};
    rowsNow.forEach((tr) => {
      if (tr.dataset.version) versions[tr.dataset.id] = Number(tr.dataset.version);
    });
    const refused = [];
    let done = 0;
    try {
      const answer = await T.api("POST", "/api/v1/records/" + encodeURIComponent(meta.entity) + "/bulk", {
        action,
        ids: rowsNow.map((tr) => Number(tr.dataset.id)),
        values: values || {},
        versions,
      });
      done = answer.done;
    } catch (err) {
      const byId = new Map();
      (err.errors || []).forEach((e) => {
        if (e.id === undefined || e.id === null) return;
        const key = String(e.id);
        if (!byId.has(key)) byId.set(key, new Set());
        if (e.message) byId.get(key).add(e.message);
      });
      byId.forEach((messages, id) =>
        refused.push({ title: titles.get(id) || "#" + id, message: [...messages].join("; ") || err.message }));
      if (!byId.size) refused.push({ title: "", message: problemText(err) });
    }
    sessionStorage.setItem("tessera.bulk", JSON.stringify({ done, refused, entity: meta.entity }));
    location.reload();
  }

  const assign = document.getElementById("bulk-assign");
  if (assign) {
    assign.addEventListener("click", () => {
      const owner = document.getElementById("bulk-owner").value;
      runBulk("assign", { owner });
    });
  }

  const fieldPick = document.getElementById("bulk-field");
  let bulkValue = document.getElementById("bulk-value");
  function bulkValueInput() {
    const f = fields[fieldPick.value];
    let input;
    if (f.kind === "boolean") {
      input = el("select", {}, el("option", { value: "true" }, t("Yes")), el("option", { value: "false" }, t("No")));
    } else {
      input = valueInput(f);
      if (f.options.length) input.prepend(el("option", { value: "" }, t("(empty)")));
    }
    input.id = "bulk-value";
    input.setAttribute("aria-label", t("Value"));
    bulkValue.replaceWith(input);
    bulkValue = input;
  }
  if (fieldPick) {
    fieldPick.addEventListener("change", bulkValueInput);
    bulkValueInput();
    document.getElementById("bulk-set").addEventListener("click", () => {
      const f = fields[fieldPick.value];
      let value = bulkValue.value;
      if (value === "") value = null;
      else if (f.kind === "boolean") value = value === "true";
      else if (f.num || f.kind === "reference") value = Number(value);
      runBulk("update", { [f.key]: value });
    });
  }

  const remove = document.getElementById("bulk-delete");
  if (remove) {
    remove.addEventListener("click", () => {
      if (!window.confirm(t("Delete {n} records?", { n: selected().length }))) return;
      runBulk("delete");
    });
  }

  const stored = sessionStorage.getItem("tessera.bulk");
  if (stored) {
    sessionStorage.removeItem("tessera.bulk");
    const last = JSON.parse(stored);
    if (last.entity === meta.entity) {
      report.replaceChildren(
        el("li", { class: "summary" }, t("{done} done, {refused} refused", { done: last.done, refused: last.refused.length })),
        ...(last.refused.length ? [el("li", { class: "atomic" }, t("Nothing was changed: the selected records are saved together or not at all."))] : []),
        ...last.refused.map((r) => el("li", { class: "refused" }, r.title ? r.title + ": " + r.message : r.message)));
      T.toast(t("{done} done, {refused} refused", { done: last.done, refused: last.refused.length }),
        last.refused.length ? "error" : null);
    }
  }
})();
