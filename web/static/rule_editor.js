/* The rule editor: grids and a CodeMirror 6 code editor over one .rules text.
   Every edit goes through the engine: grids print to text (/api/v1/rules/print), text
   reads back into grids (/api/v1/rules/model), the checker's diagnostics come from
   /api/v1/rules/check and completion from /api/v1/rules/complete. Publishing is a PUT
   through the metadata API with the version the editor started from. */
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { linter, lintGutter } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { setUpAddBlock, validationGrid } from "./rule_editor_validation.js";
import { conditionGrid } from "./rule_editor_conditions.js";

const { t, api, toast, el } = window.Tessera;
const root = document.getElementById("rule-editor");
const name = root.dataset.name;
const path = `rules/${name}.rules`;
let baseVersion = Number(root.dataset.version);
let publishedText = JSON.parse(document.getElementById("rules-text").textContent);
let text = publishedText;
let model = null;
let fromGrid = false;

const KEYWORDS = new Set(("scoring grading routing trigger schedule validation table test on into from cap group " +
  "when otherwise where every assign user team queue field round robin least loaded create task for due in notify " +
  "start flow add tag call webhook do with set error warning given expect and or not in between contains starts " +
  "ends matches is null empty changed to true false if then else").split(" "));

/* ---------------------------------------------------------------- helpers */

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function problemText(err) {
  const first = (err.errors || [])[0];
  return first && first.message ? `${err.message}: ${first.message}` : err.message;
}

function entityAt(source, offset) {
  const before = source.slice(0, offset);
  const re = /^(?:scoring|grading|routing|trigger|schedule|validation|table)\s+\w+\s+on\s+(\w+)/gm;
  let m, found = null;
  while ((m = re.exec(before)) !== null) found = m[1];
  if (!found) {
    const next = re.exec(source);
    found = next ? next[1] : null;
  }
  return found;
}

