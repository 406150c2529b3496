/* The list page: filter builder with a live expression check, saved views and bulk
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

  // ------------------------------------------------------------ rule-language text

  /** A string as a rule-language literal: quoted, with \ " and newlines escaped. */
  function quote(text) {
    const escaped = String(text)
      .replace(/\\/g, "\\\\")
      .replace(/"/g, '\\"')
      .replace(/\r?\n/g, "\\n")
      .replace(/[\u0000-\u0008\u000b-\u001f]/g, "");
    return '"' + escaped + '"';
  }

  function name(key) {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : "`" + key.replace(/`/g, "") + "`";
  }

  /** The literal for a value typed or picked for field ``f``. */
  function literal(f, raw) {
    const kind = f.kind;
    if (kind === "boolean") return raw === "true" ? "true" : "false";
    if (f.num || kind === "reference") {
      const n = String(raw).trim().replace(/,/g, "");
      return /^-?\d+(\.\d+)?$/.test(n) ? n : quote(raw);
    }
    if (kind === "date" && /^\d{4}-\d{2}-\d{2}$/.test(raw)) return "@" + raw;
    if (kind === "datetime" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw)) return "@" + raw;
    return quote(raw);
  }

  const OPS = {
    text: [["==", "is"], ["!=", "is not"], ["contains", "contains"], ["starts with", "starts with"],
      ["ends with", "ends with"], ["is empty", "is empty", true], ["is not empty", "is not empty", true]],
    select: [["==", "is"], ["!=", "is not"], ["is null", "is empty", true], ["is not null", "is not empty", true]],
    list: [["contains", "contains"], ["is empty", "is empty", true], ["is not empty", "is not empty", true]],
    number: [["==", "="], ["!=", "≠"], [">", ">"], [">=", "≥"], ["<", "<"], ["<=", "≤"],
      ["is null", "is empty", true], ["is not null", "is not empty", true]],
    date: [["==", "on"], ["<", "before"], [">", "after"], ["<=", "on or before"], [">=", "on or after"],
      ["is null", "is empty", true], ["is not null", "is not empty", true]],
    boolean: [["== true", "is yes", true], ["== false", "is no", true]],
  };

  function family(f) {
    if (f.kind === "boolean") return "boolean";
    if (f.kind === "multi_select" || f.kind === "tags") return "list";
    if (f.options.length) return "select";
    if (f.num || f.kind === "reference") return "number";
    if (f.kind === "date" || f.kind === "datetime") return "date";
    return "text";
  }

  // ------------------------------------------------------------ the builder

  const builder = document.getElementById("builder");
  const rows = [];
  let base = null;

  function valueInput(f) {
    if (f.options.length) {
      return el("select", { class: "cond-value", "aria-label": t("Value") },
        f.options.map(([value, label]) => el("option", { value }, label)));
    }
    const type = f.kind === "date" ? "date" : f.kind === "datetime" ? "datetime-local"
      : f.num ? "number" : "text";
    return el("input", { class: "cond-value", type, step: f.num ? "any" : null, "aria-label": t("Value") });
  }

  function condition(row) {
    const f = fields[row.field.value];
    const op = row.op.value;
    const spec = OPS[family(f)].find((o) => o[0] === op);
    if (!spec) return "";
    if (spec[2]) return name(f.key) + " " + op;
    const raw = row.value ? row.value.value : "";
    if (raw === "" && family(f) !== "text") return "";
    return name(f.key) + " " + op + " " + literal(f, raw);
  }

  function writeExpression() {
    const parts = rows.map(condition).filter(Boolean);
    if (base) parts.unshift(/\bor\b/.test(base) ? "(" + base + ")" : base);
    whereBox.value = parts.join(" and ");
    check();
  }

  function fillOps(row) {
    const f = fields[row.field.value];
    row.op.replaceChildren(...OPS[family(f)].map(([sym, label]) => el("option", { value: sym }, t(label))));
    const slot = row.node.querySelector(".cond-slot");
    row.value = valueInput(f);
    row.value.addEventListener("input", writeExpression);
    row.value.addEventListener("change", writeExpression);
    slot.replaceChildren(row.value);
    syncValue(row);
  }

  function syncValue(row) {
    const f = fields[row.field.value];
    const spec = OPS[family(f)].find((o) => o[0] === row.op.value);
    row.value.hidden = Boolean(spec && spec[2]);
  }

  function addRow() {
    if (base === null) base = whereBox.value.trim();
    const row = {};
    row.field = el("select", { class: "cond-field", "aria-label": t("Field") },
      meta.fields.map((f) => el("option", { value: f.key }, f.label)));
    row.op = el("select", { class: "cond-op", "aria-label": t("Operator") });
    const remove = el("button", { type: "button", class: "cond-remove", title: t("Remove condition") }, "×");
    row.node = el("div", { class: "condition" }, row.field, row.op, el("span", { class: "cond-slot" }), remove);
    row.field.addEventListener("change", () => { fillOps(row); writeExpression(); });
    row.op.addEventListener("change", () => { syncValue(row); writeExpression(); });
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      row.node.remove();
      writeExpression();
    });
    rows.push(row);
    builder.append(row.node);
    fillOps(row);
    writeExpression();
    row.value.focus();
  }

  document.getElementById("add-condition").addEventListener("click", addRow);

  // ------------------------------------------------------------ live check

  let timer = null;
  let asked = 0;

  function showProblems(items, ok) {
    problemList.replaceChildren(...items.map((d) => el("li", {},
      d.line ? t("Line {line}, column {column}", { line: d.line, column: d.column }) + ": " : "",
      d.message)));
    problemList.classList.toggle("ok", Boolean(ok));
    if (ok) problemList.append(el("li", { class: "valid" }, t("The expression is valid.")));
  }

  function check() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = whereBox.value.trim();
      const ticket = ++asked;
      if (!text) { showProblems([]); return; }
      try {
        const answer = await T.api("POST", "/api/v1/rules/check", { text, entity: meta.entity });
        if (ticket !== asked) return;
        const errors = answer.diagnostics.filter((d) => (d.severity || "error") === "error");
        showProblems(errors, errors.length === 0);
      } catch (err) {
        if (ticket === asked) showProblems([{ message: err.message }]);
      }
    }, 250);
  }

  whereBox.addEventListener("input", check);

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
