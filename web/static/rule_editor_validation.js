/* The rule editor's validation grid and its "add a rule set" form.

   A validation row is: error or warning, the message in English and in Chinese (the
   bundles' "English / 中文" text, split and joined by the server's model), the field the
   message is shown on, and the condition, edited with the condition builder
   (condition.js) and checked live. Every change counts the records the condition hits,
   as the other grids do. The helpers (inputs, the grid table, printing the model) come
   from rule_editor.js, so the grids share one look and one round trip to the text. */

const { t, api, el } = window.Tessera;

const fieldLists = {};

/** The fields a rule may be shown on or score into, as the condition builder offers them. */
export function fieldsOf(entity) {
  if (!fieldLists[entity]) {
    fieldLists[entity] = api("GET", "/api/v1/rules/operators?entity=" + encodeURIComponent(entity))
      .then((answer) => answer.fields)
      .catch(() => []);
  }
  return fieldLists[entity];
}

/** A select of the entity's fields; ``blank`` labels the empty choice (none when null). */
function fieldSelect(entity, value, onChange, attrs, blank, kinds) {
  const box = el("select", attrs);
  const fill = (fields) => {
    const options = fields.filter((f) => !kinds || kinds.includes(f.kind)).map((f) => [f.key, f.label || f.key]);
    if (value && !options.some(([k]) => k === value)) options.unshift([value, value]);
    if (blank !== null) options.unshift(["", blank]);
    box.replaceChildren(...options.map(([k, label]) => el("option", { value: k, selected: k === value || null }, label)));
  };
  fill([]);
  fieldsOf(entity).then(fill);
  box.addEventListener("change", () => onChange(box.value));
  return box;
}

/** A check's condition, with the condition builder (its text view checked live). */
function whenCell(b, r, h) {
  const box = el("div", { class: "re-when" }, el("span", { class: "muted" }, t("Condition")));
  if (!window.Tessera.conditionBuilder) {
    box.append(h.conditionInput(r.when, b.entity, (v) => (r.when = v), { "aria-label": t("Condition") }));
    return box;
  }
  window.Tessera.conditionBuilder(box, {
    entity: b.entity,
    text: r.when || "",
    onChange: (value) => {
      r.when = value.trim();
      h.changed();
      if (r.when) h.showMatching(r.when, b.entity);
    },
  });
  return box;
}

function checkCells(b, r, h, severities) {
  const shownOn = fieldSelect(b.entity, r.field || "", (v) => {
    r.field = v;
    h.changed();
  }, { class: "shown-on", "aria-label": t("Shown on") }, t("(the fields it reads)"));
  return [
    el("td", {}, h.select(severities, r.severity || "error", (v) => (r.severity = v), { class: "severity", "aria-label": t("Kind") })),
    el("td", {}, h.input(r.message, (v) => (r.message = v), { class: "message", "aria-label": t("Message") })),
    el("td", {}, h.input(r.message_zh, (v) => (r.message_zh = v), { class: "message-zh", lang: "zh-CN", "aria-label": t("Message (Chinese)") })),
    el("td", {}, shownOn),
  ];
}

/** The grid of a ``validation`` block. */
export function validationGrid(b, h) {
  const head = el("p", { class: "muted" }, t("An error refuses the save and shows its message at the field; a warning saves and shows it."));
  const severities = [["error", t("Error")], ["warning", t("Warning")]];
  /* Each check is a tbody of two lines: its message and field, then its condition
     builder across the whole width. */
  const headings = [t("Kind"), t("Message"), t("Message (Chinese)"), t("Shown on")];
  const table = el(
    "table",
    { class: "grid re-grid re-checks", dataset: { block: b.name } },
    el("thead", {}, el("tr", {}, headings.map((x) => el("th", {}, x)), el("th", {}))),
    b.rows.map((r, i) =>
      el(
        "tbody",
        { dataset: { row: i } },
        el("tr", {}, checkCells(b, r, h, severities), h.tools(b.rows, i)),
        el("tr", { class: "re-when-row" }, el("td", { colspan: headings.length + 1 }, whenCell(b, r, h))),
      ),
    ),
  );
  const add = h.addButton(t("Add a check"), () =>
    b.rows.push({ severity: "error", message: t("New check"), message_zh: "", field: "", when: "", comments: [] }),
  );
  return [head, table, add];
}

/** A new, empty rule set of ``kind`` on ``entity``: the grids fill it in. */
function newBlock(kind, name, entity, target) {
  if (kind === "scoring") {
    return { kind, name, entity, target, cap: "", groups: [], rows: [{ points: "+10", label: t("New rule"), when: "", group: "", comments: [] }] };
  }
  return { kind: "validation", name, entity, rows: [{ severity: "error", message: t("New check"), message_zh: "", field: "", when: "", comments: [] }] };
}

/** The "add a rule set" form under the grids: a validation or a scoring set on the file's
    entity (a scoring set needs a number field to add its points into). */
export function setUpAddBlock(entity, h) {
  const form = document.getElementById("add-block");
  if (!form || !entity) return;
  const kind = document.getElementById("add-block-kind");
  const name = document.getElementById("add-block-name");
  const target = document.getElementById("add-block-target");
  const error = document.getElementById("add-block-error");
  const suggest = () => {
    name.value = `${entity}_${kind.value === "scoring" ? "score" : "checks"}`;
    target.hidden = kind.value !== "scoring";
  };
  fieldsOf(entity).then((fields) => {
    const numbers = fields.filter((f) => f.kind === "number");
    target.replaceChildren(...numbers.map((f) => el("option", { value: f.key }, f.label || f.key)));
  });
  kind.addEventListener("change", suggest);
  suggest();
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const model = h.model();
    error.hidden = true;
    let problem = "";
    if (!model) problem = t("The text has a syntax error; fix it in the code editor to use the grids.");
    else if (!/^[a-z][a-z0-9_]*$/.test(name.value)) problem = t("A rule set's name is lower-case letters, digits and _.");
    else if (model.blocks.some((b) => b.name === name.value)) problem = t("There is already a rule set called {name}.", { name: name.value });
    else if (kind.value === "scoring" && !target.value) problem = t("A scoring set adds its points into a number field; {entity} has none.", { entity });
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    model.blocks = model.blocks.filter((b) => b.kind !== "text" || String(b.text).trim());
    if (model.blocks.length) model.blocks.push({ kind: "text", text: "" });
    model.blocks.push(newBlock(kind.value, name.value, entity, target.value));
    model.blocks.push({ kind: "text", text: "" });
    h.renderGrids();
    h.changed();
    suggest();
  });
}