/* The condition on a rule line: after `when` / `where`, before a routing action. */
function conditionOfLine(line) {
  const m = /\b(?:when|where)\s+(.*)$/.exec(line);
  if (!m) return null;
  let cond = m[1].replace(/\s+#.*$/, "");
  cond = cond.replace(/:\s*$/, "");
  const action = /\s+assign\s+(user|team|queue|field)\b/.exec(cond);
  if (action) cond = cond.slice(0, action.index);
  return cond.trim() || null;
}

/* ---------------------------------------------------------------- code editor */

const rulesLanguage = StreamLanguage.define({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return "comment";
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/) || stream.match(/^'(?:[^'\\]|\\.)*'?/)) return "string";
    if (stream.match(/^@\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-][\d:]+)?)?/)) return "number";
    if (stream.match(/^\d[\d_]*(?:\.\d+)?[smhdw]?\b/)) return "number";
    if (stream.match(/^`[^`]*`/)) return "variableName";
    if (stream.match(/^(?:=>|==|!=|<=|>=|[<>+\-*/%|=])/)) return "operator";
    const word = stream.match(/^[\p{L}_][\p{L}\p{N}_]*/u);
    if (word) return KEYWORDS.has(word[0]) ? "keyword" : "variableName";
    stream.next();
    return null;
  },
});

function showDiagnostics(found) {
  const list = document.getElementById("diagnostics");
  list.replaceChildren();
  // the grids show the same messages (an edit in a grid is checked like typed code)
  const inGrid = document.getElementById("grid-diagnostics");
  inGrid.replaceChildren(
    ...found.map((d) => el("li", { class: d.severity === "warning" ? "warning" : "error" }, t("Line {line}, column {column}: {message}", { line: d.line, column: d.column, message: d.message }))),
  );
  if (!found.length) {
    list.append(el("li", { class: "ok" }, t("No problems found.")));
    return;
  }
  for (const d of found) {
    list.append(
      el(
        "li",
        { class: d.severity === "warning" ? "warning" : "error", dataset: { line: d.line, column: d.column } },
        t("Line {line}, column {column}: {message}", { line: d.line, column: d.column, message: d.message }),
      ),
    );
  }
}

async function checkSource(view) {
  const source = view.state.doc.toString();
  let found = [];
  try {
    found = (await api("POST", "/api/v1/rules/check", { text: source, path })).diagnostics;
  } catch (err) {
    toast(problemText(err), "error");
    return [];
  }
  if (view.state.doc.toString() !== source) return [];
  showDiagnostics(found);
  const doc = view.state.doc;
  return found.map((d) => {
    const line = doc.line(Math.min(Math.max(d.line || 1, 1), doc.lines));
    const from = Math.min(line.from + Math.max((d.column || 1) - 1, 0), line.to);
    let to = from + 1;
    if (d.end && d.end.line) {
      const endLine = doc.line(Math.min(Math.max(d.end.line, 1), doc.lines));
      to = Math.min(endLine.from + Math.max(d.end.column - 1, 0), endLine.to);
    }
    if (to <= from) to = Math.min(from + 1, line.to);
    return { from, to: Math.max(to, from), severity: d.severity === "warning" ? "warning" : "error", message: d.message };
  });
}

async function complete(context) {
  const word = context.matchBefore(/[\p{L}\p{N}_]*/u);
  if (!context.explicit && (!word || word.from === word.to)) {
    const before = context.state.sliceDoc(Math.max(0, context.pos - 1), context.pos);
    if (before !== '"') return null;
  }
  let answer;
  try {
    answer = await api("POST", "/api/v1/rules/complete", { text: context.state.doc.toString(), position: context.pos });
  } catch (err) {
    return null;
  }
  return {
    from: answer.from,
    options: answer.items.map((i) => ({ label: i.label, type: i.type === "field" ? "property" : i.type, detail: i.detail })),
    validFor: /^[\p{L}\p{N}_]*$/u,
  };
}

const onCodeChange = debounce(async () => {
  text = view.state.doc.toString();
  markDirty();
  await readModel();
}, 400);

const onCursor = debounce(() => {
  const state = view.state;
  const pos = state.selection.main.head;
  const line = state.doc.lineAt(pos).text;
  const condition = conditionOfLine(line);
  const entity = entityAt(state.doc.toString(), pos);
  if (condition && entity) showMatching(condition, entity);
}, 400);

const view = new EditorView({
  parent: document.getElementById("code"),
  state: EditorState.create({
    doc: text,
    extensions: [
      basicSetup,
      rulesLanguage,
      lintGutter(),
      linter(checkSource, { delay: 500 }),
      autocompletion({ override: [complete] }),
      EditorView.updateListener.of((update) => {
        // a grid's own edit reaches the code synchronously: do not read it back into the grids
        if (update.docChanged && !fromGrid) onCodeChange();
        if (update.selectionSet || update.docChanged) onCursor();
      }),
    ],
  }),
});

function setCode(source) {
  fromGrid = true;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
  fromGrid = false;
}

/* ---------------------------------------------------------------- grids */

async function readModel() {
  try {
    model = (await api("POST", "/api/v1/rules/model", { text })).model;
    document.getElementById("grid-unavailable").hidden = true;
  } catch (err) {
    model = null;
    document.getElementById("grid-unavailable").hidden = false;
  }
  renderGrids();
}

const printModel = debounce(async () => {
  try {
    text = (await api("POST", "/api/v1/rules/print", { model })).text;
  } catch (err) {
    toast(problemText(err), "error");
    return;
  }
  setCode(text);
  markDirty();
}, 300);

function changed() {
  printModel();
}

function input(value, onChange, attrs) {
  const box = el("input", Object.assign({ type: "text", value: value == null ? "" : String(value) }, attrs || {}));
  box.addEventListener("input", () => {
    onChange(box.value);
    changed();
  });
  return box;
}

function conditionInput(value, entity, onChange, attrs) {
  const box = input(value, onChange, Object.assign({ class: "condition" }, attrs || {}));
  const look = () => {
    document.querySelectorAll(".re-grid input.active").forEach((x) => x.classList.remove("active"));
    box.classList.add("active");
    if (box.value.trim()) showMatching(box.value.trim(), entity);
  };
  box.addEventListener("focus", look);
  box.addEventListener("input", debounce(look, 500));
  return box;
}

function select(options, value, onChange, attrs) {
  const box = el("select", attrs || {}, options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
  box.addEventListener("change", () => {
    onChange(box.value);
    changed();
  });
  return box;
}

function tools(rows, index) {
  const up = el("button", { type: "button", title: t("Move up"), "aria-label": t("Move up") }, "↑");
  up.addEventListener("click", () => {
    if (index === 0) return;
    [rows[index - 1], rows[index]] = [rows[index], rows[index - 1]];
    renderGrids();
    changed();
  });
  const remove = el("button", { type: "button", title: t("Remove"), "aria-label": t("Remove") }, "×");
  remove.addEventListener("click", () => {
    rows.splice(index, 1);
    renderGrids();
    changed();
  });
  return el("td", { class: "tools" }, up, remove);
}

function addButton(label, onClick) {
  const button = el("button", { type: "button", class: "add-row" }, label);
  button.addEventListener("click", () => {
    onClick();
    renderGrids();
    changed();
  });
  return button;
}

function grid(block, headings, rows, renderRow) {
  return el(
    "table",
    { class: "grid re-grid", dataset: { block: block.name } },
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)), el("th", {}))),
    el("tbody", {}, rows.map((row, i) => el("tr", { dataset: { row: i } }, renderRow(row, i), tools(rows, i)))),
  );
}

function scoringGrid(b) {
  const head = el(
    "p",
    { class: "muted" },
    t("Adds the points of every rule that holds into {target}.", { target: b.target }),
    " ",
    t("Cap"),
    " ",
    input(b.cap, (v) => (b.cap = v), { class: "cap", size: 5, "aria-label": t("Cap") }),
  );
  const table = conditionGrid(b, helpers, [t("Label"), t("Points"), t("Group")], (r) => [
    el("td", {}, input(r.label, (v) => (r.label = v), { class: "label", "aria-label": t("Label") })),
    el("td", {}, input(r.points, (v) => (r.points = v), { class: "points", "aria-label": t("Points") })),
    el("td", {}, input(r.group, (v) => (r.group = v), { class: "group", size: 6, "aria-label": t("Group") })),
  ]);
  const add = addButton(t("Add a rule"), () => b.rows.push({ points: "+10", label: t("New rule"), when: "", group: "", comments: [] }));
  const groups = (b.groups || []).map((g) =>
    el(
      "span",
      { class: "re-group", dataset: { group: g.name } },
      t("Group {name} caps at", { name: g.name }),
      " ",
      input(g.cap, (v) => (g.cap = v), { class: "cap", size: 5, "aria-label": t("Cap") }),
    ),
  );
  return [head, table, groups.length ? el("p", { class: "muted" }, groups) : null, add];
}

function gradingGrid(b) {
  const head = el("p", { class: "muted" }, t("The first line that holds sets {target}; an empty condition means otherwise.", { target: b.target }));
  const table = conditionGrid(b, helpers, [t("Value")], (r) => [
    el("td", {}, input(r.value, (v) => (r.value = v), { class: "value", "aria-label": t("Value") })),
  ], { otherwise: true });
  const add = addButton(t("Add a line"), () => b.rows.splice(Math.max(b.rows.length - 1, 0), 0, { value: '""', when: "", comments: [] }));
  return [head, table, add];
}

const ASSIGN = () => [["user", t("a user")], ["team", t("a team")], ["queue", t("a queue")], ["field", t("the value of")], ["", t("another action")]];
const STRATEGY = () => [["", t("(none)")], ["round_robin", t("round robin")], ["least_loaded", t("least loaded")]];

function routingGrid(b) {
  const head = el("p", { class: "muted" }, t("The first rule that holds assigns the record; an empty condition means otherwise."));
  const table = conditionGrid(b, helpers, [t("Label"), t("Assign to"), t("Who"), t("Strategy")], (r) => [
    el("td", {}, input(r.label, (v) => (r.label = v), { class: "label", "aria-label": t("Label") })),
    el("td", {}, select(ASSIGN(), r.to || "", (v) => (r.to = v), { "aria-label": t("Assign to") })),
    el("td", {}, r.to ? input(r.target, (v) => (r.target = v), { "aria-label": t("Who") }) : input(r.action, (v) => (r.action = v), { "aria-label": t("Action") })),
    el("td", {}, select(STRATEGY(), r.strategy || "", (v) => (r.strategy = v), { "aria-label": t("Strategy") })),
  ], { otherwise: true });
  const add = addButton(t("Add a rule"), () =>
    b.rows.splice(Math.max(b.rows.length - 1, 0), 0, { label: t("New rule"), when: "true", to: "queue", target: '"pool"', strategy: "", action: "", comments: [] }),
  );
  return [head, table, add];
}

/* A decision-table input cell; focusing it counts the records its row's tests hit. */
function rowCell(b, r, i) {
  const box = input(r.cells[i], (v) => (r.cells[i] = v), { class: "cell", "aria-label": t("Test"), placeholder: "-" });
  const look = async () => {
    document.querySelectorAll(".re-grid input.active").forEach((x) => x.classList.remove("active"));
    box.classList.add("active");
    try {
      const { condition } = await api("POST", "/api/v1/rules/table-row", { inputs: b.inputs, cells: r.cells });
      showMatching(condition, b.entity);
    } catch (err) {
      toast(problemText(err), "error");
    }
  };
  box.addEventListener("focus", look);
  box.addEventListener("input", debounce(look, 500));
  return box;
}

function tableGrid(b) {
  const policies = ["first", "unique", "collect", "sum", "priority"].map((p) => [p, p]);
  const head = el("p", { class: "muted" }, t("Hit policy"), " ", select(policies, b.policy, (v) => (b.policy = v), { class: "policy", "aria-label": t("Hit policy") }));
  const headings = [
    ...b.inputs.map((c, i) => input(c, (v) => (b.inputs[i] = v), { "aria-label": t("Input column") })),
    ...b.outputs.map((c, i) =>
      input(c, (v) => {
        b.outputs[i] = v;
        b.targets[i] = v;
      }, { "aria-label": t("Output column") }),
    ),
  ];
  const table = grid(b, headings, b.rows, (r) => [
    ...r.cells.map((c, i) => el("td", {}, rowCell(b, r, i))),
    ...r.outputs.map((c, i) => el("td", {}, input(c, (v) => (r.outputs[i] = v), { "aria-label": t("Output") }))),
  ]);
  const addRow = addButton(t("Add a row"), () => b.rows.push({ cells: b.inputs.map(() => "-"), outputs: b.outputs.map(() => "null"), comments: [] }));
  const addInput = addButton(t("Add an input column"), () => {
    b.inputs.push("id");
    b.rows.forEach((r) => r.cells.push("-"));
  });
  const addOutput = addButton(t("Add an output column"), () => {
    b.outputs.push("field");
    b.targets.push("field");
    b.rows.forEach((r) => r.outputs.push("null"));
  });
  return [head, table, el("p", {}, addRow, " ", addInput, " ", addOutput)];
}

/* What the grids in rule_editor_validation.js share with the ones here. */
const helpers = {
  input,
  tools,
  select,
  grid,
  addButton,
  conditionInput,
  changed: () => changed(),
  showMatching: (condition, entity) => showMatching(condition, entity),
  renderGrids: () => renderGrids(),
  model: () => model,
};

const GRIDS = { scoring: scoringGrid, grading: gradingGrid, routing: routingGrid, table: tableGrid, validation: (b) => validationGrid(b, helpers) };
const KIND_NAMES = () => ({ scoring: t("Scoring"), grading: t("Grading ladder"), routing: t("Routing"), table: t("Decision table"), validation: t("Validation") });

function renderGrids() {
  const box = document.getElementById("grids");
  if (!model) return;
  const blocks = model.blocks.filter((b) => GRIDS[b.kind]);
  box.replaceChildren(
    ...(blocks.length
      ? blocks.map((b) =>
          el(
            "section",
            { class: "re-block", id: `block-${b.name}`, dataset: { kind: b.kind } },
            el("h3", {}, `${KIND_NAMES()[b.kind]} ${b.name} `, el("span", { class: "muted" }, t("on {entity}", { entity: b.entity }))),
            GRIDS[b.kind](b),
          ),
        )
      : [el("p", { class: "muted" }, t("This file has no scoring, grading, routing, decision table or validation; add one below or edit it as code."))]),
  );
}

/* ---------------------------------------------------------------- side panels */

let matchingAsk = 0;
async function showMatching(condition, entity) {
  const ask = ++matchingAsk;
  document.getElementById("matching-condition").textContent = `${entity}: ${condition}`;
  const count = document.getElementById("matching-count");
  const sample = document.getElementById("matching-sample");
  try {
    const found = await api("POST", "/api/v1/rules/matching", { condition, entity, limit: 5 });
    if (ask !== matchingAsk) return;
    count.textContent = t("{count} records", { count: found.count });
    count.dataset.count = found.count;
    sample.replaceChildren(...found.sample.map((id) => el("li", {}, el("a", { href: `/app/${entity}/${id}` }, `#${id}`))));
  } catch (err) {
    if (ask !== matchingAsk) return;
    count.textContent = problemText(err);
    delete count.dataset.count;
    sample.replaceChildren();
  }
}

