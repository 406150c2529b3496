/* The rule editor's validation grid and its "add a rule set" form.

   A validation row is: error or warning, the message in English and in Chinese (the
   bundles' "English / 中文" text, split and joined by the server's model), the field the
   message is shown on, and the condition, edited with the condition builder
   (condition.js, through rule_editor_conditions.js) and checked live. Every change
   counts the records the condition hits, as the other grids do. The helpers (inputs, the grid table, printing the model) come
   from rule_editor.js, so the grids share one look and one round trip to the text. */

import { conditionGrid } from "./rule_editor_conditions.js";

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
     builder across the whole width (rule_editor_conditions.js). */
  const headings = [t("Kind"), t("Message"), t("Message (Chinese)"), t("Shown on")];
  const table = conditionGrid(b, h, headings, (r) => checkCells(b, r, h, severities), { className: "re-checks" });
  const add = h.addButton(t("Add a check"), () =>
    b.rows.push({ severity: "error", message: t("New check"), message_zh: "", field: "", when: "", comments: [] }),
  );
  return [head, table, add];
}

/** A new rule set of ``kind`` on ``entity`` with one row to start from: the grids fill it
    in. ``target`` is the field a scoring, grading or table set writes. */
function newBlock(kind, name, entity, target) {
  const blank = { comments: [] };
  if (kind === "scoring") {
    return { kind, name, entity, target, cap: "", groups: [], rows: [{ ...blank, points: "+10", label: t("New rule"), when: "", group: "" }] };
  }
  if (kind === "grading") {
    return { kind, name, entity, source: "", target, rows: [{ ...blank, value: "null", when: "" }] };
  }
  if (kind === "routing") {
    return { kind, name, entity, rows: [{ ...blank, label: "", when: "", to: "queue", target: '"pool"', strategy: "", action: "" }] };
  }
  if (kind === "table") {
    return {
      kind, name, entity, policy: "first", targets: [target], inputs: ["id"], outputs: [target], head_comments: [],
      rows: [{ ...blank, cells: ["-"], outputs: ["null"] }],
    };
  }
  return { kind: "validation", name, entity, rows: [{ ...blank, severity: "error", message: t("New check"), message_zh: "", field: "", when: "" }] };
}

/* What each kind is called when the form suggests a name, and which fields it may write. */
const SUFFIX = { scoring: "score", grading: "grade", routing: "routing", table: "table", validation: "checks" };
const WRITES = { scoring: ["number"], grading: null, table: null };

/** The "add a rule set" form under the grids: a validation, scoring, grading, routing or
    decision-table set on the file's entity (a scoring set needs a number field to add its
    points into; grading and a table fill the field chosen). */
export function setUpAddBlock(entity, h) {
  const form = document.getElementById("add-block");
  if (!form || !entity) return;
  const kind = document.getElementById("add-block-kind");
  const name = document.getElementById("add-block-name");
  const target = document.getElementById("add-block-target");
  const error = document.getElementById("add-block-error");
  let fields = [];
  const suggest = () => {
    name.value = `${entity}_${SUFFIX[kind.value] || "checks"}`;
    target.hidden = !(kind.value in WRITES);
    const kinds = WRITES[kind.value];
    const keep = target.value;
    const fit = fields.filter((f) => f.key !== "id" && (!kinds || kinds.includes(f.kind)));
    target.replaceChildren(...fit.map((f) => el("option", { value: f.key, selected: f.key === keep || null }, f.label || f.key)));
  };
  fieldsOf(entity).then((found) => {
    fields = found;
    suggest();
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
    else if (kind.value in WRITES && !target.value) problem = t("Choose the field this rule set fills.");
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
