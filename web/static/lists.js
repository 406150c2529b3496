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

  /** Run ``action`` on every selected record, one by one; refusals are kept per record. */
  async function runBulk(action) {
    const rowsNow = selected();
    const refused = [];
    let done = 0;
    for (const tr of rowsNow) {
      try {
        await action(tr);
        done += 1;
      } catch (err) {
        refused.push({ title: tr.dataset.title, message: problemText(err) });
      }
    }
    sessionStorage.setItem("tessera.bulk", JSON.stringify({ done, refused, entity: meta.entity }));
    location.reload();
  }

  function patch(tr, changes) {
    return T.api("PATCH", "/api/v1/records/" + encodeURIComponent(meta.entity) + "/" + tr.dataset.id,
      Object.assign({ version: Number(tr.dataset.version) }, changes));
  }

  const assign = document.getElementById("bulk-assign");
  if (assign) {
    assign.addEventListener("click", () => {
      const owner = document.getElementById("bulk-owner").value;
      runBulk((tr) => patch(tr, { owner }));
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
      runBulk((tr) => patch(tr, { [f.key]: value }));
    });
  }

  const remove = document.getElementById("bulk-delete");
  if (remove) {
    remove.addEventListener("click", () => {
      if (!window.confirm(t("Delete {n} records?", { n: selected().length }))) return;
      runBulk((tr) => T.api("DELETE", "/api/v1/records/" + encodeURIComponent(meta.entity) + "/" + tr.dataset.id));
    });
  }

  const stored = sessionStorage.getItem("tessera.bulk");
  if (stored) {
    sessionStorage.removeItem("tessera.bulk");
    const last = JSON.parse(stored);
    if (last.entity === meta.entity) {
      report.replaceChildren(
        el("li", { class: "summary" }, t("{done} done, {refused} refused", { done: last.done, refused: last.refused.length })),
        ...last.refused.map((r) => el("li", { class: "refused" }, r.title + ": " + r.message)));
      T.toast(t("{done} done, {refused} refused", { done: last.done, refused: last.refused.length }),
        last.refused.length ? "error" : null);
    }
  }
})();