document.getElementById("run-tests").addEventListener("click", async () => {
  const list = document.getElementById("test-results");
  list.replaceChildren();
  let answer;
  try {
    answer = await api("POST", "/api/v1/rules/examples", { text, path });
  } catch (err) {
    toast(problemText(err), "error");
    return;
  }
  for (const e of answer.errors) list.append(el("li", { class: "failed" }, t("Line {line}: {message}", { line: e.line, message: e.message })));
  if (!answer.results.length && !answer.errors.length) list.append(el("li", {}, t("This file has no tests.")));
  for (const r of answer.results) {
    list.append(el("li", { class: r.passed ? "passed" : "failed" }, r.label, r.passed ? null : el("span", { class: "message" }, r.message)));
  }
  const failed = answer.results.filter((r) => !r.passed).length;
  toast(failed ? t("{failed} of {total} tests failed", { failed, total: answer.results.length }) : t("All {total} tests passed", { total: answer.results.length }), failed ? "error" : undefined);
});

function valueText(v) {
  if (v === null || v === undefined) return t("empty");
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

document.getElementById("trace-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const entity = document.getElementById("trace-entity").value;
  const id = document.getElementById("trace-id").value;
  const box = document.getElementById("trace-result");
  box.replaceChildren();
  if (!entity || !id) return;
  let answer;
  try {
    answer = await api("GET", `/api/v1/rules/trace/${encodeURIComponent(entity)}/${encodeURIComponent(id)}`);
  } catch (err) {
    box.append(el("p", { class: "muted" }, problemText(err)));
    return;
  }
  for (const rs of answer.rulesets) {
    box.append(
      el(
        "div",
        { class: "re-trace-set", dataset: { ruleset: rs.ruleset } },
        el("strong", {}, `${rs.ruleset}`), " → ", el("span", { class: "value" }, valueText(rs.value)),
        el("span", { class: "muted" }, " " + t("version {version}", { version: rs.version })),
        el(
          "ul",
          {},
          rs.fired.length
            ? rs.fired.map((f) =>
                el(
                  "li",
                  {},
                  f.label,
                  f.value !== null && f.value !== undefined && typeof f.value !== "object" ? ` (${f.value})` : "",
                  el("span", { class: "muted" }, " " + Object.entries(f.reads || {}).map(([k, v]) => `${k} = ${valueText(v)}`).join(", ")),
                ),
              )
            : [el("li", { class: "muted" }, t("No rule held."))],
        ),
      ),
    );
  }
  if (!answer.rulesets.length) box.append(el("p", { class: "muted" }, t("No rule set fills a value of this record.")));
});

async function loadVersions() {
  const pick = document.getElementById("diff-from");
  let versions;
  try {
    versions = (await api("GET", `/api/v1/meta/rules/${encodeURIComponent(name)}/versions`)).versions;
  } catch (err) {
    return;
  }
  pick.replaceChildren(
    ...versions
      .slice()
      .reverse()
      .map((v) =>
        el("option", { value: v.version }, t("Version {version}", { version: v.version }) + (v.user ? ` · ${v.user}` : "") + (v.version === baseVersion ? ` (${t("published")})` : "")),
      ),
  );
  const to = document.getElementById("diff-to");
  const keep = to.value;
  to.replaceChildren(to.options[0], ...versions.slice().reverse().map((v) => el("option", { value: v.version }, t("Version {version}", { version: v.version }))));
  to.value = keep && Array.from(to.options).some((o) => o.value === keep) ? keep : "draft";
  const previous = versions.filter((v) => v.version < baseVersion).pop();
  pick.value = String(previous ? previous.version : baseVersion);
}

document.getElementById("show-diff").addEventListener("click", async () => {
  const box = document.getElementById("diff");
  box.replaceChildren();
  const from = Number(document.getElementById("diff-from").value);
  let answer;
  try {
    const to = document.getElementById("diff-to").value;
    const ask = to === "draft" ? { from, text } : { from, to: Number(to) };
    answer = await api("POST", `/api/v1/rules/files/${encodeURIComponent(name)}/diff`, ask);
  } catch (err) {
    box.textContent = problemText(err);
    return;
  }
  if (!answer.changed) {
    box.textContent = t("No differences.");
    return;
  }
  for (const line of answer.diff) {
    const head = line.startsWith("+++") || line.startsWith("---") || line.startsWith("@@");
    const kind = head ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
    box.append(el("span", { class: kind || null }, line), kind ? "" : "\n");
  }
});

document.getElementById("replay").addEventListener("click", async () => {
  const box = document.getElementById("replay-result");
  box.replaceChildren(el("p", { class: "muted" }, t("Running…")));
  const ruleset = document.getElementById("replay-ruleset").value;
  let report;
  try {
    report = await api("POST", `/api/v1/rules/files/${encodeURIComponent(name)}/replay`, { ruleset, text });
  } catch (err) {
    box.replaceChildren(el("p", { class: "muted" }, problemText(err)));
    return;
  }
  box.replaceChildren(
    el("p", { class: "replay-summary" }, t("{checked} records checked, {changed} would change.", { checked: report.checked, changed: report.changed })),
    el("ul", {}, report.changes.map((c) => el("li", {}, el("a", { href: `/app/${report.entity}/${c.id}` }, `#${c.id}`), ": ", valueText(c.before), " → ", valueText(c.after)))),
  );
});

/* ---------------------------------------------------------------- publish */

function markDirty() {
  document.getElementById("dirty").hidden = text === publishedText;
}

document.getElementById("publish").addEventListener("click", async () => {
  const conflict = document.getElementById("conflict");
  conflict.hidden = true;
  let answer;
  try {
    answer = await api("PUT", `/api/v1/meta/rules/${encodeURIComponent(name)}`, { definition: { name, text }, version: baseVersion });
  } catch (err) {
    if (err.status === 409) {
      conflict.textContent = t("Someone published a newer version of these rules since you opened them (you started from version {version}). Your changes are not saved: copy them, reload the page and apply them again.", { version: baseVersion });
      conflict.hidden = false;
    } else {
      showDiagnostics((err.errors || []).map((e) => Object.assign({ line: e.line || 1, column: e.column || 1 }, e)));
      document.getElementById("tab-code").click();
      toast(problemText(err), "error");
    }
    return;
  }
  baseVersion = answer.version;
  root.dataset.version = String(baseVersion);
  publishedText = text;
  document.getElementById("version").textContent = String(baseVersion);
  markDirty();
  toast(t("Published as version {version}", { version: baseVersion }));
  loadVersions();
});

/* ---------------------------------------------------------------- tabs */

function showTab(which) {
  document.getElementById("grid-pane").hidden = which !== "grid";
  document.getElementById("code-pane").hidden = which !== "code";
  for (const tab of ["grid", "code"]) {
    const link = document.getElementById(`tab-${tab}`);
    if (tab === which) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (which === "code") view.requestMeasure();
}

for (const tab of ["grid", "code"]) {
  document.getElementById(`tab-${tab}`).addEventListener("click", (event) => {
    event.preventDefault();
    showTab(tab);
  });
}

showTab(location.hash === "#code" ? "code" : "grid");
setUpAddBlock(root.dataset.entity, helpers);
readModel();
loadVersions();
root.dataset.ready = "true";
